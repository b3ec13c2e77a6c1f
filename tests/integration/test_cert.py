"""cert.* checks against the lab's PKI: the healthy chain gets no FAIL, and the
pfx-expired-int / pfx-nochain faults are named by code with the offending
certificate identified as openssl itself reports it."""

import subprocess
import unittest

from labtest import LabTestCase, check_status, findings


def openssl_field(path, *opt):
    """`openssl x509 -noout OPT -in PATH` after the '=', colons removed, as our evidence spells it."""
    p = subprocess.run(["openssl", "x509", "-noout"] + list(opt) + ["-in", path],
                       capture_output=True, text=True, check=True)
    return p.stdout.strip().split("=", 1)[1].replace(":", "")


def by_code(report, check_id, code):
    return [f for f in findings(report, check_id) if f["code"] == code]


class CertProvisioning(LabTestCase):
    def run_check(self, *ids):
        self.require_binary()
        return self.lab.run_preflight(only=list(ids) or ["cert.provisioning"])

    def test_healthy_chain_has_no_fail(self):
        rc, report = self.run_check()
        fs = findings(report, "cert.provisioning")
        self.assertEqual([f["code"] for f in fs if f["status"] == "FAIL"], [], fs)
        self.assertIn(check_status(report, "cert.provisioning"), ("PASS", "INFO", "WARN"))
        codes = {f["code"]: f for f in fs}
        for code in ("CERT_KEY_OK", "CERT_CHAIN_COMPLETE", "CERT_VALIDITY_OK", "CERT_EKU_OK",
                     "CERT_DOMAIN_MATCH", "CERT_CRYPTO_OK"):
            self.assertIn(code, codes)
            self.assertEqual(codes[code]["status"], "PASS")
        self.assertEqual(codes["CERT_CHAIN_COMPLETE"]["evidence"]["root_sha256"],
                         openssl_field(self.lab.path("pki", "root.crt"), "-fingerprint", "-sha256").lower())
        self.assertEqual(codes["CERT_DOMAIN_MATCH"]["evidence"]["suffix_rule"], "firmware")
        # the lab serves CRLs and OCSP: revocation is checked and good
        self.assertIn("CERT_REVOCATION_OK", codes)
        self.assertNotEqual(rc, 2)

    def test_expired_intermediate(self):
        with self.lab.fault("pfx-expired-int"):
            rc, report = self.run_check()
        self.assertEqual(rc, 2)
        self.assertEqual(check_status(report, "cert.provisioning"), "FAIL")
        fs = by_code(report, "cert.provisioning", "CERT_CHAIN_EXPIRED")
        self.assertEqual(len(fs), 1, findings(report, "cert.provisioning"))
        ev = fs[0]["evidence"]
        pem = self.lab.path("pki", "issuing-expired.pem")
        self.assertEqual(fs[0]["status"], "FAIL")
        self.assertEqual(ev["position"], "chain[1] (intermediate)")
        self.assertIn("CN=CORP-Issuing-CA", ev["subject"])
        self.assertEqual(ev["serial"], openssl_field(pem, "-serial"))
        self.assertEqual(ev["sha1"], openssl_field(pem, "-fingerprint", "-sha1").lower())
        self.assertTrue(ev["not_after"].startswith("2022-01-01"), ev)

    def test_chain_missing(self):
        with self.lab.fault("pfx-nochain"):
            rc, report = self.run_check()
        self.assertEqual(rc, 2)
        fs = by_code(report, "cert.provisioning", "CERT_CHAIN_INCOMPLETE")
        self.assertEqual(len(fs), 1, findings(report, "cert.provisioning"))
        ev = fs[0]["evidence"]
        self.assertIn("CN=CORP-Issuing-CA", ev["missing_issuer"])
        # the leaf's AIA points at the lab's HTTP server, which has the issuer
        self.assertEqual(ev["aia_ca_issuers"], "http://192.0.2.1:8080/issuing.crt")
        self.assertEqual(ev["aia_fetch"], "found the issuer")
        self.assertEqual(ev["aia_sha1"],
                         openssl_field(self.lab.path("pki", "issuing.pem"), "-fingerprint", "-sha1").lower())

    def test_expired_crl_fails_as_in_ca_revocation(self):
        # One mapping (src/revocation.c): an expired CRL is FAIL here as in ca.revocation (CA_CRL_EXPIRED).
        with self.lab.fault("crl-expired"):
            rc, report = self.run_check()
        fs = by_code(report, "cert.provisioning", "CERT_REVOCATION_UNUSABLE")
        self.assertTrue(fs, findings(report, "cert.provisioning"))
        self.assertEqual({f["status"] for f in fs}, {"FAIL"}, fs)
        self.assertIn("expired", {f["evidence"]["state"] for f in fs})
        self.assertEqual(rc, 2)

    def test_root_hash_on_device_list(self):
        rc, report = self.run_check("cert.amt-root-hash")
        f = by_code(report, "cert.amt-root-hash", "ROOT_ON_DEVICES")
        self.assertEqual(len(f), 1, findings(report, "cert.amt-root-hash"))
        self.assertEqual(f[0]["evidence"]["root_sha256"],
                         openssl_field(self.lab.path("pki", "root.crt"), "-fingerprint", "-sha256").lower())
        self.assertEqual(check_status(report, "cert.amt-root-hash"), "INFO")  # private root, carried by devices

    def test_intermediate_store_expired_twin(self):
        rc, report = self.run_check("cert.intermediate-store")
        fs = findings(report, "cert.intermediate-store")
        twin = [f for f in fs if f["code"] == "STORE_EXPIRED_TWIN"]
        self.assertEqual(len(twin), 1, fs)
        self.assertEqual(twin[0]["evidence"]["serial"],
                         openssl_field(self.lab.path("pki", "issuing-expired.pem"), "-serial"))
        self.assertIn("leaf", twin[0]["evidence"]["issues"])
        self.assertNotIn("FAIL", [f["status"] for f in fs])


if __name__ == "__main__":
    unittest.main()
