/* SPDX-License-Identifier: MIT */
/*
 * The AMT rules: the one place that knows how Intel AMT firmware and the
 * activation servers judge a provisioning certificate. Checks ask here
 * instead of writing the rule again; every rule names its primary source
 * (docs/sources.md) so a finding can cite it in evidence.
 *
 * Pure functions over strings and numbers: no I/O, no network, no config
 * parsing, so the rules can be unit-tested against the cases in the sources.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* ---- domain suffix ------------------------------------------------------- */

/* How a certificate's domain is compared with a device's DNS suffix. */
enum apf_suffix_rule {
	APF_SUFFIX_RULE_FIRMWARE, /* Intel AMT firmware, remote configuration (Hello/PKI) */
	APF_SUFFIX_RULE_EXACT,    /* RPS (Open AMT / Device Management Toolkit): exact, subdomains refused */
	APF_SUFFIX_RULE_MESHCENTRAL, /* MeshCentral: the certificate CN's domain is the trusted DNS suffix or a parent */
	APF_SUFFIX_RULE_COUNT
};

/*
 * Does the FQDN of a provisioning certificate (CN/SAN) satisfy the device DNS
 * suffix under `rule`? Case-insensitive, trailing dots ignored. NULL or empty
 * arguments never match.
 *
 * FIRMWARE: the certificate FQDN lies in the suffix's domain (it equals the
 * suffix or ends in "." suffix); in addition, for .com and .net names only,
 * equal last two labels suffice (AMT 2.6 relaxation), so ps.example.com
 * satisfies sales.example.com, while ps.corp.example.co.uk does NOT satisfy
 * branch.other.co.uk.
 * EXACT: `cert_fqdn` (a configured RPS domain, or a certificate FQDN whose
 * host label is dropped) equals the suffix; a device in a subdomain of it is
 * refused.
 * MESHCENTRAL: the certificate CN, cut to its registrable domain for the
 * TLDs MeshCentral lists (ps.corp.example.com -> example.com) and with a
 * leading "*." dropped, equals the device's trusted DNS suffix or is a parent
 * of it; a CN of "*" matches any suffix.
 */
bool apf_amt_suffix_match(const char *cert_fqdn, const char *device_suffix, enum apf_suffix_rule rule);

/*
 * Whether `name` ends in a TLD no public CA issues for (.local, .corp, .lan,
 * ...): Intel reports ACM failing with such option 15 domains combined with a
 * public certificate (Intel support article 000100444).
 */
bool apf_amt_private_tld(const char *name);

/* Short name of the rule for evidence: "firmware", "exact", "meshcentral". */
const char *apf_suffix_rule_name(enum apf_suffix_rule rule);

/* The primary source of the rule (URL or repo:path), for evidence and docs. */
const char *apf_suffix_rule_source(enum apf_suffix_rule rule);

/* ---- per-generation crypto rules (data/amt-generations.csv) -------------- */

/*
 * What firmware of one AMT generation (AMT major version; equals the CSME
 * major from 11 on) accepts in a provisioning chain. Built from the rows of
 * data/amt-generations.csv that cover the generation.
 */
struct apf_amt_gen_rules {
	int gen;                  /* the generation asked for; 0 = unknown (newest rules) */
	bool sha1_refused;        /* no SHA-1/MD5/MD2 signature anywhere in the chain, root included */
	const char *sha1_source;  /* source of that rule, or NULL when it does not apply */
	const char *sha1_scope;   /* platforms the rule covers ("all", "H-series"), or NULL; the
				     * rsa_min_bits rows share their generations and scopes */
	unsigned int rsa_min_bits; /* smallest RSA key accepted in the chain; 0 = no known floor */
	const char *rsa_source;   /* source of that floor, or NULL */
	unsigned int rsa_max_bits; /* largest RSA key accepted; 0 = no known ceiling */
	const char *rsa_max_source;
};

/*
 * Fills `out` with the rules for generation `gen` (1-99; 0 = not known, which
 * gets the rules of the newest generation in the table, since every vPro
 * platform sold since 2022 runs CSME 16 or later). Device-reported versions
 * and `[amt] generations` both go through here.
 */
void apf_amt_gen_rules(int gen, struct apf_amt_gen_rules *out);

/*
 * The strictest rules over a list of targeted generations (strings as in
 * `[amt] generations`, or device-reported majors; entries that are not 1-99
 * are ignored): SHA-1 refused when any target refuses it (out->gen names the
 * oldest such target), the highest RSA floor, the lowest RSA ceiling. With no
 * usable entry, the rules of an unknown generation (out->gen 0).
 */
void apf_amt_target_rules(const char *const *gens, size_t n, struct apf_amt_gen_rules *out);

/* "15, 16", or "not configured (the newest rules apply)" when n is 0; for evidence. */
const char *apf_amt_targets_str(const char *const *gens, size_t n, char *buf, size_t size);

/* True when `sig_hash` (OpenSSL short name of a signature digest: "sha1",
 * "md5", "SHA1" ...) is one the SHA-1 rule refuses. NULL is not weak. */
bool apf_amt_hash_is_weak(const char *sig_hash);

/* One row of data/amt-generations.csv (generated table, src/amt_gen_table.c). */
struct apf_amt_gen_row {
	const char *rule;   /* "sha1_refused", "rsa_min_bits", "rsa_max_bits" */
	int gen_min, gen_max; /* inclusive; gen_max 0 = open-ended */
	const char *value;  /* "yes", "2048" */
	const char *scope;  /* platforms: "all", "H-series" */
	const char *source;
};
extern const struct apf_amt_gen_row apf_amt_gen_rows[];
extern const size_t apf_amt_gen_rows_count;

/* ---- device certificates ------------------------------------------------- */

/*
 * Whether a certificate with this issuer (RFC 2253, "CN=ODCA 2 CSME LNL SOC
 * SVN 01 AMT   CA") was issued by the CSME on-die CA: AMT 19 and later present
 * such a certificate (subject "CN=AMT RCFG") instead of a self-signed one
 * before provisioning (rpc-go issues 1083 and 1095, pull request 1329; Intel
 * AMT SDK "ODCA"). Like the self-signed one, it does not carry the host's DNS
 * name.
 */
bool apf_amt_odca_issued(const char *issuer);

/*
 * The management server that issued a device certificate with this subject
 * (RFC 2253) when it configured AMT's TLS itself, or NULL. Such certificates
 * carry no DNS name by design:
 *  - Open AMT's RPS without Enterprise Assistant: CN "AMT", O "None" (ST and C
 *    "None" too), from a throwaway CA named after the device's UUID
 *    (device-management-toolkit/rps: src/stateMachines/tls.ts, src/certManager.ts);
 *  - MeshCentral: CN "IntelAMT-" and 12 hex digits, ST and C "MC", O the server's
 *    title, from MeshCentral's root; it then pins the certificate by hash
 *    (Ylianst/MeshCentral: amtmanager.js, attemptTlsSyncEx).
 */
const char *apf_amt_server_issued(const char *subject);

/* ---- MEBx hash form ------------------------------------------------------ */

/*
 * The form MEBx asks for when a custom root hash is typed in: uppercase hex
 * in groups of four separated by hyphens ("ABCD-1234-..."). `hex` is a
 * normalised hash (lowercase hex, no separators). Returns a new string the
 * caller frees, or NULL on bad input / OOM.
 */
char *apf_amt_mebx_hash_new(const char *hex);
