/*
 * thread.h - conversation threading for the archive (jwz's algorithm):
 * References first, then In-Reply-To, then the subject as a last resort.
 *
 * Pure: no I/O, no database.  The caller fills one struct thread_msg per
 * message; thread_build() borrows those (and every string they point to)
 * until thread_free(), and returns a forest the caller walks.
 */
#ifndef MLMD_THREAD_H
#define MLMD_THREAD_H

#include <stddef.h>

struct thread_msg {            /* input, one per message */
	const char *id;            /* Message-ID without <>, may be "" */
	const char *in_reply_to;   /* "" if none */
	const char *const *refs;   /* References, oldest first */
	size_t n_refs;
	const char *subject;       /* decoded */
	long long date;            /* Unix seconds */
	void *user;                /* caller's pointer (e.g. row id) */
};

struct thread_node {           /* output tree */
	const struct thread_msg *msg;   /* NULL: a placeholder for a missing parent */
	const char *placeholder_id;     /* the missing message's id when msg is NULL */
	struct thread_node *parent, *child, *next; /* first child, next sibling */
	size_t depth;
};

struct thread_set;             /* owns the nodes */

/* At most this many References of one message are read (the newest ones,
 * i.e. the last THREAD_MAX_REFS of the list). */
#define THREAD_MAX_REFS 256

/*
 * Thread n messages (NULL members of a thread_msg read as "").  Never
 * fails except by aborting on out-of-memory (xmalloc); n == 0 gives an
 * empty set.
 *
 * - A message's parent is the last of its References (its own id skipped);
 *   In-Reply-To is used only when there are no References.  The earlier
 *   References link their ids to each other, oldest first, where that
 *   does not contradict a parent a message itself named.
 * - An id referred to but not present becomes a placeholder node (msg
 *   NULL, placeholder_id set).  Placeholders that end up with no children
 *   are dropped; the others are kept, at any depth (unlike jwz, who
 *   promotes their children: the archive shows "parent not here").
 * - Roots are sorted by the date of their newest message, newest first;
 *   children by date, oldest first (a placeholder sorts by its oldest
 *   message); ties keep input order.
 * - Duplicate Message-IDs: the later one is treated as a distinct message
 *   without an id (it does not steal the first one's place, and nothing
 *   can be threaded under it by id).
 * - Reference loops (a->b->a, self-references) are broken: a link that
 *   would close a cycle is not made.
 * - Subject grouping (last resort): roots whose normalized subjects
 *   (thread_subject_key) match and are not empty are grouped under the
 *   oldest such root, but a root moves only if its own subject had a
 *   reply prefix (Re:, Sv:, Aw:, Vs:, also "Re[2]:"), as jwz does.  A
 *   placeholder root takes the subject of its oldest message.
 * - Bounded: O(n log n + total refs).  Nothing recurses; depth is
 *   unbounded.
 */
struct thread_set *thread_build(const struct thread_msg *msgs, size_t n);
void thread_free(struct thread_set *s);

size_t thread_n_roots(const struct thread_set *s);
/* The i-th root in display order, or NULL if i is out of range. */
const struct thread_node *thread_root(const struct thread_set *s, size_t i);

/*
 * The normalized subject used for grouping, into out (always
 * NUL-terminated when outsz > 0; truncated to fit): leading reply and
 * forward prefixes (Re:, Sv:, Aw:, Vs:, Fwd:, Fw:, "Re[2]:") and "[list]"
 * tags stripped, repeatedly, whitespace folded to one space and trimmed,
 * ASCII letters lower-cased.
 */
void thread_subject_key(const char *subject, char *out, size_t outsz);

/*
 * Depth-first walk of every tree in display order, iterative (no
 * recursion, any depth): fn(node, depth, arg) for every node; fn returning
 * non-zero stops the walk and that value is returned.  Returns 0 after a
 * complete walk.
 */
int thread_walk(const struct thread_set *s,
		int (*fn)(const struct thread_node *n, size_t depth, void *arg),
		void *arg);

#endif
