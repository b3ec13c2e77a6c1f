"""Scheduled audits and change tickets against the lab (issue 10).

Real runs of the binary, as a timer or a change manager would make them: a healthy run,
then the same with a fault, then fixed again, kept in a history directory; what is new,
changed and fixed each time; `diff` of the saved reports; waivers (applied, expired,
stale, malformed); the monitoring-plugins output parsed back: state, exit status, and
performance data in label=value[UOM];warn;crit;min;max form.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from labtest import REPO, LabTestCase, findings

VALIDATE = os.path.join(REPO, "tests", "schema", "validate.py")
# The CA checks: fast, and the field notes' fault (a template that pends every request).
CA = "ad.ldap,ca.template"
# label=value[UOM];[warn];[crit];[min];[max]: trailing fields may be left out.
PERF = re.compile(r"^([A-Za-z0-9_]+)=(-?[0-9.]+)([a-zA-Z%]*)(?:;([^;]*))?(?:;([^;]*))?(?:;([^;]*))?(?:;([^;]*))?$")


def parse_plugin_output(text):
    """(state, summary, {label: (value, uom, warn, crit, min, max)}, long lines)."""
    first, _, rest = text.partition("\n")
    m = re.match(r"^AMT-PREFLIGHT (OK|WARNING|CRITICAL|UNKNOWN) - (.*?) \| (.*)$", first)
    assert m, "not a plugin status line: %r" % first
    perf = {}
    for item in m.group(3).split():
        p = PERF.match(item)
        assert p, "bad perfdata item %r" % item
        perf[p.group(1)] = (float(p.group(2)), p.group(3)) + tuple(g or "" for g in p.groups()[3:])
    return m.group(1), m.group(2), perf, [l for l in rest.splitlines() if l]


class AuditTest(LabTestCase):
    def setUp(self):
        self.require_binary()
        self.tmp = tempfile.mkdtemp(prefix="apf-audit-")
        self.lab.revert("template-pend")

    def tearDown(self):
        self.lab.revert("template-pend")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_cli(self, *argv, conf=None):
        args = [self.lab.binary, "run", "-c", conf or self.lab.conf, *argv]
        return self.lab.cli(args, timeout=300)

    def load(self, path):
        with open(path) as f:
            return json.load(f)

    def validate(self, path):
        res = subprocess.run([sys.executable, VALIDATE, path], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_history_healthy_fault_fixed_and_diff(self):
        hist = os.path.join(self.tmp, "history")
        os.mkdir(hist)
        # 1. healthy: nothing to compare with yet
        res = self.run_cli("--only", CA, "--history", hist, "--quiet")
        self.assertIn(res.returncode, (0, 1), res.stderr)
        first = self.load(os.path.join(hist, "latest.json"))
        self.assertIsNone(first["baseline"])
        saved = sorted(n for n in os.listdir(hist) if n.startswith("report-"))
        self.assertEqual(len(saved), 1)
        healthy_copy = os.path.join(self.tmp, "healthy.json")
        shutil.copy(os.path.join(hist, saved[0]), healthy_copy)

        # 2. the template now pends every request: new FAIL, compared with latest.json
        with self.lab.fault("template-pend"):
            out = os.path.join(self.tmp, "fault.json")
            res = self.run_cli("--only", CA, "--history", hist, "--json", out)
            self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
            rep = self.load(out)
            self.validate(out)
            self.assertEqual(rep["baseline"]["path"], os.path.join(hist, "latest.json"))
            pend = [f for f in findings(rep, "ca.template") if f["code"] == "CA_TEMPLATE_PEND_ALL"]
            self.assertTrue(pend)
            self.assertEqual(pend[0]["change"], "new")
            self.assertGreaterEqual(rep["baseline"]["counts"]["new"], 1)
            # the changes come first on the terminal
            self.assertRegex(res.stdout, r"(?s)^.*Since .*new.*CA_TEMPLATE_PEND_ALL.*Verdict: NOT READY")
            self.assertLess(res.stdout.index("Since "), res.stdout.index("FAIL  ca.template - "))

        # 3. fixed again: the FAIL is listed as fixed
        out = os.path.join(self.tmp, "fixed.json")
        res = self.run_cli("--only", CA, "--history", hist, "--json", out, "--history-keep", "2")
        self.assertIn(res.returncode, (0, 1), res.stdout + res.stderr)
        rep = self.load(out)
        fixed = [f["code"] for f in rep["baseline"]["fixed"]]
        self.assertIn("CA_TEMPLATE_PEND_ALL", fixed)
        self.assertEqual(len([n for n in os.listdir(hist) if n.startswith("report-")]), 2)  # retention

        # diff of the saved reports: exit status by what regressed
        fault_json = os.path.join(self.tmp, "fault.json")
        d = self.lab.cli([self.lab.binary, "diff", healthy_copy, fault_json, "--json",
                            os.path.join(self.tmp, "d.json"), "--html", os.path.join(self.tmp, "d.html")],
                         timeout=60)
        self.assertEqual(d.returncode, 2, d.stdout + d.stderr)
        self.assertIn("CA_TEMPLATE_PEND_ALL", d.stdout)
        self.validate(os.path.join(self.tmp, "d.json"))
        with open(os.path.join(self.tmp, "d.html")) as f:
            html = f.read()
        self.assertLess(html.index('id="changes"'), html.index('id="summary"'))
        d = self.lab.cli([self.lab.binary, "diff", fault_json, out], timeout=60)
        self.assertEqual(d.returncode, 0, d.stdout + d.stderr)  # only fixes
        self.assertRegex(d.stdout, r"fixed +FAIL +ca.template CA_TEMPLATE_PEND_ALL")

    def test_merge_three_sites(self):
        reports = []
        for site, fault in (("Store 1", None), ("Store 2", "template-pend"), ("Store 3", "template-pend")):
            conf = os.path.join(self.tmp, "%s.conf" % site.replace(" ", ""))
            with open(self.lab.conf) as f:
                text = re.sub(r"(?m)^name *=.*$", "name = " + site, f.read())
            with open(conf, "w") as f:
                f.write(text)
            out = os.path.join(self.tmp, "%s.json" % site.replace(" ", ""))
            if fault:
                self.lab.fault(fault)
            else:
                self.lab.revert("template-pend")
            self.run_cli("--only", CA, "--json", out, conf=conf)
            reports.append(out)
        self.lab.revert("template-pend")
        fj, fh = os.path.join(self.tmp, "fleet.json"), os.path.join(self.tmp, "fleet.html")
        res = self.lab.cli([self.lab.binary, "merge", *reports, "--json", fj, "--html", fh], timeout=60)
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        fleet = self.load(fj)
        self.assertEqual(fleet["verdict"], "NOT READY")
        self.assertEqual([s["site"] for s in fleet["sites"]], ["Store 1", "Store 2", "Store 3"])
        self.assertEqual(fleet["sites"][1]["verdict"], "NOT READY")
        pend = [p for p in fleet["problems"] if p["code"] == "CA_TEMPLATE_PEND_ALL"]
        self.assertEqual(pend[0]["sites"], ["Store 2", "Store 3"])
        self.assertEqual(fleet["problems"][0]["status"], "FAIL")
        with open(fh) as f:
            html = f.read()
        self.assertIn("Content-Security-Policy", html)
        self.assertIn("CA_TEMPLATE_PEND_ALL", html)
        # a report that is not one is refused, naming it
        res = self.lab.cli([self.lab.binary, "merge", reports[0], self.lab.conf], timeout=60)
        self.assertEqual(res.returncode, 3)
        self.assertIn("lab.conf", res.stderr)

    def test_unreadable_baseline_is_a_usage_error(self):
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"schema_version": 7, "tool": {"name": "amt-preflight"}, "checks": []}')
        res = self.run_cli("--only", CA, "--baseline", bad)
        self.assertEqual(res.returncode, 3)
        self.assertIn("schema version 7", res.stderr)

    def write_conf_with_waivers(self, text):
        wfile = os.path.join(self.tmp, "waivers.ini")
        with open(wfile, "w") as f:
            f.write(text)
        conf = os.path.join(self.tmp, "lab-waivers.conf")
        with open(self.lab.conf) as f:
            lines = f.read().splitlines()
        out, done = [], False
        for line in lines:
            out.append(line)
            if line.strip() == "[site]" and not done:
                out.append("waivers = " + wfile)
                done = True
        self.assertTrue(done, "lab.conf has no [site] section")
        with open(conf, "w") as f:
            f.write("\n".join(out) + "\n")
        return conf

    def test_waivers_applied_expired_stale_and_malformed(self):
        conf = self.write_conf_with_waivers(
            "[pend-accepted]\ncode = CA_TEMPLATE_PEND_ALL\ncheck = ca.template\nmatch = AMTWebServer\n"
            "justification = CA manager approves by hand until the policy module change (CHG-1234)\n"
            "owner = pki-team@corp.example.test\nexpires = 2099-12-31\n\n"
            "[old]\ncode = AD_DC_UNREACHABLE\njustification = x\nowner = y\nexpires = 2020-01-01\n\n"
            "[unused]\ncode = DHCP_NO_REPLY\njustification = x\nowner = y\nexpires = 2099-01-01\n")
        with self.lab.fault("template-pend"):
            out = os.path.join(self.tmp, "w.json")
            res = self.run_cli("--only", CA, "--json", out, conf=conf)
            rep = self.load(out)
            self.validate(out)
            pend = [f for f in findings(rep, "ca.template") if f["code"] == "CA_TEMPLATE_PEND_ALL"]
            for f in pend:
                if "AMTWebServer" in json.dumps(f["evidence"]):
                    self.assertEqual(f["waiver"]["id"], "pend-accepted")
                    self.assertFalse(f["waiver"]["expired"])
            states = {w["id"]: w["state"] for w in rep["waivers"]}
            self.assertEqual(states, {"pend-accepted": "applied", "old": "expired", "unused": "stale"})
            self.assertGreaterEqual(rep["waived"], 1)
            self.assertIn("Waiver matches nothing (stale): unused", res.stdout)
            self.assertIn("Waiver expired: old", res.stdout)
        # a bad waiver file stops the run before any check, with FILE:LINE
        conf = self.write_conf_with_waivers("[a]\ncode = AD_DC_UNREACHABLE\nexpires = tomorrow\n")
        res = self.run_cli("--only", CA, conf=conf)
        self.assertEqual(res.returncode, 3)
        self.assertRegex(res.stderr, r"waivers\.ini:3: \[a\] expires 'tomorrow' is not a date")

    def test_nagios_output_states_and_perfdata(self):
        res = self.run_cli("--only", "cert.provisioning,ca.revocation", "--format", "nagios")
        state, summary, perf, lines = parse_plugin_output(res.stdout)
        self.assertEqual(res.returncode, {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[state])
        for k in ("checks_FAIL", "checks_ERROR", "checks_WARN", "checks_PASS", "time"):
            self.assertIn(k, perf)
        self.assertEqual(perf["time"][1], "s")
        days = perf["prov_chain_days_left"]
        self.assertGreater(days[0], 30)  # the lab's chain is valid for years
        self.assertEqual(days[2:4], ("30:", "0:"))  # default thresholds: warn_days, expired
        self.assertIn("crl_hours_left", perf)
        # a critical threshold above the chain's days left makes the run CRITICAL
        res = self.run_cli("--only", "cert.provisioning", "--format", "nagios",
                           "--critical", "prov_chain_days_left=%d:" % (days[0] + 1))
        state, _, perf, _ = parse_plugin_output(res.stdout)
        self.assertEqual((state, res.returncode), ("CRITICAL", 2))
        self.assertEqual(perf["prov_chain_days_left"][3], "%d:" % (days[0] + 1))
        # an unreachable DC pages (CRITICAL, not UNKNOWN) and says why on its own line
        with self.lab.fault("dc-down"):
            res = self.run_cli("--only", "ad.ldap", "--format", "nagios", "--total-timeout", "20")
            state, _, _, lines = parse_plugin_output(res.stdout)
            self.assertEqual((state, res.returncode), ("CRITICAL", 2), res.stdout)
            self.assertTrue(any(l.startswith("CRITICAL: ad.ldap AD_DC_UNREACHABLE") for l in lines), lines)
        # nothing checked is the plugin's own problem: UNKNOWN
        empty = os.path.join(self.tmp, "empty.conf")
        open(empty, "w").close()
        res = self.lab.cli([self.lab.binary, "run", "-c", empty, "--format", "nagios"])
        state, _, _, _ = parse_plugin_output(res.stdout)
        self.assertEqual((state, res.returncode), ("UNKNOWN", 3))

    def test_total_timeout_bounds_the_run(self):
        # A DNS server that never answers (a UDP socket in the client namespace that
        # reads nothing): the fleet lookup retransmits as long as its deadline lets it.
        silent = subprocess.Popen(["ip", "netns", "exec", self.lab.ns_cli, sys.executable, "-c",
                                   "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                                   "s.bind(('127.0.0.1',5399))\nprint('up',flush=True)\ntime.sleep(120)"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(silent.stdout.readline().strip(), "up")
            conf, hosts = os.path.join(self.tmp, "silent.conf"), os.path.join(self.tmp, "hosts.txt")
            with open(hosts, "w") as f:
                f.write("amt1.corp.example.test\n")
            with open(conf, "w") as f:
                f.write("[dns]\nservers = 127.0.0.1#5399\nhosts_file = %s\n" % hosts)
            durations = {}
            for total in (None, "2"):
                out = os.path.join(self.tmp, "t.json")
                args = ["--only", "dns.host-registration", "--timeout", "8", "--json", out]
                if total:
                    args += ["--total-timeout", total]
                res = self.run_cli(*args, conf=conf)
                self.assertEqual(res.returncode, 3, res.stdout + res.stderr)  # could not check, not FAIL
                durations[total] = self.load(out)["duration_ms"]
            self.assertGreater(durations[None], 4000)
            self.assertLess(durations["2"], 2000 + 1000)
        finally:
            silent.kill()
            silent.wait()


if __name__ == "__main__":
    unittest.main()
