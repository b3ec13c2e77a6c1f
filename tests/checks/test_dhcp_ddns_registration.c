/* SPDX-License-Identifier: MIT */
/*
 * dhcp.ddns-registration through the real runner with captured Kea/dnsmasq
 * replies (fake_dhcp_net.c). The DNS side (records appearing, cleanup) is
 * covered against real servers in tests/integration/test_dhcp.py; here DNS is
 * pointed at a closed loopback port to prove an unreachable DNS server is an
 * ERROR, never a FAIL, and that the lease is released whatever happens.
 */
#include <arpa/inet.h>
#include <string.h>

#include "apf_test.h"
#include "dhcp/codec.h"
#include "fake_dhcp_net.h"

#define ID "dhcp.ddns-registration"
#define BASE "[dhcp]\ninterface = eth9\ntest_fqdn = amt-preflight-test.corp.example.test\nregister_wait_seconds = 1\n"

static const struct apf_check_result *run_with(const char *ini, const char *replies, struct apf_run **run)
{
	fake_dhcp_set_replies(replies);
	*run = apf_test_run(ID, ini, 0);
	return apf_test_result(*run, ID);
}

static void test_dns_unreachable_is_error(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r =
		run_with(BASE "[dns]\nservers = 127.0.0.1#9\n", "kea-wire-offer.bin,kea-wire-ack.bin", &run);
	const struct apf_finding *f = apf_test_expect(r, "DDNS_DNS_ERROR", APF_ERROR);

	assert_string_equal(apf_test_evidence(f, "leased_address"), "192.0.2.100");
	assert_string_equal(apf_test_evidence(f, "dhcp_server"), "192.0.2.1");
	assert_string_equal(apf_test_evidence(f, "client_mac"), "02:61:70:66:00:01");
	assert_null(apf_test_find(r, "DDNS_NOT_REGISTERED"));
	assert_int_equal(r->status, APF_ERROR);
	/* DISCOVER, REQUEST (both with option 81 S+E), then RELEASE of the lease to the server. */
	assert_int_equal(fake_dhcp_sent_count(), 3);
	assert_int_equal(fake_dhcp_sent_type(0), APF_DHCP_DISCOVER);
	assert_int_equal(fake_dhcp_sent_fqdn_flags(0), APF_FQDN_S | APF_FQDN_E);
	assert_int_equal(fake_dhcp_sent_type(1), APF_DHCP_REQUEST);
	assert_int_equal(fake_dhcp_sent_fqdn_flags(1), APF_FQDN_S | APF_FQDN_E);
	assert_int_equal(fake_dhcp_sent_type(2), APF_DHCP_RELEASE);
	assert_int_equal(fake_dhcp_sent_ciaddr(2), inet_addr("192.0.2.100"));
	assert_int_equal(fake_dhcp_sent_dst(2), inet_addr("192.0.2.1"));
	apf_run_free(run);
}

static void test_no_offer_no_ack(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	r = run_with(BASE, "", &run);
	f = apf_test_expect(r, "DDNS_NO_OFFER", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "interface"), "eth9");
	assert_int_equal(fake_dhcp_sent_count(), 1);
	apf_run_free(run);

	/* An offer but no ACK: no lease held, so nothing is released. */
	r = run_with(BASE, "dnsmasq-wire-offer.bin", &run);
	f = apf_test_expect(r, "DDNS_NO_ACK", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "leased_address"), "192.0.2.195");
	assert_int_equal(fake_dhcp_sent_count(), 2);
	assert_int_equal(fake_dhcp_sent_type(1), APF_DHCP_REQUEST);
	apf_run_free(run);

	/* An ACK without an address (here: an INFORM reply) is not a lease. */
	r = run_with(BASE, "kea-wire-offer.bin,dnsmasq-nodomain-inform-ack.bin", &run);
	apf_test_expect(r, "DDNS_NO_ACK", APF_ERROR);
	assert_int_equal(fake_dhcp_sent_type(fake_dhcp_sent_count() - 1), APF_DHCP_REQUEST);
	apf_run_free(run);
}

static void test_no_dns_server(void **state)
{
	struct apf_run *run;
	/* No [dns] servers, no dhcp.options facts and an ACK without option 6. */
	const struct apf_check_result *r = run_with(BASE, "kea-wire-offer.bin,synthetic-noopt6-ack.bin", &run);

	apf_test_expect(r, "DDNS_NO_DNS_SERVER", APF_ERROR);
	assert_int_equal(fake_dhcp_sent_count(), 3);
	/* The lease is still given back. */
	assert_int_equal(fake_dhcp_sent_type(fake_dhcp_sent_count() - 1), APF_DHCP_RELEASE);
	apf_run_free(run);
}

static void test_local_errors(void **state)
{
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	r = run_with("[dhcp]\ninterface = missing0\ntest_fqdn = t.example.test\n", "", &run);
	f = apf_test_expect(r, "DDNS_INTERFACE_MISSING", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "interface"), "missing0");
	apf_run_free(run);

	r = run_with("[dhcp]\ninterface = noperm0\ntest_fqdn = t.example.test\n", "", &run);
	f = apf_test_expect(r, "DDNS_NO_PRIVILEGE", APF_ERROR);
	assert_non_null(strstr(f->remediation, "CAP_NET_RAW"));
	assert_int_equal(fake_dhcp_sent_count(), 0);
	apf_run_free(run);

	r = run_with("[dhcp]\ninterface = eth9\n", "", &run);
	f = apf_test_expect(r, "CHECK_MISSING_CONFIG", APF_SKIP);
	assert_string_equal(apf_test_evidence(f, "missing_key"), "dhcp.test_fqdn");
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_unreachable_is_error),
		cmocka_unit_test(test_no_offer_no_ack),
		cmocka_unit_test(test_no_dns_server),
		cmocka_unit_test(test_local_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
