/*
 * spool.h - the durable intake queue under HOME/spool/ (layout in
 * spool/README).  The only code that creates, commits, claims, keeps and
 * quarantines spool files.
 *
 * Writers (LMTP sessions, mlmd-inject) call spool_write() for each message
 * and spool_commit() for a batch of them: one flush for the whole batch
 * (group commit), after which every file of the batch is durable in
 * incoming/ and may be acknowledged.  The dispatcher calls spool_claim(),
 * spool_load(), spool_keep() and spool_done().
 *
 * Functions return 0 / -1 (logged) unless documented otherwise.  Strings in
 * a struct spool_env are owned by it (spool_env_clear()).
 */
#ifndef MLMD_SPOOL_H
#define MLMD_SPOOL_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define SPOOL_ID_MAX     64   /* bytes of an id, NUL included */
#define SPOOL_MAX_RCPTS  1000 /* recipients per spool file */
#define SPOOL_ADDR_MAX   320  /* bytes of one envelope address */
#define SPOOL_END_MARKER "X-Mlmd-End\n"

struct spool;

struct spool_env {
	char *sender; /* envelope sender without <>, "" for the null sender */
	char **rcpts; /* envelope recipients without <> */
	size_t n_rcpts;
	time_t received;
	size_t size;  /* bytes of the message (LF line ends) */
	char via[16]; /* "lmtp", "inject", ... */
};
void spool_env_clear(struct spool_env *e);

/* A file written to tmp/ by spool_write(), not yet durable. */
struct spool_tmp {
	char id[SPOOL_ID_MAX];
	int fd;
};

/*
 * Open the spool of home: creates HOME/spool/{tmp,incoming,active,
 * quarantine} and HOME/store (mode 0750) as needed.  NULL on error.
 */
struct spool *spool_open(const char *home);
void spool_close(struct spool *sp);
/* HOME/spool/SUB (SUB: "tmp", "incoming", "active", "quarantine") or
 * HOME/store for "store"; borrowed. */
const char *spool_dir(const struct spool *sp, const char *sub);

/* A fresh unique id: time, counter, pid and random bits. */
void spool_new_id(struct spool *sp, char *out, size_t outsz);

/*
 * Write envelope + message (body, len bytes; CRLF already normalised to LF
 * by the caller) to tmp/ID.  env->size is ignored (taken from len; a final
 * LF is added if the message lacks one).  The file stays open in *t.
 */
int spool_write(struct spool *sp, const struct spool_env *env, const char *body,
                size_t len, struct spool_tmp *t);
/*
 * Make the n files durable in incoming/: flush (fdatasync when alone,
 * one syncfs() for a batch), close, rename, fsync incoming/.  On -1 none of
 * them may be acknowledged and all of them are removed.
 */
int spool_commit(struct spool *sp, struct spool_tmp *t, size_t n);
/* Drop an uncommitted file. */
void spool_discard(struct spool *sp, struct spool_tmp *t);

/*
 * Parse a spool file held in memory.  0 and *env, *body_off (the message
 * is data[*body_off .. *body_off + env->size]) if the file is whole; -1 and
 * one line in why if it is damaged (no end marker, wrong size, bad
 * envelope).
 */
int spool_parse(const char *data, size_t len, struct spool_env *env,
                size_t *body_off, struct buf *why);

/* Sorted ids of the files in SUB; *ids freed with spool_ids_free(). */
int spool_list(struct spool *sp, const char *sub, char ***ids, size_t *n);
void spool_ids_free(char **ids, size_t n);

/* rename incoming/ID -> active/ID.  0 claimed, 1 gone already, -1 error. */
int spool_claim(struct spool *sp, const char *id);
/*
 * Read active/ID into file (the whole spool file) and parse it.  0 ok;
 * 1 damaged: moved to quarantine/ and logged; -1 I/O error.
 */
int spool_load(struct spool *sp, const char *id, struct buf *file,
               struct spool_env *env, size_t *body_off);
/* Move active/ID (or SUB/ID) to quarantine/ID. */
int spool_quarantine(struct spool *sp, const char *sub, const char *id,
                     const char *why);
/* Keep active/ID as HOME/store/ID (a hard link: the data is durable
 * already); spool_sync_store() makes a batch of links durable. */
int spool_keep(struct spool *sp, const char *id);
int spool_sync_store(struct spool *sp);
/* The file is processed: unlink active/ID. */
int spool_done(struct spool *sp, const char *id);
/*
 * Start-up: remove stale tmp/ files, hand active/ files back to incoming/
 * (the dispatcher's bookkeeping keeps them from being processed twice).
 * Returns the number of files handed back, or -1.
 */
int spool_recover(struct spool *sp);

#endif
