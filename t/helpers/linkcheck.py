#!/usr/bin/python3
"""Crawl a static site and check every internal link, for mlmd's tests.

usage: linkcheck.py [--pages FILE] [--types FILE] [--max N] START_URL...
       linkcheck.py --dir ROOT [--pages FILE] START_FILE...

HTTP mode: breadth-first from each START_URL, every href/src/srcset of
every HTML page fetched that stays on the start's origin and under the
start's folder prefix (the crawl's "scope", e.g. /archive/) is requested
with GET and must answer 200; HTML answers in scope are parsed in turn.
A link leaving the scope but on the same origin is still checked, not
crawled.  Other origins are not fetched (cdp.py checks that nothing
loads them).

Dir mode: the same over files under ROOT: a relative link (query and
fragment removed) must name an existing file (a folder: its index.html);
links with a query (dynamic pages like search?q=) are not checked.

Output: "BROKEN TARGET (from PAGE): REASON" for each broken link, a
summary "CHECKED links=N pages=M broken=K" last.  --pages FILE gets the
HTML pages found, one a line; --types FILE "URL<TAB>STATUS<TAB>TYPE" for
every URL fetched.  Exit 0 if nothing is broken, 1 otherwise.
"""
import argparse
import collections
import html.parser
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

LINK_ATTRS = {"href", "src", "poster", "data", "action", "formaction",
              "background", "cite", "longdesc"}


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.base = None

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if v is None:
                continue
            if tag == "base" and k == "href":
                self.base = v
            if k in LINK_ATTRS:
                # A GET form's action needs its fields: not a link.
                if k == "action" and tag == "form":
                    continue
                self.links.append(v.strip())
            elif k in ("srcset", "imagesrcset"):
                for part in v.split(","):
                    u = part.strip().split(" ")[0]
                    if u:
                        self.links.append(u)

    handle_startendtag = handle_starttag


def parse(text):
    p = Links()
    try:
        p.feed(text)
        p.close()
    except Exception as e:  # html.parser copes with nearly anything
        print("BROKEN parse: %s" % e)
    return p


def fetch(url):
    """(status, content type, body bytes or b'')"""
    req = urllib.request.Request(url, headers={"User-Agent": "linkcheck"})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return (r.status, r.headers.get("Content-Type", ""),
                    r.read(8 << 20))
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), b""
    except (urllib.error.URLError, OSError, ValueError) as e:
        return 0, str(e), b""


def is_html(ctype):
    return ctype.split(";")[0].strip().lower() == "text/html"


def crawl_http(o):
    queue = collections.deque()
    seen = {}           # url -> referring page
    scopes = []
    for s in o.start:
        u = urllib.parse.urldefrag(s)[0]
        p = urllib.parse.urlsplit(u)
        scopes.append((p.scheme, p.netloc,
                       p.path[:p.path.rfind("/") + 1]))
        seen[u] = "(start)"
        queue.append(u)
    origin = {(s[0], s[1]) for s in scopes}
    pages, broken, types = [], 0, []
    nlinks = 0
    while queue:
        url = queue.popleft()
        st, ctype, body = fetch(url)
        types.append("%s\t%s\t%s" % (url, st, ctype))
        if st != 200:
            broken += 1
            print("BROKEN %s (from %s): %s" % (url, seen[url],
                                               st or ctype))
            continue
        p = urllib.parse.urlsplit(url)
        in_scope = any(p.scheme == s and p.netloc == n and
                       p.path.startswith(d) for s, n, d in scopes)
        if not is_html(ctype) or not in_scope:
            continue
        if len(pages) >= o.max:
            print("BROKEN %s: more than %d pages, crawl stopped" %
                  (url, o.max))
            broken += 1
            break
        pages.append(url)
        doc = parse(body.decode("utf-8", "replace"))
        base = urllib.parse.urljoin(url, doc.base) if doc.base else url
        for link in doc.links:
            nlinks += 1
            t = urllib.parse.urldefrag(urllib.parse.urljoin(base, link))[0]
            q = urllib.parse.urlsplit(t)
            if (q.scheme, q.netloc) not in origin:
                continue
            if t not in seen:
                seen[t] = url
                queue.append(t)
    return pages, broken, nlinks, types


def crawl_dir(o):
    root = os.path.realpath(o.dir)
    queue = collections.deque()
    seen = {}
    for s in o.start:
        f = os.path.realpath(os.path.join(root, s))
        seen[f] = "(start)"
        queue.append(f)
    pages, broken, nlinks = [], 0, 0
    while queue:
        f = queue.popleft()
        if os.path.isdir(f):
            f = os.path.join(f, "index.html")
        if not f.startswith(root + os.sep) or not os.path.isfile(f):
            broken += 1
            print("BROKEN %s (from %s): no such file" % (f, seen.get(f)))
            continue
        if not f.endswith((".html", ".htm")):
            continue
        pages.append(f)
        with open(f, encoding="utf-8", errors="replace") as fh:
            doc = parse(fh.read())
        for link in doc.links:
            nlinks += 1
            s = urllib.parse.urlsplit(link)
            if s.scheme or s.netloc or s.query or not s.path:
                continue
            path = urllib.parse.unquote(s.path)
            if path.startswith("/"):
                t = os.path.join(root, path.lstrip("/"))
            else:
                t = os.path.join(os.path.dirname(f), path)
            t = os.path.realpath(t)
            if t not in seen:
                seen[t] = f
                queue.append(t)
    return pages, broken, nlinks, []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--pages")
    ap.add_argument("--types")
    ap.add_argument("--max", type=int, default=5000)
    ap.add_argument("start", nargs="+")
    o = ap.parse_args()
    pages, broken, nlinks, types = (crawl_dir(o) if o.dir
                                    else crawl_http(o))
    if o.pages:
        with open(o.pages, "w") as f:
            f.write("".join(p + "\n" for p in pages))
    if o.types:
        with open(o.types, "w") as f:
            f.write("".join(t + "\n" for t in types))
    print("CHECKED links=%d pages=%d broken=%d" % (nlinks, len(pages),
                                                    broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
