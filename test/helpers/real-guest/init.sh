#!/bin/sh
# PID 1 of wimaxvm's tiny test guest (built by test/helpers/real-guest/). Everything it says goes
# to the serial console (console=ttyS0), which the tests read: each line starts "wimaxvm-guest".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "wimaxvm-guest $*"; }

# The virtio, ACPI button and evdev drivers are modules in Debian's kernel, listed in load order.
while read -r module; do
  insmod "/lib/modules/$module.ko" || say "error: insmod $module failed"
done < /etc/modules

# libvirt's graceful shutdown presses the ACPI power button: the button driver reports it on
# /dev/input/event*, where acpid sees it and runs /etc/acpi/PWRF/00000080 (a prompt poweroff).
acpid -f -c /etc/acpi -l /dev/null &

# A cloud-init seed on a CD-ROM (nocloud.sh, a small stand-in for cloud-init) sets the hostname
# and may configure the NIC itself; then the guest asks no DHCP server.
/etc/nocloud.sh && seeded=yes

# The NIC asks for an address until it gets one, and keeps its lease (udhcpc.sh reports it).
ip link set lo up
if [ -n "${seeded:-}" ]; then
  :
elif [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  udhcpc -f -i eth0 -s /etc/udhcpc.sh -t 5 -T 1 -A 1 >/dev/null 2>&1 &
else
  say "error: no eth0"
fi

# One boot's identity and a counter in memory: a restored guest continues both, a rebooted one
# starts again with another boot id.
boot=$(cat /proc/sys/kernel/random/boot_id)
say "ready boot=$boot"
n=0
while :; do
  n=$((n + 1))
  say "counter $n boot=$boot"
  . /etc/live.sh
  sleep 1
done
