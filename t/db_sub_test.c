/*
 * db_sub_test.c - the store's side of joining and leaving (db_sub.c):
 * secrets made once; token rows (add, name, read, use once, count by
 * purpose, list, address and domain with LIKE's wildcards taken
 * literally, purge); member settings and a person's language; the
 * membership id of the delivery path (umbrella lists, lists[0]
 * preferred); a person's lists; the GDPR export (valid JSON, that
 * person's data only, strings escaped) and erasure (nothing left that
 * names the address except copies still to be sent, rows that other
 * data hangs on kept without it, the event counts untouched, another
 * person untouched, one transaction).
 *
 * A database file in a mkdtemp() directory of the build dir; fixtures
 * go in through the db API where it has a call for them and through a
 * second SQLite connection otherwise, and are read back the same way.
 * JSON is judged by SQLite's json functions on an in-memory connection.
 * db_set_now() gives a fixed clock.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define T0 1793000000 /* 2026-10-26 */

static char dir[64];
static char path[128];

static void __attribute__((format(printf, 3, 4)))
sqlf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* The first column of the first row of sql, on a second connection;
 * ?1 is bound to arg when not NULL. */
static long
q_int1(const char *sql, const char *arg)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long v = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (arg)
			sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else {
		diag("%s: %s", sql, sqlite3_errmsg(h));
	}
	sqlite3_close(h);
	return v;
}

static long
q_int(const char *sql)
{
	return q_int1(sql, NULL);
}

static char q_buf[8192];

static const char *
q_str(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	q_buf[0] = '\0';
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return q_buf;
	}
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0))
			strlcpy_(q_buf,
			         (const char *)sqlite3_column_text(st, 0),
			         sizeof(q_buf));
		sqlite3_finalize(st);
	} else {
		diag("%s: %s", sql, sqlite3_errmsg(h));
	}
	sqlite3_close(h);
	return q_buf;
}

static int
q_exec(const char *sql)
{
	sqlite3 *h;
	char *msg = NULL;
	int rc;

	if (sqlite3_open(path, &h) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK ? 0 : -1;
	if (rc < 0)
		diag("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(h);
	return rc;
}

/* expr evaluated with ?1 = json and ?2 = arg (may be NULL), on an
 * in-memory connection: an integer, or a string into out. */
static long
j_eval(const char *json, const char *expr, const char *arg, char *out, size_t n)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char sql[512];
	long v = -1;

	if (out && n)
		*out = '\0';
	if (sqlite3_open(":memory:", &h) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlf(sql, sizeof(sql), "SELECT %s", expr);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
		if (arg)
			sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			if (out && sqlite3_column_text(st, 0))
				strlcpy_(
				    out,
				    (const char *)sqlite3_column_text(st, 0),
				    n);
		}
		sqlite3_finalize(st);
	} else {
		diag("%s: %s", sql, sqlite3_errmsg(h));
	}
	sqlite3_close(h);
	return v;
}

static long
j_int(const char *json, const char *expr)
{
	return j_eval(json, expr, NULL, NULL, 0);
}

static char j_buf[1024];

static const char *
j_str(const char *json, const char *expr)
{
	j_eval(json, expr, NULL, j_buf, sizeof(j_buf));
	return j_buf;
}

/* ----- secrets ------------------------------------------------------- */

static void
test_secret(struct db *db)
{
	unsigned char a[32], b[32], out[32];

	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	memset(out, 0, sizeof(out));
	is_int(db_secret(db, "test_one", a, out, sizeof(out)), 0,
	       "secret made");
	ok(memcmp(out, a, sizeof(a)) == 0, "first use: the fresh bytes");
	memset(out, 0, sizeof(out));
	is_int(db_secret(db, "test_one", b, out, sizeof(out)), 0,
	       "secret read again");
	ok(memcmp(out, a, sizeof(a)) == 0, "second use: fresh ignored");
	is_int(q_int("SELECT count(*) FROM secrets WHERE name = 'test_one'"), 1,
	       "one row");
	is_int(db_secret(db, "test_two", b, out, sizeof(out)), 0,
	       "another name");
	ok(memcmp(out, b, sizeof(b)) == 0, "... has its own value");
	is_int(db_secret(db, "test_one", b, out, 16), -1,
	       "asked for the wrong size: an error, not a short read");
	is_int(db_in_transaction(db), 0, "no transaction left open");
	is_int(db_begin(db), 0, "inside a caller's transaction");
	is_int(db_secret(db, "test_three", a, out, sizeof(out)), 0, "... made");
	is_int(db_in_transaction(db), 1, "... the caller's still open");
	db_rollback(db);
	is_int(q_int("SELECT count(*) FROM secrets WHERE name = 'test_three'"),
	       0, "... and rolled back with it");
}

/* ----- token rows ------------------------------------------------------ */

static void
test_token_rows(struct db *db)
{
	struct token_row r;
	long long id = 0, id2 = 0;

	db_set_now(db, T0);
	is_int(db_token_add(db, "subscribe", "denmark", "alice@example.org",
	                    "digest", T0 + 86400, &id),
	       0, "token row added");
	ok(id > 0, "with an id");
	is_int(db_token_add(db, "subscribe", "denmark", "alice@example.org",
	                    NULL, T0 + 86400, &id2),
	       0, "a second, same tuple, NULL arg");
	ok(id2 > id, "with another id");
	is_int(db_token_get(db, id, &r), 0, "read back");
	ok(r.token && strncmp(r.token, "pending:", 8) == 0,
	   "token a placeholder until named (%s)", r.token);
	is_str(r.purpose, "subscribe", "purpose");
	is_str(r.list, "denmark", "list");
	is_str(r.address, "alice@example.org", "address");
	is_str(r.arg, "digest", "arg");
	is_int(r.created, T0, "created now");
	is_int(r.expires, T0 + 86400, "expires");
	is_int(r.used, 0, "not used");
	is_int(r.id, id, "id");
	token_row_clear(&r);
	ok(r.token == NULL && r.id == 0, "token_row_clear empties");
	is_int(db_token_get(db, id2, &r), 0, "second read back");
	is_str(r.arg, "", "NULL arg stored as ''");
	token_row_clear(&r);

	is_int(db_token_set(db, id, "7-abc-xyz"), 0, "named");
	db_token_get(db, id, &r);
	is_str(r.token, "7-abc-xyz", "name stored");
	token_row_clear(&r);
	is_int(db_token_set(db, id2, "7-abc-xyz"), -1,
	       "the same name twice: refused (UNIQUE)");
	is_int(db_token_set(db, 999999, "x"), -1, "naming no row: error");

	db_set_now(db, T0 + 60);
	is_int(db_token_use(db, id), 0, "used");
	db_token_get(db, id, &r);
	is_int(r.used, T0 + 60, "used at now");
	token_row_clear(&r);
	db_set_now(db, T0 + 120);
	is_int(db_token_use(db, id), 1, "used twice: 1 the second time");
	db_token_get(db, id, &r);
	is_int(r.used, T0 + 60, "the first use's time kept");
	token_row_clear(&r);
	is_int(db_token_get(db, 999999, &r), 1, "no such row: 1");
	ok(r.token == NULL, "... and *out left empty");
	is_int(db_token_use(db, 999999), 1, "using no row: 1, no change");
	db_set_now(db, 0);
}

static void
test_token_count(struct db *db)
{
	static const struct {
		time_t at;
		const char *purpose, *list, *address;
	} rows[] = {
	    {2000, "subscribe", "denmark", "alice@example.org"},
	    {2100, "subscribe", "denmark", "bob@example.org"},
	    {2200, "subscribe", "sweden", "alice@example.org"},
	    {2300, "unsubscribe", "denmark", "alice@example.org"},
	    {2400, "subscribe", "denmark", "x@a_b.org"},
	    {2500, "subscribe", "denmark", "y@a%b.org"},
	    {2600, "subscribe", "denmark", "z@axb.org"},
	    {2700, "subscribe", "denmark", "w@sub.example.org"},
	    {2800, "subscribe", "denmark", "v@a\\b.org"},
	};
	static const struct {
		const char *list, *address, *domain;
		time_t since;
		int pending;
		long want;
		const char *what;
	} cases[] = {
	    {NULL, NULL, NULL, 0, 0, 8, "all of purpose subscribe"},
	    {"", "", "", 0, 0, 8, "'' is any, like NULL"},
	    {"denmark", NULL, NULL, 0, 0, 7, "of denmark"},
	    {NULL, "alice@example.org", NULL, 0, 0, 2, "of alice"},
	    {"denmark", "alice@example.org", NULL, 0, 0, 1,
	     "of alice on denmark"},
	    {NULL, NULL, "example.org", 0, 0, 3,
	     "at example.org (not sub.example.org)"},
	    {NULL, NULL, "EXAMPLE.org", 0, 0, 3, "domain in any case"},
	    {NULL, NULL, "a_b.org", 0, 0, 1, "'_' is literal: a_b.org only"},
	    {NULL, NULL, "aXb.org", 0, 0, 1,
	     "aXb.org: not x@a_b.org nor y@a%b.org"},
	    {NULL, NULL, "a%b.org", 0, 0, 1, "'%' is literal: a%b.org only"},
	    {NULL, NULL, "a%", 0, 0, 0, "'a%' matches no domain"},
	    {NULL, NULL, "%", 0, 0, 0, "'%' matches no domain"},
	    {NULL, NULL, "_", 0, 0, 0, "'_' matches no domain"},
	    {NULL, NULL, "a\\b.org", 0, 0, 1, "backslash literal"},
	    {NULL, NULL, "\\", 0, 0, 0, "a lone backslash: 0, not an error"},
	    {NULL, NULL, "org", 0, 0, 0, "a suffix is no domain"},
	    {NULL, NULL, NULL, 2200, 0, 6, "created since 2200 (inclusive)"},
	    {NULL, NULL, NULL, 2201, 0, 5, "since 2201"},
	    {NULL, NULL, NULL, 9999, 0, 0, "since the future"},
	    {NULL, NULL, NULL, 0, 1, 7, "pending only (one used)"},
	    {NULL, "alice@example.org", NULL, 0, 1, 1, "alice, pending"},
	    {"sweden", NULL, "example.org", 2000, 1, 0,
	     "sweden, example.org, pending: none"},
	};
	long long id, used = 0;
	size_t i;

	q_exec("DELETE FROM tokens");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		db_set_now(db, rows[i].at);
		if (db_token_add(db, rows[i].purpose, rows[i].list,
		                 rows[i].address, "", 99999, &id) < 0)
			diag("fixture row %zu not added", i);
		if (i == 2)
			used = id;
	}
	db_set_now(db, 2900);
	db_token_use(db, used);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		is_int(db_token_count(db, "subscribe", cases[i].list,
		                      cases[i].address, cases[i].domain,
		                      cases[i].since, cases[i].pending),
		       cases[i].want, "count: %s", cases[i].what);
	is_int(
	    db_token_count(db, "unsubscribe", NULL, NULL, "example.org", 0, 1),
	    1, "count: another purpose");
	is_int(db_token_count(db, "export", NULL, NULL, NULL, 0, 0), 0,
	       "count: a purpose without rows");
	db_set_now(db, 0);
}

static void
test_token_purge(struct db *db)
{
	long long a, b, c, d, e;

	q_exec("DELETE FROM tokens");
	db_set_now(db, 1000);
	db_token_add(db, "s", "l", "a@x.org", "", 9000, &a);  /* expired */
	db_token_add(db, "s", "l", "b@x.org", "", 20000, &b); /* used early */
	db_token_add(db, "s", "l", "c@x.org", "", 20000, &c); /* fresh */
	db_token_add(db, "s", "l", "d@x.org", "", 20000, &d); /* used late */
	db_token_add(db, "s", "l", "e@x.org", "", 10000, &e); /* expires now */
	db_token_use(db, b);
	db_set_now(db, 9000);
	db_token_use(db, d);
	is_int(db_token_purge(db, 10000, 3600), 2,
	       "purge: expired and used-long-ago rows go");
	is_str(q_str("SELECT group_concat(address, ' ') FROM "
	             "(SELECT address FROM tokens ORDER BY id)"),
	       "c@x.org d@x.org e@x.org",
	       "fresh, recently used and expiring-now rows stay");
	is_int(db_token_purge(db, 10000, 3600), 0, "purge again: nothing");
	is_int(db_token_purge(db, 20001, 3600), 3, "all expired later");
	db_set_now(db, 0);
}

/* ----- member settings ------------------------------------------------- */

static void
test_member_settings(struct db *db)
{
	struct member_flags f;
	char lang[16];

	db_set_now(db, T0);
	db_member_add(db, "denmark", "carol@example.org", "Carol", "", "test");
	db_member_add(db, "sweden", "carol@example.org", "Carol", "sv", "test");
	memset(&f, 0x55, sizeof(f));
	is_int(db_member_flags(db, "denmark", "carol@example.org", &f), 0,
	       "flags of a member");
	ok(f.id > 0, "with an id");
	ok(f.digest == 0 && f.plain == 0 && f.nomail == 0,
	   "defaults: each, mime, mail on");
	is_str(f.language, "", "no language");
	is_int(f.since, T0, "since");
	memset(&f, 0x55, sizeof(f));
	is_int(db_member_flags(db, "denmark", "nobody@example.org", &f), 1,
	       "flags of a non-member: 1");
	ok(f.id == 0 && f.language[0] == '\0', "... *f zeroed");

	is_int(db_member_update(db, "denmark", "carol@example.org", 1, "plain",
	                        -1, NULL),
	       0, "digest on, plain");
	db_member_flags(db, "denmark", "carol@example.org", &f);
	ok(f.digest == 1 && f.plain == 1 && f.nomail == 0 &&
	       f.language[0] == '\0',
	   "digest 1 plain 1, nomail and language kept");
	is_int(db_member_update(db, "denmark", "carol@example.org", -1, NULL, 1,
	                        "da"),
	       0, "nomail on, language da");
	db_member_flags(db, "denmark", "carol@example.org", &f);
	ok(f.digest == 1 && f.plain == 1 && f.nomail == 1,
	   "digest and format kept, nomail 1");
	is_str(f.language, "da", "language da");
	is_int(db_member_update(db, "denmark", "carol@example.org", -1, NULL,
	                        -1, NULL),
	       0, "all kept: still 0 (a member)");
	db_member_flags(db, "denmark", "carol@example.org", &f);
	ok(f.digest == 1 && f.plain == 1 && f.nomail == 1 &&
	       strcmp(f.language, "da") == 0,
	   "nothing changed");
	is_int(db_member_update(db, "denmark", "carol@example.org", 0, "mime",
	                        0, ""),
	       0, "all back");
	db_member_flags(db, "denmark", "carol@example.org", &f);
	ok(f.digest == 0 && f.plain == 0 && f.nomail == 0 &&
	       f.language[0] == '\0',
	   "each, mime, mail on, the list's language");
	is_int(db_member_update(db, "denmark", "nobody@example.org", 1, NULL,
	                        -1, NULL),
	       1, "update of a non-member: 1");
	is_int(q_int("SELECT count(*) FROM members WHERE address = "
	             "'nobody@example.org'"),
	       0, "... and no row made");
	db_member_flags(db, "sweden", "carol@example.org", &f);
	ok(f.digest == 0 && f.nomail == 0 && strcmp(f.language, "sv") == 0,
	   "the other list's membership untouched");

	/* The person's own language (mail about no list). */
	is_int(db_person_language(db, "carol@example.org", lang, sizeof(lang)),
	       0, "a person's language");
	is_str(lang, "", "none yet");
	is_int(db_person_set_language(db, "carol@example.org", "sv"), 0,
	       "set to sv");
	db_person_language(db, "carol@example.org", lang, sizeof(lang));
	is_str(lang, "sv", "sv");
	db_person_language(db, "carol@example.org", lang, 2);
	is_str(lang, "s", "cut to the buffer");
	strlcpy_(lang, "junk", sizeof(lang));
	is_int(db_person_language(db, "nobody@example.org", lang, sizeof(lang)),
	       1, "no such person: 1");
	is_str(lang, "", "... and out empty");
	db_person_set_language(db, "nobody@example.org", "da");
	is_int(q_int("SELECT count(*) FROM persons WHERE address = "
	             "'nobody@example.org'"),
	       0, "setting a stranger's language makes no person");
	db_set_now(db, 0);
}

/* ----- membership ids, a person's lists ---------------------------------- */

struct seen {
	char lists[8][32];
	struct member_flags f[8];
	int n, stop_at;
};

static int
see_list(const char *list, const struct member_flags *f, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		strlcpy_(s->lists[s->n], list, sizeof(s->lists[0]));
		s->f[s->n] = *f;
	}
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static void
test_member_id(struct db *db)
{
	const char *dk[] = {"denmark"};
	const char *se_dk[] = {"sweden", "denmark"};
	const char *dk_se[] = {"denmark", "sweden"};
	const char *all[] = {"all", "denmark", "sweden"};
	const char *no[] = {"norway"};
	struct member_flags f;
	long long d_dk, d_se, e_se, d_all;
	char list[32], addr[64];
	struct seen s;

	db_set_now(db, T0);
	db_member_add(db, "denmark", "dave@example.org", "", "", "test");
	db_member_add(db, "sweden", "erin@example.org", "", "", "test");
	db_member_add(db, "sweden", "dave@example.org", "", "", "test");
	db_member_flags(db, "denmark", "dave@example.org", &f);
	d_dk = f.id;
	db_member_flags(db, "sweden", "dave@example.org", &f);
	d_se = f.id;
	db_member_flags(db, "sweden", "erin@example.org", &f);
	e_se = f.id;
	ok(d_dk < e_se && e_se < d_se, "fixture ids in order of adding");

	is_int(db_member_id(db, dk, 1, "dave@example.org"), d_dk,
	       "a direct member");
	is_int(db_member_id(db, dk_se, 2, "dave@example.org"), d_dk,
	       "lists[0] first");
	is_int(db_member_id(db, se_dk, 2, "dave@example.org"), d_se,
	       "lists[0] preferred over a lower id");
	is_int(db_member_id(db, dk_se, 2, "erin@example.org"), e_se,
	       "a member only of an included list");
	is_int(db_member_id(db, all, 3, "erin@example.org"), e_se,
	       "umbrella: found in lists[2]");
	is_int(db_member_id(db, all, 3, "dave@example.org"), d_dk,
	       "umbrella, not in lists[0]: the lowest id of the rest");
	db_member_add(db, "all", "dave@example.org", "", "", "test");
	db_member_flags(db, "all", "dave@example.org", &f);
	d_all = f.id;
	is_int(db_member_id(db, all, 3, "dave@example.org"), d_all,
	       "umbrella member in lists[0] itself: that one");
	is_int(db_member_id(db, all, 3, "nobody@example.org"), 0, "nobody: 0");
	is_int(db_member_id(db, no, 1, "dave@example.org"), 0,
	       "not on that list: 0");
	is_int(db_member_id(db, all, 0, "dave@example.org"), 0, "no lists: 0");
	is_int(db_member_id(db, dk, 1, "dave@example.org"), d_dk,
	       "the cached statement again, other bindings");

	is_int(
	    db_member_by_id(db, d_se, list, sizeof(list), addr, sizeof(addr)),
	    0, "by id");
	is_str(list, "sweden", "list");
	is_str(addr, "dave@example.org", "address");
	is_int(
	    db_member_by_id(db, 999999, list, sizeof(list), addr, sizeof(addr)),
	    1, "no such id: 1");

	db_member_update(db, "sweden", "dave@example.org", 1, "plain", 1, "sv");
	memset(&s, 0, sizeof(s));
	is_int(db_person_lists(db, "dave@example.org", see_list, &s), 0,
	       "dave's lists walked");
	is_int(s.n, 3, "three");
	ok(strcmp(s.lists[0], "all") == 0 &&
	       strcmp(s.lists[1], "denmark") == 0 &&
	       strcmp(s.lists[2], "sweden") == 0,
	   "by list name: %s %s %s", s.lists[0], s.lists[1], s.lists[2]);
	ok(s.f[2].id == d_se && s.f[2].digest == 1 && s.f[2].plain == 1 &&
	       s.f[2].nomail == 1 && strcmp(s.f[2].language, "sv") == 0 &&
	       s.f[2].since == T0,
	   "sweden's flags");
	ok(s.f[1].id == d_dk && s.f[1].digest == 0 && s.f[1].nomail == 0,
	   "denmark's flags");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	is_int(db_person_lists(db, "dave@example.org", see_list, &s), 42,
	       "fn non-zero stops the walk and is returned");
	is_int(s.n, 2, "... after two");
	memset(&s, 0, sizeof(s));
	is_int(db_person_lists(db, "nobody@example.org", see_list, &s), 0,
	       "nobody's lists");
	is_int(s.n, 0, "none");
	db_set_now(db, 0);
}

/* ----- a person's data ------------------------------------------------- */

#define ALICE "alice@gdpr.example"
#define BOB   "bob@gdpr.example"
static const char alice_name[] = "\xc3\x85se \"Bo\" \\ \xc3\x98lgaard";

/* struct held is a row read back (its strings owned): the casts only
 * lend ours to db_held_add(), which does not write through them. */
static void
held_fixture(struct db *db, const char *spool_id, const char *sender,
             const char *from, const char *subject)
{
	struct held h;
	long long id;

	memset(&h, 0, sizeof(h));
	h.list = "denmark";
	h.spool_id = (char *)spool_id;
	h.message_id = (char *)spool_id;
	h.sender = (char *)sender;
	h.from_addr = (char *)from;
	h.subject = (char *)subject;
	h.reason = "test";
	h.expires = T0 + 86400;
	if (db_held_add(db, &h, &id) < 0)
		diag("held fixture %s not added", spool_id);
}

static void
message_fixture(struct db *db, const char *mid, const char *name,
                const char *from, const char *subject, const char *text)
{
	struct archived a;
	long long id;

	memset(&a, 0, sizeof(a));
	a.list = "denmark";
	a.message_id = mid;
	a.path = mid;
	a.from_name = name;
	a.from_addr = from;
	a.subject = subject;
	a.date = T0;
	a.received = T0;
	a.text = text;
	if (db_message_add(db, &a, &id) != 0)
		diag("message fixture %s not added", mid);
}

static void
person_fixture(struct db *db)
{
	char sql[1024];
	long long id;

	db_set_now(db, T0);
	db_member_add(db, "denmark", ALICE, alice_name, "da", "test");
	db_member_add(db, "sweden", ALICE, alice_name, "", "test");
	db_member_remove(db, "sweden", ALICE, "test");
	db_member_add(db, "norway", ALICE, alice_name, "", "test");
	db_person_set_language(db, ALICE, "da");
	db_member_add(db, "denmark", BOB, "Bob", "", "test");
	db_member_add(db, "sweden", BOB, "Bob", "", "test");

	db_token_add(db, "subscribe", "finland", ALICE, "digest", T0 + 86400,
	             &id);
	db_token_add(db, "export", "", ALICE, "", T0 + 86400, &id);
	db_token_add(db, "subscribe", "finland", BOB, "", T0 + 86400, &id);

	sqlf(sql, sizeof(sql),
	     "INSERT INTO bounces (list, address, at, kind, status) VALUES "
	     "('denmark', '%s', %d, 'hard', '5.1.1'),"
	     "('norway', '%s', %d, 'soft', '4.2.2'),"
	     "('denmark', '%s', %d, 'hard', '5.1.1');"
	     "INSERT INTO accept_senders VALUES ('sweden', '%s', 'test', %d),"
	     "('norway', '%s', 'test', %d);",
	     ALICE, T0, ALICE, T0, BOB, T0, ALICE, T0, BOB, T0);
	q_exec(sql);

	held_fixture(db, "h.alice", ALICE, ALICE, "Alice's held post");
	held_fixture(db, "h.bob", BOB, BOB, "Bob's held post");
	/* Alice's envelope, Bob's From: (she forwarded his text). */
	held_fixture(db, "h.mixed", ALICE, BOB, "Mixed held post");

	message_fixture(db, "m.alice@x", alice_name, ALICE, "Alice writes",
	                "hello from the north");
	message_fixture(db, "m.bob@x", "Bob", BOB, "Bob writes",
	                "hello from the south");

	sqlf(sql, sizeof(sql),
	     "INSERT INTO inbound (spool_id, sender, recipient, list, role, "
	     "message_id, from_addr, subject, received, size) VALUES "
	     "('i1', '%s', 'denmark@l.org', 'denmark', 'post', 'm1', '%s', "
	     "'s', %d, 1),"
	     "('i2', '%s', 'denmark@l.org', 'denmark', 'post', 'm2', '%s', "
	     "'s', %d, 1),"
	     "('i3', '%s', 'denmark@l.org', 'denmark', 'post', 'm3', '%s', "
	     "'s', %d, 1),"
	     "('i4', '%s', 'denmark@l.org', 'denmark', 'post', 'm4', '%s', "
	     "'s', %d, 1);",
	     ALICE, ALICE, T0, BOB, BOB, T0, ALICE, BOB, T0, BOB, ALICE, T0);
	q_exec(sql);

	sqlf(sql, sizeof(sql),
	     "INSERT INTO outbound (list, path, sender, recipient, state, "
	     "created, next_attempt, expires) VALUES "
	     "('denmark', 'o/1', 'b@l.org', '%s', 'queued', %d, %d, %d),"
	     "('denmark', 'o/2', 'b@l.org', '%s', 'deferred', %d, %d, %d),"
	     "('denmark', 'o/3', 'b@l.org', '%s', 'sent', %d, %d, %d),"
	     "('denmark', 'o/4', 'b@l.org', '%s', 'failed', %d, %d, %d),"
	     "('denmark', 'o/3', 'b@l.org', '%s', 'sent', %d, %d, %d);",
	     ALICE, T0, T0, T0 + 3600, ALICE, T0, T0, T0 + 3600, ALICE, T0, T0,
	     T0 + 3600, ALICE, T0, T0, T0 + 3600, BOB, T0, T0, T0 + 3600);
	q_exec(sql);

	/* An event with an answer from each (the RSVPs of issue 8). */
	sqlf(sql, sizeof(sql),
	     "INSERT INTO events (id, uid, list, title, dtstart, dtend, "
	     "created, updated) VALUES (1, 'ev1', 'denmark', 'Meeting', %d, "
	     "%d, %d, %d);"
	     "INSERT INTO rsvps (event, address, partstat) VALUES "
	     "(1, '%s', 'accepted'), (1, '%s', 'declined');",
	     T0, T0 + 3600, T0, T0, ALICE, BOB);
	q_exec(sql);
	db_log_event(db, "denmark", "post", "m1", 1);
	db_set_now(db, 0);
}

static void
test_export(struct db *db)
{
	struct buf b = BUF_INIT;
	const char *j;
	char name[128];

	is_int(db_person_export(db, ALICE, &b), 0, "export alice");
	j = buf_str(&b);
	is_int(j_int(j, "json_valid(?1)"), 1, "valid JSON");
	is_str(j_str(j, "json_type(?1)"), "object", "one object");
	is_str(j_str(j, "json_extract(?1, '$.address')"), ALICE, "address");
	is_str(j_str(j, "json_extract(?1, '$.person.language')"), "da",
	       "the person's language");
	is_str(j_str(j, "json_type(?1, '$.memberships')"), "array",
	       "memberships an array, not a string");
	is_int(j_int(j, "json_array_length(?1, '$.memberships')"), 2,
	       "two memberships (denmark, norway)");
	j_eval(j, "json_extract(?1, '$.memberships[0].name')", NULL, name,
	       sizeof(name));
	is_str(name, alice_name, "the name round-trips");
	ok(strstr(j, "\\\"Bo\\\"") != NULL, "quotes escaped");
	ok(strstr(j, "\" \\\\ ") != NULL, "backslash escaped");
	is_int(j_int(j, "json_array_length(?1, '$.consents')"), 4,
	       "four consents (3 subscribe, 1 unsubscribe)");
	is_int(j_int(j, "(SELECT count(*) FROM json_each(?1, '$.consents') "
	                "WHERE json_extract(value, '$.action') = "
	                "'unsubscribe')"),
	       1, "... one of them the unsubscription");
	is_int(j_int(j, "json_array_length(?1, '$.pending_confirmations')"), 2,
	       "two tokens");
	is_int(j_int(j, "json_array_length(?1, '$.bounces')"), 2,
	       "two bounces");
	is_int(j_int(j, "json_array_length(?1, '$.held_posts')"), 2,
	       "two held posts (own, and sent on behalf)");
	is_str(j_str(j, "json_extract(?1, '$.accepted_sender_of[0]')"),
	       "sweden", "accepted sender of sweden");
	is_int(j_int(j, "json_array_length(?1, '$.accepted_sender_of')"), 1,
	       "... only");
	is_int(j_int(j, "json_array_length(?1, '$.archived_posts')"), 1,
	       "one archived post");
	is_int(j_int(j, "json_extract(?1, '$.mail_received_from_you')"), 3,
	       "three mails received (by sender or From:)");
	is_int(j_int(j, "json_extract(?1, '$.mail_sent_to_you')"), 4,
	       "four copies sent or to send");
	ok(strstr(j, "bob@") == NULL && strstr(j, "Bob") == NULL,
	   "nothing about bob");
	if (tap_failed)
		diag("%s", j);
	buf_free(&b);

	buf_adds(&b, "X");
	is_int(db_person_export(db, "nobody@example.org", &b), 0,
	       "export of nobody");
	j = buf_str(&b);
	ok(j[0] == 'X', "appended to what the buffer held");
	is_int(j_int(j + 1, "json_valid(?1)"), 1, "valid JSON");
	is_str(j_str(j + 1, "json_type(?1, '$.person')"), "null", "no person");
	is_int(j_int(j + 1, "json_array_length(?1, '$.memberships')"), 0,
	       "no memberships");
	buf_free(&b);
}

/* Every row of every table (the search index's own tables aside) that
 * holds s in any column; outbound copies still to be sent are allowed. */
static long
rows_holding(const char *s)
{
	sqlite3 *h;
	sqlite3_stmt *t, *q;
	struct buf sql = BUF_INIT;
	long total = 0;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(
	        h,
	        "SELECT m.name, group_concat('\"' || c.name || "
	        "'\" LIKE ''%' || ?1 || '%''', ' OR ') "
	        "FROM sqlite_master m, pragma_table_info(m.name) c "
	        "WHERE m.type = 'table' AND m.name NOT LIKE "
	        "'messages_fts%' AND m.name NOT LIKE 'sqlite_%' "
	        "GROUP BY m.name",
	        -1, &t, NULL) != SQLITE_OK) {
		diag("%s", sqlite3_errmsg(h));
		sqlite3_close(h);
		return -1;
	}
	sqlite3_bind_text(t, 1, s, -1, SQLITE_STATIC);
	while (sqlite3_step(t) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(t, 0);
		long n = -1;

		buf_reset(&sql);
		buf_printf(&sql, "SELECT count(*) FROM \"%s\" WHERE (%s)", name,
		           (const char *)sqlite3_column_text(t, 1));
		if (strcmp(name, "outbound") == 0)
			buf_adds(&sql, " AND state NOT IN ('queued', "
			               "'deferred')");
		if (sqlite3_prepare_v2(h, buf_str(&sql), -1, &q, NULL) ==
		    SQLITE_OK) {
			if (sqlite3_step(q) == SQLITE_ROW)
				n = sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
		}
		if (n != 0)
			diag("%ld rows of %s hold '%s'", n, name, s);
		if (n > 0 && strcmp(name, "rsvps") != 0)
			total += n;
		else if (n < 0)
			total = -1000000;
	}
	sqlite3_finalize(t);
	sqlite3_close(h);
	buf_free(&sql);
	return total;
}

/* What must not change for bob when alice goes. */
static const char bob_sql[] =
    "SELECT (SELECT group_concat(list || digest || nomail || name) FROM "
    "  (SELECT * FROM members WHERE address = '" BOB "' ORDER BY id))"
    " || '|' || (SELECT count(*) FROM consents WHERE address = '" BOB "')"
    " || '|' || (SELECT count(*) FROM persons WHERE address = '" BOB "')"
    " || '|' || (SELECT count(*) FROM tokens WHERE address = '" BOB "')"
    " || '|' || (SELECT count(*) FROM bounces WHERE address = '" BOB "')"
    " || '|' || (SELECT count(*) FROM accept_senders WHERE address = '" BOB "')"
    " || '|' || (SELECT count(*) FROM outbound WHERE recipient = '" BOB "')"
    " || '|' || (SELECT count(*) FROM rsvps WHERE address = '" BOB "')"
    " || '|' || (SELECT sender || from_addr FROM held WHERE spool_id = "
    "'h.bob')"
    " || '|' || (SELECT group_concat(spool_id) FROM inbound WHERE sender = "
    "'" BOB "' OR from_addr = '" BOB "')"
    " || '|' || (SELECT group_concat(from_name || subject) FROM messages "
    "  WHERE from_addr = '" BOB "')";

static const char events_sql[] =
    "SELECT group_concat(id || ',' || at || ',' || list || ',' || kind || "
    "',' || ref || ',' || n, ';') FROM event_log WHERE kind != 'erasure'";

static void
test_erase(struct db *db)
{
	char bob_before[1024], events_before[4096], sql[256];
	long want, n, held, inbound, messages, erasures;
	struct buf b = BUF_INIT;

	/* Inside a caller's transaction, rolled back: nothing happens. */
	is_int(db_begin(db), 0, "begin");
	ok(db_person_erase(db, BOB) > 0, "erase bob inside a transaction");
	is_int(db_in_transaction(db), 1, "... the caller's still open");
	db_rollback(db);
	is_int(q_int("SELECT count(*) FROM members WHERE address = '" BOB "'"),
	       2, "rolled back: bob still a member");

	strlcpy_(bob_before, q_str(bob_sql), sizeof(bob_before));
	strlcpy_(events_before, q_str(events_sql), sizeof(events_before));
	ok(bob_before[0] && events_before[0], "fixture snapshot taken");
	held = q_int("SELECT count(*) FROM held");
	inbound = q_int("SELECT count(*) FROM inbound");
	messages = q_int("SELECT count(*) FROM messages");
	erasures = q_int("SELECT count(*) FROM event_log WHERE kind = "
	                 "'erasure'");
	is_int(q_int("SELECT count(*) FROM messages_fts WHERE messages_fts "
	             "MATCH 'author:alice'"),
	       1, "alice's post found by her address in search");
	want = q_int1("SELECT (SELECT count(*) FROM members WHERE address = ?1)"
	              " + (SELECT count(*) FROM consents WHERE address = ?1)"
	              " + (SELECT count(*) FROM tokens WHERE address = ?1)"
	              " + (SELECT count(*) FROM bounces WHERE address = ?1)"
	              " + (SELECT count(*) FROM accept_senders "
	              "    WHERE address = ?1)"
	              " + (SELECT count(*) FROM outbound WHERE recipient = ?1 "
	              "    AND state IN ('sent', 'failed'))"
	              " + (SELECT count(*) FROM held WHERE sender = ?1)"
	              " + (SELECT count(*) FROM held WHERE from_addr = ?1)"
	              " + (SELECT count(*) FROM rsvps WHERE address = ?1)"
	              " + (SELECT count(*) FROM inbound WHERE sender = ?1)"
	              " + (SELECT count(*) FROM inbound WHERE from_addr = ?1)"
	              " + (SELECT count(*) FROM messages WHERE from_addr = ?1)"
	              " + (SELECT count(*) FROM persons WHERE address = ?1)"
	              /* each membership also leaves a row in the event
	               * log (a leave, for the reports) */
	              " + (SELECT count(*) FROM members WHERE address = ?1)",
	              ALICE);

	n = db_person_erase(db, ALICE);
	is_int(n, want, "erase alice: rows touched");
	is_int(db_in_transaction(db), 0, "its own transaction, committed");

	is_int(rows_holding(ALICE), 0,
	       "no row anywhere holds the address (but copies to send)");
	is_int(rows_holding("lgaard"), 0, "... nor her name");
	{
		static const char *const tables[] = {
		    "members", "consents",       "tokens",
		    "bounces", "accept_senders", "persons"};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(tables); i++) {
			sqlf(sql, sizeof(sql),
			     "SELECT count(*) FROM %s WHERE address = ?1",
			     tables[i]);
			is_int(q_int1(sql, ALICE), 0, "no %s row", tables[i]);
		}
	}
	ok(q_int1("SELECT count(*) FROM rsvps WHERE address = ?1", ALICE) == 0,
	   "no rsvps row");
	is_int(q_int("SELECT count(*) FROM held"), held, "held rows kept");
	is_int(q_int1("SELECT count(*) FROM held WHERE sender = ?1 OR "
	              "from_addr = ?1",
	              ALICE),
	       0, "... without her address");
	is_str(q_str("SELECT subject FROM held WHERE spool_id = 'h.alice'"),
	       "Alice's held post", "... with their subject");
	/* Her envelope on a held row whose From: is Bob's: Bob's stays. */
	ok(strcmp(q_str("SELECT from_addr FROM held WHERE spool_id = "
	                "'h.mixed'"),
	          BOB) == 0,
	   "a held row of her envelope keeps bob's From:");
	is_int(q_int("SELECT count(*) FROM inbound"), inbound,
	       "inbound rows kept");
	is_int(q_int1("SELECT count(*) FROM inbound WHERE sender = ?1 OR "
	              "from_addr = ?1",
	              ALICE),
	       0, "... without her address");
	is_str(q_str("SELECT sender || ',' || from_addr FROM inbound "
	             "WHERE spool_id IN ('i3', 'i4') ORDER BY spool_id"),
	       "," BOB, "... bob's half of a shared row kept (i3)");
	is_str(q_str("SELECT sender || ',' || from_addr FROM inbound "
	             "WHERE spool_id = 'i4'"),
	       BOB ",", "... (i4)");
	is_int(q_int("SELECT count(*) FROM messages"), messages,
	       "archive rows kept");
	is_str(q_str("SELECT from_name || '|' || from_addr || '|' || subject "
	             "FROM messages WHERE message_id = 'm.alice@x'"),
	       "||Alice writes", "... without her name and address");
	is_int(q_int("SELECT count(*) FROM messages_fts WHERE messages_fts "
	             "MATCH 'author:alice'"),
	       0, "search no longer finds her address");
	is_int(q_int("SELECT count(*) FROM messages_fts WHERE messages_fts "
	             "MATCH 'hello'"),
	       2, "... the texts are still found");
	is_int(q_int("SELECT count(*) FROM messages_fts WHERE messages_fts "
	             "MATCH 'author:bob'"),
	       1, "... and bob's post by his name");
	is_str(q_str("SELECT group_concat(state) FROM (SELECT state FROM "
	             "outbound WHERE recipient = '" ALICE "' ORDER BY id)"),
	       "queued,deferred", "copies still to send stay, sent/failed go");
	is_int(strncmp(q_str(events_sql), events_before,
	               strlen(events_before)) == 0,
	       1, "event_log rows unchanged (the log only grows)");
	is_int(q_int("SELECT count(*) FROM event_log WHERE kind = "
	             "'unsubscribe' AND ref = 'erasure'"),
	       2, "each membership erased is counted as a leave");
	is_int(q_int("SELECT count(*) FROM event_log WHERE kind = 'erasure'"),
	       erasures + 1, "one 'erasure' row added");
	is_str(q_str("SELECT list || ref || n FROM event_log WHERE kind = "
	             "'erasure' ORDER BY id DESC LIMIT 1"),
	       "1", "... naming no list, no reference");
	is_str(q_str(bob_sql), bob_before, "bob's data untouched");

	is_int(db_person_export(db, ALICE, &b), 0, "export after erasure");
	is_int(j_int(buf_str(&b),
	             "json_array_length(?1, '$.memberships') + "
	             "json_array_length(?1, '$.consents') + "
	             "json_array_length(?1, '$.pending_confirmations') + "
	             "json_array_length(?1, '$.bounces') + "
	             "json_array_length(?1, '$.held_posts') + "
	             "json_array_length(?1, '$.archived_posts') + "
	             "json_extract(?1, '$.mail_received_from_you')"),
	       0, "... holds nothing");
	buf_free(&b);

	is_int(db_person_erase(db, "nobody@example.org"), 0,
	       "erasing an unknown address: 0");
	is_int(db_person_erase(db, ALICE), 0, "erasing alice again: 0");
	is_int(db_member_count(db, "denmark") >= 1, 1, "others remain");
}

int
main(void)
{
	struct db *db;

	log_open("db_sub_test", 1, L_ERROR);
	strlcpy_(dir, "db_sub_test.XXXXXX", sizeof(dir));
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mlmd.db", dir);
	db = db_open(path);
	if (!db) {
		printf("Bail out! db_open failed\n");
		return 1;
	}
	test_secret(db);
	test_token_rows(db);
	test_token_count(db);
	test_token_purge(db);
	test_member_settings(db);
	test_member_id(db);
	person_fixture(db);
	test_export(db);
	test_erase(db);
	db_close(db);
	{
		static const char *const sfx[] = {"", "-wal", "-shm"};
		char p[200];
		size_t i;

		for (i = 0; i < ARRAY_SIZE(sfx); i++) {
			snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return done_testing();
}
