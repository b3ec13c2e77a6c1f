/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "registry.h"

extern const struct apf_check apf_check_activation_servers;
extern const struct apf_check apf_check_ad_ldap;
extern const struct apf_check apf_check_amt_devices;
extern const struct apf_check apf_check_amt_tls;
extern const struct apf_check apf_check_ca_enterprise;
extern const struct apf_check apf_check_ca_revocation;
extern const struct apf_check apf_check_ca_template;
extern const struct apf_check apf_check_cert_amt_root_hash;
extern const struct apf_check apf_check_cert_intermediate_store;
extern const struct apf_check apf_check_cert_provisioning;
extern const struct apf_check apf_check_cira_mps;
extern const struct apf_check apf_check_dhcp_ddns_registration;
extern const struct apf_check apf_check_dhcp_options;
extern const struct apf_check apf_check_dns_ad_records;
extern const struct apf_check apf_check_dns_host_registration;
extern const struct apf_check apf_check_dns_provisionserver;
extern const struct apf_check apf_check_dns_servers;
extern const struct apf_check apf_check_ca_enroll_permission;
extern const struct apf_check apf_check_ca_test_enrollment;
extern const struct apf_check apf_check_scs_sql;
extern const struct apf_check apf_check_site_redundancy;
extern const struct apf_check apf_check_time_ntp;

/* This table MUST stay sorted by id (bsearch, and the report order); a unit test checks it. */
static const struct apf_check *const checks[] = {
	&apf_check_activation_servers,
	&apf_check_ad_ldap,
	&apf_check_amt_devices,
	&apf_check_amt_tls,
	&apf_check_ca_enroll_permission,
	&apf_check_ca_enterprise,
	&apf_check_ca_revocation,
	&apf_check_ca_template,
	&apf_check_ca_test_enrollment,
	&apf_check_cert_amt_root_hash,
	&apf_check_cert_intermediate_store,
	&apf_check_cert_provisioning,
	&apf_check_cira_mps,
	&apf_check_dhcp_ddns_registration,
	&apf_check_dhcp_options,
	&apf_check_dns_ad_records,
	&apf_check_dns_host_registration,
	&apf_check_dns_provisionserver,
	&apf_check_dns_servers,
	&apf_check_scs_sql,
	&apf_check_site_redundancy,
	&apf_check_time_ntp,
};

size_t apf_registry_count(void)
{
	return sizeof(checks) / sizeof(checks[0]);
}

const struct apf_check *apf_registry_at(size_t i)
{
	return i < apf_registry_count() ? checks[i] : NULL;
}

static int cmp_id(const void *key, const void *elem)
{
	const struct apf_check *const *c = elem;
	return strcmp(key, (*c)->id);
}

const struct apf_check *apf_registry_find(const char *id)
{
	const struct apf_check *const *c = bsearch(id, checks, apf_registry_count(), sizeof(checks[0]), cmp_id);
	return c ? *c : NULL;
}

const struct apf_code *apf_registry_find_code(const char *code, const struct apf_check **owner)
{
	for (size_t i = 0; i < apf_registry_count(); i++) {
		for (const struct apf_code *k = checks[i]->codes; k && k->code; k++) {
			if (strcmp(k->code, code) == 0) {
				if (owner)
					*owner = checks[i];
				return k;
			}
		}
	}
	return NULL;
}
