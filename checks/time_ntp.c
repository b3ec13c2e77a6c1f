/* SPDX-License-Identifier: MIT */
/*
 * time.ntp: Kerberos (the setup server's AD logins), TLS and CRL checks all
 * fail on a clock that is wrong. This check asks the configured NTP servers
 * and the domain controllers (which domain members take their time from) for
 * the time with a real NTP client exchange (RFC 5905 mode 3), and compares
 * them with each other and with this host's clock.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad.h"
#include "check.h"
#include "facts.h"
#include "ntp.h"

#define QUERY_CAP_MS 2000u
#define DNS_CAP_MS 3000u
#define MAX_TARGETS 32

static const struct apf_code codes[] = {
	{"TIME_NTP_OK", APF_PASS, "The server answered NTP, is synchronised and agrees with the reference clock", NULL},
	{"TIME_SKEW", APF_WARN,
	 "The server's clock differs from the reference by more than [time] warn_offset_seconds: still inside "
	 "Kerberos' tolerance, but drifting towards it",
	 "Check the server's time source (w32tm /query /status, chronyc tracking) and its upstream NTP servers"},
	{"TIME_SKEW_KERBEROS", APF_FAIL,
	 "The server's clock differs from the reference by more than [time] max_offset_seconds (Kerberos' default "
	 "maximum tolerance is 5 minutes): Kerberos logins of the setup server fail, and certificates look not yet "
	 "valid or expired",
	 "Fix the server's time synchronisation: the PDC emulator from a reliable NTP source, members and the setup "
	 "server from the domain hierarchy (w32tm /resync)"},
	{"TIME_SERVERS_AGREE", APF_PASS, "The time servers that answered agree with each other within "
	 "[time] warn_offset_seconds", NULL},
	{"TIME_SERVERS_DISAGREE", APF_FAIL,
	 "Two time servers differ by more than [time] max_offset_seconds: machines that follow one and machines that "
	 "follow the other cannot use Kerberos with each other, even when each is close to this host (WARN above "
	 "warn_offset_seconds)",
	 "Make every time server follow the same upstream (the PDC emulator and the NTP servers from one reliable "
	 "source)"},
	{"TIME_LOCAL_CLOCK_OFF", APF_WARN,
	 "The time servers agree with each other but not with this host: this host's clock is off, so its own "
	 "certificate-date and clock-skew results (ad.ldap) are off by as much",
	 "Synchronise this host's clock, then run again"},
	{"TIME_UNSYNCHRONISED", APF_FAIL,
	 "The server says its own clock is not synchronised (leap indicator 3 or stratum 16): clients that follow it "
	 "drift with it, and NTP clients reject it as a source",
	 "Give the server a reachable upstream time source (for the PDC emulator: w32tm /config /manualpeerlist ... "
	 "/reliable:yes), or take it out of the clients' NTP configuration"},
	{"TIME_KISS_OF_DEATH", APF_ERROR,
	 "The server answered with a kiss-o'-death (stratum 0, RFC 5905 7.4): it refuses to serve time to this host "
	 "(DENY, RSTR) or asks it to slow down (RATE), so its time could not be read",
	 "Allow this host's address in the server's NTP access rules, or run the check from a host that may query it"},
	{"TIME_BAD_REPLY", APF_ERROR,
	 "Something answered on UDP 123 but not with a usable NTP server reply, so the time could not be read",
	 "Check that the address is an NTP server; a stale or forged reply points at a broken middlebox"},
	{"TIME_NO_ANSWER", APF_ERROR, "The NTP server did not answer (timeout): its time could not be checked",
	 "Check that UDP 123 to the server is allowed from here and that the server runs an NTP service"},
	{"TIME_REFUSED", APF_FAIL, "The host answered that nothing listens on UDP 123 (ICMP port unreachable)",
	 "Start the NTP service on the server (w32time on Windows, chronyd or ntpd elsewhere), or correct "
	 "[time] ntp_servers"},
	{"TIME_UNRESOLVED", APF_FAIL, "The time server's name has no address in the DNS the clients use",
	 "Add the server's A record, or list it by address in [time] ntp_servers"},
	{"TIME_DC_NO_NTP", APF_WARN,
	 "The domain controller did not answer NTP from here: domain members (the setup server included) take their "
	 "time from DCs over NTP, so a DC without NTP leaves them to drift unless a firewall only blocks this host",
	 "Check the Windows Time service on the DC (w32tm /query /configuration: NtpServer enabled) and that UDP "
	 "123 to the DCs is open from the member networks"},
	{"TIME_NOTHING_COMPARED", APF_INFO,
	 "No time server answered with a usable time, so no clocks were compared", NULL},
	{0},
};

struct target {
	char *name;      /* as configured or as found */
	char *ip;        /* NULL when it did not resolve */
	bool dc;         /* a domain controller (else a configured NTP server) */
	int rc;          /* apf_ntp_query()'s rc, or the resolver's */
	char *err;       /* resolver message */
	struct apf_ntp_sample s;
	bool usable;     /* answered, synchronised: its offset counts */
};

static void target_evidence(struct apf_finding *f, const struct target *t)
{
	apf_evidence(f, "server", "%s", t->name);
	if (t->ip && strcmp(t->ip, t->name) != 0)
		apf_evidence(f, "address", "%s", t->ip);
	apf_evidence(f, "role", "%s", t->dc ? "domain controller" : "[time] ntp_servers");
}

static void reply_evidence(struct apf_finding *f, const struct target *t)
{
	const struct apf_ntp_reply *r = &t->s.reply;

	apf_evidence(f, "stratum", "%u", r->stratum);
	apf_evidence(f, "leap", "%u%s", r->leap, r->leap == APF_NTP_LEAP_ALARM ? " (alarm: not synchronised)" : "");
	apf_evidence(f, "refid", "%s", r->refid_text);
	apf_evidence(f, "version", "%u", r->version);
	apf_evidence(f, "root_delay_ms", "%.1f", r->root_delay / 65.536);
	apf_evidence(f, "root_dispersion_ms", "%.1f", r->root_dispersion / 65.536);
}

static void add_target(struct target *v, size_t *n, const char *name, bool dc)
{
	if (*n >= MAX_TARGETS)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp(v[i].name, name) == 0)
			return;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].name = apf_xstrdup(name);
	v[*n].dc = dc;
	(*n)++;
}

/* Up to two tries: one lost UDP datagram should not read as "no NTP". */
static void query(struct apf_ctx *ctx, struct target *t, size_t left)
{
	unsigned int share = apf_ctx_remaining_ms(ctx) / (unsigned int)(left ? left : 1);

	if (share > QUERY_CAP_MS)
		share = QUERY_CAP_MS;
	apf_ctx_step(ctx, "NTP query to %s (%s)", t->name, t->ip);
	for (int attempt = 0; attempt < 2; attempt++) {
		t->rc = apf_ntp_query(t->ip, APF_NTP_PORT, share / 2, &t->s);
		if (t->rc != -ETIMEDOUT)
			break;
	}
	t->usable = t->rc == 0 && t->s.status == APF_NTP_OK && t->s.reply.leap != APF_NTP_LEAP_ALARM &&
		    t->s.reply.stratum < APF_NTP_STRATUM_UNSYNC;
}

/* Findings for a target that gave no usable time; true when one was reported. */
static bool report_failure(struct apf_ctx *ctx, const struct target *t)
{
	struct apf_finding *f;

	if (!t->ip) {
		f = apf_report(ctx, apf_ad_unresolved_status(t->rc), "TIME_UNRESOLVED", "%s could not be resolved",
			       t->name);
		target_evidence(f, t);
		apf_evidence(f, "error", "%s", t->err ? t->err : strerror(-t->rc));
		return true;
	}
	if (t->rc && t->dc) {
		f = apf_report(ctx, APF_WARN, "TIME_DC_NO_NTP", "Domain controller %s did not answer NTP: %s", t->name,
			       t->rc == -ECONNREFUSED ? "port unreachable" : strerror(-t->rc));
	} else if (t->rc == -ECONNREFUSED) {
		f = apf_report(ctx, APF_FAIL, "TIME_REFUSED", "Nothing listens on UDP 123 at %s", t->name);
	} else if (t->rc) {
		f = apf_report(ctx, APF_ERROR, "TIME_NO_ANSWER", "NTP server %s did not answer: %s", t->name,
			       strerror(-t->rc));
	} else if (t->s.status == APF_NTP_KISS) {
		f = apf_report(ctx, APF_ERROR, "TIME_KISS_OF_DEATH", "NTP server %s sent a kiss-o'-death (%s)", t->name,
			       t->s.reply.refid_text);
		apf_evidence(f, "kiss_code", "%s", t->s.reply.refid_text);
	} else if (t->s.status != APF_NTP_OK) {
		f = apf_report(ctx, APF_ERROR, "TIME_BAD_REPLY", "%s sent an unusable NTP reply", t->name);
		apf_evidence(f, "reason", "%s", apf_ntp_strerror(t->s.status));
	} else if (!t->usable) {
		f = apf_report(ctx, APF_FAIL, "TIME_UNSYNCHRONISED", "NTP server %s says it is not synchronised", t->name);
	} else {
		return false;
	}
	target_evidence(f, t);
	if (t->rc)
		apf_evidence(f, "error", "%s", t->rc == -ECONNREFUSED ? "ICMP port unreachable" : strerror(-t->rc));
	else if (t->s.status == APF_NTP_OK)
		reply_evidence(f, t);
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * The clock the servers are judged against: this host's, unless a majority of
 * the servers agree with each other (within warn) and not with this host; then
 * this host is the odd one out and the servers' median is the reference.
 */
static double reference(struct apf_ctx *ctx, const struct target *v, size_t n, double warn, bool *local_off)
{
	double offs[MAX_TARGETS], median;
	size_t k = 0, agree = 0;
	struct apf_finding *f;

	*local_off = false;
	for (size_t i = 0; i < n; i++)
		if (v[i].usable)
			offs[k++] = v[i].s.offset;
	if (k < 2)
		return 0;
	qsort(offs, k, sizeof(offs[0]), cmp_double);
	median = k % 2 ? offs[k / 2] : (offs[k / 2 - 1] + offs[k / 2]) / 2;
	for (size_t i = 0; i < k; i++)
		agree += fabs(offs[i] - median) <= warn;
	if (fabs(median) <= warn || agree * 2 <= k)
		return 0;
	*local_off = true;
	f = apf_report(ctx, APF_WARN, "TIME_LOCAL_CLOCK_OFF", "This host's clock is %.1f s %s the time servers",
		       fabs(median), median > 0 ? "behind" : "ahead of");
	apf_evidence(f, "median_offset_ms", "%.1f", median * 1000);
	apf_evidence(f, "servers_agreeing", "%zu of %zu", agree, k);
	return median;
}

/* How far apart the usable servers are from each other (each may still be close to this host). */
static void report_spread(struct apf_ctx *ctx, const struct target *v, size_t n, double warn, double max)
{
	const struct target *lo = NULL, *hi = NULL;
	size_t k = 0;
	double spread;
	struct apf_finding *f;

	for (size_t i = 0; i < n; i++) {
		if (!v[i].usable)
			continue;
		k++;
		if (!lo || v[i].s.offset < lo->s.offset)
			lo = &v[i];
		if (!hi || v[i].s.offset > hi->s.offset)
			hi = &v[i];
	}
	if (k < 2)
		return;
	spread = hi->s.offset - lo->s.offset;
	if (spread > warn)
		f = apf_report(ctx, spread > max ? APF_FAIL : APF_WARN, "TIME_SERVERS_DISAGREE",
			       "%s and %s differ by %.1f s", hi->name, lo->name, spread);
	else
		f = apf_report(ctx, APF_PASS, "TIME_SERVERS_AGREE", "%zu time servers agree within %.3f s", k, spread);
	apf_evidence(f, "spread_ms", "%.1f", spread * 1000);
	apf_evidence(f, "servers_compared", "%zu", k);
	apf_evidence(f, "fastest", "%s (%+.1f ms)", hi->name, hi->s.offset * 1000);
	apf_evidence(f, "slowest", "%s (%+.1f ms)", lo->name, lo->s.offset * 1000);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	const double warn = cfg->time.warn_offset_seconds, max = cfg->time.max_offset_seconds;
	struct target *v = apf_xcalloc(MAX_TARGETS, sizeof(*v));
	struct apf_ad_dcs dcs = {0};
	size_t n = 0, n_usable = 0;
	bool local_off;
	double ref;

	for (size_t i = 0; i < cfg->time.ntp_servers.n; i++)
		add_target(v, &n, cfg->time.ntp_servers.v[i], false);
	for (size_t i = 0; i < n; i++) {
		unsigned int share = apf_ctx_remaining_ms(ctx);
		apf_ctx_step(ctx, "resolving %s", v[i].name);
		v[i].rc = apf_ad_resolve(ctx, v[i].name, share < DNS_CAP_MS ? share : DNS_CAP_MS, &v[i].ip, NULL,
					 &v[i].err);
	}
	if (cfg->time.query_domain_controllers &&
	    (cfg->ad.domain || cfg->ad.domain_controllers.n || apf_fact_get(ctx, APF_FACT_AD_DC))) {
		unsigned int share = apf_ctx_remaining_ms(ctx) / 2; /* leave time to ask them */
		apf_ad_find_dcs(ctx, share < DNS_CAP_MS ? share : DNS_CAP_MS, &dcs);
		for (size_t i = 0; i < dcs.n; i++) {
			size_t before = n;
			add_target(v, &n, dcs.v[i].name, true);
			if (n > before) {
				v[n - 1].ip = dcs.v[i].ip ? apf_xstrdup(dcs.v[i].ip) : NULL;
				v[n - 1].rc = dcs.v[i].resolve_rc;
				v[n - 1].err = dcs.v[i].resolve_error ? apf_xstrdup(dcs.v[i].resolve_error) : NULL;
			}
		}
	}
	if (n == 0) {
		apf_skip(ctx, "no time servers to ask: set [time] ntp_servers, or [ad] domain with "
			      "[time] query_domain_controllers");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].dc)
			apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_NTP_ASKED), v[i].name);
		if (v[i].ip)
			query(ctx, &v[i], n - i);
	}

	for (size_t i = 0; i < n; i++)
		if (!report_failure(ctx, &v[i])) {
			n_usable++;
			if (!v[i].dc)
				apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_NTP_ANSWERED), v[i].name);
		}
	report_spread(ctx, v, n, warn, max);
	ref = reference(ctx, v, n, warn, &local_off);
	for (size_t i = 0; i < n; i++) {
		const struct target *t = &v[i];
		struct apf_finding *f;
		double dev;

		if (!t->usable)
			continue;
		dev = t->s.offset - ref;
		if (fabs(dev) > max)
			f = apf_report(ctx, APF_FAIL, "TIME_SKEW_KERBEROS", "%s is %.1f s %s the reference clock", t->name,
				       fabs(dev), dev > 0 ? "ahead of" : "behind");
		else if (fabs(dev) > warn)
			f = apf_report(ctx, APF_WARN, "TIME_SKEW", "%s is %.1f s %s the reference clock", t->name, fabs(dev),
				       dev > 0 ? "ahead of" : "behind");
		else
			f = apf_report(ctx, APF_PASS, "TIME_NTP_OK", "%s answered NTP, stratum %u, %+.3f s from the reference",
				       t->name, t->s.reply.stratum, dev);
		target_evidence(f, t);
		apf_evidence(f, "offset_ms", "%.1f", t->s.offset * 1000);
		apf_evidence(f, "deviation_ms", "%.1f", dev * 1000);
		apf_evidence(f, "reference", "%s", local_off ? "median of the time servers" : "this host's clock");
		apf_evidence(f, "delay_ms", "%.1f", t->s.delay * 1000);
		apf_evidence(f, "warn_s", "%.0f", warn);
		apf_evidence(f, "max_s", "%.0f", max);
		reply_evidence(f, t);
	}
	if (n_usable == 0) {
		struct apf_finding *f = apf_report(ctx, APF_INFO, "TIME_NOTHING_COMPARED",
						   "None of the %zu time servers gave a usable time", n);
		apf_evidence(f, "servers_asked", "%zu", n);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].ip);
		free(v[i].err);
	}
	free(v);
	apf_ad_dcs_clear(&dcs);
	return 0;
}

static const char *const after[] = {"dhcp.options", "dns.ad-records", NULL};

const struct apf_check apf_check_time_ntp = {
	.id = "time.ntp",
	.title = "Time servers and clock skew (NTP)",
	.summary = "Asks the configured NTP servers and the domain controllers for the time (RFC 5905 client mode): "
		   "synchronised (leap indicator, stratum), no kiss-o'-death, and within Kerberos' 5-minute tolerance of "
		   "each other and of this host; a skewed clock breaks Kerberos, TLS and CRL checks.",
	.after = after,
	.needs = APF_NEED_NETWORK,
	.timeout_ms = 15000,
	.codes = codes,
	.run = run,
};
