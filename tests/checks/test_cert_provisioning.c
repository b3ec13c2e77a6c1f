/* SPDX-License-Identifier: MIT */
/*
 * cert.provisioning against the generated test PKI (tests/checks/pki/mkpki.sh):
 * every seeded problem must be named by its code with the offending
 * certificate identified as openssl itself reports it, and the healthy chain
 * must get no FAIL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "pki.h"
#include "test_cert_fixture.h"

#define ID "cert.provisioning"

/* Runs the check on `file` of the served PKI, password from pw.txt, revocation off unless `rev`. */
static struct apf_run *run_pfx(const char *pfx, const char *extra, bool rev)
{
	char *ini = cert_fmt("[provisioning]\ncertificate = %s\npassword_file = %s\ncheck_revocation = %s\n%s",
			     pfx, cert_pki("pw.txt"), rev ? "yes" : "no", extra ? extra : "");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	free(ini);
	return run;
}

static void expect_ev(const struct apf_finding *f, const char *key, const char *want)
{
	const char *got = apf_test_evidence(f, key);
	if (!got || strcmp(got, want))
		fail_msg("evidence %s: want \"%s\", got \"%s\"", key, want, got ? got : "(absent)");
}

static void expect_ev_owned(const struct apf_finding *f, const char *key, char *want)
{
	expect_ev(f, key, want);
	free(want);
}

static void test_healthy(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = sales.example.com\n"
							    "generations = 12, 16\n",
				      true);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f;
	char *root256 = cert_openssl(cert_pki("root.pem"), "-fingerprint -sha256");

	(void)state;
	assert_false(cert_has_fail(r));
	assert_int_equal(r->status, APF_PASS);
	apf_test_expect(r, "CERT_KEY_OK", APF_PASS);
	f = apf_test_expect(r, "CERT_CHAIN_COMPLETE", APF_PASS);
	expect_ev(f, "chain_length", "3");
	expect_ev(f, "root_sha256", root256);
	expect_ev(f, "chain[2]", "CN=APF Test Root CA,O=APF Test");
	apf_test_expect(r, "CERT_VALIDITY_OK", APF_PASS);
	f = apf_test_expect(r, "CERT_EKU_OK", APF_PASS);
	expect_ev(f, "method", "oid");
	f = apf_test_expect(r, "CERT_DOMAIN_MATCH", APF_PASS);
	expect_ev(f, "suffix_rule", "firmware");
	apf_test_expect(r, "CERT_CRYPTO_OK", APF_PASS);
	/* SHA-256 / RSA 2048: what every source says firmware takes, nothing to add */
	assert_null(apf_test_find(r, "CERT_CRYPTO_NEWER"));
	f = apf_test_expect(r, "CERT_REVOCATION_OK", APF_PASS);
	expect_ev(f, "good", "1");
	assert_null(apf_test_find(r, "CERT_PFX_LEGACY"));
	free(root256);
	apf_run_free(run);
}

/* The field notes' failure: an expired intermediate in the PFX. */
static void test_expired_intermediate(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("expint.pfx"), NULL, false);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "CERT_CHAIN_EXPIRED", APF_FAIL);
	const char *pem = cert_pki("int-expired.pem");

	(void)state;
	assert_int_equal(r->status, APF_FAIL);
	expect_ev(f, "position", "chain[1] (intermediate)");
	expect_ev(f, "subject", "CN=APF Test Issuing CA,O=APF Test");
	expect_ev_owned(f, "serial", cert_openssl(pem, "-serial"));
	expect_ev_owned(f, "sha1", cert_openssl(pem, "-fingerprint -sha1"));
	expect_ev(f, "not_after", "2021-01-01T00:00:00Z");
	/* the chain itself is complete: the problem is the date, not a missing issuer */
	apf_test_expect(r, "CERT_CHAIN_COMPLETE", APF_PASS);
	assert_null(apf_test_find(r, "CERT_VALIDITY_OK"));
	apf_run_free(run);
}

static void test_nochain_names_issuer_and_aia(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("nochain.pfx"), NULL, false);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "CERT_CHAIN_INCOMPLETE", APF_FAIL);
	char *url = cert_fmt("%s", apf_test_evidence(f, "aia_ca_issuers"));

	(void)state;
	expect_ev(f, "missing_issuer", "CN=APF Test Issuing CA,O=APF Test");
	assert_non_null(strstr(url, "127.0.0.1"));
	assert_non_null(strstr(url, "/int.der"));
	expect_ev(f, "aia_fetch", "found the issuer");
	expect_ev_owned(f, "aia_sha1", cert_openssl(cert_pki("int.pem"), "-fingerprint -sha1"));
	assert_non_null(strstr(f->remediation, "/int.der"));
	free(url);
	apf_run_free(run);
}

static void test_nochain_aia_unreachable(void **state)
{
	struct apf_run *run = run_pfx(cert_pki_dead("nochain.pfx"), NULL, false);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "CERT_CHAIN_INCOMPLETE", APF_FAIL);
	const char *fetch = apf_test_evidence(f, "aia_fetch");

	(void)state;
	assert_non_null(fetch);
	assert_memory_equal(fetch, "failed", 6);
	apf_run_free(run);
}

static void test_legacy_pfx(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("legacy.pfx"), NULL, false);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	apf_test_expect(r, "CERT_PFX_LEGACY", APF_INFO);
	apf_test_expect(r, "CERT_KEY_OK", APF_PASS);
	apf_test_expect(r, "CERT_CHAIN_COMPLETE", APF_PASS);
	assert_false(cert_has_fail(r));
	apf_run_free(run);
}

static void test_wrong_password(void **state)
{
	char *ini = cert_fmt("[provisioning]\ncertificate = %s\npassword_file = %s\n", cert_pki("chain.pfx"),
			     cert_pki("badpw.txt"));
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "CERT_PFX_PASSWORD", APF_ERROR);

	(void)state;
	/* could not check: ERROR, never FAIL, and the password never shows */
	assert_int_equal(r->status, APF_ERROR);
	expect_ev(f, "password_source", "[provisioning] password_file");
	for (size_t i = 0; i < f->n_evidence; i++)
		assert_null(strstr(f->evidence[i].value, "wrong-pw"));
	assert_null(strstr(f->message, "wrong-pw"));
	apf_run_free(run);
	free(ini);

	/* no password at all */
	ini = cert_fmt("[provisioning]\ncertificate = %s\n", cert_pki("chain.pfx"));
	run = apf_test_run(ID, ini, 0);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_PFX_PASSWORD", APF_ERROR);
	expect_ev(f, "password_source", "none given");
	apf_run_free(run);
	free(ini);

	/* Issue 13 item 8: a password_file naming a missing file is that fault,
	 * named with the file and errno, not "no password given". */
	ini = cert_fmt("[provisioning]\ncertificate = %s\npassword_file = %s\n", cert_pki("chain.pfx"),
		       cert_pki("no-such-pw.txt"));
	run = apf_test_run(ID, ini, 0);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_FILE_UNREADABLE", APF_ERROR);
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_PFX_PASSWORD"));
	assert_non_null(strstr(f->message, "no-such-pw.txt"));
	assert_non_null(strstr(f->message, strerror(ENOENT)));
	apf_run_free(run);
	free(ini);

	/* the password from the environment */
	setenv("AMT_PREFLIGHT_PFX_PASSWORD", "test-pw", 1);
	ini = cert_fmt("[provisioning]\ncertificate = %s\ncheck_revocation = no\n", cert_pki("chain.pfx"));
	run = apf_test_run(ID, ini, 0);
	apf_test_expect(apf_test_result(run, ID), "CERT_KEY_OK", APF_PASS);
	unsetenv("AMT_PREFLIGHT_PFX_PASSWORD");
	apf_run_free(run);
	free(ini);
}

static void test_ou_and_eku(void **state)
{
	static const struct {
		const char *pfx, *code;
		enum apf_status st;
		const char *key, *value;
	} cases[] = {
		{"ou.pfx", "CERT_EKU_OK", APF_PASS, "method", "ou"},
		{"none.pfx", "CERT_EKU_MISSING", APF_FAIL, "eku", "1.3.6.1.5.5.7.3.1"},
		{"oucase.pfx", "CERT_OU_NEAR_MISS", APF_FAIL, "difference", "letter case"},
		{"ouperiod.pfx", "CERT_OU_NEAR_MISS", APF_FAIL, "difference", "trailing period"},
		{"oidonly.pfx", "CERT_EKU_NO_SERVER_AUTH", APF_FAIL, "eku", "2.16.840.1.113741.1.2.3"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apf_run *run = run_pfx(cert_pki(cases[i].pfx), NULL, false);
		const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), cases[i].code, cases[i].st);
		expect_ev(f, cases[i].key, cases[i].value);
		apf_run_free(run);
	}
	/* the near miss quotes the OU as found */
	struct apf_run *run = run_pfx(cert_pki("ouperiod.pfx"), NULL, false);
	expect_ev(apf_test_find(apf_test_result(run, ID), "CERT_OU_NEAR_MISS"), "ou",
		  "\"Intel(R) Client Setup Certificate.\"");
	apf_run_free(run);
}

static void test_weak_crypto(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("sha1.pfx"), "[amt]\ngenerations = 16\n", false);
	const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), "CERT_WEAK_SIGNATURE", APF_FAIL);

	(void)state;
	expect_ev(f, "position", "chain[0] (leaf)");
	expect_ev(f, "signature", "sha1WithRSAEncryption");
	expect_ev_owned(f, "sha1", cert_openssl(cert_pki("leaf-sha1.pem"), "-fingerprint -sha1"));
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_CRYPTO_OK"));
	apf_run_free(run);

	/* ME 15 H-series platforms already refuse SHA-1 (Intel 000090051): a FAIL naming the rule */
	run = run_pfx(cert_pki("sha1.pfx"), "[amt]\ngenerations = 12, 15\n", false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_WEAK_SIGNATURE", APF_FAIL);
	expect_ev(f, "rule_generation", "15");
	expect_ev(f, "rule_scope", "H-series");
	assert_non_null(strstr(apf_test_evidence(f, "rule_source"), "000090051"));
	apf_run_free(run);

	/* only firmware before 15 targeted: a warning, not a failure */
	run = run_pfx(cert_pki("sha1.pfx"), "[amt]\ngenerations = 11, 14\n", false);
	apf_test_expect(apf_test_result(run, ID), "CERT_WEAK_SIGNATURE", APF_WARN);
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_CRYPTO_OK"));
	apf_run_free(run);

	/* SHA-384 in the chain: sources disagree, an INFO, never a FAIL */
	run = run_pfx(cert_pki("sha384.pfx"), "[amt]\ngenerations = 16\n", false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_CRYPTO_NEWER", APF_INFO);
	expect_ev(f, "leaf_signature", "sha384WithRSAEncryption");
	apf_test_expect(apf_test_result(run, ID), "CERT_CRYPTO_OK", APF_PASS);
	assert_false(cert_has_fail(apf_test_result(run, ID)));
	apf_run_free(run);

	run = run_pfx(cert_pki("k1024.pfx"), NULL, false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_WEAK_KEY", APF_FAIL);
	expect_ev(f, "key", "RSA 1024");
	expect_ev_owned(f, "serial", cert_openssl(cert_pki("leaf-1024.pem"), "-serial"));
	apf_run_free(run);
}

static void test_long_chain(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("long.pfx"), NULL, false);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "CERT_CHAIN_TOO_LONG", APF_WARN);

	(void)state;
	expect_ev(f, "chain_length", "5");
	expect_ev(apf_test_expect(r, "CERT_CHAIN_COMPLETE", APF_PASS), "chain[2]", "CN=APF Test Sub CA 1,O=APF Test");
	assert_false(cert_has_fail(r));
	apf_run_free(run);
}

static void test_dates(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("expiring.pfx"), "[provisioning]\nwarn_days = 30\n", false);
	const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), "CERT_EXPIRING", APF_WARN);
	const char *days = apf_test_evidence(f, "days_left");

	(void)state;
	expect_ev(f, "position", "chain[0] (leaf)");
	assert_non_null(days);
	assert_true(atoi(days) == 9 || atoi(days) == 10);
	apf_run_free(run);

	/* a horizon shorter than the remaining days: no warning */
	run = run_pfx(cert_pki("expiring.pfx"), "[provisioning]\nwarn_days = 5\n", false);
	apf_test_expect(apf_test_result(run, ID), "CERT_VALIDITY_OK", APF_PASS);
	apf_run_free(run);

	run = run_pfx(cert_pki("notyet.pfx"), NULL, false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_NOT_YET_VALID", APF_FAIL);
	expect_ev_owned(f, "sha1", cert_openssl(cert_pki("leaf-notyet.pem"), "-fingerprint -sha1"));
	apf_run_free(run);
}

static void test_domain(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = corp.example.org\n", false);
	const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MISMATCH", APF_FAIL);

	(void)state;
	expect_ev(f, "cn", "ProvisionServer.corp.example.com");
	expect_ev(f, "amt_suffix", "corp.example.org");
	expect_ev(f, "suffix_source", "[amt] domain_suffixes");
	expect_ev(f, "suffix_rule", "firmware");
	apf_run_free(run);

	/* a .com name: only the last two labels count, another subdomain matches */
	run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = EU.Sales.Example.COM.\n", false);
	apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MATCH", APF_PASS);
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_DOMAIN_MISMATCH"));
	apf_run_free(run);

	/* co.uk is no .com: sharing "co.uk" with another company's suffix is no match */
	run = run_pfx(cert_pki("couk.pfx"), "[amt]\ndomain_suffixes = branch.other.co.uk\n", false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MISMATCH", APF_FAIL);
	expect_ev(f, "cn", "ps.corp.example.co.uk");
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_DOMAIN_MATCH"));
	apf_run_free(run);
	/* ... while the certificate's own domain matches */
	run = run_pfx(cert_pki("couk.pfx"), "[amt]\ndomain_suffixes = corp.example.co.uk.\n", false);
	apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MATCH", APF_PASS);
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_DOMAIN_MISMATCH"));
	apf_run_free(run);

	run = run_pfx(cert_pki("chain.pfx"), NULL, false);
	apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_UNKNOWN", APF_INFO);
	apf_run_free(run);

	/* a private root with a .local suffix: no "public certificate" warning */
	run = run_pfx(cert_pki("local.pfx"), "[amt]\ndomain_suffixes = corp.local\n", false);
	apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MATCH", APF_PASS);
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_DOMAIN_NONPUBLIC"));
	apf_run_free(run);
}

/* Writes an `rpc amtinfo --json` export of a device not yet activated to the
 * test directory; returns its path (caller frees). */
static char *amtinfo_file(const char *host, const char *version, const char *mode)
{
	char *p = cert_fmt("%s/%s.json", apf_test_tmpdir(), host);
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fprintf(fp, "{\"amt\":\"%s\",\"hostnameOS\":\"%s\",\"controlMode\":\"%s\"}", version, host, mode);
	fclose(fp);
	return p;
}

/* The AMT versions devices report drive the per-generation rules, united with
 * [amt] generations; evidence says where each generation came from. */
static void test_weak_crypto_device_generations(void **state)
{
	char *files[] = {amtinfo_file("pc-15", "15.0.45", "not activated"),
			 amtinfo_file("pc-11", "11.8.92", "not activated"),
			 amtinfo_file("pc-acm", "16.1.27", "admin control mode")};
	static const struct {
		const char *generations; /* an [amt] generations line, or "" */
		int a, b;                /* the files given (b < 0: one) */
		enum apf_status status;
		const char *gens, *from;
	} cases[] = {
		/* a 15.x device: ME 15 H-series refuses SHA-1, no [amt] generations needed */
		{"", 0, -1, APF_FAIL, "15", "15: devices pc-15"},
		/* only 11.x candidates (the activated 16.x device is none): a warning, no FAIL */
		{"", 1, 2, APF_WARN, "11", "11: devices pc-11"},
		/* the union: 15 names both of its sources */
		{"generations = 11, 15\n", 1, 0, APF_FAIL, "11, 15",
		 "11: [amt] generations and devices pc-11; 15: [amt] generations and devices pc-15"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *extra = cert_fmt("[amt]\n%sdevice_facts = %s%s%s\n", cases[i].generations, files[cases[i].a],
				       cases[i].b < 0 ? "" : ", ", cases[i].b < 0 ? "" : files[cases[i].b]);
		struct apf_run *run = run_pfx(cert_pki("sha1.pfx"), extra, false);
		const struct apf_finding *f =
			apf_test_expect(apf_test_result(run, ID), "CERT_WEAK_SIGNATURE", cases[i].status);

		expect_ev(f, "generations", cases[i].gens);
		expect_ev(f, "generations_from", cases[i].from);
		if (cases[i].status == APF_FAIL)
			expect_ev(f, "rule_generation", "15");
		else
			assert_false(cert_has_fail(apf_test_result(run, ID)));
		apf_run_free(run);
		free(extra);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		free(files[i]);
}

/* RPS looks the domain up by the device's exact suffix: a certificate for
 * corp.example.com does not serve devices in sales.corp.example.com, which the
 * firmware's .com rule alone accepts. Both directions. */
static void test_domain_rps_exact(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = sales.corp.example.com\n", false);
	const struct apf_finding *f;

	(void)state;
	f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MATCH", APF_PASS);
	expect_ev(f, "suffix_rule", "firmware");
	apf_run_free(run);

	run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = sales.corp.example.com\nactivation = rps\n", false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MISMATCH", APF_FAIL);
	expect_ev(f, "amt_suffix", "sales.corp.example.com");
	expect_ev(f, "suffix_rule", "exact");
	expect_ev(f, "profile", "rps");
	assert_null(apf_test_find(apf_test_result(run, ID), "CERT_DOMAIN_MATCH"));
	apf_run_free(run);

	/* the certificate's own domain satisfies both rules */
	run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = corp.example.com\nactivation = rps\n", false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MATCH", APF_PASS);
	expect_ev(f, "suffix_rule", "firmware, exact");
	apf_run_free(run);
}

/* MeshCentral cuts the CN to its registrable domain (.com: two labels) and
 * accepts a device whose trusted suffix lies below it; an unrelated domain is
 * refused under its rule, not only the firmware's. */
static void test_domain_meshcentral(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("chain.pfx"),
				      "[amt]\ndomain_suffixes = sales.corp.example.com\nactivation = meshcentral\n", false);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f;
	bool mesh_mismatch = false;

	(void)state;
	f = apf_test_expect(r, "CERT_DOMAIN_MATCH", APF_PASS);
	expect_ev(f, "suffix_rule", "firmware, meshcentral");
	assert_null(apf_test_find(r, "CERT_DOMAIN_MISMATCH"));
	apf_run_free(run);

	run = run_pfx(cert_pki("chain.pfx"), "[amt]\ndomain_suffixes = corp.example.net\nactivation = meshcentral\n",
		      false);
	r = apf_test_result(run, ID);
	for (size_t i = 0; i < r->n_findings; i++) {
		const char *rule = apf_test_evidence(r->findings[i], "suffix_rule");
		if (!strcmp(r->findings[i]->code, "CERT_DOMAIN_MISMATCH") && rule && !strcmp(rule, "meshcentral")) {
			assert_int_equal(r->findings[i]->status, APF_FAIL);
			expect_ev(r->findings[i], "amt_suffix", "corp.example.net");
			mesh_mismatch = true;
		}
	}
	assert_true(mesh_mismatch);
	assert_null(apf_test_find(r, "CERT_DOMAIN_MATCH"));
	apf_run_free(run);
}

/* The devices' own suffixes (rpc amtinfo --json) are compared too, naming the
 * devices; an activated device is not a candidate and is left out. */
static void test_domain_device_facts(void **state)
{
	const char *dir = apf_test_tmpdir();
	char *p1 = cert_fmt("%s/pc-1.json", dir), *p2 = cert_fmt("%s/pc-2.json", dir), *extra;
	FILE *fp = fopen(p1, "w");
	struct apf_run *run;
	const struct apf_finding *f;

	(void)state;
	assert_non_null(fp);
	fputs("{\"hostnameOS\":\"pc-1\",\"controlMode\":\"not activated\",\"dnsSuffix\":\"vpro.example.org\","
	      "\"dnsSuffixOS\":\"corp.example.com\"}", fp);
	fclose(fp);
	fp = fopen(p2, "w");
	assert_non_null(fp);
	fputs("{\"hostnameOS\":\"pc-2\",\"controlMode\":\"admin control mode\",\"dnsSuffixOS\":\"other.example.net\"}",
	      fp);
	fclose(fp);
	extra = cert_fmt("[amt]\ndevice_facts = %s\ndevice_facts = %s\n", p1, p2);
	run = run_pfx(cert_pki("chain.pfx"), extra, false);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MISMATCH", APF_FAIL);
	expect_ev(f, "amt_suffix", "vpro.example.org");
	expect_ev(f, "suffix_source", "device facts (MEBx/USB suffix)");
	expect_ev(f, "devices", "pc-1");
	for (size_t i = 0; i < apf_test_result(run, ID)->n_findings; i++) {
		const struct apf_finding *g = apf_test_result(run, ID)->findings[i];
		const char *sfx = apf_test_evidence(g, "amt_suffix");

		assert_false(sfx && !strcmp(sfx, "other.example.net")); /* pc-2 is in ACM */
	}
	apf_run_free(run);
	free(extra);
	free(p1);
	free(p2);
}

/* A publicly issued certificate (here: a built-in AMT root itself) with a .local suffix. */
static void test_domain_nonpublic(void **state)
{
	struct apf_cert **certs = NULL;
	size_t n = 0;
	const char *out = cert_pki("g2.der");
	FILE *fp;

	(void)state;
	assert_int_equal(apf_certs_from_file("/etc/ssl/certs/ca-certificates.crt", &certs, &n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(certs[i]->sha256_hex, "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f"))
			continue;
		fp = fopen(out, "wb");
		assert_non_null(fp);
		fwrite(certs[i]->der, 1, certs[i]->der_len, fp);
		fclose(fp);
	}
	apf_certs_free(certs, n);
	char *ini = cert_fmt("[provisioning]\ncertificate = %s\ncheck_revocation = no\n[amt]\n"
			     "domain_suffixes = corp.local\n",
			     out);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "CERT_DOMAIN_NONPUBLIC", APF_WARN);
	expect_ev(f, "amt_suffix", "corp.local");
	expect_ev(f, "root", "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US");
	/* and a lone certificate has no key */
	apf_test_expect(r, "CERT_KEY_MISSING", APF_FAIL);
	apf_run_free(run);
	free(ini);
}

static void test_pem_key_chain(void **state)
{
	char *ini = cert_fmt("[provisioning]\ncertificate = %s\nkey = %s\nchain = %s\ncheck_revocation = no\n",
			     cert_pki("leaf-oid.pem"), cert_pki("leaf.key"), cert_pki("chain.pem"));
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	apf_test_expect(r, "CERT_KEY_OK", APF_PASS);
	apf_test_expect(r, "CERT_CHAIN_COMPLETE", APF_PASS);
	assert_false(cert_has_fail(r));
	apf_run_free(run);
	free(ini);

	ini = cert_fmt("[provisioning]\ncertificate = %s\nkey = %s\nchain = %s\ncheck_revocation = no\n",
		       cert_pki("leaf-1024.pem"), cert_pki("leaf.key"), cert_pki("chain.pem"));
	run = apf_test_run(ID, ini, 0);
	apf_test_expect(apf_test_result(run, ID), "CERT_KEY_MISMATCH", APF_FAIL);
	apf_run_free(run);
	free(ini);

	ini = cert_fmt("[provisioning]\ncertificate = %s\nchain = %s\ncheck_revocation = no\n",
		       cert_pki("leaf-oid.pem"), cert_pki("chain.pem"));
	run = apf_test_run(ID, ini, 0);
	expect_ev(apf_test_expect(apf_test_result(run, ID), "CERT_KEY_MISSING", APF_FAIL), "format", "PEM");
	apf_run_free(run);
	free(ini);
}

static void test_revocation(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("revoked.pfx"), NULL, true);
	const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), "CERT_REVOKED", APF_FAIL);

	(void)state;
	expect_ev(f, "method", "CRL");
	expect_ev_owned(f, "serial", cert_openssl(cert_pki("leaf-revoked.pem"), "-serial"));
	apf_run_free(run);

	/* unreachable CDP: could not check, so ERROR with the URL (src/revocation.c's mapping), never FAIL or PASS */
	run = run_pfx(cert_pki_dead("chain.pfx"), NULL, true);
	const struct apf_check_result *r = apf_test_result(run, ID);
	f = apf_test_expect(r, "CERT_REVOCATION_UNREACHABLE", APF_ERROR);
	expect_ev(f, "url", "http://127.0.0.1:9/int.crl");
	assert_false(cert_has_fail(r));
	assert_null(apf_test_find(r, "CERT_REVOCATION_OK"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);

	/* a CRL past its nextUpdate: seen and broken, FAIL, as in ca.revocation (CA_CRL_EXPIRED) */
	assert_int_equal(rename(cert_pki("int.crl"), cert_pki("int-current.crl")), 0);
	assert_int_equal(rename(cert_pki("int-expired.crl"), cert_pki("int.crl")), 0);
	run = run_pfx(cert_pki("chain.pfx"), NULL, true);
	assert_int_equal(rename(cert_pki("int.crl"), cert_pki("int-expired.crl")), 0);
	assert_int_equal(rename(cert_pki("int-current.crl"), cert_pki("int.crl")), 0);
	f = apf_test_expect(apf_test_result(run, ID), "CERT_REVOCATION_UNUSABLE", APF_FAIL);
	expect_ev(f, "state", "expired");
	expect_ev(f, "method", "CRL");
	apf_run_free(run);

	run = run_pfx(cert_pki("chain.pfx"), NULL, false);
	expect_ev(apf_test_expect(apf_test_result(run, ID), "CERT_REVOCATION_NONE", APF_INFO), "check_revocation",
		  "no");
	apf_run_free(run);
}

static void test_bad_files(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("store/readme.txt"), NULL, false);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	apf_test_expect(r, "CERT_FILE_INVALID", APF_FAIL);
	apf_run_free(run);

	run = run_pfx(cert_pki("does-not-exist.pfx"), NULL, false);
	r = apf_test_result(run, ID);
	apf_test_expect(r, "CERT_FILE_UNREADABLE", APF_ERROR);
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
}

/* Hostile text in a subject is data: copied verbatim, escaped by the renderers. */
static void test_hostile_subject(void **state)
{
	struct apf_run *run = run_pfx(cert_pki("hostile.pfx"), "[amt]\ndomain_suffixes = example.com\n", false);
	const struct apf_finding *f = apf_test_expect(apf_test_result(run, ID), "CERT_DOMAIN_MATCH", APF_PASS);

	(void)state;
	expect_ev(f, "cn", "<script>alert(1)</script>.example.com");
	apf_run_free(run);
}

/* A missing [provisioning] certificate is a SKIP, never a PASS. */
static void test_unconfigured(void **state)
{
	struct apf_run *run = apf_test_run(ID, "[amt]\ngenerations = 16\n", 0);

	(void)state;
	assert_int_equal(apf_test_result(run, ID)->status, APF_SKIP);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_expired_intermediate),
		cmocka_unit_test(test_nochain_names_issuer_and_aia),
		cmocka_unit_test(test_nochain_aia_unreachable),
		cmocka_unit_test(test_legacy_pfx),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_ou_and_eku),
		cmocka_unit_test(test_weak_crypto),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_domain_nonpublic),
		cmocka_unit_test(test_domain_rps_exact),
		cmocka_unit_test(test_weak_crypto_device_generations),
		cmocka_unit_test(test_domain_meshcentral),
		cmocka_unit_test(test_domain_device_facts),
		cmocka_unit_test(test_pem_key_chain),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_hostile_subject),
		cmocka_unit_test(test_unconfigured),
	};
	return cmocka_run_group_tests(tests, cert_fixture_setup, cert_fixture_teardown);
}
