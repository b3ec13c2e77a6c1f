/* SPDX-License-Identifier: MIT */
/*
 * dns.ad-records: the SRV records through which clients, ConfigMgr and the
 * provisioning tools find Active Directory (MS-ADTS 6.3.6.1; Kerberos per
 * RFC 4120 / the MIT krb5 SRV conventions). AMT provisioning with a Microsoft
 * stack creates computer objects and SPNs in AD and requests certificates
 * from an enterprise CA found through AD: without these records none of that
 * starts. The DC names found are published (fact "dc") for ad.ldap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "dnscheck.h"
#include "net/dns.h"

#define QUERY_CAP_MS 3000

static const struct apf_code codes[] = {
	{"ADR_SRV_OK", APF_PASS, "The SRV record exists on every DNS server clients use and its targets resolve", "None"},
	{"ADR_SRV_MISSING", APF_FAIL,
	 "A required Active Directory SRV record is missing: domain controllers (LDAP) or the KDC (Kerberos) cannot "
	 "be located, so computer accounts, SPNs and certificate enrollment for AMT fail",
	 "Re-register the DC's DNS records (restart Netlogon, or `dcdiag /fix`; `samba_dnsupdate` on Samba) and "
	 "make sure the _msdcs zone is hosted or delegated on the DNS servers clients use"},
	{"ADR_SRV_OPTIONAL_MISSING", APF_WARN,
	 "An Active Directory SRV record that is normally present is missing (_gc or _kpasswd): global catalog "
	 "searches or password changes of AMT accounts can fail",
	 "Re-register the DC's DNS records (Netlogon / samba_dnsupdate)"},
	{"ADR_TARGET_UNRESOLVED", APF_FAIL,
	 "An SRV record names a host that has no A/AAAA record: the service is advertised but unreachable by name",
	 "Add the missing A record for the domain controller or remove the stale SRV record"},
	{"ADR_SINGLE_DC", APF_WARN,
	 "Only one domain controller is advertised: no redundancy during provisioning",
	 "Add a second domain controller, or accept the single point of failure knowingly"},
	{"ADR_DNS_NO_ANSWER", APF_ERROR, "A DNS server did not answer, so the record could not be checked",
	 "Check that UDP and TCP 53 to the DNS server are allowed from here and that it is running"},
	{"ADR_DNS_RCODE", APF_ERROR,
	 "A DNS server answered with an error (SERVFAIL, REFUSED, ...), so the record could not be checked",
	 "Check the server's logs and its recursion/ACL settings for this client's address"},
	{0},
};

static const char *const requires_keys[] = {"ad.domain", NULL};
static const char *const after[] = {"dhcp.options", NULL};

/* The records, with the status a missing one gets and why. */
static const struct {
	const char *prefix;
	enum apf_status missing;
	const char *role;
} records[] = {
	{"_ldap._tcp.dc._msdcs.", APF_FAIL, "domain controllers (LDAP)"},
	{"_kerberos._tcp.", APF_FAIL, "Kerberos KDCs"},
	{"_gc._tcp.", APF_WARN, "global catalog servers"},
	{"_kpasswd._tcp.", APF_WARN, "Kerberos password change servers"},
};
#define N_RECORDS (sizeof(records) / sizeof(records[0]))

static void push_unique(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp((*v)[i], s) == 0)
			return;
	*v = apf_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = apf_xstrdup(s);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Resolves a SRV target (A, then AAAA). 1 resolves, 0 not, -1 could not ask. */
static int target_resolves(struct apf_ctx *ctx, const struct apf_dns_target *t, const char *host, size_t left,
			   char **why)
{
	static const uint16_t types[] = {APF_RR_A, APF_RR_AAAA};
	int result = 0;

	for (size_t k = 0; k < 2 && result == 0; k++) {
		struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, false);
		struct apf_dns_answer *a = NULL;
		char *err = NULL;

		apf_ctx_step(ctx, "%s %s? to %s", host, apf_dns_type_name(types[k]), t->spec);
		if (apf_dns_query(&o, host, types[k], &a, &err) < 0) {
			free(*why);
			*why = err;
			return -1;
		}
		free(err);
		for (size_t i = 0; i < a->n_rr; i++)
			if (a->rr[i].type == types[k])
				result = 1;
		free(*why);
		*why = apf_xstrdup(a->rcode_name);
		apf_dns_answer_free(a);
	}
	return result;
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_dns_target *srv = NULL;
	const char *source = NULL;
	size_t nsrv;
	char *domain = NULL;
	char **dcs = NULL;
	size_t ndc = 0;

	nsrv = apf_dnscheck_servers(ctx, &srv, &source);
	if (!nsrv) {
		apf_skip(ctx, "%s", APF_DNSCHECK_NO_SERVER);
		goto out;
	}
	domain = apf_xstrdup(cfg->ad.domain);
	for (size_t n = strlen(domain); n && domain[n - 1] == '.'; n--)
		domain[n - 1] = '\0';

	for (size_t r = 0; r < N_RECORDS; r++) {
		char *name = apf_xasprintf("%s%s", records[r].prefix, domain);
		char **targets = NULL, **entries = NULL;
		size_t nt = 0, ne = 0, ok_servers = 0;
		const struct apf_dns_target *asked = NULL;
		bool bad = false;

		for (size_t i = 0; i < nsrv; i++) {
			size_t left = (N_RECORDS - r) * nsrv * 2 + 4;
			struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, &srv[i], left, QUERY_CAP_MS, false);
			struct apf_dns_answer *a = NULL;
			char *err = NULL;
			struct apf_finding *f;
			size_t got = 0;

			apf_ctx_step(ctx, "%s SRV? to %s", name, srv[i].spec);
			if (apf_dns_query(&o, name, APF_RR_SRV, &a, &err) < 0) {
				f = apf_report(ctx, APF_ERROR, "ADR_DNS_NO_ANSWER", "DNS server %s did not answer %s SRV",
					       srv[i].spec, name);
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "query", "%s SRV", name);
				apf_evidence(f, "error", "%s", err ? err : "?");
				free(err);
				bad = true;
				continue;
			}
			if (a->rcode != 0 && a->rcode != 3) {
				f = apf_report(ctx, APF_ERROR, "ADR_DNS_RCODE", "DNS server %s answered %s for %s SRV",
					       srv[i].spec, a->rcode_name, name);
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "query", "%s SRV", name);
				apf_evidence(f, "rcode", "%s", a->rcode_name);
				apf_dns_answer_free(a);
				bad = true;
				continue;
			}
			for (size_t k = 0; k < a->n_rr; k++) {
				const struct apf_dns_rr *rr = &a->rr[k];

				/* Target "." means "no such service here" (RFC 2782). */
				if (rr->type != APF_RR_SRV || !rr->srv_target || strcmp(rr->srv_target, ".") == 0)
					continue;
				push_unique(&targets, &nt, rr->srv_target);
				push_unique(&entries, &ne, rr->data);
				got++;
			}
			if (!got) {
				f = apf_report(ctx, records[r].missing,
					       records[r].missing == APF_FAIL ? "ADR_SRV_MISSING" : "ADR_SRV_OPTIONAL_MISSING",
					       "%s SRV (%s) is missing on DNS server %s", name, records[r].role, srv[i].spec);
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "query", "%s SRV", name);
				apf_evidence(f, "rcode", "%s", a->rcode_name);
				apf_evidence(f, "answer", "(none)");
				apf_evidence(f, "servers_from", "%s", source);
				bad = true;
			} else {
				ok_servers++;
				if (!asked)
					asked = &srv[i];
			}
			apf_dns_answer_free(a);
		}
		for (size_t k = 0; k < nt && asked; k++) {
			char *why = NULL;
			int res = target_resolves(ctx, asked, targets[k], nt - k + (N_RECORDS - r) * 4, &why);

			if (res == 1) {
				if (r == 0) {
					char *h = apf_xstrdup(targets[k]);
					size_t hl = strlen(h);

					if (hl > 1 && h[hl - 1] == '.')
						h[hl - 1] = '\0';
					push_unique(&dcs, &ndc, h);
					free(h);
				}
			} else {
				struct apf_finding *f = apf_report(
					ctx, res == 0 ? APF_FAIL : APF_ERROR, res == 0 ? "ADR_TARGET_UNRESOLVED" : "ADR_DNS_NO_ANSWER",
					res == 0 ? "%s, named by %s, does not resolve" : "could not resolve %s, named by %s",
					targets[k], name);
				apf_evidence(f, "server", "%s", asked->spec);
				apf_evidence(f, "srv", "%s", name);
				apf_evidence(f, "query", "%s A/AAAA", targets[k]);
				apf_evidence(f, res == 0 ? "rcode" : "error", "%s", why ? why : "?");
				bad = true;
			}
			free(why);
		}
		if (!bad && ok_servers == nsrv) {
			char *j = apf_dnscheck_join_sorted(entries, ne);
			struct apf_finding *f = apf_report(ctx, APF_PASS, "ADR_SRV_OK", "%s SRV lists %zu target(s), all resolving",
							   name, nt);

			apf_evidence(f, "query", "%s SRV", name);
			apf_evidence(f, "answer", "%s", j);
			apf_evidence(f, "servers_from", "%s", source);
			free(j);
		}
		if (r == 0 && nt == 1) {
			struct apf_finding *f = apf_report(ctx, APF_WARN, "ADR_SINGLE_DC",
							   "only one domain controller is advertised for %s", domain);

			apf_evidence(f, "query", "%s SRV", name);
			apf_evidence(f, "answer", "%s", entries[0]);
		}
		strv_free(targets, nt);
		strv_free(entries, ne);
		free(name);
	}
	for (size_t i = 0; i < ndc; i++)
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_AD_DC), dcs[i]);
out:
	strv_free(dcs, ndc);
	free(domain);
	free(srv);
	return 0;
}

const struct apf_check apf_check_dns_ad_records = {
	.id = "dns.ad-records",
	.title = "Active Directory SRV records",
	.summary = "Looks up the LDAP (DC locator), Kerberos, global catalog and kpasswd SRV records of the AD domain "
		   "on every DNS server AMT clients use, checks that every target resolves and that more than one DC "
		   "is advertised; publishes the DC names for ad.ldap.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 15000,
	.codes = codes,
	.run = run,
};
