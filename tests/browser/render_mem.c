/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render_mem.h"

char *apf_render_mem(int (*write)(const struct apf_run *, FILE *), const struct apf_run *run, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		abort();
	*rc = write(run, mem);
	if (fclose(mem) != 0)
		abort();
	return buf;
}

size_t apf_count(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
		n++;
	return n;
}

const char *apf_bad_tag(const char *doc, const char *const *allowed, bool html)
{
	for (const char *p = strchr(doc, '<'); p; p = strchr(p + 1, '<')) {
		const char *q = p + 1, *end = strchr(p, '>');
		size_t n;
		bool ok = false;
		char *tag;

		if (*q == '/')
			q++;
		n = strcspn(q, " \t\n/>");
		for (size_t i = 0; allowed[i]; i++) {
			if (strlen(allowed[i]) == n && strncasecmp(allowed[i], q, n) == 0)
				ok = true;
		}
		if (!ok || !end)
			return p;
		if (!html)
			continue;
		tag = strndup(p, (size_t)(end - p));
		/* Attributes a static report never needs: anything that loads or runs. */
		for (char *c = tag; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strstr(tag, " on") || strstr(tag, "src=") || strstr(tag, "url(") ||
		    (strstr(tag, "href=") && !strstr(tag, "href=\"#")))
			ok = false;
		free(tag);
		if (!ok)
			return p;
	}
	return NULL;
}

bool apf_in_text(const char *doc, const char *p)
{
	while (p > doc) {
		p--;
		if (*p == '>')
			return true;
		if (*p == '<')
			return false;
	}
	return true;
}

bool apf_clean_utf8(const char *s)
{
	/* glibc's iconv rejects overlong forms, surrogates and values above U+10FFFF. */
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	size_t inlen = strlen(s), outlen = inlen * 4 + 4;
	char *in = (char *)s, *outbuf = malloc(outlen), *out = outbuf;
	bool ok;

	if (cd == (iconv_t)-1 || !outbuf)
		abort();
	ok = iconv(cd, &in, &inlen, &out, &outlen) != (size_t)-1 && inlen == 0;
	for (const uint32_t *cp = (const uint32_t *)outbuf; ok && (const char *)cp < out; cp++) {
		if ((*cp < 0x20 && *cp != '\t' && *cp != '\n' && *cp != '\r') || (*cp >= 0x7f && *cp <= 0x9f))
			ok = false;
	}
	iconv_close(cd);
	free(outbuf);
	return ok;
}
