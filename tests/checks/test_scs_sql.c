/* SPDX-License-Identifier: MIT */
/*
 * scs.sql through the real runner against a loopback TCP server that answers
 * with the MS-TDS-built captures of tests/fixtures/tds (or closes, or stays
 * silent), so the paths the lab's stand-in does not take are covered too.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apf_test.h"
#include "check.h"
#include "util.h"

#define ID "scs.sql"

struct server {
	int fd;
	uint16_t port;
	const char *fixture; /* answer with this file; NULL: close at once; "" : read, never answer */
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	uint8_t buf[256];

	if (c < 0)
		return NULL;
	if (s->fixture && recv(c, buf, sizeof(buf), 0) > 0 && *s->fixture) {
		char rel[128];
		unsigned char *data = NULL;
		size_t len = 0;
		snprintf(rel, sizeof(rel), "fixtures/tds/%s", s->fixture);
		if (apf_read_file(apf_test_srcpath(rel), 65536, &data, &len) == 0)
			(void)!send(c, data, len, MSG_NOSIGNAL);
		free(data);
	} else if (s->fixture) {
		usleep(1500 * 1000); /* silent until the client gives up */
	}
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *fixture)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	s->fixture = fixture;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static const struct apf_check_result *run_against(struct server *s, const char *fixture, unsigned int timeout_ms,
						   struct apf_run **run)
{
	char ini[128];

	server_start(s, fixture);
	snprintf(ini, sizeof(ini), "[scs]\nsql_server = 127.0.0.1\nsql_port = %u\n", s->port);
	*run = apf_test_run(ID, ini, timeout_ms);
	server_stop(s);
	return apf_test_result(*run, ID);
}

static void test_old_server_without_encryption(void **state)
{
	struct server s;
	struct apf_run *run;
	const struct apf_check_result *r = run_against(&s, "response-2012-notsup.bin", 0, &run);
	const struct apf_finding *f = apf_test_expect(r, "SCS_SQL_OK", APF_PASS);

	assert_string_equal(apf_test_evidence(f, "version"), "11.0.7001.0");
	assert_string_equal(apf_test_evidence(f, "product"), "SQL Server 2012");
	assert_string_equal(apf_test_evidence(f, "instance"), "SCSDB");
	assert_string_equal(apf_test_evidence(f, "mars"), "on");
	apf_test_expect(r, "SCS_SQL_NO_ENCRYPTION", APF_WARN);
	f = apf_test_expect(r, "SCS_SQL_OUT_OF_SUPPORT", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "extended_support_end"), "2022-07-12");
	assert_int_equal(r->status, APF_WARN);
	apf_run_free(run);
}

static void test_current_server(void **state)
{
	struct server s;
	struct apf_run *run;
	const struct apf_check_result *r = run_against(&s, "response-2022-req.bin", 0, &run);
	const struct apf_finding *f = apf_test_expect(r, "SCS_SQL_OK", APF_PASS);

	assert_string_equal(apf_test_evidence(f, "encryption"), "ENCRYPT_REQ (0x03)");
	assert_null(apf_test_find(r, "SCS_SQL_OUT_OF_SUPPORT"));
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);
}

static void test_not_tds(void **state)
{
	struct server s;
	struct apf_run *run;
	const struct apf_check_result *r = run_against(&s, "spec-4.1-request.bin", 0, &run);
	const struct apf_finding *f = apf_test_expect(r, "SCS_SQL_NOT_TDS", APF_FAIL);

	/* Only the packet header is read when it is not an answer's. */
	assert_string_equal(apf_test_evidence(f, "first_bytes"), "1201002f00000100");
	assert_string_equal(apf_test_evidence(f, "reason"), "packet type is not 0x04 (tabular response)");
	apf_run_free(run);

	/* Accepts, then closes before a byte: could not look, so ERROR. */
	r = run_against(&s, NULL, 0, &run);
	f = apf_test_expect(r, "SCS_SQL_NO_ANSWER", APF_ERROR);
	assert_non_null(strstr(apf_test_evidence(f, "error"), "after 0 bytes"));
	assert_null(apf_test_find(r, "SCS_SQL_NOT_TDS"));
	apf_run_free(run);
}

static void test_silent_server_is_error(void **state)
{
	struct server s;
	struct apf_run *run;
	const struct apf_check_result *r = run_against(&s, "", 1000, &run);

	apf_test_expect(r, "SCS_SQL_NO_ANSWER", APF_ERROR);
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
}

static void test_refused(void **state)
{
	struct server s;
	struct apf_run *run;
	char ini[128];
	const struct apf_check_result *r;

	/* Bind a port, then close it: nothing listens there. */
	server_start(&s, NULL);
	server_stop(&s);
	snprintf(ini, sizeof(ini), "[scs]\nsql_server = 127.0.0.1\nsql_port = %u\n", s.port);
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	apf_test_expect(r, "SCS_SQL_REFUSED", APF_FAIL);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_server_without_encryption),
		cmocka_unit_test(test_current_server),
		cmocka_unit_test(test_not_tds),
		cmocka_unit_test(test_silent_server_is_error),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
