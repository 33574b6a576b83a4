/*
 * fuzz_msg.c - libFuzzer target for the message model: msg_parse() with
 * the default limits on arbitrary bytes, then msg_free().  Built as
 * t/fuzz/fuzz_msg under --enable-fuzzing, and as t/fuzz/replay_msg (with
 * replay.c) so that make check replays t/fuzz/corpus/msg/.
 *
 * Beyond "no crash, no leak", it checks the invariants msg.h promises:
 * every decoded string is valid UTF-8 and filenames are never paths.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		int l = *u < 0x80 ? 1 : *u >= 0xf0 ? 4 : *u >= 0xe0 ? 3 : 2;
		int i;

		if (*u >= 0x80 && *u < 0xc2)
			return 0;
		for (i = 1; i < l; i++)
			if ((u[i] & 0xc0) != 0x80)
				return 0;
		u += l;
	}
	return 1;
}

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;
	size_t i;

	if (msg_parse((const char *)data, size, &msg_default_limits, &m,
	              &err) == 0) {
		check(utf8_ok(m->subject));
		check(utf8_ok(m->from.name) && utf8_ok(m->from.addr));
		for (i = 0; i < m->n_headers; i++)
			check(utf8_ok(m->headers[i].value));
		for (i = 0; i < m->n_parts; i++) {
			const struct msg_part *p = &m->parts[i];

			check(strchr(p->filename, '/') == NULL &&
			      strchr(p->filename, '\\') == NULL &&
			      p->filename[0] != '.');
			check(p->text == NULL || utf8_ok(p->text));
			check(p->text == NULL ||
			      strlen(p->text) == p->text_len);
		}
		msg_free(m);
	} else {
		check(err.len > 0 && strchr(buf_str(&err), '\n') == NULL);
	}
	buf_free(&err);
	return 0;
}
