/*
 * util.h - memory and file helpers shared by every mlmd module.
 *
 * The x* allocators abort on out-of-memory (safe: the spool is durable and
 * a restart finishes the work).  The file helpers return 0 / -1 with errno
 * set and log nothing: the caller knows the context and logs.
 */
#ifndef MLMD_UTIL_H
#define MLMD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grow an array of *cap elements of size `size` to hold at least `need`. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);

/* Copy src into dst (size dstsz), always NUL-terminating; returns
 * strlen(src) so that truncation is `ret >= dstsz`. */
size_t strlcpy_(char *dst, const char *src, size_t dstsz);

/* Read a whole file into b (replacing its content); -1 on error or if the
 * file is larger than b's cap. */
int read_file(const char *path, struct buf *b);
/* Write all of p to fd, retrying short writes and EINTR. */
int write_all(int fd, const void *p, size_t n);
/* fsync the directory at path (so that a rename in it is durable). */
int fsync_dir(const char *path);
/* mkdir -p with the given mode; 0 if it exists already. */
int mkdir_p(const char *path, unsigned mode);

/* "2M", "512k", "1G", "1000": bytes into *out; -1 if malformed. */
int parse_size(const char *s, size_t *out);
/* 1 if the n bytes are valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and hold no NUL; else 0. */
int utf8_valid(const void *s, size_t n);
/* The length of the well-formed UTF-8 sequence at p (n bytes left: 1 to
 * 4), or 0 if it is not one (overlong, surrogate, > U+10FFFF, cut). */
size_t utf8_seq_len(const void *p, size_t n);
/* Lower-case ASCII in place; returns s. */
char *str_lower(char *s);
/* Case-insensitive ASCII prefix test. */
int str_has_prefix_ci(const char *s, const char *prefix);

#endif
