/*
 * thread.c - conversation threading for the archive (see thread.h), after
 * Jamie Zawinski's "message threading" algorithm (jwz.org/doc/threading),
 * reading RFC 5322 section 3.6.4 (Message-ID, In-Reply-To, References).
 *
 * Owns a struct thread_set: one array of nodes (every message first, in
 * input order, then one placeholder per id referred to but not present),
 * allocated once so node pointers never move.  Invariants after
 * thread_build(): the nodes reachable from the roots form a forest (a link
 * that would close a cycle is never made: a union-find over the nodes says
 * whether two nodes are already in one tree, which is what keeps loop
 * breaking O(1) instead of a walk up a possibly 10,000-deep chain); no
 * placeholder reachable from a root is childless; sibling lists are in
 * display order; depth is set.  Nothing recurses.
 *
 * Deliberate differences from jwz: a message's own References decide its
 * parent first (pass 1) and other messages' References only fill in
 * parents nobody named (pass 2), so a link is never rewritten; placeholders
 * with children are kept, not collapsed, so the archive can say "in reply
 * to a message not here".
 *
 * Called by the archive.  Nothing here fails except out-of-memory, which
 * aborts (xmalloc).
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"
#include "util.h"

#define KEY_MAX 512 /* bytes of a subject key: longer subjects are cut */

struct thread_set {
	struct thread_node *nodes; /* [0, n_msgs) messages, then placeholders */
	size_t n_nodes, n_msgs;
	struct thread_node **roots;
	size_t n_roots;
};

/* An open-addressing string table: key -> node index. */
struct table {
	const char **keys;
	size_t *vals;
	size_t mask;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
table_init(struct table *t, size_t want)
{
	size_t cap = 16;

	while (cap < want * 2)
		cap <<= 1;
	t->keys = xcalloc(cap, sizeof(*t->keys));
	t->vals = xcalloc(cap, sizeof(*t->vals));
	t->mask = cap - 1;
}

static void
table_free(struct table *t)
{
	free(t->keys);
	free(t->vals);
}

/* The slot for key: holding it, or the empty slot where it would go. */
static size_t
table_slot(const struct table *t, const char *key)
{
	size_t i = (size_t)hash_str(key) & t->mask;

	while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & t->mask;
	return i;
}

/* Union-find over node indices: are two nodes already in one tree? */
static size_t
uf_find(size_t *uf, size_t x)
{
	while (uf[x] != x) {
		uf[x] = uf[uf[x]];
		x = uf[x];
	}
	return x;
}

struct build {
	struct thread_set *s;
	struct table ids;
	size_t *uf, *ufsz;
};

static const char *
str(const char *s)
{
	return s ? s : "";
}

/* The node for id: the message with that id, or a (new) placeholder. */
static size_t
node_for(struct build *b, const char *id)
{
	size_t slot = table_slot(&b->ids, id), k;

	if (b->ids.keys[slot] != NULL)
		return b->ids.vals[slot];
	k = b->s->n_nodes++;
	b->s->nodes[k].placeholder_id = id;
	b->uf[k] = k;
	b->ufsz[k] = 1;
	b->ids.keys[slot] = id;
	b->ids.vals[slot] = k;
	return k;
}

/* Make child (a root) a child of parent unless they are in one tree. */
static void
link_nodes(struct build *b, size_t parent, size_t child)
{
	struct thread_node *p = &b->s->nodes[parent], *c = &b->s->nodes[child];
	size_t rp = uf_find(b->uf, parent), rc = uf_find(b->uf, child);

	if (c->parent != NULL || rp == rc)
		return;
	c->parent = p;
	c->next = p->child;
	p->child = c;
	if (b->ufsz[rp] < b->ufsz[rc]) {
		size_t t = rp;
		rp = rc;
		rc = t;
	}
	b->uf[rc] = rp;
	b->ufsz[rp] += b->ufsz[rc];
}

/* The usable References of m: the last THREAD_MAX_REFS. */
static size_t
refs_start(const struct thread_msg *m)
{
	return m->n_refs > THREAD_MAX_REFS ? m->n_refs - THREAD_MAX_REFS : 0;
}

static int
usable_ref(const struct thread_msg *m, const char *r)
{
	return r != NULL && *r != '\0' && strcmp(r, str(m->id)) != 0;
}

/*
 * Strip one leading prefix at s: a reply prefix (re, sv, aw, vs, with an
 * optional "[n]" or "(n)"), a forward prefix (fwd, fw), each followed by
 * ':', or a "[tag]".  Returns the rest, or NULL if there was none.
 */
static const char *
strip_prefix(const char *s, int *reply)
{
	static const struct {
		const char *p;
		int reply;
	} pre[] = {
		{"re", 1}, {"sv", 1}, {"aw", 1}, {"vs", 1}, {"fwd", 0}, {"fw", 0},
	};
	size_t i, n;
	const char *q;

	if (*s == '[') {
		q = strchr(s, ']');
		if (q == NULL || q - s > 200)
			return NULL;
		return q + 1;
	}
	for (i = 0; i < ARRAY_SIZE(pre); i++) {
		n = strlen(pre[i].p);
		if (strncasecmp(s, pre[i].p, n) != 0)
			continue;
		q = s + n;
		if (pre[i].reply && (*q == '[' || *q == '(')) {
			char close = *q == '[' ? ']' : ')';
			q++;
			while (*q >= '0' && *q <= '9')
				q++;
			if (*q != close)
				continue;
			q++;
		}
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != ':')
			continue;
		if (pre[i].reply)
			*reply = 1;
		return q + 1;
	}
	return NULL;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

static void
subject_key(const char *subject, char *out, size_t outsz, int *reply)
{
	const char *s = str(subject), *q;
	size_t o = 0;
	int space = 0;

	*reply = 0;
	for (;;) {
		while (is_space((unsigned char)*s))
			s++;
		if ((q = strip_prefix(s, reply)) == NULL)
			break;
		s = q;
	}
	if (outsz == 0)
		return;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (is_space(c)) {
			space = 1;
			continue;
		}
		if (space && o > 0 && o + 1 < outsz)
			out[o++] = ' ';
		space = 0;
		if (o + 1 >= outsz)
			break;
		out[o++] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
	}
	out[o] = '\0';
}

void
thread_subject_key(const char *subject, char *out, size_t outsz)
{
	int reply;

	subject_key(subject, out, outsz, &reply);
}

/*
 * Preorder of the forest as it stands (roots = parent NULL, in index
 * order) into order[]; returns the count.  Iterative.
 */
static size_t
preorder(struct thread_set *s, size_t *order)
{
	size_t i, k = 0;
	struct thread_node *r, *n;

	for (i = 0; i < s->n_nodes; i++) {
		r = &s->nodes[i];
		if (r->parent != NULL)
			continue;
		n = r;
		for (;;) {
			order[k++] = (size_t)(n - s->nodes);
			if (n->child != NULL) {
				n = n->child;
				continue;
			}
			while (n != r && n->next == NULL)
				n = n->parent;
			if (n == r)
				break;
			n = n->next;
		}
	}
	return k;
}

struct sortinfo {
	long long dmin, dmax;
	size_t oldest; /* the message node with the oldest date */
	int dead;      /* a childless placeholder */
};

/* A sort key: no globals, so qsort() needs everything in the element. */
struct skey {
	size_t parent; /* node index + 1 of the parent, 0 for a root */
	long long date;
	size_t idx;
};

/* Non-roots: by parent, then oldest first, then input order. */
static int
cmp_child(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Roots: newest latest message first, then input order. */
static int
cmp_root(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;

	if (x->date != y->date)
		return x->date > y->date ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Dates and pruning, children before parents (reverse preorder). */
static void
compute_info(struct thread_set *s, const size_t *order, size_t k,
	     struct sortinfo *info)
{
	size_t i, x, p;
	size_t *live = xcalloc(s->n_nodes, sizeof(*live));

	for (i = 0; i < s->n_nodes; i++) {
		info[i].dead = 0;
		if (s->nodes[i].msg != NULL) {
			info[i].dmin = info[i].dmax = s->nodes[i].msg->date;
			info[i].oldest = i;
		} else {
			info[i].dmin = LLONG_MAX;
			info[i].dmax = LLONG_MIN;
			info[i].oldest = SIZE_MAX;
		}
	}
	for (i = k; i-- > 0;) {
		x = order[i];
		if (s->nodes[x].msg == NULL && live[x] == 0) {
			info[x].dead = 1;
			continue;
		}
		if (s->nodes[x].parent == NULL)
			continue;
		p = (size_t)(s->nodes[x].parent - s->nodes);
		live[p]++;
		if (info[x].dmin < info[p].dmin ||
		    (info[x].dmin == info[p].dmin && info[x].oldest < info[p].oldest)) {
			info[p].dmin = info[x].dmin;
			info[p].oldest = info[x].oldest;
		}
		if (info[x].dmax > info[p].dmax)
			info[p].dmax = info[x].dmax;
	}
	free(live);
}

/*
 * The last resort: roots with the same non-empty subject key go under the
 * oldest of them, each only if its own subject was a reply.
 */
static void
group_subjects(struct thread_set *s, struct sortinfo *info)
{
	struct table t;
	char buf[KEY_MAX];
	char **keys;
	int *reply;
	size_t i, nr = 0, slot, best;
	struct thread_node *r, *b;

	for (i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].parent == NULL && !info[i].dead)
			nr++;
	if (nr < 2)
		return;
	table_init(&t, nr);
	keys = xcalloc(s->n_nodes, sizeof(*keys));
	reply = xcalloc(s->n_nodes, sizeof(*reply));
	for (i = 0; i < s->n_nodes; i++) {
		if (s->nodes[i].parent != NULL || info[i].dead)
			continue;
		subject_key(s->nodes[info[i].oldest].msg->subject, buf,
			    sizeof(buf), &reply[i]);
		if (buf[0] == '\0')
			continue;
		keys[i] = xstrdup(buf);
		slot = table_slot(&t, keys[i]);
		if (t.keys[slot] == NULL) {
			t.keys[slot] = keys[i];
			t.vals[slot] = i;
		} else if (info[i].dmin < info[t.vals[slot]].dmin)
			t.vals[slot] = i; /* ties: the earlier index stays */
	}
	for (i = 0; i < s->n_nodes; i++) {
		if (keys[i] == NULL || !reply[i])
			continue;
		best = t.vals[table_slot(&t, keys[i])];
		if (best == i)
			continue;
		r = &s->nodes[i];
		b = &s->nodes[best];
		r->parent = b;
		r->next = b->child;
		b->child = r;
		if (info[i].dmax > info[best].dmax)
			info[best].dmax = info[i].dmax;
	}
	for (i = 0; i < s->n_nodes; i++)
		free(keys[i]);
	free(keys);
	free(reply);
	table_free(&t);
}

/* Sort siblings and roots, drop dead placeholders, set depths. */
static void
finish(struct thread_set *s, const struct sortinfo *info)
{
	size_t i, k = 0, j, nr = 0;
	struct skey *kids = xcalloc(s->n_nodes ? s->n_nodes : 1, sizeof(*kids));
	struct skey *roots = xcalloc(s->n_nodes ? s->n_nodes : 1,
				     sizeof(*roots));
	struct thread_node *n, *p, *r;

	for (i = 0; i < s->n_nodes; i++) {
		n = &s->nodes[i];
		n->child = n->next = NULL;
		if (info[i].dead)
			continue;
		if (n->parent == NULL) {
			roots[nr].date = info[i].dmax;
			roots[nr++].idx = i;
		} else {
			kids[k].parent = (size_t)(n->parent - s->nodes) + 1;
			kids[k].date = info[i].dmin;
			kids[k++].idx = i;
		}
	}
	qsort(kids, k, sizeof(*kids), cmp_child);
	qsort(roots, nr, sizeof(*roots), cmp_root);
	/* Backwards, so that prepending leaves each list in order. */
	for (j = k; j-- > 0;) {
		n = &s->nodes[kids[j].idx];
		p = n->parent;
		n->next = p->child;
		p->child = n;
	}
	s->roots = xcalloc(nr ? nr : 1, sizeof(*s->roots));
	for (j = 0; j < nr; j++)
		s->roots[j] = &s->nodes[roots[j].idx];
	s->n_roots = nr;
	free(kids);
	free(roots);
	for (j = 0; j < nr; j++) {
		r = n = s->roots[j];
		n->depth = 0;
		for (;;) {
			if (n->child != NULL) {
				n->child->depth = n->depth + 1;
				n = n->child;
				continue;
			}
			while (n != r && n->next == NULL)
				n = n->parent;
			if (n == r)
				break;
			n->next->depth = n->depth;
			n = n->next;
		}
	}
}

struct thread_set *
thread_build(const struct thread_msg *msgs, size_t n)
{
	struct build b;
	struct thread_set *s = xcalloc(1, sizeof(*s));
	struct sortinfo *info;
	size_t i, j, cap = n, slot, prev, cur, k;
	size_t *order;
	const struct thread_msg *m;
	const char *pid;

	for (i = 0; i < n; i++) {
		size_t r = msgs[i].n_refs - refs_start(&msgs[i]);
		cap += r + 1;
	}
	s->nodes = xcalloc(cap ? cap : 1, sizeof(*s->nodes));
	s->n_msgs = n;
	b.s = s;
	b.uf = xcalloc(cap ? cap : 1, sizeof(*b.uf));
	b.ufsz = xcalloc(cap ? cap : 1, sizeof(*b.ufsz));
	table_init(&b.ids, cap);

	/* Every message gets its node; a repeated id the first one keeps. */
	for (i = 0; i < n; i++) {
		m = &msgs[i];
		s->nodes[i].msg = m;
		b.uf[i] = i;
		b.ufsz[i] = 1;
		if (str(m->id)[0] == '\0')
			continue;
		slot = table_slot(&b.ids, m->id);
		if (b.ids.keys[slot] != NULL)
			continue;
		b.ids.keys[slot] = m->id;
		b.ids.vals[slot] = i;
	}
	s->n_nodes = n;

	/* Pass 1: each message under the parent it names itself. */
	for (i = 0; i < n; i++) {
		m = &msgs[i];
		pid = NULL;
		for (j = m->n_refs; j-- > refs_start(m);)
			if (usable_ref(m, m->refs[j])) {
				pid = m->refs[j];
				break;
			}
		if (m->n_refs == 0 && usable_ref(m, m->in_reply_to))
			pid = m->in_reply_to;
		if (pid != NULL)
			link_nodes(&b, node_for(&b, pid), i);
	}
	/* Pass 2: the older References fill in parents nobody named. */
	for (i = 0; i < n; i++) {
		m = &msgs[i];
		prev = SIZE_MAX;
		for (j = refs_start(m); j < m->n_refs; j++) {
			if (!usable_ref(m, m->refs[j]))
				continue;
			cur = node_for(&b, m->refs[j]);
			if (prev != SIZE_MAX)
				link_nodes(&b, prev, cur);
			prev = cur;
		}
	}
	free(b.uf);
	free(b.ufsz);
	table_free(&b.ids);

	order = xcalloc(s->n_nodes ? s->n_nodes : 1, sizeof(*order));
	info = xcalloc(s->n_nodes ? s->n_nodes : 1, sizeof(*info));
	k = preorder(s, order);
	compute_info(s, order, k, info);
	group_subjects(s, info);
	free(order);
	finish(s, info);
	free(info);
	return s;
}

void
thread_free(struct thread_set *s)
{
	if (s == NULL)
		return;
	free(s->nodes);
	free(s->roots);
	free(s);
}

size_t
thread_n_roots(const struct thread_set *s)
{
	return s->n_roots;
}

const struct thread_node *
thread_root(const struct thread_set *s, size_t i)
{
	return i < s->n_roots ? s->roots[i] : NULL;
}

int
thread_walk(const struct thread_set *s,
	    int (*fn)(const struct thread_node *n, size_t depth, void *arg),
	    void *arg)
{
	size_t i;
	const struct thread_node *r, *n;
	int rc;

	for (i = 0; i < s->n_roots; i++) {
		r = n = s->roots[i];
		for (;;) {
			if ((rc = fn(n, n->depth, arg)) != 0)
				return rc;
			if (n->child != NULL) {
				n = n->child;
				continue;
			}
			while (n != r && n->next == NULL)
				n = n->parent;
			if (n == r)
				break;
			n = n->next;
		}
	}
	return 0;
}
