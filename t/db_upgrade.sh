#!/bin/sh
# db_upgrade.sh - a database made by an earlier mlmd (issue 10): the
# fixture t/data/db/v3.sql is a database at schema version 3 with members,
# consents, tokens, a held post, archive rows indexed by the old full-text
# index and queued copies.  Opened by the current mlmctl it must migrate
# forward to the newest version (the one a new database gets), keep every
# row, and the old posts must be searchable (migration 4 rebuilt the
# index: per list, without the hidden post).  A database newer than this
# build is refused, by mlmctl and by mlmd, with a message saying so, and
# left as it was.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
command -v sqlite3 >/dev/null 2>&1 || skip_all "no sqlite3 (Debian: sqlite3)"
FIXTURE=$top_srcdir/t/data/db/v3.sql
TAB=$(printf '\t')

conf_write

# home_with_fixture HOME: HOME/mlmd.db made from the fixture, owned by the
# daemon's user (as the database of a running installation is)
home_with_fixture() {
	mkdir -p "$1"
	is_root && chown "$T_USER" "$1"
	as_user sqlite3 -batch -bail "$1/mlmd.db" <"$FIXTURE"
}

# run ARGS...: mlmctl -c T_CONF ARGS; sets RC, OUT, ERR
run() {
	"$MLMCTL" -c "$T_CONF" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
	RC=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
}

# The newest version: the one mlmctl gives a new database.
FRESH=$T_DIR/fresh
sed "s|^home = .*|home = \"$FRESH\"|" "$T_CONF" >"$T_DIR/fresh.conf"
"$MLMCTL" -c "$T_DIR/fresh.conf" members denmark >/dev/null 2>&1
LATEST=$(as_user sqlite3 "$FRESH/mlmd.db" 'PRAGMA user_version')
# and the last migration in the source
SRC_LATEST=$(sed -n 's/^ *{\([0-9][0-9]*\), ".*/\1/p' \
	"$top_srcdir/mlmd/db_schema.c" | tail -n 1)
is "$LATEST" "$SRC_LATEST" "a new database gets the last migration's version"
ok "the newest version is past the fixture's 3" test "${LATEST:-0}" -gt 3

home_with_fixture "$T_HOME" || bail "sqlite3 could not load $FIXTURE"
is "$(sql 'PRAGMA user_version')" 3 "the fixture is at schema version 3"
is "$(sql 'SELECT count(*) FROM messages_fts')" 4 \
	"the fixture's old full-text index holds its 4 posts"

# --- the upgrade ---------------------------------------------------------------
run members denmark
is "$RC" 0 "mlmctl members opens the version 3 database: exit 0"
[ "$RC" -eq 0 ] || diag "$ERR"
is "$(printf '%s\n' "$OUT" | cut -f1,2)" "alice@example.org${TAB}Alice Ahmed
bob@example.com${TAB}Bob Berg
mette@example.dk${TAB}Hansen, Mette" "the old members are listed"
is "$(sql 'PRAGMA user_version')" "$LATEST" \
	"the database migrated to version $LATEST"
is "$(sql 'PRAGMA integrity_check')" ok "integrity_check: ok"

# every old row is still there, unchanged
is "$(sql "SELECT count(*) FROM persons") $(sql "SELECT count(*) FROM members") \
$(sql "SELECT count(*) FROM consents") $(sql "SELECT count(*) FROM event_log")" \
	"4 4 4 5" "persons, members, consents, event_log: all rows kept"
is "$(sql "SELECT list, address, name, language, digest, digest_format,
	nomail, moderated, since, bounce_score, bounce_updated
	FROM members WHERE id = 3")" \
	"denmark|mette@example.dk|Hansen, Mette|da|0|mime|1|1|1709251400|1.5|1709900000" \
	"a member's settings and bounce score are kept"
is "$(sql "SELECT name FROM members WHERE id = 4")" "Sara Öberg" \
	"UTF-8 names are kept"
is "$(sql "SELECT hex(value) FROM secrets WHERE name = 'token_hmac'")" \
	"6D6C6D642D76332D666978747572652D6B65792D6E6F742D7365637265742121" \
	"the token key is kept (old links stay valid)"
is "$(sql "SELECT token, purpose, list, address, expires, used IS NULL
	FROM tokens")" "s3kq7wz2mfx4a9c8|subscribe|sweden|nils@example.se|1709759200|1" \
	"the pending confirmation is kept"
is "$(sql "SELECT list, spool_id, state FROM held") \
$(sql "SELECT count(*) FROM accept_senders")" \
	"denmark|1709510000.M1P2.host|held 1" "the held post and accept list"
is "$(sql "SELECT recipient, state, kind, ifnull(member, '-'), last_error
	FROM outbound ORDER BY id")" \
	"alice@example.org|sent|post|1|
bob@example.com|deferred|post|2|4.7.1 greylisted, try again later
eve@example.net|sent|notice|-|" "the queued copies (kind, member) are kept"
is "$(sql "SELECT count(*) FROM bounces") $(sql "SELECT count(*) FROM inbound")" \
	"1 1" "bounces and inbound rows kept"
is "$(sql "SELECT id, list, subject, month, hidden, erased FROM messages
	ORDER BY id")" \
	"1|denmark|Møde om iværksætteri i København|2024-03|0|0
2|denmark|Re: Møde om iværksætteri i København|2024-03|0|0
3|denmark|Privat|2024-03|1|0
4|sweden|Företagarträff i Malmö|2024-03|0|0" \
	"the archive rows are kept (erased, new in 4, is 0)"
is "$(sql "SELECT group_concat(message) FROM message_text")" "1,2,4" \
	"the hidden post's text left the index's source (migration 4)"
is "$(sql "SELECT count(*) FROM events") $(sql "SELECT count(*) FROM rsvps") \
$(sql "SELECT count(*) FROM event_occurrences WHERE summarized != 0")" \
	"0 0 0" "events and rsvps: empty, with the columns of version 5"
is "$(as_user sqlite3 -batch "$T_HOME/mlmd.db" \
	"INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')" \
	2>&1)" "" "the new full-text index matches its rows (integrity-check)"

# --- the old posts are found by the new index ----------------------------------------
run search denmark Væksthuset
is "$RC" 0 "search denmark Væksthuset: exit 0"
like "$OUT" "^2024-03-02  alice@example.org +Møde om iværksætteri" \
	"an old post is found by a word of its body"
run search denmark '"taler om bogføring"'
like "$OUT" "Møde om iværksætteri" "a phrase of the old post is found"
run search sweden malmo
like "$OUT" "sara@example.se +Företagarträff i Malmö" \
	"the other list's old post is found (malmo finds Malmö)"
run search denmark 'from:bob'
is "$(printf '%s\n' "$OUT" | grep -c '^2024')" 1 "from:bob finds Bob's reply"
run search denmark hemmelig
is "$RC:$OUT" "0:no message of denmark matches" \
	"the hidden post is not found"
run search denmark kanelbullar
is "$OUT" "no message of denmark matches" \
	"a post of sweden is not found in denmark (the index is per list)"

# a second open is a no-op
run members sweden
is "$RC:$(printf '%s\n' "$OUT" | cut -f1)" "0:sara@example.se" \
	"a second open: exit 0, sweden's member"
is "$(sql 'PRAGMA user_version')" "$LATEST" "still version $LATEST"

# --- a database newer than this build ----------------------------------------------
NEWER=$T_DIR/newer
mkdir -p "$NEWER"
is_root && chown "$T_USER" "$NEWER"
as_user sqlite3 "$T_HOME/mlmd.db" ".backup '$NEWER/mlmd.db'"
as_user sqlite3 "$NEWER/mlmd.db" 'PRAGMA user_version = 99'
sed "s|^home = .*|home = \"$NEWER\"|" "$T_CONF" >"$T_DIR/newer.conf"
"$MLMCTL" -c "$T_DIR/newer.conf" members denmark >"$T_DIR/out" 2>"$T_DIR/err"
RC=$?
ok "mlmctl refuses a database of version 99: exit $RC" test "$RC" -ne 0
like "$(cat "$T_DIR/err")" "schema version 99, newer than this mlmd knows \\($LATEST\\)" \
	"mlmctl says the database is newer"
ok "and prints no member" test ! -s "$T_DIR/out"
is "$(as_user sqlite3 "$NEWER/mlmd.db" 'PRAGMA user_version;
	SELECT count(*) FROM members')" "99
4" "the newer database is left as it was"

# the daemon refuses it too, at start-up, with the same message
sed -e "s|^home = .*|home = \"$NEWER\"|" \
    -e "s|^lmtp = .*|lmtp = \"unix:$T_DIR/newer.sock\"|" \
	"$T_CONF" >"$T_DIR/newer.conf"
timeout "$T_WAIT" "$MLMD" -c "$T_DIR/newer.conf" -f 2>"$T_DIR/err"
RC=$?
is "$RC" 69 "mlmd does not start with it: exit 69 (EX_UNAVAILABLE)"
like "$(cat "$T_DIR/err")" "newer than this mlmd knows" \
	"mlmd says the database is newer"

done_testing
