#!/bin/sh
# mlmctl_config.sh - `mlmctl check-config` on the sample files in
# t/data/conf/: good files print "ok" and one line per list and exit 0;
# each bad-*.conf names on its first line ("# expect LINE: message") the
# error it must produce, printed as FILE:LINE: message with exit 78.  Also
# the global exit codes: missing file 66, usage errors 64.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
DATA=$top_srcdir/t/data/conf

# run ARGS...: sets RC, OUT, ERR
run() {
	"$MLMCTL" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
	RC=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
}

run -c "$DATA/good.conf" check-config
is "$RC" 0 "good.conf: exit 0"
like "$OUT" "^ok: .*good.conf: domain lists.example.org, 8 lists" \
	"good.conf: ok line"
like "$OUT" "$(printf '^denmark\tdenmark@lists.example.org\tmembers\t-$')" \
	"good.conf: denmark line"
like "$OUT" "$(printf '^news\tnews@lists.example.org\tannounce\t-$')" \
	"good.conf: news is announce-only"
like "$OUT" "$(printf '^all\tall@lists.example.org\tmembers\tdenmark,sweden,norway,finland,iceland$')" \
	"good.conf: all and its includes"
is "$ERR" "" "good.conf: nothing on stderr"

run -c "$DATA/minimal.conf" check-config
is "$RC" 0 "minimal.conf: exit 0"
is "$OUT" "ok: $DATA/minimal.conf: domain lists.example.org, 0 lists" \
	"minimal.conf: no lists"

for f in "$DATA"/bad-*.conf; do
	name=$(basename "$f")
	expect=$(sed -n '1s/^# expect //p' "$f")
	line=${expect%%:*}
	msg=${expect#*: }
	run -c "$f" check-config
	is "$RC" 78 "$name: exit 78 (EX_CONFIG)"
	# fixed-string match: messages contain regex characters
	if printf '%s\n' "$ERR" | grep -qF -- "$f:$line: $msg"; then
		pass "$name: '$line: $msg'"
	else
		fail "$name: '$line: $msg'"
		diag "got: $ERR"
	fi
	is "$OUT" "" "$name: nothing on stdout"
done

# every line of a report is FILE:LINE: message
run -c "$DATA/bad-owner.conf" check-config
is "$(printf '%s\n' "$ERR" | grep -cv "^$DATA/bad-owner.conf:[0-9][0-9]*: ")" 0 \
	"errors are one FILE:LINE: message per line"

run -c "$T_DIR/nonexistent.conf" check-config
is "$RC" 66 "missing file: exit 66 (EX_NOINPUT)"
like "$ERR" "^mlmctl: cannot read .*nonexistent.conf: No such file" \
	"missing file: one clear line"

run -c "$DATA/good.conf"
is "$RC" 64 "no command: exit 64"
run -c "$DATA/good.conf" frobnicate
is "$RC" 64 "unknown command: exit 64"
like "$ERR" "unknown command 'frobnicate'" "unknown command: named"
run -c "$DATA/good.conf" check-config extra
is "$RC" 64 "check-config with an argument: exit 64"
run --bogus-option
is "$RC" 64 "unknown option: exit 64"
run --help
is "$RC" 0 "--help: exit 0"
like "$OUT" "check-config" "--help lists the commands"
run --version
like "$OUT" "^mlmctl \(mlmd\) [0-9]" "--version"

done_testing
