/*
 * archive_search.c - reading a reader's search query and the search page
 * of a list's archive (archive.h).
 *
 * Invariants: a query is never handed to FTS5 as typed: every word and
 * phrase becomes an FTS5 string ("..." with quotes doubled), so no input
 * can make an FTS5 syntax error except the few operators we pass on (OR,
 * NOT, a trailing * for a prefix); every byte of the query and of a hit
 * reaches the page escaped.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "archive_int.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "msghtml.h"
#include "post.h"
#include "util.h"

#define HITS_PER_PAGE 20
#define PAGE_MAX      1000

/* YYYY-MM-DD at 00:00 UTC, or -1. */
static time_t
parse_day(const char *s, size_t n)
{
	struct tm tm;
	int y, m, d;
	char tail;
	char tmp[16];

	if (n < 8 || n > 10)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
	    y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return timegm(&tm);
}

/* Append s[0..n) as an FTS5 string. */
static void
fts_string(struct buf *out, const char *s, size_t n)
{
	size_t i;

	buf_addc(out, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(out, '"');
		buf_addc(out, s[i]);
	}
	buf_addc(out, '"');
}

int
archive_query_parse(const char *text, struct arch_query *q,
                    struct buf *match, struct buf *err)
{
	const char *p = text;
	int terms = 0, last_op = 1;

	q->match = NULL;
	q->after = q->before = 0;
	if (strlen(text) > ARCHIVE_QUERY_MAX) {
		buf_printf(err, "the query is longer than %d bytes",
		           ARCHIVE_QUERY_MAX);
		return -1;
	}
	while (*p) {
		const char *w, *colon, *val;
		size_t wl, vl;
		int quoted = 0, prefix = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		w = p;
		/* a word, with an optional "quoted part" after "field:" */
		if (*p == '"') {
			const char *e = strchr(p + 1, '"');

			if (!e) {
				buf_adds(err, "a quote is not closed");
				return -1;
			}
			p = e + 1;
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != '\r' &&
			       *p != '\n') {
				if (*p == '"') {
					const char *e = strchr(p + 1, '"');

					if (!e) {
						buf_adds(err,
						         "a quote is not closed");
						return -1;
					}
					p = e;
				}
				p++;
			}
		}
		wl = (size_t)(p - w);
		colon = memchr(w, ':', wl);
		val = colon ? colon + 1 : w;
		vl = wl - (size_t)(val - w);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val++;
			vl -= 2;
			quoted = 1;
		}
		if (!quoted && vl > 1 && val[vl - 1] == '*') {
			prefix = 1;
			vl--;
		}
		if (colon && (size_t)(colon - w) == 5 &&
		    strncasecmp(w, "after", 5) == 0) {
			time_t t = parse_day(val, vl);

			if (t < 0) {
				buf_adds(err, "after: wants a date like "
				              "2026-01-31");
				return -1;
			}
			q->after = t;
			continue;
		}
		if (colon && (size_t)(colon - w) == 6 &&
		    strncasecmp(w, "before", 6) == 0) {
			time_t t = parse_day(val, vl);

			if (t < 0) {
				buf_adds(err, "before: wants a date like "
				              "2026-12-31");
				return -1;
			}
			q->before = t;
			continue;
		}
		if (!colon && !quoted && (wl == 2 || wl == 3) &&
		    (strncmp(w, "OR", wl) == 0 || strncmp(w, "NOT", wl) == 0 ||
		     strncmp(w, "AND", wl) == 0)) {
			if (last_op) {
				buf_printf(err, "%.*s needs a word before it",
				           (int)wl, w);
				return -1;
			}
			buf_printf(match, " %.*s", (int)wl, w);
			last_op = 1;
			continue;
		}
		if (vl == 0)
			continue;
		if (match->len)
			buf_addc(match, ' ');
		if (colon && (size_t)(colon - w) == 4 &&
		    strncasecmp(w, "from", 4) == 0)
			buf_adds(match, "author : ");
		else if (colon && (size_t)(colon - w) == 6 &&
		         strncasecmp(w, "author", 6) == 0)
			buf_adds(match, "author : ");
		else if (colon && (size_t)(colon - w) == 7 &&
		         strncasecmp(w, "subject", 7) == 0)
			buf_adds(match, "subject : ");
		else if (colon && (size_t)(colon - w) == 4 &&
		         strncasecmp(w, "body", 4) == 0)
			buf_adds(match, "body : ");
		else {
			/* an unknown "x:y" is a word like any other */
			val = w;
			vl = wl - (size_t)prefix;
			if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
				val++;
				vl -= 2;
			}
		}
		fts_string(match, val, vl);
		if (prefix)
			buf_addc(match, '*');
		terms++;
		last_op = 0;
	}
	if (terms && last_op) {
		buf_adds(err, "the query ends with an operator");
		return -1;
	}
	if (q->after && q->before && q->before <= q->after) {
		buf_adds(err, "before: is not after after:");
		return -1;
	}
	q->match = terms ? buf_str(match) : NULL;
	return 0;
}

/* ----- the page ---------------------------------------------------------- */

struct hits {
	const struct actx *x;
	struct buf *b;
};

/* The snippet with \x01..\x02 around the hits, as <mark>. */
static void
snippet_html(struct buf *b, const char *s)
{
	while (*s) {
		size_t k = strcspn(s, "\x01\x02");

		msghtml_escape(s, k, b);
		s += k;
		if (*s == '\x01')
			buf_adds(b, "<mark>");
		else if (*s == '\x02')
			buf_adds(b, "</mark>");
		if (*s)
			s++;
	}
}

static int
hit(const struct arch_row *r, const char *snippet, void *arg)
{
	struct hits *h = arg;
	struct msghtml_opts mo;
	char hash[17];
	struct buf t = BUF_INIT;

	post_permalink_hash(r->message_id, hash);
	buf_printf(h->b, "<li><a href=\"m/%s.html\">", hash);
	if (*r->subject)
		archive_esc(h->b, r->subject);
	else
		archive_word(h->x, h->b, "no_subject", -1);
	buf_adds(h->b, "</a> <span class=\"meta\">");
	memset(&mo, 0, sizeof(mo));
	mo.obfuscate = 1;
	if (r->erased || (!*r->from_name && !*r->from_addr))
		archive_word(h->x, h->b, "erased", -1);
	else if (*r->from_name && !strchr(r->from_name, '@'))
		msghtml_address(r->from_name, "", &mo, h->b);
	else
		msghtml_address("", r->from_addr, &mo, h->b);
	buf_adds(h->b, ", ");
	archive_date(h->x, r->date, h->b);
	buf_adds(h->b, "</span>");
	if (*snippet) {
		buf_adds(h->b, "<br><span class=\"snippet\" dir=\"auto\">");
		snippet_html(h->b, snippet);
		buf_adds(h->b, "</span>");
	}
	buf_adds(h->b, "</li>\n");
	buf_free(&t);
	return 0;
}

/* "search?q=...&page=N" */
static void
page_link(struct buf *b, const char *text, long page)
{
	const unsigned char *s;

	buf_adds(b, "search?q=");
	for (s = (const unsigned char *)text; *s; s++)
		if (isalnum(*s) || strchr("-._~", *s))
			buf_addc(b, (char)*s);
		else
			buf_printf(b, "%%%02X", *s);
	buf_printf(b, "&amp;page=%ld", page);
}

int
archive_search_page(const struct conf *c, struct db *db, const char *list,
                    const char *text, long page, struct buf *html)
{
	struct actx x;
	struct arch_query q;
	struct buf match = BUF_INIT, err = BUF_INIT, title = BUF_INIT;
	struct hits h;
	long total = 0;
	int status = 200, r;

	if (archive_ctx_open(&x, c, db, list) != 0)
		return 404;
	if (page < 1)
		page = 1;
	if (page > PAGE_MAX)
		page = PAGE_MAX;
	memset(&q, 0, sizeof(q));
	archive_word_raw(&x, &title, "search", -1);
	if (*text) {
		buf_adds(&title, ": ");
		buf_adds(&title, text);
	}
	archive_page_start(&x, html, buf_str(&title), "");
	buf_adds(html, "<h1>");
	archive_word(&x, html, "search", -1);
	buf_adds(html, "</h1>\n<form class=\"search\" role=\"search\" "
	               "method=\"get\" action=\"search\"><label for=\"q2\">");
	archive_word(&x, html, "search", -1);
	buf_adds(html, "</label> <input type=\"search\" id=\"q2\" name=\"q\" "
	               "maxlength=\"300\" value=\"");
	archive_esc(html, text);
	buf_adds(html, "\" aria-describedby=\"qhelp\"><button type=\"submit\">");
	archive_word(&x, html, "search", -1);
	buf_adds(html, "</button></form>\n<p class=\"meta\" id=\"qhelp\">");
	archive_word(&x, html, "search_help", -1);
	buf_adds(html, "</p>\n");
	if (!*text)
		goto done;
	if (archive_query_parse(text, &q, &match, &err) < 0) {
		status = 400;
		goto bad;
	}
	q.limit = HITS_PER_PAGE;
	q.offset = (page - 1) * HITS_PER_PAGE;
	q.mark_open = "\x01";
	q.mark_close = "\x02";
	h.x = &x;
	h.b = &match; /* unused until the count is known */
	{
		struct buf list_html = BUF_INIT;

		h.b = &list_html;
		r = db_archive_search(db, x.l->name, &q, hit, &h, &total, &err);
		if (r == -2) {
			status = 400;
			buf_free(&list_html);
			goto bad;
		}
		if (r < 0) {
			status = 500;
			buf_free(&list_html);
			goto done;
		}
		buf_adds(html, "<p role=\"status\">");
		if (total == 0)
			archive_word(&x, html, "no_results", -1);
		else
			archive_word(&x, html, "results", total);
		buf_adds(html, "</p>\n");
		if (list_html.len)
			buf_printf(html, "<ol class=\"hits\" start=\"%ld\">\n%s"
			                 "</ol>\n",
			           q.offset + 1, buf_str(&list_html));
		buf_free(&list_html);
	}
	if (page > 1 || q.offset + HITS_PER_PAGE < total) {
		buf_adds(html, "<nav aria-label=\"");
		archive_word(&x, html, "navigation", -1);
		buf_adds(html, "\"><ul>\n");
		if (page > 1) {
			buf_adds(html, "<li><a rel=\"prev\" href=\"");
			page_link(html, text, page - 1);
			buf_adds(html, "\">");
			archive_word(&x, html, "earlier_results", -1);
			buf_adds(html, "</a></li>\n");
		}
		if (q.offset + HITS_PER_PAGE < total && page < PAGE_MAX) {
			buf_adds(html, "<li><a rel=\"next\" href=\"");
			page_link(html, text, page + 1);
			buf_adds(html, "\">");
			archive_word(&x, html, "more_results", -1);
			buf_adds(html, "</a></li>\n");
		}
		buf_adds(html, "</ul></nav>\n");
	}
	goto done;
bad:
	buf_adds(html, "<p role=\"alert\">");
	archive_word(&x, html, "bad_query", -1);
	buf_adds(html, " <span class=\"meta\">(");
	archive_esc(html, buf_str(&err));
	buf_adds(html, ")</span></p>\n");
done:
	archive_page_end(html);
	archive_ctx_close(&x);
	buf_free(&match);
	buf_free(&err);
	buf_free(&title);
	return status;
}
