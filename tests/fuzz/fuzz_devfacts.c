/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the device-facts reader: an `rpc amtinfo --json` /
 * `rpc status --json` export or a hash list comes from a device an admin may
 * not control, so any bytes must be rejected or modelled, never crash, hang or
 * exceed the caps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "devfacts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_devfacts *f = NULL;
	char *err = NULL;

	if (apf_devfacts_parse((const char *)data, size, "fuzz.json", &f, &err) == 0) {
		const struct apf_device *d = &f->v[0];
		char *s = apf_names_summary((const char *const *)&d->name, 1, 1);

		if (d->n_hashes > APF_DEVFACTS_HASHES_MAX || !apf_dev_mode_name(d->mode) || !s)
			abort();
		free(s);
	}
	apf_devfacts_free(f);
	free(err);
	return 0;
}
