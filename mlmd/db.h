/*
 * db.h - the store: one SQLite database (home/mlmd.db) in WAL mode with
 * synchronous=NORMAL and a busy timeout; schema changes are ordered
 * migrations keyed on PRAGMA user_version.  SQLite stays inside db*.c;
 * the rest of mlmd sees these functions and its own structs.
 *
 * Every state change is one transaction: either a single call below (which
 * opens and commits its own transaction when none is open) or a
 * db_begin()/db_commit() pair around several.  All functions return 0 on
 * success and -1 on error (logged), unless documented otherwise.  Strings
 * handed out are owned by the caller unless marked borrowed.
 */
#ifndef MLMD_DB_H
#define MLMD_DB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

struct db;

/* Open (creating and migrating as needed) the database at path. */
struct db *db_open(const char *path);
void db_close(struct db *db);
/* The schema version this build migrates to. */
int db_schema_version(void);
/* Use t as the current time for every timestamp written from now on
 * (tests, simulated clocks); 0 returns to the real clock. */
void db_set_now(struct db *db, time_t t);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Nested db_begin() is an error. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/* 1 if a transaction is open on this handle, else 0. */
int db_in_transaction(struct db *db);

/*
 * Append to the event log (the participation reports' source; no address
 * is ever stored there): kind such as "subscribe", "post", "bounce"; ref
 * an optional non-personal reference (NULL for none); n a count.
 */
int db_log_event(struct db *db, const char *list, const char *kind,
		 const char *ref, long n);

/* Delivery mode of a member. */
enum delivery { DELIVER_EACH = 0, DELIVER_DIGEST_MIME, DELIVER_DIGEST_PLAIN,
		DELIVER_NOMAIL };

struct member {
	char *list;     /* list name */
	char *address;  /* normalised */
	char *name;     /* display name, "" if none */
	char *language; /* "" = the list's */
	enum delivery delivery;
	time_t since;   /* when subscribed */
};
void member_clear(struct member *m);
/* "each", "digest-mime", "digest-plain", "nomail" (static). */
const char *db_delivery_name(enum delivery d);

/*
 * Add a member.  how records consent ("import by root from FILE",
 * "confirmed <msgid>", "mlmctl add by root", ...).  Returns 0 if added,
 * 1 if already a member (nothing changed), -1 on error.
 */
int db_member_add(struct db *db, const char *list, const char *address,
		  const char *name, const char *language, const char *how);
/* 0 removed, 1 was not a member, -1 error. */
int db_member_remove(struct db *db, const char *list, const char *address,
		     const char *how);
/* 0 found (*out filled, caller clears), 1 not a member, -1 error. */
int db_member_get(struct db *db, const char *list, const char *address,
		  struct member *out);
/* Call fn for each member of list, ordered by address; fn returning
 * non-zero stops the walk and that value is returned.  The strings in *m
 * are borrowed for the duration of the call. */
int db_member_each(struct db *db, const char *list,
		   int (*fn)(const struct member *m, void *arg), void *arg);
/* Number of members of list, or -1. */
long db_member_count(struct db *db, const char *list);

/*
 * Intake bookkeeping: the dispatcher records each spool file it has
 * processed, keyed by its spool id, in the same transaction as the
 * processing itself, so that a crash between commit and unlink never
 * processes a message twice.
 */
/* 1 if spool_id was processed already, 0 if not, -1 on error. */
int db_inbound_done(struct db *db, const char *spool_id);

struct inbound {
	const char *spool_id;
	const char *sender;     /* envelope sender, "" for <> */
	const char *recipient;  /* the one list address this row is for */
	const char *list;       /* list name */
	const char *role;       /* addr_role_name() */
	const char *message_id; /* without <> */
	const char *from_addr;
	const char *subject;
	time_t received;
	size_t size;
};
/* Record one (spool file, recipient) pair.  Call inside db_begin(). */
int db_inbound_add(struct db *db, const struct inbound *in);

/* ----- posting: membership facts, held posts, archive rows (db_post.c) --- */

/*
 * Is address a member of any of lists[0..n)?  Returns 1 (and *moderated
 * 1 if any of those memberships has its posts moderated), 0 if not, -1
 * on error.  Disabled and nomail members are members.
 */
int db_member_any(struct db *db, const char *const *lists, size_t n,
		  const char *address, int *moderated);
/* 1 if address is in accept_senders of list, 0 if not, -1 on error. */
int db_accept_sender(struct db *db, const char *list, const char *address);

/* A post waiting for a moderator (table held). */
struct held {
	long long id;
	char *list, *spool_id, *message_id, *sender, *from_addr, *subject;
	char *reason, *state; /* 'held' | 'approved' | 'rejected' |
	                       * 'discarded' | 'expired' */
	char *decided_by;     /* "" while held */
	size_t size;
	time_t created, expires, decided_at;
};
void held_clear(struct held *h);
/* Insert h (id, state, decided_* ignored); *id gets the new row id. */
int db_held_add(struct db *db, const struct held *h, long long *id);
/* 0 found, 1 no such id, -1 error. */
int db_held_get(struct db *db, long long id, struct held *out);
/* Walk held posts (state 'held' only unless all), of list or of every
 * list (NULL), oldest first; strings borrowed during the call. */
int db_held_each(struct db *db, const char *list, int all,
		 int (*fn)(const struct held *h, void *arg), void *arg);
/* Record the first decision: 0 done, 1 decided already (nothing
 * changed), -1 error.  state 'approved' | 'rejected' | 'discarded' |
 * 'expired'. */
int db_held_decide(struct db *db, long long id, const char *state,
		   const char *by);

/* One archive row (table messages) and its searchable text. */
struct archived {
	const char *list, *message_id, *path; /* path relative to home */
	const char *from_name, *from_addr, *subject;
	time_t date, received;
	const char *in_reply_to;
	const char *refs;  /* space-separated ids without <> */
	size_t size;
	int hidden;        /* X-No-Archive, archive = none */
	const char *text;  /* plain text for search, may be NULL */
};
/* Add unless (list, message_id) is there already: 0 added, 1 was
 * there, -1 error.  thread_id is the parent's thread (by In-Reply-To,
 * then the references, newest first), else the row's own id. */
int db_message_add(struct db *db, const struct archived *a, long long *id);

/* ----- the outbound queue (db_post.c) ------------------------------------ */

/*
 * Queue one copy (file path, relative to home) for one recipient.  kind:
 * 'post' (a list post), 'notice' (to a sender: held, rejected, too big),
 * 'owner' (forwarded to an owner), 'digest', 'event', ...; lifetime in
 * seconds.  Returns 0, 1 if (path, recipient) is queued already, -1.
 */
int db_out_add(struct db *db, const char *list, const char *kind,
	       const char *message_id, const char *path, const char *sender,
	       const char *recipient, long lifetime);
/*
 * Queue a post's copy for every member of lists[0..n) who takes posts one
 * by one (not digest, not nomail, not disabled), once per address, except
 * addresses that have a 'post' row for message_id already (the same post
 * cross-posted to several lists reaches each member once).  The envelope
 * sender is sender, or with verp_prefix non-NULL verp_prefix + address
 * with '@' as '=' + verp_suffix (one envelope per recipient).  Returns
 * the number of copies queued, or -1.
 */
long db_out_add_members(struct db *db, const char *list,
			const char *const *lists, size_t n,
			const char *message_id, const char *path,
			const char *sender, const char *verp_prefix,
			const char *verp_suffix, long lifetime);

struct out_row {
	long long id;
	long long member; /* members.id of a 'post' copy, 0 if none */
	const char *list, *kind, *path, *sender, *recipient, *message_id;
	const char *state, *last_code, *last_error;
	int attempts;
	time_t created, next_attempt, expires;
};
/*
 * Walk rows waiting to be sent ('queued' or 'deferred') with id > after,
 * in id order, at most limit of them; due_only: only those whose
 * next_attempt <= now.  Strings borrowed during the call; fn returning
 * non-zero stops the walk.  Returns the number of rows seen or -1.
 */
long db_out_each(struct db *db, long long after, int due_only, long limit,
		 int (*fn)(const struct out_row *r, void *arg), void *arg);
/* Results of one attempt.  sent: state 'sent'.  defer (4xx): state
 * 'deferred', attempts + 1, next_attempt = at, unless the row's lifetime
 * is over: then 'failed' (returns 1); with counts 0 (the relay did not
 * answer at all: not this copy's fault) only the note and next_attempt
 * change, and the lifetime does not end it.  fail (5xx):
 * 'failed'; *f (if not NULL) says whether it was a member's copy of a
 * post, for the bounce handling (bounce_refused()).  Return 0 (1 for an expired defer), -1 on error. */
int db_out_sent(struct db *db, long long id);
/* The same for n rows at once (one statement). */
int db_out_sent_many(struct db *db, const long long *ids, size_t n);
int db_out_defer(struct db *db, long long id, const char *code,
		 const char *text, time_t at, int counts);
/* What a failed row was, for the bounce handling (db_out_fail()). */
struct out_failed {
	int post;             /* 1: a member's copy of a post */
	char list[65], recipient[321], message_id[256];
};
int db_out_fail(struct db *db, long long id, const char *code,
		const char *text, struct out_failed *f);
/* The earliest next_attempt of a waiting row: 1 and *t, 0 if none. */
int db_out_next_due(struct db *db, time_t *t);
/* 1 if a row of path is not final yet (queued/deferred), 0 if none, -1
 * on error. */
long db_out_path_pending(struct db *db, const char *path);
/* Copies of kind queued for recipient since t (notice rate limits). */
long db_out_count_since(struct db *db, const char *recipient,
			const char *kind, time_t t);
/* Housekeeping: held posts past their expiry become 'expired'; outbound
 * rows final (sent/failed) before `before` are deleted.  Rows changed,
 * or -1. */
long db_held_expire(struct db *db);
long db_out_purge(struct db *db, time_t before);
/* `mlmctl flush`: make every waiting row due now; rows changed or -1. */
long db_out_flush(struct db *db);

/* ----- joining and leaving, a person's data (db_sub.c) -------------------- */

/*
 * The secret called name (n bytes): made from fresh on first use (INSERT
 * OR IGNORE, so two processes agree on one), then read into out.
 */
int db_secret(struct db *db, const char *name, const unsigned char *fresh,
	      unsigned char *out, size_t n);

/* A pending confirmation or single-use link (table tokens). */
struct token_row {
	long long id;
	char *token, *purpose, *list, *address, *arg;
	time_t created, expires, used; /* used 0: not yet */
};
void token_row_clear(struct token_row *t);
/* Insert a row (its token column a unique placeholder); *id its id.  The
 * caller makes the token from the id and stores it with db_token_set(). */
int db_token_add(struct db *db, const char *purpose, const char *list,
		 const char *address, const char *arg, time_t expires,
		 long long *id);
int db_token_set(struct db *db, long long id, const char *token);
/* 0 found, 1 no such row, -1 error. */
int db_token_get(struct db *db, long long id, struct token_row *out);
/* Mark used: 0 now, 1 used before (nothing changed), -1 error. */
int db_token_use(struct db *db, long long id);
/* Mark every unused token of (purpose, list, address) used; how many
 * were (0: someone was first), or -1. */
long db_token_use_all(struct db *db, const char *purpose, const char *list,
		      const char *address);
/* Rows of purpose created since `since`, of list and/or address and/or
 * any address at domain (NULL or "": any), unused ones only if
 * pending_only.  -1 on error. */
long db_token_count(struct db *db, const char *purpose, const char *list,
		    const char *address, const char *domain, time_t since,
		    int pending_only);
/* Delete rows expired before now and rows used more than keep seconds
 * ago; rows deleted or -1. */
long db_token_purge(struct db *db, time_t now, time_t keep);

/* A member's settings as stored. */
struct member_flags {
	long long id;
	int digest, plain, nomail;
	char language[16];
	time_t since;
};
/* 0 found, 1 not a member, -1 error. */
int db_member_flags(struct db *db, const char *list, const char *address,
		    struct member_flags *f);
/* Change settings: digest/nomail -1 and format/language NULL keep the
 * value.  0 changed, 1 not a member, -1 error. */
int db_member_update(struct db *db, const char *list, const char *address,
		     int digest, const char *format, int nomail,
		     const char *language);
/* The language a person chose for mail that is about no list ("" none):
 * 0, 1 no such person, -1. */
int db_person_language(struct db *db, const char *address, char *out,
		       size_t n);
int db_person_set_language(struct db *db, const char *address,
			   const char *language);
/* The id of address's membership in lists[0] or, failing that, in one of
 * lists[1..n) (the lists an umbrella gathers); 0 if none, -1 on error.
 * One cached statement: the delivery path calls it per copy. */
long long db_member_id(struct db *db, const char *const *lists, size_t n,
		       const char *address);
/* The list and address of membership id: 0, 1 none, -1. */
int db_member_by_id(struct db *db, long long id, char *list, size_t list_sz,
		    char *address, size_t addr_sz);
/* Each membership of address, by list name; fn non-zero stops. */
int db_person_lists(struct db *db, const char *address,
		    int (*fn)(const char *list, const struct member_flags *f,
			      void *arg),
		    void *arg);
/* Add address to list's accept_senders (`approve always`): 0 added, 1
 * there already, -1. */
int db_accept_add(struct db *db, const char *list, const char *address,
		  const char *how);
/* Hold (on 1) or stop holding a member's posts: 0, 1 not a member, -1. */
int db_member_set_moderated(struct db *db, const char *list,
			    const char *address, int on);
/* When kind last happened on list (event_log), 0 never, -1 error. */
time_t db_last_event(struct db *db, const char *list, const char *kind);
/* A bounce, DSN or feedback report about a member (table bounces);
 * counted: what it added to the member's score (0: nothing). */
struct bounce_row {
	const char *list, *address, *kind, *status, *diagnostic, *message_id;
	double counted;
};
int db_bounce_add(struct db *db, const struct bounce_row *b, long long *id);
/* What bounce id added to the score, once it is known. */
int db_bounce_set_counted(struct db *db, long long id, double counted);
/* A member's bounce state (members.bounce_* columns; 0 for NULL). */
struct member_bounce {
	long long id;
	double score;
	time_t updated, probe_sent, disabled;
};
/* 0 found, 1 not a member, -1. */
int db_member_bounce(struct db *db, const char *list, const char *address,
		     struct member_bounce *mb);
int db_member_bounce_set(struct db *db, long long id,
			 const struct member_bounce *mb);
/* Distinct domains whose failures of message_id were recorded for list. */
long db_bounce_domains(struct db *db, const char *list,
		       const char *message_id);
/* A content problem: call fn for each bounce of message_id that counted
 * (so the caller can take it back), then mark them all as content. */
int db_bounce_each_counted(struct db *db, const char *list,
			   const char *message_id,
			   int (*fn)(const char *address, double counted,
				     time_t at, void *arg),
			   void *arg);
/* Members of list with any bounce state, by address. */
int db_bounce_members(struct db *db, const char *list,
		      int (*fn)(const char *address,
				const struct member_bounce *mb, void *arg),
		      void *arg);
/* ----- the archive (db_archive.c) --------------------------------------- */

/* An archived message (table messages); strings borrowed during the
 * callback. */
struct arch_row {
	long long id;
	const char *message_id, *path, *from_name, *from_addr, *subject;
	const char *in_reply_to, *refs, *month;
	time_t date;
	size_t size;
	long long thread;       /* thread_id: the row of the thread's root */
	const char *thread_mid; /* the root's Message-ID (names the thread) */
	int erased;             /* the author was erased (pseudonymised) */
};
/* The public messages of list in month (by date); fn non-zero stops. */
int db_archive_month(struct db *db, const char *list, const char *month,
		     int (*fn)(const struct arch_row *r, void *arg), void *arg);
/* The public messages of one thread (by date). */
int db_archive_thread(struct db *db, const char *list, long long thread,
		      int (*fn)(const struct arch_row *r, void *arg),
		      void *arg);
/* One public message: fn's value, 1 if none (or hidden), -1. */
int db_archive_get(struct db *db, const char *list, const char *message_id,
		   int (*fn)(const struct arch_row *r, void *arg), void *arg);
/* The public message just after (dir > 0) or before (dir < 0) the one
 * at (date, id) in list's date order: fn's value, 1 if none, -1. */
int db_archive_next(struct db *db, const char *list, time_t date,
		    long long id, int dir,
		    int (*fn)(const struct arch_row *r, void *arg), void *arg);
/* The n newest public messages of list, newest first. */
int db_archive_latest(struct db *db, const char *list, int n,
		      int (*fn)(const struct arch_row *r, void *arg),
		      void *arg);
/* The n threads of list with the newest messages, newest first: each
 * thread's first public message, its count and its last date. */
int db_archive_threads(struct db *db, const char *list, int n,
		       int (*fn)(const struct arch_row *first, long count,
				 time_t last, void *arg),
		       void *arg);
/* A search: match is an FTS5 query (words, "phrases", subject:,
 * author:, OR, NOT; NULL or "" for every message, newest first); after
 * and before bound the date (0: unbounded); limit and offset page. */
struct arch_query {
	const char *match;
	time_t after, before;
	int limit;
	long offset;
	const char *mark_open, *mark_close; /* around hits in snippets
	                                     * (NULL: "[" and "]") */
};
/* Full-text search in list's public messages, best first; fn gets a
 * snippet of the body; *total (if not NULL) the number of hits.  0, -1
 * on a database error, -2 with SQLite's message in err when the query
 * cannot be read. */
int db_archive_search(struct db *db, const char *list,
		      const struct arch_query *q,
		      int (*fn)(const struct arch_row *r, const char *snippet,
				void *arg),
		      void *arg, long *total, struct buf *err);
/* Months with public messages, newest first, with their counts. */
int db_archive_months(struct db *db, const char *list,
		      int (*fn)(const char *month, long n, void *arg),
		      void *arg);
/* The public messages of list sent by address. */
int db_archive_by_author(struct db *db, const char *list, const char *address,
			 int (*fn)(const struct arch_row *r, void *arg),
			 void *arg);
/* Erase address from list's archive: its posts lose name and address
 * (erased = 1), and with remove they are hidden and dropped from the
 * search index too.  Rows changed, or -1. */
long db_archive_erase(struct db *db, const char *list, const char *address,
		      int remove);

/* ----- digests (db_digest.c) --------------------------------------------- */

struct digest_row {
	long long id, volume, issue;
	size_t size;       /* bytes of the posts collected */
	time_t created;    /* when the issue opened (its first post) */
	long n_items;
	time_t built;      /* when it was closed, 0 if open */
};
/* list's digest in state ("collecting", "built", "sent"), the oldest:
 * 0, 1 if none, -1. */
int db_digest_get(struct db *db, const char *list, const char *state,
		  struct digest_row *d);
/* Add the archive row message (size bytes) to list's open digest,
 * opening the next issue if there is none.  The open digest's size after
 * it, or -1.  Joins the caller's transaction. */
long db_digest_add(struct db *db, const char *list, long long message,
		   size_t size);
/* Close an open digest (state 'built'): posts from now on open the next
 * issue.  0 / -1. */
int db_digest_close(struct db *db, long long id);
/* Set an open digest's opening time (an empty period restarts it). */
int db_digest_touch(struct db *db, long long id, time_t created);
/* Mark a digest sent (its copies are queued).  0 / -1. */
int db_digest_sent(struct db *db, long long id);
/* The posts of a digest in the order they were distributed (arch_row's
 * thread_mid is ""). */
int db_digest_items(struct db *db, long long id,
		    int (*fn)(const struct arch_row *r, void *arg), void *arg);
/* list's members who take digests and get mail: address, plain (1) or
 * MIME (0), their language ("" if none is set). */
int db_digest_members(struct db *db, const char *list,
		      int (*fn)(const char *address, int plain,
				const char *language, void *arg),
		      void *arg);
/* list's five newest digests with their state, newest first. */
int db_digest_each(struct db *db, const char *list,
		   int (*fn)(const struct digest_row *d, const char *state,
			     void *arg),
		   void *arg);

/* ----- events (db_event.c) ------------------------------------------------ */

/* An event (table events); strings owned, freed by event_row_clear(). */
struct event_row {
	long long id;
	char *uid, *list, *title, *description, *place, *tz, *rrule;
	char *question, *organizer, *state; /* state: active | cancelled */
	time_t dtstart, dtend;  /* UTC; of the first occurrence */
	time_t deadline;        /* RSVP deadline, 0: the start */
	int capacity;           /* seats, 0: unlimited */
	long sequence;
	time_t created, updated;
};
void event_row_clear(struct event_row *e);
/* Add (uid unique): 0 and *id, -1 (also for a uid there already). */
int db_event_add(struct db *db, const struct event_row *e, long long *id);
/* Write every field of e->id back. */
int db_event_save(struct db *db, const struct event_row *e);
/* 0 found (caller clears), 1 none, -1. */
int db_event_get(struct db *db, long long id, struct event_row *e);
int db_event_by_uid(struct db *db, const char *uid, struct event_row *e);
/* Events of list (NULL: all) by start; e is cleared after fn. */
int db_event_each(struct db *db, const char *list,
		  int (*fn)(const struct event_row *e, void *arg), void *arg);

/* A member's answer to an occurrence (table rsvps). */
struct rsvp_row {
	long long id, event;
	time_t occurrence;      /* 0 for a single event */
	char address[321];
	char partstat[16];      /* needs-action accepted declined tentative */
	int guests;
	long waitlist;          /* place in the queue, 0: not waiting */
	time_t invited, answered;
	int attended;
};
/* The row for (event, occurrence, address), made if new: 0 new, 1 there
 * already; *id set.  -1. */
int db_rsvp_invite(struct db *db, long long event, time_t occurrence,
		   const char *address, long long *id);
int db_rsvp_get(struct db *db, long long id, struct rsvp_row *r);
int db_rsvp_find(struct db *db, long long event, time_t occurrence,
		 const char *address, struct rsvp_row *r);
/* Write partstat, guests, waitlist, answered, attended of r->id. */
int db_rsvp_set(struct db *db, const struct rsvp_row *r);
struct rsvp_counts {
	long invited, yes, no, maybe, waitlist, guests, attended, no_answer;
	long seats; /* yes + their guests */
};
int db_rsvp_counts(struct db *db, long long event, time_t occurrence,
		   struct rsvp_counts *c);
/* The first on the waitlist: 0, 1 nobody, -1. */
int db_rsvp_first_waiting(struct db *db, long long event, time_t occurrence,
			  struct rsvp_row *r);
/* The next waitlist position, or -1. */
long db_rsvp_next_waitlist(struct db *db, long long event,
			   time_t occurrence);
int db_rsvp_each(struct db *db, long long event, time_t occurrence,
		 int (*fn)(const struct rsvp_row *r, void *arg), void *arg);
/* The last reminder sent for an occurrence (seconds before its start,
 * 0: none), and setting it. */
int db_occurrence_reminded(struct db *db, long long event,
			   time_t occurrence, long *reminded);
int db_occurrence_set_reminded(struct db *db, long long event,
			       time_t occurrence, long reminded);
/* Cancel one occurrence of a series; is it cancelled (1, 0, -1)? */
int db_occurrence_cancel(struct db *db, long long event, time_t occurrence);
int db_occurrence_cancelled(struct db *db, long long event,
			    time_t occurrence);
/* Summaries sent for an occurrence (1 at the deadline, 2 after). */
int db_occurrence_summarized(struct db *db, long long event,
			     time_t occurrence, int *mask);
int db_occurrence_set_summarized(struct db *db, long long event,
				 time_t occurrence, int mask);

/* Everything held about address as one JSON object, appended. */
int db_person_export(struct db *db, const char *address, struct buf *json);
/* Erase address: memberships, consents, tokens, bounces, finished
 * deliveries, and its name and address wherever a row keeps them (held
 * posts, intake records, archive rows); then the person.  Counts in
 * event_log stay.  Rows touched, or -1 (nothing changed). */
long db_person_erase(struct db *db, const char *address);

#endif
