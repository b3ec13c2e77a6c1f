/* SPDX-License-Identifier: MIT */
/*
 * Device facts (src/devfacts.c) read from the rpc-go-shaped fixtures in
 * tests/fixtures/devices/, and the amt.devices check over them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "apf_test.h"
#include "devfacts.h"
#include "result.h"
#include "util.h"

#define ID "amt.devices"

static char *fixture(const char *name)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "fixtures/devices/%s", name);
	return strdup(apf_test_srcpath(rel));
}

static struct apf_devfacts *load_one(const char *name)
{
	char *path = fixture(name);
	const char *paths[] = {path};
	struct apf_devfacts *f = apf_devfacts_load(paths, 1, 0);

	free(path);
	assert_int_equal(f->n_errors, 0);
	assert_int_equal(f->n, 1);
	return f;
}

static void test_amtinfo_all_fields(void **state)
{
	struct apf_devfacts *f = load_one("amt-01.amtinfo.json");
	const struct apf_device *d = &f->v[0];

	(void)state;
	assert_string_equal(d->name, "amt-01");
	assert_string_equal(d->amt_version, "16.1.27");
	assert_int_equal(d->generation, 16);
	assert_int_equal(d->mode, APF_DEV_MODE_PRE);
	assert_null(d->dns_suffix); /* omitempty: no MEBx suffix */
	assert_null(apf_device_amt_suffix(d));
	assert_string_equal(d->dns_suffix_os, "corp.example.com");
	assert_true(d->has_amtinfo);
	assert_false(d->has_status);
	assert_int_equal(d->n_hashes, 3);
	assert_true(apf_device_has_hash(d, "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f"));
	for (size_t i = 0; i < d->n_hashes; i++) {
		const struct apf_dev_hash *h = &d->hashes[i];

		if (!strcmp(h->name, "Example SHA-384 Root")) {
			assert_string_equal(h->algorithm, "SHA384");
			assert_int_equal(strlen(h->hex), 96);
			assert_int_equal(h->is_default, APF_DEV_NO);
		} else {
			assert_string_equal(h->algorithm, "SHA256");
			assert_int_equal(h->is_default, APF_DEV_YES);
		}
		assert_int_equal(h->is_active, APF_DEV_YES);
	}
	apf_devfacts_free(f);

	f = load_one("amt-02.amtinfo.json");
	d = &f->v[0];
	assert_int_equal(d->mode, APF_DEV_MODE_ACM);
	assert_true(apf_device_activated(d));
	assert_string_equal(apf_device_amt_suffix(d), "vpro.example.com");
	assert_int_equal(d->generation, 18);
	apf_devfacts_free(f);
}

static void test_status_fields(void **state)
{
	struct apf_devfacts *f = load_one("amt-04.status.json");
	const struct apf_device *d = &f->v[0];

	(void)state;
	assert_string_equal(d->name, "amt-04"); /* no host name in status: the file stem */
	assert_true(d->has_status);
	assert_false(d->has_amtinfo);
	assert_int_equal(d->mei_driver, APF_DEV_NO);
	assert_int_equal(d->wired_link, APF_DEV_NO);
	assert_int_equal(d->wireless_link, APF_DEV_NO);
	assert_int_equal(d->ready, APF_DEV_NO);
	assert_int_equal(d->mode, APF_DEV_MODE_PRE); /* alreadyActivated: false */
	assert_string_equal(d->host, "rps.corp.example.com:443");
	assert_int_equal(d->host_reachable, APF_DEV_YES);
	apf_devfacts_free(f);
}

static void test_directory_merges_by_device(void **state)
{
	char *dir = fixture("");
	const char *paths[] = {dir};
	struct apf_devfacts *f = apf_devfacts_load(paths, 1, 0);

	(void)state;
	assert_int_equal(f->n_errors, 0); /* README.md is not read */
	assert_int_equal(f->n_files, 5);
	assert_int_equal(f->n, 4);
	assert_string_equal(f->v[0].name, "amt-01");
	assert_true(f->v[0].has_amtinfo);
	assert_true(f->v[0].has_status);
	assert_int_equal(f->v[0].ready, APF_DEV_YES);
	assert_string_equal(f->v[0].files, "amt-01.amtinfo.json, amt-01.status.json");
	free(dir);
	apf_devfacts_free(f);
}

/* A passed deadline reads nothing and says so, instead of overrunning the check. */
static void test_deadline(void **state)
{
	char *dir = fixture("");
	const char *paths[] = {dir};
	struct apf_devfacts *f = apf_devfacts_load(paths, 1, 1);

	(void)state;
	assert_int_equal(f->n, 0);
	assert_int_equal(f->n_errors, 1);
	assert_int_equal(f->n_files, 0);
	apf_devfacts_free(f);
	free(dir);
}

static void test_text_errors_and_caps(void **state)
{
	struct apf_devfacts *f = NULL;
	struct apf_buf b = {0};
	char *err = NULL;
	const char *text = "# c\nabcdef00112233445566778899aabbccddeeff00 My CA\n";

	(void)state;
	assert_int_equal(apf_devfacts_parse(text, strlen(text), "t.txt", &f, &err), 0);
	assert_string_equal(f->v[0].name, "t");
	assert_string_equal(f->v[0].hashes[0].name, "My CA");
	assert_string_equal(f->v[0].hashes[0].algorithm, "SHA1");
	apf_devfacts_free(f);

	text = "# c\n\nAB CD EF 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00\n";
	assert_int_equal(apf_devfacts_parse(text, strlen(text), "t.txt", &f, &err), -EBADMSG);
	assert_null(f);
	assert_non_null(strstr(err, "line 3"));
	free(err);
	assert_int_equal(apf_devfacts_parse("{\"a\":", 5, "x", &f, &err), -EBADMSG);
	free(err);
	assert_int_equal(apf_devfacts_parse("{\"a\":1}", 7, "x", &f, &err), -EBADMSG);
	free(err);
	assert_int_equal(apf_devfacts_parse("", 0, "x", &f, &err), -EBADMSG);
	free(err);
	for (int i = 0; i <= APF_DEVFACTS_HASHES_MAX; i++)
		apf_buf_addf(&b, "%040x\n", i + 1);
	assert_int_equal(apf_devfacts_parse(b.p, b.len, "big.txt", &f, &err), -E2BIG);
	free(err);
	apf_buf_clear(&b);
}

static void test_names_summary(void **state)
{
	const char *names[] = {"amt-01", "amt-02", "amt-03", "amt-04", "amt-05"};
	char *s;

	(void)state;
	s = apf_names_summary(names, 1, 3);
	assert_string_equal(s, "amt-01");
	free(s);
	s = apf_names_summary(names, 3, 3);
	assert_string_equal(s, "amt-01, amt-02 and amt-03");
	free(s);
	s = apf_names_summary(names, 5, 3);
	assert_string_equal(s, "amt-01, amt-02, amt-03 and 2 more");
	free(s);
}

static struct apf_run *run_with(const char *amt_lines)
{
	char *ini = apf_xasprintf("[amt]\n%s", amt_lines);
	struct apf_run *run = apf_test_run(ID, ini, 0);

	free(ini);
	return run;
}

static void test_check_over_fixtures(void **state)
{
	char *dir = fixture(""), lines[512];
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	snprintf(lines, sizeof(lines), "device_facts = %s\ngenerations = 16\n", dir);
	run = run_with(lines);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "DEVICES_READ", APF_PASS);
	assert_string_equal(apf_test_evidence(f, "devices"), "amt-01, amt-02, amt-03 and 1 more");
	assert_string_equal(apf_test_evidence(f, "amt_generations"), "16, 18");
	f = apf_test_expect(r, "DEVICE_ALREADY_ACTIVATED", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "acm"), "amt-02");
	assert_null(apf_test_evidence(f, "ccm"));
	f = apf_test_expect(r, "DEVICE_NOT_READY", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "no_mei_driver"), "amt-04");
	/* Only amt-02 reports AMT 18, and it is activated: no provisioning candidate, so the
	 * cert.* checks do not target 18 and nothing asks to list it. */
	assert_null(apf_test_find(r, "DEVICE_GENERATION_UNLISTED"));
	/* amt-02 also has the MEBx suffix, but it is activated: only amt-03 is named. */
	f = apf_test_expect(r, "DEVICE_SUFFIX_MEBX", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "amt_dns_suffix"), "vpro.example.com");
	assert_string_equal(apf_test_evidence(f, "devices"), "amt-03");
	assert_null(apf_test_find(r, "DEVICE_SUFFIX_NONE"));
	assert_null(apf_test_find(r, "DEVICE_FILE_UNREADABLE"));
	assert_int_equal(r->status, APF_WARN);
	apf_run_free(run);

	/* Without [amt] generations: say what the candidates report, no WARN for it. */
	snprintf(lines, sizeof(lines), "device_facts = %s\n", dir);
	run = run_with(lines);
	r = apf_test_result(run, ID);
	f = apf_test_expect(r, "DEVICE_GENERATIONS_SEEN", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "reported_generations"), "16");
	assert_null(apf_test_find(r, "DEVICE_GENERATION_UNLISTED"));
	apf_run_free(run);
	free(dir);
}

static void test_no_suffix_and_unreadable(void **state)
{
	const char *tmp = apf_test_tmpdir();
	char path[512], bad[512], status[512], lines[1800];
	FILE *fp;
	struct apf_run *run;
	const struct apf_check_result *r;
	const struct apf_finding *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/pc-9.json", tmp);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"amt\":\"19.0.1\",\"controlMode\":\"not activated\",\"hostnameOS\":\"pc-9\"}", fp);
	fclose(fp);
	snprintf(status, sizeof(status), "%s/pc-9.status.json", tmp);
	fp = fopen(status, "w");
	assert_non_null(fp);
	fputs("{\"meiDriverPresent\":true,\"alreadyActivated\":false,\"wiredLinkUp\":true,"
	      "\"host\":\"rps.corp.example.com:443\",\"hostReachable\":false,\"readyToProvision\":true}", fp);
	fclose(fp);
	snprintf(bad, sizeof(bad), "%s/broken.json", tmp);
	fp = fopen(bad, "w");
	assert_non_null(fp);
	fputs("{\"amt\": ", fp);
	fclose(fp);
	/* One key a line: temporary paths can be long, and a list key may repeat. */
	snprintf(lines, sizeof(lines), "generations = 16\ndevice_facts = %s\ndevice_facts = %s\ndevice_facts = %s\n",
		 path, bad, status);
	run = run_with(lines);
	r = apf_test_result(run, ID);
	/* pc-9 is not activated: its AMT 19 is a target the key does not list. */
	f = apf_test_expect(r, "DEVICE_GENERATION_UNLISTED", APF_INFO);
	assert_string_equal(apf_test_evidence(f, "generation"), "19");
	assert_string_equal(apf_test_evidence(f, "devices"), "pc-9");
	assert_string_equal(apf_test_evidence(f, "configured_generations"), "16");
	f = apf_test_expect(r, "DEVICE_SUFFIX_NONE", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "devices"), "pc-9");
	f = apf_test_expect(r, "DEVICE_SERVER_UNREACHABLE", APF_WARN);
	assert_string_equal(apf_test_evidence(f, "host"), "rps.corp.example.com:443");
	assert_string_equal(apf_test_evidence(f, "devices"), "pc-9");
	f = apf_test_expect(r, "DEVICE_FILE_UNREADABLE", APF_ERROR);
	assert_string_equal(apf_test_evidence(f, "file"), bad);
	assert_int_equal(r->status, APF_ERROR);
	apf_run_free(run);
	remove(path);
	remove(bad);
	remove(status);
}

static void test_skipped_without_keys(void **state)
{
	struct apf_run *run = run_with("generations = 16\n");
	const struct apf_check_result *r = apf_test_result(run, ID);

	(void)state;
	apf_test_expect(r, "CHECK_SKIPPED", APF_SKIP);
	assert_int_equal(r->status, APF_SKIP);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amtinfo_all_fields),
		cmocka_unit_test(test_status_fields),
		cmocka_unit_test(test_directory_merges_by_device),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_text_errors_and_caps),
		cmocka_unit_test(test_names_summary),
		cmocka_unit_test(test_check_over_fixtures),
		cmocka_unit_test(test_no_suffix_and_unreadable),
		cmocka_unit_test(test_skipped_without_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
