#!/usr/bin/env python3
"""Orchestration timing of a real run, from its JSON report.

usage: bench/report_timing.py REPORT.json [AMT_PREFLIGHT]
Prints the run's wall time against the sum of the checks' durations and against
the slowest check. Goal (issue 2): wall <= 1.1 x slowest + 0.2 s; checks that
depend on others (ad.ldap -> ca.*, dhcp.options -> dns.provisionserver) make the
critical path, so the slowest *chain* is printed too.
"""
import json
import sys

DEPS = {  # check -> checks it waits for (mirrors the descriptors' requires/after)
    "ca.enterprise": ["ad.ldap"], "ca.template": ["ad.ldap"],
    "dns.provisionserver": ["dhcp.options"], "cert.provisioning": ["dhcp.options"],
}

rep = json.load(open(sys.argv[1]))
dur = {c["id"]: c["duration_ms"] for c in rep["checks"]}
wall = rep["duration_ms"]
total = sum(dur.values())
slowest = max(dur.values()) if dur else 0


def chain(cid):
    return dur.get(cid, 0) + max([chain(d) for d in DEPS.get(cid, []) if d in dur] or [0])


crit = max(chain(c) for c in dur) if dur else 0
print(f"checks          {len(dur)}")
print(f"wall            {wall} ms")
print(f"sum of checks   {total} ms   wall/sum = {wall / max(total, 1):.2f}")
print(f"slowest check   {slowest} ms   wall/slowest = {wall / max(slowest, 1):.3f}")
print(f"critical chain  {crit} ms   wall/chain = {wall / max(crit, 1):.3f}")
goal = 1.1 * crit + 200
print(f"goal: wall <= 1.1 x chain + 200 ms = {goal:.0f} ms: {'met' if wall <= goal else 'NOT met'}")
