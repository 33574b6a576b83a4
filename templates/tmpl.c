/*
 * tmpl.c - the template engine (a small Mustache subset) and the catalogue
 * of templates/<lang>/ files.
 *
 * Owns: parsing template text into a flat node array, rendering it against
 * a struct tmpl_vars, the variable store, and loading/choosing templates by
 * language.  Syntax and API: tmpl.h; the files and their variables:
 * templates/README.
 *
 * Invariants: a parsed template owns a copy of its text, and every node
 * points into that copy (offset, length), so a template is one allocation
 * plus the node array and nothing is shared.  A section node records the
 * index just past its content (`end`), so rendering is a loop over index
 * ranges, recursing only into sections: depth is bounded by TMPL_MAX_DEPTH,
 * checked at parse time, and the scope stack is a fixed array.  Output only
 * goes through the caller's capped struct buf, so a list with many items
 * cannot grow a mail without bound.
 *
 * Called by: everything that writes text for people (decoration's footer,
 * the command replies, held/rejected notices, the archive pages); tests in
 * t/tmpl_test.c, fuzzing in t/fuzz/fuzz_tmpl.c.
 *
 * Standards: the output is UTF-8 (RFC 3629: tmpl_utf8_valid() refuses
 * overlongs, surrogates and code points past U+10FFFF); HTML escaping
 * covers the five characters that matter in text and quoted attribute
 * context (HTML Living Standard, "escaping a string").
 *
 * Errors: every failure (syntax, unset variable, output cap, unreadable
 * file) is returned (NULL / -1) with a "name:line: what" line in the
 * caller's err buffer; nothing here logs or is fatal except out-of-memory
 * in the x* allocators.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "tmpl.h"
#include "util.h"

#define NONE ((size_t)-1)

enum node_type { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED };

struct node {
	enum node_type type;
	size_t off, len; /* text, or the name, inside t->src */
	int line;
	size_t end; /* sections: index of the first node after the content */
};

struct part {
	struct node *nodes;
	size_t n, cap;
};

struct tmpl {
	char *name;       /* "da/footer.txt" */
	const char *base; /* "footer.txt", inside name */
	char lang[16];    /* "da", or "" */
	char *src;        /* the text; nodes point into it */
	int html;
	int has_subject;
	struct part subject, body;
	char **names; /* sorted, distinct */
	size_t nnames;
};

struct tmpl_var {
	char *name;
	char *value; /* NULL: the variable is a list */
	struct tmpl_vars **items;
	size_t nitems, cap;
};

struct tmpl_vars {
	struct tmpl_var *v;
	size_t n, cap;
};

struct tmpl_set {
	struct tmpl **t; /* sorted by language, then file name */
	size_t n, cap;
};

/* --- parsing ---------------------------------------------------------- */

enum tag_kind {
	T_VAR,
	T_RAW,
	T_RAW3,
	T_SECTION,
	T_INVERTED,
	T_CLOSE,
	T_COMMENT
};

static size_t
find(const char *s, size_t pos, size_t stop, const char *needle)
{
	size_t nl = strlen(needle);

	for (; pos + nl <= stop; pos++)
		if (s[pos] == needle[0] && memcmp(s + pos, needle, nl) == 0)
			return pos;
	return NONE;
}

static int
is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Line numbers, counted forward lazily: positions only ever increase. */
struct lines {
	const char *s;
	size_t pos;
	int line;
};

static int
line_at(struct lines *l, size_t pos)
{
	for (; l->pos < pos; l->pos++)
		if (l->s[l->pos] == '\n')
			l->line++;
	return l->line;
}

static void
add_node(struct part *p, enum node_type type, size_t off, size_t len, int line)
{
	struct node *n;

	p->nodes = xgrow(p->nodes, &p->cap, p->n + 1, sizeof(*p->nodes));
	n = &p->nodes[p->n++];
	n->type = type;
	n->off = off;
	n->len = len;
	n->line = line;
	n->end = 0;
}

static void
add_text(struct part *p, size_t from, size_t to, int line)
{
	if (to > from)
		add_node(p, N_TEXT, from, to - from, line);
}

static int perr(const struct tmpl *t, struct buf *err, int line,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
perr(const struct tmpl *t, struct buf *err, int line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	if (line > 0)
		buf_printf(err, "%s:%d: ", t->name, line);
	else
		buf_printf(err, "%s: ", t->name);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_addc(err, '\n');
	return -1;
}

/*
 * Parse src[start, stop) into p.  first_line is the line number of start.
 * Sections must close inside the part (a subject cannot open a section
 * that the body closes).
 */
static int
parse_part(struct tmpl *t, struct part *p, size_t start, size_t stop,
           int first_line, struct buf *err)
{
	struct {
		size_t node;
		int line;
	} stack[TMPL_MAX_DEPTH];
	const char *s = t->src;
	struct lines lines = {s, start, first_line};
	size_t pos = start, text_start = start;
	int depth = 0;

	for (;;) {
		size_t o = find(s, pos, stop, "{{"), q, e, a, ls, name, nlen;
		enum tag_kind kind;
		int tline, line, standalone = 0;

		if (o == NONE)
			break;
		tline = line_at(&lines, text_start);
		line = line_at(&lines, o);
		q = o + 2;
		switch (q < stop ? s[q] : '\0') {
		case '{':
			kind = T_RAW3;
			q++;
			break;
		case '&':
			kind = T_RAW;
			q++;
			break;
		case '#':
			kind = T_SECTION;
			q++;
			break;
		case '^':
			kind = T_INVERTED;
			q++;
			break;
		case '/':
			kind = T_CLOSE;
			q++;
			break;
		case '!':
			kind = T_COMMENT;
			q++;
			break;
		case '>':
			return perr(t, err, line,
			            "partials ({{>...}}) are "
			            "not supported");
		case '=':
			return perr(t, err, line,
			            "delimiter changes "
			            "({{=...=}}) are not supported");
		default:
			kind = T_VAR;
			break;
		}
		name = nlen = 0;
		if (kind == T_COMMENT) {
			e = find(s, q, stop, "}}");
			if (e == NONE)
				return perr(t, err, line,
				            "unterminated comment");
			e += 2;
		} else {
			const char *closer = kind == T_RAW3 ? "}}}" : "}}";
			size_t cl = strlen(closer);

			while (q < stop && is_blank(s[q]))
				q++;
			name = q;
			while (q < stop && is_name_char(s[q]))
				q++;
			nlen = q - name;
			while (q < stop && is_blank(s[q]))
				q++;
			if (q + cl <= stop && memcmp(s + q, closer, cl) == 0) {
				e = q + cl;
			} else {
				size_t eol = find(s, o, stop, "\n");
				size_t c =
				    find(s, o, eol == NONE ? stop : eol, "}}");

				if (c == NONE || (kind == T_RAW3 && c == q))
					return perr(t, err, line,
					            "unterminated tag");
				return perr(t, err, line,
				            "bad character '%c' in tag name "
				            "(names are letters, digits, _ "
				            "and -)",
				            s[q] >= 0x20 && s[q] < 0x7f ? s[q]
				                                        : '?');
			}
			if (nlen == 0)
				return perr(t, err, line, "empty tag name");
		}

		/*
		 * A section, close or comment tag alone on its line takes
		 * the whole line with it (Mustache's "standalone" rule);
		 * text_start > the line start means another tag shares the
		 * line, which the s[ls - 1] test below catches.
		 */
		ls = o;
		a = e;
		if (kind >= T_SECTION) {
			while (ls > text_start && is_blank(s[ls - 1]))
				ls--;
			while (a < stop && is_blank(s[a]))
				a++;
			if (ls == 0 || s[ls - 1] == '\n') {
				if (a == stop) {
					standalone = 1;
				} else if (s[a] == '\n') {
					a++;
					standalone = 1;
				} else if (s[a] == '\r' && a + 1 < stop &&
				           s[a + 1] == '\n') {
					a += 2;
					standalone = 1;
				}
			}
		}
		if (!standalone) {
			ls = o;
			a = e;
		}
		add_text(p, text_start, ls, tline);

		switch (kind) {
		case T_VAR:
			add_node(p, N_VAR, name, nlen, line);
			break;
		case T_RAW:
		case T_RAW3:
			add_node(p, N_RAW, name, nlen, line);
			break;
		case T_SECTION:
		case T_INVERTED:
			if (depth == TMPL_MAX_DEPTH)
				return perr(t, err, line,
				            "sections nested deeper than %d",
				            TMPL_MAX_DEPTH);
			stack[depth].node = p->n;
			stack[depth].line = line;
			depth++;
			add_node(p, kind == T_SECTION ? N_SECTION : N_INVERTED,
			         name, nlen, line);
			break;
		case T_CLOSE: {
			const struct node *open;

			if (depth == 0)
				return perr(t, err, line,
				            "{{/%.*s}} closes no open section",
				            (int)nlen, s + name);
			open = &p->nodes[stack[depth - 1].node];
			if (open->len != nlen ||
			    memcmp(s + open->off, s + name, nlen) != 0)
				return perr(t, err, line,
				            "{{/%.*s}} does not match "
				            "{{%c%.*s}} opened on line %d",
				            (int)nlen, s + name,
				            open->type == N_SECTION ? '#' : '^',
				            (int)open->len, s + open->off,
				            open->line);
			p->nodes[stack[depth - 1].node].end = p->n;
			depth--;
			break;
		}
		case T_COMMENT:
			break;
		}
		pos = text_start = a;
	}
	add_text(p, text_start, stop, line_at(&lines, text_start));
	if (depth > 0) {
		const struct node *open = &p->nodes[stack[depth - 1].node];

		return perr(t, err, open->line,
		            "section {{%c%.*s}} is never closed",
		            open->type == N_SECTION ? '#' : '^', (int)open->len,
		            s + open->off);
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
collect_names(struct tmpl *t, const struct part *p, size_t *cap)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct node *n = &p->nodes[i];

		if (n->type == N_TEXT)
			continue;
		t->names =
		    xgrow(t->names, cap, t->nnames + 1, sizeof(*t->names));
		t->names[t->nnames++] = xstrndup(t->src + n->off, n->len);
	}
}

static void
sort_names(struct tmpl *t)
{
	size_t i, j;

	if (t->nnames == 0)
		return;
	qsort(t->names, t->nnames, sizeof(*t->names), cmp_str);
	for (i = 1, j = 1; i < t->nnames; i++) {
		if (strcmp(t->names[i], t->names[j - 1]) == 0)
			free(t->names[i]);
		else
			t->names[j++] = t->names[i];
	}
	t->nnames = j;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/*
 * Mail templates: leading comment lines, then "Subject: ..." and a blank
 * line.  Returns the offset where the Subject line starts, or NONE.
 */
static size_t
find_subject(const char *s, size_t len, int *line)
{
	size_t pos = 0;

	*line = 1;
	for (;;) {
		size_t q = pos, e;
		int i;

		while (q < len && is_blank(s[q]))
			q++;
		if (q + 3 > len || memcmp(s + q, "{{!", 3) != 0)
			break;
		e = find(s, q + 3, len, "}}");
		if (e == NONE)
			return NONE;
		e += 2;
		while (e < len && is_blank(s[e]))
			e++;
		if (e < len && s[e] == '\r')
			e++;
		if (e >= len || s[e] != '\n')
			return NONE;
		e++;
		for (i = 0; pos + i < e; i++)
			if (s[pos + i] == '\n')
				(*line)++;
		pos = e;
	}
	if (len - pos >= 8 && strncasecmp(s + pos, "Subject:", 8) == 0)
		return pos;
	return NONE;
}

struct tmpl *
tmpl_parse(const char *name, const char *text, struct buf *err)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	size_t len = strlen(text), subj, cap = 0;
	int line;

	t->name = xstrdup(name ? name : "template");
	t->base = strrchr(t->name, '/') ? strrchr(t->name, '/') + 1 : t->name;
	t->html = ends_with(t->name, ".html");
	if (len > TMPL_MAX_SIZE) {
		perr(t, err, 0, "longer than %zu bytes", TMPL_MAX_SIZE);
		tmpl_free(t);
		return NULL;
	}
	t->src = xstrndup(text, len);
	subj = find_subject(t->src, len, &line);
	if (subj != NONE) {
		size_t a = subj + 8, eol = find(t->src, subj, len, "\n"), b;
		size_t body;

		if (eol == NONE)
			eol = len;
		b = eol;
		while (a < b && is_blank(t->src[a]))
			a++;
		while (b > a &&
		       (is_blank(t->src[b - 1]) || t->src[b - 1] == '\r'))
			b--;
		t->has_subject = 1;
		if (parse_part(t, &t->subject, a, b, line, err) < 0)
			goto fail;
		body = eol < len ? eol + 1 : len;
		line++;
		/* The blank line that ends the header block. */
		if (body < len && t->src[body] == '\n') {
			body++;
			line++;
		} else if (body + 1 < len && t->src[body] == '\r' &&
		           t->src[body + 1] == '\n') {
			body += 2;
			line++;
		}
		if (parse_part(t, &t->body, body, len, line, err) < 0)
			goto fail;
	} else if (parse_part(t, &t->body, 0, len, 1, err) < 0) {
		goto fail;
	}
	collect_names(t, &t->subject, &cap);
	collect_names(t, &t->body, &cap);
	sort_names(t);
	return t;
fail:
	tmpl_free(t);
	return NULL;
}

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->subject.nodes);
	free(t->body.nodes);
	free(t->src);
	free(t->name);
	free(t);
}

const char *
tmpl_name(const struct tmpl *t)
{
	return t->name;
}

const char *
tmpl_lang(const struct tmpl *t)
{
	return t->lang;
}

int
tmpl_has_subject(const struct tmpl *t)
{
	return t->has_subject;
}

int
tmpl_is_html(const struct tmpl *t)
{
	return t->html;
}

const char *const *
tmpl_names(const struct tmpl *t, size_t *n)
{
	*n = t->nnames;
	return (const char *const *)t->names;
}

/* --- checking names against the documented set ------------------------ */

static int
known_has(const char *const *known, const char *s, size_t len)
{
	for (; known && *known; known++)
		if (strlen(*known) == len && memcmp(*known, s, len) == 0)
			return 1;
	return 0;
}

struct check {
	const struct tmpl *t;
	const struct part *p;
	const char *const *known;
	struct buf *err;
	const struct node *open[TMPL_MAX_DEPTH]; /* enclosing sections */
	int depth;
	int bad;
};

static int
check_name(struct check *c, const struct node *n)
{
	const char *s = c->t->src;
	struct buf q = BUF_INIT;
	int i, found = known_has(c->known, s + n->off, n->len);

	for (i = c->depth - 1; i >= 0 && !found; i--) {
		buf_reset(&q);
		buf_printf(&q, "%.*s.%.*s", (int)c->open[i]->len,
		           s + c->open[i]->off, (int)n->len, s + n->off);
		found = known_has(c->known, q.s, q.len);
	}
	buf_free(&q);
	if (!found) {
		c->bad = 1;
		return perr(c->t, c->err, n->line,
		            "'%.*s' is not among the variables this template "
		            "receives",
		            (int)n->len, s + n->off);
	}
	return 0;
}

static void
check_range(struct check *c, size_t a, size_t b)
{
	size_t i;

	for (i = a; i < b; i++) {
		const struct node *n = &c->p->nodes[i];

		if (n->type == N_TEXT)
			continue;
		check_name(c, n);
		if (n->type == N_SECTION || n->type == N_INVERTED) {
			c->open[c->depth++] = n;
			check_range(c, i + 1, n->end);
			c->depth--;
			i = n->end - 1;
		}
	}
}

int
tmpl_check_vars(const struct tmpl *t, const char *const *known, struct buf *err)
{
	struct check c;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.known = known;
	c.err = err;
	c.p = &t->subject;
	check_range(&c, 0, t->subject.n);
	c.p = &t->body;
	check_range(&c, 0, t->body.n);
	return c.bad ? -1 : 0;
}

/* --- rendering -------------------------------------------------------- */

struct render {
	const struct tmpl *t;
	const struct part *p;
	struct buf *out, *err;
	int header; /* control characters in values become spaces */
	const struct tmpl_vars *scope[TMPL_MAX_DEPTH + 1];
	int nscope;
	size_t steps; /* nodes and scopes visited, against TMPL_MAX_STEPS */
};

static const struct tmpl_var *
vars_find(const struct tmpl_vars *v, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strlen(v->v[i].name) == len &&
		    memcmp(v->v[i].name, name, len) == 0)
			return &v->v[i];
	return NULL;
}

static const struct tmpl_var *
lookup(struct render *r, const struct node *n)
{
	int i;

	for (i = r->nscope - 1; i >= 0; i--) {
		r->steps++; /* a deep scope stack costs per lookup */
		const struct tmpl_var *v =
		    vars_find(r->scope[i], r->t->src + n->off, n->len);

		if (v)
			return v;
	}
	return NULL;
}

static int
emit(struct render *r, const char *s, size_t n)
{
	if (buf_add(r->out, s, n) < 0)
		return perr(r->t, r->err, 0, "output longer than %zu bytes",
		            r->out->max ? r->out->max : BUF_DEFAULT_MAX);
	return 0;
}

static int
emit_value(struct render *r, const char *s, int escape)
{
	size_t i, from = 0;

	for (i = 0; s[i]; i++) {
		const char *rep = NULL;
		unsigned char c = (unsigned char)s[i];

		if (r->header && (c < 0x20 || c == 0x7f))
			rep = " ";
		else if (escape && c == '&')
			rep = "&amp;";
		else if (escape && c == '<')
			rep = "&lt;";
		else if (escape && c == '>')
			rep = "&gt;";
		else if (escape && c == '"')
			rep = "&quot;";
		else if (escape && c == '\'')
			rep = "&#39;";
		if (!rep)
			continue;
		if (emit(r, s + from, i - from) < 0 ||
		    emit(r, rep, strlen(rep)) < 0)
			return -1;
		from = i + 1;
	}
	return emit(r, s + from, i - from);
}

static int
render_range(struct render *r, size_t a, size_t b)
{
	const char *s = r->t->src;
	size_t i, k;

	for (i = a; i < b; i++) {
		const struct node *n = &r->p->nodes[i];
		const struct tmpl_var *v;
		int truthy;

		/*
		 * Nested sections over the same list multiply (items^depth)
		 * and may emit nothing, so the output cap alone does not
		 * bound the work.
		 */
		if (++r->steps > TMPL_MAX_STEPS)
			return perr(r->t, r->err, n->line,
			            "rendering needs more than %d steps "
			            "(sections over lists nested too deep?)",
			            TMPL_MAX_STEPS);
		if (n->type == N_TEXT) {
			if (emit(r, s + n->off, n->len) < 0)
				return -1;
			continue;
		}
		v = lookup(r, n);
		if (!v)
			return perr(r->t, r->err, n->line,
			            "variable '%.*s' is not set", (int)n->len,
			            s + n->off);
		if (n->type == N_VAR || n->type == N_RAW) {
			if (!v->value)
				return perr(r->t, r->err, n->line,
				            "'%.*s' is a list, used as a value",
				            (int)n->len, s + n->off);
			if (emit_value(r, v->value,
			               n->type == N_VAR && r->t->html) < 0)
				return -1;
			continue;
		}
		truthy = v->value ? v->value[0] != '\0' : v->nitems > 0;
		if (n->type == N_INVERTED) {
			if (!truthy && render_range(r, i + 1, n->end) < 0)
				return -1;
		} else if (v->value) {
			if (truthy && render_range(r, i + 1, n->end) < 0)
				return -1;
		} else {
			for (k = 0; k < v->nitems; k++) {
				/* depth <= TMPL_MAX_DEPTH: checked at parse */
				r->scope[r->nscope++] = v->items[k];
				if (render_range(r, i + 1, n->end) < 0)
					return -1;
				r->nscope--;
			}
		}
		i = n->end - 1;
	}
	return 0;
}

static int
render_part(const struct tmpl *t, const struct part *p, int header,
            const struct tmpl_vars *v, struct buf *out, struct buf *err)
{
	struct render r;
	size_t old = out->len;

	memset(&r, 0, sizeof(r));
	r.t = t;
	r.p = p;
	r.out = out;
	r.err = err;
	r.header = header;
	r.scope[r.nscope++] = v;
	if (render_range(&r, 0, p->n) < 0) {
		buf_truncate(out, old);
		return -1;
	}
	/* An empty result still yields "" from buf_str(). */
	return 0;
}

int
tmpl_render(const struct tmpl *t, const struct tmpl_vars *v, struct buf *out,
            struct buf *err)
{
	return render_part(t, &t->body, 0, v, out, err);
}

int
tmpl_render_mail(const struct tmpl *t, const struct tmpl_vars *v,
                 struct buf *subject, struct buf *body, struct buf *err)
{
	size_t old = subject->len;

	if (render_part(t, &t->subject, 1, v, subject, err) < 0)
		return -1;
	if (render_part(t, &t->body, 0, v, body, err) < 0) {
		buf_truncate(subject, old);
		return -1;
	}
	return 0;
}

/* --- variables -------------------------------------------------------- */

struct tmpl_vars *
tmpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_vars));
}

static void
var_clear(struct tmpl_var *v)
{
	size_t i;

	for (i = 0; i < v->nitems; i++)
		tmpl_vars_free(v->items[i]);
	free(v->items);
	free(v->value);
	v->items = NULL;
	v->value = NULL;
	v->nitems = v->cap = 0;
}

void
tmpl_vars_free(struct tmpl_vars *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		var_clear(&v->v[i]);
		free(v->v[i].name);
	}
	free(v->v);
	free(v);
}

/* The variable name, emptied (ready for a new value), created if new. */
static struct tmpl_var *
var_slot(struct tmpl_vars *v, const char *name)
{
	struct tmpl_var *x =
	    (struct tmpl_var *)vars_find(v, name, strlen(name));

	if (x) {
		var_clear(x);
		return x;
	}
	v->v = xgrow(v->v, &v->cap, v->n + 1, sizeof(*v->v));
	x = &v->v[v->n++];
	memset(x, 0, sizeof(*x));
	x->name = xstrdup(name);
	return x;
}

void
tmpl_vars_set(struct tmpl_vars *v, const char *name, const char *value)
{
	var_slot(v, name)->value = xstrdup(value ? value : "");
}

void
tmpl_vars_setf(struct tmpl_vars *v, const char *name, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_init(&b, TMPL_MAX_SIZE);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap); /* XXX: a value past 1 MiB becomes "" */
	va_end(ap);
	tmpl_vars_set(v, name, buf_str(&b));
	buf_free(&b);
}

void
tmpl_vars_set_bool(struct tmpl_vars *v, const char *name, int on)
{
	tmpl_vars_set(v, name, on ? "1" : "");
}

void
tmpl_vars_set_list(struct tmpl_vars *v, const char *name)
{
	var_slot(v, name);
}

struct tmpl_vars *
tmpl_vars_add_item(struct tmpl_vars *v, const char *name)
{
	struct tmpl_var *x =
	    (struct tmpl_var *)vars_find(v, name, strlen(name));

	if (!x || x->value)
		x = var_slot(v, name);
	x->items = xgrow(x->items, &x->cap, x->nitems + 1, sizeof(*x->items));
	x->items[x->nitems] = tmpl_vars_new();
	return x->items[x->nitems++];
}

const char *
tmpl_vars_get(const struct tmpl_vars *v, const char *name)
{
	const struct tmpl_var *x = vars_find(v, name, strlen(name));

	return x ? x->value : NULL;
}

/* --- UTF-8 ------------------------------------------------------------ */

int
tmpl_utf8_valid(const void *p, size_t n)
{
	return utf8_valid(p, n);
}

/* --- the documented variables ----------------------------------------- */

/*
 * One row per template file: what its caller sets.  templates/README
 * carries the same list in prose; t/tmpl_langs.c renders every template
 * with exactly these set, so the two cannot drift apart silently.
 */
static const char *const footer_vars[] = {
    "list_name",       "list_address", "unsubscribe_address",
    "request_address", "archive_url",  NULL};
static const char *const notice_vars[] = {
    "list_name", "list_address", "subject", "reason", "owner_address", NULL};
static const char *const too_big_vars[] = {
    "list_name", "list_address",  "subject", "size",
    "max_size",  "owner_address", NULL};
static const char *const moderate_vars[] = {
    "list_name", "list_address", "owner_address", "sender", "subject",
    "reason", "size", "held_id", "moderate_address", "expires", NULL};
static const char *const moderated_vars[] = {
    "list_name",  "list_address", "owner_address", "sender",
    "subject",    "held_id",      "decided_by",    "decision",
    "too_late",   "unclear",      NULL};
static const char *const expired_vars[] = {
    "list_name", "list_address", "subject", "owner_address", "days", NULL};
static const char *const held_summary_vars[] = {
    "list_name",     "list_address",  "owner_address",
    "count",         "posts",         "posts.held_id", "posts.sender",
    "posts.subject", "posts.reason",  "posts.age",
    "posts.moderate_address", NULL};
static const char *const probe_vars[] = {
    "list_name", "list_address", "address", "owner_address",
    "request_address", NULL};
static const char *const bounces_vars[] = {
    "list_name",         "list_address",        "disabled",
    "disabled.address",  "disabled.status",     "disabled.diagnostic",
    "removed",           "removed.address",     "content",
    "content.message_id", "content.subject",    "content.domains",
    "any_disabled",      "any_removed",         "any_content",
    NULL};
static const char *const sub_request_vars[] = {
    "list_name", "list_address", "address", "moderate_address", "expires",
    NULL};
static const char *const sub_person_vars[] = {
    "list_name", "list_address", "address", "owner_address", NULL};
static const char *const sub_refused_vars[] = {
    "list_name", "list_address", "address", "owner_address", "reason",
    NULL};
static const char *const help_vars[] = {
    "list_name",         "list_address",        "request_address",
    "subscribe_address", "unsubscribe_address", "help_address",
    "owner_address",     "archive_url",         NULL};

/*
 * Joining and leaving by email (confirm.txt .. forgotten.txt) share the
 * common set; the lists actions and results hold one item per command,
 * each with exactly one flag set to "1" (the others "").
 */
#define SUB_COMMON_VARS                                                        \
	"list_name", "list_address", "list_description", "address",            \
	    "request_address", "subscribe_address", "unsubscribe_address",     \
	    "help_address", "owner_address", "archive_url"
#define SUB_ACTION_VARS                                                        \
	"actions", "actions.a_subscribe", "actions.a_subscribe_digest",        \
	    "actions.a_subscribe_nomail", "actions.a_unsubscribe",             \
	    "actions.a_digest_on", "actions.a_digest_off",                     \
	    "actions.a_digest_mime", "actions.a_digest_plain",                 \
	    "actions.a_nomail_on", "actions.a_nomail_off",                     \
	    "actions.a_language", "actions.a_export", "actions.a_forget",      \
	    "actions.language_code"
#define SUB_RESULT_VARS                                                        \
	"results", "results.command", "results.arg", "results.r_pending",      \
	    "results.r_help", "results.r_lists", "results.r_which",            \
	    "results.r_unknown", "results.r_no_list", "results.r_bad_arg",     \
	    "results.r_not_member", "results.r_already_member",                \
	    "results.r_too_many", "results.r_token_unknown",                   \
	    "results.r_token_expired", "results.r_throttled",                  \
	    "results.r_done_subscribe", "results.r_done_unsubscribe",          \
	    "results.r_done_digest_on", "results.r_done_digest_off",           \
	    "results.r_done_digest_mime", "results.r_done_digest_plain",       \
	    "results.r_done_nomail_on", "results.r_done_nomail_off",           \
	    "results.r_done_language", "results.r_done_export",                \
	    "results.r_done_forget"
static const char *const confirm_vars[] = {
    SUB_COMMON_VARS, "confirm_address", "confirm_url",   "expires",
    SUB_ACTION_VARS, "any_results",     SUB_RESULT_VARS, NULL};
static const char *const results_vars[] = {
    SUB_COMMON_VARS,        SUB_RESULT_VARS,
    "any_results",          "help_text",
    "public_lists",         "public_lists.name",
    "public_lists.address", "public_lists.description",
    "any_public_lists",     "show_lists",
    "memberships",          "memberships.name",
    "memberships.address",  "memberships.digest",
    "memberships.nomail",   "any_memberships",
    "show_memberships",     NULL};
static const char *const welcome_vars[] = {
    SUB_COMMON_VARS, "digest",    "digest_available", "nomail", "announce",
    "moderated",     "private_archive_url", NULL};
/* The answer to `archive` (sub.c): archive_url (common) for a public
 * archive, the member's private_archive_url for a private one. */
static const char *const archive_link_vars[] = {
    SUB_COMMON_VARS, "private_archive_url", "no_archive", "no_web_archive",
    NULL};
static const char *const sub_common_vars[] = {SUB_COMMON_VARS, NULL};
static const char *const export_vars[] = {SUB_COMMON_VARS, "data", NULL};
static const char *const page_vars[] = {"lang",
                                        "dir",
                                        "list_name",
                                        "list_address",
                                        "address",
                                        "action_url",
                                        "ask_confirm",
                                        "ask_unsubscribe",
                                        "done_confirm",
                                        "done_unsubscribe",
                                        "err_unknown_token",
                                        "err_expired",
                                        "err_bad_request",
                                        "err_not_member",
                                        "err_server",
                                        SUB_ACTION_VARS,
                                        SUB_RESULT_VARS,
                                        NULL};

/*
 * Events by email (issue 8): every mail to a member about an event gets
 * the event set; event_answer.txt has exactly one of its seven case flags
 * on.  Numbers come as text; optional values are "".
 */
#define EVENT_COMMON_VARS                                                      \
	"list_name", "list_address", "list_description", "address",            \
	    "request_address", "owner_address", "title", "when", "place",      \
	    "description", "capacity", "seats_left", "deadline",               \
	    "rsvp_address", "web_url", "recurring", "occurrence_when"
static const char *const event_invite_vars[] = {
    EVENT_COMMON_VARS, "updated", "question", "guests_allowed", NULL};
static const char *const event_answer_vars[] = {
    EVENT_COMMON_VARS, "accepted",  "declined", "tentative",
    "waitlisted",      "promoted",  "too_late", "unknown",
    "guests",          "waitlist_position",     NULL};
static const char *const event_reminder_vars[] = {
    EVENT_COMMON_VARS, "waitlisted", "days", NULL};
static const char *const event_cancel_vars[] = {EVENT_COMMON_VARS, NULL};
static const char *const event_confirm_vars[] = {
    "list_name", "list_address", "address",         "title",
    "when",      "place",        "capacity",        "deadline",
    "members",   "updated",      "confirm_address", "recurring",
    "rrule",     NULL};
static const char *const event_summary_vars[] = {
    "list_name", "list_address", "title",      "when",
    "place",     "capacity",     "invited",    "yes",
    "no",        "maybe",        "waitlist",   "guests",
    "attended",  "no_answer",    "after_event", "report_command",
    NULL};

static const struct {
	const char *name;
	const char *const *vars;
} documented[] = {
    {"footer.txt", footer_vars},
    {"held.txt", notice_vars},
    {"rejected.txt", notice_vars},
    {"too_big.txt", too_big_vars},
    {"help.txt", help_vars},
    {"moderate.txt", moderate_vars},
    {"moderated.txt", moderated_vars},
    {"expired.txt", expired_vars},
    {"held_summary.txt", held_summary_vars},
    {"probe.txt", probe_vars},
    {"bounces.txt", bounces_vars},
    {"sub_request.txt", sub_request_vars},
    {"sub_waiting.txt", sub_person_vars},
    {"sub_refused.txt", sub_refused_vars},
    {"confirm.txt", confirm_vars},
    {"results.txt", results_vars},
    {"welcome.txt", welcome_vars},
    {"goodbye.txt", sub_common_vars},
    {"export.txt", export_vars},
    {"forgotten.txt", sub_common_vars},
    {"archive_link.txt", archive_link_vars},
    {"page.html", page_vars},
    {"event_invite.txt", event_invite_vars},
    {"event_invite.html", event_invite_vars},
    {"event_answer.txt", event_answer_vars},
    {"event_reminder.txt", event_reminder_vars},
    {"event_cancel.txt", event_cancel_vars},
    {"event_confirm.txt", event_confirm_vars},
    {"event_summary.txt", event_summary_vars},
};

const char *const *
tmpl_documented_vars(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(documented); i++)
		if (strcmp(documented[i].name, name) == 0)
			return documented[i].vars;
	return NULL;
}

/* --- the catalogue ---------------------------------------------------- */

/* "da", "nb", "pt-br": two or three letters, an optional region. */
static int
is_lang_dir(const char *s)
{
	size_t i = 0, j;

	while (s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (s[i] == '\0')
		return 1;
	if (s[i] != '-')
		return 0;
	for (j = i + 1;
	     (s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9'); j++)
		;
	return s[j] == '\0' && j - i - 1 >= 2 && j - i - 1 <= 8;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_kind(const char *path, mode_t kind)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static int
load_file(struct tmpl_set *s, const char *dir, const char *lang,
          const char *file, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT, name = BUF_INIT;
	struct tmpl *t = NULL;
	int rc = -1;

	buf_printf(&path, "%s/%s/%s", dir, lang, file);
	buf_printf(&name, "%s/%s", lang, file);
	buf_init(&text, TMPL_MAX_SIZE);
	if (!is_kind(buf_str(&path), S_IFREG)) {
		rc = 0; /* not a file: ignored */
	} else if (read_file(buf_str(&path), &text) < 0) {
		buf_printf(err, "%s: cannot read (%s; at most %zu bytes)\n",
		           buf_str(&path), strerror(errno), TMPL_MAX_SIZE);
	} else if (!tmpl_utf8_valid(text.s, text.len)) {
		buf_printf(err, "%s: not valid UTF-8 (or holds a NUL byte)\n",
		           buf_str(&path));
	} else if ((t = tmpl_parse(buf_str(&name), buf_str(&text), err))) {
		const char *const *known = tmpl_documented_vars(file);

		strlcpy_(t->lang, lang, sizeof(t->lang));
		s->t = xgrow(s->t, &s->cap, s->n + 1, sizeof(*s->t));
		s->t[s->n++] = t;
		rc = known ? tmpl_check_vars(t, known, err) : 0;
	}
	buf_free(&path);
	buf_free(&text);
	buf_free(&name);
	return rc;
}

struct tmpl_set *
tmpl_set_load(const char *dir, struct buf *err)
{
	struct tmpl_set *s = xcalloc(1, sizeof(*s));
	struct dirent **langs = NULL;
	int nl, i, bad = 0, have_en = 0;

	nl = scandir(dir, &langs, NULL, by_name);
	if (nl < 0) {
		buf_printf(err, "%s: cannot read the template directory: %s\n",
		           dir, strerror(errno));
		free(s);
		return NULL;
	}
	for (i = 0; i < nl; i++) {
		const char *lang = langs[i]->d_name;
		struct buf sub = BUF_INIT;
		struct dirent **files = NULL;
		int nf, j;

		buf_printf(&sub, "%s/%s", dir, lang);
		if (is_lang_dir(lang) && is_kind(buf_str(&sub), S_IFDIR)) {
			if (strcmp(lang, "en") == 0)
				have_en = 1;
			nf = scandir(buf_str(&sub), &files, NULL, by_name);
			if (nf < 0) {
				buf_printf(err, "%s: %s\n", buf_str(&sub),
				           strerror(errno));
				bad = 1;
			}
			for (j = 0; j < nf; j++) {
				const char *f = files[j]->d_name;

				if (f[0] != '.' &&
				    (ends_with(f, ".txt") ||
				     ends_with(f, ".html")) &&
				    load_file(s, dir, lang, f, err) < 0)
					bad = 1;
				free(files[j]);
			}
			free(files);
		}
		buf_free(&sub);
		free(langs[i]);
	}
	free(langs);
	if (!have_en) {
		buf_printf(err,
		           "%s/en: missing (English is the fallback "
		           "for every template)\n",
		           dir);
		bad = 1;
	}
	if (bad) {
		tmpl_set_free(s);
		return NULL;
	}
	return s;
}

void
tmpl_set_free(struct tmpl_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		tmpl_free(s->t[i]);
	free(s->t);
	free(s);
}

size_t
tmpl_set_count(const struct tmpl_set *s)
{
	return s->n;
}

const struct tmpl *
tmpl_set_at(const struct tmpl_set *s, size_t i)
{
	return i < s->n ? s->t[i] : NULL;
}

static const struct tmpl *
set_find(const struct tmpl_set *s, const char *name, const char *lang,
         size_t langlen)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->t[i]->lang) == langlen &&
		    strncasecmp(s->t[i]->lang, lang, langlen) == 0 &&
		    strcmp(s->t[i]->base, name) == 0)
			return s->t[i];
	return NULL;
}

const struct tmpl *
tmpl_get(const struct tmpl_set *s, const char *name, const char *const *langs)
{
	const struct tmpl *t;

	for (; langs && *langs; langs++) {
		const char *l = *langs, *dash = strchr(l, '-');

		if (!*l)
			continue;
		if ((t = set_find(s, name, l, strlen(l))))
			return t;
		if (dash && (t = set_find(s, name, l, (size_t)(dash - l))))
			return t;
	}
	return set_find(s, name, "en", 2);
}

static int
names_has(const struct tmpl *t, const char *name)
{
	if (t->nnames == 0)
		return 0; /* bsearch() must not see a NULL array */
	return bsearch(&name, t->names, t->nnames, sizeof(*t->names),
	               cmp_str) != NULL;
}

int
tmpl_set_check(const struct tmpl_set *s, struct buf *err)
{
	size_t i, k;
	int bad = 0;

	for (i = 0; i < s->n; i++) {
		const struct tmpl *t = s->t[i], *en;

		if (strcmp(t->lang, "en") == 0) {
			/* Does every other language have it? */
			for (k = 0; k < s->n; k++) {
				const char *l = s->t[k]->lang;

				if (k > 0 && strcmp(l, s->t[k - 1]->lang) == 0)
					continue;
				if (!set_find(s, t->base, l, strlen(l))) {
					buf_printf(err,
					           "%s/%s: missing (en/%s "
					           "exists)\n",
					           l, t->base, t->base);
					bad = 1;
				}
			}
			continue;
		}
		en = set_find(s, t->base, "en", 2);
		if (!en) {
			buf_printf(err, "%s: en/%s does not exist\n", t->name,
			           t->base);
			bad = 1;
			continue;
		}
		for (k = 0; k < en->nnames; k++)
			if (!names_has(t, en->names[k])) {
				buf_printf(err,
				           "%s: does not use '%s' (%s "
				           "does)\n",
				           t->name, en->names[k], en->name);
				bad = 1;
			}
		for (k = 0; k < t->nnames; k++)
			if (!names_has(en, t->names[k])) {
				buf_printf(err,
				           "%s: uses '%s', which %s does "
				           "not\n",
				           t->name, t->names[k], en->name);
				bad = 1;
			}
		if (t->has_subject != en->has_subject) {
			buf_printf(err, "%s: %s a Subject line, %s %s\n",
			           t->name, t->has_subject ? "has" : "lacks",
			           en->name, en->has_subject ? "has" : "not");
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

int
tmpl_set_check_vars(const struct tmpl_set *s, const char *name,
                    const char *const *known, struct buf *err)
{
	size_t i;
	int bad = 0;

	if (!set_find(s, name, "en", 2)) {
		buf_printf(err, "en/%s: missing\n", name);
		return -1;
	}
	for (i = 0; i < s->n; i++)
		if (strcmp(s->t[i]->base, name) == 0 &&
		    tmpl_check_vars(s->t[i], known, err) < 0)
			bad = 1;
	return bad ? -1 : 0;
}
