#!/bin/sh
# A stand-in for cloud-init in wimaxvm's tiny test guest, and nothing more: it is NOT cloud-init.
# It finds the volume labelled cidata (wimaxvm's NoCloud seed, a CD-ROM), reads meta-data's
# instance-id and local-hostname and network-config's MAC, address and gateway in the layout
# wimaxvm writes them (src/seed/), applies them (hostname, ip addr, default route) and says so on
# the console. What it proves: the seed wimaxvm builds has the right label, files and content, and
# reaches the guest as a CD-ROM. Exits 0 when it configured the network, so init skips DHCP.
say() { echo "wimaxvm-guest $*"; }
# The seed's CD-ROM sits on a virtio-scsi controller: without one there is no seed to wait for.
ls /sys/bus/virtio/drivers/virtio_scsi 2>/dev/null | grep -q '^virtio' || exit 1
# The controller's scan runs on its own: wait for the labelled volume, at most 20 s.
i=0
until dev=$(findfs LABEL=cidata 2>/dev/null || findfs LABEL=CIDATA 2>/dev/null); do
  i=$((i + 1))
  [ "$i" -gt 100 ] && { say "seed error: no volume labelled cidata"; exit 1; }
  sleep 0.2
done
mount -t iso9660 -o ro "$dev" /seed || { say "seed error: cannot mount $dev"; exit 1; }
# A YAML value as written by wimaxvm: key: value, maybe in double quotes.
value() { sed -n "s/^ *$1: *\"\{0,1\}\([^\"]*\)\"\{0,1\} *\$/\1/p" "$2" | head -n 1; }
say "seed found $dev instance-id=$(value instance-id /seed/meta-data)"
name=$(value local-hostname /seed/meta-data)
[ -n "$name" ] && hostname "$name" && say "seed hostname $(hostname)"
[ -f /seed/network-config ] || exit 1
mac=$(value macaddress /seed/network-config)
address=$(sed -n 's/^ *- \([0-9.]*\/[0-9]*\)$/\1/p' /seed/network-config | head -n 1)
gateway=$(value via /seed/network-config)
nic=
for path in /sys/class/net/*; do
  [ "$(cat "$path/address")" = "$mac" ] && nic=${path##*/}
done
[ -n "$nic" ] || { say "seed error: no NIC with MAC $mac"; exit 1; }
ip link set "$nic" up
ip addr add "$address" dev "$nic" || { say "seed error: ip addr add $address failed"; exit 1; }
[ -n "$gateway" ] && ip route add default via "$gateway" dev "$nic"
say "seed address $nic $address gateway=${gateway:-none}"
exit 0
