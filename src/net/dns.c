/* SPDX-License-Identifier: MIT */
/*
 * DNS adapter: one question to one named server, over UDP with retransmits,
 * then TCP when the answer is truncated. Sockets and timeouts are ours (poll
 * against one deadline); ldns builds the query, signs it with TSIG and parses
 * the answer, so hostile packets meet ldns_wire2pkt and never our pointer
 * arithmetic.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "net/dns.h"
#include "net/dnsparse.h"
#include "alloc.h"
#include "util.h"

#define DNS_MAX_NAME_TEXT 1024      /* longer input cannot be a valid name, even escaped */
#define DNS_EDNS_SIZE 1232          /* the DNS flag day 2020 size: no fragmentation */
#define DNS_TSIG_FUDGE 300
#define TSIG_FILE_MAX (64 * 1024)   /* a key file is a few hundred bytes */

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

/* TSIG error field values (RFC 8945 §5.3.2), for evidence when a signature fails. */
static const char *tsig_error_name(unsigned int e)
{
	switch (e) {
	case 0: return "NOERROR";
	case 16: return "BADSIG";
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 22: return "BADTRUNC";
	default: return "unknown";
	}
}

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{APF_RR_A, "A"}, {APF_RR_NS, "NS"}, {APF_RR_CNAME, "CNAME"}, {APF_RR_SOA, "SOA"},
	{APF_RR_PTR, "PTR"}, {APF_RR_TXT, "TXT"}, {APF_RR_AAAA, "AAAA"}, {APF_RR_SRV, "SRV"},
};

const char *apf_dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return "TYPE?";
}

const char *apf_dns_rcode_name(int rcode)
{
	if (rcode >= 0 && (size_t)rcode < sizeof(rcode_names) / sizeof(rcode_names[0]))
		return rcode_names[rcode];
	return "RCODE?";
}

/* Fills `ss` from a numeric address; -EINVAL for anything else (names are never resolved here). */
static int sockaddr_from(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!ip)
		return -EINVAL;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

/* Waits for `events` on fd until the absolute deadline; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = apf_now_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0;
	}
}

/*
 * Checks that a parsed response answers our question: same ID, QR set, one
 * question with our name, type and class. A stray or spoofed packet fails this.
 */
static bool answers_question(const ldns_pkt *resp, const ldns_pkt *query)
{
	const ldns_rr_list *rq = ldns_pkt_question(resp);
	const ldns_rr_list *qq = ldns_pkt_question(query);
	const ldns_rr *a, *b;

	if (ldns_pkt_id(resp) != ldns_pkt_id(query) || !ldns_pkt_qr(resp))
		return false;
	if (!rq || !qq || ldns_rr_list_rr_count(rq) != 1)
		return false;
	a = ldns_rr_list_rr(rq, 0);
	b = ldns_rr_list_rr(qq, 0);
	return ldns_rr_get_type(a) == ldns_rr_get_type(b) && ldns_rr_get_class(a) == ldns_rr_get_class(b) &&
	       ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

/* ID of a raw response, to tell a stray packet (ignored) from a broken answer to us (-EPROTO). */
static bool wire_id_is(const uint8_t *buf, size_t len, uint16_t id)
{
	return len >= 2 && (uint16_t)((buf[0] << 8) | buf[1]) == id;
}

/*
 * UDP exchange with retransmits until `deadline`. On success *resp_wire holds
 * a copy of the response (caller frees) with an ID matching the query.
 * A packet with another ID is ignored, as resolvers do.
 */
static int udp_exchange(const struct sockaddr_storage *ss, socklen_t sslen, const uint8_t *q, size_t qlen,
			uint16_t id, uint64_t deadline, uint8_t **resp_wire, size_t *resp_len, char **err_out)
{
	uint8_t *buf = NULL;
	int fd = -1, rc;
	uint64_t start = apf_now_ms();
	/* Three tries within the budget, none shorter than 300 ms (a WAN round trip). */
	uint64_t interval = deadline > start ? (deadline - start) / 3 : 0;

	if (interval < 300)
		interval = 300;
	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		apf_err_set(err_out, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)ss, sslen) < 0) {
		rc = -errno;
		apf_err_set(err_out, "connect: %s", strerror(errno));
		goto out;
	}
	buf = apf_xmalloc(LDNS_MAX_PACKETLEN);
	for (;;) {
		uint64_t next_send;

		if (apf_now_ms() >= deadline) {
			rc = -ETIMEDOUT;
			apf_err_set(err_out, "no answer within the timeout");
			goto out;
		}
		if (send(fd, q, qlen, 0) < 0 && errno != EAGAIN) {
			rc = -errno;
			apf_err_set(err_out, "send: %s", strerror(errno));
			goto out;
		}
		next_send = apf_now_ms() + interval;
		if (next_send > deadline)
			next_send = deadline;
		for (;;) {
			ssize_t n;

			rc = wait_fd(fd, POLLIN, next_send);
			if (rc == -ETIMEDOUT)
				break; /* retransmit */
			if (rc < 0)
				goto out;
			n = recv(fd, buf, LDNS_MAX_PACKETLEN, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				rc = -errno;
				apf_err_set(err_out, "%s", errno == ECONNREFUSED ? "port unreachable (nothing listens on the DNS port)"
									   : strerror(errno));
				goto out;
			}
			if (!wire_id_is(buf, (size_t)n, id))
				continue;
			*resp_wire = apf_xmalloc((size_t)n);
			memcpy(*resp_wire, buf, (size_t)n);
			*resp_len = (size_t)n;
			rc = 0;
			goto out;
		}
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Reads exactly `len` bytes before the deadline. */
static int read_full(int fd, uint8_t *p, size_t len, uint64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int rc = wait_fd(fd, POLLIN, deadline);

		if (rc < 0)
			return rc;
		n = read(fd, p + got, len - got);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

/* RFC 7766 exchange: 2-byte length prefix both ways, one query per connection. */
static int tcp_exchange(const struct sockaddr_storage *ss, socklen_t sslen, const uint8_t *q, size_t qlen,
			uint64_t deadline, uint8_t **resp_wire, size_t *resp_len, char **err_out)
{
	uint8_t *out = NULL, hdr[2];
	size_t sent = 0, rlen;
	int fd, rc, soerr = 0;
	socklen_t elen = sizeof(soerr);

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		apf_err_set(err_out, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)ss, sslen) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		apf_err_set(err_out, "TCP connect: %s", strerror(errno));
		goto out;
	}
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc < 0) {
		apf_err_set(err_out, "TCP connect: %s", rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0 || soerr) {
		rc = soerr ? -soerr : -errno;
		apf_err_set(err_out, "TCP connect: %s", strerror(-rc));
		goto out;
	}
	out = apf_xmalloc(qlen + 2);
	out[0] = (uint8_t)(qlen >> 8);
	out[1] = (uint8_t)qlen;
	memcpy(out + 2, q, qlen);
	while (sent < qlen + 2) {
		ssize_t n;

		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc < 0)
			goto tcp_err;
		n = send(fd, out + sent, qlen + 2 - sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			rc = -errno;
			goto tcp_err;
		}
		sent += (size_t)n;
	}
	rc = read_full(fd, hdr, 2, deadline);
	if (rc < 0)
		goto tcp_err;
	rlen = (size_t)hdr[0] << 8 | hdr[1];
	if (rlen < 12) {
		rc = -EPROTO;
		apf_err_set(err_out, "TCP answer of %zu bytes is shorter than a DNS header", rlen);
		goto out;
	}
	*resp_wire = apf_xmalloc(rlen);
	rc = read_full(fd, *resp_wire, rlen, deadline);
	if (rc < 0) {
		free(*resp_wire);
		*resp_wire = NULL;
		goto tcp_err;
	}
	*resp_len = rlen;
	rc = 0;
	goto out;
tcp_err:
	apf_err_set(err_out, "TCP exchange: %s", rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
out:
	free(out);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ldns wants "hmac-sha256." (trailing dot) and the long name for HMAC-MD5. */
static char *tsig_alg_ldns(const char *alg)
{
	size_t n = strlen(alg);
	char *s;

	if (strncasecmp(alg, "hmac-md5", 8) == 0)
		return apf_xstrdup("hmac-md5.sig-alg.reg.int.");
	s = apf_xasprintf("%s%s", alg, n && alg[n - 1] == '.' ? "" : ".");
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static char *rdf_text(const ldns_rdf *rdf)
{
	char *s = rdf ? ldns_rdf2str(rdf) : NULL;
	char *r = apf_xstrdup(s ? s : "");

	free(s);
	return r;
}

static void rr_fill(struct apf_dns_rr *o, const ldns_rr *rr)
{
	uint16_t t = (uint16_t)ldns_rr_get_type(rr);

	memset(o, 0, sizeof(*o));
	o->owner = rdf_text(ldns_rr_owner(rr));
	o->type = t;
	o->ttl = ldns_rr_ttl(rr);
	if (t == APF_RR_SRV && ldns_rr_rd_count(rr) == 4) {
		o->srv_priority = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		o->srv_weight = ldns_rdf2native_int16(ldns_rr_rdf(rr, 1));
		o->srv_port = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
		o->srv_target = rdf_text(ldns_rr_rdf(rr, 3));
		o->data = apf_xasprintf("%u %u %u %s", o->srv_priority, o->srv_weight, o->srv_port, o->srv_target);
		return;
	}
	if (ldns_rr_rd_count(rr) == 1) {
		o->data = rdf_text(ldns_rr_rdf(rr, 0));
		return;
	}
	{
		/* Multi-field rdata (SOA, TXT with several strings): the fields joined by spaces. */
		size_t cap = 1, len = 0;
		char *s = apf_xstrdup("");

		for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
			char *f = rdf_text(ldns_rr_rdf(rr, i));
			size_t fl = strlen(f);

			cap = len + fl + 2;
			s = apf_xrealloc(s, cap);
			if (len)
				s[len++] = ' ';
			memcpy(s + len, f, fl + 1);
			len += fl;
			free(f);
		}
		o->data = s;
	}
}

/* Converts a verified ldns response into our answer; keeps RRs of the asked type and CNAMEs. */
static struct apf_dns_answer *answer_from(const ldns_pkt *p, uint16_t type, const char *server)
{
	struct apf_dns_answer *a = apf_xcalloc(1, sizeof(*a));
	const ldns_rr_list *an = ldns_pkt_answer(p);
	size_t n = an ? ldns_rr_list_rr_count(an) : 0;

	a->rcode = (int)ldns_pkt_get_rcode(p);
	a->rcode_name = apf_dns_rcode_name(a->rcode);
	a->authoritative = ldns_pkt_aa(p);
	a->truncated = ldns_pkt_tc(p);
	a->server = apf_xstrdup(server);
	a->rr = n ? apf_xcalloc(n, sizeof(*a->rr)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		uint16_t t = (uint16_t)ldns_rr_get_type(rr);

		if (t == type || t == APF_RR_CNAME)
			rr_fill(&a->rr[a->n_rr++], rr);
	}
	return a;
}

int apf_dns_answer_from_wire(const uint8_t *wire, size_t len, uint16_t type, const char *server,
			     struct apf_dns_answer **out)
{
	ldns_pkt *p = NULL;

	*out = NULL;
	if (apf_dns_wire2pkt(&p, wire, len) < 0)
		return -EPROTO;
	*out = answer_from(p, type, server);
	ldns_pkt_free(p);
	return 0;
}

int apf_dns_query(const struct apf_dns_query_opts *o, const char *name, uint16_t type,
		  struct apf_dns_answer **out, char **err_out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	ldns_rdf *qname = NULL;
	ldns_pkt *query = NULL, *resp = NULL;
	ldns_rdf *query_mac = NULL;
	char *alg = NULL;
	uint8_t *qwire = NULL, *rwire = NULL;
	size_t qlen = 0, rlen = 0;
	uint64_t start = apf_now_ms(), deadline;
	bool over_tcp;
	int rc;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	if (!o || !name || strlen(name) > DNS_MAX_NAME_TEXT || !(qname = ldns_dname_new_frm_str(name))) {
		rc = -EINVAL;
		apf_err_set(err_out, "not a valid DNS name");
		goto out;
	}
	rc = sockaddr_from(o->server, o->port ? o->port : 53, &ss, &sslen);
	if (rc < 0) {
		apf_err_set(err_out, "DNS server \"%.64s\" is not a numeric IP address", o->server ? o->server : "");
		goto out;
	}
	deadline = start + (o->timeout_ms ? o->timeout_ms : 1);
	query = ldns_pkt_query_new(qname, (ldns_rr_type)type, LDNS_RR_CLASS_IN, LDNS_RD);
	qname = NULL; /* owned by the packet now */
	if (!query) {
		rc = -ENOMEM;
		apf_err_set(err_out, "cannot build the query");
		goto out;
	}
	{
		/* Our own entropy: ldns would draw on OpenSSL's per-thread DRBG in every check thread. */
		uint16_t id = 0;

		if (getentropy(&id, sizeof(id)) != 0)
			id = (uint16_t)(apf_now_ms() * 2654435761u >> 16);
		ldns_pkt_set_id(query, id);
	}
	ldns_pkt_set_edns_udp_size(query, DNS_EDNS_SIZE);
	if (o->tsig) {
		ldns_status st;

		alg = tsig_alg_ldns(o->tsig->algorithm);
		st = ldns_pkt_tsig_sign(query, o->tsig->name, o->tsig->secret_b64, DNS_TSIG_FUDGE, alg, NULL);
		if (st != LDNS_STATUS_OK) {
			rc = -EINVAL;
			/* ldns' text names the failing step, never the key material. */
			apf_err_set(err_out, "cannot sign the query with TSIG key %s (%s): %s", o->tsig->name, alg,
				ldns_get_errorstr_by_id(st));
			goto out;
		}
		query_mac = ldns_rr_rdf(ldns_pkt_tsig(query), 3);
	}
	if (ldns_pkt2wire(&qwire, query, &qlen) != LDNS_STATUS_OK) {
		rc = -ENOMEM;
		apf_err_set(err_out, "cannot encode the query");
		goto out;
	}

	over_tcp = o->tcp;
	if (!over_tcp) {
		rc = udp_exchange(&ss, sslen, qwire, qlen, ldns_pkt_id(query), deadline, &rwire, &rlen, err_out);
		if (rc < 0)
			goto out;
		/* A truncated answer is a promise of a full one over TCP, not an answer (RFC 7766). */
		if (rlen >= 3 && (rwire[2] & 0x02)) {
			free(rwire);
			rwire = NULL;
			over_tcp = true;
		}
	}
	if (over_tcp) {
		rc = tcp_exchange(&ss, sslen, qwire, qlen, deadline, &rwire, &rlen, err_out);
		if (rc < 0)
			goto out;
		if (!wire_id_is(rwire, rlen, ldns_pkt_id(query))) {
			rc = -EPROTO;
			apf_err_set(err_out, "TCP answer carries another message ID");
			goto out;
		}
	}
	if (apf_dns_wire2pkt(&resp, rwire, rlen) < 0) {
		rc = -EPROTO;
		apf_err_set(err_out, "malformed answer (%zu bytes)", rlen);
		goto out;
	}
	if (!answers_question(resp, query)) {
		rc = -EPROTO;
		apf_err_set(err_out, "the answer does not match the question asked");
		goto out;
	}
	if (o->tsig) {
		ldns_rr *t = ldns_pkt_tsig(resp);

		if (!t) {
			rc = -EPROTO;
			apf_err_set(err_out, "the answer is not TSIG-signed (rcode %s): the server does not know key %s",
				apf_dns_rcode_name((int)ldns_pkt_get_rcode(resp)), o->tsig->name);
			goto out;
		}
		if (!ldns_pkt_tsig_verify(resp, rwire, rlen, o->tsig->name, o->tsig->secret_b64, query_mac)) {
			const ldns_rdf *e = ldns_rr_rd_count(t) > 5 ? ldns_rr_rdf(t, 5) : NULL;
			unsigned int code = e && ldns_rdf_size(e) == 2 ? ldns_rdf2native_int16(e) : 0;

			rc = -EPROTO;
			apf_err_set(err_out, "TSIG of the answer does not verify with key %s (server TSIG error %s, rcode %s)",
				o->tsig->name, tsig_error_name(code), apf_dns_rcode_name((int)ldns_pkt_get_rcode(resp)));
			goto out;
		}
	}
	*out = answer_from(resp, type, o->server);
	(*out)->over_tcp = over_tcp;
	(*out)->tsig_signed = o->tsig != NULL;
	(*out)->rtt_ms = apf_now_ms() - start;
	rc = 0;
out:
	free(alg);
	free(qwire);
	free(rwire);
	ldns_rdf_deep_free(qname);
	ldns_pkt_free(query);
	ldns_pkt_free(resp);
	return rc;
}

void apf_dns_answer_free(struct apf_dns_answer *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_rr; i++) {
		free(a->rr[i].owner);
		free(a->rr[i].data);
		free(a->rr[i].srv_target);
	}
	free(a->rr);
	free(a->server);
	free(a);
}

char *apf_dns_reverse_name(const char *ip)
{
	unsigned char b[16];
	char *s;

	if (!ip)
		return NULL;
	if (inet_pton(AF_INET, ip, b) == 1)
		return apf_xasprintf("%u.%u.%u.%u.in-addr.arpa.", b[3], b[2], b[1], b[0]);
	if (inet_pton(AF_INET6, ip, b) != 1)
		return NULL;
	s = apf_xmalloc(16 * 4 + sizeof("ip6.arpa."));
	for (int i = 15, k = 0; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		s[k++] = hex[b[i] & 0xf];
		s[k++] = '.';
		s[k++] = hex[b[i] >> 4];
		s[k++] = '.';
		if (i == 0)
			memcpy(s + k, "ip6.arpa.", sizeof("ip6.arpa."));
	}
	return s;
}

int apf_dns_server_parse(const char *spec, char *ip, size_t iplen, uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *host = spec, *p = NULL;
	size_t hl;
	unsigned char tmp[16];

	*port = 53;
	if (!spec || !*spec)
		return -EINVAL;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close)
			return -EINVAL;
		host = spec + 1;
		hl = (size_t)(close - host);
		if (close[1] == ':')
			p = close + 2;
		else if (close[1])
			return -EINVAL;
	} else {
		const char *hash = strchr(spec, '#');

		hl = hash ? (size_t)(hash - spec) : strlen(spec);
		if (hash)
			p = hash + 1;
	}
	if (hl == 0 || hl >= sizeof(buf) || hl >= iplen)
		return -EINVAL;
	memcpy(buf, host, hl);
	buf[hl] = '\0';
	if (inet_pton(AF_INET, buf, tmp) != 1 && inet_pton(AF_INET6, buf, tmp) != 1)
		return -EINVAL;
	if (p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || *end || v < 1 || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	memcpy(ip, buf, hl + 1);
	return 0;
}

/* ---- BIND key files ------------------------------------------------------ */

struct keylex {
	const char *p, *end;
	int line;
	char tok[512];
	bool quoted;
};

/* Next token: a word, a quoted string or one of { } ; . Returns false at EOF or on a bad token. */
static bool lex_next(struct keylex *lx, bool *bad)
{
	size_t n = 0;

	*bad = false;
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end)
			return false;
		if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p = lx->p + 2 <= lx->end ? lx->p + 2 : lx->end;
			continue;
		}
		break;
	}
	lx->quoted = false;
	if (strchr("{};", *lx->p)) {
		lx->tok[0] = *lx->p++;
		lx->tok[1] = '\0';
		return true;
	}
	if (*lx->p == '"') {
		lx->quoted = true;
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
			if (n + 1 >= sizeof(lx->tok)) {
				*bad = true;
				return false;
			}
			lx->tok[n++] = *lx->p++;
		}
		if (lx->p >= lx->end || *lx->p != '"') {
			*bad = true;
			return false;
		}
		lx->p++;
		lx->tok[n] = '\0';
		return true;
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && !strchr("{};\"", *lx->p)) {
		if (n + 1 >= sizeof(lx->tok) || !isprint((unsigned char)*lx->p)) {
			*bad = true;
			return false;
		}
		lx->tok[n++] = *lx->p++;
	}
	lx->tok[n] = '\0';
	return true;
}

static bool is_b64(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/' && *s != '=')
			return false;
	return n > 0;
}

int apf_tsig_load(const char *path, struct apf_tsig **out, char **err_out)
{
	struct apf_tsig *k = NULL;
	struct keylex lx = {0};
	char *text = NULL;
	FILE *f = NULL;
	size_t len;
	bool bad;
	int rc = -EINVAL;
	/* Expected shape: key NAME { algorithm ALG ; secret "B64" ; } ; */
	enum { S_KEY, S_NAME, S_OPEN, S_STMT, S_ALG, S_SECRET, S_SEMI, S_CLOSE_SEMI, S_DONE } st = S_KEY;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	f = apf_fopen_regular(path, &rc);
	if (!f) {
		apf_err_set(err_out, "%s: %s", path, apf_file_strerror(rc, TSIG_FILE_MAX));
		goto out;
	}
	rc = -EINVAL;
	text = apf_xmalloc(TSIG_FILE_MAX + 1);
	len = fread(text, 1, TSIG_FILE_MAX + 1, f);
	if (len > TSIG_FILE_MAX) {
		apf_err_set(err_out, "%s: larger than %d bytes, not a key file", path, TSIG_FILE_MAX);
		goto out;
	}
	lx = (struct keylex){.p = text, .end = text + len, .line = 1};
	k = apf_xcalloc(1, sizeof(*k));
	while (st != S_DONE && lex_next(&lx, &bad)) {
		const char *t = lx.tok;

		switch (st) {
		case S_KEY:
			if (strcmp(t, "key") != 0)
				goto syntax;
			st = S_NAME;
			break;
		case S_NAME:
			if (!lx.quoted && strchr("{};", t[0]))
				goto syntax;
			k->name = apf_xasprintf("%s%s", t, t[0] && t[strlen(t) - 1] == '.' ? "" : ".");
			st = S_OPEN;
			break;
		case S_OPEN:
			if (strcmp(t, "{") != 0)
				goto syntax;
			st = S_STMT;
			break;
		case S_STMT:
			if (strcmp(t, "}") == 0)
				st = S_CLOSE_SEMI;
			else if (strcmp(t, "algorithm") == 0)
				st = S_ALG;
			else if (strcmp(t, "secret") == 0)
				st = S_SECRET;
			else
				goto syntax;
			break;
		case S_ALG:
			if (strchr("{};", t[0]) && !lx.quoted)
				goto syntax;
			free(k->algorithm);
			k->algorithm = apf_xstrdup(t);
			st = S_SEMI;
			break;
		case S_SECRET:
			if (!is_b64(t)) {
				/* Never echo the token: it may be (part of) the secret. */
				apf_err_set(err_out, "%s:%d: the secret is not base64", path, lx.line);
				goto out;
			}
			if (k->secret_b64) {
				explicit_bzero(k->secret_b64, strlen(k->secret_b64));
				free(k->secret_b64);
			}
			k->secret_b64 = apf_xstrdup(t);
			st = S_SEMI;
			break;
		case S_SEMI:
			if (strcmp(t, ";") != 0)
				goto syntax;
			st = S_STMT;
			break;
		case S_CLOSE_SEMI:
			if (strcmp(t, ";") != 0)
				goto syntax;
			st = S_DONE;
			break;
		case S_DONE:
			break;
		}
		continue;
syntax:
		/* The token itself is never echoed: it may be (part of) the secret. */
		apf_err_set(err_out, "%s:%d: unexpected token in a BIND key file (want: key NAME { algorithm ALG; secret \"...\"; };)",
			path, lx.line);
		goto out;
	}
	if (bad) {
		apf_err_set(err_out, "%s:%d: unterminated string or overlong token", path, lx.line);
		goto out;
	}
	if (st != S_DONE) {
		apf_err_set(err_out, "%s:%d: incomplete key statement", path, lx.line);
		goto out;
	}
	if (!k->algorithm || !k->secret_b64) {
		apf_err_set(err_out, "%s: key %s lacks %s", path, k->name, !k->algorithm ? "an algorithm" : "a secret");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	explicit_bzero(&lx, sizeof(lx));
	if (text) {
		explicit_bzero(text, TSIG_FILE_MAX + 1);
		free(text);
	}
	if (f)
		fclose(f);
	apf_tsig_free(k);
	return rc;
}

void apf_tsig_free(struct apf_tsig *k)
{
	if (!k)
		return;
	if (k->secret_b64) {
		explicit_bzero(k->secret_b64, strlen(k->secret_b64));
		free(k->secret_b64);
	}
	free(k->name);
	free(k->algorithm);
	free(k);
}
