/*
 * event_test.c - events under a simulated clock (issue 8): a dinner for
 * 20 with 30 members invited; answers counted against the capacity,
 * the waitlist first come first served, seats freed by a no, a maybe or
 * fewer guests going to the first who fits; answers after the deadline
 * refused; reminders 7 days and 1 day before, once each, to those who
 * said yes and the waitlist only; the coordinators' summaries at the
 * deadline and after the event, once; a forged or foreign token finds
 * nothing; the report's counts; a cancellation.  A real SQLite file,
 * the mails in HOME/out, read back for their contents.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "event.h"
#include "addr.h"
#include "log.h"
#include "msg.h"
#include "tap.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

static sqlite3 *peek;

static long
q1(const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	sqlite3_stmt *s;
	long v = -1;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(peek, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static time_t
utc(int y, int mo, int d, int h)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	return timegm(&tm);
}

static const char conf_text[] =
    "domain = \"lists.test\"\n"
    "home = \"%s\"\n"
    "relay = \"maildir:%s/md\"\n"
    "lmtp = \"unix:%s/s\"\n"
    "templates = \"%s/templates\"\n"
    "http = \"127.0.0.1:1\"\n"
    "base_url = \"https://lists.test\"\n"
    "list denmark { language = \"da\"  timezone = \"Europe/Copenhagen\"\n"
    "  owners = { \"mette@x.test\" } }\n"
    "list sweden { language = \"sv\" }\n";


/* The Reply-To address of the newest queued mail to who whose path
 * matches like, or "". */
static void
reply_to_of(const char *home, const char *who, const char *like, char *out,
            size_t n)
{
	sqlite3_stmt *st;
	char sql[512];

	*out = '\0';
	snprintf(sql, sizeof(sql),
	         "SELECT path FROM outbound WHERE recipient = '%s' AND path "
	         "LIKE '%s' ORDER BY id DESC LIMIT 1",
	         who, like);
	if (sqlite3_prepare_v2(peek, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		struct buf f = BUF_INIT, body = BUF_INIT;
		const char *p, *e;

		buf_printf(&f, "%s/%s", home,
		           (const char *)sqlite3_column_text(st, 0));
		if (read_file(buf_str(&f), &body) == 0 &&
		    (p = strstr(buf_str(&body), "\nReply-To: <")) &&
		    (e = strchr(p + 12, '>')))
			snprintf(out, n, "%.*s", (int)(e - p - 12), p + 12);
		buf_free(&f);
		buf_free(&body);
	}
	sqlite3_finalize(st);
}

/* Feed raw (a whole mail) to the handler of address to, as the daemon
 * does for LIST+rsvp-TOKEN@ and LIST+event-TOKEN@. */
static int
deliver(struct event_ctx *x, const char *to, const char *raw)
{
	struct route rt;
	struct msg *m = NULL;
	struct buf why = BUF_INIT;
	int rc = -1;

	if (addr_route(x->c, to, &rt) < 0 ||
	    msg_parse(raw, strlen(raw), &msg_default_limits, &m, &why) < 0)
		goto out;
	rc = rt.role == ROLE_RSVP
	         ? event_rsvp_mail(x, "test", m->from.addr, m, &rt)
	         : event_request_mail(x, "test", m->from.addr, m, &rt);
out:
	msg_free(m);
	buf_free(&why);
	return rc;
}

static long long
rsvp_of(long long ev, const char *who)
{
	return q1("SELECT id FROM rsvps WHERE event = %lld AND address = '%s'",
	          ev, who);
}

int
main(void)
{
	struct buf text = BUF_INIT, err = BUF_INIT, p = BUF_INIT;
	const char *top = getenv("top_srcdir");
	char home[256], who[64];
	struct conf *conf;
	struct db *db;
	struct tmpl_set *tmpl;
	struct token_key key;
	struct event_ctx x;
	struct event_row e;
	struct rsvp_counts cn;
	enum event_outcome o;
	long long id;
	int i;
	time_t t0 = utc(2026, 12, 1, 9);

	log_open("event_test", 1, L_ERROR);
	if (!top)
		top = "..";
	snprintf(home, sizeof(home), "%s/event_test.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(home)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	buf_printf(&text, conf_text, home, home, home, top);
	conf = conf_parse("event_test.conf", buf_str(&text), &err);
	buf_reset(&p);
	buf_printf(&p, "%s/templates", top);
	tmpl = tmpl_set_load(buf_str(&p), &err);
	buf_reset(&p);
	buf_printf(&p, "%s/mlmd.db", home);
	db = conf && tmpl ? db_open(buf_str(&p)) : NULL;
	if (!db || token_key_load(db, &key) < 0 ||
	    sqlite3_open_v2(buf_str(&p), &peek, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK) {
		printf("Bail out! set-up: %s\n", buf_str(&err));
		return 1;
	}
	for (i = 0; i < 30; i++) {
		snprintf(who, sizeof(who), "m%02d@x.test", i);
		db_member_add(db, "denmark", who, "", i == 29 ? "en" : "",
		              "test");
	}
	db_member_update(db, "denmark", "m28@x.test", -1, NULL, 1, NULL);
	memset(&x, 0, sizeof(x));
	x.c = conf;
	x.db = db;
	x.tmpl = tmpl;
	x.key = &key;
	x.now = t0;
	db_set_now(db, t0);

	memset(&e, 0, sizeof(e));
	e.list = xstrdup("denmark");
	e.title = xstrdup("Netværksmiddag i København");
	e.place = xstrdup("Café Nørrebro");
	e.description = xstrdup("");
	e.question = xstrdup("");
	e.rrule = xstrdup("");
	e.tz = xstrdup("Europe/Copenhagen");
	e.organizer = xstrdup("");
	e.dtstart = utc(2026, 12, 17, 17);
	e.dtend = utc(2026, 12, 17, 20);
	e.deadline = utc(2026, 12, 15, 12);
	e.capacity = 20;
	ok(event_create(&x, &e, &id) == 0 && id > 0, "an event is created");
	is_int(event_invite(&x, id, NULL), 29,
	       "29 invitations (the member on nomail gets none)");
	is_int(q1("SELECT count(*) FROM outbound WHERE kind = 'event'"), 29,
	       "queued, one per member");
	{
		struct buf f = BUF_INIT, body = BUF_INIT;
		sqlite3_stmt *st;

		/* the file the queue row names */
		if (sqlite3_prepare_v2(peek, "SELECT path FROM outbound WHERE "
		                             "recipient = 'm01@x.test' AND "
		                             "kind = 'event'",
		                       -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			buf_printf(&f, "%s/%s", home,
			           (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		ok(read_file(buf_str(&f), &body) == 0, "the invitation file");
		ok(strstr(buf_str(&body), "Content-Type: text/calendar") &&
		       strstr(buf_str(&body), "method=REQUEST"),
		   "with an inline text/calendar REQUEST");
		ok(strstr(buf_str(&body), "multipart/alternative") != NULL,
		   "as an alternative to the text and HTML");
		ok(strstr(buf_str(&body), "Reply-To: <denmark+rsvp-") != NULL,
		   "a reply goes to the member's own rsvp address");
		ok(strstr(buf_str(&body), "Content-Language: da") != NULL,
		   "in the list's language (Danish)");
		buf_free(&f);
		buf_free(&body);
	}

	/* 25 say yes: 20 seats, then the waitlist in order */
	for (i = 0; i < 25; i++) {
		snprintf(who, sizeof(who), "m%02d@x.test", i);
		x.now = t0 + 3600 + i * 60;
		if (event_answer(&x, rsvp_of(id, who), EVENT_YES, 0, 0, &o) <
		    0)
			ok(0, "answer %d", i);
	}
	db_rsvp_counts(db, id, 0, &cn);
	is_int(cn.yes, 20, "20 seats taken");
	is_int(cn.waitlist, 5, "5 on the waitlist");
	is_int(q1("SELECT waitlist FROM rsvps WHERE address = 'm20@x.test'"), 1,
	       "the 21st is first on the waitlist");
	/* m05 declines: m20 moves up */
	event_answer(&x, rsvp_of(id, "m05@x.test"), EVENT_NO, 0, 0, &o);
	is_int(o, OUT_DECLINED, "a no");
	is_int(q1("SELECT coalesce(waitlist, 0) FROM rsvps WHERE address = "
	          "'m20@x.test'"),
	       0, "the first on the waitlist got the seat");
	db_rsvp_counts(db, id, 0, &cn);
	is_int(cn.seats, 20, "still 20 seats, never more");
	/* m21 (waitlisted) asks for a guest: stays waitlisted */
	event_answer(&x, rsvp_of(id, "m21@x.test"), EVENT_YES, 1, 0, &o);
	is_int(o, OUT_WAITLISTED, "a yes +1 while full: still waiting");
	/* m00 switches to maybe: one seat frees; m21 needs two, so m22? No:
	 * first come first served keeps the order: nobody moves */
	event_answer(&x, rsvp_of(id, "m00@x.test"), EVENT_MAYBE, 0, 0, &o);
	is_int(o, OUT_TENTATIVE, "a maybe");
	is_int(q1("SELECT count(*) FROM rsvps WHERE waitlist IS NOT NULL"), 4,
	       "a freed seat the first in line cannot use stays free "
	       "(order kept)");
	/* m01 declines too: two seats, m21 (+1) moves up */
	event_answer(&x, rsvp_of(id, "m01@x.test"), EVENT_NO, 0, 0, &o);
	is_int(q1("SELECT coalesce(waitlist, 0) FROM rsvps WHERE address = "
	          "'m21@x.test'"),
	       0, "two seats: the first in line with a guest moves up");
	db_rsvp_counts(db, id, 0, &cn);
	is_int(cn.seats, 20, "20 seats with the guest");
	is_int(q1("SELECT count(*) FROM outbound WHERE path LIKE "
	          "'%%answer-%%-p.%%'"),
	       2, "the two promoted are told");
	/* an accepted member changes their mind back: latest counts */
	event_answer(&x, rsvp_of(id, "m02@x.test"), EVENT_YES, 0, 0, &o);
	is_int(o, OUT_ACCEPTED, "a second yes keeps the seat");
	db_rsvp_counts(db, id, 0, &cn);
	is_int(cn.seats, 20, "counted once");

	/* reminders: 7 days before, then 1 day before, once each */
	{
		long before = q1("SELECT count(*) FROM outbound WHERE path "
		                 "LIKE '%%remind%%'");

		x.now = utc(2026, 12, 10, 16);
		is_int(event_tick(&x), 0, "nothing 7 days and an hour before");
		x.now = utc(2026, 12, 10, 17);
		ok(event_tick(&x) > 0, "the 7-day reminders");
		is_int(q1("SELECT count(*) FROM outbound WHERE path LIKE "
		          "'%%remind7%%'"),
		       before + 22, "to the 19 with seats and the 3 waiting");
		is_int(q1("SELECT count(*) FROM outbound WHERE path LIKE "
		          "'%%remind7%%' AND recipient = 'm05@x.test'"),
		       0, "not to who declined");
		x.now = utc(2026, 12, 11, 9);
		is_int(event_tick(&x), 0, "not twice");
	}
	/* the deadline */
	x.now = utc(2026, 12, 15, 13);
	ok(event_tick(&x) >= 1, "the summary at the deadline");
	is_int(q1("SELECT count(*) FROM outbound WHERE recipient = "
	          "'mette@x.test' AND path LIKE '%%summary1%%'"),
	       1, "to the owner, once");
	event_answer(&x, rsvp_of(id, "m26@x.test"), EVENT_YES, 0, 0, &o);
	is_int(o, OUT_TOO_LATE, "a yes after the deadline is refused");
	is_int(q1("SELECT count(*) FROM rsvps WHERE address = 'm26@x.test' AND "
	          "partstat = 'needs-action'"),
	       1, "and not recorded");
	x.now = utc(2026, 12, 16, 17);
	ok(event_tick(&x) > 0, "the 1-day reminders");
	is_int(q1("SELECT count(*) FROM outbound WHERE path LIKE '%%remind1%%'"),
	       22, "to the same 22");
	x.now = utc(2026, 12, 16, 18);
	is_int(event_tick(&x), 0, "and once");
	x.now = utc(2026, 12, 17, 21);
	ok(event_tick(&x) >= 1, "the summary after the event");
	is_int(event_tick(&x), 0, "once");

	/* the report */
	{
		struct buf csv = BUF_INIT;

		ok(event_report(&x, id, 1, &csv) == 0, "a report");
		ok(strstr(buf_str(&csv), ",20,29,19,2,1,3,1,0,4\n") != NULL,
		   "capacity 20, invited 29: 19 yes (and 1 guest: 20 seats), "
		   "2 no, 1 maybe, 3 waiting, 0 attended, 4 no answer");
		ok(strstr(buf_str(&csv), "@") == NULL,
		   "the anonymous report names nobody");
		if (!strstr(buf_str(&csv), ",20,29,19,2,1,3,1,0,4\n"))
			diag("%s", buf_str(&csv));
		buf_free(&csv);
	}

	/* tokens: the web page finds only what a real token names */
	{
		struct buf html = BUF_INIT;
		char lang[16];

		x.now = utc(2026, 12, 12, 9);
		is_int(event_web(&x, "1-zzzzzz-aaaaaaaaaaaaaaaaaaaaa", 0, NULL,
		                 NULL, &html, lang),
		       404, "a forged token: 404");
		buf_free(&html);
	}


	/* attendance: the owner replies to the summary after the event */
	{
		char to[400];
		struct buf mail = BUF_INIT;

		x.now = utc(2026, 12, 18, 9);
		reply_to_of(home, "mette@x.test", "%%summary2%%", to, sizeof(to));
		ok(strncmp(to, "denmark+event-", 14) == 0,
		   "the summary after the event has a reply address");
		if (strncmp(to, "denmark+event-", 14) != 0)
			diag("reply-to '%s'; summaries %ld", to,
			     q1("SELECT count(*) FROM outbound WHERE path LIKE "
			        "'%%summary2%%'"));
		buf_printf(&mail, "From: mette@x.test\nTo: %s\nSubject: Re: "
		                  "summary\nMessage-ID: <att@test>\n\n"
		                  "m02@x.test\nm03@x.test, nobody@else.test\n"
		                  "> m04@x.test\n",
		           to);
		ok(deliver(&x, to, buf_str(&mail)) == 0, "the owner's reply");
		is_int(q1("SELECT count(*) FROM rsvps WHERE event = %lld AND "
		          "attended = 1",
		          id),
		       2, "marks the two invited who came (not the quoted one, "
		          "not a stranger)");
		buf_reset(&mail);
		buf_printf(&mail, "From: m07@x.test\nTo: denmark+event-1-zzzz"
		                  "zz-aaaaaaaaaaaaaaaaaaaaa@lists.test\nSubject: "
		                  "x\nMessage-ID: <att2@test>\n\nm07@x.test\n");
		deliver(&x, "denmark+event-1-zzzzzz-aaaaaaaaaaaaaaaaaaaaa@"
		            "lists.test",
		        buf_str(&mail));
		is_int(q1("SELECT attended FROM rsvps WHERE address = "
		          "'m07@x.test' AND event = %lld",
		          id),
		       0, "a forged token marks nobody");
		buf_free(&mail);
	}

	/* a series: answers per date (RECURRENCE-ID), one date cancelled */
	{
		long long id3;
		struct event_row e3;
		char to[400];
		struct buf mail = BUF_INIT;
		time_t first = utc(2027, 1, 14, 17), second = utc(2027, 3, 14, 17);

		memset(&e3, 0, sizeof(e3));
		e3.list = xstrdup("denmark");
		e3.title = xstrdup("Netværksmiddag");
		e3.place = xstrdup("");
		e3.description = xstrdup("");
		e3.question = xstrdup("");
		e3.rrule = xstrdup("FREQ=MONTHLY;INTERVAL=2");
		e3.tz = xstrdup("Europe/Copenhagen");
		e3.organizer = xstrdup("");
		e3.dtstart = first;
		e3.dtend = first + 3 * 3600;
		x.now = utc(2027, 1, 2, 9);
		event_create(&x, &e3, &id3);
		ok(event_invite(&x, id3, NULL) == 29, "a series is invited");
		is_int(q1("SELECT count(DISTINCT occurrence) FROM rsvps WHERE "
		          "event = %lld",
		          id3),
		       1, "for its next date");
		is_int(q1("SELECT occurrence FROM rsvps WHERE event = %lld "
		          "LIMIT 1",
		          id3),
		       first, "the first one");
		reply_to_of(home, "m05@x.test", "%%event-%%", to, sizeof(to));
		buf_printf(&mail,
		           "From: m05@x.test\nTo: %s\nSubject: Accepted\n"
		           "Message-ID: <rid@test>\nMIME-Version: 1.0\n"
		           "Content-Type: text/calendar; method=REPLY\n\n"
		           "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
		           "METHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
		           "RECURRENCE-ID:20270314T170000Z\r\n"
		           "DTSTAMP:20270102T090000Z\r\n"
		           "ATTENDEE;PARTSTAT=ACCEPTED:mailto:m05@x.test\r\n"
		           "END:VEVENT\r\nEND:VCALENDAR\r\n",
		           to, e3.uid);
		ok(deliver(&x, to, buf_str(&mail)) == 0,
		   "a calendar answer for the second date");
		is_int(q1("SELECT count(*) FROM rsvps WHERE event = %lld AND "
		          "occurrence = %ld AND address = 'm05@x.test' AND "
		          "partstat = 'accepted'",
		          id3, (long)second),
		       1, "counts for that date");
		is_int(q1("SELECT count(*) FROM rsvps WHERE event = %lld AND "
		          "occurrence = %ld AND partstat = 'accepted'",
		          id3, (long)first),
		       0, "not for the first");
		ok(event_cancel_occurrence(&x, id3, second) == 0,
		   "the second date is cancelled");
		is_int(q1("SELECT count(*) FROM outbound WHERE path LIKE "
		          "'%%event-%lld-cancel-%%'",
		          id3),
		       1, "a CANCEL to who was invited to that date");
		ok(event_cancel_occurrence(&x, id3, second + 3600) < 0,
		   "a time that is no date of the series: refused");
		is_int(q1("SELECT state FROM events WHERE id = %lld", id3) ==
		           -2 ? 0 : 1,
		       1, "the series stays");
		buf_free(&mail);
		event_row_clear(&e3);
	}

	/* a second event, cancelled */
	{
		long long id2;
		struct event_row e2;

		memset(&e2, 0, sizeof(e2));
		e2.list = xstrdup("denmark");
		e2.title = xstrdup("Mentor day");
		e2.place = xstrdup("");
		e2.description = xstrdup("");
		e2.question = xstrdup("");
		e2.rrule = xstrdup("");
		e2.tz = xstrdup("");
		e2.organizer = xstrdup("");
		e2.dtstart = utc(2026, 12, 20, 9);
		e2.dtend = utc(2026, 12, 20, 12);
		x.now = utc(2026, 12, 12, 9);
		event_create(&x, &e2, &id2);
		event_invite(&x, id2, NULL);
		event_answer(&x, rsvp_of(id2, "m03@x.test"), EVENT_NO, 0, 1,
		             NULL);
		ok(event_cancel(&x, id2) == 0, "an event is cancelled");
		is_int(q1("SELECT count(*) FROM outbound WHERE path LIKE "
		          "'%%event-%lld-cancel-%%'",
		          id2),
		       28, "a CANCEL to everyone invited but who declined");
		event_answer(&x, rsvp_of(id2, "m04@x.test"), EVENT_YES, 0, 1, &o);
		is_int(o, OUT_CANCELLED, "answers to a cancelled event: refused");
		event_row_clear(&e2);
	}

	event_row_clear(&e);
	sqlite3_close(peek);
	db_close(db);
	tmpl_set_free(tmpl);
	conf_free(conf);
	buf_free(&text);
	buf_free(&err);
	buf_free(&p);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
		if (system(cmd) != 0)
			diag("could not remove %s", home);
	}
	return done_testing();
}
