/*
 * rules.h - the rule files of the post pipeline (filters/rules/NAME.rules,
 * the format is in filters/rules/README): lines of
 *
 *     TARGET /REGEX/FLAGS ACTION [reason text...]
 *
 * compiled once into an immutable set and evaluated against a parsed
 * message.  PCRE2 stays inside rules.c; the rest of mlmd sees only these
 * types.  The stage that applies a list's set to a post is filter_rules
 * (filter_rules.c).
 */
#ifndef MLMD_RULES_H
#define MLMD_RULES_H

#include <stddef.h>

#include "buf.h"

struct msg;

/* Limits (filters/rules/README): a rule file is read up to
 * RULES_MAX_FILE bytes, a line up to RULES_MAX_LINE, a set holds at most
 * RULES_MAX_RULES rules.  Every text a regex sees is cut to
 * RULES_MAX_TEXT bytes; for "body" and "headers" that is the whole
 * concatenation, so at most 256 KiB of body text per message is looked
 * at.  HTML parts are rendered from at most RULES_MAX_HTML bytes. */
#define RULES_MAX_FILE  ((size_t)1 << 20)
#define RULES_MAX_LINE  8192
#define RULES_MAX_RULES 10000
#define RULES_MAX_TEXT  ((size_t)256 << 10)
#define RULES_MAX_HTML  ((size_t)1 << 20)
/* PCRE2 limits per match call (one rule, one text). */
#define RULES_MATCH_LIMIT 1000000
#define RULES_DEPTH_LIMIT 10000
#define RULES_HEAP_LIMIT  32768 /* KiB */

struct rules; /* a compiled set, immutable after load */

/*
 * Read and compile the rule files paths[0..n-1], in that order (the
 * order of evaluation).  Returns the set (n == 0 gives an empty set), or
 * NULL with one line "FILE:LINE: what\n" appended to err for every bad
 * line (FILE as given in paths; a regex error carries PCRE2's message
 * and the offset in the pattern), or "FILE: cannot read: why\n".  err
 * may be NULL.  The caller frees the set with rules_free().
 */
struct rules *rules_load(const char *const *paths, size_t n, struct buf *err);

/*
 * The same for one file's text already in memory (len bytes, any bytes),
 * called name in the errors and the results.  For tests and fuzzing, and
 * for configuration that carries rules inline.
 */
struct rules *rules_parse_text(const char *name, const char *text, size_t len,
                               struct buf *err);

void rules_free(struct rules *r); /* NULL is fine */
size_t rules_count(const struct rules *r);

enum rules_action {
	RULES_NONE, /* no rule decided */
	RULES_ACCEPT,
	RULES_HOLD,
	RULES_REJECT,
	RULES_DISCARD,
};

struct rules_result {
	enum rules_action action;
	char reason[256]; /* the rule's reason text, or "matched rule
	                   * FILE:LINE"; one line, valid UTF-8, no control
	                   * characters.  "" if action is RULES_NONE. */
	char where[128];  /* "FILE:LINE" of the deciding rule (FILE is the
	                   * base name), or of the rule that could not
	                   * finish; "" if none */
	char tags[256];   /* space-separated tags added by tag: rules that
	                   * matched before the decision, in order, each
	                   * once (tags that do not fit are dropped) */
};

/*
 * Evaluate the set against a parsed message: the first deciding rule in
 * order wins; tag: rules that match on the way add their tag.  *out is
 * always filled.  Returns 0, or -1 if a rule hit a PCRE2 limit (match,
 * depth, heap or JIT stack limit) or PCRE2 failed: evaluation stops there
 * with action RULES_NONE, where naming that rule and reason "a rule
 * could not finish"; the stage then holds the post.  r may be NULL (no
 * rules: 0, RULES_NONE).
 */
int rules_eval(const struct rules *r, const struct msg *m,
               struct rules_result *out);

/* "none", "accept", "hold", ... (static) */
const char *rules_action_name(enum rules_action a);

/*
 * The stage (filter_rules.c) finds a list's set through a process-wide
 * lookup: list name -> compiled rules (borrowed; NULL: the list has
 * none).  NULL lookup (the default): the stage always passes.
 */
void filter_rules_set(const struct rules *(*lookup)(const char *list));

/* The stage itself (filter.h's interface; the lead declares it there and
 * places it in filter_stages[]). */
struct filter_stage;
extern const struct filter_stage filter_rules;

#endif
