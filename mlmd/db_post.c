/*
 * db_post.c - the store's side of posting and delivery (db.h): the
 * membership facts the post pipeline asks for, held posts, archive rows
 * and the outbound queue.
 *
 * Invariants: as in db.c, every function joins the caller's transaction
 * or runs in its own; SQL is cached prepared statements with bound
 * values.  A queued copy is one outbound row per (file, recipient); the
 * fan-out of a post to thousands of members is one INSERT ... SELECT, so
 * that it costs one statement, not one round trip per member, and lands
 * in the same transaction as the rest of the post's processing.  Rows
 * move queued -> sent | deferred -> ... -> sent | failed and are never
 * deleted here (the cross-post check and the reports read them).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db_int.h"
#include "log.h"
#include "util.h"

/* Waiting rows: state queued or deferred, in the partial index. */
#define WAITING "state IN ('queued', 'deferred')"

#define OUT_COLS                                                              \
	"id, list, kind, path, sender, recipient, message_id, state, "        \
	"last_code, last_error, attempts, created, next_attempt, expires, "   \
	"coalesce(member, 0)"

/* Members of the lists in the JSON array ?3 taking posts one by one. */
#define MEMBERS_WHO_GET_POSTS                                                 \
	"FROM members m WHERE m.list IN (SELECT value FROM json_each(?3)) "   \
	"AND m.nomail = 0 AND m.digest = 0 AND m.disabled IS NULL "           \
	"AND NOT EXISTS (SELECT 1 FROM outbound o WHERE ?4 <> '' AND "        \
	"o.message_id = ?4 AND o.recipient = m.address AND "                  \
	"o.kind = 'post')"

static const struct {
	enum db_stmt which;
	const char *sql;
} sqls[] = {
    {ST_OUT_ADD,
     "INSERT OR IGNORE INTO outbound (list, kind, message_id, path, "
     "sender, recipient, created, next_attempt, expires) VALUES "
     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)"},
    {ST_OUT_ADD_MEMBERS,
     "INSERT OR IGNORE INTO outbound (list, kind, message_id, path, "
     "sender, recipient, created, next_attempt, expires, member) "
     "SELECT ?1, 'post', ?4, ?2, ?5, m.address, ?6, ?6, ?7, m.id "
     MEMBERS_WHO_GET_POSTS},
    {ST_OUT_ADD_MEMBERS_VERP,
     "INSERT OR IGNORE INTO outbound (list, kind, message_id, path, "
     "sender, recipient, created, next_attempt, expires, member) "
     "SELECT ?1, 'post', ?4, ?2, "
     "?5 || replace(m.address, '@', '=') || ?8, m.address, ?6, ?6, ?7, "
     "m.id " MEMBERS_WHO_GET_POSTS},
    {ST_OUT_DUE,
     "SELECT " OUT_COLS " FROM outbound INDEXED BY outbound_waiting "
     "WHERE " WAITING " AND id > ?1 "
     "AND (?2 = 0 OR next_attempt <= ?3) ORDER BY id LIMIT ?4"},
    {ST_OUT_SENT,
     "UPDATE outbound SET state = 'sent', attempts = attempts + 1, "
     "done_at = ?2, last_code = '', last_error = '' WHERE id = ?1"},
    {ST_OUT_SENT_MANY,
     "UPDATE outbound SET state = 'sent', attempts = attempts + 1, "
     "done_at = ?2, last_code = '', last_error = '' WHERE id IN "
     "(SELECT value FROM json_each(?1))"},
    {ST_OUT_DEFER,
     "UPDATE outbound SET attempts = attempts + ?6, last_code = ?2, "
     "last_error = ?3, next_attempt = ?4, state = CASE WHEN ?6 AND "
     "expires <= ?5 THEN 'failed' ELSE 'deferred' END, done_at = CASE "
     "WHEN ?6 AND expires <= ?5 THEN ?5 ELSE NULL END WHERE id = ?1 "
     "RETURNING state"},
    {ST_OUT_FAIL,
     "UPDATE outbound SET state = 'failed', attempts = attempts + 1, "
     "last_code = ?2, last_error = ?3, done_at = ?4 WHERE id = ?1 "
     "RETURNING kind, list, recipient, message_id"},
    {ST_OUT_NEXT_DUE,
     "SELECT min(next_attempt) FROM outbound INDEXED BY outbound_waiting "
     "WHERE " WAITING},
    {ST_OUT_PATH_PENDING,
     "SELECT EXISTS (SELECT 1 FROM outbound INDEXED BY "
     "outbound_waiting_path WHERE path = ?1 AND " WAITING ")"},
    {ST_OUT_RECENT,
     "SELECT count(*) FROM outbound INDEXED BY outbound_recent WHERE "
     "recipient = ?1 AND kind = 'notice' AND ?2 = 'notice' AND "
     "created >= ?3"},
    {ST_HELD_INSERT,
     "INSERT INTO held (list, spool_id, message_id, sender, from_addr, "
     "subject, size, reason, created, expires) VALUES (?1, ?2, ?3, ?4, "
     "?5, ?6, ?7, ?8, ?9, ?10)"},
    {ST_HELD_GET,
     "SELECT id, list, spool_id, message_id, sender, from_addr, subject, "
     "size, reason, created, expires, state, decided_by, decided_at "
     "FROM held WHERE id = ?1"},
    {ST_HELD_DECIDE,
     "UPDATE held SET state = ?2, decided_by = ?3, decided_at = ?4 "
     "WHERE id = ?1 AND state = 'held'"},
    {ST_MEMBER_ANY,
     "SELECT max(moderated) FROM members WHERE address = ?2 AND list IN "
     "(SELECT value FROM json_each(?1))"},
    {ST_ACCEPT_FIND,
     "SELECT 1 FROM accept_senders WHERE list = ?1 AND address = ?2"},
    {ST_MSG_INSERT,
     "INSERT OR IGNORE INTO messages (list, message_id, path, from_name, "
     "from_addr, subject, date, received, in_reply_to, refs, month, size, "
     "hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
     "strftime('%Y-%m', ?7, 'unixepoch'), ?11, ?12)"},
    {ST_MSG_THREAD,
     "SELECT coalesce(thread_id, id) FROM messages WHERE list = ?1 AND "
     "message_id = ?2"},
    {ST_MSG_SET_THREAD, "UPDATE messages SET thread_id = ?1 WHERE id = ?2"},
    {ST_MSG_TEXT, "INSERT INTO message_text (message, body) VALUES (?1, ?2)"},
};

static sqlite3_stmt *
st(struct db *db, enum db_stmt which)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sqls); i++)
		if (sqls[i].which == which)
			return db_cached(db, which, sqls[i].sql);
	error("db_post: no SQL for statement %d", (int)which);
	return NULL;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

/* A JSON array of strings (list names: [a-z0-9._-], so no escaping
 * beyond the defensive one). */
static void
json_names(struct buf *b, const char *const *names, size_t n)
{
	size_t i;
	const char *p;

	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		buf_adds(b, i ? ",\"" : "\"");
		for (p = names[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			if ((unsigned char)*p >= 0x20)
				buf_addc(b, *p);
		}
		buf_addc(b, '"');
	}
	buf_addc(b, ']');
}

/* ----- membership facts ----------------------------------------------- */

int
db_member_any(struct db *db, const char *const *lists, size_t n,
              const char *address, int *moderated)
{
	struct buf json = BUF_INIT;
	sqlite3_stmt *s = st(db, ST_MEMBER_ANY);
	int rc;

	*moderated = 0;
	if (!s)
		return -1;
	json_names(&json, lists, n);
	bind_text(s, 1, buf_str(&json));
	bind_text(s, 2, address);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
			rc = 0;
		} else {
			*moderated = sqlite3_column_int(s, 0) != 0;
			rc = 1;
		}
	} else {
		rc = db_err(db, "looking up a member");
	}
	sqlite3_reset(s);
	buf_free(&json);
	return rc;
}

int
db_accept_sender(struct db *db, const char *list, const char *address)
{
	sqlite3_stmt *s = st(db, ST_ACCEPT_FIND);

	if (!s)
		return -1;
	bind_text(s, 1, list);
	bind_text(s, 2, address);
	return db_exists(db, s, "looking up accepted senders");
}

/* ----- held posts ------------------------------------------------------- */

void
held_clear(struct held *h)
{
	free(h->list);
	free(h->spool_id);
	free(h->message_id);
	free(h->sender);
	free(h->from_addr);
	free(h->subject);
	free(h->reason);
	free(h->state);
	free(h->decided_by);
	memset(h, 0, sizeof(*h));
}

int
db_held_add(struct db *db, const struct held *h, long long *id)
{
	sqlite3_stmt *s;
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_HELD_INSERT);
	if (s) {
		bind_text(s, 1, h->list);
		bind_text(s, 2, h->spool_id);
		bind_text(s, 3, h->message_id);
		bind_text(s, 4, h->sender);
		bind_text(s, 5, h->from_addr);
		bind_text(s, 6, h->subject);
		sqlite3_bind_int64(s, 7, (sqlite3_int64)h->size);
		bind_text(s, 8, h->reason);
		sqlite3_bind_int64(s, 9, db_now(db));
		sqlite3_bind_int64(s, 10, h->expires);
		rc = db_run(db, s, "holding a post");
		if (rc == 0 && id)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	return db_tx_end(db, own, rc);
}

static void
held_from_row(sqlite3_stmt *s, struct held *h)
{
	h->id = sqlite3_column_int64(s, 0);
	h->list = xstrdup(db_col(s, 1));
	h->spool_id = xstrdup(db_col(s, 2));
	h->message_id = xstrdup(db_col(s, 3));
	h->sender = xstrdup(db_col(s, 4));
	h->from_addr = xstrdup(db_col(s, 5));
	h->subject = xstrdup(db_col(s, 6));
	h->size = (size_t)sqlite3_column_int64(s, 7);
	h->reason = xstrdup(db_col(s, 8));
	h->created = (time_t)sqlite3_column_int64(s, 9);
	h->expires = (time_t)sqlite3_column_int64(s, 10);
	h->state = xstrdup(db_col(s, 11));
	h->decided_by = xstrdup(db_col(s, 12));
	h->decided_at = (time_t)sqlite3_column_int64(s, 13);
}

int
db_held_get(struct db *db, long long id, struct held *out)
{
	sqlite3_stmt *s = st(db, ST_HELD_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		held_from_row(s, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : db_err(db, "reading a held post");
	}
	sqlite3_reset(s);
	return rc;
}

int
db_held_each(struct db *db, const char *list, int all,
             int (*fn)(const struct held *h, void *arg), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	/* Not cached: used by mlmctl once per run. */
	if (sqlite3_prepare_v2(db->h,
	                       "SELECT id, list, spool_id, message_id, sender, "
	                       "from_addr, subject, size, reason, created, "
	                       "expires, state, decided_by, decided_at FROM "
	                       "held WHERE (?1 IS NULL OR list = ?1) AND "
	                       "(?2 OR state = 'held') ORDER BY id",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_err(db, "listing held posts");
	if (list)
		bind_text(s, 1, list);
	sqlite3_bind_int(s, 2, all != 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct held h;
		int r;

		held_from_row(s, &h);
		r = fn(&h, arg);
		held_clear(&h);
		if (r) {
			sqlite3_finalize(s);
			return r;
		}
	}
	if (rc != SQLITE_DONE)
		db_err(db, "listing held posts");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_held_decide(struct db *db, long long id, const char *state, const char *by)
{
	sqlite3_stmt *s;
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_HELD_DECIDE);
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, state);
		bind_text(s, 3, by);
		sqlite3_bind_int64(s, 4, db_now(db));
		rc = db_run(db, s, "deciding on a held post");
		if (rc == 0 && sqlite3_changes(db->h) == 0)
			rc = 1;
	}
	return db_tx_end(db, own, rc);
}

/* ----- archive rows ----------------------------------------------------- */

/* The thread of message_id in list, or 0. */
static long long
thread_of(struct db *db, const char *list, const char *id, size_t len)
{
	sqlite3_stmt *s = st(db, ST_MSG_THREAD);
	long long t = 0;

	if (!s || !len)
		return 0;
	bind_text(s, 1, list);
	sqlite3_bind_text(s, 2, id, (int)len, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		t = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return t;
}

int
db_message_add(struct db *db, const struct archived *a, long long *id)
{
	sqlite3_stmt *s;
	long long row = 0, thread = 0;
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_MSG_INSERT);
	if (!s)
		goto out;
	bind_text(s, 1, a->list);
	bind_text(s, 2, a->message_id);
	bind_text(s, 3, a->path);
	bind_text(s, 4, a->from_name);
	bind_text(s, 5, a->from_addr);
	bind_text(s, 6, a->subject);
	sqlite3_bind_int64(s, 7, a->date ? a->date : a->received);
	sqlite3_bind_int64(s, 8, a->received);
	bind_text(s, 9, a->in_reply_to);
	bind_text(s, 10, a->refs);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)a->size);
	sqlite3_bind_int(s, 12, a->hidden != 0);
	if (db_run(db, s, "adding an archive row") < 0)
		goto out;
	if (sqlite3_changes(db->h) == 0) {
		rc = 1; /* archived already (a redelivery, a cross-post
		         * processed before) */
		goto out;
	}
	row = sqlite3_last_insert_rowid(db->h);
	/* The thread: the parent's, else the newest known reference's. */
	if (a->in_reply_to && *a->in_reply_to)
		thread = thread_of(db, a->list, a->in_reply_to,
		                   strlen(a->in_reply_to));
	if (!thread && a->refs) {
		const char *end = a->refs + strlen(a->refs);

		while (!thread && end > a->refs) {
			const char *p = end;

			while (p > a->refs && p[-1] == ' ')
				p--;
			end = p;
			while (p > a->refs && p[-1] != ' ')
				p--;
			thread = thread_of(db, a->list, p, (size_t)(end - p));
			end = p;
		}
	}
	s = st(db, ST_MSG_SET_THREAD);
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, thread ? thread : row);
	sqlite3_bind_int64(s, 2, row);
	if (db_run(db, s, "threading") < 0)
		goto out;
	if (a->text && !a->hidden) { /* hidden posts are never searched */
		s = st(db, ST_MSG_TEXT);
		if (!s)
			goto out;
		sqlite3_bind_int64(s, 1, row);
		bind_text(s, 2, a->text);
		if (db_run(db, s, "indexing an archive row") < 0)
			goto out;
	}
	if (id)
		*id = row;
	rc = 0;
out:
	return db_tx_end(db, own, rc);
}

/* ----- the outbound queue ---------------------------------------------- */

int
db_out_add(struct db *db, const char *list, const char *kind,
           const char *message_id, const char *path, const char *sender,
           const char *recipient, long lifetime)
{
	sqlite3_stmt *s;
	time_t t = db_now(db);
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_OUT_ADD);
	if (s) {
		bind_text(s, 1, list);
		bind_text(s, 2, kind);
		bind_text(s, 3, message_id);
		bind_text(s, 4, path);
		bind_text(s, 5, sender);
		bind_text(s, 6, recipient);
		sqlite3_bind_int64(s, 7, t);
		sqlite3_bind_int64(s, 8, t + lifetime);
		rc = db_run(db, s, "queueing a copy");
		if (rc == 0 && sqlite3_changes(db->h) == 0)
			rc = 1;
	}
	return db_tx_end(db, own, rc);
}

long
db_out_add_members(struct db *db, const char *list, const char *const *lists,
                   size_t n, const char *message_id, const char *path,
                   const char *sender, const char *verp_prefix,
                   const char *verp_suffix, long lifetime)
{
	struct buf json = BUF_INIT;
	sqlite3_stmt *s;
	time_t t = db_now(db);
	long rc = -1;
	int own;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, verp_prefix ? ST_OUT_ADD_MEMBERS_VERP : ST_OUT_ADD_MEMBERS);
	if (s) {
		json_names(&json, lists, n);
		bind_text(s, 1, list);
		bind_text(s, 2, path);
		bind_text(s, 3, buf_str(&json));
		bind_text(s, 4, message_id);
		bind_text(s, 5, verp_prefix ? verp_prefix : sender);
		sqlite3_bind_int64(s, 6, t);
		sqlite3_bind_int64(s, 7, t + lifetime);
		if (verp_prefix)
			bind_text(s, 8, verp_suffix);
		if (db_run(db, s, "queueing a post for the members") == 0)
			rc = sqlite3_changes(db->h);
	}
	buf_free(&json);
	return db_tx_end(db, own, rc < 0 ? -1 : 0) < 0 ? -1 : rc;
}

long
db_out_each(struct db *db, long long after, int due_only, long limit,
            int (*fn)(const struct out_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s = st(db, ST_OUT_DUE);
	long seen = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, due_only != 0);
	sqlite3_bind_int64(s, 3, db_now(db));
	sqlite3_bind_int64(s, 4, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct out_row r;

		r.id = sqlite3_column_int64(s, 0);
		r.list = db_col(s, 1);
		r.kind = db_col(s, 2);
		r.path = db_col(s, 3);
		r.sender = db_col(s, 4);
		r.recipient = db_col(s, 5);
		r.message_id = db_col(s, 6);
		r.state = db_col(s, 7);
		r.last_code = db_col(s, 8);
		r.last_error = db_col(s, 9);
		r.attempts = sqlite3_column_int(s, 10);
		r.created = (time_t)sqlite3_column_int64(s, 11);
		r.next_attempt = (time_t)sqlite3_column_int64(s, 12);
		r.expires = (time_t)sqlite3_column_int64(s, 13);
		r.member = sqlite3_column_int64(s, 14);
		seen++;
		if (fn(&r, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		seen = db_err(db, "reading the outbound queue");
	sqlite3_reset(s);
	return seen;
}

int
db_out_sent(struct db *db, long long id)
{
	sqlite3_stmt *s;
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_OUT_SENT);
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, db_now(db));
		rc = db_run(db, s, "recording a delivery");
	}
	return db_tx_end(db, own, rc);
}

int
db_out_sent_many(struct db *db, const long long *ids, size_t n)
{
	struct buf json = BUF_INIT;
	sqlite3_stmt *s;
	size_t i;
	int own, rc = -1;

	if (n == 0)
		return 0;
	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_OUT_SENT_MANY);
	if (s) {
		buf_init(&json, 0);
		buf_addc(&json, '[');
		for (i = 0; i < n; i++)
			buf_printf(&json, "%s%lld", i ? "," : "", ids[i]);
		buf_addc(&json, ']');
		bind_text(s, 1, buf_str(&json));
		sqlite3_bind_int64(s, 2, db_now(db));
		rc = db_run(db, s, "recording deliveries");
		buf_free(&json);
	}
	return db_tx_end(db, own, rc);
}

int
db_out_defer(struct db *db, long long id, const char *code, const char *text,
             time_t at, int counts)
{
	sqlite3_stmt *s;
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_OUT_DEFER);
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, code);
		bind_text(s, 3, text);
		sqlite3_bind_int64(s, 4, at);
		sqlite3_bind_int64(s, 5, db_now(db));
		sqlite3_bind_int(s, 6, counts != 0);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			rc = strcmp(db_col(s, 0), "failed") == 0;
		else if (rc == SQLITE_DONE)
			rc = 0; /* no such row any more */
		else
			rc = db_err(db, "deferring a delivery");
		sqlite3_reset(s);
	}
	return db_tx_end(db, own, rc);
}

int
db_out_fail(struct db *db, long long id, const char *code, const char *text,
            struct out_failed *f)
{
	sqlite3_stmt *s;
	int own, rc = -1;

	if (f)
		memset(f, 0, sizeof(*f));
	if (db_tx_start(db, &own) < 0)
		return -1;
	s = st(db, ST_OUT_FAIL);
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, code);
	bind_text(s, 3, text);
	sqlite3_bind_int64(s, 4, db_now(db));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* A refused list copy goes to the bounce handling (the
		 * caller: bounce.c scores it like a DSN). */
		if (f && strcmp(db_col(s, 0), "post") == 0) {
			f->post = 1;
			strlcpy_(f->list, db_col(s, 1), sizeof(f->list));
			strlcpy_(f->recipient, db_col(s, 2),
			         sizeof(f->recipient));
			strlcpy_(f->message_id, db_col(s, 3),
			         sizeof(f->message_id));
		}
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 0
		                       : db_err(db, "recording a failed delivery");
	}
	sqlite3_reset(s);
out:
	return db_tx_end(db, own, rc);
}

int
db_out_next_due(struct db *db, time_t *t)
{
	sqlite3_stmt *s = st(db, ST_OUT_NEXT_DUE);
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*t = (time_t)sqlite3_column_int64(s, 0);
		rc = 1;
	} else {
		rc = rc == SQLITE_ROW ? 0 : db_err(db, "reading the queue");
	}
	sqlite3_reset(s);
	return rc;
}

static long
count1(struct db *db, sqlite3_stmt *s, const char *what)
{
	long n = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		db_err(db, what);
	sqlite3_reset(s);
	return n;
}

long
db_out_path_pending(struct db *db, const char *path)
{
	sqlite3_stmt *s = st(db, ST_OUT_PATH_PENDING);

	if (!s)
		return -1;
	bind_text(s, 1, path);
	return count1(db, s, "counting waiting copies");
}

long
db_out_count_since(struct db *db, const char *recipient, const char *kind,
                   time_t t)
{
	sqlite3_stmt *s = st(db, ST_OUT_RECENT);

	if (!s)
		return -1;
	bind_text(s, 1, recipient);
	bind_text(s, 2, kind);
	sqlite3_bind_int64(s, 3, t);
	return count1(db, s, "counting recent copies");
}

/* One UPDATE/DELETE with up to one time parameter, in its own
 * transaction (or the caller's); rows changed or -1. */
static long
change(struct db *db, const char *sql, int n_times, time_t t,
       const char *what)
{
	sqlite3_stmt *s;
	long n = -1;
	int own;

	if (db_tx_start(db, &own) < 0)
		return -1;
	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) == SQLITE_OK) {
		if (n_times)
			sqlite3_bind_int64(s, 1, t);
		if (sqlite3_step(s) == SQLITE_DONE)
			n = sqlite3_changes(db->h);
		else
			db_err(db, what);
		sqlite3_finalize(s);
	} else {
		db_err(db, what);
	}
	return db_tx_end(db, own, n < 0 ? -1 : 0) < 0 ? -1 : n;
}

long
db_out_flush(struct db *db)
{
	return change(db,
	              "UPDATE outbound SET next_attempt = 0 WHERE "
	              "state IN ('queued', 'deferred')",
	              0, 0, "flushing the queue");
}

long
db_held_expire(struct db *db)
{
	return change(db,
	              "UPDATE held SET state = 'expired', decided_by = "
	              "'expiry', decided_at = ?1 WHERE state = 'held' AND "
	              "expires <= ?1",
	              1, db_now(db), "expiring held posts");
}

long
db_out_purge(struct db *db, time_t before)
{
	return change(db,
	              "DELETE FROM outbound WHERE state IN ('sent', "
	              "'failed') AND done_at < ?1",
	              1, before, "purging the outbound table");
}
