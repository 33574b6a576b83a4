#!/bin/sh
# dmarc.sh - the author's DMARC policy and the list's copies, through the
# running daemon (maildir relay; policies from dmarc_override, since this
# machine has no DNS): p=reject and p=quarantine get From: munged (dmarc =
# munge, the default) or the post wrapped (dmarc = wrap); p=none and
# dmarc = none send the post as it is; dmarc = always munges every post;
# dmarc_threshold = reject leaves p=quarantine alone; `mlmctl dmarc
# explain` says the same.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 21

D=$T_DOMAIN
MD=$T_DIR/maildir
T_EXTRA='dmarc_override = { "strict.example=reject", "soft.example=quarantine", "open.example=none" }'
conf_write
sed -i '/^list sweden {/a\
	dmarc = wrap' "$T_CONF"
sed -i '/^list norway {/a\
	dmarc = none' "$T_CONF"
sed -i '/^list finland {/a\
	dmarc = always' "$T_CONF"
"$MLMCTL" -c "$T_CONF" check-config >"$T_DIR/cc.out" 2>&1 ||
	bail "the test configuration is refused: $(cat "$T_DIR/cc.out")"
daemon_start || bail "mlmd did not start"
for l in denmark sweden norway finland; do
	as_user "$MLMCTL" -c "$T_CONF" add "$l" rx@example.org \
		"Amira <amira@strict.example>" quinn@soft.example \
		olaf@open.example >/dev/null 2>&1
done

cat >"$T_DIR/h.py" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[2], "rb"),
                                   policy=email.policy.default)
if sys.argv[1] == "hdr":
    v = m.get(sys.argv[3])
    print("" if v is None else " ".join(str(v).split()))
elif sys.argv[1] == "type":
    print(m.get_content_type())
elif sys.argv[1] == "inner":  # the From of the attached post
    for p in m.walk():
        if p.get_content_type() == "message/rfc822":
            print(p.get_content()["From"])
EOF
h() { $PY "$T_DIR/h.py" "$@"; }
N=0
# post FROM LIST: one post; its copy for rx@example.org in $F
post() {
	N=$((N + 1))
	printf 'From: %s\nTo: %s@%s\nSubject: Hej %s\nMessage-ID: <d%s@test>\nDKIM-Signature: v=1; a=rsa-sha256; d=x; b=abc\n\nHej\n' \
		"$1" "$2" "$D" "$N" "$N" >"$T_DIR/p$N.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f "$(echo "$1" | sed 's/.*<//; s/>//')" \
		"$2@$D" <"$T_DIR/p$N.eml" >/dev/null 2>&1
	wait_until "$T_WAIT" t_copy "d$N@test"
	F=$(grep -l "d$N@test" "$MD/rx@example.org/new"/* 2>/dev/null | head -n 1)
}
t_copy() { grep -q "$1" "$MD/rx@example.org/new"/* 2>/dev/null; }

post "Amira <amira@strict.example>" denmark
like "$(h hdr "$F" From)" "^Amira via .*<denmark@$D>$" \
	"p=reject, dmarc = munge: From is the list, with her name"
like "$(h hdr "$F" Cc) $(h hdr "$F" Reply-To)" "amira@strict.example" \
	"and she can still be reached (Cc or Reply-To)"
like "$(h hdr "$F" X-Original-From)" "amira@strict.example" "X-Original-From"
is "$(grep -ci '^DKIM-Signature:' "$F")" 0 "her broken DKIM signature is removed"
like "$(h hdr "$F" List-Id)" "denmark" "list headers intact"
ok "the decision is logged" grep -q "DMARC .*strict.example.*From munged" "$T_LOG"

post "quinn@soft.example" denmark
like "$(h hdr "$F" From)" "via" "p=quarantine is munged too (dmarc_threshold = quarantine)"

post "olaf@open.example" denmark
is "$(h hdr "$F" From)" "olaf@open.example" "p=none: the post as it is"
is "$(grep -ci '^DKIM-Signature:' "$F")" 1 "with its signature"

post "Amira <amira@strict.example>" sweden
is "$(h type "$F")" "multipart/mixed" "dmarc = wrap: a message from the list"
like "$(h hdr "$F" From)" "sweden@$D" "From the list"
like "$(h inner "$F")" "amira@strict.example" "the post attached as it was"

post "Amira <amira@strict.example>" norway
like "$(h hdr "$F" From)" "amira@strict.example" "dmarc = none: as it is"

post "olaf@open.example" finland
like "$(h hdr "$F" From)" "via.*finland@$D" "dmarc = always munges every post"

as_user "$MLMCTL" -c "$T_CONF" dmarc explain amira@strict.example >"$T_DIR/x.out" 2>&1
like "$(head -n 1 "$T_DIR/x.out")" "reject" "mlmctl dmarc explain: the policy"
like "$(grep ' sweden' "$T_DIR/x.out")" "wrapped" "and what each list does"
like "$(grep ' norway' "$T_DIR/x.out")" "as is" "..."

# dmarc_threshold = reject: quarantine is left alone
daemon_stop
printf '%s\n' 'dmarc_threshold = reject' >>"$T_CONF"
daemon_start || bail "mlmd did not start again"
post "quinn@soft.example" denmark
is "$(h hdr "$F" From)" "quinn@soft.example" \
	"dmarc_threshold = reject: p=quarantine goes as it is"
post "Amira <amira@strict.example>" denmark
like "$(h hdr "$F" From)" "via" "p=reject is still munged"

daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
