/*
 * db_archive.c - the archive's queries (db.h, "the archive"): the rows
 * of table messages as the pages and the search see them.  Rows with
 * hidden = 1 (X-No-Archive, archive = none, erased with
 * archive_erasure = remove) are never returned, except where a function
 * says so.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"
#include "util.h"

/* The columns every query below selects, in arch_row()'s order; m is the
 * message, the thread's root is joined as r. */
#define ARCH_COLS                                                          \
	"m.id, m.message_id, m.path, m.from_name, m.from_addr, m.subject, " \
	"m.date, m.in_reply_to, m.refs, m.month, m.size, m.thread_id, "     \
	"coalesce(r.message_id, m.message_id), m.erased"
#define ARCH_FROM                                                          \
	" FROM messages m LEFT JOIN messages r ON r.id = m.thread_id "
#define ARCH_NCOLS 14

static void
arch_row(sqlite3_stmt *s, struct arch_row *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->message_id = db_col(s, 1);
	r->path = db_col(s, 2);
	r->from_name = db_col(s, 3);
	r->from_addr = db_col(s, 4);
	r->subject = db_col(s, 5);
	r->date = (time_t)sqlite3_column_int64(s, 6);
	r->in_reply_to = db_col(s, 7);
	r->refs = db_col(s, 8);
	r->month = db_col(s, 9);
	r->size = (size_t)sqlite3_column_int64(s, 10);
	r->thread = sqlite3_column_int64(s, 11);
	r->thread_mid = db_col(s, 12);
	r->erased = sqlite3_column_int(s, 13);
}

/* Step s, calling fn per row until it returns non-zero; finalizes s,
 * or resets it if it is one of the cached statements (those run often:
 * a page per post asks for its thread and its neighbours). */
static int
each_row_(struct db *db, sqlite3_stmt *s, int cached,
          int (*fn)(const struct arch_row *r, void *arg), void *arg)
{
	int rc = 0, st = SQLITE_DONE;

	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct arch_row r;

		arch_row(s, &r);
		rc = fn(&r, arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading the archive");
	if (cached) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	} else
		sqlite3_finalize(s);
	return rc;
}

#define each_row(db, s, fn, arg) each_row_(db, s, 0, fn, arg)
#define each_cached(db, s, fn, arg) each_row_(db, s, 1, fn, arg)

int
db_archive_month(struct db *db, const char *list, const char *month,
                 int (*fn)(const struct arch_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s =
	    db_cached(db, ST_ARCH_MONTH,
	              "SELECT " ARCH_COLS ARCH_FROM
	              "WHERE m.list = ?1 AND m.month = ?2 AND "
	              "m.hidden = 0 ORDER BY m.date, m.id");

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, month);
	return each_cached(db, s, fn, arg);
}

int
db_archive_thread(struct db *db, const char *list, long long thread,
                  int (*fn)(const struct arch_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s =
	    db_cached(db, ST_ARCH_THREAD,
	              "SELECT " ARCH_COLS ARCH_FROM
	              "WHERE m.thread_id = ?2 AND m.list = ?1 "
	              "AND m.hidden = 0 ORDER BY m.date, m.id");

	if (!s)
		return -1;
	db_bind(s, 1, list);
	sqlite3_bind_int64(s, 2, thread);
	return each_cached(db, s, fn, arg);
}

int
db_archive_get(struct db *db, const char *list, const char *message_id,
               int (*fn)(const struct arch_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s = db_cached(db, ST_ARCH_GET,
	                            "SELECT " ARCH_COLS ARCH_FROM
	                            "WHERE m.list = ?1 AND m.message_id = ?2 "
	                            "AND m.hidden = 0");
	int rc = 1;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, message_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		struct arch_row r;

		arch_row(s, &r);
		rc = fn(&r, arg);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
db_archive_next(struct db *db, const char *list, time_t date, long long id,
                int dir, int (*fn)(const struct arch_row *r, void *arg),
                void *arg)
{
	sqlite3_stmt *s =
	    dir > 0 ? db_cached(db, ST_ARCH_NEXT,
	                        "SELECT " ARCH_COLS ARCH_FROM
	                        "WHERE m.list = ?1 AND m.hidden = 0 AND "
	                        "(m.date, m.id) > (?2, ?3) "
	                        "ORDER BY m.date, m.id LIMIT 1")
	            : db_cached(db, ST_ARCH_PREV,
	                        "SELECT " ARCH_COLS ARCH_FROM
	                        "WHERE m.list = ?1 AND m.hidden = 0 AND "
	                        "(m.date, m.id) < (?2, ?3) "
	                        "ORDER BY m.date DESC, m.id DESC LIMIT 1");
	int rc = 1;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)date);
	sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		struct arch_row r;

		arch_row(s, &r);
		rc = fn(&r, arg);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
db_archive_latest(struct db *db, const char *list, int n,
                  int (*fn)(const struct arch_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " ARCH_COLS ARCH_FROM
	                           "WHERE m.list = ?1 AND m.hidden = 0 "
	                           "ORDER BY m.date DESC, m.id DESC LIMIT ?2");

	if (!s)
		return -1;
	db_bind(s, 1, list);
	sqlite3_bind_int(s, 2, n);
	return each_row(db, s, fn, arg);
}

#define THREADS_WINDOW "600"

int
db_archive_threads(struct db *db, const char *list, int n,
                   int (*fn)(const struct arch_row *first, long count,
                             time_t last, void *arg),
                   void *arg)
{
	/* the newest threads by their last message, looked for among the
	 * newest posts (the index on date; an archive whose newest
	 * THREADS_WINDOW posts all belong to fewer threads shows fewer);
	 * each with its first public message and its count */
	sqlite3_stmt *s = db_prep(
	    db, "WITH recent AS (SELECT thread_id AS t, max(date) AS last"
	        " FROM (SELECT thread_id, date FROM messages"
	        "  WHERE list = ?1 AND hidden = 0"
	        "  ORDER BY date DESC, id DESC LIMIT " THREADS_WINDOW ")"
	        " GROUP BY thread_id ORDER BY last DESC LIMIT ?2)"
	        " SELECT " ARCH_COLS ","
	        " (SELECT count(*) FROM messages c WHERE c.thread_id = recent.t"
	        "  AND c.hidden = 0), recent.last FROM recent"
	        " JOIN messages m ON m.id = (SELECT f.id FROM messages f"
	        "  WHERE f.thread_id = recent.t AND f.hidden = 0"
	        "  ORDER BY f.date, f.id LIMIT 1)"
	        " LEFT JOIN messages r ON r.id = m.thread_id"
	        " ORDER BY recent.last DESC");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	sqlite3_bind_int(s, 2, n);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct arch_row r;

		arch_row(s, &r);
		rc = fn(&r, (long)sqlite3_column_int64(s, ARCH_NCOLS),
		        (time_t)sqlite3_column_int64(s, ARCH_NCOLS + 1), arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading the archive's threads");
	sqlite3_finalize(s);
	return rc;
}

/* More hits than this are shown newest first instead of best first. */
#define ARCH_RANK_MAX 1000

/* "list : \"lHEX\" AND (match)": match limited to list's rows (the
 * token of migration 4's messages_fts_src). */
static void
list_match(const char *list, const char *match, struct buf *out)
{
	const unsigned char *p;

	buf_adds(out, "list : \"l");
	for (p = (const unsigned char *)list; *p; p++)
		buf_printf(out, "%02x", *p);
	buf_printf(out, "\" AND (%s)", match);
}

static void
bind_dates(sqlite3_stmt *s, int i, const struct arch_query *q)
{
	sqlite3_bind_int64(s, i, (sqlite3_int64)q->after);
	sqlite3_bind_int64(s, i + 1, q->before ? (sqlite3_int64)q->before
	                                       : (sqlite3_int64)1 << 62);
}

int
db_archive_search(struct db *db, const char *list,
                  const struct arch_query *q,
                  int (*fn)(const struct arch_row *r, const char *snippet,
                            void *arg),
                  void *arg, long *total, struct buf *err)
{
	struct buf m = BUF_INIT;
	sqlite3_stmt *s;
	int rc = 0, st = SQLITE_DONE, dated = q->after || q->before;
	const char *sql;

	long n_hits = 0;

	if (q->match && *q->match)
		list_match(list, q->match, &m);
	/* the count is needed to choose the order below */
	if (!total && m.len && !dated)
		total = &n_hits;
	if (total) {
		if (!m.len)
			sql = "SELECT count(*) FROM messages m WHERE m.list = ?1 "
			      "AND m.hidden = 0 AND m.date >= ?3 AND m.date < ?4";
		else if (!dated)
			sql = "SELECT count(*) FROM messages_fts WHERE "
			      "messages_fts MATCH ?2";
		else
			sql = "SELECT count(*) FROM messages_fts JOIN messages m "
			      "ON m.id = messages_fts.rowid WHERE messages_fts "
			      "MATCH ?2 AND m.date >= ?3 AND m.date < ?4";
		s = db_prep(db, sql);
		if (!s) {
			buf_free(&m);
			return -1;
		}
		if (!m.len || dated) {
			if (!m.len)
				db_bind(s, 1, list);
			bind_dates(s, 3, q);
		}
		if (m.len)
			db_bind(s, 2, buf_str(&m));
		st = sqlite3_step(s);
		if (st == SQLITE_ROW) {
			*total = (long)sqlite3_column_int64(s, 0);
		} else {
			buf_printf(err, "%s", sqlite3_errmsg(db->h));
			sqlite3_finalize(s);
			buf_free(&m);
			return -2;
		}
		sqlite3_finalize(s);
	}
	if (!m.len)
		/* no words: the list's posts in the dates, newest first */
		sql = "SELECT " ARCH_COLS ", ''" ARCH_FROM
		      "WHERE m.list = ?1 AND m.hidden = 0 AND m.date >= ?3 "
		      "AND m.date < ?4 ORDER BY m.date DESC, m.id DESC "
		      "LIMIT ?5 OFFSET ?6";
	else if (!dated && *total <= ARCH_RANK_MAX)
		/* FTS5 ranks and cuts by itself (ORDER BY rank LIMIT on the
		 * index alone), so snippets are made for this page only */
		sql = "SELECT " ARCH_COLS ", f.snip FROM (SELECT rowid AS rid, "
		      "rank AS rk, snippet(messages_fts, 3, ?7, ?8, '...', 12) "
		      "AS snip FROM messages_fts WHERE messages_fts MATCH ?2 "
		      "ORDER BY rank LIMIT ?5 OFFSET ?6) f "
		      "JOIN messages m ON m.id = f.rid "
		      "LEFT JOIN messages r ON r.id = m.thread_id "
		      "ORDER BY f.rk";
	else if (!dated)
		/* too many hits to rank them all at the speed of a page (a
		 * word most posts use): the newest first, which FTS5 reads
		 * straight off its index and stops at the page's end */
		sql = "SELECT " ARCH_COLS ", f.snip FROM (SELECT rowid AS rid, "
		      "snippet(messages_fts, 3, ?7, ?8, '...', 12) AS snip "
		      "FROM messages_fts WHERE messages_fts MATCH ?2 "
		      "ORDER BY rowid DESC LIMIT ?5 OFFSET ?6) f "
		      "JOIN messages m ON m.id = f.rid "
		      "LEFT JOIN messages r ON r.id = m.thread_id "
		      "ORDER BY f.rid DESC";
	else
		sql = "SELECT " ARCH_COLS ", snippet(messages_fts, 3, ?7, ?8, "
		      "'...', 12) FROM messages_fts "
		      "JOIN messages m ON m.id = messages_fts.rowid "
		      "LEFT JOIN messages r ON r.id = m.thread_id "
		      "WHERE messages_fts MATCH ?2 AND m.date >= ?3 AND "
		      "m.date < ?4 ORDER BY rank LIMIT ?5 OFFSET ?6";
	s = db_prep(db, sql);
	if (!s) {
		buf_free(&m);
		return -1;
	}
	if (!m.len)
		db_bind(s, 1, list);
	else
		db_bind(s, 2, buf_str(&m));
	if (!m.len || dated)
		bind_dates(s, 3, q);
	sqlite3_bind_int(s, 5, q->limit > 0 ? q->limit : 20);
	sqlite3_bind_int64(s, 6, q->offset > 0 ? q->offset : 0);
	if (m.len) {
		db_bind(s, 7, q->mark_open ? q->mark_open : "[");
		db_bind(s, 8, q->mark_close ? q->mark_close : "]");
	}
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct arch_row r;

		arch_row(s, &r);
		rc = fn(&r, db_col(s, ARCH_NCOLS), arg);
	}
	if (rc == 0 && st != SQLITE_DONE) {
		/* a query FTS5 cannot read: the caller says so */
		buf_printf(err, "%s", sqlite3_errmsg(db->h));
		rc = -2;
	}
	sqlite3_finalize(s);
	buf_free(&m);
	return rc;
}

int
db_archive_months(struct db *db, const char *list,
                  int (*fn)(const char *month, long n, void *arg), void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT month, count(*) FROM messages "
	                           "WHERE list = ?1 AND hidden = 0 "
	                           "GROUP BY month ORDER BY month DESC");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(db_col(s, 0), (long)sqlite3_column_int64(s, 1), arg);
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading the archive's months");
	sqlite3_finalize(s);
	return rc;
}

int
db_archive_by_author(struct db *db, const char *list, const char *address,
                     int (*fn)(const struct arch_row *r, void *arg),
                     void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT " ARCH_COLS ARCH_FROM
	                           "WHERE m.from_addr = ?1 AND m.list = ?2 "
	                           "AND m.hidden = 0 ORDER BY m.date, m.id");

	if (!s)
		return -1;
	db_bind(s, 1, address);
	db_bind(s, 2, list);
	return each_row(db, s, fn, arg);
}

long
db_archive_erase(struct db *db, const char *list, const char *address,
                 int remove)
{
	static const char *const pseudo[] = {
	    "UPDATE messages SET from_name = '', from_addr = '', erased = 1 "
	    "WHERE from_addr = ?1 AND list = ?2",
	};
	static const char *const gone[] = {
	    "DELETE FROM message_text WHERE message IN (SELECT id FROM "
	    "messages WHERE from_addr = ?1 AND list = ?2)",
	    "UPDATE messages SET from_name = '', from_addr = '', erased = 1, "
	    "hidden = 1 WHERE from_addr = ?1 AND list = ?2",
	};
	const char *const *sql = remove ? gone : pseudo;
	size_t i, n = remove ? ARRAY_SIZE(gone) : ARRAY_SIZE(pseudo);
	long changed = 0;
	int own;

	if (db_tx_start(db, &own) < 0)
		return -1;
	for (i = 0; i < n && changed >= 0; i++) {
		sqlite3_stmt *s = db_prep(db, sql[i]);

		if (!s) {
			changed = -1;
			break;
		}
		db_bind(s, 1, address);
		db_bind(s, 2, list);
		if (sqlite3_step(s) != SQLITE_DONE)
			changed = db_err(db, "erasing from the archive");
		else if (i == n - 1)
			changed = sqlite3_changes(db->h);
		sqlite3_finalize(s);
	}
	return db_tx_end(db, own, changed < 0 ? -1 : 0) < 0 ? -1 : changed;
}
