/* SPDX-License-Identifier: MIT */
/* dhcp.options through the real runner, with captured Kea/dnsmasq replies (fake_dhcp_net.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "check.h"
#include "dhcp/codec.h"
#include "fake_dhcp_net.h"

#define ID "dhcp.options"

static const struct apf_check_result *run_with(const char *ini, const char *replies, struct apf_run **run)
{
	fake_dhcp_set_replies(replies);
	*run = apf_test_run(ID, ini, 0);
	return apf_test_result(*run, ID);
}

static void test_kea_inform_healthy(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = corp.example.test\n",
						    "kea-inform-ack.bin", &run);
	const struct apf_finding *f;

	f = apf_test_expect(r, "DHCP_OPTION15_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "option_15"), "corp.example.test");
	assert_string_equal(apf_test_evidence(f, "server"), "192.0.2.1");
	assert_string_equal(apf_test_evidence(f, "reply"), "DHCPACK");
	f = apf_test_expect(r, "DHCP_SUFFIX_MATCH", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "amt_domain_suffix"), "corp.example.test");
	assert_string_equal(apf_test_evidence(f, "suffix_rule"), "firmware");
	f = apf_test_expect(r, "DHCP_OPTION6_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "option_6"), "192.0.2.1");
	/* Kea does not echo option 81 on INFORM: INFO, never a failure. */
	apf_test_expect(r, "DHCP_FQDN_NOT_ECHOED", APF_INFO);
	f = apf_test_expect(r, "DHCP_SERVERS", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "servers"), "192.0.2.1");
	assert_int_equal(r->status, APF_INFO);
	/* One INFORM from the interface's address, carrying option 81 with S and E. */
	assert_int_equal(fake_dhcp_sent_type(0), APF_DHCP_INFORM);
	assert_int_equal(fake_dhcp_sent_ciaddr(0), inet_addr("192.0.2.2"));
	assert_int_equal(fake_dhcp_sent_dst(0), 0xffffffffu);
	assert_int_equal(fake_dhcp_sent_fqdn_flags(0), APF_FQDN_S | APF_FQDN_E);
	apf_run_free(run);
}

static void test_suffix_mismatch(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_with(
		"[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = corp.example.com, amt.example.org\n",
		"kea-inform-ack.bin", &run);
	const struct apf_finding *f = apf_test_expect(r, "DHCP_SUFFIX_MISMATCH", APF_FAIL);

	assert_string_equal(apf_test_evidence(f, "option_15"), "corp.example.test");
	assert_string_equal(apf_test_evidence(f, "amt_domain_suffixes"), "corp.example.com, amt.example.org");
	assert_string_equal(apf_test_evidence(f, "suffix_rule"), "firmware");
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);

	/* The last-two-labels relaxation is for .com and .net only: another company's
	 * (or another branch's) domain under the same .test parent does not match. */
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = other.example.test\n", "kea-inform-ack.bin",
		     &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_MISMATCH", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "amt_domain_suffixes"), "other.example.test");
	assert_null(apf_test_find(r, "DHCP_SUFFIX_MATCH"));
	apf_run_free(run);
}

/* co.uk is no .com: a suffix sharing only "example.co.uk"/"co.uk" with option 15 fails. */
static void test_suffix_couk(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = branch.other.co.uk\n",
		     "synthetic-couk-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_MISMATCH", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "option_15"), "corp.example.co.uk");
	assert_null(apf_test_find(r, "DHCP_SUFFIX_MATCH"));
	apf_run_free(run);

	r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = Corp.Example.CO.UK.\n",
		     "synthetic-couk-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_MATCH", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "option_15"), "corp.example.co.uk");
	assert_null(apf_test_find(r, "DHCP_SUFFIX_MISMATCH"));
	apf_run_free(run);
}

static void test_dnsmasq_without_domain(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_with("[dhcp]\ninterface = eth9\n", "dnsmasq-nodomain-inform-ack.bin", &run);
	const struct apf_finding *f;

	f = apf_test_expect(r, "DHCP_OPTION15_MISSING", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "option_15"), "absent");
	f = apf_test_expect(r, "DHCP_OPTION6_MISSING", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "option_6"), "absent");
	/* dnsmasq does echo option 81 on INFORM (RCODEs 255). */
	f = apf_test_expect(r, "DHCP_FQDN_ECHO", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "option_81_rcodes"), "255/255");
	assert_string_equal(apf_test_evidence(f, "option_81_flags"), "0x05 (S,E)");
	assert_null(apf_test_find(r, "DHCP_SUFFIX_MATCH"));
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
}

static const char *devices_dir(void)
{
	return apf_test_srcpath("fixtures/devices");
}

/* AMT uses a MEBx/USB suffix before option 15: a missing option 15 is no FAIL
 * when that source is declared or seen in the device facts, and is one when
 * neither is. */
static void test_missing_option15_other_source(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;
	char *ini;

	(void)state;
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\nsuffix_source = mebx\n", "dnsmasq-nodomain-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_FROM_MEBX", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "suffix_source"), "[amt] suffix_source = mebx");
	assert_null(apf_test_find(r, "DHCP_OPTION15_MISSING"));
	apf_run_free(run);

	/* Seen in device facts: amt-03 has a MEBx suffix, amt-01 none (it needs option 15: WARN). */
	ini = apf_xasprintf("[dhcp]\ninterface = eth9\n[amt]\ndevice_facts = %s\n", devices_dir());
	r = run_with(ini, "dnsmasq-nodomain-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_FROM_MEBX", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "amt_dns_suffix"), "vpro.example.com");
	assert_string_equal(apf_test_evidence(f, "devices"), "amt-03");
	assert_string_equal(apf_test_evidence(f, "devices_without_suffix"), "amt-01");
	assert_null(apf_test_find(r, "DHCP_OPTION15_MISSING"));
	apf_run_free(run);
	free(ini);

	/* suffix_source = dhcp and no device facts: the FAIL stays. */
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\nsuffix_source = dhcp\n", "dnsmasq-nodomain-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_OPTION15_MISSING", APF_FAIL);
	assert_non_null(apf_test_evidence(f, "other_suffix_source"));
	assert_null(apf_test_find(r, "DHCP_SUFFIX_FROM_MEBX"));
	apf_run_free(run);
}

/* Option 15 against what the devices report: an OS suffix that differs FAILs
 * (naming the devices), an equal one passes, a MEBx suffix is INFO. */
static void test_option15_vs_device_facts(void **state)
{
	const char *tmp = apf_test_tmpdir();
	char *same = apf_xasprintf("%s/pc-7.json", tmp), *ini;
	FILE *fp = fopen(same, "w");
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	assert_non_null(fp);
	fputs("{\"hostnameOS\":\"pc-7\",\"controlMode\":\"not activated\",\"dnsSuffixOS\":\"Corp.Example.Test.\"}", fp);
	fclose(fp);
	ini = apf_xasprintf("[dhcp]\ninterface = eth9\n[amt]\ndevice_facts = %s\ndevice_facts = %s\n", devices_dir(), same);
	r = run_with(ini, "kea-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_DEVICE_SUFFIX_MISMATCH", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "devices"), "amt-01");
	assert_string_equal(apf_test_evidence(f, "device_os_suffix"), "corp.example.com");
	assert_string_equal(apf_test_evidence(f, "option_15"), "corp.example.test");
	f = apf_test_expect(r, "DHCP_DEVICE_SUFFIX_MATCH", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "devices"), "pc-7");
	f = apf_test_expect(r, "DHCP_SUFFIX_FROM_MEBX", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "devices"), "amt-03");
	assert_int_equal(r->status, APF_FAIL);
	apf_run_free(run);
	free(ini);
	remove(same);
	free(same);
}

/* The rule of each declared activation profile applies besides the firmware's. */
static void test_suffix_rule_per_profile(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = corp.example.test\nactivation = rps\n",
		     "kea-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_MATCH", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "suffix_rule"), "firmware, exact");
	apf_run_free(run);

	/* a domain two levels below option 15: in its domain for the firmware, no exact match for RPS */
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = eu.sales.corp.example.test\n", "kea-inform-ack.bin",
		     &run);
	apf_test_expect(r, "DHCP_SUFFIX_MATCH", APF_PASS);
	apf_run_free(run);
	r = run_with("[dhcp]\ninterface = eth9\n[amt]\ndomain_suffixes = eu.sales.corp.example.test\nactivation = rps\n",
		     "kea-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_SUFFIX_MISMATCH", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "suffix_rule"), "firmware, exact");
	assert_null(apf_test_find(r, "DHCP_SUFFIX_MATCH"));
	apf_run_free(run);
}

static void test_two_servers(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	r = run_with("[dhcp]\ninterface = eth9\n", "kea-inform-ack.bin,dnsmasq-inform-ack.bin@192.0.2.53", &run);
	f = apf_test_expect(r, "DHCP_MULTIPLE_SERVERS", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "servers"), "192.0.2.1, 192.0.2.53");
	/* Each server is judged on its own. */
	apf_test_expect(r, "DHCP_FQDN_NOT_ECHOED", APF_INFO);
	apf_test_expect(r, "DHCP_FQDN_ECHO", APF_PASS);
	assert_int_equal(r->status, APF_WARN);
	apf_run_free(run);

	/* Both expected: no warning. */
	r = run_with("[dhcp]\ninterface = eth9\nexpected_servers = 192.0.2.1, 192.0.2.53\n",
		     "kea-inform-ack.bin,dnsmasq-inform-ack.bin@192.0.2.53", &run);
	assert_null(apf_test_find(r, "DHCP_MULTIPLE_SERVERS"));
	assert_null(apf_test_find(r, "DHCP_UNEXPECTED_SERVER"));
	assert_int_equal(r->status, APF_INFO);
	apf_run_free(run);

	/* Only one expected: the other is a rogue. */
	r = run_with("[dhcp]\ninterface = eth9\nexpected_servers = 192.0.2.1\n",
		     "kea-inform-ack.bin,dnsmasq-inform-ack.bin@192.0.2.53", &run);
	f = apf_test_expect(r, "DHCP_UNEXPECTED_SERVER", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "server"), "192.0.2.53");
	apf_test_expect(r, "DHCP_MULTIPLE_SERVERS", APF_WARN);
	apf_run_free(run);
}

/* The expected_servers evidence lists every configured entry in full, however
 * long (it used to be cut into a buffer sized for IPv4 addresses). */
static void test_long_expected_servers(void **state)
{
	static const char *const addr[] = {
		"2001:db8:aaaa:bbbb:cccc:dddd:eeee:f001#65535",
		"2001:db8:aaaa:bbbb:cccc:dddd:eeee:f002#65535",
		"2001:db8:aaaa:bbbb:cccc:dddd:eeee:f003#65535",
		"192.0.2.250",
	};
	char *joined = apf_strv_join(addr, sizeof(addr) / sizeof(addr[0]), ", ");
	char *ini = apf_xasprintf("[dhcp]\ninterface = eth9\nexpected_servers = %s\n", joined);
	struct apf_run *run;
	const struct apf_check_result *r = run_with(ini, "kea-inform-ack.bin", &run);
	const struct apf_finding *f = apf_test_expect(r, "DHCP_UNEXPECTED_SERVER", APF_WARN);

	assert_string_equal(apf_test_evidence(f, "server"), "192.0.2.1");
	assert_string_equal(apf_test_evidence(f, "expected_servers"), joined);
	apf_run_free(run);
	free(ini);
	free(joined);
}

static void test_discover_mode(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	r = run_with("[dhcp]\ninterface = noaddr0\nmode = discover\n", "kea-wire-offer.bin", &run);
	f = apf_test_expect(r, "DHCP_FQDN_ECHO", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "option_81_rcodes"), "0/0");
	assert_string_equal(apf_test_evidence(f, "option_81_name"), "amt-fixture.corp.example.test.");
	assert_string_equal(apf_test_evidence(f, "reply"), "DHCPOFFER");
	assert_int_equal(fake_dhcp_sent_type(0), APF_DHCP_DISCOVER);
	assert_int_equal(fake_dhcp_sent_ciaddr(0), 0);
	/* Never a REQUEST in discover mode. */
	for (size_t i = 0; i < fake_dhcp_sent_count(); i++)
		assert_int_equal(fake_dhcp_sent_type(i), APF_DHCP_DISCOVER);
	assert_int_equal(r->status, APF_PASS);
	apf_run_free(run);

	/* N=1: the server will not update DNS for the client. */
	r = run_with("[dhcp]\ninterface = eth9\nmode = discover\n", "kea-nbit-offer.bin", &run);
	f = apf_test_expect(r, "DHCP_FQDN_NO_UPDATE", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "option_81_flags"), "0x0c (E,N)");
	apf_run_free(run);

	/* N and S together is invalid. */
	r = run_with("[dhcp]\ninterface = eth9\nmode = discover\n", "synthetic-ns-offer.bin", &run);
	f = apf_test_expect(r, "DHCP_FQDN_INVALID", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "option_81_flags"), "0x0d (S,E,N)");
	apf_run_free(run);

	/* An OFFER without option 81: the server ignores client FQDNs. */
	r = run_with("[dhcp]\ninterface = eth9\nmode = discover\n", "dnsmasq-wire-offer.bin,kea-inform-ack.bin", &run);
	assert_null(apf_test_find(r, "DHCP_FQDN_IGNORED")); /* the ACK is not an answer to DISCOVER */
	apf_test_expect(r, "DHCP_FQDN_ECHO", APF_PASS);
	apf_run_free(run);
}

static void test_no_reply(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r = run_with("[dhcp]\ninterface = eth9\nlisten_seconds = 2\n", "", &run);
	const struct apf_finding *f = apf_test_expect(r, "DHCP_NO_REPLY", APF_ERROR);

	assert_string_equal(apf_test_evidence(f, "segment"), "eth9");
	assert_string_equal(apf_test_evidence(f, "ciaddr"), "192.0.2.2");
	assert_string_equal(apf_test_evidence(f, "request"), "DHCPINFORM to 255.255.255.255:67, sent 2 times");
	/* Retransmitted once: one lost datagram is not "no server". */
	assert_int_equal(fake_dhcp_sent_count(), 2);
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
}

/* Two segments: findings name theirs; a suffix only on wireless is reported. */
static void test_segments(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	r = run_with("[dhcp]\ninterface = eth9, wlan0\nwireless_interfaces = wlan0\n",
		     "kea-inform-ack.bin%wlan0,dnsmasq-nodomain-inform-ack.bin%eth9", &run);
	f = apf_test_expect(r, "DHCP_OPTION15_OK", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "segment"), "wlan0");
	assert_string_equal(apf_test_evidence(f, "segment_type"), "wireless");
	f = apf_test_expect(r, "DHCP_OPTION15_MISSING", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "segment"), "eth9");
	assert_string_equal(apf_test_evidence(f, "segment_type"), "wired");
	f = apf_test_expect(r, "DHCP_SUFFIX_WIRELESS_ONLY", APF_FAIL);
	assert_string_equal(apf_test_evidence(f, "segment"), "eth9");
	assert_string_equal(apf_test_evidence(f, "wireless_with_suffix"), "wlan0");
	assert_int_equal(fake_dhcp_sent_count(), 2);
	apf_run_free(run);

	/* The suffix missing on a wireless segment only: INFO, and no wireless-only finding. */
	r = run_with("[dhcp]\ninterface = eth9\ninterface = wlan0\nwireless_interfaces = wlan0\n",
		     "kea-inform-ack.bin%eth9,dnsmasq-nodomain-inform-ack.bin%wlan0", &run);
	f = apf_test_expect(r, "DHCP_OPTION15_MISSING", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "segment"), "wlan0");
	assert_null(apf_test_find(r, "DHCP_SUFFIX_WIRELESS_ONLY"));
	apf_run_free(run);
}

static void test_local_errors(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	r = run_with("[dhcp]\ninterface = missing0\n", "kea-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_INTERFACE_MISSING", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "segment"), "missing0");
	assert_int_equal(fake_dhcp_sent_count(), 0);
	apf_run_free(run);

	r = run_with("[dhcp]\ninterface = noaddr0\n", "kea-inform-ack.bin", &run);
	apf_test_expect(r, "DHCP_NO_IPV4_ADDRESS", APF_ERROR);
	apf_run_free(run);

	r = run_with("[dhcp]\ninterface = noperm0\n", "kea-inform-ack.bin", &run);
	f = apf_test_expect(r, "DHCP_NO_PRIVILEGE", APF_ERROR);
	assert_non_null(strstr(f->remediation, "CAP_NET_BIND_SERVICE"));
	assert_non_null(strstr(apf_test_evidence(f, "error"), "Permission denied"));
	apf_run_free(run);

	/* Not configured: SKIP naming the key, nothing sent. */
	r = run_with(NULL, "kea-inform-ack.bin", &run);
	f = apf_test_expect(r, "CHECK_MISSING_CONFIG", APF_SKIP);
	assert_string_equal(apf_test_evidence(f, "missing_key"), "dhcp.interface");
	assert_int_equal(fake_dhcp_sent_count(), 0);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kea_inform_healthy),
		cmocka_unit_test(test_suffix_mismatch),
		cmocka_unit_test(test_suffix_couk),
		cmocka_unit_test(test_dnsmasq_without_domain),
		cmocka_unit_test(test_two_servers),
		cmocka_unit_test(test_long_expected_servers),
		cmocka_unit_test(test_discover_mode),
		cmocka_unit_test(test_no_reply),
		cmocka_unit_test(test_local_errors),
		cmocka_unit_test(test_missing_option15_other_source),
		cmocka_unit_test(test_option15_vs_device_facts),
		cmocka_unit_test(test_suffix_rule_per_profile),
		cmocka_unit_test(test_segments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
