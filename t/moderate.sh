#!/bin/sh
# moderate.sh - moderation by mail through the running daemon (maildir
# relay): every moderator gets each held post attached with a reply
# address of their own; the reply's first word decides (approve, approve
# always, reject REASON, discard; a plain reply approves; another word
# decides nothing and says so); the first decision wins and the others
# are told, also when two moderators answer at once; a forged or foreign
# token and an automatic reply decide nothing; held posts expire and
# their senders are told.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 64

D=$T_DOMAIN
MD=$T_DIR/maildir
M1=mette@example.org
M2=mentor@example.org
conf_write
sed -i "/^list denmark {/a\\
	moderators = { \"$M1\", \"$M2\" }\\
	owners = { \"owner@example.org\" }" "$T_CONF"
sed -i "/^list sweden {/a\\
	moderators = { \"$M1\" }\\
	moderate_new = true" "$T_CONF"
sed -i "/^list norway {/a\\
	owners = { \"$M2\" }\\
	subscription = moderate" "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	>/dev/null 2>&1

cat >"$T_DIR/h.py" <<'EOF'
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[2], "rb"),
                                   policy=email.policy.default)
cmd = sys.argv[1]
if cmd == "hdr":
    v = m.get(sys.argv[3])
    print("" if v is None else " ".join(str(v).split()))
elif cmd == "body":
    for p in m.walk():
        if p.get_content_type() == "text/plain":
            print(p.get_content())
            break
elif cmd == "attached":  # the Message-ID of the attached message/rfc822
    for p in m.walk():
        if p.get_content_type() == "message/rfc822":
            print(p.get_content()["Message-ID"])
elif cmd == "token":
    g = re.search(r"\+moderate-([a-z0-9-]+)@", str(m.get("Reply-To", "")))
    print(g.group(1) if g else "")
EOF
cat >"$T_DIR/req.py" <<'EOF'
import email, email.policy, glob, os, re, sys
# req.py MAILDIR MID: the token of the moderation request for post <MID>
for f in sorted(glob.glob(os.path.join(sys.argv[1], "new", "*"))):
    m = email.message_from_binary_file(open(f, "rb"),
                                       policy=email.policy.default)
    for p in m.walk():
        if (p.get_content_type() == "message/rfc822" and
                p.get_content()["Message-ID"] == "<%s>" % sys.argv[2]):
            g = re.search(r"\+moderate-([a-z0-9-]+)@",
                          str(m.get("Reply-To", "")))
            if g:
                print(g.group(1))
                sys.exit(0)
sys.exit(1)
EOF
h() { $PY "$T_DIR/h.py" "$@"; }
# req WHO MID: wait for WHO's request about post MID; its token in TOK
t_req() { TOK=$($PY "$T_DIR/req.py" "$MD/$1" "$2"); }
req() { wait_until "$T_WAIT" t_req "$1" "$2"; }
t_copies_is() { [ "$(copies "$1")" -eq "$2" ]; }
t_state_is() { [ "$(state "$1")" = "$2" ]; }

N=0
# mail FROM TO SUBJECT BODY [HEADER]: inject one message (m$N@test)
mail() {
	N=$((N + 1))
	{
		printf 'From: %s\nTo: %s\nSubject: %s\n' "$1" "$2" "$3"
		printf 'Message-ID: <m%s@test>\n' "$N"
		[ -z "${5:-}" ] || printf '%s\n' "$5"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$4"
	} >"$T_DIR/m$N.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f "$1" "$2" <"$T_DIR/m$N.eml" \
		>/dev/null 2>"$T_DIR/inj.err"
}
count() {
	[ -d "$MD/$1/new" ] || { echo 0; return; }
	find "$MD/$1/new" -type f | wc -l
}
t_count_ge() { [ "$(count "$1")" -ge "$2" ]; }
wait_mail() { wait_until "$T_WAIT" t_count_ge "$1" "$2"; }
newest() { ls -t "$MD/$1/new"/* 2>/dev/null | head -n 1; }
t_quiet() {
	spool_settled &&
		[ "$(sql "SELECT count(*) FROM outbound WHERE state IN
			('queued','deferred')")" = 0 ]
}
settle() { wait_until "$T_WAIT" t_quiet; }
# copies MID: how many members got a copy of post <MID>
copies() {
	grep -l "^Message-I[dD]: <$1>" "$MD"/*/new/* 2>/dev/null |
		grep -v -e "/$M1/" -e "/$M2/" | wc -l
}
state() { sql "SELECT state FROM held WHERE message_id = '$1'"; }

# --- a held post goes to both moderators ----------------------------------

S=stranger@example.com
mail "$S" "denmark@$D" "Netværk i Odense" "Hej, må jeg skrive her?"
P1=m$N@test
ok "the moderators get a request" wait_mail "$M2" 1
ok "... both of them" wait_mail "$M1" 1
is "$(state "$P1")" held "the post is held"
f1=$(newest "$M1")
f2=$(newest "$M2")
is "$(h attached "$f1")" "<$P1>" "the request has the post attached"
t1=$(h token "$f1")
t2=$(h token "$f2")
like "$t1" '^[a-z0-9]+-[a-z0-9]+-[a-z2-7]+$' "with a reply token"
ok "each moderator has their own" test "$t1" != "$t2"
is "$(h hdr "$f1" Content-Language)" da "in the list's language"
like "$(h hdr "$f1" Subject)" "Netværk i Odense" "the subject names the post"
is "$(count "$S")" 1 "the sender is told that the post waits"

# a forged token and an auto-reply decide nothing
bad=$(echo "$t1" | sed 's/.$/a/')
[ "$bad" = "$t1" ] && bad=$(echo "$t1" | sed 's/.$/b/')
mail "$M1" "denmark+moderate-$bad@$D" "Re: x" "approve"
mail "$M1" "denmark+moderate-$t1@$D" "Out of office" "I am away" \
	"Auto-Submitted: auto-replied"
mail "$M1" "sweden+moderate-$t1@$D" "Re: x" "approve"
settle
is "$(state "$P1")" held "a forged token, an auto-reply, the wrong list: still held"
is "$(copies "$P1")" 0 "and nothing was sent"

# an unclear reply
mail "$M1" "denmark+moderate-$t1@$D" "Re: To moderate" "Hmm, who is this?"
ok "an unclear reply gets an answer" wait_mail "$M1" 2
is "$(state "$P1")" held "and decides nothing"

# the first decision wins: M1 approves with a plain reply (only quotes)
mail "$M1" "denmark+moderate-$t1@$D" "Re: To moderate" "> the post"
ok "approved by a plain reply: members get the post" \
	wait_until "$T_WAIT" t_copies_is "$P1" 2
is "$(state "$P1")" approved "held row approved"
is "$(sql "SELECT decided_by FROM held WHERE message_id='$P1'")" "$M1" \
	"decided by the moderator whose token it was"
ok "the other moderator is told" wait_mail "$M2" 2
like "$(h body "$(newest "$M2")")" "$M1" "who decided"
mail "$M2" "denmark+moderate-$t2@$D" "Re:" "discard"
ok "a later reply is told it came too late" wait_mail "$M2" 3
like "$(h body "$(newest "$M2")")" "$M1" "naming the decision that counted"
settle
is "$(state "$P1")" approved "and changes nothing"
is "$(copies "$P1")" 2 "each member got the post once"

# --- reject with a reason ------------------------------------------------------

mail "$S" "denmark@$D" "Second try" "Hej igen"
P2=m$N@test
ok "the second post is held: a request" req "$M1" "$P2"
settle
before=$(count "$S")
mail "$M1" "denmark+moderate-$TOK@$D" "Re:" "reject Please join the list first.
> quoted"
ok "the sender gets the rejection" wait_mail "$S" $((before + 1))
is "$(state "$P2")" rejected "held row rejected"
like "$(h body "$(newest "$S")")" "Please join the list first" \
	"with the moderator's reason"
is "$(copies "$P2")" 0 "nothing sent to the members"

# --- discard -------------------------------------------------------------------

mail "$S" "denmark@$D" "Third" "x"
P3=m$N@test
ok "third post held" req "$M1" "$P3"
settle
before=$(count "$S")
mail "$M1" "denmark+moderate-$TOK@$D" "discard" ""
settle
is "$(state "$P3")" discarded "discard by the Subject of an empty reply"
is "$(count "$S")" "$before" "the sender is not told"

# --- approve always --------------------------------------------------------------

G=guest@example.com
mail "$G" "denmark@$D" "Gæsteindlæg" "Hej"
P4=m$N@test
ok "a guest's post is held" req "$M1" "$P4"
mail "$M1" "denmark+moderate-$TOK@$D" "Re:" "Approve always."
ok "approve always: sent" wait_until "$T_WAIT" t_copies_is "$P4" 2
is "$(sql "SELECT count(*) FROM accept_senders WHERE list='denmark' AND address='$G'")" 1 \
	"the sender is on the accept list"
like "$(sql "SELECT how FROM accept_senders WHERE address='$G'")" "$M1" \
	"recorded with the moderator"
mail "$G" "denmark@$D" "Næste indlæg" "Hej igen"
P5=m$N@test
ok "the guest's next post goes straight to the list" \
	wait_until "$T_WAIT" t_copies_is "$P5" 2
is "$(sql "SELECT count(*) FROM held WHERE message_id='$P5'")" 0 "not held"

# --- two moderators at once ------------------------------------------------------

mail "$S" "denmark@$D" "Race" "x"
P6=m$N@test
ok "held: a request to one" req "$M1" "$P6"
t1=$TOK
ok "and to the other" req "$M2" "$P6"
t2=$TOK
# both replies in one spool round
N=$((N + 1))
printf 'From: %s\nSubject: Re:\nMessage-ID: <m%s@test>\n\napprove\n' "$M1" "$N" \
	>"$T_DIR/r1.eml"
N=$((N + 1))
printf 'From: %s\nSubject: Re:\nMessage-ID: <m%s@test>\n\ndiscard\n' "$M2" "$N" \
	>"$T_DIR/r2.eml"
"$MLMD_INJECT" -c "$T_CONF" -f "$M1" "denmark+moderate-$t1@$D" \
	<"$T_DIR/r1.eml" >/dev/null 2>&1 &
inj=$!
"$MLMD_INJECT" -c "$T_CONF" -f "$M2" "denmark+moderate-$t2@$D" \
	<"$T_DIR/r2.eml" >/dev/null 2>&1
wait "$inj"
settle
st=$(state "$P6")
ok "one decision won ($st)" test "$st" = approved -o "$st" = discarded
if [ "$st" = approved ]; then
	is "$(copies "$P6")" 2 "its result: each member once"
else
	is "$(copies "$P6")" 0 "its result: nothing sent"
fi
is "$(sql "SELECT count(*) FROM event_log WHERE kind='moderated'")" 5 \
	"five decisions recorded in all (one per post)"

# --- moderate_new: a new member's first post waits ----------------------------------

NEW=nadia@example.net
mail "$NEW" "sweden+subscribe@$D" "join" ""
t_conf_mail() { grep -qs "confirm-" "$MD/$NEW/new"/* 2>/dev/null; }
ok "a newcomer asks to join sweden" wait_until "$T_WAIT" t_conf_mail
ctok=$(grep -h '^Reply-To:' "$MD/$NEW/new"/* | sed -n 's/.*+confirm-\([a-z0-9-]*\)@.*/\1/p' | head -n 1)
mail "$NEW" "sweden+confirm-$ctok@$D" "Re:" ""
t_member() { [ "$(sql "SELECT moderated FROM members WHERE list='sweden' AND address='$NEW'")" = 1 ]; }
ok "joins, with her posts moderated" wait_until "$T_WAIT" t_member
mail "$NEW" "sweden@$D" "Hej Sverige" "Första inlägget"
P8=m$N@test
ok "her first post is held for the moderator" req "$M1" "$P8"
mail "$M1" "sweden+moderate-$TOK@$D" "Re:" "approve"
t_unmod() { [ "$(sql "SELECT moderated FROM members WHERE list='sweden' AND address='$NEW'")" = 0 ]; }
ok "approved: she is no longer moderated" wait_until "$T_WAIT" t_unmod
mail "$NEW" "sweden@$D" "Igen" "Andra inlägget"
P9=m$N@test
settle
is "$(sql "SELECT count(*) FROM held WHERE message_id='$P9'")" 0 \
	"her second post goes straight to the list"

# --- subscription = moderate: the owners approve joins ------------------------------

# join WHO: ask to join norway and confirm by reply
join() {
	mail "$1" "norway+subscribe@$D" "join" ""
	wait_until "$T_WAIT" t_has "$1" "confirm-"
	t_tok=$(grep -h '^Reply-To:' "$MD/$1/new"/* | sed -n 's/.*+confirm-\([a-z0-9-]*\)@.*/\1/p' | tail -n 1)
	mail "$1" "norway+confirm-$t_tok@$D" "Re:" ""
}
t_has() { grep -qs "$2" "$MD/$1/new"/* 2>/dev/null; }
# owner_tok WHO: the owner's reply token for WHO's request
t_otok() {
	for t_f in $(grep -ls "^Subject: .*$1" "$MD/$M2/new"/* 2>/dev/null); do
		OTOK=$(sed -n 's/^Reply-To: .*+moderate-\([a-z0-9-]*\)@.*/\1/p' "$t_f")
		[ -n "$OTOK" ] && return 0
	done
	return 1
}
J1=jonas@example.net
join "$J1"
ok "the owner is asked to approve the join" wait_until "$T_WAIT" t_otok "$J1"
t_waits() { [ "$(sql "SELECT count(*) FROM outbound WHERE recipient='$J1' AND path LIKE '%sub_waiting%'")" = 1 ]; }
ok "the person is told it waits" wait_until "$T_WAIT" t_waits
is "$(sql "SELECT count(*) FROM members WHERE list='norway' AND address='$J1'")" 0 \
	"not a member before the owner decides"
mail "$M2" "norway+moderate-$OTOK@$D" "Re:" "approve"
t_joined() { [ "$(sql "SELECT count(*) FROM members WHERE list='norway' AND address='$1'")" = 1 ]; }
ok "approved by the owner: a member" wait_until "$T_WAIT" t_joined "$J1"
like "$(sql "SELECT how FROM consents WHERE address='$J1' AND action='subscribe'")" \
	"approved by $M2" "the consent records the owner"
J2=kari@example.net
join "$J2"
ok "a second request" wait_until "$T_WAIT" t_otok "$J2"
before=$(ls "$MD/$J2/new" | wc -l)
mail "$M2" "norway+moderate-$OTOK@$D" "Re:" "reject Only for people in Norway."
t_told() { [ "$(ls "$MD/$J2/new" | wc -l)" -gt "$before" ]; }
ok "refused: the person is told" wait_until "$T_WAIT" t_told
ok "with the reason" wait_until "$T_WAIT" t_has "$J2" "Only for people in Norway"
is "$(sql "SELECT count(*) FROM members WHERE list='norway' AND address='$J2'")" 0 \
	"and is not a member"

# --- expiry ------------------------------------------------------------------------

mail "$S" "denmark@$D" "Forgotten" "x"
P7=m$N@test
wait_until "$T_WAIT" t_state_is "$P7" held
settle
before=$(count "$S")
sql "UPDATE held SET expires = strftime('%s','now') - 1 WHERE message_id='$P7'"
mail "$S" "denmark@$D" "Waiting" "x"
P10=m$N@test
wait_until "$T_WAIT" t_state_is "$P10" held
sql "UPDATE held SET created = created - 13 * 3600 WHERE message_id='$P10'"
daemon_stop
is "$T_RC" 0 "mlmd stops"
daemon_start || bail "mlmd did not start again"
ok "housekeeping expires the post" wait_until 30 t_state_is "$P7" expired
ok "and tells the sender" wait_mail "$S" $((before + 1))
like "$(h hdr "$(newest "$S")" Subject)" "Forgotten|denmark" "expired.txt"
is "$(copies "$P7")" 0 "nothing sent"
t_summary() { [ "$(sql "SELECT count(*) FROM outbound WHERE recipient='$M1' AND path LIKE '%held_summary%'")" = 1 ]; }
ok "a post waiting for hours: the daily summary" wait_until "$T_WAIT" t_summary
t_sum_file() { grep -qs "Waiting" "$(ls -t "$MD/$M1/new"/* | head -n 1)"; }
ok "naming the waiting post" wait_until "$T_WAIT" t_sum_file

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
