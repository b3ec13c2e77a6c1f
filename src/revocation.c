/* SPDX-License-Identifier: MIT */
/*
 * CRL and OCSP checks (see revocation.h). The fetch goes through the HTTP and
 * LDAP adapters; the judgement (issuer, signature, freshness, listing) is
 * OpenSSL's, here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/fetch.h"
#include "alloc.h"
#include "check.h"
#include "revocation.h"
#include "util.h"

/* Large enterprise CRLs reach a few MiB; anything beyond this is not a CRL we want to parse. */
#define APF_REV_MAX_CRL (16u * 1024 * 1024)
#define APF_REV_MAX_OCSP (64u * 1024)
/* Clock skew tolerated on OCSP thisUpdate/nextUpdate, seconds. */
#define APF_REV_OCSP_SKEW 300

static const char *const state_names[] = {
	[APF_REV_GOOD] = "good",
	[APF_REV_REVOKED] = "revoked",
	[APF_REV_UNREACHABLE] = "unreachable",
	[APF_REV_INVALID] = "invalid",
	[APF_REV_EXPIRED] = "expired",
	[APF_REV_NONE] = "none",
};

/* Paired with enum apf_rev_state; see apf_rev_status() in revocation.h for the reasons. */
static const enum apf_status state_status[] = {
	[APF_REV_GOOD] = APF_PASS,
	[APF_REV_REVOKED] = APF_FAIL,
	[APF_REV_UNREACHABLE] = APF_ERROR,
	[APF_REV_INVALID] = APF_FAIL,
	[APF_REV_EXPIRED] = APF_FAIL,
	[APF_REV_NONE] = APF_INFO,
};

enum apf_status apf_rev_status(enum apf_rev_state s)
{
	/* An unknown state was not checked: never PASS, never FAIL. */
	if ((size_t)s >= sizeof(state_status) / sizeof(state_status[0]))
		return APF_ERROR;
	return state_status[s];
}

struct apf_finding *apf_rev_report(struct apf_ctx *ctx, const struct apf_rev_result *r, const char *method,
				   const char *subject, const char *const codes[APF_REV_STATE_COUNT])
{
	const char *code = (size_t)r->state < APF_REV_STATE_COUNT ? codes[r->state] : NULL;
	const char *detail = r->detail ? r->detail : "?";
	struct apf_finding *f;
	char *msg;

	if (!code)
		return NULL;
	switch (r->state) {
	case APF_REV_GOOD:
		msg = apf_xasprintf("The %s answer for %s verifies and is current", method, subject);
		break;
	case APF_REV_REVOKED:
		msg = apf_xasprintf("%s is revoked per its %s (%s)", subject, method, r->reason ? r->reason : "no reason given");
		break;
	case APF_REV_UNREACHABLE:
		msg = apf_xasprintf("The %s for %s could not be fetched: %s", method, subject, detail);
		break;
	case APF_REV_INVALID:
		msg = apf_xasprintf("The %s answer for %s is unusable: %s", method, subject, detail);
		break;
	case APF_REV_EXPIRED:
		msg = apf_xasprintf("The %s answer for %s is out of date (past its nextUpdate)", method, subject);
		break;
	default:
		msg = apf_xasprintf("%s names no %s URL", subject, method);
		break;
	}
	f = apf_report(ctx, apf_rev_status(r->state), code, "%s", msg);
	free(msg);
	apf_rev_evidence(f, r, method);
	return f;
}

void apf_rev_evidence(struct apf_finding *f, const struct apf_rev_result *r, const char *method)
{
	char t[32];

	apf_evidence(f, "method", "%s", method);
	if (r->url)
		apf_evidence(f, "url", "%s", r->url);
	apf_evidence(f, "state", "%s", apf_rev_state_name(r->state));
	if (r->this_update)
		apf_evidence(f, "this_update", "%s", apf_pki_time_str(r->this_update, t, sizeof(t)));
	if (r->next_update)
		apf_evidence(f, "next_update", "%s", apf_pki_time_str(r->next_update, t, sizeof(t)));
	if (r->revoked_at)
		apf_evidence(f, "revoked_at", "%s", apf_pki_time_str(r->revoked_at, t, sizeof(t)));
	if (r->reason)
		apf_evidence(f, "reason", "%s", r->reason);
	if (r->detail)
		apf_evidence(f, "detail", "%s", r->detail);
}

const char *apf_rev_state_name(enum apf_rev_state s)
{
	if ((size_t)s >= sizeof(state_names) / sizeof(state_names[0]) || !state_names[s])
		return "?";
	return state_names[s];
}

void apf_rev_result_clear(struct apf_rev_result *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->detail);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

/* Replaces the result with a new state and detail (the url is kept). */
static void set_state(struct apf_rev_result *r, enum apf_rev_state st, char *detail_take)
{
	r->state = st;
	free(r->detail);
	r->detail = detail_take;
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static char *openssl_error(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return apf_xstrdup(what);
	ERR_error_string_n(e, buf, sizeof(buf));
	return apf_xasprintf("%s (%s)", what, buf);
}

static unsigned int remaining_ms(uint64_t deadline_ms)
{
	uint64_t now = apf_now_ms();

	return now >= deadline_ms ? 0 : (unsigned int)(deadline_ms - now);
}

static uint64_t deadline_after(unsigned int ms)
{
	return apf_now_ms() + ms;
}

static const char *reason_name(int reason)
{
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "certificateHold", "(unused)", "removeFromCRL", "privilegeWithdrawn",
		"aACompromise",
	};
	if (reason < 0 || (size_t)reason >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[reason];
}

/* ---- CRL -------------------------------------------------------------------- */

static X509_CRL *crl_parse(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	X509_CRL *crl;
	BIO *b;

	if (len > APF_REV_MAX_CRL || len > (size_t)INT32_MAX)
		return NULL;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl)
		return crl;
	b = BIO_new_mem_buf(data, (int)len);
	if (!b)
		return NULL;
	crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return crl;
}

void apf_rev_check_crl_data(const unsigned char *data, size_t len, const char *url, const struct apf_cert *cert,
			    const struct apf_cert *issuer, struct apf_rev_result *out)
{
	X509_CRL *crl = NULL;
	X509 *iss;
	X509_REVOKED *rev = NULL;
	EVP_PKEY *pk;
	time_t now = time(NULL);
	int n_revoked;

	memset(out, 0, sizeof(*out));
	out->url = url ? apf_xstrdup(url) : NULL;
	crl = crl_parse(data, len);
	if (!crl) {
		set_state(out, APF_REV_INVALID, apf_xasprintf("the %zu bytes fetched are not a CRL (neither DER nor PEM)", len));
		goto out;
	}
	out->this_update = asn1_time(X509_CRL_get0_lastUpdate(crl));
	out->next_update = asn1_time(X509_CRL_get0_nextUpdate(crl));
	if (!issuer || !issuer->native) {
		set_state(out, APF_REV_INVALID, apf_xstrdup("the issuer's certificate is not at hand, so the CRL signature cannot be verified"));
		goto out;
	}
	iss = issuer->native;
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(iss)) != 0) {
		set_state(out, APF_REV_INVALID, apf_xasprintf("the CRL was issued by someone else than %s", issuer->subject ? issuer->subject : "the issuer"));
		goto out;
	}
	pk = X509_get0_pubkey(iss);
	if (!pk || X509_CRL_verify(crl, pk) != 1) {
		set_state(out, APF_REV_INVALID, openssl_error("the CRL signature does not verify with the issuer's key"));
		goto out;
	}
	if (cert && cert->native && X509_CRL_get0_by_cert(crl, &rev, cert->native) == 1 && rev) {
		ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);

		out->revoked_at = asn1_time(X509_REVOKED_get0_revocationDate(rev));
		out->reason = apf_xstrdup(reason_name(reason ? (int)ASN1_ENUMERATED_get(reason) : 0));
		ASN1_ENUMERATED_free(reason);
		set_state(out, APF_REV_REVOKED, apf_xstrdup("listed in a CRL whose signature verified"));
		goto out;
	}
	if (out->next_update && out->next_update < now) {
		set_state(out, APF_REV_EXPIRED, apf_xstrdup("the CRL's nextUpdate has passed: relying parties treat the status as unknown"));
		goto out;
	}
	n_revoked = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	if (n_revoked < 0)
		n_revoked = 0; /* no revokedCertificates field at all */
	if (!out->next_update) {
		/* no nextUpdate: valid forever by the letter, but nobody can tell it is current */
		set_state(out, APF_REV_GOOD, apf_xasprintf("signature verified, %d entries, no nextUpdate",
							   n_revoked));
		goto out;
	}
	set_state(out, APF_REV_GOOD, apf_xasprintf("signature verified, %d entries", n_revoked));
out:
	X509_CRL_free(crl);
	ERR_clear_error();
}

void apf_rev_check_crl(const struct apf_cert *cert, const struct apf_cert *issuer, const struct apf_fetch_opts *how,
		       struct apf_rev_result *out)
{
	uint64_t deadline = deadline_after(how->timeout_ms);

	memset(out, 0, sizeof(*out));
	out->state = APF_REV_NONE;
	if (!cert || cert->crl_dp.n == 0) {
		out->detail = apf_xstrdup("the certificate names no CRL distribution point");
		return;
	}
	/* First distribution point that answers decides; the others are fallbacks. */
	for (size_t i = 0; i < cert->crl_dp.n; i++) {
		const char *url = cert->crl_dp.v[i];
		unsigned char *data = NULL;
		size_t len = 0;
		char *why = NULL;
		struct apf_fetch_opts fo = *how;

		fo.max_bytes = APF_REV_MAX_CRL;
		fo.timeout_ms = remaining_ms(deadline);
		if (apf_fetch_body(url, &fo, &data, &len, &why) == 0) {
			apf_rev_result_clear(out);
			apf_rev_check_crl_data(data, len, url, cert, issuer, out);
			free(data);
			return;
		}
		apf_rev_result_clear(out);
		out->url = apf_xstrdup(url);
		set_state(out, APF_REV_UNREACHABLE, why);
	}
}

/* ---- OCSP ------------------------------------------------------------------- */

/* Judges one OCSP response for `id`; sets out's state and times. */
static void ocsp_judge(const unsigned char *data, size_t len, OCSP_REQUEST *req, OCSP_CERTID *id,
		       const struct apf_cert *issuer, struct apf_rev_result *out)
{
	const unsigned char *p = data;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *certs = NULL;
	X509_STORE *store = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int status, reason = -1, rst;

	resp = data && len <= APF_REV_MAX_OCSP ? d2i_OCSP_RESPONSE(NULL, &p, (long)len) : NULL;
	if (!resp) {
		set_state(out, APF_REV_INVALID, apf_xasprintf("the %zu bytes returned are not an OCSP response", len));
		goto out;
	}
	rst = OCSP_response_status(resp);
	if (rst != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		set_state(out, APF_REV_INVALID,
			  apf_xasprintf("the responder answered '%s' (%d)", OCSP_response_status_str(rst), rst));
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (!bs) {
		set_state(out, APF_REV_INVALID, openssl_error("the OCSP response has no basic response"));
		goto out;
	}
	/* -1 (no nonce echoed) is common with pre-signed responses and acceptable; 0 is a mismatch. */
	if (req && OCSP_check_nonce(req, bs) == 0) {
		set_state(out, APF_REV_INVALID, apf_xstrdup("the response's nonce does not match the request (replayed response?)"));
		goto out;
	}
	/* The issuer is the trust anchor here (partial chain): the response must be
	 * signed by the CA itself or by a responder it delegated to. */
	certs = sk_X509_new_null();
	store = X509_STORE_new();
	if (!certs || !store || !sk_X509_push(certs, issuer->native) || !X509_STORE_add_cert(store, issuer->native)) {
		set_state(out, APF_REV_INVALID, openssl_error("out of memory"));
		goto out;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (OCSP_basic_verify(bs, certs, store, 0) <= 0) {
		set_state(out, APF_REV_INVALID, openssl_error("the OCSP response signature does not verify against the issuer"));
		goto out;
	}
	if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd)) {
		set_state(out, APF_REV_INVALID, apf_xstrdup("the response does not cover this certificate"));
		goto out;
	}
	out->this_update = asn1_time(thisupd);
	out->next_update = asn1_time(nextupd);
	if (status == V_OCSP_CERTSTATUS_REVOKED) {
		out->revoked_at = asn1_time(rev);
		out->reason = apf_xstrdup(reason >= 0 ? reason_name(reason) : "unspecified");
		set_state(out, APF_REV_REVOKED, apf_xstrdup("the responder says revoked"));
		goto out;
	}
	if (status != V_OCSP_CERTSTATUS_GOOD) {
		set_state(out, APF_REV_INVALID, apf_xstrdup("the responder does not know this certificate (status unknown)"));
		goto out;
	}
	if (!OCSP_check_validity(thisupd, nextupd, APF_REV_OCSP_SKEW, -1)) {
		ERR_clear_error();
		set_state(out, APF_REV_EXPIRED, apf_xstrdup("the response is outside its thisUpdate/nextUpdate window"));
		goto out;
	}
	set_state(out, APF_REV_GOOD, apf_xstrdup("the responder says good; response signature verified"));
out:
	sk_X509_free(certs); /* the issuer is borrowed */
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
}

void apf_rev_check_ocsp_data(const unsigned char *data, size_t len, const struct apf_cert *cert,
			     const struct apf_cert *issuer, struct apf_rev_result *out)
{
	OCSP_CERTID *id = NULL;

	memset(out, 0, sizeof(*out));
	if (!cert || !cert->native || !issuer || !issuer->native) {
		set_state(out, APF_REV_INVALID, apf_xstrdup("the issuer's certificate is not at hand"));
		return;
	}
	id = OCSP_cert_to_id(EVP_sha1(), cert->native, issuer->native);
	if (!id)
		set_state(out, APF_REV_INVALID, openssl_error("could not make the OCSP certificate ID"));
	else
		ocsp_judge(data, len, NULL, id, issuer, out);
	OCSP_CERTID_free(id);
	ERR_clear_error();
}

void apf_rev_check_ocsp(const struct apf_cert *cert, const struct apf_cert *issuer, const struct apf_fetch_opts *how,
			struct apf_rev_result *out)
{
	uint64_t deadline = deadline_after(how->timeout_ms);
	OCSP_CERTID *id = NULL;
	OCSP_REQUEST *req = NULL;
	unsigned char *der = NULL, nonce[16];
	int der_len;

	memset(out, 0, sizeof(*out));
	out->state = APF_REV_NONE;
	if (!cert || cert->aia_ocsp.n == 0) {
		out->detail = apf_xstrdup("the certificate names no OCSP responder");
		return;
	}
	out->url = apf_xstrdup(cert->aia_ocsp.v[0]);
	if (!issuer || !issuer->native || !cert->native) {
		set_state(out, APF_REV_INVALID, apf_xstrdup("the issuer's certificate is not at hand, so no OCSP request can be made"));
		return;
	}
	/* Our own entropy for the nonce: OpenSSL's would create a per-thread DRBG in
	 * every check thread (freed only as the thread ends, after the run may have). */
	if (getentropy(nonce, sizeof(nonce)) != 0) {
		set_state(out, APF_REV_INVALID, apf_xasprintf("no entropy for the OCSP nonce: %s", strerror(errno)));
		goto out;
	}
	/* SHA-1 CertID: what RFC 5019 responders (and Microsoft's) index on. */
	id = OCSP_cert_to_id(EVP_sha1(), cert->native, issuer->native);
	req = OCSP_REQUEST_new();
	if (!id || !req || !OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) ||
	    !OCSP_request_add1_nonce(req, nonce, (int)sizeof(nonce))) {
		set_state(out, APF_REV_INVALID, openssl_error("could not build the OCSP request"));
		goto out;
	}
	der_len = i2d_OCSP_REQUEST(req, &der);
	if (der_len <= 0) {
		set_state(out, APF_REV_INVALID, openssl_error("could not encode the OCSP request"));
		goto out;
	}
	for (size_t i = 0; i < cert->aia_ocsp.n; i++) {
		const char *url = cert->aia_ocsp.v[i];
		unsigned char *body = NULL;
		size_t blen = 0;
		char *err = NULL;
		struct apf_fetch_opts fo = *how;

		free(out->url);
		out->url = apf_xstrdup(url);
		fo.max_bytes = APF_REV_MAX_OCSP;
		fo.timeout_ms = remaining_ms(deadline);
		fo.content_type = "application/ocsp-request";
		fo.body = der;
		fo.body_len = (size_t)der_len;
		if (fo.timeout_ms == 0) {
			set_state(out, APF_REV_UNREACHABLE, apf_xstrdup("no time left to ask the responder"));
			break;
		}
		if (apf_fetch_body(url, &fo, &body, &blen, &err) < 0) {
			set_state(out, APF_REV_UNREACHABLE, err);
			continue;
		}
		ocsp_judge(body, blen, req, id, issuer, out);
		free(body);
		break;
	}
out:
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	ERR_clear_error();
}
