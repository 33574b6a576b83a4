/*
 * report.h - participation indicators (issue 9): per list and for all
 * country lists together, over a period, from the durable records mlmd
 * keeps as things happen (event_log, members, messages, events, rsvps),
 * never from logs.  No address ever appears in a report; counts from 1
 * to threshold - 1 are shown as "<threshold" in every output a
 * coordinator can forward (report_count()).
 *
 * report.c builds the figures and writes text, CSV and JSON;
 * report_html.c writes the self-contained HTML page with SVG charts.
 */
#ifndef MLMD_REPORT_H
#define MLMD_REPORT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct conf;
struct db;

#define REPORT_LANGS_MAX 16

/* One list's figures for the period [from, to). */
struct report_list {
	char name[64];
	char country[8];        /* the list's country code, "" if none */
	long sub_requests;      /* subscription requests (confirmations sent,
	                         * invitations, requests to owners) */
	long confirmations;     /* people who joined in the period */
	long expired;           /* requests never confirmed */
	long unsubscriptions;
	long members_start, members_end;
	long digest_members, nomail_members; /* at the end */
	long posts, posters, threads;
	double replies_per_thread; /* posts in the period's threads, less
	                            * one, over threads */
	long held, rejected;
	long delivered, bounces;
	long events, invitations;
	struct {
		char lang[8];
		long n;
	} langs[REPORT_LANGS_MAX]; /* members at the end by language */
	size_t n_langs;
	/* the newsletter (posting = announce): copies that reached members,
	 * bounces, and who left within 7 days after each issue */
	int newsletter;
	long reach_delivered, reach_bounced, reach_left;
};

/* One event that started in the period. */
struct report_event {
	long long id;
	char list[64];
	char title[256];
	time_t start;
	long invited, yes, no, maybe, waitlist, guests, attended;
};

/* Members and posts of one list in one month (the charts). */
struct report_month {
	char month[8];          /* "YYYY-MM" */
	char list[64];
	long members;           /* at the month's end */
	long posts;
};

struct report {
	time_t from, to;
	int threshold;          /* counts below it (and above 0) are hidden */
	struct report_list *lists;
	size_t n_lists;
	struct report_list countries; /* all lists with a country, summed
	                               * (name "countries") */
	struct report_event *events;
	size_t n_events;
	struct report_month *months;
	size_t n_months;
};

/*
 * Gather the figures of list (NULL: every list) for [from, to).  0, or
 * -1 (logged).  report_free() afterwards in both cases.
 */
int report_build(const struct conf *c, struct db *db, const char *list,
		 time_t from, time_t to, int threshold, struct report *r);
void report_free(struct report *r);

/* n as shown: "0", "<5" for 1..threshold-1, else the number. */
void report_count(const struct report *r, long n, struct buf *out);

/* The outputs; lang: the words ("en", "da", "sv", "nb", "fi", "is";
 * templates/LANG/report.strings).  0 / -1. */
int report_text(const struct conf *c, const struct report *r,
		const char *lang, struct buf *out);
int report_csv(const struct report *r, struct buf *out);
int report_json(const struct report *r, struct buf *out);
int report_html(const struct conf *c, const struct report *r,
		const char *lang, struct buf *out);

#endif
