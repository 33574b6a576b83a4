/*
 * archive.h - the list archives as static HTML (issue 6): a folder of
 * pages per list, HOME/archive/LIST/ for public lists (any web server may
 * serve it) and HOME/private/LIST/ for private ones (served only by
 * mlmd's HTTP listener, to members with an access link).  archive.c says
 * what is in the folder.
 *
 * Bodies are rendered by msghtml.c: every byte from a mail is escaped,
 * HTML parts are shown as text, addresses are obfuscated.  Pages carry
 * no script and a Content-Security-Policy; the words are the list's
 * language's (templates/LANG/archive.strings), dates in its timezone.
 *
 * The pages are a view of the store (table messages and the stored
 * posts): if writing fails, `mlmctl archive rebuild` writes them again.
 */
#ifndef MLMD_ARCHIVE_H
#define MLMD_ARCHIVE_H

#include "buf.h"

struct conf;
struct db;

/*
 * A message was archived on list: write what it changes (its thread's
 * pages, the posts next to it by date, its month, the list's page and
 * feed).  0 / -1 (logged).
 */
int archive_add(const struct conf *c, struct db *db, const char *list,
		const char *message_id);

/* Write every page of list again from the store, and remove the pages of
 * posts no longer shown.  Files written, or -1. */
long archive_rebuild(const struct conf *c, struct db *db, const char *list);

/*
 * Before a person is erased: take their posts out of every archive as
 * conf's archive_erasure says (pseudonymise: no name, no address, no
 * sender in the raw copies; remove: the posts and their pages go, and
 * they leave the search index) and rewrite the pages that showed them.
 * *posts gets the number of posts concerned.  0 / -1.
 */
int archive_person_erase(const struct conf *c, struct db *db,
			 const char *address, long *posts);

/* The longest search query read, in bytes. */
#define ARCHIVE_QUERY_MAX 300

/*
 * Read a reader's query: words and "phrases" (FTS5), from:WORD (author),
 * subject:WORD, after:YYYY-MM-DD, before:YYYY-MM-DD (dates in UTC).  The
 * FTS5 query goes to match; q's fields are set (limit and offset are
 * left).  0, or -1 with the reason in err.
 */
struct arch_query;
int archive_query_parse(const char *text, struct arch_query *q,
			struct buf *match, struct buf *err);

/*
 * The search page of list for query text (page >= 1, 20 hits a page),
 * with links relative to the list's folder (it is served as LIST/search).
 * Returns an HTTP status: 200; 400 when the query cannot be read (the
 * page says so); 404 when the list keeps no archive; 500.
 */
int archive_search_page(const struct conf *c, struct db *db,
			const char *list, const char *text, long page,
			struct buf *html);

#endif
