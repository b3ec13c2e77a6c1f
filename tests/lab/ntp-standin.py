#!/usr/bin/env python3
"""NTP servers with a wrong clock, for the time faults (chrony serves the good time).

chrony cannot serve a clock other than the host's without changing the host
clock, so the broken servers are this stand-in: each ADDRESS:OFFSET:LEAP:STRATUM
argument is one UDP socket on port 123 that answers a mode 3 request with a
mode 4 reply (RFC 5905 7.3) whose receive and transmit timestamps are the local
time plus OFFSET seconds, with the given leap indicator and stratum, and the
request's transmit timestamp copied into the origin field.
usage: ntp-standin.py ADDRESS:OFFSET:LEAP:STRATUM...
"""
import selectors
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800


def ntp_now(offset):
    t = time.time() + offset + NTP_EPOCH
    return (int(t) << 32) | int((t % 1) * (1 << 32))


def reply(req, offset, leap, stratum):
    if len(req) < 48 or req[0] & 7 != 3:
        return None
    rec = ntp_now(offset)
    first = (leap << 6) | (4 << 3) | 4
    # Stratum 1 names its source in ASCII, 2-15 give the upstream's address, 16 says "INIT".
    refid = b"XFAK" if stratum <= 1 else b"INIT" if stratum >= 16 else bytes([192, 0, 2, 1])
    head = struct.pack(">BBbbII4s", first, stratum, 6, -20, 0, 1 << 12, refid)
    return head + struct.pack(">QQQQ", rec, int.from_bytes(req[40:48], "big"), rec, ntp_now(offset))


def main():
    sel = selectors.DefaultSelector()
    for spec in sys.argv[1:]:
        addr, offset, leap, stratum = spec.split(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 123))
        sel.register(s, selectors.EVENT_READ, (float(offset), int(leap), int(stratum)))
    while True:
        for key, _ in sel.select():
            req, peer = key.fileobj.recvfrom(512)
            out = reply(req, *key.data)
            if out:
                key.fileobj.sendto(out, peer)


if __name__ == "__main__":
    main()
