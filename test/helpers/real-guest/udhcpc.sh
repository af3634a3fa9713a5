#!/bin/sh
# busybox udhcpc's hook: configures the address it leased and says so on the console (udhcpc
# itself is kept quiet there: it would say "sending discover" every second without a server).
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ;;
  bound|renew)
    if ! ip -4 addr show dev "$interface" | grep -q " $ip/$mask "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
      [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    fi
    echo "wimaxvm-guest dhcp $1 $interface $ip/$mask" > /dev/console
    ;;
esac
