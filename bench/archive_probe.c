/*
 * archive_probe.c - the in-process timings of bench/archive: mlmd's
 * archive code called directly, without the daemon around it (not part of
 * the mlmd build: the driver compiles it with cc -O2 against BUILD_DIR's
 * libmlmd.a and the libraries BUILD_DIR/Makefile names).
 *
 *   archive_probe CONF LIST search QUERIES [REPEAT]
 *   archive_probe CONF LIST add FILE...
 *   archive_probe CONF LIST import MBOX
 *
 * CONF is an mlmd.conf; the database is HOME/mlmd.db as for mlmctl, and,
 * when CONF has `user` and we are root, the probe drops to that user
 * first (priv_prepare_home, priv_drop), as mlmctl does.
 *
 * search: every line of QUERIES is one query (FTS5 syntax, as typed into
 * `mlmctl search`); each is run once untimed (the cache warm, like a
 * server that has been up for a while), then REPEAT (1) times through
 * db_archive_search() with a page of 50 and the total count asked for
 * (what a search page shows), reading every hit (the callback touches
 * the row and the snippet).  Prints
 *   search N p50_ms P p99_ms P max_ms P hits H errors E
 * with the percentiles over the N = lines * REPEAT timed queries.
 *
 * add: each FILE is a new message (one RFC 5322 message, not an mbox).
 * Kept in HOME/store the daemon's way, untimed (spool_write, _commit,
 * _claim, _keep, _done: the intake and the dispatcher have done that
 * before a post reaches the archive), then timed:
 *   parse   msg_parse() of the file (the daemon parses once per post
 *           anyway; shown apart)
 *   index   db_begin(), post_archive_msg() (the archive row and its
 *           search text, FTS5 updated by the triggers), db_commit()
 *   render  archive_add(): the message's page, its month and the list's
 *           page
 * One line per file, "add K parse_ms P index_ms I render_ms R", then
 *   add N median_ms M max_ms X  (index + render)
 *
 * import: the fallback for a build without `mlmctl archive import`: the
 * messages of MBOX (mboxrd, ">From " unquoted), 1,000 at a time, are
 * kept in HOME/store as above (one spool_commit per 1,000), parsed and
 * indexed (post_archive_msg, one transaction per 1,000), then
 * archive_rebuild() writes every page.  Prints
 *   import N index_s I render_s R pages P
 *
 * Timings are CLOCK_MONOTONIC.  Errors go to stderr and exit 1.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "buf.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "msg.h"
#include "post.h"
#include "priv.h"
#include "spool.h"
#include "util.h"

#define SEARCH_LIMIT 50

static const struct conf *conf;
static const struct list_conf *list;
static struct db *db;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values (nearest rank). */
static double
quantile(const double *v, size_t n, double q)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

struct hits {
	long n;
	size_t bytes;
};

static int
hit(const struct arch_row *r, const char *snippet, void *arg)
{
	struct hits *h = arg;

	h->n++;
	h->bytes += strlen(r->subject) + (snippet ? strlen(snippet) : 0);
	return 0;
}

static int
do_search(const char *path, int repeat)
{
	struct buf file = BUF_INIT, err = BUF_INIT;
	struct hits h = { 0, 0 };
	struct arch_query aq;
	long total;
	char **q = NULL, *p, *nl;
	size_t nq = 0, cap = 0, i, n = 0;
	double *t;
	int r, pass, errors = 0;

	if (read_file(path, &file) < 0) {
		fprintf(stderr, "archive_probe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (p = file.s; p && *p; p = nl ? nl + 1 : NULL) {
		if ((nl = strchr(p, '\n')))
			*nl = '\0';
		if (*p == '\0')
			continue;
		q = xgrow(q, &cap, nq + 1, sizeof(*q));
		q[nq++] = p;
	}
	t = xcalloc(nq * (size_t)repeat + 1, sizeof(*t));
	memset(&aq, 0, sizeof(aq));
	aq.limit = SEARCH_LIMIT;
	for (pass = 0; pass <= repeat; pass++) {
		for (i = 0; i < nq; i++) {
			double t0 = now();

			aq.match = q[i];
			buf_reset(&err);
			r = db_archive_search(db, list->name, &aq, hit, &h,
			                      &total, &err);
			if (pass == 0) {
				if (r < 0) {
					errors++;
					fprintf(stderr, "archive_probe: query "
					        "'%s': %s\n", q[i],
					        r == -2 ? buf_str(&err) :
					        "database error");
				}
				continue;
			}
			t[n++] = (now() - t0) * 1e3;
		}
	}
	qsort(t, n, sizeof(*t), cmp_double);
	printf("search %zu p50_ms %.3f p99_ms %.3f max_ms %.3f hits %ld "
	       "errors %d\n",
	       n, quantile(t, n, 0.50), quantile(t, n, 0.99),
	       n ? t[n - 1] : 0.0, h.n / (repeat + 1), errors);
	free(t);
	free(q);
	buf_free(&err);
	buf_free(&file);
	return 0;
}

/*
 * Keep n messages in HOME/store the daemon's way: spool files written to
 * tmp/, made durable in one spool_commit(), claimed, hard-linked into
 * store/ (spool_keep, spool_sync_store) and done.  ids[i] gets each id.
 */
static int
store(struct spool *sp, char **data, size_t *len, size_t n,
      char (*ids)[SPOOL_ID_MAX])
{
	static char *rcpt[1];
	struct spool_env env;
	struct spool_tmp *t = xcalloc(n + 1, sizeof(*t));
	size_t i;
	int rc = -1;

	memset(&env, 0, sizeof(env));
	env.sender = "poster@example.net";
	rcpt[0] = (char *)list->name;
	env.rcpts = rcpt;
	env.n_rcpts = 1;
	env.received = time(NULL);
	snprintf(env.via, sizeof(env.via), "bench");
	for (i = 0; i < n; i++)
		if (spool_write(sp, &env, data[i], len[i], &t[i]) < 0) {
			while (i-- > 0)
				spool_discard(sp, &t[i]);
			goto out;
		}
	if (spool_commit(sp, t, n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(ids[i], SPOOL_ID_MAX, "%s", t[i].id);
		if (spool_claim(sp, t[i].id) != 0 ||
		    spool_keep(sp, t[i].id) < 0 || spool_done(sp, t[i].id) < 0)
			goto out;
	}
	rc = spool_sync_store(sp);
out:
	free(t);
	return rc;
}

/* Parse, index (in a transaction if own_tx) one stored message. */
static int
index_one(const char *rel, const char *data, size_t len, int own_tx,
          double *parse_s, double *index_s, char **mid)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;
	long long row;
	double t0 = now(), t1;
	int r;

	if (msg_parse(data, len, &msg_default_limits, &m, &err) < 0) {
		fprintf(stderr, "archive_probe: %s: %s\n", rel, buf_str(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	t1 = now();
	if (*m->message_id == '\0') {
		msg_free(m);
		return 1;
	}
	if (own_tx && db_begin(db) < 0)
		r = -1;
	else
		r = post_archive_msg(db, list, m, m->message_id, rel,
		                     m->date ? m->date : time(NULL), len, &row);
	if (own_tx && r >= 0 && db_commit(db) < 0)
		r = -1;
	if (parse_s)
		*parse_s = t1 - t0;
	if (index_s)
		*index_s = now() - t1;
	if (mid)
		*mid = strdup(m->message_id);
	msg_free(m);
	return r;
}

static int
do_add(struct spool *sp, char **files, int n)
{
	char id[1][SPOOL_ID_MAX], *dp;
	size_t dl;
	struct buf file = BUF_INIT, rel = BUF_INIT;
	double *t = xcalloc((size_t)n + 1, sizeof(*t));
	int i, done = 0;

	for (i = 0; i < n; i++) {
		double parse_s, index_s, t0;
		char *mid = NULL;
		int r;

		buf_reset(&file);
		buf_reset(&rel);
		if (read_file(files[i], &file) < 0) {
			fprintf(stderr, "archive_probe: %s: %s\n", files[i],
			        strerror(errno));
			return 1;
		}
		dp = file.s;
		dl = file.len;
		if (store(sp, &dp, &dl, 1, id) < 0)
			return 1;
		buf_printf(&rel, "store/%s", id[0]);
		r = index_one(buf_str(&rel), file.s, file.len, 1, &parse_s,
		              &index_s, &mid);
		if (r != 0) {
			fprintf(stderr, "archive_probe: %s: not added (%d)\n",
			        files[i], r);
			free(mid);
			continue;
		}
		t0 = now();
		if (archive_add(conf, db, list->name, mid) < 0) {
			fprintf(stderr, "archive_probe: %s: archive_add failed\n",
			        files[i]);
			free(mid);
			return 1;
		}
		t[done] = index_s + (now() - t0);
		printf("add %d parse_ms %.3f index_ms %.3f render_ms %.3f\n", i,
		       parse_s * 1e3, index_s * 1e3, (t[done] - index_s) * 1e3);
		done++;
		free(mid);
	}
	qsort(t, (size_t)done, sizeof(*t), cmp_double);
	printf("add %d median_ms %.3f max_ms %.3f\n", done,
	       done ? (done % 2 ? t[done / 2] :
	               (t[done / 2 - 1] + t[done / 2]) / 2) * 1e3 : 0.0,
	       done ? t[done - 1] * 1e3 : 0.0);
	free(t);
	buf_free(&file);
	buf_free(&rel);
	return 0;
}

/* The next message of an mboxrd buffer at *pos, unquoted into out. */
static int
next_mbox(const char *data, size_t len, size_t *pos, struct buf *out)
{
	size_t p = *pos, eol;

	buf_reset(out);
	if (p >= len)
		return 0;
	/* skip the "From " separator line */
	if (len - p >= 5 && memcmp(data + p, "From ", 5) == 0) {
		const char *e = memchr(data + p, '\n', len - p);

		p = e ? (size_t)(e - data) + 1 : len;
	}
	while (p < len) {
		const char *line = data + p, *e = memchr(line, '\n', len - p);
		size_t k = 0;

		eol = e ? (size_t)(e - data) + 1 : len;
		if (eol - p >= 5 && memcmp(line, "From ", 5) == 0 &&
		    (out->len == 0 || (out->len >= 2 &&
		     out->s[out->len - 1] == '\n' &&
		     out->s[out->len - 2] == '\n')))
			break;
		while (p + k < eol && line[k] == '>')
			k++;
		if (k > 0 && eol - p - k >= 5 &&
		    memcmp(line + k, "From ", 5) == 0)
			buf_add(out, line + 1, eol - p - 1);
		else
			buf_add(out, line, eol - p);
		p = eol;
	}
	/* the blank line before the next separator belongs to the mbox */
	if (out->len >= 2 && out->s[out->len - 1] == '\n' &&
	    out->s[out->len - 2] == '\n')
		out->len--;
	*pos = p;
	return 1;
}

#define IMPORT_BATCH 1000

static int
do_import(struct spool *sp, const char *path)
{
	struct buf file = BUF_INIT, rel = BUF_INIT;
	struct buf *m = xcalloc(IMPORT_BATCH, sizeof(*m));
	char *data[IMPORT_BATCH], (*ids)[SPOOL_ID_MAX];
	size_t len[IMPORT_BATCH], pos = 0, k, i;
	long n = 0, pages;
	double t0 = now(), t1;

	ids = xcalloc(IMPORT_BATCH, sizeof(*ids));
	if (read_file(path, &file) < 0) {
		fprintf(stderr, "archive_probe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		for (k = 0; k < IMPORT_BATCH; k++) {
			if (!next_mbox(file.s, file.len, &pos, &m[k]))
				break;
			data[k] = m[k].s;
			len[k] = m[k].len;
		}
		if (k == 0)
			break;
		if (store(sp, data, len, k, ids) < 0 || db_begin(db) < 0)
			return 1;
		for (i = 0; i < k; i++) {
			buf_reset(&rel);
			buf_printf(&rel, "store/%s", ids[i]);
			if (index_one(buf_str(&rel), data[i], len[i], 0, NULL,
			              NULL, NULL) < 0)
				fprintf(stderr, "archive_probe: message %ld not "
				        "indexed\n", n);
			n++;
		}
		if (db_commit(db) < 0)
			return 1;
	}
	t1 = now();
	pages = archive_rebuild(conf, db, list->name);
	printf("import %ld index_s %.3f render_s %.3f pages %ld\n", n,
	       t1 - t0, now() - t1, pages);
	for (k = 0; k < IMPORT_BATCH; k++)
		buf_free(&m[k]);
	free(m);
	free(ids);
	buf_free(&file);
	buf_free(&rel);
	return pages < 0;
}

int
main(int argc, char **argv)
{
	struct buf errors = BUF_INIT, path = BUF_INIT;
	struct spool *sp;
	struct conf *c;
	int rc;

	if (argc < 5) {
		fprintf(stderr, "usage: archive_probe CONF LIST search QUERIES "
		        "[REPEAT] | add FILE... | import MBOX\n");
		return 2;
	}
	log_open("archive_probe", 1, L_WARN);
	if (!(c = conf_load(argv[1], &errors))) {
		fprintf(stderr, "archive_probe: %s", buf_str(&errors));
		return 1;
	}
	conf = c;
	if (!(list = conf_list(c, argv[2]))) {
		fprintf(stderr, "archive_probe: no list %s\n", argv[2]);
		return 1;
	}
	if (c->user && getuid() == 0 &&
	    (priv_prepare_home(c) < 0 || priv_drop(c) < 0))
		return 1;
	if (!(sp = spool_open(c->home)))
		return 1;
	buf_printf(&path, "%s/mlmd.db", c->home);
	if (!(db = db_open(buf_str(&path))))
		return 1;
	if (strcmp(argv[3], "search") == 0)
		rc = do_search(argv[4],
		               argc > 5 ? (int)strtol(argv[5], NULL, 10) : 1);
	else if (strcmp(argv[3], "add") == 0)
		rc = do_add(sp, argv + 4, argc - 4);
	else if (strcmp(argv[3], "import") == 0)
		rc = do_import(sp, argv[4]);
	else {
		fprintf(stderr, "archive_probe: unknown command %s\n", argv[3]);
		rc = 2;
	}
	db_close(db);
	spool_close(sp);
	conf_free(c);
	buf_free(&errors);
	buf_free(&path);
	return rc;
}
