/* SPDX-License-Identifier: MIT */
/*
 * The client side of the WebSocket opening handshake (RFC 6455 section 4):
 * the HTTP/1.1 Upgrade request rpc-go, MeshCentral agents and EMA agents send
 * to their server, and the parser and verdict for the answer. Mechanism only:
 * what an answer means for activation is the check's business.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 4.1), 24 characters. */
#define APF_WS_KEY_LEN 24
/* Sec-WebSocket-Accept: base64 of a SHA-1, 28 characters. */
#define APF_WS_ACCEPT_LEN 28
/* Longest header value kept from an answer (longer ones are cut, marked with "..."). */
#define APF_HTTP_VALUE_MAX 200

/* Fills key[APF_WS_KEY_LEN + 1] from the kernel's random source. Returns 0 or -errno. */
int apf_ws_key_make(char key[APF_WS_KEY_LEN + 1]);

/* The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 4.2.2 step 5.4). */
void apf_ws_accept_for(const char *key, char out[APF_WS_ACCEPT_LEN + 1]);

/*
 * The GET request of the opening handshake for ws(s)://host[:port]/path. The
 * Host header carries the port only when it is not the scheme's default
 * (RFC 7230 5.4). Caller frees.
 */
char *apf_ws_request_new(const char *host, uint16_t port, bool tls, const char *path, const char *key);

/* What an answer's header says, as far as the opening handshake is concerned. */
struct apf_http_head {
	int status;                         /* 101, 200, 404, ...; 0 when there is no status line */
	char version[16];                   /* "HTTP/1.1" */
	char reason[APF_HTTP_VALUE_MAX + 1];
	char upgrade[APF_HTTP_VALUE_MAX + 1];   /* Upgrade: header ("" when absent) */
	char connection[APF_HTTP_VALUE_MAX + 1];
	char accept[APF_HTTP_VALUE_MAX + 1];    /* Sec-WebSocket-Accept */
	char server[APF_HTTP_VALUE_MAX + 1];    /* Server: for evidence */
	char location[APF_HTTP_VALUE_MAX + 1];  /* Location: of a redirect */
	bool complete;                      /* the header ended with an empty line */
};

/*
 * Parses the status line and header fields of an HTTP/1.x answer (`len` bytes,
 * which may hold NUL bytes or be cut anywhere). Values are kept printable:
 * control and non-ASCII bytes become '?'. Returns 0, or -EBADMSG when it is not
 * HTTP/1.x at all (*why, static, says what was wrong).
 */
int apf_http_head_parse(const char *data, size_t len, struct apf_http_head *out, const char **why);

/* The verdict of an opening handshake's answer, paired with apf_ws_verdict_text(). */
enum apf_ws_verdict {
	APF_WS_OK,             /* 101, Upgrade: websocket, Connection: upgrade, the right Accept */
	APF_WS_NOT_HTTP,       /* not an HTTP/1.x answer */
	APF_WS_INCOMPLETE,     /* the header did not end (cut, or over the size cap) */
	APF_WS_STATUS,         /* a status other than 101 */
	APF_WS_NO_UPGRADE,     /* 101 without "Upgrade: websocket" */
	APF_WS_NO_CONNECTION,  /* 101 without "Connection: Upgrade" */
	APF_WS_BAD_ACCEPT,     /* 101 with a missing or wrong Sec-WebSocket-Accept */
	APF_WS_VERDICT_COUNT
};

/* Judges an answer against the key the request carried (RFC 6455 4.1, the client's checks 1-4). */
enum apf_ws_verdict apf_ws_judge(const struct apf_http_head *h, bool parsed, const char *key);
/* One sentence for a verdict ("the server answered with a status other than 101"). */
const char *apf_ws_verdict_text(enum apf_ws_verdict v);
