/*
 * http.h - mlmd's HTTP front door: a libmicrohttpd server driven by the
 * daemon's own poll() loop (no threads), with prefix routes, form parsing
 * and static files.  It is meant to sit behind a reverse proxy that does
 * TLS; it speaks plain HTTP/1.1 on a loopback address.
 *
 * Limits (every one answers before any handler runs):
 *  - methods other than GET, HEAD and POST: 405;
 *  - request URL (path and query, as received) over HTTP_URL_MAX: 414;
 *  - request body over HTTP_BODY_MAX: 413 (a Content-Length over it is
 *    refused before the body is read; a chunked body that passes it has
 *    the connection closed, as no answer can be queued mid-upload);
 *  - more than HTTP_FIELDS_MAX form fields, or one over HTTP_FIELD_MAX
 *    bytes: 413 (query strings: 414);
 *  - request line and headers share HTTP_HEADER_MEM bytes per connection:
 *    libmicrohttpd answers 414/431 itself;
 *  - a client has HTTP_TIMEOUT_S seconds from connecting (or from the end
 *    of its previous request) to send a whole request, however slowly it
 *    drips it (slow-loris), and the same as an idle limit afterwards;
 *  - at most HTTP_CONN_MAX connections, HTTP_CONN_PER_IP from one address.
 *    XXX behind a reverse proxy every connection comes from the proxy, so
 *    the per-address limit caps the proxy's pool too.
 */
#ifndef MLMD_HTTP_H
#define MLMD_HTTP_H

#include "buf.h"

#define HTTP_BODY_MAX    (64 * 1024)
#define HTTP_FIELDS_MAX  32
#define HTTP_FIELD_MAX   (8 * 1024)
#define HTTP_URL_MAX     2048
#define HTTP_HEADER_MEM  (32 * 1024)
#define HTTP_TIMEOUT_S   15
#define HTTP_CONN_MAX    256
#define HTTP_CONN_PER_IP 32
/* Cache-Control max-age of cacheable handler responses and static files. */
#define HTTP_CACHE_AGE        300
#define HTTP_STATIC_CACHE_AGE 3600

struct http;
struct loop;

/* One request as a handler sees it.  Every string is borrowed, valid only
 * during the handler call, never NULL. */
struct http_req {
	const char *method;          /* "GET", "HEAD" or "POST" */
	const char *path;            /* percent-decoded path, e.g. "/c/abc";
	                                valid UTF-8, no control characters
	                                (else 400 before any handler) */
	const char *query;           /* raw query string (not decoded) or "" */
	const char *accept_language; /* header value or "" */
	const char *peer;            /* "127.0.0.1" */
	const char *forwarded_for;   /* X-Forwarded-For or "" */
};

/*
 * A form field: of the body for POST (application/x-www-form-urlencoded or
 * multipart/form-data; file parts are ignored), of the query string for
 * GET and HEAD.  The first of repeated names wins.  NULL if absent.
 * Values are percent-decoded bytes without NUL, otherwise unchecked: the
 * handler validates them (UTF-8, length).  Borrowed, valid during the
 * handler call.
 */
const char *http_req_field(const struct http_req *r, const char *name);

/* What a handler fills in; http.c has set the defaults before the call. */
struct http_resp {
	int status;                   /* default 200 */
	const char *content_type;     /* default "text/html; charset=utf-8" */
	struct buf body;              /* empty; http.c frees it */
	const char *location;         /* Location (303 etc.) or NULL */
	int cacheable;                /* 0 (default): Cache-Control: no-store;
	                                 else max-age=HTTP_CACHE_AGE */
	const char *content_language; /* or NULL */
};

/* Called once per request, after the whole body is read; fills resp
 * synchronously.  Strings put in resp must live until the call returns
 * to http.c, which copies them at once. */
typedef void http_handler_fn(void *arg, const struct http_req *req,
                             struct http_resp *resp);

/*
 * Listen on "127.0.0.1:8025" or "[::1]:8025" (port 0 picks a free one) and
 * serve from the loop l.  NULL on error, with the reason in err (if not
 * NULL) and logged.
 */
struct http *http_new(struct loop *l, const char *listen, struct buf *err);
/* The bound port (useful after port 0). */
unsigned short http_port(const struct http *h);
/* Change the client time limit (HTTP_TIMEOUT_S by default); for tests. */
void http_set_timeout(struct http *h, unsigned seconds);
/*
 * Route requests whose path starts with prefix to fn.  The longest
 * matching prefix wins; a prefix matches at a segment boundary ("/about"
 * matches "/about" and "/about/x", not "/aboutx"; "/c/" matches "/c/x").
 * "/" is the catch-all.  Unmatched paths get a small 404 page.  0 / -1.
 */
int http_route(struct http *h, const char *prefix, http_handler_fn *fn,
               void *arg);
/*
 * Serve the regular files under dir at prefix for GET and HEAD (POST:
 * 405).  Refused (404): "..", hidden segments (a leading "."), backslashes,
 * NUL, symbolic links anywhere below dir (they are never followed), and
 * anything but regular files; a directory serves its index.html.  Answers
 * are cacheable, carry ETag and Last-Modified, and honour If-None-Match
 * and If-Modified-Since with 304.  dir is opened now: 0, or -1 if it is no
 * directory.
 */
int http_static(struct http *h, const char *prefix, const char *dir);
/*
 * From a handler: answer with the regular file rest (a decoded path) below
 * the directory dir, chosen as http_static() does (the same refusals: "..",
 * hidden segments, backslashes, symbolic links, dir itself a symbolic
 * link, anything but regular files; a directory gives its index.html)
 * and typed by its extension like the static files.  For files that only
 * a handler may hand out (a private archive behind a personal link): dir
 * is opened per call, the answer carries X-Robots-Tag: noindex, and
 * resp->cacheable (0 by default: no-store) sets Cache-Control; no ETag.
 * resp must be the one the handler was given.  0: resp->status is 200,
 * resp->content_type set, and the file replaces any body; -1 refused or
 * absent (resp unchanged: the handler answers, e.g. 404).
 */
int http_resp_file(struct http_resp *resp, const char *dir, const char *rest);
/* Stop listening, close every connection, drop the loop's fd and timer. */
void http_free(struct http *h);

#endif
