/*
 * fuzz_rules.c - libFuzzer target for the rule files (filters/rules.c):
 * the input up to its first blank line is a rule file, parsed with
 * rules_parse_text(); the rest is a message, parsed with msg_parse() and
 * evaluated with rules_eval() when the rules loaded.  Built as
 * t/fuzz/fuzz_rules under --enable-fuzzing, and as t/fuzz/replay_rules
 * (with replay.c) so that make check replays t/fuzz/corpus/rules/.
 *
 * Beyond "no crash, no leak", it checks what rules.h promises: a failed
 * load says why in "FILE:LINE: what" lines; a result's strings are
 * NUL-terminated, one line; a decision has a reason and a place; -1
 * comes with RULES_NONE.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_line(const char *s, size_t size)
{
	check(memchr(s, '\0', size) != NULL);
	check(strchr(s, '\n') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep;
	struct buf err = BUF_INIT;
	struct rules *rs;
	struct msg *m = NULL;
	struct rules_result rr;
	size_t rl;
	int rc;

	sep = size ? memmem(text, size, "\n\n", 2) : NULL;
	rl = sep ? (size_t)(sep - text) + 1 : size;
	rs = rules_parse_text("fuzz.rules", text, rl, &err);
	if (rs == NULL) {
		check(err.len > 0 && strncmp(err.s, "fuzz.rules:", 11) == 0);
		check(err.s[err.len - 1] == '\n');
		buf_free(&err);
		return 0;
	}
	check(err.len == 0);
	if (sep && msg_parse(text + rl + 1, size - rl - 1, &msg_default_limits,
	                     &m, &err) == 0) {
		rc = rules_eval(rs, m, &rr);
		check(rc == 0 || rc == -1);
		check_line(rr.reason, sizeof(rr.reason));
		check_line(rr.where, sizeof(rr.where));
		check_line(rr.tags, sizeof(rr.tags));
		if (rc < 0)
			check(rr.action == RULES_NONE && rr.where[0]);
		else if (rr.action != RULES_NONE)
			check(rr.reason[0] && rr.where[0]);
		msg_free(m);
	}
	rules_free(rs);
	buf_free(&err);
	return 0;
}
