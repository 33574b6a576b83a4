/* Unit tests for buf.c and util.c: caps, growth, size parsing. */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "util.h"
#include "tap.h"

static const struct {
	const char *in;
	int rc;
	size_t want;
} sizes[] = {
	{"2M", 0, 2u << 20},   {"512k", 0, 512u << 10}, {"1000", 0, 1000},
	{"1G", 0, 1u << 30},   {" 3 MB ", 0, 3u << 20}, {"", -1, 0},
	{"M", -1, 0},          {"2X", -1, 0},           {"-1", -1, 0},
	{"99999999999999999999999", -1, 0},
};

int
main(void)
{
	struct buf b = BUF_INIT;
	size_t i, n;
	char *s;

	is_str(buf_str(&b), "", "empty buffer reads as \"\"");
	ok(buf_adds(&b, "hello") == 0 && b.len == 5, "append");
	ok(buf_printf(&b, " %d %s", 42, "x") == 0, "printf");
	is_str(buf_str(&b), "hello 42 x", "content");
	buf_truncate(&b, 5);
	is_str(buf_str(&b), "hello", "truncate");
	s = buf_detach(&b, &n);
	ok(n == 5 && strcmp(s, "hello") == 0 && b.s == NULL, "detach");
	free(s);

	buf_init(&b, 10);
	ok(buf_adds(&b, "0123456789") == 0, "fill to the cap");
	ok(buf_addc(&b, 'x') == -1, "one more byte is refused");
	is_str(buf_str(&b), "0123456789", "content unchanged after refusal");
	ok(buf_printf(&b, "%s", "y") == -1, "printf past the cap refused");
	buf_free(&b);

	buf_init(&b, 0);
	for (i = 0; i < 100000; i++)
		buf_addc(&b, 'a' + (int)(i % 26));
	ok(b.len == 100000 && b.s[b.len] == '\0', "grows and stays terminated");
	buf_free(&b);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t got = 0;
		int rc = parse_size(sizes[i].in, &got);
		ok(rc == sizes[i].rc && (rc || got == sizes[i].want),
		   "parse_size(\"%s\")", sizes[i].in);
	}
	return done_testing();
}
