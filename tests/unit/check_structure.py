#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The include graph and the fact declarations, checked from the sources.

1. Only src/net/ includes the ldns, libldap/lber and libcurl headers; OpenSSL
   also in the few certificate modules listed in OPENSSL_OUTSIDE_NET.
2. checks/ include check.h and project headers whose include closure pulls none
   of those library headers.
3. Nothing in src/net/ includes checks/check.h, directly or through a header.
4. Fact keys are the APF_FACT_* names of src/facts.h, never bare strings, and
   every check that reads a fact (itself, or through a src/ module it uses, such
   as ad.c or dnscheck.c) lists the publishing check in `after` or
   `requires_checks`: apf_fact_get() hides undeclared facts, so a missing
   declaration is a silently dead branch.

usage: check_structure.py SOURCE_ROOT
"""
import os
import re
import sys

LIB_HEADER = re.compile(r'#\s*include\s*<(ldns/|openssl/|ldap\.h|lber\.h|curl/)')
OPENSSL_OUTSIDE_NET = {
    "src/pki.c": "certificate, key and PFX parsing",
    "src/revocation.c": "CRL and OCSP parsing and signatures",
    "src/util.c": "the SHA-256 digest of the configuration",
}
INCLUDE = re.compile(r'#\s*include\s*"([^"]+)"')
FACT_DEF = re.compile(r'#define\s+(APF_FACT_[A-Z0-9_]+)\s+"([^"]+)",\s*"([^"]+)"')
FACT_GET = re.compile(r'apf_fact_get\s*\(\s*[^,]+,\s*([^)]*)\)')
FACT_ADD = re.compile(r'apf_fact_add\s*\(\s*[^,]+,\s*([^,]*(?:\([^)]*\))?)\s*,')
ARRAY = re.compile(r'static const char \*const (after|requires_checks)\[\]\s*=\s*\{([^}]*)\}')
CHECK_ID = re.compile(r'\.id\s*=\s*"([^"]+)"')


def main(root):
    os.chdir(root)
    files = {}
    for top in ("src", "checks", "report"):
        for d, _, names in os.walk(top):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(d, n)
                    with open(p, encoding="utf-8") as f:
                        files[p] = f.read()
    dirs = ["src", "checks"]

    def resolve(inc, frm):
        for base in [os.path.dirname(frm)] + dirs:
            p = os.path.normpath(os.path.join(base, inc))
            if p in files:
                return p
        return None

    def closure(p, seen=None):
        seen = set() if seen is None else seen
        for inc in INCLUDE.findall(files[p]):
            q = resolve(inc, p)
            if q and q not in seen:
                seen.add(q)
                closure(q, seen)
        return seen

    errors = []
    lib_users = {p for p, t in files.items() if LIB_HEADER.search(t)}
    for p in sorted(lib_users):
        if p.startswith("src/net/"):
            continue
        kinds = set(m.group(1) for m in LIB_HEADER.finditer(files[p]))
        if p in OPENSSL_OUTSIDE_NET and kinds == {"openssl/"}:
            continue
        errors.append(f"{p}: includes {', '.join(sorted(kinds))} headers outside src/net/")
    for p in sorted(files):
        if p.startswith("checks/") and p.endswith(".c"):
            for q in sorted(closure(p)):
                if q in lib_users:
                    errors.append(f"{p}: includes {q}, which includes a library header")
        if p.startswith("src/net/") and "checks/check.h" in closure(p):
            errors.append(f"{p}: includes checks/check.h (an adapter must not depend on the check interface)")

    # Facts.
    facts = {m.group(1): (m.group(2), m.group(3)) for m in FACT_DEF.finditer(files["src/facts.h"])}
    reads = {}
    for p, t in files.items():
        if p.endswith(".c") and p != "src/ctx.c":  # ctx.c implements them
            for arg in FACT_GET.findall(t):
                arg = arg.strip()
                if arg not in facts:
                    errors.append(f"{p}: apf_fact_get with {arg!r}: use an APF_FACT_* name from src/facts.h")
                else:
                    reads.setdefault(p, set()).add(arg)
            for arg in FACT_ADD.findall(t):
                m = re.fullmatch(r'APF_FACT_KEY\((APF_FACT_[A-Z0-9_]+)\)', arg.strip())
                if not m or m.group(1) not in facts:
                    errors.append(f"{p}: apf_fact_add with {arg.strip()!r}: use APF_FACT_KEY(APF_FACT_*)")
                    continue
                cid = CHECK_ID.search(t)
                if not cid or cid.group(1) != facts[m.group(1)][0]:
                    errors.append(f"{p}: publishes {m.group(1)}, which src/facts.h gives to {facts[m.group(1)][0]}")

    def module_reads(c_file, seen):
        out = set(reads.get(c_file, ()))
        for h in closure(c_file):
            src = h[:-2] + ".c"
            if h.endswith(".h") and src in files and src not in seen:
                seen.add(src)
                out |= module_reads(src, seen)
        return out

    checked = 0
    for p in sorted(files):
        if not (p.startswith("checks/") and p.endswith(".c")):
            continue
        t = files[p]
        cid = CHECK_ID.search(t)
        if not cid:
            continue
        declared = set()
        for _, body in ARRAY.findall(t):
            declared |= set(re.findall(r'"([^"]+)"', body))
        for fact in sorted(module_reads(p, {p})):
            publisher = facts[fact][0]
            checked += 1
            if publisher != cid.group(1) and publisher not in declared:
                errors.append(f"{p}: {cid.group(1)} reads {fact} (published by {publisher}) but does not list "
                              f"{publisher} in after or requires_checks")
    if checked == 0:
        errors.append("no fact reader found: the scan is broken")
    for e in errors:
        print(e)
    print(f"{len(files)} files, {checked} fact reads checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
