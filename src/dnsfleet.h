/* SPDX-License-Identifier: MIT */
/*
 * Fleet engine for forward/reverse consistency: for every host, ask one DNS
 * server for its A (or AAAA) record, then for the PTR of that address, and
 * classify the host. One thread, non-blocking, a bounded window of queries in
 * flight over a few connected UDP sockets, an optional rate cap; truncated
 * answers are retried over TCP, lost ones retransmitted with back-off.
 *
 * Design and measurements: docs/checks/dns.host-registration.md, bench/README.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum apf_fleet_verdict {
	APF_FLEET_PENDING,      /* not classified before the deadline */
	APF_FLEET_OK,           /* A (matching the expected address, if any) and a PTR naming the host */
	APF_FLEET_NO_A,         /* NXDOMAIN, or no A/AAAA record for the name */
	APF_FLEET_A_MISMATCH,   /* the name resolves, but not to the expected address */
	APF_FLEET_NO_PTR,       /* the address has no PTR record */
	APF_FLEET_PTR_MISMATCH, /* the PTR names another host */
	APF_FLEET_TIMEOUT,      /* no answer after every retry */
	APF_FLEET_SERVER_ERROR, /* SERVFAIL, REFUSED, ... or a malformed answer */
	APF_FLEET_VERDICT_COUNT
};

/* "OK", "NO_A", ... */
const char *apf_fleet_verdict_name(enum apf_fleet_verdict v);

struct apf_fleet_host {
	/* input */
	char *name;            /* as written in the file */
	uint8_t *wire;         /* lower-cased wire form (with root label) */
	uint16_t wire_len;
	unsigned int line;     /* line in the hosts file */
	int expect_af;         /* 0 (no expected address), AF_INET or AF_INET6 */
	uint8_t expect[16];
	/* output */
	enum apf_fleet_verdict verdict;
	uint16_t failed_type;  /* APF_RR_A/AAAA or APF_RR_PTR: the query that decided a bad verdict */
	int rcode;             /* of that query, -1 when none came back */
	int addr_af;           /* address whose PTR was asked (0 when none) */
	uint8_t addr[16];
	char *found;           /* offenders only: the address found (A_MISMATCH) or PTR target (PTR_MISMATCH) */
};

struct apf_fleet_list {
	struct apf_fleet_host *h;
	size_t n;
};

/*
 * Reads a hosts file: one FQDN per line, optionally followed by its expected
 * IPv4/IPv6 address; blank lines and '#' comments are skipped. Hostile input
 * (over-long lines, control or binary bytes, bad names or addresses, more than
 * `max_hosts` hosts) rejects the whole file: -EINVAL with *err_out "FILE:LINE: why".
 * -errno for I/O errors. The caller frees *out with apf_fleet_list_free().
 */
int apf_fleet_hosts_load(const char *path, size_t max_hosts, struct apf_fleet_list **out, char **err_out);
/*
 * Fills h (zeroed by the caller) for `name`, checked as a hosts file line is.
 * Returns 0, or -EINVAL with *why (static text) when `name` is not an LDH host
 * name. What it allocates is freed with the list (apf_fleet_list_free()).
 */
int apf_fleet_host_init(struct apf_fleet_host *h, const char *name, const char **why);
void apf_fleet_list_free(struct apf_fleet_list *l);

struct apf_fleet_opts {
	const char *server;      /* numeric IP */
	uint16_t port;           /* 0 = 53 */
	unsigned int window;     /* queries in flight (1..4096), 0 = 256 */
	unsigned int rate_limit; /* queries per second sent, retransmits included; 0 = unlimited */
	unsigned int timeout_ms; /* first try until RTTs are measured, and the cap of the adaptive timer; doubled per retry; 0 = 800 */
	unsigned int retries;    /* retransmits per query after the first try */
	uint64_t deadline_ms;    /* absolute, on the apf_now_ms() clock; 0 = none */
	bool forward_only;       /* A/AAAA only: a host with an address is OK, no PTR is asked */
	unsigned int give_up_after; /* stop (-ETIMEDOUT) once this many queries in a row ran out of
				     * retries with no answer in between: the server went silent; 0 = never */
};

struct apf_fleet_stats {
	uint64_t queries;      /* first tries */
	uint64_t retransmits;
	uint64_t tcp_fallbacks; /* truncated answers re-asked over TCP */
	uint64_t stray;        /* packets that matched no query in flight (late, spoofed, garbled) */
	uint64_t elapsed_ms;
	size_t counts[APF_FLEET_VERDICT_COUNT];
};

/*
 * Classifies every host of `l` (writing their output fields) against one
 * server. Hosts whose verdict is not APF_FLEET_PENDING on entry are left as
 * they are and not counted, so a caller can ask the next server only for what
 * the previous one did not settle. Returns 0 when the run completed or hit
 * the deadline (hosts left PENDING), -ETIMEDOUT when the server went silent
 * (give_up_after; hosts not yet classified stay PENDING), -ECONNREFUSED (or
 * -EHOSTUNREACH, -ENETUNREACH) as soon as the kernel reports the server
 * unreachable (ICMP; hosts not yet classified stay PENDING, no retransmits to
 * a closed port), -EINVAL for a bad server, -errno when sockets cannot be made
 * (*err_out says which). `st` may be NULL.
 */
int apf_fleet_run(const struct apf_fleet_opts *o, struct apf_fleet_list *l, struct apf_fleet_stats *st,
		  char **err_out);

/* Presentation form of a host's checked address into buf ("" when none). */
const char *apf_fleet_addr_text(const struct apf_fleet_host *h, char *buf, size_t len);
/* Presentation form of a host's expected address into buf ("" when none). */
const char *apf_fleet_expect_text(const struct apf_fleet_host *h, char *buf, size_t len);
