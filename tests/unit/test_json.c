/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alloc.h"
#include "apf_test.h"
#include "report.h"
#include "util.h"

static struct apf_run *sample(void)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));
	struct apf_finding *f;

	run->tool_version = apf_xstrdup("9.9");
	run->host = apf_xstrdup("host1");
	run->config_digest = apf_xstrdup("ab");
	run->started = 86400;
	run->duration_ms = 1234;
	run->checks = apf_xcalloc(2, sizeof(*run->checks));
	run->n_checks = 2;
	run->checks[0].id = "cert.provisioning";
	run->checks[0].title = "Provisioning certificate";
	f = apf_finding_new(APF_FAIL, "CERT_CHAIN_EXPIRED", "An intermediate expired");
	apf_finding_add_evidence(f, "subject", "CN=<script>alert(1)</script>");
	apf_finding_add_evidence(f, "bad_utf8", "a\xff\xfe" "b");
	apf_finding_add_evidence(f, "server", "192.0.2.1");
	apf_finding_add_evidence(f, "server", "192.0.2.2");
	apf_finding_set_remedy(f, "Renew it");
	apf_check_result_take_finding(&run->checks[0], f);
	run->checks[1].id = "dns.servers";
	run->checks[1].title = "DNS";
	apf_check_result_take_finding(&run->checks[1], apf_finding_new(APF_PASS, "DNS_OK", "fine"));
	apf_run_finish(run);
	return run;
}

static void test_json_round_trip(void **state)
{
	struct apf_run *run = sample();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t jerr;
	json_t *root, *c0, *fd, *ev;

	assert_int_equal(apf_report_json_write(run, f), 0);
	fclose(f);
	root = json_loads(buf, 0, &jerr);
	if (!root)
		fail_msg("invalid JSON: %s", jerr.text);
	assert_int_equal(json_integer_value(json_object_get(root, "schema_version")), APF_REPORT_SCHEMA_VERSION);
	assert_string_equal(json_string_value(json_object_get(root, "verdict")), "NOT READY");
	assert_int_equal(json_integer_value(json_object_get(root, "exit_code")), 2);
	assert_string_equal(json_string_value(json_object_get(root, "started")), "1970-01-02T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "counts"), "FAIL")), 1);
	c0 = json_array_get(json_object_get(root, "checks"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "id")), "cert.provisioning");
	assert_string_equal(json_string_value(json_object_get(c0, "area")), "cert");
	assert_string_equal(json_string_value(json_object_get(c0, "status")), "FAIL");
	fd = json_array_get(json_object_get(c0, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(fd, "code")), "CERT_CHAIN_EXPIRED");
	assert_string_equal(json_string_value(json_object_get(fd, "remediation")), "Renew it");
	ev = json_object_get(fd, "evidence");
	assert_string_equal(json_string_value(json_object_get(ev, "subject")), "CN=<script>alert(1)</script>");
	/* Invalid UTF-8 is replaced, not dropped, and the document stays valid. */
	assert_string_equal(json_string_value(json_object_get(ev, "bad_utf8")), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
	/* A repeated evidence key is kept under a suffix, in order. */
	assert_string_equal(json_string_value(json_object_get(ev, "server")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(ev, "server#2")), "192.0.2.2");
	{
		const char *first = NULL;
		void *it = json_object_iter(ev);
		first = json_object_iter_key(it);
		assert_string_equal(first, "subject");
	}
	json_decref(root);
	free(buf);
	apf_run_free(run);
}

static void test_text_has_verdict_and_no_escapes(void **state)
{
	struct apf_run *run = sample();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct apf_text_opts o = {0};

	apf_finding_add_evidence(run->checks[0].findings[0], "term", "\033[2Jcleared");
	assert_int_equal(apf_report_text_write(run, &o, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "Verdict: NOT READY"));
	assert_non_null(strstr(buf, "CERT_CHAIN_EXPIRED"));
	assert_null(strchr(buf, '\033')); /* terminal escapes from data are neutralised */
	free(buf);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_text_has_verdict_and_no_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
