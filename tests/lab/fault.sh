#!/usr/bin/env bash
# Applies or reverts a named fault on a running lab, so integration tests can
# exercise every failure on one bring-up.
#
# usage: fault.sh NAME[,NAME...]            apply
#        fault.sh --revert NAME[,NAME...]   undo
#        fault.sh --list                    known faults
#        fault.sh --active                  faults currently applied
# env:   LAB_PREFIX, LAB_DIR as for up.sh
#
# Applying an active fault or reverting an inactive one does nothing. The active
# set is kept in $LAB_DIR/faults; lab.conf and Kea's config are regenerated from
# it, so config-only faults cannot drift from their revert.
# The two ProvisionServer faults are alternatives: reverting either restores the
# healthy record.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
MODE=apply
case ${1:-} in
--list) echo "$LAB_FAULTS" | tr ' ' '\n'; exit 0 ;;
--active) cat "$LAB_DIR/faults" 2>/dev/null || true; exit 0 ;;
--revert) MODE=revert; shift ;;
'' | -*) usage ;;
esac
[ $# -eq 1 ] || usage
lab_check_prefix
lab_ns_exists "$NS_SRV" || lab_die "lab '$P' is not up (no namespace $NS_SRV)"
[ -f "$LAB_DIR/.amt-lab" ] || lab_die "$LAB_DIR is not a lab dir"

# ------------------------------------------------------------ actions

# Replace the ProvisionServer A record with ADDR (or delete it when empty), signed with the TSIG key.
dns_set_provisionserver() {
	local addr=$1
	{
		echo "server 127.0.0.1"
		echo "zone $LAB_DOMAIN"
		echo "update delete ProvisionServer.$LAB_DOMAIN A"
		[ -z "$addr" ] || echo "update add ProvisionServer.$LAB_DOMAIN 300 A $addr"
		echo "send"
	} | ip netns exec "$NS_SRV" nsupdate -k "$LAB_DIR/bind/ddns-key.conf"
}

# Rewrite Kea's config from the active faults and have it reload (SIGHUP).
kea_reload() {
	local pid start before
	lab_write_kea4
	read -r pid start < <(lab_pid_of kea-dhcp4) || lab_die "kea-dhcp4 is not recorded"
	lab_pid_is_ours "$pid" "$start" || lab_die "kea-dhcp4 (pid $pid) is not running"
	before=$(grep -c DHCP4_CONFIG_COMPLETE "$LAB_DIR/logs/kea-dhcp4.log" || true)
	kill -HUP "$pid"
	kea_reloaded() { [ "$(grep -c DHCP4_CONFIG_COMPLETE "$LAB_DIR/logs/kea-dhcp4.log")" -gt "$before" ]; }
	lab_wait "Kea reload" 10 kea_reloaded
	if grep -q DHCP4_DYNAMIC_RECONFIGURATION_FAIL "$LAB_DIR/logs/kea-dhcp4.log"; then
		lab_die "Kea rejected its new config (see $LAB_DIR/logs/kea-dhcp4.log)"
	fi
	# "Config complete" comes before Kea has reopened its raw socket: a client
	# that asks at once can go unanswered. Ready means it answers an INFORM.
	kea_answers() {
		ip netns exec "$NS_CLI" python3 "$LAB_HERE/dhcp-inform.py" "${P}v1" "$LAB_CLI_IP" "$LAB_SRV_IP"
	}
	lab_wait "Kea answering again" 15 kea_answers
}

TEMPLATE_DN="CN=AMTWebServer,CN=Certificate Templates,$LAB_PKS_DN"
ENROLL_DN="CN=CORP-Issuing-CA,CN=Enrollment Services,$LAB_PKS_DN"

# Set or clear bit 0x2 (CT_FLAG_PEND_ALL_REQUESTS) of AMTWebServer's msPKI-Enrollment-Flag.
template_pend() {
	local set=$1 cur new
	cur=$(lab_ldap_admin ldapsearch -LLL -o ldif-wrap=no -b "$TEMPLATE_DN" -s base msPKI-Enrollment-Flag |
		sed -n 's/^msPKI-Enrollment-Flag: //p')
	cur=${cur:-0}
	if [ "$set" = 1 ]; then new=$((cur | 2)); else new=$((cur & ~2)); fi
	printf 'dn: %s\nchangetype: modify\nreplace: msPKI-Enrollment-Flag\nmsPKI-Enrollment-Flag: %s\n' \
		"$TEMPLATE_DN" "$new" | lab_ldap_admin ldapmodify >/dev/null
}

# Add or remove AMTWebServer in the enrollment service's certificateTemplates.
template_publish() {
	local op=$1
	printf 'dn: %s\nchangetype: modify\n%s: certificateTemplates\ncertificateTemplates: AMTWebServer\n' \
		"$ENROLL_DN" "$op" | lab_ldap_admin ldapmodify >/dev/null
}

# Add or delete a decommissioned CA's leftover enrollment service: the expired twin of
# the issuing CA's certificate, a host name with no record, no AMT template.
STALE_CA_DN="CN=OLD-Issuing-CA,CN=Enrollment Services,$LAB_PKS_DN"
stale_ca() {
	if [ "$1" = add ]; then
		printf 'dn: %s
changetype: add
objectClass: top
objectClass: pKIEnrollmentService
cn: OLD-Issuing-CA
' \
			"$STALE_CA_DN"
		printf 'dNSHostName: old-ca.%s
cACertificate:: %s
certificateTemplates: WebServer
flags: 10
' "$LAB_DOMAIN" \
			"$(openssl x509 -in "$LAB_DIR/pki/issuing-expired.pem" -outform DER | base64 -w0)"
	else
		printf 'dn: %s
changetype: delete
' "$STALE_CA_DN"
	fi | lab_ldap_admin ldapmodify >/dev/null
}

lab_samba_down() { ! lab_listening "$NS_AD" 389; }

# Swap the CRL the HTTP server hands out; mv keeps the replacement atomic.
crl_use() {
	cp "$LAB_DIR/pki/$1" "$LAB_DIR/pki/.issuing.crl.tmp"
	mv -f "$LAB_DIR/pki/.issuing.crl.tmp" "$LAB_DIR/pki/issuing.crl"
}

do_fault() {
	local name=$1 mode=$2
	case "$name:$mode" in
	no-provisionserver:apply) dns_set_provisionserver "" ;;
	wrong-provisionserver:apply) dns_set_provisionserver 192.0.2.99 ;;
	no-provisionserver:revert | wrong-provisionserver:revert) dns_set_provisionserver "$LAB_PROV_IP" ;;
	no-ddns:* | no-option15:*) kea_reload ;;
	dc-down:apply)
		lab_stop samba
		# Samba's task processes can outlive the master a moment: down means 389 is closed.
		lab_wait "Samba's LDAP port to close" 10 lab_samba_down ;;
	dc-down:revert) lab_start_samba; lab_wait_samba ;;
	template-pend:apply) template_pend 1 ;;
	template-pend:revert) template_pend 0 ;;
	template-unpublished:apply) template_publish delete ;;
	template-unpublished:revert) template_publish add ;;
	stale-ca:apply) stale_ca add ;;
	stale-ca:revert) stale_ca delete ;;
	crl-expired:apply) crl_use issuing-expired.crl ;;
	crl-expired:revert) crl_use issuing-good.crl ;;
	pfx-expired-int:* | pfx-nochain:* | bad-bind-password:*) lab_write_conf ;;
	ca-pending:* | ca-denied:*) lab_ca_mode_write ;;
	enroll-missing:apply) lab_template_acl_remove AMTWebServer "$(cat "$LAB_DIR/certsrv/SCS01.sid")" ;;
	enroll-missing:revert)
		lab_template_acl_add AMTWebServer "(OA;;CR;0e10c968-78fb-11d2-90d4-00c04f79dc55;;$(cat "$LAB_DIR/certsrv/SCS01.sid"))" ;;
	rps-wrong-cert:* | rps-no-upgrade:*)
		lab_stop rps
		lab_start_rps
		lab_wait "RPS-like WSS endpoint" 10 lab_listening_on "$LAB_RPS_IP" 443 ;;
	mps-down:apply) lab_stop mps ;;
	mps-down:revert)
		lab_start_mps
		lab_wait "MPS" 10 lab_listening_on "$LAB_MPS_IP" 4433 ;;
	sql-down:apply) lab_stop sql ;;
	sql-down:revert) lab_start_sql; lab_wait "SQL Server stand-in" 10 lab_listening "$NS_AD" 1433 ;;
	sql-noencrypt:apply) echo notsup >"$LAB_DIR/sql-encryption" ;;
	sql-noencrypt:revert) echo off >"$LAB_DIR/sql-encryption" ;;
	ntp-skew:* | ntp-unsync:*) lab_write_conf ;;
	dc-ntp-down:apply) lab_stop dc1-ntp ;;
	dc-ntp-down:revert) lab_start_chrony dc1-ntp "$NS_AD" "$LAB_DC_IP" 9; lab_wait "NTP on the DC" 10 lab_udp_listening "$NS_AD" "$LAB_DC_IP" 123 ;;
	*) lab_die "no action for $name ($mode)" ;;
	esac
}

# The state file is updated before the action because the Kea and lab.conf
# generators read it. If the action fails (set -e exits), the EXIT trap puts the
# state back so that a retry is possible.
CURRENT=
rollback() {
	local rc=$?
	[ "$rc" -ne 0 ] && [ -n "$CURRENT" ] || return 0
	if [ "$MODE" = apply ]; then
		grep -vx "$CURRENT" "$LAB_DIR/faults" >"$LAB_DIR/faults.tmp" || true
		mv -f "$LAB_DIR/faults.tmp" "$LAB_DIR/faults"
	else
		echo "$CURRENT" >>"$LAB_DIR/faults"
	fi
	echo "[lab $P] fault $CURRENT: $MODE failed" >&2
}
trap rollback EXIT

# With the DC stopped, the LDAP faults cannot be applied or reverted: stop it
# last when applying several faults, and start it first when reverting.
names=" ${1//,/ } "
if [[ $names == *" dc-down "* ]]; then
	names=${names/ dc-down / }
	if [ "$MODE" = apply ]; then names="$names dc-down"; else names="dc-down $names"; fi
fi
if lab_fault_active dc-down && { [ "$MODE" = apply ] || [[ $names != *dc-down* ]]; }; then
	for name in $names; do
		case $name in
		template-pend | template-unpublished | stale-ca | enroll-missing)
			# only a real change needs LDAP; a no-op is fine
			if [ "$MODE" = apply ] && lab_fault_active "$name"; then continue; fi
			if [ "$MODE" = revert ] && ! lab_fault_active "$name"; then continue; fi
			lab_die "fault $name needs the DC: revert dc-down first" ;;
		esac
	done
fi

for name in $names; do
	lab_fault_valid "$name" || lab_die "unknown fault '$name' (known: $LAB_FAULTS)"
	if [ "$MODE" = apply ]; then
		lab_fault_active "$name" && continue
		echo "$name" >>"$LAB_DIR/faults"
	else
		lab_fault_active "$name" || continue
		grep -vx "$name" "$LAB_DIR/faults" >"$LAB_DIR/faults.tmp" || true
		mv -f "$LAB_DIR/faults.tmp" "$LAB_DIR/faults"
	fi
	CURRENT=$name
	do_fault "$name" "$MODE"
	CURRENT=
	if [ "$MODE" = apply ]; then lab_log "fault $name applied"; else lab_log "fault $name reverted"; fi
done
