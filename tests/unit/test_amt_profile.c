/* SPDX-License-Identifier: MIT */
/* Activation profiles (src/amt_profile.c): the key's values, the Hello question, the suffix rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amt_profile.h"
#include "apf_test.h"

static struct apf_config *parse(const char *ini)
{
	struct apf_config *cfg = NULL;
	char *err = NULL;

	if (apf_config_parse(ini, "t.conf", &cfg, &err))
		fail_msg("config: %s", err);
	return cfg;
}

static void test_table(void **state)
{
	(void)state;
	for (int i = 0; i < APF_PROFILE_COUNT; i++) {
		const struct apf_profile_info *p = apf_profile_info((enum apf_profile)i);

		assert_non_null(p);
		assert_ptr_equal(apf_profile_find(p->name), p);
		assert_non_null(strstr(apf_profile_names(), p->name));
		assert_true(p->source && *p->source);
		assert_true(p->rule < APF_SUFFIX_RULE_COUNT);
	}
	assert_null(apf_profile_info(APF_PROFILE_COUNT));
	assert_ptr_equal(apf_profile_find("RPS"), apf_profile_info(APF_PROFILE_RPS));
	assert_null(apf_profile_find("scs"));
	/* Only remote configuration sends a Hello. */
	assert_true(apf_profile_info(APF_PROFILE_REMOTE_CONFIG)->hello);
	assert_false(apf_profile_info(APF_PROFILE_RPS)->hello);
	assert_int_equal(apf_profile_info(APF_PROFILE_RPS)->rule, APF_SUFFIX_RULE_EXACT);
	assert_int_equal(apf_profile_info(APF_PROFILE_MESHCENTRAL)->rule, APF_SUFFIX_RULE_MESHCENTRAL);
}

static void test_config_answers(void **state)
{
	struct apf_config *cfg = parse("[amt]\ngenerations = 16\n");
	struct apf_profile_rule rules[APF_SUFFIX_RULE_COUNT];
	char *s;

	(void)state;
	/* Not declared: unknown, and the firmware rule alone. */
	assert_false(apf_profile_declared(cfg));
	assert_int_equal(apf_profile_uses_hello(cfg), APF_PROFILE_UNDECLARED);
	assert_int_equal(apf_profile_suffix_rules(cfg, rules), 1);
	assert_int_equal(rules[0].rule, APF_SUFFIX_RULE_FIRMWARE);
	s = apf_profile_declared_str(cfg);
	assert_string_equal(s, "not declared");
	free(s);
	apf_config_free(cfg);

	cfg = parse("[amt]\nactivation = rps, ema, meshcentral, rps\n");
	assert_int_equal(apf_profile_uses_hello(cfg), APF_PROFILE_NO);
	assert_int_equal(apf_profile_suffix_rules(cfg, rules), 3);
	assert_int_equal(rules[0].rule, APF_SUFFIX_RULE_FIRMWARE);
	assert_int_equal(rules[1].rule, APF_SUFFIX_RULE_EXACT);
	assert_string_equal(rules[1].profile, "rps");
	assert_int_equal(rules[2].rule, APF_SUFFIX_RULE_MESHCENTRAL);
	assert_string_equal(rules[2].profile, "meshcentral");
	apf_config_free(cfg);

	cfg = parse("[amt]\nactivation = scs-host-based, remote-config\n");
	assert_int_equal(apf_profile_uses_hello(cfg), APF_PROFILE_YES);
	assert_int_equal(apf_profile_suffix_rules(cfg, rules), 1);
	s = apf_profile_declared_str(cfg);
	assert_string_equal(s, "scs-host-based, remote-config");
	free(s);
	apf_config_free(cfg);
}

static void test_unknown_profile_rejected(void **state)
{
	struct apf_config *cfg = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(apf_config_parse("[amt]\nactivation = rps, scs\n", "t.conf", &cfg, &err), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(err, "t.conf:2"));
	free(err);
	assert_int_equal(apf_config_parse("[amt]\nsuffix_source = bios\n", "t.conf", &cfg, &err), -EINVAL);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_config_answers),
		cmocka_unit_test(test_unknown_profile_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
