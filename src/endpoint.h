/* SPDX-License-Identifier: MIT */
/*
 * Server endpoints that AMT devices or their agents connect to (activation
 * servers, the MPS): a URL parsed into host, port and path; the host resolved
 * through the DNS servers the clients use (never the host resolver); and what
 * the TLS peer's certificate chain amounts to against a CA bundle. Shared by
 * activation.servers and cira.mps; the policy (what is a failure) stays in
 * the checks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "dnscheck.h"
#include "endpoint_url.h"
#include "net/tls.h"
#include "pki.h"
#include "wsupgrade.h"

/* One address of one endpoint, as probed. */
struct apf_endpoint_target {
	struct apf_endpoint *ep;
	const char *addr;          /* one of ep->addr */
	char ws_key[APF_WS_KEY_LEN + 1]; /* wss://: the Sec-WebSocket-Key the request carries */
	char *request;             /* wss://: the opening handshake; https://: a GET; else NULL (owned) */
	struct apf_tls_probe probe; /* all but tcp:// */
	int tcp_rc;                /* tcp://: as apf_tcp_probe() */
	uint64_t tcp_rtt_ms;
	bool bad;                  /* the check reported a problem for it: no PASS */
};

/*
 * Appends one target per address of a resolved endpoint to t (room for
 * APF_ENDPOINT_MAX_ADDR), with the request its scheme sends; returns how many.
 */
size_t apf_endpoint_targets_add(struct apf_endpoint *e, struct apf_endpoint_target *t);

/* What a probed target's connection came to, before any certificate is judged. */
enum apf_endpoint_outcome {
	APF_EP_CONNECTED,   /* TLS completed (tcp://: TCP accepted) */
	APF_EP_REFUSED,     /* TCP refused: nothing listens there */
	APF_EP_NO_TLS,      /* TCP accepted, but no TLS handshake completed (failed, or not in time) */
	APF_EP_UNREACHABLE, /* no TCP answer in time, no route, or not tried before the deadline */
	APF_EP_OUTCOME_COUNT
};

/* The outcome of a probed target; *error (static or the probe's own text) says why for evidence. */
enum apf_endpoint_outcome apf_endpoint_outcome(const struct apf_endpoint_target *t, const char **error);

/* True when one of the endpoint's targets passed (is not bad). */
bool apf_endpoint_ok(const struct apf_endpoint *e, const struct apf_endpoint_target *t, size_t n_t);

/*
 * What a check probes: its endpoints (as configured), their targets, and the
 * CA bundle the certificates are judged against. One cleanup for all of it.
 */
struct apf_endpoint_set {
	struct apf_endpoint *ep;
	size_t n_ep;
	struct apf_endpoint_target *t; /* room for APF_ENDPOINT_MAX_ADDR per endpoint */
	size_t n_t;
	struct apf_cert **bundle;
	size_t n_bundle;
};

/*
 * Parses the n specs into s (URLs, or "host[:port]" when `bare_host`, with
 * `default_port`). The config validated them already: -EINVAL here is a bug.
 */
int apf_endpoint_set_parse(struct apf_endpoint_set *s, char *const *specs, size_t n, bool bare_host,
			   uint16_t default_port);
/*
 * Reads the CA bundle at `path` into s (NULL: none). On failure reports ERROR
 * `code` naming the file and returns -1.
 */
int apf_endpoint_set_bundle(struct apf_ctx *ctx, struct apf_endpoint_set *s, const char *path, const char *code);
/*
 * Probes every target: tcp:// with a TCP connect each, in turn; the others
 * with TLS (and their request), all at once. Every attempt is bounded by
 * `timeout_ms` and the check's deadline. When the TLS engine cannot start,
 * reports ERROR `code` and returns -1.
 */
int apf_endpoint_set_probe(struct apf_ctx *ctx, struct apf_endpoint_set *s, unsigned int timeout_ms, const char *code);
void apf_endpoint_set_clear(struct apf_endpoint_set *s);

/*
 * Resolves e->host (A records) through the servers in turn until one answers
 * NOERROR or NXDOMAIN, each query bounded by `timeout_ms`. Address literals
 * need no query. Sets dns_rc, dns, addr.
 */
void apf_endpoint_resolve(struct apf_endpoint *e, const struct apf_dns_target *srv, size_t n_srv,
			  unsigned int timeout_ms);

/* What a TLS peer's certificates amount to. */
struct apf_peer_chain {
	struct apf_cert **sent;  /* the peer's certificates, parsed, leaf first */
	size_t n_sent;
	struct apf_chain chain;  /* built from the leaf through sent + bundle */
	const struct apf_cert *root;   /* chain end when complete, else NULL */
	bool trusted;            /* a certificate of the chain is in the bundle (same DER) */
	const struct apf_cert *expired;      /* first chain certificate past notAfter, or NULL */
	const struct apf_cert *not_yet;      /* first chain certificate before notBefore, or NULL */
	const struct apf_cert *expiring;     /* first one expiring within warn_days, or NULL */
	const struct apf_cert *weak_key;     /* first with an RSA key under 2048 bits, or NULL */
	const struct apf_cert *weak_hash;    /* first non-root with a SHA-1/MD5 signature, or NULL */
};

/*
 * Parses the certificates `p` holds and builds the chain through them and the
 * bundle. Returns 0, or -EBADMSG when the leaf cannot be parsed.
 */
int apf_peer_chain_assess(const struct apf_tls_probe *p, struct apf_cert *const *bundle, size_t n_bundle,
			  time_t now, int warn_days, struct apf_peer_chain *out);
void apf_peer_chain_clear(struct apf_peer_chain *c);

/*
 * Evidence of a completed handshake as a client sees it: TLS version and
 * cipher, the leaf's subject, issuer, DNS SANs, notAfter, key, whether it
 * names the host, how many certificates were sent, the built chain and (when
 * a bundle was given) whether it is trusted.
 */
void apf_peer_chain_evidence(struct apf_finding *f, const struct apf_tls_probe *p, const struct apf_peer_chain *pc,
			     bool have_bundle);
/* One evidence pair `key` naming a certificate: subject, dates, key, signature algorithm. */
void apf_cert_brief_evidence(struct apf_finding *f, const char *key, const struct apf_cert *c);
