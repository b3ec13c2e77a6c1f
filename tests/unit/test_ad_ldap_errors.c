/* SPDX-License-Identifier: MIT */
/* LDAP result mapping and AD diagnostic decoding (src/net/ldap.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "apf_test.h"
#include "ad.h"
#include "net/fetch.h"
#include "net/ldap.h"
#include "util.h"

/* A loopback TCP listener that never accepts: connects succeed (the kernel
 * completes them from the backlog) and no byte ever comes back. */
static int silent_listener(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_ad_data_parse(void **state)
{
	unsigned int code = 0;

	(void)state;
	/* Windows and Samba spell it the same way */
	assert_true(apf_ldap_parse_ad_data(
		"80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data 52e, v4563", &code));
	assert_int_equal(code, 0x52e);
	assert_true(apf_ldap_parse_ad_data("8009030C: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 775, v1db1", &code));
	assert_int_equal(code, 0x775);
	assert_true(apf_ldap_parse_ad_data("... data 701", &code));
	assert_int_equal(code, 0x701);
	/* not a data code: part of a word, no hex, too long */
	assert_false(apf_ldap_parse_ad_data("metadata 52e,", &code));
	assert_false(apf_ldap_parse_ad_data("data xyz,", &code));
	assert_false(apf_ldap_parse_ad_data("data 123456789,", &code));
	assert_false(apf_ldap_parse_ad_data(NULL, &code));
	assert_false(apf_ldap_parse_ad_data("", &code));
}

static void test_ad_data_text(void **state)
{
	static const unsigned int known[] = {0x525, 0x52e, 0x530, 0x531, 0x532, 0x533, 0x701, 0x773, 0x775};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_non_null(apf_ldap_ad_data_text(known[i]));
	assert_non_null(strstr(apf_ldap_ad_data_text(0x52e), "password"));
	assert_non_null(strstr(apf_ldap_ad_data_text(0x525), "not found"));
	assert_non_null(strstr(apf_ldap_ad_data_text(0x532), "expired"));
	assert_non_null(strstr(apf_ldap_ad_data_text(0x533), "disabled"));
	assert_non_null(strstr(apf_ldap_ad_data_text(0x775), "locked"));
	assert_null(apf_ldap_ad_data_text(0x999));
}

static void test_rc_errno(void **state)
{
	(void)state;
	assert_int_equal(apf_ldap_rc_errno(0), 0);
	assert_int_equal(apf_ldap_rc_errno(49), -EACCES);   /* invalidCredentials */
	assert_int_equal(apf_ldap_rc_errno(50), -EACCES);   /* insufficientAccessRights */
	assert_int_equal(apf_ldap_rc_errno(1), -EACCES);    /* AD: bind first */
	assert_int_equal(apf_ldap_rc_errno(8), -EACCES);    /* strongerAuthRequired */
	assert_int_equal(apf_ldap_rc_errno(32), -ENOENT);   /* noSuchObject */
	assert_int_equal(apf_ldap_rc_errno(4), 0);          /* sizeLimitExceeded: partial result */
	assert_int_equal(apf_ldap_rc_errno(-1), -ECONNREFUSED); /* server down */
	assert_int_equal(apf_ldap_rc_errno(-5), -ETIMEDOUT);
	assert_int_equal(apf_ldap_rc_errno(-11), -ECONNRESET); /* TLS / connect error */
	assert_int_equal(apf_ldap_rc_errno(-6), -ENOTSUP);  /* LDAP_AUTH_UNKNOWN: no SASL mechanism */
	assert_int_equal(apf_ldap_rc_errno(12345), -EPROTO);
	assert_non_null(strstr(apf_ldap_rc_explain(49), "credentials"));
	assert_string_equal(apf_ldap_rc_explain(12345), "unexpected LDAP result");
}

static void test_generalized_time(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(apf_ldap_parse_time("20240101120000.0Z", &t), 0);
	assert_int_equal((long long)t, 1704110400LL);
	assert_int_equal(apf_ldap_parse_time("20240101120000Z", &t), 0);
	assert_int_equal((long long)t, 1704110400LL);
	/* local times and junk are refused rather than guessed */
	assert_int_equal(apf_ldap_parse_time("20240101120000.0+0100", &t), -EINVAL);
	assert_int_equal(apf_ldap_parse_time("2024010112", &t), -EINVAL);
	assert_int_equal(apf_ldap_parse_time("20241301120000Z", &t), -EINVAL);
	assert_int_equal(apf_ldap_parse_time("2024a101120000Z", &t), -EINVAL);
	assert_int_equal(apf_ldap_parse_time(NULL, &t), -EINVAL);
}

static void test_open_refuses_missing_address(void **state)
{
	struct apf_ldap_opts o = {0};
	struct apf_ldap *l = NULL;
	struct apf_ldap_status st = {0};

	(void)state;
	assert_int_equal(apf_ldap_open(&o, &l, &st), -EINVAL);
	assert_null(l);
	apf_ldap_status_clear(&st);
}

/* Regression: a handle's later operations waited their full per-operation
 * timeout even past the check's deadline; the deadline now cuts every wait. */
static void test_search_stops_at_deadline(void **state)
{
	uint16_t port;
	int fd = silent_listener(&port);
	struct apf_ldap_opts o = {.ip = "127.0.0.1", .tls = APF_LDAP_TLS_NONE, .timeout_ms = 5000};
	struct apf_ldap_status st = {0};
	struct apf_ldap_result *res = NULL;
	struct apf_ldap *l = NULL;
	uint64_t t0;
	int rc;

	(void)state;
	o.port = port;
	o.deadline_ms = apf_now_ms() + 300;
	assert_int_equal(apf_ldap_open(&o, &l, &st), 0);
	t0 = apf_now_ms();
	rc = apf_ldap_search(l, "", APF_LDAP_SCOPE_BASE, NULL, NULL, 1, &res, &st);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_null(res);
	assert_true(apf_now_ms() - t0 < 2000);
	apf_ldap_status_clear(&st);
	apf_ldap_close(l);
	close(fd);
}

/* The URL fetch's connect and search share one timeout. */
static void test_url_fetch_times_out(void **state)
{
	uint16_t port;
	int fd = silent_listener(&port);
	char *url = apf_xasprintf("ldap://127.0.0.1:%u/CN=x?certificateRevocationList", (unsigned int)port);
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 300};
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL;
	uint64_t t0 = apf_now_ms();

	(void)state;
	assert_int_equal(apf_fetch_body(url, &fo, &data, &len, &err), -ETIMEDOUT);
	assert_null(data);
	assert_non_null(err);
	assert_true(apf_now_ms() - t0 < 2000);
	free(err);
	free(url);
	close(fd);
}

/* Regression (issue 13 item 1): a DC that accepts 636 and never answers the
 * TLS handshake kept libldap spinning in its handshake loop until the check's
 * deadline; the handshake is now bounded by the per-operation timeout. */
static void test_ldaps_handshake_times_out(void **state)
{
	uint16_t port;
	int fd = silent_listener(&port);
	struct apf_ldap_opts o = {.ip = "127.0.0.1", .tls = APF_LDAP_TLS_LDAPS, .timeout_ms = 300};
	struct apf_ldap_status st = {0};
	struct apf_ldap *l = NULL;
	uint64_t t0 = apf_now_ms();

	(void)state;
	o.port = port;
	assert_int_equal(apf_ldap_open(&o, &l, &st), -ETIMEDOUT);
	assert_null(l);
	assert_true(apf_now_ms() - t0 < 2000);
	apf_ldap_status_clear(&st);
	close(fd);
}

static int stub_resolve(void *arg, const char *host, unsigned int timeout_ms, char **ip_out, char **why_out)
{
	(void)timeout_ms;
	(void)why_out;
	*(int *)arg += 1;
	if (strcmp(host, "crl.example.test") != 0)
		return -ENOENT;
	*ip_out = apf_xstrdup("127.0.0.1");
	return 0;
}

/* Host names in fetched URLs go through the caller's resolver, never the host's;
 * without one, only IP literals are fetched. */
static void test_fetch_resolves_through_caller(void **state)
{
	uint16_t port;
	int fd = silent_listener(&port), calls = 0;
	char *url = apf_xasprintf("ldap://crl.example.test:%u/CN=x?certificateRevocationList", (unsigned int)port);
	char *http = apf_xasprintf("http://crl.example.test:%u/x.crl", (unsigned int)port);
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 300};
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL;
	uint64_t t0;

	(void)state;
	assert_int_equal(apf_fetch_body(url, &fo, &data, &len, &err), -EINVAL);
	assert_non_null(err);
	free(err);
	fo.resolve = stub_resolve;
	fo.resolve_arg = &calls;
	t0 = apf_now_ms();
	assert_int_equal(apf_fetch_body(url, &fo, &data, &len, &err), -ETIMEDOUT);
	free(err);
	assert_int_equal(apf_fetch_body(http, &fo, &data, &len, &err), -ETIMEDOUT);
	free(err);
	assert_int_equal(calls, 2);
	assert_true(apf_now_ms() - t0 < 2000);
	assert_int_equal(apf_fetch_body("http://nowhere.example.test/x.crl", &fo, &data, &len, &err), -ENOENT);
	assert_non_null(strstr(err, "nowhere.example.test"));
	free(err);
	assert_int_equal(apf_fetch_body("ftp://crl.example.test/x.crl", &fo, &data, &len, &err), -EPROTONOSUPPORT);
	free(err);
	free(url);
	free(http);
	close(fd);
}

/* Regression: ca.enterprise reported a refused or garbled DNS lookup of the CA
 * host as CA_HOST_UNRESOLVED (FAIL); only "no such address" is a finding. */
static void test_unresolved_status(void **state)
{
	(void)state;
	assert_int_equal(apf_ad_unresolved_status(-ENOENT), APF_FAIL);
	assert_int_equal(apf_ad_unresolved_status(-ETIMEDOUT), APF_ERROR);
	assert_int_equal(apf_ad_unresolved_status(-ECONNREFUSED), APF_ERROR);
	assert_int_equal(apf_ad_unresolved_status(-EPROTO), APF_ERROR);
	assert_int_equal(apf_ad_unresolved_status(-EINVAL), APF_ERROR);
}

static void test_url_fetch_refuses_hostless(void **state)
{
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 1000};
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL;

	(void)state;
	/* ldap:/// means "the client's own DC": without a session it must not go to some default host */
	assert_int_equal(apf_fetch_body("ldap:///CN=CA,CN=CDP,CN=Public Key Services?certificateRevocationList?base",
					&fo, &data, &len, &err),
			 -EINVAL);
	assert_null(data);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(apf_fetch_body("ldap://[not a url", &fo, &data, &len, &err), -EINVAL);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ad_data_parse),
		cmocka_unit_test(test_ad_data_text),
		cmocka_unit_test(test_rc_errno),
		cmocka_unit_test(test_generalized_time),
		cmocka_unit_test(test_open_refuses_missing_address),
		cmocka_unit_test(test_url_fetch_refuses_hostless),
		cmocka_unit_test(test_search_stops_at_deadline),
		cmocka_unit_test(test_unresolved_status),
		cmocka_unit_test(test_url_fetch_times_out),
		cmocka_unit_test(test_ldaps_handshake_times_out),
		cmocka_unit_test(test_fetch_resolves_through_caller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
