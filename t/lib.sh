# t/lib.sh - the shared library of mlmd's shell tests (POSIX sh, sourced).
#
# A test script does
#
#	. "${top_srcdir:-.}/t/lib.sh"
#	plan 5
#	conf_write && daemon_start || bail "mlmd did not start"
#	...
#	done_testing
#
# and is run by Automake's TAP driver from the build dir with top_srcdir and
# top_builddir set (possibly two tests in parallel, as root in CI, without
# a terminal).  What this file owns:
#
#  - TAP output: plan, ok, is, like, pass, fail, diag, skip, skip_all, bail,
#    done_testing.  Every assertion prints one "ok"/"not ok" line.
#  - A temp dir per test, $T_DIR = $top_builddir/t/tmp/NAME.PID, kept when
#    the test failed (its path is printed) and removed otherwise.
#  - Every process the test starts (mlmd, a private Postfix, smtp-sink) is
#    recorded by PID and stopped at exit on every path (EXIT/INT/TERM/HUP
#    trap): SIGTERM, a bounded wait, then SIGKILL.  Nothing is stopped by
#    name.
#  - A test configuration (conf_write), starting mlmd in the foreground
#    (daemon_start, waits until both listeners greet), stopping it
#    (daemon_stop, sets T_RC to its exit status), spool and SQLite helpers.
#  - A private Postfix instance (pf_start/pf_stop) following
#    /work/shared/research/libs.md section 8: its own config, queue, data
#    dir and maillog inside $T_DIR, listening on a free loopback port, never
#    25, sending lists.mlmd.test to mlmd's LMTP unix socket.  Needs root
#    (`postfix -c DIR start`); pf_can_run says why not otherwise.
#
# Every wait is bounded (T_WAIT seconds, more under the sanitizers).  Only
# loopback addresses are ever used.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)

T_NAME=$(basename "$0" .sh)
T_DIR=$top_builddir/t/tmp/$T_NAME.$$
MLMD=$top_builddir/mlmd/mlmd
MLMD_INJECT=$top_builddir/mlmd/mlmd-inject
MLMCTL=$top_builddir/mlmd/mlmctl
# pyenv's python3 on PATH lacks modules: always the system one.
PY=/usr/bin/python3
T_DOMAIN=lists.mlmd.test
T_USER=nobody
# Seconds for each bounded wait; the sanitizer build is a few times slower.
T_WAIT=${T_WAIT:-20}
# (SAN_FLAGS: the fuzz targets put -fsanitize=fuzzer in every Makefile)
if grep -q '^SAN_FLAGS = .*fsanitize' "$top_builddir/Makefile" 2>/dev/null; then
	T_SAN=1
	T_WAIT=$((T_WAIT * 2))
else
	T_SAN=
fi

T_N=0
T_FAILED=0
T_PLANNED=
T_PIDS=
T_PF_DIRS=
T_MLMD_PID=
T_RC=

mkdir -p "$T_DIR" || exit 1
chmod 755 "$T_DIR"
T_HOME=$T_DIR/home
T_CONF=$T_DIR/mlmd.conf
T_LOG=$T_DIR/mlmd.log
T_SOCK=$T_DIR/run/lmtp.sock
T_MAX_SIZE=1M
T_EXTRA=

is_root() { [ "$(id -u)" -eq 0 ]; }

# --- TAP ------------------------------------------------------------------

plan() {
	T_PLANNED=$1
	echo "1..$1"
}

pass() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $*"
}

fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $*"
}

# ok DESC CMD [ARG...]: passes when CMD exits 0.
ok() {
	t_desc=$1
	shift
	if "$@"; then
		pass "$t_desc"
	else
		fail "$t_desc"
		return 1
	fi
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
		return 1
	fi
}

# like GOT ERE DESC
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3"
		diag "got:  '$1'"
		diag "want: /$2/"
		return 1
	fi
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# skip N REASON
skip() {
	t_i=0
	while [ "$t_i" -lt "$1" ]; do
		T_N=$((T_N + 1))
		echo "ok $T_N # SKIP $2"
		t_i=$((t_i + 1))
	done
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail() {
	echo "Bail out! $*"
	T_FAILED=$((T_FAILED + 1))
	exit 1
}

done_testing() {
	[ -n "$T_PLANNED" ] || echo "1..$T_N"
	if [ -n "$T_PLANNED" ] && [ "$T_PLANNED" -ne "$T_N" ]; then
		diag "planned $T_PLANNED tests but ran $T_N"
		exit 1
	fi
	[ "$T_FAILED" -eq 0 ] || exit 1
	exit 0
}

# --- processes --------------------------------------------------------------

# alive PID: the process exists and is not a zombie (dash does not reap
# background children until `wait`, and PID 1 of a container may never
# reap a daemon's orphans).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	t_state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$t_state" ] && [ "$t_state" != Z ]
}

track_pid() {
	T_PIDS="$T_PIDS $1"
}

untrack_pid() {
	t_new=
	for t_p in $T_PIDS; do
		[ "$t_p" = "$1" ] || t_new="$t_new $t_p"
	done
	T_PIDS=$t_new
}

# stop_pid PID [SECONDS] [SIGNAL]: SIGNAL (TERM), wait up to SECONDS, then
# SIGKILL.  For our own children T_RC is the exit status (128+N if killed
# by signal N).  Returns 1 if SIGKILL was needed.
stop_pid() {
	t_pid=$1
	t_secs=${2:-$T_WAIT}
	t_sig=${3:-TERM}
	t_ret=0
	kill -"$t_sig" "$t_pid" 2>/dev/null
	t_i=0
	while alive "$t_pid"; do
		if [ "$t_i" -ge $((t_secs * 10)) ]; then
			diag "pid $t_pid still running ${t_secs}s after SIG$t_sig: SIGKILL"
			kill -KILL "$t_pid" 2>/dev/null
			t_ret=1
			break
		fi
		sleep 0.1
		t_i=$((t_i + 1))
	done
	wait "$t_pid" 2>/dev/null
	T_RC=$?
	untrack_pid "$t_pid"
	return $t_ret
}

# wait_until SECONDS CMD [ARG...]: poll CMD every 0.1 s until it succeeds;
# 1 on timeout.
wait_until() {
	t_secs=$1
	shift
	t_i=0
	while ! "$@"; do
		[ "$t_i" -lt $((t_secs * 10)) ] || return 1
		sleep 0.1
		t_i=$((t_i + 1))
	done
	return 0
}

t_cleanup() {
	t_status=$?
	trap - EXIT INT TERM HUP
	for t_d in $T_PF_DIRS; do
		pf_stop "$t_d" >/dev/null 2>&1
	done
	for t_p in $T_PIDS; do
		stop_pid "$t_p" 5 >/dev/null 2>&1
	done
	if [ "$t_status" -eq 0 ] && [ "$T_FAILED" -eq 0 ] &&
		[ -z "${T_KEEP:-}" ]; then
		rm -rf "$T_DIR"
		rmdir "$top_builddir/t/tmp" 2>/dev/null
	else
		echo "# kept $T_DIR"
	fi
	exit "$t_status"
}
trap t_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- ports, config ----------------------------------------------------------

# A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick,
# so two tests running in parallel do not race for the same one).
free_port() {
	$PY -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# conf_write [FILE]: the test configuration.  Uses T_HOME, T_SOCK, T_PORT
# (picked here if unset), T_MAX_SIZE and T_EXTRA (appended verbatim).
# As root it sets user = "nobody", as the daemon requires.
conf_write() {
	t_f=${1:-$T_CONF}
	[ -n "${T_PORT:-}" ] || T_PORT=$(free_port)
	mkdir -p "$(dirname "$T_SOCK")" "$T_DIR/maildir"
	chmod 755 "$(dirname "$T_SOCK")"
	# Like /run/mlmd in production: the socket's folder belongs to the
	# daemon's user, so that it can remove its socket at exit.
	is_root && chown "$T_USER" "$T_DIR/maildir" "$(dirname "$T_SOCK")"
	if is_root; then
		t_user="user = \"$T_USER\""
	else
		t_user="# not root: no user"
	fi
	cat >"$t_f" <<EOF
# mlmd.conf written by t/lib.sh for $T_NAME
domain = "$T_DOMAIN"
home = "$T_HOME"
relay = "maildir:$T_DIR/maildir"
lmtp = "unix:$T_SOCK, 127.0.0.1:$T_PORT"
$t_user
max_message_size = "$T_MAX_SIZE"
templates = "$top_srcdir/templates"
rules_dir = "$top_srcdir/filters/rules"
# no web front door unless a test asks for one (T_EXTRA: http = ...):
# tests run in parallel and the default port is shared
http = ""
base_url = "https://$T_DOMAIN"

list denmark {
	description = "Migrant entrepreneurs in Denmark"
	language = "da"
	posting = members
	subject_prefix = "[DK] "
}
list sweden {
	description = "Migrant entrepreneurs in Sweden"
	language = "sv"
	posting = members
	subject_prefix = "[SE] "
}
list norway {
	description = "Migrant entrepreneurs in Norway"
	language = "nb"
	posting = members
	subject_prefix = "[NO] "
}
list finland {
	description = "Migrant entrepreneurs in Finland"
	language = "fi"
	posting = members
	subject_prefix = "[FI] "
}
list iceland {
	description = "Migrant entrepreneurs in Iceland"
	language = "is"
	posting = members
	subject_prefix = "[IS] "
}
list all {
	description = "Everyone in the Nordic network"
	include = { "denmark", "sweden", "norway", "finland", "iceland" }
}
list news {
	description = "Newsletter of the Nordic network"
	posting = announce
	owners = { "editor@example.org" }
}
list coordinators {
	description = "Coordinators of the Nordic network"
	posting = members
}
$T_EXTRA
EOF
}

# --- the daemon -----------------------------------------------------------

log_tail() {
	diag "--- last lines of ${1:-$T_LOG}:"
	tail -n "${2:-15}" "${1:-$T_LOG}" 2>/dev/null | sed 's/^/# /'
}

# lmtp_ping ADDR...: each ADDR (unix:/path or 127.0.0.1:PORT) accepts a
# connection and greets with 220 within 2 seconds.
lmtp_ping() {
	$PY - "$@" 2>/dev/null <<'EOF'
import socket, sys
for a in sys.argv[1:]:
    if a.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(a[5:])
    else:
        h, p = a.rsplit(":", 1)
        s = socket.create_connection((h, int(p)), 2)
    f = s.makefile("rb")
    if not f.readline().startswith(b"220"):
        sys.exit(1)
    s.sendall(b"QUIT\r\n")
    f.readline()
    s.close()
EOF
}

# lmtp_rcpt RCPT [ADDR]: LHLO, MAIL, RCPT TO:<RCPT>, prints the reply's
# code and enhanced status ("250 2.1.5"), RSET, QUIT.  ADDR defaults to the
# test's TCP listener.
lmtp_rcpt() {
	$PY - "${2:-127.0.0.1:$T_PORT}" "$1" 2>/dev/null <<'EOF'
import smtplib, sys
a = sys.argv[1]
if a.startswith("unix:"):
    s = smtplib.LMTP(a[5:], timeout=10)
else:
    h, p = a.rsplit(":", 1)
    s = smtplib.LMTP(h, int(p), timeout=10)
s.ehlo()
s.mail("probe@example.net")
c, t = s.rcpt(sys.argv[2])
print(c, t.decode().split()[0])
s.rset()
s.quit()
EOF
}

# lmtp_send FILE RCPT...: send FILE over LMTP (TCP listener) from
# amira@example.net; prints one reply code per accepted recipient after
# DATA, returns 0 if every recipient got 250.
lmtp_send() {
	$PY - "127.0.0.1:$T_PORT" "$@" <<'EOF'
import smtplib, sys
h, p = sys.argv[1].rsplit(":", 1)
s = smtplib.LMTP(h, int(p), timeout=30)
s.ehlo()
s.mail("amira@example.net")
ok = [r for r in sys.argv[3:] if s.rcpt(r)[0] == 250]
codes = []
if ok:
    codes.append(s.data(open(sys.argv[2], "rb").read())[0])
    codes += [s.getreply()[0] for _ in ok[1:]]
s.quit()
print(" ".join(map(str, codes)), file=sys.stderr)
sys.exit(0 if len(ok) == len(sys.argv[3:]) and set(codes) == {250} else 1)
EOF
}

# daemon_start [CONF]: mlmd -f in the background, T_MLMD_PID set, returns
# once both listeners greet; 1 (with the log tail) if it exits or does
# not get there within T_WAIT seconds.
daemon_start() {
	t_conf=${1:-$T_CONF}
	t_tries=0
	[ -x "$MLMD" ] || { diag "no $MLMD"; return 1; }
	t_lines=$(cat "$T_LOG" 2>/dev/null | wc -l)
	"$MLMD" -c "$t_conf" -f 2>>"$T_LOG" &
	T_MLMD_PID=$!
	track_pid "$T_MLMD_PID"
	t_i=0
	while :; do
		if ! alive "$T_MLMD_PID"; then
			wait "$T_MLMD_PID"
			T_RC=$?
			untrack_pid "$T_MLMD_PID"
			# Another test took our free port in the meantime:
			# pick another one (only for the test's own config).
			if [ "$t_conf" = "$T_CONF" ] && [ "$t_tries" -lt 3 ] &&
				tail -n +"$((t_lines + 1))" "$T_LOG" |
				grep -qi 'in use'; then
				t_tries=$((t_tries + 1))
				diag "port $T_PORT taken, trying another"
				T_PORT=$(free_port)
				conf_write
				t_lines=$(wc -l <"$T_LOG")
				"$MLMD" -c "$t_conf" -f 2>>"$T_LOG" &
				T_MLMD_PID=$!
				track_pid "$T_MLMD_PID"
				t_i=0
				continue
			fi
			diag "mlmd exited with status $T_RC at start-up"
			log_tail
			return 1
		fi
		lmtp_ping "unix:$T_SOCK" "127.0.0.1:$T_PORT" && return 0
		if [ "$t_i" -ge $((T_WAIT * 10)) ]; then
			diag "mlmd (pid $T_MLMD_PID) not answering after ${T_WAIT}s"
			log_tail
			return 1
		fi
		sleep 0.1
		t_i=$((t_i + 1))
	done
}

# no_sanitizer_report [LOG]: ASan/UBSan/LSan said nothing in the log.
no_sanitizer_report() {
	if grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' \
		"${1:-$T_LOG}" 2>/dev/null; then
		grep -E -A8 'Sanitizer|runtime error:' "${1:-$T_LOG}" |
			head -30 | sed 's/^/# /'
		return 1
	fi
	return 0
}

# daemon_stop: SIGTERM and a bounded wait; T_RC is its exit status.
daemon_stop() {
	[ -n "$T_MLMD_PID" ] || return 0
	stop_pid "$T_MLMD_PID"
	t_r=$?
	T_MLMD_PID=
	return $t_r
}

# daemon_kill9: crash it; the unix socket file is left behind as after a
# real crash.
daemon_kill9() {
	[ -n "$T_MLMD_PID" ] || return 0
	stop_pid "$T_MLMD_PID" 5 KILL
	T_MLMD_PID=
}

# --- spool and database ---------------------------------------------------

# spool_count DIR: files in home/spool/DIR (incoming, active, tmp,
# quarantine); 0 if the folder does not exist.
spool_count() {
	if [ -d "$T_HOME/spool/$1" ]; then
		find "$T_HOME/spool/$1" -mindepth 1 -maxdepth 1 -type f | wc -l
	else
		echo 0
	fi
}

# spool_settled: nothing waiting in incoming/ or active/ (tmp/ is ignored:
# a session may be writing).
spool_settled() {
	[ "$(spool_count incoming)" -eq 0 ] && [ "$(spool_count active)" -eq 0 ]
}

# as_user CMD...: run CMD as the daemon's user when we are root, so that
# files it creates (SQLite's -wal and -shm) stay usable by the daemon.
as_user() {
	if is_root; then
		setpriv --reuid="$T_USER" --regid="$(id -g "$T_USER")" \
			--clear-groups -- "$@"
	else
		"$@"
	fi
}

# sql "SELECT ...": one query on home/mlmd.db, rows on stdout ('|'
# between columns).  Prints nothing and returns 1 if there is no database.
sql() {
	[ -f "$T_HOME/mlmd.db" ] || return 1
	as_user sqlite3 -batch -bail -cmd '.timeout 5000' \
		"$T_HOME/mlmd.db" "$1"
}

# inbound_count [WHERE]: rows in inbound (0 when there is no table yet).
inbound_count() {
	t_q="SELECT count(*) FROM inbound"
	[ -z "${1:-}" ] || t_q="$t_q WHERE $1"
	t_c=$(sql "$t_q" 2>/dev/null)
	echo "${t_c:-0}"
}

# wait_inbound N [WHERE]: bounded wait until inbound has at least N rows.
wait_inbound() {
	wait_until "$T_WAIT" t_inbound_ge "$@"
}
t_inbound_ge() {
	[ "$(inbound_count "${2:-}")" -ge "$1" ]
}

# msg FILE [TO] [SUBJECT] [MESSAGE-ID]: write a small RFC 5322 message.
msg() {
	cat >"$1" <<EOF
From: Amira Haddad <amira@example.net>
To: ${2:-denmark@$T_DOMAIN}
Subject: ${3:-Hej fra Aarhus}
Message-ID: <${4:-$(basename "$1").$$@example.net}>
Date: Sun, 29 Nov 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hej alle sammen,

this is a test message from $T_NAME.
EOF
}

# --- a private Postfix (libs.md section 8) -----------------------------------

# pf_can_run: 0 if a private Postfix can start here, else prints why.
pf_can_run() {
	if ! is_root; then
		echo "a private Postfix needs root (postfix -c DIR start)"
		return 1
	fi
	for t_b in postfix postconf; do
		command -v "$t_b" >/dev/null 2>&1 ||
			[ -x "/usr/sbin/$t_b" ] || {
			echo "$t_b is not installed"
			return 1
		}
	done
	getent passwd postfix >/dev/null || {
		echo "no postfix user"
		return 1
	}
	return 0
}

# pf_start LMTP_SOCKET [DEFAULT_TRANSPORT]: start a Postfix instance in
# $T_DIR/pf listening on 127.0.0.1:$PF_PORT (picked here), relaying
# lists.mlmd.test to lmtp:unix:LMTP_SOCKET and everything else to
# DEFAULT_TRANSPORT (default "error:5.1.2 no outbound mail in tests").
# Sets PF_DIR, PF_PORT, PF_LOG.
pf_start() {
	PATH=$PATH:/usr/sbin
	PF_DIR=$T_DIR/pf
	PF_LOG=$PF_DIR/maillog
	PF_PORT=$(free_port)
	t_lmtp=$1
	t_deft=${2:-error:5.1.2 no outbound mail in tests}
	mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data" || return 1
	chown postfix: "$PF_DIR/data"
	cat >"$PF_DIR/etc/main.cf" <<EOF
# private Postfix of $T_NAME (t/lib.sh pf_start)
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR
myhostname = mta.mlmd.test
mydomain = mlmd.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = $T_DOMAIN
transport_maps = inline:{ $T_DOMAIN=lmtp:unix:$t_lmtp }
default_transport = $t_deft
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =
biff = no
# tests want to see results at once, not after retry back-offs
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
EOF
	cat >"$PF_DIR/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
	T_PF_DIRS="$T_PF_DIRS $PF_DIR"
	if ! postfix -c "$PF_DIR/etc" check >"$PF_DIR/check.out" 2>&1; then
		diag "postfix check failed:"
		sed 's/^/# /' "$PF_DIR/check.out"
		return 1
	fi
	# Without a terminal and syslogd a failing start is silent: the
	# reason is in the maillog.
	if ! postfix -c "$PF_DIR/etc" start >"$PF_DIR/start.out" 2>&1; then
		diag "postfix start failed:"
		sed 's/^/# /' "$PF_DIR/start.out"
		log_tail "$PF_LOG"
		return 1
	fi
	if ! wait_until "$T_WAIT" t_pf_listening; then
		diag "postfix not listening on 127.0.0.1:$PF_PORT"
		log_tail "$PF_LOG"
		return 1
	fi
}

t_pf_listening() {
	ss -Hltn "sport = :$PF_PORT" 2>/dev/null | grep -q LISTEN
}

# pf_pids DIR: the PIDs of every process of the instance in DIR (they all
# carry MAIL_CONFIG=DIR/etc in their environment).
pf_pids() {
	for t_e in /proc/[0-9]*/environ; do
		if { tr '\0' '\n' <"$t_e"; } 2>/dev/null |
			grep -qxF "MAIL_CONFIG=$1/etc"; then
			t_p=${t_e#/proc/}
			t_p=${t_p%/environ}
			alive "$t_p" && echo "$t_p"
		fi
	done
}

# pf_master_pid DIR
pf_master_pid() {
	t_pf=$1/queue/pid/master.pid
	[ -r "$t_pf" ] && tr -d ' \n' <"$t_pf"
}

# pf_stop [DIR]: `postfix stop`, then a bounded wait until no process of
# the instance is left (SIGKILL by PID for stragglers).  1 if any needed
# killing.
pf_stop() {
	t_dir=${1:-$PF_DIR}
	PATH=$PATH:/usr/sbin
	t_master=$(pf_master_pid "$t_dir")
	postfix -c "$t_dir/etc" stop >/dev/null 2>&1
	t_new=
	for t_d in $T_PF_DIRS; do
		[ "$t_d" = "$t_dir" ] || t_new="$t_new $t_d"
	done
	T_PF_DIRS=$t_new
	if [ -n "$t_master" ]; then
		wait_until 10 t_not_alive "$t_master"
	fi
	wait_until 5 t_pf_gone "$t_dir" && return 0
	for t_p in $(pf_pids "$t_dir"); do
		diag "postfix process $t_p still running: SIGKILL"
		kill -KILL "$t_p" 2>/dev/null
	done
	return 1
}

t_not_alive() { ! alive "$1"; }
t_pf_gone() { [ -z "$(pf_pids "$1")" ]; }

# pf_log_has ERE: the instance's maillog matches.
pf_log_has() {
	grep -Eq -- "$1" "$PF_LOG" 2>/dev/null
}

# sink_start: smtp-sink on 127.0.0.1:$SINK_PORT writing one file per
# transaction into $T_DIR/sink/.  Sets SINK_PID, SINK_PORT, SINK_DIR.
sink_start() {
	PATH=$PATH:/usr/sbin
	SINK_PORT=$(free_port)
	SINK_DIR=$T_DIR/sink
	mkdir -p "$SINK_DIR"
	t_u=
	if is_root; then
		chown "$T_USER" "$SINK_DIR"
		t_u="-u $T_USER"
	fi
	# shellcheck disable=SC2086
	smtp-sink $t_u -d "$SINK_DIR/%H%M%S." "127.0.0.1:$SINK_PORT" 64 \
		>"$T_DIR/sink.log" 2>&1 &
	SINK_PID=$!
	track_pid "$SINK_PID"
	wait_until 10 t_sink_listening
}

t_sink_listening() {
	ss -Hltn "sport = :$SINK_PORT" 2>/dev/null | grep -q LISTEN
}

sink_count() {
	find "$SINK_DIR" -type f | wc -l
}
