/*
 * filter_policy.c - the policy stage: who may post to the list, and what
 * happens to everyone else (list_conf.posting and .nonmember).
 *
 * Owns the table (first line that applies wins):
 *
 *   approved by a moderator           accept (every policy)
 *   owner or moderator                accept (every policy)
 *   posting = open                    accept
 *   posting = moderated               hold, held.txt
 *   posting = members:
 *     member or accepted sender       accept, or hold (held.txt) if
 *                                     is_moderated (it wins over
 *                                     is_accepted)
 *     anyone else                     the nonmember action
 *   posting = announce: anyone else   the nonmember action (members too)
 *
 *   nonmember action  hold -> hold, held.txt     reject -> reject,
 *                     rejected.txt               discard -> discard, no
 *                     notice                     accept -> accept
 *
 * Reasons are one English line that names the list (never a person's
 * address): they are logged and quoted to the sender.  The facts
 * (is_member, ...) are the caller's; this stage only applies the table.
 * An unknown enum value holds the post (a person looks; nothing lost).
 * Pure: no I/O.
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "filter.h"

static enum filter_verdict
decide(struct filter_result *r, enum filter_verdict v, const char *notice)
{
	r->verdict = v;
	r->stage = filter_policy.name;
	r->notice = notice;
	return v;
}

static enum filter_verdict
nonmember(const struct filter_post *p, struct filter_result *r, const char *who)
{
	const struct list_conf *l = p->list;

	switch (l->nonmember) {
	case NM_HOLD:
		snprintf(r->reason, sizeof(r->reason),
		         "posts from %s to %s are reviewed by a moderator", who,
		         l->name);
		return decide(r, FILTER_HOLD, "held.txt");
	case NM_REJECT:
		if (l->posting == POST_ANNOUNCE)
			snprintf(r->reason, sizeof(r->reason),
			         "only the owners and moderators of %s may "
			         "post",
			         l->name);
		else
			snprintf(r->reason, sizeof(r->reason),
			         "only members of %s may post", l->name);
		return decide(r, FILTER_REJECT, "rejected.txt");
	case NM_DISCARD:
		snprintf(r->reason, sizeof(r->reason),
		         "post from %s to %s discarded (nonmember = discard)",
		         who, l->name);
		return decide(r, FILTER_DISCARD, NULL);
	case NM_ACCEPT:
		snprintf(r->reason, sizeof(r->reason),
		         "post from %s to %s accepted (nonmember = accept)",
		         who, l->name);
		return decide(r, FILTER_ACCEPT, NULL);
	}
	snprintf(r->reason, sizeof(r->reason),
	         "unknown nonmember action for %s: held", l->name);
	return decide(r, FILTER_HOLD, "held.txt");
}

static enum filter_verdict
run(const struct filter_post *p, struct filter_result *r)
{
	const struct list_conf *l = p->list;

	if (!l)
		return FILTER_PASS;
	if (p->approved) {
		snprintf(r->reason, sizeof(r->reason),
		         "approved by a moderator of %s", l->name);
		return decide(r, FILTER_ACCEPT, NULL);
	}
	if (p->is_moderator) {
		snprintf(r->reason, sizeof(r->reason),
		         "post by an owner or moderator of %s", l->name);
		return decide(r, FILTER_ACCEPT, NULL);
	}
	switch (l->posting) {
	case POST_OPEN:
		snprintf(r->reason, sizeof(r->reason),
		         "%s is open: anyone may post", l->name);
		return decide(r, FILTER_ACCEPT, NULL);
	case POST_MODERATED:
		snprintf(r->reason, sizeof(r->reason),
		         "posts to this list are reviewed by a moderator");
		return decide(r, FILTER_HOLD, "held.txt");
	case POST_MEMBERS:
		if (!p->is_member && !p->is_accepted)
			return nonmember(p, r, "non-members");
		if (p->is_moderated) {
			snprintf(r->reason, sizeof(r->reason),
			         "your posts are reviewed by a moderator");
			return decide(r, FILTER_HOLD, "held.txt");
		}
		snprintf(r->reason, sizeof(r->reason), "post by a %s of %s",
		         p->is_member ? "member" : "accepted sender", l->name);
		return decide(r, FILTER_ACCEPT, NULL);
	case POST_ANNOUNCE:
		return nonmember(p, r,
		                 p->is_member ? "members" : "non-members");
	}
	snprintf(r->reason, sizeof(r->reason),
	         "unknown posting policy for %s: held", l->name);
	return decide(r, FILTER_HOLD, "held.txt");
}

const struct filter_stage filter_policy = {"policy", run};
