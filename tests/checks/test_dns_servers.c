/* SPDX-License-Identifier: MIT */
/* dns.servers against scripted responders (TSIG verification is covered against BIND in the lab). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "test_dns_responder.h"

#define ID "dns.servers"
#define ZONE "amt.example.net."
#define SOA(serial) ZONE " 300 IN SOA ns1." ZONE " hostmaster." ZONE " " serial " 3600 600 86400 300"

static const struct dnsr_rule serial1[] = {
	{ZONE, 6, 0, {SOA("2024010101")}, 0},
	{"ProvisionServer." ZONE, 1, 0, {"ProvisionServer." ZONE " 300 IN A 127.0.0.1"}, 0},
};
static const struct dnsr_rule serial2[] = {
	{ZONE, 6, 0, {SOA("2024010102")}, 0},
	{"ProvisionServer." ZONE, 1, 0, {"ProvisionServer." ZONE " 300 IN A 127.0.0.7"}, 0},
};
static const struct dnsr_rule servfail[] = {
	{ZONE, 6, 2, {NULL}, 0},
};

static char *conf(uint16_t p1, uint16_t p2, const char *extra)
{
	char *s = NULL;

	if (p2) {
		if (asprintf(&s, "[dns]\nservers = 127.0.0.1#%u 127.0.0.1#%u\n%s[amt]\ndomain_suffixes = amt.example.net\n",
			     p1, p2, extra) < 0)
			abort();
	} else if (asprintf(&s, "[dns]\nservers = 127.0.0.1#%u\n%s[amt]\ndomain_suffixes = amt.example.net\n", p1,
			    extra) < 0) {
		abort();
	}
	return s;
}

static void test_healthy_pair(void **state)
{
	struct dnsr *a = dnsr_start(serial1, 2, 0, true), *b = dnsr_start(serial1, 2, 0, true);
	char *ini = conf(dnsr_port(a), dnsr_port(b), "");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "DNSSRV_OK", APF_PASS);

	assert_string_equal(apf_test_evidence(f, "soa_serial"), "2024010101");
	assert_string_equal(apf_test_evidence(f, "authoritative"), "yes");
	assert_string_equal(apf_test_evidence(f, "provisionserver"), "127.0.0.1");
	assert_int_equal(r->status, APF_PASS);
	assert_int_equal(r->n_findings, 2); /* one DNSSRV_OK per server */
	assert_true(dnsr_tcp_queries(a) >= 1 && dnsr_tcp_queries(b) >= 1);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	dnsr_stop(b);
}

static void test_disagreeing_servers_warn(void **state)
{
	struct dnsr *a = dnsr_start(serial1, 2, 0, true), *b = dnsr_start(serial2, 2, 0, true);
	char *ini = conf(dnsr_port(a), dnsr_port(b), "");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "DNSSRV_SERIAL_DIFFERS", APF_WARN);
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1#%u: 2024010102", dnsr_port(b));
	assert_string_equal(apf_test_evidence(f, "answer_2"), want);
	f = apf_test_expect(r, "DNSSRV_ANSWERS_DIFFER", APF_WARN);
	snprintf(want, sizeof(want), "127.0.0.1#%u: 127.0.0.7", dnsr_port(b));
	assert_string_equal(apf_test_evidence(f, "answer_2"), want);
	assert_int_equal(r->status, APF_WARN);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	dnsr_stop(b);
}

static void test_tcp_refused_fails(void **state)
{
	struct dnsr *a = dnsr_start(serial1, 2, 0, false);
	char *ini = conf(dnsr_port(a), 0, "");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "DNSSRV_TCP_REFUSED", APF_FAIL);

	assert_string_equal(apf_test_evidence(f, "transport"), "TCP");
	assert_null(apf_test_find(r, "DNSSRV_OK"));
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_no_answer_is_error(void **state)
{
	struct dnsr *a = dnsr_start(serial1, 2, DNSR_DROP, true);
	char *ini = conf(dnsr_port(a), 0, "");
	struct apf_run *run = apf_test_run(ID, ini, 1200);
	const struct apf_check_result *r = apf_test_result(run, ID);

	apf_test_expect(r, "DNSSRV_UDP_NO_ANSWER", APF_ERROR);
	apf_test_expect(r, "DNSSRV_TCP_NO_ANSWER", APF_ERROR);
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
}

static void test_servfail_and_nxdomain_fail(void **state)
{
	struct dnsr *a = dnsr_start(servfail, 1, 0, true), *b = dnsr_start(NULL, 0, 0, true);
	char *ini = conf(dnsr_port(a), dnsr_port(b), "");
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "DNSSRV_SERVFAIL", APF_FAIL);

	assert_string_equal(apf_test_evidence(f, "rcode"), "SERVFAIL");
	f = apf_test_expect(r, "DNSSRV_DOMAIN_MISSING", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "rcode"), "NXDOMAIN");
	assert_string_equal(apf_test_evidence(f, "query"), "amt.example.net SOA");
	apf_run_free(run);
	free(ini);
	dnsr_stop(a);
	dnsr_stop(b);
}

static void test_bad_key_file_is_error_and_secret_hidden(void **state)
{
	char path[512], *extra = NULL;
	struct dnsr *a = dnsr_start(serial1, 2, 0, true);
	FILE *kf;

	snprintf(path, sizeof(path), "%s/bad.key", apf_test_tmpdir());
	kf = fopen(path, "w");
	assert_non_null(kf);
	/* A secret with a character outside base64, and a distinctive value to grep for. */
	fputs("key \"k1\" {\n\talgorithm hmac-sha256;\n\tsecret \"Zm9vYmFyc2VjcmV0!\";\n};\n", kf);
	fclose(kf);
	if (asprintf(&extra, "tsig_key_file = %s\n", path) < 0)
		abort();
	char *ini = conf(dnsr_port(a), 0, extra);
	struct apf_run *run = apf_test_run(ID, ini, 0);
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f = apf_test_expect(r, "DNSSRV_TSIG_KEY_INVALID", APF_ERROR);
	char want[600];

	snprintf(want, sizeof(want), "%s:3: the secret is not base64", path);
	assert_string_equal(apf_test_evidence(f, "error"), want);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct apf_finding *g = r->findings[i];

		assert_null(strstr(g->message, "Zm9vYmFy"));
		for (size_t k = 0; k < g->n_evidence; k++)
			assert_null(strstr(g->evidence[k].value, "Zm9vYmFy"));
	}
	apf_run_free(run);
	free(ini);
	free(extra);
	dnsr_stop(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_pair),
		cmocka_unit_test(test_disagreeing_servers_warn),
		cmocka_unit_test(test_tcp_refused_fails),
		cmocka_unit_test(test_no_answer_is_error),
		cmocka_unit_test(test_servfail_and_nxdomain_fail),
		cmocka_unit_test(test_bad_key_file_is_error_and_secret_hidden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
