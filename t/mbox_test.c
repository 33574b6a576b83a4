/*
 * Unit tests for mbox.c: splitting mboxo, mboxrd, pipermail and CRLF
 * files (table of inputs and the messages expected), the From_ line
 * parser, the writer and the round trip writer -> reader, huge lines, a
 * missing final newline, empty files and files that are not mboxes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mbox.h"
#include "util.h"
#include "tap.h"

/* Read every message of in; join them as "[msg1][msg2]..." and the
 * senders as "s1,s2"; the last return of mbox_next(). */
static int
split(const char *in, size_t len, struct buf *msgs, struct buf *senders)
{
	struct mbox_reader *r = mbox_open_mem(in, len);
	struct buf m = BUF_INIT;
	struct mbox_info info;
	int rc, n = 0;

	buf_reset(msgs);
	buf_reset(senders);
	while ((rc = mbox_next(r, &m, &info)) == 1) {
		buf_printf(msgs, "[%s]", buf_str(&m));
		buf_printf(senders, "%s%s", n++ ? "," : "", info.sender);
	}
	buf_free(&m);
	mbox_close(r);
	return rc;
}

static const struct {
	const char *name, *in, *want, *senders;
	int rc;
} cases[] = {
    {"empty file", "", "", "", 0},
    {"only blank lines", "\n\r\n\n", "", "", 0},
    {"one message", "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\nbody\n",
     "[S: 1\n\nbody\n]", "a@x", 0},
    {"two, blank line between",
     "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\nb1\n\n"
     "From b@y Wed Jan  3 10:00:01 2024\nS: 2\n\nb2\n\n",
     "[S: 1\n\nb1\n][S: 2\n\nb2\n]", "a@x,b@y", 0},
    {"mboxrd unquoting",
     "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\n>From here\n>>From x\n"
     ">not From\n> From sp\n",
     "[S: 1\n\nFrom here\n>From x\n>not From\n> From sp\n]", "a@x", 0},
    {"body From after blank line splits (mboxo as written)",
     "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\nFrom me\n", "[S: 1\n][]",
     "a@x,me", 0},
    {"body From after text stays",
     "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\ntext\nFrom here on\n",
     "[S: 1\n\ntext\nFrom here on\n]", "a@x", 0},
    {"no blank line, but a real From_ line",
     "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\nb1\n"
     "From b@y Thu Jan  4 10:00:00 2024\nS: 2\n",
     "[S: 1\n\nb1\n][S: 2\n]", "a@x,b@y", 0},
    {"CRLF",
     "From a@x Wed Jan  3 10:00:00 2024\r\nS: 1\r\n\r\nb\r\n\r\n"
     "From b@y Wed Jan  3 10:00:00 2024\r\nS: 2\r\n\r\nc\r\n",
     "[S: 1\n\nb\n][S: 2\n\nc\n]", "a@x,b@y", 0},
    {"no final newline", "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\nend",
     "[S: 1\n\nend]", "a@x", 0},
    {"pipermail sender and From: header left alone",
     "From alice at example.com  Wed Jan  3 10:00:00 2024\n"
     "From: alice at example.com (Alice)\n\nhi\n",
     "[From: alice at example.com (Alice)\n\nhi\n]", "alice@example.com", 0},
    {"From_ line without a date", "From someone\nS: 1\n", "[S: 1\n]", "someone",
     0},
    {"no From_ line, a header block", "Subject: x\nFrom: a@x\n\nbody\n",
     "[Subject: x\nFrom: a@x\n\nbody\n]", "", 0},
    {"no From_ line, not a header", "hello world\n", "", "", -1},
    {"leading blank lines", "\n\nFrom a@x Wed Jan  3 10:00:00 2024\nS: 1\n",
     "[S: 1\n]", "a@x", 0},
    {"CR alone is kept", "From a@x Wed Jan  3 10:00:00 2024\nS: a\rb\n",
     "[S: a\rb\n]", "a@x", 0},
};

static const struct {
	const char *line;
	int rc;
	const char *addr;
	long long date;
} from_lines[] = {
    {"a@x Wed Jan  3 10:00:00 2024", 0, "a@x", 1704276000},
    {"a@x  Wed Jan 3 10:00:00 2024", 0, "a@x", 1704276000},
    {"a@x Wed Jan 3 10:00 2024", 0, "a@x", 1704276000},
    {"a@x Wed Jan  3 10:00:00 +0100 2024", 0, "a@x", 1704272400},
    {"a@x Wed Jan  3 10:00:00 UTC 2024", 0, "a@x", 1704276000},
    {"a@x Wed, 03 Jan 2024 10:00:00 -0030", 0, "a@x", 1704277800},
    {"bob Wed Jan  3 10:00:00 2024", 0, "bob", 1704276000},
    {"MAILER-DAEMON Thu Jan  1 00:00:00 1970", 0, "MAILER-DAEMON", 0},
    {"alice at example.com  Wed Jan  3 10:00:00 2024", 0, "alice@example.com",
     1704276000},
    {"Wed Jan  3 10:00:00 2024", 0, "", 1704276000},
    {"a@x Wednesday January 3 10:00:00 2024", 0, "a@x", 1704276000},
    {"a@x Wed Jan  3 10:00:00 24", -1, "", 0},
    {"a@x Wed Jan  3 2024", -1, "", 0},
    {"here on, we talk 2024", -1, "", 0},
    {"a@x Wed Foo  3 10:00:00 2024", -1, "", 0},
    {"a@x Wed Jan 32 10:00:00 2024", -1, "", 0},
    {"a@x Wed Jan  3 25:00:00 2024", -1, "", 0},
    {"a@x Wed Jan  3 !:00:00 2024", -1, "", 0},
    {"", -1, "", 0},
};

static void
round_trip(const char *name, const char *m, const char *want, const char *from,
           time_t date)
{
	struct buf file = BUF_INIT, back = BUF_INIT;
	struct mbox_reader *r;
	struct mbox_info info;
	int rc;

	ok(mbox_append(&file, m, strlen(m), from, date) == 0, "%s: written",
	   name);
	r = mbox_open_mem(file.s, file.len);
	rc = mbox_next(r, &back, &info);
	ok(rc == 1 && strcmp(buf_str(&back), want) == 0 && info.date == date &&
	       mbox_next(r, &back, NULL) == 0,
	   "%s: read back the same", name);
	mbox_close(r);
	buf_free(&file);
	buf_free(&back);
}

static void
data_file(const char *name, int want_n, const char *want_sub)
{
	const char *top = getenv("top_srcdir");
	struct buf path = BUF_INIT, m = BUF_INIT, err = BUF_INIT;
	struct mbox_reader *r;
	struct mbox_info info;
	int n = 0, found = 0;
	off_t done, total;

	buf_printf(&path, "%s/t/data/mbox/%s", top ? top : ".", name);
	r = mbox_open(buf_str(&path), &err);
	if (!ok(r != NULL, "%s: opened", name)) {
		diag("%s", buf_str(&err));
		return;
	}
	while (mbox_next(r, &m, &info) == 1) {
		n++;
		if (strstr(buf_str(&m), want_sub))
			found++;
		ok(strstr(buf_str(&m), "\r\n") == NULL &&
		       strncmp(buf_str(&m), "From ", 5) != 0,
		   "%s: message %d has LF line ends, no From_ line", name, n);
	}
	is_int(n, want_n, "%s: %d messages", name, want_n);
	ok(found == 1, "%s: the expected text in exactly one message", name);
	mbox_progress(r, &done, &total);
	ok(done == total && total > 0, "%s: progress reaches the end", name);
	mbox_close(r);
	buf_free(&path);
	buf_free(&m);
	buf_free(&err);
}

int
main(void)
{
	struct buf msgs = BUF_INIT, senders = BUF_INIT, b = BUF_INIT;
	struct buf err = BUF_INIT;
	struct mbox_reader *r;
	struct mbox_info info;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		rc = split(cases[i].in, strlen(cases[i].in), &msgs, &senders);
		ok(rc == cases[i].rc &&
		       strcmp(buf_str(&msgs), cases[i].want) == 0 &&
		       strcmp(buf_str(&senders), cases[i].senders) == 0,
		   "split: %s", cases[i].name);
		if (rc != cases[i].rc || strcmp(buf_str(&msgs), cases[i].want))
			diag("rc %d, got '%s' from '%s'", rc, buf_str(&msgs),
			     buf_str(&senders));
	}

	for (i = 0; i < ARRAY_SIZE(from_lines); i++) {
		char addr[MBOX_ADDR_MAX + 1] = "";
		time_t t = 0;

		rc = mbox_from_line(from_lines[i].line,
		                    strlen(from_lines[i].line), addr,
		                    sizeof(addr), &t);
		ok(rc == from_lines[i].rc &&
		       (rc < 0 || (strcmp(addr, from_lines[i].addr) == 0 &&
		                   (long long)t == from_lines[i].date)),
		   "From_ line '%s'", from_lines[i].line);
		if (rc == 0 && (long long)t != from_lines[i].date)
			diag("date %lld, addr '%s'", (long long)t, addr);
	}

	/* the writer */
	mbox_append(&b, "S: 1\n\nFrom x\n>From y\nFrom\n", 26, "a@x",
	            1704276000);
	is_str(buf_str(&b),
	       "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\n>From x\n"
	       ">>From y\nFrom\n\n",
	       "mbox_append writes mboxrd");
	buf_reset(&b);
	mbox_append(&b, "S: 1", 4, "bad addr\n", -5);
	is_str(buf_str(&b), "From bad_addr_ Thu Jan  1 00:00:00 1970\nS: 1\n\n",
	       "a final LF, blanks in the sender, a date before 1970");
	buf_reset(&b);
	mbox_append(&b, "", 0, NULL, 0);
	is_str(buf_str(&b), "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n\n\n",
	       "an empty message, no sender");
	buf_free(&b);
	buf_init(&b, 30);
	ok(mbox_append(&b, "S: 1\n", 5, "a@x", 0) == -1 && b.len == 0,
	   "past the cap: -1 and nothing written");
	buf_free(&b);
	buf_init(&b, 0);

	round_trip("plain", "S: 1\n\nbody\n", "S: 1\n\nbody\n", "a@x",
	           1704276000);
	round_trip("From_ lines in the body",
	           "S: 1\n\nFrom x Wed Jan  3 10:00:00 2024\n\n"
	           "From y\n>From z\n>>From w\n",
	           "S: 1\n\nFrom x Wed Jan  3 10:00:00 2024\n\n"
	           "From y\n>From z\n>>From w\n",
	           "a@x", 1);
	round_trip("trailing blank lines kept", "S: 1\n\nb\n\n\n",
	           "S: 1\n\nb\n\n\n", "a@x", 2);
	round_trip("no final LF", "S: 1\n\nb", "S: 1\n\nb\n", "", 3);
	round_trip("CRLF in, LF out", "S: 1\r\n\r\nb\r\n", "S: 1\n\nb\n", "a",
	           4);
	round_trip("empty", "", "\n", "a@x", 5);

	/* two written entries read back as two */
	mbox_append(&b, "S: 1\n", 5, "a@x", 10);
	mbox_append(&b, "S: 2\n\nFrom me\n", 14, "b@y", 20);
	rc = split(b.s, b.len, &msgs, &senders);
	is_str(buf_str(&msgs), "[S: 1\n][S: 2\n\nFrom me\n]",
	       "two entries read back as two");
	buf_reset(&b);

	/* a huge line, and a message past the caller's cap */
	buf_adds(&b, "From a@x Wed Jan  3 10:00:00 2024\nS: 1\n\n");
	for (i = 0; i < 3 << 20; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\n\nFrom b@y Wed Jan  3 10:00:00 2024\nS: 2\n\nok\n");
	r = mbox_open_mem(b.s, b.len);
	rc = mbox_next(r, &msgs, &info);
	ok(rc == 1 && msgs.len == 7 + (3 << 20) && !info.too_big,
	   "a 3 MiB line");
	mbox_close(r);
	buf_free(&msgs);
	buf_init(&msgs, 1 << 20);
	r = mbox_open_mem(b.s, b.len);
	rc = mbox_next(r, &msgs, &info);
	ok(rc == 1 && msgs.len == 0 && info.too_big,
	   "past the cap: too_big, empty");
	rc = mbox_next(r, &msgs, &info);
	ok(rc == 1 && strcmp(buf_str(&msgs), "S: 2\n\nok\n") == 0 &&
	       info.offset > (3 << 20) && strcmp(info.sender, "b@y") == 0,
	   "and the next message is read");
	ok(mbox_next(r, &msgs, &info) == 0, "then the end");
	mbox_close(r);
	buf_free(&b);
	buf_free(&msgs);

	/* not an mbox: -1, a reason, and -1 again */
	r = mbox_open_mem("garbage\nFrom a@x Wed Jan  3 10:00:00 2024\n", 41);
	ok(mbox_next(r, &msgs, &info) == -1 && *mbox_error(r) &&
	       mbox_next(r, &msgs, &info) == -1,
	   "not an mbox: -1 with a reason (%s)", mbox_error(r));
	mbox_close(r);

	/* files */
	ok(mbox_open("/nonexistent/x.mbox", &err) == NULL &&
	       strstr(buf_str(&err), "/nonexistent/x.mbox"),
	   "a missing file: NULL and why");
	buf_free(&err);
	data_file("threads.mbox", 6, "\nFrom the minutes");
	data_file("pipermail.mbox", 2, "revisorodense");
	data_file("crlf.mbox", 2, "From two");
	buf_free(&msgs);
	buf_free(&senders);
	return done_testing();
}
