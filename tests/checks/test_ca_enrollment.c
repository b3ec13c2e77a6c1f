/* SPDX-License-Identifier: MIT */
/*
 * ca.test-enrollment against a scripted web enrollment server on 127.0.0.1
 * (issued with a real certificate, pending, denied, logon refused, nothing
 * listening), its configuration errors, and ca.enroll-permission's paths that
 * need no directory.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apf_test.h"

struct certsrv {
	int fd;
	uint16_t port;
	const char *page; /* answer to the POST; NULL = 401 for everything */
	char *cert_pem;   /* answer to GET certnew.cer */
	char last_post[4096];
	volatile int stop;
	pthread_t th;
};

/* Reads one request (headers and Content-Length body), keeping the body. */
static size_t read_request(int c, char *buf, size_t size, char **body)
{
	size_t len = 0, want = 0;
	char *end = NULL;

	while (len + 1 < size) {
		ssize_t n = read(c, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strstr(buf, "Content-Length: ");
			want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
		}
		if (end && len >= want)
			break;
	}
	*body = end ? end + 4 : buf + len;
	return len;
}

static void reply(int c, const char *status, const char *ctype, const char *extra, const char *body)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, ctype, extra, strlen(body));
	if (write(c, hdr, (size_t)n) < 0 || write(c, body, strlen(body)) < 0)
		fprintf(stderr, "certsrv: write failed\n");
}

static void *certsrv_main(void *p)
{
	struct certsrv *s = p;
	static char req[65536];

	while (!s->stop) {
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		char *body;
		int c;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		read_request(c, req, sizeof(req), &body);
		if (!s->page)
			reply(c, "401 Unauthorized", "text/html", "WWW-Authenticate: Basic realm=\"certsrv\"\r\n", "denied");
		else if (strncmp(req, "POST /certsrv/certfnsh.asp ", 27) == 0) {
			snprintf(s->last_post, sizeof(s->last_post), "%s", body);
			reply(c, "200 OK", "text/html", "", s->page);
		} else if (strncmp(req, "GET /certsrv/certnew.cer?ReqID=42&Enc=b64 ", 42) == 0)
			reply(c, "200 OK", "application/pkix-cert", "", s->cert_pem);
		else
			reply(c, "404 Not Found", "text/html", "", "no");
		close(c);
	}
	return NULL;
}

static struct certsrv *certsrv_start(const char *page)
{
	struct certsrv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	getsockname(s->fd, (struct sockaddr *)&sa, &sl);
	s->port = ntohs(sa.sin_port);
	s->page = page;
	pthread_create(&s->th, NULL, certsrv_main, s);
	return s;
}

static void certsrv_stop(struct certsrv *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->fd);
	free(s->cert_pem);
	free(s);
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A self-signed certificate with serial 0x1f2e, as PEM, with the SAN and EKU
 * a CA following the request would put in, or (as_requested false) with
 * another name and client authentication only. */
static char *test_cert_pem(bool as_requested)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *r;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1f2e);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"amt-preflight-test.corp.example.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	add_ext(x, NID_subject_alt_name, as_requested ? "DNS:amt-preflight-test.corp.example.test" : "DNS:scs01.corp.example.test");
	add_ext(x, NID_ext_key_usage, as_requested ? "serverAuth" : "clientAuth");
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	PEM_write_bio_X509(b, x);
	BIO_get_mem_ptr(b, &m);
	r = strndup(m->data, m->length);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

static const char *pw_file(void)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/enroll.pw", apf_test_tmpdir());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("S3cret-Enroll-Pw\n", f);
	fclose(f);
	return path;
}

static struct apf_run *run_against(uint16_t port, const char *extra)
{
	char ini[1024];

	snprintf(ini, sizeof(ini),
		 "[ad]\ndomain = corp.example.test\n[ca]\ntemplates = AMTWebServer\n"
		 "web_enrollment_url = http://127.0.0.1:%u/certsrv/\nenroll_user = CORP\\scs\nenroll_password_file = %s\n%s",
		 port, pw_file(), extra ? extra : "");
	return apf_test_run("ca.test-enrollment", ini, 10000);
}

static void test_issued(void **state)
{
	struct certsrv *s = certsrv_start("<B>Certificate Issued</B><A Href=\"certnew.cer?ReqID=42&amp;Enc=b64\">b64</A>");
	struct apf_run *run;
	const struct apf_finding *f;

	(void)state;
	s->cert_pem = test_cert_pem(true);
	run = run_against(s->port, NULL);
	assert_int_equal(apf_test_result(run, "ca.test-enrollment")->status, APF_PASS);
	f = apf_test_expect(apf_test_result(run, "ca.test-enrollment"), "CA_TEST_ENROLL_ISSUED", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "request_id"), "42");
	assert_string_equal(apf_test_evidence(f, "serial"), "1f2e");
	assert_string_equal(apf_test_evidence(f, "subject"), "CN=amt-preflight-test.corp.example.test");
	/* what a browser posts: the form fields, URL-encoded, with the template attribute */
	assert_non_null(strstr(s->last_post, "Mode=newreq&CertRequest=-----BEGIN%20CERTIFICATE%20REQUEST"));
	assert_non_null(strstr(s->last_post, "&CertAttrib=CertificateTemplate%3AAMTWebServer%0D%0A&"));
	assert_non_null(strstr(s->last_post, "&TargetStoreFlags=0&SaveCert=yes"));
	apf_run_free(run);

	/* issued, but with the subject built by the CA and no serverAuth: useless for AMT */
	free(s->cert_pem);
	s->cert_pem = test_cert_pem(false);
	run = run_against(s->port, NULL);
	f = apf_test_expect(apf_test_result(run, "ca.test-enrollment"), "CA_TEST_ENROLL_NAME_DROPPED", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "san_dns"), "scs01.corp.example.test");
	apf_test_expect(apf_test_result(run, "ca.test-enrollment"), "CA_TEST_ENROLL_NO_SERVER_AUTH", APF_FAIL);
	apf_run_free(run);
	certsrv_stop(s);
}

static void test_pending_denied_unknown(void **state)
{
	static const struct {
		const char *page, *code;
		enum apf_status st;
		const char *key, *value;
	} cases[] = {
		{"<B>Certificate Pending</B> you must wait ... Your Request Id is 7.", "CA_TEST_ENROLL_PENDING", APF_FAIL,
		 "request_id", "7"},
		{"Your Request Id is 8. The disposition message is \"Denied by Policy Module  0x80094012, no.\"",
		 "CA_TEST_ENROLL_DENIED", APF_FAIL, "disposition_message", "Denied by Policy Module 0x80094012, no."},
		{"<title>IIS Windows Server</title>", "CA_TEST_ENROLL_UNEXPECTED", APF_ERROR, "page_title", "IIS Windows Server"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct certsrv *s = certsrv_start(cases[i].page);
		struct apf_run *run = run_against(s->port, NULL);
		const struct apf_finding *f = apf_test_expect(apf_test_result(run, "ca.test-enrollment"), cases[i].code, cases[i].st);
		assert_string_equal(apf_test_evidence(f, cases[i].key), cases[i].value);
		apf_run_free(run);
		certsrv_stop(s);
	}
}

static void test_logon_refused_and_no_secret(void **state)
{
	struct certsrv *s = certsrv_start(NULL);
	struct apf_run *run = run_against(s->port, "enroll_auth = ntlm\n");
	const struct apf_check_result *r = apf_test_result(run, "ca.test-enrollment");
	const struct apf_finding *f = apf_test_expect(r, "CA_TEST_ENROLL_AUTH_FAILED", APF_ERROR);

	(void)state;
	assert_string_equal(apf_test_evidence(f, "http_status"), "401");
	for (size_t i = 0; i < r->n_findings; i++) {
		assert_null(strstr(r->findings[i]->message, "S3cret-Enroll-Pw"));
		for (size_t k = 0; k < r->findings[i]->n_evidence; k++)
			assert_null(strstr(r->findings[i]->evidence[k].value, "S3cret-Enroll-Pw"));
	}
	apf_run_free(run);
	certsrv_stop(s);
}

static void test_unreachable_and_config(void **state)
{
	struct certsrv *s = certsrv_start("x");
	uint16_t port = s->port;
	struct apf_run *run;
	char ini[512];

	(void)state;
	certsrv_stop(s); /* nothing listens on the port any more */
	run = run_against(port, NULL);
	apf_test_expect(apf_test_result(run, "ca.test-enrollment"), "CA_TEST_ENROLL_UNREACHABLE", APF_ERROR);
	apf_run_free(run);

	/* Basic over plain http would send the password in clear: refused before connecting */
	run = run_against(port, "enroll_auth = basic\n");
	apf_test_expect(apf_test_result(run, "ca.test-enrollment"), "CA_TEST_ENROLL_CONFIG", APF_ERROR);
	apf_run_free(run);

	/* a user without a password */
	snprintf(ini, sizeof(ini), "[ad]\ndomain = corp.example.test\n[ca]\ntemplates = AMTWebServer\n"
				   "web_enrollment_url = https://127.0.0.1:%u/certsrv/\nenroll_user = scs\n", port);
	run = apf_test_run("ca.test-enrollment", ini, 5000);
	apf_test_expect(apf_test_result(run, "ca.test-enrollment"), "CA_TEST_ENROLL_NO_CREDENTIALS", APF_ERROR);
	apf_run_free(run);
}

static void test_enroll_permission_without_ad(void **state)
{
	struct apf_run *run;

	(void)state;
	/* a DC that does not answer: could not check is ERROR, never FAIL */
	run = apf_test_run("ca.enroll-permission",
			   "[ad]\ndomain = corp.example.test\ndomain_controllers = 127.0.0.1\ntls = none\n"
			   "bind_dn = x@corp.example.test\n[ca]\ntemplates = AMTWebServer\nenroll_accounts = SCS01$\n",
			   5000);
	apf_test_expect(apf_test_result(run, "ca.enroll-permission"), "CA_ENROLL_AD_UNAVAILABLE", APF_ERROR);
	apf_run_free(run);
	/* without the accounts key the check is skipped and names it */
	run = apf_test_run("ca.enroll-permission", "[ca]\ntemplates = AMTWebServer\n", 5000);
	assert_int_equal(apf_test_result(run, "ca.enroll-permission")->status, APF_SKIP);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued),
		cmocka_unit_test(test_pending_denied_unknown),
		cmocka_unit_test(test_logon_refused_and_no_secret),
		cmocka_unit_test(test_unreachable_and_config),
		cmocka_unit_test(test_enroll_permission_without_ad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
