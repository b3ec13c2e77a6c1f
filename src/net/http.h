/* SPDX-License-Identifier: MIT */
/* HTTP(S) fetches for CRL, AIA and OCSP, through libcurl, with size and time caps. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct apf_http_response {
	long status;          /* HTTP status, e.g. 200 */
	char *content_type;   /* may be NULL */
	unsigned char *body;  /* may be NULL when empty */
	size_t len;
	char *effective_url;  /* after redirects */
};

/*
 * GETs `url` (http or https only; other schemes are -EPROTONOSUPPORT), following
 * at most 3 redirects, giving up after timeout_ms and refusing bodies larger
 * than max_bytes (-EFBIG). HTTPS verifies against the system CA store unless
 * ca_file is given. Returns 0 for any HTTP status (check ->status), or -errno
 * with *err_out set to curl's explanation (caller frees). *out stays NULL on error.
 */
int apf_http_get(const char *url, size_t max_bytes, unsigned int timeout_ms, const char *ca_file,
		 struct apf_http_response **out, char **err_out);

/* POSTs `body` (for OCSP: content type "application/ocsp-request"); same rules. */
int apf_http_post(const char *url, const char *content_type, const unsigned char *body, size_t len,
		  size_t max_bytes, unsigned int timeout_ms, struct apf_http_response **out, char **err_out);

void apf_http_response_free(struct apf_http_response *r);

/* Process-wide init/cleanup; main() calls them before/after any thread exists. */
int apf_http_global_init(void);
void apf_http_global_cleanup(void);
