#!/bin/sh
# inject.sh - mlmd-inject, the pipe entry for MTAs: its sysexits codes
# (0, 64 usage, 65 too big, 67 unknown list, 78 bad config), that it works
# while the daemon is down (the message waits in spool/incoming/ and is
# processed when mlmd starts), and that damaged spool files (no end
# marker, wrong Size) go to quarantine/ and are never processed.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

D=$T_DOMAIN
conf_write
# A first run creates home and its folders (owned by the daemon's user).
daemon_start || bail "mlmd did not start"
daemon_stop

# inject EXPECTED-STATUS DESC [ARGS...] < message
inject() {
	t_want=$1
	t_what=$2
	shift 2
	"$MLMD_INJECT" "$@" >"$T_DIR/inject.out" 2>"$T_DIR/inject.err"
	t_got=$?
	is "$t_got" "$t_want" "$t_what: exit $t_want" ||
		sed 's/^/# stderr: /' "$T_DIR/inject.err"
}

msg "$T_DIR/m1.eml" "denmark@$D" "Velkommen" "inject-down@example.net"
msg "$T_DIR/m2.eml" "nosuchlist@$D" "Hej" "inject-unknown@example.net"
msg "$T_DIR/big.eml" "denmark@$D" "Stor" "inject-big@example.net"
# 1M is the test limit: 1.1 MB of body.
$PY -c 'import sys
sys.stdout.write(("z" * 78 + "\n") * 14000)' >>"$T_DIR/big.eml"
printf 'domain = "%s"\nhome = \n' "$D" >"$T_DIR/broken.conf"

# Exit codes, table: status, description, arguments (stdin: m1).
inject 64 "no arguments" <"$T_DIR/m1.eml"
inject 64 "no recipient" -c "$T_CONF" <"$T_DIR/m1.eml"
inject 64 "unknown option" -c "$T_CONF" -Q "denmark@$D" <"$T_DIR/m1.eml"
inject 78 "missing config file" -c "$T_DIR/nonexistent.conf" "denmark@$D" \
	<"$T_DIR/m1.eml"
inject 78 "broken config file" -c "$T_DIR/broken.conf" "denmark@$D" \
	<"$T_DIR/m1.eml"
inject 67 "unknown list address" -c "$T_CONF" "nosuchlist@$D" \
	<"$T_DIR/m2.eml"
like "$(cat "$T_DIR/inject.err")" "no such list address: nosuchlist@$D" \
	"unknown list: the message names the address"
inject 67 "one known and one unknown recipient" -c "$T_CONF" \
	"denmark@$D" "nosuchlist@$D" <"$T_DIR/m2.eml"
inject 67 "a recipient of another domain" -c "$T_CONF" \
	"denmark@example.org" <"$T_DIR/m2.eml"
inject 65 "a message over max_message_size" -c "$T_CONF" "denmark@$D" \
	<"$T_DIR/big.eml"
is "$(spool_count incoming)" 0 "refused injections left nothing in incoming/"
is "$(spool_count tmp)" 0 "refused injections left nothing in tmp/"

# The daemon is down: the message waits in incoming/.
inject 0 "daemon down: delivered to the spool" -c "$T_CONF" \
	-f amira@example.net "denmark@$D" <"$T_DIR/m1.eml"
is "$(spool_count incoming)" 1 "daemon down: one file waits in incoming/"
f=$(find "$T_HOME/spool/incoming" -type f | head -1)
is "$(sed -n '1p;/^Sender:/p;/^Recipient:/p;/^Via:/p' "$f" 2>/dev/null)" \
	"X-Mlmd-Spool: 1
Sender: <amira@example.net>
Recipient: <denmark@$D>
Via: inject" "the spool file's envelope"
is "$(tail -n 1 "$f" 2>/dev/null)" "X-Mlmd-End" "the spool file ends in its marker"
if is_root; then
	is "$(stat -c %U "$f" 2>/dev/null)" "$T_USER" \
		"as root, mlmd-inject wrote as the daemon's user"
else
	skip 1 "not root"
fi

# Two damaged files placed by hand: one without its end marker (a writer
# that died mid-file), one whose Size does not match.
now=$(date +%s)
bad1=$now.000001.1.99999.0badf11e
bad2=$now.000002.2.99999.0badf12e
{
	printf 'X-Mlmd-Spool: 1\nSender: <amira@example.net>\n'
	printf 'Recipient: <sweden@%s>\nReceived: %s\nSize: 400\n' "$D" "$now"
	printf 'Via: lmtp\n\n'
	printf 'From: amira@example.net\nSubject: cut\n'
	printf 'Message-ID: <truncated@example.net>\n\nHalf a mess'
} >"$T_DIR/$bad1"
{
	printf 'X-Mlmd-Spool: 1\nSender: <amira@example.net>\n'
	printf 'Recipient: <sweden@%s>\nReceived: %s\nSize: 9999\n' "$D" "$now"
	printf 'Via: lmtp\n\n'
	printf 'From: amira@example.net\nSubject: size\n'
	printf 'Message-ID: <badsize@example.net>\n\nHej\nX-Mlmd-End\n'
} >"$T_DIR/$bad2"
is_root && chown "$T_USER" "$T_DIR/$bad1" "$T_DIR/$bad2"
mv "$T_DIR/$bad1" "$T_DIR/$bad2" "$T_HOME/spool/incoming/"

daemon_start || bail "mlmd did not start"
ok "the waiting message is processed when mlmd starts" wait_inbound 1 \
	"message_id = 'inject-down@example.net'"
ok "spool drained" wait_until "$T_WAIT" spool_settled
is "$(spool_count quarantine)" 2 "both damaged files are in quarantine/"
ok "the quarantined files are the two damaged ones" \
	test -f "$T_HOME/spool/quarantine/$bad1" -a \
	-f "$T_HOME/spool/quarantine/$bad2"
is "$(inbound_count "message_id IN ('truncated@example.net',
	'badsize@example.net')")" 0 "damaged files are not processed"
ok "quarantining is logged with the spool id" grep -q "$bad1" "$T_LOG"

# While the daemon runs, an injected message is processed at once.
msg "$T_DIR/m3.eml" "iceland@$D" "Halló" "inject-up@example.net"
inject 0 "daemon up: delivered" -c "$T_CONF" -f jon@example.org \
	"iceland@$D" "iceland-request@$D" <"$T_DIR/m3.eml"
ok "daemon up: processed without a restart" wait_inbound 2 \
	"message_id = 'inject-up@example.net'"
is "$(sql "SELECT group_concat(role, ',') FROM (SELECT role FROM inbound
	WHERE message_id = 'inject-up@example.net' ORDER BY role)")" \
	"post,request" "one row per recipient with its role"
is "$(sql "SELECT DISTINCT sender FROM inbound
	WHERE message_id = 'inject-up@example.net'")" "jon@example.org" \
	"-f sets the envelope sender"
ok "spool drained again" wait_until "$T_WAIT" spool_settled

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
