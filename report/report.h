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
#define APF_REPORT_SCHEMA_VERSION 1

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

/* Writes `run` as `fmt` to `path` atomically ("-" = stdout). */
int apf_report_write(const struct apf_run *run, enum apf_report_format fmt, const char *path);

/* Escaping for HTML and XML text and attribute values (&<>"' and control
 * characters; invalid UTF-8 replaced; invisible formatting characters shown as
 * "&lt;U+XXXX&gt;"). The one function every string goes through. */
int apf_html_escape(FILE *out, const char *s);
int apf_html_escape_n(FILE *out, const char *s, size_t n);
/* Same, into a new string; caller frees. */
char *apf_html_escape_dup(const char *s);
/* For a terminal: control characters (C0 including TAB/LF/CR, DEL, C1) and each
 * byte of invalid UTF-8 become '?', so network data cannot reach the terminal as
 * an escape sequence; invisible formatting characters become "<U+XXXX>". */
int apf_text_escape(FILE *out, const char *s);
/* True for the invisible formatting characters (bidi controls, zero-width
 * characters, U+FEFF, tag characters: Unicode category Cf, and U+2028/9) that
 * the human-readable renderers show as a visible "<U+202E>". */
bool apf_cp_is_invisible_format(unsigned long cp);
/* Writes n bytes of a JSON document with every invisible formatting character
 * DEL and C1 control as its \u escape (a surrogate pair above U+FFFF): the same
 * strings once parsed. */
int apf_json_escape_invisible(FILE *out, const char *s, size_t n);
/* A copy of s in which each byte of invalid UTF-8 is U+FFFD (for JSON); caller frees. */
char *apf_utf8_fix_dup(const char *s);
