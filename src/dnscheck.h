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
#include "net/dns.h"

struct apf_dns_target {
	char spec[80];  /* as configured: "192.0.2.1" or "127.0.0.1#5301" (for evidence) */
	char ip[48];    /* numeric address */
	uint16_t port;
};

/*
 * The DNS servers clients use: `[dns] servers`, else the "dns_servers" fact of
 * dhcp.options. Entries that do not parse are dropped. *source says where they
 * came from ("[dns] servers" or "DHCP option 6"). Returns the count; *out is
 * NULL when none (free with free()).
 */
size_t apf_dnscheck_servers(const struct apf_ctx *ctx, struct apf_dns_target **out, const char **source);

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
