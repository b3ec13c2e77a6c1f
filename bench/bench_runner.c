/* SPDX-License-Identifier: MIT */
/*
 * Runner overhead: N synthetic checks that each wait a set time (as network
 * checks do), run with --jobs J. Prints the run's wall time against the sum
 * of the checks' durations and against the slowest one. Goal (issue 2):
 * wall <= 1.1 x slowest + 0.2 s when jobs >= checks.
 *
 * usage: bench_runner [CHECKS [JOBS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"

static const struct apf_code codes[] = {{"BENCH_OK", APF_PASS, "done", NULL}, {NULL, 0, NULL, NULL}};

static int run_wait(struct apf_ctx *ctx)
{
	/* Durations 100..1000 ms, fixed by the check's position so runs compare. */
	unsigned int ms = 100 + (unsigned int)(apf_ctx_check(ctx)->title[0] - 'a') * 75;

	usleep(ms * 1000);
	apf_report(ctx, APF_PASS, "BENCH_OK", "waited %u ms", ms);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 13, jobs = argc > 2 ? atoi(argv[2]) : 16;
	struct apf_check *checks = calloc((size_t)n, sizeof(*checks));
	const struct apf_check **list = calloc((size_t)n, sizeof(*list));
	char (*ids)[24] = calloc((size_t)n, sizeof(*ids));
	char (*titles)[2] = calloc((size_t)n, sizeof(*titles));
	struct apf_config *cfg = apf_config_new_default();
	struct apf_run *run = NULL;
	uint64_t sum = 0, slowest = 0;
	double goal;

	if (n < 1 || n > 1000 || jobs < 1) {
		fprintf(stderr, "usage: %s [CHECKS [JOBS]]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "bench.c%d", i);
		titles[i][0] = (char)('a' + i % 13);
		checks[i] = (struct apf_check){.id = ids[i], .title = titles[i], .summary = "bench", .timeout_ms = 5000,
					       .codes = codes, .run = run_wait};
		list[i] = &checks[i];
	}
	{
		struct apf_run_opts o = {.cfg = cfg, .checks = list, .n_checks = (size_t)n, .jobs = jobs};
		if (apf_run_checks(&o, &run, NULL) != 0)
			return 1;
	}
	for (size_t i = 0; i < run->n_checks; i++) {
		sum += run->checks[i].duration_ms;
		if (run->checks[i].duration_ms > slowest)
			slowest = run->checks[i].duration_ms;
	}
	goal = 1.1 * (double)slowest + 200.0;
	printf("checks=%d jobs=%d\n", n, jobs);
	printf("wall          %8llu ms\n", (unsigned long long)run->duration_ms);
	printf("sum of checks %8llu ms   wall/sum     = %.2f\n", (unsigned long long)sum,
	       (double)run->duration_ms / (double)sum);
	printf("slowest check %8llu ms   wall/slowest = %.3f\n", (unsigned long long)slowest,
	       (double)run->duration_ms / (double)slowest);
	printf("goal: wall <= 1.1 x slowest + 200 ms = %.0f ms: %s\n", goal,
	       (double)run->duration_ms <= goal ? "met" : "NOT met");
	apf_run_free(run);
	apf_config_free(cfg);
	free(checks);
	free(list);
	free(ids);
	free(titles);
	return 0;
}
