/* SPDX-License-Identifier: MIT */
/*
 * cert.amt-root-hash: the private test root against device lists, real public
 * roots from Debian's ca-certificates against the built-in table, and the
 * table itself recomputed from that bundle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "pki.h"
#include "pki_roots.h"
#include "test_cert_fixture.h"

#define ID "cert.amt-root-hash"
#define BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static struct apf_run *run_with(const char *pfx, const char *amt)
{
	char *ini = cert_fmt("[provisioning]\ncertificate = %s\npassword_file = %s\n[amt]\n%s", pfx,
			     cert_pki("pw.txt"), amt ? amt : "");
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

/* Writes the bundle certificate with this SHA-256 to a DER file; returns its path or NULL. */
static const char *public_root(const char *sha256, const char *name)
{
	struct apf_cert **certs = NULL;
	size_t n = 0;
	const char *out = NULL;

	assert_int_equal(apf_certs_from_file(BUNDLE, &certs, &n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(certs[i]->sha256_hex, sha256))
			continue;
		out = cert_pki(name);
		FILE *fp = fopen(out, "wb");
		assert_non_null(fp);
		fwrite(certs[i]->der, 1, certs[i]->der_len, fp);
		fclose(fp);
	}
	apf_certs_free(certs, n);
	return out;
}

static void test_private_root_no_lists(void **state)
{
	struct apf_run *run = run_with(cert_pki("chain.pfx"), NULL);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "ROOT_PRIVATE", APF_WARN);
	char *root256 = cert_openssl(cert_pki("root.pem"), "-fingerprint -sha256");

	(void)state;
	expect_ev(f, "root_sha256", root256);
	expect_ev(f, "add_to_devices_sha256", root256);
	expect_ev(f, "root_subject", "CN=APF Test Root CA,O=APF Test");
	assert_int_equal(r->status, APF_WARN);
	free(root256);
	apf_run_free(run);
}

static void test_private_root_on_devices(void **state)
{
	char *amt = cert_fmt("device_hashes = %s\ndevice_hashes = %s\n", cert_pki("device-ok.json"), cert_pki("device-ok.txt"));
	struct apf_run *run = run_with(cert_pki("chain.pfx"), amt);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "ROOT_ON_DEVICES", APF_PASS);

	(void)state;
	expect_ev(f, "accepted_by", "device-ok and pc-with-root");
	expect_ev(f, "count", "2");
	expect_ev(f, "matched_by", "SHA256");
	apf_test_expect(r, "ROOT_PRIVATE", APF_INFO);
	assert_int_equal(r->status, APF_INFO);
	apf_run_free(run);
	free(amt);
}

static void test_root_missing_on_device(void **state)
{
	char *amt = cert_fmt("device_hashes = %s\ndevice_hashes = %s\n", cert_pki("device-ok.json"), cert_pki("device-missing.json"));
	struct apf_run *run = run_with(cert_pki("chain.pfx"), amt);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "ROOT_NOT_ON_DEVICE", APF_FAIL);

	(void)state;
	expect_ev(f, "devices", "pc-without-root");
	expect_ev(f, "count", "1");
	assert_null(apf_test_find(r, "ROOT_ON_DEVICES"));
	apf_run_free(run);
	free(amt);
}

/* Writes `text` to dir/name; returns the path (caller frees). */
static char *tmp_file(const char *dir, const char *name, const char *text)
{
	char *p = cert_fmt("%s/%s", dir, name);
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

/* Newer platforms list roots by SHA-384: a list holding only the root's SHA-384
 * (computed here with openssl, not taken from the code under test) is a match,
 * in a hash list and in rpc amtinfo JSON. It used to be ROOT_NOT_ON_DEVICE. */
static void test_sha384_device_list(void **state)
{
	char *root384 = cert_openssl(cert_pki("root.pem"), "-fingerprint -sha384");
	char *text = cert_fmt("%s APF Test Root\n", root384);
	char *json = cert_fmt("{\"amt\":\"19.0.5\",\"hostnameOS\":\"pc-19\",\"controlMode\":\"not activated\","
			      "\"certificateHashes\":{\"APF\":{\"Hash\":\"%s\",\"Name\":\"APF\",\"Algorithm\":"
			      "\"SHA384\",\"IsActive\":true,\"IsDefault\":false}}}",
			      root384);
	char *dir = cert_fmt("%s", apf_test_tmpdir());
	char *p18 = tmp_file(dir, "pc-18.txt", text), *p19 = tmp_file(dir, "pc-19.json", json);
	char *amt = cert_fmt("device_facts = %s\ndevice_facts = %s\n", p18, p19);
	struct apf_run *run = run_with(cert_pki("chain.pfx"), amt);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "ROOT_ON_DEVICES", APF_PASS);

	(void)state;
	assert_int_equal(strlen(root384), 96);
	expect_ev(f, "accepted_by", "pc-18 and pc-19");
	expect_ev(f, "matched_by", "SHA384");
	expect_ev(f, "root_sha384", root384);
	assert_null(apf_test_find(r, "ROOT_NOT_ON_DEVICE"));
	apf_run_free(run);
	free(amt);
	free(p18);
	free(p19);
	free(dir);
	free(json);
	free(text);
	free(root384);
}

/* A fleet (a directory of exports): the devices lacking the root are named, the
 * first three then a count; an already activated device lacking it is counted,
 * not failed. */
static void test_fleet_names_and_activated(void **state)
{
	static const char *const lacking[] = {"pc-a", "pc-b", "pc-c", "pc-d", "pc-e"};
	const char *other = "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f\n";
	char *dir = cert_fmt("%s", apf_test_tmpdir()), *amt;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	for (size_t i = 0; i < sizeof(lacking) / sizeof(lacking[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s.txt", lacking[i]);
		free(tmp_file(dir, name, other));
	}
	free(tmp_file(dir, "pc-acm.json", "{\"hostnameOS\":\"pc-acm\",\"controlMode\":\"admin control mode\","
				      "\"certificateHashes\":[\"cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f\"]}"));
	amt = cert_fmt("device_facts = %s\n", dir);
	run = run_with(cert_pki("chain.pfx"), amt);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "ROOT_NOT_ON_DEVICE", APF_FAIL);
	expect_ev(f, "devices", "pc-a, pc-b, pc-c and 2 more");
	expect_ev(f, "count", "5");
	expect_ev(f, "already_activated_not_judged", "1");
	apf_run_free(run);
	free(amt);
	free(dir);
}

static void test_unreadable_list(void **state)
{
	char *amt = cert_fmt("device_hashes = %s\n", cert_pki("store/readme.txt"));
	struct apf_run *run = run_with(cert_pki("chain.pfx"), amt);

	(void)state;
	apf_test_expect(apf_test_result(run, ID), "ROOT_DEVICE_LIST_UNREADABLE", APF_ERROR);
	apf_run_free(run);
	free(amt);

	/* Issue 13 item 8: a list that cannot be opened is named with its cause, and
	 * the private-root finding does not claim that no list was supplied. */
	amt = cert_fmt("device_hashes = %s\n", cert_pki("no-such-device.json"));
	run = run_with(cert_pki("chain.pfx"), amt);
	{
		const struct apf_check_result *r = apf_test_result(run, ID);
		const struct apf_finding *f = apf_test_expect(r, "ROOT_DEVICE_LIST_UNREADABLE", APF_ERROR);
		assert_non_null(strstr(f->message, "no-such-device.json"));
		assert_non_null(strstr(f->message, strerror(ENOENT)));
		f = apf_test_expect(r, "ROOT_PRIVATE", APF_WARN);
		assert_string_equal(apf_test_evidence(f, "device_lists"), "none readable");
	}
	apf_run_free(run);
	free(amt);
}

static void test_incomplete_chain(void **state)
{
	struct apf_run *run = run_with(cert_pki("nochain.pfx"), NULL);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "ROOT_CHAIN_UNAVAILABLE", APF_ERROR);

	(void)state;
	expect_ev(f, "missing_issuer", "CN=APF Test Issuing CA,O=APF Test");
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
}

/* Real public roots: a built-in one, an expired SHA-1 one, one outside a generation. */
static void test_public_roots(void **state)
{
	const char *g2 = public_root("cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f", "pub-g2.der");
	const char *balt = public_root("16af57a9f676b0ab126095aa5ebadef22ab31119d644ac95cd4b93dbf3f26aeb", "pub-balt.der");
	const char *gd2 = public_root("45140b3247eb9cc8c5b4f0d7b53091f73292089e6e5a63e2749dd3aca9198eda", "pub-gd2.der");
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	if (!g2 || !gd2)
		skip();
	run = run_with(g2, "generations = 16\n");
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "ROOT_HASH_DEFAULT", APF_PASS);
	expect_ev(f, "amt_name", "DigiCert Global Root G2");
	expect_ev(f, "root_sha1", "df3c24f9bfd666761b268073fe06d1cc8d4f82a4");
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);

	/* Go Daddy G2 is in the default lists from 11 on, not in 10's */
	run = run_with(gd2, "generations = 10, 16\n");
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "ROOT_NOT_IN_GENERATION", APF_WARN);
	expect_ev(f, "generation", "10");
	expect_ev(f, "default_in_generations", "11-");
	apf_run_free(run);


	if (balt) { /* expired 2025-05-12, SHA-1 self-signed */
		run = run_with(balt, "generations = 16\n");
		r = apf_test_result(run, ID);
		expect_ev(apf_test_expect(r, "ROOT_EXPIRED", APF_FAIL), "table_expiry", "2025-05-12");
		expect_ev(apf_test_expect(r, "ROOT_SHA1_SIGNED", APF_FAIL), "signature", "sha1WithRSAEncryption");
		apf_run_free(run);
		run = run_with(balt, "generations = 11\n");
		apf_test_expect(apf_test_result(run, ID), "ROOT_SHA1_SIGNED", APF_WARN);
		apf_run_free(run);
		/* ME 15 (H-series) already refuses a SHA-1 root */
		run = run_with(balt, "generations = 15\n");
		f = apf_test_expect(apf_test_result(run, ID), "ROOT_SHA1_SIGNED", APF_FAIL);
		expect_ev(f, "rule_generation", "15");
		expect_ev(f, "rule_scope", "H-series");
		apf_run_free(run);
	}
}

/* A device reporting AMT 10 makes 10 a target without [amt] generations: Go
 * Daddy G2 is in the default lists from 11 on. An 11.x device alone is fine. */
static void test_device_generations(void **state)
{
	const char *gd2 = public_root("45140b3247eb9cc8c5b4f0d7b53091f73292089e6e5a63e2749dd3aca9198eda", "pub-gd2.der");
	char *dir = cert_fmt("%s", apf_test_tmpdir()), *root, *p10, *p11, *amt;
	struct apf_run *run;
	const struct apf_finding *f;

	(void)state;
	if (!gd2)
		skip();
	root = cert_fmt("%s", gd2); /* cert_pki's buffers are reused */
	p10 = tmp_file(dir, "pc-10.json", "{\"amt\":\"10.0.55\",\"hostnameOS\":\"pc-10\",\"controlMode\":\"not activated\"}");
	p11 = tmp_file(dir, "pc-11.json", "{\"amt\":\"11.8.92\",\"hostnameOS\":\"pc-11\",\"controlMode\":\"not activated\"}");
	amt = cert_fmt("device_facts = %s\ndevice_facts = %s\n", p10, p11);
	run = run_with(root, amt);
	f = apf_test_expect(apf_test_result(run, ID), "ROOT_NOT_IN_GENERATION", APF_WARN);
	expect_ev(f, "generation", "10");
	expect_ev(f, "generations_from", "10: devices pc-10; 11: devices pc-11");
	apf_run_free(run);
	free(amt);
	amt = cert_fmt("device_facts = %s\n", p11);
	run = run_with(root, amt);
	apf_test_expect(apf_test_result(run, ID), "ROOT_HASH_DEFAULT", APF_PASS);
	assert_null(apf_test_find(apf_test_result(run, ID), "ROOT_NOT_IN_GENERATION"));
	apf_run_free(run);
	free(amt);
	free(p10);
	free(p11);
	free(root);
	free(dir);
}

/* A Sectigo chain ends at USERTrust RSA, a default root of recent devices: not private. */
static void test_usertrust(void **state)
{
	const char *ut = public_root("e793c9b02fd8aa13e21c31228accb08119643b749c898964b1746d46c3d4cbd2", "pub-ut.der");
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	if (!ut)
		skip();
	run = run_with(ut, NULL);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "ROOT_HASH_DEFAULT", APF_PASS);
	expect_ev(f, "amt_name", "USERTrust RSA Certification Authority");
	expect_ev(f, "root_sha384", "b1ab8368ba51aeca61214363ccbd3c8e67ed3b67be376d93f4ce44ba438c8e812b0e3de53804e6d7c4f4b37"
				    "bd84ed650");
	assert_null(apf_test_find(r, "ROOT_PRIVATE"));
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);
}

/* Every row of data/amt-root-hashes.csv whose root is still in Debian's bundle:
 * SHA-256 found, SHA-1, expiry date and self-signature recomputed. */
static void test_table_against_bundle(void **state)
{
	struct apf_cert **certs = NULL;
	size_t n = 0, matched = 0;

	(void)state;
	assert_int_equal(apf_certs_from_file(BUNDLE, &certs, &n, NULL), 0);
	assert_true(apf_amt_roots_count >= 25);
	for (size_t i = 0; i < apf_amt_roots_count; i++) {
		const struct apf_amt_root *row = &apf_amt_roots[i];
		assert_int_equal(strlen(row->sha256), 64);
		assert_ptr_equal(apf_amt_root_find(row->sha256), row);
		for (size_t j = 0; j < n; j++) {
			const struct apf_cert *c = certs[j];
			char day[16];
			struct tm tm;
			if (strcmp(c->sha256_hex, row->sha256))
				continue;
			matched++;
			if (strcmp(row->sha1, c->sha1_hex))
				fail_msg("%s: table SHA-1 %s, certificate %s", row->name, row->sha1, c->sha1_hex);
			if (strcmp(row->sha384, c->sha384_hex))
				fail_msg("%s: table SHA-384 %s, certificate %s", row->name, row->sha384, c->sha384_hex);
			assert_ptr_equal(apf_amt_root_find(c->sha384_hex), row);
			gmtime_r(&c->not_after, &tm);
			strftime(day, sizeof(day), "%Y-%m-%d", &tm);
			if (strcmp(row->expiry, day))
				fail_msg("%s: table expiry %s, certificate %s", row->name, row->expiry, day);
			if (strcmp(row->root_sig, c->sig_alg))
				fail_msg("%s: table signature %s, certificate %s", row->name, row->root_sig, c->sig_alg);
			assert_true(c->self_signed);
			assert_ptr_equal(apf_amt_root_find(c->sha1_hex), row);
		}
	}
	printf("# %zu of %zu table rows recomputed from %s\n", matched, apf_amt_roots_count, BUNDLE);
	assert_true(matched >= 10);
	apf_certs_free(certs, n);
}

static void test_generation_ranges(void **state)
{
	const struct apf_amt_root *gd2 = apf_amt_root_find("45140b3247eb9cc8c5b4f0d7b53091f73292089e6e5a63e2749dd3aca9198eda");
	const struct apf_amt_root *g1 = apf_amt_root_find("742C3192E607E424EB4549542BE1BBC53E6174E2");
	const struct apf_amt_root *g2 = apf_amt_root_find("cb:3c:cb:b7:60:31:e5:e0:13:8f:8d:d3:9a:23:f9:de:47:ff:c3:5e:43:c1:14:4c:ea:27:d4:6a:5a:b1:cb:5f");

	(void)state;
	assert_non_null(gd2);
	assert_non_null(g1);
	assert_non_null(g2);
	assert_int_equal(apf_amt_root_in_generation(gd2, 10), 0);
	assert_int_equal(apf_amt_root_in_generation(gd2, 18), 1);
	assert_int_equal(apf_amt_root_in_generation(g1, 11), 1);
	assert_int_equal(apf_amt_root_in_generation(g1, 16), 0);
	assert_int_equal(apf_amt_root_in_generation(g2, 16), -1);
	assert_null(apf_amt_root_find("00"));
	/* SHA-384 (96 hex digits, any case and separators) finds the row too */
	assert_ptr_equal(apf_amt_root_find("D005D872A59E2B3C69D301E262FF2F13B4D1794BDB19DB1CB32415BFFC66E5E0671A41B2A3BC4E54E6D2"
					   "F66DFEE09403"),
			 g2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_root_no_lists),
		cmocka_unit_test(test_private_root_on_devices),
		cmocka_unit_test(test_root_missing_on_device),
		cmocka_unit_test(test_unreadable_list),
		cmocka_unit_test(test_sha384_device_list),
		cmocka_unit_test(test_fleet_names_and_activated),
		cmocka_unit_test(test_incomplete_chain),
		cmocka_unit_test(test_public_roots),
		cmocka_unit_test(test_device_generations),
		cmocka_unit_test(test_usertrust),
		cmocka_unit_test(test_table_against_bundle),
		cmocka_unit_test(test_generation_ranges),
	};
	return cmocka_run_group_tests(tests, cert_fixture_setup, cert_fixture_teardown);
}
