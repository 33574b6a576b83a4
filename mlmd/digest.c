/*
 * digest.c - collecting, scheduling and sending digests (digest.h); the
 * mails themselves are digest_compose.c's.
 *
 * Invariants: an issue is closed (db_digest_close) before anything is
 * composed, so no post can join it after its copies are made; its copies
 * are queued and the issue marked sent in one transaction, after the
 * files they name are durable (post_sync); the schedule is computed from
 * the issue's opening time, never kept in memory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "db.h"
#include "digest.h"
#include "digest_compose.h"
#include "log.h"
#include "msg.h"
#include "post.h"
#include "spool.h"
#include "util.h"

#define STORE_MAX ((size_t)1 << 30)
/* Bigger than this, a digest is still sent, but it says it was cut. */
#define DIGEST_MAX ((size_t)64 << 20)

int
digest_collect(const struct conf *c, struct db *db,
               const struct list_conf *l, long long row, size_t size)
{
	const char **names = xcalloc(c->n_lists + 1, sizeof(*names));
	size_t n = post_lists(c, l, names, c->n_lists), i;
	int due = 0;

	for (i = 0; i < n; i++) {
		const struct list_conf *one = conf_list(c, names[i]);
		long total;

		if (!one || one->digest == DIGEST_NONE)
			continue;
		total = db_digest_add(db, one->name, row, size);
		if (total < 0) {
			free(names);
			return -1;
		}
		if ((size_t)total >= one->digest_size)
			due = 1;
	}
	free(names);
	return due;
}

/* ----- the schedule ----------------------------------------------------- */

/* TZ set to the list's zone while computing; restored after. */
struct tz {
	char *saved;
	int had;
};

static void
tz_enter(struct tz *t, const char *zone)
{
	const char *now = getenv("TZ");

	t->had = now != NULL;
	t->saved = now ? xstrdup(now) : NULL;
	setenv("TZ", zone && *zone ? zone : "UTC", 1);
	tzset();
}

static void
tz_leave(struct tz *t)
{
	if (t->had)
		setenv("TZ", t->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(t->saved);
}

time_t
digest_due(const struct list_conf *l, time_t created)
{
	struct tz tz;
	struct tm tm;
	time_t at = 0;
	int i;

	if (l->digest == DIGEST_NONE)
		return 0;
	tz_enter(&tz, l->timezone);
	localtime_r(&created, &tm);
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_hour = l->digest_hour;
	tm.tm_isdst = -1;
	switch (l->digest) {
	case DIGEST_DAILY:
		/* the first digest_hour after created */
		for (i = 0; i < 3; i++) {
			struct tm t = tm;

			t.tm_mday += i;
			t.tm_isdst = -1;
			at = mktime(&t);
			if (at > created)
				break;
		}
		break;
	case DIGEST_WEEKLY:
		for (i = 0; i < 9; i++) {
			struct tm t = tm;

			t.tm_mday += i;
			t.tm_isdst = -1;
			at = mktime(&t);
			if (t.tm_wday == l->digest_day && at > created)
				break;
		}
		break;
	case DIGEST_MONTHLY:
		for (i = 0; i < 3; i++) {
			struct tm t = tm;

			t.tm_mday = 1;
			t.tm_mon += i;
			t.tm_isdst = -1;
			at = mktime(&t);
			if (at > created)
				break;
		}
		break;
	default:
		break;
	}
	tz_leave(&tz);
	return at;
}

/* ----- sending ------------------------------------------------------------- */

struct item {
	struct digest_post p;
	struct buf file;      /* the stored file; p.raw points into it */
	struct spool_env env;
	char *subject, *from_name, *from_addr, *message_id, *url;
};

struct items {
	const struct conf *c;
	const struct list_conf *l;
	struct item *v;
	size_t n, cap;
};

static int
item_add(const struct arch_row *r, void *arg)
{
	struct items *it = arg;
	struct item *x;
	struct buf path = BUF_INIT, why = BUF_INIT, url = BUF_INIT;
	size_t off = 0;

	if (it->n == it->cap) {
		it->cap = it->cap ? 2 * it->cap : 32;
		it->v = xrealloc(it->v, it->cap * sizeof(*it->v));
	}
	x = &it->v[it->n];
	memset(x, 0, sizeof(*x));
	buf_init(&x->file, STORE_MAX);
	buf_printf(&path, "%s/%s", it->c->home, r->path);
	if (read_file(buf_str(&path), &x->file) < 0 ||
	    spool_parse(x->file.s, x->file.len, &x->env, &off, &why) < 0 ||
	    off + x->env.size > x->file.len) {
		/* gone from the store (retention): left out, said in the log */
		error("digest: %s: post %s: cannot read %s %s", it->l->name,
		      r->message_id, buf_str(&path), buf_str(&why));
		buf_free(&x->file);
		spool_env_clear(&x->env);
		buf_free(&path);
		buf_free(&why);
		return 0;
	}
	x->subject = xstrdup(r->subject);
	x->from_name = xstrdup(r->erased ? "" : r->from_name);
	x->from_addr = xstrdup(r->from_addr);
	x->message_id = xstrdup(r->message_id);
	if (it->l->archive == ARCH_PUBLIC && it->c->base_url &&
	    *it->c->base_url)
		post_permalink(it->c, it->l->name, r->message_id, &url);
	x->url = buf_detach(&url, NULL);
	x->p.raw = x->file.s + off;
	x->p.len = x->env.size;
	x->p.subject = x->subject;
	x->p.from_name = x->from_name;
	x->p.from_addr = x->from_addr;
	x->p.message_id = x->message_id;
	x->p.date = r->date;
	x->p.thread = r->thread;
	x->p.archive_url = x->url;
	it->n++;
	buf_free(&path);
	buf_free(&why);
	return 0;
}

static void
items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];

		buf_free(&x->file);
		spool_env_clear(&x->env);
		free(x->subject);
		free(x->from_name);
		free(x->from_addr);
		free(x->message_id);
		free(x->url);
	}
	free(it->v);
}

/* One recipient with the file made for their format and language. */
struct copy {
	char *address;
	int plain;
	char lang[16];
};

struct copies {
	const struct list_conf *l;
	struct copy *v;
	size_t n, cap;
};

static int
copy_add(const char *address, int plain, const char *language, void *arg)
{
	struct copies *cs = arg;
	struct copy *x;

	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 64;
		cs->v = xrealloc(cs->v, cs->cap * sizeof(*cs->v));
	}
	x = &cs->v[cs->n++];
	x->address = xstrdup(address);
	x->plain = plain;
	strlcpy_(x->lang, *language ? language : cs->l->language,
	         sizeof(x->lang));
	return 0;
}

/* The file of one (format, language): composed once, in HOME/out. */
struct made {
	int plain;
	char lang[16];
	char *rel;
	char mid[256];
};

static const struct made *
made_for(const struct conf *c, const struct list_conf *l,
         const struct digest_row *d, struct items *it, int plain,
         const char *lang, struct made **m, size_t *n, time_t now)
{
	struct digest_info di;
	struct buf out = BUF_INIT, request = BUF_INIT, archive = BUF_INIT;
	struct buf name = BUF_INIT;
	struct digest_post *posts;
	struct made *x;
	size_t i;
	int rc;

	for (i = 0; i < *n; i++)
		if ((*m)[i].plain == plain && strcmp((*m)[i].lang, lang) == 0)
			return &(*m)[i];
	*m = xrealloc(*m, (*n + 1) * sizeof(**m));
	x = &(*m)[*n];
	memset(x, 0, sizeof(*x));
	x->plain = plain;
	strlcpy_(x->lang, lang, sizeof(x->lang));
	snprintf(x->mid, sizeof(x->mid), "digest.%s.%lld.%lld.%s.%s@%s",
	         l->name, d->volume, d->issue, plain ? "plain" : "mime", lang,
	         c->domain);
	buf_printf(&request, "%s-request@%s", l->name, c->domain);
	if (l->archive == ARCH_PUBLIC && c->base_url && *c->base_url)
		buf_printf(&archive, "%s/archive/%s/", c->base_url, l->name);
	memset(&di, 0, sizeof(di));
	di.list = l->name;
	di.list_address = l->address;
	di.request_address = buf_str(&request);
	di.description = l->description;
	di.lang = lang;
	di.templates = c->templates ? c->templates : ".";
	di.timezone = l->timezone;
	di.archive_url = buf_str(&archive);
	di.volume = d->volume;
	di.issue = d->issue;
	di.date = now;
	di.attachments_link = l->digest_link;
	di.message_id = x->mid;
	posts = xcalloc(it->n ? it->n : 1, sizeof(*posts));
	for (i = 0; i < it->n; i++)
		posts[i] = it->v[i].p;
	buf_init(&out, DIGEST_MAX);
	rc = plain ? digest_compose_plain(&di, posts, it->n, &out)
	           : digest_compose_mime(&di, posts, it->n, &out);
	free(posts);
	buf_printf(&name, "digest-%s-%lld-%lld-%s-%s.eml", l->name, d->volume,
	           d->issue, plain ? "plain" : "mime", lang);
	if (rc < 0 || post_write_out(c, buf_str(&name), NULL, out.s, out.len,
	                             &x->rel) < 0) {
		error("digest: %s: vol %lld issue %lld: cannot write the %s "
		      "digest",
		      l->name, d->volume, d->issue, plain ? "plain" : "MIME");
		x->rel = NULL;
	}
	(*n)++;
	buf_free(&out);
	buf_free(&request);
	buf_free(&archive);
	buf_free(&name);
	return x;
}

/* Compose and queue issue d of l (closed or open); 0 / -1. */
static int
send_issue(const struct conf *c, struct db *db, const struct list_conf *l,
           struct digest_row *d, time_t now)
{
	struct items it;
	struct copies cs;
	struct made *made = NULL;
	size_t n_made = 0, i;
	struct buf bounce = BUF_INIT;
	int rc = -1;

	if (d->built == 0 && db_digest_close(db, d->id) < 0)
		return -1;
	memset(&it, 0, sizeof(it));
	it.c = c;
	it.l = l;
	memset(&cs, 0, sizeof(cs));
	cs.l = l;
	if (db_digest_items(db, d->id, item_add, &it) < 0 ||
	    db_digest_members(db, l->name, copy_add, &cs) < 0)
		goto out;
	for (i = 0; i < cs.n; i++)
		if (!made_for(c, l, d, &it, cs.v[i].plain, cs.v[i].lang, &made,
		              &n_made, now)->rel)
			goto out;
	if (n_made && post_sync(c) < 0)
		goto out;
	buf_printf(&bounce, "%s%cbounce@%s", l->name, c->separator, c->domain);
	if (db_begin(db) < 0)
		goto out;
	for (i = 0; i < cs.n; i++) {
		const struct made *x = made_for(c, l, d, &it, cs.v[i].plain,
		                                cs.v[i].lang, &made, &n_made,
		                                now);

		if (db_out_add(db, l->name, "digest", x->mid, x->rel,
		               buf_str(&bounce), cs.v[i].address,
		               c->delivery_lifetime) < 0) {
			db_rollback(db);
			goto out;
		}
	}
	if (db_digest_sent(db, d->id) < 0 ||
	    db_log_event(db, l->name, "digest", "", (long)cs.n) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		goto out;
	}
	log_info("digest: %s: vol %lld issue %lld, %zu posts, queued for %zu "
	         "members (%zu versions)",
	         l->name, d->volume, d->issue, it.n, cs.n, n_made);
	rc = 0;
out:
	for (i = 0; i < n_made; i++)
		free(made[i].rel);
	free(made);
	for (i = 0; i < cs.n; i++)
		free(cs.v[i].address);
	free(cs.v);
	items_free(&it);
	buf_free(&bounce);
	return rc;
}

long
digest_run(const struct conf *c, struct db *db, time_t now)
{
	long sent = 0;
	size_t i;

	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];
		struct digest_row d;
		int r;

		/* one a crash left closed but unsent comes first */
		while ((r = db_digest_get(db, l->name, "built", &d)) == 0) {
			if (send_issue(c, db, l, &d, now) < 0)
				return -1;
			sent++;
		}
		if (r < 0)
			return -1;
		if (l->digest == DIGEST_NONE)
			continue;
		r = db_digest_get(db, l->name, "collecting", &d);
		if (r < 0)
			return -1;
		if (r == 1 || d.n_items == 0)
			continue;
		if (now >= digest_due(l, d.created) || d.size >= l->digest_size) {
			if (send_issue(c, db, l, &d, now) < 0)
				return -1;
			sent++;
		}
	}
	return sent;
}

int
digest_send_now(const struct conf *c, struct db *db, const char *list)
{
	const struct list_conf *l = conf_list(c, list);
	struct digest_row d;
	int r;

	if (!l)
		return -1;
	while ((r = db_digest_get(db, l->name, "built", &d)) == 0)
		if (send_issue(c, db, l, &d, time(NULL)) < 0)
			return -1;
	if (r < 0)
		return -1;
	r = db_digest_get(db, l->name, "collecting", &d);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (d.n_items == 0)
		return 0;
	return send_issue(c, db, l, &d, time(NULL)) < 0 ? -1 : 1;
}
