/*
 * post.h - what happens to a message sent to a list: the post pipeline
 * (filters/), then distribution (decoration, archive row, one queued copy
 * per member), holding, rejection with a notice, or forwarding to the
 * owners.  Shared by the daemon's dispatcher and by `mlmctl approve`.
 *
 * Work is split in two so that files are durable before the database
 * refers to them, with one flush for many messages:
 *   post_prepare()  decides and writes the files the decision needs (the
 *                   decorated copy, a notice) under HOME/out/, not yet
 *                   flushed;
 *   post_sync()     one flush for everything prepared so far;
 *   post_commit()   inside the caller's transaction: queue the copies,
 *                   the held row, the archive row, the event log.
 * File names are derived from the spool id, so preparing the same
 * message again after a crash rewrites the same files.
 */
#ifndef MLMD_POST_H
#define MLMD_POST_H

#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "buf.h"

struct conf;
struct db;
struct dmarc;
struct msg;
struct spool_env;
struct tmpl_set;
struct list_conf;

struct post_ctx {
	const struct conf *conf;
	struct db *db;
	const struct tmpl_set *tmpl; /* footers and notices; NULL: none */
	struct dmarc *dmarc;         /* policy lookups; NULL: none (dmarc =
	                              * always still munges) */
};

struct post_plan;

/*
 * Decide what the message does for each routed recipient (routes[0..n),
 * from addr_route(); roles other than ROLE_POST and ROLE_OWNER are left
 * to their own handlers and get no action here).  msg NULL means the
 * message broke a parse limit: nothing is distributed.  approved_list:
 * the name of a list whose moderator approved this message (the policy
 * stage passes it), or NULL.  Returns a plan (never NULL); errors writing
 * files make post_commit() fail, so the message is retried.
 */
struct post_plan *post_prepare(const struct post_ctx *ctx,
			       const char *spool_id,
			       const struct spool_env *env,
			       const struct msg *msg, const char *raw,
			       size_t len, const struct route *routes,
			       size_t n, const char *approved_list);
/* Flush HOME/out (one syncfs for every file prepared). 0 / -1. */
int post_sync(const struct conf *c);
/* Record the plan; call inside db_begin().  0 / -1. */
int post_commit(const struct post_ctx *ctx, struct post_plan *p);
/* One log line per action of the plan ("SPOOLID: list denmark: ..."). */
void post_log(const struct post_plan *p);
void post_plan_free(struct post_plan *p);

/*
 * The held row ids the plan created, after post_commit() (for `mlmctl`
 * and tests): the count, and each with post_plan_held(p, i).
 */
size_t post_plan_n_held(const struct post_plan *p);
long long post_plan_held(const struct post_plan *p, size_t i);
/* 1 if held post i was held without telling anybody (a mail loop: no
 * notice, no moderation request either). */
int post_plan_held_quiet(const struct post_plan *p, size_t i);
/* Copies the plan queued for members and owners (after post_commit()). */
long post_plan_queued(const struct post_plan *p);

/*
 * A notice to the sender of a held post: rendered from template name
 * ("rejected.txt", ...) in the list's language, queued as kind 'notice'
 * for recipient.  Used by `mlmctl reject`.  Writes and flushes the file
 * itself; call inside db_begin().  0, 1 if no notice was due (null
 * sender, rate limit), -1 on error.
 */
int post_notify(const struct post_ctx *ctx, const char *list,
		const char *spool_id, const char *recipient,
		const char *tmpl_name, const char *subject,
		const char *message_id, const char *reason);

/* Write HOME/out/NAME (head, if not NULL, then data) via a temporary name
 * and a rename, not flushed (post_sync() does); *rel gets "out/NAME".
 * 0 / -1. */
int post_write_out(const struct conf *c, const char *name, const char *head,
		   const char *data, size_t len, char **rel);
/* The names of list l and of every list it includes, recursively, each
 * once, into names[0..max); returns the count. */
size_t post_lists(const struct conf *c, const struct list_conf *l,
		  const char **names, size_t max);

/* The 16 hex digits of a permalink (BLAKE2b of the Message-ID). */
void post_permalink_hash(const char *message_id, char out[17]);
/* The lists the plan distributed the post to (after post_commit()), and
 * the post's Message-ID (the one it was given, if it had none). */
size_t post_plan_n_distributed(const struct post_plan *p);
const char *post_plan_distributed(const struct post_plan *p, size_t i);
const char *post_plan_message_id(const struct post_plan *p);

/* A DMARC resolver with conf's dmarc_override entries (free with
 * dmarc_free()). */
struct dmarc *post_dmarc_new(const struct conf *c);

/*
 * Record msg (stored at store_path, relative to home) in list's archive
 * index with its search text, hidden if the list keeps no archive or the
 * message asks not to be archived (X-No-Archive: yes, Archive: no).
 * db_message_add()'s value: 0 added (*row set), 1 there already, -1.
 */
int post_archive_msg(struct db *db, const struct list_conf *l,
		     const struct msg *msg, const char *message_id,
		     const char *store_path, time_t received, size_t size,
		     long long *row);

/* The permalink of a post in the archive:
 * BASE_URL/archive/LIST/m/HASH.html (HASH: 16 hex digits of BLAKE2b of
 * the Message-ID), appended to out. */
void post_permalink(const struct conf *c, const char *list,
		    const char *message_id, struct buf *out);

#endif
