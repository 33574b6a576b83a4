/*
 * lmtp_server.c - the LMTP listeners and sessions on the event loop: the
 * network half of intake; the protocol is mlmd/lmtp.c.
 *
 * Owns the listening sockets (unix and TCP, from conf->lmtp), one struct
 * session per connection, and the group commit batch.  Invariants:
 *  - a "250" after DATA is sent only after spool_commit() made the message
 *    durable in spool/incoming (RFC 2033 4.2: one reply per recipient);
 *  - the messages whose DATA completes in one loop iteration are written
 *    to spool/tmp by the message callback and committed together by the
 *    loop's "after" hook: one flush for all of them (group commit);
 *  - a session with a message in the batch is never freed before the
 *    batch is committed;
 *  - at most lmtp_max_sessions sessions; more get 421 4.3.2 at connect;
 *    idle and total session time limits answer 421 4.4.2 and close.
 *
 * Called by daemon.c.  Socket errors end the session concerned; spool
 * errors answer 451 4.3.0; nothing here is fatal.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "lmtp.h"
#include "log.h"
#include "loop.h"
#include "mlmd.h"
#include "spool.h"
#include "util.h"

#define READ_CHUNK         16384
#define ACCEPTS_PER_WAKEUP 256
#define MAX_LISTENERS      8
/* Above the session limit: a burst of connects must queue, not fail
 * (a unix socket refuses connect() with EAGAIN when the queue is full). */
#define LISTEN_BACKLOG 4096

struct session {
	struct lmtp_server *srv;
	struct lmtp *lmtp;
	int fd;
	long long started, last; /* loop_now_ms() */
	int pending;             /* a message of ours is in the batch */
	char peer[64];
};

struct pending {
	struct session *s;
	struct spool_tmp tmp;
	size_t *idx; /* recipients of the session that are in the file */
	size_t n_idx;
	size_t size;
};

struct listener {
	int fd;
	char *path; /* unix socket path to unlink at exit, or NULL */
	char name[128];
};

struct lmtp_server {
	struct mlmd *m;
	struct listener ls[MAX_LISTENERS];
	int n_ls;
	struct session **sess;
	size_t n_sess, cap_sess;
	struct pending *batch;
	size_t n_batch, cap_batch;
	int tick; /* timer id of the timeout check */
	int shutdown;
};

static void session_update(struct session *s);

/* ---- listeners ---------------------------------------------------------- */

/* Does something accept connections on this unix socket? */
static int
socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	       errno == EAGAIN;
	close(fd);
	return live;
}

static int
open_unix(struct listener *l, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy_(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return error("lmtp: socket path too long: %s", path);
	/*
	 * A socket left by an earlier run is replaced; one that answers
	 * belongs to a running daemon and is left alone.
	 */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return error("lmtp: %s exists and is no socket", path);
		if (socket_live(&sun))
			return error("lmtp: %s is in use by another process",
			             path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error("lmtp: socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return error("lmtp: cannot bind %s: %s", path, strerror(errno));
	}
	/*
	 * 0666: Postfix's lmtp client runs as user postfix; who may connect
	 * is decided by the permissions of the socket's directory.
	 */
	if (chmod(path, 0666) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		error("lmtp: %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	l->fd = fd;
	l->path = xstrdup(path);
	snprintf(l->name, sizeof(l->name), "unix:%s", path);
	return 0;
}

static int
open_inet(struct listener *l, const char *spec)
{
	struct addrinfo hints, *ai = NULL;
	char host[128];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hn;
	int fd, one = 1, r;

	if (!colon || colon == spec || !colon[1])
		return error("lmtp: '%s' is not HOST:PORT", spec);
	hn = (size_t)(colon - spec);
	if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
		h++;
		hn -= 2;
	}
	if (hn >= sizeof(host))
		return error("lmtp: host too long in '%s'", spec);
	memcpy(host, h, hn);
	host[hn] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r != 0)
		return error("lmtp: '%s': %s", spec, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return error("lmtp: socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		error("lmtp: cannot listen on %s: %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	l->fd = fd;
	l->path = NULL;
	snprintf(l->name, sizeof(l->name), "%s", spec);
	return 0;
}

struct lmtp_server *
lmtp_server_open(struct mlmd *m)
{
	struct lmtp_server *srv = xcalloc(1, sizeof(*srv));
	const char *p = m->conf->lmtp ? m->conf->lmtp : "";

	srv->m = m;
	while (*p) {
		size_t n = strcspn(p, ",");
		char *spec;
		int r;

		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		spec = xstrndup(p, n);
		while (n && (spec[n - 1] == ' ' || spec[n - 1] == '\t'))
			spec[--n] = '\0';
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
		if (!*spec) {
			free(spec);
			continue;
		}
		if (srv->n_ls >= MAX_LISTENERS) {
			free(spec);
			error("lmtp: more than %d listeners", MAX_LISTENERS);
			lmtp_server_free(srv);
			return NULL;
		}
		if (strncmp(spec, "unix:", 5) == 0)
			r = open_unix(&srv->ls[srv->n_ls], spec + 5);
		else
			r = open_inet(&srv->ls[srv->n_ls], spec);
		free(spec);
		if (r < 0) {
			lmtp_server_free(srv);
			return NULL;
		}
		log_info("lmtp: listening on %s", srv->ls[srv->n_ls].name);
		srv->n_ls++;
	}
	if (srv->n_ls == 0) {
		error("lmtp: no listener configured (lmtp = ...)");
		lmtp_server_free(srv);
		return NULL;
	}
	return srv;
}

/* ---- sessions ----------------------------------------------------------- */

static void
session_free(struct session *s)
{
	struct lmtp_server *srv = s->srv;
	size_t i;

	loop_del_fd(srv->m->loop, s->fd);
	close(s->fd);
	lmtp_free(s->lmtp);
	for (i = 0; i < srv->n_sess; i++)
		if (srv->sess[i] == s) {
			srv->sess[i] = srv->sess[--srv->n_sess];
			break;
		}
	free(s);
}

/* Send what can be sent now; -1 if the peer is gone. */
static int
session_flush(struct session *s)
{
	for (;;) {
		size_t n;
		const char *o = lmtp_output(s->lmtp, &n);
		ssize_t w;

		if (n == 0)
			return 0;
		w = send(s->fd, o, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		lmtp_consume(s->lmtp, (size_t)w);
	}
}

/* Decide what to wait for; free the session when it is over. */
static void
session_update(struct session *s)
{
	size_t out;
	short ev = 0;

	if (s->pending)
		return; /* the batch commit calls us again */
	if (session_flush(s) < 0) {
		/* The peer is gone: nothing it was not told about is kept. */
		lmtp_eof(s->lmtp);
		if (!s->pending) {
			session_free(s);
			return;
		}
	}
	lmtp_output(s->lmtp, &out);
	if (lmtp_closing(s->lmtp) && out == 0) {
		session_free(s);
		return;
	}
	if (out)
		ev |= POLLOUT;
	if (!lmtp_closing(s->lmtp) && !lmtp_waiting(s->lmtp) &&
	    !lmtp_input_full(s->lmtp) && out < 65536)
		ev |= POLLIN;
	loop_set_events(s->srv->m->loop, s->fd, ev);
}

static void
on_session(struct loop *l, int fd, short revents, void *arg)
{
	struct session *s = arg;
	char chunk[READ_CHUNK];

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t r = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);

		if (r > 0) {
			s->last = loop_now_ms();
			lmtp_feed(s->lmtp, chunk, (size_t)r);
		} else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		                      errno != EINTR)) {
			lmtp_eof(s->lmtp);
		}
	}
	session_update(s);
}

static enum lmtp_rcpt_status
cb_rcpt(void *arg, const char *addr)
{
	struct session *s = arg;
	struct route r;

	return addr_route(s->srv->m->conf, addr, &r) == 0 ? LMTP_RCPT_OK
	                                                  : LMTP_RCPT_UNKNOWN;
}

/* The log line of a message refused as a whole (size, lines, NUL). */
static void
cb_refused(void *arg, struct lmtp *l, const char *reply)
{
	struct session *s = arg;

	log_info("-: from=<%s> rcpts=%zu size=%zu via=lmtp peer=%s "
	         "status=refused (%s)",
	         lmtp_sender(l), lmtp_rcpt_count(l), lmtp_data_size(l), s->peer,
	         reply);
}

/*
 * DATA is complete: write the file for the recipients whose list takes a
 * message this big, and queue it for the group commit.
 */
static enum lmtp_msg_status
cb_message(void *arg, struct lmtp *l)
{
	struct session *s = arg;
	struct lmtp_server *srv = s->srv;
	struct spool_env env;
	struct pending *p;
	size_t len, i, n = lmtp_rcpt_count(l);
	const char *body = lmtp_body(l, &len);
	size_t *idx = xcalloc(n, sizeof(*idx));
	char **rcpts = xcalloc(n, sizeof(*rcpts));
	size_t k = 0;

	for (i = 0; i < n; i++) {
		struct route r;
		const char *a = lmtp_rcpt(l, i);

		if (addr_route(srv->m->conf, a, &r) < 0) {
			/* The list went away in a reload since RCPT. */
			lmtp_set_reply(l, i, "550 5.1.1 no such list address");
			continue;
		}
		if (r.list && r.list->max_size && len > r.list->max_size) {
			lmtp_set_reply(l, i,
			               "552 5.3.4 message exceeds the "
			               "size limit of this list");
			log_info("-: from=<%s> to=<%s> size=%zu via=lmtp "
			         "peer=%s status=refused (over max_size of "
			         "list %s)",
			         lmtp_sender(l), a, len, s->peer, r.list->name);
			continue;
		}
		idx[k] = i;
		rcpts[k++] = (char *)a;
	}
	if (k == 0) {
		free(idx);
		free(rcpts);
		return LMTP_DONE;
	}
	memset(&env, 0, sizeof(env));
	env.sender = (char *)lmtp_sender(l);
	env.rcpts = rcpts;
	env.n_rcpts = k;
	env.received = time(NULL);
	strlcpy_(env.via, "lmtp", sizeof(env.via));
	srv->batch = xgrow(srv->batch, &srv->cap_batch, srv->n_batch + 1,
	                   sizeof(*srv->batch));
	p = &srv->batch[srv->n_batch];
	if (spool_write(srv->m->spool, &env, body, len, &p->tmp) < 0) {
		for (i = 0; i < k; i++)
			lmtp_set_reply(l, idx[i],
			               "451 4.3.0 cannot write the "
			               "spool, try again later");
		free(idx);
		free(rcpts);
		return LMTP_DONE;
	}
	free(rcpts);
	p->s = s;
	p->idx = idx;
	p->n_idx = k;
	p->size = len;
	srv->n_batch++;
	s->pending = 1;
	return LMTP_WAIT;
}

static void
no_op(struct loop *l, void *arg)
{
}

/* The loop's "after" hook: one flush for every message of the iteration. */
static void
commit_batch(struct loop *l, void *arg)
{
	struct lmtp_server *srv = arg;
	struct spool_tmp *tmps;
	struct pending *batch;
	size_t i, j, n = srv->n_batch;
	int rc;

	if (n == 0)
		return;
	/*
	 * Take the batch: resuming a session may complete its next
	 * (pipelined) message at once, which starts the next batch.
	 */
	batch = srv->batch;
	srv->batch = NULL;
	srv->n_batch = srv->cap_batch = 0;
	tmps = xcalloc(n, sizeof(*tmps));
	for (i = 0; i < n; i++)
		tmps[i] = batch[i].tmp;
	rc = spool_commit(srv->m->spool, tmps, n);
	for (i = 0; i < n; i++) {
		struct pending *p = &batch[i];
		struct lmtp *lm = p->s->lmtp;
		struct buf line = BUF_INIT, to = BUF_INIT;

		buf_init(&to, 4096);
		for (j = 0; j < p->n_idx; j++) {
			if (j)
				buf_addc(&to, ',');
			if (buf_printf(&to, "<%s>", lmtp_rcpt(lm, p->idx[j])) <
			    0) {
				buf_adds(&to, ",...");
				break;
			}
		}
		if (rc == 0)
			buf_printf(&line, "250 2.0.0 Ok: queued as %s",
			           tmps[i].id);
		else
			buf_adds(&line, "451 4.3.0 cannot store the message, "
			                "try again later");
		for (j = 0; j < p->n_idx; j++)
			lmtp_set_reply(lm, p->idx[j], buf_str(&line));
		log_info("%s: from=<%s> to=%s size=%zu via=lmtp peer=%s "
		         "status=%s",
		         tmps[i].id, lmtp_sender(lm), buf_str(&to), p->size,
		         p->s->peer, rc == 0 ? "queued" : "tempfail");
		buf_free(&line);
		buf_free(&to);
		free(p->idx);
		p->s->pending = 0;
		lmtp_resume(lm);
		session_update(p->s);
	}
	free(tmps);
	free(batch);
	/* Messages completed meanwhile: make the loop come back at once. */
	if (srv->n_batch)
		loop_add_timer(l, 0, no_op, NULL);
}

static void
on_accept(struct loop *l, int fd, short revents, void *arg)
{
	struct lmtp_server *srv = arg;
	const struct conf *c = srv->m->conf;
	int i;

	for (i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		struct lmtp_limits lim;
		struct lmtp_callbacks cb;
		struct session *s;
		int cfd;

		cfd = accept4(fd, (struct sockaddr *)&sa, &salen,
		              SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("lmtp: accept: %s", strerror(errno));
			return;
		}
		if (srv->shutdown ||
		    srv->n_sess >= (size_t)(c->lmtp_max_sessions > 0
		                                ? c->lmtp_max_sessions
		                                : 500)) {
			static const char busy[] =
			    "421 4.3.2 too many sessions, try again "
			    "later\r\n";
			static const char down[] =
			    "421 4.3.2 service shutting down\r\n";
			const char *msg = srv->shutdown ? down : busy;

			if (send(cfd, msg, strlen(msg),
			         MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("lmtp: 421: %s", strerror(errno));
			close(cfd);
			continue;
		}
		s = xcalloc(1, sizeof(*s));
		s->srv = srv;
		s->fd = cfd;
		s->started = s->last = loop_now_ms();
		if (sa.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&sa;

			inet_ntop(AF_INET, &sin->sin_addr, s->peer,
			          sizeof(s->peer));
		} else if (sa.ss_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sa;

			inet_ntop(AF_INET6, &sin6->sin6_addr, s->peer,
			          sizeof(s->peer));
		} else {
			strlcpy_(s->peer, "unix", sizeof(s->peer));
		}
		memset(&lim, 0, sizeof(lim));
		lim.max_size = c->max_message_size;
		lim.max_rcpts = SPOOL_MAX_RCPTS;
		lim.hostname = c->domain;
		cb.rcpt = cb_rcpt;
		cb.message = cb_message;
		cb.refused = cb_refused;
		cb.arg = s;
		s->lmtp = lmtp_new(&lim, &cb);
		srv->sess = xgrow(srv->sess, &srv->cap_sess, srv->n_sess + 1,
		                  sizeof(*srv->sess));
		srv->sess[srv->n_sess++] = s;
		if (loop_add_fd(l, cfd, POLLOUT, on_session, s) < 0) {
			session_free(s);
			continue;
		}
		session_update(s);
	}
}

/* Once a second: idle and total session time limits. */
static void
on_tick(struct loop *l, void *arg)
{
	struct lmtp_server *srv = arg;
	const struct conf *c = srv->m->conf;
	long long now = loop_now_ms();
	long long idle =
	    (long long)(c->lmtp_idle_timeout > 0 ? c->lmtp_idle_timeout : 300) *
	    1000;
	long long total =
	    (long long)(c->lmtp_session_timeout > 0 ? c->lmtp_session_timeout
	                                            : 3600) *
	    1000;
	size_t i;

	srv->tick = loop_add_timer(l, 1000, on_tick, srv);
	/* Backwards: session_update() may remove the current session. */
	for (i = srv->n_sess; i-- > 0;) {
		struct session *s = srv->sess[i];

		if (s->pending || lmtp_closing(s->lmtp))
			continue;
		if (now - s->started >= total)
			lmtp_abort(s->lmtp, "421 4.4.2 session time limit "
			                    "reached, closing connection");
		else if (now - s->last >= idle)
			lmtp_abort(s->lmtp, "421 4.4.2 idle timeout, closing "
			                    "connection");
		else
			continue;
		log_info("lmtp: %s: session timed out", s->peer);
		session_update(s);
	}
}

int
lmtp_server_start(struct lmtp_server *srv)
{
	int i;

	for (i = 0; i < srv->n_ls; i++)
		if (loop_add_fd(srv->m->loop, srv->ls[i].fd, POLLIN, on_accept,
		                srv) < 0)
			return -1;
	loop_add_after(srv->m->loop, commit_batch, srv);
	srv->tick = loop_add_timer(srv->m->loop, 1000, on_tick, srv);
	return 0;
}

void
lmtp_server_shutdown(struct lmtp_server *srv)
{
	size_t i;

	srv->shutdown = 1;
	for (i = srv->n_sess; i-- > 0;) {
		struct session *s = srv->sess[i];

		lmtp_shutdown(s->lmtp);
		session_update(s);
	}
}

size_t
lmtp_server_sessions(const struct lmtp_server *srv)
{
	return srv->n_sess;
}

void
lmtp_server_free(struct lmtp_server *srv)
{
	int i;

	if (!srv)
		return;
	/* A batch cannot be pending here: the after hook ran. */
	while (srv->n_sess)
		session_free(srv->sess[srv->n_sess - 1]);
	for (i = 0; i < srv->n_ls; i++) {
		if (srv->m->loop)
			loop_del_fd(srv->m->loop, srv->ls[i].fd);
		close(srv->ls[i].fd);
		if (srv->ls[i].path) {
			unlink(srv->ls[i].path);
			free(srv->ls[i].path);
		}
	}
	if (srv->tick && srv->m->loop)
		loop_del_timer(srv->m->loop, srv->tick);
	free(srv->sess);
	free(srv->batch);
	free(srv);
}
