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

#endif
