#!/bin/sh
# report.sh - `mlmctl report` (issue 9) through a real configuration and
# a running daemon: members added with mlmctl, posts injected with
# mlmd-inject; the report in each format (text, CSV, JSON, HTML), to
# standard output and to --output FILE, for today and for the default
# period (the previous month); small counts shown as "<5", no address in
# any output, the counts unchanged by `mlmctl person erase`; bad options
# exit 64 (EX_USAGE), bad dates 65 (EX_DATAERR), an unknown list 67.
. "${top_srcdir:-.}/t/lib.sh"

[ -x "$MLMD" ] || skip_all "mlmd is not built"
[ -x "$MLMD_INJECT" ] || skip_all "mlmd-inject is not built"

plan 30

D=$T_DOMAIN
T_EXTRA='list baltic {
	description = "Migrant entrepreneurs in Estonia"
	country = "EE"
	language = "en"
	posting = members
}'
conf_write
daemon_start || bail "mlmd did not start"
as_user "$MLMCTL" -c "$T_CONF" add baltic amira@example.net bo@example.ee \
	carl@example.ee dina@example.ee eva@example.ee finn@example.ee \
	>/dev/null 2>&1
DATE=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')
TODAY=$(date -u '+%Y-%m-%d')

# post MID FROM [HEADER]
post() {
	{
		printf 'From: Someone <%s>\nTo: baltic@%s\n' "$2" "$D"
		printf 'Subject: Hello\nMessage-ID: <%s>\nDate: %s\n' "$1" "$DATE"
		[ -z "${3:-}" ] || printf '%s\n' "$3"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\nHi.\n'
	} >"$T_DIR/$1.eml"
	"$MLMD_INJECT" -c "$T_CONF" -f "$2" "baltic@$D" <"$T_DIR/$1.eml" \
		>/dev/null 2>&1
	wait_until "$T_WAIT" spool_settled
}
post r1@test amira@example.net
post r2@test bo@example.ee "In-Reply-To: <r1@test>"
t_posts() { [ "$(sql "SELECT count(*) FROM event_log WHERE list = 'baltic' AND kind = 'post'")" = 2 ]; }
ok "two posts distributed" wait_until "$T_WAIT" t_posts

rep() { as_user "$MLMCTL" -c "$T_CONF" report "$@"; }

out=$(rep --list baltic --from "$TODAY" --to "$TODAY")
is "$?" 0 "report (text) exits 0"
like "$out" "Members at the end +6$" "text: 6 members at the end"
like "$out" "Posts +<5$" "text: 2 posts shown as <5"
like "$out" "Posts held for moderation +0$" "text: 0 held shows 0"
like "$out" "Period: $TODAY to $TODAY" "text: the period"
like "$out" "All country lists" "text: the countries' block"
ok "text: no address" sh -c "! printf '%s' \"\$1\" | grep -q @" - "$out"

csv=$(rep --list baltic --from "$TODAY" --to "$TODAY" --format csv)
is "$?" 0 "report --format csv exits 0"
like "$(printf '%s\n' "$csv" | head -n 1)" "^list,country,sub_requests," "csv: the header"
is "$(printf '%s\n' "$csv" | tr -d '\r' | awk -F, '$1 == "baltic" { print $2, $8, $11 }')" \
	"EE 6 <5" "csv: baltic's country, members at the end, posts"
ok "csv: no address" sh -c "! printf '%s' \"\$1\" | grep -q @" - "$csv"

json=$(rep --list baltic --from "$TODAY" --to "$TODAY" --format json)
is "$?" 0 "report --format json exits 0"
printf '%s\n' "$json" >"$T_DIR/r.json"
jq() { $PY -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$T_DIR/r.json"; }
is "$(jq 'r["lists"][0]["members_end"], r["lists"][0]["posts"], r["lists"][0]["threads"]')" \
	"6 <5 <5" "json: members, posts and threads"
is "$(jq 'r["countries"]["members_end"], r["threshold"]')" "6 5" "json: the countries' total and the threshold"
is "$(jq 'r["from"], r["to"]')" "$TODAY $TODAY" "json: the period"
ok "json: no address" sh -c "! grep -q @ '$T_DIR/r.json'"

mkdir -p "$T_DIR/out"
! is_root || chown "$T_USER" "$T_DIR/out"
rep --list baltic --from "$TODAY" --to "$TODAY" --format json \
	--output "$T_DIR/out/r.json"
is "$?" 0 "--output FILE exits 0"
ok "--output writes the same JSON" cmp -s "$T_DIR/out/r.json" "$T_DIR/r.json"

html=$(rep --from "$TODAY" --to "$TODAY" --format html --lang da)
is "$?" 0 "report --format html exits 0"
like "$html" "<svg|<html|<!DOCTYPE" "html: a page"

# the default period: the previous calendar month
prev=$($PY -c 'import datetime as d; t=d.datetime.now(d.timezone.utc).date().replace(day=1); p=(t-d.timedelta(days=1)); print(p.replace(day=1), p)')
out=$(rep)
is "$?" 0 "report without dates exits 0"
like "$out" "Period: ${prev% *} to ${prev#* }" "the default period is the previous month"

# erasure leaves the counts
as_user "$MLMCTL" -c "$T_CONF" remove baltic bo@example.ee >/dev/null 2>&1
before=$(rep --list baltic --from "$TODAY" --to "$TODAY" --format csv)
as_user "$MLMCTL" -c "$T_CONF" person erase bo@example.ee >/dev/null 2>&1
after=$(rep --list baltic --from "$TODAY" --to "$TODAY" --format csv)
is "$after" "$before" "person erase of a former member and poster leaves the counts"

rep --format xml >/dev/null 2>&1
is "$?" 64 "an unknown format: 64"
rep --bogus >/dev/null 2>&1
is "$?" 64 "an unknown option: 64"
rep --from "$TODAY" >/dev/null 2>&1
is "$?" 64 "--from without --to: 64"
rep --from 2026-02-30 --to 2026-03-01 >/dev/null 2>&1
is "$?" 65 "a day that does not exist: 65"
rep --from 2026-11-10 --to 2026-11-01 >/dev/null 2>&1
is "$?" 65 "--to before --from: 65"
rep --list nosuch >/dev/null 2>&1
is "$?" 67 "an unknown list: 67"

daemon_stop
done_testing
