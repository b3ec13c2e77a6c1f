/* SPDX-License-Identifier: MIT */
/*
 * Certificates as checks see them: a plain model filled from OpenSSL, so that
 * checks hold policy (what is expired, what AMT accepts) and this module holds
 * the mechanism (parsing, chain building, signature verification). Only
 * src/pki*.c include OpenSSL headers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

struct apf_cert {
	char *subject;            /* RFC 2253, e.g. "CN=ProvisionServer.corp.example.test,OU=...,O=..." */
	char *issuer;
	char *subject_cn;         /* may be NULL */
	struct apf_strlist subject_ou;
	char *serial_hex;         /* uppercase hex, no separators */
	char sha1_hex[41];        /* lowercase hex of the DER */
	char sha256_hex[65];
	char sha384_hex[97];      /* newer AMT firmware stores root hashes as SHA-384 */
	time_t not_before, not_after;
	char *key_type;           /* "RSA", "EC", "ED25519", ... */
	int key_bits;
	char *sig_alg;            /* "sha256WithRSAEncryption", "ecdsa-with-SHA384", ... */
	char *sig_hash;           /* "sha256", "sha1", "md5", ... (NULL when not applicable) */
	bool is_ca;               /* basicConstraints CA:TRUE */
	bool self_signed;         /* subject == issuer and the signature verifies with its own key */
	struct apf_strlist eku;   /* dotted OIDs */
	struct apf_strlist san_dns;
	struct apf_strlist san_ip;  /* IP address subjectAltNames, as text */
	struct apf_strlist aia_ca_issuers; /* URLs */
	struct apf_strlist aia_ocsp;
	struct apf_strlist crl_dp;
	unsigned char *der;
	size_t der_len;
	void *native;             /* X509 *, for src/pki*.c only */
};

void apf_cert_free(struct apf_cert *c);
/* Parses one DER certificate. -EINVAL when it is not one. */
int apf_cert_from_der(const unsigned char *der, size_t len, struct apf_cert **out);
/* Parses every certificate in PEM, DER or PKCS#7 (PEM or DER) data, in order. */
int apf_certs_from_data(const unsigned char *data, size_t len, struct apf_cert ***out, size_t *n_out);
/* True when `issuer` signed `cert` (signature verifies with issuer's key). */
bool apf_cert_issued_by(const struct apf_cert *cert, const struct apf_cert *issuer);
void apf_certs_free(struct apf_cert **v, size_t n);

/* ---- additions by the cert module (loading, chains, AMT root table) ------- */

/*
 * What an admin hands us as "the provisioning certificate": a PFX, or PEM/DER
 * certificates plus an optional separate key and chain file. Only src/pki*.c
 * look at the native pointers.
 */
struct apf_pki_bundle {
	struct apf_cert **certs; /* every certificate found, file order (PFX: leaf first) */
	size_t n;
	size_t leaf;             /* index of the leaf: the certificate the key belongs to, else the
				  * first non-CA certificate, else 0 */
	bool has_key;
	bool key_matches;        /* the key is the leaf's (false when there is no key) */
	bool legacy_pfx;         /* a PFX encrypted with pre-PBES2 algorithms (RC2, 3DES, RC4) */
	const char *format;      /* "PKCS#12", "PEM", "DER" or "PKCS#7" (static string) */
	void *native_key;        /* EVP_PKEY * */
};

/* Largest certificate/PFX/key file read (hostile input is capped, not trusted). */
#define APF_PKI_MAX_FILE (4u * 1024u * 1024u)
/* Most certificates taken from one file. */
#define APF_PKI_MAX_CERTS 256

/*
 * Loads OpenSSL's "default" and "legacy" providers once, thread-safely, so
 * that PFX files exported by older Windows (RC2-40/3DES) can be read. Called by
 * every loader; callable from main() too. Returns 0, or -ENOPKG when the
 * legacy provider is not installed (modern files still load).
 */
int apf_pki_init(void);

/*
 * Loads certificates (and a key, if any) from `data`: PKCS#12, PEM (any mix of
 * certificates, PKCS#7 and one private key) or DER (certificate or PKCS#7).
 * `password` (may be NULL) opens a PFX or an encrypted PEM key; it is never
 * copied. Returns 0, -EBADMSG when the data is none of these, -EKEYREJECTED
 * when the PFX's password is wrong (or missing), -E2BIG when the data exceeds
 * the caps. *err_out (may be NULL) gets an explanation (caller frees).
 * *out stays NULL on failure.
 */
int apf_pki_load_data(const unsigned char *data, size_t len, const char *password, struct apf_pki_bundle **out,
		      char **err_out);

/*
 * Loads `cert_path` like apf_pki_load_data(), then adds the private key from
 * `key_path` and the certificates of `chain_path` (both may be NULL). Returns
 * as above, plus -errno when a file cannot be read (-EFBIG: over the cap).
 * The message names the file.
 */
int apf_pki_load_files(const char *cert_path, const char *key_path, const char *chain_path, const char *password,
		       struct apf_pki_bundle **out, char **err_out);
void apf_pki_bundle_free(struct apf_pki_bundle *b);

/* Reads every certificate of one file (PEM, DER, PKCS#7); see apf_certs_from_data. */
int apf_certs_from_file(const char *path, struct apf_cert ***out, size_t *n_out, char **err_out);

/* True when both certificates carry the same public key. */
bool apf_cert_same_key(const struct apf_cert *a, const struct apf_cert *b);
/* True when the subject of `a` equals the issuer/subject of `b` (DER-canonical comparison). */
bool apf_cert_subject_eq(const struct apf_cert *a, const struct apf_cert *b);
bool apf_cert_issuer_is_subject(const struct apf_cert *cert, const struct apf_cert *issuer);

/* A certification path, leaf first. The certificates are borrowed from the pool. */
struct apf_chain {
	const struct apf_cert **v;
	size_t n;
	bool complete; /* ends in a self-signed certificate */
};

/*
 * Builds the path from `leaf` up through `pool` (which may contain the leaf):
 * at each step the issuer is a pool certificate whose subject matches and whose
 * key verifies the signature; among several, one valid at `now` is preferred
 * (the way a careful chain builder would; the field notes' failure is a builder
 * that was handed only an expired one). Stops at a self-signed certificate, a
 * missing issuer, or after 16 steps. Never fails; free with apf_chain_clear().
 */
void apf_chain_build(const struct apf_cert *leaf, struct apf_cert *const *pool, size_t n_pool, time_t now,
		     struct apf_chain *out);
void apf_chain_clear(struct apf_chain *c);

/* SHA-1 / SHA-256 of arbitrary data, lowercase hex. */
void apf_pki_sha1_hex(const void *data, size_t len, char out[41]);
void apf_pki_sha256_hex(const void *data, size_t len, char out[65]);
void apf_pki_sha384_hex(const void *data, size_t len, char out[97]);

/* Formats a time_t as "2025-05-12T23:59:00Z" into buf (at least 21 bytes). */
const char *apf_pki_time_str(time_t t, char *buf, size_t size);
