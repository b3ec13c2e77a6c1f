/* SPDX-License-Identifier: MIT */
/*
 * Active Directory plumbing shared by ad.ldap and the ca.* checks: finding the
 * domain controllers (config, or the DC SRV records asked of the client DNS
 * servers), resolving names the way AMT's infrastructure does (through those
 * DNS servers, never the host resolver), and opening a bound LDAP session with
 * the checker's service account.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "net/fetch.h"
#include "net/ldap.h"

struct apf_ad_dc {
	char *name;        /* host name as configured or from SRV ("dc1.corp.example.test"), or the IP literal */
	char *ip;          /* resolved address, NULL when resolution failed */
	uint16_t port;     /* LDAP port (SRV port, else 389) */
	char *source;      /* "config", "SRV _ldap._tcp.dc._msdcs.corp.example.test @192.0.2.1", "fact dns.ad-records" */
	char *resolve_error; /* why `ip` is NULL */
	int resolve_rc;      /* 0, -ENOENT (no such name/address), -ETIMEDOUT (no DNS server answered), -EINVAL */
	char *dns_server;  /* who resolved the name, NULL for literals */
};

struct apf_ad_dcs {
	struct apf_ad_dc *v;
	size_t n;
	char *srv_query;     /* the SRV name asked, NULL when DCs came from the config */
	char *srv_error;     /* why discovery found nothing (rcode / timeout), NULL when it found some */
	bool srv_timeout;    /* discovery could not be made: no DNS server answered usefully, or none is known */
	int srv_rc;          /* apf_dnscheck_ask()'s rc when srv_timeout (-EDESTADDRREQ: no client DNS server known) */
};

/*
 * Fills `out` with the DCs to check: [ad] domain_controllers, else the facts
 * of dns.ad-records ("dc"), else the SRV records _ldap._tcp.dc._msdcs.<domain>.
 * Every name is resolved (A) through the DNS servers AMT clients use
 * (apf_dnscheck_servers(): [dns] servers, else DHCP option 6 learned by
 * dhcp.options); never through the host's resolver. With neither, names are
 * not resolved (resolve_rc -EDESTADDRREQ) and only IP literals can be checked.
 * A caller must list dns.ad-records and dhcp.options in `after` for their facts
 * to be seen. Never fails: out->n == 0 with srv_error says why. Free with
 * apf_ad_dcs_clear().
 */
void apf_ad_find_dcs(struct apf_ctx *ctx, unsigned int timeout_ms, struct apf_ad_dcs *out);
void apf_ad_dcs_clear(struct apf_ad_dcs *d);

/*
 * Resolves `name` (A) through the DNS servers AMT clients use (see above). An
 * IP literal is returned as is. 0 and *ip_out (caller frees), or -ENOENT
 * (NXDOMAIN / no A record), or apf_dnscheck_ask()'s errors (the lookup could
 * not be made: -EDESTADDRREQ when no client DNS server is known, -ETIMEDOUT,
 * ...); *err_out (may be NULL) explains, *server_out (may be NULL) names the
 * server that answered.
 */
int apf_ad_resolve(struct apf_ctx *ctx, const char *name, unsigned int timeout_ms, char **ip_out, char **server_out,
		   char **err_out);

/*
 * Status of a finding about a name that did not resolve (apf_ad_resolve()'s rc):
 * FAIL only when a DNS server said the name has no address (-ENOENT); any other
 * failure (timeout, refused, malformed answer, no server) means the lookup could
 * not be made, which is ERROR, never FAIL.
 */
enum apf_status apf_ad_unresolved_status(int rc);

/* TLS mode from [ad] tls ("starttls" default, "ldaps", "none"). */
enum apf_ldap_tls apf_ad_tls_mode(const struct apf_config *cfg);

/* "DC=corp,DC=example,DC=test" for "corp.example.test"; caller frees. */
char *apf_ad_domain_to_dn(const char *domain);

/* Per-operation timeout: the check's remaining time, at most `cap_ms`, at least 1. */
unsigned int apf_ad_op_timeout(const struct apf_ctx *ctx, unsigned int cap_ms);

/* A bound LDAP session on the first DC that accepts the service account. */
struct apf_ad_session {
	struct apf_ldap *ldap;
	char *dc_name;
	char *dc_ip;
	char *default_nc;
	char *config_nc;
	char *bind_dn;   /* NULL for GSSAPI */
	char *method;    /* "simple over StartTLS", "SASL GSSAPI", ... */
};

/*
 * Finds DCs, reads the rootDSE, connects with [ad] tls, verifies the
 * certificate against [ad] ca_bundle and binds as [ad] bind_dn (or GSSAPI with
 * a Kerberos ticket). Never sends the password in clear (unless tls = none) nor
 * to a server whose certificate did not verify. Returns 0, or -errno with
 * *why_out (caller frees) naming the DC and the LDAP result; ad.ldap explains
 * the details, the ca.* checks only need to say they could not read AD.
 */
int apf_ad_session_open(struct apf_ctx *ctx, struct apf_ad_session **out, char **why_out);
void apf_ad_session_free(struct apf_ad_session *s);

/*
 * Options for apf_fetch() from a check: `timeout_ms` for the whole fetch, URL
 * host names resolved through the client DNS servers (apf_dnscheck_fetch_opts()),
 * and `s` (may be NULL) for "ldap:///" URLs.
 */
struct apf_fetch_opts apf_ad_fetch_opts(struct apf_ctx *ctx, unsigned int timeout_ms, size_t max_bytes,
					struct apf_ad_session *s);

/* Public Key Services container DN under a configuration NC; caller frees. */
char *apf_ad_pks_dn(const char *config_nc);
