/* SPDX-License-Identifier: MIT */
/*
 * ad.ldap: the domain controllers the AMT setup server and the Microsoft CA
 * depend on. For every DC: LDAP ports, the anonymous rootDSE, the clock,
 * StartTLS and LDAPS with certificate verification, and a bind with the
 * checker's service account.
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
#include "net/ldap.h"
#include "net/tcp.h"
#include "pki.h"

/* Kerberos' default tolerance (and the limit beyond which certificate validity windows
 * start to disagree between the setup server and the DC). */
#define SKEW_FAIL_S 300
#define SKEW_WARN_S 60
#define CERT_EXPIRY_WARN_DAYS 30
#define OP_CAP_MS 5000

static const struct apf_code codes[] = {
	{"AD_DNS_TIMEOUT", APF_ERROR, "No DNS server answered the domain-controller lookup, so the DCs could not be found",
	 "Check that the DNS servers in [dns] servers answer from this host (UDP and TCP 53)"},
	{"AD_NO_DNS_SERVER", APF_ERROR,
	 "No client DNS server is known ([dns] servers is empty and dhcp.options learned no option 6), so domain "
	 "controller names could not be looked up the way AMT clients and the setup server look them up",
	 "Set [dns] servers to the DNS servers of the AMT client segment, or run dhcp.options with this check; IP "
	 "addresses in [ad] domain_controllers need no DNS"},
	{"AD_DC_DISCOVERY_FAILED", APF_FAIL,
	 "The DC locator SRV record _ldap._tcp.dc._msdcs.<domain> has no usable answer in the DNS the clients use; the setup server and AMT's Kerberos cannot find a DC",
	 "Publish the DC SRV records in the zone the clients use (restart Netlogon on a DC, or add them to the delegated _msdcs zone), or list the DCs in [ad] domain_controllers"},
	{"AD_DC_UNRESOLVED", APF_FAIL, "A domain controller's host name has no address in the DNS the clients use",
	 "Add the DC's A record to the zone served by the clients' DNS servers"},
	{"AD_DC_UNREACHABLE", APF_ERROR, "The domain controller does not accept TCP connections on its LDAP port",
	 "Check that the DC is running and that TCP 389 and 636 are allowed from this subnet"},
	{"AD_PORTS_OPEN", APF_PASS, "The DC accepts connections on LDAP (389) and LDAPS (636)", NULL},
	{"AD_LDAPS_PORT_CLOSED", APF_WARN,
	 "The DC does not accept LDAPS (636): it has no usable server certificate, or a firewall blocks it",
	 "Enrol the DC for a Domain Controller / Kerberos Authentication certificate and allow TCP 636"},
	{"AD_ROOTDSE_OK", APF_PASS, "The DC answered the anonymous rootDSE read", NULL},
	{"AD_ROOTDSE_FAILED", APF_ERROR, "The DC accepted the connection but did not return its rootDSE",
	 "Check the DC's LDAP service (dcdiag /test:services) and any LDAP proxy or firewall in between"},
	{"AD_NOT_A_DC", APF_FAIL, "The server's rootDSE has no naming contexts: it is not an Active Directory domain controller",
	 "Point [ad] domain_controllers (or the DC SRV records) at real domain controllers"},
	{"AD_DOMAIN_MISMATCH", APF_WARN, "The DC serves a different domain than [ad] domain",
	 "Correct [ad] domain, or the SRV records that point at this DC"},
	{"AD_CLOCK_OK", APF_PASS, "The DC's clock agrees with this host's", NULL},
	{"AD_CLOCK_SKEW_WARN", APF_WARN, "The DC's clock differs from this host's by more than a minute",
	 "Synchronise the DC (w32tm /resync; the PDC emulator from a reliable NTP source) and this host"},
	{"AD_CLOCK_SKEW", APF_FAIL,
	 "The DC's clock differs from this host's by more than five minutes: Kerberos rejects tickets and freshly issued certificates look not-yet-valid",
	 "Fix time synchronisation: the PDC emulator from a reliable NTP source, members via w32tm /resync"},
	{"AD_CLOCK_UNKNOWN", APF_INFO, "The DC did not publish a readable currentTime, so the clock was not compared", NULL},
	{"AD_TLS_OK", APF_PASS, "TLS to the DC works and its certificate verifies against the CA bundle and the DC's name", NULL},
	{"AD_TLS_UNVERIFIED", APF_WARN,
	 "The DC's TLS certificate does not verify (untrusted issuer, wrong name, or expired): clients that verify refuse it",
	 "Set [ad] ca_bundle to the CA that issued the DC certificates, or renew the DC certificate with the DC's DNS name"},
	{"AD_TLS_FAILED", APF_WARN, "The TLS handshake (StartTLS or LDAPS) with the DC failed",
	 "Give the DC a server certificate (Domain Controller Authentication / Kerberos Authentication template) and check that it still has its private key"},
	{"AD_TLS_CERT_EXPIRING", APF_WARN, "The DC's TLS certificate expires within 30 days",
	 "Renew the DC certificate (autoenrolment normally does; check the DC's certificate store)"},
	{"AD_BIND_OK", APF_PASS, "The service account authenticated", NULL},
	{"AD_BIND_FAILED", APF_ERROR,
	 "The DC refused the checker's service account, so the CA objects cannot be read (a problem of the checker's account, not yet of AMT provisioning)",
	 "Check [ad] bind_dn and the password file; decode the AD data code in the evidence"},
	{"AD_BIND_NOT_ATTEMPTED", APF_ERROR, "No bind was attempted (no password, no verified TLS, or TLS failed)",
	 "Set [ad] bind_password_file (or AMT_PREFLIGHT_BIND_PASSWORD) and [ad] ca_bundle"},
	{"AD_BIND_NOT_CONFIGURED", APF_WARN, "No service account is configured and no Kerberos ticket is at hand: the ca.* checks cannot read AD",
	 "Set [ad] bind_dn to a read-only domain account, or run with a Kerberos ticket (kinit)"},
	{"AD_BIND_CLEARTEXT", APF_WARN, "[ad] tls = none: the password was sent without encryption",
	 "Set [ad] tls = starttls (or ldaps) and [ad] ca_bundle"},
	{"AD_PKI_UNREADABLE", APF_ERROR, "The service account cannot read the Public Key Services container",
	 "Use an account of Domain Users (which can read the configuration partition by default), or grant it read access"},
	{"AD_TOO_FEW_DCS", APF_WARN, "Fewer than two domain controllers answered: one failure stops AMT provisioning",
	 "Run at least two DCs, published in the DC SRV records"},
	{0},
};

/* Shared state of one run through the DCs. */
struct run_state {
	const struct apf_config *cfg;
	enum apf_ldap_tls mode;
	char *password;    /* secret: never in evidence */
	bool can_bind;     /* a credential is at hand */
	bool use_gssapi;
	size_t answered;
};

static const char *mode_name(enum apf_ldap_tls t)
{
	return t == APF_LDAP_TLS_LDAPS ? "LDAPS" : t == APF_LDAP_TLS_STARTTLS ? "StartTLS" : "plain LDAP";
}

static void ev_status(struct apf_finding *f, const struct apf_ldap_status *st)
{
	apf_evidence(f, "ldap_result", "%d (%s)", st->rc, st->rc_text ? st->rc_text : "?");
	apf_evidence(f, "meaning", "%s", apf_ldap_rc_explain(st->rc));
	if (st->diag)
		apf_evidence(f, "diagnostic", "%s", st->diag);
	if (st->has_ad_data) {
		const char *t = apf_ldap_ad_data_text(st->ad_data);
		apf_evidence(f, "ad_data", "%x (%s)", st->ad_data, t ? t : "unknown AD code");
	}
}

static void ev_dc(struct apf_finding *f, const struct apf_ad_dc *dc)
{
	apf_evidence(f, "dc", "%s", dc->name);
	if (dc->ip)
		apf_evidence(f, "address", "%s", dc->ip);
}

static void report_rootdse(struct apf_ctx *ctx, const struct run_state *rs, const struct apf_ad_dc *dc,
			   const struct apf_ldap_entry *e, char **dns_host_out)
{
	const char *dnc = apf_ldap_entry_str(e, "defaultNamingContext");
	const char *cnc = apf_ldap_entry_str(e, "configurationNamingContext");
	const char *host = apf_ldap_entry_str(e, "dnsHostName");
	const char *now_s = apf_ldap_entry_str(e, "currentTime");
	const struct apf_ldap_attr *ver = apf_ldap_entry_attr(e, "supportedLDAPVersion");
	struct apf_finding *f;
	time_t dc_time, local = time(NULL);
	char vers[32] = "";

	for (size_t i = 0; ver && i < ver->n_vals && strlen(vers) < sizeof(vers) - 4; i++)
		snprintf(vers + strlen(vers), sizeof(vers) - strlen(vers), "%s%.2s", i ? "," : "",
			 (const char *)ver->vals[i].data);
	if (!dnc && !cnc) {
		f = apf_report(ctx, APF_FAIL, "AD_NOT_A_DC", "%s answers LDAP but its rootDSE names no naming contexts", dc->name);
		ev_dc(f, dc);
		apf_evidence(f, "query", "base \"\" (objectClass=*), anonymous");
		return;
	}
	apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_AD_DC_ANSWERED), dc->name);
	f = apf_report(ctx, APF_PASS, "AD_ROOTDSE_OK", "%s answered the anonymous rootDSE read", dc->name);
	ev_dc(f, dc);
	apf_evidence(f, "query", "base \"\" (objectClass=*), anonymous, port %u", (unsigned int)dc->port);
	apf_evidence(f, "defaultNamingContext", "%s", dnc ? dnc : "(absent)");
	apf_evidence(f, "configurationNamingContext", "%s", cnc ? cnc : "(absent)");
	apf_evidence(f, "dnsHostName", "%s", host ? host : "(absent)");
	apf_evidence(f, "supportedLDAPVersion", "%s", *vers ? vers : "(absent)");
	apf_evidence(f, "currentTime", "%s", now_s ? now_s : "(absent)");
	if (host)
		*dns_host_out = apf_xstrdup(host);

	if (rs->cfg->ad.domain && dnc) {
		char *want = apf_ad_domain_to_dn(rs->cfg->ad.domain);
		if (strcasecmp(want, dnc) != 0) {
			f = apf_report(ctx, APF_WARN, "AD_DOMAIN_MISMATCH", "%s serves %s, not %s", dc->name, dnc, want);
			ev_dc(f, dc);
			apf_evidence(f, "defaultNamingContext", "%s", dnc);
			apf_evidence(f, "expected", "%s (from [ad] domain = %s)", want, rs->cfg->ad.domain);
		}
		free(want);
	}

	if (!now_s || apf_ldap_parse_time(now_s, &dc_time) < 0) {
		f = apf_report(ctx, APF_INFO, "AD_CLOCK_UNKNOWN", "%s published no readable currentTime", dc->name);
		ev_dc(f, dc);
		apf_evidence(f, "currentTime", "%s", now_s ? now_s : "(absent)");
		return;
	}
	{
		long long skew = (long long)dc_time - (long long)local;
		long long abs_skew = skew < 0 ? -skew : skew;
		char b1[32], b2[32];

		if (abs_skew > SKEW_FAIL_S)
			f = apf_report(ctx, APF_FAIL, "AD_CLOCK_SKEW", "%s's clock is %lld s %s this host's (over 5 minutes)",
				       dc->name, abs_skew, skew > 0 ? "ahead of" : "behind");
		else if (abs_skew > SKEW_WARN_S)
			f = apf_report(ctx, APF_WARN, "AD_CLOCK_SKEW_WARN", "%s's clock is %lld s %s this host's",
				       dc->name, abs_skew, skew > 0 ? "ahead of" : "behind");
		else
			f = apf_report(ctx, APF_PASS, "AD_CLOCK_OK", "%s's clock is within %lld s of this host's", dc->name,
				       abs_skew);
		ev_dc(f, dc);
		apf_evidence(f, "dc_time", "%s", apf_pki_time_str(dc_time, b1, sizeof(b1)));
		apf_evidence(f, "local_time", "%s", apf_pki_time_str(local, b2, sizeof(b2)));
		apf_evidence(f, "skew_seconds", "%lld", skew);
		apf_evidence(f, "limits", "warn > %d s, fail > %d s (Kerberos default tolerance)", SKEW_WARN_S, SKEW_FAIL_S);
	}
}

/* Opens a TLS connection in `mode` and reports what the handshake showed. Returns the
 * open handle (caller closes) or NULL. */
static struct apf_ldap *tls_probe(struct apf_ctx *ctx, const struct run_state *rs, const struct apf_ad_dc *dc,
				  enum apf_ldap_tls mode, const char *cert_name)
{
	struct apf_ldap_opts o = {
		.ip = dc->ip,
		.port = mode == APF_LDAP_TLS_LDAPS ? 636 : dc->port,
		.host_name = cert_name,
		.tls = mode,
		.ca_file = rs->cfg->ad.ca_bundle,
		.timeout_ms = apf_ad_op_timeout(ctx, OP_CAP_MS),
		.deadline_ms = apf_ctx_deadline_ms(ctx),
	};
	struct apf_ldap_status st = {0};
	struct apf_ldap *l = NULL;
	const struct apf_ldap_tls_info *t;
	struct apf_finding *f;
	char buf[32];
	int rc;

	apf_ctx_step(ctx, "%s handshake with %s (%s)", mode_name(mode), dc->name, dc->ip);
	rc = apf_ldap_open(&o, &l, &st);
	if (rc < 0) {
		f = apf_report(ctx, APF_WARN, "AD_TLS_FAILED", "%s with %s failed", mode_name(mode), dc->name);
		ev_dc(f, dc);
		apf_evidence(f, "port", "%u", (unsigned int)o.port);
		apf_evidence(f, "mode", "%s", mode_name(mode));
		ev_status(f, &st);
		if (rc == -EINVAL && rs->cfg->ad.ca_bundle)
			apf_remedy(f, "Check that [ad] ca_bundle (%s) is a readable PEM file", rs->cfg->ad.ca_bundle);
		apf_ldap_status_clear(&st);
		return NULL;
	}
	apf_ldap_status_clear(&st);
	t = apf_ldap_tls(l);
	if (t->verified)
		f = apf_report(ctx, APF_PASS, "AD_TLS_OK", "%s with %s works and the certificate verifies", mode_name(mode),
			       dc->name);
	else
		f = apf_report(ctx, APF_WARN, "AD_TLS_UNVERIFIED", "%s with %s works but the certificate does not verify: %s",
			       mode_name(mode), dc->name, t->verify_error ? t->verify_error : "?");
	ev_dc(f, dc);
	apf_evidence(f, "mode", "%s", mode_name(mode));
	apf_evidence(f, "port", "%u", (unsigned int)o.port);
	apf_evidence(f, "protocol", "%s", t->protocol ? t->protocol : "?");
	apf_evidence(f, "subject", "%s", t->peer_subject ? t->peer_subject : "?");
	apf_evidence(f, "issuer", "%s", t->peer_issuer ? t->peer_issuer : "?");
	apf_evidence(f, "sha1", "%s", t->peer_sha1 ? t->peer_sha1 : "?");
	apf_evidence(f, "not_after", "%s", t->peer_not_after ? apf_pki_time_str(t->peer_not_after, buf, sizeof(buf)) : "?");
	apf_evidence(f, "expected_name", "%s", cert_name ? cert_name : "(not checked: DC known by address only)");
	apf_evidence(f, "ca_bundle", "%s", rs->cfg->ad.ca_bundle ? rs->cfg->ad.ca_bundle : "(libldap/system default)");
	if (!t->verified)
		apf_evidence(f, "verify_result", "%ld (%s)", t->verify_code, t->verify_error ? t->verify_error : "?");
	if (t->peer_not_after && t->peer_not_after > time(NULL) &&
	    t->peer_not_after - time(NULL) < (time_t)CERT_EXPIRY_WARN_DAYS * 86400) {
		f = apf_report(ctx, APF_WARN, "AD_TLS_CERT_EXPIRING", "%s's certificate expires on %s", dc->name,
			       apf_pki_time_str(t->peer_not_after, buf, sizeof(buf)));
		ev_dc(f, dc);
		apf_evidence(f, "subject", "%s", t->peer_subject ? t->peer_subject : "?");
		apf_evidence(f, "not_after", "%s", buf);
	}
	return l;
}

static void do_bind(struct apf_ctx *ctx, struct run_state *rs, const struct apf_ad_dc *dc, struct apf_ldap *l,
		    const char *config_nc)
{
	struct apf_ldap_status st = {0};
	struct apf_ldap_result *res = NULL;
	struct apf_finding *f;
	const char *method;
	int rc;

	if (rs->use_gssapi) {
		method = "SASL GSSAPI";
		apf_ctx_step(ctx, "SASL GSSAPI bind on %s", dc->name);
		rc = apf_ldap_bind_gssapi(l, &st);
	} else {
		method = "simple";
		apf_ctx_step(ctx, "bind as %s on %s", rs->cfg->ad.bind_dn, dc->name);
		rc = apf_ldap_bind_simple(l, rs->cfg->ad.bind_dn, rs->password, rs->mode == APF_LDAP_TLS_NONE, &st);
	}
	if (rc < 0) {
		f = apf_report(ctx, APF_ERROR, "AD_BIND_FAILED", "%s refused the %s bind%s%s", dc->name, method,
			       rs->use_gssapi ? "" : " as ", rs->use_gssapi ? "" : rs->cfg->ad.bind_dn);
		ev_dc(f, dc);
		if (!rs->use_gssapi)
			apf_evidence(f, "bind_dn", "%s", rs->cfg->ad.bind_dn);
		apf_evidence(f, "method", "%s over %s", method, mode_name(rs->mode));
		ev_status(f, &st);
		if (st.has_ad_data && st.ad_data == 0x52e)
			apf_remedy(f, "The account exists but the password is wrong: update the file named by [ad] bind_password_file (or AMT_PREFLIGHT_BIND_PASSWORD)");
		else if (st.has_ad_data && st.ad_data == 0x525)
			apf_remedy(f, "No such account: check [ad] bind_dn (a full DN or user@domain UPN)");
		else if (st.has_ad_data && (st.ad_data == 0x532 || st.ad_data == 0x773))
			apf_remedy(f, "Set a new password on the service account (and mark it 'password never expires' if policy allows), then update the password file");
		else if (st.has_ad_data && (st.ad_data == 0x533 || st.ad_data == 0x701 || st.ad_data == 0x775))
			apf_remedy(f, "Enable / unlock / extend the service account in Active Directory Users and Computers");
		else if (rc == -ENOTSUP)
			apf_remedy(f, "Install the SASL GSSAPI module (libsasl2-modules-gssapi-mit) or configure [ad] bind_dn with a password");
		else if (st.rc == 8 /* strongerAuthRequired */)
			apf_remedy(f, "The DC requires signing or TLS for binds: set [ad] tls = starttls or ldaps");
		goto out;
	}
	f = apf_report(ctx, APF_PASS, "AD_BIND_OK", "%s accepted the %s bind%s%s", dc->name, method,
		       rs->use_gssapi ? "" : " as ", rs->use_gssapi ? "" : rs->cfg->ad.bind_dn);
	ev_dc(f, dc);
	if (!rs->use_gssapi)
		apf_evidence(f, "bind_dn", "%s", rs->cfg->ad.bind_dn);
	apf_evidence(f, "method", "%s over %s", method, mode_name(rs->mode));
	if (rs->mode == APF_LDAP_TLS_NONE && !rs->use_gssapi) {
		f = apf_report(ctx, APF_WARN, "AD_BIND_CLEARTEXT", "The password for %s was sent to %s without TLS",
			       rs->cfg->ad.bind_dn, dc->name);
		ev_dc(f, dc);
		apf_evidence(f, "tls", "none ([ad] tls)");
	}
	/* What the ca.* checks will read; reading it now tells an access problem from a CA problem. */
	if (config_nc) {
		char *pks = apf_ad_pks_dn(config_nc);
		static const char *const attrs[] = {"cn", NULL};

		apf_ldap_status_clear(&st);
		rc = apf_ldap_search(l, pks, APF_LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, &res, &st);
		if (rc == -EACCES) {
			f = apf_report(ctx, APF_ERROR, "AD_PKI_UNREADABLE", "The service account cannot read %s on %s", pks,
				       dc->name);
			ev_dc(f, dc);
			apf_evidence(f, "dn", "%s", pks);
			ev_status(f, &st);
		}
		free(pks);
	}
out:
	apf_ldap_result_free(res);
	apf_ldap_status_clear(&st);
}

/* Checks one DC; true when it answered LDAP (rootDSE read). */
static bool check_dc(struct apf_ctx *ctx, struct run_state *rs, const struct apf_ad_dc *dc)
{
	static const char *const rootdse_attrs[] = {"defaultNamingContext", "configurationNamingContext", "dnsHostName",
						    "supportedLDAPVersion", "currentTime", NULL};
	struct apf_ldap_opts o = {.ip = dc->ip, .port = dc->port, .tls = APF_LDAP_TLS_NONE};
	struct apf_ldap_status st = {0};
	struct apf_ldap_result *res = NULL;
	struct apf_ldap *plain = NULL, *starttls = NULL, *ldaps = NULL, *bind_on = NULL;
	struct apf_finding *f;
	char *dns_host = NULL, *config_nc = NULL;
	const char *cert_name;
	uint64_t rtt389 = 0, rtt636 = 0;
	int rc389, rc636, rc;
	bool answered = false;

	apf_ctx_step(ctx, "TCP %s:%u and 636", dc->ip, (unsigned int)dc->port);
	rc389 = apf_tcp_probe(dc->ip, dc->port, apf_ad_op_timeout(ctx, OP_CAP_MS), &rtt389);
	if (rc389 < 0) {
		f = apf_report(ctx, APF_ERROR, "AD_DC_UNREACHABLE", "%s (%s) does not accept connections on TCP %u: %s",
			       dc->name, dc->ip, (unsigned int)dc->port, apf_tcp_strerror(rc389));
		ev_dc(f, dc);
		apf_evidence(f, "port", "%u", (unsigned int)dc->port);
		apf_evidence(f, "result", "%s", apf_tcp_strerror(rc389));
		apf_evidence(f, "source", "%s", dc->source);
		return false;
	}
	rc636 = apf_tcp_probe(dc->ip, 636, apf_ad_op_timeout(ctx, OP_CAP_MS), &rtt636);
	if (rc636 == 0) {
		f = apf_report(ctx, APF_PASS, "AD_PORTS_OPEN", "%s accepts LDAP (%u) and LDAPS (636)", dc->name,
			       (unsigned int)dc->port);
	} else {
		f = apf_report(ctx, APF_WARN, "AD_LDAPS_PORT_CLOSED", "%s does not accept LDAPS on TCP 636: %s", dc->name,
			       apf_tcp_strerror(rc636));
	}
	ev_dc(f, dc);
	apf_evidence(f, "source", "%s", dc->source);
	apf_evidence(f, "tcp_389", "open (%llu ms)", (unsigned long long)rtt389);
	apf_evidence(f, "tcp_636", "%s", rc636 == 0 ? "open" : apf_tcp_strerror(rc636));

	o.timeout_ms = apf_ad_op_timeout(ctx, OP_CAP_MS);
	o.deadline_ms = apf_ctx_deadline_ms(ctx);
	apf_ctx_step(ctx, "rootDSE of %s", dc->name);
	rc = apf_ldap_open(&o, &plain, &st);
	if (rc == 0) {
		apf_ldap_status_clear(&st);
		rc = apf_ldap_search(plain, "", APF_LDAP_SCOPE_BASE, "(objectClass=*)", rootdse_attrs, 1, &res, &st);
	}
	if (rc < 0 || !res || res->n_entries == 0) {
		f = apf_report(ctx, APF_ERROR, "AD_ROOTDSE_FAILED", "%s did not return its rootDSE", dc->name);
		ev_dc(f, dc);
		apf_evidence(f, "query", "base \"\" (objectClass=*), anonymous, port %u", (unsigned int)dc->port);
		ev_status(f, &st);
		goto out;
	}
	answered = true;
	report_rootdse(ctx, rs, dc, &res->entries[0], &dns_host);
	if (apf_ldap_entry_str(&res->entries[0], "configurationNamingContext"))
		config_nc = apf_xstrdup(apf_ldap_entry_str(&res->entries[0], "configurationNamingContext"));

	/* The name the certificate must carry: the configured/SRV name, or the DC's own
	 * dnsHostName when it was given as an address. */
	cert_name = dc->ip && strcmp(dc->name, dc->ip) != 0 ? dc->name : dns_host;
	starttls = tls_probe(ctx, rs, dc, APF_LDAP_TLS_STARTTLS, cert_name);
	if (rc636 == 0)
		ldaps = tls_probe(ctx, rs, dc, APF_LDAP_TLS_LDAPS, cert_name);

	if (!rs->can_bind)
		goto out;
	bind_on = rs->mode == APF_LDAP_TLS_STARTTLS ? starttls : rs->mode == APF_LDAP_TLS_LDAPS ? ldaps : plain;
	if (!bind_on) {
		f = apf_report(ctx, APF_ERROR, "AD_BIND_NOT_ATTEMPTED", "No bind on %s: the configured %s connection failed",
			       dc->name, mode_name(rs->mode));
		ev_dc(f, dc);
		apf_evidence(f, "tls", "%s ([ad] tls)", mode_name(rs->mode));
		goto out;
	}
	if (rs->mode != APF_LDAP_TLS_NONE && !apf_ldap_tls(bind_on)->verified) {
		f = apf_report(ctx, APF_ERROR, "AD_BIND_NOT_ATTEMPTED",
			       "No bind on %s: its certificate did not verify, and the password is only sent to a verified server",
			       dc->name);
		ev_dc(f, dc);
		apf_evidence(f, "verify_result", "%s", apf_ldap_tls(bind_on)->verify_error ? apf_ldap_tls(bind_on)->verify_error : "?");
		apf_remedy(f, "Set [ad] ca_bundle to the PEM file of the CA that issued the DC certificates");
		goto out;
	}
	do_bind(ctx, rs, dc, bind_on, config_nc);
out:
	apf_ldap_result_free(res);
	apf_ldap_status_clear(&st);
	apf_ldap_close(plain);
	apf_ldap_close(starttls);
	apf_ldap_close(ldaps);
	free(dns_host);
	free(config_nc);
	return answered;
}

static int run(struct apf_ctx *ctx)
{
	struct run_state rs = {.cfg = apf_cfg(ctx)};
	struct apf_ad_dcs dcs = {0};
	struct apf_finding *f;
	char *perr = NULL;
	int rc;

	rs.mode = apf_ad_tls_mode(rs.cfg);
	if (rs.cfg->ad.domain_controllers.n == 0 && !(rs.cfg->ad.domain && *rs.cfg->ad.domain)) {
		apf_skip(ctx, "neither [ad] domain nor [ad] domain_controllers is set");
		return 0;
	}

	/* The credential first: one finding for the whole run, not one per DC. */
	if (rs.cfg->ad.bind_dn && *rs.cfg->ad.bind_dn) {
		rc = apf_secret_read(ctx, "ad.bind_password", &rs.password, &perr);
		if (rc == 0) {
			rs.can_bind = true;
		} else {
			f = apf_report(ctx, APF_ERROR, "AD_BIND_NOT_ATTEMPTED", "No password for %s: %s", rs.cfg->ad.bind_dn,
				       rc == -ENOENT ? "neither [ad] bind_password_file nor AMT_PREFLIGHT_BIND_PASSWORD is set"
						     : (perr ? perr : "cannot read the password file"));
			apf_evidence(f, "bind_dn", "%s", rs.cfg->ad.bind_dn);
			if (rs.cfg->ad.bind_password_file)
				apf_evidence(f, "bind_password_file", "%s", rs.cfg->ad.bind_password_file);
		}
		free(perr);
	} else if (apf_ldap_have_krb5_ticket()) {
		rs.can_bind = true;
		rs.use_gssapi = true;
	} else {
		f = apf_report(ctx, APF_WARN, "AD_BIND_NOT_CONFIGURED", "No service account configured and no Kerberos ticket at hand");
		apf_evidence(f, "bind_dn", "(not set)");
	}

	apf_ctx_step(ctx, "finding domain controllers");
	apf_ad_find_dcs(ctx, apf_ad_op_timeout(ctx, 3000), &dcs);
	if (dcs.n == 0) {
		if (dcs.srv_timeout && dcs.srv_rc == -EDESTADDRREQ) {
			f = apf_report(ctx, APF_ERROR, "AD_NO_DNS_SERVER", "No client DNS server is known to look up the DCs with");
		} else if (dcs.srv_timeout) {
			f = apf_report(ctx, APF_ERROR, "AD_DNS_TIMEOUT", "No DNS server answered the DC lookup");
		} else {
			f = apf_report(ctx, APF_FAIL, "AD_DC_DISCOVERY_FAILED", "No domain controller found for %s",
				       rs.cfg->ad.domain ? rs.cfg->ad.domain : "?");
		}
		apf_evidence(f, "query", "%s SRV", dcs.srv_query ? dcs.srv_query : "(none)");
		apf_evidence(f, "result", "%s", dcs.srv_error ? dcs.srv_error : "?");
		goto out;
	}
	for (size_t i = 0; i < dcs.n; i++) {
		const struct apf_ad_dc *dc = &dcs.v[i];

		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_AD_DC_CHECKED), dc->name);
		if (!dc->ip) {
			enum apf_status st = apf_ad_unresolved_status(dc->resolve_rc);
			const char *code = "AD_DNS_TIMEOUT";

			if (st != APF_ERROR)
				code = "AD_DC_UNRESOLVED";
			else if (dc->resolve_rc == -EDESTADDRREQ)
				code = "AD_NO_DNS_SERVER";
			f = apf_report(ctx, st, code, "%s has no address: %s", dc->name,
				       dc->resolve_error ? dc->resolve_error : "?");
			apf_evidence(f, "query", "%s A", dc->name);
			apf_evidence(f, "result", "%s", dc->resolve_error ? dc->resolve_error : "?");
			apf_evidence(f, "source", "%s", dc->source);
			continue;
		}
		if (check_dc(ctx, &rs, dc))
			rs.answered++;
	}
	if (rs.answered < 2 && rs.answered > 0) {
		if (rs.answered == dcs.n)
			f = apf_report(ctx, APF_WARN, "AD_TOO_FEW_DCS",
				       "Only one domain controller is known and it answered: no second DC to fall back on");
		else
			f = apf_report(ctx, APF_WARN, "AD_TOO_FEW_DCS", "Only %zu of %zu domain controllers answered LDAP",
				       rs.answered, dcs.n);
		apf_evidence(f, "dcs_tried", "%zu", dcs.n);
		apf_evidence(f, "dcs_answered", "%zu", rs.answered);
		if (dcs.srv_query)
			apf_evidence(f, "query", "%s SRV", dcs.srv_query);
	}
out:
	apf_secret_free(rs.password);
	apf_ad_dcs_clear(&dcs);
	return 0;
}

static const char *const after[] = {"dns.ad-records", "dhcp.options", NULL};

const struct apf_check apf_check_ad_ldap = {
	.id = "ad.ldap",
	.title = "Domain controllers: LDAP, TLS, bind, clock",
	.summary = "Finds the domain controllers through the DNS the clients use and checks on each: LDAP/LDAPS ports, "
		   "the rootDSE, the clock (Kerberos and certificate validity break beyond 5 minutes), StartTLS and LDAPS "
		   "certificates, and a bind with the checker's service account; the Microsoft CA checks read AD through it.",
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 30000,
	.codes = codes,
	.run = run,
};
