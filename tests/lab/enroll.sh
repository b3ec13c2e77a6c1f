#!/usr/bin/env bash
# The certificate-enrollment side of the lab: who may enroll for the AMT
# templates (accounts, groups, template ACLs in Samba AD) and the AD CS web
# enrollment stand-in (certsrv.py). Called by up.sh; expects LAB_PREFIX/LAB_DIR.
#
# usage: enroll.sh web   TLS certificate, user file, start certsrv.py in ${P}srv
#        enroll.sh ad    accounts, groups and Enroll ACEs (DC must be up)
#
# Accounts (password of scsuser, scsdenied and scsnone in secrets/enroll.pw):
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
		export SAN_NAME=$LAB_WEBENROLL_NAME # ca.cnf's v3_tls reads it
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

tool() { ip netns exec "$NS_AD" samba-tool "$@" -s "$SMBCONF" >>"$LAB_DIR/logs/enroll.log" 2>&1; }
sid_of() { ip netns exec "$NS_AD" samba-tool "$1" show "$2" -s "$SMBCONF" | sed -n 's/^objectSid: //p'; }
ENROLL_GUID=0e10c968-78fb-11d2-90d4-00c04f79dc55

ad() {
	local pw scs grp denied t
	pw=$(cat "$LAB_DIR/secrets/enroll.pw")
	tool computer create SCS01
	for u in scsuser scsdenied scsnone; do tool user create "$u" "$pw"; done
	tool group add AMT-Enrollers
	tool group add AMT-Provisioners
	tool group addmembers AMT-Enrollers AMT-Provisioners,scsdenied
	tool group addmembers AMT-Provisioners scsuser
	scs=$(sid_of computer SCS01)
	grp=$(sid_of group AMT-Enrollers)
	denied=$(sid_of user scsdenied)
	for t in AMTWebServer AMTProvisioning; do
		lab_template_acl_add "$t" "(OA;;CR;$ENROLL_GUID;;$scs)(OA;;CR;$ENROLL_GUID;;$grp)"
	done
	lab_template_acl_add AMTWebServer "(OD;;CR;$ENROLL_GUID;;$denied)"
	echo "$scs" >"$CS/scs01.sid"
}

case ${1:-} in
web) web ;;
ad) ad ;;
*) sed -n '5,7p' "$0" >&2; exit 2 ;;
esac
