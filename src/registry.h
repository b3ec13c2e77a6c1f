/* SPDX-License-Identifier: MIT */
/* The one list of checks, sorted by id. */
#pragma once

#include <stddef.h>

#include "check.h"

size_t apf_registry_count(void);
const struct apf_check *apf_registry_at(size_t i);
const struct apf_check *apf_registry_find(const char *id);
/* The code table entry for a finding code, searched across all checks and the
 * runner's own codes; *owner (may be NULL) is the check, or NULL for runner codes. */
const struct apf_code *apf_registry_find_code(const char *code, const struct apf_check **owner);
