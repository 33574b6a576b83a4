/*
 * token_test.c - the tokens of confirmation addresses and links
 * (token.c): the key is made once and every process that opens the
 * database reads the same one; make and parse round-trip; the shape
 * (lower case, short enough for a local part); verify accepts exactly
 * the tuple the token was made for, in any case, and nothing else:
 * no changed field, no changed character, no truncated, extended,
 * over-long or empty string, no token of another key.
 *
 * A database file in a mkdtemp() directory of the build dir; the
 * processes that must agree on the key are fork()ed children reporting
 * the key they loaded through a pipe.
 */
#include "config.h"

#include <sys/wait.h>

#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "tap.h"
#include "token.h"
#include "util.h"

#define MAC_LEN ((TOKEN_MAC_BYTES * 8 + 4) / 5)

static char dir[64];
static char path[128];

static long
q_int(const char *sql)
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
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else {
		diag("%s: %s", sql, sqlite3_errmsg(h));
	}
	sqlite3_close(h);
	return v;
}

/* In a child: open the database, load the key, write it to fd. */
static pid_t
key_child(int fd, int wait_fd)
{
	pid_t pid = fork();
	struct token_key k;
	struct db *db;
	char go;

	if (pid != 0)
		return pid;
	if (wait_fd >= 0 && read(wait_fd, &go, 1) != 1)
		_exit(2);
	if (!(db = db_open(path)))
		_exit(3);
	if (token_key_load(db, &k) < 0)
		_exit(4);
	db_close(db);
	if (write(fd, k.k, sizeof(k.k)) != (ssize_t)sizeof(k.k))
		_exit(5);
	_exit(0);
}

static int
read_key(int fd, struct token_key *k)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(k->k)) {
		n = read(fd, k->k + got, sizeof(k->k) - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int
child_ok(pid_t pid)
{
	int status;

	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static void
test_key(struct token_key *key)
{
	static const unsigned char zero[TOKEN_KEY_BYTES];
	struct token_key k2, k3, ka, kb;
	struct db *db, *db2;
	int p[2], gate[2];
	pid_t a, b;

	if (!(db = db_open(path))) {
		printf("Bail out! db_open failed\n");
		exit(1);
	}
	is_int(q_int("SELECT count(*) FROM secrets"), 0, "no key before use");

	/* Two processes that find no key yet, released at the same time. */
	if (pipe(p) < 0 || pipe(gate) < 0) {
		printf("Bail out! pipe failed\n");
		exit(1);
	}
	fflush(stdout);
	a = key_child(p[1], gate[0]);
	b = key_child(p[1], gate[0]);
	if (write(gate[1], "gg", 2) != 2)
		diag("cannot release the children");
	close(gate[0]);
	close(gate[1]);
	ok(read_key(p[0], &ka) == 0 && read_key(p[0], &kb) == 0,
	   "two processes loaded a key at once");
	ok(child_ok(a) && child_ok(b), "both children exited 0");
	ok(memcmp(ka.k, kb.k, sizeof(ka.k)) == 0, "... and they agree");
	is_int(q_int("SELECT count(*) FROM secrets WHERE name = 'token_hmac'"),
	       1, "one key row");

	is_int(token_key_load(db, key), 0, "key loaded by the test");
	ok(memcmp(key->k, ka.k, sizeof(key->k)) == 0,
	   "the same key as the children's");
	ok(memcmp(key->k, zero, sizeof(zero)) != 0, "the key is not zeros");
	is_int(token_key_load(db, &k2), 0, "loaded again");
	ok(memcmp(key->k, k2.k, sizeof(k2.k)) == 0, "stable on one handle");
	if (!(db2 = db_open(path))) {
		printf("Bail out! second db_open failed\n");
		exit(1);
	}
	is_int(token_key_load(db2, &k3), 0, "loaded through a second handle");
	ok(memcmp(key->k, k3.k, sizeof(k3.k)) == 0,
	   "stable across two db_open of one file");
	db_close(db2);
	db_close(db);

	/* A process that starts later reads the key as it is. */
	fflush(stdout);
	a = key_child(p[1], -1);
	ok(read_key(p[0], &ka) == 0 && child_ok(a) &&
	       memcmp(ka.k, key->k, sizeof(ka.k)) == 0,
	   "a later process reads the same key");
	is_int(q_int("SELECT count(*) FROM secrets"), 1, "still one row");
	close(p[0]);
	close(p[1]);
}

static int
shaped(const char *t)
{
	const char *p;
	int dashes = 0;

	for (p = t; *p; p++) {
		if (*p == '-')
			dashes++;
		else if (!((*p >= 'a' && *p <= 'z') ||
		           (*p >= '0' && *p <= '9')))
			return 0;
	}
	return dashes == 2 && *t != '-' && strlen(t) <= TOKEN_MAX;
}

static void
test_round_trip(const struct token_key *key)
{
	static const long long ids[] = {
	    0,          1,         35,
	    36,         1295,      1296,
	    10000000LL, 1LL << 40, (long long)INT32_MAX};
	static const time_t exps[] = {0,
	                              1,
	                              1793000000,
	                              INT32_MAX,
	                              4102444800LL /* 2100 */,
	                              253402300799LL /* 9999 */};
	char t[TOKEN_MAX + 1];
	size_t i, j;
	int all_parse = 1, all_shape = 1, all_verify = 1;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		for (j = 0; j < ARRAY_SIZE(exps); j++) {
			long long id = -1;
			time_t e = -1;

			token_make(key, "subscribe", "denmark",
			           "alice@example.org", ids[i], exps[j], t,
			           sizeof(t));
			if (token_parse(t, &id, &e) != 0 || id != ids[i] ||
			    e != exps[j]) {
				all_parse = 0;
				diag("%s: parsed %lld %lld, want %lld %lld", t,
				     id, (long long)e, ids[i],
				     (long long)exps[j]);
			}
			if (!shaped(t)) {
				all_shape = 0;
				diag("badly shaped: %s", t);
			}
			if (token_verify(key, t, "subscribe", "denmark",
			                 "alice@example.org") != 1)
				all_verify = 0;
		}
	}
	ok(all_parse, "make/parse round trip: ids 0, 1, 36, 2^40, ...; "
	              "expiries 0 .. year 9999");
	ok(all_shape, "tokens are [a-z0-9] with two '-', at most TOKEN_MAX");
	ok(all_verify, "every one verifies");

	token_make(key, "p", "l", "a@b", 36, 36 * 36, t, sizeof(t));
	ok(strncmp(t, "10-100-", 7) == 0, "ID and EXP in base 36 (%s)", t);
	is_int(strlen(t), 7 + MAC_LEN, "MAC of %d characters", MAC_LEN);
	token_make(key, "p", "l", "a@b", 0, 0, t, sizeof(t));
	ok(strncmp(t, "0-0-", 4) == 0, "zeros are '0' (%s)", t);

	/* The local part of an unsubscribe address stays within RFC 5321's
	 * 64 octets for ten million members, even with expiries far out. */
	{
		char lp[128];

		token_make(key, "unsubscribe", "denmark", "alice@example.org",
		           10000000LL, 4102444800LL, t, sizeof(t));
		snprintf(lp, sizeof(lp), "denmark+unsubscribe-%s", t);
		ok(strlen(lp) <= 64, "'%s' is %zu <= 64 octets", lp,
		   strlen(lp));
		token_make(key, "unsubscribe", "coordinators",
		           "alice@example.org", 10000000LL, 4102444800LL, t,
		           sizeof(t));
		snprintf(lp, sizeof(lp), "coordinators+unsubscribe-%s", t);
		ok(strlen(lp) <= 64, "'%s' is %zu <= 64 octets", lp,
		   strlen(lp));
	}

	/* The largest inputs fit the documented buffer, with no overrun. */
	{
		char big[TOKEN_MAX + 1 + 8];

		memset(big, 'Z', sizeof(big));
		token_make(key, "p", "l", "a@b", LLONG_MAX, (time_t)LLONG_MAX,
		           big, TOKEN_MAX + 1);
		ok(memchr(big, '\0', TOKEN_MAX + 1) != NULL &&
		       big[TOKEN_MAX + 1] == 'Z',
		   "id and expiry LLONG_MAX: no overrun of TOKEN_MAX + 1 "
		   "bytes");
		token_make(key, "p", "l", "a@b", LLONG_MAX / 2,
		           (time_t)(LLONG_MAX / 2), big, TOKEN_MAX + 1);
		ok(shaped(big) && token_verify(key, big, "p", "l", "a@b") == 1,
		   "the largest id and expiry parse accepts make a whole token "
		   "(%s)",
		   big);
		memset(big, 'Z', sizeof(big));
		token_make(key, "p", "l", "a@b", 1LL << 40, 1793000000, big,
		           10);
		ok(strlen(big) == 9 && big[10] == 'Z',
		   "a short buffer is cut, NUL-terminated, not overrun");
		memset(big, 'Z', sizeof(big));
		token_make(key, "p", "l", "a@b", 1, 1, big, 0);
		ok(big[0] == 'Z', "outsz 0 writes nothing");
	}
}

static void
test_verify(const struct token_key *key)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	const char *P = "subscribe", *L = "denmark", *A = "alice@example.org";
	char t[TOKEN_MAX + 1], u[TOKEN_MAX + 1], v[TOKEN_MAX + 8];
	long long id;
	time_t e;
	size_t i, n, k;
	int bad;

	token_make(key, P, L, A, 4711, 1793000000, t, sizeof(t));
	is_int(token_verify(key, t, P, L, A), 1, "the right tuple verifies");
	is_int(token_verify(key, t, "unsubscribe", L, A), 0, "other purpose");
	is_int(token_verify(key, t, P, "sweden", A), 0, "other list");
	is_int(token_verify(key, t, P, "denmar", A), 0, "list cut short");
	is_int(token_verify(key, t, P, L, "alice@example.orh"), 0,
	       "address with one letter changed");
	is_int(token_verify(key, t, P, L, "blice@example.org"), 0,
	       "... the first letter");
	is_int(token_verify(key, t, P, L, "Alice@example.org"), 0,
	       "the address is not case-folded by verify");
	is_int(token_verify(key, t, P, L, ""), 0, "empty address");

	/* Another id or expiry, made by hand from the token. */
	snprintf(u, sizeof(u), "3n8%s", strchr(t, '-')); /* 3n8 = 4724 */
	is_int(token_parse(u, &id, &e), 0, "id replaced: still parses");
	is_int(token_verify(key, u, P, L, A), 0, "... but does not verify");
	n = (size_t)(strrchr(t, '-') - t);
	memcpy(u, t, sizeof(u));
	u[n - 1] = u[n - 1] == 'z' ? 'y' : u[n - 1] == '9' ? 'a' : u[n - 1] + 1;
	is_int(token_verify(key, u, P, L, A), 0, "expiry changed");
	snprintf(v, sizeof(v), "0%s", t);
	ok(token_parse(v, &id, &e) == 0 && id == 4711,
	   "a leading zero parses to the same id");
	is_int(token_verify(key, v, P, L, A), 0,
	       "... but is not the token issued");

	/* Every character replaced by every other one. */
	n = strlen(t);
	bad = 0;
	for (i = 0; i < n; i++) {
		if (t[i] == '-')
			continue;
		for (k = 0; alnum[k]; k++) {
			if (alnum[k] == t[i])
				continue;
			memcpy(u, t, n + 1);
			u[i] = alnum[k];
			if (token_verify(key, u, P, L, A) != 0) {
				bad++;
				diag("%s verifies", u);
			}
		}
	}
	is_int(bad, 0, "no single-character change verifies");
	memcpy(u, t, n + 1);
	u[n - 1] = u[n - 1] == 'a' ? 'b' : 'a';
	is_int(token_verify(key, u, P, L, A), 0,
	       "last MAC character (padding bits) changed");

	/* Case: MTAs may fold local parts. */
	for (i = 0; i <= n; i++)
		u[i] = t[i] >= 'a' && t[i] <= 'z' ? t[i] - 'a' + 'A' : t[i];
	is_int(token_verify(key, u, P, L, A), 1, "upper-cased verifies (%s)",
	       u);
	ok(token_parse(u, &id, &e) == 0 && id == 4711 && e == 1793000000,
	   "upper-cased parses");
	for (i = 0; i <= n; i++)
		u[i] = i % 2 ? u[i] : t[i];
	is_int(token_verify(key, u, P, L, A), 1, "mixed case verifies");

	/* Every prefix, and extensions. */
	bad = 0;
	for (i = 0; i < n; i++) {
		memcpy(u, t, i);
		u[i] = '\0';
		if (token_verify(key, u, P, L, A) != 0 ||
		    token_parse(u, &id, &e) != -1) {
			bad++;
			diag("prefix '%s' accepted", u);
		}
	}
	is_int(bad, 0, "no prefix (0 .. n-1 characters) parses or verifies");
	{
		static const char *const tails[] = {"a", "-", " ", "\n",
		                                    "=", "@", "2", "-a"};

		bad = 0;
		for (i = 0; i < ARRAY_SIZE(tails); i++) {
			snprintf(v, sizeof(v), "%s%s", t, tails[i]);
			if (token_verify(key, v, P, L, A) != 0 ||
			    token_parse(v, &id, &e) != -1)
				bad++;
			snprintf(v, sizeof(v), "%s%s", tails[i], t);
			if (token_verify(key, v, P, L, A) != 0)
				bad++;
		}
		is_int(bad, 0, "extended at either end: refused");
	}

	/* Garbage. */
	{
		static const char *const junk[] = {
		    "",
		    "-",
		    "--",
		    "---",
		    "a",
		    "a-b",
		    "a-b-",
		    "-1-aaaaaaaaaaaa"
		    "aaaaaaaaa",
		    "1--aaaaaaaaaaaaaaaaaaaaa",
		    "1-1-aaaaaaaaaaaaaaaaaaaa",
		    "1-1-aaaaaaaaaaaaaaaaaaaaaa",
		    "1-1-88888888888888888888a",
		    "1-1-aaaaaaaaaaaaaaaaaaaa!",
		    "1-1-aaaaaaaaaaaaaaaaaaaa\xc3",
		    "1 -1-aaaaaaaaaaaaaaaaaaaaa",
		    "1-1-aaaaaaaaaa-aaaaaaaaaa",
		    "1-1-aaaaaaaaaaaaaaaaaaaaa-",
		    "+1-1-aaaaaaaaaaaaaaaaaaaaa",
		    "0_1-1-aaaaaaaaaaaaaaaaaaaaa",
		    "1-1-1-aaaaaaaaaaaaaaaaaaaaa",
		    /* 13 digits of id: beyond what a row id can be */
		    "1000000000000-1-aaaaaaaaaaaaaaaaaaaaa",
		    /* 12 digits, above INT64_MAX / 2 */
		    "zzzzzzzzzzzz-1-aaaaaaaaaaaaaaaaaaaaa",
		};

		bad = 0;
		for (i = 0; i < ARRAY_SIZE(junk); i++) {
			id = -7;
			if (token_parse(junk[i], &id, &e) != -1 ||
			    token_verify(key, junk[i], P, L, A) != 0) {
				bad++;
				diag("junk '%s' accepted", junk[i]);
			}
		}
		is_int(bad, 0,
		       "%zu garbage strings refused by parse and verify",
		       ARRAY_SIZE(junk));
		ok(token_parse("1-1-aaaaaaaaaaaaaaaaaaaaa", &id, &e) == 0 &&
		       id == 1 && e == 1,
		   "a well-shaped string parses (its MAC is another matter)");
		is_int(token_verify(key, "1-1-aaaaaaaaaaaaaaaaaaaaa", P, L, A),
		       0, "... and does not verify");
		is_int(token_parse(NULL, &id, &e), -1, "NULL does not parse");
		is_int(token_verify(key, NULL, P, L, A), 0,
		       "NULL does not verify");
	}

	/* Very long input: 10 KB, plain and starting with the token. */
	{
		size_t big = 10 * 1024;
		char *s = xmalloc(big + 1);

		memset(s, 'a', big);
		s[big] = '\0';
		is_int(token_parse(s, &id, &e), -1,
		       "10 KB of 'a' do not parse");
		is_int(token_verify(key, s, P, L, A), 0, "... nor verify");
		memcpy(s, t, n);
		is_int(token_parse(s, &id, &e), -1,
		       "the token followed by 10 KB does not parse");
		is_int(token_verify(key, s, P, L, A), 0, "... nor verify");
		memset(s, '1', big);
		s[10] = s[20] = '-';
		is_int(token_verify(key, s, P, L, A), 0,
		       "10 KB of digits and dashes do not verify");
		free(s);
	}
}

static void
test_keys_and_fields(const struct token_key *key)
{
	struct token_key other;
	char t[TOKEN_MAX + 1], u[TOKEN_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(other.k); i++)
		other.k[i] = key->k[i] ^ (unsigned char)(i == 7);
	token_make(key, "subscribe", "denmark", "a@example.org", 5, 100, t,
	           sizeof(t));
	token_make(&other, "subscribe", "denmark", "a@example.org", 5, 100, u,
	           sizeof(u));
	ok(strcmp(t, u) != 0, "a key one bit apart gives another MAC");
	is_int(token_verify(&other, t, "subscribe", "denmark", "a@example.org"),
	       0, "the other key refuses the token");
	is_int(token_verify(key, u, "subscribe", "denmark", "a@example.org"), 0,
	       "and the other way round");

	/* NUL-separated fields: moving a character across a boundary
	 * changes the MAC. */
	token_make(key, "ab", "c", "a@example.org", 5, 100, t, sizeof(t));
	token_make(key, "a", "bc", "a@example.org", 5, 100, u, sizeof(u));
	ok(strcmp(t, u) != 0, "(purpose, list) ('ab', 'c') != ('a', 'bc')");
	is_int(token_verify(key, t, "a", "bc", "a@example.org"), 0,
	       "... and does not verify for the other");
	token_make(key, "s", "denmark", "x@example.org", 5, 100, t, sizeof(t));
	token_make(key, "s", "denmarkx", "@example.org", 5, 100, u, sizeof(u));
	ok(strcmp(t, u) != 0, "(list, address) boundary");
	token_make(key, "s", "l", "a@example.org1", 2, 100, t, sizeof(t));
	token_make(key, "s", "l", "a@example.org", 12, 100, u, sizeof(u));
	ok(strcmp(strrchr(t, '-'), strrchr(u, '-')) != 0,
	   "(address, id) boundary: different MACs");
	token_make(key, "s", "l", "a@b", 11, 1, t, sizeof(t));
	token_make(key, "s", "l", "a@b", 1, 11, u, sizeof(u));
	ok(strcmp(strrchr(t, '-'), strrchr(u, '-')) != 0,
	   "(id, expiry) boundary: different MACs");
	token_make(key, "", "", "", 0, 0, t, sizeof(t));
	ok(shaped(t) && token_verify(key, t, "", "", "") == 1,
	   "empty fields work too");
}

int
main(void)
{
	struct token_key key;

	log_open("token_test", 1, L_ERROR);
	strlcpy_(dir, "token_test.XXXXXX", sizeof(dir));
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mlmd.db", dir);
	{
		/* Made (and migrated) first, so that the children race on
		 * the key alone. */
		struct db *db = db_open(path);

		if (!db) {
			printf("Bail out! db_open failed\n");
			return 1;
		}
		db_close(db);
	}
	test_key(&key);
	test_round_trip(&key);
	test_verify(&key);
	test_keys_and_fields(&key);
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
