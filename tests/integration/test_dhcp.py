"""dhcp.* checks against real DHCP servers.

DhcpLab: the lab's Kea DHCPv4 + kea-dhcp-ddns + BIND (client interface ${P}v1).
  healthy -> dhcp.options PASS findings with option 15 corp.example.test (the check's
  status is INFO only because Kea does not echo option 81 on DHCPINFORM);
  fault no-option15 -> FAIL DHCP_OPTION15_MISSING; dhcp.ddns-registration healthy ->
  DDNS_REGISTERED with the A/PTR evidence and DDNS_CLEANED_UP; fault no-ddns ->
  FAIL DDNS_NOT_REGISTERED.

DhcpDnsmasq: dnsmasq (configured unlike the lab: another domain, its own DNS on port
5353) in namespaces this test creates and removes itself: a client namespace whose
bridge joins two server namespaces, so a second (rogue) server can be switched on.
The healthy setup must have no FAIL; each misconfiguration must be found.
"""

import json
import os
import random
import shutil
import string
import subprocess
import tempfile
import time
import unittest

from labtest import Lab, LabTestCase, check_status, findings

OPTIONS = "dhcp.options"
DDNS = "dhcp.ddns-registration"


def by_code(report, check_id, code):
    return [f for f in findings(report, check_id) if f["code"] == code]


def statuses(report, check_id):
    return {f["status"].upper() for f in findings(report, check_id)}


def conf_with(text, **changes):
    """Returns lab.conf text with keys replaced ("section.key": value; None drops the key)."""
    out, section = [], None
    pending = dict(changes)
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            # add keys of the section we are leaving that it did not have
            for k in [k for k in pending if k.split(".")[0] == section]:
                if pending[k] is not None:
                    out.append("%s = %s" % (k.split(".")[1], pending[k]))
                del pending[k]
            section = s.strip("[]")
        elif "=" in s and section:
            key = "%s.%s" % (section, s.split("=")[0].strip())
            if key in pending:
                if pending[key] is not None:
                    out.append("%s = %s" % (key.split(".")[1], pending[key]))
                del pending[key]
                continue
        out.append(line)
    for k, v in pending.items():  # the last section's keys need no header, others do
        if v is not None:
            sec, key = k.split(".")
            out.append("%s = %s" % (key, v) if sec == section else "[%s]\n%s = %s" % (sec, key, v))
            section = sec
    return "\n".join(out) + "\n"


class DhcpLab(LabTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab.revert("no-option15")
        cls.lab.revert("no-ddns")

    def setUp(self):
        self.require_binary()

    def conf(self, **changes):
        with open(self.lab.conf) as f:
            text = conf_with(f.read(), **changes)
        fd, path = tempfile.mkstemp(prefix="dhcp-test-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_options_healthy(self):
        code, report = self.lab.run_preflight(only=[OPTIONS])
        self.assertIn(check_status(report, OPTIONS), ("PASS", "INFO"), findings(report, OPTIONS))
        self.assertEqual(code, 0)
        ok = by_code(report, OPTIONS, "DHCP_OPTION15_OK")
        self.assertEqual(len(ok), 1, findings(report, OPTIONS))
        self.assertEqual(ok[0]["status"].upper(), "PASS")
        self.assertEqual(ok[0]["evidence"]["option_15"], "corp.example.test")
        self.assertEqual(ok[0]["evidence"]["server"], "192.0.2.1")
        self.assertEqual(ok[0]["evidence"]["segment"], self.lab.prefix + "v1")
        match = by_code(report, OPTIONS, "DHCP_SUFFIX_MATCH")
        self.assertEqual(match[0]["evidence"]["amt_domain_suffix"], "corp.example.test")
        self.assertEqual(by_code(report, OPTIONS, "DHCP_OPTION6_OK")[0]["evidence"]["option_6"], "192.0.2.1")
        # Kea answers DHCPINFORM without option 81: INFO, not a failure.
        self.assertEqual(by_code(report, OPTIONS, "DHCP_FQDN_NOT_ECHOED")[0]["status"].upper(), "INFO")
        # The lab's server has five addresses and Kea answers once per address: still one server.
        self.assertEqual(by_code(report, OPTIONS, "DHCP_SERVERS")[0]["evidence"]["servers"], "192.0.2.1")
        self.assertEqual(by_code(report, OPTIONS, "DHCP_MULTIPLE_SERVERS"), [])

    def test_options_discover_mode(self):
        code, report = self.lab.run_preflight(only=[OPTIONS], conf=self.conf(**{"dhcp.mode": "discover"}))
        echo = by_code(report, OPTIONS, "DHCP_FQDN_ECHO")
        self.assertEqual(len(echo), 1, findings(report, OPTIONS))
        self.assertEqual(echo[0]["evidence"]["option_81_flags"], "0x05 (S,E)")
        self.assertEqual(echo[0]["evidence"]["option_81_rcodes"], "0/0")
        self.assertEqual(echo[0]["evidence"]["option_81_name"], "amt-preflight-test.corp.example.test.")
        self.assertEqual(echo[0]["evidence"]["reply"], "DHCPOFFER")
        self.assertEqual(check_status(report, OPTIONS), "PASS")

    def test_options_no_option15(self):
        with self.lab.fault("no-option15"):
            code, report = self.lab.run_preflight(only=[OPTIONS])
        miss = by_code(report, OPTIONS, "DHCP_OPTION15_MISSING")
        self.assertEqual(len(miss), 1, findings(report, OPTIONS))
        self.assertEqual(miss[0]["status"].upper(), "FAIL")
        self.assertEqual(miss[0]["evidence"]["option_15"], "absent")
        self.assertEqual(miss[0]["evidence"]["server"], "192.0.2.1")
        self.assertTrue(miss[0]["remediation"])
        self.assertEqual(check_status(report, OPTIONS), "FAIL")
        self.assertEqual(code, 2)

    def test_options_errors(self):
        code, report = self.lab.run_preflight(only=[OPTIONS], conf=self.conf(**{"dhcp.interface": "nosuch0"}))
        err = by_code(report, OPTIONS, "DHCP_INTERFACE_MISSING")
        self.assertEqual(err[0]["status"].upper(), "ERROR")
        self.assertEqual(err[0]["evidence"]["segment"], "nosuch0")
        self.assertEqual(code, 3)

        # Without the privilege to bind port 68: ERROR with the remedy, not a crash.
        conf = self.conf()
        os.chmod(conf, 0o644)
        p = self.lab.cli(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", self.lab.binary,
                          "run", "-c", conf, "--only", OPTIONS, "--json", "-", "--quiet"])
        self.assertEqual(p.returncode, 3, p.stderr)
        report = json.loads(p.stdout)
        err = by_code(report, OPTIONS, "DHCP_NO_PRIVILEGE")
        self.assertEqual(err[0]["status"].upper(), "ERROR", findings(report, OPTIONS))
        self.assertIn("CAP_NET_BIND_SERVICE", err[0]["remediation"])

    def test_ddns_opt_in_only(self):
        code, report = self.lab.run_preflight(only=["dhcp"])
        self.assertEqual(check_status(report, DDNS), "SKIP")
        self.assertEqual(findings(report, DDNS)[0]["code"], "CHECK_OPT_IN")

    def test_ddns_healthy(self):
        code, report = self.lab.run_preflight(only=[DDNS])
        reg = by_code(report, DDNS, "DDNS_REGISTERED")
        self.assertEqual(len(reg), 1, findings(report, DDNS))
        ev = reg[0]["evidence"]
        self.assertEqual(ev["a_answer"], ev["leased_address"])
        self.assertEqual(ev["ptr_answer"], "amt-preflight-test.corp.example.test.")
        self.assertEqual(ev["dns_server"], "192.0.2.1")
        self.assertTrue(ev["client_mac"].startswith("02:61:70:66:"))
        self.assertEqual(ev["dhcp_server"], "192.0.2.1")
        # Kea's D2 removes the records on DHCPRELEASE.
        self.assertEqual(len(by_code(report, DDNS, "DDNS_CLEANED_UP")), 1, findings(report, DDNS))
        self.assertEqual(check_status(report, DDNS), "PASS")
        self.assertEqual(code, 0)
        p = self.lab.srv(["dig", "@127.0.0.1", "+short", "amt-preflight-test.corp.example.test", "A"])
        self.assertEqual(p.stdout.strip(), "")

    def test_ddns_no_ddns(self):
        with self.lab.fault("no-ddns"):
            code, report = self.lab.run_preflight(only=[DDNS])
        nr = by_code(report, DDNS, "DDNS_NOT_REGISTERED")
        self.assertEqual(len(nr), 1, findings(report, DDNS))
        self.assertEqual(nr[0]["status"].upper(), "FAIL")
        ev = nr[0]["evidence"]
        self.assertEqual(ev["a_query"], "amt-preflight-test.corp.example.test A")
        self.assertEqual(ev["a_answer"], "none")
        self.assertEqual(ev["ptr_answer"], "none")
        self.assertIn("leased_address", ev)
        self.assertEqual(check_status(report, DDNS), "FAIL")
        self.assertEqual(code, 2)


# ---------------------------------------------------------------------------- dnsmasq

DOMAIN = "branch.example.org"


@unittest.skipUnless(os.geteuid() == 0, "needs root (network namespaces)")
@unittest.skipUnless(shutil.which("dnsmasq"), "dnsmasq is not installed (apt-get install dnsmasq-base)")
class DhcpDnsmasq(unittest.TestCase):
    """Namespaces q<xyz>c (client, bridge q<xyz>br = 192.0.2.2), q<xyz>s (dnsmasq at
    192.0.2.1) and q<xyz>r (a second dnsmasq at 192.0.2.3), all created and removed here."""

    @classmethod
    def setUpClass(cls):
        cls.binary = Lab().binary
        if not os.access(cls.binary, os.X_OK):
            raise unittest.SkipTest("%s is not built" % cls.binary)
        existing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        while True:
            p = "q" + "".join(random.choice(string.ascii_lowercase) for _ in range(3))
            if p + "c" not in existing:
                break
        cls.p = p
        cls.ns_c, cls.ns_s, cls.ns_r = p + "c", p + "s", p + "r"
        cls.dir = tempfile.mkdtemp(prefix="dhcp-dnsmasq-")
        cls.procs = {}
        try:
            cls._net_up()
        except Exception:
            cls._net_down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._net_down()

    @classmethod
    def _ip(cls, *args):
        subprocess.run(["ip"] + list(args), check=True, capture_output=True, text=True)

    @classmethod
    def _net_up(cls):
        p = cls.p
        for ns in (cls.ns_c, cls.ns_s, cls.ns_r):
            cls._ip("netns", "add", ns)
            cls._ip("-n", ns, "link", "set", "lo", "up")
        cls._ip("-n", cls.ns_c, "link", "add", p + "br", "type", "bridge")
        for side, ns, addr in (("s", cls.ns_s, "192.0.2.1/24"), ("r", cls.ns_r, "192.0.2.3/24")):
            cls._ip("link", "add", p + side + "0", "type", "veth", "peer", "name", p + "c" + side)
            cls._ip("link", "set", p + side + "0", "netns", ns)
            cls._ip("link", "set", p + "c" + side, "netns", cls.ns_c)
            cls._ip("-n", ns, "addr", "add", addr, "dev", p + side + "0")
            cls._ip("-n", ns, "link", "set", p + side + "0", "up")
            cls._ip("-n", cls.ns_c, "link", "set", p + "c" + side, "master", p + "br")
            cls._ip("-n", cls.ns_c, "link", "set", p + "c" + side, "up")
        cls._ip("-n", cls.ns_c, "addr", "add", "192.0.2.2/24", "dev", p + "br")
        cls._ip("-n", cls.ns_c, "link", "set", p + "br", "up")

    @classmethod
    def _net_down(cls):
        for name in list(cls.procs):
            cls._stop(name)
        for ns in (cls.ns_c, cls.ns_s, cls.ns_r):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def _start(cls, name, ns, iface, addr, extra):
        log = os.path.join(cls.dir, name + ".log")
        argv = ["ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--log-facility=" + log,
                "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--port=5353",
                "--listen-address=" + addr, "--bind-interfaces", "--interface=" + iface, "--no-ping",
                "--dhcp-authoritative", "--dhcp-leasefile=" + os.path.join(cls.dir, name + ".leases"),
                "--pid-file=" + os.path.join(cls.dir, name + ".pid"), "--log-dhcp"] + list(extra)
        # ip netns exec execs dnsmasq, so this PID is dnsmasq's own.
        cls.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
        for _ in range(50):
            if os.path.exists(log) and "DHCP, IP range" in open(log).read():
                return
            time.sleep(0.05)
        raise RuntimeError("dnsmasq %s did not start" % name)

    @classmethod
    def _stop(cls, name):
        proc = cls.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def server(self, extra, name="main"):
        self._stop(name)
        if name == "main":
            self._start(name, self.ns_s, self.p + "s0", "192.0.2.1", extra)
        else:
            self._start(name, self.ns_r, self.p + "r0", "192.0.2.3", extra)
        self.addCleanup(self._stop, name)

    def run_checks(self, only, **changes):
        base = ("[dhcp]\ninterface = %sbr\ntest_fqdn = amt-preflight-test.%s\nlisten_seconds = 2\n"
                "register_wait_seconds = 5\n[dns]\nservers = 192.0.2.1#5353\n[amt]\ndomain_suffixes = %s\n"
                % (self.p, DOMAIN, DOMAIN))
        conf = os.path.join(self.dir, "test.conf")
        with open(conf, "w") as f:
            f.write(conf_with(base, **changes))
        out = os.path.join(self.dir, "report.json")
        if os.path.exists(out):
            os.unlink(out)
        p = subprocess.run(["ip", "netns", "exec", self.ns_c, self.binary, "run", "-c", conf, "--json", out,
                            "--quiet", "--only", ",".join(only)], capture_output=True, text=True, timeout=120)
        with open(out) as f:
            return p.returncode, json.load(f)

    HEALTHY = ["--domain=" + DOMAIN, "--local=/%s/" % DOMAIN, "--dhcp-fqdn",
               "--dhcp-option=6,192.0.2.1", "--dhcp-range=192.0.2.150,192.0.2.199,255.255.255.0,10m"]

    def test_healthy_no_fail(self):
        self.server(self.HEALTHY)
        code, report = self.run_checks([OPTIONS, DDNS])
        for cid in (OPTIONS, DDNS):
            self.assertNotIn("FAIL", statuses(report, cid), findings(report, cid))
            self.assertNotIn("ERROR", statuses(report, cid), findings(report, cid))
        self.assertEqual(by_code(report, OPTIONS, "DHCP_OPTION15_OK")[0]["evidence"]["option_15"], DOMAIN)
        # dnsmasq, unlike Kea, echoes option 81 on INFORM, with the RFC 4702 RCODEs 255.
        echo = by_code(report, OPTIONS, "DHCP_FQDN_ECHO")
        self.assertEqual(echo[0]["evidence"]["option_81_rcodes"], "255/255")
        # dnsmasq registers the name in its own DNS (port 5353) and drops it on release.
        reg = by_code(report, DDNS, "DDNS_REGISTERED")
        self.assertEqual(len(reg), 1, findings(report, DDNS))
        self.assertEqual(reg[0]["evidence"]["a_answer"], reg[0]["evidence"]["leased_address"])
        self.assertEqual(len(by_code(report, DDNS, "DDNS_CLEANED_UP")), 1, findings(report, DDNS))
        self.assertEqual(code, 0)

    def test_no_domain_no_dns(self):
        self.server(["--dhcp-range=192.0.2.150,192.0.2.199,255.255.255.0,10m"])
        code, report = self.run_checks([OPTIONS])
        self.assertEqual(by_code(report, OPTIONS, "DHCP_OPTION15_MISSING")[0]["status"].upper(), "FAIL")
        self.assertEqual(by_code(report, OPTIONS, "DHCP_OPTION6_MISSING")[0]["status"].upper(), "FAIL")
        self.assertEqual(code, 2)

    def test_wrong_domain(self):
        self.server(["--domain=corp.example.net", "--dhcp-option=6,192.0.2.1",
                     "--dhcp-range=192.0.2.150,192.0.2.199,255.255.255.0,10m"])
        code, report = self.run_checks([OPTIONS])
        mm = by_code(report, OPTIONS, "DHCP_SUFFIX_MISMATCH")
        self.assertEqual(len(mm), 1, findings(report, OPTIONS))
        self.assertEqual(mm[0]["evidence"]["option_15"], "corp.example.net")
        self.assertEqual(mm[0]["evidence"]["amt_domain_suffixes"], DOMAIN)

    def test_rogue_server(self):
        self.server(self.HEALTHY)
        self.server(["--domain=evil.example.com", "--dhcp-option=6,192.0.2.3",
                     "--dhcp-range=192.0.2.200,192.0.2.220,255.255.255.0,10m"], name="rogue")
        code, report = self.run_checks([OPTIONS])
        multi = by_code(report, OPTIONS, "DHCP_MULTIPLE_SERVERS")
        self.assertEqual(len(multi), 1, findings(report, OPTIONS))
        self.assertEqual(sorted(multi[0]["evidence"]["servers"].split(", ")), ["192.0.2.1", "192.0.2.3"])
        mm = by_code(report, OPTIONS, "DHCP_SUFFIX_MISMATCH")
        self.assertEqual([f["evidence"]["server"] for f in mm], ["192.0.2.3"])

        code, report = self.run_checks([OPTIONS], **{"dhcp.expected_servers": "192.0.2.1"})
        rogue = by_code(report, OPTIONS, "DHCP_UNEXPECTED_SERVER")
        self.assertEqual([f["evidence"]["server"] for f in rogue], ["192.0.2.3"])

    def test_domain_served_but_not_registered(self):
        # Option 15 is right, but the server has no DNS domain of its own (no --domain): it
        # hands out the suffix without registering option-81 names in it.
        self.server(["--dhcp-option=15," + DOMAIN, "--dhcp-option=6,192.0.2.1", "--local=/%s/" % DOMAIN,
                     "--dhcp-range=192.0.2.150,192.0.2.199,255.255.255.0,10m"])
        code, report = self.run_checks([OPTIONS, DDNS], **{"dhcp.register_wait_seconds": "2"})
        self.assertEqual(by_code(report, OPTIONS, "DHCP_OPTION15_OK")[0]["evidence"]["option_15"], DOMAIN)
        nr = by_code(report, DDNS, "DDNS_NOT_REGISTERED")
        self.assertEqual(len(nr), 1, findings(report, DDNS))
        self.assertEqual(nr[0]["evidence"]["a_query"], "amt-preflight-test.%s A" % DOMAIN)
        self.assertEqual(nr[0]["evidence"]["a_answer"], "none")
        self.assertEqual(code, 2)

if __name__ == "__main__":
    unittest.main()
