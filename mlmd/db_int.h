/*
 * db_int.h - what the db*.c files share and nobody else sees: the
 * struct db behind the opaque handle of db.h, and the migration entry
 * point.  Only db*.c include this (SQLite stays behind the db module).
 */
#ifndef MLMD_DB_INT_H
#define MLMD_DB_INT_H

#include <sqlite3.h>
#include <time.h>

#include "db.h"

/* Cached prepared statements, one per fixed query (db.c: stmt_sql[]). */
enum db_stmt {
	ST_MEMBER_FIND,
	ST_MEMBER_GET,
	ST_MEMBER_INSERT,
	ST_MEMBER_DELETE,
	ST_MEMBER_COUNT,
	ST_PERSON_INSERT,
	ST_CONSENT_INSERT,
	ST_LOG_INSERT,
	ST_INBOUND_DONE,
	ST_INBOUND_INSERT,
	/* db_post.c */
	ST_OUT_ADD,
	ST_OUT_ADD_MEMBERS,
	ST_OUT_ADD_MEMBERS_VERP,
	ST_OUT_DUE,
	ST_OUT_SENT,
	ST_OUT_SENT_MANY,
	ST_OUT_DEFER,
	ST_OUT_FAIL,
	ST_OUT_NEXT_DUE,
	ST_OUT_PATH_PENDING,
	ST_OUT_RECENT,
	ST_HELD_INSERT,
	ST_HELD_GET,
	ST_HELD_DECIDE,
	ST_MEMBER_ANY,
	ST_ACCEPT_FIND,
	ST_MSG_INSERT,
	ST_MSG_THREAD,
	ST_MSG_SET_THREAD,
	ST_MSG_TEXT,
	/* db_sub.c */
	ST_MEMBER_ID,
	/* db_archive.c */
	ST_ARCH_MONTH,
	ST_ARCH_THREAD,
	ST_ARCH_GET,
	ST_ARCH_PREV,
	ST_ARCH_NEXT,
	ST_N
};

struct db {
	sqlite3 *h;
	char *path;
	time_t fixed_now;       /* db_set_now(); 0: the real clock */
	sqlite3_stmt *st[ST_N]; /* prepared on first use */
};

/*
 * Bring the schema at db->h up to db_schema_version(), one transaction
 * per migration; refuse a database newer than this build.  0 / -1.
 */
int db_migrate(struct db *db);

/* Shared by db*.c (defined in db.c). */
/* The statement `which`, prepared from sql on first use, reset. */
sqlite3_stmt *db_cached(struct db *db, enum db_stmt which, const char *sql);
/* Log "PATH: what: sqlite's message"; returns -1. */
int db_err(struct db *db, const char *what);
/* db_set_now()'s time or the clock. */
time_t db_now(const struct db *db);
/* Step a statement that returns no rows, then reset it; 0 / -1. */
int db_run(struct db *db, sqlite3_stmt *st, const char *what);
/* Own transaction unless the caller has one (*own says which) ... */
int db_tx_start(struct db *db, int *own);
/* ... and its end: commit if rc >= 0, else roll back; rc or -1. */
int db_tx_end(struct db *db, int own, int rc);
/* Step a bound query: 1 if it returns a row, 0 if none, -1 (logged with
 * what) on error; the statement is reset. */
int db_exists(struct db *db, sqlite3_stmt *st, const char *what);
/* Column i as text, "" for NULL. */
const char *db_col(sqlite3_stmt *st, int i);
/* A one-shot statement (the caller finalizes it), or NULL (logged). */
sqlite3_stmt *db_prep(struct db *db, const char *sql);
/* Bind v (NULL as "") as text, copied. */
void db_bind(sqlite3_stmt *s, int i, const char *v);

#endif
