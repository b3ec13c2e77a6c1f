#!/usr/bin/env bash
# The certificate-enrollment side of the lab: who may enroll for the AMT
# templates (accounts, groups, template ACLs in Samba AD) and the AD CS web
# enrollment stand-in (certsrv.py). Called by up.sh; expects LAB_PREFIX/LAB_DIR.
#
# usage: enroll.sh web   TLS certificate, user file, start certsrv.py in ${P}srv
#        enroll.sh ad    accounts, groups and Enroll ACEs (DC must be up)
#
# Accounts (enroll-accounts.py; password of scsuser, scsdenied and scsnone in secrets/enroll.pw):
#   SCS01$     computer account of the setup server: Enroll granted directly
#   scsuser    member of AMT-Provisioners, itself a member of AMT-Enrollers,
#              which is granted Enroll: granted through a nested group
#   scsdenied  member of AMT-Enrollers, but an explicit Deny Enroll ACE on
#              AMTWebServer names it: denied
#   scsnone    no grant at all: not granted
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMBCONF=$LAB_DIR/samba/etc/smb.conf
CS=$LAB_DIR/certsrv

web() {
	local pki=$LAB_DIR/pki pw
	mkdir -p "$CS"
	# The web enrollment server's own TLS certificate, from the lab's issuing CA.
	(
		cd "$pki"
		# ca.cnf's v3_tls reads SAN_NAME; its other sections need SAN_IP set to parse
		export SAN_NAME=$LAB_WEBENROLL_NAME SAN_IP=$LAB_WEBENROLL_IP
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$CS/web.key" 2>/dev/null
		chmod 600 "$CS/web.key"
		openssl req -new -config ca.cnf -key "$CS/web.key" -subj "/O=Lab Corp/CN=$LAB_WEBENROLL_NAME" -out "$CS/web.csr"
		openssl ca -batch -notext -config ca.cnf -name issuing_ca -extensions v3_tls \
			-days 365 -in "$CS/web.csr" -out "$CS/web.pem" 2>/dev/null
		cat "$CS/web.pem" issuing.pem >"$CS/web-chain.pem"
	)
	[ -s "$LAB_DIR/secrets/enroll.pw" ] || (umask 077 && printf 'Enr-%s' "$(openssl rand -hex 10)" >"$LAB_DIR/secrets/enroll.pw")
	pw=$(cat "$LAB_DIR/secrets/enroll.pw")
	(umask 077 && printf 'CORP\\%s:%s\n%s@%s:%s\n' scsuser "$pw" scsuser "$LAB_DOMAIN" "$pw" >"$CS/users")
	lab_ca_mode_write
	lab_spawn certsrv "$NS_SRV" "$LAB_DIR/logs/certsrv.log" python3 "$LAB_HERE/certsrv.py" \
		"$LAB_WEBENROLL_IP" 443 "$CS/web-chain.pem" "$CS/web.key" "$pki" "$CS/users" "$CS/mode"
}

ENROLL_GUID=0e10c968-78fb-11d2-90d4-00c04f79dc55

ad() {
	local allow
	ip netns exec "$NS_AD" /usr/bin/python3 "$LAB_HERE/enroll-accounts.py" "$SMBCONF" "$LAB_DIR/secrets/enroll.pw" "$CS" \
		>>"$LAB_DIR/logs/enroll.log" 2>&1
	# SCS01$ and AMT-Enrollers may enroll for both templates; scsdenied is denied on AMTWebServer.
	allow="(OA;;CR;$ENROLL_GUID;;$(cat "$CS/SCS01.sid"))(OA;;CR;$ENROLL_GUID;;$(cat "$CS/AMT-Enrollers.sid"))"
	lab_template_acl_add AMTWebServer "$allow(OD;;CR;$ENROLL_GUID;;$(cat "$CS/scsdenied.sid"))" &
	lab_template_acl_add AMTProvisioning "$allow" || { wait; return 1; }
	wait $!
}

case ${1:-} in
web) web ;;
ad) ad ;;
*) sed -n '5,7p' "$0" >&2; exit 2 ;;
esac
