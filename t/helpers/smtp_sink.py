#!/usr/bin/python3
"""A small SMTP sink for mlmd's tests (aiosmtpd), with per-recipient rules.

usage: smtp_sink.py PORT DUMPDIR

Recipients whose local part starts with "bad" are refused with 550 5.1.1,
"tmp" with 451 4.2.0; a message containing the line "X-Sink: reject" is
refused at the end of DATA with 554 5.6.0.  Each accepted message is
written to DUMPDIR/NNNNNN.eml with "X-Sink-From:" and one "X-Sink-To:"
line per accepted recipient on top.  PIPELINING (RFC 2920) is offered
unless the client's EHLO name starts with "nopipe" (to test clients both
ways).  Loopback only.
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, dump):
        self.dump = dump
        self.n = 0

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if hostname.lower().startswith("nopipe"):
            return responses
        # aiosmtpd reads commands one after the other from the stream,
        # so pipelined commands work; say so before the last line.
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_RCPT(self, server, session, envelope, address, options):
        local = address.split("@")[0].lower()
        if local.startswith("bad"):
            return "550 5.1.1 <%s>: user unknown" % address
        if local.startswith("tmp"):
            return "451 4.2.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if b"\nX-Sink: reject" in b"\n" + data:
            return "554 5.6.0 content refused"
        self.n += 1
        path = os.path.join(self.dump, "%06d.eml" % self.n)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"X-Sink-From: %s\r\n" % envelope.mail_from.encode())
            for r in envelope.rcpt_tos:
                f.write(b"X-Sink-To: %s\r\n" % r.encode())
            f.write(data)
        os.rename(tmp, path)
        return "250 2.0.0 queued as %06d" % self.n


def main():
    port, dump = int(sys.argv[1]), sys.argv[2]
    os.makedirs(dump, exist_ok=True)
    ctl = Controller(Handler(dump), hostname="127.0.0.1", port=port)
    ctl.start()
    with open(os.path.join(dump, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    try:
        asyncio.get_event_loop().run_until_complete(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
