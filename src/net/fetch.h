/* SPDX-License-Identifier: MIT */
/*
 * The one URL fetcher: CRL and AIA distribution points, OCSP responders and
 * the web enrollment probe all come through here, over http, https, ldap or
 * ldaps, with the same caps:
 *  - one deadline for the whole fetch, name resolution and redirects included;
 *  - host names are resolved by the caller's resolver (the DNS servers the AMT
 *    clients use, with the check's timeouts), never by libcurl's or libldap's
 *    calls into the host resolver, which no timeout of ours can interrupt;
 *  - at most APF_FETCH_MAX_REDIRECTS redirects, each target resolved the same way;
 *  - a body cap (-EFBIG past it), also for an LDAP value.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "net/http.h"

struct apf_ldap;

#define APF_FETCH_MAX_REDIRECTS 3

/* Resolves a host name to one numeric address within timeout_ms: 0 and *ip_out
 * (caller frees), or -errno with *why_out (caller frees; may stay NULL). */
typedef int (*apf_fetch_resolve_fn)(void *arg, const char *host, unsigned int timeout_ms, char **ip_out,
				    char **why_out);

struct apf_fetch_opts {
	size_t max_bytes;            /* body cap */
	unsigned int timeout_ms;     /* the whole fetch; 0 = no time left (-ETIMEDOUT at once) */
	apf_fetch_resolve_fn resolve; /* NULL: only URLs naming an IP literal are fetched */
	void *resolve_arg;
	const char *ca_file;         /* https: PEM bundle, NULL = system store */
	/* POST `body` with `content_type` instead of GET (http/https only, never redirected) */
	const char *content_type;
	const unsigned char *body;
	size_t body_len;
	/* Bound LDAP session for "ldap:///DN?attr" URLs, which name no server and mean
	 * "your own DC" (Microsoft's CDP/AIA form); NULL = such URLs are -EINVAL. */
	struct apf_ldap *ldap_session;
};

/*
 * Fetches `url`. Returns 0 with *out (status is the HTTP status, or 200 for an
 * LDAP value; check it), or -errno with *err_out saying why (caller frees):
 * -ETIMEDOUT, -ENOENT (name not found, or LDAP object/attribute absent),
 * -ECONNREFUSED, -EFBIG, -ELOOP (too many redirects), -EPROTONOSUPPORT (scheme),
 * -EINVAL (malformed URL, ldap:/// without a session), -EPROTO/-EIO (the
 * server's answer was unusable). *out stays NULL on error.
 */
int apf_fetch(const char *url, const struct apf_fetch_opts *o, struct apf_http_response **out, char **err_out);

/* The body of a 200 answer, or -ENOENT with *err_out naming the status: for
 * callers that only want the bytes. Takes the body out of a successful fetch. */
int apf_fetch_body(const char *url, const struct apf_fetch_opts *o, unsigned char **data, size_t *len,
		   char **err_out);
