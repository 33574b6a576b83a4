/*
 * filter.c - the post pipeline: the order of the stages and the loop that
 * runs them (filter.h; filters/README says what each stage does).
 *
 * Owns: filter_stages[] (the one place the order is written: loop, auto,
 * size, rules, policy), filter_run() and the verdict names.  Called by the post
 * handler (post.c) for every message to LIST@ and by the tests.
 *
 * Invariants: filter_run() always fills *r completely (verdict, stage,
 * a one-line reason, notice) and never reads anything but *p, so the same
 * post always gets the same verdict.  The first stage that returns
 * something other than FILTER_PASS decides; r->verdict and r->stage are
 * set here from that stage's return value and name, so a stage cannot
 * leave them inconsistent.  Nothing here logs or fails.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "filter.h"
#include "util.h"

const struct filter_stage *const filter_stages[] = {
    &filter_loop, &filter_auto, &filter_size, &filter_rules, &filter_policy,
    NULL,
};

static void
set(struct filter_result *r, enum filter_verdict v, const char *stage,
    const char *reason)
{
	r->verdict = v;
	r->stage = stage;
	strlcpy_(r->reason, reason, sizeof(r->reason));
	r->notice = NULL;
}

enum filter_verdict
filter_run(const struct filter_post *p, struct filter_result *r)
{
	size_t i;

	r->tags[0] = '\0';
	/* Not a post one can judge: keep it for a person rather than let
	 * it through (XXX: a caller bug, but holding loses nothing). */
	if (p == NULL || p->list == NULL || p->msg == NULL) {
		set(r, FILTER_HOLD, "pipeline",
		    "internal error: no list or no message to check");
		return r->verdict;
	}
	/* A moderator looked at this very post (it was held, maybe as a
	 * loop or an auto-reply, maybe too big) and approved it: that
	 * decision is the one that counts. */
	if (p->approved) {
		set(r, FILTER_ACCEPT, "moderator", "approved by a moderator");
		return r->verdict;
	}
	if (p->hold_reason) {
		set(r, FILTER_HOLD, "filter", p->hold_reason);
		r->notice = "held.txt";
		return r->verdict;
	}
	for (i = 0; filter_stages[i]; i++) {
		const struct filter_stage *s = filter_stages[i];
		enum filter_verdict v;

		set(r, FILTER_PASS, s->name, "");
		v = s->run(p, r);
		if (v != FILTER_PASS) {
			r->verdict = v;
			r->stage = s->name;
			if (r->reason[0] == '\0')
				strlcpy_(r->reason, filter_verdict_name(v),
				         sizeof(r->reason));
			return v;
		}
	}
	set(r, FILTER_ACCEPT, "pipeline", "passed every stage");
	return r->verdict;
}

const char *
filter_verdict_name(enum filter_verdict v)
{
	switch (v) {
	case FILTER_PASS:
		return "pass";
	case FILTER_ACCEPT:
		return "accept";
	case FILTER_HOLD:
		return "hold";
	case FILTER_REJECT:
		return "reject";
	case FILTER_DISCARD:
		return "discard";
	case FILTER_OWNER:
		return "owner";
	}
	return "unknown";
}

int
filter_header_is(const char *name, const char *want)
{
	size_t n = strlen(name), w = strlen(want);

	/* obsolete syntax (RFC 5322 4.5) allows space before the ':' */
	while (n > w && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	return n == w && strncasecmp(name, want, w) == 0;
}
