/*
 * report_html_test.c - the participation report's HTML page
 * (report_html.c): a report built by hand (three lists, two with a
 * country, two events, six months) rendered in every coordinators'
 * language and checked as text: the nesting of the tags, nothing active
 * or remote, three SVG charts with a title and a label, hidden counts
 * shown as "<5" (and drawn at height 0), the language's words, escaping,
 * colour contrast, the caps.
 *
 * With REPORT_HTML_DUMP=DIR set, each page is also written to
 * DIR/report-LANG.html (t/report_browser.sh opens them in Chromium).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "report.h"
#include "tap.h"
#include "words.h"

static char tdir[4096];

static const char *const langs[] = {"en", "da", "sv", "nb", "fi", "is",
                                    "ar"};

/* 2026-01-01 and 2026-07-01, UTC. */
#define FROM 1767225600
#define TO   1782864000

static struct report_list lists[3];
static struct report_event events[2];
static struct report_month months[18];

static void
set_list(struct report_list *l, const char *name, const char *country,
         long base)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->country, sizeof(l->country), "%s", country);
	l->sub_requests = base + 10;
	l->confirmations = base + 7;
	l->expired = 3;                 /* hidden */
	l->unsubscriptions = 2;         /* hidden */
	l->members_start = base * 4;
	l->members_end = base * 4 + 5;
	l->digest_members = 6;
	l->nomail_members = 0;
	l->posts = base * 3;
	l->posters = base;
	l->threads = 10;
	l->replies_per_thread = 2.5;
	l->held = 1;
	l->rejected = 0;
	l->delivered = base * 100;
	l->bounces = 4;
	l->events = 1;
	l->invitations = base * 2;
	snprintf(l->langs[0].lang, sizeof(l->langs[0].lang), "da");
	l->langs[0].n = base * 2;
	snprintf(l->langs[1].lang, sizeof(l->langs[1].lang), "en");
	l->langs[1].n = 4;
	l->n_langs = 2;
}

static void
build(struct report *r)
{
	static const char *const mnames[] = {"2026-01", "2026-02", "2026-03",
	                                     "2026-04", "2026-05", "2026-06"};
	size_t i, j;

	memset(r, 0, sizeof(*r));
	r->from = FROM;
	r->to = TO;
	r->threshold = 5;
	set_list(&lists[0], "denmark", "DK", 30);
	set_list(&lists[1], "sweden", "SE", 20);
	set_list(&lists[2], "news", "", 50);
	lists[2].newsletter = 1;
	lists[2].reach_delivered = 400;
	lists[2].reach_bounced = 12;
	lists[2].reach_left = 3;
	r->lists = lists;
	r->n_lists = 3;
	set_list(&r->countries, "countries", "", 50);
	r->countries.expired = 6;
	r->countries.unsubscriptions = 4;

	memset(events, 0, sizeof(events));
	events[0].id = 1;
	snprintf(events[0].list, sizeof(events[0].list), "denmark");
	snprintf(events[0].title, sizeof(events[0].title),
	         "Middag i Aarhus <script>alert(1)</script> & \"venner\"");
	events[0].start = FROM + 40 * 86400;
	events[0].invited = 120;
	events[0].yes = 31;
	events[0].no = 12;
	events[0].maybe = 3;            /* hidden */
	events[0].waitlist = 0;
	events[0].guests = 6;
	events[0].attended = 28;
	events[1].id = 2;
	snprintf(events[1].list, sizeof(events[1].list), "sweden");
	snprintf(events[1].title, sizeof(events[1].title),
	         "Mentordag i Malmö");
	events[1].start = FROM + 100 * 86400;
	events[1].invited = 80;
	events[1].yes = 22;
	events[1].no = 9;
	events[1].maybe = 7;
	events[1].waitlist = 2;         /* hidden */
	events[1].guests = 1;           /* hidden */
	events[1].attended = 19;
	r->events = events;
	r->n_events = 2;

	/* Months given list by list, newest first: the page sorts them. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 6; j++) {
			struct report_month *m = &months[i * 6 + j];

			snprintf(m->month, sizeof(m->month), "%s",
			         mnames[5 - j]);
			snprintf(m->list, sizeof(m->list), "%s",
			         lists[i].name);
			m->members = (long)(i * 40 + (5 - j) * 6 + 2);
			m->posts = (long)((i + 1) * (5 - j) * 3);
		}
	months[17].members = 3;         /* news, 2026-01: hidden */
	months[5].posts = 0;
	months[4].posts = 2;            /* denmark, 2026-02: hidden */
	r->months = months;
	r->n_months = 18;
}

/* ----- helpers ---------------------------------------------------------------- */

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += l;
	}
	return n;
}

static int
contains_ci(const char *s, const char *needle)
{
	size_t l = strlen(needle);

	for (; *s; s++)
		if (strncasecmp(s, needle, l) == 0)
			return 1;
	return 0;
}

/* An attribute " onSOMETHING=" anywhere. */
static int
has_handler(const char *s)
{
	const char *p;

	for (; (s = strstr(s, " on")) != NULL; s++) {
		for (p = s + 3; isalpha((unsigned char)*p); p++)
			;
		if (p > s + 3 && *p == '=')
			return 1;
	}
	return 0;
}

/* s escaped the way the page escapes text. */
static void
escape(const char *s, struct buf *out)
{
	for (; *s; s++)
		switch (*s) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&#39;"); break;
		default: buf_addc(out, *s);
		}
}

/* The page holds the word key of lang, escaped either way the page may
 * write a quote. */
static int
has_word(const char *page, const char *lang, const char *key)
{
	struct buf b = BUF_INIT;
	const char *w = words_get(tdir, lang, "report", key);
	int found;

	escape(w, &b);
	found = strstr(page, buf_str(&b)) != NULL;
	buf_free(&b);
	return found;
}

/*
 * The tags nest: every element but the void ones (meta, br) and the
 * self-closed ones is closed, in order.  Comments and the doctype are
 * skipped; a "<" in text would be an error (text is escaped).  0 when
 * balanced, else -1 with why.
 */
static int
balanced(const char *s, char *why, size_t whysz)
{
	char stack[256][16];
	size_t depth = 0;

	while ((s = strchr(s, '<')) != NULL) {
		const char *e = strchr(s, '>');
		char name[16];
		size_t n = 0;
		int closing = s[1] == '/';
		const char *p = s + 1 + closing;

		if (!e) {
			snprintf(why, whysz, "unterminated tag");
			return -1;
		}
		if (s[1] == '!') {
			s = e + 1;
			continue;
		}
		while (n + 1 < sizeof(name) && (isalnum((unsigned char)*p)))
			name[n++] = (char)tolower((unsigned char)*p++);
		name[n] = '\0';
		if (n == 0) {
			snprintf(why, whysz, "a bare < in text");
			return -1;
		}
		if (closing) {
			if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
				snprintf(why, whysz, "</%s> closes <%s>", name,
				         depth ? stack[depth - 1] : "nothing");
				return -1;
			}
			depth--;
		} else if (strcmp(name, "meta") != 0 &&
		           strcmp(name, "br") != 0 && e[-1] != '/') {
			if (depth == sizeof(stack) / sizeof(stack[0])) {
				snprintf(why, whysz, "too deep");
				return -1;
			}
			snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
		}
		s = e + 1;
	}
	if (depth) {
		snprintf(why, whysz, "<%s> never closed", stack[depth - 1]);
		return -1;
	}
	return 0;
}

/* Relative luminance of #rrggbb (WCAG 2.x). */
static double
lum(const char *hex)
{
	double c[3];
	int i;

	for (i = 0; i < 3; i++) {
		char h[3] = {hex[1 + 2 * i], hex[2 + 2 * i], 0};
		double v = (double)strtol(h, NULL, 16) / 255.0;

		c[i] = v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
	}
	return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/* Every fill="#..." and stroke="#..." in the page but the white
 * background has a contrast of 4.5:1 or more against white; the worst
 * is reported. */
static double
worst_contrast(const char *page, char *which)
{
	static const char *const attrs[] = {"fill=\"#", "stroke=\"#"};
	double worst = 21;
	size_t a;

	strcpy(which, "-");
	for (a = 0; a < 2; a++) {
		const char *p = page;

		while ((p = strstr(p, attrs[a])) != NULL) {
			const char *h = p + strlen(attrs[a]) - 1;
			double cr;

			p = h + 1;
			if (strncasecmp(h, "#ffffff", 7) == 0)
				continue;
			cr = 1.05 / (lum(h) + 0.05);
			if (cr < worst) {
				worst = cr;
				memcpy(which, h, 7);
				which[7] = '\0';
			}
		}
	}
	return worst;
}

static void
dump(const char *lang, const struct buf *b)
{
	const char *dir = getenv("REPORT_HTML_DUMP");
	char path[4096];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/report-%s.html", dir, lang);
	if (!(f = fopen(path, "w")) ||
	    fwrite(b->s, 1, b->len, f) != b->len || fclose(f) != 0)
		diag("cannot write %s", path);
}

/* ----- tests ------------------------------------------------------------------- */

static void
test_lang(const struct conf *c, const struct report *r, const char *lang)
{
	struct buf b = BUF_INIT, w = BUF_INIT;
	char why[128], col[8], head[64];
	const char *page, *p;
	double cr;
	int rtl = strcmp(lang, "ar") == 0;

	ok(report_html(c, r, lang, &b) == 0, "%s: report_html succeeds", lang);
	page = buf_str(&b);
	dump(lang, &b);
	snprintf(head, sizeof(head), "<html lang=\"%s\" dir=\"%s\">", lang,
	         rtl ? "rtl" : "ltr");
	ok(strncmp(page, "<!DOCTYPE html>\n", 16) == 0 &&
	           strstr(page, head) != NULL &&
	           strstr(page, "<meta charset=\"utf-8\">") != NULL,
	   "%s: doctype, %s, charset", lang, head);
	why[0] = '\0';
	if (!ok(balanced(page, why, sizeof(why)) == 0,
	        "%s: the tags nest and close", lang))
		diag("%s", why);
	ok(!contains_ci(page, "<script") && !contains_ci(page, "javascript:") &&
	           !has_handler(page),
	   "%s: no script, script URL or event handler", lang);
	ok(!contains_ci(page, "http://") && !contains_ci(page, "https://") &&
	           !contains_ci(page, "src=") && !contains_ci(page, "href=") &&
	           !contains_ci(page, "url(") && !contains_ci(page, "@import") &&
	           !contains_ci(page, "<link") && !contains_ci(page, "<img"),
	   "%s: no URL, link, image or import", lang);
	is_int(count(page, "<svg "), 3, "%s: three <svg> elements", lang);
	p = page;
	{
		int labelled = 0;

		while ((p = strstr(p, "<svg ")) != NULL) {
			const char *e = strchr(p, '>');

			if (e && strstr(p, "role=\"img\"") < e &&
			    strstr(p, "aria-label=\"") < e &&
			    strncmp(e, ">\n<title>", 9) == 0)
				labelled++;
			p = e ? e : p + 1;
		}
		is_int(labelled, 3, "%s: each chart has role=img, aria-label "
		       "and a <title>", lang);
	}
	is_int(count(page, "<polyline "), 3,
	       "%s: one line per list in the members chart", lang);
	/* Hidden counts: in the tables ... */
	buf_reset(&w);
	escape(words_get(c->templates, lang, "report", "unsubscriptions"),
	       &w);
	buf_adds(&w, "</th><td class=\"n\">&lt;5</td>");
	is_int(count(page, buf_str(&w)), 4,
	       "%s: unsubscriptions (2 each, 4 in all) show as <5", lang);
	buf_reset(&w);
	escape(words_get(c->templates, lang, "report", "expired"), &w);
	buf_adds(&w, "</th><td class=\"n\">6</td>");
	ok(strstr(page, buf_str(&w)) != NULL,
	   "%s: 6 expired requests (the countries) show as 6", lang);
	ok(strstr(page, "<td class=\"n\">&lt;5</td><td class=\"n\">0</td>"
	                "<td class=\"n\">6</td><td class=\"n\">28</td>") &&
	           strstr(page, "<td class=\"n\">&lt;5</td><td class=\"n\">"
	                        "&lt;5</td><td class=\"n\">19</td>"),
	   "%s: the events table hides maybe 3, waitlist 2, guests 1", lang);
	/* ... and in the charts: drawn at height 0 with a "<5" label. */
	ok(strstr(page, "height=\"0.0\" fill=\"#1f5fa6\"><title>denmark, "
	                "2026-02: &lt;5</title></rect><text") != NULL,
	   "%s: 2 posts (denmark, 2026-02) drawn as a 0-high bar with <5",
	   lang);
	ok(count(page, "\">&lt;5</text>") >= 4,
	   "%s: <5 labels in the charts (%zu)", lang,
	   count(page, "\">&lt;5</text>"));
	ok(strstr(page, "news, 2026-01: &lt;5</title></circle>") != NULL,
	   "%s: 3 members (news, 2026-01) hidden in the line chart", lang);
	/* Escaping. */
	ok(strstr(page, "Middag i Aarhus &lt;script&gt;alert(1)&lt;/script&gt;"
	                " &amp; &quot;venner&quot;") != NULL &&
	           !strstr(page, "<script>"),
	   "%s: an event's title is escaped", lang);
	/* The language's words. */
	ok(has_word(page, lang, "title") && has_word(page, lang, "lists") &&
	           has_word(page, lang, "chart_members") &&
	           has_word(page, lang, "chart_posts") &&
	           has_word(page, lang, "chart_rsvp") &&
	           has_word(page, lang, "attended") &&
	           has_word(page, lang, "confirmations") &&
	           has_word(page, lang, "countries") &&
	           has_word(page, lang, "newsletter"),
	   "%s: the page carries its language's words", lang);
	ok(strstr(page, "2026-01-01") && strstr(page, "2026-06-30"),
	   "%s: the period, 2026-01-01 to 2026-06-30", lang);
	ok(strstr(page, strcmp(lang, "en") && !rtl ? ">2,5</td>" : ">2.5</td>")
	           != NULL,
	   "%s: replies per thread with the language's decimal mark", lang);
	cr = worst_contrast(page, col);
	ok(cr >= 4.5, "%s: every colour has 4.5:1 contrast on white "
	   "(worst %s %.2f)", lang, col, cr);
	buf_free(&w);
	buf_free(&b);
}

/* Words that must differ from English in each other language. */
static void
test_translated(void)
{
	static const char *const keys[] = {"title", "chart_members", "yes",
	                                   "attended", "charts", "no_data",
	                                   "axis_people", "chart_hidden"};
	size_t i, k;

	for (i = 1; i < sizeof(langs) / sizeof(langs[0]); i++) {
		int same = 0;

		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(words_get(tdir, langs[i], "report", keys[k]),
			           words_get(tdir, "en", "report", keys[k])) == 0)
				same++;
		is_int(same, 0, "%s: the page's words are translated", langs[i]);
	}
	ok(strcmp(words_get(tdir, "da", "report", "title"),
	          "Deltagelsesrapport") == 0,
	   "da: the title is \"Deltagelsesrapport\"");
}

static void
test_edges(const struct conf *c, const struct report *full)
{
	struct report r;
	struct buf b = BUF_INIT;
	char why[128];

	memset(&r, 0, sizeof(r));
	r.from = FROM;
	r.to = TO;
	r.threshold = 5;
	ok(report_html(c, &r, "da", &b) == 0, "an empty report renders");
	is_int(count(buf_str(&b), "<svg "), 3, "... with three (empty) charts");
	ok(balanced(buf_str(&b), why, sizeof(why)) == 0, "... that nest");
	ok(strstr(buf_str(&b), words_get(tdir, "da", "report", "no_data")) !=
	           NULL, "... saying there are no figures");
	buf_reset(&b);
	ok(report_html(c, full, "../../../etc/passwd", &b) == 0 &&
	           strstr(buf_str(&b), "<html lang=\"en\" dir=\"ltr\">") != NULL,
	   "a language that is not a tag means English");
	buf_free(&b);
	buf_init(&b, 2000);
	buf_adds(&b, "before");
	ok(report_html(c, full, "en", &b) == -1 &&
	           strcmp(buf_str(&b), "before") == 0,
	   "a page that does not fit: -1, out unchanged");
	buf_free(&b);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct conf c;
	struct report r;
	size_t i;

	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(tdir, sizeof(tdir), "%s/templates", top ? top : ".");
	memset(&c, 0, sizeof(c));
	c.templates = tdir;
	build(&r);
	for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		test_lang(&c, &r, langs[i]);
	test_translated();
	test_edges(&c, &r);
	return done_testing();
}
