/*
 * spool_test.c - unit tests for spool/spool.c: the file format (a table of
 * whole and damaged files), write/commit/claim/keep/done on a real folder,
 * quarantine of damaged files, unique ids and start-up recovery of tmp/
 * and active/.  Works in a fresh folder under the build dir.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "spool.h"
#include "util.h"
#include "tap.h"

#define HDR                                                                    \
	"X-Mlmd-Spool: 1\nSender: <a@b.example>\n"                             \
	"Recipient: <l@lists.example>\nReceived: 10\n"

static const struct {
	const char *name;
	const char *file;
	int ok;           /* 0: whole, -1: damaged */
	const char *body; /* expected message if whole */
	size_t n_rcpts;
	const char *why; /* substring of the reason if damaged */
} parse_cases[] = {
    {"whole file", HDR "Size: 6\nVia: lmtp\n\nhello\nX-Mlmd-End\n", 0,
     "hello\n", 1, NULL},
    {"two recipients, null sender",
     "X-Mlmd-Spool: 1\nSender: <>\nRecipient: <x@l.example>\n"
     "Recipient: <y@l.example>\nSize: 2\n\nx\nX-Mlmd-End\n",
     0, "x\n", 2, NULL},
    {"unknown field skipped", HDR "Size: 2\nX-Later: 7\n\nx\nX-Mlmd-End\n", 0,
     "x\n", 1, NULL},
    {"body contains a fake end marker",
     HDR "Size: 14\n\nX-Mlmd-End\nx\n\nX-Mlmd-End\n", 0, "X-Mlmd-End\nx\n\n", 1,
     NULL},
    {"no end marker", HDR "Size: 6\n\nhello\n", -1, NULL, 0, "end marker"},
    {"truncated in the middle", HDR "Size: 60\n\nhello\nX-Mlmd-End\n", -1, NULL,
     0, "size"},
    {"size too small", HDR "Size: 2\n\nhello\nX-Mlmd-End\n", -1, NULL, 0,
     "size"},
    {"no magic", "Sender: <a@b>\n\nx\nX-Mlmd-End\n", -1, NULL, 0,
     "X-Mlmd-Spool"},
    {"empty file", "", -1, NULL, 0, "X-Mlmd-Spool"},
    {"no recipient",
     "X-Mlmd-Spool: 1\nSender: <a@b>\nSize: 2\n\nx\nX-Mlmd-End\n", -1, NULL, 0,
     "lacks"},
    {"no size", HDR "\nx\nX-Mlmd-End\n", -1, NULL, 0, "lacks"},
    {"envelope not terminated", HDR "Size: 2\n", -1, NULL, 0, "not terminated"},
    {"bad size", HDR "Size: 2x\n\nx\nX-Mlmd-End\n", -1, NULL, 0, "Size"},
    {"negative size", HDR "Size: -2\n\nx\nX-Mlmd-End\n", -1, NULL, 0, "Size"},
    {"recipient without brackets",
     "X-Mlmd-Spool: 1\nSender: <a@b>\nRecipient: l@x\nSize: 2\n\nx\n"
     "X-Mlmd-End\n",
     -1, NULL, 0, "Recipient"},
    {"empty recipient",
     "X-Mlmd-Spool: 1\nSender: <a@b>\nRecipient: <>\nSize: 2\n\nx\n"
     "X-Mlmd-End\n",
     -1, NULL, 0, "Recipient"},
    {"line without colon", HDR "Size 2\n\nx\nX-Mlmd-End\n", -1, NULL, 0,
     "malformed"},
};

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		struct spool_env env;
		struct buf why = BUF_INIT;
		size_t off = 0;
		const char *f = parse_cases[i].file;
		int r = spool_parse(f, strlen(f), &env, &off, &why);

		is_int(r, parse_cases[i].ok, "parse: %s", parse_cases[i].name);
		if (r == 0 && parse_cases[i].ok == 0) {
			ok(env.size == strlen(parse_cases[i].body) &&
			       memcmp(f + off, parse_cases[i].body, env.size) ==
			           0,
			   "parse: %s: body", parse_cases[i].name);
			is_int(env.n_rcpts, parse_cases[i].n_rcpts,
			       "parse: %s: recipients", parse_cases[i].name);
		} else if (r < 0 && parse_cases[i].why) {
			ok(strstr(buf_str(&why), parse_cases[i].why) != NULL,
			   "parse: %s: reason '%s'", parse_cases[i].name,
			   buf_str(&why));
		}
		spool_env_clear(&env);
		buf_free(&why);
	}
}

static int
count(struct spool *sp, const char *sub)
{
	char **ids;
	size_t n;

	if (spool_list(sp, sub, &ids, &n) < 0)
		return -1;
	spool_ids_free(ids, n);
	return (int)n;
}

static void
put_file(struct spool *sp, const char *sub, const char *id, const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", spool_dir(sp, sub), id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd >= 0) {
		write_all(fd, text, strlen(text));
		close(fd);
	}
}

static void
test_fs(const char *home)
{
	static const char *rcpts[] = {"denmark@lists.example",
	                              "denmark-request@lists.example"};
	struct spool_env env = {0}, got;
	struct spool_tmp t[3];
	struct buf file = BUF_INIT;
	struct spool *sp = spool_open(home);
	char **ids;
	size_t n, off, i;
	char ida[SPOOL_ID_MAX], idb[SPOOL_ID_MAX];
	struct stat st;
	char path[4096];

	ok(sp != NULL, "spool_open creates the folders");
	if (!sp)
		return;
	env.sender = "alice@example.org";
	env.rcpts = (char **)rcpts;
	env.n_rcpts = 2;
	env.received = 1234;
	strlcpy_(env.via, "lmtp", sizeof(env.via));

	/* Group commit of three files. */
	for (i = 0; i < 3; i++)
		ok(spool_write(sp, &env, "Subject: x\n\nbody", 16, &t[i]) == 0,
		   "write %zu", i);
	is_int(count(sp, "tmp"), 3, "three files in tmp/ before commit");
	is_int(count(sp, "incoming"), 0, "nothing in incoming/ before commit");
	ok(strcmp(t[0].id, t[1].id) != 0 && strcmp(t[1].id, t[2].id) != 0,
	   "ids differ");
	is_int(spool_commit(sp, t, 3), 0, "commit of a batch");
	is_int(count(sp, "tmp"), 0, "tmp/ empty after commit");
	is_int(count(sp, "incoming"), 3, "three files in incoming/");

	/* Claim, load, keep, done. */
	is_int(spool_claim(sp, t[0].id), 0, "claim");
	is_int(spool_claim(sp, t[0].id), 1, "second claim: gone");
	is_int(spool_load(sp, t[0].id, &file, &got, &off), 0, "load");
	is_str(got.sender, "alice@example.org", "loaded sender");
	is_int(got.n_rcpts, 2, "loaded recipients");
	is_str(got.n_rcpts > 1 ? got.rcpts[1] : NULL,
	       "denmark-request@lists.example", "second recipient");
	is_int(got.size, 17, "size counts the added final LF");
	ok(file.len > off + 17 &&
	       memcmp(file.s + off, "Subject: x\n\nbody\n", 17) == 0,
	   "message bytes");
	is_str(got.via, "lmtp", "via");
	is_int(got.received, 1234, "received");
	spool_env_clear(&got);
	is_int(spool_keep(sp, t[0].id), 0, "keep in store");
	is_int(spool_keep(sp, t[0].id), 0, "keep again is harmless");
	is_int(spool_sync_store(sp), 0, "sync store");
	is_int(spool_done(sp, t[0].id), 0, "done");
	snprintf(path, sizeof(path), "%s/%s", spool_dir(sp, "store"), t[0].id);
	ok(stat(path, &st) == 0 && st.st_nlink == 1,
	   "store copy survives done");
	is_int(count(sp, "active"), 0, "active/ empty after done");

	/* Damaged files are quarantined by load. */
	put_file(sp, "active", "1.1.1.1.trunc", HDR "Size: 6\n\nhel");
	is_int(spool_load(sp, "1.1.1.1.trunc", &file, &got, &off), 1,
	       "truncated file: damaged");
	put_file(sp, "active", "1.1.1.1.size",
	         HDR "Size: 9\n\nhello\nX-Mlmd-End\n");
	is_int(spool_load(sp, "1.1.1.1.size", &file, &got, &off), 1,
	       "wrong size: damaged");
	is_int(count(sp, "quarantine"), 2, "both in quarantine/");
	is_int(count(sp, "active"), 0, "not left in active/");
	is_int(spool_load(sp, "../x", &file, &got, &off), -1,
	       "a path is no id");

	/* Recovery: active/ goes back to incoming/, own stale tmp/ goes. */
	is_int(spool_claim(sp, t[1].id), 0, "claim another");
	ok(spool_write(sp, &env, "x\n", 2, &t[0]) == 0, "write, no commit");
	close(t[0].fd);
	put_file(sp, "tmp", "1.1.1.99999999.dead", "partial");
	put_file(sp, "tmp", "1.1.1.1.alive", "partial, pid 1 lives");
	is_int(spool_recover(sp), 1, "recover hands one file back");
	is_int(count(sp, "active"), 0, "active/ empty after recover");
	is_int(count(sp, "incoming"), 2, "incoming/ has both again");
	is_int(count(sp, "tmp"), 1, "tmp/ keeps only a live writer's file");

	/* Discard leaves nothing. */
	ok(spool_write(sp, &env, "x\n", 2, &t[0]) == 0, "write");
	spool_discard(sp, &t[0]);
	is_int(count(sp, "tmp"), 1, "discard removes the file");

	/* Bad envelopes are refused before anything is written. */
	env.sender = "a\nRecipient: <evil@x>";
	ok(spool_write(sp, &env, "x\n", 2, &t[0]) < 0,
	   "sender with a newline refused");
	env.sender = "";
	env.n_rcpts = 0;
	ok(spool_write(sp, &env, "x\n", 2, &t[0]) < 0, "no recipients refused");

	/* Unique ids, also in quick succession. */
	spool_new_id(sp, ida, sizeof(ida));
	spool_new_id(sp, idb, sizeof(idb));
	ok(strcmp(ida, idb) < 0, "ids are unique and increase: %s %s", ida,
	   idb);

	if (spool_list(sp, "incoming", &ids, &n) == 0)
		spool_ids_free(ids, n);
	buf_free(&file);
	spool_close(sp);
}

int
main(void)
{
	char home[4096];
	const char *b = getenv("top_builddir");

	log_open("spool_test", 1, L_ERROR);
	test_parse();
	snprintf(home, sizeof(home), "%s/t/spool_test.tmp.%ld", b ? b : ".",
	         (long)getpid());
	test_fs(home);
	{
		/* Remove the test folder. */
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
		if (system(cmd) != 0)
			diag("could not remove %s", home);
	}
	return done_testing();
}
