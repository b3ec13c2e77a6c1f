/* SPDX-License-Identifier: MIT */
/*
 * Waivers: accepted risks, read from the INI file named by [site] waivers
 * (docs/waivers.md). Each [name] section waives one finding code, optionally
 * only for one check and only where an evidence value contains a text, until
 * an expiry date, with a justification and an owner. A waived finding stays in
 * every report, marked, and counts toward neither its check's status nor the
 * verdict; an expired waiver stops applying and says so; a waiver that matches
 * nothing is reported as stale.
 */
#pragma once

#include <time.h>

#include "result.h"

struct apf_waivers;

/*
 * Parses a waiver file. Returns 0, or -errno with *err (caller frees) as
 * "FILE:LINE: what is wrong". Every code must be a finding code this build
 * knows, and every section must have code, justification, owner and expires.
 */
int apf_waivers_load(const char *path, struct apf_waivers **out, char **err);
void apf_waivers_free(struct apf_waivers *w);

/* Marks the findings of `run` that a waiver covers, fills run->waivers with
 * what became of each waiver, and recomputes the verdict. `today` decides
 * expiry (a waiver is good through its expiry date, UTC). */
void apf_waivers_apply(const struct apf_waivers *w, struct apf_run *run, time_t today);
