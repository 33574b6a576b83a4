#!/bin/sh
# post.sh - posting end to end through the running daemon, with the
# maildir relay (each recipient's copy lands in maildir/ADDR/new/): the
# decorated copy every member gets (list header fields, subject prefix,
# footer, removed fields), held posts and notices, loops, automatic mail
# to the owners, max_size over mlmd-inject and LMTP, an announce list,
# an umbrella list, cross-posts (one copy per person, one archive row per
# list), digest and nomail members, a post without a Message-ID, the
# daily limit of notices to one address (one at a time and in a burst
# that one dispatcher round prepares), and the event log.
#
# Every post has its own Message-ID; a copy is found by it (notices carry
# it in In-Reply-To, owner copies keep it), so the scenarios do not see
# one another's mail.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"

plan 81

D=$T_DOMAIN
MD=$T_DIR/maildir

# The test configuration, with owners and a small max_size for denmark
# (a list section cannot be given twice, so T_EXTRA cannot add options to
# it; they are put into the section itself).
conf_write
sed -i '/^list denmark {/a\
	owners = { "owner@example.org" }\
	max_size = "20K"' "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"

daemon_start || bail "mlmd did not start"

# --- helpers ------------------------------------------------------------

cat >"$T_DIR/h.py" <<'EOF'
import email.header, smtplib, sys

def headers(path):
    """(name, raw value unfolded) of the header block, in order."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                break
            if line[0] in " \t" and out:
                out[-1][1] += " " + line.strip()
            elif ":" in line:
                n, v = line.split(":", 1)
                out.append([n, v.strip()])
    return out

cmd = sys.argv[1]
if cmd == "hdr":  # hdr FILE NAME: each value of NAME, one a line
    for n, v in headers(sys.argv[2]):
        if n.lower() == sys.argv[3].lower():
            print(v)
elif cmd == "subj":  # subj FILE: the decoded Subject, or BAD: why
    raw = [v for n, v in headers(sys.argv[2]) if n.lower() == "subject"]
    if len(raw) != 1:
        print("BAD: %d Subject fields" % len(raw))
        sys.exit(0)
    try:
        raw[0].encode("ascii")
        print(str(email.header.make_header(
            email.header.decode_header(raw[0]))))
    except Exception as e:
        print("BAD: %s: %r" % (e.__class__.__name__, raw[0]))
elif cmd == "lmtp":  # lmtp SOCK FILE SENDER RCPT...: "RCPT CODE ENH" each
    sock, path, sender, rcpts = sys.argv[2], sys.argv[3], sys.argv[4], \
        sys.argv[5:]
    s = smtplib.LMTP(sock, timeout=30)
    s.ehlo()
    s.mail(sender)
    res, ok = {}, []
    for r in rcpts:
        c, t = s.rcpt(r)
        if c == 250:
            ok.append(r)
        else:
            res[r] = (c, t)
    if ok:
        c, t = s.data(open(path, "rb").read())
        res[ok[0]] = (c, t)
        for r in ok[1:]:
            res[r] = s.getreply()
    s.quit()
    for r in rcpts:
        c, t = res[r]
        print(r, c, t.decode().split()[0])
EOF

# post FROM SUBJECT MSGID [HEADER...]: a message on stdout, From: FROM,
# one extra header line per HEADER argument.
post() {
	t_from=$1
	t_subj=$2
	t_id=$3
	shift 3
	printf 'From: %s\nTo: denmark@%s\nSubject: %s\nMessage-ID: <%s>\n' \
		"$t_from" "$D" "$t_subj" "$t_id"
	printf 'Date: Sun, 29 Nov 2026 10:00:00 +0100\nMIME-Version: 1.0\n'
	for t_h in "$@"; do
		printf '%s\n' "$t_h"
	done
	printf 'Content-Type: text/plain; charset=utf-8\n\n'
	printf 'Hej alle sammen,\n\npost %s from %s.\n' "$t_id" "$T_NAME"
}

# inject SENDER RCPT... < message: mlmd-inject, its exit status in INJ_RC
inject() {
	t_s=$1
	shift
	"$MLMD_INJECT" -c "$T_CONF" -f "$t_s" "$@" >"$T_DIR/inj.out" \
		2>"$T_DIR/inj.err"
	INJ_RC=$?
	[ "$INJ_RC" -eq 0 ] || sed 's/^/# inject: /' "$T_DIR/inj.err"
}

# files ADDR MSGID: ADDR's maildir files mentioning <MSGID> (a copy, an
# owner copy or a notice in reply to it), one path a line
files() {
	[ -d "$MD/$1" ] || return 0
	find "$MD/$1" -type f -exec grep -liF "<$2>" {} +
}
# copies ADDR MSGID: how many copies of the post ADDR has (Message-ID)
copies() {
	if [ -d "$MD/$1" ]; then
		find "$MD/$1" -type f -exec grep -liF "Message-ID: <$2>" {} + |
			wc -l
	else
		echo 0
	fi
}
# mentions MSGID: files in anybody's maildir mentioning <MSGID>
mentions() {
	find "$MD" -type f -exec grep -liF "<$1>" {} + | wc -l
}
hdr() { $PY "$T_DIR/h.py" hdr "$1" "$2"; }
subj() { $PY "$T_DIR/h.py" subj "$1"; }

waiting_rows() {
	t_w=$(sql "SELECT count(*) FROM outbound
		WHERE state IN ('queued', 'deferred')")
	echo "${t_w:-0}"
}
t_settled() {
	spool_settled && [ "$(waiting_rows)" -eq 0 ]
}
# settle DESC: bounded wait until the spool and the queue are empty
settle() {
	wait_until "$T_WAIT" t_settled ||
		diag "not settled ($1): $(waiting_rows) rows waiting"
}
# processed MSGID: the dispatcher has recorded the message
t_processed() {
	[ "$(inbound_count "message_id = '$1'")" -ge 1 ]
}
# deliver MSGID: wait until recorded and everything sent
deliver() {
	wait_until "$T_WAIT" t_processed "$1" || diag "$1 not recorded"
	settle "$1"
}

# --- members -------------------------------------------------------------

"$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	karin@example.org dora@example.dk nils@example.dk >/dev/null &&
	"$MLMCTL" -c "$T_CONF" add sweden karin@example.org sven@example.se \
		>/dev/null &&
	"$MLMCTL" -c "$T_CONF" add news ned@example.org >/dev/null ||
	bail "mlmctl add failed"
sql "UPDATE members SET digest = 1 WHERE address = 'dora@example.dk';
	UPDATE members SET nomail = 1 WHERE address = 'nils@example.dk'" ||
	bail "cannot set digest/nomail"

# --- 1. a member's post: the decorated copy ------------------------------

post "Amira Haddad <amira@example.net>" "Re: [DK] Mentor day" p1@example.net \
	"Approved: hunter2" "Return-Receipt-To: amira@example.net" \
	"Disposition-Notification-To: amira@example.net" \
	"Delivered-To: amira-inbox@example.net" >"$T_DIR/p1.eml"
inject amira@example.net "denmark@$D" <"$T_DIR/p1.eml"
is "$INJ_RC" 0 "a member's post is injected"
deliver p1@example.net
for a in amira@example.net bo@example.dk karin@example.org; do
	is "$(copies $a p1@example.net)" 1 "member $a has exactly one copy"
done
is "$(copies dora@example.dk p1@example.net)" 0 \
	"a digest member (digest=1) gets no copy"
is "$(copies nils@example.dk p1@example.net)" 0 \
	"a nomail member (nomail=1) gets no copy"
is "$(copies sven@example.se p1@example.net)" 0 \
	"a member of another list gets no copy"

f=$(files bo@example.dk p1@example.net | head -1)
[ -n "$f" ] || f=/dev/null
like "$(hdr "$f" List-Id)" '^[^<]*<denmark\.lists\.mlmd\.test>$' \
	"List-Id <denmark.lists.mlmd.test>"
is "$(hdr "$f" List-Post)" "<mailto:denmark@$D>" "List-Post"
like "$(hdr "$f" List-Unsubscribe)" "mailto:denmark\+unsubscribe@$D" \
	"List-Unsubscribe"
like "$(hdr "$f" List-Archive)" '^<https?://.*/archive/denmark/>$' \
	"List-Archive"
like "$(hdr "$f" Archived-At)" \
	'^<https?://.*/archive/denmark/m/[0-9a-f]{16}\.html>$' "Archived-At"
is "$(hdr "$f" Precedence)" list "Precedence: list"
is "$(hdr "$f" X-Loop)" "denmark@$D" "X-Loop: denmark@$D"
is "$(hdr "$f" Subject)" "Re: [DK] Mentor day" \
	"the prefix is not doubled on 'Re: [DK] x'"
is "$(hdr "$f" Return-Path)" "<denmark+bounce@$D>" \
	"envelope sender denmark+bounce@$D"
is "$(hdr "$f" Delivered-To)" "bo@example.dk" \
	"the original Delivered-To is removed (only the relay's is there)"
is "$(hdr "$f" Approved)$(hdr "$f" Return-Receipt-To)$(hdr "$f" \
	Disposition-Notification-To)" "" \
	"Approved, Return-Receipt-To, Disposition-Notification-To removed"
ok "the Danish footer is appended" grep -q '^Mailinglisten denmark: ' "$f"
ok "the footer names the unsubscribe address" \
	grep -q "^Afmeld dig .*denmark+unsubscribe@$D" "$f"
ok "the body is kept" grep -q '^post p1@example.net from post\.$' "$f"

# --- 2. prefix added; an encoded-word subject stays valid ----------------

post "Bo <bo@example.dk>" "Mentor day in Odense" p2@example.net \
	>"$T_DIR/p2.eml"
inject bo@example.dk "denmark@$D" <"$T_DIR/p2.eml"
post "Bo <bo@example.dk>" \
	"=?UTF-8?Q?M=C3=B8de_i_K=C3=B8benhavn_=E2=80=93_n=C3=A6ste_uge?=" \
	p3@example.net >"$T_DIR/p3.eml"
inject bo@example.dk "denmark@$D" <"$T_DIR/p3.eml"
deliver p2@example.net
deliver p3@example.net
f=$(files karin@example.org p2@example.net | head -1)
is "$(hdr "${f:-/dev/null}" Subject)" "[DK] Mentor day in Odense" \
	"the prefix is added to a subject without it"
f=$(files karin@example.org p3@example.net | head -1)
is "$(subj "${f:-/dev/null}")" "[DK] Møde i København – næste uge" \
	"an encoded-word subject is valid after the prefix (decodes right)"
ok "the encoded subject is 7-bit and no line is longer than 998" \
	awk 'length($0) > 998 { bad = 1 } /^$/ { exit } END { exit bad }' \
	"${f:-/dev/null}"
is "$(copies bo@example.dk p3@example.net)" 1 "the author gets one copy"

# --- 3. a non-member's post is held, the sender told -----------------------

post "Stranger <stranger@example.com>" "Buy now" p4@example.net \
	>"$T_DIR/p4.eml"
inject stranger@example.com "denmark@$D" <"$T_DIR/p4.eml"
deliver p4@example.net
is "$(sql "SELECT count(*) FROM held WHERE list = 'denmark' AND
	message_id = 'p4@example.net' AND state = 'held'")" 1 \
	"a non-member's post is held (held row)"
for a in amira@example.net bo@example.dk karin@example.org; do
	is "$(copies $a p4@example.net)" 0 "held: member $a gets nothing"
done
f=$(files stranger@example.com p4@example.net | head -1)
ok "the non-member gets a notice" test -n "$f"
is "$(hdr "${f:-/dev/null}" Return-Path)" "<>" "the notice is sent from <>"
like "$(hdr "${f:-/dev/null}" In-Reply-To)" '<p4@example.net>' \
	"the notice refers to the post"
like "$(subj "${f:-/dev/null}")" 'venter på godkendelse' \
	"the notice is in the list's language (Danish)"

# --- 4. loops are held, nobody gets anything ------------------------------

post "Amira Haddad <amira@example.net>" "Looped" p5@example.net \
	"List-Id: Migrant entrepreneurs in Denmark <denmark.lists.mlmd.test>" \
	>"$T_DIR/p5.eml"
inject amira@example.net "denmark@$D" <"$T_DIR/p5.eml"
post "Amira Haddad <amira@example.net>" "Looped again" p6@example.net \
	"X-Loop: denmark@lists.mlmd.test" >"$T_DIR/p6.eml"
inject amira@example.net "denmark@$D" <"$T_DIR/p6.eml"
deliver p5@example.net
deliver p6@example.net
is "$(sql "SELECT count(*) FROM held WHERE message_id = 'p5@example.net'
	AND state = 'held'")" 1 "a post with our List-Id is held"
is "$(mentions p5@example.net)" 0 \
	"List-Id loop: nobody gets anything (no copy, no notice)"
is "$(sql "SELECT count(*) FROM held WHERE message_id = 'p6@example.net'
	AND state = 'held'")" 1 "a post with X-Loop: denmark@$D is held"
is "$(mentions p6@example.net)" 0 \
	"X-Loop loop: nobody gets anything (no copy, no notice)"

# --- 5. automatic mail goes to the owners ----------------------------------

# auto_case ID ENVELOPE-SENDER FROM HEADER DESC
auto_case() {
	post "$3" "Automatic $1" "$1" ${4:+"$4"} >"$T_DIR/$1.eml"
	inject "$2" "denmark@$D" <"$T_DIR/$1.eml"
	deliver "$1"
	is "$(copies owner@example.org "$1")" 1 \
		"$5: the owner gets it"
	is "$(($(copies amira@example.net "$1") + $(copies bo@example.dk "$1") \
		+ $(copies karin@example.org "$1")))" 0 "$5: members do not"
}
auto_case a1@example.net amira@example.net "Amira <amira@example.net>" \
	"Auto-Submitted: auto-replied" "Auto-Submitted: auto-replied"
auto_case a2@example.net amira@example.net "Amira <amira@example.net>" \
	"Precedence: bulk" "Precedence: bulk"
auto_case a3@example.net "<>" "Amira <amira@example.net>" "" \
	"null envelope sender"
auto_case a4@example.net relay@example.dk \
	"Postmaster <MAILER-DAEMON@example.dk>" "" "From: MAILER-DAEMON"
auto_case a5@example.net MAILER-DAEMON@example.dk "Amira <amira@example.net>" \
	"" "envelope sender MAILER-DAEMON"
f=$(files owner@example.org a1@example.net | head -1)
like "$(hdr "${f:-/dev/null}" X-Mlmd-Owner-Reason)" '.' \
	"the owner copy says why it came (X-Mlmd-Owner-Reason)"

# --- 6. max_size (denmark: 20K) -------------------------------------------

post "Karin <karin@example.org>" "Big" p7@example.net >"$T_DIR/p7.eml"
$PY -c 'import sys
sys.stdout.write(("y" * 70 + "\n") * 450)' >>"$T_DIR/p7.eml"
inject karin@example.org "denmark@$D" <"$T_DIR/p7.eml"
is "$INJ_RC" 65 "mlmd-inject: a post over the list's max_size exits 65"
like "$(cat "$T_DIR/inj.err")" 'denmark' \
	"mlmd-inject: the error message names the list"
$PY "$T_DIR/h.py" lmtp "$T_SOCK" "$T_DIR/p7.eml" karin@example.org \
	"denmark@$D" "sweden@$D" >"$T_DIR/lmtp7.out" 2>&1
is "$(grep "^denmark@" "$T_DIR/lmtp7.out" | cut -d' ' -f2-3)" "552 5.3.4" \
	"LMTP: 552 5.3.4 for denmark (over its max_size)"
is "$(grep "^sweden@" "$T_DIR/lmtp7.out" | cut -d' ' -f2-3)" "250 2.0.0" \
	"LMTP: 250 for sweden in the same transaction" ||
	sed 's/^/# /' "$T_DIR/lmtp7.out"
deliver p7@example.net
is "$(copies sven@example.se p7@example.net)" 1 "sweden's member gets it"
is "$(copies bo@example.dk p7@example.net)" 0 "denmark's member does not"
is "$(copies karin@example.org p7@example.net)" 1 \
	"a member of both gets it once (through sweden)"

# --- 7. posting = announce (news) -----------------------------------------

post "Ned <ned@example.org>" "My news" p8@example.net >"$T_DIR/p8.eml"
inject ned@example.org "news@$D" <"$T_DIR/p8.eml"
post "Editor <editor@example.org>" "Newsletter" p9@example.net \
	>"$T_DIR/p9.eml"
inject editor@example.org "news@$D" <"$T_DIR/p9.eml"
deliver p8@example.net
deliver p9@example.net
is "$(sql "SELECT count(*) FROM held WHERE list = 'news' AND
	message_id = 'p8@example.net'")" 1 "announce: a member's post is held"
is "$(copies ned@example.org p8@example.net)" 0 \
	"announce: the held post is not sent"
is "$(copies ned@example.org p9@example.net)" 1 \
	"announce: the owner's post goes out to the members"

# --- 8. umbrella list and cross-posts: one copy per person -----------------

post "Karin <karin@example.org>" "To everyone" p10@example.net \
	>"$T_DIR/p10.eml"
inject karin@example.org "all@$D" <"$T_DIR/p10.eml"
deliver p10@example.net
is "$(copies karin@example.org p10@example.net)" 1 \
	"umbrella: a member of denmark and sweden gets one copy"
is "$(copies sven@example.se p10@example.net)$(copies bo@example.dk \
	p10@example.net)" 11 "umbrella: members of each included list get it"
is "$(copies dora@example.dk p10@example.net)" 0 \
	"umbrella: digest members still get no copy"

# one envelope, two lists
post "Karin <karin@example.org>" "Nordic meetup" p11@example.net |
	sed "s/^To: .*/To: denmark@$D, sweden@$D/" >"$T_DIR/p11.eml"
$PY "$T_DIR/h.py" lmtp "$T_SOCK" "$T_DIR/p11.eml" karin@example.org \
	"denmark@$D" "sweden@$D" >"$T_DIR/lmtp11.out" 2>&1
is "$(cut -d' ' -f2 "$T_DIR/lmtp11.out" | tr '\n' ' ')" "250 250 " \
	"cross-post in one envelope: accepted for both lists"
deliver p11@example.net
is "$(copies karin@example.org p11@example.net)" 1 \
	"cross-post (one envelope): a member of both gets one copy"
is "$(copies bo@example.dk p11@example.net)$(copies sven@example.se \
	p11@example.net)" 11 "cross-post (one envelope): each list's members"
is "$(sql "SELECT group_concat(list, ',') FROM (SELECT list FROM messages
	WHERE message_id = 'p11@example.net' ORDER BY list)")" \
	"denmark,sweden" "cross-post (one envelope): a messages row per list"

# two injections of one message
post "Karin <karin@example.org>" "Nordic meetup II" p12@example.net |
	sed "s/^To: .*/To: denmark@$D, sweden@$D/" >"$T_DIR/p12.eml"
inject karin@example.org "denmark@$D" <"$T_DIR/p12.eml"
deliver p12@example.net
inject karin@example.org "sweden@$D" <"$T_DIR/p12.eml"
wait_inbound 2 "message_id = 'p12@example.net'"
settle p12
is "$(copies karin@example.org p12@example.net)" 1 \
	"cross-post (two injections): a member of both gets one copy"
is "$(copies bo@example.dk p12@example.net)$(copies sven@example.se \
	p12@example.net)" 11 "cross-post (two injections): each list's members"
is "$(sql "SELECT group_concat(list, ',') FROM (SELECT list FROM messages
	WHERE message_id = 'p12@example.net' ORDER BY list)")" \
	"denmark,sweden" "cross-post (two injections): a messages row per list"

# --- 9. a post without a Message-ID gets one ----------------------------

post "Bo <bo@example.dk>" "No identity" unused@example.net |
	sed '/^Message-ID:/d' >"$T_DIR/p13.eml"
inject bo@example.dk "denmark@$D" <"$T_DIR/p13.eml"
t_p13() {
	grep -qF "Subject: [DK] No identity" -r "$MD/bo@example.dk"
}
ok "a post without a Message-ID is delivered" wait_until "$T_WAIT" t_p13
settle p13
f=$(grep -lF "Subject: [DK] No identity" -r "$MD/bo@example.dk" | head -1)
like "$(hdr "${f:-/dev/null}" Message-ID | tr '\n' ' ')" \
	"^<[^ ]+@$D> \$" "it goes out with one Message-ID <SPOOLID@$D>"
id=$(hdr "${f:-/dev/null}" Message-ID | tr -d '<>')
is "$(sql "SELECT count(*) FROM messages WHERE list = 'denmark' AND
	message_id = '$id'")" 1 "the archive row has that Message-ID"

# --- 10. notices to one address: at most 5 a day -------------------------

notices() { # notices ADDR: files in ADDR's maildir
	find "$MD/$1" -type f 2>/dev/null | wc -l
}

# One at a time: the sixth and seventh held posts get no notice.
i=1
while [ $i -le 7 ]; do
	post "Seq <seq@example.com>" "Seq $i" seq$i@example.net |
		inject seq@example.com "denmark@$D"
	deliver seq$i@example.net
	i=$((i + 1))
done
is "$(notices seq@example.com)" 5 \
	"7 held posts one after the other: 5 notices (the daily limit)"

# A burst: 7 posts waiting in the spool when mlmd starts are prepared in
# one dispatcher round, before any of their notices is in the queue.
daemon_stop
i=1
while [ $i -le 7 ]; do
	post "Burst <burst@example.com>" "Burst $i" burst$i@example.net |
		inject burst@example.com "denmark@$D"
	i=$((i + 1))
done
daemon_start || bail "mlmd did not restart"
wait_inbound 7 "sender = 'burst@example.com'"
settle burst
is "$(sql "SELECT count(*) FROM held WHERE sender = 'burst@example.com'")" 7 \
	"a burst of 7 non-member posts: all held"
is "$(notices burst@example.com)" 5 \
	"a burst of 7 held posts: 5 notices (the daily limit)"

# --- 11. the event log, the queue --------------------------------------------

ok "the event log has 'post' rows for denmark" \
	test "$(sql "SELECT count(*) FROM event_log WHERE list = 'denmark'
		AND kind = 'post'")" -ge 5
is "$(sql "SELECT count(*) FROM messages m WHERE list IN ('denmark',
	'sweden', 'news', 'all') AND NOT EXISTS (SELECT 1 FROM event_log e
	WHERE e.kind = 'post' AND e.list = m.list AND e.ref = m.id)")" 0 \
	"every archived post has its 'post' event"
is "$(sql "SELECT count(*) FROM outbound WHERE state <> 'sent'")" 0 \
	"every queued copy was sent"
is "$(sql "SELECT count(*) FROM (SELECT message_id, recipient FROM outbound
	WHERE kind = 'post' GROUP BY 1, 2 HAVING count(*) > 1)")" 0 \
	"the queue never has two post copies of one message for one address"
is "$(find "$T_HOME/out" -type f 2>/dev/null | wc -l)" 0 \
	"no copy file is left under HOME/out/"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
