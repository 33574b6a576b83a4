/*
 * moderate.c - moderation by mail (moderate.h): requests to moderators,
 * their replies, expiry of held posts and the daily summary.
 *
 * Invariants:
 *  - A decision needs a 'moderate' token of that moderator for that held
 *    post: its MAC, its expiry and the list of the address it came to are
 *    checked; the From: of the reply is never trusted.
 *  - The first decision wins: db_held_decide() only changes a row that is
 *    still 'held', in the transaction that also queues its consequences
 *    (the copies of an approved post, the sender's notice).
 *  - Mails are files under HOME/out written and flushed before the rows
 *    that queue them (sub_send()).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "conf.h"
#include "db.h"
#include "filter.h"
#include "html_text.h"
#include "log.h"
#include "moderate.h"
#include "msg.h"
#include "post.h"
#include "spool.h"
#include "sub.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

#define STORE_MAX    ((size_t)1 << 30) /* as the daemon reads the store */
#define SUMMARY_GAP  (86400 - 600)     /* one summary a day per list */
#define REPLY_TEXT   (64 * 1024)       /* bytes of a reply read */
#define SUMMARY_MIN_AGE (12 * 3600)    /* posts younger than this are not
                                        * in the summary */

enum decision { D_NONE, D_APPROVE, D_ALWAYS, D_REJECT, D_DISCARD, D_UNCLEAR };

static const char *const state_of[] = {
    [D_APPROVE] = "approved", [D_ALWAYS] = "approved",
    [D_REJECT] = "rejected",  [D_DISCARD] = "discarded"};

/* The moderators of l: its moderators, else its owners. */
static char **
moderators(const struct list_conf *l, size_t *n)
{
	if (l->n_moderators) {
		*n = l->n_moderators;
		return l->moderators;
	}
	*n = l->n_owners;
	return l->owners;
}

static void
size_text(size_t n, char *out, size_t outsz)
{
	filter_size_text(out, outsz, n, 1);
}

static void
date_text(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%d %H:%M UTC", &tm);
}

/* The reply address of moderator `who` for held post `id`, appended. */
static int
moderate_address(const struct sub_ctx *ctx, const struct list_conf *l,
                 const char *who, long long held_id, time_t expires,
                 struct buf *out)
{
	const struct conf *c = ctx->conf;
	char tok[TOKEN_MAX + 1], arg[32];
	long long id;

	snprintf(arg, sizeof(arg), "%lld", held_id);
	if (db_token_add(ctx->db, "moderate", l->name, who, arg, expires,
	                 &id) < 0)
		return -1;
	token_make(ctx->key, "moderate", l->name, who, id, expires, tok,
	           sizeof(tok));
	if (db_token_set(ctx->db, id, tok) < 0)
		return -1;
	buf_printf(out, "%s%cmoderate-%s@%s", l->name,
	           c->separator ? c->separator : '+', tok, c->domain);
	return 0;
}

static void
held_vars(const struct sub_ctx *ctx, const struct list_conf *l,
          const struct held *h, struct tmpl_vars *v)
{
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_setf(v, "owner_address", "%s-owner@%s", l->name,
	               ctx->conf->domain);
	tmpl_vars_set(v, "sender", *h->from_addr ? h->from_addr : h->sender);
	tmpl_vars_set(v, "subject", h->subject);
	tmpl_vars_setf(v, "held_id", "%lld", h->id);
}

/* ----- requests ---------------------------------------------------------- */

static int
request_one(const struct sub_ctx *ctx, const struct list_conf *l,
            const struct held *h, const char *spool_id, const char *raw,
            size_t len)
{
	const char *langs[] = {l->language, NULL};
	char **who, size[32], when[64];
	size_t n, i;
	int rc = 0;

	who = moderators(l, &n);
	if (n == 0) {
		log_warn("%s: list %s: held post #%lld: the list has no "
		         "moderators or owners to ask",
		         spool_id, l->name, h->id);
		return 0;
	}
	size_text(h->size, size, sizeof(size));
	date_text(h->expires, when, sizeof(when));
	for (i = 0; i < n && rc == 0; i++) {
		struct tmpl_vars *v = tmpl_vars_new();
		struct buf addr = BUF_INIT, file = BUF_INIT;
		struct sub_mail m;

		if (moderate_address(ctx, l, who[i], h->id, h->expires,
		                     &addr) < 0) {
			rc = -1;
		} else {
			held_vars(ctx, l, h, v);
			tmpl_vars_set(v, "reason", h->reason);
			tmpl_vars_set(v, "size", size);
			tmpl_vars_set(v, "moderate_address", buf_str(&addr));
			tmpl_vars_set(v, "expires", when);
			buf_printf(&file, "%s.%s.moderate.%lld.%zu", spool_id,
			           l->name, h->id, i);
			memset(&m, 0, sizeof(m));
			m.l = l;
			m.to = who[i];
			m.langs = langs;
			m.tmpl = "moderate.txt";
			m.v = v;
			m.kind = "moderate";
			m.reply_to = buf_str(&addr);
			m.file = buf_str(&file);
			m.in_reply_to = *h->message_id ? h->message_id : NULL;
			m.attach = raw;
			m.attach_len = len;
			m.from_owner = 1;
			rc = sub_send(ctx, &m);
		}
		tmpl_vars_free(v);
		buf_free(&addr);
		buf_free(&file);
	}
	return rc;
}

int
moderate_requests(const struct sub_ctx *ctx, const struct post_plan *plan,
                  const char *spool_id, const char *raw, size_t len)
{
	size_t i, n = post_plan_n_held(plan);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		struct held h;
		const struct list_conf *l;

		if (post_plan_held_quiet(plan, i))
			continue; /* a loop: asking would feed it */
		if (db_held_get(ctx->db, post_plan_held(plan, i), &h) != 0)
			return -1;
		if ((l = conf_list(ctx->conf, h.list)))
			rc = request_one(ctx, l, &h, spool_id, raw, len);
		held_clear(&h);
	}
	return rc;
}

/* ----- subscriptions the owners approve ----------------------------------- */

static int tell_person(const struct sub_ctx *ctx, const struct list_conf *l,
                       const char *address, const char *tmpl,
                       const char *reason, const char *prefix);
static enum decision read_decision(const struct msg *m, char *reason,
                                   size_t reasonsz);

int
moderate_subscription(const struct sub_ctx *ctx, const struct list_conf *l,
                      const char *address, const char *action,
                      const char *how, const char *prefix)
{
	const struct conf *c = ctx->conf;
	const char *langs[] = {l->language, NULL};
	time_t exp = time(NULL) + c->held_lifetime;
	char **who, when[64];
	size_t n, i;
	int rc = 0;

	who = l->n_owners ? l->owners : l->moderators;
	n = l->n_owners ? l->n_owners : l->n_moderators;
	if (n == 0) {
		log_warn("%s: list %s: <%s> waits for approval, but the list "
		         "has no owners or moderators to ask",
		         prefix, l->name, address);
		return 0;
	}
	date_text(exp, when, sizeof(when));
	for (i = 0; i < n && rc == 0; i++) {
		struct tmpl_vars *v = tmpl_vars_new();
		struct buf arg = BUF_INIT, addr = BUF_INIT, file = BUF_INIT;
		char tok[TOKEN_MAX + 1];
		struct sub_mail m;
		long long id;

		/* arg: the owner asked, the action, the consent so far */
		buf_printf(&arg, "%s\n%s\n%s", who[i], action, how);
		if (db_token_add(ctx->db, "approve_sub", l->name, address,
		                 buf_str(&arg), exp, &id) < 0) {
			rc = -1;
		} else {
			token_make(ctx->key, "approve_sub", l->name, address,
			           id, exp, tok, sizeof(tok));
			if (db_token_set(ctx->db, id, tok) < 0)
				rc = -1;
			buf_printf(&addr, "%s%cmoderate-%s@%s", l->name,
			           c->separator ? c->separator : '+', tok,
			           c->domain);
		}
		if (rc == 0) {
			tmpl_vars_set(v, "list_name", l->name);
			tmpl_vars_set(v, "list_address", l->address);
			tmpl_vars_set(v, "address", address);
			tmpl_vars_set(v, "moderate_address", buf_str(&addr));
			tmpl_vars_set(v, "expires", when);
			buf_printf(&file, "%s.%s.sub_request.%zu", prefix,
			           l->name, i);
			memset(&m, 0, sizeof(m));
			m.l = l;
			m.to = who[i];
			m.langs = langs;
			m.tmpl = "sub_request.txt";
			m.v = v;
			m.kind = "moderate";
			m.reply_to = buf_str(&addr);
			m.file = buf_str(&file);
			m.from_owner = 1;
			rc = sub_send(ctx, &m);
		}
		tmpl_vars_free(v);
		buf_free(&arg);
		buf_free(&addr);
		buf_free(&file);
	}
	if (rc == 0)
		rc = tell_person(ctx, l, address, "sub_waiting.txt", NULL,
		                 prefix);
	if (rc == 0)
		log_info("%s: list %s: <%s> confirmed; the owners are asked "
		         "to approve",
		         prefix, l->name, address);
	return rc;
}

/* A mail to the person about their request (sub_waiting, sub_refused). */
static int
tell_person(const struct sub_ctx *ctx, const struct list_conf *l,
            const char *address, const char *tmpl, const char *reason,
            const char *prefix)
{
	char lang[16] = "";
	const char *langs[3];
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf file = BUF_INIT;
	struct sub_mail m;
	int rc;

	db_person_language(ctx->db, address, lang, sizeof(lang));
	langs[0] = lang;
	langs[1] = l->language;
	langs[2] = NULL;
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "address", address);
	tmpl_vars_setf(v, "owner_address", "%s-owner@%s", l->name,
	               ctx->conf->domain);
	if (reason)
		tmpl_vars_set(v, "reason", reason);
	buf_printf(&file, "%s.%s.%.*s", prefix, l->name,
	           (int)strcspn(tmpl, "."), tmpl);
	memset(&m, 0, sizeof(m));
	m.l = l;
	m.to = address;
	m.langs = langs;
	m.tmpl = tmpl;
	m.v = v;
	m.kind = "reply";
	m.file = buf_str(&file);
	rc = sub_send(ctx, &m);
	tmpl_vars_free(v);
	buf_free(&file);
	return rc;
}

/* An owner's reply about a subscription request (token row). */
static int
decide_subscription(const struct sub_ctx *ctx, const char *spool_id,
                    const struct list_conf *l, const struct token_row *row,
                    const struct msg *msg)
{
	char reason[200], owner[ADDR_MAX + 1], action[64];
	const char *p = row->arg, *nl;
	struct buf how = BUF_INIT;
	enum decision d;
	long n;
	int rc = 0;

	nl = strchr(p, '\n');
	snprintf(owner, sizeof(owner), "%.*s", nl ? (int)(nl - p) : 0, p);
	p = nl ? nl + 1 : "";
	nl = strchr(p, '\n');
	snprintf(action, sizeof(action), "%.*s", nl ? (int)(nl - p) : 0, p);
	buf_printf(&how, "%s (approved by %s)", nl ? nl + 1 : "", owner);
	d = read_decision(msg, reason, sizeof(reason));
	if (d == D_UNCLEAR) {
		log_info("%s: list %s: <%s>'s reply about <%s> decides "
		         "nothing",
		         spool_id, l->name, owner, row->address);
		buf_free(&how);
		return 0;
	}
	/* The first decision wins: every owner's token for this person. */
	n = db_token_use_all(ctx->db, "approve_sub", l->name, row->address);
	if (n < 0) {
		buf_free(&how);
		return -1;
	}
	if (n == 0) {
		log_info("%s: list %s: <%s> was decided already; <%s>'s "
		         "reply changes nothing",
		         spool_id, l->name, row->address, owner);
		buf_free(&how);
		return 0;
	}
	if (d == D_APPROVE || d == D_ALWAYS) {
		int x = db_member_add(ctx->db, l->name, row->address, "", "",
		                      buf_str(&how));

		if (x == 0 && strcmp(action, "subscribe digest") == 0)
			x = db_member_update(ctx->db, l->name, row->address, 1,
			                     NULL, -1, NULL);
		if (x == 0 && strcmp(action, "subscribe nomail") == 0)
			x = db_member_update(ctx->db, l->name, row->address,
			                     -1, NULL, 1, NULL);
		if (x == 0 && l->moderate_new)
			x = db_member_set_moderated(ctx->db, l->name,
			                            row->address, 1);
		if (x < 0 ||
		    (x == 0 && sub_welcome(ctx, l->name, row->address) < 0))
			rc = -1;
	} else if (d == D_REJECT) {
		rc = tell_person(ctx, l, row->address, "sub_refused.txt",
		                 *reason ? reason : "", spool_id);
	}
	if (rc == 0)
		log_info("%s: list %s: <%s>'s subscription %s by <%s>",
		         spool_id, l->name, row->address,
		         d == D_REJECT    ? "refused"
		         : d == D_DISCARD ? "discarded"
		                          : "approved",
		         owner);
	buf_free(&how);
	return rc;
}

/* ----- replies ----------------------------------------------------------- */

/* The text of the reply: its first plain text part, or its HTML as
 * text. */
static void
reply_text(const struct msg *m, struct buf *out)
{
	size_t i;

	for (i = 0; i < m->n_parts; i++) {
		const struct msg_part *p = &m->parts[i];

		if (p->is_attachment || !p->text || p->depth > 2)
			continue;
		if (strcmp(p->type, "text/plain") == 0) {
			buf_add(out, p->text,
			        p->text_len < REPLY_TEXT ? p->text_len
			                                 : REPLY_TEXT);
			return;
		}
	}
	for (i = 0; i < m->n_parts; i++) {
		const struct msg_part *p = &m->parts[i];

		if (!p->is_attachment && p->text &&
		    strcmp(p->type, "text/html") == 0) {
			html_to_text(p->text, p->text_len, out);
			return;
		}
	}
}

static int
word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/*
 * The decision of a line: its first word (and for reject, the rest as
 * the reason).  D_NONE for an empty line.
 */
static enum decision
decide_line(const char *line, size_t len, char *reason, size_t reasonsz)
{
	const char *p = line, *end = line + len, *w;
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return D_NONE;
	w = p;
	while (p < end && *p != ' ' && *p != '\t' && *p != ',' && *p != '.' &&
	       *p != ':' && *p != '!')
		p++;
	n = (size_t)(p - w);
	while (p < end && strchr(" \t,.:!", *p))
		p++;
	if (word_is(w, n, "approve") || word_is(w, n, "approved") ||
	    word_is(w, n, "accept") || word_is(w, n, "ok") ||
	    word_is(w, n, "yes")) {
		if (p < end && (size_t)(end - p) >= 6 &&
		    strncasecmp(p, "always", 6) == 0)
			return D_ALWAYS;
		return D_APPROVE;
	}
	if (word_is(w, n, "always"))
		return D_ALWAYS;
	if (word_is(w, n, "reject") || word_is(w, n, "rejected") ||
	    word_is(w, n, "no")) {
		size_t k = 0;

		/* the reason: the rest of the line, one line of text */
		for (; p < end && k + 1 < reasonsz; p++)
			reason[k++] = (unsigned char)*p < ' ' ? ' ' : *p;
		reason[k] = '\0';
		return D_REJECT;
	}
	if (word_is(w, n, "discard") || word_is(w, n, "delete") ||
	    word_is(w, n, "spam"))
		return D_DISCARD;
	return D_UNCLEAR;
}

/* Strip "Re:"-style markers from a subject. */
static const char *
subject_rest(const char *s)
{
	static const char *const marks[] = {"re:", "aw:", "sv:", "vs:",
	                                    "antw:", "vast:", "fwd:"};
	size_t i;
	int again = 1;

	while (again) {
		again = 0;
		while (*s == ' ')
			s++;
		for (i = 0; i < ARRAY_SIZE(marks); i++)
			if (strncasecmp(s, marks[i], strlen(marks[i])) == 0) {
				s += strlen(marks[i]);
				again = 1;
			}
	}
	return s;
}

/*
 * What the reply says: the first line written above the quoted text and
 * the signature decides; a reply with none approves.  The Subject counts
 * only when it starts with a decision word (a moderator may answer with
 * an empty mail whose subject is "discard").
 */
static enum decision
read_decision(const struct msg *m, char *reason, size_t reasonsz)
{
	struct buf text = BUF_INIT;
	const char *p, *end;
	enum decision d = D_NONE;

	*reason = '\0';
	buf_init(&text, 2 * REPLY_TEXT);
	reply_text(m, &text);
	p = buf_str(&text);
	end = p + text.len;
	while (p < end && d == D_NONE) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *q = p;

		while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		while (q < p + n && *q == ' ')
			q++;
		if ((n == 2 && strncmp(p, "--", 2) == 0) ||
		    (n >= 3 && strncmp(p, "-- ", 3) == 0))
			break;
		/* quoted text, and the line that introduces it */
		if (*q != '>' && !(n > 6 && p[n - 1] == ':' &&
		                   (strstr(p, "wrote") || strstr(p, "skrev") ||
		                    strstr(p, "kirjoitti"))))
			d = decide_line(p, n, reason, reasonsz);
		p = nl ? nl + 1 : end;
	}
	buf_free(&text);
	if (d == D_NONE || d == D_UNCLEAR) {
		const char *s = subject_rest(m->subject);
		enum decision ds = decide_line(s, strlen(s), reason, reasonsz);

		/* "Moderate: ..." is our own subject: not a decision */
		if (ds != D_UNCLEAR && ds != D_NONE)
			return ds;
	}
	return d == D_NONE ? D_APPROVE : d;
}

/* Tell one moderator about post h (moderated.txt). */
static int
tell(const struct sub_ctx *ctx, const struct list_conf *l,
     const struct held *h, const char *to, const char *file, int too_late,
     int unclear)
{
	const char *langs[] = {l->language, NULL};
	struct tmpl_vars *v = tmpl_vars_new();
	struct sub_mail m;
	int rc;

	held_vars(ctx, l, h, v);
	tmpl_vars_set(v, "decided_by", h->decided_by ? h->decided_by : "");
	tmpl_vars_set(v, "decision", strcmp(h->state, "held") ? h->state : "");
	tmpl_vars_set_bool(v, "too_late", too_late);
	tmpl_vars_set_bool(v, "unclear", unclear);
	memset(&m, 0, sizeof(m));
	m.l = l;
	m.to = to;
	m.langs = langs;
	m.tmpl = "moderated.txt";
	m.v = v;
	m.kind = "moderate";
	m.file = file;
	m.in_reply_to = *h->message_id ? h->message_id : NULL;
	m.from_owner = 1;
	rc = sub_send(ctx, &m);
	tmpl_vars_free(v);
	return rc;
}

/* Approve h: the stored post through post_prepare() as approved. */
static int
approve(const struct sub_ctx *ctx, const struct list_conf *l,
        const struct held *h)
{
	const struct conf *c = ctx->conf;
	struct post_ctx pc = {c, ctx->db, ctx->tmpl, ctx->dmarc};
	struct buf path = BUF_INIT, file = BUF_INIT, why = BUF_INIT;
	struct spool_env env;
	struct msg *msg = NULL;
	struct post_plan *plan = NULL;
	struct route route;
	size_t off;
	int rc = -1;

	memset(&env, 0, sizeof(env));
	buf_printf(&path, "%s/store/%s", c->home, h->spool_id);
	buf_init(&file, STORE_MAX);
	if (read_file(buf_str(&path), &file) < 0) {
		/* Gone for good: decided, nothing to send (logged). */
		log_warn("held #%lld: %s: %s; approved but not sent", h->id,
		         buf_str(&path), strerror(errno));
		rc = 0;
		goto out;
	}
	if (spool_parse(file.s, file.len, &env, &off, &why) < 0 ||
	    msg_parse(file.s + off, env.size, &msg_default_limits, &msg,
	              &why) < 0) {
		log_warn("held #%lld: %s cannot be read: %s; approved but not "
		         "sent",
		         h->id, buf_str(&path), buf_str(&why));
		msg = NULL;
		rc = 0;
		goto out;
	}
	memset(&route, 0, sizeof(route));
	route.list = l;
	route.role = ROLE_POST;
	plan = post_prepare(&pc, h->spool_id, &env, msg, file.s + off,
	                    env.size, &route, 1, l->name);
	if (post_sync(c) == 0 && post_commit(&pc, plan) == 0) {
		size_t k;

		post_log(plan);
		for (k = 0; k < post_plan_n_distributed(plan); k++)
			archive_add(c, ctx->db, post_plan_distributed(plan, k),
			            post_plan_message_id(plan));
		rc = 0;
	}
out:
	post_plan_free(plan);
	msg_free(msg);
	spool_env_clear(&env);
	buf_free(&path);
	buf_free(&file);
	buf_free(&why);
	return rc;
}

int
moderate_mail(const struct sub_ctx *ctx, const char *spool_id,
              const char *sender, const struct msg *msg,
              const struct route *r)
{
	const struct list_conf *l = r->list;
	struct token_row row;
	struct held h;
	char why[256], reason[200], who[ADDR_MAX + 1];
	const char *ign;
	enum decision d;
	long long id, held_id;
	time_t exp;
	size_t i, n;
	char **mods;
	int x, rc = 0;

	memset(&row, 0, sizeof(row));
	memset(&h, 0, sizeof(h));
	if (!msg || !l)
		return 0;
	if (token_parse(r->arg, &id, &exp) < 0 ||
	    db_token_get(ctx->db, id, &row) != 0 ||
	    (strcmp(row.purpose, "moderate") != 0 &&
	     strcmp(row.purpose, "approve_sub") != 0) ||
	    row.expires != exp || strcmp(row.list, l->name) != 0 ||
	    !token_verify(ctx->key, r->arg, row.purpose, row.list,
	                  row.address)) {
		log_warn("%s: list %s: a moderation reply with an unknown or "
		         "forged token: nothing done",
		         spool_id, l->name);
		goto out;
	}
	if (strcmp(row.purpose, "approve_sub") == 0) {
		/* the owner asked is the first line of arg */
		snprintf(who, sizeof(who), "%.*s",
		         (int)strcspn(row.arg, "\n"), row.arg);
		if ((ign = sub_ignored(ctx, l, msg, sender, who, why))) {
			log_info("%s: list %s: reply not read: %s", spool_id,
			         l->name, ign);
			goto out;
		}
		if (exp < time(NULL))
			goto out;
		rc = decide_subscription(ctx, spool_id, l, &row, msg);
		goto out;
	}
	strlcpy_(who, row.address, sizeof(who));
	/* The reply's From: should be the moderator; whoever holds the
	 * token decides, but automatic mail never does. */
	if ((ign = sub_ignored(ctx, l, msg, sender, who, why))) {
		log_info("%s: list %s: moderation reply not read: %s",
		         spool_id, l->name, ign);
		goto out;
	}
	if (exp < time(NULL)) {
		log_info("%s: list %s: moderation reply after the post "
		         "expired",
		         spool_id, l->name);
		goto out;
	}
	held_id = strtoll(row.arg, NULL, 10);
	if (db_held_get(ctx->db, held_id, &h) != 0 ||
	    strcmp(h.list, l->name) != 0) {
		log_warn("%s: list %s: held post #%lld is gone", spool_id,
		         l->name, held_id);
		goto out;
	}
	d = read_decision(msg, reason, sizeof(reason));
	{
		struct buf file = BUF_INIT;

		buf_printf(&file, "%s.%s.moderated.%lld", spool_id, l->name,
		           held_id);
		if (d == D_UNCLEAR) {
			log_info("%s: list %s: #%lld: <%s>'s reply decides "
			         "nothing (first word unknown)",
			         spool_id, l->name, held_id, who);
			rc = tell(ctx, l, &h, who, buf_str(&file), 0, 1);
			buf_free(&file);
			goto out;
		}
		x = db_held_decide(ctx->db, held_id, state_of[d], who);
		if (x == 1) {
			held_clear(&h);
			if (db_held_get(ctx->db, held_id, &h) != 0) {
				rc = -1;
			} else {
				log_info("%s: list %s: #%lld was %s by %s "
				         "already; <%s> is told",
				         spool_id, l->name, held_id, h.state,
				         h.decided_by, who);
				rc = tell(ctx, l, &h, who, buf_str(&file), 1,
				          0);
			}
			buf_free(&file);
			goto out;
		}
		buf_free(&file);
	}
	if (x < 0) {
		rc = -1;
		goto out;
	}
	db_token_use(ctx->db, id);
	log_info("%s: list %s: held post #%lld %s by <%s>%s%s", spool_id,
	         l->name, held_id, state_of[d], who,
	         d == D_ALWAYS ? " (sender accepted from now on)" : "",
	         d == D_REJECT && *reason ? ", reason given" : "");
	switch (d) {
	case D_ALWAYS: {
		const char *a = *h.from_addr ? h.from_addr : h.sender;
		char how[400];

		snprintf(how, sizeof(how), "approve always by %s", who);
		if (*a && db_accept_add(ctx->db, l->name, a, how) < 0) {
			rc = -1;
			break;
		}
	}
		/* fall through */
	case D_APPROVE:
		rc = approve(ctx, l, &h);
		/* A new member's first post approved: the next ones go
		 * straight to the list (moderate_new). */
		if (rc == 0 && l->moderate_new) {
			const char *a = *h.from_addr ? h.from_addr : h.sender;
			struct member_flags f;

			if (*a && db_member_flags(ctx->db, l->name, a, &f) == 0 &&
			    db_member_set_moderated(ctx->db, l->name, a, 0) < 0)
				rc = -1;
		}
		break;
	case D_REJECT: {
		struct post_ctx pc = {ctx->conf, ctx->db, ctx->tmpl, NULL};

		if (*h.sender &&
		    post_notify(&pc, l->name, h.spool_id, h.sender,
		                "rejected.txt", h.subject, h.message_id,
		                *reason ? reason
		                        : "a moderator rejected it") < 0)
			rc = -1;
		break;
	}
	default:
		break;
	}
	if (rc < 0)
		goto out;
	/* Tell the others, with the decision as now recorded. */
	held_clear(&h);
	if (db_held_get(ctx->db, held_id, &h) != 0) {
		rc = -1;
		goto out;
	}
	mods = moderators(l, &n);
	for (i = 0; i < n && rc == 0; i++) {
		struct buf file = BUF_INIT;

		if (strcmp(mods[i], who) == 0)
			continue;
		buf_printf(&file, "%s.%s.moderated.%lld.%zu", spool_id,
		           l->name, held_id, i);
		rc = tell(ctx, l, &h, mods[i], buf_str(&file), 0, 0);
		buf_free(&file);
	}
	if (rc == 0)
		db_log_event(ctx->db, l->name, "moderated", state_of[d], 1);
out:
	token_row_clear(&row);
	held_clear(&h);
	return rc;
}

/* ----- housekeeping ------------------------------------------------------ */

struct walk {
	const struct sub_ctx *ctx;
	time_t now;
	long long *ids;
	size_t n, cap;
};

static int
collect_due(const struct held *h, void *arg)
{
	struct walk *w = arg;

	if (h->expires > w->now)
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->ids = xrealloc(w->ids, w->cap * sizeof(*w->ids));
	}
	w->ids[w->n++] = h->id;
	return 0;
}

/* Expire one held post and tell its sender, in one transaction. */
static int
expire_one(const struct sub_ctx *ctx, long long id)
{
	struct held h;
	const struct list_conf *l;
	int rc = -1, x;

	if (db_begin(ctx->db) < 0)
		return -1;
	if (db_held_get(ctx->db, id, &h) != 0) {
		db_rollback(ctx->db);
		return -1;
	}
	x = db_held_decide(ctx->db, id, "expired", "expiry");
	l = conf_list(ctx->conf, h.list);
	if (x == 0 && l && *h.sender) {
		const char *langs[] = {l->language, NULL};
		struct tmpl_vars *v = tmpl_vars_new();
		struct buf file = BUF_INIT;
		struct sub_mail m;

		tmpl_vars_set(v, "list_name", l->name);
		tmpl_vars_set(v, "list_address", l->address);
		tmpl_vars_set(v, "subject", h.subject);
		tmpl_vars_setf(v, "owner_address", "%s-owner@%s", l->name,
		               ctx->conf->domain);
		tmpl_vars_setf(v, "days", "%ld",
		               (long)((h.expires - h.created + 43200) / 86400));
		buf_printf(&file, "%s.%s.expired", h.spool_id, l->name);
		memset(&m, 0, sizeof(m));
		m.l = l;
		m.to = h.sender;
		m.langs = langs;
		m.tmpl = "expired.txt";
		m.v = v;
		m.kind = "notice";
		m.file = buf_str(&file);
		m.in_reply_to = *h.message_id ? h.message_id : NULL;
		m.from_owner = 1;
		m.auto_replied = 1;
		x = sub_send(ctx, &m);
		tmpl_vars_free(v);
		buf_free(&file);
	}
	if (x >= 0 && db_commit(ctx->db) == 0)
		rc = 0;
	else
		db_rollback(ctx->db);
	held_clear(&h);
	return rc;
}

struct summary {
	const struct sub_ctx *ctx;
	const struct list_conf *l;
	const char *to;
	struct tmpl_vars *v;
	size_t n;
	int failed;
};

static int
summary_item(const struct held *h, void *arg)
{
	struct summary *s = arg;
	struct tmpl_vars *it;
	struct buf addr = BUF_INIT;
	long days = (long)((time(NULL) - h->created) / 86400);

	/* Posts held in the last hours came with their own request. */
	if (time(NULL) - h->created < SUMMARY_MIN_AGE)
		return 0;
	if (moderate_address(s->ctx, s->l, s->to, h->id, h->expires, &addr) <
	    0) {
		s->failed = 1;
		return 1;
	}
	it = tmpl_vars_add_item(s->v, "posts");
	tmpl_vars_setf(it, "held_id", "%lld", h->id);
	tmpl_vars_set(it, "sender", *h->from_addr ? h->from_addr : h->sender);
	tmpl_vars_set(it, "subject", h->subject);
	tmpl_vars_set(it, "reason", h->reason);
	if (days > 0)
		tmpl_vars_setf(it, "age", "%ld d", days);
	else
		tmpl_vars_setf(it, "age", "%ld h",
		               (long)((time(NULL) - h->created) / 3600));
	tmpl_vars_set(it, "moderate_address", buf_str(&addr));
	buf_free(&addr);
	s->n++;
	return 0;
}

/* The daily summary of l's waiting posts to each moderator. */
static int
summarise(const struct sub_ctx *ctx, const struct list_conf *l)
{
	const char *langs[] = {l->language, NULL};
	time_t last = db_last_event(ctx->db, l->name, "held_summary");
	char **who;
	size_t n, i;
	int rc = 0;

	if (last < 0)
		return -1;
	if (last && time(NULL) - last < SUMMARY_GAP)
		return 0;
	who = moderators(l, &n);
	if (db_begin(ctx->db) < 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		struct summary s = {ctx, l, who[i], tmpl_vars_new(), 0, 0};
		struct buf file = BUF_INIT;
		struct sub_mail m;

		tmpl_vars_set_list(s.v, "posts");
		if (db_held_each(ctx->db, l->name, 0, summary_item, &s) < 0 ||
		    s.failed)
			rc = -1;
		if (rc == 0 && s.n > 0) {
			tmpl_vars_set(s.v, "list_name", l->name);
			tmpl_vars_set(s.v, "list_address", l->address);
			tmpl_vars_setf(s.v, "owner_address", "%s-owner@%s",
			               l->name, ctx->conf->domain);
			tmpl_vars_setf(s.v, "count", "%zu", s.n);
			buf_printf(&file, "summary-%ld.%s.held_summary.%zu",
			           (long)time(NULL), l->name, i);
			memset(&m, 0, sizeof(m));
			m.l = l;
			m.to = who[i];
			m.langs = langs;
			m.tmpl = "held_summary.txt";
			m.v = s.v;
			m.kind = "moderate";
			m.file = buf_str(&file);
			m.from_owner = 1;
			rc = sub_send(ctx, &m);
		}
		tmpl_vars_free(s.v);
		buf_free(&file);
		if (s.n == 0)
			break; /* nothing waits: no summary today */
	}
	if (rc == 0 && n > 0)
		rc = db_log_event(ctx->db, l->name, "held_summary", NULL, 1);
	if (rc == 0 && db_commit(ctx->db) == 0)
		return 0;
	db_rollback(ctx->db);
	return -1;
}

/* 1 if list has held posts waiting. */
static int
has_held(const struct held *h, void *arg)
{
	(void)h;
	*(int *)arg = 1;
	return 1;
}

long
moderate_housekeeping(const struct sub_ctx *ctx)
{
	struct walk w = {ctx, time(NULL), NULL, 0, 0};
	size_t i;
	long n = 0;

	if (db_held_each(ctx->db, NULL, 0, collect_due, &w) < 0) {
		free(w.ids);
		return -1;
	}
	for (i = 0; i < w.n; i++)
		if (expire_one(ctx, w.ids[i]) == 0)
			n++;
	free(w.ids);
	for (i = 0; i < ctx->conf->n_lists; i++) {
		const struct list_conf *l = &ctx->conf->lists[i];
		int any = 0;

		if (db_held_each(ctx->db, l->name, 0, has_held, &any) < 0)
			continue;
		if (any && summarise(ctx, l) < 0)
			log_warn("housekeeping: list %s: the summary of held "
			         "posts could not be sent",
			         l->name);
	}
	return n;
}
