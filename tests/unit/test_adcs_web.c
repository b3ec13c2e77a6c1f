/* SPDX-License-Identifier: MIT */
/* The AD CS web enrollment disposition pages (src/net/adcs_web.c's parser). */
#include <string.h>

#include "apf_test.h"
#include "net/adcs_web.h"

static void parse(const char *html, struct apf_adcs_page *p)
{
	apf_adcs_page_parse(html, strlen(html), p);
}

static void test_issued(void **state)
{
	struct apf_adcs_page p;

	(void)state;
	parse("<HTML><Title>Microsoft Active Directory Certificate Services</Title><B>Certificate Issued</B>"
	      "<A Href=\"certnew.cer?ReqID=1234&amp;Enc=b64\">Base 64 encoded</A></HTML>", &p);
	assert_int_equal(p.disp, APF_ADCS_ISSUED);
	assert_true(p.has_req_id);
	assert_int_equal(p.req_id, 1234);
	assert_string_equal(p.title, "Microsoft Active Directory Certificate Services");
}

static void test_pending(void **state)
{
	struct apf_adcs_page p;

	(void)state;
	parse("<B>Certificate Pending</B> Your certificate request has been received. However, you must wait for an "
	      "administrator to issue the certificate you requested.<P>Your Request Id is 77.", &p);
	assert_int_equal(p.disp, APF_ADCS_PENDING);
	assert_int_equal(p.req_id, 77);
	assert_string_equal(p.message, "");
}

static void test_denied(void **state)
{
	struct apf_adcs_page p;

	(void)state;
	parse("<B>Certificate Request Denied</B> Your Request Id is 9. The disposition message is \"Denied by "
	      "Policy Module  0x80094012, The permissions on the certificate\r\n template do not allow\x01 it.\"", &p);
	assert_int_equal(p.disp, APF_ADCS_DENIED);
	assert_int_equal(p.req_id, 9);
	/* spaces squeezed, control bytes replaced, cut at the closing quote */
	assert_string_equal(p.message, "Denied by Policy Module 0x80094012, The permissions on the certificate template "
				       "do not allow? it.");
}

static void test_unknown_and_hostile(void **state)
{
	struct apf_adcs_page p;
	char big[4096];

	(void)state;
	parse("<html><title>IIS Windows Server</title></html>", &p);
	assert_int_equal(p.disp, APF_ADCS_UNKNOWN);
	assert_string_equal(p.title, "IIS Windows Server");
	/* a link without digits is not an issued page; an overflowing ID is no ID */
	parse("certnew.cer?ReqID=&Enc=b64 Your Request Id is 99999999999999999999", &p);
	assert_int_equal(p.disp, APF_ADCS_UNKNOWN);
	assert_false(p.has_req_id);
	/* an unterminated message is capped, never overrun */
	memset(big, 'A', sizeof(big));
	memcpy(big, "The disposition message is \"", 28);
	apf_adcs_page_parse(big, sizeof(big), &p);
	assert_int_equal(p.disp, APF_ADCS_DENIED);
	assert_int_equal(strlen(p.message), sizeof(p.message) - 1);
	apf_adcs_page_parse("", 0, &p);
	assert_int_equal(p.disp, APF_ADCS_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_unknown_and_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
