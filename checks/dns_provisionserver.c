/* SPDX-License-Identifier: MIT */
/*
 * dns.provisionserver: AMT in remote-configuration mode finds its setup and
 * configuration server (SCS) by resolving "ProvisionServer.<DNS suffix>",
 * using the suffix from MEBx or DHCP option 15 and the DNS servers from DHCP
 * option 6, then sends its Hello to that address on TCP 9971. This check asks
 * exactly those servers exactly that question, compares the answer with the
 * configured SCS addresses, and knocks on the Hello port.
 *
 * Only remote configuration uses the record ([amt] activation, src/amt_profile.h):
 * with only host-based profiles declared the check is skipped; with none declared
 * a missing record is INFO, never FAIL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amt_profile.h"
#include "check.h"
#include "facts.h"
#include "dnscheck.h"
#include "net/dns.h"
#include "net/tcp.h"

#define QUERY_CAP_MS 3000

static const struct apf_code codes[] = {
	{"PS_RECORD_OK", APF_PASS, "ProvisionServer.<suffix> resolves on every DNS server clients use, to the configured SCS",
	 "None"},
	{"PS_RECORD_MISSING", APF_FAIL,
	 "A DNS server clients use has no A/AAAA record for ProvisionServer.<suffix>: AMT cannot find the setup and "
	 "configuration server and never sends its Hello, so remote configuration cannot start",
	 "Create an A record (or a CNAME to the SCS host) named ProvisionServer in every zone matching the AMT DNS "
	 "suffix (DHCP option 15), on every DNS server handed out by DHCP option 6"},
	{"PS_RECORD_NOT_REQUIRED", APF_INFO,
	 "ProvisionServer.<suffix> does not resolve, and no activation profile that uses it is declared: only "
	 "remote configuration (Intel SCS / ConfigMgr receiving AMT's Hello) looks the name up; host-based "
	 "activation (RPS, MeshCentral, EMA, SCS host-based) never does",
	 "None for host-based activation. If the site uses remote configuration, set [amt] activation = "
	 "remote-config to make the missing record a FAIL, and create it"},
	{"PS_WRONG_ADDRESS", APF_FAIL,
	 "ProvisionServer.<suffix> points at an address that is not a configured setup and configuration server: "
	 "AMT sends its Hello (and later trusts the TLS session) to the wrong host; a rogue record is a security risk",
	 "Point the ProvisionServer record at the SCS ([provisioning] server_addresses), remove stale records and "
	 "allow only secure dynamic updates for that name"},
	{"PS_SEVERAL_ADDRESSES", APF_WARN,
	 "ProvisionServer.<suffix> has several addresses: AMT picks one, so every one must run the SCS",
	 "Keep one address per ProvisionServer record unless every address is a working SCS"},
	{"PS_SERVERS_DISAGREE", APF_WARN,
	 "The DNS servers clients use give different answers for ProvisionServer.<suffix>: clients behave "
	 "differently depending on which server they ask",
	 "Fix zone replication or forwarding so every server returns the same record"},
	{"PS_PTR_MISSING", APF_WARN,
	 "The SCS address has no PTR record: logs and tools that identify the server by its reverse name show bare "
	 "addresses, and some ACLs keyed on names fail",
	 "Add a PTR record for the SCS address in the reverse zone"},
	{"PS_PTR_MISMATCH", APF_WARN,
	 "The PTR name of the SCS address does not resolve back to that address (no forward-confirmed reverse DNS)",
	 "Correct the PTR record (or the forward record of the name it gives) so both agree"},
	{"PS_PTR_OK", APF_PASS, "The SCS address has a PTR whose name resolves back to it", "None"},
	{"PS_TARGET_UNVERIFIED", APF_INFO,
	 "[provisioning] server_addresses is not set, so the ProvisionServer answer could not be compared with "
	 "the real SCS", "Set [provisioning] server_addresses to the SCS address(es)"},
	{"PS_HELLO_OK", APF_PASS, "The Hello port of the SCS accepts TCP connections from here", "None"},
	{"PS_HELLO_REFUSED", APF_FAIL,
	 "The SCS host answered but refused the Hello port: nothing listens there, so every AMT Hello is rejected "
	 "and remote configuration never begins",
	 "Start the setup and configuration service (or fix [provisioning] hello_port) and allow the port in the "
	 "host firewall"},
	{"PS_HELLO_NO_ANSWER", APF_ERROR,
	 "The Hello port did not answer from here (timeout or no route); a filter between this machine and the SCS "
	 "cannot be told apart from a filter clients would meet",
	 "Run the check from an AMT client VLAN; if it still fails, allow TCP to the Hello port from client VLANs to "
	 "the SCS"},
	{"PS_DNS_NO_ANSWER", APF_ERROR, "A DNS server did not answer the query, so the record could not be checked",
	 "Check that UDP and TCP 53 to the DNS server are allowed from here and that it is running"},
	{"PS_DNS_RCODE", APF_ERROR,
	 "A DNS server answered with an error (SERVFAIL, REFUSED, ...) instead of an answer, so the record could "
	 "not be checked", "Check the server's logs and its recursion/ACL settings for this client's address"},
	{0},
};

static const char *const after[] = {"dhcp.options", NULL};

struct srv_answer {
	bool answered;   /* NOERROR or NXDOMAIN came back */
	char **addrs;
	size_t n;
	char *joined;    /* sorted list, or "(none)" */
	const char *rcode;
};

static bool addr_eq(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return strcasecmp(a, b) == 0;
}

static bool list_has_addr(char *const *v, size_t n, const char *a)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(v[i], a))
			return true;
	return false;
}

static void push(char ***v, size_t *n, const char *s)
{
	if (list_has_addr(*v, *n, s))
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

/* Asks one server for A and AAAA; reports errors; fills `a` when the server gave an answer. */
static void ask_server(struct apf_ctx *ctx, const struct apf_dns_target *t, const char *name, size_t left,
		       struct srv_answer *a)
{
	static const uint16_t types[] = {APF_RR_A, APF_RR_AAAA};

	for (size_t k = 0; k < 2; k++) {
		struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, false);
		struct apf_dns_answer *ans = NULL;
		char *err = NULL;
		int rc;

		apf_ctx_step(ctx, "%s %s? to %s", name, apf_dns_type_name(types[k]), t->spec);
		rc = apf_dns_query(&o, name, types[k], &ans, &err);
		if (rc < 0) {
			struct apf_finding *f = apf_report(ctx, APF_ERROR, "PS_DNS_NO_ANSWER", "DNS server %s did not answer %s %s",
							  t->spec, name, apf_dns_type_name(types[k]));
			apf_evidence(f, "server", "%s", t->spec);
			apf_evidence(f, "query", "%s %s", name, apf_dns_type_name(types[k]));
			apf_evidence(f, "error", "%s", err ? err : "?");
			free(err);
			a->answered = false;
			return;
		}
		if (ans->rcode != 0 && ans->rcode != 3) {
			struct apf_finding *f = apf_report(ctx, APF_ERROR, "PS_DNS_RCODE", "DNS server %s answered %s for %s",
							  t->spec, ans->rcode_name, name);
			apf_evidence(f, "server", "%s", t->spec);
			apf_evidence(f, "query", "%s %s", name, apf_dns_type_name(types[k]));
			apf_evidence(f, "rcode", "%s", ans->rcode_name);
			apf_dns_answer_free(ans);
			a->answered = false;
			return;
		}
		a->answered = true;
		if (k == 0 || !a->rcode || strcmp(a->rcode, "NOERROR") == 0)
			a->rcode = ans->rcode_name;
		for (size_t i = 0; i < ans->n_rr; i++)
			if (ans->rr[i].type == types[k])
				push(&a->addrs, &a->n, ans->rr[i].data);
		bool nx = ans->rcode == 3;
		apf_dns_answer_free(ans);
		if (nx)
			break; /* the name does not exist: no AAAA either */
	}
	a->joined = a->n ? apf_dnscheck_join_sorted(a->addrs, a->n) : apf_xstrdup("(none)");
}

/* Forward-confirmed reverse DNS of one SCS address, asked of server t. */
static void check_ptr(struct apf_ctx *ctx, const struct apf_dns_target *t, const char *addr, size_t left)
{
	struct apf_dns_query_opts o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, false);
	struct apf_dns_answer *ans = NULL, *fwd = NULL;
	char *rev = apf_dns_reverse_name(addr), *err = NULL, *target = NULL;
	struct apf_finding *f;
	bool back = false;

	if (!rev)
		goto out;
	apf_ctx_step(ctx, "%s PTR? to %s", rev, t->spec);
	if (apf_dns_query(&o, rev, APF_RR_PTR, &ans, &err) < 0) {
		f = apf_report(ctx, APF_ERROR, "PS_DNS_NO_ANSWER", "DNS server %s did not answer %s PTR", t->spec, rev);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "query", "%s PTR", rev);
		apf_evidence(f, "error", "%s", err ? err : "?");
		goto out;
	}
	if (ans->rcode != 0 && ans->rcode != 3) {
		/* SERVFAIL, REFUSED...: the server did not say whether a PTR exists. */
		f = apf_report(ctx, APF_ERROR, "PS_DNS_RCODE", "DNS server %s answered %s for %s PTR", t->spec,
			       ans->rcode_name, rev);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "query", "%s PTR", rev);
		apf_evidence(f, "rcode", "%s", ans->rcode_name);
		goto out;
	}
	for (size_t i = 0; i < ans->n_rr && !target; i++)
		if (ans->rr[i].type == APF_RR_PTR)
			target = apf_xstrdup(ans->rr[i].data);
	if (!target) {
		f = apf_report(ctx, APF_WARN, "PS_PTR_MISSING", "SCS address %s has no PTR record on %s", addr, t->spec);
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "query", "%s PTR", rev);
		apf_evidence(f, "rcode", "%s", ans->rcode_name);
		goto out;
	}
	o = apf_dnscheck_opts(ctx, t, left, QUERY_CAP_MS, false);
	uint16_t ftype = strchr(addr, ':') ? APF_RR_AAAA : APF_RR_A;
	if (apf_dns_query(&o, target, ftype, &fwd, &err) < 0) {
		/* No answer to the forward query proves nothing about the PTR. */
		f = apf_report(ctx, APF_ERROR, "PS_DNS_NO_ANSWER", "DNS server %s did not answer %s %s", t->spec, target,
			       apf_dns_type_name(ftype));
		apf_evidence(f, "server", "%s", t->spec);
		apf_evidence(f, "query", "%s %s", target, apf_dns_type_name(ftype));
		apf_evidence(f, "error", "%s", err ? err : "?");
		goto out;
	}
	for (size_t i = 0; i < fwd->n_rr; i++)
		back |= fwd->rr[i].type == ftype && addr_eq(fwd->rr[i].data, addr);
	f = apf_report(ctx, back ? APF_PASS : APF_WARN, back ? "PS_PTR_OK" : "PS_PTR_MISMATCH",
		       back ? "SCS address %s has PTR %s, which resolves back to it"
			    : "SCS address %s has PTR %s, which does not resolve back to it",
		       addr, target);
	apf_evidence(f, "server", "%s", t->spec);
	apf_evidence(f, "query", "%s PTR", rev);
	apf_evidence(f, "answer", "%s", target);
	if (!back) {
		char **fa = NULL;
		size_t fn = 0;

		for (size_t i = 0; fwd && i < fwd->n_rr; i++)
			if (fwd->rr[i].type == ftype)
				push(&fa, &fn, fwd->rr[i].data);
		char *j = fn ? apf_dnscheck_join_sorted(fa, fn) : apf_xstrdup("(none)");
		apf_evidence(f, "forward_query", "%s %s", target, apf_dns_type_name(ftype));
		apf_evidence(f, "forward_answer", "%s", j);
		free(j);
		strv_free(fa, fn);
	}
out:
	free(rev);
	free(err);
	free(target);
	apf_dns_answer_free(ans);
	apf_dns_answer_free(fwd);
}

static void probe_hello(struct apf_ctx *ctx, const char *addr, uint16_t port, size_t left)
{
	uint64_t rtt = 0;
	unsigned int to = apf_dnscheck_share(ctx, left, QUERY_CAP_MS);
	struct apf_finding *f;
	int rc;

	apf_ctx_step(ctx, "TCP connect to %s port %u (Hello)", addr, port);
	rc = to ? apf_tcp_probe(addr, port, to, &rtt) : -ETIMEDOUT;
	apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_PS_HELLO_PROBED), addr);
	if (rc == 0) {
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_PS_HELLO_OK), addr);
		f = apf_report(ctx, APF_PASS, "PS_HELLO_OK", "Hello port %u on %s accepts connections", port, addr);
		apf_evidence(f, "address", "%s", addr);
		apf_evidence(f, "port", "%u", port);
		apf_evidence(f, "connect_ms", "%llu", (unsigned long long)rtt);
		return;
	}
	f = apf_report(ctx, rc == -ECONNREFUSED ? APF_FAIL : APF_ERROR,
		       rc == -ECONNREFUSED ? "PS_HELLO_REFUSED" : "PS_HELLO_NO_ANSWER", "Hello port %u on %s: %s", port,
		       addr, apf_tcp_strerror(rc));
	apf_evidence(f, "address", "%s", addr);
	apf_evidence(f, "port", "%u", port);
	apf_evidence(f, "result", "%s", apf_tcp_strerror(rc));
	apf_evidence(f, "timeout_ms", "%u", to);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const struct apf_strlist *want = &cfg->provisioning.server_addresses;
	struct apf_dns_target *srv = NULL;
	const char *source = NULL;
	size_t nsrv, nsuf;
	char **suffixes = apf_dnscheck_suffixes(ctx, &nsuf);
	char **all = NULL; /* every address seen, for PTR and Hello */
	size_t nall = 0;
	const struct apf_dns_target *ptr_server = NULL;
	uint16_t port = (uint16_t)cfg->provisioning.hello_port;
	char *servers_joined = NULL;
	enum apf_profile_answer hello = apf_profile_uses_hello(cfg);
	char *profiles = apf_profile_declared_str(cfg);

	if (hello == APF_PROFILE_NO) {
		apf_skip(ctx, "no remote-config profile declared ([amt] activation = %s): host-based activation never "
			      "looks up ProvisionServer nor sends a Hello", profiles);
		goto out;
	}
	nsrv = apf_dnscheck_servers(ctx, &srv, &source);
	for (size_t i = 0; i < nsrv; i++) {
		char *t = apf_xasprintf("%s%s%s", servers_joined ? servers_joined : "", i ? ", " : "", srv[i].spec);

		free(servers_joined);
		servers_joined = t;
	}
	if (!nsuf) {
		apf_skip(ctx, "no AMT DNS suffix: set [amt] domain_suffixes, or run dhcp.options to learn DHCP option 15");
		goto out;
	}
	if (!nsrv) {
		apf_skip(ctx, "%s", APF_DNSCHECK_NO_SERVER);
		goto out;
	}
	for (size_t s = 0; s < nsuf; s++) {
		char *name = apf_xasprintf("ProvisionServer.%s", suffixes[s]);
		char *want_joined = want->n ? apf_dnscheck_join_sorted(want->v, want->n) : NULL;
		struct srv_answer *ans = apf_xcalloc(nsrv, sizeof(*ans));
		bool bad = false, disagree = false;
		size_t answered = 0;
		const char *first_joined = NULL;

		for (size_t i = 0; i < nsrv; i++) {
			size_t left = (nsuf - s) * (nsrv - i) * 2 + 4;
			struct srv_answer *a = &ans[i];
			struct apf_finding *f;

			ask_server(ctx, &srv[i], name, left, a);
			if (!a->answered)
				continue;
			answered++;
			if (!first_joined)
				first_joined = a->joined;
			else if (strcmp(first_joined, a->joined) != 0)
				disagree = true;
			if (!a->n) {
				/* A FAIL only where a declared profile sends a Hello; with none
				 * declared the path is unknown, so say what it means instead. */
				bool needed = hello == APF_PROFILE_YES;

				bad = true;
				f = apf_report(ctx, needed ? APF_FAIL : APF_INFO,
					       needed ? "PS_RECORD_MISSING" : "PS_RECORD_NOT_REQUIRED",
					       "%s does not resolve on DNS server %s (%s)%s", name, srv[i].spec, a->rcode,
					       needed ? "" : "; no remote-config profile declared");
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "query", "%s A/AAAA", name);
				apf_evidence(f, "rcode", "%s", a->rcode);
				apf_evidence(f, "answer", "(none)");
				apf_evidence(f, "servers_from", "%s", source);
				apf_evidence(f, "activation", "%s", profiles);
				continue;
			}
			if (!ptr_server)
				ptr_server = &srv[i];
			for (size_t k = 0; k < a->n; k++) {
				push(&all, &nall, a->addrs[k]);
				if (!want->n || list_has_addr(want->v, want->n, a->addrs[k]))
					continue;
				bad = true;
				f = apf_report(ctx, APF_FAIL, "PS_WRONG_ADDRESS",
					       "%s resolves to %s on DNS server %s, which is not a configured SCS address", name,
					       a->addrs[k], srv[i].spec);
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "query", "%s A/AAAA", name);
				apf_evidence(f, "answer", "%s", a->joined);
				apf_evidence(f, "wrong_address", "%s", a->addrs[k]);
				apf_evidence(f, "expected", "%s", want_joined);
			}
			if (a->n > 1) {
				f = apf_report(ctx, APF_WARN, "PS_SEVERAL_ADDRESSES", "%s has %zu addresses on DNS server %s",
					       name, a->n, srv[i].spec);
				apf_evidence(f, "server", "%s", srv[i].spec);
				apf_evidence(f, "query", "%s A/AAAA", name);
				apf_evidence(f, "answer", "%s", a->joined);
			}
		}
		if (disagree) {
			struct apf_finding *f = apf_report(ctx, APF_WARN, "PS_SERVERS_DISAGREE",
							   "DNS servers give different answers for %s", name);
			apf_evidence(f, "query", "%s A/AAAA", name);
			for (size_t i = 0, k = 0; i < nsrv; i++) {
				char key[32];

				if (!ans[i].answered)
					continue;
				snprintf(key, sizeof(key), "answer_%zu", ++k);
				apf_evidence(f, key, "%s: %s", srv[i].spec, ans[i].joined);
			}
		}
		if (answered == nsrv && !bad) {
			struct apf_finding *f = apf_report(ctx, APF_PASS, "PS_RECORD_OK", "%s resolves to %s on %zu DNS server(s)",
							   name, first_joined, nsrv);
			apf_evidence(f, "query", "%s A/AAAA", name);
			apf_evidence(f, "answer", "%s", first_joined);
			apf_evidence(f, "servers", "%s", servers_joined);
			apf_evidence(f, "servers_from", "%s", source);
			if (want_joined)
				apf_evidence(f, "expected", "%s", want_joined);
		}
		for (size_t i = 0; i < nsrv; i++) {
			strv_free(ans[i].addrs, ans[i].n);
			free(ans[i].joined);
		}
		free(ans);
		free(want_joined);
		free(name);
	}
	if (!want->n && nall) {
		struct apf_finding *f = apf_report(ctx, APF_INFO, "PS_TARGET_UNVERIFIED",
						   "ProvisionServer resolves, but no SCS address is configured to compare with");
		char *j = apf_dnscheck_join_sorted(all, nall);

		apf_evidence(f, "answer", "%s", j);
		free(j);
	}
	for (size_t i = 0; i < nall && ptr_server; i++)
		check_ptr(ctx, ptr_server, all[i], (nall - i) * 3 + nall);
	/*
	 * Knock only on addresses that are the SCS (or every answer when no SCS is
	 * configured): a wrong address is already a FAIL, and probing it would send
	 * traffic to a host nobody asked us to touch.
	 */
	for (size_t i = 0; i < nall; i++)
		if (!want->n || list_has_addr(want->v, want->n, all[i]))
			probe_hello(ctx, all[i], port, nall - i);
out:
	free(profiles);
	free(servers_joined);
	strv_free(all, nall);
	apf_dnscheck_strv_free(suffixes);
	free(srv);
	return 0;
}

const struct apf_check apf_check_dns_provisionserver = {
	.id = "dns.provisionserver",
	.title = "ProvisionServer DNS record and Hello port",
	.summary = "Resolves ProvisionServer.<AMT DNS suffix> on every DNS server AMT clients use, checks that it "
		   "names the configured setup and configuration server (with a matching PTR) and that the Hello "
		   "port accepts connections: without this, AMT remote configuration never starts.",
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 20000,
	.codes = codes,
	.run = run,
};
