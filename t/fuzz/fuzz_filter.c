/*
 * fuzz_filter.c - libFuzzer target for the post pipeline (filters/): the
 * fuzz input is a post; it is parsed with msg_parse() and run through
 * filter_run() for every posting policy and non-member action, as a
 * member, a stranger, a moderator, a moderated member, with and without a
 * null sender.  Built as t/fuzz/fuzz_filter under --enable-fuzzing, and
 * as t/fuzz/replay_filter (with replay.c) so that make check replays
 * t/fuzz/corpus/filter/.
 *
 * Beyond "no crash, no leak", it checks what filter.h promises: a verdict
 * other than PASS, a stage name, and a reason that is one non-empty line.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "filter.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf *c;
	struct msg *m = NULL;
	struct buf err = BUF_INIT;
	int pol, nm, who, snd;

	if (!c) {
		c = conf_parse("fuzz.conf",
		               "domain = \"lists.example.org\"\n"
		               "home = \"/nonexistent\"\n"
		               "list denmark { max_size = \"4K\" }\n",
		               NULL);
		check(c != NULL);
	}
	if (msg_parse((const char *)data, size, &msg_default_limits, &m,
	              &err) < 0) {
		buf_free(&err);
		return 0;
	}
	for (pol = POST_MEMBERS; pol <= POST_OPEN; pol++)
		for (nm = NM_HOLD; nm <= NM_ACCEPT; nm++)
			for (who = 0; who < 4; who++)
				for (snd = 0; snd < 2; snd++) {
					struct list_conf l = c->lists[0];
					struct filter_post p;
					struct filter_result r;
					enum filter_verdict v;

					l.posting = (enum posting)pol;
					l.nonmember = (enum nonmember)nm;
					memset(&p, 0, sizeof(p));
					p.conf = c;
					p.list = &l;
					p.msg = m;
					p.size = size;
					p.sender = snd ? "" : "someone@example.net";
					p.is_member = who == 1 || who == 3;
					p.is_moderator = who == 2;
					p.is_moderated = who == 3;
					memset(&r, 0, sizeof(r));
					v = filter_run(&p, &r);
					check(v != FILTER_PASS && v == r.verdict);
					check(r.stage && *r.stage);
					check(r.reason[0] &&
					      !strchr(r.reason, '\n'));
				}
	msg_free(m);
	buf_free(&err);
	return 0;
}
