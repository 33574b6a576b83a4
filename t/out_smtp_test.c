/*
 * Tests for out_smtp.c against a real SMTP server on loopback: the
 * aiosmtpd sink in t/helpers/smtp_sink.py, which refuses recipients by
 * rule.  Checks per-recipient statuses, parallel transactions, the null
 * sender, dot-stuffing of the body, and a relay that is down.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "out_smtp.h"
#include "util.h"
#include "tap.h"

extern char **environ;

static const struct {
	const char *name;
	const char *rcpts[5];
	int want[5];
	const char *extra_header;
} cases[] = {
	{"one good recipient", {"alice@example.org"}, {250}, NULL},
	{"mixed recipients",
	 {"ann@example.org", "bad1@example.org", "tmp1@example.org",
	  "bob@example.org"},
	 {250, 550, 451, 250},
	 NULL},
	{"every recipient refused", {"bad2@example.org", "bad3@example.org"},
	 {550, 550}, NULL},
	{"content refused at end of DATA", {"carl@example.org"}, {554},
	 "X-Sink: reject\r\n"},
	{"temporary refusal only", {"tmp9@example.org"}, {451}, NULL},
};

struct result {
	int done;
	int codes[16];
	size_t n;
	char err[256];
};

static int outstanding;

static void
done(void *arg, const struct out_rcpt_status *st, size_t n, const char *err)
{
	struct result *r = arg;
	size_t i;

	r->done = 1;
	r->n = n;
	for (i = 0; i < n && i < 16; i++)
		r->codes[i] = st[i].code;
	if (err)
		strlcpy_(r->err, err, sizeof(r->err));
	outstanding--;
}

static void
poll_done(struct loop *l, void *arg)
{
	if (outstanding <= 0)
		loop_stop(l);
	else
		loop_add_timer(l, 10, poll_done, arg);
}

static void
give_up(struct loop *l, void *arg)
{
	diag("timed out waiting for the relay");
	loop_stop(l);
}

static void
run(struct loop *l)
{
	int t = loop_add_timer(l, 30000, give_up, NULL);

	loop_add_timer(l, 10, poll_done, NULL);
	loop_run(l);
	loop_del_timer(l, t);
}

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void
message(struct buf *b, const char *extra)
{
	buf_reset(b);
	buf_adds(b, "From: list@lists.mlmd.test\r\nTo: x@example.org\r\n"
		    "Subject: test\r\n");
	if (extra)
		buf_adds(b, extra);
	buf_adds(b, "\r\nline one\r\n.\r\n..two dots\r\nlast\r\n");
}

/* Count "X-Sink-To:" lines and dot lines over the sink's dump files. */
static void
count_dump(const char *dir, int *rcpts, int *dots)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	struct dirent *e;
	DIR *d = opendir(dir);

	*rcpts = *dots = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *p;
		if (!strstr(e->d_name, ".eml") || strstr(e->d_name, ".tmp"))
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, e->d_name);
		if (read_file(buf_str(&path), &data) < 0)
			continue;
		for (p = buf_str(&data); (p = strstr(p, "X-Sink-To:")); p++)
			(*rcpts)++;
		if (strstr(buf_str(&data), "\r\n.\r\n..two dots\r\n"))
			(*dots)++;
	}
	closedir(d);
	buf_free(&path);
	buf_free(&data);
}

/*
 * One pass over the relay: mode 0 libcurl, 1 mlmd's client with
 * PIPELINING, 2 mlmd's client without (the sink offers PIPELINING unless
 * the EHLO name starts with "nopipe").
 */
static void
suite(int mode, int port, const char *dumpdir)
{
	static const char *const names[] = {"curl", "pipelining",
	                                    "no pipelining"};
	struct buf url = BUF_INIT, msg = BUF_INIT;
	struct result res[ARRAY_SIZE(cases)], many[40], down;
	struct out_smtp_opts opts = {0};
	struct out_smtp *o;
	struct loop *l;
	int i, rcpts, dots, good = 0, want_rcpts = 0, before_rcpts, before_dots;
	size_t c, k;
	const char *mname = names[mode];

	count_dump(dumpdir, &before_rcpts, &before_dots);
	opts.pipelining = mode > 0;
	l = loop_new();
	buf_printf(&url, "smtp://127.0.0.1:%d", port);
	opts.url = buf_str(&url);
	opts.helo = mode == 2 ? "nopipe.lists.mlmd.test" : "lists.mlmd.test";
	opts.max_conns = 3;
	opts.timeout_ms = 20000;
	o = out_smtp_new(l, &opts);
	ok(o != NULL, "%s: out_smtp_new", mname);

	memset(res, 0, sizeof(res));
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		const char *r[5];
		for (k = 0; k < 5 && cases[c].rcpts[k]; k++)
			r[k] = cases[c].rcpts[k];
		message(&msg, cases[c].extra_header);
		outstanding++;
		if (out_smtp_send(o, c == 0 ? "" : "list+bounce@lists.mlmd.test",
				  r, k, msg.s, msg.len, done, &res[c]) < 0)
			outstanding--;
	}
	/* Forty more at once, ten recipients each, over three connections. */
	memset(many, 0, sizeof(many));
	for (i = 0; i < 40; i++) {
		char addrs[10][64];
		const char *r[10];
		for (k = 0; k < 10; k++) {
			snprintf(addrs[k], sizeof(addrs[k]), "m%d-%zu@example.net",
				 i, k);
			r[k] = addrs[k];
		}
		message(&msg, NULL);
		outstanding++;
		out_smtp_send(o, "list@lists.mlmd.test", r, 10, msg.s, msg.len,
			      done, &many[i]);
	}
	run(l);

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		int match = res[c].done;
		for (k = 0; k < 5 && cases[c].rcpts[k]; k++) {
			match = match && res[c].codes[k] == cases[c].want[k];
			if (cases[c].want[k] == 250)
				want_rcpts++;
		}
		if (!ok(match, "%s: %s", mname, cases[c].name))
			for (k = 0; k < res[c].n; k++)
				diag("recipient %zu: %d (%s)", k, res[c].codes[k],
				     res[c].err);
	}
	for (i = 0; i < 40; i++)
		if (many[i].done && many[i].codes[0] == 250 &&
		    many[i].codes[9] == 250)
			good++;
	is_int(good, 40, "%s: forty parallel transactions delivered", mname);
	want_rcpts += 400;
	ok(out_smtp_pending(o) == 0, "%s: nothing pending afterwards", mname);
	count_dump(dumpdir, &rcpts, &dots);
	is_int(rcpts - before_rcpts, want_rcpts,
	       "%s: the sink got every accepted recipient once", mname);
	ok(dots - before_dots > 40,
	   "%s: lines with leading dots arrive intact (%d)", mname,
	   dots - before_dots);
	out_smtp_free(o);

	/* A relay that is down: every recipient unknown, with a reason. */
	buf_reset(&url);
	buf_printf(&url, "smtp://127.0.0.1:%d", free_port());
	opts.url = buf_str(&url);
	o = out_smtp_new(l, &opts);
	memset(&down, 0, sizeof(down));
	{
		const char *r[2] = {"a@example.org", "b@example.org"};
		message(&msg, NULL);
		outstanding = 1;
		out_smtp_send(o, "x@lists.mlmd.test", r, 2, msg.s, msg.len,
			      done, &down);
	}
	run(l);
	ok(down.done && down.codes[0] == 0 && down.codes[1] == 0 && down.err[0],
	   "%s: relay down: recipients unknown, reason given (%s)", mname,
	   down.err);
	{
		const char *r[1] = {"a\r\nRSET@example.org"};
		ok(out_smtp_send(o, "", r, 1, "x", 1, done, &down) == -1,
		   "%s: a recipient with CRLF is refused", mname);
	}
	out_smtp_free(o);
	loop_free(l);
	buf_free(&url);
	buf_free(&msg);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct buf sink = BUF_INIT;
	struct buf ready = BUF_INIT, dump = BUF_INIT;
	char dir[] = "out_smtp.tmp.XXXXXX", portstr[16];
	char *argv[5];
	pid_t pid;
	int port, i, mode;

	log_open("out_smtp_test", 1, L_WARN);
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null") != 0) {
		skip(1, "python3-aiosmtpd is not installed");
		return done_testing();
	}
	if (!mkdtemp(dir) || (port = free_port()) < 0) {
		printf("Bail out! no temp dir or port\n");
		return 1;
	}
	buf_printf(&sink, "%s/t/helpers/smtp_sink.py", top ? top : "..");
	buf_printf(&dump, "%s/dump", dir);
	buf_printf(&ready, "%s/ready", buf_str(&dump));
	snprintf(portstr, sizeof(portstr), "%d", port);
	argv[0] = "/usr/bin/python3";
	argv[1] = (char *)buf_str(&sink);
	argv[2] = portstr;
	argv[3] = (char *)buf_str(&dump);
	argv[4] = NULL;
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
		printf("Bail out! cannot start the sink\n");
		return 1;
	}
	for (i = 0; i < 200 && access(buf_str(&ready), F_OK) != 0; i++)
		usleep(50000);
	if (!ok(access(buf_str(&ready), F_OK) == 0, "sink started on %d", port))
		goto out;

	for (mode = 0; mode < 3; mode++)
		suite(mode, port, buf_str(&dump));
out:
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	{
		struct buf cmd = BUF_INIT;
		buf_printf(&cmd, "rm -rf '%s'", dir);
		if (tap_failed == 0 && system(buf_str(&cmd)) != 0)
			diag("could not remove %s", dir);
		buf_free(&cmd);
	}
	buf_free(&sink);
	buf_free(&ready);
	buf_free(&dump);
	return done_testing();
}
