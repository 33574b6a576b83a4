#!/bin/sh
# postfix_bounce.sh - bounce handling end to end through a real MTA: posts
# are submitted to a private Postfix (t/lib.sh pf_start), which hands them
# to mlmd by LMTP; mlmd sends every copy with its own VERP envelope sender
# (verp = true) through relay = smtp://Postfix, and Postfix relays them:
#
#   swaks -> Postfix smtpd -> LMTP -> mlmd -> Postfix smtpd -> smtp-sink -d
#                   ^                                      \-> smtp_sink.py
#                   |                                      \-> 2nd smtpd
#                   +-- DSN from MAILER-DAEMON to LIST+bounce-user=domain@
#
# The members: bad1@ and bad2@example.com are refused by smtp_sink.py at
# RCPT (550 5.1.1), so Postfix bounces their copies and its DSNs come
# back to their VERP addresses; dmarc@example.net is routed to a second
# smtpd of the same instance, which refuses it at RCPT with 550 5.7.1
# "DMARC policy", so Postfix bounces that copy with a 5.7.1 DSN (the error
# transport cannot do this: the smtpd refuses its addresses at RCPT
# already); good@example.com gets one post refused for its content by
# smtp_sink.py (554 5.6.0 at the end of DATA: "X-Sink: reject");
# strict@example.org is refused by Postfix's own smtpd at RCPT (550 5.7.1
# DMARC), so mlmd sees that refusal itself; amira@ (who posts) and bo@ are
# fine.
#
# What it checks, with bounce_threshold = 2: each hard DSN adds 1 to the
# dead members' scores; at 2 a probe goes out from LIST+bounce-probe-TOKEN@;
# Postfix bounces the probe too, and its DSN to the probe address pauses
# delivery (members.disabled) and mails the owners (bounces.txt); the next
# post is not queued for the paused members; the policy and content
# refusals are recorded and count against nobody, and those members stay
# enabled; after 31 days of pause (moved back by SQL) the housekeeping run
# 10 s after a restart removes the dead members and tells the owners.
# Every process is started here or by lib.sh and stopped by PID (or
# `postfix stop` for the instance).
. "${top_srcdir:-.}/t/lib.sh"

PATH=$PATH:/usr/sbin
[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
why=$(pf_can_run) || skip_all "$why"
command -v swaks >/dev/null || skip_all "swaks is not installed"
command -v smtp-sink >/dev/null || skip_all "smtp-sink is not installed"
$PY -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd missing"

plan 49

D=$T_DOMAIN
OWNER=owner@example.org
POSTER=amira@example.net
LIVE="$POSTER bo@example.org"
BAD1=bad1@example.com      # smtp_sink.py: 550 5.1.1 at RCPT
BAD2=bad2@example.com
GOOD=good@example.com      # smtp_sink.py: 554 5.6.0 for "X-Sink: reject"
DMARC=dmarc@example.net    # Postfix's second smtpd: 550 5.7.1, a DSN
STRICT=strict@example.org  # Postfix's smtpd: 550 5.7.1 at RCPT

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

# post MID SUBJECT [SWAKS-ARG...]: amira posts to denmark through
# Postfix's smtpd.
post() {
	t_mid=$1
	t_subj=$2
	shift 2
	swaks --server 127.0.0.1 --port "$PF_PORT" --from "$POSTER" \
		--to "denmark@$D" --header "From: $POSTER" \
		--header "Message-Id: <$t_mid>" --header "Subject: $t_subj" \
		"$@" --body "Hej alle sammen, hilsen fra Aarhus!" \
		>"$T_DIR/swaks.$t_mid.out" 2>&1
}

# sql_is QUERY WANT: the query's result is WANT (for wait_until).
sql_is() {
	[ "$(sql "$1" 2>/dev/null)" = "$2" ]
}

score() {
	sql "SELECT round(bounce_score, 2) FROM members WHERE
		list = 'denmark' AND address = '$1'"
}

# kinds ADDR: the kinds of ADDR's bounces rows, oldest first.
kinds() {
	sql "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM bounces
		WHERE list = 'denmark' AND address = '$1' ORDER BY id)"
}

# n_bounces ADDR KIND [MID]
n_bounces() {
	t_q="SELECT count(*) FROM bounces WHERE list = 'denmark' AND
		address = '$1' AND kind = '$2'"
	[ -z "${3:-}" ] || t_q="$t_q AND message_id = '$3'"
	sql "$t_q"
}

# owner_sent: owner mails mlmd handed to Postfix.
owner_sent() {
	sql "SELECT count(*) FROM outbound WHERE kind = 'owner' AND
		recipient = '$OWNER' AND state = 'sent'"
}

# owner_text: the decoded text of every mail smtp-sink got for the owner.
owner_text() {
	$PY - "$SINK_DIR" "$OWNER" <<'EOF'
import email, email.policy, os, sys
d, who = sys.argv[1], sys.argv[2].lower()
for n in sorted(os.listdir(d)):
    raw = open(os.path.join(d, n), "rb").read()
    if ("x-rcpt-args: <%s>" % who).encode() not in raw.lower():
        continue
    m = email.message_from_bytes(raw, policy=email.policy.default)
    print("Subject:", m.get("Subject", ""))
    for p in m.walk():
        if p.get_content_type() == "text/plain":
            print(p.get_content())
EOF
}

# owner_told ERE: a mail to the owner at the sink matches.
owner_told() {
	t_txt=$(owner_text)
	printf '%s\n' "$t_txt" | grep -Eq -- "$1"
}

pf_queue_empty() {
	[ -z "$(find "$PF_DIR/queue/maildrop" "$PF_DIR/queue/incoming" \
		"$PF_DIR/queue/active" "$PF_DIR/queue/deferred" \
		"$PF_DIR/queue/hold" -type f 2>/dev/null)" ]
}

# settled: mlmd and Postfix have nothing left to do.
settled() {
	spool_settled && pf_queue_empty && sql_is "SELECT count(*) FROM
		outbound WHERE state IN ('queued', 'sending', 'deferred')" 0
}

# explain: what mlmd and Postfix said about bounces (on a failure).
explain() {
	diag "mlmd log (bounce lines):"
	grep -Ei 'bounce|probe|paused|removed' "$T_LOG" | tail -n 20 |
		sed 's/^/# /'
	diag "postfix log (status lines):"
	grep -E 'status=' "$PF_LOG" | tail -n 20 | sed 's/^/# /'
}

# --- the sinks, Postfix, mlmd -----------------------------------------------

ok "smtp-sink started" sink_start
ok "smtp_sink.py started (refuses bad*@)" py_sink_start
pf_start "$T_SOCK" "smtp:[127.0.0.1]:$SINK_PORT" ||
	bail "the private Postfix did not start"
# example.com goes to smtp_sink.py; dmarc@ to a second smtpd of the
# instance (its own myhostname, or Postfix's smtp client would see mail
# "loop back to myself"), which refuses it; strict@ is refused by the
# first smtpd itself.
MX_PORT=$(free_port)
postconf -c "$PF_DIR/etc" -e \
	"transport_maps = inline:{ $D=lmtp:unix:$T_SOCK, example.com=smtp:[127.0.0.1]:$PY_PORT, $DMARC=smtp:[127.0.0.1]:$MX_PORT }" \
	"smtpd_recipient_restrictions = check_recipient_access inline:{ { $STRICT = 550 5.7.1 <$STRICT>: Recipient address rejected: DMARC policy } }" \
	"mx_recipient_restrictions = check_recipient_access inline:{ { $DMARC = 550 5.7.1 <$DMARC>: rejected by the DMARC policy of the sender domain } }" ||
	bail "postconf failed"
postconf -c "$PF_DIR/etc" -M \
	"127.0.0.1:$MX_PORT/inet=127.0.0.1:$MX_PORT inet n - n - - smtpd -o myhostname=mx.example.net -o smtpd_recipient_restrictions=\$mx_recipient_restrictions" ||
	bail "postconf -M failed"
postfix -c "$PF_DIR/etc" reload >"$PF_DIR/reload.out" 2>&1 ||
	bail "postfix reload failed"
ok "private Postfix reloaded with the sink routes" \
	wait_until "$T_WAIT" pf_log_has "reload -- version"

T_EXTRA="relay = \"smtp://127.0.0.1:$PF_PORT\"
verp = true
bounce_threshold = 2"
conf_write
sed -i "/^list denmark {/a\\
	owners = { \"$OWNER\" }" "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"
add() {
	# shellcheck disable=SC2086
	as_user "$MLMCTL" -c "$T_CONF" add denmark $LIVE "$GOOD" "$BAD1" \
		"$BAD2" "$DMARC" "$STRICT" >"$T_DIR/add.out" 2>&1
}
ok "members added" add

# --- post 1: the dead ones bounce, DMARC refusals do not count --------------------

M1=pfb-1@example.net
ok "Postfix accepts post 1" post "$M1" "Netværksmiddag"
t_post1() {
	[ "$(n_bounces "$BAD1" hard "$M1")" = 1 ] &&
		[ "$(n_bounces "$BAD2" hard "$M1")" = 1 ] &&
		[ "$(n_bounces "$DMARC" policy "$M1")" = 1 ] && settled
}
wait_until $((T_WAIT * 2)) t_post1 || explain
ok "Postfix bounced bad1's copy on the sink's 550" \
	pf_log_has "to=<$BAD1>.*status=bounced.*550 5\\.1\\.1"
ok "and delivered its DSN to bad1's VERP address at mlmd" \
	pf_log_has "postfix/lmtp.*to=<denmark\\+bounce-bad1=example\\.com@$D>.*status=sent"
is "$(kinds "$BAD1") / $(kinds "$BAD2")" "hard / hard" \
	"a hard bounce recorded for each dead member"
is "$(score "$BAD1") $(score "$BAD2")" "1.0 1.0" "each scores 1"
is "$(sql "SELECT status FROM bounces WHERE address = '$BAD1'")" 5.1.1 \
	"with the status from Postfix's DSN"
is "$(sql "SELECT state FROM outbound WHERE message_id = '$M1' AND
	recipient = '$DMARC'")" sent "Postfix accepted dmarc@'s copy from mlmd"
ok "Postfix bounced dmarc@'s copy on the second smtpd's 5.7.1" \
	pf_log_has "to=<$DMARC>.*dsn=5\\.7\\.1, status=bounced.*DMARC"
is "$(kinds "$DMARC")" policy "its DSN is recorded as a policy refusal"
is "$(score "$DMARC")" 0.0 "which counts nothing"
is "$(sql "SELECT state || ' ' || last_code FROM outbound WHERE
	message_id = '$M1' AND recipient = '$STRICT'")" "failed 550" \
	"strict@ refused at RCPT by Postfix's smtpd: the copy fails"
is "$(kinds "$STRICT") $(score "$STRICT")" "policy 0.0" \
	"recorded as a policy refusal, counting nothing"
is "$(sql "SELECT count(*) FROM outbound WHERE kind = 'probe'")" 0 \
	"below the threshold: no probe"

# --- post 2: the threshold, the probes; a content refusal ----------------------

M2=pfb-2@example.net
ok "Postfix accepts post 2 (refused for its content by smtp_sink.py)" \
	post "$M2" "Mentordag" --header "X-Sink: reject"
t_probes() {
	sql_is "SELECT count(*) FROM outbound WHERE kind = 'probe' AND
		recipient IN ('$BAD1', '$BAD2')" 2
}
wait_until $((T_WAIT * 2)) t_probes || explain
is "$(score "$BAD1") $(score "$BAD2")" "2.0 2.0" "the second hard bounce: 2"
is "$(sql "SELECT count(*) FROM outbound WHERE kind = 'probe' AND
	recipient IN ('$BAD1', '$BAD2')")" 2 \
	"at the threshold a probe is queued for each"
like "$(sql "SELECT sender FROM outbound WHERE kind = 'probe' AND
	recipient = '$BAD1'")" "^denmark\\+bounce-probe-[a-z0-9-]+@$D\$" \
	"from the probe's own address"
ok "probe_sent recorded" sql_is "SELECT count(*) FROM members WHERE
	address IN ('$BAD1', '$BAD2') AND probe_sent IS NOT NULL" 2
t_paused() {
	sql_is "SELECT count(*) FROM members WHERE list = 'denmark' AND
		address IN ('$BAD1', '$BAD2') AND disabled IS NOT NULL" 2
}
ok "the probes bounce too: delivery to both paused" \
	wait_until $((T_WAIT * 2)) t_paused || explain
ok "the probes' DSNs went to the probe addresses at mlmd" pf_log_has \
	"postfix/lmtp.*to=<denmark\\+bounce-probe-[a-z0-9-]+@$D>.*status=sent"
ok "the owners are told, once per paused member" \
	wait_until "$T_WAIT" sql_is "SELECT count(*) >= 2 FROM outbound
		WHERE kind = 'owner' AND recipient = '$OWNER' AND state = 'sent'" 1
t_told_paused() {
	owner_told "$BAD1" && owner_told "$BAD2"
}
ok "the owners' mail arrives, naming both addresses" \
	wait_until "$T_WAIT" t_told_paused
like "$(owner_text)" "pause" "bounces.txt: delivery is paused"
t_good() { [ "$(n_bounces "$GOOD" content "$M2")" = 1 ]; }
ok "good@'s copy refused for its content: recorded as content" \
	wait_until "$T_WAIT" t_good
ok "Postfix had bounced it at the end of DATA" \
	pf_log_has "to=<$GOOD>.*status=bounced.*554 5\\.6\\.0"
is "$(score "$GOOD")" 0.0 "which counts nothing"
ok "mlmd and Postfix settle" wait_until $((T_WAIT * 2)) settled
is "$(n_bounces "$DMARC" policy) $(n_bounces "$STRICT" policy)" "2 2" \
	"policy refusals of both posts recorded"
is "$(sql "SELECT count(*) FROM bounces WHERE list = 'denmark' AND
	address IN ('$BAD1', '$BAD2') AND kind = 'hard'")" 4 \
	"the dead ones: two hard bounces each (their probes' DSNs do not score)"

# --- post 3: the paused members get nothing ------------------------------------

M3=pfb-3@example.net
ok "Postfix accepts post 3" post "$M3" "Kvartalsmøde"
t_post3() {
	sql_is "SELECT count(*) FROM outbound WHERE message_id = '$M3' AND
		recipient = 'bo@example.org'" 1 && settled
}
wait_until $((T_WAIT * 2)) t_post3 || explain
is "$(sql "SELECT count(*) FROM outbound WHERE message_id = '$M3' AND
	recipient IN ('$BAD1', '$BAD2')")" 0 "no copy queued for the paused"
is "$(sql "SELECT group_concat(recipient, ' ') FROM (SELECT recipient
	FROM outbound WHERE message_id = '$M3' AND kind = 'post' AND
	recipient IN ('bo@example.org', '$GOOD', '$DMARC', '$STRICT')
	ORDER BY recipient)")" "bo@example.org $DMARC $GOOD $STRICT" \
	"the others get theirs, the policy- and content-refused too"
is "$(score "$POSTER") $(score bo@example.org) $(score "$GOOD") $(score "$DMARC") $(score "$STRICT")" \
	"0.0 0.0 0.0 0.0 0.0" "nobody else scored anything"
is "$(sql "SELECT count(*) FROM members WHERE list = 'denmark' AND
	(disabled IS NOT NULL OR probe_sent IS NOT NULL) AND address NOT IN
	('$BAD1', '$BAD2')")" 0 "nobody else was probed or paused"

# --- removal after a long pause ------------------------------------------------

before=$(owner_sent)
sql "UPDATE members SET disabled = disabled - 31 * 86400 WHERE
	list = 'denmark' AND address IN ('$BAD1', '$BAD2')"
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
daemon_start || bail "mlmd did not start again"
t_gone() {
	sql_is "SELECT count(*) FROM members WHERE address IN
		('$BAD1', '$BAD2')" 0
}
ok "paused for 31 days: both removed by the housekeeping run" \
	wait_until $((T_WAIT + 15)) t_gone || explain
is "$(sql "SELECT count(*) FROM consents WHERE list = 'denmark' AND
	address IN ('$BAD1', '$BAD2') AND action = 'unsubscribe' AND
	how LIKE '%bounces%'")" 2 "each removal is recorded with its reason"
t_told_removed() {
	[ "$(owner_sent)" -ge $((before + 2)) ] && settled || return 1
	t_txt=$(owner_text | grep -A3 fjernet)
	printf '%s\n' "$t_txt" | grep -q "$BAD1" &&
		printf '%s\n' "$t_txt" | grep -q "$BAD2"
}
ok "the owners are told about the removals" \
	wait_until $((T_WAIT * 2)) t_told_removed
is "$(sql "SELECT count(*) FROM members WHERE list = 'denmark'")" 5 \
	"the five others stay"

# --- the end -----------------------------------------------------------------

is "$(spool_count quarantine)" 0 "nothing quarantined"
ok "the private Postfix stops, no process left" pf_stop
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "smtp-sink stopped" stop_pid "$SINK_PID"
ok "smtp_sink.py stopped" stop_pid "$PY_PID"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
