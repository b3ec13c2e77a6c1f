"""End to end: the whole check set against the lab, every report format, as an admin runs it.

Covers issue 2's "done means": an expired intermediate gives exit 2, a schema-valid JSON
report whose failing finding names the expired certificate, and an HTML report that says
NOT READY first, renders in Chromium and makes no request; no secret reaches a report,
the terminal output or the process list.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from labtest import REPO, VERDICTS, LabTestCase, findings

VALIDATE = os.path.join(REPO, "tests", "schema", "validate.py")
RENDER = os.path.join(REPO, "tests", "browser", "render_test.py")


class ReportsTest(LabTestCase):
    def setUp(self):
        self.require_binary()
        self.tmp = tempfile.mkdtemp(prefix="apf-reports-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_all(self, *extra):
        """Runs every check (the intrusive one too) with all three report files."""
        paths = {k: os.path.join(self.tmp, "report." + k) for k in ("json", "html", "xml")}
        argv = ["ip", "netns", "exec", self.lab.ns_cli, self.lab.binary, "run", "-c", self.lab.conf,
                "--json", paths["json"], "--html", paths["html"], "--junit", paths["xml"], *extra]
        # `ps` while it runs must not show a secret: none is ever on the command line.
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        out, err = proc.communicate(timeout=300)
        return proc.returncode, paths, out + err + ps

    def secrets(self):
        vals = []
        for name in ("bind.pw", "pfx.pw"):
            with open(self.lab.path("secrets", name)) as f:
                vals.append(f.read().strip())
        return [v for v in vals if v]

    def validate(self, path):
        args = [sys.executable, VALIDATE, path]
        for s in self.secrets():
            args += ["--forbid", s]
        res = subprocess.run(args, capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def render(self, html, *expect):
        if not os.path.exists(RENDER):
            self.skipTest("browser test not present")
        res = subprocess.run([sys.executable, RENDER, html, *expect], capture_output=True, text=True, timeout=240)
        if res.returncode == 77:
            self.skipTest("chromium unavailable: " + res.stdout[-200:])
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_healthy_lab_all_reports(self):
        code, paths, text = self.run_all()
        with open(paths["json"]) as f:
            rep = json.load(f)
        self.assertIn(code, (0, 1), "healthy lab: %s\n%s" % (rep["verdict"], text[-3000:]))
        self.assertEqual(VERDICTS[code], rep["verdict"])
        self.assertEqual(rep["counts"]["FAIL"], 0)
        self.assertEqual(rep["counts"]["ERROR"], 0)
        self.validate(paths["json"])
        for s in self.secrets():
            self.assertNotIn(s, text)
            for p in paths.values():
                with open(p, errors="replace") as f:
                    self.assertNotIn(s, f.read())
        # JUnit: one test case per check, no failures on a healthy lab.
        suite = ET.parse(paths["xml"]).getroot()
        cases = suite.findall(".//testcase")
        self.assertEqual(len(cases), len(rep["checks"]))
        self.assertEqual(len(suite.findall(".//failure")), 0)
        self.render(paths["html"], rep["verdict"], "cert.provisioning", "--before", rep["verdict"], "cert.provisioning")

    def test_expired_intermediate_end_to_end(self):
        with self.lab.fault("pfx-expired-int"):
            code, paths, text = self.run_all("--only", "cert")
            with open(paths["json"]) as f:
                rep = json.load(f)
        self.assertEqual(code, 2, text[-3000:])
        self.assertEqual(rep["verdict"], "NOT READY")
        self.validate(paths["json"])
        expired = [f for f in findings(rep, "cert.provisioning") if f["code"] == "CERT_CHAIN_EXPIRED"]
        self.assertTrue(expired, findings(rep, "cert.provisioning"))
        # The finding names the expired intermediate: its serial and SHA-1 thumbprint, as openssl sees them.
        pem = self.lab.path("pki", "issuing-expired.pem")
        serial = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-serial"], capture_output=True,
                                text=True).stdout.strip().split("=")[1]
        sha1 = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha1"],
                              capture_output=True, text=True).stdout.strip().split("=")[1].replace(":", "")
        ev = " ".join(str(v) for v in expired[0]["evidence"].values()).upper().replace(":", "")
        self.assertIn(serial.upper().lstrip("0"), ev)
        self.assertIn(sha1.upper(), ev)
        self.assertIn("CORP-Issuing-CA", json.dumps(expired[0]["evidence"]))
        self.assertEqual(expired[0]["status"], "FAIL")
        self.render(paths["html"], "NOT READY", "CERT_CHAIN_EXPIRED", "--before", "NOT READY", "CERT_CHAIN_EXPIRED")

    def test_config_typo_is_file_line_and_exit_3(self):
        conf = os.path.join(self.tmp, "typo.conf")
        with open(self.lab.conf) as src, open(conf, "w") as dst:
            lines = src.read().splitlines()
            idx = next(i for i, l in enumerate(lines) if l.startswith("servers"))
            lines[idx] = lines[idx].replace("servers", "servres")
            dst.write("\n".join(lines) + "\n")
        res = self.lab.cli([self.lab.binary, "run", "-c", conf, "--json", os.path.join(self.tmp, "r.json")])
        self.assertEqual(res.returncode, 3)
        self.assertIn("%s:%d:" % (conf, idx + 1), res.stderr)
        self.assertIn("servres", res.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "r.json")))


if __name__ == "__main__":
    unittest.main()
