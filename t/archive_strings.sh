#!/bin/sh
# archive_strings.sh - the words of the archive pages (archive.strings),
# of the digests (digest.strings) and of the participation report
# (report.strings) are complete in every language: for each
# such FILE and each of en da sv nb fi is ar, templates/LANG/FILE exists,
# is UTF-8, every line that is not a comment (#) or empty is "key = value"
# with a non-empty value and no carriage return, no key is given twice,
# the keys are exactly those of en/FILE, and every value keeps exactly the
# {placeholders} of its English value.  No daemon.
. "${top_srcdir:-.}/t/lib.sh"

LANGS="en da sv nb fi is ar"
FILES="archive.strings digest.strings report.strings"
TD=$top_srcdir/templates

for s in $FILES; do
	[ -r "$TD/en/$s" ] || bail "templates/en/$s is missing"
done

plan 126

# utf8 FILE: the file decodes as UTF-8.
utf8() {
	if [ -x "$PY" ]; then
		"$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' \
			"$1" 2>/dev/null
	else
		iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1
	fi
}

# body FILE: the lines that are neither comments nor empty.
body() {
	LC_ALL=C grep -a -v -e '^#' -e '^$' "$1"
}

# badlines FILE: the lines of the body not of the form "key = value".
badlines() {
	body "$1" | LC_ALL=C grep -a -v '^[a-z][a-z0-9_]* = .*[^[:space:]]' ;
	LC_ALL=C grep -a -n "$(printf '\r')" "$1" | sed 's/\r/\\r/'
}

# keys FILE: the keys, sorted, one a line (duplicates kept).
keys() {
	body "$1" | LC_ALL=C sed -n 's/^\([a-z][a-z0-9_]*\) = .*/\1/p' |
	    LC_ALL=C sort
}

# placeholders FILE: "key {a}{b}" per key, sorted; {a}{b} are the distinct
# placeholders of its value (anything in braces), sorted.
# LC_ALL=C and grep -a throughout: bytes, whatever the encoding.
placeholders() {
	body "$1" | LC_ALL=C sed -n 's/^\([a-z][a-z0-9_]*\) = /\1 /p' |
	while read -r t_k t_v; do
		t_p=$(printf '%s\n' "$t_v" | LC_ALL=C grep -a -o '{[^{}]*}' |
		    LC_ALL=C sort -u | tr -d '\n')
		printf '%s %s\n' "$t_k" "$t_p"
	done | LC_ALL=C sort
}

for s in $FILES; do
	b=${s%.strings}
	placeholders "$TD/en/$s" >"$T_DIR/en.$b.ph"
	keys "$TD/en/$s" | uniq >"$T_DIR/en.$b.keys"
	for l in $LANGS; do
		f=$TD/$l/$s
		if ! [ -r "$f" ]; then
			fail "$l: $s exists"
			skip 5 "$l/$s is missing"
			continue
		fi
		pass "$l: $s exists"
		ok "$l: $s is UTF-8" utf8 "$f"
		is "$(badlines "$f")" "" \
		    "$l: $s: every line is a comment or \"key = value\""
		is "$(keys "$f" | uniq -d)" "" "$l: $s: no key is given twice"
		keys "$f" | uniq >"$T_DIR/$l.$b.keys"
		is "$(LC_ALL=C comm -3 "$T_DIR/en.$b.keys" "$T_DIR/$l.$b.keys" |
		    sed 's/^\t/extra: /; t; s/^/missing: /')" "" \
		    "$l: $s: the same keys as English"
		placeholders "$f" >"$T_DIR/$l.$b.ph"
		is "$(LC_ALL=C awk 'NR == FNR { e[$1] = $2; next }
		    ($1 in e) && e[$1] != $2 {
			print $1 ": " $2 " (English: " e[$1] ")" }' \
		    "$T_DIR/en.$b.ph" "$T_DIR/$l.$b.ph")" "" \
		    "$l: $s: every value keeps the placeholders of the English one"
	done
done

done_testing
