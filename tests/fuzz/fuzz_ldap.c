/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for LDAP result handling (src/net/ldap.c): the decoding of a
 * search entry's attributes and values under the byte budget, the LDAP URLs
 * that certificates and referrals carry, and AD's "data NNN" diagnostics.
 *
 * Input: one selector byte, then the payload:
 *   0: a SearchResultEntry protocolOp (RFC 4511 4.5.2: [APPLICATION 4] { dn,
 *      attributes }), read as libldap's ldap_get_dn_ber() reads it, then
 *      decoded by apf_ldap_decode_attrs() with a small budget;
 *   1: an LDAP URL (apf_ldap_url_host());
 *   2: a server diagnostic message (apf_ldap_parse_ad_data()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ldap.h"
#include "net/ldap_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void entry(const uint8_t *p, size_t n)
{
	struct berval bv = {.bv_len = n, .bv_val = (char *)p}, dn = {0};
	struct apf_ldap_result *r = calloc(1, sizeof(*r));
	size_t budget = 64 * 1024;
	/* liblber reads through a NULL buffer for an empty element: none is ever passed in */
	BerElement *ber = n ? ber_init(&bv) : NULL;
	ber_len_t len;

	if (!ber || !r || !(r->entries = calloc(1, sizeof(*r->entries))))
		goto out;
	r->n_entries = 1;
	if (ber_scanf(ber, "{ml{", &dn, &len) != LBER_ERROR && apf_ldap_decode_attrs(ber, r->entries, &budget) == 0) {
		/* the lookups the checks make on what came back */
		(void)apf_ldap_entry_str(r->entries, "cACertificate");
		(void)apf_ldap_attr_has(apf_ldap_entry_attr(r->entries, "objectClass"), "top");
	}
out:
	apf_ldap_result_free(r);
	if (ber)
		ber_free(ber, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	if (data[0] % 3 == 0) {
		entry(data + 1, size - 1);
		return 0;
	}
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] % 3 == 1) {
		char *host = NULL;
		uint16_t port = 0;
		bool ldaps = false;
		if (apf_ldap_url_host(text, &host, &port, &ldaps) == 0 && host && !*host)
			abort(); /* an empty host is reported as none */
		free(host);
	} else {
		unsigned int code = 0;
		if (apf_ldap_parse_ad_data(text, &code))
			(void)apf_ldap_ad_data_text(code);
	}
	free(text);
	return 0;
}
