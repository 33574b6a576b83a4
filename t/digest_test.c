/*
 * digest_test.c - a week of digests under a simulated clock (issue 7):
 * posts collected hour by hour as they are distributed, digest_run()
 * called every simulated hour (the daemon calls it every minute), members
 * switching between single posts and digests in the middle.
 *
 * Checked: a weekly digest (Monday 07:00 Europe/Copenhagen) goes out
 * once, at its hour (06:00 UTC in winter) and never before; a daily one
 * (18:00 UTC) once a day when there are posts and not on a day without;
 * a size trigger sends early; each issue reaches the members who take
 * digests at that moment (not those who switched to single posts, yes
 * those who switched to digests), each once, in their format; every post
 * is in exactly one issue; issue numbers follow one another; a digest
 * closed but not queued (a crash between) is finished by the next run.
 * A real SQLite file, real files in HOME/out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "digest.h"
#include "log.h"
#include "msg.h"
#include "post.h"
#include "spool.h"
#include "tap.h"
#include "util.h"

static char home[256];
static struct conf *conf;
static struct db *db;
static struct spool *sp;
static sqlite3 *peek; /* the same file, read directly */
static int n_posts;

static long
q1(const char *sql)
{
	sqlite3_stmt *s;
	long v = -1;

	if (sqlite3_prepare_v2(peek, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Distribute one post on list at time t (the parts of post_commit that
 * digests see: the archive row, then digest_collect). */
static void
post(const char *list, time_t t, const char *subject, size_t body_bytes)
{
	struct spool_env env;
	struct spool_tmp tmp;
	struct buf m = BUF_INIT, why = BUF_INIT, rel = BUF_INIT;
	struct msg *msg = NULL;
	char *rcpt[1];
	char addr[64], mid[64];
	long long row = 0;
	size_t i;

	n_posts++;
	snprintf(mid, sizeof(mid), "p%d@test", n_posts);
	snprintf(addr, sizeof(addr), "%s@lists.test", list);
	buf_printf(&m, "From: Amira <amira@example.net>\nTo: %s\n"
	               "Subject: %s\nMessage-ID: <%s>\n"
	               "Date: Mon, 1 Dec 2026 10:00:00 +0000\n"
	               "MIME-Version: 1.0\n"
	               "Content-Type: text/plain; charset=utf-8\n\n",
	           addr, subject, mid);
	for (i = 0; i < body_bytes; i++)
		buf_addc(&m, i % 60 == 59 ? '\n' : 'x');
	buf_addc(&m, '\n');
	memset(&env, 0, sizeof(env));
	env.sender = "amira@example.net";
	rcpt[0] = addr;
	env.rcpts = rcpt;
	env.n_rcpts = 1;
	env.received = t;
	strlcpy_(env.via, "test", sizeof(env.via));
	if (spool_write(sp, &env, m.s, m.len, &tmp) < 0 ||
	    spool_commit(sp, &tmp, 1) < 0) {
		ok(0, "spool %s", mid);
		goto out;
	}
	buf_printf(&rel, "spool/incoming/%s", tmp.id);
	if (msg_parse(m.s, m.len, &msg_default_limits, &msg, &why) < 0) {
		ok(0, "parse %s", mid);
		goto out;
	}
	db_set_now(db, t);
	if (db_begin(db) < 0 ||
	    post_archive_msg(db, conf_list(conf, list), msg, mid,
	                     buf_str(&rel), t, m.len, &row) != 0 ||
	    digest_collect(conf, db, conf_list(conf, list), row, m.len) < 0 ||
	    db_commit(db) < 0)
		ok(0, "distributing %s", mid);
out:
	msg_free(msg);
	buf_free(&m);
	buf_free(&why);
	buf_free(&rel);
}

/* Copies queued for address on list so far. */
static long
copies(const char *list, const char *address)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM outbound WHERE kind = 'digest' AND "
	         "list = '%s' AND recipient = '%s'",
	         list, address);
	return q1(sql);
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
    "http = \"\"\n"
    "base_url = \"https://lists.test\"\n"
    "list weekly { digest = weekly  digest_day = monday  digest_hour = 7\n"
    "  timezone = \"Europe/Copenhagen\"  language = \"da\" }\n"
    "list daily { digest = daily  digest_hour = 18 }\n"
    "list sized { digest = monthly  digest_size = \"3K\" }\n";

int
main(void)
{
	struct buf text = BUF_INIT, err = BUF_INIT, p = BUF_INIT;
	const char *top = getenv("top_srcdir");
	time_t start = utc(2026, 12, 2, 9); /* Wednesday 09:00 UTC */
	time_t t, monday_7 = utc(2026, 12, 7, 6), first_weekly = 0;
	long sent_weekly_before = 0, daily_sends = 0;
	int h;

	log_open("digest_test", 1, L_ERROR);
	if (!top)
		top = "..";
	snprintf(home, sizeof(home), "%s/digest_test.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(home))
		{ printf("Bail out! mkdtemp\n"); return 1; }
	buf_printf(&text, conf_text, home, home, home, top);
	conf = conf_parse("digest_test.conf", buf_str(&text), &err);
	if (!conf)
		{ printf("Bail out! conf: %s\n", buf_str(&err)); return 1; }
	buf_printf(&p, "%s/mlmd.db", home);
	db = db_open(buf_str(&p));
	sp = spool_open(home);
	if (!db || !sp ||
	    sqlite3_open_v2(buf_str(&p), &peek, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK)
		{ printf("Bail out! open\n"); return 1; }

	/* members: ann takes posts, bo and carl digests (carl plain), dag
	 * switches to digests on Friday, eva leaves digests on Saturday */
	db_member_add(db, "weekly", "ann@x.test", "", "", "test");
	db_member_add(db, "weekly", "bo@x.test", "", "", "test");
	db_member_add(db, "weekly", "carl@x.test", "", "", "test");
	db_member_add(db, "weekly", "dag@x.test", "", "", "test");
	db_member_add(db, "weekly", "eva@x.test", "", "en", "test");
	db_member_update(db, "weekly", "bo@x.test", 1, NULL, -1, NULL);
	db_member_update(db, "weekly", "carl@x.test", 1, "plain", -1, NULL);
	db_member_update(db, "weekly", "eva@x.test", 1, NULL, -1, NULL);
	db_member_add(db, "daily", "bo@x.test", "", "", "test");
	db_member_update(db, "daily", "bo@x.test", 1, NULL, -1, NULL);
	db_member_add(db, "sized", "bo@x.test", "", "", "test");
	db_member_update(db, "sized", "bo@x.test", 1, NULL, -1, NULL);

	is_int(digest_due(conf_list(conf, "weekly"), start), monday_7,
	   "a weekly issue opened on Wednesday is due Monday 07:00 "
	   "Copenhagen (06:00 UTC)");
	is_int(digest_due(conf_list(conf, "daily"), utc(2026, 12, 2, 18)),
	   utc(2026, 12, 3, 18), "a daily issue opened at its hour waits a day");
	is_int(digest_due(conf_list(conf, "sized"), start), utc(2027, 1, 1, 7),
	   "a monthly issue: the next 1st at 07:00 (UTC)");

	for (h = 0; h <= 7 * 24; h++) {
		long n;

		t = start + (time_t)h * 3600;
		/* traffic: the weekly list every 5 hours, the daily list on
		 * every day but Saturday, the sized list 1 KB a post */
		if (h % 5 == 0)
			post("weekly", t, "Netværk", 200);
		if (h % 24 == 3 && h / 24 != 3)
			post("daily", t, "Daily news", 100);
		if (h == 30 || h == 31 || h == 32)
			post("sized", t, "Big", 1200);
		if (h == 48) /* Friday 09:00: dag takes digests */
			db_member_update(db, "weekly", "dag@x.test", 1, NULL,
			                 -1, NULL);
		if (h == 72) /* Saturday: eva back to single posts */
			db_member_update(db, "weekly", "eva@x.test", 0, NULL,
			                 -1, NULL);
		db_set_now(db, t);
		n = digest_run(conf, db, t);
		if (n < 0)
			ok(0, "digest_run at hour %d", h);
		if (q1("SELECT count(*) FROM digests WHERE list = 'weekly' AND "
		       "state = 'sent'") > 0 &&
		    !first_weekly)
			first_weekly = t;
		if (t < monday_7)
			sent_weekly_before = q1("SELECT count(*) FROM digests "
			                        "WHERE list = 'weekly' AND "
			                        "state = 'sent'");
	}
	daily_sends = q1("SELECT count(*) FROM digests WHERE list = 'daily' "
	                 "AND state = 'sent'");
	is_int(sent_weekly_before, 0, "no weekly digest before its hour");
	is_int(first_weekly, monday_7, "the weekly digest went at Monday 06:00 UTC");
	is_int(q1("SELECT count(*) FROM digests WHERE list = 'weekly' AND "
	      "state = 'sent'"),
	   1, "once");
	is_int(q1("SELECT count(*) FROM digests WHERE list = 'daily' AND "
	          "state = 'sent' AND sent % 86400 != 64800"),
	       0, "daily digests only at 18:00 UTC");
	/* posts at 12:00 UTC on every day but Saturday, each sent at 18:00
	 * that day: Wed, Thu, Fri, Sun, Mon, Tue */
	is_int(daily_sends, 6, "one daily digest per day with posts, none on "
	                       "the day without");
	is_int(q1("SELECT count(*) FROM digests WHERE list = 'sized' AND "
	      "state = 'sent'"),
	   1, "the size trigger sent the monthly digest early");
	is_int(copies("weekly", "bo@x.test"), 1, "bo: one weekly digest");
	is_int(copies("weekly", "carl@x.test"), 1, "carl: one (plain)");
	is_int(q1("SELECT count(*) FROM outbound WHERE recipient = 'carl@x.test' "
	      "AND path LIKE '%-plain-%'"),
	   1, "in the plain format");
	is_int(copies("weekly", "dag@x.test"), 1,
	   "dag, who switched to digests on Friday, gets it");
	is_int(copies("weekly", "eva@x.test"), 0,
	   "eva, who switched back on Saturday, does not");
	is_int(copies("weekly", "ann@x.test"), 0, "ann takes single posts: none");
	is_int(copies("daily", "bo@x.test"), 6, "bo: six daily digests");
	is_int(q1("SELECT count(*) FROM (SELECT message FROM digest_items GROUP BY "
	      "message HAVING count(*) > 1)"),
	   0, "no post in two issues");
	is_int(q1("SELECT count(*) FROM messages m WHERE m.list = 'weekly' AND "
	      "m.received < " /* posts until the send */
	      "(SELECT sent FROM digests WHERE list = 'weekly' AND state = "
	      "'sent') AND NOT EXISTS (SELECT 1 FROM digest_items i WHERE "
	      "i.message = m.id)"),
	   0, "every weekly post before the send is in the issue");
	is_int(q1("SELECT max(issue) FROM digests WHERE list = 'daily'"), 6,
	   "daily issues numbered 1..6");
	{
		struct stat sb;
		struct buf f = BUF_INIT;

		buf_printf(&f, "%s/out/digest-weekly-1-1-mime-da.eml", home);
		ok(stat(buf_str(&f), &sb) == 0 && sb.st_size > 1000,
		   "the Danish MIME digest file is there");
		buf_free(&f);
	}

	/* a crash between closing and queuing: the next run finishes it */
	post("weekly", t + 3600, "After", 100);
	{
		struct digest_row d;

		ok(db_digest_get(db, "weekly", "collecting", &d) == 0 &&
		       db_digest_close(db, d.id) == 0,
		   "an issue closed, then 'crash'");
	}
	ok(digest_run(conf, db, t + 7200) == 1, "the next run sends it");
	is_int(copies("weekly", "bo@x.test"), 2, "bo: the second issue, once");
	ok(digest_run(conf, db, t + 10800) == 0, "and never again");
	is_int(q1("SELECT count(*) FROM digests WHERE state = 'built'"), 0,
	   "nothing left half done");

	sqlite3_close(peek);
	db_close(db);
	spool_close(sp);
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
