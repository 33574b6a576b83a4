/*
 * archive.c - the static archive pages (archive.h).
 *
 * Invariants: nothing from a mail reaches a page unescaped
 * (msghtml_escape(), msghtml_body()); file names are made here (the
 * permalink hash, the month "YYYY-MM"), never from a mail; a page is
 * replaced by rename.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "msg.h"
#include "msghtml.h"
#include "post.h"
#include "spool.h"
#include "thread.h"
#include "util.h"

#define STORE_MAX ((size_t)1 << 30)

static const char style_css[] =
    "body{font-family:system-ui,sans-serif;max-width:50rem;margin:0 auto;"
    "padding:0.5rem 1rem;line-height:1.5;color:#1b1b1b;background:#fff}\n"
    "a{color:#0b4f9e}\n"
    "header.list{border-bottom:1px solid #ccc;margin-bottom:1rem}\n"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "blockquote{margin:0.3rem 0;padding-left:0.8rem;"
    "border-left:3px solid #8a8a8a;color:#444}\n"
    ".sig{color:#555;white-space:pre-wrap}\n"
    "ul.threads ul{padding-left:1.2rem}\n"
    ".meta{color:#444}\n"
    "@media (prefers-color-scheme: dark){body{background:#111;color:#eee}"
    "a{color:#8ab4f8}blockquote{color:#bbb}.meta,.sig{color:#bbb}}\n";

/* Write HOME/archive/REL from buf via a temporary name. */
static int
write_page(const struct conf *c, const char *rel, const struct buf *b)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT, dir = BUF_INIT;
	const char *slash;
	int fd, rc = -1;

	buf_printf(&path, "%s/archive/%s", c->home, rel);
	slash = strrchr(buf_str(&path), '/');
	buf_add(&dir, buf_str(&path), (size_t)(slash - buf_str(&path)));
	buf_printf(&tmp, "%s/.%s.tmp", buf_str(&dir), slash + 1);
	if (mkdir_p(buf_str(&dir), 0755) < 0) {
		error("%s: %s", buf_str(&dir), strerror(errno));
		goto out;
	}
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	          0644);
	if (fd < 0 || write_all(fd, b->s ? b->s : "", b->len) < 0) {
		error("%s: %s", buf_str(&tmp), strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(buf_str(&tmp));
		goto out;
	}
	if (close(fd) < 0 || rename(buf_str(&tmp), buf_str(&path)) < 0) {
		error("%s: %s", buf_str(&path), strerror(errno));
		unlink(buf_str(&tmp));
		goto out;
	}
	rc = 0;
out:
	buf_free(&path);
	buf_free(&tmp);
	buf_free(&dir);
	return rc;
}

static void
esc(struct buf *b, const char *s)
{
	msghtml_escape(s, strlen(s), b);
}

/* The page's head and the list's header; depth: "../" steps to the
 * list's folder. */
static void
page_start(struct buf *b, const struct conf *c, const struct list_conf *l,
           const char *title, const char *up)
{
	char sep = c->separator ? c->separator : '+';

	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"%s>\n<head>\n"
	              "<meta charset=\"utf-8\">\n"
	              "<meta name=\"viewport\" content=\"width=device-width, "
	              "initial-scale=1\">\n<title>",
	           l->language, strcmp(l->language, "ar") == 0 ? " dir=\"rtl\""
	                                                        : "");
	esc(b, title);
	buf_printf(b, "</title>\n<link rel=\"stylesheet\" href=\"%s../"
	              "style.css\">\n<link rel=\"alternate\" "
	              "type=\"application/atom+xml\" href=\"%sfeed.atom\">\n"
	              "</head>\n<body>\n<header class=\"list\">"
	              "<p><a href=\"%sindex.html\">",
	           up, up, up);
	esc(b, l->name);
	buf_adds(b, "</a>");
	if (*l->description) {
		buf_adds(b, ": ");
		esc(b, l->description);
	}
	buf_adds(b, "</p><p class=\"meta\">To join, send an empty mail to "
	            "<a href=\"mailto:");
	buf_printf(b, "%s%csubscribe@", l->name, sep);
	esc(b, strchr(l->address, '@') + 1);
	buf_printf(b, "\">%s%csubscribe@", l->name, sep);
	esc(b, strchr(l->address, '@') + 1);
	buf_adds(b, "</a></p></header>\n<main>\n");
}

static void
page_end(struct buf *b)
{
	buf_adds(b, "</main>\n</body>\n</html>\n");
}

static void
date_text(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

/* The permalink hash of message_id (post_permalink's last part). */
static void
hash_of(const struct conf *c, const char *list, const char *message_id,
        char *out, size_t n)
{
	char h[17];

	(void)c;
	(void)list;
	post_permalink_hash(message_id, h);
	strlcpy_(out, h, n);
}

/* ----- a message's page ------------------------------------------------ */

struct one {
	const struct conf *c;
	const struct list_conf *l;
	int rc;
	char month[16];
};

static int
render_message(const struct arch_row *r, void *arg)
{
	struct one *o = arg;
	struct buf path = BUF_INIT, file = BUF_INIT, why = BUF_INIT;
	struct buf b = BUF_INIT, rel = BUF_INIT;
	struct spool_env env;
	struct msg *m = NULL;
	struct msghtml_opts mo = {1, NULL};
	char hash[40], when[64];
	size_t off;

	o->rc = -1;
	strlcpy_(o->month, r->month, sizeof(o->month));
	memset(&env, 0, sizeof(env));
	buf_printf(&path, "%s/%s", o->c->home, r->path);
	buf_init(&file, STORE_MAX);
	buf_init(&b, (size_t)1 << 30);
	if (read_file(buf_str(&path), &file) < 0 ||
	    spool_parse(file.s, file.len, &env, &off, &why) < 0 ||
	    msg_parse(file.s + off, env.size, &msg_default_limits, &m, &why) <
	        0) {
		error("archive: %s: cannot read %s %s", o->l->name,
		      buf_str(&path), buf_str(&why));
		m = NULL;
		goto out;
	}
	hash_of(o->c, o->l->name, r->message_id, hash, sizeof(hash));
	page_start(&b, o->c, o->l, *r->subject ? r->subject : "(no subject)",
	           "../");
	buf_adds(&b, "<article>\n<h1>");
	esc(&b, *r->subject ? r->subject : "(no subject)");
	buf_adds(&b, "</h1>\n<p class=\"meta\">");
	msghtml_address(r->from_name, r->from_addr, &mo, &b);
	date_text(r->date, when, sizeof(when));
	buf_printf(&b, " &middot; <time>%s</time> &middot; <a href=\"../%s/"
	               "index.html\">%s</a></p>\n",
	           when, r->month, r->month);
	if (msghtml_body(m, &mo, &b) < 0)
		goto out;
	buf_adds(&b, "<p class=\"meta\"><a href=\"mailto:");
	buf_printf(&b, "%s", o->l->address);
	buf_adds(&b, "?In-Reply-To=%3C");
	{
		const unsigned char *p;

		/* percent-encode the id for the URL */
		for (p = (const unsigned char *)r->message_id; *p; p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("-._~@", *p))
				buf_addc(&b, (char)*p);
			else
				buf_printf(&b, "%%%02X", *p);
	}
	buf_adds(&b, "%3E\">Reply to the list by mail</a></p>\n</article>\n");
	page_end(&b);
	buf_printf(&rel, "%s/m/%s.html", o->l->name, hash);
	o->rc = write_page(o->c, buf_str(&rel), &b);
out:
	msg_free(m);
	spool_env_clear(&env);
	buf_free(&path);
	buf_free(&file);
	buf_free(&why);
	buf_free(&b);
	buf_free(&rel);
	return 1;
}

/* ----- a month's page --------------------------------------------------- */

struct month {
	const struct conf *c;
	const struct list_conf *l;
	struct thread_msg *msgs;
	char **strs;     /* owned copies the thread_msgs point into */
	char ***refs;
	size_t n, cap, n_strs, cap_strs;
};

static char *
keep(struct month *mo, const char *s)
{
	if (mo->n_strs == mo->cap_strs) {
		mo->cap_strs = mo->cap_strs ? 2 * mo->cap_strs : 64;
		mo->strs = xrealloc(mo->strs, mo->cap_strs * sizeof(char *));
	}
	return mo->strs[mo->n_strs++] = xstrdup(s);
}

static int
collect(const struct arch_row *r, void *arg)
{
	struct month *mo = arg;
	struct thread_msg *t;
	const char *p;
	size_t nr = 0;

	if (mo->n == mo->cap) {
		mo->cap = mo->cap ? 2 * mo->cap : 64;
		mo->msgs = xrealloc(mo->msgs, mo->cap * sizeof(*mo->msgs));
		mo->refs = xrealloc(mo->refs, mo->cap * sizeof(*mo->refs));
	}
	t = &mo->msgs[mo->n];
	memset(t, 0, sizeof(*t));
	t->id = keep(mo, r->message_id);
	t->in_reply_to = keep(mo, r->in_reply_to);
	t->subject = keep(mo, r->subject);
	t->date = (long long)r->date;
	/* user: "name\naddr\n" for the index line */
	{
		struct buf u = BUF_INIT;

		buf_printf(&u, "%s\n%s", r->from_name, r->from_addr);
		t->user = keep(mo, buf_str(&u));
		buf_free(&u);
	}
	mo->refs[mo->n] = xcalloc(THREAD_MAX_REFS + 1, sizeof(char *));
	for (p = r->refs; *p && nr < THREAD_MAX_REFS;) {
		size_t k = strcspn(p, " ");

		if (k) {
			char *one = xcalloc(k + 1, 1);

			memcpy(one, p, k);
			mo->refs[mo->n][nr++] = one;
		}
		p += k;
		while (*p == ' ')
			p++;
	}
	t->refs = (const char *const *)mo->refs[mo->n];
	t->n_refs = nr;
	mo->n++;
	return 0;
}

struct walk {
	struct month *mo;
	struct buf *b;
	size_t depth;
};

static int
index_line(const struct thread_node *n, size_t depth, void *arg)
{
	struct walk *w = arg;
	struct msghtml_opts mo = {1, NULL};
	char hash[40], when[64];

	while (w->depth < depth + 1) {
		buf_adds(w->b, "<ul>\n");
		w->depth++;
	}
	while (w->depth > depth + 1) {
		buf_adds(w->b, "</ul>\n");
		w->depth--;
	}
	buf_adds(w->b, "<li>");
	if (!n->msg) {
		buf_adds(w->b, "<span class=\"meta\">(an earlier message, not in "
		               "this month)</span>");
	} else {
		const char *u = n->msg->user, *nl = strchr(u, '\n');
		char name[256];

		snprintf(name, sizeof(name), "%.*s",
		         nl ? (int)(nl - u) : 0, u);
		hash_of(w->mo->c, w->mo->l->name, n->msg->id, hash,
		        sizeof(hash));
		buf_printf(w->b, "<a href=\"../m/%s.html\">", hash);
		esc(w->b, *n->msg->subject ? n->msg->subject : "(no subject)");
		buf_adds(w->b, "</a> <span class=\"meta\">");
		msghtml_address(name, nl ? nl + 1 : "", &mo, w->b);
		date_text((time_t)n->msg->date, when, sizeof(when));
		buf_printf(w->b, ", %s</span>", when);
	}
	buf_adds(w->b, "</li>\n");
	return 0;
}

static int
render_month(const struct conf *c, struct db *db, const struct list_conf *l,
             const char *month)
{
	struct month mo;
	struct thread_set *ts;
	struct buf b = BUF_INIT, rel = BUF_INIT, title = BUF_INIT;
	struct walk w;
	size_t i, j;
	int rc = -1;

	memset(&mo, 0, sizeof(mo));
	mo.c = c;
	mo.l = l;
	if (db_archive_month(db, l->name, month, collect, &mo) < 0)
		goto out;
	ts = thread_build(mo.msgs, mo.n);
	buf_init(&b, (size_t)1 << 30);
	buf_printf(&title, "%s: %s", l->name, month);
	page_start(&b, c, l, buf_str(&title), "../");
	buf_adds(&b, "<h1>");
	esc(&b, buf_str(&title));
	buf_printf(&b, "</h1>\n<p class=\"meta\">%zu messages</p>\n"
	               "<ul class=\"threads\">\n",
	           mo.n);
	w.mo = &mo;
	w.b = &b;
	w.depth = 1;
	thread_walk(ts, index_line, &w);
	while (w.depth-- > 1)
		buf_adds(&b, "</ul>\n");
	buf_adds(&b, "</ul>\n");
	page_end(&b);
	thread_free(ts);
	buf_printf(&rel, "%s/%s/index.html", l->name, month);
	rc = write_page(c, buf_str(&rel), &b);
out:
	for (i = 0; i < mo.n; i++) {
		for (j = 0; mo.refs[i][j]; j++)
			free(mo.refs[i][j]);
		free(mo.refs[i]);
	}
	for (i = 0; i < mo.n_strs; i++)
		free(mo.strs[i]);
	free(mo.strs);
	free(mo.refs);
	free(mo.msgs);
	buf_free(&b);
	buf_free(&rel);
	buf_free(&title);
	return rc;
}

/* ----- the Atom feed -------------------------------------------------------- */

#define FEED_ENTRIES 20

struct feed {
	const struct conf *c;
	const struct list_conf *l;
	struct buf *b;
	const char *base; /* absolute URL of the list's folder, or "" */
	int n;
};

static void
rfc3339(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
feed_entry(const struct arch_row *r, void *arg)
{
	struct feed *f = arg;
	struct msghtml_opts mo = {1, NULL};
	char hash[17], when[32];
	const char *at;

	post_permalink_hash(r->message_id, hash);
	rfc3339(r->date, when, sizeof(when));
	if (f->n++ == 0)
		buf_printf(f->b, "<updated>%s</updated>\n", when);
	buf_adds(f->b, "<entry>\n<title>");
	esc(f->b, *r->subject ? r->subject : "(no subject)");
	buf_printf(f->b, "</title>\n<link href=\"%sm/%s.html\"/>\n"
	                 "<id>urn:mlmd:%s:%s</id>\n<updated>%s</updated>\n"
	                 "<author><name>",
	           f->base, hash, f->l->name, hash, when);
	/* a name, or the obfuscated address; never the address itself */
	at = r->from_name;
	if (*at && !strchr(at, '@'))
		esc(f->b, at);
	else
		msghtml_address("", r->from_addr, &mo, f->b);
	buf_adds(f->b, "</name></author>\n</entry>\n");
	return 0;
}

static int
render_feed(const struct conf *c, struct db *db, const struct list_conf *l)
{
	struct buf b = BUF_INIT, rel = BUF_INIT, base = BUF_INIT;
	struct feed f;
	int rc;

	if (c->base_url && *c->base_url)
		buf_printf(&base, "%s/archive/%s/", c->base_url, l->name);
	buf_init(&b, (size_t)1 << 28);
	buf_adds(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	             "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
	esc(&b, l->name);
	if (*l->description) {
		buf_adds(&b, ": ");
		esc(&b, l->description);
	}
	buf_printf(&b, "</title>\n<id>urn:mlmd:%s</id>\n"
	               "<link rel=\"alternate\" href=\"%sindex.html\"/>\n",
	           l->name, buf_str(&base));
	f.c = c;
	f.l = l;
	f.b = &b;
	f.base = buf_str(&base);
	f.n = 0;
	rc = db_archive_latest(db, l->name, FEED_ENTRIES, feed_entry, &f);
	if (f.n == 0)
		buf_adds(&b, "<updated>1970-01-01T00:00:00Z</updated>\n");
	buf_adds(&b, "</feed>\n");
	buf_printf(&rel, "%s/feed.atom", l->name);
	if (rc == 0)
		rc = write_page(c, buf_str(&rel), &b);
	buf_free(&b);
	buf_free(&rel);
	buf_free(&base);
	return rc;
}

/* ----- the list's page --------------------------------------------------- */

static int
month_line(const char *month, long n, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "<li><a href=\"%.7s/index.html\">%.7s</a> "
	              "<span class=\"meta\">(%ld)</span></li>\n",
	           month, month, n);
	return 0;
}

static int
render_list(const struct conf *c, struct db *db, const struct list_conf *l)
{
	struct buf b = BUF_INIT, rel = BUF_INIT, css = BUF_INIT;
	int rc;

	page_start(&b, c, l, l->name, "");
	buf_adds(&b, "<h1>");
	esc(&b, l->name);
	buf_adds(&b, "</h1>\n<p class=\"meta\"><a href=\"feed.atom\" "
	             "type=\"application/atom+xml\">Atom feed</a></p>\n"
	             "<h2>Months</h2>\n<ul>\n");
	rc = db_archive_months(db, l->name, month_line, &b);
	buf_adds(&b, "</ul>\n");
	page_end(&b);
	buf_printf(&rel, "%s/index.html", l->name);
	if (rc == 0)
		rc = write_page(c, buf_str(&rel), &b);
	buf_adds(&css, style_css);
	if (rc == 0)
		rc = write_page(c, "style.css", &css);
	if (rc == 0)
		rc = render_feed(c, db, l);
	buf_free(&b);
	buf_free(&rel);
	buf_free(&css);
	return rc;
}

/* ----- entry points ------------------------------------------------------ */

int
archive_add(const struct conf *c, struct db *db, const char *list,
            const char *message_id)
{
	const struct list_conf *l = conf_list(c, list);
	struct one o;
	int r;

	if (!l || l->archive != ARCH_PUBLIC)
		return 0;
	memset(&o, 0, sizeof(o));
	o.c = c;
	o.l = l;
	r = db_archive_get(db, l->name, message_id, render_message, &o);
	if (r < 0 || (r == 1 && !*o.month))
		return r < 0 ? -1 : 0; /* no such row */
	if (o.rc < 0 || render_month(c, db, l, o.month) < 0 ||
	    render_list(c, db, l) < 0)
		return -1;
	return 0;
}

struct rebuild {
	const struct conf *c;
	struct db *db;
	const struct list_conf *l;
	long n;
	int failed;
};

static int
rebuild_msg(const struct arch_row *r, void *arg)
{
	struct rebuild *rb = arg;
	struct one o;

	memset(&o, 0, sizeof(o));
	o.c = rb->c;
	o.l = rb->l;
	render_message(r, &o);
	if (o.rc < 0)
		rb->failed = 1;
	else
		rb->n++;
	return 0;
}

static int
rebuild_month(const char *month, long n, void *arg)
{
	struct rebuild *rb = arg;

	(void)n;
	if (db_archive_month(rb->db, rb->l->name, month, rebuild_msg, rb) < 0 ||
	    render_month(rb->c, rb->db, rb->l, month) < 0)
		rb->failed = 1;
	else
		rb->n++;
	return 0;
}

long
archive_rebuild(const struct conf *c, struct db *db, const char *list)
{
	const struct list_conf *l = conf_list(c, list);
	struct rebuild rb = {c, db, l, 0, 0};

	if (!l || l->archive != ARCH_PUBLIC)
		return 0;
	if (db_archive_months(db, l->name, rebuild_month, &rb) < 0 ||
	    render_list(c, db, l) < 0 || rb.failed)
		return -1;
	return rb.n + 1;
}
