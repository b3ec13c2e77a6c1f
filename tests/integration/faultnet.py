#!/usr/bin/env python3
"""Faulty servers for the fault-matrix tests (docs/fault-matrix.md).

Run as a program inside a network namespace the test owns (never on the host
network):  ip netns exec NS python3 faultnet.py SPEC.json
SPEC is a JSON list of {"kind", "ip", "port", ...}; the program prints "ready"
once every socket listens and serves until it is killed. The FaultNet class
below does that from a test: `with FaultNet(ns, spec): ...`.

Kinds (TCP unless noted):
  blackhole      listens, never accepts, backlog kept full: SYNs are dropped, connects time out
  hang           accepts, reads and discards, never answers (also: TLS that never completes)
  rst            accepts and resets the connection (SO_LINGER 0)
  garbage        accepts and sends random bytes, then closes
  slow           an HTTP 200 answer sent one byte per second
  oversize       an HTTP 200 answer with an endless body
  redirect       HTTP 302 to the next URL on the same server, forever
  file           HTTP 200 with `body_file`'s bytes for any GET or POST
  proxy          forwards to `upstream` ("ip:port")
  starttls-hang  forwards LDAP to `upstream`, but answers StartTLS with success itself and then goes silent
  ldap-flood     answers every search with `count` entries of `size` bytes each, ignoring the size limit
  ldap-value     answers every search with one entry whose requested attribute holds `value_file`'s bytes
  dns-silent     UDP and TCP: reads queries, never answers
  dns-map        UDP: answers every A query with `answer` (an IPv4 address)
"""

import asyncio
import json
import os
import re
import socket
import struct
import subprocess
import sys

# ------------------------------------------------------------------ BER/LDAP


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + ber_len(len(body)) + body


def octets(b):
    return tlv(0x04, b)


def ldap_msg(msgid, op):
    return tlv(0x30, tlv(0x02, msgid.to_bytes(4, "big", signed=True).lstrip(b"\x00") or b"\x00") + op)


def ldap_result(tag, code=0):
    return tlv(tag, tlv(0x0A, bytes([code])) + octets(b"") + octets(b""))


def search_entry(dn, attr, value):
    return tlv(0x64, octets(dn) + tlv(0x30, tlv(0x30, octets(attr) + tlv(0x31, octets(value)))))


async def read_pdu(reader):
    """One BER element (tag, length, content) from the stream, as raw bytes."""
    head = await reader.readexactly(2)
    n = head[1]
    extra = b""
    if n & 0x80:
        extra = await reader.readexactly(n & 0x7F)
        n = int.from_bytes(extra, "big")
    if n > 16 << 20:
        raise ValueError("PDU too large")
    return head + extra + await reader.readexactly(n)


def parse_elem(buf, pos):
    """(tag, content_start, content_end) of the element at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def parse_request(pdu):
    """(msgid, op tag, op content bytes) of an LDAPMessage."""
    _, s, _ = parse_elem(pdu, 0)
    _, ms, me = parse_elem(pdu, s)
    msgid = int.from_bytes(pdu[ms:me], "big", signed=True)
    tag, os_, oe = parse_elem(pdu, me)
    return msgid, tag, pdu[os_:oe]


def search_attr(op):
    """The first requested attribute of a SearchRequest's content, or b"cn"."""
    pos = 0
    for _ in range(7):  # baseObject scope deref sizeLimit timeLimit typesOnly filter
        _, _, pos = parse_elem(op, pos)
    _, s, e = parse_elem(op, pos)
    if s < e:
        _, vs, ve = parse_elem(op, s)
        return bytes(op[vs:ve])
    return b"cn"


STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"

# ------------------------------------------------------------------ servers


async def serve_hang(reader, writer, spec):
    while await reader.read(65536):
        pass


async def serve_rst(reader, writer, spec):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def serve_garbage(reader, writer, spec):
    writer.write(os.urandom(65536))
    await writer.drain()


async def read_http_request(reader):
    return await reader.readuntil(b"\r\n\r\n")


async def serve_slow(reader, writer, spec):
    await read_http_request(reader)
    for b in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
        writer.write(bytes([b]))
        await writer.drain()
        await asyncio.sleep(1)


async def serve_oversize(reader, writer, spec):
    await read_http_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\n\r\n")
    chunk = b"\0" * 65536
    while True:
        writer.write(chunk)
        await writer.drain()


async def serve_redirect(reader, writer, spec):
    req = await read_http_request(reader)
    m = re.match(rb"\S+ /loop(\d+) ", req)
    n = int(m.group(1)) + 1 if m else 0
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: /loop%d\r\nContent-Length: 0\r\n\r\n" % n)
    await writer.drain()


async def serve_file(reader, writer, spec):
    req = await read_http_request(reader)
    for line in req.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    with open(spec["body_file"], "rb") as f:
        body = f.read()
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()


async def pipe(reader, writer):
    """Copies until EOF, then closes; a cancelled pipe leaves `writer` open (starttls-hang)."""
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def serve_proxy(reader, writer, spec):
    host, port = spec["upstream"].rsplit(":", 1)
    ur, uw = await asyncio.open_connection(host, int(port))
    await asyncio.gather(pipe(reader, uw), pipe(ur, writer), return_exceptions=True)


async def serve_starttls_hang(reader, writer, spec):
    host, port = spec["upstream"].rsplit(":", 1)
    ur, uw = await asyncio.open_connection(host, int(port))
    back = asyncio.ensure_future(pipe(ur, writer))
    while True:
        pdu = await read_pdu(reader)
        msgid, tag, op = parse_request(pdu)
        if tag == 0x77 and STARTTLS_OID in op:
            back.cancel()
            uw.close()
            writer.write(ldap_msg(msgid, ldap_result(0x78)))
            await writer.drain()
            await serve_hang(reader, writer, spec)  # the client now waits for a ServerHello
            return
        uw.write(pdu)
        await uw.drain()


async def serve_ldap(reader, writer, spec, on_search):
    while True:
        pdu = await read_pdu(reader)
        msgid, tag, op = parse_request(pdu)
        if tag == 0x60:  # bind
            writer.write(ldap_msg(msgid, ldap_result(0x61)))
        elif tag == 0x63:  # search
            await on_search(writer, msgid, op)
        elif tag == 0x42:  # unbind
            return
        elif tag == 0x77:  # extended (StartTLS): unsupported
            writer.write(ldap_msg(msgid, ldap_result(0x78, 2)))
        await writer.drain()


async def serve_ldap_flood(reader, writer, spec):
    async def flood(w, msgid, op):
        value = b"F" * spec.get("size", 1 << 20)
        for i in range(spec.get("count", 800)):
            w.write(ldap_msg(msgid, search_entry(b"CN=flood%d" % i, b"description", value)))
            await w.drain()
        w.write(ldap_msg(msgid, ldap_result(0x65)))

    await serve_ldap(reader, writer, spec, flood)


async def serve_ldap_value(reader, writer, spec):
    with open(spec["value_file"], "rb") as f:
        value = f.read()

    async def one(w, msgid, op):
        w.write(ldap_msg(msgid, search_entry(b"CN=fault", search_attr(op), value)))
        w.write(ldap_msg(msgid, ldap_result(0x65)))

    await serve_ldap(reader, writer, spec, one)


TCP = {
    "hang": serve_hang,
    "rst": serve_rst,
    "garbage": serve_garbage,
    "slow": serve_slow,
    "oversize": serve_oversize,
    "redirect": serve_redirect,
    "file": serve_file,
    "proxy": serve_proxy,
    "starttls-hang": serve_starttls_hang,
    "ldap-flood": serve_ldap_flood,
    "ldap-value": serve_ldap_value,
    "dns-silent": serve_hang,
}


def handler(fn, spec):
    async def run(reader, writer):
        try:
            await fn(reader, writer, spec)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
    return run


class DnsSilent(asyncio.DatagramProtocol):
    def datagram_received(self, data, addr):
        pass


class DnsMap(asyncio.DatagramProtocol):
    def __init__(self, answer):
        self.answer = socket.inet_aton(answer)

    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        qend = 12
        while qend < len(data) and data[qend]:
            qend += data[qend] + 1
        question = data[12:qend + 5]
        qtype = int.from_bytes(question[-4:-2], "big")
        ancount = 1 if qtype == 1 else 0
        head = data[:2] + b"\x84\x00" + b"\x00\x01" + struct.pack(">HHH", ancount, 0, 0)
        ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + self.answer if ancount else b""
        self.t.sendto(head + question + ans, addr)


async def main(specs):
    loop = asyncio.get_running_loop()
    keep = []
    for s in specs:
        kind, ip, port = s["kind"], s["ip"], s["port"]
        if kind == "blackhole":
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((ip, port))
            ls.listen(0)
            # fill the accept queue: later SYNs are dropped, as by a firewall
            for _ in range(2):
                c = socket.socket()
                c.setblocking(False)
                c.connect_ex((ip, port))
                keep.append(c)
            keep.append(ls)
            continue
        if kind == "dns-map":
            await loop.create_datagram_endpoint(lambda s=s: DnsMap(s["answer"]), local_addr=(ip, port))
            continue
        if kind == "dns-silent":
            await loop.create_datagram_endpoint(DnsSilent, local_addr=(ip, port))
        await asyncio.start_server(handler(TCP[kind], s), ip, port, reuse_address=True)
    print("ready", flush=True)
    await asyncio.Event().wait()


class FaultNet:
    """Runs the servers of `spec` inside namespace `ns` for the duration of a with-block."""

    def __init__(self, ns, spec):
        self.ns, self.spec, self.proc = ns, spec, None

    def __enter__(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, os.path.abspath(__file__),
                                      json.dumps(self.spec)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.__exit__()
            raise RuntimeError("fault servers did not start: %r" % line)
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None


if __name__ == "__main__":
    try:
        asyncio.run(main(json.loads(sys.argv[1])))
    except KeyboardInterrupt:
        pass
