/* SPDX-License-Identifier: MIT */
/*
 * LDAP through libldap (OpenLDAP): one connection per handle, per-handle TLS
 * context, every wait bounded by the caller's timeout. Only ldap.c includes
 * libldap and OpenSSL headers.
 *
 * Why connections are made to a numeric address: libldap would resolve a host
 * name with the host's resolver, while the checker must see what the AMT
 * infrastructure sees through the configured DNS servers. The caller resolves
 * the DC's name and passes both: the IP to connect to, the name to check the
 * server certificate against (OpenSSL does the name check, libldap only does
 * the handshake).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum apf_ldap_tls {
	APF_LDAP_TLS_NONE,     /* plain LDAP (389) */
	APF_LDAP_TLS_STARTTLS, /* LDAP on 389, then the StartTLS extended operation */
	APF_LDAP_TLS_LDAPS,    /* TLS from the first byte (636) */
};

struct apf_ldap_opts {
	const char *ip;          /* numeric IPv4/IPv6 literal to connect to */
	uint16_t port;           /* 0 = 389, or 636 for LDAPS */
	const char *host_name;   /* name the server certificate must carry (DC host name); NULL = no name check */
	enum apf_ldap_tls tls;
	const char *ca_file;     /* PEM bundle to verify the server certificate; NULL = system default */
	unsigned int timeout_ms; /* each network wait (connect, handshake, each operation) */
	/* Absolute deadline (apf_now_ms() clock) that no later wait of this handle
	 * goes past, however long it stays open: the check's deadline. 0 = none. */
	uint64_t deadline_ms;
};

/* What the TLS layer saw. Verification never aborts the handshake: the checker
 * reports a certificate that does not verify instead of failing to connect. */
struct apf_ldap_tls_info {
	bool active;          /* TLS is up on this connection */
	bool verified;        /* chain to ca_file and (if host_name) the name both verified */
	long verify_code;     /* OpenSSL X509_V_* result, 0 = OK */
	char *verify_error;   /* X509_verify_cert_error_string(), NULL when verified */
	char *peer_subject;   /* RFC 2253 subject of the server certificate */
	char *peer_issuer;
	char *peer_sha1;      /* lowercase hex SHA-1 of the DER */
	time_t peer_not_after;
	char *protocol;       /* "TLSv1.3" */
};

/* The outcome of one LDAP operation, for evidence. */
struct apf_ldap_status {
	int rc;               /* LDAP result code (0 = success); negative = libldap's client-side codes */
	char *rc_text;        /* ldap_err2string(rc) */
	char *diag;           /* server's diagnostic message, capped at 512 bytes; may be NULL */
	unsigned int ad_data; /* AD's "data NNN" (hex) from the diagnostic, 0 when absent */
	bool has_ad_data;
};

struct apf_ldap_value {
	unsigned char *data; /* NUL-terminated copy (for string use), len excludes the NUL */
	size_t len;
};

struct apf_ldap_attr {
	char *name;
	struct apf_ldap_value *vals;
	size_t n_vals;
};

struct apf_ldap_entry {
	char *dn;
	struct apf_ldap_attr *attrs;
	size_t n_attrs;
};

struct apf_ldap_result {
	struct apf_ldap_entry *entries;
	size_t n_entries;
	bool truncated; /* size limit or byte cap hit; entries hold what came before */
};

enum apf_ldap_scope {
	APF_LDAP_SCOPE_BASE = 0,
	APF_LDAP_SCOPE_ONE = 1,
	APF_LDAP_SCOPE_SUB = 2,
};

struct apf_ldap;

/*
 * Connects (and for STARTTLS/LDAPS, completes the TLS handshake). Returns 0,
 * -ETIMEDOUT, -ECONNREFUSED (server down / unreachable), -ECONNRESET (TLS
 * handshake or StartTLS refused), -EINVAL (bad options). `st` (may be NULL)
 * receives the LDAP code and text either way; clear it with
 * apf_ldap_status_clear(). *out stays NULL on failure.
 */
int apf_ldap_open(const struct apf_ldap_opts *o, struct apf_ldap **out, struct apf_ldap_status *st);
void apf_ldap_close(struct apf_ldap *l);

/* TLS facts of an open connection (owned by the handle; all zero when plain). */
const struct apf_ldap_tls_info *apf_ldap_tls(const struct apf_ldap *l);

/*
 * Simple bind. Refuses (-EPERM, nothing sent) to send a password over a
 * connection without TLS unless `allow_cleartext`. Returns 0, -EACCES (invalid
 * credentials: see st->ad_data), -ETIMEDOUT, -ECONNRESET, -EPROTO (other LDAP
 * result, see st->rc).
 */
int apf_ldap_bind_simple(struct apf_ldap *l, const char *dn, const char *password, bool allow_cleartext,
			 struct apf_ldap_status *st);

/* SASL GSSAPI bind with the caller's Kerberos credential cache. -ENOTSUP when
 * the SASL GSSAPI plugin is not installed; otherwise as apf_ldap_bind_simple. */
int apf_ldap_bind_gssapi(struct apf_ldap *l, struct apf_ldap_status *st);

/* True when a Kerberos credential cache seems to be at hand ($KRB5CCNAME or /tmp/krb5cc_<uid>). */
bool apf_ldap_have_krb5_ticket(void);

/*
 * Searches. `attrs` is NULL-terminated (NULL = all). At most `size_limit`
 * entries (0 = 1000) and 4 MiB of values are kept; beyond that ->truncated.
 * The reply is read one message at a time and the search abandoned at either
 * cap, so a server that ignores the size limit cannot make us hold more.
 * Returns 0 (also with zero entries, and when truncated), -ENOENT (base not
 * found), -EACCES (insufficient access / operation needs a bind), -ETIMEDOUT,
 * -ECONNRESET, -EPROTO.
 */
int apf_ldap_search(struct apf_ldap *l, const char *base, enum apf_ldap_scope scope, const char *filter,
		    const char *const *attrs, int size_limit, struct apf_ldap_result **out,
		    struct apf_ldap_status *st);
void apf_ldap_result_free(struct apf_ldap_result *r);

/* Attribute by name (case-insensitive), NULL when absent. */
const struct apf_ldap_attr *apf_ldap_entry_attr(const struct apf_ldap_entry *e, const char *name);
/* First value of the attribute as a string, NULL when absent. */
const char *apf_ldap_entry_str(const struct apf_ldap_entry *e, const char *name);
/* True when the attribute has `value` among its values (case-insensitive). */
bool apf_ldap_attr_has(const struct apf_ldap_attr *a, const char *value);
/* The attribute's values ", "-joined for evidence, stopping past 2 KiB; "" when absent. Caller frees. */
char *apf_ldap_attr_join(const struct apf_ldap_attr *a);

/* The host (NULL for "ldap:///..."; caller frees), port (default 389 or 636)
 * and scheme of an ldap:// or ldaps:// URL. -EINVAL when it does not parse. */
int apf_ldap_url_host(const char *url, char **host_out, uint16_t *port_out, bool *ldaps_out);

/*
 * Fetches the first value of the attribute named in an ldap:// URL
 * ("ldap://host/DN?attr?base?filter"), anonymously, with a byte cap, from the
 * server at `ip` (the caller resolved the URL's host: see net/fetch.h).
 * -EINVAL for a URL with no attribute, -ENOENT when nothing came back; *err_out
 * explains. Callers use apf_fetch().
 */
int apf_ldap_url_fetch(const char *url, const char *ip, size_t max_bytes, unsigned int timeout_ms,
		       unsigned char **data, size_t *len, char **err_out);

/* Same, but over an open (bound) connection, whatever host the URL names: for
 * Microsoft's "ldap:///CN=...,CN=CDP,..." URLs, which mean "your own DC". */
int apf_ldap_url_fetch_on(struct apf_ldap *l, const char *url, size_t max_bytes, unsigned char **data, size_t *len,
			  char **err_out);

void apf_ldap_status_clear(struct apf_ldap_status *st);

/* ---- decoding helpers (pure, unit-tested) -------------------------------- */

/* Parses AD's "data NNN" (hex) out of a diagnostic message. */
bool apf_ldap_parse_ad_data(const char *diag, unsigned int *out);
/* Meaning of an AD data code in an invalidCredentials (49) result, NULL when unknown. */
const char *apf_ldap_ad_data_text(unsigned int code);
/* Short explanation of an LDAP result code for admins ("the server is busy"...), never NULL. */
const char *apf_ldap_rc_explain(int rc);
/* The errno the adapter maps an LDAP result code to (0 for success). */
int apf_ldap_rc_errno(int rc);
/* Parses an LDAP GeneralizedTime ("20240101120000.0Z") into UTC time_t. -EINVAL when malformed. */
int apf_ldap_parse_time(const char *s, time_t *out);

/*
 * Reads `dn`'s nTSecurityDescriptor (base search) with the SD-flags control
 * (MS-ADTS 3.1.1.3.4.1.11), asking only for the parts in `sd_flags`
 * (DACL_SECURITY_INFORMATION = 4): an ordinary account may read the DACL, not
 * the SACL. Returns 0 with the binary value in *sd (caller frees) and *len;
 * -ENOENT when the object has none or it was not returned, -EFBIG beyond 128 KiB,
 * or the errors of apf_ldap_search.
 */
int apf_ldap_read_sd(struct apf_ldap *l, const char *dn, unsigned int sd_flags, unsigned char **sd, size_t *len,
		     struct apf_ldap_status *st);
