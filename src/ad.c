/* SPDX-License-Identifier: MIT */
/* Active Directory plumbing for ad.ldap and ca.* (see ad.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "ad.h"
#include "dnscheck.h"
#include "net/dns.h"
#include "result.h"

#define APF_AD_MAX_DCS 16

static bool is_ip_literal(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

unsigned int apf_ad_op_timeout(const struct apf_ctx *ctx, unsigned int cap_ms)
{
	unsigned int left = apf_ctx_remaining_ms(ctx);

	if (left > cap_ms)
		left = cap_ms;
	return left ? left : 1;
}

static char *strip_dot(const char *name)
{
	char *r = apf_xstrdup(name);
	size_t n = strlen(r);

	if (n > 1 && r[n - 1] == '.')
		r[n - 1] = '\0';
	return r;
}

int apf_ad_resolve(struct apf_ctx *ctx, const char *name, unsigned int timeout_ms, char **ip_out, char **server_out,
		   char **err_out)
{
	return apf_dnscheck_resolve(ctx, name, timeout_ms, ip_out, server_out, err_out);
}

struct apf_fetch_opts apf_ad_fetch_opts(struct apf_ctx *ctx, unsigned int timeout_ms, size_t max_bytes,
					struct apf_ad_session *s)
{
	struct apf_fetch_opts o = apf_dnscheck_fetch_opts(ctx, timeout_ms, max_bytes);

	o.ldap_session = s ? s->ldap : NULL;
	return o;
}

enum apf_status apf_ad_unresolved_status(int rc)
{
	return rc == -ENOENT ? APF_FAIL : APF_ERROR;
}

static void dcs_add(struct apf_ad_dcs *d, const char *name, uint16_t port, const char *source)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcasecmp(d->v[i].name, name) == 0)
			return;
	if (d->n >= APF_AD_MAX_DCS)
		return;
	d->v = apf_xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	memset(&d->v[d->n], 0, sizeof(d->v[d->n]));
	d->v[d->n].name = strip_dot(name);
	d->v[d->n].port = port ? port : 389;
	d->v[d->n].source = apf_xstrdup(source);
	d->n++;
}

void apf_ad_find_dcs(struct apf_ctx *ctx, unsigned int timeout_ms, struct apf_ad_dcs *out)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *const *facts;
	struct apf_dnscheck_resolver r;

	memset(out, 0, sizeof(*out));
	apf_dnscheck_resolver_init(&r, ctx, NULL, NULL);
	for (size_t i = 0; i < cfg->ad.domain_controllers.n; i++)
		dcs_add(out, cfg->ad.domain_controllers.v[i], 389, "config [ad] domain_controllers");
	if (out->n == 0 && (facts = apf_fact_get(ctx, APF_FACT_AD_DC)) != NULL) {
		/* dns.ad-records publishes DC host names it found in the SRV records */
		for (size_t i = 0; facts[i]; i++)
			if (*facts[i])
				dcs_add(out, facts[i], 389, "fact dns.ad-records dc");
	}
	if (out->n == 0 && cfg->ad.domain && *cfg->ad.domain) {
		struct apf_dns_answer *ans = NULL;
		char *err = NULL;
		int rc;

		out->srv_query = apf_xasprintf("_ldap._tcp.dc._msdcs.%s", cfg->ad.domain);
		rc = apf_dnscheck_ask(&r, apf_ctx_deadline_ms(ctx), timeout_ms, out->srv_query, APF_RR_SRV, &ans, NULL,
				      &err);
		if (rc < 0) {
			out->srv_error = err ? err : apf_xstrdup(strerror(-rc));
			out->srv_timeout = true;
			out->srv_rc = rc;
			err = NULL;
		} else {
			char *src = apf_xasprintf("SRV %s @%s", out->srv_query, ans->server ? ans->server : "?");
			for (size_t i = 0; i < ans->n_rr; i++)
				if (ans->rr[i].type == APF_RR_SRV && ans->rr[i].srv_target && strcmp(ans->rr[i].srv_target, ".") != 0)
					dcs_add(out, ans->rr[i].srv_target, ans->rr[i].srv_port, src);
			if (out->n == 0)
				out->srv_error = apf_xasprintf("%s SRV -> %s, no usable record", out->srv_query,
							       ans->rcode_name ? ans->rcode_name : "?");
			free(src);
		}
		free(err);
		apf_dns_answer_free(ans);
	} else if (out->n == 0) {
		out->srv_error = apf_xstrdup("neither [ad] domain_controllers nor [ad] domain is set");
	}
	for (size_t i = 0; i < out->n; i++) {
		struct apf_ad_dc *dc = &out->v[i];
		apf_ctx_step(ctx, "resolving %s", dc->name);
		dc->resolve_rc = apf_dnscheck_resolve_with(&r, ctx, dc->name, timeout_ms, &dc->ip, &dc->dns_server, &dc->resolve_error);
	}
	apf_dnscheck_resolver_clear(&r);
}

void apf_ad_dcs_clear(struct apf_ad_dcs *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].ip);
		free(d->v[i].source);
		free(d->v[i].resolve_error);
		free(d->v[i].dns_server);
	}
	free(d->v);
	free(d->srv_query);
	free(d->srv_error);
	memset(d, 0, sizeof(*d));
}

enum apf_ldap_tls apf_ad_tls_mode(const struct apf_config *cfg)
{
	const char *t = cfg->ad.tls;

	if (t && strcasecmp(t, "ldaps") == 0)
		return APF_LDAP_TLS_LDAPS;
	if (t && strcasecmp(t, "none") == 0)
		return APF_LDAP_TLS_NONE;
	return APF_LDAP_TLS_STARTTLS;
}

char *apf_ad_domain_to_dn(const char *domain)
{
	char *d = strip_dot(domain);
	char *r = apf_xstrdup("");
	char *save = NULL;

	for (char *label = strtok_r(d, ".", &save); label; label = strtok_r(NULL, ".", &save)) {
		char *n = apf_xasprintf("%s%sDC=%s", r, *r ? "," : "", label);
		free(r);
		r = n;
	}
	free(d);
	return r;
}

char *apf_ad_pks_dn(const char *config_nc)
{
	return apf_xasprintf("CN=Public Key Services,CN=Services,%s", config_nc);
}

/* ---- bound session ---------------------------------------------------------- */

void apf_ad_session_free(struct apf_ad_session *s)
{
	if (!s)
		return;
	apf_ldap_close(s->ldap);
	free(s->dc_name);
	free(s->dc_ip);
	free(s->default_nc);
	free(s->config_nc);
	free(s->bind_dn);
	free(s->method);
	free(s);
}

static const char *tls_mode_name(enum apf_ldap_tls t)
{
	switch (t) {
	case APF_LDAP_TLS_STARTTLS:
		return "StartTLS";
	case APF_LDAP_TLS_LDAPS:
		return "LDAPS";
	default:
		return "plain LDAP";
	}
}

static char *status_text(const struct apf_ldap_status *st)
{
	const char *ad = st->has_ad_data ? apf_ldap_ad_data_text(st->ad_data) : NULL;

	return apf_xasprintf("LDAP %d (%s)%s%s%s%s", st->rc, st->rc_text ? st->rc_text : "?", st->diag ? ": " : "",
			     st->diag ? st->diag : "", ad ? "; AD: " : "", ad ? ad : "");
}

/* Tries one DC; 0 with the session, or -errno with *why. */
static int session_try(struct apf_ctx *ctx, const struct apf_ad_dc *dc, const char *password,
		       struct apf_ad_session **out, char **why)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	static const char *const rootdse_attrs[] = {"defaultNamingContext", "configurationNamingContext", "dnsHostName", NULL};
	struct apf_ldap_opts o = {0};
	struct apf_ldap_status st = {0};
	struct apf_ldap_result *res = NULL;
	struct apf_ad_session *s = apf_xcalloc(1, sizeof(*s));
	enum apf_ldap_tls mode = apf_ad_tls_mode(cfg);
	const struct apf_ldap_tls_info *tls;
	int rc;

	s->dc_name = apf_xstrdup(dc->name);
	s->dc_ip = apf_xstrdup(dc->ip);
	o.ip = dc->ip;
	o.port = mode == APF_LDAP_TLS_LDAPS ? 636 : dc->port;
	o.host_name = is_ip_literal(dc->name) ? NULL : dc->name;
	o.tls = mode;
	o.ca_file = cfg->ad.ca_bundle;
	o.timeout_ms = apf_ad_op_timeout(ctx, 5000);
	o.deadline_ms = apf_ctx_deadline_ms(ctx); /* the session's later searches stay within the check's time */
	apf_ctx_step(ctx, "LDAP %s to %s (%s)", tls_mode_name(mode), dc->name, dc->ip);
	rc = apf_ldap_open(&o, &s->ldap, &st);
	if (rc < 0) {
		char *t = status_text(&st);
		*why = apf_xasprintf("%s (%s): %s connect failed: %s", dc->name, dc->ip, tls_mode_name(mode), t);
		free(t);
		goto out;
	}
	tls = apf_ldap_tls(s->ldap);
	if (mode != APF_LDAP_TLS_NONE && !tls->verified) {
		*why = apf_xasprintf("%s (%s): the server certificate did not verify (%s), so the password was not sent",
				     dc->name, dc->ip, tls->verify_error ? tls->verify_error : "?");
		rc = -EPERM;
		goto out;
	}
	if (cfg->ad.bind_dn && *cfg->ad.bind_dn) {
		apf_ctx_step(ctx, "LDAP bind as %s on %s", cfg->ad.bind_dn, dc->name);
		rc = apf_ldap_bind_simple(s->ldap, cfg->ad.bind_dn, password, mode == APF_LDAP_TLS_NONE, &st);
		s->bind_dn = apf_xstrdup(cfg->ad.bind_dn);
		s->method = apf_xasprintf("simple bind over %s", tls_mode_name(mode));
	} else {
		apf_ctx_step(ctx, "LDAP SASL GSSAPI bind on %s", dc->name);
		rc = apf_ldap_bind_gssapi(s->ldap, &st);
		s->method = apf_xasprintf("SASL GSSAPI over %s", tls_mode_name(mode));
	}
	if (rc < 0) {
		char *t = status_text(&st);
		*why = apf_xasprintf("%s (%s): %s failed: %s", dc->name, dc->ip, s->method, t);
		free(t);
		goto out;
	}
	rc = apf_ldap_search(s->ldap, "", APF_LDAP_SCOPE_BASE, "(objectClass=*)", rootdse_attrs, 1, &res, &st);
	if (rc < 0 || res->n_entries == 0) {
		char *t = status_text(&st);
		*why = apf_xasprintf("%s (%s): rootDSE read failed: %s", dc->name, dc->ip, t);
		free(t);
		rc = rc < 0 ? rc : -EPROTO;
		goto out;
	}
	if (!apf_ldap_entry_str(&res->entries[0], "configurationNamingContext")) {
		*why = apf_xasprintf("%s (%s): the rootDSE has no configurationNamingContext (not an AD DC?)", dc->name, dc->ip);
		rc = -EPROTO;
		goto out;
	}
	s->config_nc = apf_xstrdup(apf_ldap_entry_str(&res->entries[0], "configurationNamingContext"));
	if (apf_ldap_entry_str(&res->entries[0], "defaultNamingContext"))
		s->default_nc = apf_xstrdup(apf_ldap_entry_str(&res->entries[0], "defaultNamingContext"));
	*out = s;
	s = NULL;
	rc = 0;
out:
	apf_ldap_result_free(res);
	apf_ldap_status_clear(&st);
	apf_ad_session_free(s);
	return rc;
}

int apf_ad_session_open(struct apf_ctx *ctx, struct apf_ad_session **out, char **why_out)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_ad_dcs dcs;
	char *password = NULL, *perr = NULL;
	char *why = NULL;
	int rc = -ENOENT;

	*out = NULL;
	*why_out = NULL;
	if (cfg->ad.bind_dn && *cfg->ad.bind_dn) {
		rc = apf_secret_read(ctx, "ad.bind_password", &password, &perr);
		if (rc == -ENOENT) {
			free(perr);
			*why_out = apf_xstrdup("no bind password: set [ad] bind_password_file or AMT_PREFLIGHT_BIND_PASSWORD");
			return -EINVAL;
		}
		if (rc < 0) {
			*why_out = perr ? perr : apf_xstrdup(strerror(-rc));
			return rc;
		}
		free(perr);
	} else if (!apf_ldap_have_krb5_ticket()) {
		*why_out = apf_xstrdup("no service account: set [ad] bind_dn (or run with a Kerberos ticket)");
		return -EINVAL;
	}
	apf_ad_find_dcs(ctx, apf_ad_op_timeout(ctx, 3000), &dcs);
	if (dcs.n == 0) {
		*why_out = apf_xasprintf("no domain controller found: %s", dcs.srv_error ? dcs.srv_error : "?");
		rc = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < dcs.n; i++) {
		char *w = NULL;

		if (!dcs.v[i].ip) {
			w = apf_xasprintf("%s: %s", dcs.v[i].name, dcs.v[i].resolve_error ? dcs.v[i].resolve_error : "not resolved");
			rc = -ENOENT;
		} else {
			rc = session_try(ctx, &dcs.v[i], password, out, &w);
		}
		if (rc == 0)
			break;
		if (why) {
			char *n = apf_xasprintf("%s; %s", why, w);
			free(why);
			free(w);
			why = n;
		} else {
			why = w;
		}
	}
	if (rc < 0) {
		*why_out = why;
		why = NULL;
	}
out:
	free(why);
	apf_secret_free(password);
	apf_ad_dcs_clear(&dcs);
	return rc;
}
