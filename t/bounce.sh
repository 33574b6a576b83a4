#!/bin/sh
# bounce.sh - bounces and feedback reports through the running daemon
# (maildir relay, VERP): hard failures score, soft ones half, delays and
# policy or DMARC refusals never; at the threshold a probe goes out from
# its own address, and when the probe bounces delivery is paused and the
# owners are told; one post refused by many domains counts against
# nobody (the owners are told); a feedback report unsubscribes the
# member, who gets a way back; a member paused long enough is removed;
# `mlmctl bounces` shows and clears the state.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 32

D=$T_DOMAIN
MD=$T_DIR/maildir
OWNER=owner@example.org
T_EXTRA='verp = true'
conf_write
sed -i "/^list denmark {/a\\
	owners = { \"$OWNER\" }" "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"
DEAD=dead@gone.example
SOFT=full@busy.example
POL=strict@dmarc.example
FBL=grumpy@isp.example
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net "$DEAD" \
	"$SOFT" "$POL" "$FBL" a@one.example b@two.example c@three.example \
	>/dev/null 2>&1

N=0
# dsn RCPT_ADDR ORIG_MID STATUS ACTION [TO]: a DSN from MAILER-DAEMON
# about RCPT_ADDR, to TO (default: the VERP address of RCPT_ADDR)
dsn() {
	N=$((N + 1))
	t_to=${5:-denmark+bounce-$(echo "$1" | tr @ =)@$D}
	cat >"$T_DIR/d$N.eml" <<EOF
From: Mail Delivery System <MAILER-DAEMON@mx.example>
To: $t_to
Subject: Undelivered Mail Returned to Sender
Message-ID: <d$N@mx.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; $1
Action: $4
Status: $3
Diagnostic-Code: smtp; ${6:-550 $3 mailbox unavailable}

--B
Content-Type: text/rfc822-headers

From: amira@example.net
To: denmark@$D
Message-ID: <$2>
Subject: post

--B--
EOF
	"$MLMD_INJECT" -c "$T_CONF" "$t_to" <"$T_DIR/d$N.eml" >/dev/null 2>&1
}
t_quiet() {
	spool_settled &&
		[ "$(sql "SELECT count(*) FROM outbound WHERE state IN
			('queued','deferred')")" = 0 ]
}
settle() { wait_until "$T_WAIT" t_quiet; }
score() { sql "SELECT round(bounce_score, 2) FROM members WHERE list='denmark' AND address='$1'"; }
count() {
	[ -d "$MD/$1/new" ] || { echo 0; return; }
	find "$MD/$1/new" -type f | wc -l
}
newest() { ls -t "$MD/$1/new"/* 2>/dev/null | head -n 1; }

# --- scoring -------------------------------------------------------------------

dsn "$DEAD" p1@test 5.1.1 failed
settle
is "$(score "$DEAD")" 1.0 "a hard bounce counts 1"
dsn "$SOFT" p1@test 4.2.2 failed
dsn "$SOFT" p2@test 4.4.1 delayed
settle
is "$(score "$SOFT")" 0.5 "a soft failure counts 0.5, a delay nothing"
dsn "$POL" p1@test 5.7.1 failed "" "550 5.7.1 rejected by DMARC policy"
settle
is "$(score "$POL")" 0.0 "a DMARC refusal counts nothing"
is "$(sql "SELECT kind FROM bounces WHERE address='$POL'")" policy \
	"but is recorded as policy"

# --- threshold: the probe ----------------------------------------------------------

dsn "$DEAD" p2@test 5.1.1 failed
dsn "$DEAD" p3@test 5.1.1 failed
settle
is "$(score "$DEAD")" 3.0 "three hard bounces: 3"
ok "a probe is sent" test "$(count "$DEAD")" -ge 1
f=$(newest "$DEAD")
like "$(grep -i '^Return-Path:' "$f")" "denmark\\+bounce-probe-[a-z0-9-]+@$D" \
	"from the probe's own address"
probe_to=$(sed -n 's/^Return-Path: <\(.*\)>.*/\1/p' "$f" | head -n 1)
ok "probe_sent recorded" \
	test -n "$(sql "SELECT probe_sent FROM members WHERE address='$DEAD'")"
dsn "$DEAD" p4@test 5.1.1 failed
settle
ok "one probe only" test "$(count "$DEAD")" -eq 1

# the probe bounces: paused, owners told
before=$(count "$OWNER")
dsn "$DEAD" probe@test 5.1.1 failed "$probe_to"
settle
ok "the probe bounced: delivery paused" \
	test -n "$(sql "SELECT disabled FROM members WHERE address='$DEAD'")"
ok "the owners are told" test "$(count "$OWNER")" -gt "$before"
like "$(cat "$(newest "$OWNER")")" "$DEAD" "naming the address"
N=$((N + 1))
printf 'From: amira@example.net\nSubject: Hej\nMessage-ID: <post%s@test>\n\nHej\n' \
	"$N" >"$T_DIR/post.eml"
"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "denmark@$D" \
	<"$T_DIR/post.eml" >/dev/null 2>&1
settle
is "$(grep -l "post$N@test" "$MD/$DEAD/new"/* 2>/dev/null | wc -l)" 0 \
	"a paused member gets no copy"
is "$(grep -l "post$N@test" "$MD/amira@example.net/new"/* 2>/dev/null | wc -l)" 1 \
	"the others do"
# a forged probe address does nothing
dsn "$SOFT" probe2@test 5.1.1 failed "denmark+bounce-probe-1-zzzzzz-aaaaaaaaaaaaaaaaaaaaa@$D"
settle
is "$(sql "SELECT disabled IS NULL FROM members WHERE address='$SOFT'")" 1 \
	"a forged probe address pauses nobody"

# --- a content problem ----------------------------------------------------------------

dsn c@three.example other@test 5.1.1 failed
settle
before=$(count "$OWNER")
dsn a@one.example bad@test 5.1.1 failed
dsn b@two.example bad@test 5.1.1 failed
settle
is "$(score b@two.example)" 1.0 "two domains refuse a post: still counted"
dsn c@three.example bad@test 5.6.0 failed "" "550 5.6.0 message content rejected"
dsn c@three.example bad@test 5.1.1 failed
settle
is "$(score a@one.example)$(score b@two.example)$(score c@three.example)" \
	"0.00.01.0" "the third domain: the post is the problem, nobody counted (c keeps its other bounce)"
is "$(sql "SELECT count(*) FROM bounces WHERE message_id='bad@test' AND counted > 0")" 0 \
	"its bounces are marked as content"
ok "the owners are told" test "$(count "$OWNER")" -gt "$before"
like "$(cat "$(newest "$OWNER")")" "bad@test" "naming the post"

# --- not a bounce --------------------------------------------------------------------

N=$((N + 1))
printf 'From: amira@example.net\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nAway\n' \
	>"$T_DIR/ooo.eml"
"$MLMD_INJECT" -c "$T_CONF" "denmark+bounce-amira=example.net@$D" \
	<"$T_DIR/ooo.eml" >/dev/null 2>&1
settle
is "$(score amira@example.net)" 0.0 "an auto-reply to the bounce address counts nothing"

# --- a feedback report -----------------------------------------------------------------

cat >"$T_DIR/arf.eml" <<EOF
From: fbl@isp.example
To: denmark+bounce-grumpy=isp.example@$D
Subject: FW: spam
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: isp-fbl/1.0
Version: 1
Original-Rcpt-To: $FBL

--F
Content-Type: message/rfc822

From: amira@example.net
To: denmark@$D
Message-ID: <p9@test>
Subject: post

Hej
--F--
EOF
"$MLMD_INJECT" -c "$T_CONF" "denmark+bounce-grumpy=isp.example@$D" \
	<"$T_DIR/arf.eml" >/dev/null 2>&1
settle
is "$(sql "SELECT count(*) FROM members WHERE address='$FBL'")" 0 \
	"a feedback report unsubscribes the member at once"
like "$(sql "SELECT how FROM consents WHERE address='$FBL' AND action='unsubscribe'")" \
	"feedback report" "recorded as such"
ok "they get a way back" test "$(count "$FBL")" -ge 1
like "$(grep -i '^Reply-To:' "$(newest "$FBL")")" "confirm-" \
	"a confirmation: one reply brings them back"

# --- mlmctl bounces ------------------------------------------------------------------------

as_user "$MLMCTL" -c "$T_CONF" bounces denmark >"$T_DIR/b.out" 2>&1
like "$(cat "$T_DIR/b.out")" "$DEAD" "mlmctl bounces lists the paused member"
as_user "$MLMCTL" -c "$T_CONF" bounces denmark --reset "$SOFT" >"$T_DIR/r.out" 2>&1
is "$(score "$SOFT")" 0.0 "--reset clears a member's score"

# --- removal after a long pause ------------------------------------------------------------

sql "UPDATE members SET disabled = disabled - 31 * 86400 WHERE address='$DEAD'"
before=$(count "$OWNER")
daemon_stop
daemon_start || bail "mlmd did not start again"
t_gone() { [ "$(sql "SELECT count(*) FROM members WHERE address='$DEAD'")" = 0 ]; }
ok "paused for 31 days: removed by housekeeping" wait_until 30 t_gone
t_more() { [ "$(count "$OWNER")" -gt "$before" ]; }
ok "the owners are told" wait_until "$T_WAIT" t_more
like "$(sql "SELECT how FROM consents WHERE address='$DEAD' AND action='unsubscribe'")" \
	"bounces" "the removal is recorded"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
