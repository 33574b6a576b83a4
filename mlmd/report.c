/*
 * report.c - the participation report (issue 9): the figures of each list
 * and of the country lists together over a period [from, to), and their
 * text, CSV and JSON forms (report.h; the HTML page is report_html.c's).
 *
 * Sources: event_log (append-only, no addresses: what happened, when),
 * members (who is a member now), messages (the archive index: posters
 * and threads), events and rsvps (answers).  Members at a moment t are
 * worked back from now: the members rows, less the subscribes at or
 * after t, plus the unsubscribes at or after t.  Times are UTC; months
 * are UTC calendar months.
 *
 * Invariants: no address is ever read into a struct report, and every
 * count a coordinator may forward goes through report_count(), so that
 * counts from 1 to threshold - 1 show as "<threshold".  The only free
 * text in a report is an event's title, written by a coordinator; it is
 * shown with control characters as '?' and '@' as "(at)" so that not
 * even a title can carry an address into a forwarded report.
 *
 * XXX the queries are read-only and belong to this report alone, so they
 * live here rather than in a db_report.c; this is the one module outside
 * db*.c that reaches SQLite (through db_int.h).  Move them behind db.h if
 * a second reader appears.
 *
 * Called by mlmctl report (ctl_report.c) and the monthly summary.
 * Errors: report_build() returns -1 (logged) on a database error; the
 * writers return -1 only when the output buffer is full.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "db_int.h"
#include "log.h"
#include "report.h"
#include "util.h"
#include "words.h"

/* ----- queries ------------------------------------------------------------ */

/*
 * One number from sql with ?1 the list (text), ?2 and ?3 two times and
 * ?4 a text (any may be unused).  -1 (logged) on error.
 */
static long
q_long(struct db *db, const char *sql, const char *list, time_t a, time_t b,
       const char *text)
{
	sqlite3_stmt *s;
	long v = -1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(db, "preparing a report query");
		return -1;
	}
	sqlite3_bind_text(s, 1, list ? list : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)a);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)b);
	sqlite3_bind_text(s, 4, text ? text : "", -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(s, 0);
	else
		db_err(db, "reading a report figure");
	sqlite3_finalize(s);
	return v;
}

/* sum(n) of kind on list in [a, b) */
static long
sum_kind(struct db *db, const char *list, const char *kind, time_t a,
         time_t b)
{
	return q_long(db,
	              "SELECT coalesce(sum(n), 0) FROM event_log WHERE "
	              "list = ?1 AND kind = ?4 AND at >= ?2 AND at < ?3",
	              list, a, b, kind);
}

/* rows of kind on list in [a, b) */
static long
count_kind(struct db *db, const char *list, const char *kind, time_t a,
           time_t b)
{
	return q_long(db,
	              "SELECT count(*) FROM event_log WHERE list = ?1 AND "
	              "kind = ?4 AND at >= ?2 AND at < ?3",
	              list, a, b, kind);
}

/* Members of list at t: now, less who joined since, plus who left since. */
static long
members_at(struct db *db, const char *list, time_t t)
{
	/* max(0, ...): a log cut by retention must not make it negative */
	return q_long(db,
	              "SELECT max(0, (SELECT count(*) FROM members WHERE "
	              "list = ?1)"
	              " - (SELECT coalesce(sum(n), 0) FROM event_log WHERE "
	              "    list = ?1 AND kind = 'subscribe' AND at >= ?2)"
	              " + (SELECT coalesce(sum(n), 0) FROM event_log WHERE "
	              "    list = ?1 AND kind = 'unsubscribe' AND at >= ?2))",
	              list, t, 0, NULL);
}

static int
add(long *to, long v)
{
	if (v < 0)
		return -1;
	*to += v;
	return 0;
}

static void
lang_add(struct report_list *rl, const char *lang, long n)
{
	size_t i;

	for (i = 0; i < rl->n_langs; i++)
		if (strcmp(rl->langs[i].lang, lang) == 0)
			break;
	if (i == rl->n_langs) {
		/* more languages than slots: the last slot gathers the rest */
		if (i == REPORT_LANGS_MAX) {
			i = REPORT_LANGS_MAX - 1;
			strlcpy_(rl->langs[i].lang, "other",
			         sizeof(rl->langs[i].lang));
		} else {
			strlcpy_(rl->langs[i].lang, lang,
			         sizeof(rl->langs[i].lang));
			rl->langs[i].n = 0;
			rl->n_langs++;
		}
	}
	rl->langs[i].n += n;
}

static int
langs(struct db *db, const struct list_conf *l, struct report_list *rl)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db->h,
	                       "SELECT CASE language WHEN '' THEN ?2 ELSE "
	                       "lower(language) END AS lg, count(*) FROM "
	                       "members WHERE list = ?1 GROUP BY lg "
	                       "ORDER BY count(*) DESC, lg",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_err(db, "preparing the languages query");
	sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, l->language ? l->language : "en", -1,
	                  SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		lang_add(rl, db_col(s, 0), (long)sqlite3_column_int64(s, 1));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_err(db, "counting languages");
}

static double
replies(long posts, long threads)
{
	if (threads <= 0 || posts < threads)
		return 0;
	return (double)(posts - threads) / (double)threads;
}

static int
list_figures(const struct conf *c, struct db *db, const struct list_conf *l,
             time_t from, time_t to, struct report_list *rl)
{
	const char *n = l->name;
	long v;

	(void)c;
	memset(rl, 0, sizeof(*rl));
	strlcpy_(rl->name, n, sizeof(rl->name));
	strlcpy_(rl->country, l->country ? l->country : "",
	         sizeof(rl->country));
	if ((rl->sub_requests = sum_kind(db, n, "sub_request", from, to)) < 0 ||
	    (rl->confirmations = sum_kind(db, n, "subscribe", from, to)) < 0 ||
	    (rl->expired = sum_kind(db, n, "sub_expired", from, to)) < 0 ||
	    (rl->unsubscriptions = sum_kind(db, n, "unsubscribe", from, to)) <
	        0 ||
	    (rl->members_start = members_at(db, n, from)) < 0 ||
	    (rl->members_end = members_at(db, n, to)) < 0)
		return -1;
	if ((rl->digest_members = q_long(db,
	                                 "SELECT count(*) FROM members WHERE "
	                                 "list = ?1 AND digest != 0 AND "
	                                 "nomail = 0",
	                                 n, 0, 0, NULL)) < 0 ||
	    (rl->nomail_members = q_long(db,
	                                 "SELECT count(*) FROM members WHERE "
	                                 "list = ?1 AND nomail != 0",
	                                 n, 0, 0, NULL)) < 0 ||
	    langs(db, l, rl) < 0)
		return -1;
	/* posters: distinct authors of the period's archive rows.  A row
	 * whose author was erased (from_addr '') cannot be told apart from
	 * another erased author's, so each counts as one poster: an erasure
	 * never lowers the figure, at worst it raises it. */
	if ((rl->posts = count_kind(db, n, "post", from, to)) < 0 ||
	    (rl->posters = q_long(db,
	                          "SELECT count(DISTINCT lower(nullif(from_addr, '')))"
	                          " + coalesce(sum(from_addr = ''), 0) FROM "
	                          "messages WHERE list = ?1 AND received >= ?2 "
	                          "AND received < ?3",
	                          n, from, to, NULL)) < 0 ||
	    (rl->threads = q_long(db,
	                          "SELECT count(DISTINCT coalesce(thread_id, id))"
	                          " FROM messages WHERE list = ?1 AND "
	                          "received >= ?2 AND received < ?3",
	                          n, from, to, NULL)) < 0)
		return -1;
	rl->replies_per_thread = replies(rl->posts, rl->threads);
	/* rejected: refused at once, or held and then refused by a
	 * moderator */
	if ((rl->held = sum_kind(db, n, "held", from, to)) < 0 ||
	    (rl->rejected = sum_kind(db, n, "rejected", from, to)) < 0 ||
	    add(&rl->rejected,
	        q_long(db,
	               "SELECT coalesce(sum(n), 0) FROM event_log WHERE "
	               "list = ?1 AND kind = 'moderated' AND ref = ?4 AND "
	               "at >= ?2 AND at < ?3",
	               n, from, to, "rejected")) < 0 ||
	    (rl->delivered = sum_kind(db, n, "delivered", from, to)) < 0 ||
	    (rl->bounces = count_kind(db, n, "bounce", from, to)) < 0 ||
	    (rl->invitations = sum_kind(db, n, "invitation", from, to)) < 0 ||
	    (rl->events = q_long(db,
	                         "SELECT count(*) FROM events WHERE list = ?1 "
	                         "AND dtstart >= ?2 AND dtstart < ?3 AND "
	                         "state != 'pending'",
	                         n, from, to, NULL)) < 0)
		return -1;
	if (l->posting == POST_ANNOUNCE) {
		rl->newsletter = 1;
		rl->reach_delivered = rl->delivered;
		rl->reach_bounced = rl->bounces;
		/* who left within a week after an issue went out */
		v = q_long(db,
		           "SELECT coalesce(sum(u.n), 0) FROM event_log u WHERE "
		           "u.list = ?1 AND u.kind = 'unsubscribe' AND "
		           "u.at >= ?2 AND u.at < ?3 AND EXISTS (SELECT 1 FROM "
		           "event_log p WHERE p.list = ?1 AND p.kind = 'post' "
		           "AND p.at <= u.at AND p.at > u.at - " "604800)",
		           n, from, to, NULL);
		if (v < 0)
			return -1;
		rl->reach_left = v;
	}
	return 0;
}

static void
sum_into(struct report_list *s, const struct report_list *l)
{
	size_t i;

	s->sub_requests += l->sub_requests;
	s->confirmations += l->confirmations;
	s->expired += l->expired;
	s->unsubscriptions += l->unsubscriptions;
	s->members_start += l->members_start;
	s->members_end += l->members_end;
	s->digest_members += l->digest_members;
	s->nomail_members += l->nomail_members;
	s->posts += l->posts;
	s->posters += l->posters; /* XXX a person posting to two country
	                           * lists counts twice */
	s->threads += l->threads;
	s->held += l->held;
	s->rejected += l->rejected;
	s->delivered += l->delivered;
	s->bounces += l->bounces;
	s->events += l->events;
	s->invitations += l->invitations;
	for (i = 0; i < l->n_langs; i++)
		lang_add(s, l->langs[i].lang, l->langs[i].n);
	if (l->newsletter) {
		s->newsletter = 1;
		s->reach_delivered += l->reach_delivered;
		s->reach_bounced += l->reach_bounced;
		s->reach_left += l->reach_left;
	}
	s->replies_per_thread = replies(s->posts, s->threads);
}

/* Events of list starting in [from, to) with the answers to their single
 * date (occurrence 0) or to their dates in the period, summed. */
static int
events_of(struct db *db, const char *list, time_t from, time_t to,
          struct report *r)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(
	        db->h,
	        "SELECT e.id, e.title, e.dtstart, "
	        " (SELECT count(*) FROM rsvps v WHERE v.event = e.id AND "
	        "  (v.occurrence = 0 OR (v.occurrence >= ?2 AND "
	        "   v.occurrence < ?3))) AS invited, "
	        " coalesce(sum(v.partstat = 'accepted' AND v.waitlist IS NULL),"
	        "  0), coalesce(sum(v.partstat = 'declined'), 0), "
	        " coalesce(sum(v.partstat = 'tentative'), 0), "
	        " coalesce(sum(v.partstat = 'accepted' AND v.waitlist IS NOT "
	        "  NULL), 0), "
	        " coalesce(sum(CASE WHEN v.partstat = 'accepted' AND v.waitlist "
	        "  IS NULL THEN v.guests ELSE 0 END), 0), "
	        " coalesce(sum(v.attended != 0), 0) "
	        "FROM events e LEFT JOIN rsvps v ON v.event = e.id AND "
	        " (v.occurrence = 0 OR (v.occurrence >= ?2 AND "
	        "  v.occurrence < ?3)) "
	        "WHERE e.list = ?1 AND e.dtstart >= ?2 AND e.dtstart < ?3 AND "
	        " e.state != 'pending' "
	        "GROUP BY e.id ORDER BY e.dtstart, e.id",
	        -1, &s, NULL) != SQLITE_OK)
		return db_err(db, "preparing the events query");
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)from);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct report_event *e;

		r->events = xrealloc(r->events,
		                     (r->n_events + 1) * sizeof(*r->events));
		e = &r->events[r->n_events++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(s, 0);
		strlcpy_(e->list, list, sizeof(e->list));
		strlcpy_(e->title, db_col(s, 1), sizeof(e->title));
		e->start = (time_t)sqlite3_column_int64(s, 2);
		e->invited = (long)sqlite3_column_int64(s, 3);
		e->yes = (long)sqlite3_column_int64(s, 4);
		e->no = (long)sqlite3_column_int64(s, 5);
		e->maybe = (long)sqlite3_column_int64(s, 6);
		e->waitlist = (long)sqlite3_column_int64(s, 7);
		e->guests = (long)sqlite3_column_int64(s, 8);
		e->attended = (long)sqlite3_column_int64(s, 9);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_err(db, "reading events");
}

/* The first moment of the UTC month after the one holding t. */
static time_t
next_month(time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon++;
	return timegm(&tm);
}

static int
months_of(struct db *db, const char *list, time_t from, time_t to,
          struct report *r)
{
	time_t a, b;

	for (a = from; a < to; a = b) {
		struct report_month *m;
		struct tm tm;
		char ym[32];

		b = next_month(a);
		if (b > to)
			b = to;
		r->months = xrealloc(r->months,
		                     (r->n_months + 1) * sizeof(*r->months));
		m = &r->months[r->n_months++];
		memset(m, 0, sizeof(*m));
		gmtime_r(&a, &tm);
		strftime(ym, sizeof(ym), "%Y-%m", &tm);
		strlcpy_(m->month, ym, sizeof(m->month));
		strlcpy_(m->list, list, sizeof(m->list));
		if ((m->members = members_at(db, list, b)) < 0 ||
		    (m->posts = count_kind(db, list, "post", a, b)) < 0)
			return -1;
	}
	return 0;
}

static int
month_cmp(const void *a, const void *b)
{
	const struct report_month *x = a, *y = b;
	int d = strcmp(x->month, y->month);

	return d ? d : strcmp(x->list, y->list);
}

static int
event_cmp(const void *a, const void *b)
{
	const struct report_event *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int
report_build(const struct conf *c, struct db *db, const char *list,
             time_t from, time_t to, int threshold, struct report *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	r->threshold = threshold;
	strlcpy_(r->countries.name, "countries", sizeof(r->countries.name));
	if (to <= from)
		return error("report: the period ends before it starts");
	if (list && !conf_list(c, list))
		return error("report: no list '%s'", list);
	r->lists = xcalloc(c->n_lists ? c->n_lists : 1, sizeof(*r->lists));
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];
		struct report_list *rl = &r->lists[r->n_lists];

		if (list && strcasecmp(list, l->name) != 0)
			continue;
		if (list_figures(c, db, l, from, to, rl) < 0 ||
		    events_of(db, l->name, from, to, r) < 0 ||
		    months_of(db, l->name, from, to, r) < 0)
			return -1;
		r->n_lists++;
		/* the country total: every reported list that has one */
		if (rl->country[0])
			sum_into(&r->countries, rl);
	}
	if (r->n_events)
		qsort(r->events, r->n_events, sizeof(*r->events), event_cmp);
	if (r->n_months)
		qsort(r->months, r->n_months, sizeof(*r->months), month_cmp);
	return 0;
}

void
report_free(struct report *r)
{
	free(r->lists);
	free(r->events);
	free(r->months);
	memset(r, 0, sizeof(*r));
}

/* ----- showing ------------------------------------------------------------ */

void
report_count(const struct report *r, long n, struct buf *out)
{
	if (n <= 0)
		buf_adds(out, "0");
	else if (n < r->threshold)
		buf_printf(out, "<%d", r->threshold);
	else
		buf_printf(out, "%ld", n);
}

/* replies_per_thread as shown: only over enough threads to hide who */
static void
ratio(const struct report *r, const struct report_list *l, struct buf *out)
{
	if (l->threads > 0 && l->threads < r->threshold)
		report_count(r, l->threads, out);
	else
		buf_printf(out, "%.1f", l->replies_per_thread);
}

/* An event title as shown: no control characters, no address. */
static void
safe_title(const char *s, struct buf *out)
{
	size_t n = strlen(s), k;

	while (n > 0) {
		unsigned char ch = (unsigned char)*s;

		k = utf8_seq_len(s, n);
		if (k == 0 || ch < 0x20 || ch == 0x7f ||
		    (k == 2 && ch == 0xc2 && (unsigned char)s[1] < 0xa0)) {
			buf_addc(out, '?');
			k = k ? k : 1;
		} else if (ch == '@') {
			buf_adds(out, "(at)");
		} else {
			buf_add(out, s, k);
		}
		s += k;
		n -= k;
	}
}

static void
day(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d", &tm);
}

/* The period as people say it: the first day and the last day in it. */
static void
period(const struct report *r, char *from, char *to, size_t n)
{
	day(r->from, from, n);
	day(r->to - 1, to, n);
}

/* Characters (not bytes) of UTF-8 s. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
pad(struct buf *out, const char *s, size_t w)
{
	size_t have = width(s);

	buf_adds(out, s);
	while (have++ < w)
		buf_addc(out, ' ');
}

static void
lpad(struct buf *out, const char *s, size_t w)
{
	size_t have = width(s);

	while (have++ < w)
		buf_addc(out, ' ');
	buf_adds(out, s);
}

struct words_ctx {
	const char *templates, *lang;
};

static const char *
word(const struct words_ctx *w, const char *key)
{
	return words_get(w->templates, w->lang, "report", key);
}

/* v with each {name} of the NULL-ended pairs replaced, appended to out */
static void
fill(struct buf *out, const char *v, const char *const *pairs)
{
	while (*v) {
		size_t i, k = 0;

		if (*v == '{')
			for (i = 0; pairs[i]; i += 2) {
				k = strlen(pairs[i]);
				if (strncmp(v + 1, pairs[i], k) == 0 &&
				    v[k + 1] == '}') {
					buf_adds(out, pairs[i + 1]);
					v += k + 2;
					break;
				}
				k = 0;
			}
		if (!k)
			buf_addc(out, *v++);
	}
}

/* The figures of one list, in the order of report.h, with their keys. */
static const struct figure {
	const char *key;
	size_t off;
	int newsletter; /* shown for newsletters only */
} figures[] = {
#define FIG(k) {#k, offsetof(struct report_list, k), 0}
    FIG(sub_requests),   FIG(confirmations), FIG(expired),
    FIG(unsubscriptions), FIG(members_start), FIG(members_end),
    FIG(digest_members), FIG(nomail_members), FIG(posts),
    FIG(posters),        FIG(threads),       {"replies_per_thread", 0, 0},
    FIG(held),           FIG(rejected),      FIG(delivered),
    FIG(bounces),        {"events_count", offsetof(struct report_list,
                                                   events), 0},
    FIG(invitations),
    {"reach_delivered", offsetof(struct report_list, reach_delivered), 1},
    {"reach_bounced", offsetof(struct report_list, reach_bounced), 1},
    {"reach_left", offsetof(struct report_list, reach_left), 1},
#undef FIG
};

static long
fig(const struct report_list *l, const struct figure *f)
{
	return *(const long *)(const void *)((const char *)l + f->off);
}

static int
is_ratio(const struct figure *f)
{
	return strcmp(f->key, "replies_per_thread") == 0;
}

static void
text_list(const struct report *r, const struct words_ctx *w,
          const struct report_list *l, const char *heading, size_t lw,
          struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i;

	buf_printf(out, "\n%s\n", heading);
	for (i = 0; i < width(heading); i++)
		buf_addc(out, '-');
	buf_addc(out, '\n');
	for (i = 0; i < ARRAY_SIZE(figures); i++) {
		const struct figure *f = &figures[i];

		if (f->newsletter && !l->newsletter)
			continue;
		if (f->newsletter && !figures[i - 1].newsletter)
			buf_printf(out, "%s\n", word(w, "newsletter"));
		buf_reset(&v);
		if (is_ratio(f))
			ratio(r, l, &v);
		else
			report_count(r, fig(l, f), &v);
		buf_adds(out, "  ");
		pad(out, word(w, f->key), lw);
		buf_adds(out, "  ");
		lpad(out, buf_str(&v), 8);
		buf_addc(out, '\n');
	}
	buf_adds(out, "  ");
	pad(out, word(w, "languages"), lw);
	buf_adds(out, "  ");
	if (!l->n_langs)
		buf_adds(out, word(w, "none"));
	for (i = 0; i < l->n_langs; i++) {
		buf_printf(out, "%s%s ", i ? ", " : "", l->langs[i].lang);
		report_count(r, l->langs[i].n, out);
	}
	buf_addc(out, '\n');
	buf_free(&v);
}

static const char *const event_cols[] = {"invited", "yes",    "no",
                                         "maybe",   "waitlist", "guests",
                                         "attended"};

static long
event_col(const struct report_event *e, size_t i)
{
	const long v[] = {e->invited,  e->yes,    e->no,      e->maybe,
	                  e->waitlist, e->guests, e->attended};

	return v[i];
}

/* at most max characters of s (UTF-8), "..." marking a cut */
static void
cut(struct buf *out, const char *s, size_t max)
{
	size_t w = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80 && ++w > max) {
			buf_adds(out, "...");
			return;
		}
		buf_addc(out, *s);
	}
}

static void
text_events(const struct report *r, const struct words_ctx *w,
            struct buf *out)
{
	struct buf t = BUF_INIT, v = BUF_INIT;
	size_t i, j, tw = width(word(w, "event")), cw[ARRAY_SIZE(event_cols)];
	char d[16];

	buf_printf(out, "\n%s\n", word(w, "events"));
	for (i = 0; i < width(word(w, "events")); i++)
		buf_addc(out, '-');
	buf_addc(out, '\n');
	if (!r->n_events) {
		buf_printf(out, "%s\n", word(w, "no_events"));
		return;
	}
	for (i = 0; i < r->n_events; i++) {
		buf_reset(&t);
		safe_title(r->events[i].title, &t);
		buf_reset(&v);
		cut(&v, buf_str(&t), 40);
		if (width(buf_str(&v)) > tw)
			tw = width(buf_str(&v));
	}
	for (j = 0; j < ARRAY_SIZE(event_cols); j++) {
		cw[j] = width(word(w, event_cols[j]));
		if (cw[j] < 6)
			cw[j] = 6;
	}
	pad(out, word(w, "event"), tw);
	buf_adds(out, "  ");
	pad(out, word(w, "list"), 16);
	buf_adds(out, "  ");
	pad(out, word(w, "date"), 10);
	for (j = 0; j < ARRAY_SIZE(event_cols); j++) {
		buf_adds(out, "  ");
		lpad(out, word(w, event_cols[j]), cw[j]);
	}
	buf_addc(out, '\n');
	for (i = 0; i < r->n_events; i++) {
		const struct report_event *e = &r->events[i];

		buf_reset(&t);
		safe_title(e->title, &t);
		buf_reset(&v);
		cut(&v, buf_str(&t), 40);
		pad(out, buf_str(&v), tw);
		buf_adds(out, "  ");
		pad(out, e->list, 16);
		buf_adds(out, "  ");
		day(e->start, d, sizeof(d));
		pad(out, d, 10);
		for (j = 0; j < ARRAY_SIZE(event_cols); j++) {
			buf_reset(&v);
			report_count(r, event_col(e, j), &v);
			buf_adds(out, "  ");
			lpad(out, buf_str(&v), cw[j]);
		}
		buf_addc(out, '\n');
	}
	buf_free(&t);
	buf_free(&v);
}

static int
full(const struct buf *out)
{
	/* a failed append leaves the buffer as it was: the only sign is
	 * that it is at its cap */
	size_t max = out->max ? out->max : BUF_DEFAULT_MAX;

	return out->len + 64 >= max;
}

int
report_text(const struct conf *c, const struct report *r, const char *lang,
            struct buf *out)
{
	struct words_ctx w;
	struct buf h = BUF_INIT;
	char from[16], to[16], n[16], m[16];
	size_t i, lw = 0;

	w.templates = c && c->templates ? c->templates : ".";
	w.lang = lang && *lang ? lang : "en";
	period(r, from, to, sizeof(from));
	snprintf(n, sizeof(n), "%d", r->threshold > 1 ? r->threshold - 1 : 0);
	snprintf(m, sizeof(m), "%d", r->threshold);
	{
		const char *const p[] = {"from", from, "to", to, "n", n,
		                         "m", m, NULL};

		buf_printf(out, "%s\n", word(&w, "title"));
		fill(out, word(&w, "period"), p);
		buf_addc(out, '\n');
		if (r->threshold > 1) {
			fill(out, word(&w, "privacy"), p);
			buf_addc(out, '\n');
		}
	}
	for (i = 0; i < ARRAY_SIZE(figures); i++)
		if (width(word(&w, figures[i].key)) > lw)
			lw = width(word(&w, figures[i].key));
	if (width(word(&w, "languages")) > lw)
		lw = width(word(&w, "languages"));
	for (i = 0; i < r->n_lists; i++) {
		const struct report_list *l = &r->lists[i];

		buf_reset(&h);
		buf_printf(&h, "%s: %s", word(&w, "list"), l->name);
		if (l->country[0])
			buf_printf(&h, " (%s)", l->country);
		text_list(r, &w, l, buf_str(&h), lw, out);
	}
	buf_reset(&h);
	buf_adds(&h, word(&w, "countries"));
	for (i = 0; i < r->n_lists; i++)
		if (r->lists[i].country[0])
			break;
	if (i < r->n_lists)
		text_list(r, &w, &r->countries, buf_str(&h), lw, out);
	else
		buf_printf(out, "\n%s\n%s\n", buf_str(&h),
		           word(&w, "countries_none"));
	text_events(r, &w, out);
	buf_free(&h);
	return full(out) ? -1 : 0;
}

/* ----- CSV (RFC 4180) ---------------------------------------------------- */

/* A field: quoted when it must be; a leading = + - @ is defused with a
 * quote so that a spreadsheet does not read a formula. */
static void
csv_field(struct buf *out, const char *s)
{
	if (strchr("=+-@", *s) && *s) {
		buf_adds(out, "\"'");
	} else if (strpbrk(s, ",\"\r\n")) {
		buf_addc(out, '"');
	} else {
		buf_adds(out, s);
		return;
	}
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(out, '"');
		buf_addc(out, *s);
	}
	buf_addc(out, '"');
}

static void
csv_list(const struct report *r, const struct report_list *l,
         struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i;

	csv_field(out, l->name);
	buf_addc(out, ',');
	csv_field(out, l->country);
	for (i = 0; i < ARRAY_SIZE(figures); i++) {
		const struct figure *f = &figures[i];

		buf_addc(out, ',');
		if (f->newsletter && !l->newsletter)
			continue;
		buf_reset(&v);
		if (is_ratio(f))
			ratio(r, l, &v);
		else
			report_count(r, fig(l, f), &v);
		csv_field(out, buf_str(&v));
	}
	buf_reset(&v);
	for (i = 0; i < l->n_langs; i++) {
		buf_printf(&v, "%s%s:", i ? ";" : "", l->langs[i].lang);
		report_count(r, l->langs[i].n, &v);
	}
	buf_addc(out, ',');
	csv_field(out, buf_str(&v));
	buf_adds(out, "\r\n");
	buf_free(&v);
}

int
report_csv(const struct report *r, struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i, j;
	char d[16];

	buf_adds(out, "list,country");
	for (i = 0; i < ARRAY_SIZE(figures); i++)
		buf_printf(out, ",%s",
		           strcmp(figures[i].key, "events_count") == 0
		               ? "events"
		               : figures[i].key);
	buf_adds(out, ",languages\r\n");
	for (i = 0; i < r->n_lists; i++)
		csv_list(r, &r->lists[i], out);
	csv_list(r, &r->countries, out);
	buf_adds(out, "\r\nevent,list,title,date");
	for (j = 0; j < ARRAY_SIZE(event_cols); j++)
		buf_printf(out, ",%s", event_cols[j]);
	buf_adds(out, "\r\n");
	for (i = 0; i < r->n_events; i++) {
		const struct report_event *e = &r->events[i];

		buf_printf(out, "%lld,", e->id);
		csv_field(out, e->list);
		buf_addc(out, ',');
		buf_reset(&v);
		safe_title(e->title, &v);
		csv_field(out, buf_str(&v));
		day(e->start, d, sizeof(d));
		buf_printf(out, ",%s", d);
		for (j = 0; j < ARRAY_SIZE(event_cols); j++) {
			buf_reset(&v);
			report_count(r, event_col(e, j), &v);
			buf_addc(out, ',');
			csv_field(out, buf_str(&v));
		}
		buf_adds(out, "\r\n");
	}
	buf_free(&v);
	return full(out) ? -1 : 0;
}

/* ----- JSON (RFC 8259) --------------------------------------------------- */

static void
json_str(struct buf *out, const char *s)
{
	buf_addc(out, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(out, "\\%c", ch);
		else if (ch == '\n')
			buf_adds(out, "\\n");
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(out, "\\u%04x", ch);
		else
			buf_addc(out, (char)ch);
	}
	buf_addc(out, '"');
}

/* A count: a number, or the string "<threshold". */
static void
json_count(const struct report *r, long n, struct buf *out)
{
	if (n > 0 && n < r->threshold)
		buf_printf(out, "\"<%d\"", r->threshold);
	else
		report_count(r, n, out);
}

static void
json_list(const struct report *r, const struct report_list *l,
          struct buf *out)
{
	size_t i;

	buf_adds(out, "{\"name\": ");
	json_str(out, l->name);
	buf_adds(out, ", \"country\": ");
	json_str(out, l->country);
	for (i = 0; i < ARRAY_SIZE(figures); i++) {
		const struct figure *f = &figures[i];
		const char *k = strcmp(f->key, "events_count") == 0 ? "events"
		                                                    : f->key;

		if (f->newsletter && !l->newsletter)
			continue;
		buf_printf(out, ", \"%s\": ", k);
		if (is_ratio(f)) {
			if (l->threads > 0 && l->threads < r->threshold)
				json_count(r, l->threads, out);
			else
				buf_printf(out, "%.2f", l->replies_per_thread);
		} else {
			json_count(r, fig(l, f), out);
		}
	}
	buf_printf(out, ", \"newsletter\": %s, \"languages\": {",
	           l->newsletter ? "true" : "false");
	for (i = 0; i < l->n_langs; i++) {
		buf_adds(out, i ? ", " : "");
		json_str(out, l->langs[i].lang);
		buf_adds(out, ": ");
		json_count(r, l->langs[i].n, out);
	}
	buf_adds(out, "}}");
}

int
report_json(const struct report *r, struct buf *out)
{
	struct buf t = BUF_INIT;
	char from[16], to[16], d[32];
	size_t i, j;
	struct tm tm;

	period(r, from, to, sizeof(from));
	buf_printf(out, "{\"from\": \"%s\", \"to\": \"%s\", \"threshold\": %d,"
	                "\n \"lists\": [",
	           from, to, r->threshold);
	for (i = 0; i < r->n_lists; i++) {
		buf_adds(out, i ? ",\n  " : "\n  ");
		json_list(r, &r->lists[i], out);
	}
	buf_adds(out, "],\n \"countries\": ");
	json_list(r, &r->countries, out);
	buf_adds(out, ",\n \"events\": [");
	for (i = 0; i < r->n_events; i++) {
		const struct report_event *e = &r->events[i];

		buf_printf(out, "%s{\"id\": %lld, \"list\": ",
		           i ? ",\n  " : "\n  ", e->id);
		json_str(out, e->list);
		buf_adds(out, ", \"title\": ");
		buf_reset(&t);
		safe_title(e->title, &t);
		json_str(out, buf_str(&t));
		gmtime_r(&e->start, &tm);
		strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(out, ", \"start\": \"%s\"", d);
		for (j = 0; j < ARRAY_SIZE(event_cols); j++) {
			buf_printf(out, ", \"%s\": ", event_cols[j]);
			json_count(r, event_col(e, j), out);
		}
		buf_addc(out, '}');
	}
	buf_adds(out, "],\n \"months\": [");
	for (i = 0; i < r->n_months; i++) {
		const struct report_month *m = &r->months[i];

		buf_printf(out, "%s{\"month\": \"%s\", \"list\": ",
		           i ? ",\n  " : "\n  ", m->month);
		json_str(out, m->list);
		buf_adds(out, ", \"members\": ");
		json_count(r, m->members, out);
		buf_adds(out, ", \"posts\": ");
		json_count(r, m->posts, out);
		buf_addc(out, '}');
	}
	buf_adds(out, "]}\n");
	buf_free(&t);
	return full(out) ? -1 : 0;
}
