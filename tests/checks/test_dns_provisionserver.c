/* SPDX-License-Identifier: MIT */
/*
 * dns.provisionserver against scripted responders. The setup differs from the
 * lab on purpose: two DNS servers on non-standard ports, the suffix
 * amt.example.net, the SCS on 127.0.0.1 with the Hello port somewhere random.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apf_test.h"
#include "test_dns_responder.h"

#define ID "dns.provisionserver"
#define PS "ProvisionServer.amt.example.net."

static const struct dnsr_rule good[] = {
	{PS, 1, 0, {PS " 300 IN A 127.0.0.1"}, 0},
	{"1.0.0.127.in-addr.arpa.", 12, 0, {"1.0.0.127.in-addr.arpa. 300 IN PTR scs.amt.example.net."}, 0},
	{"scs.amt.example.net.", 1, 0, {"scs.amt.example.net. 300 IN A 127.0.0.1"}, 0},
};

static const struct dnsr_rule wrong[] = {
	{PS, 1, 0, {PS " 300 IN A 127.0.0.66"}, 0},
};

static const struct dnsr_rule several[] = {
	{PS, 1, 0, {PS " 300 IN A 127.0.0.1", PS " 300 IN A 127.0.0.2"}, 0},
	{"1.0.0.127.in-addr.arpa.", 12, 0, {"1.0.0.127.in-addr.arpa. 300 IN PTR scs.amt.example.net."}, 0},
	{"scs.amt.example.net.", 1, 0, {"scs.amt.example.net. 300 IN A 127.0.0.9"}, 0},
};

static const struct dnsr_rule other_answer[] = {
	{PS, 1, 0, {PS " 300 IN A 127.0.0.2"}, 0},
};

/* The PTR's target never answers, and 127.0.0.2's reverse zone fails. */
static const struct dnsr_rule ptr_unanswered[] = {
	{PS, 1, 0, {PS " 300 IN A 127.0.0.1", PS " 300 IN A 127.0.0.2"}, 0},
	{"1.0.0.127.in-addr.arpa.", 12, 0, {"1.0.0.127.in-addr.arpa. 300 IN PTR scs.amt.example.net."}, 0},
	{"scs.amt.example.net.", 1, 0, {NULL}, DNSR_DROP},
	{"2.0.0.127.in-addr.arpa.", 12, 2, {NULL}, 0},
};

/* The config of a site using remote configuration (the Hello path) unless
 * `activation` says otherwise ("" = [amt] activation not set). */
static char *conf_profile(uint16_t p1, uint16_t p2, const char *scs, uint16_t hello, const char *activation)
{
	char *s = NULL;
	char servers[64];

	if (p2)
		snprintf(servers, sizeof(servers), "127.0.0.1#%u, 127.0.0.1#%u", p1, p2);
	else
		snprintf(servers, sizeof(servers), "127.0.0.1#%u", p1);
	if (asprintf(&s,
		     "[dns]\nservers = %s\n[amt]\ndomain_suffixes = amt.example.net.\n%s%s\n"
		     "[provisioning]\nserver_addresses = %s\nhello_port = %u\n",
		     servers, *activation ? "activation = " : "", activation, scs, hello) < 0)
		abort();
	return s;
}

static char *conf(uint16_t p1, uint16_t p2, const char *scs, uint16_t hello)
{
	return conf_profile(p1, p2, scs, hello, "remote-config");
}

static void test_healthy(void **state)
{
	uint16_t hello;
	int lfd = dnsr_tcp_listener(&hello);
	struct dnsr *a = dnsr_start(good, 3, 0, true), *b = dnsr_start(good, 3, 0, true);
	char *ini = conf(dnsr_port(a), dnsr_port(b), "127.0.0.1", hello);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f;

	assert_int_equal(r->status, APF_PASS);
	f = apf_test_expect(r, "PS_RECORD_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "answer"), "127.0.0.1");
	assert_non_null(strstr(apf_test_evidence(f, "servers"), "127.0.0.1#"));
	f = apf_test_expect(r, "PS_PTR_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "answer"), "scs.amt.example.net.");
	f = apf_test_expect(r, "PS_HELLO_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "address"), "127.0.0.1");
	assert_null(apf_test_find(r, "PS_SERVERS_DISAGREE"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	dnsr_stop(b);
	close(lfd);
}

static void test_nxdomain_fails(void **state)
{
	struct dnsr *a = dnsr_start(NULL, 0, 0, true);
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1", 9971);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_RECORD_MISSING", APF_FAIL);
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1#%u", dnsr_port(a));
	assert_string_equal(apf_test_evidence(f, "server"), want);
	assert_string_equal(apf_test_evidence(f, "query"), "ProvisionServer.amt.example.net A/AAAA");
	assert_string_equal(apf_test_evidence(f, "rcode"), "NXDOMAIN");
	assert_string_equal(apf_test_evidence(f, "answer"), "(none)");
	assert_int_equal(r->status, APF_FAIL);
	/* No address: nothing to knock on. */
	assert_null(apf_test_find(r, "PS_HELLO_REFUSED"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

/* No profile declared: the path is unknown, so a missing record is INFO with the
 * reason, never FAIL (it holds for remote configuration only). */
static void test_nxdomain_undeclared_is_info(void **state)
{
	struct dnsr *a = dnsr_start(NULL, 0, 0, true);
	char *ini = conf_profile(dnsr_port(a), 0, "127.0.0.1", 9971, "");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_RECORD_NOT_REQUIRED", APF_INFO);

	(void)state;
	assert_string_equal(apf_test_evidence(f, "rcode"), "NXDOMAIN");
	assert_string_equal(apf_test_evidence(f, "activation"), "not declared");
	assert_null(apf_test_find(r, "PS_RECORD_MISSING"));
	assert_null(apf_test_find(r, "PS_RECORD_OK"));
	assert_int_equal(r->status, APF_INFO);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

/* Host-based profiles only: nothing looks the name up, the check is skipped
 * without asking any server; remote-config among them keeps the FAIL. */
static void test_host_based_profiles_skip(void **state)
{
	struct dnsr *a = dnsr_start(NULL, 0, 0, true);
	char *ini = conf_profile(dnsr_port(a), 0, "127.0.0.1", 9971, "rps, meshcentral");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	apf_test_expect(r, "CHECK_SKIPPED", APF_SKIP);
	assert_int_equal(r->status, APF_SKIP);
	assert_int_equal(dnsr_udp_queries(a) + dnsr_tcp_queries(a), 0);
	apf_run_free(run);
	free(ini);

	ini = conf_profile(dnsr_port(a), 0, "127.0.0.1", 9971, "rps, remote-config");
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	apf_test_expect(r, "PS_RECORD_MISSING", APF_FAIL);
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_wrong_address_fails(void **state)
{
	struct dnsr *a = dnsr_start(wrong, 1, 0, true);
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1", 9971);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_WRONG_ADDRESS", APF_FAIL);

	assert_string_equal(apf_test_evidence(f, "wrong_address"), "127.0.0.66");
	assert_string_equal(apf_test_evidence(f, "expected"), "127.0.0.1");
	assert_null(apf_test_find(r, "PS_RECORD_OK"));
	/* The wrong host is never probed. */
	assert_null(apf_test_find(r, "PS_HELLO_OK"));
	assert_null(apf_test_find(r, "PS_HELLO_REFUSED"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_several_addresses_warn(void **state)
{
	uint16_t hello;
	int lfd = dnsr_tcp_listener(&hello);
	struct dnsr *a = dnsr_start(several, 3, 0, true);
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1 127.0.0.2", hello);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_SEVERAL_ADDRESSES", APF_WARN);

	assert_string_equal(apf_test_evidence(f, "answer"), "127.0.0.1, 127.0.0.2");
	/* scs.amt.example.net points elsewhere: not forward-confirmed. */
	f = apf_test_expect(r, "PS_PTR_MISMATCH", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "forward_answer"), "127.0.0.9");
	/* 127.0.0.2 has no PTR rule -> NXDOMAIN. */
	apf_test_expect(r, "PS_PTR_MISSING", APF_WARN);
	/* The Hello listener is on 127.0.0.1 only: the second SCS address refuses. */
	f = apf_test_expect(r, "PS_HELLO_REFUSED", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "address"), "127.0.0.2");
	apf_test_expect(r, "PS_HELLO_OK", APF_PASS);
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	close(lfd);
}

/* Regression: an unanswered forward query was reported as PS_PTR_MISMATCH and a
 * SERVFAIL for the PTR as PS_PTR_MISSING (both WARN): "could not check" is ERROR. */
static void test_ptr_lookup_failures_are_errors(void **state)
{
	struct dnsr *a = dnsr_start(ptr_unanswered, 4, 0, true);
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1 127.0.0.2", dnsr_closed_port());
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f;

	assert_null(apf_test_find(r, "PS_PTR_MISMATCH"));
	assert_null(apf_test_find(r, "PS_PTR_MISSING"));
	assert_null(apf_test_find(r, "PS_PTR_OK"));
	f = apf_test_expect(r, "PS_DNS_RCODE", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "query"), "2.0.0.127.in-addr.arpa. PTR");
	assert_string_equal(apf_test_evidence(f, "rcode"), "SERVFAIL");
	f = apf_test_expect(r, "PS_DNS_NO_ANSWER", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "query"), "scs.amt.example.net. A");
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_servers_disagree_warn(void **state)
{
	uint16_t hello;
	int lfd = dnsr_tcp_listener(&hello);
	struct dnsr *a = dnsr_start(good, 3, 0, true), *b = dnsr_start(other_answer, 1, 0, true);
	char *ini = conf(dnsr_port(a), dnsr_port(b), "127.0.0.1, 127.0.0.2", hello);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_SERVERS_DISAGREE", APF_WARN);
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1#%u: 127.0.0.2", dnsr_port(b));
	assert_string_equal(apf_test_evidence(f, "answer_2"), want);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	dnsr_stop(b);
	close(lfd);
}

static void test_timeout_is_error_not_fail(void **state)
{
	struct dnsr *a = dnsr_start(good, 3, DNSR_DROP, true);
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1", 9971);
	struct apf_run *run = apf_test_run(ID, ini, 1500);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_DNS_NO_ANSWER", APF_ERROR);

	assert_string_equal(apf_test_evidence(f, "query"), "ProvisionServer.amt.example.net A");
	assert_int_equal(r->status, APF_ERROR);
	assert_null(apf_test_find(r, "PS_RECORD_MISSING"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_truncated_retried_over_tcp(void **state)
{
	uint16_t hello;
	int lfd = dnsr_tcp_listener(&hello);
	struct dnsr *a = dnsr_start(good, 3, DNSR_TC_UDP, true);
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1", hello);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	apf_test_expect(r, "PS_RECORD_OK", APF_PASS);
	assert_true(dnsr_tcp_queries(a) >= 2);
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	close(lfd);
}

static void test_hello_refused_fails(void **state)
{
	struct dnsr *a = dnsr_start(good, 3, 0, true);
	uint16_t closed = dnsr_closed_port();
	char *ini = conf(dnsr_port(a), 0, "127.0.0.1", closed);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "PS_HELLO_REFUSED", APF_FAIL);
	char want[16];

	snprintf(want, sizeof(want), "%u", closed);
	assert_string_equal(apf_test_evidence(f, "port"), want);
	apf_test_expect(r, "PS_RECORD_OK", APF_PASS);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_no_suffix_skips(void **state)
{
	struct apf_run *run = apf_test_run(ID, "[dns]\nservers = 127.0.0.1#9\n", 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	assert_int_equal(r->status, APF_SKIP);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_nxdomain_fails),
		cmocka_unit_test(test_wrong_address_fails),
		cmocka_unit_test(test_several_addresses_warn),
		cmocka_unit_test(test_servers_disagree_warn),
		cmocka_unit_test(test_ptr_lookup_failures_are_errors),
		cmocka_unit_test(test_timeout_is_error_not_fail),
		cmocka_unit_test(test_truncated_retried_over_tcp),
		cmocka_unit_test(test_hello_refused_fails),
		cmocka_unit_test(test_no_suffix_skips),
		cmocka_unit_test(test_nxdomain_undeclared_is_info),
		cmocka_unit_test(test_host_based_profiles_skip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
