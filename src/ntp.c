/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/udp.h"
#include "ntp.h"

static const char *const status_msg[APF_NTP_STATUS_COUNT] = {
	[APF_NTP_OK] = "a server reply",
	[APF_NTP_SHORT] = "shorter than the 48-byte NTP header",
	[APF_NTP_BAD_MODE] = "not a server reply (mode is not 4)",
	[APF_NTP_BAD_VERSION] = "unknown NTP version",
	[APF_NTP_BOGUS_ORIGIN] = "the origin timestamp is not the one we sent (a stale or forged reply)",
	[APF_NTP_NO_TIME] = "the receive or transmit timestamp is zero",
	[APF_NTP_KISS] = "a kiss-o'-death (stratum 0): the server refuses to serve time",
};

const char *apf_ntp_strerror(enum apf_ntp_status st)
{
	return (unsigned int)st < APF_NTP_STATUS_COUNT ? status_msg[st] : "unknown";
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

void apf_ntp_request_encode(uint64_t xmt, uint8_t out[APF_NTP_PACKET_LEN])
{
	memset(out, 0, APF_NTP_PACKET_LEN);
	out[0] = 4 << 3 | 3; /* LI 0, VN 4, mode 3 (client) */
	/* Only the transmit timestamp is set: the server echoes it as the origin
	 * timestamp, which is how the reply is matched to this request. */
	for (int i = 0; i < 8; i++)
		out[40 + i] = (uint8_t)(xmt >> (56 - 8 * i));
}

/* The reference id as text: an IPv4 address above stratum 1, else 4 ASCII characters. */
static void refid_text(const struct apf_ntp_reply *r, char *out, size_t size)
{
	if (r->stratum >= 2 && r->stratum < APF_NTP_STRATUM_UNSYNC) {
		struct in_addr a = {.s_addr = htonl(r->refid)};
		if (!inet_ntop(AF_INET, &a, out, (socklen_t)size))
			snprintf(out, size, "?");
		return;
	}
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t c = (uint8_t)(r->refid >> (24 - 8 * i));
		if (c == 0)
			break;
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

enum apf_ntp_status apf_ntp_reply_decode(const uint8_t *p, size_t len, uint64_t sent_xmt, struct apf_ntp_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (len < APF_NTP_PACKET_LEN)
		return APF_NTP_SHORT;
	out->leap = p[0] >> 6;
	out->version = (p[0] >> 3) & 7;
	out->mode = p[0] & 7;
	out->stratum = p[1];
	out->poll = (int8_t)p[2];
	out->precision = (int8_t)p[3];
	out->root_delay = get32(p + 4);
	out->root_dispersion = get32(p + 8);
	out->refid = get32(p + 12);
	out->ref = get64(p + 16);
	out->org = get64(p + 24);
	out->rec = get64(p + 32);
	out->xmt = get64(p + 40);
	refid_text(out, out->refid_text, sizeof(out->refid_text));
	if (out->mode != 4)
		return APF_NTP_BAD_MODE;
	if (out->version < 1 || out->version > 4)
		return APF_NTP_BAD_VERSION;
	if (out->org != sent_xmt)
		return APF_NTP_BOGUS_ORIGIN;
	/* Checked after the origin: a kiss from someone else's conversation means nothing to us. */
	if (out->stratum == 0)
		return APF_NTP_KISS;
	if (out->rec == 0 || out->xmt == 0)
		return APF_NTP_NO_TIME;
	return APF_NTP_OK;
}

uint64_t apf_ntp_from_timespec(const struct timespec *ts)
{
	/* 2208988800 s from 1900 (NTP's epoch) to 1970; wraps in 2036 as NTP era 1 does. */
	uint64_t sec = (uint64_t)ts->tv_sec + 2208988800u;
	uint64_t frac = ((uint64_t)ts->tv_nsec << 32) / 1000000000u;

	return sec << 32 | frac;
}

double apf_ntp_diff(uint64_t a, uint64_t b)
{
	/* Modular difference: right whenever the true difference fits in +-2^31 s. */
	return (double)(int64_t)(a - b) / 4294967296.0;
}

void apf_ntp_offset_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, double *offset, double *delay)
{
	*offset = (apf_ntp_diff(t2, t1) + apf_ntp_diff(t3, t4)) / 2;
	*delay = apf_ntp_diff(t4, t1) - apf_ntp_diff(t3, t2);
}

int apf_ntp_query(const char *ip, uint16_t port, unsigned int timeout_ms, struct apf_ntp_sample *out)
{
	uint8_t req[APF_NTP_PACKET_LEN], resp[512];
	struct timespec ts;
	size_t got = 0;
	uint64_t t1, t4;
	int rc;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_REALTIME, &ts);
	t1 = apf_ntp_from_timespec(&ts);
	apf_ntp_request_encode(t1, req);
	rc = apf_udp_exchange(ip, port, req, sizeof(req), resp, sizeof(resp), &got, timeout_ms);
	clock_gettime(CLOCK_REALTIME, &ts);
	t4 = apf_ntp_from_timespec(&ts);
	if (rc)
		return rc;
	out->status = apf_ntp_reply_decode(resp, got, t1, &out->reply);
	if (out->status == APF_NTP_OK)
		apf_ntp_offset_delay(t1, out->reply.rec, out->reply.xmt, t4, &out->offset, &out->delay);
	return 0;
}
