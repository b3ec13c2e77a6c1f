/* SPDX-License-Identifier: MIT */
/* Text on the terminal: progress lines, then problems with evidence and remedy, then the verdict. */
#include <errno.h>
#include <string.h>

#include "report.h"

/* Paired with enum apf_status. */
static const char *const colors[APF_STATUS_COUNT] = {
	[APF_SKIP] = "\033[2m",
	[APF_PASS] = "\033[32m",
	[APF_INFO] = "\033[36m",
	[APF_WARN] = "\033[33m",
	[APF_ERROR] = "\033[35m",
	[APF_FAIL] = "\033[1;31m",
};
#define RESET "\033[0m"

static const char *const verdict_colors[APF_VERDICT_COUNT] = {
	[APF_VERDICT_READY] = "\033[1;32m",
	[APF_VERDICT_READY_WARNINGS] = "\033[1;33m",
	[APF_VERDICT_NOT_READY] = "\033[1;31m",
	[APF_VERDICT_INCOMPLETE] = "\033[1;35m",
};

/* Network data can hold terminal escapes: control characters print as '?'. */
static void put_clean(FILE *out, const char *s)
{
	apf_text_escape(out, s);
}

static void put_status(FILE *out, enum apf_status st, bool color)
{
	if (color)
		fprintf(out, "%s%-5s%s", colors[st], apf_status_name(st), RESET);
	else
		fprintf(out, "%-5s", apf_status_name(st));
}

void apf_report_progress_line(const struct apf_check_result *r, size_t done, size_t total, bool color, FILE *out)
{
	const struct apf_finding *w = apf_check_result_worst(r);
	int width = total >= 100 ? 3 : total >= 10 ? 2 : 1;

	fprintf(out, "[%*zu/%zu] ", width, done, total);
	put_status(out, r->status, color);
	fprintf(out, " %-26s", r->id);
	if (w && r->status != APF_PASS) {
		fputc(' ', out);
		put_clean(out, w->code);
	}
	fprintf(out, " (%llu ms)\n", (unsigned long long)r->duration_ms);
	fflush(out);
}

static void finding_text(FILE *out, const struct apf_finding *f, bool color)
{
	fputs("    ", out);
	put_status(out, f->status, color);
	fputc(' ', out);
	put_clean(out, f->code);
	fputs(": ", out);
	put_clean(out, f->message);
	fputc('\n', out);
	for (size_t i = 0; i < f->n_evidence; i++) {
		fputs("          ", out);
		put_clean(out, f->evidence[i].key);
		fputs(": ", out);
		put_clean(out, f->evidence[i].value);
		fputc('\n', out);
	}
	if (f->remediation && f->status >= APF_WARN) {
		fputs("          fix: ", out);
		put_clean(out, f->remediation);
		fputc('\n', out);
	}
}

int apf_report_text_write(const struct apf_run *run, const struct apf_text_opts *o, FILE *out)
{
	bool color = o && o->color, verbose = o && o->verbose;
	bool any = false;

	for (size_t i = 0; i < run->n_checks; i++) {
		const struct apf_check_result *r = &run->checks[i];
		bool show = verbose || r->status >= APF_WARN;
		if (!show)
			continue;
		if (!any)
			fputc('\n', out);
		any = true;
		put_status(out, r->status, color);
		fputc(' ', out);
		put_clean(out, r->id);
		fputs(" - ", out);
		put_clean(out, r->title);
		fputc('\n', out);
		for (size_t j = 0; j < r->n_findings; j++) {
			if (verbose || r->findings[j]->status >= APF_WARN)
				finding_text(out, r->findings[j], color);
		}
	}
	fputc('\n', out);
	if (color)
		fprintf(out, "Verdict: %s%s%s", verdict_colors[run->verdict], apf_verdict_name(run->verdict), RESET);
	else
		fprintf(out, "Verdict: %s", apf_verdict_name(run->verdict));
	fprintf(out, " (%zu check%s:", run->n_checks, run->n_checks == 1 ? "" : "s");
	for (int s = APF_STATUS_COUNT - 1; s >= 0; s--) {
		if (run->counts[s])
			fprintf(out, " %zu %s", run->counts[s], apf_status_name((enum apf_status)s));
	}
	fprintf(out, "; %llu.%01llu s)\n", (unsigned long long)run->duration_ms / 1000,
		(unsigned long long)(run->duration_ms % 1000) / 100);
	return ferror(out) ? -EIO : 0;
}
