#!/usr/bin/env python3
"""Stand-in for the SQL Server that holds the Intel SCS database (no SQL Server in Debian).

It answers a TDS PRELOGIN the way MS-TDS 2.2.6.5 says a server does: a packet
of type 0x04 (tabular result, header 2.2.3.1) carrying VERSION, ENCRYPTION,
INSTOPT, THREADID (empty) and MARS, then closes the connection (a real server
would wait for LOGIN7 or the TLS handshake). Nothing after PRELOGIN is spoken.

The ENCRYPTION byte comes from MODE_FILE, read on every connection so that
fault.sh can change it: "off" (ENCRYPT_OFF, the healthy lab) or "notsup"
(ENCRYPT_NOT_SUP, the sql-noencrypt fault).
usage: tds-standin.py ADDRESS PORT MODE_FILE
"""
import socketserver
import struct
import sys

VERSION = (16, 0, 1000, 6)  # SQL Server 2022 RTM
ENCRYPTION = {"off": 0x00, "on": 0x01, "notsup": 0x02, "req": 0x03}


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def answer(encryption):
    options = [
        (0x00, struct.pack(">BBHH", *VERSION)),
        (0x01, bytes([encryption])),
        (0x02, b"\x00"),
        (0x03, b""),
        (0x04, b"\x00"),
    ]
    off = 5 * len(options) + 1
    table, data = b"", b""
    for token, value in options:
        table += struct.pack(">BHH", token, off, len(value))
        data += value
        off += len(value)
    payload = table + b"\xff" + data
    return struct.pack(">BBHHBB", 0x04, 0x01, 8 + len(payload), 0, 1, 0) + payload


class Prelogin(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(3)
        try:
            head = read_exact(self.request, 8)
            ptype, _status, length = struct.unpack(">BBH", head[:4])
            if ptype != 0x12 or not 8 <= length <= 4096:
                print(f"{self.client_address[0]}: not a PRELOGIN (type 0x{ptype:02x})", flush=True)
                return
            read_exact(self.request, length - 8)
            with open(self.server.mode_file) as f:
                mode = f.read().strip()
            self.request.sendall(answer(ENCRYPTION.get(mode, 0x00)))
            print(f"{self.client_address[0]}: PRELOGIN answered ({mode})", flush=True)
        except (OSError, EOFError):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server((sys.argv[1], int(sys.argv[2])), Prelogin) as srv:
        srv.mode_file = sys.argv[3]
        srv.serve_forever()
