/* SPDX-License-Identifier: MIT */
/* One HTTP(S) request through libcurl, with size and time caps (for net/fetch.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct apf_http_response {
	long status;          /* HTTP status, e.g. 200 */
	char *content_type;   /* may be NULL */
	unsigned char *body;  /* may be NULL when empty */
	size_t len;
	char *effective_url;  /* after redirects */
	char *redirect_url;   /* a 3xx answer's absolute Location, NULL otherwise */
};

/* One HTTP exchange; apf_fetch() (net/fetch.h) is what callers use. */
struct apf_http_req {
	const char *url;          /* http or https only; other schemes are -EPROTONOSUPPORT */
	const char *connect_ip;   /* numeric address to use for the URL's host; NULL = the host is an IP literal */
	const char *content_type; /* POST when body is set */
	const unsigned char *body;
	size_t body_len;
	size_t max_bytes;         /* bodies larger than this are -EFBIG */
	unsigned int timeout_ms;
	const char *ca_file;      /* https: NULL = the system CA store */
};

/*
 * Performs one request without following redirects (a 3xx comes back with
 * ->redirect_url set). libcurl never resolves a name here: the caller passes
 * the address, so no resolver thread outlives the timeout. Returns 0 for any
 * HTTP status, or -errno with *err_out set (caller frees). *out stays NULL on error.
 */
int apf_http_request(const struct apf_http_req *q, struct apf_http_response **out, char **err_out);

void apf_http_response_free(struct apf_http_response *r);

/* Process-wide init/cleanup; main() calls them before/after any thread exists. */
int apf_http_global_init(void);
void apf_http_global_cleanup(void);
