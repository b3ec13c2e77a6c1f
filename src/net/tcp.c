/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "net/tcp.h"

int apf_net_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

/* Waits for pfd's events until the monotonic deadline: 0, -ETIMEDOUT or -errno. */
static int poll_until(struct pollfd *pfd, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = apf_now_ms();
		int left = now >= deadline_ms ? 0 : (int)(deadline_ms - now), rc;
		rc = poll(pfd, 1, left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		return rc == 0 ? -ETIMEDOUT : 0;
	}
}

int apf_tcp_connect(const char *ip, uint16_t port, unsigned int timeout_ms, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, rc, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd pfd;

	*fd_out = -1;
	if (apf_net_sockaddr(ip, port, &ss, &sl))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&ss, sl);
	if (rc == 0)
		goto out;
	if (errno != EINPROGRESS) {
		rc = -errno;
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	rc = poll_until(&pfd, apf_now_ms() + timeout_ms);
	if (rc)
		goto out;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	rc = err ? -err : 0;
out:
	if (rc == 0) {
		*fd_out = fd;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int apf_tcp_probe(const char *ip, uint16_t port, unsigned int timeout_ms, uint64_t *rtt_ms)
{
	uint64_t t0 = apf_now_ms();
	int fd = -1, rc;

	rc = apf_tcp_connect(ip, port, timeout_ms, &fd);
	if (rtt_ms)
		*rtt_ms = apf_now_ms() - t0;
	if (fd >= 0)
		close(fd);
	return rc;
}

int apf_tcp_send_all(int fd, const void *buf, size_t len, uint64_t deadline_ms)
{
	const uint8_t *p = buf;
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int rc = poll_until(&pfd, deadline_ms);
		if (rc)
			return rc;
	}
	return 0;
}

int apf_tcp_recv_exact(int fd, void *buf, size_t len, uint64_t deadline_ms, size_t *got)
{
	uint8_t *p = buf;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	*got = 0;
	while (*got < len) {
		ssize_t n = recv(fd, p + *got, len - *got, 0);
		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int rc = poll_until(&pfd, deadline_ms);
		if (rc)
			return rc;
	}
	return 0;
}

const char *apf_tcp_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "connected";
	case -ECONNREFUSED:
		return "connection refused";
	case -ETIMEDOUT:
		return "timed out";
	case -EHOSTUNREACH:
		return "host unreachable";
	case -ENETUNREACH:
		return "network unreachable";
	case -EINVAL:
		return "not an IP address";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}
