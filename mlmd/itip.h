/*
 * itip.h - calendar invitations and replies (iCalendar, iTIP) on libical.
 *
 * The only module that sees libical (STYLE.md: one library behind one
 * module); the rest of mlmd sees struct itip_event and struct itip_reply,
 * plain fixed-size records that need no freeing.
 *
 * Input is hostile: itip_parse() refuses more than ITIP_MAX_BYTES, more
 * than ITIP_MAX_COMPONENTS components, more than ITIP_MAX_EVENTS VEVENTs,
 * nesting deeper than ITIP_MAX_DEPTH and more than ITIP_MAX_ERRORS values
 * libical could not read, before anything else looks at it.  Strings are
 * truncated to their field on a UTF-8 boundary; one-line fields carry no
 * control characters.  itip_occurrences() expands at most `max`
 * occurrences, ITIP_MAX_STEPS recurrence steps and ITIP_HORIZON seconds.
 *
 * Errors: -1 with one line in err (err may be NULL); never fatal.
 */
#ifndef MLMD_ITIP_H
#define MLMD_ITIP_H

#include <stddef.h>
#include <time.h>

struct buf;

#define ITIP_MAX_BYTES      ((size_t)1 << 20)
#define ITIP_MAX_COMPONENTS 200
#define ITIP_MAX_EVENTS     50
#define ITIP_MAX_DEPTH      8
#define ITIP_MAX_ERRORS     100
#define ITIP_MAX_STEPS      100000
#define ITIP_HORIZON        ((time_t)5 * 366 * 86400)
#define ITIP_MAX_GUESTS     100

/* What mlmd needs of one VEVENT.  Times are UTC seconds, resolved through
 * the calendar's VTIMEZONEs (or libical's built-in zones) for a TZID;
 * floating times are taken as UTC (XXX: the list's zone would be better). */
struct itip_event {
	char uid[256];
	long sequence;
	char summary[512];
	char location[512];
	char description[4096]; /* keeps newlines and tabs */
	time_t start, end;      /* end = start (+1 day if all_day) if absent */
	int all_day;            /* DTSTART;VALUE=DATE: start is 00:00 UTC */
	char tzid[64];          /* Olson name of DTSTART's zone, "" if UTC,
	                           floating or unknown: RRULEs expand in it */
	char rrule[512];        /* the first RRULE, "" if none */
	char organizer[320];    /* normalised address (addr_normalise) */
	time_t recurrence_id;   /* 0 if none */
	int capacity;           /* X-MLMD-CAPACITY, 0 if none */
	time_t rsvp_deadline;   /* X-MLMD-RSVP-BY, 0 if none */
};

enum itip_method {
	ITIP_NONE, /* no METHOD: a plain calendar file */
	ITIP_REQUEST,
	ITIP_REPLY,
	ITIP_CANCEL,
	ITIP_PUBLISH,
	ITIP_OTHER
};

enum itip_partstat {
	ITIP_NEEDS_ACTION, /* also when PARTSTAT is absent */
	ITIP_ACCEPTED,
	ITIP_DECLINED,
	ITIP_TENTATIVE,
	ITIP_DELEGATED,
	ITIP_PARTSTAT_OTHER
};

struct itip_reply {
	struct itip_event ev;
	char attendee[320]; /* normalised address */
	enum itip_partstat partstat;
	char delegated_to[320]; /* DELEGATED-TO, normalised, or "" */
	int guests;             /* X-NUM-GUESTS (Google), 0..ITIP_MAX_GUESTS */
	char comment[512];      /* the VEVENT's COMMENT, or "" */
};

/* Parse a text/calendar body (len bytes, need not be NUL-terminated):
 * its METHOD and its first VEVENT, which must have a UID, and a DTSTART
 * unless the method is REPLY or CANCEL.  0, or -1 with the reason in err. */
int itip_parse(const char *text, size_t len, enum itip_method *method,
               struct itip_event *ev, struct buf *err);

/* The same for a METHOD:REPLY whose first VEVENT has exactly one
 * ATTENDEE with a plausible address. */
int itip_parse_reply(const char *text, size_t len, struct itip_reply *r,
                     struct buf *err);

/* Build a METHOD:REQUEST or METHOD:CANCEL calendar for one attendee,
 * appended to out: ORGANIZER (mailto:, CN=organizer_name), ATTENDEE with
 * RSVP=TRUE, PARTSTAT=NEEDS-ACTION, ROLE=REQ-PARTICIPANT, CN=attendee_name
 * (NULL or "" for none), DTSTAMP=now, UID, SEQUENCE, DTSTART/DTEND in UTC,
 * RECURRENCE-ID if set, SUMMARY, LOCATION, DESCRIPTION, RRULE, STATUS
 * CONFIRMED or CANCELLED.  A recurring event with a tzid is written in that
 * zone with its VTIMEZONE instead, so that clients repeat it at the same
 * local time across DST.  CRLF lines folded at 75 octets; the result passes
 * libical's RFC 5546 restriction check.  0, or -1 (bad method, no UID or
 * start, implausible address, bad RRULE, out too small; out unchanged). */
int itip_build(enum itip_method method, const struct itip_event *ev,
               const char *attendee, const char *attendee_name,
               const char *organizer_name, time_t now, struct buf *out);

/* Start times of ev's occurrences at or after from, in order, at most max
 * of them, no later than ITIP_HORIZON after max(from, ev->start).  The
 * RRULE is expanded in ev->tzid.  Rules more frequent than daily are
 * expanded only without BY* parts (libical spins on impossible ones).
 * Returns the number written to out. */
size_t itip_occurrences(const struct itip_event *ev, time_t from, time_t *out,
                        size_t max);

const char *itip_method_name(enum itip_method m);
const char *itip_partstat_name(enum itip_partstat p);

#endif
