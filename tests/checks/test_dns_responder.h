/* SPDX-License-Identifier: MIT */
/*
 * A scripted DNS responder for check tests: UDP and TCP on 127.0.0.1 at a
 * random port, answering from a rule table (answers built with ldns), in a
 * thread. Behaviours the tests need: drop (timeout), truncate over UDP (TC
 * retry), no TCP listener (refused), any rcode.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum {
	DNSR_TC_UDP = 1u << 0,  /* over UDP answer with TC=1 and no records (forces TCP) */
	DNSR_DROP = 1u << 1,    /* never answer */
	DNSR_NOT_AA = 1u << 2,  /* answer without the AA bit */
	DNSR_BARE = 1u << 3,    /* answer with the rule's rcode and no question section (as some servers do for FORMERR) */
};

struct dnsr_rule {
	const char *name;     /* owner, case-insensitive, trailing dot optional */
	uint16_t type;
	int rcode;            /* 0 NOERROR, 3 NXDOMAIN, ... */
	const char *rr[8];    /* answer records in presentation form, NULL-terminated */
	unsigned int flags;
};

struct dnsr;

/*
 * Starts a responder with `rules` (copied by reference: keep them alive).
 * Unknown names get NXDOMAIN; known names with another type get NOERROR and
 * no records. `flags` applies to every answer; `tcp` false leaves TCP closed.
 */
struct dnsr *dnsr_start(const struct dnsr_rule *rules, size_t n, unsigned int flags, bool tcp);
uint16_t dnsr_port(const struct dnsr *r);
unsigned int dnsr_udp_queries(const struct dnsr *r);
unsigned int dnsr_tcp_queries(const struct dnsr *r);
void dnsr_stop(struct dnsr *r);

/* A TCP listener on 127.0.0.1 (for Hello-port probes); returns the fd and port. */
int dnsr_tcp_listener(uint16_t *port);
/* A 127.0.0.1 port on which nothing listens (bound, then closed). */
uint16_t dnsr_closed_port(void);
