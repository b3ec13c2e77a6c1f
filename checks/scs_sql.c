/* SPDX-License-Identifier: MIT */
/*
 * scs.sql: Intel SCS in database mode keeps its configuration, profiles and
 * AMT passwords in SQL Server; when the database is unreachable the service
 * cannot configure anything. This check connects to the configured instance
 * the way the SCS service would (name through the clients' DNS, TCP to the
 * instance port) and sends a TDS PRELOGIN (MS-TDS 2.2.6.5), which every SQL
 * Server answers before any login: version and encryption, with no account.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ad.h"
#include "check.h"
#include "net/tcp.h"
#include "tds.h"

#define CONNECT_CAP_MS 5000
#define DNS_CAP_MS 3000
/* A PRELOGIN answer is one small packet: a server that needs longer is not answering. */
#define EXCHANGE_CAP_MS 5000

static const struct apf_code codes[] = {
	{"SCS_SQL_OK", APF_PASS, "The SQL Server answered the TDS PRELOGIN: it is reachable and speaks TDS", NULL},
	{"SCS_SQL_UNRESOLVED", APF_FAIL, "[scs] sql_server has no address in the DNS the clients and the SCS use",
	 "Add the SQL Server's A record, or set [scs] sql_server to the name the SCS connection string uses"},
	{"SCS_SQL_REFUSED", APF_FAIL,
	 "The SQL Server host refused the instance port: SQL Server is not running there, listens on another port "
	 "(a named instance), or TCP/IP is disabled for the instance; the SCS service cannot reach its database",
	 "Start SQL Server, enable TCP/IP for the instance (SQL Server Configuration Manager) and set [scs] sql_port "
	 "to the instance's port"},
	{"SCS_SQL_NO_ANSWER", APF_ERROR,
	 "The SQL Server did not answer (no TCP connection, no PRELOGIN answer in time, or the connection closed "
	 "before the first byte): a firewall or middlebox cannot be told apart from a slow or stopped server",
	 "Allow TCP to the instance port from the setup server's network and run the check from there"},
	{"SCS_SQL_NOT_TDS", APF_FAIL,
	 "Something answered on the port, but not with a TDS PRELOGIN response: it is not SQL Server (or the instance "
	 "accepts only TDS 8.0 strict encryption, where TLS comes first)",
	 "Point [scs] sql_server and sql_port at the SQL Server instance that holds the SCS database"},
	{"SCS_SQL_NO_ENCRYPTION", APF_WARN,
	 "The server cannot encrypt at all (ENCRYPT_NOT_SUP): even the login, and with SQL Server authentication its "
	 "password, crosses the network in clear",
	 "Give the instance a TLS certificate (SQL Server Configuration Manager, Protocols, Certificate) and use "
	 "Windows authentication for the SCS service"},
	{"SCS_SQL_OUT_OF_SUPPORT", APF_WARN,
	 "The SQL Server version is past the end of Microsoft's extended support: no security updates",
	 "Move the SCS database to a supported SQL Server version"},
	{0},
};

/*
 * Product names and the end of extended support, from Microsoft's "SQL Server
 * versions" build lists and the Microsoft Lifecycle pages for each release.
 */
static const struct {
	uint8_t major, minor; /* minor 0xff: any */
	const char *product;
	const char *support_end; /* YYYY-MM-DD */
} versions[] = {
	{8, 0xff, "SQL Server 2000", "2013-04-09"},   {9, 0xff, "SQL Server 2005", "2016-04-12"},
	{10, 50, "SQL Server 2008 R2", "2019-07-09"}, {10, 0xff, "SQL Server 2008", "2019-07-09"},
	{11, 0xff, "SQL Server 2012", "2022-07-12"},  {12, 0xff, "SQL Server 2014", "2024-07-09"},
	{13, 0xff, "SQL Server 2016", "2026-07-14"},  {14, 0xff, "SQL Server 2017", "2027-10-12"},
	{15, 0xff, "SQL Server 2019", "2030-01-08"},  {16, 0xff, "SQL Server 2022", "2033-01-11"},
	{17, 0xff, "SQL Server 2025", NULL},
};

static void target_evidence(struct apf_finding *f, const char *host, const char *ip, uint16_t port)
{
	apf_evidence(f, "sql_server", "%s", host);
	if (strcmp(host, ip) != 0)
		apf_evidence(f, "address", "%s", ip);
	apf_evidence(f, "port", "%u", port);
}

/* Today as YYYY-MM-DD (UTC), to compare with the support dates. */
static void today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void report_answer(struct apf_ctx *ctx, const char *host, const char *ip, uint16_t port,
			  const struct apf_tds_prelogin *pl, uint64_t rtt)
{
	const char *product = "unknown", *support_end = NULL;
	char version[32] = "not sent", now[11];
	struct apf_finding *f;

	if (pl->has_version) {
		snprintf(version, sizeof(version), "%u.%u.%u.%u", pl->major, pl->minor, pl->build, pl->subbuild);
		for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
			if (versions[i].major == pl->major && (versions[i].minor == 0xff || versions[i].minor == pl->minor)) {
				product = versions[i].product;
				support_end = versions[i].support_end;
				break;
			}
		}
	}
	f = apf_report(ctx, APF_PASS, "SCS_SQL_OK", "SQL Server %s:%u answered: %s (%s), %s", host, port, product,
		       version, pl->has_encryption ? apf_tds_encryption_name(pl->encryption) : "encryption not sent");
	target_evidence(f, host, ip, port);
	apf_evidence(f, "version", "%s", version);
	apf_evidence(f, "product", "%s", product);
	if (pl->has_encryption)
		apf_evidence(f, "encryption", "%s (0x%02x)", apf_tds_encryption_name(pl->encryption), pl->encryption);
	if (pl->has_instance)
		apf_evidence(f, "instance", "%s", pl->instance[0] ? pl->instance : "(default)");
	if (pl->has_mars)
		apf_evidence(f, "mars", "%s", pl->mars ? "on" : "off");
	apf_evidence(f, "rtt_ms", "%llu", (unsigned long long)rtt);

	if (pl->has_encryption && pl->encryption == APF_TDS_ENCRYPT_NOT_SUP) {
		f = apf_report(ctx, APF_WARN, "SCS_SQL_NO_ENCRYPTION", "SQL Server %s:%u cannot encrypt the login", host,
			       port);
		target_evidence(f, host, ip, port);
		apf_evidence(f, "encryption", "ENCRYPT_NOT_SUP (0x02)");
	}
	today(now);
	if (support_end && strcmp(now, support_end) > 0) {
		f = apf_report(ctx, APF_WARN, "SCS_SQL_OUT_OF_SUPPORT", "%s (%s) is past the end of extended support (%s)",
			       product, version, support_end);
		target_evidence(f, host, ip, port);
		apf_evidence(f, "version", "%s", version);
		apf_evidence(f, "product", "%s", product);
		apf_evidence(f, "extended_support_end", "%s", support_end);
	}
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const char *host = cfg->scs.sql_server;
	uint16_t port = (uint16_t)cfg->scs.sql_port;
	uint8_t req[64], resp[APF_TDS_PRELOGIN_MAX];
	char *ip = NULL, *dns = NULL, *err = NULL;
	size_t req_len = 0, got = 0, total;
	struct apf_tds_prelogin pl;
	enum apf_tds_status st;
	struct apf_finding *f;
	uint64_t rtt, t0, deadline;
	unsigned int share;
	int fd = -1, rc;

	apf_ctx_step(ctx, "resolving %s", host);
	share = apf_ctx_remaining_ms(ctx);
	rc = apf_ad_resolve(ctx, host, share < DNS_CAP_MS ? share : DNS_CAP_MS, &ip, &dns, &err);
	if (rc) {
		f = apf_report(ctx, apf_ad_unresolved_status(rc), "SCS_SQL_UNRESOLVED", "%s could not be resolved", host);
		apf_evidence(f, "sql_server", "%s", host);
		apf_evidence(f, "error", "%s", err ? err : strerror(-rc));
		rc = 0;
		goto out;
	}

	apf_ctx_step(ctx, "TCP to %s:%u", ip, port);
	share = apf_ctx_remaining_ms(ctx);
	t0 = apf_now_ms();
	rc = apf_tcp_connect(ip, port, share < CONNECT_CAP_MS ? share : CONNECT_CAP_MS, &fd);
	if (rc) {
		bool refused = rc == -ECONNREFUSED;
		f = apf_report(ctx, refused ? APF_FAIL : APF_ERROR, refused ? "SCS_SQL_REFUSED" : "SCS_SQL_NO_ANSWER",
			       "TCP to SQL Server %s:%u: %s", host, port, apf_tcp_strerror(rc));
		target_evidence(f, host, ip, port);
		if (dns)
			apf_evidence(f, "dns_server", "%s", dns);
		apf_evidence(f, "error", "%s", apf_tcp_strerror(rc));
		rc = 0;
		goto out;
	}

	apf_ctx_step(ctx, "TDS PRELOGIN to %s:%u", ip, port);
	apf_tds_prelogin_encode(req, sizeof(req), &req_len); /* 47 bytes: always fits */
	deadline = apf_now_ms() + EXCHANGE_CAP_MS;
	if (deadline > apf_ctx_deadline_ms(ctx))
		deadline = apf_ctx_deadline_ms(ctx);
	rc = apf_tcp_send_all(fd, req, req_len, deadline);
	if (rc == 0)
		rc = apf_tcp_recv_exact(fd, resp, APF_TDS_HEADER_LEN, deadline, &got);
	if (rc == 0) {
		total = apf_tds_packet_length(resp);
		if (resp[0] == APF_TDS_TYPE_TABULAR && total > APF_TDS_HEADER_LEN) {
			size_t more = 0;
			rc = apf_tcp_recv_exact(fd, resp + got, total - got, deadline, &more);
			got += more;
		}
	}
	rtt = apf_now_ms() - t0; /* connect and exchange */
	/* A stall (even half way through an answer) or a connection closed or reset
	 * before any byte came is "could not check": a middlebox can do either. Only
	 * bytes that are not TDS say the port is not SQL Server. */
	if (rc == -ETIMEDOUT || (rc && got == 0)) {
		f = apf_report(ctx, APF_ERROR, "SCS_SQL_NO_ANSWER",
			       "SQL Server %s:%u accepted TCP but sent no complete PRELOGIN answer", host, port);
		target_evidence(f, host, ip, port);
		apf_evidence(f, "error", "%s after %zu bytes in %llu ms",
			     rc == -ETIMEDOUT ? "no more data" : rc == -ECONNRESET ? "connection closed" : strerror(-rc), got,
			     (unsigned long long)(apf_now_ms() - t0));
		rc = 0;
		goto out;
	}
	st = apf_tds_prelogin_decode(resp, got, &pl);
	if (st != APF_TDS_OK) {
		f = apf_report(ctx, APF_FAIL, "SCS_SQL_NOT_TDS", "%s:%u did not answer with a TDS PRELOGIN response", host,
			       port);
		target_evidence(f, host, ip, port);
		apf_evidence(f, "reason", "%s", apf_tds_strerror(st));
		if (rc && rc != -ECONNRESET)
			apf_evidence(f, "error", "%s", strerror(-rc));
		apf_evidence_hex(f, "first_bytes", resp, got, 16);
		/* 0x16/0x15 0x03: a TLS record, what a TDS 8.0 strict-only instance would send. */
		if (got >= 2 && (resp[0] == 0x15 || resp[0] == 0x16) && resp[1] == 0x03)
			apf_evidence(f, "looks_like", "a TLS record (TDS 8.0 strict encryption?)");
		rc = 0;
		goto out;
	}
	report_answer(ctx, host, ip, port, &pl, rtt);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(ip);
	free(dns);
	free(err);
	return rc;
}

static const char *const requires_keys[] = {"scs.sql_server", NULL};
/* Names are resolved through the clients' DNS servers, which dhcp.options and dns.ad-records may supply. */
static const char *const after[] = {"dhcp.options", "dns.ad-records", NULL};

const struct apf_check apf_check_scs_sql = {
	.id = "scs.sql",
	.title = "Intel SCS database (SQL Server)",
	.summary = "Connects to the SQL Server that holds the Intel SCS database (database mode) on its instance port and "
		   "reads its TDS PRELOGIN answer: reachable, really SQL Server, its version and whether it can encrypt the "
		   "login; warns on versions past Microsoft's extended support.",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 10000,
	.codes = codes,
	.run = run,
};
