/*
 * msg_charset.h - text conversion to UTF-8 for the message model (internal
 * to msg*.c; other modules use msg_decode_header() from msg.h).
 *
 * Every function appends valid UTF-8 to a struct buf, whatever the input:
 * invalid sequences become U+FFFD, NUL bytes become U+FFFD.  They return 0,
 * or -1 if the buffer's cap was reached (the output is then truncated but
 * still valid UTF-8 up to the last complete append).
 */
#ifndef MLMD_MSG_CHARSET_H
#define MLMD_MSG_CHARSET_H

#include <stddef.h>

#include "buf.h"

/* Flags for the conversions. */
#define CS_TEXT 1 /* body text: CRLF becomes LF; other controls kept */
#define CS_HDR  2 /* header text: CR, LF and other controls become ' ' */

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid. */
size_t cs_utf8_seq(const unsigned char *p, size_t n);
/* 1 if all n bytes are valid UTF-8. */
int cs_utf8_valid(const char *p, size_t n);

/* UTF-8 in, invalid sequences replaced. */
int cs_add_utf8(struct buf *b, const char *p, size_t n, int flags);
/* windows-1252 (and so ISO-8859-1 and US-ASCII) in. */
int cs_add_cp1252(struct buf *b, const char *p, size_t n, int flags);
/* Undeclared 8-bit bytes: UTF-8 if valid, else windows-1252. */
int cs_add_8bit(struct buf *b, const char *p, size_t n, int flags);
/* Bytes in the declared charset (any case, may be NULL or ""); unknown
 * charsets fall back to cs_add_8bit().  Never fails on bad input. */
int cs_add(struct buf *b, const char *charset, const char *p, size_t n,
           int flags);

#endif
