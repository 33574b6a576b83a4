/*
 * out_maildir.h - the embedded default transport: instead of an SMTP
 * relay, each recipient's copy is written into the maildir
 * ROOT/<recipient address>/ (new/), with Return-Path (the envelope sender)
 * and Delivered-To (the recipient) on top, so that a new user sees
 * delivered mail without an MTA (DESIGN.md, "Embedded default").
 */
#ifndef MLMD_OUT_MALDIR_H
#define MLMD_OUT_MALDIR_H

#include <stddef.h>

#include "buf.h"

/*
 * Deliver one copy durably (tmp/, fsync, rename into new/, fsync new/).
 * rcpt must be a normalised address; one that could name a path outside
 * ROOT (a '/', a leading '.', control characters) is refused.  data may
 * use CRLF or LF line ends; the file is written with LF.  Returns 0, or
 * -1 with the reason in err (a temporary failure, except for a refused
 * address: then *permanent is set to 1).
 */
int out_maildir_deliver(const char *root, const char *sender, const char *rcpt,
			const char *data, size_t len, int *permanent,
			struct buf *err);

#endif
