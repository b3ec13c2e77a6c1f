/* SPDX-License-Identifier: MIT */
/*
 * A replacement for src/net/dhcp.c in check tests: linked into the test, it
 * defines every symbol of src/net/dhcp.h, so the real socket code is never
 * pulled from the library. Replies are captured packets from
 * tests/fixtures/dhcp, queued when a request is "sent".
 *
 * Interfaces: "missing0" does not exist, "noaddr0" has no IPv4 address,
 * "noperm0" cannot be bound (as without CAP_NET_BIND_SERVICE); any other name
 * is an interface 192.0.2.2 with MAC 52:54:00:00:00:02.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Sets the replies: comma-separated fixture names, each optionally
 * "@A.B.C.D" to rewrite its server identifier (a second server), then
 * optionally "%IFNAME" to answer only on that interface. On each
 * request, every fixture whose message type answers it (DISCOVER -> OFFER,
 * REQUEST/INFORM -> ACK or NAK) is queued with the request's xid.
 */
void fake_dhcp_set_replies(const char *spec);

/* Requests "sent" since the last fake_dhcp_set_replies(): count and the i-th one's type / ciaddr / dst. */
size_t fake_dhcp_sent_count(void);
uint8_t fake_dhcp_sent_type(size_t i);
uint32_t fake_dhcp_sent_ciaddr(size_t i);
uint32_t fake_dhcp_sent_dst(size_t i);
/* The i-th request's option 81 flags, or -1 when it had none. */
int fake_dhcp_sent_fqdn_flags(size_t i);
