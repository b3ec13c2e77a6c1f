/* SPDX-License-Identifier: MIT */
/*
 * ca.enterprise: the enterprise CAs AD advertises (pKIEnrollmentService
 * objects), which the AMT setup server enrols against for AMT web-server
 * certificates: each CA host resolves and answers, its CA certificate is
 * valid with time to spare, it publishes the AMT templates, and it is in
 * NTAuthCertificates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ad.h"
#include "check.h"
#include "facts.h"
#include "net/fetch.h"
#include "net/ldap.h"
#include "net/tcp.h"
#include "pki.h"

/* A CA cannot issue certificates that outlive it: with less than a year left, the
 * one-year AMT web-server certificates come out shortened, then stop. */
#define CA_HORIZON_DAYS 365
#define OP_CAP_MS 5000

static const struct apf_code codes[] = {
	{"CA_ENTERPRISE_AD_UNAVAILABLE", APF_ERROR, "Active Directory could not be read with the service account, so the CAs were not checked",
	 "See the ad.ldap findings; fix the DC connection or the service account first"},
	{"CA_NO_ENTERPRISE_CA", APF_FAIL,
	 "AD advertises no enterprise CA (no pKIEnrollmentService object): the setup server has nowhere to request AMT certificates",
	 "Install an Enterprise CA (AD CS, Enterprise edition role) in the forest, or check that its enrollment service object was not deleted"},
	{"CA_HOST_UNRESOLVED", APF_FAIL, "The CA's dNSHostName has no address in the DNS the clients use: enrolment cannot reach it",
	 "Add the CA server's A record to the zone the setup server uses, or correct dNSHostName (certutil -config - -ping)"},
	{"CA_DNS_TIMEOUT", APF_ERROR, "No DNS server answered for the CA's host name", "Check that the DNS servers in [dns] servers answer"},
	{"CA_RPC_UNREACHABLE", APF_WARN,
	 "The CA host does not accept TCP 135 (RPC endpoint mapper) from here: DCOM enrolment (what ConfigMgr and SCS use) cannot reach it from this network",
	 "Allow TCP 135 and the dynamic RPC range (49152-65535) from the setup server to the CA, or run this check from the setup server's network"},
	{"CA_RPC_OK", APF_PASS, "The CA host accepts TCP 135 (RPC endpoint mapper)", NULL},
	{"CA_WEB_ENROLLMENT_OK", APF_PASS, "The web enrollment URL answers", NULL},
	{"CA_WEB_ENROLLMENT_FAILED", APF_WARN, "The configured web enrollment URL does not answer as expected",
	 "Check the CA Web Enrollment role service, its IIS site and the URL in [ca] web_enrollment_url"},
	{"CA_CERT_MISSING", APF_FAIL, "The enrollment service object holds no readable CA certificate (cACertificate)",
	 "The CA writes its certificate into its enrollment service object (CN=<CA name>,CN=Enrollment Services,CN=Public Key Services,CN=Services in the configuration partition) when it is installed or renewed: export the CA certificate on the CA (certutil -ca.cert ca.crt) and restore the object's cACertificate attribute (ADSI Edit, as an Enterprise Admin), or reinstall the CA certificate. Publishing to NTAuth (certutil -dspublish ... NTAuthCA) writes a different object and does not fix this"},
	{"CA_CERT_EXPIRED", APF_FAIL, "The CA certificate has expired: the CA can issue no valid certificate",
	 "Renew the CA certificate (Certification Authority console > All Tasks > Renew CA Certificate)"},
	{"CA_CERT_EXPIRING", APF_WARN, "The CA certificate expires within a year: certificates it issues are shortened to its own lifetime",
	 "Plan the CA certificate renewal now"},
	{"CA_CERT_NOT_YET_VALID", APF_FAIL, "The CA certificate is not valid yet (clock or certificate problem)",
	 "Check the clocks of the CA and this host, and the CA certificate's notBefore"},
	{"CA_ENTERPRISE_CA_OK", APF_PASS, "The enterprise CA is advertised with a valid certificate", NULL},
	{"CA_TEMPLATES_NOT_OFFERED", APF_FAIL, "No enterprise CA publishes any of the configured AMT templates",
	 "Publish the AMT templates on the CA: Certificate Templates > New > Certificate Template to Issue"},
	{"CA_TEMPLATES_OFFERED", APF_PASS, "The configured AMT templates are published by an enterprise CA", NULL},
	{"CA_OFFERS_NO_AMT_TEMPLATE", APF_INFO,
	 "The CA publishes none of the configured AMT templates, so it cannot issue AMT certificates (a CA issues only the "
	 "templates it publishes); its host, port and certificate were not checked",
	 "None if another CA issues the AMT certificates. Publish the templates on it if it should; remove the enrollment "
	 "service object of a decommissioned CA"},
	{"CA_NOT_IN_NTAUTH", APF_WARN,
	 "The issuing CA is not in NTAuthCertificates: certificates it issues are not trusted for logon/mutual-auth mapping in AD",
	 "Publish the CA certificate: certutil -dspublish -f <ca.crt> NTAuthCA"},
	{"CA_IN_NTAUTH", APF_PASS, "The issuing CA is in NTAuthCertificates", NULL},
	{0},
};

static const char *const es_attrs[] = {"cn", "displayName", "dNSHostName", "cACertificate;binary", "cACertificate",
				       "certificateTemplates", NULL};

static bool sha1_in(const struct apf_ldap_attr *a, const char *sha1)
{
	for (size_t i = 0; a && i < a->n_vals; i++) {
		struct apf_cert *c = NULL;
		bool same;

		if (apf_cert_from_der(a->vals[i].data, a->vals[i].len, &c) < 0)
			continue;
		same = strcasecmp(c->sha1_hex, sha1) == 0;
		apf_cert_free(c);
		if (same)
			return true;
	}
	return false;
}

/* The newest readable certificate among the values (CAs renewed in place keep the old ones). */
static struct apf_cert *newest_cert(const struct apf_ldap_attr *a)
{
	struct apf_cert *best = NULL;

	for (size_t i = 0; a && i < a->n_vals; i++) {
		struct apf_cert *c = NULL;
		if (apf_cert_from_der(a->vals[i].data, a->vals[i].len, &c) < 0)
			continue;
		if (!best || c->not_after > best->not_after) {
			apf_cert_free(best);
			best = c;
		} else {
			apf_cert_free(c);
		}
	}
	return best;
}

static void check_host(struct apf_ctx *ctx, const struct apf_ldap_entry *e, const char *cn)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *host = apf_ldap_entry_str(e, "dNSHostName");
	struct apf_finding *f;
	char *ip = NULL, *server = NULL, *err = NULL;
	uint64_t rtt = 0;
	int rc;

	if (!host) {
		f = apf_report(ctx, APF_FAIL, "CA_HOST_UNRESOLVED", "CA %s has no dNSHostName", cn);
		apf_evidence(f, "dn", "%s", e->dn);
		apf_evidence(f, "attribute", "dNSHostName");
		apf_evidence(f, "value", "(absent)");
		return;
	}
	apf_ctx_step(ctx, "resolving CA host %s", host);
	rc = apf_ad_resolve(ctx, host, apf_ad_op_timeout(ctx, 3000), &ip, &server, &err);
	if (rc < 0) {
		/* Only a DNS answer without an address is a finding; a refused or garbled
		 * lookup is not the CA's fault and must not read as one. */
		enum apf_status st = apf_ad_unresolved_status(rc);
		f = apf_report(ctx, st, st == APF_ERROR ? "CA_DNS_TIMEOUT" : "CA_HOST_UNRESOLVED",
			       "CA %s: %s does not resolve", cn, host);
		apf_evidence(f, "dn", "%s", e->dn);
		apf_evidence(f, "dNSHostName", "%s", host);
		apf_evidence(f, "query", "%s A", host);
		apf_evidence(f, "result", "%s", err ? err : "?");
		goto out;
	}
	apf_ctx_step(ctx, "TCP %s:135", ip);
	rc = apf_tcp_probe(ip, 135, apf_ad_op_timeout(ctx, 3000), &rtt);
	if (rc == 0)
		f = apf_report(ctx, APF_PASS, "CA_RPC_OK", "CA %s (%s) accepts RPC endpoint-mapper connections", cn, host);
	else
		f = apf_report(ctx, APF_WARN, "CA_RPC_UNREACHABLE", "CA %s (%s) does not accept TCP 135: %s", cn, host,
			       apf_tcp_strerror(rc));
	apf_evidence(f, "dn", "%s", e->dn);
	apf_evidence(f, "dNSHostName", "%s", host);
	apf_evidence(f, "address", "%s", ip);
	if (server)
		apf_evidence(f, "dns_server", "%s", server);
	apf_evidence(f, "tcp_135", "%s", rc == 0 ? "open" : apf_tcp_strerror(rc));

	if (cfg->ca.web_enrollment_url && *cfg->ca.web_enrollment_url) {
		struct apf_http_response *resp = NULL;
		char *herr = NULL;
		struct apf_fetch_opts fo = apf_ad_fetch_opts(ctx, apf_ad_op_timeout(ctx, OP_CAP_MS), 256 * 1024, NULL);

		fo.ca_file = cfg->ca.web_ca_bundle;
		apf_ctx_step(ctx, "GET %s", cfg->ca.web_enrollment_url);
		rc = apf_fetch(cfg->ca.web_enrollment_url, &fo, &resp, &herr);
		/* certsrv asks for Windows authentication: 401 proves the site is there */
		if (rc == 0 && (resp->status == 200 || resp->status == 401)) {
			f = apf_report(ctx, APF_PASS, "CA_WEB_ENROLLMENT_OK", "Web enrollment at %s answers (HTTP %ld)",
				       cfg->ca.web_enrollment_url, resp->status);
		} else {
			f = apf_report(ctx, APF_WARN, "CA_WEB_ENROLLMENT_FAILED", "Web enrollment at %s: %s",
				       cfg->ca.web_enrollment_url, rc == 0 ? "unexpected HTTP status" : (herr ? herr : "failed"));
		}
		apf_evidence(f, "url", "%s", cfg->ca.web_enrollment_url);
		if (rc == 0)
			apf_evidence(f, "http_status", "%ld", resp->status);
		else
			apf_evidence(f, "error", "%s", herr ? herr : "?");
		apf_http_response_free(resp);
		free(herr);
	}
out:
	free(ip);
	free(server);
	free(err);
}

static void check_ca_cert(struct apf_ctx *ctx, const struct apf_ldap_entry *e, const char *cn, const struct apf_cert *c)
{
	struct apf_finding *f;
	time_t now = time(NULL);
	char b1[32], b2[32];

	if (!c) {
		f = apf_report(ctx, APF_FAIL, "CA_CERT_MISSING", "CA %s has no readable cACertificate", cn);
		apf_evidence(f, "dn", "%s", e->dn);
		apf_evidence(f, "attribute", "cACertificate");
		return;
	}
	if (c->not_after < now)
		f = apf_report(ctx, APF_FAIL, "CA_CERT_EXPIRED", "CA %s's certificate expired on %s", cn,
			       apf_pki_time_str(c->not_after, b1, sizeof(b1)));
	else if (c->not_before > now)
		f = apf_report(ctx, APF_FAIL, "CA_CERT_NOT_YET_VALID", "CA %s's certificate is valid only from %s", cn,
			       apf_pki_time_str(c->not_before, b1, sizeof(b1)));
	else if (c->not_after - now < (time_t)CA_HORIZON_DAYS * 86400)
		f = apf_report(ctx, APF_WARN, "CA_CERT_EXPIRING", "CA %s's certificate expires in %lld days", cn,
			       (long long)((c->not_after - now) / 86400));
	else
		f = apf_report(ctx, APF_PASS, "CA_ENTERPRISE_CA_OK", "CA %s is advertised with a certificate valid for %lld more days",
			       cn, (long long)((c->not_after - now) / 86400));
	apf_evidence(f, "dn", "%s", e->dn);
	apf_evidence(f, "subject", "%s", c->subject ? c->subject : "?");
	apf_evidence(f, "issuer", "%s", c->issuer ? c->issuer : "?");
	apf_evidence(f, "serial", "%s", c->serial_hex ? c->serial_hex : "?");
	apf_evidence(f, "sha1", "%s", c->sha1_hex);
	apf_evidence(f, "not_before", "%s", apf_pki_time_str(c->not_before, b1, sizeof(b1)));
	apf_evidence(f, "not_after", "%s", apf_pki_time_str(c->not_after, b2, sizeof(b2)));
	apf_evidence(f, "horizon_days", "%d", CA_HORIZON_DAYS);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	static const char *const ntauth_attrs[] = {"cACertificate;binary", "cACertificate", NULL};
	struct apf_ad_session *s = NULL;
	struct apf_ldap_result *cas = NULL, *nt = NULL;
	struct apf_ldap_status st = {0};
	struct apf_finding *f;
	char *why = NULL, *pks = NULL, *es_dn = NULL, *nt_dn = NULL;
	bool any_offered = false, nt_unreadable = false;
	int rc;

	rc = apf_ad_session_open(ctx, &s, &why);
	if (rc < 0) {
		f = apf_report(ctx, APF_ERROR, "CA_ENTERPRISE_AD_UNAVAILABLE", "Could not read Active Directory: %s", why ? why : "?");
		apf_evidence(f, "reason", "%s", why ? why : "?");
		goto out;
	}
	pks = apf_ad_pks_dn(s->config_nc);
	es_dn = apf_xasprintf("CN=Enrollment Services,%s", pks);
	nt_dn = apf_xasprintf("CN=NTAuthCertificates,%s", pks);
	apf_ctx_step(ctx, "reading %s on %s", es_dn, s->dc_name);
	rc = apf_ldap_search(s->ldap, es_dn, APF_LDAP_SCOPE_ONE, "(objectClass=pKIEnrollmentService)", es_attrs, 100, &cas, &st);
	if (rc < 0 && rc != -ENOENT) {
		f = apf_report(ctx, APF_ERROR, "CA_ENTERPRISE_AD_UNAVAILABLE", "Could not read %s", es_dn);
		apf_evidence(f, "base", "%s", es_dn);
		apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
		goto out;
	}
	if (!cas || cas->n_entries == 0) {
		f = apf_report(ctx, APF_FAIL, "CA_NO_ENTERPRISE_CA", "No enterprise CA is registered in AD");
		apf_evidence(f, "base", "%s", es_dn);
		apf_evidence(f, "filter", "(objectClass=pKIEnrollmentService), one level");
		apf_evidence(f, "dc", "%s", s->dc_name);
		apf_evidence(f, "entries", "0");
		goto out;
	}
	apf_ldap_status_clear(&st);
	apf_ctx_step(ctx, "reading %s", nt_dn);
	rc = apf_ldap_search(s->ldap, nt_dn, APF_LDAP_SCOPE_BASE, "(objectClass=*)", ntauth_attrs, 1, &nt, &st);
	/* A missing NTAuthCertificates object means no CA is in it; a failed read
	 * means we do not know, which must not read as "not in NTAuth". */
	nt_unreadable = rc < 0 && rc != -ENOENT;
	if (nt_unreadable) {
		f = apf_report(ctx, APF_ERROR, "CA_ENTERPRISE_AD_UNAVAILABLE", "Could not read %s", nt_dn);
		apf_evidence(f, "base", "%s", nt_dn);
		apf_evidence(f, "ldap_result", "%d (%s)", st.rc, st.rc_text ? st.rc_text : "?");
	}

	for (size_t i = 0; i < cas->n_entries; i++) {
		const struct apf_ldap_entry *e = &cas->entries[i];
		const char *cn = apf_ldap_entry_str(e, "cn");
		const struct apf_ldap_attr *tmpl = apf_ldap_entry_attr(e, "certificateTemplates");
		struct apf_cert *c;
		char *offered = NULL;

		if (!cn)
			cn = e->dn;
		for (size_t t = 0; t < cfg->ca.templates.n; t++) {
			if (!apf_ldap_attr_has(tmpl, cfg->ca.templates.v[t]))
				continue;
			char *n = apf_xasprintf("%s%s%s", offered ? offered : "", offered ? ", " : "", cfg->ca.templates.v[t]);
			free(offered);
			offered = n;
		}
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_CA_FOUND), cn);
		/* A CA issues only the templates it publishes (MS-WCCE 3.2.2.6.2.1.4): one that
		 * publishes no AMT template (often a decommissioned CA's leftover object) has no
		 * part in provisioning, and its health must not decide the verdict. */
		if (!offered) {
			char *all = apf_ldap_attr_join(tmpl);

			f = apf_report(ctx, APF_INFO, "CA_OFFERS_NO_AMT_TEMPLATE", "CA %s publishes none of the AMT templates", cn);
			apf_evidence(f, "dn", "%s", e->dn);
			apf_evidence(f, "certificateTemplates", "%s", *all ? all : "(none)");
			free(all);
			continue;
		}
		c = newest_cert(apf_ldap_entry_attr(e, "cACertificate"));
		check_host(ctx, e, cn);
		check_ca_cert(ctx, e, cn, c);
		any_offered = true;
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_CA_OFFERING), cn);
		f = apf_report(ctx, APF_PASS, "CA_TEMPLATES_OFFERED", "CA %s publishes %s", cn, offered);
		apf_evidence(f, "dn", "%s", e->dn);
		apf_evidence(f, "certificateTemplates", "%s", offered);
		free(offered);

		if (c && !nt_unreadable) {
			if (nt && nt->n_entries && sha1_in(apf_ldap_entry_attr(&nt->entries[0], "cACertificate"), c->sha1_hex)) {
				f = apf_report(ctx, APF_PASS, "CA_IN_NTAUTH", "CA %s is in NTAuthCertificates", cn);
			} else {
				f = apf_report(ctx, APF_WARN, "CA_NOT_IN_NTAUTH", "CA %s is not in NTAuthCertificates", cn);
				if (!nt || !nt->n_entries)
					apf_evidence(f, "ntauth_read", "%s does not exist", nt_dn);
			}
			apf_evidence(f, "ca_sha1", "%s", c->sha1_hex);
			apf_evidence(f, "ntauth_dn", "%s", nt_dn);
			apf_evidence(f, "ntauth_certificates", "%zu",
				     nt && nt->n_entries && apf_ldap_entry_attr(&nt->entries[0], "cACertificate")
					     ? apf_ldap_entry_attr(&nt->entries[0], "cACertificate")->n_vals
					     : 0);
		}
		apf_cert_free(c);
	}
	if (!any_offered) {
		f = apf_report(ctx, APF_FAIL, "CA_TEMPLATES_NOT_OFFERED", "None of the %zu enterprise CA(s) publishes the configured AMT templates",
			       cas->n_entries);
		apf_evidence(f, "templates", "%zu configured in [ca] templates", cfg->ca.templates.n);
		for (size_t i = 0; i < cas->n_entries; i++) {
			char key[48];
			char *v = apf_ldap_attr_join(apf_ldap_entry_attr(&cas->entries[i], "certificateTemplates"));

			snprintf(key, sizeof(key), i ? "enrollment_service_%zu" : "enrollment_service", i + 1);
			apf_evidence(f, key, "%s publishes: %s", cas->entries[i].dn, *v ? v : "(none)");
			free(v);
		}
	}
out:
	apf_ldap_status_clear(&st);
	apf_ldap_result_free(cas);
	apf_ldap_result_free(nt);
	apf_ad_session_free(s);
	free(why);
	free(pks);
	free(es_dn);
	free(nt_dn);
	return 0;
}

/* Only [ca] templates says the site requests AMT certificates from a Microsoft CA:
 * host-based activation servers need none, so without it there is nothing to hold the CAs to. */
static const char *const requires_keys[] = {"ca.templates", NULL};
static const char *const requires_checks[] = {"ad.ldap", NULL};
/* src/ad.c reads their facts (DCs, client DNS servers). */
static const char *const after[] = {"dns.ad-records", "dhcp.options", NULL};

const struct apf_check apf_check_ca_enterprise = {
	.id = "ca.enterprise",
	.title = "Microsoft enterprise CAs in Active Directory",
	.summary = "Reads the enterprise CAs (pKIEnrollmentService) from AD's configuration partition: the AMT "
		   "templates ([ca] templates) are published, and each CA publishing them resolves in the clients' DNS, "
		   "accepts RPC (135), has a CA certificate valid with a year to spare and is in NTAuthCertificates; web "
		   "enrollment answers when configured.",
	.requires_keys = requires_keys,
	.requires_checks = requires_checks,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 20000,
	.codes = codes,
	.run = run,
};
