/* SPDX-License-Identifier: MIT */
/*
 * Windows security descriptors as AD returns them in nTSecurityDescriptor:
 * SIDs (MS-DTYP 2.4.2), ACEs (2.4.4), ACLs (2.4.5) and the self-relative
 * security descriptor (2.4.6). Pure code: no I/O, every offset checked against
 * the buffer; used on data straight from the network (fuzzed by fuzz_secdesc).
 *
 * The evaluation answers one question for the ca.enroll-permission check:
 * does a token (a set of SIDs) hold the Enroll extended right on an object?
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APF_SID_MAX_SUB 15 /* MS-DTYP 2.4.2.2: SubAuthorityCount is at most 15 */
#define APF_SID_STR_MAX 192 /* "S-1-" + 48-bit authority + 15 x "-4294967295" fits */

struct apf_sid {
	uint8_t revision;
	uint8_t n_sub;
	uint64_t authority; /* 48-bit IdentifierAuthority, big-endian on the wire */
	uint32_t sub[APF_SID_MAX_SUB];
};

/* ACE types (MS-DTYP 2.4.4.1) the evaluation understands; others are kept and ignored. */
enum apf_ace_type {
	APF_ACE_ACCESS_ALLOWED = 0x00,
	APF_ACE_ACCESS_DENIED = 0x01,
	APF_ACE_ACCESS_ALLOWED_OBJECT = 0x05,
	APF_ACE_ACCESS_DENIED_OBJECT = 0x06,
};

/* AceFlags (MS-DTYP 2.4.4.1). */
#define APF_ACE_FLAG_INHERIT_ONLY 0x08
#define APF_ACE_FLAG_INHERITED 0x10

/* Object ACE Flags (MS-DTYP 2.4.4.3). */
#define APF_ACE_OBJECT_TYPE_PRESENT 0x1
#define APF_ACE_INHERITED_OBJECT_TYPE_PRESENT 0x2

/* Access mask bits for directory objects (MS-ADTS 5.1.3.2; MS-DTYP 2.4.3). */
#define APF_RIGHT_DS_CONTROL_ACCESS 0x00000100u /* extended rights, e.g. Enroll */
#define APF_GENERIC_ALL 0x10000000u
#define APF_GENERIC_WRITE 0x40000000u

/* Security descriptor Control bits (MS-DTYP 2.4.6). */
#define APF_SE_DACL_PRESENT 0x0004
#define APF_SE_SELF_RELATIVE 0x8000

struct apf_ace {
	uint8_t type;   /* enum apf_ace_type or another type (ignored) */
	uint8_t flags;  /* APF_ACE_FLAG_* */
	uint32_t mask;
	uint32_t object_flags;    /* object ACEs only */
	uint8_t object_type[16];  /* valid when object_flags & APF_ACE_OBJECT_TYPE_PRESENT */
	uint8_t inherited_object_type[16];
	struct apf_sid sid;
	bool has_sid;             /* false for ACE types whose layout is not parsed */
};

struct apf_secdesc {
	uint16_t control;
	bool dacl_present; /* SE_DACL_PRESENT and a DACL offset; false = NULL DACL (everyone has every right) */
	struct apf_ace *aces;
	size_t n_aces;
};

/*
 * Parses a binary SID at `p`. Returns 0 and the bytes used in *used (may be
 * NULL), or -EINVAL when truncated or malformed (revision != 1, > 15 sub-authorities).
 */
int apf_sid_parse(const uint8_t *p, size_t len, struct apf_sid *out, size_t *used);

/* "S-1-5-21-...". `buf` holds at least APF_SID_STR_MAX bytes; returns buf. */
char *apf_sid_str(const struct apf_sid *sid, char *buf, size_t size);

/* Parses "S-1-5-11"; -EINVAL when malformed. */
int apf_sid_from_str(const char *s, struct apf_sid *out);

/* Binary encoding (8 + 4 * n_sub bytes); returns the length written, 0 when `size` is too small. */
size_t apf_sid_to_bin(const struct apf_sid *sid, uint8_t *buf, size_t size);

bool apf_sid_equal(const struct apf_sid *a, const struct apf_sid *b);

/* A SID with one more sub-authority (domain SID + RID); false when it would exceed 15. */
bool apf_sid_append_rid(const struct apf_sid *domain, uint32_t rid, struct apf_sid *out);

/* Name of a well-known SID ("Everyone", "Authenticated Users", "Domain Computers"...), NULL when not one. */
const char *apf_sid_wellknown_name(const struct apf_sid *sid);

/*
 * Parses a self-relative security descriptor. Only the DACL is decoded (the
 * owner, group and SACL are not needed to decide an access). At most 4096
 * ACEs. Returns 0, -EINVAL when malformed; *out stays NULL on failure.
 */
int apf_secdesc_parse(const uint8_t *p, size_t len, struct apf_secdesc **out);
void apf_secdesc_free(struct apf_secdesc *sd);

/* The Enroll extended right's rightsGuid 0e10c968-78fb-11d2-90d4-00c04f79dc55, in the
 * byte order GUIDs are stored in (MS-DTYP 2.3.4.2: first three fields little-endian). */
extern const uint8_t apf_guid_enroll[16];

/* "0e10c968-78fb-11d2-90d4-00c04f79dc55" for a GUID in stored byte order; buf >= 37 bytes. */
char *apf_guid_str(const uint8_t g[16], char *buf, size_t size);

enum apf_access {
	APF_ACCESS_NOT_GRANTED, /* no ACE for the token grants it: implicitly denied */
	APF_ACCESS_ALLOWED,
	APF_ACCESS_DENIED,      /* a deny ACE decided */
};

/*
 * Whether a token holding `sids` has the extended right `right_guid` (e.g.
 * apf_guid_enroll). ACEs are walked in stored order, which AD keeps canonical
 * (explicit deny, explicit allow, inherited deny, inherited allow; MS-DTYP
 * 2.4.5), and the first ACE that applies decides, as Windows' AccessCheck does
 * for a single right (MS-DTYP 2.5.3.2). An ACE applies when it is not
 * inherit-only, its SID is in the token, and it covers the right:
 * GENERIC_ALL, or RIGHT_DS_CONTROL_ACCESS in a plain ACE, in an object ACE
 * without an object type (all extended rights) or with object type = the right.
 * *ace_index (may be NULL) receives the deciding ACE, SIZE_MAX when none. A NULL
 * DACL allows everything.
 */
enum apf_access apf_secdesc_check_right(const struct apf_secdesc *sd, const struct apf_sid *sids, size_t n_sids,
					const uint8_t right_guid[16], size_t *ace_index);

/* True when `a` is an allow ACE (plain or object, not inherit-only) that covers the
 * extended right `right_guid` by the rules of apf_secdesc_check_right(). */
bool apf_ace_allows_right(const struct apf_ace *a, const uint8_t right_guid[16]);

/* Access mask in SDDL right abbreviations (MS-DTYP 2.5.1.1): "CR", "RP|LC|LO|RC",
 * "Full Control" for 0x000f01ff; unknown bits as hex. Returns buf (always terminated). */
char *apf_access_mask_str(uint32_t mask, char *buf, size_t size);

/* "allow", "deny", "allow-object", "deny-object", or "other". */
const char *apf_ace_type_name(uint8_t type);
