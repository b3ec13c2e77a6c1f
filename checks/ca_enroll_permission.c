/* SPDX-License-Identifier: MIT */
/*
 * ca.enroll-permission: may the setup server's account enroll for each AMT
 * template? A Microsoft CA refuses a request whose requester lacks the Enroll
 * extended right on the template ("Denied by Policy Module 0x80094012"), and
 * the setup server logs the same "Missed device certificate" as for a pending
 * request. Read-only: the template's DACL and the account's token, over LDAP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"
#include "ad_token.h"
#include "adcs.h"
#include "check.h"
#include "net/ldap.h"
#include "secdesc.h"

#define DACL_SECURITY_INFORMATION 4u /* MS-DTYP 2.4.7 */

static const struct apf_code codes[] = {
	{"CA_ENROLL_AD_UNAVAILABLE", APF_ERROR,
	 "Active Directory could not be read with the service account, so the template permissions were not checked",
	 "See the ad.ldap findings; fix the DC connection or the service account first"},
	{"CA_ENROLL_ACCOUNT_MISSING", APF_FAIL,
	 "A configured enrolling account does not exist in AD: the setup server cannot request certificates as it",
	 "Correct [ca] enroll_accounts (sAMAccountName such as SCS01$, DOMAIN\\name, a UPN or a DN) or create the account"},
	{"CA_ENROLL_ACCOUNT_UNREADABLE", APF_ERROR,
	 "The account's SID or group memberships could not be read, so its permissions could not be evaluated",
	 "Give the checker's service account read access to the account object (objectSid, tokenGroups)"},
	{"CA_ENROLL_TEMPLATE_MISSING", APF_INFO,
	 "The template does not exist in AD, so there is no permission to check (ca.template reports it)", NULL},
	{"CA_ENROLL_SD_UNREADABLE", APF_ERROR,
	 "The template's security descriptor could not be read or decoded, so the permission could not be checked",
	 "Check that the service account may read the template (Read permission); the DACL is requested with the SD-flags control"},
	{"CA_ENROLL_ALLOWED", APF_PASS, "The account holds the Enroll right on the template", NULL},
	{"CA_ENROLL_DENIED", APF_FAIL,
	 "A deny ACE takes the Enroll right away from the account: the CA refuses its requests (0x80094012) and the setup server logs 'Missed device certificate'",
	 "On the template's Security tab, remove the Deny Enroll entry that applies to the account (or its group)"},
	{"CA_ENROLL_NOT_GRANTED", APF_FAIL,
	 "No ACE grants the account (or any of its groups) the Enroll right: the CA refuses its requests (0x80094012) and the setup server logs 'Missed device certificate'",
	 "In the Certificate Templates console, open the template's Security tab, add the setup server's account (or a group it is in) and allow Read and Enroll"},
	{0},
};

/* The deciding ACE for evidence: "#3 of 8: allow-object, mask 0x00000100 (CR), explicit", its trustee
 * (SID and name) and its object type. */
static void ace_evidence(struct apf_finding *f, struct apf_ad_session *s, const struct apf_secdesc *sd, size_t i)
{
	const struct apf_ace *a = &sd->aces[i];
	char sid[APF_SID_STR_MAX], guid[40], rights[128];
	char *name = apf_ad_sid_name(s, &a->sid);

	apf_evidence(f, "ace", "#%zu of %zu: %s, mask 0x%08x (%s), %s", i + 1, sd->n_aces, apf_ace_type_name(a->type),
		     (unsigned int)a->mask, apf_access_mask_str(a->mask, rights, sizeof(rights)),
		     (a->flags & APF_ACE_FLAG_INHERITED) ? "inherited" : "explicit");
	apf_evidence(f, "ace_trustee", "%s%s%s%s", apf_sid_str(&a->sid, sid, sizeof(sid)), name ? " (" : "",
		     name ? name : "", name ? ")" : "");
	if (a->object_flags & APF_ACE_OBJECT_TYPE_PRESENT)
		apf_evidence(f, "ace_object_type", "%s%s", apf_guid_str(a->object_type, guid, sizeof(guid)),
			     memcmp(a->object_type, apf_guid_enroll, 16) == 0 ? " (Enroll)" : "");
	else if (a->mask & APF_GENERIC_ALL)
		apf_evidence(f, "ace_object_type", "none (GENERIC_ALL: every right)");
	else
		apf_evidence(f, "ace_object_type", "none (control access on all extended rights, e.g. Full Control)");
	free(name);
}

/* "S-1-5-21-...-1104 (SCS01$), ..." for evidence: one name lookup per SID, made
 * once per account; capped, since an account may be in hundreds of groups. */
static char *token_names(struct apf_ad_session *s, const struct apf_ad_token *t)
{
	char sid[APF_SID_STR_MAX];
	char *list = apf_xstrdup("");

	for (size_t i = 0; i < t->n_sids && strlen(list) < 2048; i++) {
		char *name = apf_ad_sid_name(s, &t->sids[i]);
		char *n = apf_xasprintf("%s%s%s%s%s%s", list, i ? ", " : "", apf_sid_str(&t->sids[i], sid, sizeof(sid)),
					name ? " (" : "", name ? name : "", name ? ")" : "");
		free(list);
		list = n;
		free(name);
	}
	return list;
}

static void token_evidence(struct apf_finding *f, const struct apf_ad_token *t, const char *names)
{
	char sid[APF_SID_STR_MAX];

	apf_evidence(f, "account", "%s", t->account);
	apf_evidence(f, "account_dn", "%s", t->dn);
	apf_evidence(f, "account_sid", "%s", apf_sid_str(&t->sid, sid, sizeof(sid)));
	apf_evidence(f, "token", "%s", names);
	if (t->token_groups_read)
		apf_evidence(f, "token_groups", "read: %zu group(s), nested groups included", t->n_token_groups);
	else
		apf_evidence(f, "token_groups", "not returned by the DC: only direct, primary-group and well-known SIDs evaluated");
}

/* Who may enroll, for a NOT_GRANTED finding: the trustees of the allow ACEs that
 * cover Enroll, so the admin sees which group to add the account to. */
static void grantees_evidence(struct apf_finding *f, struct apf_ad_session *s, const struct apf_secdesc *sd)
{
	char sid[APF_SID_STR_MAX];
	char *list = apf_xstrdup("");

	for (size_t i = 0; i < sd->n_aces && strlen(list) < 1024; i++) {
		bool seen = false;
		char *name, *n;

		if (!apf_ace_allows_right(&sd->aces[i], apf_guid_enroll))
			continue;
		/* explicit and inherited ACEs often name the same group */
		for (size_t j = 0; j < i && !seen; j++)
			seen = apf_ace_allows_right(&sd->aces[j], apf_guid_enroll) && apf_sid_equal(&sd->aces[j].sid, &sd->aces[i].sid);
		if (seen)
			continue;
		name = apf_ad_sid_name(s, &sd->aces[i].sid);
		n = apf_xasprintf("%s%s%s", list, *list ? ", " : "", name ? name : apf_sid_str(&sd->aces[i].sid, sid, sizeof(sid)));
		free(list);
		list = n;
		free(name);
	}
	apf_evidence(f, "enroll_granted_to", "%s", *list ? list : "(nobody)");
	free(list);
}

static void check_one(struct apf_ctx *ctx, struct apf_ad_session *s, const char *tmpl, const char *dn,
		      const struct apf_secdesc *sd, const struct apf_ad_token *t, const char *names)
{
	size_t idx;
	enum apf_access acc = apf_secdesc_check_right(sd, t->sids, t->n_sids, apf_guid_enroll, &idx);
	struct apf_finding *f;

	switch (acc) {
	case APF_ACCESS_ALLOWED:
		f = apf_report(ctx, APF_PASS, "CA_ENROLL_ALLOWED", "%s may enroll for template %s", t->account, tmpl);
		break;
	case APF_ACCESS_DENIED:
		f = apf_report(ctx, APF_FAIL, "CA_ENROLL_DENIED", "%s is denied Enroll on template %s", t->account, tmpl);
		break;
	default:
		f = apf_report(ctx, APF_FAIL, "CA_ENROLL_NOT_GRANTED", "%s has no Enroll permission on template %s",
			       t->account, tmpl);
		break;
	}
	apf_evidence(f, "template", "%s", tmpl);
	apf_evidence(f, "template_dn", "%s", dn);
	if (idx != SIZE_MAX)
		ace_evidence(f, s, sd, idx);
	else if (!sd->dacl_present)
		apf_evidence(f, "ace", "none: the template has a NULL DACL (everyone has every right)");
	else {
		apf_evidence(f, "ace", "none of the %zu ACEs grants Enroll to a SID in the token", sd->n_aces);
		grantees_evidence(f, s, sd);
	}
	token_evidence(f, t, names);
	if (acc == APF_ACCESS_DENIED && !apf_sid_equal(&sd->aces[idx].sid, &t->sid))
		apf_remedy(f, "On template %s's Security tab, remove the Deny Enroll entry for the group named in "
			      "ace_trustee, or take %s out of that group", tmpl, t->account);
}

/* The template's DN, or NULL when it does not exist (ca.template reports that). */
static char *template_dn(struct apf_ad_session *s, const char *tmpl_base, const char *name, int *rc_out,
			 struct apf_ldap_status *st)
{
	static const char *const attrs[] = {"cn", NULL};
	char *filter = apf_adcs_template_filter(name);
	struct apf_ldap_result *res = NULL;
	char *dn = NULL;

	*rc_out = apf_ldap_search(s->ldap, tmpl_base, APF_LDAP_SCOPE_ONE, filter, attrs, 2, &res, st);
	if (*rc_out == 0 && res->n_entries)
		dn = apf_xstrdup(res->entries[0].dn);
	if (*rc_out == -ENOENT)
		*rc_out = 0;
	apf_ldap_result_free(res);
	free(filter);
	return dn;
}

/* Reads and decodes a template's DACL; reports and returns NULL on failure. */
static struct apf_secdesc *read_dacl(struct apf_ctx *ctx, struct apf_ad_session *s, const char *name, const char *dn)
{
	struct apf_ldap_status st = {0};
	struct apf_secdesc *sd = NULL;
	struct apf_finding *f;
	unsigned char *raw = NULL;
	size_t len = 0;
	int rc;

	apf_ctx_step(ctx, "reading the security descriptor of %s", dn);
	rc = apf_ldap_read_sd(s->ldap, dn, DACL_SECURITY_INFORMATION, &raw, &len, &st);
	if (rc == 0 && apf_secdesc_parse(raw, len, &sd) == 0)
		goto out;
	f = apf_report(ctx, APF_ERROR, "CA_ENROLL_SD_UNREADABLE", "Could not %s the security descriptor of template %s",
		       rc == 0 ? "decode" : "read", name);
	apf_evidence(f, "template_dn", "%s", dn);
	apf_evidence(f, "control", "LDAP_SERVER_SD_FLAGS_OID 1.2.840.113556.1.4.801, flags %u (DACL)",
		     DACL_SECURITY_INFORMATION);
	if (rc == 0)
		apf_evidence(f, "reason", "malformed security descriptor (%zu bytes)", len);
	else if (rc == -ENOENT)
		apf_evidence(f, "reason", "nTSecurityDescriptor was not returned");
	else if (rc == -EFBIG)
		apf_evidence(f, "reason", "security descriptor larger than 128 KiB");
	else
		apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
out:
	apf_ldap_status_clear(&st);
	free(raw);
	return sd;
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_ad_session *s = NULL;
	struct apf_ad_token **tokens = NULL;
	char **names = NULL;
	struct apf_ldap_status st = {0};
	struct apf_finding *f;
	size_t n_tokens = 0;
	char *why = NULL, *pks = NULL, *tmpl_base = NULL;
	int rc;

	rc = apf_ad_session_open(ctx, &s, &why);
	if (rc < 0) {
		f = apf_report(ctx, APF_ERROR, "CA_ENROLL_AD_UNAVAILABLE", "Could not read Active Directory: %s", why ? why : "?");
		apf_evidence(f, "reason", "%s", why ? why : "?");
		goto out;
	}
	tokens = apf_xcalloc(cfg->ca.enroll_accounts.n, sizeof(*tokens));
	for (size_t i = 0; i < cfg->ca.enroll_accounts.n; i++) {
		const char *acct = cfg->ca.enroll_accounts.v[i];
		struct apf_ad_token *t = NULL;

		free(why);
		why = NULL;
		rc = apf_ad_token_read(ctx, s, acct, &t, &why);
		if (rc == -ENOENT) {
			f = apf_report(ctx, APF_FAIL, "CA_ENROLL_ACCOUNT_MISSING", "Enrolling account %s does not exist in AD", acct);
			apf_evidence(f, "account", "%s", acct);
			apf_evidence(f, "searched", "%s", why ? why : "?");
			apf_evidence(f, "dc", "%s", s->dc_name);
		} else if (rc < 0) {
			f = apf_report(ctx, APF_ERROR, "CA_ENROLL_ACCOUNT_UNREADABLE", "Could not read account %s: %s", acct,
				       why ? why : "?");
			apf_evidence(f, "account", "%s", acct);
			apf_evidence(f, "reason", "%s", why ? why : "?");
		} else {
			tokens[n_tokens++] = t;
		}
	}
	if (!n_tokens)
		goto out;
	names = apf_xcalloc(n_tokens, sizeof(*names));
	for (size_t k = 0; k < n_tokens; k++)
		names[k] = token_names(s, tokens[k]);

	pks = apf_ad_pks_dn(s->config_nc);
	tmpl_base = apf_xasprintf("CN=Certificate Templates,%s", pks);
	for (size_t i = 0; i < cfg->ca.templates.n; i++) {
		const char *name = cfg->ca.templates.v[i];
		struct apf_secdesc *sd = NULL;
		char *dn;

		apf_ldap_status_clear(&st);
		dn = template_dn(s, tmpl_base, name, &rc, &st);
		if (rc < 0) {
			f = apf_report(ctx, APF_ERROR, "CA_ENROLL_AD_UNAVAILABLE", "Could not search %s for %s", tmpl_base, name);
			apf_evidence(f, "base", "%s", tmpl_base);
			apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
		} else if (!dn) {
			f = apf_report(ctx, APF_INFO, "CA_ENROLL_TEMPLATE_MISSING", "Template %s does not exist; permissions not checked", name);
			apf_evidence(f, "template", "%s", name);
			apf_evidence(f, "base", "%s", tmpl_base);
		} else if ((sd = read_dacl(ctx, s, name, dn))) {
			for (size_t k = 0; k < n_tokens; k++)
				check_one(ctx, s, name, dn, sd, tokens[k], names[k]);
		}
		apf_secdesc_free(sd);
		free(dn);
	}
out:
	for (size_t i = 0; i < n_tokens; i++) {
		apf_ad_token_free(tokens[i]);
		free(names ? names[i] : NULL);
	}
	free(tokens);
	free(names);
	apf_ldap_status_clear(&st);
	apf_ad_session_free(s);
	free(why);
	free(pks);
	free(tmpl_base);
	return 0;
}

static const char *const requires_keys[] = {"ca.templates", "ca.enroll_accounts", NULL};
static const char *const requires_checks[] = {"ad.ldap", NULL};
/* The DCs and DNS servers found by these, as the other AD checks use them. */
static const char *const after[] = {"dns.ad-records", "dhcp.options", NULL};

const struct apf_check apf_check_ca_enroll_permission = {
	.id = "ca.enroll-permission",
	.title = "Enroll permission of the setup server's account on the AMT templates",
	.summary = "Resolves each account in [ca] enroll_accounts to its SID and groups (tokenGroups, nested groups, "
		   "primary group, Everyone, Authenticated Users), reads each AMT template's DACL (nTSecurityDescriptor "
		   "with the SD-flags control) and evaluates it in ACE order for the Enroll extended right: allow and "
		   "deny, explicit and inherited, object and plain ACEs, Full Control and GENERIC_ALL.",
	.requires_keys = requires_keys,
	.requires_checks = requires_checks,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 20000,
	.codes = codes,
	.run = run,
};
