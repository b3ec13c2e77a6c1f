/* SPDX-License-Identifier: MIT */
/* apf_html_escape: the one function every HTML and JUnit string goes through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"

#define REPL "\xEF\xBF\xBD" /* U+FFFD */

static void expect_escape(const char *in, const char *want)
{
	char *got = apf_html_escape_dup(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_specials(void **state)
{
	(void)state;
	expect_escape("&", "&amp;");
	expect_escape("<", "&lt;");
	expect_escape(">", "&gt;");
	expect_escape("\"", "&quot;");
	expect_escape("'", "&#39;");
	expect_escape("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect_escape("a&amp;b", "a&amp;amp;b"); /* already-escaped text is text: escaped again */
	expect_escape("plain text, 123 = ok/fine", "plain text, 123 = ok/fine");
}

static void test_empty_and_null(void **state)
{
	(void)state;
	expect_escape("", "");
	expect_escape(NULL, "");
}

static void test_controls(void **state)
{
	(void)state;
	/* TAB, LF, CR are whitespace in HTML and XML 1.0: kept */
	expect_escape("a\tb\nc\rd", "a\tb\nc\rd");
	expect_escape("\x01", REPL);
	expect_escape("x\x1b[31my", "x" REPL "[31my");
	expect_escape("\x7f", REPL);
	expect_escape("\x0b\x0c", REPL REPL);
	/* C1 controls (U+0085 NEL, U+009B CSI) are valid UTF-8 but not wanted */
	expect_escape("\xc2\x85\xc2\x9b", REPL REPL);
	/* XML 1.0 forbids U+FFFE and U+FFFF */
	expect_escape("\xef\xbf\xbe\xef\xbf\xbf", REPL REPL);
}

static void test_valid_utf8_passes(void **state)
{
	(void)state;
	expect_escape("caf\xc3\xa9", "caf\xc3\xa9");                 /* U+00E9 */
	expect_escape("\xc2\xa0", "\xc2\xa0");                       /* U+00A0, first after C1 */
	expect_escape("\xe2\x82\xac", "\xe2\x82\xac");               /* U+20AC */
	expect_escape("\xed\x9f\xbf", "\xed\x9f\xbf");               /* U+D7FF, last before surrogates */
	expect_escape("\xf0\x9f\x94\x92", "\xf0\x9f\x94\x92");       /* U+1F512 */
	expect_escape("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");       /* U+10FFFF */
	expect_escape(REPL, REPL);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect_escape("\xff", REPL);
	expect_escape("a\x80" "b", "a" REPL "b");          /* lone continuation */
	expect_escape("\xc0\xaf", REPL REPL);              /* overlong '/' */
	expect_escape("\xe0\x80\xaf", REPL REPL REPL);     /* overlong 3-byte */
	expect_escape("\xed\xa0\x80", REPL REPL REPL);     /* surrogate U+D800 */
	expect_escape("\xf4\x90\x80\x80", REPL REPL REPL REPL); /* above U+10FFFF */
	expect_escape("\xf8\x88\x80\x80\x80", REPL REPL REPL REPL REPL);
	expect_escape("\xe2\x82", REPL REPL);              /* truncated at end */
	expect_escape("\xe2\x82<", REPL REPL "&lt;");      /* truncated before markup: the '<' is not swallowed */
	expect_escape("\xc3", REPL);
}

static void test_length_bounded(void **state)
{
	char buf[64];
	FILE *mem;

	(void)state;
	/* Only the first n bytes count, even inside a longer string. */
	mem = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(mem);
	assert_int_equal(apf_html_escape_n(mem, "dns.<x>", 3), 0);
	fclose(mem);
	assert_string_equal(buf, "dns");
}

static void test_very_long(void **state)
{
	const size_t n = 1u << 20;
	char *in = malloc(n + 1), *out;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (i % 4 == 3) ? '<' : 'a';
	in[n] = '\0';
	out = apf_html_escape_dup(in);
	assert_int_equal(strlen(out), n / 4 * 3 + n / 4 * 4);
	assert_null(strchr(out, '<'));
	assert_memory_equal(out, "aaa&lt;aaa&lt;", 14);
	free(in);
	free(out);
}

static void test_write_error(void **state)
{
	char buf[4];
	FILE *mem;
	int rc;

	(void)state;
	/* A full output is reported, not ignored. */
	mem = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(mem);
	setvbuf(mem, NULL, _IONBF, 0);
	rc = apf_html_escape(mem, "<<<<<<<<<<<<<<<<");
	fclose(mem);
	assert_int_equal(rc, -EIO);
}

static char *text_escape_dup(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	assert_non_null(mem);
	assert_int_equal(apf_text_escape(mem, in), 0);
	assert_int_equal(fclose(mem), 0);
	return buf;
}

/* Regression: the terminal renderer let C1 controls through; U+009B (CSI, here
 * UTF-8 encoded) and the raw byte 0x9B start escape sequences on terminals
 * that honour 8-bit controls. */
static void test_terminal(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"plain, caf\xC3\xA9", "plain, caf\xC3\xA9"},
		{"a\x1b[2Jb", "a?[2Jb"},
		{"a\xC2\x9B" "31mb", "a?31mb"},
		{"a\x9B" "31mb", "a?31mb"},
		{"tab\there\nnl\r", "tab?here?nl?"},
		{"del\x7f", "del?"},
		{"over\xC0\xAFlong", "over??long"},
		{"cut\xE2\x82", "cut??"},
		{"\xE2\x82\xAC euro", "\xE2\x82\xAC euro"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = text_escape_dup(cases[i].in);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

/* Issue 13 item 10: bidi controls and other invisible formatting characters
 * cannot reorder or hide what a reader of the HTML, JUnit or text sees; each is
 * shown as a visible <U+XXXX>. The JSON keeps the character, as an escape. */
static void test_bidi_and_invisible(void **state)
{
	static const struct {
		const char *in, *html, *text, *json;
	} cases[] = {
		/* RIGHT-TO-LEFT OVERRIDE: "CN=evil\u202Etxt.exe" reads as "CN=evilexe.txt" */
		{"a\xE2\x80\xAE" "b", "a&lt;U+202E&gt;b", "a<U+202E>b", "a\\u202eb"},
		{"\xE2\x81\xA6x\xE2\x81\xA9", "&lt;U+2066&gt;x&lt;U+2069&gt;", "<U+2066>x<U+2069>",
		 "\\u2066x\\u2069"},
		{"z\xE2\x80\x8Bw", "z&lt;U+200B&gt;w", "z<U+200B>w", "z\\u200bw"},       /* ZERO WIDTH SPACE */
		{"\xD8\x9C", "&lt;U+061C&gt;", "<U+061C>", "\\u061c"},                   /* ARABIC LETTER MARK */
		{"\xEF\xBB\xBF" "bom", "&lt;U+FEFF&gt;bom", "<U+FEFF>bom", "\\ufeffbom"},
		{"l\xE2\x80\xA8r", "l&lt;U+2028&gt;r", "l<U+2028>r", "l\\u2028r"},       /* LINE SEPARATOR */
		/* a tag character (hidden "ASCII smuggling"): a surrogate pair in JSON */
		{"t\xF3\xA0\x80\xA1", "t&lt;U+E0021&gt;", "t<U+E0021>", "t\\udb40\\udc21"},
		/* C1 CSI: replaced in HTML, '?' on the terminal, escaped in JSON */
		{"c\xC2\x9B" "1m", "c" REPL "1m", "c?1m", "c\\u009b1m"},
		/* visible text around them, and ordinary RTL letters, pass unchanged */
		{"\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D",
		 "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = apf_html_escape_dup(cases[i].in), *buf = NULL;
		size_t len = 0;
		FILE *mem;

		assert_string_equal(got, cases[i].html);
		free(got);
		got = text_escape_dup(cases[i].in);
		assert_string_equal(got, cases[i].text);
		free(got);
		mem = open_memstream(&buf, &len);
		assert_non_null(mem);
		assert_int_equal(apf_json_escape_invisible(mem, cases[i].in, strlen(cases[i].in)), 0);
		assert_int_equal(fclose(mem), 0);
		assert_string_equal(buf, cases[i].json);
		free(buf);
	}
	assert_true(apf_cp_is_invisible_format(0x202E));
	assert_false(apf_cp_is_invisible_format('a'));
	assert_false(apf_cp_is_invisible_format(0x05D0)); /* HEBREW LETTER ALEF: text, not format */
}

static void test_utf8_fix(void **state)
{
	char *got;

	(void)state;
	got = apf_utf8_fix_dup("ok \xC3\xA9 \xFF\xC0\xAF end\xE2\x82");
	assert_string_equal(got, "ok \xC3\xA9 " REPL REPL REPL " end" REPL REPL);
	free(got);
	got = apf_utf8_fix_dup("\xED\xA0\x80"); /* a UTF-16 surrogate is not UTF-8 */
	assert_string_equal(got, REPL REPL REPL);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specials),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_valid_utf8_passes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_very_long),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_bidi_and_invisible),
		cmocka_unit_test(test_utf8_fix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
