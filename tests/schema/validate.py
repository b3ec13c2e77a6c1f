#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validates amt-preflight JSON reports against docs/report.schema.json.

    validate.py [--schema FILE] [--no-semantic] [--forbid STRING]... REPORT.json...

Besides the schema (draft 2020-12, python3-jsonschema), it checks what a JSON
Schema cannot say (turn off with --no-semantic):
  - each check's area is its id's prefix, ids are unique and in registry (id) order;
  - each check's status is the worst of its findings' (SKIP when none);
  - counts match the checks' statuses; verdict and exit_code follow from them.
--forbid STRING fails when STRING occurs anywhere in a report's raw text (the
integration suite passes the configured passwords: secrets never reach a report).

Exit status: 0 all valid, 1 at least one report invalid, 2 usage error or
jsonschema missing.
"""
import argparse
import json
import os
import sys

ORDER = ["SKIP", "PASS", "INFO", "WARN", "ERROR", "FAIL"]
EXIT = {"READY": 0, "READY WITH WARNINGS": 1, "NOT READY": 2, "INCOMPLETE": 3}
DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "report.schema.json")


def semantic_errors(rep):
    errs = []
    checks = rep.get("checks", [])
    ids = [c.get("id") for c in checks]
    if len(set(ids)) != len(ids):
        errs.append("duplicate check ids")
    if ids != sorted(ids):
        errs.append("checks are not in registry (id) order: %s" % ids)
    counts = {s: 0 for s in ORDER}
    for c in checks:
        cid = c.get("id", "?")
        if c.get("area") != cid.split(".")[0]:
            errs.append("%s: area %r is not the id's prefix" % (cid, c.get("area")))
        fs = c.get("findings", [])
        live = [f for f in fs if not (f.get("waiver") and not f["waiver"].get("expired"))]
        worst = max((ORDER.index(f["status"]) for f in live), default=0)
        if len(live) < len(fs) and worst < ORDER.index("INFO"):
            worst = ORDER.index("INFO")
        if c.get("status") != ORDER[worst]:
            errs.append("%s: status %s but worst finding is %s" % (cid, c.get("status"), ORDER[worst]))
        counts[c.get("status")] = counts.get(c.get("status"), 0) + 1
    if rep.get("counts") != counts:
        errs.append("counts %s do not match the checks %s" % (rep.get("counts"), counts))
    if counts["FAIL"]:
        verdict = "NOT READY"
    elif counts["ERROR"] or counts["SKIP"] == len(checks):
        verdict = "INCOMPLETE"
    elif counts["WARN"]:
        verdict = "READY WITH WARNINGS"
    else:
        verdict = "READY"
    if rep.get("verdict") != verdict:
        errs.append("verdict %r, expected %r from the counts" % (rep.get("verdict"), verdict))
    if rep.get("exit_code") != EXIT[verdict]:
        errs.append("exit_code %r, expected %d" % (rep.get("exit_code"), EXIT[verdict]))
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", metavar="REPORT.json")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--forbid", action="append", default=[], metavar="STRING")
    args = ap.parse_args()

    try:
        import jsonschema
    except ImportError:
        print("validate.py: python3-jsonschema is not installed", file=sys.stderr)
        return 2
    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print("validate.py: bad schema %s: %s" % (args.schema, e), file=sys.stderr)
        return 2
    validator = cls(schema)

    bad = 0
    for path in args.reports:
        errs = []
        try:
            with open(path, "rb") as f:
                raw = f.read()
            rep = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError) as e:
            print("%s: INVALID: cannot read JSON: %s" % (path, e))
            bad += 1
            continue
        for e in sorted(validator.iter_errors(rep), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            errs.append("%s: %s" % (where, e.message))
        if not errs and not args.no_semantic:
            errs += semantic_errors(rep)
        for s in args.forbid:
            if s and s.encode("utf-8") in raw:
                errs.append("forbidden string (a secret?) occurs in the report")
        if errs:
            bad += 1
            print("%s: INVALID" % path)
            for e in errs:
                print("  " + e)
        else:
            print("%s: valid" % path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
