/*
 * fuzz_decorate.c - libFuzzer target for decorate(): the fuzz input is the
 * post, decorated for a fixed list (prefix, Reply-To, description with
 * non-ASCII text) with a non-ASCII footer and personal unsubscribe URLs.
 * Built as t/fuzz/fuzz_decorate under --enable-fuzzing, and as
 * t/fuzz/replay_decorate (with replay.c) so that make check replays
 * t/fuzz/corpus/decorate/.
 *
 * Beyond "no crash, no leak", it checks what decorate.h promises: on
 * success the output carries our List-Id and X-Loop in its header block
 * and is not larger than the input allows; on failure err is one line and
 * out is untouched.  The output is parsed again with msg_parse() (which
 * must not crash on it either).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "decorate.h"
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
	struct list_conf l;
	struct decorate_in in;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct msg *m = NULL;

	memset(&l, 0, sizeof(l));
	l.name = (char *)"denmark";
	l.address = (char *)"denmark@lists.example.org";
	l.description = (char *)"Iværksættere i Danmark";
	l.subject_prefix = (char *)"[DK] ";
	l.reply_to = REPLY_LIST;
	l.archive = ARCH_PUBLIC;
	memset(&in, 0, sizeof(in));
	in.raw = (const char *)data;
	in.len = size;
	in.list = &l;
	in.domain = "lists.example.org";
	in.separator = '+';
	in.base_url = "https://lists.example.org";
	in.archived_at = "https://lists.example.org/archive/denmark/m/1.html";
	in.footer = "-- \nDenmark list · afmeld: https://x.example/u\n";
	in.unsubscribe_url = "https://lists.example.org/u/TOKEN";
	if (decorate(&in, &out, &err) == 0) {
		/* memmem, not strstr: the post may hold NUL bytes. */
		const char *end = memmem(out.s, out.len, "\n\n", 2);
		const char *crlf = memmem(out.s, out.len, "\r\n\r\n", 4);
		const char *id, *loop;

		check(out.len > 0);
		if (crlf && (!end || crlf < end))
			end = crlf;
		check(end != NULL);
		id = memmem(out.s, out.len, "List-Id: ", 9);
		loop = memmem(out.s, out.len,
		              "X-Loop: denmark@lists.example.org", 33);
		check(id != NULL && id < end && loop != NULL && loop < end);
		check(out.len <= 2 * size + 65536);
		if (msg_parse(out.s, out.len, &msg_default_limits, &m, &err) ==
		    0)
			msg_free(m);
	} else {
		check(out.len == 0);
		check(err.len > 0 && strchr(buf_str(&err), '\n') == NULL);
	}
	buf_free(&out);
	buf_free(&err);
	return 0;
}
