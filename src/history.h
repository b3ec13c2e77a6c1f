/* SPDX-License-Identifier: MIT */
/*
 * A history directory for scheduled audits (--history DIR): every run's JSON
 * report kept as report-YYYYMMDDTHHMMSSZ.json plus latest.json, the oldest
 * removed beyond a bound. The next run compares itself with latest.json.
 */
#pragma once

#include "result.h"

/* Saves the run (atomically) and prunes to `keep` timestamped reports. Returns 0
 * or -errno with *err (caller frees). */
int apf_history_save(const char *dir, const struct apf_run *run, int keep, char **err);

/* DIR/latest.json when it exists (caller frees), else NULL. */
char *apf_history_latest(const char *dir);
