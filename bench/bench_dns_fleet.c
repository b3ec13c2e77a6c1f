/* SPDX-License-Identifier: MIT */
/*
 * Drives the fleet engine (src/dnsfleet.c) over a hosts file against one
 * server and prints one line of key=value figures for bench/dns_fleet.sh:
 * queries/s, verdict counts, client CPU per query and peak RSS.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dnsfleet.h"

static void usage(void)
{
	fputs("usage: bench_dns_fleet -f HOSTS -s IP [-p PORT] [-w WINDOW] [-r QPS] [-t MS] [-R RETRIES]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct apf_fleet_opts o = {.window = 256, .rate_limit = 0, .timeout_ms = 500, .retries = 3};
	struct apf_fleet_list *l = NULL;
	struct apf_fleet_stats st;
	struct rusage ru;
	const char *hosts = NULL;
	char *err = NULL;
	int c, rc;

	while ((c = getopt(argc, argv, "f:s:p:w:r:t:R:")) != -1) {
		switch (c) {
		case 'f': hosts = optarg; break;
		case 's': o.server = optarg; break;
		case 'p': o.port = (uint16_t)atoi(optarg); break;
		case 'w': o.window = (unsigned)atoi(optarg); break;
		case 'r': o.rate_limit = (unsigned)atoi(optarg); break;
		case 't': o.timeout_ms = (unsigned)atoi(optarg); break;
		case 'R': o.retries = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (!hosts || !o.server)
		usage();
	rc = apf_fleet_hosts_load(hosts, 10000000, &l, &err);
	if (rc < 0) {
		fprintf(stderr, "bench_dns_fleet: %s\n", err ? err : strerror(-rc));
		free(err);
		return 1;
	}
	/* CPU is measured around the run only, not the file load. */
	getrusage(RUSAGE_SELF, &ru);
	double cpu0 = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	rc = apf_fleet_run(&o, l, &st, &err);
	if (rc < 0) {
		fprintf(stderr, "bench_dns_fleet: %s\n", err ? err : strerror(-rc));
		free(err);
		apf_fleet_list_free(l);
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	double cpu1 = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	uint64_t q = st.queries + st.retransmits;
	double secs = st.elapsed_ms ? st.elapsed_ms / 1000.0 : 0.001;

	printf("hosts=%zu queries=%llu retransmits=%llu tcp=%llu stray=%llu elapsed_ms=%llu qps=%.0f "
	       "cpu_us_per_query=%.2f maxrss_kb=%ld",
	       l->n, (unsigned long long)st.queries, (unsigned long long)st.retransmits,
	       (unsigned long long)st.tcp_fallbacks, (unsigned long long)st.stray, (unsigned long long)st.elapsed_ms,
	       st.queries / secs, q ? (cpu1 - cpu0) * 1e6 / (double)q : 0.0, ru.ru_maxrss);
	for (int v = 0; v < APF_FLEET_VERDICT_COUNT; v++)
		printf(" %s=%zu", apf_fleet_verdict_name((enum apf_fleet_verdict)v), st.counts[v]);
	putchar('\n');
	apf_fleet_list_free(l);
	return 0;
}
