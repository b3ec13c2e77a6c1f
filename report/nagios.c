/* SPDX-License-Identifier: MIT */
/*
 * The monitoring-plugins output (--format nagios): one status line with
 * performance data, then one line per problem (docs/monitoring.md).
 *
 * States follow the monitoring-plugins development guidelines: UNKNOWN is for
 * the plugin's own failures (bad arguments, a file it cannot read, no
 * permission to open its socket); a server that refuses, times out or does not
 * resolve is not UNKNOWN. So a FAIL is CRITICAL, a WARN is WARNING, and each
 * ERROR ("could not check") code has its own state below: a service AMT
 * activation needs that does not answer pages (CRITICAL); a side service, a
 * partial probe or a device that is off warns; the tool's own setup is UNKNOWN.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "report.h"

/* Paired with enum apf_nagios_state. */
static const char *const state_names[APF_NAGIOS_STATE_COUNT] = {
	[APF_NAGIOS_OK] = "OK",
	[APF_NAGIOS_WARNING] = "WARNING",
	[APF_NAGIOS_CRITICAL] = "CRITICAL",
	[APF_NAGIOS_UNKNOWN] = "UNKNOWN",
};

const char *apf_nagios_state_name(enum apf_nagios_state s)
{
	return (unsigned)s < APF_NAGIOS_STATE_COUNT ? state_names[s] : NULL;
}

/* Every ERROR code and the state it gives; tests/unit/test_nagios.c keeps this
 * complete, so a new ERROR code needs a decision here. */
const struct apf_nagios_error_state apf_nagios_error_states[] = {
	/* A service activation needs does not answer: page. */
	{"AD_DC_UNREACHABLE", APF_NAGIOS_CRITICAL},
	{"AD_DNS_TIMEOUT", APF_NAGIOS_CRITICAL},
	{"AD_ROOTDSE_FAILED", APF_NAGIOS_CRITICAL},
	{"ADR_DNS_NO_ANSWER", APF_NAGIOS_CRITICAL},
	{"ADR_DNS_RCODE", APF_NAGIOS_CRITICAL},
	{"CA_DNS_TIMEOUT", APF_NAGIOS_CRITICAL},
	{"DDNS_LEASE_REFUSED", APF_NAGIOS_CRITICAL},
	{"DDNS_NO_ACK", APF_NAGIOS_CRITICAL},
	{"DDNS_NO_OFFER", APF_NAGIOS_CRITICAL},
	{"DHCP_NO_REPLY", APF_NAGIOS_CRITICAL},
	{"DNSSRV_RCODE", APF_NAGIOS_CRITICAL},
	{"DNSSRV_UDP_NO_ANSWER", APF_NAGIOS_CRITICAL},
	{"PS_DNS_NO_ANSWER", APF_NAGIOS_CRITICAL},
	{"PS_DNS_RCODE", APF_NAGIOS_CRITICAL},
	{"PS_HELLO_NO_ANSWER", APF_NAGIOS_CRITICAL},
	/* The activation servers and the MPS devices connect to. */
	{"ACT_DNS_ERROR", APF_NAGIOS_CRITICAL},
	{"ACT_NO_ANSWER", APF_NAGIOS_CRITICAL},
	{"ACT_UNREACHABLE", APF_NAGIOS_CRITICAL},
	{"MPS_DNS_ERROR", APF_NAGIOS_CRITICAL},
	{"MPS_UNREACHABLE", APF_NAGIOS_CRITICAL},
	{"SCS_SQL_NO_ANSWER", APF_NAGIOS_CRITICAL}, /* the SCS database: no database, no configuration */
	/* Could not check a side service, or only part of a fleet: look, don't page.
	 * Revocation: AMT firmware does not fetch CRLs or OCSP itself. Devices: an AMT
	 * host that is switched off does not answer at night. */
	{"CA_CRL_UNREACHABLE", APF_NAGIOS_WARNING},
	{"CA_ENTERPRISE_AD_UNAVAILABLE", APF_NAGIOS_WARNING},
	{"CA_ISSUER_UNKNOWN", APF_NAGIOS_WARNING},
	{"CA_OCSP_UNREACHABLE", APF_NAGIOS_WARNING},
	{"CA_REVOCATION_AD_UNAVAILABLE", APF_NAGIOS_WARNING},
	{"CA_TEMPLATE_AD_UNAVAILABLE", APF_NAGIOS_WARNING},
	{"CERT_REVOCATION_UNREACHABLE", APF_NAGIOS_WARNING},
	{"CHECK_TIMEOUT", APF_NAGIOS_WARNING},
	{"DDNS_DNS_ERROR", APF_NAGIOS_WARNING},
	{"DDNS_RELEASE_FAILED", APF_NAGIOS_WARNING},
	{"DNSSRV_TCP_NO_ANSWER", APF_NAGIOS_WARNING},
	{"HOSTREG_INCOMPLETE", APF_NAGIOS_WARNING},
	{"HOSTREG_NO_ANSWER", APF_NAGIOS_WARNING},
	{"HOSTREG_SERVER_ERROR", APF_NAGIOS_WARNING},
	{"HOSTREG_SERVER_REFUSED", APF_NAGIOS_WARNING},
	{"TLS_CERT_UNREADABLE", APF_NAGIOS_WARNING},
	{"TLS_CONNECT_FAILED", APF_NAGIOS_WARNING},
	{"TIME_BAD_REPLY", APF_NAGIOS_WARNING}, /* one time server among others */
	{"TIME_KISS_OF_DEATH", APF_NAGIOS_WARNING},
	{"TIME_NO_ANSWER", APF_NAGIOS_WARNING},
	{"TLS_DNS_ERROR", APF_NAGIOS_WARNING},
	{"TLS_HANDSHAKE_FAILED", APF_NAGIOS_WARNING},
	{"TLS_INCOMPLETE", APF_NAGIOS_WARNING},
	{"TLS_TIMEOUT", APF_NAGIOS_WARNING},
	/* The test enrollment goes through web enrollment, which the setup server may not use (DCOM). */
	{"CA_ENROLL_AD_UNAVAILABLE", APF_NAGIOS_WARNING},
	{"CA_TEST_ENROLL_UNREACHABLE", APF_NAGIOS_WARNING},
	{"CA_TEST_ENROLL_UNEXPECTED", APF_NAGIOS_WARNING},
	/* The plugin's own setup: its files, its privileges, its account, itself. */
	{"AD_BIND_FAILED", APF_NAGIOS_UNKNOWN},
	{"AD_BIND_NOT_ATTEMPTED", APF_NAGIOS_UNKNOWN},
	{"AD_NO_DNS_SERVER", APF_NAGIOS_UNKNOWN},
	{"AD_PKI_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"CA_PROV_CERT_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"CERT_FILE_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"CERT_PFX_PASSWORD", APF_NAGIOS_UNKNOWN},
	{"CHECK_INTERNAL", APF_NAGIOS_UNKNOWN},
	{"CHECK_NO_RESULT", APF_NAGIOS_UNKNOWN},
	{"CHECK_UNDECLARED_CODE", APF_NAGIOS_UNKNOWN},
	{"DDNS_INTERFACE_MISSING", APF_NAGIOS_UNKNOWN},
	{"DEVICE_FILE_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"DDNS_NO_DNS_SERVER", APF_NAGIOS_UNKNOWN},
	{"DDNS_NO_PRIVILEGE", APF_NAGIOS_UNKNOWN},
	{"DDNS_SOCKET_ERROR", APF_NAGIOS_UNKNOWN},
	{"DHCP_INTERFACE_MISSING", APF_NAGIOS_UNKNOWN},
	{"DHCP_NO_IPV4_ADDRESS", APF_NAGIOS_UNKNOWN},
	{"DHCP_NO_PRIVILEGE", APF_NAGIOS_UNKNOWN},
	{"DHCP_SOCKET_ERROR", APF_NAGIOS_UNKNOWN},
	{"DNSSRV_TSIG_KEY_INVALID", APF_NAGIOS_UNKNOWN},
	{"HOSTREG_ENGINE_ERROR", APF_NAGIOS_UNKNOWN},
	{"HOSTREG_HOSTS_INVALID", APF_NAGIOS_UNKNOWN},
	{"ROOT_CHAIN_UNAVAILABLE", APF_NAGIOS_UNKNOWN},
	{"ROOT_DEVICE_LIST_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"STORE_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"TLS_ENGINE_ERROR", APF_NAGIOS_UNKNOWN},
	{"TLS_HOSTS_INVALID", APF_NAGIOS_UNKNOWN},
	{"CA_ENROLL_ACCOUNT_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"CA_ENROLL_SD_UNREADABLE", APF_NAGIOS_UNKNOWN},
	{"CA_TEST_ENROLL_AUTH_FAILED", APF_NAGIOS_UNKNOWN},
	{"CA_TEST_ENROLL_CONFIG", APF_NAGIOS_UNKNOWN},
	{"CA_TEST_ENROLL_NO_CREDENTIALS", APF_NAGIOS_UNKNOWN},
	{"ACT_BUNDLE_INVALID", APF_NAGIOS_UNKNOWN},
	{"ACT_ENGINE_ERROR", APF_NAGIOS_UNKNOWN},
	{"MPS_BUNDLE_INVALID", APF_NAGIOS_UNKNOWN},
	{"MPS_ENGINE_ERROR", APF_NAGIOS_UNKNOWN},
	{NULL, APF_NAGIOS_OK},
};

enum apf_nagios_state apf_nagios_finding_state(const struct apf_finding *f)
{
	if (f->waiver && !f->waiver->expired)
		return APF_NAGIOS_OK;
	switch (f->status) {
	case APF_FAIL:
		return APF_NAGIOS_CRITICAL;
	case APF_WARN:
		return APF_NAGIOS_WARNING;
	case APF_ERROR:
		for (const struct apf_nagios_error_state *e = apf_nagios_error_states; e->code; e++)
			if (strcmp(e->code, f->code) == 0)
				return e->state;
		return APF_NAGIOS_WARNING; /* unlisted (a test prevents it): look, don't page */
	default:
		return APF_NAGIOS_OK;
	}
}

/* The order states escalate in: OK < WARNING < UNKNOWN < CRITICAL. A known
 * problem outranks "could not tell", as in the report's verdict. */
static int rank(enum apf_nagios_state s)
{
	static const int r[APF_NAGIOS_STATE_COUNT] = {
		[APF_NAGIOS_OK] = 0, [APF_NAGIOS_WARNING] = 1, [APF_NAGIOS_UNKNOWN] = 2, [APF_NAGIOS_CRITICAL] = 3};
	return r[s];
}

static enum apf_nagios_state worse(enum apf_nagios_state a, enum apf_nagios_state b)
{
	return rank(b) > rank(a) ? b : a;
}

/* ---- ranges (monitoring-plugins guidelines, "Threshold and ranges") ------- */

int apf_range_parse(const char *s, struct apf_range *r)
{
	const char *colon;
	char *end;

	memset(r, 0, sizeof(*r));
	r->end = INFINITY;
	if (*s == '@') {
		r->inside = true;
		s++;
	}
	colon = strchr(s, ':');
	if (!colon) {
		/* "10" = 0:10 */
		r->end = strtod(s, &end);
		return end != s && !*end && r->end >= 0 ? 0 : -EINVAL;
	}
	if (s[0] == '~' && s + 1 == colon)
		r->start = -INFINITY;
	else {
		r->start = strtod(s, &end);
		if (end != colon)
			return -EINVAL;
	}
	if (colon[1]) {
		r->end = strtod(colon + 1, &end);
		if (*end)
			return -EINVAL;
	}
	return r->start <= r->end ? 0 : -EINVAL;
}

bool apf_range_alert(const struct apf_range *r, double v)
{
	bool in = v >= r->start && v <= r->end;

	return r->inside ? in : !in;
}

static void put_range(FILE *out, const struct apf_range *r, bool set)
{
	if (!set)
		return;
	if (r->inside)
		fputc('@', out);
	if (isinf(r->start))
		fputc('~', out);
	else
		fprintf(out, "%g", r->start);
	fputc(':', out);
	if (!isinf(r->end))
		fprintf(out, "%g", r->end);
}

/* ---- output ------------------------------------------------------------- */

/* Plugin output is one line of text whose '|' starts the performance data:
 * network data must not add a line, a '|' or an escape sequence. */
static void put_plain(FILE *out, const char *s)
{
	char *copy = apf_xstrdup(s);

	for (char *p = copy; *p; p++)
		if (*p == '|')
			*p = '/';
	apf_text_escape(out, copy); /* control characters, newlines included, become '?' */
	free(copy);
}

static const struct apf_threshold *threshold_for(const struct apf_nagios_opts *o, const char *metric)
{
	for (size_t i = 0; o && i < o->n_thresholds; i++)
		if (strcmp(o->thresholds[i].metric, metric) == 0)
			return &o->thresholds[i];
	return NULL;
}

/* The state a metric's thresholds give for its lowest value in the run. */
static enum apf_nagios_state metric_state(const struct apf_threshold *t, double v)
{
	if (t && t->has_crit && apf_range_alert(&t->crit, v))
		return APF_NAGIOS_CRITICAL;
	if (t && t->has_warn && apf_range_alert(&t->warn, v))
		return APF_NAGIOS_WARNING;
	return APF_NAGIOS_OK;
}

enum apf_nagios_state apf_nagios_state(const struct apf_run *run, const struct apf_nagios_opts *o)
{
	enum apf_nagios_state st = APF_NAGIOS_OK;

	/* Nothing checked: the plugin's configuration is what is wrong. */
	if (run->n_checks == 0 || run->counts[APF_SKIP] == run->n_checks)
		return APF_NAGIOS_UNKNOWN;
	for (size_t i = 0; i < run->n_checks; i++)
		for (size_t j = 0; j < run->checks[i].n_findings; j++)
			st = worse(st, apf_nagios_finding_state(run->checks[i].findings[j]));
	for (size_t i = 0; o && i < o->n_thresholds; i++) {
		double v;
		if (apf_run_metric_min(run, o->thresholds[i].metric, &v))
			st = worse(st, metric_state(&o->thresholds[i], v));
	}
	return st;
}

/* The metrics perfdata always carries, whether or not a threshold names them. */
static const char *const known_metrics[] = {"prov_chain_days_left", "crl_hours_left", NULL};

int apf_report_nagios_write(const struct apf_run *run, const struct apf_nagios_opts *o, FILE *out)
{
	enum apf_nagios_state st = apf_nagios_state(run, o);
	size_t shown = 0, problems = 0;

	fprintf(out, "AMT-PREFLIGHT %s - %s", apf_nagios_state_name(st), apf_verdict_name(run->verdict));
	if (run->counts[APF_SKIP] == run->n_checks)
		fputs(": nothing was checked (every check skipped)", out);
	else
		fprintf(out, ": %zu FAIL, %zu ERROR, %zu WARN of %zu checks", run->counts[APF_FAIL], run->counts[APF_ERROR],
			run->counts[APF_WARN], run->n_checks);
	if (run->n_waived)
		fprintf(out, ", %zu finding%s waived", run->n_waived, run->n_waived == 1 ? "" : "s");
	if (run->baseline)
		fprintf(out, ", %zu new, %zu fixed since %s", run->baseline->counts[APF_CHANGE_NEW], run->baseline->n_fixed,
			run->baseline->started && *run->baseline->started ? run->baseline->started : "the baseline");
	/* Performance data: label=value[UOM];warn;crit;min;max */
	fputs(" |", out);
	for (int s = APF_STATUS_COUNT - 1; s >= 0; s--)
		fprintf(out, " checks_%s=%zu;;;0;%zu", apf_status_name((enum apf_status)s), run->counts[s], run->n_checks);
	for (const char *const *m = known_metrics; *m; m++) {
		double v;
		const struct apf_threshold *t = threshold_for(o, *m);
		if (!apf_run_metric_min(run, *m, &v))
			continue;
		fprintf(out, " %s=%g;", *m, v);
		put_range(out, t ? &t->warn : NULL, t && t->has_warn);
		fputc(';', out);
		put_range(out, t ? &t->crit : NULL, t && t->has_crit);
		fputs(";;", out);
	}
	fprintf(out, " time=%.3fs;;;0\n", (double)run->duration_ms / 1000.0);
	/* Long output: the problems, worst first, each with its state. */
	for (int want = APF_FAIL; want >= APF_WARN; want--) {
		for (size_t i = 0; i < run->n_checks; i++) {
			for (size_t j = 0; j < run->checks[i].n_findings; j++) {
				const struct apf_finding *f = run->checks[i].findings[j];
				if ((int)f->status != want || (f->waiver && !f->waiver->expired))
					continue;
				if (++problems > APF_NAGIOS_MAX_LINES)
					continue;
				shown++;
				fprintf(out, "%s: %s %s: ", apf_nagios_state_name(apf_nagios_finding_state(f)), run->checks[i].id,
					f->code);
				put_plain(out, f->message);
				fputc('\n', out);
			}
		}
	}
	if (problems > shown)
		fprintf(out, "... and %zu more problem%s (see the JSON or HTML report)\n", problems - shown,
			problems - shown == 1 ? "" : "s");
	return ferror(out) ? -EIO : 0;
}
