/*
 * digest_compose.c - the digest mail (digest_compose.h): posts made into
 * one MIME digest (RFC 2046 section 5.1.5 multipart/digest inside a
 * multipart/mixed) or one plain-text digest (RFC 1153).
 *
 * Who calls it: digest.c, when a digest is due; the tests.
 *
 * Invariants and why:
 *  - Pure: the only outside state read is the words files and the time
 *    zone database; TZ is set for the call (as archive.c does) and put
 *    back before returning, on every path.  The same input gives the same
 *    bytes: boundaries come from the volume and issue and a counter, not
 *    from randomness.
 *  - Nothing from a post is trusted.  Text shown by us (subjects, names,
 *    ids) is cleaned: invalid UTF-8 becomes U+FFFD, control characters
 *    become spaces, lengths are capped; header fields go through
 *    decorate.c's RFC 2047 writers.  Raw posts are parsed with the default
 *    limits; the bytes copied into a message/rfc822 part have their header
 *    cut to a fixed list of fields, and the boundaries are checked against
 *    every byte of every post (and our own text) and changed until they
 *    occur nowhere.
 *  - Bounded memory: every buffer is capped at what is left of out's cap,
 *    so a digest that cannot fit fails early with out unchanged.
 *  - LF line ends throughout (CRLF in posts becomes LF); the caller's
 *    transport makes CRLF.
 *
 * Errors: -1 for a full buffer or an unusable digest_info; never fatal.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "decorate.h"
#include "digest_compose.h"
#include "html_text.h"
#include "msg.h"
#include "util.h"
#include "words.h"

#define SEP70 "----------------------------------------------------------------------"
#define SEP30 "------------------------------"
/* Most bytes of a subject or a name shown in the contents and headers. */
#define SHOW_MAX 400
/* Room for header fields written by functions that cannot report a full
 * buffer (mime_header_*): they only ever write short lines. */
#define HDR_SLACK ((size_t)64 << 10)

/* The fields a post keeps inside the MIME digest. */
static const char *const keep_fields[] = {
	"Date", "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To",
	"References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Content-Disposition",
};
#define N_MIME_FIELDS 4 /* the last four: dropped when the body is ours */

/* Transfer-encoding classes of bytes, in order of strength. */
enum cls { C_7BIT, C_8BIT, C_BINARY };
static const char *const cls_name[] = {"7bit", "8bit", "binary"};

struct dc {
	const struct digest_info *d;
	const char *lang;      /* checked: letters, digits, '-' */
	const char *templates;
	const char *domain;    /* after the '@' of list_address */
	size_t limit;          /* most bytes the mail may take */
	int full;              /* an append failed */
	int plain;
	char *tz_saved;
	int tz_had;
	/* per post, filled by the first pass */
	unsigned char *include;
	/* thread order for the contents: post indices, grouped */
	size_t *order;
	size_t n_incl;
};

/* ---- appending ----------------------------------------------------------- */

static void
add(struct dc *c, struct buf *b, const void *p, size_t n)
{
	if (n && buf_add(b, p, n) < 0)
		c->full = 1;
}

static void
adds(struct dc *c, struct buf *b, const char *s)
{
	add(c, b, s, strlen(s));
}

static void __attribute__((format(printf, 3, 4)))
addf(struct dc *c, struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	if (rc < 0)
		c->full = 1;
}

static void
tmp_init(struct dc *c, struct buf *b)
{
	buf_init(b, c->limit);
}

/* ---- checks and cleaning ------------------------------------------------- */

static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* An address or id as it may stand inside <>, unquoted. */
static int
plain_token(const char *a, int need_at)
{
	size_t i, n;

	if (!a || !*a || (n = strlen(a)) > 320)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("<>\"(),;\\[]", ch))
			return 0;
	}
	if (need_at) {
		const char *at = strrchr(a, '@');

		if (!at || at == a || !at[1])
			return 0;
	}
	return 1;
}

/* A URL for a header field or a line: printable ASCII, no <>, short. */
static int
url_ok(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > 900)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] >= 0x7f ||
		    u[i] == '<' || u[i] == '>' || u[i] == '"')
			return 0;
	return 1;
}

/*
 * One line of text to show: valid UTF-8 kept, invalid bytes become
 * U+FFFD, control characters a space, runs of spaces one space, and at
 * most max bytes (cut at a character).
 */
static void
clean(struct dc *c, struct buf *out, const char *s, size_t max)
{
	size_t n = strlen(nz(s)), i = 0, start = out->len;
	int sp = 1;

	while (i < n && out->len - start < max) {
		unsigned char ch = (unsigned char)s[i];
		size_t k = utf8_seq_len(s + i, n - i);

		if (k == 0) {
			if (out->len - start + 3 > max)
				break;
			adds(c, out, "\xef\xbf\xbd");
			sp = 0;
			i++;
		} else if (k == 1 && (ch < ' ' || ch == 0x7f || ch == ' ')) {
			if (!sp)
				add(c, out, " ", 1);
			sp = 1;
			i++;
		} else {
			if (out->len - start + k > max)
				break;
			add(c, out, s + i, k);
			sp = 0;
			i += k;
		}
	}
	while (out->len > start && out->s[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
}

/* ---- words --------------------------------------------------------------- */

static const char *
word(const struct dc *c, const char *key)
{
	return words_get(c->templates, c->lang, "digest", key);
}

/* The words for key with {list} {vol} {issue} {n} {request} {address}
 * {url} filled in, as one clean line, appended to out. */
static void
wline(struct dc *c, struct buf *out, const char *key, long n,
      const char *url)
{
	const struct digest_info *d = c->d;
	const char *s = word(c, key);
	struct buf t = BUF_INIT;

	buf_init(&t, (size_t)1 << 16);
	while (*s) {
		const char *e;
		size_t k;

		if (*s != '{' || !(e = strchr(s, '}'))) {
			buf_addc(&t, *s++);
			continue;
		}
		k = (size_t)(e - s + 1);
		if (k == 6 && memcmp(s, "{list}", k) == 0)
			buf_adds(&t, nz(d->list));
		else if (k == 5 && memcmp(s, "{vol}", k) == 0)
			buf_printf(&t, "%ld", d->volume);
		else if (k == 7 && memcmp(s, "{issue}", k) == 0)
			buf_printf(&t, "%ld", d->issue);
		else if (k == 3 && memcmp(s, "{n}", k) == 0)
			buf_printf(&t, "%ld", n);
		else if (k == 9 && memcmp(s, "{request}", k) == 0)
			buf_adds(&t, nz(d->request_address));
		else if (k == 9 && memcmp(s, "{address}", k) == 0)
			buf_adds(&t, nz(d->list_address));
		else if (k == 5 && memcmp(s, "{url}", k) == 0)
			buf_adds(&t, nz(url));
		else
			buf_add(&t, s, k);
		s = e + 1;
	}
	clean(c, out, buf_str(&t), 2000);
	buf_free(&t);
}

/* ---- shown values -------------------------------------------------------- */

/* "Tue, 03 Mar 2026 10:00:00 +0100" in the list's zone (TZ is set). */
static void
date_local(struct dc *c, struct buf *out, time_t t)
{
	struct tm tm;
	char s[64];

	if (!localtime_r(&t, &tm) ||
	    strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		return;
	adds(c, out, s);
}

/* "Name <addr>", or the one of them there is. */
static void
author(struct dc *c, struct buf *out, const struct digest_post *p)
{
	struct buf nm = BUF_INIT, a = BUF_INIT;

	buf_init(&nm, SHOW_MAX);
	buf_init(&a, SHOW_MAX);
	clean(c, &nm, p->from_name, SHOW_MAX / 2);
	clean(c, &a, p->from_addr, SHOW_MAX / 2);
	if (nm.len && a.len)
		addf(c, out, "%s <%s>", buf_str(&nm), buf_str(&a));
	else
		adds(c, out, nm.len ? buf_str(&nm) : a.len ? buf_str(&a) : "?");
	buf_free(&nm);
	buf_free(&a);
}

/* The thread's subject as shown in the contents: the "[LIST]" tag and
 * reply markers taken off (decorate_subject() puts them in one known
 * order, "Re: [LIST] rest", which is then easy to cut). */
static void
topic(struct dc *c, struct buf *out, const char *subject)
{
	struct buf t = BUF_INIT, tag = BUF_INIT, o = BUF_INIT;
	const char *s;
	size_t tl;

	buf_init(&t, SHOW_MAX + 8);
	buf_init(&o, SHOW_MAX + 256);
	clean(c, &t, subject, SHOW_MAX);
	buf_printf(&tag, "[%s]", nz(c->d->list));
	s = decorate_subject(buf_str(&t), buf_str(&tag), &o) == 1 ?
	    buf_str(&o) : buf_str(&t);
	tl = tag.len;
	for (;;) {
		while (*s == ' ')
			s++;
		if (strncmp(s, "Re:", 3) == 0)
			s += 3;
		else if (strncasecmp(s, buf_str(&tag), tl) == 0)
			s += tl;
		else
			break;
	}
	adds(c, out, *s ? s : "(no subject)");
	buf_free(&t);
	buf_free(&tag);
	buf_free(&o);
}

/* ---- the posts ----------------------------------------------------------- */

static size_t
line_end(const char *s, size_t n, size_t i)
{
	const char *e = memchr(s + i, '\n', n - i);

	return e ? (size_t)(e - s) : n;
}

/* Length of the field name of a header line s[0..n), or 0 if it is not
 * "name:" (RFC 5322 ftext: printable ASCII but ':'). */
static size_t
field_name(const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < n && s[k] != ':'; k++)
		if ((unsigned char)s[k] <= ' ' || (unsigned char)s[k] >= 0x7f)
			return 0;
	if (k == n || k == 0)
		return 0;
	return k;
}

/* Skip an mbox "From " line at the start. */
static size_t
skip_from_(const char *s, size_t n)
{
	if (n >= 5 && memcmp(s, "From ", 5) == 0) {
		size_t e = line_end(s, n, 0);

		return e < n ? e + 1 : n;
	}
	return 0;
}

/* 1 if the post starts with a header field (after an mbox From_ line). */
static int
has_header_block(const char *s, size_t n)
{
	size_t i = skip_from_(s, n);

	return field_name(s + i, line_end(s, n, i) - i) > 0;
}

/* Append s[0..n) with CRLF made LF. */
static void
add_lf(struct dc *c, struct buf *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !c->full) {
		const char *cr = memchr(s + i, '\r', n - i);
		size_t k = cr ? (size_t)(cr - s) : n;

		add(c, out, s + i, k - i);
		i = k;
		if (i < n) {
			if (!(i + 1 < n && s[i + 1] == '\n'))
				add(c, out, "\r", 1);
			i++;
		}
	}
}

/*
 * The kept fields of the post's header block (keep_fields; without the
 * MIME ones when no_mime), LF line ends.  Returns the offset of the body.
 * Lines in the header block that are no field are dropped; a post whose
 * first line is no field has an empty header block.
 */
static size_t
cut_header(struct dc *c, struct buf *out, const char *s, size_t n,
           int no_mime)
{
	size_t i = skip_from_(s, n), nkeep = ARRAY_SIZE(keep_fields);
	int keep = 0;

	if (no_mime)
		nkeep -= N_MIME_FIELDS;
	if (!has_header_block(s, n))
		return i;
	while (i < n) {
		size_t e = line_end(s, n, i), le = e, k, f;

		if (le > i && s[le - 1] == '\r')
			le--;
		if (le == i)
			return e < n ? e + 1 : n;
		if (s[i] == ' ' || s[i] == '\t') {
			/* a continuation line */
		} else if ((f = field_name(s + i, le - i)) > 0) {
			keep = 0;
			for (k = 0; k < nkeep; k++)
				if (strlen(keep_fields[k]) == f &&
				    strncasecmp(s + i, keep_fields[k], f) == 0)
					keep = 1;
		} else {
			keep = 0;
		}
		if (keep) {
			add(c, out, s + i, le - i);
			add(c, out, "\n", 1);
		}
		i = e < n ? e + 1 : n;
	}
	return n;
}

/* The class of bytes: 8bit if any byte is, binary if NUL or a line over
 * 998 octets (RFC 5322 section 2.1.1). */
static enum cls
classify(const char *s, size_t n)
{
	enum cls k = C_7BIT;
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == 0)
			return C_BINARY;
		if (ch >= 0x80)
			k = C_8BIT;
		col = ch == '\n' ? 0 : col + 1;
		if (col > 998)
			return C_BINARY;
	}
	return k;
}

/* An attachment: a part that is not text, or has a name or the
 * disposition "attachment". */
static int
is_attachment(const struct msg_part *pt)
{
	return pt->is_attachment || *nz(pt->filename) || !pt->text;
}

static int
has_attachments(const struct msg *m)
{
	size_t i;

	for (i = 0; i < m->n_parts; i++)
		if (is_attachment(&m->parts[i]))
			return 1;
	return 0;
}

/* The post's text: its text parts (not HTML), else its HTML parts as
 * text.  Line ends LF, valid UTF-8 (msg.h promises it of ->text). */
static void
post_text(struct dc *c, struct buf *out, const struct msg *m)
{
	size_t i, start = out->len;
	int html = 0;

	for (html = 0; html < 2 && out->len == start; html++)
		for (i = 0; i < m->n_parts; i++) {
			const struct msg_part *pt = &m->parts[i];

			if (is_attachment(pt) ||
			    (strcmp(pt->type, "text/html") == 0) != html)
				continue;
			if (out->len > start && out->s[out->len - 1] != '\n')
				add(c, out, "\n", 1);
			if (out->len > start)
				add(c, out, "\n", 1);
			if (!html) {
				add(c, out, pt->text, pt->text_len);
			} else if (html_to_text(pt->text, pt->text_len, out) <
			           0 || out->len >= c->limit) {
				c->full = 1;
			}
		}
	if (out->len > start && out->s[out->len - 1] != '\n')
		add(c, out, "\n", 1);
}

/* "[attachment: NAME TYPE SIZE]" for each attachment. */
static void
attachment_lines(struct dc *c, struct buf *out, const struct msg *m)
{
	size_t i;

	for (i = 0; i < m->n_parts; i++) {
		const struct msg_part *pt = &m->parts[i];
		double sz = (double)pt->size;

		if (!is_attachment(pt))
			continue;
		adds(c, out, "[attachment: ");
		if (*nz(pt->filename)) {
			clean(c, out, pt->filename, 200);
			add(c, out, " ", 1);
		}
		clean(c, out, pt->type, 100);
		if (pt->size < 1024)
			addf(c, out, " %zu B]\n", pt->size);
		else if (pt->size < (size_t)1 << 20)
			addf(c, out, " %.1f KB]\n", sz / 1024);
		else
			addf(c, out, " %.1f MB]\n", sz / (1024 * 1024));
	}
}

/* The line pointing to the archive instead of the attachments, or the
 * attachment lines when the post has no archive page. */
static void
attachments_instead(struct dc *c, struct buf *out, const struct msg *m,
                    const struct digest_post *p)
{
	if (url_ok(nz(p->archive_url))) {
		wline(c, out, "attachments_link", 0, p->archive_url);
		add(c, out, "\n", 1);
	} else {
		attachment_lines(c, out, m);
	}
}

/* A parse with the default limits; NULL if refused. */
static struct msg *
parse(const struct digest_post *p)
{
	struct msg *m = NULL;
	struct buf err = BUF_INIT;

	if (!p->raw || p->len == 0 ||
	    msg_parse(p->raw, p->len, &msg_default_limits, &m, &err) < 0)
		m = NULL;
	buf_free(&err);
	return m;
}

/* ---- the contents and the footer ----------------------------------------- */

struct tsort {
	long long thread;
	size_t first, i;
};

static int
by_thread(const void *a, const void *b)
{
	const struct tsort *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int
by_first(const void *a, const void *b)
{
	const struct tsort *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* c->order: the included posts grouped by thread, threads in the order of
 * their first post, posts in order within a thread. */
static void
thread_order(struct dc *c, const struct digest_post *p, size_t n)
{
	struct tsort *t = xcalloc(n ? n : 1, sizeof(*t));
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (c->include[i]) {
			t[k].thread = p[i].thread;
			t[k].i = i;
			k++;
		}
	qsort(t, k, sizeof(*t), by_thread);
	for (i = 0; i < k; i++)
		t[i].first = i > 0 && t[i].thread == t[i - 1].thread ?
		             t[i - 1].first : t[i].i;
	qsort(t, k, sizeof(*t), by_first);
	c->order = xcalloc(k ? k : 1, sizeof(size_t));
	for (i = 0; i < k; i++)
		c->order[i] = t[i].i;
	c->n_incl = k;
	free(t);
}

static void
contents(struct dc *c, struct buf *out, const struct digest_post *p)
{
	const struct digest_info *d = c->d;
	size_t i, j, nt = 0;

	wline(c, out, "title", 0, NULL);
	add(c, out, "\n", 1);
	if (*nz(d->description)) {
		clean(c, out, d->description, SHOW_MAX);
		add(c, out, "\n", 1);
	}
	wline(c, out, "issue_line", 0, NULL);
	adds(c, out, "\n\n");
	wline(c, out, "post_to", 0, NULL);
	adds(c, out, "\n\n");
	wline(c, out, "contents", 0, NULL);
	adds(c, out, ":\n\n");
	for (i = 0; i < c->n_incl; i = j) {
		const struct digest_post *f = &p[c->order[i]];

		for (j = i + 1; j < c->n_incl && p[c->order[j]].thread ==
		                                  f->thread; j++)
			;
		addf(c, out, "%3zu. ", ++nt);
		topic(c, out, f->subject);
		adds(c, out, " (");
		if (j - i == 1)
			wline(c, out, "one_message", 1, NULL);
		else
			wline(c, out, "messages", (long)(j - i), NULL);
		adds(c, out, ")\n");
		for (; i < j; i++) {
			adds(c, out, "      ");
			author(c, out, &p[c->order[i]]);
			add(c, out, "\n", 1);
		}
	}
}

static void
footer(struct dc *c, struct buf *out)
{
	wline(c, out, "footer_switch", 0, NULL);
	add(c, out, "\n", 1);
	wline(c, out, "footer_format", 0, NULL);
	add(c, out, "\n", 1);
	wline(c, out, "footer_leave", 0, NULL);
	add(c, out, "\n", 1);
	if (url_ok(nz(c->d->archive_url))) {
		wline(c, out, "footer_archive", 0, c->d->archive_url);
		add(c, out, "\n", 1);
	}
}

/* ---- the mail's header --------------------------------------------------- */

static void
mail_header(struct dc *c, struct buf *b)
{
	const struct digest_info *d = c->d;
	struct buf t = BUF_INIT, a = BUF_INIT;
	struct tm tm;
	char date[64];

	buf_init(&t, (size_t)1 << 16);
	wline(c, &t, "title", 0, NULL);
	buf_printf(&a, "<%s>", d->request_address);
	mime_header_phrase(b, "\n", "From", buf_str(&t), buf_str(&a));
	addf(c, b, "To: <%s>\n", d->list_address);
	buf_reset(&t);
	wline(c, &t, "subject", 0, NULL);
	mime_header_text(b, "\n", "Subject", buf_str(&t));
	gmtime_r(&d->date, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	addf(c, b, "Date: %s\nMessage-ID: <%s>\n", date, d->message_id);
	buf_reset(&a);
	buf_printf(&a, "<%s.%s>", d->list, c->domain);
	buf_reset(&t);
	clean(c, &t, d->description, SHOW_MAX);
	if (t.len)
		mime_header_phrase(b, "\n", "List-Id", buf_str(&t),
		                   buf_str(&a));
	else
		addf(c, b, "List-Id: %s\n", buf_str(&a));
	addf(c, b, "List-Post: <mailto:%s>\n", d->list_address);
	addf(c, b, "List-Unsubscribe: <mailto:%s?subject=unsubscribe>\n",
	     d->request_address);
	if (url_ok(nz(d->archive_url)))
		addf(c, b, "List-Archive: <%s>\n", d->archive_url);
	adds(c, b, "Precedence: list\n");
	addf(c, b, "Content-Language: %s\nMIME-Version: 1.0\n", c->lang);
	buf_free(&t);
	buf_free(&a);
}

/* A text/plain body: 7bit when ASCII with short lines, else
 * quoted-printable (for the MIME digest's own parts). */
static void
text_part(struct dc *c, struct buf *b, const struct buf *text)
{
	adds(c, b, "Content-Type: text/plain; charset=utf-8\n");
	if (classify(text->s, text->len) == C_7BIT &&
	    !memchr(buf_str(text), '\r', text->len)) {
		adds(c, b, "Content-Transfer-Encoding: 7bit\n\n");
		add(c, b, text->s, text->len);
	} else {
		adds(c, b, "Content-Transfer-Encoding: quoted-printable\n\n");
		if (mime_qp_encode(buf_str(text), text->len, "\n", b) < 0)
			c->full = 1;
	}
}

/* ---- the MIME digest ----------------------------------------------------- */

/* One post as the content of its message/rfc822 part. */
static void
mime_post(struct dc *c, struct buf *out, const struct digest_post *p)
{
	struct msg *m = parse(p);
	size_t body;

	if (m && c->d->attachments_link && has_attachments(m)) {
		struct buf t = BUF_INIT;

		tmp_init(c, &t);
		cut_header(c, out, p->raw, p->len, 1);
		post_text(c, &t, m);
		if (t.len)
			add(c, &t, "\n", 1);
		attachments_instead(c, &t, m, p);
		adds(c, out, "MIME-Version: 1.0\n");
		text_part(c, out, &t);
		buf_free(&t);
	} else {
		body = cut_header(c, out, p->raw, p->len, 0);
		add(c, out, "\n", 1);
		add_lf(c, out, p->raw + body, p->len - body);
	}
	if (out->len && out->s[out->len - 1] != '\n')
		add(c, out, "\n", 1);
	msg_free(m);
}

/* A boundary base "=_mlmd_digest_V_I_K" found nowhere in the posts or in
 * our text (K counts up from 0); the two boundaries add "m" and "d", so
 * neither is a prefix of the other. */
static void
choose_boundary(struct dc *c, const struct digest_post *p, size_t n,
                const struct buf *toc, const struct buf *foot,
                struct buf *base)
{
	unsigned k;
	size_t i;

	for (k = 0;; k++) {
		int clash = 0;

		buf_reset(base);
		buf_printf(base, "=_mlmd_digest_%ld_%ld_%u", c->d->volume,
		           c->d->issue, k);
		for (i = 0; i < n && !clash; i++)
			clash = p[i].raw && p[i].len &&
			        memmem(p[i].raw, p[i].len, base->s, base->len);
		clash = clash || memmem(buf_str(toc), toc->len, base->s,
		                        base->len) ||
		        memmem(buf_str(foot), foot->len, base->s, base->len);
		if (!clash)
			return;
	}
}

static void
compose_mime(struct dc *c, const struct digest_post *p, size_t n,
             struct buf *b)
{
	struct buf toc = BUF_INIT, foot = BUF_INIT, dig = BUF_INIT,
	           post = BUF_INIT, base = BUF_INIT;
	enum cls all = C_7BIT, k;
	size_t i;

	tmp_init(c, &toc);
	tmp_init(c, &foot);
	tmp_init(c, &dig);
	tmp_init(c, &post);
	contents(c, &toc, p);
	footer(c, &foot);
	choose_boundary(c, p, n, &toc, &foot, &base);
	for (i = 0; i < n && !c->full; i++) {
		if (!c->include[i])
			continue;
		buf_reset(&post);
		mime_post(c, &post, &p[i]);
		k = classify(post.s, post.len);
		if (k > all)
			all = k;
		addf(c, &dig, "\n--%sd\nContent-Type: message/rfc822\n",
		     buf_str(&base));
		if (k != C_7BIT)
			addf(c, &dig, "Content-Transfer-Encoding: %s\n",
			     cls_name[k]);
		add(c, &dig, "\n", 1);
		add(c, &dig, post.s, post.len);
	}
	addf(c, &dig, "\n--%sd--\n", buf_str(&base));

	mail_header(c, b);
	addf(c, b, "Content-Type: multipart/mixed; boundary=\"%sm\"\n",
	     buf_str(&base));
	if (all != C_7BIT)
		addf(c, b, "Content-Transfer-Encoding: %s\n", cls_name[all]);
	addf(c, b, "\nThis is a MIME digest.\n\n--%sm\n", buf_str(&base));
	text_part(c, b, &toc);
	addf(c, b, "\n--%sm\n", buf_str(&base));
	addf(c, b, "Content-Type: multipart/digest; boundary=\"%sd\"\n",
	     buf_str(&base));
	if (all != C_7BIT)
		addf(c, b, "Content-Transfer-Encoding: %s\n", cls_name[all]);
	add(c, b, dig.s, dig.len);
	addf(c, b, "\n--%sm\n", buf_str(&base));
	text_part(c, b, &foot);
	addf(c, b, "\n--%sm--\n", buf_str(&base));
	buf_free(&toc);
	buf_free(&foot);
	buf_free(&dig);
	buf_free(&post);
	buf_free(&base);
}

/* ---- the plain digest (RFC 1153) ----------------------------------------- */

/* A line that a burster would take for a separator: 30 '-' (and white
 * space after them). */
static int
looks_like_sep(const char *s, size_t n)
{
	size_t i;

	if (n < 30 || memcmp(s, SEP30, 30) != 0)
		return 0;
	for (i = 30; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Text into the digest, every separator-like line given a space first. */
static void
add_escaped(struct dc *c, struct buf *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !c->full) {
		size_t e = line_end(s, n, i);

		if (looks_like_sep(s + i, e - i))
			add(c, out, " ", 1);
		add(c, out, s + i, (e < n ? e + 1 : n) - i);
		i = e < n ? e + 1 : n;
	}
}

static void
plain_post(struct dc *c, struct buf *out, const struct digest_post *p,
           struct buf *t)
{
	struct msg *m = parse(p);
	time_t date = p->date ? p->date : m ? m->date : 0;
	const char *subject = nz(p->subject);
	const char *id = nz(p->message_id);

	if (!*subject && m)
		subject = m->subject;
	if (!*id && m)
		id = m->message_id;
	if (date) {
		adds(c, out, "Date: ");
		date_local(c, out, date);
		add(c, out, "\n", 1);
	}
	adds(c, out, "From: ");
	author(c, out, p);
	adds(c, out, "\nSubject: ");
	clean(c, out, subject, SHOW_MAX);
	add(c, out, "\n", 1);
	if (*id) {
		adds(c, out, "Message-ID: <");
		clean(c, out, id, SHOW_MAX);
		adds(c, out, ">\n");
	}
	add(c, out, "\n", 1);
	buf_reset(t);
	if (!m) {
		adds(c, t, "(this post could not be read)\n");
	} else {
		post_text(c, t, m);
		if (has_attachments(m)) {
			if (t->len)
				add(c, t, "\n", 1);
			if (c->d->attachments_link)
				attachments_instead(c, t, m, p);
			else
				attachment_lines(c, t, m);
		}
	}
	add_escaped(c, out, t->s, t->len);
	msg_free(m);
}

/* Characters (not bytes) of UTF-8 text. */
static size_t
u8len(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static void
compose_plain(struct dc *c, const struct digest_post *p, size_t n,
              struct buf *b)
{
	struct buf body = BUF_INIT, t = BUF_INIT;
	size_t i, first = 1, mark;

	tmp_init(c, &body);
	tmp_init(c, &t);
	contents(c, &body, p);
	adds(c, &body, "\n" SEP70 "\n\n");
	for (i = 0; i < n && !c->full; i++) {
		if (!c->include[i])
			continue;
		if (!first)
			adds(c, &body, "\n" SEP30 "\n\n");
		first = 0;
		plain_post(c, &body, &p[i], &t);
	}
	adds(c, &body, "\n" SEP30 "\n\n");
	footer(c, &body);
	add(c, &body, "\n", 1);
	mark = body.len;
	wline(c, &body, "end", 0, NULL);
	for (i = u8len(body.s + mark, body.len - mark), add(c, &body, "\n", 1);
	     i > 0; i--)
		add(c, &body, "*", 1);
	add(c, &body, "\n", 1);

	mail_header(c, b);
	adds(c, b, "Content-Type: text/plain; charset=utf-8\n");
	if (classify(body.s, body.len) == C_BINARY ||
	    memchr(buf_str(&body), '\r', body.len)) {
		adds(c, b, "Content-Transfer-Encoding: quoted-printable\n\n");
		if (mime_qp_encode(buf_str(&body), body.len, "\n", b) < 0)
			c->full = 1;
	} else {
		addf(c, b, "Content-Transfer-Encoding: %s\n\n",
		     cls_name[classify(body.s, body.len)]);
		add(c, b, body.s, body.len);
	}
	buf_free(&body);
	buf_free(&t);
}

/* ---- both ---------------------------------------------------------------- */

/* An IANA zone name as TZ may take it: no path, no "..". */
static const char *
zone(const char *tz)
{
	size_t i, n = strlen(nz(tz));

	if (n == 0 || n > 64 || tz[0] == '/' || strstr(tz, ".."))
		return "UTC";
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+-", tz[i]))
			return "UTC";
	return tz;
}

static const char *
language(const char *l)
{
	size_t i, n = strlen(nz(l));

	if (n == 0 || n > 16)
		return "en";
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", l[i]))
			return "en";
	return l;
}

static int
compose(const struct digest_info *d, const struct digest_post *p, size_t n,
        struct buf *out, int plain)
{
	struct dc c;
	struct buf b = BUF_INIT;
	size_t max = out->max ? out->max : BUF_DEFAULT_MAX, i;
	const char *tz, *at;
	int rc = -1;

	if (!d || (n && !p) || !plain_token(d->list, 0) ||
	    strchr(d->list, '@') || !plain_token(d->list_address, 1) ||
	    !plain_token(d->request_address, 1) ||
	    !plain_token(d->message_id, 0) || out->len >= max)
		return -1;
	memset(&c, 0, sizeof(c));
	c.d = d;
	c.plain = plain;
	c.lang = language(d->lang);
	c.templates = nz(d->templates);
	at = strrchr(d->list_address, '@');
	c.domain = at + 1;
	c.limit = max - out->len;
	c.include = xcalloc(n ? n : 1, 1);

	tz = getenv("TZ");
	c.tz_had = tz != NULL;
	c.tz_saved = tz ? xstrdup(tz) : NULL;
	setenv("TZ", zone(d->timezone), 1);
	tzset();

	/* Which posts are in: all of them in the plain digest (an unreadable
	 * one says so); in the MIME digest those that parse or at least
	 * start with a header block. */
	for (i = 0; i < n; i++) {
		struct msg *m;

		if (plain) {
			c.include[i] = 1;
			continue;
		}
		if (!p[i].raw || !p[i].len)
			continue;
		m = parse(&p[i]);
		c.include[i] = m || has_header_block(p[i].raw, p[i].len);
		msg_free(m);
	}
	thread_order(&c, p, n);

	buf_init(&b, c.limit + HDR_SLACK);
	if (plain)
		compose_plain(&c, p, n, &b);
	else
		compose_mime(&c, p, n, &b);
	if (!c.full && b.len <= c.limit && buf_add(out, b.s, b.len) == 0)
		rc = 0;
	buf_free(&b);

	if (c.tz_had)
		setenv("TZ", c.tz_saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(c.tz_saved);
	free(c.include);
	free(c.order);
	return rc;
}

int
digest_compose_mime(const struct digest_info *d, const struct digest_post *p,
                    size_t n, struct buf *out)
{
	return compose(d, p, n, out, 0);
}

int
digest_compose_plain(const struct digest_info *d,
                     const struct digest_post *p, size_t n, struct buf *out)
{
	return compose(d, p, n, out, 1);
}
