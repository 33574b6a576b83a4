/*
 * db_post_test.c - the store's posting and delivery side (db_post.c):
 * membership facts, held posts (first decision wins, expiry), archive
 * rows and threading, the fan-out INSERT (members who take posts one by
 * one, umbrella lists, the cross-post check, VERP senders), the queue
 * walk, results (sent, deferred with backoff and lifetime, failed with a
 * bounces row), flush and retention.
 *
 * A database file in a mkdtemp() directory of the build dir, read back
 * with SQLite directly; db_set_now() gives a fixed clock.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "tap.h"
#include "util.h"

static char dir[64];
static char path[128];

static long
q_int(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long v = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
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

static char q_buf[512];

static const char *
q_str(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	q_buf[0] = '\0';
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return q_buf;
	}
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0))
			strlcpy_(q_buf, (const char *)sqlite3_column_text(st, 0),
			         sizeof(q_buf));
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return q_buf;
}

static int
q_exec(const char *sql)
{
	sqlite3 *h;
	int rc;

	if (sqlite3_open(path, &h) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	sqlite3_close(h);
	return rc;
}

static void
test_facts(struct db *db)
{
	const char *dk[] = {"denmark"};
	const char *all[] = {"all", "denmark", "sweden"};
	int mod = -1;

	db_member_add(db, "denmark", "alice@example.org", "", "", "test");
	db_member_add(db, "sweden", "bob@example.org", "", "", "test");
	is_int(db_member_any(db, dk, 1, "alice@example.org", &mod), 1,
	       "alice is a member of denmark");
	is_int(mod, 0, "not moderated");
	is_int(db_member_any(db, dk, 1, "bob@example.org", &mod), 0,
	       "bob is not a member of denmark");
	is_int(db_member_any(db, all, 3, "bob@example.org", &mod), 1,
	       "bob is a member of an included list");
	q_exec("UPDATE members SET moderated = 1 WHERE address = "
	       "'alice@example.org'");
	is_int(db_member_any(db, all, 3, "alice@example.org", &mod), 1,
	       "alice still a member");
	is_int(mod, 1, "alice's posts are moderated");
	is_int(db_member_any(db, all, 3, "nobody@example.org", &mod), 0,
	       "a stranger is no member");
	is_int(db_member_any(db, NULL, 0, "alice@example.org", &mod), 0,
	       "no lists: no member");
	is_int(db_accept_sender(db, "denmark", "eve@example.org"), 0,
	       "eve not accepted");
	q_exec("INSERT INTO accept_senders VALUES ('denmark', "
	       "'eve@example.org', 'test', 0)");
	is_int(db_accept_sender(db, "denmark", "eve@example.org"), 1,
	       "eve accepted on denmark");
	is_int(db_accept_sender(db, "sweden", "eve@example.org"), 0,
	       "... not on sweden");
	q_exec("UPDATE members SET moderated = 0");
}

static int
count_held(const struct held *h, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_held(struct db *db)
{
	struct held h, got;
	long long id = 0, id2 = 0;
	int n = 0;

	memset(&h, 0, sizeof(h));
	h.list = "denmark";
	h.spool_id = "1.2.3";
	h.message_id = "m1@example.org";
	h.sender = "eve@example.org";
	h.from_addr = "eve@example.org";
	h.subject = "Buy now";
	h.size = 1234;
	h.reason = "posts from non-members are reviewed";
	h.expires = 2000;
	ok(db_held_add(db, &h, &id) == 0 && id > 0, "held row added");
	h.spool_id = "1.2.4";
	h.expires = 9000;
	ok(db_held_add(db, &h, &id2) == 0 && id2 > id, "second held row");
	is_int(db_held_get(db, id, &got), 0, "held row read back");
	is_str(got.subject, "Buy now", "subject");
	is_str(got.state, "held", "state held");
	is_int(got.size, 1234, "size");
	held_clear(&got);
	is_int(db_held_get(db, 999, &got), 1, "no such held row");
	db_held_each(db, "denmark", 0, count_held, &n);
	is_int(n, 2, "two held on denmark");
	n = 0;
	db_held_each(db, "sweden", 0, count_held, &n);
	is_int(n, 0, "none on sweden");
	is_int(db_held_decide(db, id, "approved", "tester"), 0, "approved");
	is_int(db_held_decide(db, id, "rejected", "other"), 1,
	       "the first decision wins");
	db_held_get(db, id, &got);
	is_str(got.state, "approved", "still approved");
	is_str(got.decided_by, "tester", "decided by the first");
	held_clear(&got);
	n = 0;
	db_held_each(db, NULL, 0, count_held, &n);
	is_int(n, 1, "one left waiting");
	n = 0;
	db_held_each(db, NULL, 1, count_held, &n);
	is_int(n, 2, "two with --all");
	db_set_now(db, 5000);
	is_int(db_held_expire(db), 0, "nothing expires at 5000 (#2 until 9000)");
	db_set_now(db, 9000);
	is_int(db_held_expire(db), 1, "#2 expires at 9000");
	db_held_get(db, id2, &got);
	is_str(got.state, "expired", "state expired");
	held_clear(&got);
	db_set_now(db, 0);
}

static void
test_archive(struct db *db)
{
	struct archived a;
	long long r1 = 0, r2 = 0, r3 = 0, r4 = 0;

	memset(&a, 0, sizeof(a));
	a.list = "denmark";
	a.message_id = "root@example.org";
	a.path = "store/1";
	a.from_name = "Alice";
	a.from_addr = "alice@example.org";
	a.subject = "Root";
	a.date = 1793000000; /* 2026-10-26 */
	a.received = 1793000001;
	a.text = "the first words";
	is_int(db_message_add(db, &a, &r1), 0, "root archived");
	is_int(db_message_add(db, &a, &r2), 1, "the same again: was there");
	a.message_id = "reply@example.org";
	a.in_reply_to = "root@example.org";
	a.refs = "root@example.org";
	is_int(db_message_add(db, &a, &r2), 0, "reply archived");
	a.message_id = "deep@example.org";
	a.in_reply_to = "unknown@example.org";
	a.refs = "root@example.org unknown@example.org";
	is_int(db_message_add(db, &a, &r3), 0, "reply to an unknown parent");
	a.message_id = "other@example.org";
	a.in_reply_to = "";
	a.refs = "";
	a.list = "sweden";
	a.date = 0;
	is_int(db_message_add(db, &a, &r4), 0, "other thread, no date");
	{
		char sql[200];

		snprintf(sql, sizeof(sql),
		         "SELECT thread_id FROM messages WHERE id = %lld", r1);
		is_int(q_int(sql), r1, "the root is its own thread");
		snprintf(sql, sizeof(sql),
		         "SELECT thread_id FROM messages WHERE id = %lld", r2);
		is_int(q_int(sql), r1, "the reply joins the root's thread");
		snprintf(sql, sizeof(sql),
		         "SELECT thread_id FROM messages WHERE id = %lld", r3);
		is_int(q_int(sql), r1, "found through the references");
		snprintf(sql, sizeof(sql),
		         "SELECT thread_id FROM messages WHERE id = %lld", r4);
		is_int(q_int(sql), r4, "another list starts its own");
		snprintf(sql, sizeof(sql),
		         "SELECT month FROM messages WHERE id = %lld", r1);
		is_str(q_str(sql), "2026-10", "month from the date");
		snprintf(sql, sizeof(sql),
		         "SELECT date FROM messages WHERE id = %lld", r4);
		is_int(q_int(sql), 1793000001, "no date: received");
	}
	is_int(q_int("SELECT count(*) FROM messages_fts WHERE messages_fts "
	             "MATCH 'words'"),
	       4, "text indexed for search");
}

struct collect {
	long long ids[64];
	char senders[64][80];
	size_t n;
};

static int
collect_row(const struct out_row *r, void *arg)
{
	struct collect *c = arg;

	if (c->n < 64) {
		c->ids[c->n] = r->id;
		strlcpy_(c->senders[c->n], r->sender, sizeof(c->senders[0]));
		c->n++;
	}
	return 0;
}

static void
test_queue(struct db *db)
{
	const char *dk[] = {"denmark"};
	const char *all[] = {"all", "denmark", "sweden"};
	const char *se[] = {"sweden"};
	struct collect c;
	time_t t;

	db_member_add(db, "denmark", "carol@example.org", "", "", "test");
	db_member_add(db, "denmark", "dave@example.org", "", "", "test");
	db_member_add(db, "denmark", "erin@example.org", "", "", "test");
	db_member_add(db, "sweden", "carol@example.org", "", "", "test");
	q_exec("UPDATE members SET digest = 1 WHERE address = "
	       "'dave@example.org'");
	q_exec("UPDATE members SET nomail = 1 WHERE address = "
	       "'erin@example.org'");
	db_set_now(db, 10000);
	/* denmark: alice, carol (dave digest, erin nomail) */
	is_int(db_out_add_members(db, "denmark", dk, 1, "p1@x", "out/p1.dk",
	                          "denmark+bounce@l.org", NULL, NULL, 3600),
	       2, "post 1 to denmark: 2 copies (digest and nomail skipped)");
	is_int(db_out_add_members(db, "sweden", se, 1, "p1@x", "out/p1.se",
	                          "sweden+bounce@l.org", NULL, NULL, 3600),
	       1, "cross-posted to sweden: only bob (carol has it)");
	is_int(db_out_add_members(db, "all", all, 3, "p2@x", "out/p2.all",
	                          "all+bounce@l.org", "all+bounce-", "@l.org",
	                          3600),
	       3, "umbrella post: alice, bob, carol once each");
	is_str(q_str("SELECT sender FROM outbound WHERE path = 'out/p2.all' "
	             "AND recipient = 'bob@example.org'"),
	       "all+bounce-bob=example.org@l.org", "VERP sender");
	is_int(db_out_add_members(db, "all", all, 3, "p2@x", "out/p2.all",
	                          "all+bounce@l.org", NULL, NULL, 3600),
	       0, "the same post again: nothing new");
	is_int(db_out_add_members(db, "denmark", dk, 1, "", "out/p3.dk",
	                          "denmark+bounce@l.org", NULL, NULL, 3600),
	       2, "no Message-ID: no cross-post check");
	is_int(db_out_add(db, "denmark", "notice", "p1@x", "out/p1.dk.held",
	                  "", "eve@example.org", 3600),
	       0, "a notice queued");
	is_int(db_out_add(db, "denmark", "notice", "p1@x", "out/p1.dk.held",
	                  "", "eve@example.org", 3600),
	       1, "the same notice twice: once");
	is_int(db_out_count_since(db, "eve@example.org", "notice", 9000), 1,
	       "one notice to eve since 9000");
	is_int(db_out_count_since(db, "eve@example.org", "notice", 10001), 0,
	       "none since 10001");

	memset(&c, 0, sizeof(c));
	is_int(db_out_each(db, 0, 1, 100, collect_row, &c), 9,
	       "nine rows due");
	ok(c.n == 9 && c.ids[0] < c.ids[8], "in id order");
	memset(&c, 0, sizeof(c));
	db_out_each(db, 0, 1, 3, collect_row, &c);
	is_int(c.n, 3, "limit 3");
	{
		long long third = c.ids[2];

		memset(&c, 0, sizeof(c));
		db_out_each(db, third, 1, 100, collect_row, &c);
		is_int(c.n, 6, "after the third: six");
	}

	memset(&c, 0, sizeof(c));
	db_out_each(db, 0, 1, 100, collect_row, &c);
	is_int(db_out_sent(db, c.ids[0]), 0, "sent");
	is_int(db_out_defer(db, c.ids[1], "451", "try later", 10300, 1), 0,
	       "deferred");
	{
		struct out_failed f;

		is_int(db_out_fail(db, c.ids[2], "550", "5.1.1 no such user",
		                   &f),
		       0, "failed");
		ok(f.post && *f.recipient && *f.list,
		   "a failed post copy is reported for the bounce handling");
		is_int(db_out_fail(db, c.ids[8], "550", "no", &f), 0,
		       "a notice failed");
		ok(!f.post, "a failed notice is no bounce");
		is_int(q_int("SELECT count(*) FROM bounces"), 0,
		       "db_out_fail() itself records no bounce (bounce.c "
		       "scores it)");
	}
	memset(&c, 0, sizeof(c));
	is_int(db_out_each(db, 0, 1, 100, collect_row, &c), 5,
	       "five due now (one sent, one failed, one waiting, one failed)");
	memset(&c, 0, sizeof(c));
	is_int(db_out_each(db, 0, 0, 100, collect_row, &c), 6,
	       "six waiting in all");
	db_set_now(db, 10300);
	memset(&c, 0, sizeof(c));
	is_int(db_out_each(db, 0, 1, 100, collect_row, &c), 6,
	       "the deferred one is due at 10300");
	db_set_now(db, 14000);
	is_int(db_out_defer(db, c.ids[0], "451", "still", 99999, 0), 0,
	       "no answer: not counted");
	is_str(q_str("SELECT state FROM outbound WHERE last_error = 'still'"),
	       "deferred", "a relay outage does not end the lifetime");
	is_int(db_out_defer(db, c.ids[0], "451", "again", 20000, 1), 1,
	       "a counted deferral past the lifetime: failed");
	is_str(q_str("SELECT state FROM outbound WHERE last_error = 'again'"),
	       "failed", "state failed");
	ok(db_out_next_due(db, &t) == 1, "something waits");
	is_int(db_out_path_pending(db, "out/p1.dk"), 0,
	       "p1.dk: nothing waits");
	is_int(db_out_path_pending(db, "out/p2.all"), 1,
	       "p2.all: still needed");
	is_int(db_out_flush(db), 5, "flush: five made due");
	ok(db_out_next_due(db, &t) == 1 && t == 0, "due now");
	is_int(db_out_purge(db, 20000), 4,
	       "purge: the four final rows done before 20000");
	is_int(q_int("SELECT count(*) FROM outbound"), 5, "five rows left");
	memset(&c, 0, sizeof(c));
	db_out_each(db, 0, 0, 100, collect_row, &c);
	is_int(db_out_fail(db, c.ids[0], "554", "5.7.1 refused by policy",
	                   NULL),
	       0, "refused by policy");
	is_int(db_out_fail(db, c.ids[1], "450", "4.2.2 full", NULL), 0,
	       "a 4xx given to fail");
	db_set_now(db, 0);
}

int
main(void)
{
	struct db *db;

	log_open("db_post_test", 1, L_ERROR);
	strlcpy_(dir, "db_post_test.XXXXXX", sizeof(dir));
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
	test_facts(db);
	test_held(db);
	test_archive(db);
	test_queue(db);
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
