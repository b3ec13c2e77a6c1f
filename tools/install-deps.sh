#!/usr/bin/env bash
# Installs every Debian 12 package amt-preflight needs to build, test and run its lab.
# Idempotent; safe to run as root on a fresh machine. Nothing is started system-wide:
# a policy-rc.d that exits 101 is put in place first (PID 1 here is often not systemd,
# and invoke-rc.d would otherwise start named/samba/kea on the host).
set -euo pipefail

BUILD_PKGS=(build-essential meson ninja-build pkg-config
	libldns-dev libssl-dev libldap-dev libcurl4-openssl-dev libjansson-dev libinih-dev
	libcmocka-dev clang libclang-rt-14-dev)
LAB_PKGS=(bind9 bind9-utils bind9-dnsutils ldnsutils kea-dhcp4-server kea-dhcp-ddns-server
	udhcpc samba-ad-dc samba-ad-provision ldap-utils ldb-tools openssl curl python3
	iproute2 ca-certificates procps
	python3-samba
	chrony)
TEST_PKGS=(chromium python3-jsonschema dnsperf dnsmasq-base
	icinga2-bin icinga2-common debhelper lintian systemd)

want=("${BUILD_PKGS[@]}")
case "${1:-all}" in
	build) ;;
	all) want+=("${LAB_PKGS[@]}" "${TEST_PKGS[@]}") ;;
	*) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
if ! [ -x /usr/sbin/policy-rc.d ] || ! grep -q 'exit 101' /usr/sbin/policy-rc.d; then
	printf '#!/bin/sh\n# installed by amt-preflight: never start services on install\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
