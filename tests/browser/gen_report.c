/* SPDX-License-Identifier: MIT */
/*
 * Writes the synthetic sample run (tests/browser/sample_run.c) as HTML, JSON
 * and JUnit through the real report writers, for the browser test and the
 * schema validation.
 *
 *   gen_report [--clean] OUT.html OUT.json OUT.xml
 *
 * Without --clean the run carries hostile strings in every field.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "sample_run.h"

int main(int argc, char **argv)
{
	bool hostile = true;
	struct apf_run *run = NULL;
	int rc = 0, i = 1;

	if (argc > 1 && strcmp(argv[1], "--clean") == 0) {
		hostile = false;
		i++;
	}
	if (argc - i != 3) {
		fputs("usage: gen_report [--clean] OUT.html OUT.json OUT.xml\n", stderr);
		return 2;
	}
	run = apf_sample_run(hostile);
	if ((rc = apf_report_write(run, APF_REPORT_HTML, argv[i])) < 0 ||
	    (rc = apf_report_write(run, APF_REPORT_JSON, argv[i + 1])) < 0 ||
	    (rc = apf_report_write(run, APF_REPORT_JUNIT, argv[i + 2])) < 0)
		fprintf(stderr, "gen_report: writing failed: %s\n", strerror(-rc));
	apf_run_free(run);
	return rc < 0 ? 1 : 0;
}
