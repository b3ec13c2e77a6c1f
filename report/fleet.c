/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alloc.h"
#include "fleet.h"
#include "report.h"

/* Worst first; FAIL outranks ERROR as in a run's verdict. Paired with enum apf_verdict. */
static const int verdict_rank[APF_VERDICT_COUNT] = {
	[APF_VERDICT_READY] = 0,
	[APF_VERDICT_READY_WARNINGS] = 1,
	[APF_VERDICT_INCOMPLETE] = 2,
	[APF_VERDICT_NOT_READY] = 3,
};

/* The verdict box's colour class, as in the run report. Paired with enum apf_verdict. */
static const char *const verdict_css[APF_VERDICT_COUNT] = {
	[APF_VERDICT_READY] = "pass",
	[APF_VERDICT_READY_WARNINGS] = "warn",
	[APF_VERDICT_INCOMPLETE] = "error",
	[APF_VERDICT_NOT_READY] = "fail",
};

static char *site_name(const struct apf_run *run, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (run->site && *run->site)
		return apf_xstrdup(run->site);
	if (run->host && *run->host)
		return apf_xstrdup(run->host);
	return apf_xstrdup(slash ? slash + 1 : path);
}

static struct apf_fleet_problem *problem_slot(struct apf_fleet *f, const char *check_id, const char *code)
{
	struct apf_fleet_problem *p;

	for (size_t i = 0; i < f->n_problems; i++)
		if (!strcmp(f->problems[i].check_id, check_id) && !strcmp(f->problems[i].code, code))
			return &f->problems[i];
	f->problems = apf_xrealloc(f->problems, (f->n_problems + 1) * sizeof(*f->problems));
	p = &f->problems[f->n_problems++];
	memset(p, 0, sizeof(*p));
	p->check_id = check_id;
	p->code = code;
	return p;
}

static int cmp_problems(const void *a, const void *b)
{
	const struct apf_fleet_problem *x = a, *y = b;
	int c;

	if (x->status != y->status)
		return x->status > y->status ? -1 : 1;
	if (x->n_sites != y->n_sites)
		return x->n_sites > y->n_sites ? -1 : 1;
	c = strcmp(x->check_id, y->check_id);
	return c ? c : strcmp(x->code, y->code);
}

struct apf_fleet *apf_fleet_new(const struct apf_run *const *runs, const char *const *paths, size_t n)
{
	struct apf_fleet *f = apf_xcalloc(1, sizeof(*f));

	f->sites = apf_xcalloc(n + 1, sizeof(*f->sites));
	f->n_sites = n;
	for (size_t s = 0; s < n; s++) {
		const struct apf_run *run = runs[s];
		f->sites[s] = (struct apf_fleet_site){site_name(run, paths[s]), run, paths[s]};
		if (s == 0 || verdict_rank[run->verdict] > verdict_rank[f->verdict])
			f->verdict = run->verdict;
		for (size_t i = 0; i < run->n_checks; i++) {
			for (size_t j = 0; j < run->checks[i].n_findings; j++) {
				const struct apf_finding *x = run->checks[i].findings[j];
				struct apf_fleet_problem *p;
				/* Accepted risks stay with their site; the fleet view is what needs work. */
				if (x->status < APF_WARN || (x->waiver && !x->waiver->expired))
					continue;
				p = problem_slot(f, run->checks[i].id, x->code);
				if (x->status > p->status)
					p->status = x->status;
				p->n_findings++;
				if (!p->n_sites || p->sites[p->n_sites - 1] != s) {
					p->sites = apf_xrealloc(p->sites, (p->n_sites + 1) * sizeof(*p->sites));
					p->sites[p->n_sites++] = s;
				}
			}
		}
	}
	qsort(f->problems, f->n_problems, sizeof(*f->problems), cmp_problems);
	return f;
}

void apf_fleet_free(struct apf_fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_sites; i++)
		free(f->sites[i].name);
	for (size_t i = 0; i < f->n_problems; i++)
		free(f->problems[i].sites);
	free(f->sites);
	free(f->problems);
	free(f);
}

static json_t *jstr_fixed(const char *s)
{
	char *fixed = apf_utf8_fix_dup(s ? s : "");
	json_t *j = json_string(fixed);

	free(fixed);
	return j ? j : json_string("");
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return fwrite(buf, 1, size, data) == size ? 0 : -1;
}

int apf_fleet_json_write(const struct apf_fleet *f, FILE *out)
{
	json_t *root = json_object(), *sites = json_array(), *problems = json_array();
	int rc;

	json_object_set_new(root, "fleet_schema_version", json_integer(APF_FLEET_SCHEMA_VERSION));
	json_object_set_new(root, "verdict", json_string(apf_verdict_name(f->verdict)));
	json_object_set_new(root, "exit_code", json_integer(apf_verdict_exit_code(f->verdict)));
	for (size_t i = 0; i < f->n_sites; i++) {
		const struct apf_run *run = f->sites[i].run;
		json_t *s = json_object(), *counts = json_object();
		char started[32] = "";
		struct tm tm;
		if (run->started && gmtime_r(&run->started, &tm))
			strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(s, "site", jstr_fixed(f->sites[i].name));
		json_object_set_new(s, "host", run->host ? jstr_fixed(run->host) : json_null());
		json_object_set_new(s, "report", jstr_fixed(f->sites[i].path));
		json_object_set_new(s, "started", json_string(started));
		json_object_set_new(s, "verdict", json_string(apf_verdict_name(run->verdict)));
		for (int st = 0; st < APF_STATUS_COUNT; st++)
			json_object_set_new(counts, apf_status_name((enum apf_status)st), json_integer((json_int_t)run->counts[st]));
		json_object_set_new(s, "counts", counts);
		json_object_set_new(s, "waived", json_integer((json_int_t)run->n_waived));
		json_array_append_new(sites, s);
	}
	for (size_t i = 0; i < f->n_problems; i++) {
		const struct apf_fleet_problem *p = &f->problems[i];
		json_t *o = json_object(), *names = json_array();
		for (size_t k = 0; k < p->n_sites; k++)
			json_array_append_new(names, jstr_fixed(f->sites[p->sites[k]].name));
		json_object_set_new(o, "check", jstr_fixed(p->check_id));
		json_object_set_new(o, "code", jstr_fixed(p->code));
		json_object_set_new(o, "status", json_string(apf_status_name(p->status)));
		json_object_set_new(o, "sites", names);
		json_object_set_new(o, "findings", json_integer((json_int_t)p->n_findings));
		json_array_append_new(problems, o);
	}
	json_object_set_new(root, "sites", sites);
	json_object_set_new(root, "problems", problems);
	rc = json_dump_callback(root, dump_cb, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc != 0 || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

/* The sites of a problem, "a, b and 3 more" after `max` names. */
static void site_list(FILE *out, const struct apf_fleet *f, const struct apf_fleet_problem *p, size_t max, bool html)
{
	for (size_t k = 0; k < p->n_sites && k < max; k++) {
		if (k)
			fputs(", ", out);
		if (html)
			apf_html_escape(out, f->sites[p->sites[k]].name);
		else
			apf_text_escape(out, f->sites[p->sites[k]].name);
	}
	if (p->n_sites > max)
		fprintf(out, " and %zu more", p->n_sites - max);
}

int apf_fleet_text_write(const struct apf_fleet *f, FILE *out)
{
	fprintf(out, "Fleet: %zu site%s, verdict %s\n\n", f->n_sites, f->n_sites == 1 ? "" : "s",
		apf_verdict_name(f->verdict));
	for (size_t i = 0; i < f->n_sites; i++) {
		const struct apf_run *run = f->sites[i].run;
		fprintf(out, "  %-20s ", apf_verdict_name(run->verdict));
		apf_text_escape(out, f->sites[i].name);
		fprintf(out, " (%zu FAIL, %zu ERROR, %zu WARN)\n", run->counts[APF_FAIL], run->counts[APF_ERROR],
			run->counts[APF_WARN]);
	}
	if (f->n_problems)
		fputs("\nProblems across sites (worst and most widespread first):\n", out);
	for (size_t i = 0; i < f->n_problems; i++) {
		const struct apf_fleet_problem *p = &f->problems[i];
		fprintf(out, "  %-5s %s %s: %zu site%s: ", apf_status_name(p->status), p->check_id, p->code, p->n_sites,
			p->n_sites == 1 ? "" : "s");
		site_list(out, f, p, 5, false);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

int apf_fleet_html_write(const struct apf_fleet *f, FILE *out)
{
	char *title = apf_xasprintf("%s \xE2\x80\x94 AMT preflight fleet report (%zu sites)", apf_verdict_name(f->verdict),
				    f->n_sites);

	apf_html_begin(out, title);
	free(title);
	fprintf(out, "<header class=\"top\"><h1>AMT preflight fleet report</h1></header>\n<main>\n"
		     "<section class=\"verdict st-%s\" id=\"verdict\"><p class=\"headline\">%s</p><p>The worst verdict of "
		     "%zu site%s.</p></section>\n",
		verdict_css[f->verdict], apf_verdict_name(f->verdict), f->n_sites, f->n_sites == 1 ? "" : "s");
	fputs("<h2 id=\"sites\">Sites</h2>\n<div class=\"tablewrap\"><table class=\"summary\">\n<thead><tr><th>Site</th>"
	      "<th>Verdict</th><th>FAIL</th><th>ERROR</th><th>WARN</th><th>Waived</th><th>Report</th></tr></thead>\n<tbody>\n",
	      out);
	for (size_t i = 0; i < f->n_sites; i++) {
		const struct apf_run *run = f->sites[i].run;
		fputs("<tr><td>", out);
		apf_html_escape(out, f->sites[i].name);
		fprintf(out, "</td><td>%s</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
			     "<td class=\"num\">%zu</td><td><code>",
			apf_verdict_name(run->verdict), run->counts[APF_FAIL], run->counts[APF_ERROR], run->counts[APF_WARN],
			run->n_waived);
		apf_html_escape(out, f->sites[i].path);
		fputs("</code></td></tr>\n", out);
	}
	fputs("</tbody></table></div>\n<h2 id=\"problems\">Problems across sites</h2>\n", out);
	if (!f->n_problems)
		fputs("<p class=\"empty\">No site has a problem.</p>\n", out);
	else
		fputs("<div class=\"tablewrap\"><table class=\"summary\">\n<thead><tr><th>Status</th><th>Check</th><th>Code</th>"
		      "<th>Sites</th></tr></thead>\n<tbody>\n",
		      out);
	for (size_t i = 0; i < f->n_problems; i++) {
		const struct apf_fleet_problem *p = &f->problems[i];
		fprintf(out, "<tr><td>%s</td><td><code>", apf_status_name(p->status));
		apf_html_escape(out, p->check_id);
		fputs("</code></td><td><code class=\"code\">", out);
		apf_html_escape(out, p->code);
		fprintf(out, "</code></td><td>%zu: ", p->n_sites);
		site_list(out, f, p, 20, true);
		fputs("</td></tr>\n", out);
	}
	if (f->n_problems)
		fputs("</tbody></table></div>\n", out);
	fputs("</main>\n</body>\n</html>\n", out);
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}
