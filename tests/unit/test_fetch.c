/* SPDX-License-Identifier: MIT */
/*
 * The one URL fetcher (src/net/fetch.c) against a loopback HTTP server thread:
 * redirects followed and capped, bodies capped, POSTs never redirected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "apf_test.h"
#include "net/fetch.h"
#include "util.h"

/* Answers by request path: /loopN redirects to /loopN+1 forever, /hop to /ok,
 * /ok is 200 "ok", /big is 200 with 64 KiB. Serves `n` connections. */
struct server {
	int fd;
	uint16_t port;
	int n;
	pthread_t thread;
};

static void answer(int c)
{
	char req[2048], path[256] = "", hdr[256];
	ssize_t got = recv(c, req, sizeof(req) - 1, 0);
	int loop;

	if (got <= 0)
		return;
	req[got] = '\0';
	if (sscanf(req, "%*s %255s", path) != 1)
		return;
	if (sscanf(path, "/loop%d", &loop) == 1) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\nLocation: /loop%d\r\nContent-Length: 0\r\n\r\n", loop + 1);
	} else if (strcmp(path, "/hop") == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n");
	} else if (strcmp(path, "/big") == 0) {
		static char body[65536];
		memset(body, 'x', sizeof(body));
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
		(void)!send(c, hdr, strlen(hdr), MSG_NOSIGNAL);
		(void)!send(c, body, sizeof(body), MSG_NOSIGNAL);
		return;
	} else {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	}
	(void)!send(c, hdr, strlen(hdr), MSG_NOSIGNAL);
}

static void *serve(void *arg)
{
	struct server *s = arg;

	for (int i = 0; i < s->n; i++) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		answer(c);
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s, int n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	s->n = n;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static char *url(const struct server *s, const char *path)
{
	return apf_xasprintf("http://127.0.0.1:%u%s", (unsigned int)s->port, path);
}

static void test_redirects(void **state)
{
	struct server s;
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 5000};
	struct apf_http_response *r = NULL;
	char *err = NULL, *hop, *loop;

	(void)state;
	server_start(&s, 2 + 1 + APF_FETCH_MAX_REDIRECTS);
	hop = url(&s, "/hop");
	loop = url(&s, "/loop0");
	/* one redirect is followed */
	assert_int_equal(apf_fetch(hop, &fo, &r, &err), 0);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->len, 2);
	assert_memory_equal(r->body, "ok", 2);
	assert_non_null(strstr(r->effective_url, "/ok"));
	apf_http_response_free(r);
	/* a loop ends after the cap: the first request and APF_FETCH_MAX_REDIRECTS more */
	assert_int_equal(apf_fetch(loop, &fo, &r, &err), -ELOOP);
	assert_null(r);
	assert_non_null(strstr(err, "redirects"));
	free(err);
	free(hop);
	free(loop);
	server_stop(&s);
}

static void test_post_not_redirected(void **state)
{
	struct server s;
	static const unsigned char req[] = {0x30, 0x00};
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 5000, .content_type = "application/ocsp-request",
				    .body = req, .body_len = sizeof(req)};
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL, *hop;

	(void)state;
	server_start(&s, 1);
	hop = url(&s, "/hop");
	assert_int_equal(apf_fetch_body(hop, &fo, &data, &len, &err), -ENOENT);
	assert_null(data);
	assert_non_null(strstr(err, "302"));
	free(err);
	free(hop);
	server_stop(&s);
}

static void test_body_cap(void **state)
{
	struct server s;
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 5000};
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL, *big;

	(void)state;
	server_start(&s, 1);
	big = url(&s, "/big");
	assert_int_equal(apf_fetch_body(big, &fo, &data, &len, &err), -EFBIG);
	assert_null(data);
	assert_non_null(strstr(err, "larger than 1024"));
	free(err);
	free(big);
	server_stop(&s);
}

static void test_no_time_left(void **state)
{
	struct apf_fetch_opts fo = {.max_bytes = 1024, .timeout_ms = 0};
	struct apf_http_response *r = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(apf_fetch("http://127.0.0.1:9/x", &fo, &r, &err), -ETIMEDOUT);
	assert_null(r);
	assert_non_null(err);
	free(err);
	/* LDAP has nothing to POST to (OCSP is HTTP only) */
	fo.timeout_ms = 1000;
	fo.body = (const unsigned char *)"x";
	fo.body_len = 1;
	assert_int_equal(apf_fetch("ldap://127.0.0.1/CN=x?a", &fo, &r, &err), -EPROTONOSUPPORT);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_post_not_redirected),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_no_time_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
