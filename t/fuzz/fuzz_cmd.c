/*
 * fuzz_cmd.c - libFuzzer target for the command parser and the HTML
 * renderer: msg_parse() then cmd_parse() on arbitrary bytes, and
 * html_to_text() on the same bytes taken as HTML.  Built as
 * t/fuzz/fuzz_cmd under --enable-fuzzing, and as t/fuzz/replay_cmd (with
 * replay.c) so that make check replays t/fuzz/corpus/cmd/.
 *
 * Beyond "no crash, no leak", it checks what cmd.h and html_text.h
 * promise: at most max_cmds commands, every line valid UTF-8 without
 * control characters and at most CMD_LINE_MAX bytes, unknown entries
 * carry no argument; the rendering is valid UTF-8 without controls other
 * than LF and TAB, and within the buffer's cap.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "html_text.h"
#include "msg.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
no_controls(const char *s, size_t n, int allow_lf_tab)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (allow_lf_tab && (c == '\n' || c == '\t'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0)
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd out[8];
	struct cmd_opts o = {8, 3};
	struct buf err = BUF_INIT, text;
	struct msg *m = NULL;
	size_t n, i;
	int trunc;

	if (msg_parse((const char *)data, size, &msg_default_limits, &m,
	              &err) == 0) {
		check(cmd_parse(m, &o, out, &n, &trunc) == 0);
		check(n <= 8 && (trunc == 0 || n == 8));
		for (i = 0; i < n; i++) {
			size_t l = strlen(out[i].line);

			check(l <= CMD_LINE_MAX);
			check(utf8_valid(out[i].line, l) || l == 0);
			check(no_controls(out[i].line, l, 0));
			check(strlen(out[i].arg) <= CMD_ARG_MAX);
			check(out[i].kind != CMD_UNKNOWN ||
			      out[i].arg[0] == '\0');
			check(cmd_name(out[i].kind) != NULL);
		}
		msg_free(m);
	}
	buf_free(&err);

	buf_init(&text, 4096);
	check(html_to_text((const char *)data, size, &text) == 0);
	check(text.len <= 4096);
	check(text.len == 0 || utf8_valid(text.s, text.len));
	check(no_controls(buf_str(&text), text.len, 1));
	buf_free(&text);
	return 0;
}
