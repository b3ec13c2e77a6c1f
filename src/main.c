/* SPDX-License-Identifier: MIT */
/*
 * amt-preflight: the command line. Only main() decides the exit code:
 * 0 READY, 1 READY WITH WARNINGS, 2 NOT READY, 3 INCOMPLETE or a usage/config error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "alloc.h"
#include "amt_profile.h"
#include "cmd_diff.h"
#include "cmd_hash.h"
#include "cmd_merge.h"
#include "compare.h"
#include "config.h"
#include "history.h"
#include "net/http.h"
#include "registry.h"
#include "report.h"
#include "runner.h"
#include "waiver.h"

#define EXIT_USAGE 3
#define MAX_SELECT 64
#define MAX_THRESHOLDS 8
#define HISTORY_KEEP_DEFAULT 100

static const char usage_text[] =
	"Usage: amt-preflight COMMAND [OPTIONS]\n"
	"\n"
	"Checks the infrastructure an Intel AMT (vPro) rollout needs: DNS ProvisionServer\n"
	"records, DHCP options 15/81, Active Directory, Microsoft CA templates, provisioning\n"
	"certificates and AMT root hashes. Every finding says what was seen, why it breaks\n"
	"provisioning and how to fix it.\n"
	"\n"
	"Commands:\n"
	"  run [OPTIONS]          run the checks and write reports\n"
	"  list [--json]          list every check: id, title, needs, default timeout\n"
	"  explain ID|CODE|KEY    explain a check id or area, a finding code, a config key or an activation profile\n"
	"  hash FILE...           print certificate hashes as MEBx and setup servers expect\n"
	"  diff OLD NEW [--json F] [--html F]  compare two JSON reports: new, changed, fixed\n"
	"  merge REPORT... [--json F] [--html F]  one fleet report from many sites' reports\n"
	"  help                   show this help\n"
	"  version                show the version\n"
	"\n"
	"Options for run:\n"
	"  -c, --config FILE      configuration file (INI; see docs/config.md); default\n"
	"                         " APF_DEFAULT_CONFIG "\n"
	"      --only ID,...      run only these checks: ids, or areas (dns = every dns.*\n"
	"                         check); may be repeated\n"
	"      --skip ID,...      do not run these checks (ids or areas); may be repeated\n"
	"      --json FILE        write the JSON report to FILE (- for stdout)\n"
	"      --html FILE        write the HTML report to FILE (- for stdout)\n"
	"      --junit FILE       write a JUnit XML report to FILE (- for stdout)\n"
	"  -j, --jobs N           checks run at once (default 16)\n"
	"  -t, --timeout SEC      deadline of each check, overriding their defaults (checks\n"
	"                         that wait for another start when it ends)\n"
	"  -q, --quiet            print only the one-line verdict\n"
	"  -v, --verbose          print every finding with its evidence, not only problems\n"
	"      --format FORMAT    text (default) or nagios: the monitoring-plugins status\n"
	"                         line with performance data, exit status by plugin state\n"
	"      --warning METRIC=RANGE, --critical METRIC=RANGE\n"
	"                         nagios thresholds on prov_chain_days_left or\n"
	"                         crl_hours_left (monitoring-plugins ranges, e.g. 30:)\n"
	"      --total-timeout SEC\n"
	"                         the whole run ends within SEC seconds\n"
	"      --baseline FILE    compare with an earlier JSON report: new, changed, fixed\n"
	"      --history DIR      keep every run's JSON report in DIR (and latest.json);\n"
	"                         without --baseline, compare with DIR/latest.json\n"
	"      --history-keep N   reports kept in DIR (default 100)\n"
	"\n"
	"General options:\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 ready, 1 warnings only, 2 at least one FAIL,\n"
	"3 could not check (an ERROR and no FAIL) or a usage/configuration error.\n"
	"With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (docs/monitoring.md).\n"
	"diff: 0 nothing regressed, 1 a new or worse WARN or ERROR, 2 a new or worse FAIL,\n"
	"3 a report could not be read.\n"
	"Interrupted (SIGINT, SIGTERM, SIGHUP): no report is written; the process ends by the signal.\n"
	"Secrets: AMT_PREFLIGHT_BIND_PASSWORD, AMT_PREFLIGHT_PFX_PASSWORD and\n"
	"AMT_PREFLIGHT_ENROLL_PASSWORD, or *_file keys.\n";

enum {
	OPT_ONLY = 256,
	OPT_SKIP,
	OPT_JSON,
	OPT_HTML,
	OPT_JUNIT,
	OPT_FORMAT,
	OPT_WARNING,
	OPT_CRITICAL,
	OPT_TOTAL_TIMEOUT,
	OPT_BASELINE,
	OPT_HISTORY,
	OPT_HISTORY_KEEP,
};

static const struct option run_options[] = {
	{"config", required_argument, NULL, 'c'},
	{"only", required_argument, NULL, OPT_ONLY},
	{"skip", required_argument, NULL, OPT_SKIP},
	{"json", required_argument, NULL, OPT_JSON},
	{"html", required_argument, NULL, OPT_HTML},
	{"junit", required_argument, NULL, OPT_JUNIT},
	{"jobs", required_argument, NULL, 'j'},
	{"timeout", required_argument, NULL, 't'},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"warning", required_argument, NULL, OPT_WARNING},
	{"critical", required_argument, NULL, OPT_CRITICAL},
	{"total-timeout", required_argument, NULL, OPT_TOTAL_TIMEOUT},
	{"baseline", required_argument, NULL, OPT_BASELINE},
	{"history", required_argument, NULL, OPT_HISTORY},
	{"history-keep", required_argument, NULL, OPT_HISTORY_KEEP},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct run_args {
	const char *config;
	/* Every --only (--skip) joined with commas: the options may be repeated. */
	char *only_buf, *skip_buf;
	const char *only[MAX_SELECT], *skip[MAX_SELECT];
	size_t n_only, n_skip;
	const char *json, *html, *junit;
	int jobs;
	unsigned int timeout_ms, total_timeout_ms;
	bool quiet, verbose, nagios;
	/* --warning/--critical, merged per metric; the config's warn_days and
	 * crl_warn_hours fill in the warnings not given. */
	struct apf_threshold thresholds[MAX_THRESHOLDS];
	size_t n_thresholds;
	const char *baseline, *history;
	int history_keep;
};

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("amt-preflight: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'amt-preflight --help'.\n", stderr);
}

/* The metrics thresholds may name (those the checks record; docs/monitoring.md). */
static const char *const threshold_metrics[] = {"prov_chain_days_left", "crl_hours_left", NULL};

static struct apf_threshold *threshold_slot(struct run_args *a, const char *metric)
{
	for (size_t i = 0; i < a->n_thresholds; i++)
		if (strcmp(a->thresholds[i].metric, metric) == 0)
			return &a->thresholds[i];
	if (a->n_thresholds == MAX_THRESHOLDS)
		return NULL;
	a->thresholds[a->n_thresholds].metric = metric;
	return &a->thresholds[a->n_thresholds++];
}

/* "--warning prov_chain_days_left=30:" */
static int parse_threshold(struct run_args *a, const char *opt, const char *arg, bool crit)
{
	const char *eq = strchr(arg, '=');
	const char *metric = NULL;
	struct apf_threshold *t;
	struct apf_range range;

	for (const char *const *m = threshold_metrics; eq && *m; m++)
		if (strlen(*m) == (size_t)(eq - arg) && strncmp(*m, arg, (size_t)(eq - arg)) == 0)
			metric = *m;
	if (!metric) {
		usage_error("%s: '%s' is not METRIC=RANGE with METRIC prov_chain_days_left or crl_hours_left", opt, arg);
		return -EINVAL;
	}
	if (apf_range_parse(eq + 1, &range)) {
		usage_error("%s: '%s' is not a monitoring-plugins range (10, 10:, ~:10, 10:20, @10:20)", opt, eq + 1);
		return -EINVAL;
	}
	t = threshold_slot(a, metric);
	if (crit) {
		t->crit = range;
		t->has_crit = true;
	} else {
		t->warn = range;
		t->has_warn = true;
	}
	return 0;
}

/* Defaults for the thresholds not given: warn at the horizons the checks warn at,
 * critical once the certificate or CRL has run out. */
static void threshold_defaults(struct run_args *a, const struct apf_config *cfg)
{
	const struct {
		const char *metric;
		int warn_at;
	} d[] = {{"prov_chain_days_left", cfg->provisioning.warn_days}, {"crl_hours_left", cfg->ca.crl_warn_hours}};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct apf_threshold *t = threshold_slot(a, d[i].metric);
		if (!t->has_warn) {
			t->warn = (struct apf_range){.start = d[i].warn_at, .end = INFINITY};
			t->has_warn = true;
		}
		if (!t->has_crit) {
			t->crit = (struct apf_range){.start = 0, .end = INFINITY};
			t->has_crit = true;
		}
	}
}

/* Splits "a,b" in place into `v`; every entry must name a check or an area, and
 * there must be one: an empty --only would otherwise silently mean "everything". */
static int parse_select(char *buf, const char **v, size_t *n, const char *opt)
{
	char *save = NULL;

	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (!apf_runner_select_ok(tok)) {
			fprintf(stderr, "amt-preflight: %s: '%s' is not a check id or area (see 'amt-preflight list')\n",
				opt, tok);
			return -EINVAL;
		}
		if (*n >= MAX_SELECT) {
			fprintf(stderr, "amt-preflight: %s: too many entries\n", opt);
			return -EINVAL;
		}
		v[(*n)++] = tok;
	}
	if (*n == 0) {
		usage_error("%s: no check id or area given", opt);
		return -EINVAL;
	}
	return 0;
}

/* Appends one --only/--skip value to the joined list. */
static void append_select(char **buf, const char *value)
{
	char *joined = apf_xasprintf("%s%s%s", *buf ? *buf : "", *buf ? "," : "", value);

	free(*buf);
	*buf = joined;
}

static int parse_uint(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * A report that cannot be written is found out before the checks run, not after
 * minutes of them: the directory must take a new file (the temp file renamed into
 * place) and the target must not be a directory. The writer still reports any
 * later failure.
 */
static int check_report_path(const char *opt, const char *path)
{
	struct stat st;
	const char *slash;
	char *dir = NULL;
	int rc = 0;

	if (!*path) {
		usage_error("%s: empty file name", opt);
		return -EINVAL;
	}
	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "amt-preflight: %s %s: is a directory; give a file name\n", opt, path);
		return -EISDIR;
	}
	slash = strrchr(path, '/');
	if (!slash)
		dir = apf_xstrdup(".");
	else if (slash == path)
		dir = apf_xstrdup("/");
	else
		dir = apf_xasprintf("%.*s", (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) != 0) {
		rc = -errno;
		fprintf(stderr, "amt-preflight: %s %s: cannot create a file in %s: %s\n", opt, path, dir, strerror(-rc));
	}
	free(dir);
	return rc;
}

/* Rejects report destinations that would clash: two reports in one file, or
 * several on standard output (their documents would run into each other). */
static int check_report_paths(const struct run_args *a)
{
	const char *opts[] = {"--json", "--html", "--junit"};
	const char *paths[] = {a->json, a->html, a->junit};
	int n_stdout = 0;

	for (size_t i = 0; i < 3; i++) {
		if (!paths[i])
			continue;
		if (check_report_path(opts[i], paths[i]))
			return -EINVAL;
		if (strcmp(paths[i], "-") == 0) {
			n_stdout++;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (paths[j] && strcmp(paths[i], paths[j]) == 0) {
				usage_error("%s and %s name the same file %s", opts[j], opts[i], paths[i]);
				return -EINVAL;
			}
		}
	}
	if (n_stdout > 1) {
		usage_error("%s", "only one report can go to standard output ('-')");
		return -EINVAL;
	}
	return 0;
}

static int parse_run_args(int argc, char **argv, struct run_args *a)
{
	long v;
	int c;

	a->jobs = 16;
	a->history_keep = HISTORY_KEEP_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:j:t:qvhV", run_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case OPT_ONLY:
			append_select(&a->only_buf, optarg);
			break;
		case OPT_SKIP:
			append_select(&a->skip_buf, optarg);
			break;
		case OPT_JSON:
			a->json = optarg;
			break;
		case OPT_HTML:
			a->html = optarg;
			break;
		case OPT_JUNIT:
			a->junit = optarg;
			break;
		case 'j':
			if (parse_uint(optarg, 1, 64, &v)) {
				usage_error("--jobs: '%s' is not a number from 1 to 64", optarg);
				return -EINVAL;
			}
			a->jobs = (int)v;
			break;
		case 't':
			if (parse_uint(optarg, 1, 3600, &v)) {
				usage_error("--timeout: '%s' is not a number of seconds from 1 to 3600", optarg);
				return -EINVAL;
			}
			a->timeout_ms = (unsigned int)v * 1000u;
			break;
		case 'q':
			a->quiet = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "nagios") != 0 && strcmp(optarg, "text") != 0) {
				usage_error("--format: '%s' is not text or nagios", optarg);
				return -EINVAL;
			}
			a->nagios = strcmp(optarg, "nagios") == 0;
			break;
		case OPT_WARNING:
		case OPT_CRITICAL:
			if (parse_threshold(a, c == OPT_WARNING ? "--warning" : "--critical", optarg, c == OPT_CRITICAL))
				return -EINVAL;
			break;
		case OPT_TOTAL_TIMEOUT:
			if (parse_uint(optarg, 1, 86400, &v)) {
				usage_error("--total-timeout: '%s' is not a number of seconds from 1 to 86400", optarg);
				return -EINVAL;
			}
			a->total_timeout_ms = (unsigned int)v * 1000u;
			break;
		case OPT_BASELINE:
			a->baseline = optarg;
			break;
		case OPT_HISTORY:
			a->history = optarg;
			break;
		case OPT_HISTORY_KEEP:
			if (parse_uint(optarg, 1, 100000, &v)) {
				usage_error("--history-keep: '%s' is not a number from 1 to 100000", optarg);
				return -EINVAL;
			}
			a->history_keep = (int)v;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("amt-preflight %s\n", APF_VERSION);
			return 1;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (a->only_buf && parse_select(a->only_buf, a->only, &a->n_only, "--only"))
		return -EINVAL;
	if (a->skip_buf && parse_select(a->skip_buf, a->skip, &a->n_skip, "--skip"))
		return -EINVAL;
	return check_report_paths(a);
}

/* Colours only on a terminal that can show them, and never when NO_COLOR is set
 * to a non-empty value (https://no-color.org). */
static bool use_color(FILE *out)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(fileno(out)) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}

/*
 * Ctrl-C, SIGTERM (a monitoring system's timeout) and SIGHUP (a closed terminal)
 * are taken by one thread with sigwait(): the signals are blocked in every other
 * thread, since the check threads inherit the mask. While checks run, the thread
 * says what was interrupted and ends the process by the signal itself, so a
 * calling shell or script sees an interruption rather than a verdict, and no report
 * exists (reports are only written after the run). While reports are being
 * written, it lets them finish first: the atomic writer's temp file would otherwise
 * be left beside the target. A second signal then stops at once.
 */
enum run_phase { PHASE_CHECKS, PHASE_WRITING, PHASE_DONE };

struct progress {
	FILE *out;
	bool color, quiet;
	pthread_mutex_t lock; /* everything below, and the progress output */
	enum run_phase phase;
	int pending;          /* signal received while writing reports */
	size_t done;          /* checks finished */
	/* Intrusive checks asked for in this run and not finished yet: an interruption
	 * may leave their state (a DHCP lease, a DNS name) on the network. */
	const struct apf_check *intrusive[MAX_SELECT];
	size_t n_intrusive;
	sigset_t sigs;
};

static void on_done(const struct apf_check_result *r, size_t done, size_t total, void *arg)
{
	struct progress *p = arg;

	pthread_mutex_lock(&p->lock);
	p->done = done;
	for (size_t i = 0; i < p->n_intrusive; i++) {
		if (p->intrusive[i] && strcmp(p->intrusive[i]->id, r->id) == 0)
			p->intrusive[i] = NULL;
	}
	if (!p->quiet)
		apf_report_progress_line(r, done, total, p->color, p->out);
	pthread_mutex_unlock(&p->lock);
}

static const char *sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

/* Ends the process by `sig` with its default action (the exit status a shell
 * reports as 128+sig); _exit() only if that somehow returns. Nothing is flushed:
 * the main thread may hold stdout's lock in a write to a full pipe, and progress
 * lines are flushed as they are printed. */
static void die_by_signal(int sig)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t one;

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	_exit(128 + sig);
}

static void *signal_main(void *arg)
{
	struct progress *p = arg;

	for (;;) {
		int sig;

		if (sigwait(&p->sigs, &sig) != 0)
			continue;
		pthread_mutex_lock(&p->lock);
		if (p->phase == PHASE_WRITING && !p->pending) {
			p->pending = sig;
			fprintf(stderr, "amt-preflight: %s: finishing the reports being written, then stopping "
					"(again to stop now)\n", sig_name(sig));
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		if (p->phase == PHASE_CHECKS) {
			fprintf(stderr, "amt-preflight: %s: stopped after %zu finished check(s); no report was written\n",
				sig_name(sig), p->done);
			for (size_t i = 0; i < p->n_intrusive; i++) {
				if (p->intrusive[i])
					fprintf(stderr, "amt-preflight: %s had not finished and changes state on the network: "
							"what it set up may stay until it expires (see docs/checks/%s.md)\n",
						p->intrusive[i]->id, p->intrusive[i]->id);
			}
		} else if (p->phase == PHASE_WRITING) {
			fprintf(stderr, "amt-preflight: %s: stopped while writing the reports: one may be "
					"incomplete, or a temporary FILE.tmp.XXXXXX left beside it\n", sig_name(sig));
		} else {
			fprintf(stderr, "amt-preflight: %s: stopped; the reports were written\n", sig_name(sig));
		}
		die_by_signal(sig); /* with the lock held: nothing else may print now */
	}
	return NULL;
}

/* Blocks the ending signals in this thread (and so in every thread it starts) and
 * hands them to signal_main. A signal ignored on entry (nohup, a background job of
 * a non-interactive shell) stays ignored. */
static void signals_start(struct progress *p)
{
	const int which[] = {SIGINT, SIGTERM, SIGHUP};
	pthread_attr_t attr;
	pthread_t t;

	sigemptyset(&p->sigs);
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		struct sigaction old;
		if (sigaction(which[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaddset(&p->sigs, which[i]);
	}
	if (pthread_sigmask(SIG_BLOCK, &p->sigs, NULL) != 0)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, signal_main, p) != 0)
		pthread_sigmask(SIG_UNBLOCK, &p->sigs, NULL); /* default actions then: still no report */
	pthread_attr_destroy(&attr);
}

/* The intrusive checks this run may start: named exactly with --only, or listed in
 * [site] enable when there is no --only, and not skipped. */
static void note_intrusive(struct progress *p, const struct run_args *a, const struct apf_config *cfg)
{
	for (size_t i = 0; i < apf_registry_count() && p->n_intrusive < MAX_SELECT; i++) {
		const struct apf_check *c = apf_registry_at(i);
		bool wanted = false, skipped = false;

		if (!(c->flags & APF_CHECK_INTRUSIVE))
			continue;
		for (size_t j = 0; j < a->n_only; j++)
			wanted |= strcmp(a->only[j], c->id) == 0;
		if (!a->n_only)
			wanted = apf_strlist_has(&cfg->site.enable, c->id);
		else if (!wanted)
			for (size_t j = 0; j < a->n_only; j++)
				wanted |= apf_runner_selects(a->only[j], c->id) && apf_strlist_has(&cfg->site.enable, c->id);
		for (size_t j = 0; j < a->n_skip; j++)
			skipped |= apf_runner_selects(a->skip[j], c->id);
		if (wanted && !skipped)
			p->intrusive[p->n_intrusive++] = c;
	}
}

struct report_out {
	const char *path;
	enum apf_report_format fmt;
	const char *name;
	bool written;
};

static int write_reports(const struct apf_run *run, struct report_out *outs, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int rc;
		if (!outs[i].path)
			continue;
		rc = apf_report_write(run, outs[i].fmt, outs[i].path);
		if (rc) {
			fprintf(stderr, "amt-preflight: cannot write the %s report to %s: %s\n", outs[i].name,
				outs[i].path, strerror(-rc));
			failed = 1;
		} else {
			outs[i].written = true;
		}
	}
	return failed;
}

static int cmd_run(int argc, char **argv)
{
	struct run_args a = {0};
	struct apf_config *cfg = NULL;
	struct apf_run *run = NULL;
	static struct progress prog; /* the signal thread may outlive this frame */
	struct report_out outs[3] = {{0}};
	struct apf_waivers *waivers = NULL;
	struct apf_run *baseline = NULL;
	char *err = NULL, *baseline_path = NULL;
	bool abandoned = false, to_stdout;
	int rc, pending, code = EXIT_USAGE;

	rc = parse_run_args(argc, argv, &a);
	if (rc) {
		code = rc > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	if (!a.config) {
		/* The installed site configuration, as the systemd unit and Icinga use it. */
		if (access(APF_DEFAULT_CONFIG, F_OK) != 0) {
			usage_error("no configuration: give -c FILE, or create %s (docs/example.conf shows every key)",
				    APF_DEFAULT_CONFIG);
			goto out;
		}
		a.config = APF_DEFAULT_CONFIG;
	}
	rc = apf_config_load(a.config, &cfg, &err);
	if (rc) {
		fprintf(stderr, "amt-preflight: %s\n", err ? err : "cannot load the configuration");
		goto out;
	}
	/* Everything the run's reports depend on is read before minutes of checks. */
	if (cfg->site.waivers && apf_waivers_load(cfg->site.waivers, &waivers, &err)) {
		fprintf(stderr, "amt-preflight: %s\n", err);
		goto out;
	}
	if (a.baseline) {
		baseline_path = apf_xstrdup(a.baseline);
		if (apf_report_json_read(baseline_path, &baseline, &err)) {
			fprintf(stderr, "amt-preflight: --baseline: %s\n", err);
			goto out;
		}
	} else if (a.history && (baseline_path = apf_history_latest(a.history)) &&
		   apf_report_json_read(baseline_path, &baseline, &err)) {
		/* An unattended audit still runs; it just cannot say what changed. */
		fprintf(stderr, "amt-preflight: warning: no comparison with the history: %s\n", err);
		free(err);
		err = NULL;
	}
	if (a.nagios)
		threshold_defaults(&a, cfg);
	/* A report on stdout must stay parseable: everything else goes to stderr then. */
	to_stdout = (a.json && !strcmp(a.json, "-")) || (a.html && !strcmp(a.html, "-")) ||
		    (a.junit && !strcmp(a.junit, "-"));
	pthread_mutex_init(&prog.lock, NULL);
	prog.out = to_stdout ? stderr : stdout;
	prog.color = use_color(prog.out);
	prog.quiet = a.quiet || a.nagios;
	note_intrusive(&prog, &a, cfg);
	signals_start(&prog);

	{
		struct apf_run_opts o = {
			.cfg = cfg,
			.only = a.only,
			.n_only = a.n_only,
			.skip = a.skip,
			.n_skip = a.n_skip,
			.jobs = a.jobs,
			.timeout_ms = a.timeout_ms,
			.total_timeout_ms = a.total_timeout_ms,
			.on_done = on_done,
			.arg = &prog,
		};
		rc = apf_run_checks(&o, &run, &abandoned);
	}
	if (rc || !run) {
		fprintf(stderr, "amt-preflight: the checks could not be run: %s\n", strerror(rc < 0 ? -rc : EIO));
		goto out;
	}
	if (run->n_checks == 0) {
		usage_error("%s", "--only and --skip leave no check to run");
		goto out;
	}
	if (waivers)
		apf_waivers_apply(waivers, run, run->started);
	if (baseline)
		apf_compare_runs(run, baseline, baseline_path);
	if (a.nagios) {
		struct apf_nagios_opts no = {a.thresholds, a.n_thresholds};
		code = (int)apf_nagios_state(run, &no);
	} else {
		code = apf_verdict_exit_code(run->verdict);
	}

	outs[0] = (struct report_out){a.json, APF_REPORT_JSON, "JSON", false};
	outs[1] = (struct report_out){a.html, APF_REPORT_HTML, "HTML", false};
	outs[2] = (struct report_out){a.junit, APF_REPORT_JUNIT, "JUnit", false};
	pthread_mutex_lock(&prog.lock);
	prog.phase = PHASE_WRITING;
	pthread_mutex_unlock(&prog.lock);
	if (write_reports(run, outs, sizeof(outs) / sizeof(outs[0])) && code < EXIT_USAGE)
		code = EXIT_USAGE;
	if (a.history && apf_history_save(a.history, run, a.history_keep, &err)) {
		fprintf(stderr, "amt-preflight: --history: %s\n", err);
		if (code < EXIT_USAGE)
			code = EXIT_USAGE;
	}
	pthread_mutex_lock(&prog.lock);
	prog.phase = PHASE_DONE;
	pending = prog.pending;
	if (pending) {
		fprintf(stderr, "amt-preflight: %s: stopped; the reports were written\n", sig_name(pending));
		die_by_signal(pending);
	}
	pthread_mutex_unlock(&prog.lock);

	if (a.nagios) {
		struct apf_nagios_opts no = {a.thresholds, a.n_thresholds};
		apf_report_nagios_write(run, &no, prog.out);
	} else if (a.quiet) {
		/* One line: the verdict and the counts. */
		fprintf(prog.out, "AMT-PREFLIGHT %s - %zu FAIL, %zu ERROR, %zu WARN, %zu OK, %zu SKIP\n",
			apf_verdict_name(run->verdict), run->counts[APF_FAIL], run->counts[APF_ERROR],
			run->counts[APF_WARN], run->counts[APF_PASS] + run->counts[APF_INFO], run->counts[APF_SKIP]);
	} else {
		struct apf_text_opts t = {.color = prog.color, .verbose = a.verbose};
		apf_report_text_write(run, &t, prog.out);
		/* Say why an INCOMPLETE run has no ERROR in it. */
		if (run->counts[APF_SKIP] == run->n_checks)
			fprintf(prog.out, "Nothing was checked: every check was skipped%s.\n",
				a.verbose ? " (the reasons are above)" : "; -v shows why");
		for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
			if (outs[i].written && strcmp(outs[i].path, "-"))
				fprintf(prog.out, "%s report: %s\n", outs[i].name, outs[i].path);
		}
	}
	if (abandoned) {
		/* A check overran its deadline and still runs: leave now, without
		 * library cleanups racing it. Everything is written and flushed. */
		fflush(stdout);
		fflush(stderr);
		_exit(code);
	}
out:
	apf_run_free(run);
	apf_run_free(baseline);
	apf_waivers_free(waivers);
	apf_config_free(cfg);
	free(err);
	free(baseline_path);
	free(a.only_buf);
	free(a.skip_buf);
	return code;
}

static void list_needs(const struct apf_check *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->needs & APF_NEED_NETWORK ? "network" : "",
		 c->needs & APF_NEED_RAW_DHCP ? (c->needs & APF_NEED_NETWORK ? ", root (UDP 68)" : "root (UDP 68)") : "",
		 c->needs ? "" : "files only");
}

static int cmd_list(int argc, char **argv)
{
	bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;

	if (argc > 2 || (argc == 2 && !as_json)) {
		usage_error("list: unexpected argument '%s'", argv[argc - 1]);
		return EXIT_USAGE;
	}
	if (as_json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < apf_registry_count(); i++) {
			const struct apf_check *c = apf_registry_at(i);
			json_t *o = json_object(), *keys = json_array(), *deps = json_array(), *needs = json_array(),
			       *codes = json_array(), *after = json_array();
			for (const char *const *k = c->requires_keys; k && *k; k++)
				json_array_append_new(keys, json_string(*k));
			for (const char *const *k = c->requires_checks; k && *k; k++)
				json_array_append_new(deps, json_string(*k));
			for (const char *const *k = c->after; k && *k; k++)
				json_array_append_new(after, json_string(*k));
			if (c->needs & APF_NEED_NETWORK)
				json_array_append_new(needs, json_string("network"));
			if (c->needs & APF_NEED_RAW_DHCP)
				json_array_append_new(needs, json_string("bind-udp-68"));
			for (const struct apf_code *k = c->codes; k && k->code; k++)
				json_array_append_new(codes, json_string(k->code));
			json_object_set_new(o, "id", json_string(c->id));
			json_object_set_new(o, "title", json_string(c->title));
			json_object_set_new(o, "summary", json_string(c->summary));
			json_object_set_new(o, "requires_keys", keys);
			json_object_set_new(o, "requires_checks", deps);
			json_object_set_new(o, "after", after);
			json_object_set_new(o, "needs", needs);
			json_object_set_new(o, "intrusive", json_boolean(c->flags & APF_CHECK_INTRUSIVE));
			json_object_set_new(o, "timeout_ms", json_integer(c->timeout_ms));
			json_object_set_new(o, "codes", codes);
			json_array_append_new(arr, o);
		}
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(arr);
		return 0;
	}
	printf("%-26s %-8s %-22s %s\n", "ID", "TIMEOUT", "NEEDS", "TITLE");
	for (size_t i = 0; i < apf_registry_count(); i++) {
		const struct apf_check *c = apf_registry_at(i);
		char needs[64];
		list_needs(c, needs, sizeof(needs));
		printf("%-26s %5us   %-22s %s%s\n", c->id, c->timeout_ms / 1000, needs, c->title,
		       c->flags & APF_CHECK_INTRUSIVE ? "  [INTRUSIVE, opt-in]" : "");
		if (c->requires_keys && *c->requires_keys) {
			printf("%-26s requires:", "");
			for (const char *const *k = c->requires_keys; *k; k++)
				printf(" %s", *k);
			putchar('\n');
		}
	}
	return 0;
}

static void explain_code(const struct apf_code *k, const struct apf_check *owner)
{
	printf("%s  (%s, reported by %s)\n\n", k->code, apf_status_name(k->status), owner ? owner->id : "the runner");
	printf("What it means:\n  %s.\n", k->meaning);
	if (k->remedy)
		printf("\nHow to fix it:\n  %s\n", k->remedy);
	if (owner)
		printf("\nSee docs/checks/%s.md\n", owner->id);
}

/* The checks of an area ("dns"), for `explain dns`. */
static bool explain_area(const char *area)
{
	bool any = false;

	if (strchr(area, '.') || !apf_runner_select_ok(area))
		return false;
	printf("The %s checks (select them with --only %s or --skip %s):\n\n", area, area, area);
	for (size_t i = 0; i < apf_registry_count(); i++) {
		const struct apf_check *c = apf_registry_at(i);
		if (apf_runner_selects(area, c->id)) {
			printf("  %-26s %s%s\n", c->id, c->title, c->flags & APF_CHECK_INTRUSIVE ? "  [INTRUSIVE, opt-in]" : "");
			any = true;
		}
	}
	printf("\n'amt-preflight explain ID' explains one of them.\n");
	return any;
}

static int explain_one(const char *what)
{
	const struct apf_check *c, *owner = NULL;
	const struct apf_code *k;
	const struct apf_cfg_key *ck;
	const struct apf_profile_info *profile;

	if ((c = apf_registry_find(what))) {
		printf("%s - %s%s\n\n%s\n", c->id, c->title, c->flags & APF_CHECK_INTRUSIVE ? " [INTRUSIVE, opt-in]" : "",
		       c->summary);
		if (c->requires_keys && *c->requires_keys) {
			printf("\nRequires:");
			for (const char *const *r = c->requires_keys; *r; r++)
				printf(" %s", *r);
			putchar('\n');
		}
		if (c->requires_checks && *c->requires_checks) {
			printf("Runs after, and only when these pass:");
			for (const char *const *r = c->requires_checks; *r; r++)
				printf(" %s", *r);
			putchar('\n');
		}
		printf("Default timeout: %u s\n\nFinding codes:\n", c->timeout_ms / 1000);
		for (k = c->codes; k && k->code; k++)
			printf("  %-5s %-32s %s\n", apf_status_name(k->status), k->code, k->meaning);
		printf("\nSee docs/checks/%s.md\n", c->id);
		/* dns.servers is both a check and a config key: say both. */
		if ((ck = apf_cfg_key_find(what)))
			printf("\nThe config key [%s] %s: %s\n", ck->section, ck->name, ck->doc);
		return 0;
	}
	if ((k = apf_registry_find_code(what, &owner))) {
		explain_code(k, owner);
		return 0;
	}
	for (k = apf_runner_codes; k->code; k++) {
		if (strcmp(k->code, what) == 0) {
			explain_code(k, NULL);
			return 0;
		}
	}
	if ((ck = apf_cfg_key_find(what))) {
		printf("[%s] %s%s%s%s\n\n%s\n", ck->section, ck->name, ck->def ? "  (default: " : "", ck->def ? ck->def : "",
		       ck->def ? ")" : "", ck->doc);
		/* Most secret keys' documentation already names their variable. */
		if (ck->env && !strstr(ck->doc, ck->env))
			printf("Alternatively: the environment variable %s.\n", ck->env);
		if (!strcmp(what, "amt.activation")) {
			putchar('\n');
			for (int i = 0; i < APF_PROFILE_COUNT; i++)
				apf_profile_explain(stdout, apf_profile_info((enum apf_profile)i));
		}
		return 0;
	}
	if ((profile = apf_profile_find(what))) {
		apf_profile_explain(stdout, profile);
		printf("\nDeclared with [amt] activation; see docs/profiles.md\n");
		return 0;
	}
	if (explain_area(what))
		return 0;
	return -ENOENT;
}

static int cmd_explain(int argc, char **argv)
{
	char *folded = NULL;
	int rc;

	if (argc != 2) {
		usage_error("%s", "explain takes one check id or area, finding code or config key (section.key)");
		return EXIT_USAGE;
	}
	rc = explain_one(argv[1]);
	/* Codes are upper case and ids and keys lower case; accept any spelling. */
	for (int upper = 1; rc == -ENOENT && upper >= 0; upper--) {
		free(folded);
		folded = apf_xstrdup(argv[1]);
		for (char *p = folded; *p; p++)
			*p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
		if (strcmp(folded, argv[1]) != 0)
			rc = explain_one(folded);
	}
	if (rc == -ENOENT) {
		fprintf(stderr,
			"amt-preflight: '%s' is not a check id, area, finding code, config key or activation profile\n"
			"'amt-preflight list' shows the check ids; 'amt-preflight explain ID' a check's codes;\n"
			"docs/config.md every config key (section.key).\n",
			argv[1]);
	}
	free(folded);
	return rc ? EXIT_USAGE : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int code;

	/* OpenSSL may raise SIGPIPE on a closed TLS peer once libcurl stops handling signals. */
	signal(SIGPIPE, SIG_IGN);
	if (!cmd) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("amt-preflight %s\n", APF_VERSION);
		return 0;
	}
	/* Library globals are set up before any check thread exists. */
	if (apf_http_global_init()) {
		fputs("amt-preflight: cannot initialise libcurl\n", stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "run"))
		code = cmd_run(argc - 1, argv + 1);
	else if (!strcmp(cmd, "list"))
		code = cmd_list(argc - 1, argv + 1);
	else if (!strcmp(cmd, "explain"))
		code = cmd_explain(argc - 1, argv + 1);
	else if (!strcmp(cmd, "merge"))
		code = apf_cmd_merge(argc - 1, argv + 1);
	else if (!strcmp(cmd, "diff"))
		code = apf_cmd_diff(argc - 1, argv + 1);
	else if (!strcmp(cmd, "hash"))
		code = apf_cmd_hash(argc - 1, argv + 1);
	else {
		usage_error("unknown command '%s'", cmd);
		code = EXIT_USAGE;
	}
	apf_http_global_cleanup();
	return code;
}
