/* SPDX-License-Identifier: MIT */
/*
 * The cert tests' fixture: the test PKI of tests/checks/pki/mkpki.sh, built
 * once per test process into a temporary directory and served over HTTP on
 * 127.0.0.1 (python3 -m http.server) so AIA and CRL fetches have an answer.
 */
#pragma once

#include <stdbool.h>

/* cmocka group setup/teardown: builds the PKI, starts (and stops) the server. */
int cert_fixture_setup(void **state);
int cert_fixture_teardown(void **state);

/* Absolute path of `file` in the served PKI. Rotating static buffers (8). */
const char *cert_pki(const char *file);
/* The same PKI built with URLs to a closed loopback port (fetches fail); built on first use. */
const char *cert_pki_dead(const char *file);

/* What `openssl x509 -in FILE <opt>` prints after '=' (e.g. "-serial" -> "1001",
 * "-fingerprint -sha1" -> lowercase hex without colons). Caller frees. */
char *cert_openssl(const char *file, const char *opt);

/* printf into a new string (aborts on OOM). */
char *cert_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when a finding with status FAIL exists in the result. */
struct apf_check_result;
bool cert_has_fail(const struct apf_check_result *r);
