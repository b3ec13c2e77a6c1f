/* SPDX-License-Identifier: MIT */
/*
 * Memory and error-message helpers every layer uses (core, adapters, checks).
 * Kept apart from the result model so that src/net/ adapters need neither the
 * result model nor the check interface.
 */
#pragma once

#include <stddef.h>

/* Aborting allocators: a preflight tool that runs out of memory has nothing better to do. */
void *apf_xmalloc(size_t n);
void *apf_xcalloc(size_t n, size_t size);
void *apf_xrealloc(void *p, size_t n);
char *apf_xstrdup(const char *s);
char *apf_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Replaces *err_out (when err_out is not NULL) with a formatted message: the
 * adapters' way of saying what went wrong next to their -errno. */
void apf_err_set(char **err_out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
