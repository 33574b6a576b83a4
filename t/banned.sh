#!/bin/sh
# STYLE.md bans strcpy, strcat, sprintf, gets, atoi and strtok: unbounded
# or silently failing.  This test fails on any use in the sources.
top=${top_srcdir:-.}
echo "1..1"
hits=$(cd "$top" && grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)[[:space:]]*\(' \
	mlmd/*.c mlmd/*.h spool/*.c spool/*.h filters/*.c templates/*.c 2>/dev/null)
if [ -z "$hits" ]; then
	echo "ok 1 - no banned functions in the sources"
else
	echo "$hits" | sed 's/^/# /'
	echo "not ok 1 - banned functions in the sources"
fi
