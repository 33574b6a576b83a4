/*
 * compose.h - mlmd's own mail (notices to senders, messages to owners):
 * one text/plain UTF-8 message with proper MIME and RFC 3834 headers.
 */
#ifndef MLMD_COMPOSE_H
#define MLMD_COMPOSE_H

#include <time.h>

#include "buf.h"

struct compose {
	const char *from_name;  /* display name (UTF-8), or NULL */
	const char *from_addr;  /* e.g. "denmark-owner@lists.example.org" */
	const char *to;         /* one address */
	const char *subject;    /* UTF-8, one line */
	const char *body;       /* UTF-8, LF line ends */
	const char *lang;       /* Content-Language, or NULL */
	const char *message_id; /* without <>: "ID@DOMAIN" */
	const char *in_reply_to;/* without <>, or NULL */
	time_t date;
	const char *auto_submitted; /* "auto-replied" | "auto-generated" |
	                             * NULL (none) */
	const char *reply_to;   /* one address, or NULL (none) */
	const char *list_id;    /* "LIST.DOMAIN" for a List-Id, or NULL: a
	                         * reply to the mail then carries our List-Id
	                         * and is never answered (no loops) */
	const char *attach;     /* a whole message to attach (message/rfc822
	                         * after the text, in a multipart/mixed), or
	                         * NULL; its bytes are copied unchanged */
	size_t attach_len;
	const char *attach_type;  /* NULL: message/rfc822 (copied as is);
	                           * else e.g. "text/html; charset=utf-8",
	                           * sent in base64 */
	const char *attach_name;  /* its file name (ASCII), or NULL */
	/* Alternatives of the text (multipart/alternative: text, then
	 * HTML, then the calendar; not with attach): */
	const char *html;       /* UTF-8 HTML document, or NULL */
	const char *calendar;   /* an iCalendar object (CRLF), or NULL */
	const char *calendar_method; /* its METHOD: "REQUEST", "CANCEL" */
};

/*
 * Append the message to out with LF line ends.  The body goes out as
 * 7bit when it is ASCII with short lines, else quoted-printable.
 * Returns 0, or -1 if a field is missing or not valid UTF-8, or holds a
 * control character where none may be (then out is unchanged).
 */
int compose_text(const struct compose *c, struct buf *out);

#endif
