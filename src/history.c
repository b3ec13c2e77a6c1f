/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "history.h"
#include "report.h"
#include "util.h"

#define PREFIX "report-"
#define SUFFIX ".json"

static bool is_history_name(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, PREFIX, strlen(PREFIX)) == 0 && n > strlen(PREFIX SUFFIX) &&
	       strcmp(name + n - strlen(SUFFIX), SUFFIX) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest reports beyond `keep`: their names sort by time. */
static int prune(const char *dir, int keep, char **err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d) {
		rc = -errno;
		apf_err_set(err, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	while ((e = readdir(d))) {
		if (!is_history_name(e->d_name))
			continue;
		names = apf_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = apf_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i + (size_t)keep < n; i++) {
		char *path = apf_xasprintf("%s/%s", dir, names[i]);
		if (unlink(path) != 0 && errno != ENOENT && !rc) {
			rc = -errno;
			apf_err_set(err, "cannot remove %s: %s", path, strerror(-rc));
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int apf_history_save(const char *dir, const struct apf_run *run, int keep, char **err)
{
	char stamp[32] = "19700101T000000Z";
	struct tm tm;
	struct stat st;
	char *path = NULL, *latest = NULL;
	int rc;

	/* The first run makes the directory (its parent must exist: a typo in the
	 * path should not build a tree somewhere). */
	if (stat(dir, &st) != 0 && (errno != ENOENT || mkdir(dir, 0750) != 0 || stat(dir, &st) != 0)) {
		rc = -errno;
		apf_err_set(err, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		apf_err_set(err, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	if (gmtime_r(&run->started, &tm))
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* Two runs in one second (a retry) keep both. */
	path = apf_xasprintf("%s/" PREFIX "%s" SUFFIX, dir, stamp);
	for (int i = 2; access(path, F_OK) == 0 && i < 100; i++) {
		free(path);
		path = apf_xasprintf("%s/" PREFIX "%s-%d" SUFFIX, dir, stamp, i);
	}
	latest = apf_xasprintf("%s/latest" SUFFIX, dir);
	rc = apf_report_write(run, APF_REPORT_JSON, path);
	if (!rc)
		rc = apf_report_write(run, APF_REPORT_JSON, latest);
	if (rc)
		apf_err_set(err, "cannot write the history report in %s: %s", dir, strerror(-rc));
	else
		rc = prune(dir, keep, err);
	free(path);
	free(latest);
	return rc;
}

char *apf_history_latest(const char *dir)
{
	char *p = apf_xasprintf("%s/latest" SUFFIX, dir);

	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}
