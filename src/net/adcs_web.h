/* SPDX-License-Identifier: MIT */
/*
 * AD CS web enrollment (the "Certification Authority Web Enrollment" role
 * service, /certsrv/) as a client that submits a PKCS#10 request: a fresh key
 * and CSR (OpenSSL), the certfnsh.asp form POST a browser sends, the
 * disposition page parsed, and for an issued request the certificate fetched
 * from certnew.cer. libcurl does HTTPS and Negotiate/NTLM/Basic. Only this file
 * and the other src/net adapters include libcurl and OpenSSL headers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum apf_adcs_auth {
	APF_ADCS_AUTH_ANY,       /* what the server offers; Basic only over HTTPS */
	APF_ADCS_AUTH_NEGOTIATE, /* SPNEGO/Kerberos with the caller's ticket cache */
	APF_ADCS_AUTH_NTLM,
	APF_ADCS_AUTH_BASIC,
};

/* "any" / "negotiate" / "ntlm" / "basic" (the config's enroll_auth) */
enum apf_adcs_auth apf_adcs_auth_from_str(const char *s);

struct apf_adcs_web_opts {
	const char *base_url;   /* "https://ca1.corp.example.com/certsrv/" (trailing slash optional) */
	const char *user;       /* NULL for Negotiate with a ticket */
	const char *password;   /* never logged or reported */
	enum apf_adcs_auth auth;
	const char *ca_file;    /* PEM bundle for the server certificate; NULL = system store */
	/* Address to connect to for the URL's host, resolved by the caller through the
	 * DNS servers the clients use (the host's resolver is never asked); NULL = let
	 * libcurl resolve. TLS still checks the certificate against the host name. */
	const char *connect_ip;
	unsigned int timeout_ms; /* whole exchange (both requests) */
};

enum apf_adcs_disposition {
	APF_ADCS_UNKNOWN,  /* the page is not one web enrollment sends after a request */
	APF_ADCS_ISSUED,
	APF_ADCS_PENDING,  /* "Certificate Pending": the request waits for a CA manager */
	APF_ADCS_DENIED,   /* the CA's policy module refused it */
};

/* What the disposition page says (pure parse of certfnsh.asp's answer). */
struct apf_adcs_page {
	enum apf_adcs_disposition disp;
	bool has_req_id;
	unsigned long req_id;
	char message[512]; /* the CA's disposition message (denied), printable ASCII only; "" when none */
	char title[128];   /* the page's <title> / heading, for unknown pages */
};

/* The host name of an http(s) URL (caller frees); NULL when the URL does not parse. */
char *apf_adcs_web_url_host(const char *url);

/* Classifies a certfnsh.asp response body (any bytes; hostile input is fine). */
void apf_adcs_page_parse(const char *body, size_t len, struct apf_adcs_page *out);

struct apf_adcs_web_result {
	struct apf_adcs_page page;
	long http_status;       /* of the submission */
	char *submit_url;       /* ".../certfnsh.asp" */
	char *form_fields;      /* the fields sent, without the CSR's body: for evidence */
	/* issued only; NULL when the certificate could not be fetched (retrieve_error says why) */
	char *cert_serial;      /* hex, as certutil shows it */
	char *cert_subject;
	char *cert_issuer;
	char *cert_not_after;   /* "2027-11-30 19:00:00 UTC" */
	char *cert_dns_names;   /* subjectAltName DNS names, ", "-joined ("" when none) */
	bool cert_has_name;     /* the requested FQDN is in the SAN (or, without a SAN, is the CN) */
	bool cert_server_auth;  /* EKU has serverAuth (or there is no EKU extension) */
	char *retrieve_error;
};

/*
 * Generates an RSA 2048 key and a CSR for `fqdn` (CN and DNS SAN), submits it
 * with CertAttrib "CertificateTemplate:<tmpl>", and for an issued request
 * fetches certnew.cer?ReqID=N&Enc=b64. The key is discarded: the certificate is
 * only a test. Returns 0 when the server answered with a page (see
 * ->page.disp, UNKNOWN included), -EACCES (HTTP 401/403: logon refused),
 * -ETIMEDOUT, -ECONNREFUSED, -ENOENT (name does not resolve), -EPROTO (TLS
 * failure, or an HTTP status other than 200), -EPERM (Basic over plain HTTP
 * refused), -EINVAL. *err_out (caller frees) explains any failure; *out is
 * set whenever the server was reached (also with -EACCES/-EPROTO).
 */
int apf_adcs_web_enroll(const struct apf_adcs_web_opts *o, const char *tmpl, const char *fqdn,
			struct apf_adcs_web_result **out, char **err_out);
void apf_adcs_web_result_free(struct apf_adcs_web_result *r);
