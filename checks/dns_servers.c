/* SPDX-License-Identifier: MIT */
/*
 * dns.servers: the DNS servers AMT clients are given (DHCP option 6) must all
 * work the same way: answer over UDP and over TCP (RFC 7766: TCP is how a
 * truncated answer is completed), in time, and with the same data, since a
 * client may ask any of them. When a TSIG key is configured (normally the key
 * the DHCP server uses for DDNS of AMT names), a query signed with it must
 * verify on the authoritative servers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dnscheck.h"
#include "facts.h"
#include "net/dns.h"

#define QUERY_CAP_MS 3000
#define SLOW_MS 1000 /* resolvers time out and retry after about a second */

static const struct apf_code codes[] = {
	{"DNSSRV_OK", APF_PASS, "The server answers over UDP and TCP, in time", "None"},
	{"DNSSRV_UDP_REFUSED", APF_FAIL,
	 "The server's host rejects DNS over UDP (ICMP port unreachable): nothing listens on port 53, so clients "
	 "that are handed this server cannot resolve anything through it",
	 "Start the DNS service on that address or remove it from DHCP option 6"},
	{"DNSSRV_UDP_NO_ANSWER", APF_ERROR, "No answer over UDP within the timeout, so the server could not be checked",
	 "Check that UDP 53 to the server is allowed from here and that the server is running"},
	{"DNSSRV_TCP_REFUSED", APF_FAIL,
	 "The server refuses DNS over TCP: answers too large for UDP (several records, DNSSEC, long SRV sets) can "
	 "never be completed (RFC 7766 requires TCP)", "Enable DNS over TCP on the server and allow TCP 53 in firewalls"},
	{"DNSSRV_TCP_NO_ANSWER", APF_ERROR, "No answer over TCP within the timeout, so TCP could not be checked",
	 "Check that TCP 53 to the server is allowed from here"},
	{"DNSSRV_SLOW", APF_WARN, "The server took longer than a second to answer: clients retry or give up",
	 "Check the server's load, its forwarders and the network path"},
	{"DNSSRV_DOMAIN_MISSING", APF_FAIL,
	 "The server says the AMT domain does not exist (NXDOMAIN): clients using it cannot resolve "
	 "ProvisionServer or any AMT host", "Host the zone on this server, or forward the domain to the servers that do"},
	{"DNSSRV_SERVFAIL", APF_FAIL, "The server fails (SERVFAIL) on the AMT domain: broken zone, delegation or forwarder",
	 "Check the server's logs for the zone and its forwarders"},
	{"DNSSRV_RCODE", APF_ERROR,
	 "The server answered with an error such as REFUSED, so it could not be checked from here (it may not allow "
	 "queries from this address)", "Run from an AMT client VLAN, or allow queries from this address"},
	{"DNSSRV_SERIAL_DIFFERS", APF_WARN,
	 "The servers give different SOA serials for the AMT domain: zone transfers lag or fail, so clients see "
	 "different data depending on the server they ask", "Check zone transfers (NOTIFY/IXFR) or AD replication"},
	{"DNSSRV_ANSWERS_DIFFER", APF_WARN, "The servers give different answers for ProvisionServer.<suffix>",
	 "Fix zone replication or forwarding so every server returns the same record"},
	{"DNSSRV_TSIG_OK", APF_PASS, "A query signed with the configured TSIG key verified, and so did the answer",
	 "None"},
	{"DNSSRV_TSIG_BAD", APF_FAIL,
	 "The authoritative server did not accept or sign with the configured TSIG key (unknown key, wrong secret "
	 "or clock skew): dynamic updates signed with it (DDNS of AMT names) are refused",
	 "Make the key name, algorithm and secret identical in the DNS server and the DHCP server, and sync clocks (NTP)"},
	{"DNSSRV_TSIG_NOT_VERIFIED", APF_WARN,
	 "A non-authoritative server (resolver) does not verify the configured TSIG key; that is normal unless it "
	 "is supposed to accept updates", "Use the key with the authoritative server of the AMT zone"},
	{"DNSSRV_TSIG_KEY_INVALID", APF_ERROR, "The TSIG key file could not be read or parsed (file:line given)",
	 "Give a BIND key file: key \"name\" { algorithm hmac-sha256; secret \"base64\"; };"},
	{0},
};

static const char *const after[] = {"dhcp.options", NULL};

struct srv_state {
	bool answered;
	bool authoritative;
	char *serial;   /* "2024010101" or "(no SOA)" */
	char *ps;       /* ProvisionServer answer, NULL when not asked */
};

static char *soa_serial(const struct apf_dns_answer *a)
{
	for (size_t i = 0; i < a->n_rr; i++) {
		char mname[256], rname[256];
		unsigned long serial;

		if (a->rr[i].type == APF_RR_SOA && sscanf(a->rr[i].data, "%255s %255s %lu", mname, rname, &serial) == 3)
			return apf_xasprintf("%lu", serial);
	}
	return apf_xstrdup("(no SOA at this name)");
}

/* One SOA query over one transport; reports failures. Returns the answer or NULL. */
static struct apf_dns_answer *soa_query(struct apf_ctx *ctx, const struct apf_dns_target *t, const char *zone,
					bool tcp, size_t left)
{
	struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, tcp);
	struct apf_dns_answer *a = NULL;
	char *err = NULL;
	int rc;

	apf_ctx_step(ctx, "%s SOA? to %s over %s", zone, t->spec, tcp ? "TCP" : "UDP");
	rc = apf_dns_query(&o, zone, APF_RR_SOA, &a, &err);
	if (rc < 0) {
		bool refused = rc == -ECONNREFUSED;
		const char *code = tcp ? (refused ? "DNSSRV_TCP_REFUSED" : "DNSSRV_TCP_NO_ANSWER")
				       : (refused ? "DNSSRV_UDP_REFUSED" : "DNSSRV_UDP_NO_ANSWER");
		struct apf_finding *f = apf_report(ctx, refused ? APF_FAIL : APF_ERROR, code, "DNS server %s over %s: %s",
						   t->spec, tcp ? "TCP" : "UDP", err ? err : "?");

		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "query", "%s SOA", zone);
		apf_evidence(f, "transport", "%s", tcp ? "TCP" : "UDP");
		apf_evidence(f, "error", "%s", err ? err : "?");
		apf_evidence(f, "timeout_ms", "%u", o.timeout_ms);
		free(err);
		return NULL;
	}
	if (a->rtt_ms > SLOW_MS) {
		struct apf_finding *f = apf_report(ctx, APF_WARN, "DNSSRV_SLOW", "DNS server %s took %llu ms over %s",
						   t->spec, (unsigned long long)a->rtt_ms, tcp ? "TCP" : "UDP");

		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "query", "%s SOA", zone);
		apf_evidence(f, "rtt_ms", "%llu", (unsigned long long)a->rtt_ms);
	}
	return a;
}

static void check_tsig(struct apf_ctx *ctx, const struct apf_dns_target *t, const char *zone,
		       const struct apf_tsig *key, bool authoritative, size_t left)
{
	struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, false);
	struct apf_dns_answer *a = NULL;
	struct apf_finding *f;
	char *err = NULL;
	int rc;

	o.tsig = key;
	apf_ctx_step(ctx, "TSIG-signed %s SOA? to %s", zone, t->spec);
	rc = apf_dns_query(&o, zone, APF_RR_SOA, &a, &err);
	if (rc == 0) {
		f = apf_report(ctx, APF_PASS, "DNSSRV_TSIG_OK", "DNS server %s verified TSIG key %s and signed its answer",
			       t->spec, key->name);
	} else if (rc == -EPROTO || rc == -EINVAL) {
		f = apf_report(ctx, authoritative ? APF_FAIL : APF_WARN,
			       authoritative ? "DNSSRV_TSIG_BAD" : "DNSSRV_TSIG_NOT_VERIFIED",
			       "TSIG key %s does not verify with DNS server %s", key->name, t->spec);
	} else {
		f = apf_report(ctx, APF_ERROR, "DNSSRV_UDP_NO_ANSWER", "DNS server %s did not answer a TSIG-signed query",
			       t->spec);
	}
	apf_evidence(f, "server", "%s", t->spec);
	apf_evidence(f, "query", "%s SOA", zone);
	apf_evidence(f, "key", "%s", key->name);
	apf_evidence(f, "algorithm", "%s", key->algorithm);
	apf_evidence(f, "authoritative", "%s", authoritative ? "yes" : "no");
	if (rc == 0)
		apf_evidence(f, "rcode", "%s", a->rcode_name);
	else
		apf_evidence(f, "error", "%s", err ? err : "?");
	free(err);
	apf_dns_answer_free(a);
}

static char *ps_answer(struct apf_ctx *ctx, const struct apf_dns_target *t, const char *name, size_t left)
{
	struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, false);
	struct apf_dns_answer *a = NULL;
	char **v = NULL, *s;
	size_t n = 0;

	apf_ctx_step(ctx, "%s A? to %s", name, t->spec);
	if (apf_dns_query(&o, name, APF_RR_A, &a, NULL) < 0)
		return NULL;
	for (size_t i = 0; i < a->n_rr; i++) {
		if (a->rr[i].type != APF_RR_A)
			continue;
		v = apf_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = a->rr[i].data;
	}
	s = n ? apf_dnscheck_join_sorted(v, n) : apf_xasprintf("(none: %s)", a->rcode_name);
	free(v);
	apf_dns_answer_free(a);
	return s;
}

/* WARN when the answered servers do not all agree on `field`. */
static void compare(struct apf_ctx *ctx, const struct apf_dns_target *srv, const struct srv_state *s, size_t n,
		    bool ps, const char *code, const char *query)
{
	const char *first = NULL;
	bool differ = false;
	struct apf_finding *f;

	for (size_t i = 0; i < n; i++) {
		const char *v = ps ? s[i].ps : s[i].serial;

		if (!v)
			continue;
		if (!first)
			first = v;
		else if (strcmp(first, v) != 0)
			differ = true;
	}
	if (!differ)
		return;
	f = apf_report(ctx, APF_WARN, code, "DNS servers disagree on %s", query);
	apf_evidence(f, "query", "%s", query);
	for (size_t i = 0, k = 0; i < n; i++) {
		const char *v = ps ? s[i].ps : s[i].serial;
		char key[32];

		if (!v)
			continue;
		snprintf(key, sizeof(key), "answer_%zu", ++k);
		apf_evidence(f, key, "%s: %s", srv[i].spec, v);
	}
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_dns_target *srv = NULL;
	struct srv_state *st = NULL;
	struct apf_tsig *key = NULL;
	const char *source = NULL;
	char **suffixes = apf_dnscheck_suffixes(ctx, &(size_t){0});
	const char *zone = suffixes[0] ? suffixes[0] : cfg->ad.domain;
	char *ps_name = suffixes[0] ? apf_xasprintf("ProvisionServer.%s", suffixes[0]) : NULL;
	char *soa_q = NULL;
	size_t nsrv;

	nsrv = apf_dnscheck_servers(ctx, &srv, &source);
	if (!nsrv) {
		apf_skip(ctx, "%s", APF_DNSCHECK_NO_SERVER);
		goto out;
	}
	if (!zone) {
		apf_skip(ctx, "no AMT domain to ask about: set [amt] domain_suffixes or [ad] domain, or run dhcp.options");
		goto out;
	}
	soa_q = apf_xasprintf("%s SOA", zone);
	if (cfg->dns.tsig_key_file) {
		char *err = NULL;

		if (apf_tsig_load(cfg->dns.tsig_key_file, &key, &err) < 0) {
			struct apf_finding *f = apf_report(ctx, APF_ERROR, "DNSSRV_TSIG_KEY_INVALID",
							   "cannot use the TSIG key file: %s", err ? err : "?");
			apf_evidence(f, "tsig_key_file", "%s", cfg->dns.tsig_key_file);
			apf_evidence(f, "error", "%s", err ? err : "?");
		}
		free(err);
	}
	st = apf_xcalloc(nsrv, sizeof(*st));
	for (size_t i = 0; i < nsrv; i++) {
		size_t left = (nsrv - i) * 4;
		struct apf_dns_answer *u = soa_query(ctx, &srv[i], zone, false, left);
		struct apf_dns_answer *t = soa_query(ctx, &srv[i], zone, true, left - 1);
		struct apf_dns_answer *a = u ? u : t;
		struct apf_finding *f;

		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DNS_ASKED), srv[i].spec);
		if (a)
			apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_DNS_ANSWERED), srv[i].spec);
		if (a && a->rcode != 0) {
			bool nx = a->rcode == 3, sf = a->rcode == 2;

			f = apf_report(ctx, nx || sf ? APF_FAIL : APF_ERROR,
				       nx ? "DNSSRV_DOMAIN_MISSING" : sf ? "DNSSRV_SERVFAIL" : "DNSSRV_RCODE",
				       "DNS server %s answered %s for %s", srv[i].spec, a->rcode_name, soa_q);
			apf_evidence(f, "server", "%s", srv[i].spec);
			apf_evidence(f, "query", "%s", soa_q);
			apf_evidence(f, "rcode", "%s", a->rcode_name);
		} else if (a) {
			st[i].answered = true;
			st[i].authoritative = a->authoritative;
			st[i].serial = soa_serial(a);
			if (ps_name)
				st[i].ps = ps_answer(ctx, &srv[i], ps_name, left - 2);
			if (u && t) {
				f = apf_report(ctx, APF_PASS, "DNSSRV_OK", "DNS server %s answers over UDP (%llu ms) and TCP (%llu ms)",
					       srv[i].spec, (unsigned long long)u->rtt_ms, (unsigned long long)t->rtt_ms);
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "servers_from", "%s", source);
				apf_evidence(f, "query", "%s", soa_q);
				apf_evidence(f, "rcode", "%s", a->rcode_name);
				apf_evidence(f, "authoritative", "%s", a->authoritative ? "yes" : "no");
				apf_evidence(f, "soa_serial", "%s", st[i].serial);
				apf_evidence(f, "udp_ms", "%llu", (unsigned long long)u->rtt_ms);
				apf_evidence(f, "tcp_ms", "%llu", (unsigned long long)t->rtt_ms);
				if (st[i].ps)
					apf_evidence(f, "provisionserver", "%s", st[i].ps);
			}
		}
		if (key && a)
			check_tsig(ctx, &srv[i], zone, key, st[i].answered ? st[i].authoritative : false, left - 3);
		apf_dns_answer_free(u);
		apf_dns_answer_free(t);
	}
	compare(ctx, srv, st, nsrv, false, "DNSSRV_SERIAL_DIFFERS", soa_q);
	if (ps_name) {
		char *q = apf_xasprintf("%s A", ps_name);

		compare(ctx, srv, st, nsrv, true, "DNSSRV_ANSWERS_DIFFER", q);
		free(q);
	}
out:
	for (size_t i = 0; st && i < nsrv; i++) {
		free(st[i].serial);
		free(st[i].ps);
	}
	free(st);
	free(soa_q);
	free(ps_name);
	apf_tsig_free(key);
	apf_dnscheck_strv_free(suffixes);
	free(srv);
	return 0;
}

const struct apf_check apf_check_dns_servers = {
	.id = "dns.servers",
	.title = "DNS servers clients use",
	.summary = "Asks every DNS server AMT clients use for the SOA of the AMT domain over UDP and TCP, checks the "
		   "answer time and that all servers agree (SOA serial, ProvisionServer), and verifies the configured "
		   "TSIG key against them without ever revealing its secret.",
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 15000,
	.codes = codes,
	.run = run,
};
