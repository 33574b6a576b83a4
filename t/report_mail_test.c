/*
 * report_mail_test.c - the monthly participation report by mail
 * (report_mail.h) under a chosen clock: nothing before the 1st at 06:00
 * UTC, then one mail per member of the report_to list (not to one on
 * nomail) with the text table inline and the HTML page attached, in that
 * list's language, and never a second time that month; nothing at all
 * without report_to.  The mails are read back from HOME/out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "report_mail.h"
#include "tap.h"
#include "util.h"

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
    "%s"
    "list denmark { language = \"da\"  country = \"DK\" }\n"
    "list coordinators { language = \"da\" }\n";

int
main(void)
{
	struct buf text = BUF_INIT, err = BUF_INIT, p = BUF_INIT;
	const char *top = getenv("top_srcdir");
	char home[256];
	struct conf *conf, *none;
	struct db *db;
	sqlite3 *peek;
	sqlite3_stmt *st;
	int i;

	log_open("report_mail_test", 1, L_ERROR);
	if (!top)
		top = "..";
	snprintf(home, sizeof(home), "%s/report_mail_test.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(home)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	buf_printf(&text, conf_text, home, home, home, top,
	           "report_to = \"coordinators\"\n");
	conf = conf_parse("report_mail_test.conf", buf_str(&text), &err);
	buf_reset(&text);
	buf_printf(&text, conf_text, home, home, home, top, "");
	none = conf_parse("none.conf", buf_str(&text), &err);
	buf_printf(&p, "%s/mlmd.db", home);
	db = conf && none ? db_open(buf_str(&p)) : NULL;
	if (!db ||
	    sqlite3_open_v2(buf_str(&p), &peek, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK) {
		printf("Bail out! set-up: %s\n", buf_str(&err));
		return 1;
	}
	db_set_now(db, utc(2026, 11, 3, 9));
	for (i = 0; i < 12; i++) {
		char who[32];

		snprintf(who, sizeof(who), "m%02d@x.test", i);
		db_member_add(db, "denmark", who, "", "", "test");
	}
	db_member_add(db, "coordinators", "anna@x.test", "", "", "test");
	db_member_add(db, "coordinators", "bo@x.test", "", "", "test");
	db_member_add(db, "coordinators", "carl@x.test", "", "", "test");
	db_member_update(db, "coordinators", "carl@x.test", -1, NULL, 1, NULL);

#define AT(t) (db_set_now(db, (t)), (t))
	is_int(report_monthly(none, db, AT(utc(2026, 12, 1, 7))), 0,
	       "without report_to: nothing");
	is_int(report_monthly(conf, db, AT(utc(2026, 11, 1, 5))), 0,
	       "nothing before 06:00 UTC on the 1st");
	is_int(report_monthly(conf, db, AT(utc(2026, 11, 30, 23))), 2,
	       "October's report, owed since the 1st: one mail per "
	       "coordinator who gets mail");
	is_int(report_monthly(conf, db, AT(utc(2026, 12, 1, 5))), 0,
	       "November's not before 06:00 on the 1st");
	is_int(report_monthly(conf, db, AT(utc(2026, 12, 1, 7))), 2,
	       "then it goes");
	is_int(report_monthly(conf, db, AT(utc(2026, 12, 1, 8))), 0,
	       "not twice");
	is_int(report_monthly(conf, db, AT(utc(2026, 12, 20, 8))), 0,
	       "nor later that month");
	/* the mail itself */
	if (sqlite3_prepare_v2(peek, "SELECT path FROM outbound WHERE "
	                             "kind = 'report' AND recipient = "
	                             "'anna@x.test' ORDER BY id DESC",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		struct buf f = BUF_INIT, m = BUF_INIT;

		buf_printf(&f, "%s/%s", home,
		           (const char *)sqlite3_column_text(st, 0));
		ok(read_file(buf_str(&f), &m) == 0, "the mail is written");
		ok(strstr(buf_str(&m), "Content-Type: multipart/mixed") != NULL,
		   "text and an attachment");
		ok(strstr(buf_str(&m), "Content-Type: text/html; charset=utf-8") &&
		       strstr(buf_str(&m), "filename=\"report-2026-11.html\""),
		   "the page attached as report-2026-11.html");
		ok(strstr(buf_str(&m), "Content-Language: da") != NULL,
		   "in the coordinators list's language");
		ok(strstr(buf_str(&m), "2026-11") != NULL,
		   "naming the month");
		ok(strstr(buf_str(&m), "m01@x.test") == NULL &&
		       !strstr(buf_str(&m), "m01=40x.test"),
		   "no member's address in it");
		buf_free(&f);
		buf_free(&m);
	} else {
		ok(0, "the mail is queued");
	}
	sqlite3_finalize(st);
	is_int(db_last_event(db, "coordinators", "report_sent") > 0, 1,
	       "recorded in the event log");

	sqlite3_close(peek);
	db_close(db);
	conf_free(conf);
	conf_free(none);
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
