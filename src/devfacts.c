/* SPDX-License-Identifier: MIT */
/* Device facts: rpc amtinfo / rpc status JSON and hash lists (see devfacts.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "alloc.h"
#include "config.h"
#include "devfacts.h"
#include "pki_roots.h"
#include "alloc.h"
#include "util.h"

#define JSON_MAX_DEPTH 8
/* Longest string kept from a device file: DNS names are at most 253 characters. */
#define FIELD_MAX 256

static const char *const mode_names[] = {
	[APF_DEV_MODE_UNKNOWN] = "unknown",
	[APF_DEV_MODE_PRE] = "pre-provisioning",
	[APF_DEV_MODE_CCM] = "CCM",
	[APF_DEV_MODE_ACM] = "ACM",
};

const char *apf_dev_mode_name(enum apf_dev_mode m)
{
	return (size_t)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "unknown";
}

/* At most n bytes of s, copied (OOM aborts, as every allocation in the run). */
static char *xstrndup(const char *s, size_t n)
{
	return apf_xasprintf("%.*s", (int)(n < FIELD_MAX ? n : FIELD_MAX), s);
}

/* ---- one device ----------------------------------------------------------- */

static void device_clear(struct apf_device *d)
{
	for (size_t i = 0; i < d->n_hashes; i++)
		free(d->hashes[i].name);
	free(d->hashes);
	free(d->name);
	free(d->files);
	free(d->amt_version);
	free(d->dns_suffix);
	free(d->dns_suffix_os);
	free(d->host);
	memset(d, 0, sizeof(*d));
}

static void device_init(struct apf_device *d)
{
	memset(d, 0, sizeof(*d));
	d->mei_driver = d->wired_link = d->wireless_link = d->ready = d->host_reachable = APF_DEV_UNSET;
}

bool apf_device_has_hash(const struct apf_device *d, const char *hex)
{
	for (size_t i = 0; hex && i < d->n_hashes; i++)
		if (!strcmp(d->hashes[i].hex, hex))
			return true;
	return false;
}

const char *apf_device_amt_suffix(const struct apf_device *d)
{
	return d->dns_suffix && *d->dns_suffix ? d->dns_suffix : NULL;
}

bool apf_device_activated(const struct apf_device *d)
{
	return d->mode == APF_DEV_MODE_CCM || d->mode == APF_DEV_MODE_ACM;
}

/* The algorithm a normalised hash's length implies. */
static const char *algorithm_of(const char *hex)
{
	switch (strlen(hex)) {
	case 40:
		return "SHA1";
	case 64:
		return "SHA256";
	case 96:
		return "SHA384";
	default:
		return "SHA512";
	}
}

static int add_hash(struct apf_device *d, const char *hex, const char *name, enum apf_dev_bool is_default,
		    enum apf_dev_bool is_active)
{
	struct apf_dev_hash *h;

	if (apf_device_has_hash(d, hex))
		return 0;
	if (d->n_hashes >= APF_DEVFACTS_HASHES_MAX)
		return -E2BIG;
	d->hashes = apf_xrealloc(d->hashes, (d->n_hashes + 1) * sizeof(*d->hashes));
	h = &d->hashes[d->n_hashes++];
	memset(h, 0, sizeof(*h));
	snprintf(h->hex, sizeof(h->hex), "%s", hex);
	/* Interfaces number algorithms differently (rpc-go issue 941 shows 4 for a
	 * SHA-256 entry); the length of the hash cannot disagree with itself. */
	h->algorithm = algorithm_of(h->hex);
	h->is_default = is_default;
	h->is_active = is_active;
	if (name && *name)
		h->name = xstrndup(name, FIELD_MAX);
	d->has_hashes = true;
	return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

static json_t *obj_get_ci(json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	json_object_foreach(obj, k, v) {
		if (!strcasecmp(k, key))
			return v;
	}
	return NULL;
}

/* A string member, capped; NULL when absent, not a string or empty. */
static char *str_member(json_t *obj, const char *key)
{
	json_t *v = obj_get_ci(obj, key);

	if (!json_is_string(v) || !*json_string_value(v))
		return NULL;
	return xstrndup(json_string_value(v), FIELD_MAX);
}

static enum apf_dev_bool bool_member(json_t *obj, const char *key)
{
	json_t *v = obj_get_ci(obj, key);

	return json_is_boolean(v) ? (json_is_true(v) ? APF_DEV_YES : APF_DEV_NO) : APF_DEV_UNSET;
}

/* rpc-go's utils.InterpretControlMode strings, the PTHI numbers 0/1/2, and the short forms. */
static enum apf_dev_mode parse_mode(json_t *v)
{
	const char *s;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		return i == 0 ? APF_DEV_MODE_PRE : i == 1 ? APF_DEV_MODE_CCM : i == 2 ? APF_DEV_MODE_ACM : APF_DEV_MODE_UNKNOWN;
	}
	if (!json_is_string(v))
		return APF_DEV_MODE_UNKNOWN;
	s = json_string_value(v);
	if (!strcasecmp(s, "not activated") || !strcasecmp(s, "pre-provisioning") || !strcasecmp(s, "none"))
		return APF_DEV_MODE_PRE;
	if (!strcasecmp(s, "client control mode") || !strcasecmp(s, "ccm"))
		return APF_DEV_MODE_CCM;
	if (!strcasecmp(s, "admin control mode") || !strcasecmp(s, "acm"))
		return APF_DEV_MODE_ACM;
	return APF_DEV_MODE_UNKNOWN;
}

/* Walks the hash part: any object with a string "Hash" member is an entry (its
 * name is its "Name" member, else the key it was found under); under
 * "certificateHashes" a plain string is a hash too. */
static int walk_hashes(struct apf_device *d, json_t *j, const char *key, int depth)
{
	char hex[129];
	int rc = 0;

	if (depth > JSON_MAX_DEPTH)
		return 0;
	if (json_is_object(j)) {
		json_t *h = obj_get_ci(j, "hash"), *name = obj_get_ci(j, "name");
		const char *k;
		json_t *v;

		if (json_is_string(h) && apf_hash_normalize(json_string_value(h), hex))
			return add_hash(d, hex, json_is_string(name) ? json_string_value(name) : key,
					bool_member(j, "isDefault"), bool_member(j, "isActive"));
		json_object_foreach(j, k, v) {
			if ((rc = walk_hashes(d, v, k, depth + 1)))
				return rc;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;

		json_array_foreach(j, i, v) {
			if ((rc = walk_hashes(d, v, key, depth + 1)))
				return rc;
		}
	} else if (json_is_string(j) && key && !strcasecmp(key, "certificateHashes") &&
		   apf_hash_normalize(json_string_value(j), hex)) {
		rc = add_hash(d, hex, NULL, APF_DEV_UNSET, APF_DEV_UNSET);
	}
	return rc;
}

static int parse_json(struct apf_device *d, const char *data, size_t len, char **err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	bool known = false;
	int rc = 0;

	if (!root) {
		*err = apf_xasprintf("malformed JSON at line %d: %s", jerr.line, jerr.text);
		return -EBADMSG;
	}
	if (json_is_object(root)) {
		json_t *mode = obj_get_ci(root, "controlMode");

		d->amt_version = str_member(root, "amt");
		d->name = str_member(root, "hostnameOS");
		if (!d->name)
			d->name = str_member(root, "uuid");
		d->dns_suffix = str_member(root, "dnsSuffix");
		d->dns_suffix_os = str_member(root, "dnsSuffixOS");
		d->mode = parse_mode(mode);
		d->has_amtinfo = d->amt_version || d->name || d->dns_suffix || d->dns_suffix_os ||
				 obj_get_ci(root, "certificateHashes");
		/* rpc status --json */
		d->mei_driver = bool_member(root, "meiDriverPresent");
		d->wired_link = bool_member(root, "wiredLinkUp");
		d->wireless_link = bool_member(root, "wirelessLinkUp");
		d->ready = bool_member(root, "readyToProvision");
		d->host = str_member(root, "host");
		d->host_reachable = bool_member(root, "hostReachable");
		if (d->mode == APF_DEV_MODE_UNKNOWN && bool_member(root, "alreadyActivated") == APF_DEV_NO)
			d->mode = APF_DEV_MODE_PRE;
		d->has_status = d->ready != APF_DEV_UNSET || d->mei_driver != APF_DEV_UNSET;
		known = d->has_amtinfo || d->has_status || d->mode != APF_DEV_MODE_UNKNOWN;
		v = obj_get_ci(root, "certificateHashes");
		rc = walk_hashes(d, v ? v : root, v ? "certificateHashes" : NULL, 0);
	} else {
		rc = walk_hashes(d, root, "certificateHashes", 0);
	}
	if (!rc && !known && !d->n_hashes) {
		*err = apf_xstrdup("neither rpc amtinfo nor rpc status JSON, and no certificate hash in it");
		rc = -EBADMSG;
	}
	json_decref(root);
	return rc;
}

static int parse_text(struct apf_device *d, const char *data, size_t len, char **err)
{
	const char *p = data, *end = data + len;
	int lineno = 0, rc = 0;

	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[1024], hex[129], *s, *name;

		lineno++;
		if (n >= sizeof(line)) {
			*err = apf_xasprintf("line %d is longer than %zu characters", lineno, sizeof(line) - 1);
			return -EBADMSG;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + 1;
		s = apf_strtrim(line);
		if (!*s || *s == '#')
			continue;
		/* "HASH [name...]": the hash may itself be colon separated, never space separated here. */
		name = s + strcspn(s, " \t,;");
		if (*name) {
			*name++ = '\0';
			name = apf_strtrim(name);
		}
		if (!apf_hash_normalize(s, hex)) {
			*err = apf_xasprintf("line %d is not a SHA-1/SHA-256/SHA-384 hash: \"%.60s\"", lineno, s);
			return -EBADMSG;
		}
		rc = add_hash(d, hex, name, APF_DEV_UNSET, APF_DEV_UNSET);
	}
	if (!rc && !d->n_hashes) {
		*err = apf_xstrdup("no certificate hash found");
		rc = -EBADMSG;
	}
	return rc;
}

/* Parses one file into `d` (initialised by the caller). */
static int parse_device(struct apf_device *d, const char *data, size_t len, const char *name, char **err)
{
	size_t i = 0;
	int rc;

	if (len > APF_DEVFACTS_FILE_MAX) {
		*err = apf_xstrdup("larger than 1 MiB");
		return -E2BIG;
	}
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	rc = i < len && (data[i] == '{' || data[i] == '[') ? parse_json(d, data, len, err) : parse_text(d, data, len, err);
	if (rc == -E2BIG && !*err)
		*err = apf_xasprintf("more than %d hashes", APF_DEVFACTS_HASHES_MAX);
	if (rc)
		return rc;
	if (!d->name) /* the file stem: "amt-01.status.json" -> "amt-01" */
		d->name = xstrndup(name, strcspn(name, ".") ? strcspn(name, ".") : strlen(name));
	d->files = apf_xstrdup(name);
	if (d->amt_version) {
		/* "16.1.25": the major version, if it is one. */
		long g = strtol(d->amt_version, NULL, 10);
		d->generation = g > 0 && g < 100 ? (int)g : 0;
	}
	return 0;
}

/* ---- sets ----------------------------------------------------------------- */

void apf_devfacts_free(struct apf_devfacts *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		device_clear(&f->v[i]);
	for (size_t i = 0; i < f->n_errors; i++) {
		free(f->errors[i].file);
		free(f->errors[i].message);
	}
	free(f->errors);
	free(f->v);
	free(f);
}

static void add_error(struct apf_devfacts *f, const char *file, const char *msg)
{
	f->errors = apf_xrealloc(f->errors, (f->n_errors + 1) * sizeof(*f->errors));
	f->errors[f->n_errors].file = apf_xstrdup(file);
	f->errors[f->n_errors].message = apf_xstrdup(msg ? msg : "unreadable");
	f->n_errors++;
}

/* Takes the fields `src` has and `dst` lacks; src is cleared. */
static void merge_into(struct apf_device *dst, struct apf_device *src)
{
	char *files = apf_xasprintf("%s, %s", dst->files, src->files);

#define TAKE(field)                                                                                                    \
	do {                                                                                                           \
		if (!dst->field) {                                                                                     \
			dst->field = src->field;                                                                       \
			src->field = NULL;                                                                             \
		}                                                                                                      \
	} while (0)
	TAKE(amt_version);
	TAKE(dns_suffix);
	TAKE(dns_suffix_os);
	TAKE(host);
#undef TAKE
	free(dst->files);
	dst->files = files;
	if (!dst->generation)
		dst->generation = src->generation;
	if (dst->mode == APF_DEV_MODE_UNKNOWN)
		dst->mode = src->mode;
	if (dst->mei_driver == APF_DEV_UNSET)
		dst->mei_driver = src->mei_driver;
	if (dst->wired_link == APF_DEV_UNSET)
		dst->wired_link = src->wired_link;
	if (dst->wireless_link == APF_DEV_UNSET)
		dst->wireless_link = src->wireless_link;
	if (dst->ready == APF_DEV_UNSET)
		dst->ready = src->ready;
	if (dst->host_reachable == APF_DEV_UNSET)
		dst->host_reachable = src->host_reachable;
	dst->has_amtinfo |= src->has_amtinfo;
	dst->has_status |= src->has_status;
	for (size_t i = 0; i < src->n_hashes; i++) {
		const struct apf_dev_hash *h = &src->hashes[i];
		if (add_hash(dst, h->hex, h->name, h->is_default, h->is_active))
			break; /* over the cap: the first entries are kept */
	}
	device_clear(src);
}

static int cmp_device(const void *a, const void *b)
{
	return strcmp(((const struct apf_device *)a)->name, ((const struct apf_device *)b)->name);
}

/* Sorts by name and merges devices with the same name. */
static void merge_same(struct apf_devfacts *f)
{
	size_t out = 0;

	if (f->n < 2)
		return;
	qsort(f->v, f->n, sizeof(*f->v), cmp_device);
	for (size_t i = 1; i < f->n; i++) {
		if (!strcmp(f->v[out].name, f->v[i].name))
			merge_into(&f->v[out], &f->v[i]);
		else if (++out != i)
			f->v[out] = f->v[i];
	}
	f->n = out + 1;
}

/* Parses one file's content and adds the device; on failure records the error and returns it. */
static int add_content(struct apf_devfacts *f, const char *data, size_t len, const char *name, const char *label)
{
	struct apf_device d;
	char *err = NULL;
	int rc;

	device_init(&d);
	rc = parse_device(&d, data, len, name, &err);
	if (rc) {
		add_error(f, label, err);
		device_clear(&d);
	} else {
		f->v = apf_xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
		f->v[f->n++] = d;
		f->n_files++;
	}
	free(err);
	return rc;
}

int apf_devfacts_parse(const char *data, size_t len, const char *name, struct apf_devfacts **out, char **err_out)
{
	struct apf_devfacts *f = apf_xcalloc(1, sizeof(*f));
	int rc = add_content(f, data, len, name, name);

	*out = NULL;
	if (err_out)
		*err_out = rc ? apf_xstrdup(f->errors[0].message) : NULL;
	if (rc) {
		apf_devfacts_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

static void load_file(struct apf_devfacts *f, const char *path)
{
	unsigned char *data = NULL;
	size_t len = 0;
	const char *base = strrchr(path, '/');
	int rc = apf_read_file(path, APF_DEVFACTS_FILE_MAX, &data, &len);

	if (rc) {
		char *msg = apf_xasprintf("cannot read it: %s", apf_file_strerror(rc, APF_DEVFACTS_FILE_MAX));
		add_error(f, path, msg);
		free(msg);
		return;
	}
	add_content(f, (const char *)data, len, base ? base + 1 : path, path);
	free(data);
}

/* In a directory only exports count: *.json and *.txt, hidden files skipped
 * (a README or an editor's backup next to them is not a device). */
static int device_file(const struct dirent *e)
{
	const char *dot = strrchr(e->d_name, '.');

	return e->d_name[0] != '.' && dot && (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".txt"));
}

/* What a load may still spend: files, and time. */
struct budget {
	size_t files;
	uint64_t deadline_ms;
	size_t skipped; /* files not read because the deadline passed */
};

/* Whether one more file may be read; counts the ones that may not. */
static bool budget_take(struct budget *b)
{
	if (!b->files)
		return false;
	if (b->deadline_ms && apf_now_ms() >= b->deadline_ms) {
		b->skipped++;
		return false;
	}
	b->files--;
	return true;
}

static void load_dir(struct apf_devfacts *f, const char *dir, struct budget *budget)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, device_file, alphasort);

	if (n < 0) {
		char *msg = apf_xasprintf("cannot list the directory: %s", strerror(errno));
		add_error(f, dir, msg);
		free(msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		char *path = apf_xasprintf("%s/%s", dir, ents[i]->d_name);
		struct stat st;

		/* Regular files only: no recursion, no FIFOs that would block the read. */
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && budget_take(budget))
			load_file(f, path);
		free(path);
		free(ents[i]);
	}
	free(ents);
}

struct apf_devfacts *apf_devfacts_load(const char *const *paths, size_t n, uint64_t deadline_ms)
{
	struct apf_devfacts *f = apf_xcalloc(1, sizeof(*f));
	struct budget budget = {APF_DEVFACTS_FILES_MAX, deadline_ms, 0};

	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			load_dir(f, paths[i], &budget);
		else if (budget_take(&budget))
			load_file(f, paths[i]);
	}
	if (budget.skipped) {
		char *msg = apf_xasprintf("%zu file(s) not read: the check's deadline passed", budget.skipped);
		add_error(f, "[amt] device_facts", msg);
		free(msg);
	}
	merge_same(f);
	return f;
}

bool apf_devfacts_configured(const struct apf_config *cfg)
{
	return cfg->amt.device_facts.n || cfg->amt.device_hashes.n;
}

struct apf_devfacts *apf_devfacts_load_config(const struct apf_config *cfg, uint64_t deadline_ms)
{
	size_t n = cfg->amt.device_facts.n + cfg->amt.device_hashes.n;
	const char **paths = apf_xcalloc(n ? n : 1, sizeof(*paths));
	struct apf_devfacts *f;

	for (size_t i = 0; i < cfg->amt.device_facts.n; i++)
		paths[i] = cfg->amt.device_facts.v[i];
	for (size_t i = 0; i < cfg->amt.device_hashes.n; i++)
		paths[cfg->amt.device_facts.n + i] = cfg->amt.device_hashes.v[i];
	f = apf_devfacts_load(paths, n, deadline_ms);
	free(paths);
	return f;
}

const char *apf_devkey_mebx_suffix(const struct apf_device *d, const void *arg)
{
	(void)arg;
	return apf_device_activated(d) ? NULL : apf_device_amt_suffix(d);
}

const char *apf_devkey_used_suffix(const struct apf_device *d, const void *arg)
{
	const char *s = apf_devkey_mebx_suffix(d, arg);

	return s || apf_device_activated(d) ? s : d->dns_suffix_os;
}

bool apf_dns_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && !strncasecmp(a, b, la);
}

size_t apf_devfacts_group(const struct apf_devfacts *df, const char *(*key)(const struct apf_device *d, const void *arg),
			  const void *arg, struct apf_dev_group **out)
{
	struct apf_dev_group *g = NULL;
	size_t n = 0;

	for (size_t i = 0; i < df->n; i++) {
		const char *k = key(&df->v[i], arg);
		size_t j;

		if (!k)
			continue;
		for (j = 0; j < n && !apf_dns_name_eq(g[j].key, k); j++)
			;
		if (j == n) {
			g = apf_xrealloc(g, (n + 1) * sizeof(*g));
			g[n++] = (struct apf_dev_group){k, NULL, 0};
		}
		g[j].names = apf_xrealloc(g[j].names, (g[j].n + 1) * sizeof(*g[j].names));
		g[j].names[g[j].n++] = df->v[i].name;
	}
	*out = g;
	return n;
}

void apf_dev_groups_free(struct apf_dev_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].names);
	free(g);
}

char *apf_names_summary(const char *const *names, size_t n, size_t show)
{
	struct apf_buf b = {0};

	for (size_t i = 0; i < n && i < show; i++)
		apf_buf_addf(&b, "%s%s", i ? (i + 1 == n ? " and " : ", ") : "", names[i]);
	if (n > show)
		apf_buf_addf(&b, " and %zu more", n - show);
	return apf_buf_steal(&b);
}
