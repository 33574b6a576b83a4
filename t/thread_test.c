/*
 * Unit tests for thread.c: hand-built cases as tables (chain, placeholder,
 * References vs In-Reply-To, subject grouping, duplicate ids, loops, deep
 * and wide sets) and golden files in t/data/thread/ (real list headers,
 * trees written by hand; see t/data/thread/README).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "thread.h"
#include "util.h"
#include "tap.h"

#define MAX_CASE 16

/* One message of a hand-built case: refs are space-separated. */
struct tmsg {
	const char *label, *id, *irt, *refs, *subject;
	long long date;
};

static const struct {
	const char *name;
	struct tmsg m[MAX_CASE];
	const char *want;
} cases[] = {
	{"simple chain",
	 {{"a", "a", "", "", "x", 1}, {"b", "b", "a", "a", "Re: x", 2},
	  {"c", "c", "b", "a b", "Re: x", 3}},
	 "a{b{c}}"},
	{"input order does not matter",
	 {{"c", "c", "b", "a b", "Re: x", 3}, {"b", "b", "a", "a", "Re: x", 2},
	  {"a", "a", "", "", "x", 1}},
	 "a{b{c}}"},
	{"missing parent becomes a placeholder",
	 {{"b", "b", "x", "x", "Re: x", 2}, {"c", "c", "", "x", "Re: x", 3}},
	 "?x{b c}"},
	{"missing grandparent chain from References",
	 {{"c", "c", "y", "x y", "Re: q", 5}},
	 "?x{?y{c}}"},
	{"References fill in a parent the message did not name",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "", "", "t", 2},
	  {"c", "c", "", "a b", "u", 3}},
	 "a{b{c}}"},
	{"References win over In-Reply-To",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "", "", "t", 2},
	  {"d", "d", "a", "a b", "u", 3}},
	 "a{b{d}}"},
	{"a message's own parent beats another's References",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "", "a", "t", 2},
	  {"c", "c", "", "z b", "u", 3}},
	 "a{b{c}}"},
	{"In-Reply-To only",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "a", "", "t", 2},
	  {"c", "c", "a", "", "u", 3}},
	 "a{b c}"},
	{"subject grouping with a reply prefix",
	 {{"a", "a", "", "", "Hello  world", 1},
	  {"b", "b", "", "", "Re: [list] hello world", 2},
	  {"c", "c", "", "", "SV: AW: Hello world", 3}},
	 "a{b c}"},
	{"no subject grouping without a reply prefix",
	 {{"a", "a", "", "", "Hello", 1}, {"b", "b", "", "", "hello", 2}},
	 "b a"},
	{"subject groups under the oldest root only",
	 {{"b", "b", "", "", "Re: hello", 2}, {"a", "a", "", "", "hello", 3}},
	 "a b"},
	{"an empty subject never groups",
	 {{"a", "a", "", "", "Re:", 1}, {"b", "b", "", "", "Re: ", 2}},
	 "b a"},
	{"duplicate Message-ID: the later is a distinct message",
	 {{"a", "a", "", "", "s", 1}, {"a2", "a", "", "", "t", 2},
	  {"b", "b", "a", "a", "u", 3}},
	 "a{b} a2"},
	{"duplicate Message-ID: nothing threads under the later",
	 {{"a", "a", "", "", "s", 5}, {"a2", "a", "", "", "t", 1},
	  {"b", "b", "", "a", "u", 6}},
	 "a{b} a2"},
	{"reference loop a->b->a",
	 {{"a", "a", "b", "b", "s", 1}, {"b", "b", "a", "a", "t", 2}},
	 "b{a}"},
	{"loop through References of a third",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "", "a", "t", 2},
	  {"c", "c", "", "b a", "u", 3}},
	 "a{b c}"},
	{"self-reference",
	 {{"a", "a", "a", "a", "s", 1}},
	 "a"},
	{"self-reference among others",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "b", "a b", "t", 2}},
	 "a{b}"},
	{"no Message-ID",
	 {{"a", "", "", "", "s", 1}, {"b", "", "", "", "t", 2}},
	 "b a"},
	{"children oldest first, roots newest first",
	 {{"a", "a", "", "", "s", 10}, {"c", "c", "a", "a", "t", 30},
	  {"b", "b", "a", "a", "u", 20}, {"d", "d", "", "", "v", 25}},
	 "a{b c} d"},
	{"childless placeholders are dropped",
	 {{"a", "a", "", "", "s", 1}, {"b", "b", "", "a", "t", 2},
	  {"c", "c", "", "q b", "u", 3}},
	 "a{b{c}}"},
};

struct render {
	struct buf b;
	size_t prev;
	int first;
};

static int
render_fn(const struct thread_node *n, size_t depth, void *arg)
{
	struct render *r = arg;

	if (!r->first) {
		if (depth > r->prev)
			buf_addc(&r->b, '{');
		else {
			for (; r->prev > depth; r->prev--)
				buf_addc(&r->b, '}');
			buf_addc(&r->b, ' ');
		}
	}
	r->first = 0;
	r->prev = depth;
	if (n->msg == NULL)
		buf_printf(&r->b, "?%s", n->placeholder_id);
	else
		buf_adds(&r->b, n->msg->user ? n->msg->user : "-");
	return 0;
}

static char *
render(const struct thread_set *s)
{
	struct render r;

	buf_init(&r.b, 0);
	r.prev = 0;
	r.first = 1;
	thread_walk(s, render_fn, &r);
	for (; r.prev > 0; r.prev--)
		buf_addc(&r.b, '}');
	buf_adds(&r.b, "");
	return buf_detach(&r.b, NULL);
}

/* Split refs on spaces: v[0] is the copy the tokens point into, the
 * tokens are v[1] ... v[*n]. */
static char **
split_refs(const char *s, size_t *n)
{
	size_t len = strlen(s), i, k = 1;
	char **v = xcalloc(len / 2 + 3, sizeof(*v));
	char *copy = xstrdup(s), *p = copy;

	v[0] = copy;
	for (i = 0; i <= len; i++) {
		if (copy[i] == ' ' || copy[i] == '\0') {
			copy[i] = '\0';
			if (*p)
				v[k++] = p;
			p = copy + i + 1;
		}
	}
	*n = k - 1;
	return v;
}

static void
free_refs(char **v)
{
	if (v != NULL)
		free(v[0]);
	free(v);
}

static void
run_case(size_t ci)
{
	struct thread_msg m[MAX_CASE];
	char **refs[MAX_CASE];
	size_t n, i;
	struct thread_set *s;
	char *got;

	for (n = 0; n < MAX_CASE && cases[ci].m[n].label; n++) {
		const struct tmsg *t = &cases[ci].m[n];

		refs[n] = split_refs(t->refs, &m[n].n_refs);
		m[n].id = t->id;
		m[n].in_reply_to = t->irt;
		m[n].refs = (const char *const *)refs[n] + 1;
		m[n].subject = t->subject;
		m[n].date = t->date;
		m[n].user = (void *)t->label;
	}
	s = thread_build(m, n);
	got = render(s);
	is_str(got, cases[ci].want, "%s", cases[ci].name);
	free(got);
	thread_free(s);
	for (i = 0; i < n; i++)
		free_refs(refs[i]);
}

static const struct {
	const char *in, *want;
} keys[] = {
	{"Hello", "hello"},
	{"Re: Hello", "hello"},
	{"RE: re: Re[2]: Hello", "hello"},
	{"Re(3): Hello", "hello"},
	{"Sv: Aw: Vs: Fwd: Fw: Hello", "hello"},
	{"[openbmc] Re: [PATCH v2 1/3]  foo:\tbar ", "foo: bar"},
	{"  Re :  spaced  ", "spaced"},
	{"Regarding: x", "regarding: x"},
	{"Re:", ""},
	{"", ""},
	{"[unterminated tag", "[unterminated tag"},
	{"Räksmörgås ÅÄÖ", "räksmörgås ÅÄÖ"},
};

struct count {
	size_t n, maxdepth, stop_at;
};

static int
count_fn(const struct thread_node *n, size_t depth, void *arg)
{
	struct count *c = arg;

	c->n++;
	if (depth > c->maxdepth)
		c->maxdepth = depth;
	return c->stop_at && c->n == c->stop_at ? 42 : 0;
}

#define BIG 10000

static void
big_tests(void)
{
	struct thread_msg *m = xcalloc(BIG, sizeof(*m));
	char (*ids)[16] = xcalloc(BIG, sizeof(*ids));
	const char **refs = xcalloc(BIG, sizeof(*refs));
	struct thread_set *s;
	struct count c = {0, 0, 0};
	const struct thread_node *r;
	size_t i, bad;

	for (i = 0; i < BIG; i++)
		snprintf(ids[i], sizeof(ids[i]), "m%zu", i);
	for (i = 0; i < BIG; i++)
		refs[i] = ids[i];
	/* One long chain, each message naming only its parent. */
	for (i = 0; i < BIG; i++) {
		m[i].id = ids[i];
		m[i].in_reply_to = i ? ids[i - 1] : "";
		m[i].subject = "Re: long";
		m[i].date = (long long)i;
	}
	s = thread_build(m, BIG);
	thread_walk(s, count_fn, &c);
	is_int(thread_n_roots(s), 1, "chain of %d: one root", BIG);
	is_int(c.n, BIG, "chain: every message walked");
	is_int(c.maxdepth, BIG - 1, "chain: depth %d", BIG - 1);
	c.n = 0;
	c.stop_at = 7;
	is_int(thread_walk(s, count_fn, &c), 42, "walk stops on non-zero");
	is_int(c.n, 7, "walk stopped after 7 nodes");
	thread_free(s);

	/* The same chain with full References (capped at THREAD_MAX_REFS),
	 * in reverse input order. */
	for (i = 0; i < BIG; i++) {
		size_t j = BIG - 1 - i;
		m[i].id = ids[j];
		m[i].in_reply_to = "";
		m[i].refs = refs + (j > THREAD_MAX_REFS ? j - THREAD_MAX_REFS : 0);
		m[i].n_refs = j > THREAD_MAX_REFS ? THREAD_MAX_REFS : j;
		m[i].date = (long long)j;
	}
	s = thread_build(m, BIG);
	c.n = c.maxdepth = c.stop_at = 0;
	thread_walk(s, count_fn, &c);
	is_int(thread_n_roots(s), 1, "chain with References: one root");
	is_int(c.maxdepth, BIG - 1, "chain with References: depth");
	thread_free(s);

	/* Ten thousand unrelated roots. */
	for (i = 0; i < BIG; i++) {
		m[i].id = ids[i];
		m[i].refs = NULL;
		m[i].n_refs = 0;
		m[i].subject = ids[i];
		m[i].date = (long long)((i * 7919) % BIG);
	}
	s = thread_build(m, BIG);
	is_int(thread_n_roots(s), BIG, "%d roots", BIG);
	for (i = 0, bad = 0; i < BIG; i++) {
		r = thread_root(s, i);
		if (r == NULL || r->msg == NULL || r->child != NULL ||
		    r->msg->date != (long long)(BIG - 1 - i))
			bad++;
	}
	is_int(bad, 0, "roots newest first");
	ok(thread_root(s, BIG) == NULL, "thread_root past the end is NULL");
	thread_free(s);

	/* Ten thousand replies to one missing message, same subject. */
	for (i = 0; i < BIG; i++) {
		m[i].in_reply_to = "gone";
		m[i].subject = "Re: same";
	}
	s = thread_build(m, BIG);
	r = thread_root(s, 0);
	c.n = c.maxdepth = 0;
	thread_walk(s, count_fn, &c);
	ok(thread_n_roots(s) == 1 && r->msg == NULL &&
	       strcmp(r->placeholder_id, "gone") == 0 && c.n == BIG + 1 &&
	       c.maxdepth == 1,
	   "one placeholder with %d children", BIG);
	thread_free(s);

	free(m);
	free(ids);
	free(refs);
}

/* Golden files: parse name.headers, thread, print, compare. */
struct golden {
	struct thread_msg *m;
	char ***refs;
	char **strs;
	size_t n, nstrs;
};

static char *
keep(struct golden *g, const char *s)
{
	g->strs = xrealloc(g->strs, (g->nstrs + 1) * sizeof(*g->strs));
	return g->strs[g->nstrs++] = xstrdup(s);
}

static int
golden_fn(const struct thread_node *n, size_t depth, void *arg)
{
	struct buf *b = arg;
	size_t i;

	for (i = 0; i < depth; i++)
		buf_adds(b, "  ");
	if (n->msg == NULL)
		buf_printf(b, "[missing] %s\n", n->placeholder_id);
	else
		buf_printf(b, "%s\n", n->msg->id);
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char line[4096];

	if (f == NULL)
		return NULL;
	buf_init(&b, 0);
	while (fgets(line, sizeof(line), f))
		buf_adds(&b, line);
	fclose(f);
	buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

static void
golden(const char *dir, const char *name)
{
	char path[1024], line[4096], *want, *nl;
	struct golden g = {0};
	struct thread_msg *cur = NULL;
	struct thread_set *s;
	struct buf out;
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s.headers", dir, name);
	if ((f = fopen(path, "r")) == NULL) {
		ok(0, "open %s", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == '\0') {
			cur = NULL;
			continue;
		}
		if (cur == NULL) {
			g.m = xrealloc(g.m, (g.n + 1) * sizeof(*g.m));
			g.refs = xrealloc(g.refs, (g.n + 1) * sizeof(*g.refs));
			cur = &g.m[g.n];
			memset(cur, 0, sizeof(*cur));
			cur->id = cur->in_reply_to = cur->subject = "";
			g.refs[g.n++] = NULL;
		}
		if (strncmp(line, "Message-ID: ", 12) == 0)
			cur->id = keep(&g, line + 12);
		else if (strncmp(line, "In-Reply-To: ", 13) == 0)
			cur->in_reply_to = keep(&g, line + 13);
		else if (strncmp(line, "Subject: ", 9) == 0)
			cur->subject = keep(&g, line + 9);
		else if (strncmp(line, "Date: ", 6) == 0)
			cur->date = strtoll(line + 6, NULL, 10);
		else if (strncmp(line, "References: ", 12) == 0) {
			char *r = keep(&g, line + 12);

			g.refs[g.n - 1] = split_refs(r, &cur->n_refs);
			cur->refs = (const char *const *)g.refs[g.n - 1] + 1;
		}
	}
	fclose(f);
	s = thread_build(g.m, g.n);
	buf_init(&out, 0);
	thread_walk(s, golden_fn, &out);
	buf_adds(&out, "");
	snprintf(path, sizeof(path), "%s/%s.expected", dir, name);
	want = slurp(path);
	is_str(buf_str(&out), want, "golden %s (%zu messages)", name, g.n);
	free(want);
	buf_free(&out);
	thread_free(s);
	for (i = 0; i < g.n; i++)
		free_refs(g.refs[i]);
	free(g.refs);
	free(g.m);
	for (i = 0; i < g.nstrs; i++)
		free(g.strs[i]);
	free(g.strs);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[1024], key[64], small[4];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(i);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		thread_subject_key(keys[i].in, key, sizeof(key));
		is_str(key, keys[i].want, "subject key \"%s\"", keys[i].in);
	}
	thread_subject_key("Re: abcdef", small, sizeof(small));
	is_str(small, "abc", "subject key truncated to fit");

	big_tests();

	snprintf(dir, sizeof(dir), "%s/t/data/thread", top ? top : ".");
	golden(dir, "openbmc-missing");
	golden(dir, "openbmc-discuss");
	return done_testing();
}
