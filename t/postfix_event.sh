#!/bin/sh
# postfix_event.sh - events by email end to end through a real MTA (issue
# 8): every answer is submitted to a private Postfix (t/lib.sh pf_start),
# which hands it to mlmd by LMTP; every mail from mlmd goes out through
# relay = smtp://Postfix, which relays it to t/helpers/smtp_sink.py:
#
#   smtplib -> Postfix smtpd -> LMTP -> mlmd -> Postfix smtpd -> smtp_sink.py
#   curl    -> mlmd's web answer page (BASE/e/TOKEN)
#
# The story: 30 members of denmark (Europe/Copenhagen) are invited by
# `mlmctl event create ... --capacity 20`; every invitation arrives and
# reads with Python's email + icalendar (METHOD:REQUEST, the member as
# ATTENDEE, their own rsvp address as ORGANIZER and Reply-To).  Ten
# accept by calendar REPLY in three real shapes (Outlook: MAILTO and the
# address in upper case, base64, a Windows VTIMEZONE; Google: folded
# lines, X-NUM-GUESTS=0, an invite.ics attachment; Thunderbird: an
# Olson VTIMEZONE, the ORGANIZER echoed), eight by one-word mails ("yes",
# "Ja tak", "ja", "+1" bringing a guest), four by the web page: 22 yeses
# for 20 seats, so exactly 20 seats are taken and three wait, in arrival
# order.  Two decline (calendar DECLINED, a "no" mail): the first two on
# the waitlist get the seats, a mail saying so and an updated invitation.
# Two answer "maybe".  Then time passes (the event is moved to 20 hours
# from now in the database while the daemon is down: the daemon has no
# injectable clock), and the daemon's event tick at start-up reminds
# those who said yes and the waitlist, nobody else, and sends the owner
# the deadline summary.  `mlmctl event cancel` sends a METHOD:CANCEL
# (STATUS:CANCELLED, same UID, higher SEQUENCE) to every invited member
# who did not decline, and `mlmctl event report` has the totals.
#
# Not tested, because mlmd cannot do it yet: an update of the time or
# place (there is no `mlmctl event set`) and the cancellation of one
# occurrence of a recurring event (`event cancel` cancels the whole event).
#
# Every process is started here or by lib.sh and stopped by PID (or
# `postfix stop` for the instance).
. "${top_srcdir:-.}/t/lib.sh"

PATH=$PATH:/usr/sbin
[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
why=$(pf_can_run) || skip_all "$why"
command -v curl >/dev/null || skip_all "curl is not installed"
$PY -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd missing"
$PY -c 'import icalendar' 2>/dev/null ||
	skip_all "python3-icalendar is not installed"

plan 77

D=$T_DOMAIN
OWNER=coord@example.org
TITLE="Netværksmiddag"
ALL=
i=1
while [ $i -le 30 ]; do
	ALL="$ALL $(printf 'm%02d@example.net' $i)"
	i=$((i + 1))
done
m() { printf 'm%02d@example.net' "$1"; }

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

# pe.py: reads the sink's dumps (email + icalendar) and writes answers
# (calendar REPLYs in the shapes of real clients, one-word mails) that it
# submits to Postfix's smtpd with smtplib.
cat >"$T_DIR/pe.py" <<'EOF'
import base64, email, email.parser, email.policy, glob, os, re, smtplib, sys
import datetime, zoneinfo
import icalendar

def dumps(d):
    return sorted(glob.glob(os.path.join(d, "*.eml")))

def rcpts(path):
    out = []
    with open(path, "rb") as f:
        for line in f:
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("X-Sink-To: "):
                out.append(line[11:].strip().lower())
            elif not line.startswith("X-Sink-From: "):
                break
    return out

def mails(d, addr):
    return [p for p in dumps(d) if addr.lower() in rcpts(p)]

def load(p):
    with open(p, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)

def subject(m):
    return " ".join(str(m.get("Subject", "")).split())

def calendar(m):
    for part in m.walk():
        if part.get_content_type() == "text/calendar":
            cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            return part.get_param("method"), cal
    return None, None

def text(m):
    out = []
    for part in m.walk():
        if part.get_content_type() == "text/plain":
            out.append(part.get_content())
    return "\n".join(out)

def info(m):
    """key=value facts of a calendar mail, or None."""
    method, cal = calendar(m)
    if cal is None:
        return None
    ev = [c for c in cal.walk() if c.name == "VEVENT"][0]
    att = ev.get("ATTENDEE")
    if isinstance(att, list):
        att = att[0] if len(att) == 1 else None
    rt = m["Reply-To"]
    return {
        "METHOD": str(method).upper(),
        "CALMETHOD": str(cal.get("METHOD")),
        "ATTENDEE": str(att).lower() if att is not None else "",
        "ORGANIZER": str(ev.get("ORGANIZER")).lower(),
        "UID": str(ev.get("UID")),
        "SEQ": str(ev.get("SEQUENCE")),
        "STATUS": str(ev.get("STATUS")),
        "DTSTART": ev.decoded("DTSTART").astimezone(
            datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        "DTEND": ev.decoded("DTEND").astimezone(
            datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        "REPLYTO": rt.addresses[0].addr_spec.lower() if rt else "",
        "SUBJECT": subject(m),
    }

def cal_mails(d, addr, method):
    out = []
    for p in mails(d, addr):
        i = info(load(p))
        if i and i["METHOD"] == method:
            out.append(i)
    return out

cmd = sys.argv[1]

if cmd == "check":
    # check DIR METHOD ADDR...: each ADDR has exactly one calendar mail of
    # METHOD (the first, for REQUEST: promotions add updates), and it is
    # right; prints one line per problem, and "addr rsvp uid seq dtstart
    # dtend" lines to the file in $OUT.
    d, method = sys.argv[2], sys.argv[3]
    facts = open(os.environ["OUT"], "w")
    for a in sys.argv[4:]:
        cs = cal_mails(d, a, method)
        if not cs:
            print("%s: no %s" % (a, method))
            continue
        i = cs[0]
        bad = []
        if method != "REQUEST" and len(cs) != 1:
            bad.append("%d %s mails" % (len(cs), method))
        if i["CALMETHOD"] != method:
            bad.append("METHOD:%s" % i["CALMETHOD"])
        if i["ATTENDEE"] != "mailto:" + a:
            bad.append("ATTENDEE %s" % i["ATTENDEE"])
        if not re.match(r"^denmark\+rsvp-[a-z0-9-]+@", i["REPLYTO"]):
            bad.append("Reply-To %s" % i["REPLYTO"])
        if i["ORGANIZER"] != "mailto:" + i["REPLYTO"]:
            bad.append("ORGANIZER %s, Reply-To %s" %
                       (i["ORGANIZER"], i["REPLYTO"]))
        if method == "CANCEL" and i["STATUS"] != "CANCELLED":
            bad.append("STATUS:%s" % i["STATUS"])
        if bad:
            print("%s: %s" % (a, "; ".join(bad)))
        facts.write("%s %s %s %s %s %s\n" % (a, i["REPLYTO"], i["UID"],
                    i["SEQ"], i["DTSTART"], i["DTEND"]))

elif cmd in ("missing", "notone", "got"):
    # missing DIR RE N ADDR...: the ADDRs with fewer than N mails whose
    # Subject matches RE; notone DIR RE ADDR...: "addr=N" for N != 1;
    # got DIR RE ADDR...: the ADDRs with any.  Local parts, one line.
    d, rx = sys.argv[2], re.compile(sys.argv[3])
    n = int(sys.argv[4]) if cmd == "missing" else 1
    addrs = sys.argv[5:] if cmd == "missing" else sys.argv[4:]
    tally = dict((a.lower(), 0) for a in addrs)
    hp = email.parser.BytesParser(policy=email.policy.default)
    for p in dumps(d):
        rs = [r for r in rcpts(p) if r in tally]
        if not rs:
            continue
        with open(p, "rb") as f:
            if not rx.search(subject(hp.parse(f, headersonly=True))):
                continue
        for r in rs:
            tally[r] += 1
    out = []
    for a in addrs:
        c = tally[a.lower()]
        loc = a.split("@")[0]
        if cmd == "missing" and c < n:
            out.append(loc)
        elif cmd == "notone" and c != 1:
            out.append("%s=%d" % (loc, c))
        elif cmd == "got" and c > 0:
            out.append(loc)
    print(" ".join(out))

elif cmd == "count":
    # count DIR ADDR [SUBJECT-RE]: mails to ADDR (whose Subject matches)
    d, a = sys.argv[2], sys.argv[3]
    rx = re.compile(sys.argv[4]) if len(sys.argv) > 4 else None
    print(sum(1 for p in mails(d, a)
              if rx is None or rx.search(subject(load(p)))))

elif cmd == "body":
    # body DIR ADDR SUBJECT-RE: the text of the newest such mail
    d, a, rx = sys.argv[2], sys.argv[3], re.compile(sys.argv[4])
    for p in reversed(mails(d, a)):
        m = load(p)
        if rx.search(subject(m)):
            print(text(m))
            break

elif cmd == "subjects":
    for p in mails(sys.argv[2], sys.argv[3]):
        print(subject(load(p)))

elif cmd in ("reply", "text"):
    # reply PORT SHAPE FROM TO UID PARTSTAT DTSTART DTEND
    # text PORT FROM TO BODY
    port = int(sys.argv[2])
    if cmd == "reply":
        shape, frm, to, uid, ps, s, e = sys.argv[3:10]
    else:
        frm, to, body = sys.argv[3:6]
        shape = "text"
    local = frm.split("@")[0].upper()
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    mid = "<%s.%s.%s@example.net>" % (shape, frm.split("@")[0],
                                     now.strftime("%H%M%S%f"))
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined",
            "TENTATIVE": "Tentative"}.get(cmd == "reply" and ps, "")
    head = ("From: %s <%s>\r\nTo: <%s>\r\nMessage-ID: %s\r\n"
            "Date: %s\r\nMIME-Version: 1.0\r\n" %
            (local, frm, to, mid,
             email.utils.format_datetime(now)))
    crlf = lambda lines: "".join(l + "\r\n" for l in lines)
    def fold(line):
        b, out = line, []
        while len(b) > 75:
            out.append(b[:75])
            b = " " + b[75:]
        out.append(b)
        return out
    if cmd == "reply":
        cph = zoneinfo.ZoneInfo("Europe/Copenhagen")
        def local_t(t):
            u = datetime.datetime.strptime(t, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
            return u.astimezone(cph).strftime("%Y%m%dT%H%M%S")
    if shape == "outlook":
        ics = crlf([
            "BEGIN:VCALENDAR", "METHOD:REPLY",
            "PRODID:Microsoft Exchange Server 2010", "VERSION:2.0",
            "BEGIN:VTIMEZONE", "TZID:Romance Standard Time",
            "BEGIN:STANDARD", "DTSTART:16010101T030000",
            "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
            "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:16010101T020000",
            "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
            "END:DAYLIGHT", "END:VTIMEZONE", "BEGIN:VEVENT",
            "ATTENDEE;PARTSTAT=%s;CN=%s:MAILTO:%s" % (ps, local, frm.upper()),
            "COMMENT;LANGUAGE=da-DK:\\n",
            "SUMMARY;LANGUAGE=da-DK:%s: Netværksmiddag" % word,
            "DTSTART;TZID=Romance Standard Time:%s" % local_t(s),
            "DTEND;TZID=Romance Standard Time:%s" % local_t(e),
            "UID:%s" % uid, "CLASS:PUBLIC", "PRIORITY:5",
            "DTSTAMP:%s" % stamp, "TRANSP:OPAQUE", "STATUS:CONFIRMED",
            "SEQUENCE:0", "LOCATION;LANGUAGE=da-DK:Café Nørrebro",
            "X-MICROSOFT-CDO-APPT-SEQUENCE:0",
            "X-MICROSOFT-CDO-REPLYTIME:%s" % stamp,
            "END:VEVENT", "END:VCALENDAR"])
        b64 = base64.encodebytes(ics.encode()).decode().replace("\n", "\r\n")
        msg = head + crlf([
            "Subject: %s: Netværksmiddag" % word,
            "Thread-Topic: Netværksmiddag",
            "X-MS-Has-Attach:", "X-MS-TNEF-Correlator:",
            'Content-Type: multipart/alternative; boundary="_000_OL_"',
            "", "--_000_OL_",
            'Content-Type: text/plain; charset="us-ascii"',
            "Content-Transfer-Encoding: quoted-printable", "", "",
            "--_000_OL_",
            'Content-Type: text/calendar; charset="utf-8"; method=REPLY',
            "Content-Transfer-Encoding: base64", ""]) + b64 + \
            crlf(["", "--_000_OL_--"])
    elif shape == "google":
        lines = [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:REPLY",
            "BEGIN:VEVENT", "DTSTART:%s" % s, "DTEND:%s" % e,
            "DTSTAMP:%s" % stamp, "ORGANIZER;CN=Migrant entrepreneurs in "
            "Denmark:mailto:%s" % to, "UID:%s" % uid,
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=%s;"
            "CN=%s;X-NUM-GUESTS=0:mailto:%s" % (ps, frm, frm),
            "CREATED:%s" % stamp, "DESCRIPTION:", "LAST-MODIFIED:%s" % stamp,
            "LOCATION:Café Nørrebro", "SEQUENCE:0", "STATUS:CONFIRMED",
            "SUMMARY:Netværksmiddag", "TRANSP:OPAQUE",
            "END:VEVENT", "END:VCALENDAR"]
        ics = crlf([f for l in lines for f in fold(l)])
        b64 = base64.encodebytes(ics.encode()).decode().replace("\n", "\r\n")
        msg = head + crlf([
            "Subject: Invitation: %s" % "Netværksmiddag",
            'Content-Type: multipart/mixed; boundary="0000g1"', "",
            "--0000g1",
            'Content-Type: multipart/alternative; boundary="0000g2"', "",
            "--0000g2", 'Content-Type: text/plain; charset="UTF-8"', "",
            "%s has accepted this invitation." % frm, "",
            "--0000g2",
            'Content-Type: text/calendar; charset="UTF-8"; method=REPLY',
            "Content-Transfer-Encoding: 8bit", ""]) + ics + crlf([
            "--0000g2--", "--0000g1",
            'Content-Type: application/ics; name="invite.ics"',
            'Content-Disposition: attachment; filename="invite.ics"',
            "Content-Transfer-Encoding: base64", ""]) + b64 + crlf([
            "--0000g1--"])
    elif shape == "thunderbird":
        ics = crlf([
            "BEGIN:VCALENDAR",
            "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
            "VERSION:2.0", "METHOD:REPLY", "BEGIN:VTIMEZONE",
            "TZID:Europe/Copenhagen", "BEGIN:DAYLIGHT",
            "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
            "DTSTART:19700329T020000",
            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
            "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
            "TZNAME:CET", "DTSTART:19701025T030000",
            "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
            "END:VTIMEZONE", "BEGIN:VEVENT", "CREATED:%s" % stamp,
            "LAST-MODIFIED:%s" % stamp, "DTSTAMP:%s" % stamp,
            "UID:%s" % uid, "SUMMARY:Netværksmiddag",
            "ORGANIZER;RSVP=TRUE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:%s" % to,
            "ATTENDEE;RSVP=TRUE;PARTSTAT=%s;ROLE=REQ-PARTICIPANT:mailto:%s"
            % (ps, frm),
            "DTSTART;TZID=Europe/Copenhagen:%s" % local_t(s),
            "DTEND;TZID=Europe/Copenhagen:%s" % local_t(e),
            "SEQUENCE:0", "X-MOZ-RECEIVED-SEQUENCE:0",
            "X-MOZ-RECEIVED-DTSTAMP:%s" % stamp,
            "END:VEVENT", "END:VCALENDAR"])
        msg = head + crlf([
            "Subject: %s: Netværksmiddag" % word,
            "User-Agent: Mozilla/5.0 Thunderbird/115.5.0",
            'Content-Type: multipart/mixed; boundary="------------tb"', "",
            "--------------tb",
            "Content-Type: text/plain; charset=UTF-8; format=flowed",
            "Content-Transfer-Encoding: 8bit", "",
            "%s has %s your event invitation." % (frm, ps.lower()), "",
            "--------------tb",
            "Content-Type: text/calendar; charset=UTF-8; method=REPLY",
            "Content-Transfer-Encoding: 8bit", ""]) + ics + crlf([
            "--------------tb--"])
    else:
        msg = head + crlf([
            "Subject: Re: Invitation: Netværksmiddag (denmark)",
            "In-Reply-To: <invitation@lists.mlmd.test>",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit", "", body, "",
            "Den 1. december skrev Migrant entrepreneurs in Denmark:",
            "> Du er inviteret.  Svar yes, no eller maybe."])
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.sendmail(frm, [to], msg.encode("utf-8"))
    s.quit()
EOF
pe() { $PY "$T_DIR/pe.py" "$@"; }

# mlmctl ARGS...: as the daemon's user, output kept in mlmctl.out.
mlmctl() {
	as_user "$MLMCTL" -c "$T_CONF" "$@" >>"$T_DIR/mlmctl.out" 2>&1
}

pf_queue_empty() {
	[ -z "$(find "$PF_DIR/queue/maildrop" "$PF_DIR/queue/incoming" \
		"$PF_DIR/queue/active" "$PF_DIR/queue/deferred" \
		"$PF_DIR/queue/hold" -type f 2>/dev/null)" ]
}
# settled: mlmd and Postfix have nothing left to do.
settled() {
	spool_settled && pf_queue_empty &&
		[ "$(sql "SELECT count(*) FROM outbound WHERE state IN
			('queued', 'sending', 'deferred')")" = 0 ]
}
settle() { wait_until $((T_WAIT * 2)) settled; }

# ans ADDR: the member's answer row: partstat, guests, /wN if waiting
ans() {
	sql "SELECT partstat || '+' || guests || coalesce('/w' || waitlist, '')
		FROM rsvps WHERE event = $EV AND address = '$1'"
}
answered() {
	sql "SELECT count(*) FROM rsvps WHERE event = $EV AND answered
		IS NOT NULL"
}
t_answered_ge() { [ "$(answered)" -ge "$1" ]; }
seats() {
	sql "SELECT coalesce(sum(1 + guests), 0) FROM rsvps WHERE event = $EV
		AND partstat = 'accepted' AND waitlist IS NULL"
}
waiting() {
	sql "SELECT address FROM rsvps WHERE event = $EV AND partstat =
		'accepted' AND waitlist IS NOT NULL ORDER BY waitlist" |
		sed 's/@example.net//' | tr '\n' ' '
}
# count ADDR [SUBJECT-RE]; t_count_ge ADDR N [SUBJECT-RE]
count() { pe count "$PY_DIR" "$@"; }
t_count_ge() { [ "$(count "$1" ${3:+"$3"})" -ge "$2" ]; }
# missing RE N ADDR...: the ADDRs (local parts) with fewer than N mails
# whose Subject matches RE; t_none_missing RE N ADDR...: there are none
missing() { pe missing "$PY_DIR" "$@"; }
t_none_missing() { [ -z "$(missing "$@")" ]; }
# off_by_one RE ADDR...: "local=N" for each ADDR with N != 1 such mails
off_by_one() { pe notone "$PY_DIR" "$@"; }
# some_got RE ADDR...: the ADDRs that got such a mail
some_got() { pe got "$PY_DIR" "$@"; }
# fact ADDR FIELD (2 rsvp, 3 uid, 4 seq, 5 dtstart, 6 dtend) of the
# invitation facts
fact() { awk -v a="$1" -v f="$2" '$1 == a { print $f }' "$T_DIR/inv.facts"; }
rsvp_of() { fact "$1" 2; }
# reply N SHAPE PARTSTAT: member N answers by calendar
reply() {
	t_a=$(m "$1")
	pe reply "$PF_PORT" "$2" "$t_a" "$(rsvp_of "$t_a")" "$UID_" "$3" \
		"$(fact "$t_a" 5)" "$(fact "$t_a" 6)"
}
# say N TEXT: member N answers by a plain mail
say() {
	t_a=$(m "$1")
	pe text "$PF_PORT" "$t_a" "$(rsvp_of "$t_a")" "$2"
}
# web N: member N presses "yes" on the web page; the HTTP status
web_yes() {
	t_tok=$(rsvp_of "$(m "$1")" | sed 's/^denmark+rsvp-\(.*\)@.*/\1/')
	curl -s -m 20 -o "$T_DIR/web.$1.html" -w '%{http_code}' \
		-d answer=yes -d guests=0 "$W/e/$t_tok"
}

# --- the sink, Postfix, mlmd -------------------------------------------------

ok "smtp_sink.py started" py_sink_start
pf_start "$T_SOCK" || bail "the private Postfix did not start"
postconf -c "$PF_DIR/etc" -e \
	"transport_maps = inline:{ $D=lmtp:unix:$T_SOCK, example.net=smtp:[127.0.0.1]:$PY_PORT, example.org=smtp:[127.0.0.1]:$PY_PORT }" ||
	bail "postconf failed"
postfix -c "$PF_DIR/etc" reload >"$PF_DIR/reload.out" 2>&1 ||
	bail "postfix reload failed"
ok "private Postfix on 127.0.0.1:$PF_PORT reloaded with the sink routes" \
	wait_until "$T_WAIT" pf_log_has "reload -- version"

HTTP_PORT=$(free_port)
W=http://127.0.0.1:$HTTP_PORT
T_EXTRA="relay = \"smtp://127.0.0.1:$PF_PORT\"
http = \"127.0.0.1:$HTTP_PORT\"
base_url = \"$W\""
conf_write
sed -i "s/^list denmark {/list denmark {\n\ttimezone = \"Europe\/Copenhagen\"\n\towners = { \"$OWNER\" }/" "$T_CONF"
daemon_start || bail "mlmd did not start"
# shellcheck disable=SC2086
ok "30 members added" mlmctl add denmark $ALL
is "$(sql "SELECT count(*) FROM members WHERE list = 'denmark'")" 30 \
	"denmark has 30 members"

# --- 1. the invitations --------------------------------------------------------

# Ten days ahead (no reminder is due yet); moved nearer in part 5.
day=$(TZ=Europe/Copenhagen date -d '+10 days' +%Y-%m-%d)
dl=$(TZ=Europe/Copenhagen date -d '+8 days' +%Y-%m-%d)
as_user "$MLMCTL" -c "$T_CONF" event create denmark --title "$TITLE" \
	--start "$day 18:00" --end "$day 21:00" \
	--place "Café Nørrebro, København" --capacity 20 \
	--deadline "$dl 12:00" >"$T_DIR/create.out" 2>&1
like "$(cat "$T_DIR/create.out")" "30 invitations queued" \
	"mlmctl event create invites the 30 members"
EV=$(sed -n 's/^event \([0-9]*\) created.*/\1/p' "$T_DIR/create.out")
[ -n "$EV" ] || bail "no event id in: $(cat "$T_DIR/create.out")"

# shellcheck disable=SC2086
ok "all 30 invitations arrive through Postfix" \
	wait_until $((T_WAIT * 2)) t_none_missing '^Invitation: ' 1 $ALL
# shellcheck disable=SC2086
bad=$(OUT=$T_DIR/inv.facts pe check "$PY_DIR" REQUEST $ALL 2>&1)
is "$bad" "" "each parses (email + icalendar): METHOD REQUEST, ATTENDEE the member, ORGANIZER = Reply-To = their rsvp address"
is "$(wc -l <"$T_DIR/inv.facts")" 30 "30 invitations read"
UID_=$(fact "$(m 1)" 3)
is "$(awk '{ print $3 }' "$T_DIR/inv.facts" | sort -u | wc -l)" 1 \
	"one UID for all"
is "$(awk '{ print $2 }' "$T_DIR/inv.facts" | sort -u | wc -l)" 30 \
	"30 different rsvp addresses"
is "$(fact "$(m 1)" 5)" \
	"$(TZ=UTC date -d "TZ=\"Europe/Copenhagen\" $day 18:00" +%Y%m%dT%H%M%SZ)" \
	"DTSTART is 18:00 Copenhagen time"
SEQ0=$(fact "$(m 1)" 4)
like "$(pe subjects "$PY_DIR" "$(m 7)")" "^Invitation: $TITLE \\(denmark\\)\$" \
	"the Danish subject (Invitation: ...)"

# --- 2. 18 yeses by mail: 10 calendar REPLYs, 8 words --------------------------

for n in 1 4 7 10; do reply $n outlook ACCEPTED; done
for n in 2 5 8; do reply $n google ACCEPTED; done
for n in 3 6 9; do reply $n thunderbird ACCEPTED; done
say 11 "yes"
say 12 "Ja tak"
say 13 "ja"
say 14 "+1"
say 15 "Yes!"
say 16 "ja tak, vi ses"
say 17 "JA"
say 18 "yes please"
ok "18 answers by mail arrive through Postfix and are recorded" \
	wait_until $((T_WAIT * 2)) t_answered_ge 18
t_cal_ok() {
	for n in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(ans "$(m $n)")" = "accepted+0" ] || return 1
	done
}
ok "the 10 calendar REPLYs (Outlook, Google, Thunderbird) count as yes" \
	t_cal_ok
is "$(ans "$(m 2)")" "accepted+0" "Google's X-NUM-GUESTS=0: no guest"
t_words_ok() {
	for n in 11 12 13 15 16 17 18; do
		[ "$(ans "$(m $n)")" = "accepted+0" ] || return 1
	done
}
ok "yes, Ja tak, ja, Yes!, ja tak vi ses, JA, yes please: yes" t_words_ok
is "$(ans "$(m 14)")" "accepted+1" "\"+1\": yes with a guest"
is "$(seats)" 19 "19 seats taken (18 members and a guest)"

# --- 3. four on the web page: the 20th seat and the waitlist --------------------

for n in 19 20 21 22; do
	is "$(web_yes $n)" 200 "m$n presses yes on the web page: 200"
done
is "$(seats)" 20 "exactly 20 seats are taken"
is "$(ans "$(m 19)")" "accepted+0" "m19 has the last seat"
is "$(waiting)" "m20 m21 m22 " "m20, m21, m22 wait, in the order they came"
is "$(sql "SELECT group_concat(waitlist) FROM (SELECT waitlist FROM rsvps
	WHERE event = $EV AND waitlist IS NOT NULL ORDER BY waitlist)")" \
	"1,2,3" "waitlist positions 1, 2, 3"

SEATED=
for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
	SEATED="$SEATED $(m $n)"
done
# shellcheck disable=SC2086
t_confirmed() {
	t_none_missing '^Du kommer: ' 1 $SEATED &&
		t_none_missing '^På ventelisten: ' 1 "$(m 20)" "$(m 21)" "$(m 22)"
}
ok "each is told: 19 \"Du kommer\", 3 \"På ventelisten\"" \
	wait_until $((T_WAIT * 2)) t_confirmed
like "$(pe body "$PY_DIR" "$(m 21)" '^På ventelisten')" "nummer 2" \
	"m21 learns her place on the waitlist (nummer 2)"
like "$(pe body "$PY_DIR" "$(m 14)" '^Du kommer')" "Gæster, du tager med: 1" \
	"m14's confirmation counts the guest"

# --- 4. two decline: the first two on the waitlist get seats -------------------

ok "mlmd and Postfix settle" settle
n20=$(count "$(m 20)")
n21=$(count "$(m 21)")
n22=$(count "$(m 22)")
reply 5 outlook DECLINED
t_is() { [ "$(ans "$1")" = "$2" ]; }
ok "m5 declines by calendar (Outlook DECLINED)" \
	wait_until "$T_WAIT" t_is "$(m 5)" "declined+0"
is "$(ans "$(m 20)")" "accepted+0" "m20 moves from the waitlist to the seat"
say 11 "Nej, desværre"
ok "m11 declines by mail (\"Nej, desværre\")" \
	wait_until "$T_WAIT" t_is "$(m 11)" "declined+0"
is "$(ans "$(m 21)")" "accepted+0" "m21 moves from the waitlist to the seat"
is "$(seats)" 20 "still exactly 20 seats taken"
is "$(waiting)" "m22 " "m22 still waits"
ok "m20's mailbox grows by the news" \
	wait_until "$T_WAIT" t_count_ge "$(m 20)" $((n20 + 1))
ok "m21's too" wait_until "$T_WAIT" t_count_ge "$(m 21)" $((n21 + 1))
is "$(count "$(m 20)" "^En plads til dig: $TITLE")" 1 \
	"m20: \"En plads til dig: $TITLE (denmark)\""
is "$(count "$(m 21)" "^En plads til dig: $TITLE")" 1 \
	"m21: \"En plads til dig: ...\""
like "$(pe body "$PY_DIR" "$(m 20)" '^En plads til dig')" "ventelisten" \
	"the mail says she came off the waitlist"
ok "m20 gets an updated invitation (\"Opdateret invitation: ...\")" \
	test "$(count "$(m 20)" "^Opdateret invitation: $TITLE")" = 1
ok "mlmd and Postfix settle" settle
is "$(count "$(m 22)")" "$n22" "m22 gets nothing new"
is "$(count "$(m 5)" '^Svar modtaget \(nej\): ')" 1 "m5 is told the no"

# --- two maybes -----------------------------------------------------------------

reply 23 thunderbird TENTATIVE
say 24 "Måske"
t_maybes() {
	t_is "$(m 23)" "tentative+0" && t_is "$(m 24)" "tentative+0"
}
ok "m23 (Thunderbird TENTATIVE) and m24 (\"Måske\") say maybe" \
	wait_until "$T_WAIT" t_maybes
is "$(seats)" 20 "the seats do not change"
is "$(grep -c 'by calendar$' "$T_LOG")" 12 \
	"mlmd read the 12 calendar answers as calendars"
is "$(grep -c 'by mail$' "$T_LOG")" 10 "and the 10 word answers as words"

ok "mlmd and Postfix settle" settle
as_user "$MLMCTL" -c "$T_CONF" event report "$EV" --anonymous \
	>"$T_DIR/r1.csv" 2>&1
# event,list,title,start,capacity,invited,yes,no,maybe,waitlist,guests,
# attended,no_answer
like "$(sed -n 2p "$T_DIR/r1.csv")" ',20,30,19,2,2,1,1,0,6$' \
	"report: 30 invited, 19 yes, 2 no, 2 maybe, 1 waiting, 1 guest, 6 silent"

# --- 5. reminders: the event is now 20 hours away ---------------------------------

daemon_stop
is "$T_RC" 0 "mlmd stops on SIGTERM"
now=$(date +%s)
start=$(((now + 20 * 3600) / 60 * 60))
sql "UPDATE events SET dtstart = $start, dtend = $((start + 3 * 3600)),
	deadline = $((now - 60)) WHERE id = $EV"
YES="$(m 1) $(m 2) $(m 3) $(m 4) $(m 6) $(m 7) $(m 8) $(m 9) $(m 10)"
YES="$YES $(m 12) $(m 13) $(m 14) $(m 15) $(m 16) $(m 17) $(m 18) $(m 19)"
YES="$YES $(m 20) $(m 21)"
NOTYES="$(m 5) $(m 11) $(m 23) $(m 24) $(m 25) $(m 26) $(m 27) $(m 28)"
NOTYES="$NOTYES $(m 29) $(m 30)"
daemon_start || bail "mlmd did not start again"
# shellcheck disable=SC2086
ok "the tick at start-up reminds the 19 yeses and m22 on the waitlist" \
	wait_until $((T_WAIT * 2)) t_none_missing '^Påmindelse: ' 1 $YES "$(m 22)"
ok "the owner gets the summary at the deadline" \
	wait_until "$T_WAIT" t_count_ge "$OWNER" 1 '^Svar ved fristen: '
ok "mlmd and Postfix settle" settle
# shellcheck disable=SC2086
is "$(off_by_one '^Påmindelse: ' $YES "$(m 22)")" "" "one reminder each"
# shellcheck disable=SC2086
is "$(some_got '^Påmindelse: ' $NOTYES)" "" \
	"none to the declined, the maybes and the silent"
like "$(pe body "$PY_DIR" "$(m 22)" '^Påmindelse')" "på ventelisten" \
	"m22's reminder says she is on the waitlist"
pe body "$PY_DIR" "$(m 1)" '^Påmindelse' >"$T_DIR/rem.txt"
ok "the reminder 20 hours before is the 1-day one" \
	grep -q "Dage til arrangementet: 1" "$T_DIR/rem.txt"
daemon_stop
daemon_start || bail "mlmd did not start again"
sleep 2 # the tick at start-up, which should send nothing
ok "mlmd and Postfix settle" settle
# shellcheck disable=SC2086
ok "another tick does not remind again" \
	test -z "$(off_by_one '^Påmindelse: ' $YES)"

# --- 6. cancellation ---------------------------------------------------------------

CANCELLED="$YES $(m 22) $(m 23) $(m 24) $(m 25) $(m 26) $(m 27) $(m 28)"
CANCELLED="$CANCELLED $(m 29) $(m 30)"
ok "mlmctl event cancel" mlmctl event cancel "$EV"
# shellcheck disable=SC2086
ok "28 cancellations arrive (everyone invited but the two who declined)" \
	wait_until $((T_WAIT * 2)) t_none_missing '^Aflyst: ' 1 $CANCELLED
ok "mlmd and Postfix settle" settle
# shellcheck disable=SC2086
bad=$(OUT=$T_DIR/cancel.facts pe check "$PY_DIR" CANCEL $CANCELLED 2>&1)
is "$bad" "" "each is one METHOD:CANCEL, STATUS:CANCELLED, to the member from their rsvp address"
is "$(awk '{ print $3 }' "$T_DIR/cancel.facts" | sort -u)" "$UID_" \
	"with the invitation's UID"
is "$(awk -v s="$SEQ0" '$4 > s' "$T_DIR/cancel.facts" | wc -l)" 28 \
	"and a higher SEQUENCE (was $SEQ0)"
is "$(some_got '^Aflyst: ' "$(m 5)" "$(m 11)")" "" \
	"no cancellation to the two who declined"
is "$(sql "SELECT state FROM events WHERE id = $EV")" cancelled \
	"the event is cancelled"

# --- 7. the report ---------------------------------------------------------------

as_user "$MLMCTL" -c "$T_CONF" event report "$EV" >"$T_DIR/r2.csv" 2>&1
like "$(sed -n 2p "$T_DIR/r2.csv")" ',20,30,19,2,2,1,1,0,6$' \
	"mlmctl event report: the same totals after the cancellation"
is "$(grep -c '^"m[0-9]*@example.net",yes,' "$T_DIR/r2.csv")" 19 \
	"19 lines say yes"
like "$(grep '^"m22@' "$T_DIR/r2.csv")" ',waitlist,0,3,0$' \
	"m22: waitlist, position 3"
like "$(grep '^"m14@' "$T_DIR/r2.csv")" ',yes,1,0,0$' "m14: yes with 1 guest"

# --- the end ------------------------------------------------------------------------

is "$(sql "SELECT count(*) FROM outbound WHERE state != 'sent'")" 0 \
	"every outbound copy was sent"
ok "Postfix bounced nothing" sh -c "! grep -q 'status=bounced' '$PF_LOG'"
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report" no_sanitizer_report
done_testing
