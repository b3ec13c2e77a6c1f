/* SPDX-License-Identifier: MIT */
/*
 * Reads a JSON report back into the result model, for --baseline, diff and
 * merge. Only the fields a comparison or a fleet report needs are taken; a
 * report of a schema version this build does not know is refused with the
 * versions it reads, rather than half understood.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alloc.h"
#include "report.h"
#include "util.h"

/* A fleet of reports is read at once by merge: keep each one bounded. */
#define REPORT_MAX_BYTES (64u * 1024 * 1024)

/* A copy of a string member, or NULL when absent or not a string. */
static char *member_dup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? apf_xstrdup(s) : NULL;
}

/* A string the run keeps for checks[].id/title (the model's pointers are not owned). */
static const char *keep(struct apf_run *run, const char *s)
{
	run->owned = apf_xrealloc(run->owned, (run->n_owned + 1) * sizeof(*run->owned));
	run->owned[run->n_owned] = apf_xstrdup(s);
	return run->owned[run->n_owned++];
}

static int parse_status(json_t *o, enum apf_status *st)
{
	const char *s = json_string_value(json_object_get(o, "status"));

	return s ? apf_status_parse(s, st) : -EINVAL;
}

static time_t parse_started(const char *s)
{
	struct tm tm = {0};

	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return timegm(&tm);
}

static struct apf_waiver_mark *read_waiver(json_t *w)
{
	struct apf_waiver_mark *m;

	if (!json_is_object(w))
		return NULL;
	m = apf_xcalloc(1, sizeof(*m));
	m->id = member_dup(w, "id");
	m->justification = member_dup(w, "justification");
	m->owner = member_dup(w, "owner");
	m->expires = member_dup(w, "expires");
	m->expired = json_is_true(json_object_get(w, "expired"));
	return m;
}

static int read_finding(json_t *jf, struct apf_finding **out)
{
	struct apf_finding *f;
	enum apf_status st;
	const char *code = json_string_value(json_object_get(jf, "code"));
	const char *msg = json_string_value(json_object_get(jf, "message"));
	json_t *ev = json_object_get(jf, "evidence");
	const char *key;
	json_t *v;

	if (!code || !msg || parse_status(jf, &st))
		return -EINVAL;
	f = apf_finding_new(st, code, msg);
	json_object_foreach(ev, key, v) {
		/* "server#2": a repeated key as the writer spelled it; back to its name. */
		const char *hash = strchr(key, '#');
		char *name = hash ? strndup(key, (size_t)(hash - key)) : apf_xstrdup(key);
		if (json_is_string(v))
			apf_finding_add_evidence(f, name ? name : key, json_string_value(v));
		free(name);
	}
	if (json_is_string(json_object_get(jf, "remediation")))
		apf_finding_set_remedy(f, json_string_value(json_object_get(jf, "remediation")));
	f->waiver = read_waiver(json_object_get(jf, "waiver"));
	*out = f;
	return 0;
}

static int read_checks(json_t *arr, struct apf_run *run, char **err)
{
	size_t i;
	json_t *jc;

	if (!json_is_array(arr)) {
		apf_err_set(err, "no \"checks\" array");
		return -EINVAL;
	}
	run->checks = apf_xcalloc(json_array_size(arr) + 1, sizeof(*run->checks));
	json_array_foreach(arr, i, jc) {
		struct apf_check_result *r = &run->checks[run->n_checks];
		const char *id = json_string_value(json_object_get(jc, "id"));
		json_t *fs = json_object_get(jc, "findings"), *jf, *ms = json_object_get(jc, "metrics"), *jm;
		size_t k;

		if (!id || !json_is_array(fs)) {
			apf_err_set(err, "check %zu has no id or no findings array", i + 1);
			return -EINVAL;
		}
		run->n_checks++;
		r->id = keep(run, id);
		r->title = keep(run, json_is_string(json_object_get(jc, "title")) ? json_string_value(json_object_get(jc, "title")) : id);
		r->duration_ms = (uint64_t)json_integer_value(json_object_get(jc, "duration_ms"));
		json_array_foreach(fs, k, jf) {
			struct apf_finding *f;
			if (read_finding(jf, &f)) {
				apf_err_set(err, "check %s: finding %zu lacks a status, code or message", id, k + 1);
				return -EINVAL;
			}
			apf_check_result_take_finding(r, f);
		}
		json_array_foreach(ms, k, jm) {
			const char *name = json_string_value(json_object_get(jm, "name"));
			if (name && json_is_number(json_object_get(jm, "value")))
				apf_check_result_add_metric(r, name, json_number_value(json_object_get(jm, "value")),
							    json_string_value(json_object_get(jm, "uom")));
		}
	}
	return 0;
}

int apf_report_json_read(const char *path, struct apf_run **out, char **err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	json_t *root = NULL, *tool;
	json_error_t jerr;
	struct apf_run *run = NULL;
	char *why = NULL;
	json_int_t version;
	int rc;

	*out = NULL;
	rc = apf_read_file(path, REPORT_MAX_BYTES, &data, &len);
	if (rc) {
		apf_err_set(err, "%s: %s", path, rc == -EFBIG ? "larger than a report can be (64 MiB)" : strerror(-rc));
		goto out;
	}
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		apf_err_set(err, "%s:%d: not valid JSON: %s", path, jerr.line, jerr.text);
		rc = -EINVAL;
		goto out;
	}
	tool = json_object_get(root, "tool");
	if (!json_is_object(root) || !json_string_value(json_object_get(tool, "name")) ||
	    strcmp(json_string_value(json_object_get(tool, "name")), "amt-preflight") != 0) {
		apf_err_set(err, "%s: not an amt-preflight JSON report (tool.name is not amt-preflight)", path);
		rc = -EINVAL;
		goto out;
	}
	version = json_integer_value(json_object_get(root, "schema_version"));
	if (version < APF_REPORT_SCHEMA_MIN || version > APF_REPORT_SCHEMA_VERSION) {
		apf_err_set(err, "%s: report schema version %lld; this amt-preflight reads versions %d to %d%s", path,
			    (long long)version, APF_REPORT_SCHEMA_MIN, APF_REPORT_SCHEMA_VERSION,
			    version > APF_REPORT_SCHEMA_VERSION ? " (the report was written by a newer release)" : "");
		rc = -EINVAL;
		goto out;
	}
	run = apf_xcalloc(1, sizeof(*run));
	run->tool_version = member_dup(tool, "version");
	run->host = member_dup(root, "host");
	run->site = member_dup(root, "site");
	run->config_path = member_dup(json_object_get(root, "config"), "path");
	run->config_digest = member_dup(json_object_get(root, "config"), "digest");
	run->started = parse_started(json_string_value(json_object_get(root, "started")));
	run->duration_ms = (uint64_t)json_integer_value(json_object_get(root, "duration_ms"));
	rc = read_checks(json_object_get(root, "checks"), run, &why);
	if (rc) {
		apf_err_set(err, "%s: %s", path, why ? why : "malformed");
		goto out;
	}
	apf_run_finish(run);
	*out = run;
	run = NULL;
out:
	apf_run_free(run);
	json_decref(root);
	free(data);
	free(why);
	return rc;
}
