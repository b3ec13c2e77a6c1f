#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compiles data/amt-root-hashes.csv into the C table declared in src/pki_roots.h.

Run by meson at build time so the binary never depends on finding the CSV at
run time. Rejects malformed rows so a typo breaks the build, not a check.
usage: pki_roots_gen.py INPUT.csv OUTPUT.c
"""
import csv
import re
import sys


def c_str(s):
    out = s.replace('\\', '\\\\').replace('"', '\\"')
    if any(ord(c) < 0x20 for c in out):
        raise SystemExit('control character in CSV field: %r' % s)
    return '"' + out + '"'


def gens(s):
    """'7-10' -> (7, 10); '11-' -> (11, 0); '11' -> (11, 11); '?' -> (0, 0)."""
    if s == '?':
        return 0, 0
    m = re.fullmatch(r'(\d+)(-(\d*))?', s)
    if not m:
        raise SystemExit('bad generations field: %r' % s)
    lo = int(m.group(1))
    if m.group(2) is None:
        return lo, lo
    return lo, int(m.group(3)) if m.group(3) else 0


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding='utf-8') as f:
        rows = list(csv.reader(line for line in f if not line.startswith('#') and line.strip()))
    header, rows = rows[0], rows[1:]
    want = ['name', 'sha256', 'sha1', 'generations', 'root_expiry', 'root_sig', 'source']
    if header != want:
        raise SystemExit('unexpected CSV header %r, want %r' % (header, want))
    seen = set()
    out = ['/* Generated from data/amt-root-hashes.csv by src/pki_roots_gen.py: do not edit. */',
           '#include "pki_roots.h"', '', 'const struct apf_amt_root apf_amt_roots[] = {']
    for r in rows:
        if len(r) != len(want):
            raise SystemExit('row with %d fields: %r' % (len(r), r))
        name, sha256, sha1, gen, expiry, sig, source = r
        if not re.fullmatch('[0-9a-f]{64}', sha256) or (sha1 and not re.fullmatch('[0-9a-f]{40}', sha1)):
            raise SystemExit('bad hash in row %r' % r)
        if expiry and not re.fullmatch(r'\d{4}-\d{2}-\d{2}', expiry):
            raise SystemExit('bad expiry in row %r' % r)
        if sha256 in seen:
            raise SystemExit('duplicate row %r' % r)
        seen.add(sha256)
        lo, hi = gens(gen)
        out.append('\t{%s, %s, %s, %s, %d, %d, %s, %s, %s},' % (
            c_str(name), c_str(sha256), c_str(sha1), c_str(gen), lo, hi, c_str(expiry), c_str(sig), c_str(source)))
    out += ['};', '', 'const size_t apf_amt_roots_count = sizeof(apf_amt_roots) / sizeof(apf_amt_roots[0]);', '']
    with open(dst, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out))


if __name__ == '__main__':
    main()
