/* SPDX-License-Identifier: MIT */
/* NTP client codec against the packets of tests/fixtures/ntp (built from RFC 5905). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "ntp.h"
#include "util.h"

#define ORIGIN 0xEB1F000080000000ull

static enum apf_ntp_status decode_file(const char *name, struct apf_ntp_reply *r)
{
	char rel[128];
	unsigned char *data = NULL;
	size_t len = 0;
	enum apf_ntp_status st;

	snprintf(rel, sizeof(rel), "fixtures/ntp/%s", name);
	if (apf_read_file(apf_test_srcpath(rel), 4096, &data, &len) != 0)
		fail_msg("cannot read %s", rel);
	st = apf_ntp_reply_decode(data, len, ORIGIN, r);
	free(data);
	return st;
}

static void test_request(void **state)
{
	uint8_t p[APF_NTP_PACKET_LEN];

	apf_ntp_request_encode(ORIGIN, p);
	assert_int_equal(p[0], 0x23); /* LI 0, VN 4, mode 3 */
	assert_int_equal(p[40], 0xEB);
	assert_int_equal(p[44], 0x80);
	for (int i = 1; i < 40; i++)
		assert_int_equal(p[i], 0);
}

static void test_replies(void **state)
{
	struct apf_ntp_reply r;
	double off, delay;

	assert_int_equal(decode_file("reply-ahead-1.5s.bin", &r), APF_NTP_OK);
	assert_int_equal(r.stratum, 2);
	assert_string_equal(r.refid_text, "192.0.2.1");
	assert_int_equal(r.version, 4);
	/* The reply arrived 0.25 s after it was sent (by our clock): T4 = T1 + 0.25. */
	apf_ntp_offset_delay(ORIGIN, r.rec, r.xmt, ORIGIN + (1ull << 30), &off, &delay);
	assert_true(fabs(off - 1.375) < 1e-6); /* ((1.5) + (1.5 - 0.25)) / 2 */
	assert_true(fabs(delay - 0.25) < 1e-6);

	assert_int_equal(decode_file("reply-unsync.bin", &r), APF_NTP_OK);
	assert_int_equal(r.leap, APF_NTP_LEAP_ALARM);
	assert_int_equal(r.stratum, APF_NTP_STRATUM_UNSYNC);
	assert_string_equal(r.refid_text, "INIT");

	assert_int_equal(decode_file("reply-kod-rate.bin", &r), APF_NTP_KISS);
	assert_string_equal(r.refid_text, "RATE");

	assert_int_equal(decode_file("reply-v3-gps.bin", &r), APF_NTP_OK);
	assert_string_equal(r.refid_text, "GPS");
	assert_int_equal(r.version, 3);
}

static void test_rejected(void **state)
{
	struct apf_ntp_reply r;

	assert_int_equal(decode_file("reply-bogus-origin.bin", &r), APF_NTP_BOGUS_ORIGIN);
	assert_int_equal(decode_file("reply-mode3.bin", &r), APF_NTP_BAD_MODE);
	assert_int_equal(decode_file("reply-short.bin", &r), APF_NTP_SHORT);
	for (int st = 0; st < APF_NTP_STATUS_COUNT; st++)
		assert_non_null(apf_ntp_strerror((enum apf_ntp_status)st));
}

static void test_time_arithmetic(void **state)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 500000000};
	uint64_t t = apf_ntp_from_timespec(&ts);

	/* The Unix epoch is 2208988800 s after NTP's; half a second is 0x80000000. */
	assert_true(t == (2208988800ull << 32 | 0x80000000ull));
	/* Differences across the 2036 era wrap stay small and signed. */
	assert_true(fabs(apf_ntp_diff(0x0000000100000000ull, 0xFFFFFFFF00000000ull) - 2.0) < 1e-9);
	assert_true(fabs(apf_ntp_diff(ORIGIN, ORIGIN + (600ull << 32)) + 600.0) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_time_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
