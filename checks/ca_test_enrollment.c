/* SPDX-License-Identifier: MIT */
/*
 * ca.test-enrollment (INTRUSIVE, opt-in): requests one certificate the way the
 * setup server does, through AD CS web enrollment, for a name reserved for the
 * test, with the AMT template, and reports what the CA decided. This is the
 * only way to see the CA-side settings LDAP cannot show: the field notes' CA
 * put every request in Pending because of its policy module, while the
 * template itself was fine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"
#include "check.h"
#include "net/adcs_web.h"

/* Remedy for a pending request, as the field notes fixed it. */
#define PENDING_REMEDY                                                                                                 \
	"On the CA: Certification Authority console > CA Properties > Policy Module > Properties: choose 'Follow the "  \
	"settings in the certificate template, if applicable. Otherwise, automatically issue the certificate.', then "  \
	"restart the CA service (net stop certsvc && net start certsvc); `certutil -getreg policy\\RequestDisposition` "   \
	"shows the setting (0x100 = pend first). If the template asks for it, also untick "                               \
	"'CA certificate manager approval' on its Issuance Requirements tab (see ca.template). Deny or issue request "   \
	"%lu in Pending Requests"

static const struct apf_code codes[] = {
	{"CA_TEST_ENROLL_ISSUED", APF_PASS,
	 "The CA issued the test certificate at once: requests from the setup server's account with this template are not held",
	 "Revoke the test certificate on the CA: certutil -revoke SERIAL 5 (reason 5: cessation of operation)"},
	{"CA_TEST_ENROLL_NAME_DROPPED", APF_FAIL,
	 "The CA issued the certificate without the requested DNS name: AMT's TLS certificate would not carry the device's FQDN and the setup server's name check fails",
	 "On the template's Subject Name tab choose 'Supply in the request' (see ca.template CA_TEMPLATE_SUBJECT_FROM_AD), and check that the CA accepts subjectAltName from requests"},
	{"CA_TEST_ENROLL_NO_SERVER_AUTH", APF_FAIL,
	 "The issued certificate's extended key usage lacks Server Authentication: AMT's TLS server cannot use it",
	 "Add Server Authentication to the template's Application Policies (see ca.template)"},
	{"CA_TEST_ENROLL_PENDING", APF_FAIL,
	 "The CA put the request in Pending: the setup server gives up after five retries and logs 'Missed device certificate' (the field notes' failure)",
	 "On the CA: Policy Module > Properties > 'Follow the settings in the certificate template, if applicable. Otherwise, "
	 "automatically issue the certificate.', restart the CA service; untick 'CA certificate manager approval' on the template"},
	{"CA_TEST_ENROLL_DENIED", APF_FAIL,
	 "The CA denied the request: the setup server cannot get AMT certificates with this account and template",
	 "Act on the CA's disposition message: 0x80094012 means the account lacks Enroll on the template (see "
	 "ca.enroll-permission); 0x80094800 means the CA does not publish the template (see ca.template)"},
	{"CA_TEST_ENROLL_AUTH_FAILED", APF_ERROR,
	 "Web enrollment refused the logon, so no request could be made",
	 "Check [ca] enroll_user and its password, and the authentication methods enabled on the CertSrv IIS application"},
	{"CA_TEST_ENROLL_UNREACHABLE", APF_ERROR, "Web enrollment could not be reached (connection, TLS or timeout)",
	 "Check [ca] web_enrollment_url, that the 'Certification Authority Web Enrollment' role service and its IIS "
	 "site run, and that HTTPS to it is allowed from here"},
	{"CA_TEST_ENROLL_UNEXPECTED", APF_ERROR,
	 "Web enrollment answered with a page that is not an issued, pending or denied disposition",
	 "Open the URL in a browser as the same account; check that it is the /certsrv/ application"},
	{"CA_TEST_ENROLL_CONFIG", APF_ERROR,
	 "The configuration does not allow a safe request (Basic authentication over http://, or an invalid test name or template), so none was made",
	 "Use an https:// web_enrollment_url (Basic sends the password in clear otherwise), and check [ca] test_fqdn and test_template"},
	{"CA_TEST_ENROLL_NO_CREDENTIALS", APF_ERROR, "No password for [ca] enroll_user, so no request could be made",
	 "Set [ca] enroll_password_file or AMT_PREFLIGHT_ENROLL_PASSWORD, or use enroll_auth = negotiate with a Kerberos ticket"},
	{0},
};

/* What was tried, for every finding's evidence. */
struct attempt {
	const char *url, *tmpl, *fqdn, *user;
	const char *ip, *dns_server; /* where the URL's host resolved to, and who said so */
};

static void common_evidence(struct apf_finding *f, const struct apf_adcs_web_result *r, const struct attempt *a)
{
	apf_evidence(f, "url", "%s", r && r->submit_url ? r->submit_url : a->url);
	if (a->ip)
		apf_evidence(f, "address", "%s%s%s", a->ip, a->dns_server ? " from DNS server " : "",
			     a->dns_server ? a->dns_server : "");
	apf_evidence(f, "template", "%s", a->tmpl);
	apf_evidence(f, "test_name", "%s", a->fqdn);
	apf_evidence(f, "account", "%s", a->user ? a->user : "(Kerberos ticket of the caller)");
	if (r) {
		apf_evidence(f, "http_status", "%ld", r->http_status);
		if (r->form_fields)
			apf_evidence(f, "sent", "%s", r->form_fields);
		if (r->page.has_req_id)
			apf_evidence(f, "request_id", "%lu", r->page.req_id);
	}
}

static void report_disposition(struct apf_ctx *ctx, const struct apf_adcs_web_result *r, const struct attempt *a)
{
	const char *tmpl = a->tmpl, *fqdn = a->fqdn;
	struct apf_finding *f;

	switch (r->page.disp) {
	case APF_ADCS_ISSUED:
		/* Issued is not enough: the certificate must be one AMT can serve TLS with. */
		if (r->cert_serial && !r->cert_has_name) {
			f = apf_report(ctx, APF_FAIL, "CA_TEST_ENROLL_NAME_DROPPED", "The CA issued serial %s without the requested name %s",
				       r->cert_serial, fqdn);
			common_evidence(f, r, a);
			apf_evidence(f, "subject", "%s", r->cert_subject);
			apf_evidence(f, "san_dns", "%s", *r->cert_dns_names ? r->cert_dns_names : "(none)");
		}
		if (r->cert_serial && !r->cert_server_auth) {
			f = apf_report(ctx, APF_FAIL, "CA_TEST_ENROLL_NO_SERVER_AUTH", "The certificate issued with template %s lacks Server Authentication",
				       tmpl);
			common_evidence(f, r, a);
		}
		f = apf_report(ctx, APF_PASS, "CA_TEST_ENROLL_ISSUED", "The CA issued a test certificate for %s with template %s%s%s",
			       fqdn, tmpl, r->cert_serial ? ", serial " : "", r->cert_serial ? r->cert_serial : "");
		common_evidence(f, r, a);
		if (r->cert_serial) {
			apf_evidence(f, "serial", "%s", r->cert_serial);
			apf_evidence(f, "subject", "%s", r->cert_subject);
			apf_evidence(f, "issuer", "%s", r->cert_issuer);
			apf_evidence(f, "not_after", "%s", r->cert_not_after);
			apf_evidence(f, "san_dns", "%s", *r->cert_dns_names ? r->cert_dns_names : "(none)");
			apf_remedy(f, "Revoke the test certificate on the CA: certutil -revoke %s 5 (or Issued Certificates > "
				      "Request ID %lu > All Tasks > Revoke Certificate)", r->cert_serial, r->page.req_id);
		} else {
			apf_evidence(f, "certificate", "not retrieved: %s", r->retrieve_error ? r->retrieve_error : "?");
			apf_remedy(f, "Revoke the test certificate on the CA: Issued Certificates > Request ID %lu > All Tasks > "
				      "Revoke Certificate", r->page.req_id);
		}
		break;
	case APF_ADCS_PENDING:
		f = apf_report(ctx, APF_FAIL, "CA_TEST_ENROLL_PENDING", "The CA put the test request %s%lu in Pending",
			       r->page.has_req_id ? "ID " : "", r->page.req_id);
		common_evidence(f, r, a);
		apf_evidence(f, "symptom", "ConfigMgr amtopmgr.log: 'Missed device certificate' after five retries");
		apf_remedy(f, PENDING_REMEDY, r->page.req_id);
		break;
	case APF_ADCS_DENIED:
		f = apf_report(ctx, APF_FAIL, "CA_TEST_ENROLL_DENIED", "The CA denied the test request: %s",
			       r->page.message[0] ? r->page.message : "(no disposition message)");
		common_evidence(f, r, a);
		apf_evidence(f, "disposition_message", "%s", r->page.message[0] ? r->page.message : "(none)");
		break;
	default:
		f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_UNEXPECTED", "Web enrollment answered with an unrecognised page%s%s",
			       r->page.title[0] ? ": " : "", r->page.title);
		common_evidence(f, r, a);
		apf_evidence(f, "page_title", "%s", r->page.title[0] ? r->page.title : "(none)");
		break;
	}
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_adcs_web_opts o = {0};
	struct apf_adcs_web_result *r = NULL;
	struct apf_finding *f;
	struct attempt at;
	const char *url = cfg->ca.web_enrollment_url;
	const char *tmpl = cfg->ca.test_template ? cfg->ca.test_template
			   : cfg->ca.templates.n ? cfg->ca.templates.v[0] : NULL;
	char *fqdn = NULL, *password = NULL, *err = NULL, *host = NULL, *ip = NULL, *dns_server = NULL;
	int rc;

	if (!tmpl) {
		apf_skip(ctx, "no template to request: set [ca] test_template or [ca] templates");
		goto out;
	}
	if (cfg->ca.test_fqdn)
		fqdn = apf_xstrdup(cfg->ca.test_fqdn);
	else if (cfg->ad.domain)
		fqdn = apf_xasprintf("amt-preflight-test.%s", cfg->ad.domain);
	else {
		apf_skip(ctx, "no test name: set [ca] test_fqdn or [ad] domain");
		goto out;
	}
	o.base_url = url;
	o.user = cfg->ca.enroll_user;
	o.auth = apf_adcs_auth_from_str(cfg->ca.enroll_auth);
	o.ca_file = cfg->ca.web_ca_bundle;
	if (o.user) {
		rc = apf_secret_read(ctx, "ca.enroll_password", &password, &err);
		if (rc < 0) {
			f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_NO_CREDENTIALS", "No password for %s: %s", o.user,
				       err ? err : "neither enroll_password_file nor AMT_PREFLIGHT_ENROLL_PASSWORD is set");
			apf_evidence(f, "account", "%s", o.user);
			goto out;
		}
		o.password = password;
	} else if (o.auth != APF_ADCS_AUTH_NEGOTIATE) {
		f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_NO_CREDENTIALS",
			       "No account to log on as: set [ca] enroll_user, or enroll_auth = negotiate with a Kerberos ticket");
		apf_evidence(f, "enroll_auth", "%s", cfg->ca.enroll_auth ? cfg->ca.enroll_auth : "any");
		goto out;
	}
	/* The web enrollment host is resolved like every other name: through the DNS
	 * servers the clients use, never the host's resolver. */
	host = apf_adcs_web_url_host(url);
	/* An IPv6 literal ("[::1]") needs no lookup; an IPv4 one comes back from apf_ad_resolve as is. */
	if (host && host[0] != '[') {
		apf_ctx_step(ctx, "resolving %s", host);
		rc = apf_ad_resolve(ctx, host, apf_ad_op_timeout(ctx, 5000), &ip, &dns_server, &err);
		if (rc < 0) {
			f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_UNREACHABLE", "Could not resolve %s: %s", host,
				       err ? err : strerror(-rc));
			apf_evidence(f, "url", "%s", url);
			apf_evidence(f, "name", "%s", host);
			apf_evidence(f, "error", "%s", err ? err : strerror(-rc));
			goto out;
		}
		o.connect_ip = strcmp(ip, host) ? ip : NULL; /* nothing to pin for a literal */
	}
	at = (struct attempt){.url = url, .tmpl = tmpl, .fqdn = fqdn, .user = o.user, .ip = ip, .dns_server = dns_server};
	o.timeout_ms = apf_ctx_remaining_ms(ctx);
	apf_ctx_step(ctx, "submitting a test request to %s", url);
	rc = apf_adcs_web_enroll(&o, tmpl, fqdn, &r, &err);
	if (rc == 0) {
		report_disposition(ctx, r, &at);
	} else if (rc == -EACCES) {
		f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_AUTH_FAILED", "Web enrollment refused the logon of %s",
			       o.user ? o.user : "the Kerberos ticket");
		common_evidence(f, r, &at);
		apf_evidence(f, "error", "%s", err ? err : "?");
		apf_evidence(f, "auth_offered", "%s", cfg->ca.enroll_auth ? cfg->ca.enroll_auth : "any");
	} else if (rc == -EPERM || rc == -EINVAL) {
		f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_CONFIG", "No test request made: %s", err ? err : strerror(-rc));
		common_evidence(f, r, &at);
		apf_evidence(f, "enroll_auth", "%s", cfg->ca.enroll_auth ? cfg->ca.enroll_auth : "any");
	} else if (rc == -EPROTO && r) {
		f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_UNEXPECTED", "Web enrollment answered HTTP %ld", r->http_status);
		common_evidence(f, r, &at);
		apf_evidence(f, "error", "%s", err ? err : "?");
	} else {
		f = apf_report(ctx, APF_ERROR, "CA_TEST_ENROLL_UNREACHABLE", "Could not reach web enrollment: %s",
			       err ? err : strerror(-rc));
		common_evidence(f, r, &at);
		apf_evidence(f, "error", "%s", err ? err : strerror(-rc));
		apf_evidence(f, "timeout_ms", "%u", o.timeout_ms);
	}
out:
	apf_adcs_web_result_free(r);
	apf_secret_free(password);
	free(host);
	free(ip);
	free(dns_server);
	free(fqdn);
	free(err);
	return 0;
}

static const char *const requires_keys[] = {"ca.web_enrollment_url", NULL};
/* The DNS servers the clients use (for resolving the web enrollment host). */
static const char *const after[] = {"dns.ad-records", "dhcp.options", NULL};

const struct apf_check apf_check_ca_test_enrollment = {
	.id = "ca.test-enrollment",
	.title = "Test certificate request through AD CS web enrollment",
	.summary = "INTRUSIVE (opt-in): generates a key and a request for a name reserved for the test "
		   "([ca] test_fqdn), submits it to /certsrv/certfnsh.asp as [ca] enroll_user with the AMT template, "
		   "and reports the CA's disposition: issued (with the serial to revoke), pending (the field notes' "
		   "policy-module failure), or denied (with the CA's message).",
	.requires_keys = requires_keys,
	.after = after,
	.needs = APF_NEED_NETWORK,
	.flags = APF_CHECK_INTRUSIVE,
	.timeout_ms = 30000,
	.codes = codes,
	.run = run,
};
