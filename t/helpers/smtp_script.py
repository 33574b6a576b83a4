#!/usr/bin/python3
"""A scripted, deliberately misbehaving SMTP server for t/out_pipe_test.c.

usage: smtp_script.py DIR

Loopback only, standard library only (threads, one per connection).  It
listens on several ports chosen by the kernel and writes DIR/ports (one
"NAME PORT" line per listener, then "pid PID"; written to a temp file and
renamed, so its presence means ready).  Listeners:

  main       a multi-line 220 greeting, then behaves as the MODE chosen by
             the client's EHLO/HELO name (below)
  g421       "421" greeting, then closes
  g554       "554" greeting, then answers 503 to everything but QUIT
  garbage    "hello" (no code) as the greeting
  close      closes right after accept
  silent     accepts and never says anything
  longgreet  a 10,000-byte 220 line, then as main

MODE is the first label of the EHLO name; a label "np" anywhere in the
name means "do not offer PIPELINING".  Modes: ok (default), multi (every
reply multi-line), pipelast (PIPELINING on the last EHLO line), ehlo502,
mail550, mail451, first550 (the first MAIL of each connection refused),
data354 (354 to DATA even with no recipient), data554, data451, final552,
final421, closercpt (closes instead of answering DATA), closebody (closes
after 1000 bytes of body), noend (never answers the end of data),
longreply (a 10,000-byte reply line to MAIL), longpartial (10,000 bytes
without a line end in reply to MAIL, then silence), mid421 (421 to the
first RCPT, then closes), flush16k (holds the MAIL and RCPT replies, then
sends them as exactly 16384 bytes together with the FIN, no DATA reply;
flushsmall: the same in 4000 bytes),
sizeish (one-line EHLO reply "250 sizeable.script.test", no extensions),
slowquit (waits 0.5 s before answering QUIT).

RCPT: a local part starting with "bad" gets 550 5.1.1, "tmp" 451 4.2.0,
others 250.

What it saw goes to DIR/log-NAME (NAME the EHLO/HELO name), one event a
line: "conn", "chunk VERB,VERB,..." per read that held command lines,
"cmd LINE" per command ("cmd LINE EARLY" when the connection does not
offer PIPELINING and more input had arrived before the reply was sent:
the client did not wait), "body LEN" per message, "quit", "eof".  The
un-stuffed body of each message is written to DIR/body-LOCAL (LOCAL the
sender's local part) and the bytes as received to DIR/raw-LOCAL.
"""
import os
import re
import select
import socket
import sys
import threading
import time

DIR = None
LOCK = threading.Lock()
EARLY_WAIT = 0.03  # how long a non-pipelining client is given to misbehave


def log(name, line):
    with LOCK:
        with open(os.path.join(DIR, "log-" + name), "a") as f:
            f.write(line + "\n")


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.name = None
        self.mode = "ok"
        self.pipelining = False
        self.pending = []  # log lines before the EHLO name is known
        self.in_cmds = True

    def log(self, line):
        if self.name is None:
            self.pending.append(line)
            return
        for p in self.pending:
            log(self.name, p)
        self.pending = []
        log(self.name, line)

    def recv(self):
        data = self.s.recv(65536)
        if not data:
            raise Closed()
        if self.in_cmds:
            verbs = [l.split(b" ")[0].split(b":")[0].decode("latin-1")
                     for l in data.split(b"\r\n")[:-1]]
            if verbs:
                self.log("chunk " + ",".join(v.upper() for v in verbs))
        self.buf += data

    def readline(self):
        while b"\r\n" not in self.buf:
            self.recv()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.s.sendall(data)

    def early(self):
        """More input already there, before our reply went out?"""
        if self.pipelining:
            return False
        time.sleep(EARLY_WAIT)
        if self.buf:
            return True
        r, _, _ = select.select([self.s], [], [], 0)
        if not r:
            return False
        try:  # readable may only mean the client closed: not early
            return bool(self.s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except OSError:
            return False

    def reply(self, *lines):
        out = ""
        for i, l in enumerate(lines):
            sep = " " if i == len(lines) - 1 else "-"
            out += l[:3] + sep + l[4:] + "\r\n"
        self.send(out)

    def hang(self):
        """Never answer again; return when the client closes."""
        self.in_cmds = False
        try:
            while True:
                self.buf = b""
                self.recv()
        except (Closed, OSError):
            pass


def unstuff(raw):
    lines = raw.split(b"\r\n")
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)


def read_body(c, limit=None):
    """Read to the end of data: (raw, body), raw the stuffed bytes before
    ".CRLF", body un-stuffed.  With limit: None after that many bytes."""
    c.in_cmds = False
    while True:
        if c.buf.startswith(b".\r\n"):
            raw, c.buf = b"", c.buf[3:]
            break
        i = c.buf.find(b"\r\n.\r\n")
        if i >= 0:
            raw, c.buf = c.buf[:i + 2], c.buf[i + 5:]
            break
        if limit is not None and len(c.buf) >= limit:
            return None
        c.recv()
    c.in_cmds = True
    body = unstuff(raw[:-2]) + b"\r\n" if raw else b""
    return raw, body


def safe(s):
    return re.sub(r"[^A-Za-z0-9._-]", "_", s)[:100] or "_"


def ehlo_lines(c):
    if c.mode == "sizeish":
        return ["250 sizeable.script.test"]
    if c.mode == "pipelast":
        return ["250 script.test hello", "250 8BITMIME", "250 SIZE 50000000",
                "250 PIPELINING"]
    lines = ["250 script.test hello", "250 SIZE 50000000"]
    if c.pipelining:
        lines.append("250 PIPELINING")
    lines += ["250 8BITMIME", "250 HELP"]
    return lines


def ok(c, code_text):
    """A positive reply, multi-line in mode multi."""
    if c.mode == "multi":
        code = code_text[:3]
        c.reply(code + " a", code + " b", code_text)
    else:
        c.reply(code_text)


def session(c, greet=True):
    if greet:
        c.send("220-script.test ESMTP scripted\r\n220-second line\r\n"
               "220 ready\r\n")
    mail_ok = False
    accepted = 0
    mails = 0
    held = []  # flush16k: replies kept back
    sender = ""
    while True:
        line = c.readline()
        text = line.decode("latin-1")
        verb = text.split(" ")[0].split(":")[0].upper()
        pipelining = c.pipelining
        if verb in ("EHLO", "HELO"):
            if c.name is None:
                c.name = safe(text[5:].strip())
                c.mode = c.name.lower().split(".")[0]
                c.log("conn")
            pipelining = (verb == "EHLO" and
                          "np" not in c.name.lower().split(".") and
                          c.mode not in ("sizeish", "ehlo502"))
        early = c.early()
        c.pipelining = pipelining
        c.log("cmd " + text + (" EARLY" if early else ""))
        if verb == "EHLO":
            if c.mode == "ehlo502":
                c.reply("502 5.5.2 EHLO not implemented")
            else:
                c.reply(*ehlo_lines(c))
        elif verb == "HELO":
            c.reply("250 script.test")
        elif verb == "MAIL":
            mails += 1
            accepted = 0
            m = re.search(r"<([^@>]*)", text)
            sender = safe(m.group(1)) if m else "_"
            if c.mode == "mail550":
                c.reply("550 5.7.1 sender refused")
            elif c.mode == "mail451":
                c.reply("451 4.3.0 sender deferred")
            elif c.mode == "first550" and mails == 1:
                c.reply("550 5.7.1 first refused")
            elif c.mode == "longreply":
                c.send("250 " + "x" * 9996 + "\r\n")
                mail_ok = True
            elif c.mode == "longpartial":
                c.send("250 " + "x" * 9996)
                c.hang()
                return
            elif c.mode in ("flush16k", "flushsmall"):
                held.append("250 2.1.0 ok\r\n")
                mail_ok = True
            else:
                ok(c, "250 2.1.0 ok")
                mail_ok = True
        elif verb == "RCPT":
            m = re.search(r"<([^>]*)>", text)
            local = (m.group(1) if m else "").split("@")[0].lower()
            if not mail_ok:
                r = "503 5.5.1 need MAIL first"
            elif c.mode == "mid421":
                c.reply("421 4.3.0 shutting down now")
                return
            elif local.startswith("bad"):
                r = "550 5.1.1 <%s>: user unknown" % local
            elif local.startswith("tmp"):
                r = "451 4.2.0 <%s>: try again later" % local
            else:
                r = "250 2.1.5 ok"
                accepted += 1
            if c.mode in ("flush16k", "flushsmall"):
                held.append(r + "\r\n")
            elif r.startswith("250"):
                ok(c, r)
            else:
                c.reply(r)
        elif verb == "DATA":
            if c.mode == "closercpt":
                return
            if c.mode in ("flush16k", "flushsmall"):
                # MAIL's reply padded with continuation lines so that the
                # whole block is exactly 16384 bytes (flushsmall: 4000),
                # corked so that the FIN rides on the same segment.
                total = 16384 if c.mode == "flush16k" else 4000
                rest = "".join(held)
                need = total - len(rest)
                pads = []
                while need >= 2000:
                    pads.append(1000)
                    need -= 1000
                pads += [need // 2, need - need // 2]
                block = "".join("250-" + "p" * (n - 6) + "\r\n"
                                for n in pads) + rest
                assert len(block) == total
                c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                c.send(block)
                c.log("flushed %d" % len(block))
                return
            if c.mode == "data354":
                pass
            elif not mail_ok:
                c.reply("503 5.5.1 need MAIL first")
                continue
            elif not accepted:
                c.reply("554 5.5.1 no valid recipients")
                continue
            elif c.mode == "data554":
                c.reply("554 5.7.0 content refused at DATA")
                continue
            elif c.mode == "data451":
                c.reply("451 4.3.0 DATA deferred")
                continue
            c.reply("354 go ahead")
            if c.mode == "closebody":
                read_body(c, limit=1000)
                c.log("closing in the body")
                return
            raw, body = read_body(c)
            c.log("body %d" % len(body))
            with open(os.path.join(DIR, "raw-" + sender), "wb") as f:
                f.write(raw)
            with open(os.path.join(DIR, "body-" + sender), "wb") as f:
                f.write(body)
            mail_ok = False
            if c.mode == "noend":
                c.hang()
                return
            if c.mode == "final552":
                c.reply("552 5.3.4 message too big")
            elif c.mode == "final421":
                c.reply("421 4.3.0 closing after data")
                return
            else:
                ok(c, "250 2.0.0 queued")
        elif verb == "RSET":
            mail_ok = False
            accepted = 0
            c.reply("250 2.0.0 reset")
        elif verb == "NOOP":
            c.reply("250 2.0.0 ok")
        elif verb == "QUIT":
            c.log("quit")
            if c.mode == "slowquit":
                time.sleep(0.5)
            c.reply("221 2.0.0 bye")
            return
        else:
            c.reply("500 5.5.2 unknown command")


def handle(sock, listener):
    c = Conn(sock)
    try:
        if listener == "close":
            return
        if listener == "g421":
            c.send("421 4.3.2 too busy, try later\r\n")
            return
        if listener == "g554":
            c.send("554 5.3.2 no service here\r\n")
            while True:
                if c.readline().upper().startswith(b"QUIT"):
                    c.send("221 2.0.0 bye\r\n")
                    return
                c.send("503 5.5.1 no service\r\n")
        if listener == "garbage":
            c.send("hello\r\n")
            c.hang()
            return
        if listener == "silent":
            c.hang()
            return
        if listener == "longgreet":
            c.send("220 " + "g" * 9996 + "\r\n")
            session(c, greet=False)
            return
        session(c)
    except Closed:
        c.log("eof")
    except OSError as e:
        c.log("error " + str(e))
    finally:
        try:
            sock.close()
        except OSError:
            pass


def serve(lsock, listener):
    while True:
        s, _ = lsock.accept()
        threading.Thread(target=handle, args=(s, listener),
                         daemon=True).start()


def main():
    global DIR
    DIR = sys.argv[1]
    os.makedirs(DIR, exist_ok=True)
    names = ["main", "g421", "g554", "garbage", "close", "silent",
             "longgreet"]
    out = ""
    threads = []
    for n in names:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        out += "%s %d\n" % (n, ls.getsockname()[1])
        threads.append(threading.Thread(target=serve, args=(ls, n),
                                        daemon=True))
    for t in threads:
        t.start()
    out += "pid %d\n" % os.getpid()
    tmp = os.path.join(DIR, "ports.tmp")
    with open(tmp, "w") as f:
        f.write(out)
    os.rename(tmp, os.path.join(DIR, "ports"))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
