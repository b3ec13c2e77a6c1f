/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the TDS PRELOGIN decoder: every input is decoded as a
 * server's answer and, with its type byte forced to 0x04, once more (so the
 * fuzzer does not have to find the type first). Decoded strings must stay
 * terminated and printable; abort() flags a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *p, size_t n)
{
	struct apf_tds_prelogin pl;

	if (apf_tds_prelogin_decode(p, n, &pl) != APF_TDS_OK)
		return;
	if (memchr(pl.instance, '\0', sizeof(pl.instance)) == NULL)
		abort();
	for (const char *c = pl.instance; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();
	(void)apf_tds_encryption_name(pl.encryption);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t copy[APF_TDS_PRELOGIN_MAX + 16];

	decode(data, size);
	if (size > 0 && size <= sizeof(copy)) {
		memcpy(copy, data, size);
		copy[0] = APF_TDS_TYPE_TABULAR;
		decode(copy, size);
	}
	return 0;
}
