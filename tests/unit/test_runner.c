/* SPDX-License-Identifier: MIT */
/* The runner with checks of the test's own: deadlines, dependencies, opt-in, facts, order. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apf_test.h"
#include "check.h"
#include "runner.h"

static const struct apf_code codes[] = {
	{"T_OK", APF_PASS, "fine", NULL},
	{"T_BROKEN", APF_FAIL, "broken", "fix it"},
	{"T_FACT", APF_PASS, "fact seen", NULL},
	{NULL, 0, NULL, NULL},
};

static int run_pass(struct apf_ctx *ctx)
{
	usleep(50 * 1000); /* finishes after later-listed checks under --jobs > 1 */
	apf_report(ctx, APF_PASS, "T_OK", "all good");
	return 0;
}

static int run_fail(struct apf_ctx *ctx)
{
	struct apf_finding *f = apf_report(ctx, APF_FAIL, "T_BROKEN", "it is broken");
	apf_evidence(f, "server", "192.0.2.1");
	return 0;
}

static int run_stuck(struct apf_ctx *ctx)
{
	apf_ctx_step(ctx, "waiting for 192.0.2.99:389");
	sleep(5); /* a check that ignores its deadline */
	apf_report(ctx, APF_PASS, "T_OK", "too late");
	return 0;
}

static int run_empty(struct apf_ctx *ctx)
{
	return 0;
}

static int run_badcode(struct apf_ctx *ctx)
{
	apf_report(ctx, APF_PASS, "T_NOT_DECLARED", "oops");
	return 0;
}

static int run_publish(struct apf_ctx *ctx)
{
	apf_fact_add(ctx, "suffix", "corp.example.test");
	apf_fact_add(ctx, "suffix", "corp.example.test"); /* a set: stored once */
	apf_fact_add(ctx, "suffix", "lab.example.test");
	apf_report(ctx, APF_PASS, "T_OK", "published");
	return 0;
}

static int run_read(struct apf_ctx *ctx)
{
	const char *const *v = apf_fact_get(ctx, "t.publish", "suffix");
	const char *const *hidden = apf_fact_get(ctx, "t.pass", "anything");
	size_t n = 0;
	struct apf_finding *f;

	while (v && v[n])
		n++;
	f = apf_report(ctx, APF_PASS, "T_FACT", "read facts");
	apf_evidence(f, "count", "%zu", n);
	apf_evidence(f, "first", "%s", n ? v[0] : "");
	apf_evidence(f, "undeclared_visible", "%s", hidden ? "yes" : "no");
	return 0;
}

static int run_internal(struct apf_ctx *ctx)
{
	return -5; /* -EIO */
}

#define CHECK(sym, cid, fn, ...)                                                                                       \
	static const struct apf_check sym = {.id = cid, .title = cid, .summary = "s", .timeout_ms = 2000, .codes = codes,  \
					     .run = fn, __VA_ARGS__}

CHECK(c_pass, "t.pass", run_pass);
CHECK(c_fail, "t.fail", run_fail);
CHECK(c_dep, "t.dep", run_pass, .requires_checks = (const char *const[]){"t.fail", NULL});
CHECK(c_needs, "t.needs", run_pass, .requires_keys = (const char *const[]){"dns.servers", NULL});
CHECK(c_intrusive, "t.intrusive", run_pass, .flags = APF_CHECK_INTRUSIVE);
CHECK(c_empty, "t.empty", run_empty);
CHECK(c_badcode, "t.badcode", run_badcode);
CHECK(c_publish, "t.publish", run_publish);
CHECK(c_read, "t.read", run_read, .after = (const char *const[]){"t.publish", NULL});
CHECK(c_internal, "t.internal", run_internal);
CHECK(c_stuck, "t.stuck", run_stuck);

static const struct apf_check *const all[] = {&c_pass, &c_fail, &c_dep, &c_needs, &c_intrusive, &c_empty,
					      &c_badcode, &c_read, &c_publish, &c_internal};

static struct apf_run *run_with(const struct apf_check *const *checks, size_t n, const char *const *only,
				size_t n_only, int jobs, bool *abandoned)
{
	struct apf_config *cfg = apf_config_new_default();
	struct apf_run *run = NULL;
	struct apf_run_opts o = {.cfg = cfg, .checks = checks, .n_checks = n, .only = only, .n_only = n_only,
				 .jobs = jobs};

	assert_int_equal(apf_run_checks(&o, &run, abandoned), 0);
	apf_config_free(cfg);
	return run;
}

static void test_outcomes(void **state)
{
	for (int jobs = 1; jobs <= 4; jobs += 3) {
		bool abandoned = true;
		struct apf_run *run = run_with(all, sizeof(all) / sizeof(all[0]), NULL, 0, jobs, &abandoned);
		const struct apf_finding *f;

		assert_false(abandoned);
		assert_int_equal(run->n_checks, 10);
		/* Report order is the given order, whatever finished first. */
		for (size_t i = 0; i < run->n_checks; i++)
			assert_string_equal(run->checks[i].id, all[i]->id);
		assert_int_equal(apf_test_result(run, "t.pass")->status, APF_PASS);
		assert_int_equal(apf_test_result(run, "t.fail")->status, APF_FAIL);
		f = apf_test_expect(apf_test_result(run, "t.dep"), "CHECK_DEPENDENCY_FAILED", APF_SKIP);
		assert_string_equal(apf_test_evidence(f, "depends_on"), "t.fail");
		assert_string_equal(apf_test_evidence(f, "dependency_status"), "FAIL");
		f = apf_test_expect(apf_test_result(run, "t.needs"), "CHECK_MISSING_CONFIG", APF_SKIP);
		assert_string_equal(apf_test_evidence(f, "missing_key"), "dns.servers");
		apf_test_expect(apf_test_result(run, "t.intrusive"), "CHECK_OPT_IN", APF_SKIP);
		apf_test_expect(apf_test_result(run, "t.empty"), "CHECK_NO_RESULT", APF_ERROR);
		apf_test_expect(apf_test_result(run, "t.badcode"), "CHECK_UNDECLARED_CODE", APF_ERROR);
		apf_test_expect(apf_test_result(run, "t.internal"), "CHECK_INTERNAL", APF_ERROR);
		/* t.read is listed before t.publish but runs after it and sees its facts. */
		f = apf_test_expect(apf_test_result(run, "t.read"), "T_FACT", APF_PASS);
		assert_string_equal(apf_test_evidence(f, "count"), "2");
		assert_string_equal(apf_test_evidence(f, "first"), "corp.example.test");
		assert_string_equal(apf_test_evidence(f, "undeclared_visible"), "no");
		/* The remediation comes from the code table when the check gives none. */
		f = apf_test_find(apf_test_result(run, "t.fail"), "T_BROKEN");
		assert_string_equal(f->remediation, "fix it");
		assert_int_equal(run->verdict, APF_VERDICT_NOT_READY);
		apf_run_free(run);
	}
}

static void test_only_runs_intrusive_by_name(void **state)
{
	const char *const only[] = {"t.intrusive"};
	struct apf_run *run = run_with(all, sizeof(all) / sizeof(all[0]), only, 1, 2, NULL);

	assert_int_equal(run->n_checks, 1);
	apf_test_expect(apf_test_result(run, "t.intrusive"), "T_OK", APF_PASS);
	assert_int_equal(run->verdict, APF_VERDICT_READY);
	apf_run_free(run);
}

static void test_stuck_check_does_not_hold_the_report(void **state)
{
	const struct apf_check *const checks[] = {&c_stuck, &c_fail};
	struct apf_config *cfg = apf_config_new_default();
	struct apf_run *run = NULL;
	struct apf_run_opts o = {.cfg = cfg, .checks = checks, .n_checks = 2, .jobs = 2, .timeout_ms = 300};
	bool abandoned = false;
	const struct apf_finding *f;

	assert_int_equal(apf_run_checks(&o, &run, &abandoned), 0);
	assert_true(abandoned);
	f = apf_test_expect(apf_test_result(run, "t.stuck"), "CHECK_TIMEOUT", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "check"), "t.stuck");
	assert_string_equal(apf_test_evidence(f, "deadline_ms"), "300");
	assert_string_equal(apf_test_evidence(f, "last_step"), "waiting for 192.0.2.99:389");
	/* The run returned long before the stuck check's 5 s sleep ended. */
	assert_true(run->duration_ms < 4000);
	/* FAIL outranks the timeout's ERROR. */
	assert_int_equal(run->verdict, APF_VERDICT_NOT_READY);
	apf_run_free(run);
	apf_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_only_runs_intrusive_by_name),
		cmocka_unit_test(test_stuck_check_does_not_hold_the_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
