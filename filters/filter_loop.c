/*
 * filter_loop.c - the loop stage: a post that already went through this
 * list is never distributed again.
 *
 * Owns: recognising the marks mlmd itself puts on every copy it sends
 * (decorate.c list_fields()):
 *   List-Id: [description] <NAME.DOMAIN>   (RFC 2919 list identifier)
 *   X-Loop: NAME@DOMAIN                    (the list's posting address)
 * Any List-Id whose last <...> (or, without brackets, whose whole value)
 * is this list's id, or any X-Loop equal to the list's address (space and
 * <> around it ignored), makes the post a loop.  Both are compared without
 * regard to case (domains are case-insensitive; mlmd writes list names in
 * lower case, but a relay may not keep them).  Every field of those names
 * is looked at, not only the first: a post that travelled through several
 * lists carries several.  Another list's List-Id (a post forwarded from
 * elsewhere) does not count.
 *
 * Verdict: FILTER_HOLD with no notice: the owner sees the post, and
 * nobody is ever told automatically (a notice about a loop could itself
 * loop).  Pure: no I/O, no allocation.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "conf.h"
#include "filter.h"
#include "msg.h"
#include "util.h"

/* The two halves of this list's identity: NAME and DOMAIN. */
struct ident {
	const char *name;
	size_t nlen;
	const char *dom;
	size_t dlen;
};

static int
ident_of(const struct filter_post *p, struct ident *id)
{
	const struct list_conf *l = p->list;
	const char *at = l->address ? strrchr(l->address, '@') : NULL;

	if (!l->name || !l->name[0])
		return -1;
	id->name = l->name;
	id->nlen = strlen(l->name);
	/* decorate.c writes List-Id from conf->domain and X-Loop from
	 * list->address; conf.c makes the address NAME@domain. */
	if (p->conf && p->conf->domain && p->conf->domain[0])
		id->dom = p->conf->domain;
	else if (at && at[1])
		id->dom = at + 1;
	else
		return -1;
	id->dlen = strlen(id->dom);
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* s[0..n) with surrounding white space removed. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/* s[0..n) is NAME, sep, DOMAIN (case-insensitive). */
static int
ident_is(const struct ident *id, char sep, const char *s, size_t n)
{
	trim(&s, &n);
	return n == id->nlen + 1 + id->dlen &&
	       strncasecmp(s, id->name, id->nlen) == 0 && s[id->nlen] == sep &&
	       strncasecmp(s + id->nlen + 1, id->dom, id->dlen) == 0;
}


static int
list_id_is(const struct ident *id, const char *v)
{
	const char *lt = strrchr(v, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')))
		return ident_is(id, '.', lt + 1, (size_t)(gt - lt - 1));
	return ident_is(id, '.', v, strlen(v));
}

static int
x_loop_is(const struct ident *id, const char *v)
{
	size_t n = strlen(v);

	trim(&v, &n);
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	return ident_is(id, '@', v, n);
}

static enum filter_verdict
run(const struct filter_post *p, struct filter_result *r)
{
	const struct msg *m = p->msg;
	struct ident id;
	size_t i;

	if (!m || !p->list || ident_of(p, &id) < 0)
		return FILTER_PASS;
	for (i = 0; i < m->n_headers; i++) {
		const struct msg_header *h = &m->headers[i];

		if (!h->name || !h->value)
			continue;
		if ((filter_header_is(h->name, "list-id") &&
		     list_id_is(&id, h->value)) ||
		    (filter_header_is(h->name, "x-loop") && x_loop_is(&id, h->value))) {
			r->verdict = FILTER_HOLD;
			r->stage = filter_loop.name;
			r->notice = NULL;
			strlcpy_(r->reason,
			         "mail loop: the post already carries this "
			         "list's List-Id/X-Loop",
			         sizeof(r->reason));
			return FILTER_HOLD;
		}
	}
	return FILTER_PASS;
}

const struct filter_stage filter_loop = {"loop", run};
