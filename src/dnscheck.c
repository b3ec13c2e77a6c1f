/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "dnscheck.h"
#include "util.h"
#include "net/dns.h"

static const char *const *fact(const struct apf_ctx *ctx, const char *key)
{
	return apf_fact_get(ctx, "dhcp.options", key);
}

size_t apf_dnscheck_servers(const struct apf_ctx *ctx, struct apf_dns_target **out, const char **source)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *const *learned = fact(ctx, "dns_servers");
	size_t n = 0, cap;
	const char *const *v;
	struct apf_dns_target *t;

	*out = NULL;
	if (cfg->dns.servers.n) {
		v = (const char *const *)cfg->dns.servers.v;
		cap = cfg->dns.servers.n;
		*source = "[dns] servers";
	} else if (learned) {
		for (cap = 0; learned[cap]; cap++)
			;
		v = learned;
		*source = "DHCP option 6 (dhcp.options)";
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
	}
	*out = t;
	return n;
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
	const char *const *learned = fact(ctx, "domain_suffix");
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
