/* SPDX-License-Identifier: MIT */
/* TCP connects bounded by a timeout: a reachability probe, and a connect that hands the socket over. */
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

/*
 * The same connect, keeping the connection: *fd_out is the connected socket,
 * non-blocking and close-on-exec (the caller closes it), or -1 on error. For
 * libraries (libldap) whose own connect and handshake waits are not bounded.
 */
int apf_tcp_connect(const char *ip, uint16_t port, unsigned int timeout_ms, int *fd_out);

/* "connection refused", "timed out", ... for the codes above. */
const char *apf_tcp_strerror(int rc);
