/* SPDX-License-Identifier: MIT */
/*
 * cert.provisioning: the certificate the setup and configuration server shows
 * AMT during remote configuration (ACM). AMT checks it in firmware and answers
 * a bad one with a bare TLS failure (ConfigMgr: 0x80090304/0x80090308 in
 * amtopmgr.log), so every rule AMT applies is checked here, by name: key, a
 * complete chain to a self-signed root, validity of every certificate (the
 * field notes' expired intermediate), the AMT OID or OU, the domain suffix,
 * SHA-1/short keys per targeted generation (data/amt-generations.csv), chain
 * length and revocation.
 * Sources: docs/checks/cert.provisioning.md and docs/sources.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "amt_profile.h"
#include "dnscheck.h"
#include "amt_rules.h"
#include "check.h"
#include "devfacts.h"
#include "pki.h"
#include "pki_check.h"
#include "pki_roots.h"
#include "revocation.h"

#define OID_AMT_SETUP "2.16.840.1.113741.1.2.3"
#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define AMT_OU "Intel(R) Client Setup Certificate"
/* AIA fetches: a CA certificate is a few KiB; a generous cap still refuses junk. */
#define AIA_MAX_BYTES (256u * 1024u)
#define FETCH_MAX_MS 5000u

static const struct apf_code codes[] = {
	{"CERT_FILE_UNREADABLE", APF_ERROR, "The configured certificate, key, chain or password file cannot be read",
	 "Check the path in [provisioning] and that the user running amt-preflight may read it"},
	{"CERT_FILE_INVALID", APF_FAIL,
	 "The certificate file is not a PFX/PKCS#12, PEM, DER or PKCS#7 certificate (or is damaged); the setup server "
	 "cannot load it either",
	 "Export the provisioning certificate again (with its private key and the full chain) as a PFX"},
	{"CERT_PFX_PASSWORD", APF_ERROR,
	 "The PFX could not be opened: the password is wrong or missing, so nothing in it could be checked",
	 "Put the PFX password in the file named by [provisioning] password_file, or in $AMT_PREFLIGHT_PFX_PASSWORD"},
	{"CERT_PFX_LEGACY", APF_INFO,
	 "The PFX uses the legacy RC2/3DES encryption of older Windows exports; it was read with OpenSSL's legacy provider",
	 "None needed; newer tools (OpenSSL 3 without the legacy provider) need an AES export"},
	{"CERT_KEY_MISSING", APF_FAIL, "No private key came with the certificate; the setup server cannot do TLS with it",
	 "Export the certificate with its private key (PFX, \"Yes, export the private key\"), or set [provisioning] key"},
	{"CERT_KEY_MISMATCH", APF_FAIL, "The private key does not belong to the leaf certificate",
	 "Pair the certificate with the key its request was made with; re-export both as one PFX"},
	{"CERT_KEY_OK", APF_PASS, "The private key is present and matches the leaf certificate", NULL},
	{"CERT_CHAIN_INCOMPLETE", APF_FAIL,
	 "The chain does not reach a self-signed root: AMT needs the complete chain and rejects the handshake otherwise",
	 "Export the PFX with \"Include all certificates in the certification path\", or add the missing issuer to "
	 "[provisioning] chain"},
	{"CERT_CHAIN_COMPLETE", APF_PASS, "The chain is complete up to a self-signed root", NULL},
	{"CERT_CHAIN_EXPIRED", APF_FAIL,
	 "A certificate of the provisioning chain has expired: AMT rejects the whole chain (the TLS handshake fails)",
	 "Replace the expired certificate: get the current intermediate from the CA, rebuild the PFX, and remove the "
	 "expired one from the server's Intermediate Certification Authorities store"},
	{"CERT_NOT_YET_VALID", APF_FAIL, "A certificate of the chain is not valid yet (or the clock is wrong)",
	 "Check the clocks of this machine and the setup server; wait for the validity start or reissue"},
	{"CERT_EXPIRING", APF_WARN, "A certificate of the chain expires within [provisioning] warn_days",
	 "Renew it now: after expiry every provisioning attempt fails"},
	{"CERT_VALIDITY_OK", APF_PASS, "Every certificate of the chain is valid now and beyond the warning horizon", NULL},
	{"CERT_EKU_OK", APF_PASS, "The leaf carries the AMT setup OID with serverAuth, or the exact AMT OU", NULL},
	{"CERT_EKU_MISSING", APF_FAIL,
	 "The leaf has neither the AMT setup OID 2.16.840.1.113741.1.2.3 (with serverAuth) nor the OU "
	 "\"Intel(R) Client Setup Certificate\"; AMT does not accept it as a provisioning certificate",
	 "Request the certificate from a template whose Application Policies hold Server Authentication and "
	 "2.16.840.1.113741.1.2.3, or (public CA) with OU=Intel(R) Client Setup Certificate"},
	{"CERT_EKU_NO_SERVER_AUTH", APF_FAIL,
	 "The leaf has the AMT setup OID but its extended key usage lacks Server Authentication, which AMT requires",
	 "Add Server Authentication (1.3.6.1.5.5.7.3.1) to the template's Application Policies and reissue"},
	{"CERT_OU_NEAR_MISS", APF_FAIL,
	 "The leaf's OU is almost \"Intel(R) Client Setup Certificate\" but AMT compares it exactly (case, spaces and "
	 "a trailing period count)",
	 "Reissue with OU exactly \"Intel(R) Client Setup Certificate\", or use the OID 2.16.840.1.113741.1.2.3"},
	{"CERT_DOMAIN_MATCH", APF_PASS,
	 "The leaf CN satisfies every AMT domain suffix under the firmware's rule (in the suffix's domain, or, for "
	 ".com and .net names only, equal last two labels)",
	 NULL},
	{"CERT_DOMAIN_MISMATCH", APF_FAIL,
	 "The leaf CN does not satisfy an AMT domain suffix under the firmware's rule (the last-two-labels relaxation "
	 "holds for .com and .net names only) or under the rule of a declared activation server ([amt] activation: "
	 "RPS requires the exact suffix, MeshCentral its trusted FQDN); AMT only trusts a provisioning certificate "
	 "whose domain matches the suffix it learned (MEBx/USB, else DHCP option 15)",
	 "Use a provisioning certificate for the domain AMT clients get, or fix the suffix (DHCP option 15 / MEBx)"},
	{"CERT_DOMAIN_UNKNOWN", APF_INFO,
	 "No AMT domain suffix is known ([amt] domain_suffixes is empty and dhcp.options published none), so the "
	 "domain rule was not checked",
	 "Set [amt] domain_suffixes to the DNS suffix AMT clients receive, or run dhcp.options too"},
	{"CERT_DOMAIN_NONPUBLIC", APF_WARN,
	 "A .local/.corp-style suffix is combined with a publicly issued certificate: a public CA cannot issue for it, "
	 "and Intel reports ACM failing with such suffixes",
	 "Give AMT clients a public DNS suffix the company owns (DHCP option 15) and a certificate for it"},
	{"CERT_WEAK_SIGNATURE", APF_FAIL,
	 "A certificate of the chain (the root included) is signed with SHA-1 or MD5: ME 15 on H-series platforms and "
	 "ME 16 and later on all platforms reject the chain (data/amt-generations.csv); WARN when only older "
	 "generations are targeted",
	 "Get a SHA-256 chain (intermediate and root included) from the CA"},
	{"CERT_WEAK_KEY", APF_FAIL,
	 "A certificate of the chain has an RSA key under 2048 bits: ME 15 on H-series platforms and ME 16 and later "
	 "reject it (data/amt-generations.csv); WARN when only older generations are targeted",
	 "Reissue with an RSA key of at least 2048 bits"},
	{"CERT_CHAIN_TOO_LONG", APF_WARN,
	 "The chain has more than four certificates; Open AMT supports at most four and AMT's chain slots are limited",
	 "Use a CA hierarchy with at most two intermediates for the provisioning certificate"},
	{"CERT_CRYPTO_OK", APF_PASS, "Keys and signature algorithms of the chain suit the targeted AMT generations", NULL},
	{"CERT_CRYPTO_NEWER", APF_INFO,
	 "The chain uses SHA-384/512 signatures or RSA keys over 2048 bits; sources disagree whether AMT firmware "
	 "takes them in a provisioning chain (rpc-go says newer platforms take SHA-384 provisioning certificates; "
	 "Configuration Manager says AMT takes no CA key over 2048 bits)",
	 "Activate one device of each targeted generation with this chain before the rollout, or use a SHA-256 / "
	 "RSA 2048 chain, which every source says firmware takes"},
	{"CERT_REVOKED", APF_FAIL, "A certificate of the chain is revoked (CRL or OCSP)",
	 "Replace the revoked certificate and rebuild the PFX"},
	{"CERT_REVOCATION_UNREACHABLE", APF_ERROR,
	 "A CRL or OCSP URL of the chain could not be fetched from here, so revocation could not be checked; the "
	 "setup server (Intel SCS) fails when it cannot get the CRL either",
	 "Make the CRL distribution point / OCSP URL reachable over HTTP from the setup server"},
	{"CERT_REVOCATION_UNUSABLE", APF_FAIL,
	 "A CRL or OCSP answer was fetched but is expired, not signed by the issuer or malformed: relying parties that "
	 "check revocation reject the chain",
	 "Publish a fresh CRL (check the CA's CRL publication schedule) or fix the OCSP responder"},
	{"CERT_REVOCATION_OK", APF_PASS, "No certificate of the chain is revoked per its CRL/OCSP", NULL},
	{"CERT_REVOCATION_NONE", APF_INFO,
	 "The chain names no CRL distribution point or OCSP URL, or revocation checks are disabled, so revocation was "
	 "not checked", NULL},
	{0},
};

static const char *const requires_keys[] = {"provisioning.certificate", NULL};
static const char *const after[] = {"dhcp.options", NULL};

static bool has(const struct apf_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

/* ---- steps ------------------------------------------------------------- */

static void check_key(struct apf_ctx *ctx, const struct apf_pki_bundle *b, const struct apf_cert *leaf)
{
	struct apf_finding *f;
	const struct apf_config *cfg = apf_cfg(ctx);

	if (!b->has_key) {
		f = apf_report(ctx, APF_FAIL, "CERT_KEY_MISSING", "No private key in %s for %s",
			       cfg->provisioning.certificate, leaf->subject);
		apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
		apf_evidence(f, "format", "%s", b->format);
		apf_cert_evidence(f, leaf, "leaf");
	} else if (!b->key_matches) {
		f = apf_report(ctx, APF_FAIL, "CERT_KEY_MISMATCH", "The private key does not belong to %s", leaf->subject);
		apf_evidence(f, "key_file", "%s",
			     cfg->provisioning.key ? cfg->provisioning.key : cfg->provisioning.certificate);
		apf_cert_evidence(f, leaf, "leaf");
	} else {
		f = apf_report(ctx, APF_PASS, "CERT_KEY_OK", "The private key matches the leaf certificate");
		apf_evidence(f, "subject", "%s", leaf->subject);
		apf_evidence(f, "key", "%s %d", leaf->key_type, leaf->key_bits);
	}
}

/* Fetches the missing issuer from the AIA caIssuers URL(s) of `top`, to say
 * exactly which certificate is missing and where it can be had. */
static void fetch_aia(struct apf_ctx *ctx, struct apf_finding *f, const struct apf_cert *top)
{
	for (size_t i = 0; i < top->aia_ca_issuers.n && i < 3; i++) {
		const char *url = top->aia_ca_issuers.v[i];
		unsigned char *data = NULL;
		size_t len = 0;
		struct apf_cert **certs = NULL;
		size_t n = 0;
		char *err = NULL;
		unsigned int ms = apf_ctx_remaining_ms(ctx) / 3;
		struct apf_fetch_opts fo;
		int rc;

		if (ms > FETCH_MAX_MS)
			ms = FETCH_MAX_MS;
		fo = apf_dnscheck_fetch_opts(ctx, ms, AIA_MAX_BYTES);
		apf_ctx_step(ctx, "fetching AIA caIssuers %s", url);
		apf_evidence(f, "aia_ca_issuers", "%s", url);
		rc = apf_fetch_body(url, &fo, &data, &len, &err);
		if (rc) {
			apf_evidence(f, "aia_fetch", "failed: %s", err ? err : strerror(-rc));
		} else if (apf_certs_from_data(data, len, &certs, &n) != 0) {
			apf_evidence(f, "aia_fetch", "no certificate in %zu bytes", len);
		} else {
			bool ok = apf_cert_issued_by(top, certs[0]);
			char t[32];
			apf_evidence(f, "aia_fetch", "%s", ok ? "found the issuer" : "got a certificate that did not sign it");
			apf_evidence(f, "aia_subject", "%s", certs[0]->subject);
			apf_evidence(f, "aia_sha1", "%s", certs[0]->sha1_hex);
			apf_evidence(f, "aia_not_after", "%s", apf_pki_time_str(certs[0]->not_after, t, sizeof(t)));
			if (ok) {
				apf_remedy(f, "Add the issuer \"%s\" (downloadable from %s) to the PFX or to [provisioning] "
					      "chain, up to its root",
					   certs[0]->subject, url);
				apf_certs_free(certs, n);
				free(data);
				free(err);
				return;
			}
		}
		apf_certs_free(certs, n);
		free(data);
		free(err);
	}
}

static void check_chain(struct apf_ctx *ctx, const struct apf_chain *ch)
{
	const struct apf_cert *top = ch->v[ch->n - 1];
	struct apf_finding *f;

	if (!ch->complete) {
		f = apf_report(ctx, APF_FAIL, "CERT_CHAIN_INCOMPLETE", "The chain stops at %s: its issuer %s is missing",
			       top->subject, top->issuer);
		apf_evidence(f, "missing_issuer", "%s", top->issuer);
		apf_evidence(f, "chain_length", "%zu", ch->n);
		apf_cert_evidence(f, top, "last certificate found");
		if (top->aia_ca_issuers.n)
			fetch_aia(ctx, f, top);
		else
			apf_evidence(f, "aia_ca_issuers", "none in the certificate");
		return;
	}
	f = apf_report(ctx, APF_PASS, "CERT_CHAIN_COMPLETE", "The chain has %zu certificates up to the root %s", ch->n,
		       top->subject);
	apf_evidence(f, "chain_length", "%zu", ch->n);
	for (size_t i = 0; i < ch->n; i++) {
		char k[32];
		snprintf(k, sizeof(k), "chain[%zu]", i);
		apf_evidence(f, k, "%s", ch->v[i]->subject);
	}
	apf_evidence(f, "root_sha256", "%s", top->sha256_hex);
}

/* Position of a bundle certificate: on the chain, or an extra certificate of the file. */
static char *position_of(const struct apf_chain *ch, const struct apf_cert *c)
{
	for (size_t i = 0; i < ch->n; i++)
		if (ch->v[i] == c)
			return apf_chain_position(ch, i);
	return apf_xstrdup("in the file but not on the chain");
}

static void check_validity(struct apf_ctx *ctx, const struct apf_pki_bundle *b, const struct apf_chain *ch, time_t now)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	time_t horizon = now + (time_t)cfg->provisioning.warn_days * 86400;
	const struct apf_cert *soonest = NULL;
	bool bad = false;

	/* Every certificate of the file: RPS refuses a PFX holding any expired one,
	 * and the chain a Windows server builds may pick an expired extra one. */
	for (size_t i = 0; i < b->n; i++) {
		const struct apf_cert *c = b->certs[i];
		char *pos = position_of(ch, c);
		char t[32];
		struct apf_finding *f = NULL;

		if (now > c->not_after) {
			f = apf_report(ctx, APF_FAIL, "CERT_CHAIN_EXPIRED", "%s %s expired on %s", pos, c->subject,
				       apf_pki_time_str(c->not_after, t, sizeof(t)));
			apf_cert_evidence(f, c, pos);
			apf_evidence(f, "days_expired", "%lld", (long long)((now - c->not_after) / 86400));
		} else if (now < c->not_before) {
			f = apf_report(ctx, APF_FAIL, "CERT_NOT_YET_VALID", "%s %s is valid only from %s", pos, c->subject,
				       apf_pki_time_str(c->not_before, t, sizeof(t)));
			apf_cert_evidence(f, c, pos);
		} else if (c->not_after < horizon) {
			f = apf_report(ctx, APF_WARN, "CERT_EXPIRING", "%s %s expires on %s", pos, c->subject,
				       apf_pki_time_str(c->not_after, t, sizeof(t)));
			apf_cert_evidence(f, c, pos);
			apf_evidence(f, "days_left", "%lld", (long long)((c->not_after - now) / 86400));
			apf_evidence(f, "warn_days", "%d", cfg->provisioning.warn_days);
		}
		bad |= f != NULL;
		if (!soonest || c->not_after < soonest->not_after)
			soonest = c;
		free(pos);
	}
	/* For monitoring: days until the first certificate of the file expires (negative once expired). */
	if (soonest)
		apf_metric(ctx, "prov_chain_days_left", (double)((soonest->not_after - now) / 86400), "");
	if (!bad && soonest) {
		char t[32];
		struct apf_finding *f = apf_report(ctx, APF_PASS, "CERT_VALIDITY_OK",
						   "All %zu certificates are valid; the first to expire does so on %s", b->n,
						   apf_pki_time_str(soonest->not_after, t, sizeof(t)));
		apf_evidence(f, "certificates", "%zu", b->n);
		apf_evidence(f, "first_expiry_subject", "%s", soonest->subject);
		apf_evidence(f, "first_expiry", "%s", t);
		apf_evidence(f, "warn_days", "%d", cfg->provisioning.warn_days);
	}
}

/* Lowercase, "®" read as "(r)", whitespace collapsed, trailing spaces/periods dropped. */
static void ou_fold(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;

	for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < size; p++) {
		if (p[0] == 0xc2 && p[1] == 0xae) { /* U+00AE REGISTERED SIGN */
			memcpy(out + n, "(r)", 3);
			n += 3;
			p++;
			continue;
		}
		if (isspace(*p)) {
			space = true;
			continue;
		}
		if (space && n)
			out[n++] = ' ';
		space = false;
		out[n++] = (char)tolower(*p);
	}
	while (n && (out[n - 1] == '.' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
}

static const char *near_miss_kind(const char *ou)
{
	size_t n = strlen(ou);
	if (n && (ou[n - 1] == '.'))
		return "trailing period";
	if (n && isspace((unsigned char)ou[n - 1]))
		return "trailing space";
	if (isspace((unsigned char)ou[0]))
		return "leading space";
	if (!strcasecmp(ou, AMT_OU))
		return "letter case";
	return "spelling (spaces or the (R) sign)";
}

static void check_eku(struct apf_ctx *ctx, const struct apf_cert *leaf)
{
	bool oid = has(&leaf->eku, OID_AMT_SETUP), sa = has(&leaf->eku, OID_SERVER_AUTH);
	const char *near = NULL;
	bool ou = false;
	struct apf_finding *f;
	char want[64], got[256];

	ou_fold(AMT_OU, want, sizeof(want));
	for (size_t i = 0; i < leaf->subject_ou.n; i++) {
		if (!strcmp(leaf->subject_ou.v[i], AMT_OU)) {
			ou = true;
		} else {
			ou_fold(leaf->subject_ou.v[i], got, sizeof(got));
			if (!strcmp(got, want))
				near = leaf->subject_ou.v[i];
		}
	}
	if ((oid && sa) || (ou && (sa || leaf->eku.n == 0))) {
		f = apf_report(ctx, APF_PASS, "CERT_EKU_OK", "The leaf is marked for AMT setup by %s",
			       oid && sa ? "the OID 2.16.840.1.113741.1.2.3 with serverAuth" : "the OU " AMT_OU);
		apf_evidence(f, "method", "%s", oid && sa ? "oid" : "ou");
		goto evidence;
	}
	if (near) {
		f = apf_report(ctx, APF_FAIL, "CERT_OU_NEAR_MISS", "The leaf's OU \"%s\" differs from \"" AMT_OU "\" by %s",
			       near, near_miss_kind(near));
		apf_evidence(f, "ou", "\"%s\"", near);
		apf_evidence(f, "expected_ou", "\"%s\"", AMT_OU);
		apf_evidence(f, "difference", "%s", near_miss_kind(near));
		goto evidence;
	}
	if (oid || ou) {
		f = apf_report(ctx, APF_FAIL, "CERT_EKU_NO_SERVER_AUTH",
			       "The leaf is marked for AMT setup but its extended key usage lacks serverAuth");
		goto evidence;
	}
	f = apf_report(ctx, APF_FAIL, "CERT_EKU_MISSING",
		       "The leaf has neither the AMT setup OID nor the OU \"" AMT_OU "\"");
evidence:
	apf_evidence(f, "subject", "%s", leaf->subject);
	if (leaf->eku.n) {
		char *list = apf_strv_join((const char *const *)leaf->eku.v, leaf->eku.n, ", ");
		apf_evidence(f, "eku", "%s", list);
		free(list);
	} else {
		apf_evidence(f, "eku", "none (any usage)");
	}
	apf_evidence(f, "sha1", "%s", leaf->sha1_hex);
}

/* One DNS suffix to compare the certificate with, and where it came from. */
struct suffix_src {
	const char *suffix;
	const char *source;
	char *devices; /* devices reporting it (device facts), or NULL */
};

/* The devices' suffixes, one entry per distinct suffix naming its devices. */
static size_t device_suffixes(const struct apf_devfacts *df, struct suffix_src *out, size_t max)
{
	struct apf_dev_group *g = NULL;
	size_t n = apf_devfacts_group(df, apf_devkey_used_suffix, NULL, &g), k = 0;

	for (size_t i = 0; i < n && k < max; i++, k++) {
		bool mebx = false;

		/* The key is borrowed from its first device: its MEBx field, or its OS one. */
		for (size_t j = 0; j < df->n && !mebx; j++)
			mebx = df->v[j].dns_suffix == g[i].key;
		out[k].suffix = g[i].key;
		out[k].source = mebx ? "device facts (MEBx/USB suffix)" : "device facts (OS suffix)";
		out[k].devices = apf_names_summary(g[i].names, g[i].n, APF_DEVFACTS_NAMES_SHOWN);
	}
	apf_dev_groups_free(g, n);
	return k;
}

/*
 * The leaf CN against every known AMT suffix ([amt] domain_suffixes, option 15
 * from dhcp.options, the devices' own), under every rule that applies: the
 * firmware's, and the activation server's of each declared profile
 * (src/amt_profile.h).
 */
static void check_domain(struct apf_ctx *ctx, const struct apf_cert *leaf, const struct apf_chain *ch,
			 const struct apf_devfacts *df)
{
	enum { MAX_SUFFIXES = 64 };
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *const *facts = apf_fact_get(ctx, APF_FACT_DHCP_DOMAIN_SUFFIX);
	const struct apf_cert *root = ch->complete ? ch->v[ch->n - 1] : NULL;
	bool public_root = root && apf_amt_root_find(root->sha256_hex);
	const char *cn = leaf->subject_cn;
	struct apf_profile_rule rules[APF_SUFFIX_RULE_COUNT];
	size_t n_rules = apf_profile_suffix_rules(cfg, rules);
	struct suffix_src src[MAX_SUFFIXES];
	size_t n = 0, total = 0, matched = 0;
	bool warned = false;

	for (size_t i = 0; i < cfg->amt.domain_suffixes.n && n < MAX_SUFFIXES; i++)
		src[n++] = (struct suffix_src){cfg->amt.domain_suffixes.v[i], "[amt] domain_suffixes", NULL};
	for (size_t i = 0; facts && facts[i] && n < MAX_SUFFIXES; i++)
		src[n++] = (struct suffix_src){facts[i], "dhcp.options (DHCP option 15)", NULL};
	if (df)
		n += device_suffixes(df, src + n, MAX_SUFFIXES - n);

	for (size_t i = 0; i < n; i++) {
		struct apf_finding *f;

		for (size_t r = 0; r < n_rules; r++) {
			total++;
			if (apf_amt_suffix_match(cn, src[i].suffix, rules[r].rule)) {
				matched++;
				continue;
			}
			f = apf_report(ctx, APF_FAIL, "CERT_DOMAIN_MISMATCH",
				       "The leaf CN %s does not satisfy AMT suffix %s under the %s rule (%s)",
				       cn ? cn : "(none)", src[i].suffix, apf_suffix_rule_name(rules[r].rule), rules[r].profile);
			apf_evidence(f, "cn", "%s", cn ? cn : "(none)");
			apf_evidence(f, "amt_suffix", "%s", src[i].suffix);
			apf_evidence(f, "suffix_source", "%s", src[i].source);
			if (src[i].devices)
				apf_evidence(f, "devices", "%s", src[i].devices);
			apf_evidence(f, "suffix_rule", "%s", apf_suffix_rule_name(rules[r].rule));
			apf_evidence(f, "profile", "%s", rules[r].profile);
			apf_evidence(f, "rule_source", "%s", apf_suffix_rule_source(rules[r].rule));
		}
		if (public_root && !warned && (apf_amt_private_tld(src[i].suffix) || (cn && apf_amt_private_tld(cn)))) {
			f = apf_report(ctx, APF_WARN, "CERT_DOMAIN_NONPUBLIC", "Suffix %s with a certificate from the public root %s",
				       src[i].suffix, root->subject);
			apf_evidence(f, "amt_suffix", "%s", src[i].suffix);
			apf_evidence(f, "cn", "%s", cn ? cn : "(none)");
			apf_evidence(f, "root", "%s", root->subject);
			warned = true;
		}
	}
	if (total == 0) {
		struct apf_finding *f = apf_report(ctx, APF_INFO, "CERT_DOMAIN_UNKNOWN",
						   "No AMT domain suffix is configured or known, so the CN %s was not "
						   "compared",
						   cn ? cn : "(none)");
		apf_evidence(f, "cn", "%s", cn ? cn : "(none)");
	} else if (matched == total) {
		struct apf_finding *f = apf_report(ctx, APF_PASS, "CERT_DOMAIN_MATCH",
						   "The leaf CN %s satisfies all %zu AMT domain suffixes", cn, n);
		apf_evidence(f, "cn", "%s", cn);
		apf_evidence(f, "suffixes_checked", "%zu", n);
		apf_profile_rules_evidence(f, rules, n_rules);
	}
	for (size_t i = 0; i < n; i++)
		free(src[i].devices);
}

/* Evidence naming the targeted generations, the rule a finding applies, and its source. */
static void rule_evidence(struct apf_finding *f, const struct apf_amt_targets *t, const char *source)
{
	const struct apf_amt_gen_rules *g = &t->rules;

	apf_amt_targets_evidence(f, t);
	if (g->gen)
		apf_evidence(f, "rule_generation", "%d", g->gen);
	if (g->sha1_scope)
		apf_evidence(f, "rule_scope", "%s", g->sha1_scope);
	if (source)
		apf_evidence(f, "rule_source", "%s", source);
}

static void check_crypto(struct apf_ctx *ctx, const struct apf_chain *ch, const struct apf_devfacts *df)
{
	struct apf_amt_targets t;
	const struct apf_amt_gen_rules *g = &t.rules;
	bool bad = false, stronger = false;

	apf_amt_targets_init(&t, apf_cfg(ctx), df);
	for (size_t i = 0; i < ch->n; i++) {
		const struct apf_cert *c = ch->v[i];
		bool rsa = !strcmp(c->key_type, "RSA") || !strcmp(c->key_type, "DSA");
		char *pos = apf_chain_position(ch, i);
		struct apf_finding *f;

		if (apf_amt_hash_is_weak(c->sig_hash)) {
			f = apf_report(ctx, g->sha1_refused ? APF_FAIL : APF_WARN, "CERT_WEAK_SIGNATURE",
				       "%s %s is signed with %s", pos, c->subject, c->sig_alg);
			apf_evidence(f, "signature", "%s", c->sig_alg);
			rule_evidence(f, &t, g->sha1_source);
			apf_cert_evidence(f, c, pos);
			if (!g->sha1_refused)
				apf_remedy(f, "Fine for the targeted generations, but ME 15 H-series and ME 16 and later "
					      "reject it: get a SHA-256 chain before newer devices arrive");
			bad = true;
		}
		if (rsa && c->key_bits < 2048) {
			bool refused = g->rsa_min_bits && (unsigned)c->key_bits < g->rsa_min_bits;
			f = apf_report(ctx, refused ? APF_FAIL : APF_WARN, "CERT_WEAK_KEY", "%s %s has a %d-bit %s key",
				       pos, c->subject, c->key_bits, c->key_type);
			apf_evidence(f, "key", "%s %d", c->key_type, c->key_bits);
			rule_evidence(f, &t, g->rsa_source);
			apf_cert_evidence(f, c, pos);
			if (!refused)
				apf_remedy(f, "Fine for the targeted generations, but ME 15 H-series and ME 16 and later "
					      "reject it: reissue with 2048 bits or more");
			bad = true;
		}
		if ((rsa && c->key_bits > 2048) || (c->sig_hash && (!strcasecmp(c->sig_hash, "sha384") ||
								    !strcasecmp(c->sig_hash, "sha512"))))
			stronger = true;
		free(pos);
	}
	if (ch->n > 4) {
		struct apf_finding *f = apf_report(ctx, APF_WARN, "CERT_CHAIN_TOO_LONG",
						   "The chain has %zu certificates (more than four)", ch->n);
		apf_evidence(f, "chain_length", "%zu", ch->n);
		apf_evidence(f, "leaf", "%s", ch->v[0]->subject);
	}
	if (!bad) {
		const struct apf_cert *leaf = ch->v[0];
		struct apf_finding *f = apf_report(ctx, APF_PASS, "CERT_CRYPTO_OK",
						   "No SHA-1/MD5 signature and no RSA key under 2048 bits in the %zu "
						   "certificates of the chain",
						   ch->n);
		apf_evidence(f, "leaf_key", "%s %d", leaf->key_type, leaf->key_bits);
		apf_evidence(f, "leaf_signature", "%s", leaf->sig_alg);
		apf_amt_targets_evidence(f, &t);
	}
	if (stronger) {
		/* The sources disagree (docs/checks/cert.provisioning.md): say so, never FAIL. */
		struct apf_finding *f = apf_report(ctx, APF_INFO, "CERT_CRYPTO_NEWER",
						   "The chain uses SHA-384/512 signatures or RSA keys over 2048 bits, which "
						   "not every AMT firmware is documented to take");
		apf_evidence(f, "leaf_key", "%s %d", ch->v[0]->key_type, ch->v[0]->key_bits);
		apf_evidence(f, "leaf_signature", "%s", ch->v[0]->sig_alg);
		apf_amt_targets_evidence(f, &t);
	}
	apf_amt_targets_clear(&t);
}

/* This check's code per revocation state; statuses come from apf_rev_status(). */
static const char *const rev_codes[APF_REV_STATE_COUNT] = {
	[APF_REV_REVOKED] = "CERT_REVOKED",
	[APF_REV_UNREACHABLE] = "CERT_REVOCATION_UNREACHABLE",
	[APF_REV_INVALID] = "CERT_REVOCATION_UNUSABLE",
	[APF_REV_EXPIRED] = "CERT_REVOCATION_UNUSABLE",
};

static void report_rev(struct apf_ctx *ctx, const struct apf_rev_result *r, const char *method, const struct apf_cert *c,
		       const char *pos, bool *bad)
{
	char *who = apf_xasprintf("%s %s", pos, c->subject);
	struct apf_finding *f = apf_rev_report(ctx, r, method, who, rev_codes);

	free(who);
	if (!f)
		return;
	*bad = true;
	apf_cert_evidence(f, c, pos);
}

static void check_revocation(struct apf_ctx *ctx, const struct apf_chain *ch)
{
	size_t checks = 0, left = 0, good = 0;
	bool bad = false;
	struct apf_finding *f;

	if (!apf_cfg(ctx)->provisioning.check_revocation) {
		f = apf_report(ctx, APF_INFO, "CERT_REVOCATION_NONE", "Revocation was not checked ([provisioning] "
								      "check_revocation = no)");
		apf_evidence(f, "check_revocation", "no");
		return;
	}
	/* Each certificate but the root, against its issuer on the chain. */
	for (size_t i = 0; i + 1 < ch->n; i++)
		left += (ch->v[i]->crl_dp.n ? 1 : 0) + (ch->v[i]->aia_ocsp.n ? 1 : 0);
	for (size_t i = 0; i + 1 < ch->n; i++) {
		const struct apf_cert *c = ch->v[i], *issuer = ch->v[i + 1];
		char *pos = apf_chain_position(ch, i);
		for (int m = 0; m < 2; m++) {
			struct apf_rev_result r = {0};
			struct apf_fetch_opts fo;
			unsigned int ms;
			if ((m == 0 && !c->crl_dp.n) || (m == 1 && !c->aia_ocsp.n))
				continue;
			/* Share what is left fairly among the fetches still to make. */
			ms = apf_ctx_remaining_ms(ctx) / (unsigned int)(left + 1);
			if (ms > FETCH_MAX_MS)
				ms = FETCH_MAX_MS;
			left--;
			apf_ctx_step(ctx, "%s check of %s", m ? "OCSP" : "CRL", c->subject);
			fo = apf_dnscheck_fetch_opts(ctx, ms, 0);
			if (m == 0)
				apf_rev_check_crl(c, issuer, &fo, &r);
			else
				apf_rev_check_ocsp(c, issuer, &fo, &r);
			checks++;
			if (r.state == APF_REV_GOOD)
				good++;
			report_rev(ctx, &r, m ? "OCSP" : "CRL", c, pos, &bad);
			apf_rev_result_clear(&r);
		}
		free(pos);
	}
	if (checks == 0) {
		f = apf_report(ctx, APF_INFO, "CERT_REVOCATION_NONE",
			       "No certificate of the chain names a CRL distribution point or OCSP responder");
		apf_evidence(f, "chain_length", "%zu", ch->n);
	} else if (!bad && good) {
		f = apf_report(ctx, APF_PASS, "CERT_REVOCATION_OK", "%zu revocation checks found nothing revoked", good);
		apf_evidence(f, "checks", "%zu", checks);
		apf_evidence(f, "good", "%zu", good);
	}
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_pki_bundle *b = NULL;
	struct apf_chain ch = {0};
	struct apf_devfacts *df = NULL;
	struct apf_finding *f;
	char *err = NULL;
	time_t now = time(NULL);
	int rc;

	apf_ctx_step(ctx, "loading %s", cfg->provisioning.certificate);
	rc = apf_pki_load_configured(ctx, &b, &err);
	if (rc == -EKEYREJECTED) {
		f = apf_report(ctx, APF_ERROR, "CERT_PFX_PASSWORD", "Cannot open %s: %s", cfg->provisioning.certificate,
			       err ? err : "wrong password");
		apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
		apf_evidence(f, "password_source", "%s",
			     cfg->provisioning.password_file ? "[provisioning] password_file"
			     : getenv("AMT_PREFLIGHT_PFX_PASSWORD") ? "$AMT_PREFLIGHT_PFX_PASSWORD"
								    : "none given");
		goto out;
	}
	if (rc == -EBADMSG || rc == -E2BIG) {
		f = apf_report(ctx, APF_FAIL, "CERT_FILE_INVALID", "%s", err ? err : "not a certificate");
		apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
		goto out;
	}
	if (rc) {
		f = apf_report(ctx, APF_ERROR, "CERT_FILE_UNREADABLE", "%s", err ? err : strerror(-rc));
		apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
		goto out;
	}
	if (b->legacy_pfx) {
		f = apf_report(ctx, APF_INFO, "CERT_PFX_LEGACY", "%s uses legacy PFX encryption (RC2/3DES)",
			       cfg->provisioning.certificate);
		apf_evidence(f, "file", "%s", cfg->provisioning.certificate);
	}
	const struct apf_cert *leaf = b->certs[b->leaf];
	apf_chain_build(leaf, b->certs, b->n, now, &ch);
	check_key(ctx, b, leaf);
	check_chain(ctx, &ch);
	check_validity(ctx, b, &ch, now);
	check_eku(ctx, leaf);
	df = apf_devfacts_configured(cfg) ? apf_devfacts_load_config(cfg, apf_ctx_deadline_ms(ctx)) : NULL;
	check_domain(ctx, leaf, &ch, df);
	check_crypto(ctx, &ch, df);
	check_revocation(ctx, &ch);
	rc = 0;
out:
	apf_devfacts_free(df);
	apf_chain_clear(&ch);
	apf_pki_bundle_free(b);
	free(err);
	/* Every load failure became a finding above: none is an internal error. */
	return 0;
}

const struct apf_check apf_check_cert_provisioning = {
	.id = "cert.provisioning",
	.title = "Provisioning certificate and chain",
	.summary = "Loads the provisioning (setup) certificate (PFX, PEM or DER) and checks what AMT checks: key, a "
		   "complete chain to a root, validity of every certificate, the AMT OID or OU, the domain suffix, "
		   "SHA-1/short keys per targeted AMT generation, chain length and revocation.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 20000,
	.codes = codes,
	.run = run,
};
