#!/usr/bin/env python3
"""A STAND-IN for Microsoft AD CS web enrollment (/certsrv/), for the lab only.

AD CS does not run on Linux. This server speaks the same exchange as the
"Certification Authority Web Enrollment" role service's request pages, as a
browser (or the setup server) uses them after "Submit a saved request":

  POST /certsrv/certfnsh.asp   form fields Mode=newreq, CertRequest=<PEM PKCS#10>,
                               CertAttrib="CertificateTemplate:<name>\\r\\n",
                               FriendlyType, TargetStoreFlags, SaveCert
    -> "Certificate Issued" page linking certnew.cer?ReqID=N&Enc=b64
    -> "Certificate Pending" page: "... Your Request Id is N."
    -> "Certificate Request Denied" page: 'The disposition message is "..."'
  GET  /certsrv/certnew.cer?ReqID=N&Enc=b64   the issued certificate
       (Content-Type application/pkix-cert)
  GET  /certsrv/               home page

Certificates are really issued, by `openssl ca` with the lab's issuing CA.
Authentication is HTTP Basic against a user file ("user:password" lines);
NTLM and Negotiate are not implemented. The outcome is chosen by the first
word of MODE_FILE, read on every request (tests/lab/fault.sh switches it):
"issue", "pending" or "deny". A template not in --templates is denied as a
CA that does not publish it would deny it.

usage: certsrv.py ADDR PORT CERT KEY PKI_DIR USERS_FILE MODE_FILE --templates A,B
"""
import argparse
import base64
import html
import os
import re
import ssl
import subprocess
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
# The policy module messages a Windows CA puts in the disposition (HRESULTs from winerror.h).
DENY_PERMISSION = ("Denied by Policy Module  0x80094012, The permissions on the certificate template do not "
                   "allow the current user to enroll for this type of certificate.")
DENY_UNSUPPORTED = ("Denied by Policy Module  0x80094800, The request was for a certificate template that is not "
                    "supported by the Active Directory Certificate Services policy: {}.")
HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def page(title, body):
    return ("<HTML><Head><Meta HTTP-Equiv=\"Content-Type\" Content=\"text/html; charset=UTF-8\">"
            "<Title>Microsoft Active Directory Certificate Services</Title></Head><Body>"
            "<P ID=locPageTitle> <B>{}</B>\n{}\n</Body></HTML>\n").format(html.escape(title), body).encode()


class State:
    def __init__(self, args):
        self.args = args
        self.users = {}
        with open(args.users) as f:
            for line in f:
                user, _, pw = line.rstrip("\n").partition(":")
                if user:
                    self.users[user.lower()] = pw
        self.templates = {t.strip().lower() for t in args.templates.split(",") if t.strip()}
        self.reqdir = os.path.join(args.pki, "certsrv")
        os.makedirs(self.reqdir, exist_ok=True)

    def mode(self):
        try:
            with open(self.args.mode_file) as f:
                return (f.read().split() or ["issue"])[0]
        except FileNotFoundError:
            return "issue"

    def next_id(self):
        path = os.path.join(self.reqdir, "last-id")
        try:
            with open(path) as f:
                n = int(f.read().strip() or "0") + 1
        except FileNotFoundError:
            n = 1
        with open(path, "w") as f:
            f.write(str(n))
        return n

    def issue(self, req_id, csr_pem):
        """Signs the request with the lab's issuing CA; returns the PEM or raises."""
        pki = self.args.pki
        with tempfile.NamedTemporaryFile("w", suffix=".csr", dir=self.reqdir, delete=False) as f:
            f.write(csr_pem)
            csr = f.name
        try:
            subj = subprocess.run(["openssl", "req", "-in", csr, "-noout", "-subject", "-nameopt", "RFC2253"],
                                  capture_output=True, text=True, check=True).stdout
            cn = re.search(r"CN=([^,\n]+)", subj)
            if not cn or not HOSTNAME.match(cn.group(1)):
                raise ValueError("the request's CN is not a host name")
            out = os.path.join(self.reqdir, "%d.pem" % req_id)
            # v3_tls uses SAN_NAME; ca.cnf's other sections need SAN_IP set to parse
            env = dict(os.environ, SAN_NAME=cn.group(1), SAN_IP="127.0.0.1")
            subprocess.run(["openssl", "ca", "-batch", "-notext", "-config", os.path.join(pki, "ca.cnf"),
                            "-name", "issuing_ca", "-extensions", "v3_tls", "-days", "30", "-in", csr,
                            "-out", out], capture_output=True, check=True, env=env, cwd=pki)
            with open(out) as f:
                return f.read()
        finally:
            os.unlink(csr)


class Handler(BaseHTTPRequestHandler):
    server_version = "Microsoft-IIS/10.0 (amt-preflight lab stand-in)"
    state = None

    def log_message(self, fmt, *a):
        print("%s %s" % (self.address_string(), fmt % a), flush=True)

    def send(self, code, body, ctype="text/html; charset=UTF-8", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, pw = "", None
            if self.state.users.get(user.lower()) == pw:
                return True
        self.send(401, page("Unauthorized", "401 - Unauthorized"),
                  extra=[("WWW-Authenticate", 'Basic realm="certsrv"')])
        return False

    def do_GET(self):
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path.rstrip("/").lower() == "/certsrv":
            self.send(200, page("Welcome", "Use this Web site to request a certificate."))
        elif url.path.lower() == "/certsrv/certnew.cer" and q.get("ReqID", [""])[0].isdigit():
            path = os.path.join(self.state.reqdir, "%d.pem" % int(q["ReqID"][0]))
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self.send(200, f.read(), ctype="application/pkix-cert")
            else:
                self.send(200, page("Error", "Disposition message:\t\tThe request has not been issued"))
        else:
            self.send(404, page("Not Found", "404 - File or directory not found."))

    def do_POST(self):
        if not self.authorized():
            return
        if urllib.parse.urlsplit(self.path).path.lower() != "/certsrv/certfnsh.asp":
            self.send(404, page("Not Found", "404 - File or directory not found."))
            return
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(min(n, 1 << 20)).decode(errors="replace"))
        csr = form.get("CertRequest", [""])[0]
        attrib = form.get("CertAttrib", [""])[0]
        tmpl = re.search(r"CertificateTemplate:([^\r\n]*)", attrib)
        if form.get("Mode", [""])[0] != "newreq" or "BEGIN CERTIFICATE REQUEST" not in csr:
            self.send(200, page("Certificate Server Error", "Your request could not be processed."))
            return
        with LOCK:
            req_id = self.state.next_id()
            mode = self.state.mode()
            message = None
            if not tmpl or tmpl.group(1).strip().lower() not in self.state.templates:
                message = DENY_UNSUPPORTED.format(tmpl.group(1) if tmpl else "(none)")
            elif mode == "deny":
                message = DENY_PERMISSION
            elif mode == "pending":
                body = ("Your certificate request has been received. However, you must wait for an "
                        "administrator to issue the certificate you requested.<P>Your Request Id is %d.<P>"
                        "Please return to this web site in a day or two to retrieve your certificate." % req_id)
                self.send(200, page("Certificate Pending", body))
                return
            else:
                try:
                    self.state.issue(req_id, csr)
                except (subprocess.CalledProcessError, ValueError) as e:
                    message = "Error Parsing Request  %s" % e
            if message:
                body = ('Your certificate request was denied.<P>Your Request Id is %d. The disposition '
                        'message is "%s"' % (req_id, html.escape(message, quote=False)))
                self.send(200, page("Certificate Request Denied", body))
                return
        body = ('The certificate you requested was issued to you.<P>'
                '<A Href="certnew.cer?ReqID=%d&amp;Enc=bin">DER encoded</A> or '
                '<A Href="certnew.cer?ReqID=%d&amp;Enc=b64">Base 64 encoded</A>' % (req_id, req_id))
        self.send(200, page("Certificate Issued", body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("cert")
    ap.add_argument("key")
    ap.add_argument("pki")
    ap.add_argument("users")
    ap.add_argument("mode_file")
    ap.add_argument("--templates", default="AMTWebServer,AMTProvisioning,WebServer")
    args = ap.parse_args()
    Handler.state = State(args)
    srv = ThreadingHTTPServer((args.addr, args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
