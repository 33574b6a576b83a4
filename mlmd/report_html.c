/*
 * report_html.c - the participation report as one self-contained HTML page
 * (report.h, issue 9): the figures of each list and of all country lists
 * together, the events, and three SVG charts (members over time per list,
 * posts per month per list, answers and attendance per event), in the
 * coordinators' language (templates/LANG/report.strings).
 *
 * Who calls it: mlmctl report --format html, the monthly summary mail, the
 * tests.
 *
 * Invariants and why:
 *  - Self-contained and inert: no script, no link, no image, no font, no
 *    URL at all; the only style is one <style> element and presentation
 *    attributes in the SVG.  A coordinator attaches the file to a mail or
 *    opens it from disk and nothing is fetched.
 *  - Every number shown goes through report_count(), so a count from 1 to
 *    threshold - 1 appears as "<threshold" in the tables, in the labels
 *    and in the charts, where it is drawn at height 0 with that label: a
 *    bar or a point never gives away a hidden count.  The axes are scaled
 *    on the counts as shown.
 *  - Every text that is not ours (list names, event titles, languages,
 *    the words files) is escaped (msghtml_escape()); the words are plain
 *    text.  lang is used in a path (words_get) and in the page only when
 *    it is a plain language tag; anything else means English.
 *  - Colours: every colour written in the charts' markup has a contrast
 *    of at least 4.5:1 (WCAG AA) against the white background; series are
 *    also told apart by dash pattern, so colour is never the only cue.
 *  - Pure: the only outside state read is the words files.  Dates are
 *    UTC days, as in the text report (report.c).
 *
 * Errors: -1 when out's cap is reached (out may hold part of the page);
 * never fatal.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "msghtml.h"
#include "report.h"
#include "util.h"
#include "words.h"

/* The charts' geometry, in SVG user units (pixels at 100 %). */
#define CH_W       880
#define CH_PLOT_H  240
#define CH_LEFT    64
#define CH_RIGHT   16
#define CH_TOP     20
#define CH_XAXIS   56       /* room under the plot: ticks, axis label */
#define CH_LEG_W   200      /* one legend entry */
#define CH_LEG_H   22
#define LABEL_MAX  24       /* characters of a name in the charts */
#define PAGE_MAX   ((size_t)64 << 20)
#define PAGE_SLACK 4096     /* less room than this left: cut short */

/*
 * Series colours: each has a contrast of at least 4.5:1 against white
 * (t/report_html_test.c recomputes it), and they differ in hue and
 * lightness for common colour vision deficiencies.
 */
static const char *const palette[] = {
	"#1f5fa6", /* blue */
	"#b04a00", /* dark orange */
	"#2b7a2b", /* green */
	"#a3195b", /* magenta */
	"#5e3c99", /* purple */
	"#7a6400", /* olive */
	"#00727d", /* teal */
	"#b01c2e", /* red */
};
static const char *const dashes[] = {"", "8 4", "3 3", "10 3 3 3"};
#define INK      "#222222"  /* text, axes */
#define INK_SOFT "#595959"  /* tick labels (7:1) */

struct rh {
	const struct conf *c;
	const struct report *r;
	char lang[16];
	int comma;              /* decimal comma (the Nordic languages) */
	struct buf *out;
};

/* A name shown in the charts, and a series' or a group's values. */
struct series {
	const char *name;
	long *v;                /* n_x values */
};

/* ----- words, escaping, counts ------------------------------------------- */

static const char *
word(const struct rh *x, const char *key)
{
	return words_get(x->c && x->c->templates ? x->c->templates : ".",
	                 x->lang, "report", key);
}

static void
esc(struct buf *out, const char *s)
{
	msghtml_escape(s, strlen(s), out);
}

static void
esc_n(struct buf *out, const char *s, size_t n)
{
	msghtml_escape(s, n, out);
}

/*
 * The word key, escaped, with each {name} replaced by the value that
 * follows it in the NULL-terminated list (name, value, ...); an unknown
 * placeholder is written as it is.
 */
static void
put_word(const struct rh *x, const char *key, ...)
{
	const char *v = word(x, key), *p, *name, *val;
	va_list ap;
	size_t n;

	for (;;) {
		p = strchr(v, '{');
		if (!p)
			break;
		esc_n(x->out, v, (size_t)(p - v));
		n = strcspn(p + 1, "{}");
		val = NULL;
		if (p[1 + n] == '}') {
			va_start(ap, key);
			while ((name = va_arg(ap, const char *)) != NULL) {
				const char *s = va_arg(ap, const char *);

				if (strlen(name) == n &&
				    strncmp(name, p + 1, n) == 0) {
					val = s;
					break;
				}
			}
			va_end(ap);
		}
		if (val) {
			esc(x->out, val);
			v = p + n + 2;
		} else {
			esc_n(x->out, p, 1);
			v = p + 1;
		}
	}
	esc(x->out, v);
}

/* The count as shown (report_count()), into s (size n), unescaped. */
static void
count_str(const struct rh *x, long v, char *s, size_t n)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 64);
	report_count(x->r, v, &b);
	strlcpy_(s, buf_str(&b), n);
	buf_free(&b);
}

/* Hidden by the threshold: report_count() did not show the number. */
static int
hidden(const struct rh *x, long v)
{
	char s[32];

	count_str(x, v, s, sizeof(s));
	return s[0] == '<';
}

/* The value a chart draws: 0 for a hidden count. */
static long
shown(const struct rh *x, long v)
{
	return hidden(x, v) || v < 0 ? 0 : v;
}

static void
put_count(const struct rh *x, long v)
{
	char s[32];

	count_str(x, v, s, sizeof(s));
	esc(x->out, s);
}

/* A name cut to LABEL_MAX characters (at a UTF-8 boundary) plus "…". */
static void
put_label(struct buf *out, const char *s, size_t max)
{
	size_t i = 0, chars = 0, l, n = strlen(s);

	while (i < n && chars < max) {
		l = utf8_seq_len(s + i, n - i);
		i += l ? l : 1;
		chars++;
	}
	esc_n(out, s, i);
	if (i < n)
		buf_adds(out, "\xe2\x80\xa6");
}

/*
 * An event's title with each "@" written "(at)", as the text report
 * does: no address appears in a report, even one typed into a title.
 * The caller frees it.
 */
static char *
no_at(const char *s)
{
	struct buf t = BUF_INIT;
	const char *at;
	char *r;

	while ((at = strchr(s, '@')) != NULL) {
		buf_add(&t, s, (size_t)(at - s));
		buf_adds(&t, "(at)");
		s = at + 1;
	}
	buf_adds(&t, s);
	r = buf_detach(&t, NULL);
	return r;
}

static void
put_title(struct buf *out, const char *s)
{
	char *t = no_at(s);

	esc(out, t);
	free(t);
}

static void
put_date(const struct rh *x, time_t t, int with_time)
{
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) ||
	    strftime(s, sizeof(s), with_time ? "%Y-%m-%d %H:%M" : "%Y-%m-%d",
	             &tm) == 0)
		return;
	esc(x->out, s);
}

/* ----- the page's frame ---------------------------------------------------- */

static const char style[] =
    "*{box-sizing:border-box}\n"
    "html{color-scheme:light;background:#fff;color:#222}\n"
    "body{margin:0;font:16px/1.45 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"Noto Sans\",Arial,sans-serif}\n"
    "main{max-width:72rem;margin:0 auto;padding:1.5rem 2rem}\n"
    "h1{font-size:1.8rem;margin:0 0 .25rem}\n"
    "h2{font-size:1.35rem;margin:2rem 0 .75rem;"
    "border-bottom:2px solid #d0d0d0;padding-bottom:.2rem}\n"
    "h3{font-size:1.05rem;margin:0 0 .4rem}\n"
    ".period{font-size:1.1rem;margin:0}\n"
    ".note{color:#4a4a4a;margin:.4rem 0 0}\n"
    ".lists{display:grid;grid-template-columns:"
    "repeat(auto-fill,minmax(20rem,1fr));gap:1.25rem}\n"
    ".lists section{border:1px solid #d0d0d0;border-radius:4px;"
    "padding:.75rem 1rem;break-inside:avoid}\n"
    ".lists section.total{border-color:#1f5fa6;border-width:2px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{padding:.2rem .4rem;border-bottom:1px solid #e4e4e4;"
    "text-align:start;vertical-align:top}\n"
    "td.n,th.n{text-align:end;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}\n"
    /* "<5" and dates read left to right on a right-to-left page too */
    "td.n{direction:ltr}[dir=rtl] td.n{text-align:left}\n"
    "th[scope=row]{font-weight:400}\n"
    "thead th,.lists th[colspan]{font-weight:600}\n"
    "thead th{border-bottom:2px solid #bdbdbd}\n"
    ".wide{overflow-x:auto}\n"
    ".wide table{min-width:40rem}\n"
    "figure{margin:1rem 0 2rem;break-inside:avoid}\n"
    "figcaption{font-weight:600;margin-bottom:.4rem}\n"
    "svg{display:block;max-width:100%;height:auto;direction:ltr}\n"
    "svg text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Noto Sans\",Arial,sans-serif}\n"
    "svg .grid{stroke:#e0e0e0;stroke-width:1}\n"
    "@media print{main{max-width:none;padding:0}body{font-size:10pt}"
    "h2{break-after:avoid}.wide{overflow:visible}"
    ".lists{grid-template-columns:repeat(2,1fr)}}\n";

/* A language tag we may put in a path and in lang="": "da", "pt-BR". */
static int
lang_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n < 2 || n > 15)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
	       s[n - 1] != '-';
}

static int
lang_rtl(const char *lang)
{
	static const char *const rtl[] = {"ar", "he", "fa", "ur", "ps", "yi"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rtl); i++)
		if (strncmp(lang, rtl[i], 2) == 0 &&
		    (lang[2] == '\0' || lang[2] == '-'))
			return 1;
	return 0;
}

/* A date as text, unescaped (put_word() escapes it). */
static void
date_str(time_t t, char *s, size_t n)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(s, n, "%Y-%m-%d", &tm) == 0)
		strlcpy_(s, "?", n);
}

/* The period's first and last days: [from, to) ends the day before to. */
static void
period_strs(const struct report *r, char *from, char *to, size_t n)
{
	date_str(r->from, from, n);
	date_str(r->to > r->from ? r->to - 1 : r->to, to, n);
}

/* s between U+2066 and U+2069 (a left-to-right isolate), so that a date
 * keeps its order in right-to-left text, <title> included. */
static void
ltr_isolate(char *s, size_t n)
{
	char t[64];

	snprintf(t, sizeof(t), "\xe2\x81\xa6%s\xe2\x81\xa9", s);
	strlcpy_(s, t, n);
}

/* ----- tables ---------------------------------------------------------------- */

static void
row_count(const struct rh *x, const char *key, long v)
{
	buf_adds(x->out, "<tr><th scope=\"row\">");
	put_word(x, key, NULL);
	buf_adds(x->out, "</th><td class=\"n\">");
	put_count(x, v);
	buf_adds(x->out, "</td></tr>\n");
}

static void
put_decimal(const struct rh *x, double d)
{
	char s[32], *p;

	snprintf(s, sizeof(s), "%.1f", d);
	if (x->comma && (p = strchr(s, '.')) != NULL)
		*p = ',';
	esc(x->out, s);
}

static void
list_table(const struct rh *x, const struct report_list *l, int total)
{
	struct buf *o = x->out;
	size_t i;

	buf_adds(o, total ? "<section class=\"total\">\n<h3>"
	                  : "<section>\n<h3>");
	if (total)
		put_word(x, "countries", NULL);
	else
		esc(o, l->name);
	if (!total && l->country[0]) {
		buf_adds(o, " <small>(");
		esc(o, l->country);
		buf_adds(o, ")</small>");
	}
	buf_adds(o, "</h3>\n<table>\n");
	row_count(x, "sub_requests", l->sub_requests);
	row_count(x, "confirmations", l->confirmations);
	row_count(x, "expired", l->expired);
	row_count(x, "unsubscriptions", l->unsubscriptions);
	row_count(x, "members_start", l->members_start);
	row_count(x, "members_end", l->members_end);
	row_count(x, "digest_members", l->digest_members);
	row_count(x, "nomail_members", l->nomail_members);
	row_count(x, "posts", l->posts);
	row_count(x, "posters", l->posters);
	row_count(x, "threads", l->threads);
	/* A ratio, not a count: over too few threads it would tell who
	 * wrote, so it is then hidden as the threads are (as report.c). */
	buf_adds(o, "<tr><th scope=\"row\">");
	put_word(x, "replies_per_thread", NULL);
	buf_adds(o, "</th><td class=\"n\">");
	if (hidden(x, l->threads))
		put_count(x, l->threads);
	else
		put_decimal(x, l->replies_per_thread);
	buf_adds(o, "</td></tr>\n");
	row_count(x, "held", l->held);
	row_count(x, "rejected", l->rejected);
	row_count(x, "delivered", l->delivered);
	row_count(x, "bounces", l->bounces);
	row_count(x, "events_count", l->events);
	row_count(x, "invitations", l->invitations);
	if (l->newsletter) {
		buf_adds(o, "<tr><th colspan=\"2\">");
		put_word(x, "newsletter", NULL);
		buf_adds(o, "</th></tr>\n");
		row_count(x, "reach_delivered", l->reach_delivered);
		row_count(x, "reach_bounced", l->reach_bounced);
		row_count(x, "reach_left", l->reach_left);
	}
	buf_adds(o, "<tr><th scope=\"row\">");
	put_word(x, "languages", NULL);
	buf_adds(o, "</th><td class=\"n\">");
	for (i = 0; i < l->n_langs && i < REPORT_LANGS_MAX; i++) {
		if (i)
			buf_adds(o, "<br>");
		esc(o, l->langs[i].lang);
		buf_adds(o, " ");
		put_count(x, l->langs[i].n);
	}
	if (l->n_langs == 0)
		put_word(x, "none", NULL);
	buf_adds(o, "</td></tr>\n</table>\n</section>\n");
}

static int
any_country(const struct report *r)
{
	size_t i;

	for (i = 0; i < r->n_lists; i++)
		if (r->lists[i].country[0])
			return 1;
	return 0;
}

static const char *const event_keys[] = {"invited", "yes", "no", "maybe",
                                         "waitlist", "guests", "attended"};

static long
event_value(const struct report_event *e, size_t k)
{
	switch (k) {
	case 0: return e->invited;
	case 1: return e->yes;
	case 2: return e->no;
	case 3: return e->maybe;
	case 4: return e->waitlist;
	case 5: return e->guests;
	default: return e->attended;
	}
}

static void
events_table(const struct rh *x)
{
	struct buf *o = x->out;
	size_t i, k;

	buf_adds(o, "<div class=\"wide\"><table>\n<thead><tr>"
	            "<th scope=\"col\">");
	put_word(x, "event", NULL);
	buf_adds(o, "</th><th scope=\"col\">");
	put_word(x, "list", NULL);
	buf_adds(o, "</th><th scope=\"col\">");
	put_word(x, "date", NULL);
	buf_adds(o, "</th>");
	for (k = 0; k < ARRAY_SIZE(event_keys); k++) {
		buf_adds(o, "<th scope=\"col\" class=\"n\">");
		put_word(x, event_keys[k], NULL);
		buf_adds(o, "</th>");
	}
	buf_adds(o, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < x->r->n_events; i++) {
		const struct report_event *e = &x->r->events[i];

		buf_adds(o, "<tr><th scope=\"row\">");
		put_title(o, e->title);
		buf_adds(o, "</th><td>");
		esc(o, e->list);
		buf_adds(o, "</td><td class=\"n\">");
		put_date(x, e->start, 1);
		buf_adds(o, "</td>");
		for (k = 0; k < ARRAY_SIZE(event_keys); k++) {
			buf_adds(o, "<td class=\"n\">");
			put_count(x, event_value(e, k));
			buf_adds(o, "</td>");
		}
		buf_adds(o, "</tr>\n");
	}
	buf_adds(o, "</tbody>\n</table></div>\n");
}

/* ----- charts -------------------------------------------------------------------- */

/* A round axis maximum >= max with a step of 1, 2 or 5 times a power of
 * ten, at most 5 steps. */
static long
nice_step(long max)
{
	long p = 1, step;

	if (max < 1)
		max = 1;
	for (;;) {
		if ((step = p) * 5 >= max || (step = 2 * p) * 5 >= max ||
		    (step = 5 * p) * 5 >= max)
			return step;
		if (p > (long)1e15)
			return p;
		p *= 10;
	}
}

struct chart {
	const struct rh *x;
	const char *caption_key;
	int plot_h, top;        /* plot area: CH_LEFT.., top..top+plot_h */
	int plot_w, height;
	size_t n_x, n_s;
	long ymax, ystep;
};

static int
legend_rows(size_t n_s)
{
	size_t per = (CH_W - CH_LEFT - CH_RIGHT) / CH_LEG_W;

	return (int)((n_s + per - 1) / per);
}

static double
xpos(const struct chart *ch, size_t i)
{
	return CH_LEFT + ((double)i + 0.5) * ch->plot_w / (double)ch->n_x;
}

static double
ypos(const struct chart *ch, long v)
{
	return ch->top + ch->plot_h -
	       (double)v * ch->plot_h / (double)ch->ymax;
}

/* Opens <figure> and <svg>, draws the grid, the y axis and its label. */
static void
chart_open(struct chart *ch, long max, const char *y_key)
{
	const struct rh *x = ch->x;
	struct buf *o = x->out;
	struct buf t = BUF_INIT;
	long v;

	ch->top = CH_TOP;
	ch->plot_h = CH_PLOT_H;
	ch->plot_w = CH_W - CH_LEFT - CH_RIGHT;
	ch->ystep = nice_step(max);
	ch->ymax = ch->ystep * ((max + ch->ystep - 1) / ch->ystep);
	if (ch->ymax < ch->ystep)
		ch->ymax = ch->ystep;
	ch->height = ch->top + ch->plot_h + CH_XAXIS +
	             legend_rows(ch->n_s) * CH_LEG_H + 8;

	buf_init(&t, 4096);
	{
		struct rh tx = *x;

		tx.out = &t;
		put_word(&tx, ch->caption_key, NULL);
	}
	buf_adds(o, "<figure>\n<figcaption>");
	buf_adds(o, buf_str(&t));
	buf_printf(o,
	           "</figcaption>\n<svg "
	           "role=\"img\" width=\"%d\" height=\"%d\" "
	           "viewBox=\"0 0 %d %d\" aria-label=\"",
	           CH_W, ch->height, CH_W, ch->height);
	buf_adds(o, buf_str(&t));
	buf_adds(o, "\">\n<title>");
	buf_adds(o, buf_str(&t));
	buf_adds(o, "</title>\n");
	buf_free(&t);
	buf_printf(o, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
	              "fill=\"#ffffff\"/>\n", CH_W, ch->height);
	for (v = 0; v <= ch->ymax; v += ch->ystep) {
		double y = ypos(ch, v);

		buf_printf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
		              "x2=\"%d\" y2=\"%.1f\"/>",
		           CH_LEFT, y, CH_LEFT + ch->plot_w, y);
		buf_printf(o, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" "
		              "text-anchor=\"end\" fill=\"" INK_SOFT "\">%ld"
		              "</text>\n", CH_LEFT - 6, y + 4, v);
	}
	buf_printf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	              "stroke=\"" INK "\"/>",
	           CH_LEFT, ch->top, CH_LEFT, ch->top + ch->plot_h);
	buf_printf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	              "stroke=\"" INK "\"/>\n",
	           CH_LEFT, ch->top + ch->plot_h, CH_LEFT + ch->plot_w,
	           ch->top + ch->plot_h);
	buf_printf(o, "<text transform=\"translate(16 %d) rotate(-90)\" "
	              "font-size=\"13\" text-anchor=\"middle\" fill=\"" INK
	              "\">", ch->top + ch->plot_h / 2);
	put_word(x, y_key, NULL);
	buf_adds(o, "</text>\n");
}

/* The x labels (names cut to fit their slot), the x axis label, the
 * legend, and </svg></figure>. */
static void
chart_close(struct chart *ch, const char *const *xlabels, const char *x_key,
            const struct series *s, int lines)
{
	const struct rh *x = ch->x;
	struct buf *o = x->out;
	size_t i, per = (CH_W - CH_LEFT - CH_RIGHT) / CH_LEG_W;
	size_t fit = (size_t)(ch->plot_w / (double)ch->n_x / 7.5);
	int base = ch->top + ch->plot_h;

	if (fit > LABEL_MAX)
		fit = LABEL_MAX;
	if (fit < 3)
		fit = 3;
	for (i = 0; i < ch->n_x; i++) {
		buf_printf(o, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" "
		              "text-anchor=\"middle\" fill=\"" INK "\">",
		           xpos(ch, i), base + 18);
		if (strlen(xlabels[i]) > fit) {
			buf_adds(o, "<title>");
			esc(o, xlabels[i]);
			buf_adds(o, "</title>");
		}
		put_label(o, xlabels[i], fit);
		buf_adds(o, "</text>\n");
	}
	buf_printf(o, "<text x=\"%d\" y=\"%d\" font-size=\"13\" "
	              "text-anchor=\"middle\" fill=\"" INK "\">",
	           CH_LEFT + ch->plot_w / 2, base + 40);
	put_word(x, x_key, NULL);
	buf_adds(o, "</text>\n");
	for (i = 0; i < ch->n_s; i++) {
		const char *col = palette[i % ARRAY_SIZE(palette)];
		const char *da = dashes[(i / ARRAY_SIZE(palette) + (lines ? i : 0)) %
		                        ARRAY_SIZE(dashes)];
		int lx = CH_LEFT + (int)(i % per) * CH_LEG_W;
		int ly = base + CH_XAXIS + (int)(i / per) * CH_LEG_H + 8;

		buf_adds(o, "<g>");
		if (lines)
			buf_printf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
			              "y2=\"%d\" stroke=\"%s\" stroke-width=\"3\""
			              "%s%s%s/>",
			           lx, ly, lx + 28, ly, col,
			           *da ? " stroke-dasharray=\"" : "", da,
			           *da ? "\"" : "");
		else
			buf_printf(o, "<rect x=\"%d\" y=\"%d\" width=\"16\" "
			              "height=\"12\" fill=\"%s\"/>",
			           lx + 6, ly - 6, col);
		buf_printf(o, "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
		              "fill=\"" INK "\">", lx + 34, ly + 4);
		if (strlen(s[i].name) > LABEL_MAX) {
			buf_adds(o, "<title>");
			esc(o, s[i].name);
			buf_adds(o, "</title>");
		}
		put_label(o, s[i].name, LABEL_MAX);
		buf_adds(o, "</text></g>\n");
	}
	buf_adds(o, "</svg>\n</figure>\n");
}

/* "<5" over a hidden value at (cx, base), in the series' colour. */
static void
hidden_label(struct buf *o, double cx, double y, const char *col,
             const char *text)
{
	buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
	              "text-anchor=\"middle\" fill=\"%s\">", cx, y, col);
	esc(o, text);
	buf_adds(o, "</text>");
}

/* A tooltip: "series, x: count". */
static void
tip(const struct rh *x, const char *sname, const char *xname, long v)
{
	buf_adds(x->out, "<title>");
	esc(x->out, sname);
	buf_adds(x->out, ", ");
	esc(x->out, xname);
	buf_adds(x->out, ": ");
	put_count(x, v);
	buf_adds(x->out, "</title>");
}

/* An empty chart: the caption and a sentence saying there is no data. */
static void
chart_empty(const struct rh *x, const char *caption_key)
{
	struct buf *o = x->out;

	buf_adds(o, "<figure>\n<figcaption>");
	put_word(x, caption_key, NULL);
	buf_adds(o, "</figcaption>\n<svg "
	            "role=\"img\" width=\"880\" height=\"60\" "
	            "viewBox=\"0 0 880 60\" aria-label=\"");
	put_word(x, caption_key, NULL);
	buf_adds(o, "\">\n<title>");
	put_word(x, caption_key, NULL);
	buf_adds(o, "</title>\n<text x=\"64\" y=\"34\" font-size=\"14\" "
	            "fill=\"" INK "\">");
	put_word(x, "no_data", NULL);
	buf_adds(o, "</text>\n</svg>\n</figure>\n");
}

static long
series_max(const struct rh *x, const struct series *s, size_t n_s,
           size_t n_x)
{
	long max = 0, v;
	size_t i, j;

	for (i = 0; i < n_s; i++)
		for (j = 0; j < n_x; j++)
			if ((v = shown(x, s[i].v[j])) > max)
				max = v;
	return max;
}

/* Lines: one polyline per series over the x values. */
static void
chart_lines(const struct rh *x, const char *caption_key, const char *y_key,
            const char *x_key, const char *const *xl, size_t n_x,
            const struct series *s, size_t n_s)
{
	struct chart ch = {x, caption_key, 0, 0, 0, 0, n_x, n_s, 0, 0};
	struct buf *o = x->out;
	size_t i, j;

	chart_open(&ch, series_max(x, s, n_s, n_x), y_key);
	for (i = 0; i < n_s; i++) {
		const char *col = palette[i % ARRAY_SIZE(palette)];
		const char *da = dashes[(i / ARRAY_SIZE(palette) + i) %
		                        ARRAY_SIZE(dashes)];
		char c[32];

		buf_adds(o, "<g>");
		buf_printf(o, "<polyline fill=\"none\" stroke=\"%s\" "
		              "stroke-width=\"2.5\"%s%s%s points=\"",
		           col, *da ? " stroke-dasharray=\"" : "", da,
		           *da ? "\"" : "");
		for (j = 0; j < n_x; j++)
			buf_printf(o, "%s%.1f,%.1f", j ? " " : "",
			           xpos(&ch, j), ypos(&ch, shown(x, s[i].v[j])));
		buf_adds(o, "\"/>\n");
		for (j = 0; j < n_x; j++) {
			double cx = xpos(&ch, j), cy;

			cy = ypos(&ch, shown(x, s[i].v[j]));
			buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			              "fill=\"%s\">", cx, cy, col);
			tip(x, s[i].name, xl[j], s[i].v[j]);
			buf_adds(o, "</circle>");
			if (hidden(x, s[i].v[j])) {
				count_str(x, s[i].v[j], c, sizeof(c));
				hidden_label(o, cx, cy - 8 - 11.0 * (double)(i % 3),
				             col, c);
			}
		}
		buf_adds(o, "</g>\n");
	}
	chart_close(&ch, xl, x_key, s, 1);
}

/* Grouped bars: a group per x value, a bar per series. */
static void
chart_bars(const struct rh *x, const char *caption_key, const char *y_key,
           const char *x_key, const char *const *xl, size_t n_x,
           const struct series *s, size_t n_s)
{
	struct chart ch = {x, caption_key, 0, 0, 0, 0, n_x, n_s, 0, 0};
	struct buf *o = x->out;
	double gw, bw;
	size_t i, j;
	int base;

	chart_open(&ch, series_max(x, s, n_s, n_x), y_key);
	base = ch.top + ch.plot_h;
	gw = (double)ch.plot_w / (double)n_x;
	bw = gw * 0.8 / (double)n_s;
	for (i = 0; i < n_s; i++) {
		const char *col = palette[i % ARRAY_SIZE(palette)];

		buf_adds(o, "<g>");
		for (j = 0; j < n_x; j++) {
			long v = shown(x, s[i].v[j]);
			double bx = CH_LEFT + gw * (double)j + gw * 0.1 +
			            bw * (double)i;
			double y = ypos(&ch, v);
			char c[32];

			buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" "
			              "width=\"%.1f\" height=\"%.1f\" "
			              "fill=\"%s\">",
			           bx + 0.5, y, bw > 2 ? bw - 1 : bw,
			           (double)base - y, col);
			tip(x, s[i].name, xl[j], s[i].v[j]);
			buf_adds(o, "</rect>");
			/* The count over its bar, when there is room. */
			count_str(x, s[i].v[j], c, sizeof(c));
			if (hidden(x, s[i].v[j]) || (bw >= 22 && v > 0))
				hidden_label(o, bx + bw / 2, y - 4, col, c);
		}
		buf_adds(o, "</g>\n");
	}
	chart_close(&ch, xl, x_key, s, 0);
}

/* ----- the charts' data ------------------------------------------------------ */

static size_t
find(const char *const *a, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i], s) == 0)
			return i;
	return n;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Charts 1 and 2: the months (sorted) and the lists (the report's order,
 * then any other list that has months). */
static void
month_charts(const struct rh *x)
{
	const struct report *r = x->r;
	const char **months = NULL, **lists = NULL;
	size_t n_m = 0, n_l = 0, cap_m = 0, cap_l = 0, i, m, l;
	struct series *mem, *posts;

	for (i = 0; i < r->n_months; i++) {
		const struct report_month *rm = &r->months[i];

		if (find(months, n_m, rm->month) == n_m) {
			months = xgrow(months, &cap_m, n_m + 1, sizeof(*months));
			months[n_m++] = rm->month;
		}
	}
	for (i = 0; i < r->n_lists; i++)
		if (find(lists, n_l, r->lists[i].name) == n_l) {
			lists = xgrow(lists, &cap_l, n_l + 1, sizeof(*lists));
			lists[n_l++] = r->lists[i].name;
		}
	for (i = 0; i < r->n_months; i++)
		if (find(lists, n_l, r->months[i].list) == n_l) {
			lists = xgrow(lists, &cap_l, n_l + 1, sizeof(*lists));
			lists[n_l++] = r->months[i].list;
		}
	if (n_m == 0 || n_l == 0) {
		chart_empty(x, "chart_members");
		chart_empty(x, "chart_posts");
		free(months);
		free(lists);
		return;
	}
	qsort(months, n_m, sizeof(*months), cmp_str);
	mem = xcalloc(n_l, sizeof(*mem));
	posts = xcalloc(n_l, sizeof(*posts));
	for (l = 0; l < n_l; l++) {
		mem[l].name = posts[l].name = lists[l];
		mem[l].v = xcalloc(n_m, sizeof(long));
		posts[l].v = xcalloc(n_m, sizeof(long));
	}
	for (i = 0; i < r->n_months; i++) {
		m = find(months, n_m, r->months[i].month);
		l = find(lists, n_l, r->months[i].list);
		mem[l].v[m] = r->months[i].members;
		posts[l].v[m] = r->months[i].posts;
	}
	chart_lines(x, "chart_members", "members", "month", months,
	            n_m, mem, n_l);
	chart_bars(x, "chart_posts", "posts", "month", months, n_m,
	           posts, n_l);
	for (l = 0; l < n_l; l++) {
		free(mem[l].v);
		free(posts[l].v);
	}
	free(mem);
	free(posts);
	free(months);
	free(lists);
}

/* Chart 3: a group per event, a bar per answer (invited left out: it
 * would flatten the others; the table has it). */
static void
event_chart(const struct rh *x)
{
	const struct report *r = x->r;
	struct series s[ARRAY_SIZE(event_keys) - 1];
	const char **names;
	size_t n = r->n_events, k, i;

	if (n == 0) {
		chart_empty(x, "chart_rsvp");
		return;
	}
	names = xcalloc(n, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = no_at(r->events[i].title[0] ? r->events[i].title
		                                       : "?");
	for (k = 0; k < ARRAY_SIZE(s); k++) {
		s[k].name = word(x, event_keys[k + 1]);
		s[k].v = xcalloc(n, sizeof(long));
		for (i = 0; i < n; i++)
			s[k].v[i] = event_value(&r->events[i], k + 1);
	}
	chart_bars(x, "chart_rsvp", "axis_people", "event", names, n,
	           s, ARRAY_SIZE(s));
	for (k = 0; k < ARRAY_SIZE(s); k++)
		free(s[k].v);
	for (i = 0; i < n; i++)
		free((char *)names[i]);
	free(names);
}

/* ----- the page ---------------------------------------------------------------- */

static void
page(struct rh *x)
{
	const struct report *r = x->r;
	struct buf *out = x->out;
	char from[32], to[32], n[32], m[32];
	size_t i;

	period_strs(r, from, to, sizeof(from));
	if (lang_rtl(x->lang)) {
		ltr_isolate(from, sizeof(from));
		ltr_isolate(to, sizeof(to));
	}
	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"");
	esc(out, x->lang);
	buf_printf(out, "\" dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" "
	                "content=\"width=device-width, initial-scale=1\">\n"
	                "<title>",
	           lang_rtl(x->lang) ? "rtl" : "ltr");
	put_word(x, "title", NULL);
	buf_adds(out, " \xe2\x80\x94 ");
	put_word(x, "period", "from", from, "to", to, NULL);
	buf_adds(out, "</title>\n<style>\n");
	buf_adds(out, style);
	buf_adds(out, "</style>\n</head>\n<body>\n<main>\n<h1>");
	put_word(x, "title", NULL);
	buf_adds(out, "</h1>\n<p class=\"period\">");
	put_word(x, "period", "from", from, "to", to, NULL);
	buf_adds(out, "</p>\n");
	if (r->threshold > 1) {
		/* {m} as report_count() writes it, without its "<". */
		snprintf(n, sizeof(n), "%d", r->threshold - 1);
		count_str(x, 1, m, sizeof(m));
		buf_adds(out, "<p class=\"note\">");
		put_word(x, "privacy", "n", n, "m", m[0] == '<' ? m + 1 : m,
		         NULL);
		buf_adds(out, "</p>\n");
	}

	buf_adds(out, "<h2>");
	put_word(x, "lists", NULL);
	buf_adds(out, "</h2>\n<div class=\"lists\">\n");
	for (i = 0; i < r->n_lists; i++)
		list_table(x, &r->lists[i], 0);
	if (any_country(r))
		list_table(x, &r->countries, 1);
	buf_adds(out, "</div>\n");

	buf_adds(out, "<h2>");
	put_word(x, "events", NULL);
	buf_adds(out, "</h2>\n");
	if (r->n_events)
		events_table(x);
	else {
		buf_adds(out, "<p>");
		put_word(x, "no_events", NULL);
		buf_adds(out, "</p>\n");
	}

	buf_adds(out, "<h2>");
	put_word(x, "charts", NULL);
	buf_adds(out, "</h2>\n");
	if (r->threshold > 1) {
		buf_adds(out, "<p class=\"note\">");
		put_word(x, "chart_hidden", "m", m[0] == '<' ? m + 1 : m, NULL);
		buf_adds(out, "</p>\n");
	}
	month_charts(x);
	event_chart(x);
	buf_adds(out, "</main>\n</body>\n</html>\n");
}

int
report_html(const struct conf *c, const struct report *r, const char *lang,
            struct buf *out)
{
	struct buf page_buf = BUF_INIT;
	struct rh x;
	int rc;

	/*
	 * The page is built apart and appended in one go: an append that
	 * would pass a cap fails whole, and a page cut short anywhere (the
	 * private buffer full) is not handed out.  The page's size grows
	 * with the lists, months and events only, never with a mail.
	 */
	buf_init(&page_buf, PAGE_MAX);
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.r = r;
	x.out = &page_buf;
	strlcpy_(x.lang, lang_ok(lang) ? lang : "en", sizeof(x.lang));
	x.comma = strcmp(x.lang, "en") != 0 && !lang_rtl(x.lang);
	page(&x);
	if (page_buf.len + PAGE_SLACK > PAGE_MAX)
		rc = -1;
	else
		rc = buf_add(out, page_buf.s, page_buf.len);
	buf_free(&page_buf);
	return rc;
}
