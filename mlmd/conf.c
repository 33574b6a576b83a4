/*
 * conf.c - reads mlmd.conf into an immutable, validated struct conf.
 *
 * Owns: the option table (names, defaults, allowed values), the mapping
 * of every option to its line in the file, and all validation.  libconfuse
 * (3.2/3.3) stays inside this file; the rest of mlmd sees struct conf.
 * Called by mlmd (start-up and SIGHUP), mlmd-inject and mlmctl.
 *
 * How a file becomes a conf:
 *   1. strip_comments() blanks out comments (keeping every newline) before
 *      libconfuse sees the text.  XXX: libconfuse 3.3's lexer counts a
 *      `#` or `//` comment line as three lines and a C comment line as two,
 *      so every line number after a comment would be wrong, and it rejects
 *      a comment inside a `{ ... }` list ("unexpected token").  Blanking
 *      comments ourselves gives exact lines on 3.2, 3.3 and later.
 *   2. libconfuse parses.  Its callbacks carry no user pointer, so each
 *      section (the root and every `list`) gets a hidden pointer option,
 *      HIDDEN_OPT, whose default value is a struct secinfo allocated when
 *      the section is created.  The name contains '|', which libconfuse
 *      treats as a section path, so no file can ever set it.  The
 *      validation callback on every option records (option, index, line)
 *      in the section's secinfo; the error callback records libconfuse's
 *      own messages ("no such option") with their line.  No global state.
 *   3. build_globals() and build_list() walk the parsed tree, check every
 *      value and copy it into struct conf; each problem is reported with
 *      the line recorded in step 2.  Then the cross-list checks: duplicate
 * names, includes of undefined lists, include cycles.
 *   4. All problems are sorted by line and appended to the caller's
 *      buffer as "FILE:LINE: message"; any problem means no conf.
 *
 * A syntax error stops libconfuse at that point; the values seen before
 * it are still checked (so the user gets every error in the part that
 * parsed), but the "required option missing" and cross-list checks are
 * skipped because the rest of the file was not read.
 *
 * Errors are returned (NULL + messages); nothing here is fatal except
 * out-of-memory (xmalloc aborts).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <confuse.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "util.h"

#define HIDDEN_OPT "mlmd|secinfo"

/* Limits on what a configuration file may contain. */
#define CONF_FILE_MAX   ((size_t)1 << 20) /* bytes */
#define CONF_LISTS_MAX  10000
#define CONF_ADDRS_MAX  1000   /* owners, moderators, includes per list */

#define CONF_ERRORS_MAX 200    /* messages reported, the rest counted */
#define CONF_RECS_MAX   100000 /* line records per section */
#define CONF_SIZE_MAX   ((size_t)2 << 30)

/* ----- parse-time bookkeeping (see step 2 above) ----------------------- */

struct line_rec {
	const char *opt; /* borrowed from the section's option table */
	unsigned idx;
	int line;
};

struct message {
	int line;
	size_t seq; /* insertion order, for a stable sort */
	char *text;
};

struct errlist {
	struct message *v;
	size_t n, cap, dropped;
};

struct secinfo {
	int line; /* where the section starts ('{' line) */
	struct line_rec *recs;
	size_t n_recs, cap_recs;
	struct errlist errs; /* libconfuse's own messages */
};

static void
errs_vadd(struct errlist *e, int line, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	if (e->n >= CONF_ERRORS_MAX) {
		e->dropped++;
		return;
	}
	buf_init(&b, 1024);
	if (buf_vprintf(&b, fmt, ap) < 0)
		buf_adds(&b, "(message too long)");
	e->v = xgrow(e->v, &e->cap, e->n + 1, sizeof(*e->v));
	e->v[e->n].line = line;
	e->v[e->n].seq = e->n;
	e->v[e->n].text = buf_detach(&b, NULL);
	e->n++;
}

static void __attribute__((format(printf, 3, 4)))
errs_add(struct errlist *e, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(e, line, fmt, ap);
	va_end(ap);
}

static void
errs_free(struct errlist *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* The secinfo of a section; scans the table by hand because
 * cfg_getopt() would read the '|' in the name as a section path. */
static struct secinfo *
secinfo_of(cfg_t *cfg)
{
	int i;

	for (i = 0; cfg->opts && cfg->opts[i].name; i++) {
		cfg_opt_t *o = &cfg->opts[i];

		if (strcmp(o->name, HIDDEN_OPT) == 0)
			return o->nvalues ? o->values[0]->ptr : NULL;
	}
	return NULL;
}

/* Parse callback of HIDDEN_OPT: runs once per section, while libconfuse
 * sets the section's defaults, when cfg->line is the section's line. */
static int
secinfo_new(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct secinfo *si = xcalloc(1, sizeof(*si));

	si->line = cfg->line;
	*(void **)result = si;
	return 0;
}

static void
secinfo_free(void *p)
{
	struct secinfo *si = p;

	if (!si)
		return;
	free(si->recs);
	errs_free(&si->errs);
	free(si);
}

/* Validation callback of every option: remember its line. */
static int
note_line(cfg_t *cfg, cfg_opt_t *opt)
{
	struct secinfo *si = secinfo_of(cfg);
	struct line_rec *last;
	unsigned idx;

	if (!si || opt->nvalues == 0 || si->n_recs >= CONF_RECS_MAX)
		return 0;
	idx = opt->nvalues - 1;
	last = si->n_recs ? &si->recs[si->n_recs - 1] : NULL;
	/* libconfuse calls this after each list element and again at the
	 * closing brace; the second call is not a new value. */
	if ((opt->flags & CFGF_LIST) && last && last->idx == idx &&
	    strcmp(last->opt, opt->name) == 0)
		return 0;
	si->recs =
	    xgrow(si->recs, &si->cap_recs, si->n_recs + 1, sizeof(*si->recs));
	si->recs[si->n_recs].opt = opt->name;
	si->recs[si->n_recs].idx = idx;
	si->recs[si->n_recs].line = cfg->line;
	si->n_recs++;
	return 0;
}

static void
on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct secinfo *si = cfg ? secinfo_of(cfg) : NULL;

	/* HIDDEN_OPT is first in every table, so si exists for any error
	 * raised while parsing; the message is lost only if libconfuse
	 * fails before that (out of memory). */
	if (si)
		errs_vadd(&si->errs, cfg->line, fmt, ap);
}

/* Line of value idx of option name in section sec; the section's own
 * line when the option was not in the file (a default). */
static int
line_of(cfg_t *sec, const char *name, unsigned idx)
{
	struct secinfo *si = secinfo_of(sec);
	size_t i;

	if (!si)
		return 0;
	for (i = si->n_recs; i-- > 0;)
		if (si->recs[i].idx == idx &&
		    strcmp(si->recs[i].opt, name) == 0)
			return si->recs[i].line;
	return si->line;
}

/*
 * Blank out comments (# and // to end of line, C comments), keeping
 * newlines and quoted strings exactly as libconfuse's lexer sees them.
 * An unterminated string or comment is reported here, because
 * libconfuse 3.3 reports the former only as "premature end of file".
 */
static int
strip_comments(const char *in, struct buf *out, struct errlist *e)
{
	enum { TEXT, DQ, SQ, LINE_C, BLOCK_C } st = TEXT;
	int line = 1, start = 0, open[32];
	size_t depth = 0;
	const char *p;

	for (p = in; *p; p++) {
		char c = *p;

		switch (st) {
		case TEXT:
			if (c == '"' || c == '\'') {
				st = c == '"' ? DQ : SQ;
				start = line;
			} else if (c == '{') {
				/* libconfuse 3.3 accepts a section that
				 * is never closed; remember where each
				 * brace opened to say so. */
				if (depth < ARRAY_SIZE(open))
					open[depth] = line;
				depth++;
			} else if (c == '}') {
				if (depth)
					depth--;
			} else if (c == '#' || (c == '/' && p[1] == '/')) {
				st = LINE_C;
				c = ' ';
			} else if (c == '/' && p[1] == '*') {
				st = BLOCK_C;
				start = line;
				buf_addc(out, ' ');
				p++;
				continue;
			}
			break;
		case DQ:
		case SQ:
			if (c == '\\' && p[1]) {
				buf_addc(out, c);
				c = *++p;
			} else if (c == (st == DQ ? '"' : '\'')) {
				st = TEXT;
			}
			break;
		case LINE_C:
			if (c == '\n')
				st = TEXT;
			else
				c = ' ';
			break;
		case BLOCK_C:
			if (c == '*' && p[1] == '/') {
				st = TEXT;
				p++;
				c = ' ';
			} else if (c != '\n') {
				c = ' ';
			}
			break;
		}
		if (c == '\n')
			line++;
		buf_addc(out, c);
	}
	if (st == DQ || st == SQ || st == BLOCK_C) {
		errs_add(e, start, "unterminated %s starting here",
		         st == BLOCK_C ? "comment" : "string");
		return -1;
	}
	/* not fatal to parsing: libconfuse reads on as if it were closed */
	if (depth)
		errs_add(e, depth <= ARRAY_SIZE(open) ? open[depth - 1] : line,
		         "'{' is never closed (a '}' is missing)");
	return 0;
}

/* ----- values --------------------------------------------------------- */

struct enum_name {
	const char *name;
	int value;
};

static const struct enum_name posting_names[] = {
    {"members", POST_MEMBERS},
    {"moderated", POST_MODERATED},
    {"announce", POST_ANNOUNCE},
    {"open", POST_OPEN},
    {NULL, 0},
};
static const struct enum_name nonmember_names[] = {
    {"hold", NM_HOLD},
    {"reject", NM_REJECT},
    {"discard", NM_DISCARD},
    {"accept", NM_ACCEPT},
    {NULL, 0},
};
static const struct enum_name archive_names[] = {
    {"public", ARCH_PUBLIC},
    {"private", ARCH_PRIVATE},
    {"none", ARCH_NONE},
    {NULL, 0},
};
static const struct enum_name digest_names[] = {
    {"none", DIGEST_NONE},
    {"daily", DIGEST_DAILY},
    {"weekly", DIGEST_WEEKLY},
    {"monthly", DIGEST_MONTHLY},
    {NULL, 0},
};
static const struct enum_name weekday_names[] = {
    {"sunday", 0},   {"monday", 1}, {"tuesday", 2}, {"wednesday", 3},
    {"thursday", 4}, {"friday", 5}, {"saturday", 6}, {NULL, 0},
};
static const struct enum_name digest_attachment_names[] = {
    {"keep", 0},
    {"link", 1},
    {NULL, 0},
};
static const struct enum_name reply_to_names[] = {
    {"list", REPLY_LIST},
    {"author", REPLY_AUTHOR},
    {NULL, 0},
};
static const struct enum_name dmarc_names[] = {
    {"munge", DMARC_MUNGE},
    {"wrap", DMARC_WRAP},
    {"none", DMARC_NONE},
    {"always", DMARC_ALWAYS},
    {NULL, 0},
};
/* as enum dmarc_policy (dmarc.h): quarantine 1, reject 2 */
static const struct enum_name dmarc_threshold_names[] = {
    {"quarantine", 1},
    {"reject", 2},
    {NULL, 0},
};
/* What erasing a person does to their archived posts (conf.h). */
static const struct enum_name erasure_names[] = {
    {"pseudonymise", ERASE_PSEUDONYMISE},
    {"remove", ERASE_REMOVE},
    {NULL, 0},
};
/* Languages that have templates (templates/<lang>/). */
static const struct enum_name language_names[] = {
    {"en", 0}, {"da", 0}, {"sv", 0}, {"nb", 0},
    {"fi", 0}, {"is", 0}, {"ar", 0}, {NULL, 0},
};

static const char *
enum_name(const struct enum_name *t, int value)
{
	for (; t->name; t++)
		if (t->value == value)
			return t->name;
	return "?";
}

const char *
conf_posting_name(enum posting p)
{
	return enum_name(posting_names, p);
}

const char *
conf_nonmember_name(enum nonmember n)
{
	return enum_name(nonmember_names, n);
}

const char *
conf_archive_name(enum archive_mode a)
{
	return enum_name(archive_names, a);
}

const char *
conf_digest_name(enum digest_freq d)
{
	return enum_name(digest_names, d);
}

/* The context of the value being checked, for messages and lines. */
struct where {
	struct errlist *e;
	cfg_t *sec;
	const char *list; /* NULL for global options */
};

static void __attribute__((format(printf, 4, 5)))
bad(const struct where *w, const char *opt, unsigned idx, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int line = line_of(w->sec, opt, idx);

	buf_init(&b, 1024);
	if (w->list)
		buf_printf(&b, "list %s: ", w->list);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	errs_add(w->e, line, "%s", buf_str(&b));
	buf_free(&b);
}

/*
 * A time zone name the C library can use: "UTC", or a file of the
 * system's zone database (TZDIR, else /usr/share/zoneinfo) named with
 * letters, digits, "_+-" and single slashes, never "..".
 */
static int
timezone_ok(const char *tz)
{
	const char *dir = getenv("TZDIR"), *p;
	struct buf path = BUF_INIT;
	struct stat st;
	int ok;

	if (strcmp(tz, "UTC") == 0)
		return 1;
	if (!*tz || *tz == '/' || strstr(tz, "..") || strstr(tz, "//"))
		return 0;
	for (p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
			return 0;
	buf_printf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
	           tz);
	ok = stat(buf_str(&path), &st) == 0 && S_ISREG(st.st_mode);
	buf_free(&path);
	return ok;
}

/* A string value without control characters and within the limit. */
static char *
get_text(const struct where *w, const char *opt, unsigned idx, size_t max)
{
	const char *s = cfg_getnstr(w->sec, opt, idx);
	const char *p;

	if (!s)
		return NULL;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			bad(w, opt, idx, "%s contains a control character",
			    opt);
			return NULL;
		}
	if ((size_t)(p - s) > max) {
		bad(w, opt, idx, "%s is longer than %zu bytes", opt, max);
		return NULL;
	}
	return xstrdup(s);
}

static int
get_enum(const struct where *w, const char *opt, const struct enum_name *t,
         int *out)
{
	const char *s = cfg_getstr(w->sec, opt);
	const struct enum_name *p;
	struct buf all = BUF_INIT;

	for (p = t; p->name; p++)
		if (s && strcmp(s, p->name) == 0) {
			*out = p->value;
			return 0;
		}
	for (p = t; p->name; p++)
		buf_printf(&all, "%s%s",
		           p == t      ? ""
		           : p[1].name ? ", "
		                       : " or ",
		           p->name);
	bad(w, opt, 0, "%s: '%.64s' is not one of %s", opt, s ? s : "",
	    buf_str(&all));
	buf_free(&all);
	return -1;
}

static int
get_size(const struct where *w, const char *opt, size_t *out)
{
	const char *s = cfg_getstr(w->sec, opt);

	if (!s || parse_size(s, out) < 0 || *out == 0 || *out > CONF_SIZE_MAX) {
		bad(w, opt, 0,
		    "%s: '%.64s' is not a size (a number of bytes with an "
		    "optional k, M or G, from 1 to 2G)",
		    opt, s ? s : "");
		return -1;
	}
	return 0;
}

static int
get_int(const struct where *w, const char *opt, long lo, long hi, int *out)
{
	long v = cfg_getint(w->sec, opt);

	if (v < lo || v > hi) {
		bad(w, opt, 0, "%s: %ld is out of range (%ld to %ld)", opt, v,
		    lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * A duration: a number with an optional unit s, m, h or d ("90", "30m",
 * "5d"), between lo and hi seconds.
 */
static int
get_duration(const struct where *w, const char *opt, long lo, long hi,
             long *out)
{
	const char *s = cfg_getstr(w->sec, opt);
	char *end = NULL;
	long v = -1;

	if (s && isdigit((unsigned char)*s)) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v > 100000000)
			v = -1;
		else if (*end == 'd' && !end[1])
			v *= 86400;
		else if (*end == 'h' && !end[1])
			v *= 3600;
		else if (*end == 'm' && !end[1])
			v *= 60;
		else if (!((*end == 's' && !end[1]) || !*end))
			v = -1;
	}
	if (v < lo || v > hi) {
		bad(w, opt, 0,
		    "%s: '%.64s' is not a duration from %lds to %ldd "
		    "(a number with s, m, h or d)",
		    opt, s ? s : "", lo, hi / 86400);
		return -1;
	}
	*out = v;
	return 0;
}

/* A mail domain: dot-separated labels of letters, digits and '-'. */
static int
valid_domain(const char *d)
{
	size_t len = strlen(d), label = 0;
	const char *p;

	if (len == 0 || len > 253)
		return 0;
	for (p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)*p) ||
		           (*p == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && p[-1] != '-';
}

/* HOST:PORT with HOST "localhost", a numeric IPv4 address or a numeric
 * IPv6 address in brackets, PORT 1..65535.  len bounds the string. */
static int
valid_hostport(const char *s, size_t len)
{
	char host[64];
	const char *colon;
	unsigned char tmp[16];
	size_t hl, i;
	unsigned long port = 0;

	colon = NULL;
	for (i = len; i-- > 0;)
		if (s[i] == ':') {
			colon = s + i;
			break;
		}
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return 0;
	hl = (size_t)(colon - s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (colon + 1 == s + len || len - hl - 1 > 5)
		return 0;
	for (i = hl + 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	if (port == 0 || port > 65535)
		return 0;
	if (strcmp(host, "localhost") == 0)
		return 1;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, tmp) == 1;
	}
	return inet_pton(AF_INET, host, tmp) == 1;
}

/* Make a relative path absolute against basedir (conf_load only). */
static char *
resolve(const char *path, const char *basedir)
{
	struct buf b = BUF_INIT;

	if (path[0] == '/' || !basedir)
		return xstrdup(path);
	buf_printf(&b, "%s/%s", basedir, path);
	return buf_detach(&b, NULL);
}

/* ----- the option table ------------------------------------------------ */

static void
set_callbacks(cfg_opt_t *opts)
{
	for (; opts->name; opts++)
		if (opts->type != CFGT_SEC && opts->type != CFGT_PTR)
			opts->validcb = note_line;
}

/* ----- building the conf ------------------------------------------------ */

/* A string list option into a NULL-terminated array (words without
 * control characters, at most 64 of 256 bytes each). */
static void
get_words(const struct where *w, const char *opt, char ***out, size_t *n)
{
	unsigned i, size = cfg_size(w->sec, opt);

	*n = 0;
	*out = xcalloc(size + 1, sizeof(char *));
	for (i = 0; i < size && i < 64; i++) {
		const char *v = cfg_getnstr(w->sec, opt, i);
		const char *p;

		for (p = v; p && *p; p++)
			if ((unsigned char)*p < ' ')
				break;
		if (!v || !*v || (p && *p) || strlen(v) > 255) {
			bad(w, opt, i, "%s: '%.64s' is not usable", opt,
			    v ? v : "");
			continue;
		}
		(*out)[(*n)++] = xstrdup(v);
	}
}

static void
free_words(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void
build_globals(struct conf *c, const struct where *w, const char *basedir,
              int complete)
{
	char *v;
	int v2;

	if ((v = get_text(w, "domain", 0, 253))) {
		str_lower(v);
		if (!valid_domain(v))
			bad(w, "domain", 0,
			    "domain: '%s' is not a mail domain (letters, "
			    "digits, '-' and '.')",
			    v);
		c->domain = v;
	} else if (complete && !cfg_getstr(w->sec, "domain")) {
		errs_add(w->e, 0,
		         "domain is required (the mail domain of "
		         "the lists, e.g. domain = \"lists."
		         "example.org\")");
	}

	if ((v = get_text(w, "home", 0, 1024))) {
		if (!*v)
			bad(w, "home", 0, "home must not be empty");
		c->home = resolve(v, basedir);
		free(v);
	} else if (complete && !cfg_getstr(w->sec, "home")) {
		errs_add(w->e, 0,
		         "home is required (the folder for the "
		         "database, spool and archive, e.g. home = "
		         "\"/var/lib/mlmd\")");
	}

	if ((v = get_text(w, "relay", 0, 1024))) {
		const char *host = NULL;

		if (str_has_prefix_ci(v, "smtp://"))
			host = v + 7;
		else if (str_has_prefix_ci(v, "smtps://"))
			host = v + 8;
		if (host) {
			if (!*host || *host == '/' || *host == ':' ||
			    strpbrk(host, " \t"))
				bad(w, "relay", 0,
				    "relay: '%s' has no host (smtp://HOST:PORT"
				    " or smtps://USER:PASS@HOST:PORT)",
				    v);
			c->relay = v;
		} else if (strncmp(v, "maildir:", 8) == 0) {
			struct buf b = BUF_INIT;
			char *path = resolve(v + 8, basedir);

			if (!v[8])
				bad(w, "relay", 0,
				    "relay: 'maildir:' needs a path");
			buf_printf(&b, "maildir:%s", path);
			c->relay = buf_detach(&b, NULL);
			free(path);
			free(v);
		} else {
			bad(w, "relay", 0,
			    "relay: '%.64s' must start with smtp://, smtps:// "
			    "or maildir:",
			    v);
			c->relay = v;
		}
	} else if (c->home) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "maildir:%s/outbox", c->home);
		c->relay = buf_detach(&b, NULL);
	}

	if ((v = get_text(w, "lmtp", 0, 1024))) {
		struct buf norm = BUF_INIT;
		const char *p = v;

		if (!*v)
			bad(w, "lmtp", 0, "lmtp must not be empty");
		while (*p) {
			size_t n = strcspn(p, ",");
			const char *q = p;

			while (n && isspace((unsigned char)*q))
				q++, n--;
			while (n && isspace((unsigned char)q[n - 1]))
				n--;
			if (norm.len)
				buf_addc(&norm, ',');
			if (n > 5 && strncmp(q, "unix:", 5) == 0) {
				char *path = xstrndup(q + 5, n - 5);
				char *abs = resolve(path, basedir);

				buf_printf(&norm, "unix:%s", abs);
				free(path);
				free(abs);
			} else if (valid_hostport(q, n)) {
				buf_add(&norm, q, n);
			} else {
				bad(w, "lmtp", 0,
				    "lmtp: '%.*s' is neither unix:/PATH nor "
				    "HOST:PORT with a numeric HOST",
				    (int)(n > 64 ? 64 : n), q);
			}
			p = q + n;
			while (*p && *p != ',')
				p++;
			if (*p == ',')
				p++;
		}
		c->lmtp = buf_detach(&norm, NULL);
		free(v);
	} else if (!cfg_getstr(w->sec, "lmtp")) {
		c->lmtp = xstrdup("127.0.0.1:8024");
	}

	if ((v = get_text(w, "http", 0, 256)) && !*v) {
		free(v); /* http = "": no web front door */
	} else if (v) {
		if (!valid_hostport(v, strlen(v)))
			bad(w, "http", 0,
			    "http: '%s' is not HOST:PORT with a numeric HOST",
			    v);
		c->http = v;
	} else if (!cfg_getstr(w->sec, "http")) {
		c->http = xstrdup("127.0.0.1:8025");
	}

	if ((v = get_text(w, "base_url", 0, 1024))) {
		size_t n = strlen(v);
		const char *rest = NULL;

		if (str_has_prefix_ci(v, "http://"))
			rest = v + 7;
		else if (str_has_prefix_ci(v, "https://"))
			rest = v + 8;
		if (!rest || !*rest || *rest == '/' || strpbrk(v, " \t\"<>"))
			bad(w, "base_url", 0,
			    "base_url: '%s' is not an http:// or https:// URL",
			    v);
		while (n > 0 && v[n - 1] == '/' && rest && v + n > rest + 1)
			v[--n] = '\0';
		c->base_url = v;
	} else if (c->http) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "http://%s", c->http);
		c->base_url = buf_detach(&b, NULL);
	}

	if ((v = get_text(w, "user", 0, 32))) {
		const char *p;

		for (p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
				break;
		if (!*v || *p)
			bad(w, "user", 0, "user: '%s' is not a user name", v);
		c->user = v;
	}

	c->separator = '+';
	if ((v = get_text(w, "separator", 0, 8))) {
		if (strlen(v) != 1 || !strchr("+-_=", v[0]))
			bad(w, "separator", 0,
			    "separator: '%s' must be one of + - _ =", v);
		else
			c->separator = v[0];
		free(v);
	}

	get_size(w, "max_message_size", &c->max_message_size);
	get_int(w, "lmtp_max_sessions", 1, 100000, &c->lmtp_max_sessions);
	get_int(w, "lmtp_idle_timeout", 1, 86400, &c->lmtp_idle_timeout);
	get_int(w, "lmtp_session_timeout", 1, 7 * 86400,
	        &c->lmtp_session_timeout);

	if ((v = get_text(w, "templates", 0, 1024))) {
		if (!*v)
			bad(w, "templates", 0, "templates must not be empty");
		c->templates = resolve(v, basedir);
		free(v);
	} else {
		c->templates = xstrdup(PKGDATADIR "/templates");
	}
	if ((v = get_text(w, "rules_dir", 0, 1024))) {
		if (!*v)
			bad(w, "rules_dir", 0, "rules_dir must not be empty");
		c->rules_dir = resolve(v, basedir);
		free(v);
	} else {
		c->rules_dir = xstrdup(PKGDATADIR "/rules");
	}
	get_int(w, "delivery_connections", 1, 100, &c->delivery_connections);
	get_int(w, "delivery_batch", 1, 1000, &c->delivery_batch);
	c->verp = cfg_getbool(w->sec, "verp") ? 1 : 0;
	c->relay_pipelining = cfg_getbool(w->sec, "relay_pipelining") ? 1 : 0;
	get_duration(w, "delivery_lifetime", 60, 30 * 86400,
	             &c->delivery_lifetime);
	get_duration(w, "delivery_retry", 1, 86400, &c->delivery_retry);
	get_duration(w, "confirm_lifetime", 600, 30 * 86400,
	             &c->confirm_lifetime);
	get_duration(w, "confirm_window", 0, 30 * 86400, &c->confirm_window);
	get_int(w, "confirm_domain_hourly", 1, 1000000,
	        &c->confirm_domain_hourly);
	get_int(w, "confirm_hourly", 1, 1000000, &c->confirm_hourly);
	get_duration(w, "held_lifetime", 3600, 365 * 86400,
	             &c->held_lifetime);
	if (get_enum(w, "dmarc_threshold", dmarc_threshold_names, &v2) == 0)
		c->dmarc_threshold = v2;
	if (get_enum(w, "archive_erasure", erasure_names, &v2) == 0)
		c->archive_erasure = v2;
	get_int(w, "report_threshold", 1, 1000, &c->report_threshold);
	c->report_to = get_text(w, "report_to", 0, CONF_NAME_MAX);
	{
		unsigned i, n = cfg_size(w->sec, "event_reminders");

		c->n_event_reminders = 0;
		for (i = 0; i < n && i < CONF_REMINDERS_MAX; i++) {
			const char *o = cfg_getnstr(w->sec, "event_reminders", i);
			char *end = NULL;
			long d = o && isdigit((unsigned char)*o)
			             ? strtol(o, &end, 10)
			             : -1;

			if (d >= 0 && end && *end == 'd' && !end[1])
				d *= 86400;
			else if (d >= 0 && end && *end == 'h' && !end[1])
				d *= 3600;
			else
				d = -1;
			if (d <= 0 || d > 365 * 86400) {
				bad(w, "event_reminders", i,
				    "event_reminders: '%.32s' is not a time "
				    "before the event like \"7d\" or \"3h\"",
				    o ? o : "");
				continue;
			}
			c->event_reminders[c->n_event_reminders++] = d;
		}
		/* the earliest first */
		for (i = 1; i < c->n_event_reminders; i++) {
			unsigned k = i;

			while (k > 0 && c->event_reminders[k - 1] <
			                    c->event_reminders[k]) {
				long t = c->event_reminders[k];

				c->event_reminders[k] = c->event_reminders[k - 1];
				c->event_reminders[k - 1] = t;
				k--;
			}
		}
	}
	{
		unsigned i, n = cfg_size(w->sec, "dmarc_override");

		c->dmarc_override = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n && i < 10000; i++) {
			const char *o = cfg_getnstr(w->sec, "dmarc_override", i);
			const char *eq = o ? strchr(o, '=') : NULL;

			if (!eq || eq == o || (strcmp(eq + 1, "none") != 0 &&
			                       strcmp(eq + 1, "quarantine") != 0 &&
			                       strcmp(eq + 1, "reject") != 0)) {
				bad(w, "dmarc_override", i,
				    "dmarc_override: '%.64s' is not "
				    "DOMAIN=none|quarantine|reject",
				    o ? o : "");
				continue;
			}
			c->dmarc_override[c->n_dmarc_override++] = xstrdup(o);
		}
	}
	get_words(w, "filter_command", &c->filter_command,
	          &c->n_filter_command);
	if (c->n_filter_command && c->filter_command[0][0] != '/')
		bad(w, "filter_command", 0,
		    "filter_command: '%.64s' must be an absolute path",
		    c->filter_command[0]);
	{
		const char *fm = cfg_getstr(w->sec, "filter_mode");

		if (fm && strcmp(fm, "verdict") == 0)
			c->filter_verdict = 1;
		else if (!fm || strcmp(fm, "headers") != 0)
			bad(w, "filter_mode", 0,
			    "filter_mode: '%.32s' is not headers or verdict",
			    fm ? fm : "");
	}
	get_duration(w, "filter_timeout", 1, 600, &c->filter_timeout);
	get_int(w, "bounce_threshold", 1, 1000, &c->bounce_threshold);
	get_duration(w, "bounce_decay", 3600, 365 * 86400, &c->bounce_decay);
	get_duration(w, "bounce_probe_wait", 600, 60 * 86400,
	             &c->bounce_probe_wait);
	get_duration(w, "bounce_remove_after", 0, 365 * 86400,
	             &c->bounce_remove_after);
	get_int(w, "bounce_content_domains", 2, 1000,
	        &c->bounce_content_domains);
}

/* Why a list name is not acceptable, or NULL. */
static const char *
bad_list_name(const char *name, char sep)
{
	size_t n = strlen(name);
	const char *p;

	if (n == 0)
		return "is empty";
	if (strchr(name, '@'))
		return "contains '@' (the name is only the local part; the "
		       "address is NAME@domain)";
	if (n > CONF_NAME_MAX)
		return "is longer than 64 characters";
	for (p = name; *p; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && !strchr("-._", *p))
			return "may contain only lower-case letters, digits, "
			       "'-', '.' and '_'";
	if (!isalnum((unsigned char)name[0]))
		return "must start with a letter or digit";
	if (strchr(name, sep))
		return "contains the separator";
	if ((n > 8 && strcmp(name + n - 8, "-request") == 0) ||
	    (n > 6 && strcmp(name + n - 6, "-owner") == 0))
		return "ends in -request or -owner, which are the list's "
		       "command and owner addresses";
	return NULL;
}

/* Read a string list of addresses into a normalised, de-duplicated
 * array. */
static void
get_addrs(const struct where *w, const char *opt, char ***out, size_t *n)
{
	unsigned i, size = cfg_size(w->sec, opt);
	size_t cap = 0, j;

	if (size > CONF_ADDRS_MAX) {
		bad(w, opt, CONF_ADDRS_MAX, "%s: more than %d entries", opt,
		    CONF_ADDRS_MAX);
		size = CONF_ADDRS_MAX;
	}
	for (i = 0; i < size; i++) {
		const char *s = cfg_getnstr(w->sec, opt, i);
		char a[ADDR_MAX + 1];

		if (!s || addr_normalise(s, a, sizeof(a)) < 0) {
			bad(w, opt, i, "%s: '%.64s' is not an e-mail address",
			    opt, s ? s : "");
			continue;
		}
		for (j = 0; j < *n; j++)
			if (strcmp((*out)[j], a) == 0)
				break;
		if (j < *n)
			continue;
		*out = xgrow(*out, &cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = xstrdup(a);
	}
}

static void
build_list(struct conf *c, struct list_conf *l, cfg_t *sec, struct errlist *e)
{
	struct where w = {e, sec, NULL};
	const char *why;
	unsigned i, size;
	size_t cap = 0, j;
	int v;
	char *s;

	l->line = line_of(sec, "", 0);
	l->name = xstrdup(cfg_title(sec) ? cfg_title(sec) : "");
	str_lower(l->name);
	w.list = l->name;
	if ((why = bad_list_name(l->name, c->separator))) {
		errs_add(e, l->line, "list name '%.64s' %s", l->name, why);
		w.list = NULL;
	}
	{
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s@%s", l->name, c->domain ? c->domain : "");
		l->address = buf_detach(&b, NULL);
	}
	if ((s = get_text(&w, "address", 0, ADDR_MAX))) {
		char a[ADDR_MAX + 1];
		const char *at;

		if (addr_normalise(s, a, sizeof(a)) < 0)
			bad(&w, "address", 0,
			    "address: '%s' is not an e-mail address", s);
		else if (c->domain && (at = strrchr(a, '@')) &&
		         strcmp(at + 1, c->domain) != 0)
			bad(&w, "address", 0,
			    "address: '%s' is outside domain %s", s, c->domain);
		else if (c->domain && strcmp(a, l->address) != 0)
			bad(&w, "address", 0,
			    "address: '%s' differs from the list's address %s "
			    "(NAME@domain)",
			    s, l->address);
		free(s);
	}

	l->description = get_text(&w, "description", 0, 1000);
	if (!l->description)
		l->description = xstrdup("");
	l->subject_prefix = get_text(&w, "subject_prefix", 0, 100);
	if (!l->subject_prefix)
		l->subject_prefix = xstrdup("");
	if (get_enum(&w, "language", language_names, &v) == 0)
		l->language = xstrdup(cfg_getstr(sec, "language"));
	else
		l->language = xstrdup("en");
	l->country = get_text(&w, "country", 0, 7);
	if (!l->country)
		l->country = xstrdup("");
	{
		const char *q;

		for (q = l->country; *q; q++)
			if (!isupper((unsigned char)*q)) {
				bad(&w, "country", 0,
				    "country: '%s' is not a country code like "
				    "\"DK\"",
				    l->country);
				l->country[0] = '\0';
				break;
			}
	}
	l->timezone = get_text(&w, "timezone", 0, 64);
	if (l->timezone && !timezone_ok(l->timezone)) {
		bad(&w, "timezone", 0,
		    "timezone: '%s' is not a time zone of the system's "
		    "database (like \"Europe/Copenhagen\" or \"UTC\")",
		    l->timezone);
		free(l->timezone);
		l->timezone = NULL;
	}
	if (!l->timezone)
		l->timezone = xstrdup("UTC");
	if (get_enum(&w, "posting", posting_names, &v) == 0)
		l->posting = (enum posting)v;
	if (get_enum(&w, "nonmember", nonmember_names, &v) == 0)
		l->nonmember = (enum nonmember)v;
	if (get_enum(&w, "archive", archive_names, &v) == 0)
		l->archive = (enum archive_mode)v;
	if (get_enum(&w, "digest", digest_names, &v) == 0)
		l->digest = (enum digest_freq)v;
	if (get_enum(&w, "digest_day", weekday_names, &v) == 0)
		l->digest_day = v;
	get_int(&w, "digest_hour", 0, 23, &l->digest_hour);
	get_size(&w, "digest_size", &l->digest_size);
	if (get_enum(&w, "digest_attachments", digest_attachment_names, &v) ==
	    0)
		l->digest_link = v;
	if (get_enum(&w, "reply_to", reply_to_names, &v) == 0)
		l->reply_to = (enum reply_to)v;
	if (get_enum(&w, "dmarc", dmarc_names, &v) == 0)
		l->dmarc = (enum dmarc_mode)v;
	get_size(&w, "max_size", &l->max_size);
	l->reply_to_override = cfg_getbool(sec, "reply_to_override") ? 1 : 0;
	l->advertised = cfg_getbool(sec, "advertised") ? 1 : 0;
	l->moderate_new = cfg_getbool(sec, "moderate_new") ? 1 : 0;
	l->collapse_alternative =
	    cfg_getbool(sec, "collapse_alternative") ? 1 : 0;
	l->html_to_text = cfg_getbool(sec, "html_to_text") ? 1 : 0;
	get_words(&w, "pass_types", &l->pass_types, &l->n_pass_types);
	get_words(&w, "strip_types", &l->strip_types, &l->n_strip_types);
	get_words(&w, "strip_extensions", &l->strip_extensions,
	          &l->n_strip_extensions);
	if ((l->html_to_text || l->collapse_alternative) && l->n_pass_types) {
		size_t k;
		int text = 0;

		for (k = 0; k < l->n_pass_types; k++)
			text |= strcmp(l->pass_types[k], "text/plain") == 0 ||
			        strcmp(l->pass_types[k], "text") == 0 ||
			        strcmp(l->pass_types[k], "text/*") == 0 ||
			        strcmp(l->pass_types[k], "*") == 0;
		if (!text)
			bad(&w, "pass_types", 0,
			    "pass_types: text/plain must pass when "
			    "html_to_text or collapse_alternative makes it");
	}
	{
		const char *sp = cfg_getstr(sec, "subscription");

		if (sp && strcmp(sp, "moderate") == 0)
			l->subscription_moderated = 1;
		else if (!sp || strcmp(sp, "confirm") != 0)
			bad(&w, "subscription", 0,
			    "subscription: '%.32s' is not confirm or moderate",
			    sp ? sp : "");
	}
	{
		unsigned k, n = cfg_size(sec, "rules");

		l->rules = xcalloc(n + 1, sizeof(char *));
		for (k = 0; k < n && k < 64; k++) {
			const char *r = cfg_getnstr(sec, "rules", k);

			if (!r || !*r || strstr(r, "..") ||
			    strlen(r) > 255) {
				bad(&w, "rules", k,
				    "rules: '%.64s' is not a rule file name "
				    "(NAME.rules in rules_dir, or an absolute "
				    "path)",
				    r ? r : "");
				continue;
			}
			l->rules[l->n_rules++] = xstrdup(r);
		}
	}
	get_addrs(&w, "owners", &l->owners, &l->n_owners);
	get_addrs(&w, "moderators", &l->moderators, &l->n_moderators);

	size = cfg_size(sec, "include");
	if (size > CONF_ADDRS_MAX) {
		bad(&w, "include", CONF_ADDRS_MAX,
		    "include: more than %d lists", CONF_ADDRS_MAX);
		size = CONF_ADDRS_MAX;
	}
	for (i = 0; i < size; i++) {
		s = xstrdup(cfg_getnstr(sec, "include", i));
		str_lower(s);
		for (j = 0; j < l->n_include; j++)
			if (strcmp(l->include[j], s) == 0)
				break;
		if (j < l->n_include) {
			free(s);
			continue;
		}
		l->include = xgrow(l->include, &cap, l->n_include + 1,
		                   sizeof(*l->include));
		l->include[l->n_include++] = s;
	}
}

/* The line of include entry `name` of list l, for messages. */
static int
include_line(cfg_t *sec, const char *name)
{
	unsigned i, size = cfg_size(sec, "include");

	for (i = 0; i < size; i++)
		if (strcasecmp(cfg_getnstr(sec, "include", i), name) == 0)
			return line_of(sec, "include", i);
	return line_of(sec, "", 0);
}

static long
list_index(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_lists; i++)
		if (strcasecmp(c->lists[i].name, name) == 0)
			return (long)i;
	return -1;
}

/*
 * Depth-first search for include cycles.  colour: 0 unvisited, 1 on the
 * current path, 2 done.  path holds the current chain so that a cycle is
 * reported as "a -> b -> a", once, at the line of the include that closes
 * it.  Iterative depth is bounded by the number of lists.
 */
static void
find_cycles(const struct conf *c, cfg_t **secs, size_t at,
            unsigned char *colour, size_t *path, size_t depth,
            struct errlist *e)
{
	const struct list_conf *l = &c->lists[at];
	size_t i, k;

	colour[at] = 1;
	path[depth] = at;
	for (i = 0; i < l->n_include; i++) {
		long to = list_index(c, l->include[i]);

		if (to < 0)
			continue;
		if (colour[to] == 1) {
			struct buf b = BUF_INIT;

			for (k = 0; k <= depth && path[k] != (size_t)to; k++)
				;
			for (; k <= depth; k++)
				buf_printf(&b, "%s -> ",
				           c->lists[path[k]].name);
			buf_adds(&b, c->lists[to].name);
			errs_add(e, include_line(secs[at], l->include[i]),
			         "list %s: include cycle %s", l->name,
			         buf_str(&b));
			buf_free(&b);
		} else if (colour[to] == 0) {
			find_cycles(c, secs, (size_t)to, colour, path,
			            depth + 1, e);
		}
	}
	colour[at] = 2;
}

static void
check_lists(struct conf *c, cfg_t **secs, struct errlist *e)
{
	unsigned char *colour = xcalloc(c->n_lists + 1, 1);
	size_t *path = xcalloc(c->n_lists + 1, sizeof(*path));
	size_t i, j, k;

	for (i = 0; i < c->n_lists; i++) {
		struct list_conf *l = &c->lists[i];

		for (j = 0; j < i; j++)
			if (strcmp(c->lists[j].name, l->name) == 0) {
				errs_add(e, l->line,
				         "list %s is defined twice (first at "
				         "line %d)",
				         l->name, c->lists[j].line);
				break;
			}
		for (k = 0; k < l->n_include; k++)
			if (list_index(c, l->include[k]) < 0)
				errs_add(e,
				         include_line(secs[i], l->include[k]),
				         "list %s: include: no list called "
				         "'%.64s'",
				         l->name, l->include[k]);
	}
	for (i = 0; i < c->n_lists; i++)
		if (colour[i] == 0)
			find_cycles(c, secs, i, colour, path, 0, e);
	free(colour);
	free(path);
}

static int
by_line(const void *a, const void *b)
{
	const struct message *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
report(struct errlist *e, const char *name, struct buf *errors)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		e->v[i].seq = i;
	qsort(e->v, e->n, sizeof(*e->v), by_line);
	for (i = 0; i < e->n && errors; i++)
		buf_printf(errors, "%s:%d: %s\n", name, e->v[i].line,
		           e->v[i].text);
	if (e->dropped && errors)
		buf_printf(errors, "%s:0: %zu more errors not shown\n", name,
		           e->dropped);
}

static void
move_errors(struct errlist *to, struct errlist *from)
{
	size_t i;

	for (i = 0; i < from->n; i++) {
		errs_add(to, from->v[i].line, "%s", from->v[i].text);
	}
	to->dropped += from->dropped;
}

static struct conf *
parse(const char *name, const char *text, const char *basedir,
      struct buf *errors)
{
	cfg_opt_t list_opts[] = {
	    CFG_PTR_CB(HIDDEN_OPT, "1", CFGF_NONE, secinfo_new, secinfo_free),
	    CFG_STR("address", NULL, CFGF_NONE),
	    CFG_STR("description", "", CFGF_NONE),
	    CFG_STR("language", "en", CFGF_NONE),
	    CFG_STR("timezone", "UTC", CFGF_NONE),
	    CFG_STR("country", "", CFGF_NONE),
	    CFG_STR("posting", "members", CFGF_NONE),
	    CFG_STR("nonmember", "hold", CFGF_NONE),
	    CFG_STR("archive", "public", CFGF_NONE),
	    CFG_STR("digest", "none", CFGF_NONE),
	    CFG_STR("digest_day", "monday", CFGF_NONE),
	    CFG_INT("digest_hour", 7, CFGF_NONE),
	    CFG_STR("digest_size", "40K", CFGF_NONE),
	    CFG_STR("digest_attachments", "keep", CFGF_NONE),
	    CFG_STR("subject_prefix", "", CFGF_NONE),
	    CFG_STR("reply_to", "list", CFGF_NONE),
	    CFG_STR("max_size", "10M", CFGF_NONE),
	    CFG_STR_LIST("owners", NULL, CFGF_NONE),
	    CFG_STR_LIST("moderators", NULL, CFGF_NONE),
	    CFG_STR_LIST("include", NULL, CFGF_NONE),
	    CFG_STR("dmarc", "munge", CFGF_NONE),
	    CFG_BOOL("reply_to_override", cfg_false, CFGF_NONE),
	    CFG_BOOL("advertised", cfg_true, CFGF_NONE),
	    CFG_BOOL("moderate_new", cfg_false, CFGF_NONE),
	    CFG_BOOL("collapse_alternative", cfg_false, CFGF_NONE),
	    CFG_BOOL("html_to_text", cfg_false, CFGF_NONE),
	    CFG_STR_LIST("pass_types", NULL, CFGF_NONE),
	    CFG_STR_LIST("strip_types", NULL, CFGF_NONE),
	    CFG_STR_LIST("strip_extensions", NULL, CFGF_NONE),
	    CFG_STR("subscription", "confirm", CFGF_NONE),
	    CFG_STR_LIST("rules", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t opts[] = {
	    CFG_PTR_CB(HIDDEN_OPT, "1", CFGF_NONE, secinfo_new, secinfo_free),
	    CFG_STR("domain", NULL, CFGF_NONE),
	    CFG_STR("home", NULL, CFGF_NONE),
	    CFG_STR("relay", NULL, CFGF_NONE),
	    CFG_STR("lmtp", NULL, CFGF_NONE),
	    CFG_STR("http", NULL, CFGF_NONE),
	    CFG_STR("base_url", NULL, CFGF_NONE),
	    CFG_STR("user", NULL, CFGF_NONE),
	    CFG_STR("separator", "+", CFGF_NONE),
	    CFG_STR("max_message_size", "25M", CFGF_NONE),
	    CFG_INT("lmtp_max_sessions", 500, CFGF_NONE),
	    CFG_INT("lmtp_idle_timeout", 300, CFGF_NONE),
	    CFG_INT("lmtp_session_timeout", 3600, CFGF_NONE),
	    CFG_STR("templates", NULL, CFGF_NONE),
	    CFG_STR("rules_dir", NULL, CFGF_NONE),
	    CFG_INT("delivery_connections", 4, CFGF_NONE),
	    CFG_INT("delivery_batch", 50, CFGF_NONE),
	    CFG_BOOL("verp", cfg_false, CFGF_NONE),
	    CFG_BOOL("relay_pipelining", cfg_true, CFGF_NONE),
	    CFG_STR("delivery_lifetime", "5d", CFGF_NONE),
	    CFG_STR("delivery_retry", "5m", CFGF_NONE),
	    CFG_STR("confirm_lifetime", "3d", CFGF_NONE),
	    CFG_STR("confirm_window", "24h", CFGF_NONE),
	    CFG_INT("confirm_domain_hourly", 50, CFGF_NONE),
	    CFG_INT("confirm_hourly", 500, CFGF_NONE),
	    CFG_STR("held_lifetime", "14d", CFGF_NONE),
	    CFG_STR("dmarc_threshold", "quarantine", CFGF_NONE),
	    CFG_STR("archive_erasure", "pseudonymise", CFGF_NONE),
	    CFG_INT("report_threshold", 5, CFGF_NONE),
	    CFG_STR("report_to", "", CFGF_NONE),
	    CFG_STR_LIST("event_reminders", "{\"7d\", \"1d\"}", CFGF_NONE),
	    CFG_STR_LIST("dmarc_override", NULL, CFGF_NONE),
	    CFG_STR_LIST("filter_command", NULL, CFGF_NONE),
	    CFG_STR("filter_mode", "headers", CFGF_NONE),
	    CFG_STR("filter_timeout", "10s", CFGF_NONE),
	    CFG_INT("bounce_threshold", 3, CFGF_NONE),
	    CFG_STR("bounce_decay", "7d", CFGF_NONE),
	    CFG_STR("bounce_probe_wait", "3d", CFGF_NONE),
	    CFG_STR("bounce_remove_after", "30d", CFGF_NONE),
	    CFG_INT("bounce_content_domains", 3, CFGF_NONE),
	    CFG_SEC("list", list_opts,
	            CFGF_TITLE | CFGF_MULTI | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	struct errlist e = {0};
	struct buf clean = BUF_INIT;
	struct conf *c = xcalloc(1, sizeof(*c));
	cfg_t *cfg = NULL, **secs = NULL;
	int parsed = 0;
	size_t i, n;
	FILE *fp;

	c->path = xstrdup(name);
	set_callbacks(opts);
	set_callbacks(list_opts);
	buf_init(&clean, 0);
	if (strip_comments(text, &clean, &e) < 0)
		goto out;

	cfg = cfg_init(opts, CFGF_NONE);
	if (!cfg) {
		errs_add(&e, 0, "cannot initialise the parser");
		goto out;
	}
	cfg_set_error_function(cfg, on_cfg_error);
	free(cfg->filename);
	cfg->filename = xstrdup(name);
	if (clean.len == 0) {
		parsed = 1;
	} else if (!(fp = fmemopen(clean.s, clean.len, "r"))) {
		errs_add(&e, 0, "cannot read: %s", strerror(errno));
	} else {
		parsed = cfg_parse_fp(cfg, fp) == CFG_SUCCESS;
		fclose(fp);
	}
	/* libconfuse's own messages, from the root and each section */
	move_errors(&e, &secinfo_of(cfg)->errs);
	n = cfg_size(cfg, "list");
	for (i = 0; i < n; i++)
		move_errors(
		    &e,
		    &secinfo_of(cfg_getnsec(cfg, "list", (unsigned)i))->errs);
	if (!parsed && e.n == 0)
		errs_add(&e, line_of(cfg, "", 0), "syntax error");

	{
		struct where w = {&e, cfg, NULL};

		build_globals(c, &w, basedir, parsed);
	}
	if (n > CONF_LISTS_MAX) {
		errs_add(&e, 0, "more than %d lists", CONF_LISTS_MAX);
		n = CONF_LISTS_MAX;
	}
	c->lists = xcalloc(n + 1, sizeof(*c->lists));
	secs = xcalloc(n + 1, sizeof(*secs));
	for (i = 0; i < n; i++) {
		secs[i] = cfg_getnsec(cfg, "list", (unsigned)i);
		build_list(c, &c->lists[i], secs[i], &e);
		c->n_lists++;
	}
	if (parsed)
		check_lists(c, secs, &e);
out:
	if (e.n || e.dropped) {
		report(&e, name, errors);
		conf_free(c);
		c = NULL;
	}
	free(secs);
	if (cfg)
		cfg_free(cfg);
	errs_free(&e);
	buf_free(&clean);
	return c;
}

struct conf *
conf_parse(const char *name, const char *text, struct buf *errors)
{
	return parse(name, text, NULL, errors);
}

struct conf *
conf_load(const char *path, struct buf *errors)
{
	struct buf text = BUF_INIT, dir = BUF_INIT;
	struct conf *c = NULL;
	const char *slash = strrchr(path, '/');

	buf_init(&text, CONF_FILE_MAX);
	if (read_file(path, &text) < 0) {
		if (errors)
			buf_printf(errors, "%s:0: cannot read: %s\n", path,
			           errno == EFBIG ? "larger than 1 MiB"
			                          : strerror(errno));
		goto out;
	}
	if (text.len && memchr(text.s, '\0', text.len)) {
		if (errors)
			buf_printf(errors,
			           "%s:0: contains a NUL byte; is "
			           "it a text file?\n",
			           path);
		goto out;
	}
	/* Relative paths in the file are relative to the file's folder,
	 * so that `mlmd -c demo/mlmd.conf` works from anywhere. */
	if (path[0] != '/') {
		char cwd[4096];

		if (!getcwd(cwd, sizeof(cwd))) {
			if (errors)
				buf_printf(errors,
				           "%s:0: cannot find the "
				           "current folder: %s\n",
				           path, strerror(errno));
			goto out;
		}
		buf_adds(&dir, cwd);
		if (slash)
			buf_printf(&dir, "/%.*s", (int)(slash - path), path);
	} else if (slash) {
		buf_add(&dir, path, slash > path ? (size_t)(slash - path) : 1);
	}
	c = parse(path, buf_str(&text), buf_str(&dir), errors);
out:
	buf_free(&text);
	buf_free(&dir);
	return c;
}

void
conf_free(struct conf *c)
{
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < c->n_lists; i++) {
		struct list_conf *l = &c->lists[i];

		free(l->name);
		free(l->address);
		free(l->description);
		free(l->timezone);
		free(l->country);
		free(l->language);
		free(l->subject_prefix);
		for (j = 0; j < l->n_owners; j++)
			free(l->owners[j]);
		free(l->owners);
		for (j = 0; j < l->n_moderators; j++)
			free(l->moderators[j]);
		free(l->moderators);
		for (j = 0; j < l->n_include; j++)
			free(l->include[j]);
		free(l->include);
		for (j = 0; j < l->n_rules; j++)
			free(l->rules[j]);
		free(l->rules);
		free_words(l->pass_types, l->n_pass_types);
		free_words(l->strip_types, l->n_strip_types);
		free_words(l->strip_extensions, l->n_strip_extensions);
	}
	free(c->lists);
	free(c->path);
	free(c->domain);
	free(c->home);
	free(c->relay);
	free(c->lmtp);
	free(c->http);
	free(c->base_url);
	free(c->user);
	free(c->templates);
	free(c->rules_dir);
	free(c->report_to);
	for (i = 0; c->dmarc_override && i < c->n_dmarc_override; i++)
		free(c->dmarc_override[i]);
	free(c->dmarc_override);
	free_words(c->filter_command, c->n_filter_command);
	free(c);
}

const struct list_conf *
conf_list(const struct conf *c, const char *name)
{
	long i = list_index(c, name);

	return i < 0 ? NULL : &c->lists[i];
}

/* ----- printing --------------------------------------------------------- */

/* A double-quoted string as libconfuse reads it back: '\' and '"'
 * escaped, and '$' too, because "${VAR}" is expanded from the
 * environment. */
static void
print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == '$')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
print_size(FILE *f, size_t n)
{
	static const struct {
		size_t unit;
		char suffix;
	} units[] = {{(size_t)1 << 30, 'G'},
	             {(size_t)1 << 20, 'M'},
	             {(size_t)1 << 10, 'K'}};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (n >= units[i].unit && n % units[i].unit == 0) {
			fprintf(f, "\"%zu%c\"", n / units[i].unit,
			        units[i].suffix);
			return;
		}
	fprintf(f, "\"%zu\"", n);
}

static void
print_strs(FILE *f, const char *opt, char **v, size_t n)
{
	size_t i;

	fprintf(f, "\t%s = {", opt);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : " ", f);
		print_str(f, v[i]);
	}
	fputs(n ? " }\n" : "}\n", f);
}

void
conf_print(const struct conf *c, FILE *f)
{
	const char *p;
	size_t i;

	/* the path is the one string not checked for control characters */
	fputs("# effective configuration of ", f);
	for (p = c->path; *p; p++)
		fputc((unsigned char)*p < 0x20 ? '?' : *p, f);
	fputs(" (defaults included)\n", f);
	fputs("domain = ", f);
	print_str(f, c->domain);
	fputs("\nhome = ", f);
	print_str(f, c->home);
	fputs("\nrelay = ", f);
	print_str(f, c->relay);
	fputs("\nlmtp = ", f);
	print_str(f, c->lmtp);
	fputs("\nhttp = ", f);
	print_str(f, c->http ? c->http : "");
	if (c->base_url) {
		fputs("\nbase_url = ", f);
		print_str(f, c->base_url);
	}
	if (c->user) {
		fputs("\nuser = ", f);
		print_str(f, c->user);
	} else {
		fputs("\n# user is not set: mlmd refuses to run as root", f);
	}
	fprintf(f, "\nseparator = \"%c\"\nmax_message_size = ", c->separator);
	print_size(f, c->max_message_size);
	fprintf(f,
	        "\nlmtp_max_sessions = %d\nlmtp_idle_timeout = %d\n"
	        "lmtp_session_timeout = %d\n",
	        c->lmtp_max_sessions, c->lmtp_idle_timeout,
	        c->lmtp_session_timeout);
	fputs("templates = ", f);
	print_str(f, c->templates);
	fputs("\nrules_dir = ", f);
	print_str(f, c->rules_dir);
	fprintf(f,
	        "\ndelivery_connections = %d\ndelivery_batch = %d\n"
	        "verp = %s\nrelay_pipelining = %s\n"
	        "delivery_lifetime = \"%lds\"\ndelivery_retry = \"%lds\"\n",
	        c->delivery_connections, c->delivery_batch,
	        c->verp ? "true" : "false",
	        c->relay_pipelining ? "true" : "false", c->delivery_lifetime,
	        c->delivery_retry);
	fprintf(f,
	        "confirm_lifetime = \"%lds\"\nconfirm_window = \"%lds\"\n"
	        "confirm_domain_hourly = %d\nconfirm_hourly = %d\n"
	        "held_lifetime = \"%lds\"\n",
	        c->confirm_lifetime, c->confirm_window,
	        c->confirm_domain_hourly, c->confirm_hourly, c->held_lifetime);
	fprintf(f, "dmarc_threshold = %s\n",
	        c->dmarc_threshold == 2 ? "reject" : "quarantine");
	fprintf(f, "archive_erasure = %s\nreport_threshold = %d\n",
	        enum_name(erasure_names, c->archive_erasure),
	        c->report_threshold);
	fputs("report_to = ", f);
	print_str(f, c->report_to ? c->report_to : "");
	fputc('\n', f);
	{
		size_t k;

		fputs("event_reminders = {", f);
		for (k = 0; k < c->n_event_reminders; k++)
			fprintf(f, "%s\"%ldh\"", k ? ", " : " ",
			        c->event_reminders[k] / 3600);
		fputs(" }\n", f);
	}
	print_strs(f, "dmarc_override", c->dmarc_override,
	           c->n_dmarc_override);
	print_strs(f, "filter_command", c->filter_command,
	           c->n_filter_command);
	fprintf(f, "filter_mode = %s\nfilter_timeout = \"%lds\"\n",
	        c->filter_verdict ? "verdict" : "headers", c->filter_timeout);
	fprintf(f,
	        "bounce_threshold = %d\nbounce_decay = \"%lds\"\n"
	        "bounce_probe_wait = \"%lds\"\nbounce_remove_after = \"%lds\"\n"
	        "bounce_content_domains = %d\n",
	        c->bounce_threshold, c->bounce_decay, c->bounce_probe_wait,
	        c->bounce_remove_after, c->bounce_content_domains);
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];

		fprintf(f, "\nlist %s {\n\taddress = ", l->name);
		print_str(f, l->address);
		fputs("\n\tdescription = ", f);
		print_str(f, l->description);
		fprintf(f, "\n\tlanguage = \"%s\"\n", l->language);
		fprintf(f, "\ttimezone = \"%s\"\n", l->timezone);
		if (*l->country)
			fprintf(f, "\tcountry = \"%s\"\n", l->country);
		fprintf(f, "\tposting = %s\n", conf_posting_name(l->posting));
		fprintf(f, "\tnonmember = %s\n",
		        conf_nonmember_name(l->nonmember));
		fprintf(f, "\tarchive = %s\n", conf_archive_name(l->archive));
		fprintf(f, "\tdigest = %s\n", conf_digest_name(l->digest));
		fprintf(f, "\tdigest_day = %s\n\tdigest_hour = %d\n"
		           "\tdigest_size = %zu\n\tdigest_attachments = %s\n",
		        enum_name(weekday_names, l->digest_day), l->digest_hour,
		        l->digest_size,
		        enum_name(digest_attachment_names, l->digest_link));
		fputs("\tsubject_prefix = ", f);
		print_str(f, l->subject_prefix);
		fprintf(f, "\n\treply_to = %s\n\tmax_size = ",
		        enum_name(reply_to_names, l->reply_to));
		print_size(f, l->max_size);
		fputc('\n', f);
		print_strs(f, "owners", l->owners, l->n_owners);
		print_strs(f, "moderators", l->moderators, l->n_moderators);
		print_strs(f, "include", l->include, l->n_include);
		fprintf(f, "\treply_to_override = %s\n",
		        l->reply_to_override ? "true" : "false");
		fprintf(f, "\tadvertised = %s\n",
		        l->advertised ? "true" : "false");
		fprintf(f, "\tmoderate_new = %s\n",
		        l->moderate_new ? "true" : "false");
		fprintf(f, "\tsubscription = %s\n",
		        l->subscription_moderated ? "moderate" : "confirm");
		print_strs(f, "rules", l->rules, l->n_rules);
		print_strs(f, "pass_types", l->pass_types, l->n_pass_types);
		print_strs(f, "strip_types", l->strip_types, l->n_strip_types);
		print_strs(f, "strip_extensions", l->strip_extensions,
		           l->n_strip_extensions);
		fprintf(f, "\tcollapse_alternative = %s\n\thtml_to_text = %s\n",
		        l->collapse_alternative ? "true" : "false",
		        l->html_to_text ? "true" : "false");
		fprintf(f, "\tdmarc = %s\n}\n",
		        enum_name(dmarc_names, l->dmarc));
	}
}

int
conf_web_base(const struct conf *c, struct buf *out)
{
	size_t start = out->len;

	if (c->base_url && *c->base_url)
		buf_adds(out, c->base_url);
	else if (c->http && *c->http)
		buf_printf(out, "http://%s", c->http);
	while (out->len > start && out->s[out->len - 1] == '/')
		out->s[--out->len] = '\0';
	return out->len > start;
}
