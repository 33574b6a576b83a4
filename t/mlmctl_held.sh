#!/bin/sh
# mlmctl_held.sh - the moderation queue by hand against a running daemon
# that delivers into the maildir relay: `mlmctl held [LIST]` lists a
# non-member's post that the pipeline held (and the sender was told),
# `approve` sends it to every member with the list's subject prefix and
# footer, a second decision on the same post fails cleanly (exit 65),
# `reject` tells the sender, `discard` sends nothing, unknown IDs and
# lists are clear errors with their sysexits codes, and a hostile subject
# (escape sequences, a bidi override, 2000 characters) is shown safely.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"

plan 46

D=$T_DOMAIN
MD=$T_DIR/maildir
conf_write
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

# post SENDER SUBJECT MSGID: a post to denmark@ through mlmd-inject.
post() {
	msg "$T_DIR/$3.eml" "denmark@$D" "$2" "$3@example.net"
	sed -i "s/^From: .*/From: <$1>/" "$T_DIR/$3.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f "$1" "denmark@$D" <"$T_DIR/$3.eml"
}

# mail_count ADDR: messages delivered to ADDR's maildir.
mail_count() {
	if [ -d "$MD/$1/new" ]; then
		find "$MD/$1/new" -type f | wc -l
	else
		echo 0
	fi
}
count_ge() { [ "$(mail_count "$1")" -ge "$2" ]; }
# mail_has ADDR ERE: some message for ADDR matches.
mail_has() {
	[ -d "$MD/$1/new" ] && grep -Eqr -- "$2" "$MD/$1/new"
}
held_id() {
	sql "SELECT id FROM held WHERE message_id = '$1@example.net'"
}
held_row() {
	[ -n "$(held_id "$1")" ]
}

ctl add add denmark mette@example.dk lars@example.dk
is "$RC" 0 "two members added to denmark"

# --- nothing held yet, unknown list --------------------------------------
ctl h0 held
out=$(out h0)
is "$RC:$out" "0:no held posts" "held: empty queue says so, exit 0"
ctl h1 held nosuchlist
is "$RC" 67 "held: unknown list is exit 67"
like "$(err h1)" "no list 'nosuchlist' in" "held: unknown list is named"

# --- a non-member's post is held, its sender told -------------------------
post amira@example.net "Hej fra Aarhus" held1 ||
	fail "mlmd-inject of the first post"
wait_until "$T_WAIT" held_row held1 || { log_tail; bail "post not held"; }
ID1=$(held_id held1)
ctl h2 held
out=$(out h2)
is "$RC" 0 "held: exit 0"
like "$out" "^#$ID1	denmark	[0-9]+s	amira@example\.net	amira@example\.net	[0-9.]+k?	Hej fra Aarhus	.*non-member" \
	"held: id, list, age, sender, from, size, subject, reason"
ctl h3 held denmark
like "$(out h3)" "^#$ID1	denmark" "held denmark: lists it"
ctl h4 held sweden
is "$RC:$(out h4)" "0:no held posts in sweden" \
	"held sweden: not there"
if wait_until "$T_WAIT" count_ge amira@example.net 1; then
	pass "the sender got a notice that the post waits"
else
	fail "the sender got a notice that the post waits"
	log_tail
fi
ok "the notice refers to the held post" \
	mail_has amira@example.net "In-Reply-To: <held1@example\.net>"
is "$(mail_count mette@example.dk)$(mail_count lars@example.dk)" 00 \
	"nothing went to the members before approval"

# --- approve ---------------------------------------------------------------
ctl a1 approve "$ID1"
out=$(out a1)
is "$RC" 0 "approve: exit 0"
is "$out" "approved #$ID1: 2 copies queued" "approve: says how many copies"
for m in mette@example.dk lars@example.dk; do
	if wait_until "$T_WAIT" count_ge "$m" 1; then
		pass "approve: $m got the post"
	else
		fail "approve: $m got the post"
		log_tail
	fi
	ok "approve: $m's copy has the [DK] prefix" \
		mail_has "$m" "^Subject: \[DK\] Hej fra Aarhus"
	ok "approve: $m's copy has the list footer" \
		mail_has "$m" "denmark\+unsubscribe@$D"
done
is "$(sql "SELECT state || '|' || decided_by FROM held WHERE id = $ID1")" \
	"approved|mlmctl by $(id -un)" "approve: the decision is recorded"
ctl a2 approve "$ID1"
is "$RC" 65 "approve twice: exit 65"
like "$(err a2)" "#$ID1 was already approved by mlmctl by [^ ]+ at 20" \
	"approve twice: says by whom and when"
ctl h5 held
is "$(out h5)" "no held posts" "held: an approved post is gone"

# --- reject -----------------------------------------------------------------
post bo@example.net "Buy cheap watches" held2 || fail "mlmd-inject held2"
wait_until "$T_WAIT" held_row held2 || bail "second post not held"
ID2=$(held_id held2)
wait_until "$T_WAIT" count_ge bo@example.net 1 ||
	fail "bo got the held notice"
ctl r1 reject "$ID2" --reason "advertising is off topic here"
out=$(out r1)
is "$RC:$out" "0:rejected #$ID2: the sender is told" "reject: exit 0"
if wait_until "$T_WAIT" count_ge bo@example.net 2; then
	pass "reject: the sender got a second mail"
else
	fail "reject: the sender got a second mail"
	log_tail
fi
ok "reject: the notice gives the reason" \
	mail_has bo@example.net "advertising is off topic here"
ctl r2 discard "$ID2"
is "$RC" 65 "discard after reject: exit 65"
like "$(err r2)" "#$ID2 was already rejected by" \
	"discard after reject: says it was rejected"

# --- discard ----------------------------------------------------------------
post cy@example.net "Spam, spam, spam" held3 || fail "mlmd-inject held3"
wait_until "$T_WAIT" held_row held3 || bail "third post not held"
ID3=$(held_id held3)
ctl d1 discard "$ID3"
out=$(out d1)
is "$RC:$out" "0:discarded #$ID3" "discard: exit 0"
is "$(sql "SELECT count(*) FROM outbound WHERE message_id = 'held3@example.net' AND recipient <> 'cy@example.net'")" \
	0 "discard: nothing queued for anyone but the held notice"
is "$(sql "SELECT state FROM held WHERE id = $ID3")" discarded \
	"discard: recorded"

# --- bad IDs ----------------------------------------------------------------
ctl u1 approve 99999
is "$RC" 65 "approve of an unknown ID: exit 65"
like "$(err u1)" "there is no held post #99999" \
	"approve of an unknown ID: says so"
ctl u2 reject not-a-number
is "$RC" 64 "reject of a non-number: exit 64"
ctl u3 discard
is "$RC" 64 "discard without an ID: exit 64"
ctl u4 reject "$ID3" --reason "$(printf 'two\nlines')"
is "$RC" 64 "reject --reason with a line break: exit 64"

# --- a hostile subject -------------------------------------------------------
# folded: 4 x 500 characters after the encoded word
long=$($PY -c 'print("\n ".join(["x" * 500] * 4))')
post dd@example.net \
	"=?utf-8?q?evil=1B=5B2J=07bell=E2=80=AEreversed?= $long" held4 ||
	fail "mlmd-inject held4"
wait_until "$T_WAIT" held_row held4 || bail "hostile post not held"
ID4=$(held_id held4)
ctl h6 held
is "$RC" 0 "held with a hostile subject: exit 0"
ok "held: no control characters reach the terminal" \
	sh -c "tr -d '\t\n' <'$T_DIR/h6.out' | LC_ALL=C grep -q '[[:cntrl:]]' && exit 1 || exit 0"
# (the message parser already turns C0 controls into spaces; the bidi
# override is left to mlmctl)
like "$(out h6)" "^#$ID4	.*	evil.\[2J.bell\?reversed xxx+\.\.\.	" \
	"held: escapes and the bidi override made harmless, subject cut"
is "$(awk 'length > 400' "$T_DIR/h6.out" | wc -l)" 0 \
	"held: the line stays short"

# Whatever is in the database is shown safely too: ESC, a C1 CSI (UTF-8
# C2 9B) and a byte that is no UTF-8 (FF), written there directly.
sql "UPDATE held SET subject = CAST(X'6576696C1B5B324AC29B33316D41FF42' AS TEXT) WHERE id = $ID4"
ctl h7 held denmark
like "$(out h7)" "	evil\?\[2J\?31mA\?B	" \
	"held: ESC, C1 and invalid UTF-8 from the database shown as '?'"
ok "held: no C0 or C1 control byte in the output" sh -c \
	"tr -d '\t\n' <'$T_DIR/h7.out' | LC_ALL=C grep -q \"\$(printf '[\\001-\\037\\177]\\|\\302[\\200-\\237]')\" && exit 1 || exit 0"

# An expired post cannot be approved any more.
sql "UPDATE held SET state = 'expired', decided_by = 'expiry', decided_at = strftime('%s', 'now') WHERE id = $ID4"
ctl e1 approve "#$ID4"
is "$RC" 65 "approve of an expired post: exit 65"
like "$(err e1)" "#$ID4 expired unmoderated at 20" \
	"approve of an expired post: says it expired"

daemon_stop
is "$T_RC" 0 "mlmd stopped cleanly"
ok "no sanitizer report from mlmd or mlmctl" sh -c \
	"! grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' '$T_LOG' '$T_DIR'/*.err"
done_testing
