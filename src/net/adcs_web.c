/* SPDX-License-Identifier: MIT */
/*
 * AD CS web enrollment client (see adcs_web.h). What is sent follows the form a
 * browser posts from /certsrv/certrqxt.asp ("Submit a saved request") to
 * certfnsh.asp: Mode=newreq, CertRequest=<PEM PKCS#10>, CertAttrib=
 * "CertificateTemplate:<name>\r\n", FriendlyType, TargetStoreFlags=0,
 * SaveCert=yes. An issued request's page links certnew.cer?ReqID=N&Enc=b64.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/adcs_web.h"
#include "alloc.h"
#include "result.h"
#include "util.h"

#define MAX_PAGE_BYTES (1024u * 1024)
#define USER_AGENT "Mozilla/5.0 (compatible; amt-preflight)"

enum apf_adcs_auth apf_adcs_auth_from_str(const char *s)
{
	if (s && strcasecmp(s, "negotiate") == 0)
		return APF_ADCS_AUTH_NEGOTIATE;
	if (s && strcasecmp(s, "ntlm") == 0)
		return APF_ADCS_AUTH_NTLM;
	if (s && strcasecmp(s, "basic") == 0)
		return APF_ADCS_AUTH_BASIC;
	return APF_ADCS_AUTH_ANY;
}

/* ---- URLs -------------------------------------------------------------------------- */

/* Host and port of an http(s) URL through libcurl's own parser (the one that will
 * connect), so the pinned address applies to exactly what libcurl would resolve. */
static int url_host_port(const char *url, char **host, long *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	int rc = -EINVAL;

	*host = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	*host = apf_xstrdup(h);
	*port = strtol(p, NULL, 10);
	rc = 0;
out:
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

char *apf_adcs_web_url_host(const char *url)
{
	char *host = NULL;
	long port;

	url_host_port(url, &host, &port);
	return host;
}

/* ---- the disposition page ------------------------------------------------------ */

/* Case-insensitive search in a buffer that may hold NULs. */
static const char *find_ci(const char *h, size_t hlen, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= hlen && i <= hlen - n; i++)
		if (strncasecmp(h + i, needle, n) == 0)
			return h + i;
	return NULL;
}

/* Reads decimal digits after `p` (up to `end`), skipping spaces; false when none or overflow. */
static bool read_id(const char *p, const char *end, unsigned long *out)
{
	unsigned long v = 0;
	bool any = false;

	while (p < end && *p == ' ')
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > 429496729ul)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		any = true;
	}
	*out = v;
	return any;
}

/* Copies [p, end) up to `stop` into dst as printable ASCII, tags dropped, spaces squeezed. */
static void copy_text(char *dst, size_t size, const char *p, const char *end, char stop)
{
	size_t n = 0;
	bool in_tag = false, space = false;

	for (; p < end && *p != stop && n + 1 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '<')
			in_tag = true;
		else if (c == '>')
			in_tag = false;
		else if (!in_tag) {
			if (isspace(c)) {
				space = n > 0;
				continue;
			}
			if (space && n + 2 < size)
				dst[n++] = ' ';
			space = false;
			dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
	}
	dst[n] = '\0';
}

void apf_adcs_page_parse(const char *body, size_t len, struct apf_adcs_page *out)
{
	const char *end = body + len, *p;

	memset(out, 0, sizeof(*out));
	if ((p = find_ci(body, len, "<title>")))
		copy_text(out->title, sizeof(out->title), p + 7, end, '<');
	/* Issued: the page offers the certificate as certnew.cer?ReqID=N&... */
	if ((p = find_ci(body, len, "certnew.cer?ReqID="))) {
		out->has_req_id = read_id(p + 18, end, &out->req_id);
		if (out->has_req_id) {
			out->disp = APF_ADCS_ISSUED;
			return;
		}
	}
	if ((p = find_ci(body, len, "Your Request Id is")))
		out->has_req_id = read_id(p + 18, end, &out->req_id);
	/* The denied page quotes the policy module: The disposition message is "...". */
	if ((p = find_ci(body, len, "The disposition message is")))
		if ((p = memchr(p, '"', (size_t)(end - p))))
			copy_text(out->message, sizeof(out->message), p + 1, end, '"');
	if (find_ci(body, len, "Certificate Pending"))
		out->disp = APF_ADCS_PENDING;
	else if (out->message[0] || find_ci(body, len, "Certificate Request Denied"))
		out->disp = APF_ADCS_DENIED;
}

/* ---- key and CSR ------------------------------------------------------------------- */

static bool fqdn_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* A fresh RSA 2048 key and a PEM CSR for fqdn; the key is freed at once (a test certificate). */
static int make_csr(const char *fqdn, char **pem_out)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *san = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	char *san_value = NULL;
	int rc = -EIO;

	*pem_out = NULL;
	key = EVP_RSA_gen(2048);
	req = X509_REQ_new();
	if (!key || !req || !X509_REQ_set_version(req, 0) || !X509_REQ_set_pubkey(req, key))
		goto out;
	name = X509_REQ_get_subject_name(req);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)fqdn, -1, -1, 0))
		goto out;
	/* fqdn_ok() ran: the value cannot smuggle other extension syntax in. */
	san_value = apf_xasprintf("DNS:%s", fqdn);
	san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san_value);
	exts = sk_X509_EXTENSION_new_null();
	if (!san || !exts || !sk_X509_EXTENSION_push(exts, san))
		goto out;
	san = NULL;
	if (!X509_REQ_add_extensions(req, exts) || !X509_REQ_sign(req, key, EVP_sha256()))
		goto out;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_X509_REQ(bio, req))
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	*pem_out = apf_xcalloc(1, mem->length + 1);
	memcpy(*pem_out, mem->data, mem->length);
	rc = 0;
out:
	free(san_value);
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	BIO_free(bio);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- HTTP -------------------------------------------------------------------------- */

struct sink {
	struct apf_buf b;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	/* A hostile server gets an error, not our memory. */
	if (s->b.len + n > MAX_PAGE_BYTES) {
		s->too_big = true;
		return 0;
	}
	apf_buf_add(&s->b, data, n);
	return n;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST: return -ENOENT;
	default: return -EPROTO;
	}
}

static long auth_mask(enum apf_adcs_auth a, bool https)
{
	switch (a) {
	case APF_ADCS_AUTH_NEGOTIATE: return (long)CURLAUTH_NEGOTIATE;
	case APF_ADCS_AUTH_NTLM: return (long)CURLAUTH_NTLM;
	case APF_ADCS_AUTH_BASIC: return (long)CURLAUTH_BASIC;
	default: return (long)(https ? CURLAUTH_ANY : CURLAUTH_ANYSAFE);
	}
}

/* One request on the shared handle, within what is left until deadline_ms (the
 * whole exchange shares one budget); the body lands in s (reset first). */
static int perform(CURL *h, const char *url, const char *post, uint64_t deadline_ms, struct sink *s, long *status,
		   char *errbuf, char **err_out)
{
	uint64_t now = apf_now_ms();
	long left = deadline_ms > now ? (long)(deadline_ms - now) : 1;
	CURLcode c;

	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, left);
	apf_buf_clear(&s->b);
	s->too_big = false;
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	errbuf[0] = '\0';
	c = curl_easy_perform(h);
	*status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (c != CURLE_OK) {
		*err_out = apf_xasprintf("%s: %s", url,
					 s->too_big ? "response larger than 1 MiB" : (errbuf[0] ? errbuf : curl_easy_strerror(c)));
		return curl_errno(c);
	}
	if (*status == 401 || *status == 403) {
		*err_out = apf_xasprintf("%s: HTTP %ld: the server refused the logon", url, *status);
		return -EACCES;
	}
	if (*status != 200) {
		*err_out = apf_xasprintf("%s: HTTP %ld", url, *status);
		return -EPROTO;
	}
	return 0;
}

static char *asn1_time_str(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[40];

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return apf_xstrdup("?");
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	return apf_xstrdup(buf);
}

static char *name_str(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *r;

	if (!b)
		return apf_xstrdup("?");
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	BIO_get_mem_ptr(b, &m);
	r = apf_xcalloc(1, m->length + 1);
	memcpy(r, m->data, m->length);
	BIO_free(b);
	return r;
}

/* What AMT's TLS server needs from the issued certificate: the device's name
 * (SAN DNS, or the CN when there is no SAN, as TLS clients check it) and the
 * serverAuth EKU. A CA whose template builds the subject from AD drops the
 * requested name. */
static void cert_fit(X509 *x, const char *fqdn, struct apf_adcs_web_result *r)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	struct apf_buf names = {0};
	char cn[256] = "";

	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const unsigned char *s;
		int n;

		if (g->type != GEN_DNS)
			continue;
		s = ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		if (names.len < 1024)
			apf_buf_addf(&names, "%s%.*s", names.len ? ", " : "", n, (const char *)s);
		if ((size_t)n == strlen(fqdn) && strncasecmp((const char *)s, fqdn, (size_t)n) == 0)
			r->cert_has_name = true;
	}
	if (!sans) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
		r->cert_has_name = strcasecmp(cn, fqdn) == 0;
	}
	r->cert_server_auth = !eku;
	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == NID_server_auth)
			r->cert_server_auth = true;
	r->cert_dns_names = apf_buf_steal(&names);
	GENERAL_NAMES_free(sans);
	EXTENDED_KEY_USAGE_free(eku);
}

/* Reads the issued certificate (PEM or DER) into r's cert_* fields; false when it is none. */
static bool read_cert(const char *data, size_t len, const char *fqdn, struct apf_adcs_web_result *r)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	const unsigned char *p = (const unsigned char *)data;
	BIGNUM *bn;
	char *hex;

	if (!x)
		x = d2i_X509(NULL, &p, (long)len);
	BIO_free(b);
	if (!x)
		return false;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	r->cert_serial = apf_xstrdup(hex ? hex : "?");
	for (char *c = r->cert_serial; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	OPENSSL_free(hex);
	BN_free(bn);
	r->cert_subject = name_str(X509_get_subject_name(x));
	r->cert_issuer = name_str(X509_get_issuer_name(x));
	r->cert_not_after = asn1_time_str(X509_get0_notAfter(x));
	cert_fit(x, fqdn, r);
	X509_free(x);
	return true;
}

int apf_adcs_web_enroll(const struct apf_adcs_web_opts *o, const char *tmpl, const char *fqdn,
			struct apf_adcs_web_result **out, char **err_out)
{
	struct apf_adcs_web_result *r = NULL;
	struct curl_slist *hdrs = NULL, *pin = NULL;
	struct sink s = {0};
	char errbuf[CURL_ERROR_SIZE];
	char *csr = NULL, *base = NULL, *attrib = NULL, *post = NULL, *e_csr = NULL, *e_attrib = NULL;
	char *cert_url = NULL, *get_err = NULL;
	CURL *h = NULL;
	long status = 0;
	uint64_t deadline = apf_now_ms() + (o->timeout_ms ? o->timeout_ms : 1);
	bool https;
	int rc;

	*out = NULL;
	*err_out = NULL;
	https = strncasecmp(o->base_url, "https://", 8) == 0;
	if (!https && strncasecmp(o->base_url, "http://", 7) != 0) {
		*err_out = apf_xstrdup("web enrollment URL must be http:// or https://");
		rc = -EINVAL;
		goto out;
	}
	if (!https && o->auth == APF_ADCS_AUTH_BASIC) {
		*err_out = apf_xstrdup("Basic authentication would send the password in clear over http://; use https://");
		rc = -EPERM;
		goto out;
	}
	if (!fqdn_ok(fqdn) || !tmpl || !*tmpl || strpbrk(tmpl, "\r\n")) {
		*err_out = apf_xstrdup("invalid test name or template");
		rc = -EINVAL;
		goto out;
	}
	rc = make_csr(fqdn, &csr);
	if (rc < 0) {
		*err_out = apf_xstrdup("could not generate the test key and request (OpenSSL)");
		goto out;
	}
	h = curl_easy_init();
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	/* the base URL without trailing slashes */
	base = apf_xstrdup(o->base_url);
	for (size_t n = strlen(base); n && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';

	r = apf_xcalloc(1, sizeof(*r));
	r->submit_url = apf_xasprintf("%s/certfnsh.asp", base);
	attrib = apf_xasprintf("CertificateTemplate:%s\r\n", tmpl);
	e_csr = curl_easy_escape(h, csr, 0);
	e_attrib = curl_easy_escape(h, attrib, 0);
	if (!e_csr || !e_attrib) {
		rc = -ENOMEM;
		goto out;
	}
	post = apf_xasprintf("Mode=newreq&CertRequest=%s&CertAttrib=%s&FriendlyType=Saved-Request%%20Certificate"
			     "&TargetStoreFlags=0&SaveCert=yes", e_csr, e_attrib);
	r->form_fields = apf_xasprintf("Mode=newreq, CertRequest=<PKCS#10 PEM, RSA 2048, CN=%s, SAN DNS:%s>, "
				       "CertAttrib=CertificateTemplate:%s\\r\\n, FriendlyType=Saved-Request Certificate, "
				       "TargetStoreFlags=0, SaveCert=yes", fqdn, fqdn, tmpl);

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	/* No "Expect: 100-continue": not every front end answers it, and the form is small. */
	hdrs = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	/* IIS keeps an ASP session between the request and the retrieval. */
	curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, auth_mask(o->auth, https));
	if (o->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, o->password ? o->password : "");
	} else if (o->auth == APF_ADCS_AUTH_NEGOTIATE) {
		/* GSS-API takes the ticket cache; libcurl only needs a non-NULL user. */
		curl_easy_setopt(h, CURLOPT_USERPWD, ":");
	}
	if (o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	if (o->connect_ip) {
		char *host = NULL, *entry;
		long port = 0;

		if (url_host_port(o->base_url, &host, &port) < 0) {
			*err_out = apf_xasprintf("cannot parse %s", o->base_url);
			rc = -EINVAL;
			goto out;
		}
		/* "host:port:address"; an IPv6 address goes in brackets. */
		entry = apf_xasprintf(strchr(o->connect_ip, ':') ? "%s:%ld:[%s]" : "%s:%ld:%s", host, port, o->connect_ip);
		pin = curl_slist_append(NULL, entry);
		curl_easy_setopt(h, CURLOPT_RESOLVE, pin);
		free(entry);
		free(host);
	}

	rc = perform(h, r->submit_url, post, deadline, &s, &status, errbuf, err_out);
	r->http_status = status;
	if (rc < 0)
		goto out;
	apf_adcs_page_parse(s.b.p ? s.b.p : "", s.b.len, &r->page);
	if (r->page.disp == APF_ADCS_ISSUED) {
		cert_url = apf_xasprintf("%s/certnew.cer?ReqID=%lu&Enc=b64", base, r->page.req_id);
		if (perform(h, cert_url, NULL, deadline, &s, &status, errbuf, &get_err) < 0) {
			r->retrieve_error = get_err;
			get_err = NULL;
		} else if (!read_cert(s.b.p ? s.b.p : "", s.b.len, fqdn, r)) {
			r->retrieve_error = apf_xasprintf("%s did not return a certificate", cert_url);
		}
	}
	rc = 0;
out:
	if (r && (rc == 0 || rc == -EACCES || rc == -EPROTO) && r->http_status) {
		*out = r;
		r = NULL;
	}
	apf_adcs_web_result_free(r);
	apf_buf_clear(&s.b);
	curl_free(e_csr);
	curl_free(e_attrib);
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(pin);
	free(csr);
	free(base);
	free(attrib);
	free(post);
	free(cert_url);
	free(get_err);
	return rc;
}

void apf_adcs_web_result_free(struct apf_adcs_web_result *r)
{
	if (!r)
		return;
	free(r->submit_url);
	free(r->form_fields);
	free(r->cert_serial);
	free(r->cert_subject);
	free(r->cert_issuer);
	free(r->cert_not_after);
	free(r->cert_dns_names);
	free(r->retrieve_error);
	free(r);
}
