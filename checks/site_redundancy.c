/* SPDX-License-Identifier: MIT */
/*
 * site.redundancy: the field notes ask that AD, DNS, the CA and the setup
 * server be redundant. Every other check sees one service; this one runs
 * after them and reads what they published (facts) to say, in one place and
 * per service, how many instances were asked and how many answered. It sends
 * nothing on the network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "facts.h"

static const struct apf_code codes[] = {
	{"SITE_REDUNDANT", APF_PASS, "At least two instances of the service answered", NULL},
	{"SITE_SINGLE_POINT_OF_FAILURE", APF_WARN,
	 "Only one instance of the service answered (or only one exists): when it fails, AMT provisioning or the "
	 "setup server's work stops with it",
	 "Add a second instance of the service named in the evidence (each finding says how), or repair the ones that "
	 "did not answer"},
	{"SITE_SERVICE_DOWN", APF_INFO,
	 "No instance of the service answered; the check named in the evidence reports why", NULL},
	{"SITE_NOT_CHECKED", APF_INFO,
	 "The check that sees this service did not run in this run or had nothing to ask, so its redundancy is unknown",
	 "Configure and run the check named in the evidence"},
	{0},
};

/* One service: the instances its check asked, those that answered (fact values), and how
 * to add a second one. */
struct service {
	const char *name;
	const char *check;
	const char *const *asked, *const *answered;
	const char *add_one;
};

#define N_SERVICES 7

/* Each row names its facts (src/facts.h); the runner orders this check after their publishers. */
static void services_read(const struct apf_ctx *ctx, struct service v[N_SERVICES])
{
	v[0] = (struct service){"DNS servers clients use", APF_FACT_CHECK(APF_FACT_DNS_ASKED),
				apf_fact_get(ctx, APF_FACT_DNS_ASKED), apf_fact_get(ctx, APF_FACT_DNS_ANSWERED),
				"Hand the clients a second DNS server in DHCP option 6"};
	v[1] = (struct service){"Domain controllers", APF_FACT_CHECK(APF_FACT_AD_DC_CHECKED),
				apf_fact_get(ctx, APF_FACT_AD_DC_CHECKED), apf_fact_get(ctx, APF_FACT_AD_DC_ANSWERED),
				"Add a second domain controller to the domain"};
	v[2] = (struct service){"Enterprise CAs offering the AMT templates", APF_FACT_CHECK(APF_FACT_CA_FOUND),
				apf_fact_get(ctx, APF_FACT_CA_FOUND), apf_fact_get(ctx, APF_FACT_CA_OFFERING),
				"Publish the AMT certificate templates on a second enterprise CA"};
	v[3] = (struct service){"Setup and configuration server (Hello port)", APF_FACT_CHECK(APF_FACT_PS_HELLO_PROBED),
				apf_fact_get(ctx, APF_FACT_PS_HELLO_PROBED), apf_fact_get(ctx, APF_FACT_PS_HELLO_OK),
				"Add a second setup and configuration server and its address to the ProvisionServer name"};
	v[4] = (struct service){"NTP servers", APF_FACT_CHECK(APF_FACT_NTP_ASKED), apf_fact_get(ctx, APF_FACT_NTP_ASKED),
				apf_fact_get(ctx, APF_FACT_NTP_ANSWERED),
				"Add a second time server (a second domain controller, or another entry in [time] ntp_servers)"};
	v[5] = (struct service){"Activation server endpoints", APF_FACT_CHECK(APF_FACT_ACT_URL),
				apf_fact_get(ctx, APF_FACT_ACT_URL), apf_fact_get(ctx, APF_FACT_ACT_OK_URL),
				"Run a second activation server and list it in [activation] endpoints"};
	v[6] = (struct service){"MPS (CIRA)", APF_FACT_CHECK(APF_FACT_MPS_URL), apf_fact_get(ctx, APF_FACT_MPS_URL),
				apf_fact_get(ctx, APF_FACT_MPS_OK_URL), "Run a second MPS and list it in [cira] mps"};
}

/* Distinct values of a fact (checks may publish one instance more than once). */
static size_t distinct(const char *const *v, const char **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; v && v[i]; i++) {
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcasecmp(out[j], v[i]) == 0;
		if (!seen && n < cap)
			out[n++] = v[i];
	}
	return n;
}

static void report_service(struct apf_ctx *ctx, const struct service *s)
{
	const char *asked[64], *answered[64];
	size_t n_asked = distinct(s->asked, asked, 64);
	size_t n_ok = distinct(s->answered, answered, 64);
	char *a = apf_strv_join(asked, n_asked, ", ");
	char *ok = apf_strv_join(answered, n_ok, ", ");
	struct apf_finding *f;

	if (n_asked == 0)
		f = apf_report(ctx, APF_INFO, "SITE_NOT_CHECKED", "%s: not checked in this run (%s)", s->name, s->check);
	else if (n_ok == 0)
		f = apf_report(ctx, APF_INFO, "SITE_SERVICE_DOWN", "%s: none of %zu answered (see %s)", s->name, n_asked,
			       s->check);
	else if (n_ok == 1) {
		f = apf_report(ctx, APF_WARN, "SITE_SINGLE_POINT_OF_FAILURE", "%s: a single point of failure (%zu of %zu "
			       "answered: %s)", s->name, n_ok, n_asked, ok);
		if (n_asked > 1)
			apf_remedy(f, "Repair the instances that did not answer (%s reports why), or: %s", s->check,
				   s->add_one);
		else
			apf_remedy(f, "%s", s->add_one);
	} else
		f = apf_report(ctx, APF_PASS, "SITE_REDUNDANT", "%s: %zu of %zu answered", s->name, n_ok, n_asked);
	apf_evidence(f, "service", "%s", s->name);
	apf_evidence(f, "check", "%s", s->check);
	apf_evidence(f, "asked", "%zu", n_asked);
	apf_evidence(f, "answered", "%zu", n_ok);
	if (n_asked)
		apf_evidence(f, "instances", "%s", a);
	if (n_ok)
		apf_evidence(f, "answering", "%s", ok);
	free(a);
	free(ok);
}

static int run(struct apf_ctx *ctx)
{
	struct service v[N_SERVICES];
	size_t checked = 0;

	services_read(ctx, v);
	for (size_t i = 0; i < N_SERVICES; i++)
		checked += v[i].asked && v[i].asked[0];
	/* Nothing to summarise is a skip, like any check with nothing to look at. */
	if (checked == 0) {
		apf_skip(ctx, "no service was checked in this run (dns.servers, ad.ldap, ca.enterprise, "
			      "dns.provisionserver, time.ntp, activation.servers, cira.mps)");
		return 0;
	}
	for (size_t i = 0; i < N_SERVICES; i++)
		report_service(ctx, &v[i]);
	return 0;
}

/* Every publisher of a fact read above: the runner orders this check after them. */
static const char *const after[] = {"activation.servers", "ad.ldap",  "ca.enterprise", "cira.mps",
				     "dns.provisionserver", "dns.servers", "time.ntp", NULL};

const struct apf_check apf_check_site_redundancy = {
	.id = "site.redundancy",
	.title = "Redundancy of the AMT infrastructure",
	.summary = "Summarises, per service, how many instances the other checks asked and how many answered: DNS servers "
		   "clients are given, domain controllers, enterprise CAs offering the AMT templates, the setup server, NTP "
		   "servers, activation servers, the MPS; a service with one answering instance is a single point of failure (WARN).",
	.after = after,
	.timeout_ms = 2000,
	.codes = codes,
	.run = run,
};
