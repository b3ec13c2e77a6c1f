/* SPDX-License-Identifier: MIT */
/* The registry's invariants, and docs/checks/<id>.md documenting every check and code. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "config.h"
#include "registry.h"
#include "runner.h"
#include "util.h"

static bool id_ok(const char *id)
{
	const char *dot = strchr(id, '.');

	if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.'))
		return false;
	for (const char *p = id; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	}
	return true;
}

static bool code_ok(const char *c)
{
	if (!isupper((unsigned char)*c))
		return false;
	for (; *c; c++) {
		if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
			return false;
	}
	return true;
}

static void test_ids_sorted_unique_and_complete(void **state)
{
	size_t n = apf_registry_count();

	assert_true(n >= 13);
	for (size_t i = 0; i < n; i++) {
		const struct apf_check *c = apf_registry_at(i);
		if (!id_ok(c->id))
			fail_msg("bad check id '%s'", c->id);
		if (i > 0 && strcmp(apf_registry_at(i - 1)->id, c->id) >= 0)
			fail_msg("registry not sorted at %s", c->id);
		assert_non_null(c->title);
		assert_non_null(c->summary);
		assert_non_null(c->run);
		assert_non_null(c->codes);
		assert_true(c->timeout_ms >= 1000);
		assert_ptr_equal(apf_registry_find(c->id), c);
		for (const char *const *k = c->requires_keys; k && *k; k++) {
			if (!apf_cfg_key_find(*k))
				fail_msg("%s requires unknown config key %s", c->id, *k);
		}
		for (const char *const *d = c->requires_checks; d && *d; d++) {
			if (!apf_registry_find(*d))
				fail_msg("%s requires unknown check %s", c->id, *d);
		}
		for (const char *const *d = c->after; d && *d; d++) {
			if (!apf_registry_find(*d))
				fail_msg("%s runs after unknown check %s", c->id, *d);
		}
	}
	assert_null(apf_registry_find("no.such"));
}

static void test_codes_unique_and_described(void **state)
{
	for (size_t i = 0; i < apf_registry_count(); i++) {
		const struct apf_check *c = apf_registry_at(i);
		for (const struct apf_code *k = c->codes; k->code; k++) {
			const struct apf_check *owner = NULL;
			if (!code_ok(k->code))
				fail_msg("%s: code '%s' is not UPPER_SNAKE", c->id, k->code);
			assert_non_null(k->meaning);
			assert_true((unsigned)k->status < APF_STATUS_COUNT);
			/* One owner per code: explain CODE and the docs rely on it. */
			if (apf_registry_find_code(k->code, &owner) != k || owner != c)
				fail_msg("code %s of %s is also declared by %s", k->code, c->id, owner ? owner->id : "?");
			for (const struct apf_code *r = apf_runner_codes; r->code; r++) {
				if (!strcmp(r->code, k->code))
					fail_msg("%s redefines runner code %s", c->id, k->code);
			}
		}
	}
}

static void test_every_check_and_code_documented(void **state)
{
	const char *root = getenv("APF_SOURCE_ROOT");

	assert_non_null(root);
	for (size_t i = 0; i < apf_registry_count(); i++) {
		const struct apf_check *c = apf_registry_at(i);
		char path[4096];
		unsigned char *doc = NULL;
		size_t len;
		snprintf(path, sizeof(path), "%s/docs/checks/%s.md", root, c->id);
		if (apf_read_file(path, 1 << 20, &doc, &len) != 0)
			fail_msg("missing %s", path);
		for (const struct apf_code *k = c->codes; k->code; k++) {
			if (!strstr((char *)doc, k->code))
				fail_msg("docs/checks/%s.md does not document %s", c->id, k->code);
		}
		free(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_sorted_unique_and_complete),
		cmocka_unit_test(test_codes_unique_and_described),
		cmocka_unit_test(test_every_check_and_code_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
