/*
 * loop_test.c - the event loop (loop.h): timers in order, a timer added
 * from a timer, an fd callback, a descriptor removed during an iteration,
 * and the after hooks: they run once the due timers have run, before
 * poll() waits for the next timer (a timer that queues work for an after
 * hook must not leave it waiting), and after the fd callbacks.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "tap.h"

struct state {
	int order[8];
	int n_order;
	int flag;          /* set by a timer, seen by the after hook */
	long long flag_at; /* when the after hook saw it */
	int afters;
	int fd_calls;
	int rfd;
};

static void
t_order(struct loop *l, void *arg, int which)
{
	struct state *s = arg;

	if (s->n_order < 8)
		s->order[s->n_order++] = which;
}

static void t1(struct loop *l, void *arg) { t_order(l, arg, 1); }
static void t2(struct loop *l, void *arg) { t_order(l, arg, 2); }
static void t3(struct loop *l, void *arg) { t_order(l, arg, 3); }

static void
t_nested(struct loop *l, void *arg)
{
	t_order(l, arg, 4);
	loop_add_timer(l, 0, t3, arg);
}

static void
t_flag(struct loop *l, void *arg)
{
	struct state *s = arg;

	s->flag = 1;
}

static void
t_stop(struct loop *l, void *arg)
{
	loop_stop(l);
}

static void
after(struct loop *l, void *arg)
{
	struct state *s = arg;

	s->afters++;
	if (s->flag == 1) {
		s->flag = 2;
		s->flag_at = loop_now_ms();
		loop_stop(l);
	}
}

static void
on_read(struct loop *l, int fd, short revents, void *arg)
{
	struct state *s = arg;
	char b[16];

	s->fd_calls++;
	if (read(fd, b, sizeof(b)) <= 0 || s->fd_calls >= 1)
		loop_del_fd(l, fd);
	loop_stop(l);
}

int
main(void)
{
	struct loop *l;
	struct state s;
	long long t0;
	int p[2], stop;

	log_open("loop_test", 1, L_ERROR);
	memset(&s, 0, sizeof(s));
	l = loop_new();
	ok(l != NULL, "loop_new");

	/* Timers run in the order they fall due; one added by a timer
	 * with 0 ms runs in the same round. */
	loop_add_timer(l, 30, t2, &s);
	loop_add_timer(l, 10, t1, &s);
	loop_add_timer(l, 50, t_nested, &s);
	loop_add_timer(l, 120, t_stop, &s);
	loop_run(l);
	is_int(s.n_order, 4, "four timers ran");
	ok(s.order[0] == 1 && s.order[1] == 2 && s.order[2] == 4 &&
	       s.order[3] == 3,
	   "in due order, the nested one right after its parent");

	/* A timer that leaves work for an after hook: the hook sees it at
	 * once, not when poll() returns for the next (5 s) timer. */
	loop_add_after(l, after, &s);
	stop = loop_add_timer(l, 5000, t_stop, &s);
	loop_add_timer(l, 0, t_flag, &s);
	t0 = loop_now_ms();
	loop_run(l);
	is_int(s.flag, 2, "the after hook saw the timer's work");
	ok(s.flag_at - t0 < 1000,
	   "... at once (%lld ms), not after the next timer",
	   s.flag_at - t0);
	loop_del_timer(l, stop);

	/* A readable descriptor: its callback, then the after hooks. */
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		int before = s.afters;

		s.rfd = p[0];
		loop_add_fd(l, p[0], POLLIN, on_read, &s);
		stop = loop_add_timer(l, 5000, t_stop, &s);
		if (write(p[1], "x", 1) != 1)
			diag("write failed");
		loop_run(l);
		is_int(s.fd_calls, 1, "the fd callback ran once");
		ok(s.afters > before, "after hooks ran after it");
		loop_del_timer(l, stop);
		/* removed: more data calls nothing */
		if (write(p[1], "y", 1) != 1)
			diag("write failed");
		stop = loop_add_timer(l, 50, t_stop, &s);
		loop_run(l);
		is_int(s.fd_calls, 1, "a removed descriptor is not served");
		close(p[0]);
		close(p[1]);
	} else {
		skip(3, "no pipe");
	}
	loop_free(l);
	return done_testing();
}
