/*
 * digest.h - digests (issue 7): posts collected per list as they are
 * distributed, sent per the list's schedule (daily, weekly on a weekday,
 * monthly on the 1st, at digest_hour in the list's time zone) or early
 * when they pass digest_size, to every member who takes digests, each in
 * their format (MIME or plain) and language.
 *
 * Exactly once: an issue is closed before it is composed (later posts
 * open the next one), and its copies are queued in the same transaction
 * that marks it sent; a crash in between leaves it closed, and the next
 * run composes and queues it again, once.  The schedule is derived from
 * the time an issue opened, so one whose time passed while the daemon
 * was down goes out at the next run (start-up), once.
 */
#ifndef MLMD_DIGEST_H
#define MLMD_DIGEST_H

#include <stddef.h>
#include <time.h>

struct conf;
struct db;
struct list_conf;

/*
 * A post (archive row row, size bytes) was distributed on list l: add it
 * to the open digest of l and of every list l gathers (its members got
 * it too), in the caller's transaction.  1 if a digest passed its
 * digest_size (the caller should run digest_run() soon), 0, -1.
 */
int digest_collect(const struct conf *c, struct db *db,
		   const struct list_conf *l, long long row, size_t size);

/* When an issue of l opened at created is due (0 for digest = none). */
time_t digest_due(const struct list_conf *l, time_t created);

/*
 * Send every digest due at now, and finish any a crash left closed but
 * unsent: compose each format and language once (HOME/out/), queue a
 * copy per digest member.  Issues sent, or -1.
 */
long digest_run(const struct conf *c, struct db *db, time_t now);

/* Send list's open digest now, due or not: 1 sent, 0 nothing collected,
 * -1 (logged). */
int digest_send_now(const struct conf *c, struct db *db, const char *list);

#endif
