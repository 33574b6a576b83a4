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
 *   GET  /archive/LIST/search?q=Q&page=N
 *                         search a public archive (archive_search_page;
 *                         Q valid UTF-8 of at most 512 bytes, N 1..1000,
 *                         else 400); one route per list that is public
 *                         when the daemon starts
 *   GET  /p/LIST/TOKEN/REST
 *                         a member's private archive (arch_access.h):
 *                         HOME/private/LIST/REST, or its search for REST
 *                         "search"; 403 for a link that is not (or no
 *                         longer) valid, 404 unless LIST is private;
 *                         never cached, never under /archive/
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
