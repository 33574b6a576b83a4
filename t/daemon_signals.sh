#!/bin/sh
# daemon_signals.sh - mlmd's signals: SIGHUP reloads the configuration (a
# new list is accepted at once; a broken file is refused, logged, and the
# old configuration stays in force), SIGTERM makes an open session get
# 421 4.3.2 and the daemon exit 0.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"

D=$T_DOMAIN
conf_write
daemon_start || bail "mlmd did not start"

is "$(lmtp_rcpt "denmark@$D")" "250 2.1.5" "denmark@ accepted"
is "$(lmtp_rcpt "estonia@$D")" "550 5.1.1" "estonia@ unknown before the reload"

# SIGHUP with a new list.
T_EXTRA='list estonia {
	description = "Migrant entrepreneurs in Estonia"
	language = "en"
	posting = members
}'
conf_write
kill -HUP "$T_MLMD_PID"
t_estonia_ok() { [ "$(lmtp_rcpt "estonia@$D")" = "250 2.1.5" ]; }
ok "SIGHUP: the new list's address is accepted" \
	wait_until "$T_WAIT" t_estonia_ok
is "$(lmtp_rcpt "estonia-request@$D")" "250 2.1.5" \
	"SIGHUP: and its -request address"
ok "still running after the reload" alive "$T_MLMD_PID"

# SIGHUP with a broken file: an unknown option and a bad value.
cp "$T_CONF" "$T_DIR/good.conf"
lines=$(wc -l <"$T_LOG")
{
	cat "$T_DIR/good.conf"
	echo 'no_such_option = "x"'
	echo 'list broken { posting = sometimes }'
} >"$T_CONF"
kill -HUP "$T_MLMD_PID"
t_log_conf_error() {
	tail -n +"$((lines + 1))" "$T_LOG" | grep -q "$T_CONF"
}
ok "SIGHUP with a broken file: the error is logged, naming the file" \
	wait_until "$T_WAIT" t_log_conf_error
tail -n +"$((lines + 1))" "$T_LOG" | head -5 | sed 's/^/# log: /'
ok "the daemon is still running" alive "$T_MLMD_PID"
is "$(lmtp_rcpt "denmark@$D")" "250 2.1.5" \
	"the old configuration stays: denmark@ accepted"
is "$(lmtp_rcpt "estonia@$D")" "250 2.1.5" \
	"the old configuration stays: estonia@ accepted"
is "$(lmtp_rcpt "broken@$D")" "550 5.1.1" \
	"nothing of the broken file is used: broken@ unknown"
msg "$T_DIR/m.eml" "estonia@$D" "Tere" "signals-after-hup@example.net"
$PY - "127.0.0.1:$T_PORT" "estonia@$D" "$T_DIR/m.eml" <<'EOF'
import smtplib, sys
h, p = sys.argv[1].rsplit(":", 1)
s = smtplib.LMTP(h, int(p), timeout=10)
s.sendmail("kadri@example.org", [sys.argv[2]], open(sys.argv[3], "rb").read())
s.quit()
EOF
ok "mail to the reloaded list is recorded" wait_inbound 1 \
	"message_id = 'signals-after-hup@example.net' AND list = 'estonia'"
cp "$T_DIR/good.conf" "$T_CONF"

# SIGTERM while two sessions are open: an idle one gets 421 4.3.2 at its
# next command; one in the middle of DATA is either finished (250, and
# the message is recorded) or handed back (4xx, and it is not).  Then the
# daemon exits 0.
rm -f "$T_DIR/ready" "$T_DIR/go"
$PY - "$T_SOCK" "$T_DIR" "$D" >"$T_DIR/term.out" 2>&1 <<'EOF' &
import os, socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(sys.argv[1])
    f = s.makefile("rb")
    f.readline()
    return s, f
def cmd(s, f, line):
    try:
        s.sendall(line)
    except OSError:
        pass  # it may have said 421 and closed already: read that
    while True:
        r = f.readline()
        if r[3:4] != b"-":
            return " ".join(r.decode().split()[:2])
a, af = conn()
cmd(a, af, b"LHLO t\r\n")
b, bf = conn()
cmd(b, bf, b"LHLO t\r\n")
cmd(b, bf, b"MAIL FROM:<kadri@example.org>\r\n")
cmd(b, bf, b"RCPT TO:<denmark@" + sys.argv[3].encode() + b">\r\n")
cmd(b, bf, b"DATA\r\n")
b.sendall(b"From: kadri@example.org\r\nMessage-ID: <signals-mid-data@"
          b"example.net>\r\nSubject: half\r\n\r\nfirst half\r\n")
open(os.path.join(sys.argv[2], "ready"), "w").close()
for _ in range(200):
    if os.path.exists(os.path.join(sys.argv[2], "go")):
        break
    time.sleep(0.1)
for name, s, f, line in (("idle", a, af, b"NOOP\r\n"),
        ("data", b, bf, b"second half\r\n.\r\n")):
    try:
        print(name, cmd(s, f, line))
    except OSError as e:
        print(name, "error", e)
EOF
sess=$!
track_pid "$sess"
ok "two sessions are open, one in DATA" wait_until "$T_WAIT" test -f "$T_DIR/ready"
pid=$T_MLMD_PID
kill -TERM "$pid"
sleep 0.3
: >"$T_DIR/go"
wait_until "$T_WAIT" t_not_alive "$sess"
stop_pid "$sess" 1
sed 's/^/# session: /' "$T_DIR/term.out"
is "$(sed -n 's/^idle //p' "$T_DIR/term.out")" "421 4.3.2" \
	"SIGTERM: the idle session gets 421 4.3.2"
data=$(sed -n 's/^data //p' "$T_DIR/term.out")
like "$data" '^(250 2\.0\.0|4[0-9][0-9] 4\.)' \
	"SIGTERM: the session in DATA is finished (250) or handed back (4xx)"
ok "SIGTERM: mlmd exits (bounded wait)" wait_until "$T_WAIT" t_not_alive "$pid"
daemon_stop
is "$T_RC" 0 "SIGTERM: exit status 0"
daemon_start || bail "mlmd did not restart"
ok "after the restart the spool drains" wait_until "$T_WAIT" spool_settled
case $data in
250*) want=1 ;;
*) want=0 ;;
esac
is "$(inbound_count "message_id = 'signals-mid-data@example.net'")" "$want" \
	"the message in DATA is recorded if and only if it got 250"
is "$(spool_count tmp)" 0 "nothing left in tmp/"
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report

# Without -f: mlmd detaches, writes home/mlmd.pid, and serves; SIGTERM to
# that PID stops it and the pid file goes away.
rm -f "$T_HOME/mlmd.pid"
timeout "$T_WAIT" "$MLMD" -c "$T_CONF" >"$T_DIR/bg.out" 2>&1
is "$?" 0 "without -f: the command returns 0 once detached"
ok "home/mlmd.pid is written" wait_until "$T_WAIT" test -s "$T_HOME/mlmd.pid"
bgpid=$(tr -dc 0-9 <"$T_HOME/mlmd.pid" 2>/dev/null)
[ -n "$bgpid" ] && track_pid "$bgpid"
ok "the PID in it is running ($bgpid)" alive "${bgpid:-0}"
ok "the detached daemon accepts connections" \
	wait_until "$T_WAIT" lmtp_ping "unix:$T_SOCK"
ppid=$(awk '/^PPid:/ { print $2 }' "/proc/${bgpid:-0}/status" 2>/dev/null)
ok "it is detached (its parent, $ppid, is not this shell)" \
	test -n "$ppid" -a "$ppid" != "$$"
[ -n "$bgpid" ] && kill -TERM "$bgpid"
ok "SIGTERM stops it" wait_until "$T_WAIT" t_not_alive "${bgpid:-0}"
untrack_pid "${bgpid:-0}"
ok "the pid file is removed" wait_until 5 test ! -e "$T_HOME/mlmd.pid"
done_testing
