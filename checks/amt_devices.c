/* SPDX-License-Identifier: MIT */
/*
 * amt.devices: what the devices themselves report (`rpc amtinfo --json`,
 * `rpc status --json`, hash lists; [amt] device_facts), instead of hand-typed
 * guesses. Reports devices already activated (they are not provisioning
 * candidates, not failures), devices rpc-go's readiness checker calls not
 * ready, firmware versions outside [amt] generations, and where each device's
 * DNS suffix comes from (MEBx/USB before DHCP option 15). The device-to-
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
	{"DEVICE_GENERATION_UNLISTED", APF_WARN,
	 "Devices report an AMT major version that [amt] generations does not list, so the per-generation rules "
	 "(SHA-1, key sizes, default roots) were not applied for it",
	 "Add the version to [amt] generations (the devices' own versions are the ground truth)"},
	{"DEVICE_GENERATIONS_SEEN", APF_INFO,
	 "[amt] generations is not set; the devices report these AMT major versions",
	 "Set [amt] generations to the versions the devices report, so the per-generation rules apply to them"},
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

/* A growable list of borrowed names. */
struct names {
	const char **v;
	size_t n;
};

static void names_add(struct names *l, const char *s)
{
	l->v = apf_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = s;
}

static void names_evidence(struct apf_finding *f, const char *key, const struct names *l)
{
	char *s = apf_names_summary(l->v, l->n, APF_DEVFACTS_NAMES_SHOWN);

	apf_evidence(f, key, "%s", s);
	free(s);
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
	struct names all = {0}, pre = {0};
	char gens[256] = "";
	size_t off = 0;
	struct apf_finding *f;

	for (size_t i = 0; i < df->n; i++) {
		const struct apf_device *d = &df->v[i];
		char g[16];

		names_add(&all, d->name);
		if (d->mode == APF_DEV_MODE_PRE)
			names_add(&pre, d->name);
		snprintf(g, sizeof(g), "%d", d->generation);
		if (d->generation && !strstr(gens, g) && off < sizeof(gens))
			off += (size_t)snprintf(gens + off, sizeof(gens) - off, "%s%s", off ? ", " : "", g);
	}
	f = apf_report(ctx, APF_PASS, "DEVICES_READ", "%zu device%s read from %zu file%s", df->n, df->n == 1 ? "" : "s",
		       df->n_files, df->n_files == 1 ? "" : "s");
	names_evidence(f, "devices", &all);
	apf_evidence(f, "amt_generations", "%s", off ? gens : "(not reported)");
	apf_evidence(f, "pre_provisioning", "%zu", pre.n);
	free(all.v);
	free(pre.v);
}

static void report_activated(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	struct names acm = {0}, ccm = {0}, all = {0};

	for (size_t i = 0; i < df->n; i++) {
		const struct apf_device *d = &df->v[i];

		if (!apf_device_activated(d))
			continue;
		names_add(&all, d->name);
		names_add(d->mode == APF_DEV_MODE_ACM ? &acm : &ccm, d->name);
	}
	if (all.n) {
		char *s = apf_names_summary(all.v, all.n, APF_DEVFACTS_NAMES_SHOWN);
		struct apf_finding *f = apf_report(ctx, APF_INFO, "DEVICE_ALREADY_ACTIVATED", "%s %s already activated", s,
						   all.n == 1 ? "is" : "are");
		if (acm.n)
			names_evidence(f, "acm", &acm);
		if (ccm.n)
			names_evidence(f, "ccm", &ccm);
		apf_evidence(f, "count", "%zu", all.n);
		free(s);
	}
	free(acm.v);
	free(ccm.v);
	free(all.v);
}

static void report_not_ready(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	struct names all = {0}, no_mei = {0}, no_link = {0};

	for (size_t i = 0; i < df->n; i++) {
		const struct apf_device *d = &df->v[i];

		if (d->ready != APF_DEV_NO || apf_device_activated(d))
			continue;
		names_add(&all, d->name);
		if (d->mei_driver == APF_DEV_NO)
			names_add(&no_mei, d->name);
		if (d->wired_link == APF_DEV_NO && d->wireless_link != APF_DEV_YES)
			names_add(&no_link, d->name);
	}
	if (all.n) {
		char *s = apf_names_summary(all.v, all.n, APF_DEVFACTS_NAMES_SHOWN);
		struct apf_finding *f = apf_report(ctx, APF_WARN, "DEVICE_NOT_READY", "rpc status: %s not ready to provision",
						   s);
		if (no_mei.n)
			names_evidence(f, "no_mei_driver", &no_mei);
		if (no_link.n)
			names_evidence(f, "no_network_link", &no_link);
		apf_evidence(f, "count", "%zu", all.n);
		free(s);
	}
	free(all.v);
	free(no_mei.v);
	free(no_link.v);
}

static void report_generations(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	const struct apf_strlist *gens = &apf_cfg(ctx)->amt.generations;
	char *configured = gens->n ? apf_strv_join((const char *const *)gens->v, gens->n, ", ") : NULL;
	char seen[300] = "";
	size_t off = 0;

	/* Per reported major (1-99): one finding naming its devices. */
	for (int g = 1; g < 100; g++) {
		struct names devs = {0};
		char key[8];

		for (size_t i = 0; i < df->n; i++)
			if (df->v[i].generation == g)
				names_add(&devs, df->v[i].name);
		if (!devs.n)
			continue;
		snprintf(key, sizeof(key), "%d", g);
		if (off < sizeof(seen))
			off += (size_t)snprintf(seen + off, sizeof(seen) - off, "%s%d", off ? ", " : "", g);
		if (gens->n && !apf_strlist_has(gens, key)) {
			char *s = apf_names_summary(devs.v, devs.n, APF_DEVFACTS_NAMES_SHOWN);
			struct apf_finding *f = apf_report(ctx, APF_WARN, "DEVICE_GENERATION_UNLISTED",
							   "%s report%s AMT %d, which [amt] generations does not list", s,
							   devs.n == 1 ? "s" : "", g);
			apf_evidence(f, "generation", "%d", g);
			names_evidence(f, "devices", &devs);
			apf_evidence(f, "configured_generations", "%s", configured);
			free(s);
		}
		free(devs.v);
	}
	if (!gens->n && off) {
		struct apf_finding *f = apf_report(ctx, APF_INFO, "DEVICE_GENERATIONS_SEEN", "The devices report AMT %s", seen);
		apf_evidence(f, "reported_generations", "%s", seen);
		apf_evidence(f, "configured_generations", "(not set)");
	}
	free(configured);
}

/* Devices not yet activated that report no suffix at all (amtinfo read). */
static const char *no_suffix(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return d->has_amtinfo && !apf_devkey_used_suffix(d, NULL) && !apf_device_activated(d) ? "-" : NULL;
}

static void report_suffixes(struct apf_ctx *ctx, const struct apf_devfacts *df)
{
	struct apf_dev_group *g = NULL;
	size_t n = apf_devfacts_group(df, apf_devkey_mebx_suffix, NULL, &g);

	for (size_t i = 0; i < n; i++) {
		char *s = apf_names_summary(g[i].names, g[i].n, APF_DEVFACTS_NAMES_SHOWN);
		struct apf_finding *f = apf_report(ctx, APF_INFO, "DEVICE_SUFFIX_MEBX",
						   "%s use%s the MEBx/USB DNS suffix %s, before DHCP option 15", s,
						   g[i].n == 1 ? "s" : "", g[i].key);
		apf_evidence(f, "amt_dns_suffix", "%s", g[i].key);
		apf_evidence(f, "devices", "%s", s);
		free(s);
	}
	apf_dev_groups_free(g, n);
	n = apf_devfacts_group(df, no_suffix, NULL, &g);
	if (n) {
		char *s = apf_names_summary(g[0].names, g[0].n, APF_DEVFACTS_NAMES_SHOWN);
		struct apf_finding *f = apf_report(ctx, APF_WARN, "DEVICE_SUFFIX_NONE", "%s report%s no DNS suffix", s,
						   g[0].n == 1 ? "s" : "");
		apf_evidence(f, "devices", "%s", s);
		apf_evidence(f, "count", "%zu", g[0].n);
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
	df = apf_devfacts_load_config(cfg);
	report_files(ctx, df);
	if (df->n) {
		report_inventory(ctx, df);
		report_activated(ctx, df);
		report_not_ready(ctx, df);
		report_generations(ctx, df);
		report_suffixes(ctx, df);
	}
	apf_devfacts_free(df);
	return 0;
}

const struct apf_check apf_check_amt_devices = {
	.id = "amt.devices",
	.title = "What the AMT devices report",
	.summary = "Reads what devices report (rpc amtinfo --json, rpc status --json, hash lists): devices already "
		   "activated, devices not ready, AMT versions against [amt] generations, and the DNS suffix each "
		   "device uses (MEBx/USB before DHCP option 15).",
	.timeout_ms = 10000,
	.codes = codes,
	.run = run,
};
