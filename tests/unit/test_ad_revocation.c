/* SPDX-License-Identifier: MIT */
/*
 * CRL judgement (src/revocation.c, apf_rev_check_crl_data): certificates and
 * CRLs are made here with OpenSSL, so every state can be produced on demand.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apf_test.h"
#include "pki.h"
#include "revocation.h"

struct ca {
	EVP_PKEY *key;
	X509 *cert;
};

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

static X509 *make_cert(const char *cn, long serial, EVP_PKEY *subject_key, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, subject_key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static struct apf_cert *to_apf(X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	struct apf_cert *c = NULL;

	assert_true(len > 0);
	assert_int_equal(apf_cert_from_der(der, (size_t)len, &c), 0);
	OPENSSL_free(der);
	return c;
}

/* A DER CRL by `ca`, valid from now-1h to now+next_hours, listing `revoked_serial` (0 = none). */
static unsigned char *make_crl(struct ca *ca, long next_hours, long revoked_serial, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *der = NULL;
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next_hours * 3600);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked_serial) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();

		ASN1_INTEGER_set(s, revoked_serial);
		X509_REVOKED_set_serialNumber(r, s);
		X509_gmtime_adj(t, -1800);
		X509_REVOKED_set_revocationDate(r, t);
		ASN1_ENUMERATED_set(reason, 1); /* keyCompromise */
		X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
		ASN1_ENUMERATED_free(reason);
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, ca->key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return der;
}

struct fixture {
	struct ca ca, other;      /* `other` has the same name as `ca` but another key */
	EVP_PKEY *leaf_key;
	X509 *leaf;
	struct apf_cert *c_ca, *c_other, *c_leaf;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->ca.key = ec_key();
	fx->ca.cert = make_cert("Test Issuing CA", 1, fx->ca.key, NULL, fx->ca.key, true);
	fx->other.key = ec_key();
	fx->other.cert = make_cert("Test Issuing CA", 2, fx->other.key, NULL, fx->other.key, true);
	fx->leaf_key = ec_key();
	fx->leaf = make_cert("ProvisionServer.corp.example.test", 4660, fx->leaf_key, fx->ca.cert, fx->ca.key, false);
	fx->c_ca = to_apf(fx->ca.cert);
	fx->c_other = to_apf(fx->other.cert);
	fx->c_leaf = to_apf(fx->leaf);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	apf_cert_free(fx->c_ca);
	apf_cert_free(fx->c_other);
	apf_cert_free(fx->c_leaf);
	X509_free(fx->ca.cert);
	X509_free(fx->other.cert);
	X509_free(fx->leaf);
	EVP_PKEY_free(fx->ca.key);
	EVP_PKEY_free(fx->other.key);
	EVP_PKEY_free(fx->leaf_key);
	free(fx);
	return 0;
}

static void test_good(void **state)
{
	struct fixture *fx = *state;
	struct apf_rev_result r;
	size_t len;
	unsigned char *crl = make_crl(&fx->ca, 24 * 7, 99, &len);

	apf_rev_check_crl_data(crl, len, "http://192.0.2.1/x.crl", fx->c_leaf, fx->c_ca, &r);
	assert_int_equal(r.state, APF_REV_GOOD);
	assert_string_equal(r.url, "http://192.0.2.1/x.crl");
	assert_true(r.next_update > time(NULL) + 86400 * 6);
	assert_true(r.this_update < time(NULL));
	assert_string_equal(apf_rev_state_name(r.state), "good");
	apf_rev_result_clear(&r);
	OPENSSL_free(crl);
}

static void test_revoked(void **state)
{
	struct fixture *fx = *state;
	struct apf_rev_result r;
	size_t len;
	unsigned char *crl = make_crl(&fx->ca, 24, 4660, &len);

	apf_rev_check_crl_data(crl, len, "u", fx->c_leaf, fx->c_ca, &r);
	assert_int_equal(r.state, APF_REV_REVOKED);
	assert_string_equal(r.reason, "keyCompromise");
	assert_true(r.revoked_at > 0);
	apf_rev_result_clear(&r);
	OPENSSL_free(crl);
}

static void test_expired(void **state)
{
	struct fixture *fx = *state;
	struct apf_rev_result r;
	size_t len;
	unsigned char *crl = make_crl(&fx->ca, -1, 0, &len);

	apf_rev_check_crl_data(crl, len, "u", fx->c_leaf, fx->c_ca, &r);
	assert_int_equal(r.state, APF_REV_EXPIRED);
	assert_true(r.next_update < time(NULL));
	apf_rev_result_clear(&r);
	OPENSSL_free(crl);
}

static void test_wrong_key_is_invalid(void **state)
{
	struct fixture *fx = *state;
	struct apf_rev_result r;
	size_t len;
	/* same issuer name, signed by another key: a forged or stale-CA CRL */
	unsigned char *crl = make_crl(&fx->other, 24, 0, &len);

	apf_rev_check_crl_data(crl, len, "u", fx->c_leaf, fx->c_ca, &r);
	assert_int_equal(r.state, APF_REV_INVALID);
	assert_non_null(strstr(r.detail, "signature"));
	apf_rev_result_clear(&r);
	OPENSSL_free(crl);
}

static void test_garbage_and_no_issuer(void **state)
{
	struct fixture *fx = *state;
	struct apf_rev_result r;
	static const unsigned char html[] = "<html><script>alert(1)</script></html>";
	size_t len;
	unsigned char *crl;

	apf_rev_check_crl_data(html, sizeof(html) - 1, "u", fx->c_leaf, fx->c_ca, &r);
	assert_int_equal(r.state, APF_REV_INVALID);
	apf_rev_result_clear(&r);

	/* truncated DER must be refused, not read past its end */
	crl = make_crl(&fx->ca, 24, 0, &len);
	apf_rev_check_crl_data(crl, len / 2, "u", fx->c_leaf, fx->c_ca, &r);
	assert_int_equal(r.state, APF_REV_INVALID);
	apf_rev_result_clear(&r);

	apf_rev_check_crl_data(crl, len, "u", fx->c_leaf, NULL, &r);
	assert_int_equal(r.state, APF_REV_INVALID);
	apf_rev_result_clear(&r);
	OPENSSL_free(crl);
}

static void test_no_cdp_and_no_ocsp(void **state)
{
	struct fixture *fx = *state;
	struct apf_rev_result r;
	struct apf_fetch_opts fo = {.timeout_ms = 1000};

	/* the generated leaf names no CDP and no OCSP: nothing is fetched */
	apf_rev_check_crl(fx->c_leaf, fx->c_ca, &fo, &r);
	assert_int_equal(r.state, APF_REV_NONE);
	apf_rev_result_clear(&r);
	apf_rev_check_ocsp(fx->c_leaf, fx->c_ca, &fo, &r);
	assert_int_equal(r.state, APF_REV_NONE);
	apf_rev_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_wrong_key_is_invalid),
		cmocka_unit_test(test_garbage_and_no_issuer),
		cmocka_unit_test(test_no_cdp_and_no_ocsp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
