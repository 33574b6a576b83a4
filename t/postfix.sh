#!/bin/sh
# postfix.sh - a real MTA in front of mlmd: a private Postfix instance
# (t/lib.sh pf_start, libs.md section 8) on a free loopback port delivers
# lists.mlmd.test by LMTP to mlmd's unix socket, and everything else to an
# smtp-sink.  Mail for a list lands in mlmd; mail for an unknown list
# address is refused by mlmd at RCPT, so Postfix bounces it and the DSN
# reaches the sender (captured by the sink).
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
why=$(pf_can_run) || skip_all "$why"
command -v swaks >/dev/null || skip_all "swaks is not installed"

D=$T_DOMAIN
conf_write
daemon_start || bail "mlmd did not start"
ok "smtp-sink for outbound mail and DSNs" sink_start
pf_start "$T_SOCK" "smtp:[127.0.0.1]:$SINK_PORT" ||
	bail "the private Postfix did not start"
pass "private Postfix listening on 127.0.0.1:$PF_PORT"

smtp() { # smtp TO MESSAGE-ID SUBJECT
	swaks --server 127.0.0.1 --port "$PF_PORT" --from amira@example.net \
		--to "$1" --header "Message-Id: <$2>" --header "Subject: $3" \
		--body "Hej fra Aarhus!" >"$T_DIR/swaks.out" 2>&1
}

ok "Postfix accepts mail for denmark@" \
	smtp "denmark@$D" pf-post@example.net "Velkommen til listen"
ok "Postfix accepts mail for two lists in one transaction" \
	smtp "sweden@$D,norway-request@$D" pf-two@example.net "Hej och hei"
ok "Postfix accepts mail for an unknown list address (no recipient check)" \
	smtp "nosuchlist@$D" pf-unknown@example.net "Hallo?"

ok "the post reaches mlmd over LMTP" wait_inbound 1 \
	"message_id = 'pf-post@example.net'"
is "$(sql "SELECT list || ':' || role || ':' || sender FROM inbound
	WHERE message_id = 'pf-post@example.net'")" \
	"denmark:post:amira@example.net" "inbound row: list, role, sender"
ok "the two-list message reaches mlmd" wait_inbound 2 \
	"message_id = 'pf-two@example.net'"
is "$(sql "SELECT group_concat(list || ':' || role, ',') FROM (SELECT list,
	role FROM inbound WHERE message_id = 'pf-two@example.net'
	ORDER BY list)")" "norway:request,sweden:post" \
	"one row per list recipient"
ok "Postfix logs the LMTP delivery as sent" \
	wait_until "$T_WAIT" pf_log_has \
	"to=<denmark@$D>.*lmtp.sock.*status=sent \\(250 2\\.0\\.0"

# The unknown address: 550 5.1.1 at RCPT, Postfix bounces, and the DSN
# for amira@example.net goes out through the default transport to the sink.
ok "Postfix bounces the unknown list address on mlmd's 550 5.1.1" \
	wait_until "$T_WAIT" pf_log_has \
	"to=<nosuchlist@$D>.*dsn=5\\.1\\.1, status=bounced.*550 5\\.1\\.1.*RCPT"
t_sink_dsn() {
	grep -lq 'X-Rcpt-Args: <amira@example.net>' "$SINK_DIR"/* 2>/dev/null
}
ok "the DSN reaches the sender (smtp-sink)" wait_until "$T_WAIT" t_sink_dsn
f=$(grep -l 'X-Rcpt-Args: <amira@example.net>' "$SINK_DIR"/* 2>/dev/null |
	head -1)
ok "the DSN is a delivery-status report naming the address" \
	test -n "$f" -a -n "$(grep -l 'report-type=delivery-status' "$f")" \
	-a -n "$(grep -l "nosuchlist@$D" "$f")"
is "$(inbound_count "message_id = 'pf-unknown@example.net'")" 0 \
	"the unknown address left no inbound row"
ok "spool drained" wait_until "$T_WAIT" spool_settled
is "$(spool_count quarantine)" 0 "nothing quarantined"
ok "no warnings from Postfix about the LMTP peer" \
	sh -c "! grep -E 'lmtp.*(warning|lost connection|protocol error)' '$PF_LOG'"

ok "the private Postfix stops, no process left" pf_stop
daemon_stop
is "$T_RC" 0 "mlmd exits 0 on SIGTERM"
ok "no sanitizer report in the log" no_sanitizer_report
done_testing
