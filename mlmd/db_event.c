/*
 * db_event.c - events and answers in the database (db.h, "events"):
 * tables events, event_occurrences and rsvps (migration 1).
 *
 * An answer row (rsvps) exists per (event, occurrence, member) from the
 * invitation on; its partstat is the latest answer.  A member who said
 * yes holds 1 + guests seats unless waitlist is set (their place in the
 * first-come queue).  The seat arithmetic is event.c's; here only rows.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"
#include "util.h"

static long
done(struct db *db, sqlite3_stmt *s, const char *what)
{
	long rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s) == SQLITE_DONE ? (long)sqlite3_changes(db->h)
	                                    : db_err(db, what);
	sqlite3_finalize(s);
	return rc;
}

void
event_row_clear(struct event_row *e)
{
	free(e->uid);
	free(e->list);
	free(e->title);
	free(e->description);
	free(e->place);
	free(e->tz);
	free(e->rrule);
	free(e->question);
	free(e->organizer);
	free(e->state);
	memset(e, 0, sizeof(*e));
}

#define EVENT_COLS                                                         \
	"id, uid, list, title, description, place, dtstart, dtend, tz, "   \
	"rrule, capacity, coalesce(deadline, 0), question, sequence, "     \
	"organizer, state, created, updated"

static void
event_row(sqlite3_stmt *s, struct event_row *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	e->uid = xstrdup(db_col(s, 1));
	e->list = xstrdup(db_col(s, 2));
	e->title = xstrdup(db_col(s, 3));
	e->description = xstrdup(db_col(s, 4));
	e->place = xstrdup(db_col(s, 5));
	e->dtstart = (time_t)sqlite3_column_int64(s, 6);
	e->dtend = (time_t)sqlite3_column_int64(s, 7);
	e->tz = xstrdup(db_col(s, 8));
	e->rrule = xstrdup(db_col(s, 9));
	e->capacity = sqlite3_column_int(s, 10);
	e->deadline = (time_t)sqlite3_column_int64(s, 11);
	e->question = xstrdup(db_col(s, 12));
	e->sequence = (long)sqlite3_column_int64(s, 13);
	e->organizer = xstrdup(db_col(s, 14));
	e->state = xstrdup(db_col(s, 15));
	e->created = (time_t)sqlite3_column_int64(s, 16);
	e->updated = (time_t)sqlite3_column_int64(s, 17);
}

static void
bind_event(sqlite3_stmt *s, const struct event_row *e)
{
	db_bind(s, 1, e->uid);
	db_bind(s, 2, e->list);
	db_bind(s, 3, e->title);
	db_bind(s, 4, e->description);
	db_bind(s, 5, e->place);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)e->dtstart);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)e->dtend);
	db_bind(s, 8, e->tz);
	db_bind(s, 9, e->rrule);
	sqlite3_bind_int(s, 10, e->capacity);
	if (e->deadline)
		sqlite3_bind_int64(s, 11, (sqlite3_int64)e->deadline);
	else
		sqlite3_bind_null(s, 11);
	db_bind(s, 12, e->question);
	sqlite3_bind_int64(s, 13, e->sequence);
	db_bind(s, 14, e->organizer);
	db_bind(s, 15, e->state && *e->state ? e->state : "active");
}

int
db_event_add(struct db *db, const struct event_row *e, long long *id)
{
	sqlite3_stmt *s = db_prep(db, "INSERT INTO events (uid, list, title, "
	                           "description, place, dtstart, dtend, tz, "
	                           "rrule, capacity, deadline, question, "
	                           "sequence, organizer, state, created, "
	                           "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	                           "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	                           "?16, ?16)");

	if (!s)
		return -1;
	bind_event(s, e);
	sqlite3_bind_int64(s, 16, (sqlite3_int64)db_now(db));
	if (done(db, s, "adding an event") < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int
db_event_save(struct db *db, const struct event_row *e)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE events SET uid = ?1, list = ?2, "
	                           "title = ?3, description = ?4, place = ?5, "
	                           "dtstart = ?6, dtend = ?7, tz = ?8, "
	                           "rrule = ?9, capacity = ?10, deadline = ?11, "
	                           "question = ?12, sequence = ?13, "
	                           "organizer = ?14, state = ?15, updated = ?16 "
	                           "WHERE id = ?17");

	if (!s)
		return -1;
	bind_event(s, e);
	sqlite3_bind_int64(s, 16, (sqlite3_int64)db_now(db));
	sqlite3_bind_int64(s, 17, e->id);
	return done(db, s, "saving an event") < 0 ? -1 : 0;
}

static int
one_event(sqlite3_stmt *s, struct db *db, struct event_row *e)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		event_row(s, e);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = db_err(db, "reading an event");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_event_get(struct db *db, long long id, struct event_row *e)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " EVENT_COLS " FROM events "
	                           "WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return one_event(s, db, e);
}

int
db_event_by_uid(struct db *db, const char *uid, struct event_row *e)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " EVENT_COLS " FROM events "
	                           "WHERE uid = ?1");

	if (!s)
		return -1;
	db_bind(s, 1, uid);
	return one_event(s, db, e);
}

int
db_event_each(struct db *db, const char *list,
              int (*fn)(const struct event_row *e, void *arg), void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " EVENT_COLS " FROM events WHERE "
	                           "?1 = '' OR list = ?1 ORDER BY dtstart, id");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list ? list : "");
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct event_row e;

		event_row(s, &e);
		rc = fn(&e, arg);
		event_row_clear(&e);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading events");
	sqlite3_finalize(s);
	return rc;
}

/* ----- answers ------------------------------------------------------------ */

#define RSVP_COLS                                                          \
	"id, event, occurrence, address, partstat, guests, "               \
	"coalesce(waitlist, 0), coalesce(invited, 0), coalesce(answered, 0), " \
	"attended"

static void
rsvp_row(sqlite3_stmt *s, struct rsvp_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->event = sqlite3_column_int64(s, 1);
	r->occurrence = (time_t)sqlite3_column_int64(s, 2);
	strlcpy_(r->address, db_col(s, 3), sizeof(r->address));
	strlcpy_(r->partstat, db_col(s, 4), sizeof(r->partstat));
	r->guests = sqlite3_column_int(s, 5);
	r->waitlist = (long)sqlite3_column_int64(s, 6);
	r->invited = (time_t)sqlite3_column_int64(s, 7);
	r->answered = (time_t)sqlite3_column_int64(s, 8);
	r->attended = sqlite3_column_int(s, 9);
}

static int
one_rsvp(sqlite3_stmt *s, struct db *db, struct rsvp_row *r)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		rsvp_row(s, r);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = db_err(db, "reading an answer");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_rsvp_invite(struct db *db, long long event, time_t occurrence,
               const char *address, long long *id)
{
	sqlite3_stmt *s = db_prep(db, "INSERT OR IGNORE INTO rsvps (event, "
	                           "occurrence, address, invited) VALUES (?1, "
	                           "?2, ?3, ?4)");
	struct rsvp_row r;
	long n;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	db_bind(s, 3, address);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)db_now(db));
	n = done(db, s, "inviting");
	if (n < 0 || db_rsvp_find(db, event, occurrence, address, &r) != 0)
		return -1;
	*id = r.id;
	return n > 0 ? 0 : 1;
}

int
db_rsvp_get(struct db *db, long long id, struct rsvp_row *r)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " RSVP_COLS " FROM rsvps "
	                           "WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return one_rsvp(s, db, r);
}

int
db_rsvp_find(struct db *db, long long event, time_t occurrence,
             const char *address, struct rsvp_row *r)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " RSVP_COLS " FROM rsvps WHERE "
	                           "event = ?1 AND occurrence = ?2 AND "
	                           "address = ?3");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	db_bind(s, 3, address);
	return one_rsvp(s, db, r);
}

int
db_rsvp_set(struct db *db, const struct rsvp_row *r)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE rsvps SET partstat = ?2, "
	                           "guests = ?3, waitlist = nullif(?4, 0), "
	                           "answered = nullif(?5, 0), attended = ?6 "
	                           "WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->id);
	db_bind(s, 2, r->partstat);
	sqlite3_bind_int(s, 3, r->guests);
	sqlite3_bind_int64(s, 4, r->waitlist);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)r->answered);
	sqlite3_bind_int(s, 6, r->attended);
	return done(db, s, "recording an answer") < 0 ? -1 : 0;
}

int
db_rsvp_counts(struct db *db, long long event, time_t occurrence,
               struct rsvp_counts *c)
{
	sqlite3_stmt *s = db_prep(
	    db, "SELECT count(*), "
	        "sum(partstat = 'accepted' AND waitlist IS NULL), "
	        "sum(partstat = 'declined'), sum(partstat = 'tentative'), "
	        "sum(partstat = 'accepted' AND waitlist IS NOT NULL), "
	        "sum(CASE WHEN partstat = 'accepted' AND waitlist IS NULL "
	        "    THEN guests ELSE 0 END), "
	        "sum(attended), sum(partstat = 'needs-action') "
	        "FROM rsvps WHERE event = ?1 AND occurrence = ?2");
	int rc;

	memset(c, 0, sizeof(*c));
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->invited = (long)sqlite3_column_int64(s, 0);
		c->yes = (long)sqlite3_column_int64(s, 1);
		c->no = (long)sqlite3_column_int64(s, 2);
		c->maybe = (long)sqlite3_column_int64(s, 3);
		c->waitlist = (long)sqlite3_column_int64(s, 4);
		c->guests = (long)sqlite3_column_int64(s, 5);
		c->attended = (long)sqlite3_column_int64(s, 6);
		c->no_answer = (long)sqlite3_column_int64(s, 7);
		c->seats = c->yes + c->guests;
		rc = 0;
	} else {
		rc = db_err(db, "counting answers");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_rsvp_first_waiting(struct db *db, long long event, time_t occurrence,
                      struct rsvp_row *r)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " RSVP_COLS " FROM rsvps WHERE "
	                           "event = ?1 AND occurrence = ?2 AND "
	                           "partstat = 'accepted' AND waitlist IS NOT "
	                           "NULL ORDER BY waitlist LIMIT 1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	return one_rsvp(s, db, r);
}

long
db_rsvp_next_waitlist(struct db *db, long long event, time_t occurrence)
{
	sqlite3_stmt *s = db_prep(db, "SELECT coalesce(max(waitlist), 0) + 1 "
	                           "FROM rsvps WHERE event = ?1 AND "
	                           "occurrence = ?2");
	long n = -1;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		db_err(db, "the waitlist");
	sqlite3_finalize(s);
	return n;
}

int
db_rsvp_each(struct db *db, long long event, time_t occurrence,
             int (*fn)(const struct rsvp_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " RSVP_COLS " FROM rsvps WHERE "
	                           "event = ?1 AND occurrence = ?2 "
	                           "ORDER BY address");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct rsvp_row r;

		rsvp_row(s, &r);
		rc = fn(&r, arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading answers");
	sqlite3_finalize(s);
	return rc;
}

int
db_occurrence_reminded(struct db *db, long long event, time_t occurrence,
                       long *reminded)
{
	sqlite3_stmt *s = db_prep(db, "SELECT coalesce(reminded, 0) FROM "
	                           "event_occurrences WHERE event = ?1 AND "
	                           "occurrence = ?2");
	int rc;

	*reminded = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*reminded = (long)sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_err(db, "an occurrence");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_occurrence_set_reminded(struct db *db, long long event, time_t occurrence,
                           long reminded)
{
	sqlite3_stmt *s = db_prep(db, "INSERT INTO event_occurrences (event, "
	                           "occurrence, reminded) VALUES (?1, ?2, ?3) "
	                           "ON CONFLICT (event, occurrence) DO UPDATE "
	                           "SET reminded = ?3");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	sqlite3_bind_int64(s, 3, reminded);
	return done(db, s, "an occurrence's reminder") < 0 ? -1 : 0;
}

int
db_occurrence_summarized(struct db *db, long long event, time_t occurrence,
                         int *mask)
{
	sqlite3_stmt *s = db_prep(db, "SELECT coalesce(summarized, 0) FROM "
	                           "event_occurrences WHERE event = ?1 AND "
	                           "occurrence = ?2");
	int rc;

	*mask = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*mask = sqlite3_column_int(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_err(db, "an occurrence");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_occurrence_set_summarized(struct db *db, long long event,
                             time_t occurrence, int mask)
{
	sqlite3_stmt *s = db_prep(db, "INSERT INTO event_occurrences (event, "
	                           "occurrence, summarized) VALUES (?1, ?2, "
	                           "?3) ON CONFLICT (event, occurrence) DO "
	                           "UPDATE SET summarized = ?3");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	sqlite3_bind_int(s, 3, mask);
	return done(db, s, "an occurrence's summary") < 0 ? -1 : 0;
}

int
db_occurrence_cancel(struct db *db, long long event, time_t occurrence)
{
	sqlite3_stmt *s = db_prep(db, "INSERT INTO event_occurrences (event, "
	                           "occurrence, state) VALUES (?1, ?2, "
	                           "'cancelled') ON CONFLICT (event, "
	                           "occurrence) DO UPDATE SET state = "
	                           "'cancelled'");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	return done(db, s, "cancelling an occurrence") < 0 ? -1 : 0;
}

int
db_occurrence_cancelled(struct db *db, long long event, time_t occurrence)
{
	sqlite3_stmt *s = db_prep(db, "SELECT 1 FROM event_occurrences WHERE "
	                           "event = ?1 AND occurrence = ?2 AND "
	                           "state = 'cancelled'");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, event);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)occurrence);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0
	                                                : db_err(db, "an occurrence");
	sqlite3_finalize(s);
	return rc;
}
