/* SPDX-License-Identifier: MIT */
/* dns.ad-records against a scripted responder: AD domain ad.example.org with two or one DCs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "test_dns_responder.h"

#define ID "dns.ad-records"
#define D "ad.example.org."

static const struct dnsr_rule two_dcs[] = {
	{"_ldap._tcp.dc._msdcs." D, 33, 0,
	 {"_ldap._tcp.dc._msdcs." D " 600 IN SRV 0 100 389 dc1." D, "_ldap._tcp.dc._msdcs." D " 600 IN SRV 0 100 389 dc2." D}, 0},
	{"_kerberos._tcp." D, 33, 0, {"_kerberos._tcp." D " 600 IN SRV 0 100 88 dc1." D}, 0},
	{"_gc._tcp." D, 33, 0, {"_gc._tcp." D " 600 IN SRV 0 100 3268 dc2." D}, 0},
	{"_kpasswd._tcp." D, 33, 0, {"_kpasswd._tcp." D " 600 IN SRV 0 100 464 dc1." D}, 0},
	{"dc1." D, 1, 0, {"dc1." D " 300 IN A 127.0.0.11"}, 0},
	{"dc2." D, 1, 0, {"dc2." D " 300 IN A 127.0.0.12"}, 0},
};

static const struct dnsr_rule one_dc_broken[] = {
	{"_ldap._tcp.dc._msdcs." D, 33, 0, {"_ldap._tcp.dc._msdcs." D " 600 IN SRV 0 100 389 dc1." D}, 0},
	{"_gc._tcp." D, 33, 0, {"_gc._tcp." D " 600 IN SRV 0 100 3268 gone." D}, 0},
	{"dc1." D, 1, 0, {"dc1." D " 300 IN A 127.0.0.11"}, 0},
};

static char *conf(uint16_t port)
{
	char *s = NULL;

	if (asprintf(&s, "[dns]\nservers = 127.0.0.1#%u\n[ad]\ndomain = ad.example.org\n", port) < 0)
		abort();
	return s;
}

static void test_two_dcs_pass(void **state)
{
	struct dnsr *a = dnsr_start(two_dcs, 6, 0, true);
	char *ini = conf(dnsr_port(a));
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "ADR_SRV_OK", APF_PASS);

	assert_string_equal(apf_test_evidence(f, "query"), "_ldap._tcp.dc._msdcs.ad.example.org SRV");
	assert_string_equal(apf_test_evidence(f, "answer"),
			    "0 100 389 dc1.ad.example.org., 0 100 389 dc2.ad.example.org.");
	assert_int_equal(r->status, APF_PASS);
	assert_int_equal(r->n_findings, 4);
	assert_null(apf_test_find(r, "ADR_SINGLE_DC"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_single_dc_missing_and_unresolved(void **state)
{
	struct dnsr *a = dnsr_start(one_dc_broken, 3, 0, true);
	char *ini = conf(dnsr_port(a));
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f;

	apf_test_expect(r, "ADR_SINGLE_DC", APF_WARN);
	f = apf_test_expect(r, "ADR_SRV_MISSING", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "query"), "_kerberos._tcp.ad.example.org SRV");
	assert_string_equal(apf_test_evidence(f, "rcode"), "NXDOMAIN");
	f = apf_test_expect(r, "ADR_SRV_OPTIONAL_MISSING", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "query"), "_kpasswd._tcp.ad.example.org SRV");
	f = apf_test_expect(r, "ADR_TARGET_UNRESOLVED", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "query"), "gone.ad.example.org. A/AAAA");
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_timeout_is_error(void **state)
{
	struct dnsr *a = dnsr_start(two_dcs, 6, DNSR_DROP, true);
	char *ini = conf(dnsr_port(a));
	struct apf_run *run = apf_test_run(ID, ini, 1200);
	const struct apf_check_result *r = apf_test_result(run, ID);

	apf_test_expect(r, "ADR_DNS_NO_ANSWER", APF_ERROR);
	assert_null(apf_test_find(r, "ADR_SRV_MISSING"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_requires_domain(void **state)
{
	struct apf_run *run = apf_test_run(ID, "[dns]\nservers = 127.0.0.1#9\n", 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	assert_int_equal(r->status, APF_SKIP);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_dcs_pass),
		cmocka_unit_test(test_single_dc_missing_and_unresolved),
		cmocka_unit_test(test_timeout_is_error),
		cmocka_unit_test(test_requires_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
