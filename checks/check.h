/* SPDX-License-Identifier: MIT */
/*
 * The check interface: everything a check in checks/ may use.
 *
 * A check is one file in checks/ that exports exactly one descriptor,
 * `const struct apf_check apf_check_<name>`, listed once in src/registry.c.
 * Its run() reads the configuration (ctx->cfg), talks to the network only
 * through the adapters in src/net/ (which hold the mechanism: timeouts,
 * library calls, size caps) and reports findings (which hold the policy:
 * what was seen, why it matters to AMT provisioning, how to fix it).
 *
 * Checks never include ldns, OpenSSL, libldap or libcurl headers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "config.h"
#include "facts.h"
#include "result.h"

struct apf_ctx;

/* Privileges or capabilities a check needs beyond reading its config. */
enum apf_need {
	APF_NEED_NETWORK = 1u << 0, /* sends packets (DNS, LDAP, HTTP, TLS) */
	APF_NEED_RAW_DHCP = 1u << 1, /* binds UDP port 68 on an interface (root or CAP_NET_BIND_SERVICE+CAP_NET_RAW) */
};

/* Flags that change how the runner treats a check. */
enum apf_check_flag {
	/* Changes state on the network (takes a DHCP lease, registers a name).
	 * Runs only when named with --only or in [site] enable. */
	APF_CHECK_INTRUSIVE = 1u << 0,
};

/*
 * A finding code a check may emit: the stable upper-snake key that reports,
 * docs and users key on. `explain CODE` prints it; docs/checks/<id>.md must
 * document every code (a unit test keeps them in sync).
 */
struct apf_code {
	const char *code;        /* "CERT_CHAIN_EXPIRED" */
	enum apf_status status;  /* the status it is normally reported with */
	const char *meaning;     /* what it means and why it breaks provisioning */
	const char *remedy;      /* default remediation, used when the finding sets none */
};

struct apf_check {
	/* "cert.provisioning": stable; area "." name, [a-z0-9-]. Key for --only, JSON, docs/checks/<id>.md. */
	const char *id;
	/* One line for tables: "Provisioning certificate and chain". */
	const char *title;
	/* What is checked and why it matters for AMT provisioning (for `list`/`explain`). */
	const char *summary;
	/* Config keys ("section.key") that must be set, NULL-terminated; unset -> SKIP naming the key. May be NULL. */
	const char *const *requires_keys;
	/* Checks that must have passed (no FAIL/ERROR) for this one to run; failed -> SKIP
	 * with the reason. Only applies when the required check is part of the run. May be NULL. */
	const char *const *requires_checks;
	/* Checks whose facts this one reads: ordering only, never a SKIP. May be NULL. */
	const char *const *after;
	unsigned int needs;      /* enum apf_need bits */
	unsigned int flags;      /* enum apf_check_flag bits */
	unsigned int timeout_ms; /* default deadline; --timeout overrides */
	/* Every code this check may emit, terminated by an entry with code == NULL.
	 * The runner's own codes (CHECK_TIMEOUT, CHECK_SKIPPED, ...) need not be listed. */
	const struct apf_code *codes;
	/*
	 * Runs the check. Reports findings through apf_report(); returns 0, or a
	 * negative errno when the check itself broke (the runner then adds an
	 * ERROR CHECK_INTERNAL). A check that returns 0 with no finding is a bug
	 * and is reported as ERROR CHECK_NO_RESULT. Never NULL.
	 */
	int (*run)(struct apf_ctx *ctx);
};

/* ---- the context a check runs in ---------------------------------------- */

/* Read-only configuration of the run. */
const struct apf_config *apf_cfg(const struct apf_ctx *ctx);

/* This check's descriptor. */
const struct apf_check *apf_ctx_check(const struct apf_ctx *ctx);

/* Milliseconds left before the check's deadline (0 when passed). Adapters derive
 * every network timeout from it; a check may pass a smaller share. */
unsigned int apf_ctx_remaining_ms(const struct apf_ctx *ctx);

/* Absolute deadline on CLOCK_MONOTONIC, in ms (see apf_now_ms()). */
uint64_t apf_ctx_deadline_ms(const struct apf_ctx *ctx);

/* What the check is doing now ("LDAP bind to dc1.corp.example.test:636"); shown as
 * evidence when the check times out. Copied. */
void apf_ctx_step(struct apf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Facts: small strings a check publishes for later checks (declared in their
 * `after`), e.g. dhcp.options publishes APF_FACT_DHCP_DOMAIN_SUFFIX. Every key
 * is named in src/facts.h with its publisher.
 * Keys are scoped by the publishing check's id. Multi-valued: each set appends.
 */
void apf_fact_add(struct apf_ctx *ctx, const char *key, const char *value);
/* Values published by check `check_id` under `key`; NULL-terminated array owned by
 * the run (valid until the run ends), or NULL when none. */
const char *const *apf_fact_get(const struct apf_ctx *ctx, const char *check_id, const char *key);

/*
 * Reads a secret (e.g. "ad.bind_password"): the file named by "<key>_file", or
 * else the environment variable listed in docs/config.md. The caller frees it
 * with apf_secret_free(), which wipes it. Returns 0, -ENOENT when neither is
 * set, or -errno when the file cannot be read (-EIO for a missing file, so it
 * is never taken for "not set"; *err_out, if given, is then a message naming
 * the file and the cause; free it).
 */
int apf_secret_read(const struct apf_ctx *ctx, const char *key, char **out, char **err_out);
void apf_secret_free(char *secret);

/* ---- findings ------------------------------------------------------------ */

/*
 * Adds a finding. `code` must be one of the check's codes (a test guards
 * this); `fmt` is one sentence without a trailing period. Never fails (OOM
 * aborts); the returned finding is owned by the run.
 */
struct apf_finding *apf_report(struct apf_ctx *ctx, enum apf_status st, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Appends an evidence pair (ordered). Values are copied; never pass secrets. */
void apf_evidence(struct apf_finding *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends the first `max` bytes of data as lowercase hex ("..." when cut, "(none)" when
 * empty): evidence for malformed network data, which is never shown raw. */
void apf_evidence_hex(struct apf_finding *f, const char *key, const void *data, size_t len, size_t max);

/* Sets the remediation (replaces the code table's default). */
void apf_remedy(struct apf_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Records a number the check measured, for monitoring performance data (the
 * nagios output's perfdata) and for comparing runs: e.g. "prov_chain_days_left".
 * `name` is [a-z0-9_], documented in the check's doc page; `uom` is a
 * monitoring-plugins unit ("" for a plain number, "s", "%", "c").
 */
void apf_metric(struct apf_ctx *ctx, const char *name, double value, const char *uom);

/* Marks the whole check SKIP with a reason (e.g. nothing to check); a finding of
 * status SKIP and code CHECK_SKIPPED. */
struct apf_finding *apf_skip(struct apf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- small helpers checks commonly need ----------------------------------- */

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t apf_now_ms(void);

/* The n strings of v joined with sep ("a, b, c"; "" when n is 0), for evidence. Caller frees. */
char *apf_strv_join(const char *const *v, size_t n, const char *sep);
