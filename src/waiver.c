/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "alloc.h"
#include "registry.h"
#include "runner.h"
#include "util.h"
#include "waiver.h"

#define WAIVER_FILE_MAX (1024 * 1024)

struct waiver {
	char *id, *code, *check, *match, *justification, *owner, *expires;
};

struct apf_waivers {
	struct waiver *v;
	size_t n;
};

/* The keys a waiver may hold; paired with the fields of struct waiver. */
static const struct {
	const char *name;
	size_t offset;
	bool required;
} waiver_keys[] = {
	{"code", offsetof(struct waiver, code), true},
	{"check", offsetof(struct waiver, check), false},
	{"match", offsetof(struct waiver, match), false},
	{"justification", offsetof(struct waiver, justification), true},
	{"owner", offsetof(struct waiver, owner), true},
	{"expires", offsetof(struct waiver, expires), true},
};
#define N_KEYS (sizeof(waiver_keys) / sizeof(waiver_keys[0]))

struct parse_state {
	struct apf_waivers *w;
	char *why; /* the first error; inih gives its line */
};

/* YYYY-MM-DD naming a real day. */
static bool date_ok(const char *s)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	char back[11];

	if (!end || *end || strlen(s) != 10)
		return false;
	/* strptime takes 2027-02-31; a round trip through timegm does not. */
	time_t t = timegm(&tm);
	struct tm norm;
	gmtime_r(&t, &norm);
	strftime(back, sizeof(back), "%Y-%m-%d", &norm);
	return strcmp(back, s) == 0;
}

static bool known_code(const char *code)
{
	if (apf_registry_find_code(code, NULL))
		return true;
	for (const struct apf_code *k = apf_runner_codes; k->code; k++)
		if (strcmp(k->code, code) == 0)
			return true;
	return false;
}

static const char *value_problem(const char *key, const char *value)
{
	if (!*value)
		return "is empty";
	if (!apf_str_is_clean(value))
		return "holds control characters";
	if (strcmp(key, "code") == 0 && !known_code(value))
		return "is not a finding code of this amt-preflight (see 'amt-preflight explain CODE')";
	if (strcmp(key, "check") == 0 && !apf_registry_find(value))
		return "is not a check id (see 'amt-preflight list')";
	if (strcmp(key, "expires") == 0 && !date_ok(value))
		return "is not a date (YYYY-MM-DD)";
	return NULL;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	struct apf_waivers *w = ps->w;
	struct waiver *cur;
	size_t k;
	const char *why;

	if (!*section) {
		ps->why = apf_xasprintf("'%s' is outside a [waiver-name] section", name);
		return 0;
	}
	if (!w->n || strcmp(w->v[w->n - 1].id, section) != 0) {
		for (size_t i = 0; i < w->n; i++) {
			if (strcmp(w->v[i].id, section) == 0) {
				ps->why = apf_xasprintf("waiver [%s] is given twice", section);
				return 0;
			}
		}
		w->v = apf_xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
		memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
		w->v[w->n++].id = apf_xstrdup(section);
	}
	cur = &w->v[w->n - 1];
	for (k = 0; k < N_KEYS; k++)
		if (strcmp(waiver_keys[k].name, name) == 0)
			break;
	if (k == N_KEYS) {
		ps->why = apf_xasprintf("[%s] unknown key '%s' (keys: code, check, match, justification, owner, expires)",
					section, name);
		return 0;
	}
	char **field = (char **)((char *)cur + waiver_keys[k].offset);
	if (*field) {
		ps->why = apf_xasprintf("[%s] %s is given twice", section, name);
		return 0;
	}
	if ((why = value_problem(name, value))) {
		ps->why = apf_xasprintf("[%s] %s '%s' %s", section, name, value, why);
		return 0;
	}
	*field = apf_xstrdup(value);
	return 1;
}

/* The line of "[id]" in the file, for errors about a whole section. */
static int section_line(const char *text, const char *id)
{
	size_t n = strlen(id);
	int line = 1;

	for (const char *p = text; *p; line++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[' && strncmp(p + 1, id, n) == 0 && p[1 + n] == ']')
			return line;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 0;
}

static void waiver_clear(struct waiver *x)
{
	free(x->id);
	free(x->code);
	free(x->check);
	free(x->match);
	free(x->justification);
	free(x->owner);
	free(x->expires);
}

void apf_waivers_free(struct apf_waivers *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		waiver_clear(&w->v[i]);
	free(w->v);
	free(w);
}

int apf_waivers_load(const char *path, struct apf_waivers **out, char **err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	struct parse_state ps = {.w = apf_xcalloc(1, sizeof(struct apf_waivers))};
	int rc, line;

	*out = NULL;
	rc = apf_read_file(path, WAIVER_FILE_MAX, &data, &len);
	if (rc) {
		apf_err_set(err, "%s: cannot read the waiver file: %s", path, strerror(-rc));
		goto out;
	}
	if (memchr(data, '\0', len)) {
		apf_err_set(err, "%s: not a text file", path);
		rc = -EINVAL;
		goto out;
	}
	line = ini_parse_string((const char *)data, on_pair, &ps);
	if (line != 0) {
		apf_err_set(err, "%s:%d: %s", path, line, ps.why ? ps.why : "not a [section] or key = value line");
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < ps.w->n; i++) {
		for (size_t k = 0; k < N_KEYS; k++) {
			char *const *field = (char *const *)((const char *)&ps.w->v[i] + waiver_keys[k].offset);
			if (waiver_keys[k].required && !*field) {
				apf_err_set(err, "%s:%d: waiver [%s] has no %s (each waiver needs code, justification, owner "
						 "and expires)",
					    path, section_line((const char *)data, ps.w->v[i].id), ps.w->v[i].id,
					    waiver_keys[k].name);
				rc = -EINVAL;
				goto out;
			}
		}
	}
	*out = ps.w;
	ps.w = NULL;
out:
	apf_waivers_free(ps.w);
	free(ps.why);
	free(data);
	return rc;
}

static bool contains_fold(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

static bool matches(const struct waiver *x, const char *check_id, const struct apf_finding *f)
{
	if (strcmp(x->code, f->code) != 0 || (x->check && strcmp(x->check, check_id) != 0))
		return false;
	if (!x->match)
		return true;
	for (size_t i = 0; i < f->n_evidence; i++)
		if (contains_fold(f->evidence[i].value, x->match))
			return true;
	return false;
}

void apf_waivers_apply(const struct apf_waivers *w, struct apf_run *run, time_t today)
{
	char day[11] = "9999-12-31";
	struct tm tm;

	if (gmtime_r(&today, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	run->waivers = apf_xcalloc(w->n + 1, sizeof(*run->waivers));
	run->n_waivers = w->n;
	for (size_t k = 0; k < w->n; k++) {
		const struct waiver *x = &w->v[k];
		struct apf_waiver_state *st = &run->waivers[k];
		/* Good through its expiry date: ISO dates compare as strings. */
		bool expired = strcmp(day, x->expires) > 0;

		st->id = apf_xstrdup(x->id);
		st->code = apf_xstrdup(x->code);
		st->check = x->check ? apf_xstrdup(x->check) : NULL;
		st->match = x->match ? apf_xstrdup(x->match) : NULL;
		st->owner = apf_xstrdup(x->owner);
		st->expires = apf_xstrdup(x->expires);
		for (size_t i = 0; i < run->n_checks; i++) {
			for (size_t j = 0; j < run->checks[i].n_findings; j++) {
				struct apf_finding *f = run->checks[i].findings[j];
				if (f->waiver || !matches(x, run->checks[i].id, f))
					continue;
				f->waiver = apf_xcalloc(1, sizeof(*f->waiver));
				f->waiver->id = apf_xstrdup(x->id);
				f->waiver->justification = apf_xstrdup(x->justification);
				f->waiver->owner = apf_xstrdup(x->owner);
				f->waiver->expires = apf_xstrdup(x->expires);
				f->waiver->expired = expired;
				st->matched++;
			}
		}
		st->outcome = expired ? APF_WAIVER_EXPIRED : st->matched ? APF_WAIVER_APPLIED : APF_WAIVER_STALE;
	}
	apf_run_finish(run);
}
