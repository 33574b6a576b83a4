/*
 * db_status.c - the counts behind `mlmctl status` (db_status.h): the
 * outbound queue, copies finished in the last 24 hours, held posts,
 * collecting digests and active events.
 *
 * Invariants: read-only, one statement per figure, prepared each call
 * (status runs once per mlmctl, nothing to cache).  The waiting rows are
 * read through the partial index outbound_waiting, so they cost what
 * the queue holds; the last-24-hours counts scan the outbound table (it
 * keeps 30 days of finished rows: XXX an index on done_at would make
 * this cheap if status is polled often on a busy installation).
 * Errors are logged and returned as -1.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db_int.h"
#include "db_status.h"
#include "log.h"

static const char sql_waiting[] =
    "SELECT state, count(*) FROM outbound INDEXED BY outbound_waiting "
    "WHERE state IN ('queued', 'deferred') GROUP BY state";
static const char sql_done[] =
    "SELECT coalesce(sum(state = 'sent'), 0), "
    "coalesce(sum(state = 'failed'), 0) FROM outbound "
    "WHERE state IN ('sent', 'failed') AND done_at >= ?1";
static const char sql_oldest[] =
    "SELECT id, recipient, created, attempts, last_code, last_error "
    "FROM outbound INDEXED BY outbound_waiting "
    "WHERE state IN ('queued', 'deferred') AND state = 'deferred' "
    "ORDER BY id LIMIT 1";
static const char sql_counts[] =
    "SELECT (SELECT count(*) FROM held WHERE state = 'held'), "
    "(SELECT count(*) FROM digests WHERE state = 'collecting'), "
    "(SELECT count(*) FROM events WHERE state = 'active' AND "
    "(rrule <> '' OR dtend >= ?1))";

static sqlite3_stmt *
prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(db, "reading the status");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int
db_health(struct db *db, time_t now, struct db_health *h)
{
	sqlite3_stmt *s;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!(s = prepare(db, sql_waiting)))
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (strcmp(db_col(s, 0), "queued") == 0)
			h->queued = (long)sqlite3_column_int64(s, 1);
		else
			h->deferred = (long)sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_err(db, "counting the queue");

	if (!(s = prepare(db, sql_done)))
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(now - 86400));
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		h->sent_24h = (long)sqlite3_column_int64(s, 0);
		h->failed_24h = (long)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_err(db, "counting the finished copies");

	if (!(s = prepare(db, sql_oldest)))
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		h->oldest_id = (long long)sqlite3_column_int64(s, 0);
		snprintf(h->oldest_rcpt, sizeof(h->oldest_rcpt), "%s",
		         db_col(s, 1));
		h->oldest_created = (time_t)sqlite3_column_int64(s, 2);
		h->oldest_attempts = sqlite3_column_int(s, 3);
		snprintf(h->oldest_code, sizeof(h->oldest_code), "%s",
		         db_col(s, 4));
		snprintf(h->oldest_error, sizeof(h->oldest_error), "%s",
		         db_col(s, 5));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(db, "reading the oldest deferred copy");

	if (!(s = prepare(db, sql_counts)))
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		h->held = (long)sqlite3_column_int64(s, 0);
		h->digests = (long)sqlite3_column_int64(s, 1);
		h->events = (long)sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_err(db, "counting held posts, digests and events");
	return 0;
}
