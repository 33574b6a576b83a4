/*
 * fuzz_dsn.c - libFuzzer target for the bounce parser: msg_parse() with
 * the default limits, then dsn_parse() with the shipped bounce.rules
 * (DSN_RULES, set by Makefile.am; $DSN_RULES overrides it).  Built as
 * t/fuzz/fuzz_dsn under --enable-fuzzing, and as t/fuzz/replay_dsn (with
 * replay.c) so that make check replays t/fuzz/corpus/dsn/.
 *
 * Beyond "no crash, no leak, no runaway regex", it checks what dsn.h
 * promises: at most DSN_MAX_RCPTS recipients, every string terminated
 * and one line, kinds consistent with actions.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dsn.h"
#include "msg.h"

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
load_rules(void)
{
	static int loaded;
	struct buf err = BUF_INIT;
	const char *path = getenv("DSN_RULES");

	if (loaded)
		return;
	loaded = 1;
	if (dsn_rules_load(path ? path : DSN_RULES, &err) < 0) {
		fprintf(stderr, "fuzz_dsn: %s\n", buf_str(&err));
		abort();
	}
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;
	struct dsn d;
	size_t i;
	int rc;

	load_rules();
	if (msg_parse((const char *)data, size, &msg_default_limits, &m,
	              &err) == 0) {
		rc = dsn_parse(m, &d);
		check(rc == 0 || rc == 1);
		if (rc == 1) {
			check(d.n_rcpts <= DSN_MAX_RCPTS);
			check(one_line(d.feedback_type,
			               sizeof(d.feedback_type)));
			check(one_line(d.original_message_id,
			               sizeof(d.original_message_id)));
			check(one_line(d.original_to, sizeof(d.original_to)));
			for (i = 0; i < d.n_rcpts; i++) {
				const struct dsn_rcpt *r = &d.rcpts[i];

				check(one_line(r->addr, sizeof(r->addr)));
				check(one_line(r->orig, sizeof(r->orig)));
				check(one_line(r->status, sizeof(r->status)));
				check(one_line(r->diagnostic,
				               sizeof(r->diagnostic)));
				check(r->action == DSN_FAILED ||
				      r->kind == DSN_NONE);
			}
			dsn_free(&d);
		} else {
			check(d.n_rcpts == 0 && d.rcpts == NULL);
		}
		msg_free(m);
	}
	buf_free(&err);
	return 0;
}
