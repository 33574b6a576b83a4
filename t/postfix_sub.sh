#!/bin/sh
# postfix_sub.sh - a member's whole life end to end through a real MTA:
# every mail to mlmd is submitted to a private Postfix (t/lib.sh pf_start),
# which hands it to mlmd by LMTP; every mail from mlmd goes out through
# relay = smtp://Postfix, and Postfix relays it to t/helpers/smtp_sink.py,
# which dumps each message with its envelope (X-Sink-From, X-Sink-To):
#
#   swaks -> Postfix smtpd -> LMTP -> mlmd -> Postfix smtpd -> smtp_sink.py
#   curl  -> mlmd's web front door (one-click unsubscribe)
#
# The life: joining by an empty mail to LIST+subscribe@ (a Danish
# confirmation from the null sender), confirming by a reply, a post with
# her own List-Unsubscribe, "nomail on" by -request (confirmed; posts stop),
# "nomail off" and "language ar" in one mail (confirmed in Arabic; posts
# again, mlmd's mails in Arabic from then on), RFC 8058 one-click
# unsubscribe with the URL of her copy (goodbye in Arabic), subscribing
# again by -request, and "forget" (confirmed; nothing about her is left,
# a last mail says so).  Then the hostile cases through the MTA: a DSN
# from the null sender and an auto-reply, each sent to a pending
# confirmation address, confirm nothing and get no answer, and Postfix
# never bounces anything (no loop between the two).
#
# The member's domains (example.net, example.org) go to smtp_sink.py, the
# list domain to mlmd's LMTP socket, anything else to Postfix's error
# transport.  Every process is started here or by lib.sh and stopped by
# PID (or `postfix stop` for the instance).
. "${top_srcdir:-.}/t/lib.sh"

PATH=$PATH:/usr/sbin
[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
why=$(pf_can_run) || skip_all "$why"
command -v swaks >/dev/null || skip_all "swaks is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
$PY -c 'import aiosmtpd' 2>/dev/null || skip_all "python3-aiosmtpd missing"

plan 95

D=$T_DOMAIN
L=leila@example.net      # the participant whose life this is
B=bo@example.org         # a member who posts
O=omar@example.org       # has a pending confirmation in the hostile part
MD=MAILER-DAEMON@example.org

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

cat >"$T_DIR/h.py" <<'EOF'
import email, email.policy, re, sys

m = email.message_from_binary_file(open(sys.argv[2], "rb"),
                                   policy=email.policy.default)
cmd = sys.argv[1]
if cmd == "hdr":      # hdr FILE NAME: the decoded value, one line
    v = m.get(sys.argv[3])
    print("" if v is None else " ".join(str(v).split()))
elif cmd == "token":  # token FILE: the token of the Reply-To address
    r = str(m.get("Reply-To", ""))
    g = re.search(r"\+confirm-([a-z0-9-]+)@", r)
    print(g.group(1) if g else "")
elif cmd == "unsub":  # unsub FILE http|mailto: from List-Unsubscribe
    v = " ".join(str(m.get("List-Unsubscribe", "")).split())
    for u in re.findall(r"<([^>]*)>", v):
        if u.startswith(sys.argv[3]):
            print(u)
EOF
h() { $PY "$T_DIR/h.py" "$@"; }

# dumps: the sink's message files, oldest first (it numbers them).
dumps() {
	find "$PY_DIR" -name '*.eml' 2>/dev/null | sort
}

# mails ADDR: the dumps with ADDR as an envelope recipient, oldest first.
mails() {
	dumps | while read -r t_f; do
		grep -qix "X-Sink-To: $1.\{0,1\}" "$t_f" && echo "$t_f"
	done
}
count() { mails "$1" | wc -l; }
newest() { mails "$1" | tail -n 1; }
t_count_ge() { [ "$(count "$1")" -ge "$2" ]; }
# wait_mail ADDR N: until ADDR has at least N mails at the sink
wait_mail() { wait_until "$T_WAIT" t_count_ge "$1" "$2"; }

# copies MID ADDR: how many copies of the post MID reached ADDR.
copies() {
	mails "$2" | while read -r t_f; do
		grep -qi "^Message-I[Dd]: <$1>" "$t_f" && echo "$t_f"
	done | wc -l
}
t_copies_ge() { [ "$(copies "$1" "$2")" -ge "$3" ]; }
copy_of() {
	mails "$2" | while read -r t_f; do
		grep -qi "^Message-I[Dd]: <$1>" "$t_f" && echo "$t_f"
	done | head -n 1
}

# envfrom FILE: the envelope sender the sink saw ("<>" for the null
# sender, which aiosmtpd records as "<>" or "").
envfrom() {
	t_s=$(sed -n '1s/^X-Sink-From: *//p' "$1" | tr -d '\r')
	echo "${t_s:-<>}"
}

N=0
# send ENVFROM TO SUBJECT BODY [HEADER LINES]: write a message (From:
# ENVFROM, or MAILER-DAEMON for "<>") and submit it to Postfix's smtpd
# with swaks; its Message-ID is pfs$N@example.test.
send() {
	N=$((N + 1))
	t_from=$1
	[ "$t_from" != "<>" ] || t_from=$MD
	{
		printf 'From: %s\nTo: %s\nSubject: %s\n' "$t_from" "$2" "$3"
		printf 'Message-ID: <pfs%s@example.test>\n' "$N"
		printf 'Date: Sun, 29 Nov 2026 10:00:00 +0100\n'
		[ -z "${5:-}" ] || printf '%s\n' "$5"
		printf 'MIME-Version: 1.0\n'
		case ${5:-} in
		*Content-Type:*) ;;
		*) printf 'Content-Type: text/plain; charset=utf-8\n' ;;
		esac
		printf '\n%s\n' "$4"
	} >"$T_DIR/m$N.eml"
	swaks --server 127.0.0.1 --port "$PF_PORT" --from "$1" --to "$2" \
		--data "@$T_DIR/m$N.eml" >"$T_DIR/swaks.$N.out" 2>&1 || {
		diag "swaks failed:"
		tail -n 5 "$T_DIR/swaks.$N.out" | sed 's/^/# /'
		return 1
	}
}

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

member() {
	sql "SELECT count(*) FROM members WHERE list='denmark' AND address='$1'"
}
# web METHOD URL [curl args]: the status code; the page in $T_DIR/page
web() {
	t_m=$1
	t_u=$2
	shift 2
	curl -s -m 20 -o "$T_DIR/page" -w '%{http_code}' -X "$t_m" "$@" "$t_u"
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
"$MLMD" -c "$T_CONF" -n 2>&1 | grep -E '^(relay|http|base_url) ' |
	sort >"$T_DIR/eff"
is "$(tr '\n' ' ' <"$T_DIR/eff")" \
	"base_url = \"$W\" http = \"127.0.0.1:$HTTP_PORT\" relay = \"smtp://127.0.0.1:$PF_PORT\" " \
	"the later relay, http and base_url lines win"
daemon_start || bail "mlmd did not start"
ok "bo is added as a member" mlmctl add denmark "$B"

# --- 1. joining: an empty mail to denmark+subscribe@ -------------------------

ok "Postfix accepts an empty mail to denmark+subscribe@" \
	send "$L" "denmark+subscribe@$D" "" ""
ok "a confirmation arrives at the sink through Postfix" wait_mail "$L" 1
f=$(newest "$L")
[ -n "$f" ] || f=/dev/null
tok=$(h token "$f")
like "$tok" '^[a-z0-9]+-[a-z0-9]+-[a-z2-7]{21}$' "Reply-To carries a token"
like "$(h hdr "$f" Reply-To)" "^denmark\\+confirm-$tok@$D\$" \
	"Reply-To: denmark+confirm-TOKEN@"
like "$(h hdr "$f" From)" "denmark-request@$D" "From: denmark-request@"
is "$(h hdr "$f" Content-Language)" da "in the list's language (da)"
is "$(envfrom "$f")" "<>" "sent from the null sender (MAIL FROM:<>)"
is "$(h hdr "$f" Auto-Submitted)" auto-replied "Auto-Submitted: auto-replied"
is "$(member "$L")" 0 "not a member before confirming"

# --- 2. confirming by a reply --------------------------------------------------

subj=$(h hdr "$f" Subject)
ok "Postfix accepts her reply to the Reply-To address" \
	send "$L" "denmark+confirm-$tok@$D" "Re: $subj" "Ja tak.

> $(h hdr "$f" Subject)
> quoted text of the confirmation"
ok "a welcome arrives" wait_mail "$L" 2
is "$(member "$L")" 1 "she is a member"
f=$(newest "$L")
like "$(h hdr "$f" Subject)" "Velkommen" "the Danish welcome"
is "$(envfrom "$f")" "<>" "the welcome comes from the null sender too"
like "$(sql "SELECT how FROM consents WHERE address='$L' AND
	action='subscribe'")" "^confirmed by mail <pfs2@example.test>" \
	"consent recorded with the reply's Message-ID"

# --- 3. a post reaches her once, with her own one-click link -------------------

ok "Postfix accepts bo's post" send "$B" "denmark@$D" "Hej" "Hej alle sammen"
MID=pfs$N@example.test
ok "her copy arrives" wait_until "$T_WAIT" t_copies_ge "$MID" "$L" 1
ok "mlmd and Postfix settle" settle
is "$(copies "$MID" "$L")" 1 "exactly one copy"
f=$(copy_of "$MID" "$L")
[ -n "$f" ] || f=/dev/null
u=$(h unsub "$f" http)
mt=$(h unsub "$f" mailto)
like "$u" "^$W/u/denmark/[a-z0-9-]+\$" "List-Unsubscribe has her URL"
like "$mt" "^mailto:denmark\\+unsubscribe-[a-z0-9-]+@$D\$" \
	"and her mailto"
is "$(h hdr "$f" List-Unsubscribe-Post)" "List-Unsubscribe=One-Click" \
	"List-Unsubscribe-Post (RFC 8058)"
is "$(grep -ci '^List-Unsubscribe:' "$f")" 1 "exactly one List-Unsubscribe"
like "$(envfrom "$f")" "^denmark\\+bounce" \
	"the copy's envelope sender is the list's bounce address"
ub=$(h unsub "$(copy_of "$MID" "$B")" http)
ok "bo's copy carries a link of its own" \
	test -n "$ub" -a "$ub" != "$u"

# --- 4. nomail on, confirmed: posts stop ----------------------------------------

n=$(count "$L")
ok "Postfix accepts 'nomail on' to denmark-request@" \
	send "$L" "denmark-request@$D" "Ferie" "nomail on"
ok "a confirmation arrives" wait_mail "$L" $((n + 1))
f=$(newest "$L")
tok=$(h token "$f")
like "$tok" '^[a-z0-9]+-[a-z0-9]+-[a-z2-7]{21}$' "with a token"
is "$(sql "SELECT nomail FROM members WHERE list='denmark' AND
	address='$L'")" 0 "nothing changed yet"
ok "Postfix accepts her reply" \
	send "$L" "denmark+confirm-$tok@$D" "Re: $(h hdr "$f" Subject)" \
	"> nomail on"
ok "the results arrive" wait_mail "$L" $((n + 2))
is "$(sql "SELECT nomail FROM members WHERE list='denmark' AND
	address='$L'")" 1 "nomail is on"
ok "Postfix accepts bo's next post" \
	send "$B" "denmark@$D" "Hej igen" "Hej igen"
MID=pfs$N@example.test
ok "bo's copy arrives" wait_until "$T_WAIT" t_copies_ge "$MID" "$B" 1
ok "mlmd and Postfix settle" settle
is "$(copies "$MID" "$L")" 0 "the post does not reach her"
is "$(count "$L")" $((n + 2)) "nor anything else"

# --- 5. nomail off and language ar in one mail ------------------------------------

n=$(count "$L")
ok "Postfix accepts 'nomail off' + 'language ar'" \
	send "$L" "denmark-request@$D" "Tilbage" "nomail off
language ar"
ok "one confirmation arrives" wait_mail "$L" $((n + 1))
f=$(newest "$L")
tok=$(h token "$f")
is "$(h hdr "$f" Content-Language)" ar "in Arabic (Content-Language: ar)"
like "$(h hdr "$f" Subject)" "يرجى التأكيد" "the Arabic subject"
ok "Postfix accepts her reply" \
	send "$L" "denmark+confirm-$tok@$D" "Re: $(h hdr "$f" Subject)" ""
ok "the results arrive" wait_mail "$L" $((n + 2))
is "$(h hdr "$(newest "$L")" Content-Language)" ar "the results in Arabic"
is "$(sql "SELECT nomail || language FROM members WHERE list='denmark' AND
	address='$L'")" "0ar" "nomail off, language ar"
ok "Postfix accepts bo's next post" \
	send "$B" "denmark@$D" "Og igen" "Og igen"
MID=pfs$N@example.test
ok "the post reaches her again" \
	wait_until "$T_WAIT" t_copies_ge "$MID" "$L" 1
ok "mlmd and Postfix settle" settle
is "$(copies "$MID" "$L")" 1 "once"
u=$(h unsub "$(copy_of "$MID" "$L")" http)
like "$u" "^$W/u/denmark/[a-z0-9-]+\$" "with her one-click URL"

# --- 6. one-click unsubscribe (RFC 8058) ---------------------------------------

n=$(count "$L")
is "$(web POST "$u" -d List-Unsubscribe=One-Click)" 200 \
	"curl -X POST -d List-Unsubscribe=One-Click: 200"
is "$(member "$L")" 0 "she is no member"
ok "a goodbye arrives through Postfix" wait_mail "$L" $((n + 1))
f=$(newest "$L")
is "$(h hdr "$f" Content-Language)" ar "the goodbye in Arabic"
is "$(envfrom "$f")" "<>" "from the null sender"
like "$(sql "SELECT how FROM consents WHERE address='$L' AND
	action='unsubscribe'")" "^one-click on the web from 127.0.0.1" \
	"consent record of the unsubscription"

# --- 7. subscribing again by -request ----------------------------------------------

n=$(count "$L")
ok "Postfix accepts 'subscribe' to denmark-request@" \
	send "$L" "denmark-request@$D" "Igen" "subscribe"
ok "a confirmation arrives" wait_mail "$L" $((n + 1))
f=$(newest "$L")
tok=$(h token "$f")
like "$tok" '^[a-z0-9]+-[a-z0-9]+-[a-z2-7]{21}$' "with a token"
is "$(h hdr "$f" Content-Language)" ar "still in her language (ar)"
ok "Postfix accepts her reply" \
	send "$L" "denmark+confirm-$tok@$D" "Re: $(h hdr "$f" Subject)" ""
ok "a welcome arrives" wait_mail "$L" $((n + 2))
is "$(member "$L")" 1 "a member again"
is "$(h hdr "$(newest "$L")" Content-Language)" ar "the welcome in Arabic"

# --- 8. forget ---------------------------------------------------------------------

n=$(count "$L")
ok "Postfix accepts 'forget' to denmark-request@" \
	send "$L" "denmark-request@$D" "" "forget"
ok "a confirmation arrives" wait_mail "$L" $((n + 1))
f=$(newest "$L")
tok=$(h token "$f")
is "$(member "$L")" 1 "nothing erased yet"
ok "Postfix accepts her reply" \
	send "$L" "denmark+confirm-$tok@$D" "Re: $(h hdr "$f" Subject)" ""
ok "a last mail arrives" wait_mail "$L" $((n + 2))
f=$(newest "$L")
like "$(h hdr "$f" Subject)" "حُذفت بياناتك" \
	"it says her data is deleted (forgotten.txt)"
is "$(h hdr "$f" Content-Language)" ar "in her language (ar)"
is "$(sql "SELECT (SELECT count(*) FROM members WHERE address='$L') +
	(SELECT count(*) FROM persons WHERE address='$L') +
	(SELECT count(*) FROM consents WHERE address='$L') +
	(SELECT count(*) FROM tokens WHERE address='$L')")" 0 \
	"no row in members, persons, consents, tokens holds her address"

# --- 9. hostile: a DSN and an auto-reply to a confirmation address -------------------

ok "Postfix accepts omar's empty mail to denmark+subscribe@" \
	send "$O" "denmark+subscribe@$D" "" ""
ok "his confirmation arrives" wait_mail "$O" 1
otok=$(h token "$(newest "$O")")
like "$otok" '^[a-z0-9]+-[a-z0-9]+-[a-z2-7]{21}$' "with a token"
CA=denmark+confirm-$otok@$D
ok "Postfix accepts a DSN from <> to the confirmation address" \
	send "<>" "$CA" "Undelivered Mail Returned to Sender" \
	"--pfs-dsn
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be
delivered to one or more recipients.

--pfs-dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; $O
Action: failed
Status: 5.1.1

--pfs-dsn--" \
	"Auto-Submitted: auto-replied
Content-Type: multipart/report; report-type=delivery-status; boundary=\"pfs-dsn\""
ok "Postfix accepts omar's auto-reply to the confirmation address" \
	send "$O" "$CA" "Automatisk svar: $(h hdr "$(newest "$O")" Subject)" \
	"Jeg er på ferie." "Auto-Submitted: auto-replied"
ok "both reach mlmd" wait_inbound 2 "recipient = '$CA'"
ok "mlmd and Postfix settle" settle
t_both_logged() {
	[ "$(grep -c "mail not answered" "$T_LOG")" -ge 2 ] &&
		grep -q "not answered: it is a delivery or feedback report" \
			"$T_LOG"
}
ok "mlmd logs both as not answered" t_both_logged
is "$(member "$O")" 0 "omar is not subscribed"
is "$(sql "SELECT used IS NULL FROM tokens WHERE token='$otok'")" 1 \
	"the token is still unused"
is "$(count "$O")" 1 "no answer to omar"
is "$(count "$MD")" 0 "no answer to MAILER-DAEMON"
ok "Postfix bounced nothing (no loop)" test "$(grep -c \
	'status=bounced' "$PF_LOG")" -eq 0

# --- the end -------------------------------------------------------------------------

ok "spool drained" wait_until "$T_WAIT" spool_settled
is "$(spool_count quarantine)" 0 "nothing quarantined"
ok "the private Postfix stops, no process left" pf_stop
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "smtp_sink.py stopped" stop_pid "$PY_PID"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
