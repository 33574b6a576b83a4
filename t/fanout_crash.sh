#!/bin/sh
# fanout_crash.sh - the outbound queue survives kill -9: the daemon is
# killed at random moments (sleep 0.05-0.5 s between kills, KILLS times)
# during the fan-out of POSTS posts to MEMBERS members through Postfix's
# smtp-sink, and restarted each time (the posts go in by mlmd-inject in
# KILLS bursts, one before each kill, so that every kill lands in work).
# Afterwards every member has every post (counted in the sink's dump),
# and the duplicates are only those that can come from transactions in
# flight at a kill: at most kills x delivery_connections x delivery_batch
# in all (outq.c's invariant).  Nothing is left in spool/incoming,
# spool/active or HOME/out, and every outbound row is 'sent'.
#
# smtp-sink -d writes one file per completed transaction (a transaction
# cut by a kill leaves no file: smtp-sink removes it), with the envelope
# on top: X-Mail-Args: <sender> and one X-Rcpt-Args: <rcpt> line per
# accepted recipient; each post carries X-Post: N, so (post, recipient)
# pairs are counted from the dump alone.
#
# Plain build: 200 posts x 500 members, 20 kills (20-30 s on two cores).
# Under the sanitizers (slower, and run beside the rest of the suite) it
# is scaled down to 100 posts x 500 members and 10 kills (the same burst
# of 10 posts before each kill: smaller bursts were often delivered
# before the kill).  POSTS, MEMBERS
# and KILLS in the environment override both.
#
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin
command -v smtp-sink >/dev/null 2>&1 ||
	skip_all "Postfix's smtp-sink is missing"

if grep -q '^SAN_FLAGS *= *-fsanitize' "$top_builddir/Makefile" 2>/dev/null
then
	SAN=1
else
	SAN=
fi
if [ -n "$SAN" ]; then
	POSTS=${POSTS:-100}
	MEMBERS=${MEMBERS:-500}
	KILLS=${KILLS:-10}
else
	POSTS=${POSTS:-200}
	MEMBERS=${MEMBERS:-500}
	KILLS=${KILLS:-20}
fi
CONNS=4
BATCH=50
D=$T_DOMAIN

plan 14

# lib.sh's sink_start, with -W .:1:ODDS: smtp-sink answers the end of
# DATA of about ODDS in 100 transactions a second (or more) late, as a
# real relay sometimes does.  Without it a quiet machine delivers a burst
# of 10 posts to 500 members (100 transactions) within the random sleep
# before a kill, and the kill finds an idle queue; with 5 in 100 the
# burst takes a second or more.  kills.log in the test's folder says
# what each kill found.
fan_sink_start() {
	SINK_PORT=$(free_port)
	SINK_DIR=$T_DIR/sink
	mkdir -p "$SINK_DIR"
	t_u=
	if is_root; then
		chown "$T_USER" "$SINK_DIR"
		t_u="-u $T_USER"
	fi
	# shellcheck disable=SC2086
	smtp-sink $t_u -W ".:1:${SINK_ODDS:-5}" -d "$SINK_DIR/%H%M%S." \
		"127.0.0.1:$SINK_PORT" 64 >"$T_DIR/sink.log" 2>&1 &
	SINK_PID=$!
	track_pid "$SINK_PID"
	wait_until 10 t_sink_listening
}
fan_sink_start || bail "smtp-sink did not start"
T_EXTRA="delivery_connections = $CONNS
delivery_batch = $BATCH"
conf_write
sed -i "s|^relay = .*|relay = \"smtp://127.0.0.1:$SINK_PORT\"|" "$T_CONF"
daemon_start || bail "mlmd did not start"

{
	echo address
	i=1
	while [ $i -le "$MEMBERS" ]; do
		printf 'u%04d@example.org\n' $i
		i=$((i + 1))
	done
} >"$T_DIR/members.csv"
"$MLMCTL" -c "$T_CONF" import denmark "$T_DIR/members.csv" >/dev/null ||
	bail "mlmctl import failed"

# The posts, written beforehand so that injecting them is quick.
mkdir -p "$T_DIR/posts"
i=1
while [ $i -le "$POSTS" ]; do
	{
		printf 'From: U1 <u0001@example.org>\nTo: denmark@%s\n' "$D"
		printf 'Subject: fan-out %d\n' $i
		printf 'Message-ID: <fan-%d@example.net>\n' $i
		printf 'X-Post: %d\nDate: Sun, 29 Nov 2026 10:00:00 +0100\n' $i
		printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\n'
		printf 'Post %d of the fan-out crash test.\n' $i
	} >"$T_DIR/posts/$i.eml"
	i=$((i + 1))
done

# inject FROM TO: posts FROM..TO through mlmd-inject (it does not need
# the daemon: the spool waits for it); failures are counted in BAD.
BAD=0
INJECTED=0
inject() {
	t_i=$1
	while [ "$t_i" -le "$2" ]; do
		"$MLMD_INJECT" -c "$T_CONF" -f u0001@example.org "denmark@$D" \
			<"$T_DIR/posts/$t_i.eml" 2>>"$T_DIR/inject.err" ||
			BAD=$((BAD + 1))
		t_i=$((t_i + 1))
	done
	INJECTED=$2
}

waiting() {
	t_w=$(sql "SELECT count(*) FROM outbound
		WHERE state IN ('queued', 'deferred')" 2>/dev/null)
	echo "${t_w:-0}"
}

# Before each kill the next POSTS/KILLS posts go in (a burst of quick
# injections), so that every kill lands in a fan-out in progress, and in
# the intake of posts too, however fast the machine delivers; a post that
# is in flight at a kill is carried over to the next round.
CHUNK=$(((POSTS + KILLS - 1) / KILLS))
start=$(date +%s)
kills=0
restarts=0
busy=0 # kills that hit a queue with copies still waiting
while [ "$kills" -lt "$KILLS" ]; do
	to=$((INJECTED + CHUNK))
	[ "$to" -le "$POSTS" ] || to=$POSTS
	[ "$INJECTED" -ge "$POSTS" ] || inject $((INJECTED + 1)) "$to"
	sleep "$(awk -v s="$$$kills" 'BEGIN { srand(s);
		printf "%.2f", 0.05 + rand() * 0.45 }')"
	w=$(waiting)
	echo "kill $kills: $w copies waiting, $(spool_count incoming)" \
		"incoming, $(spool_count active) active, $(sink_count)" \
		"transactions in the sink" >>"$T_DIR/kills.log"
	{ [ "$w" -gt 0 ] || ! spool_settled; } && busy=$((busy + 1))
	daemon_kill9
	kills=$((kills + 1))
	daemon_start || break
	restarts=$((restarts + 1))
done
[ "$INJECTED" -ge "$POSTS" ] || inject $((INJECTED + 1)) "$POSTS"
is "$restarts" "$kills" "mlmd restarted after each of $kills kills -9"
diag "$busy of $kills kills hit a fan-out in progress"
# A kill finds the queue idle only if the machine delivered a burst of
# POSTS/KILLS posts within the random sleep; half is a safe floor.
ok "kills hit the fan-out in progress ($busy of $kills)" \
	test "$busy" -ge $((KILLS / 2))
is "$INJECTED $BAD" "$POSTS 0" "every mlmd-inject exited 0" ||
	head -5 "$T_DIR/inject.err" | sed 's/^/# /'

t_all_sent() {
	spool_settled &&
		[ "$(sql "SELECT count(*) FROM outbound
			WHERE state = 'sent'")" -ge $((POSTS * MEMBERS)) ]
}
ok "the fan-out finishes after the last restart (bounded wait)" \
	wait_until $((T_WAIT * 6)) t_all_sent
diag "$(($(date +%s) - start)) s from the first kill to the end"

is "$(sql "SELECT count(DISTINCT message_id) || ' ' || count(*)
	FROM inbound WHERE role = 'post'")" "$POSTS $POSTS" \
	"each post recorded once"
is "$(sql "SELECT state || ' ' || count(*) FROM outbound GROUP BY state")" \
	"sent $((POSTS * MEMBERS))" "every queued copy is 'sent', none failed"

# Count (post, recipient) pairs in the dump.
$PY - "$SINK_DIR" "$POSTS" "$MEMBERS" >"$T_DIR/count.out" <<'EOF'
import os, sys
d, posts, members = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n, files, unknown, senders = {}, 0, 0, set()
for name in os.listdir(d):
    files += 1
    post, rcpts = None, []
    with open(os.path.join(d, name), "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n").decode("utf-8", "replace")
            if not line:
                break
            if line.startswith("X-Rcpt-Args: "):
                rcpts.append(line[13:].split()[0].strip("<>").lower())
            elif line.startswith("X-Mail-Args: "):
                senders.add(line[13:].split()[0])
            elif line.startswith("X-Post: "):
                post = int(line[8:])
    if post is None:
        unknown += 1
        continue
    for r in rcpts:
        n[(post, r)] = n.get((post, r), 0) + 1
want = [(p, "u%04d@example.org" % m) for p in range(1, posts + 1)
        for m in range(1, members + 1)]
missing = [k for k in want if k not in n]
extra = [k for k in n if k[0] < 1 or k[0] > posts or
         not k[1].startswith("u") or not k[1].endswith("@example.org")]
dups = sum(v - 1 for v in n.values())
print("files=%d" % files)
print("deliveries=%d" % sum(n.values()))
print("missing=%d" % len(missing))
print("extra=%d" % len(extra))
print("dups=%d" % dups)
print("maxdup=%d" % max(n.values(), default=0))
print("unknown=%d" % unknown)
print("senders=%s" % ",".join(sorted(senders)))
for k in missing[:5]:
    print("# missing: post %d to %s" % k)
EOF
cnt() { sed -n "s/^$1=//p" "$T_DIR/count.out"; }
diag "sink: $(cnt files) transactions, $(cnt deliveries) deliveries of" \
	"$((POSTS * MEMBERS)) pairs, $(cnt dups) duplicates (most of one" \
	"pair: $(cnt maxdup)) after $kills kills"
is "$(cnt missing)" 0 "every member has every post ($POSTS x $MEMBERS)" ||
	grep '^# missing' "$T_DIR/count.out"
is "$(cnt extra)$(cnt unknown)" 00 "nothing else was delivered"
bound=$((kills * CONNS * BATCH))
ok "duplicates $(cnt dups) <= kills x connections x batch = $bound" \
	test "$(cnt dups)" -le "$bound"
is "$(cnt senders)" "<denmark+bounce@$D>" \
	"every envelope from denmark+bounce@$D"

is "$(spool_count incoming) $(spool_count active) $(spool_count quarantine)" \
	"0 0 0" "no spool file left in incoming/ or active/, none quarantined"
# A kill between the commit of a copy's last result and the unlink of
# its file leaves the file; the restart after it removes it (outq_gc).
left=$(find "$T_HOME/out" -type f 2>/dev/null | wc -l)
if ! is "$left" 0 "no copy file left under HOME/out/"; then
	for t_f in $(find "$T_HOME/out" -type f | head -3); do
		t_p=out/$(basename "$t_f")
		diag "left: $t_p, its rows: $(sql "SELECT group_concat(n, ' ')
			FROM (SELECT state || ' ' || count(*) AS n FROM outbound
			WHERE path = '$t_p' GROUP BY state)")"
	done
fi

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
