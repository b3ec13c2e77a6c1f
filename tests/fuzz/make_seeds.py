#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_dns_answer and fuzz_report into corpus/.

Run from anywhere: python3 tests/fuzz/make_seeds.py. The files are committed;
this script only documents how they were made and remakes them.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def msg(qname, qtype, answers, flags=0x8180, qd=1, extra=b""):
    """A response: header, one question, answer RRs given as (type, rdata) or raw bytes."""
    body = b""
    for a in answers:
        if isinstance(a, bytes):
            body += a
        else:
            t, rdata = a
            body += b"\xc0\x0c" + struct.pack(">HHIH", t, 1, 300, len(rdata)) + rdata
    hdr = struct.pack(">HHHHHH", 0x1234, flags, qd, len(answers), 0, 0)
    return hdr + name(qname) + struct.pack(">HH", qtype, 1) + body + extra


def dns_seeds():
    ps = "provisionserver.corp.example.test"
    return {
        "a.bin": msg(ps, 1, [(1, bytes([192, 0, 2, 10]))]),
        "a-two.bin": msg(ps, 1, [(1, bytes([192, 0, 2, 10])), (1, bytes([192, 0, 2, 11]))]),
        "aaaa.bin": msg(ps, 28, [(28, bytes.fromhex("20010db8000000000000000000000010"))]),
        "cname-a.bin": msg("www.corp.example.test", 1, [(5, name(ps)), (1, bytes([192, 0, 2, 10]))]),
        "srv.bin": msg("_ldap._tcp.dc._msdcs.corp.example.test", 33,
                       [(33, struct.pack(">HHH", 0, 100, 389) + name("dc1.corp.example.test")),
                        (33, struct.pack(">HHH", 10, 0, 389) + b"\x03dc2\xc0\x1d")]),
        "ptr.bin": msg("10.2.0.192.in-addr.arpa", 12, [(12, name(ps))]),
        "txt-multi.bin": msg("x.corp.example.test", 16, [(16, b"\x03one\x03two\x00")]),
        "soa-nodata.bin": msg("corp.example.test", 1, [], extra=b""),
        "nxdomain.bin": msg("nohost.corp.example.test", 1, [], flags=0x8183),
        "a-bad-len.bin": msg(ps, 1, [(1, bytes([192, 0, 2]))]),
        "pointer-loop.bin": msg(ps, 1, [b"\xc0\x30" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes(4)]),
        "truncated.bin": msg(ps, 1, [(1, bytes([192, 0, 2, 10]))])[:-3],
        "bidi-owner.bin": msg("x.corp.example.test", 12, [(12, b"\x06ev\xe2\x80\xaeil\x00")]),
    }


def report_seeds():
    def s(b):
        return bytes([len(b)]) + b

    def run(checks, host=b"host1", site=b"Store 42"):
        out = s(b"0.1.0") + s(host) + b"\x01" + s(site) + b"\x01" + s(b"/etc/amt.conf") + s(b"ab12")
        out += b"\x10\x20" + bytes([len(checks)])
        for idx, findings in checks:
            out += bytes([idx, len(findings), 5])
            for status_code, message, evidence, remedy in findings:
                out += bytes([status_code]) + s(message) + bytes([len(evidence)])
                for k, v in evidence:
                    out += s(k) + s(v)
                out += (b"\x01" + s(remedy)) if remedy is not None else b"\x00"
        return out

    return {
        "plain.bin": run([(0, [(5, b"An intermediate expired", [(b"subject", b"CN=Sub")], b"Renew it")]),
                          (3, [(1, b"fine", [], None)])]),
        "html-specials.bin": run([(1, [(5, b"<script>alert(1)</script> & \"x\" 'y'",
                                        [(b"<b>", b"</td></tr><tr>"), (b"a&b", b"&amp;&#0;")], b"<i>fix</i>")])]),
        "controls.bin": run([(2, [(4, b"\x1b[2Jcleared\x07 \x9b31m \xc2\x9b tab\there\r\n",
                                   [(b"k\x1b", b"\x7fdel")], b"\x08back")])], host=b"h\x1b]0;x\x07"),
        "bidi.bin": run([(4, [(5, b"CN=evil\xe2\x80\xaetxt.exe",
                               [(b"subject", b"\xe2\x81\xa6x\xe2\x81\xa9 \xe2\x80\x8b \xef\xbb\xbf \xf3\xa0\x80\xa1")],
                               b"\xd8\x9c")])]),
        "bad-utf8.bin": run([(5, [(3, b"a\xff\xfeb \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 cut\xe2\x82",
                                   [(b"\xff", b"\xe2\x82")], None)])]),
        "xml-breakers.bin": run([(6, [(4, b"]]> <!-- --> <?xml?> <![CDATA[x]]>",
                                       [(b"\"", b"'")], b"\xef\xbf\xbe\xef\xbf\xbf")])]),
        "empty.bin": b"",
    }


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for n, data in seeds.items():
        with open(os.path.join(d, n), "wb") as f:
            f.write(data)


write("fuzz_dns_answer", dns_seeds())
write("fuzz_report", report_seeds())
