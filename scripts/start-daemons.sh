#!/usr/bin/env bash
# Starts the daemons the system tests need, by hand (these machines have no systemd):
# virtlogd before libvirtd (or domain start fails), and Open vSwitch in userspace.
# Idempotent: what already runs is left alone.
set -euo pipefail

if ! pgrep -x virtlogd >/dev/null; then virtlogd -d; fi
if ! pgrep -x libvirtd >/dev/null; then libvirtd -d; fi
for _ in $(seq 1 50); do
  virsh -c qemu:///system version >/dev/null 2>&1 && break
  sleep 0.2
done
virsh -c qemu:///system version >/dev/null

if command -v ovs-vsctl >/dev/null && ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
  /usr/share/openvswitch/scripts/ovs-ctl --no-ovs-vswitchd start --system-id=random >/dev/null
  /usr/share/openvswitch/scripts/ovs-ctl --no-ovsdb-server start >/dev/null
fi
