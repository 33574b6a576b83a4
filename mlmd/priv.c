/*
 * priv.c - dropping root for the configured user (see priv.h).
 *
 * Invariant: once priv_drop() returned 0 as root, the process can no
 * longer regain root (checked: setuid(0) must fail).  Called by
 * mlmd_main.c/daemon.c (after the listeners are open), inject.c and
 * mlmctl.c (before writing anything).  Errors are returned and logged;
 * the caller exits with EX_CONFIG or EX_OSERR.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "priv.h"
#include "util.h"

int
priv_check(const struct conf *c)
{
	if (geteuid() != 0)
		return 0;
	if (!c->user || !c->user[0])
		return error("refusing to run as root: set user = ... in %s",
		             c->path ? c->path : "the configuration file");
	return 0;
}

static int
lookup(const struct conf *c, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(c->user);
	if (!pw)
		return error("user \"%s\" (set in %s) does not exist%s%s",
		             c->user, c->path ? c->path : "the configuration",
		             errno ? ": " : "", errno ? strerror(errno) : "");
	if (pw->pw_uid == 0)
		return error("user \"%s\" in %s is root: name an unprivileged "
		             "user",
		             c->user, c->path ? c->path : "");
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
priv_drop(const struct conf *c)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (priv_check(c) < 0 || lookup(c, &uid, &gid) < 0)
		return -1;
	if (setgroups(1, &gid) < 0)
		return error("setgroups: %s", strerror(errno));
	if (setgid(gid) < 0)
		return error("setgid(%ld): %s", (long)gid, strerror(errno));
	if (setuid(uid) < 0)
		return error("setuid(%ld): %s", (long)uid, strerror(errno));
	if (setuid(0) == 0)
		return error("could regain root after dropping it");
	return 0;
}

int
priv_prepare_home(const struct conf *c)
{
	static const char *const subs[] = {"",
	                                   "/spool",
	                                   "/spool/tmp",
	                                   "/spool/incoming",
	                                   "/spool/active",
	                                   "/spool/quarantine",
	                                   "/store",
	                                   "/out",
	                                   "/archive"};
	struct buf p = BUF_INIT;
	uid_t uid = 0;
	gid_t gid = 0;
	int root = geteuid() == 0;
	size_t i;

	if (!c->home || !c->home[0])
		return error("no home set in %s", c->path ? c->path : "");
	if (root && (priv_check(c) < 0 || lookup(c, &uid, &gid) < 0))
		return -1;
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		buf_reset(&p);
		buf_printf(&p, "%s%s", c->home, subs[i]);
		if (mkdir_p(buf_str(&p), 0750) < 0) {
			error("cannot create %s: %s", buf_str(&p),
			      strerror(errno));
			buf_free(&p);
			return -1;
		}
		if (root && chown(buf_str(&p), uid, gid) < 0) {
			error("cannot chown %s: %s", buf_str(&p),
			      strerror(errno));
			buf_free(&p);
			return -1;
		}
	}
	buf_free(&p);
	return 0;
}
