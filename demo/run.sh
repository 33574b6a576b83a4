#!/bin/sh
# demo/run.sh BUILD_DIR - the demo behind `./quickstart demo`.
#
# Starts from a clean demo/run/ (git-ignored): writes demo/run/mlmd.conf
# from demo/mlmd.conf.in (the community's lists, domain lists.example.org,
# LMTP on a unix socket and 127.0.0.1:8024, outbound mail to a maildir),
# starts mlmd in the foreground, imports the sample members of
# demo/members.csv with `mlmctl import`, sends the sample messages of
# demo/messages/ over LMTP, prints what mlmd recorded, and keeps mlmd
# running until Ctrl-C.  Only loopback is used; the daemon is stopped by
# its PID on every exit path.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
build=$(cd "$build" 2>/dev/null && pwd) || {
	echo "demo: no build dir ${1:-$top/_build}: run ./quickstart demo" >&2
	exit 66
}
MLMD=$build/mlmd/mlmd
MLMCTL=$build/mlmd/mlmctl
PY=/usr/bin/python3
run=$top/demo/run
conf=$run/mlmd.conf
home=$run/home
user=nobody

for p in "$MLMD" "$MLMCTL"; do
	[ -x "$p" ] || {
		echo "demo: $p is not built" >&2
		exit 69
	}
done

say() { printf '\n== %s\n' "$*"; }

# As root, mlmd refuses to run without `user`; then the folders it
# writes belong to that user.
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$user" --regid="$(id -g "$user")" \
			--clear-groups -- "$@"
	else
		"$@"
	fi
}

say "a fresh demo/run/"
rm -rf "$run"
mkdir -p "$run/maildir" "$home"
if [ "$(id -u)" -eq 0 ]; then
	chown "$user" "$run/maildir" "$home"
	userline="user = \"$user\""
else
	userline="# not started as root: no user"
fi
sed -e "s|@RUN@|$run|g" -e "s|@USER@|$userline|" \
	"$top/demo/mlmd.conf.in" >"$conf"
echo "configuration: $conf"
"$MLMCTL" -c "$conf" check-config || exit 78

pid=
stop() {
	trap - EXIT INT TERM HUP
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo
		echo "demo: stopping mlmd (pid $pid)"
		kill -TERM "$pid"
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			# reap it if it has exited, so kill -0 stops seeing it
			sleep 0.1
			i=$((i + 1))
			[ "$(sed 's/^.*) //' /proc/$pid/stat 2>/dev/null |
				cut -c1)" = Z ] && break
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

say "starting mlmd (log: demo/run/mlmd.log)"
"$MLMD" -c "$conf" -f 2>"$run/mlmd.log" &
pid=$!
i=0
until $PY -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", 8024), 1)
sys.exit(0 if s.makefile("rb").readline().startswith(b"220") else 1)
' 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 200 ]; then
		echo "demo: mlmd did not start (is 127.0.0.1:8024 in use?):" >&2
		tail -n 20 "$run/mlmd.log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "mlmd (pid $pid) listens on unix:$run/lmtp.sock and 127.0.0.1:8024"

say "importing members from demo/members.csv"
lists=$(tail -n +2 "$top/demo/members.csv" | cut -d, -f1 | sort -u)
for l in $lists; do
	f=$run/members-$l.csv
	echo "address,name,language" >"$f"
	awk -F, -v l="$l" 'NR > 1 && $1 == l { print $2 "," $3 "," $4 }' \
		"$top/demo/members.csv" >>"$f"
	printf '  %-14s ' "$l"
	"$MLMCTL" -c "$conf" import "$l" "$f" ||
		echo "demo: import into $l failed" >&2
done

say "Lars Nielsen reads the Denmark list once a week"
"$MLMCTL" -c "$conf" digest set denmark lars.nielsen@example.org mime

say "sending the sample messages over LMTP (demo/messages/)"
$PY - "$run/lmtp.sock" "$top"/demo/messages/*.eml <<'EOF'
import email, email.policy, email.utils, smtplib, sys
sock = sys.argv[1]
for path in sys.argv[2:]:
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    frm = m["From"].addresses[0].addr_spec
    to = [a.addr_spec for a in m["To"].addresses]
    subj = str(m["Subject"])
    s = smtplib.LMTP(sock, timeout=30)
    s.ehlo()
    s.mail(frm)
    codes = []
    for a in to:
        codes.append(s.rcpt(a)[0])
    if 250 in codes:
        codes.append(s.data(raw)[0])
    s.quit()
    print("  RCPT %s DATA %s  %-31s %s" % (
        ",".join(str(c) for c in codes[:len(to)]),
        ",".join(str(c) for c in codes[len(to):]) or "-", to[0], subj))
EOF

# Wait (bounded) until the dispatcher has taken everything in.
i=0
while [ "$(find "$home/spool/incoming" "$home/spool/active" -type f \
	2>/dev/null | wc -l)" -gt 0 ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

# ... and until the queue has written every copy (bounded).
i=0
while [ "$(as_user sqlite3 -cmd '.timeout 5000' "$home/mlmd.db" \
	"SELECT count(*) FROM outbound WHERE state IN ('queued','deferred')" \
	2>/dev/null || echo 1)" != 0 ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

say "what happened to each post (tables inbound, held, outbound)"
as_user sqlite3 -cmd '.timeout 5000' -column -header "$home/mlmd.db" \
	"SELECT i.list, i.role, substr(i.subject, 1, 40) AS subject,
	   CASE WHEN h.id IS NOT NULL THEN 'held #' || h.id
	        ELSE (SELECT count(*) FROM outbound o
	              WHERE o.message_id = i.message_id AND o.kind = 'post'
	                AND o.list = i.list) || ' copies' END AS result
	 FROM inbound i LEFT JOIN held h ON h.spool_id = i.spool_id
	   AND h.list = i.list
	 ORDER BY i.received, i.spool_id" ||
	echo "(no database yet)"

say "delivered copies in demo/run/maildir (one folder per member)"
for d in "$run"/maildir/*/; do
	[ -d "$d" ] || continue
	printf '  %-36s %s\n' "$(basename "$d")" \
		"$(find "$d/new" -type f 2>/dev/null | wc -l)"
done | head -n 12
echo "  ..."
one=$(find "$run/maildir" -path '*/new/*' -type f 2>/dev/null |
	xargs grep -l '^List-Id: .*denmark' 2>/dev/null | head -n 1)
if [ -n "$one" ]; then
	say "one delivered copy: $one"
	sed -n '1,/^$/p' "$one" | grep -E '^(Return-Path|Delivered-To|From|To|Subject|List-Id|List-Unsubscribe|List-Post|Archived-At|Precedence):' | sed 's/^/  /'
	echo "  ..."
	tail -n 6 "$one" | sed 's/^/  /'
fi

say "members per list"
for l in denmark sweden norway finland iceland all news coordinators; do
	n=$("$MLMCTL" -c "$conf" members "$l" 2>/dev/null | grep -c @)
	printf '  %-14s %s\n' "$l" "$n"
done

say "two participants join by email: Sofie in Danish, Yusuf in Arabic"
# Sofie writes to the one-command address; Yusuf writes to -request and
# asks for Arabic in the same mail.  Each gets a confirmation in their
# language, replies to it (a plain reply confirms), and gets the welcome.
$PY - "$run/lmtp.sock" "$run/maildir" <<'EOF'
import email, email.policy, glob, os, re, smtplib, sys, time
sock, md = sys.argv[1], sys.argv[2]

def send(frm, to, subject, body, mid):
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n"
           % (frm, to, subject, mid, body)).encode("utf-8")
    s = smtplib.LMTP(sock, timeout=30)
    s.sendmail(frm, [to], msg)
    s.quit()

def wait_mail(addr, n):
    for _ in range(200):
        files = sorted(glob.glob(os.path.join(md, addr, "new", "*")),
                       key=os.path.getmtime)
        if len(files) >= n:
            return files[n - 1]
        time.sleep(0.1)
    sys.exit("demo: no mail %d for %s" % (n, addr))

def show(path):
    m = email.message_from_binary_file(open(path, "rb"),
                                       policy=email.policy.default)
    print("    [%s] %s" % (m["Content-Language"], m["Subject"]))
    print("    %s" % os.path.relpath(path, os.path.dirname(md)))
    return m

people = [
    ("sofie.nielsen@example.dk", "denmark+subscribe@lists.example.org",
     "Tilmelding", "Hej, jeg vil gerne være med."),
    ("yusuf.haddad@example.net", "denmark-request@lists.example.org",
     "subscribe", "subscribe\nlanguage ar\n\nشكراً"),
]
for i, (who, to, subj, body) in enumerate(people):
    print("  %s -> %s" % (who, to))
    send(who, to, subj, body, "join%d@demo" % i)
    m = show(wait_mail(who, 1))
    reply = re.search(r"([^<>\s]+\+confirm-[^<>\s]+@[^<>\s]+)",
                      str(m["Reply-To"])).group(1)
    print("  %s replies to %s" % (who, reply))
    send(who, reply, "Re: " + str(m["Subject"]), "> ...", "ok%d@demo" % i)
    show(wait_mail(who, 2))
EOF

say "the weekly digest, sent now instead of Monday 07:00"
"$MLMCTL" -c "$conf" digest status denmark
"$MLMCTL" -c "$conf" digest send denmark
i=0
d=
while [ -z "$d" ] && [ "$i" -lt 100 ]; do
	d=$(grep -l '^Message-ID: <digest\.' \
		"$run"/maildir/lars.nielsen@example.org/new/* 2>/dev/null |
		head -n 1)
	[ -n "$d" ] || sleep 0.1
	i=$((i + 1))
done
if [ -n "$d" ]; then
	echo "  $d"
	grep -E '^(From|Subject|Content-Type):' "$d" | head -n 3 | sed 's/^/  /'
fi

say "a networking dinner in Copenhagen for the Denmark list (capacity 3)"
day=$(date -d '+10 days' '+%Y-%m-%d')
"$MLMCTL" -c "$conf" event create denmark --title "Netværksmiddag i København" \
	--start "$day 18:00" --end "$day 21:00" \
	--place "Café Nørrebro, Nørrebrogade 1, København" --capacity 3
ev=$("$MLMCTL" -c "$conf" event list denmark | awk 'NR == 1 { print $1 }')
$PY - "$run/lmtp.sock" "$run/maildir" <<'EOF'
import email, email.policy, glob, os, re, smtplib, sys, time
sock, md = sys.argv[1], sys.argv[2]

def invitation(addr):
    for _ in range(200):
        for f in glob.glob(os.path.join(md, addr, "new", "*")):
            m = email.message_from_binary_file(open(f, "rb"),
                                               policy=email.policy.default)
            if any(p.get_content_type() == "text/calendar" for p in m.walk()):
                return m
        time.sleep(0.1)
    sys.exit("demo: no invitation for " + addr)

def send(frm, to, raw):
    s = smtplib.LMTP(sock, timeout=30)
    s.sendmail(frm, [to], raw)
    s.quit()

# two answer from their calendar (an Outlook-shaped REPLY), two by mail;
# the capacity is 3, so the fourth lands on the waitlist
for who, how in [("mette.jensen@example.org", "calendar"),
                 ("ahmed.hassan@example.net", "calendar"),
                 ("fatima.al-sayed@example.com", "mail: Yes, thanks!"),
                 ("mariam.yousef@example.com", "mail: نعم")]:
    m = invitation(who)
    rsvp = m["Reply-To"].addresses[0].addr_spec
    cal = [p for p in m.walk() if p.get_content_type() == "text/calendar"][0]
    uid = re.search(r"^UID:(.*)$", cal.get_content().replace("\r", ""),
                    re.M).group(1).strip()
    if how == "calendar":
        body = ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n"
                "PRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n"
                "BEGIN:VEVENT\r\nATTENDEE;PARTSTAT=ACCEPTED:MAILTO:%s\r\n"
                "UID:%s\r\nDTSTAMP:20260101T000000Z\r\nEND:VEVENT\r\n"
                "END:VCALENDAR\r\n" % (who, uid))
        raw = ("From: %s\r\nTo: %s\r\nSubject: Accepted: dinner\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/calendar; "
               "charset=utf-8; method=REPLY\r\n\r\n%s" % (who, rsvp, body))
    else:
        raw = ("From: %s\r\nTo: %s\r\nSubject: Re: invitation\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; "
               "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               "%s\r\n" % (who, rsvp, how[6:]))
    send(who, rsvp, raw.encode("utf-8"))
    print("  %-30s answers by %s" % (who, how))
    time.sleep(0.3)
EOF
sleep 1
"$MLMCTL" -c "$conf" event list denmark
"$MLMCTL" -c "$conf" event report "$ev" | sed 's/^/  /'

say "participation figures of the last 30 days (mlmctl report)"
"$MLMCTL" -c "$conf" report --from "$(date -u -d '-30 days' '+%Y-%m-%d')" \
	--to "$(date -u '+%Y-%m-%d')" --format text | sed 's/^/  /'
"$MLMCTL" -c "$conf" report --from "$(date -u -d '-30 days' '+%Y-%m-%d')" \
	--to "$(date -u '+%Y-%m-%d')" --format html --output "$run/report.html" &&
	echo "  the same as a page with charts: $run/report.html"

say "where things are"
cat <<EOF
  configuration   $conf
  database        $home/mlmd.db   (tables members, inbound, held, outbound)
  raw messages    $home/store/
  delivered mail  $run/maildir/<address>/new/
  queue, held     $MLMCTL -c $conf queue | held
  spool           $home/spool/{incoming,active,quarantine}
  daemon log      $run/mlmd.log
  report          $run/report.html   (mlmctl -c $conf report --format text)

The web front door listens on http://127.0.0.1:8025/: confirmation and
unsubscribe links, and the archive, e.g.
http://127.0.0.1:8025/archive/denmark/index.html
http://127.0.0.1:8025/archive/denmark/search?q=aarhus
(pages under $home/archive/, private lists under $home/private/).

Send more mail:  swaks --protocol LMTP --server 127.0.0.1 --port 8024 \\
                   --from you@example.net --to denmark@lists.example.org
mlmd keeps running; press Ctrl-C to stop it.
EOF

wait "$pid"
