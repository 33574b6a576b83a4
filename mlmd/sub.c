/*
 * sub.c - joining and leaving (sub.h): the commands of a mail, pending
 * confirmations, their execution, one-click unsubscribe, and the mails
 * and pages that tell the person what happened.
 *
 * Invariants:
 *  - State changes only in confirm_row() (a token whose MAC, expiry and
 *    single use were checked) and in leave_personal() (a member's own
 *    unsubscribe token).  Everything else only reads.
 *  - Every mail goes to the address a token or membership names, or for
 *    an immediate answer to the From: address of the mail, never to a
 *    Reply-To or Sender chosen by whoever wrote the mail.
 *  - A mail file is written and flushed before the row that queues it
 *    (post_write_out + post_sync, then db_out_add, in the caller's
 *    transaction); names derive from the spool id, so a retry after a
 *    crash rewrites the same files.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch_access.h"
#include "archive.h"
#include "cmd.h"
#include "compose.h"
#include "conf.h"
#include "db.h"
#include "filter.h"
#include "log.h"
#include "moderate.h"
#include "msg.h"
#include "post.h"
#include "sub.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

#define REPLY_LIMIT    5    /* immediate answers per address per day */
#define MAX_RESULTS    64   /* lines of one answer */
#define UNSUB_DAYS     400  /* a member's own link lasts this long */
#define USED_KEEP      (7 * 86400) /* used tokens kept, then deleted */
#define LANG_MAX       15
#define CMD_DEFAULT_MAX 20  /* commands read from one mail */

static const char *const r_flags[] = {
    "r_pending", "r_help", "r_lists", "r_which", "r_unknown", "r_no_list",
    "r_bad_arg", "r_not_member", "r_already_member", "r_too_many",
    "r_token_unknown", "r_token_expired", "r_throttled", "r_done_subscribe",
    "r_done_unsubscribe", "r_done_digest_on", "r_done_digest_off",
    "r_done_digest_mime", "r_done_digest_plain", "r_done_nomail_on",
    "r_done_nomail_off", "r_done_language", "r_done_export", "r_done_forget",
    NULL};

/* Action lines of a pending confirmation and the flag that shows each. */
static const struct {
	const char *line, *flag;
} actions[] = {
    {"subscribe", "a_subscribe"},
    {"subscribe digest", "a_subscribe_digest"},
    {"subscribe nomail", "a_subscribe_nomail"},
    {"unsubscribe", "a_unsubscribe"},
    {"digest on", "a_digest_on"},
    {"digest off", "a_digest_off"},
    {"digest mime", "a_digest_mime"},
    {"digest plain", "a_digest_plain"},
    {"nomail on", "a_nomail_on"},
    {"nomail off", "a_nomail_off"},
    {"language", "a_language"},
    {"export", "a_export"},
    {"forget", "a_forget"},
};

struct res {
	const char *flag;
	char command[CMD_LINE_MAX + 1];
	char arg[CMD_ARG_MAX + 1];
};

struct run {
	const struct sub_ctx *ctx;
	const struct list_conf *l;
	char person[ADDR_MAX + 1];
	char lang[LANG_MAX + 1];   /* asked for in this mail, or "" */
	const char *prefix;        /* file names: spool id or web-... */
	const char *in_reply_to;   /* the mail we answer, or NULL */
	struct res res[MAX_RESULTS];
	size_t n_res;
	struct buf actions;        /* pending action lines */
	int help, show_lists, show_which, throttled, pending_sub;
	int want_archive;          /* a member asked for the archive link */
	int n_files;
	char how[300];             /* consent record of what is confirmed */
	int failed;
};

static void
run_init(struct run *r, const struct sub_ctx *ctx, const struct list_conf *l,
         const char *person, const char *prefix)
{
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->l = l;
	strlcpy_(r->person, person, sizeof(r->person));
	r->prefix = prefix;
	buf_init(&r->actions, 4096);
}

static void
add_res(struct run *r, const char *flag, const char *command, const char *arg)
{
	struct res *x;

	if (r->n_res >= MAX_RESULTS)
		return;
	x = &r->res[r->n_res++];
	x->flag = flag;
	strlcpy_(x->command, command ? command : "", sizeof(x->command));
	strlcpy_(x->arg, arg ? arg : "", sizeof(x->arg));
}

/* ----- languages ----------------------------------------------------------- */

/* 1 if the catalogue has templates in code. */
static int
have_lang(const struct tmpl_set *s, const char *code)
{
	size_t i, n = s ? tmpl_set_count(s) : 0;

	for (i = 0; i < n; i++)
		if (strcmp(tmpl_lang(tmpl_set_at(s, i)), code) == 0)
			return 1;
	return 0;
}

/*
 * The preference for mail to r->person: what this mail asked for, the
 * member's choice on this list, the person's choice, the list's.  The
 * strings live in store (4 x 16 bytes).
 */
static void
langs_for(struct run *r, char store[4][LANG_MAX + 1], const char *langs[5])
{
	struct member_flags f;
	size_t n = 0;

	memset(store, 0, 4 * (LANG_MAX + 1));
	if (*r->lang)
		strlcpy_(store[n++], r->lang, LANG_MAX + 1);
	if (r->l && db_member_flags(r->ctx->db, r->l->name, r->person, &f) ==
	                0 &&
	    *f.language)
		strlcpy_(store[n++], f.language, LANG_MAX + 1);
	if (db_person_language(r->ctx->db, r->person, store[n], LANG_MAX + 1) ==
	        0 &&
	    *store[n])
		n++;
	if (r->l)
		strlcpy_(store[n++], r->l->language, LANG_MAX + 1);
	langs[0] = store[0];
	langs[1] = store[1];
	langs[2] = store[2];
	langs[3] = store[3];
	langs[4] = NULL;
}

static int
rtl(const char *lang)
{
	return strcmp(lang, "ar") == 0 || strcmp(lang, "he") == 0 ||
	       strcmp(lang, "fa") == 0 || strcmp(lang, "ur") == 0;
}

/* ----- template variables -------------------------------------------------- */

static void
common_vars(const struct run *r, struct tmpl_vars *v)
{
	const struct conf *c = r->ctx->conf;
	const struct list_conf *l = r->l;
	char sep = c->separator ? c->separator : '+';

	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "list_description", l->description);
	tmpl_vars_set(v, "address", r->person);
	tmpl_vars_setf(v, "request_address", "%s-request@%s", l->name,
	               c->domain);
	tmpl_vars_setf(v, "subscribe_address", "%s%csubscribe@%s", l->name,
	               sep, c->domain);
	tmpl_vars_setf(v, "unsubscribe_address", "%s%cunsubscribe@%s",
	               l->name, sep, c->domain);
	tmpl_vars_setf(v, "help_address", "%s%chelp@%s", l->name, sep,
	               c->domain);
	tmpl_vars_setf(v, "owner_address", "%s-owner@%s", l->name, c->domain);
	if (l->archive == ARCH_PUBLIC && c->base_url && *c->base_url) {
		struct buf b = BUF_INIT;

		conf_web_base(c, &b);
		tmpl_vars_setf(v, "archive_url", "%s/archive/%s/", buf_str(&b),
		               l->name);
		buf_free(&b);
	} else {
		tmpl_vars_set(v, "archive_url", "");
	}
}

static void
results_vars(const struct run *r, struct tmpl_vars *v)
{
	size_t i, k;

	tmpl_vars_set_list(v, "results");
	for (i = 0; i < r->n_res; i++) {
		struct tmpl_vars *it = tmpl_vars_add_item(v, "results");

		tmpl_vars_set(it, "command", r->res[i].command);
		tmpl_vars_set(it, "arg", r->res[i].arg);
		for (k = 0; r_flags[k]; k++)
			tmpl_vars_set_bool(it, r_flags[k],
			                   strcmp(r_flags[k], r->res[i].flag) ==
			                       0);
	}
	tmpl_vars_set_bool(v, "any_results", r->n_res > 0);
}

static void
actions_vars(const char *lines, struct tmpl_vars *v)
{
	const char *p = lines;
	size_t k;

	tmpl_vars_set_list(v, "actions");
	while (p && *p) {
		size_t n = strcspn(p, "\n");
		struct tmpl_vars *it;
		char line[CMD_ARG_MAX + 32];
		const char *code = "";

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (!*line || *line == '#')
			continue;
		if (strncmp(line, "language ", 9) == 0) {
			code = line + 9;
			line[8] = '\0';
		}
		it = tmpl_vars_add_item(v, "actions");
		for (k = 0; k < ARRAY_SIZE(actions); k++)
			tmpl_vars_set_bool(it, actions[k].flag,
			                   strcmp(actions[k].line, line) == 0);
		tmpl_vars_set(it, "language_code", code);
	}
}

struct walk_lists {
	const struct conf *conf;
	struct tmpl_vars *v;
	size_t n;
};

static int
lists_item(const char *list, const struct member_flags *f, void *arg)
{
	struct walk_lists *w = arg;
	const struct list_conf *l = conf_list(w->conf, list);
	struct tmpl_vars *it = tmpl_vars_add_item(w->v, "memberships");

	tmpl_vars_set(it, "name", list);
	tmpl_vars_set(it, "address", l ? l->address : "");
	tmpl_vars_set_bool(it, "digest", f->digest);
	tmpl_vars_set_bool(it, "nomail", f->nomail);
	w->n++;
	return 0;
}

/* ----- writing and queueing a mail ----------------------------------------- */

int
sub_send(const struct sub_ctx *ctx, const struct sub_mail *m)
{
	const struct conf *c = ctx->conf;
	const struct tmpl *t;
	struct buf subj = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
	struct buf mail = BUF_INIT, mid = BUF_INIT, from = BUF_INIT;
	struct buf lid = BUF_INIT;
	struct compose cm;
	char *rel = NULL;
	int rc = -1;

	if (!ctx->tmpl || !(t = tmpl_get(ctx->tmpl, m->tmpl, m->langs)))
		return error("template %s is missing", m->tmpl);
	if (tmpl_render_mail(t, m->v, &subj, &body, &err) < 0) {
		error("template %s/%s: %s", tmpl_lang(t), m->tmpl,
		      buf_str(&err));
		goto out;
	}
	buf_printf(&mid, "%s@%s", m->file, c->domain);
	buf_printf(&from, "%s-%s@%s", m->l->name,
	           m->from_owner ? "owner" : "request", c->domain);
	buf_printf(&lid, "%s.%s", m->l->name, c->domain);
	memset(&cm, 0, sizeof(cm));
	cm.from_name = *m->l->description ? m->l->description : m->l->name;
	cm.from_addr = buf_str(&from);
	cm.to = m->to;
	cm.subject = buf_str(&subj);
	cm.body = buf_str(&body);
	cm.lang = tmpl_lang(t);
	cm.message_id = buf_str(&mid);
	cm.in_reply_to = m->in_reply_to;
	cm.date = time(NULL);
	cm.auto_submitted = m->auto_replied ? "auto-replied" : "auto-generated";
	cm.reply_to = m->reply_to;
	cm.list_id = buf_str(&lid);
	cm.attach = m->attach;
	cm.attach_len = m->attach_len;
	if (compose_text(&cm, &mail) < 0) {
		error("%s: cannot compose %s for <%s>", m->file, m->tmpl, m->to);
		goto out;
	}
	if (post_write_out(c, m->file, NULL, mail.s, mail.len, &rel) < 0 ||
	    post_sync(c) < 0)
		goto out;
	/* From <>: no bounce or vacation reply ever comes back (RFC 3834). */
	if (db_out_add(ctx->db, m->l->name, m->kind, buf_str(&mid), rel,
	               m->envelope ? m->envelope : "", m->to,
	               c->delivery_lifetime) < 0)
		goto out;
	log_info("%s: %s to <%s> (%s)", m->file, m->tmpl, m->to, tmpl_lang(t));
	rc = 0;
out:
	free(rel);
	buf_free(&subj);
	buf_free(&body);
	buf_free(&err);
	buf_free(&mail);
	buf_free(&mid);
	buf_free(&from);
	buf_free(&lid);
	return rc;
}

/*
 * Render template name for r->person and queue it.  kind 'notice' for an
 * answer to a mail anybody could have sent (rate limited), 'reply' for a
 * mail that follows a confirmed token.  reply_to: the Reply-To, or NULL.
 * 0, 1 not sent (limit), -1 error.
 */
static int
send_mail(struct run *r, const char *name, struct tmpl_vars *v,
          const char *kind, const char *reply_to)
{
	const struct sub_ctx *ctx = r->ctx;
	char store[4][LANG_MAX + 1];
	const char *langs[5];
	struct buf file = BUF_INIT;
	struct sub_mail m;
	int rc;

	if (strcmp(kind, "notice") == 0) {
		long n = db_out_count_since(ctx->db, r->person, "notice",
		                            time(NULL) - 86400);

		if (n < 0)
			return -1;
		if (n >= REPLY_LIMIT) {
			log_info("answer to <%s> not sent: %d a day at most",
			         r->person, REPLY_LIMIT);
			return 1;
		}
	}
	langs_for(r, store, langs);
	buf_printf(&file, "%s.%s.%.*s", r->prefix, r->l->name,
	           (int)strcspn(name, "."), name);
	if (r->n_files++)
		buf_printf(&file, ".%d", r->n_files);
	memset(&m, 0, sizeof(m));
	m.l = r->l;
	m.to = r->person;
	m.langs = langs;
	m.tmpl = name;
	m.v = v;
	m.kind = kind;
	m.reply_to = reply_to;
	m.file = buf_str(&file);
	m.in_reply_to = r->in_reply_to;
	m.auto_replied = strcmp(kind, "notice") == 0;
	rc = sub_send(ctx, &m);
	buf_free(&file);
	if (rc < 0)
		r->failed = 1;
	return rc;
}

/* The list's help text in r->person's language, appended to out. */
static void
help_text(struct run *r, struct buf *out)
{
	char store[4][LANG_MAX + 1];
	const char *langs[5];
	const struct tmpl *t;
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf subj = BUF_INIT, err = BUF_INIT;

	langs_for(r, store, langs);
	common_vars(r, v);
	if ((t = tmpl_get(r->ctx->tmpl, "help.txt", langs)) &&
	    tmpl_render_mail(t, v, &subj, out, &err) < 0)
		log_warn("help.txt: %s", buf_str(&err));
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&err);
}

/* Public lists and the person's memberships, for `lists` and `which`. */
static void
lists_vars(struct run *r, struct tmpl_vars *v)
{
	const struct conf *c = r->ctx->conf;
	struct walk_lists w = {c, v, 0};
	size_t i, n = 0;

	tmpl_vars_set_list(v, "public_lists");
	for (i = 0; r->show_lists && i < c->n_lists; i++) {
		struct tmpl_vars *it;

		if (!c->lists[i].advertised)
			continue;
		it = tmpl_vars_add_item(v, "public_lists");
		tmpl_vars_set(it, "name", c->lists[i].name);
		tmpl_vars_set(it, "address", c->lists[i].address);
		tmpl_vars_set(it, "description", c->lists[i].description);
		n++;
	}
	tmpl_vars_set_bool(v, "any_public_lists", n > 0);
	tmpl_vars_set_bool(v, "show_lists", r->show_lists);
	tmpl_vars_set_list(v, "memberships");
	if (r->show_which)
		db_person_lists(r->ctx->db, r->person, lists_item, &w);
	tmpl_vars_set_bool(v, "any_memberships", w.n > 0);
	tmpl_vars_set_bool(v, "show_memberships", r->show_which);
}

/* Answer with the results (and help, lists, memberships). */
static int
results_mail(struct run *r, const char *kind)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf help = BUF_INIT;
	int rc;

	common_vars(r, v);
	results_vars(r, v);
	if (r->help)
		help_text(r, &help);
	tmpl_vars_set(v, "help_text", buf_str(&help));
	lists_vars(r, v);
	rc = send_mail(r, "results.txt", v, kind, NULL);
	tmpl_vars_free(v);
	buf_free(&help);
	return rc;
}

/* ----- leaving ------------------------------------------------------------- */

int
sub_leave(const struct sub_ctx *ctx, const struct list_conf *l,
      const char *address, const char *how)
{
	const char **names = xcalloc(ctx->conf->n_lists + 1, sizeof(*names));
	size_t n = post_lists(ctx->conf, l, names, ctx->conf->n_lists), i;
	int removed = 0;

	for (i = 0; i < n && removed >= 0; i++) {
		int r = db_member_remove(ctx->db, names[i], address, how);

		if (r < 0)
			removed = -1;
		else if (r == 0)
			removed++;
	}
	free(names);
	return removed;
}

/* Is address a member of l or of a list it gathers? 1, 0, -1. */
static int
member_of(const struct sub_ctx *ctx, const struct list_conf *l,
          const char *address)
{
	const char **names = xcalloc(ctx->conf->n_lists + 1, sizeof(*names));
	size_t n = post_lists(ctx->conf, l, names, ctx->conf->n_lists);
	int mod, r = db_member_any(ctx->db, names, n, address, &mod);

	free(names);
	return r;
}

static int
send_goodbye(struct run *r)
{
	struct tmpl_vars *v = tmpl_vars_new();
	int rc;

	common_vars(r, v);
	rc = send_mail(r, "goodbye.txt", v, "reply", NULL);
	tmpl_vars_free(v);
	return rc;
}

/* ----- the archive ---------------------------------------------------------- */

/*
 * private_archive_url: r->person's personal link to r->l's private
 * archive (arch_access.h), or "" (not private, no web address, no
 * member).  0 / -1.
 */
static int
private_archive_var(struct run *r, struct tmpl_vars *v)
{
	struct buf url = BUF_INIT;
	int x = 1;

	if (r->l->archive == ARCH_PRIVATE)
		x = arch_access_url(r->ctx->conf, r->ctx->db, r->ctx->key,
		                    r->l->name, r->person, &url);
	tmpl_vars_set(v, "private_archive_url", x == 0 ? buf_str(&url) : "");
	buf_free(&url);
	return x < 0 ? -1 : 0;
}

/*
 * The answer to `archive` from a member: the personal link of a private
 * archive, the public address of a public one, or that there is none.
 * It goes to the member's own address, like every immediate answer, and
 * counts as a notice (REPLY_LIMIT).  0, 1 not sent (limit), -1.
 */
static int
send_archive_link(struct run *r)
{
	struct tmpl_vars *v = tmpl_vars_new();
	const char *pub, *priv;
	int rc = -1;

	common_vars(r, v); /* archive_url: set for a public archive */
	if (private_archive_var(r, v) == 0) {
		pub = tmpl_vars_get(v, "archive_url");
		priv = tmpl_vars_get(v, "private_archive_url");
		tmpl_vars_set_bool(v, "no_archive", r->l->archive == ARCH_NONE);
		/* An archive, but no web address to give for it. */
		tmpl_vars_set_bool(v, "no_web_archive",
		                   r->l->archive != ARCH_NONE &&
		                       !(pub && *pub) && !(priv && *priv));
		rc = send_mail(r, "archive_link.txt", v, "notice", NULL);
	}
	tmpl_vars_free(v);
	return rc;
}

/* ----- executing a confirmed token ----------------------------------------- */

static int
send_welcome(struct run *r)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct member_flags f;
	int rc;

	if (db_member_flags(r->ctx->db, r->l->name, r->person, &f) != 0)
		memset(&f, 0, sizeof(f));
	common_vars(r, v);
	tmpl_vars_set_bool(v, "digest", f.digest);
	tmpl_vars_set_bool(v, "digest_available", r->l->digest != DIGEST_NONE);
	tmpl_vars_set_bool(v, "nomail", f.nomail);
	tmpl_vars_set_bool(v, "announce", r->l->posting == POST_ANNOUNCE);
	tmpl_vars_set_bool(v, "moderated", r->l->posting == POST_MODERATED);
	if (private_archive_var(r, v) < 0) {
		tmpl_vars_free(v);
		return -1;
	}
	rc = send_mail(r, "welcome.txt", v, "reply", NULL);
	tmpl_vars_free(v);
	return rc;
}

static int
send_export(struct run *r)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf json = BUF_INIT;
	int rc = -1;

	if (db_person_export(r->ctx->db, r->person, &json) == 0) {
		common_vars(r, v);
		tmpl_vars_set(v, "data", buf_str(&json));
		rc = send_mail(r, "export.txt", v, "reply", NULL);
	}
	tmpl_vars_free(v);
	buf_free(&json);
	return rc;
}

/* Run the action lines of a confirmed token for r->person on r->l. */
static int
execute(struct run *r, const char *lines)
{
	const struct sub_ctx *ctx = r->ctx;
	const char *p = lines;
	char lang[LANG_MAX + 1] = "";
	int rc = 0;

	/* A language asked for with the subscription is the member's. */
	if ((p = strstr(lines, "language ")) && (p == lines || p[-1] == '\n'))
		snprintf(lang, sizeof(lang), "%.*s", (int)strcspn(p + 9, "\n"),
		         p + 9);
	if (*lang)
		strlcpy_(r->lang, lang, sizeof(r->lang));
	for (p = lines; rc == 0 && *p;) {
		size_t n = strcspn(p, "\n");
		char line[CMD_ARG_MAX + 32];
		const char *flag = NULL;
		int x;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (!*line || *line == '#')
			continue;
		if (strncmp(line, "subscribe", 9) == 0 &&
		    r->l->subscription_moderated) {
			struct member_flags f;

			/* The owners approve: they are asked now. */
			if (db_member_flags(ctx->db, r->l->name, r->person,
			                    &f) == 0) {
				add_res(r, "r_already_member", line, "");
				continue;
			}
			if (*lang)
				db_person_set_language(ctx->db, r->person, lang);
			if (moderate_subscription(ctx, r->l, r->person, line,
			                          r->how, r->prefix) < 0)
				return -1;
			continue;
		}
		if (strncmp(line, "subscribe", 9) == 0) {
			x = db_member_add(ctx->db, r->l->name, r->person, "", lang,
			                  r->how);
			if (x == 0 && strcmp(line, "subscribe digest") == 0)
				x = db_member_update(ctx->db, r->l->name,
				                     r->person, 1, NULL, -1, NULL);
			if (x == 0 && strcmp(line, "subscribe nomail") == 0)
				x = db_member_update(ctx->db, r->l->name,
				                     r->person, -1, NULL, 1, NULL);
			/* moderate_new: the first post waits for a
			 * moderator (moderate.c clears it on approval) */
			if (x == 0 && r->l->moderate_new)
				x = db_member_set_moderated(ctx->db, r->l->name,
				                            r->person, 1);
			if (x < 0)
				return -1;
			flag = x == 0 ? "r_done_subscribe" : "r_already_member";
			if (x == 0 && send_welcome(r) < 0)
				return -1;
		} else if (strcmp(line, "unsubscribe") == 0) {
			x = sub_leave(ctx, r->l, r->person, r->how);
			if (x < 0)
				return -1;
			flag = x > 0 ? "r_done_unsubscribe" : "r_not_member";
			if (x > 0 && send_goodbye(r) < 0)
				return -1;
		} else if (strncmp(line, "digest ", 7) == 0) {
			const char *a = line + 7;
			int on = strcmp(a, "off") != 0;
			const char *fmt = strcmp(a, "mime") == 0    ? "mime"
			                  : strcmp(a, "plain") == 0 ? "plain"
			                                            : NULL;

			x = db_member_update(ctx->db, r->l->name, r->person, on,
			                     fmt, -1, NULL);
			if (x < 0)
				return -1;
			flag = x ? "r_not_member"
			       : !on ? "r_done_digest_off"
			       : fmt && *fmt == 'm' ? "r_done_digest_mime"
			       : fmt ? "r_done_digest_plain"
			             : "r_done_digest_on";
		} else if (strncmp(line, "nomail ", 7) == 0) {
			int on = strcmp(line + 7, "on") == 0;

			x = db_member_update(ctx->db, r->l->name, r->person, -1,
			                     NULL, on, NULL);
			if (x < 0)
				return -1;
			flag = x ? "r_not_member"
			       : on ? "r_done_nomail_on" : "r_done_nomail_off";
		} else if (strncmp(line, "language ", 9) == 0) {
			if (db_member_update(ctx->db, r->l->name, r->person, -1,
			                     NULL, -1, line + 9) < 0 ||
			    db_person_set_language(ctx->db, r->person,
			                           line + 9) < 0)
				return -1;
			add_res(r, "r_done_language", line, line + 9);
			continue;
		} else if (strcmp(line, "export") == 0) {
			if (send_export(r) < 0)
				return -1;
			flag = "r_done_export";
		} else if (strcmp(line, "forget") == 0) {
			char who[ADDR_MAX + 1], store[4][LANG_MAX + 1];
			const char *langs[5];

			/* The last mail speaks the language of the person
			 * who is about to be forgotten. */
			langs_for(r, store, langs);
			strlcpy_(r->lang, langs[0] ? langs[0] : "",
			         sizeof(r->lang));
			strlcpy_(who, r->person, sizeof(who));
			if (archive_person_erase(ctx->conf, ctx->db, who, NULL) <
			        0 ||
			    db_person_erase(ctx->db, who) < 0)
				return -1;
			log_info("%s: the data of a person was erased on "
			         "request",
			         r->prefix);
			add_res(r, "r_done_forget", line, "");
			{
				struct tmpl_vars *v = tmpl_vars_new();

				common_vars(r, v);
				x = send_mail(r, "forgotten.txt", v, "reply",
				              NULL);
				tmpl_vars_free(v);
				if (x < 0)
					return -1;
			}
			break; /* nothing about the person is left to change */
		} else {
			log_warn("%s: unknown action '%s' in a confirmation",
			         r->prefix, line);
			continue;
		}
		add_res(r, flag, line, "");
	}
	return rc;
}

enum tok_state { TOK_OK, TOK_UNKNOWN, TOK_EXPIRED, TOK_USED };

/* Find and check a confirmation token: its row in *row. */
static enum tok_state
check_confirm(const struct sub_ctx *ctx, const char *token,
              struct token_row *row)
{
	long long id;
	time_t exp;

	memset(row, 0, sizeof(*row));
	if (token_parse(token, &id, &exp) < 0 ||
	    db_token_get(ctx->db, id, row) != 0)
		return TOK_UNKNOWN;
	if (strcmp(row->purpose, "confirm") != 0 || row->expires != exp ||
	    !token_verify(ctx->key, token, row->purpose, row->list,
	                  row->address))
		return TOK_UNKNOWN;
	if (row->used)
		return TOK_USED;
	if (row->expires < time(NULL))
		return TOK_EXPIRED;
	return TOK_OK;
}

/*
 * Confirm token: check it, use it, execute its actions for the person it
 * names, on the list it names; the results go into r (whose list and
 * person are set from the token).  how: the consent record ("confirmed
 * by mail <ID>").  Returns the state; a store error sets r->failed.
 */
static enum tok_state
confirm_token(struct run *r, const char *token, const char *how)
{
	struct token_row row;
	enum tok_state s = check_confirm(r->ctx, token, &row);
	const struct list_conf *l;
	const char *p;

	if (s == TOK_OK && !(l = conf_list(r->ctx->conf, row.list)))
		s = TOK_UNKNOWN; /* its list was removed */
	if (s != TOK_OK) {
		token_row_clear(&row);
		return s;
	}
	if (db_token_use(r->ctx->db, row.id) != 0) {
		token_row_clear(&row);
		return TOK_USED;
	}
	r->l = l;
	strlcpy_(r->person, row.address, sizeof(r->person));
	/* Notes ("#invited by root") go into the consent record. */
	p = strstr(row.arg, "#invited by ");
	if (p)
		snprintf(r->how, sizeof(r->how), "%s (%.*s)", how,
		         (int)strcspn(p + 1, "\n"), p + 1);
	else
		snprintf(r->how, sizeof(r->how), "%s", how);
	if (execute(r, row.arg) < 0)
		r->failed = 1;
	token_row_clear(&row);
	return TOK_OK;
}

/* Results that have no mail of their own call for a results mail. */
static int
needs_results_mail(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->n_res; i++)
		if (strcmp(r->res[i].flag, "r_done_subscribe") != 0 &&
		    strcmp(r->res[i].flag, "r_done_unsubscribe") != 0 &&
		    strcmp(r->res[i].flag, "r_done_export") != 0 &&
		    strcmp(r->res[i].flag, "r_done_forget") != 0)
			return 1;
	return 0;
}

/* ----- asking for a confirmation ------------------------------------------- */

/* May a confirmation go to r->person for r->l now?  1 yes, 0 no (logged),
 * -1 error. */
static int
caps_allow(struct run *r)
{
	const struct conf *c = r->ctx->conf;
	time_t now = time(NULL);
	const char *dom = strrchr(r->person, '@');
	long n;

	n = db_token_count(r->ctx->db, "confirm", r->l->name, r->person, NULL,
	                   now - c->confirm_window, 1);
	if (n < 0)
		return -1;
	if (n > 0) {
		log_info("confirmation to <%s> for %s not sent: one is pending "
		         "(confirm_window)",
		         r->person, r->l->name);
		return 0;
	}
	n = db_token_count(r->ctx->db, "confirm", NULL, NULL, dom ? dom + 1 : "",
	                   now - 3600, 0);
	if (n < 0)
		return -1;
	if (n >= c->confirm_domain_hourly) {
		log_warn("confirmation to <%s> for %s not sent: %d to %s in "
		         "the last hour (confirm_domain_hourly)",
		         r->person, r->l->name, c->confirm_domain_hourly,
		         dom ? dom + 1 : "?");
		return 0;
	}
	n = db_token_count(r->ctx->db, "confirm", NULL, NULL, NULL, now - 3600,
	                   0);
	if (n < 0)
		return -1;
	if (n >= c->confirm_hourly) {
		log_warn("confirmation to <%s> for %s not sent: %d in the last "
		         "hour (confirm_hourly)",
		         r->person, r->l->name, c->confirm_hourly);
		return 0;
	}
	return 1;
}

/* Make the token for r->actions and send confirm.txt.  0 / -1. */
static int
ask_confirmation(struct run *r)
{
	const struct sub_ctx *ctx = r->ctx;
	const struct conf *c = ctx->conf;
	char tok[TOKEN_MAX + 1], when[64];
	time_t exp = time(NULL) + c->confirm_lifetime;
	struct tmpl_vars *v;
	struct buf addr = BUF_INIT, url = BUF_INIT;
	long long id;
	struct tm tm;
	int rc;

	if (db_token_add(ctx->db, "confirm", r->l->name, r->person,
	                 buf_str(&r->actions), exp, &id) < 0)
		return -1;
	/* the reports count requests to join (issue 9) */
	if ((strncmp(buf_str(&r->actions), "subscribe", 9) == 0 ||
	     strstr(buf_str(&r->actions), "\nsubscribe")) &&
	    db_log_event(ctx->db, r->l->name, "sub_request", NULL, 1) < 0)
		return -1;
	token_make(ctx->key, "confirm", r->l->name, r->person, id, exp, tok,
	           sizeof(tok));
	if (db_token_set(ctx->db, id, tok) < 0)
		return -1;
	buf_printf(&addr, "%s%cconfirm-%s@%s", r->l->name,
	           c->separator ? c->separator : '+', tok, c->domain);
	if (c->http && *c->http) {
		conf_web_base(c, &url);
		buf_printf(&url, "/c/%s", tok);
	}
	gmtime_r(&exp, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	v = tmpl_vars_new();
	common_vars(r, v);
	tmpl_vars_set(v, "confirm_address", buf_str(&addr));
	tmpl_vars_set(v, "confirm_url", buf_str(&url));
	tmpl_vars_set(v, "expires", when);
	actions_vars(buf_str(&r->actions), v);
	results_vars(r, v);
	rc = send_mail(r, "confirm.txt", v, "notice", buf_str(&addr));
	tmpl_vars_free(v);
	buf_free(&addr);
	buf_free(&url);
	return rc < 0 ? -1 : 0;
}

/* Add an action line unless it is there already. */
static void
want(struct run *r, const char *line)
{
	const char *p = buf_str(&r->actions);
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == buf_str(&r->actions) || p[-1] == '\n') &&
		    (p[n] == '\n' || !p[n]))
			return;
		p += n;
	}
	buf_printf(&r->actions, "%s\n", line);
}

/* Decide what each command does; state changes only become actions. */
static void
run_commands(struct run *r, const struct cmd *cmds, size_t n, int truncated,
             const char *msgid)
{
	const struct sub_ctx *ctx = r->ctx;
	size_t i;
	int member = member_of(ctx, r->l, r->person) > 0;
	int direct = 0;
	struct member_flags f;

	direct = db_member_flags(ctx->db, r->l->name, r->person, &f) == 0;
	for (i = 0; i < n; i++) {
		const struct cmd *c = &cmds[i];
		char line[CMD_ARG_MAX + 32];
		size_t k;

		/* The same command twice (the Subject and the body say
		 * "subscribe"): answered once. */
		for (k = 0; k < i; k++)
			if (cmds[k].kind == c->kind && c->kind != CMD_UNKNOWN &&
			    strcmp(cmds[k].arg, c->arg) == 0)
				break;
		if (k < i)
			continue;
		switch (c->kind) {
		case CMD_SUBSCRIBE:
			if (direct) {
				add_res(r, "r_already_member", c->line, "");
				break;
			}
			snprintf(line, sizeof(line), "subscribe%s%s",
			         *c->arg ? " " : "", c->arg);
			want(r, line);
			r->pending_sub = 1;
			add_res(r, "r_pending", c->line, "");
			break;
		case CMD_UNSUBSCRIBE:
			if (!member) {
				add_res(r, "r_not_member", c->line, "");
				break;
			}
			want(r, "unsubscribe");
			add_res(r, "r_pending", c->line, "");
			break;
		case CMD_DIGEST:
		case CMD_NOMAIL:
			if (!direct && !r->pending_sub) {
				add_res(r, "r_not_member", c->line, "");
				break;
			}
			if (c->kind == CMD_DIGEST && r->l->digest == DIGEST_NONE &&
			    strcmp(c->arg, "off") != 0) {
				add_res(r, "r_bad_arg", c->line, c->arg);
				break;
			}
			snprintf(line, sizeof(line), "%s %s",
			         c->kind == CMD_DIGEST ? "digest" : "nomail",
			         c->arg);
			want(r, line);
			add_res(r, "r_pending", c->line, "");
			break;
		case CMD_LANGUAGE:
			if (!have_lang(ctx->tmpl, c->arg)) {
				add_res(r, "r_bad_arg", c->line, c->arg);
				break;
			}
			/* Answer in it at once; store it once confirmed. */
			strlcpy_(r->lang, c->arg, sizeof(r->lang));
			snprintf(line, sizeof(line), "language %s", c->arg);
			want(r, line);
			add_res(r, "r_pending", c->line, "");
			break;
		case CMD_EXPORT:
			want(r, "export");
			add_res(r, "r_pending", c->line, "");
			break;
		case CMD_FORGET:
			want(r, "forget");
			add_res(r, "r_pending", c->line, "");
			break;
		case CMD_CONFIRM: {
			struct run sub;
			char how[200];
			enum tok_state s;

			snprintf(how, sizeof(how), "confirmed by mail <%.150s>",
			         msgid);
			run_init(&sub, ctx, r->l, r->person, r->prefix);
			sub.in_reply_to = r->in_reply_to;
			sub.n_files = r->n_files + 10;
			s = confirm_token(&sub, c->arg, how);
			r->n_files = sub.n_files;
			r->failed |= sub.failed;
			if (s == TOK_OK)
				for (k = 0; k < sub.n_res; k++)
					add_res(r, sub.res[k].flag,
					        sub.res[k].command,
					        sub.res[k].arg);
			else
				add_res(r, s == TOK_EXPIRED ? "r_token_expired"
				                            : "r_token_unknown",
				        c->line, "");
			buf_free(&sub.actions);
			break;
		}
		case CMD_HELP:
			r->help = 1;
			add_res(r, "r_help", c->line, "");
			break;
		case CMD_LISTS:
			r->show_lists = 1;
			add_res(r, "r_lists", c->line, "");
			break;
		case CMD_WHICH:
			r->show_which = 1;
			add_res(r, "r_which", c->line, "");
			break;
		case CMD_ARCHIVE:
			/* A link only ever for a member, in a mail of its
			 * own (sub_mail sends it). */
			if (member)
				r->want_archive = 1;
			else
				add_res(r, "r_not_member", c->line, "");
			break;
		default:
			r->help = 1;
			add_res(r, "r_unknown", c->line, "");
			break;
		}
	}
	if (truncated) {
		char max[24];

		snprintf(max, sizeof(max), "%zu", n);
		add_res(r, "r_too_many", "", max);
	}
	if (n == 0 && !truncated) {
		/* An empty mail to -request: the help, never silence. */
		r->help = 1;
		add_res(r, "r_help", "", "");
	}
}

/* ----- the mail entry point ------------------------------------------------- */

const char *
sub_ignored(const struct sub_ctx *ctx, const struct list_conf *l,
            const struct msg *msg, const char *sender, const char *person,
            char *buf)
{
	struct filter_post fp;
	struct filter_result fr;
	const char *ct = msg_header(msg, "content-type");
	const char *at = strrchr(person, '@');
	size_t i;

	if (!*person || !at)
		return "no usable From: address";
	if (strcmp(at + 1, ctx->conf->domain) == 0)
		return "From: is one of our own addresses";
	for (i = 0; i < msg->n_headers; i++)
		if (filter_header_is(msg->headers[i].name, "list-id") ||
		    filter_header_is(msg->headers[i].name, "x-loop"))
			return "it comes from a mailing list (List-Id, X-Loop)";
	if (ct && str_has_prefix_ci(ct, "multipart/report"))
		return "it is a delivery or feedback report";
	memset(&fp, 0, sizeof(fp));
	memset(&fr, 0, sizeof(fr));
	fp.conf = ctx->conf;
	fp.list = l;
	fp.msg = msg;
	fp.sender = sender;
	if (filter_auto.run(&fp, &fr) != FILTER_PASS) {
		/* The stage words it for posts ("... goes to the owners");
		 * here only its first part holds. */
		const char *cut = strstr(fr.reason, " goes to");

		snprintf(buf, 256, "%.*s",
		         cut ? (int)(cut - fr.reason) : (int)strlen(fr.reason),
		         fr.reason);
		return *buf ? buf : "automatic mail";
	}
	return NULL;
}

int
sub_mail(const struct sub_ctx *ctx, const char *spool_id, const char *sender,
         const struct msg *msg, const struct route *rt)
{
	const struct list_conf *l = rt->list;
	const char *why;
	char person[ADDR_MAX + 1], why_buf[256];
	struct run r;
	struct cmd *cmds = NULL;
	size_t n = 0;
	int truncated = 0, rc = 0;

	if (!msg || !l)
		return 0;
	if (*msg->from.addr)
		strlcpy_(person, msg->from.addr, sizeof(person));
	else if (addr_normalise(sender, person, sizeof(person)) < 0)
		*person = '\0';
	if ((why = sub_ignored(ctx, l, msg, sender, person, why_buf))) {
		log_info("%s: list %s: %s mail not answered: %s", spool_id,
		         l->name, addr_role_name(rt->role), why);
		return 0;
	}
	run_init(&r, ctx, l, person, spool_id);
	r.in_reply_to = *msg->message_id ? msg->message_id : NULL;
	{
		const char *cl = msg_header(msg, "content-language");
		char code[LANG_MAX + 1];

		if (cl) {
			snprintf(code, sizeof(code), "%.*s",
			         (int)strcspn(cl, " ,;-"), cl);
			str_lower(code);
			if (have_lang(ctx->tmpl, code))
				strlcpy_(r.lang, code, sizeof(r.lang));
		}
	}
	switch (rt->role) {
	case ROLE_CONFIRM: {
		char how[200];
		enum tok_state s;

		snprintf(how, sizeof(how), "confirmed by mail <%.150s>",
		         msg->message_id);
		s = confirm_token(&r, rt->arg, how);
		if (s != TOK_OK)
			add_res(&r, s == TOK_EXPIRED ? "r_token_expired"
			                             : "r_token_unknown",
			        "", "");
		if (r.failed)
			break;
		if (s != TOK_OK)
			rc = results_mail(&r, "notice");
		else if (needs_results_mail(&r))
			rc = results_mail(&r, "reply");
		break;
	}
	case ROLE_UNSUBSCRIBE:
		if (*rt->arg) {
			/* A member's own link: no further confirmation. */
			char list[128], who[ADDR_MAX + 1];
			long long id;
			time_t exp;
			struct buf how = BUF_INIT;
			int x = -2;

			if (token_parse(rt->arg, &id, &exp) == 0 &&
			    exp >= time(NULL) &&
			    db_member_by_id(ctx->db, id, list, sizeof(list), who,
			                    sizeof(who)) == 0 &&
			    token_verify(ctx->key, rt->arg, "unsubscribe",
			                 l->name, who)) {
				buf_printf(&how, "unsubscribe link by mail "
				                 "<%.150s>",
				           msg->message_id);
				strlcpy_(r.person, who, sizeof(r.person));
				x = sub_leave(ctx, l, who, buf_str(&how));
				if (x > 0)
					x = send_goodbye(&r);
			}
			buf_free(&how);
			if (x == -1 || r.failed) {
				rc = -1;
				break;
			}
			if (x != -2)
				break;
			log_info("%s: list %s: unsubscribe link not valid, "
			         "asking for a confirmation",
			         spool_id, l->name);
		}
		cmds = xcalloc(1, sizeof(*cmds));
		cmds[0].kind = CMD_UNSUBSCRIBE;
		strlcpy_(cmds[0].line, "unsubscribe", sizeof(cmds[0].line));
		n = 1;
		goto commands;
	case ROLE_SUBSCRIBE:
		cmds = xcalloc(1, sizeof(*cmds));
		cmds[0].kind = CMD_SUBSCRIBE;
		strlcpy_(cmds[0].line, "subscribe", sizeof(cmds[0].line));
		n = 1;
		goto commands;
	case ROLE_HELP:
		cmds = xcalloc(1, sizeof(*cmds));
		cmds[0].kind = CMD_HELP;
		strlcpy_(cmds[0].line, "help", sizeof(cmds[0].line));
		n = 1;
		goto commands;
	case ROLE_REQUEST: {
		struct cmd_opts o = {0, 0};

		cmds = xcalloc(CMD_DEFAULT_MAX, sizeof(*cmds));
		o.max_cmds = CMD_DEFAULT_MAX;
		cmd_parse(msg, &o, cmds, &n, &truncated);
	commands:
		run_commands(&r, cmds, n, truncated, msg->message_id);
		if (r.failed)
			break;
		if (r.want_archive && send_archive_link(&r) < 0) {
			rc = -1;
			break;
		}
		if (r.actions.len) {
			int ok = caps_allow(&r);

			if (ok < 0) {
				rc = -1;
				break;
			}
			if (!ok)
				break; /* nothing at all goes to a throttled
				        * address */
			rc = ask_confirmation(&r);
		} else if (r.n_res) {
			rc = results_mail(&r, "notice") < 0 ? -1 : 0;
		}
		break;
	}
	default:
		break;
	}
	free(cmds);
	buf_free(&r.actions);
	return r.failed ? -1 : rc < 0 ? -1 : 0;
}

/* ----- other entry points --------------------------------------------------- */

int
sub_invite(const struct sub_ctx *ctx, const char *list, const char *address,
           const char *operator_)
{
	const struct list_conf *l = conf_list(ctx->conf, list);
	struct member_flags f;
	struct run r;
	int rc;

	if (!l)
		return error("no list called %s", list);
	if (db_member_flags(ctx->db, l->name, address, &f) == 0)
		return 1;
	run_init(&r, ctx, l, address, "invite");
	{
		char pfx[64];

		snprintf(pfx, sizeof(pfx), "invite-%ld-%ld", (long)time(NULL),
		         (long)getpid());
		r.prefix = pfx;
		buf_printf(&r.actions, "subscribe\n#invited by %.100s\n",
		           operator_);
		add_res(&r, "r_pending", "subscribe", "");
		rc = ask_confirmation(&r);
	}
	buf_free(&r.actions);
	return rc;
}

int
sub_welcome(const struct sub_ctx *ctx, const char *list, const char *address)
{
	const struct list_conf *l = conf_list(ctx->conf, list);
	struct run r;
	char pfx[64];
	int rc;

	if (!l)
		return error("no list called %s", list);
	snprintf(pfx, sizeof(pfx), "welcome-%ld-%ld", (long)time(NULL),
	         (long)getpid());
	run_init(&r, ctx, l, address, pfx);
	rc = send_welcome(&r);
	buf_free(&r.actions);
	return rc;
}

long
sub_expire(const struct sub_ctx *ctx)
{
	return db_token_purge(ctx->db, time(NULL), USED_KEEP);
}

int
sub_unsub_headers(const struct sub_ctx *ctx, const char *list,
                  const char *address, long long member, const char *eol,
                  struct buf *out)
{
	const struct conf *c = ctx->conf;
	const struct list_conf *l = conf_list(c, list);
	const char **names;
	char tok[TOKEN_MAX + 1];
	struct buf base = BUF_INIT;
	long long id;
	time_t exp;
	size_t n;

	if (!l)
		return 1;
	if ((id = member) <= 0) {
		names = xcalloc(c->n_lists + 1, sizeof(*names));
		n = post_lists(c, l, names, c->n_lists);
		id = db_member_id(ctx->db, names, n, address);
		free(names);
		if (id <= 0)
			return id < 0 ? -1 : 1;
	}
	/* The same link all day: whole days, UNSUB_DAYS ahead. */
	exp = (time(NULL) / 86400 + UNSUB_DAYS) * 86400;
	token_make(ctx->key, "unsubscribe", l->name, address, id, exp, tok,
	           sizeof(tok));
	conf_web_base(c, &base);
	buf_adds(out, "List-Unsubscribe: ");
	if (base.len)
		buf_printf(out, "<%s/u/%s/%s>,%s ", buf_str(&base), l->name, tok,
		           eol);
	buf_printf(out, "<mailto:%s%cunsubscribe-%s@%s>%s", l->name,
	           c->separator ? c->separator : '+', tok, c->domain, eol);
	if (base.len)
		buf_printf(out, "List-Unsubscribe-Post: "
		                "List-Unsubscribe=One-Click%s",
		           eol);
	buf_free(&base);
	return 0;
}

/* ----- the web pages -------------------------------------------------------- */

static const char *const page_flags[] = {
    "ask_confirm", "ask_unsubscribe", "done_confirm", "done_unsubscribe",
    "err_unknown_token", "err_expired", "err_bad_request", "err_not_member",
    "err_server", NULL};

static int
render_page(struct run *r, const char *flag, const char *action_url,
            const char *action_lines, struct buf *html, char *lang)
{
	char store[4][LANG_MAX + 1];
	const char *langs[5];
	const struct tmpl *t;
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf err = BUF_INIT;
	size_t k;
	int rc = 0;

	if (r->l && *r->person) {
		langs_for(r, store, langs);
	} else {
		memset(store, 0, sizeof(store));
		langs[0] = r->l ? r->l->language : NULL;
		langs[1] = NULL;
	}
	t = r->ctx->tmpl ? tmpl_get(r->ctx->tmpl, "page.html", langs) : NULL;
	if (!t) {
		buf_adds(html, "<!doctype html><title>mlmd</title>"
		               "<p>The page template is missing.</p>\n");
		strlcpy_(lang, "en", 16);
		tmpl_vars_free(v);
		return -1;
	}
	strlcpy_(lang, tmpl_lang(t), 16);
	tmpl_vars_set(v, "lang", tmpl_lang(t));
	tmpl_vars_set(v, "dir", rtl(tmpl_lang(t)) ? "rtl" : "ltr");
	tmpl_vars_set(v, "list_name", r->l ? r->l->name : "");
	tmpl_vars_set(v, "list_address", r->l ? r->l->address : "");
	tmpl_vars_set(v, "address", r->person);
	tmpl_vars_set(v, "action_url", action_url ? action_url : "");
	for (k = 0; page_flags[k]; k++)
		tmpl_vars_set_bool(v, page_flags[k],
		                   strcmp(page_flags[k], flag) == 0);
	actions_vars(action_lines ? action_lines : "", v);
	results_vars(r, v);
	if (tmpl_render(t, v, html, &err) < 0) {
		error("page.html (%s): %s", tmpl_lang(t), buf_str(&err));
		buf_adds(html, "<!doctype html><title>mlmd</title>"
		               "<p>Something went wrong.</p>\n");
		rc = -1;
	}
	tmpl_vars_free(v);
	buf_free(&err);
	return rc;
}

static void
web_prefix(char *out, size_t n)
{
	static unsigned counter;

	snprintf(out, n, "web-%ld-%ld-%u", (long)time(NULL), (long)getpid(),
	         ++counter);
}

int
sub_web_confirm(const struct sub_ctx *ctx, const char *token, int post,
                const char *peer, struct buf *html, char *lang)
{
	struct token_row row;
	enum tok_state s = check_confirm(ctx, token, &row);
	const struct list_conf *l = s == TOK_OK ? conf_list(ctx->conf, row.list)
	                                        : NULL;
	struct run r;
	char pfx[64];
	int status = 200;

	web_prefix(pfx, sizeof(pfx));
	run_init(&r, ctx, l, s == TOK_OK ? row.address : "", pfx);
	if (s == TOK_OK && !l)
		s = TOK_UNKNOWN;
	if (s != TOK_OK) {
		render_page(&r, s == TOK_EXPIRED ? "err_expired"
		                                 : "err_unknown_token",
		            NULL, NULL, html, lang);
		status = s == TOK_EXPIRED ? 410 : 404;
	} else if (!post) {
		/* The token stays in the URL: the form posts to it. */
		render_page(&r, "ask_confirm", "", row.arg, html, lang);
	} else if (db_begin(ctx->db) < 0) {
		render_page(&r, "err_server", NULL, NULL, html, lang);
		status = 500;
	} else {
		char how[200];

		snprintf(how, sizeof(how), "confirmed on the web from %.64s",
		         peer && *peer ? peer : "?");
		s = confirm_token(&r, token, how);
		if (s == TOK_OK && !r.failed && needs_results_mail(&r) &&
		    results_mail(&r, "reply") < 0)
			r.failed = 1;
		if (s != TOK_OK || r.failed) {
			db_rollback(ctx->db);
			render_page(&r, r.failed ? "err_server"
			                         : "err_unknown_token",
			            NULL, NULL, html, lang);
			status = r.failed ? 500 : 404;
		} else if (db_commit(ctx->db) < 0) {
			render_page(&r, "err_server", NULL, NULL, html, lang);
			status = 500;
		} else {
			log_info("%s: list %s: confirmed on the web", pfx,
			         r.l->name);
			render_page(&r, "done_confirm", NULL, NULL, html, lang);
		}
	}
	token_row_clear(&row);
	buf_free(&r.actions);
	return status;
}

int
sub_web_unsubscribe(const struct sub_ctx *ctx, const char *list,
                    const char *token, int post, const char *peer,
                    struct buf *html, char *lang)
{
	const struct list_conf *l = conf_list(ctx->conf, list);
	char mlist[128], who[ADDR_MAX + 1];
	long long id;
	time_t exp;
	struct run r;
	char pfx[64];
	int status = 200, x;

	web_prefix(pfx, sizeof(pfx));
	run_init(&r, ctx, l, "", pfx);
	if (!l || token_parse(token, &id, &exp) < 0) {
		render_page(&r, "err_bad_request", NULL, NULL, html, lang);
		buf_free(&r.actions);
		return 404;
	}
	x = db_member_by_id(ctx->db, id, mlist, sizeof(mlist), who, sizeof(who));
	if (x != 0) {
		/* Left already (or never was): say so, change nothing. */
		render_page(&r, x < 0 ? "err_server" : "err_not_member", NULL,
		            NULL, html, lang);
		buf_free(&r.actions);
		return x < 0 ? 500 : 200;
	}
	if (!token_verify(ctx->key, token, "unsubscribe", l->name, who)) {
		render_page(&r, "err_unknown_token", NULL, NULL, html, lang);
		buf_free(&r.actions);
		return 404;
	}
	strlcpy_(r.person, who, sizeof(r.person));
	if (exp < time(NULL)) {
		render_page(&r, "err_expired", NULL, NULL, html, lang);
		status = 410;
	} else if (!post) {
		render_page(&r, "ask_unsubscribe", "", NULL, html, lang);
	} else if (db_begin(ctx->db) < 0) {
		render_page(&r, "err_server", NULL, NULL, html, lang);
		status = 500;
	} else {
		char how[200];

		snprintf(how, sizeof(how), "one-click on the web from %.64s",
		         peer && *peer ? peer : "?");
		/* The goodbye is in the language of the membership, so read
		 * the page's language before it goes. */
		render_page(&r, "done_unsubscribe", NULL, NULL, html, lang);
		x = sub_leave(ctx, l, who, how);
		if (x > 0 && send_goodbye(&r) < 0)
			x = -1;
		if (x < 0 || db_commit(ctx->db) < 0) {
			if (x < 0)
				db_rollback(ctx->db);
			html->len = 0;
			if (html->s)
				html->s[0] = '\0';
			render_page(&r, "err_server", NULL, NULL, html, lang);
			status = 500;
		} else {
			log_info("%s: list %s: one-click unsubscribe", pfx,
			         l->name);
		}
	}
	buf_free(&r.actions);
	return status;
}
