/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmd_merge.h"
#include "fleet.h"
#include "report.h"
#include "util.h"

/* A fleet of forty sites is the use case; this bounds memory, not users. */
#define MERGE_MAX_REPORTS 10000

static const struct option merge_options[] = {
	{"json", required_argument, NULL, 'J'},
	{"html", required_argument, NULL, 'H'},
	{NULL, 0, NULL, 0},
};

static int write_json(FILE *out, const void *f)
{
	return apf_fleet_json_write(f, out);
}

static int write_html(FILE *out, const void *f)
{
	return apf_fleet_html_write(f, out);
}

int apf_cmd_merge(int argc, char **argv)
{
	const char *json = NULL, *html = NULL;
	struct apf_run **runs = NULL;
	const char **paths = NULL;
	struct apf_fleet *fleet = NULL;
	size_t n = 0;
	char *err = NULL;
	int c, code = 3;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", merge_options, NULL)) != -1) {
		if (c == 'J')
			json = optarg;
		else if (c == 'H')
			html = optarg;
		else {
			fprintf(stderr, "amt-preflight: merge: unknown option or missing value '%s'\n"
					"Try 'amt-preflight --help'.\n", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc || argc - optind > MERGE_MAX_REPORTS) {
		fprintf(stderr, "amt-preflight: merge takes 1 to %d JSON reports\nTry 'amt-preflight --help'.\n",
			MERGE_MAX_REPORTS);
		goto out;
	}
	runs = apf_xcalloc((size_t)(argc - optind), sizeof(*runs));
	paths = apf_xcalloc((size_t)(argc - optind), sizeof(*paths));
	for (int i = optind; i < argc; i++, n++) {
		paths[n] = argv[i];
		if (apf_report_json_read(argv[i], &runs[n], &err)) {
			fprintf(stderr, "amt-preflight: merge: %s\n", err);
			goto out;
		}
	}
	fleet = apf_fleet_new((const struct apf_run *const *)runs, paths, n);
	apf_fleet_text_write(fleet, stdout);
	code = apf_verdict_exit_code(fleet->verdict);
	if ((json && apf_write_atomic(json, write_json, fleet)) || (html && apf_write_atomic(html, write_html, fleet))) {
		fprintf(stderr, "amt-preflight: merge: cannot write the fleet report\n");
		code = 3;
	}
out:
	apf_fleet_free(fleet);
	for (size_t i = 0; runs && i < (size_t)(argc - optind); i++)
		apf_run_free(runs[i]);
	free(runs);
	free(paths);
	free(err);
	return code;
}
