/*
 * out_smtp.c - SMTP submission to the relay MTA with libcurl's multi
 * interface, driven by the daemon's poll loop (see out_smtp.h).
 *
 * Owns: one CURLM, a pool of easy handles (at most max_conns in flight,
 * which bounds the connections to the relay; libcurl's connection cache
 * reuses them between transactions without a new EHLO), and a FIFO of
 * transactions waiting for a free handle.
 *
 * Per-recipient results: libcurl has no API for them (research/libs.md
 * section 3).  With CURLOPT_VERBOSE and a debug callback we pair each
 * "RCPT TO:<x>" that goes out with the next final reply that comes in;
 * libcurl 7.88 does not pipeline RCPT, so the pairing is exact.
 * Recipients accepted at RCPT take the reply to the end of DATA.  With
 * CURLOPT_MAIL_RCPT_ALLOWFAILS (spelled ALLLOWFAILS before curl 8.2) one
 * refused recipient does not abort the others.
 *
 * Standards: RFC 5321 (SMTP), RFC 3463 (enhanced status codes, passed
 * through in the reply text).
 *
 * Errors: bad arguments return -1; everything that goes wrong on the wire
 * is reported through the done callback, never fatal.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "out_pipe.h"
#include "out_smtp.h"
#include "util.h"

enum txn_state { S_NONE, S_MAIL, S_RCPT, S_DATA, S_BODY, S_END };

struct txn {
	struct out_smtp *o;
	char *from;
	char **rcpts;
	size_t n;
	struct curl_slist *slist;
	char *data;
	size_t len, off;
	out_smtp_done_fn *fn;
	void *arg;
	struct out_rcpt_status *st;
	enum txn_state state;
	size_t rcpt_sent;   /* RCPT commands seen going out */
	size_t cur;         /* recipient the pending RCPT reply is for */
	struct buf inbuf;   /* partial reply line carried between callbacks */
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	struct txn *next;
};

struct out_smtp {
	struct out_pipe *pipe; /* mlmd's pipelining client, or NULL: curl */
	struct loop *loop;
	CURLM *multi;
	char *url;
	char *cainfo;
	int max_conns;
	long timeout_ms;
	int timer_id;        /* pending loop timer for curl, 0 if none */
	CURL **idle;         /* easy handles ready for reuse */
	size_t n_idle, cap_idle;
	struct txn **act;    /* transactions in flight */
	size_t active, cap_act;
	struct txn *head, *tail; /* waiting */
	size_t waiting;
};

static void kick(struct out_smtp *o);
static void check_done(struct out_smtp *o);

static void
txn_free(struct txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	curl_slist_free_all(t->slist);
	free(t->from);
	free(t->data);
	free(t->st);
	buf_free(&t->inbuf);
	free(t);
}

/* Parse "250 2.1.5 Ok" into code and text; 0 if no code. */
static int
reply_code(const char *line, size_t len)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return 0;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static void
set_status(struct out_rcpt_status *s, int code, const char *line, size_t len)
{
	const char *p = line + 3;
	size_t n;

	s->code = code;
	if (len > 3 && (*p == ' ' || *p == '-'))
		p++;
	n = len - (size_t)(p - line);
	if (n >= sizeof(s->text))
		n = sizeof(s->text) - 1;
	memcpy(s->text, p, n);
	s->text[n] = '\0';
}

/* Give every recipient accepted at RCPT (or not yet answered, when
 * only_accepted is 0) this final reply. */
static void
set_accepted(struct txn *t, int code, const char *line, size_t len,
	     int only_accepted)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		int c = t->st[i].code;
		if (only_accepted ? (c >= 200 && c < 300) : c == 0)
			set_status(&t->st[i], code, line, len);
	}
}

static void
reply_line(struct txn *t, const char *line, size_t len)
{
	int code = reply_code(line, len);

	/* Only a final line ("250 x" or "250") ends a reply. */
	if (!code || (len > 3 && line[3] != ' '))
		return;
	switch (t->state) {
	case S_MAIL:
		if (code >= 300)
			set_accepted(t, code, line, len, 0);
		break;
	case S_RCPT:
		if (t->cur < t->n)
			set_status(&t->st[t->cur], code, line, len);
		break;
	case S_DATA:
		if (code == 354)
			t->state = S_BODY;
		else
			set_accepted(t, code, line, len, 1);
		break;
	case S_BODY:
		set_accepted(t, code, line, len, 1);
		t->state = S_END;
		break;
	default:
		break;
	}
}

static void
command_line(struct txn *t, const char *line, size_t len)
{
	if (len >= 8 && strncasecmp(line, "RCPT TO:", 8) == 0) {
		t->state = S_RCPT;
		t->cur = t->rcpt_sent++;
	} else if (len >= 10 && strncasecmp(line, "MAIL FROM:", 10) == 0) {
		t->state = S_MAIL;
	} else if (len >= 4 && strncasecmp(line, "DATA", 4) == 0) {
		t->state = S_DATA;
	} else {
		t->state = S_NONE;
	}
}

static int
debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *arg)
{
	struct txn *t = arg;
	size_t i, start = 0;

	if (type == CURLINFO_HEADER_OUT) {
		command_line(t, data, size);
		return 0;
	}
	if (type != CURLINFO_HEADER_IN)
		return 0;
	/* Replies may arrive split or several to a chunk: assemble lines. */
	for (i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		if (buf_add(&t->inbuf, data + start, i - start) == 0) {
			size_t l = t->inbuf.len;
			if (l && t->inbuf.s[l - 1] == '\r')
				l--;
			reply_line(t, buf_str(&t->inbuf), l);
		}
		buf_reset(&t->inbuf);
		start = i + 1;
	}
	if (start < size)
		buf_add(&t->inbuf, data + start, size - start);
	return 0;
}

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct txn *t = arg;
	size_t n = size * nmemb, left = t->len - t->off;

	if (n > left)
		n = left;
	memcpy(dst, t->data + t->off, n);
	t->off += n;
	return n;
}

static CURL *
get_easy(struct out_smtp *o)
{
	CURL *e;

	if (o->n_idle)
		return o->idle[--o->n_idle];
	e = curl_easy_init();
	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
#if HAVE_DECL_CURLOPT_MAIL_RCPT_ALLOWFAILS
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#elif HAVE_DECL_CURLOPT_MAIL_RCPT_ALLLOWFAILS
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	if (strncmp(o->url, "smtps:", 6) == 0)
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (o->cainfo)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cainfo);
	return e;
}

static void
put_easy(struct out_smtp *o, CURL *e)
{
	o->idle = xgrow(o->idle, &o->cap_idle, o->n_idle + 1, sizeof(*o->idle));
	o->idle[o->n_idle++] = e;
}

/* Move waiting transactions into free handles. */
static void
start_waiting(struct out_smtp *o)
{
	while (o->head && o->active < (size_t)o->max_conns) {
		struct txn *t = o->head;
		CURL *e = get_easy(o);

		if (!e) {
			error("smtp: cannot create a curl handle");
			return;
		}
		o->head = t->next;
		if (!o->head)
			o->tail = NULL;
		o->waiting--;
		t->next = NULL;
		t->easy = e;
		t->errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, t->from);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->slist);
		curl_easy_setopt(e, CURLOPT_READDATA, t);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)t->len);
		curl_easy_setopt(e, CURLOPT_DEBUGDATA, t);
		curl_easy_setopt(e, CURLOPT_PRIVATE, t);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
		if (curl_multi_add_handle(o->multi, e) != CURLM_OK) {
			struct out_rcpt_status *st = t->st;
			error("smtp: cannot start a transaction");
			put_easy(o, e);
			t->fn(t->arg, st, t->n, "cannot start transaction");
			txn_free(t);
			continue;
		}
		o->act = xgrow(o->act, &o->cap_act, o->active + 1,
			       sizeof(*o->act));
		o->act[o->active++] = t;
	}
}

static void
finish(struct out_smtp *o, CURL *e, CURLcode rc)
{
	struct txn *t = NULL;
	const char *errmsg = NULL;
	char why[CURL_ERROR_SIZE + 64];
	size_t i;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
	curl_multi_remove_handle(o->multi, e);
	for (i = 0; i < o->active; i++)
		if (o->act[i] == t) {
			o->act[i] = o->act[--o->active];
			break;
		}
	if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s%s%s", curl_easy_strerror(rc),
			 t->errbuf[0] ? ": " : "", t->errbuf);
		errmsg = why;
		/* Recipients the relay accepted but whose message it never
		 * confirmed are unknown: code 0, retried by the caller. */
		for (i = 0; i < t->n; i++) {
			if (t->state != S_END && t->st[i].code >= 200 &&
			    t->st[i].code < 300)
				t->st[i].code = 0;
			if (t->st[i].code == 0)
				strlcpy_(t->st[i].text, why,
					 sizeof(t->st[i].text));
		}
		/* After an error the connection state is unknown: do not
		 * hand this handle's connection to the next transaction. */
		curl_easy_cleanup(e);
	} else {
		for (i = 0; i < t->n; i++)
			if (t->st[i].code == 0) {
				t->st[i].code = 250;
				strlcpy_(t->st[i].text, "accepted",
					 sizeof(t->st[i].text));
			}
		put_easy(o, e);
	}
	t->fn(t->arg, t->st, t->n, errmsg);
	txn_free(t);
}

static void
check_done(struct out_smtp *o)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(o->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			finish(o, msg->easy_handle, msg->data.result);
	start_waiting(o);
}

static void
on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct out_smtp *o = arg;
	int ev = 0, running;

	if (revents & POLLIN)
		ev |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		ev |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		ev |= CURL_CSELECT_ERR;
	curl_multi_socket_action(o->multi, fd, ev, &running);
	check_done(o);
}

static void
on_timer(struct loop *l, void *arg)
{
	struct out_smtp *o = arg;
	int running;

	o->timer_id = 0;
	curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(o);
}

static int
socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct out_smtp *o = userp;
	short ev = 0;

	if (what == CURL_POLL_REMOVE) {
		if (socketp) {
			loop_del_fd(o->loop, s);
			curl_multi_assign(o->multi, s, NULL);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= POLLOUT;
	if (socketp) {
		loop_set_events(o->loop, s, ev);
	} else if (loop_add_fd(o->loop, s, ev, on_fd, o) == 0) {
		curl_multi_assign(o->multi, s, o);
	}
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct out_smtp *o = userp;

	if (o->timer_id)
		loop_del_timer(o->loop, o->timer_id);
	o->timer_id = 0;
	if (timeout_ms >= 0) {
		int id = loop_add_timer(o->loop, timeout_ms, on_timer, o);
		o->timer_id = id > 0 ? id : 0;
	}
	return 0;
}

static void
kick(struct out_smtp *o)
{
	start_waiting(o);
}

struct out_smtp *
out_smtp_new(struct loop *l, const struct out_smtp_opts *opts)
{
	struct out_smtp *o;
	struct buf url = BUF_INIT;
	const char *u = opts->url, *rest;

	if (strncmp(u, "smtp://", 7) != 0 && strncmp(u, "smtps://", 8) != 0) {
		error("smtp: relay URL must start with smtp:// or smtps://: %s",
		      u);
		return NULL;
	}
	/* A plain relay without credentials: the pipelining client. */
	if (opts->pipelining && strncmp(u, "smtp://", 7) == 0 &&
	    !memchr(u + 7, '@', strcspn(u + 7, "/"))) {
		o = xcalloc(1, sizeof(*o));
		o->pipe = out_pipe_new(l, opts);
		if (!o->pipe) {
			free(o);
			return NULL;
		}
		return o;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		error("smtp: curl_global_init failed");
		return NULL;
	}
	o = xcalloc(1, sizeof(*o));
	o->loop = l;
	o->max_conns = opts->max_conns > 0 ? opts->max_conns : 4;
	o->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 300000;
	o->cainfo = opts->cainfo ? xstrdup(opts->cainfo) : NULL;
	/* The EHLO name travels as the URL's path (libs.md section 3). */
	rest = strstr(u, "://") + 3;
	buf_adds(&url, u);
	if (!strchr(rest, '/') && opts->helo && *opts->helo) {
		buf_addc(&url, '/');
		buf_adds(&url, opts->helo);
	}
	o->url = buf_detach(&url, NULL);
	o->multi = curl_multi_init();
	if (!o->multi) {
		error("smtp: curl_multi_init failed");
		out_smtp_free(o);
		return NULL;
	}
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
	curl_multi_setopt(o->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)o->max_conns);
	curl_multi_setopt(o->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)o->max_conns);
	curl_multi_setopt(o->multi, CURLMOPT_MAXCONNECTS, (long)o->max_conns);
	return o;
}

void
out_smtp_free(struct out_smtp *o)
{
	struct txn *t, *next;
	size_t i;

	if (!o)
		return;
	if (o->pipe) {
		out_pipe_free(o->pipe);
		free(o);
		return;
	}
	if (o->timer_id)
		loop_del_timer(o->loop, o->timer_id);
	for (t = o->head; t; t = next) {
		next = t->next;
		txn_free(t);
	}
	for (i = 0; i < o->active; i++) {
		curl_multi_remove_handle(o->multi, o->act[i]->easy);
		curl_easy_cleanup(o->act[i]->easy);
		txn_free(o->act[i]);
	}
	free(o->act);
	for (i = 0; i < o->n_idle; i++)
		curl_easy_cleanup(o->idle[i]);
	free(o->idle);
	if (o->multi)
		curl_multi_cleanup(o->multi);
	free(o->url);
	free(o->cainfo);
	free(o);
	curl_global_cleanup();
}

int
out_smtp_send(struct out_smtp *o, const char *from, const char *const *rcpts,
	      size_t n, const char *data, size_t len, out_smtp_done_fn *fn,
	      void *arg)
{
	struct txn *t;
	size_t i;

	if (o->pipe)
		return out_pipe_send(o->pipe, from, rcpts, n, data, len, fn,
		                     arg);
	if (!n || !fn)
		return -1;
	for (i = 0; i < n; i++)
		if (!rcpts[i][0] || strpbrk(rcpts[i], "\r\n<>"))
			return -1;
	if (strpbrk(from, "\r\n<>"))
		return -1;
	t = xcalloc(1, sizeof(*t));
	t->o = o;
	t->from = xstrdup(from);
	t->n = n;
	t->rcpts = xcalloc(n, sizeof(*t->rcpts));
	t->st = xcalloc(n, sizeof(*t->st));
	for (i = 0; i < n; i++) {
		struct curl_slist *s;
		t->rcpts[i] = xstrdup(rcpts[i]);
		s = curl_slist_append(t->slist, t->rcpts[i]);
		if (!s)
			fatal(71, "out of memory");
		t->slist = s;
	}
	t->data = xmalloc(len);
	memcpy(t->data, data, len);
	t->len = len;
	t->fn = fn;
	t->arg = arg;
	buf_init(&t->inbuf, 4096);
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
out_smtp_pending(const struct out_smtp *o)
{
	if (o->pipe)
		return out_pipe_pending(o->pipe);
	return o->waiting + o->active;
}
