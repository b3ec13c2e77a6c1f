/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the answer to the WebSocket upgrade request (what a hostile
 * activation server may send after TLS): parsed as an HTTP/1.x header and
 * judged against a fixed key. Every value kept must be printable and within
 * its cap (checked with abort()).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsupgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t cap)
{
	size_t n = strlen(s);

	if (n > cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_http_head h;
	const char *why = NULL;
	int rc = apf_http_head_parse((const char *)data, size, &h, &why);

	if (rc == 0) {
		printable(h.reason, APF_HTTP_VALUE_MAX);
		printable(h.upgrade, APF_HTTP_VALUE_MAX);
		printable(h.connection, APF_HTTP_VALUE_MAX);
		printable(h.accept, APF_HTTP_VALUE_MAX);
		printable(h.server, APF_HTTP_VALUE_MAX);
		printable(h.location, APF_HTTP_VALUE_MAX);
		if (h.status < 0 || h.status > 999)
			abort();
	} else if (!why) {
		abort();
	}
	(void)apf_ws_verdict_text(apf_ws_judge(&h, rc == 0, "dGhlIHNhbXBsZSBub25jZQ=="));
	return 0;
}
