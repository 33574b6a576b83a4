/*
 * dmarc_test.c - tests for mlmd/dmarc.c: record parsing, the
 * organizational domain rule, overrides (subdomains, removal, taking
 * effect at once over the cache), discovery through a fake DNS (exact
 * name, organizational fallback with sp=, discarded and repeated records,
 * failures), cache lifetimes and eviction with a fake clock, the log
 * line, and one real lookup in .invalid that must end quickly.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmarc.h"
#include "tap.h"
#include "util.h"

/* ---- record parsing ---------------------------------------------------- */

#define N DMARC_P_NONE
#define Q DMARC_P_QUARANTINE
#define R DMARC_P_REJECT

static const struct {
	const char *txt;
	int rc;
	enum dmarc_policy p, sp;
} rcases[] = {
    {"v=DMARC1; p=reject", 0, R, R},
    {"v=DMARC1;p=quarantine;sp=none", 0, Q, N},
    {"v=DMARC1; p=none; sp=reject; pct=50; rua=mailto:a@example.com", 0, N, R},
    {"v=DMARC1; p=REJECT; SP=Quarantine", 0, R, Q},
    {"v = DMARC1 ;  p = reject ; ", 0, R, R},
    {"v=DMARC1;\tp=quarantine\t;\tsp=reject", 0, Q, R},
    {"v=DMARC1; p=reject; foo=bar; x", 0, R, R},     /* unknown, malformed */
    {"v=DMARC1; p=reject;; ;", 0, R, R},             /* empty specs */
    {"v=DMARC1; p=reject; sp=bogus", 0, R, R},       /* invalid sp: sp = p */
    {"v=DMARC1; p=none; p=reject", 0, N, N},         /* first p counts */
    {"v=DMARC1; rua=mailto:d@example.com", 0, N, N}, /* no p, rua */
    {"v=DMARC1; p=bogus; rua=mailto:d@example.com", 0, N, N},
    {"v=DMARC1", -1, N, N}, /* no p, no rua */
    {"v=DMARC1; sp=reject", -1, N, N},
    {"v=DMARC1; p=bogus", -1, N, N},
    {"v=DMARC1; p=", -1, N, N},
    {"v=DMARC1; rua=", -1, N, N},
    {"p=reject; v=DMARC1", -1, N, N}, /* v not first */
    {"v=dmarc1; p=reject", -1, N, N}, /* exact value */
    {"v=DMARC2; p=reject", -1, N, N},
    {"v=DMARC1x; p=reject", -1, N, N},
    {"v=spf1 -all", -1, N, N},
    {" v=DMARC1; p=reject", -1, N, N}, /* must begin with v */
    {"", -1, N, N},
};

static void
test_parse(void)
{
	struct buf big = BUF_INIT;
	enum dmarc_policy p, sp;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rcases); i++) {
		int rc;

		p = sp = DMARC_P_UNKNOWN;
		rc = dmarc_parse_record(rcases[i].txt, &p, &sp);
		if (rcases[i].rc < 0)
			is_int(rc, -1, "record '%s' invalid", rcases[i].txt);
		else
			ok(rc == 0 && p == rcases[i].p && sp == rcases[i].sp,
			   "record '%s': p=%s sp=%s (got %d %s %s)",
			   rcases[i].txt, dmarc_policy_name(rcases[i].p),
			   dmarc_policy_name(rcases[i].sp), rc,
			   dmarc_policy_name(p), dmarc_policy_name(sp));
	}
	ok(dmarc_parse_record("v=DMARC1; p=reject", NULL, NULL) == 0,
	   "NULL outputs");
	is_int(dmarc_parse_record(NULL, &p, &sp), -1, "NULL record");
	buf_adds(&big, "v=DMARC1; p=reject; ");
	while (big.len <= DMARC_TXT_MAX)
		buf_adds(&big, "x=yyyyyyyy; ");
	is_int(dmarc_parse_record(buf_str(&big), &p, &sp), -1,
	       "record over %d bytes refused", DMARC_TXT_MAX);
	buf_free(&big);
	is_str(dmarc_policy_name(DMARC_P_NONE), "none", "name none");
	is_str(dmarc_policy_name(DMARC_P_QUARANTINE), "quarantine",
	       "name quarantine");
	is_str(dmarc_policy_name(DMARC_P_REJECT), "reject", "name reject");
	is_str(dmarc_policy_name(DMARC_P_UNKNOWN), "unknown", "name unknown");
}

/* ---- DNS replies in wire format ------------------------------------------ */

/* A reply to "_dmarc.example.com TXT": header, question, then answers
 * added with rr(). */
static size_t
reply_start(unsigned char *p)
{
	static const unsigned char h[] = {
	    0x12, 0x34, 0x81, 0x80, 0,   1,   0,   0, 0,   0,   0,   0,
	    6,    '_',  'd',  'm',  'a', 'r', 'c', 7, 'e', 'x', 'a', 'm',
	    'p',  'l',  'e',  3,    'c', 'o', 'm', 0, 0,   16,  0,   1};

	memcpy(p, h, sizeof(h));
	return sizeof(h);
}

/* One answer: the question's name (pointer), type, TTL and rdata. */
static size_t
rr(unsigned char *p, size_t at, int type, unsigned ttl, const unsigned char *rd,
   size_t rl)
{
	unsigned char *q = p + at;

	q[0] = 0xc0;
	q[1] = 12;
	q[2] = (unsigned char)(type >> 8);
	q[3] = (unsigned char)type;
	q[4] = 0;
	q[5] = 1;
	q[6] = (unsigned char)(ttl >> 24);
	q[7] = (unsigned char)(ttl >> 16);
	q[8] = (unsigned char)(ttl >> 8);
	q[9] = (unsigned char)ttl;
	q[10] = (unsigned char)(rl >> 8);
	q[11] = (unsigned char)rl;
	memcpy(q + 12, rd, rl);
	p[7]++; /* ANCOUNT */
	return at + 12 + rl;
}

/* TXT rdata of character-strings given as NUL-separated chunks. */
static size_t
txt_rdata(unsigned char *rd, const char *const *chunks, size_t n)
{
	size_t i, l = 0;

	for (i = 0; i < n; i++) {
		size_t cl = strlen(chunks[i]);

		rd[l++] = (unsigned char)cl;
		memcpy(rd + l, chunks[i], cl);
		l += cl;
	}
	return l;
}

static void
test_reply(void)
{
	static const char *const split[] = {"v=DMARC1; p=rej", "ect; ",
	                                    "sp=none"};
	static const char *const spf[] = {"v=spf1 -all"};
	static const unsigned char cname[] = {3, 'f', 'o', 'o', 0};
	unsigned char pkt[8192], rd[2048];
	struct dmarc_answer *a = calloc(1, sizeof(*a));
	char chunk[256];
	const char *chunks[6];
	size_t len, rl, i;
	enum dmarc_policy p, sp;

	/* Strings of one record are joined; TTL is the smallest; CNAME
	 * and other types are skipped. */
	len = reply_start(pkt);
	len = rr(pkt, len, 5, 100, cname, sizeof(cname));
	rl = txt_rdata(rd, split, 3);
	len = rr(pkt, len, 16, 900, rd, rl);
	rl = txt_rdata(rd, spf, 1);
	len = rr(pkt, len, 16, 700, rd, rl);
	ok(dmarc_parse_reply(pkt, len, a) == 0 && a->status == DMARC_ANS_OK,
	   "reply parsed");
	is_int(a->n, 2, "reply: two TXT records");
	is_str(a->txt[0], "v=DMARC1; p=reject; sp=none",
	       "reply: strings joined");
	is_str(a->txt[1], "v=spf1 -all", "reply: second record");
	is_int(a->ttl, 700, "reply: smallest TTL");
	ok(dmarc_parse_record(a->txt[0], &p, &sp) == 0 && p == R && sp == N,
	   "reply: joined record parses");

	/* A record of 1025 bytes is left out, one of 1024 kept. */
	memset(chunk, 'x', 255);
	chunk[255] = '\0';
	for (i = 0; i < 4; i++)
		chunks[i] = chunk;
	chunks[4] = "v=DM"; /* 1020 + 4 = 1024 */
	len = reply_start(pkt);
	rl = txt_rdata(rd, chunks, 5);
	len = rr(pkt, len, 16, 600, rd, rl);
	chunks[4] = "v=DMA"; /* 1025 */
	rl = txt_rdata(rd, chunks, 5);
	len = rr(pkt, len, 16, 600, rd, rl);
	ok(dmarc_parse_reply(pkt, len, a) == 0 && a->n == 1 &&
	       strlen(a->txt[0]) == DMARC_TXT_MAX,
	   "reply: 1024-byte record kept, 1025 left out");

	/* A NUL inside, or a string running past its rdata: left out. */
	len = reply_start(pkt);
	memcpy(rd, "\x05v=D\0M", 6);
	len = rr(pkt, len, 16, 600, rd, 6);
	memcpy(rd, "\x09v=DMARC1", 9);
	len = rr(pkt, len, 16, 600, rd, 6);
	ok(dmarc_parse_reply(pkt, len, a) == 0 && a->n == 0,
	   "reply: NUL and cut strings left out");
	/* An empty TXT record is an empty string. */
	len = reply_start(pkt);
	len = rr(pkt, len, 16, 600, (const unsigned char *)"\0", 1);
	ok(dmarc_parse_reply(pkt, len, a) == 0 && a->n == 1 &&
	       a->txt[0][0] == '\0',
	   "reply: empty TXT");

	/* More records than kept. */
	len = reply_start(pkt);
	rl = txt_rdata(rd, spf, 1);
	for (i = 0; i < DMARC_ANS_RECORDS + 3; i++)
		len = rr(pkt, len, 16, 600, rd, rl);
	ok(dmarc_parse_reply(pkt, len, a) == 0 && a->n == DMARC_ANS_RECORDS,
	   "reply: at most %d records", DMARC_ANS_RECORDS);

	/* Malformed replies fail. */
	len = reply_start(pkt);
	rl = txt_rdata(rd, split, 3);
	len = rr(pkt, len, 16, 600, rd, rl);
	ok(dmarc_parse_reply(pkt, len - 3, a) == -1 &&
	       a->status == DMARC_ANS_FAIL,
	   "reply: cut reply fails");
	ok(dmarc_parse_reply(pkt, 5, a) == -1, "reply: short header fails");
	pkt[7] = 9; /* more answers than there are */
	ok(dmarc_parse_reply(pkt, len, a) == -1, "reply: bad count fails");
	free(a);
}

/* ---- organizational domain ----------------------------------------------- */

static const struct {
	const char *in, *want; /* want NULL: refused */
} ocases[] = {
    {"example.com", "example.com"},
    {"mail.example.com", "example.com"},
    {"a.b.c.example.com", "example.com"},
    {"Mail.Example.COM.", "example.com"},
    {"com", "com"},
    {"example.co.uk", "example.co.uk"},
    {"lists.example.co.uk", "example.co.uk"},
    {"x.y.uni.ac.uk", "uni.ac.uk"},
    {"shop.example.com.au", "example.com.au"},
    {"www.example.co.jp", "example.co.jp"},
    {"co.uk", "co.uk"},
    {"example.dk", "example.dk"},
    {"mail.example.dk", "example.dk"},
    {"mail.example.org.uk", "example.org.uk"},
    {"mail.co.example.com", "example.com"}, /* "co" under a gTLD */
    {"mail.example.io", "example.io"},
    {"_dmarc.example.com", "example.com"},
    {"", NULL},
    {".", NULL},
    {"a..b", NULL},
    {".example.com", NULL},
    {"exa mple.com", NULL},
    {"ex\xc3\xa6mple.dk", NULL},
    {"example.com/x", NULL},
};

static void
test_org(void)
{
	char out[256], label[70];
	struct buf longname = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ocases); i++) {
		int rc = dmarc_org_domain(ocases[i].in, out, sizeof(out));

		if (ocases[i].want == NULL)
			is_int(rc, -1, "org of '%s' refused", ocases[i].in);
		else if (ok(rc == 0, "org of '%s'", ocases[i].in))
			is_str(out, ocases[i].want, "org of '%s' is %s",
			       ocases[i].in, ocases[i].want);
	}
	memset(label, 'a', 64);
	label[64] = '\0';
	buf_printf(&longname, "%s.example.com", label);
	is_int(dmarc_org_domain(buf_str(&longname), out, sizeof(out)), -1,
	       "64-character label refused");
	buf_reset(&longname);
	label[63] = '\0';
	while (longname.len < 260)
		buf_printf(&longname, "%s.", label);
	buf_adds(&longname, "com");
	is_int(dmarc_org_domain(buf_str(&longname), out, sizeof(out)), -1,
	       "name over 253 refused");
	is_int(dmarc_org_domain("mail.example.com", out, 5), -1,
	       "small output refused");
	buf_free(&longname);
}

/* ---- a fake DNS and clock ------------------------------------------------ */

struct zone {
	const char *name; /* "_dmarc.example.com" */
	int status;       /* DMARC_ANS_* */
	unsigned ttl;
	const char *txt[3];
};

static const struct zone zone[] = {
    {"_dmarc.example.com",
     DMARC_ANS_OK,
     3600,
     {"v=DMARC1; p=reject; sp=quarantine"}},
    {"_dmarc.own.example.com", DMARC_ANS_OK, 600, {"v=DMARC1; p=none"}},
    {"_dmarc.short.example", DMARC_ANS_OK, 10, {"v=DMARC1; p=quarantine"}},
    {"_dmarc.long.example", DMARC_ANS_OK, 999999, {"v=DMARC1; p=reject"}},
    {"_dmarc.mixed.example",
     DMARC_ANS_OK,
     600,
     {"google-site-verification=abc", "v=spf1 -all", "v=DMARC1; p=quarantine"}},
    {"_dmarc.two.example",
     DMARC_ANS_OK,
     600,
     {"v=DMARC1; p=reject", "v=DMARC1; p=none"}},
    {"_dmarc.nop.example", DMARC_ANS_OK, 600, {"v=DMARC1; adkim=s"}},
    {"_dmarc.sub.nop.example", DMARC_ANS_NXDOMAIN, 0, {NULL}},
    {"_dmarc.nodata.example", DMARC_ANS_OK, 600, {"some other text"}},
    {"_dmarc.broken.example", DMARC_ANS_FAIL, 0, {NULL}},
    {"_dmarc.a.broken.example", DMARC_ANS_NXDOMAIN, 0, {NULL}},
    {"_dmarc.example.co.uk",
     DMARC_ANS_OK,
     600,
     {"v=DMARC1; p=quarantine; sp=none"}},
};

struct fake {
	time_t now;
	int queries;
	char last[300];
};

static void
fake_query(void *arg, const char *name, struct dmarc_answer *ans)
{
	struct fake *f = arg;
	size_t i, k;

	f->queries++;
	snprintf(f->last, sizeof(f->last), "%s", name);
	ans->n = 0;
	ans->ttl = 0;
	ans->status = DMARC_ANS_NXDOMAIN;
	for (i = 0; i < ARRAY_SIZE(zone); i++) {
		if (strcmp(zone[i].name, name) != 0)
			continue;
		ans->status = zone[i].status;
		ans->ttl = zone[i].ttl;
		for (k = 0; k < 3 && zone[i].txt[k]; k++)
			snprintf(ans->txt[ans->n++], sizeof(ans->txt[0]), "%s",
			         zone[i].txt[k]);
		return;
	}
	/* Generated names for the eviction test: gNNNN.example.net. */
	if (strncmp(name, "_dmarc.g", 8) == 0) {
		ans->status = DMARC_ANS_OK;
		ans->ttl = 3600;
		ans->n = 1;
		snprintf(ans->txt[0], sizeof(ans->txt[0]), "v=DMARC1; p=none");
	}
}

static time_t
fake_now(void *arg)
{
	return ((struct fake *)arg)->now;
}

static struct dmarc *
fake_dmarc(struct fake *f)
{
	struct dmarc *d = dmarc_new();

	memset(f, 0, sizeof(*f));
	f->now = 1000000;
	dmarc_set_resolver(d, fake_query, f);
	dmarc_set_clock(d, fake_now, f);
	return d;
}

static const struct {
	const char *domain;
	enum dmarc_policy want;
	const char *why;
} dcases[] = {
    {"example.com", R, "example.com: p=reject (record at _dmarc.example.com)"},
    {"lists.example.com", Q,
     "lists.example.com: p=quarantine (sp= of _dmarc.example.com)"},
    {"own.example.com", N,
     "own.example.com: p=none (record at _dmarc.own.example.com)"},
    {"mixed.example", Q,
     "mixed.example: p=quarantine (record at _dmarc.mixed.example)"},
    {"two.example", DMARC_P_UNKNOWN,
     "two.example: unusable record at _dmarc.two.example: 2 DMARC records"},
    {"nop.example", DMARC_P_UNKNOWN,
     "nop.example: unusable record at _dmarc.nop.example: record without "
     "p="},
    {"sub.nop.example", DMARC_P_UNKNOWN,
     "sub.nop.example: unusable record at _dmarc.nop.example: record "
     "without p="},
    {"nodata.example", DMARC_P_UNKNOWN, "nodata.example: no DMARC record"},
    {"nothing.example.org", DMARC_P_UNKNOWN,
     "nothing.example.org: no DMARC record"},
    {"broken.example", DMARC_P_UNKNOWN,
     "broken.example: lookup of _dmarc.broken.example failed"},
    {"a.broken.example", DMARC_P_UNKNOWN,
     "a.broken.example: lookup of _dmarc.broken.example failed"},
    {"www.shop.example.co.uk", DMARC_P_NONE,
     "www.shop.example.co.uk: p=none (sp= of _dmarc.example.co.uk)"},
    {"EXAMPLE.COM.", R, "example.com: p=reject (record at _dmarc.example.com)"},
    {"bad..example", DMARC_P_UNKNOWN, "bad..example: not a usable domain name"},
    {"", DMARC_P_UNKNOWN, ": not a usable domain name"},
};

static void
test_discovery(void)
{
	struct fake f;
	struct dmarc *d;
	char why[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dcases); i++) {
		enum dmarc_policy p;

		d = fake_dmarc(&f);
		p = dmarc_policy(d, dcases[i].domain, why, sizeof(why));
		ok(p == dcases[i].want, "%s: %s (got %s)", dcases[i].domain,
		   dmarc_policy_name(dcases[i].want), dmarc_policy_name(p));
		is_str(why, dcases[i].why, "%s: why", dcases[i].domain);
		dmarc_free(d);
	}
	/* The name is checked before it reaches the resolver. */
	d = fake_dmarc(&f);
	dmarc_policy(d, "exa mple.com", why, sizeof(why));
	dmarc_policy(d, "x.example.com\n_dmarc.evil", why, sizeof(why));
	is_int(f.queries, 0, "malformed names not queried");
	/* why may be NULL or tiny. */
	ok(dmarc_policy(d, "example.com", NULL, 0) == R, "why NULL");
	why[0] = 'x';
	dmarc_policy(d, "example.com", why, 1);
	ok(why[0] == '\0', "why of 1 byte is empty");
	dmarc_policy(d, "example.com", why, 20);
	is_str(why, "example.com: p=reje", "why truncated to its size");
	dmarc_free(d);
}

static void
test_cache(void)
{
	struct fake f;
	struct dmarc *d = fake_dmarc(&f);
	char why[128];
	int q;

	/* A record: cached, said so, and not asked again. */
	dmarc_policy(d, "example.com", why, sizeof(why));
	is_int(f.queries, 1, "first lookup queries");
	ok(dmarc_policy(d, "example.com", why, sizeof(why)) == R &&
	       f.queries == 1,
	   "second lookup from the cache");
	is_str(why,
	       "example.com: p=reject (record at _dmarc.example.com, "
	       "cached)",
	       "why says cached");
	/* A subdomain: one query for its own name, the org record cached. */
	dmarc_policy(d, "lists.example.com", why, sizeof(why));
	is_int(f.queries, 2, "subdomain: its own name queried once");
	is_str(why,
	       "lists.example.com: p=quarantine (sp= of "
	       "_dmarc.example.com, cached)",
	       "subdomain: org record from the cache");
	dmarc_policy(d, "lists.example.com", why, sizeof(why));
	is_int(f.queries, 2, "subdomain: negative answer cached");

	/* TTL 3600 for example.com; the negative answer 300. */
	f.now += DMARC_TTL_NEG + 1;
	dmarc_policy(d, "lists.example.com", why, sizeof(why));
	is_int(f.queries, 3, "negative answer expires after 5 min");
	dmarc_policy(d, "example.com", why, sizeof(why));
	is_int(f.queries, 3, "record still cached after 5 min");
	f.now += 3600;
	dmarc_policy(d, "example.com", why, sizeof(why));
	is_int(f.queries, 4, "record expires after its TTL");

	/* A short TTL is raised to 5 min, a long one cut to 1 h. */
	q = f.queries;
	dmarc_policy(d, "short.example", why, sizeof(why));
	f.now += 200;
	dmarc_policy(d, "short.example", why, sizeof(why));
	is_int(f.queries, q + 1, "TTL 10 cached for at least 5 min");
	f.now += 101;
	dmarc_policy(d, "short.example", why, sizeof(why));
	is_int(f.queries, q + 2, "TTL 10: asked again after 5 min");
	q = f.queries;
	dmarc_policy(d, "long.example", why, sizeof(why));
	f.now += DMARC_TTL_MAX - 1;
	dmarc_policy(d, "long.example", why, sizeof(why));
	is_int(f.queries, q + 1, "long TTL cached just under 1 h");
	f.now += 2;
	dmarc_policy(d, "long.example", why, sizeof(why));
	is_int(f.queries, q + 2, "long TTL cut to 1 h");

	/* A failure is retried after a minute, not before. */
	q = f.queries;
	dmarc_policy(d, "broken.example", why, sizeof(why));
	dmarc_policy(d, "broken.example", why, sizeof(why));
	is_int(f.queries, q + 1, "failure cached briefly");
	is_str(why,
	       "broken.example: lookup of _dmarc.broken.example failed "
	       "(cached)",
	       "failure: why says cached");
	f.now += DMARC_TTL_FAIL + 1;
	dmarc_policy(d, "broken.example", why, sizeof(why));
	is_int(f.queries, q + 2, "failure retried after 1 min");
	dmarc_free(d);
}

static void
test_overrides(void)
{
	struct fake f;
	struct dmarc *d = fake_dmarc(&f);
	char why[128];

	ok(dmarc_override(d, "Corp.Example.", DMARC_P_REJECT) == 0,
	   "override set");
	ok(dmarc_policy(d, "corp.example", why, sizeof(why)) == R,
	   "override applies");
	is_str(why, "corp.example: p=reject (override)", "override: why");
	ok(dmarc_policy(d, "mail.CORP.example", why, sizeof(why)) == R,
	   "override applies to a subdomain");
	is_str(why, "mail.corp.example: p=reject (override for corp.example)",
	       "override for subdomain: why");
	is_int(f.queries, 0, "overrides need no DNS");
	/* An override for a subdomain does not reach its parent. */
	dmarc_override(d, "sub.other.example", DMARC_P_QUARANTINE);
	ok(dmarc_policy(d, "sub.other.example", why, sizeof(why)) == Q,
	   "subdomain override");
	ok(dmarc_policy(d, "other.example", why, sizeof(why)) ==
	       DMARC_P_UNKNOWN,
	   "subdomain override: parent not affected");

	/* Overrides take effect at once, over a cached record. */
	ok(dmarc_policy(d, "example.com", why, sizeof(why)) == R,
	   "record before override");
	dmarc_override(d, "example.com", DMARC_P_NONE);
	ok(dmarc_policy(d, "example.com", why, sizeof(why)) == N,
	   "override replaces a cached record at once");
	ok(dmarc_policy(d, "lists.example.com", why, sizeof(why)) == N,
	   "and its subdomains");
	dmarc_override(d, "example.com", DMARC_P_QUARANTINE);
	ok(dmarc_policy(d, "example.com", why, sizeof(why)) == Q,
	   "override changed at once");
	dmarc_override(d, "example.com", DMARC_P_UNKNOWN);
	ok(dmarc_policy(d, "example.com", why, sizeof(why)) == R,
	   "override removed: the record again");
	/* Names are checked. */
	is_int(dmarc_override(d, "a b", DMARC_P_REJECT), -1,
	       "override of a bad name refused");
	is_int(dmarc_override(d, NULL, DMARC_P_REJECT), -1,
	       "override of NULL refused");
	dmarc_free(d);
}

/* More names than the cache holds: the least recently used go. */
static void
test_eviction(void)
{
	struct fake f;
	struct dmarc *d = fake_dmarc(&f);
	char name[64];
	int i, q;

	dmarc_policy(d, "example.com", NULL, 0);
	for (i = 0; i < DMARC_CACHE_MAX + 10; i++) {
		snprintf(name, sizeof(name), "g%d.example.net", i);
		dmarc_policy(d, name, NULL, 0);
		/* Keep example.com in use. */
		if (i % 100 == 0)
			dmarc_policy(d, "example.com", NULL, 0);
	}
	q = f.queries;
	dmarc_policy(d, "example.com", NULL, 0);
	is_int(f.queries, q, "recently used name kept");
	dmarc_policy(d, "g0.example.net", NULL, 0);
	is_int(f.queries, q + 1, "least recently used name evicted");
	q = f.queries;
	snprintf(name, sizeof(name), "g%d.example.net", DMARC_CACHE_MAX + 9);
	dmarc_policy(d, name, NULL, 0);
	is_int(f.queries, q, "newest name kept");
	dmarc_free(d);
}

/* The system resolver, on a name that cannot exist; no network here. */
static void
test_real(void)
{
	struct dmarc *d;
	struct timespec a, b;
	char why[128];
	enum dmarc_policy p;
	double secs;

	setenv("RES_OPTIONS", "attempts:1 timeout:1", 1);
	d = dmarc_new();
	clock_gettime(CLOCK_MONOTONIC, &a);
	p = dmarc_policy(d, "example.invalid", why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	diag("real lookup: %.2f s: %s", secs, why);
	is_int(p, DMARC_P_UNKNOWN, "example.invalid: unknown");
	ok(strncmp(why, "example.invalid: ", 17) == 0, "real lookup: why");
	if (secs > 3.0)
		skip(1, "resolver took more than 3 s");
	else
		ok(1, "real lookup ended in %.2f s", secs);
	dmarc_free(d);
}

int
main(void)
{
	test_parse();
	test_reply();
	test_org();
	test_discovery();
	test_cache();
	test_overrides();
	test_eviction();
	test_real();
	return done_testing();
}
