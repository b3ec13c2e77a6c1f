/* SPDX-License-Identifier: MIT */
/*
 * activation.servers: the servers that activate and manage AMT devices after
 * an SCS-style Hello is gone: Open AMT's RPS (rpc connects to
 * wss://<rps>/activate), MeshCentral (its agent connects to
 * wss://<server>/agent.ashx and relays AMT activation over it), Intel EMA
 * (agents talk HTTPS to its server) and the SCS host. Host-based activation
 * sends no Hello and never looks up ProvisionServer, so a broken endpoint is
 * found only when the first device fails to activate.
 *
 * For each configured URL: the name through the DNS servers clients use, TCP,
 * TLS (TLS 1.2 or later, as rpc-go and current agents require) with the
 * certificate judged against [activation] ca_bundle (chain, dates, name or IP
 * SAN, key size and signature hash), then for wss:// the WebSocket opening
 * handshake (RFC 6455: 101 with the right Sec-WebSocket-Accept) and for
 * https:// any HTTP answer. The evidence is what rpc or the agent sees.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "facts.h"
#include "dnscheck.h"
#include "endpoint.h"
#include "pki.h"
#include "wsupgrade.h"

/* Facts for the redundancy summary (read by other checks; keep the names stable). */

#define QUERY_CAP_MS 2000
#define PROBE_CAP_MS 8000
#define WARN_DAYS_DEFAULT 30

static const struct apf_code codes[] = {
	{"ACT_OK", APF_PASS,
	 "The endpoint resolves through the clients' DNS, accepts TCP, completes TLS 1.2+ with a certificate that "
	 "chains to the configured bundle, is within its dates, names the host, and (wss://) accepts the WebSocket "
	 "upgrade",
	 "None"},
	{"ACT_NO_ADDRESS", APF_FAIL,
	 "The endpoint's name has no A record on the DNS servers clients use: rpc, the agents and devices cannot "
	 "find the server",
	 "Register the server's name in the DNS zone the clients use (split-horizon zones too)"},
	{"ACT_DNS_ERROR", APF_ERROR, "No DNS server clients use gave a usable answer for the endpoint's name",
	 "Check that the DNS servers are reachable from here and answer for the zone"},
	{"ACT_REFUSED", APF_FAIL,
	 "The server's address refused TCP on the endpoint's port: nothing listens there, so activation fails "
	 "with a connection error",
	 "Start the service (RPS, MeshCentral, EMA, SCS) or correct the port in the URL the clients use"},
	{"ACT_UNREACHABLE", APF_ERROR,
	 "The endpoint did not answer TCP in time or is unroutable from here, so it could not be checked",
	 "Check routing and firewalls between the client segment and the server; run from the client segment"},
	{"ACT_TLS_FAILED", APF_FAIL,
	 "TCP was accepted but no TLS 1.2+ handshake completed: rpc-go and current agents refuse older TLS and "
	 "fail the same way",
	 "Configure TLS 1.2 or later with a certificate on the endpoint (a TLS-terminating proxy in front of RPS "
	 "must pass WebSockets)"},
	{"ACT_CERT_UNTRUSTED", APF_FAIL,
	 "The server's certificate does not chain to a certificate in [activation] ca_bundle: rpc and the agents "
	 "refuse the connection (x509: certificate signed by unknown authority)",
	 "Serve the full chain from the server, and make sure the clients trust its root (or fix ca_bundle)"},
	{"ACT_CERT_EXPIRED", APF_FAIL, "A certificate of the server's chain is past its notAfter date",
	 "Renew the server certificate (or the expired intermediate) and reload the service"},
	{"ACT_CERT_NOT_YET_VALID", APF_FAIL, "A certificate of the server's chain is not valid yet",
	 "Check the clocks of the CA, the server and this machine; reissue the certificate with correct dates"},
	{"ACT_CERT_EXPIRING", APF_WARN, "A certificate of the server's chain expires within [provisioning] warn_days",
	 "Renew it before it expires"},
	{"ACT_NAME_MISMATCH", APF_FAIL,
	 "The server's certificate does not carry the name (DNS SAN, or CN without SANs) or address (IP SAN) the "
	 "URL uses: TLS clients refuse it",
	 "Reissue the certificate with the name or address the clients use in its subjectAltName, or point the "
	 "clients at a name the certificate carries"},
	{"ACT_WEAK_CRYPTO", APF_FAIL,
	 "The server's chain has an RSA key under 2048 bits or a SHA-1/MD5 signature below the root: current TLS "
	 "clients (Go's crypto/x509 used by rpc-go, OpenSSL 3 at its default level) reject it",
	 "Reissue the certificate (and intermediates) with RSA 2048+ or ECDSA keys and SHA-256 signatures"},
	{"ACT_UPGRADE_FAILED", APF_FAIL,
	 "The wss:// endpoint did not accept the WebSocket upgrade (a status other than 101, or a 101 without the "
	 "right Upgrade, Connection or Sec-WebSocket-Accept): rpc and agents cannot open their channel",
	 "Check the URL path (RPS: /activate; MeshCentral: /agent.ashx) and that any proxy in front passes "
	 "WebSocket upgrades (Upgrade and Connection headers)"},
	{"ACT_NOT_HTTP", APF_FAIL, "The https:// or wss:// endpoint answered after TLS with something that is not HTTP/1.x",
	 "Check that the port is the web service's and not another TLS service"},
	{"ACT_NO_ANSWER", APF_ERROR,
	 "TLS completed but the request got no answer in time (or the server closed without one), so the HTTP "
	 "side could not be checked",
	 "Check the service's logs; raise the check's timeout (--timeout) for slow servers"},
	{"ACT_CHAIN_NOT_CHECKED", APF_INFO,
	 "[activation] ca_bundle is not set: the server's chain is shown but not judged against what the clients "
	 "trust",
	 "Set [activation] ca_bundle to the roots rpc and the agents trust"},
	{"ACT_BUNDLE_INVALID", APF_ERROR, "[activation] ca_bundle could not be read or holds no certificate",
	 "Point ca_bundle at a PEM file of CA certificates"},
	{"ACT_ENGINE_ERROR", APF_ERROR, "The TLS probe engine could not start (OpenSSL context)", "See the evidence"},
	{0},
};

static const char *const requires_keys[] = {"activation.endpoints", NULL};
static const char *const after[] = {"dhcp.options", NULL};

/* What the URL suggests the server is, for evidence (not a rule: any product may sit behind any path). */
static const char *kind_of(const struct apf_endpoint *e)
{
	if (e->scheme == APF_EP_WSS && strstr(e->path, "/activate"))
		return "Open AMT RPS (rpc activation)";
	if (strstr(e->path, ".ashx"))
		return "MeshCentral";
	if (e->scheme == APF_EP_TCP && e->port == 9971)
		return "SCS (hello port)";
	return "activation/management server";
}

static void ev_target(struct apf_finding *f, const struct apf_endpoint_target *t)
{
	apf_evidence(f, "url", "%s", t->ep->url);
	apf_evidence(f, "kind", "%s", kind_of(t->ep));
	apf_evidence(f, "dns", "%s", t->ep->dns ? t->ep->dns : "");
	if (t->addr)
		apf_evidence(f, "address", "%s:%u", t->addr, t->ep->port);
}

static struct apf_finding *bad(struct apf_ctx *ctx, struct apf_endpoint_target *t, enum apf_status st,
			       const char *code, const char *what)
{
	struct apf_finding *f = apf_report(ctx, st, code, "%s (%s): %s", t->ep->url, t->addr ? t->addr : "-", what);

	ev_target(f, t);
	t->bad = true;
	return f;
}

/* The HTTP side: the upgrade for wss://, any HTTP answer for https://. */
static void judge_http(struct apf_ctx *ctx, struct apf_endpoint_target *t, const struct apf_peer_chain *pc,
		       bool have_bundle)
{
	const struct apf_tls_probe *p = &t->probe;
	struct apf_http_head h;
	const char *why = NULL;
	bool parsed;
	struct apf_finding *f;

	if (p->exchange_rc < 0) {
		f = bad(ctx, t, APF_ERROR, "ACT_NO_ANSWER", "no answer to the request after TLS");
		apf_evidence(f, "error", "%s", p->exchange_error ? p->exchange_error : strerror(-p->exchange_rc));
		return;
	}
	parsed = apf_http_head_parse(p->response, p->response_len, &h, &why) == 0;
	if (!parsed) {
		f = bad(ctx, t, APF_FAIL, "ACT_NOT_HTTP", "the answer after TLS is not HTTP");
		apf_evidence(f, "error", "%s", why);
		apf_evidence(f, "answer_bytes", "%zu", p->response_len);
		return;
	}
	if (t->ep->scheme == APF_EP_WSS) {
		enum apf_ws_verdict v = apf_ws_judge(&h, parsed, t->ws_key);
		char want[APF_WS_ACCEPT_LEN + 1];

		if (v != APF_WS_OK) {
			f = bad(ctx, t, APF_FAIL, "ACT_UPGRADE_FAILED", apf_ws_verdict_text(v));
			apf_evidence(f, "request", "GET %s (Upgrade: websocket, Sec-WebSocket-Version: 13)", t->ep->path);
			apf_evidence(f, "status", "%s %d %s", h.version, h.status, h.reason);
			apf_ws_accept_for(t->ws_key, want);
			apf_evidence(f, "accept_expected", "%s", want);
			apf_evidence(f, "accept_received", "%s", h.accept[0] ? h.accept : "(none)");
			apf_evidence(f, "upgrade_header", "%s", h.upgrade[0] ? h.upgrade : "(none)");
			if (h.location[0])
				apf_evidence(f, "location", "%s", h.location);
			if (h.server[0])
				apf_evidence(f, "server", "%s", h.server);
			return;
		}
	}
	if (t->bad)
		return;
	f = apf_report(ctx, APF_PASS, "ACT_OK", "%s (%s) %s", t->ep->url, t->addr,
		       t->ep->scheme == APF_EP_WSS ? "accepts the WebSocket upgrade over valid TLS"
						   : "answers HTTP over valid TLS");
	ev_target(f, t);
	apf_peer_chain_evidence(f, p, pc, have_bundle);
	apf_evidence(f, "status", "%s %d %s", h.version, h.status, h.reason);
	if (t->ep->scheme == APF_EP_WSS)
		apf_evidence(f, "accept", "%s (matches the key sent)", h.accept);
	if (h.server[0])
		apf_evidence(f, "server", "%s", h.server);
}

static void judge_tls(struct apf_ctx *ctx, struct apf_endpoint_target *t, struct apf_cert *const *bundle, size_t nb,
		      int warn_days)
{
	const struct apf_tls_probe *p = &t->probe;
	struct apf_peer_chain pc = {0};
	struct apf_finding *f;

	if (apf_peer_chain_assess(p, bundle, nb, time(NULL), warn_days, &pc) < 0) {
		f = bad(ctx, t, APF_FAIL, "ACT_TLS_FAILED", "the server sent no readable certificate");
		goto out;
	}
	if (nb && !pc.trusted) {
		f = bad(ctx, t, APF_FAIL, "ACT_CERT_UNTRUSTED", "the certificate does not chain to [activation] ca_bundle");
		apf_peer_chain_evidence(f, p, &pc, true);
	}
	if (pc.expired) {
		f = bad(ctx, t, APF_FAIL, "ACT_CERT_EXPIRED", "a certificate of the chain has expired");
		apf_cert_brief_evidence(f, "expired", pc.expired);
		apf_peer_chain_evidence(f, p, &pc, nb > 0);
	}
	if (pc.not_yet) {
		f = bad(ctx, t, APF_FAIL, "ACT_CERT_NOT_YET_VALID", "a certificate of the chain is not valid yet");
		apf_cert_brief_evidence(f, "not_yet_valid", pc.not_yet);
		apf_peer_chain_evidence(f, p, &pc, nb > 0);
	}
	if (p->name_match != 1) {
		f = bad(ctx, t, APF_FAIL, "ACT_NAME_MISMATCH",
			t->ep->host_is_address ? "the certificate has no IP SAN for the address the URL uses"
					       : "the certificate does not carry the URL's host name");
		apf_evidence(f, "host", "%s", t->ep->host);
		apf_peer_chain_evidence(f, p, &pc, nb > 0);
	}
	if (pc.weak_key || pc.weak_hash) {
		f = bad(ctx, t, APF_FAIL, "ACT_WEAK_CRYPTO", "the chain uses a weak key or signature hash");
		if (pc.weak_key)
			apf_cert_brief_evidence(f, "weak_key", pc.weak_key);
		if (pc.weak_hash)
			apf_cert_brief_evidence(f, "weak_hash", pc.weak_hash);
	}
	if (pc.expiring && !pc.expired) {
		struct apf_finding *w = apf_report(ctx, APF_WARN, "ACT_CERT_EXPIRING", "%s (%s): %s", t->ep->url, t->addr,
						   "a certificate of the chain expires soon");
		ev_target(w, t);
		apf_cert_brief_evidence(w, "expiring", pc.expiring);
		apf_evidence(w, "warn_days", "%d", warn_days);
	}
	if (t->ep->scheme == APF_EP_TLS) {
		if (!t->bad) {
			f = apf_report(ctx, APF_PASS, "ACT_OK", "%s (%s) completes TLS with a valid certificate", t->ep->url,
				       t->addr);
			ev_target(f, t);
			apf_peer_chain_evidence(f, p, &pc, nb > 0);
		}
		goto out;
	}
	judge_http(ctx, t, &pc, nb > 0);
out:
	apf_peer_chain_clear(&pc);
}

/* Connection outcomes other than a completed connection, as findings. */
static const struct {
	const char *code;
	enum apf_status st;
	const char *what;
} outcomes[APF_EP_OUTCOME_COUNT] = {
	[APF_EP_REFUSED] = {"ACT_REFUSED", APF_FAIL, "connection refused"},
	[APF_EP_NO_TLS] = {"ACT_TLS_FAILED", APF_FAIL, "TCP accepted, but no TLS 1.2+ handshake"},
	[APF_EP_UNREACHABLE] = {"ACT_UNREACHABLE", APF_ERROR, "no TCP connection"},
};

static void judge(struct apf_ctx *ctx, struct apf_endpoint_target *t, struct apf_cert *const *bundle, size_t nb,
		  int warn_days)
{
	const char *error = NULL;
	enum apf_endpoint_outcome o = apf_endpoint_outcome(t, &error);
	struct apf_finding *f;

	if (o != APF_EP_CONNECTED) {
		f = bad(ctx, t, outcomes[o].st, outcomes[o].code, outcomes[o].what);
		if (t->ep->scheme != APF_EP_TCP)
			apf_evidence(f, "stage", "%s", t->probe.stage ? t->probe.stage : "?");
		apf_evidence(f, "error", "%s", error);
		return;
	}
	if (t->ep->scheme != APF_EP_TCP) {
		judge_tls(ctx, t, bundle, nb, warn_days);
		return;
	}
	f = apf_report(ctx, APF_PASS, "ACT_OK", "%s (%s) accepts TCP", t->ep->url, t->addr);
	ev_target(f, t);
	apf_evidence(f, "connect_ms", "%llu", (unsigned long long)t->tcp_rtt_ms);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_endpoint_set set;
	struct apf_dns_target *srv = NULL;
	size_t n_srv = 0;
	const char *source = NULL;
	int warn_days = cfg->provisioning.warn_days > 0 ? cfg->provisioning.warn_days : WARN_DAYS_DEFAULT;
	bool need_dns = false;
	int rc;

	/* Validated when the config was read; a failure here is a bug, not a finding. */
	rc = apf_endpoint_set_parse(&set, cfg->activation.endpoints.v, cfg->activation.endpoints.n, false, 0);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < set.n_ep; i++) {
		need_dns |= !set.ep[i].host_is_address;
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_ACT_URL), set.ep[i].url);
	}
	if (apf_endpoint_set_bundle(ctx, &set, cfg->activation.ca_bundle, "ACT_BUNDLE_INVALID") < 0)
		goto out;
	if (need_dns) {
		n_srv = apf_dnscheck_servers(ctx, &srv, &source);
		if (!n_srv) {
			apf_skip(ctx, "no DNS servers to resolve the activation servers with: set [dns] servers, or run "
				      "dhcp.options to learn DHCP option 6");
			goto out;
		}
	}
	if (!set.n_bundle)
		apf_report(ctx, APF_INFO, "ACT_CHAIN_NOT_CHECKED", "no [activation] ca_bundle: chains are shown, not judged");

	/* Names first, then every address of every endpoint at once. */
	for (size_t i = 0; i < set.n_ep; i++) {
		struct apf_endpoint *e = &set.ep[i];
		struct apf_endpoint_target t0 = {.ep = e};

		apf_ctx_step(ctx, "A query for %s (%s)", e->host, source ? source : "address");
		apf_endpoint_resolve(e, srv, n_srv,
				     apf_dnscheck_share(ctx, (set.n_ep - i) * (n_srv ? n_srv : 1) + 1, QUERY_CAP_MS));
		if (e->dns_rc == -ENOENT) {
			struct apf_finding *f = bad(ctx, &t0, APF_FAIL, "ACT_NO_ADDRESS", "the name has no address");
			apf_evidence(f, "host", "%s", e->host);
		} else if (e->dns_rc < 0) {
			struct apf_finding *f = bad(ctx, &t0, APF_ERROR, "ACT_DNS_ERROR", "the name could not be resolved");
			apf_evidence(f, "host", "%s", e->host);
		} else {
			set.n_t += apf_endpoint_targets_add(e, &set.t[set.n_t]);
		}
	}
	if (apf_endpoint_set_probe(ctx, &set, apf_dnscheck_share(ctx, 3, PROBE_CAP_MS), "ACT_ENGINE_ERROR") < 0)
		goto out;
	for (size_t i = 0; i < set.n_t; i++)
		judge(ctx, &set.t[i], set.bundle, set.n_bundle, warn_days);
	for (size_t i = 0; i < set.n_ep; i++)
		if (apf_endpoint_ok(&set.ep[i], set.t, set.n_t))
			apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_ACT_OK_URL), set.ep[i].url);
out:
	apf_endpoint_set_clear(&set);
	free(srv);
	return 0;
}

const struct apf_check apf_check_activation_servers = {
	.id = "activation.servers",
	.title = "Activation and management servers: DNS, TCP, TLS certificate, WebSocket upgrade",
	.summary = "For every endpoint in [activation] endpoints (Open AMT RPS wss://host/activate, MeshCentral "
		   "wss://host/agent.ashx, Intel EMA https://host/, the SCS host tls:// or tcp://): resolves the "
		   "name through the DNS servers clients use, connects, completes TLS 1.2+ and judges the "
		   "certificate against [activation] ca_bundle (chain, dates, name or IP SAN, RSA 2048+, no SHA-1), "
		   "and for wss:// checks the WebSocket upgrade answer (101 with the right Sec-WebSocket-Accept): "
		   "what rpc and the agents see before the first device is touched.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 30000,
	.codes = codes,
	.run = run,
};
