#!/bin/sh
# udhcpc hook for lab tests: report what the server gave, change nothing.
# (udhcpc's default script would rewrite /etc/resolv.conf and the interface.)
# shellcheck disable=SC2154  # udhcpc passes ip, domain, dns ... in the environment
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
echo "lease ip=$ip domain=$domain dns=$dns router=$router serverid=$serverid"
