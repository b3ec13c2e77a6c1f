/* SPDX-License-Identifier: MIT */
/* Test helpers shared by the renderer unit tests. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

/* Runs `write` on `run` into a new string (caller frees); *rc gets its return value. */
char *apf_render_mem(int (*write)(const struct apf_run *, FILE *), const struct apf_run *run, int *rc);

/* Number of non-overlapping occurrences of `needle` in `hay`. */
size_t apf_count(const char *hay, const char *needle);

/*
 * Checks every tag in `doc`: its name must be in `allowed` (NULL-terminated),
 * and with `html`, it must carry no event handler, src, url() or non-fragment
 * href (the HTML renderer never puts model strings in attributes).
 * Returns NULL when fine, else a pointer to the offending '<'.
 */
const char *apf_bad_tag(const char *doc, const char *const *allowed, bool html);

/* True when `p` (a position in `doc`) is in text, not inside a tag. */
bool apf_in_text(const char *doc, const char *p);

/* True when `s` is valid UTF-8 without C0/C1 controls other than TAB, LF, CR. */
bool apf_clean_utf8(const char *s);
