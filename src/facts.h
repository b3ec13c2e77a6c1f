/* SPDX-License-Identifier: MIT */
/*
 * Fact keys: what one check publishes for the checks that run after it
 * (apf_fact_add / apf_fact_get in checks/check.h), named once here.
 *
 * Each APF_FACT_* expands to the publishing check's id and the key, so that a
 * reader cannot name one without the other: apf_fact_get(ctx, APF_FACT_DHCP_DNS_SERVERS).
 * The publisher adds with APF_FACT_KEY(): apf_fact_add(ctx, APF_FACT_KEY(APF_FACT_AD_DC), name).
 * A reader sees a fact only when the publisher is in its `after` or
 * `requires_checks` (else apf_fact_get() returns NULL); the unit test
 * tests/unit/check_structure.py keeps every reader's declaration true,
 * including readers that read through src/ modules (ad.c, dnscheck.c).
 */
#pragma once

/* The DNS suffix (option 15) DHCP servers hand out, without trailing dot; one value per distinct suffix. */
#define APF_FACT_DHCP_DOMAIN_SUFFIX "dhcp.options", "domain_suffix"
/* The DNS servers (option 6) DHCP servers hand out, numeric addresses. */
#define APF_FACT_DHCP_DNS_SERVERS "dhcp.options", "dns_servers"
/* Each client segment (interface of [dhcp] interface) dhcp.options probed, and the two
 * facts above per segment: "<interface> <value>" ("eth1 corp.example.com"). */
#define APF_FACT_DHCP_SEGMENT "dhcp.options", "segment"
#define APF_FACT_DHCP_SEGMENT_DOMAIN_SUFFIX "dhcp.options", "segment_domain_suffix"
#define APF_FACT_DHCP_SEGMENT_DNS_SERVERS "dhcp.options", "segment_dns_servers"
/* Host names of the domain controllers found in the AD SRV records. */
#define APF_FACT_AD_DC "dns.ad-records", "dc"
/* Activation endpoints, each as configured, and those that answered with an
 * acceptable TLS peer (on at least one address). */
#define APF_FACT_ACT_URL "activation.servers", "endpoint"
#define APF_FACT_ACT_OK_URL "activation.servers", "endpoint_ok"
/* CIRA: MPS entries, each as configured, and those with an address that passed. */
#define APF_FACT_MPS_URL "cira.mps", "mps"
#define APF_FACT_MPS_OK_URL "cira.mps", "mps_ok"

/* For site.redundancy: how many instances of each service were asked, and answered. */
/* DNS servers dns.servers asked (as configured or learned, "192.0.2.1"), and those that answered. */
#define APF_FACT_DNS_ASKED "dns.servers", "asked"
#define APF_FACT_DNS_ANSWERED "dns.servers", "answered"
/* Domain controllers ad.ldap checked, and those that answered the rootDSE read. */
#define APF_FACT_AD_DC_CHECKED "ad.ldap", "dc_checked"
#define APF_FACT_AD_DC_ANSWERED "ad.ldap", "dc_answered"
/* Enterprise CAs ca.enterprise found in AD, and those offering a [ca] templates entry. */
#define APF_FACT_CA_FOUND "ca.enterprise", "ca"
#define APF_FACT_CA_OFFERING "ca.enterprise", "ca_offering_template"
/* SCS addresses whose Hello port dns.provisionserver probed, and those that accepted. */
#define APF_FACT_PS_HELLO_PROBED "dns.provisionserver", "hello_probed"
#define APF_FACT_PS_HELLO_OK "dns.provisionserver", "hello_ok"
/* NTP servers time.ntp asked ([time] ntp_servers), and those that gave a usable time. */
#define APF_FACT_NTP_ASKED "time.ntp", "ntp_asked"
#define APF_FACT_NTP_ANSWERED "time.ntp", "ntp_answered"

/* The key alone (for the publisher) and the publishing check's id. */
#define APF_FACT_KEY(fact) APF_FACT_KEY_(fact)
#define APF_FACT_KEY_(check, key) key
#define APF_FACT_CHECK(fact) APF_FACT_CHECK_(fact)
#define APF_FACT_CHECK_(check, key) check
