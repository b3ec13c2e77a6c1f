/* SPDX-License-Identifier: MIT */
/*
 * Endpoint URLs (wss://, https://, tls://, tcp://) parsed into host, port and
 * path: no network, so the configuration can validate them (src/config.c) without
 * pulling in the resolver and TLS that src/endpoint.h probes them with.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most addresses of one name that are probed. */
#define APF_ENDPOINT_MAX_ADDR 4

enum apf_endpoint_scheme {
	APF_EP_WSS,   /* wss://: TLS, then the WebSocket upgrade */
	APF_EP_HTTPS, /* https://: TLS, then a GET of the path (any HTTP answer is an answer) */
	APF_EP_TLS,   /* tls://host:port: TLS only */
	APF_EP_TCP,   /* tcp://host:port: TCP connect only */
};

struct apf_endpoint {
	char *url;               /* as configured */
	enum apf_endpoint_scheme scheme;
	char host[256];          /* name or address literal (without brackets) */
	uint16_t port;
	char path[256];          /* "/activate"; "/" when none */
	bool host_is_address;
	/* resolution */
	int dns_rc;              /* 0 resolved; -ENOENT no address (NXDOMAIN/NODATA); -EIO no usable answer */
	char *dns;               /* what DNS said, for evidence */
	char addr[APF_ENDPOINT_MAX_ADDR][48];
	size_t n_addr;
	size_t n_addr_total;     /* addresses DNS gave (may exceed n_addr) */
};

/*
 * Parses "scheme://host[:port][/path]" (host a name, an IPv4 address or a
 * bracketed IPv6 address). wss and https default to port 443; tls and tcp
 * need one; `default_port` (0 = none) stands in for a missing port of any
 * scheme. Returns 0, or -EINVAL with *why (static) saying what is wrong.
 */
int apf_endpoint_parse(const char *url, uint16_t default_port, struct apf_endpoint *e, const char **why);
/* A bare "host[:port]" as tls://host:port (for lists of server names). */
int apf_endpoint_parse_host(const char *spec, uint16_t default_port, struct apf_endpoint *e, const char **why);
void apf_endpoint_clear(struct apf_endpoint *e);
