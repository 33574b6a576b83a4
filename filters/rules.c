/*
 * rules.c - the rule files of the post pipeline: reads filters/rules/
 * *.rules (format in filters/rules/README), compiles every regex once, and
 * evaluates a set against a parsed message (rules.h).  Called by the
 * rules stage (filter_rules.c), by whoever loads the configuration, and
 * by the tests and the fuzz target.  PCRE2 stays in this file.
 *
 * Invariants:
 *  - A set is immutable after rules_load(): rules_eval() only reads it
 *    (match data is per call), so one set may serve every post.
 *  - A set either loads completely or not at all: one bad line anywhere
 *    fails the load, and every bad line is reported as "FILE:LINE: what",
 *    so that an administrator fixes all of them in one go and a half-read
 *    file never filters anything.
 *  - Patterns are compiled with PCRE2_UTF | PCRE2_UCP (and never \C), JIT
 *    compiled where the JIT is available (the interpreter otherwise).
 *    Every match call runs under one match context with match, depth and
 *    heap limits, on at most RULES_MAX_TEXT bytes: a hostile message
 *    meeting a careless pattern costs a bounded amount of time, and a rule
 *    that hits a limit stops the evaluation with -1 (the stage holds the
 *    post: a person looks, nothing is lost).
 *  - PCRE2 sees only valid UTF-8: each text is checked once and, if it is
 *    not valid, copied with every bad byte replaced by U+FFFD; then it is
 *    matched with PCRE2_NO_UTF_CHECK (no second scan per call).
 *  - Reasons and tags are one line of valid UTF-8 without control
 *    characters, sanitised when the file is read.
 *
 * Errors: load errors are returned (NULL and text in err), evaluation
 * limits are returned (-1).  Out-of-memory aborts (util.h).  Nothing here
 * logs.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "html_text.h"
#include "msg.h"
#include "rules.h"
#include "util.h"

#define RULES_MAX_TAG 64

enum target {
	T_HEADER,  /* header:NAME, each such field's decoded value */
	T_HEADERS, /* "Name: value\n" for every field */
	T_BODY,    /* text/plain and text/html (as text) parts */
	T_SUBJECT,
	T_FROM,       /* the From address */
	T_ATTACHMENT, /* each part's file name */
	T_TYPE,       /* each part's MIME type */
};

static const struct {
	const char *name;
	enum target t;
} targets[] = {
    {"headers", T_HEADERS},       {"body", T_BODY},
    {"subject", T_SUBJECT},       {"from", T_FROM},
    {"attachment", T_ATTACHMENT}, {"type", T_TYPE},
};

static const struct {
	const char *name;
	enum rules_action a;
} actions[] = {
    {"accept", RULES_ACCEPT},
    {"hold", RULES_HOLD},
    {"reject", RULES_REJECT},
    {"discard", RULES_DISCARD},
};

struct rule {
	enum target target;
	char *header; /* T_HEADER: the field name */
	pcre2_code *re;
	enum rules_action action; /* RULES_NONE: a tag rule */
	char *tag;                /* tag rules: the tag */
	char *reason;             /* NULL: "matched rule WHERE" */
	char where[128];          /* "BASENAME:LINE" */
};

struct rules {
	struct rule *v;
	size_t n, cap;
	pcre2_match_context *mc;
};

/* ---- text helpers ------------------------------------------------------- */

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* 1 if the n bytes are valid UTF-8 (NUL allowed: PCRE2 takes a length). */
static int
text_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_seq_len(u + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

/* The longest prefix of s no longer than max that does not end inside a
 * UTF-8 sequence (for valid text; any cut is fine for invalid text). */
static size_t
cut(const char *s, size_t n, size_t max)
{
	size_t k = 0;

	if (n <= max)
		return n;
	while (k < 3 && max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80) {
		max--;
		k++;
	}
	return max;
}

/*
 * Append s to b as valid UTF-8: bad bytes become U+FFFD, and with
 * one_line control characters (and DEL) become spaces.  Stops before
 * b->len would pass max (at a character boundary).
 */
static void
add_clean(struct buf *b, const char *s, size_t n, size_t max, int one_line)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		const char *add = s + i;

		if (u[i] < 0x80) {
			l = 1;
			if (one_line && (u[i] < 0x20 || u[i] == 0x7f))
				add = " ";
		} else if ((l = utf8_seq_len(u + i, n - i)) == 0) {
			l = 1;
			add = "\xef\xbf\xbd";
		}
		{
			size_t al = add == s + i ? l : strlen(add);

			if (b->len + al > max)
				break;
			buf_add(b, add, al);
		}
		i += l;
	}
}

/* Append at most max - b->len bytes of valid text s (whole characters). */
static void
add_capped(struct buf *b, const char *s, size_t n, size_t max)
{
	size_t room = b->len < max ? max - b->len : 0;

	n = cut(s, n, room);
	if (n)
		buf_add(b, s, n);
}

/* ---- errors ------------------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
bad(struct buf *err, const char *file, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	if (line)
		buf_printf(err, "%s:%zu: ", file, line);
	else
		buf_printf(err, "%s: ", file);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_addc(err, '\n');
	return -1;
}

/* A token from the file, quoted for an error message: at most 40 bytes,
 * printable, valid UTF-8 (tmp receives it). */
static const char *
quote(struct buf *tmp, const char *s, size_t n)
{
	buf_reset(tmp);
	add_clean(tmp, s, n, 40, 1);
	if (n > tmp->len)
		buf_adds(tmp, "...");
	return buf_str(tmp);
}

/* ---- loading ------------------------------------------------------------ */

static struct rules *
rules_new(void)
{
	struct rules *rs = xcalloc(1, sizeof(*rs));

	if ((rs->mc = pcre2_match_context_create(NULL)) == NULL)
		abort(); /* out of memory, as xmalloc */
	pcre2_set_match_limit(rs->mc, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mc, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(rs->mc, RULES_HEAP_LIMIT);
	return rs;
}

static void
rule_free(struct rule *r)
{
	pcre2_code_free(r->re);
	free(r->header);
	free(r->tag);
	free(r->reason);
}

void
rules_free(struct rules *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	pcre2_match_context_free(rs->mc);
	free(rs);
}

size_t
rules_count(const struct rules *rs)
{
	return rs ? rs->n : 0;
}

/* A field name (RFC 5322 2.2: printable ASCII but ':'). */
static int
field_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 256)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ||
		    s[i] == ':')
			return 0;
	return 1;
}

/* A tag: 1 to RULES_MAX_TAG bytes of UTF-8 without controls (spaces
 * cannot occur: the token ends at one). */
static int
tag_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > RULES_MAX_TAG || !text_valid(s, n))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * One line (without its LF) of file (for errors) whose base name is base
 * (for results).  Adds a rule to rs, or reports on err and returns -1.
 */
static int
parse_line(struct rules *rs, const char *file, const char *base, size_t lno,
           const char *s, size_t n, struct buf *err)
{
	const char *p = s, *e = s + n, *t, *pat, *a;
	struct buf q = BUF_INIT, rb = BUF_INIT;
	struct rule r;
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C;
	size_t i, tl, pl, al, off;
	int code, ret = -1;

	memset(&r, 0, sizeof(r));
	while (p < e && is_blank(*p))
		p++;
	while (e > p && (is_blank(e[-1]) || e[-1] == '\r'))
		e--;
	if (p == e || *p == '#')
		return 0;
	if (n > RULES_MAX_LINE) {
		bad(err, file, lno, "line longer than %d bytes",
		    RULES_MAX_LINE);
		goto out;
	}
	if (rs->n >= RULES_MAX_RULES) {
		bad(err, file, lno, "more than %d rules", RULES_MAX_RULES);
		goto out;
	}

	/* TARGET */
	for (t = p; p < e && !is_blank(*p); p++)
		;
	tl = (size_t)(p - t);
	if (tl >= 7 && strncasecmp(t, "header:", 7) == 0) {
		if (!field_name_ok(t + 7, tl - 7)) {
			bad(err, file, lno, "bad header name in '%s'",
			    quote(&q, t, tl));
			goto out;
		}
		r.target = T_HEADER;
		r.header = xstrndup(t + 7, tl - 7);
	} else {
		for (i = 0; i < ARRAY_SIZE(targets); i++)
			if (strlen(targets[i].name) == tl &&
			    strncasecmp(t, targets[i].name, tl) == 0)
				break;
		if (i == ARRAY_SIZE(targets)) {
			bad(err, file, lno, "unknown target '%s'",
			    quote(&q, t, tl));
			goto out;
		}
		r.target = targets[i].t;
	}

	/* /REGEX/FLAGS; "\/" stays in the pattern, where it is a '/' */
	while (p < e && is_blank(*p))
		p++;
	if (p == e || *p != '/') {
		bad(err, file, lno, "missing '/' before the regex");
		goto out;
	}
	for (pat = ++p; p < e && *p != '/'; p++)
		if (*p == '\\' && p + 1 < e)
			p++;
	if (p == e) {
		bad(err, file, lno, "missing '/' after the regex");
		goto out;
	}
	pl = (size_t)(p++ - pat);
	if (pl == 0) {
		bad(err, file, lno, "empty regex");
		goto out;
	}
	for (; p < e && !is_blank(*p); p++) {
		switch (*p) {
		case 'i':
			opts |= PCRE2_CASELESS;
			break;
		case 'm':
			opts |= PCRE2_MULTILINE;
			break;
		case 's':
			opts |= PCRE2_DOTALL;
			break;
		case 'x':
			opts |= PCRE2_EXTENDED;
			break;
		default:
			bad(err, file, lno, "unknown flag '%s' (i, m, s, x)",
			    quote(&q, p, 1));
			goto out;
		}
	}

	/* ACTION */
	while (p < e && is_blank(*p))
		p++;
	for (a = p; p < e && !is_blank(*p); p++)
		;
	al = (size_t)(p - a);
	if (al == 0) {
		bad(err, file, lno, "missing action");
		goto out;
	}
	if (al >= 4 && strncasecmp(a, "tag:", 4) == 0) {
		if (!tag_ok(a + 4, al - 4)) {
			bad(err, file, lno,
			    "bad tag in '%s' (1 to %d printable characters)",
			    quote(&q, a, al), RULES_MAX_TAG);
			goto out;
		}
		r.action = RULES_NONE;
		r.tag = xstrndup(a + 4, al - 4);
	} else {
		for (i = 0; i < ARRAY_SIZE(actions); i++)
			if (strlen(actions[i].name) == al &&
			    strncasecmp(a, actions[i].name, al) == 0)
				break;
		if (i == ARRAY_SIZE(actions)) {
			bad(err, file, lno,
			    "unknown action '%s' (accept, hold, reject, "
			    "discard, tag:TEXT)",
			    quote(&q, a, al));
			goto out;
		}
		r.action = actions[i].a;
	}

	/* reason: the rest of the line, one line, at most 255 bytes */
	while (p < e && is_blank(*p))
		p++;
	if (p < e) {
		add_clean(&rb, p, (size_t)(e - p),
		          sizeof(((struct rules_result *)0)->reason) - 1, 1);
		r.reason = buf_detach(&rb, NULL);
	}

	r.re = pcre2_compile((PCRE2_SPTR)pat, pl, opts, &code, &off, NULL);
	if (r.re == NULL) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strlcpy_((char *)msg, "unknown error", sizeof(msg));
		bad(err, file, lno, "bad regex at offset %zu: %s", off,
		    (const char *)msg);
		goto out;
	}
	/* Not available (or out of JIT memory): the interpreter runs it,
	 * under the same limits. */
	(void)pcre2_jit_compile(r.re, PCRE2_JIT_COMPLETE);
	snprintf(r.where, sizeof(r.where), "%.100s:%zu", base, lno);

	rs->v = xgrow(rs->v, &rs->cap, rs->n + 1, sizeof(*rs->v));
	rs->v[rs->n++] = r;
	memset(&r, 0, sizeof(r));
	ret = 0;
out:
	rule_free(&r);
	buf_free(&q);
	buf_free(&rb);
	return ret;
}

/* Parse one file's text into rs; the number of bad lines. */
static size_t
parse_text(struct rules *rs, const char *file, const char *text, size_t len,
           struct buf *err)
{
	const char *base = strrchr(file, '/'), *s = text, *e = text + len, *nl;
	size_t lno = 0, nbad = 0;

	base = base ? base + 1 : file;
	for (; s < e; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(e - s));
		if (nl == NULL)
			nl = e;
		if (parse_line(rs, file, base, ++lno, s, (size_t)(nl - s),
		               err) < 0)
			nbad++;
	}
	return nbad;
}

struct rules *
rules_parse_text(const char *name, const char *text, size_t len,
                 struct buf *err)
{
	struct rules *rs = rules_new();

	if (parse_text(rs, name, text ? text : "", text ? len : 0, err)) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

struct rules *
rules_load(const char *const *paths, size_t n, struct buf *err)
{
	struct rules *rs = rules_new();
	struct buf b;
	size_t i, nbad = 0;

	buf_init(&b, RULES_MAX_FILE);
	for (i = 0; i < n; i++) {
		if (read_file(paths[i], &b) < 0) {
			bad(err, paths[i], 0, "cannot read: %s",
			    errno == EFBIG ? "larger than 1 MiB"
			                   : strerror(errno));
			nbad++;
			continue;
		}
		nbad += parse_text(rs, paths[i], b.s, b.len, err);
	}
	buf_free(&b);
	if (nbad) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

/* ---- evaluation --------------------------------------------------------- */

struct ctx {
	const struct rules *rs;
	const struct msg *m;
	pcre2_match_data *md;
	struct buf tmp;     /* a text with bad UTF-8 replaced */
	struct buf body;    /* T_BODY, built on first use */
	struct buf headers; /* T_HEADERS, built on first use */
	int have_body, have_headers;
};

/* 1 if re matches the text, 0 if not, -1 if PCRE2 gave up. */
static int
match(struct ctx *c, const pcre2_code *re, const char *s, size_t n)
{
	int rc;

	n = cut(s, n, RULES_MAX_TEXT);
	if (!text_valid(s, n)) {
		buf_reset(&c->tmp);
		add_clean(&c->tmp, s, n, (size_t)-1, 0);
		s = buf_str(&c->tmp);
		n = c->tmp.len;
	}
	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, c->md,
	                 c->rs->mc);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static int
is_type(const char *t, const char *want)
{
	return t && strcasecmp(t, want) == 0;
}

static void
build_body(struct ctx *c)
{
	const struct msg *m = c->m;
	size_t i;

	c->have_body = 1;
	for (i = 0; i < m->n_parts && c->body.len < RULES_MAX_TEXT; i++) {
		const struct msg_part *p = &m->parts[i];

		if (!p->text || p->is_attachment)
			continue;
		if (is_type(p->type, "text/plain")) {
			if (c->body.len)
				add_capped(&c->body, "\n", 1, RULES_MAX_TEXT);
			add_capped(&c->body, p->text, p->text_len,
			           RULES_MAX_TEXT);
		} else if (is_type(p->type, "text/html")) {
			struct buf h;

			if (c->body.len)
				add_capped(&c->body, "\n", 1, RULES_MAX_TEXT);
			if (c->body.len >= RULES_MAX_TEXT)
				break;
			buf_init(&h, RULES_MAX_TEXT - c->body.len);
			if (html_to_text(p->text,
			                 p->text_len < RULES_MAX_HTML
			                     ? p->text_len
			                     : RULES_MAX_HTML,
			                 &h) == 0)
				add_capped(&c->body, buf_str(&h), h.len,
				           RULES_MAX_TEXT);
			buf_free(&h);
		}
	}
}

static void
build_headers(struct ctx *c)
{
	const struct msg *m = c->m;
	size_t i;

	c->have_headers = 1;
	for (i = 0; i < m->n_headers && c->headers.len < RULES_MAX_TEXT; i++) {
		const struct msg_header *h = &m->headers[i];
		const char *v = h->value ? h->value : "";

		add_capped(&c->headers, h->name ? h->name : "",
		           h->name ? strlen(h->name) : 0, RULES_MAX_TEXT);
		add_capped(&c->headers, ": ", 2, RULES_MAX_TEXT);
		add_capped(&c->headers, v, strlen(v), RULES_MAX_TEXT);
		add_capped(&c->headers, "\n", 1, RULES_MAX_TEXT);
	}
}

static int
str_match(struct ctx *c, const pcre2_code *re, const char *s)
{
	return match(c, re, s ? s : "", s ? strlen(s) : 0);
}

/* 1 if the rule matches any of its texts, 0 if none, -1 if PCRE2 gave
 * up on one (before any other matched). */
static int
rule_matches(struct ctx *c, const struct rule *r)
{
	const struct msg *m = c->m;
	size_t i;
	int hit = 0;

	switch (r->target) {
	case T_HEADER:
		for (i = 0; i < m->n_headers && !hit; i++)
			if (m->headers[i].name &&
			    filter_header_is(m->headers[i].name, r->header))
				hit = str_match(c, r->re, m->headers[i].value);
		return hit;
	case T_HEADERS:
		if (!c->have_headers)
			build_headers(c);
		return match(c, r->re, buf_str(&c->headers), c->headers.len);
	case T_BODY:
		if (!c->have_body)
			build_body(c);
		return match(c, r->re, buf_str(&c->body), c->body.len);
	case T_SUBJECT:
		return str_match(c, r->re, m->subject);
	case T_FROM:
		return str_match(c, r->re, m->from.addr);
	case T_ATTACHMENT:
		for (i = 0; i < m->n_parts && !hit; i++)
			if (m->parts[i].filename && *m->parts[i].filename)
				hit = str_match(c, r->re, m->parts[i].filename);
		return hit;
	case T_TYPE:
		for (i = 0; i < m->n_parts && !hit; i++)
			hit = str_match(c, r->re, m->parts[i].type);
		return hit;
	}
	return 0;
}

/* Add tag to the space-separated list, once; dropped if it does not fit. */
static void
add_tag(struct rules_result *out, const char *tag)
{
	size_t len = strlen(out->tags), tl = strlen(tag);
	const char *s = out->tags;

	while (*s) {
		size_t wl = strcspn(s, " ");

		if (wl == tl && memcmp(s, tag, tl) == 0)
			return;
		s += wl;
		while (*s == ' ')
			s++;
	}
	if (len + (len ? 1 : 0) + tl >= sizeof(out->tags))
		return;
	if (len)
		out->tags[len++] = ' ';
	memcpy(out->tags + len, tag, tl + 1);
}

int
rules_eval(const struct rules *rs, const struct msg *m,
           struct rules_result *out)
{
	struct ctx c;
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!rs || !m || rs->n == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.rs = rs;
	c.m = m;
	if ((c.md = pcre2_match_data_create(1, NULL)) == NULL)
		abort(); /* out of memory, as xmalloc */
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->v[i];
		int hit = rule_matches(&c, r);

		if (hit < 0) {
			strlcpy_(out->where, r->where, sizeof(out->where));
			strlcpy_(out->reason, "a rule could not finish",
			         sizeof(out->reason));
			ret = -1;
			break;
		}
		if (!hit)
			continue;
		if (r->action == RULES_NONE) {
			add_tag(out, r->tag);
			continue;
		}
		out->action = r->action;
		strlcpy_(out->where, r->where, sizeof(out->where));
		if (r->reason)
			strlcpy_(out->reason, r->reason, sizeof(out->reason));
		else
			snprintf(out->reason, sizeof(out->reason),
			         "matched rule %s", r->where);
		break;
	}
	pcre2_match_data_free(c.md);
	buf_free(&c.tmp);
	buf_free(&c.body);
	buf_free(&c.headers);
	return ret;
}

const char *
rules_action_name(enum rules_action a)
{
	switch (a) {
	case RULES_NONE:
		return "none";
	case RULES_ACCEPT:
		return "accept";
	case RULES_HOLD:
		return "hold";
	case RULES_REJECT:
		return "reject";
	case RULES_DISCARD:
		return "discard";
	}
	return "unknown";
}
