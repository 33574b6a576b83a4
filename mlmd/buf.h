/*
 * buf.h - the one string buffer type of mlmd.
 *
 * A struct buf is length-counted, always NUL-terminated once anything has
 * been added, and capped: every append checks the cap and fails with -1
 * (leaving the content as it was) instead of growing without bound.  Text
 * that comes from outside is therefore never able to exhaust memory through
 * a buffer.  Out-of-memory aborts (see util.h): the spool is durable, so a
 * restart finishes the work.
 *
 * Ownership: the buffer owns b->s; buf_free() releases it, buf_detach()
 * hands it to the caller (who frees it with free()).
 */
#ifndef MLMD_BUF_H
#define MLMD_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Default cap when buf_init() is given 0: 256 MiB. */
#define BUF_DEFAULT_MAX ((size_t)256 << 20)

struct buf {
	char *s;    /* NULL until something is added; then NUL-terminated */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes len may reach; 0 means BUF_DEFAULT_MAX */
};

#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Make room for n more bytes; -1 if that would pass the cap. */
int buf_grow(struct buf *b, size_t n);

/* Appends: 0 on success, -1 (content unchanged) if the cap would pass. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, int c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Shorten to len bytes (no-op if already shorter). */
void buf_truncate(struct buf *b, size_t len);
/* The content as a C string; "" for an empty buffer, never NULL. */
const char *buf_str(const struct buf *b);
/* Hand the memory to the caller (never NULL); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
