/* Tests for out_maildir.c: durable per-recipient maildir copies, the
 * Return-Path/Delivered-To lines, and addresses that must never become
 * paths. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "out_maildir.h"
#include "util.h"
#include "tap.h"

static const struct {
	const char *rcpt;
	int rc, permanent;
} addrs[] = {
	{"alice@example.org", 0, 0},
	{"bob+tag@example.net", 0, 0},
	{"../escape@example.org", -1, 1},
	{"a/b@example.org", -1, 1},
	{".hidden@example.org", -1, 1},
	{"noat", -1, 1},
	{"", -1, 1},
	{"sp ace@example.org", -1, 1},
	{"back\\slash@example.org", -1, 1},
};

/* The one file in DIR/new, read into b; the count of files returned. */
static int
read_new(const char *dir, struct buf *b)
{
	struct buf path = BUF_INIT;
	struct dirent *e;
	DIR *d;
	int n = 0;

	buf_printf(&path, "%s/new", dir);
	d = opendir(buf_str(&path));
	while (d && (e = readdir(d))) {
		struct buf f = BUF_INIT;
		if (e->d_name[0] == '.')
			continue;
		buf_printf(&f, "%s/%s", buf_str(&path), e->d_name);
		read_file(buf_str(&f), b);
		buf_free(&f);
		n++;
	}
	if (d)
		closedir(d);
	buf_free(&path);
	return n;
}

int
main(void)
{
	char root[] = "maildir.tmp.XXXXXX";
	const char *msg = "From: x@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
	struct buf err = BUF_INIT, got = BUF_INIT, dir = BUF_INIT;
	size_t i;
	int perm, rc;

	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		buf_reset(&err);
		perm = -1;
		rc = out_maildir_deliver(root, "denmark+bounce@lists.example.org",
					 addrs[i].rcpt, msg, strlen(msg), &perm,
					 &err);
		ok(rc == addrs[i].rc && perm == addrs[i].permanent,
		   "deliver to \"%s\": %d %s", addrs[i].rcpt, rc, buf_str(&err));
	}
	buf_printf(&dir, "%s/alice@example.org", root);
	is_int(read_new(buf_str(&dir), &got), 1, "one copy in alice's new/");
	is_str(buf_str(&got),
	       "Return-Path: <denmark+bounce@lists.example.org>\n"
	       "Delivered-To: alice@example.org\n"
	       "From: x@example.org\nSubject: hi\n\nbody\n",
	       "envelope lines on top, CRLF made LF");
	rc = out_maildir_deliver(root, "", "alice@example.org", msg,
				 strlen(msg), &perm, &err);
	is_int(read_new(buf_str(&dir), &got), 2, "a second copy, new name");
	ok(access("maildir.tmp.XXXXXX", F_OK) != 0 &&
	   access("escape@example.org", F_OK) != 0, "nothing escaped the root");
	{
		struct buf cmd = BUF_INIT;
		buf_printf(&cmd, "rm -rf '%s'", root);
		if (system(buf_str(&cmd)) != 0)
			diag("cannot remove %s", root);
		buf_free(&cmd);
	}
	buf_free(&err);
	buf_free(&got);
	buf_free(&dir);
	return done_testing();
}
