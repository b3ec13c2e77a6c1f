/* SPDX-License-Identifier: MIT */
/*
 * activation.servers and cira.mps without a lab: what they report for a
 * listening and a closed loopback port, a bad bundle, no DNS servers and no
 * option 15. TLS, certificates and the WebSocket upgrade are tested against
 * the lab's real servers (tests/integration/test_activation.py).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apf_test.h"

static struct {
	int fd;          /* listening on 127.0.0.1:open_port */
	uint16_t open_port;
	uint16_t closed_port; /* bound once, then closed: nothing listens there */
} g = {.fd = -1};

static uint16_t bind_loopback(int *fd_out, bool listening)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*fd_out = fd;
	return ntohs(a.sin_port);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	g.open_port = bind_loopback(&g.fd, true);
	g.closed_port = bind_loopback(&fd, false);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (g.fd >= 0)
		close(g.fd);
	return 0;
}

static struct apf_run *run_ini(const char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct apf_run *run_ini(const char *id, const char *fmt, ...)
{
	char ini[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ini, sizeof(ini), fmt, ap);
	va_end(ap);
	return apf_test_run(id, ini, 5000);
}

static void test_tcp_endpoints_open_and_closed(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	char want[64];

	(void)state;
	run = run_ini("activation.servers", "[activation]\nendpoints = tcp://127.0.0.1:%u, tcp://127.0.0.1:%u\n",
		      g.open_port, g.closed_port);
	r = apf_test_result(run, "activation.servers");
	assert_int_equal(r->status, APF_FAIL);
	f = apf_test_expect(r, "ACT_OK", APF_PASS);
	snprintf(want, sizeof(want), "127.0.0.1:%u", g.open_port);
	assert_string_equal(apf_test_evidence(f, "address"), want);
	assert_string_equal(apf_test_evidence(f, "dns"), "an address: no DNS query");
	assert_non_null(apf_test_evidence(f, "connect_ms"));
	f = apf_test_expect(r, "ACT_REFUSED", APF_FAIL);
	snprintf(want, sizeof(want), "127.0.0.1:%u", g.closed_port);
	assert_string_equal(apf_test_evidence(f, "address"), want);
	/* No bundle: said once, as INFO. */
	apf_test_expect(r, "ACT_CHAIN_NOT_CHECKED", APF_INFO);
	apf_run_free(run);
}

static void test_bad_bundle_is_an_error(void **state)
{
	char path[512];
	FILE *fp;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/not-a-cert.pem", apf_test_tmpdir());
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("just text\n", fp);
	fclose(fp);
	run = run_ini("activation.servers", "[activation]\nendpoints = tcp://127.0.0.1:%u\nca_bundle = %s\n", g.open_port,
		      path);
	r = apf_test_result(run, "activation.servers");
	assert_int_equal(r->status, APF_ERROR);
	f = apf_test_expect(r, "ACT_BUNDLE_INVALID", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "ca_bundle"), path);
	assert_null(apf_test_find(r, "ACT_OK"));
	apf_run_free(run);
	unlink(path);
}

static void test_names_without_dns_servers(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	/* activation.servers: nothing to resolve names with is a SKIP naming the keys. */
	run = run_ini("activation.servers", "[activation]\nendpoints = wss://rps.example.test/activate\n");
	r = apf_test_result(run, "activation.servers");
	assert_int_equal(r->status, APF_SKIP);
	assert_non_null(strstr(apf_test_find(r, "CHECK_SKIPPED")->message, "[dns] servers"));
	apf_run_free(run);
	/* cira.mps: an MPS name that cannot be resolved is an ERROR; an address is still probed. */
	run = run_ini("cira.mps", "[cira]\nmps = mps.example.test, 127.0.0.1:%u\nhome_domains = corp.example.test\n",
		      g.closed_port);
	r = apf_test_result(run, "cira.mps");
	f = apf_test_expect(r, "MPS_DNS_ERROR", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "mps"), "mps.example.test");
	f = apf_test_expect(r, "MPS_REFUSED", APF_FAIL);
	assert_non_null(strstr(apf_test_evidence(f, "error"), "refused"));
	/* No dhcp.options in the run: no option 15 to compare with the home domains. */
	f = apf_test_expect(r, "MPS_HOME_UNCHECKED", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "home_domains"), "corp.example.test");
	apf_run_free(run);
}

static void test_bad_urls_stop_the_config(void **state)
{
	struct apf_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_not_equal(apf_config_parse("[activation]\nendpoints = wss://u:p@rps.example.test/\n", "t.conf", &cfg,
					      &err),
			     0);
	assert_non_null(strstr(err, "t.conf:2:"));
	assert_non_null(strstr(err, "credentials"));
	free(err);
	err = NULL;
	assert_int_not_equal(apf_config_parse("[cira]\nmps = mps.example.test:0\n", "t.conf", &cfg, &err), 0);
	assert_non_null(strstr(err, "t.conf:2:"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_endpoints_open_and_closed),
		cmocka_unit_test(test_bad_bundle_is_an_error),
		cmocka_unit_test(test_names_without_dns_servers),
		cmocka_unit_test(test_bad_urls_stop_the_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
