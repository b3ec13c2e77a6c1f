/* SPDX-License-Identifier: MIT */
/*
 * Helpers for check tests (cmocka): run one check through the real runner with
 * a configuration given as INI text, then assert on codes, statuses and evidence.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "result.h"

/*
 * Parses `ini` (NULL = empty config), runs the check `id` alone (as with
 * --only id) with its default timeout (or `timeout_ms` when > 0) and returns
 * the whole run (caller frees with apf_run_free). Fails the test on a config error.
 */
struct apf_run *apf_test_run(const char *id, const char *ini, unsigned int timeout_ms);

/* The result of check `id` in `run` (fails the test when absent). */
const struct apf_check_result *apf_test_result(const struct apf_run *run, const char *id);

/* The first finding with `code`, or NULL. */
const struct apf_finding *apf_test_find(const struct apf_check_result *r, const char *code);

/* Value of evidence `key` in `f`, or NULL. */
const char *apf_test_evidence(const struct apf_finding *f, const char *key);

/* Asserts that `r` has a finding `code` with status `st` and returns it. */
const struct apf_finding *apf_test_expect(const struct apf_check_result *r, const char *code, enum apf_status st);

/* Absolute path of a file under tests/ in the source tree (for fixtures). Static buffer. */
const char *apf_test_srcpath(const char *rel);

/* A fresh temporary directory $TMPDIR/apf-test-XXXXXX (/tmp when unset), removed
 * with everything in it when the test program exits. Static buffer. */
const char *apf_test_tmpdir(void);
