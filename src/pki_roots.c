/* SPDX-License-Identifier: MIT */
/* AMT root table lookups and device hash lists (see pki_roots.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "pki_roots.h"
#include "alloc.h"
#include "util.h"

#define DEVICE_FILE_MAX (1024u * 1024u)
#define JSON_MAX_DEPTH 8

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

/* ---- device lists ---------------------------------------------------------- */

void apf_device_hashes_free(struct apf_device_hashes *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	free(d->device);
	free(d->amt_version);
	free(d);
}

bool apf_device_hashes_has(const struct apf_device_hashes *d, const char *hex)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].hex, hex))
			return true;
	return false;
}

static int add_hash(struct apf_device_hashes *d, const char *hex, const char *name)
{
	struct apf_device_hash *h;

	if (apf_device_hashes_has(d, hex))
		return 0;
	if (d->n >= APF_DEVICE_HASHES_MAX)
		return -E2BIG;
	d->v = apf_xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	h = &d->v[d->n++];
	memset(h, 0, sizeof(*h));
	snprintf(h->hex, sizeof(h->hex), "%s", hex);
	if (name && *name)
		h->name = strndup(name, 256);
	return 0;
}

static json_t *obj_get_ci(json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		if (!strcasecmp(k, key))
			return v;
	}
	return NULL;
}

/* Walks the JSON: any object with a string "hash" member is an entry; its name
 * is its "name" member, else the key it was found under. */
static int walk_json(struct apf_device_hashes *d, json_t *j, const char *key, int depth)
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
			return add_hash(d, hex, json_is_string(name) ? json_string_value(name) : key);
		json_object_foreach(j, k, v) {
			rc = walk_json(d, v, k, depth + 1);
			if (rc)
				return rc;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			rc = walk_json(d, v, key, depth + 1);
			if (rc)
				return rc;
		}
	} else if (json_is_string(j) && key && !strcasecmp(key, "certificateHashes") &&
		   apf_hash_normalize(json_string_value(j), hex)) {
		/* a plain array of hex strings under certificateHashes */
		rc = add_hash(d, hex, NULL);
	}
	return rc;
}

static int parse_json(struct apf_device_hashes *d, const char *data, size_t len, char **err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	int rc;

	if (!root) {
		*err = apf_xasprintf("malformed JSON at line %d: %s", jerr.line, jerr.text);
		return -EBADMSG;
	}
	if (json_is_object(root)) {
		if ((v = obj_get_ci(root, "amt")) && json_is_string(v))
			d->amt_version = strndup(json_string_value(v), 64);
		if (((v = obj_get_ci(root, "hostnameOS")) || (v = obj_get_ci(root, "hostname")) ||
		     (v = obj_get_ci(root, "uuid"))) &&
		    json_is_string(v) && *json_string_value(v))
			d->device = strndup(json_string_value(v), 256);
		v = obj_get_ci(root, "certificateHashes");
		rc = walk_json(d, v ? v : root, v ? "certificateHashes" : NULL, 0);
	} else {
		rc = walk_json(d, root, "certificateHashes", 0);
	}
	json_decref(root);
	return rc;
}

static int parse_text(struct apf_device_hashes *d, const char *data, size_t len, char **err)
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
		rc = add_hash(d, hex, name);
	}
	return rc;
}

int apf_device_hashes_parse(const char *data, size_t len, const char *name, struct apf_device_hashes **out,
			    char **err_out)
{
	struct apf_device_hashes *d = apf_xcalloc(1, sizeof(*d));
	char *err = NULL;
	size_t i = 0;
	int rc;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	if (len > DEVICE_FILE_MAX) {
		rc = -E2BIG;
		err = apf_xstrdup("larger than 1 MiB");
		goto out;
	}
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	rc = i < len && (data[i] == '{' || data[i] == '[') ? parse_json(d, data, len, &err)
							    : parse_text(d, data, len, &err);
	if (rc == -E2BIG && !err)
		err = apf_xasprintf("more than %d hashes", APF_DEVICE_HASHES_MAX);
	if (!rc && d->n == 0) {
		rc = -EBADMSG;
		err = apf_xstrdup("no certificate hash found");
	}
	if (rc)
		goto out;
	if (!d->device)
		d->device = apf_xstrdup(name ? name : "device");
	if (d->amt_version) {
		/* "16.1.25" from the device's own report: the major version, if it is one. */
		long g = strtol(d->amt_version, NULL, 10);
		d->generation = g > 0 && g < 100 ? (int)g : 0;
	}
	*out = d;
	d = NULL;
out:
	apf_device_hashes_free(d);
	if (err_out)
		*err_out = err;
	else
		free(err);
	return rc;
}

int apf_device_hashes_load(const char *path, struct apf_device_hashes **out, char **err_out)
{
	unsigned char *data = NULL;
	size_t len = 0;
	const char *base = strrchr(path, '/');
	char *err = NULL;
	int rc;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	rc = apf_read_file(path, DEVICE_FILE_MAX, &data, &len);
	if (rc) {
		err = apf_xasprintf("cannot read %s: %s", path, rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		goto out;
	}
	rc = apf_device_hashes_parse((const char *)data, len, base ? base + 1 : path, out, &err);
	if (rc) {
		char *e = apf_xasprintf("%s: %s", path, err ? err : "unreadable");
		free(err);
		err = e;
	}
out:
	free(data);
	if (err_out)
		*err_out = err;
	else
		free(err);
	return rc;
}
