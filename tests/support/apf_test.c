/* SPDX-License-Identifier: MIT */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apf_test.h"
#include "registry.h"
#include "runner.h"

struct apf_run *apf_test_run(const char *id, const char *ini, unsigned int timeout_ms)
{
	struct apf_config *cfg = NULL;
	struct apf_run *run = NULL;
	char *err = NULL;
	const char *only[1] = {id};
	struct apf_run_opts o = {0};
	bool abandoned = false;

	if (apf_config_parse(ini ? ini : "", "test.conf", &cfg, &err) != 0) {
		fail_msg("config error: %s", err ? err : "?");
		free(err);
		return NULL;
	}
	o.cfg = cfg;
	o.only = only;
	o.n_only = 1;
	o.jobs = 1;
	o.timeout_ms = timeout_ms;
	assert_int_equal(apf_run_checks(&o, &run, &abandoned), 0);
	assert_false(abandoned);
	/* The run keeps pointers to the config only during the run. */
	apf_config_free(cfg);
	return run;
}

const struct apf_check_result *apf_test_result(const struct apf_run *run, const char *id)
{
	for (size_t i = 0; i < run->n_checks; i++) {
		if (strcmp(run->checks[i].id, id) == 0)
			return &run->checks[i];
	}
	fail_msg("no result for %s", id);
	return NULL;
}

const struct apf_finding *apf_test_find(const struct apf_check_result *r, const char *code)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		if (strcmp(r->findings[i]->code, code) == 0)
			return r->findings[i];
	}
	return NULL;
}

const char *apf_test_evidence(const struct apf_finding *f, const char *key)
{
	for (size_t i = 0; f && i < f->n_evidence; i++) {
		if (strcmp(f->evidence[i].key, key) == 0)
			return f->evidence[i].value;
	}
	return NULL;
}

static void dump(const struct apf_check_result *r)
{
	fprintf(stderr, "findings of %s (status %s):\n", r->id, apf_status_name(r->status));
	for (size_t i = 0; i < r->n_findings; i++) {
		fprintf(stderr, "  %s %s: %s\n", apf_status_name(r->findings[i]->status), r->findings[i]->code,
			r->findings[i]->message);
		for (size_t j = 0; j < r->findings[i]->n_evidence; j++)
			fprintf(stderr, "      %s = %s\n", r->findings[i]->evidence[j].key, r->findings[i]->evidence[j].value);
	}
}

const struct apf_finding *apf_test_expect(const struct apf_check_result *r, const char *code, enum apf_status st)
{
	const struct apf_finding *f = NULL;

	for (size_t i = 0; i < r->n_findings; i++) {
		if (strcmp(r->findings[i]->code, code) == 0 && r->findings[i]->status == st) {
			f = r->findings[i];
			break;
		}
	}
	if (!f) {
		dump(r);
		fail_msg("%s: expected a %s finding %s", r->id, apf_status_name(st), code);
	}
	return f;
}

const char *apf_test_srcpath(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("APF_TEST_SRCDIR");

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : APF_TEST_SRCDIR, rel);
	return buf;
}

/* Every directory apf_test_tmpdir() made, removed when the test program ends:
 * a test that fails half-way (cmocka longjmps out of it) leaves nothing either. */
#define MAX_TMPDIRS 64
static char tmpdirs[MAX_TMPDIRS][256];
static size_t n_tmpdirs;
static pid_t tmpdirs_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	return 0;
}

static void remove_tmpdirs(void)
{
	/* Only the process that made them: a forked child that exits normally
	 * must not pull them from under its parent. */
	if (getpid() != tmpdirs_owner)
		return;
	for (size_t i = 0; i < n_tmpdirs; i++)
		nftw(tmpdirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	n_tmpdirs = 0;
}

const char *apf_test_tmpdir(void)
{
	static char buf[256];
	const char *tmp = getenv("TMPDIR");

	/* Under $TMPDIR when set: tools/test.sh gives each run its own and checks
	 * that it is empty afterwards. */
	snprintf(buf, sizeof(buf), "%s/apf-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(buf))
		fail_msg("mkdtemp failed");
	if (n_tmpdirs == 0 && tmpdirs_owner == 0) {
		tmpdirs_owner = getpid();
		atexit(remove_tmpdirs);
	}
	if (n_tmpdirs >= MAX_TMPDIRS)
		fail_msg("more than %d temporary directories in one test program", MAX_TMPDIRS);
	snprintf(tmpdirs[n_tmpdirs++], sizeof(tmpdirs[0]), "%s", buf);
	return buf;
}
