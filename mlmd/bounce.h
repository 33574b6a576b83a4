/*
 * bounce.h - what mlmd does with mail to LIST+bounce@ and
 * LIST+bounce-INFO@: delivery status notifications and feedback reports
 * about members, parsed by dsn.c.
 *
 *  - The address a bounce is about: the VERP INFO (user=domain) when the
 *    copy went out with one (the only address that cannot be wrong),
 *    else the DSN's recipients.  Only failures count (Action: failed);
 *    delays, relays and expansions never do.
 *  - Hard failures add 1 to the member's score, soft ones 0.5; the score
 *    halves every bounce_decay.  Policy and DMARC refusals (5.7.x, ...)
 *    and content refusals are recorded but never count.  When the
 *    failures of one post come from bounce_content_domains domains or
 *    more, the post is the problem: what its bounces added is taken
 *    back, and the owners are told.
 *  - At bounce_threshold a probe goes out (probe.txt) from
 *    LIST+bounce-probe-TOKEN@; if it bounces, delivery to the member is
 *    paused (members.disabled) and the owners are told; if it does not
 *    within bounce_probe_wait, the score starts again from 0.  A member
 *    paused for bounce_remove_after is removed, and the owners are told.
 *  - A feedback report (ARF, RFC 5965) about a member unsubscribes them
 *    at once (they said it is spam), and they get a confirmation mail
 *    that brings them back with one reply or one click.
 */
#ifndef MLMD_BOUNCE_H
#define MLMD_BOUNCE_H

struct msg;
struct route;
struct sub_ctx;

/* A mail to the bounce address (r->role ROLE_BOUNCE), inside the
 * dispatcher's transaction.  0 (also when it is no bounce), -1. */
int bounce_mail(const struct sub_ctx *ctx, const char *spool_id,
		const char *sender, const struct msg *msg,
		const struct route *r);

/* The relay refused a member's copy of a post at RCPT or after DATA
 * (code "550", text its reply) of post message_id: scored like a DSN.  Inside the caller's
 * transaction.  0 / -1. */
int bounce_refused(const struct sub_ctx *ctx, const char *list,
		   const char *address, const char *code, const char *text,
		   const char *message_id);

/* Hourly: probes that did not bounce, paused members past
 * bounce_remove_after.  Changes, or -1. */
long bounce_housekeeping(const struct sub_ctx *ctx);

#endif
