/* SPDX-License-Identifier: MIT */
/* The WebSocket opening handshake (RFC 6455) and endpoint URLs: parsers and verdicts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "endpoint.h"
#include "wsupgrade.h"

/* RFC 6455 section 1.3's worked example. */
#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static enum apf_ws_verdict judge_text(const char *answer, struct apf_http_head *h)
{
	const char *why = NULL;
	bool parsed = apf_http_head_parse(answer, strlen(answer), h, &why) == 0;

	return apf_ws_judge(h, parsed, RFC_KEY);
}

static void test_accept_matches_rfc_example(void **state)
{
	char out[APF_WS_ACCEPT_LEN + 1];
	char key[APF_WS_KEY_LEN + 1], key2[APF_WS_KEY_LEN + 1];

	(void)state;
	apf_ws_accept_for(RFC_KEY, out);
	assert_string_equal(out, RFC_ACCEPT);
	/* Fresh keys: 24 base64 characters ending in "==" (16 bytes), different each time. */
	assert_int_equal(apf_ws_key_make(key), 0);
	assert_int_equal(apf_ws_key_make(key2), 0);
	assert_int_equal(strlen(key), APF_WS_KEY_LEN);
	assert_string_equal(key + 22, "==");
	assert_string_not_equal(key, key2);
}

static void test_request_shape(void **state)
{
	char *r = apf_ws_request_new("rps.example.test", 443, true, "/activate", RFC_KEY);
	char *r2 = apf_ws_request_new("2001:db8::1", 8443, true, "/", RFC_KEY);

	(void)state;
	assert_true(strncmp(r, "GET /activate HTTP/1.1\r\nHost: rps.example.test\r\n", 47) == 0);
	assert_non_null(strstr(r, "\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"));
	assert_non_null(strstr(r, "\r\nSec-WebSocket-Version: 13\r\n"));
	assert_non_null(strstr(r, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"));
	assert_string_equal(r + strlen(r) - 4, "\r\n\r\n");
	assert_non_null(strstr(r2, "\r\nHost: [2001:db8::1]:8443\r\n"));
	free(r);
	free(r2);
}

static void test_verdicts(void **state)
{
	struct apf_http_head h;

	(void)state;
	assert_int_equal(judge_text("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				    "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
				    &h),
			 APF_WS_OK);
	assert_int_equal(h.status, 101);
	assert_string_equal(h.accept, RFC_ACCEPT);
	/* Header names and tokens are case-insensitive; Connection may list several tokens. */
	assert_int_equal(judge_text("HTTP/1.1 101 OK\nupgrade: WebSocket\nconnection: keep-alive, upgrade\n"
				    "sec-websocket-accept:" RFC_ACCEPT "\n\n",
				    &h),
			 APF_WS_OK);
	assert_int_equal(judge_text("HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n", &h), APF_WS_STATUS);
	assert_int_equal(h.status, 404);
	assert_string_equal(h.reason, "Not Found");
	assert_string_equal(h.server, "nginx");
	assert_int_equal(judge_text("HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT
				    "\r\n\r\n",
				    &h),
			 APF_WS_NO_UPGRADE);
	assert_int_equal(judge_text("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " RFC_ACCEPT
				    "\r\n\r\n",
				    &h),
			 APF_WS_NO_CONNECTION);
	assert_int_equal(judge_text("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				    "Sec-WebSocket-Accept: AAAAPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
				    &h),
			 APF_WS_BAD_ACCEPT);
	/* Cut before the blank line. */
	assert_int_equal(judge_text("HTTP/1.1 101 X\r\nUpgrade: websocket\r\n", &h), APF_WS_INCOMPLETE);
	assert_int_equal(judge_text("SSH-2.0-OpenSSH_9.2\r\n", &h), APF_WS_NOT_HTTP);
	assert_int_equal(judge_text("", &h), APF_WS_NOT_HTTP);
	assert_int_equal(judge_text("HTTP/1.1 1x1 X\r\n\r\n", &h), APF_WS_NOT_HTTP);
	for (int v = 0; v < APF_WS_VERDICT_COUNT; v++)
		assert_string_not_equal(apf_ws_verdict_text((enum apf_ws_verdict)v), "?");
}

static void test_hostile_values_are_capped_and_printable(void **state)
{
	char buf[2000];
	struct apf_http_head h;
	const char *why;
	static const char head[] = "HTTP/1.1 302 \x1b[31mred\r\nLocation: ";
	size_t n = sizeof(head) - 1;

	(void)state;
	memcpy(buf, head, n);
	memset(buf + n, 'a', 600);
	memcpy(buf + n + 600, "\r\n\r\n", 5);
	assert_int_equal(apf_http_head_parse(buf, strlen(buf), &h, &why), 0);
	assert_int_equal(h.status, 302);
	assert_string_equal(h.reason, "?[31mred");
	assert_int_equal(strlen(h.location), APF_HTTP_VALUE_MAX);
	assert_string_equal(h.location + APF_HTTP_VALUE_MAX - 3, "...");
	/* NUL bytes inside the data do not end it early. */
	assert_int_equal(apf_http_head_parse("HTTP/1.1 200 \0K\r\nServer: x\r\n\r\n", 30, &h, &why), 0);
	assert_string_equal(h.server, "x");
	assert_true(h.complete);
}

static void test_endpoint_urls(void **state)
{
	struct apf_endpoint e;
	const char *why = NULL;

	(void)state;
	assert_int_equal(apf_endpoint_parse("wss://rps.example.test/activate", 0, &e, &why), 0);
	assert_int_equal(e.scheme, APF_EP_WSS);
	assert_string_equal(e.host, "rps.example.test");
	assert_int_equal(e.port, 443);
	assert_string_equal(e.path, "/activate");
	assert_false(e.host_is_address);
	apf_endpoint_clear(&e);
	assert_int_equal(apf_endpoint_parse("tcp://[2001:db8::5]:9971", 0, &e, &why), 0);
	assert_string_equal(e.host, "2001:db8::5");
	assert_int_equal(e.port, 9971);
	assert_true(e.host_is_address);
	apf_endpoint_clear(&e);
	assert_int_equal(apf_endpoint_parse_host("mps.example.test", 4433, &e, &why), 0);
	assert_int_equal(e.scheme, APF_EP_TLS);
	assert_int_equal(e.port, 4433);
	assert_string_equal(e.url, "mps.example.test");
	apf_endpoint_clear(&e);
	assert_int_equal(apf_endpoint_parse_host("192.0.2.40:443", 4433, &e, &why), 0);
	assert_int_equal(e.port, 443);
	apf_endpoint_clear(&e);

	assert_int_equal(apf_endpoint_parse("http://x.example.test/", 0, &e, &why), -EINVAL);
	assert_int_equal(apf_endpoint_parse("tls://x.example.test", 0, &e, &why), -EINVAL); /* needs a port */
	assert_int_equal(apf_endpoint_parse("wss://user:pw@x.example.test/", 0, &e, &why), -EINVAL);
	assert_non_null(strstr(why, "credentials"));
	assert_int_equal(apf_endpoint_parse("wss://x.example.test:99999/", 0, &e, &why), -EINVAL);
	assert_int_equal(apf_endpoint_parse("wss://x.exa mple.test/", 0, &e, &why), -EINVAL);
	assert_int_equal(apf_endpoint_parse("wss://x.example.test/a b", 0, &e, &why), -EINVAL);
	assert_int_equal(apf_endpoint_parse("tcp://x.example.test:1/path", 0, &e, &why), -EINVAL);
	assert_int_equal(apf_endpoint_parse("wss://[2001:db8::1/", 0, &e, &why), -EINVAL);
	assert_int_equal(apf_endpoint_parse("wss:///x", 0, &e, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_matches_rfc_example),
		cmocka_unit_test(test_request_shape),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_hostile_values_are_capped_and_printable),
		cmocka_unit_test(test_endpoint_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
