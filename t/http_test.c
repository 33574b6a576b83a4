/*
 * http_test.c - mlmd/http.c against a real client.  A child process runs
 * the daemon's loop with two servers on 127.0.0.1:0 (one without a
 * catch-all route, one with) and reports the ports through a pipe; the
 * parent talks to them with libcurl (easy and multi) and raw sockets:
 * routes, limits, forms in both encodings, static files and their
 * refusals, timeouts of idle and slow clients, the per-address limit, the
 * log's token redaction, and a clean stop on SIGTERM (the child exits 0
 * only if nothing went wrong, and under ASan only without leaks).
 */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "tap.h"

static char tmp[] = "/tmp/http_test.XXXXXX";
static char dir[64], logpath[80];
static unsigned short port, port2;

/* ---- the child: handlers and server -------------------------------------- */

static int calls; /* handler calls of /echo, reported by /count */

static void
h_name(void *arg, const struct http_req *req, struct http_resp *resp)
{
	buf_printf(&resp->body, "%s:%s", (const char *)arg, req->path);
}

static void
h_echo(void *arg, const struct http_req *req, struct http_resp *resp)
{
	const char *v = http_req_field(req, "List-Unsubscribe");
	const char *q = http_req_field(req, "q");

	calls++;
	resp->content_type = "text/plain; charset=utf-8";
	buf_printf(&resp->body, "%s %s q=%s query=%s", req->method,
	           v ? v : "(none)", q ? q : "(none)", req->query);
}

static void
h_count(void *arg, const struct http_req *req, struct http_resp *resp)
{
	buf_printf(&resp->body, "%d", calls);
}

static void
h_redir(void *arg, const struct http_req *req, struct http_resp *resp)
{
	resp->status = 303;
	resp->location = "/a/done";
	resp->cacheable = 1;
	resp->content_language = "da";
}

static void
h_bad(void *arg, const struct http_req *req, struct http_resp *resp)
{
	resp->status = 303;
	resp->location = "/x\r\nSet-Cookie: evil=1";
}

static void
h_hdrs(void *arg, const struct http_req *req, struct http_resp *resp)
{
	buf_printf(&resp->body, "lang=%s fwd=%s peer=%s", req->accept_language,
	           req->forwarded_for, req->peer);
}

static void
on_term(struct loop *l, int signo, void *arg)
{
	loop_stop(l);
}

static void
on_stop(struct loop *l, void *arg)
{
	loop_stop(l);
}

static int
child(int wfd)
{
	struct loop *l = loop_new();
	struct http *h, *h2;
	struct buf err = BUF_INIT;
	unsigned short ports[2];
	int fd;

	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 2) < 0)
		return 2;
	close(fd);
	log_open("http_test", 1, L_DEBUG);
	signal(SIGPIPE, SIG_IGN);
	h = http_new(l, "127.0.0.1:0", &err);
	h2 = http_new(l, "127.0.0.1:0", &err);
	if (!h || !h2)
		return 3;
	http_set_timeout(h, 1);
	if (http_route(h, "/a", h_name, "a") < 0 ||
	    http_route(h, "/a/b", h_name, "ab") < 0 ||
	    http_route(h, "/c/", h_name, "c") < 0 ||
	    http_route(h, "/echo", h_echo, NULL) < 0 ||
	    http_route(h, "/count", h_count, NULL) < 0 ||
	    http_route(h, "/redir", h_redir, NULL) < 0 ||
	    http_route(h, "/bad", h_bad, NULL) < 0 ||
	    http_route(h, "/hdrs", h_hdrs, NULL) < 0 ||
	    http_static(h, "/static/", dir) < 0 ||
	    http_route(h2, "/", h_name, "root") < 0 ||
	    http_route(h2, "/a", h_name, "a2") < 0)
		return 4;
	if (http_route(h, "/a", h_name, "again") == 0 ||
	    http_static(h, "/nodir", "/nonexistent/dir") == 0)
		return 5;
	if (loop_add_signal(l, SIGTERM, on_term, NULL) < 0)
		return 6;
	ports[0] = http_port(h);
	ports[1] = http_port(h2);
	if (write(wfd, ports, sizeof(ports)) != (ssize_t)sizeof(ports))
		return 7;
	close(wfd);
	if (loop_run(l) < 0)
		return 8;
	http_free(h);
	http_free(h2);
	/*
	 * Run the loop once more: a timer or descriptor left behind would
	 * now call into freed memory (ASan) or spin.
	 */
	loop_add_timer(l, 1200, on_stop, NULL);
	if (loop_run(l) < 0)
		return 9;
	loop_free(l);
	buf_free(&err);
	return 0;
}

/* ---- the parent: a libcurl client ---------------------------------------- */

struct resp {
	long code;
	CURLcode rc;
	struct buf body, hdrs;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	buf_add(arg, p, size * n);
	return size * n;
}

static void
setup(CURL *c, struct resp *r, const char *path, unsigned short p)
{
	char url[4096];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", p, path);
	buf_init(&r->body, 0);
	buf_init(&r->hdrs, 0);
	r->code = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
}

static void
perform(CURL *c, struct resp *r)
{
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
}

static void
resp_free(struct resp *r)
{
	buf_free(&r->body);
	buf_free(&r->hdrs);
}

/* GET (or method) path on the first server, with optional extra headers. */
static void
get_on(unsigned short p, const char *method, const char *path,
       struct curl_slist *hdrs, struct resp *r)
{
	CURL *c = curl_easy_init();

	setup(c, r, path, p);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	perform(c, r);
}

static void
get(const char *method, const char *path, struct resp *r)
{
	get_on(port, method, path, NULL, r);
}

static void
post(const char *path, const char *data, size_t n, int chunked, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;

	setup(c, r, path, port);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
	if (chunked) {
		hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	}
	perform(c, r);
	curl_slist_free_all(hl);
}

static void
post_mime(const char *path, const char *name, const char *value, int with_file,
          struct resp *r)
{
	CURL *c = curl_easy_init();
	curl_mime *m = curl_mime_init(c);
	curl_mimepart *part;

	setup(c, r, path, port);
	if (with_file) {
		part = curl_mime_addpart(m);
		curl_mime_name(part, "q");
		curl_mime_filename(part, "q.txt");
		curl_mime_data(part, "file content", CURL_ZERO_TERMINATED);
	}
	part = curl_mime_addpart(m);
	curl_mime_name(part, name);
	curl_mime_data(part, value, CURL_ZERO_TERMINATED);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
	perform(c, r);
	curl_mime_free(m);
}

/* Is "name: value" (value may be a prefix) among the headers? */
static int
has_header(const struct resp *r, const char *name, const char *value)
{
	struct buf want = BUF_INIT;
	int found;

	buf_printf(&want, "\r\n%s: %s", name, value);
	found = strcasestr(buf_str(&r->hdrs), buf_str(&want)) != NULL;
	buf_free(&want);
	return found;
}

static void
expect(const char *method, const char *path, long code, const char *body,
       const char *what)
{
	struct resp r;

	get(method, path, &r);
	is_int(r.code, code, "%s: %s %s gives %ld", what, method, path, code);
	if (body)
		is_str(buf_str(&r.body), body, "%s: body", what);
	resp_free(&r);
}

/* ---- raw sockets --------------------------------------------------------- */

static int
connect_to(unsigned short p)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to ms for the server to close fd; 1 if it did. */
static int
closed_within(int fd, int ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	char b[512];

	for (;;) {
		ssize_t n;

		if (poll(&pfd, 1, ms) <= 0)
			return 0;
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return 1;
	}
}

/* Send "GET ..." a few bytes at a time, every 200 ms, for up to 6 s;
 * returns ms until the server closed the connection, or -1. */
static long long
slow_loris(void)
{
	static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n"
	                          "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
	long long t0 = now_ms();
	size_t i;
	int fd = connect_to(port);

	if (fd < 0)
		return -1;
	for (i = 0; now_ms() - t0 < 6000; i++) {
		if (i < sizeof(req) - 1 &&
		    send(fd, req + i, 1, MSG_NOSIGNAL) < 0)
			break;
		if (closed_within(fd, 200))
			break;
	}
	close(fd);
	return now_ms() - t0 < 6000 ? now_ms() - t0 : -1;
}

/* ---- fixtures ------------------------------------------------------------ */

static void
put_file(const char *name, const char *content)
{
	struct buf p = BUF_INIT;
	FILE *f;

	buf_printf(&p, "%s/%s", tmp, name);
	f = fopen(buf_str(&p), "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
	buf_free(&p);
}

static void
make_tree(void)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	snprintf(dir, sizeof(dir), "%s/static", tmp);
	snprintf(logpath, sizeof(logpath), "%s/log", tmp);
	mkdir(dir, 0700);
	buf_printf(&a, "%s/sub", dir);
	mkdir(buf_str(&a), 0700);
	buf_reset(&a);
	buf_printf(&a, "%s/.git", dir);
	mkdir(buf_str(&a), 0700);
	put_file("secret.txt", "SECRET\n");
	put_file("static/a.css", "body{}\n");
	put_file("static/b.js", "1;\n");
	put_file("static/feed.atom", "<feed/>\n");
	put_file("static/c.xml", "<x/>\n");
	put_file("static/list.mbox", "From x\n");
	put_file("static/d.json", "{}\n");
	put_file("static/e.txt", "text\n");
	put_file("static/f.png", "PNG");
	put_file("static/g.svg", "<svg/>");
	put_file("static/favicon.ico", "ICO");
	put_file("static/h.woff2", "WOFF");
	put_file("static/blob.bin", "BIN");
	put_file("static/index.html", "top index\n");
	put_file("static/sub/index.html", "sub index\n");
	put_file("static/.hidden", "hidden\n");
	put_file("static/.git/config", "hidden\n");
	buf_reset(&a);
	buf_printf(&a, "%s/escape", dir);
	buf_printf(&b, "%s/secret.txt", tmp);
	if (symlink(buf_str(&b), buf_str(&a)) < 0)
		perror("symlink");
	buf_reset(&a);
	buf_printf(&a, "%s/rel", dir);
	if (symlink("../secret.txt", buf_str(&a)) < 0)
		perror("symlink");
	buf_reset(&a);
	buf_printf(&a, "%s/inside", dir);
	if (symlink("a.css", buf_str(&a)) < 0)
		perror("symlink");
	buf_reset(&a);
	buf_printf(&a, "%s/subl", dir);
	if (symlink("sub", buf_str(&a)) < 0)
		perror("symlink");
	buf_free(&a);
	buf_free(&b);
}

/* ---- the tests ----------------------------------------------------------- */

static void
test_routes(void)
{
	struct resp r;

	expect("GET", "/a", 200, "a:/a", "route");
	expect("GET", "/a/x", 200, "a:/a/x", "prefix");
	expect("GET", "/a/b", 200, "ab:/a/b", "longest prefix");
	expect("GET", "/a/b/c", 200, "ab:/a/b/c", "longest prefix, deeper");
	expect("GET", "/a/bc", 200, "a:/a/bc", "segment boundary");
	expect("GET", "/ab", 404, NULL, "no match inside a segment");
	expect("GET", "/nothing", 404, NULL, "unknown path");
	expect("GET", "/a%2Fb", 200, "ab:/a/b", "path is percent-decoded");
	expect("GET", "/a/%C3%A6", 200, "a:/a/\xc3\xa6", "UTF-8 path");
	expect("GET", "/a/%ff", 400, NULL, "path not UTF-8");
	expect("GET", "/a/%0d%0aX:%20y", 400, NULL, "control characters");
	expect("GET", "/a/%00", 400, NULL, "NUL");

	get_on(port2, "GET", "/anything/at/all", NULL, &r);
	is_str(buf_str(&r.body), "root:/anything/at/all", "catch-all /");
	resp_free(&r);
	get_on(port2, "GET", "/a/z", NULL, &r);
	is_str(buf_str(&r.body), "a2:/a/z", "catch-all loses to /a");
	resp_free(&r);

	get("GET", "/nothing", &r);
	ok(strstr(buf_str(&r.body), "<h1>Not Found</h1>") != NULL &&
	       has_header(&r, "Content-Type", "text/html; charset=utf-8"),
	   "404 page is small HTML");
	resp_free(&r);

	expect("PUT", "/a", 405, NULL, "PUT refused");
	expect("DELETE", "/a", 405, NULL, "DELETE refused");
	expect("OPTIONS", "/a", 405, NULL, "OPTIONS refused");
	get("DELETE", "/nothing", &r);
	ok(r.code == 405 && has_header(&r, "Allow", "GET, HEAD, POST"),
	   "405 (even for an unknown path) names the allowed methods");
	resp_free(&r);

	get("HEAD", "/a/b", &r);
	if (!ok(r.code == 200 && r.body.len == 0 &&
	            has_header(&r, "Content-Length", "7\r"),
	        "HEAD: no body, the GET's Content-Length"))
		diag("%ld %s", r.code, buf_str(&r.hdrs));
	resp_free(&r);

	get("GET", "/redir", &r);
	ok(r.code == 303 && has_header(&r, "Location", "/a/done") &&
	       has_header(&r, "Cache-Control", "max-age=300") &&
	       has_header(&r, "Content-Language", "da"),
	   "303 with Location, cacheable, Content-Language");
	resp_free(&r);
	get("GET", "/bad", &r);
	ok(r.code == 500 && !strcasestr(buf_str(&r.hdrs), "Set-Cookie"),
	   "a header with CRLF from a handler gives 500, no injection");
	resp_free(&r);
}

static void
test_headers(void)
{
	static const char *paths[] = {"/a", "/nothing", "/static/a.css"};
	struct curl_slist *hl = NULL;
	struct resp r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		get("GET", paths[i], &r);
		ok(has_header(&r, "X-Content-Type-Options", "nosniff") &&
		       has_header(&r, "Referrer-Policy", "no-referrer") &&
		       has_header(&r, "X-Frame-Options", "DENY") &&
		       has_header(&r, "Content-Security-Policy",
		                  "default-src 'none'") &&
		       strstr(buf_str(&r.hdrs), "frame-ancestors 'none'"),
		   "security headers on %s", paths[i]);
		resp_free(&r);
	}
	get("GET", "/a", &r);
	ok(has_header(&r, "Cache-Control", "no-store") &&
	       strstr(buf_str(&r.hdrs),
	              "default-src 'none'; style-src 'unsafe-inline'; "
	              "img-src 'self'; form-action 'self'; "
	              "frame-ancestors 'none'"),
	   "pages: no-store and the strict CSP");
	resp_free(&r);

	hl = curl_slist_append(hl, "Accept-Language: da, en;q=0.5");
	hl = curl_slist_append(hl, "X-Forwarded-For: 192.0.2.7");
	get_on(port, "GET", "/hdrs", hl, &r);
	is_str(buf_str(&r.body),
	       "lang=da, en;q=0.5 fwd=192.0.2.7 peer=127.0.0.1",
	       "Accept-Language, X-Forwarded-For, peer");
	resp_free(&r);
	curl_slist_free_all(hl);
	get("GET", "/hdrs", &r);
	is_str(buf_str(&r.body), "lang= fwd= peer=127.0.0.1",
	       "absent headers are \"\"");
	resp_free(&r);
}

static void
test_forms(void)
{
	static const char one_click[] = "List-Unsubscribe=One-Click";
	struct buf big = BUF_INIT;
	struct resp r;
	char count[16];
	int i;

	post("/echo", one_click, strlen(one_click), 0, &r);
	is_str(buf_str(&r.body),
	       "POST One-Click q=(none) query=", "urlencoded POST (RFC 8058)");
	resp_free(&r);
	post_mime("/echo", "List-Unsubscribe", "One-Click", 0, &r);
	is_str(buf_str(&r.body), "POST One-Click q=(none) query=",
	       "multipart POST (curl -F) gives the same field");
	resp_free(&r);
	post_mime("/echo", "List-Unsubscribe", "One-Click", 1, &r);
	is_str(buf_str(&r.body), "POST One-Click q=(none) query=",
	       "multipart: a file part is ignored");
	resp_free(&r);
	post("/echo?q=1", "q=2&List-Unsubscribe=One%2DClick&x=", 35, 0, &r);
	is_str(buf_str(&r.body), "POST One-Click q=2 query=q=1",
	       "POST: fields from the body, query raw, decoding");
	resp_free(&r);
	post("/echo", one_click, strlen(one_click), 1, &r);
	is_str(buf_str(&r.body),
	       "POST One-Click q=(none) query=", "chunked POST");
	resp_free(&r);
	post("/echo", "", 0, 0, &r);
	is_str(buf_str(&r.body), "POST (none) q=(none) query=", "empty POST");
	resp_free(&r);

	get("GET", "/echo?List-Unsubscribe=One-Click&q=a%20b&flag", &r);
	is_str(buf_str(&r.body),
	       "GET One-Click q=a b query=List-Unsubscribe=One-Click&q=a%20b"
	       "&flag",
	       "GET: query fields");
	resp_free(&r);

	get("GET", "/count", &r);
	strlcpy_(count, buf_str(&r.body), sizeof(count));
	resp_free(&r);

	for (i = 0; i < 100 * 1024; i++)
		buf_addc(&big, 'x');
	post("/echo", buf_str(&big), big.len, 0, &r);
	is_int(r.code, 413, "100 KiB body: 413");
	resp_free(&r);
	post("/echo", buf_str(&big), big.len, 1, &r);
	ok(r.code != 200, "100 KiB chunked body: refused (%ld)", r.code);
	resp_free(&r);

	buf_reset(&big);
	for (i = 0; i < HTTP_FIELDS_MAX + 1; i++)
		buf_printf(&big, "%sf%d=v", i ? "&" : "", i);
	post("/echo", buf_str(&big), big.len, 0, &r);
	is_int(r.code, 413, "%d fields: 413", HTTP_FIELDS_MAX + 1);
	resp_free(&r);
	buf_reset(&big);
	buf_adds(&big, "q=");
	for (i = 0; i < HTTP_FIELD_MAX + 1; i++)
		buf_addc(&big, 'y');
	post("/echo", buf_str(&big), big.len, 0, &r);
	is_int(r.code, 413, "a field over 8 KiB: 413");
	resp_free(&r);
	post_mime("/echo", "q", buf_str(&big) + 2, 0, &r);
	is_int(r.code, 413, "a multipart field over 8 KiB: 413");
	resp_free(&r);

	get("GET", "/count", &r);
	is_str(buf_str(&r.body), count, "the handler was not called for any");
	resp_free(&r);

	buf_reset(&big);
	buf_adds(&big, "/a?x=");
	for (i = 0; i < 3000; i++)
		buf_addc(&big, 'z');
	get("GET", buf_str(&big), &r);
	is_int(r.code, 414, "3000-byte URL: 414");
	resp_free(&r);
	buf_reset(&big);
	buf_adds(&big, "/a?");
	for (i = 0; i < HTTP_FIELDS_MAX + 1; i++)
		buf_printf(&big, "&k%d=1", i);
	get("GET", buf_str(&big), &r);
	is_int(r.code, 414, "too many query fields: 414");
	resp_free(&r);
	buf_reset(&big);
	for (i = 0; i < 40 * 1024; i++)
		buf_addc(&big, 'h');
	{
		struct curl_slist *hl = NULL;
		struct buf hv = BUF_INIT;

		buf_printf(&hv, "X-Big: %s", buf_str(&big));
		hl = curl_slist_append(hl, buf_str(&hv));
		get_on(port, "GET", "/a", hl, &r);
		ok(r.code == 431 || r.code == 413 || r.code == 400 ||
		       r.code == 0,
		   "40 KiB header refused by libmicrohttpd (%ld)", r.code);
		resp_free(&r);
		curl_slist_free_all(hl);
		buf_free(&hv);
	}
	buf_free(&big);
}

static void
test_static(void)
{
	static const struct {
		const char *path, *type;
	} t[] = {
	    {"/static/a.css", "text/css; charset=utf-8"},
	    {"/static/b.js", "text/javascript"},
	    {"/static/feed.atom", "application/atom+xml"},
	    {"/static/c.xml", "application/xml"},
	    {"/static/list.mbox", "application/mbox"},
	    {"/static/d.json", "application/json"},
	    {"/static/e.txt", "text/plain"},
	    {"/static/f.png", "image/png"},
	    {"/static/g.svg", "image/svg+xml"},
	    {"/static/favicon.ico", "image/vnd.microsoft.icon"},
	    {"/static/h.woff2", "font/woff2"},
	    {"/static/blob.bin", "application/octet-stream"},
	    {"/static/sub/", "text/html; charset=utf-8"},
	};
	static const char *refused[] = {
	    "/static/../secret.txt",
	    "/static/%2e%2e/secret.txt",
	    "/static/sub/..%2f..%2fsecret.txt",
	    "/static/sub/../a.css",
	    "/static/./a.css",
	    "/static/escape",
	    "/static/rel",
	    "/static/inside",
	    "/static/subl/index.html",
	    "/static/.hidden",
	    "/static/.git/config",
	    "/static/sub%5c..%5c..%5csecret.txt",
	    "/static/nonexistent",
	    "/static/a.css/",
	};
	struct curl_slist *hl = NULL;
	struct buf h = BUF_INIT;
	struct resp r;
	const char *p, *e;
	char etag[64], lm[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		get("GET", t[i].path, &r);
		ok(r.code == 200 && has_header(&r, "Content-Type", t[i].type),
		   "static %s: %s", t[i].path, t[i].type);
		resp_free(&r);
	}
	expect("GET", "/static/", 200, "top index\n", "static: index.html");
	expect("GET", "/static/sub", 200, "sub index\n",
	       "static: a directory without the slash");
	expect("GET", "/static/a.css", 200, "body{}\n", "static: content");
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		expect("GET", refused[i], 404, NULL, "static: refused");
	expect("GET", "/static/a.css%00.png", 400, NULL, "static: NUL");
	expect("POST", "/static/a.css", 405, NULL, "static: POST");

	get("HEAD", "/static/a.css", &r);
	ok(r.code == 200 && r.body.len == 0 &&
	       has_header(&r, "Content-Length", "7\r"),
	   "static HEAD");
	resp_free(&r);

	get("GET", "/static/a.css", &r);
	ok(has_header(&r, "Cache-Control", "max-age=3600") &&
	       has_header(&r, "Content-Security-Policy",
	                  "default-src 'none'; style-src 'self'"),
	   "static: cacheable, CSP allows 'self'");
	etag[0] = lm[0] = '\0';
	if ((p = strcasestr(buf_str(&r.hdrs), "\r\nETag: ")) &&
	    (e = strstr(p + 8, "\r\n")) && (size_t)(e - p - 8) < sizeof(etag))
		snprintf(etag, sizeof(etag), "%.*s", (int)(e - p - 8), p + 8);
	if ((p = strcasestr(buf_str(&r.hdrs), "\r\nLast-Modified: ")) &&
	    (e = strstr(p + 17, "\r\n")) && (size_t)(e - p - 17) < sizeof(lm))
		snprintf(lm, sizeof(lm), "%.*s", (int)(e - p - 17), p + 17);
	ok(etag[0] == '"' && strlen(lm) == 29, "ETag %s, Last-Modified %s",
	   etag, lm);
	resp_free(&r);

	buf_printf(&h, "If-Modified-Since: %s", lm);
	hl = curl_slist_append(hl, buf_str(&h));
	get_on(port, "GET", "/static/a.css", hl, &r);
	ok(r.code == 304 && r.body.len == 0, "If-Modified-Since: 304");
	resp_free(&r);
	curl_slist_free_all(hl);
	hl = curl_slist_append(
	    NULL, "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT");
	get_on(port, "GET", "/static/a.css", hl, &r);
	is_int(r.code, 200, "older If-Modified-Since: 200");
	resp_free(&r);
	curl_slist_free_all(hl);
	buf_reset(&h);
	buf_printf(&h, "If-None-Match: %s", etag);
	hl = curl_slist_append(NULL, buf_str(&h));
	get_on(port, "GET", "/static/a.css", hl, &r);
	ok(r.code == 304 && has_header(&r, "ETag", etag), "If-None-Match: 304");
	resp_free(&r);
	curl_slist_free_all(hl);
	hl = curl_slist_append(NULL, "If-None-Match: \"other\"");
	get_on(port, "GET", "/static/a.css", hl, &r);
	is_int(r.code, 200, "another ETag: 200");
	resp_free(&r);
	curl_slist_free_all(hl);
	buf_free(&h);
}

static void
test_concurrent(void)
{
	enum { N = 50 };
	CURLM *m = curl_multi_init();
	CURL *c[N];
	struct resp r[N];
	int i, running = 1, good = 0;
	long reused = 0;

	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	for (i = 0; i < N; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/a/%d", i);
		c[i] = curl_easy_init();
		setup(c[i], &r[i], path, port);
		curl_multi_add_handle(m, c[i]);
	}
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	for (i = 0; i < N; i++) {
		char want[32];
		long code = 0, conns = -1;

		snprintf(want, sizeof(want), "a:/a/%d", i);
		curl_easy_getinfo(c[i], CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c[i], CURLINFO_NUM_CONNECTS, &conns);
		if (code == 200 && strcmp(buf_str(&r[i].body), want) == 0)
			good++;
		if (conns == 0)
			reused++;
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
		resp_free(&r[i]);
	}
	curl_multi_cleanup(m);
	is_int(good, N, "%d concurrent requests all answered", N);
	ok(reused > 0, "keep-alive connections were reused (%ld times)",
	   reused);
}

static void
test_timeouts(void)
{
	enum { N = HTTP_CONN_PER_IP + 8 };
	int fds[N], i, cut = 0;
	long long t0, ms;
	int fd;

	fd = connect_to(port);
	t0 = now_ms();
	ok(fd >= 0 && closed_within(fd, 5000), "silent client dropped");
	ms = now_ms() - t0;
	ok(ms >= 900 && ms < 3000, "... after the 1 s timeout (%lld ms)", ms);
	if (fd >= 0)
		close(fd);

	ms = slow_loris();
	ok(ms >= 900 && ms < 3000,
	   "slow-loris client cut at the timeout (%lld ms)", ms);

	/* The per-address limit: the extra connections are closed at once. */
	usleep(300 * 1000);
	for (i = 0; i < N; i++)
		fds[i] = connect_to(port);
	/* one look at all of them, well inside the 1 s idle limit (looking
	 * one by one with a wait each took longer than that on a loaded
	 * machine, and the idle limit then cut the allowed ones too) */
	usleep(200 * 1000);
	for (i = 0; i < N; i++) {
		char c;
		ssize_t k = fds[i] < 0 ? 0
		                       : recv(fds[i], &c, 1,
		                              MSG_PEEK | MSG_DONTWAIT);

		/* closed: end of file, or reset */
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			cut++;
	}
	/* A connection of the tests before may still be closing on the
	 * server's side and count against the address: allow two. */
	ok(cut >= N - HTTP_CONN_PER_IP && cut <= N - HTTP_CONN_PER_IP + 2,
	   "%d connections from one address: %d refused (want %d)", N, cut,
	   N - HTTP_CONN_PER_IP);
	for (i = 0; i < N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	usleep(300 * 1000);
	expect("GET", "/a", 200, "a:/a", "served again after they left");
}

int
main(void)
{
	struct resp r;
	struct buf log = BUF_INIT;
	int pfd[2], status = -1;
	unsigned short ports[2];
	pid_t pid;

	if (!mkdtemp(tmp)) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	make_tree();
	if (pipe(pfd) < 0 || (pid = fork()) < 0) {
		ok(0, "pipe/fork");
		return done_testing();
	}
	if (pid == 0) {
		close(pfd[0]);
		/* exit(), not _exit(): LSan checks the child too. */
		exit(child(pfd[1]));
	}
	close(pfd[1]);
	if (read(pfd[0], ports, sizeof(ports)) != (ssize_t)sizeof(ports)) {
		ok(0, "the server child started");
		waitpid(pid, &status, 0);
		diag("child status %d", status);
		return done_testing();
	}
	close(pfd[0]);
	port = ports[0];
	port2 = ports[1];
	ok(port > 0 && port2 > 0 && port != port2, "ports %u and %u", port,
	   port2);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	test_routes();
	test_headers();
	test_forms();
	test_static();
	test_concurrent();
	test_timeouts();

	get("GET", "/c/abcdefghijklmnop", &r);
	is_str(buf_str(&r.body), "c:/c/abcdefghijklmnop", "token route");
	resp_free(&r);
	get("GET", "/c/", &r);
	is_str(buf_str(&r.body), "c:/c/", "empty token");
	resp_free(&r);

	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SIGTERM: the server child frees everything and exits 0 (%d)",
	   status);
	buf_init(&log, 0);
	read_file(logpath, &log);
	ok(strstr(buf_str(&log), "GET /c/abcdef\xe2\x80\xa6 200 127.0.0.1") !=
	       NULL,
	   "a /c/ token is logged as its first 6 characters");
	ok(strstr(buf_str(&log), "ghijkl") == NULL,
	   "the rest of the token is not logged");
	ok(strstr(buf_str(&log), "GET /a/b 200 127.0.0.1") != NULL,
	   "one line per request");
	if (tap_failed)
		diag("server log kept in %s", logpath);
	else {
		struct buf cmd = BUF_INIT;

		buf_printf(&cmd, "rm -rf '%s'", tmp);
		if (system(buf_str(&cmd)) != 0)
			diag("could not remove %s", tmp);
		buf_free(&cmd);
	}
	buf_free(&log);
	curl_global_cleanup();
	return done_testing();
}
