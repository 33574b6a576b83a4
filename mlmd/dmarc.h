/*
 * dmarc.h - the DMARC policy (RFC 7489) that applies to mail From: an
 * address at a domain, so that the list can decide whether to munge the
 * From field or wrap the post (decorate.h, `dmarc =` in mlmd.conf(5)).
 *
 * A struct dmarc is a resolver with a cache: the TXT record at
 * _dmarc.DOMAIN, else at _dmarc.ORGDOMAIN with its sp= tag.  Lookups are
 * blocking (one per new domain per TTL; bounded by the resolver timeouts
 * set in dmarc_new()).  XXX an asynchronous resolver is future work.
 *
 * Not thread-safe: one struct dmarc per thread.
 */
#ifndef MLMD_DMARC_H
#define MLMD_DMARC_H

#include <stddef.h>
#include <time.h>

enum dmarc_policy {
	DMARC_P_NONE,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT,
	DMARC_P_UNKNOWN /* no record, an unusable record, or lookup failed */
};

#define DMARC_TXT_MAX   1024 /* longer TXT records are ignored */
#define DMARC_CACHE_MAX 1024 /* cached names; the least recently used go */
#define DMARC_TTL_MIN   300  /* a record is cached at least 5 min */
#define DMARC_TTL_MAX   3600 /* and at most 1 h */
#define DMARC_TTL_NEG   300  /* "no record" is cached 5 min */
#define DMARC_TTL_FAIL  60   /* a failed lookup is retried after 1 min */

struct dmarc;

/* A new resolver (aborts on out-of-memory like xmalloc).  The system
 * resolver's configuration is read here (res_ninit: /etc/resolv.conf and
 * RES_OPTIONS); its timeout is cut to 2 s and attempts to 2. */
struct dmarc *dmarc_new(void);
void dmarc_free(struct dmarc *d);

/*
 * Set the policy of domain by hand (tests, operators, machines without
 * DNS).  An override counts as a record at _dmarc.DOMAIN with p = sp = p,
 * so it also applies to subdomains through the organizational-domain
 * fallback.  Overrides are consulted before the cache and the DNS and
 * take effect at once, also for names cached before.  p = DMARC_P_UNKNOWN
 * removes the override.  Returns 0, or -1 if domain is not a usable
 * domain name or DMARC_CACHE_MAX overrides exist already.
 */
int dmarc_override(struct dmarc *d, const char *domain, enum dmarc_policy p);

/*
 * The policy that applies to mail From: an address at domain (case and a
 * trailing dot do not matter; ASCII names only: an IDN must be given as
 * A-labels).  why (whysz bytes, 128 is enough; may be NULL) gets one line
 * for the log, e.g.
 *   "example.com: p=reject (record at _dmarc.example.com)"
 *   "lists.example.com: p=quarantine (sp= of _dmarc.example.com, cached)"
 *   "example.org: no DMARC record"
 * DMARC_P_UNKNOWN when there is no record, an unusable one (RFC 7489
 * section 6.6.3: several, or no valid p= and no rua=), the name is
 * malformed, or the lookup failed (why says which).
 */
enum dmarc_policy dmarc_policy(struct dmarc *d, const char *domain, char *why,
                               size_t whysz);

/* "none", "quarantine", "reject", "unknown". */
const char *dmarc_policy_name(enum dmarc_policy p);

/*
 * Parse the text of one TXT record.  Returns 0 with *p and *sp (sp = p
 * when absent or invalid), or -1 if it is not a usable DMARC1 record: v=
 * is not the first tag or not exactly "DMARC1", or there is no valid p=
 * and no rua= (a record with rua= but no valid p= is p=none, RFC 7489
 * section 6.6.3).  Tag names and policy values are case-insensitive,
 * white space around tags and '=' is allowed, unknown and malformed tags
 * are ignored.  p or sp may be NULL.
 */
int dmarc_parse_record(const char *txt, enum dmarc_policy *p,
                       enum dmarc_policy *sp);

/*
 * The organizational domain of domain (lower case, no trailing dot) into
 * out: the last two labels, or three when the last label is a two-letter
 * country code and the second-to-last a common registry label (co, com,
 * ac, org, net, gov, ...: co.uk, com.au, ac.jp).  XXX an approximation of
 * the Public Suffix List that RFC 7489 section 3.2 asks for; it errs
 * towards a longer organizational domain, which only means a missed sp=.
 * 0, or -1 if domain is malformed or does not fit.
 */
int dmarc_org_domain(const char *domain, char *out, size_t outsz);

/* ---- for tests: replace the DNS and the clock ---------------------------- */

#define DMARC_ANS_RECORDS 8 /* TXT records per answer read */

struct dmarc_answer {
	enum { DMARC_ANS_OK, DMARC_ANS_NXDOMAIN, DMARC_ANS_FAIL } status;
	unsigned ttl; /* the smallest TTL of the TXT records */
	size_t n;     /* TXT records (0: the name exists but has none) */
	char txt[DMARC_ANS_RECORDS][DMARC_TXT_MAX + 1];
};

/* Read the TXT records of a DNS reply (wire format) into ans: records
 * over DMARC_TXT_MAX bytes, cut or holding a NUL are left out, other
 * types skipped, at most DMARC_ANS_RECORDS kept; ttl is the smallest.
 * 0, or -1 with ans->status DMARC_ANS_FAIL for a malformed reply. */
int dmarc_parse_reply(const unsigned char *pkt, size_t len,
                      struct dmarc_answer *ans);

/* query(arg, "_dmarc.example.com", ans) fills ans; NULL restores the
 * system resolver.  now(arg) replaces time(NULL); NULL restores it. */
void dmarc_set_resolver(struct dmarc *d,
                        void (*query)(void *, const char *,
                                      struct dmarc_answer *),
                        void *arg);
void dmarc_set_clock(struct dmarc *d, time_t (*now)(void *), void *arg);

#endif
