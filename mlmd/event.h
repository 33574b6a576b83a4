/*
 * event.h - events by email (issue 8): a list's events, a personal
 * invitation per member (text, HTML and an iCalendar REQUEST their
 * calendar app shows with Accept/Decline), answers counted against the
 * capacity with a first-come waitlist, reminders, updates, cancellation,
 * reports.
 *
 * Every answer is matched to the member by the token in the address it
 * was sent to (LIST+rsvp-TOKEN@, the invitation's ORGANIZER and
 * Reply-To) or in the web link (BASE/e/TOKEN), never by From alone: the
 * token is an HMAC (token.h, purpose "rsvp") over the list, the member's
 * address and their answer row.  A calendar REPLY must name that member
 * as its ATTENDEE too.
 */
#ifndef MLMD_EVENT_H
#define MLMD_EVENT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct conf;
struct db;
struct tmpl_set;
struct token_key;
struct msg;
struct route;
struct event_row;
struct list_conf;

struct event_ctx {
	const struct conf *c;
	struct db *db;
	const struct tmpl_set *tmpl;
	const struct token_key *key;
	time_t now; /* the clock (tests move it); 0: time(NULL) */
};

enum event_answer { EVENT_YES, EVENT_NO, EVENT_MAYBE };

/* What an answer did (for the caller's reply and the tests). */
enum event_outcome {
	OUT_ACCEPTED,   /* a seat */
	OUT_WAITLISTED, /* yes, but full: on the waitlist */
	OUT_DECLINED,
	OUT_TENTATIVE,
	OUT_TOO_LATE,   /* after the deadline: not recorded */
	OUT_CANCELLED,  /* the event is cancelled: not recorded */
};

/*
 * A new event of e->list (uid made if e->uid is NULL or "").  0 and *id,
 * -1 (logged).  Nobody is invited yet: event_invite().
 */
int event_create(const struct event_ctx *x, struct event_row *e,
		 long long *id);

/*
 * Personal invitations for the next occurrence of event id to every
 * member of its list (and of the lists it gathers) who gets mail, or only
 * to address (not NULL), each with their own token, in their language;
 * a member invited before gets the invitation again (an update: same UID,
 * the event's SEQUENCE) unless they declined.  In one transaction.
 * Invitations queued, or -1.
 */
long event_invite(const struct event_ctx *x, long long id,
		  const char *address);

/*
 * Record answer (guests: +N) of the member of answer row rsvp, as the
 * latest; seats per capacity, the waitlist first come first served, a
 * freed seat goes to the first on the waitlist who fits (told by mail).
 * The member gets a confirmation in their language unless quiet.
 * *out (if not NULL) says what happened.  0 / -1.
 */
int event_answer(const struct event_ctx *x, long long rsvp,
		 enum event_answer answer, int guests, int quiet,
		 enum event_outcome *out);

/* A mail to LIST+rsvp-TOKEN@ (a calendar REPLY, or "yes"/"no"/"maybe"
 * in words): record it.  Inside the caller's transaction.  0 / -1. */
int event_rsvp_mail(const struct event_ctx *x, const char *spool_id,
		    const char *sender, const struct msg *msg,
		    const struct route *r);

/*
 * The web answer page of token (BASE/e/TOKEN): GET shows the event and
 * the member's answer with buttons; POST with answer (yes|no|maybe) and
 * guests records it.  The page goes to html, its language to lang (16
 * bytes).  An HTTP status.
 */
int event_web(const struct event_ctx *x, const char *token, int post,
	      const char *answer, const char *guests, struct buf *html,
	      char *lang);

/* Reminders (7 and 1 days before, to those who said yes and the
 * waitlist) and the coordinators' summaries (at the RSVP deadline, after
 * the event) that are due at x->now.  Mails queued, or -1. */
long event_tick(const struct event_ctx *x);

/* Does msg carry a calendar invitation (text/calendar, METHOD REQUEST
 * or PUBLISH)? */
int event_is_invitation(const struct msg *msg);
/* Is address an owner or a moderator of l? */
int event_coordinator(const struct list_conf *l, const char *address);

/*
 * A coordinator's event by mail: a calendar invitation (to LIST@ or
 * LIST+event@) or a LIST+event@ mail with Title:, Start:, End:, Place:,
 * Capacity:, Deadline:, Question:, Repeat: lines.  From an owner or a
 * moderator only, and only after they confirm: the event waits (state
 * 'pending') and they get a mail whose reply (to LIST+event-TOKEN@,
 * r->arg) invites the list.  An invitation with the UID of an event of
 * the list changes that event (a higher SEQUENCE, the invited told).
 * Inside the caller's transaction.  0 / -1.
 */
int event_request_mail(const struct event_ctx *x, const char *spool_id,
		       const char *sender, const struct msg *msg,
		       const struct route *r);

/* Save the changed e with the next SEQUENCE and send every invited
 * member who did not decline the new invitation.  0 / -1. */
int event_update(const struct event_ctx *x, struct event_row *e);

/* Cancel event id: every invited member who did not decline gets a
 * CANCEL.  0 / -1. */
int event_cancel(const struct event_ctx *x, long long id);

/* Cancel one date of series id (its start, UTC): a CANCEL with that
 * RECURRENCE-ID to who was invited to it and did not decline.  0 / -1. */
int event_cancel_occurrence(const struct event_ctx *x, long long id,
			    time_t occurrence);

/* Write event id's answers as CSV (one line per invited member and a
 * totals line; no address when anonymous is set).  0 / -1. */
int event_report(const struct event_ctx *x, long long id, int anonymous,
		 struct buf *csv);

/* The list's iCalendar feed (events.ics): every active event, PUBLISH. */
int event_feed(const struct event_ctx *x, const char *list, struct buf *ics);

#endif
