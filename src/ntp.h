/* SPDX-License-Identifier: MIT */
/*
 * A small NTP client (RFC 5905): the 48-byte packet of section 7.3, a mode 3
 * request, the reply checks of section 8 (mode, origin timestamp, kiss-o'-death
 * of 7.4) and the on-wire offset and delay of section 8. The codec is pure;
 * apf_ntp_query() adds one UDP exchange with local timestamps.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define APF_NTP_PACKET_LEN 48
#define APF_NTP_PORT 123

/* Leap indicator values (RFC 5905 7.3). */
enum {
	APF_NTP_LEAP_NONE = 0,
	APF_NTP_LEAP_61 = 1,
	APF_NTP_LEAP_59 = 2,
	APF_NTP_LEAP_ALARM = 3, /* the server's clock is not synchronised */
};

/* Stratum 16 (and over) means unsynchronised (RFC 5905 7.3, Figure 11). */
#define APF_NTP_STRATUM_UNSYNC 16

struct apf_ntp_reply {
	uint8_t leap, version, mode, stratum;
	int8_t poll, precision;
	uint32_t root_delay, root_dispersion; /* NTP short format, 16.16 seconds */
	uint32_t refid;
	char refid_text[16]; /* "192.0.2.1", kiss code "RATE", or a 4-letter source "GPS" */
	uint64_t ref, org, rec, xmt; /* NTP timestamps, 32.32 seconds since 1900 */
};

/* Why a datagram is not a usable server reply; paired with apf_ntp_strerror(). */
enum apf_ntp_status {
	APF_NTP_OK = 0,
	APF_NTP_SHORT,         /* under 48 bytes */
	APF_NTP_BAD_MODE,      /* not mode 4 (server) */
	APF_NTP_BAD_VERSION,   /* version not 1-4 */
	APF_NTP_BOGUS_ORIGIN,  /* origin timestamp is not our transmit timestamp (RFC 5905 8) */
	APF_NTP_NO_TIME,       /* receive or transmit timestamp is zero */
	APF_NTP_KISS,          /* stratum 0: a kiss-o'-death, refid_text is its code */
	APF_NTP_STATUS_COUNT,
};

const char *apf_ntp_strerror(enum apf_ntp_status st);

/* Writes a version 4, mode 3 request whose transmit timestamp is `xmt`. */
void apf_ntp_request_encode(uint64_t xmt, uint8_t out[APF_NTP_PACKET_LEN]);

/* Decodes and checks a reply to the request that carried `sent_xmt`. */
enum apf_ntp_status apf_ntp_reply_decode(const uint8_t *p, size_t len, uint64_t sent_xmt, struct apf_ntp_reply *out);

/* CLOCK_REALTIME as an NTP timestamp. */
uint64_t apf_ntp_from_timespec(const struct timespec *ts);

/* a - b in seconds, correct across the era boundary for differences under 68 years. */
double apf_ntp_diff(uint64_t a, uint64_t b);

/*
 * RFC 5905 section 8: offset = ((T2 - T1) + (T3 - T4)) / 2 and
 * delay = (T4 - T1) - (T3 - T2), in seconds.
 */
void apf_ntp_offset_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, double *offset, double *delay);

struct apf_ntp_sample {
	enum apf_ntp_status status; /* of the reply, when rc == 0 */
	struct apf_ntp_reply reply;
	double offset, delay;       /* seconds, valid when status == APF_NTP_OK */
};

/*
 * Asks ip:port for the time once, waiting at most timeout_ms. Returns 0 when a
 * reply came (then look at out->status), -ETIMEDOUT, -ECONNREFUSED (ICMP port
 * unreachable), -EINVAL (bad address) or -errno.
 */
int apf_ntp_query(const char *ip, uint16_t port, unsigned int timeout_ms, struct apf_ntp_sample *out);
