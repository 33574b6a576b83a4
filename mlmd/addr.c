/*
 * addr.c - e-mail address normalisation and the list address scheme
 * (DESIGN.md "Addresses").
 *
 * Owns: what counts as "the same address" (addr_normalise) and which
 * recipient addresses belong to which list and role (addr_route).  Called
 * by conf.c (owners, moderators), the LMTP listener and mlmd-inject
 * (recipients), the dispatcher and mlmctl (member addresses).
 *
 * RFC 5321 4.5.3.1 (lengths: 64 local, 255 domain), RFC 5322 3.4.1
 * (addr-spec).  Deliberately narrower than RFC 5322: quoted local parts,
 * comments and route addresses are refused (XXX: no member of ours uses
 * them, and every one is a source of ambiguity in database keys); UTF-8
 * (RFC 6531) bytes are accepted as they are.
 *
 * Routing invariants, guaranteed by conf.c's list name rules: a list name
 * never contains the separator and never ends in -request or -owner, so
 * every address has at most one reading.  The local part is matched
 * without regard to case, but the token after a role keeps the case it
 * arrived with, because tokens may be case-sensitive encodings.
 *
 * Nothing here logs or is fatal: bad input is -1 to the caller.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "conf.h"
#include "util.h"

/* RFC 5322 atext minus nothing, plus '.'; bytes >= 0x80 are UTF-8. */
static int
local_char(unsigned char c)
{
	return c >= 0x80 || isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c);
}

static int
domain_char(unsigned char c)
{
	return c >= 0x80 || isalnum(c) || c == '-' || c == '.';
}

int
addr_normalise(const char *in, char *out, size_t outsz)
{
	const char *s = in, *e, *at = NULL, *p;
	size_t len;

	if (!in)
		return -1;
	e = s + strlen(s);
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e - s >= 2 && *s == '<' && e[-1] == '>') {
		s++;
		e--;
	}
	len = (size_t)(e - s);
	if (len == 0 || len > ADDR_MAX || len >= outsz)
		return -1;
	for (p = s; p < e; p++) {
		if (*p == '@') {
			if (at)
				return -1;
			at = p;
		} else if (!(at ? domain_char((unsigned char)*p)
		                : local_char((unsigned char)*p))) {
			return -1;
		}
	}
	if (!at || at == s || at + 1 == e || at - s > 64 || e - at - 1 > 255)
		return -1;
	/* the domain: no empty label */
	if (at[1] == '.' || e[-1] == '.' ||
	    memmem(at, (size_t)(e - at), "..", 2))
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	str_lower(out);
	return 0;
}

/* The roles after LIST+; one table so that names and suffixes cannot
 * drift apart from the enum. */
static const struct role_info {
	enum addr_role role;
	const char *name;   /* addr_role_name() */
	const char *suffix; /* after LIST+, or NULL for no such suffix */
	int arg;            /* 0: none, 1: "-ARG" required, 2: optional */
} roles[] = {
    {ROLE_POST, "post", NULL, 0},
    {ROLE_REQUEST, "request", NULL, 0},
    {ROLE_OWNER, "owner", NULL, 0},
    {ROLE_SUBSCRIBE, "subscribe", "subscribe", 0},
    {ROLE_UNSUBSCRIBE, "unsubscribe", "unsubscribe", 2},
    {ROLE_HELP, "help", "help", 0},
    {ROLE_CONFIRM, "confirm", "confirm", 1},
    {ROLE_MODERATE, "moderate", "moderate", 1},
    /* LIST+bounce@ is the envelope sender of batched copies and
     * notices; LIST+bounce-USER=DOMAIN@ that of VERP copies */
    {ROLE_BOUNCE, "bounce", "bounce", 2},
    {ROLE_RSVP, "rsvp", "rsvp", 1},
    /* LIST+event@ a coordinator's event, LIST+event-TOKEN@ their
     * confirmation */
    {ROLE_EVENT, "event", "event", 2},
};

const char *
addr_role_name(enum addr_role r)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roles); i++)
		if (roles[i].role == r)
			return roles[i].name;
	return "unknown";
}

/* The list whose name is the first n bytes of s, or NULL. */
static const struct list_conf *
find_list(const struct conf *c, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < c->n_lists; i++)
		if (strlen(c->lists[i].name) == n &&
		    strncmp(c->lists[i].name, s, n) == 0)
			return &c->lists[i];
	return NULL;
}

/* LIST followed by "-request" or "-owner" in the local part [s, s+n). */
static int
route_dash(const struct conf *c, const char *s, size_t n, struct route *out)
{
	static const struct {
		const char *suffix;
		enum addr_role role;
	} dash[] = {{"-request", ROLE_REQUEST}, {"-owner", ROLE_OWNER}};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dash); i++) {
		size_t k = strlen(dash[i].suffix);

		if (n > k && strncmp(s + n - k, dash[i].suffix, k) == 0 &&
		    (out->list = find_list(c, s, n - k))) {
			out->role = dash[i].role;
			return 0;
		}
	}
	return -1;
}

int
addr_route(const struct conf *c, const char *rcpt, struct route *out)
{
	char norm[ADDR_MAX + 1], orig[ADDR_MAX + 1];
	const char *at, *sep, *suffix, *osuffix;
	size_t n, i;

	memset(out, 0, sizeof(*out));
	if (!c || !c->domain || addr_normalise(rcpt, norm, sizeof(norm)) < 0)
		return -1;
	/* the same bytes before lower-casing, for the token */
	{
		const char *s = rcpt, *e;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '<')
			s++;
		e = s + strlen(norm);
		memcpy(orig, s, (size_t)(e - s));
		orig[e - s] = '\0';
	}
	at = strrchr(norm, '@');
	if (strcmp(at + 1, c->domain) != 0)
		return -1;
	n = (size_t)(at - norm);

	if ((out->list = find_list(c, norm, n))) {
		out->role = ROLE_POST;
		return 0;
	}
	if (route_dash(c, norm, n, out) == 0)
		return 0;

	sep = memchr(norm, c->separator, n);
	if (!sep || !(out->list = find_list(c, norm, (size_t)(sep - norm))))
		goto none;
	suffix = sep + 1;
	osuffix = orig + (suffix - norm);
	n = (size_t)(at - suffix);
	for (i = 0; i < ARRAY_SIZE(roles); i++) {
		const struct role_info *r = &roles[i];
		size_t k = r->suffix ? strlen(r->suffix) : 0;

		if (!r->suffix || n < k || strncmp(suffix, r->suffix, k) != 0)
			continue;
		if (n == k && r->arg != 1) {
			out->role = r->role;
			return 0;
		}
		if (n > k + 1 && suffix[k] == '-' && r->arg) {
			out->role = r->role;
			memcpy(out->arg, osuffix + k + 1, n - k - 1);
			out->arg[n - k - 1] = '\0';
			return 0;
		}
	}
none:
	memset(out, 0, sizeof(*out));
	return -1;
}
