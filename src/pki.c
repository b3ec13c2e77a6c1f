/* SPDX-License-Identifier: MIT */
/*
 * Certificates from OpenSSL into the plain model of pki.h: parsing (PEM, DER,
 * PKCS#7, PKCS#12 including legacy RC2/3DES exports), key matching and chain
 * building. Everything read here may be hostile: sizes and counts are capped
 * and every OpenSSL failure becomes a return code, never an abort.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "alloc.h"
#include "util.h"

/* Caps on what one certificate may contribute to the model. */
#define NAME_MAX_CHARS 2048
#define LIST_MAX 32
#define URL_MAX_CHARS 1024
/* A PKCS#12 MAC/PBE iteration count beyond this is a denial of service, not a real export
 * (Windows uses 2000, OpenSSL 2048; newer tools stay below a million). */
#define PFX_MAX_ITER 2000000
#define CHAIN_MAX_DEPTH 16

/* ---- provider setup -------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static OSSL_PROVIDER *prov_default, *prov_legacy;

/* Registered after OpenSSL's own exit handler, so it runs first: the providers
 * are released while the library is still whole (leak checkers stay quiet). */
static void unload_providers(void)
{
	if (prov_legacy)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	prov_legacy = prov_default = NULL;
}

static void init_providers(void)
{
	/* Loading "legacy" explicitly disables the implicit fallback to "default",
	 * so both are loaded. */
	if (!(prov_default = OSSL_PROVIDER_load(NULL, "default")))
		init_rc = -ENOPKG;
	if (!(prov_legacy = OSSL_PROVIDER_load(NULL, "legacy")))
		init_rc = -ENOPKG;
	atexit(unload_providers);
	ERR_clear_error();
}

int apf_pki_init(void)
{
	pthread_once(&init_once, init_providers);
	return init_rc;
}

/* ---- small helpers --------------------------------------------------------- */

static void hex_lower(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Lowercase hex of the `md` digest of data into out (2 * want + 1 bytes); "" on failure. */
static void digest_hex(const EVP_MD *md, unsigned int want, const void *data, size_t len, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, d, &n, md, NULL) || n != want) {
		out[0] = '\0';
		return;
	}
	hex_lower(d, n, out);
}

void apf_pki_sha1_hex(const void *data, size_t len, char out[41])
{
	digest_hex(EVP_sha1(), 20, data, len, out);
}

void apf_pki_sha256_hex(const void *data, size_t len, char out[65])
{
	digest_hex(EVP_sha256(), 32, data, len, out);
}

void apf_pki_sha384_hex(const void *data, size_t len, char out[97])
{
	digest_hex(EVP_sha384(), 48, data, len, out);
}

const char *apf_pki_time_str(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", (long long)t);
	return buf;
}

/* Text of an OpenSSL error queue, for messages; clears the queue. */
static char *ssl_err_text(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return e ? apf_xasprintf("%s: %s", what, buf) : apf_xstrdup(what);
}

static void list_add(struct apf_strlist *l, const char *s, size_t cap_chars)
{
	if (l->n >= LIST_MAX)
		return;
	l->v = apf_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = strndup(s, cap_chars);
	if (!l->v[l->n - 1])
		abort();
}

static void list_free(struct apf_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* RFC 2253 text of a name, UTF-8 kept as is (control characters escaped), capped. */
static char *name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s;
	long n;

	if (!b)
		abort();
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(b, &p);
	if (n < 0)
		n = 0;
	s = strndup(p ? p : "", (size_t)n < NAME_MAX_CHARS ? (size_t)n : NAME_MAX_CHARS);
	BIO_free(b);
	if (!s)
		abort();
	return s;
}

/* UTF-8 copy of an ASN1 string, or NULL. */
static char *asn1_utf8(const ASN1_STRING *str)
{
	unsigned char *u = NULL;
	int n = ASN1_STRING_to_UTF8(&u, str);
	char *s;

	if (n < 0)
		return NULL;
	s = strndup((char *)u, (size_t)n < NAME_MAX_CHARS ? (size_t)n : NAME_MAX_CHARS);
	OPENSSL_free(u);
	return s;
}

static time_t asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static void uris_from_names(const GENERAL_NAMES *names, struct apf_strlist *out)
{
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type == GEN_URI) {
			char *s = asn1_utf8(g->d.uniformResourceIdentifier);
			if (s)
				list_add(out, s, URL_MAX_CHARS);
			free(s);
		}
	}
}

static void fill_extensions(X509 *x, struct apf_cert *c)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	char oid[128];

	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		if (OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1) > 0)
			list_add(&c->eku, oid, sizeof(oid));
	}
	for (int i = 0; san && i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
		if (g->type == GEN_DNS) {
			char *s = asn1_utf8(g->d.dNSName);
			if (s)
				list_add(&c->san_dns, s, 255);
			free(s);
		} else if (g->type == GEN_IPADD) {
			/* 4 or 16 bytes (RFC 5280 4.2.1.6); anything else is not an address. */
			int len = ASN1_STRING_length(g->d.iPAddress);
			char txt[INET6_ADDRSTRLEN];

			if ((len == 4 || len == 16) && inet_ntop(len == 4 ? AF_INET : AF_INET6,
								 ASN1_STRING_get0_data(g->d.iPAddress), txt, sizeof(txt)))
				list_add(&c->san_ip, txt, sizeof(txt));
		}
	}
	for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		int nid = OBJ_obj2nid(ad->method);
		GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
		if (!one)
			abort();
		sk_GENERAL_NAME_push(one, ad->location);
		if (nid == NID_ad_ca_issuers)
			uris_from_names(one, &c->aia_ca_issuers);
		else if (nid == NID_ad_OCSP)
			uris_from_names(one, &c->aia_ocsp);
		sk_GENERAL_NAME_free(one); /* not pop_free: the name belongs to `aia` */
	}
	for (int i = 0; cdp && i < sk_DIST_POINT_num(cdp); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);
		if (dp->distpoint && dp->distpoint->type == 0)
			uris_from_names(dp->distpoint->name.fullname, &c->crl_dp);
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	GENERAL_NAMES_free(san);
	AUTHORITY_INFO_ACCESS_free(aia);
	CRL_DIST_POINTS_free(cdp);
	ERR_clear_error();
}

static void fill_key(X509 *x, struct apf_cert *c)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	const char *t;

	if (!pk) {
		c->key_type = apf_xstrdup("unknown");
		ERR_clear_error();
		return;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		t = "RSA";
		break;
	case EVP_PKEY_EC:
		t = "EC";
		break;
	case EVP_PKEY_DSA:
		t = "DSA";
		break;
	case EVP_PKEY_ED25519:
		t = "ED25519";
		break;
	case EVP_PKEY_ED448:
		t = "ED448";
		break;
	default:
		t = "other";
		break;
	}
	c->key_type = apf_xstrdup(t);
	c->key_bits = EVP_PKEY_get_bits(pk);
}

static void fill_sig(X509 *x, struct apf_cert *c)
{
	int nid = X509_get_signature_nid(x), md = NID_undef, pk = NID_undef;
	char oid[128];

	if (nid != NID_undef) {
		c->sig_alg = apf_xstrdup(OBJ_nid2ln(nid));
	} else {
		const X509_ALGOR *alg = NULL;
		const ASN1_OBJECT *obj = NULL;
		X509_get0_signature(NULL, &alg, x);
		if (alg)
			X509_ALGOR_get0(&obj, NULL, NULL, alg);
		c->sig_alg = apf_xstrdup(obj && OBJ_obj2txt(oid, sizeof(oid), obj, 1) > 0 ? oid : "unknown");
	}
	if (nid == NID_rsassaPss) {
		/* The hash of RSA-PSS is in the parameters; what matters to AMT is
		 * SHA-1 vs SHA-2, and PSS with SHA-1 is vanishingly rare. */
		c->sig_hash = NULL;
	} else if (nid != NID_undef && OBJ_find_sigid_algs(nid, &md, &pk) && md != NID_undef) {
		c->sig_hash = apf_xstrdup(OBJ_nid2ln(md));
	}
}

/* ---- one certificate ------------------------------------------------------- */

void apf_cert_free(struct apf_cert *c)
{
	if (!c)
		return;
	free(c->subject);
	free(c->issuer);
	free(c->subject_cn);
	list_free(&c->subject_ou);
	free(c->serial_hex);
	free(c->key_type);
	free(c->sig_alg);
	free(c->sig_hash);
	list_free(&c->eku);
	list_free(&c->san_dns);
	list_free(&c->san_ip);
	list_free(&c->aia_ca_issuers);
	list_free(&c->aia_ocsp);
	list_free(&c->crl_dp);
	free(c->der);
	X509_free(c->native);
	free(c);
}

void apf_certs_free(struct apf_cert **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		apf_cert_free(v[i]);
	free(v);
}

/* Builds the model around `x` (takes ownership of it, even on failure). */
static int cert_from_x509_take(X509 *x, struct apf_cert **out)
{
	struct apf_cert *c = NULL;
	unsigned char *der = NULL;
	const X509_NAME *subj;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int len, rc = -EINVAL;

	*out = NULL;
	len = i2d_X509(x, &der);
	if (len <= 0)
		goto out;
	c = apf_xcalloc(1, sizeof(*c));
	c->native = x;
	x = NULL;
	c->der = apf_xmalloc((size_t)len);
	memcpy(c->der, der, (size_t)len);
	c->der_len = (size_t)len;
	apf_pki_sha1_hex(c->der, c->der_len, c->sha1_hex);
	apf_pki_sha256_hex(c->der, c->der_len, c->sha256_hex);
	apf_pki_sha384_hex(c->der, c->der_len, c->sha384_hex);

	subj = X509_get_subject_name(c->native);
	c->subject = name_text(subj);
	c->issuer = name_text(X509_get_issuer_name(c->native));
	for (int i = 0; i < X509_NAME_entry_count(subj); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		char *v;
		if (nid != NID_commonName && nid != NID_organizationalUnitName)
			continue;
		v = asn1_utf8(X509_NAME_ENTRY_get_data(e));
		if (!v)
			continue;
		if (nid == NID_commonName) {
			/* The most specific CN is the last one in DER order. */
			free(c->subject_cn);
			c->subject_cn = v;
		} else {
			list_add(&c->subject_ou, v, NAME_MAX_CHARS);
			free(v);
		}
	}

	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c->native), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	c->serial_hex = apf_xstrdup(hex ? hex : "");
	c->not_before = asn1_time_t(X509_get0_notBefore(c->native));
	c->not_after = asn1_time_t(X509_get0_notAfter(c->native));
	fill_key(c->native, c);
	fill_sig(c->native, c);
	/* X509_get_extension_flags() caches the parsed extensions; an invalid
	 * extension sets EXFLAG_INVALID, which we tolerate: the model is for
	 * reporting, not for trusting. */
	uint32_t fl = X509_get_extension_flags(c->native);
	c->is_ca = (fl & EXFLAG_CA) != 0;
	if (X509_NAME_cmp(X509_get_subject_name(c->native), X509_get_issuer_name(c->native)) == 0) {
		EVP_PKEY *pk = X509_get0_pubkey(c->native);
		/* -1 = could not be checked (e.g. an MD2 signature OpenSSL no longer does):
		 * still the root of its chain, so count it as self-signed. */
		c->self_signed = pk && X509_verify(c->native, pk) != 0;
	}
	fill_extensions(c->native, c);
	ERR_clear_error();
	*out = c;
	c = NULL;
	rc = 0;
out:
	OPENSSL_free(der);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	apf_cert_free(c);
	ERR_clear_error();
	return rc;
}

int apf_cert_from_der(const unsigned char *der, size_t len, struct apf_cert **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (!der || len == 0 || len > APF_PKI_MAX_FILE)
		return -EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return -EINVAL;
	}
	return cert_from_x509_take(x, out);
}

bool apf_cert_issuer_is_subject(const struct apf_cert *cert, const struct apf_cert *issuer)
{
	return X509_NAME_cmp(X509_get_issuer_name(cert->native), X509_get_subject_name(issuer->native)) == 0;
}

bool apf_cert_subject_eq(const struct apf_cert *a, const struct apf_cert *b)
{
	return X509_NAME_cmp(X509_get_subject_name(a->native), X509_get_subject_name(b->native)) == 0;
}

bool apf_cert_same_key(const struct apf_cert *a, const struct apf_cert *b)
{
	EVP_PKEY *ka = X509_get0_pubkey(a->native), *kb = X509_get0_pubkey(b->native);
	bool eq = ka && kb && EVP_PKEY_eq(ka, kb) == 1;

	ERR_clear_error();
	return eq;
}

bool apf_cert_issued_by(const struct apf_cert *cert, const struct apf_cert *issuer)
{
	EVP_PKEY *pk;
	int v;

	if (!apf_cert_issuer_is_subject(cert, issuer))
		return false;
	pk = X509_get0_pubkey(issuer->native);
	v = pk ? X509_verify(cert->native, pk) : 0;
	ERR_clear_error();
	/* A signature OpenSSL cannot evaluate (MD2) from a matching name and key is
	 * still the issuer for our purposes; only a proven mismatch is not. */
	return v == 1 || (v < 0 && pk && cert == issuer);
}

/* ---- many certificates ------------------------------------------------------ */

struct cert_vec {
	struct apf_cert **v;
	size_t n;
};

static int vec_take_x509(struct cert_vec *vec, X509 *x)
{
	struct apf_cert *c;
	int rc;

	if (vec->n >= APF_PKI_MAX_CERTS) {
		X509_free(x);
		return -E2BIG;
	}
	rc = cert_from_x509_take(x, &c);
	if (rc)
		return rc;
	vec->v = apf_xrealloc(vec->v, (vec->n + 1) * sizeof(*vec->v));
	vec->v[vec->n++] = c;
	return 0;
}

static int vec_take_pkcs7(struct cert_vec *vec, PKCS7 *p7)
{
	STACK_OF(X509) *certs = NULL;
	int rc = 0;

	if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign)
		certs = p7->d.sign->cert;
	else if (p7 && PKCS7_type_is_signedAndEnveloped(p7) && p7->d.signed_and_enveloped)
		certs = p7->d.signed_and_enveloped->cert;
	for (int i = 0; certs && i < sk_X509_num(certs) && !rc; i++) {
		X509 *x = sk_X509_value(certs, i);
		if (!X509_up_ref(x))
			abort();
		rc = vec_take_x509(vec, x);
	}
	return rc;
}

static bool looks_pem(const unsigned char *d, size_t len)
{
	return memmem(d, len, "-----BEGIN ", 11) != NULL;
}

/* Certificates (and PKCS#7 bundles) of PEM text; other blocks are skipped. */
static int certs_from_pem(const unsigned char *data, size_t len, struct cert_vec *vec)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	int rc = 0;

	if (!b)
		abort();
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *der = NULL;
		long dlen = 0;
		const unsigned char *p;

		if (!PEM_read_bio(b, &name, &header, &der, &dlen))
			break;
		p = der;
		if (!strcmp(name, "CERTIFICATE") || !strcmp(name, "X509 CERTIFICATE")) {
			X509 *x = d2i_X509(NULL, &p, dlen);
			rc = x ? vec_take_x509(vec, x) : 0;
		} else if (!strcmp(name, "TRUSTED CERTIFICATE")) {
			X509 *x = d2i_X509_AUX(NULL, &p, dlen);
			rc = x ? vec_take_x509(vec, x) : 0;
		} else if (!strcmp(name, "PKCS7")) {
			PKCS7 *p7 = d2i_PKCS7(NULL, &p, dlen);
			rc = vec_take_pkcs7(vec, p7);
			PKCS7_free(p7);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		if (rc)
			break;
	}
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

static int certs_from_der(const unsigned char *data, size_t len, struct cert_vec *vec, const char **format)
{
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	PKCS7 *p7;
	int rc;

	if (x && p == data + len) {
		*format = "DER";
		return vec_take_x509(vec, x);
	}
	X509_free(x);
	p = data;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	*format = "PKCS#7";
	rc = vec_take_pkcs7(vec, p7);
	PKCS7_free(p7);
	ERR_clear_error();
	return rc;
}

int apf_certs_from_data(const unsigned char *data, size_t len, struct apf_cert ***out, size_t *n_out)
{
	struct cert_vec vec = {0};
	const char *fmt = NULL;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (!data || len == 0 || len > APF_PKI_MAX_FILE || len > INT32_MAX)
		return len ? -E2BIG : -EBADMSG;
	rc = looks_pem(data, len) ? certs_from_pem(data, len, &vec) : certs_from_der(data, len, &vec, &fmt);
	if (!rc && vec.n == 0)
		rc = -EBADMSG;
	if (rc) {
		apf_certs_free(vec.v, vec.n);
		return rc;
	}
	*out = vec.v;
	*n_out = vec.n;
	return 0;
}

int apf_certs_from_file(const char *path, struct apf_cert ***out, size_t *n_out, char **err_out)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	if (err_out)
		*err_out = NULL;
	*out = NULL;
	*n_out = 0;
	rc = apf_read_file(path, APF_PKI_MAX_FILE, &data, &len);
	if (rc) {
		if (err_out)
			*err_out = apf_xasprintf("cannot read %s: %s", path, apf_file_strerror(rc, APF_PKI_MAX_FILE));
		return rc;
	}
	rc = apf_certs_from_data(data, len, out, n_out);
	if (rc && err_out)
		*err_out = apf_xasprintf("%s holds no certificate (PEM, DER or PKCS#7)%s", path,
					 rc == -E2BIG ? ": too many certificates" : "");
	free(data);
	return rc;
}

/* ---- PKCS#12 ------------------------------------------------------------- */

/* Nesting of SafeContents inside SafeContents bags: real exports use none. */
#define PFX_MAX_NESTING 4

/* A key-derivation count read from the file: a negative value is one that did
 * not fit in 64 bits. */
static int64_t asn1_count(const ASN1_INTEGER *i)
{
	int64_t v = -1;

	if (!i || !ASN1_INTEGER_get_int64(&v, i) || v < 0)
		return -1;
	return v;
}

/* The one cap on every key-derivation count in a PFX (MAC, each PBE). */
static int pfx_count_ok(int64_t iter, char **err)
{
	if (iter >= 0 && iter <= PFX_MAX_ITER)
		return 0;
	if (iter < 0)
		*err = apf_xasprintf("the PFX asks for more than %d key-derivation iterations", PFX_MAX_ITER);
	else
		*err = apf_xasprintf("the PFX asks for %lld key-derivation iterations (over %d)", (long long)iter,
				     PFX_MAX_ITER);
	return -EBADMSG;
}

/*
 * The key-derivation cost a password-based encryption asks for, read from its
 * parameters alone: the iteration count of a PKCS#12 PBE (PBEParameter, RFC
 * 7292 appendix C) or of PBES2's PBKDF2 (RFC 8018 A.2), or scrypt's N*r*p
 * (RFC 7914 section 7.1). -1 when it does not fit, -2 for malformed
 * parameters, 0 for a KDF OpenSSL would not run (decryption fails on its own).
 */
static int64_t pbe_cost(const X509_ALGOR *alg)
{
	int64_t cost = -2;
	PBEPARAM *pbe = NULL;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	SCRYPT_PARAMS *sc = NULL;

	if (!alg->parameter || alg->parameter->type != V_ASN1_SEQUENCE)
		goto out;
	if (OBJ_obj2nid(alg->algorithm) != NID_pbes2) {
		pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
		if (pbe)
			cost = asn1_count(pbe->iter);
		goto out;
	}
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
	if (!pbe2 || !pbe2->keyfunc || !pbe2->keyfunc->parameter)
		goto out;
	switch (OBJ_obj2nid(pbe2->keyfunc->algorithm)) {
	case NID_id_pbkdf2:
		kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
		if (kdf)
			cost = asn1_count(kdf->iter);
		break;
	case NID_id_scrypt:
		sc = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter);
		if (sc) {
			int64_t n = asn1_count(sc->costParameter), r = asn1_count(sc->blockSize),
				p = asn1_count(sc->parallelizationParameter);
			/* N*r*p block mixes, compared like iterations; each factor capped first
			 * so the product cannot overflow. */
			cost = n < 0 || r < 0 || p < 0 || n > PFX_MAX_ITER || r > 64 || p > 64 ? -1 : n * r * p;
		}
		break;
	default:
		cost = 0;
	}
out:
	PBEPARAM_free(pbe);
	PBE2PARAM_free(pbe2);
	PBKDF2PARAM_free(kdf);
	SCRYPT_PARAMS_free(sc);
	return cost;
}

/* Refuses an encryption whose key derivation would burn the check's time,
 * before anything is decrypted. */
static int pbe_cost_ok(const X509_ALGOR *alg, char **err)
{
	int64_t cost = pbe_cost(alg);

	if (cost == -2) {
		*err = apf_xstrdup("the PFX has a malformed encryption algorithm");
		return -EBADMSG;
	}
	return pfx_count_ok(cost, err);
}

/* What a walk over the PFX's safes collects, and how it decrypts. */
struct pfx_walk {
	const char *pass;
	struct cert_vec *vec;
	EVP_PKEY *key;       /* the first private key */
	bool decrypt_failed; /* a decryption failed (wrong password, or unsupported) */
	bool legacy;         /* an encrypted part uses a pre-PBES2 algorithm (`-legacy`, older Windows) */
	char **err;
};

static int pfx_take_key(struct pfx_walk *w, const PKCS8_PRIV_KEY_INFO *p8)
{
	EVP_PKEY *k;

	if (w->key)
		return 0; /* the leaf is picked by matching the first key */
	k = p8 ? EVP_PKCS82PKEY(p8) : NULL;
	if (!k) {
		*w->err = apf_xstrdup("the PFX holds a private key that cannot be decoded");
		return -EBADMSG;
	}
	w->key = k;
	return 0;
}

static int pfx_walk_bags(const STACK_OF(PKCS12_SAFEBAG) *bags, struct pfx_walk *w, int depth)
{
	int rc = 0;

	if (depth > PFX_MAX_NESTING) {
		*w->err = apf_xstrdup("the PFX nests its contents too deep");
		return -EBADMSG;
	}
	for (int i = 0; !rc && i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);

		switch (PKCS12_SAFEBAG_get_nid(bag)) {
		case NID_keyBag:
			rc = pfx_take_key(w, PKCS12_SAFEBAG_get0_p8inf(bag));
			break;
		case NID_pkcs8ShroudedKeyBag: {
			const X509_ALGOR *alg = NULL;
			PKCS8_PRIV_KEY_INFO *p8;

			if (w->key)
				break;
			X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
			if (!alg) {
				*w->err = apf_xstrdup("the PFX has a malformed key bag");
				rc = -EBADMSG;
				break;
			}
			rc = pbe_cost_ok(alg, w->err);
			if (rc)
				break;
			p8 = PKCS12_decrypt_skey(bag, w->pass, -1);
			if (!p8) {
				w->decrypt_failed = true;
				rc = -EKEYREJECTED;
				break;
			}
			rc = pfx_take_key(w, p8);
			PKCS8_PRIV_KEY_INFO_free(p8);
			break;
		}
		case NID_certBag:
			if (PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
				X509 *x = PKCS12_SAFEBAG_get1_cert(bag);
				if (!x) {
					*w->err = apf_xstrdup("the PFX holds a certificate that cannot be decoded");
					rc = -EBADMSG;
				} else {
					rc = vec_take_x509(w->vec, x);
				}
			}
			break;
		case NID_safeContentsBag:
			rc = pfx_walk_bags(PKCS12_SAFEBAG_get0_safes(bag), w, depth + 1);
			break;
		default:
			break; /* CRL and secret bags: nothing the checks use */
		}
	}
	return rc;
}

/*
 * Reads the certificates and the first private key out of the PFX's safes
 * (RFC 7292 section 4.1): plain ones directly, encrypted ones with the
 * password after their key derivation's cost was checked. Used instead of
 * PKCS12_parse(), which checks no iteration count and, given a password,
 * insists on a MAC that some exports do not have.
 */
static int pfx_walk(PKCS12 *p12, struct pfx_walk *w)
{
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
	int rc = 0;

	if (!safes) {
		*w->err = ssl_err_text("cannot decode the PFX");
		return -EBADMSG;
	}
	for (int i = 0; !rc && i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags = NULL;

		if (PKCS7_type_is_data(p7)) {
			bags = PKCS12_unpack_p7data(p7);
		} else if (PKCS7_type_is_encrypted(p7)) {
			if (!p7->d.encrypted || !p7->d.encrypted->enc_data || !p7->d.encrypted->enc_data->algorithm) {
				*w->err = apf_xstrdup("the PFX has a malformed encrypted part");
				rc = -EBADMSG;
				break;
			}
			if (OBJ_obj2nid(p7->d.encrypted->enc_data->algorithm->algorithm) != NID_pbes2)
				w->legacy = true;
			rc = pbe_cost_ok(p7->d.encrypted->enc_data->algorithm, w->err);
			if (rc)
				break;
			bags = PKCS12_unpack_p7encdata(p7, w->pass, -1);
			if (!bags) {
				w->decrypt_failed = true;
				rc = -EKEYREJECTED;
				break;
			}
		} else {
			continue; /* enveloped (public-key) privacy mode: not used by Windows or OpenSSL exports */
		}
		if (!bags) {
			*w->err = ssl_err_text("cannot decode the PFX");
			rc = -EBADMSG;
			break;
		}
		rc = pfx_walk_bags(bags, w, 0);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return rc;
}

static int load_pfx(PKCS12 *p12, const char *password, struct apf_pki_bundle *b, struct cert_vec *vec, char **err)
{
	const ASN1_INTEGER *iter = NULL;
	struct pfx_walk w = {.pass = password ? password : "", .vec = vec, .err = err};
	bool mac = PKCS12_mac_present(p12);
	int rc;

	b->format = "PKCS#12";
	if (mac) {
		PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
		/* An absent count means 1 (RFC 7292 appendix A). */
		if (iter && pfx_count_ok(asn1_count(iter), err))
			return -EBADMSG;
		/* Try the given password, and for no password both encodings of "empty". */
		if (!PKCS12_verify_mac(p12, w.pass, -1)) {
			if (password || !PKCS12_verify_mac(p12, NULL, 0)) {
				ERR_clear_error();
				*err = apf_xstrdup(password ? "the PFX password is wrong (MAC verification failed)"
							    : "the PFX needs a password and none was given");
				return -EKEYREJECTED;
			}
			w.pass = NULL;
		}
	}
	rc = pfx_walk(p12, &w);
	if (rc == -EKEYREJECTED && !mac && !password) {
		/* No MAC to tell which encoding of "no password" was used: try the other. */
		apf_certs_free(vec->v, vec->n);
		*vec = (struct cert_vec){0};
		EVP_PKEY_free(w.key);
		w = (struct pfx_walk){.pass = NULL, .vec = vec, .err = err};
		rc = pfx_walk(p12, &w);
	}
	b->legacy_pfx = w.legacy;
	if (rc == -EKEYREJECTED && w.decrypt_failed) {
		unsigned long e = ERR_peek_last_error();
		/* Without a MAC the password is only proven by decryption. */
		if (!mac && ERR_GET_REASON(e) != ERR_R_UNSUPPORTED) {
			*err = apf_xstrdup(password ? "the PFX (which has no MAC) could not be decrypted: wrong password?"
						    : "the PFX (which has no MAC) needs a password and none was given");
		} else {
			*err = ssl_err_text(b->legacy_pfx ? "cannot decrypt the PFX (legacy RC2/3DES encryption; is "
							    "OpenSSL's legacy provider installed?)"
							  : "cannot decrypt the PFX");
			rc = -EBADMSG;
		}
	}
	if (!rc && w.key) {
		b->native_key = w.key;
		b->has_key = true;
		w.key = NULL;
	}
	EVP_PKEY_free(w.key);
	ERR_clear_error();
	if (rc == -E2BIG && !*err)
		*err = apf_xstrdup("the PFX holds too many certificates");
	return rc;
}

/* Never prompts on a terminal: OpenSSL's default callback would. */
static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	(void)rwflag;
	if (!pw || size <= 0)
		return -1;
	n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

static EVP_PKEY *key_from_data(const unsigned char *data, size_t len, const char *password)
{
	EVP_PKEY *k = NULL;

	if (looks_pem(data, len)) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		if (!b)
			abort();
		k = PEM_read_bio_PrivateKey(b, NULL, pem_pass_cb, (void *)password);
		BIO_free(b);
	} else {
		const unsigned char *p = data;
		k = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	ERR_clear_error();
	return k;
}

static void bundle_pick_leaf(struct apf_pki_bundle *b)
{
	EVP_PKEY *k = b->native_key;

	b->leaf = 0;
	b->key_matches = false;
	for (size_t i = 0; k && i < b->n; i++) {
		if (X509_check_private_key(b->certs[i]->native, k) == 1) {
			b->leaf = i;
			b->key_matches = true;
			ERR_clear_error();
			return;
		}
	}
	ERR_clear_error();
	for (size_t i = 0; i < b->n; i++) {
		if (!b->certs[i]->is_ca) {
			b->leaf = i;
			return;
		}
	}
}

void apf_pki_bundle_free(struct apf_pki_bundle *b)
{
	if (!b)
		return;
	apf_certs_free(b->certs, b->n);
	EVP_PKEY_free(b->native_key);
	free(b);
}

int apf_pki_load_data(const unsigned char *data, size_t len, const char *password, struct apf_pki_bundle **out,
		      char **err_out)
{
	struct apf_pki_bundle *b = apf_xcalloc(1, sizeof(*b));
	struct cert_vec vec = {0};
	char *err = NULL;
	PKCS12 *p12 = NULL;
	int rc;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	apf_pki_init();
	if (!data || len == 0) {
		rc = -EBADMSG;
		err = apf_xstrdup("the file is empty");
		goto out;
	}
	if (len > APF_PKI_MAX_FILE || len > INT32_MAX) {
		rc = -E2BIG;
		err = apf_xstrdup("the file is larger than 4 MiB");
		goto out;
	}
	if (looks_pem(data, len)) {
		b->format = "PEM";
		rc = certs_from_pem(data, len, &vec);
		if (!rc) {
			/* A combined PEM (certificate + key) is common on Linux servers. */
			b->native_key = key_from_data(data, len, password);
			b->has_key = b->native_key != NULL;
		}
	} else {
		const unsigned char *p = data;
		p12 = d2i_PKCS12(NULL, &p, (long)len);
		if (p12 && p == data + len)
			rc = load_pfx(p12, password, b, &vec, &err);
		else
			rc = certs_from_der(data, len, &vec, &b->format);
	}
	if (!rc && vec.n == 0) {
		rc = -EBADMSG;
		if (!err)
			err = apf_xstrdup(p12 ? "the PFX holds no certificate"
					      : "not a certificate: neither PKCS#12, PEM, DER nor PKCS#7");
	}
	if (rc == -E2BIG && !err)
		err = apf_xasprintf("more than %d certificates", APF_PKI_MAX_CERTS);
	if (rc)
		goto out;
	b->certs = vec.v;
	b->n = vec.n;
	vec.v = NULL;
	vec.n = 0;
	bundle_pick_leaf(b);
	*out = b;
	b = NULL;
out:
	PKCS12_free(p12);
	apf_certs_free(vec.v, vec.n);
	apf_pki_bundle_free(b);
	ERR_clear_error();
	if (err_out)
		*err_out = err;
	else
		free(err);
	return rc;
}

int apf_pki_load_files(const char *cert_path, const char *key_path, const char *chain_path, const char *password,
		       struct apf_pki_bundle **out, char **err_out)
{
	struct apf_pki_bundle *b = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL;
	int rc;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	rc = apf_read_file(cert_path, APF_PKI_MAX_FILE, &data, &len);
	if (rc) {
		err = apf_xasprintf("cannot read %s: %s", cert_path, apf_file_strerror(rc, APF_PKI_MAX_FILE));
		goto out;
	}
	rc = apf_pki_load_data(data, len, password, &b, &err);
	if (rc) {
		char *e = apf_xasprintf("%s: %s", cert_path, err ? err : "unreadable");
		free(err);
		err = e;
		goto out;
	}
	if (key_path && *key_path) {
		EVP_PKEY *k;
		free(data);
		data = NULL;
		rc = apf_read_file(key_path, APF_PKI_MAX_FILE, &data, &len);
		if (rc) {
			err = apf_xasprintf("cannot read %s: %s", key_path, apf_file_strerror(rc, APF_PKI_MAX_FILE));
			goto out;
		}
		k = key_from_data(data, len, password);
		if (!k) {
			rc = -EKEYREJECTED;
			err = apf_xasprintf("%s: no private key could be read (not a key, or encrypted with "
					    "another password)", key_path);
			goto out;
		}
		EVP_PKEY_free(b->native_key);
		b->native_key = k;
		b->has_key = true;
	}
	if (chain_path && *chain_path) {
		struct apf_cert **extra = NULL;
		size_t n_extra = 0;
		rc = apf_certs_from_file(chain_path, &extra, &n_extra, &err);
		if (rc)
			goto out;
		if (b->n + n_extra > APF_PKI_MAX_CERTS) {
			apf_certs_free(extra, n_extra);
			rc = -E2BIG;
			err = apf_xasprintf("%s: too many certificates", chain_path);
			goto out;
		}
		b->certs = apf_xrealloc(b->certs, (b->n + n_extra) * sizeof(*b->certs));
		memcpy(b->certs + b->n, extra, n_extra * sizeof(*extra));
		b->n += n_extra;
		free(extra);
	}
	bundle_pick_leaf(b);
	*out = b;
	b = NULL;
out:
	if (data) {
		/* The file may hold an unencrypted key. */
		explicit_bzero(data, len);
		free(data);
	}
	apf_pki_bundle_free(b);
	if (err_out)
		*err_out = err;
	else
		free(err);
	return rc;
}

/* ---- chains ------------------------------------------------------------- */

static bool valid_at(const struct apf_cert *c, time_t now)
{
	return c->not_before <= now && now <= c->not_after;
}

void apf_chain_build(const struct apf_cert *leaf, struct apf_cert *const *pool, size_t n_pool, time_t now,
		     struct apf_chain *out)
{
	const struct apf_cert *cur = leaf;

	memset(out, 0, sizeof(*out));
	out->v = apf_xcalloc(CHAIN_MAX_DEPTH, sizeof(*out->v));
	out->v[out->n++] = leaf;
	while (out->n < CHAIN_MAX_DEPTH) {
		const struct apf_cert *best = NULL;
		if (cur->self_signed) {
			out->complete = true;
			break;
		}
		for (size_t i = 0; i < n_pool; i++) {
			const struct apf_cert *cand = pool[i];
			bool used = false;
			for (size_t j = 0; j < out->n; j++)
				used |= out->v[j] == cand || !strcmp(out->v[j]->sha256_hex, cand->sha256_hex);
			if (used || !apf_cert_issued_by(cur, cand))
				continue;
			if (!best || (!valid_at(best, now) && valid_at(cand, now)))
				best = cand;
		}
		if (!best)
			break;
		out->v[out->n++] = best;
		cur = best;
	}
}

void apf_chain_clear(struct apf_chain *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}
