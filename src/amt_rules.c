/* SPDX-License-Identifier: MIT */
/*
 * The AMT rules (see amt_rules.h). Sources are cited next to each rule and
 * listed in docs/sources.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amt_rules.h"

/* ---- domain suffix ------------------------------------------------------- */

/* Length of `name` without trailing dots. */
static size_t name_len(const char *name)
{
	size_t n = strlen(name);

	while (n && name[n - 1] == '.')
		n--;
	return n;
}

/* Offset of the last `labels` labels of name[0..n) (0 when it has no more). */
static size_t tail_labels(const char *name, size_t n, int labels)
{
	for (size_t i = n; i > 0; i--) {
		if (name[i - 1] == '.' && --labels == 0)
			return i;
	}
	return 0;
}

/* Whether a[0..an) equals b[0..bn), ignoring ASCII case. */
static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && strncasecmp(a, b, an) == 0;
}

/* Whether name[0..n) is suffix[0..sn) or ends in "." suffix. */
static bool in_domain(const char *name, size_t n, const char *suffix, size_t sn)
{
	if (n < sn || strncasecmp(name + n - sn, suffix, sn) != 0)
		return false;
	return n == sn || name[n - sn - 1] == '.';
}

/*
 * Intel AMT 2.6 added a match on "only the last two fields of the CN (e.g.
 * intel.com)" so that a.intel.com and b.intel.com both match, and limited it
 * to ".com" and ".net" names (Intel, communities.intel.com/openport/message/1395).
 * For every other TLD the certificate must lie in the device's own domain:
 * applying the relaxation to co.uk would make every company under co.uk match.
 */
static bool relaxed_tld(const char *name, size_t n)
{
	size_t t = tail_labels(name, n, 1);

	return same(name + t, n - t, "com", 3) || same(name + t, n - t, "net", 3);
}

static bool firmware_match(const char *fqdn, size_t fn, const char *suffix, size_t sn)
{
	if (in_domain(fqdn, fn, suffix, sn))
		return true;
	if (!relaxed_tld(fqdn, fn) || !relaxed_tld(suffix, sn))
		return false;
	size_t ft = tail_labels(fqdn, fn, 2), st = tail_labels(suffix, sn, 2);
	return same(fqdn + ft, fn - ft, suffix + st, sn - st);
}

/*
 * RPS picks the provisioning certificate by the device's DNS suffix: the
 * domain whose suffix equals it, exactly (src/stateMachines/activation.ts
 * getAMTDomainCert); a device in a subdomain finds no domain. `name` may be
 * the configured domain itself or the certificate's FQDN (its host label is
 * dropped).
 */
static bool exact_match(const char *name, size_t n, const char *suffix, size_t sn)
{
	const char *dot = memchr(name, '.', n);

	if (same(name, n, suffix, sn))
		return true;
	return dot && same(dot + 1, n - (size_t)(dot + 1 - name), suffix, sn);
}

/*
 * MeshCentral keeps a provisioning certificate's CN cut to the registrable
 * domain for the TLDs it knows, e.g. ps.corp.example.com -> example.com, but
 * ps.example.co.uk -> example.co.uk (certoperations.js, loadIntelAmtAcmCerts
 * with its TopLevelDomainExtendedSupport table); a CN under any other TLD is
 * kept whole. The labels kept, per TLD:
 */
static const char *const mesh_tld2[] = {"com", "net", "org", "gov", "edu", "de", "ch", "dk", "cz", "cl", "ua", NULL};
static const char *const mesh_tld3[] = {"arpa", "fr", "cn", "nl", "br", "mx", "uk", "pl", "tw", "ca",
					"fi",   "be", "ru", "se", "ar", "es", "no", "at", "in", "tr",
					"ro",   "hu", "nz", "pt", "il", "gr", "co", "ie", "za", "th",
					"sg",   "hk", "lt", "id", "hr", "ee", "bg", NULL};

static int mesh_labels_kept(const char *name, size_t n)
{
	static const char *const *const lists[] = {mesh_tld2, mesh_tld3};
	size_t t = tail_labels(name, n, 1);

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; lists[k][i]; i++)
			if (same(name + t, n - t, lists[k][i], strlen(lists[k][i])))
				return 2 + k;
	return 0;
}

/*
 * MeshCentral's ACM match (Ylianst/MeshCentral amtmanager.js checkAcmActivation
 * and checkAcmActivationCertName; certoperations.js the same for the chain):
 * the CN, cut as above and with a leading "*." dropped, equals the device's
 * trusted DNS suffix or is a parent domain of it. A CN of "*" matches any
 * suffix (MeshCentral's own root, which issues a leaf per device).
 */
static bool meshcentral_match(const char *cn, size_t n, const char *suffix, size_t sn)
{
	int keep = mesh_labels_kept(cn, n);

	if (same(cn, n, "*", 1))
		return true;
	if (keep) {
		size_t t = tail_labels(cn, n, keep);
		cn += t;
		n -= t;
	}
	if (n > 2 && cn[0] == '*' && cn[1] == '.') {
		cn += 2;
		n -= 2;
	}
	return in_domain(suffix, sn, cn, n);
}

bool apf_amt_suffix_match(const char *cert_fqdn, const char *device_suffix, enum apf_suffix_rule rule)
{
	size_t fn, sn;

	if (!cert_fqdn || !device_suffix)
		return false;
	fn = name_len(cert_fqdn);
	sn = name_len(device_suffix);
	if (!fn || !sn)
		return false;
	/* a bare TLD is no device domain (MeshCentral compares whole names only) */
	if (rule != APF_SUFFIX_RULE_MESHCENTRAL && !memchr(device_suffix, '.', sn))
		return false;
	switch (rule) {
	case APF_SUFFIX_RULE_FIRMWARE:
		return firmware_match(cert_fqdn, fn, device_suffix, sn);
	case APF_SUFFIX_RULE_EXACT:
		return exact_match(cert_fqdn, fn, device_suffix, sn);
	case APF_SUFFIX_RULE_MESHCENTRAL:
		return meshcentral_match(cert_fqdn, fn, device_suffix, sn);
	case APF_SUFFIX_RULE_COUNT:
		break;
	}
	return false;
}

bool apf_amt_private_tld(const char *name)
{
	static const char *const tlds[] = {"local", "corp", "lan", "internal", "intranet", "home", "localdomain",
					   "private", "domain", NULL};
	size_t n, t;

	if (!name)
		return false;
	n = name_len(name);
	t = tail_labels(name, n, 1);
	for (size_t i = 0; tlds[i]; i++)
		if (same(name + t, n - t, tlds[i], strlen(tlds[i])))
			return true;
	return false;
}

static const struct {
	const char *name, *source;
} suffix_rules[APF_SUFFIX_RULE_COUNT] = {
	[APF_SUFFIX_RULE_FIRMWARE] = {"firmware",
				      "Intel, AMT 2.6 last-two-labels match for .com/.net only "
				      "(http://communities.intel.com/openport/message/1395); Intel AMT SDK "
				      "\"Acquiring an Intel vPro Certificate\""},
	[APF_SUFFIX_RULE_EXACT] = {"exact", "device-management-toolkit/rps: src/stateMachines/activation.ts "
					      "(getAMTDomainCert looks the domain up by the device's DNS suffix)"},
	[APF_SUFFIX_RULE_MESHCENTRAL] = {"meshcentral", "Ylianst/MeshCentral: amtmanager.js (checkAcmActivation, "
							"checkAcmActivationCertName), certoperations.js "
							"(loadIntelAmtAcmCerts: CN cut to the registrable domain)"},
};

const char *apf_suffix_rule_name(enum apf_suffix_rule rule)
{
	return (unsigned)rule < APF_SUFFIX_RULE_COUNT ? suffix_rules[rule].name : "unknown";
}

const char *apf_suffix_rule_source(enum apf_suffix_rule rule)
{
	return (unsigned)rule < APF_SUFFIX_RULE_COUNT ? suffix_rules[rule].source : "";
}

/* ---- per-generation crypto rules ----------------------------------------- */

bool apf_amt_hash_is_weak(const char *h)
{
	static const char *const weak[] = {"sha1", "md5", "md4", "md2", NULL};

	if (!h)
		return false;
	for (size_t i = 0; weak[i]; i++)
		if (!strcasecmp(h, weak[i]))
			return true;
	return false;
}

/* Newest generation the table names (rules for an unknown generation). */
static int newest_gen(void)
{
	int m = 0;

	for (size_t i = 0; i < apf_amt_gen_rows_count; i++) {
		const struct apf_amt_gen_row *r = &apf_amt_gen_rows[i];
		int g = r->gen_max ? r->gen_max : r->gen_min;
		if (g > m)
			m = g;
	}
	return m;
}

void apf_amt_gen_rules(int gen, struct apf_amt_gen_rules *out)
{
	int g = gen > 0 ? gen : newest_gen();

	memset(out, 0, sizeof(*out));
	out->gen = gen;
	for (size_t i = 0; i < apf_amt_gen_rows_count; i++) {
		const struct apf_amt_gen_row *r = &apf_amt_gen_rows[i];
		if (g < r->gen_min || (r->gen_max && g > r->gen_max))
			continue;
		if (!strcmp(r->rule, "sha1_refused") && !strcmp(r->value, "yes")) {
			out->sha1_refused = true;
			out->sha1_source = r->source;
			out->sha1_scope = r->scope;
		} else if (!strcmp(r->rule, "rsa_min_bits")) {
			out->rsa_min_bits = (unsigned)strtoul(r->value, NULL, 10);
			out->rsa_source = r->source;
		} else if (!strcmp(r->rule, "rsa_max_bits")) {
			out->rsa_max_bits = (unsigned)strtoul(r->value, NULL, 10);
			out->rsa_max_source = r->source;
		}
	}
}

/* Generation of a targets entry ("16", "16.1.25"), 0 when not 1-99. */
static int target_gen(const char *s)
{
	char *end;
	long g = s ? strtol(s, &end, 10) : 0;

	return s && end != s && g > 0 && g < 100 ? (int)g : 0;
}

void apf_amt_target_rules(const char *const *gens, size_t n, struct apf_amt_gen_rules *out)
{
	bool any = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		struct apf_amt_gen_rules g;
		int gen = target_gen(gens[i]);
		if (!gen)
			continue;
		apf_amt_gen_rules(gen, &g);
		/* the oldest target that refuses SHA-1 names the rule: the first to break */
		if (g.sha1_refused && (!out->sha1_refused || g.gen < out->gen)) {
			out->sha1_refused = true;
			out->sha1_source = g.sha1_source;
			out->sha1_scope = g.sha1_scope;
			out->gen = g.gen;
		}
		if (g.rsa_min_bits > out->rsa_min_bits) {
			out->rsa_min_bits = g.rsa_min_bits;
			out->rsa_source = g.rsa_source;
		}
		if (g.rsa_max_bits && (!out->rsa_max_bits || g.rsa_max_bits < out->rsa_max_bits)) {
			out->rsa_max_bits = g.rsa_max_bits;
			out->rsa_max_source = g.rsa_max_source;
		}
		any = true;
	}
	if (!any)
		apf_amt_gen_rules(0, out);
}

const char *apf_amt_targets_str(const char *const *gens, size_t n, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	if (!n) {
		snprintf(buf, size, "not configured (the newest rules apply)");
		return buf;
	}
	for (size_t i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", gens[i]);
	return buf;
}

/* ---- device certificates ------------------------------------------------- */

bool apf_amt_odca_issued(const char *issuer)
{
	const char *cn;

	if (!issuer)
		return false;
	/* the issuing CA's CN; the issuer string starts with it ("CN=ODCA 2 CSME ... AMT CA") */
	cn = strncmp(issuer, "CN=", 3) == 0 ? issuer + 3 : NULL;
	return cn && strncmp(cn, "ODCA ", 5) == 0 && strstr(cn, " CSME ") != NULL;
}

/* Whether `match` holds for an attribute ("CN=AMT") of an RFC 2253 name, split at
 * unescaped ',' and '+'. */
static bool name_any(const char *dn, bool (*match)(const char *a, size_t n, const char *arg), const char *arg)
{
	for (const char *p = dn; *p;) {
		const char *end = p;

		while (*end && *end != ',' && *end != '+')
			end += *end == '\\' && end[1] ? 2 : 1;
		if (match(p, (size_t)(end - p), arg))
			return true;
		if (!*end)
			break;
		p = end + 1;
	}
	return false;
}

static bool attr_is(const char *a, size_t n, const char *want)
{
	return n == strlen(want) && strncmp(a, want, n) == 0;
}

/* `prefix` and 12 lowercase hex digits: MeshCentral's CN. */
static bool attr_is_prefix_hex12(const char *a, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n == k + 12 && strncmp(a, prefix, k) == 0 && strspn(a + k, "0123456789abcdef") >= 12;
}

const char *apf_amt_server_issued(const char *subject)
{
	if (!subject)
		return NULL;
	if (name_any(subject, attr_is, "CN=AMT") && name_any(subject, attr_is, "O=None"))
		return "Open AMT RPS";
	if (name_any(subject, attr_is_prefix_hex12, "CN=IntelAMT-") && name_any(subject, attr_is, "ST=MC") &&
	    name_any(subject, attr_is, "C=MC"))
		return "MeshCentral";
	return NULL;
}

/* ---- MEBx hash form ------------------------------------------------------ */

char *apf_amt_mebx_hash_new(const char *hex)
{
	size_t n = hex ? strlen(hex) : 0, o = 0;
	char *out;

	if (!n || n % 4)
		return NULL;
	out = malloc(n + n / 4);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = hex[i];
		if (c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
			free(out);
			return NULL;
		}
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}
