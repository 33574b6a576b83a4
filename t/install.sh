#!/bin/sh
# install.sh - `make install DESTDIR=...` from the build dir (issue 10):
# the programs, every template of every language (compared with the
# source tree's templates/*/, so a file missing from Makefile.am's lists
# shows here), the rule files, the four man pages (rendered by groff
# without a warning), the example configuration (it passes check-config
# with the installed mlmctl, templates and rules, and the installed mlmd
# starts with it), the systemd unit (no @VAR@ left, its ExecStart is the
# installed mlmd, systemd-analyze verify accepts it); a second install
# keeps an existing mlmd.conf; `make uninstall` removes every file.
#
# The sub-make runs with the parent's MAKEFLAGS cleared (it is not part of
# the parent's job server) and only installs: `make check` already built
# everything, so nothing of the build dir changes under parallel tests.
. "${top_srcdir:-.}/t/lib.sh"

command -v make >/dev/null 2>&1 || skip_all "no make"
[ -f "$top_builddir/Makefile" ] || skip_all "no Makefile in $top_builddir"

ROOT=$T_DIR/root

# mk TARGET...: make in the build dir, into ROOT; output to T_DIR/make.log
mk() {
	(
		unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
		make -C "$top_builddir" "$@" DESTDIR="$ROOT"
	) >"$T_DIR/make.log" 2>&1
}

# one PATTERN: the single file below ROOT whose path matches PATTERN
one() {
	find "$ROOT" -path "$1" \( -type f -o -type d \) | head -n 1
}

mk install
RC=$?
is "$RC" 0 "make install DESTDIR=... exits 0"
[ "$RC" -eq 0 ] || { sed 's/^/# /' "$T_DIR/make.log"; bail "make install failed"; }

# --- programs ---------------------------------------------------------------
I_MLMD=$(one '*/sbin/mlmd')
I_INJECT=$(one '*/sbin/mlmd-inject')
I_MLMCTL=$(one '*/bin/mlmctl')
ok "mlmd installed into sbin ($I_MLMD)" test -x "$I_MLMD"
ok "mlmd-inject installed into sbin" test -x "$I_INJECT"
case $I_MLMCTL in */sbin/*) I_MLMCTL= ;; esac
ok "mlmctl installed into bin ($I_MLMCTL)" test -x "$I_MLMCTL"

# --- templates and rules ------------------------------------------------------
I_TMPL=$(one '*/share/mlmd/templates')
I_RULES=$(one '*/share/mlmd/rules')
ok "templates installed ($I_TMPL)" test -d "$I_TMPL"
missing=
for d in "$top_srcdir"/templates/*/; do
	lang=$(basename "$d")
	for f in "$d"*; do
		[ -f "$f" ] || continue
		cmp -s "$f" "$I_TMPL/$lang/$(basename "$f")" ||
			missing="$missing $lang/$(basename "$f")"
	done
done
is "$missing" "" "every file of templates/*/ is installed, unchanged"
extra=$(cd "$I_TMPL" && for f in */*; do
	[ -f "$top_srcdir/templates/$f" ] || printf ' %s' "$f"
done)
is "$extra" "" "nothing else is installed among the templates"
missing=
for f in "$top_srcdir"/filters/rules/*.rules; do
	cmp -s "$f" "$I_RULES/$(basename "$f")" || missing="$missing $f"
done
is "$missing" "" "every filters/rules/*.rules is installed"

# --- man pages ------------------------------------------------------------------
for p in man8/mlmd.8 man8/mlmd-inject.8 man1/mlmctl.1 man5/mlmd.conf.5; do
	f=$(one "*/man/$p")
	if [ -z "$f" ]; then
		fail "man page $p installed"
		continue
	fi
	pass "man page $p installed"
	if command -v groff >/dev/null 2>&1; then
		w=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
		is "$w" "" "$p renders without groff warnings"
	else
		skip 1 "no groff"
	fi
done

# --- the example configuration ------------------------------------------------------
I_EXAMPLE=$(one '*/mlmd.conf.example')
I_ETC=$(dirname "$I_EXAMPLE")
ok "mlmd.conf.example installed ($I_EXAMPLE)" test -f "$I_EXAMPLE"
ok "no mlmd.conf is installed" test ! -e "$I_ETC/mlmd.conf"
{
	cat "$I_EXAMPLE"
	printf 'templates = "%s"\nrules_dir = "%s"\n' "$I_TMPL" "$I_RULES"
} >"$T_DIR/example.conf"
"$I_MLMCTL" -c "$T_DIR/example.conf" check-config >"$T_DIR/out" 2>&1
RC=$?
is "$RC" 0 "the example passes check-config (installed mlmctl, rules)"
[ "$RC" -eq 0 ] || sed 's/^/# /' "$T_DIR/out"
like "$(head -n 1 "$T_DIR/out")" "domain lists.example.org, 7 lists" \
	"check-config: the example's seven lists"

# The installed mlmd starts with the installed templates and rule files
# (check-config does not load templates; the daemon refuses to start
# without them).
MLMD=$I_MLMD
T_EXTRA='list rules { language = "ar" rules = { "spam.rules" } }'
conf_write
sed -e "s|^templates = .*|templates = \"$I_TMPL\"|" \
    -e "s|^rules_dir = .*|rules_dir = \"$I_RULES\"|" "$T_CONF" >"$T_CONF.new" &&
	mv "$T_CONF.new" "$T_CONF"
is "$(grep -c "$ROOT" "$T_CONF")" 2 "the test configuration uses them"
if daemon_start; then
	pass "the installed mlmd starts with the installed templates and rules"
	daemon_stop
	is "$T_RC" 0 "and stops cleanly"
else
	fail "the installed mlmd starts with the installed templates and rules"
	log_tail
	skip 1 "mlmd did not start"
fi

# --- the systemd unit -----------------------------------------------------------
if grep -q '^systemdsystemunitdir = ..*' "$top_builddir/Makefile"; then
	UNIT=$(one '*/systemd/system/mlmd.service')
	ok "mlmd.service installed ($UNIT)" test -f "$UNIT"
	is "$(grep -c '@[a-z_]*@' "$UNIT" 2>/dev/null)" 0 "no @VAR@ left in it"
	exec=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT")
	is "$ROOT$exec" "$I_MLMD" "ExecStart names the installed mlmd ($exec)"
	like "$(sed -n 's/^ExecStart=//p' "$UNIT")" \
		" -c $(echo "$I_ETC" | sed "s|^$ROOT||")/mlmd.conf\$" \
		"ExecStart reads SYSCONFDIR/mlmd.conf"
	if command -v systemd-analyze >/dev/null 2>&1; then
		# The paths of a copy point into ROOT, so that the check of
		# ExecStart's program finds it.
		mkdir -p "$T_DIR/unit"
		sed "s|^ExecStart=$exec|ExecStart=$ROOT$exec|" "$UNIT" \
			>"$T_DIR/unit/mlmd.service"
		SYSTEMD_LOG_LEVEL=notice timeout 60 systemd-analyze verify \
			--man=no "$T_DIR/unit/mlmd.service" >"$T_DIR/out" 2>&1
		RC=$?
		if [ "$RC" -ne 0 ] && grep -qi 'bus\|container\|not booted' \
			"$T_DIR/out"; then
			skip 1 "systemd-analyze cannot run here: $(head -n 1 "$T_DIR/out")"
		else
			is "$RC $(cat "$T_DIR/out")" "0 " \
				"systemd-analyze verify accepts the unit"
		fi
	else
		skip 1 "no systemd-analyze"
	fi
else
	skip 5 "configured --without-systemdsystemunitdir"
fi

# --- a second install keeps mlmd.conf; uninstall -------------------------------------
echo '# the administrator'"'"'s own' >"$I_ETC/mlmd.conf"
mk install
is "$? $(cat "$I_ETC/mlmd.conf")" "0 # the administrator's own" \
	"a second make install keeps an existing mlmd.conf"
mk uninstall
RC=$?
left=$(find "$ROOT" -type f ! -path "$I_ETC/mlmd.conf" | sed "s|^$ROOT||")
is "$RC:$left" "0:" "make uninstall removes every installed file"

done_testing
