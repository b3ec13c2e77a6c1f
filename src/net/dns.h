/* SPDX-License-Identifier: MIT */
/*
 * DNS queries through ldns, asked of one named server (never the host's
 * resolver: the point is to see what AMT clients see), with timeouts the
 * caller derives from its check's deadline. Truncated UDP answers are retried
 * over TCP. Only this file's .c includes ldns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	APF_RR_A = 1,
	APF_RR_NS = 2,
	APF_RR_CNAME = 5,
	APF_RR_SOA = 6,
	APF_RR_PTR = 12,
	APF_RR_TXT = 16,
	APF_RR_AAAA = 28,
	APF_RR_SRV = 33,
};

struct apf_dns_rr {
	char *owner;       /* presentation form, with trailing dot */
	uint16_t type;
	uint32_t ttl;
	char *data;        /* A/AAAA: address; PTR/CNAME/NS: target name; SRV: "prio weight port target"; else rdata text */
	/* SRV only */
	uint16_t srv_priority, srv_weight, srv_port;
	char *srv_target;
};

struct apf_dns_answer {
	int rcode;               /* 0 NOERROR, 3 NXDOMAIN, ... */
	const char *rcode_name;  /* "NOERROR", "NXDOMAIN", ... (static) */
	bool authoritative;
	bool truncated;          /* still TC after the TCP retry (should not happen) */
	bool over_tcp;           /* answered over TCP (asked for, or after TC) */
	bool tsig_signed;        /* the answer carried a TSIG that verified */
	struct apf_dns_rr *rr;   /* answer section, matching the question type (CNAMEs included) */
	size_t n_rr;
	uint64_t rtt_ms;
	char *server;            /* who answered, "192.0.2.1" */
};

/* A TSIG key, e.g. read from a BIND key file. */
struct apf_tsig {
	char *name;       /* "ddns-key." */
	char *algorithm;  /* "hmac-sha256." */
	char *secret_b64; /* secret: never log or report */
};

struct apf_dns_query_opts {
	const char *server;           /* numeric IP */
	uint16_t port;                /* 0 = 53 */
	bool tcp;                     /* ask over TCP from the start */
	unsigned int timeout_ms;      /* whole query including retries */
	const struct apf_tsig *tsig;  /* sign the query, may be NULL */
};

/*
 * Asks `server` for name/type. Returns 0 when a response came back (whatever
 * its rcode), -ETIMEDOUT, -ECONNREFUSED, -EPROTO (malformed or mismatched
 * answer, or a TSIG that did not verify), -EINVAL (bad name/server). On error
 * *err_out (may be NULL) gets a message (caller frees).
 */
int apf_dns_query(const struct apf_dns_query_opts *o, const char *name, uint16_t type,
		  struct apf_dns_answer **out, char **err_out);
void apf_dns_answer_free(struct apf_dns_answer *a);

/*
 * The records of a DNS response in wire form (RFC 1035 section 4), as
 * apf_dns_query() turns them into an answer: the answer section's records of
 * `type` and CNAMEs. Nothing is verified against a question. Returns 0, or
 * -EPROTO for a malformed message (*out stays NULL). For the fuzzer and tests.
 */
int apf_dns_answer_from_wire(const uint8_t *wire, size_t len, uint16_t type, const char *server,
			     struct apf_dns_answer **out);

/* "in-addr.arpa"/"ip6.arpa" name for an address literal; NULL if not an address. Caller frees. */
char *apf_dns_reverse_name(const char *ip);

/* Reads a BIND key file (key "name" { algorithm ...; secret "..."; };). -errno, *err_out names file:line. */
int apf_tsig_load(const char *path, struct apf_tsig **out, char **err_out);
void apf_tsig_free(struct apf_tsig *k);

/* "A", "SRV", ... */
const char *apf_dns_type_name(uint16_t type);
/* "NOERROR", "NXDOMAIN", ... for an rcode; "RCODE?" for one without a name here. */
const char *apf_dns_rcode_name(int rcode);

/*
 * Parses a `[dns] servers` entry: "IP", "IP#port" or "[IPv6]:port" (numeric
 * only). Writes the address to `ip` (at least INET6_ADDRSTRLEN bytes) and the
 * port (53 when absent). Returns 0 or -EINVAL.
 */
int apf_dns_server_parse(const char *spec, char *ip, size_t iplen, uint16_t *port);
