/*
 * content.h - the MIME content filter of a list (Mailman's pass_types,
 * filter_types, filter_extensions, collapse_alternatives and
 * convert_html_to_plaintext): parts of unwanted types or with unwanted
 * file names are removed, multipart/alternative is collapsed to its
 * plain text, HTML is turned into plain text.  A pure function: no I/O,
 * no global state, the same input always gives the same bytes.
 *
 * Called by the post pipeline once per accepted post, before decoration.
 */
#ifndef MLMD_CONTENT_H
#define MLMD_CONTENT_H

#include <stddef.h>

#include "buf.h"

/*
 * Type patterns (pass_types, strip_types) are a full type
 * ("application/pdf"), a major type alone ("image", which matches every
 * image type), the major type with "*" as its subtype (the same), or "*";
 * case does not matter.  Extensions are compared, without regard to case,
 * with the end of the decoded file name (Content-Disposition filename or
 * Content-Type name, RFC 2231 and RFC 2047 forms read) once control, bidi
 * and zero-width characters and trailing dots and spaces are taken out:
 * "INVOICE.EXE" and "invoice.exe. " end in ".exe".
 *
 * The rules apply to every MIME entity, containers included: with
 * pass_types given, "multipart" (and "message/rfc822" for forwarded
 * mail) must be in it or every multipart message is removed whole, as in
 * Mailman.
 */
struct content_opts {
	const char *const *pass_types;       /* NULL-terminated; NULL: all */
	const char *const *strip_types;      /* NULL-terminated; NULL: none */
	const char *const *strip_extensions; /* NULL-terminated; NULL: none */
	int collapse_alternative; /* multipart/alternative -> its text/plain
	                           * part (else its first part) */
	int html_to_text;         /* text/html -> text/plain (html_to_text()) */
};

struct content_result {
	int changed;    /* 1 if out differs from the input */
	int removed;    /* parts removed by the type and name rules */
	int empty;      /* nothing is left (every part removed): the caller
	                 * rejects the post; out then holds the input unchanged */
	char note[256]; /* one line for the log, "" when nothing was done:
	                 * "removed 2 parts (application/x-msdownload
	                 * invoice.exe; application/ms-tnef winmail.dat),
	                 * collapsed multipart/alternative" */
};

/*
 * Apply o to the raw message (header and body, LF or CRLF line ends, at
 * most msg_default_limits.max_size bytes) and append the result to out.
 * Returns 0 (out holds the message; a byte copy when nothing changed), or
 * -1 with one line in err (malformed MIME that cannot be rewritten safely,
 * such as a multipart without a boundary parameter, or a limit passed:
 * nesting deeper than 20, more than 1000 parts, more than 1000 header
 * fields in a part); out is then unchanged and the caller holds the post.
 *
 * Signed and encrypted messages (multipart/signed, multipart/encrypted,
 * application/pkcs7-mime at the top) are never changed: res->changed = 0
 * and the note says so.  Nested inside other mail they are kept or
 * removed whole, never changed inside.
 *
 * Untouched parts and header fields are copied byte for byte; a removed
 * part leaves no trace (no note part is added, as in Mailman); a
 * multipart left with one part stays a multipart.  res is always filled.
 */
int content_filter(const char *raw, size_t len, const struct content_opts *o,
                   struct buf *out, struct content_result *res,
                   struct buf *err);

#endif
