/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "alloc.h"
#include "sample_run.h"

static struct apf_check_result *add_check(struct apf_run *run, const char *id, const char *title, uint64_t ms)
{
	struct apf_check_result *c;

	run->checks = apf_xrealloc(run->checks, (run->n_checks + 1) * sizeof(*run->checks));
	c = &run->checks[run->n_checks++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->title = title;
	c->duration_ms = ms;
	return c;
}

static struct apf_finding *add(struct apf_check_result *c, enum apf_status st, const char *code, const char *msg,
			       const char *remedy)
{
	struct apf_finding *f = apf_finding_new(st, code, msg);

	if (remedy)
		apf_finding_set_remedy(f, remedy);
	apf_check_result_take_finding(c, f);
	return f;
}

static void ev(struct apf_finding *f, const char *k, const char *v)
{
	apf_finding_add_evidence(f, k, v);
}

struct apf_run *apf_sample_run(bool hostile)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));
	struct apf_check_result *c;
	struct apf_finding *f;

	run->tool_version = apf_xstrdup(hostile ? "0.1.0" APF_SAMPLE_SCRIPT : "0.1.0");
	run->host = apf_xstrdup(hostile ? "client\"'><img src=x onerror=alert(3)>" : "amt-client01.corp.example.test");
	run->site = apf_xstrdup(hostile ? "Store 42 & <b>HQ</b> \xff\x01" : "Store 42");
	run->config_path = apf_xstrdup(hostile ? "/etc/amt-preflight/<x>&\"'.conf" : "/etc/amt-preflight/site.conf");
	run->config_digest = apf_xstrdup("3f0c1bd1f2a4e2b1d9a5e0c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0");
	run->started = 1715000000; /* 2024-05-06 12:53:20 UTC */
	run->duration_ms = 4321;

	c = add_check(run, "ad.ldap", "Domain controllers: LDAP, bind, clock", 5000);
	f = add(c, APF_ERROR, "LDAP_TIMEOUT", "No LDAP answer from dc1.corp.example.test within 5 s",
		"Allow TCP 389/636 from this host to the domain controllers");
	ev(f, "server", "dc1.corp.example.test:389");
	ev(f, "step", "LDAP bind as CN=amtcheck,CN=Users,DC=corp,DC=example,DC=test");

	c = add_check(run, "ca.template", "AMT certificate templates", 95);
	f = add(c, APF_FAIL, "CA_TEMPLATE_PEND_ALL", "Template AMTWebServer holds every request for a CA manager's approval",
		"Clear \"CA certificate manager approval\" on the template's Issuance Requirements tab");
	ev(f, "dn", "CN=AMTWebServer,CN=Certificate Templates,CN=Public Key Services,CN=Services,CN=Configuration,"
		    "DC=corp,DC=example,DC=test");
	ev(f, "msPKI-Enrollment-Flag", "0x2 (PEND_ALL_REQUESTS)");

	c = add_check(run, "cert.amt-root-hash", "Provisioning root hash in AMT firmware", 3);
	f = add(c, APF_PASS, "ROOT_HASH_KNOWN", "The chain's root is in the AMT 16 default hash list", NULL);
	ev(f, "root", "CN=DigiCert Global Root G2");
	ev(f, "sha256", "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f");

	c = add_check(run, "cert.provisioning", "Provisioning certificate and chain", 212);
	f = add(c, APF_FAIL, "CERT_CHAIN_EXPIRED", "The intermediate CA in the provisioning chain expired on 2024-01-31",
		"Re-export the PFX with the renewed intermediate and re-import it on the setup server");
	ev(f, "file", "/etc/amt-preflight/provisioning.pfx");
	ev(f, "subject", "CN=Example Intermediate CA G2,O=Example Trust,C=US");
	ev(f, "serial", "0A:1B:2C:3D");
	ev(f, "sha1", "d1eb23a46d17d68fd92564c2f1f1601764d8e349");
	ev(f, "not_after", "2024-01-31T23:59:59Z");
	f = add(c, APF_PASS, "CERT_OID_OK", "The leaf carries the AMT provisioning OID 2.16.840.1.113741.1.2.3", NULL);
	ev(f, "subject", "CN=amtprov.corp.example.test,OU=Intel(R) Client Setup Certificate");

	c = add_check(run, "dhcp.ddns-registration", "DHCP registers option-81 names in DNS", 0);
	add(c, APF_SKIP, "CHECK_SKIPPED", "Intrusive check not enabled (add it to [site] enable)", NULL);

	c = add_check(run, "dhcp.options", "DHCP options 15, 6 and 81", 1800);
	f = add(c, APF_INFO, "DHCP_OPTION15_OK", "Option 15 carries the domain suffix corp.example.test", NULL);
	ev(f, "interface", "eth0");
	ev(f, "server", "192.0.2.1");
	ev(f, "option15", "corp.example.test");

	c = add_check(run, "dns.provisionserver", "ProvisionServer DNS record", 41);
	f = add(c, APF_WARN, "DNS_PS_TTL_LONG", "ProvisionServer resolves, but with a TTL of 86400 s",
		"Lower the TTL to 3600 s or less so a moved setup server is found the same day");
	ev(f, "query", "ProvisionServer.corp.example.test A");
	ev(f, "server", "192.0.2.1");
	ev(f, "rcode", "NOERROR");
	ev(f, "answer", "192.0.2.10");
	ev(f, "ttl", "86400");

	if (hostile) {
		static char longval[6000];

		c = add_check(run, "zz.hostile", "Title " APF_SAMPLE_IMG " & 'quotes' \"dq\"", 7);
		f = add(c, APF_FAIL, "HOSTILE_MARKUP", "Subject was " APF_SAMPLE_SCRIPT " and " APF_SAMPLE_IMG,
			"Fix </p></div><script>alert(4)</script> and see " APF_SAMPLE_URL);
		ev(f, "subject", APF_SAMPLE_SCRIPT);
		ev(f, "issuer", APF_SAMPLE_IMG);
		ev(f, APF_SAMPLE_IMG, "key is hostile too");
		ev(f, "url", APF_SAMPLE_URL);
		ev(f, "link", "<a href=\"" APF_SAMPLE_URL "\">click</a>");
		ev(f, "style", "<style>body{background:url(" APF_SAMPLE_URL ")}</style>");
		ev(f, "controls", "bell\x07 esc\x1b[31m del\x7f c1\xc2\x85 nul-less");
		ev(f, "bad_utf8", "a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\xf4\x90\x80\x80" "e\xe2\x82");
		ev(f, "quotes", "\"'`");
		memset(longval, 'A', sizeof(longval) - 1);
		ev(f, "long", longval);
	}
	apf_run_finish(run);
	return run;
}
