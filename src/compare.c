/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "compare.h"
#include "util.h"

/* Evidence keys that say what a finding is about: a finding about dc1 and one
 * about dc2 with the same code are different findings. */
static const char *const identity_keys[] = {
	"server", "dc", "host", "device", "interface", "segment", "query", "template", "template_dn", "dn",
	"subject", "file", "url", "certificate", "serial", "address", "account", "endpoint", NULL,
};

static bool is_identity(const char *key)
{
	for (const char *const *k = identity_keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* Timings differ on every run: a slower answer is not a change to report. */
static bool is_volatile(const char *key)
{
	size_t n = strlen(key);

	return (n > 3 && strcmp(key + n - 3, "_ms") == 0) || strstr(key, "skew") || strstr(key, "rtt");
}

/* "check|CODE|key=value|key=value" */
static char *identity(const char *check_id, const struct apf_finding *f)
{
	struct apf_buf b = {0};

	apf_buf_addf(&b, "%s|%s", check_id, f->code);
	for (size_t i = 0; i < f->n_evidence; i++)
		if (is_identity(f->evidence[i].key))
			apf_buf_addf(&b, "|%s=%s", f->evidence[i].key, f->evidence[i].value);
	return apf_buf_steal(&b);
}

static const char *evidence_get(const struct apf_finding *f, const char *key)
{
	for (size_t i = 0; i < f->n_evidence; i++)
		if (strcmp(f->evidence[i].key, key) == 0)
			return f->evidence[i].value;
	return NULL;
}

/* What differs between the same finding in two runs; NULL when nothing does. */
static char *difference(const struct apf_finding *old, const struct apf_finding *cur)
{
	struct apf_buf b = {0};
	char *s;

	if (old->status != cur->status)
		apf_buf_addf(&b, "status: %s -> %s", apf_status_name(old->status), apf_status_name(cur->status));
	for (size_t i = 0; i < cur->n_evidence; i++) {
		const char *k = cur->evidence[i].key, *was = evidence_get(old, k);
		if (is_volatile(k) || (was && strcmp(was, cur->evidence[i].value) == 0))
			continue;
		apf_buf_addf(&b, "%s%s: %s -> %s", b.len ? "; " : "", k, was ? was : "(none)", cur->evidence[i].value);
	}
	for (size_t i = 0; i < old->n_evidence; i++) {
		const char *k = old->evidence[i].key;
		if (!is_volatile(k) && !evidence_get(cur, k))
			apf_buf_addf(&b, "%s%s: %s -> (none)", b.len ? "; " : "", k, old->evidence[i].value);
	}
	s = apf_buf_steal(&b);
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* The findings of a run in one flat list, with their identities. */
struct flat {
	const char *check_id;
	struct apf_finding *f;
	char *id;
	bool paired;
};

static struct flat *flatten(const struct apf_run *run, size_t *n_out)
{
	size_t n = 0, k = 0;
	struct flat *v;

	for (size_t i = 0; i < run->n_checks; i++)
		n += run->checks[i].n_findings;
	v = apf_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++, k++) {
			v[k].check_id = run->checks[i].id;
			v[k].f = run->checks[i].findings[j];
			v[k].id = identity(run->checks[i].id, v[k].f);
		}
	}
	*n_out = n;
	return v;
}

static void flat_free(struct flat *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

void apf_compare_runs(struct apf_run *cur, const struct apf_run *old, const char *old_path)
{
	size_t n_cur, n_old;
	struct flat *c = flatten(cur, &n_cur), *o = flatten(old, &n_old);
	struct apf_baseline *b = apf_xcalloc(1, sizeof(*b));
	char started[32] = "";
	struct tm tm;

	b->path = old_path ? apf_xstrdup(old_path) : NULL;
	if (old->started && gmtime_r(&old->started, &tm))
		strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	b->started = apf_xstrdup(started);
	b->verdict = apf_xstrdup(apf_verdict_name(old->verdict));
	/* First same-identity finding of the baseline not yet paired: findings that
	 * have no identifying evidence pair in report order. Quadratic, but a run
	 * holds hundreds of findings, not millions (fleet checks summarise). */
	for (size_t i = 0; i < n_cur; i++) {
		struct apf_finding *f = c[i].f;
		free(f->change_detail);
		f->change_detail = NULL;
		f->change = APF_CHANGE_NEW;
		enum apf_status was = APF_SKIP;
		for (size_t j = 0; j < n_old; j++) {
			if (o[j].paired || strcmp(o[j].id, c[i].id) != 0)
				continue;
			o[j].paired = true;
			was = o[j].f->status;
			f->change_detail = difference(o[j].f, f);
			f->change = f->change_detail ? APF_CHANGE_CHANGED : APF_CHANGE_UNCHANGED;
			break;
		}
		b->counts[f->change]++;
		/* A regression: a problem that is new, or worse than it was; waived ones
		 * are accepted risks, not news. */
		if (f->status >= APF_WARN && f->status > was && !(f->waiver && !f->waiver->expired) &&
		    f->status > b->regression)
			b->regression = f->status;
	}
	for (size_t j = 0; j < n_old; j++) {
		struct apf_fixed *x;
		/* A PASS that is gone is not news; a problem that is gone is. */
		if (o[j].paired || o[j].f->status < APF_INFO)
			continue;
		b->fixed = apf_xrealloc(b->fixed, (b->n_fixed + 1) * sizeof(*b->fixed));
		x = &b->fixed[b->n_fixed++];
		x->check_id = apf_xstrdup(o[j].check_id);
		x->code = apf_xstrdup(o[j].f->code);
		x->message = apf_xstrdup(o[j].f->message);
		x->status = o[j].f->status;
	}
	apf_baseline_free(cur->baseline);
	cur->baseline = b;
	flat_free(c, n_cur);
	flat_free(o, n_old);
}

enum apf_status apf_compare_regression(const struct apf_run *cur)
{
	return cur->baseline ? cur->baseline->regression : APF_SKIP;
}
