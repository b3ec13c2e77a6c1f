/* SPDX-License-Identifier: MIT */
/* Fixture-replaying stand-in for src/net/dhcp.c: see fake_dhcp_net.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "apf_test.h"
#include "fake_dhcp_net.h"
#include "net/dhcp.h"
#include "util.h"

#define MAX_QUEUE 32
#define MAX_SENT 32

struct apf_dhcp_sock {
	char ifname[16];
};

struct sent {
	uint8_t type;
	uint32_t ciaddr, dst;
	int fqdn_flags;
};

static char replies[1024];
static struct apf_dhcp_msg *queue[MAX_QUEUE];
static size_t n_queue;
static struct sent sent[MAX_SENT];
static size_t n_sent;

void fake_dhcp_set_replies(const char *spec)
{
	snprintf(replies, sizeof(replies), "%s", spec ? spec : "");
	for (size_t i = 0; i < n_queue; i++)
		apf_dhcp_msg_free(queue[i]);
	n_queue = 0;
	n_sent = 0;
}

size_t fake_dhcp_sent_count(void)
{
	return n_sent;
}

uint8_t fake_dhcp_sent_type(size_t i)
{
	return i < n_sent ? sent[i].type : 0;
}

uint32_t fake_dhcp_sent_ciaddr(size_t i)
{
	return i < n_sent ? sent[i].ciaddr : 0;
}

uint32_t fake_dhcp_sent_dst(size_t i)
{
	return i < n_sent ? sent[i].dst : 0;
}

int fake_dhcp_sent_fqdn_flags(size_t i)
{
	return i < n_sent ? sent[i].fqdn_flags : -1;
}

int apf_dhcp_ifinfo(const char *ifname, struct apf_dhcp_ifinfo *out)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 2};

	memset(out, 0, sizeof(*out));
	if (strcmp(ifname, "missing0") == 0)
		return -ENODEV;
	out->index = 2;
	if (strcmp(ifname, "noaddr0") != 0)
		inet_pton(AF_INET, "192.0.2.2", &out->addr);
	memcpy(out->mac, mac, 6);
	out->has_mac = true;
	return 0;
}

int apf_dhcp_open(const char *ifname, struct apf_dhcp_sock **out, char **err_out)
{
	*out = NULL;
	if (err_out)
		*err_out = NULL;
	if (strcmp(ifname, "missing0") == 0)
		return -ENODEV;
	if (strcmp(ifname, "noperm0") == 0) {
		if (err_out)
			*err_out = apf_xstrdup("bind(0.0.0.0:68) on noperm0: Permission denied");
		return -EACCES;
	}
	*out = apf_xcalloc(1, sizeof(**out));
	snprintf((*out)->ifname, sizeof((*out)->ifname), "%s", ifname);
	return 0;
}

void apf_dhcp_close(struct apf_dhcp_sock *s)
{
	free(s);
}

/* Loads one fixture, rewriting xid and (when `sid` is set) the server identifier in place. */
static struct apf_dhcp_msg *load(const char *name, const char *sid, uint32_t xid)
{
	char rel[256];
	unsigned char *data = NULL;
	size_t len = 0;
	struct apf_dhcp_msg *m = NULL;
	uint32_t id = 0;

	snprintf(rel, sizeof(rel), "fixtures/dhcp/%s", name);
	if (apf_read_file(apf_test_srcpath(rel), 65536, &data, &len) != 0 || len < 244) {
		fail_msg("cannot read fixture %s", rel);
		return NULL;
	}
	data[4] = (uint8_t)(xid >> 24);
	data[5] = (uint8_t)(xid >> 16);
	data[6] = (uint8_t)(xid >> 8);
	data[7] = (uint8_t)xid;
	if (sid && inet_pton(AF_INET, sid, &id) == 1) {
		for (size_t i = 240; i + 1 < len && data[i] != 255;) {
			if (data[i] == 0) {
				i++;
				continue;
			}
			if (data[i] == 54 && data[i + 1] == 4 && i + 6 <= len)
				memcpy(data + i + 2, &id, 4);
			i += 2u + data[i + 1];
		}
	}
	if (apf_dhcp_decode(data, len, &m) == 0)
		m->src_addr = apf_dhcp_server_id(m);
	free(data);
	return m;
}

int apf_dhcp_send(struct apf_dhcp_sock *s, const uint8_t *pkt, size_t len, uint32_t dst)
{
	struct apf_dhcp_msg *req = NULL;
	char spec[sizeof(replies)], *save = NULL;
	size_t flen;
	const uint8_t *f;

	if (apf_dhcp_decode(pkt, len, &req) != 0)
		return -EINVAL;
	if (n_sent < MAX_SENT) {
		f = apf_dhcp_opt_get(req, APF_DHCP_OPT_CLIENT_FQDN, &flen);
		sent[n_sent].type = req->type;
		sent[n_sent].ciaddr = req->ciaddr;
		sent[n_sent].dst = dst;
		sent[n_sent].fqdn_flags = f && flen ? f[0] : -1;
		n_sent++;
	}
	snprintf(spec, sizeof(spec), "%s", replies);
	for (char *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *at = strchr(tok, '@'), *pct = strchr(tok, '%');
		struct apf_dhcp_msg *m;
		bool answers;

		if (pct) {
			*pct++ = '\0';
			if (strcmp(pct, s->ifname) != 0)
				continue;
		}
		if (at)
			*at++ = '\0';
		m = load(tok, at, req->xid);
		if (!m)
			continue;
		answers = req->type == APF_DHCP_DISCOVER ? m->type == APF_DHCP_OFFER
			  : req->type == APF_DHCP_REQUEST || req->type == APF_DHCP_INFORM
				  ? (m->type == APF_DHCP_ACK || m->type == APF_DHCP_NAK)
				  : false;
		if (answers && n_queue < MAX_QUEUE)
			queue[n_queue++] = m;
		else
			apf_dhcp_msg_free(m);
	}
	apf_dhcp_msg_free(req);
	return 0;
}

int apf_dhcp_recv(struct apf_dhcp_sock *s, uint32_t xid, uint64_t deadline_ms, struct apf_dhcp_msg **out)
{
	*out = NULL;
	/* No waiting: an empty queue is the window running out. */
	while (n_queue > 0) {
		struct apf_dhcp_msg *m = queue[0];
		memmove(queue, queue + 1, (n_queue - 1) * sizeof(queue[0]));
		n_queue--;
		if (m->xid == xid) {
			*out = m;
			return 0;
		}
		apf_dhcp_msg_free(m);
	}
	return -ETIMEDOUT;
}

uint32_t apf_dhcp_random_xid(void)
{
	static uint32_t x = 0x5eed0000;
	return ++x;
}

void apf_dhcp_test_mac(uint8_t mac[6])
{
	static const uint8_t m[6] = {0x02, 0x61, 0x70, 0x66, 0x00, 0x01};
	memcpy(mac, m, 6);
}
