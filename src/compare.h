/* SPDX-License-Identifier: MIT */
/*
 * Comparing a run with a baseline report: what is new, changed, unchanged, and
 * what was fixed. Used by `run --baseline/--history` (the reports then carry the
 * changes) and by `diff OLD NEW`.
 *
 * A finding is "the same" in both runs when its check id, its code and its
 * identifying evidence (the server, DC, template, certificate... it is about; see
 * identity_keys in compare.c) agree; findings that have no identifying evidence
 * pair up in the order they were reported. Two same findings are "changed" when
 * their status or any evidence value other than a timing differs. Messages are
 * never compared: they are prose and may be reworded between releases.
 */
#pragma once

#include "result.h"

/* Marks every finding of `cur` and fills cur->baseline from `old` (read from
 * `old_path`, which is only recorded). Replaces an earlier comparison. */
void apf_compare_runs(struct apf_run *cur, const struct apf_run *old, const char *old_path);

/*
 * What regressed: the worst status among findings of `cur` that are new at WARN
 * or above, or changed to a worse status than they had, counting only findings
 * no current waiver covers. APF_SKIP when nothing regressed or no comparison
 * was made.
 */
enum apf_status apf_compare_regression(const struct apf_run *cur);
