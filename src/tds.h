/* SPDX-License-Identifier: MIT */
/*
 * TDS PRELOGIN, the first message a SQL Server client sends (MS-TDS 2.2.6.5),
 * in a packet with the 8-byte header of MS-TDS 2.2.3.1. Pure encode/decode:
 * no I/O. scs.sql uses it to learn a server's version and encryption setting
 * without logging in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APF_TDS_HEADER_LEN 8
/* A PRELOGIN answer is a few dozen bytes; anything larger is not one. */
#define APF_TDS_PRELOGIN_MAX 4096

/* Packet types (MS-TDS 2.2.3.1.1). */
enum {
	APF_TDS_TYPE_TABULAR = 0x04, /* a server's answer */
	APF_TDS_TYPE_PRELOGIN = 0x12,
};

/* B_FENCRYPTION values (MS-TDS 2.2.6.5). */
enum apf_tds_encryption {
	APF_TDS_ENCRYPT_OFF = 0x00,     /* only the login packet is encrypted */
	APF_TDS_ENCRYPT_ON = 0x01,      /* everything is encrypted */
	APF_TDS_ENCRYPT_NOT_SUP = 0x02, /* no encryption at all, login included */
	APF_TDS_ENCRYPT_REQ = 0x03,     /* the server requires encryption */
};

struct apf_tds_prelogin {
	bool has_version;
	uint8_t major, minor; /* server product version, e.g. 16.0.1000 */
	uint16_t build, subbuild;
	bool has_encryption;
	uint8_t encryption; /* enum apf_tds_encryption, or another byte as sent */
	bool has_instance;
	char instance[64];  /* INSTOPT, printable ASCII only (others become '?') */
	bool has_threadid;
	uint32_t threadid;
	bool has_mars;
	uint8_t mars;
	bool has_fedauth;
	uint8_t fedauth_required;
};

/* Why a server's answer is not a PRELOGIN response; paired with apf_tds_strerror(). */
enum apf_tds_status {
	APF_TDS_OK = 0,
	APF_TDS_SHORT,         /* shorter than its header or its own length */
	APF_TDS_NOT_RESPONSE,  /* packet type is not 0x04 */
	APF_TDS_NOT_LAST,      /* status lacks END OF MESSAGE: a PRELOGIN answer is one packet */
	APF_TDS_BAD_LENGTH,    /* header length below 8 or above APF_TDS_PRELOGIN_MAX */
	APF_TDS_NO_TERMINATOR, /* option table runs off the end */
	APF_TDS_BAD_OPTION,    /* an option's data lies outside the payload or has the wrong size */
	APF_TDS_STATUS_COUNT,
};

/* One line for evidence: "packet type is not 0x04 (tabular response)". */
const char *apf_tds_strerror(enum apf_tds_status st);

/* "ENCRYPT_OFF", ..., or "unknown" for other bytes. */
const char *apf_tds_encryption_name(uint8_t e);

/*
 * Writes a client PRELOGIN packet (header included) asking for ENCRYPT_OFF, as
 * drivers do by default, with VERSION, ENCRYPTION, INSTOPT (the default
 * instance), THREADID and MARS. Returns 0, or -ENOSPC when `cap` is too small.
 */
int apf_tds_prelogin_encode(uint8_t *out, size_t cap, size_t *len_out);

/*
 * The total length a packet header announces, or 0 when `hdr` (APF_TDS_HEADER_LEN
 * bytes) cannot start a PRELOGIN answer (length below 8 or above the cap).
 */
size_t apf_tds_packet_length(const uint8_t *hdr);

/* Decodes a server's PRELOGIN answer (header included) into *out. */
enum apf_tds_status apf_tds_prelogin_decode(const uint8_t *pkt, size_t len, struct apf_tds_prelogin *out);
