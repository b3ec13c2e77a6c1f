/* SPDX-License-Identifier: MIT */
/* The JSON report: the primary artefact, described by docs/report.schema.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alloc.h"
#include "report.h"

/* jansson rejects invalid UTF-8; network data may hold anything, so such a value
 * is carried with each bad byte replaced by U+FFFD rather than dropped. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *fixed;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	fixed = apf_utf8_fix_dup(s);
	j = json_string(fixed);
	free(fixed);
	return j ? j : json_string("");
}

static json_t *finding_json(const struct apf_finding *f)
{
	json_t *o = json_object(), *ev = json_object();

	json_object_set_new(o, "status", json_string(apf_status_name(f->status)));
	json_object_set_new(o, "code", jstr(f->code));
	json_object_set_new(o, "message", jstr(f->message));
	for (size_t i = 0; i < f->n_evidence; i++) {
		/* Evidence is ordered key/value; a repeated key gets a #N suffix so
		 * nothing is lost in a JSON object. */
		char *key = apf_xstrdup(f->evidence[i].key);
		for (int n = 2; json_object_get(ev, key); n++) {
			free(key);
			key = apf_xasprintf("%s#%d", f->evidence[i].key, n);
		}
		json_t *v = jstr(f->evidence[i].value);
		if (json_object_set_new(ev, key, v) != 0) {
			/* a key with invalid UTF-8 */
			char *k2 = apf_xasprintf("evidence_%zu", i + 1);
			json_object_set_new(ev, k2, jstr(f->evidence[i].value));
			free(k2);
		}
		free(key);
	}
	json_object_set_new(o, "evidence", ev);
	json_object_set_new(o, "remediation", f->remediation ? jstr(f->remediation) : json_null());
	if (f->change != APF_CHANGE_NONE) {
		json_object_set_new(o, "change", json_string(apf_change_name(f->change)));
		if (f->change_detail)
			json_object_set_new(o, "change_detail", jstr(f->change_detail));
	}
	if (f->waiver) {
		json_t *w = json_object();
		json_object_set_new(w, "id", jstr(f->waiver->id));
		json_object_set_new(w, "justification", jstr(f->waiver->justification));
		json_object_set_new(w, "owner", jstr(f->waiver->owner));
		json_object_set_new(w, "expires", jstr(f->waiver->expires));
		json_object_set_new(w, "expired", json_boolean(f->waiver->expired));
		json_object_set_new(o, "waiver", w);
	}
	return o;
}

static json_t *baseline_json(const struct apf_baseline *b)
{
	json_t *o = json_object(), *counts = json_object(), *fixed = json_array();

	json_object_set_new(o, "path", jstr(b->path));
	json_object_set_new(o, "started", jstr(b->started));
	json_object_set_new(o, "verdict", jstr(b->verdict));
	for (int c = APF_CHANGE_NEW; c < APF_CHANGE_COUNT; c++)
		json_object_set_new(counts, apf_change_name((enum apf_change)c), json_integer((json_int_t)b->counts[c]));
	json_object_set_new(counts, "fixed", json_integer((json_int_t)b->n_fixed));
	json_object_set_new(o, "counts", counts);
	for (size_t i = 0; i < b->n_fixed; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "check", jstr(b->fixed[i].check_id));
		json_object_set_new(f, "status", json_string(apf_status_name(b->fixed[i].status)));
		json_object_set_new(f, "code", jstr(b->fixed[i].code));
		json_object_set_new(f, "message", jstr(b->fixed[i].message));
		json_array_append_new(fixed, f);
	}
	json_object_set_new(o, "fixed", fixed);
	return o;
}

static json_t *run_json(const struct apf_run *run)
{
	json_t *root = json_object(), *checks = json_array(), *counts = json_object(), *tool = json_object(),
	       *cfg = json_object();
	char started[32] = "1970-01-01T00:00:00Z";
	struct tm tm;

	json_object_set_new(root, "schema_version", json_integer(APF_REPORT_SCHEMA_VERSION));
	json_object_set_new(tool, "name", json_string("amt-preflight"));
	json_object_set_new(tool, "version", jstr(run->tool_version));
	json_object_set_new(root, "tool", tool);
	if (gmtime_r(&run->started, &tm))
		strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(root, "started", json_string(started));
	json_object_set_new(root, "duration_ms", json_integer((json_int_t)run->duration_ms));
	json_object_set_new(root, "host", jstr(run->host));
	json_object_set_new(root, "site", jstr(run->site));
	json_object_set_new(cfg, "path", jstr(run->config_path));
	json_object_set_new(cfg, "digest", jstr(run->config_digest));
	json_object_set_new(root, "config", cfg);
	json_object_set_new(root, "verdict", json_string(apf_verdict_name(run->verdict)));
	json_object_set_new(root, "exit_code", json_integer(apf_verdict_exit_code(run->verdict)));
	for (int s = 0; s < APF_STATUS_COUNT; s++)
		json_object_set_new(counts, apf_status_name((enum apf_status)s), json_integer((json_int_t)run->counts[s]));
	json_object_set_new(root, "counts", counts);
	json_object_set_new(root, "waived", json_integer((json_int_t)run->n_waived));
	json_object_set_new(root, "baseline", run->baseline ? baseline_json(run->baseline) : json_null());
	if (run->waivers) {
		json_t *ws = json_array();
		for (size_t i = 0; i < run->n_waivers; i++) {
			const struct apf_waiver_state *w = &run->waivers[i];
			json_t *o = json_object();
			json_object_set_new(o, "id", jstr(w->id));
			json_object_set_new(o, "code", jstr(w->code));
			json_object_set_new(o, "check", jstr(w->check));
			json_object_set_new(o, "match", jstr(w->match));
			json_object_set_new(o, "owner", jstr(w->owner));
			json_object_set_new(o, "expires", jstr(w->expires));
			json_object_set_new(o, "state", json_string(apf_waiver_outcome_name(w->outcome)));
			json_object_set_new(o, "matched", json_integer((json_int_t)w->matched));
			json_array_append_new(ws, o);
		}
		json_object_set_new(root, "waivers", ws);
	}
	for (size_t i = 0; i < run->n_checks; i++) {
		const struct apf_check_result *r = &run->checks[i];
		json_t *c = json_object(), *fs = json_array();
		const char *dot = strchr(r->id, '.');
		json_object_set_new(c, "id", jstr(r->id));
		{
			char *area = strndup(r->id, dot ? (size_t)(dot - r->id) : strlen(r->id));
			json_object_set_new(c, "area", jstr(area));
			free(area);
		}
		json_object_set_new(c, "title", jstr(r->title));
		json_object_set_new(c, "status", json_string(apf_status_name(r->status)));
		json_object_set_new(c, "duration_ms", json_integer((json_int_t)r->duration_ms));
		for (size_t j = 0; j < r->n_findings; j++)
			json_array_append_new(fs, finding_json(r->findings[j]));
		json_object_set_new(c, "findings", fs);
		if (r->n_metrics) {
			json_t *ms = json_array();
			for (size_t j = 0; j < r->n_metrics; j++) {
				json_t *m = json_object();
				json_object_set_new(m, "name", jstr(r->metrics[j].name));
				json_object_set_new(m, "value", json_real(r->metrics[j].value));
				json_object_set_new(m, "uom", jstr(r->metrics[j].uom));
				json_array_append_new(ms, m);
			}
			json_object_set_new(c, "metrics", ms);
		}
		json_array_append_new(checks, c);
	}
	json_object_set_new(root, "checks", checks);
	return root;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return fwrite(buf, 1, size, data) == size ? 0 : -1;
}

int apf_report_json_write(const struct apf_run *run, FILE *out)
{
	json_t *root = run_json(run);
	int rc = json_dump_callback(root, dump_cb, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(root);
	if (rc != 0 || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}
