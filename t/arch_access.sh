#!/bin/sh
# arch_access.sh - private archives behind personal links, the `archive`
# command and archive search on the web (issue 6), through the running
# daemon with the maildir relay and the web front door on loopback:
#  - a member's welcome and their answer to "archive" (and its native
#    synonym) carry a /p/LIST/TOKEN/ link; the link serves
#    HOME/private/LIST/ (no-store, noindex, never the token in the log);
#  - refused (403): a forged token, garbage, another list's token, the
#    link of a member who was removed; 404: the same URL shape for a
#    public list;
#  - "..", %2e%2e, hidden files and symbolic links below the private root
#    are never served, and the public /archive/ mount never reaches
#    HOME/private;
#  - non-members asking "archive" get no link; a public list's member gets
#    the public address, a list without archive says so; the answers count
#    against the daily notice limit;
#  - /archive/LIST/search (public lists) and /p/LIST/TOKEN/search answer
#    with archive_search_page(); a query or page that cannot be read: 400.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 60

D=$T_DOMAIN
MD=$T_DIR/maildir
HP=$(free_port)
W=http://127.0.0.1:$HP
T_EXTRA="http = \"127.0.0.1:$HP\"
base_url = \"$W\"
list club {
	description = \"A private club\"
	language = \"en\"
	posting = members
	archive = private
}
list secret {
	language = \"en\"
	archive = private
}
list quiet {
	language = \"en\"
	archive = none
}
list open {
	language = \"en\"
	archive = public
}"
conf_write
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"

A=amira@example.net
B=bo@example.dk

# --- helpers ------------------------------------------------------------

# body FILE: the decoded text/plain of a mail
body() {
	$PY - "$1" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
for p in m.walk():
    if p.get_content_type() == "text/plain":
        print(p.get_content())
EOF
}
count() {
	t_d=$MD/$1/new
	[ -d "$t_d" ] || { echo 0; return; }
	find "$t_d" -type f | wc -l
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
N=0
# ask FROM LIST WORD: mail WORD to LIST-request@
ask() {
	N=$((N + 1))
	{
		printf 'From: %s\nTo: %s-request@%s\nSubject: %s\n' "$1" "$2" "$D" "$3"
		printf 'Message-ID: <a%s@test>\nDate: Sun, 29 Nov 2026 10:00:00 +0100\n' "$N"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$3"
	} >"$T_DIR/a$N.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f "$1" "$2-request@$D" <"$T_DIR/a$N.eml" \
		>/dev/null 2>"$T_DIR/inj.err" || sed 's/^/# inject: /' "$T_DIR/inj.err"
}
# code URL [curl args]: the status; the page in $T_DIR/page, headers in
# $T_DIR/hdr
code() {
	t_u=$1
	shift
	curl -s --path-as-is -D "$T_DIR/hdr" -o "$T_DIR/page" -w '%{http_code}' \
		"$@" "$t_u"
}
# mktok PURPOSE LIST ADDRESS ID EXPIRES: a token as token.c makes it
mktok() {
	$PY - "$KEY" "$@" <<'EOF'
import hashlib, hmac, sys
key, purpose, lst, addr, i, exp = sys.argv[1:]
def b36(v):
    d = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        s = d[v % 36] + s
        v //= 36
        if not v:
            return s
msg = b"\0".join(x.encode() for x in (purpose, lst, addr, i, exp)) + b"\0"
mac = hmac.new(bytes.fromhex(key), msg, hashlib.sha256).digest()[:13]
bits = int.from_bytes(mac, "big") << 1  # 104 bits, padded to 105
b32 = "abcdefghijklmnopqrstuvwxyz234567"
m = "".join(b32[(bits >> (5 * k)) & 31] for k in range(20, -1, -1))
print("%s-%s-%s" % (b36(int(i)), b36(int(exp)), m))
EOF
}
# link FILE LIST: the personal link in a mail
link() { body "$1" | grep -Eo "$W/p/$2/[a-z0-9-]+/" | head -n 1; }

# --- the welcome and the `archive` command --------------------------------

as_user "$MLMCTL" -c "$T_CONF" add --welcome club "$A" >"$T_DIR/add.out" 2>&1
as_user "$MLMCTL" -c "$T_CONF" add secret "$A" >/dev/null 2>&1
as_user "$MLMCTL" -c "$T_CONF" add quiet "$A" >/dev/null 2>&1
as_user "$MLMCTL" -c "$T_CONF" add open "$A" >/dev/null 2>&1
ok "the welcome arrives" wait_mail "$A" 1
WL=$(link "$(newest "$A")" club)
like "$WL" "^$W/p/club/[a-z0-9]+-[a-z0-9]+-[a-z2-7]+/\$" \
	"the welcome of a private list carries the personal link"

ask "$A" club archive
ok "a member asking \"archive\" gets an answer" wait_mail "$A" 2
M=$(newest "$A")
L=$(link "$M" club)
like "$L" "^$W/p/club/" "the answer gives the personal /p/ link"
is "$L" "$WL" "the same link all day (whole-day expiry)"
TOK=$(echo "$L" | sed 's|.*/p/club/\([^/]*\)/|\1|')
ok "the link goes only to the member's own address" \
	grep -qi "^To: .*$A" "$M"

# --- the private pages ------------------------------------------------------

P=$T_HOME/private
# A post to the private list: the renderer writes HOME/private/club/.
N=$((N + 1))
{
	printf 'From: %s\nTo: club@%s\nSubject: Meeting in Odense\n' "$A" "$D"
	printf 'Message-ID: <post%s@test>\nDate: %s\n' "$N" "$(date -R)"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
	printf 'We meet at the harbour, bring rugbrød.\n'
} >"$T_DIR/post.eml"
"$MLMD_INJECT" -c "$T_CONF" -f "$A" "club@$D" <"$T_DIR/post.eml" >/dev/null 2>&1
t_rendered() { [ -f "$P/club/index.html" ] && [ -f "$P/club/style.css" ]; }
ok "the renderer writes the private list under HOME/private" \
	wait_until "$T_WAIT" t_rendered
ok "... and nothing of it under the public HOME/archive" \
	sh -c "! grep -rqs 'Odense' '$T_HOME/archive'"
mkdir -p "$P/club/m" "$P/secret" "$T_HOME/archive"
echo '<!doctype html><p>CLUB-POST' >"$P/club/m/x.html"
echo 'CLUB-HIDDEN' >"$P/club/.hidden"
echo 'OUTSIDE-FILE' >"$T_DIR/outside.html"
ln -s "$T_DIR/outside.html" "$P/club/link.html"
ln -s "$T_DIR" "$P/club/dirlink"
echo '<!doctype html><p>SECRET-INDEX' >"$P/secret/index.html"

is "$(code "$L")" 200 "the link serves the list's private index.html"
ok "... the list's page" grep -q 'club' "$T_DIR/page"
ok "... never cached (no-store)" grep -qi '^Cache-Control: no-store' "$T_DIR/hdr"
ok "... and not for search engines (X-Robots-Tag)" \
	grep -qi '^X-Robots-Tag: noindex' "$T_DIR/hdr"
is "$(code "${L}m/x.html")" 200 "a page below it, by a relative link"
like "$(grep -i '^Content-Type' "$T_DIR/hdr")" "text/html" "... as text/html"
is "$(code "${L}style.css")" 200 "the stylesheet"
like "$(grep -i '^Content-Type' "$T_DIR/hdr")" "text/css" "... as text/css"
is "$(code "${L%/}")" 301 "without the trailing slash: redirected"
like "$(grep -i '^Location' "$T_DIR/hdr" | tr -d '\r')" "Location: $TOK/\$" \
	"... relatively, to the same with the slash"
is "$(code "${L}nothing.html")" 404 "an absent file: 404"

# --- what is refused ---------------------------------------------------------

FORGED=$(echo "$TOK" | sed 's/.$/a/')
[ "$FORGED" != "$TOK" ] || FORGED=$(echo "$TOK" | sed 's/.$/b/')
is "$(code "$W/p/club/$FORGED/")" 403 "a forged token: 403"
ok "... with no detail" sh -c "! grep -qi 'expired\|member\|token' '$T_DIR/page'"
is "$(code "$W/p/club/abc/")" 403 "garbage: 403"
is "$(code "$W/p/club/$(printf 'a%.0s' $(seq 1 80))/")" 403 "a very long token: 403"
is "$(code "$W/p/secret/$TOK/")" 403 "another list's token: 403"
# Tokens with a valid MAC (the key from the database, token.c's scheme):
# the model is checked on the real link first.
KEY=$(sql "SELECT hex(value) FROM secrets WHERE name = 'token_hmac'")
ID=$(sql "SELECT id FROM members WHERE list = 'club' AND address = '$A'")
EXP=$($PY -c 'import sys; print(int(sys.argv[1].split("-")[1], 36))' "$TOK")
is "$(mktok archive club "$A" "$ID" "$EXP")" "$TOK" \
	"the token is token.c's HMAC over (archive, list, address, id, expiry)"
is "$(code "$W/p/club/$(mktok archive club "$A" "$ID" $(($(date +%s) - 60)))/")" \
	403 "an expired token with a valid MAC: 403"
is "$(code "$W/p/club/$(mktok unsubscribe club "$A" "$ID" "$EXP")/")" 403 \
	"a valid unsubscribe token is no archive token: 403"
is "$(code "$W/p/open/$TOK/")" 404 "a public list has no /p/: 404"
is "$(code "$W/p/nosuchlist/$TOK/")" 404 "no such list: 404"
is "$(code "${L}../../secret/$TOK/index.html")" 404 '".." is refused'
ok "... and shows nothing of the other list" sh -c "! grep -q SECRET '$T_DIR/page'"
is "$(code "${L}%2e%2e/%2e%2e/secret/index.html")" 404 '"%2e%2e" is refused'
is "$(code "${L}.hidden")" 404 "a hidden file is refused"
is "$(code "${L}link.html")" 404 "a symbolic link is never followed"
is "$(code "${L}dirlink/outside.html")" 404 "... nor a linked folder"
is "$(code "$W/archive/../private/club/index.html")" 404 \
	"the public mount does not reach HOME/private (..)"
is "$(code "$W/archive/%2e%2e/private/club/index.html")" 404 \
	"... nor with %2e%2e"
is "$(code "$W/archive/club/index.html")" 404 \
	"... nor under the private list's name"
ok "the token is never in the log" sh -c "! grep -q '$TOK' '$T_LOG'"

# --- search ------------------------------------------------------------------

is "$(code "$W/archive/open/search?q=word")" 200 "public search: 200"
like "$(grep -i '^Content-Type' "$T_DIR/hdr")" "text/html" "... an HTML page"
is "$(code "$W/archive/open/search?q=word&page=2")" 200 "... page 2"
is "$(code "$W/archive/open/search?q=%22unclosed")" 400 \
	"a query the index cannot read: 400"
is "$(code "$W/archive/open/search?q=$(printf 'x%.0s' $(seq 1 513))")" 400 \
	"a query over 512 bytes: 400"
is "$(code "$W/archive/open/search?q=%ff%fe")" 400 "a query that is not UTF-8: 400"
is "$(code "$W/archive/open/search?q=word&page=0")" 400 "page 0: 400"
is "$(code "$W/archive/open/search?q=word&page=1001")" 400 "page 1001: 400"
is "$(code "$W/archive/club/search?q=word")" 404 \
	"no public search for a private list"
is "$(code "${L}search?q=harbour")" 200 "the private list's search, by the link"
ok "... finds the post" grep -q 'Odense' "$T_DIR/page"
ok "... never cached" grep -qi '^Cache-Control: no-store' "$T_DIR/hdr"
is "$(code "$W/p/club/$FORGED/search?q=word")" 403 "... not with a forged one"

# --- other answers to "archive" ---------------------------------------------

ask "$B" club archive
ok "a non-member gets an answer" wait_mail "$B" 1
ok "... without a link" sh -c "! grep -q '/p/' '$(newest "$B")'"
settle # the post's copy reached amira too
C=$(count "$A")
ask "$A" quiet archive
wait_mail "$A" $((C + 1))
like "$(body "$(newest "$A")")" "keeps no archive" \
	"a list without archive says so"
ask "$A" open arkiv
wait_mail "$A" $((C + 2))
like "$(body "$(newest "$A")")" "$W/archive/open/" \
	"a public list gives its public address (native synonym \"arkiv\")"
# notices so far: club, quiet, open = 3 of 5 a day; two more, then none
ask "$A" club archive
ask "$A" club archive
wait_mail "$A" $((C + 4))
ask "$A" club archive
settle
is "$(count "$A")" $((C + 4)) \
	"past the daily limit of notices nothing more is sent"

# --- removal ------------------------------------------------------------------

as_user "$MLMCTL" -c "$T_CONF" remove club "$A" >/dev/null 2>&1
is "$(code "$L")" 403 "after the member is removed the link is refused"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report" no_sanitizer_report
done_testing
