/*
 * ctl_status.c - `mlmctl status [--json]`: the daemon's health in one
 * screen, for an operator and for monitoring (issue 10).
 *
 * What it reads, all without changing anything the daemon owns:
 *  - whether mlmd runs: HOME/mlmd.pid (written when it daemonizes) and
 *    kill(pid, 0); a daemon in the foreground (-f) writes no pid file,
 *    so the flock on HOME/mlmd.lock is looked up in /proc/locks (by
 *    inode) instead of being tried: trying it could make a daemon that
 *    starts at that moment fail to take it;
 *  - files in HOME/spool/incoming, active and quarantine;
 *  - the store (db_health()): copies queued and deferred, copies sent
 *    and failed in the last 24 hours, the oldest deferred copy and the
 *    relay's last answer about it, held posts, collecting digests,
 *    active events;
 *  - the daemon's last warning or error, HOME/last-error ("EPOCH LEVEL
 *    TEXT", daemon.c writes it at most once a second).
 *
 * Exit status (for monitoring, not sysexits): 0 healthy; 1 when the
 * daemon is not running, a spool file is quarantined, most copies that
 * finished in the last 24 hours failed (more failed than sent: a bounce
 * now and then is normal, a relay that refuses everything is not), or
 * the store cannot be read.  The first line of the text output says
 * "OK: ..." or "PROBLEM: ..." with every reason; --json has "healthy"
 * and "problems".  64 (EX_USAGE) for bad arguments, 74 (EX_IOERR) when
 * stdout fails.
 *
 * Text from outside (the relay's answers, recipients, the logged line)
 * goes through ctl_safe() in both outputs.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "db_status.h"
#include "util.h"

#define TEXT_SHOWN 200 /* characters of the relay's or the log's text */
#define ADDR_SHOWN 80

struct status {
	time_t now;
	int running;      /* 1 yes, 0 no */
	long pid;         /* 0: unknown */
	int stale_pid;    /* a pid file of a daemon that is gone */
	long spool[3];    /* incoming, active, quarantine; -1 unreadable */
	int db_ok;
	struct db_health h;
	int have_err;     /* last-error read */
	time_t err_at;
	char err_level[16];
	char err_text[600];
	struct buf problems; /* "; "-separated */
};

static const char *const spool_sub[3] = {"incoming", "active", "quarantine"};

static void
problem(struct status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct status *st, const char *fmt, ...)
{
	va_list ap;

	if (st->problems.len)
		buf_adds(&st->problems, "; ");
	va_start(ap, fmt);
	buf_vprintf(&st->problems, fmt, ap);
	va_end(ap);
}

/* 1 if process pid exists (also as another user), else 0. */
static int
pid_alive(long pid)
{
	if (pid <= 0 || (pid_t)pid != pid)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/*
 * Is HOME/mlmd.lock held?  1 and *pid (the process that took the lock;
 * after the daemon's fork that is its parent, gone) if /proc/locks lists
 * a FLOCK on its inode, 0 if not, -1 if it cannot tell.  Only the inode
 * is compared: on overlayfs the device in /proc/locks is the upper
 * layer's, not the one stat() shows.
 */
static int
lock_held(const char *home, long *pid)
{
	struct buf path = BUF_INIT;
	struct stat sb;
	char line[256];
	FILE *f;
	int found = 0;

	buf_printf(&path, "%s/mlmd.lock", home);
	if (stat(buf_str(&path), &sb) < 0) {
		buf_free(&path);
		return errno == ENOENT ? 0 : -1;
	}
	buf_free(&path);
	if (!(f = fopen("/proc/locks", "r")))
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char type[16];
		unsigned int maj, min;
		unsigned long ino;
		long p;

		if (strstr(line, "->")) /* a waiter, not a holder */
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", type, &p,
		           &maj, &min, &ino) == 5 &&
		    strcmp(type, "FLOCK") == 0 && ino == (unsigned long)sb.st_ino) {
			*pid = p;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static void
check_daemon(struct status *st, const char *home)
{
	struct buf path = BUF_INIT, b = BUF_INIT;
	long pid = 0, lock_pid = 0;
	int held;

	buf_printf(&path, "%s/mlmd.pid", home);
	buf_init(&b, 64);
	if (read_file(buf_str(&path), &b) == 0) {
		char *end;

		errno = 0;
		pid = strtol(buf_str(&b), &end, 10);
		if (errno || end == buf_str(&b) || pid <= 0)
			pid = 0;
	}
	buf_free(&b);
	buf_free(&path);
	held = lock_held(home, &lock_pid);
	if (held == 0) {
		/* nobody holds the lock: a pid file left by a crash names
		 * nothing (or a process that reused the number) */
		st->running = 0;
		st->stale_pid = pid > 0;
	} else if (pid > 0 && pid_alive(pid)) {
		st->running = 1;
		st->pid = pid;
	} else if (held == 1) {
		st->running = 1; /* in the foreground: no pid file */
		st->pid = pid_alive(lock_pid) ? lock_pid : 0;
	} else {
		st->running = 0; /* cannot see the lock, no live pid */
		st->stale_pid = pid > 0;
	}
}

/* Files in HOME/spool/SUB (not the ones being written: no dot files). */
static long
count_dir(const char *home, const char *sub)
{
	struct buf path = BUF_INIT;
	struct dirent *d;
	DIR *dp;
	long n = 0;

	buf_printf(&path, "%s/spool/%s", home, sub);
	dp = opendir(buf_str(&path));
	buf_free(&path);
	if (!dp)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

/* HOME/last-error: "EPOCH LEVEL TEXT\n".  0 read, -1 none or damaged. */
static int
read_last_error(struct status *st, const char *home)
{
	struct buf path = BUF_INIT, b = BUF_INIT;
	const char *s;
	char *end;
	long long t;
	size_t n;
	int rc = -1;

	buf_printf(&path, "%s/last-error", home);
	buf_init(&b, 4096);
	if (read_file(buf_str(&path), &b) < 0 || !b.len)
		goto out;
	s = buf_str(&b);
	errno = 0;
	t = strtoll(s, &end, 10);
	if (errno || end == s || *end != ' ' || t <= 0)
		goto out;
	s = end + 1;
	n = strcspn(s, " \n");
	if (n == 0 || n >= sizeof(st->err_level) || s[n] != ' ')
		goto out;
	memcpy(st->err_level, s, n);
	st->err_level[n] = '\0';
	s += n + 1;
	n = strcspn(s, "\n");
	if (n >= sizeof(st->err_text))
		n = sizeof(st->err_text) - 1;
	memcpy(st->err_text, s, n);
	st->err_text[n] = '\0';
	st->err_at = (time_t)t;
	st->have_err = 1;
	rc = 0;
out:
	buf_free(&b);
	buf_free(&path);
	return rc;
}

/* s as a JSON string: ctl_safe() first (no control characters, valid
 * UTF-8, bounded), then the two characters JSON escapes. */
static void
json_str(struct buf *out, const char *s, size_t max_chars)
{
	struct buf safe = BUF_INIT;
	const char *p;

	ctl_safe(&safe, s, max_chars);
	buf_addc(out, '"');
	for (p = buf_str(&safe); *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *p);
	}
	buf_addc(out, '"');
	buf_free(&safe);
}

static void
print_json(const struct status *st, int healthy)
{
	const struct db_health *h = &st->h;
	struct buf o = BUF_INIT;
	const char *p, *q;

	buf_printf(&o, "{\"healthy\": %s, \"problems\": [",
	           healthy ? "true" : "false");
	/* the problems joined by "; " (none contains one) */
	for (p = buf_str(&st->problems); *p; p = *q ? q + 2 : q) {
		struct buf one = BUF_INIT;

		q = strstr(p, "; ");
		if (!q)
			q = p + strlen(p);
		buf_add(&one, p, (size_t)(q - p));
		if (p != buf_str(&st->problems))
			buf_adds(&o, ", ");
		json_str(&o, buf_str(&one), 1000);
		buf_free(&one);
	}
	buf_printf(&o, "],\n \"daemon\": {\"running\": %s, \"pid\": ",
	           st->running ? "true" : "false");
	if (st->pid)
		buf_printf(&o, "%ld", st->pid);
	else
		buf_adds(&o, "null");
	buf_printf(&o, "},\n \"spool\": {\"incoming\": %ld, \"active\": %ld, "
	               "\"quarantine\": %ld},\n",
	           st->spool[0], st->spool[1], st->spool[2]);
	if (st->db_ok) {
		buf_printf(&o,
		           " \"queue\": {\"queued\": %ld, \"deferred\": %ld, "
		           "\"sent_24h\": %ld, \"failed_24h\": %ld, "
		           "\"oldest_deferred\": ",
		           h->queued, h->deferred, h->sent_24h, h->failed_24h);
		if (h->oldest_id) {
			buf_printf(&o, "{\"id\": %lld, \"recipient\": ",
			           h->oldest_id);
			json_str(&o, h->oldest_rcpt, ADDR_SHOWN);
			buf_printf(&o, ", \"age\": %lld, \"attempts\": %d, "
			               "\"code\": ",
			           (long long)(st->now > h->oldest_created
			                           ? st->now - h->oldest_created
			                           : 0),
			           h->oldest_attempts);
			json_str(&o, h->oldest_code, 16);
			buf_adds(&o, ", \"error\": ");
			json_str(&o, h->oldest_error, TEXT_SHOWN);
			buf_adds(&o, "}");
		} else {
			buf_adds(&o, "null");
		}
		buf_printf(&o, "},\n \"held\": %ld, \"digests_collecting\": %ld, "
		               "\"events_active\": %ld,\n",
		           h->held, h->digests, h->events);
	} else {
		buf_adds(&o, " \"queue\": null, \"held\": null, "
		             "\"digests_collecting\": null, \"events_active\": "
		             "null,\n");
	}
	buf_adds(&o, " \"last_error\": ");
	if (st->have_err) {
		buf_printf(&o, "{\"time\": %lld, \"level\": ",
		           (long long)st->err_at);
		json_str(&o, st->err_level, 16);
		buf_adds(&o, ", \"text\": ");
		json_str(&o, st->err_text, TEXT_SHOWN);
		buf_adds(&o, "}");
	} else {
		buf_adds(&o, "null");
	}
	buf_adds(&o, "}\n");
	fputs(buf_str(&o), stdout);
	buf_free(&o);
}

static void
print_text(const struct status *st, int healthy)
{
	const struct db_health *h = &st->h;
	struct buf line = BUF_INIT;
	char age[32], when[32];

	if (healthy)
		printf("OK: mlmd is running\n");
	else
		printf("PROBLEM: %s\n", buf_str(&st->problems));
	if (st->running && st->pid)
		printf("daemon: running, pid %ld\n", st->pid);
	else if (st->running)
		printf("daemon: running\n");
	else
		printf("daemon: not running%s\n",
		       st->stale_pid ? " (a stale mlmd.pid is left)" : "");
	printf("spool: %ld incoming, %ld active, %ld quarantined\n",
	       st->spool[0], st->spool[1], st->spool[2]);
	if (st->db_ok) {
		printf("queue: %ld queued, %ld deferred; last 24 h: %ld sent, "
		       "%ld failed\n",
		       h->queued, h->deferred, h->sent_24h, h->failed_24h);
		if (h->oldest_id) {
			ctl_age(h->oldest_created, st->now, age, sizeof(age));
			ctl_safe(&line, h->oldest_rcpt, ADDR_SHOWN);
			buf_printf(&line, ">, %s, %d attempts: ", age,
			           h->oldest_attempts);
			ctl_safe(&line, h->oldest_code, 16);
			buf_addc(&line, ' ');
			ctl_safe(&line, h->oldest_error, TEXT_SHOWN);
			printf("oldest deferred: #%lld <%s\n", h->oldest_id,
			       buf_str(&line));
			buf_reset(&line);
		} else {
			printf("oldest deferred: none\n");
		}
		printf("held posts: %ld\n", h->held);
		printf("digests collecting: %ld\n", h->digests);
		printf("events active: %ld\n", h->events);
	}
	if (st->have_err) {
		ctl_age(st->err_at, st->now, age, sizeof(age));
		ctl_when(st->err_at, when, sizeof(when));
		ctl_safe(&line, st->err_level, 16);
		buf_adds(&line, ": ");
		ctl_safe(&line, st->err_text, TEXT_SHOWN);
		printf("last error: %s ago (%s) %s\n", age, when,
		       buf_str(&line));
	} else {
		printf("last error: none\n");
	}
	buf_free(&line);
}

int
ctl_status(struct ctl *ctl, int argc, char **argv)
{
	const char *home = ctl->conf->home;
	struct status st;
	struct db *db;
	int json = 0, healthy, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			fprintf(stderr,
			        "mlmctl: status: unknown argument '%s' (usage: "
			        "mlmctl status [--json])\n",
			        argv[i]);
			return EX_USAGE;
		}
	}
	memset(&st, 0, sizeof(st));
	buf_init(&st.problems, 4096);
	st.now = time(NULL);
	check_daemon(&st, home);
	if (!st.running)
		problem(&st, "mlmd is not running");
	for (i = 0; i < 3; i++)
		st.spool[i] = count_dir(home, spool_sub[i]);
	if (st.spool[2] > 0)
		problem(&st, "%ld file%s in spool/quarantine", st.spool[2],
		        st.spool[2] == 1 ? "" : "s");
	else if (st.spool[2] < 0)
		problem(&st, "spool/quarantine cannot be read");
	read_last_error(&st, home);
	/* after the files: ctl_db() may drop to the daemon's user */
	db = ctl_db(ctl);
	st.db_ok = db && db_health(db, st.now, &st.h) == 0;
	if (!st.db_ok)
		problem(&st, "the database cannot be read");
	else if (st.h.failed_24h > st.h.sent_24h)
		problem(&st, "copies are failing: %ld failed, %ld sent in the "
		             "last 24 h",
		        st.h.failed_24h, st.h.sent_24h);
	healthy = st.problems.len == 0;
	if (json)
		print_json(&st, healthy);
	else
		print_text(&st, healthy);
	buf_free(&st.problems);
	i = ctl_flush_stdout();
	return i != EX_OK ? i : healthy ? 0 : 1;
}
