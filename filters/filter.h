/*
 * filter.h - the post pipeline: the stages a message to LIST@ passes
 * before it is distributed (DESIGN.md, "Flow of a message").  One C file
 * per stage (filters/filter_*.c), one interface: a stage looks at the post
 * and the facts the caller gathered about its sender, and either lets it
 * pass to the next stage or decides its fate.
 *
 * Stages are pure: no I/O, no database, no clock.  The caller (post.c)
 * looks up membership and the like first and fills struct filter_post, so
 * that every stage can be tested with a message and a handful of facts.
 *
 * The order (filter.c): loop, auto, size, policy.  The first stage that
 * decides wins; a post that passes every stage is accepted.
 */
#ifndef MLMD_FILTER_H
#define MLMD_FILTER_H

#include <stddef.h>

struct conf;
struct list_conf;
struct msg;

enum filter_verdict {
	FILTER_PASS = 0, /* no decision: next stage */
	FILTER_ACCEPT,   /* distribute to the members */
	FILTER_HOLD,     /* keep for a moderator */
	FILTER_REJECT,   /* refuse; the sender is told why */
	FILTER_DISCARD,  /* drop silently (logged) */
	FILTER_OWNER,    /* not for the members: forward to the owners */
};

struct filter_post {
	const struct conf *conf;
	const struct list_conf *list; /* the list posted to */
	const struct msg *msg;        /* parsed post */
	size_t size;                  /* bytes as received */
	const char *sender;           /* envelope sender, "" for <> */
	/* Facts about the author, gathered by the caller from From:,
	 * Sender: and the envelope sender (any of them counts): */
	int is_member;     /* member of the list (or of a list an umbrella
	                    * list includes) */
	int is_moderated;  /* that membership has `moderated` set */
	int is_moderator;  /* listed in owners or moderators */
	int is_accepted;   /* in accept_senders for the list */
	int approved;      /* a moderator approved it: policy passes */
	const char *hold_reason; /* not NULL: hold, with this reason (the
	                          * external filter said spam or failed) */
};

struct filter_result {
	enum filter_verdict verdict;
	const char *stage;   /* the deciding stage's name, e.g. "policy" */
	char reason[256];    /* one line in English for the log, the held
	                      * queue and the sender's notice */
	const char *notice;  /* template to send the sender ("held.txt",
	                      * "rejected.txt", "too_big.txt"), or NULL for
	                      * no notice (loops, auto-replies, discards) */
	char tags[256];      /* space-separated tags the rule files gave the
	                      * post (`tag:TEXT`, whatever the verdict); the
	                      * list's copies carry them in X-Mlmd-Tags */
};

struct filter_stage {
	const char *name;
	/* Decide, or return FILTER_PASS leaving *r alone. */
	enum filter_verdict (*run)(const struct filter_post *p,
	                           struct filter_result *r);
};

/* The stages in order, NULL-terminated. */
extern const struct filter_stage *const filter_stages[];

/* Run the pipeline; *r always filled (FILTER_ACCEPT if every stage passed,
 * with stage "pipeline"). Returns r->verdict. */
enum filter_verdict filter_run(const struct filter_post *p,
                               struct filter_result *r);

/* 1 if a header field's name (as parsed) is want, ignoring case and
 * white space before the ':' (shared by the stages). */
int filter_header_is(const char *name, const char *want);

/* A size for people: "812 bytes", "3.1 MB" (binary units, one decimal,
 * rounded up or down); filter_size.c, also used for the sender's notice. */
void filter_size_text(char *out, size_t outsz, size_t n, int round_up);

/* "accept", "hold", ... (static) */
const char *filter_verdict_name(enum filter_verdict v);

/* The stages, also callable alone (tests). */
extern const struct filter_stage filter_loop;   /* filter_loop.c */
extern const struct filter_stage filter_auto;   /* filter_auto.c */
extern const struct filter_stage filter_size;   /* filter_size.c */
extern const struct filter_stage filter_policy; /* filter_policy.c */
extern const struct filter_stage filter_rules;  /* filter_rules.c (its
                                                 * rule sets: rules.h) */

#endif
