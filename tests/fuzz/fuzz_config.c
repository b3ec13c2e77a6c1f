/* SPDX-License-Identifier: MIT */
/* The config parser takes files admins edit by hand: it must reject, never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct apf_config *cfg = NULL;
	char *err = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (apf_config_parse(text, "fuzz.conf", &cfg, &err) == 0) {
		char *d = apf_config_digest(cfg);
		free(d);
	}
	apf_config_free(cfg);
	free(err);
	free(text);
	return 0;
}
