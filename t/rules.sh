#!/bin/sh
# rules.sh - the lists' rule files in the running daemon: spam.rules as
# shipped (SpamAssassin headers, executable attachments) and a list's own
# rules file (discard, reject with a reason); a bad rule is a
# configuration error with FILE:LINE, for mlmctl check-config and for
# mlmd, which then does not start.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 14

D=$T_DOMAIN
MD=$T_DIR/maildir
mkdir -p "$T_DIR"
cat >"$T_DIR/own.rules" <<'EOF'
# the list's own rules
subject /\bcasino\b/i discard
subject /\bnetwork\b/i tag:networking
body /crypto giveaway/i reject Unsolicited offers are not accepted here
EOF
chmod 644 "$T_DIR/own.rules"
conf_write
sed -i "/^list denmark {/a\\
	rules = { \"spam.rules\", \"$T_DIR/own.rules\" }" "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1
is "$?" 0 "check-config accepts the rule files"
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	>/dev/null 2>&1

N=0
# post SUBJECT BODY [HEADER]: a member's post; its row in held/outbound
post() {
	N=$((N + 1))
	{
		printf 'From: amira@example.net\nTo: denmark@%s\nSubject: %s\n' "$D" "$1"
		printf 'Message-ID: <r%s@test>\n' "$N"
		[ -z "${3:-}" ] || printf '%s\n' "$3"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$2"
	} >"$T_DIR/r$N.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "denmark@$D" \
		<"$T_DIR/r$N.eml" >/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}
copies() { sql "SELECT count(*) FROM outbound WHERE message_id='r$1@test' AND kind='post'"; }
held() { sql "SELECT count(*) FROM held WHERE message_id='r$1@test'"; }

post "Hej" "Hej alle"
is "$(copies $N)" 2 "a plain post goes to the members"
post "Network dinner" "Hej"
is "$(copies $N)" 2 "a tag decides nothing: the post goes out"
t_tagged() { grep -qs "^X-Mlmd-Tags: networking" "$MD/bo@example.dk/new"/*; }
ok "its copies carry the tag" wait_until "$T_WAIT" t_tagged
post "Vind penge" "Hej" "X-Spam-Flag: YES"
is "$(held $N)" 1 "X-Spam-Flag: YES is held (spam.rules)"
like "$(sql "SELECT reason FROM held WHERE message_id='r$N@test'")" \
	"SpamAssassin" "with the rule's reason"
post "Big casino night" "Hej"
is "$(copies $N)$(held $N)" 00 "the list's own rule discards"
post "Offer" "Join our crypto giveaway now"
is "$(copies $N)$(held $N)" 00 "and rejects"
ok "the sender is told why" wait_until "$T_WAIT" grep -rqs \
	"Unsolicited offers are not accepted here" "$MD/amira@example.net/new"
N=$((N + 1))
cat >"$T_DIR/r$N.eml" <<EOF
From: amira@example.net
To: denmark@$D
Subject: invoice
Message-ID: <r$N@test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="X"

--X
Content-Type: text/plain

see attached
--X
Content-Type: application/octet-stream; name="invoice.pdf.exe"
Content-Disposition: attachment; filename="invoice.pdf.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA
--X--
EOF
"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "denmark@$D" \
	<"$T_DIR/r$N.eml" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
is "$(copies $N)$(held $N)" 00 "an .exe attachment is rejected (spam.rules)"
daemon_stop
is "$T_RC" 0 "mlmd exits 0"

# a bad rule: an error with its file and line, and mlmd does not start
printf 'subject /ok/ hold\nbody /(unclosed/ reject\n' >"$T_DIR/own.rules"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc2.out" 2>&1
is "$?" 78 "check-config refuses a bad rule (exit 78)"
like "$(cat "$T_DIR/cc2.out")" "own.rules:2:" "naming the file and line"
"$MLMD" -c "$T_CONF" -f >"$T_DIR/bad.out" 2>&1 &
bad_pid=$!
track_pid "$bad_pid"
wait "$bad_pid"
is "$?" 78 "mlmd does not start with it (exit 78)"
untrack_pid "$bad_pid"
done_testing
