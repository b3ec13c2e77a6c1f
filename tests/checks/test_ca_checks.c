/* SPDX-License-Identifier: MIT */
/*
 * ca.template, ca.enterprise and ca.revocation without a directory: the AD
 * failure paths, and ca.revocation's CRL/OCSP verdicts for a provisioning
 * chain made here, whose CDP points at a one-file HTTP server on 127.0.0.1.
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
#include "test_dns_responder.h"

/* ---- a one-file HTTP server ------------------------------------------------ */

struct httpd {
	int fd;
	uint16_t port;
	unsigned char *body;
	size_t len;
	volatile int stop;
	pthread_t th;
};

static void *httpd_main(void *p)
{
	struct httpd *h = p;

	while (!h->stop) {
		struct pollfd pfd = {.fd = h->fd, .events = POLLIN};
		char req[2048], hdr[128];
		int c;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		if (read(c, req, sizeof(req)) > 0) {
			int n = snprintf(hdr, sizeof(hdr),
					 "HTTP/1.0 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: %zu\r\n\r\n", h->len);
			if (write(c, hdr, (size_t)n) < 0 || write(c, h->body, h->len) < 0)
				fprintf(stderr, "httpd: write failed\n");
		}
		close(c);
	}
	return NULL;
}

static struct httpd *httpd_start(unsigned char *body, size_t len)
{
	struct httpd *h = calloc(1, sizeof(*h));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(h->fd >= 0);
	assert_int_equal(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->fd, 8), 0);
	getsockname(h->fd, (struct sockaddr *)&sa, &sl);
	h->port = ntohs(sa.sin_port);
	h->body = body;
	h->len = len;
	pthread_create(&h->th, NULL, httpd_main, h);
	return h;
}

static void httpd_stop(struct httpd *h)
{
	h->stop = 1;
	pthread_join(h->th, NULL);
	close(h->fd);
	free(h);
}

/* ---- a small PKI ----------------------------------------------------------- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

static X509 *make_cert(const char *cn, long serial, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cdp,
		       const char *aia)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	add_ext(x, issuer, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
	if (cdp)
		add_ext(x, issuer, NID_crl_distribution_points, cdp);
	if (aia)
		add_ext(x, issuer, NID_info_access, aia);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static unsigned char *make_crl(X509 *ca, EVP_PKEY *key, long next_hours, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *der = NULL;
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_gmtime_adj(t, -7200);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next_hours * 3600);
	X509_CRL_set1_nextUpdate(crl, t);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	*len = (size_t)n;
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return der;
}

/* Writes leaf + CA as PEM for [provisioning] certificate; returns the path (static). */
static const char *write_chain(uint16_t crl_port, uint16_t ocsp_port, X509 **ca_out, EVP_PKEY **key_out)
{
	static char path[512];
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *leaf_key = EVP_EC_gen("P-256");
	X509 *ca = make_cert("Test Issuing CA", 1, ca_key, NULL, ca_key, NULL, NULL);
	char cdp[128], aia[128];
	X509 *leaf;
	FILE *fp;

	snprintf(cdp, sizeof(cdp), "URI:http://127.0.0.1:%u/issuing.crl", (unsigned int)crl_port);
	snprintf(aia, sizeof(aia), "OCSP;URI:http://127.0.0.1:%u/", (unsigned int)ocsp_port);
	leaf = make_cert("ProvisionServer.corp.example.test", 77, leaf_key, ca, ca_key, cdp, aia);
	snprintf(path, sizeof(path), "%s/prov-chain.pem", apf_test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	PEM_write_X509(fp, leaf);
	PEM_write_X509(fp, ca);
	fclose(fp);
	X509_free(leaf);
	EVP_PKEY_free(leaf_key);
	*ca_out = ca;
	*key_out = ca_key;
	return path;
}

static char *prov_ini(const char *path)
{
	char *s = NULL;
	if (asprintf(&s, "[provisioning]\ncertificate = %s\n[ca]\ncrl_warn_hours = 48\n", path) < 0)
		abort();
	return s;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_template_needs_templates_key(void **state)
{
	struct apf_run *run = apf_test_run("ca.template", "[ad]\ndomain = corp.example.test\n", 0);
	const struct apf_check_result *r = apf_test_result(run, "ca.template");

	(void)state;
	assert_int_equal(r->status, APF_SKIP);
	apf_run_free(run);
}

static void test_ca_checks_without_ad_are_errors(void **state)
{
	static const char *const ids[] = {"ca.template", "ca.enterprise"};
	static const char *const codes[] = {"CA_TEMPLATE_AD_UNAVAILABLE", "CA_ENTERPRISE_AD_UNAVAILABLE"};
	char ini[256];

	(void)state;
	/* nothing answers DNS on a closed port: "could not check", never FAIL */
	snprintf(ini, sizeof(ini),
		 "[dns]\nservers = 127.0.0.1#%u\n[ad]\ndomain = corp.example.test\nbind_dn = x\n[ca]\ntemplates = AMTWebServer\n",
		 (unsigned int)dnsr_closed_port());
	setenv("AMT_PREFLIGHT_BIND_PASSWORD", "irrelevant", 1);
	for (size_t i = 0; i < 2; i++) {
		struct apf_run *run = apf_test_run(ids[i], ini, 5000);
		const struct apf_check_result *r = apf_test_result(run, ids[i]);
		const struct apf_finding *f = apf_test_expect(r, codes[i], APF_ERROR);

		assert_non_null(strstr(apf_test_evidence(f, "reason"), "no domain controller found"));
		assert_int_equal(r->status, APF_ERROR);
		apf_run_free(run);
	}
	unsetenv("AMT_PREFLIGHT_BIND_PASSWORD");
}

static void run_revocation(long next_hours, const char *code, enum apf_status st)
{
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	struct httpd *h;
	size_t len;
	unsigned char *crl;
	const char *path;
	char *ini;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	char url[96];

	/* the CRL is made once the CA exists; the server starts first for its port */
	h = httpd_start(NULL, 0);
	path = write_chain(h->port, dnsr_closed_port(), &ca, &key);
	crl = make_crl(ca, key, next_hours, &len);
	h->body = crl;
	h->len = len;
	ini = prov_ini(path);
	run = apf_test_run("ca.revocation", ini, 10000);
	r = apf_test_result(run, "ca.revocation");
	f = apf_test_expect(r, code, st);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/issuing.crl", (unsigned int)h->port);
	assert_string_equal(apf_test_evidence(f, "url"), url);
	assert_string_equal(apf_test_evidence(f, "certificate"), "CN=ProvisionServer.corp.example.test");
	assert_string_equal(apf_test_evidence(f, "issuer"), "CN=Test Issuing CA");
	assert_non_null(apf_test_evidence(f, "next_update"));
	/* the OCSP URL points at a closed port: could not ask, which is not a FAIL */
	apf_test_expect(r, "CA_OCSP_UNREACHABLE", APF_ERROR);
	apf_run_free(run);
	free(ini);
	httpd_stop(h);
	OPENSSL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
}

static void test_revocation_crl_ok(void **state)
{
	(void)state;
	run_revocation(24 * 7, "CA_CRL_OK", APF_PASS);
}

static void test_revocation_crl_near_expiry(void **state)
{
	(void)state;
	run_revocation(10, "CA_CRL_NEAR_EXPIRY", APF_WARN);
}

static void test_revocation_crl_expired(void **state)
{
	(void)state;
	run_revocation(-1, "CA_CRL_EXPIRED", APF_FAIL);
}

static void test_revocation_crl_unreachable(void **state)
{
	X509 *ca = NULL;
	EVP_PKEY *key = NULL;
	const char *path = write_chain(dnsr_closed_port(), dnsr_closed_port(), &ca, &key);
	char *ini = prov_ini(path);
	struct apf_run *run = apf_test_run("ca.revocation", ini, 10000);
	const struct apf_check_result *r = apf_test_result(run, "ca.revocation");

	(void)state;
	apf_test_expect(r, "CA_CRL_UNREACHABLE", APF_ERROR);
	assert_null(apf_test_find(r, "CA_CRL_EXPIRED"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(ini);
	X509_free(ca);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_needs_templates_key),
		cmocka_unit_test(test_ca_checks_without_ad_are_errors),
		cmocka_unit_test(test_revocation_crl_ok),
		cmocka_unit_test(test_revocation_crl_near_expiry),
		cmocka_unit_test(test_revocation_crl_expired),
		cmocka_unit_test(test_revocation_crl_unreachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
