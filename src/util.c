/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "util.h"

void apf_buf_add(struct apf_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = apf_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void apf_buf_addf(struct apf_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	apf_buf_add(b, s, (size_t)n);
	free(s);
}

char *apf_buf_steal(struct apf_buf *b)
{
	char *p = b->p ? b->p : apf_xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void apf_buf_clear(struct apf_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int apf_read_file(const char *path, size_t max, unsigned char **out, size_t *len_out)
{
	int fd = -1, rc = 0;
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = apf_xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = -EFBIG;
			goto out;
		}
	}
	if (!buf)
		buf = apf_xmalloc(1);
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (len_out)
		*len_out = len;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The process umask, read without changing it (umask(2) would set it for every
 * thread for a moment). Falls back to the common 022. */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned int m = 022;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Umask: %o", &m) == 1)
			break;
	}
	if (f)
		fclose(f);
	return (mode_t)(m & 0777);
}

int apf_write_atomic(const char *path, int (*write)(FILE *out, const void *arg), const void *arg)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, rc;

	if (strcmp(path, "-") == 0) {
		rc = write(stdout, arg);
		if (fflush(stdout) != 0 && rc == 0)
			rc = -errno;
		return rc;
	}
	/* The temp file sits beside the target so rename() stays on one file system. */
	tmp = apf_xasprintf("%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	fd = -1;
	rc = write(f, arg);
	if (rc)
		goto out;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = -errno;
		goto out;
	}
	/* mkostemp creates 0600; give the report the mode any new file of the user's
	 * would get (reports name hosts and DNs: a umask of 077 is respected). */
	fchmod(fileno(f), 0666 & ~current_umask());
	if (fclose(f) != 0) {
		f = NULL;
		rc = -errno;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}

char *apf_strv_join(const char *const *v, size_t n, const char *sep)
{
	struct apf_buf b = {0};

	for (size_t i = 0; i < n; i++) {
		if (i)
			apf_buf_add(&b, sep, strlen(sep));
		apf_buf_add(&b, v[i], strlen(v[i]));
	}
	return apf_buf_steal(&b);
}

uint64_t apf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void apf_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

char *apf_strtrim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

bool apf_str_is_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}
