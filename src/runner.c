/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "ctx.h"
#include "registry.h"
#include "runner.h"
#include "util.h"

/* A check gets this long past its deadline to report its own timeout finding
 * (which says more than ours) before the runner gives up on it. */
#define DEADLINE_GRACE_MS 100

const struct apf_code apf_runner_codes[] = {
	{"CHECK_TIMEOUT", APF_ERROR, "The check was still running at its deadline and was abandoned; nothing it found is reported",
	 "Find which server did not answer in time (the evidence names the last step), or raise the deadline with --timeout"},
	{"CHECK_SKIPPED", APF_SKIP, "The check did not run, for the reason given", NULL},
	{"CHECK_MISSING_CONFIG", APF_SKIP, "The check did not run because a configuration key it needs is not set",
	 "Set the key named in the evidence (see docs/config.md) to enable the check"},
	{"CHECK_DEPENDENCY_FAILED", APF_SKIP,
	 "The check did not run because a check it depends on failed or could not run",
	 "Fix what the check named in the evidence reports first"},
	{"CHECK_OPT_IN", APF_SKIP,
	 "The check is intrusive (it changes state on the network) and runs only when asked for",
	 "Name it with --only or list it in [site] enable"},
	{"CHECK_INTERNAL", APF_ERROR, "The check itself failed unexpectedly", "Report this as a bug with the evidence"},
	{"CHECK_NO_RESULT", APF_ERROR, "The check finished without reporting anything", "Report this as a bug"},
	{"CHECK_UNDECLARED_CODE", APF_ERROR, "The check reported a finding code it does not declare",
	 "Report this as a bug"},
	{NULL, 0, NULL, NULL},
};

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

struct job {
	const struct apf_check *check;
	enum job_state state;
	struct apf_ctx *ctx;
	uint64_t started_ms;
	bool timed_out;
	pthread_t thread;
	bool thread_done; /* set by the thread under the runner lock */
	bool announced;   /* passed to on_done */
	struct apf_check_result *slot;
};

struct runner {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *jobs;
	size_t n;
	uint64_t run_end_ms; /* the whole run's deadline (--total-timeout); 0 = none */
};

struct thread_arg {
	struct runner *r;
	struct job *job;
	struct apf_ctx *ctx;
};

static bool area_match(const char *sel, const char *id)
{
	size_t n = strlen(sel);

	return strchr(sel, '.') == NULL && strncmp(id, sel, n) == 0 && id[n] == '.';
}

bool apf_runner_selects(const char *sel, const char *id)
{
	return strcmp(sel, id) == 0 || area_match(sel, id);
}

static bool selected_by(const char *const *list, size_t n, const char *id, bool *exact)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], id) == 0) {
			if (exact)
				*exact = true;
			return true;
		}
		if (area_match(list[i], id))
			return true;
	}
	return false;
}

bool apf_runner_select_ok(const char *sel)
{
	for (size_t i = 0; i < apf_registry_count(); i++) {
		const char *id = apf_registry_at(i)->id;
		if (apf_runner_selects(sel, id))
			return true;
	}
	return false;
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct apf_ctx *ctx = a->ctx;
	int rc = ctx->check->run(ctx);

	if (rc < 0) {
		struct apf_finding *f = apf_report(ctx, APF_ERROR, "CHECK_INTERNAL", "The check stopped with an internal error");
		apf_evidence(f, "error", "%s", strerror(-rc));
	} else if (ctx->result.n_findings == 0) {
		apf_report(ctx, APF_ERROR, "CHECK_NO_RESULT", "The check finished without reporting anything");
	}
	apf_ctx_finalize(ctx);
	pthread_mutex_lock(&a->r->lock);
	/* After a timeout the runner no longer looks at this job; nothing to publish. */
	if (!a->job->timed_out) {
		a->job->thread_done = true;
		pthread_cond_broadcast(&a->r->cond);
	}
	pthread_mutex_unlock(&a->r->lock);
	apf_ctx_unref(ctx);
	free(a);
	return NULL;
}

static const struct job *find_job(const struct runner *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->jobs[i].check->id, id) == 0)
			return &r->jobs[i];
	}
	return NULL;
}

/* 1: all dependencies in the run are done; 0: still waiting. */
static int deps_done(const struct runner *r, const struct apf_check *c)
{
	const char *const *lists[2] = {c->requires_checks, c->after};

	for (int l = 0; l < 2; l++) {
		for (const char *const *d = lists[l]; d && *d; d++) {
			const struct job *j = find_job(r, *d);
			if (j && j->state != JOB_DONE)
				return 0;
		}
	}
	return 1;
}

/* Why a waiting job must not run, as a finding, or NULL to run it. */
static struct apf_finding *pre_run_skip(const struct runner *r, const struct job *job, const struct apf_run_opts *o)
{
	const struct apf_check *c = job->check;
	struct apf_finding *f;

	for (const char *const *k = c->requires_keys; k && *k; k++) {
		if (!apf_config_is_set(o->cfg, *k)) {
			const char *dot = strchr(*k, '.');
			f = apf_finding_new(APF_SKIP, "CHECK_MISSING_CONFIG", "");
			free(f->message);
			f->message = apf_xasprintf("Not checked: %s is not set in [%.*s]", dot ? dot + 1 : *k,
						   dot ? (int)(dot - *k) : 0, *k);
			apf_finding_add_evidence(f, "missing_key", *k);
			if (o->cfg->path)
				apf_finding_add_evidence(f, "config", o->cfg->path);
			return f;
		}
	}
	for (const char *const *d = c->requires_checks; d && *d; d++) {
		const struct job *j = find_job(r, *d);
		if (j && (j->slot->status >= APF_ERROR || j->slot->status == APF_SKIP)) {
			f = apf_finding_new(APF_SKIP, "CHECK_DEPENDENCY_FAILED", "");
			free(f->message);
			f->message = apf_xasprintf("Not checked: it needs %s, which reported %s", *d,
						   apf_status_name(j->slot->status));
			apf_finding_add_evidence(f, "depends_on", *d);
			apf_finding_add_evidence(f, "dependency_status", apf_status_name(j->slot->status));
			return f;
		}
	}
	return NULL;
}

static void job_finish_with(struct job *job, struct apf_finding *f)
{
	apf_check_result_take_finding(job->slot, f);
	job->state = JOB_DONE;
}

static int start_job(struct runner *r, struct job *job, const struct apf_run_opts *o, struct apf_facts *facts)
{
	unsigned int timeout = o->timeout_ms ? o->timeout_ms : job->check->timeout_ms;
	struct thread_arg *a;
	int rc;

	uint64_t deadline;

	job->started_ms = apf_now_ms();
	deadline = job->started_ms + (timeout ? timeout : 30000);
	/* No check outlives the whole run's deadline: a monitoring system kills
	 * a plugin that overruns, and then gets no output at all. */
	if (r->run_end_ms && deadline > r->run_end_ms)
		deadline = r->run_end_ms > job->started_ms ? r->run_end_ms : job->started_ms;
	job->ctx = apf_ctx_new(job->check, o->cfg, facts, deadline);
	job->ctx->refs = 2; /* the runner's and the thread's */
	a = apf_xcalloc(1, sizeof(*a));
	a->r = r;
	a->job = job;
	a->ctx = job->ctx;
	job->state = JOB_RUNNING;
	/* Joinable: a finished check is joined, so its thread-local library state
	 * (OpenSSL's error queue...) is gone before the process exits; one that
	 * overruns its deadline is detached and left behind instead. */
	rc = pthread_create(&job->thread, NULL, thread_main, a);
	if (rc) {
		/* No thread holds it: drop the runner's context too, or it leaks. */
		job->ctx->refs = 1;
		apf_ctx_unref(job->ctx);
		job->ctx = NULL;
		free(a);
		return -rc;
	}
	return 0;
}

/* Moves a finished thread's findings into the run's slot. */
static void collect(struct job *job, struct apf_facts *facts)
{
	struct apf_ctx *ctx = job->ctx;

	for (size_t i = 0; i < ctx->result.n_findings; i++)
		apf_check_result_take_finding(job->slot, ctx->result.findings[i]);
	free(ctx->result.findings);
	ctx->result.findings = NULL;
	ctx->result.n_findings = 0;
	job->slot->metrics = ctx->result.metrics;
	job->slot->n_metrics = ctx->result.n_metrics;
	ctx->result.metrics = NULL;
	ctx->result.n_metrics = 0;
	apf_facts_seal(facts, job->check->id);
	apf_ctx_unref(ctx);
	job->ctx = NULL;
	job->state = JOB_DONE;
	/* The thread has published its result and needs no lock to end: quick. */
	pthread_join(job->thread, NULL);
}

static void abandon(struct job *job, uint64_t now, struct apf_facts *facts)
{
	struct apf_ctx *ctx = job->ctx;
	char *step = apf_ctx_step_dup(ctx);
	struct apf_finding *f;

	pthread_mutex_lock(&ctx->lock);
	ctx->abandoned = true;
	pthread_mutex_unlock(&ctx->lock);
	pthread_detach(job->thread);
	job->timed_out = true;
	f = apf_finding_new(APF_ERROR, "CHECK_TIMEOUT", "");
	free(f->message);
	f->message = apf_xasprintf("%s did not finish within its deadline of %llu ms and was abandoned",
				   job->check->id, (unsigned long long)(ctx->deadline_ms - job->started_ms));
	apf_finding_add_evidence(f, "check", job->check->id);
	{
		char *v = apf_xasprintf("%llu", (unsigned long long)(ctx->deadline_ms - job->started_ms));
		apf_finding_add_evidence(f, "deadline_ms", v);
		free(v);
		v = apf_xasprintf("%llu", (unsigned long long)(now - job->started_ms));
		apf_finding_add_evidence(f, "abandoned_after_ms", v);
		free(v);
	}
	if (step)
		apf_finding_add_evidence(f, "last_step", step);
	apf_finding_set_remedy(f, apf_code_lookup(NULL, "CHECK_TIMEOUT")->remedy);
	free(step);
	apf_facts_seal(facts, job->check->id);
	apf_ctx_unref(ctx); /* the thread keeps its own reference */
	job->ctx = NULL;
	job_finish_with(job, f);
}

int apf_run_checks(const struct apf_run_opts *o, struct apf_run **out, bool *abandoned)
{
	/* Heap, not stack: an abandoned thread still touches the runner when it ends. */
	struct runner *r = apf_xcalloc(1, sizeof(*r));
	struct apf_facts *facts = apf_facts_new();
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));
	uint64_t t0 = apf_now_ms();
	size_t done = 0, n_all;
	int jobs = o->jobs > 0 ? o->jobs : 1, running = 0;
	bool left_behind = false;
	char host[256];
	pthread_condattr_t ca;

	*out = NULL;
	r->run_end_ms = o->total_timeout_ms ? t0 + o->total_timeout_ms : 0;
	pthread_mutex_init(&r->lock, NULL);
	/* Deadlines are on CLOCK_MONOTONIC: wall-clock jumps must not fire or hide a timeout. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);

	run->tool_version = apf_xstrdup(APF_VERSION);
	run->started = time(NULL);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		run->host = apf_xstrdup(host);
	}
	if (o->cfg->site.name)
		run->site = apf_xstrdup(o->cfg->site.name);
	if (o->cfg->path)
		run->config_path = apf_xstrdup(o->cfg->path);
	run->config_digest = apf_config_digest(o->cfg);

	n_all = o->checks ? o->n_checks : apf_registry_count();
	r->jobs = apf_xcalloc(n_all, sizeof(*r->jobs));
	run->checks = apf_xcalloc(n_all, sizeof(*run->checks));
	for (size_t i = 0; i < n_all; i++) {
		const struct apf_check *c = o->checks ? o->checks[i] : apf_registry_at(i);
		struct job *j = &r->jobs[r->n];
		bool exact = false;

		if (o->n_only && !selected_by(o->only, o->n_only, c->id, &exact))
			continue;
		if (selected_by(o->skip, o->n_skip, c->id, NULL))
			continue;
		j->check = c;
		j->slot = &run->checks[run->n_checks++];
		j->slot->id = c->id;
		j->slot->title = c->title;
		r->n++;
		/* Intrusive checks run only when asked for by name, never as part of "everything". */
		if ((c->flags & APF_CHECK_INTRUSIVE) && !exact && !apf_strlist_has(&o->cfg->site.enable, c->id)) {
			struct apf_finding *f = apf_finding_new(APF_SKIP, "CHECK_OPT_IN", "");
			free(f->message);
			f->message = apf_xasprintf("Not run: %s changes state on the network and runs only when named "
						   "with --only or listed in [site] enable",
						   c->id);
			job_finish_with(j, f);
			apf_facts_seal(facts, c->id);
		}
	}

	pthread_mutex_lock(&r->lock);
	for (;;) {
		uint64_t now = apf_now_ms(), next = UINT64_MAX;
		bool progressed = false;

		/* Collect finished threads and give up on overdue ones. */
		for (size_t i = 0; i < r->n; i++) {
			struct job *j = &r->jobs[i];
			if (j->state != JOB_RUNNING)
				continue;
			if (j->thread_done) {
				collect(j, facts);
			} else if (now >= j->ctx->deadline_ms + DEADLINE_GRACE_MS) {
				abandon(j, now, facts);
				left_behind = true;
			} else {
				if (j->ctx->deadline_ms + DEADLINE_GRACE_MS < next)
					next = j->ctx->deadline_ms + DEADLINE_GRACE_MS;
				continue;
			}
			running--;
			j->slot->duration_ms = apf_now_ms() - j->started_ms;
			progressed = true;
		}
		/* Start what can start, in registry order; skips finish at once. */
		for (size_t i = 0; i < r->n && running < jobs; i++) {
			struct job *j = &r->jobs[i];
			struct apf_finding *skip;
			int err;

			if (j->state != JOB_WAITING || !deps_done(r, j->check))
				continue;
			progressed = true;
			skip = pre_run_skip(r, j, o);
			if (skip) {
				job_finish_with(j, skip);
				apf_facts_seal(facts, j->check->id);
				continue;
			}
			err = start_job(r, j, o, facts);
			if (err) {
				struct apf_finding *f = apf_finding_new(APF_ERROR, "CHECK_INTERNAL", "The check could not be started");
				apf_finding_add_evidence(f, "error", strerror(-err));
				job_finish_with(j, f);
				apf_facts_seal(facts, j->check->id);
				continue;
			}
			running++;
			if (j->ctx->deadline_ms + DEADLINE_GRACE_MS < next)
				next = j->ctx->deadline_ms + DEADLINE_GRACE_MS;
		}
		/* Announce what finished since the last pass (progress output). */
		for (size_t i = 0; i < r->n; i++) {
			struct job *j = &r->jobs[i];
			if (j->state != JOB_DONE || j->announced)
				continue;
			j->announced = true;
			done++;
			if (o->on_done)
				o->on_done(j->slot, done, r->n, o->arg);
		}
		if (done == r->n)
			break;
		if (progressed)
			continue;
		if (next == UINT64_MAX) {
			pthread_cond_wait(&r->cond, &r->lock);
		} else {
			struct timespec ts = {.tv_sec = (time_t)(next / 1000), .tv_nsec = (long)(next % 1000) * 1000000L};
			pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		}
	}
	pthread_mutex_unlock(&r->lock);

	run->duration_ms = apf_now_ms() - t0;
	apf_run_finish(run);
	*out = run;
	if (abandoned)
		*abandoned = left_behind;
	/* A thread left behind still holds pointers into the runner and the facts:
	 * those stay allocated until the process exits, which the caller does next. */
	if (!left_behind) {
		free(r->jobs);
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		apf_facts_free(facts);
	}
	return 0;
}
