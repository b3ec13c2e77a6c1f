/* SPDX-License-Identifier: MIT */
/* Server endpoints: URL, resolution through client DNS, peer chain (see endpoint.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amt_rules.h"
#include "endpoint.h"
#include "net/tcp.h"
#include "result.h"
#include "util.h"

void apf_endpoint_resolve(struct apf_endpoint *e, const struct apf_dns_target *srv, size_t n_srv,
			  unsigned int timeout_ms)
{
	char *last = NULL;

	e->n_addr = e->n_addr_total = 0;
	if (e->host_is_address) {
		if (strlen(e->host) >= sizeof(e->addr[0])) { /* cannot happen: an address literal is shorter */
			e->dns_rc = -EIO;
			e->dns = apf_xstrdup("address too long");
			return;
		}
		memcpy(e->addr[0], e->host, strlen(e->host) + 1);
		e->n_addr = e->n_addr_total = 1;
		e->dns_rc = 0;
		e->dns = apf_xstrdup("an address: no DNS query");
		return;
	}
	for (size_t j = 0; j < n_srv; j++) {
		struct apf_dns_query_opts o = {.server = srv[j].ip, .port = srv[j].port, .timeout_ms = timeout_ms};
		struct apf_dns_answer *ans = NULL;
		struct apf_buf list = {0};
		char *err = NULL;
		int rc = apf_dns_query(&o, e->host, APF_RR_A, &ans, &err);

		if (rc < 0) {
			free(last);
			last = apf_xasprintf("A query to %s: %s", srv[j].spec, err ? err : strerror(-rc));
			free(err);
			continue;
		}
		if (ans->rcode != 0 && ans->rcode != 3) {
			free(last);
			last = apf_xasprintf("A query to %s: %s", srv[j].spec, ans->rcode_name);
			apf_dns_answer_free(ans);
			continue;
		}
		for (size_t k = 0; k < ans->n_rr; k++) {
			if (ans->rr[k].type != APF_RR_A)
				continue;
			if (e->n_addr < APF_ENDPOINT_MAX_ADDR)
				snprintf(e->addr[e->n_addr++], sizeof(e->addr[0]), "%s", ans->rr[k].data);
			apf_buf_addf(&list, "%s%s", e->n_addr_total++ ? ", " : "", ans->rr[k].data);
		}
		free(last);
		if (e->n_addr) {
			char *l = apf_buf_steal(&list);
			e->dns = apf_xasprintf("A %s from %s", l, srv[j].spec);
			free(l);
			e->dns_rc = 0;
		} else {
			apf_buf_clear(&list);
			e->dns = apf_xasprintf("A -> %s from %s", ans->rcode == 3 ? "NXDOMAIN" : "no record (NODATA)",
					       srv[j].spec);
			e->dns_rc = -ENOENT;
		}
		apf_dns_answer_free(ans);
		return;
	}
	e->dns_rc = -EIO;
	e->dns = last ? last : apf_xstrdup("no DNS server to ask");
}

/* ---- targets --------------------------------------------------------------- */

size_t apf_endpoint_targets_add(struct apf_endpoint *e, struct apf_endpoint_target *t)
{
	for (size_t k = 0; k < e->n_addr; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		t[k].ep = e;
		t[k].addr = e->addr[k];
		if (e->scheme == APF_EP_WSS) {
			/* Without the kernel's random source a fixed key still tests the server. */
			if (apf_ws_key_make(t[k].ws_key) < 0)
				snprintf(t[k].ws_key, sizeof(t[k].ws_key), "dGhlIHNhbXBsZSBub25jZQ==");
			t[k].request = apf_ws_request_new(e->host, e->port, true, e->path, t[k].ws_key);
		} else if (e->scheme == APF_EP_HTTPS) {
			t[k].request = apf_xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: amt-preflight\r\n"
						     "Connection: close\r\n\r\n",
						     e->path, e->host);
		}
	}
	return e->n_addr;
}

/* See apf_endpoint_set_probe(). Returns as apf_tls_probe_run(). */
static int targets_probe(struct apf_endpoint_target *t, size_t n, unsigned int timeout_ms, uint64_t deadline_ms,
			 char **err_out)
{
	struct apf_tls_probe *probes = apf_xcalloc(n ? n : 1, sizeof(*probes));
	struct apf_tls_opts o = {.timeout_ms = timeout_ms, .deadline_ms = deadline_ms};
	size_t np = 0, k = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (t[i].ep->scheme == APF_EP_TCP) {
			uint64_t now = apf_now_ms(), left = deadline_ms > now ? deadline_ms - now : 0;

			t[i].tcp_rc = left ? apf_tcp_probe(t[i].addr, t[i].ep->port,
							   left < timeout_ms ? (unsigned int)left : timeout_ms, &t[i].tcp_rtt_ms)
					   : -ETIMEDOUT;
			continue;
		}
		probes[np].ip = t[i].addr;
		probes[np].port = t[i].ep->port;
		probes[np].name = t[i].ep->host;
		probes[np].request = t[i].request;
		probes[np++].request_len = t[i].request ? strlen(t[i].request) : 0;
	}
	/* A handful of servers: every address in flight at once. */
	o.window = np > APF_TLS_MAX_WINDOW ? APF_TLS_MAX_WINDOW : (unsigned int)(np ? np : 1);
	if (np)
		rc = apf_tls_probe_run(&o, probes, np, err_out);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (t[i].ep->scheme == APF_EP_TCP)
			continue;
		t[i].probe = probes[k];
		memset(&probes[k++], 0, sizeof(*probes)); /* ownership moved to the target */
	}
	for (size_t i = 0; i < np; i++)
		apf_tls_probe_clear(&probes[i]);
	free(probes);
	return rc;
}

enum apf_endpoint_outcome apf_endpoint_outcome(const struct apf_endpoint_target *t, const char **error)
{
	const struct apf_tls_probe *p = &t->probe;

	if (t->ep->scheme == APF_EP_TCP) {
		*error = apf_tcp_strerror(t->tcp_rc);
		return t->tcp_rc == 0 ? APF_EP_CONNECTED : t->tcp_rc == -ECONNREFUSED ? APF_EP_REFUSED : APF_EP_UNREACHABLE;
	}
	*error = p->error ? p->error : apf_tls_strerror(p->rc);
	if (p->rc == 0)
		return APF_EP_CONNECTED;
	if (p->rc == -ECONNREFUSED)
		return APF_EP_REFUSED;
	/* A handshake that fails, or that the peer never finishes after accepting TCP. */
	if (p->rc == -EPROTO || (p->rc == -ETIMEDOUT && p->stage && strcmp(p->stage, "handshake") == 0))
		return APF_EP_NO_TLS;
	return APF_EP_UNREACHABLE;
}

bool apf_endpoint_ok(const struct apf_endpoint *e, const struct apf_endpoint_target *t, size_t n_t)
{
	for (size_t j = 0; j < n_t; j++)
		if (t[j].ep == e && !t[j].bad)
			return true;
	return false;
}

static void targets_free(struct apf_endpoint_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].request);
		apf_tls_probe_clear(&t[i].probe);
	}
	free(t);
}

/* ---- sets ------------------------------------------------------------------ */

int apf_endpoint_set_parse(struct apf_endpoint_set *s, char *const *specs, size_t n, bool bare_host,
			   uint16_t default_port)
{
	memset(s, 0, sizeof(*s));
	s->ep = apf_xcalloc(n ? n : 1, sizeof(*s->ep));
	s->t = apf_xcalloc(n ? n * APF_ENDPOINT_MAX_ADDR : 1, sizeof(*s->t));
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		int rc = bare_host ? apf_endpoint_parse_host(specs[i], default_port, &s->ep[i], &why)
				   : apf_endpoint_parse(specs[i], default_port, &s->ep[i], &why);

		if (rc < 0)
			return rc;
		s->n_ep++;
	}
	return 0;
}

int apf_endpoint_set_bundle(struct apf_ctx *ctx, struct apf_endpoint_set *s, const char *path, const char *code)
{
	char *err = NULL;
	int rc;

	if (!path)
		return 0;
	rc = apf_certs_from_file(path, &s->bundle, &s->n_bundle, &err);
	if (rc < 0 || !s->n_bundle) {
		struct apf_finding *f = apf_report(ctx, APF_ERROR, code, "cannot use %s", path);

		apf_evidence(f, "ca_bundle", "%s", path);
		apf_evidence(f, "error", "%s", err ? err : "no certificate in the file");
		rc = -1;
	}
	free(err);
	return rc < 0 ? -1 : 0;
}

int apf_endpoint_set_probe(struct apf_ctx *ctx, struct apf_endpoint_set *s, unsigned int timeout_ms, const char *code)
{
	char *err = NULL;

	if (!s->n_t)
		return 0;
	apf_ctx_step(ctx, "TCP and TLS to %zu endpoint addresses", s->n_t);
	if (targets_probe(s->t, s->n_t, timeout_ms, apf_ctx_deadline_ms(ctx), &err) < 0) {
		struct apf_finding *f = apf_report(ctx, APF_ERROR, code, "cannot start TLS probes");

		apf_evidence(f, "error", "%s", err ? err : "?");
		free(err);
		return -1;
	}
	return 0;
}

void apf_endpoint_set_clear(struct apf_endpoint_set *s)
{
	targets_free(s->t, s->n_t);
	for (size_t i = 0; i < s->n_ep; i++)
		apf_endpoint_clear(&s->ep[i]);
	free(s->ep);
	apf_certs_free(s->bundle, s->n_bundle);
	memset(s, 0, sizeof(*s));
}

/* ---- the peer's chain ------------------------------------------------------ */

static bool in_bundle(const struct apf_cert *c, struct apf_cert *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i]->der_len == c->der_len && memcmp(b[i]->der, c->der, c->der_len) == 0)
			return true;
	return false;
}

int apf_peer_chain_assess(const struct apf_tls_probe *p, struct apf_cert *const *bundle, size_t n_bundle,
			  time_t now, int warn_days, struct apf_peer_chain *out)
{
	struct apf_cert **pool = NULL;
	size_t np = 0;

	memset(out, 0, sizeof(*out));
	if (!p->n_der)
		return -EBADMSG;
	out->sent = apf_xcalloc(p->n_der, sizeof(*out->sent));
	for (size_t i = 0; i < p->n_der; i++) {
		if (apf_cert_from_der(p->der[i], p->der_len[i], &out->sent[out->n_sent]) == 0)
			out->n_sent++;
		else if (i == 0)
			return -EBADMSG;
	}
	pool = apf_xcalloc(out->n_sent + n_bundle, sizeof(*pool));
	for (size_t i = 0; i < out->n_sent; i++)
		pool[np++] = out->sent[i];
	for (size_t i = 0; i < n_bundle; i++)
		pool[np++] = bundle[i];
	apf_chain_build(out->sent[0], pool, np, now, &out->chain);
	free(pool);
	if (out->chain.complete && out->chain.n)
		out->root = out->chain.v[out->chain.n - 1];
	for (size_t i = 0; i < out->chain.n; i++) {
		const struct apf_cert *c = out->chain.v[i];
		bool is_root = c == out->root;

		out->trusted |= in_bundle(c, bundle, n_bundle);
		if (!out->expired && now > c->not_after)
			out->expired = c;
		if (!out->not_yet && now < c->not_before)
			out->not_yet = c;
		if (!out->expiring && now <= c->not_after && c->not_after - now < (time_t)warn_days * 86400)
			out->expiring = c;
		if (!out->weak_key && c->key_type && strcmp(c->key_type, "RSA") == 0 && c->key_bits < 2048)
			out->weak_key = c;
		/* A root's own signature is never checked by anyone: it is trusted as is. */
		if (!out->weak_hash && !is_root && apf_amt_hash_is_weak(c->sig_hash))
			out->weak_hash = c;
	}
	return 0;
}

void apf_peer_chain_clear(struct apf_peer_chain *c)
{
	if (!c)
		return;
	apf_chain_clear(&c->chain);
	apf_certs_free(c->sent, c->n_sent);
	memset(c, 0, sizeof(*c));
}

/* "CN=leaf | CN=issuing | CN=root" of the built chain. Caller frees. */
static char *peer_chain_text(const struct apf_peer_chain *c)
{
	struct apf_buf b = {0};

	for (size_t i = 0; i < c->chain.n; i++)
		apf_buf_addf(&b, "%s%s", i ? " | " : "", c->chain.v[i]->subject ? c->chain.v[i]->subject : "?");
	if (!c->chain.complete)
		apf_buf_addf(&b, "%s(no issuer found)", c->chain.n ? " | " : "");
	return apf_buf_steal(&b);
}

void apf_peer_chain_evidence(struct apf_finding *f, const struct apf_tls_probe *p, const struct apf_peer_chain *pc,
			     bool have_bundle)
{
	const struct apf_cert *leaf = pc->sent[0];
	char t[32];
	char *chain = peer_chain_text(pc);
	char *san = apf_strv_join((const char *const *)leaf->san_dns.v, leaf->san_dns.n, ", ");
	char *san_ip = apf_strv_join((const char *const *)leaf->san_ip.v, leaf->san_ip.n, ", ");

	apf_evidence(f, "tls", "%s %s", p->version, p->cipher);
	apf_evidence(f, "subject", "%s", leaf->subject ? leaf->subject : "");
	apf_evidence(f, "issuer", "%s", leaf->issuer ? leaf->issuer : "");
	apf_evidence(f, "san_dns", "%s", *san ? san : "(none)");
	apf_evidence(f, "san_ip", "%s", *san_ip ? san_ip : "(none)");
	apf_evidence(f, "not_after", "%s", apf_pki_time_str(leaf->not_after, t, sizeof(t)));
	apf_evidence(f, "key", "%s %d", leaf->key_type ? leaf->key_type : "?", leaf->key_bits);
	apf_evidence(f, "name_match", "%s", p->name_match == 1 ? "yes" : "no");
	apf_evidence(f, "sent_certificates", "%zu", p->n_sent);
	apf_evidence(f, "chain", "%s", chain);
	if (have_bundle)
		apf_evidence(f, "trusted", "%s", pc->trusted ? "yes: a chain certificate is in ca_bundle" : "no");
	free(chain);
	free(san);
	free(san_ip);
}

void apf_cert_brief_evidence(struct apf_finding *f, const char *key, const struct apf_cert *c)
{
	char t1[32], t2[32];

	apf_evidence(f, key, "%s (%s .. %s, %s %d, %s)", c->subject ? c->subject : "?",
		     apf_pki_time_str(c->not_before, t1, sizeof(t1)), apf_pki_time_str(c->not_after, t2, sizeof(t2)),
		     c->key_type ? c->key_type : "?", c->key_bits, c->sig_alg ? c->sig_alg : "?");
}
