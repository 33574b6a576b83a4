#!/usr/bin/python3
# bench/archive_gen.py N OUTDIR [SEED] - a realistic mailing-list mbox for
# bench/archive: N messages of one list over 12 months, deterministic for
# a given N and SEED (default 1).
#
# Writes into OUTDIR:
#   mbox        the N messages in date order, mboxrd ("From " lines in
#               bodies quoted as ">From ", the form all three archivers
#               read)
#   new-K.eml   NEW (12) more messages, each a reply to a random message
#               of the mbox, dated after its last one (the add-one runs);
#               new-K.mbox is the same message with its "From " line
#   queries     about 200 search queries in FTS5 syntax, one a line:
#               single words of every frequency, "phrases" taken from
#               the bodies, author:NAME, subject:WORD, OR / NOT
#
# What the messages look like (the proportions are the generator's, not
# measured from a real list, but each kind that costs an archiver work is
# there):
#   - threads of 1-30 messages (mostly short, a long tail), replies with
#     In-Reply-To and References to a random earlier message of the
#     thread (usually the latest), "Re: " subjects, quoted parent text
#     with an attribution line, replies within hours to days;
#   - ~300 authors, some with non-ASCII names (RFC 2047 encoded), a few
#     writing much more than the others;
#   - bodies of Zipf-distributed words (English, a technical long tail and
#     Nordic words with ae/o-slash/a-ring/umlauts), 1-12 paragraphs;
#     charsets UTF-8 (8bit or quoted-printable), ISO-8859-1 and US-ASCII;
#   - ~12% multipart/alternative with an HTML part, ~6% multipart/mixed
#     with an attachment (a patch as text/x-diff or a base64 binary of
#     2-40 KB), ~15% subjects as encoded words, a few "[PATCH n/m]".

import base64
import email.utils
import os
import quopri
import random
import sys
import time

N = int(sys.argv[1])
OUT = sys.argv[2]
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
NEW = 12
LIST_ADDR = "bench@lists.example.org"
START = 1704067200  # 2024-01-01 00:00 UTC
SPAN = 365 * 86400

R = random.Random(SEED)

COMMON = """the of and to a in is that it for on with as this be are was by
not or have from at but an they which you we can if one all would will
there their what so about when more also no out up only some other into
just time like than then them could these two any first may should new
very because well over such where after most much how even use make good
way many does see work think need still same here being used why those
while each both through get problem fix patch change code build test case
version release issue error config file list server mail message thread
archive queue delivery bounce header subject sender address domain option
default value support update question answer thanks regards hello looks
right wrong maybe probably actually already again something nothing
anything really sure idea point reason example result output input return
function memory disk network socket timeout retry limit size page index
search query database table row column lock commit transaction rollback
daemon process signal child parent start stop restart reload log debug
warning user member subscribe unsubscribe moderator owner policy spam
filter rule match pattern string buffer parse encode decode charset utf
html text plain multipart attachment base64 quoted printable mime boundary
performance latency throughput benchmark measure faster slower cache
upgrade install package debian ubuntu kernel compile compiler linker
warning flag option manual documentation review reviewed tested applied
merged pushed branch master main tree upstream downstream maintainer
contributor mailing discussion proposal agree disagree opinion comment
concern risk security vulnerability permission root privilege sandbox
""".split()

NORDIC = """hälsningar tack hej kanske jämför förslag följande ändring
fråga svar lösning fungerar problemet tyvärr också därför också vänliga
hilsen takk også nøyaktig feilen løsning spørsmål endringen første
sørge større mønster bøker hvordan kjøre værsgo kærlig hilsen måske
mange tak ændring forsøg følgende løsningen spørgsmål øjeblik præcis
kiitos hyvää päivää ystävällisin terveisin kysymys vastaus ongelma
muutos ehdotus käännös testiä tiedosto viesti ääkköset jöns åsa
""".split()

SYL = """ar be co da el fi ga ho in jo ka lu me no op pa qu ri so tu
un va wi xe yo zu str ch th sh pr tr bl cr dr fl gr pl sl sp st""".split()


def ident(rng):
    n = rng.randint(2, 4)
    w = "".join(rng.choice(SYL) for _ in range(n))
    if rng.random() < 0.4:
        w += "_" + "".join(rng.choice(SYL) for _ in range(2))
    return w


VOCAB = list(COMMON)
seen = set(VOCAB)
while len(VOCAB) < len(COMMON) + 3000:
    w = ident(R)
    if w not in seen:
        seen.add(w)
        VOCAB.append(w)
# Zipf weights over the English + long tail; Nordic words apart
WEIGHTS = [1.0 / (i + 1) ** 1.05 for i in range(len(VOCAB))]
CUM = []
t = 0.0
for w in WEIGHTS:
    t += w
    CUM.append(t)

FIRST = """Anna Erik Lars Karin Johan Maria Per Ingrid Nils Kristin Ole
Sigrid Magnus Astrid Henrik Liv Jonas Marte Mikael Emma Oskar Elin Tobias
Hanna Mats Sofia David Laura Peter Julia Michael Sarah Thomas Emily James
Olivia Daniel Alice Martin Chloe Andreas Paula Stefan Ruth Jens Grete""".split()
FIRST_NA = """Åsa Øystein Jörg Björn Søren Ærlig Jürgen Göran Håkan Åke
Sæmund Märta Tuomas Pekka Jyrki Mäkinen Lærke Bjørg""".split()
LAST = """Hansen Johansson Larsen Nilsson Andersen Berg Lindqvist Olsen
Pedersen Eriksson Nygaard Halvorsen Karlsson Virtanen Korhonen Smith
Brown Taylor Wilson Clark Walker Hall Young King Wright Green Baker
Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans""".split()
LAST_NA = """Sørensen Åberg Møller Lindström Björklund Ødegård Hämäläinen
Jørgensen Strøm Nyström Grønlund Müller Kärkkäinen Øverland""".split()
DOMAINS = """example.com example.net example.org mail.example.se
uni.example.no example.dk corp.example.fi dev.example.de""".split()

AUTHORS = []
used = set()
while len(AUTHORS) < 300:
    na = R.random() < 0.3
    f = R.choice(FIRST_NA if na and R.random() < 0.5 else FIRST)
    l_ = R.choice(LAST_NA if na else LAST)
    if (f, l_) in used:
        continue
    used.add((f, l_))
    local = (f + "." + l_).lower()
    local = "".join(c if c.isascii() and (c.isalnum() or c == ".")
                    else {"å": "a", "ø": "o", "æ": "ae", "ö": "o",
                          "ä": "a", "ü": "u"}.get(c, "x") for c in local)
    AUTHORS.append((f + " " + l_, "%s@%s" % (local, R.choice(DOMAINS))))
# a few authors write much more than the others
AW = [1.0 / (i + 1) ** 0.8 for i in range(len(AUTHORS))]


def words(rng, n, nordic=False):
    out = []
    for _ in range(n):
        if nordic and rng.random() < 0.25:
            out.append(rng.choice(NORDIC))
        else:
            x = rng.random() * t
            lo, hi = 0, len(CUM) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if CUM[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            out.append(VOCAB[lo])
    return out


def sentence(rng, nordic):
    w = words(rng, rng.randint(5, 18), nordic)
    w[0] = w[0].capitalize()
    return " ".join(w) + rng.choice([".", ".", ".", "?", "!", ":"])


def paragraph(rng, nordic):
    text = " ".join(sentence(rng, nordic) for _ in range(rng.randint(1, 5)))
    lines, line = [], ""
    for w in text.split():
        if len(line) + len(w) + 1 > 72:
            lines.append(line)
            line = w
        else:
            line = (line + " " + w).strip()
    lines.append(line)
    return "\n".join(lines)


def new_subject(rng, nordic):
    s = " ".join(words(rng, rng.randint(3, 8), nordic))
    s = s[0].upper() + s[1:]
    r = rng.random()
    if r < 0.08:
        s = "[PATCH %d/%d] %s" % (rng.randint(1, 5), rng.randint(5, 9), s)
    elif r < 0.12:
        s = "[ANNOUNCE] " + s
    return s


def enc_word(s, charset):
    """RFC 2047: B for UTF-8, Q for ISO-8859-1, split into short words."""
    if charset == "utf-8":
        out, chunk = [], ""
        for ch in s:
            if len((chunk + ch).encode()) > 45:
                out.append(chunk)
                chunk = ""
            chunk += ch
        out.append(chunk)
        return " ".join("=?UTF-8?B?%s?=" %
                        base64.b64encode(c.encode()).decode() for c in out)
    b = s.encode("iso-8859-1", "replace")
    q = "".join(chr(c) if (c < 127 and chr(c).isalnum()) else
                "_" if c == 32 else "=%02X" % c for c in b)
    parts = [q[i:i + 50] for i in range(0, len(q), 50)]
    # do not cut an =XX escape in two
    fixed, carry = [], ""
    for p in parts:
        p = carry + p
        carry = ""
        k = p.rfind("=", len(p) - 2)
        if k >= 0:
            carry, p = p[k:], p[:k]
        fixed.append(p)
    if carry:
        fixed.append(carry)
    return " ".join("=?ISO-8859-1?Q?%s?=" % p for p in fixed if p)


def hdr_text(s, charset, force=False):
    if s.isascii() and not force:
        return s
    return enc_word(s, "utf-8" if charset != "iso-8859-1" else charset)


def addr_hdr(name, addr, charset):
    if name.isascii():
        return "%s <%s>" % (name, addr)
    return "%s <%s>" % (hdr_text(name, charset), addr)


def html_of(text):
    esc = (text.replace("&", "&amp;").replace("<", "&lt;")
           .replace(">", "&gt;"))
    paras = esc.split("\n\n")
    return ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/"
            "html; charset=utf-8\"></head><body>\n" +
            "\n".join("<div dir=\"ltr\"><p style=\"margin:0\">%s</p></div>"
                      % p.replace("\n", "<br>\n") for p in paras) +
            "\n</body></html>\n")


def body_part(text, charset, rng):
    """(headers, encoded body bytes) of one text/plain part."""
    if charset == "us-ascii":
        text = text.encode("ascii", "replace").decode()
        return ("Content-Type: text/plain; charset=us-ascii\n"
                "Content-Transfer-Encoding: 7bit\n", text.encode())
    raw = text.encode(charset, "replace")
    if rng.random() < 0.5:
        return ("Content-Type: text/plain; charset=%s\n"
                "Content-Transfer-Encoding: 8bit\n" %
                ("UTF-8" if charset == "utf-8" else "ISO-8859-1"), raw)
    return ("Content-Type: text/plain; charset=%s; format=flowed\n"
            "Content-Transfer-Encoding: quoted-printable\n" %
            ("UTF-8" if charset == "utf-8" else "ISO-8859-1"),
            quopri.encodestring(raw))


def patch_text(rng):
    f = "src/%s.c" % ident(rng)
    lines = ["diff --git a/%s b/%s" % (f, f), "--- a/" + f, "+++ b/" + f]
    for _ in range(rng.randint(2, 8)):
        lines.append("@@ -%d,7 +%d,8 @@ static int %s(void)" %
                     (rng.randint(1, 900), rng.randint(1, 900), ident(rng)))
        for _ in range(rng.randint(4, 20)):
            c = rng.choice("  +-")
            lines.append("%s\t%s(%s);" % (c, ident(rng), ", ".join(
                words(rng, rng.randint(0, 3)))))
    return "\n".join(lines) + "\n"


class Msg:
    __slots__ = ("mid", "subject", "author", "date", "parent", "refs",
                 "text", "nordic")


def make_body(rng, m, parent):
    paras = [paragraph(rng, m.nordic)
             for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 12]))]
    if parent is not None:
        q = parent.text.split("\n")
        q = [x for x in q if x and not x.startswith(">") and x != "-- "]
        n = rng.randint(2, min(12, max(2, len(q))))
        at = rng.randint(0, max(0, len(q) - n))
        quote = "\n".join("> " + x for x in q[at:at + n])
        when = email.utils.formatdate(parent.date, usegmt=True)
        intro = "On %s, %s wrote:\n%s" % (when, parent.author[0], quote)
        if rng.random() < 0.4 and len(paras) > 1:
            paras.insert(1, intro)  # interleaved reply
            paras.insert(0, "Hi %s," % parent.author[0].split()[0])
        else:
            paras.insert(0, intro)
    sig = "-- \n%s" % m.author[0]
    return "\n\n".join(paras) + "\n\n" + sig + "\n"


def render(rng, m):
    charset = ("iso-8859-1" if m.nordic and rng.random() < 0.5 else
               "us-ascii" if rng.random() < 0.1 else "utf-8")
    h = []
    h.append("From: " + addr_hdr(m.author[0], m.author[1], charset))
    h.append("To: " + LIST_ADDR)
    if rng.random() < 0.2:
        o = AUTHORS[rng.randrange(len(AUTHORS))]
        h.append("Cc: " + addr_hdr(o[0], o[1], charset))
    force = rng.random() < 0.05
    h.append("Subject: " + hdr_text(m.subject, charset, force))
    h.append("Date: " + email.utils.formatdate(
        m.date, localtime=False, usegmt=False))
    h.append("Message-ID: <%s>" % m.mid)
    if m.parent is not None:
        h.append("In-Reply-To: <%s>" % m.parent.mid)
        refs = m.refs[-10:]
        line = "References:"
        out = []
        for r in refs:
            if len(line) + len(r) + 3 > 76:
                out.append(line)
                line = ""
            line += " <%s>" % r
        out.append(line)
        h.append("\n".join(out))
    h.append("MIME-Version: 1.0")
    h.append("User-Agent: %s" % rng.choice([
        "Mutt/2.2.9 (2022-11-12)", "Mozilla Thunderbird 115.6",
        "Evolution 3.46.4", "Roundcube Webmail/1.6.5", "aerc 0.15.2"]))
    kind = rng.random()
    ph, pb = body_part(m.text, charset, rng)
    if kind < 0.12:
        b = "=_alt_%08x" % rng.getrandbits(32)
        html = html_of(m.text).encode("utf-8")
        body = (("--%s\n%s\n" % (b, ph)).encode() + pb +
                ("\n--%s\nContent-Type: text/html; charset=UTF-8\n"
                 "Content-Transfer-Encoding: quoted-printable\n\n" % b)
                .encode() + quopri.encodestring(html) +
                ("\n--%s--\n" % b).encode())
        h.append('Content-Type: multipart/alternative; boundary="%s"' % b)
    elif kind < 0.18:
        b = "=_mix_%08x" % rng.getrandbits(32)
        if rng.random() < 0.5:
            att = patch_text(rng).encode()
            ah = ("Content-Type: text/x-diff; charset=us-ascii; "
                  "name=\"%s.patch\"\nContent-Disposition: attachment; "
                  "filename=\"%s.patch\"\nContent-Transfer-Encoding: "
                  "7bit\n" % ((ident(rng),) * 2))
        else:
            data = rng.randbytes(rng.randint(2000, 40000))
            att = base64.encodebytes(data)
            fn = rng.choice(["trace", "log", "screenshot", "report",
                             "rapport-%s" % rng.choice(["å", "ø", "ä"])])
            ext = rng.choice(["bin", "png", "pdf", "gz"])
            fname = "%s.%s" % (fn, ext)
            if fname.isascii():
                disp = 'filename="%s"' % fname
            else:
                disp = "filename*=UTF-8''%s" % "".join(
                    "%%%02X" % c for c in fname.encode())
            ah = ("Content-Type: application/octet-stream\n"
                  "Content-Disposition: attachment; %s\n"
                  "Content-Transfer-Encoding: base64\n" % disp)
        body = (("This is a multi-part message in MIME format.\n\n"
                 "--%s\n%s\n" % (b, ph)).encode() + pb +
                ("\n--%s\n%s\n" % (b, ah)).encode() + att +
                ("\n--%s--\n" % b).encode())
        h.append('Content-Type: multipart/mixed; boundary="%s"' % b)
    else:
        h.extend(ph.rstrip("\n").split("\n"))
        body = pb
    if not body.endswith(b"\n"):
        body += b"\n"
    return ("\n".join(h) + "\n\n").encode() + body


def mboxrd(data, m):
    # mboxrd: any line matching ^>*From  gets one more ">"
    lines = data.split(b"\n")
    for i, x in enumerate(lines):
        if x.lstrip(b">").startswith(b"From "):
            lines[i] = b">" + x
    frm = "From %s %s\n" % (m.author[1], time.strftime(
        "%a %b %d %H:%M:%S %Y", time.gmtime(m.date)))
    return frm.encode() + b"\n".join(lines) + b"\n"


def thread_size(rng):
    r = rng.random()
    if r < 0.35:
        return 1
    if r < 0.75:
        return rng.randint(2, 5)
    if r < 0.93:
        return rng.randint(6, 12)
    return rng.randint(13, 30)


def new_msg(rng, seq, parent, date):
    m = Msg()
    m.mid = "%d.%x.bench@%s" % (seq, rng.getrandbits(40),
                               rng.choice(DOMAINS))
    m.author = rng.choices(AUTHORS, AW)[0]
    m.date = date
    m.parent = parent
    m.nordic = (not m.author[0].isascii() or
                m.author[1].endswith((".se", ".no", ".dk", ".fi"))) \
        and rng.random() < 0.6
    if parent is None:
        m.subject = new_subject(rng, m.nordic)
        m.refs = []
    else:
        s = parent.subject
        m.subject = s if s.lower().startswith("re:") else "Re: " + s
        m.refs = parent.refs + [parent.mid]
    m.text = make_body(rng, m, parent)
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    msgs = []
    seq = 0
    while len(msgs) < N:
        n = min(thread_size(R), N - len(msgs))
        d = START + R.randrange(SPAN - 20 * 86400)
        thread = [new_msg(R, seq, None, d)]
        seq += 1
        for _ in range(n - 1):
            p = thread[-1] if R.random() < 0.6 else R.choice(thread)
            d = max(x.date for x in thread) + int(R.expovariate(1 / 14400.0))
            thread.append(new_msg(R, seq, p, d + 60))
            seq += 1
        msgs.extend(thread)
    msgs.sort(key=lambda m: m.date)
    with open(os.path.join(OUT, "mbox"), "wb") as f:
        for m in msgs:
            f.write(mboxrd(render(R, m), m))
    last = msgs[-1].date
    for k in range(NEW):
        p = R.choice(msgs)
        m = new_msg(R, seq, p, last + 3600 * (k + 1))
        seq += 1
        data = render(R, m)
        with open(os.path.join(OUT, "new-%d.eml" % k), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, "new-%d.mbox" % k), "wb") as f:
            f.write(mboxrd(data, m))
    # queries: taken from what is in the mbox
    qs = []
    body_words = [w.strip(".?!:,").lower() for m in msgs[:2000]
                  for w in m.text.split() if w.isalpha() and len(w) > 2]
    uniq = sorted(set(body_words))
    freq = {}
    for w in body_words:
        freq[w] = freq.get(w, 0) + 1
    by_f = sorted(uniq, key=lambda w: -freq[w])
    for i in range(30):                      # frequent words
        qs.append(by_f[R.randrange(min(200, len(by_f)))])
    for i in range(50):                      # mid and rare words
        qs.append(by_f[R.randrange(min(200, len(by_f)) - 1, len(by_f))])
    for i in range(40):                      # phrases from real bodies
        m = R.choice(msgs)
        w = [x.strip(".?!:,") for x in m.text.split("\n\n")[-2].split()
             if x.strip(".?!:,").isalpha()]
        if len(w) < 3:
            w = words(R, 3)
        n = R.randint(2, 3)
        at = R.randrange(len(w) - n + 1)
        qs.append('"%s"' % " ".join(w[at:at + n]).lower())
    for i in range(30):                      # authors
        a = R.choice(AUTHORS)[0].split()
        qs.append('author:"%s"' % (a[-1] if R.random() < 0.6
                                   else " ".join(a)))
    for i in range(30):                      # subject words
        m = R.choice(msgs)
        w = [x for x in m.subject.split() if x.isalpha() and len(x) > 2]
        qs.append("subject:%s" % (w[0].lower() if w else "patch"))
    for i in range(20):                      # boolean
        a, b = R.choice(by_f[:400]), R.choice(by_f)
        qs.append(R.choice(["%s %s" % (a, b), "%s OR %s" % (a, b),
                            "%s NOT %s" % (a, b)]))
    with open(os.path.join(OUT, "queries"), "w") as f:
        for q in qs:
            f.write(q + "\n")


if __name__ == "__main__":
    main()
