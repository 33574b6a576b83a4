/*
 * ctl_held.c - the moderation queue by hand: `mlmctl held [LIST]`,
 * `approve ID...`, `reject ID... [--reason TEXT]` and `discard ID...`
 * (mlmctl(1)).  Also owns the display helpers that ctl_queue.c shares
 * (ctl_safe(), ctl_age(), ctl_when()), declared in ctl.h.
 *
 * Invariants:
 *  - A held post is decided once: db_held_decide() changes only a row
 *    still in state 'held', inside the same transaction as what the
 *    decision queues, so two moderators (or mlmctl and a moderator's
 *    mail) racing on one post cannot both act; the loser is told who
 *    won and nothing of its own is kept (rollback).
 *  - `approve` does exactly what the daemon's dispatcher does with a
 *    fresh spool file (post_prepare, post_sync, then post_commit in one
 *    transaction), with the held row's list marked as approved, so an
 *    approved post is decorated, archived and fanned out like any other.
 *    The raw message is read from HOME/store/SPOOLID, where the daemon
 *    keeps every message it accepted.
 *  - Every decision is recorded with who made it ("mlmctl by USER").
 *  - Text that came from outside (subjects, addresses, reasons, relay
 *    answers) is never written to the terminal raw: ctl_safe() turns
 *    control characters, invalid UTF-8 and bidirectional overrides into
 *    '?' and bounds the length, so a hostile subject cannot move the
 *    cursor, rewrite the screen or break the tab-separated columns.
 *  - The running daemon is told about new rows with outq_poke(); if it
 *    is not told (or not running) it finds them within 30 seconds of
 *    its next look.
 *
 * Called by mlmctl.c's dispatch table with argv[0] the command name.
 * Returns sysexits codes: 0; EX_USAGE (arguments); EX_NOUSER (no such
 * list); EX_DATAERR (no such held post, decided already, message damaged
 * in the store; the other IDs given are still handled); EX_NOINPUT (the
 * stored message is missing); EX_CONFIG (templates unusable);
 * EX_UNAVAILABLE (database cannot be opened); EX_TEMPFAIL (database or
 * disk error: nothing was changed for that ID, try again); EX_IOERR
 * (stdout).
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "dmarc.h"
#include "log.h"
#include "msg.h"
#include "outq.h"
#include "post.h"
#include "spool.h"
#include "tmpl.h"
#include "util.h"

#define SUBJECT_SHOWN 60                /* characters of a subject in `held` */
#define ADDR_SHOWN    60                /* characters of an address */
#define REASON_SHOWN  100               /* characters of a reason */
#define REASON_MAX    500               /* bytes of a --reason */
#define STORE_MAX     ((size_t)1 << 30) /* as the daemon reads the store */

/* ----- display helpers (ctl.h) -------------------------------------------- */

/* Length of the UTF-8 sequence led by b, or 0 if b cannot lead one. */
static size_t
utf8_len(unsigned char b)
{
	if (b < 0x80)
		return 1;
	if ((b & 0xe0) == 0xc0)
		return 2;
	if ((b & 0xf0) == 0xe0)
		return 3;
	if ((b & 0xf8) == 0xf0)
		return 4;
	return 0;
}

static unsigned long
utf8_decode(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	unsigned long cp = p[0] & lead_mask[n];
	size_t i;

	for (i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	return cp;
}

/* Characters a terminal acts on instead of showing: C0, DEL, C1, and the
 * bidirectional marks and overrides that reorder the rest of a line. */
static int
unsafe_cp(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

void
ctl_safe(struct buf *out, const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t chars = 0, n;

	while (*p) {
		if (chars == max_chars) {
			buf_adds(out, "...");
			return;
		}
		n = utf8_len(*p);
		if (n == 0 || strnlen((const char *)p, n) < n ||
		    !utf8_valid(p, n)) {
			/* one '?' per bad byte: a lead byte's claimed
			 * continuation is looked at on its own */
			buf_addc(out, '?');
			n = 1;
		} else if (unsafe_cp(utf8_decode(p, n))) {
			buf_addc(out, '?');
		} else {
			buf_add(out, p, n);
		}
		p += n;
		chars++;
	}
}

void
ctl_age(time_t since, time_t now, char *out, size_t outsz)
{
	long d = since && now > since ? (long)(now - since) : 0;

	if (d < 60)
		snprintf(out, outsz, "%lds", d);
	else if (d < 3600)
		snprintf(out, outsz, "%ldm", d / 60);
	else if (d < 2 * 86400)
		snprintf(out, outsz, "%ldh", d / 3600);
	else
		snprintf(out, outsz, "%ldd", d / 86400);
}

void
ctl_when(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, outsz, "@%lld", (long long)t);
}

/* ----- helpers ------------------------------------------------------------ */


/* "12" or "#12" into *id; -1 if it is no positive number. */
static int
parse_id(const char *s, long long *id)
{
	char *end;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*id = strtoll(s, &end, 10);
	if (errno || *end || *id <= 0)
		return -1;
	return 0;
}

static void
human_size(size_t n, char *out, size_t outsz)
{
	if (n >= (size_t)1 << 20)
		snprintf(out, outsz, "%.1fM", (double)n / (1 << 20));
	else if (n >= 1024)
		snprintf(out, outsz, "%.1fk", (double)n / 1024);
	else
		snprintf(out, outsz, "%zu", n);
}

/* ----- held --------------------------------------------------------------- */

struct held_walk {
	time_t now;
	long n;
	struct buf line;
};

static int
print_held(const struct held *h, void *arg)
{
	struct held_walk *w = arg;
	char age[32], size[32];

	ctl_age(h->created, w->now, age, sizeof(age));
	human_size(h->size, size, sizeof(size));
	buf_reset(&w->line);
	buf_printf(&w->line, "#%lld\t%s\t%s\t", h->id, h->list, age);
	ctl_safe(&w->line, *h->sender ? h->sender : "<>", ADDR_SHOWN);
	buf_addc(&w->line, '\t');
	ctl_safe(&w->line, *h->from_addr ? h->from_addr : "-", ADDR_SHOWN);
	buf_printf(&w->line, "\t%s\t", size);
	ctl_safe(&w->line, *h->subject ? h->subject : "(no subject)",
	         SUBJECT_SHOWN);
	buf_addc(&w->line, '\t');
	ctl_safe(&w->line, h->reason, REASON_SHOWN);
	puts(buf_str(&w->line));
	w->n++;
	return ferror(stdout) ? 1 : 0;
}

int
ctl_held(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l = NULL;
	struct held_walk w;
	struct db *db;
	int r;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE held [LIST]\n");
		return EX_USAGE;
	}
	if (argc == 2 && !(l = conf_list(ctl->conf, argv[1]))) {
		fprintf(stderr,
		        "mlmctl: held: no list '%s' in %s (give a list's "
		        "name, or none for every list)\n",
		        argv[1], ctl->conf_path);
		return EX_NOUSER;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	memset(&w, 0, sizeof(w));
	w.now = time(NULL);
	buf_init(&w.line, 4096);
	r = db_held_each(db, l ? l->name : NULL, 0, print_held, &w);
	buf_free(&w.line);
	if (r < 0) {
		fprintf(stderr, "mlmctl: held: database error (try again)\n");
		return EX_TEMPFAIL;
	}
	if (r == 0 && w.n == 0)
		printf(l ? "no held posts in %s\n" : "no held posts\n",
		       l ? l->name : "");
	return ctl_flush_stdout();
}

/* ----- approve, reject, discard ------------------------------------------- */

enum decision { APPROVE, REJECT, DISCARD };

static const char *const decision_state[] = {
    [APPROVE] = "approved", [REJECT] = "rejected", [DISCARD] = "discarded"};

struct decide {
	struct ctl *ctl;
	struct db *db;
	struct tmpl_set *tmpl; /* loaded for approve and reject */
	struct dmarc *dmarc;   /* approve: the authors' DMARC policies */
	const char *cmd;
	enum decision what;
	const char *reason; /* reject: told to the sender */
	char by[160];
	int queued; /* something new is in the outbound table */
};

/* The held post #id if it can still be decided; else says why and
 * returns a sysexits code. */
static int
get_held(struct decide *d, long long id, struct held *h)
{
	int r = db_held_get(d->db, id, h);

	if (r < 0) {
		fprintf(stderr,
		        "mlmctl: %s: #%lld: database error (try again)\n",
		        d->cmd, id);
		return EX_TEMPFAIL;
	}
	if (r == 1) {
		fprintf(stderr,
		        "mlmctl: %s: there is no held post #%lld (see mlmctl "
		        "held)\n",
		        d->cmd, id);
		return EX_DATAERR;
	}
	if (strcmp(h->state, "held") != 0) {
		struct buf by = BUF_INIT;
		char when[64];

		ctl_when(h->decided_at, when, sizeof(when));
		ctl_safe(&by, *h->decided_by ? h->decided_by : "mlmd", 100);
		if (strcmp(h->state, "expired") == 0)
			fprintf(stderr,
			        "mlmctl: %s: #%lld expired unmoderated at %s "
			        "(ask the sender to post again)\n",
			        d->cmd, id, when);
		else
			fprintf(
			    stderr,
			    "mlmctl: %s: #%lld was already %s by %s at %s\n",
			    d->cmd, id, h->state, buf_str(&by), when);
		buf_free(&by);
		return EX_DATAERR;
	}
	return EX_OK;
}

static int
load_templates(struct decide *d)
{
	struct buf err = BUF_INIT;

	if (d->tmpl)
		return EX_OK;
	if (!d->dmarc)
		d->dmarc = post_dmarc_new(d->ctl->conf);
	d->tmpl = tmpl_set_load(d->ctl->conf->templates, &err);
	if (!d->tmpl) {
		fprintf(stderr,
		        "mlmctl: %s: the templates in %s are unusable: %s "
		        "(check `templates` in %s)\n",
		        d->cmd, d->ctl->conf->templates, buf_str(&err),
		        d->ctl->conf_path);
		buf_free(&err);
		return EX_CONFIG;
	}
	buf_free(&err);
	return EX_OK;
}

/* Another decision came first between db_held_get() and our transaction. */
static int
lost_race(struct decide *d, long long id)
{
	struct held h;

	db_rollback(d->db);
	if (db_held_get(d->db, id, &h) == 0) {
		get_held(d, id, &h);
		held_clear(&h);
	}
	return EX_DATAERR;
}

/*
 * Approve: the stored message through post_prepare() for the held row's
 * list, approved, like the dispatcher would.
 */
static int
approve(struct decide *d, const struct held *h, const struct list_conf *l)
{
	const struct conf *c = d->ctl->conf;
	struct post_ctx ctx = {c, d->db, d->tmpl, d->dmarc};
	struct buf path = BUF_INIT, file = BUF_INIT, why = BUF_INIT;
	struct spool_env env;
	struct msg *msg = NULL;
	struct post_plan *plan = NULL;
	struct route route;
	size_t off, k;
	long copies = 0;
	int r, ex = EX_TEMPFAIL;

	memset(&env, 0, sizeof(env));
	buf_printf(&path, "%s/store/%s", c->home, h->spool_id);
	buf_init(&file, STORE_MAX);
	if (read_file(buf_str(&path), &file) < 0) {
		int e = errno;

		ex = e == ENOENT ? EX_NOINPUT : EX_IOERR;
		fprintf(stderr,
		        "mlmctl: approve: #%lld: cannot read the held message "
		        "%s: %s (restore the file, or discard the post)\n",
		        h->id, buf_str(&path), strerror(e));
		goto out;
	}
	if (spool_parse(file.s, file.len, &env, &off, &why) < 0) {
		fprintf(stderr,
		        "mlmctl: approve: #%lld: %s is damaged: %s (discard "
		        "the post)\n",
		        h->id, buf_str(&path), buf_str(&why));
		ex = EX_DATAERR;
		goto out;
	}
	buf_reset(&why);
	if (msg_parse(file.s + off, env.size, &msg_default_limits, &msg, &why) <
	    0) {
		fprintf(stderr,
		        "mlmctl: approve: #%lld: the message cannot be read: "
		        "%s (discard the post)\n",
		        h->id, buf_str(&why));
		msg = NULL;
		ex = EX_DATAERR;
		goto out;
	}
	memset(&route, 0, sizeof(route));
	route.list = l;
	route.role = ROLE_POST;
	plan = post_prepare(&ctx, h->spool_id, &env, msg, file.s + off,
	                    env.size, &route, 1, l->name);
	if (post_sync(c) < 0) {
		fprintf(stderr,
		        "mlmctl: approve: #%lld: cannot flush %s/out (check "
		        "the disk, then try again)\n",
		        h->id, c->home);
		goto out;
	}
	if (db_begin(d->db) < 0)
		goto tempfail;
	r = db_held_decide(d->db, h->id, "approved", d->by);
	if (r == 1) {
		ex = lost_race(d, h->id);
		goto out;
	}
	if (r < 0 || post_commit(&ctx, plan) < 0) {
		db_rollback(d->db);
		goto tempfail;
	}
	copies = post_plan_queued(plan);
	if (copies < 0 || db_commit(d->db) < 0) {
		db_rollback(d->db);
		goto tempfail;
	}
	post_log(plan);
	d->queued = 1;
	printf("approved #%lld: %ld copies queued\n", h->id, copies);
	for (k = 0; k < post_plan_n_held(plan); k++)
		printf("#%lld was held again as #%lld (see mlmctl held)\n",
		       h->id, post_plan_held(plan, k));
	ex = EX_OK;
	goto out;
tempfail:
	fprintf(stderr,
	        "mlmctl: approve: #%lld: database or disk error, not approved "
	        "(try again)\n",
	        h->id);
	ex = EX_TEMPFAIL;
out:
	post_plan_free(plan);
	msg_free(msg);
	spool_env_clear(&env);
	buf_free(&path);
	buf_free(&file);
	buf_free(&why);
	return ex;
}

/* Reject (with a notice to the sender) or discard, in one transaction. */
static int
refuse(struct decide *d, const struct held *h)
{
	struct post_ctx ctx = {d->ctl->conf, d->db, d->tmpl, NULL};
	int r, notified = 0;

	if (db_begin(d->db) < 0)
		goto tempfail;
	r = db_held_decide(d->db, h->id, decision_state[d->what], d->by);
	if (r == 1)
		return lost_race(d, h->id);
	if (r < 0)
		goto rollback;
	if (d->what == REJECT && *h->sender) {
		r = post_notify(&ctx, h->list, h->spool_id, h->sender,
		                "rejected.txt", h->subject, h->message_id,
		                d->reason);
		if (r < 0)
			goto rollback;
		notified = r == 0;
	}
	if (db_commit(d->db) < 0)
		goto rollback;
	if (notified)
		d->queued = 1;
	printf("%s #%lld%s\n", decision_state[d->what], h->id,
	       d->what == DISCARD ? ""
	       : notified         ? ": the sender is told"
	                          : ": no notice sent (null sender or "
	                            "notice limit)");
	return EX_OK;
rollback:
	db_rollback(d->db);
tempfail:
	fprintf(stderr,
	        "mlmctl: %s: #%lld: database or disk error, nothing changed "
	        "(try again)\n",
	        d->cmd, h->id);
	return EX_TEMPFAIL;
}

static int
decide_one(struct decide *d, long long id)
{
	const struct list_conf *l;
	struct held h;
	int ex;

	if ((ex = get_held(d, id, &h)) != EX_OK)
		goto out;
	if (!(l = conf_list(d->ctl->conf, h.list)) && d->what != DISCARD) {
		fprintf(stderr,
		        "mlmctl: %s: #%lld: list '%s' is no longer in %s "
		        "(discard the post)\n",
		        d->cmd, id, h.list, d->ctl->conf_path);
		ex = EX_DATAERR;
		goto out;
	}
	if (d->what != DISCARD && (ex = load_templates(d)) != EX_OK)
		goto out;
	ex = d->what == APPROVE ? approve(d, &h, l) : refuse(d, &h);
out:
	held_clear(&h);
	return ex;
}

/* A reason given on the command line goes into a mail: one line of
 * printable text. */
static int
reason_ok(const char *s)
{
	const unsigned char *p;

	if (strlen(s) > REASON_MAX || !utf8_valid(s, strlen(s)))
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int
decide_cmd(struct ctl *ctl, int argc, char **argv, enum decision what)
{
	struct decide d;
	long long *ids;
	size_t n_ids = 0, k;
	int i, ex = EX_OK, r;

	memset(&d, 0, sizeof(d));
	d.ctl = ctl;
	d.cmd = argv[0];
	d.what = what;
	d.reason = "a moderator rejected it";
	ids = xcalloc((size_t)argc, sizeof(*ids));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (what == REJECT && strncmp(a, "--reason", 8) == 0 &&
		    (a[8] == '\0' || a[8] == '=')) {
			if (a[8] == '=') {
				d.reason = a + 9;
			} else if (i + 1 < argc) {
				d.reason = argv[++i];
			} else {
				fprintf(stderr, "mlmctl: reject: --reason "
				                "needs a text\n");
				ex = EX_USAGE;
				break;
			}
			if (!*d.reason || !reason_ok(d.reason)) {
				fprintf(stderr,
				        "mlmctl: reject: the reason must be "
				        "one line of UTF-8 text, at most %d "
				        "bytes\n",
				        REASON_MAX);
				free(ids);
				return EX_USAGE;
			}
			continue;
		}
		if (parse_id(a, &ids[n_ids]) < 0) {
			if (a[0] == '-')
				fprintf(stderr,
				        "mlmctl: %s: unknown option '%s' "
				        "(see mlmctl --help)\n",
				        d.cmd, a);
			else
				fprintf(stderr,
				        "mlmctl: %s: '%s' is not a held post's "
				        "ID (a number, as mlmctl held shows "
				        "it)\n",
				        d.cmd, a);
			ex = EX_USAGE;
			break;
		}
		n_ids++;
	}
	if (ex == EX_OK && n_ids == 0) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE %s ID...%s\n",
		        d.cmd, what == REJECT ? " [--reason TEXT]" : "");
		ex = EX_USAGE;
	}
	if (ex == EX_USAGE) {
		free(ids);
		return ex;
	}
	snprintf(d.by, sizeof(d.by), "mlmctl by %s", ctl->operator);
	if (!(d.db = ctl_db(ctl))) {
		free(ids);
		return EX_UNAVAILABLE;
	}
	for (k = 0; k < n_ids; k++) {
		r = decide_one(&d, ids[k]);
		if (r != EX_OK && ex == EX_OK)
			ex = r;
		if (r == EX_TEMPFAIL || r == EX_CONFIG)
			break; /* the next ones would fail the same way */
	}
	if (d.queued && outq_poke(ctl->conf->home, "queue") < 0)
		fprintf(stderr,
		        "mlmctl: %s: could not tell the daemon (%s/kick): it "
		        "sends within 30 seconds anyway\n",
		        d.cmd, ctl->conf->home);
	tmpl_set_free(d.tmpl);
	dmarc_free(d.dmarc);
	free(ids);
	r = ctl_flush_stdout();
	return ex != EX_OK ? ex : r;
}

int
ctl_approve(struct ctl *ctl, int argc, char **argv)
{
	return decide_cmd(ctl, argc, argv, APPROVE);
}

int
ctl_reject(struct ctl *ctl, int argc, char **argv)
{
	return decide_cmd(ctl, argc, argv, REJECT);
}

int
ctl_discard(struct ctl *ctl, int argc, char **argv)
{
	return decide_cmd(ctl, argc, argv, DISCARD);
}
