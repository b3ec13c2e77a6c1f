/* SPDX-License-Identifier: MIT */
/*
 * Device facts: what AMT devices report about themselves, read from files the
 * admin exports on the devices ([amt] device_facts, and the older [amt]
 * device_hashes). Three formats, told apart by content:
 *
 *  - `rpc amtinfo --json` (rpc-go, internal/commands/amtinfo.go InfoResult):
 *    "amt" (version), "buildNumber", "sku", "uuid", "controlMode",
 *    "provisioningState", "dnsSuffix" (the PKI DNS suffix set in MEBx or by
 *    USB provisioning, read with PTHI GET_PKI_FQDN_SUFFIX), "dnsSuffixOS"
 *    (the OS's own suffix), "hostnameOS", and "certificateHashes", a map of
 *    name to {"Hash", "Name", "Algorithm", "IsActive", "IsDefault"}
 *    (pkg/amt/commands.go CertHashEntry, no JSON tags).
 *  - `rpc status --json` (rpc-go v3 readiness checker,
 *    internal/commands/status.go StatusResult): "meiDriverPresent",
 *    "controlMode", "alreadyActivated", "lmsInstalled", "wiredLinkUp",
 *    "wirelessLinkUp", "host", "hostReachable", "readyToProvision".
 *  - text: one hash a line (hex, optionally ':'/'-'/' ' separated, '#'
 *    comments, an optional name after the hash).
 *
 * Files that describe the same device (an amtinfo and a status file) are
 * merged: a device is keyed by "hostnameOS" (else "uuid") from amtinfo, else by
 * the file name up to its first '.' ("amt-01.status.json" -> "amt-01").
 * Every value from a file is capped and kept as data; nothing is trusted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct apf_config;

/* Control mode as the device reports it. Numeric order is not meaningful. */
enum apf_dev_mode {
	APF_DEV_MODE_UNKNOWN, /* not reported */
	APF_DEV_MODE_PRE,     /* "not activated": pre-provisioning, a provisioning candidate */
	APF_DEV_MODE_CCM,     /* "client control mode": already activated */
	APF_DEV_MODE_ACM,     /* "admin control mode": already activated */
};
/* "unknown", "pre-provisioning", "CCM", "ACM". */
const char *apf_dev_mode_name(enum apf_dev_mode m);

/* Tri-state for booleans a device may or may not report. */
enum apf_dev_bool { APF_DEV_UNSET = -1, APF_DEV_NO = 0, APF_DEV_YES = 1 };

/* One trusted root hash from a device's list. */
struct apf_dev_hash {
	char *name;      /* entry name from the device, or NULL */
	char hex[129];   /* lowercase, no separators; 40, 64, 96 or 128 digits */
	/* "SHA1", "SHA256", "SHA384", "SHA512": from the device's "Algorithm" when it agrees with
	 * the length, else from the length (codes differ between interfaces; the length cannot lie). */
	const char *algorithm;
	enum apf_dev_bool is_default, is_active;
};

struct apf_device {
	char *name;          /* key: hostnameOS / uuid / file stem */
	char *files;         /* the files read for it, ", "-joined */
	char *amt_version;   /* "16.1.25", or NULL */
	int generation;      /* major of amt_version, 0 when unknown */
	enum apf_dev_mode mode;
	char *dns_suffix;    /* AMT's PKI DNS suffix (MEBx/USB), NULL when unset or not reported */
	char *dns_suffix_os; /* the OS's DNS suffix, NULL when not reported */
	bool has_amtinfo, has_status, has_hashes;
	/* from `rpc status --json` */
	enum apf_dev_bool mei_driver, wired_link, wireless_link, ready;
	char *host;                        /* the activation/management server `rpc status --host` tried, or NULL */
	enum apf_dev_bool host_reachable; /* whether a TCP connection to it worked from the device */
	struct apf_dev_hash *hashes;
	size_t n_hashes;
};

/* A file that could not be used. */
struct apf_devfacts_error {
	char *file;
	char *message;
};

struct apf_devfacts {
	struct apf_device *v; /* sorted by name */
	size_t n;
	struct apf_devfacts_error *errors;
	size_t n_errors;
	size_t n_files; /* files read successfully */
};

/* Caps: a device list file, hashes per device (AMT holds at most 33), files per run. */
#define APF_DEVFACTS_FILE_MAX (1024u * 1024u)
#define APF_DEVFACTS_HASHES_MAX 256
#define APF_DEVFACTS_FILES_MAX 100000

/*
 * Parses one file's content into a one-device set (errors go to *err_out,
 * caller frees). `name` is the file name used for the key and messages.
 * Returns 0; -EBADMSG when the content is none of the formats or holds no
 * fact (amtinfo/status JSON with no known field, text with no hash); -E2BIG
 * over the caps. *out stays NULL on failure.
 */
int apf_devfacts_parse(const char *data, size_t len, const char *name, struct apf_devfacts **out, char **err_out);

/*
 * Reads every file named in `paths` (a directory: its regular *.json and
 * *.txt files, in name order, hidden ones skipped) and merges them. Never
 * fails: a file that cannot be read or parsed is listed in ->errors. Stops at
 * `deadline_ms` (CLOCK_MONOTONIC, apf_now_ms(); 0 = none), listing the files
 * not read as one error. Returns a new set (free it).
 */
struct apf_devfacts *apf_devfacts_load(const char *const *paths, size_t n, uint64_t deadline_ms);

/* The files of [amt] device_facts and [amt] device_hashes, loaded as above. */
struct apf_devfacts *apf_devfacts_load_config(const struct apf_config *cfg, uint64_t deadline_ms);
/* True when either key names something to read. */
bool apf_devfacts_configured(const struct apf_config *cfg);

void apf_devfacts_free(struct apf_devfacts *f);

/* True when the device's list holds `hex` (normalised lowercase). */
bool apf_device_has_hash(const struct apf_device *d, const char *hex);

/* The suffix AMT itself will use when it is known from the device alone (the
 * MEBx/USB suffix), else NULL: without one, AMT takes DHCP option 15. */
const char *apf_device_amt_suffix(const struct apf_device *d);

/* True when the device reports it is already activated (CCM or ACM). */
bool apf_device_activated(const struct apf_device *d);

/* Devices sharing one value (a DNS suffix...), for findings that name them. */
struct apf_dev_group {
	const char *key;     /* borrowed from the first device */
	const char **names;  /* borrowed device names, in device order */
	size_t n;
};

/*
 * Groups the devices by `key(d, arg)` (case-insensitive; a trailing dot ignored;
 * NULL leaves the device out), in order of first appearance. Returns the
 * number of groups; *out is a new array (free with apf_dev_groups_free).
 */
size_t apf_devfacts_group(const struct apf_devfacts *df, const char *(*key)(const struct apf_device *d, const void *arg),
			  const void *arg, struct apf_dev_group **out);
void apf_dev_groups_free(struct apf_dev_group *g, size_t n);

/* Keys for apf_devfacts_group; both leave activated devices (not provisioning
 * candidates) out. The MEBx/USB suffix; the suffix a device's activation uses:
 * the MEBx/USB one, else the OS's (rpc-go internal/rps/message.go, MeshCentral
 * amtmanager.js checkAcmActivation). */
const char *apf_devkey_mebx_suffix(const struct apf_device *d, const void *arg);
const char *apf_devkey_used_suffix(const struct apf_device *d, const void *arg);

/* Case-insensitive DNS name equality, a trailing dot ignored. */
bool apf_dns_name_eq(const char *a, const char *b);

/*
 * "amt-01, amt-02, amt-03 and 47 more": the first `show` of the n names, then
 * a count. For findings that name devices without listing a fleet. Caller frees.
 */
char *apf_names_summary(const char *const *names, size_t n, size_t show);

/* How many device names findings list before "and N more". */
#define APF_DEVFACTS_NAMES_SHOWN 3
