/* SPDX-License-Identifier: MIT */
/* The AMT rules module: suffix rules per activation server, per-generation crypto rules, MEBx form. */
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "amt_rules.h"
#include "pki_roots.h"

static void test_suffix_firmware(void **state)
{
	const enum apf_suffix_rule fw = APF_SUFFIX_RULE_FIRMWARE;

	(void)state;
	/* .com/.net: the last two labels suffice (Intel, AMT 2.6) */
	assert_true(apf_amt_suffix_match("ps.corp.example.com", "sales.example.com", fw));
	assert_true(apf_amt_suffix_match("PS.Corp.Example.NET.", "eu.example.net", fw));
	assert_false(apf_amt_suffix_match("ps.example.com", "example.net", fw));
	assert_false(apf_amt_suffix_match("ps.example.com", "com", fw));
	/* any other TLD: the certificate must lie in the device's domain */
	assert_false(apf_amt_suffix_match("ps.corp.example.co.uk", "branch.other.co.uk", fw));
	assert_false(apf_amt_suffix_match("ps.corp.example.co.uk", "branch.example.co.uk", fw));
	assert_true(apf_amt_suffix_match("ps.corp.example.co.uk", "Corp.Example.co.uk.", fw));
	assert_false(apf_amt_suffix_match("ps.other.example.test", "corp.example.test", fw));
	assert_false(apf_amt_suffix_match("xcorp.example.test", "corp.example.test", fw));
	assert_true(apf_amt_suffix_match("corp.example.test", "corp.example.test", fw));
	/* nothing to compare is no match */
	assert_false(apf_amt_suffix_match(NULL, "example.com", fw));
	assert_false(apf_amt_suffix_match("ps.example.com", "", fw));
	assert_false(apf_amt_suffix_match("...", "...", fw));
}

static void test_suffix_exact_meshcentral(void **state)
{
	(void)state;
	/* RPS: exact; a device in a subdomain is refused */
	assert_true(apf_amt_suffix_match("ps.example.com", "example.com", APF_SUFFIX_RULE_EXACT));
	assert_true(apf_amt_suffix_match("example.com", "EXAMPLE.com.", APF_SUFFIX_RULE_EXACT));
	assert_false(apf_amt_suffix_match("ps.example.com", "sales.example.com", APF_SUFFIX_RULE_EXACT));
	assert_false(apf_amt_suffix_match("example.com", "branch.example.com", APF_SUFFIX_RULE_EXACT));
	/* MeshCentral: the CN (cut to the registrable domain for known TLDs, "*."
	 * dropped) equals the trusted DNS suffix or is a parent of it; "*" matches all */
	const enum apf_suffix_rule mc = APF_SUFFIX_RULE_MESHCENTRAL;
	assert_true(apf_amt_suffix_match("corp.example.com", "corp.example.com", mc));
	assert_true(apf_amt_suffix_match("*", "anything.example", mc));
	assert_true(apf_amt_suffix_match("ps.corp.example.com", "corp.example.com", mc));
	assert_true(apf_amt_suffix_match("ps.corp.example.com", "Branch.Example.COM.", mc));
	assert_true(apf_amt_suffix_match("*.corp.example.test", "branch.corp.example.test", mc));
	assert_true(apf_amt_suffix_match("*.corp.example.test", "corp.example.test", mc));
	assert_true(apf_amt_suffix_match("corp.example.test", "eu.branch.corp.example.test", mc));
	assert_true(apf_amt_suffix_match("ps.corp.example.co.uk", "branch.example.co.uk", mc));
	/* a TLD MeshCentral does not list keeps the whole CN: a child is no parent */
	assert_false(apf_amt_suffix_match("ps.corp.example.test", "corp.example.test", mc));
	/* unrelated domains, and look-alikes that only share a string tail */
	assert_false(apf_amt_suffix_match("ps.corp.example.co.uk", "branch.other.co.uk", mc));
	assert_false(apf_amt_suffix_match("ps.example.com", "example.net", mc));
	assert_false(apf_amt_suffix_match("corp.example.test", "xcorp.example.test", mc));
	assert_false(apf_amt_suffix_match("branch.corp.example.test", "corp.example.test", mc));
	for (int r = 0; r < APF_SUFFIX_RULE_COUNT; r++) {
		assert_true(strlen(apf_suffix_rule_name((enum apf_suffix_rule)r)) > 0);
		assert_true(strlen(apf_suffix_rule_source((enum apf_suffix_rule)r)) > 0);
	}
}

static void test_private_tld(void **state)
{
	(void)state;
	assert_true(apf_amt_private_tld("corp.local"));
	assert_true(apf_amt_private_tld("ps.corp.LOCAL."));
	assert_false(apf_amt_private_tld("corp.example.com"));
	assert_false(apf_amt_private_tld("local.example.com"));
}

static void test_gen_rules(void **state)
{
	struct apf_amt_gen_rules g;

	(void)state;
	apf_amt_gen_rules(12, &g);
	assert_false(g.sha1_refused);
	assert_int_equal(g.rsa_min_bits, 0);
	apf_amt_gen_rules(15, &g);
	assert_true(g.sha1_refused);
	assert_string_equal(g.sha1_scope, "H-series");
	assert_non_null(strstr(g.sha1_source, "000090051"));
	assert_int_equal(g.rsa_min_bits, 2048);
	apf_amt_gen_rules(19, &g);
	assert_true(g.sha1_refused);
	assert_string_equal(g.sha1_scope, "all");
	assert_int_equal(g.rsa_min_bits, 2048);
	/* unknown generation: the newest rules */
	apf_amt_gen_rules(0, &g);
	assert_true(g.sha1_refused);
	assert_int_equal(g.rsa_min_bits, 2048);
	assert_true(apf_amt_hash_is_weak("SHA1"));
	assert_true(apf_amt_hash_is_weak("md5"));
	assert_false(apf_amt_hash_is_weak("sha256"));
	assert_false(apf_amt_hash_is_weak(NULL));
}

static void test_target_rules(void **state)
{
	static const char *const old[] = {"16", "5"}, *const mixed[] = {"11", "16", "junk", "15"};
	struct apf_amt_gen_rules g;
	char buf[64];

	(void)state;
	/* the largest RSA key: 2048 when any target is older than AMT 6.0 (ConfigMgr) */
	apf_amt_target_rules(old, 2, &g);
	assert_int_equal(g.rsa_max_bits, 2048);
	apf_amt_target_rules(mixed, 4, &g);
	assert_int_equal(g.rsa_max_bits, 4096);
	/* SHA-1 is refused from the oldest target that refuses it: 15 */
	assert_true(g.sha1_refused);
	assert_int_equal(g.gen, 15);
	assert_int_equal(g.rsa_min_bits, 2048);
	apf_amt_target_rules((const char *const[]){"11", "14"}, 2, &g);
	assert_false(g.sha1_refused);
	assert_int_equal(g.rsa_min_bits, 0);
	/* none configured: the newest rules */
	apf_amt_target_rules(NULL, 0, &g);
	assert_true(g.sha1_refused);
	assert_int_equal(g.gen, 0);
	assert_int_equal(g.rsa_max_bits, 4096);
	assert_string_equal(apf_amt_targets_str(mixed, 2, buf, sizeof(buf)), "11, 16");
	assert_string_equal(apf_amt_targets_str(NULL, 0, buf, sizeof(buf)), "not configured (the newest rules apply)");
}

static void test_odca(void **state)
{
	(void)state;
	assert_true(apf_amt_odca_issued("CN=ODCA 2 CSME LNL SOC SVN 01 AMT   CA"));
	assert_true(apf_amt_odca_issued("CN=ODCA 2 CSME P_LNL SOC 00003648 ZE Issuing CA,OU=x"));
	assert_false(apf_amt_odca_issued("CN=Test AMT CA"));
	assert_false(apf_amt_odca_issued("O=ODCA 2 CSME,CN=x"));
	assert_false(apf_amt_odca_issued(NULL));
}

static void test_server_issued(void **state)
{
	(void)state;
	/* RPS's subject (CN, C, ST, O in that order) as RFC 2253 prints it */
	assert_string_equal(apf_amt_server_issued("O=None,ST=None,C=None,CN=AMT"), "Open AMT RPS");
	assert_string_equal(apf_amt_server_issued("CN=AMT,O=None"), "Open AMT RPS");
	/* MeshCentral's: CN, O (the server's title), ST, C */
	assert_string_equal(apf_amt_server_issued("C=MC,ST=MC,O=MeshCentral,CN=IntelAMT-0a1b2c3d4e5f"), "MeshCentral");
	assert_string_equal(apf_amt_server_issued("C=MC,ST=MC,O=Corp Mesh\\, Inc.,CN=IntelAMT-0a1b2c3d4e5f"),
			    "MeshCentral");
	assert_null(apf_amt_server_issued("C=MC,ST=MC,CN=IntelAMT-0a1b2c3d4e"));    /* 10 digits */
	assert_null(apf_amt_server_issued("C=MC,ST=MC,CN=IntelAMT-0a1b2c3d4e5f00")); /* 14 */
	assert_null(apf_amt_server_issued("C=US,ST=MC,CN=IntelAMT-0a1b2c3d4e5f"));
	assert_null(apf_amt_server_issued("C=MC,ST=MC,CN=xIntelAMT-0a1b2c3d4e5f"));
	assert_null(apf_amt_server_issued("C=MC,ST=MC,O=x\\,CN=IntelAMT-0a1b2c3d4e5f")); /* inside O */
	assert_null(apf_amt_server_issued("CN=AMT RCFG"));
	assert_null(apf_amt_server_issued("CN=AMT,O=Lab Corp"));
	assert_null(apf_amt_server_issued("CN=AMT\\,O=None")); /* one escaped CN value */
	assert_null(apf_amt_server_issued("CN=amt1.corp.example.test,O=None"));
	assert_null(apf_amt_server_issued(""));
	assert_null(apf_amt_server_issued(NULL));
}

static void test_tables_have_sources(void **state)
{
	(void)state;
	assert_true(apf_amt_gen_rows_count > 0);
	for (size_t i = 0; i < apf_amt_gen_rows_count; i++) {
		assert_true(strlen(apf_amt_gen_rows[i].source) > 0);
		assert_null(strstr(apf_amt_gen_rows[i].source, "shared/"));
	}
	assert_true(apf_amt_roots_count > 0);
	for (size_t i = 0; i < apf_amt_roots_count; i++) {
		assert_true(strlen(apf_amt_roots[i].source) > 0);
		assert_null(strstr(apf_amt_roots[i].source, "shared/"));
		assert_null(strstr(apf_amt_roots[i].source, "amt-domain"));
	}
}

static void test_mebx_form(void **state)
{
	char *s;

	(void)state;
	s = apf_amt_mebx_hash_new("e793c9b02fd8aa13e21c31228accb08119643b749c898964b1746d46c3d4cbd2");
	assert_string_equal(s, "E793-C9B0-2FD8-AA13-E21C-3122-8ACC-B081-1964-3B74-9C89-8964-B174-6D46-C3D4-CBD2");
	free(s);
	assert_null(apf_amt_mebx_hash_new("abc"));
	assert_null(apf_amt_mebx_hash_new("zzzz"));
	assert_null(apf_amt_mebx_hash_new(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suffix_firmware),
		cmocka_unit_test(test_suffix_exact_meshcentral),
		cmocka_unit_test(test_private_tld),
		cmocka_unit_test(test_gen_rules),
		cmocka_unit_test(test_target_rules),
		cmocka_unit_test(test_odca),
		cmocka_unit_test(test_server_issued),
		cmocka_unit_test(test_tables_have_sources),
		cmocka_unit_test(test_mebx_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
