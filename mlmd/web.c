/*
 * web.c - the routes of the web front door (web.h) and their glue to
 * sub.c, archive.c and arch_access.c.  Owns nothing but the mapping from
 * URLs to sub_web_*(), archive_search_page() and the private archive
 * files, and the checks of what a URL carries (query lengths, token
 * shape) before they go there.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_access.h"
#include "archive.h"
#include "buf.h"
#include "conf.h"
#include "event.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mlmd.h"
#include "outq.h"
#include "post.h"
#include "sub.h"
#include "token.h"
#include "util.h"
#include "web.h"

static void
answer(struct http_resp *resp, int status, struct buf *html, const char *lang)
{
	static char lang_copy[16];

	resp->status = status;
	buf_add(&resp->body, html->s ? html->s : "", html->len);
	strlcpy_(lang_copy, lang, sizeof(lang_copy));
	resp->content_language = lang_copy;
}

static int
is_post(const struct http_req *req)
{
	return strcmp(req->method, "POST") == 0;
}

/*
 * Who asked, for the consent record: the peer, or behind a proxy on this
 * machine the last X-Forwarded-For entry (the one the proxy added; the
 * ones before it are the client's word).  buf: 64 bytes.
 */
static const char *
peer_of(const struct http_req *req, char *buf)
{
	const char *x = req->forwarded_for, *last;

	if (!*x || (strcmp(req->peer, "127.0.0.1") != 0 &&
	            strcmp(req->peer, "::1") != 0))
		return req->peer;
	last = strrchr(x, ',');
	last = last ? last + 1 : x;
	while (*last == ' ')
		last++;
	snprintf(buf, 64, "%.*s", (int)strcspn(last, " "), last);
	return *buf ? buf : req->peer;
}

/* /c/TOKEN */
static void
on_confirm(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct mlmd *m = arg;
	struct sub_ctx ctx = {m->conf, m->db, m->tmpl, &m->key, m->dmarc};
	const char *tok = req->path + 3;
	struct buf html = BUF_INIT;
	char lang[16] = "en", peer[64];
	int st;

	if (strlen(tok) > TOKEN_MAX || strchr(tok, '/')) {
		resp->status = 404;
		buf_adds(&resp->body, "<!doctype html><title>404</title>"
		                      "<p>Not found.</p>\n");
		return;
	}
	st = sub_web_confirm(&ctx, tok, is_post(req), peer_of(req, peer), &html,
	                     lang);
	answer(resp, st, &html, lang);
	if (is_post(req) && st == 200)
		outq_kick(m->outq, 0);
	buf_free(&html);
}

/* /u/LIST/TOKEN */
static void
on_unsubscribe(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct mlmd *m = arg;
	struct sub_ctx ctx = {m->conf, m->db, m->tmpl, &m->key, m->dmarc};
	const char *p = req->path + 3, *slash = strchr(p, '/');
	struct buf html = BUF_INIT;
	char list[CONF_NAME_MAX + 1], lang[16] = "en", peer[64];
	int st;

	if (!slash || (size_t)(slash - p) > CONF_NAME_MAX ||
	    strlen(slash + 1) > TOKEN_MAX || strchr(slash + 1, '/')) {
		resp->status = 404;
		buf_adds(&resp->body, "<!doctype html><title>404</title>"
		                      "<p>Not found.</p>\n");
		return;
	}
	snprintf(list, sizeof(list), "%.*s", (int)(slash - p), p);
	st = sub_web_unsubscribe(&ctx, list, slash + 1, is_post(req),
	                         peer_of(req, peer), &html, lang);
	answer(resp, st, &html, lang);
	if (is_post(req) && st == 200)
		outq_kick(m->outq, 0);
	buf_free(&html);
}

/* ---- the archive: search, and private archives behind personal links -- */

#define SEARCH_Q_MAX    512  /* bytes of a search query */
#define SEARCH_PAGE_MAX 1000 /* result pages one may ask for */

static void
plain_page(struct http_resp *resp, int status, const char *text)
{
	resp->status = status;
	buf_printf(&resp->body,
	           "<!doctype html><meta charset=\"utf-8\"><title>%d</title>"
	           "<p>%s</p>\n",
	           status, text);
}

/*
 * The search page of list for the q and page fields of req: their
 * checks, then archive_search_page().  Public pages may be cached.
 */
static void
search(struct mlmd *m, const struct list_conf *l, const struct http_req *req,
       struct http_resp *resp, int cacheable)
{
	const char *q = http_req_field(req, "q");
	const char *pg = http_req_field(req, "page");
	struct buf html = BUF_INIT;
	long page = 1;
	size_t n;
	int st;

	if (strcmp(req->method, "POST") == 0) {
		plain_page(resp, 405, "Method not allowed.");
		return;
	}
	if (!q)
		q = "";
	n = strlen(q);
	if (n > SEARCH_Q_MAX || !utf8_valid(q, n)) {
		plain_page(resp, 400, "This search cannot be read.");
		return;
	}
	if (pg) {
		n = strlen(pg);
		if (n == 0 || n > 4 || strspn(pg, "0123456789") != n ||
		    (page = strtol(pg, NULL, 10)) < 1 ||
		    page > SEARCH_PAGE_MAX) {
			plain_page(resp, 400, "No such page of results.");
			return;
		}
	}
	st = archive_search_page(m->conf, m->db, l->name, q, page, &html);
	if (st == 200 || st == 400 || st == 404) {
		resp->status = st;
		buf_add(&resp->body, html.s ? html.s : "", html.len);
		resp->cacheable = cacheable && st == 200;
		if (!html.len)
			plain_page(resp, st, st == 404 ? "Not found." : "");
	} else {
		plain_page(resp, 500, "The search failed.");
	}
	buf_free(&html);
}

static int
found(const struct arch_row *r, void *arg)
{
	post_permalink_hash(r->message_id, arg);
	return 0;
}

/*
 * id/MESSAGE-ID (with or without <>): a redirect to the post's page
 * (m/HASH.html, relative, so it works under any prefix), or 404.
 */
static void
by_id(struct mlmd *m, const struct list_conf *l, const char *id,
      struct http_resp *resp)
{
	static char where[64];
	char hash[17], mid[1000];
	size_t n = strlen(id);

	if (n >= 2 && id[0] == '<' && id[n - 1] == '>') {
		id++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(mid)) {
		plain_page(resp, 404, "Not found.");
		return;
	}
	memcpy(mid, id, n);
	mid[n] = '\0';
	if (db_archive_get(m->db, l->name, mid, found, hash) != 0) {
		plain_page(resp, 404, "No such message in this archive.");
		return;
	}
	/* from LIST/id/X (X may hold slashes): up to LIST/ */
	{
		struct buf w = BUF_INIT;
		const char *p;

		buf_adds(&w, "../");
		for (p = id; p < id + n; p++)
			if (*p == '/')
				buf_adds(&w, "../");
		buf_printf(&w, "m/%s.html", hash);
		if (w.len >= sizeof(where)) {
			buf_free(&w);
			plain_page(resp, 404, "Not found.");
			return;
		}
		strlcpy_(where, buf_str(&w), sizeof(where));
		buf_free(&w);
	}
	resp->location = where;
	resp->cacheable = 1;
	plain_page(resp, 301, "Moved.");
}

/* /archive/LIST/search and /archive/LIST/id/MESSAGE-ID (routes per
 * public list) */
static void
on_archive_search(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct mlmd *m = arg;
	const char *p = req->path + strlen("/archive/");
	const char *slash = strchr(p, '/');
	const struct list_conf *l = NULL;
	char list[CONF_NAME_MAX + 1];

	if (slash && (size_t)(slash - p) <= CONF_NAME_MAX &&
	    (strcmp(slash, "/search") == 0 ||
	     strncmp(slash, "/id/", 4) == 0)) {
		snprintf(list, sizeof(list), "%.*s", (int)(slash - p), p);
		l = conf_list(m->conf, list);
	}
	/* The configuration may have changed since the route was made. */
	if (!l || l->archive != ARCH_PUBLIC) {
		plain_page(resp, 404, "Not found.");
		return;
	}
	if (strncmp(slash, "/id/", 4) == 0)
		by_id(m, l, slash + 4, resp);
	else
		search(m, l, req, resp, 1);
}

/*
 * /p/LIST/TOKEN/REST: a member's personal link to a private archive
 * (arch_access.h), REST under HOME/private/LIST/, or its search.  Never
 * cached; a refused link learns nothing but 403.
 */
static void
on_private(void *arg, const struct http_req *req, struct http_resp *resp)
{
	static char again[TOKEN_MAX + 2];
	struct mlmd *m = arg;
	const char *p = req->path + 3, *slash = strchr(p, '/'), *tok, *rest;
	const struct list_conf *l = NULL;
	char list[CONF_NAME_MAX + 1], token[TOKEN_MAX + 1];
	struct buf dir = BUF_INIT;
	size_t n;

	resp->cacheable = 0;
	if (slash && (size_t)(slash - p) <= CONF_NAME_MAX) {
		snprintf(list, sizeof(list), "%.*s", (int)(slash - p), p);
		l = conf_list(m->conf, list);
	}
	if (!l || l->archive != ARCH_PRIVATE) {
		plain_page(resp, 404, "Not found.");
		return;
	}
	tok = slash + 1;
	n = strcspn(tok, "/");
	rest = tok[n] ? tok + n + 1 : NULL;
	if (n > TOKEN_MAX) {
		plain_page(resp, 403, "Forbidden.");
		return;
	}
	snprintf(token, sizeof(token), "%.*s", (int)n, tok);
	if (!arch_access_check(m->conf, m->db, &m->key, l->name, token)) {
		plain_page(resp, 403, "Forbidden.");
		return;
	}
	if (!rest) {
		/* Relative links need the trailing slash; a relative
		 * Location keeps whatever path the proxy put before /p/. */
		snprintf(again, sizeof(again), "%s/", token);
		resp->location = again;
		plain_page(resp, 301, "Moved.");
		return;
	}
	if (strcmp(rest, "search") == 0) {
		search(m, l, req, resp, 0);
		return;
	}
	if (strncmp(rest, "id/", 3) == 0) {
		by_id(m, l, rest + 3, resp);
		resp->cacheable = 0;
		return;
	}
	if (strcmp(req->method, "POST") == 0) {
		plain_page(resp, 405, "Method not allowed.");
		return;
	}
	buf_printf(&dir, "%s/private/%s", m->conf->home, l->name);
	if (http_resp_file(resp, buf_str(&dir), rest) < 0)
		plain_page(resp, 404, "Not found.");
	buf_free(&dir);
}

/* /e/TOKEN: a member's answer to an event (GET shows, POST records) */
static void
on_event(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct mlmd *m = arg;
	struct event_ctx ex = {m->conf, m->db, m->tmpl, &m->key, 0};
	const char *tok = req->path + 3;
	struct buf html = BUF_INIT;
	char lang[16] = "en";
	int st;

	if (strlen(tok) > TOKEN_MAX || strchr(tok, '/')) {
		plain_page(resp, 404, "Not found.");
		return;
	}
	st = event_web(&ex, tok, is_post(req), http_req_field(req, "answer"),
	               http_req_field(req, "guests"), &html, lang);
	answer(resp, st, &html, lang);
	if (is_post(req) && st == 200)
		outq_kick(m->outq, 0);
	buf_free(&html);
}

/* /events/LIST.ics: the list's events (public archives only) */
static void
on_events_feed(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct mlmd *m = arg;
	struct event_ctx ex = {m->conf, m->db, m->tmpl, &m->key, 0};
	const char *p = req->path + strlen("/events/");
	const struct list_conf *l = NULL;
	char list[CONF_NAME_MAX + 1];
	size_t n = strlen(p);

	if (n > 4 && n - 4 <= CONF_NAME_MAX && strcmp(p + n - 4, ".ics") == 0) {
		snprintf(list, sizeof(list), "%.*s", (int)(n - 4), p);
		l = conf_list(m->conf, list);
	}
	if (!l || l->archive != ARCH_PUBLIC) {
		plain_page(resp, 404, "Not found.");
		return;
	}
	if (event_feed(&ex, l->name, &resp->body) < 0) {
		buf_reset(&resp->body);
		plain_page(resp, 500, "The feed failed.");
		return;
	}
	resp->content_type = "text/calendar; charset=utf-8";
	resp->cacheable = 1;
}

int
web_start(struct mlmd *m)
{
	struct buf err = BUF_INIT, dir = BUF_INIT;
	size_t i;

	if (!m->conf->http || !*m->conf->http)
		return 0;
	m->http = http_new(m->loop, m->conf->http, &err);
	buf_free(&err); /* http_new() logged it */
	if (!m->http)
		return -1;
	buf_printf(&dir, "%s/archive", m->conf->home);
	/* priv_prepare_home() made HOME/archive, owned by the user. */
	if (http_route(m->http, "/c/", on_confirm, m) < 0 ||
	    http_route(m->http, "/u/", on_unsubscribe, m) < 0 ||
	    http_static(m->http, "/archive/", buf_str(&dir)) < 0 ||
	    http_route(m->http, "/p/", on_private, m) < 0 ||
	    http_route(m->http, "/e/", on_event, m) < 0 ||
	    http_route(m->http, "/events/", on_events_feed, m) < 0) {
		buf_free(&dir);
		web_stop(m);
		return -1;
	}
	/* The longest prefix wins over the static mount.  XXX lists made
	 * public by a reload (SIGHUP) get their search at the next start. */
	for (i = 0; i < m->conf->n_lists; i++) {
		if (m->conf->lists[i].archive != ARCH_PUBLIC)
			continue;
		buf_reset(&dir);
		buf_printf(&dir, "/archive/%s/search", m->conf->lists[i].name);
		if (http_route(m->http, buf_str(&dir), on_archive_search, m) <
		    0) {
			buf_free(&dir);
			web_stop(m);
			return -1;
		}
		buf_reset(&dir);
		buf_printf(&dir, "/archive/%s/id", m->conf->lists[i].name);
		if (http_route(m->http, buf_str(&dir), on_archive_search, m) <
		    0) {
			buf_free(&dir);
			web_stop(m);
			return -1;
		}
	}
	buf_free(&dir);
	log_info("web front door on http://%s/", m->conf->http);
	return 0;
}

void
web_stop(struct mlmd *m)
{
	http_free(m->http);
	m->http = NULL;
}
