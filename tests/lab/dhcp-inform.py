#!/usr/bin/env python3
"""Sends one DHCPINFORM from the client netns and prints the server's answer.

Used by the lab tests to see what a DHCP server hands out without taking a
lease, the same exchange amt-preflight's DHCP check makes in "inform" mode.
usage (inside ${P}cli): dhcp-inform.py IFACE CLIENT_IP SERVER_IP
prints one JSON object: {"type": 5, "options": {"15": "corp.example.test", "6": "192.0.2.1", ...}}
Addresses are dotted quads, option 15/81 text, anything else hex. Exit 1 on timeout.
"""
import json
import os
import socket
import struct
import sys


def main():
    iface, client, server = sys.argv[1:4]
    with open("/sys/class/net/%s/address" % iface) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    xid = os.urandom(4)
    pkt = struct.pack("!BBBB4sHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0, socket.inet_aton(client),
                      bytes(4), bytes(4), bytes(4), mac, b"", b"")
    pkt += b"\x63\x82\x53\x63"                      # magic cookie
    pkt += bytes([53, 1, 8])                        # DHCPINFORM
    pkt += bytes([55, 5, 1, 3, 6, 15, 54])          # parameter request list
    pkt += bytes([255])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind((client, 68))
    s.settimeout(3)
    s.sendto(pkt, (server, 67))
    while True:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            print(json.dumps({"error": "timeout"}))
            return 1
        if len(data) > 240 and data[4:8] == xid and data[236:240] == b"\x63\x82\x53\x63":
            break
    opts, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        val = data[i + 2:i + 2 + length]
        i += 2 + length
        if code in (1, 3, 6, 54) and length % 4 == 0:
            opts[str(code)] = ",".join(socket.inet_ntoa(val[j:j + 4]) for j in range(0, length, 4))
        elif code == 15:
            opts[str(code)] = val.decode("ascii", "replace")
        else:
            opts[str(code)] = val.hex()
    print(json.dumps({"type": int(opts.get("53", "00"), 16), "options": opts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
