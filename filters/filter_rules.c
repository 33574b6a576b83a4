/*
 * filter_rules.c - the rules stage: applies the list's rule files
 * (filters/rules/NAME.rules: compiled by rules.c) to the post.
 *
 * Owns the mapping from a rule's decision to the pipeline's verdict:
 *
 *   accept   -> FILTER_ACCEPT, no notice
 *   hold     -> FILTER_HOLD, held.txt
 *   reject   -> FILTER_REJECT, rejected.txt
 *   discard  -> FILTER_DISCARD, no notice
 *   no rule decided (tag: rules only, or nothing matched) -> FILTER_PASS
 *   a rule hit a PCRE2 limit -> FILTER_HOLD, held.txt, "a rule could not
 *     finish (FILE:LINE)": a person looks, nothing is lost, and the
 *     sender learns nothing about which pattern is slow to run.
 *
 * The reason is the rule's reason text, or "matched rule FILE:LINE".
 *
 * Tags (tag:TEXT) are not a decision: they go into r->tags whatever the
 * verdict, and the list's copies carry them (X-Mlmd-Tags, decorate.c).
 *
 * The set is found through a lookup callback from the list's name, set
 * once at start-up (or on reload) by filter_rules_set().  XXX that is
 * process-wide state, which STYLE.md avoids: struct filter_post (filter.h)
 * has no field for it yet; a `const struct rules *rules` there would make
 * the stage pure again.  Without a lookup, or for a list without rules,
 * the stage passes.
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "filter.h"
#include "rules.h"

static const struct rules *(*lookup_fn)(const char *list);

void
filter_rules_set(const struct rules *(*lookup)(const char *list))
{
	lookup_fn = lookup;
}

static enum filter_verdict
run(const struct filter_post *p, struct filter_result *r)
{
	const struct rules *rs;
	struct rules_result rr;
	enum filter_verdict v;
	const char *notice = NULL;

	if (!lookup_fn || !p->list || !p->list->name || !p->msg)
		return FILTER_PASS;
	if ((rs = lookup_fn(p->list->name)) == NULL)
		return FILTER_PASS;
	if (rules_eval(rs, p->msg, &rr) < 0) {
		r->verdict = FILTER_HOLD;
		r->stage = filter_rules.name;
		r->notice = "held.txt";
		snprintf(r->reason, sizeof(r->reason),
		         "a rule could not finish (%s)", rr.where);
		return FILTER_HOLD;
	}
	snprintf(r->tags, sizeof(r->tags), "%s", rr.tags);
	switch (rr.action) {
	case RULES_ACCEPT:
		v = FILTER_ACCEPT;
		break;
	case RULES_HOLD:
		v = FILTER_HOLD;
		notice = "held.txt";
		break;
	case RULES_REJECT:
		v = FILTER_REJECT;
		notice = "rejected.txt";
		break;
	case RULES_DISCARD:
		v = FILTER_DISCARD;
		break;
	case RULES_NONE:
	default:
		return FILTER_PASS;
	}
	r->verdict = v;
	r->stage = filter_rules.name;
	r->notice = notice;
	snprintf(r->reason, sizeof(r->reason), "%s", rr.reason);
	return v;
}

const struct filter_stage filter_rules = {"rules", run};
