/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "test_dns_responder.h"

struct dnsr {
	const struct dnsr_rule *rules;
	size_t n;
	unsigned int flags;
	int udp, tcp, stop[2];
	uint16_t port;
	pthread_t th;
	atomic_uint udp_q, tcp_q;
};

static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Builds the answer wire for a query; NULL to stay silent. */
static uint8_t *answer(struct dnsr *r, const uint8_t *q, size_t qlen, bool over_udp, size_t *out_len)
{
	ldns_pkt *qp = NULL, *ap = NULL;
	uint8_t *wire = NULL;
	const ldns_rr *qrr;
	char *qname = NULL;
	uint16_t qtype;
	const struct dnsr_rule *hit = NULL;
	bool known = false;
	unsigned int flags = r->flags;

	if (ldns_wire2pkt(&qp, q, qlen) != LDNS_STATUS_OK || ldns_pkt_qdcount(qp) != 1)
		goto out;
	qrr = ldns_rr_list_rr(ldns_pkt_question(qp), 0);
	qname = ldns_rdf2str(ldns_rr_owner(qrr));
	qtype = (uint16_t)ldns_rr_get_type(qrr);
	for (size_t i = 0; i < r->n; i++) {
		if (!name_eq(r->rules[i].name, qname))
			continue;
		known = true;
		if (r->rules[i].type == qtype) {
			hit = &r->rules[i];
			break;
		}
	}
	if (hit)
		flags |= hit->flags;
	if (flags & DNSR_DROP)
		goto out;
	ap = ldns_pkt_new();
	ldns_pkt_set_id(ap, ldns_pkt_id(qp));
	ldns_pkt_set_qr(ap, true);
	ldns_pkt_set_rd(ap, ldns_pkt_rd(qp));
	ldns_pkt_set_aa(ap, !(flags & DNSR_NOT_AA));
	if (!(flags & DNSR_BARE))
		ldns_pkt_push_rr(ap, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	ldns_pkt_set_rcode(ap, (uint8_t)(hit ? hit->rcode : known ? 0 : 3));
	if (over_udp && (flags & DNSR_TC_UDP)) {
		ldns_pkt_set_tc(ap, true);
	} else if (hit) {
		for (size_t k = 0; k < 8 && hit->rr[k]; k++) {
			ldns_rr *rr = NULL;

			if (ldns_rr_new_frm_str(&rr, hit->rr[k], 300, NULL, NULL) == LDNS_STATUS_OK)
				ldns_pkt_push_rr(ap, LDNS_SECTION_ANSWER, rr);
		}
	}
	if (ldns_pkt2wire(&wire, ap, out_len) != LDNS_STATUS_OK)
		wire = NULL;
out:
	free(qname);
	ldns_pkt_free(qp);
	ldns_pkt_free(ap);
	return wire;
}

static void serve_tcp(struct dnsr *r, int c)
{
	uint8_t hdr[2], buf[65535], out2[2];
	struct pollfd p = {.fd = c, .events = POLLIN};
	size_t len, got = 0, alen;
	uint8_t *a;

	if (poll(&p, 1, 2000) <= 0 || recv(c, hdr, 2, MSG_WAITALL) != 2)
		return;
	len = (size_t)hdr[0] << 8 | hdr[1];
	while (got < len) {
		ssize_t n = recv(c, buf + got, len - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	r->tcp_q++;
	a = answer(r, buf, len, false, &alen);
	if (!a)
		return;
	out2[0] = (uint8_t)(alen >> 8);
	out2[1] = (uint8_t)alen;
	if (send(c, out2, 2, MSG_NOSIGNAL) == 2)
		(void)send(c, a, alen, MSG_NOSIGNAL);
	free(a);
}

static void *loop(void *arg)
{
	struct dnsr *r = arg;
	uint8_t buf[65535];

	for (;;) {
		struct pollfd p[3] = {{.fd = r->stop[0], .events = POLLIN},
				      {.fd = r->udp, .events = POLLIN},
				      {.fd = r->tcp, .events = POLLIN}};

		if (poll(p, r->tcp >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(r->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			size_t alen;
			uint8_t *a;

			if (n > 0) {
				r->udp_q++;
				a = answer(r, buf, (size_t)n, true, &alen);
				if (a)
					(void)sendto(r->udp, a, alen, 0, (struct sockaddr *)&from, fl);
				free(a);
			}
		}
		if (r->tcp >= 0 && (p[2].revents & POLLIN)) {
			int c = accept(r->tcp, NULL, NULL);

			if (c >= 0) {
				serve_tcp(r, c);
				close(c);
			}
		}
	}
	return NULL;
}

struct dnsr *dnsr_start(const struct dnsr_rule *rules, size_t n, unsigned int flags, bool tcp)
{
	struct dnsr *r = calloc(1, sizeof(*r));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	r->rules = rules;
	r->n = n;
	r->flags = flags;
	r->tcp = -1;
	/* UDP takes a free port; TCP must then get the same number, which another
	 * test running in parallel may hold: then try another port. */
	for (int attempt = 0;; attempt++) {
		int one = 1;

		a.sin_port = 0;
		r->udp = socket(AF_INET, SOCK_DGRAM, 0);
		if (r->udp < 0 || bind(r->udp, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(r->udp, (struct sockaddr *)&a, &al) < 0)
			abort();
		r->port = ntohs(a.sin_port);
		if (!tcp)
			break;
		r->tcp = socket(AF_INET, SOCK_STREAM, 0);
		if (r->tcp < 0)
			abort();
		setsockopt(r->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(r->tcp, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(r->tcp, 16) == 0)
			break;
		if (errno != EADDRINUSE || attempt == 50)
			abort();
		close(r->tcp);
		close(r->udp);
		r->tcp = -1;
	}
	if (pipe(r->stop) < 0 || pthread_create(&r->th, NULL, loop, r) != 0)
		abort();
	return r;
}

uint16_t dnsr_port(const struct dnsr *r)
{
	return r->port;
}

unsigned int dnsr_udp_queries(const struct dnsr *r)
{
	return r->udp_q;
}

unsigned int dnsr_tcp_queries(const struct dnsr *r)
{
	return r->tcp_q;
}

void dnsr_stop(struct dnsr *r)
{
	if (!r)
		return;
	(void)write(r->stop[1], "x", 1);
	pthread_join(r->th, NULL);
	close(r->udp);
	if (r->tcp >= 0)
		close(r->tcp);
	close(r->stop[0]);
	close(r->stop[1]);
	free(r);
}

int dnsr_tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

uint16_t dnsr_closed_port(void)
{
	uint16_t port;
	int fd = dnsr_tcp_listener(&port);

	close(fd);
	return port;
}
