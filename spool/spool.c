/*
 * spool.c - the durable intake queue (layout: spool/README).
 *
 * Owns HOME/spool/{tmp,incoming,active,quarantine} and the links in
 * HOME/store.  Invariants:
 *  - a file in incoming/ or active/ is durable (data flushed, its directory
 *    entry fsynced) and complete; only then is its sender told "250" or
 *    mlmd-inject exits 0;
 *  - a file moves between folders only by rename(), so a crash leaves it
 *    in exactly one of them (or, between link and unlink, in two with the
 *    same inode, which recovery resolves);
 *  - a file whose end marker or size is wrong is never processed: it goes
 *    to quarantine/.
 *
 * Called by the LMTP sessions (lmtp_server.c), mlmd-inject (inject.c) and
 * the dispatcher (daemon.c).  Group commit: spool_commit() flushes a whole
 * batch with one syncfs() and one fsync of incoming/.
 *
 * Errors are returned (and logged with the path); nothing here is fatal.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "util.h"

#define SPOOL_MAGIC   "X-Mlmd-Spool: 1\n"
#define SPOOL_HDR_MAX (SPOOL_MAX_RCPTS * (SPOOL_ADDR_MAX + 16) + 4096)

enum { D_TMP, D_INCOMING, D_ACTIVE, D_QUARANTINE, D_STORE, D_N };
static const char *const dir_names[D_N] = {"tmp", "incoming", "active",
                                           "quarantine", "store"};

struct spool {
	char *dirs[D_N];
	unsigned long counter; /* ids made by this process */
	pid_t pid;
};

static int
dir_index(const char *sub)
{
	int i;

	for (i = 0; i < D_N; i++)
		if (strcmp(sub, dir_names[i]) == 0)
			return i;
	return -1;
}

const char *
spool_dir(const struct spool *sp, const char *sub)
{
	int i = dir_index(sub);

	return i < 0 ? NULL : sp->dirs[i];
}

struct spool *
spool_open(const char *home)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < D_N; i++) {
		buf_reset(&b);
		if (i == D_STORE)
			buf_printf(&b, "%s/store", home);
		else
			buf_printf(&b, "%s/spool/%s", home, dir_names[i]);
		sp->dirs[i] = xstrdup(buf_str(&b));
		if (mkdir_p(sp->dirs[i], 0750) < 0) {
			error("spool: cannot create %s: %s", sp->dirs[i],
			      strerror(errno));
			buf_free(&b);
			spool_close(sp);
			return NULL;
		}
	}
	buf_free(&b);
	sp->pid = getpid();
	return sp;
}

void
spool_close(struct spool *sp)
{
	int i;

	if (!sp)
		return;
	for (i = 0; i < D_N; i++)
		free(sp->dirs[i]);
	free(sp);
}

void
spool_env_clear(struct spool_env *e)
{
	size_t i;

	free(e->sender);
	for (i = 0; i < e->n_rcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	memset(e, 0, sizeof(*e));
}

void
spool_new_id(struct spool *sp, char *out, size_t outsz)
{
	struct timespec ts;
	uint32_t rnd = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)ts.tv_nsec ^
		      (uint32_t)(sp->counter * 2654435761u);
	/* Time first so that ids sort roughly by arrival. */
	snprintf(out, outsz, "%010lld.%06ld.%lu.%ld.%08" PRIx32,
	         (long long)ts.tv_sec, ts.tv_nsec / 1000, ++sp->counter,
	         (long)sp->pid, rnd);
}

static void
path_of(const struct spool *sp, int dir, const char *id, char *out,
        size_t outsz)
{
	snprintf(out, outsz, "%s/%s", sp->dirs[dir], id);
}

/* An envelope address must fit on its header line. */
static int
addr_ok(const char *a)
{
	size_t n = strlen(a);

	if (n > SPOOL_ADDR_MAX)
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a < 0x20 || *a == 0x7f || *a == '<' ||
		    *a == '>')
			return 0;
	return 1;
}

int
spool_write(struct spool *sp, const struct spool_env *env, const char *body,
            size_t len, struct spool_tmp *t)
{
	struct buf hdr = BUF_INIT;
	char path[4096];
	int add_lf = len == 0 || body[len - 1] != '\n';
	size_t i;

	t->fd = -1;
	if (!addr_ok(env->sender ? env->sender : ""))
		return error("spool: bad sender address");
	if (env->n_rcpts == 0 || env->n_rcpts > SPOOL_MAX_RCPTS)
		return error("spool: %zu recipients", env->n_rcpts);
	buf_init(&hdr, SPOOL_HDR_MAX);
	buf_adds(&hdr, SPOOL_MAGIC);
	buf_printf(&hdr, "Sender: <%s>\n", env->sender ? env->sender : "");
	for (i = 0; i < env->n_rcpts; i++) {
		if (!addr_ok(env->rcpts[i])) {
			buf_free(&hdr);
			return error("spool: bad recipient address");
		}
		buf_printf(&hdr, "Recipient: <%s>\n", env->rcpts[i]);
	}
	buf_printf(&hdr, "Received: %lld\nSize: %zu\nVia: %s\n\n",
	           (long long)env->received, len + (size_t)add_lf,
	           env->via[0] ? env->via : "unknown");

	spool_new_id(sp, t->id, sizeof(t->id));
	path_of(sp, D_TMP, t->id, path, sizeof(path));
	t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (t->fd < 0) {
		buf_free(&hdr);
		return error("spool: cannot create %s: %s", path,
		             strerror(errno));
	}
	if (write_all(t->fd, hdr.s, hdr.len) < 0 ||
	    write_all(t->fd, body, len) < 0 ||
	    (add_lf && write_all(t->fd, "\n", 1) < 0) ||
	    write_all(t->fd, SPOOL_END_MARKER, strlen(SPOOL_END_MARKER)) < 0) {
		error("spool: cannot write %s: %s", path, strerror(errno));
		buf_free(&hdr);
		spool_discard(sp, t);
		return -1;
	}
	buf_free(&hdr);
	return 0;
}

void
spool_discard(struct spool *sp, struct spool_tmp *t)
{
	char path[4096];

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (!t->id[0])
		return;
	path_of(sp, D_TMP, t->id, path, sizeof(path));
	unlink(path);
}

int
spool_commit(struct spool *sp, struct spool_tmp *t, size_t n)
{
	char from[4096], to[4096];
	size_t i, renamed = 0;
	int rc = 0;

	if (n == 0)
		return 0;
		/*
		 * One flush for the batch: alone, fdatasync() of the file is
		 * the cheapest; for several, one syncfs() writes them all in
		 * one journal commit instead of one each.
		 */
#ifdef HAVE_SYNCFS
	if (n > 1) {
		if (syncfs(t[0].fd) < 0)
			rc = error("spool: syncfs: %s", strerror(errno));
	} else
#endif
	{
		for (i = 0; i < n && rc == 0; i++)
			if (fdatasync(t[i].fd) < 0)
				rc = error("spool: fdatasync: %s",
				           strerror(errno));
	}
	for (i = 0; i < n; i++) {
		/* close() can report a delayed write error (NFS). */
		if (t[i].fd >= 0 && close(t[i].fd) < 0 && rc == 0)
			rc = error("spool: close: %s", strerror(errno));
		t[i].fd = -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		path_of(sp, D_TMP, t[i].id, from, sizeof(from));
		path_of(sp, D_INCOMING, t[i].id, to, sizeof(to));
		if (rename(from, to) < 0)
			rc = error("spool: rename %s: %s", from,
			           strerror(errno));
		else
			renamed++;
	}
	if (rc == 0 && fsync_dir(sp->dirs[D_INCOMING]) < 0)
		rc = error("spool: fsync %s: %s", sp->dirs[D_INCOMING],
		           strerror(errno));
	if (rc < 0) {
		/*
		 * The senders get 4xx and will retry; take back what was
		 * renamed so that it is not delivered as well (best effort:
		 * a crash here can at worst deliver a message twice, never
		 * lose one).
		 */
		for (i = 0; i < n; i++) {
			int dir = i < renamed ? D_INCOMING : D_TMP;

			path_of(sp, dir, t[i].id, to, sizeof(to));
			unlink(to);
		}
	}
	return rc;
}

/* Parse "<addr>" into a fresh string; NULL if malformed. */
static char *
parse_angle(const char *v, size_t n)
{
	if (n < 2 || v[0] != '<' || v[n - 1] != '>' || n - 2 > SPOOL_ADDR_MAX)
		return NULL;
	if (memchr(v + 1, '<', n - 2) || memchr(v + 1, '>', n - 2))
		return NULL;
	return xstrndup(v + 1, n - 2);
}

static int
parse_num(const char *v, size_t n, unsigned long long *out)
{
	unsigned long long x = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	*out = x;
	return 0;
}

static int
damaged(struct spool_env *env, struct buf *why, const char *what)
{
	spool_env_clear(env);
	buf_reset(why);
	buf_adds(why, what);
	return -1;
}

int
spool_parse(const char *data, size_t len, struct spool_env *env,
            size_t *body_off, struct buf *why)
{
	size_t pos, mlen = strlen(SPOOL_END_MARKER), rcap = 0;
	unsigned long long num;
	int have_size = 0, have_sender = 0;

	memset(env, 0, sizeof(*env));
	if (len < strlen(SPOOL_MAGIC) ||
	    memcmp(data, SPOOL_MAGIC, strlen(SPOOL_MAGIC)) != 0)
		return damaged(env, why, "not a spool file (no X-Mlmd-Spool)");
	pos = strlen(SPOOL_MAGIC);
	for (;;) {
		const char *line = data + pos, *nl, *colon, *v;
		size_t ll, vn;

		if (pos >= len || pos > SPOOL_HDR_MAX)
			return damaged(env, why, "envelope not terminated");
		nl = memchr(line, '\n', len - pos);
		if (!nl)
			return damaged(env, why, "envelope not terminated");
		ll = (size_t)(nl - line);
		pos += ll + 1;
		if (ll == 0)
			break;
		colon = memchr(line, ':', ll);
		if (!colon || colon + 1 >= nl || colon[1] != ' ')
			return damaged(env, why, "malformed envelope line");
		v = colon + 2;
		vn = (size_t)(nl - v);
#define IS(name)                                                               \
	((size_t)(colon - line) == strlen(name) &&                             \
	 memcmp(line, name, strlen(name)) == 0)
		if (IS("Sender")) {
			if (have_sender || !(env->sender = parse_angle(v, vn)))
				return damaged(env, why, "bad Sender");
			have_sender = 1;
		} else if (IS("Recipient")) {
			char *r = parse_angle(v, vn);

			if (!r || !*r || env->n_rcpts >= SPOOL_MAX_RCPTS) {
				free(r);
				return damaged(env, why, "bad Recipient");
			}
			env->rcpts = xgrow(env->rcpts, &rcap, env->n_rcpts + 1,
			                   sizeof(char *));
			env->rcpts[env->n_rcpts++] = r;
		} else if (IS("Received")) {
			if (parse_num(v, vn, &num) < 0)
				return damaged(env, why, "bad Received");
			env->received = (time_t)num;
		} else if (IS("Size")) {
			if (have_size || parse_num(v, vn, &num) < 0)
				return damaged(env, why, "bad Size");
			env->size = (size_t)num;
			have_size = 1;
		} else if (IS("Via")) {
			if (vn == 0 || vn >= sizeof(env->via))
				return damaged(env, why, "bad Via");
			memcpy(env->via, v, vn);
			env->via[vn] = '\0';
		}
		/* Unknown fields are skipped: later versions may add some. */
#undef IS
	}
	if (!have_sender || !have_size || env->n_rcpts == 0)
		return damaged(env, why,
		               "envelope lacks Sender, Recipient "
		               "or Size");
	if (len < mlen ||
	    memcmp(data + len - mlen, SPOOL_END_MARKER, mlen) != 0)
		return damaged(env, why, "no end marker (truncated file)");
	if (len - pos - mlen != env->size)
		return damaged(env, why, "size does not match Size:");
	*body_off = pos;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
spool_list(struct spool *sp, const char *sub, char ***ids, size_t *n)
{
	int d = dir_index(sub);
	size_t cap = 0;
	struct dirent *e;
	DIR *dir;

	*ids = NULL;
	*n = 0;
	if (d < 0)
		return error("spool: no folder %s", sub);
	dir = opendir(sp->dirs[d]);
	if (!dir)
		return error("spool: cannot read %s: %s", sp->dirs[d],
		             strerror(errno));
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= SPOOL_ID_MAX)
			continue;
		*ids = xgrow(*ids, &cap, *n + 1, sizeof(char *));
		(*ids)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(dir);
	if (*n)
		qsort(*ids, *n, sizeof(char *), by_name);
	return 0;
}

void
spool_ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Ids come from directory listings; refuse anything that is a path. */
static int
id_ok(const char *id)
{
	return id[0] && id[0] != '.' && !strchr(id, '/') &&
	       strlen(id) < SPOOL_ID_MAX;
}

static int
move(struct spool *sp, int from, int to, const char *id)
{
	char a[4096], b[4096];

	if (!id_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	path_of(sp, from, id, a, sizeof(a));
	path_of(sp, to, id, b, sizeof(b));
	return rename(a, b);
}

int
spool_claim(struct spool *sp, const char *id)
{
	if (move(sp, D_INCOMING, D_ACTIVE, id) < 0) {
		if (errno == ENOENT)
			return 1;
		return error("spool: cannot claim %s: %s", id, strerror(errno));
	}
	/*
	 * No fsync of active/ here: if the rename is lost in a crash the
	 * file is back in incoming/ and is claimed again; the dispatcher's
	 * bookkeeping (db_inbound_done) prevents a second processing.
	 */
	return 0;
}

int
spool_quarantine(struct spool *sp, const char *sub, const char *id,
                 const char *why)
{
	int d = dir_index(sub);

	if (d < 0 || move(sp, d, D_QUARANTINE, id) < 0)
		return error("spool: cannot quarantine %s/%s: %s", sub, id,
		             strerror(errno));
	fsync_dir(sp->dirs[D_QUARANTINE]);
	log_warn("%s: quarantined: %s", id, why);
	return 0;
}

int
spool_load(struct spool *sp, const char *id, struct buf *file,
           struct spool_env *env, size_t *body_off)
{
	struct buf why = BUF_INIT;
	char path[4096];

	if (!id_ok(id))
		return error("spool: bad id");
	path_of(sp, D_ACTIVE, id, path, sizeof(path));
	if (read_file(path, file) < 0) {
		if (errno == EFBIG) {
			spool_quarantine(sp, "active", id, "file too large");
			return 1;
		}
		return error("spool: cannot read %s: %s", path,
		             strerror(errno));
	}
	if (spool_parse(file->s, file->len, env, body_off, &why) < 0) {
		spool_quarantine(sp, "active", id, buf_str(&why));
		buf_free(&why);
		return 1;
	}
	buf_free(&why);
	return 0;
}

int
spool_keep(struct spool *sp, const char *id)
{
	char a[4096], b[4096];

	if (!id_ok(id))
		return error("spool: bad id");
	path_of(sp, D_ACTIVE, id, a, sizeof(a));
	path_of(sp, D_STORE, id, b, sizeof(b));
	if (link(a, b) < 0 && errno != EEXIST)
		return error("spool: cannot keep %s in %s: %s", id,
		             sp->dirs[D_STORE], strerror(errno));
	return 0;
}

int
spool_sync_store(struct spool *sp)
{
	if (fsync_dir(sp->dirs[D_STORE]) < 0)
		return error("spool: fsync %s: %s", sp->dirs[D_STORE],
		             strerror(errno));
	return 0;
}

int
spool_done(struct spool *sp, const char *id)
{
	char path[4096];

	if (!id_ok(id))
		return error("spool: bad id");
	path_of(sp, D_ACTIVE, id, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return error("spool: cannot remove %s: %s", path,
		             strerror(errno));
	return 0;
}

/*
 * A tmp/ file is stale when the process that wrote it (the pid in its id)
 * is gone, or it is a day old: an mlmd-inject may be writing while the
 * daemon starts, and its file must not vanish under it.
 */
static int
tmp_stale(const char *id, const char *path)
{
	const char *p = id;
	struct stat st;
	long pid = 0;
	int dots = 0;

	for (; *p && dots < 3; p++)
		if (*p == '.')
			dots++;
	for (; *p >= '0' && *p <= '9' && pid < 1000000000L; p++)
		pid = pid * 10 + (*p - '0');
	if (*p != '.' || pid <= 0 || pid == (long)getpid())
		return 1;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 1;
	return stat(path, &st) == 0 && st.st_mtime < time(NULL) - 86400;
}

int
spool_recover(struct spool *sp)
{
	char path[4096];
	char **ids;
	size_t n, i;
	int back = 0;

	if (spool_list(sp, "tmp", &ids, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		/* Never acknowledged: the sender still has it. */
		path_of(sp, D_TMP, ids[i], path, sizeof(path));
		if (tmp_stale(ids[i], path) && unlink(path) == 0)
			log_info("%s: removed unfinished spool file", ids[i]);
	}
	spool_ids_free(ids, n);
	if (spool_list(sp, "active", &ids, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (move(sp, D_ACTIVE, D_INCOMING, ids[i]) < 0) {
			error("spool: cannot requeue %s: %s", ids[i],
			      strerror(errno));
			continue;
		}
		back++;
	}
	spool_ids_free(ids, n);
	if (back && fsync_dir(sp->dirs[D_INCOMING]) < 0)
		return error("spool: fsync %s: %s", sp->dirs[D_INCOMING],
		             strerror(errno));
	return back;
}
