/*
 * fuzz_rsvp.c - libFuzzer target for the RSVP answer parser: msg_parse()
 * then rsvp_parse() on arbitrary bytes, and rsvp_word() on the same bytes
 * taken as one line.  Built as t/fuzz/fuzz_rsvp under --enable-fuzzing,
 * and as t/fuzz/replay_rsvp (with replay.c) so that make check replays
 * t/fuzz/corpus/rsvp/.
 *
 * Beyond "no crash, no leak", it checks what rsvp_parse.h promises:
 * rsvp_parse() returns 0, the answer is in range, guests are 0..9 and 0
 * when there is no answer or the answer is no; the same for rsvp_word().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "msg.h"
#include "rsvp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_answer(enum rsvp_answer a, int guests)
{
	check(a == RSVP_NONE || a == RSVP_YES || a == RSVP_NO ||
	      a == RSVP_MAYBE);
	check(guests >= 0 && guests <= RSVP_GUESTS_MAX);
	check(guests == 0 || a == RSVP_YES || a == RSVP_MAYBE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct rsvp_text r;
	struct msg *m = NULL;
	enum rsvp_answer a;
	int g = -1;

	if (msg_parse((const char *)data, size, &msg_default_limits, &m,
	              &err) == 0) {
		check(rsvp_parse(m, &r) == 0);
		check_answer(r.answer, r.guests);
		msg_free(m);
	}
	buf_free(&err);

	a = rsvp_word((const char *)data, size, &g);
	check_answer(a, g);
	return 0;
}
