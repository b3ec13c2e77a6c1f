/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the conversion of DNS responses into the project's records
 * (apf_dns_answer_from_wire() in src/net/dns.c, what apf_dns_query() does with
 * every answer): any bytes a server sends are parsed as a wire-format message
 * and converted for the type its question asks (else A). Every record must
 * come out whole: owner and data strings, SRV fields consistent with its text.
 * Violations abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The QTYPE of the first question: what apf_dns_query() would have asked. */
static uint16_t question_type(const uint8_t *d, size_t n)
{
	size_t i = 12;

	if (n < 12 || (d[4] == 0 && d[5] == 0))
		return APF_RR_A;
	while (i < n && d[i] != 0 && d[i] < 64)
		i += (size_t)d[i] + 1;
	if (i < n && d[i] >= 0xC0)
		i++; /* a compression pointer ends the name (2 bytes) */
	if (i + 2 >= n)
		return APF_RR_A;
	return (uint16_t)(d[i + 1] << 8 | d[i + 2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t also[] = {APF_RR_SRV, APF_RR_PTR};
	uint16_t types[3] = {question_type(data, size), also[0], also[1]};

	for (size_t t = 0; t < 3; t++) {
		struct apf_dns_answer *a = NULL;

		if (t && types[t] == types[0])
			continue;
		if (apf_dns_answer_from_wire(data, size, types[t], "192.0.2.1", &a) != 0) {
			if (a)
				abort();
			return 0; /* malformed: refused the same way for every type */
		}
		if (!a->rcode_name || !a->server || (a->n_rr && !a->rr))
			abort();
		for (size_t i = 0; i < a->n_rr; i++) {
			const struct apf_dns_rr *rr = &a->rr[i];
			char head[32];

			if (!rr->owner || !rr->data || (rr->type != types[t] && rr->type != APF_RR_CNAME))
				abort();
			(void)strlen(rr->owner);
			(void)apf_dns_type_name(rr->type);
			if (rr->type == APF_RR_SRV && rr->srv_target) {
				/* The text form starts with the numeric fields as parsed. */
				snprintf(head, sizeof(head), "%u %u %u ", rr->srv_priority, rr->srv_weight, rr->srv_port);
				if (strncmp(rr->data, head, strlen(head)) != 0)
					abort();
			}
		}
		apf_dns_answer_free(a);
	}
	return 0;
}
