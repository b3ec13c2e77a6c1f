/* SPDX-License-Identifier: MIT */
/*
 * libldap adapter (see ldap.h). libldap codes are translated to negative
 * errno here, once; its own text goes into apf_ldap_status for evidence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>
#include <openldap.h> /* ldap_init_fd */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ldap.h"
#include "alloc.h"
#include "net/ldap_decode.h"
#include "net/tcp.h"
#include "util.h"

/* Caps on what a (possibly hostile) server can make us hold. */
#define APF_LDAP_MAX_PDU (8u * 1024 * 1024)
#define APF_LDAP_MAX_VALUES_BYTES (4u * 1024 * 1024)
#define APF_LDAP_MAX_DIAG 512
#define APF_LDAP_DEFAULT_SIZE_LIMIT 1000

struct apf_ldap {
	LDAP *ld;
	unsigned int timeout_ms;
	uint64_t deadline_ms; /* 0 = none */
	char *host_name; /* the name the certificate must carry */
	bool tls_active;
	struct apf_ldap_tls_info tls;
};

/* ---- decoding helpers ------------------------------------------------------ */

struct ad_data_entry {
	unsigned int code;
	const char *text;
};

/* AD's sub-codes of invalidCredentials (49), hex as they appear after "data ". Sorted. */
static const struct ad_data_entry ad_data_table[] = {
	{0x51f, "no logon server could be reached for the account's domain (wrong domain or realm in the bind name)"},
	{0x525, "user not found"},
	{0x52e, "invalid credentials: the user exists but the password is wrong"},
	{0x52f, "account restrictions prevent this logon"},
	{0x530, "logon not permitted at this time (logon hours)"},
	{0x531, "logon not permitted from this workstation"},
	{0x532, "password expired"},
	{0x533, "account disabled"},
	{0x534, "the user has not been granted the requested logon type"},
	{0x568, "too many security IDs in the user's token"},
	{0x701, "account expired"},
	{0x773, "the user must reset the password before logging on"},
	{0x775, "account locked out"},
};

const char *apf_ldap_ad_data_text(unsigned int code)
{
	for (size_t i = 0; i < sizeof(ad_data_table) / sizeof(ad_data_table[0]); i++)
		if (ad_data_table[i].code == code)
			return ad_data_table[i].text;
	return NULL;
}

bool apf_ldap_parse_ad_data(const char *diag, unsigned int *out)
{
	const char *p;
	unsigned long v;
	char *end;

	if (!diag)
		return false;
	/* AD: "80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data 52e, v4563" */
	for (p = diag; (p = strstr(p, "data ")) != NULL; p += 5) {
		if (p != diag && p[-1] != ' ' && p[-1] != ',')
			continue;
		errno = 0;
		v = strtoul(p + 5, &end, 16);
		if (end == p + 5 || errno || v > 0xffffu)
			continue;
		if (*end != ',' && *end != '\0' && *end != ' ')
			continue;
		*out = (unsigned int)v;
		return true;
	}
	return false;
}

struct rc_entry {
	int rc;
	int err;
	const char *explain;
};

/* One table for the errno mapping and the admin-facing explanation. */
static const struct rc_entry rc_table[] = {
	{LDAP_SUCCESS, 0, "success"},
	{LDAP_OPERATIONS_ERROR, -EACCES,
	 "operations error; Active Directory and Samba answer this when an operation below the rootDSE needs a bind first"},
	{LDAP_PROTOCOL_ERROR, -EPROTO, "protocol error: the server did not understand the request"},
	{LDAP_TIMELIMIT_EXCEEDED, -ETIMEDOUT, "the server's time limit for the operation was exceeded"},
	{LDAP_SIZELIMIT_EXCEEDED, 0, "more entries than the size limit; the result is partial"},
	{LDAP_AUTH_METHOD_NOT_SUPPORTED, -ENOTSUP, "the server does not support this authentication method"},
	{LDAP_STRONG_AUTH_REQUIRED, -EACCES,
	 "the server requires a stronger authentication (signing or TLS): the DC policy 'LDAP server signing requirements' refuses simple binds in clear"},
	{LDAP_CONFIDENTIALITY_REQUIRED, -EACCES, "the server requires TLS for this operation"},
	{LDAP_NO_SUCH_OBJECT, -ENOENT, "the object does not exist (wrong DN or naming context)"},
	{LDAP_INAPPROPRIATE_AUTH, -EACCES, "inappropriate authentication (e.g. an anonymous bind with a DN)"},
	{LDAP_INVALID_CREDENTIALS, -EACCES, "invalid credentials: the bind DN or password was refused"},
	{LDAP_INSUFFICIENT_ACCESS, -EACCES, "the bound account may not read or do this"},
	{LDAP_BUSY, -EAGAIN, "the server is busy"},
	{LDAP_UNAVAILABLE, -EAGAIN, "the server is unavailable (shutting down or not yet ready)"},
	{LDAP_UNWILLING_TO_PERFORM, -EPROTO, "the server is unwilling to perform the operation"},
	{LDAP_AUTH_UNKNOWN, -ENOTSUP, "unknown authentication method: the SASL mechanism is not available on this host"},
	{LDAP_SERVER_DOWN, -ECONNREFUSED, "could not contact the LDAP server (refused, unreachable or connection dropped)"},
	{LDAP_LOCAL_ERROR, -EPROTO, "local error in the LDAP client library"},
	{LDAP_TIMEOUT, -ETIMEDOUT, "timed out waiting for the server"},
	{LDAP_PARAM_ERROR, -EINVAL, "bad parameter to the LDAP client library"},
	{LDAP_NO_MEMORY, -ENOMEM, "out of memory"},
	{LDAP_CONNECT_ERROR, -ECONNRESET, "connect error: TLS handshake or StartTLS failed"},
	{LDAP_NOT_SUPPORTED, -ENOTSUP, "not supported by the LDAP client library"},
	{LDAP_DECODING_ERROR, -EPROTO, "the server's answer could not be decoded"},
};

static const struct rc_entry *rc_find(int rc)
{
	for (size_t i = 0; i < sizeof(rc_table) / sizeof(rc_table[0]); i++)
		if (rc_table[i].rc == rc)
			return &rc_table[i];
	return NULL;
}

int apf_ldap_rc_errno(int rc)
{
	const struct rc_entry *e = rc_find(rc);
	return e ? e->err : -EPROTO;
}

const char *apf_ldap_rc_explain(int rc)
{
	const struct rc_entry *e = rc_find(rc);
	return e ? e->explain : "unexpected LDAP result";
}

int apf_ldap_parse_time(const char *s, time_t *out)
{
	struct tm tm = {0};
	int n = 0;

	if (!s || strlen(s) < 15)
		return -EINVAL;
	for (int i = 0; i < 14; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	if (sscanf(s, "%4d%2d%2d%2d%2d%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || n != 14)
		return -EINVAL;
	/* AD writes UTC with an optional fraction: "20240101120000.0Z". Anything else is not UTC. */
	const char *p = s + 14;
	if (*p == '.' || *p == ',') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0)
		return -EINVAL;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
}

/* ---- status --------------------------------------------------------------- */

void apf_ldap_status_clear(struct apf_ldap_status *st)
{
	if (!st)
		return;
	free(st->rc_text);
	free(st->diag);
	memset(st, 0, sizeof(*st));
}

static char *dup_capped(const char *s, size_t cap)
{
	size_t n;
	char *r;

	if (!s)
		return NULL;
	n = strnlen(s, cap);
	r = apf_xmalloc(n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	/* diagnostics go into reports: keep them printable */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || r[i] == 0x7f)
			r[i] = ' ';
	return r;
}

static void status_set(struct apf_ldap_status *st, int rc, const char *diag)
{
	if (!st)
		return;
	apf_ldap_status_clear(st);
	st->rc = rc;
	st->rc_text = apf_xstrdup(ldap_err2string(rc));
	if (diag && *diag) {
		st->diag = dup_capped(diag, APF_LDAP_MAX_DIAG);
		st->has_ad_data = apf_ldap_parse_ad_data(st->diag, &st->ad_data);
	}
}

/* The handle's last error and diagnostic, for client-side failures. */
static void status_from_ld(struct apf_ldap_status *st, LDAP *ld, int rc)
{
	char *diag = NULL;

	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	status_set(st, rc, diag);
	ldap_memfree(diag);
}

static struct timeval ms_to_tv(unsigned int ms)
{
	struct timeval tv;

	if (ms == 0)
		ms = 1; /* 0 would mean "no limit" to libldap */
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (long)(ms % 1000) * 1000;
	return tv;
}

/* The bound of the next wait on `l`: its per-operation timeout, cut to what is
 * left before its deadline (at least 1 ms: 0 would mean "no limit" to libldap). */
static unsigned int op_timeout(const struct apf_ldap *l)
{
	uint64_t now = apf_now_ms();
	unsigned int ms = l->timeout_ms;

	if (l->deadline_ms) {
		uint64_t left = now >= l->deadline_ms ? 0 : l->deadline_ms - now;
		if (left < ms)
			ms = (unsigned int)left;
	}
	return ms ? ms : 1;
}

/* ---- TLS -------------------------------------------------------------------- */

static char *name_to_str(const X509_NAME *nm)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *r = NULL;
	long n;

	if (!b)
		return NULL;
	if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(b, &data);
		if (n >= 0 && data) {
			r = apf_xmalloc((size_t)n + 1);
			memcpy(r, data, (size_t)n);
			r[n] = '\0';
		}
	}
	BIO_free(b);
	return r;
}

/*
 * Verifies the server certificate with OpenSSL. libldap's TLS backend differs
 * between builds (Debian's is GnuTLS), so only its backend-neutral options are
 * used: the peer certificate as DER and the protocol name. libldap itself runs
 * with "allow", so a bad certificate still completes the handshake and becomes
 * a finding. Only the leaf is available, so the CA bundle must hold the DC
 * certificate's issuing CA as well as the root.
 */
static void tls_verify(struct apf_ldap_tls_info *t, X509 *peer, const char *ca_file, const char *host_name)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();

	if (!store || !vctx) {
		t->verify_code = X509_V_ERR_OUT_OF_MEM;
		goto out;
	}
	if (ca_file ? X509_STORE_load_file(store, ca_file) != 1 : X509_STORE_set_default_paths(store) != 1) {
		t->verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
		t->verify_error = apf_xasprintf("cannot load the CA bundle %s", ca_file ? ca_file : "(system default)");
		goto out;
	}
	if (X509_STORE_CTX_init(vctx, store, peer, NULL) != 1) {
		t->verify_code = X509_V_ERR_UNSPECIFIED;
		goto out;
	}
	X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
	if (host_name) {
		X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(vctx);
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(param, host_name, 0);
	}
	t->verify_code = X509_verify_cert(vctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(vctx);
	if (t->verify_code == X509_V_OK && X509_STORE_CTX_get_error(vctx) != X509_V_OK)
		t->verify_code = X509_STORE_CTX_get_error(vctx);
out:
	t->verified = t->verify_code == X509_V_OK;
	if (!t->verified && !t->verify_error)
		t->verify_error = apf_xstrdup(X509_verify_cert_error_string(t->verify_code));
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	ERR_clear_error();
}

static void tls_info_fill(struct apf_ldap *l, const char *ca_file)
{
	struct berval bv = {0};
	char *version = NULL;
	X509 *peer = NULL;
	const unsigned char *p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct tm tm;

	l->tls.active = true;
	if (ldap_get_option(l->ld, LDAP_OPT_X_TLS_VERSION, &version) == LDAP_OPT_SUCCESS && version) {
		l->tls.protocol = apf_xstrdup(version);
		ldap_memfree(version);
	}
	if (ldap_get_option(l->ld, LDAP_OPT_X_TLS_PEERCERT, &bv) == LDAP_OPT_SUCCESS && bv.bv_val && bv.bv_len) {
		p = (const unsigned char *)bv.bv_val;
		peer = d2i_X509(NULL, &p, (long)bv.bv_len);
	}
	ber_memfree(bv.bv_val);
	if (!peer) {
		l->tls.verify_code = X509_V_ERR_UNSPECIFIED;
		l->tls.verify_error = apf_xstrdup("the server sent no readable certificate");
		ERR_clear_error();
		return;
	}
	tls_verify(&l->tls, peer, ca_file, l->host_name);
	l->tls.peer_subject = name_to_str(X509_get_subject_name(peer));
	l->tls.peer_issuer = name_to_str(X509_get_issuer_name(peer));
	if (X509_digest(peer, EVP_sha1(), md, &mdlen) == 1) {
		l->tls.peer_sha1 = apf_xmalloc(mdlen * 2 + 1);
		for (unsigned int i = 0; i < mdlen; i++)
			snprintf(l->tls.peer_sha1 + 2 * i, 3, "%02x", md[i]);
	}
	if (ASN1_TIME_to_tm(X509_get0_notAfter(peer), &tm) == 1)
		l->tls.peer_not_after = timegm(&tm);
	X509_free(peer);
}

static void tls_info_clear(struct apf_ldap_tls_info *t)
{
	free(t->verify_error);
	free(t->peer_subject);
	free(t->peer_issuer);
	free(t->peer_sha1);
	free(t->protocol);
	memset(t, 0, sizeof(*t));
}

/* ---- connection ----------------------------------------------------------- */

static char *make_uri(const char *scheme, const char *host, uint16_t port)
{
	/* IPv6 literals need brackets in a URI */
	if (strchr(host, ':'))
		return apf_xasprintf("%s://[%s]:%u", scheme, host, (unsigned int)port);
	return apf_xasprintf("%s://%s:%u", scheme, host, (unsigned int)port);
}

static int set_common_options(LDAP *ld, unsigned int timeout_ms)
{
	int version = LDAP_VERSION3;
	struct timeval tv = ms_to_tv(timeout_ms);

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
		return -EINVAL;
	return 0;
}

/* Caps a single incoming PDU; without it a server could make libldap buffer anything. */
static void cap_incoming(LDAP *ld)
{
	Sockbuf *sb = NULL;
	ber_len_t max = APF_LDAP_MAX_PDU;

	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb)
		ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);
}

/*
 * The TLS handshake, bounded. libldap 2.5 runs it non-blocking when a network
 * timeout is set, but polls between the steps only in "async" mode; otherwise
 * it retries at once, so a server that accepts and then sends nothing keeps the
 * thread spinning until the check's deadline. The socket is ours and already
 * non-blocking (apf_tcp_connect), so async mode changes nothing else here.
 */
static int tls_handshake(struct apf_ldap *l, enum apf_ldap_tls mode)
{
	struct timeval tv = ms_to_tv(op_timeout(l));

	if (ldap_set_option(l->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(l->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS)
		return LDAP_PARAM_ERROR;
	return mode == APF_LDAP_TLS_STARTTLS ? ldap_start_tls_s(l->ld, NULL, NULL) : ldap_install_tls(l->ld);
}

int apf_ldap_open(const struct apf_ldap_opts *o, struct apf_ldap **out, struct apf_ldap_status *st)
{
	struct apf_ldap *l = NULL;
	char *uri = NULL;
	int rc = 0, lrc, fd = -1;
	uint16_t port;

	*out = NULL;
	if (!o || !o->ip || !*o->ip) {
		status_set(st, LDAP_PARAM_ERROR, "no address to connect to");
		return -EINVAL;
	}
	port = o->port ? o->port : (o->tls == APF_LDAP_TLS_LDAPS ? 636 : 389);
	uri = make_uri(o->tls == APF_LDAP_TLS_LDAPS ? "ldaps" : "ldap", o->ip, port);

	l = apf_xcalloc(1, sizeof(*l));
	l->timeout_ms = o->timeout_ms;
	l->deadline_ms = o->deadline_ms;
	l->host_name = o->host_name ? apf_xstrdup(o->host_name) : NULL;

	/* Our own connect, so that every wait until the first PDU is bounded. */
	rc = apf_tcp_connect(o->ip, port, op_timeout(l), &fd);
	if (rc < 0) {
		status_set(st, rc == -ETIMEDOUT ? LDAP_TIMEOUT : rc == -EINVAL ? LDAP_PARAM_ERROR : LDAP_SERVER_DOWN,
			   strerror(-rc));
		if (rc != -ETIMEDOUT && rc != -EINVAL)
			rc = -ECONNREFUSED;
		goto out;
	}
	lrc = ldap_init_fd(fd, LDAP_PROTO_TCP, uri, &l->ld);
	if (lrc != LDAP_SUCCESS) {
		status_set(st, lrc, uri);
		rc = -EINVAL;
		goto out;
	}
	fd = -1; /* the handle closes it now */
	if (set_common_options(l->ld, op_timeout(l)) < 0) {
		status_from_ld(st, l->ld, LDAP_PARAM_ERROR);
		rc = -EINVAL;
		goto out;
	}
	cap_incoming(l->ld);
	if (o->tls != APF_LDAP_TLS_NONE) {
		/* ALLOW: finish the handshake whatever the certificate, so that a bad
		 * certificate becomes a finding with its reason, not a connect error. */
		int req = LDAP_OPT_X_TLS_ALLOW, newctx = 0;

		if (ldap_set_option(l->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req) != LDAP_OPT_SUCCESS) {
			status_from_ld(st, l->ld, LDAP_PARAM_ERROR);
			rc = -EINVAL;
			goto out;
		}
		/* a context of our own, so handles on other threads keep theirs */
		if (ldap_set_option(l->ld, LDAP_OPT_X_TLS_NEWCTX, &newctx) != LDAP_OPT_SUCCESS) {
			status_from_ld(st, l->ld, LDAP_LOCAL_ERROR);
			rc = -EINVAL;
			goto out;
		}
		lrc = tls_handshake(l, o->tls);
		if (lrc != LDAP_SUCCESS) {
			status_from_ld(st, l->ld, lrc);
			rc = apf_ldap_rc_errno(lrc);
			/* the server answered but refused or broke the handshake */
			if (rc != -ETIMEDOUT)
				rc = -ECONNRESET;
			goto out;
		}
		tls_info_fill(l, o->ca_file);
	}
	status_set(st, LDAP_SUCCESS, NULL);
	*out = l;
	l = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(uri);
	apf_ldap_close(l);
	return rc;
}

void apf_ldap_close(struct apf_ldap *l)
{
	if (!l)
		return;
	if (l->ld)
		ldap_unbind_ext_s(l->ld, NULL, NULL);
	tls_info_clear(&l->tls);
	free(l->host_name);
	free(l);
}

const struct apf_ldap_tls_info *apf_ldap_tls(const struct apf_ldap *l)
{
	return &l->tls;
}

/* Waits for the result of `msgid`, bounded by the handle's timeout, and parses it. */
static int wait_result(struct apf_ldap *l, int msgid, struct apf_ldap_status *st)
{
	LDAPMessage *res = NULL;
	struct timeval tv = ms_to_tv(op_timeout(l));
	char *diag = NULL;
	int err = LDAP_SUCCESS, lrc;

	lrc = ldap_result(l->ld, msgid, LDAP_MSG_ALL, &tv, &res);
	if (lrc == 0) {
		ldap_abandon_ext(l->ld, msgid, NULL, NULL);
		status_set(st, LDAP_TIMEOUT, NULL);
		return -ETIMEDOUT;
	}
	if (lrc < 0) {
		ldap_get_option(l->ld, LDAP_OPT_RESULT_CODE, &err);
		status_from_ld(st, l->ld, err ? err : LDAP_SERVER_DOWN);
		return apf_ldap_rc_errno(err ? err : LDAP_SERVER_DOWN);
	}
	lrc = ldap_parse_result(l->ld, res, &err, NULL, &diag, NULL, NULL, 1);
	if (lrc != LDAP_SUCCESS)
		err = lrc;
	status_set(st, err, diag);
	ldap_memfree(diag);
	return apf_ldap_rc_errno(err);
}

int apf_ldap_bind_simple(struct apf_ldap *l, const char *dn, const char *password, bool allow_cleartext,
			 struct apf_ldap_status *st)
{
	struct berval cred;
	int msgid = -1, lrc;

	if (password && *password && !l->tls.active && !allow_cleartext) {
		status_set(st, LDAP_CONFIDENTIALITY_REQUIRED, "refused locally: no password is sent without TLS");
		return -EPERM;
	}
	cred.bv_val = (char *)(password ? password : "");
	cred.bv_len = password ? strlen(password) : 0;
	lrc = ldap_sasl_bind(l->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	if (lrc != LDAP_SUCCESS) {
		status_from_ld(st, l->ld, lrc);
		return apf_ldap_rc_errno(lrc);
	}
	return wait_result(l, msgid, st);
}

bool apf_ldap_have_krb5_ticket(void)
{
	const char *cc = getenv("KRB5CCNAME");
	char path[64];
	struct stat sb;

	if (cc && *cc) {
		/* only FILE: caches can be seen without asking Kerberos; assume other kinds hold one */
		if (strncmp(cc, "FILE:", 5) == 0)
			return stat(cc + 5, &sb) == 0 && sb.st_size > 0;
		if (cc[0] == '/')
			return stat(cc, &sb) == 0 && sb.st_size > 0;
		return true;
	}
	snprintf(path, sizeof(path), "/tmp/krb5cc_%u", (unsigned int)getuid());
	return stat(path, &sb) == 0 && sb.st_size > 0;
}

/* GSSAPI asks no questions (the ticket is in the credential cache); without
 * libsasl2's headers we cannot answer any, so none are answered. */
static int sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	(void)in;
	return LDAP_SUCCESS;
}

int apf_ldap_bind_gssapi(struct apf_ldap *l, struct apf_ldap_status *st)
{
	int lrc;

	/* The synchronous SASL exchange waits by LDAP_OPT_TIMEOUT: bound it by the deadline too. */
	if (set_common_options(l->ld, op_timeout(l)) < 0) {
		status_from_ld(st, l->ld, LDAP_PARAM_ERROR);
		return -EINVAL;
	}
	lrc = ldap_sasl_interactive_bind_s(l->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET, sasl_interact, NULL);
	status_from_ld(st, l->ld, lrc);
	return apf_ldap_rc_errno(lrc);
}

/* ---- search ----------------------------------------------------------------- */

static void entry_clear(struct apf_ldap_entry *e)
{
	free(e->dn);
	for (size_t i = 0; i < e->n_attrs; i++) {
		for (size_t j = 0; j < e->attrs[i].n_vals; j++)
			free(e->attrs[i].vals[j].data);
		free(e->attrs[i].vals);
		free(e->attrs[i].name);
	}
	free(e->attrs);
}

void apf_ldap_result_free(struct apf_ldap_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_entries; i++)
		entry_clear(&r->entries[i]);
	free(r->entries);
	free(r);
}

/* What each value costs beyond its bytes (struct, allocation): charged too, so
 * that a PDU of a million empty values cannot make us hold far more than it. */
#define APF_LDAP_VALUE_OVERHEAD 32u

int apf_ldap_decode_attrs(BerElement *ber, struct apf_ldap_entry *e, size_t *budget)
{
	ber_len_t len;

	/* The attribute list ends where the next element is not a SEQUENCE
	 * (controls, or the end of the message). */
	while (ber_peek_tag(ber, &len) == LBER_SEQUENCE) {
		struct berval type = {0}, *vals = NULL;
		ber_len_t siz = sizeof(struct berval);
		struct apf_ldap_attr *at;
		size_t nv = 0;
		int rc = 0;

		/* "m": the type in place; "M": the values as bervals pointing into the PDU */
		if (ber_scanf(ber, "{mM}", &type, &vals, &siz, (ber_len_t)0) == LBER_ERROR)
			return -EPROTO;
		while (vals && vals[nv].bv_val)
			nv++;
		if (type.bv_len + APF_LDAP_VALUE_OVERHEAD >= *budget) {
			ber_memfree(vals);
			return -EFBIG;
		}
		*budget -= type.bv_len + APF_LDAP_VALUE_OVERHEAD;
		e->attrs = apf_xrealloc(e->attrs, (e->n_attrs + 1) * sizeof(*e->attrs));
		at = &e->attrs[e->n_attrs++];
		at->name = apf_xasprintf("%.*s", (int)strnlen(type.bv_val ? type.bv_val : "", type.bv_len),
					 type.bv_val ? type.bv_val : "");
		at->vals = nv ? apf_xcalloc(nv, sizeof(*at->vals)) : NULL;
		at->n_vals = 0;
		for (size_t i = 0; i < nv; i++) {
			if (vals[i].bv_len + APF_LDAP_VALUE_OVERHEAD >= *budget) {
				rc = -EFBIG;
				break;
			}
			*budget -= vals[i].bv_len + APF_LDAP_VALUE_OVERHEAD;
			at->vals[i].data = apf_xmalloc(vals[i].bv_len + 1);
			memcpy(at->vals[i].data, vals[i].bv_val, vals[i].bv_len);
			at->vals[i].data[vals[i].bv_len] = '\0';
			at->vals[i].len = vals[i].bv_len;
			at->n_vals++;
		}
		ber_memfree(vals);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Copies one entry message, charging it against *budget: 0, -EFBIG when the
 * budget ran out (the entry holds what fitted), -EPROTO when it does not decode. */
static int copy_entry(LDAP *ld, LDAPMessage *msg, struct apf_ldap_entry *e, size_t *budget)
{
	BerElement *ber = NULL;
	struct berval dn = {0};
	int rc;

	if (ldap_get_dn_ber(ld, msg, &ber, &dn) != LDAP_SUCCESS) {
		e->dn = apf_xstrdup("");
		rc = -EPROTO;
		goto out;
	}
	e->dn = apf_xasprintf("%.*s", (int)strnlen(dn.bv_val ? dn.bv_val : "", dn.bv_len), dn.bv_val ? dn.bv_val : "");
	rc = dn.bv_len >= *budget ? -EFBIG : 0;
	if (rc == 0) {
		*budget -= dn.bv_len;
		rc = apf_ldap_decode_attrs(ber, e, budget);
	}
out:
	ber_free(ber, 0);
	return rc;
}

/* Why a search stopped before the server's final result. */
enum search_stop {
	SEARCH_DONE,      /* the server's SearchResultDone came */
	SEARCH_CAPPED,    /* size limit or byte budget reached: abandoned, result truncated */
};

/*
 * Searches, reading the server's answer one message at a time: a server that
 * ignores the size limit and streams entries is cut off (abandoned) as soon as
 * the size limit or the byte budget is reached, so what we hold stays bounded
 * whatever it sends. `timeout_ms` bounds the whole search.
 */
static int search_ld(LDAP *ld, unsigned int timeout_ms, const char *base, int scope, const char *filter,
		     const char *const *attrs, int size_limit, struct apf_ldap_result **out, struct apf_ldap_status *st)
{
	LDAPMessage *msg = NULL;
	struct timeval tv = ms_to_tv(timeout_ms);
	struct apf_ldap_result *r = NULL;
	size_t budget = APF_LDAP_MAX_VALUES_BYTES;
	uint64_t deadline = apf_now_ms() + timeout_ms;
	enum search_stop stop = SEARCH_DONE;
	char *diag = NULL;
	int lrc, err = LDAP_SUCCESS, rc = 0, msgid = -1;

	*out = NULL;
	if (size_limit <= 0)
		size_limit = APF_LDAP_DEFAULT_SIZE_LIMIT;
	lrc = ldap_search_ext(ld, base, scope, filter ? filter : "(objectClass=*)", (char **)attrs, 0, NULL, NULL, &tv,
			      size_limit, &msgid);
	if (lrc != LDAP_SUCCESS) {
		status_from_ld(st, ld, lrc);
		rc = apf_ldap_rc_errno(lrc);
		if (rc == 0)
			rc = -EPROTO;
		goto out;
	}
	r = apf_xcalloc(1, sizeof(*r));
	for (;;) {
		uint64_t now = apf_now_ms();
		int type;

		tv = ms_to_tv(now >= deadline ? 1 : (unsigned int)(deadline - now));
		lrc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
		if (lrc == 0) {
			ldap_abandon_ext(ld, msgid, NULL, NULL);
			status_set(st, LDAP_TIMEOUT, NULL);
			rc = -ETIMEDOUT;
			goto out;
		}
		if (lrc < 0) {
			ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
			status_from_ld(st, ld, err ? err : LDAP_SERVER_DOWN);
			rc = apf_ldap_rc_errno(err ? err : LDAP_SERVER_DOWN);
			if (rc == 0)
				rc = -EPROTO;
			goto out;
		}
		type = ldap_msgtype(msg);
		if (type == LDAP_RES_SEARCH_RESULT)
			break;
		if (type == LDAP_RES_SEARCH_ENTRY) {
			if (r->n_entries >= (size_t)size_limit) {
				stop = SEARCH_CAPPED;
				break;
			}
			r->entries = apf_xrealloc(r->entries, (r->n_entries + 1) * sizeof(*r->entries));
			memset(&r->entries[r->n_entries], 0, sizeof(*r->entries));
			rc = copy_entry(ld, msg, &r->entries[r->n_entries++], &budget);
			if (rc == -EFBIG) {
				rc = 0;
				stop = SEARCH_CAPPED;
				break;
			}
			if (rc < 0) {
				ldap_abandon_ext(ld, msgid, NULL, NULL);
				status_set(st, LDAP_DECODING_ERROR, "the server sent an entry that does not decode");
				goto out;
			}
		}
		/* references (referrals are off) and intermediate responses: not ours to follow */
		ldap_msgfree(msg);
		msg = NULL;
	}
	if (stop == SEARCH_CAPPED) {
		/* Stop the server's stream; what it already sent is discarded as it arrives. */
		ldap_abandon_ext(ld, msgid, NULL, NULL);
		r->truncated = true;
		status_set(st, LDAP_SIZELIMIT_EXCEEDED, "stopped reading: size limit or byte cap reached");
	} else {
		if (ldap_parse_result(ld, msg, &err, NULL, &diag, NULL, NULL, 0) != LDAP_SUCCESS)
			err = LDAP_DECODING_ERROR;
		if (err == LDAP_SIZELIMIT_EXCEEDED)
			r->truncated = true;
		status_set(st, err, diag);
		rc = apf_ldap_rc_errno(err);
	}
	if (rc == 0) {
		*out = r;
		r = NULL;
	}
out:
	ldap_memfree(diag);
	ldap_msgfree(msg);
	apf_ldap_result_free(r);
	return rc;
}

int apf_ldap_search(struct apf_ldap *l, const char *base, enum apf_ldap_scope scope, const char *filter,
		    const char *const *attrs, int size_limit, struct apf_ldap_result **out,
		    struct apf_ldap_status *st)
{
	return search_ld(l->ld, op_timeout(l), base, (int)scope, filter, attrs, size_limit, out, st);
}

const struct apf_ldap_attr *apf_ldap_entry_attr(const struct apf_ldap_entry *e, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < e->n_attrs; i++) {
		const char *a = e->attrs[i].name;
		/* "cACertificate;binary" answers for "cACertificate" */
		if (strncasecmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == ';'))
			return &e->attrs[i];
	}
	return NULL;
}

const char *apf_ldap_entry_str(const struct apf_ldap_entry *e, const char *name)
{
	const struct apf_ldap_attr *a = apf_ldap_entry_attr(e, name);
	return a && a->n_vals ? (const char *)a->vals[0].data : NULL;
}

bool apf_ldap_attr_has(const struct apf_ldap_attr *a, const char *value)
{
	if (!a)
		return false;
	for (size_t i = 0; i < a->n_vals; i++)
		if (strcasecmp((const char *)a->vals[i].data, value) == 0)
			return true;
	return false;
}

char *apf_ldap_attr_join(const struct apf_ldap_attr *a)
{
	char *r = apf_xstrdup("");

	for (size_t i = 0; a && i < a->n_vals && strlen(r) < 2048; i++) {
		char *n = apf_xasprintf("%s%s%s", r, i ? ", " : "", (const char *)a->vals[i].data);
		free(r);
		r = n;
	}
	return r;
}

/* ---- ldap:// URLs (CRL and AIA distribution points) ------------------------ */

/* Takes the first value of the first attribute of the first entry, capped. */
static int take_first_value(struct apf_ldap_result *res, size_t max_bytes, unsigned char **data, size_t *len,
			    char **err_out)
{
	struct apf_ldap_value *v;

	if (!res || !res->n_entries || !res->entries[0].n_attrs || !res->entries[0].attrs[0].n_vals) {
		if (err_out)
			*err_out = apf_xstrdup("the object or attribute named in the URL is empty or absent");
		return -ENOENT;
	}
	v = &res->entries[0].attrs[0].vals[0];
	if (v->len > max_bytes) {
		if (err_out)
			*err_out = apf_xasprintf("value larger than %zu bytes", max_bytes);
		return -EFBIG;
	}
	*len = v->len;
	*data = v->data;
	v->data = NULL; /* moved to the caller */
	v->len = 0;
	return 0;
}

static char *status_err(const struct apf_ldap_status *st)
{
	return apf_xasprintf("LDAP %d (%s)%s%s", st->rc, st->rc_text ? st->rc_text : "?", st->diag ? ": " : "",
			     st->diag ? st->diag : "");
}

int apf_ldap_url_fetch_on(struct apf_ldap *l, const char *url, size_t max_bytes, unsigned char **data, size_t *len,
			  char **err_out)
{
	LDAPURLDesc *lud = NULL;
	struct apf_ldap_result *res = NULL;
	struct apf_ldap_status st = {0};
	int rc;

	*data = NULL;
	*len = 0;
	if (err_out)
		*err_out = NULL;
	if (ldap_url_parse(url, &lud) != LDAP_URL_SUCCESS) {
		if (err_out)
			*err_out = apf_xstrdup("not a valid LDAP URL");
		return -EINVAL;
	}
	if (!lud->lud_attrs || !lud->lud_attrs[0] || !lud->lud_dn) {
		if (err_out)
			*err_out = apf_xstrdup("the URL names no object or no attribute");
		rc = -EINVAL;
		goto out;
	}
	rc = search_ld(l->ld, op_timeout(l), lud->lud_dn, lud->lud_scope < 0 ? LDAP_SCOPE_BASE : lud->lud_scope,
		       lud->lud_filter, (const char *const *)lud->lud_attrs, 1, &res, &st);
	if (rc < 0) {
		if (err_out)
			*err_out = status_err(&st);
		goto out;
	}
	rc = take_first_value(res, max_bytes, data, len, err_out);
out:
	apf_ldap_result_free(res);
	apf_ldap_status_clear(&st);
	ldap_free_urldesc(lud);
	return rc;
}

int apf_ldap_url_host(const char *url, char **host_out, uint16_t *port_out, bool *ldaps_out)
{
	LDAPURLDesc *lud = NULL;
	bool ldaps;

	*host_out = NULL;
	if (ldap_url_parse(url, &lud) != LDAP_URL_SUCCESS)
		return -EINVAL;
	ldaps = strcasecmp(lud->lud_scheme, "ldaps") == 0;
	if (lud->lud_host && *lud->lud_host)
		*host_out = apf_xstrdup(lud->lud_host);
	*port_out = (uint16_t)(lud->lud_port > 0 && lud->lud_port < 65536 ? lud->lud_port : (ldaps ? 636 : 389));
	*ldaps_out = ldaps;
	ldap_free_urldesc(lud);
	return 0;
}

int apf_ldap_url_fetch(const char *url, const char *ip, size_t max_bytes, unsigned int timeout_ms,
		       unsigned char **data, size_t *len, char **err_out)
{
	struct apf_ldap *l = NULL;
	struct apf_ldap_status st = {0};
	struct apf_ldap_opts o = {.ip = ip, .timeout_ms = timeout_ms, .deadline_ms = apf_now_ms() + timeout_ms};
	char *host = NULL;
	bool ldaps = false;
	int rc;

	*data = NULL;
	*len = 0;
	*err_out = NULL;
	if (apf_ldap_url_host(url, &host, &o.port, &ldaps) < 0) {
		*err_out = apf_xstrdup("not a valid LDAP URL");
		return -EINVAL;
	}
	/* Anonymous, and the transport is not verified: what comes back is a signed
	 * certificate or CRL, judged on its own signature by the caller. */
	o.tls = ldaps ? APF_LDAP_TLS_LDAPS : APF_LDAP_TLS_NONE;
	rc = apf_ldap_open(&o, &l, &st);
	if (rc < 0) {
		*err_out = status_err(&st);
		goto out;
	}
	rc = apf_ldap_url_fetch_on(l, url, max_bytes, data, len, err_out);
out:
	apf_ldap_close(l);
	apf_ldap_status_clear(&st);
	free(host);
	return rc;
}

/* ---- security descriptors ---------------------------------------------------- */

/* LDAP_SERVER_SD_FLAGS_OID (MS-ADTS 3.1.1.3.4.1.11): without it AD returns
 * nTSecurityDescriptor only to callers who may read the SACL (admins). */
#define APF_LDAP_SD_FLAGS_OID "1.2.840.113556.1.4.801"
/* A DACL's size field is 16 bits; owner, group and headers add little. */
#define APF_LDAP_MAX_SD_BYTES (128u * 1024)

int apf_ldap_read_sd(struct apf_ldap *l, const char *dn, unsigned int sd_flags, unsigned char **sd, size_t *len,
		     struct apf_ldap_status *st)
{
	static char attr[] = "nTSecurityDescriptor";
	char *attrs[] = {attr, NULL};
	BerElement *ber = NULL;
	struct berval val = {0}, **vals = NULL;
	LDAPControl *ctrl = NULL, *ctrls[2] = {NULL, NULL};
	LDAPMessage *res = NULL, *e;
	struct timeval tv = ms_to_tv(op_timeout(l));
	int lrc, rc;

	*sd = NULL;
	*len = 0;
	/* The control value is SDFlagsRequestValue ::= SEQUENCE { Flags INTEGER }. */
	ber = ber_alloc_t(LBER_USE_DER);
	if (!ber || ber_printf(ber, "{i}", (ber_int_t)sd_flags) < 0 || ber_flatten2(ber, &val, 0) < 0 ||
	    ldap_control_create(APF_LDAP_SD_FLAGS_OID, 1, &val, 1, &ctrl) != LDAP_SUCCESS) {
		rc = -ENOMEM;
		goto out;
	}
	ctrls[0] = ctrl;
	lrc = ldap_search_ext_s(l->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, ctrls, NULL, &tv, 1, &res);
	status_from_ld(st, l->ld, lrc);
	rc = apf_ldap_rc_errno(lrc);
	if (rc < 0)
		goto out;
	e = ldap_first_entry(l->ld, res);
	vals = e ? ldap_get_values_len(l->ld, e, attr) : NULL;
	if (!vals || !vals[0]) {
		rc = -ENOENT;
		goto out;
	}
	if (vals[0]->bv_len > APF_LDAP_MAX_SD_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	*sd = apf_xmalloc(vals[0]->bv_len ? vals[0]->bv_len : 1);
	memcpy(*sd, vals[0]->bv_val, vals[0]->bv_len);
	*len = vals[0]->bv_len;
out:
	ber_bvecfree(vals);
	ldap_msgfree(res);
	ldap_control_free(ctrl);
	ber_free(ber, 1);
	return rc;
}
