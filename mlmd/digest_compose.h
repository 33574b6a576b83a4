/*
 * digest_compose.h - the digest mail: a list of archived posts made into
 * one message, either MIME (RFC 2046 multipart/digest inside a
 * multipart/mixed with a table of contents and a footer) or plain text
 * (RFC 1153), in the list's language.
 *
 * A pure module: no I/O beyond reading the words files (words.h), no
 * state kept between calls.  The scheduling, the state and the queue are
 * digest.c's.  The same input always gives the same bytes.
 */
#ifndef MLMD_DIGEST_COMPOSE_H
#define MLMD_DIGEST_COMPOSE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* One post of the digest.  Every pointer is borrowed for the call; NULL
 * is read as "".  Nothing here is trusted: text is cleaned (invalid UTF-8,
 * control characters) before it is shown, raw is parsed with msg_parse()'s
 * default limits. */
struct digest_post {
	const char *raw;  size_t len;   /* the stored post as received (RFC 5322) */
	const char *subject;            /* decoded UTF-8 */
	const char *from_name, *from_addr;
	const char *message_id;         /* without <> */
	time_t date;
	long long thread;               /* posts of one thread share it */
	const char *archive_url;        /* the post's archive page, or "" */
};

/* The digest itself.  Borrowed for the call.  list, list_address,
 * request_address and message_id are required (see the returns below). */
struct digest_info {
	const char *list;               /* name */
	const char *list_address;       /* name@domain: To: and the post-to line */
	const char *request_address;    /* name-request@domain: From: and footers */
	const char *description;
	const char *lang;               /* en da sv nb fi is ar: the words */
	const char *templates;          /* folder of LANG/digest.strings */
	const char *timezone;           /* dates shown, IANA name ("UTC") */
	const char *archive_url;        /* the list's archive, or "" */
	long volume, issue;
	time_t date;                    /* the digest's Date: */
	int attachments_link;           /* 1: attachments left out, the post's archive_url given instead */
	const char *message_id;         /* the digest's own Message-ID, without <> */
};

/*
 * Append the whole digest mail (header and body, LF line ends) to out.
 * 0, or -1 if out's cap would pass (out unchanged).
 *
 * Also -1 (out unchanged) when a required field of d is missing or is not
 * a plain address / id (no white space, no <>, no control characters):
 * those go into header fields unquoted.  An unknown or malformed lang
 * gives English words; a malformed timezone gives UTC.
 *
 * Both forms: the table of contents groups the posts by thread (threads in
 * the order of their first post here; the thread's subject without the
 * "[LIST]" tag and reply markers, via decorate_subject(); the authors in
 * order); the posts themselves follow in the order given.  Dates shown
 * in the body are in d->timezone: TZ is set for the call and restored.
 *
 * digest_compose_mime(): multipart/mixed of (1) text/plain contents,
 * (2) multipart/digest with one message/rfc822 part per post (its header
 * cut to Date, From, To, Cc, Subject, Message-ID, In-Reply-To,
 * References and the MIME fields; its body as stored, CRLF made LF), (3)
 * text/plain footer.  A post msg_parse() refuses is kept as it is if it
 * starts with a header block, else left out (of the contents too).  With
 * attachments_link, a post with attachments becomes a text/plain message:
 * its text and a line pointing to p->archive_url.
 *
 * digest_compose_plain(): one text/plain (RFC 1153): contents, a line of
 * 70 '-', the posts (Date/From/Subject/Message-ID, then the text; each
 * attachment one "[attachment: ...]" line) separated by lines of 30 '-',
 * then the footer, the "End of ..." line and as many '*'.  A line of a
 * post that would read as a separator gets a space in front.  A post
 * that does not parse shows "(this post could not be read)".
 */
int digest_compose_mime(const struct digest_info *d, const struct digest_post *p, size_t n, struct buf *out);
int digest_compose_plain(const struct digest_info *d, const struct digest_post *p, size_t n, struct buf *out);

#endif
