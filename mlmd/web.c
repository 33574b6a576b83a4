/*
 * web.c - the routes of the web front door (web.h) and their glue to
 * sub.c.  Owns nothing but the mapping from URLs to sub_web_*().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "mlmd.h"
#include "outq.h"
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

int
web_start(struct mlmd *m)
{
	struct buf err = BUF_INIT, dir = BUF_INIT;

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
	    http_static(m->http, "/archive/", buf_str(&dir)) < 0) {
		buf_free(&dir);
		web_stop(m);
		return -1;
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
