"""Icinga 2 as the engine that schedules amt-preflight (issue 10), for real.

The test starts icinga2 itself inside the lab's client namespace (API on that
namespace's loopback only), with the shipped CheckCommand
(dist/icinga2/command-amt-preflight.conf, only the binary's path replaced by the
build's), lets it schedule the check against the lab, and reads the state, output and
performance data back through Icinga's REST API. Then a fault: the next scheduled
check turns CRITICAL and names the code. `icinga2 daemon -C` also validates the shipped
example of a distributed setup.
"""
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import unittest

from labtest import REPO, LabTestCase

ICINGA2 = shutil.which("icinga2") or "/usr/sbin/icinga2"
DIST = os.path.join(REPO, "dist", "icinga2")
NODE = "apf-icinga"


def defines(d):
    """Icinga's paths under our own directory, and no user switch (we run as root)."""
    out = []
    for name in ("DataDir", "LogDir", "CacheDir", "SpoolDir", "InitRunDir"):
        path = os.path.join(d, name.lower())
        os.makedirs(path, exist_ok=True)
        out += ["-DConfiguration.%s=%s" % (name, path)]
    return out + ["-DConfiguration.RunAsUser=root", "-DConfiguration.RunAsGroup=root"]


class IcingaTest(LabTestCase):
    def setUp(self):
        self.require_binary()
        if not os.access(ICINGA2, os.X_OK):
            self.skipTest("icinga2 is not installed (tools/install-deps.sh installs it)")
        self.tmp = tempfile.mkdtemp(prefix="apf-icinga-")
        self.daemon = None
        self.lab.revert("template-pend")

    def tearDown(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.terminate()  # our own PID: ip netns exec execs icinga2 itself
            try:
                self.daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.lab.revert("template-pend")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def command_file(self):
        """The shipped CheckCommand with the build's binary instead of /usr/bin's."""
        with open(os.path.join(DIST, "command-amt-preflight.conf")) as f:
            text = f.read()
        self.assertIn('"/usr/bin/amt-preflight"', text)
        path = os.path.join(self.tmp, "command.conf")
        with open(path, "w") as f:
            f.write(text.replace('"/usr/bin/amt-preflight"', json.dumps(self.lab.binary)))
        return path

    def api_certs(self, data):
        certs = os.path.join(data, "certs")
        os.makedirs(certs, exist_ok=True)
        run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
        ca_key, ca = os.path.join(self.tmp, "ca.key"), os.path.join(certs, "ca.crt")
        key, csr, crt = (os.path.join(certs, NODE + ext) for ext in (".key", ".csr", ".crt"))
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
            "-subj", "/CN=amt-preflight test CA")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + NODE)
        run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt, "-days", "2")

    def api(self, method, path, body=None):
        args = ["curl", "-s", "-k", "--max-time", "10", "-u", "apf:" + self.password, "-H", "Accept: application/json",
                "-X", method, "https://127.0.0.1:5665" + path]
        if body is not None:
            args += ["-d", json.dumps(body)]
        res = self.lab.cli(args, timeout=20)
        return json.loads(res.stdout) if res.stdout.strip().startswith("{") else None

    def wait_result(self, after, timeout=90):
        """The service's check result once one newer than `after` exists."""
        end = time.time() + timeout
        while time.time() < end:
            self.assertIsNone(self.daemon.poll(), "icinga2 exited")
            r = self.api("GET", "/v1/objects/services/lab!amt-preflight?attrs=last_check_result")
            lcr = r and r["results"] and r["results"][0]["attrs"]["last_check_result"]
            if lcr and lcr["execution_end"] > after:
                return lcr
            time.sleep(1)
        self.fail("no check result from icinga2 within %d s" % timeout)

    def test_icinga_schedules_the_check_and_reads_state_and_perfdata(self):
        data = os.path.join(self.tmp, "datadir")
        self.api_certs(data)
        self.password = secrets.token_hex(12)
        conf = os.path.join(self.tmp, "icinga2.conf")
        with open(conf, "w") as f:
            f.write("""
const NodeName = "%(node)s"
const ZoneName = "%(node)s"
include <itl>
include "%(command)s"
object Endpoint NodeName {}
object Zone ZoneName {
  endpoints = [ NodeName ]
}
object ApiListener "api" {
  bind_host = "127.0.0.1"
  bind_port = 5665
}
object ApiUser "apf" {
  password = "%(password)s"
  permissions = [ "*" ]
}
object CheckerComponent "checker" {}
object Host "lab" {
  check_command = "dummy"
  enable_active_checks = false
}
object Service "amt-preflight" {
  host_name = "lab"
  check_command = "amt-preflight"
  check_interval = 3s
  retry_interval = 3s
  vars.amt_preflight_config = "%(labconf)s"
  vars.amt_preflight_only = "ad.ldap,ca.template,cert.provisioning"
  vars.amt_preflight_total_timeout = 25
  vars.amt_preflight_warning = [ "prov_chain_days_left=30:" ]
}
""" % {"node": NODE, "command": self.command_file(), "password": self.password, "labconf": self.lab.conf})
        # datadir before the others: defines() makes the directories
        args = [ICINGA2, "daemon", "-c", conf] + defines(self.tmp)
        args = [a.replace(os.path.join(self.tmp, "datadir"), data) for a in args]
        self.daemon = subprocess.Popen(["ip", "netns", "exec", self.lab.ns_cli, *args],
                                       stdout=open(os.path.join(self.tmp, "icinga2.log"), "w"),
                                       stderr=subprocess.STDOUT)
        lcr = self.wait_result(0)
        self.assertTrue(lcr["output"].startswith("AMT-PREFLIGHT "), lcr["output"])
        self.assertIn(lcr["exit_status"], (0, 1))  # the healthy lab: READY or WARNINGS
        self.assertEqual(lcr["state"], lcr["exit_status"])
        perf = {p.split("=")[0]: p for p in lcr["performance_data"]}
        self.assertIn("checks_FAIL", perf)
        self.assertTrue(perf["checks_FAIL"].startswith("checks_FAIL=0;"), perf)
        self.assertRegex(perf["prov_chain_days_left"], r"^prov_chain_days_left=\d+;30:;0:;;$")
        self.assertIn("--format", lcr["command"])
        self.assertIn("nagios", lcr["command"])

        # a fault: the next scheduled check is CRITICAL and names the code
        t = time.time()
        self.lab.fault("template-pend")
        while True:
            lcr = self.wait_result(t)
            if lcr["state"] == 2 or time.time() - t > 60:
                break
            t = lcr["execution_end"]
        self.assertEqual(lcr["state"], 2, lcr["output"])
        self.assertIn("CRITICAL: ca.template CA_TEMPLATE_PEND_ALL", lcr["output"])
        self.assertTrue(any(p.startswith("checks_FAIL=1;") for p in lcr["performance_data"]), lcr["performance_data"])

    def test_shipped_files_validate(self):
        # The example's zones and endpoints come from zones.conf on a real master.
        zones = os.path.join(self.tmp, "zones.conf")
        with open(zones, "w") as f:
            for site, agent in (("site-a", "probe-a1"), ("site-b", "probe-b1")):
                f.write('object Endpoint "%s" {}\nobject Zone "%s" { endpoints = [ "%s" ] }\n' % (site, site, site))
                f.write('object Endpoint "%s" {}\nobject Zone "%s" {\n endpoints = [ "%s" ]\n parent = "%s"\n}\n'
                        % (agent, agent, agent, site))
        conf = os.path.join(self.tmp, "validate.conf")
        with open(conf, "w") as f:
            # constants.conf of a real installation defines PluginDir
            f.write('const PluginDir = "/usr/lib/nagios/plugins"\ninclude <itl>\ninclude <plugins>\n'
                    'include "%s"\ninclude "%s"\ninclude "%s"\n'
                    % (zones, os.path.join(DIST, "command-amt-preflight.conf"),
                       os.path.join(DIST, "example-distributed.conf")))
        res = subprocess.run(["unshare", "-n", ICINGA2, "daemon", "-C", "-c", conf] + defines(self.tmp),
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stdout[-3000:] + res.stderr[-2000:])
        self.assertIn("Instantiated 4 Services", res.stdout)  # two apply rules, two probes
        self.assertIn("Instantiated 2 Hosts", res.stdout)


if __name__ == "__main__":
    unittest.main()
