/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the security descriptors and SIDs AD returns
 * (nTSecurityDescriptor, objectSid, tokenGroups): parse, evaluate the Enroll
 * right for every SID the descriptor names, and print SIDs and GUIDs. All of
 * it is network data and must be judged or rejected, never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secdesc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_secdesc *sd = NULL;
	struct apf_sid sid, back;
	char buf[APF_SID_STR_MAX], guid[40];
	size_t used;

	/* The bytes as a binary SID, then through its string form and back. */
	if (apf_sid_parse(data, size, &sid, &used) == 0) {
		apf_sid_str(&sid, buf, sizeof(buf));
		if (sid.authority < (1ull << 32) && (apf_sid_from_str(buf, &back) != 0 || !apf_sid_equal(&sid, &back)))
			abort();
		(void)apf_sid_wellknown_name(&sid);
	}
	/* ... and as text. */
	if (size < 256) {
		char *s = malloc(size + 1);
		if (s) {
			memcpy(s, data, size);
			s[size] = '\0';
			(void)apf_sid_from_str(s, &back);
			free(s);
		}
	}
	if (apf_secdesc_parse(data, size, &sd) == 0) {
		struct apf_sid *tok = calloc(sd->n_aces + 1, sizeof(*tok));
		size_t n = 0;
		for (size_t i = 0; tok && i < sd->n_aces; i++) {
			if (sd->aces[i].has_sid)
				tok[n++] = sd->aces[i].sid;
			apf_guid_str(sd->aces[i].object_type, guid, sizeof(guid));
			(void)apf_ace_type_name(sd->aces[i].type);
			(void)apf_access_mask_str(sd->aces[i].mask, guid, sizeof(guid));
		}
		for (size_t i = 0; tok && i < n; i++) {
			size_t idx;
			enum apf_access a = apf_secdesc_check_right(sd, &tok[i], 1, apf_guid_enroll, &idx);
			if (a != APF_ACCESS_NOT_GRANTED && sd->dacl_present && idx >= sd->n_aces)
				abort();
		}
		free(tok);
		apf_secdesc_free(sd);
	}
	return 0;
}
