/*
 * archive.h - the public static archive under HOME/archive/LIST/ (first
 * increment of issue 6): a page per message at its permalink
 * (m/HASH.html, the target of Archived-At, post_permalink()), a page per
 * month with its threads (thread.c), and the list's page with its months.
 * Bodies are rendered by msghtml.c: every byte from a mail is escaped,
 * HTML parts are shown as text, addresses are obfuscated.  Pages link
 * one stylesheet (HOME/archive/style.css) and carry no script.
 *
 * Only lists with archive = public are written here; private archives
 * are not written at all yet, and hidden messages (X-No-Archive, erased)
 * never appear.
 *
 * Every file is written to a temporary name and renamed, so a reader
 * never sees half a page; a crash leaves the previous page.
 */
#ifndef MLMD_ARCHIVE_H
#define MLMD_ARCHIVE_H

struct conf;
struct db;

/*
 * A message was archived on list: write its page, its month's page and
 * the list's page.  0 / -1 (logged; the archive is a view of the store:
 * `mlmctl archive rebuild` redoes it).
 */
int archive_add(const struct conf *c, struct db *db, const char *list,
		const char *message_id);

/* Write every page of list again from the store.  Pages written, or -1. */
long archive_rebuild(const struct conf *c, struct db *db, const char *list);

#endif
