#!/bin/sh
# t/exim.sh - doc/exim.md's configuration, proved: a private Exim 4 on
# loopback routes the list domain to mlmd's LMTP socket.
#
#   python smtplib -> Exim (127.0.0.1:free port, its own config, spool and
#   log in $T_DIR/exim) -> router "mlmd" -> lmtp transport -> mlmd's unix
#   socket -> mlmd (relay = maildir:, as t/lib.sh writes it)
#
# What is checked: the router sends LIST, LIST+subscribe, LIST-request and
# LIST-owner to the lmtp transport and nothing else (exim -bt); a member's
# post through Exim is archived and reaches the other member; a mail to
# LIST+subscribe@ through Exim brings a confirmation; an unknown list is
# refused by Exim at RCPT (550), never accepted and bounced later.
#
# Which Exim: $EXIM4 (default /usr/sbin/exim4, Debian's exim4-daemon-light).
# The Debian package Conflicts with postfix (both provide
# mail-transport-agent), so next to Postfix it can only be unpacked:
#
#	apt-get download exim4-base exim4-daemon-light libidn12
#	for f in *.deb; do dpkg -x "$f" DIR; done
#	EXIM4=DIR/usr/sbin/exim4 EXIM4_LIBS=DIR/usr/lib/x86_64-linux-gnu
#
# Debian's Exim is built with EXIM_USER=Debian-exim and looks that user up
# before it reads any configuration.  When the user does not exist (the
# package was only unpacked) the test runs Exim in a private mount
# namespace (unshare -m) where /etc/passwd and /etc/group are bind-mounted
# copies that add it; the real files are never changed.
#
# Exim runs as root with -C (Debian's TRUSTED_CONFIG_LIST is not used: as
# root the real uid is 0 anyway), in the foreground (-bdf) so that the test
# owns its PID and stops it by that PID.
. "${top_srcdir:-.}/t/lib.sh"

PATH=$PATH:/usr/sbin
EXIM=${EXIM4:-/usr/sbin/exim4}
[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMCTL" ] || skip_all "mlmctl is not built"
[ -x "$EXIM" ] || skip_all "$EXIM is absent (package exim4-daemon-light, or EXIM4=an unpacked exim4)"
is_root || skip_all "a private Exim on loopback needs root here"
EX_NS=
if ! getent passwd Debian-exim >/dev/null; then
	unshare -m true 2>/dev/null ||
		skip_all "no user Debian-exim and no mount namespace (unshare -m) to fake one"
	EX_NS=1
fi

plan 21

D=$T_DOMAIN
MD=$T_DIR/maildir
EX=$T_DIR/exim
EX_CONF=$EX/exim.conf
mkdir -p "$EX/spool" "$EX/log"
# Exim writes its spool and logs as its own user (Debian-exim).
if [ -n "$EX_NS" ]; then
	chown nobody "$EX/spool" "$EX/log"
else
	chown Debian-exim "$EX/spool" "$EX/log"
fi

# ex ARGS...: Exim with our configuration (in the namespace if needed).
ex() {
	if [ -n "$EX_NS" ]; then
		unshare -m sh -c 'mount --bind "$1" /etc/passwd &&
			mount --bind "$2" /etc/group && shift 2 && exec "$@"' \
			sh "$EX/passwd" "$EX/group" \
			env LD_LIBRARY_PATH="${EXIM4_LIBS:-}" \
			"$EXIM" -C "$EX_CONF" "$@"
	else
		env LD_LIBRARY_PATH="${EXIM4_LIBS:-}" "$EXIM" -C "$EX_CONF" "$@"
	fi
}

if [ -n "$EX_NS" ]; then
	# Debian-exim gets nobody's ids: it owns nothing here.
	{ cat /etc/passwd
	  echo "Debian-exim:x:$(id -u nobody):$(id -g nobody)::/nonexistent:/usr/sbin/nologin"
	} >"$EX/passwd"
	{ cat /etc/group; echo "Debian-exim:x:$(id -g nobody):"; } >"$EX/group"
fi

# The lists Exim routes to mlmd: one name a line (doc/exim.md).
conf_write || bail "conf_write failed"
sed -n 's/^list \([^ ]*\) {$/\1/p' "$T_CONF" >"$EX/mlmd-lists"

EX_PORT=$(free_port)
# The configuration of doc/exim.md, with test paths (spool, log, pid,
# exim_path) and the test's user for the transport.
cat >"$EX_CONF" <<EOF
# written by t/exim.sh: doc/exim.md's configuration on loopback
exim_path = $EXIM
keep_environment = LD_LIBRARY_PATH
spool_directory = $EX/spool
log_file_path = $EX/log/%slog
pid_file_path = $EX/exim.pid
primary_hostname = mx.mlmd.test
local_interfaces = <; 127.0.0.1
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =

MLMD_LISTS = $EX/mlmd-lists
MLMD_SOCKET = $T_SOCK
domainlist mlmd_domains = $D
hostlist relay_from_hosts = <; 127.0.0.1 ; ::1
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  deny    domains = +mlmd_domains
          !verify = recipient
          message = no such list: \$local_part@\$domain
  accept  domains = +mlmd_domains
  accept  hosts = +relay_from_hosts
  deny    message = relaying not permitted

begin routers

mlmd:
  driver = accept
  domains = +mlmd_domains
  local_parts = lsearch;MLMD_LISTS
  local_part_suffix = +* : -request : -owner
  local_part_suffix_optional
  transport = mlmd_lmtp

begin transports

mlmd_lmtp:
  driver = lmtp
  socket = MLMD_SOCKET
  rcpt_include_affixes
  user = $T_USER
  batch_max = 100
EOF

# --- routing, no daemon needed ----------------------------------------------

t_bv() { ex -bV >"$EX/bV.out" 2>&1 || { sed 's/^/# /' "$EX/bV.out"; false; }; }
ok "exim -bV accepts the configuration" t_bv
for a in "denmark@$D" "denmark+subscribe@$D" "denmark-request@$D" \
	"denmark-owner@$D"; do
	like "$(ex -bt "$a" 2>&1 | tr '\n' ' ')" \
		"router = mlmd, transport = mlmd_lmtp" "$a is routed to mlmd"
done
out=$(ex -bt "nolist@$D" 2>&1)
like "$out" "Unrouteable address" "nolist@$D is not routed"

# --- the daemons --------------------------------------------------------------

daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add denmark amira@example.net bo@example.org \
	>"$T_DIR/mlmctl.out" 2>&1 || bail "mlmctl add failed"

ex -bdf -oX "$EX_PORT" -oP "$EX/exim.pid" >"$EX/daemon.out" 2>&1 &
EX_PID=$!
track_pid "$EX_PID"
ok "Exim listens on 127.0.0.1:$EX_PORT" \
	wait_until "$T_WAIT" lmtp_ping "127.0.0.1:$EX_PORT"

# smtp FROM RCPT FILE: submit FILE to Exim; prints what Exim said about
# RCPT ("250", or the refusal's code and text).
smtp() {
	$PY - "$EX_PORT" "$@" 2>&1 <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
try:
    s.sendmail(sys.argv[2], [sys.argv[3]], open(sys.argv[4], "rb").read())
    print(250)
except smtplib.SMTPRecipientsRefused as e:
    for c, t in e.recipients.values():
        print(c, t.decode())
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode())
s.quit()
EOF
}

count() {
	t_d=$MD/$1/new
	[ -d "$t_d" ] || { echo 0; return; }
	find "$t_d" -type f | wc -l
}
t_count_ge() { [ "$(count "$1")" -ge "$2" ]; }
ex_log_has() { grep -Eq -- "$1" "$EX/log/mainlog" 2>/dev/null; }

# --- a member's post ------------------------------------------------------------

msg "$T_DIR/post.eml" "denmark@$D" "Netværksmiddag" exim-post@example.net
is "$(smtp amira@example.net "denmark@$D" "$T_DIR/post.eml")" 250 \
	"Exim accepts a member's post to denmark@"
ok "Exim delivers it over LMTP (=> ... T=mlmd_lmtp)" wait_until "$T_WAIT" \
	ex_log_has "=> denmark <denmark@$D> R=mlmd T=mlmd_lmtp C=\"250 "
ok "mlmd takes it as a post" wait_inbound 1 \
	"message_id = 'exim-post@example.net' AND role = 'post'"
ok "bo gets his copy" wait_until "$T_WAIT" t_count_ge bo@example.org 1
f=$(grep -l 'exim-post@example.net' "$MD/bo@example.org/new/"* 2>/dev/null |
	head -1)
like "$(grep -m1 '^Subject:' "${f:-/dev/null}")" '\[DK\]' \
	"his copy has the list's prefix"
t_archived() {
	[ "$(sql "SELECT count(*) FROM messages WHERE list = 'denmark' AND
		message_id = 'exim-post@example.net'" 2>/dev/null)" = 1 ]
}
ok "the post is archived" wait_until "$T_WAIT" t_archived

# --- subscribing by mail ----------------------------------------------------------

msg "$T_DIR/sub.eml" "denmark+subscribe@$D" "subscribe" exim-sub@example.org
sed -i 's/^From: .*/From: Carla <carla@example.org>/' "$T_DIR/sub.eml"
is "$(smtp carla@example.org "denmark+subscribe@$D" "$T_DIR/sub.eml")" 250 \
	"Exim accepts a mail to denmark+subscribe@"
ok "Exim hands denmark+subscribe@ to mlmd with its suffix" \
	wait_until "$T_WAIT" ex_log_has "=> denmark\\+subscribe <denmark\\+subscribe@$D> R=mlmd T=mlmd_lmtp C=\"250 "
ok "the confirmation request reaches carla" \
	wait_until "$T_WAIT" t_count_ge carla@example.org 1
f=$(find "$MD/carla@example.org/new" -type f 2>/dev/null | head -1)
like "$(grep -m1 -i '^Reply-To:' "${f:-/dev/null}")" \
	"denmark\\+confirm-[a-z0-9-]+@$D" "it asks for a reply to denmark+confirm-TOKEN@"

# --- an unknown list ------------------------------------------------------------------

msg "$T_DIR/no.eml" "nolist@$D"
like "$(smtp amira@example.net "nolist@$D" "$T_DIR/no.eml")" \
	"^550 .*no such list" "Exim refuses nolist@ at RCPT with 550"

# --- the end ----------------------------------------------------------------------------

ok "Exim stops on SIGTERM (by its PID)" stop_pid "$EX_PID"
if grep -E ' (\*\*|==) ' "$EX/log/mainlog" >/dev/null 2>&1; then
	fail "no Exim delivery failed or was deferred"
	grep -E ' (\*\*|==) ' "$EX/log/mainlog" | head -5 | sed 's/^/# /'
else
	pass "no Exim delivery failed or was deferred"
fi
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
[ "$T_FAILED" -eq 0 ] || { diag "exim mainlog:"; tail -n 20 "$EX/log/mainlog" 2>/dev/null | sed 's/^/# /'; }
done_testing
