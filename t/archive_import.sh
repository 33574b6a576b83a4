#!/bin/sh
# archive_import.sh - `mlmctl archive import LIST FILE` (issue 6): an
# mboxrd file of a few threads (Danish and Arabic subjects in encoded
# words, a >From line, a message without Message-ID, one that breaks a
# parse limit) goes into the store and the archive index; the pages are
# written, search finds the messages, importing again adds nothing; then
# a pipermail export, a CRLF file, a pipe, and the errors (unknown list,
# missing file, not an mbox).  No daemon is needed.  mlmctl runs as the
# caller (root in CI), as an administrator would: it reads the file
# first, then drops to the daemon's user for everything it writes.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"

plan 32

DATA=$top_srcdir/t/data/mbox
A=$T_HOME/archive/denmark
conf_write

imp() {
	"$MLMCTL" -c "$T_CONF" archive import "$@" \
		>"$T_DIR/imp.out" 2>"$T_DIR/imp.err"
}

imp denmark "$DATA/threads.mbox"
is "$?" 0 "import exits 0 with an unreadable message in the file"
like "$(head -1 "$T_DIR/imp.out")" \
	"^denmark: 5 imported, 0 already there, 1 unreadable$" "the counts"
like "$(cat "$T_DIR/imp.err")" "threads.mbox: the message at byte [0-9]+ cannot be read: .*header" \
	"the unreadable one is reported with its byte offset"
like "$(sed -n 2p "$T_DIR/imp.out")" "^denmark: [0-9]+ pages written$" \
	"the pages are written at the end"
ok "the list page exists" test -f "$A/index.html"
is "$(ls "$A/m" | grep -c '\.html$')" 5 "a page per imported message"
ok "the month of the From_ lines has its page" test -f "$A/2024-01/index.html"
ok "the Danish subject is decoded on the month page" \
	grep -q "Netværk i Århus" "$A/2024-01/index.html"
ok "the Arabic subject too" grep -q "سؤال عن الضرائب" "$A/2024-01/index.html"
is "$(ls "$T_HOME/store" | wc -l)" 5 "five messages in the store"
is "$(ls "$T_HOME/spool/tmp" | wc -l)" 0 "nothing left in spool/tmp"

"$MLMCTL" -c "$T_CONF" search denmark startuptax >"$T_DIR/s.out" 2>&1
like "$(cat "$T_DIR/s.out")" "سؤال عن الضرائب" \
	"search finds an imported message (base64 body)"
"$MLMCTL" -c "$T_CONF" search denmark kaffemoede >"$T_DIR/s.out" 2>&1
like "$(cat "$T_DIR/s.out")" "Kaffemøde uden Message-ID" \
	"and the one without a Message-ID"
f=$(grep -l '^Subject: Kaffem' "$T_HOME/store"/*)
like "$(grep '^Message-ID:' "$f")" '^Message-ID: <imported-[0-9a-f]{16}@mlmd.invalid>$' \
	"which is stored with a Message-ID made from its bytes"

f=$(grep -l 'aarhus-1@example.net' "$T_HOME/store"/* | head -1)
ok "mboxrd: >From comes back as From in the stored message" \
	grep -q '^From the minutes of last time' "$f"
ok "and >>From as >From" grep -q '^>From here on, a quoted quote' "$f"
is "$(head -1 "$f")" "X-Mlmd-Spool: 1" "the store file is in the spool format"
is "$(tail -1 "$f")" "X-Mlmd-End" "and whole"
ok "its envelope sender is the From_ line's" \
	grep -q '^Sender: <amira@example.net>$' "$f"

imp denmark "$DATA/threads.mbox"
like "$(head -1 "$T_DIR/imp.out")" \
	"^denmark: 0 imported, 5 already there, 1 unreadable$" \
	"importing again adds nothing"
is "$(ls "$T_HOME/store" | wc -l)" 5 "and leaves no file behind"

imp denmark "$DATA/pipermail.mbox"
like "$(head -1 "$T_DIR/imp.out")" "^denmark: 2 imported, 0 already there, 0 unreadable$" \
	"a pipermail export"
is "$(cat "$T_DIR/imp.err")" "" "no progress bar when stderr is not a terminal"
"$MLMCTL" -c "$T_CONF" search denmark revisorodense >"$T_DIR/s.out" 2>&1
like "$(cat "$T_DIR/s.out")" "Bokföring for nye virksomheder" "is searchable"
ok "its 'x at y' envelope sender becomes an address" \
	grep -q '^Sender: <karin@example.se>$' $(grep -l 'pm-1@example.se' "$T_HOME/store"/*)

"$MLMCTL" -c "$T_CONF" archive import denmark /dev/stdin \
	<"$DATA/crlf.mbox" >"$T_DIR/imp.out" 2>"$T_DIR/imp.err"
like "$(head -1 "$T_DIR/imp.out")" "^denmark: 2 imported" \
	"a CRLF file, read from a pipe"

if is_root; then
	{ sed 's/aarhus-1@example.net/root-only@example.net/' "$DATA/threads.mbox"; } \
		>"$T_DIR/root.mbox"
	chmod 600 "$T_DIR/root.mbox"
	imp denmark "$T_DIR/root.mbox"
	like "$(head -1 "$T_DIR/imp.out")" "^denmark: 1 imported, 4 already there" \
		"root imports a file only root can read"
	is "$(stat -c %U "$T_HOME/store"/* | sort -u)" "$T_USER" \
		"every store file belongs to the daemon's user"
else
	skip 2 "not root"
fi

imp nosuchlist "$DATA/threads.mbox"
is "$?" 67 "an unknown list: exit 67"
like "$(cat "$T_DIR/imp.err")" "no list 'nosuchlist'" "with a clear message"
imp denmark "$T_DIR/missing.mbox"
is "$?" 66 "a missing file: exit 66"
printf 'hello world\nthis is not an mbox\n' >"$T_DIR/junk.txt"
imp denmark "$T_DIR/junk.txt"
is "$?" 65 "not an mbox: exit 65"

done_testing
