/*
 * msghtml.c - renders the body of one mail as an HTML fragment for the
 * web archive (see msghtml.h).  Caller: the archive page builder, with
 * the header block (From through msghtml_address(), Subject, Date) done
 * by the template engine.
 *
 * Invariants, and why they hold:
 *  - Every byte that comes from the mail goes through put_text() (text
 *    and attribute context: & < > " ' escaped, invalid UTF-8 replaced,
 *    controls dropped) or put_href() (an allow-list of URL bytes, all
 *    others percent-encoded).  Markup is only ever written from string
 *    literals in this file, so the set of tags and attributes on the
 *    page is closed (the tests and fuzz_msghtml check it on the output).
 *  - HTML parts are never copied: html_to_text() makes text of them and
 *    that text is rendered like a text/plain part.  So no script, style,
 *    image, frame or remote resource of a mail can reach a page.
 *  - Links are made only for http:, https: and mailto:, recognised by
 *    their scheme at a word start; the href is written with the scheme in
 *    lower case, so javascript:, data:, vbscript: and the rest are text.
 *  - Linear time: each input byte is looked at a bounded number of times
 *    (the URL scan never goes back past where the last one ended).
 *
 * Errors: -1 only when out's cap is reached; out is then restored to its
 * length at the call.  Nothing is fatal but out-of-memory (buf.h).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "html_text.h"
#include "msg.h"
#include "msghtml.h"
#include "util.h"

#define REL           "rel=\"nofollow noopener noreferrer ugc\""
#define ELLIPSIS      "\xe2\x80\xa6"
#define QUOTE_CLASSES 3

struct ren {
	struct buf *out;
	const struct msghtml_opts *o;
	int err; /* the cap was reached: write nothing more */
};

static void
put(struct ren *r, const char *s, size_t n)
{
	if (!r->err && n > 0 && buf_add(r->out, s, n) < 0)
		r->err = 1;
}

static void
puts_(struct ren *r, const char *s)
{
	put(r, s, strlen(s));
}

/* Bidi controls that can reorder text beyond their own string. */
static int
is_bidi_control(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static unsigned
decode(const unsigned char *p, size_t l)
{
	if (l == 2)
		return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	if (l == 3)
		return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
		       (p[2] & 0x3fu);
	return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
	       ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
}

/*
 * The one text escaper.  Safe bytes are copied in runs; everything else
 * is handled one character at a time.
 */
static void
put_text(struct ren *r, const char *s, size_t n, int strip_bidi)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, l;

	while (i < n && !r->err) {
		unsigned char c = u[i];
		const char *ent = NULL;

		if (c < 0x80) {
			if ((c >= 0x20 && c != 0x7f && c != '&' && c != '<' &&
			     c != '>' && c != '"' && c != '\'') ||
			    c == '\n' || c == '\t') {
				i++;
				continue;
			}
			put(r, s + run, i - run);
			if (c == '&')
				ent = "&amp;";
			else if (c == '<')
				ent = "&lt;";
			else if (c == '>')
				ent = "&gt;";
			else if (c == '"')
				ent = "&quot;";
			else if (c == '\'')
				ent = "&#39;";
			if (ent)
				puts_(r, ent);
			run = ++i;
			continue;
		}
		l = utf8_seq_len(u + i, n - i);
		if (l == 0) {
			put(r, s + run, i - run);
			puts_(r, "\xef\xbf\xbd");
			run = ++i;
			continue;
		}
		if (l == 2 && decode(u + i, l) < 0xa0) { /* C1 control */
			put(r, s + run, i - run);
			run = i += l;
			continue;
		}
		if (strip_bidi && l == 3 && is_bidi_control(decode(u + i, l))) {
			put(r, s + run, i - run);
			run = i += l;
			continue;
		}
		if (strip_bidi && l == 2 && is_bidi_control(decode(u + i, l))) {
			put(r, s + run, i - run);
			run = i += l;
			continue;
		}
		i += l;
	}
	put(r, s + run, i - run);
}

void
msghtml_escape(const char *s, size_t n, struct buf *out)
{
	struct ren r = {out, NULL, 0};

	put_text(&r, s, n, 0);
}

/* "j…@example.org": the first character of the local part only. */
static void
put_obfuscated(struct ren *r, const char *addr, size_t n)
{
	const char *at = memchr(addr, '@', n);
	size_t l;

	if (n == 0)
		return;
	l = utf8_seq_len(addr, n);
	if (l == 0 || addr[0] == '@')
		l = 0;
	put_text(r, addr, l, 1);
	puts_(r, ELLIPSIS);
	if (at)
		put_text(r, at, n - (size_t)(at - addr), 1);
}

void
msghtml_address(const char *name, const char *addr,
                const struct msghtml_opts *o, struct buf *out)
{
	struct ren r = {out, o, 0};
	int obf = o == NULL || o->obfuscate;

	if (name == NULL)
		name = "";
	if (addr == NULL)
		addr = "";
	if (obf && strchr(name, '@'))
		name = "";
	if (*name && *addr) {
		put_text(&r, name, strlen(name), 1);
		puts_(&r, " &lt;");
	} else if (*name) {
		put_text(&r, name, strlen(name), 1);
		return;
	}
	if (obf)
		put_obfuscated(&r, addr, strlen(addr));
	else
		put_text(&r, addr, strlen(addr), 1);
	if (*name && *addr)
		puts_(&r, "&gt;");
}

/* Bytes written as they are in an href; all others are %XX. */
static int
href_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-._~:/?#[]@!$()*+,;=%&", c);
}

static void
put_href(struct ren *r, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char pct[3];

		if (c == '&') {
			puts_(r, "&amp;");
		} else if (c != 0 && href_safe(c)) {
			put(r, s + i, 1);
		} else {
			pct[0] = '%';
			pct[1] = hex[c >> 4];
			pct[2] = hex[c & 15];
			put(r, pct, 3);
		}
	}
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* A byte that may be inside a URL found in text.  Non-ASCII ends it. */
static int
url_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("<>\"'`{}|\\^", c);
}

static const char *const schemes[] = {"https://", "http://", "mailto:"};

/*
 * The length of the URL that starts at p (n bytes left), 0 if none;
 * *scheme gets the index in schemes[].  Trailing punctuation is not part
 * of it, nor a closing bracket without its opening one.
 */
static size_t
url_at(const char *p, size_t n, size_t *scheme)
{
	size_t i, k, sl = 0, j;
	long paren = 0, brack = 0;

	for (i = 0; i < ARRAY_SIZE(schemes); i++) {
		sl = strlen(schemes[i]);
		for (k = 0; k < sl && k < n; k++)
			if (p[k] != schemes[i][k] &&
			    !(p[k] >= 'A' && p[k] <= 'Z' &&
			      (p[k] | 0x20) == schemes[i][k]))
				break;
		if (k == sl && n > sl)
			break;
	}
	if (i == ARRAY_SIZE(schemes))
		return 0;
	*scheme = i;
	/* host (or mailbox) must start with something plausible */
	if (!is_alnum((unsigned char)p[sl]) && p[sl] != '[')
		return 0;
	/* paren and brack: closing minus opening brackets so far */
	for (j = sl; j < n && url_byte((unsigned char)p[j]); j++) {
		if (p[j] == '(')
			paren--;
		else if (p[j] == ')')
			paren++;
		else if (p[j] == '[')
			brack--;
		else if (p[j] == ']')
			brack++;
	}
	while (j > sl) {
		char c = p[j - 1];

		if (strchr(".,;:!?*", c) != NULL)
			j--;
		else if (c == ')' && paren > 0)
			j--, paren--;
		else if (c == ']' && brack > 0)
			j--, brack--;
		else
			break;
	}
	return j > sl ? j : 0;
}

static void
put_link(struct ren *r, const char *p, size_t n, size_t scheme)
{
	size_t sl = strlen(schemes[scheme]);

	if (scheme == 2 && r->o && r->o->obfuscate) {
		size_t q;

		for (q = sl; q < n && p[q] != '?'; q++)
			;
		put_obfuscated(r, p + sl, q - sl);
		return;
	}
	puts_(r, "<a href=\"");
	puts_(r, schemes[scheme]); /* the scheme in lower case */
	put_href(r, p + sl, n - sl);
	puts_(r, "\" " REL ">");
	put_text(r, p, n, 0);
	puts_(r, "</a>");
}

/* One line of text (no LF), with its URLs linked. */
static void
put_line(struct ren *r, const char *s, size_t n)
{
	size_t i = 0, start = 0, len, scheme = 0;

	while (i < n && !r->err) {
		unsigned char c = (unsigned char)s[i] | 0x20;

		if ((c == 'h' || c == 'm') &&
		    (i == 0 || !is_alnum((unsigned char)s[i - 1])) &&
		    (len = url_at(s + i, n - i, &scheme)) > 0) {
			put_text(r, s + start, i - start, 0);
			put_link(r, s + i, len, scheme);
			i += len;
			start = i;
			continue;
		}
		i++;
	}
	put_text(r, s + start, n - start, 0);
}

/*
 * A text part: lines, quote runs, signature.  Quote markers are '>' each
 * followed by at most one space; they are removed from the line.
 */
static void
put_textpart(struct ren *r, const char *s, size_t n)
{
	size_t i = 0, e, level, cur = 0;
	int sig = 0;

	puts_(r, "<div class=\"text\">");
	while (i < n && !r->err) {
		for (e = i; e < n && s[e] != '\n'; e++)
			;
		level = 0;
		while (i < e && s[i] == '>') {
			level++;
			i++;
			if (i < e && s[i] == ' ')
				i++;
		}
		if (level > QUOTE_CLASSES)
			level = QUOTE_CLASSES;
		if (level != cur) {
			if (cur)
				puts_(r, "</blockquote>");
			if (level) {
				puts_(r, "<blockquote class=\"q");
				put(r, &"0123"[level], 1);
				puts_(r, "\">");
			}
			cur = level;
		}
		if (level == 0 && !sig && e - i == 3 &&
		    memcmp(s + i, "-- ", 3) == 0) {
			sig = 1;
			puts_(r, "<div class=\"sig\">");
		}
		put_line(r, s + i, e - i);
		puts_(r, "\n");
		i = e + 1;
	}
	if (cur)
		puts_(r, "</blockquote>");
	if (sig)
		puts_(r, "</div>");
	puts_(r, "</div>\n");
}

/* A Content-Language tag if it has the shape of a BCP 47 tag, else "". */
static void
put_lang(struct ren *r, const struct msg *m)
{
	const char *v = msg_header(m, "Content-Language");
	size_t i, n, sub = 0, nsub = 0;

	if (v == NULL)
		return;
	while (*v == ' ' || *v == '\t')
		v++;
	for (n = 0; v[n] && v[n] != ',' && v[n] != ' ' && v[n] != ';'; n++)
		;
	if (n == 0 || n > 35)
		return;
	for (i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)v[i] : '-';

		if (c == '-') {
			if (sub == 0)
				return;
			sub = 0;
			nsub++;
		} else if (!is_alnum(c) || ++sub > 8 ||
		           (nsub == 0 && c <= '9')) {
			return; /* the primary subtag is letters */
		}
	}
	put_text(r, v, n, 0);
}

static void
put_size(struct ren *r, size_t size)
{
	struct buf b = BUF_INIT;

	if (size < 1024)
		buf_printf(&b, "%zu B", size);
	else if (size < (size_t)1 << 20)
		buf_printf(&b, "%zu KB", (size + 1023) / 1024);
	else
		buf_printf(&b, "%zu.%zu MB", size >> 20,
		           ((size & ((1u << 20) - 1)) * 10) >> 20);
	put(r, buf_str(&b), b.len);
	buf_free(&b);
}

static void
put_attachment(struct ren *r, const struct msg_part *p, size_t idx)
{
	struct buf b = BUF_INIT, href = BUF_INIT, dl = BUF_INIT;
	const char *base = r->o ? r->o->attach_base : NULL;

	buf_printf(&b, "%zu", idx);
	if (r->o && r->o->attach_link) {
		r->o->attach_link(r->o->attach_arg, r->o->msg, idx, &href, &dl);
	} else if (base) {
		buf_adds(&href, base);
		buf_add(&href, b.s, b.len);
	}
	puts_(r, "<li>");
	if (href.len) {
		puts_(r, "<a href=\"");
		put_text(r, href.s, href.len, 0);
		puts_(r, "\" " REL);
		if (dl.len) {
			puts_(r, " download=\"");
			put_text(r, dl.s, dl.len, 1);
			puts_(r, "\"");
		}
		puts_(r, ">");
	}
	puts_(r, "<span class=\"name\">");
	if (p->filename && *p->filename)
		put_text(r, p->filename, strlen(p->filename), 1);
	else {
		puts_(r, "attachment-");
		put(r, b.s, b.len);
	}
	puts_(r, "</span>");
	if (href.len)
		puts_(r, "</a>");
	puts_(r, " <span class=\"type\">");
	put_text(r, p->type ? p->type : "", p->type ? strlen(p->type) : 0, 1);
	puts_(r, "</span> <span class=\"size\">");
	put_size(r, p->size);
	puts_(r, "</span></li>\n");
	buf_free(&b);
	buf_free(&href);
	buf_free(&dl);
}

static int
inline_text(const struct msg_part *p)
{
	return p->text != NULL && !p->is_attachment;
}

int
msghtml_body(const struct msg *m, const struct msghtml_opts *o, struct buf *out)
{
	struct ren r = {out, o, 0};
	size_t start = out->len, i, n_att = 0;
	int have_plain = 0;
	char *shown;

	shown = xcalloc(m->n_parts ? m->n_parts : 1, 1);
	for (i = 0; i < m->n_parts; i++)
		if (inline_text(&m->parts[i]) &&
		    strcmp(m->parts[i].type, "text/plain") == 0)
			have_plain = 1;

	puts_(&r, "<div class=\"body\" dir=\"auto\" lang=\"");
	put_lang(&r, m);
	puts_(&r, "\">\n");
	for (i = 0; i < m->n_parts && !r.err; i++) {
		const struct msg_part *p = &m->parts[i];

		if (!inline_text(p))
			continue;
		if (strcmp(p->type, "text/html") == 0) {
			struct buf t = BUF_INIT;

			if (have_plain) {
				shown[i] = 1; /* an alternative */
			} else if (html_to_text(p->text, p->text_len, &t) ==
			           0) {
				put_textpart(&r, buf_str(&t), t.len);
				shown[i] = 1;
			}
			buf_free(&t);
			continue;
		}
		put_textpart(&r, p->text, p->text_len);
		shown[i] = 1;
	}
	for (i = 0; i < m->n_parts && !r.err; i++) {
		if (shown[i])
			continue;
		if (n_att++ == 0)
			puts_(&r, "<ul class=\"attachments\">\n");
		put_attachment(&r, &m->parts[i], i);
	}
	if (n_att)
		puts_(&r, "</ul>\n");
	puts_(&r, "</div>\n");
	free(shown);
	if (r.err) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}
