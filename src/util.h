/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the core: growable strings, capped file reads, atomic writes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct apf_buf {
	char *p;
	size_t len, cap;
};

void apf_buf_add(struct apf_buf *b, const char *s, size_t n);
void apf_buf_addf(struct apf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (NUL-terminated, never NULL) and leaves the buffer empty; caller frees. */
char *apf_buf_steal(struct apf_buf *b);
void apf_buf_clear(struct apf_buf *b);

/*
 * Opens a file named in the configuration or on the command line for reading,
 * refusing what is not a regular file before a read could block on it (a FIFO,
 * a terminal, a socket, a device). Every file the program reads goes through
 * here. Returns the descriptor (O_CLOEXEC, blocking), -EISDIR for a directory,
 * -EINVAL for another non-regular file, or -errno.
 */
int apf_open_regular(const char *path);
/* The same as a read-only stdio stream; NULL with *rc_out = -errno on failure. */
FILE *apf_fopen_regular(const char *path, int *rc_out);
/* Why a file could not be read, for messages: the error of apf_open_regular() or
 * apf_read_file() (`max`: the cap given to it). Thread-local buffer. */
const char *apf_file_strerror(int rc, size_t max);

/*
 * Reads a whole regular file of at most `max` bytes (NUL-terminated for
 * convenience). Returns 0, -EFBIG when larger, the errors of apf_open_regular(),
 * or -errno. *out stays NULL on failure.
 */
int apf_read_file(const char *path, size_t max, unsigned char **out, size_t *len_out);

/*
 * Writes a file atomically: `write` fills a temporary file next to `path`, which
 * is fsync'ed and renamed over `path` only when `write` returned 0. A crash never
 * leaves half a report. `path` "-" writes to stdout directly.
 */
int apf_write_atomic(const char *path, int (*write)(FILE *out, const void *arg), const void *arg);

/* CLOCK_MONOTONIC in milliseconds: every deadline is on this clock. */
uint64_t apf_now_ms(void);

/* The n strings of v joined with sep; caller frees (also in check.h, for checks). */
char *apf_strv_join(const char *const *v, size_t n, const char *sep);

/* Lowercase hex SHA-256 of data into out[65]. */
void apf_sha256_hex(const void *data, size_t len, char out[65]);

/* Trims ASCII whitespace in place; returns s. */
char *apf_strtrim(char *s);

/* True when `s` is printable UTF-8-ish text without control characters (for config values). */
bool apf_str_is_clean(const char *s);
