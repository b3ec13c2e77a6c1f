/* SPDX-License-Identifier: MIT */
/*
 * Microsoft AD CS objects as stored in AD (MS-CRTD, MS-WCCE): flag decoding
 * and value parsing for the ca.* checks. Pure functions, unit-tested.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* msPKI-Enrollment-Flag (MS-CRTD 2.26) */
#define APF_CT_FLAG_INCLUDE_SYMMETRIC_ALGORITHMS 0x00000001u
#define APF_CT_FLAG_PEND_ALL_REQUESTS 0x00000002u
#define APF_CT_FLAG_PUBLISH_TO_KRA_CONTAINER 0x00000004u
#define APF_CT_FLAG_PUBLISH_TO_DS 0x00000008u
#define APF_CT_FLAG_AUTO_ENROLLMENT_CHECK_USER_DS_CERTIFICATE 0x00000010u
#define APF_CT_FLAG_AUTO_ENROLLMENT 0x00000020u
#define APF_CT_FLAG_PREVIOUS_APPROVAL_VALIDATE_REENROLLMENT 0x00000040u
#define APF_CT_FLAG_USER_INTERACTION_REQUIRED 0x00000100u
#define APF_CT_FLAG_REMOVE_INVALID_CERTIFICATE_FROM_PERSONAL_STORE 0x00000400u
#define APF_CT_FLAG_ALLOW_ENROLL_ON_BEHALF_OF 0x00000800u
#define APF_CT_FLAG_ADD_OCSP_NOCHECK 0x00001000u
#define APF_CT_FLAG_ENABLE_KEY_REUSE_ON_NT_TOKEN_KEYSET_STORAGE_FULL 0x00002000u
#define APF_CT_FLAG_NOREVOCATIONINFOINISSUEDCERTS 0x00004000u
#define APF_CT_FLAG_INCLUDE_BASIC_CONSTRAINTS_FOR_EE_CERTS 0x00008000u
#define APF_CT_FLAG_ALLOW_PREVIOUS_APPROVAL_KEYBASEDRENEWAL_VALIDATE_REENROLLMENT 0x00010000u
#define APF_CT_FLAG_ISSUANCE_POLICIES_FROM_REQUEST 0x00020000u
#define APF_CT_FLAG_SKIP_AUTO_RENEWAL 0x00040000u
#define APF_CT_FLAG_NO_SECURITY_EXTENSION 0x00080000u

/* msPKI-Certificate-Name-Flag (MS-CRTD 2.28) */
#define APF_CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT 0x00000001u
#define APF_CT_FLAG_OLD_CERT_SUPPLIES_SUBJECT_AND_ALT_NAME 0x00000008u
#define APF_CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT_ALT_NAME 0x00010000u
#define APF_CT_FLAG_SUBJECT_ALT_REQUIRE_DOMAIN_DNS 0x00400000u
#define APF_CT_FLAG_SUBJECT_ALT_REQUIRE_SPN 0x00800000u
#define APF_CT_FLAG_SUBJECT_ALT_REQUIRE_DIRECTORY_GUID 0x01000000u
#define APF_CT_FLAG_SUBJECT_ALT_REQUIRE_UPN 0x02000000u
#define APF_CT_FLAG_SUBJECT_ALT_REQUIRE_EMAIL 0x04000000u
#define APF_CT_FLAG_SUBJECT_ALT_REQUIRE_DNS 0x08000000u
#define APF_CT_FLAG_SUBJECT_REQUIRE_DNS_AS_CN 0x10000000u
#define APF_CT_FLAG_SUBJECT_REQUIRE_EMAIL 0x20000000u
#define APF_CT_FLAG_SUBJECT_REQUIRE_COMMON_NAME 0x40000000u
#define APF_CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH 0x80000000u

#define APF_OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define APF_OID_AMT_SETUP "2.16.840.1.113741.1.2.3"

/*
 * Parses an AD integer attribute. AD stores 32-bit flag words as *signed*
 * decimal ("-2113929216" is 0x82000000), so both signed and unsigned forms in
 * 32 bits are accepted. -EINVAL for anything else (garbage, overflow).
 */
int apf_adcs_parse_u32(const char *s, uint32_t *out);

/*
 * Writes "0x00000002 (PEND_ALL_REQUESTS|...)" for an msPKI-Enrollment-Flag /
 * msPKI-Certificate-Name-Flag value into buf (truncated to size, always
 * NUL-terminated); unknown bits are listed as 0x.... Returns buf.
 */
const char *apf_adcs_enrollment_flags_str(uint32_t v, char *buf, size_t size);
const char *apf_adcs_name_flags_str(uint32_t v, char *buf, size_t size);

/* Escapes a value for an LDAP filter (RFC 4515: * ( ) \ NUL). Caller frees. */
char *apf_ldap_filter_escape(const char *s);

/* True when a template looks like the AMT provisioning (setup) template: its name
 * mentions "provision" or its EKU list has the AMT setup OID. */
bool apf_adcs_is_provisioning_template(const char *name, const char *const *ekus, size_t n_ekus);

/* The search filter for a template named `name` (cn or displayName), escaped;
 * used below CN=Certificate Templates with one-level scope. Caller frees. */
char *apf_adcs_template_filter(const char *name);
