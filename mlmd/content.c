/*
 * content.c - the MIME content filter: removes parts by type and file
 * name, collapses multipart/alternative, turns HTML into plain text.
 *
 * Who calls it: the post pipeline, once per accepted post, before
 * decoration (so that the footer lands in what is left).
 *
 * How it works, and why:
 *  - The MIME tree is walked here, on the raw bytes, the way msg.c walks
 *    it (the same header splitting, delimiter rule, default types and
 *    descent into message/rfc822), so that the parts this filter judges
 *    are the parts the archive and the readers see.  The output is made
 *    from the raw bytes: an entity nothing was done to is copied byte for
 *    byte; a multipart with a removed or rewritten child keeps its header
 *    block, preamble, delimiters and epilogue byte for byte and only
 *    loses or replaces that child's segment.  msg_parse() is used only to
 *    decode an HTML part (transfer encoding and charset to UTF-8).
 *  - Every entity is judged, containers too: a type outside pass_types,
 *    a type in strip_types or a file name with a stripped ending removes
 *    it and all it holds.  A multipart whose children are all removed is
 *    removed; when the top-level entity goes, the result is "empty".
 *  - A multipart left with one child stays a multipart (readers show it
 *    as they show the child; flattening would mean rewriting the header
 *    block for no gain).  A removed part leaves no note part behind (as
 *    Mailman by default); the log line says what went.
 *  - collapse_alternative: the children of a multipart/alternative that
 *    the rules remove are removed (and counted); of the rest, the first
 *    text/plain child, else the first child, replaces the alternative:
 *    the alternative's header fields other than Content-* are kept, its
 *    Content-* fields are replaced by the child's.  The child is filtered
 *    first (so a chosen multipart/related loses its HTML to the HTML rule
 *    and its images to the type rules).
 *  - html_to_text: every text/html part (what is left after collapsing;
 *    in an alternative that is not collapsed, the HTML alternative too)
 *    becomes text/plain; charset=utf-8, 7bit when the text is ASCII with
 *    lines under 998 octets, quoted-printable otherwise.  Its other
 *    Content-* fields (disposition, file name, id) stay.
 *  - Signed and encrypted mail (multipart/signed, multipart/encrypted,
 *    application/pkcs7-mime at the top) is never changed: any change
 *    breaks the signature (RFC 1847, RFC 8551).  Nested inside other
 *    mail, such an entity is judged whole and never entered.
 *  - A multipart without a usable boundary parameter cannot be split, so
 *    its parts cannot be judged: -1 (the caller holds the post).  A
 *    missing close delimiter is read as msg.c reads it (the last part
 *    runs to the end); when such a multipart is rewritten, the close
 *    delimiter is added.
 *  - Output line ends follow the input's first line (CRLF or LF), as in
 *    decorate.c.  Limits are msg.c's: nesting 20, 1000 parts, 1000 header
 *    fields per part; input of at most 64 MiB.  Work is linear in the
 *    input per nesting level.
 *
 * Small helpers (line splitting, the lenient parameter parser, RFC 2231
 * parameter joining) are written again here: their counterparts in msg.c
 * and decorate.c are static.  quoted-printable comes from decorate.h.
 *
 * Standards: RFC 2045/2046 (MIME structure, delimiters, default types,
 * transfer encodings), RFC 2047 (encoded file names), RFC 2183
 * (Content-Disposition), RFC 2231 (parameter continuations and charsets),
 * RFC 1847 (signed and encrypted multiparts).
 *
 * Errors: content_filter() returns -1 with one line in err for MIME it
 * cannot rewrite safely or a limit passed; nothing is fatal.  Out of
 * memory aborts (xmalloc).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "content.h"
#include "mime_param.h"
#include "decorate.h"
#include "html_text.h"
#include "msg.h"
#include "util.h"

#define MAX_BOUNDARY   200   /* as msg.c */
#define MAX_SEGMENTS   64    /* RFC 2231 continuations followed */
#define MAX_ENTITIES   10000 /* entities looked at, empty containers too */
#define NOTE_NAME_MAX  64    /* bytes of a file name in the note */

/* ---- small helpers ---------------------------------------------------- */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t
line_end(const char *p, size_t n, size_t pos)
{
	const char *e = memchr(p + pos, '\n', n - pos);

	return e != NULL ? (size_t)(e - p) : n;
}

static size_t
next_line(size_t e, size_t n)
{
	return e < n ? e + 1 : n;
}

/* ---- the filter's state ----------------------------------------------- */

struct ctx {
	const struct content_opts *o;
	const char *nl;
	struct buf *err;
	size_t n_leaves, n_entities;
	int removed, collapsed, converted;
	int full;          /* a buffer append failed: output too large */
	struct buf rmnote; /* "type name; type name" of removed parts */
};

static int __attribute__((format(printf, 2, 3)))
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err->len == 0) {
		va_start(ap, fmt);
		buf_vprintf(c->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
put(struct ctx *c, struct buf *b, const char *p, size_t n)
{
	if (n > 0 && buf_add(b, p, n) < 0)
		c->full = 1;
}

static void
puts_(struct ctx *c, struct buf *b, const char *s)
{
	put(c, b, s, strlen(s));
}

static void __attribute__((format(printf, 3, 4)))
putf(struct ctx *c, struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) < 0)
		c->full = 1;
	va_end(ap);
}

/* ---- header blocks ---------------------------------------------------- */

struct fld {
	size_t start, end;   /* the whole field, line breaks included */
	size_t nlen;         /* name length from start */
	size_t vstart, vend; /* the raw value: leading white space and the
	                      * final line break out, folds kept */
};

struct hdr {
	struct fld *f;
	size_t n, cap;
	size_t body; /* where the body starts */
};

/*
 * Split the header block of p[s..e) as msg.c's hdr_next() does: a blank
 * line ends it, a line that is not a field starts the body (as Python's
 * email parser), continuation lines with no field before them are
 * skipped.  -1 past max_headers fields.
 */
static int
hdr_split(struct ctx *c, const char *p, size_t s, size_t e, struct hdr *h)
{
	size_t i = s;

	h->n = 0;
	for (;;) {
		size_t le, k, end;
		struct fld *f;

		if (i >= e) {
			h->body = e;
			return 0;
		}
		le = line_end(p, e, i);
		if (le == i || (le == i + 1 && p[i] == '\r')) {
			h->body = next_line(le, e);
			return 0;
		}
		if (p[i] == ' ' || p[i] == '\t') {
			i = next_line(le, e);
			continue;
		}
		for (k = i;
		     k < le && p[k] != ':' && (unsigned char)p[k] > ' ' &&
		     (unsigned char)p[k] < 127;
		     k++)
			;
		if (k == i) {
			h->body = i;
			return 0;
		}
		{
			size_t nlen = k - i;

			while (k < le && (p[k] == ' ' || p[k] == '\t'))
				k++;
			if (k >= le || p[k] != ':') {
				h->body = i;
				return 0;
			}
			if (h->n >= msg_default_limits.max_headers)
				return fail(c,
				            "a MIME part has more than %zu "
				            "header fields",
				            msg_default_limits.max_headers);
			h->f = xgrow(h->f, &h->cap, h->n + 1, sizeof(*h->f));
			f = &h->f[h->n++];
			f->start = i;
			f->nlen = nlen;
		}
		end = le;
		while (end < e && end + 1 < e &&
		       (p[end + 1] == ' ' || p[end + 1] == '\t'))
			end = line_end(p, e, end + 1);
		f->end = next_line(end, e);
		if (end > k + 1 && p[end - 1] == '\r')
			end--;
		k++;
		while (k < end && is_wsp(p[k]))
			k++;
		f->vstart = k;
		f->vend = end > k ? end : k;
		i = f->end;
	}
}

static int
fld_is(const char *p, const struct fld *f, const char *name)
{
	return strlen(name) == f->nlen &&
	       strncasecmp(p + f->start, name, f->nlen) == 0;
}

static int
fld_content(const char *p, const struct fld *f)
{
	return f->nlen >= 8 && strncasecmp(p + f->start, "content-", 8) == 0;
}

/* Copy a field byte for byte; a last field with no line end gets one. */
static void
copy_field(struct ctx *c, const char *p, const struct fld *f, struct buf *o)
{
	put(c, o, p + f->start, f->end - f->start);
	if (f->end == f->start || p[f->end - 1] != '\n')
		puts_(c, o, c->nl);
}

/* ---- Content-Type / Content-Disposition parameters: mime_param.h ---- */

/* Past "charset'lang'" of an RFC 2231 extended value (0 if absent). */
static size_t
ext_skip(const char *v, size_t n)
{
	const char *q1 = memchr(v, '\'', n), *q2;

	if (q1 == NULL)
		return 0;
	q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v));
	return q2 != NULL ? (size_t)(q2 + 1 - v) : 0;
}

/*
 * The bytes of parameter base ("filename", "name") into out: RFC 2231
 * extended or continued, else plain with RFC 2047 words decoded.  The
 * charset of an extended value is not converted: only the ending is
 * compared, and it is ASCII.  Returns 1 if the parameter is there.
 */
static int
param_name(const struct mime_params *ps, const char *base, struct buf *out)
{
	char nm[MIME_PARAM_NAME_MAX + 8];
	const char *v;
	size_t vl, k;

	snprintf(nm, sizeof(nm), "%s*", base);
	if ((v = mime_param(ps, nm, &vl)) != NULL) {
		k = ext_skip(v, vl);
		mime_pct_decode(v + k, vl - k, out);
		return 1;
	}
	snprintf(nm, sizeof(nm), "%s*0*", base);
	if (mime_param(ps, nm, &vl) == NULL)
		snprintf(nm, sizeof(nm), "%s*0", base);
	if (mime_param(ps, nm, &vl) != NULL) {
		struct buf raw = BUF_INIT;
		int ext = 0;

		for (k = 0; k < MAX_SEGMENTS; k++) {
			snprintf(nm, sizeof(nm), "%s*%zu*", base, k);
			if ((v = mime_param(ps, nm, &vl)) != NULL) {
				size_t off = k == 0 ? ext_skip(v, vl) : 0;

				ext = 1;
				mime_pct_decode(v + off, vl - off, &raw);
				continue;
			}
			snprintf(nm, sizeof(nm), "%s*%zu", base, k);
			if ((v = mime_param(ps, nm, &vl)) == NULL)
				break;
			buf_add(&raw, v, vl);
		}
		if (ext)
			buf_add(out, raw.s, raw.len);
		else
			msg_decode_header(buf_str(&raw), raw.len, out);
		buf_free(&raw);
		return 1;
	}
	if ((v = mime_param(ps, base, &vl)) != NULL) {
		msg_decode_header(v, vl, out);
		return 1;
	}
	return 0;
}

/*
 * A name as a reader's file system would end it: control characters
 * (C0, DEL, C1), bidi controls and zero-width characters taken out, then
 * trailing dots and white space (Windows ignores them: "a.exe." runs).
 */
static void
name_clean(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, e;

	while (i < n) {
		if (u[i] < 0x20 || u[i] == 0x7f) {
			i++;
		} else if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		           u[i + 1] < 0xa0) {
			i += 2;
		} else if (u[i] == 0xe2 && i + 2 < n && u[i + 1] == 0x80 &&
		           ((u[i + 2] >= 0x8b && u[i + 2] <= 0x8f) ||
		            (u[i + 2] >= 0xaa && u[i + 2] <= 0xae))) {
			i += 3; /* ZWSP..RLM, LRE..RLO */
		} else if (u[i] == 0xe2 && i + 2 < n && u[i + 1] == 0x81 &&
		           (u[i + 2] == 0xa0 ||
		            (u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9))) {
			i += 3; /* word joiner, bidi isolates */
		} else if (u[i] == 0xef && i + 2 < n && u[i + 1] == 0xbb &&
		           u[i + 2] == 0xbf) {
			i += 3; /* zero-width no-break space */
		} else {
			buf_addc(out, s[i]);
			i++;
		}
	}
	e = out->len;
	while (e > 0 && (out->s[e - 1] == '.' || out->s[e - 1] == ' '))
		e--;
	buf_truncate(out, e);
}

static int
ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);

	return l > 0 && l <= n && strncasecmp(s + n - l, suffix, l) == 0;
}

/* ---- entities --------------------------------------------------------- */

/* Where an entity is: a part, the message itself, or a message inside a
 * message/rfc822 part (a header block of its own, but no mbox line). */
enum { T_PART, T_TOP, T_MSG };

struct ent {
	size_t pre;   /* first byte (an mbox "From " line at the top) */
	size_t start; /* first byte of the header block */
	size_t end;
	struct hdr h;
	const struct fld *ct, *cte, *cd, *mv;
	struct mime_params ctp, cdp;
	char type[128];               /* as msg.c sees it, lower case */
	int encoded;                  /* base64 or quoted-printable */
	char name[NOTE_NAME_MAX + 1]; /* file name, printable, for the note */
	int bad_name;                 /* the file name has a stripped ending */
};

/* A well-formed "type/subtype" (token characters around one slash). */
static int
type_ok(const char *t)
{
	const char *slash = strchr(t, '/');
	size_t i;

	if (slash == NULL || slash == t || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return 0;
	for (i = 0; t[i] != '\0'; i++)
		if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 127 ||
		    strchr("()<>@,;:\\\"[]?=", t[i]) != NULL)
			return 0;
	return 1;
}

static int
cte_encoded(const char *v, size_t n)
{
	while (n > 0 && is_wsp(*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_wsp(v[n - 1]))
		n--;
	return (n == 6 && strncasecmp(v, "base64", 6) == 0) ||
	       (n == 16 && strncasecmp(v, "quoted-printable", 16) == 0);
}

/* Judge one file name candidate; remember the first for the note. */
static void
ent_name(const struct ctx *c, struct ent *e, const struct buf *raw)
{
	struct buf nm = BUF_INIT;
	const char *const *x;
	size_t i, k = strlen(e->name);

	name_clean(buf_str(raw), raw->len, &nm);
	if (k == 0)
		for (i = 0; i < nm.len && k < NOTE_NAME_MAX; i++) {
			unsigned char ch = (unsigned char)nm.s[i];

			e->name[k++] = ch > ' ' && ch < 127 ? (char)ch : '_';
		}
	e->name[k] = '\0';
	for (x = c->o->strip_extensions; x && *x; x++)
		if (ends_with_ci(buf_str(&nm), nm.len, *x))
			e->bad_name = 1;
	buf_free(&nm);
}

static void
ent_free(struct ent *e)
{
	free(e->h.f);
	buf_free(&e->ctp.store);
	buf_free(&e->cdp.store);
}

/*
 * Read the entity p[start..end): header block, type (deftype if there is
 * no Content-Type; text/plain if it is unreadable, as msg.c), file names.
 * At the top an mbox "From " line is skipped as msg_parse() skips it.
 */
static int
ent_parse(struct ctx *c, const char *p, size_t start, size_t end,
          const char *deftype, int top, struct ent *e)
{
	struct buf nm = BUF_INIT;
	size_t i;

	memset(e, 0, sizeof(*e));
	e->pre = e->start = start;
	e->end = end;
	if (++c->n_entities > MAX_ENTITIES)
		return fail(c, "message has more than %d MIME entities",
		            MAX_ENTITIES);
	if (top == T_TOP && end - start >= 5 &&
	    memcmp(p + start, "From ", 5) == 0) {
		size_t k = start + 5;

		while (k < end && (p[k] == ' ' || p[k] == '\t'))
			k++;
		if (k < end && p[k] != ':')
			e->start = next_line(line_end(p, end, start), end);
	}
	if (hdr_split(c, p, e->start, end, &e->h) < 0)
		return -1;
	for (i = 0; i < e->h.n; i++) {
		const struct fld *f = &e->h.f[i];

		if (!e->ct && fld_is(p, f, "content-type"))
			e->ct = f;
		else if (!e->cte && fld_is(p, f, "content-transfer-encoding"))
			e->cte = f;
		else if (!e->cd && fld_is(p, f, "content-disposition"))
			e->cd = f;
		else if (!e->mv && fld_is(p, f, "mime-version"))
			e->mv = f;
	}
	if (e->ct)
		mime_params_parse(p + e->ct->vstart, e->ct->vend - e->ct->vstart,
		             &e->ctp);
	else
		mime_params_parse("", 0, &e->ctp);
	if (e->cd)
		mime_params_parse(p + e->cd->vstart, e->cd->vend - e->cd->vstart,
		             &e->cdp);
	else
		mime_params_parse("", 0, &e->cdp);
	if (e->ct == NULL)
		strlcpy_(e->type, deftype, sizeof(e->type));
	else if (type_ok(e->ctp.value))
		strlcpy_(e->type, e->ctp.value, sizeof(e->type));
	else
		strlcpy_(e->type, "text/plain", sizeof(e->type));
	e->encoded =
	    e->cte != NULL &&
	    cte_encoded(p + e->cte->vstart, e->cte->vend - e->cte->vstart);
	if (e->cd && param_name(&e->cdp, "filename", &nm))
		ent_name(c, e, &nm);
	buf_reset(&nm);
	if (e->ct && param_name(&e->ctp, "name", &nm))
		ent_name(c, e, &nm);
	buf_free(&nm);
	return 0;
}

/* Does type t match one of the patterns? */
static int
type_in(const char *t, const char *const *pats)
{
	const char *slash = strchr(t, '/');
	size_t ml = slash ? (size_t)(slash - t) : strlen(t);

	for (; *pats; pats++) {
		const char *q = *pats;
		size_t l = strlen(q);

		if (strcmp(q, "*") == 0 || strcmp(q, "*/*") == 0)
			return 1;
		if (strcasecmp(q, t) == 0)
			return 1;
		if (l >= 2 && strcmp(q + l - 2, "/*") == 0)
			l -= 2;
		else if (strchr(q, '/') != NULL)
			continue;
		if (l == ml && strncasecmp(q, t, l) == 0)
			return 1;
	}
	return 0;
}

/* 1 (and the removal noted) if the rules remove the entity. */
static int
ent_removed(struct ctx *c, const struct ent *e)
{
	const struct content_opts *o = c->o;

	if (!((o->pass_types && !type_in(e->type, o->pass_types)) ||
	      (o->strip_types && type_in(e->type, o->strip_types)) ||
	      e->bad_name))
		return 0;
	c->removed++;
	if (c->rmnote.len > 0)
		buf_adds(&c->rmnote, "; ");
	buf_adds(&c->rmnote, e->type);
	if (e->name[0])
		buf_printf(&c->rmnote, " %s", e->name);
	return 1;
}

static int
sealed(const char *t)
{
	return strcmp(t, "multipart/signed") == 0 ||
	       strcmp(t, "multipart/encrypted") == 0 ||
	       strcmp(t, "application/pkcs7-mime") == 0 ||
	       strcmp(t, "application/x-pkcs7-mime") == 0;
}

/* ---- multipart delimiters --------------------------------------------- */

/* 1 for "--bd" (white space may follow), 2 for "--bd--", else 0. */
static int
delimiter(const char *p, size_t ls, size_t le, const char *bd, size_t bl)
{
	size_t i;

	if (le - ls < 2 + bl || p[ls] != '-' || p[ls + 1] != '-' ||
	    memcmp(p + ls + 2, bd, bl) != 0)
		return 0;
	i = ls + 2 + bl;
	if (i + 2 <= le && p[i] == '-' && p[i + 1] == '-')
		return 2;
	for (; i < le; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

struct child {
	size_t dstart;       /* its delimiter line */
	size_t cstart, cend; /* the child entity (the line break before the
	                      * next delimiter belongs to that delimiter) */
	size_t next;         /* the next delimiter line, or the end */
};

struct mp_iter {
	const char *p, *bd;
	size_t pos, end, bl;
	size_t part_start, dstart;
	size_t close; /* the close delimiter line, or (size_t)-1 */
	int in_part, done;
};

static void
mp_init(struct mp_iter *it, const char *p, size_t body, size_t end,
        const char *bd, size_t bl)
{
	memset(it, 0, sizeof(*it));
	it->p = p;
	it->pos = body;
	it->end = end;
	it->bd = bd;
	it->bl = bl;
	it->close = (size_t)-1;
}

/* The next child, as msg.c's multipart() finds them: 1, or 0 at the end. */
static int
mp_next(struct mp_iter *it, struct child *ch)
{
	const char *p = it->p;

	while (!it->done && it->pos < it->end) {
		size_t pos = it->pos, le = line_end(p, it->end, pos);
		int d =
		    p[pos] == '-' ? delimiter(p, pos, le, it->bd, it->bl) : 0;
		int had = it->in_part;

		it->pos = next_line(le, it->end);
		if (d == 0)
			continue;
		if (had) {
			size_t pe = pos;

			if (pe > it->part_start && p[pe - 1] == '\n')
				pe--;
			if (pe > it->part_start && p[pe - 1] == '\r')
				pe--;
			ch->dstart = it->dstart;
			ch->cstart = it->part_start;
			ch->cend = pe;
			ch->next = pos;
		}
		if (d == 2) {
			it->close = pos;
			it->done = 1;
			it->in_part = 0;
		} else {
			it->in_part = 1;
			it->part_start = it->pos;
			it->dstart = pos;
		}
		if (had)
			return 1;
	}
	if (!it->done && it->in_part) {
		it->done = 1;
		it->in_part = 0;
		ch->dstart = it->dstart;
		ch->cstart = it->part_start;
		ch->cend = ch->next = it->end;
		return 1;
	}
	it->done = 1;
	return 0;
}

/* ---- the walk --------------------------------------------------------- */

enum st { ST_SAME, ST_CHANGED, ST_REMOVED };

static int walk(struct ctx *c, const char *p, size_t start, size_t end,
                size_t depth, const char *deftype, int top, struct buf *out,
                enum st *st);

/*
 * Replace entity e (of default type deftype) by the child entity in
 * chp[0..n): e's fields but its Content-* ones, byte for byte, then the
 * child's Content-* fields (its other fields go) and body.
 */
static int
promote(struct ctx *c, const char *p, const struct ent *e, const char *chp,
        size_t n, const char *deftype, int top, struct buf *out)
{
	struct hdr h = {NULL, 0, 0, 0};
	int has_ct = 0;
	size_t i;

	if (hdr_split(c, chp, 0, n, &h) < 0)
		return -1;
	put(c, out, p + e->pre, e->start - e->pre);
	for (i = 0; i < e->h.n; i++)
		if (!fld_content(p, &e->h.f[i]))
			copy_field(c, p, &e->h.f[i], out);
	for (i = 0; i < h.n; i++)
		if (fld_content(chp, &h.f[i])) {
			copy_field(c, chp, &h.f[i], out);
			has_ct |= fld_is(chp, &h.f[i], "content-type");
		}
	if (!has_ct && strcmp(deftype, "text/plain") != 0)
		putf(c, out, "Content-Type: text/plain%s", c->nl);
	puts_(c, out, c->nl);
	put(c, out, chp + h.body, n - h.body);
	/* The line break before a delimiter belonged to the delimiter: at
	 * the top, where none follows, the body ends with one of its own. */
	if (top == T_TOP && n > h.body && chp[n - 1] != '\n')
		puts_(c, out, c->nl);
	free(h.f);
	return 0;
}

/* The alternatives of e, collapsed to one. */
static int
collapse(struct ctx *c, const char *p, const struct ent *e, const char *bd,
         size_t bl, size_t depth, const char *deftype, int top, struct buf *out,
         enum st *st)
{
	struct mp_iter it;
	struct child ch, *cand = NULL;
	size_t n = 0, cap = 0, kids = 0, i;
	int *plain = NULL, pass, rc = -1;
	struct buf cb = BUF_INIT;

	mp_init(&it, p, e->h.body, e->end, bd, bl);
	while (mp_next(&it, &ch)) {
		struct ent ce;
		int gone;

		if (ch.cstart == ch.cend)
			continue;
		kids++;
		if (depth + 1 > msg_default_limits.max_depth) {
			fail(c, "MIME parts are nested more than %zu deep",
			     msg_default_limits.max_depth);
			goto out;
		}
		if (ent_parse(c, p, ch.cstart, ch.cend, "text/plain", T_PART,
		              &ce) < 0) {
			ent_free(&ce);
			goto out;
		}
		gone = ent_removed(c, &ce);
		if (!gone) {
			cand = xgrow(cand, &cap, n + 1, sizeof(*cand));
			plain = xrealloc(plain, cap * sizeof(*plain));
			cand[n] = ch;
			plain[n++] = strcmp(ce.type, "text/plain") == 0;
		}
		ent_free(&ce);
	}
	if (kids == 0) {
		/* No part found (no delimiter matches): nothing to choose,
		 * the entity stays as it is, as multipart() keeps it. */
		*st = ST_SAME;
		put(c, out, p + e->pre, e->end - e->pre);
		rc = 0;
		goto out;
	}
	*st = ST_REMOVED;
	for (pass = 1; pass >= 0 && *st == ST_REMOVED; pass--)
		for (i = 0; i < n; i++) {
			enum st cst;

			if (plain[i] != pass)
				continue;
			buf_reset(&cb);
			if (walk(c, p, cand[i].cstart, cand[i].cend, depth + 1,
			         "text/plain", T_PART, &cb, &cst) < 0)
				goto out;
			if (cst == ST_REMOVED)
				continue;
			if (promote(c, p, e, buf_str(&cb), cb.len, deftype, top,
			            out) < 0)
				goto out;
			c->collapsed++;
			*st = ST_CHANGED;
			break;
		}
	rc = 0;
out:
	free(cand);
	free(plain);
	buf_free(&cb);
	return rc;
}

/* The children of multipart e, filtered one by one. */
static int
multipart(struct ctx *c, const char *p, const struct ent *e, const char *bd,
          size_t bl, size_t depth, struct buf *out, enum st *st)
{
	const char *cdef = strcmp(e->type, "multipart/digest") == 0
	                       ? "message/rfc822"
	                       : "text/plain";
	struct mp_iter it;
	struct child ch;
	struct buf nb = BUF_INIT, cb = BUF_INIT;
	size_t pos = e->pre, kept = 0;
	int changed = 0, last_removed = 0, rc = -1;

	mp_init(&it, p, e->h.body, e->end, bd, bl);
	while (mp_next(&it, &ch)) {
		enum st cst;

		if (ch.cstart == ch.cend)
			continue;
		buf_reset(&cb);
		if (walk(c, p, ch.cstart, ch.cend, depth + 1, cdef, T_PART, &cb,
		         &cst) < 0)
			goto out;
		last_removed = cst == ST_REMOVED;
		if (cst == ST_REMOVED) {
			put(c, &nb, p + pos, ch.dstart - pos);
			pos = ch.next;
			changed = 1;
			continue;
		}
		kept++;
		if (cst == ST_CHANGED) {
			put(c, &nb, p + pos, ch.cstart - pos);
			put(c, &nb, cb.s, cb.len);
			pos = ch.cend;
			changed = 1;
		}
	}
	if (!changed) {
		*st = ST_SAME;
		put(c, out, p + e->pre, e->end - e->pre);
	} else if (kept == 0) {
		*st = ST_REMOVED;
	} else {
		*st = ST_CHANGED;
		put(c, &nb, p + pos, e->end - pos);
		if (it.close == (size_t)-1) {
			if (!last_removed || pos < e->end)
				puts_(c, &nb, c->nl);
			/* put, not "%.*s": the boundary may hold a NUL. */
			puts_(c, &nb, "--");
			put(c, &nb, bd, bl);
			putf(c, &nb, "--%s", c->nl);
		}
		put(c, out, nb.s, nb.len);
	}
	rc = 0;
out:
	buf_free(&nb);
	buf_free(&cb);
	return rc;
}

/* The text of an HTML entity as a text/plain; charset=utf-8 entity. */
static int
html_part(struct ctx *c, const char *p, const struct ent *e, int top,
          struct buf *out, enum st *st)
{
	struct msg *m = NULL;
	struct buf t = BUF_INIT, merr = BUF_INIT;
	size_t i, col = 0;
	int ascii = 1, rc = -1;

	if (msg_parse(p + e->pre, e->end - e->pre, &msg_default_limits, &m,
	              &merr) < 0) {
		fail(c, "%s", buf_str(&merr));
		goto out;
	}
	if (m->n_parts < 1 || m->parts[0].text == NULL ||
	    strcmp(m->parts[0].type, "text/html") != 0) {
		/* msg.c reads it otherwise: leave it as it is. */
		*st = ST_SAME;
		put(c, out, p + e->pre, e->end - e->pre);
		rc = 0;
		goto out;
	}
	if (html_to_text(m->parts[0].text, m->parts[0].text_len, &t) < 0) {
		fail(c, "an HTML part cannot be turned into text");
		goto out;
	}
	if (t.len > 0 && t.s[t.len - 1] != '\n')
		buf_addc(&t, '\n');
	for (i = 0; i < t.len; i++) {
		unsigned char ch = (unsigned char)t.s[i];

		if (ch >= 0x80 || ch == '\0' || ch == '\r')
			ascii = 0;
		col = ch == '\n' ? 0 : col + 1;
		if (col > 990)
			ascii = 0;
	}
	put(c, out, p + e->pre, e->start - e->pre);
	for (i = 0; i < e->h.n; i++)
		if (!fld_is(p, &e->h.f[i], "content-type") &&
		    !fld_is(p, &e->h.f[i], "content-transfer-encoding"))
			copy_field(c, p, &e->h.f[i], out);
	if (top != T_PART && e->mv == NULL)
		putf(c, out, "MIME-Version: 1.0%s", c->nl);
	putf(c, out, "Content-Type: text/plain; charset=utf-8%s", c->nl);
	putf(c, out, "Content-Transfer-Encoding: %s%s",
	     ascii ? "7bit" : "quoted-printable", c->nl);
	puts_(c, out, c->nl);
	if (!ascii) {
		if (mime_qp_encode(t.s, t.len, c->nl, out) < 0)
			c->full = 1;
	} else {
		for (i = 0; i < t.len; i++)
			if (t.s[i] == '\n')
				puts_(c, out, c->nl);
			else
				put(c, out, t.s + i, 1);
	}
	c->converted++;
	*st = ST_CHANGED;
	rc = 0;
out:
	msg_free(m);
	buf_free(&t);
	buf_free(&merr);
	return rc;
}

/*
 * Filter the entity p[start..end) (default type deftype) into out: a
 * byte copy (ST_SAME), a new entity (ST_CHANGED), or nothing
 * (ST_REMOVED).  -1 with c->err set for what cannot be filtered.
 */
static int
walk(struct ctx *c, const char *p, size_t start, size_t end, size_t depth,
     const char *deftype, int top, struct buf *out, enum st *st)
{
	struct ent e;
	int rc = -1;

	*st = ST_SAME;
	if (start == end && top != T_TOP)
		return 0;
	if (depth > msg_default_limits.max_depth)
		return fail(c, "MIME parts are nested more than %zu deep",
		            msg_default_limits.max_depth);
	if (ent_parse(c, p, start, end, deftype, top, &e) < 0)
		goto out;
	if (ent_removed(c, &e)) {
		*st = ST_REMOVED;
		rc = 0;
		goto out;
	}
	if (strncmp(e.type, "multipart/", 10) == 0 && !sealed(e.type)) {
		size_t bl;
		const char *bd = mime_param(&e.ctp, "boundary", &bl);

		if (bd == NULL || bl == 0 || bl > MAX_BOUNDARY) {
			fail(c, "%s without a usable boundary parameter",
			     e.type);
			goto out;
		}
		if (c->o->collapse_alternative &&
		    strcmp(e.type, "multipart/alternative") == 0)
			rc = collapse(c, p, &e, bd, bl, depth, deftype, top,
			              out, st);
		else
			rc = multipart(c, p, &e, bd, bl, depth, out, st);
		goto out;
	}
	if ((strcmp(e.type, "message/rfc822") == 0 ||
	     strcmp(e.type, "message/global") == 0) &&
	    !e.encoded) {
		struct buf ib = BUF_INIT;
		enum st ist;

		rc = walk(c, p, e.h.body, e.end, depth + 1, "text/plain", T_MSG,
		          &ib, &ist);
		if (rc == 0 && ist == ST_CHANGED) {
			put(c, out, p + e.pre, e.h.body - e.pre);
			put(c, out, ib.s, ib.len);
		} else if (rc == 0 && ist == ST_SAME) {
			put(c, out, p + e.pre, e.end - e.pre);
		}
		*st = ist;
		buf_free(&ib);
		goto out;
	}
	if (!sealed(e.type) && ++c->n_leaves > msg_default_limits.max_parts) {
		fail(c, "message has more than %zu MIME parts",
		     msg_default_limits.max_parts);
		goto out;
	}
	if (c->o->html_to_text && strcmp(e.type, "text/html") == 0) {
		rc = html_part(c, p, &e, top, out, st);
		goto out;
	}
	put(c, out, p + e.pre, e.end - e.pre);
	rc = 0;
out:
	ent_free(&e);
	return rc;
}

/* ---- the entry point -------------------------------------------------- */

/* ", what" or ", N whats" (what is "multipart/alternative" ...). */
static void
note_count(struct buf *n, const char *verb, int k, const char *what,
           const char *tail)
{
	if (n->len > 0)
		buf_adds(n, ", ");
	if (k == 1)
		buf_printf(n, "%s %s%s", verb, what, tail);
	else
		buf_printf(n, "%s %d %s parts%s", verb, k, what, tail);
}

/* res->note from the counts: one line, cut at a character boundary. */
static void
make_note(const struct ctx *c, const char *sealed_type, int empty,
          struct content_result *res)
{
	struct buf n = BUF_INIT;
	size_t l;

	if (sealed_type)
		buf_printf(&n, "%s message left unchanged", sealed_type);
	if (c->removed > 0 && n.len > 0)
		buf_adds(&n, ", ");
	if (c->removed > 0)
		buf_printf(&n, "removed %d part%s (%s)", c->removed,
		           c->removed == 1 ? "" : "s", buf_str(&c->rmnote));
	if (c->collapsed > 0)
		note_count(&n, "collapsed", c->collapsed,
		           "multipart/alternative", "");
	if (c->converted > 0)
		note_count(&n, "converted", c->converted, "text/html",
		           " to text/plain");
	if (empty)
		buf_adds(&n, ": nothing is left");
	l = n.len;
	if (l >= sizeof(res->note)) {
		l = sizeof(res->note) - 1;
		while (l > 0 && ((unsigned char)n.s[l] & 0xc0) == 0x80)
			l--;
	}
	if (l > 0)
		memcpy(res->note, n.s, l);
	res->note[l] = '\0';
	buf_free(&n);
}

int
content_filter(const char *raw, size_t len, const struct content_opts *o,
               struct buf *out, struct content_result *res, struct buf *err)
{
	struct ctx c;
	struct ent top;
	struct buf o2 = BUF_INIT;
	const char *sealed_type = NULL;
	enum st st = ST_SAME;
	size_t e, out0 = out->len;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	memset(&top, 0, sizeof(top));
	if (raw == NULL || len == 0)
		raw = "";
	c.o = o;
	c.err = err;
	buf_init(&c.rmnote, 4096);
	if (len > msg_default_limits.max_size) {
		fail(&c, "message is %zu bytes; the limit is %zu bytes", len,
		     msg_default_limits.max_size);
		goto done;
	}
	e = line_end(raw, len, 0);
	c.nl = e > 0 && e < len && raw[e - 1] == '\r' ? "\r\n" : "\n";

	if (!o->pass_types && !o->strip_types && !o->strip_extensions &&
	    !o->collapse_alternative && !o->html_to_text) {
		rc = 0;
		goto copy;
	}
	if (ent_parse(&c, raw, 0, len, "text/plain", T_TOP, &top) < 0)
		goto done;
	if (sealed(top.type)) {
		sealed_type = top.type;
		rc = 0;
		goto copy;
	}
	c.n_entities = 0;
	buf_init(&o2, 0);
	if (walk(&c, raw, 0, len, 0, "text/plain", T_TOP, &o2, &st) < 0)
		goto done;
	if (c.full) {
		fail(&c, "the filtered message is too large");
		goto done;
	}
	rc = 0;
	if (st == ST_REMOVED) {
		res->empty = 1;
		goto copy;
	}
	if (st == ST_SAME)
		goto copy;
	if (buf_add(out, o2.s, o2.len) < 0) {
		fail(&c, "the filtered message does not fit the output buffer");
		rc = -1;
		goto done;
	}
	res->changed = o2.len != len || memcmp(o2.s, raw, len) != 0;
	goto done;
copy:
	if (len > 0 && buf_add(out, raw, len) < 0) {
		fail(&c, "the message does not fit the output buffer");
		rc = -1;
	}
done:
	if (rc == 0) {
		res->removed = c.removed;
		make_note(&c, sealed_type, res->empty, res);
	} else {
		memset(res, 0, sizeof(*res));
		buf_truncate(out, out0);
		if (err->len == 0)
			buf_adds(err, "content filter failed");
	}
	ent_free(&top);
	buf_free(&o2);
	buf_free(&c.rmnote);
	return rc;
}
