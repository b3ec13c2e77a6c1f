/* SPDX-License-Identifier: MIT */
/*
 * amt-preflight: the command line. Only main() decides the exit code:
 * 0 READY, 1 READY WITH WARNINGS, 2 NOT READY, 3 INCOMPLETE or a usage/config error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd_hash.h"
#include "config.h"
#include "net/http.h"
#include "registry.h"
#include "report.h"
#include "runner.h"

#define EXIT_USAGE 3
#define MAX_SELECT 64

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
	"  explain ID|CODE|KEY    explain a check id, a finding code or a config key\n"
	"  hash FILE...           print certificate hashes as MEBx and setup servers expect\n"
	"  help                   show this help\n"
	"  version                show the version\n"
	"\n"
	"Options for run:\n"
	"  -c, --config FILE      configuration file (INI; see docs/config.md)\n"
	"      --only ID,...      run only these checks (ids or areas: cert, dns, dhcp, ad, ca)\n"
	"      --skip ID,...      do not run these checks (ids or areas)\n"
	"      --json FILE        write the JSON report to FILE (- for stdout)\n"
	"      --html FILE        write the HTML report to FILE (- for stdout)\n"
	"      --junit FILE       write a JUnit XML report to FILE (- for stdout)\n"
	"  -j, --jobs N           checks run at once (default 16)\n"
	"  -t, --timeout SEC      deadline of every check, overriding their defaults\n"
	"  -q, --quiet            print only the one-line verdict\n"
	"  -v, --verbose          print every finding with its evidence, not only problems\n"
	"\n"
	"General options:\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Exit status: 0 ready, 1 warnings only, 2 at least one FAIL,\n"
	"3 could not check (an ERROR and no FAIL) or a usage/configuration error.\n"
	"Secrets: AMT_PREFLIGHT_BIND_PASSWORD and AMT_PREFLIGHT_PFX_PASSWORD, or *_file keys.\n";

enum { OPT_ONLY = 256, OPT_SKIP, OPT_JSON, OPT_HTML, OPT_JUNIT };

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
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct run_args {
	const char *config;
	char *only_buf, *skip_buf;
	const char *only[MAX_SELECT], *skip[MAX_SELECT];
	size_t n_only, n_skip;
	const char *json, *html, *junit;
	int jobs;
	unsigned int timeout_ms;
	bool quiet, verbose;
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

/* Splits "a,b" in place into `v`; every entry must name a check or an area. */
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
	return 0;
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

static int parse_run_args(int argc, char **argv, struct run_args *a)
{
	long v;
	int c;

	a->jobs = 16;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:j:t:qvhV", run_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case OPT_ONLY:
			free(a->only_buf);
			a->only_buf = strdup(optarg);
			a->n_only = 0;
			if (!a->only_buf || parse_select(a->only_buf, a->only, &a->n_only, "--only"))
				return -EINVAL;
			break;
		case OPT_SKIP:
			free(a->skip_buf);
			a->skip_buf = strdup(optarg);
			a->n_skip = 0;
			if (!a->skip_buf || parse_select(a->skip_buf, a->skip, &a->n_skip, "--skip"))
				return -EINVAL;
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
	return 0;
}

struct progress {
	FILE *out;
	bool color;
};

static void on_done(const struct apf_check_result *r, size_t done, size_t total, void *arg)
{
	const struct progress *p = arg;

	apf_report_progress_line(r, done, total, p->color, p->out);
}

static int write_reports(const struct apf_run *run, const struct run_args *a)
{
	const struct {
		const char *path;
		enum apf_report_format fmt;
		const char *name;
	} outs[] = {{a->json, APF_REPORT_JSON, "JSON"}, {a->html, APF_REPORT_HTML, "HTML"},
		    {a->junit, APF_REPORT_JUNIT, "JUnit"}};
	int failed = 0;

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		int rc;
		if (!outs[i].path)
			continue;
		rc = apf_report_write(run, outs[i].fmt, outs[i].path);
		if (rc) {
			fprintf(stderr, "amt-preflight: cannot write the %s report to %s: %s\n", outs[i].name,
				outs[i].path, strerror(-rc));
			failed = 1;
		}
	}
	return failed;
}

static int cmd_run(int argc, char **argv)
{
	struct run_args a = {0};
	struct apf_config *cfg = NULL;
	struct apf_run *run = NULL;
	struct progress prog;
	char *err = NULL;
	bool abandoned = false, to_stdout;
	int rc, code = EXIT_USAGE;

	rc = parse_run_args(argc, argv, &a);
	if (rc) {
		code = rc > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	if (!a.config) {
		usage_error("%s", "no configuration: give -c FILE (docs/example.conf shows every key)");
		goto out;
	}
	rc = apf_config_load(a.config, &cfg, &err);
	if (rc) {
		fprintf(stderr, "amt-preflight: %s\n", err ? err : "cannot load the configuration");
		goto out;
	}
	/* A report on stdout must stay parseable: everything else goes to stderr then. */
	to_stdout = (a.json && !strcmp(a.json, "-")) || (a.html && !strcmp(a.html, "-")) ||
		    (a.junit && !strcmp(a.junit, "-"));
	prog.out = to_stdout ? stderr : stdout;
	prog.color = isatty(fileno(prog.out)) && !getenv("NO_COLOR");

	{
		struct apf_run_opts o = {
			.cfg = cfg,
			.only = a.only,
			.n_only = a.n_only,
			.skip = a.skip,
			.n_skip = a.n_skip,
			.jobs = a.jobs,
			.timeout_ms = a.timeout_ms,
			.on_done = a.quiet ? NULL : on_done,
			.arg = &prog,
		};
		rc = apf_run_checks(&o, &run, &abandoned);
	}
	if (rc || !run) {
		fprintf(stderr, "amt-preflight: the checks could not be run: %s\n", strerror(rc < 0 ? -rc : EIO));
		goto out;
	}
	code = apf_verdict_exit_code(run->verdict);
	if (write_reports(run, &a) && code < EXIT_USAGE)
		code = EXIT_USAGE;
	if (a.quiet) {
		/* One line, Nagios plugin style. */
		fprintf(prog.out, "AMT-PREFLIGHT %s - %zu FAIL, %zu ERROR, %zu WARN, %zu OK, %zu SKIP\n",
			apf_verdict_name(run->verdict), run->counts[APF_FAIL], run->counts[APF_ERROR],
			run->counts[APF_WARN], run->counts[APF_PASS] + run->counts[APF_INFO], run->counts[APF_SKIP]);
	} else {
		struct apf_text_opts t = {.color = prog.color, .verbose = a.verbose};
		apf_report_text_write(run, &t, prog.out);
		if (a.json && strcmp(a.json, "-"))
			fprintf(prog.out, "JSON report: %s\n", a.json);
		if (a.html && strcmp(a.html, "-"))
			fprintf(prog.out, "HTML report: %s\n", a.html);
		if (a.junit && strcmp(a.junit, "-"))
			fprintf(prog.out, "JUnit report: %s\n", a.junit);
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
	apf_config_free(cfg);
	free(err);
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

static int cmd_explain(int argc, char **argv)
{
	const struct apf_check *c, *owner = NULL;
	const struct apf_code *k;
	const struct apf_cfg_key *ck;

	if (argc != 2) {
		usage_error("%s", "explain takes one check id, finding code or config key (section.key)");
		return EXIT_USAGE;
	}
	if ((c = apf_registry_find(argv[1]))) {
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
		if ((ck = apf_cfg_key_find(argv[1])))
			printf("\nThe config key [%s] %s: %s\n", ck->section, ck->name, ck->doc);
		return 0;
	}
	if ((k = apf_registry_find_code(argv[1], &owner))) {
		explain_code(k, owner);
		return 0;
	}
	for (k = apf_runner_codes; k->code; k++) {
		if (strcmp(k->code, argv[1]) == 0) {
			explain_code(k, NULL);
			return 0;
		}
	}
	if ((ck = apf_cfg_key_find(argv[1]))) {
		printf("[%s] %s%s%s%s\n\n%s\n", ck->section, ck->name, ck->def ? "  (default: " : "", ck->def ? ck->def : "",
		       ck->def ? ")" : "", ck->doc);
		if (ck->env)
			printf("Alternatively: the environment variable %s.\n", ck->env);
		return 0;
	}
	fprintf(stderr, "amt-preflight: '%s' is not a check id, finding code or config key\n", argv[1]);
	return EXIT_USAGE;
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
	else if (!strcmp(cmd, "hash"))
		code = apf_cmd_hash(argc - 1, argv + 1);
	else {
		usage_error("unknown command '%s'", cmd);
		code = EXIT_USAGE;
	}
	apf_http_global_cleanup();
	return code;
}
