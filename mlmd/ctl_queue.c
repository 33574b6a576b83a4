/*
 * ctl_queue.c - the outbound queue by hand: `mlmctl queue [--all]` shows
 * the copies waiting to be sent, `mlmctl flush` makes them all due now
 * (mlmctl(1)).
 *
 * Invariants:
 *  - Read-only except for flush, which changes only next_attempt (one
 *    statement, db_out_flush()); the daemon's queue runner (outq.c) owns
 *    every other change to the outbound table.
 *  - `queue` reads the table once: the summary (per list and kind) and
 *    the rows shown come from the same walk, so they agree.  Rows in
 *    flight ('sending') are not waiting and are not shown.
 *  - Text from the relay (its last answer) and recipients go through
 *    ctl_safe(): a hostile server cannot write control sequences to the
 *    operator's terminal.
 *
 * Called by mlmctl.c's dispatch table with argv[0] the command name.
 * Returns sysexits codes: 0; EX_USAGE; EX_UNAVAILABLE (database cannot
 * be opened); EX_TEMPFAIL (database error, nothing changed); EX_IOERR
 * (stdout).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "outq.h"
#include "util.h"

#define ROWS_SHOWN  100 /* rows listed unless --all */
#define ERROR_SHOWN 120 /* characters of the relay's last answer */
#define ADDR_SHOWN  80
#define GROUPS_MAX  1000 /* (list, kind) pairs summed; more: "other" */

struct group {
	char *list, *kind;
	long n;
	time_t oldest, next;
};

struct queue_walk {
	time_t now;
	long limit; /* rows to list; -1 all */
	long n;     /* rows seen */
	struct group *g;
	size_t n_g, cap_g;
	struct buf rows; /* the listed rows, printed after the summary */
};

static struct group *
group_of(struct queue_walk *w, const char *list, const char *kind)
{
	struct group *g;
	size_t i;

	for (i = 0; i < w->n_g; i++)
		if (strcmp(w->g[i].list, list) == 0 &&
		    strcmp(w->g[i].kind, kind) == 0)
			return &w->g[i];
	if (w->n_g == GROUPS_MAX) {
		/* lists come from the conf and kinds from mlmd: never
		 * reached in practice, but bounded all the same */
		list = "(other)";
		kind = "-";
		for (i = 0; i < w->n_g; i++)
			if (strcmp(w->g[i].list, list) == 0)
				return &w->g[i];
	}
	w->g = xgrow(w->g, &w->cap_g, w->n_g + 1, sizeof(*w->g));
	g = &w->g[w->n_g++];
	memset(g, 0, sizeof(*g));
	g->list = xstrdup(list);
	g->kind = xstrdup(kind);
	return g;
}

/* "now" if due, else the local time. */
static void
next_str(time_t t, time_t now, char *out, size_t outsz)
{
	if (t <= now)
		strlcpy_(out, "now", outsz);
	else
		ctl_when(t, out, outsz);
}

static int
walk_row(const struct out_row *r, void *arg)
{
	struct queue_walk *w = arg;
	struct group *g = group_of(w, r->list, r->kind);
	char next[64];

	g->n++;
	if (!g->oldest || r->created < g->oldest)
		g->oldest = r->created;
	if (g->n == 1 || r->next_attempt < g->next)
		g->next = r->next_attempt;
	if (w->limit < 0 || w->n < w->limit) {
		next_str(r->next_attempt, w->now, next, sizeof(next));
		buf_printf(&w->rows, "%lld\t%s\t%s\t", r->id, r->list, r->kind);
		ctl_safe(&w->rows, r->recipient, ADDR_SHOWN);
		buf_printf(&w->rows, "\t%s\t%d\t%s\t", r->state, r->attempts,
		           next);
		if (*r->last_code || *r->last_error) {
			ctl_safe(&w->rows, r->last_code, 16);
			if (*r->last_code && *r->last_error)
				buf_addc(&w->rows, ' ');
			ctl_safe(&w->rows, r->last_error, ERROR_SHOWN);
		} else {
			buf_addc(&w->rows, '-');
		}
		buf_addc(&w->rows, '\n');
	}
	w->n++;
	return 0;
}


int
ctl_queue(struct ctl *ctl, int argc, char **argv)
{
	struct queue_walk w;
	struct db *db;
	size_t i;
	long seen;

	memset(&w, 0, sizeof(w));
	w.limit = ROWS_SHOWN;
	if (argc == 2 && strcmp(argv[1], "--all") == 0) {
		w.limit = -1;
	} else if (argc != 1) {
		fprintf(stderr,
		        "mlmctl: usage: mlmctl -c FILE queue [--all]\n");
		return EX_USAGE;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	w.now = time(NULL);
	buf_init(&w.rows, 0);
	seen = db_out_each(db, 0, 0, -1, walk_row, &w);
	if (seen < 0) {
		fprintf(stderr, "mlmctl: queue: database error (try again)\n");
		buf_free(&w.rows);
		for (i = 0; i < w.n_g; i++) {
			free(w.g[i].list);
			free(w.g[i].kind);
		}
		free(w.g);
		return EX_TEMPFAIL;
	}
	if (w.n == 0) {
		printf("the queue is empty\n");
	} else {
		printf("%ld %s waiting\n", w.n, w.n == 1 ? "copy" : "copies");
		for (i = 0; i < w.n_g; i++) {
			char age[32], next[64];

			ctl_age(w.g[i].oldest, w.now, age, sizeof(age));
			next_str(w.g[i].next, w.now, next, sizeof(next));
			printf("%s\t%s\t%ld\toldest %s\tnext %s\n", w.g[i].list,
			       w.g[i].kind, w.g[i].n, age, next);
		}
		printf("\n");
		fputs(buf_str(&w.rows), stdout);
		if (w.limit >= 0 && w.n > w.limit)
			printf("... and %ld more (mlmctl queue --all shows "
			       "them)\n",
			       w.n - w.limit);
	}
	buf_free(&w.rows);
	for (i = 0; i < w.n_g; i++) {
		free(w.g[i].list);
		free(w.g[i].kind);
	}
	free(w.g);
	return ctl_flush_stdout();
}

int
ctl_flush(struct ctl *ctl, int argc, char **argv)
{
	struct db *db;
	long n;

	if (argc != 1) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE flush\n");
		(void)argv;
		return EX_USAGE;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	if ((n = db_out_flush(db)) < 0) {
		fprintf(stderr,
		        "mlmctl: flush: database error, nothing changed (try "
		        "again)\n");
		return EX_TEMPFAIL;
	}
	/* Also when nothing waits: "flush" ends the daemon's pause after
	 * an unreachable relay. */
	if (outq_poke(ctl->conf->home, "flush") < 0)
		fprintf(stderr,
		        "mlmctl: flush: could not tell the daemon (%s/kick): "
		        "it looks again within 30 seconds\n",
		        ctl->conf->home);
	printf("%ld %s made due now\n", n, n == 1 ? "copy" : "copies");
	return ctl_flush_stdout();
}
