/*
 * db_test.c - the store (db.h): migrations from an empty file, reopening,
 * refusing a newer schema, the member API (table driven), case-insensitive
 * addresses, consent and event-log rows, inbound bookkeeping, rollback,
 * a second connection waiting on the busy timeout, and the archive search
 * triggers of the schema.
 *
 * Databases live in a mkdtemp() directory under the current (build)
 * directory and are removed at the end.  The test reads the file with
 * SQLite directly to check what db.c wrote.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "tap.h"
#include "util.h"

static char dir[64];

static void
path_of(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", dir, name);
}

static void
remove_db(const char *name)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sfx); i++) {
		snprintf(p, sizeof(p), "%s/%s%s", dir, name, sfx[i]);
		unlink(p);
	}
}

/* One integer from a query on the file at path (-1 on error). */
static long
q_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long v = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else {
		diag("%s: %s", sql, sqlite3_errmsg(h));
	}
	sqlite3_close(h);
	return v;
}

static int
q_exec(const char *path, const char *sql)
{
	sqlite3 *h;
	char *msg = NULL;
	int rc;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		diag("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
test_migrations(void)
{
	static const char *const tables[] = {
	    "persons",  "members",      "consents",     "event_log",
	    "secrets",  "tokens",       "held",         "accept_senders",
	    "messages", "message_text", "messages_fts", "inbound",
	    "outbound", "bounces",      "events",       "event_occurrences",
	    "rsvps",    "digests",      "digest_items",
	};
	char path[256], sql[256];
	struct db *db;
	long objects;
	size_t i;

	path_of(path, sizeof(path), "m.db");
	ok(db_schema_version() >= 1, "schema version %d", db_schema_version());
	db = db_open(path);
	ok(db != NULL, "open creates and migrates an empty database");
	if (!db)
		return;
	db_close(db);
	is_int(q_int(path, "PRAGMA user_version"), db_schema_version(),
	       "user_version is the build's schema version");
	is_int(q_int(path, "SELECT count(*) FROM pragma_journal_mode "
	                   "WHERE journal_mode = 'wal'"),
	       1, "journal_mode is WAL");
	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
		         tables[i]);
		is_int(q_int(path, sql), 1, "table %s exists", tables[i]);
	}
	is_int(q_int(path, "SELECT count(*) FROM pragma_index_list('members')"
	                   " WHERE \"unique\" = 1"),
	       1, "members has a unique (list, address) key");

	objects = q_int(path, "SELECT count(*) FROM sqlite_master");
	db = db_open(path);
	ok(db != NULL, "reopening works");
	db_close(db);
	is_int(q_int(path, "SELECT count(*) FROM sqlite_master"), objects,
	       "reopening creates nothing");
	is_int(q_int(path, "PRAGMA user_version"), db_schema_version(),
	       "reopening leaves user_version");

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	         db_schema_version() + 1);
	ok(q_exec(path, sql) == 0, "user_version set to a newer one");
	diag("an error about a newer schema is expected next:");
	db = db_open(path);
	ok(db == NULL, "a database newer than this build is refused");
	db_close(db);
	is_int(q_int(path, "PRAGMA user_version"), db_schema_version() + 1,
	       "the refused database is left alone");
	remove_db("m.db");

	/* a half-migrated file never exists, but a garbage file must fail
	 * cleanly rather than be "migrated" */
	path_of(path, sizeof(path), "garbage.db");
	{
		FILE *f = fopen(path, "w");

		if (f) {
			fputs("this is not an SQLite database, but it is long "
			      "enough to have a header of one................"
			      "..............................................",
			      f);
			fclose(f);
		}
	}
	diag("an error about a non-database file is expected next:");
	db = db_open(path);
	ok(db == NULL, "a file that is no database is refused");
	db_close(db);
	remove_db("garbage.db");
}

/* The member API, one step per row, on one database in order. */
enum op { ADD, REMOVE, GET, COUNT };
static const struct step {
	enum op op;
	const char *list, *addr, *name, *lang;
	int want;              /* return value (count for COUNT) */
	const char *want_addr; /* GET: the stored address */
	const char *desc;
} steps[] = {
    {COUNT, "denmark", NULL, NULL, NULL, 0, NULL, "empty list"},
    {ADD, "denmark", "alice@example.org", "Alice", "da", 0, NULL, "add"},
    {ADD, "denmark", "alice@example.org", "Other", "", 1, NULL,
     "add again: already a member"},
    {ADD, "denmark", "Alice@EXAMPLE.org", "", "", 1, NULL,
     "add in other case: already a member"},
    {GET, "denmark", "ALICE@example.ORG", NULL, NULL, 0, "alice@example.org",
     "get in other case"},
    {ADD, "denmark", "Bob@Example.COM", "", "", 0, NULL,
     "add mixed case (stored lower)"},
    {GET, "denmark", "bob@example.com", NULL, NULL, 0, "bob@example.com",
     "stored lower case"},
    {ADD, "sweden", "alice@example.org", "", "sv", 0, NULL,
     "same address on another list"},
    {ADD, "denmark", "carol@example.net", "Carol \"C\" O'Neil, Jr.", "ar", 0,
     NULL, "name with quotes and comma"},
    {COUNT, "denmark", NULL, NULL, NULL, 3, NULL, "three on denmark"},
    {COUNT, "sweden", NULL, NULL, NULL, 1, NULL, "one on sweden"},
    {REMOVE, "denmark", "BOB@example.com", NULL, NULL, 0, NULL,
     "remove in other case"},
    {REMOVE, "denmark", "bob@example.com", NULL, NULL, 1, NULL,
     "remove again: not a member"},
    {REMOVE, "norway", "alice@example.org", NULL, NULL, 1, NULL,
     "remove from a list never joined"},
    {GET, "denmark", "bob@example.com", NULL, NULL, 1, NULL,
     "removed: not found"},
    {COUNT, "denmark", NULL, NULL, NULL, 2, NULL, "two on denmark"},
    {ADD, "denmark", "no-at-sign", "", "", -1, NULL, "no @: refused"},
    {ADD, "denmark", "", "", "", -1, NULL, "empty address refused"},
    {ADD, "denmark", "a b@example.org", "", "", -1, NULL,
     "space in address refused"},
    {ADD, "denmark", "dave@example.org", "Dave\nBcc: x@y", "", -1, NULL,
     "newline in name refused"},
    {ADD, "denmark", "dave@example.org", "", "da\r", -1, NULL,
     "control character in language refused"},
    {COUNT, "denmark", NULL, NULL, NULL, 2, NULL, "refused adds left nothing"},
};

struct walk {
	struct buf out;
	int stop_after;
	int seen;
};

static int
walk_fn(const struct member *m, void *arg)
{
	struct walk *w = arg;

	buf_printf(&w->out, "%s|%s|%s|%s;", m->address, m->name, m->language,
	           db_delivery_name(m->delivery));
	if (++w->seen == w->stop_after)
		return 42;
	return 0;
}

static void
test_members(void)
{
	char path[256];
	struct db *db;
	struct member m;
	struct walk w;
	size_t i;
	int rc;

	path_of(path, sizeof(path), "members.db");
	if (!(db = db_open(path))) {
		ok(0, "open members.db");
		return;
	}
	db_set_now(db, 1764400000);
	diag("errors about refused addresses and names are expected:");
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *s = &steps[i];

		switch (s->op) {
		case ADD:
			rc = db_member_add(db, s->list, s->addr, s->name,
			                   s->lang, "test add");
			is_int(rc, s->want, "%s (%s)", s->desc, s->addr);
			break;
		case REMOVE:
			rc = db_member_remove(db, s->list, s->addr,
			                      "test remove");
			is_int(rc, s->want, "%s (%s)", s->desc, s->addr);
			break;
		case GET:
			rc = db_member_get(db, s->list, s->addr, &m);
			is_int(rc, s->want, "%s (%s)", s->desc, s->addr);
			if (s->want_addr)
				is_str(rc == 0 ? m.address : NULL, s->want_addr,
				       "%s: address", s->desc);
			member_clear(&m);
			break;
		case COUNT:
			is_int(db_member_count(db, s->list), s->want, "%s",
			       s->desc);
			break;
		}
	}

	rc = db_member_get(db, "denmark", "alice@example.org", &m);
	is_int(rc, 0, "get alice");
	if (rc == 0) {
		is_str(m.list, "denmark", "get: list");
		is_str(m.name, "Alice", "get: the first add's name is kept");
		is_str(m.language, "da", "get: language");
		is_int(m.delivery, DELIVER_EACH, "get: delivery each");
		is_int(m.since, 1764400000, "get: since from the clock");
	}
	member_clear(&m);

	memset(&w, 0, sizeof(w));
	rc = db_member_each(db, "denmark", walk_fn, &w);
	is_int(rc, 0, "each: walks to the end");
	is_str(buf_str(&w.out),
	       "alice@example.org|Alice|da|each;"
	       "carol@example.net|Carol \"C\" O'Neil, Jr.|ar|each;",
	       "each: ordered by address, all fields");
	buf_free(&w.out);
	memset(&w, 0, sizeof(w));
	w.stop_after = 1;
	is_int(db_member_each(db, "denmark", walk_fn, &w), 42,
	       "each: fn's non-zero stops and is returned");
	is_int(w.seen, 1, "each: stopped after one");
	buf_free(&w.out);
	memset(&w, 0, sizeof(w));
	is_int(db_member_each(db, "iceland", walk_fn, &w), 0,
	       "each: empty list");
	is_int(w.seen, 0, "each: no calls for an empty list");
	buf_free(&w.out);
	db_close(db);

	/* what landed beside the members */
	is_int(q_int(path, "SELECT count(*) FROM consents WHERE "
	                   "action = 'subscribe' AND how = 'test add'"),
	       4, "a consent row per subscription");
	is_int(q_int(path, "SELECT count(*) FROM consents WHERE "
	                   "action = 'unsubscribe' AND how = 'test remove'"),
	       1, "a consent row per unsubscription");
	is_int(q_int(path, "SELECT count(*) FROM consents WHERE address = "
	                   "'bob@example.com' AND at = 1764400000"),
	       2, "consent rows carry the lower-case address and the time");
	is_int(q_int(path, "SELECT count(*) FROM event_log WHERE "
	                   "kind = 'subscribe' AND list = 'denmark'"),
	       3, "event log: three subscriptions to denmark");
	is_int(q_int(path, "SELECT count(*) FROM event_log WHERE "
	                   "kind = 'unsubscribe'"),
	       1, "event log: one unsubscription (none for non-members)");
	is_int(q_int(path, "SELECT count(*) FROM persons"), 3,
	       "one person per distinct address");
	ok(q_exec(path, "UPDATE event_log SET n = 2") < 0,
	   "the event log refuses updates");
	remove_db("members.db");
}

static void
test_transactions(void)
{
	char path[256], path2[256];
	struct db *db;
	struct inbound in;
	int p[2];
	pid_t pid;

	path_of(path, sizeof(path), "tx.db");
	if (!(db = db_open(path))) {
		ok(0, "open tx.db");
		return;
	}
	/* rollback leaves nothing */
	is_int(db_in_transaction(db), 0, "no transaction open");
	is_int(db_begin(db), 0, "begin");
	is_int(db_in_transaction(db), 1, "a transaction is open");
	diag("an error about a nested transaction is expected:");
	is_int(db_begin(db), -1, "nested begin is an error");
	is_int(db_member_add(db, "denmark", "erin@example.org", "", "", "t"), 0,
	       "add inside the transaction");
	is_int(db_member_count(db, "denmark"), 1, "visible inside it");
	is_int(db_rollback(db), 0, "rollback");
	is_int(db_member_count(db, "denmark"), 0, "rolled back: no member");
	is_int(q_int(path, "SELECT count(*) FROM consents"), 0,
	       "rolled back: no consent row");
	is_int(q_int(path, "SELECT count(*) FROM event_log"), 0,
	       "rolled back: no event log row");

	/* inbound */
	memset(&in, 0, sizeof(in));
	in.spool_id = "1764400000.123.abc";
	in.sender = "amira@example.net";
	in.recipient = "denmark@lists.example.org";
	in.list = "denmark";
	in.role = "post";
	in.message_id = "x@example.net";
	in.received = 1764400000;
	in.size = 1234;
	is_int(db_inbound_done(db, in.spool_id), 0, "inbound: not done yet");
	diag("an error about a missing transaction is expected:");
	is_int(db_inbound_add(db, &in), -1, "inbound_add outside db_begin");
	is_int(db_begin(db), 0, "begin");
	is_int(db_inbound_add(db, &in), 0, "inbound_add");
	in.recipient = "denmark-request@lists.example.org";
	in.role = "request";
	is_int(db_inbound_add(db, &in), 0, "inbound_add, second recipient");
	is_int(db_rollback(db), 0, "rollback");
	is_int(db_inbound_done(db, in.spool_id), 0,
	       "inbound: rolled back, not done");
	is_int(db_begin(db), 0, "begin");
	is_int(db_inbound_add(db, &in), 0, "inbound_add");
	is_int(db_commit(db), 0, "commit");
	is_int(db_inbound_done(db, in.spool_id), 1, "inbound: done");
	is_int(db_inbound_done(db, "1764400000.999.zzz"), 0,
	       "inbound: another id is not");
	is_int(db_begin(db), 0, "begin");
	diag("an error about a duplicate inbound row is expected:");
	is_int(db_inbound_add(db, &in), -1,
	       "the same (spool id, recipient) twice is refused");
	db_rollback(db);
	is_int(db_log_event(db, "denmark", "post", "42", 1), 0,
	       "db_log_event in its own transaction");

	/* A second connection (another process, as mlmctl beside mlmd):
	 * the child holds the write lock for 300 ms; our write waits on
	 * the busy timeout and then succeeds, and reads never wait. */
	path_of(path2, sizeof(path2), "tx.db");
	if (pipe(p) < 0) {
		ok(0, "pipe");
		db_close(db);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct db *c = db_open(path2);
		char ch = c ? 'b' : 'x';

		close(p[0]);
		if (c && db_begin(c) == 0 &&
		    db_member_add(c, "denmark", "child@example.org", "", "",
		                  "child") == 0)
			ch = 'l';
		if (write(p[1], &ch, 1) != 1)
			_exit(2);
		usleep(300 * 1000);
		if (c && db_commit(c) < 0)
			_exit(3);
		db_close(c);
		_exit(ch == 'l' ? 0 : 1);
	} else if (pid > 0) {
		struct timeval t0, t1;
		char ch = 0;
		long ms;
		int status = 0;

		close(p[1]);
		if (read(p[0], &ch, 1) != 1)
			ch = 0;
		close(p[0]);
		is_int(ch, 'l', "second connection holds the write lock");
		is_int(db_member_count(db, "denmark"), 0,
		       "a read is not blocked by the writer (WAL), and does "
		       "not see its rows");
		gettimeofday(&t0, NULL);
		is_int(db_member_add(db, "denmark", "parent@example.org", "",
		                     "", "parent"),
		       0, "our write waits on the busy timeout, then works");
		gettimeofday(&t1, NULL);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_usec - t0.tv_usec) / 1000;
		ok(ms >= 150, "it waited for the other writer (%ld ms)", ms);
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "the second connection committed");
		is_int(db_member_count(db, "denmark"), 2,
		       "both writes are there");
	} else {
		ok(0, "fork");
	}
	db_close(db);
	remove_db("tx.db");
}

/* The archive search index follows messages and message_text. */
static void
test_fts(void)
{
	char path[256];
	struct db *db;

	path_of(path, sizeof(path), "fts.db");
	if (!(db = db_open(path))) {
		ok(0, "open fts.db");
		return;
	}
	db_close(db);
	ok(q_exec(path,
	          "INSERT INTO messages (id, list, message_id, path, "
	          "from_name, from_addr, subject, date, received, month) "
	          "VALUES (7, 'denmark', 'a@x', 'p', 'Amira Haddad', "
	          "'amira@example.net', 'Middag i Köln', 1, 1, '2026-11');"
	          "INSERT INTO message_text VALUES (7, 'Vi ses på "
	          "fredag ved havnen');") == 0,
	   "archive a message");
	is_int(q_int(path, "SELECT rowid FROM messages_fts WHERE "
	                   "messages_fts MATCH 'koln'"),
	       7, "search: 'koln' finds 'Köln' (diacritics removed)");
	is_int(q_int(path, "SELECT rowid FROM messages_fts WHERE "
	                   "messages_fts MATCH 'havnen'"),
	       7, "search: body text");
	is_int(q_int(path, "SELECT count(*) FROM messages_fts WHERE "
	                   "messages_fts MATCH 'author:haddad'"),
	       1, "search: author column");
	ok(q_exec(path, "UPDATE messages SET from_name = 'Erased', "
	                "from_addr = '' WHERE id = 7") == 0,
	   "pseudonymise the sender");
	is_int(q_int(path, "SELECT count(*) FROM messages_fts WHERE "
	                   "messages_fts MATCH 'haddad'"),
	       0, "search: the old name is gone from the index");
	is_int(q_int(path, "SELECT count(*) FROM messages_fts WHERE "
	                   "messages_fts MATCH 'erased'"),
	       1, "search: the new name is indexed");
	ok(q_exec(path, "DELETE FROM messages WHERE id = 7") == 0,
	   "delete the message");
	is_int(q_int(path, "SELECT count(*) FROM message_text"), 0,
	       "its text went with it");
	is_int(q_int(path, "SELECT count(*) FROM messages_fts WHERE "
	                   "messages_fts MATCH 'havnen'"),
	       0, "search: deleted message not found");
	ok(q_exec(path, "INSERT INTO messages_fts(messages_fts) "
	                "VALUES ('integrity-check')") == 0,
	   "the index is consistent with its content");
	remove_db("fts.db");
}

int
main(void)
{
	log_open("db_test", 1, L_ERROR);
	strlcpy_(dir, "db_test.XXXXXX", sizeof(dir));
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp in the build dir failed\n");
		return 1;
	}
	test_migrations();
	test_members();
	test_transactions();
	test_fts();
	if (rmdir(dir) < 0)
		diag("%s left behind", dir);
	return done_testing();
}
