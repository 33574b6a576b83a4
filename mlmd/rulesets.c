/*
 * rulesets.c - the lists' compiled rule files (rulesets.h).
 *
 * Invariants: a set is immutable once loaded; a configuration whose rules
 * do not compile is refused as a whole (at start-up mlmd does not start,
 * on SIGHUP the running set stays).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "rules.h"
#include "rulesets.h"
#include "util.h"

struct rulesets {
	char **list;
	struct rules **rules;
	size_t n;
};

static const struct rulesets *active;

struct rulesets *
rulesets_load(const struct conf *c, struct buf *err)
{
	struct rulesets *s = xcalloc(1, sizeof(*s));
	size_t i, j;
	int bad = 0;

	s->list = xcalloc(c->n_lists + 1, sizeof(*s->list));
	s->rules = xcalloc(c->n_lists + 1, sizeof(*s->rules));
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];
		char **paths;
		struct rules *r;

		if (l->n_rules == 0)
			continue;
		paths = xcalloc(l->n_rules + 1, sizeof(*paths));
		for (j = 0; j < l->n_rules; j++) {
			struct buf p = BUF_INIT;

			if (l->rules[j][0] == '/')
				buf_adds(&p, l->rules[j]);
			else
				buf_printf(&p, "%s/%s", c->rules_dir,
				           l->rules[j]);
			paths[j] = buf_detach(&p, NULL);
		}
		r = rules_load((const char *const *)paths, l->n_rules, err);
		for (j = 0; j < l->n_rules; j++)
			free(paths[j]);
		free(paths);
		if (!r) {
			bad = 1;
			continue;
		}
		s->list[s->n] = xstrdup(l->name);
		s->rules[s->n++] = r;
	}
	if (bad) {
		rulesets_free(s);
		return NULL;
	}
	return s;
}

void
rulesets_free(struct rulesets *s)
{
	size_t i;

	if (!s)
		return;
	if (active == s)
		rulesets_activate(NULL);
	for (i = 0; i < s->n; i++) {
		free(s->list[i]);
		rules_free(s->rules[i]);
	}
	free(s->list);
	free(s->rules);
	free(s);
}

const struct rules *
rulesets_get(const struct rulesets *s, const char *list)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (strcmp(s->list[i], list) == 0)
			return s->rules[i];
	return NULL;
}

static const struct rules *
lookup(const char *list)
{
	return rulesets_get(active, list);
}

void
rulesets_activate(const struct rulesets *s)
{
	active = s;
	filter_rules_set(s ? lookup : NULL);
}
