/* SPDX-License-Identifier: MIT */
/*
 * The fleet engine's answer parser (src/net/dnswire.c): whatever a server or
 * a spoofer sends, it yields records or -EPROTO, never a crash. The first byte
 * picks the record type asked for (A, AAAA or PTR), the rest is the message.
 */
#include <stdint.h>
#include <stdlib.h>

#include "net/dns.h"
#include "net/dnswire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = {APF_RR_A, APF_RR_AAAA, APF_RR_PTR};
	struct apf_dns_rdata *rd = NULL;
	size_t n = 0;

	if (size < 1)
		return 0;
	if (apf_dns_wire_answers(data + 1, size - 1, types[data[0] % 3], &rd, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			free(apf_dns_wire_name_text(rd[i].data, rd[i].len));
	}
	apf_dns_rdata_free(rd, n);
	return 0;
}
