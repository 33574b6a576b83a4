#!/usr/bin/env python3
"""digest_check.py - check a digest made by mlmd/digest_compose.c the way a
mail reader sees it (python's email package, policy.default).

usage: digest_check.py mime|plain FILE EXPECT...

Each EXPECT is key=value, or @PATH naming a file of key=value lines (for
values a shell would mangle).  Keys:
  n=N          posts in the digest (message/rfc822 parts; plain: messages)
  id=ID        Message-IDs of the posts, in order (repeat; without <>)
  subject=S    mime: in the contents part; plain: the messages' Subjects
               in order (repeat)
  toc=S        text the contents must hold (repeat)
  request=A    the -request address: in the footer
  lang=L       Content-Language of the mail
  has=S / lacks=S   text the decoded digest must (not) hold (repeat)
Exit 0 if all holds, else 1 with the reasons on stderr.
"""
import email
import email.policy
import re
import sys

fails = []


def fail(why):
    fails.append(why)


def expectations(args):
    out = []
    for a in args:
        if a.startswith("@"):
            with open(a[1:], encoding="utf-8") as f:
                lines = [l.rstrip("\n") for l in f if "=" in l]
        else:
            lines = [a]
        for l in lines:
            k, v = l.split("=", 1)
            out.append((k, v))
    return out


def msgid(m):
    v = m.get("Message-ID", "")
    v = str(v).strip()
    return v[1:-1] if v.startswith("<") and v.endswith(">") else v


def text(part):
    try:
        return part.get_content()
    except Exception as e:  # a charset python does not know
        fail("cannot decode %s: %r" % (part.get_content_type(), e))
        return ""


def all_text(m):
    """Every decoded text in the message, inner messages included."""
    out = []
    for p in m.walk():
        if p.get_content_maintype() == "text":
            try:
                out.append(p.get_content())
            except Exception:
                pass
        elif p.get_content_type() == "message/rfc822":
            for h in ("Subject", "From", "Message-ID"):
                inner = p.get_payload(0) if p.is_multipart() else None
                if inner is not None and inner.get(h) is not None:
                    out.append(str(inner.get(h)))
    return "\n".join(out)


def check_mime(m, exp):
    get = lambda k: [v for kk, v in exp if kk == k]
    if m.get_content_type() != "multipart/mixed":
        fail("top is %s" % m.get_content_type())
        return ""
    parts = m.get_payload()
    if len(parts) != 3:
        fail("multipart/mixed has %d parts" % len(parts))
        return ""
    toc, dig, foot = parts
    if toc.get_content_type() != "text/plain":
        fail("first part is %s" % toc.get_content_type())
    t = text(toc)
    for s in get("subject") + get("toc"):
        if s not in t:
            fail("contents lack %r" % s)
    if dig.get_content_type() != "multipart/digest":
        fail("second part is %s" % dig.get_content_type())
        return t
    posts = dig.get_payload()
    for k in get("n"):
        if len(posts) != int(k):
            fail("digest has %d posts, want %s" % (len(posts), k))
    ids = []
    for i, p in enumerate(posts):
        if p.get_content_type() != "message/rfc822":
            fail("post %d is %s" % (i, p.get_content_type()))
            continue
        ids.append(msgid(p.get_payload(0)))
    want = get("id")
    if want and ids != want:
        fail("ids %r, want %r" % (ids, want))
    f = text(foot)
    if "digest off" not in f:
        fail("footer lacks 'digest off'")
    for r in get("request"):
        if r not in f:
            fail("footer lacks %r" % r)
    return all_text(m)


def check_plain(m, exp):
    get = lambda k: [v for kk, v in exp if kk == k]
    if m.is_multipart() or m.get_content_type() != "text/plain":
        fail("plain digest is %s" % m.get_content_type())
        return ""
    body = text(m)
    toc, sep, rest = body.partition("\n" + "-" * 70 + "\n")
    if not sep:
        fail("no line of 70 '-'")
        return body
    for s in get("toc"):
        if s not in toc:
            fail("contents lack %r" % s)
    chunks = re.split(r"(?m)^-{30}$", rest)
    msgs, trailer = chunks[:-1], chunks[-1]
    for k in get("n"):
        if len(msgs) != int(k):
            fail("burst into %d messages, want %s" % (len(msgs), k))
    subjects, ids = [], []
    for c in msgs:
        hdr = c.strip("\n").split("\n\n", 1)[0]
        h = dict(l.split(": ", 1) for l in hdr.split("\n") if ": " in l)
        subjects.append(h.get("Subject", ""))
        ids.append(h.get("Message-ID", "").strip("<>"))
    want = get("subject")
    if want and subjects != want:
        fail("subjects %r, want %r" % (subjects, want))
    want = get("id")
    if want and ids != want:
        fail("ids %r, want %r" % (ids, want))
    lines = [l for l in trailer.split("\n") if l.strip()]
    if len(lines) < 2 or set(lines[-1]) != {"*"} or \
            len(lines[-1]) != len(lines[-2]):
        fail("no End line with as many '*' under it: %r" % lines[-2:])
    if "digest off" not in trailer:
        fail("footer lacks 'digest off'")
    for r in get("request"):
        if r not in trailer:
            fail("footer lacks %r" % r)
    return body


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("mime", "plain"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    exp = expectations(sys.argv[3:])
    m = email.message_from_bytes(data, policy=email.policy.default)
    for k, v in exp:
        if k == "lang" and m.get("Content-Language") != v:
            fail("Content-Language %r, want %r" %
                 (m.get("Content-Language"), v))
    if "digest" not in str(m.get("From", "")).lower() and \
            not m.get("From", "").addresses:
        fail("no From")
    if m.get("Precedence") != "list" or not m.get("List-Id"):
        fail("no Precedence: list / List-Id")
    whole = (check_mime if sys.argv[1] == "mime" else check_plain)(m, exp)
    for k, v in exp:
        if k == "has" and v not in whole:
            fail("lacks %r" % v)
        if k == "lacks" and v in whole:
            fail("holds %r" % v)
    for f in fails:
        print("digest_check: " + f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
