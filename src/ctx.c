/* SPDX-License-Identifier: MIT */
/* The check API of checks/check.h: findings, facts, secrets, deadlines. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "ctx.h"
#include "runner.h"
#include "util.h"

#define SECRET_MAX_BYTES 4096

struct fact {
	char *check_id;
	char *key;
	char **values; /* NULL-terminated */
	size_t n;
};

struct apf_facts {
	pthread_mutex_t lock;
	struct fact *v;
	size_t n;
	char **sealed; /* check ids whose facts are final */
	size_t n_sealed;
};

struct apf_ctx *apf_ctx_new(const struct apf_check *check, const struct apf_config *cfg, struct apf_facts *facts,
			    uint64_t deadline_ms)
{
	struct apf_ctx *ctx = apf_xcalloc(1, sizeof(*ctx));

	ctx->check = check;
	ctx->cfg = cfg;
	ctx->facts = facts;
	ctx->deadline_ms = deadline_ms;
	ctx->result.id = check->id;
	ctx->result.title = check->title;
	ctx->refs = 1;
	pthread_mutex_init(&ctx->lock, NULL);
	return ctx;
}

void apf_ctx_unref(struct apf_ctx *ctx)
{
	int left;

	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	left = --ctx->refs;
	pthread_mutex_unlock(&ctx->lock);
	if (left > 0)
		return;
	for (size_t i = 0; i < ctx->result.n_findings; i++)
		apf_finding_free(ctx->result.findings[i]);
	free(ctx->result.findings);
	for (size_t i = 0; i < ctx->result.n_metrics; i++) {
		free(ctx->result.metrics[i].name);
		free(ctx->result.metrics[i].uom);
	}
	free(ctx->result.metrics);
	free(ctx->step);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

const struct apf_code *apf_code_lookup(const struct apf_check *check, const char *code)
{
	for (const struct apf_code *k = check ? check->codes : NULL; k && k->code; k++) {
		if (strcmp(k->code, code) == 0)
			return k;
	}
	for (const struct apf_code *k = apf_runner_codes; k->code; k++) {
		if (strcmp(k->code, code) == 0)
			return k;
	}
	return NULL;
}

void apf_ctx_finalize(struct apf_ctx *ctx)
{
	for (size_t i = 0; i < ctx->result.n_findings; i++) {
		struct apf_finding *f = ctx->result.findings[i];
		const struct apf_code *k;
		if (f->remediation || f->status < APF_WARN)
			continue;
		k = apf_code_lookup(ctx->check, f->code);
		if (k && k->remedy && *k->remedy)
			apf_finding_set_remedy(f, k->remedy);
	}
}

char *apf_ctx_step_dup(struct apf_ctx *ctx)
{
	char *s;

	pthread_mutex_lock(&ctx->lock);
	s = ctx->step ? apf_xstrdup(ctx->step) : NULL;
	pthread_mutex_unlock(&ctx->lock);
	return s;
}

const struct apf_config *apf_cfg(const struct apf_ctx *ctx)
{
	return ctx->cfg;
}

const struct apf_check *apf_ctx_check(const struct apf_ctx *ctx)
{
	return ctx->check;
}

uint64_t apf_ctx_deadline_ms(const struct apf_ctx *ctx)
{
	return ctx->deadline_ms;
}

unsigned int apf_ctx_remaining_ms(const struct apf_ctx *ctx)
{
	uint64_t now = apf_now_ms();

	if (now >= ctx->deadline_ms)
		return 0;
	return ctx->deadline_ms - now > 0x7fffffff ? 0x7fffffff : (unsigned int)(ctx->deadline_ms - now);
}

void apf_ctx_step(struct apf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	pthread_mutex_lock(&ctx->lock);
	free(ctx->step);
	ctx->step = s;
	pthread_mutex_unlock(&ctx->lock);
}

static struct apf_finding *add_finding(struct apf_ctx *ctx, enum apf_status st, const char *code, const char *msg)
{
	struct apf_finding *f = apf_finding_new(st, code, msg);

	apf_check_result_take_finding(&ctx->result, f);
	/* An undeclared code would reach reports with no documentation behind it:
	 * make that visible instead of silently accepting it. */
	if (!apf_code_lookup(ctx->check, code) && !ctx->bad_code_reported) {
		struct apf_finding *bug;
		ctx->bad_code_reported = true;
		bug = apf_finding_new(APF_ERROR, "CHECK_UNDECLARED_CODE",
				      "The check reported a finding code that is not in its code table");
		apf_finding_add_evidence(bug, "code", code);
		apf_check_result_take_finding(&ctx->result, bug);
	}
	return f;
}

void apf_metric(struct apf_ctx *ctx, const char *name, double value, const char *uom)
{
	apf_check_result_add_metric(&ctx->result, name, value, uom);
}

struct apf_finding *apf_report(struct apf_ctx *ctx, enum apf_status st, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	struct apf_finding *f;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	f = add_finding(ctx, st, code, msg ? msg : code);
	free(msg);
	return f;
}

void apf_evidence(struct apf_finding *f, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v = NULL;

	if (!f)
		return;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	apf_finding_add_evidence(f, key, v ? v : "");
	free(v);
}

void apf_evidence_hex(struct apf_finding *f, const char *key, const void *data, size_t len, size_t max)
{
	const uint8_t *p = data;
	size_t n = len > max ? max : len;
	char *v = apf_xmalloc(2 * n + 4);

	for (size_t i = 0; i < n; i++)
		snprintf(v + 2 * i, 3, "%02x", p[i]);
	snprintf(v + 2 * n, 4, "%s", len > n ? "..." : "");
	apf_evidence(f, key, "%s", len ? v : "(none)");
	free(v);
}

void apf_remedy(struct apf_finding *f, const char *fmt, ...)
{
	va_list ap;
	char *v = NULL;

	if (!f)
		return;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	apf_finding_set_remedy(f, v);
	free(v);
}

struct apf_finding *apf_skip(struct apf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	struct apf_finding *f;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	f = add_finding(ctx, APF_SKIP, "CHECK_SKIPPED", msg ? msg : "skipped");
	free(msg);
	return f;
}

/* ---- secrets ------------------------------------------------------------- */

int apf_secret_read(const struct apf_ctx *ctx, const char *key, char **out, char **err_out)
{
	char *file_key = apf_xasprintf("%s_file", key);
	const struct apf_cfg_key *k = apf_cfg_key_find(file_key);
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = -ENOENT;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	if (!k)
		goto out;
	if (ctx->cfg->is_set[k - apf_cfg_keys]) {
		const char *path = *(char *const *)((const char *)ctx->cfg + k->offset);
		rc = apf_read_file(path, SECRET_MAX_BYTES, &data, &len);
		if (rc) {
			if (err_out)
				*err_out = apf_xasprintf("cannot read %s (%s = %s): %s", path, file_key, path,
							 apf_file_strerror(rc, SECRET_MAX_BYTES));
			/* -ENOENT means "no secret configured" to every caller: a *_file
			 * naming a missing file is a different fault and must be named as one. */
			if (rc == -ENOENT)
				rc = -EIO;
			goto out;
		}
		/* The secret is the first line: editors add a trailing newline. What
		 * follows is wiped now, since apf_secret_free() only sees the first line. */
		{
			size_t keep = strcspn((char *)data, "\r\n");
			explicit_bzero(data + keep, len - keep);
		}
		*out = (char *)data;
		data = NULL;
		rc = 0;
	} else if (k->env && getenv(k->env)) {
		*out = apf_xstrdup(getenv(k->env));
		rc = 0;
	}
out:
	if (data) {
		explicit_bzero(data, len);
		free(data);
	}
	free(file_key);
	return rc;
}

void apf_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* ---- facts ----------------------------------------------------------------- */

struct apf_facts *apf_facts_new(void)
{
	struct apf_facts *f = apf_xcalloc(1, sizeof(*f));

	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void apf_facts_free(struct apf_facts *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		for (size_t j = 0; j < f->v[i].n; j++)
			free(f->v[i].values[j]);
		free(f->v[i].values);
		free(f->v[i].check_id);
		free(f->v[i].key);
	}
	for (size_t i = 0; i < f->n_sealed; i++)
		free(f->sealed[i]);
	free(f->sealed);
	free(f->v);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void apf_facts_seal(struct apf_facts *f, const char *check_id)
{
	pthread_mutex_lock(&f->lock);
	f->sealed = apf_xrealloc(f->sealed, (f->n_sealed + 1) * sizeof(*f->sealed));
	f->sealed[f->n_sealed++] = apf_xstrdup(check_id);
	pthread_mutex_unlock(&f->lock);
}

static struct fact *fact_find(struct apf_facts *f, const char *check_id, const char *key)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].check_id, check_id) == 0 && strcmp(f->v[i].key, key) == 0)
			return &f->v[i];
	}
	return NULL;
}

void apf_fact_add(struct apf_ctx *ctx, const char *key, const char *value)
{
	struct fact *fa;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->abandoned || !ctx->facts)
		goto out;
	pthread_mutex_lock(&ctx->facts->lock);
	fa = fact_find(ctx->facts, ctx->check->id, key);
	if (!fa) {
		ctx->facts->v = apf_xrealloc(ctx->facts->v, (ctx->facts->n + 1) * sizeof(*ctx->facts->v));
		fa = &ctx->facts->v[ctx->facts->n++];
		memset(fa, 0, sizeof(*fa));
		fa->check_id = apf_xstrdup(ctx->check->id);
		fa->key = apf_xstrdup(key);
	}
	/* Facts are sets: the same suffix learned from two DHCP servers is one fact. */
	for (size_t i = 0; i < fa->n; i++) {
		if (strcmp(fa->values[i], value) == 0)
			goto unlock;
	}
	fa->values = apf_xrealloc(fa->values, (fa->n + 2) * sizeof(*fa->values));
	fa->values[fa->n++] = apf_xstrdup(value);
	fa->values[fa->n] = NULL;
unlock:
	pthread_mutex_unlock(&ctx->facts->lock);
out:
	pthread_mutex_unlock(&ctx->lock);
}

static bool listed(const char *const *list, const char *id)
{
	for (; list && *list; list++) {
		if (strcmp(*list, id) == 0)
			return true;
	}
	return false;
}

const char *const *apf_fact_get(const struct apf_ctx *ctx, const char *check_id, const char *key)
{
	const char *const *values = NULL;
	bool sealed = false;
	struct fact *fa;

	/* Only facts of checks this one runs after are visible, and only once final:
	 * that is what makes reading them free of races and of scheduling luck. */
	if (!ctx->facts || !(listed(ctx->check->after, check_id) || listed(ctx->check->requires_checks, check_id)))
		return NULL;
	pthread_mutex_lock(&ctx->facts->lock);
	for (size_t i = 0; i < ctx->facts->n_sealed; i++)
		sealed |= strcmp(ctx->facts->sealed[i], check_id) == 0;
	fa = sealed ? fact_find(ctx->facts, check_id, key) : NULL;
	if (fa)
		values = (const char *const *)fa->values;
	pthread_mutex_unlock(&ctx->facts->lock);
	return values;
}
