/* SPDX-License-Identifier: MIT */
/*
 * cira.mps: Client Initiated Remote Access. A device outside the enterprise
 * network opens a TLS connection to the MPS (Management Presence Server:
 * Open AMT's MPS, MeshCentral's MPS port) named in its CIRA configuration,
 * by default on port 4433, and keeps it open for the console to tunnel
 * through. AMT is the TLS client: it resolves the MPS name with the DNS it
 * has, checks the certificate against the name it was given and against the
 * root the management server installed in it, within its own crypto limits.
 * And it opens CIRA only when environment detection says it is away: a DHCP
 * option 15 that matches one of its home domains keeps it silent.
 *
 * Sources: Intel AMT SDK "Fast Call for Help / CIRA" and "Configuring
 * Environment Detection"; Open AMT MPS configuration (MPS_COMMON_NAME, port
 * 4433); see docs/checks/cira.mps.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "amt_rules.h"
#include "check.h"
#include "facts.h"
#include "devfacts.h"
#include "dnscheck.h"
#include "endpoint.h"
#include "net/dns.h"
#include "pki.h"
#include "pki_check.h"
#include "pki_roots.h"

/* Facts for the redundancy summary (keep the names stable). */

#define QUERY_CAP_MS 2000
#define PROBE_CAP_MS 8000

static const struct apf_code codes[] = {
	{"MPS_OK", APF_PASS,
	 "The MPS name resolves through the clients' DNS, accepts TLS on the CIRA port with a certificate that "
	 "names it, is within its dates and within AMT's limits",
	 "None"},
	{"MPS_NO_ADDRESS", APF_FAIL,
	 "The MPS name has no A record on the DNS servers clients use: devices cannot open CIRA",
	 "Register the MPS name in DNS (every view devices use)"},
	{"MPS_PUBLIC_NO_ADDRESS", APF_FAIL,
	 "The MPS name has no A record on the public DNS servers configured: devices away from the enterprise "
	 "network, the ones CIRA is for, cannot find the MPS",
	 "Publish the MPS name in the public zone (split-horizon: both views)"},
	{"MPS_DNS_ERROR", APF_ERROR, "No DNS server gave a usable answer for the MPS name",
	 "Check that the DNS servers are reachable from here and answer for the zone"},
	{"MPS_REFUSED", APF_FAIL, "The MPS address refused TCP on the CIRA port: nothing listens there",
	 "Start the MPS, or correct the port devices are configured with (4433 by default)"},
	{"MPS_UNREACHABLE", APF_ERROR, "The MPS did not answer TCP in time or is unroutable from here",
	 "Check routing and firewalls towards the MPS (TCP to the CIRA port); run from where devices are"},
	{"MPS_TLS_FAILED", APF_FAIL,
	 "TCP to the CIRA port was accepted but no TLS 1.2+ handshake completed: AMT (TLS 1.2 from AMT 12 on) "
	 "cannot open the tunnel",
	 "Check that the port is the MPS's CIRA port and that the MPS has its certificate and key"},
	{"MPS_NAME_MISMATCH", APF_FAIL,
	 "The MPS certificate does not carry the name (or address, as an IP SAN) devices are given: AMT checks "
	 "the server name and drops the connection",
	 "Reissue the MPS certificate for the configured name (Open AMT: MPS_COMMON_NAME), or give devices the "
	 "name the certificate carries"},
	{"MPS_CERT_EXPIRED", APF_FAIL, "A certificate of the MPS chain is past its notAfter date: AMT refuses it",
	 "Renew the MPS certificate (and have the management server update the root in devices if it changed)"},
	{"MPS_CERT_NOT_YET_VALID", APF_FAIL, "A certificate of the MPS chain is not valid yet",
	 "Check the clocks of the CA, the MPS and this machine; reissue with correct dates"},
	{"MPS_WEAK_CRYPTO", APF_FAIL,
	 "The MPS chain is outside the key and hash limits of the targeted AMT generations ([amt] generations, "
	 "data/amt-generations.csv): an RSA key under 2048 bits or over the generation's ceiling, or a SHA-1/MD5 "
	 "signature below the root where the generation refuses SHA-1. AMT refuses the connection",
	 "Reissue the MPS certificate (and intermediates) with an RSA 2048 key and SHA-256"},
	{"MPS_CHAIN_INCOMPLETE", APF_WARN,
	 "No root was found for the MPS certificate (neither sent by the MPS nor in [cira] ca_bundle): the root "
	 "AMT must trust cannot be checked",
	 "Set [cira] ca_bundle to the MPS root the management server installs in devices"},
	{"MPS_ROOT_NOT_IN_AMT", APF_INFO,
	 "The MPS chain's root is not among AMT's built-in roots nor in the device hash lists: devices accept the "
	 "MPS only after the management server installs this root (Open AMT RPS and MeshCentral do so when "
	 "they push the CIRA configuration)",
	 "Make sure the CIRA profile carries this root; after an MPS certificate change, reconfigure devices"},
	{"MPS_HOME_DOMAIN_MATCH", APF_WARN,
	 "The DHCP option 15 suffix on this segment matches an environment-detection (home) domain: devices here "
	 "think they are inside the enterprise network and open no CIRA connection",
	 "Expected for segments inside the enterprise. Where devices should use CIRA (branches, remote sites), "
	 "hand out a suffix that is not a home domain, or remove it from the environment-detection domains"},
	{"MPS_HOME_DOMAIN_OK", APF_PASS,
	 "The DHCP option 15 suffix on this segment matches no environment-detection domain: devices here see "
	 "themselves outside and open CIRA",
	 "None"},
	{"MPS_HOME_UNCHECKED", APF_INFO,
	 "Environment detection could not be compared: [cira] home_domains is not set, or no option 15 suffix is "
	 "known (dhcp.options did not run or saw none)",
	 "Set [cira] home_domains to the domains in the CIRA profile and run dhcp.options on the segment"},
	{"MPS_BUNDLE_INVALID", APF_ERROR, "[cira] ca_bundle could not be read or holds no certificate",
	 "Point ca_bundle at a PEM file of the MPS root"},
	{"MPS_ENGINE_ERROR", APF_ERROR, "The TLS probe engine could not start (OpenSSL context)", "See the evidence"},
	{0},
};

static const char *const requires_keys[] = {"cira.mps", NULL};
static const char *const after[] = {"dhcp.options", NULL};

static struct apf_finding *bad(struct apf_ctx *ctx, struct apf_endpoint_target *t, enum apf_status st,
			       const char *code, const char *what)
{
	struct apf_finding *f = apf_report(ctx, st, code, "MPS %s (%s): %s", t->ep->url, t->addr ? t->addr : "-", what);

	apf_evidence(f, "mps", "%s", t->ep->host);
	apf_evidence(f, "dns", "%s", t->ep->dns ? t->ep->dns : "");
	if (t->addr)
		apf_evidence(f, "address", "%s:%u", t->addr, t->ep->port);
	if (st > APF_INFO)
		t->bad = true;
	return f;
}

/*
 * Where AMT would find the root: its built-in list, or the hash list of a
 * device (`df`, from [amt] device_facts / device_hashes; may be NULL).
 * *dev_name (caller frees) holds the text when it came from a device.
 */
static const char *root_in_amt(const struct apf_devfacts *df, const struct apf_cert *root, char **dev_name)
{
	const struct apf_amt_root *r = apf_amt_root_find(root->sha256_hex);

	*dev_name = NULL;
	if (r)
		return r->name;
	for (size_t i = 0; df && i < df->n && !*dev_name; i++) {
		const struct apf_device *d = &df->v[i];

		if (apf_device_has_hash(d, root->sha384_hex) || apf_device_has_hash(d, root->sha256_hex) ||
		    apf_device_has_hash(d, root->sha1_hex))
			*dev_name = apf_xasprintf("the hash list of %s", d->name ? d->name : "a device");
	}
	return *dev_name;
}

/*
 * The key and hash limits of the targeted AMT generations (src/amt_rules.c,
 * data/amt-generations.csv) applied to the MPS chain. The root's own
 * signature is not judged: a TLS client trusts the root as installed, it
 * never verifies its self-signature.
 */
static void crypto_limits(struct apf_ctx *ctx, struct apf_endpoint_target *t, const struct apf_peer_chain *pc,
			  const struct apf_devfacts *df)
{
	struct apf_amt_targets tg;
	const struct apf_amt_gen_rules *r = &tg.rules;
	const struct apf_cert *small = NULL, *big = NULL, *weak = NULL;
	/* Below 2048 bits nothing current accepts a key, whatever the table says. */
	unsigned int floor;
	struct apf_finding *f;

	/* [amt] generations and what devices not yet activated report: the firmware that will connect. */
	apf_amt_targets_init(&tg, apf_cfg(ctx), df);
	floor = r->rsa_min_bits > 2048 ? r->rsa_min_bits : 2048;
	for (size_t i = 0; i < pc->chain.n; i++) {
		const struct apf_cert *c = pc->chain.v[i];
		bool rsa = c->key_type && strcmp(c->key_type, "RSA") == 0;

		if (rsa && !small && (unsigned int)c->key_bits < floor)
			small = c;
		if (rsa && !big && r->rsa_max_bits && (unsigned int)c->key_bits > r->rsa_max_bits)
			big = c;
		if (!weak && r->sha1_refused && c != pc->root && apf_amt_hash_is_weak(c->sig_hash))
			weak = c;
	}
	if (!small && !big && !weak)
		goto out;
	f = bad(ctx, t, APF_FAIL, "MPS_WEAK_CRYPTO", "the MPS chain is outside the targeted AMT generations' limits");
	apf_amt_targets_evidence(f, &tg);
	if (small) {
		apf_cert_brief_evidence(f, "key_too_small", small);
		apf_evidence(f, "rsa_min_bits", "%u", floor);
	}
	if (big) {
		apf_cert_brief_evidence(f, "key_too_large", big);
		apf_evidence(f, "rsa_max_bits", "%u (%s)", r->rsa_max_bits, r->rsa_max_source ? r->rsa_max_source : "");
	}
	if (weak) {
		apf_cert_brief_evidence(f, "weak_hash", weak);
		apf_evidence(f, "sha1_rule", "%s", r->sha1_source ? r->sha1_source : "");
	}
out:
	apf_amt_targets_clear(&tg);
}

/* Connection outcomes other than a completed handshake, as findings. */
static const struct {
	const char *code;
	enum apf_status st;
	const char *what;
} outcomes[APF_EP_OUTCOME_COUNT] = {
	[APF_EP_REFUSED] = {"MPS_REFUSED", APF_FAIL, "connection refused on the CIRA port"},
	[APF_EP_NO_TLS] = {"MPS_TLS_FAILED", APF_FAIL, "TCP accepted, but no TLS 1.2+ handshake"},
	[APF_EP_UNREACHABLE] = {"MPS_UNREACHABLE", APF_ERROR, "no TCP connection"},
};

static void judge(struct apf_ctx *ctx, struct apf_endpoint_target *t, struct apf_cert *const *bundle, size_t nb,
		  const struct apf_devfacts *df)
{
	const struct apf_tls_probe *p = &t->probe;
	struct apf_peer_chain pc = {0};
	struct apf_finding *f;
	const char *in_amt = NULL, *error = NULL;
	enum apf_endpoint_outcome o;
	char *dev = NULL;

	o = apf_endpoint_outcome(t, &error);
	if (o != APF_EP_CONNECTED) {
		f = bad(ctx, t, outcomes[o].st, outcomes[o].code, outcomes[o].what);
		apf_evidence(f, "stage", "%s", p->stage ? p->stage : "?");
		apf_evidence(f, "error", "%s", error);
		return;
	}
	if (apf_peer_chain_assess(p, bundle, nb, time(NULL), 0, &pc) < 0) {
		bad(ctx, t, APF_FAIL, "MPS_TLS_FAILED", "the MPS sent no readable certificate");
		goto out;
	}
	if (p->name_match != 1) {
		f = bad(ctx, t, APF_FAIL, "MPS_NAME_MISMATCH", "the certificate does not carry the MPS name devices use");
		apf_peer_chain_evidence(f, p, &pc, nb > 0);
	}
	if (pc.expired) {
		f = bad(ctx, t, APF_FAIL, "MPS_CERT_EXPIRED", "a certificate of the MPS chain has expired");
		apf_cert_brief_evidence(f, "expired", pc.expired);
	}
	if (pc.not_yet) {
		f = bad(ctx, t, APF_FAIL, "MPS_CERT_NOT_YET_VALID", "a certificate of the MPS chain is not valid yet");
		apf_cert_brief_evidence(f, "not_yet_valid", pc.not_yet);
	}
	crypto_limits(ctx, t, &pc, df);
	if (!pc.root) {
		f = bad(ctx, t, APF_WARN, "MPS_CHAIN_INCOMPLETE", "no root found for the MPS certificate");
		apf_peer_chain_evidence(f, p, &pc, nb > 0);
	} else if (!(in_amt = root_in_amt(df, pc.root, &dev))) {
		f = bad(ctx, t, APF_INFO, "MPS_ROOT_NOT_IN_AMT",
			"the MPS root must be installed in devices by the management server");
		apf_evidence(f, "root", "%s", pc.root->subject ? pc.root->subject : "?");
		apf_evidence(f, "root_sha256", "%s", pc.root->sha256_hex);
	}
	if (!t->bad) {
		f = apf_report(ctx, APF_PASS, "MPS_OK", "MPS %s (%s) accepts TLS on port %u with a certificate AMT can use",
			       t->ep->url, t->addr, t->ep->port);
		apf_evidence(f, "mps", "%s", t->ep->host);
		apf_evidence(f, "dns", "%s", t->ep->dns ? t->ep->dns : "");
		apf_evidence(f, "address", "%s:%u", t->addr, t->ep->port);
		apf_peer_chain_evidence(f, p, &pc, nb > 0);
		if (pc.root)
			apf_evidence(f, "root", "%s (%s)", pc.root->subject ? pc.root->subject : "?",
				     in_amt ? in_amt : "to be installed by the management server");
	}
out:
	free(dev);
	apf_peer_chain_clear(&pc);
}

/* True when suffix `s` is the home domain `home` or below it. */
static bool under(const char *s, const char *home)
{
	size_t ls = strlen(s), lh = strlen(home);

	while (lh && home[lh - 1] == '.')
		lh--;
	while (ls && s[ls - 1] == '.')
		ls--;
	if (!lh || ls < lh)
		return false;
	return strncasecmp(s + ls - lh, home, lh) == 0 && (ls == lh || s[ls - lh - 1] == '.');
}

static void environment_detection(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *const *sfx = apf_fact_get(ctx, APF_FACT_DHCP_DOMAIN_SUFFIX);
	const struct apf_strlist *home = &cfg->cira.home_domains;
	char *homes = apf_strv_join((const char *const *)home->v, home->n, ", ");
	struct apf_finding *f;
	bool any = false;

	if (!home->n || !sfx || !sfx[0]) {
		f = apf_report(ctx, APF_INFO, "MPS_HOME_UNCHECKED", "environment detection not compared: %s",
			       !home->n ? "[cira] home_domains is not set" : "no DHCP option 15 suffix known on this segment");
		apf_evidence(f, "home_domains", "%s", *homes ? homes : "(not set)");
		goto out;
	}
	for (size_t i = 0; sfx[i]; i++) {
		for (size_t j = 0; j < home->n; j++) {
			if (!under(sfx[i], home->v[j]))
				continue;
			f = apf_report(ctx, APF_WARN, "MPS_HOME_DOMAIN_MATCH",
				       "option 15 suffix %s matches home domain %s: devices on this segment open no CIRA",
				       sfx[i], home->v[j]);
			apf_evidence(f, "option15", "%s", sfx[i]);
			apf_evidence(f, "home_domain", "%s", home->v[j]);
			apf_evidence(f, "home_domains", "%s", homes);
			any = true;
		}
	}
	if (!any) {
		size_t n = 0;
		char *s;

		while (sfx[n])
			n++;
		s = apf_strv_join(sfx, n, ", ");
		f = apf_report(ctx, APF_PASS, "MPS_HOME_DOMAIN_OK",
			       "option 15 suffix %s matches no home domain: devices here open CIRA", s);
		apf_evidence(f, "option15", "%s", s);
		apf_evidence(f, "home_domains", "%s", homes);
		free(s);
	}
out:
	free(homes);
}

/* [cira] public_dns_servers as resolver targets. */
static size_t public_servers(const struct apf_config *cfg, struct apf_dns_target **out)
{
	size_t n = 0;

	*out = cfg->cira.public_dns_servers.n ? apf_xcalloc(cfg->cira.public_dns_servers.n, sizeof(**out)) : NULL;
	for (size_t i = 0; i < cfg->cira.public_dns_servers.n; i++) {
		struct apf_dns_target *d = &(*out)[n];
		const char *s = cfg->cira.public_dns_servers.v[i];

		if (strlen(s) >= sizeof(d->spec) || apf_dns_server_parse(s, d->ip, sizeof(d->ip), &d->port) < 0)
			continue;
		snprintf(d->spec, sizeof(d->spec), "%s", s);
		n++;
	}
	return n;
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_endpoint_set set;
	struct apf_dns_target *srv = NULL, *pub = NULL;
	struct apf_devfacts *df = NULL;
	size_t n_srv = 0, n_pub = 0;
	const char *source = NULL;

	/* Validated when the config was read; a failure here is a bug, not a finding. */
	if (apf_endpoint_set_parse(&set, cfg->cira.mps.v, cfg->cira.mps.n, true, (uint16_t)cfg->cira.port) < 0)
		goto out;
	for (size_t i = 0; i < set.n_ep; i++)
		apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_MPS_URL), set.ep[i].url);
	environment_detection(ctx);
	if (apf_endpoint_set_bundle(ctx, &set, cfg->cira.ca_bundle, "MPS_BUNDLE_INVALID") < 0)
		goto out;
	n_srv = apf_dnscheck_servers(ctx, &srv, &source);
	n_pub = public_servers(cfg, &pub);
	for (size_t i = 0; i < set.n_ep; i++) {
		struct apf_endpoint *e = &set.ep[i];
		struct apf_endpoint_target t0 = {.ep = e};
		unsigned int share = apf_dnscheck_share(ctx, 2 * (set.n_ep - i) + 1, QUERY_CAP_MS);

		if (!e->host_is_address && !n_srv) {
			struct apf_finding *f = bad(ctx, &t0, APF_ERROR, "MPS_DNS_ERROR",
						    "no DNS servers clients use are known ([dns] servers or dhcp.options)");
			apf_evidence(f, "host", "%s", e->host);
			continue;
		}
		if (n_pub && !e->host_is_address) {
			struct apf_endpoint pe = *e;

			pe.url = NULL;
			pe.dns = NULL;
			apf_ctx_step(ctx, "A query for %s on public DNS", e->host);
			apf_endpoint_resolve(&pe, pub, n_pub, share);
			if (pe.dns_rc == -ENOENT) {
				struct apf_finding *f = bad(ctx, &t0, APF_FAIL, "MPS_PUBLIC_NO_ADDRESS",
							    "the name has no address on the public DNS servers");
				apf_evidence(f, "public_dns", "%s", pe.dns);
			} else if (pe.dns_rc < 0) {
				struct apf_finding *f = bad(ctx, &t0, APF_ERROR, "MPS_DNS_ERROR",
							    "the public DNS servers gave no usable answer");
				apf_evidence(f, "public_dns", "%s", pe.dns);
			}
			apf_endpoint_clear(&pe);
		}
		apf_ctx_step(ctx, "A query for %s (%s)", e->host, source ? source : "address");
		apf_endpoint_resolve(e, srv, n_srv, share);
		if (e->dns_rc == -ENOENT)
			bad(ctx, &t0, APF_FAIL, "MPS_NO_ADDRESS", "the name has no address on the clients' DNS");
		else if (e->dns_rc < 0)
			bad(ctx, &t0, APF_ERROR, "MPS_DNS_ERROR", "the name could not be resolved");
		else
			set.n_t += apf_endpoint_targets_add(e, &set.t[set.n_t]);
	}
	if (apf_endpoint_set_probe(ctx, &set, apf_dnscheck_share(ctx, 2, PROBE_CAP_MS), "MPS_ENGINE_ERROR") < 0)
		goto out;
	/* Unreadable device files are cert.amt-root-hash's and amt.devices' to report. */
	if (apf_devfacts_configured(cfg))
		df = apf_devfacts_load_config(cfg, apf_ctx_deadline_ms(ctx));
	for (size_t i = 0; i < set.n_t; i++)
		judge(ctx, &set.t[i], set.bundle, set.n_bundle, df);
	for (size_t i = 0; i < set.n_ep; i++)
		if (apf_endpoint_ok(&set.ep[i], set.t, set.n_t))
			apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_MPS_OK_URL), set.ep[i].url);
out:
	apf_endpoint_set_clear(&set);
	apf_devfacts_free(df);
	free(srv);
	free(pub);
	return 0;
}

const struct apf_check apf_check_cira_mps = {
	.id = "cira.mps",
	.title = "CIRA: MPS name, TLS certificate within AMT's limits, environment detection",
	.summary = "For every MPS name devices are given ([cira] mps): resolves it through the DNS servers clients "
		   "use (and [cira] public_dns_servers, for devices away from the enterprise), completes TLS on the "
		   "CIRA port (4433 by default) and checks the certificate as AMT would: the name or IP SAN, dates, "
		   "RSA 2048+, no SHA-1 for ME 16+, a root AMT knows or the management server must install. Then "
		   "compares the DHCP option 15 suffix on this segment with the environment-detection domains: a "
		   "device that thinks it is at home never opens CIRA.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 30000,
	.codes = codes,
	.run = run,
};
