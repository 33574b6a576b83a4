#!/usr/bin/python3
"""Drive headless Chromium over the DevTools protocol for mlmd's tests.

usage: cdp.py --origin http://127.0.0.1:PORT [--pages FILE]
              [--views FILE --shots DIR] [--profile DIR] [--timeout S]

Python 3 standard library only.  Chromium is started as
`chromium --headless=new --no-sandbox --remote-debugging-pipe ...` (root in
CI needs --no-sandbox); the protocol runs over the child's fds 3 (we write)
and 4 (we read), one JSON message per NUL-terminated record.  One tab is
opened and reused for every page.

--pages FILE: one URL a line.  Each page is loaded with the page's own
Content-Security-Policy bypassed (Page.setBypassCSP): the archive is plain
static files that any web server may serve without mlmd's headers, so its
markup alone must be safe.  A page fails on:
  script     a <script> element in the document
  active     iframe/frame/object/embed/base/meta-refresh elements, on*
             attributes, javascript:/vbscript:/data: URLs in links
  request    a request to anything but the origin (favicon included)
  status     a same-origin sub-resource answering >= 400 (not favicon.ico)
  console    any console API call (the archive has no script of its own)
  exception  any uncaught JavaScript exception
  dialog     alert/confirm/prompt/beforeunload
  title      document.title is "PWNED"
  navigate   the main frame left the URL it was given (meta refresh, ...)
  load       the page did not load within the timeout

--views FILE: lines "NAME URL ltr|rtl [LANG]"; each is shown at widths 360 and
1280 (Emulation.setDeviceMetricsOverride; not "mobile", where Chromium
would zoom out to fit a too-wide page and so hide the overflow), must not overflow horizontally
(documentElement.scrollWidth <= innerWidth: "overflow"), must have the
given computed direction on <html> ("direction") and the primary
language subtag LANG in html[lang] ("lang"), and is saved as
DIR/NAME-WIDTH.png (printed as "SHOT PATH").

Output, one line each: "FAIL KIND URL DETAIL", "SHOT PATH", "INFO ...",
and last "DONE pages=N views=M failures=K".  Exit 0 without failures,
1 with, 2 if Chromium could not be driven at all.
"""
import argparse
import base64
import fcntl
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

WIDTHS = (360, 1280)

# Runs in the page; returns a JSON string.  URL schemes are checked on the
# parsed URL, so "java&#9;script:" tricks are seen as the browser sees them.
PROBE = r"""
(() => {
  const d = document, out = {bad: []};
  const bad = (s) => { if (out.bad.length < 20) out.bad.push(s); };
  const evil = /^(javascript|vbscript|data):$/i;
  const urlattr = /^(href|src|action|formaction|xlink:href|data|poster|background|srcset|ping|lowsrc|dynsrc|codebase|cite|longdesc|manifest)$/i;
  for (const el of d.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'frame', 'frameset', 'object', 'embed', 'base', 'applet',
         'portal', 'fencedframe'].includes(tag))
      bad('<' + tag + '>');
    if (tag === 'meta' && /refresh|set-cookie/i.test(el.getAttribute('http-equiv') || ''))
      bad('<meta http-equiv=' + el.getAttribute('http-equiv') + '>');
    for (const a of el.attributes) {
      if (/^on/i.test(a.name))
        bad('<' + tag + ' ' + a.name + '>');
      if (urlattr.test(a.name)) {
        let p = '';
        try { p = new URL(a.value.trim(), d.baseURI).protocol; } catch (e) {}
        if (evil.test(p))
          bad('<' + tag + ' ' + a.name + '=' + a.value.slice(0, 40) + '>');
      }
    }
  }
  const h = d.documentElement;
  out.scripts = d.getElementsByTagName('script').length;
  out.title = d.title;
  out.href = location.href;
  out.lang = h.getAttribute('lang');
  out.dir = h.getAttribute('dir');
  out.direction = getComputedStyle(h).direction;
  out.scrollWidth = h.scrollWidth;
  out.innerWidth = window.innerWidth;
  return JSON.stringify(out);
})()
"""


class CDPError(Exception):
    pass


def high_fd(fd):
    n = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return n


class Browser:
    """Chromium with --remote-debugging-pipe; one attached tab."""

    def __init__(self, exe, profile, log):
        r_cmd, w_cmd = os.pipe()    # we write commands, chromium reads fd 3
        r_ev, w_ev = os.pipe()      # chromium writes fd 4, we read
        # Above 4, so that the dup2() calls in the child cannot clobber
        # one another.
        r_cmd, w_ev = (high_fd(r_cmd), high_fd(w_ev))
        args = [exe, "--headless=new", "--no-sandbox",
                "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-default-apps",
                "--disable-sync", "--disable-breakpad",
                "--disable-features=Translate,MediaRouter,"
                "OptimizationHints,DialMediaRouteProvider",
                "--hide-scrollbars", "--mute-audio",
                "--force-color-profile=srgb", "--no-proxy-server",
                "--password-store=basic", "--use-mock-keychain",
                "about:blank"]
        env = dict(os.environ)
        # Chromium writes under $HOME (.pki, .config): keep it in the
        # profile, inside the test's own folder.
        env["HOME"] = profile

        # close_fds would run after preexec_fn and close 3 and 4 again;
        # every other descriptor of ours is close-on-exec anyway.
        def child():
            os.dup2(r_cmd, 3)
            os.dup2(w_ev, 4)
            os.setsid()

        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=env,
                                     close_fds=False, preexec_fn=child)
        os.close(r_cmd)
        os.close(w_ev)
        self.w = w_cmd
        self.r = r_ev
        self.next_id = 0
        self.replies = {}
        self.cond = threading.Condition()
        self.events = queue.Queue()
        self.closed = False
        self.session = None
        self.frame = None
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                rec, buf = buf.split(b"\0", 1)
                try:
                    m = json.loads(rec)
                except ValueError:
                    continue
                if "id" in m:
                    with self.cond:
                        self.replies[m["id"]] = m
                        self.cond.notify_all()
                else:
                    self.events.put(m)
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def send(self, method, params=None, session=True, timeout=20):
        self.next_id += 1
        i = self.next_id
        m = {"id": i, "method": method, "params": params or {}}
        if session and self.session:
            m["sessionId"] = self.session
        data = json.dumps(m).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.w, data):]
        except OSError as e:
            raise CDPError("%s: %s" % (method, e))
        end = time.monotonic() + timeout
        with self.cond:
            while i not in self.replies:
                left = end - time.monotonic()
                if self.closed or left <= 0:
                    raise CDPError("%s: no answer (%s)" % (
                        method, "chromium exited" if self.closed
                        else "timeout"))
                self.cond.wait(left)
            r = self.replies.pop(i)
        if "error" in r:
            raise CDPError("%s: %s" % (method, r["error"].get("message")))
        return r.get("result", {})

    def open_tab(self):
        t = self.send("Target.createTarget", {"url": "about:blank"},
                      session=False)
        a = self.send("Target.attachToTarget",
                      {"targetId": t["targetId"], "flatten": True},
                      session=False)
        self.session = a["sessionId"]
        for d in ("Page", "Runtime", "Network", "Log"):
            self.send(d + ".enable")
        self.send("Page.setBypassCSP", {"enabled": True})
        self.frame = self.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        self.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def drain(self):
        evs = []
        while True:
            try:
                evs.append(self.events.get_nowait())
            except queue.Empty:
                return evs

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except CDPError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)


def same_origin(url, origin):
    return url == origin or url.startswith(origin + "/")


class Run:
    def __init__(self, b, origin, timeout):
        self.b = b
        self.origin = origin
        self.timeout = timeout
        self.failures = 0

    def fail(self, kind, url, detail):
        self.failures += 1
        detail = " ".join(str(detail).split())[:300]
        print("FAIL %s %s %s" % (kind, url, detail), flush=True)

    def load(self, url):
        """Navigate, wait for load and a quiet network; return (events,
        probe dict or None)."""
        b = self.b
        b.drain()
        evs = []
        try:
            nav = b.send("Page.navigate", {"url": url},
                         timeout=self.timeout)
        except CDPError as e:
            self.fail("load", url, e)
            return evs, None
        if nav.get("errorText"):
            self.fail("load", url, nav["errorText"])
        end = time.monotonic() + self.timeout
        loaded = False
        quiet = None
        while time.monotonic() < end:
            try:
                ev = b.events.get(timeout=0.05)
            except queue.Empty:
                if loaded and time.monotonic() >= quiet:
                    break
                continue
            evs.append(ev)
            if ev.get("method") == "Page.javascriptDialogOpening":
                # Dismiss it or the page blocks every later command.
                try:
                    b.send("Page.handleJavaScriptDialog", {"accept": False},
                           timeout=5)
                except CDPError:
                    pass
            if ev.get("method") == "Page.loadEventFired":
                loaded = True
            # A quiet spell of 150 ms after the load event: late
            # fetches, timers and meta refreshes have had their chance.
            quiet = time.monotonic() + 0.15
        if not loaded:
            self.fail("load", url, "no load event in %ss" % self.timeout)
        try:
            r = b.send("Runtime.evaluate",
                       {"expression": PROBE, "returnByValue": True},
                       timeout=10)
            probe = json.loads(r["result"]["value"])
        except (CDPError, KeyError, ValueError, TypeError) as e:
            self.fail("load", url, "probe: %s" % e)
            probe = None
        evs += b.drain()
        return evs, probe

    def check_page(self, url):
        evs, p = self.load(url)
        for ev in evs:
            m, q = ev.get("method"), ev.get("params", {})
            if m == "Network.requestWillBeSent":
                u = q.get("request", {}).get("url", "")
                if not same_origin(u, self.origin):
                    self.fail("request", url, u[:200])
            elif m == "Network.responseReceived":
                resp = q.get("response", {})
                u = resp.get("url", "")
                if (resp.get("status", 0) >= 400 and u != url and
                        not u.endswith("/favicon.ico")):
                    self.fail("status", url, "%s %s" % (resp["status"], u))
            elif m == "Network.loadingFailed":
                if not q.get("canceled"):
                    self.fail("status", url, "load failed: %s" %
                              q.get("errorText"))
            elif m == "Runtime.consoleAPICalled":
                args = [a.get("value", a.get("description", ""))
                        for a in q.get("args", [])]
                self.fail("console", url, "%s %s" % (q.get("type"), args))
            elif m == "Runtime.exceptionThrown":
                d = q.get("exceptionDetails", {})
                self.fail("exception", url, d.get("exception", {}).get(
                    "description", d.get("text")))
            elif m == "Page.javascriptDialogOpening":
                self.fail("dialog", url, "%s %s" % (q.get("type"),
                                                    q.get("message")))
            elif m in ("Page.frameRequestedNavigation",
                       "Page.frameScheduledNavigation"):
                if q.get("frameId") == self.b.frame:
                    self.fail("navigate", url, "%s to %s" % (
                        m, q.get("url")))
            elif m == "Page.frameNavigated":
                f = q.get("frame", {})
                if f.get("parentId"):
                    self.fail("active", url, "subframe " + f.get("url", ""))
                elif f.get("url") != url:
                    self.fail("navigate", url, "main frame at " +
                              f.get("url", ""))
            elif m == "Log.entryAdded":
                e = q.get("entry", {})
                if e.get("level") in ("error", "warning"):
                    print("INFO log %s %s" % (url, " ".join(
                        e.get("text", "").split())[:200]), flush=True)
        if p is None:
            return
        if p["scripts"]:
            self.fail("script", url, "%d <script> elements" % p["scripts"])
        for s in p["bad"]:
            self.fail("active", url, s)
        if p["title"] == "PWNED":
            self.fail("title", url, "document.title is PWNED")
        if p["href"] != url:
            self.fail("navigate", url, "ended at " + p["href"])

    def check_view(self, name, url, want_dir, want_lang, shots):
        for w in WIDTHS:
            self.b.send("Emulation.setDeviceMetricsOverride",
                        {"width": w, "height": 800, "deviceScaleFactor": 1,
                         "mobile": False})
            _, p = self.load(url)
            if p is None:
                continue
            tag = "%s@%d" % (name, w)
            if p["scrollWidth"] > p["innerWidth"]:
                self.fail("overflow", url, "%s: scrollWidth %d > "
                          "innerWidth %d" % (tag, p["scrollWidth"],
                                             p["innerWidth"]))
            if p["direction"] != want_dir:
                self.fail("direction", url, "%s: direction %s, want %s "
                          "(lang=%s dir=%s)" % (tag, p["direction"],
                                                want_dir, p["lang"],
                                                p["dir"]))
            lang = (p["lang"] or "").lower()
            if want_lang and lang.split("-")[0] != want_lang:
                self.fail("lang", url, "%s: lang=%s, want %s" % (
                    tag, p["lang"], want_lang))
            try:
                shot = self.b.send("Page.captureScreenshot",
                                   {"format": "png"}, timeout=20)
                path = os.path.join(shots, "%s-%d.png" % (name, w))
                with open(path, "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
                print("SHOT %s" % path, flush=True)
            except CDPError as e:
                self.fail("shot", url, "%s: %s" % (tag, e))
        self.b.send("Emulation.clearDeviceMetricsOverride")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--origin", required=True)
    ap.add_argument("--pages")
    ap.add_argument("--views")
    ap.add_argument("--shots", default=".")
    ap.add_argument("--profile")
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM") or
                    shutil.which("chromium") or
                    shutil.which("chromium-browser"))
    o = ap.parse_args()
    if not o.chromium:
        print("INFO no chromium")
        return 2
    origin = o.origin.rstrip("/")
    profile = o.profile or tempfile.mkdtemp(prefix="cdp.")
    os.makedirs(profile, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(os.path.join(profile, "chromium.log"), "ab") as log:
        b = Browser(o.chromium, profile, log)
        try:
            ver = b.send("Browser.getVersion", session=False, timeout=30)
            print("INFO %s" % ver.get("product"), flush=True)
            b.open_tab()
        except CDPError as e:
            print("INFO chromium not drivable: %s" % e, flush=True)
            b.close()
            return 2
        run = Run(b, origin, o.timeout)
        npages = nviews = 0
        try:
            if o.pages:
                with open(o.pages) as f:
                    for url in f.read().split():
                        run.check_page(url)
                        npages += 1
            if o.views:
                os.makedirs(o.shots, exist_ok=True)
                with open(o.views) as f:
                    for line in f:
                        w = line.split()
                        if len(w) in (3, 4):
                            run.check_view(w[0], w[1], w[2],
                                           w[3] if len(w) == 4 else None,
                                           o.shots)
                            nviews += 1
        except CDPError as e:
            run.fail("cdp", "-", e)
        finally:
            b.close()
    print("DONE pages=%d views=%d failures=%d" % (npages, nviews,
                                                  run.failures))
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
