/* SPDX-License-Identifier: MIT */
/*
 * Intel AMT's built-in trusted root hashes (data/amt-root-hashes.csv, compiled
 * into the binary at build time by src/pki_roots_gen.py). The device's own list
 * (src/devfacts.h) is the ground truth; the built-in table only says what a
 * default device is known to carry.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct apf_amt_root {
	const char *name;
	const char *sha256;      /* lowercase hex */
	const char *sha1;        /* lowercase hex, "" when unknown */
	const char *sha384;      /* lowercase hex, "" when unknown */
	const char *generations; /* as in the CSV: "7-10", "11-", "?" ... */
	int gen_min, gen_max;    /* parsed: 0 = unknown / open-ended */
	const char *expiry;      /* "YYYY-MM-DD" or "" */
	const char *root_sig;    /* "sha1WithRSAEncryption" ... or "" */
	const char *source;
};

/* The generated table (src/pki_roots_table.c). */
extern const struct apf_amt_root apf_amt_roots[];
extern const size_t apf_amt_roots_count;

/* The row whose SHA-256, SHA-1 or SHA-384 equals `hex` (40, 64 or 96 hex digits;
 * any case, separators ignored), or NULL. */
const struct apf_amt_root *apf_amt_root_find(const char *hex);

/*
 * Whether the default list of firmware generation `gen` is known to carry the
 * root: 1 yes, 0 no (outside the observed range), -1 unknown.
 */
int apf_amt_root_in_generation(const struct apf_amt_root *r, int gen);

/* Normalises a hash: strips ':', ' ', '-', lowercases; returns false unless the
 * result is 40, 64, 96 or 128 hex digits. out must hold 129 bytes. */
bool apf_hash_normalize(const char *in, char out[129]);
