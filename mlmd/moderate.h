/*
 * moderate.h - moderation by mail: each held post goes to every moderator
 * of its list (its owners when it has none) with the post attached and a
 * reply address of that moderator's own (LIST+moderate-TOKEN@); the reply
 * decides.  The first word of the reply's first line that is not quoted
 * (or of its Subject after Re:) decides:
 *
 *   approve           the post goes to the list
 *   approve always    and its sender joins the list's accept_senders
 *   reject [REASON]   refused; the sender is told REASON
 *   discard           dropped silently
 *
 * A plain reply (nothing written above the quoted text) approves.  Any
 * other first word changes nothing and the moderator is told so.  The
 * first decision wins (db_held_decide()); the other moderators are told,
 * and a moderator whose reply comes after it is told too.  No shared
 * password: a decision needs a token that only that moderator received,
 * checked like every token (token.h); replies that are automatic mail
 * decide nothing (sub_ignored()).
 *
 * Held posts expire after held_lifetime; the sender is told.  While posts
 * wait, each moderator gets one summary a day.
 */
#ifndef MLMD_MODERATE_H
#define MLMD_MODERATE_H

#include <stddef.h>

struct list_conf;
struct msg;
struct post_plan;
struct route;
struct sub_ctx;

/*
 * After post_commit() of plan, in the same transaction: a moderation
 * request for each post it held.  raw/len: the post as received (it is
 * attached).  0 / -1.
 */
int moderate_requests(const struct sub_ctx *ctx, const struct post_plan *plan,
		      const char *spool_id, const char *raw, size_t len);

/* A reply to LIST+moderate-TOKEN@ (r->role ROLE_MODERATE), inside the
 * dispatcher's transaction.  0 (also when ignored), -1 on error. */
int moderate_mail(const struct sub_ctx *ctx, const char *spool_id,
		  const char *sender, const struct msg *msg,
		  const struct route *r);

/*
 * subscription = moderate: address confirmed that it wants to join l
 * (action: "subscribe", "subscribe digest" or "subscribe nomail"; how:
 * the consent record so far).  Each owner (moderators when there are
 * none) gets sub_request.txt with a reply address of their own, and the
 * person sub_waiting.txt.  A reply's first word decides as for posts
 * (approve; reject REASON: the person gets sub_refused.txt; discard);
 * the first decision wins.  Inside the caller's transaction.  0 / -1.
 */
int moderate_subscription(const struct sub_ctx *ctx,
			  const struct list_conf *l, const char *address,
			  const char *action, const char *how,
			  const char *prefix);

/* Housekeeping, in its own transactions: held posts past their time
 * expire (their senders are told), and moderators get their daily
 * summary.  Posts expired, or -1. */
long moderate_housekeeping(const struct sub_ctx *ctx);

#endif
