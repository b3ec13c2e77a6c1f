/* SPDX-License-Identifier: MIT */
/* UDP: one request, one reply, bounded by a timeout. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Sends `req` to ip:port from a connected socket (so only that peer's reply
 * is taken, and an ICMP port unreachable comes back as -ECONNREFUSED) and
 * waits at most timeout_ms for one datagram, copied into resp (cut to cap).
 * Returns 0, -ETIMEDOUT, -ECONNREFUSED, -EINVAL for a bad address, or -errno.
 */
int apf_udp_exchange(const char *ip, uint16_t port, const void *req, size_t req_len, void *resp, size_t cap,
		     size_t *resp_len, unsigned int timeout_ms);
