/*
 * arch_access.h - a member's personal link to a private archive (issue
 * 6): BASE/p/LIST/TOKEN/, served by web.c from HOME/private/LIST/.
 *
 * TOKEN is a token.h token with purpose "archive" for (list, address) and
 * ID the members row of the membership that gives access: on the list
 * itself, else on a list it includes (as for the one-click unsubscribe
 * link, sub_unsub_headers()).  So a link
 *  - cannot be made without the key (forged: refused),
 *  - is for one list (another list's token: refused),
 *  - dies with the membership: the members row is deleted when the
 *    member leaves or is removed, and a new membership has a new id,
 *  - expires after ARCH_ACCESS_DAYS (whole days: the same link all day,
 *    so that repeated `archive` answers do not mint a new one each time).
 * Whoever holds the link reads the archive: it goes only to the member's
 * own address (the `archive` command, the welcome mail).
 */
#ifndef MLMD_ARCH_ACCESS_H
#define MLMD_ARCH_ACCESS_H

#include "buf.h"

/* How long a personal archive link works. */
#define ARCH_ACCESS_DAYS 365

struct conf;
struct db;
struct token_key;

/*
 * The personal link of address to list's private archive, appended to url
 * ("https://lists.example.org/p/LIST/TOKEN/": base_url, else
 * http://HTTP).  0, 1 address is no member (nothing added), 2 there is no
 * web address (neither base_url nor http set: nothing added), -1 on error
 * (logged).  Does not look at the list's archive mode.
 */
int arch_access_url(const struct conf *c, struct db *db,
		    const struct token_key *key, const char *list,
		    const char *address, struct buf *url);

/*
 * May the holder of token read list's private archive?  1 yes; 0 no: not
 * a token, expired, forged, for another list, or the membership is gone
 * (also on a database error, logged).  Hostile input: token is any
 * string.  Does not look at the list's archive mode either.
 */
int arch_access_check(const struct conf *c, struct db *db,
		      const struct token_key *key, const char *list,
		      const char *token);

#endif
