/*
 * tmpl_test.c - unit tests of the template engine (templates/tmpl.c):
 * rendering (values, sections, inverted sections, lists, HTML escaping
 * versus plain text, raw values, standalone lines), syntax errors with
 * their line numbers, missing variables at render and at load time, mail
 * subjects (and header injection), the output cap, UTF-8 validation, the
 * variable store, and the catalogue's language fallback and consistency
 * checks on a temporary templates directory.  The shipped templates are
 * tested by t/tmpl_langs.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "tap.h"
#include "tmpl.h"
#include "util.h"

/*
 * Variables for a table row, separated by ';':
 *   name=value    set a string
 *   name[]        an empty list
 *   name[]+       append an item to list name; the following ".x=v" lines
 *   .x=v          set x in the item appended last
 */
static struct tmpl_vars *
make_vars(const char *spec)
{
	struct tmpl_vars *v = tmpl_vars_new(), *item = NULL;
	char *copy = xstrdup(spec ? spec : ""), *line = copy, *nl;

	for (; line && *line; line = nl) {
		char *eq;
		size_t n;

		nl = strchr(line, ';');
		if (nl)
			*nl++ = '\0';
		n = strlen(line);
		if (n > 3 && strcmp(line + n - 3, "[]+") == 0) {
			line[n - 3] = '\0';
			item = tmpl_vars_add_item(v, line);
		} else if (n > 2 && strcmp(line + n - 2, "[]") == 0) {
			line[n - 2] = '\0';
			tmpl_vars_set_list(v, line);
		} else if ((eq = strchr(line, '='))) {
			*eq = '\0';
			if (line[0] == '.' && item)
				tmpl_vars_set(item, line + 1, eq + 1);
			else
				tmpl_vars_set(v, line, eq + 1);
		}
	}
	free(copy);
	return v;
}

static const struct {
	const char *name, *text, *vars;
	const char *want; /* NULL: an error containing err */
	const char *err;
} render_cases[] = {
    {"t.txt", "Hello {{name}}!", "name=World", "Hello World!", NULL},
    {"t.txt", "Hello {{ name }}!", "name=World", "Hello World!", NULL},
    {"t.txt", "{{a}}{{b}}", "a=1;b=2", "12", NULL},
    {"t.txt", "no tags at all\n", "", "no tags at all\n", NULL},
    {"t.txt", "", "", "", NULL},
    {"t.txt", "single { and } stay", "", "single { and } stay", NULL},
    {"t.txt", "<{{v}}>", "v=a&b<\"'>", "<a&b<\"'>>", NULL},
    {"t.html", "<{{v}}>", "v=a&b<\"'>", "<a&amp;b&lt;&quot;&#39;&gt;>", NULL},
    {"t.html", "<a title=\"{{v}}\">", "v=\" onclick=\"x",
     "<a title=\"&quot; onclick=&quot;x\">", NULL},
    {"t.html", "{{{v}}}|{{&v}}|{{& v }}", "v=<b>", "<b>|<b>|<b>", NULL},
    {"t.txt", "{{{v}}}", "v=<b>", "<b>", NULL},
    {"t.txt", "{{v}}", "v={{v}}", "{{v}}", NULL}, /* never re-expanded */
    {"t.txt", "{{#a}}yes{{/a}}", "a=1", "yes", NULL},
    {"t.txt", "{{#a}}yes{{/a}}", "a=", "", NULL},
    {"t.txt", "{{#a}}yes{{/a}}", "a=0", "yes", NULL}, /* strings: "" only */
    {"t.txt", "{{^a}}no{{/a}}", "a=", "no", NULL},
    {"t.txt", "{{^a}}no{{/a}}", "a=1", "", NULL},
    {"t.txt", "{{#items}}[{{t}}]{{/items}}", "items[]+;.t=x;items[]+;.t=y",
     "[x][y]", NULL},
    {"t.txt", "{{#items}}[{{t}}]{{/items}}", "items[]", "", NULL},
    {"t.txt", "{{^items}}none{{/items}}", "items[]", "none", NULL},
    {"t.txt", "{{^items}}none{{/items}}", "items[]+;.t=x", "", NULL},
    {"t.txt", "{{#items}}{{t}}@{{list}} {{/items}}",
     "list=dk;items[]+;.t=a;items[]+;.t=b", "a@dk b@dk ", NULL},
    {"t.txt", "{{#items}}{{list}},{{/items}}{{list}}",
     "list=outer;items[]+;.list=inner", "inner,outer", NULL},
    {"t.txt", "{{#a}}{{#b}}ab{{/b}}{{^b}}a{{/b}}{{/a}}", "a=1;b=", "a", NULL},
    /* Standalone section lines vanish, so optional parts leave no gap. */
    {"t.txt", "a\n{{#x}}\nb\n{{/x}}\nc\n", "x=1", "a\nb\nc\n", NULL},
    {"t.txt", "a\n{{#x}}\nb\n{{/x}}\nc\n", "x=", "a\nc\n", NULL},
    {"t.txt", "a\n  {{#x}}  \nb\n\t{{/x}}\nc", "x=1", "a\nb\nc", NULL},
    {"t.txt", "a\r\n{{#x}}\r\nb\r\n{{/x}}\r\nc", "x=1", "a\r\nb\r\nc", NULL},
    {"t.txt", "a {{#x}}b{{/x}} c\n", "x=1", "a b c\n", NULL},
    {"t.txt", "{{#x}}b{{/x}}\nc", "x=1", "b\nc", NULL},
    {"t.txt", "{{v}} {{#x}}\nb{{/x}}", "v=1;x=1", "1 \nb", NULL},
    {"t.txt", "a{{! hi\nthere }}b", "", "ab", NULL},
    {"t.txt", "{{! top comment\n  two lines }}\nbody\n", "", "body\n", NULL},
    {"t.txt", "x\n{{#x}}\n{{/x}}", "x=1", "x\n", NULL},
    /* Errors at render time. */
    {"t.txt", "Hi {{nope}}", "", NULL, "t.txt:1: variable 'nope' is not set"},
    {"t.txt", "a\nb\n{{#nope}}x{{/nope}}", "", NULL,
     "t.txt:3: variable 'nope' is not set"},
    {"t.txt", "{{^nope}}x{{/nope}}", "", NULL, "variable 'nope' is not set"},
    {"t.txt", "{{#items}}{{nope}}{{/items}}", "items[]+;.t=x", NULL,
     "variable 'nope' is not set"},
    {"t.txt", "{{items}}", "items[]", NULL,
     "t.txt:1: 'items' is a list, used as a value"},
    /* Not evaluated, so not an error at render time (tmpl_check_vars
     * finds it at load time). */
    {"t.txt", "{{#a}}{{nope}}{{/a}}", "a=", "", NULL},
};

static void
test_render(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(render_cases); i++) {
		struct buf err = BUF_INIT, out = BUF_INIT;
		struct tmpl_vars *v = make_vars(render_cases[i].vars);
		struct tmpl *t = tmpl_parse(render_cases[i].name,
		                            render_cases[i].text, &err);
		int rc;

		if (!ok(t != NULL, "render %zu parses", i)) {
			diag("%s", buf_str(&err));
			tmpl_vars_free(v);
			buf_free(&err);
			continue;
		}
		rc = tmpl_render(t, v, &out, &err);
		if (render_cases[i].want) {
			is_int(rc, 0, "render %zu succeeds", i);
			is_str(buf_str(&out), render_cases[i].want,
			       "render %zu output", i);
			if (rc)
				diag("%s", buf_str(&err));
		} else {
			is_int(rc, -1, "render %zu fails", i);
			ok(strstr(buf_str(&err), render_cases[i].err) != NULL,
			   "render %zu error says '%s'", i,
			   render_cases[i].err);
			if (!strstr(buf_str(&err), render_cases[i].err))
				diag("got: %s", buf_str(&err));
			is_str(buf_str(&out), "", "render %zu: no output", i);
		}
		tmpl_free(t);
		tmpl_vars_free(v);
		buf_free(&out);
		buf_free(&err);
	}
}

static const struct {
	const char *text, *err;
} syntax_cases[] = {
    {"a\n{{#s}}\nb", "t.txt:2: section {{#s}} is never closed"},
    {"{{^s}}", "t.txt:1: section {{^s}} is never closed"},
    {"{{#a}}\n{{#b}}\n{{/b}}", "t.txt:1: section {{#a}} is never closed"},
    {"{{#a}}\n{{/b}}", "t.txt:2: {{/b}} does not match {{#a}} opened on "
                       "line 1"},
    {"x\n\n{{/a}}", "t.txt:3: {{/a}} closes no open section"},
    {"line1\n{{name", "t.txt:2: unterminated tag"},
    {"{{name\n}}", "t.txt:1: unterminated tag"},
    {"{{{raw}}", "t.txt:1: unterminated tag"},
    {"{{", "t.txt:1: unterminated tag"},
    {"{{a b}}", "t.txt:1: bad character 'b' in tag name"},
    {"{{a.b}}", "t.txt:1: bad character '.' in tag name"},
    {"{{}}", "t.txt:1: empty tag name"},
    {"{{#}}{{/}}", "t.txt:1: empty tag name"},
    {"\n{{>partial}}", "t.txt:2: partials"},
    {"{{=<% %>=}}", "t.txt:1: delimiter changes"},
    {"a\n{{! open", "t.txt:2: unterminated comment"},
    {"Subject: {{#a}}x\n\n{{/a}}", "t.txt:1: section {{#a}} is never "
                                   "closed"},
    {"Subject: x\n\nbody\n{{oops", "t.txt:4: unterminated tag"},
    {"{{! c }}\nSubject: x\n\n{{/a}}", "t.txt:4: {{/a}} closes no open"},
};

static void
test_syntax(void)
{
	struct buf text = BUF_INIT;
	size_t i;
	int k;

	for (i = 0; i < ARRAY_SIZE(syntax_cases); i++) {
		struct buf err = BUF_INIT;
		struct tmpl *t =
		    tmpl_parse("t.txt", syntax_cases[i].text, &err);

		ok(t == NULL, "syntax %zu refused", i);
		ok(strstr(buf_str(&err), syntax_cases[i].err) != NULL,
		   "syntax %zu error says '%s'", i, syntax_cases[i].err);
		if (!strstr(buf_str(&err), syntax_cases[i].err))
			diag("got: %s", buf_str(&err));
		tmpl_free(t);
		buf_free(&err);
	}

	/* Exactly TMPL_MAX_DEPTH nested sections parse; one more does not. */
	for (k = 0; k <= TMPL_MAX_DEPTH; k++) {
		struct buf err = BUF_INIT;
		struct tmpl *t;
		int j;

		buf_reset(&text);
		for (j = 0; j < k; j++)
			buf_printf(&text, "{{#s%d}}", j);
		buf_adds(&text, "x");
		for (j = k - 1; j >= 0; j--)
			buf_printf(&text, "{{/s%d}}", j);
		t = tmpl_parse("t.txt", buf_str(&text), &err);
		if (k < TMPL_MAX_DEPTH) {
			tmpl_free(t);
			buf_free(&err);
			continue;
		}
		ok(t != NULL, "%d nested sections parse", k);
		if (t) {
			/* ...and render with every level set. */
			struct tmpl_vars *v = tmpl_vars_new();
			struct buf out = BUF_INIT;

			for (j = 0; j < k; j++) {
				char name[16];

				snprintf(name, sizeof(name), "s%d", j);
				tmpl_vars_set(v, name, "1");
			}
			is_int(tmpl_render(t, v, &out, &err), 0,
			       "%d nested sections render", k);
			is_str(buf_str(&out), "x", "innermost text");
			tmpl_vars_free(v);
			buf_free(&out);
		}
		tmpl_free(t);
		buf_free(&err);
	}
	{
		struct buf err = BUF_INIT;
		struct tmpl *t;

		buf_reset(&text);
		for (k = 0; k <= TMPL_MAX_DEPTH; k++)
			buf_printf(&text, "{{#s%d}}\n", k);
		t = tmpl_parse("t.txt", buf_str(&text), &err);
		ok(t == NULL, "%d nested sections refused", k);
		ok(strstr(buf_str(&err), "t.txt:33: sections nested deeper "
		                         "than 32") != NULL,
		   "nesting error names line 33");
		tmpl_free(t);
		buf_free(&err);
	}
	{
		/* Nested lists: each level's items come into scope. */
		struct buf err = BUF_INIT, out = BUF_INIT;
		struct tmpl *t = tmpl_parse(
		    "t.txt",
		    "{{#lists}}{{name}}:{{#members}} {{addr}}/{{name}}"
		    "{{/members}};{{/lists}}",
		    &err);
		struct tmpl_vars *v = tmpl_vars_new(), *l, *m;

		l = tmpl_vars_add_item(v, "lists");
		tmpl_vars_set(l, "name", "dk");
		m = tmpl_vars_add_item(l, "members");
		tmpl_vars_set(m, "addr", "a@x");
		m = tmpl_vars_add_item(l, "members");
		tmpl_vars_set(m, "addr", "b@x");
		l = tmpl_vars_add_item(v, "lists");
		tmpl_vars_set(l, "name", "se");
		tmpl_vars_set_list(l, "members");
		ok(t && tmpl_render(t, v, &out, &err) == 0,
		   "nested lists render");
		is_str(buf_str(&out), "dk: a@x/dk b@x/dk;se:;",
		       "nested lists output");
		tmpl_free(t);
		tmpl_vars_free(v);
		buf_free(&out);
		buf_free(&err);
	}
	{
		/* A template past the size limit is refused. */
		struct buf err = BUF_INIT, big = BUF_INIT;
		struct tmpl *t;

		buf_init(&big, 0);
		while (big.len <= TMPL_MAX_SIZE)
			buf_adds(&big, "0123456789abcdef");
		t = tmpl_parse("big.txt", buf_str(&big), &err);
		ok(t == NULL && strstr(buf_str(&err), "longer than"),
		   "template over %zu bytes refused", TMPL_MAX_SIZE);
		tmpl_free(t);
		buf_free(&big);
		buf_free(&err);
	}
	buf_free(&text);
}

static const char *const check_known[] = {"a", "items", "items.t", "lists",
                                          NULL};

static const struct {
	const char *text;
	int rc;
	const char *err;
} check_cases[] = {
    {"{{a}}{{#items}}{{t}}{{/items}}", 0, NULL},
    {"{{#items}}{{a}}{{/items}}", 0, NULL}, /* outer scope */
    {"{{^items}}{{a}}{{/items}}", 0, NULL},
    {"{{t}}", -1, "t.txt:1: 't' is not among the variables"},
    {"{{a}}\n{{#a}}{{nope}}{{/a}}", -1, "t.txt:2: 'nope' is not among"},
    {"{{#lists}}{{t}}{{/lists}}", -1, "'t' is not among"},
    {"Subject: {{b}}\n\n{{a}}", -1, "t.txt:1: 'b' is not among"},
    {"{{#items}}{{#lists}}{{t}}{{/lists}}{{/items}}", 0, NULL},
};

static void
test_check_vars(void)
{
	size_t i, n;
	const char *const *names;
	struct buf err = BUF_INIT;
	struct tmpl *t;

	for (i = 0; i < ARRAY_SIZE(check_cases); i++) {
		buf_reset(&err);
		t = tmpl_parse("t.txt", check_cases[i].text, &err);
		if (!ok(t != NULL, "check %zu parses", i))
			continue;
		is_int(tmpl_check_vars(t, check_known, &err), check_cases[i].rc,
		       "check %zu result", i);
		if (check_cases[i].err)
			ok(strstr(buf_str(&err), check_cases[i].err) != NULL,
			   "check %zu error says '%s'", i, check_cases[i].err);
		else
			is_str(buf_str(&err), "", "check %zu: no error", i);
		tmpl_free(t);
	}

	buf_reset(&err);
	t = tmpl_parse("t.txt",
	               "Subject: {{s}}\n\n{{b}}{{#a}}{{b}}{{c}}{{/a}}{{! x }}"
	               "{{{r}}}",
	               &err);
	names = t ? tmpl_names(t, &n) : NULL;
	ok(names && n == 5 && strcmp(names[0], "a") == 0 &&
	       strcmp(names[1], "b") == 0 && strcmp(names[2], "c") == 0 &&
	       strcmp(names[3], "r") == 0 && strcmp(names[4], "s") == 0,
	   "tmpl_names: sorted, distinct, subject included");
	tmpl_free(t);
	buf_free(&err);
}

static const struct {
	const char *text, *vars, *subject, *body;
	int has_subject;
} mail_cases[] = {
    {"Subject: Hi {{n}}\n\nBody {{n}}\n", "n=X", "Hi X", "Body X\n", 1},
    {"{{! about }}\nSubject: Hi {{n}}\n\nBody\n", "n=X", "Hi X", "Body\n", 1},
    {"{{! a\n  b }}\n{{! c }}\nsubject:   Hi  \r\n\r\nBody\r\n", "", "Hi",
     "Body\r\n", 1},
    /* Header injection: control characters in values become spaces. */
    {"Subject: Re: {{n}}\n\n{{n}}", "n=a\r\nBcc: x@y", "Re: a  Bcc: x@y",
     "a\r\nBcc: x@y", 1},
    {"Subject: {{#a}}[A] {{/a}}x\n\nb", "a=1", "[A] x", "b", 1},
    {"Subject: x\nbody right away", "", "x", "body right away", 1},
    {"No subject\n", "", "", "No subject\n", 0},
    {"Body\nSubject: not a header\n", "", "",
     "Body\nSubject: not a "
     "header\n",
     0},
};

static void
test_mail(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mail_cases); i++) {
		struct buf err = BUF_INIT, subj = BUF_INIT, body = BUF_INIT;
		struct tmpl_vars *v = make_vars(mail_cases[i].vars);
		struct tmpl *t = tmpl_parse("m.txt", mail_cases[i].text, &err);

		if (!ok(t != NULL, "mail %zu parses", i)) {
			diag("%s", buf_str(&err));
			tmpl_vars_free(v);
			buf_free(&err);
			continue;
		}
		is_int(tmpl_has_subject(t), mail_cases[i].has_subject,
		       "mail %zu has_subject", i);
		is_int(tmpl_render_mail(t, v, &subj, &body, &err), 0,
		       "mail %zu renders", i);
		is_str(buf_str(&subj), mail_cases[i].subject,
		       "mail %zu subject", i);
		is_str(buf_str(&body), mail_cases[i].body, "mail %zu body", i);
		buf_reset(&body);
		tmpl_render(t, v, &body, &err);
		is_str(buf_str(&body), mail_cases[i].body,
		       "mail %zu tmpl_render gives the body", i);
		tmpl_free(t);
		tmpl_vars_free(v);
		buf_free(&subj);
		buf_free(&body);
		buf_free(&err);
	}
	{
		/* A failing body leaves the subject buffer as it was. */
		struct buf err = BUF_INIT, subj = BUF_INIT, body = BUF_INIT;
		struct tmpl *t =
		    tmpl_parse("m.txt", "Subject: s\n\n{{x}}", &err);
		struct tmpl_vars *v = tmpl_vars_new();

		buf_adds(&subj, "old");
		is_int(tmpl_render_mail(t, v, &subj, &body, &err), -1,
		       "mail with unset body variable fails");
		is_str(buf_str(&subj), "old", "subject buffer restored");
		ok(strstr(buf_str(&err), "m.txt:3: variable 'x'") != NULL,
		   "error names body line 3");
		tmpl_free(t);
		tmpl_vars_free(v);
		buf_free(&subj);
		buf_free(&body);
		buf_free(&err);
	}
}

static void
test_cap(void)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct tmpl *t = tmpl_parse("t.txt", "{{v}}", &err);
	struct tmpl *l = tmpl_parse("t.html", "{{#i}}<{{v}}>{{/i}}", &err);
	struct tmpl_vars *v = tmpl_vars_new();
	int k;

	buf_init(&out, 10);
	tmpl_vars_set(v, "v", "0123456789");
	is_int(tmpl_render(t, v, &out, &err), 0, "10 bytes fit a cap of 10");
	buf_reset(&out);
	buf_adds(&out, "ab");
	is_int(tmpl_render(t, v, &out, &err), -1, "12 bytes do not");
	is_str(buf_str(&out), "ab", "output back at its old length");
	ok(strstr(buf_str(&err), "t.txt: output longer than 10 bytes") != NULL,
	   "cap error names the cap");

	/* Escaping counts against the cap too: 1000 items x "<&amp;>". */
	buf_free(&out);
	buf_init(&out, 6000);
	buf_reset(&err);
	tmpl_vars_set(v, "v", "&");
	for (k = 0; k < 1000; k++)
		tmpl_vars_add_item(v, "i");
	is_int(tmpl_render(l, v, &out, &err), -1, "long list hits the cap");
	is_int(out.len, 0, "and leaves no partial output");
	buf_free(&out);
	buf_init(&out, 7000);
	is_int(tmpl_render(l, v, &out, &err), 0, "7000 bytes fit");
	is_int(out.len, 7000, "1000 x 7 bytes");
	tmpl_free(t);
	tmpl_free(l);
	tmpl_vars_free(v);

	/* 20 nested sections over a 3-item list: 3^20 visits, no output. */
	{
		struct buf text = BUF_INIT;

		for (k = 0; k < 20; k++)
			buf_adds(&text, "{{#i}}");
		for (k = 0; k < 20; k++)
			buf_adds(&text, "{{/i}}");
		t = tmpl_parse("deep.txt", buf_str(&text), &err);
		v = tmpl_vars_new();
		for (k = 0; k < 3; k++)
			tmpl_vars_add_item(v, "i");
		buf_reset(&err);
		is_int(t ? tmpl_render(t, v, &out, &err) : 0, -1,
		       "exponential nesting is cut off");
		ok(strstr(buf_str(&err), "deep.txt:") &&
		       strstr(buf_str(&err), "steps"),
		   "with a message about steps");
		tmpl_free(t);
		tmpl_vars_free(v);
		buf_free(&text);
	}
	buf_free(&out);
	buf_free(&err);
}

static const struct {
	const char *s;
	size_t n;
	int valid;
} utf8_cases[] = {
    {"", 0, 1},
    {"abc", 3, 1},
    {"\xc3\xa6\xc3\xb8\xc3\xa5", 6, 1}, /* æøå */
    {"\xe2\x82\xac", 3, 1},             /* € */
    {"\xd8\xb9\xd8\xb1\xd8\xa8", 6, 1}, /* عرب */
    {"\xf0\x9d\x84\x9e", 4, 1},         /* U+1D11E */
    {"\xf4\x8f\xbf\xbf", 4, 1},         /* U+10FFFF */
    {"\xc0\xaf", 2, 0},                 /* overlong '/' */
    {"\xe0\x80\xaf", 3, 0},             /* overlong */
    {"\xed\xa0\x80", 3, 0},             /* surrogate */
    {"\xf4\x90\x80\x80", 4, 0},         /* > U+10FFFF */
    {"\xe2\x82", 2, 0},                 /* truncated */
    {"\x80", 1, 0},                     /* lone continuation */
    {"\xff", 1, 0},
    {"\xc3\x28", 2, 0},     /* bad continuation */
    {"a\0b", 3, 0},         /* NUL */
    {"\xe6\x00\x00", 1, 0}, /* sequence past the end */
};

static void
test_utf8(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(utf8_cases); i++)
		is_int(tmpl_utf8_valid(utf8_cases[i].s, utf8_cases[i].n),
		       utf8_cases[i].valid, "utf8 %zu", i);
}

static void
test_vars(void)
{
	struct tmpl_vars *v = tmpl_vars_new(), *it;

	ok(tmpl_vars_get(v, "a") == NULL, "unset is NULL");
	tmpl_vars_set(v, "a", "1");
	tmpl_vars_set(v, "a", "2");
	is_str(tmpl_vars_get(v, "a"), "2", "set replaces");
	tmpl_vars_set(v, "n", NULL);
	is_str(tmpl_vars_get(v, "n"), "", "NULL is stored as \"\"");
	tmpl_vars_setf(v, "f", "%d-%s", 42, "x");
	is_str(tmpl_vars_get(v, "f"), "42-x", "setf");
	tmpl_vars_set_bool(v, "t", 1);
	tmpl_vars_set_bool(v, "u", 0);
	is_str(tmpl_vars_get(v, "t"), "1", "bool on");
	is_str(tmpl_vars_get(v, "u"), "", "bool off");
	it = tmpl_vars_add_item(v, "a");
	tmpl_vars_set(it, "x", "y");
	ok(tmpl_vars_get(v, "a") == NULL, "a list has no string value");
	is_str(tmpl_vars_get(it, "x"), "y", "item holds its fields");
	tmpl_vars_set(v, "a", "back");
	is_str(tmpl_vars_get(v, "a"), "back", "list replaced by a string");
	tmpl_vars_free(v);
}

/* --- the catalogue on a scratch directory ----------------------------- */

static void
put(const char *root, const char *rel, const char *text)
{
	struct buf path = BUF_INIT, dir = BUF_INIT;
	FILE *f;

	buf_printf(&path, "%s/%s", root, rel);
	buf_adds(&dir, buf_str(&path));
	buf_truncate(&dir, (size_t)(strrchr(buf_str(&dir), '/') - dir.s));
	mkdir_p(buf_str(&dir), 0700);
	f = fopen(buf_str(&path), "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	buf_free(&path);
	buf_free(&dir);
}

static void
rm_rf(const char *root)
{
	struct buf cmd = BUF_INIT;

	buf_printf(&cmd, "rm -rf '%s'", root);
	if (system(buf_str(&cmd)) != 0)
		diag("could not remove %s", root);
	buf_free(&cmd);
}

static void
test_catalogue(const char *root)
{
	static const struct {
		const char *name, *langs[3], *want; /* NULL: not found */
	} get_cases[] = {
	    {"a.txt", {"da", NULL}, "da/a.txt"},
	    {"a.txt", {"fi", "da", NULL}, "da/a.txt"}, /* list language */
	    {"a.txt", {"DA", NULL}, "da/a.txt"},
	    {"a.txt", {"da-DK", NULL}, "da/a.txt"},
	    {"a.txt", {"pt-br", NULL}, "pt-br/a.txt"},
	    {"a.txt", {"pt", NULL}, "en/a.txt"},
	    {"a.txt", {"", "da", NULL}, "da/a.txt"},
	    {"a.txt", {NULL}, "en/a.txt"},
	    {"b.txt", {"da", NULL}, "en/b.txt"}, /* da lacks it */
	    {"a.txt", {"xx", "yy", NULL}, "en/a.txt"},
	    {"nope.txt", {"da", NULL}, NULL},
	};
	struct buf err = BUF_INIT, dir = BUF_INIT;
	struct tmpl_set *s;
	const struct tmpl *t;
	size_t i;

	buf_printf(&dir, "%s/ok", root);
	put(buf_str(&dir), "en/a.txt", "{{x}}");
	put(buf_str(&dir), "en/b.txt", "b");
	put(buf_str(&dir), "en/p.html", "<p>{{x}}</p>");
	put(buf_str(&dir), "en/notes.md", "ignored: not .txt/.html");
	put(buf_str(&dir), "da/a.txt", "{{x}} på dansk");
	put(buf_str(&dir), "pt-br/a.txt", "{{x}}");
	put(buf_str(&dir), "archive/a.txt", "{{ not a language");
	put(buf_str(&dir), "EN/a.txt", "{{ not a language either");
	s = tmpl_set_load(buf_str(&dir), &err);
	ok(s != NULL, "scratch catalogue loads");
	if (!s) {
		diag("%s", buf_str(&err));
		goto out;
	}
	is_int(tmpl_set_count(s), 5,
	       "five templates (archive/, EN/, .md skipped)");
	for (i = 0; i < ARRAY_SIZE(get_cases); i++) {
		t = tmpl_get(s, get_cases[i].name, get_cases[i].langs);
		is_str(t ? tmpl_name(t) : NULL, get_cases[i].want, "get %zu",
		       i);
	}
	t = tmpl_get(s, "a.txt", (const char *const[]){"da-DK", NULL});
	is_str(t ? tmpl_lang(t) : NULL, "da", "tmpl_lang gives the directory");
	t = tmpl_get(s, "p.html", NULL);
	ok(t && tmpl_is_html(t), ".html escapes");
	t = tmpl_get(s, "a.txt", NULL);
	ok(t && !tmpl_is_html(t), ".txt does not");

	/* da lacks b.txt and p.html: the completeness check says so. */
	buf_reset(&err);
	is_int(tmpl_set_check(s, &err), -1, "incomplete language found");
	ok(strstr(buf_str(&err), "da/b.txt: missing") != NULL,
	   "names the missing da/b.txt");
	ok(strstr(buf_str(&err), "pt-br/p.html: missing") != NULL,
	   "names the missing pt-br/p.html");
	buf_reset(&err);
	is_int(tmpl_set_check_vars(s, "a.txt", (const char *const[]){"x", NULL},
	                           &err),
	       0, "a.txt uses only x in every language");
	is_int(tmpl_set_check_vars(s, "a.txt", (const char *const[]){"y", NULL},
	                           &err),
	       -1, "x is not documented: found");
	is_int(tmpl_set_check_vars(s, "zz.txt", NULL, &err), -1,
	       "unknown template name");
	tmpl_set_free(s);

	/* Same names, different variables. */
	put(buf_str(&dir), "da/b.txt", "{{extra}}");
	put(buf_str(&dir), "da/p.html", "<p>x</p>");
	put(buf_str(&dir), "pt-br/b.txt", "b");
	put(buf_str(&dir), "pt-br/p.html", "<p>{{x}}</p>");
	put(buf_str(&dir), "pt-br/c.txt", "extra file");
	buf_reset(&err);
	s = tmpl_set_load(buf_str(&dir), &err);
	ok(s != NULL, "second scratch catalogue loads");
	if (s) {
		is_int(tmpl_set_check(s, &err), -1, "variable drift found");
		ok(strstr(buf_str(&err), "da/b.txt: uses 'extra', which "
		                         "en/b.txt does not") != NULL,
		   "names the extra variable");
		ok(strstr(buf_str(&err), "da/p.html: does not use 'x'") != NULL,
		   "names the missing variable");
		ok(strstr(buf_str(&err), "pt-br/c.txt: en/c.txt does not "
		                         "exist") != NULL,
		   "names the file English lacks");
		tmpl_set_free(s);
	}

	/* Load errors: all reported, nothing returned. */
	buf_reset(&dir);
	buf_printf(&dir, "%s/bad", root);
	put(buf_str(&dir), "en/a.txt", "{{#open}}");
	put(buf_str(&dir), "da/a.txt", "caf\xc3");
	put(buf_str(&dir), "sv/footer.txt", "{{list_name}} {{not_documented}}");
	buf_reset(&err);
	s = tmpl_set_load(buf_str(&dir), &err);
	ok(s == NULL, "broken catalogue refused");
	ok(strstr(buf_str(&err), "en/a.txt:1: section {{#open}} is never "
	                         "closed") != NULL,
	   "syntax error reported with file and line");
	ok(strstr(buf_str(&err), "da/a.txt: not valid UTF-8") != NULL,
	   "bad UTF-8 reported");
	ok(strstr(buf_str(&err), "sv/footer.txt:1: 'not_documented' is not "
	                         "among") != NULL,
	   "undocumented footer variable reported at load time");
	tmpl_set_free(s);

	buf_reset(&dir);
	buf_printf(&dir, "%s/noen", root);
	put(buf_str(&dir), "da/a.txt", "x");
	buf_reset(&err);
	s = tmpl_set_load(buf_str(&dir), &err);
	ok(s == NULL && strstr(buf_str(&err), "noen/en: missing"),
	   "a catalogue without en/ is refused");
	tmpl_set_free(s);

	buf_reset(&err);
	s = tmpl_set_load("/nonexistent/templates", &err);
	ok(s == NULL && strstr(buf_str(&err), "cannot read"),
	   "a missing directory is refused");
out:
	buf_free(&err);
	buf_free(&dir);
}

int
main(void)
{
	char root[] = "/tmp/tmpl_test.XXXXXX";

	test_render();
	test_syntax();
	test_check_vars();
	test_mail();
	test_cap();
	test_utf8();
	test_vars();
	if (mkdtemp(root)) {
		test_catalogue(root);
		rm_rf(root);
	} else {
		ok(0, "mkdtemp");
	}
	return done_testing();
}
