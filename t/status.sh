#!/bin/sh
# status.sh - `mlmctl status` (issue 10): with the daemon running and a
# post delivered it says OK and exits 0 with the counts; --json parses
# and agrees; the daemon's last warning reaches HOME/last-error and the
# status; one log line per intake and per delivery; a quarantined spool
# file, failing copies, and a stopped daemon each make it exit 1 with
# the reason on the first line.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"

plan 24

D=$T_DOMAIN
conf_write
daemon_start || bail "mlmd did not start"

# ctl NAME ARGS...: stdout in $T_DIR/NAME.out, stderr NAME.err, $RC
ctl() {
	t_name=$1
	shift
	"$MLMCTL" -c "$T_CONF" "$@" >"$T_DIR/$t_name.out" \
		2>"$T_DIR/$t_name.err"
	RC=$?
}
out() { cat "$T_DIR/$1.out"; }
# jq-like: one value of the JSON output, by a Python expression on j
js() {
	$PY -c "import json, sys; j = json.load(open(sys.argv[1])); print($2)" \
		"$T_DIR/$1.out"
}

ctl add add denmark m1@example.net m2@example.net amira@example.net
is "$RC" 0 "three members added"
msg "$T_DIR/post.eml" "denmark@$D" "Status check" "status1@example.net"
lmtp_send "$T_DIR/post.eml" "denmark@$D" 2>/dev/null ||
	fail "LMTP delivery of the post"
delivered() { [ "$(find "$T_DIR/maildir" -type f | wc -l)" -ge 3 ]; }
sent3() {
	[ "$(sql "SELECT count(*) FROM outbound WHERE state = 'sent'")" -ge 3 ]
}
wait_until "$T_WAIT" sent3 || diag "copies not sent in time"

ctl s1 status
is "$RC" 0 "healthy: exit 0"
is "$(sed -n 1p "$T_DIR/s1.out")" "OK: mlmd is running" "healthy: says OK"
like "$(out s1)" "^daemon: running" "the daemon runs"
like "$(out s1)" "^spool: 0 incoming, 0 active, 0 quarantined$" \
	"spool counts"
like "$(out s1)" "^queue: 0 queued, 0 deferred; last 24 h: [3-9] sent, 0 failed$" \
	"queue counts: the post's copies are sent"
like "$(out s1)" "^held posts: 0$" "held posts counted"

ctl j1 status --json
is "$RC" 0 "--json: exit 0"
is "$(js j1 'j["healthy"], j["daemon"]["running"], j["spool"]["quarantine"], j["queue"]["failed_24h"], j["queue"]["oldest_deferred"]')" \
	"True True 0 0 None" "--json parses and agrees"

# The intake's one line, the delivery's one line.
like "$(grep 'recorded from=<amira@example.net>' "$T_LOG")" \
	"recorded from=<amira@example.net> lists=denmark rcpts=1 size=[0-9]+ message-id=<status1@example.net> status=accepted" \
	"one intake line: id, lists, from, rcpts, size, status"
like "$(grep 'queue #' "$T_LOG" | head -n 1)" \
	"queue #[0-9]+: list=denmark rcpts=1 status=sent sent=1 deferred=0 failed=0 reply=250" \
	"one delivery line: ids, rcpts, status, reply"

# A warning in the daemon reaches HOME/last-error within about a second.
cp "$T_CONF" "$T_DIR/good.conf"
echo 'this is not = valid {' >>"$T_CONF"
kill -HUP "$T_MLMD_PID"
has_last_error() { grep -q 'reload' "$T_HOME/last-error" 2>/dev/null; }
ok "a reload warning lands in HOME/last-error" \
	wait_until "$T_WAIT" has_last_error
cp "$T_DIR/good.conf" "$T_CONF"
ctl s2 status
like "$(out s2)" "^last error: [0-9]+s ago \(.*\) warning: reload: " \
	"status shows the last error"
is "$RC" 0 "a warning alone is not unhealthy"

# A quarantined spool file.
mkdir -p "$T_HOME/spool/quarantine"
echo junk >"$T_HOME/spool/quarantine/1.2.3.bad"
ctl s3 status
is "$RC" 1 "quarantine: exit 1"
is "$(sed -n 1p "$T_DIR/s3.out")" "PROBLEM: 1 file in spool/quarantine" \
	"quarantine: the reason on the first line"
rm -f "$T_HOME/spool/quarantine/1.2.3.bad"

# Copies failing: more failed than sent in the last 24 h.
now=$(date +%s)
for i in 1 2 3 4 5; do
	sql "INSERT INTO outbound (list, path, sender, recipient, state,
	    created, next_attempt, expires, last_code, last_error, done_at)
	    VALUES ('denmark', 'out/x$i', 's@$D', 'gone$i@example.net',
	    'failed', $now, $now, $now, '550', '5.1.1 no such user', $now)"
done
ctl s4 status --json
is "$RC" 1 "failing copies: exit 1"
is "$(js s4 'j["problems"][0]')" \
	"copies are failing: 5 failed, 3 sent in the last 24 h" \
	"failing copies: the reason"
sql "DELETE FROM outbound WHERE state = 'failed'"

# The daemon stopped.
daemon_stop
ctl s5 status
is "$RC" 1 "stopped: exit 1"
is "$(sed -n 1p "$T_DIR/s5.out")" "PROBLEM: mlmd is not running" \
	"stopped: says not running"
ctl j5 status --json
is "$(js j5 'j["healthy"], j["daemon"]["running"], j["problems"]')" \
	"False False ['mlmd is not running']" "--json when stopped"

# The oldest deferred copy and the relay's last answer (daemon stopped:
# nobody sends it).
old=$((now - 7200))
sql "INSERT INTO outbound (list, path, sender, recipient, state, attempts,
    created, next_attempt, expires, last_code, last_error)
    VALUES ('denmark', 'out/y', 's@$D', 'slow@example.net', 'deferred', 4,
    $old, $now, $((now + 86400)), '451', '4.7.1 try later')"
ctl s6 status
like "$(out s6)" "^oldest deferred: #[0-9]+ <slow@example\.net>, 2h, 4 attempts: 451 4\.7\.1 try later$" \
	"the oldest deferred copy and its last error"
ctl j6 status --json
is "$(js j6 'j["queue"]["deferred"], j["queue"]["oldest_deferred"]["age"] >= 7200, j["queue"]["oldest_deferred"]["error"]')" \
	"1 True 4.7.1 try later" "--json: the oldest deferred copy"
ok "no sanitizer report" no_sanitizer_report

done_testing
