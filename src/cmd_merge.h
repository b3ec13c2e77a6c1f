/* SPDX-License-Identifier: MIT */
#pragma once

/* `amt-preflight merge REPORT.json... [--json FILE] [--html FILE]`: site reports
 * combined into one fleet report (report/fleet.h), as text on stdout and as
 * files. Returns the exit status of the worst site verdict, or 3 when a report
 * cannot be read. */
int apf_cmd_merge(int argc, char **argv);
