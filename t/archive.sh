#!/bin/sh
# archive.sh - the static archive (issue 6) through the running daemon:
# a page per message at the permalink of its Archived-At header, the
# month's pages (threads nested, by date, by author, an mbox), thread
# pages with their mbox and Atom feed, raw copies, attachments under
# content hashes with safe download names, the list page in the list's
# language and time zone, served by mlmd's web front door; hostile
# subjects and bodies are escaped (no tag from a mail survives),
# javascript: links are not linked, addresses are obfuscated (raw copies
# too), X-No-Archive is honoured, a private list is never written where
# the public web server looks, erasure pseudonymises or removes, and
# `mlmctl archive rebuild` writes the same pages again.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 64

D=$T_DOMAIN
MD=$T_DIR/maildir
HP=$(free_port)
T_EXTRA="http = \"127.0.0.1:$HP\"
list private1 {
	description = \"Members only\"
	language = \"ar\"
	archive = private
	timezone = \"Asia/Tokyo\"
}"
conf_write
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	>/dev/null 2>&1
as_user "$MLMCTL" -c "$T_CONF" add private1 amira@example.net >/dev/null 2>&1
A=$T_HOME/archive/denmark
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
MONTH=$(date -u '+%Y-%m')

# post MID SUBJECT BODY [HEADER] (LIST, FROM_NAME, FROM_ADDR from the
# environment: denmark, Amira Haddad, amira@example.net)
post() {
	{
		printf 'From: %s <%s>\nTo: %s@%s\n' "${FROM_NAME:-Amira Haddad}" \
			"${FROM_ADDR:-amira@example.net}" "${LIST:-denmark}" "$D"
		printf 'Subject: %s\nMessage-ID: <%s>\nDate: %s\n' "$2" "$1" "$DATE"
		[ -z "${4:-}" ] || printf '%s\n' "$4"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$3"
	} >"$T_DIR/$1.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f "${FROM_ADDR:-amira@example.net}" \
		"${LIST:-denmark}@$D" <"$T_DIR/$1.eml" >/dev/null 2>&1
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
is "$(ls "$A/m" | grep -c '\.html$')" 3 "three message pages (X-No-Archive honoured)"
ok "the no-archive post is nowhere" sh -c "! grep -rq 'Not for the archive' '$A'"
ok "no tag from a mail survives" sh -c "! grep -rqiE --include='*.html' '<script|<img|<a href=\"javascript' '$A'"
ok "the hostile subject is shown escaped" grep -rq '&lt;script&gt;alert(1)' "$A/$MONTH/index.html"
ok "javascript: is never a link" sh -c "! grep -rqi --include='*.html' 'href=\"javascript' '$A'"
ok "an http link is a link" grep -rq 'href="https://example.org/aarhus?x=1&amp;y=2"' "$A/m"
ok "addresses are obfuscated" sh -c "! grep -rq 'amira@example.net' '$A'"
ok "the reply is nested under its thread" \
	$PY -c "import re,sys; t=open(sys.argv[1]).read(); i=t.index('Re: Netv'); j=t.index('Netv'); sys.exit(0 if '<ul>' in t[j:i] else 1)" "$A/$MONTH/index.html"
ok "the list page names the month" grep -q "$MONTH" "$A/index.html"
ok "pages link no script at all" sh -c "! grep -rqi --include='*.html' '<script' '$A'"
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
is "$(ls "$A/m" | grep -c '\.html$')" 3 "the same three message pages again"

# --- the rest of a reader's archive ------------------------------------------
# an attachment whose name tries to be a path, with a bidi override
{
	printf 'From: Amira Haddad <amira@example.net>\nTo: denmark@%s\n' "$D"
	printf 'Subject: Re: Netværk i Aarhus\nMessage-ID: <att@test>\nDate: %s\n' "$DATE"
	printf 'In-Reply-To: <reply@test>\nReferences: <root@test> <reply@test>\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n'
	printf -- '--b1\nContent-Type: text/plain; charset=utf-8\n\nProgrammet er vedhæftet.\n'
	printf -- '--b1\nContent-Type: application/pdf; name="x.pdf"\n'
	printf 'Content-Disposition: attachment; filename="../../etc/passwd\342\200\256fdp.exe"\n'
	printf 'Content-Transfer-Encoding: base64\n\n%s\n--b1--\n' "$(printf 'PDF-DATA-1234' | base64)"
} >"$T_DIR/att.eml"
"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "denmark@$D" <"$T_DIR/att.eml" >/dev/null 2>&1
wait_until "$T_WAIT" spool_settled
t_att() { ls "$A/a" 2>/dev/null | grep -q .; }
ok "an attachment is stored under its content hash" wait_until "$T_WAIT" t_att
att=$(ls "$A/a" | head -1)
is "$(cat "$A/a/$att")" "PDF-DATA-1234" "its bytes, decoded"
like "$att" '^[0-9a-f]{32}$' "its name is a hash, never the mail's name"
AP=$(grep -l 'Programmet er' "$A"/m/*.html | head -1)
like "$(grep -o 'download="[^"]*"' "$AP")" '^download="[^/"]*passwd[^/"]*exe"$' \
	"it downloads under a safe name (no slash, no leading dot)"
ok "no bidi override survives in the download name" \
	sh -c "! grep -o 'download=\"[^\"]*\"' '$AP' | grep -q \"$(printf '\342\200\256')\""
TH=$(sed -n 's/.*href="\.\.\/t\/\([0-9a-f]*\)\.html.*/\1/p' "$AP" | head -1)
ok "the message page links its thread" test -f "$A/t/$TH.html"
is "$(grep -c '<article class="msg d' "$A/t/$TH.html")" 3 "the thread page shows its three posts"
ok "nested by depth" grep -q 'class="msg d2"' "$A/t/$TH.html"
ok "the thread's Atom feed is well-formed with three entries" \
	$PY -c "import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); sys.exit(0 if len(r.findall('{http://www.w3.org/2005/Atom}entry')) == 3 else 1)" "$A/t/$TH.atom"
ok "the thread's mbox holds its three posts" \
	$PY -c "import sys, mailbox; sys.exit(0 if len(mailbox.mbox(sys.argv[1])) == 3 else 1)" "$A/t/$TH.mbox"
ok "the month's mbox holds the month's four posts" \
	$PY -c "import sys, mailbox; sys.exit(0 if len(mailbox.mbox(sys.argv[1])) == 4 else 1)" "$A/$MONTH/all.mbox"
ok "raw copies and mboxes obfuscate addresses" \
	sh -c "! grep -rq 'amira@example.net' '$A'"
ok "raw copies keep their Message-ID whole" grep -q '^Message-ID: <root@test>' "$A"/m/*.txt
ok "the month by date and by author" test -f "$A/$MONTH/date.html" -a -f "$A/$MONTH/author.html"
ok "by author: a heading per author" grep -q '<h2>Amira Haddad</h2>' "$A/$MONTH/author.html"
ok "previous and next by date are linked" grep -q 'rel="prev"' "$AP"
ok "the page speaks the list's language (da)" grep -q 'Hele tråden' "$AP"
ok "the list page shows the newest threads" grep -q "t/$TH.html" "$A/index.html"
ok "pages carry a Content-Security-Policy" grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$AP"

# --- search on the web front door -------------------------------------------
U=http://127.0.0.1:$HP/archive/denmark
is "$(curl -s -o "$T_DIR/s.html" -w '%{http_code}' "$U/search?q=aarhus")" 200 "the search page answers"
ok "it finds the thread" grep -q 'Netværk i Aarhus' "$T_DIR/s.html"
ok "hits are marked" grep -q '<mark>' "$T_DIR/s.html"
curl -s -o "$T_DIR/s2.html" "$U/search?q=subject:aarhus+from:amira"
ok "subject: and from: work" grep -q 'Netværk i Aarhus' "$T_DIR/s2.html"
curl -s -o "$T_DIR/s3.html" "$U/search?q=aarhus+before:2001-01-01"
ok "a date range excludes" grep -q 'Intet fundet' "$T_DIR/s3.html"
is "$(curl -s -o "$T_DIR/s4.html" -w '%{http_code}' "$U/search?q=%22open")" 400 "an unreadable query: 400"
ok "the query is shown escaped" sh -c "curl -s '$U/search?q=%3Cscript%3E' | grep -q '&lt;script&gt;'"

is "$(curl -s -o /dev/null -w '%{http_code}' "$U/id/%3Croot@test%3E")" 301 \
	"a permalink by Message-ID redirects"
like "$(curl -s -L -o /dev/null -w '%{url_effective}' "$U/id/root@test")" \
	"/archive/denmark/m/$link.html\$|/archive/denmark/m/[0-9a-f]{16}\.html\$" "to the post's page"
is "$(curl -s -o /dev/null -w '%{http_code}' "$U/id/nosuch@test")" 404 "an unknown Message-ID: 404"

# --- a private list ---------------------------------------------------------
LIST=private1 post priv@test "Kun for medlemmer" "Hemmeligt indhold"
t_priv() { [ -f "$T_HOME/private/private1/index.html" ]; }
ok "a private list is written under HOME/private" wait_until "$T_WAIT" t_priv
ok "never where the public web server looks" test ! -e "$A/../private1"
ok "its pages speak Arabic, right to left" grep -q 'dir="rtl"' "$T_HOME/private/private1/index.html"
ok "dates in the list's time zone (Asia/Tokyo)" grep -rq '+0900' "$T_HOME/private/private1/m"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/archive/private1/index.html")" 404 \
	"the public mount does not serve it"

# --- erasure ----------------------------------------------------------------
FROM_NAME="Bo Jensen" FROM_ADDR=bo@example.dk post bo1@test "Bo skriver" "Hilsen fra Bo"
t_bo() { grep -q 'Bo skriver' "$A/index.html" 2>/dev/null; }
wait_until "$T_WAIT" t_bo
as_user "$MLMCTL" -c "$T_CONF" person erase amira@example.net >"$T_DIR/e.out" 2>&1
like "$(cat "$T_DIR/e.out")" "archived posts no longer show" "erase: the archive is told (pseudonymise)"
ok "her name is on no page" sh -c "! grep -rq 'Amira' '$A'"
ok "her posts stay, without her name" grep -q 'Netværk i Aarhus' "$A/$MONTH/index.html"
ok "the raw copy has no sender" grep -q '^From: (erased)' "$A"/m/*.txt
cp "$T_CONF" "$T_DIR/remove.conf"
echo 'archive_erasure = "remove"' >>"$T_DIR/remove.conf"
BOP=$(grep -l 'Hilsen fra Bo' "$A"/m/*.html)
as_user "$MLMCTL" -c "$T_DIR/remove.conf" person erase bo@example.dk >"$T_DIR/e2.out" 2>&1
like "$(cat "$T_DIR/e2.out")" "removed from the archive" "erase with archive_erasure = remove"
ok "his post's page is gone" test ! -e "$BOP"
ok "and so is every mention" sh -c "! grep -rq 'Bo skriver' '$A'"
as_user "$MLMCTL" -c "$T_CONF" search denmark hilsen >"$T_DIR/s5.out" 2>&1
like "$(cat "$T_DIR/s5.out")" "no message" "and the search index"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
done_testing
