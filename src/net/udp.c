/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tcp.h"
#include "net/udp.h"
#include "util.h"

int apf_udp_exchange(const char *ip, uint16_t port, const void *req, size_t req_len, void *resp, size_t cap,
		     size_t *resp_len, unsigned int timeout_ms)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	uint64_t deadline = apf_now_ms() + timeout_ms;
	struct pollfd pfd = {.events = POLLIN};
	int fd = -1, rc;

	*resp_len = 0;
	if (apf_net_sockaddr(ip, port, &ss, &sl))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 || send(fd, req, req_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	pfd.fd = fd;
	for (;;) {
		uint64_t now = apf_now_ms();
		ssize_t n;

		rc = poll(&pfd, 1, now >= deadline ? 0 : (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			rc = -errno;
			goto out;
		}
		if (rc == 0) {
			rc = -ETIMEDOUT;
			goto out;
		}
		n = recv(fd, resp, cap, MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		*resp_len = (size_t)n < cap ? (size_t)n : cap;
		rc = 0;
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
