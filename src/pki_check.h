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

/* AMT generation i of `[amt] generations` (validated 1-99 when the config was read). */
int apf_amt_generation(const struct apf_config *cfg, size_t i);

/* apf_amt_target_rules() / apf_amt_targets_str() over `[amt] generations`. */
void apf_amt_cfg_rules(const struct apf_config *cfg, struct apf_amt_gen_rules *out);
const char *apf_amt_cfg_targets(const struct apf_config *cfg, char *buf, size_t size);

/* "leaf", "intermediate" or "root" with the index: "chain[1] (intermediate)". Caller frees. */
char *apf_chain_position(const struct apf_chain *ch, size_t i);
