/* SPDX-License-Identifier: MIT */
/* Endpoint URLs (see endpoint_url.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "endpoint_url.h"

static const struct {
	const char *name;
	enum apf_endpoint_scheme scheme;
	uint16_t port;
} schemes[] = {
	{"wss", APF_EP_WSS, 443},
	{"https", APF_EP_HTTPS, 443},
	{"tls", APF_EP_TLS, 0},
	{"tcp", APF_EP_TCP, 0},
};

static bool is_address(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "host[:port]" or "[v6][:port]" of length n into e->host / e->port. */
static int host_port(const char *s, size_t n, uint16_t def, struct apf_endpoint *e, const char **why)
{
	const char *hs = s, *colon = NULL;
	size_t hn = n;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close) {
			*why = "has an unclosed '[' in the host";
			return -EINVAL;
		}
		hs = s + 1;
		hn = (size_t)(close - hs);
		if (close + 1 < s + n) {
			if (close[1] != ':') {
				*why = "has text after the bracketed address";
				return -EINVAL;
			}
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		if (colon)
			hn = (size_t)(colon - s);
	}
	if (!hn || hn >= sizeof(e->host)) {
		*why = "has no host (or one too long)";
		return -EINVAL;
	}
	memcpy(e->host, hs, hn);
	e->host[hn] = '\0';
	for (const char *c = e->host; *c; c++) {
		if (!(*c == '.' || *c == '-' || *c == '_' || *c == ':' || (*c >= '0' && *c <= '9') ||
		      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))) {
			*why = "has a character not allowed in a host name";
			return -EINVAL;
		}
	}
	e->host_is_address = is_address(e->host);
	if (strchr(e->host, ':') && !e->host_is_address) {
		*why = "has a host that is neither a name nor an address";
		return -EINVAL;
	}
	e->port = def;
	if (colon) {
		char buf[8], *end;
		size_t pn = (size_t)(s + n - colon - 1);
		long v;

		if (!pn || pn >= sizeof(buf)) {
			*why = "has a bad port";
			return -EINVAL;
		}
		memcpy(buf, colon + 1, pn);
		buf[pn] = '\0';
		v = strtol(buf, &end, 10);
		if (*end || v < 1 || v > 65535) {
			*why = "has a bad port (1-65535)";
			return -EINVAL;
		}
		e->port = (uint16_t)v;
	}
	if (!e->port) {
		*why = "needs a port (host:port)";
		return -EINVAL;
	}
	return 0;
}

int apf_endpoint_parse(const char *url, uint16_t default_port, struct apf_endpoint *e, const char **why)
{
	const char *sep = strstr(url, "://"), *auth, *slash;
	size_t i, n = sizeof(schemes) / sizeof(schemes[0]);

	memset(e, 0, sizeof(*e));
	if (!sep) {
		*why = "is not a URL (scheme://host[:port][/path])";
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (strlen(schemes[i].name) == (size_t)(sep - url) && strncasecmp(url, schemes[i].name, sep - url) == 0)
			break;
	if (i == n) {
		*why = "has a scheme other than wss, https, tls or tcp";
		return -EINVAL;
	}
	e->scheme = schemes[i].scheme;
	auth = sep + 3;
	slash = strchr(auth, '/');
	if (memchr(auth, '@', slash ? (size_t)(slash - auth) : strlen(auth))) {
		*why = "carries user information (never put credentials in the configuration)";
		return -EINVAL;
	}
	if (host_port(auth, slash ? (size_t)(slash - auth) : strlen(auth),
		      schemes[i].port ? schemes[i].port : default_port, e, why) < 0)
		return -EINVAL;
	if (slash && strlen(slash) >= sizeof(e->path)) {
		*why = "has a path that is too long";
		return -EINVAL;
	}
	snprintf(e->path, sizeof(e->path), "%s", slash ? slash : "/");
	for (const char *c = e->path; *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			*why = "has a space or control character in the path";
			return -EINVAL;
		}
	}
	if ((e->scheme == APF_EP_TLS || e->scheme == APF_EP_TCP) && strcmp(e->path, "/") != 0) {
		*why = "has a path, which tls:// and tcp:// endpoints cannot use";
		return -EINVAL;
	}
	e->url = apf_xstrdup(url);
	return 0;
}

int apf_endpoint_parse_host(const char *spec, uint16_t default_port, struct apf_endpoint *e, const char **why)
{
	char *url = apf_xasprintf("tls://%s", spec);
	int rc = apf_endpoint_parse(url, default_port, e, why);

	free(url);
	if (rc == 0) {
		free(e->url);
		e->url = apf_xstrdup(spec);
	}
	return rc;
}

void apf_endpoint_clear(struct apf_endpoint *e)
{
	if (!e)
		return;
	free(e->url);
	free(e->dns);
	e->url = NULL;
	e->dns = NULL;
}
