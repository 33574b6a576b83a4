/*
 * fuzz_conf.c - libFuzzer target for the configuration parser and the
 * address code: the bytes become the text of mlmd.conf (cut at the first
 * NUL, as a file with a NUL is refused before parsing) and go through
 * conf_parse(), and conf_print() when they parse.  Then every line of the
 * input is taken as a recipient and routed (addr_route) against that conf,
 * or against a small fixed one when the input is no configuration, with
 * two invariants checked: normalisation is idempotent, and a routed
 * address has a list and a NUL-terminated argument.  Replayed over
 * t/fuzz/corpus/conf/ by make check (replay.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] = "domain = \"lists.example.org\"\n"
                            "home = \"/x\"\n"
                            "list denmark { }\n"
                            "list all { include = { \"denmark\" } }\n";

static void
route_lines(const struct conf *c, char *text)
{
	char *line = text, *nl;
	int n = 0;

	for (; line && n < 1000; line = nl, n++) {
		char a[ADDR_MAX + 1], b[ADDR_MAX + 1];
		struct route r;

		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (addr_normalise(line, a, sizeof(a)) == 0 &&
		    (addr_normalise(a, b, sizeof(b)) < 0 || strcmp(a, b) != 0))
			abort(); /* normalising twice must change nothing */
		if (addr_route(c, line, &r) == 0 &&
		    (!r.list || memchr(r.arg, '\0', sizeof(r.arg)) == NULL))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf errors = BUF_INIT;
	struct conf *c, *base = NULL;
	char *text;

	if (size > 65536)
		return 0;
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	buf_init(&errors, 1 << 20);
	c = conf_parse("fuzz.conf", text, &errors);
	if (c) {
		FILE *f = fopen("/dev/null", "w");

		if (f) {
			conf_print(c, f);
			fclose(f);
		}
	} else {
		base = conf_parse("fixed.conf", fixed, &errors);
	}
	if (c || base)
		route_lines(c ? c : base, text);
	conf_free(c);
	conf_free(base);
	buf_free(&errors);
	free(text);
	return 0;
}
