#!/bin/sh
# archive_browser.sh - the static archive (issue 6) as a browser sees it.
#
# Two lists, a Danish one and an Arabic one (language = "ar"), get normal
# threads and the hostile corpus t/data/hostile/*.eml (script in every
# header and part, event handlers, javascript:/data:/vbscript: URLs, CSS,
# encoded words, path-traversal and absurd attachment names, RTL
# overrides, NUL bytes, broken and 200-deep MIME, message/rfc822, meta
# refresh, base, iframe, object, svg, remote images).  Every payload that
# would run or load something points at a canary: an HTTP listener on a
# free loopback port that logs every connection; the corpus says CANARY
# where its port goes.
#
# Then: linkcheck.py crawls each list from index.html over mlmd's web
# front door (no broken internal link, every post reachable, no file from a
# mail served as an active type), and cdp.py opens every page found in
# headless Chromium with the page's CSP bypassed (the archive is static
# files any web server may serve: its markup alone must be safe): no
# script element, no active element or handler, no request off the
# origin, no console call, exception or dialog, title never PWNED, no
# navigation.  Six views (list, month, message of each list) at widths 360
# and 1280: no horizontal overflow, the Arabic ones right-to-left; their
# screenshots go to $T_DIR/shots (and to doc/screenshots/ when
# MLMD_SHOTS_OUT is set).  Last: the canary heard nothing, and no file
# appeared outside HOME/archive but the daemon's own.
#
# Skips without chromium (CI installs it: ./quickstart).  Runs as root
# (Chromium then needs --no-sandbox, which cdp.py passes).
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}
[ -n "$CHROMIUM" ] || skip_all "chromium is not installed"
export CHROMIUM

plan 29

D=$T_DOMAIN
H=$top_srcdir/t/helpers
CORPUS=$top_srcdir/t/data/hostile
IN=$T_DIR/in
OUT=$T_DIR/out
SHOTS=$T_DIR/shots
mkdir -p "$IN" "$OUT" "$SHOTS"
HP=$(free_port)
CP=$(free_port)
ORIGIN=http://127.0.0.1:$HP
T_EXTRA="http = \"127.0.0.1:$HP\"
list arabic {
	description = \"رواد الأعمال المهاجرون في الشمال\"
	language = \"ar\"
	posting = members
	subject_prefix = \"[AR] \"
}"
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
MONTH=$(date -u '+%Y-%m')

# --- the canary: logs every connection and its request line ---------------
cat >"$T_DIR/canary.py" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, a = s.accept()
    c.settimeout(2)
    try:
        line = c.recv(4096).split(b"\r\n")[0]
    except OSError:
        line = b"(nothing)"
    with open(sys.argv[2], "ab") as f:
        f.write(b"CONNECT " + line + b"\n")
    try:
        c.sendall(b"HTTP/1.0 204 No Content\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    c.close()
EOF
: >"$T_DIR/canary.log"
$PY "$T_DIR/canary.py" "$CP" "$T_DIR/canary.log" 2>"$T_DIR/canary.err" &
CANARY_PID=$!
track_pid "$CANARY_PID"
t_canary_up() { ss -Hltn "sport = :$CP" 2>/dev/null | grep -q LISTEN; }
wait_until "$T_WAIT" t_canary_up || bail "the canary did not start"

# --- the posts, written before the "before" listing -------------------------
n_hostile=0
for f in "$CORPUS"/*.eml; do
	b=$(basename "$f")
	for l in denmark arabic; do
		# Each list gets its own Message-IDs; the port goes in.
		sed -e "s/CANARY/$CP/g" -e "s/@hostile\\.test>/.$l@hostile.test>/g" \
			"$f" >"$IN/$l-$b"
	done
	n_hostile=$((n_hostile + 1))
done

# normal LIST ID SUBJECT BODY [PARENT]
normal() {
	{
		printf 'From: %s\nTo: %s@%s\nSubject: %s\n' \
			"$([ "$1" = arabic ] && echo 'ليلى <amira@example.net>' ||
				echo 'Amira Haddad <amira@example.net>')" "$1" "$D" "$3"
		printf 'Message-ID: <%s@normal.test>\nDate: %s\n' "$2" "$DATE"
		[ -z "${5:-}" ] ||
			printf 'In-Reply-To: <%s@normal.test>\nReferences: <%s@normal.test>\n' "$5" "$5"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\n%s\n' "$4"
	} >"$IN/$1-zz-$2.eml"
}
normal denmark dk1 "Netværk for iværksættere i Aarhus" \
	"Hej alle sammen,

vi mødes på torsdag kl. 17 i Aarhus. Tag gerne en kollega med; der er
kaffe og smørrebrød. Læs mere på https://example.org/aarhus?dag=torsdag&kl=17 .

Venlig hilsen
Amira"
normal denmark dk2 "Re: Netværk for iværksættere i Aarhus" \
	"> vi mødes på torsdag kl. 17 i Aarhus.

Tak! Jeg kommer, og jeg tager Bo fra bageriet på Søndergade med." dk1
normal denmark dk3 "Re: Netværk for iværksættere i Aarhus" \
	"Godt at høre. Hvem kender en revisor, der taler arabisk eller tyrkisk?" dk2
normal arabic ar1 "لقاء رواد الأعمال في كوبنهاغن" \
	"مرحبا بالجميع،

نلتقي يوم الخميس الساعة الخامسة مساءً في كوبنهاغن لمناقشة تمويل
المشاريع الصغيرة. التفاصيل على https://example.org/cph?day=thu&h=17 .

مع التحية،
ليلى"
normal arabic ar2 "Re: لقاء رواد الأعمال في كوبنهاغن" \
	"> نلتقي يوم الخميس الساعة الخامسة

شكرا! سأحضر مع شريكي في المطعم." ar1
normal arabic ar3 "Re: لقاء رواد الأعمال في كوبنهاغن" \
	"هل يعرف أحدكم محاسبا يتحدث العربية والدنماركية؟ (CVR و moms)" ar2

# listing SUFFIX: every path under T_DIR except the archive and what the
# daemon and this test keep for themselves.
listing() {
	(cd "$T_DIR" && find . -path ./home/archive -prune -o -print) |
		grep -Ev '^\./(in|out|shots|chrome)(/|$)|^\./home/(spool|store|run|out)(/|$)|^\./home/last-error$|^\./maildir/[^/]+(/(new|cur|tmp)(/.*)?)?$|\.(log|err|db|db-wal|db-shm|db-journal)$|^\./canary' |
		sort >"$OUT/list.$1"
}

conf_write
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.dk \
	>"$OUT/add.out" 2>&1
as_user "$MLMCTL" -c "$T_CONF" add arabic amira@example.net layla@example.org \
	>>"$OUT/add.out" 2>&1
listing before
passwd_sum=$(cksum </etc/passwd)

ok "the hostile corpus has at least 15 messages ($n_hostile)" \
	test "$n_hostile" -ge 15

# --- inject everything -------------------------------------------------------
rejected=
for f in "$IN"/*.eml; do
	l=$(basename "$f")
	l=${l%%-*}
	"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "$l@$D" <"$f" \
		>>"$OUT/inject.out" 2>&1 ||
		rejected="$rejected $(basename "$f"):$?"
done
is "${rejected:-none}" none "mlmd-inject accepts every post"
wait_until $((T_WAIT * 2)) spool_settled || diag "the spool did not settle"

# held_or_refused LIST: "held|refused MESSAGE-ID" for each post that mlmd
# held on LIST or refused (a broken or too deeply nested MIME message may
# be, by policy): those are not distributed, so not archived.
held_or_refused() {
	$PY - "$T_LOG" "$1" <<'EOF'
import re, sys
mid, out = {}, []
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"mlmd: \w+: (\S+): (.*)", line)
    if not m:
        continue
    sid, rest = m.groups()
    r = re.search(r"message-id=(\S*) status=(\w+)", rest)
    if r:
        mid[sid] = r.group(1)
        if r.group(2) == "refused":
            out.append((sid, "refused"))
    elif re.match(r"list %s: held as" % re.escape(sys.argv[2]), rest):
        out.append((sid, "held"))
for sid, why in out:
    print(why, mid.get(sid, "?"))
EOF
}

# archived MEMBER: "MESSAGE-ID PATH" for each post MEMBER received, PATH
# being the Archived-At URL's path (from /archive/ on); "- " if none.
archived() {
	$PY - "$T_DIR/maildir/$1" <<'EOF'
import email, email.policy, glob, os, re, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*", "*"))):
    if not os.path.isfile(f):
        continue
    m = email.message_from_binary_file(open(f, "rb"),
                                       policy=email.policy.compat32)
    mid = " ".join(str(m.get("Message-ID", "?")).split())
    a = re.search(r"/archive/[^>\s]*", str(m.get("Archived-At", "")))
    print(mid.replace(" ", "_"), a.group(0) if a else "-")
EOF
}
t_all_delivered() {
	[ "$(archived bo@example.dk | wc -l)" -ge "$n_dk" ] &&
		[ "$(archived layla@example.org | wc -l)" -ge "$n_ar" ]
}
# A refusal names no list; both lists get the same hostile posts, so
# half of the refusals are each list's.
held_or_refused denmark >"$OUT/notsent.denmark"
held_or_refused arabic >"$OUT/notsent.arabic"
n_refused=$(grep -c '^refused' "$OUT/notsent.denmark")
n_dk=$(($(ls "$IN"/denmark-*.eml | wc -l) - n_refused / 2 -
	$(grep -c '^held' "$OUT/notsent.denmark")))
n_ar=$(($(ls "$IN"/arabic-*.eml | wc -l) - n_refused / 2 -
	$(grep -c '^held' "$OUT/notsent.arabic")))
sort -u "$OUT/notsent.denmark" "$OUT/notsent.arabic" | while read -r why id; do
	diag "not distributed by policy ($why): $id"
done
wait_until $((T_WAIT * 2)) t_all_delivered
archived bo@example.dk >"$OUT/arch.denmark"
archived layla@example.org >"$OUT/arch.arabic"
is "$(wc -l <"$OUT/arch.denmark") $(wc -l <"$OUT/arch.arabic")" "$n_dk $n_ar" \
	"every post not held or refused is distributed on both lists"
ok "at least 15 hostile posts reach each list's members" \
	test "$(grep -c hostile "$OUT/arch.denmark")" -ge 15 -a \
	"$(grep -c hostile "$OUT/arch.arabic")" -ge 15
if grep -q ' -$' "$OUT/arch.denmark" "$OUT/arch.arabic"; then
	fail "every distributed post carries Archived-At"
	grep ' -$' "$OUT/arch.denmark" "$OUT/arch.arabic" | head -5 | sed 's/^/# /'
else
	pass "every distributed post carries Archived-At"
fi
t_pages_exist() {
	[ -f "$T_HOME/archive/denmark/index.html" ] &&
		[ -f "$T_HOME/archive/arabic/index.html" ] || return 1
	for p in $(cut -d' ' -f2 "$OUT/arch.denmark" "$OUT/arch.arabic"); do
		[ "$p" = - ] || [ -f "$T_HOME$p" ] || return 1
	done
}
if wait_until "$T_WAIT" t_pages_exist; then
	pass "each post has its page at its Archived-At, both list pages exist"
else
	fail "each post has its page at its Archived-At, both list pages exist"
	for p in $(cut -d' ' -f2 "$OUT/arch.denmark" "$OUT/arch.arabic"); do
		[ "$p" = - ] || [ -f "$T_HOME$p" ] || diag "missing $p"
	done | head -10
fi
# Let the last pages (month, thread, feed) be written.
sleep 1

# --- the file system ---------------------------------------------------------
listing after
comm -13 "$OUT/list.before" "$OUT/list.after" >"$OUT/list.new"
if [ -s "$OUT/list.new" ]; then
	fail "no file appeared outside HOME/archive"
	head -20 "$OUT/list.new" | sed 's/^/# new: /'
else
	pass "no file appeared outside HOME/archive"
fi
is "$(cksum </etc/passwd) $(ls /etc/cron.d/evil 2>/dev/null)" "$passwd_sum " \
	"/etc/passwd is untouched and there is no /etc/cron.d/evil"
# Names under the archive are made by mlmd (hashes, months, fixed
# names), never taken from a mail: plain ASCII, no dot file, nothing like
# the corpus's attachment names.
(cd "$T_HOME/archive" && find . -mindepth 1) >"$OUT/archive.files"
grep -Ev '^\.(/[A-Za-z0-9_][A-Za-z0-9._-]{0,99})+$' "$OUT/archive.files" \
	>"$OUT/archive.badnames"
grep -Ei 'passwd|cron|etc/|hidden|script|AAAAAAAA|\.\.' "$OUT/archive.files" \
	>>"$OUT/archive.badnames"
(cd "$T_HOME/archive" && find . -mindepth 1 -maxdepth 1 -type d) |
	grep -Evx '\./(denmark|arabic|sweden|norway|finland|iceland|all|news|coordinators)' \
	>>"$OUT/archive.badnames"
if [ -s "$OUT/archive.badnames" ]; then
	fail "every name under HOME/archive is one mlmd made"
	sort -u "$OUT/archive.badnames" | head -10 | cut -c1-200 | sed 's/^/# /'
else
	pass "every name under HOME/archive is one mlmd made"
fi

# --- links -------------------------------------------------------------------
for l in denmark arabic; do
	$PY "$H/linkcheck.py" --pages "$OUT/pages.$l" --types "$OUT/types.$l" \
		"$ORIGIN/archive/$l/index.html" >"$OUT/linkcheck.$l" 2>&1
	lc=$?
	if [ "$lc" -eq 0 ]; then
		pass "$l: no broken internal link ($(tail -n1 "$OUT/linkcheck.$l"))"
	else
		fail "$l: no broken internal link"
		grep -v '^CHECKED' "$OUT/linkcheck.$l" | head -15 | cut -c1-300 |
			sed 's/^/# /'
		tail -n1 "$OUT/linkcheck.$l" | sed 's/^/# /'
	fi
done
cat "$OUT/pages.denmark" "$OUT/pages.arabic" >"$OUT/pages" 2>/dev/null
: >"$OUT/unreached"
for l in denmark arabic; do
	for p in $(cut -d' ' -f2 "$OUT/arch.$l"); do
		[ "$p" = - ] || grep -qxF "$ORIGIN$p" "$OUT/pages" ||
			echo "$l $p" >>"$OUT/unreached"
	done
done
if [ -s "$OUT/unreached" ]; then
	fail "every post's page is reachable from its list page"
	head -5 "$OUT/unreached" | sed 's/^/# /'
else
	pass "every post's page is reachable from its list page"
fi
# Only pages mlmd renders may be served as something a browser runs;
# raw messages, mboxes and attachments never.
cat "$OUT/types.denmark" "$OUT/types.arabic" 2>/dev/null |
	awk -F'\t' 'tolower($3) ~ /html|svg|xml|javascript|ecmascript|xsl/ &&
		tolower($3) !~ /atom/ && $1 !~ /(\.html|\/|\/search\?.*)$/' \
	>"$OUT/active"
if [ -s "$OUT/active" ]; then
	fail "no raw message, mbox or attachment is served as an active type"
	head -5 "$OUT/active" | cut -c1-200 | sed 's/^/# /'
else
	pass "no raw message, mbox or attachment is served as an active type"
fi

# --- the browser ---------------------------------------------------------------
# The search pages too: queries that would run if reflected raw, and
# words that find the hostile posts, so that their snippets are shown.
for l in denmark arabic; do
	for q in "\"<script>fetch('http://127.0.0.1:$CP/search')</script>\"" \
		'"><img src=x onerror=alert(1)>' script onerror PWNED \
		Aarhus 'كوبنهاغن'; do
		echo "$ORIGIN/archive/$l/search?q=$($PY -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$q")"
	done
done >>"$OUT/pages"
for u in $(grep '/search?' "$OUT/pages"); do
	printf '%s %s\n' "$(curl -s -o /dev/null -w '%{http_code}' "$u" 2>/dev/null)" "$u"
done >"$OUT/search.status"
diag "search pages: $(cut -d' ' -f1 "$OUT/search.status" | sort | uniq -c | tr -s ' \n' ' ')(status count)"
diag "$(wc -l <"$OUT/pages") pages to open in Chromium"

# The views: list, month (threads) and message pages of both lists.
msg_of() { grep "^<$1@normal.test>" "$OUT/arch.$2" | cut -d' ' -f2; }
{
	echo "denmark-list $ORIGIN/archive/denmark/index.html ltr da"
	echo "denmark-month $ORIGIN/archive/denmark/$MONTH/index.html ltr da"
	echo "denmark-message $ORIGIN$(msg_of dk1 denmark) ltr da"
	echo "arabic-list $ORIGIN/archive/arabic/index.html rtl ar"
	echo "arabic-month $ORIGIN/archive/arabic/$MONTH/index.html rtl ar"
	echo "arabic-message $ORIGIN$(msg_of ar1 arabic) rtl ar"
} >"$OUT/views"

t0=$(date +%s)
$PY "$H/cdp.py" --origin "$ORIGIN" --pages "$OUT/pages" --views "$OUT/views" \
	--shots "$SHOTS" --profile "$T_DIR/chrome" >"$OUT/cdp.out" 2>&1
cdp_rc=$?
diag "Chromium: $(grep -m1 '^INFO Chrome' "$OUT/cdp.out" | cut -c6-), $(tail -n1 "$OUT/cdp.out"), $(($(date +%s) - t0)) s"
ok "Chromium was driven over the DevTools pipe" \
	sh -c "[ $cdp_rc -ne 2 ] && grep -q '^DONE' '$OUT/cdp.out'"
[ "$cdp_rc" -ne 2 ] || sed 's/^/# /' "$OUT/cdp.out" | tail -n 20

# no_fail KIND... DESC
no_fail() {
	t_desc=$1
	shift
	t_re=$(echo "$*" | tr ' ' '|')
	if grep -Eq "^FAIL ($t_re) " "$OUT/cdp.out"; then
		fail "$t_desc"
		grep -E "^FAIL ($t_re) " "$OUT/cdp.out" | head -12 | cut -c1-300 |
			sed 's/^/# /'
		t_n=$(grep -Ec "^FAIL ($t_re) " "$OUT/cdp.out")
		[ "$t_n" -le 12 ] || diag "... $t_n in all"
	else
		pass "$t_desc"
	fi
}
no_fail "no page has a script element" script
no_fail "no page has an active element, handler or script URL" active
no_fail "no page requests anything off its origin" request
no_fail "no console call and no exception" console exception
no_fail "no dialog opens" dialog
no_fail "no page title becomes PWNED" title
no_fail "no page navigates away" navigate
no_fail "every page and sub-resource loads" load status cdp
no_fail "no horizontal overflow at 360 and 1280 pixels" overflow
no_fail "Arabic pages are right-to-left, Danish ones left-to-right" direction
no_fail "each list's pages carry its language" lang
grep '^SHOT ' "$OUT/cdp.out" | cut -c6- >"$OUT/shots"
is "$(wc -l <"$OUT/shots")" 12 "twelve screenshots"
while read -r s; do diag "screenshot: $s"; done <"$OUT/shots"
if [ -n "${MLMD_SHOTS_OUT:-}" ]; then
	mkdir -p "$top_srcdir/doc/screenshots" &&
		xargs -r cp -t "$top_srcdir/doc/screenshots" -- <"$OUT/shots" &&
		diag "copied to $top_srcdir/doc/screenshots/"
fi

# --- the canary, the daemon ----------------------------------------------------
sleep 0.5
if [ -s "$T_DIR/canary.log" ]; then
	fail "the canary got no request at all"
	sort "$T_DIR/canary.log" | uniq -c | head -20 | sed 's/^/# /'
else
	pass "the canary got no request at all"
fi
stop_pid "$CANARY_PID" 5
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report" no_sanitizer_report
done_testing
