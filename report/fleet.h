/* SPDX-License-Identifier: MIT */
/*
 * The fleet report: many sites' JSON reports merged into one view (`amt-preflight
 * merge`), for a company with one probe per site or segment. Per site its verdict
 * and counts; across sites every problem (WARN, ERROR, FAIL) by check and code,
 * with the sites that share it, worst and most widespread first.
 */
#pragma once

#include <stdio.h>

#include "result.h"

#define APF_FLEET_SCHEMA_VERSION 1

struct apf_fleet_site {
	char *name;                /* [site] name, else host, else the report's file name */
	const struct apf_run *run; /* not owned */
	const char *path;          /* the report it was read from */
};

struct apf_fleet_problem {
	const char *check_id, *code; /* owned by the runs */
	enum apf_status status;      /* the worst over the sites */
	size_t *sites;               /* indexes into sites[], ascending */
	size_t n_sites;
	size_t n_findings;           /* findings over all sites */
};

struct apf_fleet {
	struct apf_fleet_site *sites;
	size_t n_sites;
	struct apf_fleet_problem *problems; /* worst status first, then most sites, then check id and code */
	size_t n_problems;
	enum apf_verdict verdict;           /* the worst site verdict (NOT READY > INCOMPLETE > WARNINGS > READY) */
};

/* Builds the fleet view of `n` runs read from `paths`; the runs must outlive it. */
struct apf_fleet *apf_fleet_new(const struct apf_run *const *runs, const char *const *paths, size_t n);
void apf_fleet_free(struct apf_fleet *f);

int apf_fleet_json_write(const struct apf_fleet *f, FILE *out);
int apf_fleet_html_write(const struct apf_fleet *f, FILE *out);
int apf_fleet_text_write(const struct apf_fleet *f, FILE *out);
