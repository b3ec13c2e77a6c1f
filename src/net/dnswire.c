/* SPDX-License-Identifier: MIT */
/* DNS message parsing through ldns for callers that do their own I/O (see dnswire.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "alloc.h"
#include "net/dnswire.h"

_Static_assert(APF_DNS_MSG_MAX == LDNS_MAX_PACKETLEN, "APF_DNS_MSG_MAX is ldns' largest message");

int apf_dns_wire_answers(const uint8_t *wire, size_t len, uint16_t type, struct apf_dns_rdata **out, size_t *n)
{
	ldns_pkt *p = NULL;
	const ldns_rr_list *an;
	size_t count;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK) {
		rc = -EPROTO;
		goto out;
	}
	an = ldns_pkt_answer(p);
	count = an ? ldns_rr_list_rr_count(an) : 0;
	for (size_t i = 0; i < count; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		const ldns_rdf *d = ldns_rr_rdf(rr, 0);

		if (ldns_rr_get_type(rr) != type || !d)
			continue;
		if (!*out)
			*out = apf_xcalloc(count, sizeof(**out));
		(*out)[*n].len = ldns_rdf_size(d);
		(*out)[*n].data = apf_xmalloc((*out)[*n].len ? (*out)[*n].len : 1);
		memcpy((*out)[*n].data, ldns_rdf_data(d), (*out)[*n].len);
		(*n)++;
	}
out:
	ldns_pkt_free(p);
	return rc;
}

void apf_dns_rdata_free(struct apf_dns_rdata *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

char *apf_dns_wire_name_text(const uint8_t *wire, size_t len)
{
	ldns_rdf *rdf = NULL;
	char *t = NULL, *r = NULL;
	size_t pos = 0;

	/* Re-read through ldns' own name parser: it validates labels and lengths. */
	if (ldns_wire2dname(&rdf, wire, len, &pos) != LDNS_STATUS_OK || pos != len)
		goto out;
	t = ldns_rdf2str(rdf);
	if (t)
		r = apf_xstrdup(t);
out:
	free(t);
	ldns_rdf_deep_free(rdf);
	return r;
}
