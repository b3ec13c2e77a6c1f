/* SPDX-License-Identifier: MIT */
/*
 * Scheduled-audit features: the comparison with a baseline (new, changed,
 * unchanged, fixed, regression), waivers (applied, expired, stale, malformed
 * files with FILE:LINE), the JSON report read back (versions 1 and 2), the
 * history directory and the monitoring-plugins output and its states.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "alloc.h"
#include "apf_test.h"
#include "compare.h"
#include "fleet.h"
#include "history.h"
#include "registry.h"
#include "report.h"
#include "runner.h"
#include "waiver.h"

/* ---- building runs ------------------------------------------------------ */

struct spec {
	const char *check, *code;
	enum apf_status st;
	const char *key, *value; /* one evidence pair, may be NULL */
};

static struct apf_run *make_run(const struct spec *s, size_t n)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));

	run->checks = apf_xcalloc(n + 1, sizeof(*run->checks));
	run->started = 1790000000; /* 2026-09-21 */
	for (size_t i = 0; i < n; i++) {
		struct apf_check_result *r = NULL;
		struct apf_finding *f = apf_finding_new(s[i].st, s[i].code, "a sentence");
		for (size_t k = 0; k < run->n_checks; k++)
			if (strcmp(run->checks[k].id, s[i].check) == 0)
				r = &run->checks[k];
		if (!r) {
			r = &run->checks[run->n_checks++];
			r->id = s[i].check;
			r->title = s[i].check;
		}
		if (s[i].key)
			apf_finding_add_evidence(f, s[i].key, s[i].value);
		apf_check_result_take_finding(r, f);
	}
	apf_run_finish(run);
	return run;
}

static const struct apf_finding *find(const struct apf_run *run, const char *check, const char *code, const char *value)
{
	for (size_t i = 0; i < run->n_checks; i++) {
		if (strcmp(run->checks[i].id, check) != 0)
			continue;
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			const struct apf_finding *f = run->checks[i].findings[j];
			if (strcmp(f->code, code) == 0 && (!value || (f->n_evidence && !strcmp(f->evidence[0].value, value))))
				return f;
		}
	}
	fail_msg("no finding %s %s", check, code);
	return NULL;
}

/* ---- comparison --------------------------------------------------------- */

static void test_compare_new_changed_fixed(void **state)
{
	const struct spec old_s[] = {
		{"ad.ldap", "AD_DC_UNREACHABLE", APF_ERROR, "dc", "dc1.corp.example.test"},
		{"ad.ldap", "AD_LDAP_OK", APF_PASS, "dc", "dc2.corp.example.test"},
		{"cert.provisioning", "CERT_EXPIRING", APF_WARN, "days_left", "40"},
		{"dns.provisionserver", "PS_OK", APF_PASS, NULL, NULL},
	};
	const struct spec new_s[] = {
		{"ad.ldap", "AD_LDAP_OK", APF_PASS, "dc", "dc1.corp.example.test"},
		{"ad.ldap", "AD_LDAP_OK", APF_PASS, "dc", "dc2.corp.example.test"},
		{"cert.provisioning", "CERT_EXPIRING", APF_WARN, "days_left", "12"},
		{"dns.provisionserver", "PS_MISSING", APF_FAIL, NULL, NULL},
	};
	struct apf_run *old = make_run(old_s, 4), *cur = make_run(new_s, 4);
	const struct apf_finding *f;

	(void)state;
	apf_compare_runs(cur, old, "old.json");
	assert_non_null(cur->baseline);
	/* dc1 recovered: a new PASS for dc1, and its ERROR is fixed */
	assert_int_equal(find(cur, "ad.ldap", "AD_LDAP_OK", "dc1.corp.example.test")->change, APF_CHANGE_NEW);
	assert_int_equal(find(cur, "ad.ldap", "AD_LDAP_OK", "dc2.corp.example.test")->change, APF_CHANGE_UNCHANGED);
	f = find(cur, "cert.provisioning", "CERT_EXPIRING", NULL);
	assert_int_equal(f->change, APF_CHANGE_CHANGED);
	assert_string_equal(f->change_detail, "days_left: 40 -> 12");
	assert_int_equal(find(cur, "dns.provisionserver", "PS_MISSING", NULL)->change, APF_CHANGE_NEW);
	assert_int_equal(cur->baseline->counts[APF_CHANGE_NEW], 2);
	assert_int_equal(cur->baseline->counts[APF_CHANGE_CHANGED], 1);
	assert_int_equal(cur->baseline->counts[APF_CHANGE_UNCHANGED], 1);
	/* A gone problem is fixed; a gone PASS (PS_OK) is not news. */
	assert_int_equal(cur->baseline->n_fixed, 1);
	assert_string_equal(cur->baseline->fixed[0].code, "AD_DC_UNREACHABLE");
	assert_int_equal(cur->baseline->fixed[0].status, APF_ERROR);
	assert_int_equal(apf_compare_regression(cur), APF_FAIL);
	apf_run_free(old);
	apf_run_free(cur);
}

static void test_compare_timings_and_order(void **state)
{
	/* Timings are not changes; findings without identifying evidence pair in order. */
	const struct spec old_s[] = {
		{"dns.servers", "DNSSRV_OK", APF_PASS, "answer_ms", "3"},
		{"dns.servers", "DNSSRV_OK", APF_PASS, "answer_ms", "4"},
	};
	const struct spec new_s[] = {
		{"dns.servers", "DNSSRV_OK", APF_PASS, "answer_ms", "9"},
		{"dns.servers", "DNSSRV_OK", APF_PASS, "answer_ms", "1"},
		{"dns.servers", "DNSSRV_OK", APF_PASS, "answer_ms", "2"},
	};
	struct apf_run *old = make_run(old_s, 2), *cur = make_run(new_s, 3);

	(void)state;
	apf_compare_runs(cur, old, NULL);
	assert_int_equal(cur->checks[0].findings[0]->change, APF_CHANGE_UNCHANGED);
	assert_int_equal(cur->checks[0].findings[1]->change, APF_CHANGE_UNCHANGED);
	assert_int_equal(cur->checks[0].findings[2]->change, APF_CHANGE_NEW);
	assert_int_equal(apf_compare_regression(cur), APF_SKIP); /* a new PASS is no regression */
	apf_run_free(old);
	apf_run_free(cur);
}

static void test_compare_worse_status_regresses(void **state)
{
	const struct spec old_s[] = {{"ca.revocation", "CA_CRL", APF_WARN, "url", "http://pki/x.crl"}};
	const struct spec new_s[] = {{"ca.revocation", "CA_CRL", APF_ERROR, "url", "http://pki/x.crl"}};
	struct apf_run *old = make_run(old_s, 1), *cur = make_run(new_s, 1);

	(void)state;
	apf_compare_runs(cur, old, NULL);
	assert_int_equal(cur->checks[0].findings[0]->change, APF_CHANGE_CHANGED);
	assert_string_equal(cur->checks[0].findings[0]->change_detail, "status: WARN -> ERROR");
	assert_int_equal(apf_compare_regression(cur), APF_ERROR);
	/* and the other way round: better is no regression */
	apf_compare_runs(old, cur, NULL);
	assert_int_equal(apf_compare_regression(old), APF_SKIP);
	apf_run_free(old);
	apf_run_free(cur);
}

/* ---- waivers ------------------------------------------------------------ */

static char *write_tmp(const char *name, const char *text)
{
	char *path = apf_xasprintf("%s/%s", apf_test_tmpdir(), name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void rm_tmp(char *path)
{
	char *slash = strrchr(path, '/');

	unlink(path);
	*slash = '\0';
	rmdir(path);
	free(path);
}

/* Real codes of real checks, so the file validates against this build. */
#define WAIVERS                                                                                                    \
	"# accepted risks\n"                                                                                       \
	"[branch-single-dc]\n"                                                                                     \
	"code = AD_DC_UNREACHABLE\n"                                                                               \
	"check = ad.ldap\n"                                                                                        \
	"match = DC1.corp\n"                                                                                       \
	"justification = Branch DC decommissioned, replacement in Q1\n"                                           \
	"owner = jane@corp.example.test\n"                                                                         \
	"expires = 2026-12-31\n"                                                                                   \
	"\n"                                                                                                       \
	"[old-crl]\n"                                                                                              \
	"code = CA_CRL_UNREACHABLE\n"                                                                              \
	"justification = Legacy CDP, replaced\n"                                                                   \
	"owner = pki-team\n"                                                                                       \
	"expires = 2026-01-31\n"                                                                                   \
	"\n"                                                                                                       \
	"[nothing-matches]\n"                                                                                      \
	"code = DHCP_NO_REPLY\n"                                                                                   \
	"justification = x\n"                                                                                      \
	"owner = y\n"                                                                                              \
	"expires = 2027-06-30\n"

static void test_waivers_applied_expired_stale(void **state)
{
	const struct spec s[] = {
		{"ad.ldap", "AD_DC_UNREACHABLE", APF_ERROR, "dc", "dc1.corp.example.test"},
		{"ad.ldap", "AD_DC_UNREACHABLE", APF_ERROR, "dc", "dc2.corp.example.test"},
		{"ca.revocation", "CA_CRL_UNREACHABLE", APF_ERROR, "url", "http://old/x.crl"},
		{"cert.provisioning", "CERT_EXPIRING", APF_WARN, NULL, NULL},
	};
	struct apf_run *run = make_run(s, 4);
	struct apf_waivers *w = NULL;
	char *err = NULL, *path = write_tmp("waivers.ini", WAIVERS);
	const struct apf_finding *f;

	(void)state;
	assert_int_equal(apf_waivers_load(path, &w, &err), 0);
	apf_waivers_apply(w, run, run->started); /* 2026-09-21 */
	f = find(run, "ad.ldap", "AD_DC_UNREACHABLE", "dc1.corp.example.test");
	assert_non_null(f->waiver);
	assert_false(f->waiver->expired);
	assert_string_equal(f->waiver->id, "branch-single-dc");
	assert_null(find(run, "ad.ldap", "AD_DC_UNREACHABLE", "dc2.corp.example.test")->waiver); /* match is per DC */
	f = find(run, "ca.revocation", "CA_CRL_UNREACHABLE", NULL);
	assert_non_null(f->waiver);
	assert_true(f->waiver->expired);
	assert_int_equal(run->n_waivers, 3);
	assert_int_equal(run->waivers[0].outcome, APF_WAIVER_APPLIED);
	assert_int_equal(run->waivers[0].matched, 1);
	assert_int_equal(run->waivers[1].outcome, APF_WAIVER_EXPIRED);
	assert_int_equal(run->waivers[2].outcome, APF_WAIVER_STALE);
	assert_int_equal(run->n_waived, 1);
	/* dc2's ERROR and the expired waiver's ERROR still count */
	assert_int_equal(run->checks[0].status, APF_ERROR);
	assert_int_equal(run->verdict, APF_VERDICT_INCOMPLETE);
	apf_waivers_free(w);
	apf_run_free(run);
	rm_tmp(path);
}

static void test_waiver_lowers_verdict(void **state)
{
	const struct spec s[] = {
		{"ad.ldap", "AD_DC_UNREACHABLE", APF_ERROR, "dc", "dc1.corp.example.test"},
		{"ad.ldap", "AD_LDAP_OK", APF_PASS, "dc", "dc3.corp.example.test"},
	};
	struct apf_run *run = make_run(s, 2);
	struct apf_waivers *w = NULL;
	char *err = NULL, *path = write_tmp("waivers.ini", WAIVERS);

	(void)state;
	assert_int_equal(run->verdict, APF_VERDICT_INCOMPLETE);
	assert_int_equal(apf_waivers_load(path, &w, &err), 0);
	apf_waivers_apply(w, run, run->started);
	/* the only problem is waived: the check is INFO, the run READY */
	assert_int_equal(run->checks[0].status, APF_INFO);
	assert_int_equal(run->verdict, APF_VERDICT_READY);
	/* the same run a year later: the waiver has expired */
	apf_run_free(run);
	run = make_run(s, 2);
	apf_waivers_apply(w, run, run->started + 366 * 86400);
	assert_int_equal(run->verdict, APF_VERDICT_INCOMPLETE);
	assert_int_equal(run->waivers[0].outcome, APF_WAIVER_EXPIRED);
	apf_waivers_free(w);
	apf_run_free(run);
	rm_tmp(path);
}

static void test_waiver_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"code = AD_DC_UNREACHABLE\n", ":1: 'code' is outside"},
		{"[a]\ncode = NOT_A_CODE\n", ":2: [a] code 'NOT_A_CODE' is not a finding code"},
		{"[a]\ncode = AD_DC_UNREACHABLE\nexpires = 2027-02-31\n", ":3: [a] expires '2027-02-31' is not a date"},
		{"[a]\ncode = AD_DC_UNREACHABLE\ncolour = red\n", ":3: [a] unknown key 'colour'"},
		{"[a]\ncode = AD_DC_UNREACHABLE\ncheck = ad.nope\n", ":3: [a] check 'ad.nope' is not a check id"},
		{"\n\n[a]\ncode = AD_DC_UNREACHABLE\nowner = x\nexpires = 2027-01-01\n", ":3: waiver [a] has no justification"},
		{"[a]\ncode = AD_DC_UNREACHABLE\n[b]\ncode = AD_DC_UNREACHABLE\n[a]\nowner = x\n", ":6: waiver [a] is given twice"},
		{"[a]\ncode = AD_DC_UNREACHABLE\ncode = AD_DC_UNREACHABLE\n", ":3: [a] code is given twice"},
		{"[a\n", ":1:"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_tmp("bad.ini", cases[i].text), *err = NULL;
		struct apf_waivers *w = NULL;
		assert_int_equal(apf_waivers_load(path, &w, &err), -EINVAL);
		assert_null(w);
		assert_non_null(err);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
		assert_non_null(strstr(err, "bad.ini"));
		free(err);
		rm_tmp(path);
	}
}

/* ---- JSON read back, history ---------------------------------------------- */

static void test_json_round_trip_and_versions(void **state)
{
	const struct spec s[] = {
		{"ad.ldap", "AD_DC_UNREACHABLE", APF_ERROR, "dc", "dc1.corp.example.test"},
		{"cert.provisioning", "CERT_EXPIRING", APF_WARN, "days_left", "12"},
	};
	struct apf_run *run = make_run(s, 2), *back = NULL;
	char *dir = apf_xstrdup(apf_test_tmpdir()), *path = apf_xasprintf("%s/r.json", dir), *err = NULL;
	char *v1 = apf_xasprintf("%s/v1.json", dir), *v9 = apf_xasprintf("%s/v9.json", dir);
	FILE *f;
	double v;

	(void)state;
	apf_check_result_add_metric(&run->checks[1], "prov_chain_days_left", 12, "");
	assert_int_equal(apf_report_write(run, APF_REPORT_JSON, path), 0);
	assert_int_equal(apf_report_json_read(path, &back, &err), 0);
	assert_int_equal(back->n_checks, 2);
	assert_string_equal(back->checks[0].id, "ad.ldap");
	assert_string_equal(back->checks[0].findings[0]->evidence[0].value, "dc1.corp.example.test");
	assert_int_equal(back->verdict, run->verdict);
	assert_int_equal(back->started, run->started);
	assert_true(apf_run_metric_min(back, "prov_chain_days_left", &v));
	assert_true(v == 12);
	apf_run_free(back);
	back = NULL;

	/* a version 1 report (no metrics, no waivers) is read */
	f = fopen(v1, "w");
	fputs("{\"schema_version\":1,\"tool\":{\"name\":\"amt-preflight\",\"version\":\"0.1.0\"},"
	      "\"started\":\"2026-01-02T03:04:05Z\",\"checks\":[{\"id\":\"dns.servers\",\"title\":\"t\",\"findings\":"
	      "[{\"status\":\"FAIL\",\"code\":\"DNSSRV_X\",\"message\":\"m\",\"evidence\":{\"server\":\"a\",\"server#2\":\"b\"},"
	      "\"remediation\":null}]}]}",
	      f);
	fclose(f);
	assert_int_equal(apf_report_json_read(v1, &back, &err), 0);
	assert_int_equal(back->verdict, APF_VERDICT_NOT_READY);
	assert_string_equal(back->checks[0].findings[0]->evidence[1].key, "server"); /* "#2" folded back */
	apf_run_free(back);
	back = NULL;

	/* a newer schema is refused, naming the versions this build reads */
	f = fopen(v9, "w");
	fputs("{\"schema_version\":9,\"tool\":{\"name\":\"amt-preflight\"},\"checks\":[]}", f);
	fclose(f);
	assert_int_equal(apf_report_json_read(v9, &back, &err), -EINVAL);
	assert_non_null(strstr(err, "schema version 9"));
	assert_non_null(strstr(err, "newer release"));
	free(err);
	err = NULL;
	/* something else entirely */
	assert_true(apf_report_json_read(dir, &back, &err) < 0);
	assert_null(back);
	free(err);

	unlink(path);
	unlink(v1);
	unlink(v9);
	rmdir(dir);
	free(path);
	free(v1);
	free(v9);
	free(dir);
	apf_run_free(run);
}

static void test_history_keeps_n(void **state)
{
	const struct spec s[] = {{"dns.servers", "DNSSRV_OK", APF_PASS, NULL, NULL}};
	struct apf_run *run = make_run(s, 1);
	char *dir = apf_xstrdup(apf_test_tmpdir()), *err = NULL, *latest;
	int files = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		run->started += 86400;
		assert_int_equal(apf_history_save(dir, run, 3, &err), 0);
	}
	latest = apf_history_latest(dir);
	assert_non_null(latest);
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^report-.*Z.json$'", dir);
		FILE *p = popen(cmd, "r");
		assert_int_equal(fscanf(p, "%d", &files), 1);
		pclose(p);
	}
	assert_int_equal(files, 3);
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	free(latest);
	free(dir);
	apf_run_free(run);
}

/* ---- monitoring-plugins output -------------------------------------------- */

static void test_ranges(void **state)
{
	struct apf_range r;

	(void)state;
	assert_int_equal(apf_range_parse("10", &r), 0);
	assert_true(apf_range_alert(&r, 11) && apf_range_alert(&r, -1) && !apf_range_alert(&r, 5));
	assert_int_equal(apf_range_parse("30:", &r), 0);
	assert_true(apf_range_alert(&r, 29) && !apf_range_alert(&r, 30) && !apf_range_alert(&r, 1e9));
	assert_int_equal(apf_range_parse("~:10", &r), 0);
	assert_true(apf_range_alert(&r, 11) && !apf_range_alert(&r, -1e9));
	assert_int_equal(apf_range_parse("@10:20", &r), 0);
	assert_true(apf_range_alert(&r, 15) && !apf_range_alert(&r, 21));
	assert_int_equal(apf_range_parse("20:10", &r), -EINVAL);
	assert_int_equal(apf_range_parse("x", &r), -EINVAL);
	assert_int_equal(apf_range_parse("1:x", &r), -EINVAL);
}

/* Every ERROR code, the runner's included, has a decided plugin state. */
static void test_every_error_code_has_a_state(void **state)
{
	size_t missing = 0;

	(void)state;
	for (size_t i = 0; i < apf_registry_count(); i++) {
		for (const struct apf_code *k = apf_registry_at(i)->codes; k && k->code; k++) {
			bool found = false;
			if (k->status != APF_ERROR)
				continue;
			for (const struct apf_nagios_error_state *e = apf_nagios_error_states; e->code; e++)
				found |= strcmp(e->code, k->code) == 0;
			if (!found) {
				print_error("ERROR code %s (%s) has no state in report/nagios.c\n", k->code,
					    apf_registry_at(i)->id);
				missing++;
			}
		}
	}
	for (const struct apf_code *k = apf_runner_codes; k->code; k++) {
		bool found = false;
		for (const struct apf_nagios_error_state *e = apf_nagios_error_states; e->code; e++)
			found |= strcmp(e->code, k->code) == 0;
		if (k->status == APF_ERROR && !found) {
			print_error("runner ERROR code %s has no state in report/nagios.c\n", k->code);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

static char *nagios_text(const struct apf_run *run, const struct apf_nagios_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(apf_report_nagios_write(run, o, f), 0);
	fclose(f);
	return buf;
}

static void test_nagios_states_and_perfdata(void **state)
{
	/* An unreachable DC pages; an unreachable OCSP responder only warns; a file the
	 * plugin cannot read is UNKNOWN; a known FAIL outranks UNKNOWN. */
	const struct spec dc[] = {{"ad.ldap", "AD_DC_UNREACHABLE", APF_ERROR, "dc", "dc1"}};
	const struct spec ocsp[] = {{"ca.revocation", "CA_OCSP_UNREACHABLE", APF_ERROR, NULL, NULL}};
	const struct spec file[] = {{"cert.provisioning", "CERT_FILE_UNREADABLE", APF_ERROR, NULL, NULL}};
	const struct spec both[] = {
		{"cert.provisioning", "CERT_FILE_UNREADABLE", APF_ERROR, NULL, NULL},
		{"dns.provisionserver", "PS_MISSING", APF_FAIL, NULL, NULL},
	};
	const struct spec ok[] = {{"dns.servers", "DNSSRV_OK", APF_PASS, NULL, NULL}};
	struct apf_run *r;
	struct apf_threshold t = {.metric = "prov_chain_days_left", .has_warn = true, .has_crit = true};
	struct apf_nagios_opts o = {&t, 1};
	char *out;

	(void)state;
	r = make_run(dc, 1);
	assert_int_equal(apf_nagios_state(r, NULL), APF_NAGIOS_CRITICAL);
	apf_run_free(r);
	r = make_run(ocsp, 1);
	assert_int_equal(apf_nagios_state(r, NULL), APF_NAGIOS_WARNING);
	apf_run_free(r);
	r = make_run(file, 1);
	assert_int_equal(apf_nagios_state(r, NULL), APF_NAGIOS_UNKNOWN);
	apf_run_free(r);
	r = make_run(both, 2);
	assert_int_equal(apf_nagios_state(r, NULL), APF_NAGIOS_CRITICAL);
	out = nagios_text(r, NULL);
	assert_non_null(strstr(out, "\nCRITICAL: dns.provisionserver PS_MISSING: a sentence\n"));
	assert_non_null(strstr(out, "\nUNKNOWN: cert.provisioning CERT_FILE_UNREADABLE: a sentence\n"));
	free(out);
	apf_run_free(r);

	/* thresholds on the metric; perfdata carries the value and the ranges */
	r = make_run(ok, 1);
	apf_check_result_add_metric(&r->checks[0], "prov_chain_days_left", 20, "");
	assert_int_equal(apf_range_parse("30:", &t.warn), 0);
	assert_int_equal(apf_range_parse("7:", &t.crit), 0);
	assert_int_equal(apf_nagios_state(r, &o), APF_NAGIOS_WARNING);
	out = nagios_text(r, &o);
	assert_true(strncmp(out, "AMT-PREFLIGHT WARNING - READY: 0 FAIL, 0 ERROR, 0 WARN of 1 checks |", 68) == 0);
	assert_non_null(strstr(out, " prov_chain_days_left=20;30:;7:;; "));
	assert_non_null(strstr(out, " checks_PASS=1;;;0;1 "));
	free(out);
	r->checks[0].metrics[0].value = 3;
	assert_int_equal(apf_nagios_state(r, &o), APF_NAGIOS_CRITICAL);
	apf_run_free(r);
}

static void test_nagios_hostile_text(void **state)
{
	/* A message cannot add a line or a '|' (which would start perfdata). */
	const struct spec s[] = {{"dns.provisionserver", "PS_MISSING", APF_FAIL, NULL, NULL}};
	struct apf_run *r = make_run(s, 1);
	char *out;

	(void)state;
	free(r->checks[0].findings[0]->message);
	r->checks[0].findings[0]->message = apf_xstrdup("a|b\nOK - fake | x=1\033[2J");
	out = nagios_text(r, NULL);
	/* one '|' in the status line (before the perfdata), none after it */
	assert_non_null(strstr(out, " | "));
	assert_true(strchr(out, '|') == strstr(out, " | ") + 1);
	assert_null(strchr(strchr(out, '|') + 1, '|'));
	assert_null(strchr(out, '\033'));
	assert_non_null(strstr(out, "CRITICAL: dns.provisionserver PS_MISSING: a/b?OK - fake / x=1?[2J\n"));
	free(out);
	apf_run_free(r);
}

static void test_nothing_checked_is_unknown(void **state)
{
	const struct spec s[] = {{"dns.servers", "CHECK_SKIPPED", APF_SKIP, NULL, NULL}};
	struct apf_run *r = make_run(s, 1);

	(void)state;
	assert_int_equal(apf_nagios_state(r, NULL), APF_NAGIOS_UNKNOWN);
	apf_run_free(r);
}

/* ---- fleet ---------------------------------------------------------------- */

static void test_fleet_merge(void **state)
{
	const struct spec a[] = {{"dns.provisionserver", "PS_MISSING", APF_FAIL, NULL, NULL},
				 {"ad.ldap", "AD_SINGLE_DC", APF_WARN, NULL, NULL}};
	const struct spec b[] = {{"ad.ldap", "AD_SINGLE_DC", APF_WARN, NULL, NULL},
				 {"ca.revocation", "CA_OCSP_UNREACHABLE", APF_ERROR, NULL, NULL}};
	const struct spec c[] = {{"ad.ldap", "AD_SINGLE_DC", APF_WARN, NULL, NULL}};
	struct apf_run *runs[3] = {make_run(a, 2), make_run(b, 2), make_run(c, 1)};
	const char *paths[3] = {"/r/a.json", "/r/b.json", "/r/c.json"};
	struct apf_fleet *f;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	json_t *j;
	json_error_t jerr;

	(void)state;
	runs[0]->site = apf_xstrdup("Store 1");
	runs[1]->host = apf_xstrdup("probe-b");
	f = apf_fleet_new((const struct apf_run *const *)runs, paths, 3);
	assert_int_equal(f->verdict, APF_VERDICT_NOT_READY);
	assert_string_equal(f->sites[0].name, "Store 1");
	assert_string_equal(f->sites[1].name, "probe-b");
	assert_string_equal(f->sites[2].name, "c.json");
	assert_int_equal(f->n_problems, 3);
	/* worst first, then the most widespread */
	assert_string_equal(f->problems[0].code, "PS_MISSING");
	assert_string_equal(f->problems[1].code, "CA_OCSP_UNREACHABLE");
	assert_string_equal(f->problems[2].code, "AD_SINGLE_DC");
	assert_int_equal(f->problems[2].n_sites, 3);
	out = open_memstream(&buf, &len);
	assert_int_equal(apf_fleet_json_write(f, out), 0);
	fclose(out);
	j = json_loads(buf, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "NOT READY");
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(j, "problems"), 2), "sites")), 3);
	json_decref(j);
	free(buf);
	apf_fleet_free(f);
	/* INCOMPLETE outranks READY WITH WARNINGS, NOT READY outranks INCOMPLETE */
	f = apf_fleet_new((const struct apf_run *const *)runs + 1, paths + 1, 2);
	assert_int_equal(f->verdict, APF_VERDICT_INCOMPLETE);
	apf_fleet_free(f);
	for (int i = 0; i < 3; i++)
		apf_run_free(runs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_new_changed_fixed),
		cmocka_unit_test(test_compare_timings_and_order),
		cmocka_unit_test(test_compare_worse_status_regresses),
		cmocka_unit_test(test_waivers_applied_expired_stale),
		cmocka_unit_test(test_waiver_lowers_verdict),
		cmocka_unit_test(test_waiver_file_errors),
		cmocka_unit_test(test_json_round_trip_and_versions),
		cmocka_unit_test(test_history_keeps_n),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_every_error_code_has_a_state),
		cmocka_unit_test(test_nagios_states_and_perfdata),
		cmocka_unit_test(test_nagios_hostile_text),
		cmocka_unit_test(test_nothing_checked_is_unknown),
		cmocka_unit_test(test_fleet_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
