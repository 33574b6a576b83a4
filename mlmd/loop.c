/*
 * loop.c - the daemon's single poll() loop (see loop.h).
 *
 * Owns the table of watched descriptors (indexed by fd number), the timers
 * (a short unsorted array: the daemon keeps only a handful, the LMTP
 * sessions share one periodic timer) and the signalfd.  Invariants: a
 * callback removed during an iteration is never called afterwards in that
 * iteration; signals handled here are blocked for the whole process, so
 * they arrive only through the signalfd, never asynchronously.
 *
 * Called by daemon.c and lmtp_server.c.  poll() failing for a reason other
 * than EINTR makes loop_run() return -1; nothing here is fatal.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "util.h"

#define LOOP_MAX_SIGNALS 8

struct fd_entry {
	loop_fd_fn *fn;
	void *arg;
	short events;
	int used;
	unsigned gen; /* bumped on removal: stale poll results are skipped */
};

struct timer {
	int id;
	long long due;
	loop_fn *fn;
	void *arg;
};

struct after {
	loop_fn *fn;
	void *arg;
};

struct loop {
	struct fd_entry *fds;
	size_t n_fds; /* entries allocated (fd numbers below this) */
	struct timer *timers;
	size_t n_timers, cap_timers;
	int next_timer_id;
	struct after *after;
	size_t n_after, cap_after;
	int sigfd;
	sigset_t sigmask;
	struct {
		int signo;
		loop_signal_fn *fn;
		void *arg;
	} sigs[LOOP_MAX_SIGNALS];
	int n_sigs;
	int stop;
	struct pollfd *pfd;
	unsigned *pgen;
	size_t cap_pfd;
};

long long
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	return l;
}

void
loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->fds);
	free(l->timers);
	free(l->after);
	free(l->pfd);
	free(l->pgen);
	free(l);
}

int
loop_add_fd(struct loop *l, int fd, short events, loop_fd_fn *fn, void *arg)
{
	if (fd < 0)
		return error("loop: bad fd");
	if ((size_t)fd >= l->n_fds) {
		size_t old = l->n_fds;

		l->fds =
		    xgrow(l->fds, &l->n_fds, (size_t)fd + 1, sizeof(*l->fds));
		memset(l->fds + old, 0, (l->n_fds - old) * sizeof(*l->fds));
	}
	if (l->fds[fd].used)
		return error("loop: fd %d watched twice", fd);
	l->fds[fd].fn = fn;
	l->fds[fd].arg = arg;
	l->fds[fd].events = events;
	l->fds[fd].used = 1;
	return 0;
}

void
loop_set_events(struct loop *l, int fd, short events)
{
	if (fd >= 0 && (size_t)fd < l->n_fds && l->fds[fd].used)
		l->fds[fd].events = events;
}

void
loop_del_fd(struct loop *l, int fd)
{
	if (fd >= 0 && (size_t)fd < l->n_fds && l->fds[fd].used) {
		l->fds[fd].used = 0;
		l->fds[fd].gen++;
	}
}

int
loop_add_timer(struct loop *l, long ms, loop_fn *fn, void *arg)
{
	struct timer *t;

	l->timers = xgrow(l->timers, &l->cap_timers, l->n_timers + 1,
	                  sizeof(*l->timers));
	t = &l->timers[l->n_timers++];
	if (++l->next_timer_id <= 0)
		l->next_timer_id = 1;
	t->id = l->next_timer_id;
	t->due = loop_now_ms() + ms;
	t->fn = fn;
	t->arg = arg;
	return t->id;
}

void
loop_del_timer(struct loop *l, int id)
{
	size_t i;

	for (i = 0; i < l->n_timers; i++)
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->n_timers];
			return;
		}
}

static void
on_signal(struct loop *l, int fd, short revents, void *arg)
{
	struct signalfd_siginfo si;
	int i;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		for (i = 0; i < l->n_sigs; i++)
			if ((unsigned)l->sigs[i].signo == si.ssi_signo)
				l->sigs[i].fn(l, (int)si.ssi_signo,
				              l->sigs[i].arg);
}

int
loop_add_signal(struct loop *l, int signo, loop_signal_fn *fn, void *arg)
{
	int fd;

	if (l->n_sigs >= LOOP_MAX_SIGNALS)
		return error("loop: too many signals");
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return error("loop: sigprocmask: %s", strerror(errno));
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return error("loop: signalfd: %s", strerror(errno));
	if (l->sigfd < 0) {
		l->sigfd = fd;
		if (loop_add_fd(l, fd, POLLIN, on_signal, NULL) < 0)
			return -1;
	}
	l->sigs[l->n_sigs].signo = signo;
	l->sigs[l->n_sigs].fn = fn;
	l->sigs[l->n_sigs].arg = arg;
	l->n_sigs++;
	return 0;
}

int
loop_add_after(struct loop *l, loop_fn *fn, void *arg)
{
	l->after =
	    xgrow(l->after, &l->cap_after, l->n_after + 1, sizeof(*l->after));
	l->after[l->n_after].fn = fn;
	l->after[l->n_after].arg = arg;
	l->n_after++;
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

/* Run the timers that are due; returns how many ran. */
static int
run_timers(struct loop *l)
{
	long long now = loop_now_ms();
	size_t i;
	int ran = 0;

	for (i = 0; i < l->n_timers;) {
		if (l->timers[i].due <= now) {
			struct timer t = l->timers[i];

			/* Remove first: the callback may add timers. */
			l->timers[i] = l->timers[--l->n_timers];
			t.fn(l, t.arg);
			ran++;
			now = loop_now_ms();
			i = 0;
			continue;
		}
		i++;
	}
	return ran;
}

/* ms until the next timer (0 if one is due), or -1 if there is none. */
static int
next_timeout(struct loop *l)
{
	long long now = loop_now_ms(), next = -1;
	size_t i;

	for (i = 0; i < l->n_timers; i++)
		if (next < 0 || l->timers[i].due - now < next)
			next = l->timers[i].due - now;
	if (next < 0 && l->n_timers)
		next = 0;
	if (next > 60000)
		next = 60000;
	return (int)next;
}

static void
run_afters(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->n_after; i++)
		l->after[i].fn(l, l->after[i].arg);
}

int
loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop) {
		size_t n = 0, i;
		int timeout, r;

		/* Timers are callbacks too: what they leave for the after
		 * hooks (a new queue row, say) must not wait for poll(). */
		if (run_timers(l) > 0 && !l->stop)
			run_afters(l);
		if (l->stop)
			break;
		timeout = next_timeout(l);
		for (i = 0; i < l->n_fds; i++) {
			if (!l->fds[i].used)
				continue;
			if (n + 1 > l->cap_pfd) {
				size_t cap = l->cap_pfd;

				l->pfd =
				    xgrow(l->pfd, &cap, n + 1, sizeof(*l->pfd));
				l->pgen = xgrow(l->pgen, &l->cap_pfd, n + 1,
				                sizeof(*l->pgen));
			}
			l->pfd[n].fd = (int)i;
			l->pfd[n].events = l->fds[i].events;
			l->pfd[n].revents = 0;
			l->pgen[n] = l->fds[i].gen;
			n++;
		}
		r = poll(l->pfd, n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return error("loop: poll: %s", strerror(errno));
		}
		for (i = 0; i < n && r > 0 && !l->stop; i++) {
			int fd = l->pfd[i].fd;
			struct fd_entry *e;

			if (!l->pfd[i].revents)
				continue;
			r--;
			e = &l->fds[fd];
			/* Removed (and maybe reused) by an earlier callback. */
			if (!e->used || e->gen != l->pgen[i])
				continue;
			e->fn(l, fd, l->pfd[i].revents, e->arg);
		}
		run_afters(l);
	}
	return 0;
}
