/* SPDX-License-Identifier: MIT */
/*
 * Security descriptor, ACL, ACE and SID decoding (MS-DTYP 2.4.2-2.4.6) and the
 * single-right access decision ca.enroll-permission needs. Every field comes
 * from the network: offsets and sizes are checked before each read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "secdesc.h"

#define MAX_ACES 4096

const uint8_t apf_guid_enroll[16] = {
	0x68, 0xc9, 0x10, 0x0e, 0xfb, 0x78, 0xd2, 0x11, 0x90, 0xd4, 0x00, 0xc0, 0x4f, 0x79, 0xdc, 0x55,
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- SIDs ------------------------------------------------------------------ */

int apf_sid_parse(const uint8_t *p, size_t len, struct apf_sid *out, size_t *used)
{
	size_t need;

	if (len < 8 || p[0] != 1 || p[1] > APF_SID_MAX_SUB)
		return -EINVAL;
	need = 8 + 4 * (size_t)p[1];
	if (len < need)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->revision = p[0];
	out->n_sub = p[1];
	for (int i = 0; i < 6; i++)
		out->authority = out->authority << 8 | p[2 + i];
	for (size_t i = 0; i < out->n_sub; i++)
		out->sub[i] = le32(p + 8 + 4 * i);
	if (used)
		*used = need;
	return 0;
}

char *apf_sid_str(const struct apf_sid *sid, char *buf, size_t size)
{
	size_t off;
	int n;

	/* MS-DTYP 2.4.2.1: authorities >= 2^32 are written in hex. */
	if (sid->authority >= (1ull << 32))
		n = snprintf(buf, size, "S-%u-0x%012" PRIx64, sid->revision, sid->authority);
	else
		n = snprintf(buf, size, "S-%u-%" PRIu64, sid->revision, sid->authority);
	off = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < sid->n_sub && off < size; i++) {
		n = snprintf(buf + off, size - off, "-%" PRIu32, sid->sub[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

static int parse_u64(const char **s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -EINVAL;
	}
	*s = p;
	*out = v;
	return 0;
}

int apf_sid_from_str(const char *s, struct apf_sid *out)
{
	uint64_t v;

	memset(out, 0, sizeof(*out));
	if ((s[0] != 'S' && s[0] != 's') || s[1] != '-')
		return -EINVAL;
	s += 2;
	if (parse_u64(&s, 255, &v) < 0 || v != 1 || *s != '-')
		return -EINVAL;
	out->revision = 1;
	s++;
	if (parse_u64(&s, (1ull << 48) - 1, &out->authority) < 0)
		return -EINVAL;
	while (*s == '-') {
		s++;
		if (out->n_sub == APF_SID_MAX_SUB || parse_u64(&s, UINT32_MAX, &v) < 0)
			return -EINVAL;
		out->sub[out->n_sub++] = (uint32_t)v;
	}
	return *s ? -EINVAL : 0;
}

size_t apf_sid_to_bin(const struct apf_sid *sid, uint8_t *buf, size_t size)
{
	size_t need = 8 + 4 * (size_t)sid->n_sub;

	if (size < need)
		return 0;
	buf[0] = sid->revision;
	buf[1] = sid->n_sub;
	for (int i = 0; i < 6; i++)
		buf[2 + i] = (uint8_t)(sid->authority >> (8 * (5 - i)));
	for (size_t i = 0; i < sid->n_sub; i++)
		for (int b = 0; b < 4; b++)
			buf[8 + 4 * i + (size_t)b] = (uint8_t)(sid->sub[i] >> (8 * b));
	return need;
}

bool apf_sid_equal(const struct apf_sid *a, const struct apf_sid *b)
{
	return a->revision == b->revision && a->n_sub == b->n_sub && a->authority == b->authority &&
	       memcmp(a->sub, b->sub, a->n_sub * sizeof(a->sub[0])) == 0;
}

bool apf_sid_append_rid(const struct apf_sid *domain, uint32_t rid, struct apf_sid *out)
{
	if (domain->n_sub >= APF_SID_MAX_SUB)
		return false;
	*out = *domain;
	out->sub[out->n_sub++] = rid;
	return true;
}

const char *apf_sid_wellknown_name(const struct apf_sid *sid)
{
	/* MS-DTYP 2.4.2.4 well-known SIDs that appear on certificate template ACLs. */
	static const struct {
		uint64_t auth;
		uint32_t sub0;
		const char *name;
	} fixed[] = {
		{1, 0, "Everyone"},
		{5, 11, "Authenticated Users"},
		{5, 18, "Local System"},
		{5, 9, "Enterprise Domain Controllers"},
		{5, 15, "This Organization"},
		{5, 2, "Network"},
	};
	static const struct {
		uint32_t rid;
		const char *name;
	} domain_rids[] = {
		{512, "Domain Admins"}, {513, "Domain Users"}, {515, "Domain Computers"},
		{516, "Domain Controllers"}, {519, "Enterprise Admins"},
	};

	if (sid->n_sub == 1) {
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			if (sid->authority == fixed[i].auth && sid->sub[0] == fixed[i].sub0)
				return fixed[i].name;
	}
	/* S-1-5-21-a-b-c-RID: a domain's well-known groups. */
	if (sid->authority == 5 && sid->n_sub == 5 && sid->sub[0] == 21) {
		for (size_t i = 0; i < sizeof(domain_rids) / sizeof(domain_rids[0]); i++)
			if (sid->sub[4] == domain_rids[i].rid)
				return domain_rids[i].name;
	}
	return NULL;
}

/* ---- GUIDs ------------------------------------------------------------------ */

char *apf_guid_str(const uint8_t g[16], char *buf, size_t size)
{
	snprintf(buf, size, "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(g), le16(g + 4),
		 le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
	return buf;
}

/* ---- ACEs, ACL, descriptor ------------------------------------------------- */

/* Decodes the body of one ACE (after its 4-byte header) into `a`. Types other
 * than the four allow/deny kinds keep only their header: they never decide. */
static int ace_parse(const uint8_t *p, size_t size, struct apf_ace *a)
{
	size_t off = 4;

	a->type = p[0];
	a->flags = p[1];
	switch (a->type) {
	case APF_ACE_ACCESS_ALLOWED:
	case APF_ACE_ACCESS_DENIED:
		if (size < off + 4)
			return -EINVAL;
		a->mask = le32(p + off);
		off += 4;
		break;
	case APF_ACE_ACCESS_ALLOWED_OBJECT:
	case APF_ACE_ACCESS_DENIED_OBJECT:
		if (size < off + 8)
			return -EINVAL;
		a->mask = le32(p + off);
		a->object_flags = le32(p + off + 4);
		off += 8;
		if (a->object_flags & APF_ACE_OBJECT_TYPE_PRESENT) {
			if (size < off + 16)
				return -EINVAL;
			memcpy(a->object_type, p + off, 16);
			off += 16;
		}
		if (a->object_flags & APF_ACE_INHERITED_OBJECT_TYPE_PRESENT) {
			if (size < off + 16)
				return -EINVAL;
			memcpy(a->inherited_object_type, p + off, 16);
			off += 16;
		}
		break;
	default:
		return 0;
	}
	if (apf_sid_parse(p + off, size - off, &a->sid, NULL) < 0)
		return -EINVAL;
	a->has_sid = true;
	return 0;
}

static int acl_parse(const uint8_t *p, size_t len, struct apf_secdesc *sd)
{
	size_t acl_size, count, off = 8;

	/* ACL header (MS-DTYP 2.4.5): revision 2 or 4, Sbz1, AclSize, AceCount, Sbz2. */
	if (len < 8 || (p[0] != 2 && p[0] != 4))
		return -EINVAL;
	acl_size = le16(p + 2);
	count = le16(p + 4);
	if (acl_size < 8 || acl_size > len || count > MAX_ACES)
		return -EINVAL;
	sd->aces = count ? apf_xcalloc(count, sizeof(*sd->aces)) : NULL;
	for (size_t i = 0; i < count; i++) {
		size_t ace_size;

		if (acl_size - off < 4)
			return -EINVAL;
		ace_size = le16(p + off + 2);
		/* AceSize covers the header; it is a multiple of 4 and at least the header. */
		if (ace_size < 8 || ace_size > acl_size - off)
			return -EINVAL;
		if (ace_parse(p + off, ace_size, &sd->aces[i]) < 0)
			return -EINVAL;
		sd->n_aces++;
		off += ace_size;
	}
	return 0;
}

int apf_secdesc_parse(const uint8_t *p, size_t len, struct apf_secdesc **out)
{
	struct apf_secdesc *sd = NULL;
	uint32_t dacl_off;
	int rc = -EINVAL;

	*out = NULL;
	/* Header (MS-DTYP 2.4.6): Revision 1, Sbz1, Control, then four offsets. */
	if (len < 20 || p[0] != 1)
		goto out;
	sd = apf_xcalloc(1, sizeof(*sd));
	sd->control = le16(p + 2);
	/* AD always returns self-relative descriptors; absolute ones hold pointers. */
	if (!(sd->control & APF_SE_SELF_RELATIVE))
		goto out;
	dacl_off = le32(p + 16);
	if ((sd->control & APF_SE_DACL_PRESENT) && dacl_off) {
		if (dacl_off < 20 || dacl_off >= len)
			goto out;
		sd->dacl_present = true;
		if (acl_parse(p + dacl_off, len - dacl_off, sd) < 0)
			goto out;
	}
	*out = sd;
	sd = NULL;
	rc = 0;
out:
	apf_secdesc_free(sd);
	return rc;
}

void apf_secdesc_free(struct apf_secdesc *sd)
{
	if (!sd)
		return;
	free(sd->aces);
	free(sd);
}

/* ---- evaluation -------------------------------------------------------------- */

static bool token_has(const struct apf_sid *sids, size_t n, const struct apf_sid *sid)
{
	for (size_t i = 0; i < n; i++)
		if (apf_sid_equal(&sids[i], sid))
			return true;
	return false;
}

/* Does the ACE's mask and object type cover extended right `guid`? */
static bool ace_covers(const struct apf_ace *a, const uint8_t guid[16])
{
	bool object = a->type == APF_ACE_ACCESS_ALLOWED_OBJECT || a->type == APF_ACE_ACCESS_DENIED_OBJECT;

	/* GENERIC_ALL maps to every directory right (MS-ADTS 5.1.3.2); stored ACEs
	 * rarely carry generic bits, but a hand-made one may. */
	if (a->mask & APF_GENERIC_ALL)
		return !object || !(a->object_flags & APF_ACE_OBJECT_TYPE_PRESENT) || memcmp(a->object_type, guid, 16) == 0;
	if (!(a->mask & APF_RIGHT_DS_CONTROL_ACCESS))
		return false;
	/* Control access without an object type means all extended rights (Full Control). */
	if (!object || !(a->object_flags & APF_ACE_OBJECT_TYPE_PRESENT))
		return true;
	return memcmp(a->object_type, guid, 16) == 0;
}

enum apf_access apf_secdesc_check_right(const struct apf_secdesc *sd, const struct apf_sid *sids, size_t n_sids,
					const uint8_t right_guid[16], size_t *ace_index)
{
	if (ace_index)
		*ace_index = SIZE_MAX;
	if (!sd->dacl_present)
		return APF_ACCESS_ALLOWED;
	for (size_t i = 0; i < sd->n_aces; i++) {
		const struct apf_ace *a = &sd->aces[i];
		bool deny;

		if (!a->has_sid || (a->flags & APF_ACE_FLAG_INHERIT_ONLY))
			continue;
		deny = a->type == APF_ACE_ACCESS_DENIED || a->type == APF_ACE_ACCESS_DENIED_OBJECT;
		if (!token_has(sids, n_sids, &a->sid) || !ace_covers(a, right_guid))
			continue;
		if (ace_index)
			*ace_index = i;
		return deny ? APF_ACCESS_DENIED : APF_ACCESS_ALLOWED;
	}
	return APF_ACCESS_NOT_GRANTED;
}

bool apf_ace_allows_right(const struct apf_ace *a, const uint8_t right_guid[16])
{
	return a->has_sid && !(a->flags & APF_ACE_FLAG_INHERIT_ONLY) &&
	       (a->type == APF_ACE_ACCESS_ALLOWED || a->type == APF_ACE_ACCESS_ALLOWED_OBJECT) && ace_covers(a, right_guid);
}

const char *apf_ace_type_name(uint8_t type)
{
	switch (type) {
	case APF_ACE_ACCESS_ALLOWED: return "allow";
	case APF_ACE_ACCESS_DENIED: return "deny";
	case APF_ACE_ACCESS_ALLOWED_OBJECT: return "allow-object";
	case APF_ACE_ACCESS_DENIED_OBJECT: return "deny-object";
	default: return "other";
	}
}

char *apf_access_mask_str(uint32_t mask, char *buf, size_t size)
{
	/* SDDL abbreviations of the directory-service rights (MS-DTYP 2.5.1.1). */
	static const struct {
		uint32_t bit;
		const char *abbr;
	} rights[] = {
		{0x10000000u, "GA"}, {0x80000000u, "GR"}, {0x40000000u, "GW"}, {0x20000000u, "GX"},
		{0x00000001u, "CC"}, {0x00000002u, "DC"}, {0x00000004u, "LC"}, {0x00000008u, "SW"},
		{0x00000010u, "RP"}, {0x00000020u, "WP"}, {0x00000040u, "DT"}, {0x00000080u, "LO"},
		{0x00000100u, "CR"}, {0x00010000u, "SD"}, {0x00020000u, "RC"}, {0x00040000u, "WD"},
		{0x00080000u, "WO"},
	};
	size_t off = 0;
	uint32_t left = mask;

	buf[0] = '\0';
	if (mask == 0x000f01ffu) {
		snprintf(buf, size, "Full Control");
		return buf;
	}
	for (size_t i = 0; i < sizeof(rights) / sizeof(rights[0]) && off < size; i++) {
		if (mask & rights[i].bit) {
			int n = snprintf(buf + off, size - off, "%s%s", off ? "|" : "", rights[i].abbr);
			off += n > 0 ? (size_t)n : 0;
			left &= ~rights[i].bit;
		}
	}
	if (left && off < size)
		snprintf(buf + off, size - off, "%s0x%08" PRIx32, off ? "|" : "", left);
	return buf;
}
