# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this
# Shared helpers for the amt-preflight lab scripts (up.sh, down.sh, fault.sh).
# Sourced, never executed. Callers set `set -euo pipefail` themselves.
#
# Everything the lab starts lives in one of three network namespaces that the
# lab creates (${P}srv, ${P}cli, ${P}ad) and every file it writes lives under
# $LAB_DIR, apart from /run/netns/<ns> (ip netns) and /etc/netns/<ns>/resolv.conf
# (so that resolution inside a namespace never reaches the host's resolver).

LAB_PREFIX=${LAB_PREFIX:-apl}
LAB_DIR=${LAB_DIR:-/tmp/amt-lab-$LAB_PREFIX}
P=$LAB_PREFIX
export LAB_PREFIX LAB_DIR
NS_SRV=${P}srv
NS_CLI=${P}cli
NS_AD=${P}ad
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Fixed lab facts; other engineers' code and tests rely on these values.
LAB_DOMAIN=corp.example.test
LAB_REALM=CORP.EXAMPLE.TEST
LAB_SRV_IP=192.0.2.1
LAB_CLI_IP=192.0.2.2
LAB_PROV_IP=192.0.2.10
LAB_DC_IP=198.51.100.10
LAB_CLI_AD_IP=198.51.100.2
LAB_BASE_DN=DC=corp,DC=example,DC=test
LAB_PKS_DN="CN=Public Key Services,CN=Services,CN=Configuration,$LAB_BASE_DN"
LAB_WEBENROLL_IP=192.0.2.32
LAB_WEBENROLL_NAME=webenroll.$LAB_DOMAIN
LAB_RPS_IP=192.0.2.30
LAB_MPS_IP=192.0.2.31
# Second client segment (${P}v4 in srv, ${P}v5 in cli), the SQL Server stand-in
# (in the AD netns) and the broken NTP stand-ins (in srv).
LAB_SRV2_IP=203.0.113.1
LAB_CLI2_IP=203.0.113.2
LAB_SQL_IP=198.51.100.20
LAB_NTP_SKEW_IP=192.0.2.123
LAB_NTP_UNSYNC_IP=192.0.2.124
LAB_NTP_SKEW2_IP=192.0.2.125

# Every fault name the lab knows (the contract with the integration tests).
LAB_FAULTS="no-provisionserver wrong-provisionserver no-ddns no-option15 dc-down template-pend"
LAB_FAULTS+=" template-unpublished stale-ca crl-expired pfx-expired-int pfx-nochain bad-bind-password"
LAB_FAULTS+=" ca-pending ca-denied enroll-missing"
LAB_FAULTS+=" rps-wrong-cert rps-no-upgrade mps-down"
LAB_FAULTS+=" sql-down sql-noencrypt ntp-skew ntp-unsync dc-ntp-down"

lab_log() { printf '[lab %s %5ss] %s\n' "$P" "$(lab_elapsed)" "$*" >&2; }
lab_die() { printf '[lab %s] ERROR: %s\n' "$P" "$*" >&2; exit 1; }

# Seconds since the script started, for the progress lines and the timings report.
LAB_T0=${LAB_T0:-$EPOCHREALTIME}
export LAB_T0
lab_elapsed() { awk -v a="$EPOCHREALTIME" -v b="$LAB_T0" 'BEGIN { printf "%.1f", a - b }'; }

lab_check_prefix() {
	# veth names are ${P}v0..${P}v5 and must fit IFNAMSIZ (15); the namespaces
	# are shared with ip(8), so keep the prefix to plain lowercase letters/digits.
	[[ $P =~ ^[a-z][a-z0-9]{0,3}$ ]] || lab_die "LAB_PREFIX must be 1-4 chars [a-z0-9], starting with a letter (got '$P')"
}

lab_ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# Start a long-running server inside a namespace and record it.
# ip netns exec execs the command after entering the namespace, so $! is the
# server's own PID. The start time from /proc lets down.sh refuse to signal a
# PID that was reused by an unrelated process after the server died.
# usage: lab_spawn NAME NS LOGFILE cmd...
lab_spawn() {
	local name=$1 ns=$2 log=$3
	shift 3
	ip netns exec "$ns" "$@" </dev/null >>"$log" 2>&1 &
	local pid=$!
	lab_record_pid "$pid" "$name"
}

lab_record_pid() {
	local pid=$1 name=$2 start
	start=$(lab_starttime "$pid") || start=0
	echo "$pid $start $name" >>"$LAB_DIR/pids"
}

# Field 22 of /proc/PID/stat (clock ticks since boot). The comm field may contain
# spaces, so cut after the last ')'.
lab_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	awk '{print $20}' <<<"$stat"
}

# Is PID alive and still the process we recorded (same start time)?
lab_pid_is_ours() {
	local pid=$1 start=$2 now
	now=$(lab_starttime "$pid") || return 1
	[ "$start" = 0 ] || [ "$now" = "$start" ]
}

# Latest recorded PID for a server name (servers restarted by faults get a new line).
lab_pid_of() {
	[ -f "$LAB_DIR/pids" ] || return 1
	awk -v n="$1" '$3 == n { p = $1 " " $2 } END { if (p == "") exit 1; print p }' "$LAB_DIR/pids"
}

# Poll until a command succeeds. usage: lab_wait DESC TIMEOUT_S cmd...
lab_wait() {
	local desc=$1 timeout=$2 i=0 n
	shift 2
	n=$(awk -v t="$timeout" 'BEGIN { print int(t * 20) }')
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt "$n" ] || { lab_log "timeout waiting for $desc"; return 1; }
		sleep 0.05
	done
}

# A TCP listener is up inside NS on ADDR:PORT (ss comes with iproute2).
lab_listening() {
	local ns=$1 port=$2
	ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q LISTEN
}

# Stop one recorded server by name and wait until it has exited.
lab_stop() {
	local name=$1 pid start i
	read -r pid start < <(lab_pid_of "$name") || return 0
	lab_pid_is_ours "$pid" "$start" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		lab_pid_is_ours "$pid" "$start" || return 0
		# A zombie still has a /proc entry; treat it as gone.
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- faults state

lab_fault_active() { [ -f "$LAB_DIR/faults" ] && grep -qx "$1" "$LAB_DIR/faults"; }
lab_fault_valid() { grep -qw -- "$1" <<<"$LAB_FAULTS"; }

# ---------------------------------------------------------------- generated configs

# lab.conf is what amt-preflight runs with. It is regenerated from the active
# faults, so config-only faults and their revert cannot drift apart.
lab_write_conf() {
	local cert=$LAB_DIR/pki/prov-chain.pfx pwfile=$LAB_DIR/secrets/bind.pw
	lab_fault_active pfx-nochain && cert=$LAB_DIR/pki/prov-nochain.pfx
	lab_fault_active pfx-expired-int && cert=$LAB_DIR/pki/prov-expired-int.pfx
	lab_fault_active bad-bind-password && pwfile=$LAB_DIR/secrets/bind-wrong.pw
	local ntp=ntp1.$LAB_DOMAIN
	lab_fault_active ntp-skew && ntp+=", $LAB_NTP_SKEW_IP"
	lab_fault_active ntp-unsync && ntp+=", $LAB_NTP_UNSYNC_IP"
	cat >"$LAB_DIR/lab.conf.tmp" <<EOF
# amt-preflight configuration for the lab (written by tests/lab/up.sh; faults rewrite it)
[site]
name = AMT lab (corp.example.test)
enable = ca.test-enrollment

[dns]
servers = $LAB_SRV_IP
tsig_key_file = $LAB_DIR/bind/ddns-key.conf
hosts_file = $LAB_DIR/hosts.txt

[dhcp]
interface = ${P}v1
mode = inform
test_fqdn = amt-preflight-test.$LAB_DOMAIN

[ad]
domain = $LAB_DOMAIN
domain_controllers = dc1.$LAB_DOMAIN
bind_dn = amtcheck@$LAB_DOMAIN
bind_password_file = $pwfile
ca_bundle = $LAB_DIR/samba/private/tls/ca.pem

[ca]
templates = AMTWebServer, AMTProvisioning
enroll_accounts = SCS01\$, CORP\\scsuser
web_enrollment_url = https://$LAB_WEBENROLL_NAME/certsrv/
enroll_user = CORP\\scsuser
enroll_password_file = $LAB_DIR/secrets/enroll.pw
web_ca_bundle = $LAB_DIR/pki/root.crt

[provisioning]
certificate = $cert
password_file = $LAB_DIR/secrets/pfx.pw
server_addresses = $LAB_PROV_IP
intermediate_store = $LAB_DIR/pki/intermediate-store

[amt]
domain_suffixes = $LAB_DOMAIN
generations = 16
device_hashes = $LAB_DIR/pki/device-hashes.txt
tls_hosts = amt1.$LAB_DOMAIN
activation = remote-config

[activation]
endpoints = wss://rps.$LAB_DOMAIN/activate
ca_bundle = $LAB_DIR/pki/root.crt

[cira]
mps = mps.$LAB_DOMAIN
ca_bundle = $LAB_DIR/pki/root.crt
home_domains = hq.example.test
[scs]
sql_server = sql1.$LAB_DOMAIN

[time]
ntp_servers = $ntp
EOF
	mv -f "$LAB_DIR/lab.conf.tmp" "$LAB_DIR/lab.conf"
}

# Kea DHCPv4 config; the no-ddns and no-option15 faults change it and Kea
# reloads it on SIGHUP.
lab_write_kea4() {
	local ddns=true opt15='{ "name": "domain-name", "data": "corp.example.test" },'
	lab_fault_active no-ddns && ddns=false
	lab_fault_active no-option15 && opt15=''
	cat >"$LAB_DIR/kea/kea-dhcp4.conf.tmp" <<EOF
{
  "Dhcp4": {
    "interfaces-config": { "interfaces": [ "${P}v0", "${P}v4" ], "dhcp-socket-type": "raw" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$LAB_DIR/kea/leases4.csv", "lfc-interval": 0 },
    "valid-lifetime": 600,
    "renew-timer": 300,
    "rebind-timer": 500,
    "authoritative": true,
    "dhcp-ddns": {
      "enable-updates": $ddns,
      "server-ip": "127.0.0.1",
      "server-port": 53001,
      "sender-ip": "127.0.0.1",
      "sender-port": 0,
      "ncr-protocol": "UDP",
      "ncr-format": "JSON"
    },
    "ddns-send-updates": $ddns,
    "ddns-override-no-update": false,
    "ddns-override-client-update": false,
    "ddns-replace-client-name": "never",
    "ddns-qualifying-suffix": "$LAB_DOMAIN.",
    "ddns-update-on-renew": true,
    "subnet4": [
      {
        "id": 1,
        "subnet": "192.0.2.0/24",
        "pools": [ { "pool": "192.0.2.100 - 192.0.2.199" } ],
        "option-data": [
          $opt15
          { "name": "domain-name-servers", "data": "$LAB_SRV_IP" },
          { "name": "routers", "data": "$LAB_SRV_IP" }
        ]
      },
      {
        "id": 2,
        "subnet": "203.0.113.0/24",
        "pools": [ { "pool": "203.0.113.100 - 203.0.113.199" } ],
        "option-data": [
          { "name": "domain-name-servers", "data": "$LAB_SRV_IP" },
          { "name": "routers", "data": "$LAB_SRV2_IP" }
        ]
      }
    ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO", "output_options": [ { "output": "stdout" } ] } ]
  }
}
EOF
	mv -f "$LAB_DIR/kea/kea-dhcp4.conf.tmp" "$LAB_DIR/kea/kea-dhcp4.conf"
}

# ---------------------------------------------------------------- Samba helpers

lab_start_samba() {
	lab_spawn samba "$NS_AD" "$LAB_DIR/logs/samba-stdout.log" \
		samba -i -s "$LAB_DIR/samba/etc/smb.conf" --debug-stdout -d1
}

# Ready = LDAP answers an anonymous rootDSE query from the client netns and the
# self-signed TLS CA Samba generates on first start exists (lab.conf points at it).
lab_samba_ready() {
	[ -s "$LAB_DIR/samba/private/tls/ca.pem" ] &&
		ip netns exec "$NS_CLI" ldapsearch -x -LLL -o nettimeout=1 -H "ldap://$LAB_DC_IP" -b "" -s base dnsHostName |
		grep -q '^dnsHostName'
}
lab_wait_samba() { lab_wait "Samba AD DC" 40 lab_samba_ready; }

# ldapmodify/ldapadd/ldapsearch as the domain Administrator, run in the AD netns.
lab_ldap_admin() {
	local tool=$1
	shift
	ip netns exec "$NS_AD" "$tool" -x -H "ldap://$LAB_DC_IP" -D "Administrator@$LAB_DOMAIN" \
		-y "$LAB_DIR/secrets/admin.pw" "$@"
}

# ---------------------------------------------------------------- certificate enrollment

# The web enrollment stand-in's outcome (certsrv.py reads it on every request),
# from the active faults.
lab_ca_mode_write() {
	local mode=issue
	lab_fault_active ca-pending && mode=pending
	lab_fault_active ca-denied && mode=deny
	mkdir -p "$LAB_DIR/certsrv"
	echo "$mode" >"$LAB_DIR/certsrv/mode.tmp"
	mv -f "$LAB_DIR/certsrv/mode.tmp" "$LAB_DIR/certsrv/mode"
}

# Adds ACEs (SDDL) to a template's DACL with samba-tool dsacl, on the DC's
# sam.ldb directly (no password on a command line); Samba sees it at once.
lab_template_acl_add() {
	ip netns exec "$NS_AD" samba-tool dsacl set -H "$LAB_DIR/samba/private/sam.ldb" -s "$LAB_DIR/samba/etc/smb.conf" \
		--objectdn="CN=$1,CN=Certificate Templates,$LAB_PKS_DN" --sddl="$2" >>"$LAB_DIR/logs/enroll.log" 2>&1
}

# Removes every explicit ACE naming SID from a template's DACL (samba-tool cannot).
lab_template_acl_remove() {
	ip netns exec "$NS_AD" /usr/bin/python3 "$LAB_HERE/sd-remove-ace.py" "$LAB_DIR/samba/etc/smb.conf" \
		"CN=$1,CN=Certificate Templates,$LAB_PKS_DN" "$2" >>"$LAB_DIR/logs/enroll.log" 2>&1
}

# ---------------------------------------------------------------- activation server and MPS

# The RPS-like WSS endpoint on $LAB_RPS_IP:443 (tests/lab/wss.py): its certificate and
# whether it passes upgrades follow the rps-wrong-cert and rps-no-upgrade faults.
lab_start_rps() {
	local cert=rps-full.pem mode=()
	lab_fault_active rps-wrong-cert && cert=rps-wrong-full.pem
	lab_fault_active rps-no-upgrade && mode=(--no-upgrade)
	lab_spawn rps "$NS_SRV" "$LAB_DIR/logs/rps.log" python3 "$LAB_HERE/wss.py" "$LAB_RPS_IP" 443 \
		"$LAB_DIR/pki/$cert" "$LAB_DIR/pki/srv.key" /activate "${mode[@]}"
}

# The MPS stand-in: TLS on the CIRA port 4433 (openssl s_server; CIRA starts with TLS).
lab_start_mps() {
	lab_spawn mps "$NS_SRV" "$LAB_DIR/logs/mps.log" openssl s_server -quiet \
		-accept "$LAB_MPS_IP:4433" -cert "$LAB_DIR/pki/mps.pem" -key "$LAB_DIR/pki/srv.key" \
		-cert_chain "$LAB_DIR/pki/issuing.pem"
}

# A listener on ADDR:PORT inside the server namespace.
lab_listening_on() { ip netns exec "$NS_SRV" ss -Hltn "src $1 and sport = :$2" | grep -q LISTEN; }
# ---------------------------------------------------------------- time and SQL

# chronyd as an NTP server named NAME on ADDR inside NS. -x: never touches the
# host clock; "local stratum": serves this host's clock with no upstream.
lab_start_chrony() {
	local name=$1 ns=$2 addr=$3 stratum=$4 dir=$LAB_DIR/chrony/$1
	mkdir -p "$dir"
	cat >"$dir/chrony.conf" <<EOF
bindaddress $addr
port 123
cmdport 0
allow all
local stratum $stratum
driftfile $dir/drift
pidfile $dir/chronyd.pid
EOF
	lab_spawn "$name" "$ns" "$LAB_DIR/logs/$name.log" chronyd -f "$dir/chrony.conf" -x -d -u root
}

# A UDP socket is bound to ADDR:PORT inside NS.
lab_udp_listening() {
	local ns=$1 addr=$2 port=$3
	ip netns exec "$ns" ss -Hlun "sport = :$port" | grep -qF "$addr:$port"
}

# The SQL Server stand-in; its ENCRYPTION answer is read from $LAB_DIR/sql-encryption.
lab_start_sql() {
	lab_spawn sql "$NS_AD" "$LAB_DIR/logs/sql.log" python3 "$LAB_HERE/tds-standin.py" "$LAB_SQL_IP" 1433 \
		"$LAB_DIR/sql-encryption"
}
