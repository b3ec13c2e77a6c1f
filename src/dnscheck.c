/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "dnscheck.h"
#include "util.h"
#include "net/dns.h"

size_t apf_dnscheck_servers_or(const struct apf_ctx *ctx, const char *const *fallback, const char *fallback_source,
			       struct apf_dns_target **out, const char **source)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *const *learned = apf_fact_get(ctx, APF_FACT_DHCP_DNS_SERVERS);
	size_t n = 0, cap;
	const char *const *v;
	struct apf_dns_target *t;

	*out = NULL;
	if (cfg->dns.servers.n) {
		v = (const char *const *)cfg->dns.servers.v;
		cap = cfg->dns.servers.n;
		*source = "[dns] servers";
	} else if (learned || fallback) {
		v = learned ? learned : fallback;
		for (cap = 0; v[cap]; cap++)
			;
		*source = learned ? "DHCP option 6 (dhcp.options)" : fallback_source;
	} else {
		*source = NULL;
		return 0;
	}
	t = apf_xcalloc(cap, sizeof(*t));
	for (size_t i = 0; i < cap; i++) {
		struct apf_dns_target *d = &t[n];
		bool dup = false;

		if (strlen(v[i]) >= sizeof(d->spec) || apf_dns_server_parse(v[i], d->ip, sizeof(d->ip), &d->port) < 0)
			continue;
		snprintf(d->spec, sizeof(d->spec), "%s", v[i]);
		for (size_t j = 0; j < n; j++)
			dup |= strcmp(t[j].ip, d->ip) == 0 && t[j].port == d->port;
		if (!dup)
			n++;
	}
	if (!n) {
		free(t);
		t = NULL;
		*source = NULL;
	}
	*out = t;
	return n;
}

size_t apf_dnscheck_servers(const struct apf_ctx *ctx, struct apf_dns_target **out, const char **source)
{
	return apf_dnscheck_servers_or(ctx, NULL, NULL, out, source);
}

void apf_dnscheck_resolver_init(struct apf_dnscheck_resolver *r, const struct apf_ctx *ctx, const char *const *fallback,
				const char *fallback_source)
{
	memset(r, 0, sizeof(*r));
	r->n = apf_dnscheck_servers_or(ctx, fallback, fallback_source, &r->srv, &r->source);
	r->fails = apf_xcalloc(r->n ? r->n : 1, sizeof(*r->fails));
}

void apf_dnscheck_resolver_clear(struct apf_dnscheck_resolver *r)
{
	free(r->srv);
	free(r->fails);
	memset(r, 0, sizeof(*r));
}

/* Of two failures, the one that says more about the name: an answer (error
 * rcode, malformed) says more than a refusal, which says more than silence. */
static int more_telling(int a, int b)
{
	static const int order[] = {-EHOSTDOWN, -ETIMEDOUT, -ECONNREFUSED, -EPROTO};
	size_t ra = 0, rb = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == a)
			ra = i;
		if (order[i] == b)
			rb = i;
	}
	return rb >= ra ? b : a;
}

static bool server_alive(const struct apf_dnscheck_resolver *r, size_t i)
{
	return r->fails[i] < APF_DNSCHECK_DEAD_AFTER;
}

int apf_dnscheck_ask(struct apf_dnscheck_resolver *r, uint64_t deadline_ms, unsigned int cap_ms, const char *name,
		     uint16_t type, struct apf_dns_answer **ans, const struct apf_dns_target **from, char **err_out)
{
	int rc = -EHOSTDOWN;
	size_t alive = 0;

	*ans = NULL;
	if (from)
		*from = NULL;
	if (!r->n) {
		apf_err_set(err_out, "%s", APF_DNSCHECK_NO_SERVER);
		return -EDESTADDRREQ;
	}
	for (size_t i = 0; i < r->n; i++)
		alive += server_alive(r, i);
	if (!alive)
		apf_err_set(err_out, "not asked: every DNS server timed out repeatedly or refused");
	for (size_t i = 0; i < r->n; i++) {
		uint64_t now = apf_now_ms();
		uint64_t left = deadline_ms > now ? deadline_ms - now : 0;
		struct apf_dns_query_opts o = {.server = r->srv[i].ip, .port = r->srv[i].port};
		struct apf_dns_answer *a = NULL;
		char *err = NULL;
		int q;

		if (!server_alive(r, i))
			continue;
		if (left < 50) {
			if (rc == -EHOSTDOWN) {
				rc = -ECANCELED;
				apf_err_set(err_out, "not asked: the time is up");
			}
			break;
		}
		/* Enough of the time that a dead server is found out (and dropped) with time left to ask the others. */
		left /= APF_DNSCHECK_DEAD_AFTER * alive + 1;
		o.timeout_ms = left > cap_ms ? cap_ms : left < 100 ? 100 : (unsigned int)left;
		q = apf_dns_query(&o, name, type, &a, &err);
		if (q == 0 && (a->rcode == 0 || a->rcode == 3)) {
			r->fails[i] = 0;
			*ans = a;
			if (from)
				*from = &r->srv[i];
			free(err);
			return 0;
		}
		if (q == 0) {
			r->fails[i] = 0;
			q = -EPROTO;
			free(err);
			err = apf_xstrdup(a->rcode_name ? a->rcode_name : "error rcode");
			apf_dns_answer_free(a);
		} else if (q == -ECONNREFUSED) {
			r->fails[i] = APF_DNSCHECK_DEAD_AFTER;
		} else if (q == -ETIMEDOUT) {
			r->fails[i]++;
		}
		if (more_telling(rc, q) == q) {
			rc = q;
			apf_err_set(err_out, "%s: %s", r->srv[i].spec, err ? err : strerror(-q));
		}
		free(err);
	}
	return rc;
}

void apf_dnscheck_ask_fleet(const struct apf_dnscheck_resolver *r, struct apf_fleet_list *l, unsigned int window,
			    unsigned int rate_limit, unsigned int cap_ms, uint64_t deadline_ms, size_t *from,
			    char **gave_up)
{
	for (size_t s = 0; s < r->n; s++) {
		uint64_t now = apf_now_ms(), left = deadline_ms > now ? deadline_ms - now : 0;
		/* A silent server is given up after a first try and two doublings (7
		 * first-try timeouts); every server still to be asked must fit, with
		 * room for a loaded machine. */
		uint64_t first = left / (10 * (r->n - s));
		struct apf_fleet_opts o = {
			.server = r->srv[s].ip,
			.port = r->srv[s].port,
			.window = window,
			.rate_limit = rate_limit,
			.timeout_ms = first > cap_ms ? cap_ms : first < 50 ? 50 : (unsigned int)first,
			.retries = 2,
			.deadline_ms = deadline_ms,
			.forward_only = true,
			.give_up_after = APF_DNSCHECK_DEAD_AFTER,
		};
		size_t asked = 0;

		for (size_t k = 0; k < l->n; k++) {
			struct apf_fleet_host *h = &l->h[k];

			if (h->verdict == APF_FLEET_TIMEOUT || h->verdict == APF_FLEET_SERVER_ERROR)
				h->verdict = APF_FLEET_PENDING;
			if (h->verdict == APF_FLEET_PENDING) {
				from[k] = s;
				asked++;
			}
		}
		if (!asked || !left)
			break;
		if (apf_fleet_run(&o, l, NULL, &gave_up[s]) == 0) {
			free(gave_up[s]);
			gave_up[s] = NULL;
		} else if (!gave_up[s]) {
			gave_up[s] = apf_xasprintf("%s: the queries could not be sent", r->srv[s].spec);
		}
	}
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int apf_dnscheck_resolve_with(struct apf_dnscheck_resolver *r, struct apf_ctx *ctx, const char *name,
			      unsigned int timeout_ms, char **ip_out, char **server_out, char **err_out)
{
	struct apf_dns_answer *ans = NULL;
	char *err = NULL;
	int rc;

	*ip_out = NULL;
	if (server_out)
		*server_out = NULL;
	if (err_out)
		*err_out = NULL;
	if (is_ip_literal(name)) {
		*ip_out = apf_xstrdup(name);
		return 0;
	}
	rc = apf_dnscheck_ask(r, apf_ctx_deadline_ms(ctx), timeout_ms, name, APF_RR_A, &ans, NULL, &err);
	if (rc < 0) {
		if (err_out)
			*err_out = err ? err : apf_xstrdup(strerror(-rc));
		else
			free(err);
		return rc;
	}
	free(err);
	if (server_out && ans->server)
		*server_out = apf_xstrdup(ans->server);
	for (size_t i = 0; i < ans->n_rr; i++) {
		if (ans->rr[i].type == APF_RR_A && ans->rr[i].data) {
			*ip_out = apf_xstrdup(ans->rr[i].data);
			break;
		}
	}
	if (!*ip_out) {
		if (err_out)
			*err_out = apf_xasprintf("%s: %s A -> %s, no address", ans->server ? ans->server : "?", name,
						 ans->rcode_name ? ans->rcode_name : "?");
		rc = -ENOENT;
	}
	apf_dns_answer_free(ans);
	return rc;
}

int apf_dnscheck_resolve(struct apf_ctx *ctx, const char *name, unsigned int timeout_ms, char **ip_out,
			 char **server_out, char **err_out)
{
	struct apf_dnscheck_resolver r;
	int rc;

	apf_dnscheck_resolver_init(&r, ctx, NULL, NULL);
	rc = apf_dnscheck_resolve_with(&r, ctx, name, timeout_ms, ip_out, server_out, err_out);
	apf_dnscheck_resolver_clear(&r);
	return rc;
}

static int fetch_resolve(void *arg, const char *host, unsigned int timeout_ms, char **ip_out, char **why_out)
{
	return apf_dnscheck_resolve(arg, host, timeout_ms, ip_out, NULL, why_out);
}

struct apf_fetch_opts apf_dnscheck_fetch_opts(struct apf_ctx *ctx, unsigned int timeout_ms, size_t max_bytes)
{
	return (struct apf_fetch_opts){
		.max_bytes = max_bytes,
		.timeout_ms = timeout_ms,
		.resolve = fetch_resolve,
		.resolve_arg = ctx,
	};
}

static void add_suffix(char ***v, size_t *n, const char *s)
{
	size_t len = strlen(s);
	char *c;

	while (len && s[len - 1] == '.')
		len--;
	if (!len)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i]) == len && strncasecmp((*v)[i], s, len) == 0)
			return;
	c = apf_xmalloc(len + 1);
	memcpy(c, s, len);
	c[len] = '\0';
	*v = apf_xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = c;
	(*v)[*n] = NULL;
}

char **apf_dnscheck_suffixes(const struct apf_ctx *ctx, size_t *n)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *const *learned = apf_fact_get(ctx, APF_FACT_DHCP_DOMAIN_SUFFIX);
	char **v = apf_xcalloc(1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < cfg->amt.domain_suffixes.n; i++)
		add_suffix(&v, n, cfg->amt.domain_suffixes.v[i]);
	for (size_t i = 0; learned && learned[i]; i++)
		add_suffix(&v, n, learned[i]);
	return v;
}

void apf_dnscheck_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

unsigned int apf_dnscheck_share(const struct apf_ctx *ctx, size_t left, unsigned int cap)
{
	unsigned int rem = apf_ctx_remaining_ms(ctx);
	unsigned int share = left ? (unsigned int)(rem / left) : rem;

	if (!rem)
		return 0;
	if (share > cap)
		share = cap;
	if (share < 50)
		share = rem < 50 ? rem : 50;
	return share;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *apf_dnscheck_join_sorted(char *const *v, size_t n)
{
	const char **c = apf_xcalloc(n ? n : 1, sizeof(*c));
	size_t m = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		c[i] = v[i];
	qsort(c, n, sizeof(*c), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (m == 0 || strcmp(c[i], c[m - 1]) != 0)
			c[m++] = c[i];
	}
	s = apf_strv_join(c, m, ", ");
	free(c);
	return s;
}

struct apf_dns_query_opts apf_dnscheck_opts(const struct apf_ctx *ctx, const struct apf_dns_target *t, size_t left,
					    unsigned int cap, bool tcp)
{
	return (struct apf_dns_query_opts){
		.server = t->ip, .port = t->port, .tcp = tcp, .timeout_ms = apf_dnscheck_share(ctx, left, cap)};
}
