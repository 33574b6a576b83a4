/*
 * db_status.h - the store's side of `mlmctl status` (issue 10): a few
 * counts that say whether the daemon keeps up.  Read-only; SQLite stays
 * in db_status.c.
 */
#ifndef MLMD_DB_STATUS_H
#define MLMD_DB_STATUS_H

#include <time.h>

struct db;

struct db_health {
	long queued, deferred;     /* copies waiting to be sent */
	long sent_24h, failed_24h; /* copies finished since now - 24 h */
	/* the oldest deferred copy (id 0: none), its relay's last answer */
	long long oldest_id;
	time_t oldest_created;
	int oldest_attempts;
	char oldest_rcpt[321], oldest_code[16], oldest_error[256];
	long held;       /* posts waiting for a moderator */
	long digests;    /* digest issues collecting posts */
	long events;     /* active events not over yet (or recurring) */
};

/* Fill *h as of now: 0, or -1 (logged). */
int db_health(struct db *db, time_t now, struct db_health *h);

#endif
