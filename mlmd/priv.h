/*
 * priv.h - running as the configured unprivileged user.
 *
 * mlmd, mlmd-inject and mlmctl started as root switch to conf->user
 * (setgroups, setgid, setuid) before they touch the spool or the database;
 * started as anyone else they stay who they are.
 */
#ifndef MLMD_PRIV_H
#define MLMD_PRIV_H

struct conf;

/*
 * Not root: does nothing, returns 0.  Root with `user` set: switches to
 * that user (and its primary group, no supplementary groups), 0 on
 * success.  Root without `user`: -1 with the error "refusing to run as
 * root: set user = ... in FILE" logged.  -1 also if the user is unknown
 * or a switch fails.
 */
int priv_drop(const struct conf *c);
/* The check of priv_drop() without the switch: -1 (logged) if root and
 * no user is configured. */
int priv_check(const struct conf *c);
/*
 * Create home and its spool/ and store/ folders (mode 0750); when root,
 * hand them to the configured user.  0 / -1 (logged).
 */
int priv_prepare_home(const struct conf *c);

#endif
