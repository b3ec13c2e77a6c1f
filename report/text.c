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
	if (f->waiver) {
		fputs(f->waiver->expired ? "          waiver EXPIRED: " : "          waived: ", out);
		put_clean(out, f->waiver->id);
		fputs(" (", out);
		put_clean(out, f->waiver->owner);
		fputs(", until ", out);
		put_clean(out, f->waiver->expires);
		fputs("): ", out);
		put_clean(out, f->waiver->justification);
		fputc('\n', out);
	}
	if (f->change == APF_CHANGE_CHANGED && f->change_detail) {
		fputs("          changed: ", out);
		put_clean(out, f->change_detail);
		fputc('\n', out);
	}
	if (f->remediation && f->status >= APF_WARN && !(f->waiver && !f->waiver->expired)) {
		fputs("          fix: ", out);
		put_clean(out, f->remediation);
		fputc('\n', out);
	}
}

/* What changed since the baseline, before anything else: the news of a scheduled audit. */
static void changes_text(FILE *out, const struct apf_run *run, bool color)
{
	const struct apf_baseline *b = run->baseline;

	fputs("\nSince ", out);
	put_clean(out, b->started && *b->started ? b->started : "the baseline");
	fputs(" (", out);
	put_clean(out, b->verdict ? b->verdict : "?");
	fprintf(out, "): %zu new, %zu changed, %zu fixed, %zu unchanged\n", b->counts[APF_CHANGE_NEW],
		b->counts[APF_CHANGE_CHANGED], b->n_fixed, b->counts[APF_CHANGE_UNCHANGED]);
	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			const struct apf_finding *f = run->checks[i].findings[j];
			/* A new PASS is not news; a change in anything is. */
			if (!(f->change == APF_CHANGE_NEW && f->status >= APF_WARN) && f->change != APF_CHANGE_CHANGED)
				continue;
			fputs(f->change == APF_CHANGE_NEW ? "  new     " : "  changed ", out);
			put_status(out, f->status, color);
			fputc(' ', out);
			put_clean(out, run->checks[i].id);
			fputc(' ', out);
			put_clean(out, f->code);
			if (f->change_detail) {
				fputs(" (", out);
				put_clean(out, f->change_detail);
				fputc(')', out);
			}
			fputc('\n', out);
		}
	}
	for (size_t i = 0; i < b->n_fixed; i++) {
		fputs("  fixed   ", out);
		put_status(out, b->fixed[i].status, color);
		fputc(' ', out);
		put_clean(out, b->fixed[i].check_id);
		fputc(' ', out);
		put_clean(out, b->fixed[i].code);
		fputc('\n', out);
	}
}

int apf_report_text_write(const struct apf_run *run, const struct apf_text_opts *o, FILE *out)
{
	bool color = o && o->color, verbose = o && o->verbose;
	bool any = false;

	if (run->baseline)
		changes_text(out, run, color);

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
	for (size_t i = 0, shown = 0; i < run->n_waivers; i++) {
		const struct apf_waiver_state *w = &run->waivers[i];
		if (w->outcome == APF_WAIVER_APPLIED)
			continue;
		if (!shown++)
			fputc('\n', out);
		fputs(w->outcome == APF_WAIVER_EXPIRED ? "Waiver expired: " : "Waiver matches nothing (stale): ", out);
		put_clean(out, w->id);
		fputs(" (", out);
		put_clean(out, w->code);
		fputs(", ", out);
		put_clean(out, w->owner);
		fputs(", until ", out);
		put_clean(out, w->expires);
		fputs(")\n", out);
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
	if (run->n_waived)
		fprintf(out, "; %zu waived", run->n_waived);
	fprintf(out, "; %llu.%01llu s)\n", (unsigned long long)run->duration_ms / 1000,
		(unsigned long long)(run->duration_ms % 1000) / 100);
	return ferror(out) ? -EIO : 0;
}
