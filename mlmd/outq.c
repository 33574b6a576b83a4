/*
 * outq.c - the daemon's outbound queue runner: takes due rows from the
 * outbound table, groups them into SMTP transactions (one copy, one
 * envelope sender, up to delivery_batch recipients; with VERP every
 * recipient has its own sender and so its own transaction), hands them to
 * out_smtp (libcurl multi on the daemon's loop, delivery_connections at
 * once) or writes them to the maildir relay, and records each
 * recipient's result.
 *
 * Invariants:
 *  - At most delivery_connections transactions are handed to out_smtp at
 *    a time, and each recipient's result is committed at the end of the
 *    loop iteration in which its transaction finished.  A crash can
 *    therefore repeat only what was in flight: at most
 *    connections x batch copies per crash; nothing is lost, because a
 *    row leaves the queue only in the transaction that records the
 *    relay's 2xx (or its 5xx, or the end of the lifetime).
 *  - Rows in flight are in an in-memory set and are never handed out
 *    twice; the set is empty at start-up, so everything waiting is sent
 *    again after a crash.
 *  - 4xx: the copy waits delivery_retry x 2^(attempts - 1), at most
 *    RETRY_CAP, until delivery_lifetime; then it fails.  5xx: failed at
 *    once (and a 'post' copy gets a bounces row).  No answer at all (the
 *    relay is down, refuses connections, times out): not the copy's
 *    fault; the whole queue pauses, RELAY_PAUSE_MIN doubling up to
 *    RELAY_PAUSE_MAX, and the copies keep their lifetime.
 *  - A copy file is removed when no row waits for it any more.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "mlmd.h"
#include "out_maildir.h"
#include "out_smtp.h"
#include "outq.h"
#include "sub.h"
#include "util.h"

#define RETRY_CAP        (4 * 3600) /* longest wait between 4xx attempts */
#define RELAY_PAUSE_MIN  2          /* seconds */
#define RELAY_PAUSE_MAX  60
#define IDLE_RESCAN_MS   30000      /* look at the table at least this often */
#define MAILDIR_ROUND    256        /* copies written per loop iteration */
#define CACHE_N          16         /* copy files kept in memory */
#define FLUSH_MS         2          /* longest a finished result waits */

struct oq_row {
	long long id;
	long long member; /* of a post copy: for its unsubscribe token */
	char *rcpt;
	int attempts;
};

struct oq_txn {
	struct outq *q;
	struct oq_txn *prev, *next; /* q->live: handed to out_smtp */
	char *path, *list, *sender;
	struct oq_row *rows;
	size_t n;
	int personal; /* one recipient, with a personal List-Unsubscribe */
};

enum res_kind { RES_SENT, RES_DEFER, RES_FAIL, RES_RELAY };

struct result {
	long long id;
	enum res_kind kind;
	int attempts;
	char code[8];
	char text[200];
	size_t copy; /* index in outq.copies */
};

/* A copy file results of the coming commit are about: its list gets the
 * deliveries counted, and the file goes when nobody waits for it. */
struct touched {
	char *path, *list;
	long sent;
};

struct cached {
	char *path;
	struct buf data; /* CRLF line ends */
};

struct outq {
	struct mlmd *m;
	struct out_smtp *smtp; /* NULL: maildir */
	char *maildir;
	long long cursor;
	/* ids in flight: open addressing, 0 is empty, -1 a tombstone */
	long long *fl;
	size_t fl_cap, fl_n, fl_used;
	size_t txns; /* transactions holding a slot: handed to out_smtp and
	              * not yet committed */
	size_t done; /* of those, finished (results waiting for a commit) */
	long long done_since; /* loop_now_ms() of the first of them */
	struct oq_txn *live;
	int timer;
	int flush_timer; /* commit finished results by FLUSH_MS */
	int want_fill;
	time_t pause_until;
	long relay_pause;
	struct result *res;
	size_t n_res, cap_res;
	struct touched *copies; /* distinct copies of res (few: one per
	                         * transaction at most) */
	size_t n_copies, cap_copies;
	struct cached cache[CACHE_N];
	size_t cache_next;
	struct buf personal; /* the personal copy being handed over */
};

/* ----- the in-flight set ------------------------------------------------ */

static size_t
fl_slot(const struct outq *q, long long id)
{
	return (size_t)((unsigned long long)id * 0x9E3779B97F4A7C15ULL >> 7) &
	       (q->fl_cap - 1);
}

static int
fl_has(const struct outq *q, long long id)
{
	size_t i;

	if (!q->fl_cap)
		return 0;
	for (i = fl_slot(q, id); q->fl[i]; i = (i + 1) & (q->fl_cap - 1))
		if (q->fl[i] == id)
			return 1;
	return 0;
}

static void
fl_add(struct outq *q, long long id)
{
	size_t i;

	if ((q->fl_used + 1) * 2 > q->fl_cap) {
		long long *old = q->fl;
		size_t cap = q->fl_cap, j;

		q->fl_cap = 1024;
		while ((q->fl_n + 1) * 4 > q->fl_cap)
			q->fl_cap *= 2;
		q->fl = xcalloc(q->fl_cap, sizeof(*q->fl));
		q->fl_used = q->fl_n = 0;
		for (j = 0; j < cap; j++)
			if (old[j] > 0)
				fl_add(q, old[j]);
		free(old);
	}
	for (i = fl_slot(q, id); q->fl[i] > 0; i = (i + 1) & (q->fl_cap - 1))
		;
	if (q->fl[i] == 0)
		q->fl_used++;
	q->fl[i] = id;
	q->fl_n++;
}

static void
fl_del(struct outq *q, long long id)
{
	size_t i;

	if (!q->fl_cap)
		return;
	for (i = fl_slot(q, id); q->fl[i]; i = (i + 1) & (q->fl_cap - 1))
		if (q->fl[i] == id) {
			q->fl[i] = -1;
			q->fl_n--;
			return;
		}
}

/* ----- copy files -------------------------------------------------------- */

static void
cache_drop(struct outq *q, const char *path)
{
	size_t i;

	for (i = 0; i < CACHE_N; i++)
		if (q->cache[i].path && strcmp(q->cache[i].path, path) == 0) {
			free(q->cache[i].path);
			q->cache[i].path = NULL;
			buf_free(&q->cache[i].data);
		}
}

/* The copy at HOME/path with CRLF line ends, or NULL (logged). */
static const struct buf *
load(struct outq *q, const char *path)
{
	struct buf file = BUF_INIT, full = BUF_INIT;
	struct cached *c;
	size_t i;

	for (i = 0; i < CACHE_N; i++)
		if (q->cache[i].path && strcmp(q->cache[i].path, path) == 0)
			return &q->cache[i].data;
	buf_printf(&full, "%s/%s", q->m->conf->home, path);
	buf_init(&file, (size_t)1 << 31);
	if (read_file(buf_str(&full), &file) < 0) {
		error("%s: %s", buf_str(&full), strerror(errno));
		buf_free(&full);
		buf_free(&file);
		return NULL;
	}
	buf_free(&full);
	c = &q->cache[q->cache_next];
	q->cache_next = (q->cache_next + 1) % CACHE_N;
	free(c->path);
	buf_free(&c->data);
	c->path = xstrdup(path);
	buf_init(&c->data, (size_t)1 << 31);
	buf_grow(&c->data, file.len + file.len / 32 + 2);
	/* LF -> CRLF, a line at a time */
	{
		const char *p = file.s, *end = file.s + file.len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			if (!nl) {
				buf_add(&c->data, p, (size_t)(end - p));
				break;
			}
			if (nl > p && nl[-1] == '\r') {
				buf_add(&c->data, p, (size_t)(nl + 1 - p));
			} else {
				buf_add(&c->data, p, (size_t)(nl - p));
				buf_add(&c->data, "\r\n", 2);
			}
			p = nl + 1;
		}
	}
	buf_free(&file);
	return &c->data;
}

/* ----- results ------------------------------------------------------------ */

static void
add_result(struct outq *q, const struct oq_txn *t, size_t i,
           enum res_kind kind, int code, const char *text)
{
	struct result *r;

	q->res = xgrow(q->res, &q->cap_res, q->n_res + 1, sizeof(*q->res));
	r = &q->res[q->n_res++];
	memset(r, 0, sizeof(*r));
	r->id = t->rows[i].id;
	r->kind = kind;
	r->attempts = t->rows[i].attempts;
	if (code)
		snprintf(r->code, sizeof(r->code), "%d", code);
	strlcpy_(r->text, text ? text : "", sizeof(r->text));
	for (r->copy = 0; r->copy < q->n_copies; r->copy++)
		if (strcmp(q->copies[r->copy].path, t->path) == 0)
			break;
	if (r->copy == q->n_copies) {
		q->copies = xgrow(q->copies, &q->cap_copies, q->n_copies + 1,
		                  sizeof(*q->copies));
		q->copies[q->n_copies].path = xstrdup(t->path);
		q->copies[q->n_copies].list = xstrdup(t->list);
		q->copies[q->n_copies].sent = 0;
		q->n_copies++;
	}
	if (kind == RES_SENT)
		q->copies[r->copy].sent++;
}

static long
backoff(const struct outq *q, int attempts)
{
	long d = q->m->conf->delivery_retry;

	while (attempts-- > 0 && d < RETRY_CAP)
		d *= 2;
	return d > RETRY_CAP ? RETRY_CAP : d;
}

/* Commit the collected results in one transaction. */
static void
flush_results(struct outq *q)
{
	struct db *db = q->m->db;
	time_t now = time(NULL);
	size_t i, j;
	int rc = 0;

	if (!q->n_res) {
		q->txns -= q->done < q->txns ? q->done : q->txns;
		q->done = 0;
		return;
	}
	if (db_begin(db) < 0) {
		rc = -1;
		goto out;
	}
	/* Deliveries in one statement; then the others one by one. */
	{
		long long *ids = xcalloc(q->n_res, sizeof(*ids));
		size_t n = 0;

		for (i = 0; i < q->n_res; i++)
			if (q->res[i].kind == RES_SENT)
				ids[n++] = q->res[i].id;
		rc = db_out_sent_many(db, ids, n) < 0 ? -1 : 0;
		free(ids);
	}
	for (i = 0; i < q->n_res && rc == 0; i++) {
		struct result *r = &q->res[i];

		switch (r->kind) {
		case RES_SENT:
			break;
		case RES_DEFER:
			rc = db_out_defer(db, r->id, r->code, r->text,
			                  now + backoff(q, r->attempts), 1);
			if (rc == 1) {
				log_warn("queue #%lld: given up after the "
				         "delivery lifetime: %s %s",
				         r->id, r->code, r->text);
				rc = 0;
			}
			break;
		case RES_FAIL: {
			struct out_failed f;

			rc = db_out_fail(db, r->id, r->code, r->text, &f);
			/* The relay refused a member's copy: as a bounce. */
			if (rc == 0 && f.post && r->code[0] == '5') {
				struct sub_ctx sc = {q->m->conf, q->m->db,
				                     q->m->tmpl, &q->m->key,
				                     q->m->dmarc};

				rc = bounce_refused(&sc, f.list, f.recipient,
				                    r->code, r->text,
				                    f.message_id);
			}
			break;
		}
		case RES_RELAY:
			rc = db_out_defer(db, r->id, "", r->text,
			                  q->pause_until, 0);
			break;
		}
		rc = rc < 0 ? -1 : 0;
	}
	/* Deliveries per list, for the reports. */
	for (i = 0; i < q->n_copies && rc == 0; i++) {
		long n = q->copies[i].sent;

		for (j = 0; j < i; j++) /* counted with an earlier copy */
			if (strcmp(q->copies[j].list, q->copies[i].list) == 0)
				break;
		if (j < i || n == 0)
			continue;
		for (j = i + 1; j < q->n_copies; j++)
			if (strcmp(q->copies[j].list, q->copies[i].list) == 0)
				n += q->copies[j].sent;
		rc = db_log_event(db, q->copies[i].list, "delivered", NULL, n);
	}
	if (rc == 0)
		rc = db_commit(db);
	else
		db_rollback(db);
out:
	if (rc < 0)
		log_warn("queue: results of %zu copies not recorded; they will "
		         "be sent again",
		         q->n_res);
	/* Files nobody waits for any more. */
	for (i = 0; i < q->n_copies; i++) {
		const char *path = q->copies[i].path;

		if (rc == 0 && db_out_path_pending(db, path) == 0) {
			struct buf full = BUF_INIT;

			buf_printf(&full, "%s/%s", q->m->conf->home, path);
			if (unlink(buf_str(&full)) < 0 && errno != ENOENT)
				log_warn("%s: %s", buf_str(&full),
				         strerror(errno));
			cache_drop(q, path);
			buf_free(&full);
		}
		free(q->copies[i].path);
		free(q->copies[i].list);
	}
	q->n_copies = 0;
	q->n_res = 0;
	/* Committed (or given up: sent again later): the slots are free. */
	q->txns -= q->done < q->txns ? q->done : q->txns;
	q->done = 0;
}

/* ----- sending ------------------------------------------------------------ */

static void
txn_free(struct oq_txn *t)
{
	size_t i;

	if (t->prev)
		t->prev->next = t->next;
	else if (t->q->live == t)
		t->q->live = t->next;
	if (t->next)
		t->next->prev = t->prev;

	for (i = 0; i < t->n; i++)
		free(t->rows[i].rcpt);
	free(t->rows);
	free(t->path);
	free(t->list);
	free(t->sender);
	free(t);
}

/*
 * The one log line per delivery attempt (a transaction, or a copy written
 * to the maildir relay): its rows, recipients, outcome and the relay's
 * reply (the first refusal or deferral, else the acceptance).
 */
static void
txn_log(const struct oq_txn *t, size_t sent, size_t deferred, size_t failed,
        int code, const char *text)
{
	char ids[128];
	size_t i, len = 0;
	const char *status = sent == t->n       ? "sent"
	                     : deferred == t->n ? "deferred"
	                     : failed == t->n   ? "failed"
	                                        : "mixed";

	ids[0] = '\0';
	for (i = 0; i < t->n && len < sizeof(ids) - 32; i++)
		len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s#%lld",
		                        i ? "," : "", t->rows[i].id);
	if (i < t->n)
		snprintf(ids + len, sizeof(ids) - len, ",...");
	log_info("queue %s: list=%s rcpts=%zu status=%s sent=%zu "
	         "deferred=%zu failed=%zu reply=%d%s%s",
	         ids, t->list, t->n, status, sent, deferred, failed, code,
	         text && *text ? " " : "", text ? text : "");
}

static void
on_done(void *arg, const struct out_rcpt_status *st, size_t n,
        const char *errmsg)
{
	struct oq_txn *t = arg;
	struct outq *q = t->q;
	size_t i, relay = 0, sent = 0, deferred = 0, failed = 0;
	int code_shown = 0;
	const char *text_shown = "";

	for (i = 0; i < t->n && i < n; i++) {
		int code = st[i].code;

		fl_del(q, t->rows[i].id);
		if (code >= 200 && code < 300) {
			add_result(q, t, i, RES_SENT, code, "");
			sent++;
			if (!code_shown)
				code_shown = code;
		} else if (code >= 500 && code < 600) {
			add_result(q, t, i, RES_FAIL, code, st[i].text);
			log_debug("queue #%lld: <%s> refused: %d %s",
			          t->rows[i].id, t->rows[i].rcpt, code,
			          st[i].text);
			failed++;
		} else if (code >= 400 && code < 500) {
			add_result(q, t, i, RES_DEFER, code, st[i].text);
			log_debug("queue #%lld: <%s> deferred: %d %s",
			          t->rows[i].id, t->rows[i].rcpt, code,
			          st[i].text);
			deferred++;
		} else {
			relay++;
		}
		if (code >= 400 && code < 600 && !*text_shown) {
			code_shown = code;
			text_shown = *st[i].text ? st[i].text : "?";
		}
	}
	/* no answer: the rows wait for the relay (deferred, reply 0) */
	txn_log(t, sent, deferred + relay, failed, relay ? 0 : code_shown,
	        relay ? (errmsg ? errmsg : "no answer") : text_shown);
	if (relay) {
		time_t now = time(NULL);

		q->relay_pause = q->relay_pause ? q->relay_pause * 2
		                                : RELAY_PAUSE_MIN;
		if (q->relay_pause > RELAY_PAUSE_MAX)
			q->relay_pause = RELAY_PAUSE_MAX;
		if (q->pause_until < now + q->relay_pause) {
			q->pause_until = now + q->relay_pause;
			log_warn("queue: the relay did not take the mail (%s); "
			         "pausing delivery for %ld s",
			         errmsg ? errmsg : "no answer", q->relay_pause);
		}
		for (i = 0; i < t->n && i < n; i++)
			if (!(st[i].code >= 200 && st[i].code < 600))
				add_result(q, t, i, RES_RELAY, 0,
				           errmsg ? errmsg : "no answer");
	} else {
		q->relay_pause = 0;
	}
	for (; i < t->n; i++) /* defensive: fewer statuses than rows */
		fl_del(q, t->rows[i].id);
	if (q->done++ == 0)
		q->done_since = loop_now_ms();
	q->want_fill = 1;
	txn_free(t);
}

static void
send_maildir(struct outq *q, struct oq_txn *t, const struct buf *data)
{
	size_t i, sent = 0, deferred = 0, failed = 0;
	int code = 250;
	struct buf why = BUF_INIT;

	buf_init(&why, 256);
	for (i = 0; i < t->n; i++) {
		struct buf err = BUF_INIT;
		int perm = 0;

		if (out_maildir_deliver(q->maildir, t->sender, t->rows[i].rcpt,
		                        data->s, data->len, &perm, &err) == 0) {
			add_result(q, t, i, RES_SENT, 250, "");
			sent++;
			buf_free(&err);
			continue;
		}
		add_result(q, t, i, perm ? RES_FAIL : RES_DEFER,
		           perm ? 550 : 451, buf_str(&err));
		if (perm)
			failed++;
		else
			deferred++;
		if (!why.len) {
			code = perm ? 550 : 451;
			buf_adds(&why, err.len ? buf_str(&err) : "?");
		}
		buf_free(&err);
	}
	txn_log(t, sent, deferred, failed, code, buf_str(&why));
	buf_free(&why);
	txn_free(t);
}

/* 1 if the header block of a copy has a List-Unsubscribe field (a copy
 * decorated before the web front door was turned on). */
static int
has_unsubscribe(const struct buf *d)
{
	const char *p = d->s, *end = d->s + d->len;

	while (p < end && !(p[0] == '\r' || p[0] == '\n')) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (str_has_prefix_ci(p, "List-Unsubscribe:"))
			return 1;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Hand one transaction to the transport. */
static void
dispatch(struct outq *q, struct oq_txn *t)
{
	const struct buf *data = load(q, t->path);
	const char **rcpts;
	size_t i;

	if (!data) {
		for (i = 0; i < t->n; i++)
			add_result(q, t, i, RES_FAIL, 0,
			           "the copy to send is missing from the store");
		txn_log(t, 0, 0, t->n, 0,
		        "the copy to send is missing from the store");
		txn_free(t);
		return;
	}
	if (t->personal && t->n == 1 && !has_unsubscribe(data)) {
		struct sub_ctx sc = {q->m->conf, q->m->db, q->m->tmpl,
		                     &q->m->key, q->m->dmarc};

		buf_reset(&q->personal);
		if (sub_unsub_headers(&sc, t->list, t->rows[0].rcpt,
		                      t->rows[0].member, "\r\n",
		                      &q->personal) == 0) {
			buf_add(&q->personal, data->s, data->len);
			data = &q->personal;
		}
	}
	if (!q->smtp) {
		send_maildir(q, t, data);
		return;
	}
	rcpts = xcalloc(t->n, sizeof(*rcpts));
	for (i = 0; i < t->n; i++) {
		rcpts[i] = t->rows[i].rcpt;
		fl_add(q, t->rows[i].id);
	}
	if (out_smtp_send(q->smtp, t->sender, rcpts, t->n, data->s, data->len,
	                  on_done, t) < 0) {
		for (i = 0; i < t->n; i++) {
			fl_del(q, t->rows[i].id);
			add_result(q, t, i, RES_FAIL, 0,
			           "the transaction could not be built");
		}
		txn_log(t, 0, 0, t->n, 0, "the transaction could not be built");
		txn_free(t);
	} else {
		q->txns++;
		t->next = q->live;
		if (q->live)
			q->live->prev = t;
		q->live = t;
	}
	free(rcpts);
}

/* ----- filling ------------------------------------------------------------ */

struct walk {
	struct outq *q;
	struct oq_txn **txns;
	size_t n_txns, max_txns;
	size_t batch;
	long long last; /* id of the last row taken */
	int full;
};

static int
take_row(const struct out_row *r, void *arg)
{
	struct walk *w = arg;
	struct oq_txn *t = w->n_txns ? w->txns[w->n_txns - 1] : NULL;

	const struct conf *c = w->q->m->conf;
	/* A member's copy of a post carries that member's own one-click
	 * link when the web front door is on: one recipient per envelope. */
	int personal = c->http && *c->http && strcmp(r->kind, "post") == 0;

	if (fl_has(w->q, r->id))
		return 0;
	if (!t || t->n >= (personal ? 1 : w->batch) || t->personal != personal ||
	    strcmp(t->path, r->path) != 0 ||
	    strcmp(t->sender, r->sender) != 0) {
		if (w->n_txns >= w->max_txns) {
			w->full = 1;
			return 1;
		}
		t = xcalloc(1, sizeof(*t));
		t->q = w->q;
		t->path = xstrdup(r->path);
		t->list = xstrdup(r->list);
		t->sender = xstrdup(r->sender);
		t->personal = personal;
		t->rows = xcalloc(w->batch, sizeof(*t->rows));
		w->txns[w->n_txns++] = t;
	}
	t->rows[t->n].id = r->id;
	t->rows[t->n].rcpt = xstrdup(r->recipient);
	t->rows[t->n].attempts = r->attempts;
	t->rows[t->n].member = r->member;
	t->n++;
	w->last = r->id;
	return 0;
}

static void on_timer(struct loop *l, void *arg);

static void
schedule(struct outq *q, long ms)
{
	if (q->timer)
		loop_del_timer(q->m->loop, q->timer);
	q->timer = loop_add_timer(q->m->loop, ms, on_timer, q);
	if (q->timer < 0)
		q->timer = 0;
}

static void
fill(struct outq *q)
{
	const struct conf *c = q->m->conf;
	time_t now = time(NULL);
	size_t slots, i;
	int pass, sent = 0;

	q->want_fill = 0;
	/* Results first: a slot is free only once its results are
	 * committed (the crash bound: connections x batch). */
	flush_results(q);
	if (q->m->stopping)
		return;
	if (q->pause_until > now) {
		schedule(q, (long)(q->pause_until - now) * 1000);
		return;
	}
	if (q->smtp)
		slots = q->txns < (size_t)c->delivery_connections
		            ? (size_t)c->delivery_connections - q->txns
		            : 0;
	else
		slots = MAILDIR_ROUND;
	for (pass = 0; pass < 2 && slots > 0; pass++) {
		struct walk w;
		long seen, limit;

		memset(&w, 0, sizeof(w));
		w.q = q;
		w.batch = q->smtp ? (size_t)c->delivery_batch : 1;
		w.max_txns = slots;
		w.txns = xcalloc(slots, sizeof(*w.txns));
		w.last = q->cursor;
		limit = (long)(slots * w.batch) + (long)q->fl_n;
		seen = db_out_each(q->m->db, q->cursor, 1, limit, take_row, &w);
		q->cursor = w.last;
		if (seen >= 0 && seen < limit && !w.full)
			q->cursor = 0; /* the end: next time from the start */
		for (i = 0; i < w.n_txns; i++) {
			dispatch(q, w.txns[i]);
			sent = 1;
		}
		/* Maildir copies are written already: record them before
		 * the next walk could see their rows again. */
		if (!q->smtp)
			flush_results(q);
		slots -= w.n_txns < slots ? w.n_txns : slots;
		free(w.txns);
		if (seen < 0 || (w.full || seen >= limit))
			break; /* a full round, or an error */
	}
	if (!q->smtp && sent) {
		/* Maildir work is synchronous: yield to the loop, go on. */
		schedule(q, 0);
		return;
	}
	if (!sent && q->txns == 0) {
		time_t t;
		long ms = IDLE_RESCAN_MS;

		if (db_out_next_due(q->m->db, &t) == 1) {
			long d = (long)(t - time(NULL)) * 1000;

			ms = d < 1000 ? 1000 : d < ms ? d : ms;
		}
		schedule(q, ms);
	}
}

static void
on_timer(struct loop *l, void *arg)
{
	struct outq *q = arg;

	q->timer = 0;
	fill(q);
}

static void
on_flush(struct loop *l, void *arg)
{
	struct outq *q = arg;

	q->flush_timer = 0;
	fill(q); /* flushes first */
}

/*
 * After every loop iteration: record what finished, send what is due.
 * Finished transactions are committed together, once half the
 * connections have finished or none is still busy or FLUSH_MS have
 * passed: one commit (one WAL write, one set of locks) for several
 * transactions instead of one each.  Their slots stay taken until then,
 * so a crash still repeats at most connections x batch copies.
 */
static void
on_after(struct loop *l, void *arg)
{
	struct outq *q = arg;
	size_t half = (size_t)q->m->conf->delivery_connections / 2;

	if (q->done && q->done < (half ? half : 1) && q->done < q->txns &&
	    loop_now_ms() - q->done_since < FLUSH_MS && !q->m->stopping) {
		if (!q->flush_timer)
			q->flush_timer = loop_add_timer(l, FLUSH_MS, on_flush, q);
		if (q->flush_timer < 0)
			q->flush_timer = 0;
		return;
	}
	flush_results(q);
	if (q->want_fill)
		fill(q);
}

/* ----- orphans ------------------------------------------------------------ */

int
outq_gc(struct mlmd *m, long min_age)
{
	struct buf dir = BUF_INIT;
	struct dirent *d;
	DIR *dp;
	time_t now = time(NULL);
	int n = 0;

	buf_printf(&dir, "%s/out", m->conf->home);
	dp = opendir(buf_str(&dir));
	if (!dp) {
		buf_free(&dir);
		return 0;
	}
	while ((d = readdir(dp))) {
		struct buf rel = BUF_INIT, full = BUF_INIT;
		struct stat st;

		if (d->d_name[0] == '.' && (!d->d_name[1] ||
		                            strcmp(d->d_name, "..") == 0))
			continue;
		buf_printf(&rel, "out/%s", d->d_name);
		buf_printf(&full, "%s/%s", buf_str(&dir), d->d_name);
		/* A temporary file of a writer that died, or a copy no
		 * row waits for (a crash between the last result and the
		 * unlink, a plan whose transaction never committed). */
		if (lstat(buf_str(&full), &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime >= min_age &&
		    (d->d_name[0] == '.' ||
		     db_out_path_pending(m->db, buf_str(&rel)) == 0) &&
		    unlink(buf_str(&full)) == 0)
			n++;
		buf_free(&rel);
		buf_free(&full);
	}
	closedir(dp);
	buf_free(&dir);
	return n;
}

/* ----- life --------------------------------------------------------------- */

struct outq *
outq_new(struct mlmd *m)
{
	struct outq *q = xcalloc(1, sizeof(*q));
	const struct conf *c = m->conf;

	buf_init(&q->personal, (size_t)1 << 31);
	q->m = m;
	if (strncmp(c->relay, "maildir:", 8) == 0) {
		q->maildir = xstrdup(c->relay + 8);
		if (mkdir_p(q->maildir, 0750) < 0) {
			error("%s: %s", q->maildir, strerror(errno));
			goto fail;
		}
	} else {
		struct out_smtp_opts o;
		struct buf url = BUF_INIT;
		const char *p = strstr(c->relay, "://");

		/* libcurl takes the EHLO name from the URL's path. */
		buf_adds(&url, c->relay);
		if (p && !strchr(p + 3, '/'))
			buf_printf(&url, "/%s", c->domain);
		memset(&o, 0, sizeof(o));
		o.url = buf_str(&url);
		o.helo = c->domain;
		o.max_conns = c->delivery_connections;
		o.pipelining = c->relay_pipelining;
		q->smtp = out_smtp_new(m->loop, &o);
		buf_free(&url);
		if (!q->smtp)
			goto fail;
	}
	if (loop_add_after(m->loop, on_after, q) < 0)
		goto fail;
	q->want_fill = 1;
	return q;
fail:
	outq_free(q);
	return NULL;
}

void
outq_kick(struct outq *q, int flush)
{
	if (!q)
		return;
	q->want_fill = 1;
	if (flush) {
		/* An operator's `mlmctl flush`: try the relay now too. */
		q->pause_until = 0;
		q->relay_pause = 0;
		q->cursor = 0;
	}
}

int
outq_poke(const char *home, const char *what)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	int fd, rc = 0;

	buf_printf(&dir, "%s/kick", home);
	buf_printf(&path, "%s/%s.%ld", buf_str(&dir), what, (long)getpid());
	if (mkdir_p(buf_str(&dir), 0750) < 0 ||
	    (fd = open(buf_str(&path), O_WRONLY | O_CREAT | O_CLOEXEC,
	               0640)) < 0) {
		rc = -1;
	} else {
		close(fd);
	}
	buf_free(&dir);
	buf_free(&path);
	return rc;
}

size_t
outq_in_flight(const struct outq *q)
{
	return q ? q->txns : 0;
}

void
outq_free(struct outq *q)
{
	size_t i;

	if (!q)
		return;
	flush_results(q);
	if (q->timer)
		loop_del_timer(q->m->loop, q->timer);
	if (q->flush_timer)
		loop_del_timer(q->m->loop, q->flush_timer);
	/* Transactions still in flight are abandoned: their rows wait in the
	 * table and go out at the next start. */
	out_smtp_free(q->smtp);
	while (q->live)
		txn_free(q->live);
	for (i = 0; i < CACHE_N; i++) {
		free(q->cache[i].path);
		buf_free(&q->cache[i].data);
	}
	buf_free(&q->personal);
	free(q->res);
	free(q->copies);
	free(q->fl);
	free(q->maildir);
	free(q);
}
