/* SPDX-License-Identifier: MIT */
/* cert.intermediate-store against store exports from the generated test PKI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apf_test.h"
#include "test_cert_fixture.h"

#define ID "cert.intermediate-store"

static void expect_ev(const struct apf_finding *f, const char *key, const char *want)
{
	const char *got = apf_test_evidence(f, key);
	if (!got || strcmp(got, want))
		fail_msg("evidence %s: want \"%s\", got \"%s\"", key, want, got ? got : "(absent)");
}

static struct apf_run *run_store(const char *dir, const char *pfx)
{
	char *ini = pfx ? cert_fmt("[provisioning]\nintermediate_store = %s\ncertificate = %s\npassword_file = %s\n",
				   dir, pfx, cert_pki("pw.txt"))
			: cert_fmt("[provisioning]\nintermediate_store = %s\n", dir);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	free(ini);
	return run;
}

/* A valid and an expired issuing CA side by side: which one a builder picks decides. */
static void test_expired_twin_on_path(void **state)
{
	struct apf_run *run = run_store(cert_pki("store"), cert_pki("chain.pfx"));
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "STORE_EXPIRED_TWIN", APF_WARN);
	char *serial = cert_openssl(cert_pki("int-expired.pem"), "-serial");
	char *sha1 = cert_openssl(cert_pki("int-expired.pem"), "-fingerprint -sha1");
	char *twin = cert_openssl(cert_pki("int.pem"), "-serial");

	(void)state;
	expect_ev(f, "subject", "CN=APF Test Issuing CA,O=APF Test");
	expect_ev(f, "serial", serial);
	expect_ev(f, "sha1", sha1);
	expect_ev(f, "not_after", "2021-01-01T00:00:00Z");
	expect_ev(f, "issues", "chain[0] (leaf) CN=ProvisionServer.corp.example.com,O=APF Test");
	expect_ev(f, "valid_twin_serial", twin);
	assert_int_equal(r->status, APF_WARN);
	assert_null(apf_test_find(r, "STORE_EXPIRED_ON_PATH"));
	assert_non_null(strstr(f->remediation, "Intermediate Certification Authorities"));
	/* the unrelated expired CA came from a PKCS#7 file */
	expect_ev(apf_test_expect(r, "STORE_EXPIRED_UNUSED", APF_INFO), "subject", "CN=APF Old Unrelated CA,O=APF Test");
	expect_ev(apf_test_expect(r, "STORE_FILE_SKIPPED", APF_INFO), "files", "readme.txt");
	free(serial);
	free(sha1);
	free(twin);
	apf_run_free(run);
}

static void test_twin_without_chain(void **state)
{
	struct apf_run *run = run_store(cert_pki("store"), NULL);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	assert_null(apf_test_evidence(apf_test_expect(r, "STORE_EXPIRED_TWIN", APF_WARN), "issues"));
	apf_test_expect(r, "STORE_PATH_UNCHECKED", APF_INFO);
	expect_ev(apf_test_expect(r, "STORE_OK", APF_PASS), "expired", "2");
	assert_int_equal(r->status, APF_WARN);
	apf_run_free(run);
}

/* The field notes' server: a PFX exported without its chain, and only the expired
 * intermediate in the store. The chain can only be built through it. */
static void test_only_expired(void **state)
{
	struct apf_run *run = run_store(cert_pki("store-expired-only"), cert_pki("nochain.pfx"));
	const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), "STORE_EXPIRED_ON_PATH", APF_FAIL);

	(void)state;
	expect_ev(f, "chain_uses", "this expired certificate");
	expect_ev(f, "valid_twin", "none in the store: import the current intermediate");
	apf_run_free(run);
}

static void test_clean_store(void **state)
{
	char *dir = cert_fmt("%s", cert_pki("store-clean"));
	char *cmd = cert_fmt("mkdir -p '%s' && cp '%s' '%s/'", dir, cert_pki("int.pem"), dir);
	struct apf_run *run;
	const struct apf_check_result *r;

	(void)state;
	assert_int_equal(system(cmd), 0);
	run = run_store(dir, cert_pki("chain.pfx"));
	r = apf_test_result(run, ID);
	expect_ev(apf_test_expect(r, "STORE_OK", APF_PASS), "chain_length", "3");
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);
	free(cmd);
	free(dir);
}

static void test_empty_and_missing(void **state)
{
	char *dir = cert_fmt("%s", cert_pki("store-empty"));
	struct apf_run *run;

	(void)state;
	mkdir(dir, 0700);
	run = run_store(dir, NULL);
	apf_test_expect(apf_test_result(run, ID), "STORE_EMPTY", APF_WARN);
	apf_run_free(run);
	run = run_store(cert_pki("no-such-dir"), NULL);
	apf_test_expect(apf_test_result(run, ID), "STORE_UNREADABLE", APF_ERROR);
	apf_run_free(run);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expired_twin_on_path),
		cmocka_unit_test(test_twin_without_chain),
		cmocka_unit_test(test_only_expired),
		cmocka_unit_test(test_clean_store),
		cmocka_unit_test(test_empty_and_missing),
	};
	return cmocka_run_group_tests(tests, cert_fixture_setup, cert_fixture_teardown);
}
