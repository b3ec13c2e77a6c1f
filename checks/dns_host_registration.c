/* SPDX-License-Identifier: MIT */
/*
 * dns.host-registration: every AMT host in the admin's list must have an A
 * record (at the expected address when one is given) and a PTR that names it
 * back. The SCS identifies a device by reverse-resolving the address its
 * Hello came from, and management consoles reach AMT by its FQDN (the TLS
 * certificate AMT presents is issued to that FQDN), so a stale or missing
 * record breaks provisioning or management of that host. Built for fleets:
 * src/dnsfleet.c keeps a bounded window of queries in flight, and findings
 * are summaries (counts and the first offenders), never one per host.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amt_profile.h"
#include "check.h"
#include "dnscheck.h"
#include "dnsfleet.h"
#include "net/dns.h"

#define MAX_HOSTS 1000000  /* a hosts file is a fleet, not a zone dump of the Internet */
#define FIRST_OFFENDERS 10

static const struct apf_code codes[] = {
	{"HOSTREG_OK", APF_PASS, "Hosts whose A record (at the expected address, if given) and PTR agree", "None"},
	{"HOSTREG_NO_A", APF_FAIL,
	 "Hosts with no A/AAAA record: consoles and the SCS cannot reach AMT by name, and the FQDN in AMT's TLS "
	 "certificate points nowhere",
	 "Register the hosts in DNS (DHCP option 81 with DDNS by the DHCP server, or static records)"},
	{"HOSTREG_A_MISMATCH", APF_FAIL,
	 "Hosts whose A record is not the expected address: connections by name go to another machine",
	 "Correct the A records (stale DDNS registrations: check scavenging and the DHCP server's DDNS settings)"},
	{"HOSTREG_NO_PTR", APF_FAIL,
	 "Hosts whose address has no PTR: the SCS cannot map the Hello sender's address to the device's FQDN "
	 "(FAIL with a remote-config profile; WARN when no profile is declared, INFO when only host-based ones are)",
	 "Have the DHCP server register PTR records (reverse zone DDNS) or add them statically"},
	{"HOSTREG_PTR_MISMATCH", APF_FAIL,
	 "Hosts whose address has a PTR naming another host (stale reverse record): the SCS provisions or "
	 "addresses the device under the wrong name (FAIL with a remote-config profile; WARN when no profile is "
	 "declared, INFO when only host-based ones are)",
	 "Delete the stale PTR records and enable scavenging of the reverse zone"},
	{"HOSTREG_NO_ANSWER", APF_ERROR, "Hosts for which the DNS server never answered (after retries)",
	 "Check that the DNS server is reachable from here and not rate-limiting; lower [dns] rate_limit or "
	 "[dns] window"},
	{"HOSTREG_SERVER_ERROR", APF_ERROR,
	 "Hosts for which the DNS server answered SERVFAIL, REFUSED or a malformed packet, so they could not be checked",
	 "Check the DNS server's logs and its ACLs for this client's address"},
	{"HOSTREG_INCOMPLETE", APF_ERROR, "The check's time ran out before every host was classified",
	 "When the server did not answer at all, fix that first (see the other findings); for a long host list, "
	 "raise the deadline (--timeout) or [dns] rate_limit"},
	{"HOSTREG_HOSTS_INVALID", APF_ERROR, "The hosts file could not be read or has an invalid line (file:line given)",
	 "Fix the hosts file: one FQDN per line, optionally followed by the expected IPv4/IPv6 address"},
	{"HOSTREG_ENGINE_ERROR", APF_ERROR, "The query engine could not start (sockets)", "See the evidence"},
	{"HOSTREG_SERVER_REFUSED", APF_ERROR,
	 "The DNS server refused the queries (ICMP port or host unreachable), so no host was checked against it",
	 "Check that the DNS server runs and listens on this address and port, and that no firewall rejects DNS from "
	 "this host; or remove it from [dns] servers / DHCP option 6"},
	{0},
};

static const char *const requires_keys[] = {"dns.hosts_file", NULL};
static const char *const after[] = {"dhcp.options", NULL};

/* The verdicts reported as offenders, with their code and status (PTR verdicts: see ptr_rule). */
static const struct {
	enum apf_fleet_verdict v;
	const char *code;
	enum apf_status st;
	const char *what;
	bool ptr;
} offences[] = {
	{APF_FLEET_NO_A, "HOSTREG_NO_A", APF_FAIL, "have no A/AAAA record", false},
	{APF_FLEET_A_MISMATCH, "HOSTREG_A_MISMATCH", APF_FAIL, "resolve to another address than expected", false},
	{APF_FLEET_NO_PTR, "HOSTREG_NO_PTR", APF_FAIL, "have no PTR record", true},
	{APF_FLEET_PTR_MISMATCH, "HOSTREG_PTR_MISMATCH", APF_FAIL, "have a PTR naming another host", true},
	{APF_FLEET_TIMEOUT, "HOSTREG_NO_ANSWER", APF_ERROR, "got no answer", false},
	{APF_FLEET_SERVER_ERROR, "HOSTREG_SERVER_ERROR", APF_ERROR, "got a server error", false},
	{APF_FLEET_PENDING, "HOSTREG_INCOMPLETE", APF_ERROR, "were not checked before the deadline", false},
};

/* The PTR names a device only where the setup server takes its name from the address
 * its Hello came from (remote configuration, docs/profiles.md); host-based activation
 * is started by an agent on the host. So a PTR problem fails only a remote-config site,
 * and warns while the site has not said how it activates. Sets *rule (caller frees). */
static enum apf_status ptr_rule(const struct apf_config *cfg, char **rule)
{
	char *declared = apf_profile_declared_str(cfg);
	enum apf_status st;

	switch (apf_profile_uses_hello(cfg)) {
	case APF_PROFILE_YES:
		st = APF_FAIL;
		*rule = apf_xasprintf("needed: [amt] activation = %s (remote configuration names the device by the "
				      "address of its Hello)", declared);
		break;
	case APF_PROFILE_NO:
		st = APF_INFO;
		*rule = apf_xasprintf("not needed for activation: [amt] activation = %s (host-based, no Hello)", declared);
		break;
	default:
		st = APF_WARN;
		*rule = apf_xstrdup("needed only by remote configuration (Hello); [amt] activation is not set");
		break;
	}
	free(declared);
	return st;
}

static const char *rcode_text(int rcode)
{
	return rcode < 0 ? "no answer" : apf_dns_rcode_name(rcode);
}

/* One line of evidence about an offender: what was asked and what came back. */
static char *describe(const struct apf_fleet_host *h)
{
	char a[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN];

	apf_fleet_addr_text(h, a, sizeof(a));
	apf_fleet_expect_text(h, e, sizeof(e));
	switch (h->verdict) {
	case APF_FLEET_NO_A:
		return apf_xasprintf("%s (line %u): %s %s -> %s", h->name, h->line, h->name,
				     h->failed_type == APF_RR_AAAA ? "AAAA" : "A",
				     h->rcode == 0 ? "no record (NODATA)" : rcode_text(h->rcode));
	case APF_FLEET_A_MISMATCH:
		return apf_xasprintf("%s (line %u): A %s, expected %s", h->name, h->line, h->found ? h->found : "?", e);
	case APF_FLEET_NO_PTR:
		return apf_xasprintf("%s (line %u): PTR of %s -> %s", h->name, h->line, a,
				     h->rcode == 0 ? "no record (NODATA)" : rcode_text(h->rcode));
	case APF_FLEET_PTR_MISMATCH:
		return apf_xasprintf("%s (line %u): PTR of %s -> %s", h->name, h->line, a, h->found ? h->found : "?");
	case APF_FLEET_TIMEOUT:
	case APF_FLEET_SERVER_ERROR:
		return apf_xasprintf("%s (line %u): %s query -> %s", h->name, h->line,
				     h->failed_type == APF_RR_PTR ? "PTR" : "A", rcode_text(h->rcode));
	default:
		return apf_xasprintf("%s (line %u)", h->name, h->line);
	}
}

static void audit_server(struct apf_ctx *ctx, const struct apf_dns_target *t, struct apf_fleet_list *l,
			 const char *path, size_t servers_left)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_fleet_stats st;
	unsigned int rem = apf_ctx_remaining_ms(ctx);
	/* Leave each remaining server its share, and keep 200 ms to write findings. */
	uint64_t budget = rem > 200 ? (rem - 200) / servers_left : 0;
	struct apf_fleet_opts o = {
		.server = t->ip,
		.port = t->port,
		.window = (unsigned int)cfg->dns.window,
		.rate_limit = (unsigned int)cfg->dns.rate_limit,
		/* 3 retries with doubling cost 15 first-try timeouts: fit them, with slack, in the budget. */
		.timeout_ms = budget / 20 > 800 ? 800 : budget / 20 < 100 ? 100 : (unsigned int)(budget / 20),
		.retries = 3,
		.deadline_ms = apf_now_ms() + budget,
	};
	char *err = NULL;
	struct apf_finding *f;
	int rc;

	for (size_t i = 0; i < l->n; i++) {
		struct apf_fleet_host *h = &l->h[i];

		free(h->found);
		h->found = NULL;
		h->verdict = APF_FLEET_PENDING;
		h->rcode = -1;
		h->addr_af = 0;
		h->failed_type = 0;
	}
	apf_ctx_step(ctx, "A/PTR audit of %zu hosts against %s (window %u, %u qps)", l->n, t->spec, o.window,
		     o.rate_limit);
	rc = apf_fleet_run(&o, l, &st, &err);
	if (rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH) {
		/* One finding for the server, not a verdict per host: the rest was never asked. */
		f = apf_report(ctx, APF_ERROR, "HOSTREG_SERVER_REFUSED",
			       "DNS server %s refused the queries; %zu of %zu hosts were not checked against it", t->spec,
			       st.counts[APF_FLEET_PENDING], l->n);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "error", "%s", err ? err : "?");
		apf_evidence(f, "hosts", "%zu", l->n);
		apf_evidence(f, "queries", "%llu", (unsigned long long)(st.queries + st.retransmits));
		apf_evidence(f, "retransmits", "%llu", (unsigned long long)st.retransmits);
		apf_evidence(f, "elapsed_ms", "%llu", (unsigned long long)st.elapsed_ms);
		st.counts[APF_FLEET_PENDING] = 0;
	} else if (rc < 0) {
		f = apf_report(ctx, APF_ERROR, "HOSTREG_ENGINE_ERROR", "cannot query DNS server %s", t->spec);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "error", "%s", err ? err : "?");
		free(err);
		return;
	}
	if (st.counts[APF_FLEET_OK]) {
		f = apf_report(ctx, APF_PASS, "HOSTREG_OK", "%zu of %zu hosts have matching A and PTR records on %s",
			       st.counts[APF_FLEET_OK], l->n, t->spec);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "hosts_file", "%s", path);
		apf_evidence(f, "hosts", "%zu", l->n);
		apf_evidence(f, "ok", "%zu", st.counts[APF_FLEET_OK]);
		apf_evidence(f, "queries", "%llu", (unsigned long long)(st.queries + st.retransmits));
		apf_evidence(f, "retransmits", "%llu", (unsigned long long)st.retransmits);
		apf_evidence(f, "tcp_fallbacks", "%llu", (unsigned long long)st.tcp_fallbacks);
		apf_evidence(f, "elapsed_ms", "%llu", (unsigned long long)st.elapsed_ms);
	}
	for (size_t k = 0; k < sizeof(offences) / sizeof(offences[0]); k++) {
		size_t count = st.counts[offences[k].v], shown = 0;
		char *rule = NULL;

		if (!count)
			continue;
		f = apf_report(ctx, offences[k].ptr ? ptr_rule(cfg, &rule) : offences[k].st, offences[k].code,
			       "%zu of %zu hosts %s on %s", count, l->n, offences[k].what, t->spec);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "hosts_file", "%s", path);
		apf_evidence(f, "count", "%zu", count);
		if (rule)
			apf_evidence(f, "ptr_rule", "%s", rule);
		free(rule);
		for (size_t i = 0; i < l->n && shown < FIRST_OFFENDERS; i++) {
			char key[16], *d;

			if (l->h[i].verdict != offences[k].v)
				continue;
			snprintf(key, sizeof(key), "host_%zu", ++shown);
			d = describe(&l->h[i]);
			apf_evidence(f, key, "%s", d);
			free(d);
		}
		if (count > shown)
			apf_evidence(f, "not_shown", "%zu", count - shown);
	}
	free(err);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_dns_target *srv = NULL;
	struct apf_fleet_list *l = NULL;
	const char *source = NULL;
	char *err = NULL;
	size_t nsrv;
	int rc;

	nsrv = apf_dnscheck_servers(ctx, &srv, &source);
	if (!nsrv) {
		apf_skip(ctx, "%s", APF_DNSCHECK_NO_SERVER);
		goto out;
	}
	rc = apf_fleet_hosts_load(cfg->dns.hosts_file, MAX_HOSTS, &l, &err);
	if (rc < 0) {
		struct apf_finding *f = apf_report(ctx, APF_ERROR, "HOSTREG_HOSTS_INVALID", "cannot use the hosts file: %s",
						   err ? err : "?");
		apf_evidence(f, "hosts_file", "%s", cfg->dns.hosts_file);
		apf_evidence(f, "error", "%s", err ? err : "?");
		goto out;
	}
	if (!l->n) {
		apf_skip(ctx, "the hosts file %s lists no hosts", cfg->dns.hosts_file);
		goto out;
	}
	for (size_t i = 0; i < nsrv; i++)
		audit_server(ctx, &srv[i], l, cfg->dns.hosts_file, nsrv - i);
out:
	free(err);
	apf_fleet_list_free(l);
	free(srv);
	return 0;
}

const struct apf_check apf_check_dns_host_registration = {
	.id = "dns.host-registration",
	.title = "Forward and reverse DNS of AMT hosts",
	.summary = "For every host in [dns] hosts_file, asks each DNS server clients use for its A record and the "
		   "PTR of that address, and reports hosts with missing or stale records (summarised, with the first "
		   "offenders); fleet-scale: thousands of hosts per second with a bounded window and rate cap.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 120000,
	.codes = codes,
	.run = run,
};
