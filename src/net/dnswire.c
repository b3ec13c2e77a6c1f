/* SPDX-License-Identifier: MIT */
/* DNS message parsing through ldns for callers that do their own I/O (see dnswire.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "alloc.h"
#include "net/dnsparse.h"
#include "net/dnswire.h"

_Static_assert(APF_DNS_MSG_MAX == LDNS_MAX_PACKETLEN, "APF_DNS_MSG_MAX is ldns' largest message");

/* Whether ldns_wire2pkt would read two TSIG records from the message. Walks it
 * with ldns_wire2rr, the way ldns_wire2pkt does (including its lowering of the
 * additional count after each TSIG), so that both agree on where every record
 * starts. Only messages holding the TSIG type (00 FA) twice are walked. */
static bool duplicate_tsig(const uint8_t *w, size_t len)
{
	static const uint8_t tsig_type[2] = {0, LDNS_RR_TYPE_TSIG};
	const uint8_t *first;
	size_t pos = LDNS_HEADER_SIZE, qd, an, before_ar, arcount;
	unsigned int tsig = 0;

	if (len < LDNS_HEADER_SIZE || !(first = memmem(w, len, tsig_type, 2)) ||
	    !memmem(first + 1, len - (size_t)(first + 1 - w), tsig_type, 2))
		return false;
	qd = LDNS_QDCOUNT(w);
	an = qd + LDNS_ANCOUNT(w);
	before_ar = an + LDNS_NSCOUNT(w);
	arcount = LDNS_ARCOUNT(w);
	for (size_t i = 0; i < before_ar + arcount; i++) {
		ldns_pkt_section sec = i < qd ? LDNS_SECTION_QUESTION
				       : i < an ? LDNS_SECTION_ANSWER
				       : i < before_ar ? LDNS_SECTION_AUTHORITY
						       : LDNS_SECTION_ADDITIONAL;
		ldns_rr *rr = NULL;
		bool is_tsig;

		if (ldns_wire2rr(&rr, w, len, &pos, sec) != LDNS_STATUS_OK)
			return false; /* ldns_wire2pkt refuses it too */
		is_tsig = sec == LDNS_SECTION_ADDITIONAL && ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG;
		ldns_rr_free(rr);
		if (is_tsig && ++tsig > 1)
			return true;
		if (is_tsig)
			arcount--;
	}
	return false;
}

int apf_dns_wire2pkt(ldns_pkt **out, const uint8_t *wire, size_t len)
{
	*out = NULL;
	if (duplicate_tsig(wire, len) || ldns_wire2pkt(out, wire, len) != LDNS_STATUS_OK) {
		*out = NULL;
		return -EPROTO;
	}
	return 0;
}

int apf_dns_wire_answers(const uint8_t *wire, size_t len, uint16_t type, struct apf_dns_rdata **out, size_t *n)
{
	ldns_pkt *p = NULL;
	const ldns_rr_list *an;
	size_t count;
	int rc = 0;

	*out = NULL;
	*n = 0;
	rc = apf_dns_wire2pkt(&p, wire, len);
	if (rc < 0)
		goto out;
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
