/* SPDX-License-Identifier: MIT */
/* The DHCPv4 codec: real Kea and dnsmasq replies (tests/fixtures/dhcp) and hostile packets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "dhcp/codec.h"
#include "util.h"

static struct apf_dhcp_msg *load(const char *name)
{
	char rel[256];
	unsigned char *data = NULL;
	size_t len = 0;
	struct apf_dhcp_msg *m = NULL;

	snprintf(rel, sizeof(rel), "fixtures/dhcp/%s", name);
	assert_int_equal(apf_read_file(apf_test_srcpath(rel), 65536, &data, &len), 0);
	assert_int_equal(apf_dhcp_decode(data, len, &m), 0);
	free(data);
	return m;
}

static uint32_t addr(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void expect_domain(const struct apf_dhcp_msg *m, const char *want)
{
	char name[APF_DHCP_NAME_MAX];
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DOMAIN_NAME, &len);

	assert_non_null(p);
	assert_int_equal(apf_dhcp_domain_decode(p, len, name, sizeof(name)), 0);
	assert_string_equal(name, want);
}

static void expect_fqdn(const struct apf_dhcp_msg *m, uint8_t flags, uint8_t rcode, bool wire, bool fq, const char *name)
{
	struct apf_dhcp_fqdn f;
	size_t len;
	const uint8_t *p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len);

	assert_non_null(p);
	assert_int_equal(apf_dhcp_fqdn_decode(p, len, &f), 0);
	assert_int_equal(f.flags, flags);
	assert_int_equal(f.rcode1, rcode);
	assert_int_equal(f.rcode2, rcode);
	assert_int_equal(f.wire, wire);
	assert_int_equal(f.fully_qualified, fq);
	assert_string_equal(f.name, name);
}

/* ---- real packets ---------------------------------------------------------- */

static void test_kea_inform_ack(void **state)
{
	struct apf_dhcp_msg *m = load("kea-inform-ack.bin");
	size_t len;
	const uint8_t *p;

	assert_int_equal(m->op, APF_DHCP_BOOTREPLY);
	assert_int_equal(m->type, APF_DHCP_ACK);
	assert_int_equal(m->ciaddr, addr("192.0.2.2"));
	assert_int_equal(apf_dhcp_server_id(m), addr("192.0.2.1"));
	expect_domain(m, "corp.example.test");
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DNS_SERVERS, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\xc0\x00\x02\x01", 4);
	/* Kea handles option 81 only when it grants a lease: no echo on INFORM. */
	assert_null(apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len));
	apf_dhcp_msg_free(m);
}

static void test_kea_offer_ack_wire(void **state)
{
	struct apf_dhcp_msg *m = load("kea-wire-offer.bin");

	assert_int_equal(m->type, APF_DHCP_OFFER);
	assert_int_equal(m->yiaddr, addr("192.0.2.100"));
	assert_int_equal(m->flags, 0x8000);
	/* Kea sends RCODE 0 and echoes our flags (S+E) with the wire-format name. */
	expect_fqdn(m, APF_FQDN_S | APF_FQDN_E, 0, true, true, "amt-fixture.corp.example.test");
	apf_dhcp_msg_free(m);

	m = load("kea-wire-ack.bin");
	assert_int_equal(m->type, APF_DHCP_ACK);
	assert_int_equal(m->yiaddr, addr("192.0.2.100"));
	expect_fqdn(m, APF_FQDN_S | APF_FQDN_E, 0, true, true, "amt-fixture.corp.example.test");
	apf_dhcp_msg_free(m);
}

static void test_kea_ack_ascii_qualified(void **state)
{
	/* We sent the partial ASCII name "amt-fixture2"; Kea qualifies it with its suffix and a trailing dot. */
	struct apf_dhcp_msg *m = load("kea-ascii-ack.bin");
	expect_fqdn(m, APF_FQDN_S, 0, false, true, "amt-fixture2.corp.example.test");
	apf_dhcp_msg_free(m);
}

static void test_kea_nbit_echo(void **state)
{
	struct apf_dhcp_msg *m = load("kea-nbit-offer.bin");
	expect_fqdn(m, APF_FQDN_N | APF_FQDN_E, 0, true, true, "amt-fixture3.corp.example.test");
	apf_dhcp_msg_free(m);
}

static void test_dnsmasq_replies(void **state)
{
	struct apf_dhcp_msg *m = load("dnsmasq-inform-ack.bin");

	/* Unlike Kea, dnsmasq echoes option 81 on INFORM, with RCODEs 255. */
	assert_int_equal(m->type, APF_DHCP_ACK);
	expect_domain(m, "corp.example.test");
	expect_fqdn(m, APF_FQDN_S | APF_FQDN_E, 255, true, true, "amt-fixture.corp.example.test");
	apf_dhcp_msg_free(m);

	/* ASCII echo without the trailing dot (Kea adds one). */
	m = load("dnsmasq-ascii-ack.bin");
	assert_int_equal(m->yiaddr, addr("192.0.2.196"));
	expect_fqdn(m, APF_FQDN_S, 255, false, false, "amt-fixture2.corp.example.test");
	apf_dhcp_msg_free(m);

	m = load("dnsmasq-wire-offer.bin");
	assert_int_equal(m->type, APF_DHCP_OFFER);
	expect_fqdn(m, APF_FQDN_S | APF_FQDN_E, 255, true, true, "amt-fixture.corp.example.test");
	apf_dhcp_msg_free(m);
}

static void test_dnsmasq_nodomain(void **state)
{
	/* No --domain: no option 15, no option 6 (DNS on a non-standard port), and a partial wire name. */
	struct apf_dhcp_msg *m = load("dnsmasq-nodomain-inform-ack.bin");
	size_t len;

	assert_null(apf_dhcp_opt_get(m, APF_DHCP_OPT_DOMAIN_NAME, &len));
	assert_null(apf_dhcp_opt_get(m, APF_DHCP_OPT_DNS_SERVERS, &len));
	expect_fqdn(m, APF_FQDN_S | APF_FQDN_E, 255, true, false, "amt-fixture");
	apf_dhcp_msg_free(m);
}

/* ---- encoding -------------------------------------------------------------- */

static void test_encode_roundtrip(void **state)
{
	static const uint8_t prl[] = {1, 3, 6, 15};
	struct apf_dhcp_req r = {
		.type = APF_DHCP_DISCOVER,
		.xid = 0x11223344,
		.chaddr = {0x02, 0x61, 0x70, 0x66, 0x12, 0x34},
		.broadcast = true,
		.client_id = true,
		.hostname = "amt-test",
		.fqdn = "amt-test.corp.example.test",
		.fqdn_flags = APF_FQDN_S | APF_FQDN_E,
		.prl = prl,
		.n_prl = sizeof(prl),
	};
	static const uint8_t want81[] = {0x05, 0, 0, 8, 'a', 'm', 't', '-', 't', 'e', 's', 't', 4, 'c', 'o', 'r', 'p',
					 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};
	uint8_t buf[APF_DHCP_ENCODE_MAX];
	struct apf_dhcp_msg *m = NULL;
	const uint8_t *p;
	size_t len;

	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), 0);
	assert_true(len >= 300);
	assert_int_equal(apf_dhcp_decode(buf, len, &m), 0);
	assert_int_equal(m->op, APF_DHCP_BOOTREQUEST);
	assert_int_equal(m->xid, 0x11223344);
	assert_int_equal(m->flags, 0x8000);
	assert_int_equal(m->type, APF_DHCP_DISCOVER);
	assert_memory_equal(m->chaddr, r.chaddr, 6);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len);
	assert_int_equal(len, sizeof(want81));
	assert_memory_equal(p, want81, sizeof(want81));
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_ID, &len);
	assert_int_equal(len, 7);
	assert_int_equal(p[0], 1);
	assert_memory_equal(p + 1, r.chaddr, 6);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_HOSTNAME, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(p, "amt-test", 8);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_PARAM_LIST, &len);
	assert_int_equal(len, 4);
	apf_dhcp_msg_free(m);
}

static void test_encode_inform_and_release(void **state)
{
	struct apf_dhcp_req r = {.type = APF_DHCP_INFORM, .xid = 7, .ciaddr = addr("192.0.2.2")};
	uint8_t buf[APF_DHCP_ENCODE_MAX];
	struct apf_dhcp_msg *m = NULL;
	size_t len;

	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(apf_dhcp_decode(buf, len, &m), 0);
	assert_int_equal(m->type, APF_DHCP_INFORM);
	assert_int_equal(m->ciaddr, addr("192.0.2.2"));
	assert_int_equal(m->flags, 0);
	assert_null(apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len));
	apf_dhcp_msg_free(m);

	r.type = APF_DHCP_RELEASE;
	r.server_id = addr("192.0.2.1");
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(apf_dhcp_decode(buf, len, &m), 0);
	assert_int_equal(apf_dhcp_server_id(m), addr("192.0.2.1"));
	apf_dhcp_msg_free(m);
}

static void test_encode_names(void **state)
{
	struct apf_dhcp_req r = {.type = APF_DHCP_DISCOVER, .fqdn_flags = APF_FQDN_E};
	uint8_t buf[APF_DHCP_ENCODE_MAX];
	char big[300];
	struct apf_dhcp_msg *m = NULL;
	struct apf_dhcp_fqdn f;
	const uint8_t *p;
	size_t len;

	/* One label is a partial name: no root label, for the server to qualify. */
	r.fqdn = "amthost";
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(apf_dhcp_decode(buf, len, &m), 0);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len);
	assert_int_equal(len, 3 + 8);
	assert_int_equal(apf_dhcp_fqdn_decode(p, len, &f), 0);
	assert_false(f.fully_qualified);
	assert_string_equal(f.name, "amthost");
	apf_dhcp_msg_free(m);

	/* ASCII when E is clear: the name as given. */
	r.fqdn_flags = APF_FQDN_S;
	r.fqdn = "amthost.corp.example.test.";
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(apf_dhcp_decode(buf, len, &m), 0);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_CLIENT_FQDN, &len);
	assert_int_equal(apf_dhcp_fqdn_decode(p, len, &f), 0);
	assert_true(f.fully_qualified);
	assert_string_equal(f.name, "amthost.corp.example.test");
	apf_dhcp_msg_free(m);

	r.fqdn_flags = APF_FQDN_E;
	r.fqdn = "a..b";
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	r.fqdn = "";
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	memset(big, 'a', 64);
	strcpy(big + 64, ".test");
	r.fqdn = big; /* label of 64 */
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	for (int i = 0; i < 296; i++)
		big[i] = (i % 10 == 9) ? '.' : 'a';
	big[296] = 'a';
	big[297] = '\0';
	r.fqdn = big; /* over 255 octets */
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	r.fqdn = "ok.example.test";
	assert_int_equal(apf_dhcp_encode(&r, buf, 100, &len), -ENOSPC);
	r.type = 9;
	assert_int_equal(apf_dhcp_encode(&r, buf, sizeof(buf), &len), -EINVAL);
}

/* ---- hostile packets ------------------------------------------------------- */

/* A bare BOOTREPLY with cookie: `opts` copied after it. */
static size_t make_packet(uint8_t *buf, size_t cap, const uint8_t *opts, size_t n)
{
	assert_true(240 + n <= cap);
	memset(buf, 0, 240);
	buf[0] = 2;
	buf[1] = 1;
	buf[2] = 6;
	buf[236] = 99;
	buf[237] = 130;
	buf[238] = 83;
	buf[239] = 99;
	memcpy(buf + 240, opts, n);
	return 240 + n;
}

static void test_decode_rejects(void **state)
{
	uint8_t buf[600] = {0};
	struct apf_dhcp_msg *m = (void *)1;
	size_t n;

	assert_int_equal(apf_dhcp_decode(buf, 0, &m), -EBADMSG);
	assert_null(m);
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\xff", 1);
	assert_int_equal(apf_dhcp_decode(buf, 239, &m), -EBADMSG); /* short */
	buf[238] = 0;
	assert_int_equal(apf_dhcp_decode(buf, n, &m), -EBADMSG); /* no cookie */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\xff", 1);
	buf[0] = 3;
	assert_int_equal(apf_dhcp_decode(buf, n, &m), -EBADMSG); /* bad op */
	/* An option whose length runs past the end. */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\x35\x01\x05\x0f\x20" "corp", 9);
	assert_int_equal(apf_dhcp_decode(buf, n, &m), -EBADMSG);
	/* A code byte with no length byte. */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\x35\x01\x05\x0f", 4);
	assert_int_equal(apf_dhcp_decode(buf, n, &m), -EBADMSG);
	assert_null(m);
	/* Missing END is tolerated; bytes after END are ignored. */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\x35\x01\x05\xff\x0f\x40", 6);
	assert_int_equal(apf_dhcp_decode(buf, n, &m), 0);
	assert_int_equal(m->type, APF_DHCP_ACK);
	apf_dhcp_msg_free(m);
}

static void test_overload(void **state)
{
	uint8_t buf[600];
	struct apf_dhcp_msg *m = NULL;
	char name[APF_DHCP_NAME_MAX];
	const uint8_t *p;
	size_t n, len;

	/* Option 52 = 3: options continue in file (108..235), then sname (44..107). */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\x35\x01\x05\x34\x01\x03\x0f\x04" "corp\xff", 13);
	memcpy(buf + 108, "\x0f\x08.example\xff", 11);
	/* An overload option inside file is ignored: no loop, no second pass. */
	memcpy(buf + 44, "\x34\x01\x03\x0f\x05.test\x06\x04\xc0\x00\x02\x01\xff", 17);
	assert_int_equal(apf_dhcp_decode(buf, n, &m), 0);
	assert_int_equal(m->overload, 3);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DOMAIN_NAME, &len);
	/* RFC 3396: instances concatenate in order options, file, sname. */
	assert_int_equal(apf_dhcp_domain_decode(p, len, name, sizeof(name)), 0);
	assert_string_equal(name, "corp.example.test");
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DNS_SERVERS, &len);
	assert_int_equal(len, 4);
	apf_dhcp_msg_free(m);

	/* A bad length inside an overloaded field rejects the packet. */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\x34\x01\x01\xff", 4);
	memset(buf + 108, 0, 128);
	buf[108 + 126] = 15;
	buf[108 + 127] = 10;
	assert_int_equal(apf_dhcp_decode(buf, n, &m), -EBADMSG);

	/* Overload values outside 1..3 are ignored, as is sname without overload. */
	n = make_packet(buf, sizeof(buf), (const uint8_t *)"\x34\x01\x07\xff", 4);
	memset(buf + 44, 0xff, 64 + 128);
	assert_int_equal(apf_dhcp_decode(buf, n, &m), 0);
	assert_int_equal(m->overload, 0);
	apf_dhcp_msg_free(m);
}

static void test_huge_option_area(void **state)
{
	uint8_t *buf = calloc(1, APF_DHCP_MAX_PACKET + 1);
	struct apf_dhcp_msg *m = NULL;
	const uint8_t *p;
	size_t i, len;

	/* 64 KB of option 15 instances: concatenated, bounded by the packet. */
	make_packet(buf, APF_DHCP_MAX_PACKET + 1, (const uint8_t *)"", 0);
	for (i = 240; i + 257 <= APF_DHCP_MAX_PACKET; i += 257) {
		buf[i] = 15;
		buf[i + 1] = 255;
		memset(buf + i + 2, 'a', 255);
	}
	assert_int_equal(apf_dhcp_decode(buf, APF_DHCP_MAX_PACKET, &m), 0);
	p = apf_dhcp_opt_get(m, APF_DHCP_OPT_DOMAIN_NAME, &len);
	assert_non_null(p);
	assert_true(len > 60000);
	{
		char name[APF_DHCP_NAME_MAX];
		assert_int_equal(apf_dhcp_domain_decode(p, len, name, sizeof(name)), -EBADMSG);
	}
	apf_dhcp_msg_free(m);
	assert_int_equal(apf_dhcp_decode(buf, APF_DHCP_MAX_PACKET + 1, &m), -EBADMSG);
	free(buf);
}

static int fqdn(const char *bytes, size_t n, struct apf_dhcp_fqdn *f)
{
	return apf_dhcp_fqdn_decode((const uint8_t *)bytes, n, f);
}

static void test_fqdn_hostile(void **state)
{
	struct apf_dhcp_fqdn f;
	char big[300];

	assert_int_equal(fqdn("\x05\x00", 2, &f), -EBADMSG);                           /* no rcodes */
	assert_int_equal(fqdn("\x05\x00\x00", 3, &f), 0);                              /* empty name */
	assert_string_equal(f.name, "");
	assert_int_equal(fqdn("\x05\x00\x00\x00", 4, &f), 0); /* root only */
	assert_true(f.fully_qualified);
	assert_int_equal(fqdn("\x05\x00\x00\x03" "abc\xc0\x04", 9, &f), -EBADMSG);      /* compression pointer */
	assert_int_equal(fqdn("\x05\x00\x00\x41" "abc", 7, &f), -EBADMSG);              /* extended label type (65) */
	assert_int_equal(fqdn("\x05\x00\x00\x05" "abc", 7, &f), -EBADMSG);              /* label past the end */
	assert_int_equal(fqdn("\x05\x00\x00\x03" "abc\x00\x01", 9, &f), -EBADMSG);      /* bytes after root */
	assert_int_equal(fqdn("\x05\x00\x00\x03" "a.c\x02<s\x00", 11, &f), 0);          /* odd bytes kept as data */
	assert_string_equal(f.name, "a\\046c.\\060s");
	/* 64-octet label: top bits 01, rejected like any extended type. */
	big[0] = 0x05, big[1] = big[2] = 0, big[3] = 64;
	memset(big + 4, 'a', 64);
	assert_int_equal(fqdn(big, 68, &f), -EBADMSG);
	/* 63 is fine; over 255 octets of name is not. */
	big[3] = 63;
	assert_int_equal(fqdn(big, 67, &f), 0);
	for (int i = 0; i < 4; i++) {
		big[3 + i * 64] = 63;
		memset(big + 4 + i * 64, 'b', 63);
	}
	assert_int_equal(fqdn(big, 3 + 256, &f), -EBADMSG);

	/* ASCII: inner NUL and control bytes rejected, trailing NULs tolerated. */
	assert_int_equal(fqdn("\x01\x00\x00" "ab\x00" "cd", 8, &f), -EBADMSG);
	assert_int_equal(fqdn("\x01\x00\x00" "ab\ncd", 8, &f), -EBADMSG);
	assert_int_equal(fqdn("\x01\xff\xff" "host.example.\x00\x00", 18, &f), 0);
	assert_true(f.fully_qualified);
	assert_string_equal(f.name, "host.example");
	assert_int_equal(fqdn("\x01\x00\x00" "host..", 9, &f), -EBADMSG);
}

static void test_domain_and_flags(void **state)
{
	char name[APF_DHCP_NAME_MAX], fl[32];

	/* Windows DHCP servers end option 15 with a NUL. */
	assert_int_equal(apf_dhcp_domain_decode((const uint8_t *)"corp.example.com\0", 17, name, sizeof(name)), 0);
	assert_string_equal(name, "corp.example.com");
	assert_int_equal(apf_dhcp_domain_decode((const uint8_t *)"corp.\0x", 7, name, sizeof(name)), -EBADMSG);
	assert_int_equal(apf_dhcp_domain_decode((const uint8_t *)"\0", 1, name, sizeof(name)), -EBADMSG);
	assert_int_equal(apf_dhcp_domain_decode((const uint8_t *)"<script>", 8, name, sizeof(name)), 0);
	assert_string_equal(name, "<script>"); /* passed through as data; renderers escape it */

	assert_string_equal(apf_dhcp_fqdn_flags_str(0, fl, sizeof(fl)), "none");
	assert_string_equal(apf_dhcp_fqdn_flags_str(0x0f, fl, sizeof(fl)), "S,O,E,N");
	assert_string_equal(apf_dhcp_fqdn_flags_str(0x15, fl, sizeof(fl)), "S,E,MBZ");
	assert_string_equal(apf_dhcp_type_name(APF_DHCP_NAK), "DHCPNAK");
	assert_string_equal(apf_dhcp_type_name(42), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kea_inform_ack),
		cmocka_unit_test(test_kea_offer_ack_wire),
		cmocka_unit_test(test_kea_ack_ascii_qualified),
		cmocka_unit_test(test_kea_nbit_echo),
		cmocka_unit_test(test_dnsmasq_replies),
		cmocka_unit_test(test_dnsmasq_nodomain),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_inform_and_release),
		cmocka_unit_test(test_encode_names),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_overload),
		cmocka_unit_test(test_huge_option_area),
		cmocka_unit_test(test_fqdn_hostile),
		cmocka_unit_test(test_domain_and_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
