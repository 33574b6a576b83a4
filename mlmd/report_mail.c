/*
 * report_mail.c - the monthly participation report by mail (issue 9):
 * on the 1st of each month (from 06:00 UTC) the previous month's report
 * goes to every member of the report_to list, a plain-text table inline
 * and the HTML page attached, in that list's language.  Sent once: the
 * event_log records it ('report_sent') in the transaction that queues
 * the copies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "post.h"
#include "report.h"
#include "report_mail.h"
#include "util.h"
#include "words.h"

/* 00:00 UTC of the 1st of the month of t, moved by months. */
static time_t
month_start(time_t t, int months)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon += months;
	return timegm(&tm);
}

struct send_walk {
	const struct conf *c;
	struct db *db;
	const struct list_conf *l;
	const char *text, *html, *subject, *month;
	long sent;
	int failed;
};

static int
send_one(const struct member *m, void *arg)
{
	struct send_walk *w = arg;
	struct compose cm;
	struct buf mail = BUF_INIT, mid = BUF_INIT, from = BUF_INIT;
	struct buf lid = BUF_INIT, file = BUF_INIT, name = BUF_INIT;
	char *rel = NULL;

	if (w->failed || m->delivery == DELIVER_NOMAIL)
		return 0;
	buf_printf(&file, "report-%s-%s-%ld.%lu", w->l->name, w->month,
	           (long)getpid(), (unsigned long)w->sent);
	buf_printf(&mid, "%s@%s", buf_str(&file), w->c->domain);
	buf_printf(&from, "%s-owner@%s", w->l->name, w->c->domain);
	buf_printf(&lid, "%s.%s", w->l->name, w->c->domain);
	buf_printf(&name, "report-%s.html", w->month);
	memset(&cm, 0, sizeof(cm));
	cm.from_name = *w->l->description ? w->l->description : w->l->name;
	cm.from_addr = buf_str(&from);
	cm.to = m->address;
	cm.subject = w->subject;
	cm.body = w->text;
	cm.lang = w->l->language;
	cm.message_id = buf_str(&mid);
	cm.date = time(NULL);
	cm.auto_submitted = "auto-generated";
	cm.list_id = buf_str(&lid);
	cm.attach = w->html;
	cm.attach_len = strlen(w->html);
	cm.attach_type = "text/html; charset=utf-8";
	cm.attach_name = buf_str(&name);
	if (compose_text(&cm, &mail) < 0 ||
	    post_write_out(w->c, buf_str(&file), NULL, mail.s, mail.len, &rel) <
	        0 ||
	    post_sync(w->c) < 0 ||
	    db_out_add(w->db, w->l->name, "report", buf_str(&mid), rel, "",
	               m->address, w->c->delivery_lifetime) < 0)
		w->failed = 1;
	else
		w->sent++;
	free(rel);
	buf_free(&mail);
	buf_free(&mid);
	buf_free(&from);
	buf_free(&lid);
	buf_free(&file);
	buf_free(&name);
	return w->failed;
}

long
report_monthly(const struct conf *c, struct db *db, time_t now)
{
	const struct list_conf *l;
	struct report r;
	struct buf text = BUF_INIT, html = BUF_INIT, subj = BUF_INIT;
	char month[8];
	time_t this_month = month_start(now, 0), from, last;
	struct send_walk w;
	struct tm tm;
	long rc = 0;

	if (!c->report_to || !*c->report_to ||
	    !(l = conf_list(c, c->report_to)))
		return 0;
	if (now < this_month + 6 * 3600)
		return 0;
	last = db_last_event(db, l->name, "report_sent");
	if (last < 0)
		return -1;
	if (last >= this_month)
		return 0; /* sent this month already */
	from = month_start(now, -1);
	gmtime_r(&from, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	memset(&r, 0, sizeof(r));
	if (report_build(c, db, NULL, from, this_month, c->report_threshold,
	                 &r) < 0 ||
	    report_text(c, &r, l->language, &text) < 0 ||
	    report_html(c, &r, l->language, &html) < 0) {
		report_free(&r);
		rc = -1;
		goto out;
	}
	report_free(&r);
	buf_printf(&subj, "%s %s",
	           words_get(c->templates ? c->templates : ".", l->language,
	                     "report", "mail_subject"),
	           month);
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.db = db;
	w.l = l;
	w.text = buf_str(&text);
	w.html = buf_str(&html);
	w.subject = buf_str(&subj);
	w.month = month;
	if (db_begin(db) < 0) {
		rc = -1;
		goto out;
	}
	if (db_member_each(db, l->name, send_one, &w) < 0 || w.failed ||
	    db_log_event(db, l->name, "report_sent", month, w.sent) < 0) {
		db_rollback(db);
		rc = -1;
		goto out;
	}
	if (db_commit(db) < 0) {
		rc = -1;
		goto out;
	}
	log_info("report: %s's figures sent to the %ld members of %s", month,
	         w.sent, l->name);
	rc = w.sent;
out:
	buf_free(&text);
	buf_free(&html);
	buf_free(&subj);
	return rc;
}
