/*
 * fuzz_msghtml.c - libFuzzer target for the archive's body renderer:
 * msg_parse() then msghtml_body() with both option sets (obfuscated
 * without attachment links, plain with links), plus msghtml_escape() and
 * msghtml_address() on the raw bytes.  Built as t/fuzz/fuzz_msghtml under
 * --enable-fuzzing, and as t/fuzz/replay_msghtml (with replay.c) so that
 * make check replays t/fuzz/corpus/msghtml/.
 *
 * Beyond "no crash, no leak" it aborts when the output is not inside the
 * allow-list that msghtml.h promises: msghtml_allowed() below, which
 * t/msghtml_test.c uses too (it links this file).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "msghtml.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int msghtml_allowed(const char *s, size_t n, const char *attach_base,
                    const char **why);

static const char *const tags[] = {"div", "blockquote", "a",     "ul",
                                   "li",  "span",       "pre",   "br",
                                   "p",   "em",         "strong"};
static const char *const attrs[] = {"class", "href", "rel",
                                    "dir",   "lang", "title"};
static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};

static size_t
word(const char *s, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && s[j] >= 'a' && s[j] <= 'z')
		j++;
	return j - i;
}

static int
in_list(const char *w, size_t l, const char *const *list, size_t nl)
{
	size_t i;

	for (i = 0; i < nl; i++)
		if (strlen(list[i]) == l && memcmp(list[i], w, l) == 0)
			return 1;
	return 0;
}

/* An entity we write, at s + i; its length or 0. */
static size_t
entity(const char *s, size_t n, size_t i)
{
	size_t k, l;

	for (k = 0; k < ARRAY_SIZE(ents); k++) {
		l = strlen(ents[k]);
		if (n - i >= l && memcmp(s + i, ents[k], l) == 0)
			return l;
	}
	return 0;
}

static int
prefix(const char *s, size_t n, const char *p)
{
	size_t l = strlen(p);

	return n >= l && memcmp(s, p, l) == 0;
}

/*
 * 1 if s is a well-formed fragment made only of the allowed tags and
 * attributes: every '<' opens or closes an allowed tag, tags are balanced
 * (br is void), attribute values are double-quoted and hold no '<', '>'
 * or bare '&', href starts with http://, https://, mailto: or attach_base
 * and holds no white space; text holds no '>', '"', '\'' or bare '&'; the
 * whole is valid UTF-8 without controls other than LF and TAB.
 */
int
msghtml_allowed(const char *s, size_t n, const char *attach_base,
                const char **why)
{
	const char *stack[64];
	size_t stackl[64], sp = 0, i = 0, l, k;

#define FAIL(w)                                                                \
	do {                                                                   \
		*why = (w);                                                    \
		return 0;                                                      \
	} while (0)
	if (n && !utf8_valid(s, n))
		FAIL("invalid UTF-8 or NUL");
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<' && i + 1 < n && s[i + 1] == '/') {
			i += 2;
			l = word(s, n, i);
			if (sp == 0 || stackl[sp - 1] != l ||
			    memcmp(stack[sp - 1], s + i, l) != 0)
				FAIL("unbalanced end tag");
			sp--;
			i += l;
			if (i >= n || s[i] != '>')
				FAIL("bad end tag");
			i++;
		} else if (c == '<') {
			const char *name = s + ++i;
			size_t nl = word(s, n, i);

			if (!in_list(name, nl, tags, ARRAY_SIZE(tags)))
				FAIL("tag not allowed");
			i += nl;
			while (i < n && s[i] == ' ') {
				const char *an = s + ++i;
				size_t al = word(s, n, i), vs;

				if (!in_list(an, al, attrs, ARRAY_SIZE(attrs)))
					FAIL("attribute not allowed");
				i += al;
				if (n - i < 2 || s[i] != '=' || s[i + 1] != '"')
					FAIL("attribute value not quoted");
				i += 2;
				vs = i;
				while (i < n && s[i] != '"') {
					if (s[i] == '<' || s[i] == '>' ||
					    (unsigned char)s[i] < 0x20)
						FAIL("bad byte in attribute");
					if (s[i] == '&') {
						if (!(k = entity(s, n, i)))
							FAIL("bare & in value");
						i += k;
					} else {
						i++;
					}
				}
				if (i >= n)
					FAIL("unterminated attribute");
				if (al == 4 && memcmp(an, "href", 4) == 0) {
					const char *v = s + vs;
					size_t vl = i - vs;

					if (!prefix(v, vl, "http://") &&
					    !prefix(v, vl, "https://") &&
					    !prefix(v, vl, "mailto:") &&
					    !(attach_base &&
					      prefix(v, vl, attach_base)))
						FAIL("href scheme not allowed");
					for (k = 0; k < vl; k++)
						if (v[k] == ' ' ||
						    (unsigned char)v[k] >= 0x7f)
							FAIL(
							    "bad byte in href");
				}
				i++;
			}
			if (i >= n || s[i] != '>')
				FAIL("bad start tag");
			i++;
			if (!(nl == 2 && memcmp(name, "br", 2) == 0)) {
				if (sp == ARRAY_SIZE(stack))
					FAIL("too deep");
				stackl[sp] = nl;
				stack[sp++] = name;
			}
		} else if (c == '>' || c == '"' || c == '\'') {
			FAIL("unescaped > \" or ' in text");
		} else if (c == '&') {
			if (!(k = entity(s, n, i)))
				FAIL("bare & in text");
			i += k;
		} else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ||
		           (c == 0xc2 && i + 1 < n &&
		            (unsigned char)s[i + 1] < 0xa0)) {
			FAIL("control character");
		} else {
			i++;
		}
	}
	if (sp)
		FAIL("unclosed tag");
#undef FAIL
	return 1;
}

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
render(const struct msg *m, const struct msghtml_opts *o)
{
	struct buf out;
	const char *why = "";
	int rc;

	buf_init(&out, 4 << 20);
	rc = msghtml_body(m, o, &out);
	check(rc == 0 || out.len == 0);
	if (rc == 0)
		check(msghtml_allowed(out.s, out.len, o->attach_base, &why));
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msghtml_opts obf = {1, NULL};
	static const struct msghtml_opts plain = {0, "../att/HASH/"};
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct msg *m = NULL;
	const char *why = "";

	if (msg_parse((const char *)data, size, &msg_default_limits, &m,
	              &err) == 0) {
		render(m, &obf);
		render(m, &plain);
		buf_reset(&out);
		msghtml_address(m->from.name, m->from.addr, &obf, &out);
		msghtml_address(m->from.name, m->from.addr, &plain, &out);
		check(msghtml_allowed(buf_str(&out), out.len, NULL, &why));
		msg_free(m);
	}
	buf_free(&err);

	buf_reset(&out);
	msghtml_escape((const char *)data, size, &out);
	check(msghtml_allowed(buf_str(&out), out.len, NULL, &why));
	buf_free(&out);
	return 0;
}
