# Sourced once a second by init.sh's loop. Brings hot-plugged vCPUs online (what udev's rule does
# on a full system) and says, when it changes, what live changes the guest sees: its memory
# (MemTotal shrinks and grows with the balloon), its online CPUs, its disks and its NICs.
for f in /sys/devices/system/cpu/cpu[0-9]*/online; do
  [ "$(cat "$f" 2>/dev/null)" = 0 ] && echo 1 > "$f" 2>/dev/null
done
live="memtotal=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)kB cpus=$(cat /sys/devices/system/cpu/online) disks=$(ls /sys/block | grep '^vd' | tr '\n' ',') nics=$(ls /sys/class/net | grep -v '^lo$' | tr '\n' ',')"
if [ "$live" != "$last_live" ]; then
  last_live=$live
  say "live $live"
fi
