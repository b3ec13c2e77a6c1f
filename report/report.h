/* SPDX-License-Identifier: MIT */
/*
 * Renderers of the one result model (src/result.h). Each writes a whole
 * document to `out` and returns 0 or -errno; apf_report_write() puts it in place
 * atomically (temp file + rename) or on stdout for "-".
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

enum apf_report_format {
	APF_REPORT_JSON,
	APF_REPORT_HTML,
	APF_REPORT_JUNIT,
	APF_REPORT_TEXT,
};

/* Version of the JSON report's structure (docs/report.schema.json). */
#define APF_REPORT_SCHEMA_VERSION 2
/* The oldest version report/json_read.c still reads (1: no metrics, changes or waivers). */
#define APF_REPORT_SCHEMA_MIN 1

/*
 * Reads a JSON report written by this tool (schema versions APF_REPORT_SCHEMA_MIN
 * to APF_REPORT_SCHEMA_VERSION) back into a run: for --baseline, diff and merge.
 * Statuses, counts and the verdict are recomputed from the findings. Returns 0,
 * or -errno with *err (caller frees) saying what is wrong and where.
 */
int apf_report_json_read(const char *path, struct apf_run **out, char **err);

int apf_report_json_write(const struct apf_run *run, FILE *out);
int apf_report_html_write(const struct apf_run *run, FILE *out);
int apf_report_junit_write(const struct apf_run *run, FILE *out);

struct apf_text_opts {
	bool color;   /* ANSI colours (a terminal without NO_COLOR) */
	bool verbose; /* evidence and remediation for every finding, not only problems */
};
int apf_report_text_write(const struct apf_run *run, const struct apf_text_opts *o, FILE *out);

/* One line per finished check for live progress ("[ 3/13] FAIL  cert.provisioning  CERT_CHAIN_EXPIRED"). */
void apf_report_progress_line(const struct apf_check_result *r, size_t done, size_t total, bool color, FILE *out);

/* ---- monitoring-plugins output (report/nagios.c, docs/monitoring.md) ---- */

/* Plugin states; the value is the plugin's exit status. */
enum apf_nagios_state {
	APF_NAGIOS_OK = 0,
	APF_NAGIOS_WARNING = 1,
	APF_NAGIOS_CRITICAL = 2,
	APF_NAGIOS_UNKNOWN = 3,
	APF_NAGIOS_STATE_COUNT
};

const char *apf_nagios_state_name(enum apf_nagios_state s);

/* The state each ERROR code gives (a FAIL is CRITICAL, a WARN WARNING);
 * terminated by code == NULL. */
struct apf_nagios_error_state {
	const char *code;
	enum apf_nagios_state state;
};
extern const struct apf_nagios_error_state apf_nagios_error_states[];

/* A monitoring-plugins range: "10", "10:", "~:10", "10:20", "@10:20". */
struct apf_range {
	double start, end;
	bool inside; /* '@': alert inside the range rather than outside */
};
int apf_range_parse(const char *s, struct apf_range *r);
/* True when v raises the alert the range describes. */
bool apf_range_alert(const struct apf_range *r, double v);

/* Thresholds on a metric's lowest value in the run. */
struct apf_threshold {
	const char *metric;
	struct apf_range warn, crit;
	bool has_warn, has_crit;
};

struct apf_nagios_opts {
	const struct apf_threshold *thresholds;
	size_t n_thresholds;
};

/* Long output lists at most this many problems, then says how many more. */
#define APF_NAGIOS_MAX_LINES 50

/* The state of one finding (OK for a waived one), and of a whole run. */
enum apf_nagios_state apf_nagios_finding_state(const struct apf_finding *f);
enum apf_nagios_state apf_nagios_state(const struct apf_run *run, const struct apf_nagios_opts *o);
int apf_report_nagios_write(const struct apf_run *run, const struct apf_nagios_opts *o, FILE *out);

/* Writes `run` as `fmt` to `path` atomically ("-" = stdout). */
int apf_report_write(const struct apf_run *run, enum apf_report_format fmt, const char *path);

/* Opens a self-contained HTML page (doctype, a Content-Security-Policy that
 * forbids scripts and requests, the report's style sheet) up to <body>; `title`
 * is escaped. The run report and the fleet report share it. */
void apf_html_begin(FILE *out, const char *title);

/* Escaping for HTML and XML text and attribute values (&<>"' and control
 * characters; invalid UTF-8 replaced). The one function every string goes through. */
int apf_html_escape(FILE *out, const char *s);
int apf_html_escape_n(FILE *out, const char *s, size_t n);
/* Same, into a new string; caller frees. */
char *apf_html_escape_dup(const char *s);
/* For a terminal: control characters (C0 including TAB/LF/CR, DEL, C1) and each
 * byte of invalid UTF-8 become '?', so network data cannot reach the terminal as
 * an escape sequence. */
int apf_text_escape(FILE *out, const char *s);
/* A copy of s in which each byte of invalid UTF-8 is U+FFFD (for JSON); caller frees. */
char *apf_utf8_fix_dup(const char *s);
