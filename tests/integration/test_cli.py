"""The command line as an admin uses it: usage errors, config errors, report destinations,
stdout discipline, terminals and pipes, deadlines, signals, secrets and the hash command.

Assertions are on exit codes, finding codes, evidence, files and timings, never on prose.
Everything that talks to the network runs in the lab's client namespace; the "unreachable"
servers are unused TEST-NET addresses on the lab's own link, which never answer.
"""
import errno
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest

from labtest import VERDICTS, LabTestCase, check_result, check_status, findings

ESC = "\x1b["
# On the lab's 192.0.2.0/24 link, but no host: queries and connections get no answer.
DEAD_DNS = "192.0.2.99"
DEAD_DC = "192.0.2.98"
RUNNER_SKIPS = {"CHECK_MISSING_CONFIG", "CHECK_SKIPPED", "CHECK_OPT_IN", "CHECK_DEPENDENCY_FAILED"}


class CliTest(LabTestCase):
    def setUp(self):
        self.require_binary()
        self.tmp = tempfile.mkdtemp(prefix="apf-cli-")
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers
    def apf(self, *argv, env=None, timeout=120, ns=True):
        """Runs the binary (in the client namespace unless ns=False)."""
        cmd = [self.lab.binary, *argv]
        if ns:
            cmd = ["ip", "netns", "exec", self.lab.ns_cli] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def lab_conf(self, name="lab.conf", drop=(), replace=None):
        """The lab's config with keys dropped (by name) or values replaced ({key: value})."""
        out = []
        with open(self.lab.conf) as f:
            for line in f:
                key = line.split("=", 1)[0].strip() if "=" in line else None
                if key in drop:
                    continue
                if replace and key in replace:
                    line = "%s = %s\n" % (key, replace[key])
                out.append(line)
        return self.write(name, "".join(out))

    def dead_conf(self):
        return self.lab_conf("dead.conf", replace={"servers": DEAD_DNS, "domain_controllers": DEAD_DC})

    def json_report(self, path):
        with open(path) as f:
            return json.load(f)

    def leftovers(self):
        return [n for n in os.listdir(self.tmp) if ".tmp." in n]

    def assert_consistent(self, code, rep):
        self.assertEqual(rep["exit_code"], code)
        self.assertEqual(VERDICTS[code], rep["verdict"])

    def secrets(self):
        vals = {}
        for name in ("bind.pw", "pfx.pw"):
            with open(self.lab.path("secrets", name)) as f:
                vals[name] = f.read().strip()
        return vals

    # ------------------------------------------------------------ commands and usage
    def test_commands_and_usage_exit_codes(self):
        cases = [
            ((), 3), (("--help",), 0), (("help",), 0), (("-h",), 0), (("--version",), 0),
            (("version",), 0), (("-V",), 0), (("bogus",), 3), (("list", "--bogus"), 3),
            (("run",), 3), (("run", "-c"), 3), (("run", "--help"), 0), (("explain",), 3),
            (("explain", "a", "b"), 3), (("hash",), 3),
        ]
        for argv, want in cases:
            with self.subTest(argv=argv):
                res = self.apf(*argv, ns=False)
                self.assertEqual(res.returncode, want, res.stderr)
                # Help and version are answers: stdout. Usage errors: stderr only.
                if want == 0:
                    self.assertTrue(res.stdout.strip())
                else:
                    self.assertFalse(res.stdout.strip())
                    self.assertTrue(res.stderr.strip())
        version = self.apf("--version", ns=False).stdout
        self.assertRegex(version, r"^amt-preflight \d+\.\d+\.\d+\n$")

    def test_list_json_matches_list(self):
        res = self.apf("list", "--json", ns=False)
        self.assertEqual(res.returncode, 0)
        checks = json.loads(res.stdout)
        ids = [c["id"] for c in checks]
        self.assertEqual(ids, sorted(ids))
        self.assertIn("cert.provisioning", ids)
        for c in checks:
            self.assertRegex(c["id"], r"^[a-z]+\.[a-z0-9-]+$")
            self.assertTrue(c["codes"], c["id"])
            self.assertGreater(c["timeout_ms"], 0)
        text = self.apf("list", ns=False).stdout
        for i in ids:
            self.assertRegex(text, r"(?m)^%s\s" % re.escape(i))

    def test_explain(self):
        checks = json.loads(self.apf("list", "--json", ns=False).stdout)
        code = checks[0]["codes"][0]
        for what in (checks[0]["id"], code, code.lower(), "CHECK_TIMEOUT", "ad.bind_password_file",
                     "dns.servers", "cert", "dns", "amt.activation", "rps", "remote-config"):
            with self.subTest(what=what):
                res = self.apf("explain", what, ns=False)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertTrue(res.stdout.strip())
        # An area lists exactly its checks.
        out = self.apf("explain", "cert", ns=False).stdout
        for c in checks:
            self.assertEqual(c["id"] in out, c["id"].startswith("cert."), c["id"])
        # A code names itself and its status.
        out = self.apf("explain", code.lower(), ns=False).stdout
        self.assertIn(code, out)
        for what in ("garbage", "", "ad.", "NO_SUCH_CODE", "<script>"):
            with self.subTest(what=what):
                res = self.apf("explain", what, ns=False)
                self.assertEqual(res.returncode, 3)
                self.assertFalse(res.stdout)

    # ------------------------------------------------------------ configuration
    def test_config_file_problems_exit_3(self):
        missing = os.path.join(self.tmp, "nope.conf")
        for conf in (missing, self.tmp, "/dev/null/x"):
            with self.subTest(conf=conf):
                res = self.apf("run", "-c", conf, ns=False)
                self.assertEqual(res.returncode, 3)
                self.assertIn(conf, res.stderr)
                self.assertFalse(res.stdout)

    def test_config_unreadable_by_the_invoking_user(self):
        if not shutil.which("setpriv"):
            self.skipTest("setpriv not installed")
        binary = os.path.join(self.tmp, "amt-preflight")
        shutil.copy(self.lab.binary, binary)
        os.chmod(binary, 0o755)
        conf = self.lab_conf("private.conf")
        os.chmod(conf, 0o600)
        res = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              binary, "run", "-c", conf], capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 3)
        self.assertIn(conf, res.stderr)
        self.assertIn(os.strerror(errno.EACCES), res.stderr)

    def test_config_errors_name_file_and_line(self):
        cases = {
            "unknown_key.conf": ("[dns]\nservers = 192.0.2.1\nserverz = 192.0.2.2\n", 3),
            "unknown_section.conf": ("[site]\nname = x\n[dnz]\nservers = 192.0.2.1\n", 4),
            "bad_int.conf": ("[dns]\nwindow = lots\n", 2),
            "int_range.conf": ("[dns]\n\nwindow = 99999999999\n", 3),
            "bad_list_item.conf": ("[dns]\nservers = 192.0.2.1, not-an-address\n", 2),
            "duplicate.conf": ("[dns]\nwindow = 5\nwindow = 6\n", 3),
            "password.conf": ("[ad]\ndomain = corp.example.test\nbind_password = hunter2\n", 3),
            "pfx_password.conf": ("[provisioning]\npassword = hunter2\n", 2),
            "bad_choice.conf": ("[ad]\ntls = maybe\n", 2),
            "bad_bool.conf": ("[provisioning]\ncheck_revocation = perhaps\n", 2),
            "no_section.conf": ("servers = 192.0.2.1\n", 1),
        }
        for name, (text, line) in cases.items():
            with self.subTest(conf=name):
                conf = self.write(name, text)
                report = os.path.join(self.tmp, name + ".json")
                res = self.apf("run", "-c", conf, "--json", report, ns=False)
                self.assertEqual(res.returncode, 3, res.stderr)
                self.assertIn("%s:%d:" % (conf, line), res.stderr)
                self.assertFalse(os.path.exists(report))
                self.assertNotIn("hunter2", res.stderr + res.stdout)

    def test_empty_config_skips_every_check_naming_its_key(self):
        conf = self.write("empty.conf", "")
        report = os.path.join(self.tmp, "r.json")
        res = self.apf("run", "-c", conf, "--json", report)
        rep = self.json_report(report)
        self.assert_consistent(res.returncode, rep)
        self.assertEqual(rep["counts"]["SKIP"], len(rep["checks"]))
        # Nothing checked is not "ready": a monitor must not go green on an empty config.
        self.assertEqual(rep["verdict"], "INCOMPLETE")
        self.assertEqual(res.returncode, 3)
        required = {c["id"]: c["requires_keys"] for c in json.loads(self.apf("list", "--json", ns=False).stdout)}
        missing_config = 0
        for c in rep["checks"]:
            self.assertEqual(c["status"], "SKIP", c["id"])
            for f in c["findings"]:
                self.assertIn(f["code"], RUNNER_SKIPS, c["id"])
                if f["code"] == "CHECK_MISSING_CONFIG":
                    # The key it names is one the check declares, and the config is named.
                    self.assertIn(f["evidence"]["missing_key"], required[c["id"]], c["id"])
                    self.assertEqual(f["evidence"]["config"], conf)
                    missing_config += 1
        self.assertGreater(missing_config, 0)

    # ------------------------------------------------------------ selection and options
    def test_selection_and_option_errors(self):
        conf = self.write("empty.conf", "")
        areas = sorted({c["id"].split(".")[0] for c in json.loads(self.apf("list", "--json", ns=False).stdout)})
        for argv in (["--only", "nope"], ["--only", "dns,nope"], ["--only", ""], ["--only", ","],
                     ["--skip", "nope"], ["--skip", ",".join(areas)], ["--skip", areas[0], "--skip", ",".join(areas[1:])],
                     ["--only", "dns", "--skip", "dns"],
                     ["--jobs", "0"], ["--jobs", "65"], ["--jobs", "x"], ["--timeout", "0"],
                     ["--timeout", "3601"], ["-t", "1.5"], ["--bogus"], ["extra"]):
            with self.subTest(argv=argv):
                report = os.path.join(self.tmp, "r.json")
                if os.path.exists(report):
                    os.unlink(report)  # left by an earlier failure: judge each case alone
                res = self.apf("run", "-c", conf, "--json", report, *argv, ns=False)
                self.assertEqual(res.returncode, 3, res.stderr)
                self.assertFalse(res.stdout)
                self.assertFalse(os.path.exists(report))

    def test_only_and_skip_select_by_id_and_area_and_add_up(self):
        conf = self.write("empty.conf", "")
        all_ids = [c["id"] for c in json.loads(self.apf("list", "--json", ns=False).stdout)]

        def ids(*argv):
            report = os.path.join(self.tmp, "sel.json")
            res = self.apf("run", "-c", conf, "--json", report, "-q", *argv, ns=False)
            self.assertIn(res.returncode, VERDICTS, res.stderr)
            return [c["id"] for c in self.json_report(report)["checks"]]

        dns = [i for i in all_ids if i.startswith("dns.")]
        cert = [i for i in all_ids if i.startswith("cert.")]
        self.assertEqual(ids("--only", "dns"), dns)
        self.assertEqual(sorted(ids("--only", "dns", "--only", "cert")), sorted(dns + cert))
        self.assertEqual(ids("--only", "dns", "--skip", dns[0]), dns[1:])
        self.assertEqual(sorted(ids("--skip", "dns", "--skip", "cert")),
                         sorted(i for i in all_ids if i not in dns + cert))
        self.assertEqual(ids("--only", "cert.provisioning"), ["cert.provisioning"])

    # ------------------------------------------------------------ outputs
    def test_json_to_stdout_stays_parseable(self):
        res = self.apf("run", "-c", self.lab.conf, "--json", "-", "--skip", "dhcp")
        rep = json.loads(res.stdout)
        self.assert_consistent(res.returncode, rep)
        # Progress and summary went to stderr, one progress line per check.
        self.assertEqual(len(re.findall(r"(?m)^\[\s*\d+/\d+\]", res.stderr)), len(rep["checks"]))
        self.assertNotIn(ESC, res.stdout + res.stderr)  # not a terminal

    def test_two_reports_on_stdout_or_one_file_refused(self):
        for argv in (["--json", "-", "--html", "-"], ["--json", "-", "--junit", "-"],
                     ["--json", os.path.join(self.tmp, "x"), "--html", os.path.join(self.tmp, "x")]):
            with self.subTest(argv=argv):
                res = self.apf("run", "-c", self.lab.conf, *argv)
                self.assertEqual(res.returncode, 3)
                self.assertFalse(res.stdout)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_unwritable_report_destination_refused_before_running(self):
        if not shutil.which("setpriv"):
            self.skipTest("setpriv not installed")
        ro = os.path.join(self.tmp, "ro")
        os.mkdir(ro, 0o555)
        binary = os.path.join(self.tmp, "amt-preflight")
        shutil.copy(self.lab.binary, binary)
        os.chmod(binary, 0o755)
        conf = self.lab_conf("pub.conf")
        dests = [os.path.join(ro, "r.html"), os.path.join(self.tmp, "missing-dir", "r.html"), ro, ""]
        for dest in dests:
            with self.subTest(dest=dest):
                t0 = time.monotonic()
                # As nobody, so the read-only directory is read-only for the writer too.
                res = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                      binary, "run", "-c", conf, "--html", dest], capture_output=True, text=True,
                                     timeout=60)
                self.assertEqual(res.returncode, 3, res.stderr)
                self.assertFalse(res.stdout)  # refused before any check ran: no progress line
                self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(os.listdir(ro), [])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "missing-dir")))

    def test_existing_report_replaced_atomically(self):
        report = self.write("r.json", "{\"old\": true}\n")
        html = self.write("r.html", "old")
        ino = os.stat(report).st_ino
        res = self.apf("run", "-c", self.lab.conf, "--only", "cert", "--json", report, "--html", html, "-q")
        rep = self.json_report(report)
        self.assert_consistent(res.returncode, rep)
        self.assertNotEqual(os.stat(report).st_ino, ino)  # a new file renamed over the old one
        with open(html) as f:
            self.assertIn(rep["verdict"], f.read())
        self.assertEqual(self.leftovers(), [])

    def test_quiet_is_one_line_with_the_counts(self):
        report = os.path.join(self.tmp, "r.json")
        res = self.apf("run", "-c", self.lab.conf, "--skip", "dhcp", "-q", "--json", report)
        rep = self.json_report(report)
        self.assert_consistent(res.returncode, rep)
        lines = res.stdout.splitlines()
        self.assertEqual(len(lines), 1, res.stdout)
        self.assertIn(rep["verdict"], lines[0])
        for st in ("FAIL", "ERROR", "WARN", "SKIP"):
            self.assertIn("%d %s" % (rep["counts"][st], st), lines[0])
        self.assertFalse(res.stderr)

    def test_verbose_shows_every_finding_code(self):
        report = os.path.join(self.tmp, "r.json")
        quiet = self.apf("run", "-c", self.lab.conf, "--only", "cert", "--json", report)
        rep = self.json_report(report)
        verbose = self.apf("run", "-c", self.lab.conf, "--only", "cert", "-v")
        self.assertEqual(quiet.returncode, verbose.returncode)
        for c in rep["checks"]:
            for f in c["findings"]:
                self.assertIn(f["code"], verbose.stdout)
        # Without -v, PASS findings are not listed one by one.
        passes = [f["code"] for c in rep["checks"] for f in c["findings"] if f["status"] == "PASS"]
        self.assertTrue(passes)
        self.assertTrue(any(p not in quiet.stdout for p in passes))

    def pty_run(self, argv, env):
        """Runs in the client namespace with stdout and stderr on a pseudo-terminal."""
        master, slave = pty.openpty()
        proc = subprocess.Popen(["ip", "netns", "exec", self.lab.ns_cli, self.lab.binary, *argv],
                                stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=env)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=10)
        os.close(master)
        return proc.returncode, out.decode(errors="replace")

    def test_terminal_colours_and_no_color(self):
        env = dict(os.environ, TERM="xterm")
        env.pop("NO_COLOR", None)
        argv = ["run", "-c", self.lab.conf, "--only", "cert"]
        code, out = self.pty_run(argv, env)
        self.assertIn(code, VERDICTS)
        self.assertIn(ESC, out)
        self.assertRegex(out, r"\[\s*\d+/\d+\]")
        for extra in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
            with self.subTest(env=extra):
                code2, out2 = self.pty_run(argv, dict(env, **extra))
                self.assertEqual(code2, code)
                self.assertNotIn(ESC, out2)
        # Piped: no escape codes either.
        res = self.apf(*argv)
        self.assertNotIn(ESC, res.stdout + res.stderr)

    # ------------------------------------------------------------ deadlines
    def test_timeout_1_ends_promptly_with_errors_not_failures(self):
        conf = self.dead_conf()
        report = os.path.join(self.tmp, "r.json")
        t0 = time.monotonic()
        # DNS and AD only: the lab's single-threaded OCSP responder must not see requests cut short.
        res = self.apf("run", "-c", conf, "--only", "dns,ad", "--timeout", "1", "--json", report, "-q")
        elapsed = time.monotonic() - t0
        rep = self.json_report(report)
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assert_consistent(res.returncode, rep)
        # With the default deadlines this configuration takes well over ten seconds.
        self.assertLess(elapsed, 8.0, "run took %.1f s" % elapsed)
        # Nothing that could not be reached is a FAIL or a PASS.
        for cid in ("dns.servers", "dns.provisionserver", "dns.ad-records", "dns.host-registration", "ad.ldap"):
            with self.subTest(check=cid):
                self.assertEqual(check_status(rep, cid), "ERROR", json.dumps(check_result(rep, cid))[:2000])
                for f in findings(rep, cid):
                    self.assertNotIn(f["status"], ("FAIL", "PASS"), f["code"])
                    if f["code"] == "CHECK_TIMEOUT":
                        self.assertEqual(f["evidence"]["check"], cid)
                        self.assertLessEqual(int(f["evidence"]["deadline_ms"]), 1000)
        for c in rep["checks"]:
            self.assertLessEqual(c["duration_ms"], 1000 + 500, c["id"])

    # ------------------------------------------------------------ signals
    def interrupt(self, sig, delay):
        conf = self.dead_conf()
        report = os.path.join(self.tmp, "r.json")
        html = os.path.join(self.tmp, "r.html")
        proc = subprocess.Popen(["ip", "netns", "exec", self.lab.ns_cli, self.lab.binary, "run", "-c", conf,
                                 "--only", "dns,ad", "--json", report, "--html", html],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(delay)
        self.assertIsNone(proc.poll(), "the run ended before the signal")
        t0 = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        return proc.returncode, time.monotonic() - t0, out, err

    def test_sigint_and_sigterm_stop_promptly_without_reports(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(sig=sig.name):
                code, took, out, err = self.interrupt(sig, 1.0)
                self.assertEqual(code, -sig, err)  # ended by the signal: a shell sees 128+N
                self.assertLess(took, 1.0)
                self.assertTrue(err.strip())
                self.assertEqual(os.listdir(self.tmp), ["dead.conf"])

    # ------------------------------------------------------------ secrets
    def test_passwords_from_the_environment_never_shown(self):
        sec = self.secrets()
        conf = self.lab_conf("envpw.conf", drop=("bind_password_file", "password_file"))
        report = os.path.join(self.tmp, "r.json")
        html = os.path.join(self.tmp, "r.html")
        env = dict(os.environ, AMT_PREFLIGHT_BIND_PASSWORD=sec["bind.pw"], AMT_PREFLIGHT_PFX_PASSWORD=sec["pfx.pw"])
        proc = subprocess.Popen(["ip", "netns", "exec", self.lab.ns_cli, self.lab.binary, "run", "-c", conf,
                                 "--skip", "dhcp", "-v", "--json", report, "--html", html],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        out, err = proc.communicate(timeout=120)
        rep = self.json_report(report)
        self.assert_consistent(proc.returncode, rep)
        # The passwords were used: the bind succeeded and the PFX opened.
        self.assertIn("AD_BIND_OK", [f["code"] for f in findings(rep, "ad.ldap")])
        self.assertEqual(check_result(rep, "cert.provisioning")["status"] in ("PASS", "INFO", "WARN"), True,
                         json.dumps(findings(rep, "cert.provisioning"))[:2000])
        with open(html) as f:
            page = f.read()
        with open(report) as f:
            raw = f.read()
        for s in sec.values():
            for where, text in (("stdout", out), ("stderr", err), ("ps", ps), ("json", raw), ("html", page)):
                self.assertNotIn(s, text, where)

    def test_password_file_missing_is_an_error_not_a_failure(self):
        conf = self.lab_conf("nopw.conf", replace={"bind_password_file": os.path.join(self.tmp, "none.pw")})
        report = os.path.join(self.tmp, "r.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMT_PREFLIGHT_")}
        res = self.apf("run", "-c", conf, "--only", "ad.ldap", "--json", report, env=env)
        rep = self.json_report(report)
        self.assert_consistent(res.returncode, rep)
        self.assertEqual(check_status(rep, "ad.ldap"), "ERROR")

    # ------------------------------------------------------------ hash
    def root_sha256(self):
        with open(self.lab.path("pki", "root.crt")) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        return hashlib.sha256(der).hexdigest(), hashlib.sha1(der).hexdigest(), hashlib.sha384(der).hexdigest()

    def test_hash_command(self):
        sha256, sha1, sha384 = self.root_sha256()
        for name in ("root.crt", "root.der"):
            with self.subTest(file=name):
                res = self.apf("hash", self.lab.path("pki", name), ns=False)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertIn(sha256, res.stdout)
                self.assertIn(sha1, res.stdout)
                self.assertIn(sha384, res.stdout)
                self.assertIn(sha256.upper(), res.stdout)  # the Windows thumbprint form
                # the MEBx form: uppercase, groups of four, hyphens
                mebx = "-".join(sha256.upper()[i:i + 4] for i in range(0, 64, 4))
                self.assertIn(mebx + " (MEBx)", res.stdout)
        pfx = self.lab.path("pki", "prov-chain.pfx")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMT_PREFLIGHT_")}
        res = self.apf("hash", pfx, ns=False, env=dict(env, AMT_PREFLIGHT_PFX_PASSWORD=self.secrets()["pfx.pw"]))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn(sha256, res.stdout)  # the chain in the PFX ends at the lab root
        self.assertNotIn(self.secrets()["pfx.pw"], res.stdout + res.stderr)
        garbage = self.write("garbage.cer", "not a certificate\n")
        for argv, e in (([pfx], env), ([pfx], dict(env, AMT_PREFLIGHT_PFX_PASSWORD="wrong")), ([garbage], env),
                        ([os.path.join(self.tmp, "missing.cer")], env), ([self.tmp], env), (["/dev/null"], env),
                        ([self.lab.path("pki", "root.crt"), garbage], env)):
            with self.subTest(argv=argv, pw=e.get("AMT_PREFLIGHT_PFX_PASSWORD")):
                res = self.apf("hash", *argv, ns=False, env=e)
                self.assertEqual(res.returncode, 3)
                self.assertTrue(res.stderr.strip())


if __name__ == "__main__":
    unittest.main()
