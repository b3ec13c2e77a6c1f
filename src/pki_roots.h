/* SPDX-License-Identifier: MIT */
/*
 * Intel AMT's built-in trusted root hashes (data/amt-root-hashes.csv, compiled
 * into the binary at build time by src/pki_roots_gen.py) and the device hash
 * lists an admin exports from real devices (`rpc amtinfo --cert --json`, or
 * one hash a line). The device's own list is the ground truth; the built-in
 * table only says what a default device is known to carry.
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

/* One hash from a device's list. */
struct apf_device_hash {
	char *name;  /* entry name from the device, or NULL */
	char hex[129]; /* lowercase, no separators; 40 (SHA-1), 64 (SHA-256), 96 (SHA-384) or 128 digits */
};

/* One device list file. */
struct apf_device_hashes {
	char *device;     /* hostnameOS / uuid from the JSON, else the file's base name */
	char *amt_version; /* "16.1.25" from the JSON "amt" key, or NULL */
	int generation;    /* major of amt_version, 0 when unknown */
	struct apf_device_hash *v;
	size_t n;
};

/* Most hashes taken from one list (AMT holds at most 33). */
#define APF_DEVICE_HASHES_MAX 256

/*
 * Parses a device list: rpc-go's `amtinfo --cert --json` output (an object
 * whose "certificateHashes" maps names to {Hash, Name, Algorithm, IsActive,
 * IsDefault}; keys matched case-insensitively, arrays accepted too) or text
 * with one hash a line (hex, optionally colon/space separated, '#' comments,
 * optional name after the hash). `name` labels the device when the data has no
 * host name. Returns 0, -EBADMSG when no hash is found or JSON is malformed
 * (*err_out says why; caller frees), -E2BIG over the caps.
 */
int apf_device_hashes_parse(const char *data, size_t len, const char *name, struct apf_device_hashes **out,
			    char **err_out);
/* Reads and parses a file (at most 1 MiB). */
int apf_device_hashes_load(const char *path, struct apf_device_hashes **out, char **err_out);
void apf_device_hashes_free(struct apf_device_hashes *d);
/* True when the list holds `hex` (lowercase, no separators). */
bool apf_device_hashes_has(const struct apf_device_hashes *d, const char *hex);

/* Normalises a hash: strips ':', ' ', '-', lowercases; returns false unless the
 * result is 40, 64, 96 or 128 hex digits. out must hold 129 bytes. */
bool apf_hash_normalize(const char *in, char out[129]);
