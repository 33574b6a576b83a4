/*
 * report_test.c - the participation report (issue 9) over a scripted
 * community month under a simulated clock (db_set_now()).
 *
 * October 2026: 20 members join denmark (DK), 5 sweden (SE), 6 the news
 * list (posting = announce).  November: on denmark 12 requests to join,
 * 9 confirmations, 3 expired requests, 2 unsubscriptions, 20 posts by 7
 * people in 5 threads, 2 posts held (one approved), 1 rejected, 300
 * copies delivered, 3 bounces, an event with 10 invited: 6 yes (one with
 * 2 guests), 2 no, 1 maybe, 1 silent, 5 attended; one issue of the news
 * list, one reader leaving 3 days after it and one 15 days after.
 * December: one joins denmark and one leaves (after the period: the
 * report works them back out).
 *
 * Checked: every figure of report_build()'s struct; the text, CSV and
 * JSON outputs figure by figure (the JSON parsed by python3); the
 * privacy threshold ("<5" for 1..4, "0", "5"); no '@' in any output;
 * the counts unchanged after a poster is erased (db_person_erase); a
 * TODO: erasing a current member still lowers members_end.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "msg.h"
#include "post.h"
#include "report.h"
#include "tap.h"
#include "util.h"

static char home[256];
static struct conf *conf;
static struct db *db;
static int n_posts;

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

/* One post on list by from at t, a reply to parent ("" for a new
 * thread); its Message-ID in mid (64 bytes). */
static void
post(const char *list, const char *from, time_t t, const char *parent,
     char *mid)
{
	struct buf m = BUF_INIT, why = BUF_INIT, ref = BUF_INIT;
	struct msg *msg = NULL;
	long long row = 0;

	snprintf(mid, 64, "p%d@test", ++n_posts);
	buf_printf(&m, "From: Someone <%s>\nTo: %s@lists.test\n"
	               "Subject: Post %d\nMessage-ID: <%s>\n"
	               "Date: Mon, 2 Nov 2026 10:00:00 +0000\n",
	           from, list, n_posts, mid);
	if (*parent)
		buf_printf(&m, "In-Reply-To: <%s>\nReferences: <%s>\n", parent,
		           parent);
	buf_adds(&m, "MIME-Version: 1.0\n"
	             "Content-Type: text/plain; charset=utf-8\n\nHello.\n");
	if (msg_parse(m.s, m.len, &msg_default_limits, &msg, &why) < 0) {
		ok(0, "parse %s", mid);
		goto out;
	}
	db_set_now(db, t);
	buf_printf(&ref, "%d", n_posts);
	if (db_begin(db) < 0 ||
	    post_archive_msg(db, conf_list(conf, list), msg, mid, "store/x", t,
	                     m.len, &row) != 0 ||
	    db_log_event(db, list, "post", buf_str(&ref), 1) < 0 ||
	    db_commit(db) < 0)
		ok(0, "distributing %s", mid);
out:
	msg_free(msg);
	buf_free(&m);
	buf_free(&why);
	buf_free(&ref);
}

static void
log_at(time_t t, const char *list, const char *kind, const char *ref, long n)
{
	db_set_now(db, t);
	if (db_log_event(db, list, kind, ref, n) < 0)
		ok(0, "logging %s", kind);
}

static void
join(time_t t, const char *list, const char *addr, const char *lang)
{
	db_set_now(db, t);
	if (db_member_add(db, list, addr, "", lang, "test") != 0)
		ok(0, "adding %s", addr);
}

static void
leave(time_t t, const char *list, const char *addr)
{
	db_set_now(db, t);
	if (db_member_remove(db, list, addr, "test") != 0)
		ok(0, "removing %s", addr);
}

static const struct report_list *
find(const struct report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_lists; i++)
		if (strcmp(r->lists[i].name, name) == 0)
			return &r->lists[i];
	return NULL;
}

static long
lang_n(const struct report_list *l, const char *lang)
{
	size_t i;

	for (i = 0; i < l->n_langs; i++)
		if (strcmp(l->langs[i].lang, lang) == 0)
			return l->langs[i].n;
	return -1;
}

/* Run python3 on the JSON in j with a check expression over `r`; 1 if
 * it holds. */
static int
json_check(const char *j, const char *expr)
{
	char path[300];
	struct buf cmd = BUF_INIT;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/report.json", home);
	if (!(f = fopen(path, "w")))
		return 0;
	fputs(j, f);
	fclose(f);
	buf_printf(&cmd,
	           "python3 -c 'import json,sys; r=json.load(open(sys.argv[1]));"
	           " sys.exit(0 if (%s) else 1)' '%s'",
	           expr, path);
	rc = system(buf_str(&cmd));
	buf_free(&cmd);
	return rc == 0;
}

/* The value after label on its line of text t ("" if not found). */
static const char *
text_value(const char *t, const char *heading, const char *label,
           char *out, size_t n)
{
	const char *p = strstr(t, heading), *e;
	size_t k;

	out[0] = '\0';
	if (!p || !(p = strstr(p, label)))
		return out;
	p += strlen(label);
	while (*p == ' ')
		p++;
	e = strchr(p, '\n');
	k = e ? (size_t)(e - p) : strlen(p);
	if (k >= n)
		k = n - 1;
	memcpy(out, p, k);
	out[k] = '\0';
	return out;
}

static const char conf_text[] =
    "domain = \"lists.test\"\n"
    "home = \"%s\"\n"
    "relay = \"maildir:%s/md\"\n"
    "lmtp = \"unix:%s/s\"\n"
    "templates = \"%s/templates\"\n"
    "http = \"\"\n"
    "list denmark { country = \"DK\"  language = \"da\" }\n"
    "list sweden { country = \"SE\"  language = \"sv\" }\n"
    "list news { posting = announce }\n";

/* The figures of the scripted month (denmark). */
static void
check_denmark(const struct report_list *l, const char *when)
{
	is_int(l->sub_requests, 12, "%s: 12 requests to join", when);
	is_int(l->confirmations, 9, "%s: 9 confirmations", when);
	is_int(l->expired, 3, "%s: 3 expired requests", when);
	is_int(l->unsubscriptions, 2, "%s: 2 unsubscriptions", when);
	is_int(l->members_start, 20, "%s: 20 members on 1 November", when);
	is_int(l->members_end, 27, "%s: 27 members on 1 December (the "
	                           "December changes worked back)", when);
	is_int(l->posts, 20, "%s: 20 posts", when);
	is_int(l->posters, 7, "%s: 7 posters", when);
	is_int(l->threads, 5, "%s: 5 threads", when);
	ok(l->replies_per_thread > 2.99 && l->replies_per_thread < 3.01,
	   "%s: 3 replies per thread", when);
	is_int(l->held, 2, "%s: 2 held", when);
	is_int(l->rejected, 1, "%s: 1 rejected", when);
	is_int(l->delivered, 300, "%s: 300 copies delivered", when);
	is_int(l->bounces, 3, "%s: 3 bounces", when);
	is_int(l->events, 1, "%s: 1 event", when);
	is_int(l->invitations, 10, "%s: 10 invitations", when);
	is_int(l->newsletter, 0, "%s: not a newsletter", when);
}

int
main(void)
{
	struct buf text = BUF_INIT, err = BUF_INIT, p = BUF_INIT;
	struct buf out = BUF_INIT;
	const char *top = getenv("top_srcdir");
	const time_t from = utc(2026, 11, 1, 0), to = utc(2026, 12, 1, 0);
	struct report r;
	const struct report_list *dk, *se, *nw;
	struct event_row ev;
	long long eid;
	char a[64], mids[20][64], v[64];
	int i;

	log_open("report_test", 1, L_ERROR);
	if (!top)
		top = "..";
	snprintf(home, sizeof(home), "%s/report_test.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(home)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	buf_printf(&text, conf_text, home, home, home, top);
	conf = conf_parse("report_test.conf", buf_str(&text), &err);
	if (!conf) {
		printf("Bail out! conf: %s\n", buf_str(&err));
		return 1;
	}
	buf_printf(&p, "%s/mlmd.db", home);
	if (!(db = db_open(buf_str(&p)))) {
		printf("Bail out! db_open\n");
		return 1;
	}

	/* October: the lists fill; m1..m20 on denmark, m1..m4 in English,
	 * m5..m7 take digests, m8 and m9 no mail; p1..p7 are m10..m16 */
	for (i = 1; i <= 20; i++) {
		snprintf(a, sizeof(a), "m%d@example.org", i);
		join(utc(2026, 10, 10, 9) + i, "denmark", a, i <= 4 ? "en" : "");
	}
	for (i = 5; i <= 7; i++) {
		snprintf(a, sizeof(a), "m%d@example.org", i);
		db_member_update(db, "denmark", a, 1, NULL, -1, NULL);
	}
	for (i = 8; i <= 9; i++) {
		snprintf(a, sizeof(a), "m%d@example.org", i);
		db_member_update(db, "denmark", a, -1, NULL, 1, NULL);
	}
	for (i = 1; i <= 5; i++) {
		snprintf(a, sizeof(a), "s%d@example.se", i);
		join(utc(2026, 10, 11, 9) + i, "sweden", a, "");
	}
	for (i = 1; i <= 6; i++) {
		snprintf(a, sizeof(a), "n%d@example.net", i);
		join(utc(2026, 10, 12, 9) + i, "news", a, "");
	}
	log_at(utc(2026, 10, 20, 9), "denmark", "post", "", 1); /* before */

	/* November on denmark */
	for (i = 0; i < 12; i++)
		log_at(utc(2026, 11, 2, 8) + i, "denmark", "sub_request", NULL, 1);
	for (i = 1; i <= 9; i++) {
		snprintf(a, sizeof(a), "new%d@example.org", i);
		join(utc(2026, 11, 3, 8) + i, "denmark", a, "");
	}
	log_at(utc(2026, 11, 6, 0), "denmark", "sub_expired", "", 3);
	/* 20 posts, 5 threads (roots by p1..p5), p7 (m16) posts once */
	for (i = 0; i < 20; i++) {
		const char *who[] = {"m10@example.org", "m11@example.org",
		                     "m12@example.org", "m13@example.org",
		                     "m14@example.org", "m15@example.org"};

		if (i < 5)
			post("denmark", who[i], utc(2026, 11, 4, 10) + i, "",
			     mids[i]);
		else if (i == 5)
			post("denmark", "M16@Example.org",
			     utc(2026, 11, 4, 12), mids[0], mids[i]);
		else
			post("denmark", who[i % 6], utc(2026, 11, 5, 10) + i,
			     mids[i % 5], mids[i]);
	}
	leave(utc(2026, 11, 10, 9), "denmark", "m16@example.org");
	leave(utc(2026, 11, 11, 9), "denmark", "m20@example.org");
	log_at(utc(2026, 11, 6, 1), "denmark", "held", NULL, 1);
	log_at(utc(2026, 11, 6, 2), "denmark", "held", NULL, 1);
	log_at(utc(2026, 11, 6, 3), "denmark", "moderated", "approved", 1);
	log_at(utc(2026, 11, 6, 4), "denmark", "rejected", NULL, 1);
	for (i = 0; i < 3; i++) {
		log_at(utc(2026, 11, 7, 1) + i, "denmark", "delivered", NULL,
		       100);
		log_at(utc(2026, 11, 7, 2) + i, "denmark", "bounce", "hard", 1);
	}
	/* the event: 10 invited, 6 yes (one with 2 guests), 2 no, 1
	 * maybe, 1 silent; 5 came */
	memset(&ev, 0, sizeof(ev));
	ev.uid = "ev1@lists.test";
	ev.list = "denmark";
	ev.title = "Dinner in Aarhus";
	ev.description = ev.place = ev.tz = ev.rrule = ev.question = "";
	ev.organizer = ev.state = "";
	ev.dtstart = utc(2026, 11, 20, 18);
	ev.dtend = utc(2026, 11, 20, 21);
	db_set_now(db, utc(2026, 11, 8, 9));
	if (db_event_add(db, &ev, &eid) < 0)
		ok(0, "adding the event");
	log_at(utc(2026, 11, 8, 9), "denmark", "invitation", NULL, 10);
	for (i = 1; i <= 10; i++) {
		struct rsvp_row rr;
		long long rid;

		snprintf(a, sizeof(a), "m%d@example.org", i);
		if (db_rsvp_invite(db, eid, 0, a, &rid) != 0 ||
		    db_rsvp_get(db, rid, &rr) != 0) {
			ok(0, "inviting %s", a);
			continue;
		}
		strlcpy_(rr.partstat,
		         i <= 6 ? "accepted"
		         : i <= 8 ? "declined"
		         : i == 9 ? "tentative" : "needs-action",
		         sizeof(rr.partstat));
		rr.guests = i == 1 ? 2 : 0;
		rr.attended = i <= 5;
		rr.answered = utc(2026, 11, 9, 9);
		db_rsvp_set(db, &rr);
	}
	/* an event in December is not in the period */
	ev.uid = "ev2@lists.test";
	ev.dtstart = utc(2026, 12, 20, 18);
	ev.dtend = utc(2026, 12, 20, 21);
	db_event_add(db, &ev, &eid);

	/* the newsletter: one issue on 5 November, a reader leaving 3 days
	 * after (counted) and one 15 days after (not) */
	log_at(utc(2026, 11, 5, 9), "news", "post", "", 1);
	log_at(utc(2026, 11, 5, 10), "news", "delivered", NULL, 6);
	log_at(utc(2026, 11, 5, 11), "news", "bounce", "hard", 1);
	leave(utc(2026, 11, 8, 9), "news", "n1@example.net");
	leave(utc(2026, 11, 20, 9), "news", "n2@example.net");

	/* December: one joins, one leaves */
	join(utc(2026, 12, 2, 9), "denmark", "dec@example.org", "");
	leave(utc(2026, 12, 3, 9), "denmark", "m19@example.org");
	db_set_now(db, utc(2026, 12, 5, 0));

	/* ----- the figures ----- */
	ok(report_build(conf, db, NULL, from, to, 5, &r) == 0, "report_build");
	is_int(r.n_lists, 3, "three lists");
	dk = find(&r, "denmark");
	se = find(&r, "sweden");
	nw = find(&r, "news");
	if (!dk || !se || !nw) {
		printf("Bail out! lists missing\n");
		return 1;
	}
	check_denmark(dk, "denmark");
	is_str(dk->country, "DK", "denmark's country");
	is_int(dk->digest_members, 3, "3 digest members");
	is_int(dk->nomail_members, 2, "2 nomail members");
	is_int(lang_n(dk, "da"), 23, "23 members in the list's language (da)");
	is_int(lang_n(dk, "en"), 4, "4 in English");
	is_int(dk->n_langs, 2, "two languages");
	is_int(se->members_start, 5, "sweden: 5 members");
	is_int(se->members_end, 5, "sweden: 5 at the end");
	is_int(se->posts, 0, "sweden: no posts");
	is_int(lang_n(se, "sv"), 5, "sweden: all in Swedish");
	is_int(nw->newsletter, 1, "news is a newsletter");
	is_int(nw->reach_delivered, 6, "news: 6 copies delivered");
	is_int(nw->reach_bounced, 1, "news: 1 bounce");
	is_int(nw->reach_left, 1, "news: 1 left within 7 days of an issue");
	is_int(nw->unsubscriptions, 2, "news: 2 unsubscriptions in all");
	is_int(nw->members_start, 6, "news: 6 at the start");
	is_int(nw->members_end, 4, "news: 4 at the end");
	is_str(r.countries.name, "countries", "the countries' name");
	is_int(r.countries.members_end, 32, "countries: 27 + 5 members");
	is_int(r.countries.posts, 20, "countries: 20 posts");
	is_int(r.countries.newsletter, 0, "countries: no newsletter in them");
	is_int(lang_n(&r.countries, "da"), 23, "countries: 23 da");
	is_int(lang_n(&r.countries, "sv"), 5, "countries: 5 sv");
	is_int(r.n_events, 1, "one event in November");
	if (r.n_events == 1) {
		const struct report_event *e = &r.events[0];

		is_str(e->title, "Dinner in Aarhus", "its title");
		is_str(e->list, "denmark", "its list");
		is_int(e->start, utc(2026, 11, 20, 18), "its start");
		is_int(e->invited, 10, "10 invited");
		is_int(e->yes, 6, "6 yes");
		is_int(e->no, 2, "2 no");
		is_int(e->maybe, 1, "1 maybe");
		is_int(e->waitlist, 0, "none waiting");
		is_int(e->guests, 2, "2 guests");
		is_int(e->attended, 5, "5 attended");
	}
	is_int(r.n_months, 3, "one month for each of three lists");
	if (r.n_months == 3) {
		is_str(r.months[0].month, "2026-11", "the month");
		is_str(r.months[0].list, "denmark", "months by list name");
		is_int(r.months[0].members, 27, "denmark: 27 at November's end");
		is_int(r.months[0].posts, 20, "denmark: 20 posts in November");
	}

	/* ----- text ----- */
	ok(report_text(conf, &r, "en", &out) == 0, "report_text");
	{
		const char *t = buf_str(&out);
		static const struct {
			const char *label, *want;
		} rows[] = {
		    {"Subscription requests", "12"},
		    {"Confirmations (joined)", "9"},
		    {"Unconfirmed requests (expired)", "<5"},
		    {"Unsubscriptions", "<5"},
		    {"Members at the start", "20"},
		    {"Members at the end", "27"},
		    {"Digest members", "<5"},
		    {"Members without mail (nomail)", "<5"},
		    {"Posts", "20"},
		    {"Distinct posters", "7"},
		    {"Threads", "5"},
		    {"Replies per thread", "3.0"},
		    {"Posts held for moderation", "<5"},
		    {"Posts rejected", "<5"},
		    {"Copies delivered", "300"},
		    {"Bounces", "<5"},
		    {"Invitations sent", "10"},
		    {"Members by language", "da 23, en <5"},
		};
		size_t k;

		for (k = 0; k < ARRAY_SIZE(rows); k++)
			is_str(text_value(t, "List: denmark (DK)", rows[k].label,
			                  v, sizeof(v)),
			       rows[k].want, "text: %s", rows[k].label);
		is_str(text_value(t, "List: sweden (SE)", "Posts", v,
		                  sizeof(v)),
		       "0", "text: 0 shows as 0");
		is_str(text_value(t, "List: sweden (SE)", "Members at the end",
		                  v, sizeof(v)),
		       "5", "text: 5 shows as 5");
		is_str(text_value(t, "List: news", "Newsletter copies delivered",
		                  v, sizeof(v)),
		       "6", "text: the newsletter's reach");
		is_str(text_value(t, "All country lists", "Members at the end",
		                  v, sizeof(v)),
		       "32", "text: the countries' block");
		ok(strstr(t, "Period: 2026-11-01 to 2026-11-30") != NULL,
		   "text: the period, last day included");
		ok(strstr(t, "Dinner in Aarhus") != NULL, "text: the event");
		is_str(text_value(t, "Dinner in Aarhus", "2026-11-20", v,
		                  sizeof(v)),
		       "10       6      <5      <5         0      <5         5",
		       "text: the event's row");
		ok(!strchr(t, '@'), "text: no '@'");
		if (tap_failed)
			diag("%s", t);
	}
	buf_reset(&out);
	ok(report_text(conf, &r, "da", &out) == 0 &&
	       strstr(buf_str(&out), "denmark") != NULL,
	   "report_text in Danish (falls back to English words)");

	/* ----- CSV ----- */
	buf_reset(&out);
	ok(report_csv(&r, &out) == 0, "report_csv");
	ok(strncmp(buf_str(&out),
	           "list,country,sub_requests,confirmations,expired,"
	           "unsubscriptions,members_start,members_end,digest_members,"
	           "nomail_members,posts,posters,threads,replies_per_thread,"
	           "held,rejected,delivered,bounces,events,invitations,"
	           "reach_delivered,reach_bounced,reach_left,languages\r\n",
	           strlen("list,country,sub_requests,confirmations,expired,"
	                  "unsubscriptions,members_start,members_end,"
	                  "digest_members,nomail_members,posts,posters,"
	                  "threads,replies_per_thread,held,rejected,delivered,"
	                  "bounces,events,invitations,reach_delivered,"
	                  "reach_bounced,reach_left,languages\r\n")) == 0,
	   "csv: the header line");
	ok(strstr(buf_str(&out),
	          "\r\ndenmark,DK,12,9,<5,<5,20,27,<5,<5,20,7,5,3.0,<5,<5,300,"
	          "<5,<5,10,,,,da:23;en:<5\r\n") != NULL,
	   "csv: denmark's line");
	ok(strstr(buf_str(&out), "\r\nnews,,0,0,0,<5,6,<5,0,0,<5,0,0,0.0,0,"
	                         "0,6,<5,0,0,6,<5,<5,en:<5\r\n") != NULL,
	   "csv: the newsletter's line");
	ok(strstr(buf_str(&out), "\r\ncountries,,12,9,<5,<5,25,32,") != NULL,
	   "csv: the countries' line");
	ok(strstr(buf_str(&out), "\r\n\r\nevent,list,title,date,invited,yes,no,"
	                         "maybe,waitlist,guests,attended\r\n") != NULL,
	   "csv: a blank line, then the events' header");
	ok(strstr(buf_str(&out), ",denmark,Dinner in Aarhus,2026-11-20,10,6,"
	                         "<5,<5,0,<5,5\r\n") != NULL,
	   "csv: the event's line");
	ok(!strchr(buf_str(&out), '@'), "csv: no '@'");
	if (tap_failed)
		diag("%s", buf_str(&out));

	/* ----- JSON ----- */
	buf_reset(&out);
	ok(report_json(&r, &out) == 0, "report_json");
	ok(json_check(buf_str(&out), "r[\"from\"]==\"2026-11-01\" and "
	                             "r[\"to\"]==\"2026-11-30\" and "
	                             "r[\"threshold\"]==5"),
	   "json: valid, with the period and the threshold");
	ok(json_check(buf_str(&out),
	              "[l for l in r[\"lists\"] if l[\"name\"]==\"denmark\"]"
	              "[0]==dict(name=\"denmark\",country=\"DK\","
	              "sub_requests=12,confirmations=9,expired=\"<5\","
	              "unsubscriptions=\"<5\",members_start=20,members_end=27,"
	              "digest_members=\"<5\",nomail_members=\"<5\",posts=20,"
	              "posters=7,threads=5,replies_per_thread=3.0,"
	              "held=\"<5\",rejected=\"<5\",delivered=300,"
	              "bounces=\"<5\",events=\"<5\",invitations=10,"
	              "newsletter=False,languages=dict(da=23,en=\"<5\"))"),
	   "json: denmark figure by figure");
	ok(json_check(buf_str(&out),
	              "[l for l in r[\"lists\"] if l[\"name\"]==\"news\"][0]"
	              "[\"reach_delivered\"]==6 and [l for l in r[\"lists\"] "
	              "if l[\"name\"]==\"news\"][0][\"reach_left\"]==\"<5\""),
	   "json: the newsletter's reach");
	ok(json_check(buf_str(&out),
	              "r[\"countries\"][\"members_end\"]==32 and "
	              "r[\"countries\"][\"posts\"]==20 and "
	              "r[\"countries\"][\"languages\"]==dict(da=23,en=\"<5\",sv=5)"),
	   "json: the countries");
	ok(json_check(buf_str(&out),
	              "r[\"events\"]==[dict(id=1,list=\"denmark\","
	              "title=\"Dinner in Aarhus\",start=\"2026-11-20T18:00:00Z\","
	              "invited=10,yes=6,no=\"<5\",maybe=\"<5\",waitlist=0,"
	              "guests=\"<5\",attended=5)]"),
	   "json: the event");
	ok(json_check(buf_str(&out),
	              "r[\"months\"][0]==dict(month=\"2026-11\","
	              "list=\"denmark\",members=27,posts=20)"),
	   "json: the months");
	ok(!strchr(buf_str(&out), '@'), "json: no '@'");
	if (tap_failed)
		diag("%s", buf_str(&out));
	report_free(&r);

	/* the threshold: replies per thread over fewer threads is hidden;
	 * report_count's three cases */
	ok(report_build(conf, db, "denmark", from, to, 6, &r) == 0,
	   "report_build of one list, threshold 6");
	is_int(r.n_lists, 1, "one list");
	buf_reset(&out);
	report_json(&r, &out);
	ok(json_check(buf_str(&out),
	              "r[\"lists\"][0][\"replies_per_thread\"]==\"<6\" and "
	              "r[\"lists\"][0][\"threads\"]==\"<6\""),
	   "json: a ratio over fewer threads than the threshold is hidden");
	buf_reset(&out);
	report_count(&r, 0, &out);
	is_str(buf_str(&out), "0", "report_count: 0");
	buf_reset(&out);
	report_count(&r, 3, &out);
	is_str(buf_str(&out), "<6", "report_count: 3 below 6");
	buf_reset(&out);
	report_count(&r, 6, &out);
	is_str(buf_str(&out), "6", "report_count: 6");
	report_free(&r);

	/* two months: October and November */
	ok(report_build(conf, db, "denmark", utc(2026, 10, 1, 0), to, 5,
	                &r) == 0,
	   "report_build over October and November");
	is_int(r.n_months, 2, "two months");
	if (r.n_months == 2) {
		is_str(r.months[0].month, "2026-10", "October first");
		is_int(r.months[0].members, 20, "20 members at October's end");
		is_int(r.months[0].posts, 1, "1 post in October");
		is_int(r.months[1].members, 27, "27 at November's end");
	}
	is_int(r.lists[0].members_start, 0, "nobody on 1 October");
	report_free(&r);
	ok(report_build(conf, db, "nosuch", from, to, 5, &r) < 0,
	   "an unknown list is an error");
	report_free(&r);
	ok(report_build(conf, db, NULL, to, from, 5, &r) < 0,
	   "an empty period is an error");
	report_free(&r);

	/* erasure: p7 (m16, one post, left in November) goes; the counts
	 * stay */
	ok(db_person_erase(db, "m16@example.org") > 0, "erasing a poster");
	ok(report_build(conf, db, NULL, from, to, 5, &r) == 0,
	   "report_build after the erasure");
	if ((dk = find(&r, "denmark")) != NULL)
		check_denmark(dk, "after erasure");
	buf_reset(&out);
	report_text(conf, &r, "en", &out);
	report_csv(&r, &out);
	report_json(&r, &out);
	ok(!strchr(buf_str(&out), '@'), "no '@' after the erasure either");
	report_free(&r);

	/* erasing a current member: members_end stays 27 (the erasure
	 * logs the leave, as the leave it is) */
	db_person_erase(db, "m11@example.org");
	ok(report_build(conf, db, "denmark", from, to, 5, &r) == 0,
	   "report_build after erasing a member");
	is_int(r.n_lists == 1 ? r.lists[0].members_end : -1, 27,
	       "erasing a member leaves members_end");
	report_free(&r);

	buf_free(&out);
	buf_free(&text);
	buf_free(&err);
	buf_free(&p);
	db_close(db);
	conf_free(conf);
	{
		struct buf rm = BUF_INIT;

		buf_printf(&rm, "rm -rf '%s'", home);
		if (system(buf_str(&rm)) != 0)
			diag("could not remove %s", home);
		buf_free(&rm);
	}
	return done_testing();
}
