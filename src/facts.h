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
/* Each client segment (interface of [dhcp] interface) dhcp.options probed. The two
 * facts above are also published per segment, under "<key>:<interface>". */
#define APF_FACT_DHCP_SEGMENT "dhcp.options", "segment"
/* Host names of the domain controllers found in the AD SRV records. */
#define APF_FACT_AD_DC "dns.ad-records", "dc"

/* The key alone (for the publisher) and the publishing check's id. */
#define APF_FACT_KEY(fact) APF_FACT_KEY_(fact)
#define APF_FACT_KEY_(check, key) key
#define APF_FACT_CHECK(fact) APF_FACT_CHECK_(fact)
#define APF_FACT_CHECK_(check, key) check
