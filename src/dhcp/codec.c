/* SPDX-License-Identifier: MIT */
/* DHCPv4 codec: see codec.h. Every length is checked before it is trusted. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/codec.h"
#include "alloc.h"

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};

/* Offsets in the BOOTP header (RFC 2131 figure 1). */
enum {
	OFF_XID = 4,
	OFF_SECS = 8,
	OFF_FLAGS = 10,
	OFF_CIADDR = 12,
	OFF_YIADDR = 16,
	OFF_SIADDR = 20,
	OFF_GIADDR = 24,
	OFF_CHADDR = 28,
	OFF_SNAME = 44,
	OFF_FILE = 108,
	OFF_COOKIE = 236,
	SNAME_LEN = 64,
	FILE_LEN = 128,
	BOOTP_MIN_LEN = 300, /* some relays and old servers drop shorter requests */
	MAX_NAME_WIRE = 255,
	MAX_LABEL = 63,
};

static const struct {
	uint8_t type;
	const char *name;
} type_names[] = {
	{APF_DHCP_DISCOVER, "DHCPDISCOVER"}, {APF_DHCP_OFFER, "DHCPOFFER"},
	{APF_DHCP_REQUEST, "DHCPREQUEST"},   {APF_DHCP_DECLINE, "DHCPDECLINE"},
	{APF_DHCP_ACK, "DHCPACK"},           {APF_DHCP_NAK, "DHCPNAK"},
	{APF_DHCP_RELEASE, "DHCPRELEASE"},   {APF_DHCP_INFORM, "DHCPINFORM"},
};

const char *apf_dhcp_type_name(uint8_t type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return "unknown";
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_addr(const uint8_t *p)
{
	uint32_t a;
	memcpy(&a, p, 4); /* stays in network order */
	return a;
}

/* Appends one option instance; instances of a code concatenate (RFC 3396). */
static void opt_append(struct apf_dhcp_opt *o, const uint8_t *data, size_t len)
{
	if (len) {
		uint8_t *n = apf_xrealloc(o->data, o->len + len);
		o->data = n;
		memcpy(o->data + o->len, data, len);
		o->len += len;
	}
	o->present = true;
}

/*
 * Walks one option area. `allow_overload` is true only for the main area:
 * option 52 inside sname/file is ignored, which is what keeps a hostile
 * packet from making us parse the same bytes twice.
 */
static int parse_area(struct apf_dhcp_msg *m, const uint8_t *p, size_t len, bool allow_overload)
{
	size_t i = 0;

	while (i < len) {
		uint8_t code = p[i];
		size_t olen;

		if (code == APF_DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == APF_DHCP_OPT_END)
			return 0;
		if (i + 1 >= len)
			return -EBADMSG;
		olen = p[i + 1];
		if (i + 2 + olen > len)
			return -EBADMSG;
		if (code != APF_DHCP_OPT_OVERLOAD || allow_overload)
			opt_append(&m->opt[code], p + i + 2, olen);
		i += 2 + olen;
	}
	return 0; /* a missing END is common enough to tolerate */
}

int apf_dhcp_decode(const uint8_t *buf, size_t len, struct apf_dhcp_msg **out)
{
	struct apf_dhcp_msg *m = NULL;
	const struct apf_dhcp_opt *ov, *mt;
	int rc = -EBADMSG;

	*out = NULL;
	if (!buf || len < APF_DHCP_HDR_LEN || len > APF_DHCP_MAX_PACKET)
		goto out;
	if (memcmp(buf + OFF_COOKIE, magic_cookie, sizeof(magic_cookie)) != 0)
		goto out;
	if (buf[0] != APF_DHCP_BOOTREQUEST && buf[0] != APF_DHCP_BOOTREPLY)
		goto out;

	m = apf_xcalloc(1, sizeof(*m));
	m->op = buf[0];
	m->htype = buf[1];
	m->hlen = buf[2];
	m->hops = buf[3];
	m->xid = get32(buf + OFF_XID);
	m->secs = (uint16_t)(buf[OFF_SECS] << 8 | buf[OFF_SECS + 1]);
	m->flags = (uint16_t)(buf[OFF_FLAGS] << 8 | buf[OFF_FLAGS + 1]);
	m->ciaddr = get_addr(buf + OFF_CIADDR);
	m->yiaddr = get_addr(buf + OFF_YIADDR);
	m->siaddr = get_addr(buf + OFF_SIADDR);
	m->giaddr = get_addr(buf + OFF_GIADDR);
	memcpy(m->chaddr, buf + OFF_CHADDR, sizeof(m->chaddr));

	rc = parse_area(m, buf + APF_DHCP_HDR_LEN, len - APF_DHCP_HDR_LEN, true);
	if (rc)
		goto out;
	/* RFC 3396 order: options, then file, then sname. */
	ov = &m->opt[APF_DHCP_OPT_OVERLOAD];
	if (ov->present && ov->len == 1 && ov->data[0] >= 1 && ov->data[0] <= 3) {
		m->overload = ov->data[0];
		if (m->overload & 1) {
			rc = parse_area(m, buf + OFF_FILE, FILE_LEN, false);
			if (rc)
				goto out;
		}
		if (m->overload & 2) {
			rc = parse_area(m, buf + OFF_SNAME, SNAME_LEN, false);
			if (rc)
				goto out;
		}
	}
	mt = &m->opt[APF_DHCP_OPT_MSG_TYPE];
	if (mt->present && mt->len == 1)
		m->type = mt->data[0];
	rc = 0;
out:
	if (rc) {
		apf_dhcp_msg_free(m);
		m = NULL;
	}
	*out = m;
	return rc;
}

void apf_dhcp_msg_free(struct apf_dhcp_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < 256; i++)
		free(m->opt[i].data);
	free(m);
}

const uint8_t *apf_dhcp_opt_get(const struct apf_dhcp_msg *m, uint8_t code, size_t *len)
{
	static const uint8_t empty[1];
	const struct apf_dhcp_opt *o = &m->opt[code];

	*len = 0;
	if (!o->present)
		return NULL;
	*len = o->len;
	return o->len ? o->data : empty;
}

uint32_t apf_dhcp_server_id(const struct apf_dhcp_msg *m)
{
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(m, APF_DHCP_OPT_SERVER_ID, &len);

	if (p && len == 4)
		return get_addr(p);
	return m->src_addr;
}

/* Appends one label byte in presentation form: LDH and '_' as is, the rest as \DDD. */
static int put_label_char(char *out, size_t size, size_t *pos, uint8_t c)
{
	bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		     c == '_';
	int n = plain ? snprintf(out + *pos, size - *pos, "%c", c) : snprintf(out + *pos, size - *pos, "\\%03u", c);

	if (n < 0 || (size_t)n >= size - *pos)
		return -EBADMSG;
	*pos += (size_t)n;
	return 0;
}

/* RFC 1035 wire name, no compression; a missing root label means a partial name (RFC 4702 2.3.1). */
static int wire_name_decode(const uint8_t *p, size_t len, struct apf_dhcp_fqdn *out)
{
	size_t i = 0, pos = 0;

	if (len > MAX_NAME_WIRE)
		return -EBADMSG;
	while (i < len) {
		uint8_t l = p[i++];
		if (l == 0) {
			if (i != len) /* bytes after the root label */
				return -EBADMSG;
			out->fully_qualified = true;
			break;
		}
		if (l > MAX_LABEL) /* 0xc0 pointers and 0x40 extended types both land here */
			return -EBADMSG;
		if (i + l > len)
			return -EBADMSG;
		if (pos > 0) { /* a separator, not label data: never escaped */
			if (pos + 1 >= sizeof(out->name))
				return -EBADMSG;
			out->name[pos++] = '.';
		}
		for (size_t k = 0; k < l; k++)
			if (put_label_char(out->name, sizeof(out->name), &pos, p[i + k]) != 0)
				return -EBADMSG;
		i += l;
	}
	out->name[pos] = '\0';
	return 0;
}

/* Printable ASCII name; trailing NULs tolerated, inner NULs and controls rejected. */
static int ascii_name_decode(const uint8_t *p, size_t len, char *out, size_t size, bool *fq)
{
	while (len > 0 && p[len - 1] == '\0')
		len--;
	if (len > MAX_NAME_WIRE || len >= size)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return -EBADMSG;
	*fq = len > 0 && p[len - 1] == '.';
	if (*fq)
		len--;
	if (len > 0 && p[len - 1] == '.') /* "name.." */
		return -EBADMSG;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int apf_dhcp_fqdn_decode(const uint8_t *data, size_t len, struct apf_dhcp_fqdn *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!data || len < 3)
		return -EBADMSG;
	out->flags = data[0];
	out->rcode1 = data[1];
	out->rcode2 = data[2];
	out->wire = (data[0] & APF_FQDN_E) != 0;
	if (out->wire)
		rc = wire_name_decode(data + 3, len - 3, out);
	else
		rc = ascii_name_decode(data + 3, len - 3, out->name, sizeof(out->name), &out->fully_qualified);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

const char *apf_dhcp_fqdn_flags_str(uint8_t flags, char *buf, size_t size)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} bits[] = {{APF_FQDN_S, "S"}, {APF_FQDN_O, "O"}, {APF_FQDN_E, "E"}, {APF_FQDN_N, "N"}};
	size_t pos = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(flags & bits[i].bit))
			continue;
		int n = snprintf(buf + pos, size - pos, "%s%s", pos ? "," : "", bits[i].name);
		if (n < 0 || (size_t)n >= size - pos)
			break;
		pos += (size_t)n;
	}
	if (flags & 0xf0) {
		int n = snprintf(buf + pos, size - pos, "%sMBZ", pos ? "," : "");
		if (n > 0 && (size_t)n < size - pos)
			pos += (size_t)n;
	}
	if (pos == 0)
		snprintf(buf, size, "none");
	return buf;
}

int apf_dhcp_domain_decode(const uint8_t *data, size_t len, char *out, size_t size)
{
	bool fq;
	int rc;

	if (!data || size == 0)
		return -EBADMSG;
	out[0] = '\0';
	rc = ascii_name_decode(data, len, out, size, &fq);
	if (rc == 0 && out[0] == '\0')
		rc = -EBADMSG;
	if (rc)
		out[0] = '\0';
	return rc;
}

/* ---- encoding -------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static void put(struct wbuf *w, const void *data, size_t n)
{
	if (w->err)
		return;
	if (w->len + n > w->cap) {
		w->err = -ENOSPC;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void put_opt(struct wbuf *w, uint8_t code, const void *data, size_t n)
{
	uint8_t hdr[2] = {code, (uint8_t)n};

	if (n > 255) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	put(w, hdr, 2);
	put(w, data, n);
}

/*
 * Wire-encodes `name` into out (>= 256 bytes). A name with a dot (or a
 * trailing one) is fully qualified and gets the root label; a single label is
 * sent as a partial name for the server to qualify.
 */
static int wire_name_encode(const char *name, uint8_t *out, size_t *len_out)
{
	size_t n = strlen(name), pos = 0, start = 0;
	bool fq = strchr(name, '.') != NULL;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0)
		return -EINVAL;
	while (start <= n) {
		const char *dot = memchr(name + start, '.', n - start);
		size_t l = dot ? (size_t)(dot - (name + start)) : n - start;
		if (l == 0 || l > MAX_LABEL || pos + 1 + l + (fq ? 1 : 0) > MAX_NAME_WIRE)
			return -EINVAL;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, name + start, l);
		pos += l;
		start += l + 1;
	}
	if (fq)
		out[pos++] = 0;
	*len_out = pos;
	return 0;
}

int apf_dhcp_encode(const struct apf_dhcp_req *r, uint8_t *buf, size_t cap, size_t *len_out)
{
	struct wbuf w = {.p = buf, .cap = cap};
	uint8_t hdr[APF_DHCP_HDR_LEN] = {0};
	uint8_t tmp[3 + MAX_NAME_WIRE + 1];
	uint8_t end = APF_DHCP_OPT_END;

	*len_out = 0;
	if (r->type < APF_DHCP_DISCOVER || r->type > APF_DHCP_INFORM)
		return -EINVAL;

	hdr[0] = APF_DHCP_BOOTREQUEST;
	hdr[1] = 1; /* Ethernet */
	hdr[2] = 6;
	hdr[OFF_XID] = (uint8_t)(r->xid >> 24);
	hdr[OFF_XID + 1] = (uint8_t)(r->xid >> 16);
	hdr[OFF_XID + 2] = (uint8_t)(r->xid >> 8);
	hdr[OFF_XID + 3] = (uint8_t)r->xid;
	if (r->broadcast)
		hdr[OFF_FLAGS] = 0x80;
	memcpy(hdr + OFF_CIADDR, &r->ciaddr, 4);
	memcpy(hdr + OFF_CHADDR, r->chaddr, 6);
	memcpy(hdr + OFF_COOKIE, magic_cookie, 4);
	put(&w, hdr, sizeof(hdr));

	put_opt(&w, APF_DHCP_OPT_MSG_TYPE, &r->type, 1);
	if (r->client_id) {
		tmp[0] = 1;
		memcpy(tmp + 1, r->chaddr, 6);
		put_opt(&w, APF_DHCP_OPT_CLIENT_ID, tmp, 7);
	}
	if (r->requested_ip)
		put_opt(&w, APF_DHCP_OPT_REQUESTED_IP, &r->requested_ip, 4);
	if (r->server_id)
		put_opt(&w, APF_DHCP_OPT_SERVER_ID, &r->server_id, 4);
	if (r->hostname) {
		size_t n = strlen(r->hostname);
		if (n == 0 || n > 63)
			return -EINVAL;
		put_opt(&w, APF_DHCP_OPT_HOSTNAME, r->hostname, n);
	}
	if (r->fqdn) {
		size_t n = 0;
		tmp[0] = r->fqdn_flags;
		tmp[1] = tmp[2] = 0; /* RFC 4702: clients send 0 in the deprecated RCODEs */
		if (r->fqdn_flags & APF_FQDN_E) {
			if (wire_name_encode(r->fqdn, tmp + 3, &n) != 0)
				return -EINVAL;
		} else {
			n = strlen(r->fqdn);
			if (n == 0 || n > MAX_NAME_WIRE)
				return -EINVAL;
			memcpy(tmp + 3, r->fqdn, n);
		}
		put_opt(&w, APF_DHCP_OPT_CLIENT_FQDN, tmp, 3 + n);
	}
	if (r->prl && r->n_prl)
		put_opt(&w, APF_DHCP_OPT_PARAM_LIST, r->prl, r->n_prl);
	put(&w, &end, 1);
	while (!w.err && w.len < BOOTP_MIN_LEN) {
		uint8_t pad = 0;
		put(&w, &pad, 1);
	}
	if (w.err)
		return w.err;
	*len_out = w.len;
	return 0;
}
