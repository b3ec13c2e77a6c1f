/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "tds.h"

/* PL_OPTION_TOKEN values (MS-TDS 2.2.6.5). */
enum {
	TOK_VERSION = 0x00,
	TOK_ENCRYPTION = 0x01,
	TOK_INSTOPT = 0x02,
	TOK_THREADID = 0x03,
	TOK_MARS = 0x04,
	TOK_FEDAUTHREQUIRED = 0x06,
	TOK_TERMINATOR = 0xff,
};

/* Header status bit 0x01: this packet is the last of its message (2.2.3.1.2). */
#define STATUS_EOM 0x01

static const char *const status_msg[APF_TDS_STATUS_COUNT] = {
	[APF_TDS_OK] = "a PRELOGIN response",
	[APF_TDS_SHORT] = "shorter than its packet header or the length it announces",
	[APF_TDS_NOT_RESPONSE] = "packet type is not 0x04 (tabular response)",
	[APF_TDS_NOT_LAST] = "the END OF MESSAGE bit is not set",
	[APF_TDS_BAD_LENGTH] = "the packet length in the header is out of range",
	[APF_TDS_NO_TERMINATOR] = "the option table has no 0xFF terminator",
	[APF_TDS_BAD_OPTION] = "an option's data lies outside the packet or has the wrong size",
};

const char *apf_tds_strerror(enum apf_tds_status st)
{
	return (unsigned int)st < APF_TDS_STATUS_COUNT ? status_msg[st] : "unknown";
}

const char *apf_tds_encryption_name(uint8_t e)
{
	static const char *const names[] = {"ENCRYPT_OFF", "ENCRYPT_ON", "ENCRYPT_NOT_SUP", "ENCRYPT_REQ"};

	return e < sizeof(names) / sizeof(names[0]) ? names[e] : "unknown";
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int apf_tds_prelogin_encode(uint8_t *out, size_t cap, size_t *len_out)
{
	/* Option data, in table order: VERSION 6, ENCRYPTION 1, INSTOPT 1 (""), THREADID 4, MARS 1. */
	static const struct {
		uint8_t token;
		uint8_t len;
	} opts[] = {{TOK_VERSION, 6}, {TOK_ENCRYPTION, 1}, {TOK_INSTOPT, 1}, {TOK_THREADID, 4}, {TOK_MARS, 1}};
	const size_t n = sizeof(opts) / sizeof(opts[0]), table = n * 5 + 1;
	size_t data = 0, total, pos;

	for (size_t i = 0; i < n; i++)
		data += opts[i].len;
	total = APF_TDS_HEADER_LEN + table + data;
	if (cap < total)
		return -ENOSPC;
	memset(out, 0, total);
	out[0] = APF_TDS_TYPE_PRELOGIN;
	out[1] = STATUS_EOM;
	put16(out + 2, (uint16_t)total);
	/* SPID 0, PacketID 1 (the first packet), Window 0 (2.2.3.1.3-6). */
	out[6] = 1;
	pos = table;
	for (size_t i = 0; i < n; i++) {
		uint8_t *t = out + APF_TDS_HEADER_LEN + i * 5;
		t[0] = opts[i].token;
		put16(t + 1, (uint16_t)pos);
		put16(t + 3, opts[i].len);
		pos += opts[i].len;
	}
	out[APF_TDS_HEADER_LEN + n * 5] = TOK_TERMINATOR;
	/* All data bytes stay zero: client version 0.0.0, ENCRYPT_OFF, the default
	 * instance (an empty, NUL-terminated name), thread id 0, MARS off. */
	*len_out = total;
	return 0;
}

size_t apf_tds_packet_length(const uint8_t *hdr)
{
	size_t len = be16(hdr + 2);

	return len < APF_TDS_HEADER_LEN || len > APF_TDS_PRELOGIN_MAX ? 0 : len;
}

/* Copies a NUL-terminated INSTOPT name, never trusting it to be terminated or printable. */
static void copy_instance(const uint8_t *p, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && p[i] && n + 1 < size; i++)
		out[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[n] = '\0';
}

enum apf_tds_status apf_tds_prelogin_decode(const uint8_t *pkt, size_t len, struct apf_tds_prelogin *out)
{
	const uint8_t *pl;
	size_t plen, i = 0, announced;

	memset(out, 0, sizeof(*out));
	if (len < APF_TDS_HEADER_LEN)
		return APF_TDS_SHORT;
	if (pkt[0] != APF_TDS_TYPE_TABULAR)
		return APF_TDS_NOT_RESPONSE;
	announced = apf_tds_packet_length(pkt);
	if (!announced)
		return APF_TDS_BAD_LENGTH;
	if (announced > len)
		return APF_TDS_SHORT;
	if (!(pkt[1] & STATUS_EOM))
		return APF_TDS_NOT_LAST;
	pl = pkt + APF_TDS_HEADER_LEN;
	plen = announced - APF_TDS_HEADER_LEN;
	for (;;) {
		uint8_t tok;
		size_t off, olen;
		const uint8_t *d;

		if (i >= plen)
			return APF_TDS_NO_TERMINATOR;
		tok = pl[i];
		if (tok == TOK_TERMINATOR)
			break;
		if (i + 5 > plen)
			return APF_TDS_NO_TERMINATOR;
		off = be16(pl + i + 1);
		olen = be16(pl + i + 3);
		i += 5;
		if (off > plen || olen > plen - off)
			return APF_TDS_BAD_OPTION;
		d = pl + off;
		switch (tok) {
		case TOK_VERSION:
			if (olen < 6)
				return APF_TDS_BAD_OPTION;
			out->has_version = true;
			out->major = d[0];
			out->minor = d[1];
			out->build = be16(d + 2);
			out->subbuild = be16(d + 4);
			break;
		case TOK_ENCRYPTION:
		case TOK_MARS:
			if (olen < 1)
				return APF_TDS_BAD_OPTION;
			if (tok == TOK_MARS) {
				out->has_mars = true;
				out->mars = d[0];
			} else {
				out->has_encryption = true;
				out->encryption = d[0];
			}
			break;
		case TOK_INSTOPT:
			out->has_instance = true;
			copy_instance(d, olen, out->instance, sizeof(out->instance));
			break;
		case TOK_THREADID:
			/* A server may send THREADID with no data (2.2.6.5: the server ignores it). */
			if (olen >= 4) {
				out->has_threadid = true;
				out->threadid = (uint32_t)be16(d) << 16 | be16(d + 2);
			}
			break;
		case TOK_FEDAUTHREQUIRED:
			if (olen >= 1) {
				out->has_fedauth = true;
				out->fedauth_required = d[0];
			}
			break;
		default:
			/* TRACEID, NONCEOPT and later tokens: skipped, as the spec lets a reader do. */
			break;
		}
	}
	return APF_TDS_OK;
}
