/* SPDX-License-Identifier: MIT */
/*
 * amt.devices: what the devices themselves report (`rpc amtinfo --json`,
 * `rpc status --json`, hash lists; [amt] device_facts), instead of hand-typed
 * guesses. Reports devices already activated (they are not provisioning
 * candidates, not failures), devices rpc-go's readiness checker calls not
 * ready or unable to reach their activation server, firmware versions outside
 * [amt] generations (the cert.* checks apply them anyway: src/pki_check.h
 * apf_amt_targets_init), and where each device's DNS suffix comes from (MEBx/USB
 * before DHCP option 15). The device-to-
 * infrastructure comparisons live with the infrastructure they judge:
 * option 15 in dhcp.options, the certificate in cert.provisioning, root hashes
 * in cert.amt-root-hash; each reads the same files through src/devfacts.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "devfacts.h"

/* Unreadable files reported one by one before a single summary finding. */
#define FILES_SHOWN 10

static const struct apf_code codes[] = {
	{"DEVICES_READ", APF_PASS, "Device facts were read; the evidence lists the devices and what they report", NULL},
	{"DEVICE_FILE_UNREADABLE", APF_ERROR,
	 "A file of [amt] device_facts / device_hashes cannot be read, or is neither rpc amtinfo nor rpc status JSON "
	 "nor a hash list, so what that device reports is unknown",
	 "Export it again on the device with `rpc amtinfo --json > FILE` (or `rpc status --json`), or write one "
	 "root hash a line"},
	{"DEVICE_ALREADY_ACTIVATED", APF_INFO,
	 "Devices report they are already activated (ACM or CCM): they are not provisioning candidates, and the "
	 "checks of this run do not predict a failure for them",
	 "None; to provision them again with the new settings, deactivate them first (rpc deactivate)"},
	{"DEVICE_NOT_READY", APF_WARN,
	 "rpc-go's readiness checker (`rpc status`) reports devices not ready to provision: no MEI/HECI driver "
	 "(no AMT, or the driver is missing) or no network link; the infrastructure cannot help them",
	 "Install the Intel MEI driver and LMS on the device, enable AMT in the BIOS/MEBx, and connect the wired "
	 "port AMT uses"},
	{"DEVICE_SERVER_UNREACHABLE", APF_WARN,
	 "rpc status --host could not open a TCP connection from the devices to the activation or management "
	 "server: host-based activation (RPS, MeshCentral, EMA) starts from the device and needs that path",
	 "Allow the devices' segment to reach the server's port (rpc-go's default is 443), fix the name the devices "
	 "resolve it by, or run the check from the devices' segment"},
	{"DEVICE_GENERATION_UNLISTED", APF_INFO,
	 "Devices report an AMT major version that [amt] generations does not list; cert.provisioning and "
	 "cert.amt-root-hash apply its per-generation rules (SHA-1, key sizes, default roots) anyway when a device "
	 "not yet activated reports it",
	 "Add the version to [amt] generations too, so runs without these device facts and ca.template (which reads "
	 "no device facts) apply it"},
	{"DEVICE_GENERATIONS_SEEN", APF_INFO,
	 "[amt] generations is not set; the devices report these AMT major versions, and the cert.* checks apply "
	 "the rules of those that devices not yet activated report",
	 "Set [amt] generations to them too, so runs without these device facts and ca.template apply them"},
	{"DEVICE_SUFFIX_MEBX", APF_INFO,
	 "Devices have a DNS suffix set in MEBx or by USB provisioning: AMT uses it before DHCP option 15, and "
	 "rpc-go sends it to RPS, so it is the suffix the provisioning certificate must match",
	 "None, if the certificate is for that domain; clear the MEBx suffix to let option 15 decide"},
	{"DEVICE_SUFFIX_NONE", APF_WARN,
	 "Devices that are not activated report no DNS suffix at all (neither MEBx/USB nor from the OS): AMT "
	 "depends on DHCP option 15, and rpc-go has no suffix to send (RPS: \"Missing DNS suffix\")",
	 "Serve option 15 on the devices' segment, set the PKI DNS suffix in MEBx, or pass `rpc activate -d`"},
	{0},
};

/* Selectors for apf_devfacts_group: "-" selects a device, NULL leaves it out. */
typedef const char *(*selector)(const struct apf_device *d, const void *arg);

static const char *any_device(const struct apf_device *d, const void *arg)
{
	(void)d, (void)arg;
	return "-";
}

static const char *pre_provisioning(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->mode == APF_DEV_MODE_PRE ? "-" : NULL;
}

static const char *in_acm(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->mode == APF_DEV_MODE_ACM ? "-" : NULL;
}

static const char *in_ccm(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->mode == APF_DEV_MODE_CCM ? "-" : NULL;
}

static const char *activated(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return apf_device_activated(d) ? "-" : NULL;
}

/* rpc status says not ready, and the device is not simply activated already. */
static const char *not_ready(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->ready == APF_DEV_NO && !apf_device_activated(d) ? "-" : NULL;
}

static const char *no_mei_driver(const struct apf_device *d, const void *arg)
{
	return not_ready(d, arg) && d->mei_driver == APF_DEV_NO ? "-" : NULL;
}

static const char *no_link(const struct apf_device *d, const void *arg)
{
	return not_ready(d, arg) && d->wired_link == APF_DEV_NO && d->wireless_link != APF_DEV_YES ? "-" : NULL;
}

/* Devices not yet activated that report no suffix at all (amtinfo read). */
static const char *no_suffix(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->has_amtinfo && !apf_device_activated(d) && !apf_devkey_used_suffix(d, NULL) ? "-" : NULL;
}

/* Adds evidence `key`: the devices `sel` picks, named ("amt-01, amt-02 and 3 more"); returns how many. */
static size_t devices_evidence(struct apf_finding *f, const char *key, const struct apf_devfacts *df, selector sel)
{
	struct apf_dev_group *g = NULL;
	size_t n = apf_devfacts_group(df, sel, NULL, &g), count = n ? g[0].n : 0;

	if (count) {
		char *s = apf_names_summary(g[0].names, g[0].n, APF_DEVFACTS_NAMES_SHOWN);
		apf_evidence(f, key, "%s", s);
		free(s);
	}
	apf_dev_groups_free(g, n);
	return count;
}

/* One finding naming the devices `sel` picks ("<names>: <what>"), or none when it picks none. */
static struct apf_finding *report_devices(struct apf_ctx *ctx, const struct apf_devfacts *df, enum apf_status st,
					  const char *code, selector sel, const char *what)
{
	struct apf_dev_group *g = NULL;
	size_t n = apf_devfacts_group(df, sel, NULL, &g);
	struct apf_finding *f = NULL;

	if (n) {
		char *s = apf_names_summary(g[0].names, g[0].n, APF_DEVFACTS_NAMES_SHOWN);
		f = apf_report(ctx, st, code, "%s: %s", s, what);
		apf_evidence(f, "devices", "%s", s);
		apf_evidence(f, "count", "%zu", g[0].n);
		free(s);
	}
	apf_dev_groups_free(g, n);
	return f;
}

/* The AMT major a device counts for: with `candidates`, only devices not yet activated, as
 * in the cert.* checks' targets (an activated device is no provisioning candidate). */
static int generation_of(const struct apf_device *d, bool candidates)
{
	return candidates && apf_device_activated(d) ? 0 : d->generation;
}

/* The AMT major versions the devices report, ascending, ", "-joined into buf. */
static const char *generations_seen(const struct apf_devfacts *df, bool candidates, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int g = 1; g < 100 && off < size; g++)
		for (size_t i = 0; i < df->n; i++)
			if (generation_of(&df->v[i], candidates) == g) {
				off += (size_t)snprintf(buf + off, size - off, "%s%d", off ? ", " : "", g);
				break;
			}
	return buf;
}

static void report_files(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	struct apf_finding *f;

	for (size_t i = 0; i < df->n_errors && i < FILES_SHOWN; i++) {
		f = apf_report(ctx, APF_ERROR, "DEVICE_FILE_UNREADABLE", "%s: %s", df->errors[i].file,
			       df->errors[i].message);
		apf_evidence(f, "file", "%s", df->errors[i].file);
		apf_evidence(f, "error", "%s", df->errors[i].message);
	}
	if (df->n_errors > FILES_SHOWN) {
		f = apf_report(ctx, APF_ERROR, "DEVICE_FILE_UNREADABLE", "%zu more device files could not be used",
			       df->n_errors - FILES_SHOWN);
		apf_evidence(f, "files_not_shown", "%zu", df->n_errors - FILES_SHOWN);
	}
}

static void report_inventory(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	char gens[300];
	struct apf_finding *f;
	size_t pre;

	f = apf_report(ctx, APF_PASS, "DEVICES_READ", "%zu device%s read from %zu file%s", df->n, df->n == 1 ? "" : "s",
		       df->n_files, df->n_files == 1 ? "" : "s");
	devices_evidence(f, "devices", df, any_device);
	generations_seen(df, false, gens, sizeof(gens));
	apf_evidence(f, "amt_generations", "%s", *gens ? gens : "(not reported)");
	pre = devices_evidence(f, "pre_provisioning_devices", df, pre_provisioning);
	apf_evidence(f, "pre_provisioning", "%zu", pre);
}

/* The findings that name a set of devices, with details naming subsets. */
static const struct {
	enum apf_status st;
	const char *code;
	selector sel;
	const char *what;
	struct {
		const char *key;
		selector sel;
	} detail[2];
} device_reports[] = {
	{APF_INFO, "DEVICE_ALREADY_ACTIVATED", activated, "already activated, not provisioning candidates",
	 {{"acm", in_acm}, {"ccm", in_ccm}}},
	{APF_WARN, "DEVICE_NOT_READY", not_ready, "rpc status says not ready to provision",
	 {{"no_mei_driver", no_mei_driver}, {"no_network_link", no_link}}},
	{APF_WARN, "DEVICE_SUFFIX_NONE", no_suffix, "no DNS suffix reported (neither MEBx/USB nor OS)", {{0}}},
};

static void report_device_sets(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	for (size_t i = 0; i < sizeof(device_reports) / sizeof(device_reports[0]); i++) {
		struct apf_finding *f = report_devices(ctx, df, device_reports[i].st, device_reports[i].code,
						       device_reports[i].sel, device_reports[i].what);

		for (size_t k = 0; f && k < 2 && device_reports[i].detail[k].key; k++)
			devices_evidence(f, device_reports[i].detail[k].key, df, device_reports[i].detail[k].sel);
	}
}

static void report_generations(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	const struct apf_strlist *gens = &apf_cfg(ctx)->amt.generations;
	char seen[300];

	if (!gens->n) {
		if (*generations_seen(df, true, seen, sizeof(seen))) {
			struct apf_finding *f = apf_report(ctx, APF_INFO, "DEVICE_GENERATIONS_SEEN", "The devices report AMT %s",
							   seen);
			apf_evidence(f, "reported_generations", "%s", seen);
			apf_evidence(f, "configured_generations", "(not set)");
		}
		return;
	}
	/* Per major (1-99) of devices not yet activated: one finding naming them. */
	for (int g = 1; g < 100; g++) {
		const char **names = NULL;
		size_t n = 0;
		char key[8];

		for (size_t i = 0; i < df->n; i++)
			if (generation_of(&df->v[i], true) == g) {
				names = apf_xrealloc(names, (n + 1) * sizeof(*names));
				names[n++] = df->v[i].name;
			}
		snprintf(key, sizeof(key), "%d", g);
		if (n && !apf_strlist_has(gens, key)) {
			char *s = apf_names_summary(names, n, APF_DEVFACTS_NAMES_SHOWN);
			char *configured = apf_strv_join((const char *const *)gens->v, gens->n, ", ");
			struct apf_finding *f = apf_report(ctx, APF_INFO, "DEVICE_GENERATION_UNLISTED",
							   "%s report%s AMT %d, which [amt] generations does not list", s,
							   n == 1 ? "s" : "", g);
			apf_evidence(f, "generation", "%d", g);
			apf_evidence(f, "devices", "%s", s);
			apf_evidence(f, "configured_generations", "%s", configured);
			free(configured);
			free(s);
		}
		free(names);
	}
}

/* The server rpc status could not reach from a device, as its group key. */
static const char *unreached_host(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->host_reachable == APF_DEV_NO && d->host ? d->host : NULL;
}

/* One finding per distinct value `sel` picks, naming its devices ("<names>: <what> <value>"),
 * with the value as evidence `value_key`. */
static void report_per_value(struct apf_ctx *ctx, const struct apf_devfacts *df, enum apf_status st,
			     const char *code, selector sel, const char *value_key, const char *what)
{
	struct apf_dev_group *g = NULL;
	size_t n = apf_devfacts_group(df, sel, NULL, &g);

	for (size_t i = 0; i < n; i++) {
		char *s = apf_names_summary(g[i].names, g[i].n, APF_DEVFACTS_NAMES_SHOWN);
		struct apf_finding *f = apf_report(ctx, st, code, "%s: %s %s", s, what, g[i].key);

		apf_evidence(f, value_key, "%s", g[i].key);
		apf_evidence(f, "devices", "%s", s);
		apf_evidence(f, "count", "%zu", g[i].n);
		free(s);
	}
	apf_dev_groups_free(g, n);
}

static int run(struct apf_ctx *ctx)
{
	const struct apf_config *cfg = apf_cfg(ctx);
	struct apf_devfacts *df;

	if (!apf_devfacts_configured(cfg)) {
		apf_skip(ctx, "no device facts: set [amt] device_facts to rpc amtinfo --json / rpc status --json exports");
		return 0;
	}
	apf_ctx_step(ctx, "reading device facts");
	df = apf_devfacts_load_config(cfg, apf_ctx_deadline_ms(ctx));
	report_files(ctx, df);
	if (df->n) {
		report_inventory(ctx, df);
		report_device_sets(ctx, df);
		report_per_value(ctx, df, APF_WARN, "DEVICE_SERVER_UNREACHABLE", unreached_host, "host",
				 "rpc status --host could not reach");
		report_generations(ctx, df);
		report_per_value(ctx, df, APF_INFO, "DEVICE_SUFFIX_MEBX", apf_devkey_mebx_suffix, "amt_dns_suffix",
				 "AMT uses, before DHCP option 15, the MEBx/USB DNS suffix");
	}
	apf_devfacts_free(df);
	return 0;
}

const struct apf_check apf_check_amt_devices = {
	.id = "amt.devices",
	.title = "What the AMT devices report",
	.summary = "Reads what devices report (rpc amtinfo --json, rpc status --json, hash lists): devices already "
		   "activated, devices not ready or unable to reach their activation server, AMT versions against "
		   "[amt] generations, and the DNS suffix each device uses (MEBx/USB before DHCP option 15).",
	.timeout_ms = 10000,
	.codes = codes,
	.run = run,
};
