/*
 * arch_access.c - personal links to private archives (arch_access.h):
 * making them for a member and checking them for the web front door.
 *
 * Owns nothing but the rule of what a valid link is.  Invariants:
 *  - a link is made only for a current membership, and accepted only
 *    while that very membership (members row, by id) exists, belongs to
 *    the list or to a list it includes, and is the one the MAC names;
 *  - checking never writes, and reads at most TOKEN_MAX characters of
 *    the token (token_parse()).
 *
 * Called by sub.c (the `archive` command, the welcome mail) and web.c
 * (GET /p/LIST/TOKEN/...).  Errors: arch_access_url() returns -1 on a
 * database error (logged by db.c); arch_access_check() refuses.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "addr.h"
#include "arch_access.h"
#include "conf.h"
#include "db.h"
#include "post.h"
#include "token.h"
#include "util.h"

#define PURPOSE "archive"

/* The lists whose membership gives access to l: l and what it includes.
 * Caller frees. */
static const char **
lists_of(const struct conf *c, const struct list_conf *l, size_t *n)
{
	const char **names = xcalloc(c->n_lists + 1, sizeof(*names));

	*n = post_lists(c, l, names, c->n_lists);
	return names;
}

int
arch_access_url(const struct conf *c, struct db *db,
                const struct token_key *key, const char *list,
                const char *address, struct buf *url)
{
	const struct list_conf *l = conf_list(c, list);
	char tok[TOKEN_MAX + 1];
	struct buf base = BUF_INIT;
	const char **names;
	long long id;
	time_t exp;
	size_t n;

	if (!l)
		return 1;
	names = lists_of(c, l, &n);
	id = db_member_id(db, names, n, address);
	free(names);
	if (id <= 0)
		return id < 0 ? -1 : 1;
	if (!conf_web_base(c, &base)) {
		buf_free(&base);
		return 2;
	}
	/* Whole days: the same link all day. */
	exp = (time(NULL) / 86400 + ARCH_ACCESS_DAYS) * 86400;
	token_make(key, PURPOSE, l->name, address, id, exp, tok, sizeof(tok));
	buf_printf(url, "%s/p/%s/%s/", buf_str(&base), l->name, tok);
	buf_free(&base);
	return 0;
}

int
arch_access_check(const struct conf *c, struct db *db,
                  const struct token_key *key, const char *list,
                  const char *token)
{
	const struct list_conf *l = conf_list(c, list);
	char mlist[CONF_NAME_MAX + 1], who[ADDR_MAX + 1];
	const char **names;
	long long id;
	time_t exp;
	size_t n, i;
	int ok = 0;

	if (!l || !token || token_parse(token, &id, &exp) < 0 ||
	    exp < time(NULL) ||
	    db_member_by_id(db, id, mlist, sizeof(mlist), who, sizeof(who)) !=
	        0)
		return 0;
	/* The membership must still be one that gives access to l (an
	 * include may have been dropped from the configuration). */
	names = lists_of(c, l, &n);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], mlist) == 0)
			break;
	free(names);
	if (i < n)
		ok = token_verify(key, token, PURPOSE, l->name, who);
	return ok;
}
