/* SPDX-License-Identifier: MIT */
/* See test_cert_fixture.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apf_test.h"
#include "test_cert_fixture.h"

static char pki_dir[256], dead_dir[256];
static pid_t http_pid;

char *cert_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static void run_mkpki(const char *dir, const char *url)
{
	char *cmd = cert_fmt("bash '%s' '%s' %s >'%s.log' 2>&1", apf_test_srcpath("checks/pki/mkpki.sh"), dir,
			     url ? url : "", dir);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("mkpki.sh failed (%d): see %s.log", rc, dir);
	free(cmd);
}

static unsigned short free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &len))
		fail_msg("cannot find a free port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

int cert_fixture_setup(void **state)
{
	unsigned short port = free_port();
	char portstr[16], *url;

	(void)state;
	/* Secrets come from files in these tests; an inherited variable would mask them. */
	unsetenv("AMT_PREFLIGHT_PFX_PASSWORD");
	snprintf(pki_dir, sizeof(pki_dir), "%s/pki", apf_test_tmpdir());
	url = cert_fmt("http://127.0.0.1:%u", port);
	run_mkpki(pki_dir, url);
	free(url);
	snprintf(portstr, sizeof(portstr), "%u", port);
	http_pid = fork();
	if (http_pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("python3", "python3", "-m", "http.server", portstr, "--bind", "127.0.0.1", "--directory", pki_dir,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port_open(port); i++)
		usleep(50 * 1000);
	if (!port_open(port))
		fail_msg("the test HTTP server did not start on port %u", port);
	return 0;
}

int cert_fixture_teardown(void **state)
{
	(void)state;
	if (http_pid > 0) {
		kill(http_pid, SIGTERM);
		waitpid(http_pid, NULL, 0);
		http_pid = 0;
	}
	/* Both PKIs live in apf_test_tmpdir() directories, removed at exit. */
	pki_dir[0] = dead_dir[0] = '\0';
	return 0;
}

static const char *path_in(const char *dir, const char *file)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, file);
	return b;
}

const char *cert_pki(const char *file)
{
	return path_in(pki_dir, file);
}

const char *cert_pki_dead(const char *file)
{
	if (!dead_dir[0]) {
		snprintf(dead_dir, sizeof(dead_dir), "%s/pki", apf_test_tmpdir());
		run_mkpki(dead_dir, NULL);
	}
	return path_in(dead_dir, file);
}

char *cert_openssl(const char *file, const char *opt)
{
	char *cmd = cert_fmt("openssl x509 -noout %s -in '%s'", opt, file), line[512], *eq, *out;
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p || !fgets(line, sizeof(line), p))
		fail_msg("%s: no output", cmd);
	pclose(p);
	free(cmd);
	eq = strchr(line, '=');
	eq = eq ? eq + 1 : line;
	out = malloc(strlen(eq) + 1);
	for (const char *s = eq; *s && *s != '\n'; s++) {
		if (*s == ':')
			continue;
		/* fingerprints are compared lowercase (our model's form); serials stay as printed */
		out[n++] = strstr(opt, "fingerprint") ? (char)tolower((unsigned char)*s) : *s;
	}
	out[n] = '\0';
	return out;
}

bool cert_has_fail(const struct apf_check_result *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (r->findings[i]->status == APF_FAIL)
			return true;
	return false;
}
