/* SPDX-License-Identifier: MIT */
/*
 * The result model: run -> checks -> findings. Every renderer in report/ reads
 * this and nothing else, so JSON, HTML, JUnit and text always agree.
 */
#pragma once

#include <stdbool.h>
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

/* How a finding compares with the same finding in a baseline report (src/compare.c). */
enum apf_change {
	APF_CHANGE_NONE,      /* no baseline was given */
	APF_CHANGE_NEW,       /* not in the baseline */
	APF_CHANGE_CHANGED,   /* in the baseline with another status, message or evidence */
	APF_CHANGE_UNCHANGED, /* in the baseline as it is now */
	APF_CHANGE_COUNT
};

/* "new", "changed", ...; NULL for APF_CHANGE_NONE. Paired with enum apf_change. */
const char *apf_change_name(enum apf_change c);

/* The accepted-risk entry (src/waiver.c) that covers a finding. */
struct apf_waiver_mark {
	char *id;            /* the waiver's [name] in the waiver file */
	char *justification;
	char *owner;
	char *expires;       /* YYYY-MM-DD */
	bool expired;        /* past its date: shown, but the finding counts again */
};

/* What became of one waiver of the waiver file in this run. */
enum apf_waiver_outcome {
	APF_WAIVER_APPLIED, /* covers at least one finding */
	APF_WAIVER_EXPIRED, /* past its date: covers nothing */
	APF_WAIVER_STALE,   /* current, but matches no finding of this run */
	APF_WAIVER_OUTCOME_COUNT
};

/* "applied", "expired", "stale". Paired with enum apf_waiver_outcome. */
const char *apf_waiver_outcome_name(enum apf_waiver_outcome o);

struct apf_waiver_state {
	char *id, *code, *check, *match, *owner, *expires; /* check and match may be NULL */
	enum apf_waiver_outcome outcome;
	size_t matched; /* findings it matches (for an expired one: would have covered) */
};

struct apf_finding {
	enum apf_status status;
	char *code;        /* stable upper-snake */
	char *message;     /* one sentence */
	struct apf_kv *evidence;
	size_t n_evidence;
	char *remediation; /* may be NULL */
	enum apf_change change;
	char *change_detail; /* for APF_CHANGE_CHANGED: what differs ("days_left: 40 -> 12"); else NULL */
	struct apf_waiver_mark *waiver; /* NULL when no waiver applies; a waived finding counts toward nothing */
};

/* A number a check measured, for monitoring performance data and trends
 * ("prov_chain_days_left" = 12). Names are [a-z0-9_]; uom as monitoring-plugins
 * define it ("", "s", "%", "c"...). */
struct apf_metric {
	char *name;
	double value;
	char *uom;
};

struct apf_check_result {
	const char *id;    /* not owned: the descriptor's */
	const char *title; /* not owned */
	enum apf_status status;
	struct apf_finding **findings;
	size_t n_findings;
	uint64_t duration_ms;
	struct apf_metric *metrics;
	size_t n_metrics;
};

/* A finding of the baseline that this run no longer has. */
struct apf_fixed {
	char *check_id;
	char *code;
	char *message;
	enum apf_status status;
};

/* What the run was compared with (--baseline, or the history's latest report). */
struct apf_baseline {
	char *path;
	char *started;        /* the baseline run's start, as its report says */
	char *verdict;        /* the baseline run's verdict name */
	size_t counts[APF_CHANGE_COUNT]; /* findings of this run by change */
	enum apf_status regression;      /* worst new-or-worse problem (src/compare.h); APF_SKIP = none */
	struct apf_fixed *fixed;
	size_t n_fixed;
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
	struct apf_baseline *baseline; /* NULL when the run was not compared */
	size_t n_waived;               /* findings covered by a current waiver */
	struct apf_waiver_state *waivers; /* every waiver of the file; NULL when none is configured */
	size_t n_waivers;
	/* Strings that checks[].id and .title point to when the run was read from a
	 * report file rather than run (report/json_read.c); freed with the run. */
	char **owned;
	size_t n_owned;
};

struct apf_finding *apf_finding_new(enum apf_status st, const char *code, const char *message);
void apf_finding_add_evidence(struct apf_finding *f, const char *key, const char *value);
void apf_finding_set_remedy(struct apf_finding *f, const char *remedy);
void apf_finding_free(struct apf_finding *f);

/* Appends a metric to a check's result (copies name and uom). */
void apf_check_result_add_metric(struct apf_check_result *r, const char *name, double value, const char *uom);
/* The lowest value of metric `name` over the run's checks; false when none has it. */
bool apf_run_metric_min(const struct apf_run *run, const char *name, double *out);

void apf_waiver_mark_free(struct apf_waiver_mark *w);
void apf_baseline_free(struct apf_baseline *b);

/* Appends (takes ownership of) a finding and raises the check's status. */
void apf_check_result_take_finding(struct apf_check_result *r, struct apf_finding *f);

/* The finding that decided the check's status: the first one as bad as the
 * check. NULL when it has none. */
const struct apf_finding *apf_check_result_worst(const struct apf_check_result *r);

/* Computes statuses, counts and the verdict from the findings. A waived finding
 * counts toward neither its check's status nor the verdict; a check whose every
 * finding above INFO is waived is INFO (something was seen and accepted). */
void apf_run_finish(struct apf_run *run);
void apf_run_free(struct apf_run *run);

/* Worst status of a run's checks (for exit codes and summaries). */
enum apf_status apf_run_worst(const struct apf_run *run);
