/* SPDX-License-Identifier: MIT */
/* TCP reachability probe: a non-blocking connect bounded by a timeout. */
#pragma once

#include <stdint.h>

/*
 * Connects to `ip` (numeric IPv4/IPv6 literal, never a name: names are
 * resolved by the caller through the DNS servers the clients use) on `port`
 * and closes again. Returns 0 when the connection was accepted, -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH/-ENETUNREACH, or -EINVAL for a bad address.
 * *rtt_ms (may be NULL) is the connect time.
 */
int apf_tcp_probe(const char *ip, uint16_t port, unsigned int timeout_ms, uint64_t *rtt_ms);

/* "connection refused", "timed out", ... for the codes above. */
const char *apf_tcp_strerror(int rc);
