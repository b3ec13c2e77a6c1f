/* SPDX-License-Identifier: MIT */
/* TCP connects bounded by a timeout: a reachability probe, a connect that hands the socket over,
 * and a small bounded request/response exchange on it. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

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
 * libraries (libldap) whose own connect and handshake waits are not bounded,
 * and for apf_tcp_send_all()/apf_tcp_recv_exact().
 */
int apf_tcp_connect(const char *ip, uint16_t port, unsigned int timeout_ms, int *fd_out);

/* "connection refused", "timed out", ... for the codes above. */
const char *apf_tcp_strerror(int rc);

/* Sends all of buf before deadline_ms (CLOCK_MONOTONIC ms): 0, -ETIMEDOUT or -errno (never SIGPIPE). */
int apf_tcp_send_all(int fd, const void *buf, size_t len, uint64_t deadline_ms);

/*
 * Reads exactly len bytes before deadline_ms: 0, -ETIMEDOUT, -ECONNRESET when
 * the peer closed first, or -errno. *got is how many bytes arrived either way.
 */
int apf_tcp_recv_exact(int fd, void *buf, size_t len, uint64_t deadline_ms, size_t *got);

/* Fills *ss and *len for a numeric IPv4/IPv6 address and port: 0, or -EINVAL (not an address). Also used by udp.c. */
int apf_net_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
