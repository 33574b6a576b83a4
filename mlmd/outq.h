/*
 * outq.h - the daemon's outbound queue runner (outq.c): sends the rows of
 * the outbound table through the relay (out_smtp) or into the maildir
 * relay (out_maildir) and records each recipient's result.
 */
#ifndef MLMD_OUTQ_H
#define MLMD_OUTQ_H

#include <stddef.h>

struct mlmd;
struct outq;

/* Set up the transport of m->conf->relay on m->loop; NULL on error. */
struct outq *outq_new(struct mlmd *m);
/* Record finished results; abandon transactions in flight (their rows
 * stay queued and go out at the next start). */
void outq_free(struct outq *q);
/* New rows may be due: look at the table after this loop iteration.
 * flush: also end a pause for an unreachable relay (`mlmctl flush`). */
void outq_kick(struct outq *q, int flush);
/* Transactions handed to the relay and not finished. */
size_t outq_in_flight(const struct outq *q);

/*
 * Remove files under HOME/out that no waiting row needs and that were
 * last written min_age seconds ago or earlier (0 at start-up, when no
 * plan is half done in this process).  Returns how many.
 */
int outq_gc(struct mlmd *m, long min_age);

/*
 * For other processes (mlmctl): tell the daemon of home to look at its
 * queue now, by creating HOME/kick/WHAT.PID ("flush" or "queue"), which
 * the daemon watches.  0 / -1 (the daemon also looks every 30 s).
 */
int outq_poke(const char *home, const char *what);

#endif
