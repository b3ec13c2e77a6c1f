"""activation.servers and cira.mps against the lab's RPS-like WSS endpoint and MPS.

rps.corp.example.test (192.0.2.30:443) is tests/lab/wss.py: TLS with a lab-CA certificate
for the name and the address, and a real WebSocket opening handshake on /activate (101 with
the RFC 6455 accept value). mps.corp.example.test (192.0.2.31:4433) is openssl s_server
with a lab-CA certificate. Faults: rps-wrong-cert (the endpoint serves a certificate for
wrongname.corp.example.test), rps-no-upgrade (every request gets 200, as from a proxy that
drops upgrades), mps-down (nothing listens on 4433). Names are resolved through the lab's
BIND, never the host resolver.
"""

import base64
import hashlib
import os
import re
import subprocess
import tempfile

from labtest import LabTestCase, check_status, findings

ACT = "activation.servers"
MPS = "cira.mps"
SITE = "site.redundancy"
DOMAIN = "corp.example.test"
RPS_URL = "wss://rps.%s/activate" % DOMAIN


def by_code(report, check, code):
    return [f for f in findings(report, check) if f["code"] == code]


class Base(LabTestCase):
    def setUp(self):
        self.require_binary()

    def write_conf(self, edit):
        """A copy of lab.conf with `edit(text) -> text` applied; removed at cleanup."""
        with open(self.lab.conf) as f:
            text = edit(f.read())
        fd, path = tempfile.mkstemp(prefix="act-", suffix=".conf", dir=self.lab.dir)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def set_key(self, section, key, value):
        def edit(text):
            pattern = r"(?ms)(^\[%s\]\n.*?^)%s = [^\n]*\n" % (section, key)
            self.assertRegex(text, pattern)
            return re.sub(pattern, lambda m: m.group(1) + "%s = %s\n" % (key, value), text, count=1)
        return self.write_conf(edit)

    def one(self, report, check, code, status):
        got = by_code(report, check, code)
        self.assertEqual(len(got), 1, findings(report, check))
        self.assertEqual(got[0]["status"].upper(), status)
        return got[0]["evidence"]

    def x509(self, name, option):
        p = subprocess.run(["openssl", "x509", "-noout"] + option.split() + ["-in", self.lab.path("pki", name)],
                           capture_output=True, text=True, check=True)
        return p.stdout.strip().split("=", 1)[-1]


class ActivationServers(Base):
    def test_healthy_endpoint_passes_with_what_rpc_sees(self):
        code, report = self.lab.run_preflight(only=[ACT])
        self.assertEqual(check_status(report, ACT), "PASS", findings(report, ACT))
        self.assertEqual(code, 0)
        ev = self.one(report, ACT, "ACT_OK", "PASS")
        self.assertEqual(ev["url"], RPS_URL)
        self.assertEqual(ev["dns"], "A 192.0.2.30 from 192.0.2.1")
        self.assertEqual(ev["address"], "192.0.2.30:443")
        self.assertEqual(ev["subject"], "CN=rps.%s,O=Lab Corp" % DOMAIN)
        self.assertEqual(ev["issuer"], "CN=CORP-Issuing-CA,O=Lab Corp")
        self.assertEqual(ev["chain"], "CN=rps.%s,O=Lab Corp | CN=CORP-Issuing-CA,O=Lab Corp | "
                                      "CN=Lab Root CA,O=Lab Corp" % DOMAIN)
        self.assertTrue(ev["trusted"].startswith("yes"))
        self.assertEqual(ev["name_match"], "yes")
        self.assertEqual(ev["status"], "HTTP/1.1 101 Switching Protocols")
        self.assertEqual(ev["server"], "lab-rps")
        self.assertRegex(ev["accept"], r"^[A-Za-z0-9+/]{27}= \(matches the key sent\)$")
        # The accept value is the server's answer to our key: what wss.py logged must be a 101.
        with open(self.lab.path("logs", "rps.log")) as f:
            self.assertIn("GET /activate HTTP/1.1 HTTP/1.1 101 Switching Protocols", f.read())

    def test_wrong_certificate_name_fails(self):
        with self.lab.fault("rps-wrong-cert"):
            code, report = self.lab.run_preflight(only=[ACT])
        self.assertEqual(code, 2)
        ev = self.one(report, ACT, "ACT_NAME_MISMATCH", "FAIL")
        self.assertEqual(ev["host"], "rps.%s" % DOMAIN)
        self.assertEqual(ev["san_dns"], "wrongname.%s" % DOMAIN)
        self.assertEqual(ev["name_match"], "no")
        self.assertEqual(by_code(report, ACT, "ACT_OK"), [])

    def test_proxy_without_upgrade_fails_with_the_status(self):
        with self.lab.fault("rps-no-upgrade"):
            code, report = self.lab.run_preflight(only=[ACT])
        self.assertEqual(code, 2)
        ev = self.one(report, ACT, "ACT_UPGRADE_FAILED", "FAIL")
        self.assertEqual(ev["status"], "HTTP/1.1 200 OK")
        self.assertEqual(ev["accept_received"], "(none)")
        self.assertEqual(ev["server"], "lab-proxy")
        self.assertRegex(ev["accept_expected"], r"^[A-Za-z0-9+/]{27}=$")

    def test_bundle_without_the_root_is_untrusted(self):
        # The OCSP signer is a lab certificate that is in nobody's chain.
        conf = self.set_key("activation", "ca_bundle", self.lab.path("pki", "ocsp.pem"))
        code, report = self.lab.run_preflight(only=[ACT], conf=conf)
        self.assertEqual(code, 2)
        ev = self.one(report, ACT, "ACT_CERT_UNTRUSTED", "FAIL")
        self.assertEqual(ev["trusted"], "no")
        self.assertEqual(ev["url"], RPS_URL)

    def test_address_url_checks_the_ip_san_and_other_outcomes(self):
        servers = ", ".join(["wss://192.0.2.30/activate",      # IP SAN: passes
                             "wss://rps.%s/nowhere" % DOMAIN,  # 404
                             "tcp://rps.%s:444" % DOMAIN,      # refused
                             "wss://nohost.%s/activate" % DOMAIN])
        conf = self.set_key("activation", "endpoints", servers)
        code, report = self.lab.run_preflight(only=[ACT, SITE], conf=conf)
        self.assertEqual(code, 2, findings(report, ACT))
        ev = self.one(report, ACT, "ACT_OK", "PASS")
        self.assertEqual(ev["url"], "wss://192.0.2.30/activate")
        self.assertEqual(ev["dns"], "an address: no DNS query")
        self.assertEqual(ev["name_match"], "yes")
        self.assertEqual(ev["san_ip"], "192.0.2.30")
        ev = self.one(report, ACT, "ACT_UPGRADE_FAILED", "FAIL")
        self.assertEqual(ev["status"], "HTTP/1.1 404 Not Found")
        ev = self.one(report, ACT, "ACT_REFUSED", "FAIL")
        self.assertEqual(ev["address"], "192.0.2.30:444")
        ev = self.one(report, ACT, "ACT_NO_ADDRESS", "FAIL")
        self.assertEqual(ev["dns"], "A -> NXDOMAIN from 192.0.2.1")
        # The redundancy summary names the one endpoint that answered, out of all four.
        ev = self.one(report, SITE, "SITE_SINGLE_POINT_OF_FAILURE", "WARN")
        self.assertEqual((ev["service"], ev["asked"], ev["answered"]), ("Activation server endpoints", "4", "1"))
        self.assertEqual(ev["instances"], servers)
        self.assertEqual(ev["answering"], "wss://192.0.2.30/activate")

    def test_accept_value_follows_rfc6455(self):
        # The lab server computes the accept value itself; check it against the RFC example.
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        self.assertEqual(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")


class CiraMps(Base):
    def test_healthy_mps_passes_with_root_from_device_list(self):
        code, report = self.lab.run_preflight(only=[MPS])
        # INFO: without dhcp.options in the run there is no option 15 suffix to compare.
        self.assertEqual(check_status(report, MPS), "INFO", findings(report, MPS))
        self.assertEqual(code, 0)
        ev = self.one(report, MPS, "MPS_OK", "PASS")
        self.assertEqual(ev["mps"], "mps.%s" % DOMAIN)
        self.assertEqual(ev["address"], "192.0.2.31:4433")
        self.assertEqual(ev["dns"], "A 192.0.2.31 from 192.0.2.1")
        self.assertEqual(ev["subject"], "CN=mps.%s,O=Lab Corp" % DOMAIN)
        self.assertEqual(ev["name_match"], "yes")
        # The lab root's hash is in the lab's device hash list.
        # The device is named after its hash list's file stem (src/devfacts.c).
        self.assertEqual(ev["root"], "CN=Lab Root CA,O=Lab Corp (the hash list of device-hashes)")
        self.assertEqual(self.one(report, MPS, "MPS_HOME_UNCHECKED", "INFO")["home_domains"], "hq.example.test")

    def test_public_dns_without_the_mps_name_fails(self):
        # The DC's own DNS (Samba, 198.51.100.10) serves corp.example.test without an mps
        # record: as a public view that forgot the MPS would.
        conf = self.write_conf(lambda t: t.replace("\n[cira]\n", "\n[cira]\npublic_dns_servers = 198.51.100.10\n"))
        code, report = self.lab.run_preflight(only=[MPS], conf=conf)
        self.assertEqual(code, 2)
        ev = self.one(report, MPS, "MPS_PUBLIC_NO_ADDRESS", "FAIL")
        self.assertEqual(ev["public_dns"], "A -> NXDOMAIN from 198.51.100.10")
        self.assertEqual(ev["mps"], "mps.%s" % DOMAIN)
        # The clients' DNS has it and the MPS's TLS side is fine: that part still passes.
        self.assertEqual(by_code(report, MPS, "MPS_NO_ADDRESS"), [])
        self.assertEqual(self.one(report, MPS, "MPS_OK", "PASS")["dns"], "A 192.0.2.31 from 192.0.2.1")
        self.assertEqual(check_status(report, MPS), "FAIL")

    def test_mps_down_is_refused(self):
        with self.lab.fault("mps-down"):
            code, report = self.lab.run_preflight(only=[MPS, SITE])
        self.assertEqual(code, 2)
        ev = self.one(report, MPS, "MPS_REFUSED", "FAIL")
        self.assertEqual(ev["address"], "192.0.2.31:4433")
        self.assertIn("refused", ev["error"].lower())
        self.assertEqual(by_code(report, MPS, "MPS_OK"), [])
        ev = self.one(report, SITE, "SITE_SERVICE_DOWN", "INFO")
        self.assertEqual((ev["service"], ev["instances"]), ("MPS (CIRA)", "mps." + DOMAIN))
        self.assertNotIn("answering", ev)

    def test_home_domain_matching_option15_warns(self):
        conf = self.set_key("cira", "home_domains", "example.test")
        code, report = self.lab.run_preflight(only=["dhcp.options", MPS], conf=conf)
        ev = self.one(report, MPS, "MPS_HOME_DOMAIN_MATCH", "WARN")
        self.assertEqual(ev["option15"], DOMAIN)
        self.assertEqual(ev["home_domain"], "example.test")
        self.assertEqual(check_status(report, MPS), "WARN")

    def test_option15_outside_home_domains_passes(self):
        code, report = self.lab.run_preflight(only=["dhcp.options", MPS])
        ev = self.one(report, MPS, "MPS_HOME_DOMAIN_OK", "PASS")
        self.assertEqual(ev["option15"], DOMAIN)
        self.assertEqual(ev["home_domains"], "hq.example.test")

    def test_root_unknown_to_amt_is_info(self):
        # Without the device list, the lab root is in no AMT list: the management server must install it.
        def edit(text):
            return re.sub(r"(?m)^device_hashes = .*\n", "", text)
        conf = self.write_conf(edit)
        _, report = self.lab.run_preflight(only=[MPS], conf=conf)
        ev = self.one(report, MPS, "MPS_ROOT_NOT_IN_AMT", "INFO")
        self.assertEqual(ev["root"], "CN=Lab Root CA,O=Lab Corp")
        der = subprocess.run(["openssl", "x509", "-outform", "DER", "-in", self.lab.path("pki", "root.crt")],
                             capture_output=True, check=True).stdout
        self.assertEqual(ev["root_sha256"], hashlib.sha256(der).hexdigest())
        self.assertEqual(self.one(report, MPS, "MPS_OK", "PASS")["root"],
                         "CN=Lab Root CA,O=Lab Corp (to be installed by the management server)")


class AmtTlsRedirection(Base):
    def test_redirection_port_is_probed_when_asked(self):
        conf = self.write_conf(lambda t: t.replace("\n[amt]\n", "\n[amt]\ntls_redirection = yes\n"))
        code, report = self.lab.run_preflight(only=["amt.tls"], conf=conf)
        self.assertEqual(code, 0, findings(report, "amt.tls"))
        ok = by_code(report, "amt.tls", "TLS_OK")
        self.assertEqual(sorted(f["evidence"]["port"] for f in ok), ["16993", "16995"])
        for f in ok:
            self.assertEqual(f["evidence"]["host_1"], "amt1.%s -> 192.0.2.21:%s" % (DOMAIN, f["evidence"]["port"]))
