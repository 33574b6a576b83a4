/*
 * mbox.h - reading and writing mbox files: the archives other list
 * managers export (mboxo, mboxrd, Mailman 2 pipermail) and the month and
 * thread mbox downloads of mlmd's own archive.
 *
 * Reader: mbox_open() maps the file (it may be gigabytes: nothing is read
 * into memory but the one message mbox_next() hands out) and mbox_next()
 * splits it into messages.  A message starts at a "From " line (the From_
 * line) that is the first line of the file, or follows an empty line, or
 * anywhere if it looks like a real From_ line ("From " ADDR DATE with a
 * four-digit year).  Each message comes back with CRLF turned into LF,
 * one '>' taken off every line matching ^>+From  (mboxrd quoting, which
 * also undoes mboxo's), and the blank line that separates it from the
 * next one removed.  Pipermail's "From: x at example.com" headers are
 * left as they are.  A file without any From_ line is one message if it
 * starts with a header field, else it is not an mbox (mbox_next() -1).
 *
 * Writer: mbox_append() writes one mboxrd entry.  Reading what it wrote
 * gives the message back byte for byte (after CRLF -> LF, and with a
 * final LF added if it had none), with its envelope sender and date.
 *
 * Functions return 0 / -1 unless documented otherwise; nothing is fatal
 * and nothing is logged (the caller knows the file name).
 */
#ifndef MLMD_MBOX_H
#define MLMD_MBOX_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define MBOX_ADDR_MAX 320 /* bytes of an envelope sender, NUL excluded */

struct mbox_reader;

/* What mbox_next() knows about a message besides its bytes. */
struct mbox_info {
	off_t offset; /* of its From_ line (or first line) in the file */
	/* the From_ line's address ("a at b" turned into "a@b"), "" if
	 * none or too long */
	char sender[MBOX_ADDR_MAX + 1];
	time_t date; /* From_ line's date, UTC; 0 if none/unreadable */
	int too_big; /* it did not fit in the caller's buffer: msg is left
	              * empty, the reader went on to the next */
};

/*
 * Open path for reading: mapped when it is a regular file, else read
 * whole (at most BUF_DEFAULT_MAX bytes).  NULL and one line in err
 * ("cannot open ...: reason").
 */
struct mbox_reader *mbox_open(const char *path, struct buf *err);
/* Read len bytes at data (borrowed: they must outlive the reader). */
struct mbox_reader *mbox_open_mem(const char *data, size_t len);
void mbox_close(struct mbox_reader *r);

/*
 * The next message into msg (replacing its content; msg's cap bounds a
 * message, see info->too_big) and *info (may be NULL).  1 a message,
 * 0 the end, -1 not an mbox (then mbox_error() says why, and every
 * further call returns -1).
 */
int mbox_next(struct mbox_reader *r, struct buf *msg, struct mbox_info *info);
/* Why mbox_next() returned -1 (borrowed; "" if it did not). */
const char *mbox_error(const struct mbox_reader *r);
/* Bytes consumed so far and the size of the file. */
void mbox_progress(const struct mbox_reader *r, off_t *done, off_t *total);

/*
 * Parse the part of a From_ line after "From " (line: len bytes, no line
 * end): 0 and the address (cut to outsz - 1 bytes; "a at b" becomes
 * "a@b") and the date (UTC), or -1 if it does not end in an
 * asctime()-like date with a four-digit year (time, day, month name,
 * year in any order, weekday and numeric or named zone optional).
 */
int mbox_from_line(const char *line, size_t len, char *addr, size_t outsz,
                   time_t *date);

/*
 * Append msg (len bytes) to out as one mboxrd entry: a From_ line with
 * envelope_from (NULL or "": MAILER-DAEMON; blanks and control bytes
 * become '_') and date as asctime() in UTC (clamped to years 1970-9999),
 * every line matching ^>*From  quoted with one more '>', a final LF if
 * msg lacks one, and an empty line.  -1 (out unchanged) if out's cap
 * would pass.
 */
int mbox_append(struct buf *out, const char *msg, size_t len,
                const char *envelope_from, time_t date);

#endif
