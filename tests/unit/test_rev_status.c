/* SPDX-License-Identifier: MIT */
/*
 * The one revocation-state-to-status mapping (src/revocation.c) and the code
 * tables of the checks that report revocation: the same state has the same
 * status in cert.provisioning and ca.revocation.
 */
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "registry.h"
#include "revocation.h"

static void test_mapping(void **state)
{
	(void)state;
	assert_int_equal(apf_rev_status(APF_REV_GOOD), APF_PASS);
	assert_int_equal(apf_rev_status(APF_REV_REVOKED), APF_FAIL);
	assert_int_equal(apf_rev_status(APF_REV_INVALID), APF_FAIL);
	assert_int_equal(apf_rev_status(APF_REV_EXPIRED), APF_FAIL);
	/* could not check: never FAIL, never PASS, never a mere WARN */
	assert_int_equal(apf_rev_status(APF_REV_UNREACHABLE), APF_ERROR);
	assert_int_equal(apf_rev_status(APF_REV_NONE), APF_INFO);
	assert_int_equal(apf_rev_status(APF_REV_STATE_COUNT), APF_ERROR);
}

/* The status a code is documented with (its table entry) is the mapping's. */
static void expect_code(const char *code, enum apf_rev_state st, const char *check)
{
	const struct apf_check *owner = NULL;
	const struct apf_code *c = apf_registry_find_code(code, &owner);

	if (!c || !owner || strcmp(owner->id, check) != 0)
		fail_msg("%s is not a code of %s", code, check);
	if (c->status != apf_rev_status(st))
		fail_msg("%s is %s in its table, the mapping says %s", code, apf_status_name(c->status),
			 apf_status_name(apf_rev_status(st)));
}

static void test_code_tables_agree(void **state)
{
	static const struct {
		const char *code;
		enum apf_rev_state st;
		const char *check;
	} codes[] = {
		{"CERT_REVOKED", APF_REV_REVOKED, "cert.provisioning"},
		{"CERT_REVOCATION_UNREACHABLE", APF_REV_UNREACHABLE, "cert.provisioning"},
		{"CERT_REVOCATION_UNUSABLE", APF_REV_EXPIRED, "cert.provisioning"},
		{"CERT_REVOCATION_UNUSABLE", APF_REV_INVALID, "cert.provisioning"},
		{"CA_CERT_REVOKED", APF_REV_REVOKED, "ca.revocation"},
		{"CA_CRL_OK", APF_REV_GOOD, "ca.revocation"},
		{"CA_CRL_UNREACHABLE", APF_REV_UNREACHABLE, "ca.revocation"},
		{"CA_CRL_EXPIRED", APF_REV_EXPIRED, "ca.revocation"},
		{"CA_CRL_INVALID", APF_REV_INVALID, "ca.revocation"},
		{"CA_NO_CDP", APF_REV_NONE, "ca.revocation"},
		{"CA_OCSP_OK", APF_REV_GOOD, "ca.revocation"},
		{"CA_OCSP_UNREACHABLE", APF_REV_UNREACHABLE, "ca.revocation"},
		{"CA_OCSP_STALE", APF_REV_EXPIRED, "ca.revocation"},
		{"CA_OCSP_INVALID", APF_REV_INVALID, "ca.revocation"},
		{"CA_NO_OCSP", APF_REV_NONE, "ca.revocation"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		expect_code(codes[i].code, codes[i].st, codes[i].check);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_code_tables_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
