/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the DHCP codec: every input is decoded as a packet, as
 * option 81 data and as an option 15 name; a decoded packet's options are
 * read back. Names built from the input that the encoder accepts must decode
 * to the same name (a round-trip property, checked with abort()).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_back(const struct apf_dhcp_msg *m)
{
	struct apf_dhcp_fqdn fq;
	char name[APF_DHCP_NAME_MAX], flags[32];
	const uint8_t *p;
	size_t len;

	(void)apf_dhcp_server_id(m);
	(void)apf_dhcp_type_name(m->type);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len);
	if (p && apf_dhcp_fqdn_decode(p, len, &fq) == 0) {
		if (strlen(fq.name) >= sizeof(fq.name))
			abort();
		apf_dhcp_fqdn_flags_str(fq.flags, flags, sizeof(flags));
	}
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DOMAIN_NAME, &len);
	if (p)
		(void)apf_dhcp_domain_decode(p, len, name, sizeof(name));
}

/* Encodes the input as an option-81 name (wire and ASCII) and checks it survives a round trip. */
static void roundtrip(const uint8_t *data, size_t size)
{
	char in[300];
	uint8_t buf[APF_DHCP_ENCODE_MAX];
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1, len;

	memcpy(in, data, n);
	in[n] = '\0';
	for (int e = 0; e < 2; e++) {
		struct apf_dhcp_req r = {.type = APF_DHCP_DISCOVER, .fqdn = in, .fqdn_flags = e ? APF_FQDN_E : 0};
		struct apf_dhcp_msg *m = NULL;
		struct apf_dhcp_fqdn fq;
		const uint8_t *p;
		size_t flen;

		if (apf_dhcp_encode(&r, buf, sizeof(buf), &len) != 0)
			continue;
		if (apf_dhcp_decode(buf, len, &m) != 0)
			abort(); /* we must decode what we encode */
		p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &flen);
		if (!p)
			abort();
		if (apf_dhcp_fqdn_decode(p, flen, &fq) == 0 && e) {
			/* Plain LDH names come back unchanged (minus a trailing dot). */
			size_t k = strlen(in);
			bool ldh = true;
			for (size_t i = 0; i < k; i++)
				ldh = ldh && ((in[i] >= 'a' && in[i] <= 'z') || (in[i] >= '0' && in[i] <= '9') ||
					      in[i] == '-' || in[i] == '.');
			if (k && in[k - 1] == '.')
				k--;
			if (ldh && (strlen(fq.name) != k || memcmp(fq.name, in, k) != 0))
				abort();
		}
		apf_dhcp_msg_free(m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_dhcp_msg *m = NULL;
	struct apf_dhcp_fqdn fq;
	char name[APF_DHCP_NAME_MAX];

	if (apf_dhcp_decode(data, size, &m) == 0)
		read_back(m);
	apf_dhcp_msg_free(m);
	(void)apf_dhcp_fqdn_decode(data, size, &fq);
	(void)apf_dhcp_domain_decode(data, size, name, sizeof(name));
	if (size < 300)
		roundtrip(data, size);
	return 0;
}
