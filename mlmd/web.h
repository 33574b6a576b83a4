/*
 * web.h - the daemon's web front door (conf->http): the pages behind the
 * links in mlmd's mails, on the HTTP listener of http.c.
 *
 *   GET  /c/TOKEN         what confirming would do, and a button
 *   POST /c/TOKEN         confirm (sub_web_confirm)
 *   GET  /u/LIST/TOKEN    a member's own unsubscribe page, and a button
 *   POST /u/LIST/TOKEN    unsubscribe at once (RFC 8058 one-click: the
 *                         body List-Unsubscribe=One-Click, urlencoded or
 *                         multipart, or our own form)
 *   GET  /archive/...     the static archive under HOME/archive
 *
 * Only POST changes anything, so link scanners that fetch every URL of a
 * mail confirm and unsubscribe nobody.
 */
#ifndef MLMD_WEB_H
#define MLMD_WEB_H

struct mlmd;

/* Listen on m->conf->http (nothing if it is empty).  Call before
 * dropping privileges.  0 / -1 (logged). */
int web_start(struct mlmd *m);
void web_stop(struct mlmd *m);

#endif
