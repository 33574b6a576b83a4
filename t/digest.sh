#!/bin/sh
# digest.sh - digests through the running daemon (issue 7): members who
# take digests get no single posts; `mlmctl digest send` queues one
# digest per member in their format (MIME or plain) and language, which
# Python's email package reads back (table of contents, one
# message/rfc822 per post, the footer; RFC 1153 bursting for plain);
# held posts stay out; the next issue starts with the next post; a digest
# whose time passed while the daemon was down goes out at start-up, once,
# even with the daemon killed (-9) again and again during that run; and
# `mlmctl digest status` says what is collected.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 30

D=$T_DOMAIN
MD=$T_DIR/maildir
T_EXTRA="list digestlist {
	description = \"Digest test\"
	language = \"da\"
	digest = weekly
	digest_day = monday
	digest_hour = 7
	timezone = \"Europe/Copenhagen\"
	posting = members
}"
conf_write
daemon_start || bail "mlmd did not start"
L=digestlist
as_user "$MLMCTL" -c "$T_CONF" add $L amira@example.net bo@example.dk \
	carl@example.se dina@example.no >/dev/null 2>&1
sql "UPDATE members SET digest = 1 WHERE address IN ('bo@example.dk', 'carl@example.se', 'dina@example.no');
UPDATE members SET digest_format = 'plain' WHERE address = 'carl@example.se';
UPDATE members SET language = 'en' WHERE address = 'dina@example.no';"
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')

# post MID SUBJECT BODY [HEADERS]
post() {
	{
		printf 'From: Amira Haddad <amira@example.net>\nTo: %s@%s\n' "$L" "$D"
		printf 'Subject: %s\nMessage-ID: <%s>\nDate: %s\n' "$2" "$1" "$DATE"
		[ -z "${4:-}" ] || printf '%s\n' "$4"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$3"
	} >"$T_DIR/$1.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "$L@$D" \
		<"$T_DIR/$1.eml" >/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}

post d1@test "Netværksmiddag i København" "Vi ses torsdag kl. 18."
post d2@test "Re: Netværksmiddag i København" "> Vi ses torsdag
Jeg kommer!" "In-Reply-To: <d1@test>
References: <d1@test>"
post d3@test "Mentor day" "------------------------------
a line RFC 1153 would take for a separator"

t_amira() { [ "$(ls "$MD/amira@example.net/new" 2>/dev/null | wc -l)" -ge 3 ]; }
ok "the member who takes posts one by one got the three" wait_until "$T_WAIT" t_amira
is "$(ls "$MD/bo@example.dk/new" 2>/dev/null | wc -l)" 0 "digest members got no single post"
is "$(sql "SELECT count(*) FROM digest_items i JOIN digests d ON d.id = i.digest WHERE d.list = '$L' AND d.state = 'collecting'")" 3 \
	"the three posts are collected in the open issue"
as_user "$MLMCTL" -c "$T_CONF" digest status $L >"$T_DIR/st.out" 2>&1
like "$(cat "$T_DIR/st.out")" "collecting vol 1 issue 1: 3 posts" "digest status shows what is collected"
like "$(cat "$T_DIR/st.out")" "weekly on monday at 07:00 Europe/Copenhagen" "and the schedule"

as_user "$MLMCTL" -c "$T_CONF" digest send $L >"$T_DIR/send.out" 2>&1
is "$?" 0 "mlmctl digest send"
t_digests() {
	for a in bo@example.dk carl@example.se dina@example.no; do
		[ "$(ls "$MD/$a/new" 2>/dev/null | wc -l)" -ge 1 ] || return 1
	done
}
ok "each digest member gets the digest" wait_until "$T_WAIT" t_digests
for a in bo@example.dk carl@example.se dina@example.no; do
	is "$(ls "$MD/$a/new" | wc -l)" 1 "$a: exactly one"
done
BO=$(ls "$MD/bo@example.dk/new"/* | head -1)
CARL=$(ls "$MD/carl@example.se/new"/* | head -1)
DINA=$(ls "$MD/dina@example.no/new"/* | head -1)
ok "the MIME digest reads back (TOC, 3 message/rfc822, footer)" \
	$PY "$top_srcdir/t/helpers/digest_check.py" mime "$BO" n=3 id=d1@test \
	id=d2@test id=d3@test toc="Mentor day" request=digestlist-request@$D lang=da
ok "the plain digest bursts into its 3 posts (RFC 1153)" \
	$PY "$top_srcdir/t/helpers/digest_check.py" plain "$CARL" n=3 \
	id=d1@test id=d2@test id=d3@test subject="Netværksmiddag i København" \
	subject="Re: Netværksmiddag i København" subject="Mentor day" \
	request=digestlist-request@$D
ok "a Danish member's digest is in Danish" grep -q '^Content-Language: da' "$BO"
ok "a member who chose English gets English" grep -q '^Content-Language: en' "$DINA"
ok "the footer tells how to switch back" grep -q 'digest off' "$CARL"
is "$(sql "SELECT state FROM digests WHERE list = '$L' ORDER BY id LIMIT 1")" sent "the issue is marked sent"
as_user "$MLMCTL" -c "$T_CONF" digest send $L >"$T_DIR/send2.out" 2>&1
like "$(cat "$T_DIR/send2.out")" "no post collected" "sending again sends nothing"

# a held post (a non-member) stays out of the digest
{
	printf 'From: x@elsewhere.example\nTo: %s@%s\nSubject: Not a member\n' "$L" "$D"
	printf 'Message-ID: <held@test>\nDate: %s\n\nhello\n' "$DATE"
} | "$MLMD_INJECT" -c "$T_CONF" -f x@elsewhere.example "$L@$D" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
post d4@test "Next week" "Issue two starts here."
is "$(sql "SELECT group_concat(m.message_id) FROM digest_items i JOIN digests d ON d.id = i.digest JOIN messages m ON m.id = i.message WHERE d.list = '$L' AND d.state = 'collecting'")" \
	"d4@test" "the next post opens issue 2; the held one is not in it"
is "$(sql "SELECT issue FROM digests WHERE list = '$L' AND state = 'collecting'")" 2 "numbered 2"

# --- its time passed while the daemon was down: at start-up, once, even
# when killed during that run ----------------------------------------------
daemon_stop
sql "UPDATE digests SET created = created - 8 * 86400 WHERE list = '$L' AND state = 'collecting'"
before=$(ls "$MD/bo@example.dk/new" | wc -l)
for delay in 0.01 0.02 0.04 0.06 0.1 0.2; do
	"$MLMD" -c "$T_CONF" -f 2>>"$T_LOG" &
	pid=$!
	track_pid "$pid"
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	untrack_pid "$pid"
done
daemon_start || bail "mlmd did not start again"
t_second() { [ "$(ls "$MD/bo@example.dk/new" | wc -l)" -gt "$before" ]; }
ok "the overdue digest went out after the restarts" wait_until "$T_WAIT" t_second
sleep 1
# exactly once per member in the queue (a copy in flight when the daemon
# is killed may reach the maildir twice: that is delivery's at-least-once)
for a in bo@example.dk carl@example.se dina@example.no; do
	is "$(sql "SELECT count(*) FROM outbound WHERE kind = 'digest' AND recipient = '$a' AND message_id LIKE 'digest.$L.1.2.%'")" 1 \
		"$a: issue 2 queued exactly once"
	ok "$a: and delivered" grep -lq 'd4@test' "$MD/$a/new"/*
done
is "$(sql "SELECT count(*) FROM digests WHERE list = '$L' AND state = 'sent'")" 2 "two issues sent in all"
ok "no digest left half done" test "$(sql "SELECT count(*) FROM digests WHERE state = 'built'")" = 0

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report" no_sanitizer_report
done_testing
