/* SPDX-License-Identifier: MIT */
/*
 * ad.ldap without a directory: DC discovery through a scripted DNS responder
 * on 127.0.0.1, an unreachable DC, and the password rules. The LDAP paths
 * against a real DC are in tests/integration/test_ad.py (Samba in the lab).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apf_test.h"
#include "test_dns_responder.h"

#define ID "ad.ldap"
#define D "corp.example.test."
#define SECRET "Pw-must-never-appear-7f3a"

static char *ini_for(uint16_t dns_port, const char *extra)
{
	char *s = NULL;

	if (asprintf(&s, "[dns]\nservers = 127.0.0.1#%u\n[ad]\ndomain = corp.example.test\n%s", dns_port, extra ? extra : "") < 0)
		abort();
	return s;
}

static void test_skip_without_config(void **state)
{
	struct apf_run *run = apf_test_run(ID, NULL, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	assert_int_equal(r->status, APF_SKIP);
	apf_run_free(run);
}

static void test_srv_nxdomain_fails(void **state)
{
	struct dnsr *a = dnsr_start(NULL, 0, 0, true);
	char *ini = ini_for(dnsr_port(a), NULL);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "AD_DC_DISCOVERY_FAILED", APF_FAIL);

	(void)state;
	assert_string_equal(apf_test_evidence(f, "query"), "_ldap._tcp.dc._msdcs.corp.example.test SRV");
	assert_non_null(strstr(apf_test_evidence(f, "result"), "NXDOMAIN"));
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_dns_silent_is_error_not_fail(void **state)
{
	struct dnsr *a = dnsr_start(NULL, 0, DNSR_DROP, false);
	char *ini = ini_for(dnsr_port(a), NULL);
	struct apf_run *run = apf_test_run(ID, ini, 4000);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	apf_test_expect(r, "AD_DNS_TIMEOUT", APF_ERROR);
	assert_null(apf_test_find(r, "AD_DC_DISCOVERY_FAILED"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_dc_unresolved(void **state)
{
	static const struct dnsr_rule rules[] = {
		{"_ldap._tcp.dc._msdcs." D, 33, 0, {"_ldap._tcp.dc._msdcs." D " 600 IN SRV 0 100 389 gone." D}, 0},
	};
	struct dnsr *a = dnsr_start(rules, 1, 0, true);
	char *ini = ini_for(dnsr_port(a), NULL);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "AD_DC_UNRESOLVED", APF_FAIL);

	(void)state;
	assert_string_equal(apf_test_evidence(f, "query"), "gone.corp.example.test A");
	assert_non_null(strstr(apf_test_evidence(f, "source"), "SRV _ldap._tcp.dc._msdcs.corp.example.test"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_dc_unreachable_is_error(void **state)
{
	char srv[160];
	uint16_t closed = dnsr_closed_port();
	struct dnsr_rule rules[] = {
		{"_ldap._tcp.dc._msdcs." D, 33, 0, {srv}, 0},
		{"dc1." D, 1, 0, {"dc1." D " 300 IN A 127.0.0.1"}, 0},
	};
	struct dnsr *a;
	char *ini;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	char port[8];

	(void)state;
	snprintf(srv, sizeof(srv), "_ldap._tcp.dc._msdcs." D " 600 IN SRV 0 100 %u dc1." D, (unsigned int)closed);
	snprintf(port, sizeof(port), "%u", (unsigned int)closed);
	a = dnsr_start(rules, 2, 0, true);
	ini = ini_for(dnsr_port(a), NULL);
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "AD_DC_UNREACHABLE", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "dc"), "dc1.corp.example.test");
	assert_string_equal(apf_test_evidence(f, "address"), "127.0.0.1");
	assert_string_equal(apf_test_evidence(f, "port"), port);
	assert_string_equal(apf_test_evidence(f, "result"), "connection refused");
	/* nothing answered: no "too few DCs" warning on top of the error */
	assert_null(apf_test_find(r, "AD_TOO_FEW_DCS"));
	assert_null(apf_test_find(r, "AD_ROOTDSE_OK"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

/* No [dns] servers and no dhcp.options fact: the DCs are not looked up at all (never
 * through this host's /etc/resolv.conf), and that is could-not-check, not a FAIL. */
static void test_no_client_dns_server_is_error(void **state)
{
	struct apf_run *run = apf_test_run(ID, "[ad]\ndomain = corp.example.test\n", 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "AD_NO_DNS_SERVER", APF_ERROR);

	(void)state;
	assert_non_null(strstr(apf_test_evidence(f, "result"), "no client DNS server known"));
	assert_null(apf_test_find(r, "AD_DC_DISCOVERY_FAILED"));
	assert_null(apf_test_find(r, "AD_DNS_TIMEOUT"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
}

/* A DC given by address needs no DNS: checked even without a client DNS server. */
static void test_dc_address_needs_no_dns(void **state)
{
	char *ini = NULL;
	struct apf_run *run;
	const struct apf_check_result *r;

	(void)state;
	if (asprintf(&ini, "[ad]\ndomain = corp.example.test\ndomain_controllers = 127.0.0.1\n") < 0)
		abort();
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	assert_null(apf_test_find(r, "AD_NO_DNS_SERVER"));
	apf_test_expect(r, "AD_DC_UNREACHABLE", APF_ERROR); /* nothing listens on 127.0.0.1:389 here */
	apf_run_free(run);
	free(ini);
}

/* The servers are asked in turn: a refusing first server does not hide the second's answer. */
static void test_refusing_dns_server_then_next(void **state)
{
	char srv[160], *ini = NULL;
	uint16_t closed = dnsr_closed_port();
	struct dnsr_rule rules[] = {
		{"_ldap._tcp.dc._msdcs." D, 33, 0, {srv}, 0},
		{"dc1." D, 1, 0, {"dc1." D " 300 IN A 127.0.0.1"}, 0},
	};
	struct dnsr *a;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	snprintf(srv, sizeof(srv), "_ldap._tcp.dc._msdcs." D " 600 IN SRV 0 100 %u dc1." D, (unsigned int)closed);
	a = dnsr_start(rules, 2, 0, true);
	if (asprintf(&ini, "[dns]\nservers = 127.0.0.1#%u, 127.0.0.1#%u\n[ad]\ndomain = corp.example.test\n",
		     (unsigned int)closed, (unsigned int)dnsr_port(a)) < 0)
		abort();
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "AD_DC_UNREACHABLE", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "address"), "127.0.0.1");
	assert_null(apf_test_find(r, "AD_DNS_TIMEOUT"));
	assert_null(apf_test_find(r, "AD_NO_DNS_SERVER"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_no_password_is_reported_once(void **state)
{
	struct dnsr *a = dnsr_start(NULL, 0, 0, true);
	char *ini = ini_for(dnsr_port(a), "bind_dn = amtcheck@corp.example.test\n");
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	unsetenv("AMT_PREFLIGHT_BIND_PASSWORD");
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "AD_BIND_NOT_ATTEMPTED", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "bind_dn"), "amtcheck@corp.example.test");
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static bool contains_secret(const struct apf_check_result *r)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct apf_finding *f = r->findings[i];
		if ((f->message && strstr(f->message, SECRET)) || (f->remediation && strstr(f->remediation, SECRET)))
			return true;
		for (size_t k = 0; k < f->n_evidence; k++)
			if (strstr(f->evidence[k].key, SECRET) || strstr(f->evidence[k].value, SECRET))
				return true;
	}
	return false;
}

static void test_password_never_in_findings(void **state)
{
	char extra[768], path[512];
	char *ini;
	struct apf_run *run;
	const struct apf_check_result *r;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/bind.pw", apf_test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(SECRET "\n", fp);
	fclose(fp);
	snprintf(extra, sizeof(extra), "bind_dn = %s\nbind_password_file = %s\ndomain_controllers = 127.0.0.1\n", "amtcheck", path);
	/* the DC is a literal: no DNS traffic; 389 on loopback is closed or not LDAP */
	ini = ini_for(dnsr_closed_port(), extra);
	run = apf_test_run(ID, ini, 5000);
	r = apf_test_result(run, ID);
	assert_true(r->n_findings > 0);
	assert_false(contains_secret(r));

	setenv("AMT_PREFLIGHT_BIND_PASSWORD", SECRET, 1);
	free(ini);
	apf_run_free(run);
	snprintf(extra, sizeof(extra), "bind_dn = amtcheck\ndomain_controllers = 127.0.0.1\n");
	ini = ini_for(dnsr_closed_port(), extra);
	run = apf_test_run(ID, ini, 5000);
	r = apf_test_result(run, ID);
	assert_false(contains_secret(r));
	unsetenv("AMT_PREFLIGHT_BIND_PASSWORD");
	apf_run_free(run);
	free(ini);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skip_without_config),
		cmocka_unit_test(test_srv_nxdomain_fails),
		cmocka_unit_test(test_dns_silent_is_error_not_fail),
		cmocka_unit_test(test_dc_unresolved),
		cmocka_unit_test(test_dc_unreachable_is_error),
		cmocka_unit_test(test_no_password_is_reported_once),
		cmocka_unit_test(test_password_never_in_findings),
		cmocka_unit_test(test_no_client_dns_server_is_error),
		cmocka_unit_test(test_dc_address_needs_no_dns),
		cmocka_unit_test(test_refusing_dns_server_then_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
