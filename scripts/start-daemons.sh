#!/usr/bin/env bash
# Starts the daemons the system tests need, by hand (these machines have no systemd):
# virtlogd before libvirtd (or domain start fails), and Open vSwitch in userspace.
# Idempotent: a daemon that answers is left alone.
set -euo pipefail

wait_for() { # wait_for TRIES COMMAND...: until COMMAND succeeds, 0.2 s apart
  local tries=$1; shift
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

# Never kills anything: a daemon that is there but does not answer (still shutting down) is
# waited for by the pid in its own pid file, then started afresh.
gone() { # gone PIDFILE: no live process behind the pid file
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && return 1
  return 0
}

if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  wait_for 50 gone /run/libvirtd.pid || { echo "libvirtd (pid $(cat /run/libvirtd.pid)) runs but does not answer" >&2; exit 1; }
  if ! test -S /run/libvirt/virtlogd-sock || gone /run/virtlogd.pid; then
    wait_for 25 gone /run/virtlogd.pid || { echo "virtlogd (pid $(cat /run/virtlogd.pid)) runs but has no socket" >&2; exit 1; }
    virtlogd -d
  fi
  libvirtd -d
  wait_for 50 virsh -c qemu:///system version || { echo "libvirtd did not come up" >&2; exit 1; }
  # Which libvirtd this script started: the only one a test may stop and start again.
  mkdir -p /run/wimaxvm-daemons && cp /run/libvirtd.pid /run/wimaxvm-daemons/libvirtd.pid
fi

if command -v ovs-vsctl >/dev/null && ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
  /usr/share/openvswitch/scripts/ovs-ctl --no-ovs-vswitchd start --system-id=random >/dev/null
  /usr/share/openvswitch/scripts/ovs-ctl --no-ovsdb-server start >/dev/null
  wait_for 25 ovs-vsctl --timeout=2 show || { echo "Open vSwitch did not come up" >&2; exit 1; }
fi
