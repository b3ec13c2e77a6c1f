/* SPDX-License-Identifier: MIT */
/*
 * Helpers the cert.* checks share: loading the configured provisioning
 * certificate (with its password from apf_secret_read) and naming a
 * certificate in a finding's evidence the same way everywhere.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "amt_rules.h"
#include "check.h"
#include "devfacts.h"
#include "pki.h"

/*
 * Loads [provisioning] certificate (+ key, chain) with the password from
 * provisioning.password_file / $AMT_PREFLIGHT_PFX_PASSWORD (NULL when neither
 * is set). Returns as apf_pki_load_files(); -EIO when the password file cannot
 * be read. *err_out (caller frees) explains failures and never holds the password.
 */
int apf_pki_load_configured(struct apf_ctx *ctx, struct apf_pki_bundle **out, char **err_out);

/*
 * Evidence naming one certificate: `position` ("leaf", "chain[1] (intermediate)",
 * ...) when not NULL, then subject, issuer, serial, sha1, notBefore, notAfter.
 */
void apf_cert_evidence(struct apf_finding *f, const struct apf_cert *c, const char *position);

/*
 * The AMT generations a provisioning chain must satisfy: `[amt] generations`
 * united with the major versions that devices not yet activated report
 * ([amt] device_facts), since those are the firmware that will judge the
 * chain. Each generation remembers where it came from, for evidence.
 */
#define APF_AMT_GEN_LIMIT 100 /* generations are 1-99 */
struct apf_amt_targets {
	int gens[APF_AMT_GEN_LIMIT - 1]; /* ascending, distinct */
	size_t n;
	struct apf_amt_gen_rules rules; /* the strictest over gens (apf_amt_target_rules) */
	char *list;   /* "11, 15", or "not configured (the newest rules apply)" */
	char *origin; /* "11: [amt] generations; 15: devices pc-1, pc-2", or NULL when n is 0 */
};

/* Fills `t` from the config and `df` (NULL: no device facts). Clear it after. */
void apf_amt_targets_init(struct apf_amt_targets *t, const struct apf_config *cfg, const struct apf_devfacts *df);
void apf_amt_targets_clear(struct apf_amt_targets *t);

/* Evidence "generations" (t->list) and, when known, "generations_from" (t->origin). */
void apf_amt_targets_evidence(struct apf_finding *f, const struct apf_amt_targets *t);

/* "leaf", "intermediate" or "root" with the index: "chain[1] (intermediate)". Caller frees. */
char *apf_chain_position(const struct apf_chain *ch, size_t i);
