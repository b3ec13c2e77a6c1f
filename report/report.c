/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "report.h"
#include "util.h"

struct write_arg {
	const struct apf_run *run;
	enum apf_report_format fmt;
};

static int write_one(FILE *out, const void *p)
{
	const struct write_arg *a = p;
	struct apf_text_opts topts = {0};

	switch (a->fmt) {
	case APF_REPORT_JSON:
		return apf_report_json_write(a->run, out);
	case APF_REPORT_HTML:
		return apf_report_html_write(a->run, out);
	case APF_REPORT_JUNIT:
		return apf_report_junit_write(a->run, out);
	case APF_REPORT_TEXT:
		topts.verbose = true;
		return apf_report_text_write(a->run, &topts, out);
	}
	return -EINVAL;
}

int apf_report_write(const struct apf_run *run, enum apf_report_format fmt, const char *path)
{
	struct write_arg a = {run, fmt};

	return apf_write_atomic(path, write_one, &a);
}
