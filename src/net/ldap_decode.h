/* SPDX-License-Identifier: MIT */
/*
 * The part of LDAP result handling that decodes what a server sent, split out
 * of ldap.c so that a fuzz target can feed it bytes (tests/fuzz/fuzz_ldap.c).
 * Includes libldap's lber.h: only src/net/ldap.c and the fuzz target use it.
 */
#pragma once

#include <stddef.h>

#include <lber.h>

#include "net/ldap.h"

/*
 * Decodes the PartialAttributeList of a SearchResultEntry (RFC 4511 4.5.2),
 * `ber` positioned at its first attribute (as ldap_get_dn_ber() leaves it),
 * appending attributes and values to `e`. Every name and value is charged to
 * *budget (bytes plus a fixed overhead per value). Returns 0, -EFBIG when the
 * budget ran out (e holds what fitted), or -EPROTO when it does not decode.
 */
int apf_ldap_decode_attrs(BerElement *ber, struct apf_ldap_entry *e, size_t *budget);
