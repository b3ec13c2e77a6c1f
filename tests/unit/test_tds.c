/* SPDX-License-Identifier: MIT */
/* TDS PRELOGIN codec against the captures of tests/fixtures/tds (built from MS-TDS). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "tds.h"
#include "util.h"

static uint8_t *load(const char *name, size_t *len)
{
	char rel[128];
	unsigned char *data = NULL;

	snprintf(rel, sizeof(rel), "fixtures/tds/%s", name);
	if (apf_read_file(apf_test_srcpath(rel), 65536, &data, len) != 0)
		fail_msg("cannot read %s", rel);
	return data;
}

static enum apf_tds_status decode_file(const char *name, struct apf_tds_prelogin *pl)
{
	size_t len;
	uint8_t *p = load(name, &len);
	enum apf_tds_status st = apf_tds_prelogin_decode(p, len, pl);

	free(p);
	return st;
}

/* Our request has the layout of the specification's sample (4.1): same tokens, offsets and lengths. */
static void test_encode_matches_spec_layout(void **state)
{
	uint8_t req[64];
	size_t len = 0, slen;
	uint8_t *spec = load("spec-4.1-request.bin", &slen);

	assert_int_equal(apf_tds_prelogin_encode(req, sizeof(req), &len), 0);
	assert_int_equal(len, slen);
	assert_int_equal(req[0], 0x12);
	/* Header and the whole option table are identical; only the data differs
	 * (we send version 0, ENCRYPT_OFF, thread 0, MARS off). */
	assert_memory_equal(req, spec, 8 + 26);
	assert_memory_equal(req + 34, "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13);
	assert_int_equal(apf_tds_prelogin_encode(req, 20, &len), -ENOSPC);
	free(spec);
}

static void test_server_answers(void **state)
{
	struct apf_tds_prelogin pl;

	assert_int_equal(decode_file("response-2019-off.bin", &pl), APF_TDS_OK);
	assert_true(pl.has_version);
	assert_int_equal(pl.major, 15);
	assert_int_equal(pl.minor, 0);
	assert_int_equal(pl.build, 2000);
	assert_int_equal(pl.encryption, APF_TDS_ENCRYPT_OFF);
	assert_string_equal(apf_tds_encryption_name(pl.encryption), "ENCRYPT_OFF");
	assert_true(pl.has_instance);
	assert_string_equal(pl.instance, "");
	assert_false(pl.has_threadid); /* sent empty, as servers do */
	assert_true(pl.has_mars);

	assert_int_equal(decode_file("response-2022-req.bin", &pl), APF_TDS_OK);
	assert_int_equal(pl.major, 16);
	assert_int_equal(pl.subbuild, 6);
	assert_string_equal(apf_tds_encryption_name(pl.encryption), "ENCRYPT_REQ");
	assert_true(pl.has_fedauth);

	assert_int_equal(decode_file("response-2012-notsup.bin", &pl), APF_TDS_OK);
	assert_int_equal(pl.major, 11);
	assert_int_equal(pl.build, 7001);
	assert_int_equal(pl.encryption, APF_TDS_ENCRYPT_NOT_SUP);
	assert_string_equal(pl.instance, "SCSDB");
	assert_int_equal(pl.mars, 1);
	assert_string_equal(apf_tds_encryption_name(0x20), "unknown");
}

static void test_malformed(void **state)
{
	struct apf_tds_prelogin pl;

	/* A client request is not a server answer. */
	assert_int_equal(decode_file("spec-4.1-request.bin", &pl), APF_TDS_NOT_RESPONSE);
	assert_int_equal(decode_file("bad-truncated.bin", &pl), APF_TDS_SHORT);
	assert_int_equal(decode_file("bad-offset.bin", &pl), APF_TDS_BAD_OPTION);
	assert_int_equal(decode_file("bad-noterm.bin", &pl), APF_TDS_NO_TERMINATOR);
	assert_int_equal(decode_file("bad-not-eom.bin", &pl), APF_TDS_NOT_LAST);
	assert_int_equal(apf_tds_prelogin_decode((const uint8_t *)"\x04\x01", 2, &pl), APF_TDS_SHORT);
	/* Header length below 8 or above the cap. */
	assert_int_equal(apf_tds_prelogin_decode((const uint8_t *)"\x04\x01\x00\x05\x00\x00\x01\x00", 8, &pl),
			 APF_TDS_BAD_LENGTH);
	assert_int_equal(apf_tds_packet_length((const uint8_t *)"\x04\x01\xff\xff\x00\x00\x01\x00"), 0);
	/* Every status has a message. */
	for (int st = 0; st < APF_TDS_STATUS_COUNT; st++)
		assert_non_null(apf_tds_strerror((enum apf_tds_status)st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_matches_spec_layout),
		cmocka_unit_test(test_server_answers),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
