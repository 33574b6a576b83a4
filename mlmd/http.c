/*
 * http.c - the HTTP front door (see http.h): libmicrohttpd (MHD) in its
 * "external select" epoll mode, driven by the daemon's poll() loop.
 *
 * Owns the listening socket (bound here, handed to MHD), the MHD daemon,
 * the route table (handlers and static directories, each holding an open
 * directory descriptor), one struct conn per TCP connection and one struct
 * request per HTTP request.  Invariants:
 *  - MHD runs only from the loop: when its epoll descriptor is readable and
 *    when the one timer (h->timer) fires; after every MHD_run() the timer
 *    is re-armed from MHD_get_timeout() and the client deadlines, so there
 *    is never more than one timer, and http_free() removes it;
 *  - a handler runs once per request, after the whole body is read, and
 *    only for GET, HEAD and POST requests within every limit of http.h;
 *  - every response queued here carries the security headers (nosniff,
 *    no-referrer, DENY, a Content-Security-Policy, Cache-Control); the few
 *    answers MHD sends itself (400, 414, 431 on malformed or oversized
 *    headers) do not;
 *  - a connection that owes us a request (from connecting, or from the end
 *    of its previous request, until we queue the answer) is shut down when
 *    it has taken longer than h->timeout_ms, however slowly it dribbles
 *    bytes: MHD's own timeout is an idle timeout only, which a slow-loris
 *    client resets with each byte;
 *  - static files are opened one path segment at a time below the mount's
 *    directory descriptor with O_NOFOLLOW, so no symbolic link and no ".."
 *    can lead out of it; only regular files are served.
 *
 * Called by daemon.c.  Standards: RFC 9110 (HTTP semantics: 304, 405, 413,
 * 414), RFC 7578 and the HTML form encodings (through MHD's post
 * processor, which accepts both: RFC 8058 one-click unsubscribes arrive as
 * either).  Nothing is fatal: socket and MHD errors are logged, and
 * http_new() reports its failures.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#define LISTEN_BACKLOG 512
#define POST_BUFFER    1024 /* MHD post processor's working buffer */
#define LOG_PATH_MAX   80
#define TOKEN_SHOWN    6 /* characters of a /c/ or /u/ token that are logged */

#define HTML_TYPE "text/html; charset=utf-8"

static const char CSP_PAGE[] =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'";
static const char CSP_STATIC[] =
    "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'";

struct route {
	char *prefix;
	size_t len;
	http_handler_fn *fn; /* NULL for a static mount */
	void *arg;
	int dirfd; /* static mount: the directory; else -1 */
};

struct conn {
	struct http *h;
	int fd;
	int waiting;     /* the client owes us a request */
	long long since; /* loop_now_ms() when it started to owe it */
	char peer[INET6_ADDRSTRLEN];
	struct conn *prev, *next;
};

struct field {
	char *name;
	struct buf val;
};

struct request {
	struct http_req pub; /* first: http_req_field() casts back */
	struct http *h;
	struct MHD_Connection *mc;
	struct conn *c;
	char *raw;      /* the URI as received, cut at HTTP_URL_MAX */
	size_t raw_len; /* its real length */
	char method[8];
	int started; /* the access handler has seen the headers */
	int status;  /* the status we queued; 0: none yet */
	size_t body_len;
	struct MHD_PostProcessor *pp;
	struct field fields[HTTP_FIELDS_MAX];
	int n_fields;
	int form_err; /* status to answer instead of calling the handler */
};

struct http {
	struct loop *loop;
	struct MHD_Daemon *d;
	int lfd; /* listening socket until MHD owns it */
	int efd; /* MHD's epoll descriptor, watched by the loop */
	int timer;
	long timeout_ms;
	unsigned short port;
	struct route *routes;
	size_t n_routes, cap_routes;
	struct conn *conns;
};

static void rearm(struct http *h);

/* ---- small helpers ------------------------------------------------------- */

static int __attribute__((format(printf, 2, 3)))
fail(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		buf_reset(err);
		va_start(ap, fmt);
		buf_vprintf(err, fmt, ap);
		va_end(ap);
	}
	va_start(ap, fmt);
	log_vmsg(L_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_info("http: libmicrohttpd: %s", line);
}

static void
peer_name(const struct sockaddr *sa, char *out, size_t outsz)
{
	const void *a = NULL;

	if (sa && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!a || !inet_ntop(sa->sa_family, a, out, (socklen_t)outsz))
		strlcpy_(out, "?", outsz);
}

/*
 * The path of a request as it may appear in the log: printable ASCII,
 * cut at LOG_PATH_MAX, and the capability tokens of /c/, /u/ and /p/
 * (personal archive links) reduced to their first TOKEN_SHOWN characters.
 */
static void
log_path(const char *raw, char *out, size_t outsz)
{
	size_t n = strcspn(raw, "?"), keep = n, i, o = 0;
	int cut = 0;

	if ((strncmp(raw, "/c/", 3) == 0 || strncmp(raw, "/u/", 3) == 0 ||
	     strncmp(raw, "/p/", 3) == 0) &&
	    n > 3 + TOKEN_SHOWN) {
		keep = 3 + TOKEN_SHOWN;
		cut = 1;
	}
	if (keep > LOG_PATH_MAX) {
		keep = LOG_PATH_MAX;
		cut = 1;
	}
	for (i = 0; i < keep && o + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)raw[i];

		out[o++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[o] = '\0';
	if (cut && o + 4 <= outsz) {
		memcpy(out + o, "\xe2\x80\xa6", 4); /* U+2026 */
	}
}

/* ---- responses ----------------------------------------------------------- */

static enum MHD_Result
queue(struct request *rq, int status, struct MHD_Response *r, const char *csp,
      int max_age)
{
	char cc[40];
	enum MHD_Result ret;

	if (max_age > 0)
		snprintf(cc, sizeof(cc), "max-age=%d", max_age);
	else
		strlcpy_(cc, "no-store", sizeof(cc));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "Cache-Control", cc);
	ret = MHD_queue_response(rq->mc, (unsigned)status, r);
	MHD_destroy_response(r);
	rq->status = status;
	if (rq->c)
		rq->c->waiting = 0;
	return ret;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	default:
		return "Internal Server Error";
	}
}

/* A small HTML page for an error status. */
static enum MHD_Result
error_page(struct request *rq, int status, const char *allow)
{
	struct buf b;
	struct MHD_Response *r;
	char *s;
	size_t n;

	buf_init(&b, 1024);
	buf_printf(&b,
	           "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	           "<title>%d %s</title></head>\n<body><h1>%s</h1></body>"
	           "</html>\n",
	           status, status_text(status), status_text(status));
	s = buf_detach(&b, &n);
	r = MHD_create_response_from_buffer_with_free_callback(n, s, free);
	if (!r) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", HTML_TYPE);
	if (allow)
		MHD_add_response_header(r, "Allow", allow);
	return queue(rq, status, r, CSP_PAGE, 0);
}

/* ---- static files -------------------------------------------------------- */

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {"html", HTML_TYPE},
    {"htm", HTML_TYPE},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"xml", "application/xml"},
    {"atom", "application/atom+xml"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"mbox", "application/mbox"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff2", "font/woff2"},
};

static const char *
type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot)
		for (i = 0; i < ARRAY_SIZE(types); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* RFC 9110 5.6.7 IMF-fixdate, independent of the locale. */
static void
http_date(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, outsz, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	         days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Parse an IMF-fixdate; -1 if it is something else. */
static time_t
parse_http_date(const char *s)
{
	char wd[4], mon[4];
	struct tm tm;
	int i;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%3s, %d %3s %d %d:%d:%d GMT", wd, &tm.tm_mday, mon,
	           &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 7)
		return -1;
	for (i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			break;
	if (i == 12 || tm.tm_year < 1970 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_mon = i;
	tm.tm_year -= 1900;
	return timegm(&tm);
}

/*
 * Open rest (a decoded path below the mount) as a regular file under
 * dirfd; -1 if it is refused or absent.  *name gets the name whose
 * extension gives the type (the last segment, or index.html).
 */
static int
open_below(int dirfd, const char *rest, struct stat *st, const char **name)
{
	char path[HTTP_URL_MAX + 1], *seg, *next;
	int cur = dirfd, fd;

	if (strlcpy_(path, rest, sizeof(path)) >= sizeof(path) ||
	    strchr(path, '\\'))
		return -1;
	*name = "";
	for (seg = path; seg; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		if (!*seg)
			continue;
		/* ".", ".." and hidden files alike. */
		if (seg[0] == '.') {
			fd = -1;
			goto out;
		}
		fd = openat(cur, seg,
		            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
		                O_NOCTTY);
		if (cur != dirfd)
			close(cur);
		cur = fd;
		if (fd < 0)
			return -1;
		*name = rest + (seg - path);
	}
	if (fstat(cur, st) < 0 || (!S_ISDIR(st->st_mode) && rest[0] &&
	                           rest[strlen(rest) - 1] == '/')) {
		fd = -1;
		goto out;
	}
	if (S_ISDIR(st->st_mode)) {
		fd = openat(cur, "index.html",
		            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
		                O_NOCTTY);
		*name = "index.html";
		if (fd >= 0 && fstat(fd, st) < 0) {
			close(fd);
			fd = -1;
		}
	} else {
		fd = cur == dirfd ? -1 : cur;
		cur = dirfd; /* handed over, not closed below */
	}
	if (fd >= 0 && !S_ISREG(st->st_mode)) {
		close(fd);
		fd = -1;
	}
out:
	if (cur != dirfd)
		close(cur);
	return fd;
}

static enum MHD_Result
serve_static(struct request *rq, const struct route *rt, const char *path)
{
	struct MHD_Response *r;
	struct stat st;
	const char *name, *inm, *ims;
	char etag[64], lm[40];
	time_t since;
	int fd;

	if (strcmp(rq->method, "POST") == 0)
		return error_page(rq, 405, "GET, HEAD");
	fd = open_below(rt->dirfd, path + rt->len, &st, &name);
	if (fd < 0)
		return error_page(rq, 404, NULL);
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	         (unsigned long long)st.st_size,
	         (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	             (unsigned long long)st.st_mtim.tv_nsec);
	http_date(st.st_mtime, lm, sizeof(lm));
	inm = MHD_lookup_connection_value(rq->mc, MHD_HEADER_KIND,
	                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
	ims = MHD_lookup_connection_value(rq->mc, MHD_HEADER_KIND,
	                                  MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	/* RFC 9110 13.1.3: If-Modified-Since only without If-None-Match. */
	if ((inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) ||
	    (!inm && ims && (since = parse_http_date(ims)) != (time_t)-1 &&
	     st.st_mtime <= since)) {
		close(fd);
		r = MHD_create_response_from_buffer(0, (void *)"",
		                                    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "ETag", etag);
		MHD_add_response_header(r, "Last-Modified", lm);
		return queue(rq, 304, r, CSP_STATIC, HTTP_STATIC_CACHE_AGE);
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return error_page(rq, 500, NULL);
	}
	MHD_add_response_header(r, "Content-Type", type_of(name));
	MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Last-Modified", lm);
	return queue(rq, 200, r, CSP_STATIC, HTTP_STATIC_CACHE_AGE);
}

/*
 * What a handler fills in (pub, first: http_resp_file() casts back, as
 * http_req_field() does) and the file http_resp_file() chose.
 */
struct response {
	struct http_resp pub;
	int fd; /* the answer's file, or -1 */
	off_t size;
};

int
http_resp_file(struct http_resp *resp, const char *dir, const char *rest)
{
	struct response *rs = (struct response *)(void *)resp;
	struct stat st;
	const char *name;
	int dirfd, fd;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	fd = open_below(dirfd, rest, &st, &name);
	close(dirfd);
	if (fd < 0)
		return -1;
	if (rs->fd >= 0)
		close(rs->fd);
	rs->fd = fd;
	rs->size = st.st_size;
	resp->status = 200;
	resp->content_type = type_of(name);
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

static int
prefix_match(const struct route *rt, const char *path)
{
	if (strncmp(path, rt->prefix, rt->len) != 0)
		return 0;
	return rt->prefix[rt->len - 1] == '/' || path[rt->len] == '\0' ||
	       path[rt->len] == '/';
}

static const char *
header(struct request *rq, const char *name)
{
	const char *v =
	    MHD_lookup_connection_value(rq->mc, MHD_HEADER_KIND, name);

	return v ? v : "";
}

const char *
http_req_field(const struct http_req *r, const char *name)
{
	const struct request *rq = (const struct request *)(const void *)r;
	const char *v = NULL;
	size_t v_len = 0;
	int i;

	if (strcmp(rq->method, "POST") == 0) {
		for (i = 0; i < rq->n_fields; i++)
			if (strcmp(rq->fields[i].name, name) == 0)
				return buf_str(&rq->fields[i].val);
		return NULL;
	}
	if (MHD_lookup_connection_value_n(rq->mc, MHD_GET_ARGUMENT_KIND, name,
	                                  strlen(name), &v, &v_len) != MHD_YES)
		return NULL;
	return v ? v : "";
}

static enum MHD_Result
dispatch(struct request *rq, const char *path)
{
	struct http *h = rq->h;
	const struct route *rt = NULL;
	struct response rs;
	struct http_resp *resp = &rs.pub;
	struct MHD_Response *r;
	const char *q;
	char *body;
	size_t i, n;
	int status;

	for (i = 0; i < h->n_routes; i++)
		if (prefix_match(&h->routes[i], path) &&
		    (!rt || h->routes[i].len > rt->len))
			rt = &h->routes[i];
	if (!rt)
		return error_page(rq, 404, NULL);
	if (!rt->fn)
		return serve_static(rq, rt, path);

	q = strchr(rq->raw, '?');
	rq->pub.method = rq->method;
	rq->pub.path = path;
	rq->pub.query = q ? q + 1 : "";
	rq->pub.accept_language = header(rq, "Accept-Language");
	rq->pub.peer = rq->c ? rq->c->peer : "?";
	rq->pub.forwarded_for = header(rq, "X-Forwarded-For");
	memset(&rs, 0, sizeof(rs));
	rs.fd = -1;
	resp->status = 200;
	resp->content_type = HTML_TYPE;
	buf_init(&resp->body, 0);
	rt->fn(rt->arg, &rq->pub, resp);

	status = resp->status;
	if (status < 200 || status > 599) {
		log_warn("http: handler for %s gave status %d", rt->prefix,
		         status);
		buf_free(&resp->body);
		if (rs.fd >= 0)
			close(rs.fd);
		return error_page(rq, 500, NULL);
	}
	if (rs.fd >= 0) {
		/* http_resp_file(): the file is the answer. */
		buf_free(&resp->body);
		r = MHD_create_response_from_fd((uint64_t)rs.size, rs.fd);
		if (!r) {
			close(rs.fd);
			return error_page(rq, 500, NULL);
		}
		MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
	} else {
		body = buf_detach(&resp->body, &n);
		r = MHD_create_response_from_buffer_with_free_callback(n, body,
		                                                       free);
		if (!r) {
			free(body);
			return MHD_NO;
		}
	}
	/* MHD refuses values with CR or LF: a bad Location is a 500. */
	if (MHD_add_response_header(r, "Content-Type",
	                            resp->content_type
	                                ? resp->content_type
	                                : HTML_TYPE) != MHD_YES ||
	    (resp->location && MHD_add_response_header(
	                           r, "Location", resp->location) != MHD_YES) ||
	    (resp->content_language &&
	     MHD_add_response_header(r, "Content-Language",
	                             resp->content_language) != MHD_YES)) {
		log_warn("http: handler for %s gave a bad header", rt->prefix);
		MHD_destroy_response(r);
		return error_page(rq, 500, NULL);
	}
	/* A file may link its stylesheet, as the static mount's do. */
	return queue(rq, status, r, rs.fd >= 0 ? CSP_STATIC : CSP_PAGE,
	             resp->cacheable ? HTTP_CACHE_AGE : 0);
}

/* MHD's post processor calls this for each (piece of a) form field. */
static enum MHD_Result
on_field(void *cls, enum MHD_ValueKind kind, const char *key,
         const char *filename, const char *content_type,
         const char *transfer_encoding, const char *data, uint64_t off,
         size_t size)
{
	struct request *rq = cls;
	struct field *f = rq->n_fields ? &rq->fields[rq->n_fields - 1] : NULL;

	if (filename || !key)
		return MHD_YES; /* file parts are not ours */
	if (size && memchr(data, '\0', size)) {
		rq->form_err = 400;
		return MHD_NO;
	}
	/* A continuation of the last field, or a new one. */
	if (!f || strcmp(f->name, key) != 0 || (off == 0 && f->val.len)) {
		if (rq->n_fields >= HTTP_FIELDS_MAX ||
		    strlen(key) > HTTP_FIELD_MAX) {
			rq->form_err = 413;
			return MHD_NO;
		}
		f = &rq->fields[rq->n_fields++];
		f->name = xstrdup(key);
		buf_init(&f->val, HTTP_FIELD_MAX);
	}
	if (size && buf_add(&f->val, data, size) < 0) {
		rq->form_err = 413;
		return MHD_NO;
	}
	return MHD_YES;
}

/* The headers are in: refuse what is over a limit (closing the
 * connection), or get ready for the body. */
static enum MHD_Result
request_begin(struct request *rq, const char *url, const char *method)
{
	const char *cl, *p;
	char *end;
	unsigned long long len;

	strlcpy_(rq->method, method, sizeof(rq->method));
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "POST") != 0)
		return error_page(rq, 405, "GET, HEAD, POST");
	if (rq->raw_len > HTTP_URL_MAX)
		return error_page(rq, 414, NULL);
	/* A NUL would cut the decoded path short of what was asked; the
	 * handlers get a path that is UTF-8 without control characters. */
	if (strcasestr(rq->raw, "%00") || !utf8_valid(url, strlen(url)))
		return error_page(rq, 400, NULL);
	for (p = url; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_page(rq, 400, NULL);
	if (strcmp(method, "POST") != 0 &&
	    MHD_get_connection_values(rq->mc, MHD_GET_ARGUMENT_KIND, NULL,
	                              NULL) > HTTP_FIELDS_MAX)
		return error_page(rq, 414, NULL);
	cl = MHD_lookup_connection_value(rq->mc, MHD_HEADER_KIND,
	                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		errno = 0;
		len = strtoull(cl, &end, 10);
		if (errno || end == cl || len > HTTP_BODY_MAX)
			return error_page(rq, 413, NULL);
	}
	/* NULL unless the body is urlencoded or multipart/form-data. */
	if (strcmp(method, "POST") == 0)
		rq->pp = MHD_create_post_processor(rq->mc, POST_BUFFER,
		                                   on_field, rq);
	/*
	 * The answer waits for the next call even without a body: MHD
	 * 0.9.75 closes the connection after a response queued from the
	 * first call, which is right for refusals but not for keep-alive.
	 */
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **req_cls)
{
	struct request *rq = *req_cls;
	size_t n = *upload_data_size;

	if (!rq)
		return MHD_NO; /* the URI callback always sets one */
	if (!rq->started) {
		rq->started = 1;
		return request_begin(rq, url, method);
	}
	if (rq->status)
		return MHD_YES;
	if (n) {
		*upload_data_size = 0;
		rq->body_len += n;
		if (rq->body_len > HTTP_BODY_MAX) {
			/* Chunked: no answer can be queued mid-body. */
			log_info("http: %s: body over %d bytes, closing",
			         rq->c ? rq->c->peer : "?", HTTP_BODY_MAX);
			return MHD_NO;
		}
		if (rq->pp && !rq->form_err &&
		    MHD_post_process(rq->pp, upload_data, n) != MHD_YES &&
		    !rq->form_err)
			rq->form_err = 400;
		return MHD_YES;
	}
	/* The whole body is in. */
	if (rq->pp) {
		/* Destroying flushes the last urlencoded field. */
		if (MHD_destroy_post_processor(rq->pp) != MHD_YES &&
		    !rq->form_err)
			rq->form_err = 400;
		rq->pp = NULL;
	}
	if (rq->form_err)
		return error_page(rq, rq->form_err, NULL);
	return dispatch(rq, url);
}

/* MHD calls this first for each request, with the URI as received. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct request *rq = xcalloc(1, sizeof(*rq));
	const union MHD_ConnectionInfo *ci;
	size_t n = strlen(uri);

	rq->h = cls;
	rq->mc = mc;
	rq->raw_len = n;
	rq->raw = xstrndup(uri, n > HTTP_URL_MAX ? HTTP_URL_MAX : n);
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	rq->c = ci ? ci->socket_context : NULL;
	return rq;
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *req_cls;
	char path[LOG_PATH_MAX + 8];
	int i;

	if (!rq)
		return;
	*req_cls = NULL;
	log_path(rq->raw, path, sizeof(path));
	if (rq->status)
		log_info("http: %s %s %d %s%s", rq->method, path, rq->status,
		         rq->c ? rq->c->peer : "?",
		         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
		             ? ""
		             : " (not completed)");
	else
		log_info("http: %s %s answered by libmicrohttpd or cut %s",
		         rq->started ? rq->method : "-", path,
		         rq->c ? rq->c->peer : "?");
	if (rq->pp)
		MHD_destroy_post_processor(rq->pp);
	for (i = 0; i < rq->n_fields; i++) {
		free(rq->fields[i].name);
		buf_free(&rq->fields[i].val);
	}
	/* Keep-alive: the next request is owed from now on. */
	if (rq->c) {
		rq->c->waiting = 1;
		rq->c->since = loop_now_ms();
	}
	free(rq->raw);
	free(rq);
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		c = xcalloc(1, sizeof(*c));
		c->h = h;
		c->fd = -1;
		ci = MHD_get_connection_info(mc,
		                             MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			c->fd = ci->connect_fd;
		ci = MHD_get_connection_info(
		    mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		peer_name(ci ? ci->client_addr : NULL, c->peer,
		          sizeof(c->peer));
		c->waiting = 1;
		c->since = loop_now_ms();
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	*socket_context = NULL;
}

/* ---- the loop ------------------------------------------------------------ */

/* Shut down the connections that took too long to send a request; MHD
 * sees the end of file and closes them in its next run. */
static void
cut_slow(struct http *h)
{
	long long now = loop_now_ms();
	struct conn *c;

	for (c = h->conns; c; c = c->next)
		if (c->waiting && now - c->since >= h->timeout_ms) {
			log_debug("http: %s: idle, or no whole request, for "
			          "%ld ms: closing",
			          c->peer, h->timeout_ms);
			c->waiting = 0;
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_RDWR);
		}
}

static void
run(struct http *h)
{
	cut_slow(h);
	if (MHD_run(h->d) != MHD_YES)
		log_warn("http: MHD_run failed");
	rearm(h);
}

static void
on_timer(struct loop *l, void *arg)
{
	struct http *h = arg;

	h->timer = 0;
	run(h);
}

static void
on_epoll(struct loop *l, int fd, short revents, void *arg)
{
	run(arg);
}

static void
rearm(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG mt;
	long long next = -1, now = loop_now_ms();
	struct conn *c;

	if (h->timer) {
		loop_del_timer(h->loop, h->timer);
		h->timer = 0;
	}
	if (MHD_get_timeout(h->d, &mt) == MHD_YES)
		next = mt > 60000 ? 60000 : (long long)mt;
	for (c = h->conns; c; c = c->next)
		if (c->waiting) {
			long long left = c->since + h->timeout_ms - now;

			if (left < 0)
				left = 0;
			if (next < 0 || left < next)
				next = left;
		}
	if (next >= 0) {
		h->timer = loop_add_timer(h->loop, (long)next, on_timer, h);
		if (h->timer < 0)
			h->timer = 0;
	}
}

/* ---- setup --------------------------------------------------------------- */

/* Bind and listen on "HOST:PORT" or "[V6]:PORT"; the fd or -1. */
static int
listen_on(const char *spec, int *family, struct buf *err)
{
	struct addrinfo hints, *ai = NULL;
	char host[128];
	const char *colon = strrchr(spec, ':'), *hp = spec;
	size_t hn;
	int fd, one = 1, r;

	if (!colon || colon == spec || !colon[1])
		return fail(err, "http: '%s' is not HOST:PORT", spec);
	hn = (size_t)(colon - spec);
	if (hp[0] == '[' && hn >= 2 && hp[hn - 1] == ']') {
		hp++;
		hn -= 2;
	}
	if (hn >= sizeof(host))
		return fail(err, "http: host too long in '%s'", spec);
	memcpy(host, hp, hn);
	host[hn] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r != 0)
		return fail(err, "http: '%s': %s", spec, gai_strerror(r));
	*family = ai->ai_family;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return fail(err, "http: socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		fail(err, "http: cannot listen on %s: %s", spec,
		     strerror(errno));
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

struct http *
http_new(struct loop *l, const char *listen, struct buf *err)
{
	struct http *h = xcalloc(1, sizeof(*h));
	const union MHD_DaemonInfo *di;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int family = AF_INET;

	h->loop = l;
	h->efd = -1;
	h->timeout_ms = HTTP_TIMEOUT_S * 1000L;
	h->lfd = listen_on(listen, &family, err);
	if (h->lfd < 0) {
		free(h);
		return NULL;
	}
	if (getsockname(h->lfd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6
		                    ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                    : ((struct sockaddr_in *)&ss)->sin_port);
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_logger, h, MHD_OPTION_LISTEN_SOCKET, h->lfd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_CONN_PER_IP,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEADER_MEM,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_END);
	if (!h->d) {
		fail(err, "http: cannot start libmicrohttpd on %s", listen);
		close(h->lfd);
		free(h);
		return NULL;
	}
	h->lfd = -1; /* MHD_stop_daemon() closes it */
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di || di->epoll_fd < 0 ||
	    loop_add_fd(l, di->epoll_fd, POLLIN, on_epoll, h) < 0) {
		fail(err, "http: no epoll descriptor from libmicrohttpd");
		http_free(h);
		return NULL;
	}
	h->efd = di->epoll_fd;
	rearm(h);
	log_info("http: listening on %s (port %u)", listen, h->port);
	return h;
}

unsigned short
http_port(const struct http *h)
{
	return h->port;
}

void
http_set_timeout(struct http *h, unsigned seconds)
{
	h->timeout_ms = seconds ? (long)seconds * 1000 : 1000;
	rearm(h);
}

static int
add_route(struct http *h, const char *prefix, http_handler_fn *fn, void *arg,
          int dirfd)
{
	struct route *rt;
	size_t i;

	if (!prefix || prefix[0] != '/')
		return error("http: route prefix must start with /");
	for (i = 0; i < h->n_routes; i++)
		if (strcmp(h->routes[i].prefix, prefix) == 0)
			return error("http: route %s given twice", prefix);
	h->routes = xgrow(h->routes, &h->cap_routes, h->n_routes + 1,
	                  sizeof(*h->routes));
	rt = &h->routes[h->n_routes++];
	rt->prefix = xstrdup(prefix);
	rt->len = strlen(prefix);
	rt->fn = fn;
	rt->arg = arg;
	rt->dirfd = dirfd;
	return 0;
}

int
http_route(struct http *h, const char *prefix, http_handler_fn *fn, void *arg)
{
	if (!fn)
		return error("http: route %s without a handler", prefix);
	return add_route(h, prefix, fn, arg, -1);
}

int
http_static(struct http *h, const char *prefix, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return error("http: static %s: %s", dir, strerror(errno));
	if (add_route(h, prefix, NULL, NULL, fd) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}

void
http_free(struct http *h)
{
	size_t i;

	if (!h)
		return;
	if (h->timer)
		loop_del_timer(h->loop, h->timer);
	if (h->efd >= 0)
		loop_del_fd(h->loop, h->efd);
	/* Calls on_completed and on_connection for what is still open. */
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->lfd >= 0)
		close(h->lfd);
	while (h->conns) {
		struct conn *c = h->conns;

		h->conns = c->next;
		free(c);
	}
	for (i = 0; i < h->n_routes; i++) {
		free(h->routes[i].prefix);
		if (h->routes[i].dirfd >= 0)
			close(h->routes[i].dirfd);
	}
	free(h->routes);
	free(h);
}
