/* SPDX-License-Identifier: MIT */
/* AMT root table lookups (see pki_roots.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pki_roots.h"
#include "alloc.h"
#include "util.h"

bool apf_hash_normalize(const char *in, char out[129])
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == ':' || *p == ' ' || *p == '-' || *p == '\t')
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 128)
			return false;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
	return n == 40 || n == 64 || n == 96 || n == 128;
}

const struct apf_amt_root *apf_amt_root_find(const char *hex)
{
	char h[129];

	if (!hex || !apf_hash_normalize(hex, h))
		return NULL;
	for (size_t i = 0; i < apf_amt_roots_count; i++) {
		const struct apf_amt_root *r = &apf_amt_roots[i];
		if (!strcmp(r->sha256, h) || (r->sha1[0] && !strcmp(r->sha1, h)) || (r->sha384[0] && !strcmp(r->sha384, h)))
			return r;
	}
	return NULL;
}

int apf_amt_root_in_generation(const struct apf_amt_root *r, int gen)
{
	if (!r->gen_min || gen <= 0)
		return -1;
	if (gen < r->gen_min)
		return 0;
	if (r->gen_max && gen > r->gen_max)
		return 0;
	return 1;
}
