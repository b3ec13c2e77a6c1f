/* SPDX-License-Identifier: MIT */
/*
 * amt.tls against real TLS servers: `openssl s_server` children on loopback
 * addresses 127.0.0.2-.8 (one port for all, as AMT's 16993 is one port for a
 * fleet), certificates made at test time with the openssl tool (good, wrong
 * name, expired, not yet valid, self-signed, TLS 1.0 only, one shaped like the
 * on-die CA certificate of AMT 19+), a closed port, a
 * listener that accepts TCP and never speaks, and the scripted DNS responder
 * for the A records. Every child is stopped by its PID.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apf_test.h"
#include "net/tls.h"
#include "test_dns_responder.h"
#include "util.h"

#define ID "amt.tls"

/* The A records of the test fleet. */
static const struct dnsr_rule zone[] = {
	{"ok.amt.test.", 1, 0, {"ok.amt.test. 60 IN A 127.0.0.2"}, 0},
	{"mismatch.amt.test.", 1, 0, {"mismatch.amt.test. 60 IN A 127.0.0.3"}, 0},
	{"expired.amt.test.", 1, 0, {"expired.amt.test. 60 IN A 127.0.0.4"}, 0},
	{"self.amt.test.", 1, 0, {"self.amt.test. 60 IN A 127.0.0.5"}, 0},
	{"selfother.amt.test.", 1, 0, {"selfother.amt.test. 60 IN A 127.0.0.6"}, 0},
	{"future.amt.test.", 1, 0, {"future.amt.test. 60 IN A 127.0.0.7"}, 0},
	{"legacy.amt.test.", 1, 0, {"legacy.amt.test. 60 IN A 127.0.0.8"}, 0},
	{"closed.amt.test.", 1, 0, {"closed.amt.test. 60 IN A 127.0.0.9"}, 0},
	{"silent.amt.test.", 1, 0, {"silent.amt.test. 60 IN A 127.0.0.10"}, 0},
	{"nodata.amt.test.", 28, 0, {"nodata.amt.test. 60 IN AAAA 2001:db8::1"}, 0},
	{"refused.amt.test.", 1, 5, {NULL}, 0},
	{"odca.amt.test.", 1, 0, {"odca.amt.test. 60 IN A 127.0.0.11"}, 0},
	{"rps.amt.test.", 1, 0, {"rps.amt.test. 60 IN A 127.0.0.12"}, 0},
	{"mesh.amt.test.", 1, 0, {"mesh.amt.test. 60 IN A 127.0.0.13"}, 0},
};

/* One s_server per address: the certificate it serves and extra options. */
static const struct {
	const char *addr;
	const char *cert;
	bool chain; /* send the CA certificate too */
	const char *extra[4];
	const char *key, *ca; /* when not leaf.key / ca.pem */
} servers[] = {
	{"127.0.0.2", "ok.pem", true, {NULL}, NULL, NULL},
	{"127.0.0.3", "mismatch.pem", true, {NULL}, NULL, NULL},
	{"127.0.0.4", "expired.pem", true, {NULL}, NULL, NULL},
	{"127.0.0.5", "self.pem", false, {NULL}, NULL, NULL},
	{"127.0.0.6", "selfother.pem", false, {NULL}, NULL, NULL},
	{"127.0.0.7", "future.pem", true, {NULL}, NULL, NULL},
	/* What AMT 11 and older may speak: TLS 1.0 only. */
	{"127.0.0.8", "legacy.pem", true, {"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", NULL}, NULL, NULL},
	/* What AMT 19+ presents before provisioning: an on-die CA (ODCA) certificate, P-384. */
	{"127.0.0.11", "odca-leaf.pem", true, {NULL}, "odca-leaf.key", "odca-ca.pem"},
	/* What RPS gives AMT when it configures TLS itself: CN=AMT, from a CA named after the UUID. */
	{"127.0.0.12", "rps-leaf.pem", true, {NULL}, NULL, "rps-ca.pem"},
	/* What MeshCentral gives AMT: CN=IntelAMT-<12 hex>, O = its title, ST and C "MC". */
	{"127.0.0.13", "mesh-leaf.pem", true, {NULL}, NULL, "mesh-ca.pem"},
};
#define N_SERVERS (sizeof(servers) / sizeof(servers[0]))

static struct {
	char dir[64];
	uint16_t port;
	pid_t pid[N_SERVERS];
	int silent_fd;
	struct dnsr *dns;
} g = {.silent_fd = -1};

static const char *path_in(const char *name)
{
	static char buf[2][256];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", g.dir, name);
	return buf[k];
}

/* Runs argv (no shell) with output to $dir/openssl.log; returns its exit status. */
static int run_cmd(char *const argv[])
{
	pid_t pid = fork();
	int st = -1;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(path_in("openssl.log"), O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		if (chdir(g.dir) != 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define RUN(...)                                                                                                       \
	do {                                                                                                           \
		char *const argv_[] = {__VA_ARGS__, NULL};                                                             \
		if (run_cmd(argv_) != 0) {                                                                             \
			fprintf(stderr, "command failed: %s ... (see %s)\n", argv_[1], path_in("openssl.log"));         \
			return -1;                                                                                     \
		}                                                                                                      \
	} while (0)

static int write_text(const char *name, const char *text)
{
	FILE *f = fopen(path_in(name), "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A CA and leaf certificates, each named after what is wrong with it. */
static int make_pki(void)
{
	char cnf[2048];
	static const struct {
		const char *file, *cn, *ext, *start, *end;
	} leafs[] = {
		{"ok", "ok.amt.test", "ext_ok", NULL, NULL},
		{"mismatch", "wrongname.amt.test", "ext_wrong", NULL, NULL},
		{"expired", "expired.amt.test", "ext_expired", "20230101000000Z", "20240101000000Z"},
		{"future", "future.amt.test", "ext_future", "20990101000000Z", "20991231000000Z"},
		{"legacy", "legacy.amt.test", "ext_legacy", NULL, NULL},
	};

	snprintf(cnf, sizeof(cnf),
		 "[ca]\ndefault_ca = test_ca\n"
		 "[test_ca]\ndir = %s\ndatabase = $dir/index.txt\nserial = $dir/serial\nnew_certs_dir = $dir/newcerts\n"
		 "certificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\ndefault_days = 30\n"
		 "policy = p_any\nunique_subject = no\ncopy_extensions = none\n"
		 "[p_any]\ncommonName = supplied\n"
		 "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
		 "[v3_ca]\nbasicConstraints = critical, CA:true\nkeyUsage = critical, keyCertSign, cRLSign\n"
		 "[ext_ok]\nsubjectAltName = DNS:ok.amt.test, IP:127.0.0.2, IP:2001:db8::2\n"
		 "[ext_wrong]\nsubjectAltName = DNS:wrongname.amt.test\n"
		 "[ext_expired]\nsubjectAltName = DNS:expired.amt.test\n"
		 "[ext_future]\nsubjectAltName = DNS:future.amt.test\n"
		 "[ext_legacy]\nsubjectAltName = DNS:legacy.amt.test\n",
		 g.dir);
	if (write_text("ca.cnf", cnf) || write_text("index.txt", "") || write_text("serial", "1000\n") ||
	    mkdir(path_in("newcerts"), 0700) != 0)
		return -1;
	RUN("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "ca.key");
	RUN("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaf.key");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Test AMT CA",
	    "-extensions", "v3_ca", "-days", "30", "-out", "ca.pem");
	for (size_t i = 0; i < sizeof(leafs) / sizeof(leafs[0]); i++) {
		char subj[64], csr[32], out[32];

		snprintf(subj, sizeof(subj), "/CN=%s", leafs[i].cn);
		snprintf(csr, sizeof(csr), "%s.csr", leafs[i].file);
		snprintf(out, sizeof(out), "%s.pem", leafs[i].file);
		RUN("openssl", "req", "-config", "ca.cnf", "-new", "-key", "leaf.key", "-subj", subj, "-out", csr);
		if (leafs[i].start) {
			RUN("openssl", "ca", "-batch", "-notext", "-config", "ca.cnf", "-extensions", (char *)leafs[i].ext,
			    "-in", csr, "-out", out, "-startdate", (char *)leafs[i].start, "-enddate",
			    (char *)leafs[i].end);
		} else {
			RUN("openssl", "ca", "-batch", "-notext", "-config", "ca.cnf", "-extensions", (char *)leafs[i].ext,
			    "-in", csr, "-out", out);
		}
	}
	/* The device's own certificates: one for its FQDN, one like AMT's pre-provisioning one. */
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "leaf.key", "-subj", "/CN=self.amt.test",
	    "-addext", "subjectAltName=DNS:self.amt.test", "-days", "30", "-out", "self.pem");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "leaf.key", "-subj", "/CN=AMT-0A1B2C3D",
	    "-days", "30", "-out", "selfother.pem");
	/* Shaped like AMT 19+'s (rpc-go pull request 1329's log): "AMT RCFG", P-384, serverAuth,
	 * issued by "ODCA 2 CSME LNL SOC SVN 01 AMT   CA" (the spaces are Intel's). */
	RUN("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "odca-ca.key");
	RUN("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "odca-leaf.key");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "odca-ca.key", "-subj",
	    "/CN=ODCA 2 CSME LNL SOC SVN 01 AMT   CA", "-extensions", "v3_ca", "-days", "30", "-out", "odca-ca.pem");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "odca-leaf.key", "-subj", "/CN=AMT RCFG",
	    "-CA", "odca-ca.pem", "-CAkey", "odca-ca.key", "-addext", "extendedKeyUsage=serverAuth", "-addext",
	    "basicConstraints=critical,CA:false", "-days", "30", "-out", "odca-leaf.pem");
	/* Shaped like RPS's (its TLS state machine): subject CN=AMT with ST and O "None" (RPS
	 * also sets C=None, which OpenSSL will not write), issuer CN = the device's UUID. */
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "ca.key", "-subj",
	    "/CN=4c4c4544-0035-5910-8031-b2c04f4e3732", "-extensions", "v3_ca", "-days", "30", "-out", "rps-ca.pem");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "leaf.key", "-subj", "/CN=AMT/ST=None/O=None",
	    "-CA", "rps-ca.pem", "-CAkey", "ca.key", "-addext", "extendedKeyUsage=serverAuth", "-days", "30", "-out",
	    "rps-leaf.pem");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=MeshCentralRoot-0a1b2c",
	    "-extensions", "v3_ca", "-days", "30", "-out", "mesh-ca.pem");
	RUN("openssl", "req", "-config", "ca.cnf", "-x509", "-new", "-key", "leaf.key", "-subj",
	    "/CN=IntelAMT-0a1b2c3d4e5f/O=MeshCentral/ST=MC/C=MC", "-CA", "mesh-ca.pem", "-CAkey", "ca.key", "-addext",
	    "extendedKeyUsage=serverAuth,clientAuth", "-days", "30", "-out", "mesh-leaf.pem");
	return 0;
}

/* True once addr:port accepts a TCP connection (within ~5 s). */
static bool wait_listening(const char *addr, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, addr, &a.sin_addr);
	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

		close(fd);
		if (ok)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

static pid_t start_server(size_t i)
{
	char accept[64], *argv[20];
	size_t k = 0;
	pid_t pid;

	snprintf(accept, sizeof(accept), "%s:%u", servers[i].addr, g.port);
	argv[k++] = "openssl";
	argv[k++] = "s_server";
	argv[k++] = "-quiet";
	argv[k++] = "-www";
	argv[k++] = "-accept";
	argv[k++] = accept;
	argv[k++] = "-cert";
	argv[k++] = (char *)servers[i].cert;
	argv[k++] = "-key";
	argv[k++] = (char *)(servers[i].key ? servers[i].key : "leaf.key");
	if (servers[i].chain) {
		argv[k++] = "-cert_chain";
		argv[k++] = (char *)(servers[i].ca ? servers[i].ca : "ca.pem");
	}
	for (size_t j = 0; servers[i].extra[j]; j++)
		argv[k++] = (char *)servers[i].extra[j];
	argv[k] = NULL;
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (chdir(g.dir) != 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int setup(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd;

	signal(SIGPIPE, SIG_IGN); /* as main() does: OpenSSL writes to sockets peers may have reset */
	snprintf(g.dir, sizeof(g.dir), "%s", apf_test_tmpdir());
	if (make_pki() != 0)
		return -1;
	/* A port free on 127.0.0.1 is, in practice, free on the other loopback addresses too. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	g.port = ntohs(a.sin_port);
	close(fd);
	for (size_t i = 0; i < N_SERVERS; i++) {
		g.pid[i] = start_server(i);
		if (g.pid[i] < 0)
			return -1;
	}
	for (size_t i = 0; i < N_SERVERS; i++) {
		if (!wait_listening(servers[i].addr, g.port)) {
			fprintf(stderr, "s_server on %s:%u did not start\n", servers[i].addr, g.port);
			return -1;
		}
	}
	/* Accepts TCP (the kernel completes the handshake into the backlog) and never speaks;
	 * the backlog is deep enough for every connection the tests make to it. */
	g.silent_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons(g.port);
	inet_pton(AF_INET, "127.0.0.10", &a.sin_addr);
	if (bind(g.silent_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(g.silent_fd, 64) < 0)
		return -1;
	g.dns = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), 0, true);
	return g.dns ? 0 : -1;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < N_SERVERS; i++) {
		if (g.pid[i] > 0) {
			kill(g.pid[i], SIGTERM);
			waitpid(g.pid[i], NULL, 0);
			g.pid[i] = 0;
		}
	}
	if (g.silent_fd >= 0)
		close(g.silent_fd);
	if (g.dns)
		dnsr_stop(g.dns);
	return 0;
}

static char *conf(const char *hosts, uint16_t dns_port)
{
	char *s = NULL;

	if (asprintf(&s, "[dns]\nservers = 127.0.0.1#%u\n[amt]\ntls_hosts = %s\ntls_port = %u\n", dns_port, hosts,
		     g.port) < 0)
		abort();
	return s;
}

static const struct apf_check_result *run_hosts(const char *hosts, unsigned int timeout, struct apf_run **run)
{
	char *ini = conf(hosts, dnsr_port(g.dns));

	*run = apf_test_run(ID, ini, timeout);
	free(ini);
	return apf_test_result(*run, ID);
}

/* "openssl x509 -noout OPTION -in FILE" output after the '=' (e.g. the serial), into buf. */
static const char *x509_field(const char *file, const char *option, char *buf, size_t len)
{
	char cmd[512], line[256] = "";
	FILE *p;
	char *eq;

	snprintf(cmd, sizeof(cmd), "openssl x509 -noout %s -in '%s'", option, path_in(file));
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	eq = strchr(line, '=');
	snprintf(buf, len, "%s", eq ? eq + 1 : line);
	return buf;
}

/* "AB:CD:..." -> "abcd..." */
static void strip_colons_lower(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != ':')
			*w++ = (char)(*r >= 'A' && *r <= 'Z' ? *r - 'A' + 'a' : *r);
	}
	*w = '\0';
}

static void expect_ev(const struct apf_finding *f, const char *key, const char *want)
{
	const char *v = apf_test_evidence(f, key);

	if (!v || strcmp(v, want) != 0)
		fail_msg("evidence %s: got '%s', want '%s'", key, v ? v : "(none)", want);
}

static void expect_ev_prefix(const struct apf_finding *f, const char *key, const char *want)
{
	const char *v = apf_test_evidence(f, key);

	if (!v || strncmp(v, want, strlen(want)) != 0)
		fail_msg("evidence %s: got '%s', want it to start with '%s'", key, v ? v : "(none)", want);
}

static void test_fleet_verdicts(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r =
		run_hosts("ok.amt.test, mismatch.amt.test, expired.amt.test, self.amt.test\n"
			  "tls_hosts = selfother.amt.test, future.amt.test, legacy.amt.test, closed.amt.test\n"
			  "tls_hosts = missing.amt.test, nodata.amt.test., refused.amt.test",
			  0, &run);
	const struct apf_finding *f;
	char want[128], buf[128];

	/* The one good host, with its certificate as evidence. */
	f = apf_test_expect(r, "TLS_OK", APF_PASS);
	expect_ev(f, "count", "1");
	expect_ev(f, "hosts", "11");
	expect_ev(f, "hosts_from", "[amt] tls_hosts");
	snprintf(want, sizeof(want), "ok.amt.test -> 127.0.0.2:%u", g.port);
	expect_ev(f, "host_1", want);
	expect_ev(f, "host_1_subject", "CN=ok.amt.test");
	expect_ev(f, "host_1_issuer", "CN=Test AMT CA");
	expect_ev(f, "host_1_san", "ok.amt.test");
	expect_ev(f, "host_1_name_match", "yes");
	expect_ev(f, "host_1_self_signed", "no");
	expect_ev_prefix(f, "host_1_tls", "TLSv1.");
	expect_ev(f, "host_1_chain", "2: CN=ok.amt.test | CN=Test AMT CA");
	x509_field("ok.pem", "-serial", buf, sizeof(buf));
	expect_ev(f, "host_1_serial", buf);
	x509_field("ok.pem", "-fingerprint -sha1", buf, sizeof(buf));
	strip_colons_lower(buf);
	expect_ev(f, "host_1_sha1", buf);
	assert_null(apf_test_evidence(f, "host_2"));

	/* CA-issued for another name: the SCS refuses it. */
	f = apf_test_expect(r, "TLS_NAME_MISMATCH", APF_FAIL);
	expect_ev(f, "count", "1");
	snprintf(want, sizeof(want), "mismatch.amt.test -> 127.0.0.3:%u", g.port);
	expect_ev(f, "host_1", want);
	expect_ev(f, "host_1_san", "wrongname.amt.test");
	expect_ev(f, "host_1_name_match", "no");

	f = apf_test_expect(r, "TLS_CERT_EXPIRED", APF_FAIL);
	expect_ev(f, "count", "1");
	expect_ev_prefix(f, "host_1", "expired.amt.test -> 127.0.0.4:");
	expect_ev(f, "host_1_not_before", "2023-01-01T00:00:00Z");
	expect_ev(f, "host_1_not_after", "2024-01-01T00:00:00Z");

	f = apf_test_expect(r, "TLS_CERT_NOT_YET_VALID", APF_FAIL);
	expect_ev(f, "count", "1");
	expect_ev_prefix(f, "host_1", "future.amt.test -> 127.0.0.7:");
	expect_ev(f, "host_1_not_before", "2099-01-01T00:00:00Z");

	/* Both self-signed hosts are INFO; the one not carrying its FQDN is not a name FAIL. */
	f = apf_test_expect(r, "TLS_SELF_SIGNED", APF_INFO);
	expect_ev(f, "count", "2");
	expect_ev_prefix(f, "host_1", "self.amt.test -> 127.0.0.5:");
	expect_ev(f, "host_1_name_match", "yes");
	expect_ev(f, "host_1_self_signed", "yes");
	expect_ev_prefix(f, "host_2", "selfother.amt.test -> 127.0.0.6:");
	expect_ev(f, "host_2_subject", "CN=AMT-0A1B2C3D");
	expect_ev(f, "host_2_name_match", "no");
	expect_ev(f, "host_2_san", "(none)");
	expect_ev(f, "host_2_chain", "1: CN=AMT-0A1B2C3D");

	/* TLS 1.0 only: handshake through the legacy context, certificate still judged (it is fine). */
	f = apf_test_expect(r, "TLS_LEGACY_ONLY", APF_WARN);
	expect_ev(f, "count", "1");
	expect_ev_prefix(f, "host_1", "legacy.amt.test -> 127.0.0.8:");
	expect_ev_prefix(f, "host_1_tls", "TLSv1 ");
	expect_ev(f, "host_1_name_match", "yes");
	assert_non_null(apf_test_evidence(f, "host_1_modern_error"));

	/* Could not check: ERROR, never FAIL. */
	f = apf_test_expect(r, "TLS_CONNECT_FAILED", APF_ERROR);
	expect_ev(f, "count", "1");
	snprintf(want, sizeof(want), "closed.amt.test -> 127.0.0.9:%u", g.port);
	expect_ev(f, "host_1", want);
	expect_ev(f, "host_1_stage", "connect");
	expect_ev(f, "host_1_error", "TCP connect: Connection refused");

	f = apf_test_expect(r, "TLS_DNS_ERROR", APF_ERROR);
	expect_ev(f, "count", "1");
	expect_ev(f, "host_1", "refused.amt.test");
	snprintf(want, sizeof(want), "A query to 127.0.0.1#%u: REFUSED", dnsr_port(g.dns));
	expect_ev(f, "host_1_dns", want);

	/* No A record: the SCS cannot reach the device by name. The trailing dot is dropped. */
	f = apf_test_expect(r, "TLS_NO_ADDRESS", APF_FAIL);
	expect_ev(f, "count", "2");
	expect_ev(f, "host_1", "missing.amt.test");
	snprintf(want, sizeof(want), "A -> NXDOMAIN from 127.0.0.1#%u", dnsr_port(g.dns));
	expect_ev(f, "host_1_dns", want);
	expect_ev(f, "host_2", "nodata.amt.test");
	snprintf(want, sizeof(want), "A -> no record (NODATA) from 127.0.0.1#%u", dnsr_port(g.dns));
	expect_ev(f, "host_2_dns", want);

	assert_null(apf_test_find(r, "TLS_TIMEOUT"));
	assert_null(apf_test_find(r, "TLS_HANDSHAKE_FAILED"));
	assert_null(apf_test_find(r, "TLS_INCOMPLETE"));
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
}

static void test_all_good_passes(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_hosts("ok.amt.test", 0, &run);

	apf_test_expect(r, "TLS_OK", APF_PASS);
	assert_int_equal(r->n_findings, 1);
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);
}

/* AMT 19+ before provisioning: an on-die CA certificate without the DNS name is INFO, never a name FAIL. */
static void test_odca_certificate(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_hosts("odca.amt.test, ok.amt.test", 0, &run);
	const struct apf_finding *f;

	(void)state;
	f = apf_test_expect(r, "TLS_ODCA_ISSUED", APF_INFO);
	expect_ev(f, "count", "1");
	expect_ev_prefix(f, "host_1", "odca.amt.test -> 127.0.0.11:");
	expect_ev(f, "host_1_subject", "CN=AMT RCFG");
	expect_ev(f, "host_1_issuer", "CN=ODCA 2 CSME LNL SOC SVN 01 AMT   CA");
	expect_ev(f, "host_1_name_match", "no");
	expect_ev(f, "host_1_self_signed", "no");
	assert_null(apf_test_find(r, "TLS_NAME_MISMATCH"));
	assert_null(apf_test_find(r, "TLS_SELF_SIGNED"));
	apf_test_expect(r, "TLS_OK", APF_PASS);
	assert_int_equal(r->status, APF_INFO);
	apf_run_free(run);
}

/* Devices whose TLS RPS or MeshCentral configured: their certificates name no host by
 * design, INFO, never a name FAIL. */
static void test_server_issued_certificates(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_hosts("rps.amt.test, mesh.amt.test, mismatch.amt.test", 0, &run);
	const struct apf_finding *f;

	(void)state;
	f = apf_test_expect(r, "TLS_SERVER_ISSUED", APF_INFO);
	expect_ev(f, "count", "2");
	expect_ev_prefix(f, "host_1", "rps.amt.test -> 127.0.0.12:");
	expect_ev(f, "host_1_subject", "O=None,ST=None,CN=AMT");
	expect_ev(f, "host_1_issuer", "CN=4c4c4544-0035-5910-8031-b2c04f4e3732");
	expect_ev(f, "host_1_issued_by", "Open AMT RPS");
	expect_ev(f, "host_1_name_match", "no");
	expect_ev_prefix(f, "host_2", "mesh.amt.test -> 127.0.0.13:");
	expect_ev(f, "host_2_subject", "C=MC,ST=MC,O=MeshCentral,CN=IntelAMT-0a1b2c3d4e5f");
	expect_ev(f, "host_2_issued_by", "MeshCentral");
	/* a CA-issued certificate for another name is still a FAIL */
	f = apf_test_expect(r, "TLS_NAME_MISMATCH", APF_FAIL);
	expect_ev(f, "count", "1");
	expect_ev_prefix(f, "host_1", "mismatch.amt.test -> ");
	assert_null(apf_test_evidence(f, "host_1_issued_by"));
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
}

static void test_silent_peer_times_out(void **state)
{
	struct apf_run *run;
	uint64_t t0 = apf_now_ms(), spent;
	const struct apf_check_result *r = run_hosts("silent.amt.test", 3000, &run);
	const struct apf_finding *f;
	char want[64];

	spent = apf_now_ms() - t0;
	f = apf_test_expect(r, "TLS_TIMEOUT", APF_ERROR);
	snprintf(want, sizeof(want), "silent.amt.test -> 127.0.0.10:%u", g.port);
	expect_ev(f, "host_1", want);
	expect_ev(f, "host_1_stage", "handshake");
	assert_null(apf_test_find(r, "CHECK_TIMEOUT"));
	assert_int_equal(r->status, APF_ERROR);
	/* Within the check's deadline (3 s), not a hang, and not given up at once either. */
	assert_true(spent < 3100);
	assert_true(spent > 1000);
	apf_run_free(run);
}

static void test_address_entry_needs_no_dns(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	unsigned int before = dnsr_udp_queries(g.dns) + dnsr_tcp_queries(g.dns);
	char *ini = NULL;

	/* No [dns] servers at all: an address is probed as is and checked against IP SANs. */
	if (asprintf(&ini, "[amt]\ntls_hosts = 127.0.0.2, 127.0.0.3\ntls_port = %u\n", g.port) < 0)
		abort();
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "TLS_OK", APF_PASS);
	expect_ev_prefix(f, "host_1", "127.0.0.2 -> 127.0.0.2:");
	expect_ev(f, "host_1_san_ip", "127.0.0.2, 2001:db8::2");
	f = apf_test_expect(r, "TLS_NAME_MISMATCH", APF_FAIL);
	expect_ev_prefix(f, "host_1", "127.0.0.3 -> 127.0.0.3:");
	assert_null(apf_test_evidence(f, "host_1_san_ip"));
	assert_int_equal(dnsr_udp_queries(g.dns) + dnsr_tcp_queries(g.dns), before);
	apf_run_free(run);
	free(ini);
}

static void test_hosts_file_fallback_and_cap(void **state)
{
	char *path = NULL, *ini = NULL;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	FILE *fp;

	if (asprintf(&path, "%s/hosts.txt", g.dir) < 0)
		abort();
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "# the fleet\nok.amt.test 127.0.0.2\n");
	for (int i = 0; i < 1004; i++)
		fprintf(fp, "gone-%04d.amt.test\n", i);
	fclose(fp);
	/* [amt] tls_max_hosts cuts the list (the default is 100,000). */
	if (asprintf(&ini,
		     "[dns]\nservers = 127.0.0.1#%u\nhosts_file = %s\nrate_limit = 0\n[amt]\ntls_port = %u\n"
		     "tls_max_hosts = 1000\n",
		     dnsr_port(g.dns), path, g.port) < 0)
		abort();
	run = apf_test_run(ID, ini, 0);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "TLS_HOSTS_CAPPED", APF_INFO);
	expect_ev(f, "listed", "1005");
	expect_ev(f, "probed", "1000");
	expect_ev(f, "tls_max_hosts", "1000");
	f = apf_test_expect(r, "TLS_OK", APF_PASS);
	expect_ev(f, "hosts_from", path);
	expect_ev(f, "hosts", "1000");
	f = apf_test_expect(r, "TLS_NO_ADDRESS", APF_FAIL);
	expect_ev(f, "count", "999");
	expect_ev(f, "not_shown", "994");
	apf_run_free(run);
	free(ini);
	free(path);
}

/*
 * A silent server: every host is an ERROR, never a missing record. About four
 * queries in flight ([dns] window) run out of their two retries, the server is
 * given up, and most of the other hosts are never sent to it.
 */
static void test_dns_down_is_error(void **state)
{
	struct dnsr *dead = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), DNSR_DROP, false);
	char *ini = NULL;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	char want[96];

	if (asprintf(&ini,
		     "[dns]\nservers = 127.0.0.1#%u\nwindow = 4\n[amt]\ntls_port = %u\n"
		     "tls_hosts = ok.amt.test, a.amt.test, b.amt.test, c.amt.test, d.amt.test, e.amt.test\n"
		     "tls_hosts = f.amt.test, g.amt.test, h.amt.test, i.amt.test, j.amt.test, k.amt.test\n",
		     dnsr_port(dead), g.port) < 0)
		abort();
	run = apf_test_run(ID, ini, 6000);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "TLS_DNS_ERROR", APF_ERROR);
	expect_ev(f, "count", "12");
	snprintf(want, sizeof(want), "A query to 127.0.0.1#%u: no answer", dnsr_port(dead));
	expect_ev(f, "host_1_dns", want);
	/* Twelve hosts with three tries each would be 36 queries. */
	assert_true(dnsr_udp_queries(dead) < 12 * 3);
	assert_null(apf_test_find(r, "TLS_NO_ADDRESS"));
	assert_null(apf_test_find(r, "TLS_INCOMPLETE"));
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	free(ini);
	dnsr_stop(dead);
}

/* amt.tls on ok.amt.test and missing.amt.test, asking two DNS servers in this order. */
static struct apf_run *run_two_servers(uint16_t first, uint16_t second)
{
	char *ini = NULL;
	struct apf_run *run;

	if (asprintf(&ini,
		     "[dns]\nservers = 127.0.0.1#%u\nservers = 127.0.0.1#%u\n[amt]\ntls_port = %u\n"
		     "tls_hosts = ok.amt.test, missing.amt.test\n",
		     first, second, g.port) < 0)
		abort();
	run = apf_test_run(ID, ini, 6000);
	free(ini);
	return run;
}

/*
 * A silent first server costs a few timeouts and the second settles every
 * host; the other way round, what the first settled is never asked again.
 */
static void test_next_dns_server_answers(void **state)
{
	struct dnsr *dead = dnsr_start(zone, sizeof(zone) / sizeof(zone[0]), DNSR_DROP, false);
	struct apf_run *run = run_two_servers(dnsr_port(dead), dnsr_port(g.dns));
	const struct apf_check_result *r = apf_test_result(run, ID);
	const struct apf_finding *f;
	unsigned int asked;
	char want[96];

	f = apf_test_expect(r, "TLS_OK", APF_PASS);
	expect_ev(f, "hosts", "2");
	f = apf_test_expect(r, "TLS_NO_ADDRESS", APF_FAIL);
	snprintf(want, sizeof(want), "A -> NXDOMAIN from 127.0.0.1#%u", dnsr_port(g.dns));
	expect_ev(f, "host_1_dns", want);
	assert_true(dnsr_udp_queries(dead) >= 1);
	assert_null(apf_test_find(r, "TLS_DNS_ERROR"));
	assert_null(apf_test_find(r, "TLS_INCOMPLETE"));
	apf_run_free(run);

	asked = dnsr_udp_queries(dead);
	run = run_two_servers(dnsr_port(g.dns), dnsr_port(dead));
	apf_test_expect(apf_test_result(run, ID), "TLS_NO_ADDRESS", APF_FAIL);
	assert_int_equal(dnsr_udp_queries(dead), asked);
	apf_run_free(run);
	dnsr_stop(dead);
}

/* The engine alone: a full window of silent peers is cut at the deadline, the rest never start. */
static void test_adapter_window_and_deadline(void **state)
{
	struct apf_tls_probe p[40];
	struct apf_tls_opts o = {.window = 32, .timeout_ms = 5000, .legacy_fallback = true};
	uint64_t t0 = apf_now_ms(), spent;

	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < 40; i++) {
		p[i].ip = "127.0.0.10";
		p[i].port = g.port;
		p[i].name = "silent.amt.test";
	}
	o.deadline_ms = t0 + 700;
	assert_int_equal(apf_tls_probe_run(&o, p, 40, NULL), 0);
	spent = apf_now_ms() - t0;
	assert_true(spent >= 650 && spent < 1000);
	for (size_t i = 0; i < 40; i++) {
		if (i < 32) {
			/* The listener's backlog holds them all: TCP connected, TLS never
			 * answered. A timeout is not a reason to try the legacy settings. */
			assert_int_equal(p[i].rc, -ETIMEDOUT);
			assert_string_equal(p[i].stage, "handshake");
			assert_null(p[i].legacy_error);
		} else {
			assert_int_equal(p[i].rc, -ECANCELED);
			assert_string_equal(p[i].stage, "not started");
		}
		apf_tls_probe_clear(&p[i]);
	}
}

/* Refused ports end at once, whatever the window, and are not retried with legacy settings. */
static void test_adapter_refused_is_fast(void **state)
{
	struct apf_tls_probe p[50];
	struct apf_tls_opts o = {.window = 4, .timeout_ms = 5000, .legacy_fallback = true};
	uint64_t t0 = apf_now_ms();

	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < 50; i++) {
		p[i].ip = "127.0.0.9";
		p[i].port = g.port;
		p[i].name = "closed.amt.test";
	}
	assert_int_equal(apf_tls_probe_run(&o, p, 50, NULL), 0);
	assert_true(apf_now_ms() - t0 < 1000);
	for (size_t i = 0; i < 50; i++) {
		assert_int_equal(p[i].rc, -ECONNREFUSED);
		assert_string_equal(p[i].stage, "connect");
		assert_string_equal(p[i].error, "TCP connect: Connection refused");
		assert_null(p[i].legacy_error);
		assert_int_equal(p[i].n_der, 0);
		apf_tls_probe_clear(&p[i]);
	}
}

static void test_nothing_configured_skips(void **state)
{
	struct apf_run *run = apf_test_run(ID, "[dns]\nservers = 127.0.0.1\n", 0);
	const struct apf_check_result *r = apf_test_result(run, ID);

	apf_test_expect(r, "CHECK_SKIPPED", APF_SKIP);
	assert_int_equal(r->status, APF_SKIP);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fleet_verdicts),
		cmocka_unit_test(test_all_good_passes),
		cmocka_unit_test(test_odca_certificate),
		cmocka_unit_test(test_server_issued_certificates),
		cmocka_unit_test(test_silent_peer_times_out),
		cmocka_unit_test(test_address_entry_needs_no_dns),
		cmocka_unit_test(test_hosts_file_fallback_and_cap),
		cmocka_unit_test(test_dns_down_is_error),
		cmocka_unit_test(test_next_dns_server_answers),
		cmocka_unit_test(test_nothing_configured_skips),
		cmocka_unit_test(test_adapter_window_and_deadline),
		cmocka_unit_test(test_adapter_refused_is_fast),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
