#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compiles the AMT data tables into C: data/amt-root-hashes.csv into the table
declared in src/pki_roots.h, data/amt-generations.csv into the one declared in
src/amt_rules.h (chosen by the CSV's header).

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


def roots(header, rows):
    want = ['name', 'sha256', 'sha1', 'sha384', 'generations', 'root_expiry', 'root_sig', 'source']
    if header != want:
        raise SystemExit('unexpected CSV header %r, want %r' % (header, want))
    seen = set()
    out = ['/* Generated from data/amt-root-hashes.csv by src/pki_roots_gen.py: do not edit. */',
           '#include "pki_roots.h"', '', 'const struct apf_amt_root apf_amt_roots[] = {']
    for r in rows:
        if len(r) != len(want):
            raise SystemExit('row with %d fields: %r' % (len(r), r))
        name, sha256, sha1, sha384, gen, expiry, sig, source = r
        if (not re.fullmatch('[0-9a-f]{64}', sha256) or (sha1 and not re.fullmatch('[0-9a-f]{40}', sha1))
                or (sha384 and not re.fullmatch('[0-9a-f]{96}', sha384))):
            raise SystemExit('bad hash in row %r' % r)
        if expiry and not re.fullmatch(r'\d{4}-\d{2}-\d{2}', expiry):
            raise SystemExit('bad expiry in row %r' % r)
        if sha256 in seen:
            raise SystemExit('duplicate row %r' % r)
        if not source.strip():
            raise SystemExit('row without a source %r' % r)
        seen.add(sha256)
        lo, hi = gens(gen)
        out.append('\t{%s, %s, %s, %s, %s, %d, %d, %s, %s, %s},' % (
            c_str(name), c_str(sha256), c_str(sha1), c_str(sha384), c_str(gen), lo, hi, c_str(expiry), c_str(sig),
            c_str(source)))
    out += ['};', '', 'const size_t apf_amt_roots_count = sizeof(apf_amt_roots) / sizeof(apf_amt_roots[0]);', '']
    return out


def generations(header, rows):
    want = ['rule', 'gen_min', 'gen_max', 'value', 'scope', 'source']
    if header != want:
        raise SystemExit('unexpected CSV header %r, want %r' % (header, want))
    values = {'sha1_refused': r'yes|no', 'rsa_min_bits': r'\d{3,5}', 'rsa_max_bits': r'\d{3,5}'}
    out = ['/* Generated from data/amt-generations.csv by src/pki_roots_gen.py: do not edit. */',
           '#include "amt_rules.h"', '', 'const struct apf_amt_gen_row apf_amt_gen_rows[] = {']
    for r in rows:
        if len(r) != len(want):
            raise SystemExit('row with %d fields: %r' % (len(r), r))
        rule, lo, hi, value, scope, source = r
        if rule not in values or not re.fullmatch(values[rule], value):
            raise SystemExit('unknown rule or bad value in row %r' % r)
        if not re.fullmatch(r'\d{1,2}', lo) or not re.fullmatch(r'(\d{1,2})?', hi) or (hi and int(hi) < int(lo)):
            raise SystemExit('bad generation range in row %r' % r)
        if not scope.strip() or not source.strip():
            raise SystemExit('row without a scope or source %r' % r)
        out.append('\t{%s, %d, %d, %s, %s, %s},' % (
            c_str(rule), int(lo), int(hi or 0), c_str(value), c_str(scope), c_str(source)))
    out += ['};', '',
            'const size_t apf_amt_gen_rows_count = sizeof(apf_amt_gen_rows) / sizeof(apf_amt_gen_rows[0]);', '']
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding='utf-8') as f:
        rows = list(csv.reader(line for line in f if not line.startswith('#') and line.strip()))
    header, rows = rows[0], rows[1:]
    out = generations(header, rows) if header and header[0] == 'rule' else roots(header, rows)
    with open(dst, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out))


if __name__ == '__main__':
    main()
