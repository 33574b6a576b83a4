#!/bin/sh
# event.sh - events by email through the running daemon (issue 8):
# `mlmctl event create` invites every member with a personal invitation
# that Python's email and icalendar packages read (METHOD:REQUEST, the
# member as ATTENDEE with RSVP=TRUE, the member's own rsvp address as
# ORGANIZER); answers come back as a calendar REPLY (shaped like
# Outlook's), as a plain "Ja tak!" reply, and by the web page's button;
# each is matched by its token, confirmed to the member, counted; a
# REPLY naming someone else, a forged token and a broken calendar change
# nothing; the report and the list's iCalendar feed show the counts.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
command -v curl >/dev/null || skip_all "curl is not installed"
$PY -c 'import icalendar' 2>/dev/null || skip_all "python3-icalendar is not installed"

plan 41

D=$T_DOMAIN
MD=$T_DIR/maildir
HP=$(free_port)
T_EXTRA="http = \"127.0.0.1:$HP\"
base_url = \"http://127.0.0.1:$HP\""
conf_write
sed -i 's/^list denmark {/list denmark {\n\ttimezone = "Europe\/Copenhagen"\n\towners = { "mette@example.dk" }/' "$T_CONF"
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	carl@example.se dina@example.no >/dev/null 2>&1

as_user "$MLMCTL" -c "$T_CONF" event create denmark --title "Netværksmiddag" \
	--start "2031-03-12 18:00" --end "2031-03-12 21:00" \
	--place "Café Nørrebro, København" --capacity 2 >"$T_DIR/c.out" 2>&1
like "$(cat "$T_DIR/c.out")" "4 invitations queued" "mlmctl event create invites the list"
EV=$(sed -n 's/^event \([0-9]*\) created.*/\1/p' "$T_DIR/c.out")
t_inv() {
	for a in amira@example.net bo@example.dk carl@example.se dina@example.no; do
		[ "$(ls "$MD/$a/new" 2>/dev/null | wc -l)" -ge 1 ] || return 1
	done
}
ok "every member gets an invitation" wait_until "$T_WAIT" t_inv

# inv ADDR: the member's invitation file
inv() { grep -l 'text/calendar' "$MD/$1/new"/* | head -1; }
cat >"$T_DIR/ical.py" <<'EOF'
import email, email.policy, sys, icalendar
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
cal = None
for p in m.walk():
    if p.get_content_type() == "text/calendar":
        cal = icalendar.Calendar.from_ical(p.get_payload(decode=True))
        method = p.get_param("method")
ev = [c for c in cal.walk() if c.name == "VEVENT"][0]
att = str(ev.get("ATTENDEE"))
org = str(ev.get("ORGANIZER"))
print("METHOD=%s CALMETHOD=%s" % (method, cal.get("METHOD")))
print("ATTENDEE=%s" % att.lower())
print("RSVP=%s" % ev.get("ATTENDEE").params.get("RSVP"))
print("ORGANIZER=%s" % org.lower())
print("UID=%s" % ev.get("UID"))
print("SEQ=%s" % ev.get("SEQUENCE"))
print("DTSTART=%s" % ev.decoded("DTSTART").isoformat())
print("REPLYTO=%s" % m["Reply-To"].addresses[0].addr_spec)
print("LANG=%s" % m["Content-Language"])
EOF
$PY "$T_DIR/ical.py" "$(inv bo@example.dk)" >"$T_DIR/bo.txt" 2>&1
ok "the invitation parses with Python's icalendar" grep -q '^METHOD=REQUEST CALMETHOD=REQUEST' "$T_DIR/bo.txt"
ok "the member is the ATTENDEE" grep -q '^ATTENDEE=mailto:bo@example.dk' "$T_DIR/bo.txt"
ok "asked to answer (RSVP=TRUE)" grep -q '^RSVP=TRUE' "$T_DIR/bo.txt"
ok "the ORGANIZER is the member's own rsvp address" grep -q '^ORGANIZER=mailto:denmark+rsvp-' "$T_DIR/bo.txt"
ok "the time is right (18:00 Copenhagen = 17:00 UTC)" grep -q '^DTSTART=2031-03-12T17:00:00+00:00' "$T_DIR/bo.txt"
ok "in Danish" grep -q '^LANG=da' "$T_DIR/bo.txt"
UID_=$(sed -n 's/^UID=//p' "$T_DIR/bo.txt")
BO_RSVP=$(sed -n 's/^REPLYTO=//p' "$T_DIR/bo.txt")
$PY "$T_DIR/ical.py" "$(inv carl@example.se)" >"$T_DIR/carl.txt" 2>&1
CARL_RSVP=$(sed -n 's/^REPLYTO=//p' "$T_DIR/carl.txt")
$PY "$T_DIR/ical.py" "$(inv amira@example.net)" >"$T_DIR/amira.txt" 2>&1
AMIRA_RSVP=$(sed -n 's/^REPLYTO=//p' "$T_DIR/amira.txt")

# reply FROM TO ATTENDEE PARTSTAT: an Outlook-shaped calendar REPLY
reply() {
	{
		printf 'From: %s\nTo: %s\nSubject: Accepted: Netværksmiddag\n' "$1" "$2"
		printf 'Message-ID: <r%s@test>\nMIME-Version: 1.0\n' "$$$(date +%N)"
		printf 'Content-Type: text/calendar; charset="utf-8"; method=REPLY\n\n'
		printf 'BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n'
		printf 'BEGIN:VEVENT\r\nATTENDEE;PARTSTAT=%s;CN=Someone:MAILTO:%s\r\n' "$4" "$3"
		printf 'UID:%s\r\nSEQUENCE:0\r\nDTSTAMP:20310301T100000Z\r\n' "${5:-$UID_}"
		printf 'DTSTART:20310312T170000Z\r\nDTEND:20310312T200000Z\r\nSUMMARY:Netværksmiddag\r\n'
		printf 'END:VEVENT\r\nEND:VCALENDAR\r\n'
	} | "$MLMD_INJECT" -c "$T_CONF" -f "$1" "$2" >/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}
ans() { sql "SELECT partstat || coalesce('/w' || waitlist, '') FROM rsvps WHERE event = $EV AND address = '$1'"; }

reply bo@example.dk "$BO_RSVP" BO@EXAMPLE.DK ACCEPTED
is "$(ans bo@example.dk)" accepted "a calendar REPLY (ACCEPTED) counts"
t_conf() { grep -lq 'denmark+rsvp' "$MD/bo@example.dk/new"/* 2>/dev/null &&
	[ "$(ls "$MD/bo@example.dk/new" | wc -l)" -ge 2 ]; }
ok "and is confirmed to the member" wait_until "$T_WAIT" t_conf

{
	printf 'From: Carl <carl@example.se>\nTo: %s\nSubject: Re: Invitation\n' "$CARL_RSVP"
	printf 'Message-ID: <carl-yes@test>\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=utf-8\n\nJa tak!\n\n> Du er inviteret\n'
} | "$MLMD_INJECT" -c "$T_CONF" -f carl@example.se "$CARL_RSVP" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
is "$(ans carl@example.se)" accepted "a plain \"Ja tak!\" counts"

# the web page: GET shows, POST records; capacity 2 is full now
TOK=$(echo "$AMIRA_RSVP" | sed 's/^denmark+rsvp-\(.*\)@.*/\1/')
is "$(curl -s -o "$T_DIR/get.html" -w '%{http_code}' "http://127.0.0.1:$HP/e/$TOK")" 200 "the answer page"
is "$(ans amira@example.net)" needs-action "a GET records nothing"
curl -s -o "$T_DIR/post.html" -d answer=yes -d guests=0 "http://127.0.0.1:$HP/e/$TOK"
is "$(ans amira@example.net)" "accepted/w1" "a POST yes when full: the waitlist"
reply bo@example.dk "$BO_RSVP" bo@example.dk DECLINED
is "$(ans bo@example.dk)" declined "bo declines"
is "$(ans amira@example.net)" accepted "the first on the waitlist gets the seat"

# hostile: someone else's token, a forged token, a broken calendar
reply dina@example.no "$AMIRA_RSVP" dina@example.no DECLINED
is "$(ans amira@example.net)" accepted "a REPLY naming someone else than the token's member: nothing"
is "$(ans dina@example.no)" needs-action "and nothing for its sender either"
reply dina@example.no "denmark+rsvp-1-zzzzzz-aaaaaaaaaaaaaaaaaaaaa@$D" dina@example.no ACCEPTED
is "$(ans dina@example.no)" needs-action "a forged token: nothing"
reply carl@example.se "$CARL_RSVP" carl@example.se DECLINED "no-such-uid@elsewhere"
is "$(ans carl@example.se)" accepted "a REPLY for another UID: nothing"
{
	printf 'From: carl@example.se\nTo: %s\nSubject: x\nMessage-ID: <broken@test>\n' "$CARL_RSVP"
	printf 'MIME-Version: 1.0\nContent-Type: text/calendar; method=REPLY\n\nBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n'
	i=0; while [ $i -lt 3000 ]; do printf 'ATTENDEE;PARTSTAT=DECLINED:mailto:x%d@y\r\n' $i; i=$((i + 1)); done
} | "$MLMD_INJECT" -c "$T_CONF" -f carl@example.se "$CARL_RSVP" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
is "$(ans carl@example.se)" accepted "a broken, huge calendar: nothing, and no crash"

as_user "$MLMCTL" -c "$T_CONF" event report "$EV" --anonymous >"$T_DIR/r.csv" 2>&1
like "$(sed -n 2p "$T_DIR/r.csv")" ',2,4,2,1,0,0,0,0,1$' "the report: capacity 2, 4 invited, 2 yes, 1 no, 1 no answer"
ok "the list's iCalendar feed" sh -c "curl -s 'http://127.0.0.1:$HP/events/denmark.ics' | grep -q 'UID:$UID_'"

# --- events from coordinators by mail, after their confirmation ----------
# cal_inv FROM TO UID SEQ START: a calendar invitation (Thunderbird-shaped)
cal_inv() {
	{
		printf 'From: %s\nTo: %s\nSubject: Invitation: Mentordag\n' "$1" "$2"
		printf 'Message-ID: <inv%s@test>\nMIME-Version: 1.0\n' "$$$(date +%N)"
		printf 'Content-Type: multipart/mixed; boundary=b\n\n--b\n'
		printf 'Content-Type: text/plain; charset=utf-8\n\nKom til mentordag.\n--b\n'
		printf 'Content-Type: text/calendar; charset=utf-8; method=REQUEST\n\n'
		printf 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nVERSION:2.0\r\n'
		printf 'BEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%s\r\nDTSTAMP:20310301T100000Z\r\n' "$3" "$4"
		printf 'DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Mentordag\r\nLOCATION:Huset\r\n' "$5" "$5"
		printf 'ORGANIZER:mailto:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b--\n' "$1"
	} | "$MLMD_INJECT" -c "$T_CONF" -f "$1" "$2" >/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}
# n_inv UID ADDR: invitations for UID in ADDR's mailbox (the calendar
# part is base64: read it as a mail client does)
n_inv() {
	$PY - "$1" "$MD/$2/new" <<'PYEOF'
import email, email.policy, glob, os, sys
n = 0
for f in glob.glob(os.path.join(sys.argv[2], "*")):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    for p in m.walk():
        if p.get_content_type() == "text/calendar" and \
                ("UID:" + sys.argv[1]) in p.get_payload(decode=True).decode("utf-8", "replace"):
            n += 1
print(n)
PYEOF
}
# newest_inv UID ADDR: the newest of them
newest_inv() {
	for f in $(ls -t "$MD/$2/new"/*); do
		$PY - "$1" "$f" <<'PYEOF' && { echo "$f"; return; }
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[2], "rb"), policy=email.policy.default)
sys.exit(0 if any(p.get_content_type() == "text/calendar" and ("UID:" + sys.argv[1]) in
    p.get_payload(decode=True).decode("utf-8", "replace") for p in m.walk()) else 1)
PYEOF
	done
}
# confirm_last: reply to the newest confirmation mette got
confirm_last() {
	f=$(ls -t "$MD/mette@example.dk/new"/* | head -1)
	to=$(sed -n 's/^Reply-To: <\(.*\)>$/\1/p' "$f" | head -1)
	printf 'From: mette@example.dk\nTo: %s\nSubject: Re: confirm\nMessage-ID: <c%s@test>\n\nok\n' \
		"$to" "$(date +%N)" |
		"$MLMD_INJECT" -c "$T_CONF" -f mette@example.dk "$to" >/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}
posts_before=$(ls "$MD/dina@example.no/new" | wc -l)
cal_inv mette@example.dk "denmark@$D" coord-1@example.dk 0 20310401T160000Z
t_confirm() { grep -lq '^Subject: .*Mentordag' "$MD/mette@example.dk/new"/* 2>/dev/null; }
ok "an owner's calendar invitation to the list asks them to confirm" wait_until "$T_WAIT" t_confirm
is "$(ls "$MD/dina@example.no/new" | wc -l)" "$posts_before" "and is not sent to the list as a post"
is "$(sql "SELECT count(*) FROM events WHERE state = 'pending'")" 1 "it waits"
confirm_last
is "$(sql "SELECT state FROM events WHERE uid = 'coord-1@example.dk'")" active \
	"the reply confirms it (with the coordinator's UID)"
t_mentor() { [ "$(n_inv coord-1@example.dk dina@example.no)" -ge 1 ]; }
ok "and the members are invited" wait_until "$T_WAIT" t_mentor

held0=$(sql "SELECT count(*) FROM held")
cal_inv amira@example.net "denmark@$D" not-a-coordinator@x 0 20310402T160000Z
is "$(sql "SELECT count(*) FROM held")" "$((held0 + 1))" "a member's calendar invitation is held for a moderator"

cal_inv mette@example.dk "denmark@$D" coord-1@example.dk 1 20310408T160000Z
t_change() { grep -lq '^Subject: .*Mentordag' "$MD/mette@example.dk/new"/* &&
	[ "$(grep -l 'Mentordag' "$MD/mette@example.dk/new"/* | wc -l)" -ge 2 ]; }
ok "a changed invitation (same UID) asks for a confirmation too" wait_until "$T_WAIT" t_change
confirm_last
t_updated() { [ "$(n_inv coord-1@example.dk dina@example.no)" -ge 2 ]; }
ok "confirmed: the invited get the new time" wait_until "$T_WAIT" t_updated
f=$(newest_inv coord-1@example.dk dina@example.no)
$PY "$T_DIR/ical.py" "$f" >"$T_DIR/upd.txt" 2>&1
ok "with a higher SEQUENCE" grep -q '^SEQ=1$' "$T_DIR/upd.txt"
ok "and the new start" grep -q '^DTSTART=2031-04-08T16:00:00+00:00' "$T_DIR/upd.txt"

printf 'From: mette@example.dk\nTo: denmark+event@%s\nSubject: new event\nMessage-ID: <blk@test>\n\nTitle: Kvartalsmøde\nStart: 2031-05-05 17:00\nEnd: 2031-05-05 19:00\nPlace: Kontoret\nCapacity: 10\n\nDagsorden følger.\n' "$D" |
	"$MLMD_INJECT" -c "$T_CONF" -f mette@example.dk "denmark+event@$D" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
is "$(sql "SELECT title || '/' || capacity || '/' || state FROM events WHERE title = 'Kvartalsmøde'")" \
	"Kvartalsmøde/10/pending" "a LIST+event@ mail with Title:/Start:/... lines: pending"
confirm_last
is "$(sql "SELECT state FROM events WHERE title = 'Kvartalsmøde'")" active "confirmed"
printf 'From: amira@example.net\nTo: denmark+event@%s\nSubject: x\nMessage-ID: <blk2@test>\n\nTitle: Spam\nStart: 2031-05-05 17:00\n' "$D" |
	"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "denmark+event@$D" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
is "$(sql "SELECT count(*) FROM events WHERE title = 'Spam'")" 0 "from a member who is no coordinator: nothing"

as_user "$MLMCTL" -c "$T_CONF" event set "$EV" --place "Nyt sted" >"$T_DIR/set.out" 2>&1
like "$(cat "$T_DIR/set.out")" "sequence 1" "mlmctl event set changes the event"
t_set() { grep -lq 'Nyt sted' "$MD/carl@example.se/new"/* 2>/dev/null; }
ok "the invited who did not decline are told" wait_until "$T_WAIT" t_set
ok "not who declined" sh -c "! grep -lq 'Nyt sted' '$MD/bo@example.dk/new'/*"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report" no_sanitizer_report
done_testing
