#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the cert checks' test PKI with plain openssl, at test time, into DIR.
# usage: mkpki.sh DIR [BASE_URL]
#   BASE_URL (e.g. http://127.0.0.1:8123) is written into the AIA caIssuers and
#   CRL distribution point extensions; the test serves DIR there. Default: a
#   closed loopback port, so fetches fail fast.
#
# Every file is named after the problem it carries; tests/checks/test_cert_*.c
# assert the finding each one must produce. All PFX passwords are "test-pw".
set -euo pipefail

D=${1:?usage: mkpki.sh DIR [BASE_URL]}
URL=${2:-http://127.0.0.1:9}
PW=test-pw
mkdir -p "$D"
cd "$D"
mkdir -p db newcerts store
: >db/index.txt
echo 1000 >db/serial
echo 01 >db/crlnumber

cat >ca.cnf <<EOF
[ ca ]
default_ca = ca_int
[ ca_root ]
dir = $D
database = \$dir/db/index.txt
serial = \$dir/db/serial
crlnumber = \$dir/db/crlnumber
new_certs_dir = \$dir/newcerts
certificate = \$dir/root.pem
private_key = \$dir/root.key
default_md = sha256
default_days = 3650
default_crl_days = 30
policy = p_any
preserve = yes
unique_subject = no
copy_extensions = none
[ ca_int ]
dir = $D
database = \$dir/db/index.txt
serial = \$dir/db/serial
crlnumber = \$dir/db/crlnumber
new_certs_dir = \$dir/newcerts
certificate = \$dir/int.pem
private_key = \$dir/int.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = p_any
preserve = yes
unique_subject = no
copy_extensions = none
[ p_any ]
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = caIssuers;URI:$URL/root.der
[ v3_oid ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, 2.16.840.1.113741.1.2.3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = caIssuers;URI:$URL/int.der
crlDistributionPoints = URI:$URL/int.crl
[ v3_serverauth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = caIssuers;URI:$URL/int.der
crlDistributionPoints = URI:$URL/int.crl
[ v3_oidonly ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = 2.16.840.1.113741.1.2.3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

key() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" -out "$1" 2>/dev/null; }
# sign CA_SECTION EXT SUBJECT KEY OUT [openssl ca options...]
sign() {
	local ca=$1 ext=$2 subj=$3 k=$4 out=$5
	shift 5
	openssl req -new -config ca.cnf -key "$k" -subj "$subj" -out "$out.csr"
	openssl ca -batch -notext -config ca.cnf -name "$ca" -extensions "$ext" -in "$out.csr" -out "$out" "$@" 2>/dev/null
	rm -f "$out.csr"
}
day() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
pfx() { # OUT KEY CERT [CHAIN...]
	local out=$1 k=$2 c=$3
	shift 3
	local extra=()
	if [ $# -gt 0 ]; then
		cat "$@" >"$out.chain"
		extra=(-certfile "$out.chain")
	fi
	openssl pkcs12 -export -passout "pass:$PW" -inkey "$k" -in "$c" "${extra[@]}" -out "$out" ${LEGACY:+-legacy}
	rm -f "$out.chain"
}

# Root and the issuing CA: a valid one and an expired twin (same subject, same key).
key root.key
openssl req -x509 -new -config ca.cnf -extensions v3_root -key root.key -sha256 -days 3650 \
	-subj "/O=APF Test/CN=APF Test Root CA" -out root.pem
openssl x509 -in root.pem -outform DER -out root.der
key int.key
sign ca_root v3_ca "/O=APF Test/CN=APF Test Issuing CA" int.key int.pem -days 1825
sign ca_root v3_ca "/O=APF Test/CN=APF Test Issuing CA" int.key int-expired.pem \
	-startdate 20200101000000Z -enddate 20210101000000Z
openssl x509 -in int.pem -outform DER -out int.der

# Leaves, all signed by the issuing CA key (so either twin verifies them).
P=ProvisionServer.corp.example.com
key leaf.key
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf.key leaf-oid.pem
sign ca_int v3_serverauth "/O=APF Test/OU=Intel(R) Client Setup Certificate/CN=$P" leaf.key leaf-ou.pem
sign ca_int v3_serverauth "/O=APF Test/CN=$P" leaf.key leaf-none.pem
sign ca_int v3_serverauth "/O=APF Test/OU=Intel(R) client setup certificate/CN=$P" leaf.key leaf-ou-case.pem
sign ca_int v3_serverauth "/O=APF Test/OU=Intel(R) Client Setup Certificate./CN=$P" leaf.key leaf-ou-period.pem
sign ca_int v3_oidonly "/O=APF Test/CN=$P" leaf.key leaf-oidonly.pem
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf.key leaf-sha1.pem -md sha1
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf.key leaf-sha384.pem -md sha384
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf.key leaf-expiring.pem -startdate "$(day '-1 day')" -enddate "$(day '+10 days')"
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf.key leaf-notyet.pem -startdate "$(day '+2 days')" -enddate "$(day '+400 days')"
sign ca_int v3_oid "/O=APF Test/CN=ProvisionServer.corp.local" leaf.key leaf-local.pem
sign ca_int v3_oid "/O=APF Test/CN=ps.corp.example.co.uk" leaf.key leaf-couk.pem
sign ca_int v3_oid "/O=APF Test/CN=<script>alert(1)<\\/script>.example.com" leaf.key leaf-hostile.pem
key leaf1024.key 1024
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf1024.key leaf-1024.pem
sign ca_int v3_oid "/O=APF Test/CN=$P" leaf.key leaf-revoked.pem
openssl ca -batch -config ca.cnf -name ca_int -revoke leaf-revoked.pem -crl_reason keyCompromise 2>/dev/null

# Five certificates: root -> int -> sub1 -> sub2 -> leaf.
key sub.key
sign ca_int v3_ca "/O=APF Test/CN=APF Test Sub CA 1" sub.key sub1.pem
# sub2 is signed by sub1: a throwaway CA section pointing at sub1.
sed -e "s|certificate = \\\$dir/int.pem|certificate = \$dir/sub1.pem|;s|private_key = \\\$dir/int.key|private_key = \$dir/sub.key|" \
	-e 's/^\[ ca_int \]/[ ca_sub1 ]/' ca.cnf >ca-sub1.cnf
openssl req -new -config ca.cnf -key sub.key -subj "/O=APF Test/CN=APF Test Sub CA 2" -out sub2.csr
openssl ca -batch -notext -config ca-sub1.cnf -name ca_sub1 -extensions v3_ca -in sub2.csr -out sub2.pem 2>/dev/null
sed -e "s|certificate = \\\$dir/int.pem|certificate = \$dir/sub2.pem|;s|private_key = \\\$dir/int.key|private_key = \$dir/sub.key|" \
	-e 's/^\[ ca_int \]/[ ca_sub2 ]/' ca.cnf >ca-sub2.cnf
openssl req -new -config ca.cnf -key leaf.key -subj "/O=APF Test/CN=$P" -out long.csr
openssl ca -batch -notext -config ca-sub2.cnf -name ca_sub2 -extensions v3_oid -in long.csr -out leaf-long.pem 2>/dev/null
rm -f ./*.csr

# CRL of the issuing CA (DER, as served by a CDP) and chains.
openssl ca -batch -config ca.cnf -name ca_int -gencrl -out int.crl.pem 2>/dev/null
openssl crl -in int.crl.pem -outform DER -out int.crl
# The same CRL past its nextUpdate (a test swaps it in for int.crl).
openssl ca -batch -config ca.cnf -name ca_int -gencrl -crl_lastupdate 20200101000000Z \
	-crl_nextupdate 20200102000000Z -out int-expired.crl.pem 2>/dev/null
openssl crl -in int-expired.crl.pem -outform DER -out int-expired.crl
cat int.pem root.pem >chain.pem
cat int-expired.pem root.pem >chain-expired.pem

# PFX files (password $PW).
pfx chain.pfx leaf.key leaf-oid.pem int.pem root.pem
pfx nochain.pfx leaf.key leaf-oid.pem
pfx expint.pfx leaf.key leaf-oid.pem int-expired.pem root.pem
pfx ou.pfx leaf.key leaf-ou.pem int.pem root.pem
pfx none.pfx leaf.key leaf-none.pem int.pem root.pem
pfx oucase.pfx leaf.key leaf-ou-case.pem int.pem root.pem
pfx ouperiod.pfx leaf.key leaf-ou-period.pem int.pem root.pem
pfx oidonly.pfx leaf.key leaf-oidonly.pem int.pem root.pem
pfx sha1.pfx leaf.key leaf-sha1.pem int.pem root.pem
pfx sha384.pfx leaf.key leaf-sha384.pem int.pem root.pem
pfx k1024.pfx leaf1024.key leaf-1024.pem int.pem root.pem
pfx expiring.pfx leaf.key leaf-expiring.pem int.pem root.pem
pfx notyet.pfx leaf.key leaf-notyet.pem int.pem root.pem
pfx local.pfx leaf.key leaf-local.pem int.pem root.pem
pfx couk.pfx leaf.key leaf-couk.pem int.pem root.pem
pfx hostile.pfx leaf.key leaf-hostile.pem int.pem root.pem
pfx long.pfx leaf.key leaf-long.pem sub2.pem sub1.pem int.pem root.pem
pfx revoked.pfx leaf.key leaf-revoked.pem int.pem root.pem
LEGACY=1 pfx legacy.pfx leaf.key leaf-oid.pem int.pem root.pem
printf '%s\n' "$PW" >pw.txt
printf '%s\n' wrong-pw >badpw.txt

# An Intermediate CA store export: the valid issuing CA, its expired twin, an
# unrelated expired CA, as PEM, DER and PKCS#7.
cp int.pem store/int.pem
openssl x509 -in int-expired.pem -outform DER -out store/int-expired.cer
key old.key
sign ca_root v3_ca "/O=APF Test/CN=APF Old Unrelated CA" old.key store-old.pem \
	-startdate 20190101000000Z -enddate 20200101000000Z
openssl crl2pkcs7 -nocrl -certfile store-old.pem -outform DER -out store/old.p7b
echo "not a certificate" >store/readme.txt
# A store with only the expired issuing CA (what the field notes' server had).
mkdir -p store-expired-only
cp int-expired.pem store-expired-only/

# Device hash lists: rpc amtinfo --cert --json output with and without our root.
ROOT256=$(openssl x509 -in root.pem -outform DER | sha256sum | cut -d' ' -f1)
cat >device-ok.json <<EOF
{
  "amt": "16.1.27",
  "hostnameOS": "pc-with-root",
  "certificateHashes": {
    "APF Test Root": {"Hash": "$ROOT256", "Name": "APF Test Root", "Algorithm": "SHA256", "IsActive": true, "IsDefault": false},
    "DigiCert Global Root G2": {"Hash": "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f", "Name": "DigiCert Global Root G2", "Algorithm": "SHA256", "IsActive": true, "IsDefault": true}
  }
}
EOF
cat >device-missing.json <<EOF
{
  "amt": "12.0.45",
  "hostnameOS": "pc-without-root",
  "certificateHashes": {
    "DigiCert Global Root G2": {"Hash": "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f", "Name": "DigiCert Global Root G2", "Algorithm": "SHA256", "IsActive": true, "IsDefault": true}
  }
}
EOF
{
	echo "# one hash a line"
	echo "$ROOT256 APF Test Root"
} >device-ok.txt
echo "$ROOT256" >root.sha256
