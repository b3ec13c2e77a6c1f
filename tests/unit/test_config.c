/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apf_test.h"
#include "config.h"
#include "util.h"

static struct apf_config *parse_ok(const char *text)
{
	struct apf_config *cfg = NULL;
	char *err = NULL;
	int rc = apf_config_parse(text, "t.conf", &cfg, &err);

	if (rc)
		fail_msg("unexpected error: %s", err);
	return cfg;
}

static char *parse_err(const char *text)
{
	struct apf_config *cfg = NULL;
	char *err = NULL;

	assert_int_not_equal(apf_config_parse(text, "t.conf", &cfg, &err), 0);
	assert_null(cfg);
	assert_non_null(err);
	return err;
}

static void test_defaults_and_values(void **state)
{
	struct apf_config *cfg = parse_ok("[site]\nname = Lab\n[dns]\nservers = 192.0.2.1, 192.0.2.2#5353 2001:db8::1\n"
					  "window = 64\n[provisioning]\ncheck_revocation = no\n"
					  "[amt]\ngenerations = 11,16\n");
	assert_string_equal(cfg->site.name, "Lab");
	assert_int_equal(cfg->dns.servers.n, 3);
	assert_string_equal(cfg->dns.servers.v[1], "192.0.2.2#5353");
	assert_null(cfg->dns.servers.v[3]);
	assert_int_equal(cfg->dns.window, 64);
	assert_int_equal(cfg->dns.rate_limit, 5000);     /* default */
	assert_int_equal(cfg->provisioning.warn_days, 30); /* default */
	assert_int_equal(cfg->provisioning.hello_port, 9971);
	assert_false(cfg->provisioning.check_revocation);
	assert_string_equal(cfg->dhcp.mode, "inform");
	assert_true(apf_config_is_set(cfg, "dns.window"));
	assert_false(apf_config_is_set(cfg, "dns.rate_limit"));
	assert_false(apf_config_is_set(cfg, "no.such"));
	assert_true(apf_strlist_has(&cfg->amt.generations, "16"));
	apf_config_free(cfg);
}

static void test_errors_name_file_and_line(void **state)
{
	char *e;

	e = parse_err("[dns]\nservers = 192.0.2.1\nservres = 192.0.2.2\n");
	assert_non_null(strstr(e, "t.conf:3:"));
	assert_non_null(strstr(e, "servres"));
	free(e);
	e = parse_err("[dns]\nwindow = lots\n");
	assert_non_null(strstr(e, "t.conf:2:"));
	assert_non_null(strstr(e, "window"));
	free(e);
	e = parse_err("[dns]\nwindow = 0\n");
	assert_non_null(strstr(e, "out of range"));
	free(e);
	e = parse_err("[dns]\nservers = dns1.example.com\n");
	assert_non_null(strstr(e, "t.conf:2:"));
	assert_non_null(strstr(e, "dns1.example.com"));
	free(e);
	e = parse_err("[nonsense]\nx = 1\n");
	assert_non_null(strstr(e, "t.conf:2:"));
	assert_non_null(strstr(e, "[nonsense]"));
	free(e);
	e = parse_err("[ad]\nbind_password = hunter2\n");
	assert_non_null(strstr(e, "bind_password"));
	assert_non_null(strstr(e, "_file"));
	assert_null(strstr(e, "hunter2")); /* the secret itself is never echoed */
	free(e);
	e = parse_err("[dhcp]\nmode = spray\n");
	assert_non_null(strstr(e, "inform|discover"));
	free(e);
	e = parse_err("[site]\nname = a\nname = b\n");
	assert_non_null(strstr(e, "t.conf:3:"));
	free(e);
	/* The line named is the broken one, not a later key that suffers from it. */
	e = parse_err("[site]\nname = x\n[ad\ndomain = corp.example.test\n");
	assert_non_null(strstr(e, "t.conf:3:"));
	assert_non_null(strstr(e, "]"));
	free(e);
	e = parse_err("this is not ini\n");
	assert_non_null(strstr(e, "t.conf:1:"));
	free(e);
	{
		/* inih cuts long lines; we refuse them whole, on their own line number. */
		char text[600];
		snprintf(text, sizeof(text), "[amt]\ngenerations = 16\ntls_hosts = %0400d\n", 0);
		e = parse_err(text);
		assert_non_null(strstr(e, "t.conf:3:"));
		assert_non_null(strstr(e, "repeating the key"));
		free(e);
	}
	{
		/* A list key may be repeated: the values add up. */
		struct apf_config *cfg = parse_ok("[amt]\ntls_hosts = a.example.test, b.example.test\n"
						  "tls_hosts = c.example.test\n");
		assert_int_equal(cfg->amt.tls_hosts.n, 3);
		apf_config_free(cfg);
	}
	e = parse_err("[amt]\ngenerations = 16, sixteen\n");
	assert_non_null(strstr(e, "sixteen"));
	free(e);
}

static void test_missing_file(void **state)
{
	struct apf_config *cfg = NULL;
	char *err = NULL;

	assert_int_not_equal(apf_config_load("/nonexistent/amt.conf", &cfg, &err), 0);
	assert_null(cfg);
	assert_non_null(strstr(err, "/nonexistent/amt.conf"));
	assert_non_null(strstr(err, "No such file"));
	free(err);
}

/* Issue 13 item 5: names reach the terminal, so control bytes in them are shown
 * as \xNN, never passed on (an ESC sequence could rewrite the screen). */
static void test_names_escaped(void **state)
{
	char *e;

	e = parse_err("[dns]\nserv\x1b[2Jers = 192.0.2.1\n");
	assert_null(strchr(e, '\x1b'));
	assert_non_null(strstr(e, "serv\\x1b[2Jers"));
	free(e);
	e = parse_err("[d\x1b[31m\x07ns]\nservers = 192.0.2.1\n");
	assert_null(strchr(e, '\x1b'));
	assert_null(strchr(e, '\x07'));
	assert_non_null(strstr(e, "\\x07"));
	free(e);
	/* C1 CSI and a bidi override (U+202E) in a key name. */
	e = parse_err("[dns]\nx\xc2\x9by\xe2\x80\xaez = 1\n");
	assert_null(strstr(e, "\xc2\x9b"));
	assert_null(strstr(e, "\xe2\x80\xae"));
	assert_non_null(strstr(e, "x\\xc2\\x9by\\xe2\\x80\\xaez"));
	free(e);
}

/* Issue 13 item 8: an indented line continues the key above in inih; say so
 * on its own line instead of "given twice" (or a silent extra list entry). */
static void test_indented_continuation(void **state)
{
	char *e;

	e = parse_err("[site]\nname = Lab\n  second line\n");
	assert_non_null(strstr(e, "t.conf:3:"));
	assert_non_null(strstr(e, "continuation"));
	free(e);
	e = parse_err("[amt]\ntls_hosts = a.example.test\n\tb.example.test\n");
	assert_non_null(strstr(e, "t.conf:3:"));
	free(e);
	/* Indentation before the first key of a section stays a plain key line. */
	{
		struct apf_config *cfg = parse_ok("[site]\n  name = Lab\n");
		assert_string_equal(cfg->site.name, "Lab");
		apf_config_free(cfg);
	}
}

/* Issue 13 item 9: a FIFO as the config must be refused at once, not block in
 * open() waiting for a writer; a directory is named as one. */
static void test_not_a_regular_file(void **state)
{
	struct apf_config *cfg = NULL;
	char fifo[512], *err = NULL;
	const char *dir = apf_test_tmpdir();

	snprintf(fifo, sizeof(fifo), "%s/conf.fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(apf_config_load(fifo, &cfg, &err), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(err, fifo));
	assert_non_null(strstr(err, "not a regular file"));
	free(err);
	err = NULL;
	assert_int_equal(apf_config_load(dir, &cfg, &err), -EISDIR);
	assert_non_null(strstr(err, "directory"));
	free(err);
	err = NULL;
	assert_int_equal(apf_config_load("/dev/null", &cfg, &err), -EINVAL);
	free(err);
	err = NULL;
	{
		/* A path key naming a FIFO or device is refused with its line: some of
		 * these files (the CA bundle) are opened inside libraries. A missing
		 * file or the store's directory is fine here. */
		char text[768];
		snprintf(text, sizeof(text), "[ad]\ndomain = corp.example.test\nca_bundle = %s\n", fifo);
		err = parse_err(text);
		assert_non_null(strstr(err, "t.conf:3:"));
		assert_non_null(strstr(err, "not a regular file"));
		free(err);
		err = parse_err("[provisioning]\ncertificate = /dev/zero\n");
		assert_non_null(strstr(err, "t.conf:2:"));
		free(err);
		snprintf(text, sizeof(text), "[provisioning]\ncertificate = %s/missing.pfx\nintermediate_store = %s\n",
			 dir, dir);
		cfg = parse_ok(text);
		apf_config_free(cfg);
	}
	unlink(fifo);
}

static void test_digest_stable_and_sensitive(void **state)
{
	struct apf_config *a = parse_ok("[site]\nname = X\n[dns]\nservers = 192.0.2.1\n");
	struct apf_config *b = parse_ok("[dns]\nservers = 192.0.2.1\n[site]\nname = X\n");
	struct apf_config *c = parse_ok("[site]\nname = Y\n[dns]\nservers = 192.0.2.1\n");
	char *da = apf_config_digest(a), *db = apf_config_digest(b), *dc = apf_config_digest(c);

	assert_int_equal(strlen(da), 64);
	assert_string_equal(da, db);
	assert_string_not_equal(da, dc);
	free(da);
	free(db);
	free(dc);
	apf_config_free(a);
	apf_config_free(b);
	apf_config_free(c);
}

/* Every key in the table has a valid default, a doc, and is documented in
 * docs/config.md and docs/example.conf: the docs cannot drift from the code. */
static void test_table_matches_docs(void **state)
{
	const char *root = getenv("APF_SOURCE_ROOT");
	char path[4096];
	unsigned char *md = NULL, *ex = NULL;
	size_t len;
	struct apf_config *cfg = apf_config_new_default();

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/docs/config.md", root);
	assert_int_equal(apf_read_file(path, 1 << 20, &md, &len), 0);
	snprintf(path, sizeof(path), "%s/docs/example.conf", root);
	assert_int_equal(apf_read_file(path, 1 << 20, &ex, &len), 0);
	for (const struct apf_cfg_key *k = apf_cfg_keys; k->section; k++) {
		char needle[128];
		assert_non_null(k->doc);
		snprintf(needle, sizeof(needle), "`%s`", k->name);
		if (!strstr((char *)md, needle))
			fail_msg("docs/config.md does not document [%s] %s", k->section, k->name);
		snprintf(needle, sizeof(needle), "%s =", k->name);
		if (!strstr((char *)ex, needle))
			fail_msg("docs/example.conf does not show [%s] %s", k->section, k->name);
	}
	/* The example itself must parse (its keys are commented out or valid). */
	{
		struct apf_config *e = NULL;
		char *err = NULL;
		snprintf(path, sizeof(path), "%s/docs/example.conf", root);
		if (apf_config_load(path, &e, &err))
			fail_msg("docs/example.conf does not load: %s", err);
		apf_config_free(e);
	}
	free(md);
	free(ex);
	apf_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_names_escaped),
		cmocka_unit_test(test_indented_continuation),
		cmocka_unit_test(test_not_a_regular_file),
		cmocka_unit_test(test_digest_stable_and_sensitive),
		cmocka_unit_test(test_table_matches_docs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
