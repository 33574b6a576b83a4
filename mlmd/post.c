/*
 * post.c - a message to LIST@ (or LIST-owner@) from the dispatcher to
 * the outbound queue (post.h): facts about the author, the pipeline in
 * filters/, decoration with the list's footer, the archive row and one
 * queued copy per member; or a held row, a notice to the sender, a copy
 * for the owners.
 *
 * Invariants:
 *  - Nothing is sent from here: copies are files under HOME/out/ and
 *    rows in the outbound table, written in the caller's transaction, so
 *    a crash before the commit sends nothing and a crash after it sends
 *    everything (the queue runner, outq.c).
 *  - Files are written before the transaction that refers to them and
 *    flushed by post_sync() in between; their names come from the spool
 *    id, so a retry rewrites the same files instead of leaving new ones.
 *  - The members of an umbrella list (include = {...}) and the members of
 *    every list a cross-posted message went to get one copy each: the
 *    queue refuses a second 'post' copy of one Message-ID for one
 *    address (db_out_add_members()).  A message without a Message-ID
 *    gets one (<SPOOLID@DOMAIN>) so that this holds for it too.
 *  - Notices never go to the null sender, to MAILER-DAEMON or to our own
 *    domain, are sent from <> (RFC 3834) and at most NOTICE_LIMIT a day
 *    to one address, so mlmd cannot be made to send backscatter in bulk.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "compose.h"
#include "conf.h"
#include "db.h"
#include "decorate.h"
#include "digest.h"
#include "event.h"
#include "dmarc.h"
#include "extfilter.h"
#include "content.h"
#include "filter.h"
#include "log.h"
#include "msg.h"
#include "post.h"
#include "spool.h"
#include "tmpl.h"
#include "util.h"

#define NOTICE_LIMIT   5             /* notices per address per day */
#define SEARCH_TEXT_MAX (1 << 20)    /* bytes of text indexed per post */

enum act_kind { ACT_DISTRIBUTE, ACT_HOLD, ACT_REJECT, ACT_DISCARD, ACT_OWNER };

struct action {
	enum act_kind kind;
	const struct list_conf *list; /* borrowed from ctx->conf */
	struct filter_result fr;
	char *copy;      /* HOME-relative: decorated copy or owner copy */
	char *notice;    /* HOME-relative notice file, or NULL */
	char *notice_to; /* its recipient */
	long queued;     /* copies queued (after commit) */
	long long held_id;
};

struct post_plan {
	char *spool_id;
	char *sender;
	char *message_id; /* the post's, or the one given to it */
	const struct msg *msg; /* borrowed: lives until post_commit() */
	size_t size;
	time_t received;
	struct action *a;
	size_t n;
	int failed; /* a file could not be written: commit fails */
	char *forced_hold; /* the external filter's word: hold, and why */
	struct msg *own_msg; /* the post with the filter's fields, if any */
};

/* ----- files under HOME/out ------------------------------------------- */

/* Write HOME/out/NAME (via a temporary name and rename; flushed later
 * by post_sync()).  *rel gets "out/NAME".  0 / -1. */
int
post_write_out(const struct conf *c, const char *name, const char *head,
          const char *data, size_t len, char **rel)
{
	struct buf dir = BUF_INIT, tmp = BUF_INIT, path = BUF_INIT;
	int fd = -1, rc = -1;

	buf_printf(&dir, "%s/out", c->home);
	buf_printf(&tmp, "%s/.%s.tmp", buf_str(&dir), name);
	buf_printf(&path, "%s/%s", buf_str(&dir), name);
	if (mkdir_p(buf_str(&dir), 0750) < 0) {
		error("%s: %s", buf_str(&dir), strerror(errno));
		goto out;
	}
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	          0640);
	if (fd < 0 || (head && write_all(fd, head, strlen(head)) < 0) ||
	    write_all(fd, data, len) < 0) {
		error("%s: %s", buf_str(&tmp), strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		error("%s: %s", buf_str(&tmp), strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(buf_str(&tmp), buf_str(&path)) < 0) {
		error("%s: %s", buf_str(&path), strerror(errno));
		goto out;
	}
	{
		struct buf r = BUF_INIT;

		buf_printf(&r, "out/%s", name);
		*rel = buf_detach(&r, NULL);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(buf_str(&tmp));
	buf_free(&dir);
	buf_free(&tmp);
	buf_free(&path);
	return rc;
}

int
post_sync(const struct conf *c)
{
	struct buf dir = BUF_INIT;
	int fd, rc = 0;

	buf_printf(&dir, "%s/out", c->home);
	fd = open(buf_str(&dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			rc = error("%s: %s", buf_str(&dir), strerror(errno));
	} else {
		if (syncfs(fd) < 0 || fsync(fd) < 0)
			rc = error("flushing %s: %s", buf_str(&dir),
			           strerror(errno));
		close(fd);
	}
	buf_free(&dir);
	return rc;
}

/* ----- facts ------------------------------------------------------------ */

/* The list and every list it includes, recursively, each once. */
static size_t
closure_(const struct conf *c, const struct list_conf *l, const char **names,
        size_t max, size_t n)
{
	size_t i, j;

	for (j = 0; j < n; j++)
		if (strcmp(names[j], l->name) == 0)
			return n;
	if (n >= max)
		return n;
	names[n++] = l->name;
	for (i = 0; i < l->n_include; i++) {
		const struct list_conf *sub = conf_list(c, l->include[i]);

		if (sub)
			n = closure_(c, sub, names, max, n);
	}
	return n;
}

size_t
post_lists(const struct conf *c, const struct list_conf *l,
           const char **names, size_t max)
{
	return closure_(c, l, names, max, 0);
}

static int
in_addrs(char *const *v, size_t n, const char *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], a) == 0)
			return 1;
	return 0;
}

/* Fill the author facts of fp from From:, Sender: and the envelope. */
static int
gather_facts(const struct post_ctx *ctx, const struct list_conf *l,
             const struct msg *msg, const char *sender,
             struct filter_post *fp)
{
	const char *authors[3];
	const char **names;
	size_t n_names, i;
	char env[ADDR_MAX + 1];
	int rc = 0;

	authors[0] = msg->from.addr;
	authors[1] = msg->sender.addr;
	authors[2] = addr_normalise(sender, env, sizeof(env)) == 0 ? env : "";
	names = xcalloc(ctx->conf->n_lists + 1, sizeof(*names));
	n_names = post_lists(ctx->conf, l, names, ctx->conf->n_lists);
	for (i = 0; i < 3; i++) {
		int mod = 0, r;

		if (!authors[i] || !*authors[i])
			continue;
		if (in_addrs(l->owners, l->n_owners, authors[i]) ||
		    in_addrs(l->moderators, l->n_moderators, authors[i]))
			fp->is_moderator = 1;
		r = db_member_any(ctx->db, names, n_names, authors[i], &mod);
		if (r < 0)
			rc = -1;
		if (r > 0) {
			fp->is_member = 1;
			fp->is_moderated |= mod;
		}
		r = db_accept_sender(ctx->db, l->name, authors[i]);
		if (r < 0)
			rc = -1;
		if (r > 0)
			fp->is_accepted = 1;
	}
	free(names);
	return rc;
}

/* ----- notices --------------------------------------------------------- */

/* Whether a notice may go to addr at all (see the invariants). */
static int
notice_allowed(const struct post_ctx *ctx, const char *addr)
{
	const char *at = strrchr(addr, '@');
	long n;

	if (!*addr || !at)
		return 0;
	if ((size_t)(at - addr) == 13 && strncmp(addr, "mailer-daemon", 13) == 0)
		return 0;
	if (strcmp(at + 1, ctx->conf->domain) == 0)
		return 0;
	n = db_out_count_since(ctx->db, addr, "notice",
	                       time(NULL) - 86400);
	if (n < 0 || n >= NOTICE_LIMIT) {
		if (n >= NOTICE_LIMIT)
			log_info("notice to <%s> not sent: %d a day at most",
			         addr, NOTICE_LIMIT);
		return 0;
	}
	return 1;
}

/* Render template name for the sender and write it as out/FILE.  0, 1 if
 * no notice is due, -1 on error. */
static int
make_notice(const struct post_ctx *ctx, const struct list_conf *l,
            const char *spool_id, const char *to, const char *tmpl_name,
            const char *subject, const char *message_id, const char *reason,
            size_t size, char **rel)
{
	const char *langs[] = {l->language, NULL};
	const struct tmpl *t;
	struct tmpl_vars *v;
	struct buf subj = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
	struct buf mail = BUF_INIT, owner = BUF_INIT, mid = BUF_INIT;
	struct buf name = BUF_INIT;
	char sz[32], max[32];
	struct compose c;
	int rc = -1;

	if (!ctx->tmpl || !notice_allowed(ctx, to))
		return 1;
	t = tmpl_get(ctx->tmpl, tmpl_name, langs);
	if (!t)
		return error("template %s is missing", tmpl_name);
	v = tmpl_vars_new();
	buf_printf(&owner, "%s-owner@%s", l->name, ctx->conf->domain);
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "subject", subject);
	tmpl_vars_set(v, "reason", reason);
	tmpl_vars_set(v, "owner_address", buf_str(&owner));
	/* as the size stage words it: never "as large as" the limit */
	filter_size_text(sz, sizeof(sz), size, 1);
	filter_size_text(max, sizeof(max), l->max_size, 0);
	tmpl_vars_set(v, "size", sz);
	tmpl_vars_set(v, "max_size", max);
	if (tmpl_render_mail(t, v, &subj, &body, &err) < 0) {
		error("template %s/%s: %s", tmpl_lang(t), tmpl_name,
		      buf_str(&err));
		goto out;
	}
	/* "held.txt" -> SPOOLID.LIST.held: one name per kind of notice */
	buf_printf(&name, "%s.%s.%.*s", spool_id, l->name,
	           (int)strcspn(tmpl_name, "."), tmpl_name);
	buf_printf(&mid, "%s@%s", buf_str(&name), ctx->conf->domain);
	memset(&c, 0, sizeof(c));
	c.from_name = l->description && *l->description ? l->description
	                                                : l->name;
	c.from_addr = buf_str(&owner);
	c.to = to;
	c.subject = buf_str(&subj);
	c.body = buf_str(&body);
	c.lang = tmpl_lang(t);
	c.message_id = buf_str(&mid);
	c.in_reply_to = message_id;
	c.date = time(NULL);
	c.auto_submitted = "auto-replied";
	if (compose_text(&c, &mail) < 0) {
		error("%s: cannot compose the %s notice", spool_id, tmpl_name);
		goto out;
	}
	rc = post_write_out(ctx->conf, buf_str(&name), NULL, mail.s, mail.len, rel);
out:
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&body);
	buf_free(&err);
	buf_free(&mail);
	buf_free(&owner);
	buf_free(&mid);
	buf_free(&name);
	return rc;
}

/* ----- decoration ------------------------------------------------------ */

void
post_permalink(const struct conf *c, const char *list, const char *message_id,
               struct buf *out)
{
	unsigned char h[8];
	size_t i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)message_id,
	                   strlen(message_id), NULL, 0);
	buf_printf(out, "%s/archive/%s/m/", c->base_url ? c->base_url : "",
	           list);
	for (i = 0; i < sizeof(h); i++)
		buf_printf(out, "%02x", h[i]);
	buf_adds(out, ".html");
}

void
post_permalink_hash(const char *message_id, char out[17])
{
	unsigned char h[8];
	size_t i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)message_id,
	                   strlen(message_id), NULL, 0);
	for (i = 0; i < sizeof(h); i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

size_t
post_plan_n_distributed(const struct post_plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->a[i].kind == ACT_DISTRIBUTE;
	return n;
}

const char *
post_plan_distributed(const struct post_plan *p, size_t k)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->a[i].kind == ACT_DISTRIBUTE && k-- == 0)
			return p->a[i].list->name;
	return NULL;
}

const char *
post_plan_message_id(const struct post_plan *p)
{
	return p->message_id ? p->message_id : "";
}

/* The list's footer in its language, rendered into out.  0 / -1. */
static int
render_footer(const struct post_ctx *ctx, const struct list_conf *l,
              struct buf *out)
{
	const char *langs[] = {l->language, NULL};
	const struct tmpl *t;
	struct tmpl_vars *v;
	struct buf err = BUF_INIT;
	char sep = ctx->conf->separator;
	int rc;

	if (!ctx->tmpl || !(t = tmpl_get(ctx->tmpl, "footer.txt", langs)))
		return 0; /* no footer */
	v = tmpl_vars_new();
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_setf(v, "unsubscribe_address", "%s%cunsubscribe@%s",
	               l->name, sep, ctx->conf->domain);
	tmpl_vars_setf(v, "request_address", "%s-request@%s", l->name,
	               ctx->conf->domain);
	if (l->archive == ARCH_PUBLIC && ctx->conf->base_url)
		tmpl_vars_setf(v, "archive_url", "%s/archive/%s/",
		               ctx->conf->base_url, l->name);
	else
		tmpl_vars_set(v, "archive_url", "");
	rc = tmpl_render(t, v, out, &err);
	if (rc < 0)
		error("footer of list %s: %s", l->name, buf_str(&err));
	tmpl_vars_free(v);
	buf_free(&err);
	return rc;
}

/*
 * What the author's DMARC policy asks of list l's copy (mlmd.conf(5),
 * `dmarc`): 0, DECORATE_DMARC_MUNGE or DECORATE_DMARC_WRAP.  Each
 * decision is logged with its reason.
 */
static int
dmarc_action(const struct post_ctx *ctx, const struct list_conf *l,
             const struct msg *msg, const char *spool_id)
{
	const char *at = strrchr(msg->from.addr, '@');
	enum dmarc_policy p;
	char why[160];
	int act;

	if (l->dmarc == DMARC_NONE || !at)
		return 0;
	if (l->dmarc == DMARC_ALWAYS) {
		log_info("%s: list %s: From munged (dmarc = always)", spool_id,
		         l->name);
		return DECORATE_DMARC_MUNGE;
	}
	if (!ctx->dmarc)
		return 0;
	p = dmarc_policy(ctx->dmarc, at + 1, why, sizeof(why));
	if (p == DMARC_P_REJECT ||
	    (p == DMARC_P_QUARANTINE &&
	     ctx->conf->dmarc_threshold == DMARC_P_QUARANTINE))
		act = l->dmarc == DMARC_WRAP ? DECORATE_DMARC_WRAP
		                              : DECORATE_DMARC_MUNGE;
	else
		act = 0;
	if (act || p != DMARC_P_UNKNOWN)
		log_info("%s: list %s: DMARC %s: %s", spool_id, l->name, why,
		         act == DECORATE_DMARC_WRAP    ? "wrapped"
		         : act == DECORATE_DMARC_MUNGE ? "From munged"
		                                       : "sent as is");
	return act;
}

struct dmarc *
post_dmarc_new(const struct conf *c)
{
	struct dmarc *d = dmarc_new();
	size_t i;

	for (i = 0; d && i < c->n_dmarc_override; i++) {
		const char *o = c->dmarc_override[i], *eq = strchr(o, '=');
		char dom[256];
		enum dmarc_policy p = strcmp(eq + 1, "reject") == 0
		                          ? DMARC_P_REJECT
		                      : strcmp(eq + 1, "quarantine") == 0
		                          ? DMARC_P_QUARANTINE
		                          : DMARC_P_NONE;

		snprintf(dom, sizeof(dom), "%.*s", (int)(eq - o), o);
		if (dmarc_override(d, dom, p) < 0)
			log_warn("dmarc_override: '%s' not used", o);
	}
	return d;
}

/* Decorate raw for list l and write out/SPOOLID.LIST.  0, or -1 with why
 * in err (then the post is held). */
static int
make_copy(const struct post_ctx *ctx, const struct list_conf *l,
          const char *spool_id, const struct msg *msg, const char *raw,
          size_t len, const char *message_id, const char *tags, char **rel,
          struct buf *err)
{
	struct decorate_in in;
	struct buf footer = BUF_INIT, out = BUF_INIT, link = BUF_INIT;
	struct buf name = BUF_INIT, filtered = BUF_INIT;
	int rc = -1;

	if (render_footer(ctx, l, &footer) < 0) {
		buf_adds(err, "the list's footer template is broken");
		goto done;
	}
	if (l->n_pass_types || l->n_strip_types || l->n_strip_extensions ||
	    l->collapse_alternative || l->html_to_text) {
		struct content_opts o;
		struct content_result cr;

		memset(&o, 0, sizeof(o));
		o.pass_types = l->n_pass_types
		                   ? (const char *const *)l->pass_types
		                   : NULL;
		o.strip_types = (const char *const *)l->strip_types;
		o.strip_extensions = (const char *const *)l->strip_extensions;
		o.collapse_alternative = l->collapse_alternative;
		o.html_to_text = l->html_to_text;
		buf_init(&filtered, (size_t)1 << 31);
		memset(&cr, 0, sizeof(cr));
		if (content_filter(raw, len, &o, &filtered, &cr, err) < 0)
			goto done;
		if (cr.empty) {
			buf_printf(err, "nothing the list accepts is left "
			                "(%s)",
			           cr.note);
			rc = -3;
			goto done;
		}
		if (cr.changed) {
			log_info("%s: list %s: content filter: %s", spool_id,
			         l->name, cr.note);
			raw = filtered.s;
			len = filtered.len;
		}
	}
	memset(&in, 0, sizeof(in));
	in.raw = raw;
	in.len = len;
	in.list = l;
	in.domain = ctx->conf->domain;
	in.separator = ctx->conf->separator;
	in.base_url = ctx->conf->base_url;
	if (l->archive != ARCH_NONE && *message_id && ctx->conf->base_url) {
		post_permalink(ctx->conf, l->name, message_id, &link);
		in.archived_at = buf_str(&link);
	}
	in.footer = buf_str(&footer);
	in.reply_to_override = l->reply_to_override;
	/* With a web front door each copy gets its own one-click link
	 * (outq.c adds it per recipient; sub.h). */
	in.personal_unsubscribe = ctx->conf->http && *ctx->conf->http;
	in.dmarc_action = dmarc_action(ctx, l, msg, spool_id);
	in.tags = tags;
	in.author_name = msg->from.name;
	in.author_addr = msg->from.addr;
	buf_init(&out, (size_t)1 << 31);
	if (decorate(&in, &out, err) < 0)
		goto done;
	buf_printf(&name, "%s.%s", spool_id, l->name);
	if (post_write_out(ctx->conf, buf_str(&name), NULL, out.s, out.len, rel) <
	    0) {
		buf_adds(err, "cannot write the copy");
		rc = -2;
		goto done;
	}
	rc = 0;
done:
	buf_free(&footer);
	buf_free(&out);
	buf_free(&link);
	buf_free(&name);
	buf_free(&filtered);
	return rc;
}

/* ----- planning ---------------------------------------------------------- */

static struct action *
new_action(struct post_plan *p, enum act_kind k, const struct list_conf *l)
{
	struct action *a;

	p->a = xrealloc(p->a, (p->n + 1) * sizeof(*p->a));
	a = &p->a[p->n++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	a->list = l;
	return a;
}

static void __attribute__((format(printf, 5, 6)))
set_reason(struct filter_result *fr, enum filter_verdict v, const char *stage,
           const char *notice, const char *fmt, ...)
{
	va_list ap;

	fr->verdict = v;
	fr->stage = stage;
	fr->notice = notice;
	va_start(ap, fmt);
	vsnprintf(fr->reason, sizeof(fr->reason), fmt, ap);
	va_end(ap);
}

static void
plan_post(const struct post_ctx *ctx, struct post_plan *p,
          const struct list_conf *l, const char *raw, size_t len,
          const char *approved_list)
{
	const struct msg *msg = p->msg;
	struct filter_post fp;
	struct filter_result fr;
	struct action *a;
	struct buf err = BUF_INIT;

	memset(&fp, 0, sizeof(fp));
	memset(&fr, 0, sizeof(fr));
	fp.conf = ctx->conf;
	fp.list = l;
	fp.msg = msg;
	fp.size = len;
	fp.sender = p->sender;
	fp.approved = approved_list && strcmp(approved_list, l->name) == 0;
	fp.hold_reason = p->forced_hold;
	if (gather_facts(ctx, l, msg, p->sender, &fp) < 0) {
		p->failed = 1; /* the database: try again later */
		return;
	}
	filter_run(&fp, &fr);
	switch (fr.verdict) {
	case FILTER_ACCEPT:
	case FILTER_PASS: {
		char *rel = NULL;
		int r = make_copy(ctx, l, p->spool_id, p->msg, raw, len,
		                  p->message_id, fr.tags, &rel, &err);

		if (r == -2) {
			p->failed = 1;
			break;
		}
		if (r == -3) {
			set_reason(&fr, FILTER_REJECT, "content", "rejected.txt",
			           "%s", buf_str(&err));
			a = new_action(p, ACT_REJECT, l);
			a->fr = fr;
			break;
		}
		if (r < 0) {
			set_reason(&fr, FILTER_HOLD, "decorate", "held.txt",
			           "the message cannot be prepared for the "
			           "list: %s",
			           buf_str(&err));
			a = new_action(p, ACT_HOLD, l);
			a->fr = fr;
			break;
		}
		a = new_action(p, ACT_DISTRIBUTE, l);
		a->fr = fr;
		a->copy = rel;
		break;
	}
	case FILTER_HOLD:
		a = new_action(p, ACT_HOLD, l);
		a->fr = fr;
		break;
	case FILTER_REJECT:
		a = new_action(p, ACT_REJECT, l);
		a->fr = fr;
		break;
	case FILTER_DISCARD:
		a = new_action(p, ACT_DISCARD, l);
		a->fr = fr;
		break;
	case FILTER_OWNER:
		a = new_action(p, ACT_OWNER, l);
		a->fr = fr;
		break;
	}
	buf_free(&err);
}

/* The copy for the owners: the message as received, with one line on
 * top saying why it came to them. */
static void
plan_owner_copy(const struct post_ctx *ctx, struct post_plan *p,
                struct action *a, const char *raw, size_t len)
{
	struct buf head = BUF_INIT, name = BUF_INIT;
	size_t i;

	buf_adds(&head, "X-Mlmd-Owner-Reason: ");
	for (i = 0; a->fr.reason[i]; i++)
		buf_addc(&head, (unsigned char)a->fr.reason[i] < ' '
		                    ? ' '
		                    : a->fr.reason[i]);
	buf_addc(&head, '\n');
	buf_printf(&name, "%s.%s.owner", p->spool_id, a->list->name);
	if (post_write_out(ctx->conf, buf_str(&name), buf_str(&head), raw, len,
	              &a->copy) < 0)
		p->failed = 1;
	buf_free(&head);
	buf_free(&name);
}

/*
 * Run the external filter (filter_command, extfilter.h) on the post.
 * Headers mode: the fields it added go on top of *raw (into ext) and
 * the post is parsed again into p->own_msg.  A spam verdict, a failure or
 * a timeout holds the post (p->forced_hold), logged: a filter that does
 * not answer must not let everything through, nor lose anything.
 */
static int
external_filter(const struct post_ctx *ctx, struct post_plan *p,
                const char **raw, size_t *len, struct buf *ext)
{
	const struct conf *c = ctx->conf;
	struct extfilter_opts o;
	struct extfilter_result res;
	struct buf why = BUF_INIT;
	struct msg *m = NULL;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.argv = (const char *const *)c->filter_command;
	o.timeout_ms = c->filter_timeout * 1000;
	o.mode = c->filter_verdict ? EXTFILTER_VERDICT : EXTFILTER_HEADERS;
	if (extfilter_run(&o, *raw, *len, &res) < 0 ||
	    res.status == EXTFILTER_FAILED || res.status == EXTFILTER_TIMEOUT) {
		buf_printf(&why, "the filter program %s: %s",
		           res.status == EXTFILTER_TIMEOUT ? "timed out"
		                                           : "failed",
		           res.why);
		p->forced_hold = buf_detach(&why, NULL);
		log_warn("%s: %s; held", p->spool_id, p->forced_hold);
		rc = -1;
	} else if (res.status == EXTFILTER_SPAM) {
		p->forced_hold = xstrdup("the spam filter marked it as spam");
		log_info("%s: the filter program says spam; held", p->spool_id);
		rc = -1;
	} else if (res.added.len) {
		const char *a = res.added.s, *end = a + res.added.len;
		int keep = 0;

		/* Only X- fields: a filter that rewrites the message (spamc
		 * with report_safe) also adds Content-Type and friends,
		 * which must not land on top of the post's own. */
		buf_init(ext, (size_t)1 << 31);
		while (a < end) {
			const char *nl = memchr(a, '\n', (size_t)(end - a));
			size_t n = nl ? (size_t)(nl + 1 - a) : (size_t)(end - a);

			if (*a != ' ' && *a != '\t')
				keep = n > 2 && (a[0] == 'X' || a[0] == 'x') &&
				       a[1] == '-';
			if (keep)
				buf_add(ext, a, n);
			a += n;
		}
		buf_add(ext, *raw, *len);
		if (msg_parse(ext->s, ext->len, &msg_default_limits, &m, &why) ==
		    0) {
			p->own_msg = m;
			*raw = ext->s;
			*len = ext->len;
		} else {
			log_warn("%s: the filter's fields make the post "
			         "unreadable (%s): they are not used",
			         p->spool_id, buf_str(&why));
		}
	}
	buf_free(&why);
	buf_free(&res.added);
	return rc;
}

struct post_plan *
post_prepare(const struct post_ctx *ctx, const char *spool_id,
             const struct spool_env *env, const struct msg *msg,
             const char *raw, size_t len, const struct route *routes,
             size_t n, const char *approved_list)
{
	struct post_plan *p = xcalloc(1, sizeof(*p));
	struct buf with_id = BUF_INIT, ext = BUF_INIT;
	size_t i;

	p->spool_id = xstrdup(spool_id);
	p->sender = xstrdup(env->sender ? env->sender : "");
	p->msg = msg;
	p->size = len;
	p->received = env->received;
	if (!msg)
		return p; /* refused at parsing: recorded only */
	if (*msg->message_id) {
		p->message_id = xstrdup(msg->message_id);
	} else {
		/* Give it an identity for the archive and the cross-post
		 * check, and write it into the copies too. */
		struct buf id = BUF_INIT;

		buf_printf(&id, "%s@%s", spool_id, ctx->conf->domain);
		p->message_id = buf_detach(&id, NULL);
		buf_printf(&with_id, "Message-ID: <%s>\n", p->message_id);
		buf_add(&with_id, raw, len);
		raw = with_id.s;
		len = with_id.len;
	}
	if (ctx->conf->n_filter_command && !approved_list &&
	    external_filter(ctx, p, &raw, &len, &ext) == 0 && p->own_msg)
		msg = p->msg = p->own_msg; /* with the filter's fields: the
		                            * rules see them, the copies
		                            * carry them */
	for (i = 0; i < n && !p->failed; i++) {
		const struct list_conf *l = routes[i].list;
		size_t k;

		if (!l)
			continue;
		for (k = 0; k < i; k++) /* LIST@ twice in one envelope */
			if (routes[k].list == l && routes[k].role == routes[i].role)
				break;
		if (k < i)
			continue;
		if (routes[i].role == ROLE_POST) {
			/* an invitation from someone who is no coordinator
			 * (theirs never get here: daemon.c makes them
			 * events): a moderator decides */
			if (!approved_list && !p->forced_hold && msg &&
			    event_is_invitation(msg))
				p->forced_hold = xstrdup(
				    "a calendar invitation to the list: "
				    "events come from owners and moderators");
			plan_post(ctx, p, l, raw, len, approved_list);
		} else if (routes[i].role == ROLE_OWNER) {
			struct action *a = new_action(p, ACT_OWNER, l);

			set_reason(&a->fr, FILTER_OWNER, "owner", NULL,
			           "mail to %s-owner", l->name);
		}
	}
	/* Files: owner copies and notices. */
	for (i = 0; i < p->n && !p->failed; i++) {
		struct action *a = &p->a[i];

		if (a->kind == ACT_OWNER) {
			plan_owner_copy(ctx, p, a, raw, len);
		} else if ((a->kind == ACT_HOLD || a->kind == ACT_REJECT) &&
		           a->fr.notice) {
			char to[ADDR_MAX + 1];
			int r;

			if (addr_normalise(p->sender, to, sizeof(to)) < 0)
				continue;
			r = make_notice(ctx, a->list, p->spool_id, to,
			                a->fr.notice, msg->subject,
			                p->message_id, a->fr.reason, len,
			                &a->notice);
			if (r < 0)
				p->failed = 1;
			else if (r == 0)
				a->notice_to = xstrdup(to);
		}
	}
	buf_free(&with_id);
	buf_free(&ext);
	return p;
}

/* ----- committing -------------------------------------------------------- */

/* The searchable text: the plain text parts, else any text. */
static char *
search_text(const struct msg *msg)
{
	struct buf t = BUF_INIT;
	size_t i;
	int pass;

	buf_init(&t, SEARCH_TEXT_MAX);
	for (pass = 0; pass < 2 && t.len == 0; pass++)
		for (i = 0; i < msg->n_parts; i++) {
			const struct msg_part *pt = &msg->parts[i];

			if (!pt->text || pt->is_attachment)
				continue;
			if (pass == 0 && strcmp(pt->type, "text/plain") != 0)
				continue;
			if (t.len)
				buf_addc(&t, '\n');
			if (buf_add(&t, pt->text, pt->text_len) < 0)
				break; /* the cap: enough for search */
		}
	return buf_detach(&t, NULL);
}

int
post_archive_msg(struct db *db, const struct list_conf *l,
                 const struct msg *msg, const char *message_id,
                 const char *store_path, time_t received, size_t size,
                 long long *row)
{
	struct archived ar;
	struct buf refs = BUF_INIT;
	const char *no = msg_header(msg, "X-No-Archive");
	const char *arch = msg_header(msg, "Archive");
	char *text;
	size_t i;
	int rc;

	for (i = 0; i < msg->n_references; i++)
		buf_printf(&refs, "%s%s", i ? " " : "", msg->references[i]);
	text = search_text(msg);
	memset(&ar, 0, sizeof(ar));
	ar.list = l->name;
	ar.message_id = message_id;
	ar.path = store_path;
	ar.from_name = msg->from.name;
	ar.from_addr = msg->from.addr;
	ar.subject = msg->subject;
	ar.date = msg->date;
	ar.received = received;
	ar.in_reply_to = msg->in_reply_to;
	ar.refs = buf_str(&refs);
	ar.size = size;
	ar.hidden = l->archive == ARCH_NONE ||
	            (no && str_has_prefix_ci(no, "yes")) ||
	            (arch && str_has_prefix_ci(arch, "no"));
	ar.text = text;
	rc = db_message_add(db, &ar, row);
	free(text);
	buf_free(&refs);
	return rc;
}

static int
archive_row(const struct post_ctx *ctx, struct post_plan *p,
            const struct list_conf *l, long long *row)
{
	struct buf path = BUF_INIT;
	int rc;

	buf_printf(&path, "store/%s", p->spool_id);
	rc = post_archive_msg(ctx->db, l, p->msg, p->message_id,
	                      buf_str(&path), p->received, p->size, row);
	buf_free(&path);
	return rc < 0 ? -1 : 0;
}

static int
commit_action(const struct post_ctx *ctx, struct post_plan *p,
              struct action *a)
{
	const struct conf *c = ctx->conf;
	const struct list_conf *l = a->list;
	struct buf bounce = BUF_INIT, ref = BUF_INIT;
	int rc = -1;

	buf_printf(&bounce, "%s%cbounce@%s", l->name, c->separator, c->domain);
	switch (a->kind) {
	case ACT_DISTRIBUTE: {
		const char **names = xcalloc(c->n_lists + 1, sizeof(*names));
		size_t n = post_lists(c, l, names, c->n_lists);
		struct buf prefix = BUF_INIT, suffix = BUF_INIT;
		long long row = 0;

		buf_printf(&prefix, "%s%cbounce-", l->name, c->separator);
		buf_printf(&suffix, "@%s", c->domain);
		if (archive_row(ctx, p, l, &row) == 0) {
			a->queued = db_out_add_members(
			    ctx->db, l->name, names, n, p->message_id, a->copy,
			    buf_str(&bounce), c->verp ? buf_str(&prefix) : NULL,
			    buf_str(&suffix), c->delivery_lifetime);
			if (row)
				buf_printf(&ref, "%lld", row);
			/* digests (a redelivery has row 0: collected before);
			 * one past its size goes at the daemon's next digest
			 * run, within a minute */
			if (a->queued >= 0 &&
			    db_log_event(ctx->db, l->name, "post", buf_str(&ref),
			                 1) == 0 &&
			    (!row || digest_collect(c, ctx->db, l, row,
			                            p->size) >= 0))
				rc = 0;
		}
		free(names);
		buf_free(&prefix);
		buf_free(&suffix);
		break;
	}
	case ACT_HOLD: {
		struct held h;

		memset(&h, 0, sizeof(h));
		h.list = (char *)l->name;
		h.spool_id = p->spool_id;
		h.message_id = p->message_id;
		h.sender = p->sender;
		h.from_addr = (char *)p->msg->from.addr;
		h.subject = (char *)p->msg->subject;
		h.size = p->size;
		h.reason = a->fr.reason;
		h.expires = time(NULL) + ctx->conf->held_lifetime;
		if (db_held_add(ctx->db, &h, &a->held_id) == 0 &&
		    db_log_event(ctx->db, l->name, "held", NULL, 1) == 0)
			rc = 0;
		break;
	}
	case ACT_REJECT:
		rc = db_log_event(ctx->db, l->name, "rejected", NULL, 1);
		break;
	case ACT_DISCARD:
		rc = db_log_event(ctx->db, l->name, "discarded", NULL, 1);
		break;
	case ACT_OWNER: {
		size_t i;

		rc = 0;
		if (l->n_owners == 0)
			log_warn("list %s has no owners: mail for them is "
			         "only kept in the store",
			         l->name);
		for (i = 0; i < l->n_owners && rc == 0; i++)
			if (db_out_add(ctx->db, l->name, "owner",
			               p->message_id, a->copy,
			               buf_str(&bounce), l->owners[i],
			               c->delivery_lifetime) < 0)
				rc = -1;
		a->queued = (long)l->n_owners;
		break;
	}
	}
	/* The limit again, in the transaction: messages of one round are
	 * prepared before any of them is committed. */
	if (rc == 0 && a->notice) {
		if (db_out_count_since(ctx->db, a->notice_to, "notice",
		                       time(NULL) - 86400) >= NOTICE_LIMIT) {
			/* Not sent: the file goes (a retry would write it
			 * again). */
			struct buf f = BUF_INIT;

			buf_printf(&f, "%s/%s", c->home, a->notice);
			unlink(buf_str(&f));
			buf_free(&f);
			log_info("notice to <%s> not sent: %d a day at most",
			         a->notice_to, NOTICE_LIMIT);
			free(a->notice);
			a->notice = NULL;
		} else if (db_out_add(ctx->db, l->name, "notice",
		                      p->message_id, a->notice, "",
		                      a->notice_to, c->delivery_lifetime) < 0) {
			rc = -1;
		}
	}
	buf_free(&bounce);
	buf_free(&ref);
	return rc;
}

int
post_commit(const struct post_ctx *ctx, struct post_plan *p)
{
	size_t i;

	if (p->failed)
		return -1;
	for (i = 0; i < p->n; i++)
		if (commit_action(ctx, p, &p->a[i]) < 0)
			return -1;
	return 0;
}

static const char *const act_names[] = {
    [ACT_DISTRIBUTE] = "accepted", [ACT_HOLD] = "held",
    [ACT_REJECT] = "rejected",     [ACT_DISCARD] = "discarded",
    [ACT_OWNER] = "to the owners",
};

void
post_log(const struct post_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];

		char held[32] = "";

		if (a->held_id)
			snprintf(held, sizeof(held), " as #%lld", a->held_id);
		log_info("%s: list %s: %s%s by %s (%s); %ld copies queued%s",
		         p->spool_id, a->list->name, act_names[a->kind], held,
		         a->fr.stage ? a->fr.stage : "?", a->fr.reason,
		         a->queued, a->notice ? "; sender notified" : "");
	}
}

size_t
post_plan_n_held(const struct post_plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->a[i].held_id != 0;
	return n;
}

long long
post_plan_held(const struct post_plan *p, size_t k)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->a[i].held_id && k-- == 0)
			return p->a[i].held_id;
	return 0;
}

int
post_plan_held_quiet(const struct post_plan *p, size_t k)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->a[i].held_id && k-- == 0)
			return p->a[i].fr.notice == NULL;
	return 0;
}

long
post_plan_queued(const struct post_plan *p)
{
	size_t i;
	long n = 0;

	for (i = 0; i < p->n; i++)
		n += p->a[i].queued > 0 ? p->a[i].queued : 0;
	return n;
}

void
post_plan_free(struct post_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->a[i].copy);
		free(p->a[i].notice);
		free(p->a[i].notice_to);
	}
	free(p->a);
	free(p->spool_id);
	free(p->sender);
	free(p->message_id);
	free(p->forced_hold);
	msg_free(p->own_msg);
	free(p);
}

int
post_notify(const struct post_ctx *ctx, const char *list, const char *spool_id,
            const char *recipient, const char *tmpl_name, const char *subject,
            const char *message_id, const char *reason)
{
	const struct list_conf *l = conf_list(ctx->conf, list);
	char to[ADDR_MAX + 1];
	char *rel = NULL;
	int r;

	if (!l || addr_normalise(recipient, to, sizeof(to)) < 0)
		return 1;
	r = make_notice(ctx, l, spool_id, to, tmpl_name, subject, message_id,
	                reason, 0, &rel);
	if (r != 0)
		return r;
	if (post_sync(ctx->conf) < 0 ||
	    db_out_add(ctx->db, l->name, "notice", message_id, rel, "", to,
	               ctx->conf->delivery_lifetime) < 0)
		r = -1;
	free(rel);
	return r;
}
