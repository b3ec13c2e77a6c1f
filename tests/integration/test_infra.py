"""scs.sql, time.ntp and the client segments of dhcp.options against the lab.

The SQL Server is a stand-in (tests/lab/tds-standin.py: there is no SQL Server in
Debian) answering PRELOGIN as MS-TDS 2.2.6.5 says; ntp1 and the DC's time service
are chrony; the skewed and unsynchronised NTP servers are tests/lab/ntp-standin.py.
The second client segment (${P}v5, 203.0.113.0/24) gets option 6 but no option 15.
"""

import os
import tempfile

from labtest import LabTestCase, check_status, findings

SQL, TIME, DHCP = "scs.sql", "time.ntp", "dhcp.options"


def by_code(report, check_id, code):
    return [f for f in findings(report, check_id) if f["code"] == code]


class InfraLab(LabTestCase):
    def setUp(self):
        self.require_binary()

    def write_conf(self, edit):
        """A copy of lab.conf with `edit(text) -> text` applied; removed at cleanup."""
        with open(self.lab.conf) as f:
            text = edit(f.read())
        fd, path = tempfile.mkstemp(prefix="infra-", suffix=".conf", dir=self.lab.dir)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def one(self, report, check_id, code, status):
        got = by_code(report, check_id, code)
        self.assertEqual(len(got), 1, findings(report, check_id))
        self.assertEqual(got[0]["status"].upper(), status)
        return got[0]


class ScsSql(InfraLab):
    def test_healthy(self):
        code, report = self.lab.run_preflight(only=[SQL])
        self.assertEqual(check_status(report, SQL), "PASS", findings(report, SQL))
        ev = self.one(report, SQL, "SCS_SQL_OK", "PASS")["evidence"]
        self.assertEqual(ev["sql_server"], "sql1.corp.example.test")
        self.assertEqual(ev["address"], "198.51.100.20")
        self.assertEqual(ev["version"], "16.0.1000.6")
        self.assertEqual(ev["product"], "SQL Server 2022")
        self.assertEqual(ev["encryption"], "ENCRYPT_OFF (0x00)")
        self.assertEqual(code, 0)

    def test_no_encryption(self):
        with self.lab.fault("sql-noencrypt"):
            code, report = self.lab.run_preflight(only=[SQL])
        ev = self.one(report, SQL, "SCS_SQL_NO_ENCRYPTION", "WARN")["evidence"]
        self.assertEqual(ev["encryption"], "ENCRYPT_NOT_SUP (0x02)")
        self.assertEqual(check_status(report, SQL), "WARN")
        self.assertEqual(code, 1)

    def test_down(self):
        with self.lab.fault("sql-down"):
            code, report = self.lab.run_preflight(only=[SQL])
        ev = self.one(report, SQL, "SCS_SQL_REFUSED", "FAIL")["evidence"]
        self.assertEqual(ev["port"], "1433")
        self.assertEqual(ev["error"], "connection refused")
        self.assertEqual(code, 2)

    def test_closed_without_answer_is_error(self):
        # The lab's hello listener (port 9971) reads and closes without a byte: the check
        # could not look (a middlebox can do the same), so ERROR, never FAIL.
        conf = self.write_conf(lambda t: t.replace("sql_server = sql1.corp.example.test",
                                                   "sql_server = 192.0.2.10\nsql_port = 9971"))
        code, report = self.lab.run_preflight(only=[SQL], conf=conf)
        ev = self.one(report, SQL, "SCS_SQL_NO_ANSWER", "ERROR")["evidence"]
        self.assertTrue(ev["error"].startswith("connection closed after 0 bytes"), ev)
        self.assertEqual(ev["port"], "9971")
        self.assertEqual(code, 3)


class TimeNtp(InfraLab):
    def test_healthy(self):
        code, report = self.lab.run_preflight(only=[TIME])
        self.assertEqual(check_status(report, TIME), "PASS", findings(report, TIME))
        ok = {f["evidence"]["server"]: f["evidence"] for f in by_code(report, TIME, "TIME_NTP_OK")}
        self.assertEqual(set(ok), {"ntp1.corp.example.test", "dc1.corp.example.test"})
        self.assertEqual(ok["ntp1.corp.example.test"]["stratum"], "8")
        self.assertEqual(ok["dc1.corp.example.test"]["role"], "domain controller")
        self.assertEqual(ok["dc1.corp.example.test"]["reference"], "this host's clock")
        self.assertLess(abs(float(ok["ntp1.corp.example.test"]["offset_ms"])), 1000)
        self.assertEqual(self.one(report, TIME, "TIME_SERVERS_AGREE", "PASS")["evidence"]["servers_compared"], "2")
        self.assertEqual(code, 0)

    def test_skewed_server(self):
        with self.lab.fault("ntp-skew"):
            code, report = self.lab.run_preflight(only=[TIME])
        ev = self.one(report, TIME, "TIME_SKEW_KERBEROS", "FAIL")["evidence"]
        self.assertEqual(ev["server"], "192.0.2.123")
        self.assertAlmostEqual(float(ev["deviation_ms"]), 600000, delta=2000)
        self.assertEqual(ev["reference"], "this host's clock")
        ev = self.one(report, TIME, "TIME_SERVERS_DISAGREE", "FAIL")["evidence"]
        self.assertEqual(ev["servers_compared"], "3")
        self.assertTrue(ev["fastest"].startswith("192.0.2.123 "))
        self.assertEqual(code, 2)

    def test_unsynchronised_server(self):
        with self.lab.fault("ntp-unsync"):
            code, report = self.lab.run_preflight(only=[TIME])
        ev = self.one(report, TIME, "TIME_UNSYNCHRONISED", "FAIL")["evidence"]
        self.assertEqual(ev["server"], "192.0.2.124")
        self.assertEqual(ev["stratum"], "16")
        self.assertTrue(ev["leap"].startswith("3"))

    def test_dc_without_ntp(self):
        with self.lab.fault("dc-ntp-down"):
            code, report = self.lab.run_preflight(only=[TIME])
        ev = self.one(report, TIME, "TIME_DC_NO_NTP", "WARN")["evidence"]
        self.assertEqual(ev["server"], "dc1.corp.example.test")
        self.assertEqual(ev["address"], "198.51.100.10")
        self.assertEqual(check_status(report, TIME), "WARN")

    def test_local_clock_off(self):
        # Two servers that agree with each other, both 10 minutes from this host:
        # this host is the odd one out, and the servers are judged against their median.
        conf = self.write_conf(lambda t: t.replace("ntp_servers = ntp1.corp.example.test",
                                                   "ntp_servers = 192.0.2.123, 192.0.2.125\n"
                                                   "query_domain_controllers = no"))
        code, report = self.lab.run_preflight(only=[TIME], conf=conf)
        ev = self.one(report, TIME, "TIME_LOCAL_CLOCK_OFF", "WARN")["evidence"]
        self.assertAlmostEqual(float(ev["median_offset_ms"]), 600000, delta=2000)
        self.assertEqual(ev["servers_agreeing"], "2 of 2")
        ok = by_code(report, TIME, "TIME_NTP_OK")
        self.assertEqual(len(ok), 2, findings(report, TIME))
        self.assertEqual(ok[0]["evidence"]["reference"], "median of the time servers")
        self.assertEqual(by_code(report, TIME, "TIME_SKEW_KERBEROS"), [])

    def test_one_server_cannot_outvote_this_host(self):
        conf = self.write_conf(lambda t: t.replace("ntp_servers = ntp1.corp.example.test",
                                                   "ntp_servers = 192.0.2.123\nquery_domain_controllers = no"))
        code, report = self.lab.run_preflight(only=[TIME], conf=conf)
        # One server cannot outvote this host: it is judged against the local clock.
        self.one(report, TIME, "TIME_SKEW_KERBEROS", "FAIL")
        self.assertEqual(by_code(report, TIME, "TIME_LOCAL_CLOCK_OFF"), [])


class Segments(InfraLab):
    def seg_conf(self, wireless=None):
        p = self.lab.prefix

        def edit(t):
            extra = "\nwireless_interfaces = %s" % wireless if wireless else ""
            return t.replace("interface = %sv1" % p, "interface = %sv1, %sv5%s" % (p, p, extra))
        return self.write_conf(edit)

    def test_second_segment_wireless_without_suffix(self):
        p = self.lab.prefix
        code, report = self.lab.run_preflight(only=[DHCP], conf=self.seg_conf(wireless=p + "v5"))
        self.assertIn(check_status(report, DHCP), ("PASS", "INFO"), findings(report, DHCP))
        servers = {f["evidence"]["segment"]: f["evidence"]["servers"] for f in by_code(report, DHCP, "DHCP_SERVERS")}
        self.assertEqual(servers, {p + "v1": "192.0.2.1", p + "v5": "203.0.113.1"})
        ev = self.one(report, DHCP, "DHCP_OPTION15_MISSING", "INFO")["evidence"]
        self.assertEqual((ev["segment"], ev["segment_type"]), (p + "v5", "wireless"))
        self.assertEqual(self.one(report, DHCP, "DHCP_OPTION15_OK", "PASS")["evidence"]["segment"], p + "v1")
        self.assertEqual(code, 0)

    def test_second_wired_segment_without_suffix(self):
        p = self.lab.prefix
        code, report = self.lab.run_preflight(only=[DHCP], conf=self.seg_conf())
        ev = self.one(report, DHCP, "DHCP_OPTION15_MISSING", "FAIL")["evidence"]
        self.assertEqual((ev["segment"], ev["segment_type"], ev["server"]), (p + "v5", "wired", "203.0.113.1"))
        self.assertEqual(by_code(report, DHCP, "DHCP_SUFFIX_WIRELESS_ONLY"), [])
        self.assertEqual(code, 2)

    def test_suffix_only_on_wireless(self):
        p = self.lab.prefix
        code, report = self.lab.run_preflight(only=[DHCP], conf=self.seg_conf(wireless=p + "v1"))
        ev = self.one(report, DHCP, "DHCP_SUFFIX_WIRELESS_ONLY", "FAIL")["evidence"]
        self.assertEqual(ev["segment"], p + "v5")
        self.assertEqual(ev["wireless_with_suffix"], p + "v1")
        self.assertEqual(code, 2)


class Redundancy(InfraLab):
    CHECK = "site.redundancy"

    def services(self, report):
        return {f["evidence"]["service"]: f for f in findings(report, self.CHECK)}

    def two_ntp_conf(self):
        # The DC's time service (chrony on 198.51.100.10) as a second NTP server.
        return self.write_conf(lambda t: t.replace("ntp_servers = ntp1.corp.example.test",
                                                   "ntp_servers = ntp1.corp.example.test, 198.51.100.10"))

    def test_redundant_and_not_checked(self):
        code, report = self.lab.run_preflight(only=[TIME, self.CHECK], conf=self.two_ntp_conf())
        svc = self.services(report)
        ntp = svc["NTP servers"]
        self.assertEqual((ntp["code"], ntp["status"].upper()), ("SITE_REDUNDANT", "PASS"))
        self.assertEqual((ntp["evidence"]["asked"], ntp["evidence"]["answered"]), ("2", "2"))
        self.assertEqual(ntp["evidence"]["check"], TIME)
        # dns.servers was not part of this run: unknown, never a warning.
        dns = svc["DNS servers clients use"]
        self.assertEqual((dns["code"], dns["status"].upper()), ("SITE_NOT_CHECKED", "INFO"))
        self.assertEqual(check_status(report, self.CHECK), "INFO")  # the NOT_CHECKED services

    def test_single_point_of_failure(self):
        with self.lab.fault("dc-ntp-down"):
            code, report = self.lab.run_preflight(only=[TIME, self.CHECK, "dns.servers"], conf=self.two_ntp_conf())
        ntp = self.services(report)["NTP servers"]
        self.assertEqual((ntp["code"], ntp["status"].upper()), ("SITE_SINGLE_POINT_OF_FAILURE", "WARN"))
        self.assertEqual((ntp["evidence"]["asked"], ntp["evidence"]["answered"]), ("2", "1"))
        self.assertEqual(ntp["evidence"]["answering"], "ntp1.corp.example.test")
        # The remedy is the service's own: repair the silent one first, as time.ntp reports.
        self.assertIn("(time.ntp reports why)", ntp["remediation"])
        self.assertIn("[time] ntp_servers", ntp["remediation"])
        # The lab gives clients one DNS server: a single point of failure as well.
        dns = self.services(report)["DNS servers clients use"]
        self.assertEqual((dns["code"], dns["evidence"]["instances"]), ("SITE_SINGLE_POINT_OF_FAILURE", "192.0.2.1"))
        self.assertIn("DHCP option 6", dns["remediation"])
        self.assertNotIn("reports why", dns["remediation"])
        self.assertEqual(check_status(report, self.CHECK), "WARN")

    def test_service_down(self):
        with self.lab.fault("dc-ntp-down"):
            conf = self.write_conf(lambda t: t.replace("ntp_servers = ntp1.corp.example.test",
                                                       "ntp_servers = 198.51.100.10"))
            code, report = self.lab.run_preflight(only=[TIME, self.CHECK], conf=conf)
        ntp = self.services(report)["NTP servers"]
        self.assertEqual((ntp["code"], ntp["status"].upper()), ("SITE_SERVICE_DOWN", "INFO"))
