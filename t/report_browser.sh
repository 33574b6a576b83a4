#!/bin/sh
# report_browser.sh - the participation report's HTML page (issue 9) as a
# browser sees it.  t/report_html_test writes its hand-made report in
# every language (REPORT_HTML_DUMP); headless Chromium, driven over the
# DevTools pipe (t/helpers/cdp.py), opens each from disk (file://) at
# 1280 pixels: the page loads and has its title and
# language, no console call and no exception, no request but the page
# itself, three SVG charts of non-zero size each with a <title>, no
# horizontal overflow; Arabic is right-to-left.  A full-page screenshot
# of each goes to $T_DIR/shots (the English one to
# doc/screenshots/report-1280.png when MLMD_SHOTS_OUT is set).
#
# Skips without chromium (CI installs it: ./quickstart).
. "${top_srcdir:-.}/t/lib.sh"

GEN=$top_builddir/t/report_html_test
[ -x "$GEN" ] || skip_all "t/report_html_test is not built"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}
[ -n "$CHROMIUM" ] || skip_all "chromium is not installed"
export CHROMIUM

LANGS="en da sv nb fi is ar"
plan 10

PAGES=$T_DIR/pages
SHOTS=$T_DIR/shots
mkdir -p "$PAGES" "$SHOTS"

REPORT_HTML_DUMP=$PAGES top_srcdir=$top_srcdir "$GEN" >"$T_DIR/gen.out" 2>&1
n=0
for l in $LANGS; do
	[ -s "$PAGES/report-$l.html" ] && n=$((n + 1))
done
is "$n" 7 "report_html_test wrote the page in seven languages"

# From disk, as a coordinator opens an attachment (over HTTP Chromium
# would fetch /favicon.ico on its own, whatever the page says).
ORIGIN=file://$PAGES

cat >"$T_DIR/probe.py" <<'PYEOF'
"""Open each page at 1280 px; print FAIL/SHOT/INFO lines, DONE last."""
import base64, json, os, sys
sys.path.insert(0, sys.argv[1])
import cdp

origin, shots, profile = sys.argv[2], sys.argv[3], sys.argv[4]
langs = sys.argv[5:]
PROBE = r"""
(() => {
  const d = document, h = d.documentElement, out = {};
  out.title = d.title;
  out.h1 = (d.querySelector('h1') || {}).textContent || '';
  out.lang = h.getAttribute('lang');
  out.direction = getComputedStyle(h).direction;
  out.scripts = d.getElementsByTagName('script').length;
  out.svgs = [...d.querySelectorAll('svg')].map(s => {
    const r = s.getBoundingClientRect();
    return {w: r.width, h: r.height,
            title: (s.querySelector(':scope > title') || {}).textContent || '',
            label: s.getAttribute('aria-label') || '',
            marks: s.querySelectorAll('rect, polyline, circle').length};
  });
  out.scrollWidth = h.scrollWidth;
  out.innerWidth = window.innerWidth;
  out.height = h.scrollHeight;
  return JSON.stringify(out);
})()
"""
fails = 0
def fail(kind, lang, detail):
    global fails
    fails += 1
    print("FAIL %s %s %s" % (kind, lang, " ".join(str(detail).split())[:300]),
          flush=True)

b = cdp.Browser(os.environ["CHROMIUM"], profile,
                open(os.path.join(profile, "chromium.log"), "ab"))
try:
    print("INFO %s" % b.send("Browser.getVersion", session=False,
                             timeout=30).get("product"), flush=True)
    b.open_tab()
except cdp.CDPError as e:
    print("INFO chromium not drivable: %s" % e, flush=True)
    b.close()
    sys.exit(2)
run = cdp.Run(b, origin, 15)
run.fail = lambda kind, url, detail: fail(kind, url, detail)
try:
    for lang in langs:
        url = "%s/report-%s.html" % (origin, lang)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": 900, "deviceScaleFactor": 1,
                "mobile": False})
        evs, _ = run.load(url)
        for ev in evs:
            m, q = ev.get("method"), ev.get("params", {})
            if m == "Network.requestWillBeSent":
                u = q.get("request", {}).get("url", "")
                if u != url:
                    fail("request", lang, u)
            elif m == "Runtime.consoleAPICalled":
                fail("console", lang, q.get("type"))
            elif m == "Runtime.exceptionThrown":
                fail("console", lang, "exception")
            elif m == "Log.entryAdded":
                e = q.get("entry", {})
                if e.get("level") == "error":
                    fail("console", lang, e.get("text", ""))
        p = json.loads(b.send("Runtime.evaluate",
                              {"expression": PROBE,
                               "returnByValue": True})
                       ["result"]["value"])
        if not p["title"] or not p["h1"] or p["h1"] not in p["title"]:
            fail("render", lang, "title %r h1 %r" % (p["title"], p["h1"]))
        if p["scripts"]:
            fail("render", lang, "%d scripts" % p["scripts"])
        if p["lang"] != lang:
            fail("lang", lang, "lang=%s" % p["lang"])
        want = "rtl" if lang == "ar" else "ltr"
        if p["direction"] != want:
            fail("lang", lang, "direction %s, want %s" % (p["direction"], want))
        s = p["svgs"]
        if len(s) != 3:
            fail("svg", lang, "%d svg elements" % len(s))
        for i, g in enumerate(s):
            if g["w"] < 300 or g["h"] < 100 or not g["title"] or \
                    g["label"] != g["title"] or g["marks"] < 3:
                fail("svg", lang, "chart %d: %r" % (i + 1, g))
        print("INFO %s svg %s" % (lang, " ".join(
            "%dx%d" % (g["w"], g["h"]) for g in s)), flush=True)
        if p["scrollWidth"] > p["innerWidth"]:
            fail("overflow", lang, "scrollWidth %d > %d" % (
                p["scrollWidth"], p["innerWidth"]))
        # The whole page in one picture.
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": min(max(p["height"], 900), 8000),
                "deviceScaleFactor": 1, "mobile": False})
        shot = b.send("Page.captureScreenshot", {"format": "png"}, timeout=30)
        path = os.path.join(shots, "report-%s-1280.png" % lang)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print("SHOT %s" % path, flush=True)
except (cdp.CDPError, KeyError, ValueError) as e:
    fail("cdp", "-", e)
finally:
    b.close()
print("DONE pages=%d failures=%d" % (len(langs), fails))
sys.exit(1 if fails else 0)
PYEOF

mkdir -p "$T_DIR/chrome"
$PY "$T_DIR/probe.py" "$top_srcdir/t/helpers" "$ORIGIN" "$SHOTS" \
	"$T_DIR/chrome" $LANGS >"$T_DIR/cdp.out" 2>&1
rc=$?
diag "$(grep -m1 '^INFO Chrom' "$T_DIR/cdp.out" | cut -c6-), $(tail -n1 "$T_DIR/cdp.out")"
ok "Chromium was driven over the DevTools pipe" \
	sh -c "[ $rc -ne 2 ] && grep -q '^DONE pages=7' '$T_DIR/cdp.out'"
[ "$rc" -ne 2 ] || tail -n 20 "$T_DIR/cdp.out" | sed 's/^/# /'

# no_fail KIND DESC
no_fail() {
	if grep -q "^FAIL $1 " "$T_DIR/cdp.out"; then
		fail "$2"
		grep "^FAIL $1 " "$T_DIR/cdp.out" | head -10 | sed 's/^/# /'
	else
		pass "$2"
	fi
}
no_fail load "every page loads"
no_fail render "every page renders with its title, no script"
no_fail console "no console message, error or exception"
no_fail request "no request but the page itself"
no_fail svg "three SVG charts of non-zero size with a title, each page"
no_fail overflow "no horizontal overflow at 1280 pixels"
no_fail lang "each page carries its language and direction"
grep '^INFO [a-z][a-z] svg' "$T_DIR/cdp.out" | cut -c6- | while read -r s; do
	diag "$s"
done
grep '^SHOT ' "$T_DIR/cdp.out" | cut -c6- >"$T_DIR/shots.list"
if [ "$(wc -l <"$T_DIR/shots.list")" -eq 7 ] &&
	[ -s "$SHOTS/report-en-1280.png" ]; then
	pass "seven screenshots at 1280 pixels"
else
	fail "seven screenshots at 1280 pixels"
fi
if [ -n "${MLMD_SHOTS_OUT:-}" ] && [ -s "$SHOTS/report-en-1280.png" ]; then
	mkdir -p "$top_srcdir/doc/screenshots" &&
		cp "$SHOTS/report-en-1280.png" \
			"$top_srcdir/doc/screenshots/report-1280.png" &&
		diag "copied to $top_srcdir/doc/screenshots/report-1280.png"
fi
done_testing
