/* SPDX-License-Identifier: MIT */
/*
 * DNS message parsing for code that does its own I/O (the fleet engine in
 * src/dnsfleet.c sends hand-encoded queries over non-blocking sockets): the
 * ldns part of that engine, so that only src/net/ includes ldns.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The largest DNS message (a TCP length prefix is 16 bits): size receive buffers with it. */
#define APF_DNS_MSG_MAX 65535u

/* The first rdata field of one answer record, uncompressed: the address bytes
 * of an A/AAAA record, the target name (wire form) of a PTR/CNAME/NS record. */
struct apf_dns_rdata {
	uint8_t *data;
	size_t len;
};

/*
 * Parses the DNS message `wire` (hostile input: any bytes) and returns the
 * first rdata field of every answer record of `type`, in order. Returns 0 with
 * *out (NULL when *n is 0; free with apf_dns_rdata_free()) or -EPROTO when the
 * message does not parse.
 */
int apf_dns_wire_answers(const uint8_t *wire, size_t len, uint16_t type, struct apf_dns_rdata **out, size_t *n);
void apf_dns_rdata_free(struct apf_dns_rdata *v, size_t n);

/* Presentation form of a wire-format name ("host.example.", non-printable
 * bytes escaped as \DDD). Caller frees; NULL when `wire` is not a name. */
char *apf_dns_wire_name_text(const uint8_t *wire, size_t len);
