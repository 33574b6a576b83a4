#!/bin/sh
# sub.sh - joining and leaving by mail and by web, through the running
# daemon with the maildir relay and the web front door on loopback: the
# one-command addresses, double opt-in by reply and by web form (GET shows,
# only POST acts), the welcome and goodbye, settings by -request commands
# (each confirmed), languages (the member's, else the list's), personal
# one-click unsubscribe in every copy (RFC 8058 POST, urlencoded and
# multipart, and the mailto with its token), GDPR export and forget by
# mail, `mlmctl add --invite/--welcome`, `mlmctl person export/erase`,
# and the hostile cases: forged and expired tokens, subscribing somebody
# else (one confirmation in the window), 100 commands in one mail, quoted
# commands, an auto-reply and a bounce sent to a confirmation address,
# mail from MAILER-DAEMON and from another list.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 109

D=$T_DOMAIN
MD=$T_DIR/maildir
HTTP_PORT=$(free_port)
T_EXTRA="http = \"127.0.0.1:$HTTP_PORT\"
base_url = \"http://127.0.0.1:$HTTP_PORT\""
conf_write
sed -i '/^list denmark {/a\
	digest = weekly' "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"
W=http://127.0.0.1:$HTTP_PORT

# --- helpers ------------------------------------------------------------

cat >"$T_DIR/h.py" <<'EOF'
import email, email.policy, re, sys

def load(path):
    return email.message_from_binary_file(open(path, "rb"),
                                          policy=email.policy.default)

cmd, path = sys.argv[1], sys.argv[2]
m = load(path)
if cmd == "hdr":      # hdr FILE NAME: the decoded value, one line
    v = m.get(sys.argv[3])
    print("" if v is None else " ".join(str(v).split()))
elif cmd == "body":   # body FILE: the text/plain body, decoded
    for p in m.walk():
        if p.get_content_type() == "text/plain":
            print(p.get_content())
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

# inject SENDER RCPT < FILE
inject() {
	t_s=$1
	shift
	"$MLMD_INJECT" -c "$T_CONF" -f "$t_s" "$@" >"$T_DIR/inj.out" \
		2>"$T_DIR/inj.err"
	INJ_RC=$?
	[ "$INJ_RC" -eq 0 ] || sed 's/^/# inject: /' "$T_DIR/inj.err"
	return "$INJ_RC"
}

N=0
# mail FROM TO SUBJECT BODY [EXTRA HEADER LINES]: write and inject one
# message (From: and envelope sender FROM); its Message-ID is m$N@test.
mail() {
	N=$((N + 1))
	{
		printf 'From: %s\nTo: %s\nSubject: %s\n' "$1" "$2" "$3"
		printf 'Message-ID: <m%s@test>\n' "$N"
		printf 'Date: Sun, 29 Nov 2026 10:00:00 +0100\n'
		[ -z "${5:-}" ] || printf '%s\n' "$5"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n\n%s\n' "$4"
	} >"$T_DIR/m$N.eml"
	inject "$1" "$2" <"$T_DIR/m$N.eml"
}

# count ADDR: mails in ADDR's maildir
count() {
	t_d=$MD/$1/new
	[ -d "$t_d" ] || { echo 0; return; }
	find "$t_d" -type f | wc -l
}
t_count_ge() { [ "$(count "$1")" -ge "$2" ]; }
# newest ADDR: ADDR's latest mail
newest() {
	ls -t "$MD/$1/new"/* 2>/dev/null | head -n 1
}
# wait_mail ADDR N: until ADDR has at least N mails
wait_mail() { wait_until "$T_WAIT" t_count_ge "$1" "$2"; }
# settle: the spool is empty and nothing waits in the queue
t_quiet() {
	spool_settled &&
		[ "$(sql "SELECT count(*) FROM outbound WHERE state IN
			('queued','deferred')")" = 0 ]
}
settle() { wait_until "$T_WAIT" t_quiet; }
member() { sql "SELECT count(*) FROM members WHERE list='$1' AND address='$2'"; }
# web METHOD URL [curl args]: the status code; the page in $T_DIR/page
web() {
	t_m=$1
	t_u=$2
	shift 2
	curl -s -o "$T_DIR/page" -w '%{http_code}' -X "$t_m" "$@" "$t_u"
}

# --- joining by mail, confirming by reply ---------------------------------

A=amira@example.net
mail "$A" "denmark+subscribe@$D" "join" "" || bail "inject failed"
ok "a confirmation is mailed to the address" wait_mail "$A" 1
f=$(newest "$A")
tok=$(h token "$f")
like "$tok" '^[a-z0-9]+-[a-z0-9]+-[a-z2-7]{21}$' "it carries a token"
is "$(h hdr "$f" Content-Language)" da "in the list's language (da)"
is "$(h hdr "$f" Auto-Submitted)" auto-replied "Auto-Submitted: auto-replied"
is "$(h hdr "$f" Return-Path)" "<>" "sent from the null sender"
like "$(h hdr "$f" List-Id)" "denmark" "with the list's List-Id (no loops)"
like "$(h body "$f")" "/c/$tok" "and the web link"
is "$(member denmark $A)" 0 "not a member before confirming"
is "$(sql "SELECT count(*) FROM tokens WHERE address='$A' AND used IS NULL")" 1 \
	"one pending confirmation"

mail "$A" "denmark+confirm-$tok@$D" "Re: Bekræft" "> quoted text"
ok "replying confirms: a welcome follows" wait_mail "$A" 2
is "$(member denmark $A)" 1 "now a member"
like "$(h hdr "$(newest "$A")" Subject)" "denmark|Velkommen|velkommen" \
	"the welcome mail"
like "$(sql "SELECT how FROM consents WHERE address='$A' AND action='subscribe'")" \
	"^confirmed by mail <m2@test>" "consent recorded with the reply's Message-ID"
mail "$A" "denmark+confirm-$tok@$D" "Re: again" ""
settle
is "$(count "$A")" 3 "a used token gets an answer ..."
like "$(h body "$(newest "$A")")" "." "... saying it is not valid (any more)"
is "$(member denmark $A)" 1 "and changes nothing"

# --- a post carries the member's own one-click link --------------------------

mail "$A" "denmark@$D" "Hej" "Hej alle sammen"
ok "the member's copy of a post arrives" wait_mail "$A" 4
f=$(newest "$A")
u=$(h unsub "$f" http)
mt=$(h unsub "$f" mailto)
like "$u" "^$W/u/denmark/[a-z0-9-]+$" "List-Unsubscribe has a personal URL"
like "$mt" "^mailto:denmark\\+unsubscribe-[a-z0-9-]+@$D$" \
	"and a personal mailto"
is "$(h hdr "$f" List-Unsubscribe-Post)" "List-Unsubscribe=One-Click" \
	"List-Unsubscribe-Post (RFC 8058)"
is "$(grep -ci '^List-Unsubscribe:' "$f")" 1 "exactly one List-Unsubscribe"

# --- web: GET shows, only POST acts -------------------------------------------

is "$(web GET "$u")" 200 "GET of the unsubscribe link: 200"
like "$(cat "$T_DIR/page")" 'method="post"' "a page with a form"
like "$(cat "$T_DIR/page")" 'lang="da"' "in the member's language"
is "$(member denmark $A)" 1 "GET changed nothing (link scanners)"
is "$(web HEAD "$u")" 200 "HEAD changed nothing either"
is "$(member denmark $A)" 1 "still a member"
bad=$(echo "$u" | sed 's/.$/a/')
[ "$bad" = "$u" ] && bad=$(echo "$u" | sed 's/.$/b/')
is "$(web POST "$bad" -d List-Unsubscribe=One-Click)" 404 \
	"a forged token (one letter changed): 404"
is "$(member denmark $A)" 1 "and nothing changed"
is "$(web POST "$u" -F List-Unsubscribe=One-Click)" 200 \
	"one-click POST, multipart (curl -F): 200"
is "$(member denmark $A)" 0 "unsubscribed at once"
ok "a goodbye follows" wait_mail "$A" 5
like "$(sql "SELECT how FROM consents WHERE address='$A' AND action='unsubscribe'")" \
	"^one-click on the web from 127.0.0.1" "consent record of the unsubscription"
is "$(web POST "$u" -d List-Unsubscribe=One-Click)" 200 \
	"the same link again: 200 ..."
like "$(cat "$T_DIR/page")" "." "... saying they are not subscribed"

# --- resubscribing through -request, confirming on the web --------------------

mail "$A" "denmark-request@$D" "subscribe" ""
ok "subscribe in the subject: a confirmation" wait_mail "$A" 6
tok=$(h token "$(newest "$A")")
is "$(web GET "$W/c/$tok")" 200 "GET of the confirmation link: 200"
like "$(cat "$T_DIR/page")" 'method="post"' "a page with a button"
is "$(member denmark $A)" 0 "GET did not subscribe"
is "$(web POST "$W/c/$tok")" 200 "POST confirms"
is "$(member denmark $A)" 1 "subscribed again"
like "$(sql "SELECT how FROM consents WHERE address='$A' ORDER BY id DESC LIMIT 1")" \
	"^confirmed on the web from" "consent from the web"
is "$(web POST "$W/c/$tok")" 404 "the token is single-use"
is "$(web GET "$W/c/zz-zz-aaaaaaaaaaaaaaaaaaaaa")" 404 "an unknown token: 404"
is "$(web GET "$W/nothing")" 404 "an unknown path: 404"
ok "the welcome arrives" wait_mail "$A" 7

# --- settings by -request, several commands in one mail -----------------------

before=$(count "$A")
mail "$A" "denmark-request@$D" "settings" "nomail on
language ar
which
> unsubscribe
-- 
unsubscribe"
ok "one confirmation for the changes" wait_mail "$A" $((before + 1))
f=$(newest "$A")
is "$(h hdr "$f" Content-Language)" ar "answered in the language asked for (ar)"
tok=$(h token "$f")
is "$(sql "SELECT arg FROM tokens WHERE token='$tok'")" "nomail on
language ar" "the changes wait for the token (quoted and signed lines ignored)"
is "$(sql "SELECT nomail FROM members WHERE list='denmark' AND address='$A'")" 0 \
	"nothing changed yet"
mail "$A" "denmark+confirm-$tok@$D" "Re:" ""
ok "confirming by reply: the results" wait_mail "$A" $((before + 2))
is "$(sql "SELECT nomail || language FROM members WHERE list='denmark' AND address='$A'")" \
	"1ar" "nomail on, language ar"
is "$(sql "SELECT language FROM persons WHERE address='$A'")" ar \
	"the person's language too"
is "$(h hdr "$(newest "$A")" Content-Language)" ar "the results in Arabic"
mail "$A" "denmark@$D" "Hej igen" "Hej"
settle
is "$(ls "$MD/$A/new" | wc -l)" $((before + 2)) "nomail: no copy of a post"

# help, lists, which: answered at once
before=$(count "$A")
mail "$A" "denmark-request@$D" "" "help
lists
which
frobnicate"
ok "help, lists, which, unknown: one answer" wait_mail "$A" $((before + 1))
b=$(h body "$(newest "$A")")
like "$b" "sweden" "lists names the public lists"
like "$b" "denmark" "which names the member's lists"
like "$b" "frobnicate" "the unknown command is quoted back"

# --- hostile: somebody else's address ---------------------------------------

V=victim@example.org
mail "mallory@example.com" "denmark-request@$D" "subscribe" "" \
	"Reply-To: $V"
mail "$V" "denmark+subscribe@$D" "" ""
mail "$V" "denmark+subscribe@$D" "" ""
mail "$V" "denmark-request@$D" "subscribe" ""
settle
is "$(count "$V")" 1 "three requests for the victim: one confirmation"
is "$(count mallory@example.com)" 1 "the forger only gets his own"
is "$(member denmark $V)" 0 "the victim is not subscribed"
ok "the refused ones are logged" grep -q "one is pending" "$T_LOG"

# an auto-reply and a bounce to the victim's confirmation address
vtok=$(h token "$(newest "$V")")
mail "$V" "denmark+confirm-$vtok@$D" "Out of office" "I am away" \
	"Auto-Submitted: auto-replied"
mail "MAILER-DAEMON@example.org" "denmark+confirm-$vtok@$D" \
	"Undelivered Mail Returned to Sender" "bounce"
mail "owner@lists.example.com" "denmark+confirm-$vtok@$D" "digest" "x" \
	"List-Id: <other.lists.example.com>"
# the null sender, with the victim's From: (a bounce that lost its way)
N=$((N + 1))
printf 'From: %s\nTo: denmark+confirm-%s@%s\nSubject: bounce\nMessage-ID: <m%s@test>\n\nx\n' \
	"$V" "$vtok" "$D" "$N" >"$T_DIR/m$N.eml"
"$MLMD_INJECT" -c "$T_CONF" "denmark+confirm-$vtok@$D" <"$T_DIR/m$N.eml" \
	>/dev/null 2>&1
settle
is "$(member denmark $V)" 0 "an auto-reply, a bounce, a list mail, mail from <> confirm nothing"
is "$(count "$V")" 1 "and the victim got nothing more"
is "$(sql "SELECT used IS NULL FROM tokens WHERE token='$vtok'")" 1 \
	"the token is still unused"
is "$(count MAILER-DAEMON@example.org)" 0 "no answer to MAILER-DAEMON"
is "$(count owner@lists.example.com)" 0 "no answer to a list"

# forged and expired tokens by mail
F=fatima@example.org
mail "$F" "denmark+confirm-1-zzzzzz-aaaaaaaaaaaaaaaaaaaaa@$D" "Re:" ""
ok "a forged token gets a clear answer" wait_mail "$F" 1
is "$(member denmark $F)" 0 "and changes nothing"
mail "$F" "sweden+subscribe@$D" "" ""
ok "fatima asks to join sweden" wait_mail "$F" 2
ftok=$(h token "$(newest "$F")")
is "$(h hdr "$(newest "$F")" Content-Language)" sv "in Swedish"
sql "UPDATE tokens SET expires = expires - 10 * 86400 WHERE token='$ftok'" ||
	diag "could not age the token"
mail "$F" "sweden+confirm-$ftok@$D" "Re:" ""
ok "an expired token gets an answer" wait_mail "$F" 3
is "$(member sweden $F)" 0 "and changes nothing"
is "$(web POST "$W/c/$ftok")" 404 "the web refuses it too"

# 100 commands in one mail
cmds=$(i=0; while [ $i -lt 100 ]; do echo help; i=$((i + 1)); done)
mail "$F" "norway-request@$D" "" "$cmds"
ok "100 commands: one answer" wait_mail "$F" 4
is "$(sql "SELECT count(*) FROM outbound WHERE recipient='$F' AND list='norway'")" 1 \
	"exactly one mail"

# --- the mailto with the member's token -----------------------------------------

B=bo@example.dk
"$MLMCTL" -c "$T_CONF" add denmark "$B" >"$T_DIR/add.out" 2>&1
mail "$A" "denmark@$D" "Hej Bo" "Hej"
ok "bo's copy" wait_mail "$B" 1
mt=$(h unsub "$(newest "$B")" mailto)
to=${mt#mailto:}
mail "$A" "all@$D" "Hej alle" "Hej" >/dev/null
ok "bo's copy of a post to the umbrella list" wait_mail "$B" 2
ua=$(h unsub "$(newest "$B")" http)
like "$ua" "^$W/u/all/" "carries a link for the umbrella list"
is "$(web GET "$ua")" 200 "whose page knows him (his denmark membership)"
like "$(cat "$T_DIR/page")" "$B" "and names his address"
mail "$B" "$to" "" ""
ok "a mail to the personal unsubscribe address: a goodbye" wait_mail "$B" 3
is "$(member denmark $B)" 0 "unsubscribed without a further question"
mail "$B" "$to" "" ""
settle
is "$(member denmark $B)" 0 "the same address again: nothing to do"

# --- mlmctl add --invite / --welcome ----------------------------------------------

C=carl@example.org
as_user "$MLMCTL" -c "$T_CONF" add --invite finland "$C" >"$T_DIR/inv.out" 2>&1
like "$(cat "$T_DIR/inv.out")" "invited" "mlmctl add --invite"
ok "the invitation is a confirmation" wait_mail "$C" 1
is "$(member finland $C)" 0 "not a member until they confirm"
is "$(h hdr "$(newest "$C")" Content-Language)" fi "in Finnish"
ctok=$(h token "$(newest "$C")")
mail "$C" "finland+confirm-$ctok@$D" "Re:" ""
ok "confirmed: welcome" wait_mail "$C" 2
like "$(sql "SELECT how FROM consents WHERE address='$C'")" "invited by" \
	"the consent says who invited"
as_user "$MLMCTL" -c "$T_CONF" add --welcome iceland "$C" >"$T_DIR/wel.out" 2>&1
ok "mlmctl add --welcome: the welcome" wait_mail "$C" 3
is "$(member iceland $C)" 1 "added directly"
is "$(h hdr "$(newest "$C")" Content-Language)" is "in Icelandic"

# --- GDPR: export and forget ------------------------------------------------------

as_user "$MLMCTL" -c "$T_CONF" person export "$C" >"$T_DIR/exp.json" 2>&1
ok "mlmctl person export prints JSON" \
	$PY -c "import json,sys; json.load(open(sys.argv[1]))" "$T_DIR/exp.json"
like "$(cat "$T_DIR/exp.json")" '"iceland"' "with the memberships"
before=$(count "$C")
mail "$C" "finland-request@$D" "export" ""
ok "export by mail: a confirmation first" wait_mail "$C" $((before + 1))
ctok=$(h token "$(newest "$C")")
mail "$C" "finland+confirm-$ctok@$D" "Re:" ""
ok "then the data" wait_mail "$C" $((before + 2))
like "$(h body "$(newest "$C")")" '"memberships"' "the mail holds the JSON"

before=$(count "$C")
mail "$C" "finland-request@$D" "forget" ""
ok "forget by mail: a confirmation first" wait_mail "$C" $((before + 1))
is "$(member finland $C)" 1 "nothing erased yet"
ctok=$(h token "$(newest "$C")")
mail "$C" "finland+confirm-$ctok@$D" "Re:" ""
ok "then the last mail" wait_mail "$C" $((before + 2))
is "$(sql "SELECT (SELECT count(*) FROM members WHERE address='$C') +
	(SELECT count(*) FROM persons WHERE address='$C') +
	(SELECT count(*) FROM consents WHERE address='$C') +
	(SELECT count(*) FROM tokens WHERE address='$C')")" 0 \
	"everything about the person is gone"
ok "the counts stay" test "$(sql "SELECT count(*) FROM event_log WHERE kind='subscribe'")" -ge 3

as_user "$MLMCTL" -c "$T_CONF" person erase "$A" >"$T_DIR/erase.out" 2>&1
like "$(cat "$T_DIR/erase.out")" "erased" "mlmctl person erase"
is "$(sql "SELECT count(*) FROM members WHERE address='$A'")" 0 \
	"the memberships are gone"
is "$(sql "SELECT count(*) FROM messages WHERE from_addr='$A'")" 0 \
	"the archive keeps no address of the person"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
