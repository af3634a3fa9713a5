#!/usr/bin/env bash
# Starts the daemons the system tests need, by hand (these machines have no systemd):
# virtlogd before libvirtd (or domain start fails), and Open vSwitch in userspace.
# Idempotent: a daemon that answers is left alone; one that does not (gone, or still shutting
# down) is started afresh.
set -euo pipefail

wait_for() { # wait_for TRIES COMMAND...: until COMMAND succeeds, 0.2 s apart
  local tries=$1; shift
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  pkill -x libvirtd 2>/dev/null || true
  wait_for 25 bash -c '! pgrep -x libvirtd'
  if ! wait_for 1 test -S /run/libvirt/virtlogd-sock || ! pgrep -x virtlogd >/dev/null; then
    pkill -x virtlogd 2>/dev/null || true
    wait_for 25 bash -c '! pgrep -x virtlogd'
    virtlogd -d
  fi
  libvirtd -d
  wait_for 50 virsh -c qemu:///system version || { echo "libvirtd did not come up" >&2; exit 1; }
fi

if command -v ovs-vsctl >/dev/null && ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
  /usr/share/openvswitch/scripts/ovs-ctl --no-ovs-vswitchd start --system-id=random >/dev/null
  /usr/share/openvswitch/scripts/ovs-ctl --no-ovsdb-server start >/dev/null
  wait_for 25 ovs-vsctl --timeout=2 show || { echo "Open vSwitch did not come up" >&2; exit 1; }
fi
