/*
 * db.h - the store: one SQLite database (home/mlmd.db) in WAL mode with
 * synchronous=NORMAL and a busy timeout; schema changes are ordered
 * migrations keyed on PRAGMA user_version.  SQLite stays inside db*.c;
 * the rest of mlmd sees these functions and its own structs.
 *
 * Every state change is one transaction: either a single call below (which
 * opens and commits its own transaction when none is open) or a
 * db_begin()/db_commit() pair around several.  All functions return 0 on
 * success and -1 on error (logged), unless documented otherwise.  Strings
 * handed out are owned by the caller unless marked borrowed.
 */
#ifndef MLMD_DB_H
#define MLMD_DB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

struct db;

/* Open (creating and migrating as needed) the database at path. */
struct db *db_open(const char *path);
void db_close(struct db *db);
/* The schema version this build migrates to. */
int db_schema_version(void);
/* Use t as the current time for every timestamp written from now on
 * (tests, simulated clocks); 0 returns to the real clock. */
void db_set_now(struct db *db, time_t t);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Nested db_begin() is an error. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/* 1 if a transaction is open on this handle, else 0. */
int db_in_transaction(struct db *db);

/*
 * Append to the event log (the participation reports' source; no address
 * is ever stored there): kind such as "subscribe", "post", "bounce"; ref
 * an optional non-personal reference (NULL for none); n a count.
 */
int db_log_event(struct db *db, const char *list, const char *kind,
		 const char *ref, long n);

/* Delivery mode of a member. */
enum delivery { DELIVER_EACH = 0, DELIVER_DIGEST_MIME, DELIVER_DIGEST_PLAIN,
		DELIVER_NOMAIL };

struct member {
	char *list;     /* list name */
	char *address;  /* normalised */
	char *name;     /* display name, "" if none */
	char *language; /* "" = the list's */
	enum delivery delivery;
	time_t since;   /* when subscribed */
};
void member_clear(struct member *m);
/* "each", "digest-mime", "digest-plain", "nomail" (static). */
const char *db_delivery_name(enum delivery d);

/*
 * Add a member.  how records consent ("import by root from FILE",
 * "confirmed <msgid>", "mlmctl add by root", ...).  Returns 0 if added,
 * 1 if already a member (nothing changed), -1 on error.
 */
int db_member_add(struct db *db, const char *list, const char *address,
		  const char *name, const char *language, const char *how);
/* 0 removed, 1 was not a member, -1 error. */
int db_member_remove(struct db *db, const char *list, const char *address,
		     const char *how);
/* 0 found (*out filled, caller clears), 1 not a member, -1 error. */
int db_member_get(struct db *db, const char *list, const char *address,
		  struct member *out);
/* Call fn for each member of list, ordered by address; fn returning
 * non-zero stops the walk and that value is returned.  The strings in *m
 * are borrowed for the duration of the call. */
int db_member_each(struct db *db, const char *list,
		   int (*fn)(const struct member *m, void *arg), void *arg);
/* Number of members of list, or -1. */
long db_member_count(struct db *db, const char *list);

/*
 * Intake bookkeeping: the dispatcher records each spool file it has
 * processed, keyed by its spool id, in the same transaction as the
 * processing itself, so that a crash between commit and unlink never
 * processes a message twice.
 */
/* 1 if spool_id was processed already, 0 if not, -1 on error. */
int db_inbound_done(struct db *db, const char *spool_id);

struct inbound {
	const char *spool_id;
	const char *sender;     /* envelope sender, "" for <> */
	const char *recipient;  /* the one list address this row is for */
	const char *list;       /* list name */
	const char *role;       /* addr_role_name() */
	const char *message_id; /* without <> */
	const char *from_addr;
	const char *subject;
	time_t received;
	size_t size;
};
/* Record one (spool file, recipient) pair.  Call inside db_begin(). */
int db_inbound_add(struct db *db, const struct inbound *in);

#endif
