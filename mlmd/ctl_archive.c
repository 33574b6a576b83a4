/*
 * ctl_archive.c - `mlmctl archive rebuild [LIST]`: write the static
 * archive pages of LIST (or of every list with archive = public) again
 * from the store (archive.h); `mlmctl archive import LIST FILE`: bring
 * an mbox file (mboxo, mboxrd, a Mailman 2 pipermail export; mbox.h)
 * into LIST's archive; `mlmctl search LIST QUERY`.
 *
 * Import invariants: a message is in the store (HOME/store/ID, the spool
 * file format, written through spool_write() and fsynced) before the
 * transaction that records it commits, so the archive never refers to a
 * missing file; batches of IMPORT_BATCH messages share one flush and one
 * transaction.  Importing is idempotent: a (list, Message-ID) already in
 * the archive is skipped, and a message without a Message-ID gets one
 * derived from its bytes.  A message msg_parse() refuses is counted and
 * reported with its byte offset, never fatal.  A crash leaves at worst
 * store files that no row refers to (never the reverse).
 *
 * Returns sysexits codes: 0, EX_USAGE, EX_NOUSER (no such list),
 * EX_NOINPUT (the file cannot be read), EX_DATAERR (not an mbox),
 * EX_UNAVAILABLE / EX_TEMPFAIL (database, disk).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archive.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "mbox.h"
#include "msg.h"
#include "post.h"
#include "spool.h"
#include "util.h"

static int
hit(const struct arch_row *r, const char *snippet, void *arg)
{
	struct buf line = BUF_INIT;
	char when[32];
	struct tm tm;
	int *n = arg;

	gmtime_r(&r->date, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	ctl_safe(&line, r->subject, 70);
	printf("%s  %-28.28s  %s\n", when, r->from_addr, buf_str(&line));
	buf_reset(&line);
	ctl_safe(&line, snippet, 120);
	printf("            %s\n", buf_str(&line));
	buf_free(&line);
	(*n)++;
	return 0;
}

int
ctl_search(struct ctl *ctl, int argc, char **argv)
{
	struct buf err = BUF_INIT;
	struct db *db;
	int n = 0, r;

	if (argc != 3) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE search LIST "
		                "QUERY\n");
		return EX_USAGE;
	}
	if (!conf_list(ctl->conf, argv[1])) {
		fprintf(stderr, "mlmctl: search: no list '%s' in %s\n", argv[1],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	{
		struct arch_query q;
		struct buf match = BUF_INIT;

		memset(&q, 0, sizeof(q));
		if (archive_query_parse(argv[2], &q, &match, &err) < 0) {
			r = -2;
		} else {
			q.limit = 50;
			r = db_archive_search(db, argv[1], &q, hit, &n, NULL,
			                      &err);
		}
		buf_free(&match);
	}
	if (r == -2) {
		fprintf(stderr, "mlmctl: search: the query cannot be read: %s "
		                "(use words, \"a phrase\", from:NAME, "
		                "subject:WORD, after:YYYY-MM-DD, "
		                "before:YYYY-MM-DD, OR, NOT)\n",
		        buf_str(&err));
		buf_free(&err);
		return EX_DATAERR;
	}
	buf_free(&err);
	if (r < 0)
		return EX_TEMPFAIL;
	if (n == 0)
		printf("no message of %s matches\n", argv[1]);
	return ctl_flush_stdout();
}

/* ----- archive import ---------------------------------------------------- */

#define IMPORT_BATCH 500 /* messages per transaction and per flush */

struct import {
	const struct list_conf *l;
	const char *file;
	struct db *db;
	struct spool *sp;
	struct mbox_reader *r;
	struct spool_tmp tmp[IMPORT_BATCH]; /* this batch's new files */
	size_t n_tmp;
	size_t n_batch;                   /* messages looked at in it */
	long imported, there, unreadable; /* committed / seen */
	long batch_imported;
	int tty; /* stderr is a terminal */
	struct timespec start, shown;
};

static int
found(const struct arch_row *r, void *arg)
{
	return 0;
}

/* A From_ line's address is fit for the envelope (spool.c's rule). */
static int
env_addr_ok(const char *a)
{
	for (; *a; a++)
		if ((unsigned char)*a < 0x20 || *a == 0x7f || *a == '<' ||
		    *a == '>' || *a == ' ')
			return 0;
	return 1;
}

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* "\r 42%  1234 messages  5678/s" on a terminal, at most 5 times a
 * second; last: the final state and a line end. */
static void
progress(struct import *im, int last)
{
	struct timespec now;
	off_t done, total;
	long n = im->imported + im->batch_imported + im->there + im->unreadable;
	double t;

	if (!im->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && since(&im->shown, &now) < 0.2)
		return;
	im->shown = now;
	mbox_progress(im->r, &done, &total);
	t = since(&im->start, &now);
	fprintf(stderr, "\r%s: %3d%%  %ld messages  %.0f/s\033[K%s",
	        im->l->name, total ? (int)(done * 100 / total) : 100, n,
	        t > 0 ? (double)n / t : 0.0, last ? "\n" : "");
}

/* Clear the progress line before another line goes to stderr. */
static void
progress_clear(const struct import *im)
{
	if (im->tty)
		fputs("\r\033[K", stderr);
}

/* Drop the batch's files, still open in spool/tmp/. */
static void
batch_drop(struct import *im)
{
	size_t i;

	for (i = 0; i < im->n_tmp; i++)
		spool_discard(im->sp, &im->tmp[i]);
	im->n_tmp = 0;
}

/*
 * End the batch: flush its files, move them from spool/tmp/ to store/,
 * fsync store/, then commit the rows that name them.  0 / -1 (reported;
 * the batch's files are removed and its rows rolled back).
 *
 * XXX spool.h has no call that writes a file straight into store/
 * (spool_keep() links from active/, which the dispatcher owns), so the
 * file is written with spool_write() and renamed here from tmp/: a
 * crash before the rename leaves a tmp/ file with a dead pid, which
 * spool_recover() removes.
 */
static int
batch_end(struct import *im)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	const char *why = NULL;
	size_t i, moved = 0;
	int rc = 0;

	if (!db_in_transaction(im->db))
		return 0;
#ifdef HAVE_SYNCFS
	if (im->n_tmp > 1) {
		if (syncfs(im->tmp[0].fd) < 0)
			why = "syncfs";
	} else
#endif
	{
		for (i = 0; i < im->n_tmp && !why; i++)
			if (fdatasync(im->tmp[i].fd) < 0)
				why = "fdatasync";
	}
	for (i = 0; i < im->n_tmp; i++) {
		if (close(im->tmp[i].fd) < 0 && !why)
			why = "close";
		im->tmp[i].fd = -1;
	}
	for (i = 0; i < im->n_tmp && !why; i++) {
		buf_reset(&from);
		buf_reset(&to);
		buf_printf(&from, "%s/%s", spool_dir(im->sp, "tmp"),
		           im->tmp[i].id);
		buf_printf(&to, "%s/%s", spool_dir(im->sp, "store"),
		           im->tmp[i].id);
		if (rename(buf_str(&from), buf_str(&to)) < 0)
			why = "rename";
		else
			moved++;
	}
	if (!why && im->n_tmp > 0 && spool_sync_store(im->sp) < 0)
		why = "fsync store";
	if (why) {
		progress_clear(im);
		fprintf(stderr, "mlmctl: archive import: cannot store the "
		                "messages (%s: %s); nothing of this batch is "
		                "recorded\n",
		        why, strerror(errno));
		db_rollback(im->db);
		rc = -1;
	} else if (db_commit(im->db) < 0) {
		progress_clear(im);
		fprintf(stderr, "mlmctl: archive import: the database refused "
		                "the batch (see above)\n");
		rc = -1;
	}
	if (rc < 0) {
		/* the moved ones are in store/, the rest still in tmp/ */
		for (i = 0; i < im->n_tmp; i++) {
			if (i >= moved) {
				spool_discard(im->sp, &im->tmp[i]);
				continue;
			}
			buf_reset(&to);
			buf_printf(&to, "%s/%s", spool_dir(im->sp, "store"),
			           im->tmp[i].id);
			unlink(buf_str(&to));
		}
	} else {
		im->imported += im->batch_imported;
	}
	im->batch_imported = 0;
	im->n_tmp = 0;
	im->n_batch = 0;
	buf_free(&from);
	buf_free(&to);
	return rc;
}

/* Archive one message of the file.  0 (imported, there already or
 * unreadable: counted), -1 on a store or database error. */
static int
import_one(struct import *im, const char *raw, size_t len,
           const struct mbox_info *info)
{
	struct buf err = BUF_INIT, with_id = BUF_INIT, store = BUF_INIT;
	struct spool_env env;
	struct spool_tmp *t = &im->tmp[im->n_tmp];
	char *rcpt = im->l->address;
	struct msg *m = NULL;
	char mid[64];
	const char *id, *data = raw;
	long long row = 0;
	time_t received;
	int rc;

	if (info->too_big ||
	    msg_parse(raw, len, &msg_default_limits, &m, &err) < 0 ||
	    m->n_headers == 0) {
		progress_clear(im);
		fprintf(stderr, "mlmctl: archive import: %s: the message at "
		                "byte %lld cannot be read: %s\n",
		        im->file, (long long)info->offset,
		        info->too_big ? "too big"
		        : m           ? "no header"
		                      : buf_str(&err));
		im->unreadable++;
		msg_free(m);
		buf_free(&err);
		return 0;
	}
	buf_free(&err);
	if (!db_in_transaction(im->db) && db_begin(im->db) < 0) {
		msg_free(m);
		return -1;
	}
	im->n_batch++;
	id = m->message_id;
	if (!*id) {
		/* stable: the same bytes get the same id on every import */
		unsigned char h[8];
		size_t i;

		crypto_generichash(h, sizeof(h), (const unsigned char *)raw,
		                   len, NULL, 0);
		memcpy(mid, "imported-", 9);
		for (i = 0; i < sizeof(h); i++)
			snprintf(mid + 9 + 2 * i, 3, "%02x", h[i]);
		strlcpy_(mid + 25, "@mlmd.invalid", sizeof(mid) - 25);
		id = mid;
		/* like post.c: the stored copy carries the id it is known by */
		buf_init(&with_id, 0);
		buf_printf(&with_id, "Message-ID: <%s>\n", id);
		if (buf_add(&with_id, raw, len) < 0) {
			buf_free(&with_id);
			msg_free(m);
			return -1;
		}
		data = with_id.s;
		len = with_id.len;
	}
	rc = db_archive_get(im->db, im->l->name, id, found, NULL);
	if (rc <= 0) {
		if (rc == 0)
			im->there++;
		buf_free(&with_id);
		msg_free(m);
		return rc;
	}
	received = info->date ? info->date : m->date ? m->date : time(NULL);
	/* An archive orders by Date:; one without gets the From_ line's. */
	if (m->date == 0)
		m->date = received;
	memset(&env, 0, sizeof(env));
	env.sender =
	    env_addr_ok(info->sender) ? (char *)info->sender : (char *)"";
	env.rcpts = &rcpt;
	env.n_rcpts = 1;
	env.received = received;
	strlcpy_(env.via, "import", sizeof(env.via));
	if (spool_write(im->sp, &env, data, len, t) < 0) {
		buf_free(&with_id);
		msg_free(m);
		return -1;
	}
	buf_printf(&store, "store/%s", t->id);
	rc = post_archive_msg(im->db, im->l, m, id, buf_str(&store), received,
	                      len + (len == 0 || data[len - 1] != '\n'), &row);
	if (rc == 0) {
		im->n_tmp++;
		im->batch_imported++;
	} else {
		/* 1: there already, hidden (X-No-Archive, erased) */
		spool_discard(im->sp, t);
		if (rc == 1)
			im->there++;
	}
	buf_free(&store);
	buf_free(&with_id);
	msg_free(m);
	return rc < 0 ? -1 : 0;
}

static int
archive_import(struct ctl *ctl, int argc, char **argv)
{
	const struct conf *c = ctl->conf;
	struct buf err = BUF_INIT, raw;
	struct mbox_info info;
	struct import *im;
	int rc = 0, ex = EX_OK;
	long pages;

	if (argc != 4) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE archive import "
		                "LIST FILE.mbox\n");
		return EX_USAGE;
	}
	im = xcalloc(1, sizeof(*im));
	im->file = argv[3];
	if (!(im->l = conf_list(c, argv[2]))) {
		fprintf(stderr, "mlmctl: archive: no list '%s' in %s\n", argv[2],
		        ctl->conf_path);
		free(im);
		return EX_NOUSER;
	}
	/* Opened before ctl_db() drops to the daemon's user: root may
	 * import a file that only root can read. */
	if (!(im->r = mbox_open(argv[3], &err))) {
		fprintf(stderr, "mlmctl: archive import: %s\n", buf_str(&err));
		buf_free(&err);
		free(im);
		return EX_NOINPUT;
	}
	if (!(im->db = ctl_db(ctl))) {
		mbox_close(im->r);
		free(im);
		return EX_UNAVAILABLE;
	}
	if (!(im->sp = spool_open(c->home))) {
		mbox_close(im->r);
		free(im);
		return EX_TEMPFAIL;
	}
	im->tty = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &im->start);
	buf_init(&raw, msg_default_limits.max_size);
	while ((rc = mbox_next(im->r, &raw, &info)) == 1) {
		if (import_one(im, raw.s ? raw.s : "", raw.len, &info) < 0 ||
		    (im->n_batch >= IMPORT_BATCH && batch_end(im) < 0)) {
			rc = -2;
			break;
		}
		progress(im, 0);
	}
	if (rc == -2) {
		batch_drop(im);
		db_rollback(im->db);
		ex = EX_TEMPFAIL;
	} else if (batch_end(im) < 0) {
		ex = EX_TEMPFAIL;
	}
	progress(im, 1);
	if (rc == -1) {
		fprintf(stderr, "mlmctl: archive import: %s: %s\n", argv[3],
		        mbox_error(im->r));
		ex = EX_DATAERR;
	}
	printf("%s: %ld imported, %ld already there, %ld unreadable\n",
	       im->l->name, im->imported, im->there, im->unreadable);
	fflush(stdout); /* before the rebuild, which may take a while */
	if (im->l->archive != ARCH_PUBLIC) {
		printf("%s: archive = %s, no pages to write\n", im->l->name,
		       conf_archive_name(im->l->archive));
	} else if (im->imported > 0 || ex == EX_OK) {
		pages = archive_rebuild(c, im->db, im->l->name);
		if (pages < 0) {
			fprintf(stderr, "mlmctl: archive: %s: some pages could "
			                "not be written (see the log)\n",
			        im->l->name);
			if (ex == EX_OK)
				ex = EX_TEMPFAIL;
		} else {
			printf("%s: %ld pages written\n", im->l->name, pages);
		}
	}
	buf_free(&raw);
	mbox_close(im->r);
	spool_close(im->sp);
	free(im);
	return ex != EX_OK ? ex : ctl_flush_stdout();
}

int
ctl_archive(struct ctl *ctl, int argc, char **argv)
{
	const struct conf *c = ctl->conf;
	struct db *db;
	size_t i;
	int ex = EX_OK;

	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return archive_import(ctl, argc, argv);
	if ((argc != 2 && argc != 3) || strcmp(argv[1], "rebuild") != 0) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE archive rebuild "
		                "[LIST] | archive import LIST FILE.mbox\n");
		return EX_USAGE;
	}
	if (argc == 3 && !conf_list(c, argv[2])) {
		fprintf(stderr, "mlmctl: archive: no list '%s' in %s\n", argv[2],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];
		long n;

		if (argc == 3 && strcmp(l->name, argv[2]) != 0)
			continue;
		if (l->archive != ARCH_PUBLIC) {
			if (argc == 3)
				printf("%s: archive = %s, nothing to write\n",
				       l->name, conf_archive_name(l->archive));
			continue;
		}
		n = archive_rebuild(c, db, l->name);
		if (n < 0) {
			fprintf(stderr, "mlmctl: archive: %s: some pages could "
			                "not be written (see the log)\n",
			        l->name);
			ex = EX_TEMPFAIL;
			continue;
		}
		printf("%s: %ld pages written\n", l->name, n);
	}
	return ex != EX_OK ? ex : ctl_flush_stdout();
}
