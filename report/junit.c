/* SPDX-License-Identifier: MIT */
/*
 * JUnit XML for CI systems (Jenkins, GitLab): one <testcase> per check.
 *
 * FAIL -> <failure>, ERROR -> <error> (CI tools also keep "broken" and "could
 * not run" apart), SKIP -> <skipped/>. WARN, INFO and PASS are passing test
 * cases: JUnit has no "warning", and failing a pipeline on a warning is the
 * exit code's job (1), not the test report's. The message attribute is the
 * deciding finding's code and message; the element body lists every finding
 * with its evidence and remediation, so the CI's test view is self-sufficient.
 *
 * Every string goes through apf_html_escape(), whose output is valid XML 1.0
 * character data (controls and invalid UTF-8 replaced with U+FFFD).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"

static void apf_junit_seconds(FILE *out, uint64_t ms)
{
	fprintf(out, "%llu.%03llu", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

static void apf_junit_property(FILE *out, const char *name, const char *value)
{
	if (!value)
		return;
	fprintf(out, "<property name=\"%s\" value=\"", name);
	apf_html_escape(out, value);
	fputs("\"/>\n", out);
}

/* Plain-text list of all findings, for the element body or <system-out>. */
static void apf_junit_body(FILE *out, const struct apf_check_result *c)
{
	for (size_t i = 0; i < c->n_findings; i++) {
		const struct apf_finding *f = c->findings[i];
		const char *st = apf_status_name(f->status);

		fprintf(out, "[%s] ", st ? st : "UNKNOWN");
		apf_html_escape(out, f->code);
		fputs(": ", out);
		apf_html_escape(out, f->message);
		fputc('\n', out);
		for (size_t j = 0; j < f->n_evidence; j++) {
			fputs("  ", out);
			apf_html_escape(out, f->evidence[j].key);
			fputs(": ", out);
			apf_html_escape(out, f->evidence[j].value);
			fputc('\n', out);
		}
		if (f->remediation && *f->remediation) {
			fputs("  how to fix: ", out);
			apf_html_escape(out, f->remediation);
			fputc('\n', out);
		}
	}
}

static void apf_junit_testcase(FILE *out, const struct apf_check_result *c)
{
	const char *id = c->id ? c->id : "";
	const struct apf_finding *w = apf_check_result_worst(c);
	const char *elem = NULL;

	switch (c->status) {
	case APF_FAIL: elem = "failure"; break;
	case APF_ERROR: elem = "error"; break;
	case APF_SKIP: elem = "skipped"; break;
	default: break;
	}

	fputs("<testcase name=\"", out);
	apf_html_escape(out, id);
	/* classname groups the checks by area in CI test trees. */
	fputs("\" classname=\"amt-preflight.", out);
	apf_html_escape_n(out, id, strcspn(id, "."));
	fputs("\" time=\"", out);
	apf_junit_seconds(out, c->duration_ms);
	fputs("\">\n", out);

	if (elem) {
		fprintf(out, "<%s", elem);
		if (w) {
			fputs(" type=\"", out);
			apf_html_escape(out, w->code);
			fputs("\" message=\"", out);
			apf_html_escape(out, w->code);
			fputs(": ", out);
			apf_html_escape(out, w->message);
			fputs("\"", out);
		}
		if (c->status == APF_SKIP) {
			fputs("/>\n", out);
		} else {
			fputs(">", out);
			apf_junit_body(out, c);
			fprintf(out, "</%s>\n", elem);
		}
	}
	/* Passing and skipped checks still carry their evidence (what was verified). */
	if ((!elem || c->status == APF_SKIP) && c->n_findings) {
		fputs("<system-out>", out);
		apf_junit_body(out, c);
		fputs("</system-out>\n", out);
	}
	fputs("</testcase>\n", out);
}

int apf_report_junit_write(const struct apf_run *run, FILE *out)
{
	size_t failures = 0, errors = 0, skipped = 0;
	char stamp[32] = "1970-01-01T00:00:00";
	struct tm tm;
	int rc = 0;

	if (!run || !out)
		return -EINVAL;
	for (size_t i = 0; i < run->n_checks; i++) {
		switch (run->checks[i].status) {
		case APF_FAIL: failures++; break;
		case APF_ERROR: errors++; break;
		case APF_SKIP: skipped++; break;
		default: break;
		}
	}
	/* The JUnit schema's timestamp has no zone designator; it is UTC. */
	if (gmtime_r(&run->started, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"amt-preflight\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"",
		run->n_checks, failures, errors, skipped);
	apf_junit_seconds(out, run->duration_ms);
	fprintf(out, "\" timestamp=\"%s\">\n", stamp);

	fputs("<testsuite name=\"amt-preflight", out);
	if (run->site && *run->site) {
		fputs(" ", out);
		apf_html_escape(out, run->site);
	}
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"", run->n_checks,
		failures, errors, skipped);
	apf_junit_seconds(out, run->duration_ms);
	fprintf(out, "\" timestamp=\"%s\" hostname=\"", stamp);
	apf_html_escape(out, run->host ? run->host : "");
	fputs("\">\n<properties>\n", out);
	apf_junit_property(out, "tool_version", run->tool_version);
	apf_junit_property(out, "site", run->site);
	apf_junit_property(out, "config_path", run->config_path);
	apf_junit_property(out, "config_digest", run->config_digest);
	apf_junit_property(out, "verdict",
		(unsigned)run->verdict < APF_VERDICT_COUNT ? apf_verdict_name(run->verdict) : "UNKNOWN");
	fprintf(out, "<property name=\"exit_code\" value=\"%d\"/>\n", apf_verdict_exit_code(run->verdict));
	fputs("</properties>\n", out);

	for (size_t i = 0; i < run->n_checks; i++)
		apf_junit_testcase(out, &run->checks[i]);

	fputs("</testsuite>\n</testsuites>\n", out);
	if (fflush(out) != 0 || ferror(out))
		rc = -EIO;
	return rc;
}
