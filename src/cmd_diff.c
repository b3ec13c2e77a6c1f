/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_diff.h"
#include "compare.h"
#include "report.h"

/* Paired with enum apf_status: the exit status a regression of that status gives. */
static const int regression_exit[APF_STATUS_COUNT] = {
	[APF_SKIP] = 0, [APF_PASS] = 0, [APF_INFO] = 0, [APF_WARN] = 1, [APF_ERROR] = 1, [APF_FAIL] = 2,
};

static const struct option diff_options[] = {
	{"json", required_argument, NULL, 'J'},
	{"html", required_argument, NULL, 'H'},
	{NULL, 0, NULL, 0},
};

int apf_cmd_diff(int argc, char **argv)
{
	const char *json = NULL, *html = NULL;
	struct apf_run *old = NULL, *cur = NULL;
	char *err = NULL;
	int c, code = 3;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", diff_options, NULL)) != -1) {
		if (c == 'J')
			json = optarg;
		else if (c == 'H')
			html = optarg;
		else {
			fprintf(stderr, "amt-preflight: diff: unknown option or missing value '%s'\n"
					"Try 'amt-preflight --help'.\n", argv[optind - 1]);
			goto out;
		}
	}
	if (argc - optind != 2) {
		fputs("amt-preflight: diff takes two JSON reports: OLD.json NEW.json\nTry 'amt-preflight --help'.\n", stderr);
		goto out;
	}
	if (apf_report_json_read(argv[optind], &old, &err) || apf_report_json_read(argv[optind + 1], &cur, &err)) {
		fprintf(stderr, "amt-preflight: diff: %s\n", err);
		goto out;
	}
	apf_compare_runs(cur, old, argv[optind]);
	{
		struct apf_text_opts t = {.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR")};
		apf_report_text_write(cur, &t, stdout);
	}
	code = regression_exit[apf_compare_regression(cur)];
	if ((json && apf_report_write(cur, APF_REPORT_JSON, json)) || (html && apf_report_write(cur, APF_REPORT_HTML, html))) {
		fprintf(stderr, "amt-preflight: diff: cannot write the report\n");
		code = 3;
	}
out:
	apf_run_free(old);
	apf_run_free(cur);
	free(err);
	return code;
}
