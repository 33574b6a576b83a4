/*
 * db_digest.c - digests in the database (db.h, "digests"): tables digests
 * and digest_items (migration 1).
 *
 * A list has at most one digest in state 'collecting' (the open issue);
 * distributing a post adds it there in the post's own transaction.
 * Sending closes it first ('built': nothing more joins it, the next post
 * opens the next issue), then queues one copy per digest member and marks
 * it 'sent' in one transaction.  A digest left 'built' by a crash is
 * finished at the next run: composed again from its items and queued,
 * once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_int.h"
#include "log.h"
#include "util.h"

static void
digest_row(sqlite3_stmt *s, struct digest_row *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, 0);
	d->volume = sqlite3_column_int64(s, 1);
	d->issue = sqlite3_column_int64(s, 2);
	d->size = (size_t)sqlite3_column_int64(s, 3);
	d->created = (time_t)sqlite3_column_int64(s, 4);
	d->n_items = (long)sqlite3_column_int64(s, 5);
	d->built = (time_t)sqlite3_column_int64(s, 6);
}

#define DIGEST_COLS                                                        \
	"d.id, d.volume, d.issue, d.size, d.created, "                     \
	"(SELECT count(*) FROM digest_items i WHERE i.digest = d.id), "    \
	"coalesce(d.built, 0)"

int
db_digest_get(struct db *db, const char *list, const char *state,
              struct digest_row *d)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " DIGEST_COLS " FROM digests d "
	                           "WHERE d.list = ?1 AND d.state = ?2 "
	                           "ORDER BY d.id LIMIT 1");
	int rc;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, state);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		digest_row(s, d);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = db_err(db, "reading a digest");
	}
	sqlite3_finalize(s);
	return rc;
}

/* The volume and issue that follow list's last digest (a new volume
 * each calendar year, UTC). */
static int
next_number(struct db *db, const char *list, time_t now, long long *volume,
            long long *issue)
{
	sqlite3_stmt *s = db_prep(db, "SELECT volume, issue, created FROM digests "
	                           "WHERE list = ?1 ORDER BY id DESC LIMIT 1");
	int rc;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	rc = sqlite3_step(s);
	*volume = 1;
	*issue = 1;
	if (rc == SQLITE_ROW) {
		time_t before = (time_t)sqlite3_column_int64(s, 2);
		struct tm a, b;

		gmtime_r(&before, &a);
		gmtime_r(&now, &b);
		*volume = sqlite3_column_int64(s, 0);
		*issue = sqlite3_column_int64(s, 1) + 1;
		if (b.tm_year > a.tm_year) {
			*volume += 1;
			*issue = 1;
		}
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_err(db, "numbering a digest");
	}
	sqlite3_finalize(s);
	return rc;
}

long
db_digest_add(struct db *db, const char *list, long long message,
              size_t size)
{
	struct digest_row d;
	sqlite3_stmt *s;
	time_t now = db_now(db);
	long long id;
	int own, r;
	long total = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	r = db_digest_get(db, list, "collecting", &d);
	if (r < 0)
		goto out;
	if (r == 1) {
		long long vol, iss;

		if (next_number(db, list, now, &vol, &iss) < 0)
			goto out;
		s = db_prep(db, "INSERT INTO digests (list, volume, issue, state, "
		             "size, created) VALUES (?1, ?2, ?3, 'collecting', "
		             "0, ?4)");
		if (!s)
			goto out;
		db_bind(s, 1, list);
		sqlite3_bind_int64(s, 2, vol);
		sqlite3_bind_int64(s, 3, iss);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
		r = sqlite3_step(s);
		sqlite3_finalize(s);
		if (r != SQLITE_DONE) {
			db_err(db, "opening a digest");
			goto out;
		}
		id = sqlite3_last_insert_rowid(db->h);
		d.size = 0;
	} else {
		id = d.id;
	}
	s = db_prep(db, "INSERT OR IGNORE INTO digest_items (digest, message) "
	             "VALUES (?1, ?2)");
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, message);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		db_err(db, "adding to a digest");
		goto out;
	}
	if (sqlite3_changes(db->h) == 0) { /* in it already */
		total = (long)d.size;
		goto out;
	}
	s = db_prep(db, "UPDATE digests SET size = size + ?2 WHERE id = ?1");
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)size);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		db_err(db, "sizing a digest");
		goto out;
	}
	total = (long)(d.size + size);
out:
	return db_tx_end(db, own, total < 0 ? -1 : 0) < 0 ? -1 : total;
}

int
db_digest_close(struct db *db, long long id)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE digests SET state = 'built', "
	                           "built = ?2 WHERE id = ?1 AND "
	                           "state = 'collecting'");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)db_now(db));
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(db, "closing a digest");
	sqlite3_finalize(s);
	return rc;
}

int
db_digest_touch(struct db *db, long long id, time_t created)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE digests SET created = ?2 "
	                           "WHERE id = ?1");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)created);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(db, "a digest's time");
	sqlite3_finalize(s);
	return rc;
}

int
db_digest_sent(struct db *db, long long id)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE digests SET state = 'sent', "
	                           "sent = ?2 WHERE id = ?1");
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)db_now(db));
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(db, "a sent digest");
	sqlite3_finalize(s);
	return rc;
}

int
db_digest_items(struct db *db, long long id,
                int (*fn)(const struct arch_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s = db_prep(
	    db, "SELECT m.id, m.message_id, m.path, m.from_name, m.from_addr, "
	        "m.subject, m.date, m.in_reply_to, m.refs, m.month, m.size, "
	        "m.thread_id, m.erased FROM digest_items i "
	        "JOIN messages m ON m.id = i.message WHERE i.digest = ?1 "
	        "ORDER BY m.received, m.id");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct arch_row r;

		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(s, 0);
		r.message_id = db_col(s, 1);
		r.path = db_col(s, 2);
		r.from_name = db_col(s, 3);
		r.from_addr = db_col(s, 4);
		r.subject = db_col(s, 5);
		r.date = (time_t)sqlite3_column_int64(s, 6);
		r.in_reply_to = db_col(s, 7);
		r.refs = db_col(s, 8);
		r.month = db_col(s, 9);
		r.size = (size_t)sqlite3_column_int64(s, 10);
		r.thread = sqlite3_column_int64(s, 11);
		r.thread_mid = "";
		r.erased = sqlite3_column_int(s, 12);
		rc = fn(&r, arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading a digest's posts");
	sqlite3_finalize(s);
	return rc;
}

int
db_digest_members(struct db *db, const char *list,
                  int (*fn)(const char *address, int plain,
                            const char *language, void *arg),
                  void *arg)
{
	sqlite3_stmt *s = db_prep(
	    db, "SELECT m.address, m.digest_format = 'plain', "
	        "coalesce(nullif(m.language, ''), nullif(p.language, ''), '') "
	        "FROM members m LEFT JOIN persons p ON p.address = m.address "
	        "WHERE m.list = ?1 AND m.digest = 1 AND m.nomail = 0 AND "
	        "m.disabled IS NULL ORDER BY m.address");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(db_col(s, 0), sqlite3_column_int(s, 1), db_col(s, 2),
		        arg);
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading a list's digest members");
	sqlite3_finalize(s);
	return rc;
}

int
db_digest_each(struct db *db, const char *list,
               int (*fn)(const struct digest_row *d, const char *state,
                         void *arg),
               void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " DIGEST_COLS ", d.state FROM "
	                           "digests d WHERE d.list = ?1 ORDER BY d.id "
	                           "DESC LIMIT 5");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct digest_row d;

		digest_row(s, &d);
		rc = fn(&d, db_col(s, 7), arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading digests");
	sqlite3_finalize(s);
	return rc;
}
