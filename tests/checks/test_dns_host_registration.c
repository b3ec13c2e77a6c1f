/* SPDX-License-Identifier: MIT */
/* dns.host-registration against a scripted responder: one host per verdict, TC, timeouts, hostile files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "test_dns_responder.h"

#define ID "dns.host-registration"
#define Z "fleet.example.com."

static const struct dnsr_rule zone[] = {
	{"ok1." Z, 1, 0, {"ok1." Z " 60 IN A 10.9.0.1"}, 0},
	{"1.0.9.10.in-addr.arpa.", 12, 0, {"1.0.9.10.in-addr.arpa. 60 IN PTR OK1.fleet.example.com."}, 0},
	{"ok2." Z, 1, 0, {"ok2." Z " 60 IN A 10.9.0.2"}, 0},
	{"2.0.9.10.in-addr.arpa.", 12, 0, {"2.0.9.10.in-addr.arpa. 60 IN PTR ok2." Z}, 0},
	{"stale." Z, 1, 0, {"stale." Z " 60 IN A 10.9.0.3"}, 0},
	{"3.0.9.10.in-addr.arpa.", 12, 0, {"3.0.9.10.in-addr.arpa. 60 IN PTR old-pc." Z}, 0},
	{"noptr." Z, 1, 0, {"noptr." Z " 60 IN A 10.9.0.4"}, 0},
	{"moved." Z, 1, 0, {"moved." Z " 60 IN A 10.9.0.5"}, 0},
	{"nodata." Z, 28, 0, {"nodata." Z " 60 IN AAAA 2001:db8::5"}, 0},
	{"formerr." Z, 1, 1, {NULL}, DNSR_BARE},
	{"refused." Z, 1, 5, {NULL}, 0},
};

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", apf_test_tmpdir(), name) < 0)
		abort();
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* The remote-config path (Hello), where a PTR problem is a FAIL, unless `amt` says otherwise. */
#define HELLO_SITE "[amt]\nactivation = remote-config\n"

static char *conf_amt(uint16_t port, const char *hosts, const char *amt)
{
	char *s = NULL;

	if (asprintf(&s, "[dns]\nservers = 127.0.0.1#%u\nhosts_file = %s\nwindow = 4\nrate_limit = 0\n%s", port, hosts,
		     amt) < 0)
		abort();
	return s;
}

static char *conf(uint16_t port, const char *hosts)
{
	return conf_amt(port, hosts, HELLO_SITE);
}

static const char hosts_text[] = "# AMT fleet\n"
				 "ok1.fleet.example.com\n"
				 "ok2.fleet.example.com 10.9.0.2\n"
				 "stale.fleet.example.com\n"
				 "noptr.fleet.example.com\n"
				 "moved.fleet.example.com 10.9.0.55\n"
				 "missing.fleet.example.com\n"
				 "nodata.fleet.example.com.\n";

static const struct apf_check_result *run_with(struct dnsr *a, const char *hosts, unsigned int timeout,
					       struct apf_run **run)
{
	char *ini = conf(dnsr_port(a), hosts);

	*run = apf_test_run(ID, ini, timeout);
	free(ini);
	return apf_test_result(*run, ID);
}

static void check_verdicts(const struct apf_check_result *r, enum apf_status ptr_st)
{
	const struct apf_finding *f;

	f = apf_test_expect(r, "HOSTREG_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "ok"), "2");
	assert_string_equal(apf_test_evidence(f, "hosts"), "7");
	f = apf_test_expect(r, "HOSTREG_PTR_MISMATCH", ptr_st);
	assert_string_equal(apf_test_evidence(f, "count"), "1");
	assert_string_equal(apf_test_evidence(f, "host_1"),
			    "stale.fleet.example.com (line 4): PTR of 10.9.0.3 -> old-pc.fleet.example.com.");
	f = apf_test_expect(r, "HOSTREG_NO_PTR", ptr_st);
	assert_string_equal(apf_test_evidence(f, "host_1"),
			    "noptr.fleet.example.com (line 5): PTR of 10.9.0.4 -> NXDOMAIN");
	f = apf_test_expect(r, "HOSTREG_A_MISMATCH", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "host_1"),
			    "moved.fleet.example.com (line 6): A 10.9.0.5, expected 10.9.0.55");
	f = apf_test_expect(r, "HOSTREG_NO_A", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "count"), "2");
	assert_string_equal(apf_test_evidence(f, "host_1"),
			    "missing.fleet.example.com (line 7): missing.fleet.example.com A -> NXDOMAIN");
	assert_string_equal(apf_test_evidence(f, "host_2"),
			    "nodata.fleet.example.com. (line 8): nodata.fleet.example.com. A -> no record (NODATA)");
	assert_int_equal(r->status, APF_FAIL);
}

static void check_classification(const struct apf_check_result *r)
{
	check_verdicts(r, APF_FAIL);
}

static void test_classifies_each_host(void **state)
{
	struct dnsr *a = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), 0, true);
	char *hosts = write_file("hosts.txt", hosts_text, strlen(hosts_text));
	struct apf_run *run;
	const struct apf_check_result *r = run_with(a, hosts, 0, &run);

	check_classification(r);
	assert_string_equal(apf_test_evidence(apf_test_find(r, "HOSTREG_OK"), "tcp_fallbacks"), "0");
	apf_run_free(run);
	free(hosts);
	dnsr_stop(a);
}

static void test_truncated_answers_go_tcp(void **state)
{
	struct dnsr *a = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), DNSR_TC_UDP, true);
	char *hosts = write_file("hosts.txt", hosts_text, strlen(hosts_text));
	struct apf_run *run;
	const struct apf_check_result *r = run_with(a, hosts, 0, &run);

	/* Same verdicts as over UDP: TC is never taken for an answer. */
	check_classification(r);
	assert_true(dnsr_tcp_queries(a) >= 7);
	assert_string_equal(apf_test_evidence(apf_test_find(r, "HOSTREG_OK"), "tcp_fallbacks"), "11"); /* 7 A + 4 PTR queries */
	apf_run_free(run);
	free(hosts);
	dnsr_stop(a);
}

static void test_timeouts_are_errors(void **state)
{
	struct dnsr *a = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), DNSR_DROP, true);
	char *hosts = write_file("hosts.txt", hosts_text, strlen(hosts_text));
	struct apf_run *run;
	const struct apf_check_result *r = run_with(a, hosts, 2500, &run);

	assert_int_equal(r->status, APF_ERROR);
	apf_test_expect(r, "HOSTREG_NO_ANSWER", APF_ERROR);
	assert_null(apf_test_find(r, "HOSTREG_NO_A"));
	assert_true(dnsr_udp_queries(a) >= 7 * 2); /* retransmitted */
	apf_run_free(run);
	free(hosts);
	dnsr_stop(a);
}

static void test_server_errors_are_errors_without_waiting(void **state)
{
	static const char text[] = "formerr.fleet.example.com\nrefused.fleet.example.com\nok1.fleet.example.com\n";
	struct dnsr *a = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), 0, true);
	char *hosts = write_file("hosts-err.txt", text, strlen(text));
	struct apf_run *run;
	const struct apf_check_result *r = run_with(a, hosts, 0, &run);
	const struct apf_finding *f = apf_test_expect(r, "HOSTREG_SERVER_ERROR", APF_ERROR);

	/* A FORMERR without a question still ends the host at once: no retransmits. */
	assert_string_equal(apf_test_evidence(f, "count"), "2");
	assert_string_equal(apf_test_evidence(f, "host_1"), "formerr.fleet.example.com (line 1): A query -> FORMERR");
	assert_string_equal(apf_test_evidence(f, "host_2"), "refused.fleet.example.com (line 2): A query -> REFUSED");
	assert_string_equal(apf_test_evidence(apf_test_find(r, "HOSTREG_OK"), "retransmits"), "0");
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(hosts);
	dnsr_stop(a);
}

static void expect_invalid(const char *name, const void *data, size_t len, const char *want_suffix)
{
	struct dnsr *a = dnsr_start(zone, 1, 0, true);
	char *hosts = write_file(name, data, len), *want = NULL;
	struct apf_run *run;
	const struct apf_check_result *r = run_with(a, hosts, 0, &run);
	const struct apf_finding *f = apf_test_expect(r, "HOSTREG_HOSTS_INVALID", APF_ERROR);

	if (asprintf(&want, "%s%s", hosts, want_suffix) < 0)
		abort();
	assert_string_equal(apf_test_evidence(f, "error"), want);
	assert_int_equal(dnsr_udp_queries(a), 0);
	apf_run_free(run);
	free(want);
	free(hosts);
	dnsr_stop(a);
}

static void test_hostile_files_rejected(void **state)
{
	char *big = malloc(100000);
	static const char binary[] = "ok1.fleet.example.com\n\x7f" "ELF\x02\x01\x01\0\0\0";

	memset(big, 'a', 100000);
	memcpy(big, "ok1.fleet.example.com\nok2.fleet.example.com\n", 44);
	expect_invalid("long.txt", big, 100000, ":3: line longer than 1023 bytes");
	expect_invalid("bin.txt", binary, sizeof(binary) - 1,
		       ":2: control or binary byte (not a text file of host names)");
	expect_invalid("script.txt", "<script>alert(1)</script>\n", 26,
		       ":1: host name has a character other than letters, digits, '-', '_' and '.'");
	expect_invalid("label.txt",
		       "a1234567890123456789012345678901234567890123456789012345678901234.example.com\n", 78,
		       ":1: label longer than 63 characters");
	expect_invalid("addr.txt", "ok1.fleet.example.com 10.9.0.300\n", 33,
		       ":1: second field is not an IPv4 or IPv6 address");
	free(big);
}

/*
 * Issue 13 item 11: of two servers, the one whose port is closed (ICMP port
 * unreachable, ECONNREFUSED on the connected socket) ends its part at once as
 * one ERROR for the server: no retransmits, no per-host NO_ANSWER, and the
 * answering server's verdicts are all there.
 */
static void test_refusing_server_ends_at_once(void **state)
{
	struct dnsr *a = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), 0, true);
	char *hosts = write_file("hosts.txt", hosts_text, strlen(hosts_text));
	uint16_t closed = dnsr_closed_port();
	char *ini = NULL, spec[32];
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	if (asprintf(&ini, "[dns]\nservers = 127.0.0.1#%u, 127.0.0.1#%u\nhosts_file = %s\nwindow = 4\nrate_limit = 0\n"
		     HELLO_SITE, dnsr_port(a), closed, hosts) < 0)
		abort();
	snprintf(spec, sizeof(spec), "127.0.0.1#%u", closed);
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	check_classification(r); /* the answering server's part is whole */
	f = apf_test_expect(r, "HOSTREG_SERVER_REFUSED", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "server"), spec);
	assert_string_equal(apf_test_evidence(f, "retransmits"), "0");
	assert_true(atoi(apf_test_evidence(f, "queries")) <= 4); /* at most one window, never every host */
	assert_null(apf_test_find(r, "HOSTREG_NO_ANSWER"));
	assert_null(apf_test_find(r, "HOSTREG_INCOMPLETE"));
	assert_int_equal(r->status, APF_FAIL); /* the zone's own FAILs still decide */
	apf_run_free(run);
	free(ini);
	free(hosts);
	dnsr_stop(a);
}

/* A PTR names the device only on the Hello path: a site that activates host-based gets
 * INFO, one that has not said how it activates a WARN; the A verdicts do not change. */
static void test_ptr_rule_follows_profile(void **state)
{
	static const struct {
		const char *amt;
		enum apf_status st;
		const char *rule;
	} cases[] = {
		{"", APF_WARN, "needed only by remote configuration (Hello); [amt] activation is not set"},
		{"[amt]\nactivation = rps, meshcentral\n", APF_INFO,
		 "not needed for activation: [amt] activation = rps, meshcentral (host-based, no Hello)"},
		{"[amt]\nactivation = rps, remote-config\n", APF_FAIL, NULL},
	};
	struct dnsr *a = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), 0, true);
	char *hosts = write_file("hosts.txt", hosts_text, strlen(hosts_text));

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *ini = conf_amt(dnsr_port(a), hosts, cases[i].amt);
		struct apf_run *run = apf_test_run(ID, ini, 0);
		const struct apf_check_result *r = apf_test_result(run, ID);
		const char *rule = apf_test_evidence(apf_test_find(r, "HOSTREG_NO_PTR"), "ptr_rule");

		check_verdicts(r, cases[i].st);
		assert_string_equal(rule, apf_test_evidence(apf_test_find(r, "HOSTREG_PTR_MISMATCH"), "ptr_rule"));
		if (cases[i].rule)
			assert_string_equal(rule, cases[i].rule);
		else
			assert_non_null(strstr(rule, "needed: [amt] activation = "));
		apf_run_free(run);
		free(ini);
	}
	free(hosts);
	dnsr_stop(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classifies_each_host),
		cmocka_unit_test(test_truncated_answers_go_tcp),
		cmocka_unit_test(test_timeouts_are_errors),
		cmocka_unit_test(test_server_errors_are_errors_without_waiting),
		cmocka_unit_test(test_hostile_files_rejected),
		cmocka_unit_test(test_refusing_server_ends_at_once),
		cmocka_unit_test(test_ptr_rule_follows_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
