/* SPDX-License-Identifier: MIT */
/*
 * The fleet engine. What makes it fast (bench/README.md has the figures):
 * - one thread and epoll; W slots, each holding one host's query in flight;
 * - the DNS ID is the slot number (XOR a per-run salt), so an answer finds its
 *   slot in O(1), and the echoed question is compared byte for byte before
 *   anything is parsed: stray, late or spoofed packets cost a memcmp;
 * - queries are encoded by hand into the slot (no ldns_pkt2wire compression
 *   tree, no mallocs); answers are parsed by ldns through src/net/dnswire.c
 *   (robust against hostile packets) and names compared in wire form, never
 *   as strings;
 * - A then PTR are pipelined in the same slot.
 * What keeps it polite and correct: a window, a token-bucket rate cap, a
 * window that halves on loss and regrows per answer, an RTT-based retransmit
 * timer with exponential back-off, and TC=1 answers re-asked over TCP (never taken as an answer:
 * servers with response-rate limiting send TC instead of dropping).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#include "dnsfleet.h"
#include "net/dns.h"
#include "net/dnswire.h"
#include "alloc.h"
#include "util.h"

#define FLEET_LINE_MAX 1024
#define FLEET_WINDOW_MAX 4096
#define FLEET_SOCKETS 4
#define QBUF 300 /* header 12 + name 255 + 4 + OPT 11 */
#define EDNS_SIZE 1232
#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3

static const char *const verdict_names[APF_FLEET_VERDICT_COUNT] = {
	[APF_FLEET_PENDING] = "PENDING",
	[APF_FLEET_OK] = "OK",
	[APF_FLEET_NO_A] = "NO_A",
	[APF_FLEET_A_MISMATCH] = "A_MISMATCH",
	[APF_FLEET_NO_PTR] = "NO_PTR",
	[APF_FLEET_PTR_MISMATCH] = "PTR_MISMATCH",
	[APF_FLEET_TIMEOUT] = "TIMEOUT",
	[APF_FLEET_SERVER_ERROR] = "SERVER_ERROR",
};

const char *apf_fleet_verdict_name(enum apf_fleet_verdict v)
{
	return (unsigned)v < APF_FLEET_VERDICT_COUNT ? verdict_names[v] : "?";
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- hosts file ---------------------------------------------------------- */

/*
 * Host name to lower-cased wire form. Only LDH labels (plus '_', which
 * Windows DNS tolerates): a hosts file is the admin's list of AMT FQDNs, so
 * anything else is a mistake or hostile. Returns wire length or -1 with *why.
 */
static int name_to_wire(const char *name, uint8_t *wire, size_t cap, const char **why)
{
	size_t len = 0, lab = 0, labstart = 0;

	if (!*name || strcmp(name, ".") == 0) {
		*why = "empty host name";
		return -1;
	}
	for (const char *p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			if (lab == 0) {
				if (*p == '\0' && p != name && p[-1] == '.')
					break; /* trailing dot */
				*why = "empty label in host name";
				return -1;
			}
			wire[labstart] = (uint8_t)lab;
			lab = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			*why = "host name has a character other than letters, digits, '-', '_' and '.'";
			return -1;
		}
		if (lab == 0) {
			labstart = len++;
			if (len >= cap) {
				*why = "host name longer than 253 characters";
				return -1;
			}
		}
		if (++lab > 63) {
			*why = "label longer than 63 characters";
			return -1;
		}
		if (len + 1 >= cap) {
			*why = "host name longer than 253 characters";
			return -1;
		}
		wire[len++] = (uint8_t)tolower((unsigned char)*p);
	}
	wire[len++] = 0;
	if (len > 255) {
		*why = "host name longer than 253 characters";
		return -1;
	}
	return (int)len;
}

static void host_fill(struct apf_fleet_host *h, const char *name, const uint8_t *wire, int wl)
{
	h->name = apf_xstrdup(name);
	h->wire = apf_xmalloc((size_t)wl);
	memcpy(h->wire, wire, (size_t)wl);
	h->wire_len = (uint16_t)wl;
	h->rcode = -1;
}

int apf_fleet_host_init(struct apf_fleet_host *h, const char *name, const char **why)
{
	uint8_t wire[256];
	int wl = name_to_wire(name, wire, sizeof(wire), why);

	if (wl < 0)
		return -EINVAL;
	host_fill(h, name, wire, wl);
	return 0;
}

/* Reads one line into buf (cap FLEET_LINE_MAX); 1 ok, 0 EOF, -1 too long, -2 binary. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len_out)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(f)) != EOF) {
		if (c == '\n')
			break;
		if (c == '\0' || (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return -2;
		if (n + 1 >= cap)
			return -1;
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	while (n && (buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	*len_out = n;
	return 1;
}

void apf_fleet_list_free(struct apf_fleet_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->h[i].name);
		free(l->h[i].wire);
		free(l->h[i].found);
	}
	free(l->h);
	free(l);
}

int apf_fleet_hosts_load(const char *path, size_t max_hosts, struct apf_fleet_list **out, char **err_out)
{
	struct apf_fleet_list *l = apf_xcalloc(1, sizeof(*l));
	char line[FLEET_LINE_MAX];
	size_t cap = 0, len;
	unsigned int lineno = 0;
	FILE *f;
	int rc = 0, r;

	*out = NULL;
	f = apf_fopen_regular(path, &rc);
	if (!f) {
		apf_err_set(err_out, "%s: %s", path, apf_file_strerror(rc, 0));
		goto out;
	}
	while ((r = read_line(f, line, sizeof(line), &len)) != 0) {
		char *p = line, *name, *addr, *extra;
		uint8_t wire[256];
		const char *why = NULL;
		struct apf_fleet_host *h;
		int wl;

		lineno++;
		if (r == -1 || r == -2) {
			rc = -EINVAL;
			apf_err_set(err_out, "%s:%u: %s", path, lineno,
				r == -1 ? "line longer than 1023 bytes" : "control or binary byte (not a text file of host names)");
			goto out;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		name = strtok_r(p, " \t", &p);
		addr = strtok_r(NULL, " \t", &p);
		extra = strtok_r(NULL, " \t", &p);
		if (extra && extra[0] != '#') {
			rc = -EINVAL;
			apf_err_set(err_out, "%s:%u: more than two fields (want: FQDN [address])", path, lineno);
			goto out;
		}
		if (addr && addr[0] == '#')
			addr = NULL;
		wl = name_to_wire(name, wire, sizeof(wire), &why);
		if (wl < 0) {
			rc = -EINVAL;
			apf_err_set(err_out, "%s:%u: %s", path, lineno, why);
			goto out;
		}
		if (l->n >= max_hosts) {
			rc = -EINVAL;
			apf_err_set(err_out, "%s:%u: more than %zu hosts", path, lineno, max_hosts);
			goto out;
		}
		if (l->n == cap) {
			cap = cap ? cap * 2 : 256;
			l->h = apf_xrealloc(l->h, cap * sizeof(*l->h));
		}
		h = &l->h[l->n];
		memset(h, 0, sizeof(*h));
		if (addr) {
			if (inet_pton(AF_INET, addr, h->expect) == 1) {
				h->expect_af = AF_INET;
			} else if (inet_pton(AF_INET6, addr, h->expect) == 1) {
				h->expect_af = AF_INET6;
			} else {
				rc = -EINVAL;
				apf_err_set(err_out, "%s:%u: second field is not an IPv4 or IPv6 address", path, lineno);
				goto out;
			}
		}
		host_fill(h, name, wire, wl);
		h->line = lineno;
		l->n++;
	}
	if (ferror(f)) {
		rc = -EIO;
		apf_err_set(err_out, "%s: read error", path);
		goto out;
	}
	*out = l;
	l = NULL;
out:
	if (f)
		fclose(f);
	apf_fleet_list_free(l);
	return rc;
}

const char *apf_fleet_addr_text(const struct apf_fleet_host *h, char *buf, size_t len)
{
	if (!h->addr_af || !inet_ntop(h->addr_af, h->addr, buf, (socklen_t)len))
		buf[0] = '\0';
	return buf;
}

const char *apf_fleet_expect_text(const struct apf_fleet_host *h, char *buf, size_t len)
{
	if (!h->expect_af || !inet_ntop(h->expect_af, h->expect, buf, (socklen_t)len))
		buf[0] = '\0';
	return buf;
}

/* ---- the engine ---------------------------------------------------------- */

enum slot_state { SLOT_FREE, SLOT_UDP, SLOT_TCP_CONNECT, SLOT_TCP_READ };

struct slot {
	enum slot_state state;
	uint32_t host;
	uint16_t qtype;
	uint8_t tries;
	uint64_t expire;
	uint64_t sent_us; /* first try, for RTT samples (Karn: retried queries give none) */
	uint16_t qlen;  /* whole query */
	uint16_t qsect; /* question section length (name + type + class) */
	uint8_t q[QBUF];
	/* TCP fallback */
	int tcp_fd;
	uint8_t *tbuf;
	size_t tlen, tgot;
};

struct engine {
	const struct apf_fleet_opts *o;
	struct apf_fleet_list *l;
	struct apf_fleet_stats *st;
	struct sockaddr_storage ss;
	socklen_t sslen;
	int ep;
	int sock[FLEET_SOCKETS];
	struct slot *slots;
	uint32_t *freelist;
	unsigned int nfree, window, cwnd, active;
	uint16_t salt;
	size_t next_host, done;
	uint64_t next_expiry;
	double tokens;
	uint64_t tokens_at;
	/* RFC 6298-style retransmission timer, in microseconds; 0 until the first sample. */
	uint64_t srtt_us, rttvar_us;
	uint8_t *rbuf;
	int refused; /* an errno when the kernel reported the server unreachable (ICMP), else 0 */
	unsigned int silent_run; /* queries in a row that ran out of retries, no answer in between */
};

#define EV_TCP (1ull << 32)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Encodes the one-question query into the slot: RD set (clients ask recursive servers), EDNS0. */
static void encode_query(struct engine *e, unsigned int idx, const uint8_t *qname, size_t qnlen, uint16_t qtype)
{
	struct slot *s = &e->slots[idx];
	uint8_t *p = s->q;

	put16(p, (uint16_t)(idx ^ e->salt));
	p[2] = 0x01; /* RD */
	p[3] = 0x00;
	put16(p + 4, 1);
	put16(p + 6, 0);
	put16(p + 8, 0);
	put16(p + 10, 1);
	memcpy(p + 12, qname, qnlen);
	put16(p + 12 + qnlen, qtype);
	put16(p + 14 + qnlen, 1); /* IN */
	s->qsect = (uint16_t)(qnlen + 4);
	p += 12 + s->qsect;
	/* OPT: root name, type 41, class = UDP size, TTL 0, rdlen 0 */
	p[0] = 0;
	put16(p + 1, 41);
	put16(p + 3, EDNS_SIZE);
	memset(p + 5, 0, 6);
	s->qlen = (uint16_t)(12 + s->qsect + 11);
	s->qtype = qtype;
}

/* Reverse name of a binary address in wire form; returns its length. */
static size_t reverse_wire(int af, const uint8_t *a, uint8_t *w)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (af == AF_INET) {
		for (int i = 3; i >= 0; i--) {
			int len = snprintf((char *)w + n + 1, 4, "%u", a[i]);
			w[n] = (uint8_t)len;
			n += 1 + (size_t)len;
		}
		/* 14 bytes: the literal's NUL is the root label. */
		memcpy(w + n, "\x07in-addr\x04" "arpa", 14);
		return n + 14;
	}
	for (int i = 15; i >= 0; i--) {
		w[n++] = 1;
		w[n++] = (uint8_t)hex[a[i] & 0xf];
		w[n++] = 1;
		w[n++] = (uint8_t)hex[a[i] >> 4];
	}
	memcpy(w + n, "\x03ip6\x04" "arpa", 10); /* with the root label, as above */
	return n + 10;
}

static void finish(struct engine *e, unsigned int idx, enum apf_fleet_verdict v, int rcode)
{
	struct slot *s = &e->slots[idx];
	struct apf_fleet_host *h = &e->l->h[s->host];

	h->verdict = v;
	if (v != APF_FLEET_OK) {
		h->failed_type = s->qtype;
		h->rcode = rcode;
	}
	if (s->tcp_fd >= 0) {
		close(s->tcp_fd);
		s->tcp_fd = -1;
	}
	free(s->tbuf);
	s->tbuf = NULL;
	s->state = SLOT_FREE;
	e->freelist[e->nfree++] = idx;
	e->active--;
	e->done++;
	if (e->st)
		e->st->counts[v]++;
}

static bool take_token(struct engine *e, uint64_t now)
{
	double burst;

	if (!e->o->rate_limit)
		return true;
	/* A burst of 1/50 s worth keeps the rate smooth without starving a small window. */
	burst = e->o->rate_limit / 50.0 < 1 ? 1 : e->o->rate_limit / 50.0;
	e->tokens += (double)(now - e->tokens_at) * e->o->rate_limit / 1000.0;
	e->tokens_at = now;
	if (e->tokens > burst)
		e->tokens = burst;
	if (e->tokens < 1)
		return false;
	e->tokens -= 1;
	return true;
}

/*
 * Retransmission timeout: the configured first-try timeout until RTTs have
 * been measured, then srtt + 4 rttvar (RFC 6298), at least twice the smoothed
 * RTT and 50 ms, at most the configured value; doubled per retry. A lost
 * packet on a fast path then costs tens of milliseconds, not the whole timeout.
 */
static uint64_t try_timeout(const struct engine *e, unsigned int tries)
{
	uint64_t t = e->o->timeout_ms ? e->o->timeout_ms : 800;

	if (e->srtt_us) {
		uint64_t rto = (e->srtt_us + 4 * e->rttvar_us) / 1000;

		if (rto < 2 * e->srtt_us / 1000)
			rto = 2 * e->srtt_us / 1000;
		if (rto < 50)
			rto = 50;
		if (rto < t)
			t = rto;
	}
	return t << (tries > 4 ? 4 : tries);
}

static void rtt_sample(struct engine *e, const struct slot *s)
{
	uint64_t r = mono_us() - s->sent_us;

	if (s->tries || s->state != SLOT_UDP)
		return;
	if (!e->srtt_us) {
		e->srtt_us = r;
		e->rttvar_us = r / 2;
		return;
	}
	e->rttvar_us = (3 * e->rttvar_us + (r > e->srtt_us ? r - e->srtt_us : e->srtt_us - r)) / 4;
	e->srtt_us = (7 * e->srtt_us + r) / 8;
}

/*
 * A connected UDP socket reports the server's ICMP port (or host) unreachable
 * as ECONNREFUSED (EHOSTUNREACH, ENETUNREACH) on the next send or recv. Every
 * query to that server would meet the same fate, so the run ends at once
 * rather than retransmitting every host's queries until the deadline.
 */
static void note_refusal(struct engine *e, int err)
{
	if (!e->refused && (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH))
		e->refused = err;
}

static void udp_send(struct engine *e, unsigned int idx, uint64_t now)
{
	struct slot *s = &e->slots[idx];

	/* A failed send (buffer full) is just a lost packet: the timer retries it. */
	if (send(e->sock[idx % FLEET_SOCKETS], s->q, s->qlen, 0) < 0)
		note_refusal(e, errno);
	s->state = SLOT_UDP;
	s->expire = now + try_timeout(e, s->tries);
	if (s->expire < e->next_expiry)
		e->next_expiry = s->expire;
}

static void start_query(struct engine *e, unsigned int idx, const uint8_t *qname, size_t qnlen, uint16_t qtype,
			uint64_t now)
{
	encode_query(e, idx, qname, qnlen, qtype);
	e->slots[idx].tries = 0;
	e->slots[idx].sent_us = mono_us();
	if (e->st)
		e->st->queries++;
	udp_send(e, idx, now);
}

static bool wire_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return false;
	return true;
}

static void tcp_start(struct engine *e, unsigned int idx, uint64_t now);

/* Classifies a validated answer for slot idx: either finishes the host or moves it on to its PTR. */
static void handle_answer(struct engine *e, unsigned int idx, const uint8_t *buf, size_t len, uint64_t now)
{
	struct slot *s = &e->slots[idx];
	struct apf_fleet_host *h = &e->l->h[s->host];
	int rcode = buf[3] & 0x0f;
	struct apf_dns_rdata *rd = NULL;
	size_t n = 0;

	e->silent_run = 0;
	if (e->cwnd < e->window)
		e->cwnd++;
	rtt_sample(e, s);
	if (rcode == RCODE_NXDOMAIN) {
		finish(e, idx, s->qtype == APF_RR_PTR ? APF_FLEET_NO_PTR : APF_FLEET_NO_A, rcode);
		return;
	}
	if (rcode != RCODE_NOERROR || apf_dns_wire_answers(buf, len, s->qtype, &rd, &n) < 0) {
		finish(e, idx, APF_FLEET_SERVER_ERROR, rcode);
		return;
	}
	if (s->qtype != APF_RR_PTR) {
		const struct apf_dns_rdata *first = NULL;
		bool match = false;
		size_t alen = s->qtype == APF_RR_A ? 4 : 16;
		uint8_t w[80];

		for (size_t i = 0; i < n; i++) {
			if (rd[i].len != alen)
				continue;
			if (!first)
				first = &rd[i];
			if (h->expect_af && memcmp(rd[i].data, h->expect, alen) == 0)
				match = true;
		}
		if (!first) {
			finish(e, idx, APF_FLEET_NO_A, rcode); /* NODATA */
			goto out;
		}
		h->addr_af = s->qtype == APF_RR_A ? AF_INET : AF_INET6;
		if (h->expect_af && !match) {
			char txt[INET6_ADDRSTRLEN];

			memcpy(h->addr, first->data, alen);
			h->found = apf_xstrdup(inet_ntop(h->addr_af, h->addr, txt, sizeof(txt)) ? txt : "?");
			finish(e, idx, APF_FLEET_A_MISMATCH, rcode);
			goto out;
		}
		memcpy(h->addr, h->expect_af ? h->expect : first->data, alen);
		if (e->o->forward_only) {
			finish(e, idx, APF_FLEET_OK, rcode);
			goto out;
		}
		/* Pipelined: the PTR query reuses the slot at once, no token needed for fairness. */
		start_query(e, idx, w, reverse_wire(h->addr_af, h->addr, w), APF_RR_PTR, now);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (wire_name_eq(rd[i].data, rd[i].len, h->wire, h->wire_len)) {
			finish(e, idx, APF_FLEET_OK, rcode);
			goto out;
		}
	}
	if (!n) {
		finish(e, idx, APF_FLEET_NO_PTR, rcode);
		goto out;
	}
	h->found = apf_dns_wire_name_text(rd[0].data, rd[0].len);
	if (!h->found)
		h->found = apf_xstrdup("?");
	finish(e, idx, APF_FLEET_PTR_MISMATCH, rcode);
out:
	apf_dns_rdata_free(rd, n);
}

/* Finds the slot a response belongs to and checks the echoed question; -1 for strays. */
static int match_slot(struct engine *e, const uint8_t *buf, size_t len, bool tcp)
{
	unsigned int idx;
	const struct slot *s;

	if (len < 12 || !(buf[2] & 0x80))
		return -1;
	idx = (unsigned int)(((buf[0] << 8) | buf[1]) ^ e->salt);
	if (idx >= e->window)
		return -1;
	s = &e->slots[idx];
	if (s->state == SLOT_FREE || (s->state == SLOT_UDP) == tcp)
		return -1;
	/*
	 * Servers may drop the question from an error answer (FORMERR, NOTIMP,
	 * REFUSED...). Matching on the ID alone is acceptable there: at worst a
	 * spoofer turns a host into SERVER_ERROR (an ERROR, never a verdict).
	 */
	if (buf[4] == 0 && buf[5] == 0 && (buf[3] & 0x0f) != 0 && (buf[3] & 0x0f) != 3)
		return (int)idx;
	if (buf[4] != 0 || buf[5] != 1 || len < 12u + s->qsect)
		return -1;
	if (!wire_name_eq(buf + 12, s->qsect, s->q + 12, s->qsect))
		return -1;
	return (int)idx;
}

static void on_udp(struct engine *e, int sock, uint64_t now)
{
	for (;;) {
		ssize_t n = recv(sock, e->rbuf, APF_DNS_MSG_MAX, MSG_DONTWAIT);
		int idx;

		if (n < 0) {
			note_refusal(e, errno); /* else EAGAIN: nothing more to read */
			return;
		}
		idx = match_slot(e, e->rbuf, (size_t)n, false);
		if (idx < 0) {
			if (e->st)
				e->st->stray++;
			continue;
		}
		if (e->rbuf[2] & 0x02) {
			if (e->st)
				e->st->tcp_fallbacks++;
			tcp_start(e, (unsigned int)idx, now);
			continue;
		}
		handle_answer(e, (unsigned int)idx, e->rbuf, (size_t)n, now);
	}
}

/* A failed TCP attempt counts as a lost try: expire the slot now and let the timer decide. */
static void tcp_fail(struct engine *e, unsigned int idx, uint64_t now)
{
	struct slot *s = &e->slots[idx];

	if (s->tcp_fd >= 0) {
		close(s->tcp_fd);
		s->tcp_fd = -1;
	}
	free(s->tbuf);
	s->tbuf = NULL;
	s->state = SLOT_UDP;
	s->expire = now;
	e->next_expiry = now;
}

static void tcp_start(struct engine *e, unsigned int idx, uint64_t now)
{
	struct slot *s = &e->slots[idx];
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = EV_TCP | idx};
	int fd = socket(e->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&e->ss, e->sslen) < 0 && errno != EINPROGRESS) {
		close(fd);
		goto fail;
	}
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		goto fail;
	}
	s->tcp_fd = fd;
	s->state = SLOT_TCP_CONNECT;
	s->tgot = 0;
	s->tlen = 0;
	s->expire = now + try_timeout(e, s->tries);
	if (s->expire < e->next_expiry)
		e->next_expiry = s->expire;
	return;
fail:
	tcp_fail(e, idx, now);
}

static void on_tcp(struct engine *e, unsigned int idx, uint32_t events, uint64_t now)
{
	struct slot *s = &e->slots[idx];

	if (s->state == SLOT_TCP_CONNECT) {
		uint8_t out[QBUF + 2];
		int err = 0;
		socklen_t el = sizeof(err);
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_TCP | idx};

		if (getsockopt(s->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
			goto fail;
		put16(out, s->qlen);
		memcpy(out + 2, s->q, s->qlen);
		/* A fresh socket's buffer takes ~300 bytes whole; a short write means trouble. */
		if (send(s->tcp_fd, out, s->qlen + 2u, MSG_NOSIGNAL) != (ssize_t)(s->qlen + 2u))
			goto fail;
		if (epoll_ctl(e->ep, EPOLL_CTL_MOD, s->tcp_fd, &ev) < 0)
			goto fail;
		s->state = SLOT_TCP_READ;
		s->tbuf = apf_xmalloc(APF_DNS_MSG_MAX + 2);
		return;
	}
	if (s->state != SLOT_TCP_READ)
		return;
	for (;;) {
		size_t want = s->tgot < 2 ? 2 - s->tgot : s->tlen + 2 - s->tgot;
		ssize_t n = read(s->tcp_fd, s->tbuf + s->tgot, want);

		if (n == 0)
			goto fail;
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			goto fail;
		}
		s->tgot += (size_t)n;
		if (s->tgot == 2) {
			s->tlen = (size_t)s->tbuf[0] << 8 | s->tbuf[1];
			if (s->tlen < 12)
				goto fail;
		}
		if (s->tgot >= 2 && s->tgot == s->tlen + 2) {
			int m = match_slot(e, s->tbuf + 2, s->tlen, true);
			uint8_t *b = s->tbuf;

			if (m != (int)idx)
				goto fail;
			s->tbuf = NULL; /* handle_answer may restart the slot; keep the buffer alive until done */
			close(s->tcp_fd);
			s->tcp_fd = -1;
			/* Over TCP a TC bit is meaningless; take the answer as it is. */
			handle_answer(e, idx, b + 2, s->tlen, now);
			free(b);
			return;
		}
	}
fail:
	(void)events;
	tcp_fail(e, idx, now);
}

/* Retransmits or gives up on expired slots; returns the next expiry. */
static void expire_slots(struct engine *e, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	bool lost = false;

	for (unsigned int i = 0; i < e->window; i++) {
		struct slot *s = &e->slots[i];

		if (s->state == SLOT_FREE)
			continue;
		if (s->expire > now) {
			if (s->expire < next)
				next = s->expire;
			continue;
		}
		if (s->tcp_fd >= 0) {
			close(s->tcp_fd);
			s->tcp_fd = -1;
			free(s->tbuf);
			s->tbuf = NULL;
		}
		if (s->tries >= e->o->retries) {
			finish(e, i, APF_FLEET_TIMEOUT, -1);
			e->silent_run++;
			continue;
		}
		s->tries++;
		lost = true;
		if (e->st)
			e->st->retransmits++;
		udp_send(e, i, now);
		if (s->expire < next)
			next = s->expire;
	}
	/* Loss means a queue overflowed somewhere: halve the window (AIMD). */
	if (lost)
		e->cwnd = e->cwnd / 2 > 8 ? e->cwnd / 2 : (e->window < 8 ? e->window : 8);
	e->next_expiry = next;
}

int apf_fleet_run(const struct apf_fleet_opts *o, struct apf_fleet_list *l, struct apf_fleet_stats *st,
		  char **err_out)
{
	struct engine e = {.o = o, .l = l, .st = st, .ep = -1};
	struct epoll_event evs[64];
	uint64_t start = apf_now_ms();
	int rc = 0;

	for (int i = 0; i < FLEET_SOCKETS; i++)
		e.sock[i] = -1;
	if (st)
		memset(st, 0, sizeof(*st));
	{
		char ip[INET6_ADDRSTRLEN];
		struct sockaddr_in *v4 = (struct sockaddr_in *)&e.ss;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&e.ss;
		uint16_t port = o->port ? o->port : 53;

		if (!o->server || strlen(o->server) >= sizeof(ip)) {
			rc = -EINVAL;
			apf_err_set(err_out, "no DNS server");
			goto out;
		}
		memset(&e.ss, 0, sizeof(e.ss));
		if (inet_pton(AF_INET, o->server, &v4->sin_addr) == 1) {
			v4->sin_family = AF_INET;
			v4->sin_port = htons(port);
			e.sslen = sizeof(*v4);
		} else if (inet_pton(AF_INET6, o->server, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons(port);
			e.sslen = sizeof(*v6);
		} else {
			rc = -EINVAL;
			apf_err_set(err_out, "DNS server \"%s\" is not a numeric IP address", o->server);
			goto out;
		}
	}
	e.window = o->window ? o->window : 256;
	if (e.window > FLEET_WINDOW_MAX)
		e.window = FLEET_WINDOW_MAX;
	e.cwnd = e.window;
	e.ep = epoll_create1(EPOLL_CLOEXEC);
	if (e.ep < 0) {
		rc = -errno;
		apf_err_set(err_out, "epoll_create1: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < FLEET_SOCKETS; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
		int buf = 1 << 20;

		e.sock[i] = socket(e.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (e.sock[i] < 0 || connect(e.sock[i], (struct sockaddr *)&e.ss, e.sslen) < 0 ||
		    epoll_ctl(e.ep, EPOLL_CTL_ADD, e.sock[i], &ev) < 0) {
			rc = -errno;
			apf_err_set(err_out, "UDP socket to %s: %s", o->server, strerror(errno));
			goto out;
		}
		/* Answers arrive in bursts of up to W; best effort, the kernel caps it. */
		(void)setsockopt(e.sock[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
	e.slots = apf_xcalloc(e.window, sizeof(*e.slots));
	e.freelist = apf_xmalloc(e.window * sizeof(*e.freelist));
	for (unsigned int i = 0; i < e.window; i++) {
		e.slots[i].tcp_fd = -1;
		e.freelist[e.nfree++] = e.window - 1 - i;
	}
	e.rbuf = apf_xmalloc(APF_DNS_MSG_MAX);
	{
		uint8_t r[2];

		/* Not a security boundary (the question echo is); keeps runs from reusing IDs. */
		if (getentropy(r, sizeof(r)) == 0)
			e.salt = (uint16_t)(r[0] << 8 | r[1]);
	}
	e.next_expiry = UINT64_MAX;
	e.tokens_at = start;
	e.tokens = 1;

	while (e.done < l->n) {
		uint64_t now = apf_now_ms(), wake;
		int n, timeout;

		if (e.refused) {
			rc = -e.refused;
			apf_err_set(err_out, "%s: %s (ICMP unreachable): the server refused the queries", o->server,
				    strerror(e.refused));
			goto out;
		}
		if (o->deadline_ms && now >= o->deadline_ms)
			break;
		if (now >= e.next_expiry)
			expire_slots(&e, now);
		if (o->give_up_after && e.silent_run >= o->give_up_after) {
			rc = -ETIMEDOUT;
			apf_err_set(err_out, "%s: %u queries in a row went unanswered (%u retries each): the server is silent",
				    o->server, e.silent_run, o->retries);
			goto out;
		}
		for (;;) {
			unsigned int idx;
			struct apf_fleet_host *h;

			while (e.next_host < l->n && l->h[e.next_host].verdict != APF_FLEET_PENDING) {
				e.next_host++; /* settled by the caller (an earlier server) */
				e.done++;
			}
			if (!e.nfree || e.active >= e.cwnd || e.next_host >= l->n || !take_token(&e, now))
				break;
			idx = e.freelist[--e.nfree];
			h = &l->h[e.next_host];
			e.slots[idx].host = (uint32_t)e.next_host++;
			e.active++;
			start_query(&e, idx, h->wire, h->wire_len, h->expect_af == AF_INET6 ? APF_RR_AAAA : APF_RR_A, now);
		}
		if (e.done >= l->n)
			break;
		wake = e.next_expiry;
		if (o->rate_limit && e.next_host < l->n && e.nfree && e.active < e.cwnd)
			wake = now + 1; /* waiting for a token */
		if (o->deadline_ms && o->deadline_ms < wake)
			wake = o->deadline_ms;
		timeout = wake == UINT64_MAX ? 1000 : wake > now ? (int)(wake - now) : 0;
		if (timeout > 1000)
			timeout = 1000;
		n = epoll_wait(e.ep, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			apf_err_set(err_out, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		now = apf_now_ms();
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;

			if (d & EV_TCP)
				on_tcp(&e, (unsigned int)(d & 0xffffffffu), evs[i].events, now);
			else
				on_udp(&e, e.sock[d], now);
		}
	}
out:
	if (st) {
		st->elapsed_ms = apf_now_ms() - start;
		st->counts[APF_FLEET_PENDING] = l->n - e.done;
	}
	if (e.slots)
		for (unsigned int i = 0; i < e.window; i++) {
			if (e.slots[i].tcp_fd >= 0)
				close(e.slots[i].tcp_fd);
			free(e.slots[i].tbuf);
		}
	for (int i = 0; i < FLEET_SOCKETS; i++)
		if (e.sock[i] >= 0)
			close(e.sock[i]);
	if (e.ep >= 0)
		close(e.ep);
	free(e.slots);
	free(e.freelist);
	free(e.rbuf);
	return rc;
}
