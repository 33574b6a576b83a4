/*
 * archive_int.h - what archive.c and archive_search.c share and nobody
 * else sees: the rendering context of one list, the page frame, the
 * page words in the list's language, dates in the list's time zone.
 */
#ifndef MLMD_ARCHIVE_INT_H
#define MLMD_ARCHIVE_INT_H

#include <time.h>

#include "buf.h"

struct conf;
struct db;
struct list_conf;

/* One list's archive being written. */
struct actx {
	const struct conf *c;
	struct db *db;
	const struct list_conf *l;
	const char *root;   /* HOME/archive/LIST or HOME/private/LIST */
	int obfuscate;      /* addresses shown as a…@domain (always 1 now) */
	int public_;        /* archive = public: raw copies are filtered */
	char *tz_saved;     /* TZ before archive_tz_enter(), or NULL */
	int tz_had;
};

/* Set up ctx for list (public or private archive); 0, or 1 if the list
 * keeps no archive (or there is no such list). */
int archive_ctx_open(struct actx *x, const struct conf *c, struct db *db,
		     const char *list);
void archive_ctx_close(struct actx *x);

/* The word key in the list's language (English if missing, else the key
 * itself); {n} replaced by n when n >= 0.  Appended escaped. */
void archive_word(const struct actx *x, struct buf *b, const char *key,
		  long n);
/* The same, unescaped, into out (for titles that are escaped later). */
void archive_word_raw(const struct actx *x, struct buf *out,
		      const char *key, long n);

/* Escape s for HTML text or a quoted attribute. */
void archive_esc(struct buf *b, const char *s);

/* "<!DOCTYPE html>..." up to <main>: up is the path from the page to
 * the list's folder ("" or "../"). */
void archive_page_start(const struct actx *x, struct buf *b,
			const char *title, const char *up);
void archive_page_end(struct buf *b);

/* A date as the list shows it (its time zone). */
void archive_date(const struct actx *x, time_t t, struct buf *b);

#endif
