/*
 * out_pipe.c - mlmd's own SMTP client for a plain smtp:// relay (the MTA
 * on the same machine or network), behind the out_smtp.h interface.
 *
 * Why not libcurl here: libcurl does not pipeline (RFC 2920), so every
 * RCPT costs a round trip to the relay, and a transaction of 50
 * recipients 53 of them.  Against a local Postfix the round trips, not
 * the bytes, are the cost of a fan-out.  This client writes MAIL, every
 * RCPT and DATA in one go when the relay offers PIPELINING, then the
 * message: two round trips per transaction whatever its size.  libcurl
 * (out_smtp.c) stays for smtps:// and authenticated relays (TLS, AUTH),
 * and for any relay when relay_pipelining = false.
 *
 * Owns: up to max_conns non-blocking connections on the daemon's loop,
 * each a small state machine (connect, greeting, EHLO, then transactions
 * one after the other on the same connection, idle ones closed with QUIT
 * after IDLE_MS), and a FIFO of transactions waiting for a connection.
 *
 * Invariants: a transaction gets exactly one callback, with one status
 * per recipient: the RCPT reply if the relay refused the recipient there,
 * else the reply to the end of the data.  A recipient whose fate is not
 * known (connection lost or timed out before the final reply) gets code 0
 * and the callback an errmsg, like out_smtp.c.  A connection that was
 * opened for a transaction and fails before it could carry it fails that
 * transaction (so a relay that is down does not make us reconnect in a
 * loop: the caller decides when to try again).  Addresses with CR, LF,
 * '<', '>' or spaces are refused before anything is sent.
 *
 * Standards: RFC 5321 (SMTP), RFC 2920 (PIPELINING), RFC 1870 (SIZE),
 * RFC 6152 (8BITMIME).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "out_pipe.h"
#include "util.h"

#define CONNECT_MS  30000  /* connect, greeting and EHLO */
#define IDLE_MS     5000   /* an idle connection is closed after this */
#define TICK_MS     1000   /* deadline checks */
#define LINE_MAX_   4096   /* longest reply line accepted */
#define READ_CHUNK  16384

struct ptxn {
	char *from;
	char **rcpts;
	size_t n;
	char *data; /* dot-stuffed, CRLF, ending in ".\r\n" */
	size_t len;
	size_t size; /* the message's size for SIZE= */
	int eightbit;
	out_smtp_done_fn *fn;
	void *arg;
	struct out_rcpt_status *st;
	struct ptxn *next;
};

enum cstate {
	C_CONNECTING,
	C_GREETING,
	C_EHLO,
	C_HELO,
	C_IDLE,
	C_ENVELOPE,
	C_BODY,
	C_RSET,
	C_QUIT,
};

struct conn {
	struct out_pipe *o;
	struct conn *next;
	int dead; /* closed: in o->graveyard until reap() */
	int fd;
	int later;          /* timer reporting a failure from the loop */
	char later_why[256];
	size_t ehlo_lines;  /* lines of the EHLO reply seen */
	enum cstate state;
	int pipelining, size_ext, eightbitmime;
	struct buf in;
	struct buf out;
	size_t out_off;
	struct ptxn *t;       /* the transaction it carries (or waits for) */
	size_t got;           /* envelope replies received */
	size_t sent;          /* envelope commands written (no PIPELINING) */
	int mail_code;
	char mail_text[200];
	size_t accepted;      /* recipients accepted at RCPT */
	long long deadline;   /* loop_now_ms() */
	long long idle_since;
};

struct out_pipe {
	struct loop *loop;
	struct sockaddr_storage addr;
	socklen_t alen;
	char *where; /* "host:port" for messages */
	char *helo;
	int max_conns;
	long timeout_ms;
	struct conn *conns;
	struct conn *graveyard; /* closed, freed at the next safe point */
	size_t n_conns;
	struct ptxn *head, *tail;
	size_t waiting;
	size_t active; /* transactions on connections */
	int timer;
};

static void kick(struct out_pipe *o);

/* The budget of connect, greeting and EHLO: CONNECT_MS, or less. */
static long
connect_ms(const struct out_pipe *o)
{
	return o->timeout_ms < CONNECT_MS ? o->timeout_ms : CONNECT_MS;
}
static void on_fd(struct loop *l, int fd, short revents, void *arg);
static void on_tick(struct loop *l, void *arg);

/* ----- transactions --------------------------------------------------- */

static void
ptxn_free(struct ptxn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	free(t->from);
	free(t->data);
	free(t->st);
	free(t);
}

static int
addr_ok(const char *a, int may_be_empty)
{
	if (!a || (!*a && !may_be_empty) || strlen(a) > 512)
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a <= ' ' || *a == '<' || *a == '>' ||
		    *a == 0x7f)
			return 0;
	return 1;
}

/* Call the transaction's callback once and free it. */
static void
ptxn_done(struct out_pipe *o, struct ptxn *t, const char *errmsg)
{
	o->active--;
	t->fn(t->arg, t->st, t->n, errmsg);
	ptxn_free(t);
}

static void
set_status(struct out_rcpt_status *s, int code, const char *text)
{
	s->code = code;
	strlcpy_(s->text, text ? text : "", sizeof(s->text));
}

/* ----- connections ----------------------------------------------------- */

/*
 * Close c.  It is freed later (reap()): callers up the stack may still
 * hold it, and check c->dead after anything that can close it.
 */
static void
conn_close(struct conn *c)
{
	struct out_pipe *o = c->o;
	struct conn **pp;

	if (c->dead)
		return;
	if (c->later) {
		loop_del_timer(o->loop, c->later);
		c->later = 0;
	}
	for (pp = &o->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	o->n_conns--;
	if (c->fd >= 0) {
		loop_del_fd(o->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	c->dead = 1;
	c->next = o->graveyard;
	o->graveyard = c;
}

/* Free closed connections; only where none is referenced. */
static void
reap(struct out_pipe *o)
{
	while (o->graveyard) {
		struct conn *c = o->graveyard;

		o->graveyard = c->next;
		buf_free(&c->in);
		buf_free(&c->out);
		free(c);
	}
}

/*
 * The connection is lost (or useless): its transaction learns what is
 * known; recipients without a final answer get code 0 and why.
 */
static void
conn_fail(struct conn *c, const char *why)
{
	struct out_pipe *o = c->o;
	struct ptxn *t = c->t;
	size_t i;

	c->t = NULL;
	if (t) {
		for (i = 0; i < t->n; i++) {
			int code = t->st[i].code;

			/* Refused at RCPT stays refused; everything else
			 * (accepted at RCPT, never asked) is unknown. */
			if (!(code >= 400 && code < 600))
				set_status(&t->st[i], 0, why);
		}
		ptxn_done(o, t, why);
	}
	conn_close(c);
	kick(o);
}

static void
want_write(struct conn *c)
{
	loop_set_events(c->o->loop, c->fd,
	                POLLIN | (c->out.len > c->out_off ? POLLOUT : 0));
}

/* "VERB ARG" + CRLF, or "VERB:<ARG>" + CRLF when angle is set. */
static void
send_line(struct conn *c, const char *verb, const char *arg, int angle)
{
	buf_printf(&c->out, angle ? "%s:<%s>\r\n" : "%s %s\r\n", verb, arg);
}

static void
send_mail(struct conn *c)
{
	struct ptxn *t = c->t;

	buf_printf(&c->out, "MAIL FROM:<%s>", t->from);
	if (c->size_ext)
		buf_printf(&c->out, " SIZE=%zu", t->size);
	if (t->eightbit && c->eightbitmime)
		buf_adds(&c->out, " BODY=8BITMIME");
	buf_adds(&c->out, "\r\n");
}

static void
start_txn(struct conn *c)
{
	struct ptxn *t = c->t;
	size_t i;

	c->state = C_ENVELOPE;
	c->got = 0;
	c->accepted = 0;
	c->mail_code = 0;
	c->mail_text[0] = '\0';
	c->deadline = loop_now_ms() + c->o->timeout_ms;
	send_mail(c);
	if (c->pipelining) {
		for (i = 0; i < t->n; i++)
			send_line(c, "RCPT TO", t->rcpts[i], 1);
		buf_adds(&c->out, "DATA\r\n");
		c->sent = t->n + 2;
	} else {
		c->sent = 1;
	}
	want_write(c);
}

/* The transaction is over (every recipient has its status). */
static void
finish_txn(struct conn *c, int rset)
{
	struct ptxn *t = c->t;

	c->t = NULL;
	ptxn_done(c->o, t, NULL);
	if (rset) {
		buf_adds(&c->out, "RSET\r\n");
		c->state = C_RSET;
		c->deadline = loop_now_ms() + CONNECT_MS;
		want_write(c);
		return;
	}
	c->state = C_IDLE;
	c->idle_since = loop_now_ms();
	kick(c->o);
}

/* Give every recipient accepted at RCPT the final reply. */
static void
final_reply(struct ptxn *t, int code, const char *text)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->st[i].code >= 200 && t->st[i].code < 300)
			set_status(&t->st[i], code, text);
}

/* One complete reply (the code and the text of its last line). */
static void
on_reply(struct conn *c, int code, const char *text)
{
	struct ptxn *t = c->t;
	size_t idx;

	switch (c->state) {
	case C_GREETING:
		if (code != 220) {
			char why[300];

			snprintf(why, sizeof(why), "%s greeted with %d %s",
			         c->o->where, code, text);
			conn_fail(c, why);
			return;
		}
		send_line(c, "EHLO", c->o->helo, 0);
		c->state = C_EHLO;
		c->ehlo_lines = 0;
		want_write(c);
		return;
	case C_EHLO:
	case C_HELO:
		if (code != 250) {
			if (c->state == C_EHLO && code >= 500) {
				send_line(c, "HELO", c->o->helo, 0);
				c->state = C_HELO;
				want_write(c);
				return;
			}
			conn_fail(c, text);
			return;
		}
		c->state = C_IDLE;
		c->idle_since = loop_now_ms();
		if (c->t)
			start_txn(c);
		else
			kick(c->o);
		return;
	case C_RSET:
		c->state = C_IDLE;
		c->idle_since = loop_now_ms();
		kick(c->o);
		return;
	case C_QUIT:
		conn_close(c);
		kick(c->o);
		return;
	case C_BODY:
		final_reply(t, code, text);
		if (code == 421) {
			conn_fail(c, text);
			return;
		}
		finish_txn(c, 0);
		return;
	case C_ENVELOPE:
		break;
	default:
		conn_fail(c, "unexpected reply from the relay");
		return;
	}

	/* The envelope: MAIL, RCPT x n, DATA, in that order. */
	idx = c->got++;
	if (code == 421) {
		conn_fail(c, text);
		return;
	}
	if (idx == 0) {
		c->mail_code = code;
		strlcpy_(c->mail_text, text, sizeof(c->mail_text));
		if (!c->pipelining) {
			if (code >= 200 && code < 300) {
				send_line(c, "RCPT TO", t->rcpts[0], 1);
				c->sent++;
				want_write(c);
			} else {
				size_t i;

				for (i = 0; i < t->n; i++)
					set_status(&t->st[i], code, text);
				finish_txn(c, 1);
			}
		}
		return;
	}
	if (idx <= t->n) {
		struct out_rcpt_status *s = &t->st[idx - 1];

		if (!(c->mail_code >= 200 && c->mail_code < 300))
			set_status(s, c->mail_code, c->mail_text);
		else
			set_status(s, code, text);
		if (s->code >= 200 && s->code < 300)
			c->accepted++;
		if (!c->pipelining) {
			if (idx < t->n) {
				send_line(c, "RCPT TO", t->rcpts[idx], 1);
			} else if (c->accepted) {
				buf_adds(&c->out, "DATA\r\n");
			} else {
				finish_txn(c, 1);
				return;
			}
			c->sent++;
			want_write(c);
		}
		return;
	}
	/* The reply to DATA. */
	if (code == 354) {
		c->state = C_BODY;
		if (c->accepted)
			buf_add(&c->out, t->data, t->len);
		else /* RFC 2920: nobody to send it to, end it at once */
			buf_adds(&c->out, ".\r\n");
		want_write(c);
		return;
	}
	final_reply(t, code, text);
	finish_txn(c, 1);
}

/* One EHLO extension line: "PIPELINING", "SIZE 10240000", ... */
static void
ehlo_keyword(struct conn *c, const char *kw)
{
	size_t n = strcspn(kw, " ");

	if (n == 10 && strncasecmp(kw, "PIPELINING", 10) == 0)
		c->pipelining = 1;
	else if (n == 4 && strncasecmp(kw, "SIZE", 4) == 0)
		c->size_ext = 1;
	else if (n == 8 && strncasecmp(kw, "8BITMIME", 8) == 0)
		c->eightbitmime = 1;
}

/* Parse the complete lines in c->in. */
static void
read_replies(struct conn *c)
{
	size_t start = 0;

	while (!c->dead) {
		char *nl = memchr(c->in.s + start, '\n', c->in.len - start);
		size_t len;
		char *line;
		int code;

		if (!nl)
			break;
		line = c->in.s + start;
		len = (size_t)(nl - line);
		start += len + 1;
		if (len > LINE_MAX_) {
			conn_fail(c, "reply line from the relay too long");
			return;
		}
		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (len < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (len > 3 && line[3] != ' ' &&
		                      line[3] != '-')) {
			conn_fail(c, "malformed reply from the relay");
			return;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		       (line[2] - '0');
		/* EHLO: every line after the first names an extension. */
		if (c->state == C_EHLO && code == 250 && c->ehlo_lines++ > 0)
			ehlo_keyword(c, len > 4 ? line + 4 : "");
		if (len > 3 && line[3] == '-')
			continue; /* not the last line of the reply */
		on_reply(c, code, len > 4 ? line + 4 : "");
		if (c->dead)
			return;
	}
	if (start) {
		memmove(c->in.s, c->in.s + start, c->in.len - start);
		c->in.len -= start;
	}
	if (c->in.len > LINE_MAX_)
		conn_fail(c, "reply line from the relay too long");
}

/* Write what is pending; 0, or -1 after conn_fail(). */
static int
flush_out(struct conn *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.s + c->out_off,
		                 c->out.len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_fail(c, strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	want_write(c);
	return 0;
}

static void
on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct conn *c = arg;

	reap(c->o);
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			char why[256];

			snprintf(why, sizeof(why), "cannot connect to %s: %s",
			         c->o->where, strerror(err ? err : errno));
			conn_fail(c, why);
			return;
		}
		c->state = C_GREETING;
		c->deadline = loop_now_ms() + connect_ms(c->o);
		want_write(c);
		return;
	}
	if ((revents & POLLOUT) && flush_out(c) < 0)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		for (;;) {
			ssize_t n;

			if (buf_grow(&c->in, READ_CHUNK) < 0) {
				conn_fail(c, "out of memory");
				return;
			}
			n = read(fd, c->in.s + c->in.len, READ_CHUNK);
			if (n < 0) {
				int e = errno;

				if (e == EAGAIN || e == EINTR)
					break;
				read_replies(c);
				if (!c->dead)
					conn_fail(c, strerror(e));
				return;
			}
			if (n == 0) {
				/* What came before the end counts. */
				read_replies(c);
				if (c->dead)
					return;
				if (c->state == C_QUIT) {
					conn_close(c);
					kick(c->o);
					return;
				}
				conn_fail(c, "the relay closed the connection");
				return;
			}
			c->in.len += (size_t)n;
			c->in.s[c->in.len] = '\0';
			/* Parse as we go: no reply is longer than a line. */
			if ((size_t)n < READ_CHUNK || c->in.len > 4 * READ_CHUNK)
				break;
		}
		read_replies(c);
		/* Answer at once instead of after another poll(). */
		if (!c->dead && c->out.len > c->out_off)
			flush_out(c);
	}
}

static void
on_later(struct loop *l, void *arg)
{
	struct conn *c = arg;

	c->later = 0;
	reap(c->o);
	conn_fail(c, c->later_why);
}

/*
 * A failure found while the caller of out_pipe_send() is still on the
 * stack: report it from the loop, so that a done callback never runs
 * inside out_pipe_send().
 */
static void
fail_later(struct conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->later = loop_add_timer(c->o->loop, 0, on_later, c);
	if (c->later < 0) {
		c->later = 0;
		conn_fail(c, c->later_why);
	}
}

/* Open a connection for transaction t; failures reach t's callback
 * from the loop. */
static void
conn_open(struct out_pipe *o, struct ptxn *t)
{
	struct conn *c;
	int fd, one = 1;

	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->o = o;
	c->fd = fd;
	c->t = t;
	c->state = C_CONNECTING;
	c->deadline = loop_now_ms() + connect_ms(o);
	buf_init(&c->in, 0);
	buf_init(&c->out, 0);
	c->next = o->conns;
	o->conns = c;
	o->n_conns++;
	if (!o->timer)
		o->timer = loop_add_timer(o->loop, TICK_MS, on_tick, o);
	if (fd < 0) {
		snprintf(c->later_why, sizeof(c->later_why),
		         "cannot open a socket: %s", strerror(errno));
		fail_later(c);
		return;
	}
	if (connect(fd, (struct sockaddr *)&o->addr, o->alen) < 0 &&
	    errno != EINPROGRESS) {
		snprintf(c->later_why, sizeof(c->later_why),
		         "cannot connect to %s: %s", o->where, strerror(errno));
		fail_later(c);
		return;
	}
	if (loop_add_fd(o->loop, fd, POLLOUT, on_fd, c) < 0) {
		strlcpy_(c->later_why, "cannot watch the connection",
		         sizeof(c->later_why));
		fail_later(c);
	}
}

/* Hand waiting transactions to idle connections, open new ones. */
static void
kick(struct out_pipe *o)
{
	struct conn *c;

	for (c = o->conns; c && o->head; c = c->next) {
		if (c->state != C_IDLE || c->t)
			continue;
		c->t = o->head;
		o->head = o->head->next;
		if (!o->head)
			o->tail = NULL;
		o->waiting--;
		o->active++;
		c->t->next = NULL;
		start_txn(c);
	}
	while (o->head && o->n_conns < (size_t)o->max_conns) {
		struct ptxn *t = o->head;

		o->head = t->next;
		if (!o->head)
			o->tail = NULL;
		o->waiting--;
		o->active++;
		t->next = NULL;
		conn_open(o, t);
	}
}

/* Deadlines and idle connections, once a second. */
static void
on_tick(struct loop *l, void *arg)
{
	struct out_pipe *o = arg;
	long long now = loop_now_ms();
	struct conn *c, *next;

	o->timer = 0;
	reap(o);
	for (c = o->conns; c; c = next) {
		next = c->next;
		if (c->state == C_IDLE && !c->t) {
			if (now - c->idle_since > IDLE_MS) {
				buf_adds(&c->out, "QUIT\r\n");
				c->state = C_QUIT;
				c->deadline = now + CONNECT_MS;
				want_write(c);
			}
		} else if (now > c->deadline) {
			char why[256];

			snprintf(why, sizeof(why), "%s: timed out", o->where);
			/* Closes c only; new connections go to the head of
			 * the list, so next stays valid. */
			if (c->state == C_QUIT) {
				conn_close(c);
				kick(o);
			} else {
				conn_fail(c, why);
			}
		}
	}
	if (o->conns || o->head)
		o->timer = loop_add_timer(l, TICK_MS, on_tick, o);
}

/* 1 if any byte has its high bit set (BODY=8BITMIME), a word at a time. */
static int
has_8bit(const char *p, size_t n)
{
	uint64_t w, acc = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	return (acc & 0x8080808080808080ULL) != 0;
}

/* ----- the interface ----------------------------------------------------- */

/* "smtp://HOST[:PORT][/...]" -> address.  0 / -1 with why in err. */
static int
parse_url(struct out_pipe *o, const char *url, char *err, size_t errsz)
{
	char host[256], port[16] = "25";
	const char *p = url + 7, *end;
	struct addrinfo hints, *res = NULL;
	size_t n;
	int rc;

	if (strncasecmp(url, "smtp://", 7) != 0) {
		snprintf(err, errsz, "not an smtp:// URL");
		return -1;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end) {
			snprintf(err, errsz, "unclosed '[' in %s", url);
			return -1;
		}
		n = (size_t)(end - p - 1);
		if (n >= sizeof(host))
			n = sizeof(host) - 1;
		memcpy(host, p + 1, n);
		host[n] = '\0';
		p = end + 1;
	} else {
		n = strcspn(p, ":/");
		if (n >= sizeof(host))
			n = sizeof(host) - 1;
		memcpy(host, p, n);
		host[n] = '\0';
		p += strcspn(p, ":/");
	}
	if (*p == ':') {
		n = strcspn(p + 1, "/");
		if (n == 0 || n >= sizeof(port)) {
			snprintf(err, errsz, "bad port in %s", url);
			return -1;
		}
		memcpy(port, p + 1, n);
		port[n] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, errsz, "cannot resolve %s: %s", host,
		         gai_strerror(rc));
		return -1;
	}
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->alen = res->ai_addrlen;
	freeaddrinfo(res);
	{
		struct buf w = BUF_INIT;

		buf_printf(&w, "%s:%s", host, port);
		o->where = buf_detach(&w, NULL);
	}
	return 0;
}

struct out_pipe *
out_pipe_new(struct loop *l, const struct out_smtp_opts *opts)
{
	struct out_pipe *o = xcalloc(1, sizeof(*o));
	char err[300];

	o->loop = l;
	if (parse_url(o, opts->url, err, sizeof(err)) < 0) {
		error("relay %s: %s", opts->url, err);
		free(o);
		return NULL;
	}
	o->helo = xstrdup(opts->helo && *opts->helo ? opts->helo : "localhost");
	o->max_conns = opts->max_conns > 0 ? opts->max_conns : 4;
	o->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 300000;
	return o;
}

void
out_pipe_free(struct out_pipe *o)
{
	struct ptxn *t, *next;

	if (!o)
		return;
	reap(o);
	while (o->conns) {
		struct conn *c = o->conns;

		if (c->t)
			ptxn_free(c->t); /* abandoned: no callback */
		c->t = NULL;
		conn_close(c);
	}
	for (t = o->head; t; t = next) {
		next = t->next;
		ptxn_free(t);
	}
	reap(o);
	if (o->timer)
		loop_del_timer(o->loop, o->timer);
	free(o->where);
	free(o->helo);
	free(o);
}

int
out_pipe_send(struct out_pipe *o, const char *from, const char *const *rcpts,
              size_t n, const char *data, size_t len, out_smtp_done_fn *fn,
              void *arg)
{
	struct ptxn *t;
	struct buf b = BUF_INIT;
	size_t i;

	reap(o);
	if (!n || !fn || !addr_ok(from, 1))
		return -1;
	for (i = 0; i < n; i++)
		if (!addr_ok(rcpts[i], 0))
			return -1;
	t = xcalloc(1, sizeof(*t));
	t->from = xstrdup(from);
	t->rcpts = xcalloc(n, sizeof(*t->rcpts));
	for (i = 0; i < n; i++)
		t->rcpts[i] = xstrdup(rcpts[i]);
	t->n = n;
	t->st = xcalloc(n, sizeof(*t->st));
	t->fn = fn;
	t->arg = arg;
	t->size = len;
	/* Dot-stuffing (RFC 5321 4.5.2) and the end of data, copying
	 * whole runs between line starts with a dot. */
	buf_init(&b, 0);
	buf_grow(&b, len + len / 64 + 8);
	{
		const char *p = data, *end = data + len;

		if (len && *p == '.')
			buf_addc(&b, '.');
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl + 1 : end;

			buf_add(&b, p, (size_t)(stop - p));
			p = stop;
			if (p < end && *p == '.')
				buf_addc(&b, '.');
		}
	}
	t->eightbit = has_8bit(data, len);
	if (len && data[len - 1] != '\n')
		buf_adds(&b, "\r\n");
	buf_adds(&b, ".\r\n");
	t->data = buf_detach(&b, &t->len);
	if (o->tail)
		o->tail->next = t;
	else
		o->head = t;
	o->tail = t;
	o->waiting++;
	kick(o);
	return 0;
}

size_t
out_pipe_pending(const struct out_pipe *o)
{
	return o->waiting + o->active;
}
