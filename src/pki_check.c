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

/* "[amt] generations", "devices pc-1, pc-2", or both, for generation g. Caller frees. */
static char *generation_origin(int g, bool configured, const struct apf_devfacts *df)
{
	const char **names = df ? calloc(df->n ? df->n : 1, sizeof(*names)) : NULL;
	size_t n = 0;
	char *devs, *s;

	for (size_t i = 0; names && i < df->n; i++)
		if (df->v[i].generation == g && !apf_device_activated(&df->v[i]))
			names[n++] = df->v[i].name;
	devs = n ? apf_names_summary(names, n, APF_DEVFACTS_NAMES_SHOWN) : NULL;
	s = apf_xasprintf("%d: %s%s%s%s", g, configured ? "[amt] generations" : "", configured && devs ? " and " : "",
			  devs ? "devices " : "", devs ? devs : "");
	free(devs);
	free(names);
	return s;
}

void apf_amt_targets_init(struct apf_amt_targets *t, const struct apf_config *cfg, const struct apf_devfacts *df)
{
	bool from_cfg[APF_AMT_GEN_LIMIT] = {false}, from_dev[APF_AMT_GEN_LIMIT] = {false};
	char txt[APF_AMT_GEN_LIMIT - 1][3];
	const char *pv[APF_AMT_GEN_LIMIT - 1];
	char list[APF_AMT_GEN_LIMIT * 4];

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < cfg->amt.generations.n; i++) {
		long g = strtol(cfg->amt.generations.v[i], NULL, 10);
		if (g > 0 && g < APF_AMT_GEN_LIMIT)
			from_cfg[g] = true;
	}
	for (size_t i = 0; df && i < df->n; i++) {
		int g = df->v[i].generation;
		if (g > 0 && g < APF_AMT_GEN_LIMIT && !apf_device_activated(&df->v[i]))
			from_dev[g] = true;
	}
	for (int g = 1; g < APF_AMT_GEN_LIMIT; g++) {
		char *o, *joined;

		if (!from_cfg[g] && !from_dev[g])
			continue;
		snprintf(txt[t->n], sizeof(txt[t->n]), "%d", g);
		pv[t->n] = txt[t->n];
		t->gens[t->n++] = g;
		o = generation_origin(g, from_cfg[g], from_dev[g] ? df : NULL);
		joined = t->origin ? apf_xasprintf("%s; %s", t->origin, o) : o;
		if (joined != o)
			free(o);
		free(t->origin);
		t->origin = joined;
	}
	apf_amt_target_rules(pv, t->n, &t->rules);
	t->list = apf_xstrdup(apf_amt_targets_str(pv, t->n, list, sizeof(list)));
}

void apf_amt_targets_clear(struct apf_amt_targets *t)
{
	free(t->list);
	free(t->origin);
	memset(t, 0, sizeof(*t));
}

void apf_amt_targets_evidence(struct apf_finding *f, const struct apf_amt_targets *t)
{
	apf_evidence(f, "generations", "%s", t->list);
	if (t->origin)
		apf_evidence(f, "generations_from", "%s", t->origin);
}
