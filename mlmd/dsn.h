/*
 * dsn.h - bounces and feedback reports: what a message that arrived at a
 * bounce address says about which recipients failed, and why.
 *
 * Reads RFC 3464 delivery status notifications (multipart/report with a
 * message/delivery-status part), RFC 5965 (ARF) feedback reports, and,
 * through a rule file (filters/rules/bounce.rules), the common bounces
 * that are not RFC 3464 (qmail, Exim, Postfix without DSN, Yahoo, Gmail,
 * Exchange/Office 365 text).  Pure: no I/O except dsn_rules_load().
 */
#ifndef MLMD_DSN_H
#define MLMD_DSN_H

#include <stddef.h>

#include "buf.h"

struct msg;

#define DSN_MAX_RCPTS 100

enum dsn_action {
	DSN_FAILED,
	DSN_DELAYED,
	DSN_DELIVERED,
	DSN_RELAYED,
	DSN_EXPANDED,
	DSN_UNKNOWN
};

/* What a recipient's entry means for the member. */
enum dsn_kind {
	DSN_HARD,    /* the address does not work: count it */
	DSN_SOFT,    /* temporary (4.x.x, mailbox full): count lightly */
	DSN_POLICY,  /* the receiver refused the sender or the list (5.7.x,
		      * DMARC, spam, block lists): not the member's fault */
	DSN_CONTENT, /* this message was refused (5.6.x, virus, size) */
	DSN_NONE     /* not a failure (delayed, relayed, expanded,
		      * delivered): never counts */
};

struct dsn_rcpt {
	char addr[321];       /* Final-Recipient (else Original-Recipient),
			       * normalised: lower case, no <>, no "rfc822;";
			       * "" if none or not an address */
	char orig[321];       /* Original-Recipient if given, normalised */
	enum dsn_action action;
	char status[16];      /* "5.1.1"; "" if none could be found */
	char diagnostic[256]; /* Diagnostic-Code text without its type
			       * ("smtp;"), one line, control chars removed,
			       * cut at a UTF-8 boundary */
	enum dsn_kind kind;   /* DSN_NONE unless action is DSN_FAILED */
};

struct dsn {
	int is_report;   /* 1: multipart/report (RFC 3464 / 5965);
			  * 0: recognised by the rules (non-standard) */
	int is_feedback; /* 1: ARF (RFC 5965) feedback report; the
			  * complainant is original_to, n_rcpts is 0 */
	char feedback_type[32];        /* "abuse", ... for ARF, lower case */
	char original_message_id[256]; /* Message-ID (no <>) of the returned
					* message, else the bounce's
					* In-Reply-To; "" if none */
	char original_to[321];         /* ARF: Original-Rcpt-To; else the To:
					* of the returned message; normalised;
					* "" if none */
	struct dsn_rcpt *rcpts;        /* owned; dsn_free() */
	size_t n_rcpts;                /* at most DSN_MAX_RCPTS */
};

/*
 * Parse a message received at a bounce address.  Returns 1 and fills *out
 * (release with dsn_free) if it is a bounce or a feedback report; 0 if it
 * does not look like one (an auto-reply, a human reply; *out is then
 * empty and needs no dsn_free, though calling it is harmless); -1 on
 * error (m or out NULL).
 *
 * Hostile input: at most DSN_MAX_RCPTS recipients are kept, 64 KiB of
 * text is read per part, rule matches are bounded by PCRE2 match and
 * depth limits; it never crashes.  Only the first delivery-status part is
 * read.  A report whose delivery-status part yields no recipient is still
 * a report (1, n_rcpts 0).
 */
int dsn_parse(const struct msg *m, struct dsn *out);
void dsn_free(struct dsn *d);

/*
 * The kind of a failure from its status code ("5.1.1", "" if none) and
 * diagnostic text (may be NULL):
 *   2.x.x                                               DSN_NONE
 *   4.x.x                                               DSN_SOFT
 *   5.7.x, or text naming policy, DMARC, spam, blocked,
 *     block/blacklist, SPF, DKIM                        DSN_POLICY
 *   5.6.x, 5.3.4, 5.2.3, or text naming content,
 *     "message rejected", virus, too large/size limit   DSN_CONTENT
 *   5.2.2, or text naming a full mailbox or quota       DSN_SOFT
 *   any other 5.x.x, and "" (a failure without a code)  DSN_HARD
 */
enum dsn_kind dsn_classify(const char *status, const char *diagnostic);

/*
 * Load the non-standard bounce patterns (filters/rules/bounce.rules; the
 * format is described in that file).  Returns 0, or -1 with one line
 * "FILE:LINE: what" in err (a bad line, an unreadable file); the rules
 * loaded before are then kept.  Afterwards dsn_parse() applies them to
 * messages that have no delivery-status part.  Without rules (never
 * loaded, or after dsn_rules_free) only RFC 3464 / 5965 reports are
 * recognised.
 *
 * XXX The rule set is process-wide (one static set, like the log): load
 * it once at start-up, before any thread calls dsn_parse(); loading again
 * replaces it and is not safe while another thread parses.
 */
int dsn_rules_load(const char *path, struct buf *err);
void dsn_rules_free(void);

const char *dsn_action_name(enum dsn_action a);
const char *dsn_kind_name(enum dsn_kind k);

#endif
