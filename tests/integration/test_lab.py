"""Lab-level tests: the lab's servers answer as the checks expect, each fault knob
changes what it should and its revert restores it, and teardown leaves nothing.

These tests use the lab's own tools (dig, ldapsearch, curl, openssl, udhcpc) run
inside the client namespace, never amt-preflight itself.
"""

import base64
import configparser
import datetime
import hashlib
import json
import os
import random
import string
import subprocess
import time
import unittest

from labtest import FAULTS, LAB_SCRIPTS, Lab, LabTestCase, namespaces

DOMAIN = "corp.example.test"
PKS = "CN=Public Key Services,CN=Services,CN=Configuration,DC=corp,DC=example,DC=test"
TEMPLATE_DN = "CN=AMTWebServer,CN=Certificate Templates," + PKS
ENROLL_DN = "CN=CORP-Issuing-CA,CN=Enrollment Services," + PKS
UDHCPC_HOOK = os.path.join(LAB_SCRIPTS, "udhcpc-hook.sh")
DHCP_INFORM = os.path.join(LAB_SCRIPTS, "dhcp-inform.py")


class LabMixin:
    def dig(self, *args):
        p = self.lab.cli(["dig", "+short", "+time=2", "+tries=2", "@192.0.2.1"] + list(args))
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.split()

    def ldap(self, base, *attrs, scope="base", filt="(objectClass=*)", password_file=None):
        """ldapsearch as amtcheck from the client netns; returns (rc, {attr: [values]})."""
        p = self.lab.cli(["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=3",
                          "-H", "ldap://198.51.100.10", "-D", "amtcheck@" + DOMAIN,
                          "-y", password_file or self.lab.path("secrets", "bind.pw"),
                          "-b", base, "-s", scope, filt] + list(attrs))
        values = {}
        for line in p.stdout.splitlines():
            if ": " in line and not line.startswith("dn:"):
                k, v = line.split(": ", 1)
                values.setdefault(k.rstrip(":"), []).append(v)
        return p.returncode, values

    def dhcp_lease(self, hostname):
        """DORA from the client netns with option 81 (udhcpc -F); returns the hook's lease line."""
        p = self.lab.cli(["udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1", "-i", self.lab.prefix + "v1",
                          "-s", UDHCPC_HOOK, "-F", hostname])
        self.assertEqual(p.returncode, 0, p.stderr)
        lease = [l for l in p.stdout.splitlines() if l.startswith("lease ")]
        self.assertTrue(lease, p.stdout + p.stderr)
        return dict(kv.split("=", 1) for kv in lease[-1].split()[1:])

    def dhcp_inform(self):
        """DHCPINFORM from 192.0.2.2:68 (what amt-preflight's inform mode does); returns the options."""
        p = self.lab.cli(["python3", DHCP_INFORM, self.lab.prefix + "v1", "192.0.2.2", "192.0.2.1"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        reply = json.loads(p.stdout)
        self.assertEqual(reply["type"], 5)  # DHCPACK
        return reply["options"]

    def wait_for(self, fn, timeout=3.0):
        end = time.time() + timeout
        while True:
            v = fn()
            if v or time.time() > end:
                return v
            time.sleep(0.1)

    def tls_verify(self, addr, port, name):
        p = self.lab.cli(["timeout", "10", "openssl", "s_client", "-connect", "%s:%d" % (addr, port),
                          "-servername", name, "-verify_hostname", name,
                          "-CAfile", self.lab.path("pki", "root.crt")], input="")
        for line in p.stdout.splitlines():
            if "Verify return code:" in line:
                return int(line.split(":")[1].split()[0])
        self.fail("no TLS handshake with %s:%d: %s" % (addr, port, p.stderr[-500:]))

    def crl_next_update(self):
        """nextUpdate of the issuing CRL as served over HTTP, as a UTC datetime."""
        p = subprocess.run("ip netns exec %s curl -sf http://192.0.2.1:8080/issuing.crl | "
                           "openssl crl -inform DER -noout -nextupdate" % self.lab.ns_cli, shell=True,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        when = p.stdout.strip().split("=", 1)[1]
        return datetime.datetime.strptime(when, "%b %d %H:%M:%S %Y GMT")


class TestServers(LabMixin, LabTestCase):
    def test_provisionserver_resolves(self):
        self.assertEqual(self.dig("ProvisionServer." + DOMAIN, "A"), ["192.0.2.10"])
        # glibc in the client netns uses the lab's BIND through /etc/netns/<ns>/resolv.conf
        p = self.lab.cli(["getent", "hosts", "ProvisionServer." + DOMAIN])
        self.assertIn("192.0.2.10", p.stdout)

    def test_reverse_records(self):
        self.assertEqual(self.dig("-x", "192.0.2.10"), ["ProvisionServer.%s." % DOMAIN])
        self.assertEqual(self.dig("-x", "198.51.100.10"), ["dc1.%s." % DOMAIN])
        for n in (1, 2, 3):
            self.assertEqual(self.dig("amt%d.%s" % (n, DOMAIN)), ["192.0.2.2%d" % n])
            self.assertEqual(self.dig("-x", "192.0.2.2%d" % n), ["amt%d.%s." % (n, DOMAIN)])

    def test_ad_srv_records(self):
        for name, port in (("_ldap._tcp.dc._msdcs", 389), ("_ldap._tcp", 389), ("_kerberos._tcp", 88),
                           ("_kerberos._udp", 88), ("_gc._tcp", 3268), ("_kpasswd._tcp", 464)):
            self.assertEqual(self.dig("%s.%s" % (name, DOMAIN), "SRV"),
                             ["0", "100", str(port), "dc1.%s." % DOMAIN], name)
        self.assertEqual(self.dig("ca1." + DOMAIN), ["198.51.100.10"])

    def test_unsigned_update_refused(self):
        p = self.lab.cli(["nsupdate"], input="server 192.0.2.1\nzone %s\nupdate add evil.%s 60 A 192.0.2.66\n"
                         "send\n" % (DOMAIN, DOMAIN))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("REFUSED", p.stdout + p.stderr)

    def test_dhcp_lease_registers_name(self):
        name = "lab-t%d" % random.randrange(10**6)
        lease = self.dhcp_lease(name)
        self.assertEqual(lease["domain"], DOMAIN)
        self.assertEqual(lease["dns"], "192.0.2.1")
        self.assertEqual(lease["serverid"], "192.0.2.1")
        ip = lease["ip"]
        self.assertTrue(ip.startswith("192.0.2.1"), ip)
        self.assertEqual(self.wait_for(lambda: self.dig("%s.%s" % (name, DOMAIN))), [ip])
        self.assertEqual(self.wait_for(lambda: self.dig("-x", ip)), ["%s.%s." % (name, DOMAIN)])

    def test_dhcp_inform(self):
        opts = self.dhcp_inform()
        self.assertEqual(opts.get("15"), DOMAIN)
        self.assertEqual(opts.get("6"), "192.0.2.1")
        self.assertEqual(opts.get("54"), "192.0.2.1")

    def test_rootdse_anonymous(self):
        p = self.lab.cli(["ldapsearch", "-x", "-LLL", "-H", "ldap://198.51.100.10", "-b", "", "-s", "base",
                          "defaultNamingContext", "configurationNamingContext", "dnsHostName"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("configurationNamingContext: CN=Configuration,DC=corp,DC=example,DC=test", p.stdout)
        self.assertIn("dnsHostName: dc1." + DOMAIN, p.stdout)

    def test_amtcheck_reads_ca_objects(self):
        rc, v = self.ldap(ENROLL_DN, "certificateTemplates", "dNSHostName", "cACertificate")
        self.assertEqual(rc, 0)
        self.assertEqual(v["dNSHostName"], ["ca1." + DOMAIN])
        self.assertEqual(sorted(v["certificateTemplates"]), ["AMTProvisioning", "AMTWebServer", "WebServer"])
        with open(self.lab.path("pki", "issuing.crt"), "rb") as f:
            self.assertEqual(base64.b64decode(v["cACertificate"][0]), f.read())
        rc, v = self.ldap(TEMPLATE_DN, "msPKI-Enrollment-Flag", "msPKI-Certificate-Name-Flag",
                          "msPKI-Minimal-Key-Size", "pKIExtendedKeyUsage")
        self.assertEqual(rc, 0)
        self.assertEqual(v["msPKI-Enrollment-Flag"], ["0"])
        self.assertEqual(v["msPKI-Certificate-Name-Flag"], ["1"])
        self.assertEqual(v["msPKI-Minimal-Key-Size"], ["2048"])
        self.assertEqual(v["pKIExtendedKeyUsage"], ["1.3.6.1.5.5.7.3.1"])
        rc, v = self.ldap("CN=AMTProvisioning,CN=Certificate Templates," + PKS, "pKIExtendedKeyUsage")
        self.assertIn("2.16.840.1.113741.1.2.3", v["pKIExtendedKeyUsage"])
        rc, v = self.ldap("CN=NTAuthCertificates," + PKS, "cACertificate")
        self.assertEqual(rc, 0)
        self.assertEqual(len(v["cACertificate"]), 1)
        rc, v = self.ldap("CN=Certification Authorities," + PKS, "cn", scope="one")
        self.assertEqual(v.get("cn"), ["Lab Root CA"])

    def test_wrong_password_rejected(self):
        rc, _ = self.ldap(TEMPLATE_DN, password_file=self.lab.path("secrets", "bind-wrong.pw"))
        self.assertEqual(rc, 49)

    def test_ldaps_with_ca_bundle(self):
        p = subprocess.run(["ip", "netns", "exec", self.lab.ns_cli, "ldapsearch", "-x", "-LLL",
                            "-H", "ldaps://dc1." + DOMAIN, "-b", "", "-s", "base", "dnsHostName"],
                           env=dict(os.environ, LDAPTLS_CACERT=self.lab.path("samba", "private", "tls", "ca.pem")),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_crl_and_aia_served(self):
        for name, fmt in (("issuing.crl", "crl"), ("root.crl", "crl"), ("issuing.crt", "x509"), ("root.der", "x509")):
            p = subprocess.run("ip netns exec %s curl -sf http://192.0.2.1:8080/%s | openssl %s -inform DER -noout"
                               % (self.lab.ns_cli, name, fmt), shell=True, capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, (name, p.stderr))
        self.assertGreater(self.crl_next_update(), datetime.datetime.utcnow() + datetime.timedelta(days=6))

    def ocsp(self, cert):
        p = self.lab.cli(["openssl", "ocsp", "-issuer", self.lab.path("pki", "issuing.pem"), "-cert", cert,
                          "-url", "http://192.0.2.1:8888", "-CAfile", self.lab.path("pki", "root.crt"),
                          "-timeout", "5"])
        self.assertIn("Response verify OK", p.stderr + p.stdout)
        return p.stdout

    def test_ocsp(self):
        self.assertIn(": good", self.ocsp(self.lab.path("pki", "prov.pem")))
        self.assertIn(": revoked", self.ocsp(self.lab.path("pki", "prov-revoked.pem")))

    def test_provisioning_server(self):
        p = self.lab.cli(["curl", "-sf", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                          self.lab.path("pki", "root.crt"), "https://ProvisionServer.%s/" % DOMAIN], timeout=20)
        self.assertEqual(p.stdout, "200", p.stderr)
        p = self.lab.cli(["timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/192.0.2.10/9971"])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_amt_tls_endpoints(self):
        self.assertEqual(self.tls_verify("192.0.2.21", 16993, "amt1." + DOMAIN), 0)
        self.assertEqual(self.tls_verify("192.0.2.22", 16993, "amt2." + DOMAIN), 62)   # hostname mismatch
        self.assertEqual(self.tls_verify("192.0.2.23", 16993, "amt3." + DOMAIN), 10)   # expired


class TestFiles(LabTestCase):
    EXPECTED = {
        "site": {"name", "enable"},
        "dns": {"servers", "tsig_key_file", "hosts_file"},
        "dhcp": {"interface", "mode", "test_fqdn"},
        "ad": {"domain", "domain_controllers", "bind_dn", "bind_password_file", "ca_bundle"},
        "ca": {"templates", "enroll_accounts", "web_enrollment_url", "enroll_user", "enroll_password_file",
               "web_ca_bundle"},
        "provisioning": {"certificate", "password_file", "server_addresses", "intermediate_store"},
        "amt": {"domain_suffixes", "generations", "device_hashes", "tls_hosts", "activation"},
        "activation": {"endpoints", "ca_bundle"},
        "cira": {"mps", "ca_bundle", "home_domains"},
        "scs": {"sql_server"},
        "time": {"ntp_servers"},
    }

    def conf(self):
        c = configparser.ConfigParser(comment_prefixes=("#", ";"), inline_comment_prefixes=None)
        c.read(self.lab.conf)
        return c

    def test_lab_conf_keys(self):
        c = self.conf()
        self.assertEqual(set(c.sections()), set(self.EXPECTED))
        for s, keys in self.EXPECTED.items():
            self.assertEqual(set(c[s]), keys, s)
        self.assertEqual(c["dhcp"]["interface"], self.lab.prefix + "v1")
        for s, k in (("dns", "tsig_key_file"), ("dns", "hosts_file"), ("ad", "bind_password_file"),
                     ("ad", "ca_bundle"), ("provisioning", "certificate"), ("provisioning", "password_file"),
                     ("provisioning", "intermediate_store"), ("amt", "device_hashes"),
                     ("ca", "enroll_password_file"), ("ca", "web_ca_bundle")):
            self.assertTrue(os.path.exists(c[s][k]), (s, k, c[s][k]))

    def test_pki_contract(self):
        pki = lambda *p: self.lab.path("pki", *p)
        for f in ("root.crt", "root.der", "issuing.crt", "issuing.pem", "issuing-expired.pem", "prov.pem",
                  "prov.key", "prov-chain.pfx", "prov-nochain.pfx", "prov-expired-int.pfx", "prov-legacy.pfx",
                  "issuing.crl", "root.crl", "device-hashes.txt"):
            self.assertTrue(os.path.getsize(pki(f)) > 0, f)
        self.assertEqual(sorted(os.listdir(pki("intermediate-store"))), ["issuing-expired.pem", "issuing.pem"])
        pw = "file:" + self.lab.path("secrets", "pfx.pw")

        def certs(pfx, *extra):
            p = subprocess.run(["openssl", "pkcs12", "-in", pki(pfx), "-passin", pw, "-nokeys"] + list(extra),
                               capture_output=True, text=True)
            return p.returncode, p.stdout.count("BEGIN CERTIFICATE")

        self.assertEqual(certs("prov-chain.pfx"), (0, 3))
        self.assertEqual(certs("prov-nochain.pfx"), (0, 1))
        self.assertEqual(certs("prov-expired-int.pfx"), (0, 3))
        self.assertNotEqual(certs("prov-legacy.pfx")[0], 0)  # RC2: needs the legacy provider
        self.assertEqual(certs("prov-legacy.pfx", "-legacy"), (0, 3))
        v = subprocess.run(["openssl", "verify", "-CAfile", pki("root.crt"), "-untrusted", pki("issuing-expired.pem"),
                            pki("prov.pem")], capture_output=True, text=True)
        self.assertIn("certificate has expired", v.stdout + v.stderr)
        v = subprocess.run(["openssl", "verify", "-CAfile", pki("root.crt"), "-untrusted", pki("issuing.pem"),
                            pki("prov.pem")], capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        x = subprocess.run(["openssl", "x509", "-in", pki("prov.pem"), "-noout", "-subject", "-ext",
                            "extendedKeyUsage"], capture_output=True, text=True).stdout
        self.assertIn("OU = Intel(R) Client Setup Certificate", x)
        self.assertIn("2.16.840.1.113741.1.2.3", x)
        der = subprocess.run(["openssl", "x509", "-in", pki("root.crt"), "-outform", "DER"], capture_output=True).stdout
        with open(pki("device-hashes.txt")) as f:
            self.assertIn(hashlib.sha256(der).hexdigest(), f.read().split())

    def test_secrets_private(self):
        for f in ("bind.pw", "pfx.pw", "admin.pw", "enroll.pw"):
            self.assertEqual(os.stat(self.lab.path("secrets", f)).st_mode & 0o077, 0, f)


class TestFaults(LabMixin, LabTestCase):
    """Each fault changes what it should; its revert restores the healthy lab."""

    def tearDown(self):
        for f in self.lab.active_faults():
            self.lab.revert(f)

    def test_no_provisionserver(self):
        with self.lab.fault("no-provisionserver"):
            self.assertEqual(self.dig("ProvisionServer." + DOMAIN), [])
        self.assertEqual(self.dig("ProvisionServer." + DOMAIN), ["192.0.2.10"])

    def test_wrong_provisionserver(self):
        with self.lab.fault("wrong-provisionserver"):
            self.assertEqual(self.dig("ProvisionServer." + DOMAIN), ["192.0.2.99"])
        self.assertEqual(self.dig("ProvisionServer." + DOMAIN), ["192.0.2.10"])

    def test_no_ddns(self):
        name = "lab-nd%d" % random.randrange(10**6)
        with self.lab.fault("no-ddns"):
            self.dhcp_lease(name)
            time.sleep(0.5)
            self.assertEqual(self.dig("%s.%s" % (name, DOMAIN)), [])
        name += "b"
        lease = self.dhcp_lease(name)
        self.assertEqual(self.wait_for(lambda: self.dig("%s.%s" % (name, DOMAIN))), [lease["ip"]])

    def test_no_option15(self):
        with self.lab.fault("no-option15"):
            self.assertEqual(self.dhcp_lease("lab-n15")["domain"], "")
            self.assertNotIn("15", self.dhcp_inform())
        self.assertEqual(self.dhcp_lease("lab-n15")["domain"], DOMAIN)
        self.assertEqual(self.dhcp_inform().get("15"), DOMAIN)

    def test_dc_down(self):
        rootdse = ["ldapsearch", "-x", "-o", "nettimeout=2", "-H", "ldap://198.51.100.10", "-b", "", "-s", "base"]
        with self.lab.fault("dc-down"):
            self.assertNotEqual(self.lab.cli(rootdse).returncode, 0)
        self.assertEqual(self.lab.cli(rootdse).returncode, 0)
        rc, v = self.ldap(TEMPLATE_DN, "msPKI-Enrollment-Flag")
        self.assertEqual(rc, 0)

    def test_template_pend(self):
        with self.lab.fault("template-pend"):
            self.assertEqual(self.ldap(TEMPLATE_DN, "msPKI-Enrollment-Flag")[1]["msPKI-Enrollment-Flag"], ["2"])
            # the bitwise-AND matching rule the checker can use
            rc, v = self.ldap("CN=Certificate Templates," + PKS, "cn", scope="one",
                              filt="(msPKI-Enrollment-Flag:1.2.840.113556.1.4.803:=2)")
            self.assertEqual(v.get("cn"), ["AMTWebServer"])
        self.assertEqual(self.ldap(TEMPLATE_DN, "msPKI-Enrollment-Flag")[1]["msPKI-Enrollment-Flag"], ["0"])

    def test_template_unpublished(self):
        with self.lab.fault("template-unpublished"):
            self.assertNotIn("AMTWebServer", self.ldap(ENROLL_DN, "certificateTemplates")[1]["certificateTemplates"])
        self.assertIn("AMTWebServer", self.ldap(ENROLL_DN, "certificateTemplates")[1]["certificateTemplates"])

    def test_crl_expired(self):
        now = datetime.datetime.utcnow()
        with self.lab.fault("crl-expired"):
            self.assertLess(self.crl_next_update(), now)
        self.assertGreater(self.crl_next_update(), now)

    def conf_value(self, section, key):
        c = configparser.ConfigParser(comment_prefixes=("#", ";"))
        c.read(self.lab.conf)
        return c[section][key]

    def test_ca_faults(self):
        mode = lambda: open(self.lab.path("certsrv", "mode")).read().strip()
        self.assertEqual(mode(), "issue")
        for fault, want in (("ca-pending", "pending"), ("ca-denied", "deny")):
            with self.lab.fault(fault):
                self.assertEqual(mode(), want)
            self.assertEqual(mode(), "issue")

    def test_config_faults(self):
        for fault, section, key, want in (
                ("pfx-expired-int", "provisioning", "certificate", "prov-expired-int.pfx"),
                ("pfx-nochain", "provisioning", "certificate", "prov-nochain.pfx"),
                ("bad-bind-password", "ad", "bind_password_file", "bind-wrong.pw")):
            healthy = self.conf_value(section, key)
            with self.lab.fault(fault):
                self.assertEqual(os.path.basename(self.conf_value(section, key)), want)
                self.assertIn(fault, self.lab.active_faults())
            self.assertEqual(self.conf_value(section, key), healthy)

    def sql_encryption(self):
        """The ENCRYPTION byte the SQL Server stand-in answers a PRELOGIN with, or None when closed."""
        code = ("import socket,sys\n"
                "s=socket.create_connection(('198.51.100.20',1433),timeout=2)\n"
                "s.sendall(bytes.fromhex('1201002f0000010000001a000601002000010200210001030022000404002600'"
                "'01ff09000000000001 00b80d000001'.replace(' ','')))\n"
                "d=s.recv(4096); sys.stdout.write(d.hex())\n")
        p = self.lab.cli(["python3", "-c", code])
        if p.returncode:
            return None
        data = bytes.fromhex(p.stdout)
        self.assertEqual(data[0], 0x04)
        off, length = int.from_bytes(data[14:16], "big"), int.from_bytes(data[16:18], "big")  # option 1 entry
        self.assertEqual((data[13], length), (1, 1))
        return data[8 + off]

    def ntp_answers(self, ns_run, addr):
        code = ("import socket,sys\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(1)\n"
                "s.sendto(b'\\x23'+b'\\0'*47,('%s',123))\n"
                "d=s.recv(100); sys.stdout.write('%%d %%d' %% (d[0]>>6, d[1]))\n" % addr)
        p = ns_run(["python3", "-c", code])
        return p.stdout.split() if p.returncode == 0 else None

    def test_sql_and_ntp_faults(self):
        self.assertEqual(self.sql_encryption(), 0x00)
        with self.lab.fault("sql-noencrypt"):
            self.assertEqual(self.sql_encryption(), 0x02)
        with self.lab.fault("sql-down"):
            self.assertIsNone(self.sql_encryption())
        self.assertEqual(self.sql_encryption(), 0x00)
        self.assertEqual(self.ntp_answers(self.lab.cli, "192.0.2.1"), ["0", "8"])
        self.assertEqual(self.ntp_answers(self.lab.cli, "198.51.100.10"), ["0", "9"])
        self.assertEqual(self.ntp_answers(self.lab.cli, "192.0.2.124"), ["3", "16"])
        with self.lab.fault("dc-ntp-down"):
            self.assertIsNone(self.ntp_answers(self.lab.cli, "198.51.100.10"))
        self.assertEqual(self.ntp_answers(self.lab.cli, "198.51.100.10"), ["0", "9"])
        healthy = self.conf_value("time", "ntp_servers")
        with self.lab.fault("ntp-skew"), self.lab.fault("ntp-unsync"):
            self.assertEqual(self.conf_value("time", "ntp_servers"),
                             healthy + ", 192.0.2.123, 192.0.2.124")
        self.assertEqual(self.conf_value("time", "ntp_servers"), healthy)

    def test_unknown_fault_rejected(self):
        with self.assertRaises(RuntimeError):
            self.lab.fault("no-such-fault")

    def test_every_fault_has_a_test(self):
        tested = {"no-provisionserver", "wrong-provisionserver", "no-ddns", "no-option15", "dc-down",
                  "template-pend", "template-unpublished", "stale-ca", "crl-expired", "pfx-expired-int",
                  "pfx-nochain", "bad-bind-password"}
        tested |= {"ca-pending", "ca-denied", "enroll-missing"}  # test_ca.py
        tested |= {"rps-wrong-cert", "rps-no-upgrade", "mps-down"}  # test_activation.py
        tested |= {"sql-down", "sql-noencrypt", "ntp-skew", "ntp-unsync", "dc-ntp-down"}
        self.assertEqual(tested, set(FAULTS))
        p = subprocess.run(["bash", os.path.join(LAB_SCRIPTS, "fault.sh"), "--list"], capture_output=True, text=True)
        self.assertEqual(set(p.stdout.split()), set(FAULTS))


def _alive(pid):
    """A PID is alive unless gone or a zombie waiting for PID 1 to reap it."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return not any(l.startswith("State:") and "Z" in l.split()[1] for l in f)
    except OSError:
        return False


@unittest.skipIf(os.environ.get("LAB_SKIP_SECOND") == "1", "LAB_SKIP_SECOND=1")
class TestSecondLabAndTeardown(LabMixin, LabTestCase):
    """Lifecycle and safety: up.sh refuses a prefix that is already up; an
    interrupted bring-up cleans up after itself; a second lab runs beside the main
    one without interference; teardown leaves no namespace, process, veth or
    /etc/netns entry behind."""

    @staticmethod
    def free_prefix():
        existing = namespaces()
        while True:
            prefix = "z" + "".join(random.choice(string.ascii_lowercase) for _ in range(3))
            if not {prefix + s for s in ("srv", "cli", "ad")} & existing:
                return prefix

    def assert_gone(self, lab, pids):
        self.assertEqual(namespaces() & {lab.ns_srv, lab.ns_cli, lab.ns_ad}, set())
        for ns in (lab.ns_srv, lab.ns_cli, lab.ns_ad):
            self.assertFalse(os.path.exists("/etc/netns/" + ns), ns)
            self.assertFalse(os.path.exists("/run/netns/" + ns), ns)
        deadline = time.time() + 3
        while time.time() < deadline and [p for p in pids if _alive(p)]:
            time.sleep(0.1)
        self.assertEqual([p for p in pids if _alive(p)], [])
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        self.assertNotIn(" %sv" % lab.prefix, links)

    def test_up_refuses_running_lab(self):
        p = subprocess.run(["bash", os.path.join(LAB_SCRIPTS, "up.sh")], env=self.lab.env(),
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("already up", p.stderr)
        # ... and the refusal left the running lab alone
        self.assertTrue(self.lab.is_up())
        self.assertEqual(self.dig("ProvisionServer." + DOMAIN), ["192.0.2.10"])

    def test_interrupted_bring_up_cleans_up(self):
        third = Lab(self.free_prefix(), None)
        proc = subprocess.Popen(["bash", os.path.join(LAB_SCRIPTS, "up.sh")], env=third.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        pids = []
        try:
            time.sleep(1.5)  # PKI built, servers started, Samba provisioning
            with open(third.path("pids")) as f:
                pids = [int(l.split()[0]) for l in f if l.strip()]
            self.assertTrue(pids)
            proc.terminate()
            proc.communicate(timeout=30)
            self.assertNotEqual(proc.returncode, 0)
            self.assert_gone(third, pids)
        finally:
            if proc.poll() is None:
                proc.kill()
            third.down(purge=True)

    def test_side_by_side_then_teardown(self):
        prefix = self.free_prefix()
        second = Lab(prefix, "/tmp/amt-lab-" + prefix)
        t0 = time.time()
        try:
            second.up(faults=["wrong-provisionserver"])
            up_s = time.time() - t0
            # Same addresses, separate worlds: each client sees its own BIND.
            p = second.cli(["dig", "+short", "@192.0.2.1", "ProvisionServer." + DOMAIN])
            self.assertEqual(p.stdout.split(), ["192.0.2.99"])
            self.assertEqual(self.dig("ProvisionServer." + DOMAIN), ["192.0.2.10"])
            p = second.cli(["ldapsearch", "-x", "-LLL", "-H", "ldap://198.51.100.10", "-b", "", "-s", "base",
                            "dnsHostName"])
            self.assertIn("dc1." + DOMAIN, p.stdout)
            with open(second.path("pids")) as f:
                pids = [int(l.split()[0]) for l in f if l.strip()]
            ns_pids = set()
            for ns in (second.ns_srv, second.ns_cli, second.ns_ad):
                ns_pids |= {int(x) for x in subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                                                           text=True).stdout.split()}
        finally:
            t1 = time.time()
            second.down()
            down_s = time.time() - t1
        print("\n    second lab %s: up %.1f s, down %.2f s" % (prefix, up_s, down_s), end=" ")
        self.assert_gone(second, pids + list(ns_pids))
        # The main lab is unaffected.
        self.assertEqual(self.dig("ProvisionServer." + DOMAIN), ["192.0.2.10"])
        # down.sh is idempotent.
        second.down(purge=True)
        self.assertFalse(os.path.exists(second.dir))


if __name__ == "__main__":
    unittest.main()
