#!/bin/sh
# crash.sh - durability: mlmd is killed with SIGKILL at random moments
# while 10 client threads send it 1,000 messages (each with a unique
# Message-ID, each sent once), and restarted after each kill.  After it
# has caught up: every message that got a 250 is recorded, no message is
# recorded twice, nothing is left in incoming/, active/ or tmp/, nothing is
# quarantined.  The client retries only messages whose DATA was never
# sent (the daemon cannot have spooled them), so "recorded twice" can only
# come from the daemon.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"

N=1000
KILLS=${KILLS:-4}

conf_write
daemon_start || bail "mlmd did not start"

cat >"$T_DIR/client.py" <<'EOF'
import smtplib, sys, threading, time

sock, n, dom, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
THREADS = 10
lock = threading.Lock()
acked, lost = [], []

def body(i):
    return ("From: Load <load@example.net>\r\nTo: denmark@%s\r\n"
            "Subject: crash test %d\r\nMessage-ID: <crash-%d@example.net>\r\n"
            "\r\n" % (dom, i, i) + ("line %d of a crash test\r\n" % i) * 40
            ).encode()

def connect():
    # The daemon may be down for a while: retry the connection (bounded).
    for _ in range(600):
        try:
            s = smtplib.LMTP(sock, timeout=30)
            s.ehlo()
            return s
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)
    raise SystemExit("could not connect for 30 s")

def worker(k):
    s = None
    for i in range(k, n, THREADS):
        while True:
            data_sent = False
            try:
                if s is None:
                    s = connect()
                code, _ = s.mail("load@example.net")
                if code != 250:
                    raise smtplib.SMTPException("MAIL %d" % code)
                code, _ = s.rcpt("denmark@" + dom)
                if code != 250:
                    raise smtplib.SMTPException("RCPT %d" % code)
                data_sent = True
                code, _ = s.data(body(i))
                with lock:
                    (acked if code == 250 else lost).append(i)
                break
            except (OSError, smtplib.SMTPException):
                try:
                    s.close()
                except Exception:
                    pass
                s = None
                if data_sent:
                    with lock:
                        lost.append(i)
                    break
                time.sleep(0.05)
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass

ts = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "w") as f:
    for i in sorted(acked):
        f.write("crash-%d@example.net\n" % i)
print("acked %d lost %d" % (len(acked), len(lost)))
EOF

$PY "$T_DIR/client.py" "$T_SOCK" "$N" "$T_DOMAIN" "$T_DIR/acked" \
	>"$T_DIR/client.out" 2>&1 &
client=$!
track_pid "$client"

restarts=0
kills=0
while [ "$kills" -lt "$KILLS" ] && alive "$client"; do
	sleep "$(awk -v s="$$$kills" 'BEGIN { srand(s); printf "%.2f", 0.03 + rand() * 0.25 }')"
	alive "$client" || break
	daemon_kill9
	kills=$((kills + 1))
	daemon_start || break
	restarts=$((restarts + 1))
done
ok "mlmd was killed while the client was sending ($kills times)" \
	test "$kills" -ge 1
is "$restarts" "$kills" "mlmd restarted after each SIGKILL"
ok "the client finished (bounded wait)" \
	wait_until $((T_WAIT * 6)) t_not_alive "$client"
stop_pid "$client" 1
is "$T_RC" 0 "the client exited 0" || sed 's/^/# /' "$T_DIR/client.out"
diag "$(cat "$T_DIR/client.out") after $kills kills"
[ -f "$T_DIR/acked" ] || : >"$T_DIR/acked"
LC_ALL=C sort -u -o "$T_DIR/acked" "$T_DIR/acked"
acked=$(wc -l <"$T_DIR/acked")
ok "most messages were acknowledged ($acked of $N)" test "$acked" -ge $((N / 2))

ok "the daemon catches up (incoming/ and active/ empty)" \
	wait_until $((T_WAIT * 3)) spool_settled
ok "every acknowledged message is recorded" \
	wait_until "$T_WAIT" t_inbound_ge "$acked"
sql "SELECT message_id FROM inbound" | LC_ALL=C sort -u >"$T_DIR/recorded"
missing=$(comm -23 "$T_DIR/acked" "$T_DIR/recorded" | wc -l)
is "$missing" 0 "no acknowledged message is missing from inbound" ||
	comm -23 "$T_DIR/acked" "$T_DIR/recorded" | head -5 | sed 's/^/# /'
is "$(sql "SELECT count(*) FROM (SELECT message_id FROM inbound
	GROUP BY message_id HAVING count(*) > 1)")" 0 \
	"no Message-ID recorded twice"
is "$(sql "SELECT count(*) - count(DISTINCT spool_id) FROM inbound")" 0 \
	"one row per spool file"
is "$(spool_count active)" 0 "nothing left in active/"
is "$(spool_count tmp)" 0 "stale tmp/ files removed at start-up"
is "$(spool_count quarantine)" 0 "nothing quarantined"
ok "the daemon still accepts mail" lmtp_ping "unix:$T_SOCK"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
