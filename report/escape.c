/* SPDX-License-Identifier: MIT */
/*
 * The one escaping function of the HTML and JUnit renderers.
 *
 * Everything in a report came from somewhere we do not control: a certificate
 * subject, an LDAP attribute, a DNS name, an HTTP body. So every string goes
 * through here, and the output is safe both as HTML text/attribute value (in
 * double or single quotes) and as XML 1.0 character data:
 *   - & < > " ' become character references;
 *   - C0 controls other than TAB/LF/CR, DEL, C1 controls and U+FFFE/U+FFFF
 *     (which XML 1.0 forbids and HTML flags as parse errors) become U+FFFD;
 *   - invalid UTF-8 (stray continuation bytes, overlong forms, surrogates,
 *     values above U+10FFFF, truncated sequences) becomes U+FFFD, one per bad
 *     byte, so a reader can see that something was there without the bytes
 *     reaching the browser or the CI's XML parser.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char apf_replacement[] = "\xEF\xBF\xBD";

/*
 * Length of the valid UTF-8 sequence at `p` (at most `left` bytes), storing the
 * code point in *cp; 0 when the bytes there are not well-formed UTF-8
 * (Unicode 15, table 3-7).
 */
static size_t apf_utf8_decode(const unsigned char *p, size_t left, unsigned long *cp)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;
	unsigned long v;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		v = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		v = p[0] & 0x0F;
		if (p[0] == 0xE0)
			lo = 0xA0; /* overlong */
		else if (p[0] == 0xED)
			hi = 0x9F; /* UTF-16 surrogates */
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		v = p[0] & 0x07;
		if (p[0] == 0xF0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (left < len)
		return 0;
	/* Only the second byte has a narrowed range; the rest are plain continuations. */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	*cp = v;
	return len;
}

/*
 * Invisible formatting characters: the bidirectional embeddings, overrides and
 * isolates (U+202A-202E, U+2066-2069, U+061C, U+200E/F), zero-width characters
 * (U+200B-200D, U+2060-2064, U+FEFF), line/paragraph separators, and the other
 * characters of Unicode general category Cf (format), among them the tag
 * characters U+E0000-E007F that can carry hidden text. A certificate subject
 * holding U+202E would otherwise reorder what a reader of the report sees
 * (CVE-2021-42574, "Trojan Source"; Unicode TR #9 and UAX #31 list them).
 * Human-readable renderers show them as a visible <U+XXXX>; the JSON keeps them
 * as \uXXXX escapes.
 */
bool apf_cp_is_invisible_format(unsigned long cp)
{
	static const struct {
		unsigned long lo, hi;
	} ranges[] = {
		{0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
		{0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
		{0x200B, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
		{0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
		{0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE007F},
	};

	/* Reports are mostly ASCII: answer those without the table. */
	if (cp < 0x00AD)
		return false;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (cp >= ranges[i].lo && cp <= ranges[i].hi)
			return true;
	}
	return false;
}

/* Code points that must not reach an HTML or XML 1.0 document as they are. */
static int apf_cp_forbidden(unsigned long cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return 0;
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return 1;
	return cp == 0xFFFE || cp == 0xFFFF;
}

int apf_html_escape_n(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0; /* run: bytes at p[i-run..i) that need no escaping */
	int rc = 0;

	if (!s)
		return 0;
	while (i < n) {
		const char *rep = NULL;
		char visible[24];
		unsigned long cp = 0;
		size_t len = apf_utf8_decode(p + i, n - i, &cp);

		if (len == 0) {
			rep = apf_replacement;
			len = 1;
		} else if (apf_cp_forbidden(cp)) {
			rep = apf_replacement;
		} else if (apf_cp_is_invisible_format(cp)) {
			snprintf(visible, sizeof(visible), "&lt;U+%04lX&gt;", cp);
			rep = visible;
		} else if (len == 1) {
			switch (cp) {
			case '&': rep = "&amp;"; break;
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '"': rep = "&quot;"; break;
			/* &apos; is not HTML 4; the numeric form is valid everywhere */
			case '\'': rep = "&#39;"; break;
			default: break;
			}
		}
		if (!rep) {
			run += len;
			i += len;
			continue;
		}
		/* Copy the clean stretch in one call: reports are mostly plain text. */
		if (run && fwrite(p + i - run, 1, run, out) != run) {
			rc = -EIO;
			goto out;
		}
		run = 0;
		if (fputs(rep, out) == EOF) {
			rc = -EIO;
			goto out;
		}
		i += len;
	}
	if (run && fwrite(p + i - run, 1, run, out) != run)
		rc = -EIO;
out:
	return rc;
}

int apf_html_escape(FILE *out, const char *s)
{
	return s ? apf_html_escape_n(out, s, strlen(s)) : 0;
}

int apf_text_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t i = 0, n = strlen((const char *)p);

	while (i < n) {
		unsigned long cp = 0;
		size_t len = apf_utf8_decode(p + i, n - i, &cp);

		/* C1 counts too: U+009B is CSI to terminals that honour 8-bit controls. */
		if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
			if (fputc('?', out) == EOF)
				return -EIO;
			i += len ? len : 1;
			continue;
		}
		if (apf_cp_is_invisible_format(cp)) {
			if (fprintf(out, "<U+%04lX>", cp) < 0)
				return -EIO;
			i += len;
			continue;
		}
		if (fwrite(p + i, 1, len, out) != len)
			return -EIO;
		i += len;
	}
	return 0;
}

char *apf_utf8_fix_dup(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t i = 0, n = strlen((const char *)p);
	char *buf = NULL;
	size_t blen = 0;
	FILE *mem = open_memstream(&buf, &blen);

	if (!mem)
		abort(); /* only fails on OOM, which the model's allocators abort on too */
	while (i < n) {
		unsigned long cp = 0;
		size_t len = apf_utf8_decode(p + i, n - i, &cp);

		if (len == 0) {
			fputs(apf_replacement, mem);
			i++;
		} else {
			fwrite(p + i, 1, len, mem);
			i += len;
		}
	}
	if (fclose(mem) != 0)
		abort();
	return buf;
}

char *apf_html_escape_dup(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		abort(); /* only fails on OOM, which the model's allocators abort on too */
	if (apf_html_escape(mem, s ? s : "") < 0 || fclose(mem) != 0)
		abort();
	return buf;
}

int apf_json_escape_invisible(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	/* jansson writes these characters raw, and only ever inside strings (JSON's
	 * own syntax is ASCII), so each one can be replaced by its \u escape where it
	 * stands. The document then decodes to exactly the same strings. DEL and C1
	 * controls go the same way (jansson escapes only C0): U+009B is CSI to a terminal
	 * that honours 8-bit controls, and `cat report.json` must stay harmless. */
	while (i < n) {
		unsigned long cp = 0;
		size_t len = apf_utf8_decode(p + i, n - i, &cp);

		if (len == 0)
			len = 1; /* cannot happen in jansson's output; pass through */
		else if (cp >= 0x7F && (cp <= 0x9F || apf_cp_is_invisible_format(cp))) {
			int w;
			if (run && fwrite(p + i - run, 1, run, out) != run)
				return -EIO;
			run = 0;
			if (cp > 0xFFFF)
				w = fprintf(out, "\\u%04lx\\u%04lx", 0xD800 + ((cp - 0x10000) >> 10),
					    0xDC00 + ((cp - 0x10000) & 0x3FF));
			else
				w = fprintf(out, "\\u%04lx", cp);
			if (w < 0)
				return -EIO;
			i += len;
			continue;
		}
		run += len;
		i += len;
	}
	if (run && fwrite(p + i - run, 1, run, out) != run)
		return -EIO;
	return 0;
}
