/*
 * dmarc.c - DMARC policy discovery (dmarc.h): which policy a From domain
 * publishes, so that the list munges or wraps posts that receivers would
 * otherwise reject or quarantine once the list has changed them.
 *
 * Who calls it: the daemon, once per post whose list has `dmarc = munge`
 * or `wrap`, with the domain of the post's From address.
 *
 * Discovery (RFC 7489 section 6.6.3, in this order):
 *  1. an override for the domain, then one for its organizational domain
 *     (applied as sp=, which an override sets equal to p=);
 *  2. the TXT records at _dmarc.DOMAIN: those that do not begin with
 *     "v=DMARC1" are discarded; one left is the record and its p= applies;
 *     several, or one without a valid p= and rua=, mean "no DMARC
 *     processing" (DMARC_P_UNKNOWN) and stop discovery;
 *  3. none left (or no such name): the same at _dmarc.ORGDOMAIN, whose
 *     sp= applies (sp= defaults to p=).
 * pct= is read but not used: a list cannot know which copies a receiver
 * samples, so any quarantine or reject counts.  XXX Deviation from the
 * RFC: a valid p= with an invalid sp= is kept (sp = p) instead of
 * dropping the record; mitigating once too often is cheap, a rejected
 * copy is not.
 *
 * Invariants and limits: record text is at most DMARC_TXT_MAX bytes
 * (longer records are ignored), at most DMARC_ANS_RECORDS TXT records
 * are read per answer, DMARC_CACHE_MAX names are cached (the least
 * recently used go first), names are checked (ASCII letters, digits, '-'
 * and '_', labels of 1-63, at most 253) before they reach the resolver.
 * Cache lifetimes: a record its TTL clamped to DMARC_TTL_MIN..MAX, no
 * record DMARC_TTL_NEG, a failure DMARC_TTL_FAIL.  Overrides are looked
 * at before the cache, so they take effect at once.
 *
 * The DNS: the system resolver, res_nquery() on a private res_state with
 * ns_initparse()/ns_parserr() (libresolv), blocking; timeouts capped in
 * dmarc_new() so that one lookup takes at most 2 s x 2 attempts per name
 * server.  Tests replace the query and the clock (dmarc_set_resolver(),
 * dmarc_set_clock()).
 *
 * Errors: nothing is fatal; a failed lookup is DMARC_P_UNKNOWN with the
 * reason in why.  Out of memory aborts (xmalloc).
 */
#include "config.h"

#include <sys/types.h>

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "util.h"

#define NAME_MAX_ 253 /* a domain name in text, no trailing dot */

enum kind { K_RECORD, K_NONE, K_BAD, K_FAIL };

struct entry {
	char name[NAME_MAX_ + 1]; /* the domain (not "_dmarc.") */
	enum kind kind;
	enum dmarc_policy p, sp;
	time_t expires;
	unsigned long used; /* LRU stamp */
	char detail[32];    /* K_BAD: why, for the log */
};

struct override {
	char name[NAME_MAX_ + 1];
	enum dmarc_policy p;
};

struct dmarc {
	struct __res_state res;
	int res_ok;
	void (*query)(void *, const char *, struct dmarc_answer *);
	void *query_arg;
	time_t (*now)(void *);
	void *now_arg;
	struct entry *cache;
	size_t n_cache, cap_cache;
	unsigned long tick;
	struct override *ov;
	size_t n_ov, cap_ov;
	struct dmarc_answer answer; /* large: kept here, not on the stack */
	unsigned char pkt[65536];   /* the DNS reply */
};

static void sys_query(void *arg, const char *name, struct dmarc_answer *ans);

struct dmarc *
dmarc_new(void)
{
	struct dmarc *d = xcalloc(1, sizeof(*d));

	if (res_ninit(&d->res) == 0) {
		d->res_ok = 1;
		/* Blocking lookups in the daemon: keep them short. */
		if (d->res.retrans > 2 || d->res.retrans <= 0)
			d->res.retrans = 2;
		if (d->res.retry > 2 || d->res.retry <= 0)
			d->res.retry = 2;
	}
	d->query = sys_query;
	d->query_arg = d;
	return d;
}

void
dmarc_free(struct dmarc *d)
{
	if (d == NULL)
		return;
	if (d->res_ok)
		res_nclose(&d->res);
	free(d->cache);
	free(d->ov);
	free(d);
}

void
dmarc_set_resolver(struct dmarc *d,
                   void (*query)(void *, const char *, struct dmarc_answer *),
                   void *arg)
{
	d->query = query ? query : sys_query;
	d->query_arg = query ? arg : d;
}

void
dmarc_set_clock(struct dmarc *d, time_t (*now)(void *), void *arg)
{
	d->now = now;
	d->now_arg = arg;
}

static time_t
now_of(struct dmarc *d)
{
	return d->now ? d->now(d->now_arg) : time(NULL);
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_NONE:
		return "none";
	case DMARC_P_QUARANTINE:
		return "quarantine";
	case DMARC_P_REJECT:
		return "reject";
	case DMARC_P_UNKNOWN:
		break;
	}
	return "unknown";
}

/* ---- names --------------------------------------------------------------- */

/* Lower-cased, checked copy of a domain without its trailing dot. */
static int
name_norm(const char *in, char *out, size_t outsz)
{
	size_t n, i, label = 0;

	if (in == NULL)
		return -1;
	n = strnlen(in, NAME_MAX_ + 2);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_ || n + 1 > outsz)
		return -1;
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = c;
	}
	if (label == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Second-level labels that registries use under a country code. */
static int
registry_label(const char *s, size_t n)
{
	static const char *const labels[] = {
	    "ac",   "asn", "co",  "com", "edu", "go",  "gob", "gov",
	    "govt", "id",  "ltd", "me",  "mil", "ne",  "net", "nhs",
	    "nic",  "nom", "or",  "org", "plc", "sch",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(labels); i++)
		if (strlen(labels[i]) == n && memcmp(labels[i], s, n) == 0)
			return 1;
	return 0;
}

int
dmarc_org_domain(const char *domain, char *out, size_t outsz)
{
	char norm[NAME_MAX_ + 1];
	const char *dots[3] = {NULL, NULL, NULL}; /* last three dots */
	const char *start;
	size_t n, keep;
	int nd = 0;

	if (name_norm(domain, norm, sizeof(norm)) < 0)
		return -1;
	n = strlen(norm);
	for (start = norm + n; start > norm && nd < 3;) {
		start--;
		if (*start == '.')
			dots[nd++] = start;
	}
	/* dots[0] before the TLD, dots[1] before the second-level label. */
	keep = 2;
	if (nd >= 1 && strlen(dots[0] + 1) == 2) {
		const char *sl = nd >= 2 ? dots[1] + 1 : norm;

		if (registry_label(sl, (size_t)(dots[0] - sl)))
			keep = 3;
	}
	if ((size_t)nd < keep)
		start = norm;
	else
		start = dots[keep - 1] + 1;
	if (strlen(start) + 1 > outsz)
		return -1;
	memcpy(out, start, strlen(start) + 1);
	return 0;
}

/* ---- records ------------------------------------------------------------- */

static int
wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
policy_value(const char *v, size_t n, enum dmarc_policy *p)
{
	if (n == 4 && strncasecmp(v, "none", 4) == 0)
		*p = DMARC_P_NONE;
	else if (n == 10 && strncasecmp(v, "quarantine", 10) == 0)
		*p = DMARC_P_QUARANTINE;
	else if (n == 6 && strncasecmp(v, "reject", 6) == 0)
		*p = DMARC_P_REJECT;
	else
		return -1;
	return 0;
}

/*
 * The next tag-spec of s from *i: its name and value (trimmed), *i past
 * the ';'.  0, 1 for an empty or malformed spec (no name or no '='), -1 at
 * the end.
 */
static int
next_tag(const char *s, size_t n, size_t *i, const char **name, size_t *nl,
         const char **val, size_t *vl)
{
	size_t k = *i, e;

	if (k >= n)
		return -1;
	e = k;
	while (e < n && s[e] != ';')
		e++;
	*i = e < n ? e + 1 : n;
	while (k < e && wsp(s[k]))
		k++;
	*name = s + k;
	while (k < e &&
	       ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
	        (s[k] >= '0' && s[k] <= '9') || s[k] == '_'))
		k++;
	*nl = (size_t)(s + k - *name);
	while (k < e && wsp(s[k]))
		k++;
	if (*nl == 0 || k >= e || s[k] != '=')
		return 1;
	k++;
	while (k < e && wsp(s[k]))
		k++;
	while (e > k && wsp(s[e - 1]))
		e--;
	*val = s + k;
	*vl = e - k;
	return 0;
}

static int
tag_is(const char *name, size_t nl, const char *want)
{
	return strlen(want) == nl && strncasecmp(name, want, nl) == 0;
}

/* 1 if txt begins with the tag v=DMARC1 (RFC 7489 section 6.6.3 step 3). */
static int
is_dmarc1(const char *txt, size_t n)
{
	const char *name, *val;
	size_t i = 0, nl, vl;

	if (n == 0 || (txt[0] != 'v' && txt[0] != 'V'))
		return 0;
	return next_tag(txt, n, &i, &name, &nl, &val, &vl) == 0 &&
	       tag_is(name, nl, "v") && vl == 6 &&
	       memcmp(val, "DMARC1", 6) == 0;
}

int
dmarc_parse_record(const char *txt, enum dmarc_policy *p, enum dmarc_policy *sp)
{
	enum dmarc_policy pv = DMARC_P_NONE, spv = DMARC_P_NONE;
	int have_p = 0, seen_p = 0, have_sp = 0, seen_sp = 0, rua = 0;
	const char *name, *val;
	size_t n, i = 0, nl, vl;
	int r;

	if (txt == NULL)
		return -1;
	n = strnlen(txt, DMARC_TXT_MAX + 1);
	if (n > DMARC_TXT_MAX || !is_dmarc1(txt, n))
		return -1;
	(void)next_tag(txt, n, &i, &name, &nl, &val, &vl); /* v=DMARC1 */
	while ((r = next_tag(txt, n, &i, &name, &nl, &val, &vl)) >= 0) {
		if (r == 1)
			continue; /* malformed or empty: ignored */
		/* The first of a repeated tag counts. */
		if (tag_is(name, nl, "p") && !seen_p) {
			seen_p = 1;
			have_p = policy_value(val, vl, &pv) == 0;
		} else if (tag_is(name, nl, "sp") && !seen_sp) {
			seen_sp = 1;
			have_sp = policy_value(val, vl, &spv) == 0;
		} else if (tag_is(name, nl, "rua")) {
			/* "a syntactically valid reporting URI": a scheme
			 * and something after it will do. */
			const char *c = memchr(val, ':', vl);

			if (c != NULL && c > val && c + 1 < val + vl)
				rua = 1;
		}
	}
	if (!have_p) {
		if (!rua)
			return -1;
		pv = DMARC_P_NONE;
	}
	if (!have_sp)
		spv = pv;
	if (p)
		*p = pv;
	if (sp)
		*sp = spv;
	return 0;
}

/* ---- the DNS ------------------------------------------------------------- */

int
dmarc_parse_reply(const unsigned char *pkt, size_t len,
                  struct dmarc_answer *ans)
{
	ns_msg m;
	int i, count;

	ans->n = 0;
	ans->ttl = DMARC_TTL_MAX;
	ans->status = DMARC_ANS_FAIL;
	if (len > 65535 || ns_initparse(pkt, (int)len, &m) < 0)
		return -1;
	count = ns_msg_count(m, ns_s_an);
	for (i = 0; i < count; i++) {
		ns_rr rr;
		const unsigned char *rd;
		size_t rl, pos = 0, tl = 0;
		char *t;
		int bad = 0;

		if (ns_parserr(&m, ns_s_an, i, &rr) < 0)
			return -1; /* a broken reply is a failure */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue; /* a CNAME on the way, or junk */
		if (ans->n >= DMARC_ANS_RECORDS)
			continue;
		rd = ns_rr_rdata(rr);
		rl = ns_rr_rdlen(rr);
		t = ans->txt[ans->n];
		/* A TXT record is one or more <length><bytes> strings;
		 * RFC 7489 section 6.6.3 joins them without a separator. */
		while (pos < rl && !bad) {
			size_t sl = rd[pos++];

			if (sl > rl - pos || tl + sl > DMARC_TXT_MAX ||
			    memchr(rd + pos, '\0', sl) != NULL)
				bad = 1;
			else
				memcpy(t + tl, rd + pos, sl);
			tl += sl;
			pos += sl;
		}
		if (bad)
			continue; /* too long, cut or with a NUL: ignored */
		t[tl] = '\0';
		if (ns_rr_ttl(rr) < ans->ttl)
			ans->ttl = ns_rr_ttl(rr);
		ans->n++;
	}
	ans->status = DMARC_ANS_OK;
	return 0;
}

static void
sys_query(void *arg, const char *name, struct dmarc_answer *ans)
{
	struct dmarc *d = arg;
	int len;

	ans->n = 0;
	ans->ttl = DMARC_TTL_MAX;
	ans->status = DMARC_ANS_FAIL;
	if (!d->res_ok)
		return;
	len = res_nquery(&d->res, name, ns_c_in, ns_t_txt, d->pkt,
	                 (int)sizeof(d->pkt));
	if (len < 0) {
		if (d->res.res_h_errno == HOST_NOT_FOUND)
			ans->status = DMARC_ANS_NXDOMAIN;
		else if (d->res.res_h_errno == NO_DATA)
			ans->status = DMARC_ANS_OK;
		return;
	}
	/* A reply longer than the buffer was cut: a failure. */
	if ((size_t)len > sizeof(d->pkt))
		return;
	(void)dmarc_parse_reply(d->pkt, (size_t)len, ans);
}

/* ---- the cache ----------------------------------------------------------- */

static struct entry *
cache_find(struct dmarc *d, const char *name, time_t now)
{
	size_t i;

	for (i = 0; i < d->n_cache; i++) {
		struct entry *e = &d->cache[i];

		if (strcmp(e->name, name) == 0) {
			if (e->expires <= now)
				return NULL;
			e->used = ++d->tick;
			return e;
		}
	}
	return NULL;
}

/* A slot for name: its old one, a free one, or the least recently used. */
static struct entry *
cache_slot(struct dmarc *d, const char *name)
{
	struct entry *e = NULL;
	size_t i;

	for (i = 0; i < d->n_cache; i++)
		if (strcmp(d->cache[i].name, name) == 0)
			return &d->cache[i];
	if (d->n_cache < DMARC_CACHE_MAX) {
		d->cache = xgrow(d->cache, &d->cap_cache, d->n_cache + 1,
		                 sizeof(*d->cache));
		return &d->cache[d->n_cache++];
	}
	for (i = 0; i < d->n_cache; i++)
		if (e == NULL || d->cache[i].used < e->used)
			e = &d->cache[i];
	return e;
}

/* Look up _dmarc.NAME (cached): an entry, and *cached. */
static const struct entry *
lookup(struct dmarc *d, const char *name, int *cached)
{
	struct dmarc_answer *a = &d->answer;
	char q[NAME_MAX_ + 8];
	time_t now = now_of(d);
	struct entry *e = cache_find(d, name, now);
	enum dmarc_policy p = DMARC_P_NONE, sp = DMARC_P_NONE;
	unsigned ttl = DMARC_TTL_NEG;
	size_t i, found = 0, which = 0;

	*cached = e != NULL;
	if (e != NULL)
		return e;
	snprintf(q, sizeof(q), "_dmarc.%s", name);
	a->n = 0;
	a->ttl = DMARC_TTL_MAX;
	a->status = DMARC_ANS_FAIL;
	d->query(d->query_arg, q, a);
	e = cache_slot(d, name);
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, strlen(name) + 1);
	e->used = ++d->tick;
	if (a->status == DMARC_ANS_FAIL) {
		e->kind = K_FAIL;
		e->expires = now + DMARC_TTL_FAIL;
		return e;
	}
	if (a->n > DMARC_ANS_RECORDS)
		a->n = DMARC_ANS_RECORDS;
	for (i = 0; i < a->n; i++) {
		a->txt[i][DMARC_TXT_MAX] = '\0';
		if (is_dmarc1(a->txt[i], strlen(a->txt[i]))) {
			found++;
			which = i;
		}
	}
	if (a->status == DMARC_ANS_NXDOMAIN || found == 0) {
		e->kind = K_NONE;
	} else if (found > 1) {
		e->kind = K_BAD;
		snprintf(e->detail, sizeof(e->detail), "%u DMARC records",
		         (unsigned)found);
		ttl = a->ttl;
	} else if (dmarc_parse_record(a->txt[which], &p, &sp) < 0) {
		e->kind = K_BAD;
		snprintf(e->detail, sizeof(e->detail), "record without p=");
		ttl = a->ttl;
	} else {
		e->kind = K_RECORD;
		e->p = p;
		e->sp = sp;
		ttl = a->ttl;
	}
	if (e->kind != K_NONE) {
		if (ttl < DMARC_TTL_MIN)
			ttl = DMARC_TTL_MIN;
		if (ttl > DMARC_TTL_MAX)
			ttl = DMARC_TTL_MAX;
	}
	e->expires = now + (time_t)ttl;
	return e;
}

/* ---- overrides ----------------------------------------------------------- */

static const struct override *
override_find(const struct dmarc *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_ov; i++)
		if (strcmp(d->ov[i].name, name) == 0)
			return &d->ov[i];
	return NULL;
}

int
dmarc_override(struct dmarc *d, const char *domain, enum dmarc_policy p)
{
	char name[NAME_MAX_ + 1];
	size_t i;

	if (name_norm(domain, name, sizeof(name)) < 0)
		return -1;
	for (i = 0; i < d->n_ov; i++)
		if (strcmp(d->ov[i].name, name) == 0)
			break;
	if (p == DMARC_P_UNKNOWN) {
		if (i < d->n_ov)
			d->ov[i] = d->ov[--d->n_ov];
		return 0;
	}
	if (i == d->n_ov) {
		if (d->n_ov >= DMARC_CACHE_MAX)
			return -1;
		d->ov = xgrow(d->ov, &d->cap_ov, d->n_ov + 1, sizeof(*d->ov));
		memcpy(d->ov[i].name, name, strlen(name) + 1);
		d->n_ov++;
	}
	d->ov[i].p = p;
	return 0;
}

/* ---- policy -------------------------------------------------------------- */

enum dmarc_policy
dmarc_policy(struct dmarc *d, const char *domain, char *why, size_t whysz)
{
	char name[NAME_MAX_ + 1], org[NAME_MAX_ + 1];
	char dummy[1];
	const struct override *o;
	const struct entry *e;
	int cached, sub;

	if (why == NULL || whysz == 0) {
		why = dummy;
		whysz = sizeof(dummy);
	}
	why[0] = '\0';
	if (name_norm(domain, name, sizeof(name)) < 0 ||
	    dmarc_org_domain(name, org, sizeof(org)) < 0) {
		snprintf(why, whysz, "%.60s: not a usable domain name",
		         domain ? domain : "(null)");
		return DMARC_P_UNKNOWN;
	}
	sub = strcmp(name, org) != 0;
	if ((o = override_find(d, name)) != NULL) {
		snprintf(why, whysz, "%.60s: p=%s (override)", name,
		         dmarc_policy_name(o->p));
		return o->p;
	}
	if (sub && (o = override_find(d, org)) != NULL) {
		snprintf(why, whysz, "%.60s: p=%s (override for %.40s)", name,
		         dmarc_policy_name(o->p), org);
		return o->p;
	}

	e = lookup(d, name, &cached);
	if (e->kind == K_NONE && sub) {
		e = lookup(d, org, &cached);
		if (e->kind == K_RECORD) {
			snprintf(why, whysz,
			         "%.60s: p=%s (sp= of _dmarc.%.40s%s)", name,
			         dmarc_policy_name(e->sp), org,
			         cached ? ", cached" : "");
			return e->sp;
		}
	}
	switch (e->kind) {
	case K_RECORD:
		snprintf(why, whysz, "%.60s: p=%s (record at _dmarc.%.40s%s)",
		         name, dmarc_policy_name(e->p), name,
		         cached ? ", cached" : "");
		return e->p;
	case K_NONE:
		snprintf(why, whysz, "%.60s: no DMARC record%s", name,
		         cached ? " (cached)" : "");
		break;
	case K_BAD:
		snprintf(why, whysz,
		         "%.60s: unusable record at _dmarc.%.40s: "
		         "%s%s",
		         name, e->name, e->detail, cached ? " (cached)" : "");
		break;
	case K_FAIL:
		snprintf(why, whysz, "%.60s: lookup of _dmarc.%.40s failed%s",
		         name, e->name, cached ? " (cached)" : "");
		break;
	}
	return DMARC_P_UNKNOWN;
}
