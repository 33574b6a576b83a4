/*
 * filter_auto.c - the auto stage: mail written by a program (vacation
 * replies, bounces, bulk mail, other lists' copies) is never distributed
 * to the members; it goes to the owners.
 *
 * Owns: what counts as automatic mail for the post address:
 *   - any Auto-Submitted field whose keyword is not "no" (RFC 3834 5.1:
 *     the keyword before any ';' parameters; comments are skipped; the
 *     comparison ignores case); an empty field counts as automatic too,
 *     since only a program writes the field at all;
 *   - any Precedence field of bulk, junk or list (RFC 2076; the
 *     de-facto marks of vacation(1), MTAs and list managers);
 *   - the null envelope sender "" or "<>" (RFC 5321 4.5.5: bounces and
 *     other notifications), or an envelope sender whose local part is
 *     MAILER-DAEMON;
 *   - a From: whose local part is MAILER-DAEMON (bounces relayed with a
 *     real envelope sender).
 * Header fields are looked at in the order they appear, then the
 * envelope sender, then From:; the reason names the first that hit.
 * Reasons never quote a header value verbatim (it could hold an address
 * or control characters): only a keyword made of [A-Za-z0-9._-].
 *
 * Verdict: FILTER_OWNER, no notice (telling a robot about its mail is how
 * mail loops start).  A NULL envelope sender means "not known" and is not
 * taken for the null sender.  Pure: no I/O, no allocation.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "msg.h"
#include "util.h"

#define KEYWORD_MAX 40 /* longest keyword quoted in a reason */


/* Skip white space and (nested) comments. */
static const char *
skip_cfws(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s != '(')
			return s;
		{
			int depth = 0;

			for (; *s; s++) {
				if (*s == '\\' && s[1])
					s++;
				else if (*s == '(')
					depth++;
				else if (*s == ')' && --depth == 0) {
					s++;
					break;
				}
			}
		}
	}
}

/* The keyword at the start of a structured value: *len bytes from the
 * returned pointer, up to ';', '(', or white space. */
static const char *
keyword(const char *v, size_t *len)
{
	const char *s = skip_cfws(v), *e = s;

	while (*e && *e != ';' && *e != '(' && *e != ' ' && *e != '\t' &&
	       *e != '\r' && *e != '\n')
		e++;
	*len = (size_t)(e - s);
	return s;
}

static int
word_is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(s, want, n) == 0;
}

/* The keyword is safe to quote in a reason. */
static int
quotable(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > KEYWORD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* The local part of an address (before the last '@', <> removed) is
 * MAILER-DAEMON. */
static int
is_mailer_daemon(const char *a)
{
	const char *at;
	size_t n;

	while (*a == ' ' || *a == '\t' || *a == '<')
		a++;
	at = strrchr(a, '@');
	n = at ? (size_t)(at - a) : strcspn(a, "> \t");
	return word_is(a, n, "mailer-daemon");
}

static int
null_sender(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' || strncmp(s, "<>", 2) == 0;
}

static enum filter_verdict
decide(struct filter_result *r, const char *why)
{
	r->verdict = FILTER_OWNER;
	r->stage = filter_auto.name;
	r->notice = NULL;
	strlcpy_(r->reason, why, sizeof(r->reason));
	return FILTER_OWNER;
}

static enum filter_verdict
run(const struct filter_post *p, struct filter_result *r)
{
	const struct msg *m = p->msg;
	size_t i;

	for (i = 0; m && i < m->n_headers; i++) {
		const struct msg_header *h = &m->headers[i];
		const char *k;
		size_t n;

		if (!h->name || !h->value)
			continue;
		if (filter_header_is(h->name, "auto-submitted")) {
			k = keyword(h->value, &n);
			if (word_is(k, n, "no"))
				continue;
			if (quotable(k, n)) {
				decide(r, "");
				snprintf(r->reason, sizeof(r->reason),
				         "automatic mail (Auto-Submitted: "
				         "%.*s) goes to the owners",
				         (int)n, k);
				return FILTER_OWNER;
			}
			return decide(r, "automatic mail (Auto-Submitted) "
			                 "goes to the owners");
		}
		if (filter_header_is(h->name, "precedence")) {
			static const char *const bulk[] = {"bulk", "junk",
			                                   "list"};
			size_t j;

			k = keyword(h->value, &n);
			for (j = 0; j < ARRAY_SIZE(bulk); j++) {
				if (!word_is(k, n, bulk[j]))
					continue;
				decide(r, "");
				snprintf(r->reason, sizeof(r->reason),
				         "bulk or list mail (Precedence: %s) "
				         "goes to the owners",
				         bulk[j]);
				return FILTER_OWNER;
			}
		}
	}
	if (p->sender && null_sender(p->sender))
		return decide(r, "bounce or notification (null envelope "
		                 "sender) goes to the owners");
	if (p->sender && is_mailer_daemon(p->sender))
		return decide(r, "bounce (envelope sender MAILER-DAEMON) goes "
		                 "to the owners");
	if (m && m->from.addr && is_mailer_daemon(m->from.addr))
		return decide(r, "bounce (From: MAILER-DAEMON) goes to the "
		                 "owners");
	return FILTER_PASS;
}

const struct filter_stage filter_auto = {"auto", run};
