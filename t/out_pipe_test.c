/*
 * out_pipe_test.c - robustness of mlmd's pipelining SMTP client
 * (out_pipe.c, reached through out_smtp_new with opts.pipelining = 1)
 * against t/helpers/smtp_script.py, a scripted server that misbehaves on
 * purpose: bad greetings, refusals at every step, multi-line replies,
 * connections closed or left silent halfway, overlong lines, 421.  The
 * server logs what it received (and whether a command came before the
 * reply to the previous one), which checks pipelining, its absence,
 * dot-stuffing and connection reuse from the other side of the wire.
 *
 * Every case has its own out_smtp and its own EHLO name (which picks the
 * server's behaviour), and all of them run at once on one loop, so the
 * whole test takes about as long as its slowest case (the idle QUIT,
 * about 7 s).  A known bug of out_pipe.c would be a TAP TODO with its
 * reason (ok_todo()); the six this test found are fixed.
 */
#include "config.h"

#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "out_smtp.h"
#include "util.h"
#include "tap.h"

extern char **environ;

#define MAX_RCPTS  4
#define TIMEOUT_MS 2000 /* where a timeout is the point */
#define IDLE_MS    5000 /* out_pipe.c's idle time before QUIT */

/* An assertion that is a known bug: TAP TODO, not a failure. */
static int __attribute__((format(printf, 3, 4)))
ok_todo(int cond, const char *todo, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (todo)
		printf(" # TODO bug: %s", todo);
	else if (!cond)
		tap_failed++;
	printf("\n");
	fflush(stdout);
	return cond;
}

struct res {
	int done;
	int in_send; /* the callback ran inside out_smtp_send */
	size_t n;
	int codes[MAX_RCPTS];
	char texts[MAX_RCPTS][200];
	int has_err;
	char err[256];
	long long sent_at, done_at;
};

static const void *sending; /* the arg of the out_smtp_send in progress */
static int twice;           /* callbacks for a transaction already done */

static void
done(void *arg, const struct out_rcpt_status *st, size_t n, const char *err)
{
	struct res *r = arg;
	size_t i;

	if (r->done)
		twice++;
	r->done = 1;
	r->in_send = arg == sending;
	r->n = n;
	for (i = 0; i < n && i < MAX_RCPTS; i++) {
		r->codes[i] = st[i].code;
		strlcpy_(r->texts[i], st[i].text, sizeof(r->texts[i]));
	}
	r->has_err = err != NULL;
	if (err)
		strlcpy_(r->err, err, sizeof(r->err));
	r->done_at = loop_now_ms();
}

static int
send1(struct out_smtp *o, const char *from, const char *const *rcpts, size_t n,
      const char *data, size_t len, struct res *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->sent_at = loop_now_ms();
	sending = r;
	rc = out_smtp_send(o, from, rcpts, n, data, len, done, r);
	sending = NULL;
	return rc;
}

/* ----- the server ------------------------------------------------------- */

static char dir[] = "out_pipe.tmp.XXXXXX";
static int ports[8];
static const char *const listeners[] = {
	"main", "g421", "g554", "garbage", "close", "silent", "longgreet",
};

static int
port_of(const char *listener)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(listeners); i++)
		if (strcmp(listeners[i], listener) == 0)
			return ports[i];
	return -1;
}

/* DIR/ports: "NAME PORT" lines; 0 once every listener is known. */
static int
read_ports(void)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	const char *p;
	size_t i;
	int rc = 0;

	buf_printf(&path, "%s/ports", dir);
	if (read_file(buf_str(&path), &data) < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < ARRAY_SIZE(listeners); i++) {
		struct buf key = BUF_INIT;

		buf_printf(&key, "%s ", listeners[i]);
		p = strstr(buf_str(&data), buf_str(&key));
		if (p && (p == data.s || p[-1] == '\n'))
			ports[i] = (int)strtol(p + key.len, NULL, 10);
		else
			rc = -1;
		buf_free(&key);
	}
	buf_free(&path);
	buf_free(&data);
	return rc;
}

/* The server's log for one EHLO name ("" if it never came). */
static void
server_log(const char *helo, struct buf *b)
{
	struct buf path = BUF_INIT;

	buf_reset(b);
	buf_printf(&path, "%s/log-%s", dir, helo);
	if (read_file(buf_str(&path), b) < 0)
		buf_reset(b);
	buf_free(&path);
}

/* Lines of s that start with prefix. */
static int
count_lines(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);
	int n = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');

		if (strncmp(s, prefix, pl) == 0)
			n++;
		if (!nl)
			break;
		s = nl + 1;
	}
	return n;
}

/* ----- the table of misbehaviours --------------------------------------- */

enum check {
	CHK_NONE,
	CHK_PIPE,    /* pipelined: the envelope in one read */
	CHK_HELO,    /* the client fell back to HELO */
	CHK_LONEDOT, /* pipelined: an empty body; else no DATA at all */
};

static const struct pcase {
	const char *name;
	const char *listener; /* the server's port (main: mode by EHLO) */
	const char *mode;     /* the EHLO name's first label */
	int both;             /* also without PIPELINING */
	long timeout_ms;
	const char *rcpts[MAX_RCPTS];
	int want[MAX_RCPTS];
	int err;             /* 0: errmsg NULL, 1: not empty, -1: any */
	const char *err_has; /* in errmsg */
	long max_ms;         /* the callback comes within (0: 4000) */
	enum check check;
	int big_body;
	const char *todo;
} cases[] = {
	{"greeting 421 and close", "g421", "x", 0, 0, {"a@x.test"}, {0}, 1,
	 "too busy", 0, CHK_NONE, 0, NULL},
	{"greeting 554", "g554", "x", 0, 0, {"a@x.test"}, {0}, 1, "no service",
	 0, CHK_NONE, 0, NULL},
	{"greeting without a code", "garbage", "x", 0, 0, {"a@x.test"}, {0}, 1,
	 "malformed", 0, CHK_NONE, 0, NULL},
	{"connection closed right after accept", "close", "x", 0, 0,
	 {"a@x.test"}, {0}, 1, NULL, 0, CHK_NONE, 0, NULL},
	{"no greeting at all: code 0 within timeout_ms", "silent", "x", 0,
	 TIMEOUT_MS, {"a@x.test"}, {0}, 1, "timed out", TIMEOUT_MS + 3000,
	 CHK_NONE, 0,
	 NULL},
	{"a 10,000-byte greeting line fails the connection", "longgreet",
	 "ok", 0, 0, {"a@x.test"}, {0}, 1, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"mixed RCPT replies", "main", "ok", 1, 0,
	 {"alice@x.test", "bad1@x.test", "tmp1@x.test"}, {250, 550, 451}, 0,
	 NULL, 0, CHK_PIPE, 0, NULL},
	{"multi-line replies to everything", "main", "multi", 1, 0,
	 {"alice@x.test", "bad1@x.test", "bob@x.test"}, {250, 550, 250}, 0,
	 NULL, 0, CHK_PIPE, 0, NULL},
	{"PIPELINING on the last EHLO line", "main", "pipelast", 0, 0,
	 {"alice@x.test", "bob@x.test"}, {250, 250}, 0, NULL, 0, CHK_PIPE, 0,
	 NULL},
	{"EHLO refused 502: HELO and delivery", "main", "ehlo502", 0, 0,
	 {"alice@x.test", "bad1@x.test"}, {250, 550}, 0, NULL, 0, CHK_HELO, 0,
	 NULL},
	{"MAIL refused 550: every recipient 550", "main", "mail550", 1, 0,
	 {"alice@x.test", "bob@x.test"}, {550, 550}, 0, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"MAIL refused 451: every recipient 451", "main", "mail451", 1, 0,
	 {"alice@x.test", "bob@x.test"}, {451, 451}, 0, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"every RCPT refused, 354 anyway: RCPT codes kept", "main", "data354",
	 1, 0, {"bad1@x.test", "tmp2@x.test"}, {550, 451}, 0, NULL, 0,
	 CHK_LONEDOT, 0, NULL},
	{"DATA refused 554", "main", "data554", 1, 0,
	 {"alice@x.test", "bad1@x.test"}, {554, 550}, 0, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"DATA refused 451", "main", "data451", 1, 0,
	 {"alice@x.test", "bad1@x.test"}, {451, 550}, 0, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"552 after the body", "main", "final552", 1, 0,
	 {"alice@x.test", "bob@x.test", "bad1@x.test"}, {552, 552, 550}, 0,
	 NULL, 0, CHK_NONE, 0, NULL},
	{"421 after the body", "main", "final421", 1, 0,
	 {"alice@x.test", "bad1@x.test"}, {421, 550}, -1, NULL, 0, CHK_NONE,
	 0, NULL},
	{"closed after the RCPT replies", "main", "closercpt", 1, 0,
	 {"alice@x.test", "bad1@x.test"}, {0, 550}, 1, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"closed in the middle of the body", "main", "closebody", 1, 0,
	 {"alice@x.test", "bad1@x.test"}, {0, 550}, 1, NULL, 0, CHK_NONE, 1,
	 NULL},
	{"no reply to the end of data: timeout", "main", "noend", 1,
	 TIMEOUT_MS, {"alice@x.test", "bad1@x.test"}, {0, 550}, 1, "timed out",
	 TIMEOUT_MS + 3000, CHK_NONE, 0, NULL},
	{"a 10,000-byte reply line fails the connection", "main", "longreply",
	 1, 0, {"alice@x.test"}, {0}, 1, NULL, 0, CHK_NONE, 0,
	 NULL},
	{"10,000 bytes without a line end", "main", "longpartial", 1, 0,
	 {"alice@x.test"}, {0}, 1, "too long", 0, CHK_NONE, 0, NULL},
	{"421 in the middle of the envelope", "main", "mid421", 1, 0,
	 {"alice@x.test", "bob@x.test"}, {0, 0}, 1, "shutting down", 0,
	 CHK_NONE, 0, NULL},
	{"replies read together with the FIN keep their codes", "main",
	 "flush16k", 0, 0, {"alice@x.test", "bad1@x.test"}, {0, 550}, 1, NULL,
	 0, CHK_NONE, 0,
	 NULL},
	{"the same in 4000 bytes (control for the one above)", "main",
	 "flushsmall", 0, 0, {"alice@x.test", "bad1@x.test"}, {0, 550}, 1,
	 NULL, 0, CHK_NONE, 0, NULL},
};

struct prun {
	const struct pcase *c;
	int np;
	char helo[64];
	struct out_smtp *o;
	struct res r;
};

/* ----- helpers ---------------------------------------------------------- */

static struct out_smtp *
client(struct loop *l, const char *listener, const char *helo, int max_conns,
       long timeout_ms)
{
	struct out_smtp_opts opts = {0};
	struct buf url = BUF_INIT;
	struct out_smtp *o;

	buf_printf(&url, "smtp://127.0.0.1:%d", port_of(listener));
	opts.url = buf_str(&url);
	opts.helo = helo;
	opts.max_conns = max_conns;
	opts.timeout_ms = timeout_ms ? timeout_ms : 20000;
	opts.pipelining = 1;
	o = out_smtp_new(l, &opts);
	buf_free(&url);
	return o;
}

static void
message(struct buf *b, int big)
{
	int i;

	buf_reset(b);
	buf_adds(b, "From: list@lists.mlmd.test\r\nTo: x@x.test\r\n"
	            "Subject: test\r\n\r\nline one\r\n.\r\nlast\r\n");
	for (i = 0; big && i < 5000; i++)
		buf_adds(b, "a line of the big body, sixty characters or "
		            "so, padding\r\n");
}

static int
codes_match(const struct res *r, const int *want, size_t n)
{
	size_t i;

	if (!r->done || r->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (want[i] >= 0 && r->codes[i] != want[i])
			return 0;
	return 1;
}

static void
diag_res(const struct res *r)
{
	size_t i;

	if (!r->done) {
		diag("no callback");
		return;
	}
	for (i = 0; i < r->n && i < MAX_RCPTS; i++)
		diag("recipient %zu: %d %s", i, r->codes[i], r->texts[i]);
	diag("errmsg: %s%s%s, after %lld ms", r->has_err ? "'" : "",
	     r->has_err ? r->err : "NULL", r->has_err ? "'" : "",
	     r->done_at - r->sent_at);
}

/* ----- the whole run ---------------------------------------------------- */

#define N_REUSE 20

static const char *const dot_bodies[] = {
	".\r\n..x\r\nmiddle\r\n..x\r\n.\r\n",
	"..x\r\nthe last line is a dot without a line end\r\n.",
	"no line end at all",
	".\r\n",
	"",
	"x\r\n.\r\n.\r\n\r\n..\r\n",
	"caf\xc3\xa9 8-bit\r\n.\xc3\xa9\r\n",
};

struct all {
	struct loop *loop;
	struct prun runs[2 * ARRAY_SIZE(cases)];
	size_t n_runs;
	/* reuse: 20 transactions over two connections */
	struct out_smtp *reuse[2];
	struct res reuse_r[2][N_REUSE];
	/* first550: a refused transaction, RSET, then a good one */
	struct out_smtp *first[2];
	struct res first_r[2][2];
	/* dot-stuffing */
	struct out_smtp *dots[2];
	struct res dots_r[2][ARRAY_SIZE(dot_bodies)];
	/* one-line EHLO reply */
	struct out_smtp *sizeish;
	struct res sizeish_r;
	/* a connect() that fails at once */
	struct out_smtp *unreach;
	struct res unreach_r;
	/* idle QUIT, and a transaction queued while QUIT is answered */
	struct out_smtp *sq;
	struct res sq_r[2];
	int sq_stage; /* 0 txn 1 out, 1 txn 2 sent, 2 gave up */
	long long quit_seen;
	long long deadline;
};

/* Nothing more to wait for: every callback came or is overdue. */
static int
settled(const struct all *a, long long now)
{
	size_t i, k;
	int v;

#define OVERDUE(r, ms) ((r).done || now > (r).sent_at + (ms))
	for (i = 0; i < a->n_runs; i++)
		if (!OVERDUE(a->runs[i].r, a->runs[i].c->max_ms
		                               ? a->runs[i].c->max_ms
		                               : 4000))
			return 0;
	for (v = 0; v < 2; v++) {
		for (k = 0; k < N_REUSE; k++)
			if (!OVERDUE(a->reuse_r[v][k], 4000))
				return 0;
		for (k = 0; k < 2; k++)
			if (!OVERDUE(a->first_r[v][k], 4000))
				return 0;
		for (k = 0; k < ARRAY_SIZE(dot_bodies); k++)
			if (!OVERDUE(a->dots_r[v][k], 4000))
				return 0;
	}
	if (!OVERDUE(a->sizeish_r, 4000) || !OVERDUE(a->unreach_r, 4000))
		return 0;
#undef OVERDUE
	return a->sq_stage == 2 || (a->sq_stage == 1 && a->sq_r[1].done);
}

/*
 * Every 20 ms: the idle QUIT case's second step (a transaction sent as
 * soon as the server has seen QUIT), and the end of the run.
 */
static void
drive(struct loop *l, void *arg)
{
	struct all *a = arg;
	long long now = loop_now_ms();

	if (a->sq_stage == 0 && a->sq_r[0].done) {
		struct buf log = BUF_INIT;

		server_log("slowquit.sq.test", &log);
		if (count_lines(buf_str(&log), "quit")) {
			const char *r[1] = {"alice@x.test"};
			struct buf msg = BUF_INIT;

			a->quit_seen = now;
			message(&msg, 0);
			send1(a->sq, "sq2@lists.mlmd.test", r, 1, msg.s,
			      msg.len, &a->sq_r[1]);
			a->sq_stage = 1;
			buf_free(&msg);
		} else if (now > a->sq_r[0].done_at + IDLE_MS + 3000) {
			a->sq_stage = 2;
		}
		buf_free(&log);
	}
	/* The server answers QUIT after 0.5 s; then a new connection. */
	if (a->sq_stage == 1 && !a->sq_r[1].done && now > a->quit_seen + 2500)
		a->sq_stage = 2;
	if (settled(a, now) || now > a->deadline) {
		loop_stop(l);
		return;
	}
	loop_add_timer(l, 20, drive, a);
}

static void
start_all(struct all *a)
{
	struct buf msg = BUF_INIT;
	size_t i, k;
	int v;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (v = 0; v <= cases[i].both; v++) {
			struct prun *p = &a->runs[a->n_runs++];
			const struct pcase *c = &cases[i];

			p->c = c;
			p->np = v;
			snprintf(p->helo, sizeof(p->helo), "%s.c%zu%s.test",
			         c->mode, i, v ? ".np" : "");
			p->o = client(a->loop, c->listener, p->helo, 1,
			              c->timeout_ms);
			for (k = 0; k < MAX_RCPTS && c->rcpts[k]; k++)
				;
			message(&msg, c->big_body);
			if (!p->o ||
			    send1(p->o, "list@lists.mlmd.test", c->rcpts, k,
			          msg.s, msg.len, &p->r) < 0)
				diag("%s: could not start", p->helo);
		}
	}
	message(&msg, 0);
	for (v = 0; v < 2; v++) {
		const char *r1[1] = {"alice@x.test"};

		a->reuse[v] = client(a->loop, "main",
		                     v ? "reuse.np.test" : "reuse.test", 2, 0);
		for (k = 0; k < N_REUSE; k++)
			send1(a->reuse[v], "list@lists.mlmd.test", r1, 1, msg.s,
			      msg.len, &a->reuse_r[v][k]);
		a->first[v] =
		    client(a->loop, "main",
		           v ? "first550.np.test" : "first550.test", 1, 0);
		for (k = 0; k < 2; k++)
			send1(a->first[v], "list@lists.mlmd.test", r1, 1, msg.s,
			      msg.len, &a->first_r[v][k]);
		a->dots[v] = client(a->loop, "main",
		                    v ? "dots.np.test" : "dots.test", 2, 0);
		for (k = 0; k < ARRAY_SIZE(dot_bodies); k++) {
			char from[64];

			snprintf(from, sizeof(from), "dot%zu%s@lists.mlmd.test",
			         k, v ? "n" : "p");
			send1(a->dots[v], from, r1, 1, dot_bodies[k],
			      strlen(dot_bodies[k]), &a->dots_r[v][k]);
		}
	}
	{
		const char *r1[1] = {"alice@x.test"};

		a->sizeish = client(a->loop, "main", "sizeish.test", 1, 0);
		send1(a->sizeish, "list@lists.mlmd.test", r1, 1, msg.s, msg.len,
		      &a->sizeish_r);
		a->sq = client(a->loop, "main", "slowquit.sq.test", 1, 0);
		send1(a->sq, "sq1@lists.mlmd.test", r1, 1, msg.s, msg.len,
		      &a->sq_r[0]);
	}
	buf_free(&msg);
}

static void
check_cases(struct all *a)
{
	struct buf log = BUF_INIT;
	size_t i;

	for (i = 0; i < a->n_runs; i++) {
		struct prun *p = &a->runs[i];
		const struct pcase *c = p->c;
		const struct res *r = &p->r;
		size_t n;
		long max_ms = c->max_ms ? c->max_ms : 4000;
		int good;
		const char *s;

		for (n = 0; n < MAX_RCPTS && c->rcpts[n]; n++)
			;
		good = codes_match(r, c->want, n) &&
		       r->done_at - r->sent_at <= max_ms && !r->in_send;
		if (c->err == 0)
			good = good && !r->has_err;
		else if (c->err == 1)
			good = good && r->has_err && r->err[0];
		if (c->err_has)
			good = good && r->has_err && strstr(r->err, c->err_has);
		if (!ok_todo(good, c->todo, "%s%s", c->name,
		             p->np ? " (no PIPELINING)" : ""))
			diag_res(r);

		server_log(p->helo, &log);
		s = buf_str(&log);
		if (c->listener[0] == 'm' && (p->np || c->check == CHK_HELO))
			if (!ok(!strstr(s, "EARLY"),
			        "%s: no command before the previous reply",
			        p->helo))
				diag("server log:\n%s", s);
		switch (c->check) {
		case CHK_PIPE:
			if (p->np)
				ok(count_lines(s, "chunk MAIL\n") == 1 &&
				       count_lines(s, "chunk DATA\n") == 1,
				   "%s: MAIL and DATA in reads of their own",
				   p->helo);
			else if (
			    !ok(count_lines(
			            s,
			            n == 3 ? "chunk MAIL,RCPT,RCPT,RCPT,DATA\n"
			            : n == 2 ? "chunk MAIL,RCPT,RCPT,DATA\n"
			                     : "chunk MAIL,RCPT,DATA\n") == 1,
			        "%s: MAIL, RCPTs and DATA in one read",
			        p->helo))
				diag("server log:\n%s", s);
			break;
		case CHK_HELO:
			ok(count_lines(s, "cmd HELO ") == 1,
			   "%s: HELO after the refused EHLO", p->helo);
			break;
		case CHK_LONEDOT:
			if (p->np)
				ok(count_lines(s, "cmd DATA") == 0,
				   "%s: no DATA without a recipient", p->helo);
			else
				ok(count_lines(s, "body 0\n") == 1,
				   "%s: the body was a lone \".\"", p->helo);
			break;
		case CHK_NONE:
			break;
		}
	}
	buf_free(&log);
}

static void
check_dots(struct all *a, int v)
{
	struct buf path = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	struct buf log = BUF_INIT;
	size_t k;
	int good = 0;

	for (k = 0; k < ARRAY_SIZE(dot_bodies); k++) {
		const char *b = dot_bodies[k];
		size_t len = strlen(b);

		buf_reset(&want);
		buf_adds(&want, b);
		if (len && b[len - 1] != '\n')
			buf_adds(&want, "\r\n");
		buf_reset(&path);
		buf_printf(&path, "%s/body-dot%zu%s", dir, k, v ? "n" : "p");
		buf_reset(&got);
		if (a->dots_r[v][k].done && a->dots_r[v][k].codes[0] == 250 &&
		    read_file(buf_str(&path), &got) == 0 &&
		    got.len == want.len &&
		    memcmp(buf_str(&got), buf_str(&want), want.len) == 0)
			good++;
		else
			diag("body %zu: got %zu bytes '%s', want %zu", k,
			     got.len, buf_str(&got), want.len);
	}
	is_int(good, ARRAY_SIZE(dot_bodies),
	       "dot-stuffing%s: the server un-stuffs what was sent",
	       v ? " (no PIPELINING)" : "");
	server_log(v ? "dots.np.test" : "dots.test", &log);
	buf_reset(&want);
	buf_printf(&want,
	           "cmd MAIL FROM:<dot6%s@lists.mlmd.test> SIZE=%zu "
	           "BODY=8BITMIME\n",
	           v ? "n" : "p", strlen(dot_bodies[6]));
	ok(strstr(buf_str(&log), buf_str(&want)) &&
	       !strstr(buf_str(&log), "dot0p@lists.mlmd.test> SIZE=21 BODY") &&
	       !strstr(buf_str(&log), "dot0n@lists.mlmd.test> SIZE=21 BODY"),
	   "dot-stuffing%s: SIZE= the unstuffed size, BODY=8BITMIME only "
	   "for 8-bit",
	   v ? " (no PIPELINING)" : "");
	buf_free(&path);
	buf_free(&got);
	buf_free(&want);
	buf_free(&log);
}

static void
check_rest(struct all *a)
{
	struct buf log = BUF_INIT;
	size_t k;
	int v;

	for (v = 0; v < 2; v++) {
		const char *np = v ? " (no PIPELINING)" : "";
		int good = 0;

		for (k = 0; k < N_REUSE; k++)
			good += a->reuse_r[v][k].done &&
			        a->reuse_r[v][k].codes[0] == 250 &&
			        !a->reuse_r[v][k].has_err;
		is_int(good, N_REUSE, "reuse%s: %d transactions delivered", np,
		       N_REUSE);
		server_log(v ? "reuse.np.test" : "reuse.test", &log);
		if (!ok(count_lines(buf_str(&log), "conn") <= 2 &&
		            count_lines(buf_str(&log), "cmd MAIL") == N_REUSE &&
		            count_lines(buf_str(&log), "cmd RSET") == 0,
		        "reuse%s: at most 2 connections, %d MAIL, no RSET", np,
		        N_REUSE))
			diag("%d connections, %d MAIL",
			     count_lines(buf_str(&log), "conn"),
			     count_lines(buf_str(&log), "cmd MAIL"));
		if (v)
			ok(!strstr(buf_str(&log), "EARLY"),
			   "reuse%s: no command before the previous reply", np);

		ok(a->first_r[v][0].done && a->first_r[v][0].codes[0] == 550 &&
		       a->first_r[v][1].done &&
		       a->first_r[v][1].codes[0] == 250,
		   "refused MAIL%s: 550, then the next transaction delivered",
		   np);
		server_log(v ? "first550.np.test" : "first550.test", &log);
		ok(count_lines(buf_str(&log), "conn") == 1 &&
		       count_lines(buf_str(&log), "cmd RSET") == 1 &&
		       count_lines(buf_str(&log), "cmd MAIL") == 2,
		   "refused MAIL%s: RSET, then the same connection reused", np);

		check_dots(a, v);
	}

	ok(a->sizeish_r.done && a->sizeish_r.codes[0] == 250,
	   "one-line EHLO reply: delivered");
	server_log("sizeish.test", &log);
	ok_todo(count_lines(buf_str(&log), "cmd MAIL") == 1 &&
	            !strstr(buf_str(&log), "SIZE="),
	        NULL,
	        "EHLO reply \"250 sizeable.script.test\": no SIZE= in MAIL");

	ok(a->sq_r[0].done && a->sq_r[0].codes[0] == 250,
	   "idle: a transaction delivered");
	server_log("slowquit.sq.test", &log);
	if (!ok(a->quit_seen &&
	            a->quit_seen - a->sq_r[0].done_at >= IDLE_MS - 500 &&
	            a->quit_seen - a->sq_r[0].done_at <= IDLE_MS + 2500,
	        "idle: the connection is closed with QUIT after ~%d s (%lld "
	        "ms)",
	        IDLE_MS / 1000,
	        a->quit_seen ? a->quit_seen - a->sq_r[0].done_at : -1))
		diag("server log:\n%s", buf_str(&log));
	if (!ok_todo(a->sq_r[1].done && a->sq_r[1].codes[0] == 250,
	             NULL,
	             "a transaction sent while the only connection QUITs is "
	             "delivered"))
		diag("pending: %zu", out_smtp_pending(a->sq));
	buf_free(&log);
}

/* Refused at once, nothing sent, nothing queued. */
static void
bad_addresses(struct loop *l)
{
	static const char *const bad[] = {
		"a\rb@x.test", "a\nb@x.test", "a<b@x.test", "a>b@x.test",
		"a b@x.test", "a\r\nRSET@x.test", "",
	};
	struct out_smtp *o = client(l, "main", "badaddr.test", 1, 0);
	struct res r;
	struct buf log = BUF_INIT;
	size_t i;
	int refused = 0, tries = 0;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *rc[2] = {"alice@x.test", bad[i]};

		tries++;
		refused += send1(o, "list@x.test", rc, 2, "x\r\n", 3, &r) < 0;
		if (!*bad[i])
			continue; /* "" is the null sender: fine as MAIL */
		tries++;
		refused += send1(o, bad[i], rc, 1, "x\r\n", 3, &r) < 0;
	}
	{
		const char *rc[1] = {"alice@x.test"};

		tries += 2;
		refused += send1(o, "list@x.test", rc, 0, "x\r\n", 3, &r) < 0;
		refused += out_smtp_send(o, "list@x.test", rc, 1, "x\r\n", 3,
		                         NULL, &r) < 0;
	}
	is_int(refused, tries,
	       "bad addresses (CR, LF, <, >, space, empty "
	       "recipient), no recipient, no callback: -1");
	ok(out_smtp_pending(o) == 0, "bad addresses: nothing queued");
	server_log("badaddr.test", &log);
	ok(log.len == 0, "bad addresses: no connection made");
	out_smtp_free(o);
	buf_free(&log);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct buf script = BUF_INIT, cmd = BUF_INIT;
	struct all *a;
	char *argv[4];
	pid_t pid;
	size_t i;
	int v;

	log_open("out_pipe_test", 1, L_ERROR);
	/* As the daemon does (daemon.c): a write to a relay that has gone
	 * is an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (access("/usr/bin/python3", X_OK) != 0) {
		skip(1, "no /usr/bin/python3");
		return done_testing();
	}
	if (!mkdtemp(dir)) {
		printf("Bail out! no temp dir\n");
		return 1;
	}
	buf_printf(&script, "%s/t/helpers/smtp_script.py", top ? top : "..");
	argv[0] = "/usr/bin/python3";
	argv[1] = (char *)buf_str(&script);
	argv[2] = dir;
	argv[3] = NULL;
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
		printf("Bail out! cannot start the server\n");
		return 1;
	}
	for (i = 0; i < 200 && read_ports() < 0; i++)
		usleep(50000);
	if (!ok(read_ports() == 0, "scripted server started")) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return done_testing();
	}

	a = xcalloc(1, sizeof(*a));
	a->loop = loop_new();
	a->deadline = loop_now_ms() + 15000;
	start_all(a);

	/* connect() fails at once (a broadcast address): the callback must
	 * still come from the loop, not from inside out_smtp_send (outq.c's
	 * dispatch() links the transaction after out_smtp_send returns). */
	{
		struct out_smtp_opts opts = {0};
		const char *r[2] = {"alice@x.test", "bob@x.test"};

		opts.url = "smtp://255.255.255.255:25";
		opts.helo = "unreach.test";
		opts.pipelining = 1;
		a->unreach = out_smtp_new(a->loop, &opts);
		send1(a->unreach, "list@x.test", r, 2, "x\r\n", 3,
		      &a->unreach_r);
	}
	bad_addresses(a->loop);

	loop_add_timer(a->loop, 20, drive, a);
	loop_run(a->loop);

	check_cases(a);
	check_rest(a);
	ok(a->unreach_r.done && a->unreach_r.codes[0] == 0 &&
	       a->unreach_r.codes[1] == 0 && a->unreach_r.has_err &&
	       a->unreach_r.err[0],
	   "connect() failing at once: code 0, reason given (%s)",
	   a->unreach_r.err);
	ok_todo(a->unreach_r.done && !a->unreach_r.in_send,
	        NULL,
	        "connect() failing at once: the callback is not called "
	        "inside out_smtp_send");

	is_int(twice, 0, "no transaction got two callbacks");

	for (i = 0; i < a->n_runs; i++)
		out_smtp_free(a->runs[i].o);
	for (v = 0; v < 2; v++) {
		out_smtp_free(a->reuse[v]);
		out_smtp_free(a->first[v]);
		out_smtp_free(a->dots[v]);
	}
	out_smtp_free(a->sizeish);
	out_smtp_free(a->sq);
	out_smtp_free(a->unreach);
	loop_free(a->loop);
	free(a);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	buf_printf(&cmd, "rm -rf '%s'", dir);
	if (tap_failed == 0 && system(buf_str(&cmd)) != 0)
		diag("could not remove %s", dir);
	else if (tap_failed)
		diag("kept %s", dir);
	buf_free(&cmd);
	buf_free(&script);
	return done_testing();
}
