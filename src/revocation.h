/* SPDX-License-Identifier: MIT */
/*
 * Revocation through CRL distribution points and OCSP, for ca.revocation and
 * cert.provisioning. Fetches are bounded by the caller's timeout and a size cap.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "net/fetch.h"
#include "pki.h"
#include "result.h"

enum apf_rev_state {
	APF_REV_GOOD,        /* not revoked per a valid CRL / OCSP response */
	APF_REV_REVOKED,     /* revoked */
	APF_REV_UNREACHABLE, /* URL could not be fetched (network, HTTP status) */
	APF_REV_INVALID,     /* fetched but unusable: bad signature, not a CRL, wrong issuer */
	APF_REV_EXPIRED,     /* CRL nextUpdate has passed */
	APF_REV_NONE,        /* the certificate names no CDP / OCSP URL */
	APF_REV_STATE_COUNT
};

struct apf_rev_result {
	enum apf_rev_state state;
	char *url;            /* what was asked (may be NULL for NONE) */
	char *detail;         /* HTTP status, curl/OpenSSL error, OCSP status text */
	time_t this_update, next_update; /* CRL or OCSP response times, 0 if unknown */
	time_t revoked_at;    /* 0 unless REVOKED */
	char *reason;         /* revocation reason, may be NULL */
};

/* Checks `cert` against the first CRL distribution point that answers, verifying
 * the CRL's signature with `issuer`. Never fails: the state says what happened.
 * `how` gives the fetch deadline (timeout_ms, for all distribution points), the
 * resolver and the LDAP session for "ldap:///" URLs; the size caps are ours. */
void apf_rev_check_crl(const struct apf_cert *cert, const struct apf_cert *issuer, const struct apf_fetch_opts *how,
		       struct apf_rev_result *out);
/* Judges a CRL the caller already fetched (DER or PEM; e.g. read over an
 * authenticated LDAP connection for Microsoft's "ldap:///" CDP URLs, which name
 * no server): issuer and signature against `issuer`, nextUpdate, and whether
 * `cert` (may be NULL: only the CRL itself is judged) is listed. `url` is copied
 * into out->url. Added by the ad engineer (additive). */
void apf_rev_check_crl_data(const unsigned char *data, size_t len, const char *url, const struct apf_cert *cert,
			    const struct apf_cert *issuer, struct apf_rev_result *out);
/* Judges an OCSP response the caller already has (DER) for `cert` issued by
 * `issuer`: signature, status and validity window, but no nonce (there was no
 * request). The network-facing parser, kept callable for the fuzz target. */
void apf_rev_check_ocsp_data(const unsigned char *data, size_t len, const struct apf_cert *cert,
			     const struct apf_cert *issuer, struct apf_rev_result *out);
/* Asks the certificate's OCSP responder (AIA) about `cert`; `how` as for apf_rev_check_crl(). */
void apf_rev_check_ocsp(const struct apf_cert *cert, const struct apf_cert *issuer, const struct apf_fetch_opts *how,
			struct apf_rev_result *out);
void apf_rev_result_clear(struct apf_rev_result *r);
const char *apf_rev_state_name(enum apf_rev_state s);

/*
 * The one mapping from a revocation state to the status of the finding that
 * reports it, for every check that reports revocation (cert.provisioning,
 * ca.revocation), so that the same CRL gives the same verdict everywhere:
 *   GOOD PASS; NONE INFO;
 *   REVOKED, INVALID (not a CRL/OCSP answer of the issuer), EXPIRED (CRL
 *   nextUpdate / OCSP window passed) FAIL: seen and broken, relying parties
 *   that check revocation reject the chain (RFC 5280 6.3.3, RFC 6960 4.2.2.1);
 *   UNREACHABLE ERROR: could not check, never FAIL and never PASS.
 * docs/checks/ca.revocation.md and cert.provisioning.md give the reasons.
 */
enum apf_status apf_rev_status(enum apf_rev_state s);

struct apf_ctx;

/*
 * Reports `r` as one finding of the running check: codes[r->state] (the
 * check's own code for that state; NULL = no finding, returns NULL), the
 * status of apf_rev_status(), a message naming `method` ("CRL", "OCSP") and
 * `subject`, and the evidence every revocation finding carries: method, url,
 * state, this_update, next_update, revoked_at, reason, detail. Returns the
 * finding for the caller's own evidence.
 */
struct apf_finding *apf_rev_report(struct apf_ctx *ctx, const struct apf_rev_result *r, const char *method,
				   const char *subject, const char *const codes[APF_REV_STATE_COUNT]);
/* Adds that evidence to a finding the caller made itself. */
void apf_rev_evidence(struct apf_finding *f, const struct apf_rev_result *r, const char *method);
