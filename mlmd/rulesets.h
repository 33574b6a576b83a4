/*
 * rulesets.h - every list's rule files (mlmd.conf `rules = {...}`),
 * compiled once per configuration, and the post pipeline's access to them
 * (the rules stage finds a list's set through rulesets_activate()).
 */
#ifndef MLMD_RULESETS_H
#define MLMD_RULESETS_H

#include "buf.h"

struct conf;
struct rules;
struct rulesets;

/* Compile the rule files of every list of c (names are read from
 * c->rules_dir, absolute paths as they are).  NULL with one
 * "FILE:LINE: what" line per problem in err. */
struct rulesets *rulesets_load(const struct conf *c, struct buf *err);
void rulesets_free(struct rulesets *s);
/* list's compiled rules, or NULL (none). */
const struct rules *rulesets_get(const struct rulesets *s, const char *list);
/* Make s the set the pipeline's rules stage uses (NULL: none).  s must
 * stay alive until another set (or NULL) is activated. */
void rulesets_activate(const struct rulesets *s);

#endif
