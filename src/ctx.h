/* SPDX-License-Identifier: MIT */
/* Internal: the per-check context shared by ctx.c (the check API) and runner.c. */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "check.h"

struct apf_facts; /* run-wide, owned by the runner */

struct apf_ctx {
	const struct apf_check *check;
	const struct apf_config *cfg;
	struct apf_facts *facts;
	uint64_t deadline_ms;
	/* Written only by the check's thread until it is done (or abandoned). */
	struct apf_check_result result;
	bool bad_code_reported;
	/* Shared with the runner under `lock`. */
	pthread_mutex_t lock;
	char *step;
	bool abandoned; /* the runner gave up on it: facts it adds are dropped */
	int refs;       /* the runner and the thread each hold one */
};

struct apf_ctx *apf_ctx_new(const struct apf_check *check, const struct apf_config *cfg, struct apf_facts *facts,
			    uint64_t deadline_ms);
/* Drops one reference; frees on the last one. */
void apf_ctx_unref(struct apf_ctx *ctx);
/* Fills missing remediations from the code table; called once the check returned. */
void apf_ctx_finalize(struct apf_ctx *ctx);
/* Current step text (copy, may be NULL); caller frees. */
char *apf_ctx_step_dup(struct apf_ctx *ctx);

struct apf_facts *apf_facts_new(void);
void apf_facts_free(struct apf_facts *f);
/* Marks a check's facts final (its thread ended or was abandoned); only then are they visible. */
void apf_facts_seal(struct apf_facts *f, const char *check_id);

/* Looks up a code in a check's table, then the runner's. */
const struct apf_code *apf_code_lookup(const struct apf_check *check, const char *code);
