/*
 * db.c - the store: opening home/mlmd.db, transactions, members and the
 * inbound bookkeeping (db.h).  The schema and its migrations are in
 * db_schema.c.
 *
 * Owns the SQLite connection of one process.  Every connection runs with
 * journal_mode=WAL (readers never block the writer), synchronous=NORMAL
 * set explicitly (Debian's SQLite defaults to FULL, 12x slower on
 * autocommit; NORMAL in WAL mode loses at most the last transactions on
 * power loss, never consistency), foreign_keys=ON and a 5 s busy timeout
 * (mlmd and mlmctl share the file).
 *
 * Invariants: SQL is only prepared statements with bound values, cached
 * per connection; every state change is one transaction.  A function
 * below that changes state opens and commits its own BEGIN IMMEDIATE
 * transaction when none is open, or joins the caller's db_begin(); on
 * error in its own transaction it rolls back, in the caller's it leaves
 * the rollback to the caller.  Membership changes write the member row,
 * the consent record (GDPR) and the event log row (reports) in that same
 * transaction.  Addresses are lower-cased here again, whatever the caller
 * did (addr_normalise() is the caller's job; this is the last defence
 * against "Alice@" and "alice@" becoming two members).
 *
 * Called by mlmd (daemon.c), mlmctl (ctl_*.c) and the tests.  Every error
 * is logged and returned as -1; nothing here is fatal.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "db_int.h"
#include "log.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 5000
#define NAME_MAX_LEN    256 /* display names, bytes */
#define LANG_MAX_LEN    35  /* BCP 47 tags in practice */
#define HOW_MAX_LEN     1024

static const char *const stmt_sql[ST_N] = {
    [ST_MEMBER_FIND] = "SELECT 1 FROM members WHERE list = ?1 AND "
                       "address = ?2",
    [ST_MEMBER_GET] = "SELECT list, address, name, language, digest, "
                      "digest_format, nomail, since FROM members "
                      "WHERE list = ?1 AND address = ?2",
    [ST_MEMBER_INSERT] = "INSERT INTO members (list, address, name, "
                         "language, since) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_MEMBER_DELETE] = "DELETE FROM members WHERE list = ?1 AND "
                         "address = ?2",
    [ST_MEMBER_COUNT] = "SELECT count(*) FROM members WHERE list = ?1",
    [ST_PERSON_INSERT] = "INSERT OR IGNORE INTO persons (address, "
                         "created) VALUES (?1, ?2)",
    [ST_CONSENT_INSERT] = "INSERT INTO consents (address, list, action, "
                          "how, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_LOG_INSERT] = "INSERT INTO event_log (at, list, kind, ref, n) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_INBOUND_DONE] = "SELECT 1 FROM inbound WHERE spool_id = ?1 "
                        "LIMIT 1",
    [ST_INBOUND_INSERT] = "INSERT INTO inbound (spool_id, sender, "
                          "recipient, list, role, message_id, from_addr, "
                          "subject, received, size) VALUES (?1, ?2, ?3, "
                          "?4, ?5, ?6, ?7, ?8, ?9, ?10)",
};

int
db_err(struct db *db, const char *what)
{
	return error("%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

/* The cached statement, reset and with its bindings cleared. */
sqlite3_stmt *
db_cached(struct db *db, enum db_stmt which, const char *sql)
{
	sqlite3_stmt *st = db->st[which];

	if (!st) {
		if (sqlite3_prepare_v3(db->h, sql, -1,
		                       SQLITE_PREPARE_PERSISTENT, &st,
		                       NULL) != SQLITE_OK) {
			db_err(db, "preparing a statement");
			return NULL;
		}
		db->st[which] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static sqlite3_stmt *
stmt(struct db *db, enum db_stmt which)
{
	return db_cached(db, which, stmt_sql[which]);
}

time_t
db_now(const struct db *db)
{
	return db->fixed_now ? db->fixed_now : time(NULL);
}

static time_t
now(const struct db *db)
{
	return db_now(db);
}

/* Run a prepared statement that returns no rows; 0 / -1.  Leaves it
 * reset so that it holds no read lock. */
int
db_exists(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_err(db, what);
}

int
db_run(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_err(db, what);
	return 0;
}

static int
sql_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error("%s: %s: %s", db->path, sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* ----- open, close, transactions ------------------------------------------ */

/* One PRAGMA that answers with a value; checks the answer when want is
 * given (journal_mode answers the mode it actually got). */
static int
pragma(struct db *db, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	int rc, ok = 1;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(db, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && want) {
		const char *got = (const char *)sqlite3_column_text(st, 0);

		ok = got && strcmp(got, want) == 0;
		if (!ok)
			error("%s: %s gave '%s', not '%s'", db->path, sql,
			      got ? got : "", want);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(db, sql);
	return ok ? 0 : -1;
}

struct db *
db_open(const char *path)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int rc;

	db->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &db->h,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                         SQLITE_OPEN_NOMUTEX,
	                     NULL);
	if (rc != SQLITE_OK) {
		error("%s: cannot open the database: %s", path,
		      db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		db_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	/* journal_mode=WAL persists in the file, the others are per
	 * connection; synchronous must follow journal_mode. */
	if (pragma(db, "PRAGMA journal_mode = WAL", "wal") < 0 ||
	    pragma(db, "PRAGMA synchronous = NORMAL", NULL) < 0 ||
	    pragma(db, "PRAGMA foreign_keys = ON", NULL) < 0 ||
	    /* The queue's hot index pages stay in memory during a
	     * fan-out: 8 MiB of page cache (more, or mmap, bought no
	     * speed in bench/fanout, only resident memory). */
	    pragma(db, "PRAGMA cache_size = -8192", NULL) < 0 ||
	    db_migrate(db) < 0) {
		db_close(db);
		return NULL;
	}
	return db;
}

void
db_close(struct db *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < ST_N; i++)
		sqlite3_finalize(db->st[i]);
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		log_warn("%s: closing the database: %s", db->path,
		         sqlite3_errmsg(db->h));
	free(db->path);
	free(db);
}

void
db_set_now(struct db *db, time_t t)
{
	db->fixed_now = t;
}

int
db_begin(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		return error("%s: db_begin inside a transaction", db->path);
	return sql_exec(db, "BEGIN IMMEDIATE");
}

int
db_commit(struct db *db)
{
	if (sql_exec(db, "COMMIT") < 0) {
		/* a failed COMMIT may leave the transaction open */
		if (!sqlite3_get_autocommit(db->h))
			sql_exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

int
db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return 0; /* SQLite rolled back already (e.g. on SQLITE_FULL) */
	return sql_exec(db, "ROLLBACK");
}

int
db_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(db->h);
}

/* Open our own transaction unless the caller has one; *own says which. */
int
db_tx_start(struct db *db, int *own)
{
	*own = sqlite3_get_autocommit(db->h);
	return *own ? db_begin(db) : 0;
}

/* End what db_tx_start() began: commit if rc >= 0, else roll back.  Returns
 * rc, or -1 if the commit failed. */
int
db_tx_end(struct db *db, int own, int rc)
{
	if (!own)
		return rc;
	if (rc < 0) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db) < 0 ? -1 : rc;
}

/* ----- event log ---------------------------------------------------------- */

int
db_log_event(struct db *db, const char *list, const char *kind, const char *ref,
             long n)
{
	sqlite3_stmt *st = stmt(db, ST_LOG_INSERT);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now(db));
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ref ? ref : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, n);
	return db_run(db, st, "writing the event log");
}

/* ----- members ------------------------------------------------------------ */

static const char *const delivery_names[] = {
    [DELIVER_EACH] = "each",
    [DELIVER_DIGEST_MIME] = "digest-mime",
    [DELIVER_DIGEST_PLAIN] = "digest-plain",
    [DELIVER_NOMAIL] = "nomail",
};

const char *
db_delivery_name(enum delivery d)
{
	if ((size_t)d >= ARRAY_SIZE(delivery_names))
		return "?";
	return delivery_names[d];
}

/*
 * The key form of an address, lower-cased into out (ADDR_MAX + 1 bytes),
 * whatever the caller did.  -1 for what can never be an address: empty,
 * too long, no '@', space or control characters.
 */
static int
key_addr(struct db *db, const char *in, char *out)
{
	const char *p;

	if (!in || !*in || strlen(in) > ADDR_MAX || !strchr(in, '@'))
		return error("%s: '%s' is no address", db->path,
		             in ? in : "(null)");
	for (p = in; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return error("%s: address with a space or control "
			             "character refused",
			             db->path);
	strlcpy_(out, in, ADDR_MAX + 1);
	str_lower(out);
	return 0;
}

/* Display names and languages end up in headers and CSV: refuse control
 * characters (a newline would be a header injection) and bound them. */
static int
check_text(struct db *db, const char *what, const char *s, size_t max)
{
	const unsigned char *p;

	if (strlen(s) > max)
		return error("%s: %s longer than %zu bytes refused", db->path,
		             what, max);
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return error("%s: %s with a control character refused",
			             db->path, what);
	return 0;
}

/* 1 if (list, key) is a member, 0 if not, -1 on error. */
static int
member_exists(struct db *db, const char *list, const char *key)
{
	sqlite3_stmt *st = stmt(db, ST_MEMBER_FIND);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return db_exists(db, st, "looking up a member");
}

static int
consent(struct db *db, const char *key, const char *list, const char *action,
        const char *how)
{
	sqlite3_stmt *st = stmt(db, ST_CONSENT_INSERT);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, how, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now(db));
	return db_run(db, st, "recording consent");
}

static int
member_insert(struct db *db, const char *list, const char *key,
              const char *name, const char *language, const char *how)
{
	char lang[LANG_MAX_LEN + 1];
	sqlite3_stmt *st;

	strlcpy_(lang, language, sizeof(lang));
	str_lower(lang);
	if (!(st = stmt(db, ST_PERSON_INSERT)))
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now(db));
	if (db_run(db, st, "recording a person") < 0)
		return -1;
	if (!(st = stmt(db, ST_MEMBER_INSERT)))
		return -1;
	sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, lang, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now(db));
	if (db_run(db, st, "adding a member") < 0)
		return -1;
	if (consent(db, key, list, "subscribe", how) < 0)
		return -1;
	return db_log_event(db, list, "subscribe", NULL, 1);
}

int
db_member_add(struct db *db, const char *list, const char *address,
              const char *name, const char *language, const char *how)
{
	char key[ADDR_MAX + 1];
	int own, rc;

	if (!name)
		name = "";
	if (!language)
		language = "";
	if (!list || !*list)
		return error("%s: member without a list", db->path);
	if (!how || !*how)
		return error("%s: member added without a consent record",
		             db->path);
	if (key_addr(db, address, key) < 0 ||
	    check_text(db, "display name", name, NAME_MAX_LEN) < 0 ||
	    check_text(db, "language", language, LANG_MAX_LEN) < 0 ||
	    check_text(db, "consent record", how, HOW_MAX_LEN) < 0)
		return -1;
	if (db_tx_start(db, &own) < 0)
		return -1;
	rc = member_exists(db, list, key);
	if (rc == 0)
		rc = member_insert(db, list, key, name, language, how);
	return db_tx_end(db, own, rc);
}

int
db_member_remove(struct db *db, const char *list, const char *address,
                 const char *how)
{
	char key[ADDR_MAX + 1];
	sqlite3_stmt *st;
	int own, rc;

	if (!how || !*how)
		return error("%s: member removed without a record of how",
		             db->path);
	if (key_addr(db, address, key) < 0 ||
	    check_text(db, "consent record", how, HOW_MAX_LEN) < 0)
		return -1;
	if (db_tx_start(db, &own) < 0)
		return -1;
	rc = member_exists(db, list, key);
	if (rc == 0) {
		rc = 1;
	} else if (rc == 1) {
		rc = -1;
		if ((st = stmt(db, ST_MEMBER_DELETE))) {
			sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
			if (db_run(db, st, "removing a member") == 0 &&
			    consent(db, key, list, "unsubscribe", how) == 0 &&
			    db_log_event(db, list, "unsubscribe", NULL, 1) == 0)
				rc = 0;
		}
	}
	return db_tx_end(db, own, rc);
}

const char *
db_col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

/* Columns of ST_MEMBER_GET and the walk, in that order. */
static enum delivery
col_delivery(sqlite3_stmt *st)
{
	if (sqlite3_column_int(st, 6))
		return DELIVER_NOMAIL;
	if (!sqlite3_column_int(st, 4))
		return DELIVER_EACH;
	return strcmp(db_col(st, 5), "plain") == 0 ? DELIVER_DIGEST_PLAIN
	                                        : DELIVER_DIGEST_MIME;
}

int
db_member_get(struct db *db, const char *list, const char *address,
              struct member *out)
{
	char key[ADDR_MAX + 1];
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (key_addr(db, address, key) < 0 || !(st = stmt(db, ST_MEMBER_GET)))
		return -1;
	sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->list = xstrdup(db_col(st, 0));
		out->address = xstrdup(db_col(st, 1));
		out->name = xstrdup(db_col(st, 2));
		out->language = xstrdup(db_col(st, 3));
		out->delivery = col_delivery(st);
		out->since = (time_t)sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return db_err(db, "reading a member");
}

void
member_clear(struct member *m)
{
	free(m->list);
	free(m->address);
	free(m->name);
	free(m->language);
	memset(m, 0, sizeof(*m));
}

int
db_member_each(struct db *db, const char *list,
               int (*fn)(const struct member *m, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	/* Not cached: fn may start another walk (nested statements). */
	if (sqlite3_prepare_v2(db->h,
	                       "SELECT list, address, name, language, "
	                       "digest, digest_format, nomail, since "
	                       "FROM members WHERE list = ?1 "
	                       "ORDER BY address",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_err(db, "listing members");
	sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* borrowed from the statement for the call only */
		struct member m = {
		    (char *)db_col(st, 0), (char *)db_col(st, 1),
		    (char *)db_col(st, 2), (char *)db_col(st, 3),
		    col_delivery(st),   (time_t)sqlite3_column_int64(st, 7),
		};

		if ((ret = fn(&m, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_err(db, "listing members");
	sqlite3_finalize(st);
	return ret;
}

long
db_member_count(struct db *db, const char *list)
{
	sqlite3_stmt *st = stmt(db, ST_MEMBER_COUNT);
	long n = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	else
		db_err(db, "counting members");
	sqlite3_reset(st);
	return n;
}

/* ----- inbound ------------------------------------------------------------ */

int
db_inbound_done(struct db *db, const char *spool_id)
{
	sqlite3_stmt *st = stmt(db, ST_INBOUND_DONE);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, spool_id, -1, SQLITE_STATIC);
	return db_exists(db, st, "looking up a spool id");
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

int
db_inbound_add(struct db *db, const struct inbound *in)
{
	sqlite3_stmt *st;

	if (!in->spool_id || !*in->spool_id)
		return error("%s: inbound row without a spool id", db->path);
	if (sqlite3_get_autocommit(db->h))
		return error("%s: db_inbound_add outside a transaction",
		             db->path);
	if (!(st = stmt(db, ST_INBOUND_INSERT)))
		return -1;
	sqlite3_bind_text(st, 1, in->spool_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nz(in->sender), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, nz(in->recipient), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, nz(in->list), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, nz(in->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, nz(in->message_id), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, nz(in->from_addr), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, nz(in->subject), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)in->received);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)in->size);
	return db_run(db, st, "recording an inbound message");
}

sqlite3_stmt *
db_prep(struct db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(db, "preparing a statement");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

void
db_bind(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_TRANSIENT);
}
