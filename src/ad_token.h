/* SPDX-License-Identifier: MIT */
/*
 * The security token an AD account gets, rebuilt over LDAP: its objectSid,
 * tokenGroups (every group it belongs to, nested ones included, computed by
 * the DC on a base-scope read; MS-ADTS 3.1.1.4.5, constructed attributes), its primary group and
 * the well-known SIDs every authenticated logon carries. Used to evaluate
 * certificate template ACLs for the setup server's account.
 */
#pragma once

#include <stddef.h>

#include "ad.h"
#include "secdesc.h"

struct apf_ad_token {
	char *account;   /* as configured ("SCS01$", "CORP\\scs", "scs@corp.example.test", a DN) */
	char *dn;        /* the object found */
	char *sam;       /* sAMAccountName, may be NULL */
	struct apf_sid sid;          /* the account's (or group's) own SID */
	struct apf_sid *sids;        /* whole token: sid first, then groups and well-known SIDs */
	size_t n_sids;
	size_t n_token_groups;       /* how many came from tokenGroups */
	bool token_groups_read;      /* false when the DC returned no tokenGroups (then only direct + well-known) */
};

/*
 * Finds `account` below the session's default NC (sAMAccountName, "DOMAIN\\name",
 * userPrincipalName, or a DN) and reads its token. Returns 0; -ENOENT when no
 * such account (*why_out says what was searched); other -errno when LDAP
 * failed (*why_out has the LDAP result). *why_out: caller frees.
 */
int apf_ad_token_read(struct apf_ctx *ctx, struct apf_ad_session *s, const char *account, struct apf_ad_token **out,
		      char **why_out);
void apf_ad_token_free(struct apf_ad_token *t);

/* A display name for `sid`: its well-known name, else the sAMAccountName (or cn)
 * of the object carrying it in the default NC, else NULL. Caller frees. */
char *apf_ad_sid_name(struct apf_ad_session *s, const struct apf_sid *sid);
