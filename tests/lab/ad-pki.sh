#!/usr/bin/env bash
# Loads the Microsoft enterprise CA objects into the lab's Samba AD over LDAP, as
# the domain Administrator: the enrollment service CORP-Issuing-CA, the
# certificate templates AMTWebServer, AMTProvisioning and WebServer, the root in
# Certification Authorities, and the issuing CA in NTAuthCertificates.
# Called by up.sh once Samba answers; expects LAB_PREFIX/LAB_DIR in the env.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKI=$LAB_DIR/pki
b64() { base64 -w0 "$1"; }
ISSUING=$(b64 "$PKI/issuing.crt")
ROOT=$(b64 "$PKI/root.der")
ROOTCRL=$(b64 "$PKI/root.crl")
# Period encodings: negative 100-ns intervals, little-endian int64, base64.
YEAR=AEA5hy7h/v8=        # 1 year
SIXWEEKS=AICmCv/e//8=    # 6 weeks
KU=oAA=                  # digitalSignature | keyEncipherment
# Lab-only template OIDs under the forest-random arc AD uses for templates.
OIDBASE=1.3.6.1.4.1.311.21.8.7638725.13898300.1985460.3383425.7519116.119.16774045

# usage: template CN DISPLAY SCHEMA_VERSION FLAGS PRIVKEY_FLAG OID_SUFFIX EKU...
template() {
	local cn=$1 display=$2 ver=$3 flags=$4 pkflag=$5 oid=$6
	shift 6
	cat <<LDIF
dn: CN=$cn,CN=Certificate Templates,$LAB_PKS_DN
changetype: add
objectClass: top
objectClass: pKICertificateTemplate
cn: $cn
displayName: $display
flags: $flags
revision: 100
pKIDefaultKeySpec: 1
pKIKeyUsage:: $KU
pKIMaxIssuingDepth: 0
pKICriticalExtensions: 2.5.29.15
pKIExpirationPeriod:: $YEAR
pKIOverlapPeriod:: $SIXWEEKS
pKIDefaultCSPs: 1,Microsoft RSA SChannel Cryptographic Provider
msPKI-RA-Signature: 0
msPKI-Enrollment-Flag: 0
msPKI-Private-Key-Flag: $pkflag
msPKI-Certificate-Name-Flag: 1
msPKI-Minimal-Key-Size: 2048
msPKI-Template-Schema-Version: $ver
msPKI-Template-Minor-Revision: 1
msPKI-Cert-Template-OID: $OIDBASE.$oid
LDIF
	local e
	for e in "$@"; do echo "pKIExtendedKeyUsage: $e"; done
	# Version 1 templates have no application policies; v2+ mirror the EKUs.
	if [ "$ver" -ge 2 ]; then
		for e in "$@"; do echo "msPKI-Certificate-Application-Policy: $e"; done
	fi
	echo
}

{
	template AMTWebServer "AMT Web Server" 2 131680 16842752 101 1.3.6.1.5.5.7.3.1
	template AMTProvisioning "AMT Provisioning" 2 131680 16842752 102 1.3.6.1.5.5.7.3.1 2.16.840.1.113741.1.2.3
	template WebServer "Web Server" 1 66113 0 1 1.3.6.1.5.5.7.3.1
	cat <<LDIF
dn: CN=CORP-Issuing-CA,CN=Enrollment Services,$LAB_PKS_DN
changetype: add
objectClass: top
objectClass: pKIEnrollmentService
cn: CORP-Issuing-CA
displayName: CORP-Issuing-CA
dNSHostName: ca1.$LAB_DOMAIN
cACertificateDN: CN=CORP-Issuing-CA, O=Lab Corp
cACertificate:: $ISSUING
certificateTemplates: AMTProvisioning
certificateTemplates: AMTWebServer
certificateTemplates: WebServer
flags: 10

dn: CN=Lab Root CA,CN=Certification Authorities,$LAB_PKS_DN
changetype: add
objectClass: top
objectClass: certificationAuthority
cn: Lab Root CA
cACertificate:: $ROOT
certificateRevocationList:: $ROOTCRL
authorityRevocationList:: $ROOTCRL

LDIF
} >"$LAB_DIR/ad-pki.ldif"

# NTAuthCertificates may or may not exist after provisioning: add or replace.
if lab_ldap_admin ldapsearch -LLL -b "CN=NTAuthCertificates,$LAB_PKS_DN" -s base dn >/dev/null 2>&1; then
	cat >>"$LAB_DIR/ad-pki.ldif" <<LDIF
dn: CN=NTAuthCertificates,$LAB_PKS_DN
changetype: modify
replace: cACertificate
cACertificate:: $ISSUING
LDIF
else
	# As on Windows, the CRL attributes hold a single zero byte.
	cat >>"$LAB_DIR/ad-pki.ldif" <<LDIF
dn: CN=NTAuthCertificates,$LAB_PKS_DN
changetype: add
objectClass: top
objectClass: certificationAuthority
cn: NTAuthCertificates
cACertificate:: $ISSUING
certificateRevocationList:: AA==
authorityRevocationList:: AA==
LDIF
fi
lab_ldap_admin ldapmodify -f "$LAB_DIR/ad-pki.ldif"
