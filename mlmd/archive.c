/*
 * archive.c - the static archive pages (archive.h).
 *
 * One list's archive lives in its own folder (the list root): public
 * lists in HOME/archive/LIST/, private ones in HOME/private/LIST/, which
 * only the HTTP listener serves, behind a member's access link.  Every
 * link inside a list root is relative, so the same pages work under any
 * prefix.  The layout:
 *
 *   index.html            the list: how to join, search, months, threads
 *   style.css  feed.atom  the stylesheet, the 20 newest posts
 *   YYYY-MM/index.html    the month's threads (JWZ, thread.c)
 *   YYYY-MM/date.html     ... by date
 *   YYYY-MM/author.html   ... by author
 *   YYYY-MM/all.mbox      the month's posts (mboxrd)
 *   m/HASH.html           a post at its permalink (Archived-At)
 *   m/HASH.txt            the post as sent (addresses obfuscated and trace
 *                         fields dropped in public archives)
 *   t/HASH.html           the whole thread (HASH: its first post's)
 *   t/HASH.mbox t/HASH.atom
 *   a/HEX                 an attachment, named by the BLAKE2b of its bytes
 *                         (downloaded under a safe name, never served as
 *                         anything but application/octet-stream)
 *
 * Adding a post rewrites only what it changes: the pages of its thread
 * (each post's previous/next-in-thread links may move), the posts just
 * before and after it by date, its month's three pages and mbox, the
 * list's page and feed.
 *
 * Invariants: nothing from a mail reaches a page unescaped
 * (msghtml_escape(), msghtml_body()); file names are made here (hashes,
 * the month "YYYY-MM"), never from a mail; a file is replaced by rename,
 * so a reader never sees half a page.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archive.h"
#include "archive_int.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "msghtml.h"
#include "post.h"
#include "spool.h"
#include "thread.h"
#include "util.h"
#include "words.h"

#define STORE_MAX    ((size_t)1 << 30)
#define FEED_ENTRIES 20
#define LIST_THREADS 15
/* A thread page shows at most this many posts in full (the rest are
 * listed); their pages exist all the same. */
#define THREAD_PAGE_MAX 300

static const char style_css[] =
    "*{box-sizing:border-box}\n"
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:0 auto;"
    "padding:0.5rem 1rem;line-height:1.5;color:#1b1b1b;background:#fff;"
    "overflow-wrap:anywhere}\n"
    "a{color:#0b4f9e}\na:focus{outline:3px solid #c60;outline-offset:2px}\n"
    ".skip{position:absolute;width:1px;height:1px;overflow:hidden;"
    "clip-path:inset(50%);white-space:nowrap}\n"
    ".skip:focus{position:static;width:auto;height:auto;clip-path:none}\n"
    "header.list{border-bottom:1px solid #999;margin-bottom:1rem}\n"
    "header.list .name{font-size:1.25rem;font-weight:bold}\n"
    "form.search{display:flex;flex-wrap:wrap;gap:0.4rem;margin:0.5rem 0}\n"
    "form.search input[type=search]{flex:1 1 12rem;min-width:0;"
    "font-size:1rem;padding:0.3rem}\n"
    "form.search button{font-size:1rem;padding:0.3rem 0.8rem}\n"
    "nav ul{list-style:none;padding:0;margin:0.5rem 0;display:flex;"
    "flex-wrap:wrap;gap:0.3rem 1.2rem}\n"
    ".text{white-space:pre-wrap}\n"
    "blockquote{margin:0.3rem 0;padding-inline-start:0.8rem;"
    "border-inline-start:3px solid #767676;color:#3a3a3a}\n"
    ".sig{color:#4a4a4a;white-space:pre-wrap}\n"
    "ul.threads ul{padding-inline-start:1.2rem}\n"
    ".meta{color:#4a4a4a}\n"
    "dl.hdr{display:grid;grid-template-columns:max-content 1fr;"
    "gap:0 0.8rem;margin:0.5rem 0}\n"
    "dl.hdr dt{font-weight:bold}\ndl.hdr dd{margin:0}\n"
    "article.msg{border-top:1px solid #ccc;padding-top:0.5rem;"
    "margin-top:1rem}\n"
    "article.d1{margin-inline-start:1rem}"
    "article.d2{margin-inline-start:2rem}"
    "article.d3{margin-inline-start:3rem}\n"
    "ul.attachments{padding-inline-start:1.2rem}\n"
    ".snippet{color:#3a3a3a}\n"
    "@media (max-width:30rem){article.d1,article.d2,article.d3"
    "{margin-inline-start:0.5rem}}\n"
    "@media (prefers-color-scheme: dark){body{background:#111;color:#eee}"
    "a{color:#8ab4f8}blockquote{color:#ccc}.meta,.sig,.snippet"
    "{color:#c8c8c8}}\n";

/* ----- words in the list's language -------------------------------------- */

static const char *
word(const struct actx *x, const char *key)
{
	return words_get(x->c->templates ? x->c->templates : ".",
	                 x->l->language, "archive", key);
}

void
archive_word_raw(const struct actx *x, struct buf *out, const char *key,
                 long n)
{
	const char *v, *p;

	if (n == 1 && strcmp(key, "messages") == 0)
		key = "one_message";
	v = word(x, key);
	while ((p = strstr(v, "{n}")) != NULL && n >= 0) {
		buf_add(out, v, (size_t)(p - v));
		buf_printf(out, "%ld", n);
		v = p + 3;
	}
	buf_adds(out, v);
}

void
archive_esc(struct buf *b, const char *s)
{
	msghtml_escape(s, strlen(s), b);
}

void
archive_word(const struct actx *x, struct buf *b, const char *key, long n)
{
	struct buf t = BUF_INIT;

	archive_word_raw(x, &t, key, n);
	archive_esc(b, buf_str(&t));
	buf_free(&t);
}

/* ----- the list's context ------------------------------------------------ */

int
archive_ctx_open(struct actx *x, const struct conf *c, struct db *db,
                 const char *list)
{
	const struct list_conf *l = conf_list(c, list);
	struct buf root = BUF_INIT;
	const char *tz;

	memset(x, 0, sizeof(*x));
	if (!l || l->archive == ARCH_NONE)
		return 1;
	x->c = c;
	x->db = db;
	x->l = l;
	x->obfuscate = 1;
	x->public_ = l->archive == ARCH_PUBLIC;
	buf_printf(&root, "%s/%s/%s", c->home,
	           x->public_ ? "archive" : "private", l->name);
	x->root = buf_detach(&root, NULL);
	/* dates in the list's zone: TZ for the C library while we render */
	tz = getenv("TZ");
	x->tz_had = tz != NULL;
	x->tz_saved = tz ? xstrdup(tz) : NULL;
	setenv("TZ", l->timezone && *l->timezone ? l->timezone : "UTC", 1);
	tzset();
	return 0;
}

void
archive_ctx_close(struct actx *x)
{
	if (!x->l)
		return;
	if (x->tz_had)
		setenv("TZ", x->tz_saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(x->tz_saved);
	free((char *)x->root);
	memset(x, 0, sizeof(*x));
}

void
archive_date(const struct actx *x, time_t t, struct buf *b)
{
	struct tm tm;
	char iso[40], shown[64];

	(void)x;
	localtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S%z", &tm);
	strftime(shown, sizeof(shown), "%Y-%m-%d %H:%M %Z", &tm);
	buf_printf(b, "<time dir=\"ltr\" datetime=\"%s\">", iso);
	archive_esc(b, shown);
	buf_adds(b, "</time>");
}

/* "November 2026" for "2026-11", in the list's language. */
static void
month_name(const struct actx *x, const char *month, struct buf *out)
{
	char key[16];

	if (strlen(month) < 7) {
		buf_adds(out, month);
		return;
	}
	snprintf(key, sizeof(key), "month_%.2s", month + 5);
	archive_word_raw(x, out, key, -1);
	buf_printf(out, " %.4s", month);
}

/* ----- files --------------------------------------------------------------- */

/* 1 if the file at path holds exactly data[0..n). */
static int
same_file(const char *path, const char *data, size_t n)
{
	struct stat sb;
	char chunk[65536];
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), same = 0;

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (size_t)sb.st_size == n) {
		same = 1;
		while (same && done < n) {
			ssize_t k = read(fd, chunk, n - done < sizeof(chunk)
			                                ? n - done
			                                : sizeof(chunk));

			if (k <= 0 || memcmp(chunk, data + done, (size_t)k) != 0)
				same = 0;
			else
				done += (size_t)k;
		}
	}
	close(fd);
	return same;
}

/*
 * Write ROOT/rel from data via a temporary name, unless it holds that
 * already (adding a post re-renders its whole thread, and most of those
 * pages do not change; a rebuild rewrites little).
 */
static int
put_file(const struct actx *x, const char *rel, const char *data, size_t n)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT, dir = BUF_INIT;
	const char *slash;
	int fd, rc = -1;

	buf_printf(&path, "%s/%s", x->root, rel);
	if (same_file(buf_str(&path), data ? data : "", n)) {
		buf_free(&path);
		return 0;
	}
	slash = strrchr(buf_str(&path), '/');
	buf_add(&dir, buf_str(&path), (size_t)(slash - buf_str(&path)));
	/* the pid: mlmd and mlmctl (rebuild, import) may write at once */
	buf_printf(&tmp, "%s/.%s.%ld.tmp", buf_str(&dir), slash + 1,
	           (long)getpid());
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	          0644);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir_p(buf_str(&dir), 0755) < 0) {
			error("%s: %s", buf_str(&dir), strerror(errno));
			goto out;
		}
		fd = open(buf_str(&tmp),
		          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0 || write_all(fd, data ? data : "", n) < 0) {
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

static int
put_page(const struct actx *x, const char *rel, const struct buf *b)
{
	return put_file(x, rel, b->s, b->len);
}

static void
drop_file(const struct actx *x, const char *rel)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s", x->root, rel);
	if (unlink(buf_str(&path)) < 0 && errno != ENOENT)
		error("%s: %s", buf_str(&path), strerror(errno));
	buf_free(&path);
}

/* ----- the page frame -------------------------------------------------------- */

void
archive_page_start(const struct actx *x, struct buf *b, const char *title,
                   const char *up)
{
	const struct list_conf *l = x->l;
	char sep = x->c->separator ? x->c->separator : '+';
	const char *domain = strchr(l->address, '@') + 1;

	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"%s>\n<head>\n"
	              "<meta charset=\"utf-8\">\n"
	              "<meta name=\"viewport\" content=\"width=device-width, "
	              "initial-scale=1\">\n"
	              "<meta http-equiv=\"Content-Security-Policy\" "
	              "content=\"default-src 'none'; style-src 'self'; "
	              "img-src 'self'; base-uri 'none'; form-action 'self'\">\n"
	              "<meta name=\"referrer\" content=\"no-referrer\">\n",
	           l->language,
	           strcmp(l->language, "ar") == 0 ? " dir=\"rtl\"" : "");
	if (!x->public_)
		buf_adds(b, "<meta name=\"robots\" content=\"noindex\">\n");
	buf_adds(b, "<title>");
	archive_esc(b, title);
	buf_printf(b, "</title>\n<link rel=\"stylesheet\" href=\"%sstyle.css\">\n"
	              "<link rel=\"alternate\" type=\"application/atom+xml\" "
	              "href=\"%sfeed.atom\">\n</head>\n<body>\n"
	              "<a class=\"skip\" href=\"#main\">",
	           up, up);
	archive_word(x, b, "skip", -1);
	buf_printf(b, "</a>\n<header class=\"list\">\n<p><a class=\"name\" "
	              "href=\"%sindex.html\">",
	           up);
	archive_esc(b, l->name);
	buf_adds(b, "</a>");
	if (*l->description) {
		buf_adds(b, " &mdash; ");
		archive_esc(b, l->description);
	}
	buf_adds(b, "</p>\n<p class=\"meta\">");
	if (x->public_) {
		archive_word(x, b, "join", -1);
		buf_printf(b, " <a href=\"mailto:%s%csubscribe@", l->name, sep);
		archive_esc(b, domain);
		buf_printf(b, "\">%s%csubscribe@", l->name, sep);
		archive_esc(b, domain);
		buf_adds(b, "</a>");
	} else {
		archive_word(x, b, "join_private", -1);
		buf_printf(b, " <a href=\"mailto:%s-request@", l->name);
		archive_esc(b, domain);
		buf_adds(b, "?subject=archive\">");
		buf_printf(b, "%s-request@", l->name);
		archive_esc(b, domain);
		buf_adds(b, "</a>");
	}
	buf_printf(b, "</p>\n<form class=\"search\" role=\"search\" "
	              "method=\"get\" action=\"%ssearch\">"
	              "<label for=\"q\" class=\"skip\">",
	           up);
	{
		struct buf t = BUF_INIT, lab = BUF_INIT;

		archive_word_raw(x, &t, "search_label", -1);
		/* {list} in the label */
		{
			const char *v = buf_str(&t), *p = strstr(v, "{list}");

			if (p) {
				buf_add(&lab, v, (size_t)(p - v));
				buf_adds(&lab, l->name);
				buf_adds(&lab, p + 6);
			} else
				buf_adds(&lab, v);
		}
		archive_esc(b, buf_str(&lab));
		buf_free(&t);
		buf_free(&lab);
	}
	buf_adds(b, "</label><input type=\"search\" id=\"q\" name=\"q\" "
	            "maxlength=\"300\"><button type=\"submit\">");
	archive_word(x, b, "search", -1);
	buf_adds(b, "</button></form>\n</header>\n<main id=\"main\">\n");
}

void
archive_page_end(struct buf *b)
{
	buf_adds(b, "</main>\n</body>\n</html>\n");
}

/* ----- rows kept for a while ----------------------------------------------- */

struct post {
	long long id, thread;
	char *message_id, *path, *from_name, *from_addr, *subject;
	char *in_reply_to, *refs, *month, *thread_mid;
	time_t date;
	size_t size;
	int erased;
	char hash[17], thash[17];
	char **refv; /* References split, for thread.c */
	size_t n_refs;
	size_t depth; /* in its thread */
};

static void
post_copy(struct post *p, const struct arch_row *r)
{
	const char *s;

	memset(p, 0, sizeof(*p));
	p->id = r->id;
	p->thread = r->thread;
	p->message_id = xstrdup(r->message_id);
	p->path = xstrdup(r->path);
	p->from_name = xstrdup(r->from_name);
	p->from_addr = xstrdup(r->from_addr);
	p->subject = xstrdup(r->subject);
	p->in_reply_to = xstrdup(r->in_reply_to);
	p->refs = xstrdup(r->refs);
	p->month = xstrdup(r->month);
	p->thread_mid = xstrdup(r->thread_mid);
	p->date = r->date;
	p->size = r->size;
	p->erased = r->erased;
	post_permalink_hash(p->message_id, p->hash);
	post_permalink_hash(p->thread_mid, p->thash);
	for (s = p->refs; *s && p->n_refs < THREAD_MAX_REFS;) {
		size_t k = strcspn(s, " ");

		if (k) {
			p->refv = xrealloc(p->refv,
			                   (p->n_refs + 1) * sizeof(char *));
			p->refv[p->n_refs] = xcalloc(k + 1, 1);
			memcpy(p->refv[p->n_refs++], s, k);
		}
		s += k;
		while (*s == ' ')
			s++;
	}
}

static void
post_clear(struct post *p)
{
	size_t i;

	free(p->message_id);
	free(p->path);
	free(p->from_name);
	free(p->from_addr);
	free(p->subject);
	free(p->in_reply_to);
	free(p->refs);
	free(p->month);
	free(p->thread_mid);
	for (i = 0; i < p->n_refs; i++)
		free(p->refv[i]);
	free(p->refv);
	memset(p, 0, sizeof(*p));
}

struct posts {
	struct post *v;
	size_t n, cap;
};

static int
posts_add(const struct arch_row *r, void *arg)
{
	struct posts *ps = arg;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 32;
		ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	post_copy(&ps->v[ps->n++], r);
	return 0;
}

static void
posts_free(struct posts *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		post_clear(&ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

static int
post_one(const struct arch_row *r, void *arg)
{
	post_copy(arg, r);
	return 0;
}

static const char *
subject_of(const struct actx *x, const struct post *p, struct buf *tmp)
{
	if (*p->subject)
		return p->subject;
	buf_reset(tmp);
	archive_word_raw(x, tmp, "no_subject", -1);
	return buf_str(tmp);
}

/* The author, escaped: a name, or the obfuscated address. */
static void
author(const struct actx *x, struct buf *b, const char *name,
       const char *addr, int erased)
{
	struct msghtml_opts mo;

	if (erased || (!*name && !*addr)) {
		archive_word(x, b, "erased", -1);
		return;
	}
	memset(&mo, 0, sizeof(mo));
	mo.obfuscate = x->obfuscate;
	if (*name && !strchr(name, '@'))
		msghtml_address(name, "", &mo, b);
	else
		msghtml_address("", addr, &mo, b);
}

/* ----- thread order ------------------------------------------------------------ */

struct order_walk {
	struct posts *ps;
	size_t *order, n;
};

static int
order_node(const struct thread_node *n, size_t depth, void *arg)
{
	struct order_walk *w = arg;
	struct post *p;

	if (!n->msg || w->n >= w->ps->n)
		return 0;
	p = n->msg->user;
	p->depth = depth;
	w->order[w->n++] = (size_t)(p - w->ps->v);
	return 0;
}

/*
 * The posts of ps in thread order (JWZ, depth first): order[i] is the
 * index in ps of the i-th post shown; each post's depth is set.  Returns
 * the count (placeholders for missing parents are not posts).
 */
static size_t
thread_order(struct posts *ps, size_t *order)
{
	struct thread_msg *tm;
	struct thread_set *ts;
	struct order_walk w = {ps, order, 0};
	size_t i;

	tm = xcalloc(ps->n ? ps->n : 1, sizeof(*tm));
	for (i = 0; i < ps->n; i++) {
		tm[i].id = ps->v[i].message_id;
		tm[i].in_reply_to = ps->v[i].in_reply_to;
		tm[i].refs = (const char *const *)ps->v[i].refv;
		tm[i].n_refs = ps->v[i].n_refs;
		tm[i].subject = ps->v[i].subject;
		tm[i].date = (long long)ps->v[i].date;
		tm[i].user = &ps->v[i];
	}
	ts = thread_build(tm, ps->n);
	thread_walk(ts, order_node, &w);
	thread_free(ts);
	free(tm);
	return w.n;
}

/* ----- a stored post ------------------------------------------------------------- */

struct stored {
	struct buf file;
	struct spool_env env;
	const char *raw; /* the message inside file */
	size_t len;
	struct msg *m;
};

static int stored_load_(const struct actx *x, const struct post *p,
                        struct stored *st, int parse);

/* The stored post, parsed (for its page). */
static int
stored_load(const struct actx *x, const struct post *p, struct stored *st)
{
	return stored_load_(x, p, st, 1);
}

/* The stored post's bytes only (for the mbox files). */
static int
stored_raw(const struct actx *x, const struct post *p, struct stored *st)
{
	return stored_load_(x, p, st, 0);
}

static int
stored_load_(const struct actx *x, const struct post *p, struct stored *st,
             int parse)
{
	struct buf path = BUF_INIT, why = BUF_INIT;
	size_t off;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	buf_init(&st->file, STORE_MAX);
	buf_printf(&path, "%s/%s", x->c->home, p->path);
	if (read_file(buf_str(&path), &st->file) < 0 ||
	    spool_parse(st->file.s, st->file.len, &st->env, &off, &why) < 0 ||
	    off + st->env.size > st->file.len) {
		error("archive: %s: cannot read %s %s", x->l->name,
		      buf_str(&path), buf_str(&why));
		goto out;
	}
	st->raw = st->file.s + off;
	st->len = st->env.size;
	if (!parse) {
		rc = 0;
		goto out;
	}
	if (msg_parse(st->raw, st->len, &msg_default_limits, &st->m, &why) <
	    0) {
		error("archive: %s: %s: %s", x->l->name, buf_str(&path),
		      buf_str(&why));
		st->m = NULL;
		goto out;
	}
	rc = 0;
out:
	buf_free(&path);
	buf_free(&why);
	return rc;
}

static void
stored_free(struct stored *st)
{
	msg_free(st->m);
	spool_env_clear(&st->env);
	buf_free(&st->file);
	memset(st, 0, sizeof(*st));
}

/* Fields whose addresses are message identifiers, not people's. */
static int
id_field(const char *name, size_t n)
{
	return (n == 10 && strncasecmp(name, "Message-ID", 10) == 0) ||
	       (n == 11 && strncasecmp(name, "In-Reply-To", 11) == 0) ||
	       (n == 10 && strncasecmp(name, "References", 10) == 0) ||
	       (n == 11 && strncasecmp(name, "Archived-At", 11) == 0);
}

/* Trace and authentication fields: where the mail went, not what it
 * said; left out of public copies. */
static int
trace_field(const char *name, size_t n)
{
	static const char *const drop[] = {
	    "Received", "Return-Path", "Delivered-To", "X-Original-To",
	    "DKIM-Signature", "Authentication-Results", "Received-SPF",
	    "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
	    "X-Mlmd-Tags", "X-Spam-Status", "X-Spam-Score", "X-Envelope-From",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(drop); i++)
		if (strlen(drop[i]) == n && strncasecmp(name, drop[i], n) == 0)
			return 1;
	return 0;
}

static int
sender_field(const char *name, size_t n)
{
	return (n == 4 && strncasecmp(name, "From", 4) == 0) ||
	       (n == 6 && strncasecmp(name, "Sender", 6) == 0) ||
	       (n == 8 && strncasecmp(name, "Reply-To", 8) == 0);
}

static int
local_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

/* Append s[0..n) with every address's local part cut to its first
 * character and "...", as the pages show them. */
static void
obfuscate_text(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, done = 0;

	while (i < n) {
		const char *at = memchr(s + i, '@', n - i);
		size_t a, l, d;

		if (!at)
			break;
		a = (size_t)(at - s);
		for (l = a; l > done && local_char((unsigned char)s[l - 1]); l--)
			;
		for (d = a + 1; d < n && (isalnum((unsigned char)s[d]) ||
		                          s[d] == '-' || s[d] == '.');
		     d++)
			;
		if (l < a && d > a + 1 && memchr(s + a + 1, '.', d - a - 1)) {
			buf_add(out, s + done, l + 1 - done);
			buf_adds(out, "...");
			done = a;
		}
		i = a + 1;
	}
	buf_add(out, s + done, n - done);
}

/*
 * The copy of a post that readers download (m/HASH.txt, the mbox files):
 * public archives drop trace fields and obfuscate addresses (not
 * message ids); an erased author loses From, Sender and Reply-To.
 */
static void
raw_copy(const struct actx *x, const struct post *p, const struct stored *st,
         struct buf *out)
{
	const char *s = st->raw, *end = st->raw + st->len, *body;
	const char *hend = s;

	/* the header block ends at the first empty line */
	while (hend < end) {
		const char *nl = memchr(hend, '\n', (size_t)(end - hend));

		if (!nl) {
			hend = end;
			break;
		}
		if (nl == hend || (nl == hend + 1 && *hend == '\r')) {
			hend = nl + 1;
			break;
		}
		hend = nl + 1;
	}
	body = hend;
	while (s < body) {
		const char *f = s, *colon;
		size_t fl, nl;

		/* one field with its continuation lines */
		do {
			const char *e = memchr(s, '\n', (size_t)(body - s));

			s = e ? e + 1 : body;
		} while (s < body && (*s == ' ' || *s == '\t'));
		colon = memchr(f, ':', (size_t)(s - f));
		nl = colon ? (size_t)(colon - f) : 0;
		fl = (size_t)(s - f);
		if (colon && x->public_ && trace_field(f, nl))
			continue;
		if (colon && p->erased && sender_field(f, nl)) {
			if (nl == 4)
				buf_adds(out, "From: (erased)\n");
			continue;
		}
		if (!x->public_ || !colon || id_field(f, nl))
			buf_add(out, f, fl);
		else
			obfuscate_text(f, fl, out);
	}
	if (x->public_)
		obfuscate_text(body, (size_t)(end - body), out);
	else
		buf_add(out, body, (size_t)(end - body));
}

/* ----- attachments ---------------------------------------------------------------- */

struct att_ctx {
	const struct actx *x;
	const char *up;
	int failed;
};

/* A name to save an attachment under: letters, digits, ".-_" and
 * UTF-8 letters kept, the rest "_", no leading dot, at most 80 bytes. */
static void
safe_name(const char *name, size_t idx, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t start = out->len;

	for (; *p && out->len - start < 80; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' ||
		    (*p == '.' && out->len > start))
			buf_addc(out, *p);
		else if (*p >= 0x80) {
			size_t k = 1;

			while (p[k] >= 0x80 && p[k] < 0xc0)
				k++;
			/* whole UTF-8 letters only; bidi controls and the like
			 * (U+2000..U+206F, U+FEFF) are not */
			if (!((p[0] == 0xe2 && p[1] == 0x80) ||
			      (p[0] == 0xe2 && p[1] == 0x81) ||
			      (p[0] == 0xef && p[1] == 0xbb)) &&
			    out->len - start + k <= 80)
				buf_add(out, p, k);
			p += k - 1;
		} else if (out->len > start && out->s[out->len - 1] != '_')
			buf_addc(out, '_');
	}
	if (out->len == start)
		buf_printf(out, "attachment-%zu", idx);
}

static void
att_link(void *arg, const struct msg *m, size_t idx, struct buf *href,
         struct buf *download)
{
	struct att_ctx *a = arg;
	const struct msg_part *part = &m->parts[idx];
	struct buf data = BUF_INIT, rel = BUF_INIT, path = BUF_INIT;
	unsigned char h[16];
	struct stat sb;
	size_t i;

	buf_init(&data, STORE_MAX);
	if (msg_part_decode(part, &data) < 0) {
		buf_free(&data);
		return;
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)data.s,
	                   data.len, NULL, 0);
	buf_adds(&rel, "a/");
	for (i = 0; i < sizeof(h); i++)
		buf_printf(&rel, "%02x", h[i]);
	/* content-addressed: there already means the same bytes */
	buf_printf(&path, "%s/%s", a->x->root, buf_str(&rel));
	if (stat(buf_str(&path), &sb) < 0 &&
	    put_file(a->x, buf_str(&rel), data.s, data.len) < 0)
		a->failed = 1;
	buf_printf(href, "%s%s", a->up, buf_str(&rel));
	safe_name(part->filename ? part->filename : "", idx, download);
	buf_free(&data);
	buf_free(&rel);
	buf_free(&path);
}

/* The body of a post, rendered (attachments written to a/). */
static int
render_body(const struct actx *x, const struct stored *st, const char *up,
            struct buf *b)
{
	struct msghtml_opts mo;
	struct att_ctx a = {x, up, 0};

	memset(&mo, 0, sizeof(mo));
	mo.obfuscate = x->obfuscate;
	mo.attach_link = att_link;
	mo.attach_arg = &a;
	mo.msg = st->m;
	if (msghtml_body(st->m, &mo, b) < 0)
		return -1;
	return a.failed ? -1 : 0;
}

/* ----- a post's page -------------------------------------------------------------- */

/* "mailto:LIST?In-Reply-To=<id>&subject=Re: ..." */
static void
reply_link(const struct actx *x, const struct post *p, struct buf *b)
{
	const unsigned char *s;
	struct buf subj = BUF_INIT;

	buf_adds(b, "mailto:");
	archive_esc(b, x->l->address);
	buf_adds(b, "?In-Reply-To=%3C");
	for (s = (const unsigned char *)p->message_id; *s; s++)
		if (isalnum(*s) || strchr("-._~@", *s))
			buf_addc(b, (char)*s);
		else
			buf_printf(b, "%%%02X", *s);
	buf_adds(b, "%3E&amp;subject=");
	if (strncasecmp(p->subject, "re:", 3) != 0)
		buf_adds(&subj, "Re: ");
	buf_adds(&subj, p->subject);
	for (s = (const unsigned char *)buf_str(&subj); *s; s++)
		if (isalnum(*s) || strchr("-._~", *s))
			buf_addc(b, (char)*s);
		else
			buf_printf(b, "%%%02X", *s);
	buf_free(&subj);
}

static void
nav_link(const struct actx *x, struct buf *b, const char *key,
         const struct post *p, const char *rel)
{
	struct buf t = BUF_INIT;

	if (!p)
		return;
	buf_adds(b, "<li>");
	archive_word(x, b, key, -1);
	buf_printf(b, ": <a href=\"%s%s.html\" rel=\"%s\">", rel, p->hash,
	           strstr(key, "prev") ? "prev" : "next");
	archive_esc(b, subject_of(x, p, &t));
	buf_adds(b, "</a></li>\n");
	buf_free(&t);
}

/* Header block and body of one post (for its page and its thread's). */
static void
post_article(const struct actx *x, const struct post *p,
             const struct stored *st, const char *up, int depth,
             struct buf *b, int *failed)
{
	struct buf t = BUF_INIT;

	if (depth >= 0)
		buf_printf(b, "<article class=\"msg d%d\" id=\"m%s\">\n<h2>",
		           depth > 3 ? 3 : depth, p->hash);
	else
		buf_adds(b, "<article class=\"msg\">\n<h1>");
	if (depth >= 0)
		buf_printf(b, "<a href=\"%sm/%s.html\">", up, p->hash);
	archive_esc(b, subject_of(x, p, &t));
	if (depth >= 0)
		buf_adds(b, "</a></h2>\n");
	else
		buf_adds(b, "</h1>\n");
	buf_adds(b, "<dl class=\"hdr\"><dt>");
	archive_word(x, b, "from", -1);
	buf_adds(b, "</dt><dd>");
	author(x, b, p->from_name, p->from_addr, p->erased);
	buf_adds(b, "</dd><dt>");
	archive_word(x, b, "date", -1);
	buf_adds(b, "</dt><dd>");
	archive_date(x, p->date, b);
	buf_adds(b, "</dd></dl>\n");
	if (st && st->m) {
		if (render_body(x, st, up, b) < 0)
			*failed = 1;
	}
	buf_adds(b, "</article>\n");
	buf_free(&t);
}

struct neighbours {
	const struct post *prev_t, *next_t; /* in the thread */
	struct post prev_d, next_d;         /* by date */
	int have_prev_d, have_next_d;
};

static int
render_post_page(const struct actx *x, const struct post *p,
                 const struct stored *st, const struct neighbours *nb,
                 size_t in_thread)
{
	struct buf b = BUF_INIT, rel = BUF_INIT, t = BUF_INIT, raw = BUF_INIT;
	struct buf month = BUF_INIT;
	int failed = 0;

	buf_init(&b, STORE_MAX);
	archive_page_start(x, &b, subject_of(x, p, &t), "../");
	month_name(x, p->month, &month);
	buf_adds(&b, "<nav aria-label=\"");
	archive_word(x, &b, "navigation", -1);
	buf_printf(&b, "\"><ul><li><a href=\"../%s/index.html\">", p->month);
	archive_esc(&b, buf_str(&month));
	buf_printf(&b, "</a></li><li><a href=\"../t/%s.html#m%s\">", p->thash,
	           p->hash);
	archive_word(&*x, &b, "whole_thread", -1);
	buf_adds(&b, "</a> <span class=\"meta\">(");
	archive_word(x, &b, "messages", (long)in_thread);
	buf_adds(&b, ")</span></li></ul></nav>\n");
	post_article(x, p, st, "../", -1, &b, &failed);
	buf_adds(&b, "<nav aria-label=\"");
	archive_word(x, &b, "navigation", -1);
	buf_adds(&b, "\"><ul class=\"pn\">\n");
	nav_link(x, &b, "prev_thread", nb->prev_t, "");
	nav_link(x, &b, "next_thread", nb->next_t, "");
	nav_link(x, &b, "prev_date", nb->have_prev_d ? &nb->prev_d : NULL, "");
	nav_link(x, &b, "next_date", nb->have_next_d ? &nb->next_d : NULL, "");
	buf_adds(&b, "</ul></nav>\n<p class=\"meta\"><a href=\"");
	reply_link(x, p, &b);
	buf_adds(&b, "\">");
	archive_word(x, &b, "reply", -1);
	buf_printf(&b, "</a> &middot; <a href=\"%s.txt\" type=\"text/plain\">",
	           p->hash);
	archive_word(x, &b, "raw", -1);
	buf_adds(&b, "</a></p>\n");
	archive_page_end(&b);
	buf_printf(&rel, "m/%s.html", p->hash);
	if (put_page(x, buf_str(&rel), &b) < 0)
		failed = 1;
	if (st && st->m) {
		buf_init(&raw, STORE_MAX);
		raw_copy(x, p, st, &raw);
		buf_reset(&rel);
		buf_printf(&rel, "m/%s.txt", p->hash);
		if (put_page(x, buf_str(&rel), &raw) < 0)
			failed = 1;
	}
	buf_free(&b);
	buf_free(&rel);
	buf_free(&t);
	buf_free(&raw);
	buf_free(&month);
	return failed ? -1 : 0;
}

/* ----- a thread --------------------------------------------------------------------- */

static void
rfc3339(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The absolute URL of the list's folder (public lists with base_url), or
 * "" (links relative to the feed). */
static void
list_url(const struct actx *x, struct buf *out)
{
	if (x->public_ && x->c->base_url && *x->c->base_url)
		buf_printf(out, "%s/archive/%s/", x->c->base_url, x->l->name);
}

static void
feed_entry(const struct actx *x, struct buf *f, const struct post *p,
           const char *base)
{
	char when[32];
	struct buf t = BUF_INIT;

	rfc3339(p->date, when, sizeof(when));
	buf_adds(f, "<entry>\n<title>");
	archive_esc(f, subject_of(x, p, &t));
	buf_printf(f, "</title>\n<link href=\"%sm/%s.html\"/>\n"
	              "<id>urn:mlmd:%s:%s</id>\n<updated>%s</updated>\n"
	              "<author><name>",
	           base, p->hash, x->l->name, p->hash, when);
	author(x, f, p->from_name, p->from_addr, p->erased);
	buf_adds(f, "</name></author>\n</entry>\n");
	buf_free(&t);
}

static void
feed_start(const struct actx *x, struct buf *f, const char *title,
           const char *id, const char *alt, time_t updated)
{
	char when[32];

	rfc3339(updated, when, sizeof(when));
	buf_adds(f, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	            "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
	archive_esc(f, title);
	buf_printf(f, "</title>\n<id>urn:mlmd:%s%s</id>\n"
	              "<link rel=\"alternate\" href=\"%s\"/>\n"
	              "<updated>%s</updated>\n",
	           x->l->name, id, alt, when);
}

/* Date neighbours of p (by date, across threads), copied into nb. */
static void
date_neighbours(const struct actx *x, const struct post *p,
                struct neighbours *nb)
{
	nb->have_prev_d = db_archive_next(x->db, x->l->name, p->date, p->id, -1,
	                                  post_one, &nb->prev_d) == 0;
	nb->have_next_d = db_archive_next(x->db, x->l->name, p->date, p->id, 1,
	                                  post_one, &nb->next_d) == 0;
}

static void
neighbours_clear(struct neighbours *nb)
{
	if (nb->have_prev_d)
		post_clear(&nb->prev_d);
	if (nb->have_next_d)
		post_clear(&nb->next_d);
	memset(nb, 0, sizeof(*nb));
}

/*
 * Write the pages of one thread: each post's page (and raw copy), the
 * thread's page, mbox and feed.  only_post: if not NULL, only that post's
 * page (and its raw copy) is rewritten, with the thread's order for its
 * links.  Files written are added to *pages.  0 / -1.
 */
static int
render_thread(const struct actx *x, long long thread, const char *only_post,
              long *pages)
{
	struct posts ps = {NULL, 0, 0};
	struct buf tp = BUF_INIT, mb = BUF_INIT, feed = BUF_INIT, rel = BUF_INIT;
	struct buf t = BUF_INIT, base = BUF_INIT, alt = BUF_INIT;
	size_t *order = NULL, n, i;
	int failed = 0;
	const struct post *first;

	if (db_archive_thread(x->db, x->l->name, thread, posts_add, &ps) < 0)
		return -1;
	if (ps.n == 0) {
		posts_free(&ps);
		return 0;
	}
	order = xcalloc(ps.n, sizeof(*order));
	n = thread_order(&ps, order);
	first = &ps.v[0]; /* by date: the thread's first post */
	buf_init(&tp, STORE_MAX);
	buf_init(&mb, STORE_MAX);
	if (!only_post) {
		archive_page_start(x, &tp, subject_of(x, first, &t), "../");
		buf_adds(&tp, "<h1>");
		archive_esc(&tp, subject_of(x, first, &t));
		buf_adds(&tp, "</h1>\n<p class=\"meta\">");
		archive_word(x, &tp, "in_thread", (long)n);
		buf_printf(&tp, " &middot; <a href=\"%s.mbox\">", first->thash);
		archive_word(x, &tp, "mbox_thread", -1);
		buf_printf(&tp, "</a> &middot; <a href=\"%s.atom\" "
		                "type=\"application/atom+xml\">",
		           first->thash);
		archive_word(x, &tp, "thread_feed", -1);
		buf_adds(&tp, "</a></p>\n");
		list_url(x, &base);
		buf_printf(&alt, "%st/%s.html", buf_str(&base), first->thash);
		{
			struct buf id = BUF_INIT;

			buf_printf(&id, ":t:%s", first->thash);
			feed_start(x, &feed, subject_of(x, first, &t),
			           buf_str(&id), buf_str(&alt),
			           ps.v[ps.n - 1].date);
			buf_free(&id);
		}
	}
	for (i = 0; i < n; i++) {
		struct post *p = &ps.v[order[i]];
		struct stored st;
		struct neighbours nb;
		int have;

		if (only_post && strcmp(p->message_id, only_post) != 0)
			continue;
		have = stored_load(x, p, &st) == 0;
		memset(&nb, 0, sizeof(nb));
		nb.prev_t = i > 0 ? &ps.v[order[i - 1]] : NULL;
		nb.next_t = i + 1 < n ? &ps.v[order[i + 1]] : NULL;
		date_neighbours(x, p, &nb);
		if (render_post_page(x, p, have ? &st : NULL, &nb, n) < 0)
			failed = 1;
		else if (pages)
			(*pages)++;
		neighbours_clear(&nb);
		if (!only_post) {
			if (i < THREAD_PAGE_MAX)
				post_article(x, p, have ? &st : NULL, "../",
				             (int)p->depth, &tp, &failed);
			if (have) {
				struct buf raw = BUF_INIT;

				buf_init(&raw, STORE_MAX);
				raw_copy(x, p, &st, &raw);
				mbox_append(&mb, raw.s, raw.len,
				            "archive@mlmd.invalid", p->date);
				buf_free(&raw);
			}
		}
		if (have)
			stored_free(&st);
	}
	if (!only_post) {
		/* the feed: newest first */
		for (i = ps.n; i-- > 0;)
			feed_entry(x, &feed, &ps.v[i], buf_str(&base));
		buf_adds(&feed, "</feed>\n");
		archive_page_end(&tp);
		buf_printf(&rel, "t/%s.html", first->thash);
		if (put_page(x, buf_str(&rel), &tp) < 0)
			failed = 1;
		buf_reset(&rel);
		buf_printf(&rel, "t/%s.mbox", first->thash);
		if (put_page(x, buf_str(&rel), &mb) < 0)
			failed = 1;
		buf_reset(&rel);
		buf_printf(&rel, "t/%s.atom", first->thash);
		if (put_page(x, buf_str(&rel), &feed) < 0)
			failed = 1;
		if (pages)
			*pages += 3;
	}
	free(order);
	posts_free(&ps);
	buf_free(&tp);
	buf_free(&mb);
	buf_free(&feed);
	buf_free(&rel);
	buf_free(&t);
	buf_free(&base);
	buf_free(&alt);
	return failed ? -1 : 0;
}

/* ----- a month ------------------------------------------------------------------------ */

struct month_walk {
	const struct actx *x;
	struct buf *b;
	size_t depth;
};

static int
month_line(const struct thread_node *n, size_t depth, void *arg)
{
	struct month_walk *w = arg;
	struct buf t = BUF_INIT;

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
		buf_adds(w->b, "<span class=\"meta\">");
		archive_word(w->x, w->b, "not_here", -1);
		buf_adds(w->b, "</span>");
	} else {
		const struct post *p = n->msg->user;

		buf_printf(w->b, "<a href=\"../m/%s.html\">", p->hash);
		archive_esc(w->b, subject_of(w->x, p, &t));
		buf_adds(w->b, "</a> <span class=\"meta\">");
		author(w->x, w->b, p->from_name, p->from_addr, p->erased);
		buf_adds(w->b, ", ");
		archive_date(w->x, p->date, w->b);
		buf_adds(w->b, "</span>");
	}
	buf_adds(w->b, "</li>\n");
	buf_free(&t);
	return 0;
}

static void
month_nav(const struct actx *x, struct buf *b, const char *month,
          const char *here)
{
	static const char *const views[][2] = {
	    {"index", "by_thread"}, {"date", "by_date"}, {"author", "by_author"}};
	size_t i;

	buf_adds(b, "<nav aria-label=\"");
	archive_word(x, b, "navigation", -1);
	buf_adds(b, "\"><ul>\n");
	for (i = 0; i < ARRAY_SIZE(views); i++) {
		buf_adds(b, "<li>");
		if (strcmp(here, views[i][0]) == 0) {
			buf_adds(b, "<strong aria-current=\"page\">");
			archive_word(x, b, views[i][1], -1);
			buf_adds(b, "</strong>");
		} else {
			buf_printf(b, "<a href=\"%s.html\">", views[i][0]);
			archive_word(x, b, views[i][1], -1);
			buf_adds(b, "</a>");
		}
		buf_adds(b, "</li>\n");
	}
	buf_printf(b, "<li><a href=\"all.mbox\" download=\"%s.mbox\">", month);
	archive_word(x, b, "mbox_month", -1);
	buf_adds(b, "</a></li>\n<li><a href=\"../index.html\">");
	archive_word(x, b, "all_months", -1);
	buf_adds(b, "</a></li>\n</ul></nav>\n");
}

static void
month_head(const struct actx *x, struct buf *b, const char *month, size_t n,
           const char *here)
{
	struct buf title = BUF_INIT, mn = BUF_INIT;

	month_name(x, month, &mn);
	buf_printf(&title, "%s: %s", x->l->name, buf_str(&mn));
	archive_page_start(x, b, buf_str(&title), "../");
	buf_adds(b, "<h1>");
	archive_esc(b, buf_str(&mn));
	buf_adds(b, "</h1>\n<p class=\"meta\">");
	archive_word(x, b, "messages", (long)n);
	buf_adds(b, "</p>\n");
	month_nav(x, b, month, here);
	buf_free(&title);
	buf_free(&mn);
}

/* A post's line in the by-date and by-author lists. */
static void
month_item(const struct actx *x, struct buf *b, const struct post *p,
           int with_author)
{
	struct buf t = BUF_INIT;

	buf_printf(b, "<li><a href=\"../m/%s.html\">", p->hash);
	archive_esc(b, subject_of(x, p, &t));
	buf_adds(b, "</a> <span class=\"meta\">");
	if (with_author) {
		author(x, b, p->from_name, p->from_addr, p->erased);
		buf_adds(b, ", ");
	}
	archive_date(x, p->date, b);
	buf_adds(b, "</span></li>\n");
	buf_free(&t);
}

static const struct posts *sort_posts;

static const char *
author_key(const struct post *p)
{
	return p->erased ? "\xff" : *p->from_name ? p->from_name : p->from_addr;
}

static int
by_author_key_differs(const struct post *a, const struct post *b)
{
	return strcasecmp(author_key(a), author_key(b)) != 0;
}

/* By author (name, else address; erased last), then date. */
static int
by_author(const void *a, const void *b)
{
	const struct post *p = &sort_posts->v[*(const size_t *)a];
	const struct post *q = &sort_posts->v[*(const size_t *)b];
	int c = strcasecmp(author_key(p), author_key(q));

	if (c)
		return c;
	if (p->date != q->date)
		return p->date < q->date ? -1 : 1;
	return p->id < q->id ? -1 : p->id > q->id;
}

/* 1 if the last entry of the mbox in b holds Message-ID <mid>. */
static int
mbox_ends_with(const struct buf *b, const char *mid)
{
	const char *s = b->s ? b->s : "", *last = s, *p;
	struct buf want = BUF_INIT;
	int yes;

	for (p = s; (p = strstr(p, "\nFrom ")) != NULL; p++)
		last = p;
	buf_printf(&want, "<%s>", mid);
	yes = strstr(last, buf_str(&want)) != NULL;
	buf_free(&want);
	return yes;
}

/*
 * The month's pages (threads, by date, by author) and its mbox.  added:
 * the post just archived (its mbox entry may be appended), or NULL.
 */
static int
render_month(const struct actx *x, const char *month, long *pages,
             const struct post *added)
{
	struct posts ps = {NULL, 0, 0};
	struct buf b = BUF_INIT, rel = BUF_INIT, mb = BUF_INIT;
	struct thread_msg *tm = NULL;
	struct thread_set *ts;
	struct month_walk w;
	size_t i, *idx = NULL;
	int failed = 0;

	if (db_archive_month(x->db, x->l->name, month, posts_add, &ps) < 0)
		return -1;
	buf_init(&b, STORE_MAX);
	/* by thread */
	month_head(x, &b, month, ps.n, "index");
	tm = xcalloc(ps.n ? ps.n : 1, sizeof(*tm));
	for (i = 0; i < ps.n; i++) {
		tm[i].id = ps.v[i].message_id;
		tm[i].in_reply_to = ps.v[i].in_reply_to;
		tm[i].refs = (const char *const *)ps.v[i].refv;
		tm[i].n_refs = ps.v[i].n_refs;
		tm[i].subject = ps.v[i].subject;
		tm[i].date = (long long)ps.v[i].date;
		tm[i].user = &ps.v[i];
	}
	ts = thread_build(tm, ps.n);
	buf_adds(&b, "<h2 class=\"skip\">");
	archive_word(x, &b, "threads", -1);
	buf_adds(&b, "</h2>\n<ul class=\"threads\">\n");
	w.x = x;
	w.b = &b;
	w.depth = 1;
	thread_walk(ts, month_line, &w);
	while (w.depth-- > 1)
		buf_adds(&b, "</ul>\n");
	buf_adds(&b, "</ul>\n");
	archive_page_end(&b);
	thread_free(ts);
	free(tm);
	buf_printf(&rel, "%s/index.html", month);
	failed |= put_page(x, buf_str(&rel), &b) < 0;
	/* by date */
	buf_reset(&b);
	month_head(x, &b, month, ps.n, "date");
	buf_adds(&b, "<ol class=\"bydate\">\n");
	for (i = 0; i < ps.n; i++)
		month_item(x, &b, &ps.v[i], 1);
	buf_adds(&b, "</ol>\n");
	archive_page_end(&b);
	buf_reset(&rel);
	buf_printf(&rel, "%s/date.html", month);
	failed |= put_page(x, buf_str(&rel), &b) < 0;
	/* by author */
	buf_reset(&b);
	month_head(x, &b, month, ps.n, "author");
	idx = xcalloc(ps.n ? ps.n : 1, sizeof(*idx));
	for (i = 0; i < ps.n; i++)
		idx[i] = i;
	sort_posts = &ps;
	qsort(idx, ps.n, sizeof(*idx), by_author);
	sort_posts = NULL;
	for (i = 0; i < ps.n; i++) {
		const struct post *p = &ps.v[idx[i]];
		const struct post *prev = i ? &ps.v[idx[i - 1]] : NULL;

		if (!prev || by_author_key_differs(prev, p)) {
			if (prev)
				buf_adds(&b, "</ul>\n");
			buf_adds(&b, "<h2>");
			author(x, &b, p->from_name, p->from_addr, p->erased);
			buf_adds(&b, "</h2>\n<ul>\n");
		}
		month_item(x, &b, p, 0);
	}
	if (ps.n)
		buf_adds(&b, "</ul>\n");
	archive_page_end(&b);
	buf_reset(&rel);
	buf_printf(&rel, "%s/author.html", month);
	failed |= put_page(x, buf_str(&rel), &b) < 0;
	/* the month's mbox: a post added last in its month (the usual case)
	 * is appended to the file there; anything else rewrites it */
	buf_init(&mb, STORE_MAX);
	buf_reset(&rel);
	buf_printf(&rel, "%s/all.mbox", month);
	i = 0;
	if (added && ps.n && ps.v[ps.n - 1].id == added->id) {
		struct buf path = BUF_INIT;

		buf_printf(&path, "%s/%s", x->root, buf_str(&rel));
		if (read_file(buf_str(&path), &mb) == 0 &&
		    mbox_ends_with(&mb, added->message_id))
			i = ps.n + 1;  /* there already */
		else if (mb.len)
			i = ps.n - 1;  /* append the last */
		else
			buf_reset(&mb);
		buf_free(&path);
	}
	for (; i < ps.n; i++) {
		struct stored st;
		struct buf raw = BUF_INIT;

		if (stored_raw(x, &ps.v[i], &st) < 0)
			continue;
		buf_init(&raw, STORE_MAX);
		raw_copy(x, &ps.v[i], &st, &raw);
		mbox_append(&mb, raw.s, raw.len, "archive@mlmd.invalid",
		            ps.v[i].date);
		buf_free(&raw);
		stored_free(&st);
	}
	if (i <= ps.n)
		failed |= put_page(x, buf_str(&rel), &mb) < 0;
	if (pages)
		*pages += 4;
	free(idx);
	posts_free(&ps);
	buf_free(&b);
	buf_free(&rel);
	buf_free(&mb);
	return failed ? -1 : 0;
}

/* ----- the list's page and feed ------------------------------------------------- */

static int
list_month(const char *month, long n, void *arg)
{
	void **a = arg;
	const struct actx *x = a[0];
	struct buf *b = a[1], mn = BUF_INIT;

	month_name(x, month, &mn);
	buf_printf(b, "<li><a href=\"%.7s/index.html\">", month);
	archive_esc(b, buf_str(&mn));
	buf_adds(b, "</a> <span class=\"meta\">(");
	archive_word(x, b, "messages", n);
	buf_adds(b, ")</span></li>\n");
	buf_free(&mn);
	return 0;
}

static int
list_thread(const struct arch_row *r, long count, time_t last, void *arg)
{
	void **a = arg;
	const struct actx *x = a[0];
	struct buf *b = a[1], t = BUF_INIT;
	struct post p;

	post_copy(&p, r);
	buf_printf(b, "<li><a href=\"t/%s.html\">", p.thash);
	archive_esc(b, subject_of(x, &p, &t));
	buf_adds(b, "</a> <span class=\"meta\">");
	author(x, b, p.from_name, p.from_addr, p.erased);
	buf_adds(b, " &middot; ");
	archive_word(x, b, "messages", count);
	buf_adds(b, " &middot; ");
	archive_date(x, last, b);
	buf_adds(b, "</span></li>\n");
	post_clear(&p);
	buf_free(&t);
	return 0;
}

static int
feed_row(const struct arch_row *r, void *arg)
{
	void **a = arg;
	struct post p;

	post_copy(&p, r);
	if (*(int *)a[3] == 0) {
		char when[32];

		rfc3339(p.date, when, sizeof(when));
		buf_printf(a[1], "<updated>%s</updated>\n", when);
	}
	(*(int *)a[3])++;
	feed_entry(a[0], a[1], &p, a[2]);
	post_clear(&p);
	return 0;
}

static int
render_list(const struct actx *x, long *pages)
{
	struct buf b = BUF_INIT, css = BUF_INIT, base = BUF_INIT;
	void *a[4];
	int n = 0, rc = 0;

	archive_page_start(x, &b, x->l->name, "");
	buf_adds(&b, "<h1>");
	archive_esc(&b, x->l->name);
	buf_adds(&b, "</h1>\n<p class=\"meta\"><a href=\"feed.atom\" "
	             "type=\"application/atom+xml\">");
	archive_word(x, &b, "feed", -1);
	buf_adds(&b, "</a></p>\n<h2>");
	archive_word(x, &b, "newest", -1);
	buf_adds(&b, "</h2>\n<ul class=\"newest\">\n");
	a[0] = (void *)x;
	a[1] = &b;
	if (db_archive_threads(x->db, x->l->name, LIST_THREADS, list_thread,
	                       a) < 0)
		rc = -1;
	buf_adds(&b, "</ul>\n<h2>");
	archive_word(x, &b, "months", -1);
	buf_adds(&b, "</h2>\n<ul class=\"months\">\n");
	if (db_archive_months(x->db, x->l->name, list_month, a) < 0)
		rc = -1;
	buf_adds(&b, "</ul>\n");
	archive_page_end(&b);
	if (rc == 0)
		rc = put_page(x, "index.html", &b);
	buf_adds(&css, style_css);
	if (rc == 0)
		rc = put_page(x, "style.css", &css);
	/* the feed */
	buf_reset(&b);
	list_url(x, &base);
	buf_adds(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	             "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
	archive_esc(&b, x->l->name);
	if (*x->l->description) {
		buf_adds(&b, ": ");
		archive_esc(&b, x->l->description);
	}
	buf_printf(&b, "</title>\n<id>urn:mlmd:%s</id>\n"
	               "<link rel=\"alternate\" href=\"%sindex.html\"/>\n",
	           x->l->name, buf_str(&base));
	a[2] = (void *)buf_str(&base);
	a[3] = &n;
	if (rc == 0 &&
	    db_archive_latest(x->db, x->l->name, FEED_ENTRIES, feed_row, a) < 0)
		rc = -1;
	if (n == 0)
		buf_adds(&b, "<updated>1970-01-01T00:00:00Z</updated>\n");
	buf_adds(&b, "</feed>\n");
	if (rc == 0)
		rc = put_page(x, "feed.atom", &b);
	if (pages)
		*pages += 3;
	buf_free(&b);
	buf_free(&css);
	buf_free(&base);
	return rc;
}

/* ----- entry points ----------------------------------------------------------------- */

int
archive_add(const struct conf *c, struct db *db, const char *list,
            const char *message_id)
{
	struct actx x;
	struct post p;
	struct neighbours nb;
	int r, failed = 0;

	if (archive_ctx_open(&x, c, db, list) != 0)
		return 0;
	memset(&p, 0, sizeof(p));
	r = db_archive_get(db, x.l->name, message_id, post_one, &p);
	if (r != 0) {
		archive_ctx_close(&x);
		return r < 0 ? -1 : 0; /* hidden, or no such row */
	}
	failed |= render_thread(&x, p.thread, NULL, NULL) < 0;
	/* the posts just before and after it by date link to it now */
	memset(&nb, 0, sizeof(nb));
	date_neighbours(&x, &p, &nb);
	if (nb.have_prev_d)
		failed |= render_thread(&x, nb.prev_d.thread,
		                        nb.prev_d.message_id, NULL) < 0;
	if (nb.have_next_d)
		failed |= render_thread(&x, nb.next_d.thread,
		                        nb.next_d.message_id, NULL) < 0;
	neighbours_clear(&nb);
	failed |= render_month(&x, p.month, NULL, &p) < 0;
	failed |= render_list(&x, NULL) < 0;
	post_clear(&p);
	archive_ctx_close(&x);
	return failed ? -1 : 0;
}

/* Thread ids of a list, collected month by month, and the names (hashes)
 * of the pages that must exist. */
struct ids {
	long long *v;
	size_t n, cap;
	char (*posts)[17], (*threads)[17];
	size_t n_posts, n_threads;
	char **months;
	size_t n_months;
};

static int
id_of_row(const struct arch_row *r, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 256;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
		ids->posts = xrealloc(ids->posts, ids->cap * sizeof(*ids->posts));
		ids->threads =
		    xrealloc(ids->threads, ids->cap * sizeof(*ids->threads));
	}
	ids->v[ids->n++] = r->thread;
	post_permalink_hash(r->message_id, ids->posts[ids->n_posts++]);
	post_permalink_hash(r->thread_mid, ids->threads[ids->n_threads++]);
	return 0;
}

static int
ids_month(const char *month, long n, void *arg)
{
	struct ids *ids = arg;

	(void)n;
	ids->months = xrealloc(ids->months,
	                       (ids->n_months + 1) * sizeof(char *));
	ids->months[ids->n_months++] = xstrdup(month);
	return 0;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_hash(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Remove the files under ROOT/sub named HASH.EXT whose HASH is not in
 * keep[0..n) (sorted): pages of posts no longer shown, of threads that
 * lost every post or changed their first one. */
static void
sweep(const struct actx *x, const char *sub, char (*keep)[17], size_t n)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	struct dirent *e;
	DIR *d;

	buf_printf(&dir, "%s/%s", x->root, sub);
	d = opendir(buf_str(&dir));
	while (d && (e = readdir(d)) != NULL) {
		char h[17];
		const char *dot = strchr(e->d_name, '.');

		if (e->d_name[0] == '.' || !dot || dot - e->d_name != 16)
			continue;
		memcpy(h, e->d_name, 16);
		h[16] = '\0';
		if (bsearch(h, keep, n, sizeof(*keep), cmp_hash))
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", buf_str(&dir), e->d_name);
		if (unlink(buf_str(&path)) < 0)
			error("%s: %s", buf_str(&path), strerror(errno));
	}
	if (d)
		closedir(d);
	buf_free(&dir);
	buf_free(&path);
}

long
archive_rebuild(const struct conf *c, struct db *db, const char *list)
{
	struct actx x;
	struct ids ids;
	long pages = 0;
	size_t i;
	int failed = 0;

	if (archive_ctx_open(&x, c, db, list) != 0)
		return 0;
	memset(&ids, 0, sizeof(ids));
	if (db_archive_months(db, x.l->name, ids_month, &ids) < 0)
		failed = 1;
	for (i = 0; i < ids.n_months && !failed; i++)
		if (db_archive_month(db, x.l->name, ids.months[i], id_of_row,
		                     &ids) < 0)
			failed = 1;
	qsort(ids.v, ids.n, sizeof(*ids.v), cmp_ll);
	for (i = 0; i < ids.n && !failed; i++) {
		if (i && ids.v[i] == ids.v[i - 1])
			continue;
		if (render_thread(&x, ids.v[i], NULL, &pages) < 0)
			failed = 1;
	}
	for (i = 0; i < ids.n_months; i++) {
		if (!failed && render_month(&x, ids.months[i], &pages, NULL) < 0)
			failed = 1;
		free(ids.months[i]);
	}
	if (!failed && render_list(&x, &pages) < 0)
		failed = 1;
	if (!failed) {
		qsort(ids.posts, ids.n_posts, sizeof(*ids.posts), cmp_hash);
		qsort(ids.threads, ids.n_threads, sizeof(*ids.threads),
		      cmp_hash);
		sweep(&x, "m", ids.posts, ids.n_posts);
		sweep(&x, "t", ids.threads, ids.n_threads);
	}
	free(ids.months);
	free(ids.v);
	free(ids.posts);
	free(ids.threads);
	archive_ctx_close(&x);
	return failed ? -1 : pages;
}

/* ----- erasure ------------------------------------------------------------------------ */

struct touched {
	char *month, *hash, *thash;
	long long thread, id;
	time_t date;
};

struct erase_walk {
	struct touched *v;
	size_t n;
};

static int
erase_row(const struct arch_row *r, void *arg)
{
	struct erase_walk *w = arg;
	struct touched *t;
	struct post p;

	post_copy(&p, r);
	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	t = &w->v[w->n++];
	t->id = p.id;
	t->date = p.date;
	t->month = xstrdup(p.month);
	t->hash = xstrdup(p.hash);
	t->thash = xstrdup(p.thash);
	t->thread = p.thread;
	post_clear(&p);
	return 0;
}

int
archive_person_erase(const struct conf *c, struct db *db,
                     const char *address, long *posts)
{
	size_t li, i;
	int failed = 0, remove = c->archive_erasure == ERASE_REMOVE;

	if (posts)
		*posts = 0;
	for (li = 0; li < c->n_lists; li++) {
		const struct list_conf *l = &c->lists[li];
		struct erase_walk w = {NULL, 0};
		struct actx x;

		if (archive_ctx_open(&x, c, db, l->name) != 0)
			continue;
		/* this list's posts by address */
		if (db_archive_by_author(db, l->name, address, erase_row, &w) <
		    0) {
			archive_ctx_close(&x);
			return -1;
		}
		archive_ctx_close(&x);
		if (w.n == 0) {
			free(w.v);
			continue;
		}
		if (posts)
			*posts += (long)w.n;
		/* the rows change first; the pages follow */
		if (db_archive_erase(db, l->name, address, remove) < 0)
			failed = 1;
		archive_ctx_open(&x, c, db, l->name);
		for (i = 0; i < w.n; i++) {
			struct buf rel = BUF_INIT;
			size_t k;
			int seen = 0;

			if (remove) {
				struct neighbours nb;
				struct post gone;

				buf_printf(&rel, "m/%s.html", w.v[i].hash);
				drop_file(&x, buf_str(&rel));
				buf_reset(&rel);
				buf_printf(&rel, "m/%s.txt", w.v[i].hash);
				drop_file(&x, buf_str(&rel));
				/* the posts around it by date linked to it */
				memset(&nb, 0, sizeof(nb));
				memset(&gone, 0, sizeof(gone));
				gone.id = w.v[i].id;
				gone.date = w.v[i].date;
				date_neighbours(&x, &gone, &nb);
				if (nb.have_prev_d &&
				    render_thread(&x, nb.prev_d.thread,
				                  nb.prev_d.message_id, NULL) < 0)
					failed = 1;
				if (nb.have_next_d &&
				    render_thread(&x, nb.next_d.thread,
				                  nb.next_d.message_id, NULL) < 0)
					failed = 1;
				neighbours_clear(&nb);
			}
			for (k = 0; k < i; k++)
				if (w.v[k].thread == w.v[i].thread)
					seen = 1;
			if (!seen) {
				struct posts left = {NULL, 0, 0};

				db_archive_thread(db, l->name, w.v[i].thread,
				                  posts_add, &left);
				if (left.n == 0) {
					static const char *const ext[] = {
					    "html", "mbox", "atom"};
					size_t e;

					for (e = 0; e < 3; e++) {
						buf_reset(&rel);
						buf_printf(&rel, "t/%s.%s",
						           w.v[i].thash, ext[e]);
						drop_file(&x, buf_str(&rel));
					}
				} else if (render_thread(&x, w.v[i].thread,
				                         NULL, NULL) < 0)
					failed = 1;
				posts_free(&left);
			}
			seen = 0;
			for (k = 0; k < i; k++)
				if (strcmp(w.v[k].month, w.v[i].month) == 0)
					seen = 1;
			if (!seen && render_month(&x, w.v[i].month, NULL, NULL) < 0)
				failed = 1;
			buf_free(&rel);
		}
		if (render_list(&x, NULL) < 0)
			failed = 1;
		archive_ctx_close(&x);
		for (i = 0; i < w.n; i++) {
			free(w.v[i].month);
			free(w.v[i].hash);
			free(w.v[i].thash);
		}
		free(w.v);
	}
	return failed ? -1 : 0;
}
