#!/bin/sh
# root.sh - privileges (STYLE.md "Security by default"): started as root
# without `user` in its configuration, mlmd refuses to run (exit 78, a
# message naming `user`) and opens nothing; with user = "nobody" it runs
# as nobody, its home belongs to nobody, and its unix socket is 0666 so
# that Postfix's lmtp client can connect.  Also the plain command line:
# --help, --version, -n.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
is_root || skip_all "not running as root"

# Command line (table: args, expected status).
for c in "--help 0" "--version 0" "-x 64"; do
	set -- $c
	"$MLMD" "$1" >"$T_DIR/out" 2>&1
	is "$?" "$2" "mlmd $1: exit $2"
done

conf_write
# Without the user line.
grep -v '^user = ' "$T_CONF" >"$T_DIR/nouser.conf"
"$MLMD" -c "$T_DIR/nouser.conf" -n >"$T_DIR/n.out" 2>&1
is "$?" 0 "mlmd -n prints the configuration and exits 0"
like "$(cat "$T_DIR/n.out")" "domain *= *\"?$T_DOMAIN" \
	"mlmd -n: the effective configuration names the domain"

timeout "$T_WAIT" "$MLMD" -c "$T_DIR/nouser.conf" -f >"$T_DIR/root.out" 2>&1
is "$?" 78 "as root without user: exit 78 (EX_CONFIG)"
like "$(cat "$T_DIR/root.out")" "refusing to run as root.*user" \
	"the message says to set user"
like "$(cat "$T_DIR/root.out")" "nouser\\.conf" "the message names the file"
ok "nothing was opened: no socket" test ! -e "$T_SOCK"
ok "nothing was created: no home" test ! -e "$T_HOME"

"$MLMD" -c "$T_DIR/broken.conf" -n >"$T_DIR/b.out" 2>&1
is "$?" 78 "mlmd -n on a missing file: exit 78"

# With user = "nobody".
daemon_start || bail "mlmd did not start with user = nobody"
uid=$(awk '/^Uid:/ { print $2 "," $3 "," $4 "," $5 }' \
	"/proc/$T_MLMD_PID/status")
n=$(id -u "$T_USER")
is "$uid" "$n,$n,$n,$n" "the daemon runs as $T_USER (real, effective, saved, fs)"
groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$T_MLMD_PID/status")
ok "no supplementary group of root's left (groups:$groups)" \
	sh -c "echo ' $groups ' | grep -qv ' 0 '"
is "$(stat -c %U "$T_HOME")" "$T_USER" "home belongs to $T_USER"
is "$(find "$T_HOME/spool" -maxdepth 1 -mindepth 1 -type d ! -user "$T_USER" |
	wc -l)" 0 "spool folders belong to $T_USER"
is "$(stat -c %a "$T_SOCK")" 666 "the unix socket is mode 0666"
msg "$T_DIR/m.eml" "denmark@$T_DOMAIN" "Hej" "root-test@example.net"
ok "a message is accepted" lmtp_send "$T_DIR/m.eml" "denmark@$T_DOMAIN"
ok "and recorded" wait_inbound 1
is "$(stat -c %U "$T_HOME/mlmd.db")" "$T_USER" "the database belongs to $T_USER"
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "the unix socket is removed at exit" test ! -e "$T_SOCK"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
