/* SPDX-License-Identifier: MIT */
/*
 * The DHCP client socket: a plain UDP socket bound to 0.0.0.0:68 on one
 * interface (SO_BINDTODEVICE) that may broadcast (SO_BROADCAST). It works on
 * an interface without an IPv4 address as long as requests set the broadcast
 * flag. Needs root, or CAP_NET_BIND_SERVICE (port 68) and CAP_NET_RAW
 * (binding to a device).
 *
 * The check tests link a replacement of this file (tests/checks/fake_dhcp_net.c):
 * every function declared here must be defined there too.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dhcp/codec.h"

struct apf_dhcp_sock;

/* What the client knows about its interface. */
struct apf_dhcp_ifinfo {
	unsigned int index;
	uint32_t addr;      /* first IPv4 address, network order; 0 when none */
	uint8_t mac[6];     /* all zero when the interface has none */
	bool has_mac;
};

/* Looks `ifname` up: -ENODEV when it does not exist. */
int apf_dhcp_ifinfo(const char *ifname, struct apf_dhcp_ifinfo *out);

/*
 * Opens the socket on `ifname`. Returns 0, -ENODEV (no such interface),
 * -EACCES (not allowed to bind port 68 or the device), -EADDRINUSE (another
 * DHCP client holds port 68 without SO_REUSEADDR) or another -errno. On error
 * *err_out (may be NULL) gets a message naming the failed call (caller frees).
 */
int apf_dhcp_open(const char *ifname, struct apf_dhcp_sock **out, char **err_out);
void apf_dhcp_close(struct apf_dhcp_sock *s);

/* Sends `len` bytes to dst:67 (network order; INADDR_BROADCAST for a broadcast). 0 or -errno. */
int apf_dhcp_send(struct apf_dhcp_sock *s, const uint8_t *pkt, size_t len, uint32_t dst);

/*
 * Waits until `deadline_ms` (CLOCK_MONOTONIC, see apf_now_ms()) for one
 * BOOTREPLY with transaction id `xid`; other packets are read and dropped.
 * Returns 0 and the decoded message (with src_addr set) in *out, -ETIMEDOUT
 * when the deadline passes, or -errno when the socket fails.
 */
int apf_dhcp_recv(struct apf_dhcp_sock *s, uint32_t xid, uint64_t deadline_ms, struct apf_dhcp_msg **out);

/* A random transaction id and a random locally administered unicast MAC that
 * starts 02:61:70:66 ("apf"), so test leases are easy to recognise. */
uint32_t apf_dhcp_random_xid(void);
void apf_dhcp_test_mac(uint8_t mac[6]);
