/* SPDX-License-Identifier: MIT */
/* AD CS flag decoding and value parsing (src/adcs.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adcs.h"
#include "apf_test.h"

static void test_parse_u32_signed_and_unsigned(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(apf_adcs_parse_u32("2", &v), 0);
	assert_int_equal(v, 2);
	/* AD stores 0x82000000 as a signed 32-bit decimal */
	assert_int_equal(apf_adcs_parse_u32("-2113929216", &v), 0);
	assert_int_equal(v, 0x82000000u);
	assert_int_equal(apf_adcs_parse_u32("4294967295", &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(apf_adcs_parse_u32("-2147483648", &v), 0);
	assert_int_equal(v, 0x80000000u);
	assert_int_equal(apf_adcs_parse_u32("4294967296", &v), -EINVAL);
	assert_int_equal(apf_adcs_parse_u32("-2147483649", &v), -EINVAL);
	assert_int_equal(apf_adcs_parse_u32("2x", &v), -EINVAL);
	assert_int_equal(apf_adcs_parse_u32("", &v), -EINVAL);
	assert_int_equal(apf_adcs_parse_u32(NULL, &v), -EINVAL);
}

static void test_enrollment_flags(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(apf_adcs_enrollment_flags_str(0, buf, sizeof(buf)), "0x00000000 (none)");
	assert_string_equal(apf_adcs_enrollment_flags_str(APF_CT_FLAG_PEND_ALL_REQUESTS, buf, sizeof(buf)),
			    "0x00000002 (PEND_ALL_REQUESTS)");
	assert_string_equal(apf_adcs_enrollment_flags_str(0x29, buf, sizeof(buf)),
			    "0x00000029 (INCLUDE_SYMMETRIC_ALGORITHMS|PUBLISH_TO_DS|AUTO_ENROLLMENT)");
	/* unknown bits are kept visible, never dropped */
	assert_string_equal(apf_adcs_enrollment_flags_str(0x40000002u, buf, sizeof(buf)),
			    "0x40000002 (PEND_ALL_REQUESTS|0x40000000)");
}

static void test_name_flags(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(apf_adcs_name_flags_str(1, buf, sizeof(buf)), "0x00000001 (ENROLLEE_SUPPLIES_SUBJECT)");
	assert_string_equal(apf_adcs_name_flags_str(0x82000000u, buf, sizeof(buf)),
			    "0x82000000 (SUBJECT_ALT_REQUIRE_UPN|SUBJECT_REQUIRE_DIRECTORY_PATH)");
}

static void test_flags_truncate_safely(void **state)
{
	char small[12];

	(void)state;
	memset(small, 'x', sizeof(small));
	apf_adcs_enrollment_flags_str(0xffffffffu, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "0xffffffff ", 11);
}

static void test_filter_escape(void **state)
{
	char *e;

	(void)state;
	e = apf_ldap_filter_escape("AMT*)(cn=x\\");
	assert_string_equal(e, "AMT\\2a\\29\\28cn=x\\5c");
	free(e);
	e = apf_ldap_filter_escape("AMTWebServer");
	assert_string_equal(e, "AMTWebServer");
	free(e);
}

static void test_provisioning_detection(void **state)
{
	const char *amt[] = {APF_OID_SERVER_AUTH, APF_OID_AMT_SETUP};
	const char *web[] = {APF_OID_SERVER_AUTH};

	(void)state;
	assert_true(apf_adcs_is_provisioning_template("AMTProvisioning", web, 1));
	assert_true(apf_adcs_is_provisioning_template("Setup", amt, 2));
	assert_false(apf_adcs_is_provisioning_template("AMTWebServer", web, 1));
	assert_false(apf_adcs_is_provisioning_template(NULL, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u32_signed_and_unsigned),
		cmocka_unit_test(test_enrollment_flags),
		cmocka_unit_test(test_name_flags),
		cmocka_unit_test(test_flags_truncate_safely),
		cmocka_unit_test(test_filter_escape),
		cmocka_unit_test(test_provisioning_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
