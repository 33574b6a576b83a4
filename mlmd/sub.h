/*
 * sub.h - joining and leaving: commands by mail (LIST-request@,
 * LIST+subscribe@, LIST+unsubscribe@, LIST+help@), confirmations by reply
 * (LIST+confirm-TOKEN@) or by web form (BASE/c/TOKEN), a member's own
 * one-click unsubscribe (LIST+unsubscribe-TOKEN@, BASE/u/LIST/TOKEN), and
 * the mails that go with them (confirm, results, welcome, goodbye,
 * export, forgotten), each in the person's language.
 *
 * The rule (DESIGN.md "Addresses"): nothing is changed, and nothing about
 * a person is disclosed, on the strength of a From: header.  Every change
 * (subscribe, unsubscribe, digest, nomail, language) and every disclosure
 * (export) or erasure (forget) asked for by mail waits for a confirmation
 * token, which goes to the address concerned; one confirmation covers all
 * the changes of one mail.  Only `help`, `lists` and `which` are answered
 * at once, and their answer too goes to that address.
 *
 * Against confirmation bombing: at most one pending confirmation per
 * address and list within confirm_window, at most confirm_domain_hourly
 * to one domain and confirm_hourly in all; past a cap nothing is sent at
 * all (logged).  Immediate answers count as notices (a few a day per
 * address).  Mail from MAILER-DAEMON or <>, automatic mail (Auto-Submitted,
 * Precedence), reports (multipart/report) and mail carrying a List-Id or
 * X-Loop is never answered.
 *
 * Every function that changes state runs inside the caller's transaction
 * (the dispatcher's) or opens its own (the web entry points); mails are
 * files under HOME/out, flushed before the rows that queue them.
 */
#ifndef MLMD_SUB_H
#define MLMD_SUB_H

#include "addr.h"
#include "buf.h"

struct conf;
struct db;
struct dmarc;
struct msg;
struct list_conf;
struct tmpl_set;
struct tmpl_vars;
struct token_key;

struct sub_ctx {
	const struct conf *conf;
	struct db *db;
	const struct tmpl_set *tmpl;
	const struct token_key *key;
	struct dmarc *dmarc; /* for posts approved by a moderator; NULL:
	                      * no lookups */
};

/*
 * A mail to one of the addresses above (r->role ROLE_REQUEST,
 * ROLE_SUBSCRIBE, ROLE_UNSUBSCRIBE, ROLE_HELP or ROLE_CONFIRM).  Call
 * inside db_begin().  0 (also when the mail is ignored), -1 on error
 * (roll back and retry).
 */
int sub_mail(const struct sub_ctx *ctx, const char *spool_id,
	     const char *sender, const struct msg *msg, const struct route *r);

/*
 * The web front door: the page (templates/LANG/page.html) for a
 * confirmation link (BASE/c/TOKEN) and for a member's one-click link
 * (BASE/u/LIST/TOKEN), rendered into html; lang (at least 16 bytes) gets
 * its language.  post 0 only shows what a POST would do (link scanners
 * fetch with GET); post 1 acts, in its own transaction.  peer goes into
 * the consent record.  Returns the HTTP status (200, 400, 404, 410, 500).
 */
int sub_web_confirm(const struct sub_ctx *ctx, const char *token, int post,
		    const char *peer, struct buf *html, char *lang);
int sub_web_unsubscribe(const struct sub_ctx *ctx, const char *list,
			const char *token, int post, const char *peer,
			struct buf *html, char *lang);

/*
 * The personal List-Unsubscribe and List-Unsubscribe-Post fields for
 * address's copy of a post to list, each line ended by eol, appended to
 * out.  member: the membership the copy was queued for (outbound.member:
 * in list or in a list it includes), or 0 to look it up.  0, 1 if address
 * is no member (nothing added), -1 on error.
 */
int sub_unsub_headers(const struct sub_ctx *ctx, const char *list,
		      const char *address, long long member, const char *eol,
		      struct buf *out);

/*
 * `mlmctl add`: invite address to list (a confirmation as if the person
 * had asked, without the caps), or send the welcome to a member added
 * directly.  Call inside db_begin().  0, 1 (already a member: nothing
 * sent), -1.
 */
int sub_invite(const struct sub_ctx *ctx, const char *list,
	       const char *address, const char *operator_);
int sub_welcome(const struct sub_ctx *ctx, const char *list,
		const char *address);

/*
 * One of mlmd's own mails: template tmpl rendered with v in the first
 * language of langs that has it, composed (from LIST-request@ or, with
 * from_owner, LIST-owner@; List-Id; Auto-Submitted), written as
 * HOME/out/FILE, flushed, and queued as kind for to, from <>.  Call
 * inside db_begin().  0 / -1.
 */
struct sub_mail {
	const struct list_conf *l;
	const char *to;
	const char *const *langs;
	const char *tmpl;
	struct tmpl_vars *v;
	const char *kind;        /* outbound kind: notice, reply, moderate */
	const char *reply_to;    /* or NULL */
	const char *file;        /* unique name under HOME/out */
	const char *in_reply_to; /* Message-ID without <>, or NULL */
	const char *attach;      /* a message to attach, or NULL */
	size_t attach_len;
	const char *envelope;    /* envelope sender, NULL: <> */
	int from_owner;
	int auto_replied;        /* Auto-Submitted: auto-replied (else
	                          * auto-generated) */
};
int sub_send(const struct sub_ctx *ctx, const struct sub_mail *m);

/* Why a mail to one of our command addresses gets no answer at all (in
 * buf, 256 bytes), or NULL: no usable From:, our own domain, List-Id or
 * X-Loop, a report, automatic mail, <> or MAILER-DAEMON. */
const char *sub_ignored(const struct sub_ctx *ctx, const struct list_conf *l,
			const struct msg *msg, const char *sender,
			const char *person, char *buf);

/* Remove address from l and, for an umbrella list, from every list it
 * gathers (the one way to stop its mail); how: the consent record.
 * Members removed, or -1. */
int sub_leave(const struct sub_ctx *ctx, const struct list_conf *l,
	      const char *address, const char *how);

/* Housekeeping: delete expired and long-used tokens.  Rows or -1. */
long sub_expire(const struct sub_ctx *ctx);

#endif
