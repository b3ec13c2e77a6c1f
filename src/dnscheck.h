/* SPDX-License-Identifier: MIT */
/*
 * Helpers the dns.* checks share: which DNS servers and domain suffixes the
 * AMT clients use (configuration first, else what dhcp.options learned), and
 * how to split a check's remaining time over its queries.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "dnsfleet.h"
#include "net/dns.h"
#include "net/fetch.h"

struct apf_dns_target {
	char spec[80];  /* as configured: "192.0.2.1" or "127.0.0.1#5301" (for evidence) */
	char ip[48];    /* numeric address */
	uint16_t port;
};

/* Why a check has no client DNS server to ask: the one wording, for findings and skips. */
#define APF_DNSCHECK_NO_SERVER                                                                                         \
	"no client DNS server known: set [dns] servers, or run dhcp.options to learn the DHCP option-6 servers (the "   \
	"host's own resolver is never used)"

/*
 * The DNS servers AMT clients use, decided here and nowhere else: `[dns]
 * servers`, else the option-6 servers dhcp.options learned (its "dns_servers"
 * fact), else none. Never the host's resolver (/etc/resolv.conf): this machine
 * need not use what the AMT clients use. Entries that do not parse are
 * dropped. *source says where they came from ("[dns] servers" or "DHCP option
 * 6 (dhcp.options)"; NULL when none). Returns the count; *out is NULL when
 * none (free with free()).
 */
size_t apf_dnscheck_servers(const struct apf_ctx *ctx, struct apf_dns_target **out, const char **source);

/*
 * The same, with one more source after those two: `fallback` (NULL-terminated
 * server specs, may be NULL), named `fallback_source` in *source. For a check
 * that took a DHCP lease itself and holds that lease's option 6.
 */
size_t apf_dnscheck_servers_or(const struct apf_ctx *ctx, const char *const *fallback, const char *fallback_source,
			       struct apf_dns_target **out, const char **source);

/*
 * Asking the client DNS servers in turn: the one loop for it. A server that
 * times out APF_DNSCHECK_DEAD_AFTER times in a row, or refuses (ICMP port
 * unreachable), is not asked again by this resolver, so a dead server costs a
 * few timeouts per run, not one per lookup.
 */
#define APF_DNSCHECK_DEAD_AFTER 3

struct apf_dnscheck_resolver {
	struct apf_dns_target *srv;
	size_t n;
	const char *source;   /* as apf_dnscheck_servers() says; NULL when n is 0 */
	unsigned int *fails;  /* consecutive failures per server; APF_DNSCHECK_DEAD_AFTER = not asked again */
};

/* Fills r with apf_dnscheck_servers_or(ctx, fallback, fallback_source, ...). Free with apf_dnscheck_resolver_clear(). */
void apf_dnscheck_resolver_init(struct apf_dnscheck_resolver *r, const struct apf_ctx *ctx, const char *const *fallback,
				const char *fallback_source);
void apf_dnscheck_resolver_clear(struct apf_dnscheck_resolver *r);

/*
 * Asks the servers in turn for name/type until one gives an answer: 0 with
 * *ans (rcode NOERROR or NXDOMAIN; *from, when not NULL, is the server that
 * gave it). An error rcode (SERVFAIL, REFUSED, ...) moves on to the next
 * server. Each query gets at most cap_ms, and at most the share of the time
 * left before deadline_ms (apf_now_ms() clock) that lets every live server
 * time out APF_DNSCHECK_DEAD_AFTER times with time to spare. Otherwise nothing
 * was learned about the name, and *err_out (may be NULL) names the server and
 * what happened:
 *   -EDESTADDRREQ  no server at all (APF_DNSCHECK_NO_SERVER),
 *   -EHOSTDOWN     every server was given up before (timeouts, refusals),
 *   -ECANCELED     the deadline passed before any server was asked,
 *   -ETIMEDOUT     no server answered in time,
 *   -ECONNREFUSED  the servers refused,
 *   -EPROTO        answers came back but only with error rcodes or malformed.
 */
int apf_dnscheck_ask(struct apf_dnscheck_resolver *r, uint64_t deadline_ms, unsigned int cap_ms, const char *name,
		     uint16_t type, struct apf_dns_answer **ans, const struct apf_dns_target **from, char **err_out);

/*
 * The same loop for a fleet of names (A only): all of `l` goes to the first
 * server a window of `window` queries at a time at `rate_limit` queries/s
 * (src/dnsfleet.c), and each later server is asked only for what no server
 * before it settled. An address, NXDOMAIN or NODATA settles a host; no answer
 * (after two retries) or an error rcode goes on to the next server. A server
 * that refuses (ICMP) or leaves APF_DNSCHECK_DEAD_AFTER queries in a row
 * unanswered is given up at once, and the first-try timeout (at most
 * `cap_ms`, adapted to measured round trips) is sized so that every server can
 * be given up before deadline_ms. On return each host's verdict is OK, NO_A,
 * TIMEOUT, SERVER_ERROR, or PENDING (never asked: see gave_up); from[k] is the
 * server (index into r->srv) that settled l->h[k] or was asked last, and
 * gave_up[s] (r->n entries, caller frees each) says why server s was given up,
 * NULL when it was not.
 */
void apf_dnscheck_ask_fleet(const struct apf_dnscheck_resolver *r, struct apf_fleet_list *l, unsigned int window,
			    unsigned int rate_limit, unsigned int cap_ms, uint64_t deadline_ms, size_t *from,
			    char **gave_up);

/*
 * Resolves host `name` (A) through the client DNS servers, the way AMT's
 * infrastructure would. An IP literal is returned as is. 0 and *ip_out (caller
 * frees), -ENOENT when a server said the name has no address (NXDOMAIN, no A
 * record), or apf_dnscheck_ask()'s errors (the lookup could not be made);
 * *err_out (may be NULL) explains, *server_out (may be NULL) names the server
 * that answered. The _with form shares resolver r (and its dead servers)
 * across several names.
 */
int apf_dnscheck_resolve(struct apf_ctx *ctx, const char *name, unsigned int timeout_ms, char **ip_out,
			 char **server_out, char **err_out);
int apf_dnscheck_resolve_with(struct apf_dnscheck_resolver *r, struct apf_ctx *ctx, const char *name,
			      unsigned int timeout_ms, char **ip_out, char **server_out, char **err_out);

/*
 * Options for apf_fetch() from a check: `timeout_ms` for the whole fetch, URL
 * host names resolved with apf_dnscheck_resolve() (the client DNS servers,
 * never the host resolver; with none known a host name is not fetched).
 */
struct apf_fetch_opts apf_dnscheck_fetch_opts(struct apf_ctx *ctx, unsigned int timeout_ms, size_t max_bytes);

/*
 * The AMT DNS suffixes: `[amt] domain_suffixes` plus the option-15 suffix that
 * dhcp.options learned, de-duplicated case-insensitively and without a
 * trailing dot. Returns a NULL-terminated array (free with apf_dnscheck_strv_free()).
 */
char **apf_dnscheck_suffixes(const struct apf_ctx *ctx, size_t *n);
void apf_dnscheck_strv_free(char **v);

/*
 * A fair share of the check's remaining time for one of `left` remaining
 * queries, at most `cap` ms and at least 50 ms (0 when the deadline passed).
 */
unsigned int apf_dnscheck_share(const struct apf_ctx *ctx, size_t left, unsigned int cap);

/* Options for asking server t, over TCP or UDP, with apf_dnscheck_share()'s share of the time. */
struct apf_dns_query_opts apf_dnscheck_opts(const struct apf_ctx *ctx, const struct apf_dns_target *t, size_t left,
					    unsigned int cap, bool tcp);

/* Sorted, comma-separated, de-duplicated copy of an address list (for comparing answers). Caller frees. */
char *apf_dnscheck_join_sorted(char *const *v, size_t n);
