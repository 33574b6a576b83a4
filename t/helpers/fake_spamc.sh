#!/bin/sh
# fake_spamc.sh - stands in for spamc(1) in t/extfilter_test.c.
#
#   fake_spamc.sh           output mode: the message on stdin comes back
#                           on stdout with X-Spam-Flag: YES and a folded
#                           X-Spam-Status: Yes, ... added at the end of the
#                           header when its body holds "VIAGRA", else with
#                           X-Spam-Status: No, ...  (CRLF kept if the
#                           message uses it)
#   fake_spamc.sh verdict   like spamc -c: reads the message, prints
#                           nothing, exits 1 for spam, 0 for ham
#   fake_spamc.sh sleep     tells its pid on stderr, then sleeps 30 s in a
#                           child process (a timeout must kill both)
#   fake_spamc.sh exit N    exits N at once, reading and writing nothing
#   fake_spamc.sh garbage   writes 1 MiB of random bytes, exits 0
#   fake_spamc.sh cat       copies stdin to stdout as it reads (a program
#                           that writes before it has read everything)
#   fake_spamc.sh env       reads the message, then writes a header block
#                           describing itself: X-Env (environment) and
#                           X-Pgrp (its pid and process group)
#
# It runs with the environment extfilter gives it (PATH=/usr/bin:/bin).
case "$1" in
sleep)
	echo "fake_spamc: sleeping, pid $$" >&2
	sleep 30
	exit 0
	;;
exit)
	exit "$2"
	;;
garbage)
	# a first line that is no header field, then random bytes (alone
	# they began with an empty line one time in 256: a message with
	# no header added, which reads as "nothing to add")
	printf '\001garbage, not a header\n'
	head -c 1048576 /dev/urandom
	exit 0
	;;
cat)
	exec cat
	;;
env)
	cat >/dev/null
	printf 'X-Env: %s\n' "$(env | sort | tr '\n' ' ')"
	# pid and process group (fields 1 and 5; comm is "(sh)")
	awk '{ print "X-Pgrp: " $1 " " $5 }' /proc/$$/stat
	printf '\nbody\n'
	exit 0
	;;
verdict)
	exec awk '
		inbody && /VIAGRA/ { spam = 1 }
		/^\r?$/ { inbody = 1 }
		END { exit spam ? 1 : 0 }'
	;;
"")
	exec awk '
		{ line[n++] = $0 }
		!inbody && /^\r?$/ { inbody = 1; hend = n - 1; next }
		inbody && /VIAGRA/ { spam = 1 }
		END {
			if (!inbody)
				hend = n
			cr = (n > 0 && line[0] ~ /\r$/) ? "\r" : ""
			for (i = 0; i < hend; i++)
				print line[i]
			if (spam) {
				print "X-Spam-Flag: YES" cr
				print "X-Spam-Status: Yes, score=7.2 required=5.0" \
					" tests=FAKE_VIAGRA" cr
				print "\tautolearn=no version=0.0.1" cr
			} else {
				print "X-Spam-Status: No, score=0.1 required=5.0" \
					" tests=NONE autolearn=no version=0.0.1" cr
			}
			for (i = hend; i < n; i++)
				print line[i]
		}'
	;;
*)
	echo "fake_spamc: unknown mode $1" >&2
	exit 64
	;;
esac
