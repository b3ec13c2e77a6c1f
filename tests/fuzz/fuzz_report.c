/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the report renderers and their escaping: a result model is
 * built from the input (hostile strings in messages, evidence, remediations
 * and run metadata), rendered as JSON, HTML, JUnit and text, and each output
 * is checked as its reader would take it:
 *   - JSON parses (jansson) and gives back every message as it was (invalid
 *     UTF-8 replaced by U+FFFD), with no raw invisible formatting character;
 *   - JUnit is well-formed XML 1.0 (a small checker below: balanced tags,
 *     quoted attributes, entity references only, allowed characters);
 *   - HTML has no '<' that does not open one of the renderer's own tags, and
 *     no raw control or invisible formatting character;
 *   - text has no control character but newline, and no invisible one.
 * A violation abort()s.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry.h"
#include "report.h"
#include "result.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the model, from the input ------------------------------------------ */

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned int take(struct input *in)
{
	unsigned int b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* A string of up to 63 input bytes (a NUL byte ends it early). Caller frees. */
static char *take_str(struct input *in)
{
	size_t len = take(in) & 63, i = 0;
	char *s = apf_xmalloc(len + 1);

	while (i < len && in->n) {
		s[i] = (char)take(in);
		if (!s[i])
			break;
		i++;
	}
	s[i] = '\0';
	return s;
}

static struct apf_run *build_run(struct input *in)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));
	size_t n = apf_registry_count();

	run->tool_version = take_str(in);
	run->host = take_str(in);
	run->site = take(in) & 1 ? take_str(in) : NULL;
	run->config_path = take(in) & 1 ? take_str(in) : NULL;
	run->config_digest = take_str(in);
	run->started = (time_t)take(in) << 24;
	run->duration_ms = take(in) * 37u;
	run->n_checks = take(in) % 5;
	run->checks = apf_xcalloc(run->n_checks ? run->n_checks : 1, sizeof(*run->checks));
	for (size_t i = 0; i < run->n_checks; i++) {
		/* Ids, titles and codes are the program's own (descriptors); all else is data. */
		const struct apf_check *c = apf_registry_at(take(in) % n);
		struct apf_check_result *r = &run->checks[i];
		size_t n_codes = 0, nf = take(in) % 4;

		while (c->codes[n_codes].code)
			n_codes++;
		r->id = c->id;
		r->title = c->title;
		r->duration_ms = take(in);
		for (size_t j = 0; j < nf; j++) {
			unsigned int b = take(in);
			char *msg = take_str(in);
			struct apf_finding *f = apf_finding_new((enum apf_status)(b % APF_STATUS_COUNT),
								n_codes ? c->codes[(b >> 3) % n_codes].code : "CHECK_SKIPPED",
								msg);
			size_t ne = take(in) % 4;

			free(msg);
			for (size_t k = 0; k < ne; k++) {
				char *key = take_str(in), *val = take_str(in);
				apf_finding_add_evidence(f, key, val);
				free(key);
				free(val);
			}
			if (take(in) & 1) {
				char *rem = take_str(in);
				apf_finding_set_remedy(f, rem);
				free(rem);
			}
			apf_check_result_take_finding(r, f);
		}
	}
	apf_run_finish(run);
	return run;
}

/* ---- what every reader needs ------------------------------------------------ */

/* The checkers below read every byte of every document: without coverage
 * instrumentation of their own they cost a fraction, and their branches say
 * nothing about the code under test anyway. */
#if defined(__clang__)
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define NO_COVERAGE
#endif

/* Length of the well-formed UTF-8 sequence at p (code point in *cp), 0 if none. */
NO_COVERAGE static size_t utf8_next(const unsigned char *p, size_t left, unsigned long *cp)
{
	size_t len;
	unsigned long v, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xE0) == 0xC0) {
		len = 2, v = p[0] & 0x1F, min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		len = 3, v = p[0] & 0x0F, min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		len = 4, v = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (left < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

enum { ALLOW_TAB_CR = 1, ALLOW_NONCHAR = 2 };

/* Valid UTF-8 without C0 (but LF, and TAB/CR when allowed), DEL, C1, U+FFFE/F
 * (unless allowed) or any invisible formatting character. */
NO_COVERAGE static void check_chars(const char *s, size_t n, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned long cp;
		size_t len = utf8_next(p + i, n - i, &cp);

		if (!len)
			abort();
		if (cp < 0x20 && cp != '\n' && !((flags & ALLOW_TAB_CR) && (cp == '\t' || cp == '\r')))
			abort();
		if (cp >= 0x7F && (cp <= 0x9F || apf_cp_is_invisible_format(cp)))
			abort();
		if ((cp == 0xFFFE || cp == 0xFFFF) && !(flags & ALLOW_NONCHAR))
			abort();
		i += len;
	}
}

/* "&name;" or "&#N;"/"&#xH;" at s; returns its length, 0 when not a reference. */
NO_COVERAGE static size_t entity_len(const char *s)
{
	size_t i = 1;

	if (s[i] == '#') {
		i++;
		if (s[i] == 'x')
			i++;
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return 0;
		while (s[i] && strchr("0123456789abcdefABCDEF", s[i]))
			i++;
	} else {
		while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
			i++;
		if (i == 1)
			return 0;
	}
	return s[i] == ';' ? i + 1 : 0;
}

NO_COVERAGE static size_t name_len(const char *s)
{
	size_t i = 0;

	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || s[i] == ':' ||
	       (i && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.')))
		i++;
	return i;
}

/* A small XML 1.0 well-formedness check: one root element, balanced tags,
 * quoted attribute values without '<', every '&' a reference. */
NO_COVERAGE static void check_xml(const char *doc)
{
	const char *stack[64], *p = doc;
	size_t stack_len[64], depth = 0, roots = 0;

	check_chars(doc, strlen(doc), ALLOW_TAB_CR);
	if (strncmp(p, "<?xml ", 6) == 0) {
		p = strstr(p, "?>");
		if (!p)
			abort();
		p += 2;
	}
	while (*p) {
		if (*p == '&') {
			size_t e = entity_len(p);
			if (!e)
				abort();
			p += e;
		} else if (*p != '<') {
			if (!depth && !strchr(" \t\r\n", *p))
				abort(); /* text outside the root */
			p++;
		} else if (strncmp(p, "<!--", 4) == 0) {
			p = strstr(p + 4, "-->");
			if (!p)
				abort();
			p += 3;
		} else if (p[1] == '/') {
			size_t n = name_len(p + 2);
			if (!n || !depth || n != stack_len[depth - 1] || strncmp(p + 2, stack[depth - 1], n))
				abort();
			p += 2 + n;
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p++ != '>')
				abort();
			depth--;
		} else {
			size_t n = name_len(p + 1);
			if (!n || depth >= 64 || (!depth && roots++))
				abort();
			stack[depth] = p + 1;
			stack_len[depth] = n;
			p += 1 + n;
			for (;;) {
				char q;
				while (*p == ' ' || *p == '\n' || *p == '\t')
					p++;
				if (*p == '>' || (p[0] == '/' && p[1] == '>'))
					break;
				n = name_len(p);
				if (!n || p[n] != '=' || (p[n + 1] != '"' && p[n + 1] != '\''))
					abort();
				q = p[n + 1];
				p += n + 2;
				while (*p && *p != q) {
					if (*p == '<')
						abort();
					if (*p == '&') {
						size_t e = entity_len(p);
						if (!e)
							abort();
						p += e;
					} else {
						p++;
					}
				}
				if (*p++ != q)
					abort();
			}
			if (*p == '/')
				p += 2; /* empty element */
			else
				depth++, p++;
		}
	}
	if (depth || roots != 1)
		abort();
}

/* HTML is not XML: every '<' must open (or close) one of the renderer's own
 * tags, or a comment/doctype; data only ever arrives escaped. */
NO_COVERAGE static void check_html(const char *doc)
{
	static const char *const tags[] = {"a", "base", "body", "br", "code", "dd", "div", "dl", "dt", "footer",
					   "h1", "h2", "h3", "head", "header", "html", "li", "main", "meta", "p",
					   "section", "span", "strong", "style", "table", "tbody", "td", "th", "thead",
					   "time", "title", "tr", "ul", NULL};

	check_chars(doc, strlen(doc), ALLOW_TAB_CR);
	for (const char *p = strchr(doc, '<'); p; p = strchr(p + 1, '<')) {
		const char *name = p + 1 + (p[1] == '/');
		size_t n = name_len(name);
		bool known = false;

		if (strncmp(p, "<!DOCTYPE", 9) == 0 || strncmp(p, "<!--", 4) == 0)
			continue;
		for (size_t i = 0; tags[i] && !known; i++)
			known = strlen(tags[i]) == n && strncmp(name, tags[i], n) == 0;
		if (!known || !strchr(" >/\n", name[n]))
			abort();
	}
}

static void check_json(const char *doc, const struct apf_run *run)
{
	json_error_t jerr;
	json_t *root = json_loads(doc, 0, &jerr), *checks;

	/* Noncharacters are valid in JSON strings and harmless on a terminal. */
	check_chars(doc, strlen(doc), ALLOW_NONCHAR);
	if (!root)
		abort();
	checks = json_object_get(root, "checks");
	if (json_array_size(checks) != run->n_checks)
		abort();
	for (size_t i = 0; i < run->n_checks; i++) {
		json_t *fs = json_object_get(json_array_get(checks, i), "findings");
		if (json_array_size(fs) != run->checks[i].n_findings)
			abort();
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			/* Faithful: the message is the original string (bad bytes as U+FFFD). */
			const char *got = json_string_value(json_object_get(json_array_get(fs, j), "message"));
			char *want = apf_utf8_fix_dup(run->checks[i].findings[j]->message);
			if (!got || strcmp(got, want) != 0)
				abort();
			free(want);
		}
	}
	json_decref(root);
}

typedef int (*render_fn)(const struct apf_run *run, FILE *out);

static int render_text(const struct apf_run *run, FILE *out)
{
	struct apf_text_opts o = {.verbose = true};
	return apf_report_text_write(run, &o, out);
}

static char *render(const struct apf_run *run, render_fn fn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem || fn(run, mem) != 0 || fclose(mem) != 0)
		abort();
	if (strlen(buf) != len)
		abort(); /* a NUL byte in a document */
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct apf_run *run = build_run(&in);
	char *doc;

	doc = render(run, apf_report_json_write);
	check_json(doc, run);
	free(doc);
	doc = render(run, apf_report_junit_write);
	check_xml(doc);
	free(doc);
	doc = render(run, apf_report_html_write);
	check_html(doc);
	free(doc);
	doc = render(run, render_text);
	check_chars(doc, strlen(doc), ALLOW_NONCHAR);
	free(doc);
	apf_run_free(run);
	return 0;
}
