#!/usr/bin/env bash
# Brings up the amt-preflight lab: real BIND, Kea DHCPv4 + DDNS, Samba AD DC,
# a test PKI, OCSP/HTTP/TLS servers, all inside network namespaces this script
# creates. See tests/lab/README.md for the topology and the contract.
#
# usage: up.sh [--fault NAME[,NAME...]]
# env:   LAB_PREFIX (<= 4 chars, default apl), LAB_DIR (default /tmp/amt-lab-$LAB_PREFIX),
#        LAB_KEEP_ON_FAIL=1 to leave a half-built lab for debugging.
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAULTS=
while [ $# -gt 0 ]; do
	case $1 in
	--fault) FAULTS=${2:?--fault needs NAME[,NAME]}; shift 2 ;;
	--fault=*) FAULTS=${1#--fault=}; shift ;;
	-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
	*) lab_die "unknown argument: $1" ;;
	esac
done
for f in ${FAULTS//,/ }; do lab_fault_valid "$f" || lab_die "unknown fault '$f' (known: $LAB_FAULTS)"; done

[ "$(id -u)" -eq 0 ] || lab_die "must run as root (network namespaces, raw DHCP sockets)"
lab_check_prefix
for tool in ip named kea-dhcp4 kea-dhcp-ddns samba samba-tool ldapadd openssl python3 dig nsupdate tsig-keygen chronyd; do
	command -v "$tool" >/dev/null || lab_die "$tool not found; run tools/install-deps.sh all"
done
lab_ns_exists "$NS_SRV" && lab_die "namespace $NS_SRV exists: lab '$P' is already up (run tests/lab/down.sh first)"

# The work dir is ours only if it carries our marker; never wipe someone else's files.
if [ -e "$LAB_DIR" ]; then
	if [ -f "$LAB_DIR/.amt-lab" ]; then
		rm -rf "$LAB_DIR"
	elif [ -n "$(ls -A "$LAB_DIR" 2>/dev/null)" ]; then
		lab_die "$LAB_DIR exists, is not empty and is not a lab dir; choose another LAB_DIR"
	fi
fi
mkdir -p "$LAB_DIR"/{bind,kea,samba,pki,secrets,logs,run}
chmod 700 "$LAB_DIR/secrets"
echo "$P" >"$LAB_DIR/.amt-lab"
: >"$LAB_DIR/pids"
: >"$LAB_DIR/faults"

# On any failure: say where, show the relevant log, and undo the half-built lab.
on_exit() {
	local rc=$?
	[ "$rc" -eq 0 ] && return 0
	trap - EXIT INT TERM
	echo "[lab $P] up.sh failed (rc $rc); logs are in $LAB_DIR/logs" >&2
	for l in "$LAB_DIR"/logs/*.log; do
		[ -s "$l" ] || continue
		echo "---- tail of $l" >&2
		tail -n 5 "$l" >&2
	done
	if [ "${LAB_KEEP_ON_FAIL:-0}" = 1 ]; then
		echo "[lab $P] LAB_KEEP_ON_FAIL=1: leaving the lab as it is" >&2
	else
		bash "$LAB_HERE/down.sh" >&2 || true
	fi
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

LOGS=$LAB_DIR/logs

# ------------------------------------------------------------ namespaces and links
lab_log "creating namespaces ${NS_SRV}, ${NS_CLI}, ${NS_AD}"
for ns in "$NS_SRV" "$NS_CLI" "$NS_AD"; do
	ip netns add "$ns"
	# No IPv6: nothing in the lab uses it, and it keeps link-local chatter out.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
# Both ends of each veth are created directly inside our namespaces, so the root
# namespace never sees them and has no route to the TEST-NET addresses.
ip link add "${P}v0" netns "$NS_SRV" type veth peer name "${P}v1" netns "$NS_CLI"
ip link add "${P}v2" netns "$NS_AD" type veth peer name "${P}v3" netns "$NS_CLI"
ip -n "$NS_SRV" addr add "$LAB_SRV_IP/24" dev "${P}v0"
# ProvisionServer and the AMT-like devices are extra addresses on the server link
# (/32 so 192.0.2.1 stays the primary address Kea uses as server identifier).
for a in "$LAB_PROV_IP" 192.0.2.21 192.0.2.22 192.0.2.23 "$LAB_RPS_IP" "$LAB_MPS_IP"; do
	ip -n "$NS_SRV" addr add "$a/32" dev "${P}v0"
done
# AD CS web enrollment stand-in (tests/lab/certsrv.py)
ip -n "$NS_SRV" addr add "$LAB_WEBENROLL_IP/32" dev "${P}v0"
ip -n "$NS_CLI" addr add "$LAB_CLI_IP/24" dev "${P}v1"
ip -n "$NS_CLI" addr add "$LAB_CLI_AD_IP/24" dev "${P}v3"
ip -n "$NS_AD" addr add "$LAB_DC_IP/24" dev "${P}v2"
for l in "$NS_SRV:${P}v0" "$NS_CLI:${P}v1" "$NS_CLI:${P}v3" "$NS_AD:${P}v2"; do
	ip -n "${l%%:*}" link set "${l#*:}" up
done
# The second AMT client segment (a VLAN Kea serves without option 15), the SQL
# Server stand-in's address next to the DC, and the broken NTP stand-ins.
ip link add "${P}v4" netns "$NS_SRV" type veth peer name "${P}v5" netns "$NS_CLI"
ip -n "$NS_SRV" addr add "$LAB_SRV2_IP/24" dev "${P}v4"
ip -n "$NS_CLI" addr add "$LAB_CLI2_IP/24" dev "${P}v5"
ip -n "$NS_SRV" link set "${P}v4" up
ip -n "$NS_CLI" link set "${P}v5" up
ip -n "$NS_AD" addr add "$LAB_SQL_IP/32" dev "${P}v2"
for a in "$LAB_NTP_SKEW_IP" "$LAB_NTP_UNSYNC_IP" "$LAB_NTP_SKEW2_IP"; do
	ip -n "$NS_SRV" addr add "$a/32" dev "${P}v0"
done
# ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf:
# every resolver lookup in the lab stays inside the lab.
mkdir -p "/etc/netns/$NS_CLI" "/etc/netns/$NS_SRV" "/etc/netns/$NS_AD"
echo "nameserver $LAB_SRV_IP" >"/etc/netns/$NS_CLI/resolv.conf"
echo "nameserver 127.0.0.1" >"/etc/netns/$NS_SRV/resolv.conf"
echo "nameserver 127.0.0.1" >"/etc/netns/$NS_AD/resolv.conf"

# ------------------------------------------------------------ Samba provision (background)
# The slow part (about 4-5 s): start it first and build everything else meanwhile.
# Secrets are written without a trailing newline: ldapsearch -y uses the whole file.
new_pw() { printf 'Amt-%s' "$(openssl rand -hex 10)"; }
(umask 077 && new_pw >"$LAB_DIR/secrets/admin.pw" && new_pw >"$LAB_DIR/secrets/bind.pw" && new_pw >"$LAB_DIR/secrets/bind-wrong.pw")
SAMBA=$LAB_DIR/samba
mkdir -p "$SAMBA/run/winbindd" "$SAMBA/run/ncalrpc" "$SAMBA/run/ntp_signd"
lab_log "provisioning Samba AD DC in the background"
# dns forwarder points at a dead loopback address so Samba never forwards queries
# to the host's resolver; the socket and pid dirs keep Samba inside $LAB_DIR.
ip netns exec "$NS_AD" samba-tool domain provision --targetdir="$SAMBA" \
	--realm="$LAB_REALM" --domain=CORP --server-role=dc --dns-backend=SAMBA_INTERNAL \
	--use-rfc2307 --adminpass="$(cat "$LAB_DIR/secrets/admin.pw")" \
	--host-name=dc1 --host-ip="$LAB_DC_IP" \
	--option="interfaces=lo ${P}v2" --option="bind interfaces only=yes" \
	--option="dns forwarder=127.0.0.2" --option="pid directory=$SAMBA/run" \
	--option="winbindd socket directory=$SAMBA/run/winbindd" \
	--option="ncalrpc dir=$SAMBA/run/ncalrpc" \
	--option="ntp signd socket directory=$SAMBA/run/ntp_signd" \
	</dev/null >"$LOGS/provision.log" 2>&1 &
PROVISION_PID=$!
lab_record_pid "$PROVISION_PID" samba-provision

# ------------------------------------------------------------ PKI
lab_log "building the test PKI"
bash "$LAB_HERE/mkpki.sh" "$LAB_DIR/pki" "$LAB_DIR/secrets" >"$LOGS/pki.log" 2>&1

# ------------------------------------------------------------ BIND
lab_log "starting BIND"
BIND=$LAB_DIR/bind
tsig-keygen -a hmac-sha256 ddns-key >"$BIND/ddns-key.conf"
chmod 600 "$BIND/ddns-key.conf"
TSIG_SECRET=$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$BIND/ddns-key.conf")
cat >"$BIND/named.conf" <<EOF
// named.conf for the amt-preflight lab (generated by tests/lab/up.sh)
include "$BIND/ddns-key.conf";
options {
	directory "$BIND";
	pid-file "$BIND/named.pid";
	session-keyfile "$BIND/session.key";
	managed-keys-directory "$BIND";
	listen-on port 53 { 127.0.0.1; $LAB_SRV_IP; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-query { any; };
};
controls { };
zone "$LAB_DOMAIN" { type primary; file "db.corp"; allow-update { key "ddns-key"; }; };
zone "2.0.192.in-addr.arpa" { type primary; file "db.192.0.2"; allow-update { key "ddns-key"; }; };
zone "100.51.198.in-addr.arpa" { type primary; file "db.198.51.100"; allow-update { key "ddns-key"; }; };
EOF
SOA="@ IN SOA ns1.$LAB_DOMAIN. hostmaster.$LAB_DOMAIN. ( 1 3600 600 86400 60 )
@ IN NS ns1.$LAB_DOMAIN."
cat >"$BIND/db.corp" <<EOF
\$TTL 300
$SOA
ns1              A     $LAB_SRV_IP
pki              A     $LAB_SRV_IP
ProvisionServer  A     $LAB_PROV_IP
dc1              A     $LAB_DC_IP
ca1              A     $LAB_DC_IP
amt1             A     192.0.2.21
amt2             A     192.0.2.22
amt3             A     192.0.2.23
rps              A     $LAB_RPS_IP
mps              A     $LAB_MPS_IP
ntp1             A     $LAB_SRV_IP
sql1             A     $LAB_SQL_IP
_ldap._tcp.dc._msdcs      SRV 0 100 389  dc1
_kerberos._tcp.dc._msdcs  SRV 0 100 88   dc1
_ldap._tcp                SRV 0 100 389  dc1
_kerberos._tcp            SRV 0 100 88   dc1
_kerberos._udp            SRV 0 100 88   dc1
_kpasswd._tcp             SRV 0 100 464  dc1
_kpasswd._udp             SRV 0 100 464  dc1
_gc._tcp                  SRV 0 100 3268 dc1
webenroll        A     $LAB_WEBENROLL_IP
EOF
cat >"$BIND/db.192.0.2" <<EOF
\$TTL 300
$SOA
1   PTR ns1.$LAB_DOMAIN.
10  PTR ProvisionServer.$LAB_DOMAIN.
21  PTR amt1.$LAB_DOMAIN.
22  PTR amt2.$LAB_DOMAIN.
23  PTR amt3.$LAB_DOMAIN.
30  PTR rps.$LAB_DOMAIN.
31  PTR mps.$LAB_DOMAIN.
EOF
cat >"$BIND/db.198.51.100" <<EOF
\$TTL 300
$SOA
10  PTR dc1.$LAB_DOMAIN.
20  PTR sql1.$LAB_DOMAIN.
EOF
lab_spawn named "$NS_SRV" "$LOGS/named.log" named -g -4 -n 2 -c "$BIND/named.conf"

# ------------------------------------------------------------ Kea DHCPv4 + D2
lab_log "starting Kea DHCPv4 and DHCP-DDNS"
KEA=$LAB_DIR/kea
cat >"$KEA/kea-dhcp-ddns.conf" <<EOF
{
  "DhcpDdns": {
    "ip-address": "127.0.0.1",
    "port": 53001,
    "dns-server-timeout": 1000,
    "ncr-protocol": "UDP",
    "ncr-format": "JSON",
    "tsig-keys": [ { "name": "ddns-key", "algorithm": "HMAC-SHA256", "secret": "$TSIG_SECRET" } ],
    "forward-ddns": { "ddns-domains": [
      { "name": "$LAB_DOMAIN.", "key-name": "ddns-key", "dns-servers": [ { "ip-address": "127.0.0.1", "port": 53 } ] } ] },
    "reverse-ddns": { "ddns-domains": [
      { "name": "2.0.192.in-addr.arpa.", "key-name": "ddns-key", "dns-servers": [ { "ip-address": "127.0.0.1", "port": 53 } ] } ] },
    "loggers": [ { "name": "kea-dhcp-ddns", "severity": "INFO", "output_options": [ { "output": "stdout" } ] } ]
  }
}
EOF
lab_write_kea4
# Kea would otherwise put its pid and lock files in /run/kea.
export KEA_PIDFILE_DIR=$KEA KEA_LOCKFILE_DIR=$KEA
lab_spawn kea-dhcp-ddns "$NS_SRV" "$LOGS/kea-dhcp-ddns.log" kea-dhcp-ddns -c "$KEA/kea-dhcp-ddns.conf"
lab_spawn kea-dhcp4 "$NS_SRV" "$LOGS/kea-dhcp4.log" kea-dhcp4 -c "$KEA/kea-dhcp4.conf"

# ------------------------------------------------------------ HTTP, OCSP, TLS endpoints
lab_log "starting HTTP (CRL/AIA), OCSP and TLS endpoints"
PKI=$LAB_DIR/pki
lab_spawn http "$NS_SRV" "$LOGS/http.log" python3 -m http.server 8080 --bind "$LAB_SRV_IP" --directory "$PKI"
# OpenSSL 3.0's ocsp -port takes a port only (binds every address of the netns).
# One responder process serves one connection at a time: a client that gives up
# half way could wedge it, so run several (-multi) and drop idle requests (-timeout).
lab_spawn ocsp "$NS_SRV" "$LOGS/ocsp.log" openssl ocsp -port 8888 -index "$PKI/db/issuing/index.txt" \
	-CA "$PKI/issuing.pem" -rsigner "$PKI/ocsp.pem" -rkey "$PKI/ocsp.key" -nmin 5 -ignore_err \
	-multi 4 -timeout 5
lab_spawn provision-https "$NS_SRV" "$LOGS/provision-https.log" openssl s_server -quiet -www \
	-accept "$LAB_PROV_IP:443" -cert "$PKI/prov.pem" -key "$PKI/prov.key" -cert_chain "$PKI/chain.pem"
lab_spawn provision-hello "$NS_SRV" "$LOGS/provision-hello.log" python3 "$LAB_HERE/hello.py" "$LAB_PROV_IP" 9971
lab_log "starting the AD CS web enrollment stand-in"
bash "$LAB_HERE/enroll.sh" web
for n in 1 2 3; do
	lab_spawn "amt$n-tls" "$NS_SRV" "$LOGS/amt$n-tls.log" openssl s_server -quiet -www \
		-accept "192.0.2.2$n:16993" -cert "$PKI/amt$n.pem" -key "$PKI/amt.key" -cert_chain "$PKI/chain.pem"
done
# amt1 also answers on the redirection TLS port (16995), for [amt] tls_redirection.
lab_spawn amt1-redir "$NS_SRV" "$LOGS/amt1-redir.log" openssl s_server -quiet -www \
	-accept "192.0.2.21:16995" -cert "$PKI/amt1.pem" -key "$PKI/amt.key" -cert_chain "$PKI/chain.pem"
lab_start_rps
lab_start_mps

# ------------------------------------------------------------ time and the SCS database
lab_log "starting chrony (ntp1, and the DC's time service), NTP and SQL Server stand-ins"
# Samba serves no NTP itself (its ntp_signd socket only signs for an ntpd), so
# chrony on the DC's address plays the DC's Windows Time service.
lab_start_chrony ntp1 "$NS_SRV" "$LAB_SRV_IP" 8
lab_start_chrony dc1-ntp "$NS_AD" "$LAB_DC_IP" 9
lab_spawn ntp-standin "$NS_SRV" "$LOGS/ntp-standin.log" python3 "$LAB_HERE/ntp-standin.py" \
	"$LAB_NTP_SKEW_IP:600:0:3" "$LAB_NTP_UNSYNC_IP:0:3:16" "$LAB_NTP_SKEW2_IP:600:0:3"
echo off >"$LAB_DIR/sql-encryption"
lab_start_sql

# ------------------------------------------------------------ files amt-preflight reads
# AMT devices of the lab: FQDN and the address DNS should give (no comment
# lines: the file is the checker's input as a customer would write it).
cat >"$LAB_DIR/hosts.txt" <<EOF
amt1.$LAB_DOMAIN 192.0.2.21
amt2.$LAB_DOMAIN 192.0.2.22
amt3.$LAB_DOMAIN 192.0.2.23
EOF
lab_write_conf

# ------------------------------------------------------------ readiness of the srv side
# named can drop the very first query right after start: poll with a 1 s timeout.
lab_wait "BIND" 10 ip netns exec "$NS_SRV" dig +time=1 +tries=1 +short @"$LAB_SRV_IP" "ProvisionServer.$LAB_DOMAIN" A
lab_wait "Kea DHCPv4" 10 grep -q DHCP4_STARTED "$LOGS/kea-dhcp4.log"
lab_wait "Kea DHCP-DDNS" 10 grep -q DHCP_DDNS_STARTED "$LOGS/kea-dhcp-ddns.log"
for port in 8080 8888 443 9971 16993; do
	lab_wait "listener on port $port" 10 lab_listening "$NS_SRV" "$port"
done
webenroll_listening() { ip netns exec "$NS_SRV" ss -Hltn "src $LAB_WEBENROLL_IP" | grep -q LISTEN; }
lab_wait "web enrollment stand-in" 10 webenroll_listening
lab_wait "RPS-like WSS endpoint" 10 lab_listening_on "$LAB_RPS_IP" 443
lab_wait "MPS" 10 lab_listening_on "$LAB_MPS_IP" 4433
lab_wait "amt1 redirection port" 10 lab_listening "$NS_SRV" 16995
lab_wait "chrony ntp1" 10 lab_udp_listening "$NS_SRV" "$LAB_SRV_IP" 123
lab_wait "NTP stand-ins" 10 lab_udp_listening "$NS_SRV" "$LAB_NTP_SKEW2_IP" 123
lab_wait "NTP on the DC" 10 lab_udp_listening "$NS_AD" "$LAB_DC_IP" 123
lab_wait "SQL Server stand-in" 10 lab_listening "$NS_AD" 1433
lab_log "DNS, DHCP, PKI servers ready"

# ------------------------------------------------------------ Samba: configure and start
if ! wait "$PROVISION_PID"; then
	lab_log "samba-tool domain provision failed"
	tail -n 20 "$LOGS/provision.log" >&2
	exit 1
fi
lab_log "Samba provisioned"
SMBCONF=$SAMBA/etc/smb.conf
# Provision drops 'ldap server require strong auth' and puts the log in /var/log/samba:
# rewrite those in [global], and run only the services the checks need.
python3 - "$SMBCONF" "$LOGS/samba.log" <<'EOF'
import sys
path, log = sys.argv[1], sys.argv[2]
drop = ("log file", "ldap server require strong auth", "server services", "prefork children")
out = []
for line in open(path):
    key = line.split("=", 1)[0].strip().lower()
    if key in drop:
        continue
    out.append(line)
    if line.strip().lower() == "[global]":
        out += [f"\tlog file = {log}\n",
                "\tldap server require strong auth = no\n",
                "\tserver services = ldap, cldap, dns, kdc\n",
                "\tprefork children = 1\n"]
open(path, "w").writelines(out)
EOF
lab_log "starting Samba"
lab_start_samba

# The read-only account amt-preflight binds as. samba-tool runs in the AD netns
# against the local sam.ldb, while samba finishes starting.
ip netns exec "$NS_AD" samba-tool user create amtcheck "$(cat "$LAB_DIR/secrets/bind.pw")" \
	-s "$SMBCONF" --description="amt-preflight read-only account" >"$LOGS/amtcheck.log" 2>&1 &
USER_PID=$!
lab_record_pid "$USER_PID" samba-user-create
lab_wait_samba
wait "$USER_PID" || { lab_log "creating amtcheck failed"; cat "$LOGS/amtcheck.log" >&2; exit 1; }

# ------------------------------------------------------------ Microsoft CA objects in AD
lab_log "loading Microsoft CA objects over LDAP"
bash "$LAB_HERE/ad-pki.sh" >"$LOGS/ad-pki.log" 2>&1 || { cat "$LOGS/ad-pki.log" >&2; exit 1; }
lab_log "creating the enrolling accounts and template ACLs"
bash "$LAB_HERE/enroll.sh" ad || { tail -n 20 "$LOGS/enroll.log" >&2; exit 1; }

# ------------------------------------------------------------ faults requested at bring-up
if [ -n "$FAULTS" ]; then
	lab_log "applying fault(s) $FAULTS"
	bash "$LAB_HERE/fault.sh" "$FAULTS"
fi

lab_log "lab '$P' is up: run amt-preflight as: ip netns exec $NS_CLI build/amt-preflight run -c $LAB_DIR/lab.conf"
echo "$LAB_DIR/lab.conf"
