/* SPDX-License-Identifier: MIT */
/*
 * The TLS probe engine (see tls.h). One thread, one poll() loop over a window
 * of slots; each slot walks connect -> handshake, and on a failed handshake
 * optionally once more with the legacy context. Every slot carries the end of
 * its current attempt, capped by the run's deadline, so a peer that accepts
 * TCP and never speaks costs one attempt's timeout and no more.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/tls.h"
#include "alloc.h"
#include "util.h"

#define DEFAULT_WINDOW 32u
#define DEFAULT_TIMEOUT_MS 5000u

enum slot_state {
	SLOT_FREE,
	SLOT_CONNECTING,
	SLOT_HANDSHAKE,
	SLOT_WRITE, /* sending the probe's request */
	SLOT_READ,  /* reading the answer */
};

struct slot {
	struct apf_tls_probe *p;
	enum slot_state st;
	int fd;
	SSL *ssl;
	bool legacy;     /* this attempt uses the legacy context */
	short events;    /* what the handshake or the exchange waits for */
	size_t sent;     /* request bytes written */
	uint64_t t0;     /* when the probe started */
	uint64_t t_try;  /* when the current attempt started */
	uint64_t t_end;  /* when the current attempt gives up */
};

struct engine {
	SSL_CTX *modern;
	SSL_CTX *legacy;        /* NULL when not asked for or not available */
	bool want_legacy;
	char *legacy_why;       /* why the legacy context could not be made */
	unsigned int timeout_ms;
	uint64_t deadline_ms;
	void (*done)(void *arg, struct apf_tls_probe *p);
	void *done_arg;
};

/* The oldest error OpenSSL queued, as text; the queue is then cleared. */
static char *openssl_error_text(const char *what)
{
	unsigned long e = ERR_peek_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	char buf[256];
	char *s;

	if (reason) {
		s = apf_xasprintf("%s: %s", what, reason);
	} else if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		s = apf_xasprintf("%s: %s", what, buf);
	} else {
		s = apf_xasprintf("%s", what);
	}
	ERR_clear_error();
	return s;
}

/* The certificate is judged by the caller, never trusted here (see ctx_new). */
static int skip_chain_verify(X509_STORE_CTX *x, void *arg)
{
	(void)x;
	(void)arg;
	return 1;
}

static SSL_CTX *ctx_new(bool legacy, char **why)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c) {
		*why = openssl_error_text("SSL_CTX_new failed");
		return NULL;
	}
	/* No verification: the certificate is judged by the check (name, dates,
	 * issuer), never trusted, and AMT's self-signed certificates must not end
	 * the handshake before we have seen them. */
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	/* With SSL_VERIFY_NONE libssl still builds and checks a chain whose
	 * result nobody reads; that work sits between the server's flight and
	 * our Finished, where a single-threaded device waits for us. */
	SSL_CTX_set_cert_verify_callback(c, skip_chain_verify, NULL);
	SSL_CTX_set_max_cert_list(c, APF_TLS_MAX_CERT_LIST);
	/* Every host is contacted once: sessions and tickets would only cost memory. */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
	if (!legacy) {
		if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION))
			goto bad;
		return c;
	}
	/*
	 * What AMT 11 and older may need: TLS 1.0/1.1, SHA-1 signatures, short RSA
	 * keys, old cipher suites, servers without RFC 5746. OpenSSL 3 refuses all
	 * of these above security level 0, so a separate context allows them. Never
	 * anonymous suites: a peer must still show a certificate to be judged.
	 */
	SSL_CTX_set_security_level(c, 0);
	SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT);
	if (!SSL_CTX_set_min_proto_version(c, TLS1_VERSION) || !SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c, "ALL:!aNULL:@SECLEVEL=0"))
		goto bad;
	return c;
bad:
	*why = openssl_error_text(legacy ? "this OpenSSL cannot allow TLS 1.0/1.1 at security level 0"
					 : "cannot set the minimum TLS version");
	SSL_CTX_free(c);
	return NULL;
}

static bool is_address(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int sockaddr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ip && inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*sl = sizeof(*v4);
		return 0;
	}
	if (ip && inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*sl = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

/* Closes the connection; the SSL object (and the peer's certificates in it) stays until conn_free(). */
static void conn_close(struct slot *s)
{
	if (s->fd < 0)
		return;
	/* One polite close_notify, never waited for: a device that is gone must
	 * not hold the slot. */
	if (s->ssl && SSL_is_init_finished(s->ssl))
		SSL_shutdown(s->ssl);
	close(s->fd);
	s->fd = -1;
	ERR_clear_error();
}

static void conn_free(struct slot *s)
{
	conn_close(s);
	SSL_free(s->ssl);
	s->ssl = NULL;
}

static void end_probe(struct engine *e, struct slot *s, uint64_t now, int rc, const char *stage)
{
	s->p->rc = rc;
	s->p->stage = stage;
	s->p->elapsed_ms = now - s->t0;
	conn_free(s);
	if (e->done)
		e->done(e->done_arg, s->p);
	s->st = SLOT_FREE;
	s->p = NULL;
}

static void attempt_start(struct engine *e, struct slot *s, uint64_t now);

/*
 * The current attempt failed with `rc` (text taken). A failed modern handshake
 * goes on to the legacy attempt when that was asked for; anything else ends
 * the probe. A legacy attempt that fails for any reason ends it as -EPROTO:
 * the modern handshake had already failed.
 */
static void attempt_failed(struct engine *e, struct slot *s, uint64_t now, int rc, const char *stage, char *text)
{
	struct apf_tls_probe *p = s->p;

	if (s->legacy) {
		free(p->legacy_error);
		p->legacy_error = text;
		end_probe(e, s, now, -EPROTO, "legacy handshake");
		return;
	}
	free(p->error);
	p->error = text;
	if (rc != -EPROTO || !e->want_legacy) {
		end_probe(e, s, now, rc, stage);
		return;
	}
	if (!e->legacy) {
		p->legacy_error = apf_xstrdup(e->legacy_why ? e->legacy_why : "legacy TLS settings unavailable");
		end_probe(e, s, now, rc, stage);
		return;
	}
	conn_free(s);
	s->legacy = true;
	attempt_start(e, s, now);
}

static bool asn1_time(const ASN1_TIME *a, time_t *out)
{
	struct tm tm;

	if (!a || !ASN1_TIME_to_tm(a, &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

/* A name in the form src/pki.c gives certificate names (RFC 2253, UTF-8 kept), or NULL. */
static char *name_text_new(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *text = NULL, *out = NULL;
	long n;

	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &text)) >= 0) {
		out = apf_xmalloc((size_t)n + 1);
		memcpy(out, text, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

/* Dates, names and self-signedness of the leaf, read from the certificate the handshake already parsed. */
static bool leaf_facts(X509 *leaf, struct apf_tls_probe *p)
{
	p->leaf_issuer = name_text_new(X509_get_issuer_name(leaf));
	p->leaf_subject = name_text_new(X509_get_subject_name(leaf));
	p->leaf_self_signed = X509_self_signed(leaf, 1) == 1;
	return asn1_time(X509_get0_notBefore(leaf), &p->leaf_not_before) &&
	       asn1_time(X509_get0_notAfter(leaf), &p->leaf_not_after);
}

static void collect(struct slot *s)
{
	struct apf_tls_probe *p = s->p;
	STACK_OF(X509) *sk = SSL_get_peer_cert_chain(s->ssl);
	X509 *leaf = SSL_get0_peer_certificate(s->ssl);
	const char *v = SSL_get_version(s->ssl), *c = SSL_get_cipher_name(s->ssl);
	int n = sk ? sk_X509_num(sk) : 0;

	p->legacy = s->legacy;
	snprintf(p->version, sizeof(p->version), "%s", v ? v : "");
	snprintf(p->cipher, sizeof(p->cipher), "%s", c ? c : "");
	/* On the client side the peer's chain starts with its leaf. */
	p->n_sent = n > 0 ? (size_t)n : leaf ? 1 : 0;
	for (int i = 0; i < n && p->n_der < APF_TLS_MAX_CHAIN; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(sk, i), &der);

		if (len <= 0)
			continue;
		p->der[p->n_der] = apf_xmalloc((size_t)len);
		memcpy(p->der[p->n_der], der, (size_t)len);
		p->der_len[p->n_der++] = (size_t)len;
		OPENSSL_free(der);
	}
	p->leaf_read = leaf && leaf_facts(leaf, p);
	p->name_match = -1;
	if (leaf && p->name && *p->name) {
		/* Default flags: DNS SANs when there are any, else the most specific CN;
		 * wildcards in the leftmost label. What a TLS client of the SCS does. */
		int r = is_address(p->name) ? X509_check_ip_asc(leaf, p->name, 0)
					    : X509_check_host(leaf, p->name, strlen(p->name), 0, NULL);
		p->name_match = r == 1 ? 1 : r == 0 ? 0 : -1;
	}
	ERR_clear_error();
}

/* The exchange after the handshake ended: the handshake's own outcome stands (rc 0). */
static void exchange_end(struct engine *e, struct slot *s, uint64_t now, int rc, char *text)
{
	s->p->exchange_rc = rc;
	s->p->exchange_error = text;
	end_probe(e, s, now, 0, s->legacy ? "legacy handshake" : "handshake");
}

/* The answer's header is complete once a blank line ends it. */
static bool header_complete(const struct apf_tls_probe *p)
{
	return p->response_len >= 4 && memmem(p->response, p->response_len, "\r\n\r\n", 4);
}

/*
 * Writes the request, then reads until the header is complete, the peer
 * closes or the cap is reached. A peer that closes after sending something
 * has answered; one that closes before any byte has not.
 */
static void exchange(struct engine *e, struct slot *s, uint64_t now)
{
	struct apf_tls_probe *p = s->p;

	for (;;) {
		size_t n = 0;
		int r, err, saved;

		ERR_clear_error();
		errno = 0;
		if (s->st == SLOT_WRITE) {
			r = SSL_write_ex(s->ssl, p->request + s->sent, p->request_len - s->sent, &n);
			if (r == 1) {
				s->sent += n;
				if (s->sent >= p->request_len)
					s->st = SLOT_READ;
				continue;
			}
		} else {
			if (header_complete(p) || p->response_len >= APF_TLS_MAX_RESPONSE) {
				exchange_end(e, s, now, 0, NULL);
				return;
			}
			r = SSL_read_ex(s->ssl, p->response + p->response_len, APF_TLS_MAX_RESPONSE - p->response_len, &n);
			if (r == 1) {
				p->response_len += n;
				p->response[p->response_len] = '\0';
				continue;
			}
		}
		saved = errno;
		err = SSL_get_error(s->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			s->events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return;
		}
		if (s->st == SLOT_READ && p->response_len &&
		    (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && !saved))) {
			ERR_clear_error();
			exchange_end(e, s, now, 0, NULL);
			return;
		}
		if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && !saved)) {
			ERR_clear_error();
			exchange_end(e, s, now, -ECONNRESET,
				     apf_xstrdup(s->st == SLOT_WRITE ? "the peer closed the connection before the request was sent"
								     : "the peer closed the connection without answering"));
		} else if (err == SSL_ERROR_SYSCALL) {
			ERR_clear_error();
			exchange_end(e, s, now, -saved, apf_xasprintf("%s: %s", s->st == SLOT_WRITE ? "sending" : "reading",
								     strerror(saved)));
		} else {
			exchange_end(e, s, now, -EPROTO,
				     openssl_error_text(s->st == SLOT_WRITE ? "TLS write failed" : "TLS read failed"));
		}
		return;
	}
}

static void exchange_start(struct engine *e, struct slot *s, uint64_t now)
{
	struct apf_tls_probe *p = s->p;

	/* The exchange gets a full attempt's time of its own: a slow upgrade is
	 * not the handshake's fault. */
	s->t_end = now + e->timeout_ms;
	if (e->deadline_ms && s->t_end > e->deadline_ms)
		s->t_end = e->deadline_ms;
	p->response = apf_xmalloc(APF_TLS_MAX_RESPONSE + 1);
	p->response[0] = '\0';
	s->sent = 0;
	s->st = p->request_len ? SLOT_WRITE : SLOT_READ;
	exchange(e, s, now);
}

static void drive(struct engine *e, struct slot *s, uint64_t now)
{
	int r, err, saved;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(s->ssl);
	saved = errno;
	if (r == 1) {
		if (s->p->request) {
			collect(s);
			exchange_start(e, s, now);
			return;
		}
		/* A single-threaded peer (an AMT device, s_server) waits for our close
		 * before it takes the next connection: close first, then read the
		 * certificates, which stay in the SSL object. */
		conn_close(s);
		collect(s);
		end_probe(e, s, now, 0, s->legacy ? "legacy handshake" : "handshake");
		return;
	}
	err = SSL_get_error(s->ssl, r);
	if (err == SSL_ERROR_WANT_READ) {
		s->events = POLLIN;
		return;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		s->events = POLLOUT;
		return;
	}
	if (err == SSL_ERROR_SSL) {
		attempt_failed(e, s, now, -EPROTO, "handshake", openssl_error_text("TLS handshake failed"));
	} else if (err == SSL_ERROR_SYSCALL && saved) {
		ERR_clear_error();
		attempt_failed(e, s, now, -EPROTO, "handshake",
			       apf_xasprintf("TLS handshake failed: %s", strerror(saved)));
	} else {
		ERR_clear_error();
		attempt_failed(e, s, now, -EPROTO, "handshake",
			       apf_xstrdup("TLS handshake failed: the peer closed the connection"));
	}
}

static void begin_handshake(struct engine *e, struct slot *s, uint64_t now)
{
	const char *name = s->p->name;

	s->ssl = SSL_new(s->legacy ? e->legacy : e->modern);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
		attempt_failed(e, s, now, -ENOMEM, "handshake", openssl_error_text("cannot make a TLS connection"));
		return;
	}
	/* SNI takes host names only (RFC 6066); an address is reached without it. */
	if (name && *name && !is_address(name))
		SSL_set_tlsext_host_name(s->ssl, name);
	SSL_set_connect_state(s->ssl);
	s->st = SLOT_HANDSHAKE;
	drive(e, s, now);
}

static void attempt_start(struct engine *e, struct slot *s, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	s->t_try = now;
	s->t_end = now + e->timeout_ms;
	if (e->deadline_ms && s->t_end > e->deadline_ms)
		s->t_end = e->deadline_ms;
	s->events = POLLOUT;
	if (sockaddr_of(s->p->ip, s->p->port, &ss, &sl) < 0) {
		attempt_failed(e, s, now, -EINVAL, "connect", apf_xstrdup("not an IP address"));
		return;
	}
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		int err = errno;
		attempt_failed(e, s, now, -err, "connect", apf_xasprintf("socket: %s", strerror(err)));
		return;
	}
	/* Our Finished and close_notify go out at once, not after the peer's ACK. */
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	if (connect(s->fd, (struct sockaddr *)&ss, sl) == 0) {
		begin_handshake(e, s, now);
		return;
	}
	if (errno != EINPROGRESS) {
		int err = errno;
		attempt_failed(e, s, now, -err, "connect", apf_xasprintf("TCP connect: %s", strerror(err)));
		return;
	}
	s->st = SLOT_CONNECTING;
}

static void step(struct engine *e, struct slot *s, uint64_t now)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (s->st == SLOT_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (err) {
			attempt_failed(e, s, now, -err, "connect", apf_xasprintf("TCP connect: %s", strerror(err)));
			return;
		}
		begin_handshake(e, s, now);
		return;
	}
	if (s->st == SLOT_WRITE || s->st == SLOT_READ)
		exchange(e, s, now);
	else
		drive(e, s, now);
}

static void expire(struct engine *e, struct slot *s, uint64_t now)
{
	bool connecting = s->st == SLOT_CONNECTING;
	uint64_t spent = now - s->t_try;
	char *text;

	if (s->st == SLOT_WRITE || s->st == SLOT_READ) {
		exchange_end(e, s, now, -ETIMEDOUT,
			     apf_xasprintf("%s after the handshake (%zu bytes of answer so far)",
					   s->st == SLOT_WRITE ? "the request could not be sent in time" : "no complete answer in time",
					   s->p->response_len));
		return;
	}
	text = connecting ? apf_xasprintf("no TCP connection after %llu ms", (unsigned long long)spent)
				: apf_xasprintf("no TLS handshake after %llu ms (the peer accepted TCP but did not "
						"complete the handshake)",
						(unsigned long long)spent);

	attempt_failed(e, s, now, -ETIMEDOUT, connecting ? "connect" : "handshake", text);
}

void apf_tls_probe_clear(struct apf_tls_probe *p)
{
	if (!p)
		return;
	free(p->error);
	free(p->legacy_error);
	free(p->exchange_error);
	free(p->response);
	for (size_t i = 0; i < p->n_der; i++)
		free(p->der[i]);
	p->rc = 0;
	p->stage = NULL;
	p->error = NULL;
	p->legacy_error = NULL;
	p->legacy = false;
	p->version[0] = '\0';
	p->cipher[0] = '\0';
	p->name_match = -1;
	p->leaf_read = false;
	p->leaf_self_signed = false;
	free(p->leaf_issuer);
	p->leaf_issuer = NULL;
	free(p->leaf_subject);
	p->leaf_subject = NULL;
	p->leaf_not_before = p->leaf_not_after = 0;
	memset(p->der, 0, sizeof(p->der));
	memset(p->der_len, 0, sizeof(p->der_len));
	p->n_der = 0;
	p->n_sent = 0;
	p->elapsed_ms = 0;
	p->exchange_rc = 0;
	p->exchange_error = NULL;
	p->response = NULL;
	p->response_len = 0;
}

int apf_tls_probe_run(const struct apf_tls_opts *o, struct apf_tls_probe *p, size_t n, char **err_out)
{
	struct engine e = {
		.want_legacy = o->legacy_fallback,
		.timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS,
		.deadline_ms = o->deadline_ms,
		.done = o->done,
		.done_arg = o->done_arg,
	};
	size_t window = o->window ? o->window : DEFAULT_WINDOW, next = 0;
	struct slot *slots = NULL;
	struct pollfd *pfd = NULL;
	size_t *map = NULL;
	char *why = NULL;
	int rc = 0;

	if (window > APF_TLS_MAX_WINDOW)
		window = APF_TLS_MAX_WINDOW;
	if (window > n)
		window = n ? n : 1;
	for (size_t i = 0; i < n; i++)
		apf_tls_probe_clear(&p[i]);
	e.modern = ctx_new(false, &why);
	if (!e.modern) {
		apf_err_set(err_out, "%s", why ? why : "cannot make a TLS context");
		rc = -ENOMEM;
		goto out;
	}
	if (e.want_legacy)
		e.legacy = ctx_new(true, &e.legacy_why);
	slots = apf_xcalloc(window, sizeof(*slots));
	pfd = apf_xcalloc(window, sizeof(*pfd));
	map = apf_xcalloc(window, sizeof(*map));
	for (size_t i = 0; i < window; i++)
		slots[i].fd = -1;

	for (;;) {
		uint64_t now = apf_now_ms();
		bool past = e.deadline_ms && now >= e.deadline_ms;
		size_t npfd = 0;
		int wait = -1, pr;

		for (size_t i = 0; i < window && next < n && !past; i++) {
			if (slots[i].st != SLOT_FREE)
				continue;
			slots[i].p = &p[next++];
			slots[i].t0 = now;
			slots[i].legacy = false;
			attempt_start(&e, &slots[i], now);
		}
		for (size_t i = 0; i < window; i++) {
			uint64_t left;

			if (slots[i].st == SLOT_FREE)
				continue;
			left = slots[i].t_end > now ? slots[i].t_end - now : 0;
			if (wait < 0 || left < (uint64_t)wait)
				wait = left > 60000 ? 60000 : (int)left;
			pfd[npfd].fd = slots[i].fd;
			pfd[npfd].events = slots[i].st == SLOT_CONNECTING ? POLLOUT : slots[i].events;
			pfd[npfd].revents = 0;
			map[npfd++] = i;
		}
		if (!npfd) {
			/* Everything started so far ended at once (refused, bad address):
			 * start more, or stop when there is nothing left to start. */
			if (next >= n || past)
				break;
			continue;
		}
		pr = poll(pfd, npfd, wait);
		if (pr < 0 && errno != EINTR) {
			int err = errno;
			for (size_t k = 0; k < npfd; k++)
				attempt_failed(&e, &slots[map[k]], apf_now_ms(), -err, "connect",
					       apf_xasprintf("poll: %s", strerror(err)));
			continue;
		}
		now = apf_now_ms();
		for (size_t k = 0; k < npfd; k++) {
			struct slot *s = &slots[map[k]];

			if (pr > 0 && pfd[k].revents)
				step(&e, s, now);
			/* Still waiting at its end (or woken too late): give up on it. */
			if (s->st != SLOT_FREE && now >= s->t_end)
				expire(&e, s, now);
		}
	}
	for (; next < n; next++) {
		p[next].rc = -ECANCELED;
		p[next].stage = "not started";
		if (e.done)
			e.done(e.done_arg, &p[next]);
	}
out:
	free(why);
	free(e.legacy_why);
	free(map);
	free(pfd);
	free(slots);
	SSL_CTX_free(e.legacy);
	SSL_CTX_free(e.modern);
	return rc;
}

const char *apf_tls_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "handshake completed";
	case -ECONNREFUSED:
		return "connection refused";
	case -ETIMEDOUT:
		return "timed out";
	case -EHOSTUNREACH:
		return "host unreachable";
	case -ENETUNREACH:
		return "network unreachable";
	case -EPROTO:
		return "TLS handshake failed";
	case -ECANCELED:
		return "not probed before the deadline";
	case -EINVAL:
		return "not an IP address";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}
