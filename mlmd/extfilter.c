/*
 * extfilter.c - the external filter stage (extfilter.h): the first child
 * process of the daemon.
 *
 * Owns one run of one program: its pipes, its process (group) and the
 * reading of what it said.  Who calls it: the post path (post.c), once
 * per post for a list that has a filter configured; mlmd-inject's tests.
 *
 * Invariants:
 *  - Bounded time: everything the parent does with the child is poll()ed
 *    against one deadline on CLOCK_MONOTONIC; at the deadline the process
 *    group gets SIGKILL, and the only wait that is not bounded is the
 *    waitpid() for a process that has been sent SIGKILL.
 *  - Bounded memory: stdout is kept up to max_output bytes (more kills
 *    the program and is a failure), stderr up to one short line (the
 *    rest is read and dropped, so that a chatty program cannot block on
 *    it), the added fields to EXTFILTER_MAX_FIELDS / _MAX_ADDED.
 *  - No leaks: every pipe is O_CLOEXEC in the parent (another thread's
 *    fork cannot inherit it) and closed before returning; the child is
 *    reaped on every path.  Group members the program left behind when
 *    it exited are killed before the child is reaped, while its zombie
 *    still pins the process group id (so the kill cannot reach a
 *    process that reused the id).
 *  - Between fork() and execve() the child calls only async-signal-safe
 *    functions: the daemon may have threads (libmicrohttpd), and a lock
 *    held by one of them at fork time would never be released.
 *    Everything it needs (environment, the fd limit) is prepared before
 *    the fork.
 *  - The program's output never replaces the message: in HEADERS mode
 *    only the header fields it added are taken, and each is checked.
 *
 * Errors: nothing is fatal and nothing is logged here; the result says
 * what happened (status, exit_code, a one-line why) and the caller logs.
 * -1 is returned only when no child could be started.  Out of memory
 * aborts (xmalloc).
 *
 * Standards: RFC 5322 section 2.2 (header fields: the field name is
 * printable US-ASCII except ':', folding is CRLF followed by WSP), RFC
 * 6532 (UTF-8 in header values).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "extfilter.h"
#include "util.h"

#define CHUNK          65536 /* bytes per read() / write() */
#define ERRLINE_MAX    160   /* bytes of the program's stderr kept */
#define FIELD_NAME_MAX 128

/* ----- the child -------------------------------------------------------- */

struct child_setup {
	const char *const *argv;
	char *const *envp;
	int fds[3]; /* become 0, 1, 2 */
	int exec_w; /* O_CLOEXEC: a byte here means execve() failed */
	long maxfd; /* for the close() loop without close_range() */
};

static void
child_fail(int exec_w)
{
	int e = errno;
	ssize_t n;

	/* A failed write only loses the reason: the exit status says 127. */
	n = write(exec_w, &e, sizeof(e));
	(void)n;
	_exit(127);
}

/*
 * In the child, after fork(): async-signal-safe calls only.  Never
 * returns.
 */
static void child_exec(struct child_setup *c) __attribute__((noreturn));

static void
child_exec(struct child_setup *c)
{
	struct sigaction sa;
	sigset_t none;
	long fd;
	int i, sig;

	/* Its own process group, so that a timeout kills what it started
	 * too.  The parent makes the same call (whichever runs first). */
	(void)setpgid(0, 0);

	/* Get the pipe ends out of 0..2 before dup2() onto 0..2 (if the
	 * daemon had closed stdin, a pipe end may have landed there; and
	 * dup2(fd, fd) would leave O_CLOEXEC set on it). */
	for (i = 0; i < 3; i++)
		if (c->fds[i] < 3 &&
		    (c->fds[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			child_fail(c->exec_w);
	if (c->exec_w < 3) {
		int w = fcntl(c->exec_w, F_DUPFD_CLOEXEC, 3);

		if (w < 0)
			_exit(127);
		c->exec_w = w;
	}
	for (i = 0; i < 3; i++)
		if (dup2(c->fds[i], i) < 0)
			child_fail(c->exec_w);

	/* Every other descriptor: the daemon's sockets, database, spool
	 * files must not reach the program, whether they have O_CLOEXEC
	 * or not.  exec_w stays until execve() (it has O_CLOEXEC). */
	fd = 3;
#ifdef SYS_close_range
	if ((c->exec_w == 3 ||
	     syscall(SYS_close_range, 3, c->exec_w - 1, 0) == 0) &&
	    syscall(SYS_close_range, c->exec_w + 1, ~0U, 0) == 0)
		fd = c->maxfd;
#endif
	for (; fd < c->maxfd; fd++)
		if (fd != c->exec_w)
			(void)close((int)fd);

	/* Dispositions: handlers are reset by execve() anyway, but SIG_IGN
	 * (SIGPIPE in the daemon) would be inherited.  The daemon blocks
	 * the signals its signalfd reads; the mask, too, is inherited. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	/* XXX sigaction() refuses SIGKILL, SIGSTOP and glibc's own 32 and
	 * 33 (cancellation, setxid), so those two keep what the daemon
	 * inherited; no ordinary program uses them. */
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	execve(c->argv[0], (char *const *)c->argv, c->envp);
	child_fail(c->exec_w);
	_exit(127); /* not reached */
}

/* ----- the parent ------------------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* The state of one run in the parent. */
struct run {
	int in_w, out_r, err_r, exec_r; /* -1 once closed */
	const char *raw;
	size_t len, off; /* bytes of raw written so far */
	struct buf out;  /* stdout, capped at max_output */
	int too_big;     /* stdout passed max_output */
	int timed_out;
	int exec_errno; /* execve() (or the set-up before it) failed */
	char errline[ERRLINE_MAX];
	size_t errlen;
	int errdone; /* the first stderr line is complete */
};

static void
feed(struct run *r)
{
	size_t n = r->len - r->off;
	ssize_t w;

	if (n > CHUNK)
		n = CHUNK;
	w = write(r->in_w, r->raw + r->off, n);
	if (w < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* EPIPE: the program does not want the rest (spamc -c may
		 * stop early, `exit N` never reads).  Its exit status and
		 * output tell whether that is a failure. */
		close_fd(&r->in_w);
		return;
	}
	r->off += (size_t)w;
	if (r->off == r->len)
		close_fd(&r->in_w); /* EOF for the program */
}

static void
drain_out(struct run *r)
{
	char chunk[CHUNK];
	ssize_t n = read(r->out_r, chunk, sizeof(chunk));

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		close_fd(&r->out_r);
		return;
	}
	if (n == 0) {
		close_fd(&r->out_r);
		return;
	}
	if (buf_add(&r->out, chunk, (size_t)n) < 0)
		r->too_big = 1;
}

static void
drain_err(struct run *r)
{
	char chunk[4096];
	ssize_t n = read(r->err_r, chunk, sizeof(chunk));
	ssize_t i;

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		close_fd(&r->err_r);
		return;
	}
	if (n == 0) {
		close_fd(&r->err_r);
		return;
	}
	for (i = 0; i < n && !r->errdone; i++) {
		unsigned char c = (unsigned char)chunk[i];

		if (c == '\n') {
			r->errdone = r->errlen > 0;
			continue;
		}
		if (r->errlen + 1 >= sizeof(r->errline)) {
			r->errdone = 1;
			break;
		}
		/* It goes into a log line: nothing that could forge one. */
		r->errline[r->errlen++] = c < ' ' || c == 0x7f ? '?' : (char)c;
	}
	r->errline[r->errlen] = '\0';
}

static void
read_exec(struct run *r)
{
	int e;
	ssize_t n = read(r->exec_r, &e, sizeof(e));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == (ssize_t)sizeof(e))
		r->exec_errno = e ? e : EINVAL;
	close_fd(&r->exec_r);
}

/*
 * Talk to the child until its pipes are closed, its output is too big or
 * the deadline passes.  0, or -1 if poll() itself failed.
 */
static int
pump(struct run *r, long long deadline)
{
	struct pollfd pf[4];
	int *fds[4] = {&r->in_w, &r->out_r, &r->err_r, &r->exec_r};
	int idx[4];
	nfds_t k;
	int i, n;

	while (r->in_w >= 0 || r->out_r >= 0 || r->err_r >= 0 ||
	       r->exec_r >= 0) {
		long long left = deadline - now_ms();

		if (r->too_big)
			return 0;
		if (left <= 0) {
			r->timed_out = 1;
			return 0;
		}
		for (i = 0, k = 0; i < 4; i++) {
			if (*fds[i] < 0)
				continue;
			pf[k].fd = *fds[i];
			pf[k].events = i == 0 ? POLLOUT : POLLIN;
			pf[k].revents = 0;
			idx[k++] = i;
		}
		n = poll(pf, k, left > 60000 ? 60000 : (int)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < (int)k; i++) {
			if (!pf[i].revents)
				continue;
			switch (idx[i]) {
			case 0:
				feed(r);
				break;
			case 1:
				drain_out(r);
				break;
			case 2:
				drain_err(r);
				break;
			case 3:
				read_exec(r);
				break;
			}
		}
	}
	return 0;
}

/* SIGKILL to the child's process group, and to the child in case it has
 * not reached its setpgid() yet. */
static void
kill_all(pid_t pid)
{
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
}

/* Reap pid, retrying EINTR.  0 with *status, -1 (ECHILD: SIGCHLD is
 * ignored, or someone else reaped it). */
static int
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * The pipes are closed: wait for the child to exit, until the deadline.
 * Returns 1 once it has exited (not yet reaped: WNOWAIT), 0 at the
 * deadline, -1 if it cannot be waited for.
 */
static int
wait_exit(pid_t pid, long long deadline)
{
	siginfo_t si;
	int nap = 1;

	for (;;) {
		long long left;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) <
		    0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == pid)
			return 1;
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		/* Usually it exits as it closes stdout: a few naps. */
		(void)poll(NULL, 0, nap < left ? nap : (int)left);
		if (nap < 50)
			nap *= 2;
	}
}

/* ----- the added header fields ------------------------------------------ */

struct field {
	const char *p;
	size_t n; /* without the final line end */
	int used;
};

/*
 * A copy of the header block of p[0..n) with every CRLF made LF (so that
 * a program that changes line ends does not make every field "added"),
 * and whether the block ended with an empty line.  The copy keeps the
 * last field's LF.
 */
static void
header_block(const char *p, size_t n, struct buf *hb, int *has_sep)
{
	size_t i, bol = 0;

	*has_sep = 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (p[i] == '\n') {
			/* an empty line (or just "\r") ends the header */
			if (i == bol || (i == bol + 1 && p[bol] == '\r')) {
				*has_sep = 1;
				return;
			}
			bol = i + 1;
		}
		buf_addc(hb, p[i]);
	}
}

/* Split a header block (LF line ends) into fields with their folded
 * continuation lines; *nf of them in a new array. */
static struct field *
split_fields(const char *p, size_t n, size_t *nf)
{
	struct field *f = NULL;
	size_t cap = 0, i = 0, k = 0;

	while (i < n) {
		size_t start = i;

		/* a field runs to an LF not followed by SP or HT */
		for (;;) {
			const char *lf = memchr(p + i, '\n', n - i);

			if (!lf) {
				i = n;
				break;
			}
			i = (size_t)(lf - p) + 1;
			if (i >= n || (p[i] != ' ' && p[i] != '\t'))
				break;
		}
		f = xgrow(f, &cap, k + 1, sizeof(*f));
		f[k].p = p + start;
		f[k].n = i - start;
		if (f[k].n && p[start + f[k].n - 1] == '\n')
			f[k].n--;
		f[k].used = 0;
		k++;
	}
	*nf = k;
	return f;
}

static int
field_cmp(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* An unused input field equal to f, marked used; 0 if none (in is sorted). */
static int
take_match(struct field *in, size_t nin, const struct field *f)
{
	size_t lo = 0, hi = nin;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (field_cmp(&in[mid], f) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nin && field_cmp(&in[lo], f) == 0; lo++)
		if (!in[lo].used) {
			in[lo].used = 1;
			return 1;
		}
	return 0;
}

/* 1 if f is a field we are willing to hand to the rules (RFC 5322 2.2,
 * RFC 6532: UTF-8 values, no control characters except folding). */
static int
field_ok(const struct field *f)
{
	const unsigned char *p = (const unsigned char *)f->p;
	size_t i, name;

	for (name = 0; name < f->n && p[name] != ':'; name++)
		if (p[name] < 33 || p[name] > 126)
			return 0;
	if (name == 0 || name == f->n || name > FIELD_NAME_MAX)
		return 0;
	for (i = name + 1; i < f->n; i++) {
		if (p[i] == '\n') {
			/* split_fields() only folds before SP or HT */
			continue;
		}
		if ((p[i] < ' ' && p[i] != '\t') || p[i] == 0x7f)
			return 0;
	}
	return utf8_valid(f->p, f->n);
}

/*
 * The fields in out's header block that are not in in's, checked, into
 * added.  0, or -1 with why.
 */
static int
added_fields(const char *in, size_t inlen, const char *out, size_t outlen,
             struct buf *added, char *why, size_t whysz)
{
	struct buf hin = BUF_INIT, hout = BUF_INIT;
	struct field *fin, *fout;
	size_t nin, nout, i, nadded = 0;
	int in_sep, out_sep, rc = 0;

	if (outlen == 0) {
		snprintf(why, whysz, "no output");
		return -1;
	}
	header_block(in, inlen, &hin, &in_sep);
	header_block(out, outlen, &hout, &out_sep);
	if (in_sep && !out_sep) {
		snprintf(why, whysz, "no header block in the output");
		buf_free(&hin);
		buf_free(&hout);
		return -1;
	}
	fin = split_fields(hin.s, hin.len, &nin);
	fout = split_fields(hout.s, hout.len, &nout);
	/* Sorted, so that a hostile message with a thousand fields costs
	 * n log n, not n squared.  A multiset: a field the program repeats
	 * matches only as many copies as the input had. */
	if (nin > 1)
		qsort(fin, nin, sizeof(*fin), field_cmp);
	buf_init(added, EXTFILTER_MAX_ADDED);
	for (i = 0; i < nout; i++) {
		if (take_match(fin, nin, &fout[i]))
			continue;
		if (!field_ok(&fout[i])) {
			snprintf(why, whysz,
			         "invalid header field in the "
			         "output (field %zu)",
			         i + 1);
			rc = -1;
			break;
		}
		if (++nadded > EXTFILTER_MAX_FIELDS) {
			snprintf(why, whysz, "more than %d header fields added",
			         EXTFILTER_MAX_FIELDS);
			rc = -1;
			break;
		}
		if (buf_add(added, fout[i].p, fout[i].n) < 0 ||
		    buf_addc(added, '\n') < 0) {
			snprintf(why, whysz,
			         "more than %d bytes of header "
			         "fields added",
			         EXTFILTER_MAX_ADDED);
			rc = -1;
			break;
		}
	}
	if (rc < 0)
		buf_free(added);
	free(fin);
	free(fout);
	buf_free(&hin);
	buf_free(&hout);
	return rc;
}

/* ----- the run ---------------------------------------------------------- */

/* why = "<what>" + ": <first line of stderr>" when there is one. */
static void
set_why(struct extfilter_result *res, const struct run *r, const char *what)
{
	size_t n = strlcpy_(res->why, what, sizeof(res->why));

	/* a long why loses the end of the stderr line, no more */
	if (r && r->errlen && n < sizeof(res->why))
		snprintf(res->why + n, sizeof(res->why) - n, " (stderr: %s)",
		         r->errline);
}

static int
start_failed(struct extfilter_result *res, const char *what, int e)
{
	snprintf(res->why, sizeof(res->why), "%s: %s", what, strerror(e));
	res->status = EXTFILTER_FAILED;
	return -1;
}

int
extfilter_run(const struct extfilter_opts *o, const char *raw, size_t len,
              struct extfilter_result *res)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8",
	                             NULL};
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int ex[2] = {-1, -1};
	struct child_setup cs;
	struct run r;
	long long deadline;
	long timeout;
	size_t max_out;
	char what[200];
	const char *prog;
	pid_t pid;
	int status = 0, e, exited;

	memset(res, 0, sizeof(*res));
	res->added = (struct buf)BUF_INIT;
	res->exit_code = -1;
	res->status = EXTFILTER_FAILED;
	if (!o || !o->argv || !o->argv[0] || o->argv[0][0] != '/') {
		snprintf(res->why, sizeof(res->why),
		         "filter program must be an absolute path");
		return -1;
	}
	if (o->mode != EXTFILTER_HEADERS && o->mode != EXTFILTER_VERDICT) {
		snprintf(res->why, sizeof(res->why), "bad filter mode %d",
		         o->mode);
		return -1;
	}
	prog = o->argv[0];
	timeout = o->timeout_ms > 0 ? o->timeout_ms : EXTFILTER_TIMEOUT_MS;
	max_out = o->max_output;
	if (max_out == 0)
		max_out = len > (size_t)-1 - EXTFILTER_SLACK
		              ? (size_t)-1
		              : len + EXTFILTER_SLACK;
	deadline = now_ms() + timeout;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		e = errno;
		goto fail_pipes;
	}
	if (set_nonblock(in[1]) < 0 || set_nonblock(out[0]) < 0 ||
	    set_nonblock(err[0]) < 0 || set_nonblock(ex[0]) < 0) {
		e = errno;
		goto fail_pipes;
	}

	memset(&cs, 0, sizeof(cs));
	cs.argv = o->argv;
	cs.envp = envp;
	cs.fds[0] = in[0];
	cs.fds[1] = out[1];
	cs.fds[2] = err[1];
	cs.exec_w = ex[1];
	cs.maxfd = sysconf(_SC_OPEN_MAX);
	if (cs.maxfd < 0 || cs.maxfd > 65536)
		cs.maxfd = 65536; /* only without close_range() */

	pid = fork();
	if (pid < 0) {
		e = errno;
		goto fail_pipes;
	}
	if (pid == 0)
		child_exec(&cs);
	/* The same as the child's setpgid(0, 0), so that kill(-pid) works
	 * whoever runs first; EACCES once it has exec'ed: fine. */
	(void)setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(ex[1]);

	memset(&r, 0, sizeof(r));
	r.in_w = in[1];
	r.out_r = out[0];
	r.err_r = err[0];
	r.exec_r = ex[0];
	r.raw = raw;
	r.len = len;
	buf_init(&r.out, max_out);
	if (len == 0)
		close_fd(&r.in_w);

	if (pump(&r, deadline) < 0) {
		/* poll() failed: cannot watch it, so stop it */
		kill_all(pid);
		exited = -1;
	} else if (r.timed_out || r.too_big) {
		kill_all(pid);
		exited = -1;
	} else {
		exited = wait_exit(pid, deadline);
		if (exited == 0)
			r.timed_out = 1;
		/* Also the members of its group it left behind: its
		 * zombie, not yet reaped, keeps the group id ours. */
		kill_all(pid);
	}
	close_fd(&r.in_w);
	close_fd(&r.out_r);
	close_fd(&r.err_r);
	close_fd(&r.exec_r);
	if (reap(pid, &status) < 0) {
		snprintf(what, sizeof(what), "%s: waitpid: %s", prog,
		         strerror(errno));
		set_why(res, &r, what);
		buf_free(&r.out);
		return 0;
	}

	if (r.exec_errno) {
		snprintf(what, sizeof(what), "cannot execute %s: %s", prog,
		         strerror(r.exec_errno));
		set_why(res, &r, what);
		res->exit_code = 127;
	} else if (r.timed_out) {
		res->status = EXTFILTER_TIMEOUT;
		snprintf(what, sizeof(what), "%s timed out after %ld ms", prog,
		         timeout);
		set_why(res, &r, what);
	} else if (r.too_big) {
		snprintf(what, sizeof(what), "%s wrote more than %zu bytes",
		         prog, max_out);
		set_why(res, &r, what);
	} else if (exited < 0) {
		snprintf(what, sizeof(what), "%s: cannot watch the program",
		         prog);
		set_why(res, &r, what);
	} else if (WIFSIGNALED(status)) {
		snprintf(what, sizeof(what), "%s killed by signal %d", prog,
		         WTERMSIG(status));
		set_why(res, &r, what);
	} else {
		res->exit_code = WEXITSTATUS(status);
		if (o->mode == EXTFILTER_VERDICT && res->exit_code <= 1) {
			res->status =
			    res->exit_code ? EXTFILTER_SPAM : EXTFILTER_OK;
		} else if (res->exit_code != 0) {
			snprintf(what, sizeof(what), "%s exited with %d", prog,
			         res->exit_code);
			set_why(res, &r, what);
		} else {
			char pwhy[160];

			if (added_fields(raw, len, r.out.s, r.out.len,
			                 &res->added, pwhy, sizeof(pwhy)) < 0) {
				snprintf(what, sizeof(what), "%s: %s", prog,
				         pwhy);
				set_why(res, &r, what);
			} else {
				res->status = EXTFILTER_OK;
			}
		}
	}
	buf_free(&r.out);
	return 0;

fail_pipes:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	snprintf(what, sizeof(what), "%s: cannot start", prog);
	return start_failed(res, what, e);
}
