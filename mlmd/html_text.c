/*
 * html_text.c - renders an HTML mail part as plain text (see html_text.h).
 * Callers: the command parser (cmd.c) for HTML-only mail, and the
 * archive's search index.  libgumbo (an HTML5 parser) stays in this file.
 *
 * Two passes:
 *
 *  1. A sanitising pre-pass over the raw bytes (prefilter()).  Gumbo's
 *     tree builder is quadratic in the nesting depth (20,000 nested <div>
 *     take seconds) and its "reconstruct the active formatting elements"
 *     step lets 70 KB of <b id=N> ... <div>x</div> grow to gigabytes.  So
 *     the pre-pass re-writes the input before gumbo sees it:
 *      - formatting tags (b, i, font, ...) and the marker elements applet,
 *        object and marquee are removed: they carry nothing for plain
 *        text, and without them the list of active formatting elements
 *        holds at most one <a> per table cell;
 *      - every tag is re-serialised from what the pre-pass parsed (the
 *        name, and href for <a>; other attributes are dropped) and every
 *        other '<' becomes "&lt;".  So gumbo never sees a tag the pre-pass
 *        did not count, even where the two tokenisers disagree (the
 *        pre-pass mirrors the HTML5 tag states, but a difference can only
 *        cost fidelity, never bounds);
 *      - at most HTML_TEXT_MAX_TAGS non-void start tags and as many end
 *        tags pass, and at most HT_MAX_VOID void ones; past that a tag
 *        becomes "<br>" (block elements) or a space;
 *      - comments, doctypes and processing instructions are dropped, and
 *        svg and math with their content;
 *      - raw-text elements (script, style, textarea, title, xmp, iframe,
 *        noembed, noframes, plaintext) are copied with '<' escaped, so
 *        their content cannot open tags either.
 *     With that, gumbo's stack of open elements is O(HTML_TEXT_MAX_TAGS)
 *     deep, each token costs at most that much, and the number of tokens
 *     that cost anything is bounded: the whole call is linear in len with
 *     a constant factor.
 *
 *  2. An iterative walk of gumbo's tree (an explicit stack, no recursion;
 *     the tree is only as deep as the pre-pass allowed anyway) writing the
 *     text through emit_*(), which enforce the output invariants: valid
 *     UTF-8 (invalid bytes become U+FFFD), no controls but LF and TAB,
 *     collapsed blank lines, "> " quote prefixes.
 *
 * Errors: -1 only if gumbo returns no tree or the copy does not fit a
 * buffer; a full output buffer ends the text cleanly and is not an error.
 * Out-of-memory aborts (xmalloc; gumbo's own allocations use malloc and
 * gumbo does not check them: a known limit of the library).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "buf.h"
#include "html_text.h"
#include "util.h"

/* Void tags passed to gumbo before they too become spaces. */
#define HT_MAX_VOID (4 * HTML_TEXT_MAX_TAGS)
/* Longest href kept (longer links are rendered as their text only). */
#define HT_URL_MAX 2048

/* ---- pass 1: the pre-pass ---------------------------------------------- */

enum {
	T_VOID = 1,    /* no end tag, never deepens the tree */
	T_REMOVE = 2,  /* start and end tags removed, content kept */
	T_BLOCK = 4,   /* over budget: becomes <br> rather than a space */
	T_RAW = 8,     /* content is text up to </name (raw text, RCDATA) */
	T_HIDDEN = 16, /* content never rendered: over budget, dropped */
	T_DROP = 32,   /* removed with all its content (foreign content) */
	T_REST = 64,   /* plaintext: the rest of the input is text */
};

static const struct {
	const char *name;
	int flags;
} tag_table[] = {
    {"a", 0},
    {"address", T_BLOCK},
    {"applet", T_REMOVE},
    {"area", T_VOID},
    {"article", T_BLOCK},
    {"aside", T_BLOCK},
    {"b", T_REMOVE},
    {"base", T_VOID},
    {"basefont", T_VOID},
    {"bgsound", T_VOID},
    {"big", T_REMOVE},
    {"blockquote", T_BLOCK},
    {"br", T_VOID},
    {"caption", T_BLOCK},
    {"center", T_BLOCK},
    {"code", T_REMOVE},
    {"col", T_VOID},
    {"dd", T_BLOCK},
    {"details", T_BLOCK},
    {"dialog", T_BLOCK},
    {"dir", T_BLOCK},
    {"div", T_BLOCK},
    {"dl", T_BLOCK},
    {"dt", T_BLOCK},
    {"em", T_REMOVE},
    {"embed", T_VOID},
    {"fieldset", T_BLOCK},
    {"figcaption", T_BLOCK},
    {"figure", T_BLOCK},
    {"font", T_REMOVE},
    {"footer", T_BLOCK},
    {"form", T_BLOCK},
    {"frame", T_VOID},
    {"h1", T_BLOCK},
    {"h2", T_BLOCK},
    {"h3", T_BLOCK},
    {"h4", T_BLOCK},
    {"h5", T_BLOCK},
    {"h6", T_BLOCK},
    {"header", T_BLOCK},
    {"hgroup", T_BLOCK},
    {"hr", T_BLOCK},
    {"i", T_REMOVE},
    {"iframe", T_RAW | T_HIDDEN},
    {"image", T_VOID},
    {"img", T_VOID},
    {"input", T_VOID},
    {"keygen", T_VOID},
    {"li", T_BLOCK},
    {"link", T_VOID},
    {"main", T_BLOCK},
    {"marquee", T_REMOVE},
    {"math", T_DROP},
    {"menu", T_BLOCK},
    {"meta", T_VOID},
    {"nav", T_BLOCK},
    {"nobr", T_REMOVE},
    {"noembed", T_RAW | T_HIDDEN},
    {"noframes", T_RAW | T_HIDDEN},
    {"object", T_REMOVE},
    {"ol", T_BLOCK},
    {"p", T_BLOCK},
    {"param", T_VOID},
    {"plaintext", T_RAW | T_REST},
    {"pre", T_BLOCK},
    {"s", T_REMOVE},
    {"script", T_RAW | T_HIDDEN},
    {"section", T_BLOCK},
    {"small", T_REMOVE},
    {"source", T_VOID},
    {"strike", T_REMOVE},
    {"strong", T_REMOVE},
    {"style", T_RAW | T_HIDDEN},
    {"svg", T_DROP},
    {"table", T_BLOCK},
    {"tbody", T_BLOCK},
    {"textarea", T_RAW},
    {"tfoot", T_BLOCK},
    {"thead", T_BLOCK},
    {"title", T_RAW | T_HIDDEN},
    {"tr", T_BLOCK},
    {"track", T_VOID},
    {"tt", T_REMOVE},
    {"u", T_REMOVE},
    {"ul", T_BLOCK},
    {"wbr", T_VOID},
    {"xmp", T_RAW | T_BLOCK},
};

struct pf {
	const char *in;
	size_t len;
	struct buf *o;
	size_t starts, ends, voids; /* tags passed to gumbo so far */
	int err;
};

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
tag_flags(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tag_table); i++)
		if (strcmp(tag_table[i].name, name) == 0)
			return tag_table[i].flags;
	return 0;
}

static void
pf_add(struct pf *p, const char *s, size_t n)
{
	if (!p->err && buf_add(p->o, s, n) < 0)
		p->err = 1;
}

/* Text: copied with '<' escaped and NULs dropped. */
static void
pf_text(struct pf *p, size_t from, size_t to)
{
	while (from < to) {
		const char *s = p->in + from;
		size_t n = 0;

		while (from + n < to && s[n] != '<' && s[n] != '\0')
			n++;
		pf_add(p, s, n);
		from += n;
		if (from < to) {
			if (p->in[from] == '<')
				pf_add(p, "&lt;", 4);
			from++;
		}
	}
}

/* Index just past the next '>' at or after from, or len. */
static size_t
skip_gt(const struct pf *p, size_t from)
{
	const char *q;

	if (from >= p->len)
		return p->len;
	q = memchr(p->in + from, '>', p->len - from);
	return q ? (size_t)(q - p->in) + 1 : p->len;
}

/* from is just after "<!--": the index after the comment's end. */
static size_t
comment_end(const struct pf *p, size_t from)
{
	size_t q;

	if (from < p->len && p->in[from] == '>')
		return from + 1; /* "<!-->" */
	if (from + 1 < p->len && p->in[from] == '-' && p->in[from + 1] == '>')
		return from + 2; /* "<!--->" */
	for (q = from; q + 2 < p->len; q++) {
		if (p->in[q] != '-' || p->in[q + 1] != '-')
			continue;
		if (p->in[q + 2] == '>')
			return q + 3;
		if (p->in[q + 2] == '!' && q + 3 < p->len &&
		    p->in[q + 3] == '>')
			return q + 4;
	}
	return p->len;
}

/*
 * Find the next tag "<name" or "</name" (a whole name, any case) at or
 * after from.  Returns its index or len; *end says which kind.
 */
static size_t
find_tag(const struct pf *p, size_t from, const char *name, int *end)
{
	size_t nl = strlen(name), q = from, k;
	const char *hit;

	while (q < p->len &&
	       (hit = memchr(p->in + q, '<', p->len - q)) != NULL) {
		q = (size_t)(hit - p->in);
		k = q + 1;
		*end = k < p->len && p->in[k] == '/';
		k += (size_t)*end;
		if (k + nl < p->len && strncasecmp(p->in + k, name, nl) == 0 &&
		    (is_ws((unsigned char)p->in[k + nl]) ||
		     p->in[k + nl] == '/' || p->in[k + nl] == '>'))
			return q;
		q++;
	}
	return p->len;
}

/* Attribute value escaping for a re-serialised href="...". */
static void
pf_attr(struct pf *p, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && !p->err; i++) {
		if (s[i] == '"')
			pf_add(p, "&quot;", 6);
		else if (s[i] == '<')
			pf_add(p, "&lt;", 4);
		else if (s[i] == '>')
			pf_add(p, "&gt;", 4);
		else if (s[i] != '\0')
			pf_add(p, s + i, 1);
	}
}

/* Over budget: a line break for block elements, else a space. */
static void
pf_replace(struct pf *p, int flags)
{
	if ((flags & T_BLOCK) && p->voids < HT_MAX_VOID) {
		p->voids++;
		pf_add(p, "<br>", 4);
	} else {
		pf_add(p, " ", 1);
	}
}

/*
 * One tag at p->in[at] ('<', then an optional '/', then a letter).
 * Returns the index where scanning resumes.
 */
static size_t
pf_tag(struct pf *p, size_t at)
{
	enum { S_BEFORE, S_NAME, S_AFTER, S_BEFORE_VAL, S_DQ, S_SQ, S_UNQ };
	const char *in = p->in;
	int end = in[at + 1] == '/', state = S_BEFORE, flags, e2;
	size_t j = at + 1 + (size_t)end, k, nstart = 0, vstart = 0, e;
	size_t href = 0, href_len = 0, q;
	int have_href = 0, done = 0;
	char name[16];
	size_t nl = 0, k2;

	for (k = j; k < p->len && !is_ws((unsigned char)in[k]) &&
	            in[k] != '/' && in[k] != '>';
	     k++) {
		if (nl < sizeof(name) - 1)
			name[nl] = (char)tolower((unsigned char)in[k]);
		nl++;
	}
	name[nl < sizeof(name) ? nl : 0] = '\0';
	/* A name we cannot re-serialise safely is some unknown element. */
	for (k2 = 0; k2 < nl && name[0]; k2++)
		if (!isalnum((unsigned char)name[k2]) && name[k2] != '-' &&
		    name[k2] != ':' && name[k2] != '_' && name[k2] != '.')
			name[0] = '\0';
	if (name[0] == '\0')
		strlcpy_(name, "span", sizeof(name));
	nl = strlen(name);

	/* The HTML5 tokenizer's attribute states, to find the tag's end. */
	for (; k < p->len && !done; k++) {
		int c = (unsigned char)in[k];

		switch (state) {
		case S_BEFORE:
			if (c == '>')
				done = 1;
			else if (!is_ws(c) && c != '/')
				nstart = k, state = S_NAME;
			break;
		case S_NAME:
		case S_AFTER:
			if (c == '>') {
				done = 1;
			} else if (c == '=') {
				state = S_BEFORE_VAL;
			} else if (c == '/') {
				state = S_BEFORE;
			} else if (is_ws(c)) {
				state = S_AFTER;
			} else if (state == S_AFTER) {
				nstart = k, state = S_NAME;
			}
			break;
		case S_BEFORE_VAL:
			if (c == '>')
				done = 1;
			else if (c == '"')
				vstart = k + 1, state = S_DQ;
			else if (c == '\'')
				vstart = k + 1, state = S_SQ;
			else if (!is_ws(c))
				vstart = k, state = S_UNQ;
			break;
		case S_DQ:
		case S_SQ:
		case S_UNQ:
			if ((state == S_DQ && c == '"') ||
			    (state == S_SQ && c == '\'') ||
			    (state == S_UNQ && (is_ws(c) || c == '>'))) {
				/* nstart..: the name ends at '=' or space */
				size_t n = 0;

				while (in[nstart + n] != '=' &&
				       !is_ws((unsigned char)in[nstart + n]))
					n++;
				if (!have_href && n == 4 &&
				    strncasecmp(in + nstart, "href", 4) == 0) {
					have_href = 1;
					href = vstart;
					href_len = k - vstart;
				}
				if (c == '>')
					done = 1;
				state = S_BEFORE;
			}
			break;
		}
	}
	if (!done)
		return p->len; /* EOF inside a tag: HTML5 drops the tag */
	e = k;
	flags = tag_flags(name);

	if (flags & T_DROP) {
		int depth = 1;

		if (end || in[e - 2] == '/') /* </svg>, <svg/> */
			return e;
		for (q = e; depth > 0 && q < p->len; q++) {
			q = find_tag(p, q, name, &e2);
			if (q < p->len)
				depth += e2 ? -1 : 1;
		}
		return skip_gt(p, q);
	}
	if (flags & T_REMOVE)
		return e;
	if (end) {
		if (p->ends >= HTML_TEXT_MAX_TAGS) {
			pf_replace(p, flags);
		} else {
			p->ends++;
			pf_add(p, "</", 2);
			pf_add(p, name, nl);
			pf_add(p, ">", 1);
		}
		return e;
	}
	if (flags & T_VOID) {
		if (p->voids >= HT_MAX_VOID) {
			pf_add(p, " ", 1);
		} else {
			p->voids++;
			pf_add(p, "<", 1);
			pf_add(p, name, nl);
			pf_add(p, ">", 1);
		}
		return e;
	}
	if (p->starts >= HTML_TEXT_MAX_TAGS) {
		if ((flags & T_RAW) && (flags & T_HIDDEN))
			return skip_gt(p, find_tag(p, e, name, &e2));
		pf_replace(p, flags);
		return e;
	}
	p->starts++;
	pf_add(p, "<", 1);
	pf_add(p, name, nl);
	if (have_href && href_len <= HT_URL_MAX) {
		pf_add(p, " href=\"", 7);
		pf_attr(p, in + href, href_len);
		pf_add(p, "\"", 1);
	}
	pf_add(p, ">", 1);
	if (flags & T_REST) {
		pf_text(p, e, p->len);
		return p->len;
	}
	if (flags & T_RAW) {
		/* The content up to the first </name (any "<name" inside is
		 * text), then the end tag, which costs gumbo nothing. */
		for (q = e; (q = find_tag(p, q, name, &e2)) < p->len && !e2;)
			q++;
		pf_text(p, e, q);
		pf_add(p, "</", 2);
		pf_add(p, name, nl);
		pf_add(p, ">", 1);
		return skip_gt(p, q);
	}
	return e;
}

static int
prefilter(const char *in, size_t len, struct buf *o)
{
	struct pf p;
	size_t i = 0;

	memset(&p, 0, sizeof(p));
	p.in = in;
	p.len = len;
	p.o = o;
	while (i < len && !p.err) {
		const char *lt = memchr(in + i, '<', len - i);
		size_t j = lt ? (size_t)(lt - in) : len;

		pf_text(&p, i, j);
		i = j;
		if (i >= len)
			break;
		if (i + 1 >= len) {
			pf_add(&p, "&lt;", 4);
			break;
		}
		if (in[i + 1] == '!') {
			if (i + 3 < len && in[i + 2] == '-' && in[i + 3] == '-')
				i = comment_end(&p, i + 4);
			else
				i = skip_gt(&p, i + 2);
		} else if (in[i + 1] == '?') {
			i = skip_gt(&p, i + 2);
		} else if (in[i + 1] == '/') {
			if (i + 2 < len && isalpha((unsigned char)in[i + 2]))
				i = pf_tag(&p, i);
			else /* "</>" is ignored, "</ x>" a bogus comment */
				i = skip_gt(&p, i + 2);
		} else if (isalpha((unsigned char)in[i + 1])) {
			i = pf_tag(&p, i);
		} else {
			pf_add(&p, "&lt;", 4);
			i++;
		}
	}
	return p.err ? -1 : 0;
}

/* ---- pass 2: the walk ------------------------------------------------- */

struct rd {
	struct buf *out;
	size_t base;  /* out->len when we started: no leading breaks */
	int full;     /* out's cap reached: stop */
	int nl;       /* line breaks wanted before the next text (0-2) */
	int trail_nl; /* LFs at the end of what we wrote (0-2) */
	int space;    /* a collapsed space is pending */
	int bol;      /* at the beginning of a line: prefix not yet written */
	int quote;    /* blockquote depth */
	int pre;      /* inside <pre> */
	int list;     /* list depth */
	int bullet;   /* an "- " is pending */
	int hidden;   /* inside a dropped subtree */
	/* the open link (gumbo never nests <a>) */
	const GumboNode *a_node;
	const char *a_href;
	size_t a_start;
};

static void
rd_put(struct rd *r, const char *s, size_t n)
{
	if (!r->full && buf_add(r->out, s, n) < 0)
		r->full = 1;
}

static void
rd_newline(struct rd *r)
{
	rd_put(r, "\n", 1);
	if (r->trail_nl < 2)
		r->trail_nl++;
	r->bol = 1;
}

/* Write the pending line breaks (never at the start of our text). */
static void
rd_flush_nl(struct rd *r)
{
	if (r->out->len == r->base)
		r->nl = 0;
	if (r->nl > 2)
		r->nl = 2;
	while (r->trail_nl < r->nl && !r->full)
		rd_newline(r);
	r->nl = 0;
}

/* Before visible text: pending breaks, the line prefix, a pending space. */
static void
rd_prepare(struct rd *r)
{
	int i;

	rd_flush_nl(r);
	if (r->bol) {
		if (r->out->len > r->base || r->quote || r->bullet) {
			for (i = 0; i < r->quote; i++)
				rd_put(r, "> ", 2);
			if (r->bullet) {
				for (i = 1; i < r->list; i++)
					rd_put(r, "  ", 2);
				rd_put(r, "- ", 2);
			}
		}
		r->bullet = 0;
		r->bol = 0;
	} else if (r->space) {
		rd_put(r, " ", 1);
	}
	r->space = 0;
	r->trail_nl = 0;
}

static void
rd_break(struct rd *r, int n)
{
	if (r->nl < n)
		r->nl = n;
}


/* Text as the document has it: collapsed, or kept inside <pre>. */
static void
rd_text(struct rd *r, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0, l;

	while (i < n && !r->full) {
		unsigned c = s[i];

		l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			rd_prepare(r);
			rd_put(r, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (r->pre && (c == '\n' || c == '\r')) {
			/* LF, CRLF and a lone CR end a line (gumbo has
			 * normalised them already) */
			if (c == '\n' || i + 1 >= n || s[i + 1] != '\n') {
				rd_flush_nl(r);
				if (r->trail_nl < 2 && r->out->len > r->base)
					rd_newline(r);
			}
			i++;
			continue;
		}
		if (r->pre && c == '\t') {
			rd_prepare(r);
			rd_put(r, "\t", 1);
			i++;
			continue;
		}
		/* white space, U+00A0, controls, DEL and the C1 controls */
		if (is_ws((int)c) || c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && s[i + 1] <= 0xa0)) {
			if (r->pre) {
				rd_prepare(r);
				rd_put(r, " ", 1);
			} else {
				r->space = 1;
			}
			i += l;
			continue;
		}
		rd_prepare(r);
		rd_put(r, text + i, l);
		i += l;
	}
}

static int
href_ok(const char *h)
{
	return str_has_prefix_ci(h, "http://") ||
	       str_has_prefix_ci(h, "https://") ||
	       str_has_prefix_ci(h, "mailto:");
}

/* " <URL>" after a link's text, unless the text says the same. */
static void
rd_link_end(struct rd *r)
{
	const char *h = r->a_href, *t;
	size_t tl, hl, i;
	struct buf u = BUF_INIT;

	r->a_node = NULL;
	while (is_ws((unsigned char)*h))
		h++;
	hl = strlen(h);
	while (hl > 0 && is_ws((unsigned char)h[hl - 1]))
		hl--;
	if (r->a_start > r->out->len)
		return;
	t = r->out->s ? r->out->s + r->a_start : "";
	tl = r->out->len - r->a_start;
	while (tl > 0 && is_ws((unsigned char)*t))
		t++, tl--;
	if (hl == 0 || (tl == hl && strncasecmp(t, h, hl) == 0) ||
	    (str_has_prefix_ci(h, "mailto:") && tl == hl - 7 &&
	     strncasecmp(t, h + 7, tl) == 0))
		return;
	/* The URL cannot end the <...> early or break the line. */
	buf_init(&u, HT_URL_MAX * 3 + 8);
	for (i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"')
			buf_printf(&u, "%%%02X", c);
		else
			buf_addc(&u, c);
	}
	if (utf8_valid(buf_str(&u), u.len)) {
		if (tl == 0)
			rd_prepare(r);
		else
			r->space = 1, rd_prepare(r);
		rd_put(r, "<", 1);
		rd_put(r, buf_str(&u), u.len);
		rd_put(r, ">", 1);
	}
	buf_free(&u);
}

static int
hidden_tag(GumboTag t)
{
	switch (t) {
	case GUMBO_TAG_SCRIPT:
	case GUMBO_TAG_STYLE:
	case GUMBO_TAG_HEAD:
	case GUMBO_TAG_TITLE:
	case GUMBO_TAG_TEMPLATE:
	case GUMBO_TAG_NOSCRIPT:
	case GUMBO_TAG_IFRAME:
	case GUMBO_TAG_NOEMBED:
	case GUMBO_TAG_NOFRAMES:
	case GUMBO_TAG_SVG:
	case GUMBO_TAG_MATH:
	case GUMBO_TAG_SELECT:
		return 1;
	default:
		return 0;
	}
}

/* Line breaks around an element: 2 = blank line, 1 = new line.  A list
 * inside a list is not a paragraph of its own. */
static int
block_breaks(GumboTag t, int list)
{
	switch (t) {
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
		return list > 0 ? 1 : 2;
	case GUMBO_TAG_P:
	case GUMBO_TAG_H1:
	case GUMBO_TAG_H2:
	case GUMBO_TAG_H3:
	case GUMBO_TAG_H4:
	case GUMBO_TAG_H5:
	case GUMBO_TAG_H6:
	case GUMBO_TAG_BLOCKQUOTE:
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_XMP:
	case GUMBO_TAG_PLAINTEXT:
	case GUMBO_TAG_LISTING:
	case GUMBO_TAG_TABLE:
	case GUMBO_TAG_HR:
	case GUMBO_TAG_DL:
		return 2;
	case GUMBO_TAG_DIV:
	case GUMBO_TAG_LI:
	case GUMBO_TAG_TR:
	case GUMBO_TAG_DT:
	case GUMBO_TAG_DD:
	case GUMBO_TAG_ADDRESS:
	case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_ASIDE:
	case GUMBO_TAG_CAPTION:
	case GUMBO_TAG_CENTER:
	case GUMBO_TAG_DETAILS:
	case GUMBO_TAG_DIR:
	case GUMBO_TAG_FIELDSET:
	case GUMBO_TAG_FIGCAPTION:
	case GUMBO_TAG_FIGURE:
	case GUMBO_TAG_FOOTER:
	case GUMBO_TAG_FORM:
	case GUMBO_TAG_HEADER:
	case GUMBO_TAG_HGROUP:
	case GUMBO_TAG_MAIN:
	case GUMBO_TAG_MENU:
	case GUMBO_TAG_NAV:
	case GUMBO_TAG_SECTION:
	case GUMBO_TAG_SUMMARY:
	case GUMBO_TAG_TEXTAREA:
	case GUMBO_TAG_BODY:
		return 1;
	default:
		return 0;
	}
}

static void
rd_enter(struct rd *r, const GumboNode *n)
{
	GumboTag t = n->v.element.tag;
	GumboAttribute *href;
	const char *h;

	if (r->hidden || n->type == GUMBO_NODE_TEMPLATE || hidden_tag(t)) {
		r->hidden++;
		return;
	}
	rd_break(r, block_breaks(t, r->list));
	switch (t) {
	case GUMBO_TAG_BLOCKQUOTE:
		r->quote++;
		break;
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_XMP:
	case GUMBO_TAG_PLAINTEXT:
	case GUMBO_TAG_LISTING:
		r->pre++;
		break;
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
		r->list++;
		break;
	case GUMBO_TAG_LI:
		r->bullet = 1;
		if (r->nl < 1)
			r->nl = 1;
		break;
	case GUMBO_TAG_TD:
	case GUMBO_TAG_TH:
		r->space = 1; /* (dropped at the start of a line) */
		break;
	case GUMBO_TAG_A:
		href = gumbo_get_attribute(&n->v.element.attributes, "href");
		h = href ? href->value : "";
		while (is_ws((unsigned char)*h))
			h++;
		if (r->a_node == NULL && href_ok(h)) {
			r->a_node = n;
			r->a_href = h;
			r->a_start = r->out->len;
		}
		break;
	default:
		break;
	}
}

static void
rd_leave(struct rd *r, const GumboNode *n)
{
	GumboTag t = n->v.element.tag;

	if (r->hidden) {
		r->hidden--;
		return;
	}
	switch (t) {
	case GUMBO_TAG_BR:
		/* each <br> is one more line break (blank lines collapse) */
		r->nl++;
		break;
	case GUMBO_TAG_BLOCKQUOTE:
		r->quote--;
		break;
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_XMP:
	case GUMBO_TAG_PLAINTEXT:
	case GUMBO_TAG_LISTING:
		r->pre--;
		break;
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
		r->list--;
		break;
	case GUMBO_TAG_IMG:
		r->space = 1;
		break;
	default:
		break;
	}
	if (n == r->a_node)
		rd_link_end(r);
	rd_break(r, block_breaks(t, r->list));
}

static const GumboVector *
children(const GumboNode *n)
{
	switch (n->type) {
	case GUMBO_NODE_DOCUMENT:
		return &n->v.document.children;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		return &n->v.element.children;
	default:
		return NULL;
	}
}

static void
render(struct rd *r, const GumboNode *root)
{
	struct frame {
		const GumboNode *node;
		unsigned next;
	} *st = NULL;
	size_t cap = 0, depth = 0;

	st = xgrow(st, &cap, 1, sizeof(*st));
	st[depth].node = root;
	st[depth++].next = 0;
	while (depth > 0 && !r->full) {
		struct frame *f = &st[depth - 1];
		const GumboVector *ch = children(f->node);
		const GumboNode *c;

		if (ch == NULL || f->next >= ch->length) {
			if (f->node->type != GUMBO_NODE_DOCUMENT)
				rd_leave(r, f->node);
			depth--;
			continue;
		}
		c = ch->data[f->next++];
		switch (c->type) {
		case GUMBO_NODE_ELEMENT:
		case GUMBO_NODE_TEMPLATE:
			rd_enter(r, c);
			st = xgrow(st, &cap, depth + 1, sizeof(*st));
			st[depth].node = c;
			st[depth++].next = 0;
			break;
		case GUMBO_NODE_TEXT:
		case GUMBO_NODE_CDATA:
		case GUMBO_NODE_WHITESPACE:
			if (!r->hidden)
				rd_text(r, c->v.text.text);
			break;
		default: /* comments, and a document cannot be a child */
			break;
		}
	}
	free(st);
}

int
html_to_text(const char *html, size_t len, struct buf *out)
{
	GumboOptions opt = kGumboDefaultOptions;
	GumboOutput *g;
	struct buf clean = BUF_INIT;
	struct rd r;

	if (prefilter(html, len, &clean) < 0) {
		buf_free(&clean);
		return -1;
	}
	opt.max_errors = 0; /* we do not read them: do not keep them */
	g = gumbo_parse_with_options(&opt, buf_str(&clean), clean.len);
	if (g == NULL) {
		buf_free(&clean);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.out = out;
	r.base = out->len;
	r.bol = 1;
	render(&r, g->document);
	/* A final line break unless the cap cut the text (we append whole
	 * characters only, so a cut text is still valid UTF-8). */
	if (!r.full && out->len > r.base && r.trail_nl == 0)
		rd_newline(&r);
	gumbo_destroy_output(&opt, g);
	buf_free(&clean);
	return 0;
}
