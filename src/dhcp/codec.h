/* SPDX-License-Identifier: MIT */
/*
 * A small, strict DHCPv4 codec (RFC 2131/2132): encodes the few client
 * messages amt-preflight sends and decodes any reply. Decoding treats every
 * byte as hostile: lengths are checked against the buffer, option overload
 * (52) is honoured only from the main option area (so it cannot loop), and
 * long options split across instances are concatenated (RFC 3396).
 *
 * No sockets here: src/net/dhcp.c moves the bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	APF_DHCP_BOOTREQUEST = 1,
	APF_DHCP_BOOTREPLY = 2,
};

/* Option 53 values. */
enum apf_dhcp_type {
	APF_DHCP_DISCOVER = 1,
	APF_DHCP_OFFER = 2,
	APF_DHCP_REQUEST = 3,
	APF_DHCP_DECLINE = 4,
	APF_DHCP_ACK = 5,
	APF_DHCP_NAK = 6,
	APF_DHCP_RELEASE = 7,
	APF_DHCP_INFORM = 8,
};

/* Option codes the project reads or writes. */
enum {
	APF_DHCP_OPT_PAD = 0,
	APF_DHCP_OPT_SUBNET_MASK = 1,
	APF_DHCP_OPT_ROUTER = 3,
	APF_DHCP_OPT_DNS_SERVERS = 6,
	APF_DHCP_OPT_HOSTNAME = 12,
	APF_DHCP_OPT_DOMAIN_NAME = 15,
	APF_DHCP_OPT_REQUESTED_IP = 50,
	APF_DHCP_OPT_LEASE_TIME = 51,
	APF_DHCP_OPT_OVERLOAD = 52,
	APF_DHCP_OPT_MSG_TYPE = 53,
	APF_DHCP_OPT_SERVER_ID = 54,
	APF_DHCP_OPT_PARAM_LIST = 55,
	APF_DHCP_OPT_MESSAGE = 56,
	APF_DHCP_OPT_CLIENT_ID = 61,
	APF_DHCP_OPT_CLIENT_FQDN = 81,
	APF_DHCP_OPT_DOMAIN_SEARCH = 119,
	APF_DHCP_OPT_END = 255,
};

/* Option 81 flag bits (RFC 4702 section 2.1). */
enum {
	APF_FQDN_S = 0x01, /* server should do the A update */
	APF_FQDN_O = 0x02, /* server overrode the client's S */
	APF_FQDN_E = 0x04, /* name in canonical wire format (else deprecated ASCII) */
	APF_FQDN_N = 0x08, /* server must not do any update; then S must be 0 */
};

/* BOOTP fixed header (236) + magic cookie (4). */
#define APF_DHCP_HDR_LEN 240u
/* Largest datagram decoded; anything longer is rejected, not truncated. */
#define APF_DHCP_MAX_PACKET 65535u
/* Buffer size that holds any encoded client message. */
#define APF_DHCP_ENCODE_MAX 576u
/* Presentation form of a domain name: 255 octets, each possibly "\DDD", + NUL. */
#define APF_DHCP_NAME_MAX 1024u

struct apf_dhcp_opt {
	bool present;
	size_t len;
	uint8_t *data; /* owned; instances of the same code concatenated (RFC 3396) */
};

/* A decoded packet. Addresses are in network byte order. */
struct apf_dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	uint8_t type;        /* option 53, 0 when absent or malformed */
	uint8_t overload;    /* option 52 as honoured: 0, 1 (file), 2 (sname), 3 (both) */
	uint32_t src_addr;   /* who sent it (set by the socket layer), 0 when unknown */
	struct apf_dhcp_opt opt[256];
};

/*
 * Decodes `len` bytes. Returns 0 and a new message in *out, -EBADMSG when the
 * packet is short, has no magic cookie, an option runs past its area or the
 * packet is over APF_DHCP_MAX_PACKET. *out stays NULL on failure.
 */
int apf_dhcp_decode(const uint8_t *buf, size_t len, struct apf_dhcp_msg **out);
void apf_dhcp_msg_free(struct apf_dhcp_msg *m);

/* The option's data and length, or NULL when absent. A present option with no
 * data returns a non-NULL pointer and *len 0. */
const uint8_t *apf_dhcp_opt_get(const struct apf_dhcp_msg *m, uint8_t code, size_t *len);

/* Option 54, or the sender's address when the server sent no identifier (0 if neither). */
uint32_t apf_dhcp_server_id(const struct apf_dhcp_msg *m);

/* "DHCPACK", ...; "unknown" for anything else. */
const char *apf_dhcp_type_name(uint8_t type);

/* Decoded option 81. */
struct apf_dhcp_fqdn {
	uint8_t flags, rcode1, rcode2;
	bool wire;             /* E bit: the name was in wire format */
	bool fully_qualified;  /* wire: ended with the root label; ASCII: ended with '.' */
	char name[APF_DHCP_NAME_MAX]; /* presentation form without the trailing dot; may be "" */
};

/*
 * Decodes option 81 data (flags, rcode1, rcode2, name). Wire names with
 * compression pointers or extended label types, names over 255 octets and
 * ASCII names with a NUL before the end or non-printable bytes are rejected
 * with -EBADMSG. Unusual bytes in wire labels are kept as "\DDD".
 */
int apf_dhcp_fqdn_decode(const uint8_t *data, size_t len, struct apf_dhcp_fqdn *out);

/* "S,E" style list of the set flag bits, "none" when zero. `buf` >= 16 bytes. */
const char *apf_dhcp_fqdn_flags_str(uint8_t flags, char *buf, size_t size);

/*
 * Decodes an ASCII domain name option (15): trailing NULs (Windows servers add
 * one) and a trailing dot are dropped. -EBADMSG for an empty name, an inner
 * NUL, non-printable bytes or more than 255 octets.
 */
int apf_dhcp_domain_decode(const uint8_t *data, size_t len, char *out, size_t size);

/* What a client message carries. Addresses in network byte order; 0 = omitted. */
struct apf_dhcp_req {
	uint8_t type;           /* enum apf_dhcp_type */
	uint32_t xid;
	uint8_t chaddr[6];      /* Ethernet address */
	bool broadcast;         /* ask for broadcast replies (we may have no address yet) */
	uint32_t ciaddr;
	uint32_t requested_ip;  /* option 50 */
	uint32_t server_id;     /* option 54 */
	bool client_id;         /* option 61 = hardware type 1 + chaddr */
	const char *hostname;   /* option 12, NULL = omitted */
	const char *fqdn;       /* option 81, NULL = omitted; one label = partial name */
	uint8_t fqdn_flags;     /* sent as is; E selects wire format for the name */
	const uint8_t *prl;     /* option 55 */
	size_t n_prl;
};

/*
 * Encodes `r` into buf (at least APF_DHCP_ENCODE_MAX bytes is always enough).
 * Returns 0 and the length in *len_out, -EINVAL for a bad name (empty label,
 * label over 63, over 255 octets) or type, -ENOSPC when `cap` is too small.
 */
int apf_dhcp_encode(const struct apf_dhcp_req *r, uint8_t *buf, size_t cap, size_t *len_out);
