/* SPDX-License-Identifier: MIT */
/*
 * The HTML report: one self-contained file an admin can mail to a manager,
 * open offline or print. Design rules, each with its reason:
 *   - No script, no external resource of any kind, and a CSP meta that forbids
 *     both: the report is full of strings from the network (certificate
 *     subjects, LDAP values) and is opened on admin workstations.
 *   - Every string from the model goes through apf_html_escape(); markup here
 *     is literal, numbers are printed with %zu/%llu. Nothing else reaches out.
 *   - Verdict first, then a summary by area, then the details: the reader wants
 *     "can we roll out?" before "why".
 *   - ERROR is shown as "could not check", with its own colour: it is neither a
 *     problem found nor a clean bill of health.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "report.h"

struct apf_html_label {
	const char *text; /* shown to the reader */
	const char *css;  /* class suffix: st-<css> */
};

/* Paired with enum apf_status. */
static const struct apf_html_label apf_html_status[APF_STATUS_COUNT] = {
	[APF_SKIP] = {"SKIP", "skip"},
	[APF_PASS] = {"PASS", "pass"},
	[APF_INFO] = {"INFO", "info"},
	[APF_WARN] = {"WARN", "warn"},
	[APF_ERROR] = {"COULD NOT CHECK", "error"},
	[APF_FAIL] = {"FAIL", "fail"},
};

/* Plural nouns for the counts line, paired with enum apf_status. */
static const char *const apf_html_count_label[APF_STATUS_COUNT] = {
	[APF_SKIP] = "skipped",
	[APF_PASS] = "passed",
	[APF_INFO] = "info",
	[APF_WARN] = "with warnings",
	[APF_ERROR] = "could not check",
	[APF_FAIL] = "failed",
};

struct apf_html_verdict {
	const char *css;
	const char *explanation;
};

/* Paired with enum apf_verdict. */
static const struct apf_html_verdict apf_html_verdicts[APF_VERDICT_COUNT] = {
	[APF_VERDICT_READY] = {"pass",
		"Every check that ran passed."},
	[APF_VERDICT_READY_WARNINGS] = {"warn",
		"Nothing found blocks provisioning, but some findings deserve attention before the rollout."},
	[APF_VERDICT_NOT_READY] = {"fail",
		"At least one check found a problem that breaks AMT provisioning. Fix the FAIL findings below."},
	[APF_VERDICT_INCOMPLETE] = {"error",
		"No problem was found, but at least one check could not check (timeout, unreachable, no permission). "
		"This is not a clean result: fix access and run again."},
};

/* Display names of the areas (id prefix before the dot), in report order:
 * roughly the order in which provisioning depends on them. */
static const struct {
	const char *prefix;
	const char *name;
} apf_html_areas[] = {
	{"cert", "Certificates"},
	{"dns", "DNS"},
	{"dhcp", "DHCP"},
	{"ad", "Active Directory"},
	{"ca", "Certificate authority"},
};
#define APF_HTML_N_AREAS (sizeof(apf_html_areas) / sizeof(apf_html_areas[0]))

/*
 * Inline style only (the CSP allows nothing else). Light theme; print drops
 * every background and keeps findings on one page; narrow screens get one
 * column and scrolling tables.
 */
static const char apf_html_css[] =
	":root{--pass:#1a7f37;--fail:#c62828;--warn:#9a6700;--error:#6639ba;--info:#0969da;--skip:#6e7781;"
	"--line:#d0d7de;--muted:#57606a}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;color:#1f2328;"
	"background:#f6f8fa}\n"
	"main,header.top,footer{max-width:1100px;margin:0 auto;padding:0 16px}\n"
	"header.top{padding-top:20px}\n"
	"h1{font-size:1.5rem;margin:0 0 4px}\n"
	"h2{font-size:1.2rem;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}\n"
	"h3{font-size:1.05rem;margin:0;display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}\n"
	"code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;font-size:.9em}\n"
	".meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0 0;color:var(--muted);"
	"font-size:.9rem}\n"
	".meta dt{font-weight:600}.meta dd{margin:0;overflow-wrap:anywhere}\n"
	".verdict{margin:18px 0 0;padding:18px 22px;border-radius:8px;color:#fff;border:4px solid transparent}\n"
	".verdict .headline{font-size:2rem;font-weight:700;line-height:1.2;margin:0}\n"
	".verdict p{margin:6px 0 0}\n"
	".verdict.st-pass{background:var(--pass)}.verdict.st-fail{background:var(--fail)}\n"
	".verdict.st-warn{background:#bf8700}.verdict.st-error{background:var(--error)}\n"
	".counts{display:flex;flex-wrap:wrap;gap:6px 16px;margin:10px 0 0;padding:0;list-style:none;font-weight:600}\n"
	".counts .n{font-size:1.3rem}\n"
	".badge{display:inline-block;min-width:4.2em;text-align:center;padding:1px 7px;border-radius:4px;color:#fff;"
	"font-size:.78rem;font-weight:700;letter-spacing:.03em;white-space:nowrap;border:1px solid transparent}\n"
	".badge.st-pass{background:var(--pass)}.badge.st-fail{background:var(--fail)}\n"
	".badge.st-warn{background:#bf8700}.badge.st-error{background:var(--error)}\n"
	".badge.st-info{background:var(--info)}.badge.st-skip{background:var(--skip)}\n"
	".tablewrap{overflow-x:auto}\n"
	"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}\n"
	"th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line)}\n"
	"thead th{background:#eaeef2;font-size:.85rem}\n"
	"tbody th.area{background:#f6f8fa;font-size:.95rem;padding-top:10px}\n"
	"td.num{text-align:right;white-space:nowrap;color:var(--muted)}\n"
	"h2.areahead{font-size:.95rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);"
	"border:0;margin:20px 0 8px}\n"
	"a{color:#0550ae}\n"
	".check{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:0 0 14px}\n"
	".check .title{color:var(--muted);font-weight:400}\n"
	".check .dur{color:var(--muted);font-size:.85rem;margin-left:auto}\n"
	".finding{border-left:4px solid var(--skip);background:#f6f8fa;padding:8px 12px;margin:10px 0 0;"
	"break-inside:avoid;page-break-inside:avoid}\n"
	".finding.st-pass{border-color:var(--pass)}.finding.st-fail{border-color:var(--fail);background:#fff5f5}\n"
	".finding.st-warn{border-color:#bf8700;background:#fffbeb}.finding.st-error{border-color:var(--error);"
	"background:#f8f5ff}\n"
	".finding.st-info{border-color:var(--info)}\n"
	".finding .msg{margin:4px 0 0;overflow-wrap:anywhere}\n"
	".finding .code{font-weight:700}\n"
	".ev{display:grid;grid-template-columns:minmax(8em,max-content) 1fr;gap:2px 12px;margin:8px 0 0;"
	"font-size:.9rem}\n"
	".ev dt{color:var(--muted)}\n"
	".ev dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;"
	"font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}\n"
	".fix{margin:8px 0 0;overflow-wrap:anywhere}.fix strong{color:#1f2328}\n"
	".empty{color:var(--muted);font-style:italic}\n"
	".changes li,.waivers li{margin:2px 0;overflow-wrap:anywhere}\n"
	".waived{margin:8px 0 0;padding:4px 8px;border:1px dashed var(--muted);overflow-wrap:anywhere}\n"
	".chg{margin:6px 0 0;color:var(--muted);overflow-wrap:anywhere}\n"
	".legend{color:var(--muted);font-size:.85rem;margin:8px 0 0}\n"
	"footer{color:var(--muted);font-size:.85rem;padding-top:8px;padding-bottom:24px;"
	"border-top:1px solid var(--line);margin-top:28px}\n"
	"footer p{margin:4px 0;overflow-wrap:anywhere}\n"
	"@media (max-width:640px){\n"
	" body{font-size:14px}\n"
	" .verdict .headline{font-size:1.5rem}\n"
	" .meta,.ev{grid-template-columns:1fr}\n"
	" .meta dd,.ev dd{margin:0 0 6px}\n"
	" .check .dur{margin-left:0}\n"
	/* the summary stacks: one block per check instead of a table to scroll */
	" table.summary thead{display:none}\n"
	" table.summary,table.summary tbody,table.summary tr,table.summary th,table.summary td{display:block;width:100%}\n"
	" table.summary td{border:0;padding:2px 10px}\n"
	" table.summary tr{border-bottom:1px solid var(--line);padding:6px 0}\n"
	" table.summary td.hide-narrow{display:none}\n"
	"}\n"
	"@media print{\n"
	" body{background:#fff;font-size:11pt}\n"
	" .verdict{background:#fff !important;color:#000;border-color:currentColor}\n"
	" .verdict.st-pass{border-color:var(--pass)}.verdict.st-fail{border-color:var(--fail)}\n"
	" .verdict.st-warn{border-color:#bf8700}.verdict.st-error{border-color:var(--error)}\n"
	" .badge{background:#fff !important;color:#000;border-color:currentColor}\n"
	" .badge.st-pass{color:var(--pass)}.badge.st-fail{color:var(--fail)}.badge.st-warn{color:var(--warn)}\n"
	" .badge.st-error{color:var(--error)}.badge.st-info{color:var(--info)}.badge.st-skip{color:var(--skip)}\n"
	" .finding,.check,table,thead th,tbody th.area{background:#fff !important}\n"
	" .check{break-inside:auto;border-color:#999}\n"
	" .tablewrap{overflow:visible}\n"
	" h2,h3{break-after:avoid;page-break-after:avoid}\n"
	" a{color:inherit;text-decoration:none}\n"
	"}\n";

static const struct apf_html_label *apf_html_st(enum apf_status st)
{
	static const struct apf_html_label unknown = {"UNKNOWN", "skip"};

	return (unsigned)st < APF_STATUS_COUNT ? &apf_html_status[st] : &unknown;
}

static void apf_html_badge(FILE *out, enum apf_status st)
{
	const struct apf_html_label *l = apf_html_st(st);

	fprintf(out, "<span class=\"badge st-%s\">%s</span>", l->css, l->text);
}

/* Index in apf_html_areas of the check's area, or APF_HTML_N_AREAS when unknown. */
static size_t apf_html_area_index(const char *id)
{
	size_t n = strcspn(id, ".");

	for (size_t i = 0; i < APF_HTML_N_AREAS; i++) {
		if (strlen(apf_html_areas[i].prefix) == n && strncmp(apf_html_areas[i].prefix, id, n) == 0)
			return i;
	}
	return APF_HTML_N_AREAS;
}

static int apf_html_same_area(const char *a, const char *b)
{
	size_t na = strcspn(a, "."), nb = strcspn(b, ".");

	return na == nb && strncmp(a, b, na) == 0;
}

/*
 * Report order: known areas in table order, then unknown areas in order of
 * first appearance; registry order inside an area. Returns a new array of
 * check indices (caller frees).
 */
static size_t *apf_html_order(const struct apf_run *run)
{
	size_t *order = apf_xcalloc(run->n_checks, sizeof(*order));
	size_t *rank = apf_xcalloc(run->n_checks, sizeof(*rank));
	size_t k = 0;

	for (size_t i = 0; i < run->n_checks; i++) {
		const char *id = run->checks[i].id ? run->checks[i].id : "";
		size_t a = apf_html_area_index(id);

		if (a == APF_HTML_N_AREAS) {
			size_t first = i;
			for (size_t j = 0; j < i; j++) {
				if (apf_html_same_area(run->checks[j].id ? run->checks[j].id : "", id)) {
					first = j;
					break;
				}
			}
			a += first;
		}
		rank[i] = a;
	}
	/* Counting by rank keeps it stable without qsort's lack of stability. */
	for (size_t r = 0; r < APF_HTML_N_AREAS + run->n_checks && k < run->n_checks; r++) {
		for (size_t i = 0; i < run->n_checks; i++) {
			if (rank[i] == r)
				order[k++] = i;
		}
	}
	free(rank);
	return order;
}

static void apf_html_area_name(FILE *out, const char *id)
{
	size_t a = apf_html_area_index(id);

	if (a < APF_HTML_N_AREAS) {
		fputs(apf_html_areas[a].name, out);
		return;
	}
	apf_html_escape_n(out, id, strcspn(id, "."));
}

static void apf_html_duration(FILE *out, uint64_t ms)
{
	if (ms < 1000)
		fprintf(out, "%llu ms", (unsigned long long)ms);
	else
		fprintf(out, "%llu.%01llu s", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
}

static void apf_html_time(FILE *out, time_t t)
{
	struct tm tm;
	char buf[64];

	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		fputs("unknown", out);
		return;
	}
	fputs(buf, out);
}

static void apf_html_meta_item(FILE *out, const char *key, const char *value, int mono)
{
	if (!value || !*value)
		return;
	fprintf(out, "<dt>%s</dt><dd%s>", key, mono ? " class=\"mono\"" : "");
	apf_html_escape(out, value);
	fputs("</dd>\n", out);
}

static void apf_html_header(FILE *out, const struct apf_run *run)
{
	fputs("<header class=\"top\">\n<h1>AMT preflight report", out);
	if (run->site && *run->site) {
		fputs(": ", out);
		apf_html_escape(out, run->site);
	}
	fputs("</h1>\n<dl class=\"meta\">\n", out);
	apf_html_meta_item(out, "Site", run->site, 0);
	apf_html_meta_item(out, "Host", run->host, 0);
	fputs("<dt>Started</dt><dd>", out);
	apf_html_time(out, run->started);
	fputs("</dd>\n<dt>Duration</dt><dd>", out);
	apf_html_duration(out, run->duration_ms);
	fputs("</dd>\n", out);
	apf_html_meta_item(out, "Tool version", run->tool_version, 0);
	apf_html_meta_item(out, "Configuration", run->config_path, 1);
	apf_html_meta_item(out, "Config digest", run->config_digest, 1);
	fputs("</dl>\n</header>\n", out);
}

static void apf_html_verdict(FILE *out, const struct apf_run *run)
{
	const struct apf_html_verdict *v = (unsigned)run->verdict < APF_VERDICT_COUNT
		? &apf_html_verdicts[run->verdict] : &apf_html_verdicts[APF_VERDICT_INCOMPLETE];
	/* Worst first: what needs action leads the line. */
	static const enum apf_status order[] = {APF_FAIL, APF_ERROR, APF_WARN, APF_INFO, APF_PASS, APF_SKIP};

	fprintf(out, "<section class=\"verdict st-%s\" id=\"verdict\" aria-label=\"Verdict\">\n", v->css);
	/* The headline is the verdict's own name, as in JSON and the exit code's meaning:
	 * readers and scripts key on "NOT READY", not on a paraphrase. */
	fprintf(out, "<p class=\"headline\">%s</p>\n<p>%s</p>\n", apf_verdict_name(run->verdict), v->explanation);
	fputs("<ul class=\"counts\">\n", out);
	fprintf(out, "<li><span class=\"n\">%zu</span> checks</li>\n", run->n_checks);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		fprintf(out, "<li><span class=\"n\">%zu</span> %s</li>\n", run->counts[order[i]],
			apf_html_count_label[order[i]]);
	}
	fputs("</ul>\n</section>\n", out);
}

static void apf_html_change_item(FILE *out, const char *what, enum apf_status st, const char *check_id,
				 const char *code, const char *detail)
{
	fprintf(out, "<li>%s ", what);
	apf_html_badge(out, st);
	fputs(" <code>", out);
	apf_html_escape(out, check_id);
	fputs("</code> <code class=\"code\">", out);
	apf_html_escape(out, code);
	fputs("</code>", out);
	if (detail) {
		fputs(": ", out);
		apf_html_escape(out, detail);
	}
	fputs("</li>\n", out);
}

/* The changes since the baseline come first: they are the news of an audit. */
static void apf_html_changes(FILE *out, const struct apf_run *run)
{
	const struct apf_baseline *b = run->baseline;

	if (!b)
		return;
	fputs("<h2 id=\"changes\">Changes since ", out);
	apf_html_escape(out, b->started && *b->started ? b->started : "the baseline");
	fputs("</h2>\n<p>", out);
	fprintf(out, "%zu new, %zu changed, %zu fixed, %zu unchanged. The baseline's verdict was ", b->counts[APF_CHANGE_NEW],
		b->counts[APF_CHANGE_CHANGED], b->n_fixed, b->counts[APF_CHANGE_UNCHANGED]);
	apf_html_escape(out, b->verdict ? b->verdict : "unknown");
	fputs(".</p>\n<ul class=\"changes\">\n", out);
	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			const struct apf_finding *f = run->checks[i].findings[j];
			if (f->change == APF_CHANGE_NEW && f->status >= APF_WARN)
				apf_html_change_item(out, "New", f->status, run->checks[i].id, f->code, NULL);
			else if (f->change == APF_CHANGE_CHANGED)
				apf_html_change_item(out, "Changed", f->status, run->checks[i].id, f->code, f->change_detail);
		}
	}
	for (size_t i = 0; i < b->n_fixed; i++)
		apf_html_change_item(out, "Fixed", b->fixed[i].status, b->fixed[i].check_id, b->fixed[i].code, NULL);
	fputs("</ul>\n", out);
}

static void apf_html_waivers(FILE *out, const struct apf_run *run)
{
	if (!run->n_waivers)
		return;
	fprintf(out, "<h2 id=\"waivers\">Waivers</h2>\n<p>%zu finding%s covered by a current waiver; they do not count "
		     "toward the verdict.</p>\n<ul class=\"waivers\">\n", run->n_waived, run->n_waived == 1 ? " is" : "s are");
	for (size_t i = 0; i < run->n_waivers; i++) {
		const struct apf_waiver_state *w = &run->waivers[i];
		fputs("<li><strong>", out);
		fputs(apf_waiver_outcome_name(w->outcome), out);
		fputs("</strong> ", out);
		apf_html_escape(out, w->id);
		fputs(": <code class=\"code\">", out);
		apf_html_escape(out, w->code);
		fputs("</code>, owner ", out);
		apf_html_escape(out, w->owner);
		fputs(", until ", out);
		apf_html_escape(out, w->expires);
		fprintf(out, ", matches %zu finding%s</li>\n", w->matched, w->matched == 1 ? "" : "s");
	}
	fputs("</ul>\n", out);
}

static void apf_html_summary(FILE *out, const struct apf_run *run, const size_t *order)
{
	const char *prev = NULL;

	fputs("<h2 id=\"summary\">Summary by area</h2>\n", out);
	if (run->n_checks == 0) {
		fputs("<p class=\"empty\">No checks ran.</p>\n", out);
		return;
	}
	fputs("<div class=\"tablewrap\"><table class=\"summary\">\n<thead><tr><th>Status</th><th>Check</th>"
	      "<th>Deciding finding</th><th class=\"hide-narrow\">Time</th></tr></thead>\n",
	      out);
	for (size_t k = 0; k < run->n_checks; k++) {
		const struct apf_check_result *c = &run->checks[order[k]];
		const char *id = c->id ? c->id : "";
		const struct apf_finding *w = apf_check_result_worst(c);

		if (!prev || !apf_html_same_area(prev, id)) {
			fputs(prev ? "</tbody>\n<tbody>\n" : "<tbody>\n", out);
			fputs("<tr><th class=\"area\" colspan=\"4\">", out);
			apf_html_area_name(out, id);
			fputs("</th></tr>\n", out);
		}
		prev = id;
		fputs("<tr><td>", out);
		apf_html_badge(out, c->status);
		fprintf(out, "</td><td><a href=\"#c%zu\"><code>", order[k]);
		apf_html_escape(out, id);
		fputs("</code></a><br>", out);
		apf_html_escape(out, c->title);
		fputs("</td><td>", out);
		if (w) {
			fputs("<code>", out);
			apf_html_escape(out, w->code);
			fputs("</code> ", out);
			apf_html_escape(out, w->message);
		}
		fputs("</td><td class=\"num hide-narrow\">", out);
		apf_html_duration(out, c->duration_ms);
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody>\n</table></div>\n", out);
	fputs("<p class=\"legend\">COULD NOT CHECK means the check did not get an answer it could judge "
	      "(timeout, unreachable server, missing permission); it is neither a pass nor a failure.</p>\n",
	      out);
}

static void apf_html_finding(FILE *out, const struct apf_finding *f)
{
	fprintf(out, "<div class=\"finding st-%s\">\n<div>", apf_html_st(f->status)->css);
	apf_html_badge(out, f->status);
	fputs(" <code class=\"code\">", out);
	apf_html_escape(out, f->code);
	fputs("</code></div>\n<p class=\"msg\">", out);
	apf_html_escape(out, f->message);
	fputs("</p>\n", out);
	if (f->n_evidence) {
		fputs("<dl class=\"ev\">\n", out);
		for (size_t i = 0; i < f->n_evidence; i++) {
			fputs("<dt>", out);
			apf_html_escape(out, f->evidence[i].key);
			fputs("</dt><dd>", out);
			apf_html_escape(out, f->evidence[i].value);
			fputs("</dd>\n", out);
		}
		fputs("</dl>\n", out);
	}
	if (f->change == APF_CHANGE_NEW || (f->change == APF_CHANGE_CHANGED && f->change_detail)) {
		fputs("<p class=\"chg\"><strong>", out);
		fputs(f->change == APF_CHANGE_NEW ? "New since the baseline" : "Changed since the baseline:", out);
		fputs("</strong> ", out);
		if (f->change_detail)
			apf_html_escape(out, f->change_detail);
		fputs("</p>\n", out);
	}
	if (f->waiver) {
		fputs("<p class=\"waived\"><strong>", out);
		fputs(f->waiver->expired ? "Waiver expired" : "Waived (accepted risk, not counted)", out);
		fputs(":</strong> ", out);
		apf_html_escape(out, f->waiver->id);
		fputs(", owner ", out);
		apf_html_escape(out, f->waiver->owner);
		fputs(", until ", out);
		apf_html_escape(out, f->waiver->expires);
		fputs(". ", out);
		apf_html_escape(out, f->waiver->justification);
		fputs("</p>\n", out);
	}
	if (f->remediation && *f->remediation) {
		fputs("<p class=\"fix\"><strong>How to fix:</strong> ", out);
		apf_html_escape(out, f->remediation);
		fputs("</p>\n", out);
	}
	fputs("</div>\n", out);
}

static void apf_html_details(FILE *out, const struct apf_run *run, const size_t *order)
{
	const char *prev = NULL;

	if (run->n_checks == 0)
		return;
	fputs("<h2 id=\"details\">Checks and findings</h2>\n", out);
	for (size_t k = 0; k < run->n_checks; k++) {
		const struct apf_check_result *c = &run->checks[order[k]];
		const char *id = c->id ? c->id : "";

		if (!prev || !apf_html_same_area(prev, id)) {
			fputs("<h2 class=\"areahead\">", out);
			apf_html_area_name(out, id);
			fputs("</h2>\n", out);
		}
		prev = id;
		fprintf(out, "<section class=\"check st-%s\" id=\"c%zu\">\n<h3>", apf_html_st(c->status)->css, order[k]);
		apf_html_badge(out, c->status);
		fputs(" <code>", out);
		apf_html_escape(out, id);
		fputs("</code> <span class=\"title\">", out);
		apf_html_escape(out, c->title);
		fputs("</span><span class=\"dur\">", out);
		apf_html_duration(out, c->duration_ms);
		fputs("</span></h3>\n", out);
		if (c->n_findings == 0)
			fputs("<p class=\"empty\">No findings.</p>\n", out);
		for (size_t i = 0; i < c->n_findings; i++)
			apf_html_finding(out, c->findings[i]);
		fputs("</section>\n", out);
	}
}

static void apf_html_footer(FILE *out, const struct apf_run *run)
{
	fputs("<footer>\n<p>Generated by amt-preflight ", out);
	apf_html_escape(out, run->tool_version ? run->tool_version : "(unknown version)");
	if (run->host && *run->host) {
		fputs(" on ", out);
		apf_html_escape(out, run->host);
	}
	fputs(", started ", out);
	apf_html_time(out, run->started);
	fputs(", took ", out);
	apf_html_duration(out, run->duration_ms);
	fprintf(out, ". Exit status %d (%s).</p>\n", apf_verdict_exit_code(run->verdict),
		(unsigned)run->verdict < APF_VERDICT_COUNT ? apf_verdict_name(run->verdict) : "UNKNOWN");
	if (run->config_path || run->config_digest) {
		fputs("<p>Configuration ", out);
		if (run->config_path) {
			fputs("<code>", out);
			apf_html_escape(out, run->config_path);
			fputs("</code> ", out);
		}
		if (run->config_digest) {
			fputs("(SHA-256 of its non-secret settings: <code>", out);
			apf_html_escape(out, run->config_digest);
			fputs("</code>)", out);
		}
		fputs(".</p>\n", out);
	}
	fputs("</footer>\n", out);
}

void apf_html_begin(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      /* No script, no request, no form, no <base> rewrite: the page is data only. */
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
	      "<meta name=\"referrer\" content=\"no-referrer\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"color-scheme\" content=\"light\">\n"
	      "<title>",
	      out);
	apf_html_escape(out, title);
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", apf_html_css);
}

int apf_report_html_write(const struct apf_run *run, FILE *out)
{
	size_t *order = NULL;
	char *title;
	int rc = 0;

	if (!run || !out)
		return -EINVAL;
	order = apf_html_order(run);
	title = apf_xasprintf("%s \xE2\x80\x94 AMT preflight report%s%s",
			      run->verdict < APF_VERDICT_COUNT ? apf_verdict_name(run->verdict) : "UNKNOWN",
			      run->site && *run->site ? ": " : "", run->site && *run->site ? run->site : "");
	apf_html_begin(out, title);
	free(title);

	apf_html_header(out, run);
	fputs("<main>\n", out);
	apf_html_verdict(out, run);
	apf_html_changes(out, run);
	apf_html_summary(out, run, order);
	apf_html_waivers(out, run);
	apf_html_details(out, run, order);
	fputs("</main>\n", out);
	apf_html_footer(out, run);
	fputs("</body>\n</html>\n", out);

	if (fflush(out) != 0 || ferror(out))
		rc = -EIO;
	free(order);
	return rc;
}
