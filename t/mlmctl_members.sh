#!/bin/sh
# mlmctl_members.sh - membership by hand through the real mlmctl binary:
# `add`, `members`, `remove`, `import` (t/data/members/*.csv: header in any
# order, BOM, CRLF, RFC 4180 quoting, bad rows reported as FILE:LINE and
# skipped, idempotent reruns), `export` (quoted CSV that imports back to
# the same members), the exit codes (0, 64 usage, 65 bad data, 66 missing
# file, 67 no such list) and the consent records in the database.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
DATA=$top_srcdir/t/data/members
CONF=$T_DIR/members.conf
cat >"$CONF" <<EOF
domain = "lists.mlmd.test"
home = "$T_HOME"
list denmark { language = "da" }
list sweden { language = "sv" }
EOF

# run ARGS...: mlmctl -c CONF ARGS; sets RC, OUT, ERR
run() {
	"$MLMCTL" -c "$CONF" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
	RC=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
}

# has TEXT FIXED DESC: TEXT contains the fixed string
has() {
	if printf '%s\n' "$1" | grep -qF -- "$2"; then
		pass "$3"
	else
		fail "$3"
		diag "got:  '$1'"
		diag "want: ...'$2'..."
	fi
}

TAB=$(printf '\t')

# --- add / members / remove ------------------------------------------------
run add denmark alice@example.org 'Bob Berg <BOB@Example.COM>' \
	'"Hansen, Mette" <mette@example.dk>'
is "$RC" 0 "add: exit 0"
is "$OUT" "added alice@example.org to denmark
added bob@example.com to denmark
added mette@example.dk to denmark" "add: one line per address, normalised"

run add denmark ALICE@example.org not-an-address 'Eve <eve@example.org>'
is "$RC" 65 "add with an invalid address: exit 65 (EX_DATAERR)"
has "$ERR" "'not-an-address' is not a valid address" \
	"add: the invalid address is reported"
is "$OUT" "alice@example.org is already a member of denmark
added eve@example.org to denmark" \
	"add: already a member is no error, the valid one is added"

run add denmark alice@example.org
is "$RC" 0 "add of a member only: exit 0"

run members denmark
is "$RC" 0 "members: exit 0"
is "$OUT" "alice@example.org$TAB-$TAB-${TAB}each
bob@example.com${TAB}Bob Berg$TAB-${TAB}each
eve@example.org${TAB}Eve$TAB-${TAB}each
mette@example.dk${TAB}Hansen, Mette$TAB-${TAB}each" \
	"members: address, name, language, delivery; ordered"

run members sweden
is "$RC" 0 "members of an empty list: exit 0"
is "$OUT" "" "members of an empty list: no output"

run remove denmark EVE@example.org nobody@example.org
is "$RC" 0 "remove: exit 0 (not a member is no error)"
is "$OUT" "removed eve@example.org from denmark
nobody@example.org is not a member of denmark" "remove: one line per address"

run members denmark
like "$OUT" "^alice" "members after remove: alice first"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 "members after remove: 3"

# --- exit codes ------------------------------------------------------------
for cmd in "members nosuch" "add nosuch a@example.org" \
	"remove nosuch a@example.org" "import nosuch $DATA/good.csv" \
	"export nosuch"; do
	# shellcheck disable=SC2086
	run $cmd
	is "$RC" 67 "${cmd%% *} on an unknown list: exit 67 (EX_NOUSER)"
	has "$ERR" "no list 'nosuch'" "${cmd%% *}: says which list is unknown"
done
for cmd in "members" "add denmark" "remove" "import denmark" "export"; do
	# shellcheck disable=SC2086
	run $cmd
	is "$RC" 64 "'$cmd': exit 64 (EX_USAGE)"
done
run import denmark "$T_DIR/no-such-file.csv"
is "$RC" 66 "import of a missing file: exit 66 (EX_NOINPUT)"
has "$ERR" "cannot read $T_DIR/no-such-file.csv" "import: says which file"

# --- import ------------------------------------------------------------------
run import sweden "$DATA/good.csv"
is "$RC" 0 "import good.csv: exit 0"
is "$OUT" "4 added, 0 already members, 0 bad rows" "import good.csv: summary"
is "$ERR" "" "import good.csv: nothing on stderr"
run members sweden
is "$OUT" "ali@example.no${TAB}Ali \"the baker\" Khan$TAB-${TAB}each
asa@example.se${TAB}Åsa Lind${TAB}sv${TAB}each
mette@example.dk${TAB}Hansen, Mette${TAB}da${TAB}each
omar@example.org$TAB-${TAB}ar${TAB}each" \
	"import: BOM, CRLF, any column order, quotes, blank line, spaces"
run import sweden "$DATA/good.csv"
is "$RC" 0 "import good.csv again: exit 0"
is "$OUT" "0 added, 4 already members, 0 bad rows" \
	"import is idempotent: the rerun adds nothing"

run import denmark "$DATA/bad.csv"
is "$RC" 65 "import bad.csv: exit 65 (EX_DATAERR)"
is "$OUT" "2 added, 1 already members, 8 bad rows" "import bad.csv: summary"
B=$DATA/bad.csv
for want in "$B:1: column 'extra' ignored" \
	"$B:3: 'not-an-address' is not a valid address" \
	"$B:4: no address" \
	"$B:5: 5 fields, but the header has 4" \
	"$B:6: a quote inside an unquoted field" \
	"$B:7: the name has a line break" \
	"$B:9: text after a closing quote" \
	"$B:12: 'english!' is not a language code" \
	"$B:13: unterminated quoted field"; do
	has "$ERR" "$want" "import bad.csv: ${want#"$DATA/"}"
done
run members denmark
has "$OUT" "good2@example.org${TAB}Good Two${TAB}en${TAB}each" \
	"import: language lower-cased"
has "$OUT" "good1@example.org${TAB}Good One${TAB}da" \
	"import: a duplicate row keeps the first"

run import denmark "$DATA/noaddress.csv"
is "$RC" 65 "import without an address column: exit 65"
has "$ERR" "noaddress.csv:1: the header row has no 'address' column" \
	"import without an address column: says so"

# --- export, and back -------------------------------------------------------
run export sweden
is "$RC" 0 "export: exit 0"
is "$OUT" 'address,name,language,delivery
ali@example.no,"Ali ""the baker"" Khan",,each
asa@example.se,Åsa Lind,sv,each
mette@example.dk,"Hansen, Mette",da,each
omar@example.org,,ar,each' "export: header and RFC 4180 quoting"
cp "$T_DIR/out" "$T_DIR/sweden.csv"
run export denmark
cp "$T_DIR/out" "$T_DIR/denmark.csv"
run import sweden "$T_DIR/sweden.csv"
is "$OUT" "0 added, 4 already members, 0 bad rows" \
	"export | import on the same list adds nothing"
# a fresh home: the export rebuilds the same list
T_HOME=$T_DIR/home2
cat >"$CONF" <<EOF
domain = "lists.mlmd.test"
home = "$T_HOME"
list denmark { }
list sweden { }
EOF
run import denmark "$T_DIR/denmark.csv"
is "$RC" 0 "re-import of the export into a new home: exit 0"
run export denmark
if cmp -s "$T_DIR/out" "$T_DIR/denmark.csv"; then
	pass "the re-imported list exports the same CSV"
else
	fail "the re-imported list exports the same CSV"
	diff "$T_DIR/denmark.csv" "$T_DIR/out" | sed 's/^/# /'
fi

# --- what the database recorded ----------------------------------------------
# (not lib.sh's sql: that runs as the daemon's user, and mlmctl ran as us)
sql() {
	sqlite3 -batch -bail -cmd '.timeout 5000' "$T_DIR/home/mlmd.db" "$1"
}
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip 5 "no sqlite3 command"
	done_testing
fi
is "$(sql "SELECT count(*) FROM consents WHERE action = 'subscribe' AND
	how LIKE 'mlmctl add by %'")" 4 "consent: one row per add"
is "$(sql "SELECT count(*) FROM consents WHERE action = 'unsubscribe' AND
	how LIKE 'mlmctl remove by %'")" 1 "consent: one row per remove"
is "$(sql "SELECT count(*) FROM consents WHERE list = 'sweden' AND
	how LIKE 'import by % from $DATA/good.csv'")" 4 \
	"consent: import names the operator and the file"
# The operator is who ran mlmctl, not the user it drops to as root.
is "$(sql "SELECT count(*) FROM consents WHERE
	how = 'mlmctl add by $(id -un)'")" 4 "consent: names the real operator"
is "$(sql "SELECT count(*) FROM event_log WHERE kind = 'subscribe'")" 10 \
	"event log: one row per subscription"

done_testing
