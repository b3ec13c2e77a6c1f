"""ca.enroll-permission and ca.test-enrollment against the lab.

Enroll permission is evaluated on real Samba ACLs set with samba-tool dsacl
(tests/lab/enroll.sh): SCS01$ granted directly, scsuser through a nested group
(AMT-Provisioners in AMT-Enrollers), scsdenied by a Deny ACE on AMTWebServer,
scsnone not at all, and SCS01$ again after the enroll-missing fault took its
grant away. The test enrollment goes to the AD CS web enrollment stand-in
(tests/lab/certsrv.py), switched to issue, pend or deny by the ca-pending and
ca-denied faults, and to a closed port for "unreachable".
"""

import json
import os
import re
import subprocess

from labtest import LabTestCase, check_status, findings

ENROLL_GUID = "0e10c968-78fb-11d2-90d4-00c04f79dc55"


def by_code(report, check_id, code):
    return [f for f in findings(report, check_id) if f["code"] == code]


class CaLabCase(LabTestCase):
    FAULTS = ("ca-pending", "ca-denied", "enroll-missing")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab.revert("dc-down")
        for name in cls.FAULTS:
            cls.lab.revert(name)

    def setUp(self):
        self.require_binary()

    def conf(self, **ca):
        """lab.conf with [ca] keys replaced (value None removes the key); removed at cleanup."""
        def edit(text):
            for key, value in ca.items():
                line = "" if value is None else "%s = %s\n" % (key, value)
                text, n = re.subn(r"(?m)^%s = .*\n" % key, lambda m: line, text)
                if not n:
                    text = text.replace("[ca]\n", "[ca]\n" + line)
            return text
        return self.lab_conf_copy(edit)

    def perm(self, accounts):
        rc, report = self.lab.run_preflight(only=["ca.enroll-permission"], conf=self.conf(enroll_accounts=accounts))
        return rc, report

    def one(self, report, check_id, code, template=None, account=None):
        got = [f for f in by_code(report, check_id, code)
               if (template is None or f["evidence"].get("template") == template)
               and (account is None or f["evidence"].get("account") == account)]
        self.assertEqual(len(got), 1, json.dumps(findings(report, check_id), indent=1))
        return got[0]


class EnrollPermission(CaLabCase):
    def test_granted_directly(self):
        rc, report = self.perm("SCS01$")
        self.assertEqual(check_status(report, "ca.enroll-permission"), "PASS")
        for t in ("AMTWebServer", "AMTProvisioning"):
            f = self.one(report, "ca.enroll-permission", "CA_ENROLL_ALLOWED", t)
            ev = f["evidence"]
            self.assertEqual(f["status"].upper(), "PASS")
            self.assertIn("(SCS01$)", ev["ace_trustee"])
            self.assertEqual(ev["ace_trustee"].split()[0], ev["account_sid"])
            self.assertIn("allow-object", ev["ace"])
            self.assertTrue(ev["ace_object_type"].startswith(ENROLL_GUID))
            self.assertIn("Domain Computers", ev["token"])

    def test_granted_through_nested_group(self):
        rc, report = self.perm("CORP\\scsuser")
        self.assertEqual(check_status(report, "ca.enroll-permission"), "PASS")
        f = self.one(report, "ca.enroll-permission", "CA_ENROLL_ALLOWED", "AMTWebServer")
        ev = f["evidence"]
        # granted to AMT-Enrollers; scsuser is in it only through AMT-Provisioners
        self.assertIn("(AMT-Enrollers)", ev["ace_trustee"])
        self.assertIn("(AMT-Provisioners)", ev["token"])
        self.assertTrue(ev["token_groups"].startswith("read: "))

    def test_denied_by_deny_ace(self):
        rc, report = self.perm("scsdenied")
        self.assertEqual(rc, 2)
        self.assertEqual(check_status(report, "ca.enroll-permission"), "FAIL")
        f = self.one(report, "ca.enroll-permission", "CA_ENROLL_DENIED", "AMTWebServer")
        self.assertIn("deny-object", f["evidence"]["ace"])
        self.assertIn("(scsdenied)", f["evidence"]["ace_trustee"])
        # the same account still enrolls for AMTProvisioning through AMT-Enrollers
        f = self.one(report, "ca.enroll-permission", "CA_ENROLL_ALLOWED", "AMTProvisioning")
        self.assertIn("(AMT-Enrollers)", f["evidence"]["ace_trustee"])

    def test_not_granted(self):
        rc, report = self.perm("scsnone@corp.example.test")
        self.assertEqual(rc, 2)
        for t in ("AMTWebServer", "AMTProvisioning"):
            f = self.one(report, "ca.enroll-permission", "CA_ENROLL_NOT_GRANTED", t)
            self.assertEqual(f["status"].upper(), "FAIL")
            self.assertTrue(f["evidence"]["ace"].startswith("none of the"))
            self.assertIn("AMT-Enrollers", f["evidence"]["enroll_granted_to"].split(", "))
            self.assertIn("scsnone", f["evidence"]["account_dn"])

    def test_account_missing(self):
        rc, report = self.perm("SCS99$")
        f = self.one(report, "ca.enroll-permission", "CA_ENROLL_ACCOUNT_MISSING")
        self.assertEqual(f["status"].upper(), "FAIL")
        self.assertEqual(f["evidence"]["account"], "SCS99$")

    def test_enroll_missing_fault(self):
        with self.lab.fault("enroll-missing"):
            rc, report = self.lab.run_preflight(only=["ca.enroll-permission"])
            self.assertEqual(rc, 2)
            self.one(report, "ca.enroll-permission", "CA_ENROLL_NOT_GRANTED", "AMTWebServer")
            self.one(report, "ca.enroll-permission", "CA_ENROLL_ALLOWED", "AMTProvisioning", "SCS01$")
            self.one(report, "ca.enroll-permission", "CA_ENROLL_ALLOWED", "AMTWebServer", "CORP\\scsuser")
        rc, report = self.lab.run_preflight(only=["ca.enroll-permission"])
        self.assertEqual(check_status(report, "ca.enroll-permission"), "PASS")

    def test_dc_down_is_error(self):
        with self.lab.fault("dc-down"):
            rc, report = self.lab.run_preflight(only=["ca.enroll-permission"])
            self.assertEqual(check_status(report, "ca.enroll-permission"), "ERROR")
            self.one(report, "ca.enroll-permission", "CA_ENROLL_AD_UNAVAILABLE")


class TestEnrollment(CaLabCase):
    ONLY = ["ca.test-enrollment"]

    def secret(self):
        with open(self.lab.path("secrets", "enroll.pw")) as f:
            return f.read().strip()

    def assert_no_secret(self, report):
        pw = self.secret()
        self.assertNotIn(pw, json.dumps(report))
        self.assertNotIn(pw, self.lab.last_run.stdout + self.lab.last_run.stderr)

    def test_issued(self):
        rc, report = self.lab.run_preflight(only=self.ONLY)
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_ISSUED")
        ev = f["evidence"]
        self.assertEqual(f["status"].upper(), "PASS")
        self.assertEqual(ev["subject"], "CN=amt-preflight-test.corp.example.test")
        self.assertEqual(ev["san_dns"], "amt-preflight-test.corp.example.test")
        self.assertEqual(check_status(report, "ca.test-enrollment"), "PASS")
        self.assertIn("CN=CORP-Issuing-CA", ev["issuer"])
        # the serial is the one the stand-in's openssl ca really issued for that request ID
        pem = self.lab.path("pki", "certsrv", "%s.pem" % ev["request_id"])
        out = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-serial"], capture_output=True, text=True)
        self.assertEqual(out.stdout.strip().split("=")[1].lower(), ev["serial"])
        self.assertIn("certutil -revoke %s" % ev["serial"], f["remediation"])
        self.assertIn("CertificateTemplate:AMTWebServer", ev["sent"])
        # the host was resolved through the lab's BIND, not the host resolver
        self.assertEqual(ev["address"], "192.0.2.32 from DNS server 192.0.2.1")
        self.assert_no_secret(report)

    def test_pending(self):
        with self.lab.fault("ca-pending"):
            rc, report = self.lab.run_preflight(only=self.ONLY)
        self.assertEqual(rc, 2)
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_PENDING")
        self.assertEqual(f["status"].upper(), "FAIL")
        self.assertTrue(f["evidence"]["request_id"].isdigit())
        self.assertIn("Otherwise, automatically issue the certificate", f["remediation"])

    def test_denied(self):
        with self.lab.fault("ca-denied"):
            rc, report = self.lab.run_preflight(only=self.ONLY)
        self.assertEqual(rc, 2)
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_DENIED")
        self.assertIn("0x80094012", f["evidence"]["disposition_message"])

    def test_unpublished_template_denied(self):
        rc, report = self.lab.run_preflight(only=self.ONLY, conf=self.conf(test_template="NoSuchTemplate"))
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_DENIED")
        self.assertIn("0x80094800", f["evidence"]["disposition_message"])

    def test_unreachable(self):
        conf = self.conf(web_enrollment_url="https://webenroll.corp.example.test:8443/certsrv/")
        rc, report = self.lab.run_preflight(only=self.ONLY, conf=conf)
        self.assertEqual(check_status(report, "ca.test-enrollment"), "ERROR")
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_UNREACHABLE")
        self.assertIn(":8443/", f["evidence"]["url"])

    def test_unresolvable_name(self):
        conf = self.conf(web_enrollment_url="https://nosuch.corp.example.test/certsrv/")
        rc, report = self.lab.run_preflight(only=self.ONLY, conf=conf)
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_UNREACHABLE")
        self.assertEqual(f["status"].upper(), "ERROR")
        self.assertEqual(f["evidence"]["name"], "nosuch.corp.example.test")

    def test_untrusted_certificate_is_unreachable(self):
        rc, report = self.lab.run_preflight(only=self.ONLY, conf=self.conf(web_ca_bundle=None))
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_UNREACHABLE")
        self.assertIn("certificate", f["evidence"]["error"].lower())

    def test_wrong_password(self):
        conf = self.conf(enroll_password_file=self.lab.path("secrets", "bind-wrong.pw"))
        rc, report = self.lab.run_preflight(only=self.ONLY, conf=conf)
        self.assertEqual(check_status(report, "ca.test-enrollment"), "ERROR")
        f = self.one(report, "ca.test-enrollment", "CA_TEST_ENROLL_AUTH_FAILED")
        self.assertEqual(f["evidence"]["http_status"], "401")
        self.assert_no_secret(report)

    def test_not_run_unless_enabled(self):
        path = self.lab_conf_copy(lambda text: text.replace("enable = ca.test-enrollment\n", ""))
        before = len(os.listdir(self.lab.path("pki", "certsrv")))
        # the whole "ca" area is selected, but the intrusive check is not named
        rc, report = self.lab.run_preflight(conf=path, only=["ca"])
        self.assertEqual(check_status(report, "ca.test-enrollment"), "SKIP")
        self.assertEqual([f["code"] for f in findings(report, "ca.test-enrollment")], ["CHECK_OPT_IN"])
        self.assertEqual(check_status(report, "ca.enroll-permission"), "PASS")
        self.assertEqual(len(os.listdir(self.lab.path("pki", "certsrv"))), before)
