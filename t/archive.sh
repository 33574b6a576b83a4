#!/bin/sh
# archive.sh - the static archive (first increment of issue 6) through
# the running daemon: a page per message at the permalink of its
# Archived-At header, a month page with the thread nested, the list
# page, served by mlmd's web front door; hostile subjects and bodies are
# escaped (no tag from a mail survives), javascript: links are not
# linked, addresses are obfuscated, X-No-Archive is honoured, and
# `mlmctl archive rebuild` writes the same pages again.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 22

D=$T_DOMAIN
MD=$T_DIR/maildir
HP=$(free_port)
T_EXTRA="http = \"127.0.0.1:$HP\""
conf_write
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	>/dev/null 2>&1
A=$T_HOME/archive/denmark
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
MONTH=$(date -u '+%Y-%m')

# post MID SUBJECT BODY [HEADER]
post() {
	{
		printf 'From: Amira Haddad <amira@example.net>\nTo: denmark@%s\n' "$D"
		printf 'Subject: %s\nMessage-ID: <%s>\nDate: %s\n' "$2" "$1" "$DATE"
		[ -z "${4:-}" ] || printf '%s\n' "$4"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$3"
	} >"$T_DIR/$1.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "denmark@$D" \
		<"$T_DIR/$1.eml" >/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}

post root@test "Netværk i Aarhus" "Hej alle, se https://example.org/aarhus?x=1&y=2 ."
post reply@test "Re: Netværk i Aarhus" "> Hej alle
Tak!" "In-Reply-To: <root@test>
References: <root@test>"
post evil@test '<script>alert(1)</script> <img src=x onerror=alert(2)>' \
	'Click <a href="javascript:alert(3)">here</a> javascript:alert(4) <script>alert(5)</script>'
post secret@test "Not for the archive" "private" "X-No-Archive: yes"

t_pages() { [ -f "$A/index.html" ] && [ -f "$A/$MONTH/index.html" ]; }
ok "the list page and the month page are written" wait_until "$T_WAIT" t_pages
link=$(grep -h '^Archived-At:' "$MD/bo@example.dk/new"/* | grep -m1 . | sed 's/.*\/m\/\([0-9a-f]*\)\.html.*/\1/')
ok "each post has its page at the permalink of its Archived-At" \
	test -f "$A/m/$link.html"
is "$(ls "$A/m" | wc -l)" 3 "three message pages (X-No-Archive honoured)"
ok "the no-archive post is nowhere" sh -c "! grep -rq 'Not for the archive' '$A'"
ok "no tag from a mail survives" sh -c "! grep -rqiE '<script|<img|<a href=\"javascript' '$A'"
ok "the hostile subject is shown escaped" grep -rq '&lt;script&gt;alert(1)' "$A/$MONTH/index.html"
ok "javascript: is never a link" sh -c "! grep -rqi 'href=\"javascript' '$A'"
ok "an http link is a link" grep -rq 'href="https://example.org/aarhus?x=1&amp;y=2"' "$A/m"
ok "addresses are obfuscated" sh -c "! grep -rq 'amira@example.net' '$A'"
ok "the reply is nested under its thread" \
	$PY -c "import re,sys; t=open(sys.argv[1]).read(); i=t.index('Re: Netv'); j=t.index('Netv'); sys.exit(0 if '<ul>' in t[j:i] else 1)" "$A/$MONTH/index.html"
ok "the list page names the month" grep -q "$MONTH" "$A/index.html"
ok "pages link no script at all" sh -c "! grep -rqi '<script' '$A'"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/archive/denmark/index.html")" 200 \
	"the web front door serves the archive"
ok "the Atom feed is well-formed XML with the three posts" \
	$PY -c "import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); n=len(r.findall('{http://www.w3.org/2005/Atom}entry')); sys.exit(0 if n == 3 else 1)" "$A/feed.atom"
ok "its titles are escaped text" grep -q '&lt;script&gt;' "$A/feed.atom"
like "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$HP/archive/denmark/feed.atom")" \
	"atom" "served as application/atom+xml"
as_user "$MLMCTL" -c "$T_CONF" search denmark aarhus >"$T_DIR/s.out" 2>&1
like "$(cat "$T_DIR/s.out")" "Netværk i Aarhus" "mlmctl search finds by body text"
as_user "$MLMCTL" -c "$T_CONF" search denmark "archive" >"$T_DIR/s2.out" 2>&1
like "$(cat "$T_DIR/s2.out")" "no message" "a hidden (X-No-Archive) post is never found"
as_user "$MLMCTL" -c "$T_CONF" search denmark '"unclosed' >"$T_DIR/s3.out" 2>&1
is "$?" 65 "a query FTS5 cannot read: a clear error (exit 65)"
rm -rf "$A"
as_user "$MLMCTL" -c "$T_CONF" archive rebuild denmark >"$T_DIR/rb.out" 2>&1
like "$(cat "$T_DIR/rb.out")" "denmark: [0-9]+ pages written" "mlmctl archive rebuild"
is "$(ls "$A/m" | wc -l)" 3 "the same three message pages again"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
done_testing
