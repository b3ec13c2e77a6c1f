/* SPDX-License-Identifier: MIT */
/*
 * Activation profiles: how a site provisions AMT decides which rules apply.
 * `[amt] activation` lists the paths a site uses (docs/profiles.md); checks
 * ask this module, never the raw key, so the default and each profile's
 * sources live in one table.
 *
 *  - remote-config: Intel SCS or ConfigMgr receive AMT's Hello (AMT looks up
 *    ProvisionServer.<suffix>, TCP 9971); the firmware's suffix rule.
 *  - rps: rpc-go + RPS (Open AMT / Device Management Toolkit), host-based;
 *    no Hello; RPS picks the domain (certificate) by the device's DNS suffix
 *    exactly, and the firmware rule still applies.
 *  - meshcentral: MeshCentral's agent, host-based; no Hello; MeshCentral's
 *    trusted-FQDN compare, and the firmware rule.
 *  - ema: Intel EMA agent, host-based; no Hello; the firmware rule.
 *  - scs-host-based: Intel SCS / ACUConfig run on the host; no Hello; the
 *    firmware rule.
 *
 * Not declared (the key absent): no Hello is assumed required (a missing
 * ProvisionServer is INFO, not FAIL) and only the firmware rule, which every
 * ACM path meets in the end, is applied. No FAIL that holds for one path only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "amt_rules.h"

struct apf_config;

enum apf_profile {
	APF_PROFILE_REMOTE_CONFIG,
	APF_PROFILE_RPS,
	APF_PROFILE_MESHCENTRAL,
	APF_PROFILE_EMA,
	APF_PROFILE_SCS_HOST_BASED,
	APF_PROFILE_COUNT
};

struct apf_profile_info {
	const char *name;    /* the `[amt] activation` value: "rps" */
	const char *title;   /* "rpc-go + RPS (Open AMT / Device Management Toolkit), host-based" */
	bool hello;          /* AMT sends a Hello and looks up ProvisionServer */
	enum apf_suffix_rule rule; /* the server's own suffix rule (the firmware rule always applies too) */
	const char *source;  /* primary source of how this path works */
};

/* The table row of a profile; NULL for an out-of-range value. */
const struct apf_profile_info *apf_profile_info(enum apf_profile p);

/* The profile named `name` (case-insensitive), or NULL. For the config validator. */
const struct apf_profile_info *apf_profile_find(const char *name);

/* "remote-config|rps|..." for messages and docs. */
const char *apf_profile_names(void);

/* Whether the site declared any profile ([amt] activation set). */
bool apf_profile_declared(const struct apf_config *cfg);

/* Whether Hello / ProvisionServer is in use. */
enum apf_profile_answer {
	APF_PROFILE_NO,        /* profiles declared, none uses it */
	APF_PROFILE_YES,       /* a declared profile uses it */
	APF_PROFILE_UNDECLARED /* no profile declared: unknown */
};
enum apf_profile_answer apf_profile_uses_hello(const struct apf_config *cfg);

/* One suffix rule to apply, and which profile asks for it. */
struct apf_profile_rule {
	enum apf_suffix_rule rule;
	const char *profile; /* the profile name, or "firmware (every activation path)" */
};

/*
 * The suffix rules that apply, each once: the firmware rule first (every ACM
 * path ends in the firmware's own check), then each declared profile's server
 * rule when it differs. Returns how many were written to out.
 */
size_t apf_profile_suffix_rules(const struct apf_config *cfg, struct apf_profile_rule out[APF_SUFFIX_RULE_COUNT]);

struct apf_finding;
/* Adds the rules applied to a finding: "suffix_rule" ("firmware, exact"), and
 * "rule_source" (the firmware's) plus "rule_source_<rule>" for each other. */
void apf_profile_rules_evidence(struct apf_finding *f, const struct apf_profile_rule *rules, size_t n);

/* Prints what a profile selects and its sources (for `explain`). */
void apf_profile_explain(FILE *out, const struct apf_profile_info *p);

/* The declared profile names joined with ", ", or "not declared"; caller frees. */
char *apf_profile_declared_str(const struct apf_config *cfg);
