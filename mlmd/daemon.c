/*
 * daemon.c - the mlmd daemon's life: start-up (home, listeners, privilege
 * drop, spool, database, recovery), the dispatcher, reload on SIGHUP and
 * orderly shutdown on SIGTERM/SIGINT.
 *
 * The dispatcher takes durable spool files from spool/incoming (it learns
 * of them at once through inotify, and rescans after every batch), claims
 * each by rename into spool/active, parses it once (msg_parse), keeps the
 * file under HOME/store (hard link, fsynced once per batch, before any
 * transaction refers to it), and records it in ONE SQLite transaction: one
 * `inbound` row per recipient.  Invariants:
 *  - a spool file already recorded (db_inbound_done) is removed, never
 *    recorded again: a crash between commit and unlink costs nothing;
 *  - a damaged spool file is quarantined, never processed;
 *  - a message breaking a parse limit is recorded with role "refused"
 *    and logged: not lost, not posted;
 *  - a database failure leaves the file in active/; it is handed back
 *    to incoming/ and retried a minute later (and at every start-up).
 *
 * Called by mlmd_main.c (daemon_run).  Start-up failures return a sysexits
 * code; later failures are logged and retried.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "mlmd.h"
#include "msg.h"
#include "outq.h"
#include "post.h"
#include "priv.h"
#include "spool.h"
#include "archive.h"
#include "digest.h"
#include "event.h"
#include "report_mail.h"
#include "bounce.h"
#include "dmarc.h"
#include "dsn.h"
#include "moderate.h"
#include "rulesets.h"
#include "sub.h"
#include "tmpl.h"
#include "web.h"
#include "util.h"

#define DISPATCH_DELAY_MS    10         /* gather a burst before a round */
#define DISPATCH_BATCH       64         /* files per dispatcher round */
#define DISPATCH_BATCH_BYTES (64 << 20) /* bytes held in memory per round */
#define RETRY_MS             60000
#define SHUTDOWN_GRACE_MS    30000
#define HOUSEKEEPING_MS      3600000   /* expiry and retention, hourly */
#define DIGEST_MS            60000     /* digests due: every minute */
#define OUTBOUND_KEEP        (30 * 86400) /* sent rows kept for reports
                                           * and the cross-post check */

struct job {
	char *id;
	struct buf file;
	struct spool_env env;
	size_t body_off;
	struct msg *msg;       /* NULL if refused at parsing */
	int refused;
	char *why;             /* of a refusal, for the log line */
	char (*rcpt)[ADDR_MAX + 1]; /* normalised, each once */
	struct route *routes;  /* routes[i].list NULL: no list any more */
	size_t n_rcpts;
	struct post_plan *plan;
};

static void schedule_dispatch(struct mlmd *m, long ms);

static void
job_clear(struct job *j)
{
	post_plan_free(j->plan);
	msg_free(j->msg);
	free(j->rcpt);
	free(j->routes);
	free(j->id);
	free(j->why);
	buf_free(&j->file);
	spool_env_clear(&j->env);
	memset(j, 0, sizeof(*j));
}

/*
 * Parse a loaded spool file, route its recipients and plan what it does
 * (post.c writes the files the plan needs; they are flushed with the
 * store before anything is recorded).
 */
static void
prepare(struct mlmd *m, struct job *j)
{
	const char *body = j->file.s + j->body_off;
	struct buf err = BUF_INIT;
	struct post_ctx ctx = {m->conf, m->db, m->tmpl, m->dmarc};
	size_t i, k;

	if (msg_parse(body, j->env.size, &msg_default_limits, &j->msg, &err) <
	    0) {
		j->refused = 1;
		j->msg = NULL;
		j->why = xstrdup(buf_str(&err)); /* logged by record() */
	}
	buf_free(&err);
	j->rcpt = xcalloc(j->env.n_rcpts + 1, sizeof(*j->rcpt));
	j->routes = xcalloc(j->env.n_rcpts + 1, sizeof(*j->routes));
	for (i = 0; i < j->env.n_rcpts; i++) {
		char norm[ADDR_MAX + 1];

		if (addr_normalise(j->env.rcpts[i], norm, sizeof(norm)) < 0)
			strlcpy_(norm, j->env.rcpts[i], sizeof(norm));
		for (k = 0; k < j->n_rcpts; k++)
			if (strcmp(j->rcpt[k], norm) == 0)
				break;
		if (k < j->n_rcpts)
			continue; /* same address twice in one envelope */
		strlcpy_(j->rcpt[j->n_rcpts], norm, sizeof(j->rcpt[0]));
		/* Route the address as received: tokens are case-sensitive. */
		if (addr_route(m->conf, j->env.rcpts[i],
		               &j->routes[j->n_rcpts]) < 0) {
			/* Its list was removed since it was accepted. */
			log_warn("%s: <%s> is no list address any more", j->id,
			         norm);
			memset(&j->routes[j->n_rcpts], 0, sizeof(j->routes[0]));
		}
		/* A coordinator's calendar invitation to the list is an
		 * event to create (after their confirmation), not a post;
		 * anyone else's is held (post.c). */
		if (j->msg && j->routes[j->n_rcpts].list &&
		    j->routes[j->n_rcpts].role == ROLE_POST &&
		    event_coordinator(j->routes[j->n_rcpts].list,
		                      j->msg->from.addr) &&
		    event_is_invitation(j->msg))
			j->routes[j->n_rcpts].role = ROLE_EVENT;
		j->n_rcpts++;
	}
	j->plan = post_prepare(&ctx, j->id, &j->env, j->msg, body,
	                       j->env.size, j->routes, j->n_rcpts, NULL);
}

/* Record one prepared spool file in one transaction.  0 / -1. */
static int
record(struct mlmd *m, struct job *j)
{
	struct post_ctx ctx = {m->conf, m->db, m->tmpl, m->dmarc};
	const struct msg *msg = j->msg;
	size_t i;
	int rc = 0;

	if (db_begin(m->db) < 0)
		return -1;
	for (i = 0; i < j->n_rcpts && rc == 0; i++) {
		struct inbound in;

		memset(&in, 0, sizeof(in));
		in.spool_id = j->id;
		in.sender = j->env.sender;
		in.recipient = j->rcpt[i];
		if (j->routes[i].list) {
			in.list = j->routes[i].list->name;
			in.role = j->refused ? "refused"
			                     : addr_role_name(j->routes[i].role);
		} else {
			in.list = "";
			in.role = "unrouted";
		}
		in.message_id = msg ? msg->message_id : "";
		in.from_addr = msg ? msg->from.addr : "";
		in.subject = msg ? msg->subject : "";
		in.received = j->env.received;
		in.size = j->env.size;
		if (db_inbound_add(m->db, &in) < 0)
			rc = -1;
	}
	/* Commands, confirmations: their mails are written and flushed
	 * here, inside the transaction that queues them. */
	for (i = 0; i < j->n_rcpts && rc == 0 && !j->refused; i++) {
		const struct route *r = &j->routes[i];
		struct sub_ctx sc = {m->conf, m->db, m->tmpl, &m->key,
		                     m->dmarc};

		if (!r->list)
			continue;
		switch (r->role) {
		case ROLE_REQUEST:
		case ROLE_SUBSCRIBE:
		case ROLE_UNSUBSCRIBE:
		case ROLE_HELP:
		case ROLE_CONFIRM:
			if (sub_mail(&sc, j->id, j->env.sender, msg, r) < 0)
				rc = -1;
			break;
		case ROLE_MODERATE:
			if (moderate_mail(&sc, j->id, j->env.sender, msg, r) <
			    0)
				rc = -1;
			break;
		case ROLE_BOUNCE:
			if (bounce_mail(&sc, j->id, j->env.sender, msg, r) < 0)
				rc = -1;
			break;
		case ROLE_RSVP:
		case ROLE_EVENT: {
			struct event_ctx ex = {m->conf, m->db, m->tmpl, &m->key,
			                       0};

			if ((r->role == ROLE_RSVP
			         ? event_rsvp_mail(&ex, j->id, j->env.sender,
			                           msg, r)
			         : event_request_mail(&ex, j->id,
			                              j->env.sender, msg, r)) <
			    0)
				rc = -1;
			break;
		}
		default:
			break;
		}
	}
	if (rc == 0)
		rc = post_commit(&ctx, j->plan);
	if (rc == 0 && post_plan_n_held(j->plan) > 0) {
		struct sub_ctx sc = {m->conf, m->db, m->tmpl, &m->key,
		                     m->dmarc};

		rc = moderate_requests(&sc, j->plan, j->id,
		                       j->file.s + j->body_off, j->env.size);
	}
	if (rc == 0)
		rc = db_commit(m->db);
	else
		db_rollback(m->db);
	if (rc == 0) {
		size_t k;

		/* The archive is a view of the store: written after the
		 * commit, redone by `mlmctl archive rebuild` if it fails. */
		for (k = 0; k < post_plan_n_distributed(j->plan); k++)
			archive_add(m->conf, m->db,
			            post_plan_distributed(j->plan, k),
			            post_plan_message_id(j->plan));
		/* The one line per intake transaction (post_log() adds
		 * what each list did with it). */
		struct buf lists = BUF_INIT;

		buf_init(&lists, 1024);
		for (i = 0; i < j->n_rcpts; i++) {
			const char *l = j->routes[i].list
			                    ? j->routes[i].list->name
			                    : "-";

			for (k = 0; k < i; k++)
				if (strcmp(l, j->routes[k].list
				                  ? j->routes[k].list->name
				                  : "-") == 0)
					break;
			if (k == i)
				buf_printf(&lists, "%s%s", lists.len ? "," : "",
				           l);
		}
		log_info("%s: recorded from=<%s> lists=%s rcpts=%zu size=%zu "
		         "message-id=<%s> status=%s%s%s",
		         j->id, j->env.sender,
		         lists.len ? buf_str(&lists) : "-", j->n_rcpts,
		         j->env.size, msg ? msg->message_id : "",
		         j->refused ? "refused"
		         : post_plan_n_held(j->plan) > 0 ? "held"
		                                         : "accepted",
		         j->why ? " reason=" : "", j->why ? j->why : "");
		buf_free(&lists);
		post_log(j->plan);
	}
	return rc;
}

static void
requeue_active(struct loop *l, void *arg)
{
	struct mlmd *m = arg;

	m->retry_timer = 0;
	if (spool_recover(m->spool) > 0)
		schedule_dispatch(m, 0);
}

/*
 * One round: claim up to DISPATCH_BATCH files, keep them in the store
 * with one fsync, record each in its own transaction.  Returns 1 if
 * incoming/ may hold more.
 */
static int
dispatch_round(struct mlmd *m)
{
	struct job *jobs;
	char **ids;
	size_t n_ids, n_jobs = 0, bytes = 0, i;
	int more, failed = 0, queued = 0;

	if (spool_list(m->spool, "incoming", &ids, &n_ids) < 0)
		return 0;
	more = n_ids > DISPATCH_BATCH;
	jobs = xcalloc(n_ids < DISPATCH_BATCH ? n_ids + 1 : DISPATCH_BATCH,
	               sizeof(*jobs));
	for (i = 0; i < n_ids && n_jobs < DISPATCH_BATCH; i++) {
		struct job *j = &jobs[n_jobs];
		int r, done;

		if (bytes > DISPATCH_BATCH_BYTES) {
			more = 1;
			break;
		}
		if (spool_claim(m->spool, ids[i]) != 0)
			continue;
		buf_init(&j->file, (size_t)1 << 30);
		r = spool_load(m->spool, ids[i], &j->file, &j->env,
		               &j->body_off);
		if (r != 0) {
			buf_free(&j->file);
			failed |= r < 0;
			continue;
		}
		done = db_inbound_done(m->db, ids[i]);
		if (done != 0) {
			/* Recorded before a crash: only the unlink is left. */
			if (done > 0) {
				log_info("%s: already recorded, removing",
				         ids[i]);
				spool_done(m->spool, ids[i]);
			} else {
				failed = 1;
			}
			buf_free(&j->file);
			spool_env_clear(&j->env);
			continue;
		}
		if (spool_keep(m->spool, ids[i]) < 0) {
			failed = 1;
			buf_free(&j->file);
			spool_env_clear(&j->env);
			continue;
		}
		j->id = xstrdup(ids[i]);
		bytes += j->file.len;
		n_jobs++;
	}
	spool_ids_free(ids, n_ids);
	for (i = 0; i < n_jobs; i++)
		prepare(m, &jobs[i]);
	/* One flush for the store links and the files the plans wrote. */
	if (n_jobs &&
	    (spool_sync_store(m->spool) < 0 || post_sync(m->conf) < 0)) {
		failed = 1;
		n_jobs = 0; /* left in active/, retried later */
	}
	for (i = 0; i < n_jobs; i++) {
		if (record(m, &jobs[i]) == 0) {
			spool_done(m->spool, jobs[i].id);
			queued = 1;
		} else {
			failed = 1;
		}
	}
	for (i = 0; i < n_ids && i < DISPATCH_BATCH; i++)
		job_clear(&jobs[i]);
	free(jobs);
	if (queued)
		outq_kick(m->outq, 0);
	if (failed && !m->retry_timer) {
		log_warn("dispatcher: some files stay in spool/active, "
		         "retrying in %d s",
		         RETRY_MS / 1000);
		m->retry_timer =
		    loop_add_timer(m->loop, RETRY_MS, requeue_active, m);
	}
	return more;
}

static void
on_dispatch(struct loop *l, void *arg)
{
	struct mlmd *m = arg;

	m->dispatch_timer = 0;
	if (m->stopping)
		return;
	if (dispatch_round(m))
		schedule_dispatch(m, 0);
}

static void
schedule_dispatch(struct mlmd *m, long ms)
{
	if (m->dispatch_timer)
		return;
	m->dispatch_timer = loop_add_timer(m->loop, ms, on_dispatch, m);
}

/* mlmctl dropped a file into HOME/kick (outq_poke()): remove them all and
 * look at the queue; "flush" also ends a pause for the relay. */
static void
on_kick(struct mlmd *m)
{
	struct buf dir = BUF_INIT;
	struct dirent *d;
	DIR *dp;
	int flush = 0;

	buf_printf(&dir, "%s/kick", m->conf->home);
	if ((dp = opendir(buf_str(&dir)))) {
		while ((d = readdir(dp))) {
			struct buf f = BUF_INIT;

			if (d->d_name[0] == '.')
				continue;
			flush |= strncmp(d->d_name, "flush", 5) == 0;
			buf_printf(&f, "%s/%s", buf_str(&dir), d->d_name);
			unlink(buf_str(&f));
			buf_free(&f);
		}
		closedir(dp);
	}
	buf_free(&dir);
	log_info("queue: %s asked by mlmctl", flush ? "flush" : "rescan");
	outq_kick(m->outq, flush);
}

static void
on_inotify(struct loop *l, int fd, short revents, void *arg)
{
	struct mlmd *m = arg;
	char ev[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	/* Which file does not matter: a round lists the folder.  Waiting
	 * a few milliseconds lets a round take everything that arrives in
	 * a burst, so the store's fsync is shared instead of competing
	 * with the LMTP group commit once per file. */
	ssize_t n;
	int kicked = 0;

	while ((n = read(fd, ev, sizeof(ev))) > 0) {
		char *p = ev;

		while (p < ev + n) {
			struct inotify_event *e = (struct inotify_event *)p;

			if (e->wd == m->kick_wd)
				kicked = 1;
			p += sizeof(*e) + e->len;
		}
	}
	if (kicked)
		on_kick(m);
	schedule_dispatch(m, DISPATCH_DELAY_MS);
}

/* Hourly: held posts past their expiry, old outbound rows. */
static void
on_housekeeping(struct loop *l, void *arg)
{
	struct mlmd *m = arg;
	long n;

	{
		struct sub_ctx sc = {m->conf, m->db, m->tmpl, &m->key,
		                     m->dmarc};

		if ((n = moderate_housekeeping(&sc)) > 0)
			log_info("housekeeping: %ld held posts expired "
			         "unmoderated; their senders are told",
			         n);
		if ((n = bounce_housekeeping(&sc)) > 0)
			log_info("housekeeping: %ld bouncing members looked "
			         "after (probes passed, removals)",
			         n);
	}
	if ((n = outq_gc(m, 600)) > 0)
		log_info("housekeeping: %ld copies nobody waits for removed "
		         "from out/",
		         n);
	{
		struct sub_ctx sc = {m->conf, m->db, m->tmpl, &m->key,
		                     m->dmarc};

		if ((n = sub_expire(&sc)) > 0)
			log_info("housekeeping: %ld expired or used "
			         "confirmations deleted",
			         n);
	}
	if ((n = db_out_purge(m->db, time(NULL) - OUTBOUND_KEEP)) > 0)
		log_info("housekeeping: %ld delivered copies older than %d "
		         "days forgotten",
		         n, OUTBOUND_KEEP / 86400);
	if (!m->stopping)
		loop_add_timer(l, HOUSEKEEPING_MS, on_housekeeping, m);
}

/* Every minute, and at start-up: digests whose time came (also while the
 * daemon was down) or that passed their size; event reminders and
 * summaries that are due. */
static void
on_digests(struct loop *l, void *arg)
{
	struct mlmd *m = arg;
	struct event_ctx ex = {m->conf, m->db, m->tmpl, &m->key, 0};
	long n = digest_run(m->conf, m->db, time(NULL)), e;

	if (n < 0)
		error("digests: a run failed; trying again in a minute");
	e = event_tick(&ex);
	if (e < 0)
		error("events: reminders failed; trying again in a minute");
	{
		long r = report_monthly(m->conf, m->db, time(NULL));

		if (r < 0)
			error("report: the monthly report failed; trying again "
			      "in a minute");
		else if (r > 0)
			e += r;
	}
	if (n > 0 || e > 0)
		outq_kick(m->outq, 0);
	if (!m->stopping)
		loop_add_timer(l, DIGEST_MS, on_digests, m);
}

static void
on_stop_check(struct loop *l, void *arg)
{
	struct mlmd *m = arg;

	if (lmtp_server_sessions(m->lmtp) == 0 &&
	    outq_in_flight(m->outq) == 0)
		loop_stop(l);
	else
		loop_add_timer(l, 100, on_stop_check, m);
}

static void
on_grace_over(struct loop *l, void *arg)
{
	struct mlmd *m = arg;

	log_warn("shutdown: %zu sessions and %zu relay transactions still "
	         "open, closing them",
	         lmtp_server_sessions(m->lmtp), outq_in_flight(m->outq));
	loop_stop(l);
}

static void
on_signal(struct loop *l, int signo, void *arg)
{
	struct mlmd *m = arg;

	if (signo == SIGHUP) {
		struct buf errs = BUF_INIT;
		struct conf *c = conf_load(m->conf_path, &errs);

		if (!c) {
			const char *e = buf_str(&errs);

			log_warn("reload: %s has errors, keeping the running "
			         "configuration",
			         m->conf_path);
			/* One log line per error ("FILE:LINE: ..."). */
			while (*e) {
				size_t n = strcspn(e, "\n");

				if (n)
					log_warn("reload: %.*s", (int)n, e);
				e += n;
				if (*e)
					e++;
			}
		} else {
			if (strcmp(c->relay, m->conf->relay) != 0)
				log_warn("reload: relay changes take effect at "
				         "the next restart");
			{
				struct tmpl_set *t =
				    tmpl_set_load(c->templates, &errs);

				if (t) {
					tmpl_set_free(m->tmpl);
					m->tmpl = t;
				} else {
					log_warn("reload: templates in %s have "
					         "errors, keeping the loaded ones",
					         c->templates);
				}
			}
			{
				struct buf rerr = BUF_INIT;
				struct rulesets *r = rulesets_load(c, &rerr);

				if (r) {
					rulesets_activate(r);
					rulesets_free(m->rules);
					m->rules = r;
				} else {
					log_warn("reload: rule files have errors, "
					         "keeping the loaded ones: %s",
					         buf_str(&rerr));
				}
				buf_free(&rerr);
			}
			if (strcmp(c->lmtp ? c->lmtp : "",
			           m->conf->lmtp ? m->conf->lmtp : "") != 0 ||
			    strcmp(c->home, m->conf->home) != 0)
				log_warn("reload: lmtp and home changes take "
				         "effect at the next restart");
			/*
			 * Sessions and the dispatcher route through m->conf
			 * on every use and keep no pointer into it between
			 * events, so the swap is safe.  Listeners and home
			 * stay as they are.
			 */
			free(c->lmtp);
			c->lmtp = m->conf->lmtp ? xstrdup(m->conf->lmtp) : NULL;
			free(c->home);
			c->home = xstrdup(m->conf->home);
			conf_free(m->conf);
			m->conf = c;
			/* new dmarc_override entries, an empty cache */
			dmarc_free(m->dmarc);
			m->dmarc = post_dmarc_new(m->conf);
			log_info("reload: configuration %s loaded",
			         m->conf_path);
			schedule_dispatch(m, 0);
		}
		buf_free(&errs);
		return;
	}
	if (m->stopping)
		return;
	log_info("shutdown: signal %d, finishing open sessions", signo);
	m->stopping = 1;
	lmtp_server_shutdown(m->lmtp);
	loop_add_timer(l, 0, on_stop_check, m);
	loop_add_timer(l, SHUTDOWN_GRACE_MS, on_grace_over, m);
}

/*
 * Fork into the background.  The parent waits until the child reports that
 * it started (one byte on a pipe) and exits 0, or with the child's code.
 * Returns in the child with *ready_fd to write to; -1 on error.
 */
static int
daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return error("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return error("fork: %s", strerror(errno));
	if (pid > 0) {
		unsigned char code = EX_SOFTWARE;

		close(p[1]);
		if (read(p[0], &code, 1) != 1)
			code = EX_SOFTWARE;
		_exit(code);
	}
	close(p[0]);
	if (setsid() < 0)
		return error("setsid: %s", strerror(errno));
	*ready_fd = p[1];
	return 0;
}

static void
report_ready(int *ready_fd, unsigned char code)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &code, 1) != 1)
		log_warn("could not report start-up to the parent");
	close(*ready_fd);
	*ready_fd = -1;
}

static int
write_pid(struct mlmd *m)
{
	struct buf p = BUF_INIT, t = BUF_INIT;
	FILE *f;
	int rc = 0;

	buf_printf(&p, "%s/mlmd.pid", m->conf->home);
	buf_printf(&t, "%s/mlmd.pid.tmp", m->conf->home);
	f = fopen(buf_str(&t), "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
	    rename(buf_str(&t), buf_str(&p)) < 0)
		rc = error("cannot write %s: %s", buf_str(&p), strerror(errno));
	if (rc == 0)
		m->pid_file = buf_detach(&p, NULL);
	buf_free(&p);
	buf_free(&t);
	return rc;
}

/*
 * The last problem (log_last_problem()) for `mlmctl status`, in
 * HOME/last-error as "EPOCH LEVEL TEXT\n": tmp + rename, no fsync (a
 * crash may lose it: it is a hint, not data).  The log hook only sets a
 * timer, so the file is written a second after a problem and at most
 * once a second however many follow.  A failure here is not logged:
 * that would be a problem again, and the writer would retry forever.
 */
static void
write_last_error(struct mlmd *m)
{
	char line[512];
	struct buf c = BUF_INIT, p = BUF_INIT, t = BUF_INIT;
	enum log_level lv;
	time_t when;
	int fd, ok;

	if (!log_last_problem(line, sizeof(line), &when, &lv))
		return;
	buf_printf(&c, "%lld %s %s\n", (long long)when,
	           lv == L_ERROR ? "error" : "warning", line);
	buf_printf(&p, "%s/last-error", m->conf->home);
	buf_printf(&t, "%s/last-error.tmp", m->conf->home);
	fd = open(buf_str(&t), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0) {
		ok = write_all(fd, c.s, c.len) == 0;
		if (close(fd) != 0)
			ok = 0;
		if (!ok || rename(buf_str(&t), buf_str(&p)) < 0)
			unlink(buf_str(&t));
	}
	buf_free(&c);
	buf_free(&p);
	buf_free(&t);
}

static void
on_last_error(struct loop *l, void *arg)
{
	write_last_error(arg);
}

/* log.c's problem hook: runs inside a log call, so only sets a timer. */
static void
problem_logged(void *arg)
{
	struct mlmd *m = arg;

	if (loop_add_timer(m->loop, 1000, on_last_error, m) <= 0)
		log_last_problem(NULL, 0, NULL, NULL); /* re-arm */
}

static int
redirect_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return error("/dev/null: %s", strerror(errno));
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

/*
 * One daemon per home: a second one would share the spool's claims and
 * replace the first one's sockets.  The lock lives as long as the open
 * file (also across the fork into the background).
 */
static int
lock_home(struct mlmd *m, int *fd)
{
	struct buf p = BUF_INIT;

	buf_printf(&p, "%s/mlmd.lock", m->conf->home);
	*fd = open(buf_str(&p), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0) {
		error("cannot open %s: %s", buf_str(&p), strerror(errno));
		buf_free(&p);
		return -1;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		error("another mlmd is running with home %s (%s is locked)",
		      m->conf->home, buf_str(&p));
		close(*fd);
		*fd = -1;
		buf_free(&p);
		return -1;
	}
	buf_free(&p);
	return 0;
}

/* Each LMTP session is a descriptor: allow as many as the hard limit. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("setrlimit: %s", strerror(errno));
	}
}

int
daemon_run(struct mlmd *m)
{
	struct buf dbpath = BUF_INIT, kickdir = BUF_INIT;
	int ready_fd = -1, lock_fd = -1, rc = EX_OK, n, last_error_file = 0;

	m->inotify_fd = -1;
	if (priv_check(m->conf) < 0)
		return EX_CONFIG;
	raise_fd_limit();
	if (priv_prepare_home(m->conf) < 0)
		return EX_CANTCREAT;
	if (lock_home(m, &lock_fd) < 0)
		return EX_TEMPFAIL;
	m->loop = loop_new();
	/* Listeners first: binding may need root, and errors show here. */
	m->lmtp = lmtp_server_open(m);
	if (!m->lmtp) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (web_start(m) < 0) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (priv_drop(m->conf) < 0) {
		rc = EX_NOPERM;
		goto out;
	}
	if (!m->foreground) {
		if (daemonize(&ready_fd) < 0) {
			rc = EX_OSERR;
			goto out;
		}
		log_open("mlmd", 0, log_get_level());
		redirect_stdio();
	}
	/* From here on home is ours: problems go to HOME/last-error. */
	log_set_problem_hook(problem_logged, m);
	last_error_file = 1;
	m->spool = spool_open(m->conf->home);
	if (!m->spool) {
		rc = EX_CANTCREAT;
		goto out;
	}
	buf_printf(&dbpath, "%s/mlmd.db", m->conf->home);
	m->db = db_open(buf_str(&dbpath));
	if (!m->db || token_key_load(m->db, &m->key) < 0) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	{
		struct buf errs = BUF_INIT;

		m->tmpl = tmpl_set_load(m->conf->templates, &errs);
		if (!m->tmpl) {
			error("templates %s: %s", m->conf->templates,
			      buf_str(&errs));
			buf_free(&errs);
			rc = EX_CONFIG;
			goto out;
		}
		buf_free(&errs);
	}
	{
		struct buf errs = BUF_INIT, path = BUF_INIT;

		/* Non-standard bounces: without the file only RFC 3464
		 * reports are read (logged, not fatal). */
		buf_printf(&path, "%s/bounce.rules", m->conf->rules_dir);
		if (dsn_rules_load(buf_str(&path), &errs) < 0)
			log_warn("bounce rules: %s", buf_str(&errs));
		buf_free(&errs);
		buf_free(&path);
	}
	m->dmarc = post_dmarc_new(m->conf);
	{
		struct buf errs = BUF_INIT;

		m->rules = rulesets_load(m->conf, &errs);
		if (!m->rules) {
			error("rule files: %s", buf_str(&errs));
			buf_free(&errs);
			rc = EX_CONFIG;
			goto out;
		}
		rulesets_activate(m->rules);
		buf_free(&errs);
	}
	m->outq = outq_new(m);
	if (!m->outq) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	n = spool_recover(m->spool);
	if (n > 0)
		log_info("recovery: %d claimed files handed back", n);
	/* Before the first round: nothing of this process is half done. */
	if ((n = outq_gc(m, 0)) > 0)
		log_info("recovery: %d copies nobody waits for removed from "
		         "out/",
		         n);
	buf_printf(&kickdir, "%s/kick", m->conf->home);
	m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->inotify_fd < 0 ||
	    inotify_add_watch(m->inotify_fd, spool_dir(m->spool, "incoming"),
	                      IN_MOVED_TO | IN_CLOSE_WRITE) < 0 ||
	    mkdir_p(buf_str(&kickdir), 0750) < 0 ||
	    (m->kick_wd = inotify_add_watch(m->inotify_fd, buf_str(&kickdir),
	                                    IN_MOVED_TO | IN_CLOSE_WRITE)) <
	        0) {
		error("inotify: %s", strerror(errno));
		rc = EX_OSERR;
		goto out;
	}
	if (loop_add_fd(m->loop, m->inotify_fd, POLLIN, on_inotify, m) < 0 ||
	    loop_add_signal(m->loop, SIGTERM, on_signal, m) < 0 ||
	    loop_add_signal(m->loop, SIGINT, on_signal, m) < 0 ||
	    loop_add_signal(m->loop, SIGHUP, on_signal, m) < 0 ||
	    lmtp_server_start(m->lmtp) < 0) {
		rc = EX_OSERR;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!m->foreground && write_pid(m) < 0) {
		rc = EX_CANTCREAT;
		goto out;
	}
	/* Whatever waits in incoming/ (also from before a crash). */
	schedule_dispatch(m, 0);
	loop_add_timer(m->loop, 10000, on_housekeeping, m);
	loop_add_timer(m->loop, 0, on_digests, m);
	log_info("mlmd %s started (pid %ld)", PACKAGE_VERSION, (long)getpid());
	report_ready(&ready_fd, EX_OK);
	if (loop_run(m->loop) < 0)
		rc = EX_OSERR;
	log_info("mlmd stopped");
out:
	report_ready(&ready_fd, (unsigned char)rc);
	lmtp_server_free(m->lmtp);
	m->lmtp = NULL;
	web_stop(m);
	if (m->inotify_fd >= 0)
		close(m->inotify_fd);
	outq_free(m->outq);
	m->outq = NULL;
	tmpl_set_free(m->tmpl);
	m->tmpl = NULL;
	dsn_rules_free();
	dmarc_free(m->dmarc);
	m->dmarc = NULL;
	rulesets_free(m->rules);
	m->rules = NULL;
	if (m->db)
		db_close(m->db);
	spool_close(m->spool);
	if (last_error_file) {
		/* the last word, also of a start-up that failed */
		log_set_problem_hook(NULL, NULL);
		write_last_error(m);
	}
	loop_free(m->loop);
	m->loop = NULL;
	if (m->pid_file) {
		unlink(m->pid_file);
		free(m->pid_file);
	}
	buf_free(&dbpath);
	buf_free(&kickdir);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
