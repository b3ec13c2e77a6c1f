/* SPDX-License-Identifier: MIT */
/*
 * The one door for DNS messages from the network into ldns, for src/net/ only
 * (it includes ldns): src/net/dns.c and src/net/dnswire.c parse every answer
 * through it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

/*
 * ldns_wire2pkt() for hostile input. Returns 0 with *out (free with
 * ldns_pkt_free()) or -EPROTO with *out NULL: the message does not parse, or
 * its additional section holds more than one TSIG record (RFC 8945 5.1 allows
 * one, the last). ldns 1.8.3 keeps the last TSIG it reads and leaks the one
 * before, so a server could make every answer cost memory.
 */
int apf_dns_wire2pkt(ldns_pkt **out, const uint8_t *wire, size_t len);
