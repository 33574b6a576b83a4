#!/bin/sh
# outq.sh - the outbound queue through the running daemon against an SMTP
# relay: t/helpers/smtp_sink.py on a free loopback port (recipients bad*
# get 550 at RCPT, tmp* 451; each accepted transaction is dumped with its
# envelope as X-Sink-From / X-Sink-To lines).
#
#  - batching: 120 members and delivery_batch = 50 make 3 transactions;
#  - a 550 fails the copy (last_code 550) and records a bounce, the others
#    are delivered; the copy file under HOME/out/ goes once every row is
#    final, and stays while a row waits;
#  - a 451 defers it (attempts 1, next_attempt in the future); with
#    delivery_retry = "1s" it is tried again and again (attempts grows);
#    past its delivery_lifetime a 451 fails it;
#  - a 554 at the end of DATA fails every copy of the transaction;
#  - the relay down when the post arrives: the rows wait (not failed, no
#    attempt counted); the sink started on that port gets every copy
#    without a restart of mlmd;
#  - verp = true: one transaction per member, MAIL FROM
#    denmark+bounce-LOCAL=DOMAIN@lists.mlmd.test;
#  - SIGTERM while transactions are in flight (the sink stopped with
#    SIGSTOP, so they cannot finish before the signal): mlmd finishes them
#    and exits 0; after a restart every member has the post exactly once;
#  - SIGKILL (strace) as mlmd enters unlink() of a copy whose last row is
#    final: the file must still go after a restart (outq_gc at start-up).
#
# The relay-down step restarts the sink on the same port: a parallel test
# taking that port in the second in between would break it (unlikely).
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
$PY -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd missing"

plan 47

D=$T_DOMAIN
N=120
SPORT=$(free_port)
SINK_N=0
PYSINK_PID=

# --- helpers ------------------------------------------------------------

# pysink_start: smtp_sink.py on 127.0.0.1:$SPORT dumping into a new
# folder $T_DIR/sink.K (its file counter starts again at 1).
pysink_start() {
	SINK_N=$((SINK_N + 1))
	t_d=$T_DIR/sink.$SINK_N
	mkdir -p "$t_d"
	$PY "$top_srcdir/t/helpers/smtp_sink.py" "$SPORT" "$t_d" \
		>>"$T_DIR/pysink.log" 2>&1 &
	PYSINK_PID=$!
	track_pid "$PYSINK_PID"
	wait_until 10 test -f "$t_d/ready"
}
pysink_stop() {
	[ -n "$PYSINK_PID" ] && stop_pid "$PYSINK_PID" 5
	PYSINK_PID=
}

# A summary of what the sink got for one Message-ID, one key=value a line:
# files (transactions), rcpts (X-Sink-To lines), distinct (recipients),
# dups (copies beyond the first), verpbad (transactions that are not one
# recipient with its VERP sender), froms (the distinct senders, up to 3).
cat >"$T_DIR/sink_stats.py" <<'EOF'
import glob, os, sys
mid, dom, base = sys.argv[1], sys.argv[2], sys.argv[3]
files = rcpts = verpbad = 0
seen, froms = {}, set()
for f in glob.glob(os.path.join(base, "sink.*", "*.eml")):
    head = open(f, "rb").read().split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    if not any(l.lower() == "message-id: <%s>" % mid for l in lines):
        continue
    files += 1
    frm = [l.split(": ", 1)[1] for l in lines if l.startswith("X-Sink-From:")]
    to = [l.split(": ", 1)[1] for l in lines if l.startswith("X-Sink-To:")]
    froms.update(frm)
    rcpts += len(to)
    for t in to:
        seen[t.lower()] = seen.get(t.lower(), 0) + 1
    if len(to) != 1 or frm != ["denmark+bounce-%s@%s" %
                               (to[0].replace("@", "="), dom)]:
        verpbad += 1
print("files=%d" % files)
print("rcpts=%d" % rcpts)
print("distinct=%d" % len(seen))
print("dups=%d" % sum(n - 1 for n in seen.values()))
print("verpbad=%d" % verpbad)
print("froms=%s" % (",".join(sorted(froms)) if len(froms) <= 3 else "many"))
EOF
# sstat MSGID KEY
sstat() {
	$PY "$T_DIR/sink_stats.py" "$1" "$D" "$T_DIR" | sed -n "s/^$2=//p"
}
t_distinct_ge() {
	[ "$(sstat "$1" distinct)" -ge "$2" ]
}

# post ID FROM: a post to denmark on stdout
post() {
	printf 'From: %s\nTo: denmark@%s\n' "$2" "$D"
	printf 'Subject: queue test %s\n' "$1"
	printf 'Message-ID: <%s>\nDate: Sun, 29 Nov 2026 10:00:00 +0100\n' "$1"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
	printf 'Hej,\n\nthis is %s of %s.\n' "$1" "$T_NAME"
}
# send ID: m001 posts ID to denmark through mlmd-inject
send() {
	post "$1" "M1 <m001@example.org>" >"$T_DIR/$1.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f m001@example.org "denmark@$D" \
		<"$T_DIR/$1.eml" 2>"$T_DIR/inject.err" ||
		diag "mlmd-inject $1: $(cat "$T_DIR/inject.err")"
}
rows() { # rows MSGID WHERE: outbound rows of that post matching WHERE
	sql "SELECT count(*) FROM outbound WHERE message_id = '$1' AND ($2)"
}
t_rows_ge() { [ "$(rows "$1" "$2")" -ge "$3" ]; }
t_recorded() { [ "$(inbound_count "message_id = '$1'")" -ge 1 ]; }
out_files() { find "$T_HOME/out" -type f 2>/dev/null | wc -l; }

# config: relay is our sink; more options in $1
configure() {
	T_EXTRA="delivery_connections = 4
delivery_batch = 50
$1"
	conf_write
	sed -i "s|^relay = .*|relay = \"smtp://127.0.0.1:$SPORT\"|" "$T_CONF"
}

# --- phase 1: batches, 550, 451, the relay down ---------------------------

configure ""
pysink_start || bail "smtp_sink.py did not start"
daemon_start || bail "mlmd did not start"
{
	echo address
	i=1
	while [ $i -le $N ]; do
		printf 'm%03d@example.org\n' $i
		i=$((i + 1))
	done
	echo bad1@example.org
} >"$T_DIR/members.csv"
"$MLMCTL" -c "$T_CONF" import denmark "$T_DIR/members.csv" >/dev/null ||
	bail "mlmctl import failed"

send q1@example.net
ok "q1: every member's copy is final (bounded wait)" \
	wait_until "$T_WAIT" t_rows_ge q1@example.net \
	"state IN ('sent', 'failed')" $((N + 1))
is "$(sstat q1@example.net files)" 3 \
	"q1: $((N + 1)) recipients, delivery_batch 50: 3 transactions"
is "$(sstat q1@example.net rcpts)" $N "q1: the sink accepted $N recipients"
is "$(sstat q1@example.net distinct)" $N "q1: each member once"
is "$(sstat q1@example.net froms)" "denmark+bounce@$D" \
	"q1: envelope sender denmark+bounce@$D"
is "$(sql "SELECT state || ' ' || last_code FROM outbound
	WHERE message_id = 'q1@example.net' AND
	recipient = 'bad1@example.org'")" \
	"failed 550" "q1: the 550 member's row is failed with last_code 550"
is "$(sql "SELECT count(*) FROM bounces WHERE list = 'denmark' AND
	address = 'bad1@example.org' AND message_id = 'q1@example.net'")" 1 \
	"q1: a bounces row for the 550"
is "$(rows q1@example.net "state = 'sent'")" $N "q1: the others are sent"
ok "q1: the copy file under HOME/out/ is removed (every row final)" \
	wait_until 5 test "$(out_files)" -eq 0

"$MLMCTL" -c "$T_CONF" add denmark tmp1@example.org >/dev/null ||
	bail "mlmctl add tmp1 failed"
send q2@example.net
ok "q2: delivered to the members (bounded wait)" \
	wait_until "$T_WAIT" t_distinct_ge q2@example.net $N
ok "q2: the 451 member's row is recorded" wait_until "$T_WAIT" t_rows_ge \
	q2@example.net "recipient = 'tmp1@example.org' AND attempts >= 1" 1
now=$(date +%s)
is "$(sql "SELECT state || ' ' || attempts || ' ' || last_code FROM outbound
	WHERE message_id = 'q2@example.net' AND
	recipient = 'tmp1@example.org'")" \
	"deferred 1 451" "q2: 451 -> deferred, attempts 1, last_code 451"
ok "q2: its next attempt is in the future (delivery_retry 5m)" \
	test "$(sql "SELECT next_attempt FROM outbound WHERE message_id =
		'q2@example.net' AND recipient = 'tmp1@example.org'")" -gt \
	$((now + 120))
is "$(out_files)" 1 "q2: the copy file stays while a row waits for it"

# The relay goes away; a post arrives.
pysink_stop
send q3@example.net
ok "q3: the relay was tried and did not answer" \
	wait_until "$T_WAIT" t_rows_ge q3@example.net "last_error <> ''" 1
sleep 1
is "$(rows q3@example.net "state = 'failed'")" 0 \
	"relay down: no row failed"
is "$(rows q3@example.net "state IN ('queued', 'deferred') AND
	attempts = 0")" $((N + 2)) \
	"relay down: every row waits, no attempt counted against it"
pysink_start || bail "smtp_sink.py did not restart"
start=$(date +%s)
ok "relay back: every copy arrives without a restart (wait <= 90 s)" \
	wait_until 90 t_distinct_ge q3@example.net $N
diag "the queue took $(($(date +%s) - start)) s to notice the relay"
is "$(sstat q3@example.net dups)" 0 "relay back: nobody got q3 twice"
ok "relay back: the 550 and the 451 are recorded as such" \
	wait_until "$T_WAIT" t_rows_ge q3@example.net \
	"(recipient = 'bad1@example.org' AND state = 'failed') OR
	 (recipient = 'tmp1@example.org' AND state = 'deferred' AND
	  attempts = 1)" 2
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"

# --- phase 2: retries every second, VERP -----------------------------------

configure 'verp = true
delivery_retry = "1s"'
# The 451 rows are due at once; q3's has outlived its delivery_lifetime.
sql "UPDATE outbound SET next_attempt = 0 WHERE state = 'deferred';
	UPDATE outbound SET expires = 0 WHERE message_id = 'q3@example.net'
	AND recipient = 'tmp1@example.org'" || bail "cannot update the queue"
daemon_start || bail "mlmd did not restart"
ok "a 451 after the delivery lifetime fails the copy" \
	wait_until "$T_WAIT" t_rows_ge q3@example.net "recipient =
	'tmp1@example.org' AND state = 'failed' AND last_code = '451'" 1
ok "q3's copy file goes with its last waiting row (q2's stays)" \
	wait_until 5 test "$(out_files)" -eq 1
ok "delivery_retry 1s: the 451 copy is tried again and again (attempts >= 3)" \
	wait_until "$T_WAIT" t_rows_ge q2@example.net \
	"recipient = 'tmp1@example.org' AND attempts >= 3" 1
is "$(sql "SELECT state || ' ' || last_code FROM outbound
	WHERE message_id = 'q2@example.net' AND
	recipient = 'tmp1@example.org'")" \
	"deferred 451" "the retried copy is still deferred (451)"

send q4@example.net
ok "verp: every member's copy arrives" \
	wait_until "$T_WAIT" t_distinct_ge q4@example.net $N
is "$(sstat q4@example.net files)" $N "verp: one transaction per member"
is "$(sstat q4@example.net rcpts)" $N "verp: one recipient per transaction"
is "$(sstat q4@example.net verpbad)" 0 \
	"verp: each MAIL FROM is denmark+bounce-LOCAL=DOMAIN@$D for its RCPT"
is "$(sql "SELECT sender FROM outbound WHERE message_id = 'q4@example.net'
	AND recipient = 'm007@example.org'")" \
	"denmark+bounce-m007=example.org@$D" "verp: the queue row's sender"
ok "verp: the 550 fails and is recorded" wait_until "$T_WAIT" t_rows_ge \
	q4@example.net "recipient = 'bad1@example.org' AND state = 'failed'
	AND last_code = '550'" 1

# --- SIGTERM with transactions in flight ------------------------------------

# The sink is stopped (SIGSTOP): connections are accepted by the kernel
# and wait for the greeting, so whatever mlmd hands out stays in flight.
kill -STOP "$PYSINK_PID"
send q5@example.net
ok "q5: recorded while the sink is frozen" \
	wait_until "$T_WAIT" t_recorded q5@example.net
sleep 1
is "$(sstat q5@example.net files)" 0 "q5: nothing delivered yet (sink frozen)"
kill -TERM "$T_MLMD_PID"
sleep 1
ok "SIGTERM: mlmd waits for the transactions in flight" alive "$T_MLMD_PID"
kill -CONT "$PYSINK_PID"
daemon_stop
is "$T_RC" 0 "SIGTERM with transactions in flight: exit 0"
ok "SIGTERM: the log does not say that transactions were cut" \
	sh -c "! grep -q 'relay transactions still open' '$T_LOG'"
q5_sent=$(rows q5@example.net "state = 'sent'")
diag "q5: $q5_sent copies sent before the stop"
ok "q5: rows not yet handed out wait in the queue" \
	test "$(rows q5@example.net "state IN ('queued', 'deferred')")" -gt 0
daemon_start || bail "mlmd did not restart"
ok "restart: every member gets q5" \
	wait_until "$T_WAIT" t_distinct_ge q5@example.net $N
sleep 1
is "$(sstat q5@example.net dups)" 0 "restart: nobody got q5 twice"
is "$(rows q5@example.net "state = 'sent'")" $N "restart: $N rows sent"
is "$(sstat q1@example.net dups)$(sstat q2@example.net dups)$(sstat \
	q4@example.net dups)" 000 "no other post went out twice"

# --- a 5xx at the end of DATA ----------------------------------------------

post q6@example.net "M1 <m001@example.org>" |
	sed '/^Subject:/a\
X-Sink: reject' >"$T_DIR/q6.eml"
"$MLMD_INJECT" -c "$T_CONF" -f m001@example.org "denmark@$D" \
	<"$T_DIR/q6.eml" || diag "mlmd-inject q6 failed"
ok "554 after DATA: every member's copy fails with last_code 554" \
	wait_until "$T_WAIT" t_rows_ge q6@example.net \
	"state = 'failed' AND last_code = '554'" $N
is "$(sstat q6@example.net files)" 0 "554 after DATA: the sink kept nothing"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"

# --- a kill between the last row's commit and the copy's unlink -------------

# strace delivers SIGKILL to mlmd when it enters unlink(2) for the copy
# file, i.e. after the transaction that recorded its last delivery: the
# file must still go (at the next start), or HOME/out/ leaks a copy per
# such crash.  sweden has a single member here, so one delivery is the
# last one.
if command -v strace >/dev/null 2>&1 &&
	strace -qq -o /dev/null true 2>/dev/null; then
	"$MLMCTL" -c "$T_CONF" add sweden solo@example.org >/dev/null
	post q7@example.net "Solo <solo@example.org>" |
		sed "s/^To: .*/To: sweden@$D/" >"$T_DIR/q7.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f solo@example.org "sweden@$D" \
		<"$T_DIR/q7.eml" || diag "mlmd-inject q7 failed"
	id=$(ls "$T_HOME/spool/incoming" | head -1)
	copy=$T_HOME/out/$id.sweden
	strace -f -qq -o "$T_DIR/strace.out" -P "$copy" \
		-e trace=unlink,unlinkat \
		-e inject=unlink,unlinkat:signal=KILL \
		"$MLMD" -c "$T_CONF" -f 2>>"$T_LOG" &
	st=$!
	track_pid "$st"
	wait_until "$T_WAIT" t_not_alive "$st"
	stop_pid "$st" 1
	ok "q7: mlmd was killed entering unlink() of its copy, row sent" \
		test "$T_RC" -eq 137 -a "$(rows q7@example.net \
		"state = 'sent'")" -eq 1 ||
		sed 's/^/# strace: /' "$T_DIR/strace.out"
	daemon_start || bail "mlmd did not restart after the kill"
	ok "q7: the copy file is removed after the restart" \
		wait_until "$T_WAIT" test ! -e "$copy"
	daemon_stop
else
	skip 2 "strace is missing or cannot trace here"
fi

ok "no sanitizer report in the log" no_sanitizer_report
pysink_stop
done_testing
