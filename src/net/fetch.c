/* SPDX-License-Identifier: MIT */
/*
 * The one URL fetcher (see fetch.h): picks the transport by scheme, resolves
 * the host through the caller's resolver, and follows redirects itself so that
 * every hop is resolved and timed the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/fetch.h"
#include "net/ldap.h"
#include "alloc.h"
#include "util.h"

static bool scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(url, scheme, n) == 0 && url[n] == ':';
}

static unsigned int left_ms(uint64_t deadline)
{
	uint64_t now = apf_now_ms();
	return now >= deadline ? 0 : (unsigned int)(deadline - now);
}

/* The host of an http(s) URL, brackets removed from IPv6 literals; NULL when it does not parse. */
static char *http_host(const char *url)
{
	CURLU *u = curl_url();
	char *h = NULL, *r = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h) {
		size_t n = strlen(h);
		r = h[0] == '[' && n > 2 && h[n - 1] == ']' ? apf_xasprintf("%.*s", (int)(n - 2), h + 1) : apf_xstrdup(h);
	}
	curl_free(h);
	curl_url_cleanup(u);
	return r;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The address to connect to for `host`: itself when a literal, else the resolver's answer. */
static int resolve_host(const struct apf_fetch_opts *o, const char *host, uint64_t deadline, char **ip_out,
			char **err_out)
{
	char *why = NULL;
	unsigned int ms = left_ms(deadline);
	int rc;

	*ip_out = NULL;
	if (is_ip_literal(host)) {
		*ip_out = apf_xstrdup(host);
		return 0;
	}
	if (!o->resolve) {
		*err_out = apf_xasprintf("%s is a host name and no DNS server is known to resolve it", host);
		return -EINVAL;
	}
	if (ms == 0) {
		*err_out = apf_xasprintf("no time left to resolve %s", host);
		return -ETIMEDOUT;
	}
	rc = o->resolve(o->resolve_arg, host, ms, ip_out, &why);
	if (rc < 0) {
		*err_out = apf_xasprintf("cannot resolve %s: %s", host, why ? why : strerror(-rc));
		free(*ip_out);
		*ip_out = NULL;
	}
	free(why);
	return rc;
}

static int fetch_ldap(const char *url, const struct apf_fetch_opts *o, uint64_t deadline,
		      struct apf_http_response **out, char **err_out)
{
	unsigned char *data = NULL;
	size_t len = 0;
	char *host = NULL, *ip = NULL;
	uint16_t port;
	bool ldaps;
	int rc;

	if (apf_ldap_url_host(url, &host, &port, &ldaps) < 0) {
		*err_out = apf_xstrdup("not a valid LDAP URL");
		return -EINVAL;
	}
	if (!host) {
		/* Microsoft's "ldap:///CN=..." means "any DC of the client's domain" */
		if (!o->ldap_session) {
			*err_out = apf_xstrdup(
				"the URL names no server (ldap:///): it is resolved against the client's own domain");
			rc = -EINVAL;
			goto out;
		}
		rc = apf_ldap_url_fetch_on(o->ldap_session, url, o->max_bytes, &data, &len, err_out);
	} else {
		rc = resolve_host(o, host, deadline, &ip, err_out);
		if (rc == 0)
			rc = apf_ldap_url_fetch(url, ip, o->max_bytes, left_ms(deadline), &data, &len, err_out);
	}
	if (rc == 0) {
		*out = apf_xcalloc(1, sizeof(**out));
		(*out)->status = 200;
		(*out)->body = data;
		(*out)->len = len;
		(*out)->effective_url = apf_xstrdup(url);
	}
out:
	free(host);
	free(ip);
	return rc;
}

static int fetch_http(const char *url, const struct apf_fetch_opts *o, uint64_t deadline,
		      struct apf_http_response **out, char **err_out)
{
	char *cur = apf_xstrdup(url);
	int rc = -ELOOP;

	for (int hop = 0; hop <= APF_FETCH_MAX_REDIRECTS; hop++) {
		struct apf_http_response *r = NULL;
		char *host = http_host(cur), *ip = NULL;
		struct apf_http_req q = {
			.url = cur,
			.content_type = o->content_type,
			.body = o->body,
			.body_len = o->body_len,
			.max_bytes = o->max_bytes,
			.ca_file = o->ca_file,
		};

		if (!host) {
			*err_out = apf_xasprintf("not a valid URL: %s", cur);
			rc = -EINVAL;
			break;
		}
		rc = resolve_host(o, host, deadline, &ip, err_out);
		/* a literal needs no CURLOPT_RESOLVE entry: libcurl resolves nothing for it */
		q.connect_ip = is_ip_literal(host) ? NULL : ip;
		free(host);
		if (rc < 0)
			break;
		q.timeout_ms = left_ms(deadline);
		rc = q.timeout_ms ? apf_http_request(&q, &r, err_out) : -ETIMEDOUT;
		if (rc == -ETIMEDOUT && !*err_out)
			*err_out = apf_xstrdup("no time left");
		free(ip);
		if (rc < 0)
			break;
		/* POST answers (OCSP) are never redirected: a responder that does is broken */
		if (!r->redirect_url || o->body) {
			*out = r;
			break;
		}
		if (!scheme_is(r->redirect_url, "http") && !scheme_is(r->redirect_url, "https")) {
			*err_out = apf_xasprintf("redirected to a non-HTTP URL: %s", r->redirect_url);
			apf_http_response_free(r);
			rc = -EPROTONOSUPPORT;
			break;
		}
		free(cur);
		cur = r->redirect_url;
		r->redirect_url = NULL;
		apf_http_response_free(r);
		rc = -ELOOP;
	}
	if (rc == -ELOOP)
		*err_out = apf_xasprintf("more than %d redirects", APF_FETCH_MAX_REDIRECTS);
	free(cur);
	return rc;
}

static int fetch_any(const char *url, const struct apf_fetch_opts *o, uint64_t deadline,
		     struct apf_http_response **out, char **err_out)
{
	if (scheme_is(url, "ldap") || scheme_is(url, "ldaps")) {
		if (o->body) {
			*err_out = apf_xstrdup("cannot POST to an LDAP URL");
			return -EPROTONOSUPPORT;
		}
		return fetch_ldap(url, o, deadline, out, err_out);
	}
	if (scheme_is(url, "http") || scheme_is(url, "https"))
		return fetch_http(url, o, deadline, out, err_out);
	*err_out = apf_xstrdup("unsupported URL scheme");
	return -EPROTONOSUPPORT;
}

int apf_fetch(const char *url, const struct apf_fetch_opts *o, struct apf_http_response **out, char **err_out)
{
	int rc;

	*out = NULL;
	*err_out = NULL;
	if (o->timeout_ms == 0) {
		*err_out = apf_xstrdup("no time left to fetch");
		return -ETIMEDOUT;
	}
	rc = fetch_any(url, o, apf_now_ms() + o->timeout_ms, out, err_out);
	/* callers put the reason into evidence: there always is one */
	if (rc < 0 && !*err_out)
		*err_out = apf_xstrdup(strerror(-rc));
	return rc;
}

int apf_fetch_body(const char *url, const struct apf_fetch_opts *o, unsigned char **data, size_t *len,
		   char **err_out)
{
	struct apf_http_response *r = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	rc = apf_fetch(url, o, &r, err_out);
	if (rc < 0)
		return rc;
	if (r->status != 200) {
		*err_out = apf_xasprintf("HTTP status %ld", r->status);
		rc = -ENOENT;
	} else {
		*data = r->body;
		*len = r->len;
		r->body = NULL;
	}
	apf_http_response_free(r);
	return rc;
}
