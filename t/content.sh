#!/bin/sh
# content.sh - the MIME content filter and the external filter in the
# running daemon: a list that strips executables and winmail.dat,
# collapses multipart/alternative and turns HTML-only mail into text; a
# post with nothing acceptable left is rejected; the external filter
# (t/helpers/fake_spamc.sh standing in for spamc) adds its fields, which
# the shipped spam.rules act on; a filter that fails or times out holds
# the post.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 15

D=$T_DOMAIN
MD=$T_DIR/maildir
SPAMC=$top_srcdir/t/helpers/fake_spamc.sh
T_EXTRA="filter_command = { \"$SPAMC\" }
filter_timeout = \"2s\""
conf_write
sed -i '/^list denmark {/a\
	strip_extensions = { ".exe", "winmail.dat" }\
	collapse_alternative = true\
	html_to_text = true' "$T_CONF"
sed -i '/^list norway {/a\
	rules = { "spam.rules" }' "$T_CONF"
sed -i '/^list sweden {/a\
	pass_types = { "text/plain", "multipart/*" }' "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"
for l in denmark sweden norway; do
	as_user "$MLMCTL" -c "$T_CONF" add "$l" amira@example.net rx@example.org \
		>/dev/null 2>&1
done

N=0
# send LIST FILE: inject FILE (Message-ID <c$N@test>) from amira
send() {
	"$MLMD_INJECT" -c "$T_CONF" -f amira@example.net "$1@$D" <"$2" \
		>/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}
copy() { grep -ls "c$1@test" "$MD/rx@example.org/new"/* 2>/dev/null | head -n 1; }
t_copy() { [ -n "$(copy "$1")" ]; }

N=$((N + 1))
cat >"$T_DIR/c$N.eml" <<EOF
From: amira@example.net
To: denmark@$D
Subject: Invoice
Message-ID: <c$N@test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="X"

--X
Content-Type: multipart/alternative; boundary="Y"

--Y
Content-Type: text/plain; charset=utf-8

Hej, the plain text.
--Y
Content-Type: text/html; charset=utf-8

<p>Hej, the <b>HTML</b>.</p>
--Y--
--X
Content-Type: application/octet-stream; name="tool.EXE"
Content-Disposition: attachment; filename="tool.EXE"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA
--X
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Disposition: attachment; filename="winmail.dat"
Content-Transfer-Encoding: base64

eJ8+IgAAAA==
--X--
EOF
send denmark "$T_DIR/c$N.eml"
ok "the post is distributed" wait_until "$T_WAIT" t_copy $N
f=$(copy $N)
ok "the .EXE attachment is stripped" sh -c "! grep -q 'tool.EXE' '$f'"
ok "winmail.dat is stripped" sh -c "! grep -q 'winmail.dat' '$f'"
ok "the HTML alternative is collapsed away" sh -c "! grep -q '<b>HTML</b>' '$f'"
ok "the plain text stays" grep -q "the plain text" "$f"
ok "the filter's fields are on the copy" grep -q "^X-Spam-Status: No" "$f"
ok "the change is logged" grep -q "content filter: " "$T_LOG"

N=$((N + 1))
cat >"$T_DIR/c$N.eml" <<EOF
From: amira@example.net
To: denmark@$D
Subject: HTML only
Message-ID: <c$N@test>
MIME-Version: 1.0
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<html><body><p>K=F8benhavn netv=E6rk</p></body></html>
EOF
send denmark "$T_DIR/c$N.eml"
ok "an HTML-only post is distributed" wait_until "$T_WAIT" t_copy $N
f=$(copy $N)
like "$(grep -i '^Content-Type:' "$f" | head -n 1)" "text/plain" \
	"as text/plain"

N=$((N + 1))
cat >"$T_DIR/c$N.eml" <<EOF
From: amira@example.net
To: sweden@$D
Subject: Only a picture
Message-ID: <c$N@test>
MIME-Version: 1.0
Content-Type: image/png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
EOF
send sweden "$T_DIR/c$N.eml"
is "$(sql "SELECT count(*) FROM outbound WHERE message_id='c$N@test' AND kind='post'")" 0 \
	"nothing acceptable left (pass_types): not distributed"
ok "the sender is told why" grep -q "nothing the list accepts is left" "$T_LOG"

# the external filter says spam: spam.rules holds it
N=$((N + 1))
printf 'From: amira@example.net\nTo: norway@%s\nSubject: deal\nMessage-ID: <c%s@test>\n\nBuy VIAGRA now\n' \
	"$D" "$N" >"$T_DIR/c$N.eml"
send norway "$T_DIR/c$N.eml"
is "$(sql "SELECT count(*) FROM held WHERE message_id='c$N@test'")" 1 \
	"the filter's X-Spam-Flag: YES makes spam.rules hold it"

# a filter that times out holds the post
daemon_stop
sed -i "s|^filter_command = .*|filter_command = { \"$SPAMC\", \"sleep\" }|" "$T_CONF"
daemon_start || bail "mlmd did not start again"
N=$((N + 1))
printf 'From: amira@example.net\nTo: denmark@%s\nSubject: slow\nMessage-ID: <c%s@test>\n\nHej\n' \
	"$D" "$N" >"$T_DIR/c$N.eml"
send denmark "$T_DIR/c$N.eml"
is "$(sql "SELECT count(*) FROM held WHERE message_id='c$N@test'")" 1 \
	"a filter that times out: the post is held, not lost"
like "$(sql "SELECT reason FROM held WHERE message_id='c$N@test'")" \
	"timed out" "saying why"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
done_testing
