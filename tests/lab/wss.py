#!/usr/bin/env python3
"""Stand-in for an activation server's WebSocket endpoint (Open AMT RPS: wss://host/activate).

TLS with the given certificate chain and key, then the server side of the WebSocket opening
handshake (RFC 6455 section 4.2): a GET of PATH with "Upgrade: websocket" and a
Sec-WebSocket-Key is answered "101 Switching Protocols" with Sec-WebSocket-Accept =
base64(SHA-1(key + GUID)); any other request gets 404. With --no-upgrade every request gets
"200 OK" instead: a proxy in front of RPS that does not pass upgrades. After a 101 the
connection is held until the client closes it (at most 10 s); no frame is ever sent.

usage: wss.py ADDRESS PORT CERT_CHAIN_PEM KEY_PEM PATH [--no-upgrade]
"""
import asyncio
import base64
import hashlib
import ssl
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 8192


def answer(head, path, upgrade_ok):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    fields = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if not upgrade_ok:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: lab-proxy\r\n\r\nOK", False
    key = fields.get("sec-websocket-key", "")
    if (len(parts) == 3 and parts[0] == "GET" and parts[1] == path and key
            and fields.get("upgrade", "").lower() == "websocket"):
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\nServer: lab-rps\r\n\r\n" % accept).encode(), True
    return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nServer: lab-rps\r\n\r\n", False


async def handle(reader, writer, path, upgrade_ok):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        if len(head) > MAX_HEADER:
            return
        data, upgraded = answer(head[:-4], path, upgrade_ok)
        writer.write(data)
        await writer.drain()
        print("%s %s" % (head.split(b"\r\n", 1)[0].decode("latin-1"), data.split(b"\r\n", 1)[0].decode()),
              flush=True)
        if upgraded:
            await asyncio.wait_for(reader.read(), 10)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
            ssl.SSLError):
        pass
    finally:
        writer.close()


async def main():
    addr, port, chain, key, path = sys.argv[1:6]
    upgrade_ok = "--no-upgrade" not in sys.argv[6:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain, key)
    server = await asyncio.start_server(lambda r, w: handle(r, w, path, upgrade_ok), addr, int(port), ssl=ctx,
                                        limit=MAX_HEADER)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
