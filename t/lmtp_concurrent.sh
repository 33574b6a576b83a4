#!/bin/sh
# lmtp_concurrent.sh - many LMTP sessions at once with Postfix's
# smtp-source: 200 concurrent sessions over the unix socket (1,000
# messages of 5 KB) and 50 over TCP (200 messages).  None may be refused,
# every message must be recorded exactly once, and the spool must drain.
# Then lmtp_max_sessions: the sessions beyond the limit get 421 4.3.2 at
# connect while the ones inside it keep working.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
PATH=$PATH:/usr/sbin
command -v smtp-source >/dev/null || skip_all "smtp-source (postfix) missing"

N_UNIX=1000
N_TCP=200
# 200 clients plus mlmd's own descriptors: make sure the test is not
# limited by the shell's default of 1024 open files.
ulimit -n 4096 2>/dev/null

conf_write
daemon_start || bail "mlmd did not start"

# source NAME SESSIONS COUNT ADDR: run smtp-source in LMTP mode, bounded.
source_run() {
	t0=$(date +%s)
	timeout $((T_WAIT * 6)) smtp-source -L -s "$2" -m "$3" -l 5000 \
		-M mta.mlmd.test -f "load-$1@example.net" \
		-t "denmark@$T_DOMAIN" "$4" >"$T_DIR/source-$1.out" 2>&1
	rc=$?
	diag "$1: $3 messages in $(($(date +%s) - t0)) s"
	if [ "$rc" -ne 0 ]; then
		sed 's/^/# /' "$T_DIR/source-$1.out" | head -20
		log_tail
	fi
	return $rc
}

ok "unix: smtp-source, 200 sessions, $N_UNIX messages: none refused" \
	source_run unix 200 "$N_UNIX" "unix:$T_SOCK"
ok "tcp: smtp-source, 50 sessions, $N_TCP messages: none refused" \
	source_run tcp 50 "$N_TCP" "inet:127.0.0.1:$T_PORT"

total=$((N_UNIX + N_TCP))
ok "the dispatcher records all $total messages (bounded wait)" \
	wait_until $((T_WAIT * 3)) t_inbound_ge "$total"
is "$(sql "SELECT count(*) || ' ' || count(DISTINCT spool_id) FROM inbound
	WHERE sender = 'load-unix@example.net'")" "$N_UNIX $N_UNIX" \
	"unix: every message recorded exactly once"
is "$(sql "SELECT count(*) || ' ' || count(DISTINCT spool_id) FROM inbound
	WHERE sender = 'load-tcp@example.net'")" "$N_TCP $N_TCP" \
	"tcp: every message recorded exactly once"
is "$(sql "SELECT count(*) FROM inbound WHERE list <> 'denmark'
	OR recipient <> 'denmark@$T_DOMAIN'")" 0 "all rows are for denmark@"
ok "spool drained: nothing in incoming/ or active/" \
	wait_until "$T_WAIT" spool_settled
is "$(spool_count quarantine)" 0 "nothing quarantined"
is "$(spool_count tmp)" 0 "nothing left in tmp/"
is "$(find "$T_HOME/store" -type f | wc -l)" "$total" \
	"one stored raw message per message"
ok "every accepted message is in the log with its spool id" \
	test "$(grep -c 'load-unix@example.net' "$T_LOG")" -ge "$N_UNIX"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM after the load"

# lmtp_max_sessions = 5: hold 5 sessions open, the 6th and 7th are
# refused with 421 4.3.2 at connect, the held ones still work, and once
# they are closed a new session is accepted again.
T_EXTRA="lmtp_max_sessions = 5"
conf_write
daemon_start || bail "mlmd did not restart with lmtp_max_sessions = 5"
$PY - "$T_SOCK" >"$T_DIR/max.out" 2>&1 <<'EOF'
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s, s.makefile("rb")
def cmd(s, f, line):
    s.sendall(line + b"\r\n")
    while True:
        r = f.readline()
        if r[3:4] != b"-":
            return r.decode().strip()
held = []
for i in range(5):
    s, f = conn()
    print("held%d %s" % (i, f.readline().decode()[:3]))
    print("lhlo%d %s" % (i, cmd(s, f, b"LHLO t")[:3]))
    held.append((s, f))
for i in range(2):
    s, f = conn()
    print("extra%d %s" % (i, " ".join(f.readline().decode().split()[:2])))
    s.close()
print("noop %s" % cmd(held[0][0], held[0][1], b"NOOP")[:3])
for s, f in held:
    cmd(s, f, b"QUIT")
    s.close()
time.sleep(0.5)
s, f = conn()
print("after %s" % f.readline().decode()[:3])
EOF
is "$(grep -c '^held[0-4] 220$' "$T_DIR/max.out")" 5 \
	"lmtp_max_sessions = 5: five sessions greeted with 220"
is "$(grep '^extra' "$T_DIR/max.out" | tr '\n' ';')" \
	"extra0 421 4.3.2;extra1 421 4.3.2;" \
	"the 6th and 7th sessions get 421 4.3.2 at connect"
is "$(sed -n 's/^noop //p' "$T_DIR/max.out")" 250 \
	"a held session still answers"
is "$(sed -n 's/^after //p' "$T_DIR/max.out")" 220 \
	"after the held sessions close, a new one is accepted"
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
