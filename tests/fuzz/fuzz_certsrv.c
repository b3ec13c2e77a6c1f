/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for what AD CS web enrollment answers to a request
 * (certfnsh.asp's issued / pending / denied pages): hostile HTML must be
 * classified or ignored, and the message kept printable and bounded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/adcs_web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_adcs_page p;

	apf_adcs_page_parse((const char *)data, size, &p);
	if (strlen(p.message) >= sizeof(p.message) || strlen(p.title) >= sizeof(p.title))
		abort();
	for (const char *c = p.message; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();
	return 0;
}
