/*
 * fuzz_itip.c - libFuzzer target for the calendar reader: itip_parse()
 * and itip_parse_reply() on the input, then, for an event that parsed,
 * a bounded RRULE expansion and an itip_build() whose output must parse
 * again.  Built as t/fuzz/fuzz_itip under --enable-fuzzing, and as
 * t/fuzz/replay_itip (with replay.c) so that make check replays
 * t/fuzz/corpus/itip/.
 *
 * Beyond "no crash, no leak", it checks what itip.h promises: strings
 * terminated, one-line fields free of control characters, occurrences in
 * order, within max and not before `from`.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "itip.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
one_line(const char *s, size_t size)
{
	size_t i;

	for (i = 0; i < size && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return i < size;
}

static void
check_event(const struct itip_event *ev)
{
	check(one_line(ev->uid, sizeof(ev->uid)) && ev->uid[0] != '\0');
	check(one_line(ev->summary, sizeof(ev->summary)));
	check(one_line(ev->location, sizeof(ev->location)));
	check(one_line(ev->rrule, sizeof(ev->rrule)));
	check(one_line(ev->tzid, sizeof(ev->tzid)));
	check(one_line(ev->organizer, sizeof(ev->organizer)));
	check(memchr(ev->description, '\0', sizeof(ev->description)) != NULL);
	check(ev->end >= ev->start);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	struct itip_event ev, back;
	struct itip_reply r;
	enum itip_method m;
	time_t occ[16];
	size_t n, i;

	if (itip_parse((const char *)data, size, &m, &ev, NULL) == 0) {
		check_event(&ev);
		n = itip_occurrences(&ev, ev.start, occ, 16);
		check(n <= 16);
		for (i = 0; i < n; i++)
			check(occ[i] >= ev.start &&
			      (i == 0 || occ[i] > occ[i - 1]));
		strlcpy_(ev.organizer, "list+rsvp-x@example.org",
		         sizeof(ev.organizer));
		if (ev.start != 0 &&
		    itip_build(ITIP_REQUEST, &ev, "a@example.org", "A", "L",
		               1741000000, &out) == 0)
			check(
			    itip_parse(out.s, out.len, &m, &back, NULL) == 0 &&
			    m == ITIP_REQUEST && strcmp(back.uid, ev.uid) == 0);
	}
	if (itip_parse_reply((const char *)data, size, &r, NULL) == 0) {
		check(one_line(r.attendee, sizeof(r.attendee)) &&
		      strchr(r.attendee, '@') != NULL);
		check(one_line(r.comment, sizeof(r.comment)));
		check(r.guests >= 0 && r.guests <= ITIP_MAX_GUESTS);
	}
	buf_free(&out);
	return 0;
}
