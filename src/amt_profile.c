/* SPDX-License-Identifier: MIT */
/* Activation profiles (see amt_profile.h; docs/profiles.md has the sources at length). */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "amt_profile.h"
#include "check.h"
#include "config.h"
#include "result.h"
#include "util.h"

static const struct apf_profile_info profiles[APF_PROFILE_COUNT] = {
	[APF_PROFILE_REMOTE_CONFIG] = {"remote-config",
				       "remote configuration: Intel SCS or ConfigMgr receive AMT's Hello "
				       "(ProvisionServer, TCP 9971)",
				       true, APF_SUFFIX_RULE_FIRMWARE,
				       "Intel AMT SDK \"Setup Mode Hello Messages\" (setupmodehellomessages.htm)"},
	[APF_PROFILE_RPS] = {"rps", "rpc-go + RPS (Open AMT / Device Management Toolkit), host-based activation", false,
			     APF_SUFFIX_RULE_EXACT,
			     "device-management-toolkit/rpc-go internal/rps/message.go (the suffix sent: -d, else the "
			     "MEBx/USB suffix, else the OS suffix); device-management-toolkit/rps "
			     "src/stateMachines/activation.ts"},
	[APF_PROFILE_MESHCENTRAL] = {"meshcentral", "MeshCentral agent, host-based activation", false,
				     APF_SUFFIX_RULE_MESHCENTRAL,
				     "Ylianst/MeshCentral amtmanager.js (checkAcmActivation: the trusted FQDN is the "
				     "MEBx suffix, else the OS suffix) and certoperations.js (checkAcmActivationCertName)"},
	[APF_PROFILE_EMA] = {"ema", "Intel EMA agent, host-based activation", false, APF_SUFFIX_RULE_FIRMWARE,
			     "Intel article 000100444 (EMA ACM: the certificate's domain matches the MEBx suffix or "
			     "DHCP option 15)"},
	[APF_PROFILE_SCS_HOST_BASED] = {"scs-host-based", "Intel SCS / ACUConfig run on the host, host-based activation",
					false, APF_SUFFIX_RULE_FIRMWARE,
					"Intel AMT SDK \"Host-Based (Local) Configuration\"; no Hello is sent"},
};

const struct apf_profile_info *apf_profile_info(enum apf_profile p)
{
	return (unsigned)p < APF_PROFILE_COUNT ? &profiles[p] : NULL;
}

const struct apf_profile_info *apf_profile_find(const char *name)
{
	for (size_t i = 0; name && i < APF_PROFILE_COUNT; i++)
		if (!strcasecmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

const char *apf_profile_names(void)
{
	return "remote-config|rps|meshcentral|ema|scs-host-based";
}

bool apf_profile_declared(const struct apf_config *cfg)
{
	return cfg->amt.activation.n > 0;
}

enum apf_profile_answer apf_profile_uses_hello(const struct apf_config *cfg)
{
	if (!apf_profile_declared(cfg))
		return APF_PROFILE_UNDECLARED;
	for (size_t i = 0; i < cfg->amt.activation.n; i++) {
		const struct apf_profile_info *p = apf_profile_find(cfg->amt.activation.v[i]);
		if (p && p->hello)
			return APF_PROFILE_YES;
	}
	return APF_PROFILE_NO;
}

size_t apf_profile_suffix_rules(const struct apf_config *cfg, struct apf_profile_rule out[APF_SUFFIX_RULE_COUNT])
{
	size_t n = 0;

	out[n++] = (struct apf_profile_rule){APF_SUFFIX_RULE_FIRMWARE, "firmware (every activation path)"};
	for (size_t i = 0; i < cfg->amt.activation.n; i++) {
		const struct apf_profile_info *p = apf_profile_find(cfg->amt.activation.v[i]);
		bool seen = false;

		for (size_t k = 0; p && k < n; k++)
			seen |= out[k].rule == p->rule;
		if (p && !seen && n < APF_SUFFIX_RULE_COUNT)
			out[n++] = (struct apf_profile_rule){p->rule, p->name};
	}
	return n;
}

char *apf_profile_declared_str(const struct apf_config *cfg)
{
	if (!apf_profile_declared(cfg))
		return apf_xstrdup("not declared");
	return apf_strv_join((const char *const *)cfg->amt.activation.v, cfg->amt.activation.n, ", ");
}

void apf_profile_explain(FILE *out, const struct apf_profile_info *p)
{
	bool own_rule = p->rule != APF_SUFFIX_RULE_FIRMWARE;

	fprintf(out, "%s - %s\n", p->name, p->title);
	fprintf(out, "  Hello / ProvisionServer: %s\n",
		p->hello ? "used (a missing record is FAIL)"
			 : "not used (with only such profiles declared, dns.provisionserver is skipped)");
	fprintf(out, "  Suffix rule: firmware%s%s (%s)\n", own_rule ? " and " : "",
		own_rule ? apf_suffix_rule_name(p->rule) : "", apf_suffix_rule_source(p->rule));
	fprintf(out, "  Source: %s\n", p->source);
}

void apf_profile_rules_evidence(struct apf_finding *f, const struct apf_profile_rule *rules, size_t n)
{
	const char *names[APF_SUFFIX_RULE_COUNT] = {0};
	char *joined;

	if (n > APF_SUFFIX_RULE_COUNT)
		n = APF_SUFFIX_RULE_COUNT;
	for (size_t r = 0; r < n; r++)
		names[r] = apf_suffix_rule_name(rules[r].rule);
	joined = apf_strv_join(names, n, ", ");
	apf_evidence(f, "suffix_rule", "%s", joined);
	free(joined);
	for (size_t r = 0; r < n; r++) {
		char key[48];

		snprintf(key, sizeof(key), "rule_source_%s", names[r]);
		apf_evidence(f, r ? key : "rule_source", "%s", apf_suffix_rule_source(rules[r].rule));
	}
}
