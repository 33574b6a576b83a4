/*
 * decorate.c - builds the copy of a post that the members receive: list
 * header fields, subject prefix, Reply-To policy, removal of fields that
 * must not leak, and the footer.
 *
 * Who calls it: the daemon, once per distributed post (not per recipient;
 * personal fields such as a personal List-Unsubscribe are passed in by a
 * caller that decorates per recipient when it wants them).
 *
 * Invariants and why:
 *  - Pure: no I/O, no globals, no randomness.  MIME boundaries are derived
 *    from a hash of the input and checked against it, so the same post
 *    decorates to the same bytes after a crash and restart.
 *  - The header block is split here on the raw bytes; every field we do
 *    not remove or rewrite is copied byte for byte and in order, so DKIM
 *    signatures over unchanged fields still hold as far as they can.  New
 *    fields go at the end of the header block, Subject / Content-Type /
 *    Content-Transfer-Encoding / Reply-To are rewritten in place.
 *  - Output uses the input's line end (CRLF if its first line ends with
 *    CRLF, else LF); every line we write is under 998 octets.
 *  - Everything is linear in the input: each step scans the bytes a fixed
 *    number of times, and the work buffer is capped.
 *
 * Footer placement (why each way):
 *  - text/plain, not an attachment (no disposition "attachment", no file
 *    name: appending would change a file), 7bit/8bit/binary/none, quoted-
 *    printable or base64: appended to the text in the body's own charset
 *    and encoding, so readers see one text.  A us-ascii body that is
 *    really ASCII becomes utf-8 (and 7bit becomes 8bit) when the footer
 *    needs it; a footer that the charset cannot carry (iconv says so, or
 *    the charset is not ASCII-compatible) goes into a separate part.
 *  - message/partial and message/external-body are refused: wrapping a
 *    fragment would break its reassembly.
 *  - multipart/mixed: the footer becomes a text/plain part before the
 *    closing delimiter; the other parts are untouched.
 *  - anything else (multipart/alternative, related, signed, encrypted,
 *    report, text/html, application/pkcs7-mime, attachments, unknown
 *    transfer encodings): the original body and its Content-* fields are
 *    moved unchanged into the first part of a new multipart/mixed, the
 *    footer is the second part.  We do not append to both alternatives of
 *    a multipart/alternative: that means rewriting HTML (where to put the
 *    text, escaping it, nested related parts, quoted-printable HTML) for
 *    little gain, and every mail reader shows a trailing text/plain part
 *    of a multipart/mixed below the message.  For multipart/signed and
 *    encrypted mail this is the only safe way (RFC 1847): the signed
 *    bytes are not touched, so signatures still verify.
 *
 * DMARC mitigation (dmarc_action; when to use it is decided by the caller
 * with dmarc.h): munging writes a From of the list's with the author's
 * name ("NAME via LIST"), keeps the old From as X-Original-From, adds the
 * author to Reply-To or Cc as Mailman 3 does, and drops DKIM-Signature;
 * the body is decorated as above.  Wrapping writes a new message with the
 * same fields around the post, which goes unchanged (but for the fields
 * never sent) into a message/rfc822 part: nothing inside is re-encoded,
 * so signed mail still verifies inside it.  The author's name is
 * cleaned first (controls, "@domain" pieces that would make it read as
 * an address, 120 bytes at most).
 *
 * Standards: RFC 5322 (header fields, folding, line length), RFC 2045/2046
 * (MIME, quoted-printable, base64, multipart delimiters), RFC 2047
 * (encoded words in Subject and List-Id), RFC 2369 (List-Help, -Post,
 * -Subscribe, -Unsubscribe, -Owner, -Archive), RFC 2919 (List-Id),
 * RFC 5064 (Archived-At), RFC 8058 (List-Unsubscribe-Post), RFC 1847
 * (signed and encrypted multiparts left intact), RFC 3676 (format=flowed:
 * a soft-broken last line does not swallow the footer), RFC 7960 (DMARC
 * and mailing lists), RFC 2046 section 5.2.1 (message/rfc822: 7bit, 8bit
 * or binary only).
 *
 * Errors: decorate() returns -1 with one line in err for input it cannot
 * decorate safely (a header block it cannot split, a message/partial, a
 * limit passed, an unusable footer or URL); nothing is fatal.  Out of
 * memory aborts (xmalloc).
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "decorate.h"
#include "msg.h"
#include "util.h"

/* Parameters read from a Content-Type field. */
#define MAX_PARAMS 32
/* RFC 2046 says 70; msg.c accepts up to 200. */
#define MAX_BOUNDARY 200
/* Tries to find a boundary that does not occur in the input. */
#define BOUNDARY_TRIES 16
/* Longest line RFC 2047 allows when it holds an encoded word. */
#define EW_LINE 76

/* ---- small helpers ---------------------------------------------------- */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static size_t
line_end(const char *p, size_t n, size_t pos)
{
	const char *e = memchr(p + pos, '\n', n - pos);

	return e != NULL ? (size_t)(e - p) : n;
}

/* Case-insensitive search of needle (nl bytes) in s (n bytes). */
static const char *
memcasemem(const char *s, size_t n, const char *needle, size_t nl)
{
	size_t i;

	if (nl == 0)
		return s;
	for (i = 0; i + nl <= n; i++)
		if (strncasecmp(s + i, needle, nl) == 0)
			return s + i;
	return NULL;
}

static int
all_ascii(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence starting at s[0] (1 for anything odd). */
static size_t
utf8_len(const char *s, size_t n)
{
	unsigned c = (unsigned char)s[0];
	size_t l = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	return l <= n ? l : 1;
}

/* Characters safe in an address or a URL we put between <...>. */
static int
uri_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DECORATE_URL_MAX)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 127 || c == '<' || c == '>' || c == '"')
			return 0;
	}
	return 1;
}

/* ---- header block ----------------------------------------------------- */

struct field {
	size_t start, end; /* the whole field, line breaks included */
	size_t nlen;       /* name length (from start) */
	size_t vstart;     /* first byte after the colon */
};

struct hdrs {
	struct field *f;
	size_t n, cap;
	size_t body; /* offset of the body (past the blank line, or the
	              * end of the message if there is none) */
};

static int
field_is(const char *raw, const struct field *f, const char *name)
{
	return strlen(name) == f->nlen &&
	       strncasecmp(raw + f->start, name, f->nlen) == 0;
}

static int
field_has_prefix(const char *raw, const struct field *f, const char *pfx)
{
	size_t l = strlen(pfx);

	return f->nlen >= l && strncasecmp(raw + f->start, pfx, l) == 0;
}

/*
 * Split the header block.  A line that is neither a field nor a
 * continuation makes the message undecoratable: readers disagree on
 * whether the body starts there, and our new fields would land in it.
 * An mbox "From " line on top is skipped.
 */
static int
hdrs_split(const char *p, size_t n, struct hdrs *h, struct buf *err)
{
	size_t i = 0, e, k;

	if (n >= 5 && memcmp(p, "From ", 5) == 0)
		i = line_end(p, n, 0) < n ? line_end(p, n, 0) + 1 : n;
	for (;;) {
		struct field *f;

		if (i >= n) {
			h->body = n;
			return 0;
		}
		e = line_end(p, n, i);
		if (e == i || (e == i + 1 && p[i] == '\r')) {
			h->body = e < n ? e + 1 : n;
			return 0;
		}
		if (is_wsp(p[i])) {
			buf_adds(err, "header block starts with a continuation "
			              "line");
			return -1;
		}
		for (k = i; k < e && p[k] != ':' && (unsigned char)p[k] > ' ' &&
		            (unsigned char)p[k] < 127;
		     k++)
			;
		if (k == i || k >= e) {
			buf_adds(err, "malformed header line (no field name "
			              "and colon)");
			return -1;
		}
		if (h->n >= msg_default_limits.max_headers) {
			buf_printf(err, "more than %zu header fields",
			           msg_default_limits.max_headers);
			return -1;
		}
		h->f = xgrow(h->f, &h->cap, h->n + 1, sizeof(*h->f));
		f = &h->f[h->n++];
		f->start = i;
		f->nlen = k - i;
		while (k < e && is_wsp(p[k]))
			k++;
		if (k >= e || p[k] != ':') {
			buf_adds(err, "malformed header line (a field name "
			              "not followed by a colon)");
			return -1;
		}
		f->vstart = k + 1;
		while (e < n && e + 1 < n && is_wsp(p[e + 1]))
			e = line_end(p, n, e + 1);
		f->end = e < n ? e + 1 : n;
		if (f->end - f->start > msg_default_limits.max_header_len) {
			buf_printf(err,
			           "a header field is longer than %zu "
			           "bytes",
			           msg_default_limits.max_header_len);
			return -1;
		}
		i = f->end;
	}
}

/* The value of a field, unfolded (CR/LF dropped), trimmed. */
static void
field_value(const char *raw, const struct field *f, struct buf *out)
{
	size_t i, s = out->len;

	for (i = f->vstart; i < f->end; i++)
		if (raw[i] != '\r' && raw[i] != '\n')
			buf_addc(out, raw[i]);
	while (out->len > s && is_wsp(out->s[out->len - 1]))
		out->len--;
	if (out->s)
		out->s[out->len] = '\0';
	i = s;
	while (i < out->len && is_wsp(out->s[i]))
		i++;
	if (i > s) {
		memmove(out->s + s, out->s + i, out->len - i + 1);
		out->len -= i - s;
	}
}

/* ---- Content-Type ----------------------------------------------------- */

struct param {
	char name[32];
	const char *v; /* into ctype.text */
	size_t vlen;
	char *val; /* unquoted copy */
};

struct ctype {
	struct buf text; /* the unfolded value */
	char type[64], sub[64];
	struct param p[MAX_PARAMS];
	size_t np;
};

static size_t
skip_cfws(const char *s, size_t n, size_t i)
{
	while (i < n) {
		if (is_wsp(s[i])) {
			i++;
		} else if (s[i] == '(') {
			int depth = 0;

			while (i < n) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0) {
					i++;
					break;
				}
				i++;
			}
		} else {
			break;
		}
	}
	return i;
}

static int
tspecial(int c)
{
	return c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static size_t
token(const char *s, size_t n, size_t i, char *out, size_t outsz)
{
	size_t k = 0;

	while (i < n && !tspecial((unsigned char)s[i])) {
		if (k + 1 < outsz)
			out[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z')
			                      ? s[i] - 'A' + 'a'
			                      : s[i]);
		i++;
	}
	out[k] = '\0';
	return i;
}

/* Parse a Content-Type value (lenient).  An absent field is text/plain. */
static void
ctype_parse(const char *raw, const struct field *f, struct ctype *ct)
{
	const char *s;
	size_t n, i;

	memset(ct, 0, sizeof(*ct));
	buf_init(&ct->text, 0);
	if (f == NULL) {
		memcpy(ct->type, "text", 5);
		memcpy(ct->sub, "plain", 6);
		return;
	}
	field_value(raw, f, &ct->text);
	s = buf_str(&ct->text);
	n = ct->text.len;
	i = skip_cfws(s, n, 0);
	i = token(s, n, i, ct->type, sizeof(ct->type));
	i = skip_cfws(s, n, i);
	if (i < n && s[i] == '/')
		i = token(s, n, skip_cfws(s, n, i + 1), ct->sub,
		          sizeof(ct->sub));
	if (ct->type[0] == '\0' || ct->sub[0] == '\0') {
		/* RFC 2045 section 5.2: unreadable means the default. */
		memcpy(ct->type, "text", 5);
		memcpy(ct->sub, "plain", 6);
	}
	while (ct->np < MAX_PARAMS) {
		struct param *p = &ct->p[ct->np];
		struct buf v = BUF_INIT;
		size_t vs;

		while (i < n && s[i] != ';')
			i++;
		if (i >= n)
			break;
		i = token(s, n, skip_cfws(s, n, i + 1), p->name,
		          sizeof(p->name));
		i = skip_cfws(s, n, i);
		if (p->name[0] == '\0' || i >= n || s[i] != '=')
			continue;
		i = skip_cfws(s, n, i + 1);
		vs = i;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				buf_addc(&v, s[i]);
			}
			if (i < n)
				i++;
		} else {
			while (i < n && s[i] != ';' && !is_wsp(s[i]))
				buf_addc(&v, s[i++]);
		}
		p->v = s + vs;
		p->vlen = i - vs;
		p->val = buf_detach(&v, NULL);
		ct->np++;
	}
}

static const char *
ctype_param(const struct ctype *ct, const char *name)
{
	size_t i;

	for (i = 0; i < ct->np; i++)
		if (strcmp(ct->p[i].name, name) == 0)
			return ct->p[i].val;
	return NULL;
}

static void
ctype_free(struct ctype *ct)
{
	size_t i;

	for (i = 0; i < ct->np; i++)
		free(ct->p[i].val);
	buf_free(&ct->text);
}

/* ---- encodings -------------------------------------------------------- */

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Lenient decoder (RFC 2045 section 6.8: other characters are ignored). */
static int
b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *q;

		if (s[i] == '=')
			break;
		if (s[i] == '\0' || (q = strchr(B64, s[i])) == NULL)
			continue;
		acc = (acc << 6) | (unsigned)(q - B64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_addc(out, (int)((acc >> bits) & 0xff)) < 0)
				return -1;
		}
	}
	return 0;
}

static int
b64_encode(const unsigned char *s, size_t n, const char *nl, struct buf *out)
{
	size_t i, col = 0;
	int rc = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = B64[(v >> 18) & 63];
		q[1] = B64[(v >> 12) & 63];
		q[2] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? B64[v & 63] : '=';
		rc |= buf_add(out, q, 4);
		col += 4;
		if (col >= 76) {
			rc |= buf_adds(out, nl);
			col = 0;
		}
	}
	if (col > 0)
		rc |= buf_adds(out, nl);
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 1 if a quoted-printable body decodes to ASCII only. */
static int
qp_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 0;
		if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0 && hexval(s[i + 1]) >= 8)
			return 0;
	}
	return 1;
}

/*
 * Quoted-printable (RFC 2045 section 6.7) of text whose lines end with
 * LF: hard line breaks become nl, lines are kept to 76 characters with
 * soft breaks, trailing white space and "From " at a line start are
 * encoded (the latter so that mbox tools leave the line alone).
 */
static int
qp_encode(const char *s, size_t n, const char *nl, struct buf *out)
{
	size_t i = 0, col = 0;
	int rc = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		char enc[4];
		size_t el;
		int eol = i + 1 >= n || s[i + 1] == '\n' ||
		          (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');

		if (c == '\n') {
			rc |= buf_adds(out, nl);
			col = 0;
			i++;
			continue;
		}
		if (c == '\r' && i + 1 < n && s[i + 1] == '\n') {
			i++;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=' &&
		     !(c == 'F' && col == 0 && n - i >= 5 &&
		       memcmp(s + i, "From ", 5) == 0)) ||
		    (is_wsp(c) && !eol)) {
			enc[0] = (char)c;
			el = 1;
		} else {
			enc[0] = '=';
			enc[1] = "0123456789ABCDEF"[c >> 4];
			enc[2] = "0123456789ABCDEF"[c & 15];
			el = 3;
		}
		/* Keep room for the '=' of a soft break. */
		if (col + el > 75) {
			rc |= buf_addc(out, '=');
			rc |= buf_adds(out, nl);
			col = 0;
		}
		rc |= buf_add(out, enc, el);
		col += el;
		i++;
	}
	return rc;
}

/* ---- charsets --------------------------------------------------------- */

enum cs_class { CS_ASCII, CS_UTF8, CS_OTHER };

static enum cs_class
cs_class(const char *cs)
{
	if (cs == NULL || cs[0] == '\0' || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "ascii") == 0 ||
	    strcasecmp(cs, "ansi_x3.4-1968") == 0)
		return CS_ASCII;
	if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0)
		return CS_UTF8;
	return CS_OTHER;
}

static int
iconv_all(iconv_t cd, const char *s, size_t n, struct buf *out)
{
	char tmp[1024];
	char *in = (char *)(uintptr_t)s;
	size_t left = n;

	for (;;) {
		char *o = tmp;
		size_t room = sizeof(tmp);
		size_t r = iconv(cd, left > 0 ? &in : NULL, &left, &o, &room);

		if (buf_add(out, tmp, sizeof(tmp) - room) < 0)
			return -1;
		if (r != (size_t)-1) {
			if (left == 0 && in != NULL) {
				in = NULL; /* flush the shift state */
				continue;
			}
			return 0;
		}
		if (errno != E2BIG)
			return -1;
	}
}

/*
 * The footer (UTF-8) in charset cs, appended to out: 0, or -1 if iconv
 * does not know cs, cannot represent a character, or cs is not
 * ASCII-compatible (UTF-16, EBCDIC: appending would garble the body).
 */
static int
to_charset(const char *cs, const char *s, size_t n, struct buf *out)
{
	struct buf probe = BUF_INIT;
	iconv_t cd;
	size_t start = out->len;
	int rc;

	if (strlen(cs) > 64 || strchr(cs, '/') != NULL)
		return -1;
	cd = iconv_open(cs, "UTF-8");
	if (cd == (iconv_t)-1)
		return -1;
	rc = iconv_all(cd, "A-\n", 3, &probe);
	if (rc == 0 && (probe.len != 3 || memcmp(probe.s, "A-\n", 3) != 0))
		rc = -1;
	buf_free(&probe);
	iconv(cd, NULL, NULL, NULL, NULL);
	if (rc == 0)
		rc = iconv_all(cd, s, n, out);
	iconv_close(cd);
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}

/* ---- header writing ---------------------------------------------------- */

/* Plain (unencoded) words: printable ASCII, nothing that looks like an
 * encoded word, short enough to fit a line. */
static int
word_plain(const char *w, size_t n)
{
	size_t i;

	if (n > 900)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c <= ' ' || c >= 127)
			return 0;
		if (c == '=' && i + 1 < n && w[i + 1] == '?')
			return 0;
	}
	return 1;
}

/* Q encoding in its strictest form (RFC 2047 section 5 (3), "phrase"),
 * which is valid in unstructured fields too. */
static int
q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!*+-/", c) != NULL;
}

struct hw {
	struct buf *out;
	const char *nl;
	size_t col; /* length of the current line so far */
	int first;  /* nothing written after "Name: " yet */
};

/* Put a separating space (or a fold) before a token of len bytes. */
static void
hw_sep(struct hw *w, size_t len)
{
	if (w->first) {
		w->first = 0;
		return;
	}
	if (w->col + 1 + len > EW_LINE) {
		buf_adds(w->out, w->nl);
		w->col = 0;
	}
	buf_addc(w->out, ' ');
	w->col++;
}

/* Encode the UTF-8 text s as one or more encoded words (RFC 2047), each
 * at most 75 characters and each holding whole characters. */
static void
hw_encode(struct hw *w, const char *s, size_t n)
{
	static const char pre[] = "=?utf-8?q?";
	size_t i = 0;

	while (i < n) {
		struct buf word = BUF_INIT;
		size_t room;

		/* Fold first if not even a short word fits on this line. */
		if (!w->first && w->col + 1 + 24 > EW_LINE) {
			buf_adds(w->out, w->nl);
			buf_addc(w->out, ' ');
			w->col = 1;
			w->first = 1;
		}
		room = EW_LINE - (w->col + (w->first ? 0 : 1));
		if (room > 75)
			room = 75;
		buf_adds(&word, pre);
		while (i < n) {
			size_t l = utf8_len(s + i, n - i), k, el = 0;
			char enc[16];

			for (k = 0; k < l; k++) {
				unsigned char c = (unsigned char)s[i + k];

				if (c == ' ') {
					enc[el++] = '_';
				} else if (q_literal(c)) {
					enc[el++] = (char)c;
				} else {
					enc[el++] = '=';
					enc[el++] = "0123456789ABCDEF"[c >> 4];
					enc[el++] = "0123456789ABCDEF"[c & 15];
				}
			}
			if (word.len + el + 2 > room &&
			    word.len > sizeof(pre) - 1)
				break;
			buf_add(&word, enc, el);
			i += l;
		}
		buf_adds(&word, "?=");
		hw_sep(w, word.len);
		buf_add(w->out, word.s, word.len);
		w->col += word.len;
		buf_free(&word);
	}
}

/*
 * Write "Name: text" + nl for UTF-8 text, folded.  Unstructured mode
 * (Subject) keeps ASCII words readable and encodes only runs of words
 * that need it; phrase mode (List-Id) encodes the whole text if any of it
 * needs encoding, else writes it as atoms or one quoted-string.
 */
static void
hdr_text(struct buf *out, const char *nl, const char *name, const char *text,
         int phrase, const char *tail)
{
	struct hw w = {out, nl, 0, 1};
	size_t n = strlen(text), i = 0;

	buf_printf(out, "%s: ", name);
	w.col = strlen(name) + 2;
	if (phrase) {
		int plain = 1, atoms = 1;

		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)text[i];

			if (c < ' ' || c >= 127)
				plain = 0;
			else if (c != ' ' &&
			         !((c >= 'a' && c <= 'z') ||
			           (c >= 'A' && c <= 'Z') ||
			           (c >= '0' && c <= '9') ||
			           strchr("!#$%&'*+-/=?^_`{|}~", c)))
				atoms = 0;
		}
		if (n > 900 || memmem(text, n, "=?", 2) != NULL)
			plain = 0;
		if (!plain) {
			hw_encode(&w, text, n);
		} else if (atoms) {
			/* Atoms separated by spaces: the word writer. */
			goto words;
		} else {
			/* One quoted-string; it may fold at its spaces. */
			buf_addc(out, '"');
			w.col++;
			for (i = 0; i < n; i++) {
				if (text[i] == ' ' && w.col > 60) {
					buf_adds(out, nl);
					w.col = 0;
				}
				if (text[i] == '"' || text[i] == '\\') {
					buf_addc(out, '\\');
					w.col++;
				}
				buf_addc(out, text[i]);
				w.col++;
			}
			buf_addc(out, '"');
			w.col++;
			w.first = 0;
		}
		goto tail;
	}
words:
	i = 0;
	while (i <= n) {
		size_t j = i, run_end;

		while (j < n && text[j] != ' ')
			j++;
		if (word_plain(text + i, j - i) || i == j) {
			hw_sep(&w, j - i);
			buf_add(out, text + i, j - i);
			w.col += j - i;
			i = j + 1;
			continue;
		}
		/* A run of words needing encoding, with the spaces between
		 * them, goes into encoded words (the spaces become '_'). */
		run_end = j;
		while (run_end < n) {
			size_t k = run_end + 1, m = k;

			while (m < n && text[m] != ' ')
				m++;
			if (m == k || word_plain(text + k, m - k))
				break;
			run_end = m;
		}
		hw_encode(&w, text + i, run_end - i);
		i = run_end + 1;
	}
tail:
	if (tail) {
		hw_sep(&w, strlen(tail));
		buf_adds(out, tail);
	}
	buf_adds(out, nl);
}

/* ---- subject ---------------------------------------------------------- */

/* A reply marker ("Re:", "SV:", "Aw[2]:", ...) at s: its length with the
 * white space after it, or 0.  Forward markers (Fwd:, Fw:, VB:) are not
 * reply markers and stay where they are. */
static size_t
reply_marker(const char *s, size_t n)
{
	static const char *const words[] = {"re", "aw", "sv", "vs", "antw"};
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(words); i++) {
		size_t l = strlen(words[i]);

		if (n < l || strncasecmp(s, words[i], l) != 0)
			continue;
		k = l;
		if (k < n && (s[k] == '[' || s[k] == '(')) {
			char close = s[k] == '[' ? ']' : ')';
			size_t d = k + 1;

			while (d < n && s[d] >= '0' && s[d] <= '9' && d < k + 6)
				d++;
			if (d == k + 1 || d >= n || s[d] != close)
				continue;
			k = d + 1;
		} else if (k < n && s[k] == '^') {
			size_t d = k + 1;

			while (d < n && s[d] >= '0' && s[d] <= '9' && d < k + 6)
				d++;
			if (d == k + 1)
				continue;
			k = d;
		}
		while (k < n && s[k] == ' ')
			k++;
		if (k >= n || s[k] != ':')
			continue;
		k++;
		while (k < n && is_wsp(s[k]))
			k++;
		return k;
	}
	return 0;
}

int
decorate_subject(const char *subject, const char *prefix, struct buf *out)
{
	const char *s = subject, *tag = prefix ? prefix : "";
	size_t n, tl, orig;
	int saw_tag = 0, saw_reply = 0;

	while (*tag == ' ' || *tag == '\t')
		tag++;
	tl = strlen(tag);
	while (tl > 0 && is_wsp(tag[tl - 1]))
		tl--;
	n = strlen(s);
	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	while (n > 0 && is_wsp(*s)) {
		s++;
		n--;
	}
	orig = out->len;
	if (tl == 0) {
		if (n > 0)
			return 0;
		buf_adds(out, "(no subject)");
		return 1;
	}
	for (;;) {
		size_t k;

		while (n > 0 && is_wsp(*s)) {
			s++;
			n--;
		}
		if (n >= tl && strncasecmp(s, tag, tl) == 0) {
			saw_tag = 1;
			s += tl;
			n -= tl;
		} else if ((k = reply_marker(s, n)) > 0) {
			saw_reply = 1;
			s += k;
			n -= k;
		} else {
			break;
		}
	}
	/* "Fwd: [DK] x", "About [DK] news": the tag is there already. */
	if (!saw_tag && memcasemem(s, n, tag, tl) != NULL)
		return 0;
	if (saw_reply)
		buf_adds(out, "Re: ");
	buf_add(out, tag, tl);
	buf_addc(out, ' ');
	if (n > 0)
		buf_add(out, s, n);
	else if (saw_reply)
		buf_truncate(out, out->len - 1);
	else
		buf_adds(out, "(no subject)");
	{
		size_t sl = strlen(subject);
		const char *a = subject;

		while (sl > 0 && is_wsp(*a)) {
			a++;
			sl--;
		}
		while (sl > 0 && is_wsp(a[sl - 1]))
			sl--;
		if (out->len - orig == sl &&
		    memcmp(out->s + orig, a, sl) == 0) {
			buf_truncate(out, orig);
			return 0;
		}
	}
	return 1;
}

/* ---- the body --------------------------------------------------------- */

/* M_DMARC_WRAP: the whole post goes into a message/rfc822 part. */
enum mode { M_NONE, M_APPEND, M_MIXED, M_WRAP, M_DMARC_WRAP };

struct plan {
	enum mode mode;
	const char *cte_new; /* Content-Transfer-Encoding to write, or NULL */
	int ct_utf8;         /* rewrite Content-Type with charset=utf-8 */
	struct buf body;     /* M_APPEND: the new body */
	char *boundary;      /* M_MIXED: the existing boundary */
	size_t close_at;     /* M_MIXED: offset of the close delimiter line,
	                      * or (size_t)-1 if there is none */
	char newb[64];       /* M_WRAP: our boundary */
};

/* The footer with its line ends turned into nl, ending with one. */
static void
footer_lines(const char *f, const char *nl, struct buf *out)
{
	size_t n = strlen(f), i;

	for (i = 0; i < n; i++) {
		if (f[i] == '\r' && i + 1 < n && f[i + 1] == '\n')
			continue;
		if (f[i] == '\n')
			buf_adds(out, nl);
		else
			buf_addc(out, f[i]);
	}
	if (n > 0 && f[n - 1] != '\n')
		buf_adds(out, nl);
}

/* Separate the footer from a body's last line: a line break if the body
 * does not end with one, and an empty line after a flowed soft break. */
static void
end_body(const char *b, size_t n, int flowed, const char *nl, struct buf *out)
{
	size_t e = n;
	int add = 0;

	if (n == 0)
		return;
	if (b[n - 1] != '\n') {
		add = 1;
	} else {
		e = n - 1;
		if (e > 0 && b[e - 1] == '\r')
			e--;
	}
	if (flowed && e > 0 && b[e - 1] == ' ')
		add++;
	/* b may point into out: nothing read after this. */
	while (add-- > 0)
		buf_adds(out, nl);
}

static void
footer_part(const char *footer, const char *nl, struct buf *out)
{
	struct buf t = BUF_INIT;
	int ascii = all_ascii(footer, strlen(footer));

	buf_printf(out,
	           "Content-Type: text/plain; charset=utf-8%s"
	           "Content-Transfer-Encoding: %s%s"
	           "Content-Disposition: inline%s%s",
	           nl, ascii ? "7bit" : "quoted-printable", nl, nl, nl);
	footer_lines(footer, nl, &t);
	if (ascii)
		buf_add(out, t.s, t.len);
	else
		qp_encode(t.s, t.len, nl, out);
	buf_free(&t);
}

static uint64_t
fnv1a(const char *p, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A boundary found neither in the message nor in the footer (nor in
 * extra, text we add, if not NULL; it does not change the hash). */
static int
new_boundary(const struct decorate_in *in, const char *extra, char *b,
             size_t bsz)
{
	uint64_t h = fnv1a(in->raw, in->len, 0xcbf29ce484222325ULL);
	unsigned t;

	if (in->footer)
		h = fnv1a(in->footer, strlen(in->footer), h);
	for (t = 0; t < BOUNDARY_TRIES; t++) {
		int l = snprintf(b, bsz, "=_mlmd_%016llx_%u",
		                 (unsigned long long)h, t);

		if (memmem(in->raw, in->len, b, (size_t)l) == NULL &&
		    (in->footer == NULL || strstr(in->footer, b) == NULL) &&
		    (extra == NULL || strstr(extra, b) == NULL))
			return 0;
		h = fnv1a(b, (size_t)l, h);
	}
	return -1;
}

/*
 * Find the close delimiter "--B--" of a multipart body at the start of a
 * line: its offset, or (size_t)-1.  Lines of "--B" followed by anything
 * but white space or "--" are not delimiters (a longer boundary).
 */
static size_t
close_delim(const char *p, size_t start, size_t n, const char *bd)
{
	size_t bl = strlen(bd), i = start;

	while (i < n) {
		size_t e = line_end(p, n, i);

		if (e - i >= bl + 4 && p[i] == '-' && p[i + 1] == '-' &&
		    memcmp(p + i + 2, bd, bl) == 0 && p[i + bl + 2] == '-' &&
		    p[i + bl + 3] == '-')
			return i;
		i = e < n ? e + 1 : n;
	}
	return (size_t)-1;
}

static int
boundary_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n == 0 || n > MAX_BOUNDARY)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c < ' ' || c >= 127)
			return 0;
	}
	return 1;
}

/*
 * Decide where the footer goes and, for a text/plain body, build the new
 * body.  -1 with err for what cannot be decorated safely.
 */
static int
plan_body(const struct decorate_in *in, const struct hdrs *h,
          const struct field *ctf, const struct field *ctef,
          const struct field *cdf, const char *nl, struct plan *pl,
          struct buf *err)
{
	const char *raw = in->raw, *footer = in->footer;
	const char *body = raw + h->body;
	size_t blen = in->len - h->body;
	struct ctype ct;
	struct buf cte = BUF_INIT, disp = BUF_INIT, ft = BUF_INIT;
	struct buf conv = BUF_INIT;
	const char *cs;
	enum cs_class cls;
	int rc = 0, flowed;

	ctype_parse(raw, ctf, &ct);
	if (ctef)
		field_value(raw, ctef, &cte);
	if (cdf)
		field_value(raw, cdf, &disp);
	if (cte.s)
		str_lower(cte.s);
	cs = ctype_param(&ct, "charset");
	cls = cs_class(cs);
	flowed = ctype_param(&ct, "format") &&
	         strcasecmp(ctype_param(&ct, "format"), "flowed") == 0;

	if (strcmp(ct.type, "message") == 0 &&
	    (strcmp(ct.sub, "partial") == 0 ||
	     strcmp(ct.sub, "external-body") == 0)) {
		buf_printf(err, "cannot decorate a message/%s", ct.sub);
		rc = -1;
		goto done;
	}
	if (strcmp(ct.type, "multipart") == 0 && strcmp(ct.sub, "mixed") == 0 &&
	    (cte.len == 0 || strcmp(cte.s, "7bit") == 0 ||
	     strcmp(cte.s, "8bit") == 0 || strcmp(cte.s, "binary") == 0)) {
		const char *bd = ctype_param(&ct, "boundary");

		if (bd == NULL || !boundary_ok(bd)) {
			buf_adds(err, "multipart/mixed without a usable "
			              "boundary");
			rc = -1;
			goto done;
		}
		if (strstr(footer, bd) != NULL) {
			buf_adds(err, "the footer contains the message's MIME "
			              "boundary");
			rc = -1;
			goto done;
		}
		pl->mode = M_MIXED;
		pl->boundary = xstrdup(bd);
		pl->close_at = close_delim(raw, h->body, in->len, bd);
		goto done;
	}
	if (strcmp(ct.type, "text") != 0 || strcmp(ct.sub, "plain") != 0 ||
	    str_has_prefix_ci(buf_str(&disp), "attachment") ||
	    strcasestr(buf_str(&disp), "filename") != NULL ||
	    ctype_param(&ct, "name") != NULL ||
	    (cte.len > 0 && strcmp(cte.s, "7bit") != 0 &&
	     strcmp(cte.s, "8bit") != 0 && strcmp(cte.s, "binary") != 0 &&
	     strcmp(cte.s, "quoted-printable") != 0 &&
	     strcmp(cte.s, "base64") != 0))
		goto wrap;

	/* A single text/plain body: the footer joins the text. */
	if (strcmp(cte.s ? cte.s : "", "base64") == 0) {
		struct buf dec = BUF_INIT;
		const char *tnl;

		buf_init(&dec, 0);
		if (b64_decode(body, blen, &dec) < 0) {
			buf_free(&dec);
			goto wrap;
		}
		/* Text in base64 is canonical (CRLF); follow what it has. */
		tnl = dec.len == 0 || memmem(dec.s, dec.len, "\r\n", 2) ||
		              memchr(dec.s, '\n', dec.len) == NULL
		          ? "\r\n"
		          : "\n";
		footer_lines(footer, tnl, &ft);
		if (cls == CS_UTF8 ||
		    (cls == CS_ASCII && all_ascii(ft.s, ft.len))) {
			buf_add(&conv, ft.s, ft.len);
		} else if (cls == CS_ASCII) {
			if (!all_ascii(dec.s, dec.len)) {
				buf_free(&dec);
				goto wrap;
			}
			pl->ct_utf8 = 1;
			buf_add(&conv, ft.s, ft.len);
		} else if (to_charset(cs, ft.s, ft.len, &conv) < 0) {
			buf_free(&dec);
			goto wrap;
		}
		buf_init(&pl->body, 0);
		end_body(dec.s ? dec.s : "", dec.len, flowed, tnl, &dec);
		buf_add(&dec, conv.s, conv.len);
		if (b64_encode((const unsigned char *)dec.s, dec.len, nl,
		               &pl->body) < 0) {
			buf_free(&dec);
			buf_adds(err, "decorated body too large");
			rc = -1;
			goto done;
		}
		buf_free(&dec);
		pl->mode = M_APPEND;
		goto done;
	}

	footer_lines(footer, nl, &ft);
	if (cls == CS_UTF8 || (cls == CS_ASCII && all_ascii(ft.s, ft.len))) {
		buf_add(&conv, ft.s, ft.len);
	} else if (cls == CS_ASCII) {
		int body_ascii =
		    strcmp(cte.s ? cte.s : "", "quoted-printable") == 0
		        ? qp_ascii(body, blen)
		        : all_ascii(body, blen);

		if (!body_ascii)
			goto wrap;
		pl->ct_utf8 = 1;
		buf_add(&conv, ft.s, ft.len);
	} else if (to_charset(cs, ft.s, ft.len, &conv) < 0) {
		goto wrap;
	}
	buf_init(&pl->body, 0);
	buf_add(&pl->body, body, blen);
	if (strcmp(cte.s ? cte.s : "", "quoted-printable") == 0) {
		size_t e = blen;

		/* A soft break ("=" at the end) on the last line would join
		 * the footer to it: end that line with a hard break. */
		while (e > 0 && (body[e - 1] == '\n' || body[e - 1] == '\r'))
			e--;
		while (e > 0 && is_wsp(body[e - 1]))
			e--;
		if (blen > 0 && body[blen - 1] != '\n')
			buf_adds(&pl->body, nl);
		if (e > 0 && body[e - 1] == '=')
			buf_adds(&pl->body, nl);
		rc = qp_encode(conv.s, conv.len, nl, &pl->body);
	} else {
		end_body(body, blen, flowed, nl, &pl->body);
		rc = buf_add(&pl->body, conv.s, conv.len);
		if (!all_ascii(conv.s, conv.len) &&
		    (cte.len == 0 || strcmp(cte.s, "7bit") == 0))
			pl->cte_new = "8bit";
	}
	if (rc < 0) {
		buf_adds(err, "decorated body too large");
		goto done;
	}
	pl->mode = M_APPEND;
	goto done;

wrap:
	if (new_boundary(in, NULL, pl->newb, sizeof(pl->newb)) < 0) {
		buf_adds(err, "no MIME boundary found that is not in the "
		              "message");
		rc = -1;
		goto done;
	}
	pl->mode = M_WRAP;
done:
	ctype_free(&ct);
	buf_free(&cte);
	buf_free(&disp);
	buf_free(&ft);
	buf_free(&conv);
	return rc;
}

/* Content-Type of a text/plain body, its charset now utf-8. */
static void
write_ct_utf8(const char *raw, const struct field *ctf, const char *nl,
              struct buf *out)
{
	struct ctype ct;
	size_t i;

	ctype_parse(raw, ctf, &ct);
	buf_adds(out, "Content-Type: text/plain; charset=utf-8");
	for (i = 0; i < ct.np; i++) {
		if (strcmp(ct.p[i].name, "charset") == 0)
			continue;
		buf_adds(out, ";");
		buf_adds(out, nl);
		buf_printf(out, " %s=", ct.p[i].name);
		buf_add(out, ct.p[i].v, ct.p[i].vlen);
	}
	buf_adds(out, nl);
	ctype_free(&ct);
}

/* ---- putting it together ------------------------------------------------ */

static int
dropped(const char *raw, const struct field *f)
{
	static const char *const names[] = {
	    "approved",          "approve",
	    "return-receipt-to", "disposition-notification-to",
	    "delivered-to",      "x-original-to",
	    "x-envelope-to",     "return-path",
	    "archived-at",       "x-loop",
	    "precedence",        "content-length",
	    "x-approved",        "x-approve",
	};
	size_t i;

	if (field_has_prefix(raw, f, "list-") ||
	    field_has_prefix(raw, f, "x-mlmd-"))
		return 1;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (field_is(raw, f, names[i]))
			return 1;
	return 0;
}

static void
copy_field(const char *raw, const struct field *f, const char *nl,
           struct buf *out)
{
	buf_add(out, raw + f->start, f->end - f->start);
	if (f->end == f->start || raw[f->end - 1] != '\n')
		buf_adds(out, nl);
}

static void
list_fields(const struct decorate_in *in, const char *addr, const char *nl,
            struct buf *out)
{
	const struct list_conf *l = in->list;
	const char *dom = in->domain;
	char sep = in->separator ? in->separator : '+';

	if (l->description && l->description[0]) {
		struct buf d = BUF_INIT, id = BUF_INIT;
		size_t i;

		/* Controls would break the field; they become spaces. */
		for (i = 0; l->description[i]; i++) {
			unsigned char c = (unsigned char)l->description[i];

			buf_addc(&d, c < ' ' || c == 127 ? ' ' : c);
		}
		buf_printf(&id, "<%s.%s>", l->name, dom);
		hdr_text(out, nl, "List-Id", buf_str(&d), 1, buf_str(&id));
		buf_free(&d);
		buf_free(&id);
	} else {
		buf_printf(out, "List-Id: <%s.%s>%s", l->name, dom, nl);
	}
	buf_printf(out, "List-Help: <mailto:%s%chelp@%s>%s", l->name, sep, dom,
	           nl);
	buf_printf(out, "List-Subscribe: <mailto:%s%csubscribe@%s>%s", l->name,
	           sep, dom, nl);
	if (!in->personal_unsubscribe) {
		buf_adds(out, "List-Unsubscribe: ");
		if (in->unsubscribe_url)
			buf_printf(out, "<%s>,%s ", in->unsubscribe_url, nl);
		if (in->unsubscribe_mailto)
			buf_printf(out, "<%s%s>%s",
			           str_has_prefix_ci(in->unsubscribe_mailto, "mailto:")
			               ? ""
			               : "mailto:",
			           in->unsubscribe_mailto, nl);
		else
			buf_printf(out, "<mailto:%s%cunsubscribe@%s>%s", l->name, sep,
			           dom, nl);
		if (in->unsubscribe_url &&
		    str_has_prefix_ci(in->unsubscribe_url, "https://"))
			buf_printf(out,
			           "List-Unsubscribe-Post: "
			           "List-Unsubscribe=One-Click%s",
			           nl);
	}
	if (l->posting == POST_ANNOUNCE)
		buf_printf(out, "List-Post: NO%s", nl);
	else
		buf_printf(out, "List-Post: <mailto:%s>%s", addr, nl);
	buf_printf(out, "List-Owner: <mailto:%s-owner@%s>%s", l->name, dom, nl);
	if (l->archive != ARCH_NONE) {
		if (in->archive_url)
			buf_printf(out, "List-Archive: <%s>%s", in->archive_url,
			           nl);
		else if (in->base_url)
			buf_printf(out, "List-Archive: <%s/archive/%s/>%s",
			           in->base_url, l->name, nl);
	}
	if (in->archived_at)
		buf_printf(out, "Archived-At: <%s>%s", in->archived_at, nl);
	buf_printf(out, "Precedence: list%s", nl);
	buf_printf(out, "X-Loop: %s%s", addr, nl);
	if (in->tags && *in->tags) {
		const char *t;
		size_t k = 0;

		/* the rule files' own words, but never a line break */
		buf_adds(out, "X-Mlmd-Tags: ");
		for (t = in->tags; *t && k < 200; t++, k++)
			buf_addc(out, (unsigned char)*t < ' ' ||
			                      (unsigned char)*t == 0x7f
			                  ? ' '
			                  : *t);
		buf_adds(out, nl);
	}
}

static int
check_input(const struct decorate_in *in, struct buf *err)
{
	const struct list_conf *l = in->list;
	const char *urls[] = {in->base_url, in->archive_url, in->archived_at,
	                      in->unsubscribe_url, in->unsubscribe_mailto};
	size_t i;

	if (in->raw == NULL || l == NULL || l->name == NULL ||
	    in->domain == NULL) {
		buf_adds(err, "decorate: no message, list or domain");
		return -1;
	}
	if (in->len > msg_default_limits.max_size) {
		buf_printf(err, "message larger than %zu bytes",
		           msg_default_limits.max_size);
		return -1;
	}
	if (!uri_ok(l->name) || !uri_ok(in->domain) ||
	    strlen(l->name) + strlen(in->domain) > 300 ||
	    (l->address && l->address[0] && !uri_ok(l->address))) {
		buf_adds(err, "list name, address or domain unusable in "
		              "header fields");
		return -1;
	}
	if (in->base_url &&
	    strlen(in->base_url) + strlen(l->name) > DECORATE_URL_MAX) {
		buf_adds(err, "base_url too long for List-Archive");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(urls); i++)
		if (urls[i] && !uri_ok(urls[i])) {
			buf_adds(err, "a URL or address given for the list "
			              "header fields is empty, too long or "
			              "has spaces, controls or <>\"");
			return -1;
		}
	if (in->dmarc_action != 0) {
		const char *a = in->author_addr, *at;

		if (in->dmarc_action != DECORATE_DMARC_MUNGE &&
		    in->dmarc_action != DECORATE_DMARC_WRAP) {
			buf_printf(err, "decorate: unknown DMARC action %d",
			           in->dmarc_action);
			return -1;
		}
		at = a ? strrchr(a, '@') : NULL;
		if (a == NULL || !uri_ok(a) || strlen(a) > 320 || at == NULL ||
		    at == a || at[1] == '\0') {
			buf_adds(err,
			         "DMARC mitigation without a usable author "
			         "address");
			return -1;
		}
	}
	if (in->footer) {
		const char *f = in->footer, *p;
		size_t fl = strlen(f);

		if (fl > DECORATE_FOOTER_MAX) {
			buf_printf(err, "footer longer than %zu bytes",
			           (size_t)DECORATE_FOOTER_MAX);
			return -1;
		}
		if (!utf8_valid(f, fl)) {
			buf_adds(err, "footer is not valid UTF-8");
			return -1;
		}
		for (p = f; *p;) {
			const char *e = strchr(p, '\n');
			size_t ll = e ? (size_t)(e - p) : strlen(p);

			if (ll > 900) {
				buf_adds(err, "footer line longer than 900 "
				              "bytes");
				return -1;
			}
			p += ll + (e != NULL);
		}
	}
	return 0;
}

/* ---- DMARC: From munging and wrapping ------------------------------------ */

/* Bytes of a display name or list label we put into From. */
#define DMARC_NAME_MAX 120

/*
 * s (valid UTF-8) for a header phrase or the note: controls become
 * spaces, runs of spaces one, trimmed, cut at max bytes on a character
 * boundary.  With strip_at, "@domain.tld" pieces go: a From that reads
 * "boss@bank.example via List" would pass for the bank's address.
 */
static void
clean_text(const char *s, size_t max, int strip_at, struct buf *out)
{
	size_t i = 0, n = strlen(s), start = out->len;
	int space = 1;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t l;

		if (strip_at && c == '@') {
			size_t k = i + 1;
			int dot = 0;

			while (k < n && (unsigned char)s[k] > ' ' &&
			       strchr("@<>()[]\",;", s[k]) == NULL) {
				dot |= s[k] == '.';
				k++;
			}
			if (dot) {
				i = k;
				continue;
			}
		}
		if (c < ' ' || c == 127 || c == ' ') {
			if (!space)
				buf_addc(out, ' ');
			space = 1;
			i++;
			continue;
		}
		l = utf8_len(s + i, n - i);
		if (out->len - start + l > max)
			break;
		buf_add(out, s + i, l);
		space = 0;
		i += l;
	}
	if (out->len > start && out->s[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
}

/* The author as a reader should see them: the display name, else the
 * local part of the address. */
static void
author_display(const struct decorate_in *in, int strip_at, struct buf *out)
{
	const char *nm = in->author_name, *a = in->author_addr;

	if (nm && nm[0] && utf8_valid(nm, strlen(nm)))
		clean_text(nm, DMARC_NAME_MAX, strip_at, out);
	if (out->len == 0) {
		size_t l = (size_t)(strrchr(a, '@') - a);

		buf_add(out, a, l < DMARC_NAME_MAX ? l : DMARC_NAME_MAX);
	}
}

/* From: "NAME via DESCRIPTION" <LIST@DOMAIN>, the whole field. */
static void
write_munged_from(const struct decorate_in *in, const char *addr,
                  const char *nl, struct buf *o)
{
	const char *desc = in->list->description;
	struct buf ph = BUF_INIT, tail = BUF_INIT;
	size_t before;

	author_display(in, 1, &ph);
	buf_adds(&ph, " via ");
	before = ph.len;
	if (desc && desc[0] && utf8_valid(desc, strlen(desc)))
		clean_text(desc, DMARC_NAME_MAX, 0, &ph);
	if (ph.len == before)
		buf_adds(&ph, in->list->name);
	buf_printf(&tail, "<%s>", addr);
	hdr_text(o, nl, "From", buf_str(&ph), 1, buf_str(&tail));
	buf_free(&ph);
	buf_free(&tail);
}

/* The author's mailbox ("Name <addr>", encoded and folded as needed, or
 * the bare address), to follow "field: " or a folding space. */
static void
author_mailbox(const struct decorate_in *in, const char *nl, const char *field,
               struct buf *out)
{
	struct buf name = BUF_INIT, tmp = BUF_INIT, tail = BUF_INIT;
	const char *nm = in->author_name;
	size_t skip = strlen(field) + 2, nll = strlen(nl);

	if (nm && nm[0] && utf8_valid(nm, strlen(nm)))
		clean_text(nm, DMARC_NAME_MAX, 0, &name);
	if (name.len == 0) {
		buf_adds(out, in->author_addr);
	} else {
		buf_printf(&tail, "<%s>", in->author_addr);
		hdr_text(&tmp, nl, field, buf_str(&name), 1, buf_str(&tail));
		buf_add(out, tmp.s + skip, tmp.len - skip - nll);
	}
	buf_free(&name);
	buf_free(&tmp);
	buf_free(&tail);
}

/* 1 if the address occurs in the field's value as an address (between
 * <>, commas, a colon or white space), case-insensitively. */
static int
value_has_addr(const char *raw, const struct field *f, const char *addr)
{
	static const char before[] = "<:, \t\r\n", after[] = ">;, \t\r\n";
	const char *v = raw + f->vstart;
	size_t n = f->end - f->vstart, al = strlen(addr), i;

	for (i = 0; i + al <= n; i++) {
		if (strncasecmp(v + i, addr, al) != 0)
			continue;
		if ((i == 0 || memchr(before, v[i - 1], sizeof(before) - 1)) &&
		    (i + al == n ||
		     memchr(after, v[i + al], sizeof(after) - 1)))
			return 1;
	}
	return 0;
}

/* "name:" with the value of f (NULL: none) and the mailbox added as the
 * last address, on a line of its own. */
static void
write_addr_added(const char *raw, const struct field *f, const char *name,
                 const char *mbox, const char *nl, struct buf *o)
{
	buf_printf(o, "%s:", name);
	if (f) {
		size_t e = f->end, k = f->vstart;

		while (e > k && (raw[e - 1] == '\n' || raw[e - 1] == '\r' ||
		                 is_wsp(raw[e - 1])))
			e--;
		while (k < e &&
		       (is_wsp(raw[k]) || raw[k] == '\r' || raw[k] == '\n'))
			k++;
		if (k < e) {
			buf_add(o, raw + f->vstart, e - f->vstart);
			buf_addc(o, ',');
			buf_adds(o, nl);
		}
	}
	buf_addc(o, ' ');
	buf_adds(o, mbox);
	buf_adds(o, nl);
}

/* Fields of the post that the wrapper keeps (From is written new). */
static int
wrap_keeps(const char *raw, const struct field *f)
{
	static const char *const names[] = {
	    "to",          "cc",         "date",    "message-id",
	    "in-reply-to", "references", "subject", "reply-to",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (field_is(raw, f, names[i]))
			return 1;
	return 0;
}

/* The transfer encoding a message/rfc822 part of these bytes needs
 * (RFC 2046 section 5.2.1: 7bit, 8bit or binary), NULL for 7bit. */
static const char *
rfc822_cte(const char *s, size_t n)
{
	size_t i, col = 0;
	int eight = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return "binary";
		if (c == '\n')
			col = 0;
		else if (++col > 998)
			return "binary";
		if (c >= 0x80)
			eight = 1;
	}
	return eight ? "8bit" : NULL;
}

/* The note that opens a wrapped post, as a text/plain part. */
static void
wrap_note(const struct decorate_in *in, const char *nl, struct buf *out)
{
	struct buf t = BUF_INIT;

	buf_adds(&t, "The message from ");
	author_display(in, 0, &t);
	buf_printf(&t,
	           " <%s>\nis attached as it was sent: the DMARC policy of "
	           "the sender's domain\ndoes not let the list pass it on "
	           "in the sender's name.\n",
	           in->author_addr);
	footer_part(buf_str(&t), nl, out);
	buf_free(&t);
}

/*
 * The body of a wrapped post, delimited by b: the note (a text/plain part
 * from wrap_note()), the post as message/rfc822 (its fields except those
 * never sent, byte for byte, then its body byte for byte), the footer.
 */
static void
wrap_body(const struct decorate_in *in, const struct hdrs *h, const char *nl,
          const char *b, const struct buf *note, struct buf *o)
{
	const char *raw = in->raw, *cte;
	size_t i, from = h->n ? h->f[0].start : h->body;

	buf_printf(o, "--%s%s", b, nl);
	buf_add(o, note->s, note->len);
	buf_printf(o, "%s--%s%sContent-Type: message/rfc822%s", nl, b, nl, nl);
	cte = rfc822_cte(raw + from, in->len - from);
	if (cte)
		buf_printf(o, "Content-Transfer-Encoding: %s%s", cte, nl);
	buf_printf(o, "Content-Disposition: inline%s%s", nl, nl);
	for (i = 0; i < h->n; i++)
		if (!dropped(raw, &h->f[i]))
			copy_field(raw, &h->f[i], nl, o);
	buf_adds(o, nl);
	buf_add(o, raw + h->body, in->len - h->body);
	if (in->footer && in->footer[0]) {
		buf_printf(o, "%s--%s%s", nl, b, nl);
		footer_part(in->footer, nl, o);
	}
	buf_printf(o, "%s--%s--%s", nl, b, nl);
}

int
decorate(const struct decorate_in *in, struct buf *out, struct buf *err)
{
	struct hdrs h = {NULL, 0, 0, 0};
	struct plan pl;
	struct buf o, subj = BUF_INIT, addrb = BUF_INIT;
	const char *raw = in->raw, *nl;
	const struct field *subjf = NULL, *rtf = NULL, *ctf = NULL;
	const struct field *ctef = NULL, *cdf = NULL, *mvf = NULL;
	const struct field *fromf = NULL, *ccf = NULL;
	const char *addr;
	int new_subject = 0, rc = -1, add_rt = 0;
	int dm = in->dmarc_action, wrap = dm == DECORATE_DMARC_WRAP;
	int rt_author = 0, cc_author = 0;
	struct buf mbox = BUF_INIT, note = BUF_INIT;
	char wb[64];
	size_t i, e;

	memset(&pl, 0, sizeof(pl));
	pl.close_at = (size_t)-1;
	if (check_input(in, err) < 0)
		return -1;
	if (hdrs_split(raw, in->len, &h, err) < 0)
		goto out;
	e = line_end(raw, in->len, 0);
	nl = e > 0 && e < in->len && raw[e - 1] == '\r' ? "\r\n" : "\n";
	if (in->list->address && in->list->address[0])
		addr = in->list->address;
	else {
		buf_printf(&addrb, "%s@%s", in->list->name, in->domain);
		addr = buf_str(&addrb);
	}

	for (i = 0; i < h.n; i++) {
		const struct field *f = &h.f[i];

		if (!subjf && field_is(raw, f, "subject"))
			subjf = f;
		else if (!rtf && field_is(raw, f, "reply-to"))
			rtf = f;
		else if (!ctf && field_is(raw, f, "content-type"))
			ctf = f;
		else if (!ctef && field_is(raw, f, "content-transfer-encoding"))
			ctef = f;
		else if (!cdf && field_is(raw, f, "content-disposition"))
			cdf = f;
		else if (!mvf && field_is(raw, f, "mime-version"))
			mvf = f;
		else if (!fromf && field_is(raw, f, "from"))
			fromf = f;
		else if (!ccf && field_is(raw, f, "cc"))
			ccf = f;
	}

	/* Subject. */
	{
		struct buf dec = BUF_INIT, raw_v = BUF_INIT;

		if (subjf) {
			buf_add(&raw_v, raw + subjf->vstart,
			        subjf->end - subjf->vstart);
			msg_decode_header(buf_str(&raw_v), raw_v.len, &dec);
		}
		new_subject = decorate_subject(buf_str(&dec),
		                               in->list->subject_prefix, &subj);
		if (!subjf && !new_subject) {
			buf_adds(&subj, "(no subject)");
			new_subject = 1;
		}
		buf_free(&dec);
		buf_free(&raw_v);
	}

	/* Reply-To. */
	if (in->list->reply_to == REPLY_LIST &&
	    (rtf == NULL || in->reply_to_override))
		add_rt = 1;

	/* DMARC: where a reply finds the author once From is the list's
	 * (Mailman 3's rule, see decorate.h). */
	if (dm && strcasecmp(in->author_addr, addr) != 0) {
		if (in->list->reply_to == REPLY_AUTHOR)
			rt_author = rtf == NULL ||
			            !value_has_addr(raw, rtf, in->author_addr);
		else
			cc_author = ccf == NULL ||
			            !value_has_addr(raw, ccf, in->author_addr);
		author_mailbox(in, nl, rt_author ? "Reply-To" : "Cc", &mbox);
	}
	if (wrap) {
		wrap_note(in, nl, &note);
		if (new_boundary(in, buf_str(&note), wb, sizeof(wb)) < 0) {
			buf_adds(err, "no MIME boundary found that is not in "
			              "the message");
			goto out;
		}
		pl.mode = M_DMARC_WRAP;
	} else if (in->footer && in->footer[0]) {
		if (plan_body(in, &h, ctf, ctef, cdf, nl, &pl, err) < 0)
			goto out;
	}

	/*
	 * The work buffers use the default cap (256 MiB).  With the input at
	 * most 64 MiB and the footer 64 KiB, the output is bounded by about
	 * twice the input (base64 re-encoding of a decoded body, encoded
	 * words at most four times a 64 KiB Subject), so no append can pass
	 * the cap and be silently short; the check below is a tripwire.
	 */
	buf_init(&o, 0);
	for (i = 0; i < h.n; i++) {
		const struct field *f = &h.f[i];

		if (dropped(raw, f))
			continue;
		if (dm) {
			if (field_is(raw, f, "dkim-signature") ||
			    field_is(raw, f, "x-original-from"))
				continue;
			if (field_is(raw, f, "from")) {
				if (f == fromf)
					write_munged_from(in, addr, nl, &o);
				continue;
			}
			if (wrap && !wrap_keeps(raw, f))
				continue;
			if (f == ccf && cc_author) {
				write_addr_added(raw, f, "Cc", buf_str(&mbox),
				                 nl, &o);
				continue;
			}
			if (f == rtf && rt_author) {
				write_addr_added(raw, f, "Reply-To",
				                 buf_str(&mbox), nl, &o);
				continue;
			}
		}
		if (field_is(raw, f, "subject")) {
			if (f != subjf)
				continue; /* a second Subject confuses */
			if (new_subject)
				hdr_text(&o, nl, "Subject", buf_str(&subj), 0,
				         NULL);
			else
				copy_field(raw, f, nl, &o);
			continue;
		}
		if (f == rtf && add_rt)
			continue;
		if (pl.mode == M_WRAP && field_has_prefix(raw, f, "content-"))
			continue;
		if (pl.mode == M_APPEND && f == ctf && pl.ct_utf8) {
			write_ct_utf8(raw, ctf, nl, &o);
			continue;
		}
		if (pl.mode == M_APPEND && f == ctef && pl.cte_new) {
			buf_printf(&o, "Content-Transfer-Encoding: %s%s",
			           pl.cte_new, nl);
			continue;
		}
		copy_field(raw, f, nl, &o);
	}
	if (!subjf)
		hdr_text(&o, nl, "Subject", buf_str(&subj), 0, NULL);
	if (add_rt)
		buf_printf(&o, "Reply-To: %s%s", addr, nl);
	if (dm) {
		if (!fromf)
			write_munged_from(in, addr, nl, &o);
		if (rt_author && !rtf)
			write_addr_added(raw, NULL, "Reply-To", buf_str(&mbox),
			                 nl, &o);
		if (cc_author && !ccf)
			write_addr_added(raw, NULL, "Cc", buf_str(&mbox), nl,
			                 &o);
		if (fromf) {
			buf_adds(&o, "X-Original-From:");
			buf_add(&o, raw + fromf->vstart,
			        fromf->end - fromf->vstart);
			if (raw[fromf->end - 1] != '\n')
				buf_adds(&o, nl);
		} else {
			buf_printf(&o, "X-Original-From: <%s>%s",
			           in->author_addr, nl);
		}
		if (wrap)
			buf_printf(&o,
			           "MIME-Version: 1.0%s"
			           "Content-Type: multipart/mixed;%s "
			           "boundary=\"%s\"%s",
			           nl, nl, wb, nl);
	}
	if (pl.mode == M_APPEND || pl.mode == M_WRAP) {
		if (!mvf && (pl.mode == M_WRAP || pl.ct_utf8 || pl.cte_new))
			buf_printf(&o, "MIME-Version: 1.0%s", nl);
		if (pl.mode == M_APPEND && pl.ct_utf8 && !ctf)
			write_ct_utf8(raw, NULL, nl, &o);
		if (pl.mode == M_APPEND && pl.cte_new && !ctef)
			buf_printf(&o, "Content-Transfer-Encoding: %s%s",
			           pl.cte_new, nl);
		if (pl.mode == M_WRAP)
			buf_printf(&o,
			           "Content-Type: multipart/mixed;%s "
			           "boundary=\"%s\"%s",
			           nl, pl.newb, nl);
	}
	list_fields(in, addr, nl, &o);
	buf_adds(&o, nl);

	switch (pl.mode) {
	case M_DMARC_WRAP:
		wrap_body(in, &h, nl, wb, &note, &o);
		break;
	case M_NONE:
		buf_add(&o, raw + h.body, in->len - h.body);
		break;
	case M_APPEND:
		buf_add(&o, pl.body.s, pl.body.len);
		break;
	case M_MIXED:
		if (pl.close_at != (size_t)-1) {
			buf_add(&o, raw + h.body, pl.close_at - h.body);
			buf_printf(&o, "--%s%s", pl.boundary, nl);
			footer_part(in->footer, nl, &o);
			buf_adds(&o, nl);
			buf_add(&o, raw + pl.close_at, in->len - pl.close_at);
		} else {
			buf_add(&o, raw + h.body, in->len - h.body);
			buf_printf(&o, "%s--%s%s", nl, pl.boundary, nl);
			footer_part(in->footer, nl, &o);
			buf_printf(&o, "%s--%s--%s", nl, pl.boundary, nl);
		}
		break;
	case M_WRAP:
		buf_printf(&o, "--%s%s", pl.newb, nl);
		for (i = 0; i < h.n; i++)
			if (field_has_prefix(raw, &h.f[i], "content-") &&
			    !dropped(raw, &h.f[i]))
				copy_field(raw, &h.f[i], nl, &o);
		buf_adds(&o, nl);
		buf_add(&o, raw + h.body, in->len - h.body);
		buf_printf(&o, "%s--%s%s", nl, pl.newb, nl);
		footer_part(in->footer, nl, &o);
		buf_printf(&o, "%s--%s--%s", nl, pl.newb, nl);
		break;
	}
	/* A capped append fails and leaves o short: compare what was meant
	 * with what is there by checking the cap was never reached. */
	if (o.len + 1 >= BUF_DEFAULT_MAX) {
		buf_adds(err, "decorated message too large");
		buf_free(&o);
		goto out;
	}
	if (buf_add(out, o.s, o.len) < 0) {
		buf_adds(err, "decorated message does not fit the output "
		              "buffer");
		buf_free(&o);
		goto out;
	}
	buf_free(&o);
	rc = 0;
out:
	free(h.f);
	buf_free(&subj);
	buf_free(&addrb);
	buf_free(&mbox);
	buf_free(&note);
	buf_free(&pl.body);
	free(pl.boundary);
	return rc;
}

/* ---- shared with compose.c -------------------------------------------- */

void
mime_header_text(struct buf *out, const char *nl, const char *name,
                 const char *text)
{
	hdr_text(out, nl, name, text, 0, NULL);
}

void
mime_header_phrase(struct buf *out, const char *nl, const char *name,
                   const char *text, const char *tail)
{
	hdr_text(out, nl, name, text, 1, tail);
}

int
mime_qp_encode(const char *s, size_t n, const char *nl, struct buf *out)
{
	return qp_encode(s, n, nl, out);
}
