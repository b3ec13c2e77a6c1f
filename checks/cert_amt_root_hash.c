/* SPDX-License-Identifier: MIT */
/*
 * cert.amt-root-hash: AMT trusts a provisioning chain only when the hash of the
 * chain's root certificate (SHA-256 or SHA-384; SHA-1 on old firmware) is in
 * the device's trusted root hash list (Intel AMT SDK "Root Certificate
 * Hashes"; rpc-go compareCertHashes). This check hashes the root of the
 * configured chain and compares it with AMT's built-in default roots
 * (data/amt-root-hashes.csv, compiled in, each row with its source) and with
 * the lists exported from real devices ([amt] device_facts: `rpc amtinfo
 * --cert --json` output or one hash a line), which are the ground truth.
 *
 * Status policy:
 *   device lists given: every list holds the root -> PASS; lists lack it -> FAIL
 *   (naming the devices; activated devices are not judged); no lists: a built-in root -> PASS, a private root -> WARN.
 *   A built-in root not known in a targeted generation's default list -> WARN.
 *   An expired root -> FAIL. A SHA-1/MD5/MD2-signed root -> FAIL when a targeted
 *   generation refuses SHA-1 (data/amt-generations.csv; the newest rules when
 *   none is configured), else WARN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "devfacts.h"
#include "pki.h"
#include "pki_check.h"
#include "pki_roots.h"

static const struct apf_code codes[] = {
	{"ROOT_CHAIN_UNAVAILABLE", APF_ERROR,
	 "The provisioning certificate could not be loaded, or its chain does not reach a self-signed root, so there "
	 "is no root hash to compare",
	 "Fix what cert.provisioning reports (password, file, missing issuer) and run again"},
	{"ROOT_HASH_DEFAULT", APF_PASS, "The chain's root is one of AMT's built-in trusted roots", NULL},
	{"ROOT_NOT_IN_GENERATION", APF_WARN,
	 "The chain's root is a built-in AMT root, but not one known in the default list of a targeted firmware "
	 "generation",
	 "Check a device of that generation with `rpc amtinfo --cert` and list its output in [amt] device_facts; "
	 "if it lacks the root, use a certificate chaining to a root the table lists for every targeted generation "
	 "(`amt-preflight hash ROOT.cer` names a built-in root's generations), or add the root's hash to those "
	 "devices"},
	{"ROOT_PRIVATE", APF_WARN,
	 "The chain's root is not a built-in AMT root: its hash must be added to every device before remote "
	 "configuration (USB provisioning file on AMT 16+, where MEBx no longer offers it; MEBx on older firmware "
	 "takes only a SHA-1 hash), and is erased again whenever a device is unprovisioned",
	 "Add the root's hash to each device, or use a provisioning certificate from a CA whose root AMT carries"},
	{"ROOT_ON_DEVICES", APF_PASS,
	 "The hash list of every device not yet activated contains the chain's root (SHA-1, SHA-256 or SHA-384, "
	 "by the hash's length)",
	 NULL},
	{"ROOT_NOT_ON_DEVICE", APF_FAIL,
	 "Devices not yet activated report trusted root hash lists without the chain's root: they will refuse "
	 "activation in admin control mode with this certificate",
	 "Add the root hash to the device (USB provisioning / MEBx), or use a certificate chaining to a root it lists"},
	{"ROOT_DEVICE_LIST_UNREADABLE", APF_ERROR,
	 "A file of [amt] device_facts / device_hashes cannot be read or holds no device fact",
	 "Export it again with `rpc amtinfo --cert --json > FILE`, or write one hash a line"},
	{"ROOT_EXPIRED", APF_FAIL, "The chain's root certificate has expired",
	 "Use a provisioning certificate from a CA whose current root has not expired"},
	{"ROOT_SHA1_SIGNED", APF_FAIL,
	 "The root is self-signed with SHA-1/MD5/MD2; ME 15 on H-series platforms and ME 16 and later accept no SHA-1 "
	 "certificate in the chain, the root included (Intel article 000090051); WARN when only older generations "
	 "are targeted",
	 "Use a certificate chaining to a SHA-256 (or stronger) root the devices carry; Intel article 000090051 names "
	 "DigiCert Global Root G2 for DigiCert customers"},
	{0},
};

static const char *const requires_keys[] = {"provisioning.certificate", NULL};

static void root_evidence(struct apf_finding *f, const struct apf_cert *root)
{
	char t[32];
	apf_evidence(f, "root_subject", "%s", root->subject);
	apf_evidence(f, "root_sha256", "%s", root->sha256_hex);
	apf_evidence(f, "root_sha1", "%s", root->sha1_hex);
	apf_evidence(f, "root_sha384", "%s", root->sha384_hex);
	apf_evidence(f, "root_not_after", "%s", apf_pki_time_str(root->not_after, t, sizeof(t)));
}

/* The algorithm of the root hash the device lists, or NULL when it lists none of them. */
static const char *device_trusts(const struct apf_device *d, const struct apf_cert *root)
{
	const char *const hashes[] = {root->sha384_hex, root->sha256_hex, root->sha1_hex};

	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		for (size_t k = 0; k < d->n_hashes; k++)
			if (!strcmp(d->hashes[k].hex, hashes[i]))
				return d->hashes[k].algorithm;
	return NULL;
}

static void names_add(const char ***v, size_t *n, const char *s)
{
	*v = apf_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/*
 * Compares the root with each device's list ([amt] device_facts /
 * device_hashes); returns how many devices lack it (-1: no list given).
 * Devices already activated are not provisioning candidates: counted, not
 * failed.
 */
static int check_devices(struct apf_ctx *ctx, const struct apf_cert *root, const struct apf_devfacts *df)
{
	const char **ok = NULL, **missing = NULL;
	size_t n_ok = 0, n_missing = 0, n_activated = 0, n_lists = 0;
	char algs[64] = "";
	struct apf_finding *f = NULL;
	int rc = -1;

	if (!df)
		return -1;
	for (size_t i = 0; i < df->n_errors; i++) {
		f = apf_report(ctx, APF_ERROR, "ROOT_DEVICE_LIST_UNREADABLE", "%s: %s", df->errors[i].file,
			       df->errors[i].message);
		apf_evidence(f, "file", "%s", df->errors[i].file);
	}
	for (size_t i = 0; i < df->n; i++) {
		const struct apf_device *d = &df->v[i];
		const char *alg;

		if (!d->has_hashes)
			continue;
		n_lists++;
		if (apf_device_activated(d)) {
			n_activated++;
			continue;
		}
		alg = device_trusts(d, root);
		if (!alg) {
			names_add(&missing, &n_missing, d->name);
			continue;
		}
		names_add(&ok, &n_ok, d->name);
		if (!strstr(algs, alg))
			snprintf(algs + strlen(algs), sizeof(algs) - strlen(algs), "%s%s", *algs ? ", " : "", alg);
	}
	if (n_missing) {
		char *s = apf_names_summary(missing, n_missing, APF_DEVFACTS_NAMES_SHOWN);
		f = apf_report(ctx, APF_FAIL, "ROOT_NOT_ON_DEVICE", "%s do%s not trust the root %s", s,
			       n_missing == 1 ? "es" : "", root->subject);
		apf_evidence(f, "devices", "%s", s);
		apf_evidence(f, "count", "%zu", n_missing);
		root_evidence(f, root);
		free(s);
	} else if (n_ok) {
		char *s = apf_names_summary(ok, n_ok, APF_DEVFACTS_NAMES_SHOWN);
		f = apf_report(ctx, APF_PASS, "ROOT_ON_DEVICES", "The hash lists of %s contain the root %s", s,
			       root->subject);
		apf_evidence(f, "accepted_by", "%s", s);
		apf_evidence(f, "count", "%zu", n_ok);
		apf_evidence(f, "matched_by", "%s", algs);
		root_evidence(f, root);
		free(s);
	}
	if (n_activated && f && (n_ok || n_missing))
		apf_evidence(f, "already_activated_not_judged", "%zu", n_activated);
	if (n_lists)
		rc = (int)n_missing;
	free(ok);
	free(missing);
	return rc;
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_pki_bundle *b = NULL;
	struct apf_chain ch = {0};
	struct apf_devfacts *df = NULL;
	struct apf_amt_targets tg = {0};
	const struct apf_amt_root *r;
	const struct apf_cert *root;
	struct apf_finding *f;
	char *err = NULL;
	time_t now = time(NULL);
	int missing;

	if (apf_pki_load_configured(ctx, &b, &err)) {
		f = apf_report(ctx, APF_ERROR, "ROOT_CHAIN_UNAVAILABLE", "Cannot load the provisioning certificate: %s",
			       err ? err : "unknown error");
		apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
		goto out;
	}
	apf_chain_build(b->certs[b->leaf], b->certs, b->n, now, &ch);
	root = ch.v[ch.n - 1];
	if (!ch.complete) {
		f = apf_report(ctx, APF_ERROR, "ROOT_CHAIN_UNAVAILABLE",
			       "The chain stops at %s without its root, so the root hash is unknown", root->subject);
		apf_evidence(f, "missing_issuer", "%s", root->issuer);
		apf_evidence(f, "last_subject", "%s", root->subject);
		goto out;
	}

	/* the table may know a root by any of its hashes */
	r = apf_amt_root_find(root->sha256_hex);
	if (!r)
		r = apf_amt_root_find(root->sha384_hex);
	if (apf_devfacts_configured(cfg))
		df = apf_devfacts_load_config(cfg, apf_ctx_deadline_ms(ctx));
	apf_amt_targets_init(&tg, cfg, df);
	missing = check_devices(ctx, root, df);
	if (r) {
		f = apf_report(ctx, APF_PASS, "ROOT_HASH_DEFAULT", "The root %s is AMT's built-in root \"%s\"",
			       root->subject, r->name);
		root_evidence(f, root);
		apf_evidence(f, "amt_name", "%s", r->name);
		apf_evidence(f, "default_in_generations", "%s", r->generations);
		apf_evidence(f, "source", "%s", r->source);
		for (size_t i = 0; i < tg.n; i++) {
			int g = tg.gens[i];
			if (apf_amt_root_in_generation(r, g) != 0)
				continue;
			f = apf_report(ctx, APF_WARN, "ROOT_NOT_IN_GENERATION",
				       "The root \"%s\" is not known in the default list of AMT %d (seen in %s)", r->name, g,
				       r->generations);
			apf_evidence(f, "generation", "%d", g);
			apf_evidence(f, "default_in_generations", "%s", r->generations);
			apf_amt_targets_evidence(f, &tg);
			root_evidence(f, root);
		}
	} else {
		/* With lists that all contain it, the private root is fine today; say
		 * what keeps it working, without raising the status. */
		enum apf_status st = missing == 0 ? APF_INFO : APF_WARN;
		f = apf_report(ctx, st, "ROOT_PRIVATE", "The root %s is not a built-in AMT root%s", root->subject,
			       missing == 0 ? "; the supplied device lists carry its hash"
			       : missing < 0 ? " and no device hash list was supplied to show devices carry it"
					     : "");
		root_evidence(f, root);
		apf_evidence(f, "add_to_devices_sha256", "%s", root->sha256_hex);
		if (missing == 0)
			apf_remedy(f, "Keep the hash in the USB provisioning file for new and re-provisioned devices: "
				      "unprovisioning erases it");
	}
	if (now > root->not_after) {
		char t[32];
		f = apf_report(ctx, APF_FAIL, "ROOT_EXPIRED", "The root %s expired on %s", root->subject,
			       apf_pki_time_str(root->not_after, t, sizeof(t)));
		root_evidence(f, root);
		if (r && r->expiry[0])
			apf_evidence(f, "table_expiry", "%s", r->expiry);
	}
	if (apf_amt_hash_is_weak(root->sig_hash)) {
		const struct apf_amt_gen_rules *g = &tg.rules;
		f = apf_report(ctx, g->sha1_refused ? APF_FAIL : APF_WARN, "ROOT_SHA1_SIGNED",
			       "The root %s is signed with %s", root->subject, root->sig_alg);
		root_evidence(f, root);
		apf_evidence(f, "signature", "%s", root->sig_alg);
		apf_amt_targets_evidence(f, &tg);
		if (g->sha1_refused) {
			if (g->gen)
				apf_evidence(f, "rule_generation", "%d", g->gen);
			apf_evidence(f, "rule_scope", "%s", g->sha1_scope);
			apf_evidence(f, "rule_source", "%s", g->sha1_source);
		}
	}
out:
	apf_amt_targets_clear(&tg);
	apf_devfacts_free(df);
	apf_chain_clear(&ch);
	apf_pki_bundle_free(b);
	free(err);
	return 0;
}

const struct apf_check apf_check_cert_amt_root_hash = {
	.id = "cert.amt-root-hash",
	.title = "Provisioning chain root in AMT's trusted hashes",
	.summary = "Hashes the provisioning chain's root (SHA-256, SHA-1, SHA-384) and compares it with AMT's built-in "
		   "root hashes and with hash lists exported from devices; flags private, expired and SHA-1 roots.",
	.requires_keys = requires_keys,
	.timeout_ms = 5000,
	.codes = codes,
	.run = run,
};
