#!/bin/sh
# mlmctl_queue.sh - the outbound queue by hand: with the relay on a
# loopback port where nothing listens, a post's copies wait in the queue
# and `mlmctl queue` shows them (summary per list and kind, one line per
# row with the relay's error, the first 100 rows unless --all); then an
# SMTP sink (t/helpers/smtp_sink.py) starts on that port, `mlmctl flush`
# makes every copy due and ends the daemon's pause for the relay, the
# sink receives every copy, and `queue` says the queue is empty.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
$PY -c 'import aiosmtpd' 2>/dev/null ||
	skip_all "python3-aiosmtpd is not installed"

plan 20

D=$T_DOMAIN
N=105 # members: more than the 100 rows `queue` lists by default
RELAY_PORT=$(free_port)
conf_write
sed -i "s|^relay = .*|relay = \"smtp://127.0.0.1:$RELAY_PORT\"\\
delivery_retry = \"1s\"|" "$T_CONF"
grep -q "^relay = \"smtp://127.0.0.1:$RELAY_PORT\"" "$T_CONF" ||
	bail "could not point the relay at port $RELAY_PORT"
daemon_start || bail "mlmd did not start"

# ctl NAME ARGS...: run mlmctl, stdout in $T_DIR/NAME.out, stderr in
# NAME.err; $RC is its status (so never call it in a subshell).
ctl() {
	t_name=$1
	shift
	"$MLMCTL" -c "$T_CONF" "$@" >"$T_DIR/$t_name.out" \
		2>"$T_DIR/$t_name.err"
	RC=$?
}
out() { cat "$T_DIR/$1.out"; }
err() { cat "$T_DIR/$1.err"; }

waiting() {
	sql "SELECT count(*) FROM outbound WHERE state = 'deferred'"
}
all_deferred() { [ "$(waiting)" -eq "$N" ]; }

ctl q0 queue
is "$RC:$(out q0)" "0:the queue is empty" "queue: empty says so, exit 0"
ctl q1 queue --bogus
is "$RC" 64 "queue: an unknown option is exit 64"

# N members, the first of them posts.
addrs=$($PY -c "print(' '.join('m%03d@example.net' % i for i in range($N)))")
# shellcheck disable=SC2086
ctl add add denmark $addrs
is "$RC" 0 "$N members added"
msg "$T_DIR/post.eml" "denmark@$D" "Networking dinner" "queue1@example.net"
sed -i 's/^From: .*/From: <m000@example.net>/' "$T_DIR/post.eml"
"$MLMD_INJECT" -c "$T_CONF" -f m000@example.net "denmark@$D" \
	<"$T_DIR/post.eml" || fail "mlmd-inject of the post"

if wait_until "$T_WAIT" all_deferred; then
	pass "all $N copies deferred: the relay does not answer"
else
	fail "all $N copies deferred: the relay does not answer"
	diag "deferred: $(waiting)"
	log_tail
fi
ctl q2 queue
is "$RC" 0 "queue: exit 0"
is "$(sed -n 1p "$T_DIR/q2.out")" "$N copies waiting" "queue: the total"
like "$(sed -n 2p "$T_DIR/q2.out")" \
	"^denmark	post	$N	oldest [0-9]+[smh]	next (now|20[0-9-]+ [0-9:]+)$" \
	"queue: a summary per list and kind"
like "$(out q2)" \
	"^[0-9]+	denmark	post	m000@example\.net	deferred	0	(now|20[0-9: -]+)	.+" \
	"queue: one line per row, with the relay's error"
is "$(grep -c '	deferred	' "$T_DIR/q2.out")" 100 \
	"queue: the first 100 rows"
is "$(tail -n 1 "$T_DIR/q2.out")" \
	"... and $((N - 100)) more (mlmctl queue --all shows them)" \
	"queue: says how many more"
ctl q3 queue --all
is "$RC:$(grep -c '	deferred	' "$T_DIR/q3.out")" "0:$N" \
	"queue --all: every row"

# The relay comes up.
SINK_DIR=$T_DIR/sink
$PY "$top_srcdir/t/helpers/smtp_sink.py" "$RELAY_PORT" "$SINK_DIR" \
	>"$T_DIR/sink.log" 2>&1 &
SINK_PID=$!
track_pid "$SINK_PID"
t_ready() { [ -f "$SINK_DIR/ready" ]; }
wait_until "$T_WAIT" t_ready || bail "smtp_sink.py did not start"

ctl f1 flush
is "$RC" 0 "flush: exit 0"
like "$(out f1)" "^[0-9]+ copies made due now$" "flush: says how many"
# One X-Sink-To line per recipient the sink accepted.
sunk() {
	cat "$SINK_DIR"/*.eml 2>/dev/null | grep -c '^X-Sink-To:'
}
sunk_all() { [ "$(sunk)" -ge "$N" ]; }
if wait_until "$T_WAIT" sunk_all; then
	pass "flush: the sink received all $N copies"
else
	fail "flush: the sink received all $N copies"
	diag "received: $(sunk)"
	log_tail
fi
ok "the daemon was told to flush" grep -q 'queue: flush asked by mlmctl' \
	"$T_LOG"
is "$(cat "$SINK_DIR"/*.eml | grep '^X-Sink-To:' | sort -u | wc -l)" "$N" \
	"every member got one copy"
ok "the copies carry the list's prefix" \
	grep -q '^Subject: \[DK\] Networking dinner' "$SINK_DIR/000001.eml"
q_empty() {
	ctl q4 queue
	[ "$(out q4)" = "the queue is empty" ]
}
ok "queue: empty once all is sent" wait_until "$T_WAIT" q_empty
ctl f2 flush
is "$RC:$(out f2)" "0:0 copies made due now" "flush of an empty queue"

daemon_stop
ok "no sanitizer report from mlmd or mlmctl" sh -c \
	"! grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' '$T_LOG' '$T_DIR'/*.err"
done_testing
