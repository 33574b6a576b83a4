/*
 * bounce.c - bounces and feedback reports about members (bounce.h).
 *
 * Invariants: a bounce changes only the state of a member of the list
 * whose bounce address it came to (or of a list that list gathers); what
 * it adds to a score is recorded with it (bounces.counted), so a content
 * problem found later can be taken back exactly; everything happens in
 * the dispatcher's transaction of the bounce, or in one transaction per
 * member in housekeeping.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "bounce.h"
#include "conf.h"
#include "db.h"
#include "dsn.h"
#include "log.h"
#include "msg.h"
#include "post.h"
#include "sub.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

#define HARD_WEIGHT  1.0
#define SOFT_WEIGHT  0.5
#define PROBE_LIFE   (30 * 86400) /* a probe's token is valid this long */

static double
decayed(const struct conf *c, const struct member_bounce *mb, time_t now)
{
	if (mb->score <= 0 || !mb->updated)
		return 0;
	if (now <= mb->updated)
		return mb->score;
	return mb->score *
	       pow(0.5, (double)(now - mb->updated) / (double)c->bounce_decay);
}

/* ----- mail to the owners ---------------------------------------------- */

struct report {
	const char *disabled_addr, *status, *diagnostic;
	const char *removed_addr;
	const char *content_id, *content_subject;
	long domains;
};

static int
tell_owners(const struct sub_ctx *ctx, const struct list_conf *l,
            const char *file, const struct report *rp)
{
	const char *langs[] = {l->language, NULL};
	struct tmpl_vars *v;
	size_t i;
	int rc = 0;

	if (l->n_owners == 0)
		return 0;
	v = tmpl_vars_new();
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set_list(v, "disabled");
	tmpl_vars_set_list(v, "removed");
	tmpl_vars_set_list(v, "content");
	if (rp->disabled_addr) {
		struct tmpl_vars *it = tmpl_vars_add_item(v, "disabled");

		tmpl_vars_set(it, "address", rp->disabled_addr);
		tmpl_vars_set(it, "status", rp->status ? rp->status : "");
		tmpl_vars_set(it, "diagnostic",
		              rp->diagnostic ? rp->diagnostic : "");
	}
	if (rp->removed_addr)
		tmpl_vars_set(tmpl_vars_add_item(v, "removed"), "address",
		              rp->removed_addr);
	if (rp->content_id) {
		struct tmpl_vars *it = tmpl_vars_add_item(v, "content");

		tmpl_vars_set(it, "message_id", rp->content_id);
		tmpl_vars_set(it, "subject",
		              rp->content_subject ? rp->content_subject : "");
		tmpl_vars_setf(it, "domains", "%ld", rp->domains);
	}
	tmpl_vars_set_bool(v, "any_disabled", rp->disabled_addr != NULL);
	tmpl_vars_set_bool(v, "any_removed", rp->removed_addr != NULL);
	tmpl_vars_set_bool(v, "any_content", rp->content_id != NULL);
	for (i = 0; i < l->n_owners && rc == 0; i++) {
		struct buf name = BUF_INIT;
		struct sub_mail m;

		buf_printf(&name, "%s.%zu", file, i);
		memset(&m, 0, sizeof(m));
		m.l = l;
		m.to = l->owners[i];
		m.langs = langs;
		m.tmpl = "bounces.txt";
		m.v = v;
		m.kind = "owner";
		m.file = buf_str(&name);
		m.from_owner = 1;
		rc = sub_send(ctx, &m);
		buf_free(&name);
	}
	tmpl_vars_free(v);
	return rc;
}

/* ----- probes ------------------------------------------------------------ */

static int
send_probe(const struct sub_ctx *ctx, const struct list_conf *l,
           const char *address, long long member, const char *prefix)
{
	const struct conf *c = ctx->conf;
	const char *langs[3];
	char tok[TOKEN_MAX + 1], lang[16] = "";
	time_t exp = time(NULL) + PROBE_LIFE;
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf env = BUF_INIT, file = BUF_INIT;
	struct member_flags f;
	struct sub_mail m;
	int rc;

	if (db_member_flags(ctx->db, l->name, address, &f) == 0)
		strlcpy_(lang, f.language, sizeof(lang));
	langs[0] = lang;
	langs[1] = l->language;
	langs[2] = NULL;
	token_make(ctx->key, "probe", l->name, address, member, exp, tok,
	           sizeof(tok));
	buf_printf(&env, "%s%cbounce-probe-%s@%s", l->name,
	           c->separator ? c->separator : '+', tok, c->domain);
	buf_printf(&file, "%s.%s.probe.%lld", prefix, l->name, member);
	tmpl_vars_set(v, "list_name", l->name);
	tmpl_vars_set(v, "list_address", l->address);
	tmpl_vars_set(v, "address", address);
	tmpl_vars_setf(v, "owner_address", "%s-owner@%s", l->name, c->domain);
	tmpl_vars_setf(v, "request_address", "%s-request@%s", l->name,
	               c->domain);
	memset(&m, 0, sizeof(m));
	m.l = l;
	m.to = address;
	m.langs = langs;
	m.tmpl = "probe.txt";
	m.v = v;
	m.kind = "probe";
	m.file = buf_str(&file);
	m.from_owner = 1;
	m.envelope = buf_str(&env);
	rc = sub_send(ctx, &m);
	if (rc == 0)
		log_info("%s: list %s: <%s> bounced %d times or more: probe "
		         "sent",
		         prefix, l->name, address, c->bounce_threshold);
	tmpl_vars_free(v);
	buf_free(&env);
	buf_free(&file);
	return rc;
}

/* The probe of member `address` bounced: pause delivery. */
static int
probe_bounced(const struct sub_ctx *ctx, const char *spool_id,
              const struct list_conf *route_list, const char *info,
              const struct dsn *d)
{
	const char *tok = info + 6; /* "probe-" */
	char list[CONF_NAME_MAX + 1], addr[ADDR_MAX + 1];
	const struct list_conf *l;
	struct member_bounce mb;
	struct report rp;
	struct buf file = BUF_INIT;
	long long id;
	time_t exp;
	int rc;

	if (token_parse(tok, &id, &exp) < 0 ||
	    db_member_by_id(ctx->db, id, list, sizeof(list), addr,
	                    sizeof(addr)) != 0 ||
	    !token_verify(ctx->key, tok, "probe", list, addr) ||
	    !(l = conf_list(ctx->conf, list))) {
		log_info("%s: list %s: a probe bounce for nobody we know "
		         "(left already, or forged)",
		         spool_id, route_list->name);
		return 0;
	}
	if (d->n_rcpts && d->rcpts[0].action != DSN_FAILED) {
		log_info("%s: list %s: probe to <%s>: %s, not a failure",
		         spool_id, l->name, addr,
		         dsn_action_name(d->rcpts[0].action));
		return 0;
	}
	if (db_member_bounce(ctx->db, l->name, addr, &mb) != 0)
		return 0;
	if (mb.disabled)
		return 0;
	mb.disabled = time(NULL);
	if (db_member_bounce_set(ctx->db, mb.id, &mb) < 0 ||
	    db_log_event(ctx->db, l->name, "bounce_disabled", NULL, 1) < 0)
		return -1;
	log_info("%s: list %s: the probe to <%s> bounced: delivery paused",
	         spool_id, l->name, addr);
	memset(&rp, 0, sizeof(rp));
	rp.disabled_addr = addr;
	rp.status = d->n_rcpts ? d->rcpts[0].status : "";
	rp.diagnostic = d->n_rcpts ? d->rcpts[0].diagnostic : "";
	buf_printf(&file, "%s.%s.bounces", spool_id, l->name);
	rc = tell_owners(ctx, l, buf_str(&file), &rp);
	buf_free(&file);
	return rc;
}

/* ----- scoring ----------------------------------------------------------- */

struct takeback {
	const struct sub_ctx *ctx;
	const char *list;
	int failed;
};

static int
take_back(const char *address, double counted, time_t at, void *arg)
{
	struct takeback *t = arg;
	struct member_bounce mb;
	time_t now = time(NULL);

	if (db_member_bounce(t->ctx->db, t->list, address, &mb) != 0)
		return 0;
	/* what it still weighs after the decay since it was added */
	mb.score = decayed(t->ctx->conf, &mb, now) -
	           counted * pow(0.5, (double)(now - at) /
	                                  (double)t->ctx->conf->bounce_decay);
	if (mb.score < 0.01)
		mb.score = 0;
	mb.updated = now;
	if (db_member_bounce_set(t->ctx->db, mb.id, &mb) < 0) {
		t->failed = 1;
		return 1;
	}
	return 0;
}

/* One failed recipient of a DSN: record it, score it. */
static int
one_failure(const struct sub_ctx *ctx, const char *spool_id,
            const struct list_conf *l, const char *address,
            const struct dsn_rcpt *rc, const char *message_id,
            const char *subject)
{
	const struct conf *c = ctx->conf;
	const char **names = xcalloc(c->n_lists + 1, sizeof(*names));
	size_t n = post_lists(c, l, names, c->n_lists);
	long long id = db_member_id(ctx->db, names, n, address);
	char mlist[CONF_NAME_MAX + 1], maddr[ADDR_MAX + 1];
	const struct list_conf *ml;
	struct member_bounce mb;
	struct bounce_row b;
	double add = 0;
	long domains = 0;
	long long bid = 0;
	int x = 0;

	free(names);
	if (id < 0)
		return -1;
	if (id == 0 || db_member_by_id(ctx->db, id, mlist, sizeof(mlist),
	                               maddr, sizeof(maddr)) != 0 ||
	    !(ml = conf_list(c, mlist))) {
		log_info("%s: list %s: bounce for <%s>, who is no member",
		         spool_id, l->name, address);
		return 0;
	}
	if (rc->kind == DSN_HARD)
		add = HARD_WEIGHT;
	else if (rc->kind == DSN_SOFT)
		add = SOFT_WEIGHT;
	memset(&b, 0, sizeof(b));
	b.list = ml->name;
	b.address = maddr;
	b.kind = dsn_kind_name(rc->kind);
	b.status = rc->status;
	b.diagnostic = rc->diagnostic;
	b.message_id = message_id ? message_id : "";
	b.counted = 0; /* set below once it has been added to the score */
	if (db_bounce_add(ctx->db, &b, &bid) < 0 ||
	    db_log_event(ctx->db, ml->name, "bounce", b.kind, 1) < 0)
		return -1;
	/* Many domains refusing one post: the post is the problem. */
	if (add > 0 && message_id && *message_id) {
		domains = db_bounce_domains(ctx->db, ml->name, message_id);
		if (domains < 0)
			return -1;
	}
	if (domains >= c->bounce_content_domains) {
		struct takeback t = {ctx, ml->name, 0};
		char ref[300];

		snprintf(ref, sizeof(ref), "%.250s", message_id);
		x = db_bounce_each_counted(ctx->db, ml->name, message_id,
		                           take_back, &t);
		if (x < 0 || t.failed)
			return -1;
		log_info("%s: list %s: <%s> was refused by %ld domains: a "
		         "content problem, no member counted for it",
		         spool_id, ml->name, message_id, domains);
		if (db_last_event(ctx->db, ml->name, "content_problem") >= 0 &&
		    domains == c->bounce_content_domains) {
			struct report rp;
			struct buf file = BUF_INIT;

			memset(&rp, 0, sizeof(rp));
			rp.content_id = message_id;
			rp.content_subject = subject;
			rp.domains = domains;
			buf_printf(&file, "%s.%s.content", spool_id, ml->name);
			x = tell_owners(ctx, ml, buf_str(&file), &rp);
			buf_free(&file);
			if (x < 0 || db_log_event(ctx->db, ml->name,
			                          "content_problem", NULL,
			                          1) < 0)
				return -1;
		}
		return 0;
	}
	if (add == 0) {
		log_info("%s: list %s: <%s>: %s %s (%s): not counted", spool_id,
		         ml->name, maddr, rc->status, b.kind, rc->diagnostic);
		return 0;
	}
	if (db_member_bounce(ctx->db, ml->name, maddr, &mb) != 0)
		return -1;
	mb.score = decayed(c, &mb, time(NULL)) + add;
	mb.updated = time(NULL);
	log_info("%s: list %s: <%s> bounced (%s %s): score %.2f of %d",
	         spool_id, ml->name, maddr, rc->status, b.kind, mb.score,
	         c->bounce_threshold);
	/* (the decay since the last bounce, a second ago, must not keep
	 * 3 x 1.0 from reaching 3) */
	if (mb.score + 0.01 >= c->bounce_threshold && !mb.probe_sent &&
	    !mb.disabled) {
		mb.probe_sent = time(NULL);
		if (send_probe(ctx, ml, maddr, mb.id, spool_id) < 0)
			return -1;
	}
	if (db_member_bounce_set(ctx->db, mb.id, &mb) < 0 ||
	    db_bounce_set_counted(ctx->db, bid, add) < 0)
		return -1;
	return 0;
}

int
bounce_refused(const struct sub_ctx *ctx, const char *list,
               const char *address, const char *code, const char *text,
               const char *message_id)
{
	const struct list_conf *l = conf_list(ctx->conf, list);
	struct dsn_rcpt r;
	const char *t = text ? text : "";
	size_t n = 0;

	if (!l)
		return 0;
	memset(&r, 0, sizeof(r));
	strlcpy_(r.addr, address, sizeof(r.addr));
	r.action = DSN_FAILED;
	/* the enhanced code at the start of the reply text, else the basic
	 * one ("550" -> 5.0.0) */
	while (t[n] && (isdigit((unsigned char)t[n]) || t[n] == '.'))
		n++;
	if (n >= 5 && n < sizeof(r.status) && (t[0] == '4' || t[0] == '5') &&
	    t[1] == '.')
		snprintf(r.status, sizeof(r.status), "%.*s", (int)n, t);
	else
		snprintf(r.status, sizeof(r.status), "%c.0.0",
		         code && *code ? code[0] : '5');
	snprintf(r.diagnostic, sizeof(r.diagnostic), "%s %s", code ? code : "",
	         t);
	r.kind = dsn_classify(r.status, r.diagnostic);
	return one_failure(ctx, "queue", l, address, &r, message_id, NULL);
}

/* "user=domain" (VERP) to user@domain, normalised; 0 / -1. */
static int
verp_address(const char *info, char *out, size_t outsz)
{
	char tmp[ADDR_MAX + 1], *eq;

	if (strlen(info) >= sizeof(tmp))
		return -1;
	strlcpy_(tmp, info, sizeof(tmp));
	if (!(eq = strrchr(tmp, '=')) || eq == tmp || !eq[1])
		return -1;
	*eq = '@';
	return addr_normalise(tmp, out, outsz);
}

/* A feedback report: the complainant leaves at once, with a way back. */
static int
feedback(const struct sub_ctx *ctx, const char *spool_id,
         const struct list_conf *l, const char *address,
         const struct dsn *d)
{
	char how[400];
	int removed;

	snprintf(how, sizeof(how), "feedback report (%s) %.200s",
	         *d->feedback_type ? d->feedback_type : "abuse",
	         d->original_message_id);
	removed = sub_leave(ctx, l, address, how);
	if (removed < 0)
		return -1;
	if (removed == 0) {
		log_info("%s: list %s: feedback report about <%s>, who is no "
		         "member",
		         spool_id, l->name, address);
		return 0;
	}
	log_info("%s: list %s: <%s> reported our mail as %s: unsubscribed, "
	         "a way back is mailed",
	         spool_id, l->name, address,
	         *d->feedback_type ? d->feedback_type : "abuse");
	if (db_log_event(ctx->db, l->name, "feedback", NULL, 1) < 0)
		return -1;
	return sub_invite(ctx, l->name, address, "a feedback report") < 0 ? -1
	                                                                  : 0;
}

int
bounce_mail(const struct sub_ctx *ctx, const char *spool_id,
            const char *sender, const struct msg *msg, const struct route *r)
{
	const struct list_conf *l = r->list;
	char verp[ADDR_MAX + 1] = "";
	struct dsn d;
	size_t i;
	int x, rc = 0;

	(void)sender;
	if (!msg || !l)
		return 0;
	memset(&d, 0, sizeof(d));
	x = dsn_parse(msg, &d);
	if (x < 0)
		return -1;
	if (x == 0) {
		log_info("%s: list %s: mail to the bounce address is no bounce "
		         "(an auto-reply?): ignored",
		         spool_id, l->name);
		return 0;
	}
	if (strncmp(r->arg, "probe-", 6) == 0) {
		rc = probe_bounced(ctx, spool_id, l, r->arg, &d);
		dsn_free(&d);
		return rc;
	}
	if (*r->arg && verp_address(r->arg, verp, sizeof(verp)) < 0)
		*verp = '\0';
	if (d.is_feedback) {
		const char *who = *verp ? verp : d.original_to;

		if (*who)
			rc = feedback(ctx, spool_id, l, who, &d);
		dsn_free(&d);
		return rc;
	}
	for (i = 0; i < d.n_rcpts && rc == 0; i++) {
		const struct dsn_rcpt *rc_ = &d.rcpts[i];
		const char *who;

		if (rc_->action != DSN_FAILED)
			continue;
		/* With VERP the envelope names the member; a DSN's own
		 * recipient may be an alias or forward of it. */
		who = *verp ? verp : rc_->addr;
		if (!*who)
			continue;
		rc = one_failure(ctx, spool_id, l, who, rc_,
		                 d.original_message_id, msg->subject);
		if (*verp)
			break; /* one envelope, one member */
	}
	dsn_free(&d);
	return rc;
}

/* ----- housekeeping -------------------------------------------------------- */

struct hk {
	const struct sub_ctx *ctx;
	const struct list_conf *l;
	long n;
	int failed;
};

static int
hk_member(const char *address, const struct member_bounce *mb0, void *arg)
{
	struct hk *h = arg;
	const struct conf *c = h->ctx->conf;
	struct member_bounce mb = *mb0;
	time_t now = time(NULL);

	if (mb.disabled && c->bounce_remove_after &&
	    now - mb.disabled >= c->bounce_remove_after) {
		struct report rp;
		struct buf file = BUF_INIT;

		if (db_member_remove(h->ctx->db, h->l->name, address,
		                     "removed after bounces") < 0) {
			h->failed = 1;
			return 1;
		}
		memset(&rp, 0, sizeof(rp));
		rp.removed_addr = address;
		buf_printf(&file, "bounces-%ld.%s.removed.%lld", (long)now,
		           h->l->name, mb.id);
		if (tell_owners(h->ctx, h->l, buf_str(&file), &rp) < 0)
			h->failed = 1;
		buf_free(&file);
		log_info("housekeeping: list %s: <%s> paused since %ld days: "
		         "removed",
		         h->l->name, address,
		         (long)((now - mb.disabled) / 86400));
		h->n++;
	} else if (!mb.disabled && mb.probe_sent &&
	           now - mb.probe_sent >= c->bounce_probe_wait) {
		/* The probe got through: the address works. */
		mb.probe_sent = 0;
		mb.score = 0;
		mb.updated = now;
		if (db_member_bounce_set(h->ctx->db, mb.id, &mb) < 0)
			h->failed = 1;
		h->n++;
	}
	return h->failed;
}

long
bounce_housekeeping(const struct sub_ctx *ctx)
{
	size_t i;
	long n = 0;

	for (i = 0; i < ctx->conf->n_lists; i++) {
		struct hk h = {ctx, &ctx->conf->lists[i], 0, 0};

		if (db_begin(ctx->db) < 0)
			return -1;
		if (db_bounce_members(ctx->db, h.l->name, hk_member, &h) < 0 ||
		    h.failed || db_commit(ctx->db) < 0) {
			db_rollback(ctx->db);
			continue;
		}
		n += h.n;
	}
	return n;
}
