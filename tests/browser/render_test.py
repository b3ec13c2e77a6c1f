#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Renders an HTML report in headless Chromium and asserts on what a reader gets.

    render_test.py [options] REPORT.html [EXPECT ...]

Checks, on the DOM Chromium built (not on our source text):
  - every EXPECT string appears in the rendered text (entities decoded, so a
    hostile "<script>" given as EXPECT must be shown as literal text);
  - no element that runs or loads anything exists (script, img, iframe, link,
    object, embed, base, form, svg, ...), no on* attribute, no src, no href
    other than an in-page "#anchor", no url() in a style attribute;
  - the <title> is the one in the file (a script that ran would typically
    change the document; this is a cheap tripwire);
  - the page made no network request: Chromium's net log (--log-net-log) holds
    no URL request initiated by the file:// page.

Chromium itself phones home (update, time, account checks) even with
--disable-background-networking, so it always runs inside an empty network
namespace (unshare -n, or unshare -rn without root): nothing can leave the
machine whatever the page or the browser tries. Without chromium or unshare
the test is skipped (exit 77).

Options:
  --before A B        text A must appear before text B (repeatable)
  --absent S          text S must not appear (repeatable)
  --screenshots DIR   also write DIR/desktop.png (1280 wide) and DIR/narrow.png (390 wide)
  --self-test         first prove the detectors work on a page that has a
                      script, an image and a stylesheet link (must be flagged)
Exit: 0 pass, 1 fail, 77 skipped.
"""
import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-pings", "--disable-domain-reliability",
    "--disable-breakpad", "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    # Belts and braces inside the empty namespace: nothing resolves, every proxy connect fails.
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
]

FORBIDDEN_TAGS = {
    "script", "img", "iframe", "frame", "frameset", "object", "embed", "link", "base", "form", "input",
    "button", "svg", "math", "video", "audio", "source", "track", "picture", "canvas", "applet",
    "noscript", "template", "portal", "fencedframe",
}
SKIP = 77


class DomScan(html.parser.HTMLParser):
    """Collects visible text, the title and every policy violation."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.title = None
        self.problems = []
        self._stack = []

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        if tag in FORBIDDEN_TAGS:
            self.problems.append("forbidden element <%s>" % tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append("event handler %s on <%s>" % (name, tag))
            if name in ("src", "srcset", "action", "formaction", "poster", "data", "background", "ping"):
                self.problems.append("loading attribute %s=%r on <%s>" % (name, value, tag))
            if name == "href" and not value.startswith("#"):
                self.problems.append("non-anchor href=%r on <%s>" % (value, tag))
            if name == "style" and "url(" in value.lower():
                self.problems.append("url() in style attribute on <%s>" % tag)
            if tag == "meta" and name == "http-equiv" and value.lower() == "refresh":
                self.problems.append("meta refresh")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._stack.pop()

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data):
        cur = self._stack[-1] if self._stack else ""
        if cur == "title":
            self.title = (self.title or "") + data
        elif cur not in ("style", "head"):
            self.text.append(data)


def netns_prefix():
    """Command prefix that runs a program with no network at all, or None."""
    if not shutil.which("unshare"):
        return None
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run(prefix + ["true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            pass
    return None


def chromium(prefix, exe, url, extra, timeout=60):
    profile = tempfile.mkdtemp(prefix="apf-chromium-")
    try:
        cmd = prefix + [exe] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile] + extra + [url]
        return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True, errors="replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def page_requests(netlog_path):
    """URLs of requests the page made (not Chromium's own background traffic)."""
    with open(netlog_path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    try:
        log = json.loads(raw)
    except json.JSONDecodeError:
        # Chromium may be killed before it closes the JSON; its events are one per line.
        log = json.loads(raw.rstrip().rstrip(",") + "]}")
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for ev in log.get("events", []):
        if names.get(ev.get("type")) != "URL_REQUEST_START_JOB":
            continue
        p = ev.get("params") or {}
        if "url" not in p:
            continue
        origin = " ".join(str(p.get(k, "")) for k in ("initiator", "network_isolation_key", "site_for_cookies"))
        # Requests from the document carry the file:// page as their site; the browser's
        # own (update, time) carry "null"/"not an origin".
        if "file://" in origin or p["url"].startswith("file:"):
            urls.append(p["url"])
    return urls


def source_title(path):
    scan = DomScan()
    with open(path, encoding="utf-8", errors="replace") as f:
        scan.feed(f.read())
    return scan.title


def render(prefix, exe, path, workdir):
    """Returns (DomScan of the rendered DOM, page request URLs)."""
    netlog = os.path.join(workdir, "net-log.json")
    url = "file://" + os.path.abspath(path)
    res = chromium(prefix, exe, url, ["--log-net-log=" + netlog, "--net-log-capture-mode=Everything", "--dump-dom"])
    if res.returncode != 0 or not res.stdout.strip():
        raise RuntimeError("chromium failed (%d): %s" % (res.returncode, res.stderr[-2000:]))
    scan = DomScan()
    scan.feed(res.stdout)
    return scan, page_requests(netlog)


def check(prefix, exe, path, args, workdir):
    errors = []
    scan, requests = render(prefix, exe, path, workdir)
    text = " ".join("".join(scan.text).split())
    errors += scan.problems
    for u in requests:
        errors.append("page made a request: " + u)
    want_title = source_title(path)
    if scan.title != want_title:
        errors.append("title changed from %r to %r (did a script run?)" % (want_title, scan.title))
    for s in args.expect:
        if " ".join(s.split()) not in text:
            errors.append("expected text not rendered: %r" % s)
    for s in args.absent:
        if " ".join(s.split()) in text:
            errors.append("text must not be rendered: %r" % s)
    for a, b in args.before:
        ia, ib = text.find(" ".join(a.split())), text.find(" ".join(b.split()))
        if ia < 0 or ib < 0 or ia > ib:
            errors.append("%r must appear before %r (at %d, %d)" % (a, b, ia, ib))
    return errors


def self_test(prefix, exe, workdir):
    """The detectors must flag a page that runs a script and loads things."""
    bad = os.path.join(workdir, "bad.html")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p>"
                "<img src=\"http://192.0.2.99/i.png\"><link rel=stylesheet href=\"https://192.0.2.98/s.css\">"
                "<script>document.title='ran'</script></body></html>")
    scan, requests = render(prefix, exe, bad, workdir)
    missing = []
    if not any("<script>" in p for p in scan.problems):
        missing.append("script element")
    if not any("<img>" in p for p in scan.problems):
        missing.append("img element")
    if "http://192.0.2.99/i.png" not in requests:
        missing.append("image request in the net log")
    if scan.title != "ran":
        missing.append("script execution (title)")
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("expect", nargs="*")
    ap.add_argument("--before", nargs=2, action="append", default=[], metavar=("A", "B"))
    ap.add_argument("--absent", action="append", default=[])
    ap.add_argument("--screenshots")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()

    exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("SKIP: chromium not found")
        return SKIP
    prefix = netns_prefix()
    if prefix is None:
        print("SKIP: cannot create an empty network namespace (unshare -n); refusing to run chromium with network")
        return SKIP
    if not os.path.isfile(args.report):
        print("FAIL: no such report: " + args.report)
        return 1

    workdir = tempfile.mkdtemp(prefix="apf-render-")
    try:
        if args.self_test:
            missing = self_test(prefix, exe, workdir)
            if missing:
                print("FAIL: self-test: the detectors missed: " + ", ".join(missing))
                return 1
            print("ok: self-test flagged script, img, request and script execution")
        errors = check(prefix, exe, args.report, args, workdir)
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
            url = "file://" + os.path.abspath(args.report)
            for name, size in (("desktop", "1280,2000"), ("narrow", "390,2000")):
                out = os.path.join(os.path.abspath(args.screenshots), name + ".png")
                chromium(prefix, exe, url, ["--window-size=" + size, "--screenshot=" + out])
                print("screenshot: " + out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for e in errors:
        print("FAIL: " + e)
    if errors:
        return 1
    print("ok: %s rendered; %d expected strings shown, no active content, no request" % (args.report, len(args.expect)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
