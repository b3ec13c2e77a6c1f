/* SPDX-License-Identifier: MIT */
/*
 * The result model: run -> checks -> findings. Every renderer in report/ reads
 * this and nothing else, so JSON, HTML, JUnit and text always agree.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Numeric order is severity order: a check's status is the max of its
 * findings'. SKIP is zero so an empty check is never PASS. ERROR ("could not
 * check") sorts below FAIL ("checked and broken") and is never shown as either.
 */
enum apf_status {
	APF_SKIP,
	APF_PASS,
	APF_INFO,
	APF_WARN,
	APF_ERROR,
	APF_FAIL,
	APF_STATUS_COUNT
};

/* "PASS", "FAIL", ...; NULL for an out-of-range value. */
const char *apf_status_name(enum apf_status st);
/* Parses "PASS"/"pass"...; returns 0 or -EINVAL. */
int apf_status_parse(const char *s, enum apf_status *out);

enum apf_verdict {
	APF_VERDICT_READY,          /* only PASS/INFO/SKIP */
	APF_VERDICT_READY_WARNINGS, /* at least one WARN, nothing worse */
	APF_VERDICT_NOT_READY,      /* at least one FAIL */
	APF_VERDICT_INCOMPLETE,     /* at least one ERROR and no FAIL, or every check skipped */
	APF_VERDICT_COUNT
};

const char *apf_verdict_name(enum apf_verdict v);
/* Nagios-style exit code of a verdict: 0, 1, 2, 3. */
int apf_verdict_exit_code(enum apf_verdict v);

struct apf_kv {
	char *key;
	char *value;
};

struct apf_finding {
	enum apf_status status;
	char *code;        /* stable upper-snake */
	char *message;     /* one sentence */
	struct apf_kv *evidence;
	size_t n_evidence;
	char *remediation; /* may be NULL */
};

struct apf_check_result {
	const char *id;    /* not owned: the descriptor's */
	const char *title; /* not owned */
	enum apf_status status;
	struct apf_finding **findings;
	size_t n_findings;
	uint64_t duration_ms;
};

struct apf_run {
	char *tool_version;
	char *host;          /* hostname the run was made on */
	char *site;          /* [site] name, may be NULL */
	char *config_path;   /* may be NULL */
	char *config_digest; /* sha256 hex over the non-secret config, may be NULL */
	time_t started;      /* wall clock */
	uint64_t duration_ms;
	struct apf_check_result *checks; /* registry order */
	size_t n_checks;
	/* derived by apf_run_finish() */
	enum apf_verdict verdict;
	size_t counts[APF_STATUS_COUNT]; /* checks by status */
};

struct apf_finding *apf_finding_new(enum apf_status st, const char *code, const char *message);
void apf_finding_add_evidence(struct apf_finding *f, const char *key, const char *value);
void apf_finding_set_remedy(struct apf_finding *f, const char *remedy);
void apf_finding_free(struct apf_finding *f);

/* Appends (takes ownership of) a finding and raises the check's status. */
void apf_check_result_take_finding(struct apf_check_result *r, struct apf_finding *f);

/* The finding that decided the check's status: the first one as bad as the
 * check. NULL when it has none. */
const struct apf_finding *apf_check_result_worst(const struct apf_check_result *r);

/* Computes statuses, counts and the verdict from the findings. */
void apf_run_finish(struct apf_run *run);
void apf_run_free(struct apf_run *run);

/* Worst status of a run's checks (for exit codes and summaries). */
enum apf_status apf_run_worst(const struct apf_run *run);
