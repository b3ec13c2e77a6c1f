#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""validate.py must reject broken reports, not only accept good ones.

    test_validate.py GOOD_REPORT.json

Takes a valid report (written by the real JSON writer), checks it validates,
then applies one mutation at a time and checks each is rejected.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATE = os.path.join(HERE, "validate.py")


def first_finding(r):
    return next(f for c in r["checks"] for f in c["findings"])


def set_in(path, value):
    def mutate(r):
        obj = r
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return mutate


def delete(path):
    def mutate(r):
        obj = r
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
    return mutate


MUTATIONS = {
    "schema_version 3": set_in(["schema_version"], 3),
    "no verdict": delete(["verdict"]),
    "unknown verdict": set_in(["verdict"], "MAYBE"),
    "exit code does not match verdict": set_in(["exit_code"], 0),
    "unknown top-level field": set_in(["surprise"], True),
    "count missing": delete(["counts", "SKIP"]),
    "count wrong": lambda r: r["counts"].__setitem__("PASS", r["counts"]["PASS"] + 1),
    "digest not hex": set_in(["config", "digest"], "not-a-digest"),
    "started not RFC 3339": set_in(["started"], "yesterday"),
    "check status lowercase": lambda r: r["checks"][0].__setitem__("status", "fail"),
    "check status not the worst finding": lambda r: r["checks"][0].__setitem__("status", "PASS"),
    "check id malformed": lambda r: r["checks"][0].__setitem__("id", "No Dot"),
    "area not the id prefix": lambda r: r["checks"][0].__setitem__("area", "zz"),
    "checks out of order": lambda r: r["checks"].reverse(),
    "negative duration": lambda r: r["checks"][0].__setitem__("duration_ms", -1),
    "finding code lowercase": lambda r: first_finding(r).__setitem__("code", "lower_case"),
    "evidence value not a string": lambda r: first_finding(r)["evidence"].__setitem__("n", 3),
    "evidence is a list": lambda r: first_finding(r).__setitem__("evidence", [["k", "v"]]),
    "finding without remediation key": lambda r: first_finding(r).pop("remediation"),
    "finding with an extra field": lambda r: first_finding(r).__setitem__("severity", 5),
}


def run_validate(report, extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(report, f)
        path = f.name
    try:
        return subprocess.run([sys.executable, VALIDATE, *extra, path], capture_output=True, text=True)
    finally:
        os.unlink(path)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        good = json.load(f)
    failures = []
    res = run_validate(good)
    if res.returncode != 0:
        failures.append("the good report was rejected:\n" + res.stdout + res.stderr)
    for name, mutate in MUTATIONS.items():
        bad = copy.deepcopy(good)
        mutate(bad)
        res = run_validate(bad)
        if res.returncode != 1 or "INVALID" not in res.stdout:
            failures.append("not rejected: %s (exit %d)" % (name, res.returncode))
    res = run_validate(good, ["--forbid", good["checks"][0]["id"]])
    if res.returncode != 1:
        failures.append("--forbid did not reject a report containing the string")
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("ok: good report valid, %d broken variants rejected" % len(MUTATIONS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
