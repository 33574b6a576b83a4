/*
 * event.c - events by email (event.h).
 *
 * Invariants: an answer is found by its token only (token_verify over
 * list, address and answer row); seats are counted from the rows in the
 * same transaction that changes them (one writer: SQLite's BEGIN
 * IMMEDIATE), so capacity is never passed and a freed seat goes to the
 * first on the waitlist; every mail is queued in the transaction that
 * records what it says; reminders and summaries are marked sent in that
 * transaction too, so a restart sends none twice.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "addr.h"
#include "compose.h"
#include "conf.h"
#include "db.h"
#include "event.h"
#include "itip.h"
#include "log.h"
#include "msg.h"
#include "msghtml.h"
#include "post.h"
#include "rsvp_parse.h"
#include "sub.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

#define PURPOSE "rsvp"
/* An answer link stays valid this long after the event ends (attendance
 * replies come after). */
#define TOKEN_AFTER (30 * 86400)

static time_t
now_of(const struct event_ctx *x)
{
	return x->now ? x->now : time(NULL);
}

/* ----- dates ----------------------------------------------------------- */

/* "2026-12-10 18:00-21:00 (Europe/Copenhagen)" in the list's zone. */
static void
when_text(const struct list_conf *l, time_t start, time_t end,
          struct buf *out)
{
	const char *saved = getenv("TZ");
	char *keep = saved ? xstrdup(saved) : NULL;
	struct tm a, b;
	char s1[64], s2[64];

	setenv("TZ", l->timezone && *l->timezone ? l->timezone : "UTC", 1);
	tzset();
	localtime_r(&start, &a);
	localtime_r(&end, &b);
	strftime(s1, sizeof(s1), "%Y-%m-%d %H:%M", &a);
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		strftime(s2, sizeof(s2), "%H:%M", &b);
	else
		strftime(s2, sizeof(s2), "%Y-%m-%d %H:%M", &b);
	buf_printf(out, "%s\xe2\x80\x93%s (%s)", s1, s2,
	           l->timezone && *l->timezone ? l->timezone : "UTC");
	if (keep) {
		setenv("TZ", keep, 1);
		free(keep);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

/* The occurrence answers go to: 0 for a single event, else the start of
 * the next occurrence that has not ended (or the last one). */
static time_t
occurrence_of(const struct event_row *e, time_t now, time_t *start,
              time_t *end)
{
	struct itip_event ev;
	time_t occ[4];
	size_t n;

	*start = e->dtstart;
	*end = e->dtend;
	if (!*e->rrule)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.start = e->dtstart;
	ev.end = e->dtend;
	strlcpy_(ev.rrule, e->rrule, sizeof(ev.rrule));
	strlcpy_(ev.tzid, e->tz, sizeof(ev.tzid));
	n = itip_occurrences(&ev, now - (e->dtend - e->dtstart), occ, 1);
	if (n == 0)
		return 0;
	*start = occ[0];
	*end = occ[0] + (e->dtend - e->dtstart);
	return occ[0];
}

/* Is t the start of an occurrence of series e? */
static int
is_occurrence(const struct event_row *e, time_t t)
{
	struct itip_event ev;
	time_t occ[1];

	memset(&ev, 0, sizeof(ev));
	ev.start = e->dtstart;
	ev.end = e->dtend;
	strlcpy_(ev.rrule, e->rrule, sizeof(ev.rrule));
	strlcpy_(ev.tzid, e->tz, sizeof(ev.tzid));
	return itip_occurrences(&ev, t, occ, 1) == 1 && occ[0] == t;
}

/* ----- tokens and addresses ---------------------------------------------- */

static void
rsvp_token(const struct event_ctx *x, const struct event_row *e,
           const struct rsvp_row *r, char *tok, size_t n)
{
	time_t end = e->dtend > r->occurrence ? e->dtend : r->occurrence;

	/* a series: valid two years; else until a month after the end */
	if (*e->rrule)
		end = now_of(x) + 2 * 365 * 86400;
	end = (end + TOKEN_AFTER) / 86400 * 86400 + 86400;
	token_make(x->key, PURPOSE, e->list, r->address, r->id, end, tok, n);
}

static void
rsvp_addr(const struct event_ctx *x, const char *list, const char *tok,
          struct buf *out)
{
	buf_printf(out, "%s%crsvp-%s@%s", list,
	           x->c->separator ? x->c->separator : '+', tok, x->c->domain);
}

/* The answer row of a token, checked: 0 and r/e filled (caller clears
 * e), 1 not ours. */
static int
by_token(const struct event_ctx *x, const char *tok, struct rsvp_row *r,
         struct event_row *e)
{
	long long id;
	time_t exp;

	if (token_parse(tok, &id, &exp) < 0 || db_rsvp_get(x->db, id, r) != 0)
		return 1;
	if (db_event_get(x->db, r->event, e) != 0)
		return 1;
	if (!token_verify(x->key, tok, PURPOSE, e->list, r->address) ||
	    exp < now_of(x)) {
		event_row_clear(e);
		return 1;
	}
	return 0;
}

/* ----- mails --------------------------------------------------------------- */

/* A name under HOME/out no other mail of this process or of another
 * (pid) takes: the same invitation may go twice (an update, a
 * promotion), answers may come twice in a second. */
static void
unique_name(struct buf *file, const char *fmt, ...)
{
	static unsigned long n;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(file, fmt, ap);
	va_end(ap);
	buf_printf(file, ".%ld.%ld.%lu", (long)time(NULL), (long)getpid(),
	           ++n);
}

static void
member_langs(const struct event_ctx *x, const struct list_conf *l,
             const char *address, char store[3][16], const char *langs[4])
{
	struct member_flags f;
	size_t n = 0;

	memset(store, 0, 3 * 16);
	if (db_member_flags(x->db, l->name, address, &f) == 0 && *f.language)
		strlcpy_(store[n++], f.language, 16);
	if (db_person_language(x->db, address, store[n], 16) == 0 &&
	    *store[n])
		n++;
	strlcpy_(store[n++], l->language, 16);
	langs[0] = store[0];
	langs[1] = n > 1 ? store[1] : NULL;
	langs[2] = n > 2 ? store[2] : NULL;
	langs[3] = NULL;
}

/* Fill the variables every event mail has. */
static void
common_vars(const struct event_ctx *x, const struct list_conf *l,
            const struct event_row *e, const struct rsvp_row *r,
            const char *tok, time_t start, time_t end, struct tmpl_vars *v)
{
	struct buf b = BUF_INIT;
	struct rsvp_counts cn;

	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "list_description", l->description);
	tmpl_vars_set(v, "address", r ? r->address : "");
	tmpl_vars_setf(v, "request_address", "%s-request@%s", l->name,
	               x->c->domain);
	tmpl_vars_setf(v, "owner_address", "%s-owner@%s", l->name,
	               x->c->domain);
	tmpl_vars_set(v, "title", e->title);
	when_text(l, start, end, &b);
	tmpl_vars_set(v, "when", buf_str(&b));
	tmpl_vars_set(v, "occurrence_when", *e->rrule ? buf_str(&b) : "");
	tmpl_vars_set_bool(v, "recurring", *e->rrule != '\0');
	tmpl_vars_set(v, "place", e->place);
	tmpl_vars_set(v, "description", e->description);
	if (e->capacity > 0 &&
	    db_rsvp_counts(x->db, e->id, r ? r->occurrence : 0, &cn) == 0) {
		tmpl_vars_setf(v, "capacity", "%d", e->capacity);
		tmpl_vars_setf(v, "seats_left", "%ld",
		               cn.seats >= e->capacity
		                   ? 0L
		                   : (long)e->capacity - cn.seats);
	} else {
		tmpl_vars_set(v, "capacity", "");
		tmpl_vars_set(v, "seats_left", "");
	}
	buf_reset(&b);
	if (e->deadline)
		when_text(l, e->deadline, e->deadline, &b);
	tmpl_vars_set(v, "deadline", e->deadline ? buf_str(&b) : "");
	buf_reset(&b);
	if (tok)
		rsvp_addr(x, l->name, tok, &b);
	tmpl_vars_set(v, "rsvp_address", buf_str(&b));
	buf_reset(&b);
	if (tok && x->c->http && *x->c->http && conf_web_base(x->c, &b))
		buf_printf(&b, "/e/%s", tok);
	else
		buf_reset(&b);
	tmpl_vars_set(v, "web_url", buf_str(&b));
	buf_free(&b);
}

/*
 * Render tmpl (and html_tmpl, and the calendar if not NULL) for to and
 * queue it (kind "event").  file: unique name under HOME/out.  0 / -1.
 */
static int
send_event_mail(const struct event_ctx *x, const struct list_conf *l,
                const char *to, const char *tmpl, const char *html_tmpl,
                struct tmpl_vars *v, const char *calendar,
                const char *method, const char *reply_to, const char *file)
{
	char store[3][16];
	const char *langs[4];
	const struct tmpl *t, *th = NULL;
	struct buf subj = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
	struct buf hs = BUF_INIT, hb = BUF_INIT, mail = BUF_INIT;
	struct buf mid = BUF_INIT, from = BUF_INIT, lid = BUF_INIT;
	struct compose cm;
	char *rel = NULL;
	int rc = -1;

	member_langs(x, l, to, store, langs);
	if (!x->tmpl || !(t = tmpl_get(x->tmpl, tmpl, langs)))
		return error("template %s is missing", tmpl);
	if (html_tmpl)
		th = tmpl_get(x->tmpl, html_tmpl, langs);
	if (tmpl_render_mail(t, v, &subj, &body, &err) < 0 ||
	    (th && tmpl_render(th, v, &hb, &err) < 0)) {
		error("template %s: %s", tmpl, buf_str(&err));
		goto out;
	}
	buf_printf(&mid, "%s@%s", file, x->c->domain);
	buf_printf(&from, "%s-request@%s", l->name, x->c->domain);
	buf_printf(&lid, "%s.%s", l->name, x->c->domain);
	memset(&cm, 0, sizeof(cm));
	cm.from_name = *l->description ? l->description : l->name;
	cm.from_addr = reply_to ? reply_to : buf_str(&from);
	cm.to = to;
	cm.subject = buf_str(&subj);
	cm.body = buf_str(&body);
	cm.lang = tmpl_lang(t);
	cm.message_id = buf_str(&mid);
	cm.date = now_of(x);
	cm.auto_submitted = "auto-generated";
	cm.reply_to = reply_to;
	cm.list_id = buf_str(&lid);
	cm.html = th ? buf_str(&hb) : NULL;
	cm.calendar = calendar;
	cm.calendar_method = method;
	if (compose_text(&cm, &mail) < 0) {
		error("%s: cannot compose %s for <%s>", file, tmpl, to);
		goto out;
	}
	if (post_write_out(x->c, file, NULL, mail.s, mail.len, &rel) < 0 ||
	    post_sync(x->c) < 0 ||
	    db_out_add(x->db, l->name, "event", buf_str(&mid), rel, "", to,
	               x->c->delivery_lifetime) < 0)
		goto out;
	rc = 0;
out:
	free(rel);
	buf_free(&subj);
	buf_free(&body);
	buf_free(&err);
	buf_free(&hs);
	buf_free(&hb);
	buf_free(&mail);
	buf_free(&mid);
	buf_free(&from);
	buf_free(&lid);
	return rc;
}

/* The iCalendar object for one member (REQUEST or CANCEL); occurrence:
 * one date of a series (RECURRENCE-ID), or 0. */
static int
calendar_for_occ(const struct event_ctx *x, const struct list_conf *l,
                 const struct event_row *e, const char *organizer,
                 const char *attendee, const char *name, int cancel,
                 time_t occurrence, struct buf *out)
{
	struct itip_event ev;

	memset(&ev, 0, sizeof(ev));
	strlcpy_(ev.uid, e->uid, sizeof(ev.uid));
	ev.sequence = e->sequence;
	strlcpy_(ev.summary, e->title, sizeof(ev.summary));
	strlcpy_(ev.location, e->place, sizeof(ev.location));
	strlcpy_(ev.description, e->description, sizeof(ev.description));
	ev.start = e->dtstart;
	ev.end = e->dtend;
	strlcpy_(ev.rrule, e->rrule, sizeof(ev.rrule));
	if (*e->rrule && strcmp(e->tz, "UTC") != 0)
		strlcpy_(ev.tzid, e->tz, sizeof(ev.tzid));
	strlcpy_(ev.organizer, organizer, sizeof(ev.organizer));
	ev.capacity = e->capacity;
	ev.rsvp_deadline = e->deadline;
	ev.recurrence_id = occurrence;
	return itip_build(cancel ? ITIP_CANCEL : ITIP_REQUEST, &ev, attendee,
	                  name, *l->description ? l->description : l->name,
	                  now_of(x), out);
}

static int
calendar_for(const struct event_ctx *x, const struct list_conf *l,
             const struct event_row *e, const char *organizer,
             const char *attendee, const char *name, int cancel,
             struct buf *out)
{
	return calendar_for_occ(x, l, e, organizer, attendee, name, cancel, 0,
	                        out);
}

/* ----- creating and inviting --------------------------------------------- */

int
event_create(const struct event_ctx *x, struct event_row *e, long long *id)
{
	const struct list_conf *l = conf_list(x->c, e->list);
	struct buf uid = BUF_INIT;
	unsigned char rnd[10];
	size_t i;
	int rc;

	if (!l) {
		error("event: no list '%s'", e->list);
		return -1;
	}
	if (e->dtend <= e->dtstart || !e->title || !*e->title) {
		error("event: a title and an end after the start are needed");
		return -1;
	}
	if (!e->uid || !*e->uid) {
		randombytes_buf(rnd, sizeof(rnd));
		buf_adds(&uid, "mlmd-");
		for (i = 0; i < sizeof(rnd); i++)
			buf_printf(&uid, "%02x", rnd[i]);
		buf_printf(&uid, "@%s", x->c->domain);
		free(e->uid);
		e->uid = buf_detach(&uid, NULL);
	}
	if (!e->state || !*e->state) {
		free(e->state);
		e->state = xstrdup("active");
	}
	rc = db_event_add(x->db, e, id);
	if (rc == 0) {
		e->id = *id;
		db_log_event(x->db, l->name, "event", NULL, 1);
	}
	buf_free(&uid);
	return rc;
}

struct invite_walk {
	const struct event_ctx *x;
	const struct list_conf *l;
	struct event_row *e;
	time_t occ, start, end;
	const char *only;
	long sent;
	int failed;
};

static int
invite_one(const struct member *m, void *arg)
{
	struct invite_walk *w = arg;
	const struct event_ctx *x = w->x;
	struct rsvp_row r;
	struct member_bounce mb;
	struct buf cal = BUF_INIT, org = BUF_INIT, file = BUF_INIT;
	struct tmpl_vars *v;
	char tok[TOKEN_MAX + 1];
	long long id;
	int again;

	if (w->failed || m->delivery == DELIVER_NOMAIL)
		return 0;
	if (w->only && strcmp(w->only, m->address) != 0)
		return 0;
	if (db_member_bounce(x->db, m->list, m->address, &mb) == 0 &&
	    mb.disabled)
		return 0;
	again = db_rsvp_invite(x->db, w->e->id, w->occ, m->address, &id);
	if (again < 0 || db_rsvp_get(x->db, id, &r) != 0) {
		w->failed = 1;
		return 1;
	}
	if (again == 1 && strcmp(r.partstat, "declined") == 0)
		return 0; /* said no: no update */
	rsvp_token(x, w->e, &r, tok, sizeof(tok));
	rsvp_addr(x, w->l->name, tok, &org);
	if (calendar_for(x, w->l, w->e, buf_str(&org), m->address, m->name, 0,
	                 &cal) < 0) {
		error("event %lld: no calendar for <%s>", w->e->id, m->address);
		w->failed = 1;
		goto out;
	}
	v = tmpl_vars_new();
	common_vars(x, w->l, w->e, &r, tok, w->start, w->end, v);
	tmpl_vars_set_bool(v, "updated", again == 1);
	tmpl_vars_set(v, "question", w->e->question);
	tmpl_vars_set_bool(v, "guests_allowed", 1);
	unique_name(&file, "event-%lld-%ld-%lld", w->e->id, w->e->sequence,
	            r.id);
	if (send_event_mail(x, w->l, m->address, "event_invite.txt",
	                    "event_invite.html", v, buf_str(&cal), "REQUEST",
	                    buf_str(&org), buf_str(&file)) < 0)
		w->failed = 1;
	else
		w->sent++;
	tmpl_vars_free(v);
out:
	buf_free(&cal);
	buf_free(&org);
	buf_free(&file);
	return w->failed;
}

long
event_invite(const struct event_ctx *x, long long id, const char *address)
{
	struct event_row e;
	struct invite_walk w;
	const struct list_conf *l;
	const char **names;
	size_t n, i;
	int own = !db_in_transaction(x->db);

	if (db_event_get(x->db, id, &e) != 0)
		return -1;
	l = conf_list(x->c, e.list);
	if (!l || strcmp(e.state, "active") != 0) {
		event_row_clear(&e);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.x = x;
	w.l = l;
	w.e = &e;
	w.only = address;
	w.occ = occurrence_of(&e, now_of(x), &w.start, &w.end);
	if (w.occ && db_occurrence_cancelled(x->db, e.id, w.occ) == 1) {
		event_row_clear(&e);
		return 0; /* that date is cancelled: nobody to invite */
	}
	names = xcalloc(x->c->n_lists + 1, sizeof(*names));
	n = post_lists(x->c, l, names, x->c->n_lists);
	if (own && db_begin(x->db) < 0) {
		free(names);
		event_row_clear(&e);
		return -1;
	}
	for (i = 0; i < n && !w.failed; i++)
		if (db_member_each(x->db, names[i], invite_one, &w) < 0)
			w.failed = 1;
	if (!w.failed)
		db_log_event(x->db, l->name, "invitation", NULL, w.sent);
	if (own) {
		if (w.failed)
			db_rollback(x->db);
		else if (db_commit(x->db) < 0)
			w.failed = 1;
	}
	if (!w.failed)
		log_info("event %lld (%s): %ld invitations queued", id, l->name,
		         w.sent);
	free(names);
	event_row_clear(&e);
	return w.failed ? -1 : w.sent;
}

/* ----- answers ------------------------------------------------------------- */

static int
answer_mail(const struct event_ctx *x, const struct list_conf *l,
            const struct event_row *e, const struct rsvp_row *r,
            const char *flag, const char *tag)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf file = BUF_INIT, reply = BUF_INIT;
	char tok[TOKEN_MAX + 1];
	time_t start, end;
	int rc;

	rsvp_token(x, e, r, tok, sizeof(tok));
	start = r->occurrence ? r->occurrence : e->dtstart;
	end = start + (e->dtend - e->dtstart);
	common_vars(x, l, e, r, tok, start, end, v);
	tmpl_vars_set_bool(v, "accepted", strcmp(flag, "accepted") == 0);
	tmpl_vars_set_bool(v, "declined", strcmp(flag, "declined") == 0);
	tmpl_vars_set_bool(v, "tentative", strcmp(flag, "tentative") == 0);
	tmpl_vars_set_bool(v, "waitlisted", strcmp(flag, "waitlisted") == 0);
	tmpl_vars_set_bool(v, "promoted", strcmp(flag, "promoted") == 0);
	tmpl_vars_set_bool(v, "too_late", strcmp(flag, "too_late") == 0);
	tmpl_vars_set_bool(v, "unknown", strcmp(flag, "unknown") == 0);
	tmpl_vars_setf(v, "guests", "%d", r->guests);
	if (r->waitlist)
		tmpl_vars_setf(v, "waitlist_position", "%ld", r->waitlist);
	else
		tmpl_vars_set(v, "waitlist_position", "");
	unique_name(&file, "event-%lld-answer-%lld-%s", e->id, r->id, tag);
	rsvp_addr(x, l->name, tok, &reply);
	rc = send_event_mail(x, l, r->address, "event_answer.txt", NULL, v,
	                     NULL, NULL, buf_str(&reply), buf_str(&file));
	tmpl_vars_free(v);
	buf_free(&file);
	buf_free(&reply);
	return rc;
}

/* Seats a row holds. */
static long
seats_of(const struct rsvp_row *r)
{
	return strcmp(r->partstat, "accepted") == 0 && !r->waitlist
	           ? 1 + r->guests
	           : 0;
}

/* Give freed seats to the waitlist, first come first served. */
static int
promote(const struct event_ctx *x, const struct list_conf *l,
        const struct event_row *e, time_t occ)
{
	struct rsvp_counts cn;
	struct rsvp_row w;

	if (e->capacity <= 0)
		return 0;
	for (;;) {
		if (db_rsvp_counts(x->db, e->id, occ, &cn) < 0)
			return -1;
		if (db_rsvp_first_waiting(x->db, e->id, occ, &w) != 0)
			return 0;
		if (cn.seats + 1 + w.guests > e->capacity)
			return 0; /* the first does not fit: keep the order */
		w.waitlist = 0;
		if (db_rsvp_set(x->db, &w) < 0 ||
		    answer_mail(x, l, e, &w, "promoted", "p") < 0 ||
		    event_invite(x, e->id, w.address) < 0)
			return -1;
		log_info("event %lld: <%s> moved from the waitlist to a seat",
		         e->id, w.address);
	}
}

int
event_answer(const struct event_ctx *x, long long rsvp,
             enum event_answer answer, int guests, int quiet,
             enum event_outcome *out)
{
	struct rsvp_row r;
	struct event_row e;
	struct rsvp_counts cn;
	const struct list_conf *l;
	const char *flag;
	time_t now = now_of(x), start, end, limit;
	int own = !db_in_transaction(x->db), rc = -1;
	enum event_outcome o;

	if (guests < 0)
		guests = 0;
	if (guests > 9)
		guests = 9;
	if (db_rsvp_get(x->db, rsvp, &r) != 0)
		return -1;
	if (db_event_get(x->db, r.event, &e) != 0)
		return -1;
	l = conf_list(x->c, e.list);
	if (!l) {
		event_row_clear(&e);
		return -1;
	}
	if (own && db_begin(x->db) < 0) {
		event_row_clear(&e);
		return -1;
	}
	start = r.occurrence ? r.occurrence : e.dtstart;
	end = start + (e.dtend - e.dtstart);
	(void)end;
	limit = e.deadline && !*e.rrule ? e.deadline : start;
	if (strcmp(e.state, "active") != 0) {
		o = OUT_CANCELLED;
		flag = "too_late";
	} else if (now > limit) {
		o = OUT_TOO_LATE;
		flag = "too_late";
	} else {
		long held = seats_of(&r);

		r.answered = now;
		r.guests = answer == EVENT_YES ? guests : 0;
		if (answer == EVENT_YES) {
			if (db_rsvp_counts(x->db, e.id, r.occurrence, &cn) < 0)
				goto out;
			strlcpy_(r.partstat, "accepted", sizeof(r.partstat));
			if (e.capacity <= 0 ||
			    (!r.waitlist &&
			     cn.seats - held + 1 + r.guests <= e.capacity)) {
				r.waitlist = 0;
				o = OUT_ACCEPTED;
				flag = "accepted";
			} else {
				if (!r.waitlist) {
					long p = db_rsvp_next_waitlist(
					    x->db, e.id, r.occurrence);

					if (p < 0)
						goto out;
					r.waitlist = p;
				}
				o = OUT_WAITLISTED;
				flag = "waitlisted";
			}
		} else {
			r.waitlist = 0;
			strlcpy_(r.partstat,
			         answer == EVENT_NO ? "declined" : "tentative",
			         sizeof(r.partstat));
			o = answer == EVENT_NO ? OUT_DECLINED : OUT_TENTATIVE;
			flag = answer == EVENT_NO ? "declined" : "tentative";
		}
		if (db_rsvp_set(x->db, &r) < 0 ||
		    db_log_event(x->db, l->name, "rsvp", flag, 1) < 0)
			goto out;
		/* a seat freed (no, maybe, fewer guests): the waitlist */
		if (held > seats_of(&r) &&
		    promote(x, l, &e, r.occurrence) < 0)
			goto out;
	}
	if (!quiet && answer_mail(x, l, &e, &r, flag, "a") < 0)
		goto out;
	if (out)
		*out = o;
	rc = 0;
out:
	if (own) {
		if (rc == 0 && db_commit(x->db) < 0)
			rc = -1;
		if (rc < 0)
			db_rollback(x->db);
	}
	event_row_clear(&e);
	return rc;
}

/* The first text/calendar part of msg, or NULL. */
static const struct msg_part *
calendar_part(const struct msg *msg)
{
	size_t i;

	for (i = 0; i < msg->n_parts; i++)
		if (msg->parts[i].text &&
		    strcmp(msg->parts[i].type, "text/calendar") == 0)
			return &msg->parts[i];
	return NULL;
}

int
event_rsvp_mail(const struct event_ctx *x, const char *spool_id,
                const char *sender, const struct msg *msg,
                const struct route *rt)
{
	const struct msg_part *cal = calendar_part(msg);
	struct rsvp_row r;
	struct event_row e;
	char why[256];
	enum event_answer a;
	int guests = 0;

	struct sub_ctx sc = {x->c, x->db, x->tmpl, x->key, NULL};

	if (sub_ignored(&sc, rt->list, msg, sender, msg->from.addr, why)) {
		log_info("%s: answer to an event not read: %s", spool_id, why);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	if (by_token(x, rt->arg, &r, &e) != 0 ||
	    strcmp(e.list, rt->list->name) != 0) {
		event_row_clear(&e);
		log_info("%s: answer with an unknown or expired token (from "
		         "<%s>): not recorded",
		         spool_id, msg->from.addr);
		return 0;
	}
	if (cal) {
		struct itip_reply rep;
		struct buf err = BUF_INIT;

		if (itip_parse_reply(cal->text, cal->text_len, &rep, &err) < 0) {
			log_info("%s: event %lld: calendar answer not read: %s",
			         spool_id, e.id, buf_str(&err));
			buf_free(&err);
			event_row_clear(&e);
			return 0;
		}
		buf_free(&err);
		if (strcasecmp(rep.attendee, r.address) != 0 ||
		    strcmp(rep.ev.uid, e.uid) != 0) {
			log_info("%s: event %lld: a calendar answer for <%s> "
			         "(uid %s) came with the token of <%s>: not "
			         "recorded",
			         spool_id, e.id, rep.attendee, rep.ev.uid,
			         r.address);
			event_row_clear(&e);
			return 0;
		}
		switch (rep.partstat) {
		case ITIP_ACCEPTED:
			a = EVENT_YES;
			break;
		case ITIP_DECLINED:
			a = EVENT_NO;
			break;
		case ITIP_TENTATIVE:
			a = EVENT_MAYBE;
			break;
		default:
			log_info("%s: event %lld: a calendar answer without "
			         "yes, no or maybe",
			         spool_id, e.id);
			event_row_clear(&e);
			return 0;
		}
		guests = rep.guests;
		/* a series: the answer is for the occurrence the client
		 * names (RECURRENCE-ID), if it is one of the series */
		if (rep.ev.recurrence_id && *e.rrule &&
		    rep.ev.recurrence_id != r.occurrence) {
			long long other;

			if (!is_occurrence(&e, rep.ev.recurrence_id)) {
				log_info("%s: event %lld: an answer for a date "
				         "that is not one of the series",
				         spool_id, e.id);
				event_row_clear(&e);
				return 0;
			}
			if (db_rsvp_invite(x->db, e.id, rep.ev.recurrence_id,
			                   r.address, &other) < 0) {
				event_row_clear(&e);
				return -1;
			}
			r.id = other;
		}
	} else {
		struct rsvp_text t;

		if (rsvp_parse(msg, &t) < 0 || t.answer == RSVP_NONE) {
			int rc = answer_mail(x, conf_list(x->c, e.list), &e,
			                     &r, "unknown", "u");

			event_row_clear(&e);
			return rc;
		}
		a = t.answer == RSVP_YES ? EVENT_YES
		    : t.answer == RSVP_NO ? EVENT_NO
		                          : EVENT_MAYBE;
		guests = t.guests;
	}
	log_info("%s: event %lld: answer from the member of row %lld by %s",
	         spool_id, e.id, r.id, cal ? "calendar" : "mail");
	event_row_clear(&e);
	return event_answer(x, r.id, a, guests, 0, NULL);
}

/* ----- reminders and summaries ------------------------------------------- */

struct remind_walk {
	const struct event_ctx *x;
	const struct list_conf *l;
	const struct event_row *e;
	long days;
	long sent;
	int failed;
};

static int
remind_one(const struct rsvp_row *r, void *arg)
{
	struct remind_walk *w = arg;
	struct tmpl_vars *v;
	struct buf file = BUF_INIT, reply = BUF_INIT;
	char tok[TOKEN_MAX + 1];
	time_t start, end;

	if (strcmp(r->partstat, "accepted") != 0 || !strchr(r->address, '@'))
		return 0; /* yes and the waitlist only; not the erased */
	rsvp_token(w->x, w->e, r, tok, sizeof(tok));
	start = r->occurrence ? r->occurrence : w->e->dtstart;
	end = start + (w->e->dtend - w->e->dtstart);
	v = tmpl_vars_new();
	common_vars(w->x, w->l, w->e, r, tok, start, end, v);
	tmpl_vars_set_bool(v, "waitlisted", r->waitlist != 0);
	tmpl_vars_setf(v, "days", "%ld", w->days);
	unique_name(&file, "event-%lld-remind%ld-%lld-%ld", w->e->id, w->days,
	            r->id, (long)r->occurrence);
	rsvp_addr(w->x, w->l->name, tok, &reply);
	if (send_event_mail(w->x, w->l, r->address, "event_reminder.txt",
	                    NULL, v, NULL, NULL, buf_str(&reply),
	                    buf_str(&file)) < 0)
		w->failed = 1;
	else
		w->sent++;
	tmpl_vars_free(v);
	buf_free(&file);
	buf_free(&reply);
	return w->failed;
}

#define PURPOSE_ATTEND "attend"

static int
summary(const struct event_ctx *x, const struct list_conf *l,
        const struct event_row *e, time_t occ, time_t start, time_t end,
        int after)
{
	time_t now = now_of(x);
	struct rsvp_counts cn;
	struct tmpl_vars *v;
	struct buf b = BUF_INIT, file = BUF_INIT;
	size_t i;
	int rc = 0;

	if (db_rsvp_counts(x->db, e->id, occ, &cn) < 0)
		return -1;
	v = tmpl_vars_new();
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "title", e->title);
	when_text(l, start, end, &b);
	tmpl_vars_set(v, "when", buf_str(&b));
	tmpl_vars_set(v, "place", e->place);
	if (e->capacity > 0)
		tmpl_vars_setf(v, "capacity", "%d", e->capacity);
	else
		tmpl_vars_set(v, "capacity", "");
	tmpl_vars_setf(v, "invited", "%ld", cn.invited);
	tmpl_vars_setf(v, "yes", "%ld", cn.yes);
	tmpl_vars_setf(v, "no", "%ld", cn.no);
	tmpl_vars_setf(v, "maybe", "%ld", cn.maybe);
	tmpl_vars_setf(v, "waitlist", "%ld", cn.waitlist);
	tmpl_vars_setf(v, "guests", "%ld", cn.guests);
	tmpl_vars_setf(v, "attended", "%ld", cn.attended);
	tmpl_vars_setf(v, "no_answer", "%ld", cn.no_answer);
	tmpl_vars_set_bool(v, "after_event", after);
	tmpl_vars_setf(v, "report_command", "mlmctl event report %lld", e->id);
	/* to the owners, and to the organizer if it is an address */
	for (i = 0; i < l->n_owners && rc == 0; i++) {
		struct buf reply = BUF_INIT;
		char tok[TOKEN_MAX + 1];

		buf_reset(&file);
		unique_name(&file, "event-%lld-summary%d-%ld-%zu", e->id,
		            after ? 2 : 1, (long)occ, i);
		/* after the event a reply lists who came: it goes to
		 * LIST+event-TOKEN@, a token for this owner and event */
		if (after) {
			token_make(x->key, PURPOSE_ATTEND, l->name,
			           l->owners[i], e->id, now + 60 * 86400, tok,
			           sizeof(tok));
			buf_printf(&reply, "%s%cevent-%s@%s", l->name,
			           x->c->separator ? x->c->separator : '+', tok,
			           x->c->domain);
		}
		rc = send_event_mail(x, l, l->owners[i], "event_summary.txt",
		                     NULL, v, NULL, NULL,
		                     after ? buf_str(&reply) : NULL,
		                     buf_str(&file));
		buf_free(&reply);
	}
	tmpl_vars_free(v);
	buf_free(&b);
	buf_free(&file);
	return rc;
}

struct tick_walk {
	const struct event_ctx *x;
	long sent;
	int failed;
};

static int
tick_one(const struct event_row *e, void *arg)
{
	struct tick_walk *w = arg;
	const struct event_ctx *x = w->x;
	const struct list_conf *l = conf_list(x->c, e->list);
	time_t now = now_of(x), start, end, occ, deadline;
	long reminded;
	int mask, own;

	if (!l || strcmp(e->state, "active") != 0)
		return 0;
	occ = occurrence_of(e, now, &start, &end);
	if (end + 86400 < now && !*e->rrule) {
		/* long past: only the summary after it, if it is owed */
	}
	if (db_occurrence_reminded(x->db, e->id, occ, &reminded) < 0 ||
	    db_occurrence_summarized(x->db, e->id, occ, &mask) < 0) {
		w->failed = 1;
		return 1;
	}
	own = !db_in_transaction(x->db);
	if (own && db_begin(x->db) < 0) {
		w->failed = 1;
		return 1;
	}
	/* the nearest reminder whose time came, unless it (or a nearer
	 * one) went: inside the last day the 1-day one, never the 7-day one
	 * after it */
	if (now < start) {
		long due = 0;
		size_t i;

		/* the nearest reminder whose time came (the list is
		 * earliest first) */
		for (i = 0; i < x->c->n_event_reminders; i++)
			if (now >= start - x->c->event_reminders[i])
				due = x->c->event_reminders[i];
		if (due && (!reminded || reminded > due)) {
			struct remind_walk rw = {x, l, e, (due + 43200) / 86400,
			                         0, 0};

			if (db_rsvp_each(x->db, e->id, occ, remind_one, &rw) < 0 ||
			    rw.failed ||
			    db_occurrence_set_reminded(x->db, e->id, occ, due) <
			        0)
				w->failed = 1;
			else
				w->sent += rw.sent;
		}
	}
	deadline = e->deadline && !*e->rrule ? e->deadline : start;
	if (!w->failed && !(mask & 1) && now >= deadline && now < end) {
		if (summary(x, l, e, occ, start, end, 0) < 0 ||
		    db_occurrence_set_summarized(x->db, e->id, occ, mask | 1) <
		        0)
			w->failed = 1;
		else {
			mask |= 1;
			w->sent++;
		}
	}
	if (!w->failed && !(mask & 2) && now >= end) {
		if (summary(x, l, e, occ, start, end, 1) < 0 ||
		    db_occurrence_set_summarized(x->db, e->id, occ, mask | 3) <
		        0)
			w->failed = 1;
		else
			w->sent++;
	}
	if (own) {
		if (w->failed)
			db_rollback(x->db);
		else if (db_commit(x->db) < 0)
			w->failed = 1;
	}
	return w->failed;
}

long
event_tick(const struct event_ctx *x)
{
	struct tick_walk w = {x, 0, 0};

	if (db_event_each(x->db, NULL, tick_one, &w) < 0 || w.failed)
		return -1;
	return w.sent;
}

/* ----- cancelling ------------------------------------------------------------ */

struct cancel_walk {
	const struct event_ctx *x;
	const struct list_conf *l;
	const struct event_row *e;
	time_t occurrence; /* one date of a series, or 0: all of it */
	int failed;
};

static int
cancel_one(const struct rsvp_row *r, void *arg)
{
	struct cancel_walk *w = arg;
	struct buf cal = BUF_INIT, org = BUF_INIT, file = BUF_INIT;
	struct tmpl_vars *v;
	char tok[TOKEN_MAX + 1];
	time_t start, end;

	if (strcmp(r->partstat, "declined") == 0 || !strchr(r->address, '@'))
		return 0; /* said no, or erased */
	rsvp_token(w->x, w->e, r, tok, sizeof(tok));
	rsvp_addr(w->x, w->l->name, tok, &org);
	start = r->occurrence ? r->occurrence : w->e->dtstart;
	end = start + (w->e->dtend - w->e->dtstart);
	if (calendar_for_occ(w->x, w->l, w->e, buf_str(&org), r->address, "",
	                     1, w->occurrence, &cal) < 0) {
		w->failed = 1;
		goto out;
	}
	v = tmpl_vars_new();
	common_vars(w->x, w->l, w->e, r, tok, start, end, v);
	/* recurring: only occurrence_when goes; else the whole event */
	tmpl_vars_set_bool(v, "recurring", w->occurrence != 0);
	unique_name(&file, "event-%lld-cancel-%lld", w->e->id, r->id);
	if (send_event_mail(w->x, w->l, r->address, "event_cancel.txt", NULL, v,
	                    buf_str(&cal), "CANCEL", buf_str(&org),
	                    buf_str(&file)) < 0)
		w->failed = 1;
	tmpl_vars_free(v);
out:
	buf_free(&cal);
	buf_free(&org);
	buf_free(&file);
	return w->failed;
}

int
event_cancel_occurrence(const struct event_ctx *x, long long id,
                        time_t occurrence)
{
	struct event_row e;
	struct cancel_walk w;
	int own = !db_in_transaction(x->db), rc = -1;

	if (db_event_get(x->db, id, &e) != 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.x = x;
	w.l = conf_list(x->c, e.list);
	w.e = &e;
	w.occurrence = occurrence;
	if (!w.l || !*e.rrule || !is_occurrence(&e, occurrence)) {
		error("event %lld: %ld is no date of its series", id,
		      (long)occurrence);
		goto out;
	}
	if (own && db_begin(x->db) < 0)
		goto out;
	e.sequence++;
	if (db_event_save(x->db, &e) < 0 ||
	    db_occurrence_cancel(x->db, e.id, occurrence) < 0 ||
	    db_rsvp_each(x->db, e.id, occurrence, cancel_one, &w) < 0 ||
	    w.failed) {
		if (own)
			db_rollback(x->db);
		goto out;
	}
	rc = own ? db_commit(x->db) : 0;
	if (rc < 0 && own)
		db_rollback(x->db);
out:
	event_row_clear(&e);
	return rc;
}

int
event_cancel(const struct event_ctx *x, long long id)
{
	struct event_row e;
	struct cancel_walk w;
	time_t start, end, occ;
	int own = !db_in_transaction(x->db), rc = -1;

	if (db_event_get(x->db, id, &e) != 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.x = x;
	w.l = conf_list(x->c, e.list);
	w.e = &e;
	if (!w.l || (own && db_begin(x->db) < 0))
		goto out;
	occ = occurrence_of(&e, now_of(x), &start, &end);
	free(e.state);
	e.state = xstrdup("cancelled");
	e.sequence++;
	if (db_event_save(x->db, &e) < 0 ||
	    db_rsvp_each(x->db, e.id, occ, cancel_one, &w) < 0 || w.failed ||
	    db_log_event(x->db, e.list, "event_cancelled", NULL, 1) < 0) {
		if (own)
			db_rollback(x->db);
		goto out;
	}
	rc = own ? db_commit(x->db) : 0;
	if (rc < 0 && own)
		db_rollback(x->db);
out:
	event_row_clear(&e);
	return rc;
}

/* ----- reports -------------------------------------------------------------- */

static void
csv_field(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		/* a cell a spreadsheet would run as a formula */
		if (s[0] && strchr("=+-@", s[0]) && b->s[b->len - 1] == '"')
			buf_addc(b, '\'');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

struct report_walk {
	struct buf *csv;
	int anonymous;
};

static int
report_line(const struct rsvp_row *r, void *arg)
{
	struct report_walk *w = arg;

	if (!w->anonymous) {
		csv_field(w->csv, strchr(r->address, '@') ? r->address : "");
		buf_addc(w->csv, ',');
	}
	buf_printf(w->csv, "%s,%d,%ld,%d\n",
	           strcmp(r->partstat, "accepted") == 0 && r->waitlist
	               ? "waitlist"
	           : strcmp(r->partstat, "accepted") == 0  ? "yes"
	           : strcmp(r->partstat, "declined") == 0  ? "no"
	           : strcmp(r->partstat, "tentative") == 0 ? "maybe"
	                                                   : "no answer",
	           r->guests, r->waitlist, r->attended);
	return 0;
}

int
event_report(const struct event_ctx *x, long long id, int anonymous,
             struct buf *csv)
{
	struct event_row e;
	struct rsvp_counts cn;
	struct report_walk w = {csv, anonymous};
	time_t start, end, occ;
	int rc = -1;

	if (db_event_get(x->db, id, &e) != 0)
		return -1;
	occ = occurrence_of(&e, now_of(x), &start, &end);
	if (db_rsvp_counts(x->db, e.id, occ, &cn) < 0)
		goto out;
	buf_adds(csv, "event,list,title,start,capacity,invited,yes,no,maybe,"
	              "waitlist,guests,attended,no_answer\n");
	buf_printf(csv, "%lld,", e.id);
	csv_field(csv, e.list);
	buf_addc(csv, ',');
	csv_field(csv, e.title);
	{
		struct tm tm;
		char when[32];

		gmtime_r(&start, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(csv, ",%s,%d,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld\n",
		           when, e.capacity, cn.invited, cn.yes, cn.no,
		           cn.maybe, cn.waitlist, cn.guests, cn.attended,
		           cn.no_answer);
	}
	buf_adds(csv, "\n");
	buf_adds(csv, anonymous ? "answer,guests,waitlist,attended\n"
	                        : "address,answer,guests,waitlist,attended\n");
	rc = db_rsvp_each(x->db, e.id, occ, report_line, &w);
out:
	event_row_clear(&e);
	return rc;
}

/* ----- the web page ---------------------------------------------------------- */

static void
esc(struct buf *b, const char *s)
{
	msghtml_escape(s, strlen(s), b);
}

int
event_web(const struct event_ctx *x, const char *token, int post,
          const char *answer, const char *guests, struct buf *html,
          char *lang)
{
	struct rsvp_row r;
	struct event_row e;
	const struct list_conf *l;
	struct buf when = BUF_INIT;
	enum event_outcome o = OUT_ACCEPTED;
	const char *shown;
	time_t start, end;
	int st = 200;

	strlcpy_(lang, "en", 16);
	if (strlen(token) > TOKEN_MAX || by_token(x, token, &r, &e) != 0) {
		buf_adds(html, "<!DOCTYPE html><html lang=\"en\"><title>Not "
		               "found</title><p>This link is unknown or has "
		               "expired.</p></html>\n");
		return 404;
	}
	l = conf_list(x->c, e.list);
	if (!l) {
		event_row_clear(&e);
		return 404;
	}
	strlcpy_(lang, l->language, 16);
	if (post) {
		enum event_answer a;
		char *gend = NULL;
		long g = guests ? strtol(guests, &gend, 10) : 0;

		if (guests && (*gend || g < 0 || g > 9))
			g = 0;

		if (!answer || (strcmp(answer, "yes") != 0 &&
		                strcmp(answer, "no") != 0 &&
		                strcmp(answer, "maybe") != 0)) {
			event_row_clear(&e);
			buf_adds(html, "<!DOCTYPE html><html lang=\"en\"><title>"
			               "Bad request</title><p>Choose yes, no or "
			               "maybe.</p></html>\n");
			return 400;
		}
		a = strcmp(answer, "yes") == 0  ? EVENT_YES
		    : strcmp(answer, "no") == 0 ? EVENT_NO
		                                : EVENT_MAYBE;
		if (event_answer(x, r.id, a, (int)g, 0, &o) < 0) {
			event_row_clear(&e);
			return 500;
		}
		db_rsvp_get(x->db, r.id, &r);
	}
	start = r.occurrence ? r.occurrence : e.dtstart;
	end = start + (e.dtend - e.dtstart);
	when_text(l, start, end, &when);
	shown = strcmp(r.partstat, "accepted") == 0 && r.waitlist ? "waitlist"
	        : strcmp(r.partstat, "accepted") == 0             ? "yes"
	        : strcmp(r.partstat, "declined") == 0             ? "no"
	        : strcmp(r.partstat, "tentative") == 0            ? "maybe"
	                                                          : "-";
	buf_printf(html, "<!DOCTYPE html>\n<html lang=\"%s\"%s>\n<head>"
	                 "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	                 "content=\"width=device-width, initial-scale=1\">"
	                 "<title>",
	           l->language,
	           strcmp(l->language, "ar") == 0 ? " dir=\"rtl\"" : "");
	esc(html, e.title);
	buf_adds(html, "</title></head>\n<body>\n<main>\n<h1>");
	esc(html, e.title);
	buf_adds(html, "</h1>\n<p><time dir=\"ltr\">");
	esc(html, buf_str(&when));
	buf_adds(html, "</time>");
	if (*e.place) {
		buf_adds(html, "<br>");
		esc(html, e.place);
	}
	buf_adds(html, "</p>\n");
	if (post && (o == OUT_TOO_LATE || o == OUT_CANCELLED))
		buf_adds(html, "<p role=\"alert\">Answers are closed.</p>\n");
	buf_adds(html, "<p>");
	esc(html, r.address);
	buf_printf(html, ": <strong id=\"answer\">%s</strong>", shown);
	if (r.guests)
		buf_printf(html, " (+%d)", r.guests);
	buf_adds(html, "</p>\n<form method=\"post\">\n"
	               "<label>+ <select name=\"guests\">");
	{
		int i;

		for (i = 0; i <= 3; i++)
			buf_printf(html, "<option%s>%d</option>",
			           i == r.guests ? " selected" : "", i);
	}
	buf_adds(html, "</select></label>\n"
	               "<button name=\"answer\" value=\"yes\">yes</button>\n"
	               "<button name=\"answer\" value=\"maybe\">maybe</button>\n"
	               "<button name=\"answer\" value=\"no\">no</button>\n"
	               "</form>\n</main>\n</body>\n</html>\n");
	event_row_clear(&e);
	buf_free(&when);
	return st;
}

/* ----- the feed ----------------------------------------------------------------- */

struct feed_walk {
	const struct event_ctx *x;
	struct buf *ics;
	int failed;
};

static int
feed_one(const struct event_row *e, void *arg)
{
	struct feed_walk *w = arg;
	const struct list_conf *l = conf_list(w->x->c, e->list);
	struct buf one = BUF_INIT, org = BUF_INIT;
	const char *b, *v, *end;

	if (!l || strcmp(e->state, "active") != 0)
		return 0;
	buf_printf(&org, "%s@%s", l->name, w->x->c->domain);
	/* built for the list itself, then its ATTENDEE line dropped */
	if (calendar_for(w->x, l, e, buf_str(&org), l->address, "", 0, &one) <
	    0) {
		buf_free(&org);
		return 0;
	}
	/* keep the VEVENT only */
	b = strstr(buf_str(&one), "BEGIN:VEVENT");
	end = b ? strstr(b, "END:VEVENT\r\n") : NULL;
	if (b && end) {
		/* drop the ATTENDEE lines: a feed names nobody */
		for (v = b; v < end + 12;) {
			const char *nl = strstr(v, "\r\n");
			size_t n = nl ? (size_t)(nl - v) + 2 : strlen(v);

			while (nl && nl[2] == ' ') { /* folded */
				nl = strstr(nl + 2, "\r\n");
				n = nl ? (size_t)(nl - v) + 2 : strlen(v);
			}
			if (strncmp(v, "ATTENDEE", 8) != 0)
				buf_add(w->ics, v, n);
			v += n;
			if (!nl)
				break;
		}
	}
	buf_free(&one);
	buf_free(&org);
	return 0;
}

int
event_feed(const struct event_ctx *x, const char *list, struct buf *ics)
{
	struct feed_walk w = {x, ics, 0};

	buf_adds(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	              "PRODID:-//mlmd//mlmd//EN\r\nMETHOD:PUBLISH\r\n");
	if (db_event_each(x->db, list, feed_one, &w) < 0)
		return -1;
	buf_adds(ics, "END:VCALENDAR\r\n");
	return 0;
}

/* ----- events sent by coordinators ---------------------------------------- */

#define PURPOSE_NEW "event"
#define REQUEST_DAYS 7

int
event_is_invitation(const struct msg *msg)
{
	const struct msg_part *p = calendar_part(msg);
	struct itip_event ev;
	enum itip_method m;
	struct buf err = BUF_INIT;
	int yes;

	if (!p)
		return 0;
	yes = itip_parse(p->text, p->text_len, &m, &ev, &err) == 0 &&
	      (m == ITIP_REQUEST || m == ITIP_PUBLISH);
	buf_free(&err);
	return yes;
}

int
event_coordinator(const struct list_conf *l, const char *address)
{
	size_t i;

	for (i = 0; i < l->n_owners; i++)
		if (strcasecmp(l->owners[i], address) == 0)
			return 1;
	for (i = 0; i < l->n_moderators; i++)
		if (strcasecmp(l->moderators[i], address) == 0)
			return 1;
	return 0;
}

/* "YYYY-MM-DD HH:MM" in zone, or -1. */
static time_t
local_time(const char *s, size_t n, const char *zone)
{
	const char *saved = getenv("TZ");
	char *keep = saved ? xstrdup(saved) : NULL, tmp[40];
	struct tm tm;
	int y, mo, d, h = 0, mi = 0;
	time_t t;

	if (n >= sizeof(tmp)) {
		free(keep);
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%4d-%2d-%2d %2d:%2d", &y, &mo, &d, &h, &mi) < 3 ||
	    y < 2000 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59) {
		free(keep);
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_isdst = -1;
	setenv("TZ", zone && *zone ? zone : "UTC", 1);
	tzset();
	t = mktime(&tm);
	if (keep) {
		setenv("TZ", keep, 1);
		free(keep);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return t;
}

static void
set_str(char **dst, const char *s, size_t n)
{
	char *v = xcalloc(n + 1, 1);

	memcpy(v, s, n);
	free(*dst);
	*dst = v;
}

/* Is key (k bytes) one of the words in list (NULL-terminated)? */
static int
key_is(const char *k, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && strncasecmp(k, *words, n) == 0)
			return 1;
	return 0;
}

/*
 * The header block of a LIST+event@ mail: "Key: value" lines at the top
 * of the text (English, and the Nordic words coordinators will write);
 * the text after the first empty line is the description.  0 and e
 * filled, -1 with the reason.
 */
static int
parse_block(const struct list_conf *l, const char *t, size_t len,
            struct event_row *e, struct buf *why)
{
	static const char *const k_title[] = {"title", "titel", "tittel",
	                                      "otsikko", "titill", "subject",
	                                      NULL};
	static const char *const k_start[] = {"start", "begin", "when",
	                                      "hvornår", "när", "når",
	                                      "alkaa", "hvenær", NULL};
	static const char *const k_end[] = {"end", "slut", "slutt", "loppu",
	                                    "lok", NULL};
	static const char *const k_place[] = {"place", "where", "location",
	                                      "sted", "plats", "paikka",
	                                      "staður", NULL};
	static const char *const k_cap[] = {"capacity", "seats", "pladser",
	                                    "platser", "plasser", "paikat",
	                                    "sæti", NULL};
	static const char *const k_dead[] = {"deadline", "rsvp", "svarfrist",
	                                     "määräaika", "frestur", NULL};
	static const char *const k_q[] = {"question", "spørgsmål", "fråga",
	                                  "spørsmål", "kysymys", "spurning",
	                                  NULL};
	static const char *const k_rep[] = {"repeat", "rrule", "gentag",
	                                    "upprepa", "gjenta", "toista",
	                                    NULL};
	const char *p = t, *end = t + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon, *v;
		size_t kl, vl;

		if (le == p || (le == p + 1 && *p == '\r')) {
			p = nl ? nl + 1 : end;
			break; /* the description follows */
		}
		colon = memchr(p, ':', (size_t)(le - p));
		if (!colon)
			break; /* prose: the description starts here */
		kl = (size_t)(colon - p);
		for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++)
			;
		vl = (size_t)(le - v);
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
			vl--;
		if (key_is(p, kl, k_title))
			set_str(&e->title, v, vl);
		else if (key_is(p, kl, k_start))
			e->dtstart = local_time(v, vl, l->timezone);
		else if (key_is(p, kl, k_end))
			e->dtend = local_time(v, vl, l->timezone);
		else if (key_is(p, kl, k_place))
			set_str(&e->place, v, vl);
		else if (key_is(p, kl, k_cap)) {
			char tmp[16];

			snprintf(tmp, sizeof(tmp), "%.*s", (int)vl, v);
			e->capacity = (int)strtol(tmp, NULL, 10);
		} else if (key_is(p, kl, k_dead))
			e->deadline = local_time(v, vl, l->timezone);
		else if (key_is(p, kl, k_q))
			set_str(&e->question, v, vl);
		else if (key_is(p, kl, k_rep))
			set_str(&e->rrule, v, vl);
		else
			break; /* not ours: the description starts here */
		p = nl ? nl + 1 : end;
	}
	if (p < end)
		set_str(&e->description, p, (size_t)(end - p));
	if (!e->title || !*e->title)
		buf_adds(why, "no Title: line");
	else if (e->dtstart <= 0)
		buf_adds(why, "no Start: line like \"Start: 2026-12-10 18:00\"");
	else if (e->deadline < 0)
		buf_adds(why, "a Deadline: that is no date");
	if (why->len)
		return -1;
	if (e->dtend <= e->dtstart)
		e->dtend = e->dtstart + 3 * 3600; /* three hours, said so */
	if (e->capacity < 0)
		e->capacity = 0;
	return 0;
}

/* The first inline text/plain part's text, or "". */
static const char *
plain_text(const struct msg *msg, size_t *len)
{
	size_t i;

	for (i = 0; i < msg->n_parts; i++)
		if (msg->parts[i].text && !msg->parts[i].is_attachment &&
		    strcmp(msg->parts[i].type, "text/plain") == 0) {
			*len = msg->parts[i].text_len;
			return msg->parts[i].text;
		}
	*len = 0;
	return "";
}

struct count_walk {
	long n;
};

static int
count_member(const struct member *m, void *arg)
{
	struct count_walk *w = arg;

	if (m->delivery != DELIVER_NOMAIL)
		w->n++;
	return 0;
}

/* The confirmation to the coordinator for pending event e. */
static int
confirm_mail(const struct event_ctx *x, const struct list_conf *l,
             const struct event_row *e, int updated)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf b = BUF_INIT, file = BUF_INIT;
	struct count_walk cw = {0};
	char tok[TOKEN_MAX + 1];
	const char **names = xcalloc(x->c->n_lists + 1, sizeof(*names));
	size_t n = post_lists(x->c, l, names, x->c->n_lists), i;
	int rc;

	for (i = 0; i < n; i++)
		db_member_each(x->db, names[i], count_member, &cw);
	free(names);
	token_make(x->key, PURPOSE_NEW, l->name, e->organizer, e->id,
	           now_of(x) + REQUEST_DAYS * 86400, tok, sizeof(tok));
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "address", e->organizer);
	tmpl_vars_set(v, "title", e->title);
	when_text(l, e->dtstart, e->dtend, &b);
	tmpl_vars_set(v, "when", buf_str(&b));
	tmpl_vars_set(v, "place", e->place);
	if (e->capacity > 0)
		tmpl_vars_setf(v, "capacity", "%d", e->capacity);
	else
		tmpl_vars_set(v, "capacity", "");
	buf_reset(&b);
	if (e->deadline)
		when_text(l, e->deadline, e->deadline, &b);
	tmpl_vars_set(v, "deadline", buf_str(&b));
	tmpl_vars_setf(v, "members", "%ld", cw.n);
	tmpl_vars_set_bool(v, "updated", updated);
	tmpl_vars_set_bool(v, "recurring", *e->rrule != '\0');
	tmpl_vars_set(v, "rrule", e->rrule);
	buf_reset(&b);
	buf_printf(&b, "%s%cevent-%s@%s", l->name,
	           x->c->separator ? x->c->separator : '+', tok, x->c->domain);
	tmpl_vars_set(v, "confirm_address", buf_str(&b));
	unique_name(&file, "event-%lld-confirm", e->id);
	rc = send_event_mail(x, l, e->organizer, "event_confirm.txt", NULL, v,
	                     NULL, NULL, buf_str(&b), buf_str(&file));
	tmpl_vars_free(v);
	buf_free(&b);
	buf_free(&file);
	return rc;
}

#define PENDING_MARK "#pending-"

/* A coordinator's new event or change: kept as a pending row until they
 * confirm it (a token only their mailbox receives). */
static int
request_new(const struct event_ctx *x, const char *spool_id,
            const struct list_conf *l, const struct msg *msg)
{
	const struct msg_part *cal = calendar_part(msg);
	struct event_row e, old;
	struct buf why = BUF_INIT, uid = BUF_INIT;
	long long id;
	int updated = 0, rc = 0;

	memset(&e, 0, sizeof(e));
	memset(&old, 0, sizeof(old));
	if (cal) {
		struct itip_event ev;
		enum itip_method m;

		if (itip_parse(cal->text, cal->text_len, &m, &ev, &why) < 0 ||
		    (m != ITIP_REQUEST && m != ITIP_PUBLISH) || !ev.start) {
			log_info("%s: event request for %s not read: %s",
			         spool_id, l->name,
			         why.len ? buf_str(&why) : "not an invitation");
			goto out;
		}
		e.uid = xstrdup(ev.uid);
		e.title = xstrdup(*ev.summary ? ev.summary : "(event)");
		e.place = xstrdup(ev.location);
		e.description = xstrdup(ev.description);
		e.rrule = xstrdup(ev.rrule);
		e.dtstart = ev.start;
		e.dtend = ev.end > ev.start ? ev.end : ev.start + 3 * 3600;
		e.capacity = ev.capacity;
		e.deadline = ev.rsvp_deadline;
	} else {
		size_t n;
		const char *t = plain_text(msg, &n);

		if (parse_block(l, t, n, &e, &why) < 0) {
			log_info("%s: event request for %s not read: %s",
			         spool_id, l->name, buf_str(&why));
			goto out;
		}
	}
#define SET(f) if (!e.f) e.f = xstrdup("")
	SET(uid);
	SET(title);
	SET(place);
	SET(description);
	SET(rrule);
	SET(question);
#undef SET
	free(e.tz);
	e.tz = xstrdup(l->timezone);
	free(e.organizer);
	e.organizer = xstrdup(msg->from.addr);
	free(e.list);
	e.list = xstrdup(l->name);
	/* the same UID as an event of this list: a change to it */
	if (*e.uid && db_event_by_uid(x->db, e.uid, &old) == 0 &&
	    strcmp(old.list, l->name) == 0 && strcmp(old.state, "active") == 0)
		updated = 1;
	/* "new:UID#pending-..." or "upd:UID#pending-...": the UID the
	 * coordinator's calendar gave it ("" from a text request) */
	buf_printf(&uid, "%s:%s%s%lld.%s", updated ? "upd" : "new", e.uid,
	           PENDING_MARK, (long long)now_of(x), spool_id);
	free(e.uid);
	e.uid = buf_detach(&uid, NULL);
	free(e.state);
	e.state = xstrdup("pending");
	if (db_event_add(x->db, &e, &id) < 0) {
		rc = -1;
		goto out;
	}
	e.id = id;
	rc = confirm_mail(x, l, &e, updated);
	if (rc == 0)
		log_info("%s: %s event \"%s\" for %s from <%s>: waits for its "
		         "confirmation",
		         spool_id, updated ? "a change to the" : "a new",
		         e.title, l->name, e.organizer);
out:
	event_row_clear(&e);
	event_row_clear(&old);
	buf_free(&why);
	buf_free(&uid);
	return rc;
}

/* The coordinator confirmed pending row id: the event goes live (or the
 * change is applied) and the members are invited (or told). */
static int
request_confirmed(const struct event_ctx *x, const char *spool_id,
                  const struct list_conf *l, const char *tok)
{
	struct event_row p, old;
	long long id;
	time_t exp;
	char *mark;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	memset(&old, 0, sizeof(old));
	if (token_parse(tok, &id, &exp) < 0 || exp < now_of(x) ||
	    db_event_get(x->db, id, &p) != 0 ||
	    strcmp(p.state, "pending") != 0 || strcmp(p.list, l->name) != 0 ||
	    !token_verify(x->key, tok, PURPOSE_NEW, l->name, p.organizer)) {
		log_info("%s: an event confirmation with an unknown, used or "
		         "expired token: nothing done",
		         spool_id);
		goto out;
	}
	mark = strstr(p.uid, PENDING_MARK);
	if (!mark || strlen(p.uid) < 4)
		goto out;
	*mark = '\0';
	if (strncmp(p.uid, "upd:", 4) == 0) {
		/* a change: onto the event, a higher SEQUENCE, told again */
		if (db_event_by_uid(x->db, p.uid + 4, &old) != 0) {
			log_info("%s: the event to change is gone", spool_id);
			goto out;
		}
		free(old.title);
		old.title = xstrdup(p.title);
		free(old.place);
		old.place = xstrdup(p.place);
		free(old.description);
		old.description = xstrdup(p.description);
		free(old.rrule);
		old.rrule = xstrdup(p.rrule);
		old.dtstart = p.dtstart;
		old.dtend = p.dtend;
		if (p.capacity)
			old.capacity = p.capacity;
		if (p.deadline)
			old.deadline = p.deadline;
		*mark = '#';
		free(p.state);
		p.state = xstrdup("used");
		if (db_event_save(x->db, &p) < 0 || event_update(x, &old) < 0)
			rc = -1;
		else
			log_info("%s: event %lld of %s changed by its "
			         "coordinator; the invited are told",
			         spool_id, old.id, l->name);
		goto out;
	}
	/* new: the calendar's UID if it has one nobody uses, else ours */
	{
		struct buf uid = BUF_INIT;
		struct event_row same;

		memset(&same, 0, sizeof(same));
		if (p.uid[4] && db_event_by_uid(x->db, p.uid + 4, &same) == 1) {
			buf_adds(&uid, p.uid + 4);
		} else {
			unsigned char rnd[10];
			size_t i;

			randombytes_buf(rnd, sizeof(rnd));
			buf_adds(&uid, "mlmd-");
			for (i = 0; i < sizeof(rnd); i++)
				buf_printf(&uid, "%02x", rnd[i]);
			buf_printf(&uid, "@%s", x->c->domain);
		}
		event_row_clear(&same);
		free(p.uid);
		p.uid = buf_detach(&uid, NULL);
	}
	free(p.state);
	p.state = xstrdup("active");
	if (db_event_save(x->db, &p) < 0 ||
	    db_log_event(x->db, l->name, "event", NULL, 1) < 0 ||
	    event_invite(x, p.id, NULL) < 0)
		rc = -1;
	else
		log_info("%s: event %lld of %s confirmed by its coordinator; "
		         "the members are invited",
		         spool_id, p.id, l->name);
out:
	event_row_clear(&p);
	event_row_clear(&old);
	return rc;
}

/* The occurrence of e that ended last before now (0 for a single
 * event). */
static time_t
last_occurrence(const struct event_row *e, time_t now)
{
	struct itip_event ev;
	time_t occ[64], best = 0, len = e->dtend - e->dtstart;
	size_t n, i;

	if (!*e->rrule)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.start = e->dtstart;
	ev.end = e->dtend;
	strlcpy_(ev.rrule, e->rrule, sizeof(ev.rrule));
	strlcpy_(ev.tzid, e->tz, sizeof(ev.tzid));
	n = itip_occurrences(&ev, now - 120 * 86400, occ, 64);
	for (i = 0; i < n; i++)
		if (occ[i] + len <= now)
			best = occ[i];
	return best;
}

/*
 * An owner's reply to the summary after the event: the addresses in it
 * (any words with an '@', one or more a line) attended.  1 if tok was
 * such a token, 0 if not, -1.
 */
static int
attendance(const struct event_ctx *x, const char *spool_id,
           const struct list_conf *l, const char *tok, const struct msg *msg)
{
	struct event_row e;
	long long id;
	time_t exp, occ;
	size_t i, n;
	const char *t, *p, *end;
	long marked = 0, unknown = 0;
	int ok = 0;

	if (token_parse(tok, &id, &exp) < 0 || exp < now_of(x) ||
	    db_event_get(x->db, id, &e) != 0)
		return 0;
	for (i = 0; i < l->n_owners && !ok; i++)
		ok = strcmp(e.list, l->name) == 0 &&
		     token_verify(x->key, tok, PURPOSE_ATTEND, l->name,
		                  l->owners[i]);
	if (!ok) {
		event_row_clear(&e);
		return 0;
	}
	occ = last_occurrence(&e, now_of(x));
	t = plain_text(msg, &n);
	for (p = t, end = t + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *w = p;

		if (*p == '>') { /* the quoted summary */
			p = nl ? nl + 1 : end;
			continue;
		}
		while (w < le) {
			const char *we;
			char word[ADDR_MAX + 1], a[ADDR_MAX + 1];
			struct rsvp_row r;

			while (w < le && strchr(" \t,;<>\r", *w))
				w++;
			for (we = w; we < le && !strchr(" \t,;<>\r", *we); we++)
				;
			if (we > w && memchr(w, '@', (size_t)(we - w)) &&
			    (size_t)(we - w) <= ADDR_MAX) {
				snprintf(word, sizeof(word), "%.*s",
				         (int)(we - w), w);
				if (addr_normalise(word, a, sizeof(a)) == 0 &&
				    db_rsvp_find(x->db, e.id, occ, a, &r) == 0) {
					r.attended = 1;
					if (db_rsvp_set(x->db, &r) < 0) {
						event_row_clear(&e);
						return -1;
					}
					marked++;
				} else {
					unknown++;
				}
			}
			w = we;
		}
		p = nl ? nl + 1 : end;
	}
	if (marked)
		db_log_event(x->db, l->name, "attended", NULL, marked);
	log_info("%s: event %lld: %ld attended (from the owner's reply), %ld "
	         "addresses not invited",
	         spool_id, e.id, marked, unknown);
	event_row_clear(&e);
	return 1;
}

int
event_request_mail(const struct event_ctx *x, const char *spool_id,
                   const char *sender, const struct msg *msg,
                   const struct route *rt)
{
	struct sub_ctx sc = {x->c, x->db, x->tmpl, x->key, NULL};
	char why[256];

	if (*rt->arg) {
		int a = attendance(x, spool_id, rt->list, rt->arg, msg);

		if (a != 0)
			return a < 0 ? -1 : 0;
		return request_confirmed(x, spool_id, rt->list, rt->arg);
	}
	if (sub_ignored(&sc, rt->list, msg, sender, msg->from.addr, why)) {
		log_info("%s: event request not read: %s", spool_id, why);
		return 0;
	}
	if (!event_coordinator(rt->list, msg->from.addr)) {
		log_info("%s: an event for %s from <%s>, who is no owner or "
		         "moderator: not read",
		         spool_id, rt->list->name, msg->from.addr);
		return 0;
	}
	return request_new(x, spool_id, rt->list, msg);
}

int
event_update(const struct event_ctx *x, struct event_row *e)
{
	int own = !db_in_transaction(x->db), rc = -1;

	if (own && db_begin(x->db) < 0)
		return -1;
	e->sequence++;
	if (db_event_save(x->db, e) == 0 && event_invite(x, e->id, NULL) >= 0)
		rc = 0;
	if (own) {
		if (rc == 0 && db_commit(x->db) < 0)
			rc = -1;
		if (rc < 0)
			db_rollback(x->db);
	}
	return rc;
}
