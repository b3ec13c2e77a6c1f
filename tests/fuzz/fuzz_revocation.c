/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for what CRL distribution points, OCSP responders and LDAP
 * servers send back: a CRL (DER or PEM), an OCSP response, and the LDAP text
 * the adapter decodes itself (GeneralizedTime, AD's "data NNN"). All of it is
 * hostile network data and must be judged or rejected, never crash or hang.
 *
 * Input: a 2-byte big-endian length L, L bytes of an issuer certificate (DER;
 * anything else leaves no issuer), then the payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/ldap.h"
#include "pki.h"
#include "revocation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_cert *issuer = NULL;
	struct apf_rev_result r;
	const uint8_t *payload;
	size_t ilen, plen;
	char *text;
	unsigned int code;
	time_t t;

	if (size < 2)
		return 0;
	ilen = (size_t)data[0] << 8 | data[1];
	if (ilen > size - 2)
		ilen = size - 2;
	payload = data + 2 + ilen;
	plen = size - 2 - ilen;
	(void)apf_cert_from_der(data + 2, ilen, &issuer);

	apf_rev_check_crl_data(payload, plen, "http://crl.example.test/x.crl", issuer, issuer, &r);
	apf_rev_result_clear(&r);
	apf_rev_check_crl_data(payload, plen, NULL, NULL, issuer, &r);
	apf_rev_result_clear(&r);
	apf_rev_check_ocsp_data(payload, plen, issuer, issuer, &r);
	apf_rev_result_clear(&r);

	text = malloc(plen + 1);
	if (text) {
		memcpy(text, payload, plen);
		text[plen] = '\0';
		(void)apf_ldap_parse_time(text, &t);
		(void)apf_ldap_parse_ad_data(text, &code);
		free(text);
	}
	apf_cert_free(issuer);
	return 0;
}
