#!/usr/bin/env python3
"""Stand-in for the setup and configuration server's "hello" port (9971).

AMT devices open a TCP connection to this port to announce themselves; the
preflight check only needs to see that something accepts connections there.
Each connection is read from (at most 4 KiB, 2 s) and closed.
usage: hello.py ADDRESS PORT
"""
import socketserver
import sys


class Hello(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2)
        try:
            data = self.request.recv(4096)
        except OSError:
            data = b""
        print(f"hello from {self.client_address[0]}: {len(data)} bytes", flush=True)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server((sys.argv[1], int(sys.argv[2])), Hello) as srv:
        srv.serve_forever()
