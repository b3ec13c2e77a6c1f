/* SPDX-License-Identifier: MIT */
/* AD CS flag decoding and value parsing (see adcs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adcs.h"
#include "alloc.h"

int apf_adcs_parse_u32(const char *s, uint32_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < INT32_MIN || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v; /* two's complement: a negative int32 is the same 32 bits */
	return 0;
}

struct flag_name {
	uint32_t bit;
	const char *name;
};

static const struct flag_name enrollment_flags[] = {
	{APF_CT_FLAG_INCLUDE_SYMMETRIC_ALGORITHMS, "INCLUDE_SYMMETRIC_ALGORITHMS"},
	{APF_CT_FLAG_PEND_ALL_REQUESTS, "PEND_ALL_REQUESTS"},
	{APF_CT_FLAG_PUBLISH_TO_KRA_CONTAINER, "PUBLISH_TO_KRA_CONTAINER"},
	{APF_CT_FLAG_PUBLISH_TO_DS, "PUBLISH_TO_DS"},
	{APF_CT_FLAG_AUTO_ENROLLMENT_CHECK_USER_DS_CERTIFICATE, "AUTO_ENROLLMENT_CHECK_USER_DS_CERTIFICATE"},
	{APF_CT_FLAG_AUTO_ENROLLMENT, "AUTO_ENROLLMENT"},
	{APF_CT_FLAG_PREVIOUS_APPROVAL_VALIDATE_REENROLLMENT, "PREVIOUS_APPROVAL_VALIDATE_REENROLLMENT"},
	{APF_CT_FLAG_USER_INTERACTION_REQUIRED, "USER_INTERACTION_REQUIRED"},
	{APF_CT_FLAG_REMOVE_INVALID_CERTIFICATE_FROM_PERSONAL_STORE, "REMOVE_INVALID_CERTIFICATE_FROM_PERSONAL_STORE"},
	{APF_CT_FLAG_ALLOW_ENROLL_ON_BEHALF_OF, "ALLOW_ENROLL_ON_BEHALF_OF"},
	{APF_CT_FLAG_ADD_OCSP_NOCHECK, "ADD_OCSP_NOCHECK"},
	{APF_CT_FLAG_ENABLE_KEY_REUSE_ON_NT_TOKEN_KEYSET_STORAGE_FULL, "ENABLE_KEY_REUSE_ON_NT_TOKEN_KEYSET_STORAGE_FULL"},
	{APF_CT_FLAG_NOREVOCATIONINFOINISSUEDCERTS, "NOREVOCATIONINFOINISSUEDCERTS"},
	{APF_CT_FLAG_INCLUDE_BASIC_CONSTRAINTS_FOR_EE_CERTS, "INCLUDE_BASIC_CONSTRAINTS_FOR_EE_CERTS"},
	{APF_CT_FLAG_ALLOW_PREVIOUS_APPROVAL_KEYBASEDRENEWAL_VALIDATE_REENROLLMENT,
	 "ALLOW_PREVIOUS_APPROVAL_KEYBASEDRENEWAL_VALIDATE_REENROLLMENT"},
	{APF_CT_FLAG_ISSUANCE_POLICIES_FROM_REQUEST, "ISSUANCE_POLICIES_FROM_REQUEST"},
	{APF_CT_FLAG_SKIP_AUTO_RENEWAL, "SKIP_AUTO_RENEWAL"},
	{APF_CT_FLAG_NO_SECURITY_EXTENSION, "NO_SECURITY_EXTENSION"},
};

static const struct flag_name name_flags[] = {
	{APF_CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT, "ENROLLEE_SUPPLIES_SUBJECT"},
	{APF_CT_FLAG_OLD_CERT_SUPPLIES_SUBJECT_AND_ALT_NAME, "OLD_CERT_SUPPLIES_SUBJECT_AND_ALT_NAME"},
	{APF_CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT_ALT_NAME, "ENROLLEE_SUPPLIES_SUBJECT_ALT_NAME"},
	{APF_CT_FLAG_SUBJECT_ALT_REQUIRE_DOMAIN_DNS, "SUBJECT_ALT_REQUIRE_DOMAIN_DNS"},
	{APF_CT_FLAG_SUBJECT_ALT_REQUIRE_SPN, "SUBJECT_ALT_REQUIRE_SPN"},
	{APF_CT_FLAG_SUBJECT_ALT_REQUIRE_DIRECTORY_GUID, "SUBJECT_ALT_REQUIRE_DIRECTORY_GUID"},
	{APF_CT_FLAG_SUBJECT_ALT_REQUIRE_UPN, "SUBJECT_ALT_REQUIRE_UPN"},
	{APF_CT_FLAG_SUBJECT_ALT_REQUIRE_EMAIL, "SUBJECT_ALT_REQUIRE_EMAIL"},
	{APF_CT_FLAG_SUBJECT_ALT_REQUIRE_DNS, "SUBJECT_ALT_REQUIRE_DNS"},
	{APF_CT_FLAG_SUBJECT_REQUIRE_DNS_AS_CN, "SUBJECT_REQUIRE_DNS_AS_CN"},
	{APF_CT_FLAG_SUBJECT_REQUIRE_EMAIL, "SUBJECT_REQUIRE_EMAIL"},
	{APF_CT_FLAG_SUBJECT_REQUIRE_COMMON_NAME, "SUBJECT_REQUIRE_COMMON_NAME"},
	{APF_CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH, "SUBJECT_REQUIRE_DIRECTORY_PATH"},
};

/* Appends to buf without overflowing; truncation is silent (evidence, not data). */
static void append(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len >= size)
		return;
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

static const char *flags_str(uint32_t v, const struct flag_name *tab, size_t n, char *buf, size_t size)
{
	char tmp[24];
	size_t len = 0;
	uint32_t rest = v;
	bool first = true;

	if (!size)
		return buf;
	buf[0] = '\0';
	snprintf(tmp, sizeof(tmp), "0x%08x (", (unsigned int)v);
	append(buf, size, &len, tmp);
	for (size_t i = 0; i < n; i++) {
		if (!(v & tab[i].bit))
			continue;
		append(buf, size, &len, first ? "" : "|");
		append(buf, size, &len, tab[i].name);
		rest &= ~tab[i].bit;
		first = false;
	}
	if (rest) {
		snprintf(tmp, sizeof(tmp), "%s0x%x", first ? "" : "|", (unsigned int)rest);
		append(buf, size, &len, tmp);
		first = false;
	}
	append(buf, size, &len, first ? "none)" : ")");
	return buf;
}

const char *apf_adcs_enrollment_flags_str(uint32_t v, char *buf, size_t size)
{
	return flags_str(v, enrollment_flags, sizeof(enrollment_flags) / sizeof(enrollment_flags[0]), buf, size);
}

const char *apf_adcs_name_flags_str(uint32_t v, char *buf, size_t size)
{
	return flags_str(v, name_flags, sizeof(name_flags) / sizeof(name_flags[0]), buf, size);
}

char *apf_ldap_filter_escape(const char *s)
{
	size_t n = strlen(s);
	char *r = apf_xmalloc(n * 3 + 1), *p = r;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '*' || c == '(' || c == ')' || c == '\\') {
			snprintf(p, 4, "\\%02x", c);
			p += 3;
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return r;
}

bool apf_adcs_is_provisioning_template(const char *name, const char *const *ekus, size_t n_ekus)
{
	if (name && strcasestr(name, "provision"))
		return true;
	for (size_t i = 0; i < n_ekus; i++)
		if (ekus[i] && strcmp(ekus[i], APF_OID_AMT_SETUP) == 0)
			return true;
	return false;
}

char *apf_adcs_template_filter(const char *name)
{
	char *esc = apf_ldap_filter_escape(name);
	char *f = apf_xasprintf("(&(objectClass=pKICertificateTemplate)(|(cn=%s)(displayName=%s)))", esc, esc);

	free(esc);
	return f;
}
