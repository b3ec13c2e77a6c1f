"""dns.* checks against the lab's real BIND (corp.example.test, TSIG key ddns-key).

Healthy lab: no FAIL anywhere in the DNS family, and each check says what it
verified. Faults: no-provisionserver and wrong-provisionserver must FAIL with
the finding code and evidence naming the server, the query and the answer (the
lab declares [amt] activation = remote-config); without a remote-config profile
a missing record is SKIP (host-based profiles) or INFO (none declared).
"""

import os
import re
import tempfile
import unittest

from labtest import LabTestCase, check_status, findings

DNS_CHECKS = ["dns.provisionserver", "dns.ad-records", "dns.host-registration", "dns.servers"]
PS_NAME = "ProvisionServer.corp.example.test"
LAB_DNS = "192.0.2.1"


def by_code(report, check_id, code):
    return [f for f in findings(report, check_id) if f["code"] == code]


class DnsHealthy(LabTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab.revert("no-provisionserver")
        cls.lab.revert("wrong-provisionserver")

    def setUp(self):
        self.require_binary()

    def test_healthy_lab_has_no_fail(self):
        code, report = self.lab.run_preflight(only=DNS_CHECKS)
        for cid in DNS_CHECKS:
            statuses = [f["status"].upper() for f in findings(report, cid)]
            self.assertNotIn("FAIL", statuses, (cid, findings(report, cid)))
            self.assertNotIn("ERROR", statuses, (cid, findings(report, cid)))
        self.assertNotEqual(code, 2)

        ok = by_code(report, "dns.provisionserver", "PS_RECORD_OK")
        self.assertEqual(len(ok), 1)
        self.assertEqual(ok[0]["evidence"]["answer"], "192.0.2.10")
        self.assertEqual(ok[0]["evidence"]["servers"], LAB_DNS)
        hello = by_code(report, "dns.provisionserver", "PS_HELLO_OK")
        self.assertEqual([h["evidence"]["port"] for h in hello], ["9971"])

        reg = by_code(report, "dns.host-registration", "HOSTREG_OK")
        self.assertEqual(reg[0]["evidence"]["ok"], "3")
        self.assertEqual(reg[0]["evidence"]["hosts"], "3")

        srv = by_code(report, "dns.servers", "DNSSRV_OK")
        self.assertEqual(srv[0]["evidence"]["authoritative"], "yes")
        self.assertRegex(srv[0]["evidence"]["soa_serial"], r"^\d+$")
        tsig = by_code(report, "dns.servers", "DNSSRV_TSIG_OK")
        self.assertEqual(tsig[0]["evidence"]["key"], "ddns-key.")

        srv_ok = by_code(report, "dns.ad-records", "ADR_SRV_OK")
        queries = {f["evidence"]["query"] for f in srv_ok}
        self.assertIn("_ldap._tcp.dc._msdcs.corp.example.test SRV", queries)
        self.assertIn("_kerberos._tcp.corp.example.test SRV", queries)
        # The lab has one DC: that is a warning, not a failure.
        self.assertEqual(check_status(report, "dns.ad-records"), "WARN")
        self.assertTrue(by_code(report, "dns.ad-records", "ADR_SINGLE_DC"))

    def test_ptr_rule_follows_activation_profile(self):
        # ca1's address is the DC's, whose PTR names dc1: a PTR naming another host.
        # Only the Hello path names a device by its address, so only there is it a FAIL.
        fd, hosts = tempfile.mkstemp(prefix="hosts-", suffix=".txt", dir=self.lab.dir)
        with os.fdopen(fd, "w") as f:
            f.write("ca1.corp.example.test 198.51.100.10\n")
        self.addCleanup(os.unlink, hosts)
        want = {"remote-config": "FAIL", "rps": "INFO", None: "WARN"}
        for activation, status in want.items():
            line = "" if activation is None else "activation = %s\n" % activation
            conf = self.lab_conf_copy(lambda t: re.sub(r"(?m)^activation = .*\n", line,
                                                       re.sub(r"(?m)^hosts_file = .*$", "hosts_file = " + hosts, t)))
            _, report = self.lab.run_preflight(only=["dns.host-registration"], conf=conf)
            f = by_code(report, "dns.host-registration", "HOSTREG_PTR_MISMATCH")
            self.assertEqual(len(f), 1, findings(report, "dns.host-registration"))
            self.assertEqual(f[0]["status"].upper(), status, activation)
            self.assertEqual(f[0]["evidence"]["host_1"],
                             "ca1.corp.example.test (line 1): PTR of 198.51.100.10 -> dc1.corp.example.test.")
            self.assertIn("needed: " if status == "FAIL" else "needed only" if activation is None else "not needed",
                          f[0]["evidence"]["ptr_rule"])
            self.assertEqual(check_status(report, "dns.host-registration"), status)

    def test_tsig_secret_never_in_report(self):
        with open(self.lab.path("bind", "ddns-key.conf")) as f:
            secret = re.search(r'secret\s+"([^"]+)"', f.read()).group(1)
        _, report = self.lab.run_preflight(only=["dns.servers"])
        self.assertNotIn(secret, self.lab.last_run.stdout + self.lab.last_run.stderr)
        self.assertNotIn(secret, repr(report))


class DnsProvisionServerFaults(LabTestCase):
    def setUp(self):
        self.require_binary()

    def conf_with_activation(self, value):
        """lab.conf (which declares remote-config) with [amt] activation set to `value`,
        or removed when `value` is None."""
        line = "" if value is None else "activation = %s\n" % value
        return self.lab_conf_copy(lambda t: re.sub(r"(?m)^activation = .*\n", line, t))

    def test_missing_record_without_remote_config_is_not_fail(self):
        host_based = self.conf_with_activation("rps, meshcentral")
        undeclared = self.conf_with_activation(None)
        with self.lab.fault("no-provisionserver"):
            code_hb, report_hb = self.lab.run_preflight(only=["dns.provisionserver"], conf=host_based)
            code_un, report_un = self.lab.run_preflight(only=["dns.provisionserver"], conf=undeclared)
        # Host-based activation never looks the name up: the check does not run.
        self.assertEqual(check_status(report_hb, "dns.provisionserver"), "SKIP")
        self.assertNotEqual(code_hb, 2)
        # No profile declared: INFO with the reason, not FAIL.
        self.assertEqual(check_status(report_un, "dns.provisionserver"), "INFO")
        info = by_code(report_un, "dns.provisionserver", "PS_RECORD_NOT_REQUIRED")
        self.assertEqual(len(info), 1, findings(report_un, "dns.provisionserver"))
        self.assertEqual(info[0]["evidence"]["server"], LAB_DNS)
        self.assertEqual(info[0]["evidence"]["query"], PS_NAME + " A/AAAA")
        self.assertEqual(info[0]["evidence"]["activation"], "not declared")
        self.assertFalse(by_code(report_un, "dns.provisionserver", "PS_RECORD_MISSING"))
        self.assertNotEqual(code_un, 2)

    def test_missing_record_fails_naming_server_query_answer(self):
        with self.lab.fault("no-provisionserver"):
            code, report = self.lab.run_preflight(only=["dns.provisionserver"])
        self.assertEqual(code, 2)
        self.assertEqual(check_status(report, "dns.provisionserver"), "FAIL")
        miss = by_code(report, "dns.provisionserver", "PS_RECORD_MISSING")
        self.assertEqual(len(miss), 1, findings(report, "dns.provisionserver"))
        ev = miss[0]["evidence"]
        self.assertEqual(miss[0]["status"].upper(), "FAIL")
        self.assertEqual(ev["server"], LAB_DNS)
        self.assertEqual(ev["query"], PS_NAME + " A/AAAA")
        self.assertIn(ev["rcode"], ("NXDOMAIN", "NOERROR"))
        self.assertEqual(ev["answer"], "(none)")
        self.assertTrue(miss[0]["remediation"])

    def test_wrong_record_fails_naming_wrong_address(self):
        with self.lab.fault("wrong-provisionserver"):
            code, report = self.lab.run_preflight(only=["dns.provisionserver"])
        self.assertEqual(code, 2)
        wrong = by_code(report, "dns.provisionserver", "PS_WRONG_ADDRESS")
        self.assertEqual(len(wrong), 1, findings(report, "dns.provisionserver"))
        ev = wrong[0]["evidence"]
        self.assertEqual(ev["server"], LAB_DNS)
        self.assertEqual(ev["query"], PS_NAME + " A/AAAA")
        self.assertEqual(ev["answer"], "192.0.2.99")
        self.assertEqual(ev["wrong_address"], "192.0.2.99")
        self.assertEqual(ev["expected"], "192.0.2.10")
        self.assertIn("192.0.2.99", wrong[0]["message"])
        # Nobody asked us to touch 192.0.2.99: it is not probed.
        probed = [f["evidence"].get("address") for f in findings(report, "dns.provisionserver")
                  if f["code"].startswith("PS_HELLO")]
        self.assertNotIn("192.0.2.99", probed)


if __name__ == "__main__":
    unittest.main()
