/* SPDX-License-Identifier: MIT */
#pragma once

/* `amt-preflight diff OLD.json NEW.json [--json FILE] [--html FILE]`: NEW compared
 * with OLD, as text on stdout and as annotated reports. Returns the exit status:
 * 0 nothing regressed, 1 a new or worse WARN or ERROR, 2 a new or worse FAIL,
 * 3 a usage error or a report that cannot be read. */
int apf_cmd_diff(int argc, char **argv);
