/*
 * decorate.h - turn an incoming post into the copy sent to the members:
 * list header fields (RFC 2369, 2919, 5064, 8058), the subject prefix,
 * the Reply-To policy, removal of fields that must not leak, and the
 * footer.  A pure function: no I/O, no global state, no randomness (the
 * same input always gives the same bytes, which keeps a restarted fan-out
 * identical to the first attempt).
 *
 * Called once per distributed post (not per recipient) by the daemon.
 */
#ifndef MLMD_DECORATE_H
#define MLMD_DECORATE_H

#include <stddef.h>

#include "buf.h"
#include "conf.h"

/* Footer text longer than this is refused (a template bug, not mail). */
#define DECORATE_FOOTER_MAX ((size_t)64 << 10)
/* URLs given to decorate() longer than this are refused: a header line
 * must stay under 998 octets and a URL in <...> cannot be folded. */
#define DECORATE_URL_MAX 900

struct decorate_in {
	const char *raw;              /* the post as received (borrowed) */
	size_t len;                   /* at most msg_default_limits.max_size */
	const struct list_conf *list; /* name, description, posting,
	                               * archive, subject_prefix, reply_to */
	const char *domain;           /* the list domain (conf->domain) */
	char separator;               /* conf->separator, '+' if 0 */
	const char *base_url;    /* conf->base_url (no trailing '/'), or NULL;
	                          * List-Archive is base_url/archive/NAME/
	                          * unless archive_url is given */
	const char *archive_url; /* the list's archive index URL, or NULL */
	const char *archived_at; /* this post's permalink URL, or NULL */
	const char *footer;      /* UTF-8 text (LF or CRLF line ends), or
	                          * NULL / "" for no footer (body untouched) */
	const char *unsubscribe_url;    /* personal one-click URL, or NULL;
	                                 * https:// adds List-Unsubscribe-Post */
	const char *unsubscribe_mailto; /* personal "mailto:..." URI or bare
	                                 * address, or NULL for the generic
	                                 * LIST+unsubscribe@DOMAIN */
	int reply_to_override; /* reply_to = list: replace an author's own
	                        * Reply-To too */
	int personal_unsubscribe; /* leave List-Unsubscribe and
	                           * List-Unsubscribe-Post out: the queue
	                           * adds a personal pair to each copy */
	/* DMARC mitigation (dmarc.h decides when): 0 none, or
	 * DECORATE_DMARC_MUNGE / DECORATE_DMARC_WRAP; see below. */
	int dmarc_action;
	const char *tags;        /* the rule files' tags for the post
	                          * (X-Mlmd-Tags), or NULL / "" */
	const char *author_name; /* the post's From display name, decoded
	                          * UTF-8, or NULL / "" */
	const char *author_addr; /* the post's From address (required
	                          * when dmarc_action is set) */
};

/*
 * DMARC mitigation (RFC 7960 on mailing lists: the list changes the
 * post, so the author's DKIM signature breaks and receivers apply the
 * policy of the author's domain to the list's copy; the way out is a
 * From that is the list's).  Both actions:
 *  - From: "NAME via DESCRIPTION" <LIST@DOMAIN> (the list name when there
 *    is no description; NAME is the author's display name, else the local
 *    part of their address; RFC 2047-encoded when needed);
 *  - the original From field is kept as X-Original-From;
 *  - the author's address is added where a reply finds it, as Mailman 3
 *    does: reply_to = author: to Reply-To (after the author's own
 *    Reply-To, if any), so "reply" reaches the author as it would
 *    without munging; reply_to = list: to Cc (Reply-To follows the list
 *    rule as without munging), so "reply" goes to the list and "reply
 *    all" reaches the author too;
 *  - DKIM-Signature fields are removed (they cannot verify any more).
 * DECORATE_DMARC_MUNGE changes only the header; the body is decorated as
 * usual.  DECORATE_DMARC_WRAP makes a new message: the header fields
 * above plus To, Cc, Date, Message-ID, In-Reply-To, References, the
 * Subject (with the prefix) and the list fields; its body is a
 * multipart/mixed of a short text/plain note, the post as a
 * message/rfc822 part (its header without the fields decorate() always
 * removes, its body byte for byte, so signed mail stays verifiable) and
 * the footer.
 */
#define DECORATE_DMARC_MUNGE 1
#define DECORATE_DMARC_WRAP  2

/*
 * Decorate in->raw into out (appended).  Returns 0, or -1 with one line in
 * err saying why the post cannot be decorated safely (malformed header
 * block, a message/partial, a limit passed, a bad footer or URL); out is
 * then unchanged and the caller sends the post undecorated or holds it.
 *
 * Header fields that are not removed or rewritten are copied byte for
 * byte, in order; the new fields go at the end of the header block, in
 * the input's line-end convention (CRLF if its first line ends so).
 * The footer is appended to a single text/plain body, added as a part of
 * a multipart/mixed, or the original body is wrapped in a new
 * multipart/mixed with the footer as second part (signed, encrypted,
 * alternative, HTML and other bodies): see decorate.c for the rules.
 */
int decorate(const struct decorate_in *in, struct buf *out, struct buf *err);

/*
 * The subject rule alone, on decoded UTF-8 text (for the digest and tests):
 * writes the new subject to out and returns 1, or returns 0 if the subject
 * stays as it is.  prefix is list->subject_prefix (NULL or "" for none).
 */
int decorate_subject(const char *subject, const char *prefix, struct buf *out);

/*
 * Shared with compose.c (mlmd's own mail): write "Name: text" and the line
 * end nl for UTF-8 text, RFC 2047-encoded and folded where needed; and
 * quoted-printable of LF-terminated text with nl as the line end.
 */
void mime_header_text(struct buf *out, const char *nl, const char *name,
		      const char *text);
/* The same for a display name (an RFC 5322 phrase) followed by tail,
 * e.g. "<addr@example.org>". */
void mime_header_phrase(struct buf *out, const char *nl, const char *name,
			const char *text, const char *tail);
int mime_qp_encode(const char *s, size_t n, const char *nl, struct buf *out);

#endif
