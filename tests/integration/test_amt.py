"""amt.tls against the lab's AMT-like TLS endpoints (openssl s_server on 16993).

amt1 (192.0.2.21) has a certificate from the lab CA for its name, amt2 (192.0.2.22) one for
wrongname.corp.example.test, amt3 (192.0.2.23) an expired one. The lab's lab.conf lists only
amt1, so the healthy lab stays free of FAIL; the fleet tests add amt2 and amt3 through a
modified copy of lab.conf. Names are resolved through the lab's BIND, never the host resolver.
"""

import os
import re
import subprocess
import tempfile

from labtest import LabTestCase, check_status, findings

CHECK = "amt.tls"
DOMAIN = "corp.example.test"


def by_code(report, code):
    return [f for f in findings(report, CHECK) if f["code"] == code]


class AmtTls(LabTestCase):
    def setUp(self):
        self.require_binary()

    def write_conf(self, edit):
        """A copy of lab.conf with `edit(text) -> text` applied; removed at cleanup."""
        with open(self.lab.conf) as f:
            text = edit(f.read())
        fd, path = tempfile.mkstemp(prefix="amt-", suffix=".conf", dir=self.lab.dir)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def set_tls_hosts(self, hosts):
        def edit(text):
            self.assertIn("\ntls_hosts = amt1.%s\n" % DOMAIN, text)
            return text.replace("\ntls_hosts = amt1.%s\n" % DOMAIN, "\ntls_hosts = %s\n" % hosts)
        return self.write_conf(edit)

    def x509(self, name, option):
        """A field of a lab certificate as `openssl x509 -noout OPTION` prints it (after '=')."""
        p = subprocess.run(["openssl", "x509", "-noout"] + option.split() + ["-in", self.lab.path("pki", name)],
                           capture_output=True, text=True, check=True)
        return p.stdout.strip().split("=", 1)[-1]

    def one(self, report, code, status):
        got = by_code(report, code)
        self.assertEqual(len(got), 1, findings(report, CHECK))
        self.assertEqual(got[0]["status"].upper(), status)
        return got[0]["evidence"]

    def test_healthy_lab_passes_with_certificate_evidence(self):
        code, report = self.lab.run_preflight(only=[CHECK])
        self.assertEqual(check_status(report, CHECK), "PASS", findings(report, CHECK))
        self.assertEqual(code, 0)
        ev = self.one(report, "TLS_OK", "PASS")
        self.assertEqual(ev["count"], "1")
        self.assertEqual(ev["hosts_from"], "[amt] tls_hosts")
        self.assertEqual(ev["host_1"], "amt1.%s -> 192.0.2.21:16993" % DOMAIN)
        self.assertEqual(ev["host_1_dns"], "A 192.0.2.21 from 192.0.2.1")
        self.assertEqual(ev["host_1_subject"], "CN=amt1.%s,O=Lab Corp" % DOMAIN)
        self.assertEqual(ev["host_1_issuer"], "CN=CORP-Issuing-CA,O=Lab Corp")
        self.assertEqual(ev["host_1_san"], "amt1.%s" % DOMAIN)
        self.assertEqual(ev["host_1_name_match"], "yes")
        self.assertEqual(ev["host_1_self_signed"], "no")
        self.assertEqual(ev["host_1_serial"], self.x509("amt1.pem", "-serial"))
        self.assertEqual(ev["host_1_sha1"], self.x509("amt1.pem", "-fingerprint -sha1").replace(":", "").lower())
        # The endpoint sends leaf, issuing CA and root.
        self.assertTrue(ev["host_1_chain"].startswith("3: CN=amt1.%s" % DOMAIN), ev["host_1_chain"])
        self.assertIn("CN=CORP-Issuing-CA", ev["host_1_chain"])
        self.assertRegex(ev["host_1_tls"], r"^TLSv1\.[23] ")
        self.assertRegex(ev["host_1_not_after"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_wrong_name_and_expired_fail(self):
        conf = self.set_tls_hosts("amt1.{0}, amt2.{0}, amt3.{0}".format(DOMAIN))
        code, report = self.lab.run_preflight(only=[CHECK], conf=conf)
        self.assertEqual(code, 2, findings(report, CHECK))
        self.assertEqual(check_status(report, CHECK), "FAIL")
        self.assertEqual(self.one(report, "TLS_OK", "PASS")["count"], "1")

        ev = self.one(report, "TLS_NAME_MISMATCH", "FAIL")
        self.assertEqual(ev["count"], "1")
        self.assertEqual(ev["host_1"], "amt2.%s -> 192.0.2.22:16993" % DOMAIN)
        self.assertEqual(ev["host_1_san"], "wrongname.%s" % DOMAIN)
        self.assertEqual(ev["host_1_subject"], "CN=wrongname.%s,O=Lab Corp" % DOMAIN)
        self.assertEqual(ev["host_1_name_match"], "no")
        self.assertEqual(ev["host_1_issuer"], "CN=CORP-Issuing-CA,O=Lab Corp")

        ev = self.one(report, "TLS_CERT_EXPIRED", "FAIL")
        self.assertEqual(ev["count"], "1")
        self.assertEqual(ev["host_1"], "amt3.%s -> 192.0.2.23:16993" % DOMAIN)
        self.assertEqual(ev["host_1_not_before"], "2023-01-01T00:00:00Z")
        self.assertEqual(ev["host_1_not_after"], "2024-01-01T00:00:00Z")
        self.assertEqual(ev["host_1_name_match"], "yes")
        self.assertEqual(ev["host_1_serial"], self.x509("amt3.pem", "-serial"))

        # Nothing else: no errors, no self-signed or legacy findings.
        codes = sorted(f["code"] for f in findings(report, CHECK))
        self.assertEqual(codes, ["TLS_CERT_EXPIRED", "TLS_NAME_MISMATCH", "TLS_OK"])

    def test_hosts_file_is_the_fallback(self):
        conf = self.write_conf(lambda t: re.sub(r"(?m)^tls_hosts = .*\n", "", t))
        _, report = self.lab.run_preflight(only=[CHECK], conf=conf)
        ok = self.one(report, "TLS_OK", "PASS")
        self.assertEqual(ok["hosts_from"], self.lab.path("hosts.txt"))
        self.assertEqual(ok["hosts"], "3")
        self.assertEqual(self.one(report, "TLS_NAME_MISMATCH", "FAIL")["host_1"],
                         "amt2.%s -> 192.0.2.22:16993" % DOMAIN)
        self.assertEqual(self.one(report, "TLS_CERT_EXPIRED", "FAIL")["host_1"],
                         "amt3.%s -> 192.0.2.23:16993" % DOMAIN)

    def test_closed_port_is_an_error_not_a_failure(self):
        # Nothing listens on 16992 in the lab: refused, which is "could not check".
        conf = self.write_conf(lambda t: t.replace("\n[amt]\n", "\n[amt]\ntls_port = 16992\n"))
        code, report = self.lab.run_preflight(only=[CHECK], conf=conf)
        self.assertEqual(code, 3, findings(report, CHECK))
        self.assertEqual(check_status(report, CHECK), "ERROR")
        ev = self.one(report, "TLS_CONNECT_FAILED", "ERROR")
        self.assertEqual(ev["host_1"], "amt1.%s -> 192.0.2.21:16992" % DOMAIN)
        self.assertEqual(ev["host_1_stage"], "connect")
        self.assertIn("refused", ev["host_1_error"].lower())
        self.assertEqual([f for f in findings(report, CHECK) if f["status"].upper() in ("FAIL", "PASS")], [])

    def test_unregistered_name_fails_without_probing(self):
        conf = self.set_tls_hosts("amt1.{0}, amt9.{0}".format(DOMAIN))
        _, report = self.lab.run_preflight(only=[CHECK], conf=conf)
        ev = self.one(report, "TLS_NO_ADDRESS", "FAIL")
        self.assertEqual(ev["host_1"], "amt9.%s" % DOMAIN)
        self.assertEqual(ev["host_1_dns"], "A -> NXDOMAIN from 192.0.2.1")
        self.assertEqual(self.one(report, "TLS_OK", "PASS")["count"], "1")
