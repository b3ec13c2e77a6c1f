/* SPDX-License-Identifier: MIT */
/*
 * Security descriptors, SIDs and the Enroll decision (src/secdesc.c), on a
 * DACL read from the lab's Samba (samba-tool dsacl set) and on hand-built ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apf_test.h"
#include "secdesc.h"
#include "util.h"

#define LAB_DOMAIN "S-1-5-21-1185562146-4182488528-4165960284-"

static struct apf_sid sid(const char *s)
{
	struct apf_sid r;
	assert_int_equal(apf_sid_from_str(s, &r), 0);
	return r;
}

static void test_sid_roundtrip(void **state)
{
	struct apf_sid a = sid(LAB_DOMAIN "1104"), b;
	uint8_t bin[68];
	char buf[APF_SID_STR_MAX];
	size_t n, used = 0;

	(void)state;
	assert_string_equal(apf_sid_str(&a, buf, sizeof(buf)), LAB_DOMAIN "1104");
	n = apf_sid_to_bin(&a, bin, sizeof(bin));
	assert_int_equal(n, 28);
	assert_int_equal(apf_sid_parse(bin, n, &b, &used), 0);
	assert_int_equal(used, 28);
	assert_true(apf_sid_equal(&a, &b));
	/* truncated, wrong revision, too many sub-authorities */
	assert_int_equal(apf_sid_parse(bin, n - 1, &b, NULL), -EINVAL);
	bin[0] = 2;
	assert_int_equal(apf_sid_parse(bin, n, &b, NULL), -EINVAL);
	bin[0] = 1;
	bin[1] = 16;
	assert_int_equal(apf_sid_parse(bin, sizeof(bin), &b, NULL), -EINVAL);
	assert_int_equal(apf_sid_to_bin(&a, bin, 27), 0);

	assert_int_equal(apf_sid_from_str("S-1-5-11", &b), 0);
	assert_string_equal(apf_sid_wellknown_name(&b), "Authenticated Users");
	assert_string_equal(apf_sid_wellknown_name(&(struct apf_sid){.revision = 1, .n_sub = 5, .authority = 5,
								     .sub = {21, 1, 2, 3, 515}}),
			    "Domain Computers");
	assert_int_equal(apf_sid_from_str("S-2-5-11", &b), -EINVAL);
	assert_int_equal(apf_sid_from_str("S-1-5-", &b), -EINVAL);
	assert_int_equal(apf_sid_from_str("S-1-5-11x", &b), -EINVAL);
	assert_int_equal(apf_sid_from_str("S-1-5-4294967296", &b), -EINVAL);
	assert_int_equal(apf_sid_from_str("S-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", &b), -EINVAL);
}

static void test_guid_and_mask_str(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(apf_guid_str(apf_guid_enroll, buf, sizeof(buf)), "0e10c968-78fb-11d2-90d4-00c04f79dc55");
	assert_string_equal(apf_access_mask_str(0x100, buf, sizeof(buf)), "CR");
	assert_string_equal(apf_access_mask_str(0x000f01ff, buf, sizeof(buf)), "Full Control");
	assert_string_equal(apf_access_mask_str(0x00020094, buf, sizeof(buf)), "LC|RP|LO|RC");
	assert_string_equal(apf_access_mask_str(0x10000000 | 0x00100000, buf, sizeof(buf)), "GA|0x00100000");
	assert_string_equal(apf_access_mask_str(0, buf, sizeof(buf)), "");
}

static struct apf_secdesc *load_lab_dacl(void)
{
	unsigned char *data = NULL;
	size_t len = 0;
	struct apf_secdesc *sd = NULL;

	assert_int_equal(apf_read_file(apf_test_srcpath("fuzz/corpus/fuzz_secdesc/samba-amtwebserver-dacl.bin"), 65536,
				       &data, &len), 0);
	assert_int_equal(apf_secdesc_parse(data, len, &sd), 0);
	free(data);
	return sd;
}

/* The lab's AMTWebServer: allow SCS01$ (1104), deny scsdenied (1106), allow AMT-Enrollers
 * (1108), Full Control for Domain Admins and SYSTEM, read for Authenticated Users, and
 * two inherited ACEs. */
static void test_lab_dacl_decisions(void **state)
{
	struct apf_secdesc *sd = load_lab_dacl();
	struct apf_sid tok[3];
	size_t idx;

	(void)state;
	assert_true(sd->dacl_present);
	assert_int_equal(sd->n_aces, 8);
	assert_int_equal(sd->aces[1].type, APF_ACE_ACCESS_DENIED_OBJECT);
	assert_true(sd->aces[7].flags & APF_ACE_FLAG_INHERITED);
	/* who may enroll: SCS01$, AMT-Enrollers, and Full Control holders; not the deny, not AU's read */
	assert_true(apf_ace_allows_right(&sd->aces[0], apf_guid_enroll));
	assert_false(apf_ace_allows_right(&sd->aces[1], apf_guid_enroll));
	assert_true(apf_ace_allows_right(&sd->aces[2], apf_guid_enroll));
	assert_false(apf_ace_allows_right(&sd->aces[5], apf_guid_enroll));

	tok[0] = sid(LAB_DOMAIN "1104");
	assert_int_equal(apf_secdesc_check_right(sd, tok, 1, apf_guid_enroll, &idx), APF_ACCESS_ALLOWED);
	assert_int_equal(idx, 0);
	/* scsdenied is also in AMT-Enrollers: the deny ACE comes first */
	tok[0] = sid(LAB_DOMAIN "1106");
	tok[1] = sid(LAB_DOMAIN "1108");
	assert_int_equal(apf_secdesc_check_right(sd, tok, 2, apf_guid_enroll, &idx), APF_ACCESS_DENIED);
	assert_int_equal(idx, 1);
	/* through the group only */
	assert_int_equal(apf_secdesc_check_right(sd, tok + 1, 1, apf_guid_enroll, &idx), APF_ACCESS_ALLOWED);
	assert_int_equal(idx, 2);
	/* Domain Admins: Full Control (control access without an object type) */
	tok[0] = sid(LAB_DOMAIN "512");
	assert_int_equal(apf_secdesc_check_right(sd, tok, 1, apf_guid_enroll, &idx), APF_ACCESS_ALLOWED);
	assert_int_equal(sd->aces[idx].type, APF_ACE_ACCESS_ALLOWED);
	/* Authenticated Users and Everyone only read */
	tok[0] = sid("S-1-5-11");
	tok[1] = sid("S-1-1-0");
	tok[2] = sid(LAB_DOMAIN "1110");
	assert_int_equal(apf_secdesc_check_right(sd, tok, 3, apf_guid_enroll, &idx), APF_ACCESS_NOT_GRANTED);
	assert_int_equal(idx, SIZE_MAX);
	apf_secdesc_free(sd);
}

/* ---- hand-built descriptors ------------------------------------------------------ */

struct sdb {
	uint8_t b[1024];
	size_t len;
	size_t n_aces;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void sdb_init(struct sdb *s)
{
	memset(s, 0, sizeof(*s));
	s->b[0] = 1;
	put16(s->b + 2, APF_SE_SELF_RELATIVE | APF_SE_DACL_PRESENT);
	put32(s->b + 16, 20);
	s->b[20] = 4; /* ACL revision */
	s->len = 28;
}

static void sdb_ace(struct sdb *s, uint8_t type, uint8_t flags, uint32_t mask, const uint8_t *guid, const char *who)
{
	struct apf_sid sd = sid(who);
	uint8_t *p = s->b + s->len;
	size_t off = 8;

	p[0] = type;
	p[1] = flags;
	put32(p + 4, mask);
	if (type == APF_ACE_ACCESS_ALLOWED_OBJECT || type == APF_ACE_ACCESS_DENIED_OBJECT) {
		put32(p + 8, guid ? APF_ACE_OBJECT_TYPE_PRESENT : 0);
		off = 12;
		if (guid) {
			memcpy(p + off, guid, 16);
			off += 16;
		}
	}
	off += apf_sid_to_bin(&sd, p + off, 68);
	put16(p + 2, (uint16_t)off);
	s->len += off;
	s->n_aces++;
	put16(s->b + 22, (uint16_t)(s->len - 20));
	put16(s->b + 24, (uint16_t)s->n_aces);
}

static enum apf_access decide(struct sdb *s, const char *who, size_t *idx)
{
	struct apf_secdesc *sd = NULL;
	struct apf_sid tok = sid(who);
	enum apf_access a;

	assert_int_equal(apf_secdesc_parse(s->b, s->len, &sd), 0);
	a = apf_secdesc_check_right(sd, &tok, 1, apf_guid_enroll, idx);
	apf_secdesc_free(sd);
	return a;
}

static void test_rights_mapping(void **state)
{
	static const uint8_t other_guid[16] = {0xa0, 0x5b, 0x8c, 0xa6}; /* Autoenroll-like: some other right */
	struct sdb s;
	size_t idx;

	(void)state;
	/* object ACE for another extended right; read-only plain ACE; inherit-only grant */
	sdb_init(&s);
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED_OBJECT, 0, APF_RIGHT_DS_CONTROL_ACCESS, other_guid, "S-1-5-11");
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED, 0, 0x00020094, NULL, "S-1-5-11");
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED, APF_ACE_FLAG_INHERIT_ONLY, 0x000f01ff, NULL, "S-1-5-11");
	assert_int_equal(decide(&s, "S-1-5-11", &idx), APF_ACCESS_NOT_GRANTED);
	/* an object ACE without object type covers every extended right */
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED_OBJECT, 0, APF_RIGHT_DS_CONTROL_ACCESS, NULL, "S-1-5-11");
	assert_int_equal(decide(&s, "S-1-5-11", &idx), APF_ACCESS_ALLOWED);
	assert_int_equal(idx, 3);
	/* GENERIC_ALL maps to everything */
	sdb_init(&s);
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED, 0, APF_GENERIC_ALL, NULL, "S-1-1-0");
	assert_int_equal(decide(&s, "S-1-1-0", &idx), APF_ACCESS_ALLOWED);
	/* GENERIC_WRITE does not include control access */
	sdb_init(&s);
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED, 0, APF_GENERIC_WRITE, NULL, "S-1-1-0");
	assert_int_equal(decide(&s, "S-1-1-0", &idx), APF_ACCESS_NOT_GRANTED);
	/* first decision wins, in stored order: inherited allow after an explicit deny */
	sdb_init(&s);
	sdb_ace(&s, APF_ACE_ACCESS_DENIED_OBJECT, 0, APF_RIGHT_DS_CONTROL_ACCESS, apf_guid_enroll, "S-1-1-0");
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED, APF_ACE_FLAG_INHERITED, 0x000f01ff, NULL, "S-1-1-0");
	assert_int_equal(decide(&s, "S-1-1-0", &idx), APF_ACCESS_DENIED);
	assert_int_equal(idx, 0);
	/* a deny for someone else does not matter */
	sdb_init(&s);
	sdb_ace(&s, APF_ACE_ACCESS_DENIED_OBJECT, 0, APF_RIGHT_DS_CONTROL_ACCESS, apf_guid_enroll, "S-1-5-11");
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED_OBJECT, 0, APF_RIGHT_DS_CONTROL_ACCESS, apf_guid_enroll, "S-1-1-0");
	assert_int_equal(decide(&s, "S-1-1-0", &idx), APF_ACCESS_ALLOWED);
	assert_int_equal(idx, 1);
}

static void test_null_dacl_and_malformed(void **state)
{
	struct apf_secdesc *sd = NULL;
	struct apf_sid tok = sid("S-1-1-0");
	struct sdb s;

	(void)state;
	/* no DACL at all: everyone has every right */
	sdb_init(&s);
	put16(s.b + 2, APF_SE_SELF_RELATIVE);
	assert_int_equal(apf_secdesc_parse(s.b, 20, &sd), 0);
	assert_false(sd->dacl_present);
	assert_int_equal(apf_secdesc_check_right(sd, &tok, 1, apf_guid_enroll, NULL), APF_ACCESS_ALLOWED);
	apf_secdesc_free(sd);
	sd = NULL;

	sdb_init(&s);
	sdb_ace(&s, APF_ACE_ACCESS_ALLOWED, 0, 0x100, NULL, "S-1-1-0");
	assert_int_equal(apf_secdesc_parse(s.b, s.len - 1, &sd), -EINVAL); /* ACL runs past the end */
	assert_null(sd);
	put16(s.b + 24, 2); /* one ACE more than there is */
	assert_int_equal(apf_secdesc_parse(s.b, s.len, &sd), -EINVAL);
	put16(s.b + 24, 1);
	put16(s.b + 30, 4); /* AceSize smaller than an ACE header */
	assert_int_equal(apf_secdesc_parse(s.b, s.len, &sd), -EINVAL);
	sdb_init(&s);
	put16(s.b + 2, APF_SE_DACL_PRESENT); /* absolute form holds pointers */
	assert_int_equal(apf_secdesc_parse(s.b, s.len, &sd), -EINVAL);
	sdb_init(&s);
	put32(s.b + 16, 4096); /* DACL offset outside */
	assert_int_equal(apf_secdesc_parse(s.b, s.len, &sd), -EINVAL);
	assert_int_equal(apf_secdesc_parse(s.b, 10, &sd), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sid_roundtrip),
		cmocka_unit_test(test_guid_and_mask_str),
		cmocka_unit_test(test_lab_dacl_decisions),
		cmocka_unit_test(test_rights_mapping),
		cmocka_unit_test(test_null_dacl_and_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
