/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/http.h"
#include "alloc.h"

struct sink {
	unsigned char *p;
	size_t len, cap, max;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	/* Cap what a CRL or AIA server can make us hold: a hostile server gets an
	 * error, not our memory. */
	if (s->len + n > s->max) {
		s->too_big = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 16384;
		while (cap < s->len + n + 1)
			cap *= 2;
		s->p = apf_xrealloc(s->p, cap);
		s->cap = cap;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
	return n;
}

static int curl_to_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -ENOENT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* "host:port:ip" for CURLOPT_RESOLVE, so that libcurl does not resolve the host itself. */
static char *resolve_entry(const char *url, const char *ip)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *r = NULL;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	r = apf_xasprintf(strchr(ip, ':') ? "%s:%s:[%s]" : "%s:%s:%s", host, port, ip);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

int apf_http_request(const struct apf_http_req *q, struct apf_http_response **out, char **err_out)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	struct sink s = {.max = q->max_bytes};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct apf_http_response *r = NULL;
	CURLcode c;
	char *ct = NULL, *eff = NULL, *loc = NULL, *entry = NULL;
	long timeout = (long)(q->timeout_ms ? q->timeout_ms : 1);
	int rc = 0;

	*out = NULL;
	*err_out = NULL;
	if (strncasecmp(q->url, "http://", 7) != 0 && strncasecmp(q->url, "https://", 8) != 0) {
		rc = -EPROTONOSUPPORT;
		*err_out = apf_xstrdup("only http:// and https:// URLs are fetched this way");
		goto out;
	}
	h = curl_easy_init();
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	if (q->connect_ip) {
		entry = resolve_entry(q->url, q->connect_ip);
		if (!entry) {
			rc = -EINVAL;
			*err_out = apf_xstrdup("not a valid URL");
			goto out;
		}
		resolve = curl_slist_append(NULL, entry);
		curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	}
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	/* NOSIGNAL: we run in threads and never rely on signals for timeouts. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	/* Redirects are followed by apf_fetch(), which resolves each new host itself. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "amt-preflight/" APF_VERSION);
	/* The proxy settings of whoever runs this must not reroute a preflight check. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (q->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, q->ca_file);
	if (q->body) {
		char *hdr = apf_xasprintf("Content-Type: %s", q->content_type ? q->content_type : "application/octet-stream");
		hdrs = curl_slist_append(hdrs, hdr);
		free(hdr);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)q->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
	}
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		if (s.too_big || c == CURLE_FILESIZE_EXCEEDED) {
			rc = -EFBIG;
			*err_out = apf_xasprintf("response larger than %zu bytes", q->max_bytes);
		} else {
			rc = curl_to_errno(c);
			*err_out = apf_xstrdup(*errbuf ? errbuf : curl_easy_strerror(c));
		}
		goto out;
	}
	r = apf_xcalloc(1, sizeof(*r));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		r->content_type = apf_xstrdup(ct);
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
		r->effective_url = apf_xstrdup(eff);
	if (r->status >= 300 && r->status < 400 && curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		r->redirect_url = apf_xstrdup(loc);
	r->body = s.p;
	r->len = s.len;
	s.p = NULL;
	*out = r;
out:
	free(s.p);
	free(entry);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

void apf_http_response_free(struct apf_http_response *r)
{
	if (!r)
		return;
	free(r->content_type);
	free(r->body);
	free(r->effective_url);
	free(r->redirect_url);
	free(r);
}

int apf_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void apf_http_global_cleanup(void)
{
	curl_global_cleanup();
}
