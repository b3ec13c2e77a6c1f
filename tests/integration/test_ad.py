"""ad.ldap and ca.* against the lab's Samba AD DC loaded with Microsoft-CA objects.

Healthy lab: no FAIL in the AD/CA family, and PASS findings that say what was
verified. Faults: template-pend, template-unpublished, stale-ca, crl-expired, dc-down
and bad-bind-password each come out with their code, the object's DN and the
attribute's value as evidence. The bind password never appears in a report.
"""

import json
import os
import re
import tempfile
import unittest

from labtest import LabTestCase, check_status, findings

AD_CHECKS = ["ad.ldap", "ca.enterprise", "ca.template", "ca.revocation"]
BASE = "DC=corp,DC=example,DC=test"
PKS = "CN=Public Key Services,CN=Services,CN=Configuration," + BASE
WEB_DN = "CN=AMTWebServer,CN=Certificate Templates," + PKS
PROV_DN = "CN=AMTProvisioning,CN=Certificate Templates," + PKS
ES_DN = "CN=CORP-Issuing-CA,CN=Enrollment Services," + PKS
STALE_DN = "CN=OLD-Issuing-CA,CN=Enrollment Services," + PKS


def by_code(report, check_id, code):
    return [f for f in findings(report, check_id) if f["code"] == code]


def statuses(report, check_id):
    return [f["status"].upper() for f in findings(report, check_id)]


class AdLabCase(LabTestCase):
    FAULTS = ("template-pend", "template-unpublished", "stale-ca", "crl-expired", "bad-bind-password", "dc-down")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # dc-down first: the template faults need the DC to revert
        for name in ("dc-down",) + cls.FAULTS:
            cls.lab.revert(name)

    def setUp(self):
        self.require_binary()

    def secret(self, name):
        with open(self.lab.path("secrets", name)) as f:
            return f.read().strip()

    def assert_no_secret(self, report, secret):
        self.assertTrue(len(secret) >= 6)
        self.assertNotIn(secret, json.dumps(report))
        self.assertNotIn(secret, self.lab.last_run.stdout + self.lab.last_run.stderr)

    def write_conf(self, edit):
        """A copy of lab.conf with `edit(text) -> text` applied; removed at cleanup."""
        with open(self.lab.conf) as f:
            text = edit(f.read())
        fd, path = tempfile.mkstemp(prefix="ad-", suffix=".conf", dir=self.lab.dir)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path


class AdHealthy(AdLabCase):
    def test_healthy_lab_has_no_fail(self):
        code, report = self.lab.run_preflight(only=AD_CHECKS)
        for cid in AD_CHECKS:
            self.assertNotIn("FAIL", statuses(report, cid), (cid, findings(report, cid)))
        self.assertNotEqual(code, 2)

        root = by_code(report, "ad.ldap", "AD_ROOTDSE_OK")[0]["evidence"]
        self.assertEqual(root["defaultNamingContext"], BASE)
        self.assertEqual(root["configurationNamingContext"], "CN=Configuration," + BASE)
        self.assertEqual(root["dnsHostName"].lower(), "dc1.corp.example.test")
        self.assertIn("3", root["supportedLDAPVersion"])
        self.assertEqual(len(by_code(report, "ad.ldap", "AD_CLOCK_OK")), 1)
        tls = by_code(report, "ad.ldap", "AD_TLS_OK")
        self.assertEqual(sorted(t["evidence"]["mode"] for t in tls), ["LDAPS", "StartTLS"])
        for t in tls:
            self.assertIn("CN=DC1.corp.example.test", t["evidence"]["subject"])
            self.assertRegex(t["evidence"]["sha1"], r"^[0-9a-f]{40}$")
        bind = by_code(report, "ad.ldap", "AD_BIND_OK")[0]["evidence"]
        self.assertEqual(bind["bind_dn"], "amtcheck@corp.example.test")
        self.assertEqual(bind["method"], "simple over StartTLS")
        # one DC in the lab: the redundancy warning is expected
        self.assertEqual(by_code(report, "ad.ldap", "AD_TOO_FEW_DCS")[0]["status"].upper(), "WARN")

        ca = by_code(report, "ca.enterprise", "CA_ENTERPRISE_CA_OK")[0]["evidence"]
        self.assertEqual(ca["dn"], ES_DN)
        self.assertIn("CN=CORP-Issuing-CA", ca["subject"])
        self.assertEqual(len(by_code(report, "ca.enterprise", "CA_IN_NTAUTH")), 1)
        # nothing listens on 135 in the lab: a warning that names the port, not a FAIL
        rpc = by_code(report, "ca.enterprise", "CA_RPC_UNREACHABLE")[0]
        self.assertEqual(rpc["status"].upper(), "WARN")
        self.assertEqual(rpc["evidence"]["dNSHostName"], "ca1.corp.example.test")

        oks = by_code(report, "ca.template", "CA_TEMPLATE_OK")
        ok = {f["evidence"]["template_dn"] for f in oks}
        self.assertEqual(ok, {WEB_DN, PROV_DN})
        # a template PASS names what LDAP could not see: the CA's policy module
        for f in oks:
            self.assertIn("RequestDisposition", f["evidence"]["not_verified_ca_policy_module"])
        self.assertEqual(check_status(report, "ca.template").upper(), "PASS")

        crls = {f["evidence"]["url"] for f in by_code(report, "ca.revocation", "CA_CRL_OK")}
        self.assertEqual(crls, {"http://192.0.2.1:8080/root.crl", "http://192.0.2.1:8080/issuing.crl"})
        ocsp = by_code(report, "ca.revocation", "CA_OCSP_OK")[0]["evidence"]
        self.assertEqual(ocsp["state"], "good")
        self.assertIn("ProvisionServer.corp.example.test", ocsp["certificate"])

        self.assert_no_secret(report, self.secret("bind.pw"))

    def test_dcs_found_through_srv(self):
        conf = self.write_conf(lambda t: re.sub(r"(?m)^domain_controllers = .*\n", "", t))
        _, report = self.lab.run_preflight(only=["ad.ldap"], conf=conf)
        ports = by_code(report, "ad.ldap", "AD_PORTS_OPEN")[0]["evidence"]
        self.assertEqual(ports["source"], "SRV _ldap._tcp.dc._msdcs.corp.example.test @192.0.2.1")
        self.assertEqual(ports["address"], "198.51.100.10")
        self.assertEqual(len(by_code(report, "ad.ldap", "AD_BIND_OK")), 1)

    def test_untrusted_dc_certificate_gets_no_password(self):
        conf = self.write_conf(lambda t: re.sub(r"(?m)^ca_bundle = .*$",
                                                "ca_bundle = " + self.lab.path("pki", "root.crt"), t))
        _, report = self.lab.run_preflight(only=["ad.ldap"], conf=conf)
        unverified = by_code(report, "ad.ldap", "AD_TLS_UNVERIFIED")
        self.assertEqual(len(unverified), 2)
        self.assertIn("issuer", unverified[0]["evidence"]["verify_result"])
        self.assertEqual(by_code(report, "ad.ldap", "AD_BIND_NOT_ATTEMPTED")[0]["status"].upper(), "ERROR")
        self.assertEqual(by_code(report, "ad.ldap", "AD_BIND_OK"), [])


    def test_dc_certificate_name_is_checked(self):
        # ca1 resolves to the DC's address, but the DC certificate names DC1 only:
        # connecting by address must not hide the mismatch
        conf = self.write_conf(lambda t: re.sub(r"(?m)^domain_controllers = .*$",
                                                "domain_controllers = ca1.corp.example.test", t))
        _, report = self.lab.run_preflight(only=["ad.ldap"], conf=conf)
        unverified = by_code(report, "ad.ldap", "AD_TLS_UNVERIFIED")
        self.assertEqual(len(unverified), 2, findings(report, "ad.ldap"))
        for f in unverified:
            self.assertEqual(f["evidence"]["expected_name"], "ca1.corp.example.test")
            self.assertIn("hostname mismatch", f["evidence"]["verify_result"])
        self.assertEqual(by_code(report, "ad.ldap", "AD_BIND_OK"), [])

    def test_tls_none_binds_in_clear_with_warning(self):
        conf = self.write_conf(lambda t: t.replace("[ad]\n", "[ad]\ntls = none\n", 1))
        _, report = self.lab.run_preflight(only=["ad.ldap"], conf=conf)
        self.assertEqual(by_code(report, "ad.ldap", "AD_BIND_OK")[0]["evidence"]["method"], "simple over plain LDAP")
        self.assertEqual(by_code(report, "ad.ldap", "AD_BIND_CLEARTEXT")[0]["status"].upper(), "WARN")
        self.assert_no_secret(report, self.secret("bind.pw"))


class AdFaults(AdLabCase):
    def test_template_pend(self):
        with self.lab.fault("template-pend"):
            code, report = self.lab.run_preflight(only=AD_CHECKS)
        f = by_code(report, "ca.template", "CA_TEMPLATE_PEND_ALL")
        self.assertEqual(len(f), 1, findings(report, "ca.template"))
        self.assertEqual(f[0]["status"].upper(), "FAIL")
        ev = f[0]["evidence"]
        self.assertEqual(ev["template_dn"], WEB_DN)
        self.assertEqual(ev["attribute"], "msPKI-Enrollment-Flag")
        self.assertEqual(ev["value"], "2")
        self.assertIn("PEND_ALL_REQUESTS", ev["decoded"])
        self.assertIn("Follow the settings in the certificate template", f[0]["remediation"])
        self.assertEqual(code, 2)

    def test_template_unpublished(self):
        with self.lab.fault("template-unpublished"):
            _, report = self.lab.run_preflight(only=["ad.ldap", "ca.template", "ca.enterprise"])
        f = by_code(report, "ca.template", "CA_TEMPLATE_UNPUBLISHED")
        self.assertEqual(len(f), 1)
        self.assertEqual(f[0]["status"].upper(), "FAIL")
        self.assertEqual(f[0]["evidence"]["template_dn"], WEB_DN)
        self.assertIn(ES_DN, f[0]["evidence"]["enrollment_service"])
        self.assertNotIn("AMTWebServer", f[0]["evidence"]["enrollment_service"].split("publishes:")[1])
        # AMTProvisioning is still offered, so the CA as a whole is not "useless"
        self.assertEqual(by_code(report, "ca.enterprise", "CA_TEMPLATES_NOT_OFFERED"), [])

    def test_stale_ca_does_not_decide(self):
        # A decommissioned CA's object (expired certificate, host with no record) that
        # publishes no AMT template cannot issue AMT certificates: INFO, nothing more.
        with self.lab.fault("stale-ca"):
            _, report = self.lab.run_preflight(only=["ad.ldap", "ca.enterprise", "ca.revocation"])
        f = by_code(report, "ca.enterprise", "CA_OFFERS_NO_AMT_TEMPLATE")
        self.assertEqual(len(f), 1, findings(report, "ca.enterprise"))
        self.assertEqual(f[0]["status"].upper(), "INFO")
        self.assertEqual(f[0]["evidence"]["dn"], STALE_DN)
        self.assertEqual(f[0]["evidence"]["certificateTemplates"], "WebServer")
        for code in ("CA_HOST_UNRESOLVED", "CA_CERT_EXPIRED"):
            self.assertEqual(by_code(report, "ca.enterprise", code), [], code)
        # the CA that issues the AMT certificates is still checked
        self.assertEqual(by_code(report, "ca.enterprise", "CA_ENTERPRISE_CA_OK")[0]["evidence"]["dn"], ES_DN)
        self.assertEqual(check_status(report, "ca.enterprise").upper(), "WARN")  # RPC 135, as when healthy
        # nor does ca.revocation take the stale CA's certificate for one to check, or for
        # the issuer that verifies the OCSP answer (the expired twin made it unusable)
        self.assertEqual(check_status(report, "ca.revocation").upper(), "PASS", findings(report, "ca.revocation"))
        sources = [x["evidence"].get("source", "") for x in findings(report, "ca.revocation")]
        self.assertTrue(any(ES_DN in src for src in sources), sources)
        self.assertFalse(any("OLD-Issuing-CA" in src for src in sources), sources)

    def test_without_templates_no_ca_is_required(self):
        # Nothing says the site requests AMT certificates from a Microsoft CA (host-based
        # servers issue their own): ca.enterprise does not run, and with no provisioning
        # certificate either, ca.revocation has nothing of AMT's to check.
        conf = self.write_conf(lambda t: re.sub(r"(?m)^(templates|certificate) = .*\n", "", t))
        with self.lab.fault("stale-ca"):
            _, report = self.lab.run_preflight(only=["ad.ldap", "ca.enterprise", "ca.revocation"], conf=conf)
        f = by_code(report, "ca.enterprise", "CHECK_MISSING_CONFIG")
        self.assertEqual(len(f), 1, findings(report, "ca.enterprise"))
        self.assertEqual(f[0]["evidence"]["missing_key"], "ca.templates")
        self.assertEqual([x["code"] for x in findings(report, "ca.revocation")], ["CHECK_SKIPPED"])
        self.assertEqual(check_status(report, "ca.revocation").upper(), "SKIP")

    def test_without_templates_revocation_does_not_need_ad(self):
        # With the provisioning certificate and no [ca] templates, ca.revocation judges the
        # chain alone: AD is not read, so a DC that refuses the bind cannot make it ERROR.
        conf = self.write_conf(lambda t: re.sub(r"(?m)^templates = .*\n", "", t).replace(
            "secrets/bind.pw", "secrets/bind-wrong.pw"))
        _, report = self.lab.run_preflight(only=["ca.revocation"], conf=conf)
        self.assertEqual(check_status(report, "ca.revocation").upper(), "PASS", findings(report, "ca.revocation"))
        sources = {x["evidence"].get("source", "") for x in findings(report, "ca.revocation")}
        self.assertIn("provisioning certificate", sources)
        self.assertFalse([src for src in sources if src.startswith("AD ")], sources)

    def test_crl_expired(self):
        with self.lab.fault("crl-expired"):
            _, report = self.lab.run_preflight(only=["ca.revocation"])
        f = by_code(report, "ca.revocation", "CA_CRL_EXPIRED")
        self.assertEqual(len(f), 1, findings(report, "ca.revocation"))
        ev = f[0]["evidence"]
        self.assertEqual(ev["url"], "http://192.0.2.1:8080/issuing.crl")
        self.assertTrue(ev["next_update"].startswith("2024-01-02"))
        self.assertIn("CORP-Issuing-CA", ev["issuer"])
        self.assertEqual(check_status(report, "ca.revocation").upper(), "FAIL")

    def test_dc_down(self):
        with self.lab.fault("dc-down"):
            code, report = self.lab.run_preflight(only=AD_CHECKS)
        f = by_code(report, "ad.ldap", "AD_DC_UNREACHABLE")
        self.assertEqual(len(f), 1, findings(report, "ad.ldap"))
        self.assertEqual(f[0]["status"].upper(), "ERROR")
        self.assertEqual(f[0]["evidence"]["address"], "198.51.100.10")
        self.assertEqual(f[0]["evidence"]["port"], "389")
        self.assertEqual(check_status(report, "ca.template").upper(), "SKIP")
        self.assertEqual(check_status(report, "ca.enterprise").upper(), "SKIP")
        self.assertNotIn("FAIL", statuses(report, "ad.ldap"))
        self.assertEqual(code, 3)

    def test_bad_bind_password(self):
        with self.lab.fault("bad-bind-password"):
            _, report = self.lab.run_preflight(only=AD_CHECKS)
            wrong = self.secret("bind-wrong.pw")
        f = by_code(report, "ad.ldap", "AD_BIND_FAILED")
        self.assertEqual(len(f), 1)
        self.assertEqual(f[0]["status"].upper(), "ERROR")
        ev = f[0]["evidence"]
        self.assertTrue(ev["ldap_result"].startswith("49 "))
        self.assertTrue(ev["ad_data"].startswith("52e "), ev)
        self.assertIn("password", ev["ad_data"])
        self.assertEqual(check_status(report, "ca.template").upper(), "SKIP")
        self.assert_no_secret(report, wrong)
        self.assert_no_secret(report, self.secret("bind.pw"))


if __name__ == "__main__":
    unittest.main()
