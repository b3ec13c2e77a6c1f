/* SPDX-License-Identifier: MIT */
/* Rebuilds an AD account's security token over LDAP (see ad_token.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_token.h"
#include "alloc.h"
#include "adcs.h"
#include "result.h"

static void token_add(struct apf_ad_token *t, const struct apf_sid *sid)
{
	for (size_t i = 0; i < t->n_sids; i++)
		if (apf_sid_equal(&t->sids[i], sid))
			return;
	t->sids = apf_xrealloc(t->sids, (t->n_sids + 1) * sizeof(*t->sids));
	t->sids[t->n_sids++] = *sid;
}

/* RFC 4515 escaping of every byte: binary SIDs in a filter. */
static char *filter_bytes(const uint8_t *p, size_t n)
{
	char *r = apf_xcalloc(n * 3 + 1, 1);

	for (size_t i = 0; i < n; i++)
		snprintf(r + 3 * i, 4, "\\%02x", p[i]);
	return r;
}

/* The search filter for a configured account name; caller frees. */
static char *account_filter(const char *account)
{
	const char *name = strrchr(account, '\\');
	char *esc, *f;

	/* "CORP\\SCS01$" -> "SCS01$": the NetBIOS domain is the session's own. */
	name = name ? name + 1 : account;
	esc = apf_ldap_filter_escape(name);
	f = apf_xasprintf("(&(objectSid=*)(|(sAMAccountName=%s)(userPrincipalName=%s)))", esc, esc);
	free(esc);
	return f;
}

int apf_ad_token_read(struct apf_ctx *ctx, struct apf_ad_session *s, const char *account, struct apf_ad_token **out,
		      char **why_out)
{
	static const char *const attrs[] = {"objectSid", "sAMAccountName", "primaryGroupID", NULL};
	static const char *const tg_attrs[] = {"tokenGroups", NULL};
	static const char *const wellknown[] = {"S-1-1-0", "S-1-5-11", "S-1-5-15"};
	struct apf_ldap_result *res = NULL, *tg = NULL;
	struct apf_ldap_status st = {0};
	struct apf_ad_token *t = NULL;
	const struct apf_ldap_attr *a;
	const struct apf_ldap_entry *e;
	char *filter = NULL;
	const char *pgid;
	int rc;

	*out = NULL;
	*why_out = NULL;
	apf_ctx_step(ctx, "resolving account %s", account);
	if (strchr(account, '=')) {
		/* A DN: read it directly. */
		rc = apf_ldap_search(s->ldap, account, APF_LDAP_SCOPE_BASE, "(objectSid=*)", attrs, 1, &res, &st);
	} else {
		filter = account_filter(account);
		rc = apf_ldap_search(s->ldap, s->default_nc, APF_LDAP_SCOPE_SUB, filter, attrs, 2, &res, &st);
	}
	if (rc == -ENOENT || (rc == 0 && res->n_entries == 0)) {
		*why_out = filter ? apf_xasprintf("no object with %s below %s", filter, s->default_nc)
				  : apf_xasprintf("no object with an objectSid at %s", account);
		rc = -ENOENT;
		goto out;
	}
	if (rc < 0) {
		*why_out = apf_xasprintf("LDAP search for %s failed: %d (%s)", account, st.rc, st.rc_text ? st.rc_text : "?");
		goto out;
	}
	e = &res->entries[0];
	a = apf_ldap_entry_attr(e, "objectSid");
	t = apf_xcalloc(1, sizeof(*t));
	if (!a || !a->n_vals || apf_sid_parse(a->vals[0].data, a->vals[0].len, &t->sid, NULL) < 0) {
		*why_out = apf_xasprintf("%s has no readable objectSid", e->dn);
		rc = -EPROTO;
		goto out;
	}
	t->account = apf_xstrdup(account);
	t->dn = apf_xstrdup(e->dn);
	t->sam = apf_ldap_entry_str(e, "sAMAccountName") ? apf_xstrdup(apf_ldap_entry_str(e, "sAMAccountName")) : NULL;
	token_add(t, &t->sid);

	/* tokenGroups is constructed: only a base-scope read returns it. */
	apf_ldap_status_clear(&st);
	rc = apf_ldap_search(s->ldap, e->dn, APF_LDAP_SCOPE_BASE, "(objectClass=*)", tg_attrs, 1, &tg, &st);
	if (rc == 0 && tg->n_entries && (a = apf_ldap_entry_attr(&tg->entries[0], "tokenGroups"))) {
		t->token_groups_read = true;
		for (size_t i = 0; i < a->n_vals; i++) {
			struct apf_sid g;
			if (apf_sid_parse(a->vals[i].data, a->vals[i].len, &g, NULL) == 0) {
				token_add(t, &g);
				t->n_token_groups++;
			}
		}
	}
	/* The primary group (Domain Users 513, Domain Computers 515) is not a
	 * memberOf link; tokenGroups includes it, but add it when tokenGroups was unreadable. */
	pgid = apf_ldap_entry_str(e, "primaryGroupID");
	if (pgid && t->sid.n_sub == 5) {
		uint32_t rid;
		struct apf_sid dom = t->sid, g;
		dom.n_sub--;
		if (apf_adcs_parse_u32(pgid, &rid) == 0 && apf_sid_append_rid(&dom, rid, &g))
			token_add(t, &g);
	}
	for (size_t i = 0; i < sizeof(wellknown) / sizeof(wellknown[0]); i++) {
		struct apf_sid w;
		if (apf_sid_from_str(wellknown[i], &w) == 0)
			token_add(t, &w);
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	apf_ldap_status_clear(&st);
	apf_ldap_result_free(res);
	apf_ldap_result_free(tg);
	apf_ad_token_free(t);
	free(filter);
	return rc;
}

void apf_ad_token_free(struct apf_ad_token *t)
{
	if (!t)
		return;
	free(t->account);
	free(t->dn);
	free(t->sam);
	free(t->sids);
	free(t);
}

char *apf_ad_sid_name(struct apf_ad_session *s, const struct apf_sid *sid)
{
	static const char *const attrs[] = {"sAMAccountName", "cn", NULL};
	const char *wk = apf_sid_wellknown_name(sid);
	struct apf_ldap_result *res = NULL;
	uint8_t bin[8 + 4 * APF_SID_MAX_SUB];
	size_t n;
	char *esc = NULL, *filter = NULL, *name = NULL;

	/* Well-known SIDs live in AD only as foreignSecurityPrincipals named by the SID itself. */
	if (wk)
		return apf_xstrdup(wk);
	n = apf_sid_to_bin(sid, bin, sizeof(bin));
	if (n) {
		esc = filter_bytes(bin, n);
		filter = apf_xasprintf("(objectSid=%s)", esc);
		if (apf_ldap_search(s->ldap, s->default_nc, APF_LDAP_SCOPE_SUB, filter, attrs, 1, &res, NULL) == 0 &&
		    res->n_entries) {
			const char *v = apf_ldap_entry_str(&res->entries[0], "sAMAccountName");
			if (!v)
				v = apf_ldap_entry_str(&res->entries[0], "cn");
			if (v)
				name = apf_xstrdup(v);
		}
	}
	apf_ldap_result_free(res);
	free(esc);
	free(filter);
	return name;
}
