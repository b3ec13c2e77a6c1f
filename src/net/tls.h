/* SPDX-License-Identifier: MIT */
/*
 * TLS probes of many hosts at once: a bounded window of non-blocking connects
 * and handshakes driven by poll(), each with its own timeout and all of them
 * bounded by one absolute deadline. A probe records what the peer presented
 * (protocol version, cipher, the certificates it sent, as DER) and whether the
 * leaf certificate is valid for the name the host was reached by. The peer's
 * chain is never verified: AMT devices start with self-signed certificates,
 * and the name check must not depend on trust.
 *
 * Only this file's .c includes OpenSSL's SSL headers. Like every OpenSSL user
 * in the process it relies on main() ignoring SIGPIPE (a peer that resets
 * while we write would otherwise kill the process).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Most certificates kept of what a peer sends (the leaf first). */
#define APF_TLS_MAX_CHAIN 8
/* Largest certificate list accepted from a peer: a hostile peer cannot make us buffer more. */
#define APF_TLS_MAX_CERT_LIST (64u * 1024u)
/* Largest window of probes in flight. */
#define APF_TLS_MAX_WINDOW 1024

struct apf_tls_probe {
	/* ---- input */
	const char *ip;   /* numeric IPv4/IPv6 address (never a name: the caller resolves it) */
	uint16_t port;
	/* The name the host is known by: sent as SNI (unless an address) and checked
	 * against the certificate (DNS SANs, else the CN; IP SANs for an address).
	 * NULL: no SNI, no name check. */
	const char *name;
	/* Bytes sent once the handshake completed (an HTTP request), or NULL. The
	 * answer is then read until a blank line ends its header, the peer closes,
	 * or APF_TLS_MAX_RESPONSE bytes came (see exchange_rc). Not copied. */
	const char *request;
	size_t request_len;

	/* ---- output (apf_tls_probe_clear() frees and resets it) */
	/*
	 * 0 when a handshake completed; -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH
	 * (or another -errno) when the TCP connect failed; -ETIMEDOUT when the
	 * connect or the handshake did not finish in time; -EPROTO when the
	 * handshake failed (with the modern settings, and with the legacy ones when
	 * asked for); -ECANCELED when the deadline passed before the probe started;
	 * -EINVAL for an address that does not parse.
	 */
	int rc;
	const char *stage;  /* where it ended: "connect", "handshake", "legacy handshake", "not started" (static) */
	char *error;        /* what went wrong with the modern settings (socket or OpenSSL text), else NULL */
	char *legacy_error; /* what went wrong with the legacy settings, when they were tried and failed */
	bool legacy;        /* the handshake succeeded only with the legacy settings (see apf_tls_opts) */
	char version[16];   /* "TLSv1.2", "TLSv1.3", ... when rc == 0 */
	char cipher[64];    /* "ECDHE-RSA-AES256-GCM-SHA384", ... when rc == 0 */
	int name_match;     /* 1: the leaf is valid for `name`; 0: it is not; -1: not checked */
	/* The leaf as the handshake parsed it, so that a fleet can be judged without
	 * parsing every certificate again: valid when leaf_read. */
	bool leaf_read;
	bool leaf_self_signed; /* subject == issuer and its own key verifies the signature */
	char *leaf_issuer;      /* RFC 2253, as src/pki.c writes it; NULL when it could not be printed */
	char *leaf_subject;     /* the same for the subject */
	time_t leaf_not_before, leaf_not_after;
	unsigned char *der[APF_TLS_MAX_CHAIN]; /* certificates the peer sent, leaf first */
	size_t der_len[APF_TLS_MAX_CHAIN];
	size_t n_der;
	size_t n_sent;      /* certificates the peer sent (may exceed n_der) */
	uint64_t elapsed_ms; /* from the first connect to the end of the probe */
	/* With a request, after a completed handshake: 0 when the request was
	 * written and an answer read; -ETIMEDOUT, -ECONNRESET (closed before any
	 * byte came back) or another -errno; exchange_error says more. */
	int exchange_rc;
	char *exchange_error;
	char *response;      /* what came back (NUL-terminated; may hold NUL bytes: use response_len) */
	size_t response_len;
};

/* Most bytes read of an answer to a probe's request. */
#define APF_TLS_MAX_RESPONSE (16u * 1024u)

struct apf_tls_opts {
	unsigned int window;     /* probes in flight (1..APF_TLS_MAX_WINDOW); 0 = 32 */
	unsigned int timeout_ms; /* per attempt: TCP connect plus handshake; 0 = 5000 */
	uint64_t deadline_ms;    /* absolute, on the apf_now_ms() clock; 0 = none. Nothing starts after
				  * it and whatever is in flight then ends with -ETIMEDOUT. */
	/*
	 * When a handshake fails with the modern settings (TLS 1.2 or later at
	 * OpenSSL's configured security level), try once more with TLS 1.0-1.2 at
	 * security level 0 and legacy renegotiation allowed: what AMT 11 and older
	 * may need. A success then sets `legacy`.
	 */
	bool legacy_fallback;
	/*
	 * Called as each probe ends, with its output filled (may be NULL). It may
	 * read and clear the probe's output (apf_tls_probe_clear): a fleet run
	 * keeps memory bounded by judging each host as soon as it is done instead
	 * of holding every certificate until the end.
	 */
	void (*done)(void *arg, struct apf_tls_probe *p);
	void *done_arg;
};

/*
 * Probes every entry of `p` (n of them), at most `window` at a time, and fills
 * their output fields. Returns 0 when the run completed (each probe's own
 * outcome is in its rc), or -ENOMEM/-EINVAL when the TLS contexts cannot be
 * made (*err_out, if given, says why; caller frees).
 */
int apf_tls_probe_run(const struct apf_tls_opts *o, struct apf_tls_probe *p, size_t n, char **err_out);

/* Frees a probe's output and resets it (the input fields are kept). */
void apf_tls_probe_clear(struct apf_tls_probe *p);

/* "connection refused", "timed out", "handshake failed", ... for the rc values above. */
const char *apf_tls_strerror(int rc);
