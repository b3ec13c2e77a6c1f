/* SPDX-License-Identifier: MIT */
/* The HTML report: structure, escaping, self-containment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "report.h"
#include "../browser/render_mem.h"
#include "../browser/sample_run.h"

static const char *const html_tags[] = {
	"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section",
	"h1", "h2", "h3", "p", "div", "span", "dl", "dt", "dd", "ul", "li", "table", "thead", "tbody", "tr",
	"th", "td", "a", "code", "br", "strong", NULL,
};

static char *render(const struct apf_run *run)
{
	int rc;
	char *html = apf_render_mem(apf_report_html_write, run, &rc);

	assert_int_equal(rc, 0);
	return html;
}

static void test_structure(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *html = render(run);
	const char *verdict, *first_check;

	(void)state;
	assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
	/* Verdict first (before the summary and before any check), big and coloured. */
	verdict = strstr(html, "<section class=\"verdict st-fail\"");
	first_check = strstr(html, "<section class=\"check");
	assert_non_null(verdict);
	assert_non_null(first_check);
	assert_true(verdict < strstr(html, "id=\"summary\""));
	assert_true(verdict < first_check);
	assert_non_null(strstr(html, ">NOT READY<"));
	/* counts: 7 checks, 2 failed, 1 could not check, 1 warning, 1 info, 1 passed, 1 skipped */
	assert_non_null(strstr(html, "<span class=\"n\">7</span> checks"));
	assert_non_null(strstr(html, "<span class=\"n\">2</span> failed"));
	assert_non_null(strstr(html, "<span class=\"n\">1</span> could not check"));
	/* Every check appears in the summary (a link) and in the details (a section). */
	for (size_t i = 0; i < run->n_checks; i++) {
		char *want = apf_xasprintf("<code>%s</code>", run->checks[i].id);
		char *anchor = apf_xasprintf("id=\"c%zu\"", i);
		char *link = apf_xasprintf("href=\"#c%zu\"", i);

		assert_int_equal(apf_count(html, want), 2);
		assert_int_equal(apf_count(html, anchor), 1);
		assert_int_equal(apf_count(html, link), 1);
		free(want);
		free(anchor);
		free(link);
	}
	/* Evidence and remediation are shown. */
	assert_non_null(strstr(html, "<dt>msPKI-Enrollment-Flag</dt><dd>0x2 (PEND_ALL_REQUESTS)</dd>"));
	assert_non_null(strstr(html, "<strong>How to fix:</strong> Clear &quot;CA certificate manager approval&quot;"));
	/* Metadata in the header. */
	assert_non_null(strstr(html, "amt-client01.corp.example.test"));
	assert_non_null(strstr(html, "2024-05-06 12:53:20 UTC"));
	assert_non_null(strstr(html, "/etc/amt-preflight/site.conf"));
	assert_non_null(strstr(html, run->config_digest));
	free(html);
	apf_run_free(run);
}

static void test_areas_in_order(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *html = render(run);
	const char *areas[] = {"<th class=\"area\" colspan=\"4\">Certificates<",
			       "<th class=\"area\" colspan=\"4\">DNS<",
			       "<th class=\"area\" colspan=\"4\">DHCP<",
			       "<th class=\"area\" colspan=\"4\">Active Directory<",
			       "<th class=\"area\" colspan=\"4\">Certificate authority<"};
	const char *prev = html;

	(void)state;
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
		const char *p = strstr(html, areas[i]);
		assert_non_null(p);
		assert_true(p > prev);
		assert_int_equal(apf_count(html, areas[i]), 1);
		prev = p;
	}
	/* Both cert.* checks sit under "Certificates", in registry order. */
	assert_true(strstr(html, "<code>cert.amt-root-hash</code></a>") < strstr(html, "<code>cert.provisioning</code></a>"));
	assert_true(strstr(html, "<code>cert.provisioning</code></a>") < strstr(html, ">DNS<"));
	/* The registry puts ad.* first; the report leads with certificates. */
	assert_true(strstr(html, "<code>cert.provisioning</code></a>") < strstr(html, "<code>ad.ldap</code></a>"));
	free(html);
	apf_run_free(run);
}

static void test_error_is_not_fail(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *html = render(run);
	const char *sec, *end;
	size_t ad = 0;

	(void)state;
	while (strcmp(run->checks[ad].id, "ad.ldap") != 0)
		ad++;
	char *anchor = apf_xasprintf("<section class=\"check st-error\" id=\"c%zu\">", ad);
	sec = strstr(html, anchor);
	assert_non_null(sec);
	end = strstr(sec, "</section>");
	char *part = strndup(sec, (size_t)(end - sec));
	assert_non_null(strstr(part, "<span class=\"badge st-error\">COULD NOT CHECK</span>"));
	assert_null(strstr(part, "FAIL"));
	assert_null(strstr(part, "st-fail"));
	free(part);
	free(anchor);
	free(html);
	apf_run_free(run);
}

static void test_verdicts(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *html;

	(void)state;
	/* Drop to only the non-failing checks: the verdict must follow. */
	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			if (run->checks[i].findings[j]->status == APF_FAIL)
				run->checks[i].findings[j]->status = APF_PASS;
		}
	}
	apf_run_finish(run);
	html = render(run);
	assert_non_null(strstr(html, "<section class=\"verdict st-error\""));
	assert_non_null(strstr(html, ">INCOMPLETE<"));
	free(html);

	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			if (run->checks[i].findings[j]->status == APF_ERROR)
				run->checks[i].findings[j]->status = APF_PASS;
		}
	}
	apf_run_finish(run);
	html = render(run);
	assert_non_null(strstr(html, ">READY WITH WARNINGS<"));
	free(html);

	for (size_t i = 0; i < run->n_checks; i++) {
		for (size_t j = 0; j < run->checks[i].n_findings; j++) {
			if (run->checks[i].findings[j]->status == APF_WARN)
				run->checks[i].findings[j]->status = APF_PASS;
		}
	}
	apf_run_finish(run);
	html = render(run);
	assert_non_null(strstr(html, "<section class=\"verdict st-pass\""));
	assert_non_null(strstr(html, ">READY<"));
	assert_null(strstr(html, "class=\"badge st-fail\""));
	assert_null(strstr(html, "class=\"check st-fail\""));
	free(html);
	apf_run_free(run);
}

static void test_hostile(void **state)
{
	struct apf_run *run = apf_sample_run(true);
	char *html = render(run);
	const char *bad;

	(void)state;
	/* Hostile strings appear, but only as text. */
	assert_null(strstr(html, APF_SAMPLE_SCRIPT));
	assert_null(strstr(html, APF_SAMPLE_IMG));
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "<img"));
	assert_null(strstr(html, "<a href=\"http"));
	assert_int_equal(apf_count(html, "<style"), 1);
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&lt;img src=x onerror=alert(2)&gt;"));
	assert_non_null(strstr(html, "client&quot;&#39;&gt;&lt;img"));
	/* Every tag is one the renderer writes itself, and none loads or runs anything. */
	bad = apf_bad_tag(html, html_tags, true);
	if (bad)
		fail_msg("unexpected tag at: %.80s", bad);
	/* Invalid UTF-8 and control characters did not get through. */
	assert_true(apf_clean_utf8(html));
	/* Any URL in the output is escaped text from the model, never markup. */
	assert_non_null(strstr(html, APF_SAMPLE_URL));
	for (const char *p = strstr(html, "http:"); p; p = strstr(p + 1, "http:"))
		assert_true(apf_in_text(html, p));
	free(html);
	apf_run_free(run);
}

/* Ids and codes come from our registry, but the renderer must not trust that either. */
static void test_hostile_id_and_code(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *html;

	(void)state;
	run->checks[0].id = "ad.<script>alert(5)</script>";
	free(run->checks[0].findings[0]->code);
	run->checks[0].findings[0]->code = apf_xstrdup("X_" APF_SAMPLE_IMG);
	html = render(run);
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "<img"));
	assert_non_null(strstr(html, "<code>ad.&lt;script&gt;alert(5)&lt;/script&gt;</code>"));
	assert_non_null(strstr(html, "X_&lt;img src=x onerror=alert(2)&gt;"));
	assert_null(apf_bad_tag(html, html_tags, true));
	free(html);
	apf_run_free(run);
}

static void test_no_external_reference(void **state)
{
	struct apf_run *run = apf_sample_run(false);
	char *html = render(run);

	(void)state;
	/* The sample has no URL in its data, so none may appear at all. */
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "//"));
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "<link"));
	assert_null(strcasestr(html, "@import"));
	assert_null(strcasestr(html, "url("));
	assert_null(apf_bad_tag(html, html_tags, true));
	/* print and narrow layouts exist */
	assert_non_null(strstr(html, "@media print"));
	assert_non_null(strstr(html, "@media (max-width:"));
	assert_non_null(strstr(html, "break-inside:avoid"));
	free(html);
	apf_run_free(run);
}

static void test_empty_run(void **state)
{
	struct apf_run *run = apf_xcalloc(1, sizeof(*run));
	char *html;

	(void)state;
	apf_run_finish(run);
	html = render(run);
	assert_non_null(strstr(html, "No checks ran."));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	apf_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_areas_in_order),
		cmocka_unit_test(test_error_is_not_fail),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_hostile_id_and_code),
		cmocka_unit_test(test_no_external_reference),
		cmocka_unit_test(test_empty_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
