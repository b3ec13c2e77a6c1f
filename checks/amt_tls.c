/* SPDX-License-Identifier: MIT */
/*
 * amt.tls: AMT's TLS port (16993) is how the setup and configuration server
 * (SCS) and management consoles talk to a device, and from CSME 16.1 on the
 * only remote path. The SCS resolves the device's FQDN in DNS and compares it
 * with the certificate the device presents before it accepts the TLS session,
 * so every AMT host must present, on that port, a certificate that carries its
 * DNS name and is within its validity dates, over a TLS version the SCS speaks.
 *
 * For each host: its A record from the DNS servers clients use (never the host
 * resolver; all names a window at a time through src/dnsfleet.c), then a TLS
 * handshake through src/net/tls.c (a bounded window of non-blocking probes),
 * then the verdicts. The name check never depends on
 * chain validation: devices start with self-signed certificates. Findings are
 * per fleet: counts and the first offenders with their certificate details.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "amt_rules.h"
#include "check.h"
#include "dnscheck.h"
#include "dnsfleet.h"
#include "net/dns.h"
#include "net/tls.h"
#include "pki.h"

#define MAX_FILE_HOSTS 1000000   /* what apf_fleet_hosts_load() accepts at all */
#define REDIRECTION_TLS_PORT 16995 /* SOL/IDE-R/KVM redirection over TLS */
#define FIRST_OFFENDERS 5        /* hosts described in full per finding */
#define MAX_NAMES_SHOWN 20       /* subjectAltNames listed per certificate */
#define QUERY_CAP_MS 1000        /* first-try timeout of an A query, until RTTs are measured */
#define PROBE_CAP_MS 5000        /* one TLS attempt: connect + handshake */
#define PROBE_MIN_MS 250
#define REPORT_RESERVE_MS 300    /* kept back from the deadline to write findings */

static const struct apf_code codes[] = {
	{"TLS_OK", APF_PASS,
	 "Hosts whose TLS port completed a handshake over TLS 1.2 or later with a CA-issued certificate that names "
	 "the host's DNS name and is within its validity dates",
	 "None"},
	{"TLS_NAME_MISMATCH", APF_FAIL,
	 "Hosts whose CA-issued certificate does not carry the name DNS gives for them (neither in its DNS SANs nor, "
	 "without SANs, in its CN): the SCS compares the DNS name with the certificate and refuses the TLS session",
	 "Reissue the device certificate for the host's FQDN (reprovision or renew through the SCS), or correct the "
	 "DNS record when it names the wrong device"},
	{"TLS_CERT_EXPIRED", APF_FAIL,
	 "Hosts whose certificate is past its notAfter date: TLS clients refuse it, so the SCS and consoles cannot "
	 "manage the device",
	 "Renew the device certificate through the SCS (maintenance/reconfiguration), and check the device's clock"},
	{"TLS_CERT_NOT_YET_VALID", APF_FAIL,
	 "Hosts whose certificate's notBefore date is in the future: TLS clients refuse it until then",
	 "Check the clock of the issuing CA, of the device and of this machine; reissue the certificate if its dates "
	 "are wrong"},
	{"TLS_SELF_SIGNED", APF_INFO,
	 "Hosts presenting a self-signed certificate: this is expected on a device that is not provisioned yet (AMT "
	 "uses one it made itself, which need not carry the FQDN DNS gives, until a managed certificate is set); "
	 "provisioning replaces it with a certificate for the host's FQDN from the enterprise CA. On a provisioned "
	 "device it means TLS was set up without the CA",
	 "None before provisioning. On provisioned devices: configure TLS with certificates from the enterprise CA "
	 "(the SCS profile's TLS settings)"},
	{"TLS_ODCA_ISSUED", APF_INFO,
	 "Hosts presenting a certificate from the CSME on-die CA (AMT 19 and later: subject \"AMT RCFG\", issuer "
	 "\"ODCA 2 CSME ... AMT CA\"): the device's own certificate before provisioning, used where older firmware "
	 "uses a self-signed one; it does not carry the DNS name, so its name is evidence, not a failure",
	 "None before provisioning. rpc-go validates it against Intel's on-die CA root (or needs "
	 "-skipamtcertcheck on versions that cannot); provisioning replaces it with a certificate for the host's FQDN"},
	{"TLS_SERVER_ISSUED", APF_INFO,
	 "Hosts presenting the certificate their management server issues when it configures AMT's TLS itself (Open "
	 "AMT's RPS: subject CN=AMT, O=None; MeshCentral: CN=IntelAMT-<hex>, ST=MC, C=MC): it carries no DNS name by "
	 "design, and the server reaches the device without comparing one (through its agent or CIRA, or by the "
	 "certificate's recorded hash), so its name is evidence, not a failure",
	 "None for devices that server manages. When other consoles must reach them over TLS by name, have the server "
	 "issue the TLS certificates from the enterprise CA (RPS: Enterprise Assistant)"},
	{"TLS_LEGACY_ONLY", APF_WARN,
	 "Hosts that complete a handshake only with legacy settings: TLS 1.0/1.1, or TLS 1.2 with a weak key, SHA-1 "
	 "signatures or old ciphers (OpenSSL security level 0). AMT 11 and older may need this; current SCS and "
	 "console builds on OpenSSL 3 or hardened Windows refuse it by default",
	 "Update the AMT firmware (AMT 12 and later speak TLS 1.2), or allow TLS 1.0/1.1 on the SCS for those "
	 "devices until they are replaced"},
	{"TLS_HANDSHAKE_FAILED", APF_ERROR,
	 "Hosts that accepted TCP on the TLS port but completed no handshake, with modern or legacy settings, so "
	 "their certificate could not be checked. AMT 11 and older may offer only TLS 1.0/1.1 or ciphers that "
	 "OpenSSL 3 refuses even at security level 0; another service on the port fails the same way",
	 "Check that the port is AMT's (16993) and that TLS is configured on the device; for AMT 11 and older, test "
	 "from a client that still allows TLS 1.0/1.1"},
	{"TLS_CONNECT_FAILED", APF_ERROR,
	 "Hosts whose TLS port refused the connection or could not be reached (no route), so nothing could be "
	 "checked: AMT not provisioned with TLS, the device off or asleep without AMT power, or a firewall",
	 "Check that the device is powered and on the network, that TLS is configured on it, and that TCP to the "
	 "port is allowed from the SCS and consoles"},
	{"TLS_TIMEOUT", APF_ERROR,
	 "Hosts that did not answer the TCP connect, or accepted it but never completed the TLS handshake, within "
	 "the time available, so nothing could be checked",
	 "Check filtering between here and the devices (TCP to the TLS port) and that the device is powered; raise "
	 "the check's timeout (--timeout) for slow links"},
	{"TLS_NO_ADDRESS", APF_FAIL,
	 "Hosts whose name has no A record on the DNS servers clients use (NXDOMAIN or no data): the SCS cannot "
	 "reach the device by name nor match its certificate to a DNS name",
	 "Register the hosts in DNS (DHCP option 81 with DDNS, or static records); dns.host-registration audits "
	 "the forward and reverse records"},
	{"TLS_DNS_ERROR", APF_ERROR,
	 "Hosts whose A query got no usable answer (timeout, SERVFAIL, REFUSED, a malformed reply) from every DNS "
	 "server clients use, so they could not be probed",
	 "Check that the DNS servers are reachable from here and answer for the AMT zone"},
	{"TLS_CERT_UNREADABLE", APF_ERROR,
	 "Hosts whose handshake completed but whose certificate could not be read or name-checked",
	 "See the evidence; capture the certificate with openssl s_client to inspect it"},
	{"TLS_INCOMPLETE", APF_ERROR, "Hosts not probed before the check's time ran out",
	 "Raise the check's timeout (--timeout), or list fewer hosts in [amt] tls_hosts"},
	{"TLS_HOSTS_CAPPED", APF_INFO,
	 "The host list is longer than [amt] tls_max_hosts: only the first hosts were probed",
	 "Raise [amt] tls_max_hosts (and the check's timeout), or split the hosts file over several runs"},
	{"TLS_HOSTS_INVALID", APF_ERROR, "The hosts file could not be read or has an invalid line (file:line given)",
	 "Fix the hosts file: one FQDN per line, optionally followed by an address"},
	{"TLS_ENGINE_ERROR", APF_ERROR, "The TLS probe engine could not start (OpenSSL context)", "See the evidence"},
	{0},
};

static const char *const after[] = {"dhcp.options", NULL};

/* What became of a host; the order is the order findings are reported in. */
enum verdict {
	V_OK,
	V_NAME_MISMATCH,
	V_EXPIRED,
	V_NOT_YET_VALID,
	V_SELF_SIGNED,
	V_ODCA,
	V_SERVER,
	V_LEGACY,
	V_HANDSHAKE,
	V_CONNECT,
	V_TIMEOUT,
	V_NO_ADDRESS,
	V_DNS_ERROR,
	V_UNREADABLE,
	V_NOT_PROBED,
	V_COUNT
};

static const struct {
	const char *code;
	enum apf_status st;
	const char *what; /* "N of M hosts <what>" */
	bool probed;      /* about what the TLS port did (the message names the port) */
} verdicts[V_COUNT] = {
	[V_OK] = {"TLS_OK", APF_PASS, "present a valid certificate for their DNS name over TLS 1.2 or later", true},
	[V_NAME_MISMATCH] = {"TLS_NAME_MISMATCH", APF_FAIL, "present a certificate that does not name the host", true},
	[V_EXPIRED] = {"TLS_CERT_EXPIRED", APF_FAIL, "present an expired certificate", true},
	[V_NOT_YET_VALID] = {"TLS_CERT_NOT_YET_VALID", APF_FAIL, "present a certificate that is not valid yet", true},
	[V_SELF_SIGNED] = {"TLS_SELF_SIGNED", APF_INFO,
			   "present a self-signed certificate (expected before provisioning)", true},
	[V_ODCA] = {"TLS_ODCA_ISSUED", APF_INFO,
		    "present a certificate from the CSME on-die CA (expected before provisioning on AMT 19+)", true},
	[V_SERVER] = {"TLS_SERVER_ISSUED", APF_INFO,
		      "present the certificate their management server (RPS, MeshCentral) issues for AMT's TLS", true},
	[V_LEGACY] = {"TLS_LEGACY_ONLY", APF_WARN, "complete a handshake only with legacy TLS settings", true},
	[V_HANDSHAKE] = {"TLS_HANDSHAKE_FAILED", APF_ERROR, "accepted TCP but completed no TLS handshake", true},
	[V_CONNECT] = {"TLS_CONNECT_FAILED", APF_ERROR, "could not be connected to", true},
	[V_TIMEOUT] = {"TLS_TIMEOUT", APF_ERROR, "did not answer in time", true},
	[V_NO_ADDRESS] = {"TLS_NO_ADDRESS", APF_FAIL, "have no A record", false},
	[V_DNS_ERROR] = {"TLS_DNS_ERROR", APF_ERROR, "could not be resolved (DNS error)", false},
	[V_UNREADABLE] = {"TLS_CERT_UNREADABLE", APF_ERROR, "sent a certificate that could not be checked", true},
	[V_NOT_PROBED] = {"TLS_INCOMPLETE", APF_ERROR, "were not probed before the deadline", false},
};

/*
 * One host. Kept small (a fleet may be 50,000 hosts): what a probe found is
 * judged the moment it ends, and its certificates are kept only for the few
 * hosts each finding describes in full.
 */
struct host {
	char *name;            /* FQDN without a trailing dot, or an address literal */
	char addr[INET6_ADDRSTRLEN];
	char *dns;             /* what DNS said, for evidence ("NXDOMAIN from 192.0.2.1", ...) */
	bool resolved;         /* addr is set */
	bool probed;           /* the current port's probe ended */
	const struct apf_tls_probe *probe; /* the probe, for hosts shown in a finding; else NULL */
	unsigned int dns_flags; /* verdicts from resolution (V_NO_ADDRESS, V_DNS_ERROR, V_NOT_PROBED) */
	unsigned int flags;    /* 1u << verdict, for the verdicts it earned on the current port */
	unsigned int shown;    /* 1u << verdict, for the findings that describe it in full */
};

struct fleet {
	struct host *h;
	size_t n;
	size_t max;            /* [amt] tls_max_hosts */
	size_t total;          /* hosts in the source, before the cap */
	const char *source;    /* "[amt] tls_hosts" or the hosts file's path */
	/* the current port's probes */
	struct apf_tls_probe *probes;
	struct host **owner;   /* probes[k] is owner[k]'s */
	size_t n_shown[V_COUNT];
	time_t now;
};

static bool is_address(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void fleet_add(struct fleet *fl, const char *name)
{
	size_t len = strlen(name);
	struct host *h;

	fl->total++;
	if (fl->n >= fl->max)
		return;
	h = &fl->h[fl->n++];
	/* "host.example.com." and "host.example.com" are the same host; certificates
	 * never carry the root dot, so the name is compared without it. */
	while (len > 1 && name[len - 1] == '.')
		len--;
	h->name = apf_xmalloc(len + 1);
	memcpy(h->name, name, len);
	h->name[len] = '\0';
	if (is_address(h->name)) {
		snprintf(h->addr, sizeof(h->addr), "%s", h->name);
		h->resolved = true;
	}
}

static void fleet_free(struct fleet *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		free(fl->h[i].name);
		free(fl->h[i].dns);
	}
	free(fl->h);
}

/* The host list: [amt] tls_hosts, else the names of [dns] hosts_file. Returns 0, -ENOENT when neither is set. */
static int fleet_load(struct apf_ctx *ctx, struct fleet *fl)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_fleet_list *l = NULL;
	char *err = NULL;
	int rc = 0;

	if (cfg->amt.tls_hosts.n) {
		size_t n = cfg->amt.tls_hosts.n;

		fl->source = "[amt] tls_hosts";
		fl->h = apf_xcalloc(n < fl->max ? n : fl->max, sizeof(*fl->h));
		for (size_t i = 0; i < n; i++)
			fleet_add(fl, cfg->amt.tls_hosts.v[i]);
		return 0;
	}
	if (!cfg->dns.hosts_file)
		return -ENOENT;
	fl->source = cfg->dns.hosts_file;
	rc = apf_fleet_hosts_load(cfg->dns.hosts_file, MAX_FILE_HOSTS, &l, &err);
	if (rc < 0) {
		struct apf_finding *f = apf_report(ctx, APF_ERROR, "TLS_HOSTS_INVALID", "cannot use the hosts file: %s",
						   err ? err : "?");
		apf_evidence(f, "hosts_file", "%s", cfg->dns.hosts_file);
		apf_evidence(f, "error", "%s", err ? err : "?");
		goto out;
	}
	fl->h = apf_xcalloc(l->n ? (l->n < fl->max ? l->n : fl->max) : 1, sizeof(*fl->h));
	for (size_t i = 0; i < l->n; i++)
		fleet_add(fl, l->h[i].name);
out:
	free(err);
	apf_fleet_list_free(l);
	return rc;
}

/* ---- DNS ------------------------------------------------------------------ */

/*
 * Resolves every named host through the DNS servers clients use, a window of
 * queries at a time (apf_dnscheck_ask_fleet()), so a fleet of 50,000 names
 * costs seconds, not the sum of 50,000 round trips.
 */
static void resolve_all(struct apf_ctx *ctx, const struct apf_dnscheck_resolver *r, uint64_t end_ms, struct fleet *fl)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_fleet_list *l = apf_xcalloc(1, sizeof(*l));
	struct host **owner = apf_xcalloc(fl->n, sizeof(*owner));
	size_t *from = apf_xcalloc(fl->n, sizeof(*from));
	char **gave_up = apf_xcalloc(r->n, sizeof(*gave_up));

	l->h = apf_xcalloc(fl->n, sizeof(*l->h));
	for (size_t i = 0; i < fl->n; i++) {
		struct host *h = &fl->h[i];
		const char *why = NULL;

		if (h->resolved)
			continue;
		if (apf_fleet_host_init(&l->h[l->n], h->name, &why) < 0) {
			h->dns = apf_xasprintf("not asked: %s", why);
			h->flags |= 1u << V_DNS_ERROR;
			continue;
		}
		owner[l->n++] = h;
	}
	apf_dnscheck_ask_fleet(r, l, (unsigned int)cfg->dns.window, (unsigned int)cfg->dns.rate_limit, QUERY_CAP_MS,
			       end_ms, from, gave_up);
	for (size_t k = 0; k < l->n; k++) {
		const struct apf_fleet_host *e = &l->h[k];
		struct host *h = owner[k];
		const char *spec = r->srv[from[k]].spec;

		switch (e->verdict) {
		case APF_FLEET_OK:
			apf_fleet_addr_text(e, h->addr, sizeof(h->addr));
			h->resolved = true;
			h->dns = apf_xasprintf("A %s from %s", h->addr, spec);
			break;
		case APF_FLEET_NO_A:
			h->dns = apf_xasprintf("A -> %s from %s", e->rcode == 3 ? "NXDOMAIN" : "no record (NODATA)", spec);
			h->flags |= 1u << V_NO_ADDRESS;
			break;
		case APF_FLEET_TIMEOUT:
			h->dns = apf_xasprintf("A query to %s: no answer", spec);
			h->flags |= 1u << V_DNS_ERROR;
			break;
		case APF_FLEET_SERVER_ERROR:
			h->dns = apf_xasprintf("A query to %s: %s", spec,
					       e->rcode > 0 ? apf_dns_rcode_name(e->rcode) : "malformed answer");
			h->flags |= 1u << V_DNS_ERROR;
			break;
		default:
			/* Never answered: its server was given up, else time ran out. */
			if (gave_up[from[k]]) {
				h->dns = apf_xasprintf("not asked: %s", gave_up[from[k]]);
				h->flags |= 1u << V_DNS_ERROR;
			} else {
				h->flags |= 1u << V_NOT_PROBED; /* out of time, not a DNS problem */
			}
			break;
		}
	}
	for (size_t s = 0; s < r->n; s++)
		free(gave_up[s]);
	free(gave_up);
	free(from);
	free(owner);
	apf_fleet_list_free(l);
}

/* ---- verdicts -------------------------------------------------------------- */

static void judge(struct host *h, const struct apf_tls_probe *p, time_t now)
{
	if (!p) {
		if (!h->flags)
			h->flags |= 1u << V_NOT_PROBED;
		return;
	}
	switch (p->rc) {
	case 0:
		break;
	case -ECANCELED:
		h->flags |= 1u << V_NOT_PROBED;
		return;
	case -ETIMEDOUT:
		h->flags |= 1u << V_TIMEOUT;
		return;
	case -EPROTO:
		h->flags |= 1u << V_HANDSHAKE;
		return;
	default:
		h->flags |= 1u << V_CONNECT;
		return;
	}
	if (!p->n_der || !p->leaf_read || p->name_match < 0) {
		h->flags |= 1u << V_UNREADABLE;
		return;
	}
	/* A self-signed certificate, or on AMT 19+ one from the CSME on-die CA, is
	 * the device's own, from before provisioning; the one RPS or MeshCentral
	 * issues for AMT's TLS names no host by design. Nobody compares these with
	 * DNS, so their names are evidence, not failures. */
	if (p->leaf_self_signed)
		h->flags |= 1u << V_SELF_SIGNED;
	else if (apf_amt_odca_issued(p->leaf_issuer))
		h->flags |= 1u << V_ODCA;
	else if (apf_amt_server_issued(p->leaf_subject))
		h->flags |= 1u << V_SERVER;
	else if (p->name_match == 0)
		h->flags |= 1u << V_NAME_MISMATCH;
	if (now > p->leaf_not_after)
		h->flags |= 1u << V_EXPIRED;
	if (now < p->leaf_not_before)
		h->flags |= 1u << V_NOT_YET_VALID;
	if (p->legacy)
		h->flags |= 1u << V_LEGACY;
	if (!h->flags)
		h->flags |= 1u << V_OK;
}

/* ---- evidence -------------------------------------------------------------- */

static void ev(struct apf_finding *f, size_t i, const char *what, const char *value)
{
	char key[48];

	snprintf(key, sizeof(key), "host_%zu_%s", i, what);
	apf_evidence(f, key, "%s", value);
}

/* The first names of a list, comma-separated; a hostile certificate may carry thousands. */
static char *join_list(const struct apf_strlist *l)
{
	char *s = apf_xstrdup("");

	for (size_t i = 0; i < l->n && i < MAX_NAMES_SHOWN; i++) {
		char *n = apf_xasprintf("%s%s%s", s, i ? ", " : "", l->v[i]);
		free(s);
		s = n;
	}
	if (l->n > MAX_NAMES_SHOWN) {
		char *n = apf_xasprintf("%s (and %zu more)", s, l->n - MAX_NAMES_SHOWN);
		free(s);
		s = n;
	}
	return s;
}

/* How many certificates the peer sent and their subjects, leaf first: "2: CN=a | CN=Issuing CA". */
static char *chain_text(const struct apf_tls_probe *p)
{
	char *s = apf_xasprintf("%zu:", p->n_sent);

	for (size_t i = 0; i < p->n_der; i++) {
		struct apf_cert *c = NULL;
		char *n;

		if (apf_cert_from_der(p->der[i], p->der_len[i], &c) < 0)
			n = apf_xasprintf("%s%s (unreadable)", s, i ? " |" : "");
		else
			n = apf_xasprintf("%s%s %s", s, i ? " |" : "", c->subject ? c->subject : "?");
		free(s);
		s = n;
		apf_cert_free(c);
	}
	if (p->n_sent > p->n_der) {
		char *n = apf_xasprintf("%s | ...", s);
		free(s);
		s = n;
	}
	return s;
}

static void describe(struct apf_finding *f, size_t i, const struct host *h, unsigned int port)
{
	const struct apf_tls_probe *p = h->probe;
	struct apf_cert *leaf = NULL;
	const char *server;
	char key[24], t[32];

	snprintf(key, sizeof(key), "host_%zu", i);
	if (h->resolved)
		apf_evidence(f, key, "%s -> %s:%u", h->name, h->addr, port);
	else
		apf_evidence(f, key, "%s", h->name);
	if (h->dns)
		ev(f, i, "dns", h->dns);
	if (!p || p->rc == -ECANCELED)
		return;
	if (p->rc != 0) {
		char *e = apf_xasprintf("%s%s%s", p->error ? p->error : apf_tls_strerror(p->rc),
					p->legacy_error ? "; with legacy settings: " : "",
					p->legacy_error ? p->legacy_error : "");
		ev(f, i, "stage", p->stage ? p->stage : "?");
		ev(f, i, "error", e);
		free(e);
		return;
	}
	{
		char *tls = apf_xasprintf("%s %s%s", p->version, p->cipher,
					  p->legacy ? " (legacy settings: TLS 1.0-1.2 at OpenSSL security level 0)" : "");
		ev(f, i, "tls", tls);
		free(tls);
		if (p->legacy && p->error)
			ev(f, i, "modern_error", p->error);
	}
	/* Only the hosts shown are parsed in full: the verdicts used the handshake's own parse. */
	if (!p->n_der || apf_cert_from_der(p->der[0], p->der_len[0], &leaf) < 0)
		return;
	ev(f, i, "subject", leaf->subject ? leaf->subject : "");
	server = apf_amt_server_issued(leaf->subject);
	if (server)
		ev(f, i, "issued_by", server);
	ev(f, i, "issuer", leaf->issuer ? leaf->issuer : "");
	ev(f, i, "serial", leaf->serial_hex ? leaf->serial_hex : "");
	ev(f, i, "sha1", leaf->sha1_hex);
	ev(f, i, "not_before", apf_pki_time_str(leaf->not_before, t, sizeof(t)));
	ev(f, i, "not_after", apf_pki_time_str(leaf->not_after, t, sizeof(t)));
	{
		char *san = join_list(&leaf->san_dns), *chain = chain_text(p);

		ev(f, i, "san", *san ? san : "(none)");
		if (leaf->san_ip.n) {
			char *ip = join_list(&leaf->san_ip);

			ev(f, i, "san_ip", ip);
			free(ip);
		}
		ev(f, i, "name_match", p->name_match == 1 ? "yes" : "no");
		ev(f, i, "self_signed", p->leaf_self_signed ? "yes" : "no");
		ev(f, i, "chain", chain);
		free(san);
		free(chain);
	}
	apf_cert_free(leaf);
}

static void report(struct apf_ctx *ctx, const struct fleet *fl, unsigned int port, uint64_t elapsed_ms)
{
	for (size_t v = 0; v < V_COUNT; v++) {
		size_t count = 0, shown = 0;
		struct apf_finding *f;

		for (size_t i = 0; i < fl->n; i++)
			count += (fl->h[i].flags >> v) & 1u;
		if (!count)
			continue;
		if (verdicts[v].probed)
			f = apf_report(ctx, verdicts[v].st, verdicts[v].code, "%zu of %zu hosts %s on TLS port %u",
				       count, fl->n, verdicts[v].what, port);
		else
			f = apf_report(ctx, verdicts[v].st, verdicts[v].code, "%zu of %zu hosts %s", count, fl->n,
				       verdicts[v].what);
		apf_evidence(f, "hosts_from", "%s", fl->source);
		apf_evidence(f, "port", "%u", port);
		apf_evidence(f, "hosts", "%zu", fl->n);
		apf_evidence(f, "count", "%zu", count);
		if (v == V_OK)
			apf_evidence(f, "elapsed_ms", "%llu", (unsigned long long)elapsed_ms);
		for (size_t i = 0; i < fl->n && shown < FIRST_OFFENDERS; i++) {
			if ((fl->h[i].shown >> v) & 1u)
				describe(f, ++shown, &fl->h[i], port);
		}
		if (count > shown)
			apf_evidence(f, "not_shown", "%zu", count - shown);
	}
}

/* ---- the probes -------------------------------------------------------- */

/* Marks the host as described in full in the findings of its verdicts that still have room. */
static bool mark_shown(struct fleet *fl, struct host *h)
{
	for (size_t v = 0; v < V_COUNT; v++) {
		if (((h->flags >> v) & 1u) && fl->n_shown[v] < FIRST_OFFENDERS) {
			fl->n_shown[v]++;
			h->shown |= 1u << v;
		}
	}
	return h->shown != 0;
}

/*
 * Called by the engine as each probe ends: judged at once, and its
 * certificates kept only when a finding will describe the host. This is what
 * bounds memory for a large fleet.
 */
static void probe_done(void *arg, struct apf_tls_probe *p)
{
	struct fleet *fl = arg;
	struct host *h = fl->owner[p - fl->probes];

	h->probed = true;
	judge(h, p, fl->now);
	if (mark_shown(fl, h)) {
		h->probe = p;
		return;
	}
	apf_tls_probe_clear(p);
}

/* Probes every resolved host on `port` until `deadline`, then reports. Returns -1 when the engine failed. */
static int probe_port(struct apf_ctx *ctx, struct fleet *fl, unsigned int port, unsigned int window,
		      uint64_t deadline)
{
	uint64_t t0 = apf_now_ms();
	size_t np = 0;
	char *err = NULL;
	int rc = 0;

	memset(fl->n_shown, 0, sizeof(fl->n_shown));
	fl->now = time(NULL);
	for (size_t i = 0; i < fl->n; i++) {
		struct host *h = &fl->h[i];

		h->flags = h->dns_flags;
		h->shown = 0;
		h->probed = false;
		h->probe = NULL;
		if (!h->resolved)
			continue;
		fl->probes[np] = (struct apf_tls_probe){.ip = h->addr, .port = (uint16_t)port, .name = h->name};
		fl->owner[np++] = h;
	}
	if (np) {
		uint64_t now = apf_now_ms(), rem = deadline > now ? deadline - now : 0;
		size_t rounds = (np + window - 1) / window;
		/* Every round of the window gets its share, within sane bounds; the
		 * deadline cuts whatever is left. */
		uint64_t per = rem / rounds;
		struct apf_tls_opts o = {
			.window = window,
			.timeout_ms = per > PROBE_CAP_MS ? PROBE_CAP_MS : per < PROBE_MIN_MS ? PROBE_MIN_MS : (unsigned int)per,
			.deadline_ms = deadline,
			.legacy_fallback = true,
			.done = probe_done,
			.done_arg = fl,
		};

		apf_ctx_step(ctx, "TLS handshakes with %zu AMT hosts on port %u (window %u, %u ms each)", np, port,
			     o.window, o.timeout_ms);
		rc = apf_tls_probe_run(&o, fl->probes, np, &err);
		if (rc < 0) {
			struct apf_finding *f = apf_report(ctx, APF_ERROR, "TLS_ENGINE_ERROR", "cannot start TLS probes");
			apf_evidence(f, "error", "%s", err ? err : "?");
			goto out;
		}
	}
	for (size_t i = 0; i < fl->n; i++) {
		if (!fl->h[i].probed) {
			judge(&fl->h[i], NULL, fl->now);
			mark_shown(fl, &fl->h[i]);
		}
	}
	report(ctx, fl, port, apf_now_ms() - t0);
out:
	for (size_t k = 0; k < np; k++)
		apf_tls_probe_clear(&fl->probes[k]);
	free(err);
	return rc < 0 ? -1 : 0;
}

/* ---- the check ------------------------------------------------------------ */

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	unsigned int ports[2] = {(unsigned int)cfg->amt.tls_port, REDIRECTION_TLS_PORT};
	size_t n_ports = cfg->amt.tls_redirection && cfg->amt.tls_port != REDIRECTION_TLS_PORT ? 2 : 1;
	struct fleet fl = {.max = (size_t)cfg->amt.tls_max_hosts};
	struct apf_dnscheck_resolver r = {0};
	size_t to_resolve = 0;
	uint64_t deadline, resolve_end;
	int rc;

	rc = fleet_load(ctx, &fl);
	if (rc == -ENOENT) {
		apf_skip(ctx, "no AMT hosts to probe: set [amt] tls_hosts (or [dns] hosts_file)");
		goto out;
	}
	if (rc < 0)
		goto out;
	if (!fl.n) {
		apf_skip(ctx, "the hosts file %s lists no hosts", fl.source);
		goto out;
	}
	for (size_t i = 0; i < fl.n; i++)
		to_resolve += !fl.h[i].resolved;
	if (to_resolve) {
		apf_dnscheck_resolver_init(&r, ctx, NULL, NULL);
		if (!r.n) {
			apf_skip(ctx, "cannot resolve the AMT hosts: %s", APF_DNSCHECK_NO_SERVER);
			goto out;
		}
	}
	if (fl.total > fl.n) {
		struct apf_finding *f = apf_report(ctx, APF_INFO, "TLS_HOSTS_CAPPED",
						   "only the first %zu of %zu hosts were probed", fl.n, fl.total);
		apf_evidence(f, "hosts_from", "%s", fl.source);
		apf_evidence(f, "listed", "%zu", fl.total);
		apf_evidence(f, "probed", "%zu", fl.n);
		apf_evidence(f, "tls_max_hosts", "%zu", fl.max);
	}

	/* Names first, each through the DNS servers clients use; resolution may use
	 * half of the time, the handshakes get the rest. */
	deadline = apf_ctx_deadline_ms(ctx);
	deadline = deadline > REPORT_RESERVE_MS ? deadline - REPORT_RESERVE_MS : 0;
	resolve_end = apf_now_ms() + (deadline > apf_now_ms() ? (deadline - apf_now_ms()) / 2 : 0);
	if (to_resolve) {
		apf_ctx_step(ctx, "A queries for %zu AMT hosts (%s)", to_resolve, r.source);
		resolve_all(ctx, &r, resolve_end, &fl);
	}
	for (size_t i = 0; i < fl.n; i++)
		fl.h[i].dns_flags = fl.h[i].flags;

	fl.probes = apf_xcalloc(fl.n, sizeof(*fl.probes));
	fl.owner = apf_xcalloc(fl.n, sizeof(*fl.owner));
	for (size_t k = 0; k < n_ports; k++) {
		/* The ports share what is left: the first gets its half when there are two. */
		uint64_t now = apf_now_ms(), rem = deadline > now ? deadline - now : 0;
		uint64_t end = k + 1 < n_ports ? now + rem / (n_ports - k) : deadline;

		if (probe_port(ctx, &fl, ports[k], (unsigned int)cfg->amt.tls_window, end) < 0)
			break;
	}
out:
	free(fl.owner);
	free(fl.probes);
	apf_dnscheck_resolver_clear(&r);
	fleet_free(&fl);
	return 0;
}

const struct apf_check apf_check_amt_tls = {
	.id = "amt.tls",
	.title = "AMT TLS port: certificate name, dates and TLS version",
	.summary = "For every AMT host ([amt] tls_hosts, else the names in [dns] hosts_file), resolves its A record "
		   "through the DNS servers clients use and completes a TLS handshake on AMT's TLS port (16993), "
		   "then reports hosts whose certificate does not carry their DNS name (the SCS refuses those), is "
		   "expired or not yet valid, is self-signed (expected before provisioning) or that speak only "
		   "TLS 1.0/1.1; summarised per fleet with the first offenders' certificates.",
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 120000,
	.codes = codes,
	.run = run,
};
