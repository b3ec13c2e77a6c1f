/* SPDX-License-Identifier: MIT */
/*
 * The runner: selects checks, runs them on a bounded pool of threads, each with
 * its own deadline, and collects their results in registry order whatever the
 * scheduling. A check still running at its deadline is reported as ERROR
 * CHECK_TIMEOUT and left behind: the run never waits for it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

struct apf_run_opts {
	const struct apf_config *cfg;
	/* The checks to choose from, in report order; NULL = the registry (tests pass their own). */
	const struct apf_check *const *checks;
	size_t n_checks;
	/* Ids or areas ("dns") to run; NULL/0 = all. Entries must be valid (see apf_runner_select_ok). */
	const char *const *only;
	size_t n_only;
	const char *const *skip;
	size_t n_skip;
	int jobs;                /* >= 1 */
	unsigned int timeout_ms; /* 0 = each check's default */
	/* The whole run's deadline from its start (--total-timeout): every check's
	 * deadline is cut to it, so the run ends by then. 0 = none. */
	unsigned int total_timeout_ms;
	/* Called on the calling thread as each check finishes (progress). May be NULL. */
	void (*on_done)(const struct apf_check_result *r, size_t done, size_t total, void *arg);
	void *arg;
};

/* The runner's own finding codes (CHECK_TIMEOUT, ...), terminated by code == NULL. */
extern const struct apf_code apf_runner_codes[];

/* True when `sel` (an --only/--skip entry) is the check id `id` or its area ("dns"). */
bool apf_runner_selects(const char *sel, const char *id);

/* True when `sel` names a check id or an area that has checks. */
bool apf_runner_select_ok(const char *sel);

/*
 * Runs the selected checks. Returns 0 and a finished run (caller frees), or
 * -errno when the runner itself could not work (thread creation). *abandoned
 * (may be NULL) is set when a timed-out check is still running: the caller must
 * then leave with _exit() after writing its reports rather than run library
 * cleanups under that thread.
 */
int apf_run_checks(const struct apf_run_opts *o, struct apf_run **out, bool *abandoned);
