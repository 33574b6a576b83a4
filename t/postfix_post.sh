#!/bin/sh
# postfix_post.sh - posting end to end through a real MTA: a member's post
# is submitted to a private Postfix (t/lib.sh pf_start), which hands it to
# mlmd by LMTP; mlmd distributes it through relay = smtp://Postfix, and
# Postfix relays the members' copies to sinks that dump every message:
#
#   swaks -> Postfix smtpd -> LMTP -> mlmd -> Postfix smtpd -> smtp-sink -d
#                                                          \-> smtp_sink.py
#
# What it checks: each member gets exactly one copy with the list's headers
# (List-Id, List-Unsubscribe, Precedence), the "[DK] " prefix and the
# Danish footer; a non-member's post is held and its sender gets a notice;
# an auto-reply goes to the owners, not the members; a member refused by
# Postfix's smtpd at RCPT does not keep the others from being delivered
# and its outbound row fails; a member refused further down (by the sink)
# is bounced by Postfix, and the DSN comes back to the list's bounce
# address and is recorded by mlmd (role 'bounce'; processing it is a later
# issue).  Then, with verp = true, one post to 200 members is handed to
# Postfix's smtpd quickly (no delayed-ACK stall per transaction).
#
# Why two sinks: smtp-sink can refuse a command (-f RCPT) only for every
# recipient, never for one; t/helpers/smtp_sink.py refuses local parts
# starting with "bad" (550 5.1.1), so the domain example.com goes there and
# everything else to smtp-sink.  Every process is started here or by
# lib.sh and stopped by PID (or `postfix stop` for the instance).
. "${top_srcdir:-.}/t/lib.sh"

PATH=$PATH:/usr/sbin
[ -x "$MLMD" ] || skip_all "mlmd is not built"
why=$(pf_can_run) || skip_all "$why"
command -v swaks >/dev/null || skip_all "swaks is not installed"
command -v smtp-sink >/dev/null || skip_all "smtp-sink is not installed"
$PY -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd missing"

plan 56

D=$T_DOMAIN
OWNER=coord@example.org
# The members who must get the post: two behind each kind of sink hop.
GOOD="amira@example.net bo@example.org carl@example.org dina@example.net \
good@example.com"
BAD=bad@example.com         # refused by smtp_sink.py: Postfix bounces
REFUSED=refused@example.org # refused by Postfix's smtpd: mlmd sees 550
N_FAN=200                   # members of the fan-out in per-recipient mode

# --- helpers ------------------------------------------------------------------


# py_sink_start: t/helpers/smtp_sink.py on a free port, dumping into
# $T_DIR/pysink.  Sets PY_PORT, PY_DIR, PY_PID.
py_sink_start() {
	PY_PORT=$(free_port)
	PY_DIR=$T_DIR/pysink
	mkdir -p "$PY_DIR"
	$PY "$top_srcdir/t/helpers/smtp_sink.py" "$PY_PORT" "$PY_DIR" \
		>"$T_DIR/pysink.log" 2>&1 &
	PY_PID=$!
	track_pid "$PY_PID"
	wait_until 10 test -f "$PY_DIR/ready"
}

# dumps: every message file of both sinks.
dumps() {
	find "$SINK_DIR" "$PY_DIR" -type f ! -name ready ! -name '*.tmp' \
		2>/dev/null
}

# with_mid MID: the dumps whose Message-ID is <MID>.
with_mid() {
	dumps | while read -r t_f; do
		grep -qi "^Message-I[Dd]: <$1>" "$t_f" && echo "$t_f"
	done
}

# rcpt_re ADDR: an ERE for ADDR as an envelope recipient in either
# sink's dump (smtp-sink: "X-Rcpt-Args: <a> ORCPT=...", smtp_sink.py:
# "X-Sink-To: a").
rcpt_re() {
	echo "^(X-Rcpt-Args: <$1>|X-Sink-To: $1[[:space:]]*\$)"
}

# copies MID ADDR: how many copies of MID reached ADDR.
copies() {
	t_re=$(rcpt_re "$2")
	t_n=0
	for t_f in $(with_mid "$1"); do
		t_c=$(grep -Eci "$t_re" "$t_f")
		t_n=$((t_n + t_c))
	done
	echo "$t_n"
}

# tally MID ADDR...: "addr=N" for each ADDR, one line.
tally() {
	t_mid=$1
	shift
	t_out=
	for t_a in "$@"; do
		t_out="$t_out ${t_a%%@*}=$(copies "$t_mid" "$t_a")"
	done
	echo "${t_out# }"
}

# all_have MID N ADDR...: every ADDR got exactly N copies of MID.
all_have() {
	t_mid=$1
	t_want=$2
	shift 2
	for t_a in "$@"; do
		[ "$(copies "$t_mid" "$t_a")" -eq "$t_want" ] || return 1
	done
}

# got MID ADDR: ADDR got at least one copy of MID.
got() {
	[ "$(copies "$1" "$2")" -ge 1 ]
}

# copy_of MID ADDR: the dump of MID for ADDR.
copy_of() {
	t_re=$(rcpt_re "$2")
	for t_f in $(with_mid "$1"); do
		if grep -Eqi "$t_re" "$t_f"; then
			echo "$t_f"
			return 0
		fi
	done
	return 1
}

# field FILE NAME: the decoded value of the first header field NAME.
field() {
	$PY - "$1" "$2" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
v = m.get(sys.argv[2])
print("" if v is None else " ".join(str(v).split()))
EOF
}

# text FILE: every text/plain part, decoded.
text() {
	$PY - "$1" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
for p in m.walk():
    if p.get_content_type() == "text/plain":
        print(p.get_content())
EOF
}

# post FROM TO MID SUBJECT [--header H]...: submit to Postfix's smtpd.
post() {
	t_from=$1
	t_to=$2
	t_mid=$3
	t_subj=$4
	shift 4
	swaks --server 127.0.0.1 --port "$PF_PORT" --from "$t_from" \
		--to "$t_to" --header "From: $t_from" \
		--header "Message-Id: <$t_mid>" --header "Subject: $t_subj" \
		"$@" --body "Hej alle sammen, hilsen fra Aarhus!" \
		>"$T_DIR/swaks.$t_mid.out" 2>&1
}

# mlmctl ARGS...: as the daemon's user, output kept in mlmctl.out.
mlmctl() {
	as_user "$MLMCTL" -c "$T_CONF" "$@" >>"$T_DIR/mlmctl.out" 2>&1
}

# pf_queue_empty: no message left in the private Postfix's queue.
pf_queue_empty() {
	[ -z "$(find "$PF_DIR/queue/maildrop" "$PF_DIR/queue/incoming" \
		"$PF_DIR/queue/active" "$PF_DIR/queue/deferred" \
		"$PF_DIR/queue/hold" -type f 2>/dev/null)" ]
}

# waiting: outbound rows mlmd has still to hand over.
waiting() {
	t_c=$(sql "SELECT count(*) FROM outbound WHERE state IN
		('queued', 'sending', 'deferred')" 2>/dev/null)
	echo "${t_c:-0}"
}

# settled: mlmd and Postfix have nothing left to do.
settled() {
	spool_settled && [ "$(waiting)" -eq 0 ] && pf_queue_empty
}

# sql_is QUERY WANT: the query's result is WANT (for wait_until).
sql_is() {
	[ "$(sql "$1" 2>/dev/null)" = "$2" ]
}

# mlmd_conf VERP: the test configuration with the relay pointing at the
# private Postfix (a later `relay = ...` replaces conf_write's maildir
# one: libconfuse keeps the last value of a single option) and owners
# for denmark (a list cannot be declared twice, so they go in with sed).
mlmd_conf() {
	T_EXTRA="relay = \"smtp://127.0.0.1:$PF_PORT\"
verp = $1
delivery_connections = ${2:-4}"
	conf_write
	sed -i "s/^\\tsubject_prefix = \"\\[DK\\] \"\$/&\\n\\towners = { \"$OWNER\" }/" \
		"$T_CONF"
}

# --- the sinks, Postfix, mlmd -----------------------------------------------

ok "smtp-sink started" sink_start
ok "smtp_sink.py started (refuses bad*@)" py_sink_start
pf_start "$T_SOCK" "smtp:[127.0.0.1]:$SINK_PORT" ||
	bail "the private Postfix did not start"
# The domain example.com goes to smtp_sink.py; refused@example.org is
# refused by the smtpd itself, so that mlmd gets the 550 at RCPT.
postconf -c "$PF_DIR/etc" -e \
	"transport_maps = inline:{ $D=lmtp:unix:$T_SOCK, example.com=smtp:[127.0.0.1]:$PY_PORT }" \
	"smtpd_recipient_restrictions = check_recipient_access inline:{ { $REFUSED = 550 5.1.1 <$REFUSED>: Recipient address rejected: refused in this test } }" ||
	bail "postconf failed"
postfix -c "$PF_DIR/etc" reload >"$PF_DIR/reload.out" 2>&1 ||
	bail "postfix reload failed"
# the master logs this after it read the new main.cf; processes it starts
# from then on use it
ok "private Postfix on 127.0.0.1:$PF_PORT reloaded with the sink routes" \
	wait_until "$T_WAIT" pf_log_has "reload -- version"

mlmd_conf false
"$MLMD" -c "$T_CONF" -n 2>&1 | grep -E '^(relay|verp) ' >"$T_DIR/eff"
is "$(tr '\n' ' ' <"$T_DIR/eff")" \
	"relay = \"smtp://127.0.0.1:$PF_PORT\" verp = false " \
	"the later relay line wins"
daemon_start || bail "mlmd did not start"
# shellcheck disable=SC2086
ok "members added" mlmctl add denmark $GOOD "$BAD" "$REFUSED"

# --- a member's post ----------------------------------------------------------

MID=pfe-post@example.net
ok "Postfix accepts the member's post" \
	post amira@example.net "denmark@$D" "$MID" "Netværksmiddag i Aarhus"
ok "the post reaches mlmd as a post" wait_inbound 1 \
	"message_id = '$MID' AND role = 'post' AND list = 'denmark'"
# shellcheck disable=SC2086
if ! wait_until $((T_WAIT * 2)) all_have "$MID" 1 $GOOD; then
	diag "postfix log:"
	tail -n 30 "$PF_LOG" | sed 's/^/# /'
fi
# shellcheck disable=SC2086
is "$(tally "$MID" $GOOD)" \
	"amira=1 bo=1 carl=1 dina=1 good=1" \
	"every member's copy arrives at the sinks"
ok "mlmd and Postfix settle" wait_until $((T_WAIT * 2)) settled
# once more, settled: no second copy came later
# shellcheck disable=SC2086
is "$(tally "$MID" $GOOD)" "amira=1 bo=1 carl=1 dina=1 good=1" \
	"each exactly once"

f=$(copy_of "$MID" bo@example.org)
ok "bo's copy is in smtp-sink's dump" test -n "$f"
[ -n "$f" ] || f=/dev/null
is "$(field "$f" Subject)" "[DK] Netværksmiddag i Aarhus" \
	"Subject has the [DK] prefix"
is "$(field "$f" List-Id)" "Migrant entrepreneurs in Denmark <denmark.$D>" \
	"List-Id (RFC 2919)"
like "$(field "$f" List-Unsubscribe)" \
	"<mailto:denmark\\+unsubscribe@$D" "List-Unsubscribe (RFC 2369)"
is "$(field "$f" Precedence)" "list" "Precedence: list"
body=$(text "$f")
like "$body" "^Mailinglisten denmark: denmark@$D\$" \
	"the Danish footer's mailing-list line"
like "$body" "Hej alle sammen, hilsen fra Aarhus" "the body is kept"
like "$(grep -m1 '^X-Mail-Args:' "$f")" "^X-Mail-Args: <denmark\\+bounce@$D>" \
	"envelope sender: the list's bounce address"
g=$(copy_of "$MID" good@example.com)
like "$(grep -m1 '^Subject:' "${g:-/dev/null}")" "\\[DK\\]" \
	"the copy through the other sink is decorated too"

# refused@ was refused at RCPT by Postfix's smtpd: mlmd's row fails, the
# others of the same transaction were delivered (above).
is "$(sql "SELECT state || ' ' || last_code FROM outbound WHERE
	message_id = '$MID' AND recipient = '$REFUSED'")" "failed 550" \
	"the member refused at RCPT: outbound row failed with 550"
is "$(sql "SELECT count(*) FROM outbound WHERE message_id = '$MID' AND
	kind = 'post' AND state = 'sent'")" 6 \
	"the other six rows are sent (bad@ too: Postfix accepted it)"
is "$(sql "SELECT kind || ' ' || status || ' ' || counted FROM bounces
	WHERE address = '$REFUSED'")" "hard 5.1.1 1" \
	"mlmd scored the 550 5.1.1 as a hard bounce of the refused member"
is "$(sql "SELECT round(bounce_score, 1) FROM members WHERE
	address = '$REFUSED'")" 1.0 "its bounce score is 1"

# bad@ was accepted by Postfix and refused by the sink: Postfix bounces,
# and the DSN goes to the envelope sender, denmark+bounce@, over LMTP.
ok "Postfix bounces bad@ on the sink's 550" wait_until "$T_WAIT" pf_log_has \
	"to=<$BAD>.*status=bounced.*550 5\\.1\\.1"
ok "Postfix tries to deliver the DSN to denmark+bounce@" \
	wait_until "$T_WAIT" pf_log_has \
	"to=<denmark\\+bounce@$D>.*status=(sent|bounced|deferred)"
# The DSN of a batched (non-VERP) copy comes back to LIST+bounce@DOMAIN,
# which mlmd must accept (it once refused it: bounce needed "-INFO").
t_dsn_recorded() {
	pf_log_has "to=<denmark\\+bounce@$D>.*status=sent" &&
		wait_inbound 1 "list = 'denmark' AND role = 'bounce'"
}
ok "the DSN is recorded by mlmd as role bounce" t_dsn_recorded

# --- a non-member's post --------------------------------------------------------

MID2=pfe-stranger@example.net
ok "Postfix accepts a non-member's post" \
	post stranger@example.net "denmark@$D" "$MID2" "Kan jeg være med?"
ok "it is held" wait_until "$T_WAIT" sql_is "SELECT count(*) FROM held
	WHERE list = 'denmark' AND message_id = '$MID2' AND
	sender = 'stranger@example.net' AND state = 'held'" 1
t_notice() {
	for t_f in $(dumps); do
		grep -Eqi "$(rcpt_re stranger@example.net)" "$t_f" &&
			grep -q '^X-Mail-Args: <>' "$t_f" && return 0
	done
	return 1
}
ok "the sender gets a notice from <>" wait_until "$T_WAIT" t_notice

# --- an auto-reply ------------------------------------------------------------

MID3=pfe-vacation@example.net
ok "Postfix accepts a member's auto-reply" \
	post amira@example.net "denmark@$D" "$MID3" "Fraværende: Netværksmiddag" \
	--header "Auto-Submitted: auto-replied"
ok "the owner gets it" wait_until "$T_WAIT" got "$MID3" "$OWNER"
f=$(copy_of "$MID3" "$OWNER")
like "$(grep -m1 '^X-Mlmd-Owner-Reason:' "${f:-/dev/null}")" "." \
	"the owner's copy says why it came"

ok "mlmd and Postfix settle" wait_until $((T_WAIT * 2)) settled
# shellcheck disable=SC2086
is "$(tally "$MID2" $GOOD)" "amira=0 bo=0 carl=0 dina=0 good=0" \
	"the members got nothing of the held post"
# shellcheck disable=SC2086
is "$(tally "$MID3" $GOOD)" "amira=0 bo=0 carl=0 dina=0 good=0" \
	"the members got nothing of the auto-reply"
is "$(sql "SELECT count(*) FROM outbound WHERE message_id IN ('$MID2',
	'$MID3') AND kind = 'post'")" 0 "no post copies were queued for them"

# --- per-recipient mode (VERP) --------------------------------------------------

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
# One connection, so that a per-transaction stall cannot hide behind
# parallel ones: 200 x 0.2 s of delayed ACKs would take 40 s.
mlmd_conf true 1
daemon_start || bail "mlmd did not restart with verp = true"
i=1
echo address >"$T_DIR/fan.csv"
echo amira@example.net >>"$T_DIR/fan.csv"
while [ "$i" -lt "$N_FAN" ]; do
	printf 'm%03d@example.org\n' "$i" >>"$T_DIR/fan.csv"
	i=$((i + 1))
done
chmod 644 "$T_DIR/fan.csv"
ok "$N_FAN members imported into coordinators" \
	mlmctl import coordinators "$T_DIR/fan.csv"

MID4=pfe-fan@example.net
t0=$(date +%s.%N)
ok "Postfix accepts a post to $N_FAN members" \
	post amira@example.net "coordinators@$D" "$MID4" "Kvartalsmøde"
t_fan_sent() {
	sql_is "SELECT count(*) FROM outbound WHERE message_id = '$MID4' AND
		state = 'sent'" "$N_FAN"
}
wait_until 60 t_fan_sent
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
diag "$N_FAN VERP copies handed to Postfix in ${secs}s"
is "$(sql "SELECT count(*) FROM outbound WHERE message_id = '$MID4' AND
	state = 'sent'")" "$N_FAN" "all $N_FAN copies handed to Postfix"
ok "in well under 40 s (${secs}s < 15 s: no delayed-ACK stall)" \
	awk -v s="$secs" 'BEGIN { exit !(s < 15) }'
t_fan_arrived() {
	[ "$(with_mid "$MID4" | wc -l)" -ge "$N_FAN" ]
}
wait_until $((T_WAIT * 3)) t_fan_arrived
ok "Postfix and mlmd settle" wait_until $((T_WAIT * 2)) settled
# one line per recipient at the sink, each once
with_mid "$MID4" | xargs grep -h '^X-Rcpt-Args:' | cut -d' ' -f2 |
	sort | uniq -c >"$T_DIR/fan.count"
is "$(awk '$1 == 1' "$T_DIR/fan.count" | wc -l) $(awk '$1 != 1' \
	"$T_DIR/fan.count" | wc -l)" "$N_FAN 0" \
	"each of the $N_FAN members got exactly one copy"
f=$(copy_of "$MID4" m042@example.org)
is "$(grep -m1 '^X-Mail-Args:' "${f:-/dev/null}" | cut -d' ' -f2)" \
	"<coordinators+bounce-m042=example.org@$D>" \
	"VERP envelope sender names the member"

# A DSN to a VERP address reaches mlmd as a bounce.
MID5=pfe-verp@example.net
ok "Postfix accepts a member's post (VERP)" \
	post amira@example.net "denmark@$D" "$MID5" "Mentordag"
ok "the DSN for bad@ goes to the VERP address and is delivered to mlmd" wait_until "$T_WAIT" pf_log_has \
	"to=<denmark\\+bounce-bad=example\\.com@$D>.*status=sent"
ok "the DSN is recorded by mlmd as role bounce" wait_inbound 1 \
	"list = 'denmark' AND role = 'bounce' AND
	recipient = 'denmark+bounce-bad=example.com@$D'"
is "$(sql "SELECT state || ' ' || last_code FROM outbound WHERE
	message_id = '$MID5' AND recipient = '$REFUSED'")" "failed 550" \
	"refused at RCPT alone in its transaction: failed with 550"
# shellcheck disable=SC2086
ok "the others got theirs" wait_until "$T_WAIT" all_have "$MID5" 1 $GOOD

# --- the end ---------------------------------------------------------------------

ok "spool drained" wait_until "$T_WAIT" spool_settled
is "$(spool_count quarantine)" 0 "nothing quarantined"
ok "the private Postfix stops, no process left" pf_stop
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "smtp-sink stopped" stop_pid "$SINK_PID"
ok "smtp_sink.py stopped" stop_pid "$PY_PID"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
