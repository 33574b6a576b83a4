/*
 * fuzz_tmpl.c - libFuzzer target for the template engine: the first byte
 * picks the template's name ('h': ".html", else ".txt", so both escaping
 * modes are reached), the rest (cut at the first NUL) is the template
 * text.  It is
 * parsed, its names are checked against a fixed documented set, and it is
 * rendered (body, then subject and body) with a fixed set of variables,
 * including a list whose items nest another list, into a capped buffer.
 * Replayed over t/fuzz/corpus/tmpl/ by make check (replay.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tmpl.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known[] = {
    "a",         "b",           "name",  "items",       "items.t",
    "items.sub", "items.sub.u", "empty", "archive_url", NULL};

static struct tmpl_vars *
fixed_vars(void)
{
	struct tmpl_vars *v = tmpl_vars_new(), *it, *sub;
	int i, j;

	tmpl_vars_set(v, "a", "1");
	tmpl_vars_set(v, "b", "");
	tmpl_vars_set(v, "name", "<Zoë & \"Ahmad\">\r\nBcc: x");
	tmpl_vars_set(v, "archive_url", "https://lists.example.org/a?x=1&y=2");
	tmpl_vars_set_list(v, "empty");
	for (i = 0; i < 3; i++) {
		it = tmpl_vars_add_item(v, "items");
		tmpl_vars_setf(it, "t", "item %d <%d>", i, i);
		for (j = 0; j < i; j++) {
			sub = tmpl_vars_add_item(it, "sub");
			tmpl_vars_setf(sub, "u", "'%d'", j);
		}
	}
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT, out = BUF_INIT, subj = BUF_INIT;
	struct tmpl_vars *v;
	struct tmpl *t;
	char *text;

	if (size < 1 || size > 65536)
		return 0;
	tmpl_utf8_valid(data, size);
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	buf_init(&err, 1 << 16);
	t = tmpl_parse(data[0] == 'h' ? "fuzz.html" : "fuzz.txt", text, &err);
	if (t) {
		size_t n;

		tmpl_names(t, &n);
		tmpl_check_vars(t, known, &err);
		v = fixed_vars();
		buf_init(&out, 1 << 20);
		buf_init(&subj, 4096);
		tmpl_render(t, v, &out, &err);
		buf_reset(&out);
		tmpl_render_mail(t, v, &subj, &out, &err);
		tmpl_vars_free(v);
		tmpl_free(t);
	}
	buf_free(&err);
	buf_free(&out);
	buf_free(&subj);
	free(text);
	return 0;
}
