/* SPDX-License-Identifier: MIT */
/* The certificate loader, device hash lists and `amt-preflight hash`, on the generated test PKI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apf_test.h"
#include "cmd_hash.h"
#include "pki.h"
#include "pki_roots.h"
#include "test_cert_fixture.h"
#include "util.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *d = NULL;
	assert_int_equal(apf_read_file(path, APF_PKI_MAX_FILE, &d, len), 0);
	return d;
}

static void test_formats(void **state)
{
	static const struct {
		const char *file, *format;
		size_t n;
		bool key, legacy;
	} cases[] = {
		{"chain.pfx", "PKCS#12", 3, true, false},  {"legacy.pfx", "PKCS#12", 3, true, true},
		{"nochain.pfx", "PKCS#12", 1, true, false}, {"chain.pem", "PEM", 2, false, false},
		{"root.der", "DER", 1, false, false},       {"store/old.p7b", "PKCS#7", 1, false, false},
		{"leaf.key", NULL, 0, false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apf_pki_bundle *b = NULL;
		char *err = NULL;
		size_t len;
		unsigned char *d = slurp(cert_pki(cases[i].file), &len);
		int rc = apf_pki_load_data(d, len, "test-pw", &b, &err);
		if (!cases[i].format) {
			/* a key alone is no certificate */
			assert_int_equal(rc, -EBADMSG);
			assert_non_null(err);
		} else {
			if (rc)
				fail_msg("%s: %s", cases[i].file, err);
			assert_string_equal(b->format, cases[i].format);
			assert_int_equal(b->n, cases[i].n);
			assert_int_equal(b->has_key, cases[i].key);
			assert_int_equal(b->key_matches, cases[i].key);
			assert_int_equal(b->legacy_pfx, cases[i].legacy);
		}
		apf_pki_bundle_free(b);
		free(err);
		free(d);
	}
}

static void test_passwords(void **state)
{
	struct apf_pki_bundle *b = NULL;
	char *err = NULL;
	size_t len;
	unsigned char *d = slurp(cert_pki("chain.pfx"), &len);

	(void)state;
	assert_int_equal(apf_pki_load_data(d, len, "wrong", &b, &err), -EKEYREJECTED);
	assert_null(b);
	assert_non_null(strstr(err, "wrong"));
	free(err);
	assert_int_equal(apf_pki_load_data(d, len, NULL, &b, &err), -EKEYREJECTED);
	assert_non_null(strstr(err, "needs a password"));
	free(err);
	free(d);
}

/* Truncations and bit flips of real files: an error code, never a crash. */
static void test_damaged(void **state)
{
	const char *files[] = {"chain.pfx", "legacy.pfx", "root.der", "chain.pem", "store/old.p7b"};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		unsigned char *d = slurp(cert_pki(files[i]), &len);
		for (size_t cut = 0; cut < len; cut += 1 + len / 40) {
			struct apf_pki_bundle *b = NULL;
			char *err = NULL;
			int rc = apf_pki_load_data(d, cut, "test-pw", &b, &err);
			/* a PEM cut after its first certificate is still valid data */
			assert_true(rc < 0 || (b && b->n >= 1));
			apf_pki_bundle_free(b);
			free(err);
		}
		for (size_t pos = 0; pos < len; pos += 1 + len / 25) {
			struct apf_pki_bundle *b = NULL;
			d[pos] ^= 0x5a;
			(void)apf_pki_load_data(d, len, "test-pw", &b, NULL);
			apf_pki_bundle_free(b);
			d[pos] ^= 0x5a;
		}
		free(d);
	}
}

static void test_chain_builder_prefers_valid(void **state)
{
	struct apf_cert **c = NULL, **tmp = NULL;
	size_t n = 0, k = 0;
	struct apf_chain ch;

	(void)state;
	/* pool order: leaf, expired twin first, then the valid one, then the root */
	assert_int_equal(apf_certs_from_file(cert_pki("leaf-oid.pem"), &c, &n, NULL), 0);
	const char *more[] = {"int-expired.pem", "int.pem", "root.pem"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(apf_certs_from_file(cert_pki(more[i]), &tmp, &k, NULL), 0);
		c = realloc(c, (n + k) * sizeof(*c));
		memcpy(c + n, tmp, k * sizeof(*tmp));
		n += k;
		free(tmp);
	}
	apf_chain_build(c[0], c, n, time(NULL), &ch);
	assert_true(ch.complete);
	assert_int_equal(ch.n, 3);
	assert_ptr_equal(ch.v[1], c[2]);
	assert_true(apf_cert_same_key(c[1], c[2]));
	assert_true(apf_cert_subject_eq(c[1], c[2]));
	apf_chain_clear(&ch);
	/* in 2020 only the twin that has expired since was valid: the builder takes it */
	apf_chain_build(c[0], c, n, 1600000000, &ch);
	assert_ptr_equal(ch.v[1], c[1]);
	apf_chain_clear(&ch);
	apf_certs_free(c, n);
}

static void test_model_fields(void **state)
{
	struct apf_cert **c = NULL;
	size_t n = 0;
	char *serial = cert_openssl(cert_pki("leaf-ou.pem"), "-serial");

	(void)state;
	assert_int_equal(apf_certs_from_file(cert_pki("leaf-ou.pem"), &c, &n, NULL), 0);
	assert_string_equal(c[0]->subject_cn, "ProvisionServer.corp.example.com");
	assert_int_equal(c[0]->subject_ou.n, 1);
	assert_string_equal(c[0]->subject_ou.v[0], "Intel(R) Client Setup Certificate");
	assert_string_equal(c[0]->serial_hex, serial);
	assert_string_equal(c[0]->key_type, "RSA");
	assert_int_equal(c[0]->key_bits, 2048);
	assert_string_equal(c[0]->sig_hash, "sha256");
	assert_false(c[0]->is_ca);
	assert_int_equal(c[0]->crl_dp.n, 1);
	assert_int_equal(c[0]->aia_ca_issuers.n, 1);
	assert_non_null(strstr(c[0]->aia_ca_issuers.v[0], "/int.der"));
	free(serial);
	apf_certs_free(c, n);
}

static void test_hash_normalize(void **state)
{
	char h[129];

	(void)state;
	assert_true(apf_hash_normalize("AA:bb-CC dd eeff00112233445566778899aabbccdd", h));
	assert_string_equal(h, "aabbccddeeff00112233445566778899aabbccdd");
	assert_false(apf_hash_normalize("xyz", h));
	assert_false(apf_hash_normalize("abcd", h));
}

static void test_cmd_hash(void **state)
{
	char *argv_ok[] = {"hash", (char *)cert_pki("root.der"), NULL};
	char *argv_bad[] = {"hash", (char *)cert_pki("no-such.pem"), NULL};
	char *argv_pfx[] = {"hash", (char *)cert_pki("chain.pfx"), NULL};
	char *argv_none[] = {"hash", NULL};

	(void)state;
	assert_int_equal(apf_cmd_hash(2, argv_ok), 0);
	assert_int_equal(apf_cmd_hash(2, argv_bad), 3);
	assert_int_equal(apf_cmd_hash(2, argv_pfx), 3); /* no password in the environment */
	setenv("AMT_PREFLIGHT_PFX_PASSWORD", "test-pw", 1);
	assert_int_equal(apf_cmd_hash(2, argv_pfx), 0);
	unsetenv("AMT_PREFLIGHT_PFX_PASSWORD");
	assert_int_equal(apf_cmd_hash(1, argv_none), 3);
}

/* Runs `hash FILE` with stdout captured; returns what it printed (caller frees). */
static char *hash_output(const char *file)
{
	char *argv[] = {"hash", (char *)file, NULL};
	char *out = NULL;
	size_t len = 0;
	FILE *tmp = tmpfile();
	int saved;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 1) >= 0);
	assert_int_equal(apf_cmd_hash(2, argv), 0);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	rewind(tmp);
	out = calloc(1, 65536);
	assert_non_null(out);
	len = fread(out, 1, 65535, tmp);
	out[len] = '\0';
	fclose(tmp);
	return out;
}

/* The exact forms for a fixed certificate (USERTrust RSA, a built-in AMT root). */
static void test_cmd_hash_forms(void **state)
{
	char *out = hash_output(apf_test_srcpath("fixtures/certs/usertrust-rsa.pem"));
	static const char *const want[] = {
		"SHA-256 e793c9b02fd8aa13e21c31228accb08119643b749c898964b1746d46c3d4cbd2",
		"E793C9B02FD8AA13E21C31228ACCB08119643B749C898964B1746D46C3D4CBD2",
		"E793-C9B0-2FD8-AA13-E21C-3122-8ACC-B081-1964-3B74-9C89-8964-B174-6D46-C3D4-CBD2 (MEBx)",
		"SHA-384 b1ab8368ba51aeca61214363ccbd3c8e67ed3b67be376d93f4ce44ba438c8e812b0e3de53804e6d7c4f4b37bd84ed650",
		"B1AB-8368-BA51-AECA-6121-4363-CCBD-3C8E-67ED-3B67-BE37-6D93-F4CE-44BA-438C-8E81-2B0E-3DE5-3804-E6D7-C4F4-"
		"B37B-D84E-D650 (MEBx)",
		"SHA-1   2b8f1b57330dbba2d07a6c51f70ee90ddab9ad8e",
		"2B8F-1B57-330D-BBA2-D07A-6C51-F70E-E90D-DAB9-AD8E (MEBx)",
		"built-in default root \"USERTrust RSA Certification Authority\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(out, want[i]))
			fail_msg("hash output lacks \"%s\":\n%s", want[i], out);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_chain_builder_prefers_valid),
		cmocka_unit_test(test_model_fields),
		cmocka_unit_test(test_hash_normalize),
		cmocka_unit_test(test_cmd_hash),
		cmocka_unit_test(test_cmd_hash_forms),
	};
	return cmocka_run_group_tests(tests, cert_fixture_setup, cert_fixture_teardown);
}
