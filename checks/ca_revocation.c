/* SPDX-License-Identifier: MIT */
/*
 * ca.revocation: can relying parties check revocation for the certificates
 * AMT provisioning uses? The setup server (and Windows' chain engine under it)
 * fetches the CRLs named in the CA certificates and in the provisioning
 * chain; an expired or unreachable CRL makes the chain "revocation unknown"
 * and the TLS session to AMT fails like an expired intermediate does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ad.h"
#include "check.h"
#include "net/fetch.h"
#include "pki.h"
#include "revocation.h"

#define OP_CAP_MS 8000
#define MAX_CERTS 64
#define AIA_MAX_BYTES (256u * 1024)

static const struct apf_code codes[] = {
	{"CA_REVOCATION_AD_UNAVAILABLE", APF_ERROR, "Active Directory could not be read, so the enterprise CA certificates were not checked",
	 "See the ad.ldap findings; fix the DC connection or the service account first"},
	{"CA_PROV_CERT_UNREADABLE", APF_ERROR, "The provisioning certificate could not be loaded, so its chain was not checked",
	 "See the cert.provisioning findings; check [provisioning] certificate and its password"},
	{"CA_ISSUER_UNKNOWN", APF_ERROR,
	 "The issuer of a certificate was found neither among the known certificates nor through its AIA URL, so its CRL signature cannot be verified",
	 "Publish the issuing CA's certificate at the AIA URL, or include the chain in [provisioning] certificate / [provisioning] chain"},
	{"CA_CRL_OK", APF_PASS, "The CRL was fetched, its signature verifies against the issuer and it is current", NULL},
	{"CA_CRL_NEAR_EXPIRY", APF_WARN,
	 "The CRL's nextUpdate is near ([ca] crl_warn_hours): if the CA does not publish a new one in time, revocation checks fail",
	 "Check that the CA publishes CRLs on schedule (certutil -CRL) and that the publication to the CDP location works"},
	{"CA_CRL_EXPIRED", APF_FAIL,
	 "The CRL's nextUpdate has passed: relying parties treat the revocation status as unknown and reject the chain",
	 "Publish a fresh CRL (certutil -CRL on the CA) and copy it to every CDP location; check the CA's CRL publication interval"},
	{"CA_CRL_INVALID", APF_FAIL,
	 "What the CDP URL serves is not a CRL of the certificate's issuer (not a CRL, other issuer, or a signature that does not verify)",
	 "Publish the CA's current CRL at the CDP location (and not an HTML error page); check the CDP extension on the CA"},
	{"CA_CRL_UNREACHABLE", APF_ERROR, "No CDP URL of the certificate could be fetched from here (network error or HTTP error)",
	 "Make the CDP URLs reachable from the setup server and clients (HTTP CDPs are preferred over ldap:///)"},
	{"CA_NO_CDP", APF_INFO, "The certificate names no CRL distribution point: revocation cannot be checked through CRLs", NULL},
	{"CA_CERT_REVOKED", APF_FAIL, "A certificate of the chain is revoked", "Replace the revoked certificate"},
	{"CA_OCSP_OK", APF_PASS, "The OCSP responder answered 'good' with a response signed for the issuer", NULL},
	{"CA_OCSP_UNREACHABLE", APF_ERROR, "The OCSP responder could not be reached from here",
	 "Make the OCSP URL reachable (Online Responder / IIS) from the setup server"},
	{"CA_OCSP_INVALID", APF_FAIL, "The OCSP responder's answer is unusable (error status, bad signature, unknown certificate)",
	 "Check the Online Responder's revocation configuration and signing certificate for this CA"},
	{"CA_OCSP_STALE", APF_FAIL, "The OCSP response is outside its validity window", "Check the Online Responder's CRL source and its clock"},
	{"CA_NO_OCSP", APF_INFO, "The provisioning certificate names no OCSP responder", NULL},
	{"CA_NO_CERTIFICATES", APF_INFO, "Neither AD nor the provisioning file yielded a certificate to check", NULL},
	{0},
};

struct pool {
	struct apf_cert *v[MAX_CERTS];
	const char *origin[MAX_CERTS]; /* static strings or owned in origin_owned */
	char *origin_owned[MAX_CERTS];
	bool target[MAX_CERTS];
	size_t n;
};

/* Adds (takes) a certificate unless already present; returns its index or -1 when dropped. */
static int pool_take(struct pool *p, struct apf_cert *c, const char *origin, bool target)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->v[i]->sha1_hex, c->sha1_hex) == 0) {
			p->target[i] = p->target[i] || target;
			apf_cert_free(c);
			return (int)i;
		}
	}
	if (p->n >= MAX_CERTS) {
		apf_cert_free(c);
		return -1;
	}
	p->v[p->n] = c;
	p->origin_owned[p->n] = apf_xstrdup(origin);
	p->origin[p->n] = p->origin_owned[p->n];
	p->target[p->n] = target;
	return (int)p->n++;
}

static void pool_clear(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		apf_cert_free(p->v[i]);
		free(p->origin_owned[i]);
	}
	p->n = 0;
}

/* The issuer of c in the pool. A renewed CA leaves twins with its subject and key (an
 * expired one still in AD, say): prefer one valid now, as apf_chain_build does, because
 * OCSP verification rejects a response checked against an expired issuer. */
static const struct apf_cert *find_issuer(const struct pool *p, const struct apf_cert *c)
{
	const struct apf_cert *best = NULL;
	time_t now = time(NULL);

	for (size_t i = 0; i < p->n; i++) {
		const struct apf_cert *cand = p->v[i];

		if (cand == c || !apf_cert_issued_by(c, cand))
			continue;
		if (cand->not_before <= now && now <= cand->not_after)
			return cand;
		if (!best)
			best = cand;
	}
	return best;
}

/* Fetches an AIA caIssuers URL into the pool. */
static void fetch_aia(struct apf_ctx *ctx, struct pool *p, const char *url, struct apf_ad_session *s)
{
	unsigned char *data = NULL;
	size_t len = 0;
	struct apf_cert **certs = NULL;
	size_t n = 0;
	char *err = NULL;
	int rc;

	apf_ctx_step(ctx, "fetching AIA %s", url);
	struct apf_fetch_opts fo = apf_ad_fetch_opts(ctx, apf_ad_op_timeout(ctx, OP_CAP_MS), AIA_MAX_BYTES, s);
	rc = apf_fetch_body(url, &fo, &data, &len, &err);
	if (rc == 0 && apf_certs_from_data(data, len, &certs, &n) == 0) {
		char *origin = apf_xasprintf("AIA %s", url);
		for (size_t i = 0; i < n; i++) {
			pool_take(p, certs[i], origin, false);
			certs[i] = NULL;
		}
		free(origin);
	}
	apf_certs_free(certs, n);
	free(data);
	free(err);
}

static void ev_cert(struct apf_finding *f, const struct pool *p, size_t i)
{
	char b[32];

	apf_evidence(f, "certificate", "%s", p->v[i]->subject ? p->v[i]->subject : "?");
	apf_evidence(f, "serial", "%s", p->v[i]->serial_hex ? p->v[i]->serial_hex : "?");
	apf_evidence(f, "sha1", "%s", p->v[i]->sha1_hex);
	apf_evidence(f, "not_after", "%s", apf_pki_time_str(p->v[i]->not_after, b, sizeof(b)));
	apf_evidence(f, "source", "%s", p->origin[i]);
}

/* This check's codes per revocation state, for CRLs and OCSP; statuses come from apf_rev_status(). */
static const char *const crl_codes[APF_REV_STATE_COUNT] = {
	[APF_REV_GOOD] = "CA_CRL_OK",
	[APF_REV_REVOKED] = "CA_CERT_REVOKED",
	[APF_REV_UNREACHABLE] = "CA_CRL_UNREACHABLE",
	[APF_REV_INVALID] = "CA_CRL_INVALID",
	[APF_REV_EXPIRED] = "CA_CRL_EXPIRED",
	[APF_REV_NONE] = "CA_NO_CDP",
};
static const char *const ocsp_codes[APF_REV_STATE_COUNT] = {
	[APF_REV_GOOD] = "CA_OCSP_OK",
	[APF_REV_REVOKED] = "CA_CERT_REVOKED",
	[APF_REV_UNREACHABLE] = "CA_OCSP_UNREACHABLE",
	[APF_REV_INVALID] = "CA_OCSP_INVALID",
	[APF_REV_EXPIRED] = "CA_OCSP_STALE",
	[APF_REV_NONE] = "CA_NO_OCSP",
};

/* A current CRL whose nextUpdate is within [ca] crl_warn_hours: the CA must publish soon. */
static bool near_expiry(struct apf_ctx *ctx, const struct apf_rev_result *r)
{
	return r->next_update && r->next_update - time(NULL) < (time_t)apf_cfg(ctx)->ca.crl_warn_hours * 3600;
}

/* Reports one lookup's state with this check's code for it; the certificate and issuer as evidence. */
static void report_rev(struct apf_ctx *ctx, const struct pool *p, size_t i, const struct apf_cert *issuer,
		       const struct apf_rev_result *r, const char *method, const char *const state_codes[])
{
	const char *subject = p->v[i]->subject ? p->v[i]->subject : "?";
	struct apf_finding *f;

	if (r->state == APF_REV_GOOD && state_codes == crl_codes && near_expiry(ctx, r)) {
		f = apf_report(ctx, APF_WARN, "CA_CRL_NEAR_EXPIRY", "The CRL for %s expires in %lld hours", subject,
			       (long long)((r->next_update - time(NULL)) / 3600));
		apf_rev_evidence(f, r, method);
	} else {
		f = apf_rev_report(ctx, r, method, subject, state_codes);
	}
	ev_cert(f, p, i);
	if (r->state != APF_REV_NONE)
		apf_evidence(f, "issuer", "%s", issuer && issuer->subject ? issuer->subject : "?");
	if (r->state == APF_REV_GOOD && state_codes == crl_codes)
		apf_evidence(f, "warn_hours", "%d", apf_cfg(ctx)->ca.crl_warn_hours);
}

static void check_crl(struct apf_ctx *ctx, struct pool *p, size_t i, const struct apf_cert *issuer,
		      struct apf_ad_session *s)
{
	const struct apf_cert *c = p->v[i];
	struct apf_fetch_opts fo;
	struct apf_rev_result r;

	apf_ctx_step(ctx, "CRL for %s", c->subject ? c->subject : "?");
	/* Microsoft's ldap:/// CDPs name no server: the fetcher reads them from the DC we are bound to. */
	fo = apf_ad_fetch_opts(ctx, apf_ad_op_timeout(ctx, OP_CAP_MS), 0, s);
	apf_rev_check_crl(c, issuer, &fo, &r);
	/* For monitoring: hours until this CRL's nextUpdate (negative once passed). */
	if (r.next_update && (r.state == APF_REV_GOOD || r.state == APF_REV_EXPIRED))
		apf_metric(ctx, "crl_hours_left", (double)((r.next_update - time(NULL)) / 3600), "");
	report_rev(ctx, p, i, issuer, &r, "CRL", crl_codes);
	apf_rev_result_clear(&r);
}

static void check_ocsp(struct apf_ctx *ctx, struct pool *p, size_t i, const struct apf_cert *issuer)
{
	struct apf_fetch_opts fo;
	struct apf_rev_result r;

	apf_ctx_step(ctx, "OCSP for %s", p->v[i]->subject ? p->v[i]->subject : "?");
	fo = apf_ad_fetch_opts(ctx, apf_ad_op_timeout(ctx, OP_CAP_MS), 0, NULL);
	apf_rev_check_ocsp(p->v[i], issuer, &fo, &r);
	report_rev(ctx, p, i, issuer, &r, "OCSP", ocsp_codes);
	apf_rev_result_clear(&r);
}

/* Whether an enrollment service publishes one of [ca] templates. A CA issues only the
 * templates it publishes (MS-WCCE 3.2.2.6.2.1.4): another CA's revocation data has no
 * part in AMT provisioning, and without [ca] templates no CA is known to have one. */
static bool issues_amt(const struct apf_config *cfg, const struct apf_ldap_entry *e)
{
	const struct apf_ldap_attr *a = apf_ldap_entry_attr(e, "certificateTemplates");

	for (size_t t = 0; t < cfg->ca.templates.n; t++)
		if (apf_ldap_attr_has(a, cfg->ca.templates.v[t]))
			return true;
	return false;
}

/* The certificates of the enterprise CAs issuing AMT certificates (targets), and every
 * CA certificate AD publishes (issuers). Returns false when a container could not be
 * read (reported as ERROR). */
static bool load_from_ad(struct apf_ctx *ctx, struct pool *p, struct apf_ad_session *s)
{
	static const char *const attrs[] = {"cn", "cACertificate;binary", "cACertificate", "certificateTemplates", NULL};
	static const struct {
		const char *rdn;
		bool target;
	} containers[] = {
		{"CN=Enrollment Services", true},
		{"CN=Certification Authorities", false},
		{"CN=AIA", false},
	};
	char *pks = apf_ad_pks_dn(s->config_nc);
	bool ok = true;

	for (size_t k = 0; k < sizeof(containers) / sizeof(containers[0]); k++) {
		char *base = apf_xasprintf("%s,%s", containers[k].rdn, pks);
		struct apf_ldap_result *res = NULL;
		struct apf_ldap_status st = {0};
		int rc;

		apf_ctx_step(ctx, "reading %s", base);
		rc = apf_ldap_search(s->ldap, base, APF_LDAP_SCOPE_ONE, "(objectClass=*)", attrs, 100, &res, &st);
		/* A missing container holds no certificate; a failed read must not look
		 * like "nothing to check". */
		if (rc < 0 && rc != -ENOENT) {
			struct apf_finding *f = apf_report(ctx, APF_ERROR, "CA_REVOCATION_AD_UNAVAILABLE", "Could not read %s on %s",
							   base, s->dc_name);
			apf_evidence(f, "base", "%s", base);
			apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
			ok = false;
		}
		if (rc == 0) {
			for (size_t e = 0; e < res->n_entries; e++) {
				const struct apf_ldap_attr *a = apf_ldap_entry_attr(&res->entries[e], "cACertificate");
				char *origin = apf_xasprintf("AD %s", res->entries[e].dn);
				bool target = containers[k].target && issues_amt(apf_cfg(ctx), &res->entries[e]);

				for (size_t v = 0; a && v < a->n_vals; v++) {
					struct apf_cert *c = NULL;
					if (apf_cert_from_der(a->vals[v].data, a->vals[v].len, &c) == 0)
						pool_take(p, c, origin, target && !c->self_signed);
				}
				free(origin);
			}
		}
		apf_ldap_result_free(res);
		apf_ldap_status_clear(&st);
		free(base);
	}
	free(pks);
	return ok;
}

/* The provisioning chain; returns the pool index of the leaf, or -1. */
static int load_provisioning(struct apf_ctx *ctx, struct pool *p)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_pki_bundle *b = NULL;
	struct apf_finding *f;
	char *pw = NULL, *err = NULL;
	int leaf = -1, rc;

	rc = apf_secret_read(ctx, "provisioning.password", &pw, &err);
	if (rc < 0 && rc != -ENOENT) {
		f = apf_report(ctx, APF_ERROR, "CA_PROV_CERT_UNREADABLE", "Cannot read the provisioning certificate's password: %s",
			       err ? err : "?");
		apf_evidence(f, "certificate", "%s", cfg->provisioning.certificate);
		goto out;
	}
	free(err);
	err = NULL;
	apf_ctx_step(ctx, "loading %s", cfg->provisioning.certificate);
	rc = apf_pki_load_files(cfg->provisioning.certificate, cfg->provisioning.key, cfg->provisioning.chain, pw, &b, &err);
	if (rc < 0) {
		f = apf_report(ctx, APF_ERROR, "CA_PROV_CERT_UNREADABLE", "Cannot load the provisioning certificate: %s",
			       err ? err : "?");
		apf_evidence(f, "certificate", "%s", cfg->provisioning.certificate);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		bool is_leaf = i == b->leaf;
		int idx = pool_take(p, b->certs[i], is_leaf ? "provisioning certificate" : "provisioning chain",
				    !b->certs[i]->self_signed);
		b->certs[i] = NULL;
		if (is_leaf)
			leaf = idx;
	}
out:
	apf_pki_bundle_free(b);
	apf_secret_free(pw);
	free(err);
	return leaf;
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct pool *p = apf_xcalloc(1, sizeof(*p));
	struct apf_ad_session *s = NULL;
	struct apf_finding *f;
	/* AD is read for the enterprise CAs that issue AMT certificates, so only with [ca]
	 * templates: without them, a DC that cannot be read must not make the provisioning
	 * chain's result incomplete. */
	bool want_ad = ((cfg->ad.domain && *cfg->ad.domain) || cfg->ad.domain_controllers.n) && cfg->ca.templates.n;
	bool want_prov = cfg->provisioning.certificate && *cfg->provisioning.certificate;
	int leaf = -1;
	size_t checked = 0;
	bool reported_problem = false;

	if (!want_ad && !want_prov) {
		apf_skip(ctx, "no certificate AMT provisioning uses is configured: set [provisioning] certificate, or [ad] "
			      "and [ca] templates (enterprise CAs issuing AMT certificates)");
		goto out;
	}
	if (want_ad) {
		char *why = NULL;
		if (apf_ad_session_open(ctx, &s, &why) < 0) {
			f = apf_report(ctx, APF_ERROR, "CA_REVOCATION_AD_UNAVAILABLE", "Could not read Active Directory: %s", why ? why : "?");
			apf_evidence(f, "reason", "%s", why ? why : "?");
			reported_problem = true;
		} else if (!load_from_ad(ctx, p, s)) {
			reported_problem = true;
		}
		free(why);
	}
	if (want_prov) {
		leaf = load_provisioning(ctx, p);
		reported_problem = reported_problem || leaf < 0;
	}

	/* Missing issuers: follow AIA caIssuers once per certificate. */
	for (size_t i = 0; i < p->n; i++) {
		if (!p->target[i] || find_issuer(p, p->v[i]))
			continue;
		for (size_t u = 0; u < p->v[i]->aia_ca_issuers.n && !find_issuer(p, p->v[i]); u++)
			fetch_aia(ctx, p, p->v[i]->aia_ca_issuers.v[u], s);
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct apf_cert *issuer;

		if (!p->target[i])
			continue;
		issuer = find_issuer(p, p->v[i]);
		if (!issuer) {
			f = apf_report(ctx, APF_ERROR, "CA_ISSUER_UNKNOWN", "The issuer of %s was not found",
				       p->v[i]->subject ? p->v[i]->subject : "?");
			ev_cert(f, p, i);
			apf_evidence(f, "issuer_name", "%s", p->v[i]->issuer ? p->v[i]->issuer : "?");
			apf_evidence(f, "aia_urls", "%zu", p->v[i]->aia_ca_issuers.n);
			reported_problem = true;
			continue;
		}
		checked++;
		check_crl(ctx, p, i, issuer, s);
		if ((int)i == leaf)
			check_ocsp(ctx, p, i, issuer);
	}
	if (checked == 0 && !reported_problem) {
		f = apf_report(ctx, APF_INFO, "CA_NO_CERTIFICATES", "No certificate with a revocation source was found to check");
		apf_evidence(f, "certificates_seen", "%zu", p->n);
	}
out:
	apf_ad_session_free(s);
	pool_clear(p);
	free(p);
	return 0;
}

/* dns.ad-records and dhcp.options: src/ad.c reads their facts (DCs, client DNS servers). */
static const char *const after[] = {"ad.ldap", "dns.ad-records", "dhcp.options", NULL};

const struct apf_check apf_check_ca_revocation = {
	.id = "ca.revocation",
	.title = "CRL and OCSP for the CA and provisioning chain",
	.summary = "Fetches the CRLs named by the provisioning chain and by the enterprise CAs publishing [ca] templates (HTTP, or "
		   "LDAP for ldap:// CDPs), verifies each CRL's signature against its issuer and its nextUpdate, and asks "
		   "the OCSP responder about the provisioning certificate: an expired CRL makes the chain's revocation "
		   "status unknown and the setup server's TLS to AMT fails.",
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 30000,
	.codes = codes,
	.run = run,
};
