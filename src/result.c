/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "result.h"

/* Paired with enum apf_status; a unit test checks every value has a name. */
static const char *const status_names[APF_STATUS_COUNT] = {
	[APF_SKIP] = "SKIP",
	[APF_PASS] = "PASS",
	[APF_INFO] = "INFO",
	[APF_WARN] = "WARN",
	[APF_ERROR] = "ERROR",
	[APF_FAIL] = "FAIL",
};

static const struct {
	const char *name;
	int exit_code;
} verdicts[APF_VERDICT_COUNT] = {
	[APF_VERDICT_READY] = {"READY", 0},
	[APF_VERDICT_READY_WARNINGS] = {"READY WITH WARNINGS", 1},
	[APF_VERDICT_NOT_READY] = {"NOT READY", 2},
	[APF_VERDICT_INCOMPLETE] = {"INCOMPLETE", 3},
};

const char *apf_status_name(enum apf_status st)
{
	return (unsigned)st < APF_STATUS_COUNT ? status_names[st] : NULL;
}

int apf_status_parse(const char *s, enum apf_status *out)
{
	for (int i = 0; i < APF_STATUS_COUNT; i++) {
		if (strcasecmp(s, status_names[i]) == 0) {
			*out = (enum apf_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Paired with enum apf_change. */
static const char *const change_names[APF_CHANGE_COUNT] = {
	[APF_CHANGE_NONE] = NULL,
	[APF_CHANGE_NEW] = "new",
	[APF_CHANGE_CHANGED] = "changed",
	[APF_CHANGE_UNCHANGED] = "unchanged",
};

const char *apf_change_name(enum apf_change c)
{
	return (unsigned)c < APF_CHANGE_COUNT ? change_names[c] : NULL;
}

/* Paired with enum apf_waiver_outcome. */
static const char *const waiver_outcome_names[APF_WAIVER_OUTCOME_COUNT] = {
	[APF_WAIVER_APPLIED] = "applied",
	[APF_WAIVER_EXPIRED] = "expired",
	[APF_WAIVER_STALE] = "stale",
};

const char *apf_waiver_outcome_name(enum apf_waiver_outcome o)
{
	return (unsigned)o < APF_WAIVER_OUTCOME_COUNT ? waiver_outcome_names[o] : NULL;
}

const char *apf_verdict_name(enum apf_verdict v)
{
	return (unsigned)v < APF_VERDICT_COUNT ? verdicts[v].name : NULL;
}

int apf_verdict_exit_code(enum apf_verdict v)
{
	return (unsigned)v < APF_VERDICT_COUNT ? verdicts[v].exit_code : 3;
}

struct apf_finding *apf_finding_new(enum apf_status st, const char *code, const char *message)
{
	struct apf_finding *f = apf_xcalloc(1, sizeof(*f));

	f->status = st;
	f->code = apf_xstrdup(code);
	f->message = apf_xstrdup(message);
	return f;
}

void apf_finding_add_evidence(struct apf_finding *f, const char *key, const char *value)
{
	f->evidence = apf_xrealloc(f->evidence, (f->n_evidence + 1) * sizeof(*f->evidence));
	f->evidence[f->n_evidence].key = apf_xstrdup(key);
	f->evidence[f->n_evidence].value = apf_xstrdup(value);
	f->n_evidence++;
}

void apf_finding_set_remedy(struct apf_finding *f, const char *remedy)
{
	free(f->remediation);
	f->remediation = remedy ? apf_xstrdup(remedy) : NULL;
}

void apf_finding_free(struct apf_finding *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_evidence; i++) {
		free(f->evidence[i].key);
		free(f->evidence[i].value);
	}
	free(f->evidence);
	free(f->code);
	free(f->message);
	free(f->remediation);
	free(f->change_detail);
	apf_waiver_mark_free(f->waiver);
	free(f);
}

void apf_waiver_mark_free(struct apf_waiver_mark *w)
{
	if (!w)
		return;
	free(w->id);
	free(w->justification);
	free(w->owner);
	free(w->expires);
	free(w);
}

void apf_baseline_free(struct apf_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_fixed; i++) {
		free(b->fixed[i].check_id);
		free(b->fixed[i].code);
		free(b->fixed[i].message);
	}
	free(b->fixed);
	free(b->path);
	free(b->started);
	free(b->verdict);
	free(b);
}

void apf_check_result_add_metric(struct apf_check_result *r, const char *name, double value, const char *uom)
{
	r->metrics = apf_xrealloc(r->metrics, (r->n_metrics + 1) * sizeof(*r->metrics));
	r->metrics[r->n_metrics].name = apf_xstrdup(name);
	r->metrics[r->n_metrics].value = value;
	r->metrics[r->n_metrics].uom = apf_xstrdup(uom ? uom : "");
	r->n_metrics++;
}

bool apf_run_metric_min(const struct apf_run *run, const char *name, double *out)
{
	bool found = false;

	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_metrics; j++) {
			const struct apf_metric *m = &run->checks[i].metrics[j];
			if (strcmp(m->name, name) == 0 && (!found || m->value < *out)) {
				*out = m->value;
				found = true;
			}
		}
	}
	return found;
}

void apf_check_result_take_finding(struct apf_check_result *r, struct apf_finding *f)
{
	r->findings = apf_xrealloc(r->findings, (r->n_findings + 1) * sizeof(*r->findings));
	r->findings[r->n_findings++] = f;
	if (r->n_findings == 1 || f->status > r->status)
		r->status = f->status;
}

const struct apf_finding *apf_check_result_worst(const struct apf_check_result *r)
{
	const struct apf_finding *w = NULL;

	for (size_t i = 0; i < r->n_findings; i++) {
		if (!w || r->findings[i]->status > w->status)
			w = r->findings[i];
	}
	return w;
}

void apf_run_finish(struct apf_run *run)
{
	memset(run->counts, 0, sizeof(run->counts));
	run->n_waived = 0;
	for (size_t i = 0; i < run->n_checks; i++) {
		struct apf_check_result *r = &run->checks[i];
		bool any = false, waived = false;
		r->status = APF_SKIP;
		for (size_t j = 0; j < r->n_findings; j++) {
			const struct apf_finding *f = r->findings[j];
			if (f->waiver && !f->waiver->expired) {
				run->n_waived++;
				waived = true;
				continue;
			}
			if (!any || f->status > r->status)
				r->status = f->status;
			any = true;
		}
		if (waived && r->status < APF_INFO)
			r->status = APF_INFO;
		run->counts[r->status]++;
	}
	/* FAIL outranks ERROR: something known broken is the actionable news;
	 * INCOMPLETE is for runs where nothing failed but something could not be checked. */
	if (run->counts[APF_FAIL])
		run->verdict = APF_VERDICT_NOT_READY;
	else if (run->counts[APF_ERROR] || run->counts[APF_SKIP] == run->n_checks)
		/* Nothing checked is not "ready": an empty config must not pass a monitor. */
		run->verdict = APF_VERDICT_INCOMPLETE;
	else if (run->counts[APF_WARN])
		run->verdict = APF_VERDICT_READY_WARNINGS;
	else
		run->verdict = APF_VERDICT_READY;
}

enum apf_status apf_run_worst(const struct apf_run *run)
{
	enum apf_status worst = APF_SKIP;

	for (size_t i = 0; i < run->n_checks; i++) {
		if (run->checks[i].status > worst)
			worst = run->checks[i].status;
	}
	return worst;
}

void apf_run_free(struct apf_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++)
			apf_finding_free(run->checks[i].findings[j]);
		free(run->checks[i].findings);
		for (size_t j = 0; j < run->checks[i].n_metrics; j++) {
			free(run->checks[i].metrics[j].name);
			free(run->checks[i].metrics[j].uom);
		}
		free(run->checks[i].metrics);
	}
	free(run->checks);
	for (size_t i = 0; i < run->n_owned; i++)
		free(run->owned[i]);
	free(run->owned);
	apf_baseline_free(run->baseline);
	for (size_t i = 0; i < run->n_waivers; i++) {
		struct apf_waiver_state *w = &run->waivers[i];
		free(w->id);
		free(w->code);
		free(w->check);
		free(w->match);
		free(w->owner);
		free(w->expires);
	}
	free(run->waivers);
	free(run->tool_version);
	free(run->host);
	free(run->site);
	free(run->config_path);
	free(run->config_digest);
	free(run);
}
