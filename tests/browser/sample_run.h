/* SPDX-License-Identifier: MIT */
/*
 * A synthetic run for renderer tests (unit tests and the browser test): every
 * status, every area, evidence, remediation, in registry order. The hostile
 * variant also puts markup, quotes, control characters, invalid UTF-8 and URLs
 * into every string that can come from outside (run metadata, a check title,
 * messages, evidence keys and values, remediation). Check ids and finding
 * codes are ours and keep their documented syntax (docs/report.schema.json);
 * the renderer tests cover hostile ones separately.
 */
#pragma once

#include <stdbool.h>

#include "result.h"

/* Strings the hostile variant injects; tests assert they never appear raw. */
#define APF_SAMPLE_SCRIPT "<script>alert(1)</script>"
#define APF_SAMPLE_IMG "<img src=x onerror=alert(2)>"
#define APF_SAMPLE_URL "http://192.0.2.99/leak"
/* A RIGHT-TO-LEFT OVERRIDE that would show "CN=evilexe.txt"; renderers show it as <U+202E>. */
#define APF_SAMPLE_BIDI "CN=evil\xE2\x80\xAEtxt.exe"

/* A new finished run (apf_run_finish applied); free with apf_run_free(). */
struct apf_run *apf_sample_run(bool hostile);
