/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the certificate loader: whatever an admin (or an attacker
 * who planted a file) hands us as a PFX, PEM, DER or PKCS#7
 * must be rejected or modelled, never crash or hang. The password is fixed, so
 * PKCS#12 inputs made with it reach the decryption and certificate parsing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apf_pki_bundle *b = NULL;
	struct apf_cert **certs = NULL;
	size_t n = 0;
	char *err = NULL;

	if (apf_pki_load_data(data, size, "test-pw", &b, &err) == 0) {
		struct apf_chain ch;
		apf_chain_build(b->certs[b->leaf], b->certs, b->n, time(NULL), &ch);
		apf_chain_clear(&ch);
	}
	apf_pki_bundle_free(b);
	free(err);
	if (apf_certs_from_data(data, size, &certs, &n) == 0 && n > 1)
		(void)apf_cert_issued_by(certs[0], certs[1]);
	apf_certs_free(certs, n);
	return 0;
}
