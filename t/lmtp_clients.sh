#!/bin/sh
# lmtp_clients.sh - real LMTP clients against mlmd (RFC 2033): Python's
# smtplib.LMTP over TCP and over the unix socket (per-recipient statuses,
# unknown addresses refused at RCPT, SIZE refusals, LHLO extensions), and
# swaks for a plain and a pipelined transaction.  After each accepted
# message the inbound rows are checked in SQLite and the raw message must
# be in home/store/.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
command -v swaks >/dev/null || skip_all "swaks is not installed"

conf_write
daemon_start || bail "mlmd did not start"

D=$T_DOMAIN
# The client speaks for one transport and prints "NAME RESULT" lines that
# are compared with the table below.  smtplib.LMTP reads only the first
# reply after DATA, so the others (one per accepted recipient) are read
# with getreply().
cat >"$T_DIR/client.py" <<'EOF'
import smtplib, sys

tag, addr, dom = sys.argv[1], sys.argv[2], sys.argv[3]

def connect():
    if addr.startswith("unix:"):
        s = smtplib.LMTP(addr[5:], timeout=30)
    else:
        h, p = addr.rsplit(":", 1)
        s = smtplib.LMTP(h, int(p), timeout=30)
    s.ehlo_or_helo_if_needed()
    return s

def msg(mid, to, extra=b""):
    return (b"From: Amira Haddad <amira@example.net>\r\n"
            b"To: " + to.encode() + b"\r\n"
            b"Subject: clients test " + mid.encode() + b"\r\n"
            b"Message-ID: <" + mid.encode() + b"@example.net>\r\n"
            b"\r\nHej!\r\n" + extra)

def transaction(mid, rcpts, body=None, mail_opts=()):
    """MAIL, RCPT each, DATA; returns (rcpt codes, data codes)."""
    s = connect()
    code, _ = s.mail("amira@example.net", list(mail_opts))
    if code != 250:
        s.close()
        return "mail=%d" % code
    rc, ok = [], 0
    for r in rcpts:
        c, text = s.rcpt(r)
        rc.append("%d %s" % (c, text.decode().split()[0]))
        ok += c == 250
    dc = []
    if ok:
        c, _ = s.data(body if body is not None else msg(mid, rcpts[0]))
        dc.append(str(c))
        for _ in range(ok - 1):
            dc.append(str(s.getreply()[0]))
    s.quit()
    return ",".join(rc) + "/" + ",".join(dc)

def out(name, value):
    print("%s.%s %s" % (tag, name, value), flush=True)

s = connect()
feats = ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME"]
got = [f for f in feats if s.has_extn(f)]
out("lhlo", ",".join(got) + " SIZE=" + (s.esmtp_features.get("size") or "-"))
c, _ = s.noop()
out("noop", c)
c, _ = s.docmd("VRFY", "denmark@" + dom)
out("vrfy", c)
c, text = s.docmd("FROBNICATE")
out("unknown_cmd", "%d %s" % (c, text.decode().split()[0]))
c, text = s.docmd("RCPT", "TO:<denmark@" + dom + ">")
out("rcpt_before_mail", "%d %s" % (c, text.decode().split()[0]))
s.quit()

out("post", transaction(tag + "-post", ["denmark@" + dom]))
out("unknown", transaction(tag + "-unknown", ["nosuchlist@" + dom]))
out("mixed", transaction(tag + "-mixed",
    ["denmark@" + dom, "nosuchlist@" + dom, "sweden-request@" + dom,
     "denmark@example.org"]))
out("size_param", transaction(tag + "-sizeparam", ["denmark@" + dom],
    mail_opts=["SIZE=2000000"]))
big = msg(tag + "-big", "denmark@" + dom, b"x" * 76 + b"\r\n") + \
      (b"y" * 76 + b"\r\n") * 14000
out("size_data", transaction(tag + "-big", ["denmark@" + dom], body=big))
EOF

# name, expected: the same for both transports.
expect='lhlo PIPELINING,ENHANCEDSTATUSCODES,8BITMIME SIZE=1048576
noop 250
vrfy 252
unknown_cmd 500 5.5.1
rcpt_before_mail 503 5.5.1
post 250 2.1.5/250
unknown 550 5.1.1/
mixed 250 2.1.5,550 5.1.1,250 2.1.5,550 5.1.1/250,250
size_param mail=552
size_data 250 2.1.5/552'

for tr in tcp unix; do
	case $tr in
	tcp) addr=127.0.0.1:$T_PORT ;;
	unix) addr=unix:$T_SOCK ;;
	esac
	$PY "$T_DIR/client.py" "$tr" "$addr" "$D" >"$T_DIR/$tr.out" \
		2>"$T_DIR/$tr.err"
	is "$?" 0 "$tr: the smtplib client ran to the end" ||
		sed 's/^/# /' "$T_DIR/$tr.err"
	printf '%s\n' "$expect" | while read -r name want; do
		got=$(sed -n "s/^$tr\\.$name //p" "$T_DIR/$tr.out")
		if [ "$got" = "$want" ]; then
			echo "ok - $tr: $name: $want"
		else
			echo "not ok - $tr: $name: got '$got', want '$want'"
		fi
	done >"$T_DIR/$tr.tap"
	while read -r line; do
		case $line in
		ok*) pass "${line#ok - }" ;;
		*) fail "${line#not ok - }" ;;
		esac
	done <"$T_DIR/$tr.tap"
done

# What the accepted transactions left in the database: one row per
# accepted list recipient, none for refused messages.
wait_inbound 6 || diag "inbound has $(inbound_count) rows"
for tr in tcp unix; do
	is "$(sql "SELECT list || ':' || role FROM inbound
		WHERE message_id = '$tr-post@example.net'")" "denmark:post" \
		"$tr: the post is one inbound row for denmark"
	is "$(sql "SELECT list || ':' || role FROM inbound
		WHERE message_id = '$tr-mixed@example.net'
		ORDER BY list")" "denmark:post
sweden:request" "$tr: mixed recipients: a row for each accepted one"
	is "$(sql "SELECT count(DISTINCT spool_id) FROM inbound
		WHERE message_id = '$tr-mixed@example.net'")" 1 \
		"$tr: mixed recipients: one spool file"
	is "$(inbound_count "message_id LIKE '$tr-%' AND message_id NOT IN
		('$tr-post@example.net', '$tr-mixed@example.net')")" 0 \
		"$tr: refused messages left no rows"
	sid=$(sql "SELECT spool_id FROM inbound
		WHERE message_id = '$tr-post@example.net'")
	ok "$tr: the post is kept in home/store/ ($sid)" \
		test -n "$sid" -a -n "$(find "$T_HOME/store" -name "$sid*" \
		-type f 2>/dev/null)"
done
is "$(sql "SELECT subject || '|' || from_addr || '|' || sender FROM inbound
	WHERE message_id = 'tcp-post@example.net'")" \
	"clients test tcp-post|amira@example.net|amira@example.net" \
	"subject, From and envelope sender recorded"

# swaks: a plain transaction over TCP, a pipelined one with two list
# recipients over the unix socket.
swaks --protocol LMTP --server 127.0.0.1 --port "$T_PORT" \
	--from karin@example.org --to "norway@$D" \
	--header "Message-Id: <swaks-plain@example.net>" \
	--header "Subject: Mentordag i Oslo" \
	--body "Hei alle, mentordagen er neste tirsdag." \
	>"$T_DIR/swaks1.out" 2>&1
is "$?" 0 "swaks plain LMTP over TCP: accepted" ||
	tail -5 "$T_DIR/swaks1.out" | sed 's/^/# /'
swaks --protocol LMTP --socket "$T_SOCK" --pipeline \
	--from karin@example.org --to "finland@$D,iceland@$D" \
	--header "Message-Id: <swaks-pipe@example.net>" \
	--body "Hei, terve ja hallo." >"$T_DIR/swaks2.out" 2>&1
is "$?" 0 "swaks pipelined LMTP over the unix socket: accepted" ||
	tail -5 "$T_DIR/swaks2.out" | sed 's/^/# /'
ok "swaks saw PIPELINING and got two 250s after DATA" \
	test "$(grep -c '^<[-*~]* *250 2\.0\.0' "$T_DIR/swaks2.out")" -ge 2
wait_inbound 9 "1"
is "$(sql "SELECT list FROM inbound WHERE message_id = 'swaks-plain@example.net'")" \
	norway "swaks plain: inbound row for norway"
is "$(sql "SELECT group_concat(list, ',') FROM (SELECT list FROM inbound
	WHERE message_id = 'swaks-pipe@example.net' ORDER BY list)")" \
	"finland,iceland" "swaks pipelined: inbound rows for finland and iceland"
is "$(sql "SELECT count(*) FROM inbound i WHERE message_id LIKE 'swaks-%'
	AND sender = 'karin@example.org'")" 3 "swaks: envelope sender recorded"

# A raw client: bare LF line ends, dot-stuffing, over-long lines.
$PY - "127.0.0.1:$T_PORT" "$D" >"$T_DIR/raw.out" 2>&1 <<'EOF'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
dom = sys.argv[2]
s = socket.create_connection((h, int(p)), 10)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if l[3:4] != "-":
            return " ".join(l.split()[:2])
def cmd(line, name):
    s.sendall(line)
    print(name, reply())
reply()
cmd(b"LHLO raw.example.net\n", "lf_lhlo")
cmd(b"MAIL FROM:<raw@example.net>\n", "lf_mail")
cmd(b"RCPT TO:<denmark@" + dom.encode() + b">\n", "lf_rcpt")
cmd(b"DATA\n", "lf_data")
cmd(b"From: raw@example.net\nSubject: raw\nMessage-ID: <raw-lf@example.net>\n"
    b"\n..a line that starts with a dot\nend\n.\n", "lf_dot")
cmd(b"NOOP " + b"x" * 1100 + b"\r\n", "long_cmd")
cmd(b"MAIL FROM:<raw@example.net>\r\n", "long_mail")
cmd(b"RCPT TO:<denmark@" + dom.encode() + b">\r\n", "long_rcpt")
cmd(b"DATA\r\n", "long_data")
cmd(b"From: raw@example.net\r\nMessage-ID: <raw-long@example.net>\r\n\r\n"
    + b"y" * 1500 + b"\r\nend\r\n.\r\n", "long_line")
cmd(b"QUIT\r\n", "quit")
EOF
for c in "lf_lhlo 250" "lf_mail 250 2.1.0" "lf_rcpt 250 2.1.5" "lf_data 354" \
	"lf_dot 250 2.0.0" "long_cmd 500 5.5.2" "long_mail 250 2.1.0" \
	"long_rcpt 250 2.1.5" "long_data 354" "quit 221 2.0.0"; do
	name=${c%% *}
	want=${c#* }
	got=$(sed -n "s/^$name //p" "$T_DIR/raw.out")
	case $name in
	lf_lhlo | lf_data | long_data) got=${got%% *} ;;
	esac
	is "$got" "$want" "raw client: $name: $want"
done
like "$(sed -n 's/^long_line //p' "$T_DIR/raw.out")" '^55[24] 5\.' \
	"a data line over 998 octets: the message is refused (552/554)"
ok "bare LF message recorded" wait_inbound 1 "message_id = 'raw-lf@example.net'"
sid=$(sql "SELECT spool_id FROM inbound WHERE message_id = 'raw-lf@example.net'")
f=$(find "$T_HOME/store" -name "$sid*" -type f 2>/dev/null | head -1)
ok "dot-stuffing removed in the stored message" \
	grep -qx '\.a line that starts with a dot' "${f:-/dev/null}"
is "$(inbound_count "message_id = 'raw-long@example.net'")" 0 \
	"the over-long message was not recorded (not truncated silently)"

# Recipients per message are limited (1000, the spool's limit): the next
# RCPT gets 452 4.5.3, and the message still goes to the accepted ones.
got=$($PY - "unix:$T_SOCK" "$D" 2>&1 <<'EOF'
import smtplib, sys
s = smtplib.LMTP(sys.argv[1][5:], timeout=30)
s.ehlo()
s.mail("amira@example.net")
codes = {}
for i in range(1001):
    # the same list address over and over: 1001 recipients to route
    c, t = s.rcpt("denmark+%s@%s" % ("subscribe" if i % 2 else "help",
                                     sys.argv[2]))
    codes.setdefault("%d %s" % (c, t.decode().split()[0]), []).append(i)
print(";".join("%s x%d" % (k, len(v)) for k, v in sorted(codes.items())),
      "last", [k for k, v in codes.items() if 1000 in v][0])
s.rset()
s.quit()
EOF
)
is "$got" "250 2.1.5 x1000;452 4.5.3 x1 last 452 4.5.3" \
	"RCPT 1001 of one message: 452 4.5.3 too many recipients"

# Everything settles: nothing waiting, nothing damaged.
ok "spool drained (incoming/ and active/ empty)" \
	wait_until "$T_WAIT" spool_settled
is "$(spool_count quarantine)" 0 "nothing quarantined"
is "$(sql "SELECT count(*) - count(DISTINCT spool_id || recipient)
	FROM inbound")" 0 "no (spool id, recipient) recorded twice"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"

# Time limits: an idle session is closed with 421 4.4.2.
T_EXTRA="lmtp_idle_timeout = 2"
conf_write
daemon_start || bail "mlmd did not restart with lmtp_idle_timeout = 2"
got=$($PY - "$T_SOCK" 2>&1 <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(15)
s.connect(sys.argv[1])
f = s.makefile("rb")
f.readline()
s.sendall(b"LHLO idle.example.net\r\n")
while f.readline()[3:4] == b"-":
    pass
t = time.monotonic()
line = f.readline().decode()
print(" ".join(line.split()[:2]), "after %d s" % round(time.monotonic() - t))
EOF
)
like "$got" '^421 4\.4\.2 after [1-5] s$' \
	"an idle session gets 421 4.4.2 after lmtp_idle_timeout"
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
