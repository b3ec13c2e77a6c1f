/* SPDX-License-Identifier: MIT */
/* The JUnit XML report: counts match the model, one testcase per check, escaped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "report.h"
#include "../browser/render_mem.h"
#include "../browser/sample_run.h"

static const char *const xml_tags[] = {
	"?xml", "testsuites", "testsuite", "properties", "property", "testcase", "failure", "error", "skipped",
	"system-out", NULL,
};

static char *render(const struct apf_run *run)
{
	int rc;
	char *xml = apf_render_mem(apf_report_junit_write, run, &rc);

	assert_int_equal(rc, 0);
	return xml;
}

/* Value of attribute `name` of the first element `elem` as a number. */
static long attr(const char *xml, const char *elem, const char *name)
{
	char *open = apf_xasprintf("<%s ", elem), *key = apf_xasprintf(" %s=\"", name);
	const char *p = strstr(xml, open), *end;
	long v = -1;

	assert_non_null(p);
	end = strchr(p, '>');
	p = strstr(p, key);
	assert_non_null(p);
	assert_true(p < end);
	v = strtol(p + strlen(key), NULL, 10);
	free(open);
	free(key);
	return v;
}

static void test_counts(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *xml = render(run);

	(void)state;
	assert_true(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	for (int i = 0; i < 2; i++) {
		const char *elem = i ? "testsuite" : "testsuites";
		assert_int_equal(attr(xml, elem, "tests"), (long)run->n_checks);
		assert_int_equal(attr(xml, elem, "failures"), (long)run->counts[APF_FAIL]);
		assert_int_equal(attr(xml, elem, "errors"), (long)run->counts[APF_ERROR]);
		assert_int_equal(attr(xml, elem, "skipped"), (long)run->counts[APF_SKIP]);
	}
	/* The sample has 2 FAIL, 1 ERROR, 1 SKIP: make sure the model is what we think. */
	assert_int_equal(run->counts[APF_FAIL], 2);
	assert_int_equal(run->counts[APF_ERROR], 1);
	assert_int_equal(run->counts[APF_SKIP], 1);
	assert_int_equal(apf_count(xml, "<testcase "), run->n_checks);
	assert_int_equal(apf_count(xml, "<failure "), run->counts[APF_FAIL]);
	assert_int_equal(apf_count(xml, "<error "), run->counts[APF_ERROR]);
	assert_int_equal(apf_count(xml, "<skipped "), run->counts[APF_SKIP]);
	assert_int_equal(attr(xml, "testsuites", "time"), 4); /* 4.321 s */
	assert_non_null(strstr(xml, "timestamp=\"2024-05-06T12:53:20\""));
	assert_non_null(strstr(xml, "<property name=\"exit_code\" value=\"2\"/>"));
	free(xml);
	apf_run_free(run);
}

static void test_case_content(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *xml = render(run);

	(void)state;
	/* message = deciding finding's code + message; body = every finding with evidence */
	assert_non_null(strstr(xml, "<testcase name=\"cert.provisioning\" classname=\"amt-preflight.cert\" time=\"0.212\">\n"
				    "<failure type=\"CERT_CHAIN_EXPIRED\" message=\"CERT_CHAIN_EXPIRED: The intermediate"));
	assert_non_null(strstr(xml, "[FAIL] CERT_CHAIN_EXPIRED: "));
	assert_non_null(strstr(xml, "  sha1: d1eb23a46d17d68fd92564c2f1f1601764d8e349\n"));
	assert_non_null(strstr(xml, "[PASS] CERT_OID_OK: "));
	assert_non_null(strstr(xml, "  how to fix: Re-export the PFX"));
	assert_non_null(strstr(xml, "<error type=\"LDAP_TIMEOUT\" message=\"LDAP_TIMEOUT: "));
	assert_non_null(strstr(xml, "<skipped type=\"CHECK_SKIPPED\" message=\"CHECK_SKIPPED: "));
	/* WARN passes in JUnit but keeps its evidence */
	assert_non_null(strstr(xml, "<system-out>[WARN] DNS_PS_TTL_LONG: "));
	assert_null(apf_bad_tag(xml, xml_tags, false));
	free(xml);
	apf_run_free(run);
}

static void test_hostile(void **state)
{
	struct apf_run *run = apf_sample_run(true);
	char *xml = render(run);
	const char *bad;

	(void)state;
	assert_null(strstr(xml, APF_SAMPLE_SCRIPT));
	assert_null(strstr(xml, APF_SAMPLE_IMG));
	bad = apf_bad_tag(xml, xml_tags, false);
	if (bad)
		fail_msg("unexpected tag at: %.80s", bad);
	/* XML 1.0 forbids most control characters; invalid UTF-8 makes the file unparseable. */
	assert_true(apf_clean_utf8(xml));
	assert_non_null(strstr(xml, "hostname=\"client&quot;&#39;&gt;&lt;img"));
	assert_int_equal(attr(xml, "testsuite", "failures"), 3);
	free(xml);
	apf_run_free(run);
}

static void test_hostile_id_and_code(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *xml;

	(void)state;
	run->checks[0].id = "ad.<script>\x01\xff";
	free(run->checks[0].findings[0]->code);
	run->checks[0].findings[0]->code = apf_xstrdup("X\"<b>");
	xml = render(run);
	assert_null(apf_bad_tag(xml, xml_tags, false));
	assert_true(apf_clean_utf8(xml));
	assert_non_null(strstr(xml, "<testcase name=\"ad.&lt;script&gt;\xEF\xBF\xBD\xEF\xBF\xBD\" classname=\"amt-preflight.ad\""));
	assert_non_null(strstr(xml, "<error type=\"X&quot;&lt;b&gt;\""));
	free(xml);
	apf_run_free(run);
}

static void test_empty_run(void **state)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));
	char *xml;

	(void)state;
	apf_run_finish(run);
	xml = render(run);
	assert_int_equal(attr(xml, "testsuite", "tests"), 0);
	assert_non_null(strstr(xml, "</testsuite>\n</testsuites>\n"));
	free(xml);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_case_content),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_hostile_id_and_code),
		cmocka_unit_test(test_empty_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
