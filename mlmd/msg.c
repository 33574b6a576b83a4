/*
 * msg.c - the message model: parses one RFC 5322 / MIME message into the
 * types of msg.h.  This file and msg_charset.c are the only users of
 * libetpan in mlmd.
 *
 * Who calls it: the dispatcher (parse once per incoming message), the
 * archive importer, filters and commands through the struct msg they get.
 *
 * How it works, and why:
 *  - The header block is split here, on the raw bytes, so that the header
 *    count and length limits are checked before any library sees them,
 *    and so that every field is kept in order with its raw value.
 *  - The MIME structure is walked here too, not with mailmime_parse(): it
 *    recurses once per nesting level with no limit (a 10,000-deep message
 *    would exhaust the stack) and builds the whole tree before we could
 *    count parts.  Our walk recurses at most max_depth (capped at
 *    MSG_HARD_DEPTH) levels, scans each nesting level's bytes once
 *    (O(size x depth)) and stops at the first limit it passes.  It also
 *    avoids mailimf_fields_parse(), which leaks on malformed headers.
 *  - libetpan does what it does well: one mailbox at a time
 *    (mailimf_mailbox_parse; address lists are split here, because
 *    mailimf_address_list_parse stops at the first bad entry and is
 *    quadratic on some hostile fields), dates (mailimf_date_time_parse),
 *    base64 / quoted-printable (mailmime_part_parse) and charset
 *    conversion (charconv, in msg_charset.c).
 *  - Message-IDs, In-Reply-To and References are scanned for <...> here:
 *    libetpan drops a whole References field when one id in it is
 *    malformed (research/libs.md section 2).
 *
 * Invariants: every string in a struct msg is valid UTF-8 without NUL,
 * except the bytes as received (msg.raw, msg_header.raw, msg_part.body);
 * filenames are never paths; all strings are non-NULL except
 * msg_part.text for non-text parts.
 *
 * Standards: RFC 5322 (header fields, addresses, dates), RFC 2045/2046
 * (MIME structure, transfer encodings, multipart, message/rfc822, digest
 * defaults), RFC 2047 (via msg_decode_header), RFC 2183 (Content-
 * Disposition), RFC 2231 (parameter continuations and charsets), RFC 6532
 * (message/global is descended like message/rfc822).
 *
 * Errors: msg_parse() returns -1 only when a limit is passed, with one line
 * in err.  Malformed input is read leniently.  Out of memory aborts (xmalloc).
 */
#include "config.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "mime_param.h"
#include "msg.h"
#include "msg_charset.h"
#include "util.h"

/* Recursion bound whatever max_depth the caller asks for. */
#define MSG_HARD_DEPTH 100
/* RFC 2046 allows 70; some mailers go further. */
#define MAX_BOUNDARY 200
/* RFC 2231 continuations followed per parameter. */
#define MAX_SEGMENTS 64
/* Mailboxes read per message (From, Sender, To, Cc, Reply-To together);
 * the rest are ignored. */
#define MAX_MAILBOXES 10000
/* Longer "mailboxes" are not given to libetpan (see parse_addresses). */
#define MAX_MAILBOX_LEN 1024
/* Bytes of a sanitised filename (common file system limit). */
#define FILENAME_LEN 255

const struct msg_limits msg_default_limits = {
    .max_size = (size_t)64 << 20,
    .max_headers = 1000,
    .max_header_len = (size_t)64 << 10,
    .max_depth = 20,
    .max_parts = 1000,
};

struct ctx {
	struct msg *m;
	const struct msg_limits *lim;
	struct buf *err;
	size_t max_depth;
	size_t parts_cap;
};

static int __attribute__((format(printf, 2, 3)))
limit_error(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL) {
		va_start(ap, fmt);
		buf_vprintf(c->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- header fields ----------------------------------------------------- */

struct field {
	const char *name; /* the field name, without the colon */
	size_t nlen;
	const char *val; /* raw value: leading white space and the final
	                  * line break removed, folds kept */
	size_t vlen;
	size_t ulen; /* whole field unfolded, without line breaks */
};

/* Index of the '\n' ending the line at pos, or n. */
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

/*
 * Read the header field at p[*pos].  Returns 1 with f filled and *pos past
 * it, or 0 at the end of the header block: *pos is then past the blank
 * line, or at the first line that is not a field (the body starts there,
 * as in Python's email parser), or at n.
 */
static int
hdr_next(const char *p, size_t n, size_t *pos, struct field *f)
{
	size_t i = *pos, e, k, v, end;

	for (;;) {
		if (i >= n) {
			*pos = n;
			return 0;
		}
		e = line_end(p, n, i);
		if (e == i || (e == i + 1 && p[i] == '\r')) {
			*pos = next_line(e, n);
			return 0;
		}
		/* A continuation line with no field before it is skipped. */
		if (p[i] != ' ' && p[i] != '\t')
			break;
		i = next_line(e, n);
	}
	for (k = i; k < e && p[k] != ':' && (unsigned char)p[k] > ' ' &&
	            (unsigned char)p[k] < 127;
	     k++)
		;
	f->name = p + i;
	f->nlen = k - i;
	while (k < e && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (f->nlen == 0 || k >= e || p[k] != ':') {
		*pos = i;
		return 0;
	}
	v = k + 1;
	f->ulen = e - i - (e > i && p[e - 1] == '\r');
	end = e;
	while (end < n && end + 1 < n &&
	       (p[end + 1] == ' ' || p[end + 1] == '\t')) {
		size_t s = end + 1, e2 = line_end(p, n, s);

		f->ulen += e2 - s - (p[e2 - 1] == '\r');
		end = e2;
	}
	*pos = next_line(end, n);
	if (end > v && p[end - 1] == '\r')
		end--;
	while (v < end && is_wsp(p[v]))
		v++;
	f->val = p + v;
	f->vlen = end > v ? end - v : 0;
	return 1;
}

static int
name_is(const struct field *f, const char *name)
{
	return strlen(name) == f->nlen &&
	       strncasecmp(f->name, name, f->nlen) == 0;
}

static char *
decode_value(const char *raw, size_t len)
{
	struct buf b = BUF_INIT;

	msg_decode_header(raw, len, &b);
	return buf_detach(&b, NULL);
}

static int
top_headers(struct ctx *c, size_t start)
{
	struct msg *m = c->m;
	size_t pos = start, count = 0, cap = 0;
	struct field f;

	while (hdr_next(m->raw, m->raw_len, &pos, &f)) {
		struct msg_header *h;

		count++;
		if (f.ulen > c->lim->max_header_len)
			return limit_error(c,
			                   "header field %.*s is %zu bytes "
			                   "long; the limit is %zu bytes",
			                   (int)(f.nlen > 64 ? 64 : f.nlen),
			                   f.name, f.ulen,
			                   c->lim->max_header_len);
		if (count > c->lim->max_headers)
			continue; /* go on counting, for the message */
		m->headers = xgrow(m->headers, &cap, m->n_headers + 1,
		                   sizeof(*m->headers));
		h = &m->headers[m->n_headers++];
		h->name = xstrndup(f.name, f.nlen);
		h->raw = xstrndup(f.val, f.vlen);
		h->value = decode_value(f.val, f.vlen);
	}
	if (count > c->lim->max_headers)
		return limit_error(c,
		                   "message has %zu header fields; the limit "
		                   "is %zu",
		                   count, c->lim->max_headers);
	m->header_len = pos;
	return 0;
}

const char *
msg_header(const struct msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

const char *
msg_header_raw(const struct msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].raw;
	return NULL;
}

/* Split an RFC 2231 extended value "charset'lang'data": charset into cs,
 * returns where data starts. */
static size_t
ext_charset(const char *v, size_t n, char *cs, size_t cssz)
{
	const char *q1 = memchr(v, '\'', n), *q2;
	size_t l;

	cs[0] = '\0';
	if (q1 == NULL)
		return 0;
	q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v));
	if (q2 == NULL)
		return 0;
	l = (size_t)(q1 - v);
	if (l < cssz) {
		memcpy(cs, v, l);
		cs[l] = '\0';
	}
	return (size_t)(q2 + 1 - v);
}

/*
 * Append the text of parameter base (e.g. "filename") as UTF-8: RFC 2231
 * extended ("base*"), continued ("base*0", "base*0*", ...), or plain, in
 * which case RFC 2047 words and raw 8-bit bytes are decoded too (what
 * Outlook and Thunderbird send).  Returns 1 if the parameter is there.
 */
static int
param_text(const struct mime_params *ps, const char *base, struct buf *out)
{
	char nm[MIME_PARAM_NAME_MAX + 8], cs[64] = "";
	struct buf raw = BUF_INIT;
	const char *v;
	size_t vl, k, off;

	snprintf(nm, sizeof(nm), "%s*", base);
	if ((v = mime_param(ps, nm, &vl)) != NULL) {
		off = ext_charset(v, vl, cs, sizeof(cs));
		mime_pct_decode(v + off, vl - off, &raw);
		cs_add(out, cs, raw.s, raw.len, CS_HDR);
		buf_free(&raw);
		return 1;
	}
	snprintf(nm, sizeof(nm), "%s*0*", base);
	if ((v = mime_param(ps, nm, &vl)) != NULL ||
	    (snprintf(nm, sizeof(nm), "%s*0", base),
	     (v = mime_param(ps, nm, &vl)) != NULL)) {
		int ext = 0;

		for (k = 0; k < MAX_SEGMENTS; k++) {
			snprintf(nm, sizeof(nm), "%s*%zu*", base, k);
			if ((v = mime_param(ps, nm, &vl)) != NULL) {
				off = 0;
				if (k == 0) {
					off =
					    ext_charset(v, vl, cs, sizeof(cs));
					ext = 1;
				}
				mime_pct_decode(v + off, vl - off, &raw);
				continue;
			}
			snprintf(nm, sizeof(nm), "%s*%zu", base, k);
			if ((v = mime_param(ps, nm, &vl)) == NULL)
				break;
			buf_add(&raw, v, vl);
		}
		if (ext)
			cs_add(out, cs, raw.s, raw.len, CS_HDR);
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

/* ---- parts --------------------------------------------------------------- */

/*
 * Make a decoded name safe to use anywhere a file name might end up: the
 * last path component only, no control or bidi-override characters, no
 * leading dots or spaces, at most FILENAME_LEN bytes.
 */
static char *
filename_sanitise(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	const unsigned char *u;
	size_t i, start = 0, end;

	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\\')
			start = i + 1;
	for (i = start; i < n && (s[i] == '.' || s[i] == ' '); i++)
		;
	if (i == n) /* nothing after the last separator: keep it all */
		start = 0;
	u = (const unsigned char *)s;
	for (i = start; i < n;) {
		size_t l = u[i] < 0x80 ? 1 : cs_utf8_seq(u + i, n - i);

		if (l == 0) { /* cannot happen: input is UTF-8 already */
			i++;
			continue;
		}
		if (u[i] < 0x20 || u[i] == 0x7f)
			; /* control */
		else if (l == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)
			; /* C1 control */
		else if (l == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 &&
		         (u[i + 2] == 0x8e || u[i + 2] == 0x8f ||
		          (u[i + 2] >= 0xaa && u[i + 2] <= 0xae)))
			; /* LRM, RLM, bidi embeddings and overrides */
		else if (l == 3 && u[i] == 0xe2 && u[i + 1] == 0x81 &&
		         u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)
			; /* bidi isolates */
		else if (u[i] == '/' || u[i] == '\\')
			buf_addc(&b, '_');
		else if (b.len == 0 && (u[i] == '.' || u[i] == ' '))
			; /* no hidden files, no "..", no leading space */
		else if (b.len + l <= FILENAME_LEN)
			buf_add(&b, s + i, l);
		i += l;
	}
	end = b.len;
	while (end > 0 && b.s[end - 1] == ' ')
		end--;
	buf_truncate(&b, end);
	return buf_detach(&b, NULL);
}

/* The charset parameter as stored: lower case, printable ASCII only. */
static char *
charset_name(const struct mime_params *ct)
{
	char out[64];
	const char *v;
	size_t vl, i, j = 0;

	if ((v = mime_param(ct, "charset", &vl)) == NULL)
		return xstrdup("");
	for (i = 0; i < vl && j + 1 < sizeof(out); i++)
		if (v[i] > ' ' && v[i] < 127 && v[i] != '"')
			out[j++] = lower(v[i]);
	out[j] = '\0';
	return xstrdup(out);
}

static int
cte_mechanism(const char *v, size_t n)
{
	while (n > 0 && is_wsp(*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_wsp(v[n - 1]))
		n--;
	if (n == 6 && strncasecmp(v, "base64", 6) == 0)
		return MAILMIME_MECHANISM_BASE64;
	if (n == 16 && strncasecmp(v, "quoted-printable", 16) == 0)
		return MAILMIME_MECHANISM_QUOTED_PRINTABLE;
	return MAILMIME_MECHANISM_8BIT;
}

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

struct entity_hdrs {
	const char *ct, *cte, *cd; /* raw values or NULL */
	size_t ctl, ctel, cdl;
};

/* Types whose content is text for people or for the bounce and feedback
 * parsers. */
static int
is_text(const char *type)
{
	static const char *const reports[] = {
	    "message/delivery-status", "message/global-delivery-status",
	    "message/disposition-notification", "message/feedback-report"};
	size_t i;

	if (strncmp(type, "text/", 5) == 0)
		return 1;
	for (i = 0; i < ARRAY_SIZE(reports); i++)
		if (strcmp(type, reports[i]) == 0)
			return 1;
	return 0;
}

static int
add_leaf(struct ctx *c, const char *type, const struct mime_params *ct,
         const struct mime_params *cd, const struct entity_hdrs *eh,
         const char *body, size_t blen, size_t depth)
{
	struct msg *m = c->m;
	struct msg_part *part;
	struct buf name = BUF_INIT;
	char *dec = NULL;
	const char *data = body;
	size_t dlen = blen, idx = 0;
	int mech;

	if (m->n_parts >= c->lim->max_parts)
		return limit_error(c,
		                   "message has more than %zu MIME parts; the "
		                   "limit is %zu",
		                   c->lim->max_parts, c->lim->max_parts);
	m->parts =
	    xgrow(m->parts, &c->parts_cap, m->n_parts + 1, sizeof(*m->parts));
	part = &m->parts[m->n_parts++];
	memset(part, 0, sizeof(*part));
	part->type = xstrdup(type);
	part->charset = ct != NULL ? charset_name(ct) : xstrdup("");
	part->depth = (int)depth;

	buf_init(&name, 4096);
	if (!(cd != NULL && param_text(cd, "filename", &name)) && ct != NULL)
		param_text(ct, "name", &name);
	part->filename = filename_sanitise(buf_str(&name), name.len);
	buf_free(&name);
	part->is_attachment =
	    (cd != NULL && strcmp(cd->value, "attachment") == 0) ||
	    part->filename[0] != '\0';

	mech = eh->cte != NULL ? cte_mechanism(eh->cte, eh->ctel)
	                       : MAILMIME_MECHANISM_8BIT;
	if (mech != MAILMIME_MECHANISM_8BIT && blen > 0 &&
	    mailmime_part_parse(body, blen, &idx, mech, &dec, &dlen) ==
	        MAILIMF_NO_ERROR &&
	    dec != NULL) {
		data = dec;
	} else {
		dec = NULL;
		dlen = blen;
	}
	part->size = dlen;
	part->encoding = mech;
	part->body = body;
	part->body_len = blen;
	if (is_text(type)) {
		struct buf t = BUF_INIT;

		cs_add(&t, part->charset, data, dlen, CS_TEXT);
		part->text = buf_detach(&t, &part->text_len);
	}
	if (dec != NULL)
		mmap_string_unref(dec);
	return 0;
}

static int entity(struct ctx *c, size_t start, size_t end, size_t depth,
                  const char *deftype, int top);

/*
 * Is the line p[ls..le) a delimiter for boundary bd?  1 for "--bd", 2 for
 * the close delimiter "--bd--", 0 otherwise.  Only white space may follow
 * (RFC 2046 section 5.1.1), so that "--bd" does not match "--bdX".
 */
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

static int
multipart(struct ctx *c, const char *subtype, const char *bd, size_t bl,
          size_t body, size_t end, size_t depth)
{
	const char *p = c->m->raw;
	const char *child_type =
	    strcmp(subtype, "digest") == 0 ? "message/rfc822" : "text/plain";
	size_t pos = body, part_start = 0, n_children = 0;
	int in_part = 0;

	while (pos < end) {
		size_t le = line_end(p, end, pos);
		int d = p[pos] == '-' ? delimiter(p, pos, le, bd, bl) : 0;

		if (d != 0) {
			if (in_part) {
				size_t pe = pos;

				/* The line break before a delimiter is part
				 * of the delimiter. */
				if (pe > part_start && p[pe - 1] == '\n')
					pe--;
				if (pe > part_start && p[pe - 1] == '\r')
					pe--;
				n_children++;
				if (entity(c, part_start, pe, depth + 1,
				           child_type, 0) < 0)
					return -1;
			}
			if (d == 2) {
				in_part = 0;
				break;
			}
			in_part = 1;
			part_start = next_line(le, end);
		}
		pos = next_line(le, end);
	}
	if (in_part) { /* no close delimiter: the part runs to the end */
		n_children++;
		if (entity(c, part_start, end, depth + 1, child_type, 0) < 0)
			return -1;
	}
	/* No delimiter at all: keep the text, if there is any. */
	while (body < end && is_wsp(p[body]))
		body++;
	if (n_children == 0 && body < end)
		return add_leaf(c, "text/plain", NULL, NULL,
		                &(struct entity_hdrs){0}, p + body, end - body,
		                depth);
	return 0;
}

/*
 * One MIME entity in raw[start..end): its header fields (the top-level
 * ones are already in m->headers), then its body, which is a leaf, a
 * multipart to split, or an encapsulated message to descend into.
 */
static int
entity(struct ctx *c, size_t start, size_t end, size_t depth,
       const char *deftype, int top)
{
	struct msg *m = c->m;
	struct entity_hdrs eh = {0};
	struct mime_params ct, cd;
	const char *type = deftype;
	size_t body = start;
	int rc;

	/* Nothing at all between two delimiters, or an encapsulated message
	 * with no content: no part (a reader would show nothing). */
	if (start == end && !top)
		return 0;
	if (depth > c->max_depth)
		return limit_error(c,
		                   "MIME parts are nested more than %zu deep; "
		                   "the limit is %zu",
		                   c->max_depth, c->max_depth);
	if (top) {
		size_t i;

		for (i = 0; i < m->n_headers; i++) {
			const struct msg_header *h = &m->headers[i];

			if (eh.ct == NULL &&
			    strcasecmp(h->name, "content-type") == 0) {
				eh.ct = h->raw;
				eh.ctl = strlen(h->raw);
			} else if (eh.cte == NULL &&
			           strcasecmp(h->name,
			                      "content-transfer-encoding") ==
			               0) {
				eh.cte = h->raw;
				eh.ctel = strlen(h->raw);
			} else if (eh.cd == NULL &&
			           strcasecmp(h->name, "content-disposition") ==
			               0) {
				eh.cd = h->raw;
				eh.cdl = strlen(h->raw);
			}
		}
	} else {
		const char *p = m->raw + start;
		size_t pos = 0, count = 0, n = end - start;
		struct field f;

		while (hdr_next(p, n, &pos, &f)) {
			if (++count > c->lim->max_headers)
				return limit_error(c,
				                   "a MIME part has more than "
				                   "%zu header fields; the "
				                   "limit is %zu",
				                   c->lim->max_headers,
				                   c->lim->max_headers);
			if (f.ulen > c->lim->max_header_len)
				return limit_error(
				    c,
				    "header field %.*s in a MIME part is "
				    "%zu bytes long; the limit is %zu "
				    "bytes",
				    (int)(f.nlen > 64 ? 64 : f.nlen), f.name,
				    f.ulen, c->lim->max_header_len);
			if (eh.ct == NULL && name_is(&f, "content-type")) {
				eh.ct = f.val;
				eh.ctl = f.vlen;
			} else if (eh.cte == NULL &&
			           name_is(&f, "content-transfer-encoding")) {
				eh.cte = f.val;
				eh.ctel = f.vlen;
			} else if (eh.cd == NULL &&
			           name_is(&f, "content-disposition")) {
				eh.cd = f.val;
				eh.cdl = f.vlen;
			}
		}
		body = start + pos;
	}

	mime_params_parse(eh.ct != NULL ? eh.ct : "", eh.ctl, &ct);
	mime_params_parse(eh.cd != NULL ? eh.cd : "", eh.cdl, &cd);
	if (eh.ct != NULL)
		type = type_ok(ct.value) ? ct.value : "text/plain";

	if (strncmp(type, "multipart/", 10) == 0) {
		size_t bl;
		const char *bd = mime_param(&ct, "boundary", &bl);

		if (bd != NULL && bl > 0 && bl <= MAX_BOUNDARY)
			rc = multipart(c, type + 10, bd, bl, body, end, depth);
		else /* no boundary: read the body as text (as Python) */
			rc = add_leaf(c, "text/plain", &ct, eh.cd ? &cd : NULL,
			              &eh, m->raw + body, end - body, depth);
	} else if ((strcmp(type, "message/rfc822") == 0 ||
	            strcmp(type, "message/global") == 0) &&
	           (eh.cte == NULL || cte_mechanism(eh.cte, eh.ctel) ==
	                                  MAILMIME_MECHANISM_8BIT)) {
		rc = entity(c, body, end, depth + 1, "text/plain", 0);
	} else {
		rc = add_leaf(c, type, eh.ct ? &ct : NULL, eh.cd ? &cd : NULL,
		              &eh, m->raw + body, end - body, depth);
	}
	mime_params_free(&ct);
	mime_params_free(&cd);
	return rc;
}

/* ---- addresses ----------------------------------------------------------- */

/*
 * The normalised form of an address (what addr_normalise() in addr.c
 * gives; kept here so that msg builds and tests alone): white space and
 * <> removed, lower case, one '@' with text either side, no control,
 * space or structural characters, valid UTF-8, at most ADDR_MAX bytes.
 * "" if it is not a plausible address.
 */
static char *
addr_norm(const char *s, size_t n)
{
	char out[ADDR_MAX + 1];
	const char *at = NULL;
	size_t i;

	while (n > 0 && is_wsp(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	if (n > 0 && *s == '<') {
		s++;
		n--;
	}
	if (n > 0 && s[n - 1] == '>')
		n--;
	if (n == 0 || n > ADDR_MAX || !cs_utf8_valid(s, n))
		return xstrdup("");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f || strchr("<>,;()\\", ch) != NULL)
			return xstrdup("");
		if (ch == '@')
			at = s + i;
		out[i] = lower((char)ch);
	}
	out[n] = '\0';
	if (at == NULL || at == s || at == s + n - 1)
		return xstrdup("");
	return xstrdup(out);
}

/* A display name from libetpan: outer quotes removed, RFC 2047 decoded. */
static char *
display_name(const char *s)
{
	struct buf b = BUF_INIT, q = BUF_INIT;
	size_t n, i;

	if (s == NULL)
		return xstrdup("");
	n = strlen(s);
	while (n > 0 && is_wsp(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		for (i = 1; i + 1 < n; i++) {
			if (s[i] == '\\' && i + 2 < n)
				i++;
			buf_addc(&q, s[i]);
		}
		s = buf_str(&q);
		n = q.len;
	}
	msg_decode_header(s, n, &b);
	buf_free(&q);
	return buf_detach(&b, NULL);
}

struct alist {
	struct msg_address *a;
	size_t n, cap;
};

/*
 * When libetpan cannot read a mailbox, take what looks like one: the last
 * <...> (the text before it is the name), else a word with an '@'.
 * "MAILER-DAEMON <>" gives the name and an empty address; text with no
 * address at all becomes the name.
 */
static void
addr_fallback(const char *raw, struct msg_address *a)
{
	const char *lt = strrchr(raw, '<'), *gt;
	size_t n = strlen(raw), i, s;

	a->name = a->addr = NULL;
	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		struct buf nm = BUF_INIT;

		buf_add(&nm, raw, (size_t)(lt - raw));
		a->name = display_name(buf_str(&nm));
		buf_free(&nm);
		a->addr = addr_norm(lt + 1, (size_t)(gt - lt - 1));
		if (a->addr[0] != '\0')
			return;
		free(a->addr);
		a->addr = NULL;
	}
	for (i = 0; i < n && a->addr == NULL; i = s + 1) {
		s = i;
		while (s < n && !is_wsp(raw[s]))
			s++;
		if (memchr(raw + i, '@', s - i) != NULL) {
			a->addr = addr_norm(raw + i, s - i);
			if (a->addr[0] == '\0') {
				free(a->addr);
				a->addr = NULL;
			}
		}
	}
	if (a->addr == NULL)
		a->addr = xstrdup("");
	if (a->name == NULL)
		a->name =
		    a->addr[0] != '\0' ? xstrdup("") : decode_value(raw, n);
}

/* One mailbox, raw[0..n) with nothing else in it. */
static void
one_mailbox(const char *raw, size_t n, struct alist *l, size_t *budget)
{
	struct mailimf_mailbox *mb = NULL;
	struct msg_address *a;
	size_t idx = 0;

	while (n > 0 && is_wsp(*raw)) {
		raw++;
		n--;
	}
	while (n > 0 && is_wsp(raw[n - 1]))
		n--;
	if (n == 0 || *budget == 0)
		return;
	(*budget)--;
	l->a = xgrow(l->a, &l->cap, l->n + 1, sizeof(*l->a));
	a = &l->a[l->n++];
	a->name = a->addr = NULL;
	if (n <= MAX_MAILBOX_LEN &&
	    mailimf_mailbox_parse(raw, n, &idx, &mb) == MAILIMF_NO_ERROR &&
	    mb != NULL) {
		a->addr = addr_norm(mb->mb_addr_spec, strlen(mb->mb_addr_spec));
		if (a->addr[0] != '\0') {
			a->name = display_name(mb->mb_display_name);
		} else {
			free(a->addr);
			a->addr = NULL;
		}
		mailimf_mailbox_free(mb);
	}
	if (a->addr == NULL) {
		struct buf copy = BUF_INIT;

		/* A whole address inside an encoded word (seen from broken
		 * senders): read what it decodes to. */
		if (memmem(raw, n, "=?", 2) != NULL)
			msg_decode_header(raw, n, &copy);
		else
			buf_add(&copy, raw, n);
		addr_fallback(buf_str(&copy), a);
		buf_free(&copy);
	}
}

/*
 * Every mailbox of an address list.  The list is split here at the commas
 * and semicolons that are outside quotes, comments and <> (group names,
 * "team:", are dropped), and each piece goes to libetpan alone: its list
 * parser stops at the first thing it cannot read ("a@b,,c@d" gives only
 * a@b) and takes time quadratic in the length of some hostile fields.
 * Pieces longer than MAX_MAILBOX_LEN and all pieces past the message's
 * *budget of mailboxes are not given to libetpan.
 */
static void
parse_addresses(const char *raw, struct alist *l, int first_only,
                size_t *budget)
{
	size_t len = strlen(raw), i, s = 0;
	int quote = 0, comment = 0, angle = 0, at = 0, text = 0;

	for (i = 0; i < len; i++) {
		char c = raw[i];

		if (quote || comment) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (quote && c == '"')
				quote = 0;
			else if (comment && c == '(')
				comment++;
			else if (comment && c == ')')
				comment--;
			continue;
		}
		if (c == '"') {
			quote = 1;
		} else if (c == '(') {
			comment = 1;
		} else if (c == '<' || c == '[') {
			angle = 1;
		} else if (c == '>' || c == ']') {
			angle = 0;
		} else if (c == '@') {
			at = 1;
		} else if (c == ':' && !angle) {
			s = i + 1; /* "group name:" */
			at = text = 0;
			continue;
		} else if ((c == ',' || c == ';') && !angle) {
			/* "Doe, John <j@d>" (unquoted comma): a piece with
			 * text but no '@' belongs to the next one. */
			if (c == ',' && text && !at)
				continue;
			one_mailbox(raw + s, i - s, l, budget);
			if (first_only && l->n > 0)
				return;
			s = i + 1;
			at = text = 0;
			continue;
		}
		if (!is_wsp(c))
			text = 1;
	}
	one_mailbox(raw + s, len - s, l, budget);
}

static void
first_mailbox(const char *raw, struct msg_address *out, size_t *budget)
{
	struct alist l = {0};
	size_t i;

	/* The first mailbox with an address, else the first one. */
	if (raw != NULL)
		parse_addresses(raw, &l, 1, budget);
	if (l.n > 0 && l.a[0].addr[0] == '\0' && raw != NULL)
		parse_addresses(raw, &l, 0, budget);
	for (i = 0; i < l.n && l.a[i].addr[0] == '\0'; i++)
		;
	if (l.n > 0) {
		size_t pick = i < l.n ? i : 0;

		*out = l.a[pick];
		for (i = 0; i < l.n; i++)
			if (i != pick) {
				free(l.a[i].name);
				free(l.a[i].addr);
			}
	} else {
		out->name = xstrdup("");
		out->addr = xstrdup("");
	}
	free(l.a);
}

static void
all_mailboxes(const struct msg *m, const char *name, struct msg_address **a,
              size_t *n, size_t *budget)
{
	struct alist l = {0};
	size_t i;

	for (i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			parse_addresses(m->headers[i].raw, &l, 0, budget);
	*a = l.a;
	*n = l.n;
}

/* ---- ids and dates ------------------------------------------------------- */

static void
id_add(char ***ids, size_t *n, size_t *cap, const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) /* folds and stray spaces inside an id */
		if (!is_wsp(s[i]))
			break;
	if (i == len)
		return;
	{
		struct buf t = BUF_INIT;

		for (i = 0; i < len; i++)
			if (!is_wsp(s[i]))
				buf_addc(&t, s[i]);
		cs_add_8bit(&b, t.s, t.len, CS_HDR);
		buf_free(&t);
	}
	*ids = xgrow(*ids, cap, *n + 1, sizeof(**ids));
	(*ids)[(*n)++] = buf_detach(&b, NULL);
}

/*
 * The message ids in a Message-ID, In-Reply-To or References value: every
 * <...> in order (so "garbage <a@x> <broken" still gives a@x), or, if
 * there are none, every word with an '@' (ids sent without brackets).
 */
static size_t
scan_ids(const char *raw, char ***ids, size_t max)
{
	size_t n = 0, cap = 0, i, len, open = 0;
	int in = 0;

	*ids = NULL;
	if (raw == NULL)
		return 0;
	len = strlen(raw);
	for (i = 0; i < len && n < max; i++) {
		if (raw[i] == '<') {
			in = 1;
			open = i + 1;
		} else if (raw[i] == '>' && in) {
			id_add(ids, &n, &cap, raw + open, i - open);
			in = 0;
		}
	}
	if (n == 0) {
		size_t s;

		for (i = 0; i < len && n < max; i = s + 1) {
			s = i;
			while (s < len && !is_wsp(raw[s]) && raw[s] != ',')
				s++;
			if (memchr(raw + i, '@', s - i) != NULL &&
			    memchr(raw + i, '<', s - i) == NULL)
				id_add(ids, &n, &cap, raw + i, s - i);
		}
	}
	return n;
}

/*
 * The Message-ID: the first <...>, taking nested brackets whole, so that
 * a broken "<123 Name <a@x>>" stays unique instead of becoming a@x.
 */
static char *
message_id(const char *raw)
{
	char **ids = NULL;
	size_t n = 0, cap = 0, i, open = 0;
	int depth = 0;
	char *id;

	if (raw == NULL)
		return xstrdup("");
	for (i = 0; raw[i] != '\0'; i++) {
		if (raw[i] == '<' && depth++ == 0) {
			open = i + 1;
		} else if (raw[i] == '>' && depth > 0 && --depth == 0) {
			id_add(&ids, &n, &cap, raw + open, i - open);
			if (n > 0)
				break;
		}
	}
	if (n == 0)
		n = scan_ids(raw, &ids, 1);
	if (n == 0)
		return xstrdup("");
	id = ids[0];
	free(ids);
	return id;
}

static char *
first_id(const char *raw)
{
	char **ids, *id;

	if (scan_ids(raw, &ids, 1) == 0)
		return xstrdup("");
	id = ids[0];
	free(ids);
	return id;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
days_from_civil(long long y, unsigned mo, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static time_t
parse_date(const char *raw)
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0;
	long long y, t, z, off;

	if (raw == NULL ||
	    mailimf_date_time_parse(raw, strlen(raw), &idx, &dt) !=
	        MAILIMF_NO_ERROR ||
	    dt == NULL)
		return 0;
	y = dt->dt_year;
	if (y < 50) /* RFC 5322 section 4.3 */
		y += 2000;
	else if (y < 1000)
		y += 1900;
	t = 0;
	if (y <= 9999 && dt->dt_month >= 1 && dt->dt_month <= 12 &&
	    dt->dt_day >= 1 && dt->dt_day <= 31 && dt->dt_hour >= 0 &&
	    dt->dt_hour <= 23 && dt->dt_min >= 0 && dt->dt_min <= 59 &&
	    dt->dt_sec >= 0 && dt->dt_sec <= 60 && dt->dt_zone >= -9959 &&
	    dt->dt_zone <= 9959) {
		z = dt->dt_zone < 0 ? -dt->dt_zone : dt->dt_zone;
		off = (z / 100) * 60 + z % 100;
		if (dt->dt_zone < 0)
			off = -off;
		t = days_from_civil(y, (unsigned)dt->dt_month,
		                    (unsigned)dt->dt_day) *
		        86400 +
		    dt->dt_hour * 3600 + dt->dt_min * 60 + dt->dt_sec -
		    off * 60;
	}
	mailimf_date_time_free(dt);
	return (time_t)t;
}

/* ---- the whole message --------------------------------------------------- */

int
msg_parse(const char *data, size_t len, const struct msg_limits *lim,
          struct msg **out, struct buf *err)
{
	struct ctx c = {0};
	struct msg *m;
	const char *v;
	size_t start = 0, budget = MAX_MAILBOXES;

	*out = NULL;
	if (lim == NULL)
		lim = &msg_default_limits;
	c.lim = lim;
	c.err = err;
	c.max_depth = lim->max_depth;
	if (c.max_depth > MSG_HARD_DEPTH)
		c.max_depth = MSG_HARD_DEPTH;
	if (len > lim->max_size)
		return limit_error(&c,
		                   "message is %zu bytes; the limit is %zu "
		                   "bytes",
		                   len, lim->max_size);
	c.m = m = xcalloc(1, sizeof(*m));
	m->raw = xmalloc(len + 1);
	if (len > 0)
		memcpy(m->raw, data, len);
	m->raw[len] = '\0';
	m->raw_len = len;

	/* An mbox "From " line on top is not a header field. */
	if (len >= 5 && memcmp(m->raw, "From ", 5) == 0) {
		size_t k = 5;

		while (k < len && (m->raw[k] == ' ' || m->raw[k] == '\t'))
			k++;
		if (k < len && m->raw[k] != ':') /* not "From : a@b" */
			start = next_line(line_end(m->raw, len, 0), len);
	}
	if (top_headers(&c, start) < 0)
		goto fail;

	v = msg_header(m, "subject");
	m->subject = xstrdup(v != NULL ? v : "");
	first_mailbox(msg_header_raw(m, "from"), &m->from, &budget);
	first_mailbox(msg_header_raw(m, "sender"), &m->sender, &budget);
	all_mailboxes(m, "to", &m->to, &m->n_to, &budget);
	all_mailboxes(m, "cc", &m->cc, &m->n_cc, &budget);
	all_mailboxes(m, "reply-to", &m->reply_to, &m->n_reply_to, &budget);
	m->message_id = message_id(msg_header_raw(m, "message-id"));
	m->in_reply_to = first_id(msg_header_raw(m, "in-reply-to"));
	m->n_references = scan_ids(msg_header_raw(m, "references"),
	                           &m->references, (size_t)-1);
	m->date = parse_date(msg_header_raw(m, "date"));

	if (entity(&c, m->header_len, len, 0, "text/plain", 1) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	msg_free(m);
	return -1;
}

static void
addrs_free(struct msg_address *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].addr);
	}
	free(a);
}

void
msg_free(struct msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_headers; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
		free(m->headers[i].raw);
	}
	free(m->headers);
	free(m->from.name);
	free(m->from.addr);
	free(m->sender.name);
	free(m->sender.addr);
	addrs_free(m->to, m->n_to);
	addrs_free(m->cc, m->n_cc);
	addrs_free(m->reply_to, m->n_reply_to);
	free(m->subject);
	free(m->message_id);
	free(m->in_reply_to);
	for (i = 0; i < m->n_references; i++)
		free(m->references[i]);
	free(m->references);
	for (i = 0; i < m->n_parts; i++) {
		free(m->parts[i].type);
		free(m->parts[i].charset);
		free(m->parts[i].filename);
		free(m->parts[i].text);
	}
	free(m->parts);
	free(m->raw);
	free(m);
}

int
msg_part_decode(const struct msg_part *p, struct buf *out)
{
	char *dec = NULL;
	size_t idx = 0, dlen = 0;
	int rc;

	if (p->encoding == MAILMIME_MECHANISM_8BIT ||
	    p->encoding == MAILMIME_MECHANISM_7BIT ||
	    p->encoding == MAILMIME_MECHANISM_BINARY || p->body_len == 0)
		return buf_add(out, p->body, p->body_len);
	if (mailmime_part_parse(p->body, p->body_len, &idx, p->encoding, &dec,
	                        &dlen) != MAILIMF_NO_ERROR ||
	    dec == NULL)
		return buf_add(out, p->body, p->body_len);
	rc = buf_add(out, dec, dlen);
	mmap_string_unref(dec);
	return rc;
}
