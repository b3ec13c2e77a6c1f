/* SPDX-License-Identifier: MIT */
/*
 * ca.template: the certificate templates AMT provisioning enrols against,
 * read from AD (pKICertificateTemplate objects). The field notes' second
 * failure lives here: a template whose requests wait for a CA manager.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad.h"
#include "adcs.h"
#include "amt_rules.h"
#include "check.h"
#include "net/ldap.h"

static const struct apf_code codes[] = {
	{"CA_TEMPLATE_AD_UNAVAILABLE", APF_ERROR, "Active Directory could not be read with the service account, so the templates were not checked",
	 "See the ad.ldap findings; fix the DC connection or the service account first"},
	{"CA_TEMPLATE_MISSING", APF_FAIL,
	 "The configured template does not exist in AD: the setup server's certificate requests name a template no CA knows",
	 "Create the template (duplicate 'Web Server' or 'Computer', Windows Server 2003 compatibility) or correct [ca] templates"},
	{"CA_TEMPLATE_UNPUBLISHED", APF_FAIL,
	 "No enterprise CA publishes the template: requests for it are refused ('the requested certificate template is not supported by this CA')",
	 "In the Certification Authority console: Certificate Templates > New > Certificate Template to Issue, and pick the template"},
	{"CA_TEMPLATE_PUBLISHED", APF_PASS, "The template is published on at least one enterprise CA", NULL},
	{"CA_TEMPLATE_PEND_ALL", APF_FAIL,
	 "msPKI-Enrollment-Flag has CT_FLAG_PEND_ALL_REQUESTS (0x2): every request waits for a CA manager's approval, the setup server gives up and logs 'Missed device certificate'",
	 "Untick 'CA certificate manager approval' on the template's Issuance Requirements tab, and set the CA's policy module (Properties > Policy Module > Properties) to 'Follow the settings in the certificate template, if applicable. Otherwise, automatically issue the certificate.'"},
	{"CA_TEMPLATE_RA_SIGNATURE", APF_FAIL,
	 "msPKI-RA-Signature > 0: requests need enrollment-agent signatures the setup server does not provide",
	 "Set 'This number of authorized signatures' to 0 on the template's Issuance Requirements tab"},
	{"CA_TEMPLATE_NO_SERVER_AUTH", APF_FAIL,
	 "The template's application policies (EKU) lack Server Authentication (1.3.6.1.5.5.7.3.1): AMT's TLS server and the provisioning handshake need it",
	 "Add 'Server Authentication' to the template's Extensions > Application Policies"},
	{"CA_TEMPLATE_NO_AMT_OID", APF_WARN,
	 "A provisioning template without the AMT setup OID 2.16.840.1.113741.1.2.3: AMT then only accepts the certificate if its subject OU is exactly 'Intel(R) Client Setup Certificate'",
	 "Add an application policy with OID 2.16.840.1.113741.1.2.3 to the template (Extensions > Application Policies > Add > New)"},
	{"CA_TEMPLATE_SUBJECT_FROM_AD", APF_FAIL,
	 "The template builds the subject from AD (no CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT): the setup server requests AMT web-server certificates with the AMT device's FQDN and cannot supply it",
	 "On the template's Subject Name tab choose 'Supply in the request'"},
	{"CA_TEMPLATE_KEY_SIZE", APF_FAIL, "The template's minimum key size is larger than the targeted AMT generations accept",
	 "Set Minimum key size to 2048 on the template's Cryptography tab"},
	{"CA_TEMPLATE_KEY_WEAK", APF_WARN, "The template allows keys shorter than 2048 bits",
	 "Set Minimum key size to 2048 on the template's Cryptography tab"},
	{"CA_TEMPLATE_SCHEMA_V3", APF_WARN,
	 "A version 3+ template (Windows Server 2008 or later compatibility): Configuration Manager's out-of-band service point cannot use it",
	 "Duplicate the template with 'Windows Server 2003 Enterprise' compatibility (schema version 2) when ConfigMgr provisions AMT"},
	{"CA_TEMPLATE_OK", APF_PASS,
	 "The template's own settings in AD let requests be issued without approval, with the usages, subject and key "
	 "size AMT needs. Not verified: the CA's policy module, which LDAP cannot read and which can still hold every "
	 "request pending (the field notes' failure)",
	 "On the CA run `certutil -getreg policy\\RequestDisposition`: the 0x100 bit (REQDISP_PENDINGFIRST) set means "
	 "every request waits for a manager; clear it in CA Properties > Policy Module > Properties ('Follow the settings "
	 "in the certificate template...')"},
	{0},
};

static const char *const tmpl_attrs[] = {
	"cn", "displayName", "msPKI-Enrollment-Flag", "msPKI-Certificate-Name-Flag", "msPKI-RA-Signature",
	"msPKI-Minimal-Key-Size", "msPKI-Template-Schema-Version", "pKIExtendedKeyUsage",
	"msPKI-Certificate-Application-Policy", "msPKI-Cert-Template-OID", "flags", NULL,
};

/* Reads an integer attribute; false when absent or malformed. */
static bool attr_u32(const struct apf_ldap_entry *e, const char *name, uint32_t *out)
{
	const char *s = apf_ldap_entry_str(e, name);
	return s && apf_adcs_parse_u32(s, out) == 0;
}

/* Which CAs publish `cn`; returns a comma-separated list (caller frees) or NULL. */
static char *publishers(const struct apf_ldap_result *cas, const char *cn)
{
	char *r = NULL;

	for (size_t i = 0; cas && i < cas->n_entries; i++) {
		const struct apf_ldap_entry *ca = &cas->entries[i];
		if (apf_ldap_attr_has(apf_ldap_entry_attr(ca, "certificateTemplates"), cn)) {
			const char *name = apf_ldap_entry_str(ca, "cn");
			char *n = apf_xasprintf("%s%s%s", r ? r : "", r ? ", " : "", name ? name : ca->dn);
			free(r);
			r = n;
		}
	}
	return r;
}

static void check_template(struct apf_ctx *ctx, const struct apf_ldap_entry *t, const char *wanted,
			   const struct apf_ldap_result *cas, const char *es_dn)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *cn = apf_ldap_entry_str(t, "cn");
	const struct apf_ldap_attr *app = apf_ldap_entry_attr(t, "msPKI-Certificate-Application-Policy");
	const struct apf_ldap_attr *eku = apf_ldap_entry_attr(t, "pKIExtendedKeyUsage");
	const struct apf_ldap_attr *policies;
	const char *policy_attr;
	struct apf_finding *f;
	uint32_t enroll = 0, name_flags = 0, ra = 0, keysize = 0, schema = 1;
	bool has_enroll, has_name, problems = false;
	char buf[512], *pub, *list;
	const char **oids = NULL;
	bool provisioning, server_auth = false, amt_oid = false;
	const char *const *gens = (const char *const *)cfg->amt.generations.v;
	struct apf_amt_gen_rules rules;

	if (!cn)
		cn = wanted;
	has_enroll = attr_u32(t, "msPKI-Enrollment-Flag", &enroll);
	has_name = attr_u32(t, "msPKI-Certificate-Name-Flag", &name_flags);
	attr_u32(t, "msPKI-RA-Signature", &ra);
	attr_u32(t, "msPKI-Minimal-Key-Size", &keysize);
	attr_u32(t, "msPKI-Template-Schema-Version", &schema);

	/* Version 2+ templates carry their EKUs as application policies; v1 only in pKIExtendedKeyUsage. */
	policies = app && app->n_vals ? app : eku;
	policy_attr = app && app->n_vals ? "msPKI-Certificate-Application-Policy" : "pKIExtendedKeyUsage";
	if (policies && policies->n_vals) {
		oids = apf_xcalloc(policies->n_vals, sizeof(*oids));
		for (size_t i = 0; i < policies->n_vals; i++) {
			oids[i] = (const char *)policies->vals[i].data;
			if (strcmp(oids[i], APF_OID_SERVER_AUTH) == 0)
				server_auth = true;
			if (strcmp(oids[i], APF_OID_AMT_SETUP) == 0)
				amt_oid = true;
		}
	}
	provisioning = apf_adcs_is_provisioning_template(cn, oids, policies ? policies->n_vals : 0);
	list = apf_ldap_attr_join(policies);

	/* published? */
	pub = publishers(cas, cn);
	if (!pub) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_UNPUBLISHED", "Template %s is not published on any enterprise CA", cn);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "searched", "%s, certificateTemplates of %zu enrollment service(s)", es_dn,
			     cas ? cas->n_entries : 0);
		for (size_t i = 0; cas && i < cas->n_entries; i++) {
			char *v = apf_ldap_attr_join(apf_ldap_entry_attr(&cas->entries[i], "certificateTemplates"));
			char key[48];
			snprintf(key, sizeof(key), i ? "enrollment_service_%zu" : "enrollment_service", i + 1);
			apf_evidence(f, key, "%s publishes: %s", cas->entries[i].dn, *v ? v : "(none)");
			free(v);
		}
		problems = true;
	} else {
		f = apf_report(ctx, APF_PASS, "CA_TEMPLATE_PUBLISHED", "Template %s is published on %s", cn, pub);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "published_by", "%s", pub);
	}
	free(pub);

	if (has_enroll && (enroll & APF_CT_FLAG_PEND_ALL_REQUESTS)) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_PEND_ALL",
			       "Template %s puts every request in pending state (CA certificate manager approval)", cn);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "msPKI-Enrollment-Flag");
		apf_evidence(f, "value", "%d", (int32_t)enroll);
		apf_evidence(f, "decoded", "%s", apf_adcs_enrollment_flags_str(enroll, buf, sizeof(buf)));
		apf_evidence(f, "symptom", "ConfigMgr amtopmgr.log: 'Missed device certificate' after five retries");
		problems = true;
	}
	if (ra > 0) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_RA_SIGNATURE", "Template %s requires %u authorized signature(s)", cn,
			       (unsigned int)ra);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "msPKI-RA-Signature");
		apf_evidence(f, "value", "%u", (unsigned int)ra);
		problems = true;
	}
	if (!server_auth) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_NO_SERVER_AUTH", "Template %s does not include Server Authentication", cn);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "%s", policy_attr);
		apf_evidence(f, "value", "%s", *list ? list : "(none)");
		problems = true;
	}
	if (provisioning && !amt_oid) {
		f = apf_report(ctx, APF_WARN, "CA_TEMPLATE_NO_AMT_OID", "Provisioning template %s lacks the AMT setup OID", cn);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "%s", policy_attr);
		apf_evidence(f, "value", "%s", *list ? list : "(none)");
		problems = true;
	}
	/* The web-server certificates are requested by the setup server on the device's
	 * behalf; a provisioning certificate is the setup server's own and may take its
	 * name from AD. */
	if (!provisioning && has_name && !(name_flags & APF_CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT)) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_SUBJECT_FROM_AD", "Template %s does not let the requester supply the subject", cn);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "msPKI-Certificate-Name-Flag");
		apf_evidence(f, "value", "%d", (int32_t)name_flags);
		apf_evidence(f, "decoded", "%s", apf_adcs_name_flags_str(name_flags, buf, sizeof(buf)));
		problems = true;
	}
	apf_amt_target_rules(gens, cfg->amt.generations.n, &rules);
	if (rules.rsa_max_bits && keysize > rules.rsa_max_bits) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_KEY_SIZE", "Template %s requires %u-bit keys; the targeted AMT generations take at most %u",
			       cn, (unsigned int)keysize, rules.rsa_max_bits);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "msPKI-Minimal-Key-Size");
		apf_evidence(f, "value", "%u", (unsigned int)keysize);
		apf_evidence(f, "amt_generations", "%s",
			     apf_amt_targets_str(gens, cfg->amt.generations.n, buf, sizeof(buf)));
		apf_evidence(f, "rule_source", "%s", rules.rsa_max_source);
		problems = true;
	} else if (keysize && keysize < 2048) {
		f = apf_report(ctx, APF_WARN, "CA_TEMPLATE_KEY_WEAK", "Template %s allows %u-bit keys", cn, (unsigned int)keysize);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "msPKI-Minimal-Key-Size");
		apf_evidence(f, "value", "%u", (unsigned int)keysize);
		problems = true;
	}
	if (schema >= 3) {
		f = apf_report(ctx, APF_WARN, "CA_TEMPLATE_SCHEMA_V3", "Template %s is a version %u template", cn, (unsigned int)schema);
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "attribute", "msPKI-Template-Schema-Version");
		apf_evidence(f, "value", "%u", (unsigned int)schema);
		problems = true;
	}
	if (!problems) {
		f = apf_report(ctx, APF_PASS, "CA_TEMPLATE_OK",
			       "Template %s allows issuance without approval (%s, %s); the CA's policy module was not checked",
			       cn, provisioning ? "provisioning EKUs" : "server authentication",
			       provisioning ? "subject per policy" : "subject supplied in the request");
		apf_evidence(f, "template_dn", "%s", t->dn);
		apf_evidence(f, "verified", "the template object in AD: manager approval, authorized signatures, "
					    "application policies, subject name source, minimum key size, schema version");
		/* The seed's pending requests came from the CA's policy module, not the
		 * template; LDAP cannot see it, so the PASS says so and how to look. */
		apf_evidence(f, "not_verified_ca_policy_module",
			     "RequestDisposition of the CA's policy module (LDAP cannot read it): run `certutil -getreg "
			     "policy\\RequestDisposition` on the CA; the 0x100 bit (REQDISP_PENDINGFIRST) set means every "
			     "request is held pending whatever the template says");
		apf_evidence(f, "msPKI-Enrollment-Flag", "%s", has_enroll ? apf_adcs_enrollment_flags_str(enroll, buf, sizeof(buf)) : "(absent)");
		apf_evidence(f, "msPKI-Certificate-Name-Flag", "%s", has_name ? apf_adcs_name_flags_str(name_flags, buf, sizeof(buf)) : "(absent)");
		apf_evidence(f, "msPKI-RA-Signature", "%u", (unsigned int)ra);
		apf_evidence(f, policy_attr, "%s", *list ? list : "(none)");
		apf_evidence(f, "msPKI-Minimal-Key-Size", "%u", (unsigned int)keysize);
		apf_evidence(f, "msPKI-Template-Schema-Version", "%u", (unsigned int)schema);
		apf_evidence(f, "role", "%s", provisioning ? "provisioning (setup) certificate" : "AMT web server certificate");
	}
	free(list);
	free(oids);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	static const char *const es_attrs[] = {"cn", "certificateTemplates", NULL};
	struct apf_ad_session *s = NULL;
	struct apf_ldap_result *cas = NULL;
	struct apf_ldap_status st = {0};
	struct apf_finding *f;
	char *why = NULL, *pks = NULL, *tmpl_dn = NULL, *es_dn = NULL;
	int rc;

	rc = apf_ad_session_open(ctx, &s, &why);
	if (rc < 0) {
		f = apf_report(ctx, APF_ERROR, "CA_TEMPLATE_AD_UNAVAILABLE", "Could not read Active Directory: %s", why ? why : "?");
		apf_evidence(f, "reason", "%s", why ? why : "?");
		goto out;
	}
	pks = apf_ad_pks_dn(s->config_nc);
	tmpl_dn = apf_xasprintf("CN=Certificate Templates,%s", pks);
	es_dn = apf_xasprintf("CN=Enrollment Services,%s", pks);
	apf_ctx_step(ctx, "reading enrollment services on %s", s->dc_name);
	rc = apf_ldap_search(s->ldap, es_dn, APF_LDAP_SCOPE_ONE, "(objectClass=pKIEnrollmentService)", es_attrs, 100, &cas, &st);
	if (rc < 0 && rc != -ENOENT) {
		f = apf_report(ctx, APF_ERROR, "CA_TEMPLATE_AD_UNAVAILABLE", "Could not read %s: %s", es_dn, st.rc_text ? st.rc_text : "?");
		apf_evidence(f, "dn", "%s", es_dn);
		apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
		goto out;
	}
	for (size_t i = 0; i < cfg->ca.templates.n; i++) {
		const char *name = cfg->ca.templates.v[i];
		char *filter = apf_adcs_template_filter(name);
		struct apf_ldap_result *res = NULL;

		apf_ldap_status_clear(&st);
		apf_ctx_step(ctx, "reading template %s", name);
		rc = apf_ldap_search(s->ldap, tmpl_dn, APF_LDAP_SCOPE_ONE, filter, tmpl_attrs, 10, &res, &st);
		if (rc < 0 && rc != -ENOENT) {
			f = apf_report(ctx, APF_ERROR, "CA_TEMPLATE_AD_UNAVAILABLE", "Could not search %s for %s", tmpl_dn, name);
			apf_evidence(f, "base", "%s", tmpl_dn);
			apf_evidence(f, "filter", "%s", filter);
			apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
		} else if (!res || res->n_entries == 0) {
			f = apf_report(ctx, APF_FAIL, "CA_TEMPLATE_MISSING", "Template %s does not exist", name);
			apf_evidence(f, "template", "%s", name);
			apf_evidence(f, "base", "%s", tmpl_dn);
			apf_evidence(f, "filter", "%s", filter);
			apf_evidence(f, "dc", "%s", s->dc_name);
		} else {
			check_template(ctx, &res->entries[0], name, cas, es_dn);
		}
		apf_ldap_result_free(res);
		free(filter);
	}
out:
	apf_ldap_status_clear(&st);
	apf_ldap_result_free(cas);
	apf_ad_session_free(s);
	free(why);
	free(pks);
	free(tmpl_dn);
	free(es_dn);
	return 0;
}

static const char *const requires_keys[] = {"ca.templates", NULL};
static const char *const requires_checks[] = {"ad.ldap", NULL};
/* src/ad.c reads their facts (DCs, client DNS servers). */
static const char *const after[] = {"dns.ad-records", "dhcp.options", NULL};

const struct apf_check apf_check_ca_template = {
	.id = "ca.template",
	.title = "Microsoft CA certificate templates for AMT",
	.summary = "Reads each configured AMT template from AD: it exists, an enterprise CA publishes it, requests are "
		   "not held for CA manager approval (msPKI-Enrollment-Flag 0x2, the 'Missed device certificate' failure), "
		   "no enrollment-agent signatures, Server Authentication (and the AMT OID for provisioning), subject "
		   "supplied in the request, key size and schema version.",
	.requires_keys = requires_keys,
	.requires_checks = requires_checks,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 20000,
	.codes = codes,
	.run = run,
};
