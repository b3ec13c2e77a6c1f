/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the NTP reply decoder: every input is decoded against the
 * origin timestamp it carries itself (so the fuzzer reaches the checks after
 * the origin match) and against a fixed one. The reference id text must stay
 * terminated and printable; abort() flags a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *p, size_t n, uint64_t origin)
{
	struct apf_ntp_reply r;
	double off, delay;

	if (apf_ntp_reply_decode(p, n, origin, &r) != APF_NTP_OK)
		return;
	if (!memchr(r.refid_text, '\0', sizeof(r.refid_text)))
		abort();
	for (const char *c = r.refid_text; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();
	apf_ntp_offset_delay(origin, r.rec, r.xmt, origin, &off, &delay);
	(void)apf_ntp_strerror(APF_NTP_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t own = 0;

	for (size_t i = 24; i < 32 && i < size; i++)
		own = own << 8 | data[i];
	decode(data, size, own);
	decode(data, size, 0xEB1F000080000000ull);
	return 0;
}
