/*
 * mlmd.h - the daemon's context, passed explicitly to every part of it
 * (no globals): configuration, database, spool, event loop, LMTP server,
 * dispatcher state.  Also the interfaces of the daemon's own parts:
 * lmtp_server.c (listeners and sessions) and daemon.c (start-up, recovery,
 * dispatcher, reload, shutdown).
 */
#ifndef MLMD_MLMD_H
#define MLMD_MLMD_H

#include <stddef.h>

#include "token.h"

struct conf;
struct db;
struct loop;
struct spool;
struct lmtp_server;
struct outq;
struct tmpl_set;
struct http;
struct dmarc;
struct rulesets;

struct mlmd {
	const char *conf_path;
	struct conf *conf; /* replaced on SIGHUP (if the new one is ok) */
	struct db *db;
	struct spool *spool;
	struct loop *loop;
	struct lmtp_server *lmtp;
	struct outq *outq;         /* the outbound queue runner */
	struct tmpl_set *tmpl;     /* footers and notices (reloaded on SIGHUP) */
	struct token_key key;      /* of confirmation and unsubscribe tokens */
	struct http *http;         /* the web front door, or NULL */
	struct dmarc *dmarc;       /* DMARC policy lookups (cached) */
	struct rulesets *rules;    /* the lists' compiled rule files */
	int foreground;     /* -f: log to stderr, no fork */
	int stopping;       /* SIGTERM/SIGINT seen */
	int inotify_fd;     /* watches spool/incoming, -1 if none */
	int dispatch_timer; /* pending "scan incoming/" timer, 0 if none */
	int retry_timer;    /* pending "retry spool/active" timer, 0 if none */
	int kick_wd;        /* inotify watch of HOME/kick (outq_poke()) */
	char *pid_file;     /* HOME/mlmd.pid when daemonized, or NULL */
};

/* lmtp_server.c */
/*
 * Open the listeners of conf->lmtp ("unix:/path", "HOST:PORT", comma
 * separated).  Call before dropping privileges: the unix socket is made
 * mode 0666 (access is controlled by its directory) so that the MTA's LMTP
 * client (user postfix) can connect.  NULL on error (logged).
 */
struct lmtp_server *lmtp_server_open(struct mlmd *m);
/* Register listeners on m->loop (after the spool is open). */
int lmtp_server_start(struct lmtp_server *srv);
/* Shutdown: new connections and the next command of open sessions get
 * 421 4.3.2; messages in progress are finished. */
void lmtp_server_shutdown(struct lmtp_server *srv);
/* Open sessions. */
size_t lmtp_server_sessions(const struct lmtp_server *srv);
/* Close everything; unlink the unix sockets (best effort). */
void lmtp_server_free(struct lmtp_server *srv);

/* daemon.c */
/* Start, run until SIGTERM/SIGINT, stop.  Returns a sysexits code. */
int daemon_run(struct mlmd *m);

#endif
