/* SPDX-License-Identifier: MIT */
/*
 * The AMT rules take names from the network (DHCP option 15, certificate CNs
 * and issuers from TLS peers and files): any bytes must give an answer, never
 * a crash. Input: "certificate name \n device suffix".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amt_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *nl;
	const char *suffix = "";

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		suffix = nl + 1;
	}
	for (int r = 0; r < APF_SUFFIX_RULE_COUNT; r++)
		(void)apf_amt_suffix_match(text, suffix, (enum apf_suffix_rule)r);
	(void)apf_amt_private_tld(text);
	(void)apf_amt_odca_issued(text);
	(void)apf_amt_server_issued(text);
	(void)apf_amt_hash_is_weak(text);
	free(apf_amt_mebx_hash_new(text));
	{
		const char *gens[2] = {text, suffix};
		struct apf_amt_gen_rules g;
		char buf[64];
		apf_amt_target_rules(gens, 2, &g);
		(void)apf_amt_targets_str(gens, 2, buf, sizeof(buf));
	}
	free(text);
	return 0;
}
