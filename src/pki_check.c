/* SPDX-License-Identifier: MIT */
/* See pki_check.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "pki_check.h"
#include "result.h"

int apf_pki_load_configured(struct apf_ctx *ctx, struct apf_pki_bundle **out, char **err_out)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	char *pw = NULL, *perr = NULL;
	int rc;

	*out = NULL;
	*err_out = NULL;
	rc = apf_secret_read(ctx, "provisioning.password", &pw, &perr);
	if (rc && rc != -ENOENT) {
		*err_out = perr ? perr : apf_xstrdup("cannot read the PFX password file");
		return -EIO;
	}
	free(perr);
	rc = apf_pki_load_files(cfg->provisioning.certificate, cfg->provisioning.key, cfg->provisioning.chain, pw, out,
				err_out);
	apf_secret_free(pw);
	return rc;
}

void apf_cert_evidence(struct apf_finding *f, const struct apf_cert *c, const char *position)
{
	char t[32];

	if (position)
		apf_evidence(f, "position", "%s", position);
	apf_evidence(f, "subject", "%s", c->subject);
	apf_evidence(f, "issuer", "%s", c->issuer);
	apf_evidence(f, "serial", "%s", c->serial_hex);
	apf_evidence(f, "sha1", "%s", c->sha1_hex);
	apf_evidence(f, "not_before", "%s", apf_pki_time_str(c->not_before, t, sizeof(t)));
	apf_evidence(f, "not_after", "%s", apf_pki_time_str(c->not_after, t, sizeof(t)));
}

char *apf_chain_position(const struct apf_chain *ch, size_t i)
{
	const char *role = i == 0 ? "leaf" : (ch->complete && i + 1 == ch->n) ? "root" : "intermediate";
	return apf_xasprintf("chain[%zu] (%s)", i, role);
}

int apf_amt_generation(const struct apf_config *cfg, size_t i)
{
	long g = i < cfg->amt.generations.n ? strtol(cfg->amt.generations.v[i], NULL, 10) : 0;

	return g > 0 && g < 100 ? (int)g : 0;
}

void apf_amt_cfg_rules(const struct apf_config *cfg, struct apf_amt_gen_rules *out)
{
	apf_amt_target_rules((const char *const *)cfg->amt.generations.v, cfg->amt.generations.n, out);
}

const char *apf_amt_cfg_targets(const struct apf_config *cfg, char *buf, size_t size)
{
	return apf_amt_targets_str((const char *const *)cfg->amt.generations.v, cfg->amt.generations.n, buf, size);
}
