/* SPDX-License-Identifier: MIT */
/* DHCP client socket: see dhcp.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "util.h"
#include "net/dhcp.h"

enum {
	DHCP_SERVER_PORT = 67,
	DHCP_CLIENT_PORT = 68,
};

struct apf_dhcp_sock {
	int fd;
	uint8_t *buf; /* receive buffer, APF_DHCP_MAX_PACKET + 1 to see oversize datagrams */
};

int apf_dhcp_ifinfo(const char *ifname, struct apf_dhcp_ifinfo *out)
{
	struct ifaddrs *ifa = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	out->index = if_nametoindex(ifname);
	if (out->index == 0)
		return -ENODEV;
	if (getifaddrs(&ifa) != 0) {
		rc = -errno;
		goto out;
	}
	for (const struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET && out->addr == 0) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
			out->addr = sin->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *sll = (const struct sockaddr_ll *)(const void *)i->ifa_addr;
			if (sll->sll_halen == 6) {
				memcpy(out->mac, sll->sll_addr, 6);
				out->has_mac = true;
			}
		}
	}
out:
	if (ifa)
		freeifaddrs(ifa);
	return rc;
}

int apf_dhcp_open(const char *ifname, struct apf_dhcp_sock **out, char **err_out)
{
	struct apf_dhcp_sock *s = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(DHCP_CLIENT_PORT)};
	const char *what = NULL;
	int one = 1, rc = 0, fd = -1;

	*out = NULL;
	if (err_out)
		*err_out = NULL;
	if (!ifname || strlen(ifname) >= IFNAMSIZ || if_nametoindex(ifname) == 0) {
		rc = -ENODEV;
		what = "if_nametoindex";
		goto out;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		what = "socket";
		goto out;
	}
	/* REUSEADDR lets us share port 68 with a DHCP client that also sets it
	 * (ISC dhclient does); replies are told apart by xid. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		rc = -errno;
		what = "setsockopt(SO_REUSEADDR)";
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) != 0) {
		rc = -errno;
		what = "setsockopt(SO_BROADCAST)";
		goto out;
	}
	/* Without the device binding a broadcast would leave by the default route's
	 * interface, and replies from other segments would be mixed in. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0) {
		rc = -errno;
		what = "setsockopt(SO_BINDTODEVICE)";
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		rc = -errno;
		what = "bind(0.0.0.0:68)";
		goto out;
	}
	s = apf_xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->buf = apf_xmalloc(APF_DHCP_MAX_PACKET + 1);
	fd = -1;
out:
	if (rc == -EPERM)
		rc = -EACCES;
	if (rc && err_out)
		*err_out = apf_xasprintf("%s on %s: %s", what, ifname ? ifname : "(none)", strerror(-rc));
	if (fd >= 0)
		close(fd);
	*out = s;
	return rc;
}

void apf_dhcp_close(struct apf_dhcp_sock *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s);
}

int apf_dhcp_send(struct apf_dhcp_sock *s, const uint8_t *pkt, size_t len, uint32_t dst)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(DHCP_SERVER_PORT)};
	ssize_t n;

	sin.sin_addr.s_addr = dst;
	n = sendto(s->fd, pkt, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int apf_dhcp_recv(struct apf_dhcp_sock *s, uint32_t xid, uint64_t deadline_ms, struct apf_dhcp_msg **out)
{
	*out = NULL;
	for (;;) {
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		struct apf_dhcp_msg *m = NULL;
		uint64_t now = apf_now_ms();
		ssize_t n;
		int pr;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		pr = poll(&pfd, 1, (int)(deadline_ms - now > 60000 ? 60000 : deadline_ms - now));
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pr == 0)
			continue;
		n = recvfrom(s->fd, s->buf, APF_DHCP_MAX_PACKET + 1, MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return -errno;
		}
		/* MSG_TRUNC reports the real size: an oversize datagram is dropped, not cut. */
		if ((size_t)n > APF_DHCP_MAX_PACKET)
			continue;
		if (apf_dhcp_decode(s->buf, (size_t)n, &m) != 0)
			continue;
		if (m->op != APF_DHCP_BOOTREPLY || m->xid != xid) {
			apf_dhcp_msg_free(m);
			continue;
		}
		m->src_addr = from.sin_addr.s_addr;
		*out = m;
		return 0;
	}
}

static void random_bytes(void *p, size_t n)
{
	/* getrandom() on a few bytes does not block once the pool is up; if it
	 * fails we fall back to weaker entropy: an xid only has to be unlikely to repeat. */
	if (getrandom(p, n, GRND_NONBLOCK) != (ssize_t)n) {
		uint64_t t = apf_now_ms() ^ ((uint64_t)getpid() << 32);
		uint8_t *b = p;
		for (size_t i = 0; i < n; i++) {
			t = t * 6364136223846793005ULL + 1442695040888963407ULL;
			b[i] = (uint8_t)(t >> 56);
		}
	}
}

uint32_t apf_dhcp_random_xid(void)
{
	uint32_t x;
	random_bytes(&x, sizeof(x));
	return x;
}

void apf_dhcp_test_mac(uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x61;
	mac[2] = 0x70;
	mac[3] = 0x66;
	random_bytes(mac + 4, 2);
}
