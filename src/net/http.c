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

static int perform(const char *url, const char *ctype, const unsigned char *body, size_t blen, size_t max_bytes,
		   unsigned int timeout_ms, const char *ca_file, struct apf_http_response **out, char **err_out)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	struct sink s = {.max = max_bytes};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct apf_http_response *r = NULL;
	CURLcode c;
	char *ct = NULL, *eff = NULL;
	int rc = 0;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		rc = -EPROTONOSUPPORT;
		if (err_out)
			*err_out = apf_xstrdup("only http:// and https:// URLs are fetched this way");
		goto out;
	}
	h = curl_easy_init();
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* NOSIGNAL: we run in threads and never rely on signals for timeouts. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "amt-preflight/" APF_VERSION);
	/* The proxy settings of whoever runs this must not reroute a preflight check. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	if (body) {
		char *hdr = apf_xasprintf("Content-Type: %s", ctype ? ctype : "application/octet-stream");
		hdrs = curl_slist_append(hdrs, hdr);
		free(hdr);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	}
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		if (s.too_big || c == CURLE_FILESIZE_EXCEEDED) {
			rc = -EFBIG;
			if (err_out)
				*err_out = apf_xasprintf("response larger than %zu bytes", max_bytes);
		} else {
			rc = curl_to_errno(c);
			if (err_out)
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
	r->body = s.p;
	r->len = s.len;
	s.p = NULL;
	*out = r;
out:
	free(s.p);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

int apf_http_get(const char *url, size_t max_bytes, unsigned int timeout_ms, const char *ca_file,
		 struct apf_http_response **out, char **err_out)
{
	return perform(url, NULL, NULL, 0, max_bytes, timeout_ms, ca_file, out, err_out);
}

int apf_http_post(const char *url, const char *content_type, const unsigned char *body, size_t len,
		  size_t max_bytes, unsigned int timeout_ms, struct apf_http_response **out, char **err_out)
{
	return perform(url, content_type, body ? body : (const unsigned char *)"", len, max_bytes, timeout_ms, NULL,
		       out, err_out);
}

void apf_http_response_free(struct apf_http_response *r)
{
	if (!r)
		return;
	free(r->content_type);
	free(r->body);
	free(r->effective_url);
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
