/* SPDX-License-Identifier: MIT */
/* `amt-preflight hash FILE...`: certificate hashes in the forms AMT tools expect. */
#pragma once

/* argv[0] is "hash"; returns the process exit code (0, or 3 on errors). */
int apf_cmd_hash(int argc, char **argv);
