/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "alloc.h"
#include "apf_test.h"
#include "result.h"

static void test_names_cover_every_value(void **state)
{
	enum apf_status st;

	for (int i = 0; i < APF_STATUS_COUNT; i++) {
		assert_non_null(apf_status_name((enum apf_status)i));
		assert_int_equal(apf_status_parse(apf_status_name((enum apf_status)i), &st), 0);
		assert_int_equal(st, i);
	}
	assert_null(apf_status_name(APF_STATUS_COUNT));
	for (int v = 0; v < APF_VERDICT_COUNT; v++)
		assert_non_null(apf_verdict_name((enum apf_verdict)v));
}

static void test_severity_order(void **state)
{
	/* ERROR (could not check) sorts below FAIL and above WARN; SKIP is the least. */
	assert_true(APF_SKIP < APF_PASS);
	assert_true(APF_PASS < APF_INFO);
	assert_true(APF_INFO < APF_WARN);
	assert_true(APF_WARN < APF_ERROR);
	assert_true(APF_ERROR < APF_FAIL);
}

static struct apf_run *make_run(const enum apf_status *sts, size_t n)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));

	run->checks = apf_xcalloc(n, sizeof(*run->checks));
	run->n_checks = n;
	for (size_t i = 0; i < n; i++) {
		run->checks[i].id = "x.y";
		run->checks[i].title = "t";
		if (sts[i] != APF_SKIP)
			apf_check_result_take_finding(&run->checks[i], apf_finding_new(APF_PASS, "OK", "fine"));
		apf_check_result_take_finding(&run->checks[i], apf_finding_new(sts[i], "C", "m"));
	}
	apf_run_finish(run);
	return run;
}

static void test_verdicts_and_exit_codes(void **state)
{
	const struct {
		enum apf_status sts[3];
		enum apf_verdict v;
		int code;
	} cases[] = {
		{{APF_PASS, APF_INFO, APF_SKIP}, APF_VERDICT_READY, 0},
		{{APF_PASS, APF_WARN, APF_SKIP}, APF_VERDICT_READY_WARNINGS, 1},
		{{APF_FAIL, APF_WARN, APF_PASS}, APF_VERDICT_NOT_READY, 2},
		{{APF_ERROR, APF_WARN, APF_PASS}, APF_VERDICT_INCOMPLETE, 3},
		/* Known broken outranks could-not-check. */
		{{APF_ERROR, APF_FAIL, APF_PASS}, APF_VERDICT_NOT_READY, 2},
		/* Nothing checked is not ready. */
		{{APF_SKIP, APF_SKIP, APF_SKIP}, APF_VERDICT_INCOMPLETE, 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apf_run *run = make_run(cases[i].sts, 3);
		assert_int_equal(run->verdict, cases[i].v);
		assert_int_equal(apf_verdict_exit_code(run->verdict), cases[i].code);
		apf_run_free(run);
	}
}

static void test_check_status_is_worst_finding(void **state)
{
	const enum apf_status sts[1] = {APF_WARN};
	struct apf_run *run = make_run(sts, 1);

	assert_int_equal(run->checks[0].status, APF_WARN);
	assert_int_equal(run->counts[APF_WARN], 1);
	assert_int_equal(run->counts[APF_PASS], 0);
	assert_int_equal(apf_run_worst(run), APF_WARN);
	apf_run_free(run);
}

static void test_evidence_is_ordered(void **state)
{
	struct apf_finding *f = apf_finding_new(APF_FAIL, "X", "m");

	apf_finding_add_evidence(f, "query", "a");
	apf_finding_add_evidence(f, "server", "b");
	apf_finding_add_evidence(f, "answer", "c");
	assert_int_equal(f->n_evidence, 3);
	assert_string_equal(f->evidence[0].key, "query");
	assert_string_equal(f->evidence[2].value, "c");
	apf_finding_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_cover_every_value),
		cmocka_unit_test(test_severity_order),
		cmocka_unit_test(test_verdicts_and_exit_codes),
		cmocka_unit_test(test_check_status_is_worst_finding),
		cmocka_unit_test(test_evidence_is_ordered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
