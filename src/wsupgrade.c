/* SPDX-License-Identifier: MIT */
/* The WebSocket opening handshake, client side (see wsupgrade.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "alloc.h"
#include "pki.h"
#include "result.h"
#include "util.h"
#include "wsupgrade.h"

/* RFC 6455 1.3: the GUID every server appends to the key before hashing. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; out holds 4 * ceil(n / 3) + 1 bytes. */
static void base64(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned int v = (unsigned int)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned int)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

int apf_ws_key_make(char key[APF_WS_KEY_LEN + 1])
{
	unsigned char raw[16];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return errno ? -errno : -EIO;
	base64(raw, sizeof(raw), key);
	return 0;
}

void apf_ws_accept_for(const char *key, char out[APF_WS_ACCEPT_LEN + 1])
{
	char *s = apf_xasprintf("%s%s", key, WS_GUID), hex[41];
	unsigned char sha[20];

	apf_pki_sha1_hex(s, strlen(s), hex);
	for (size_t i = 0; i < sizeof(sha); i++) {
		unsigned int b = 0;
		sscanf(hex + 2 * i, "%2x", &b);
		sha[i] = (unsigned char)b;
	}
	base64(sha, sizeof(sha), out);
	free(s);
}

char *apf_ws_request_new(const char *host, uint16_t port, bool tls, const char *path, const char *key)
{
	bool v6 = strchr(host, ':') != NULL;
	char hostport[300];

	if (port == (tls ? 443 : 80))
		snprintf(hostport, sizeof(hostport), v6 ? "[%s]" : "%s", host);
	else
		snprintf(hostport, sizeof(hostport), v6 ? "[%s]:%u" : "%s:%u", host, port);
	return apf_xasprintf("GET %s HTTP/1.1\r\n"
			     "Host: %s\r\n"
			     "Upgrade: websocket\r\n"
			     "Connection: Upgrade\r\n"
			     "Sec-WebSocket-Key: %s\r\n"
			     "Sec-WebSocket-Version: 13\r\n"
			     "User-Agent: amt-preflight\r\n"
			     "\r\n",
			     path && *path ? path : "/", hostport, key);
}

/* Copies a header value, trimmed, printable, capped. */
static void value_copy(char *dst, const char *v, size_t n)
{
	size_t o = 0;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n && o < APF_HTTP_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)v[i];
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n > APF_HTTP_VALUE_MAX && o >= 3)
		memcpy(dst + o - 3, "...", 3);
	dst[o] = '\0';
}

int apf_http_head_parse(const char *data, size_t len, struct apf_http_head *out, const char **why)
{
	const char *p = data, *end = data + len, *eol;
	const char *sp1, *sp2;
	char code[4];

	memset(out, 0, sizeof(*out));
	eol = memchr(p, '\n', len);
	if (!eol) {
		*why = len ? "no complete status line" : "no answer";
		return -EBADMSG;
	}
	/* "HTTP/1.x SP 3DIGIT SP reason" (RFC 7230 3.1.2) */
	if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]) || p[8] != ' ') {
		*why = "the answer does not start with an HTTP/1.x status line";
		return -EBADMSG;
	}
	memcpy(out->version, p, 8);
	out->version[8] = '\0';
	sp1 = p + 8;
	for (int i = 0; i < 3; i++) {
		if (sp1 + 1 + i >= eol || !isdigit((unsigned char)sp1[1 + i])) {
			*why = "the status line has no three-digit status code";
			return -EBADMSG;
		}
		code[i] = sp1[1 + i];
	}
	code[3] = '\0';
	out->status = (int)strtol(code, NULL, 10);
	sp2 = sp1 + 4;
	if (sp2 < eol && *sp2 == ' ')
		sp2++;
	value_copy(out->reason, sp2, (size_t)(eol - sp2) - (eol > sp2 && eol[-1] == '\r'));
	p = eol + 1;
	while (p < end) {
		const char *colon;
		size_t n, name_len;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break; /* cut in the middle of a field: what came is kept */
		n = (size_t)(eol - p) - (eol > p && eol[-1] == '\r');
		if (n == 0) {
			out->complete = true;
			break;
		}
		colon = memchr(p, ':', n);
		if (colon) {
			name_len = (size_t)(colon - p);
			const char *v = colon + 1;
			size_t vn = n - name_len - 1;
#define FIELD(nm, dst)                                                                                                 \
	if (name_len == sizeof(nm) - 1 && strncasecmp(p, nm, name_len) == 0)                                           \
		value_copy(out->dst, v, vn);
			FIELD("Upgrade", upgrade)
			FIELD("Connection", connection)
			FIELD("Sec-WebSocket-Accept", accept)
			FIELD("Server", server)
			FIELD("Location", location)
#undef FIELD
		}
		p = eol + 1;
	}
	return 0;
}

/* True when the comma-separated list `v` holds `token` (case-insensitive, RFC 7230 7). */
static bool has_token(const char *v, const char *token)
{
	size_t tl = strlen(token);

	while (*v) {
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		n = strcspn(v, ", \t");
		if (n == tl && strncasecmp(v, token, tl) == 0)
			return true;
		v += n;
	}
	return false;
}

enum apf_ws_verdict apf_ws_judge(const struct apf_http_head *h, bool parsed, const char *key)
{
	char want[APF_WS_ACCEPT_LEN + 1];

	if (!parsed)
		return APF_WS_NOT_HTTP;
	if (h->status != 101)
		return h->status ? APF_WS_STATUS : APF_WS_NOT_HTTP;
	if (!h->complete)
		return APF_WS_INCOMPLETE;
	if (!has_token(h->upgrade, "websocket"))
		return APF_WS_NO_UPGRADE;
	if (!has_token(h->connection, "upgrade"))
		return APF_WS_NO_CONNECTION;
	apf_ws_accept_for(key, want);
	if (strcmp(h->accept, want) != 0)
		return APF_WS_BAD_ACCEPT;
	return APF_WS_OK;
}

static const char *const verdict_text[APF_WS_VERDICT_COUNT] = {
	[APF_WS_OK] = "the server accepted the WebSocket upgrade (101 with the right Sec-WebSocket-Accept)",
	[APF_WS_NOT_HTTP] = "the answer to the upgrade request is not HTTP/1.x",
	[APF_WS_INCOMPLETE] = "the answer's header did not end (cut off or too long)",
	[APF_WS_STATUS] = "the server answered the upgrade request with a status other than 101",
	[APF_WS_NO_UPGRADE] = "the 101 answer lacks \"Upgrade: websocket\"",
	[APF_WS_NO_CONNECTION] = "the 101 answer lacks \"Connection: Upgrade\"",
	[APF_WS_BAD_ACCEPT] = "the 101 answer's Sec-WebSocket-Accept is missing or does not match the key sent",
};

const char *apf_ws_verdict_text(enum apf_ws_verdict v)
{
	return v < APF_WS_VERDICT_COUNT && verdict_text[v] ? verdict_text[v] : "?";
}
