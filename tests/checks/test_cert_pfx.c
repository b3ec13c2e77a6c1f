/* SPDX-License-Identifier: MIT */
/*
 * PFX files built here with the OpenSSL API, for what `openssl pkcs12` cannot
 * make on its own: a key bag whose iteration count is absurd behind a valid MAC
 * (issue 13 item 4), and exports without a MAC (item 7). The iteration counts
 * are patched into the files' parameters after encryption, so building them
 * costs nothing; only a loader that runs the key derivation would pay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "apf_test.h"
#include "pki.h"
#include "runner.h"
#include "util.h"

#define PW "test-pw"
#define HUGE_ITER 2147483647L /* 2^31-1: about 20 s of PBKDF2 on the machine */

struct pfx_spec {
	const char *pass;   /* encrypts the key bag and the certificate safe */
	bool mac;           /* a MAC at 2048 iterations */
	long key_iter;      /* patched into the key bag's PBKDF2 (0: keep 2048) */
	long safe_iter;     /* patched into the certificate safe's PBKDF2 (0: keep 2048) */
	bool pkcs12_pbe;    /* the certificate safe uses the legacy PKCS#12 PBE (3DES) */
};

static X509 *self_signed(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"pfx.example.test", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

/* Sets the iteration count of a PBES2/PBKDF2 or PKCS#12 PBE algorithm in place. */
static void patch_iter(X509_ALGOR *alg, long iter)
{
	if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
		PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
		PBKDF2PARAM *kdf;
		assert_non_null(p2);
		kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter);
		assert_non_null(kdf);
		assert_true(ASN1_INTEGER_set_int64(kdf->iter, iter));
		assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf, &p2->keyfunc->parameter));
		assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), p2, &alg->parameter));
		PBKDF2PARAM_free(kdf);
		PBE2PARAM_free(p2);
	} else {
		PBEPARAM *pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
		assert_non_null(pbe);
		assert_true(ASN1_INTEGER_set_int64(pbe->iter, iter));
		assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBEPARAM), pbe, &alg->parameter));
		PBEPARAM_free(pbe);
	}
}

/* DER of a PFX made as `spec` says; caller frees. */
static unsigned char *make_pfx(const struct pfx_spec *spec, size_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x;
	STACK_OF(PKCS12_SAFEBAG) *kb = NULL, *cb = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12_SAFEBAG *bag;
	PKCS12 *p12;
	unsigned char *der = NULL;
	int n;

	assert_non_null(k);
	x = self_signed(k);
	assert_non_null(PKCS12_add_cert(&cb, x));
	bag = PKCS12_add_key(&kb, k, 0, 2048, NID_aes_256_cbc, spec->pass);
	assert_non_null(bag);
	if (spec->key_iter) {
		X509_ALGOR *alg = NULL;
		X509_SIG_getm((X509_SIG *)PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
		patch_iter(alg, spec->key_iter);
	}
	assert_non_null(PKCS12_add_safe(&safes, cb,
					spec->pkcs12_pbe ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc,
					2048, spec->pass));
	if (spec->safe_iter)
		patch_iter(sk_PKCS7_value(safes, 0)->d.encrypted->enc_data->algorithm, spec->safe_iter);
	assert_non_null(PKCS12_add_safe(&safes, kb, -1, 0, NULL));
	p12 = PKCS12_add_safes(safes, 0);
	assert_non_null(p12);
	if (spec->mac)
		assert_int_equal(PKCS12_set_mac(p12, spec->pass, -1, NULL, 0, 2048, NULL), 1);
	n = i2d_PKCS12(p12, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(kb, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(cb, PKCS12_SAFEBAG_free);
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

/* Loads `spec`'s PFX with `password`; returns the loader's code and how long it took. */
static int load(const struct pfx_spec *spec, const char *password, struct apf_pki_bundle **b, char **err,
		uint64_t *ms)
{
	size_t len;
	unsigned char *der = make_pfx(spec, &len);
	uint64_t t0 = apf_now_ms();
	int rc = apf_pki_load_data(der, len, password, b, err);

	*ms = apf_now_ms() - t0;
	OPENSSL_free(der);
	return rc;
}

/* Item 4: every key-derivation count is checked before anything is derived. */
static void test_iterations_capped_before_decryption(void **state)
{
	static const struct pfx_spec specs[] = {
		{.pass = PW, .mac = true, .key_iter = HUGE_ITER},            /* the file */
		{.pass = PW, .mac = true, .safe_iter = HUGE_ITER},
		{.pass = PW, .mac = true, .safe_iter = HUGE_ITER, .pkcs12_pbe = true},
		{.pass = PW, .mac = false, .key_iter = HUGE_ITER},
		{.pass = PW, .mac = true, .key_iter = 3000000},               /* just over the cap */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct apf_pki_bundle *b = NULL;
		char *err = NULL;
		uint64_t ms;
		int rc = load(&specs[i], PW, &b, &err, &ms);

		if (rc != -EBADMSG || !err || !strstr(err, "iterations"))
			fail_msg("case %zu: rc %d, err %s", i, rc, err ? err : "(none)");
		assert_null(b);
		assert_true(ms < 2000);
		free(err);
	}
	{
		/* Unpatched, the same construction loads. */
		struct pfx_spec ok = {.pass = PW, .mac = true};
		struct apf_pki_bundle *b = NULL;
		char *err = NULL;
		uint64_t ms;
		assert_int_equal(load(&ok, PW, &b, &err, &ms), 0);
		assert_true(b->has_key);
		assert_true(b->key_matches);
		apf_pki_bundle_free(b);
	}
}

/* Item 7: a PFX without a MAC that `openssl pkcs12 -nomacver` decrypts loads. */
static void test_macless_pfx(void **state)
{
	struct pfx_spec spec = {.pass = PW, .mac = false};
	struct apf_pki_bundle *b = NULL;
	char *err = NULL;
	uint64_t ms;

	(void)state;
	if (load(&spec, PW, &b, &err, &ms) != 0)
		fail_msg("MAC-less PFX not loaded: %s", err);
	assert_string_equal(b->format, "PKCS#12");
	assert_int_equal(b->n, 1);
	assert_true(b->has_key);
	assert_true(b->key_matches);
	apf_pki_bundle_free(b);
	b = NULL;

	/* The password is then only proven by decryption: a wrong one is still named. */
	assert_int_equal(load(&spec, "wrong", &b, &err, &ms), -EKEYREJECTED);
	assert_null(b);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(load(&spec, NULL, &b, &err, &ms), -EKEYREJECTED);
	free(err);
	err = NULL;

	/* No MAC and no password: both encodings of the empty password are tried. */
	spec.pass = "";
	if (load(&spec, NULL, &b, &err, &ms) != 0)
		fail_msg("MAC-less PFX with an empty password not loaded: %s", err);
	assert_true(b->key_matches);
	apf_pki_bundle_free(b);
	b = NULL;

	/* The legacy PKCS#12 PBE without a MAC too. */
	spec = (struct pfx_spec){.pass = PW, .mac = false, .pkcs12_pbe = true};
	if (load(&spec, PW, &b, &err, &ms) != 0)
		fail_msg("MAC-less legacy PFX not loaded: %s", err);
	assert_true(b->legacy_pfx);
	assert_true(b->key_matches);
	apf_pki_bundle_free(b);
}

/* Item 9: a FIFO named as the certificate or its password file is refused at
 * once: by the configuration when it is one already, and by the reader when it
 * became one after the configuration was read (an ERROR naming the file, not a
 * read that lasts until the check's deadline). */
static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_fifo_certificate_and_password(void **state)
{
	struct pfx_spec spec = {.pass = PW, .mac = true};
	const char *dir = apf_test_tmpdir();
	char pw[256], pfx[256], *ini, *err = NULL;
	size_t len;
	unsigned char *der = make_pfx(&spec, &len);

	(void)state;
	snprintf(pw, sizeof(pw), "%s/pw.txt", dir);
	snprintf(pfx, sizeof(pfx), "%s/cert.pfx", dir);
	write_file(pw, PW "\n", strlen(PW "\n"));
	if (asprintf(&ini, "[provisioning]\ncertificate = %s\npassword_file = %s\ncheck_revocation = no\n", pfx,
		     pw) < 0)
		abort();
	for (int i = 0; i < 2; i++) {
		const char *fifo = i ? pw : pfx;
		struct apf_config *cfg = NULL;
		const char *only[1] = {"cert.provisioning"};
		struct apf_run_opts o = {.only = only, .n_only = 1, .jobs = 1, .timeout_ms = 10000};
		struct apf_run *run = NULL;
		bool abandoned = false;
		const struct apf_finding *fd;
		uint64_t t0;

		/* Already a FIFO: the configuration names the line. */
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(apf_config_parse(ini, "t.conf", &cfg, &err), -EINVAL);
		assert_non_null(strstr(err, fifo));
		free(err);
		err = NULL;
		/* Became one after the configuration was read. */
		unlink(fifo);
		write_file(fifo, "x", 1);
		assert_int_equal(apf_config_parse(ini, "t.conf", &cfg, &err), 0);
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		o.cfg = cfg;
		t0 = apf_now_ms();
		assert_int_equal(apf_run_checks(&o, &run, &abandoned), 0);
		assert_true(apf_now_ms() - t0 < 3000);
		fd = apf_test_expect(apf_test_result(run, "cert.provisioning"), "CERT_FILE_UNREADABLE", APF_ERROR);
		if (!strstr(fd->message, fifo))
			fail_msg("round %d: %s", i, fd->message);
		apf_run_free(run);
		apf_config_free(cfg);
		/* The certificate back as a regular file for the password round. */
		unlink(fifo);
		write_file(pfx, der, len);
	}
	free(ini);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iterations_capped_before_decryption),
		cmocka_unit_test(test_macless_pfx),
		cmocka_unit_test(test_fifo_certificate_and_password),
	};

	apf_pki_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
