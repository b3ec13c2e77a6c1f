#!/usr/bin/env python3
"""Harness for amt-preflight's integration tests against the lab (tests/lab/).

Plain python3, standard library only. The lab must be up (tests/integration/run.sh
brings one up, runs every tests/integration/test_*.py, and tears it down).

Environment
    LAB_PREFIX     lab prefix, default "apl" (namespaces ${P}srv, ${P}cli, ${P}ad)
    LAB_DIR        lab work dir, default /tmp/amt-lab-$LAB_PREFIX
    AMT_PREFLIGHT  the binary under test, default build/amt-preflight (repo-relative)

API (keep it small; everything else is plain unittest)
    lab = Lab()                        # from the environment; Lab(prefix, lab_dir) also works
    lab.prefix, lab.dir, lab.conf      # lab.conf = $LAB_DIR/lab.conf
    lab.ns_srv, lab.ns_cli, lab.ns_ad  # namespace names
    lab.path("pki", "root.crt")        # a path under $LAB_DIR
    lab.is_up()                        # True when ${P}srv exists and $LAB_DIR/lab.conf too
    lab.run(ns, argv, timeout=30, input=None) -> subprocess.CompletedProcess (text, never raises
                                       on a non-zero exit); lab.cli(argv) / lab.srv(argv) / lab.ad(argv)
    lab.fault(name)                    # applies a fault now; also a context manager that reverts it:
                                       #     with lab.fault("no-ddns"): ...
    lab.revert(name)                   # reverts a fault (no-op when not active)
    lab.active_faults() -> list[str]
    lab.run_preflight(only=None, extra_args=(), conf=None, timeout=300) -> (exit_code, report)
                                       # runs: ip netns exec ${P}cli $AMT_PREFLIGHT run -c CONF
                                       #       --json TMP --quiet [--only a,b] EXTRA...
                                       # report = the parsed JSON; raises PreflightError when the
                                       # binary wrote none. lab.last_run keeps the CompletedProcess.
    findings(report, check_id) -> list of finding dicts (status, code, message, evidence, remediation)
    check_status(report, check_id) -> "PASS" | "INFO" | "WARN" | "FAIL" | "ERROR" | "SKIP" | None
    check_result(report, check_id) -> the check's dict or None
    LabTestCase                        # unittest.TestCase: skips the class when the lab is not up;
                                       # self.lab is the Lab; self.require_binary() skips a test when
                                       # $AMT_PREFLIGHT is not built yet;
                                       # self.lab_conf_copy(edit) a copy of lab.conf with
                                       # edit(text) -> text applied (for conf=), removed at cleanup.
    FAULTS                             # every fault name the lab knows

Running:  python3 tests/integration/labtest.py [test_x.py ...]
    runs the given files (default: every test_*.py beside this file) verbosely and
    ends with the line "N passed, N failed, N skipped"; exit status 1 if any failed.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB_SCRIPTS = os.path.join(REPO, "tests", "lab")

FAULTS = (
    "no-provisionserver", "wrong-provisionserver", "no-ddns", "no-option15", "dc-down",
    "template-pend", "template-unpublished", "stale-ca", "crl-expired", "pfx-expired-int", "pfx-nochain",
    "bad-bind-password", "ca-pending", "ca-denied", "enroll-missing", "rps-wrong-cert", "rps-no-upgrade", "mps-down",
    "sql-down", "sql-noencrypt", "ntp-skew", "ntp-unsync", "dc-ntp-down",
)

# amt-preflight's exit codes and the verdict each one stands for.
VERDICTS = {0: "READY", 1: "READY WITH WARNINGS", 2: "NOT READY", 3: "INCOMPLETE"}


class PreflightError(AssertionError):
    """amt-preflight ran but produced no JSON report."""


class _Fault:
    """Returned by Lab.fault(): the fault is already applied; leaving a `with`
    block reverts it."""

    def __init__(self, lab, name):
        self.lab, self.name = lab, name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.lab.revert(self.name)
        return False


class Lab:
    def __init__(self, prefix=None, lab_dir=None):
        self.prefix = prefix or os.environ.get("LAB_PREFIX", "apl")
        self.dir = lab_dir or (os.environ.get("LAB_DIR") if prefix is None else None) \
            or "/tmp/amt-lab-" + self.prefix
        self.ns_srv = self.prefix + "srv"
        self.ns_cli = self.prefix + "cli"
        self.ns_ad = self.prefix + "ad"
        self.conf = os.path.join(self.dir, "lab.conf")
        binary = os.environ.get("AMT_PREFLIGHT", "build/amt-preflight")
        self.binary = binary if os.path.isabs(binary) else os.path.join(REPO, binary)
        self.last_run = None

    # ---------------------------------------------------------------- basics
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def env(self):
        e = dict(os.environ)
        e["LAB_PREFIX"], e["LAB_DIR"] = self.prefix, self.dir
        return e

    def is_up(self):
        return self.ns_srv in namespaces() and os.path.exists(self.conf)

    def run(self, ns, argv, timeout=30, input=None):
        return subprocess.run(["ip", "netns", "exec", ns] + list(argv), input=input,
                              capture_output=True, text=True, timeout=timeout)

    def cli(self, argv, **kw):
        return self.run(self.ns_cli, argv, **kw)

    def srv(self, argv, **kw):
        return self.run(self.ns_srv, argv, **kw)

    def ad(self, argv, **kw):
        return self.run(self.ns_ad, argv, **kw)

    def _script(self, name, *args, timeout=120):
        p = subprocess.run(["bash", os.path.join(LAB_SCRIPTS, name)] + list(args),
                           env=self.env(), capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("%s %s failed (rc %d):\n%s" % (name, " ".join(args), p.returncode,
                                                               p.stderr[-3000:]))
        return p

    # ---------------------------------------------------------------- lab control
    def up(self, faults=()):
        """Brings this lab up (for tests that need a second lab; run.sh does the main one)."""
        args = ["--fault", ",".join(faults)] if faults else []
        return self._script("up.sh", *args, timeout=180)

    def down(self, purge=False):
        return self._script("down.sh", *(["--purge"] if purge else []))

    def fault(self, name):
        self._script("fault.sh", name)
        return _Fault(self, name)

    def revert(self, name):
        self._script("fault.sh", "--revert", name)

    def active_faults(self):
        try:
            with open(self.path("faults")) as f:
                return [l.strip() for l in f if l.strip()]
        except FileNotFoundError:
            return []

    # ---------------------------------------------------------------- the checker
    def run_preflight(self, only=None, extra_args=(), conf=None, timeout=300):
        fd, out = tempfile.mkstemp(prefix="amt-preflight-", suffix=".json")
        os.close(fd)
        os.unlink(out)  # the binary creates it; an empty leftover would hide a crash
        argv = [self.binary, "run", "-c", conf or self.conf, "--json", out, "--quiet"]
        if only:
            argv += ["--only", ",".join(only)]
        argv += list(extra_args)
        try:
            self.last_run = p = self.cli(argv, timeout=timeout)
            try:
                with open(out) as f:
                    report = json.load(f)
            except (OSError, ValueError) as e:
                raise PreflightError("amt-preflight (rc %d) wrote no valid JSON report (%s)\n"
                                     "argv: %s\nstderr:\n%s" % (p.returncode, e, " ".join(argv),
                                                                p.stderr[-3000:]))
            return p.returncode, report
        finally:
            if os.path.exists(out):
                os.unlink(out)


def namespaces():
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return {line.split()[0] for line in p.stdout.splitlines() if line.strip()}


def check_result(report, check_id):
    for c in (report or {}).get("checks", []):
        if c.get("id") == check_id:
            return c
    return None


def check_status(report, check_id):
    c = check_result(report, check_id)
    return c.get("status") if c else None


def findings(report, check_id):
    c = check_result(report, check_id)
    return list(c.get("findings", [])) if c else []


class LabTestCase(unittest.TestCase):
    """Base class for lab tests: skips when no lab is up."""

    lab = None

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        if os.geteuid() != 0:
            raise unittest.SkipTest("lab tests need root")
        if not cls.lab.is_up():
            raise unittest.SkipTest("lab %r is not up (run tests/integration/run.sh)" % cls.lab.prefix)

    def require_binary(self):
        if not os.access(self.lab.binary, os.X_OK):
            self.skipTest("%s is not built" % self.lab.binary)

    def lab_conf_copy(self, edit):
        """A copy of lab.conf with `edit(text) -> text` applied, in the lab's directory;
        removed at cleanup. For runs that differ from the lab in one key."""
        with open(self.lab.conf) as f:
            text = edit(f.read())
        fd, path = tempfile.mkstemp(prefix="conf-", suffix=".conf", dir=self.lab.dir)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path


# -------------------------------------------------------------------- runner
class _Result(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main(argv):
    files = argv or sorted(f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    broken = 0
    for f in files:
        name = os.path.splitext(os.path.basename(f))[0]
        try:
            suite.addTests(loader.loadTestsFromName(name))
        except Exception as e:  # an import error must count as a failure, not vanish
            print("ERROR: cannot load %s: %s" % (f, e), file=sys.stderr)
            broken += 1
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result, stream=sys.stdout)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses) + broken
    print("%d passed, %d failed, %d skipped" % (res.passed + len(res.expectedFailures), failed,
                                                 len(res.skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
