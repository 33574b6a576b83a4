/*
 * msg.h - the message model: a parsed RFC 5322 / MIME message in mlmd's
 * own types.  libetpan stays inside msg.c; nothing else includes it.
 *
 * All strings are UTF-8 (RFC 2047 words decoded; raw 8-bit header bytes
 * read as UTF-8 when valid, else as windows-1252), NUL-terminated, owned by
 * the struct msg and freed by msg_free().  The raw bytes are copied in, so
 * the caller's buffer may go away after msg_parse().
 */
#ifndef MLMD_MSG_H
#define MLMD_MSG_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct msg_header {
	char *name;  /* as written, e.g. "Subject" */
	char *value; /* decoded, unfolded, UTF-8 */
	char *raw;   /* the raw value as in the message (folded, undecoded;
		      * the one string here that may hold non-UTF-8 bytes) */
};

struct msg_address {
	char *name; /* display name, decoded; "" if none */
	char *addr; /* normalised (addr_normalise); "" if unparsable */
};

struct msg_part {
	char *type;        /* "text/plain", lower case */
	char *charset;     /* declared charset, lower case, "" if none */
	char *filename;    /* attachment name, decoded, "" if none (NEVER a path) */
	int is_attachment; /* Content-Disposition: attachment, or a name */
	int depth;         /* 0 for the top-level body */
	size_t size;       /* decoded size in bytes */
	char *text;        /* text parts (any text subtype, and the
			    * line-based reports message/delivery-status,
			    * message/disposition-notification,
			    * message/feedback-report): decoded to UTF-8,
			    * line ends as LF; NULL for other types */
	size_t text_len;
	const char *body;  /* the part's body as in the message (still
			    * transfer-encoded), pointing into msg.raw */
	size_t body_len;
	int encoding;      /* its transfer encoding (libetpan's
			    * MAILMIME_MECHANISM_*): msg_part_decode() */
};

struct msg {
	char *raw;         /* a private copy of the whole message */
	size_t raw_len;
	size_t header_len; /* bytes of the header block, incl. the blank line */

	struct msg_header *headers;
	size_t n_headers;

	struct msg_address from;     /* first From mailbox */
	struct msg_address sender;   /* Sender:, or empty */
	/* To, Cc, Reply-To: every mailbox of every such field (at most
	 * 10,000 mailboxes per message are read) */
	struct msg_address *to;  size_t n_to;
	struct msg_address *cc;  size_t n_cc;
	struct msg_address *reply_to; size_t n_reply_to;
	char *subject;     /* decoded, "" if none */
	char *message_id;  /* without <>, "" if none */
	char *in_reply_to; /* first id, without <>, "" if none */
	char **references; /* ids without <>, oldest first */
	size_t n_references;
	time_t date;       /* Date: as UTC seconds, 0 if missing/unparsable */

	struct msg_part *parts; /* leaves of the MIME tree, in order */
	size_t n_parts;
};

struct msg_limits {
	size_t max_size;       /* whole message, bytes */
	size_t max_headers;    /* header fields */
	size_t max_header_len; /* one (unfolded) header field, bytes */
	size_t max_depth;      /* MIME nesting */
	size_t max_parts;      /* MIME leaves */
};

/* The defaults: 64 MiB, 1000 headers, 64 KiB per header, depth 20,
 * 1000 parts.  max_headers and max_header_len apply to each MIME part's
 * header block too; max_depth is capped at 100 whatever is asked. */
extern const struct msg_limits msg_default_limits;

/*
 * Parse len bytes.  Returns 0 and *out, or -1 if the message breaks a
 * limit (err gets one line saying which, suitable for a 5xx reply or a
 * bounce).  Malformed input otherwise parses leniently; it never crashes.
 */
int msg_parse(const char *data, size_t len, const struct msg_limits *lim,
	      struct msg **out, struct buf *err);
void msg_free(struct msg *m);

/* Append the decoded bytes of part p (base64 / quoted-printable undone)
 * to out.  0, or -1 if out's cap is reached. */
int msg_part_decode(const struct msg_part *p, struct buf *out);

/* The first header called name (case-insensitive), decoded, or NULL. */
const char *msg_header(const struct msg *m, const char *name);
/* The raw (undecoded) value of the first header called name, or NULL. */
const char *msg_header_raw(const struct msg *m, const char *name);

/* Decode an RFC 2047 header value to UTF-8 into out (appends). */
int msg_decode_header(const char *raw, size_t len, struct buf *out);

#endif
