/*
 * dsn.c - reads bounces and feedback reports (see dsn.h).
 *
 * Owns: which recipients a bounce names, what happened to each (Action),
 * the status code, and what that means for the member (dsn_classify);
 * the non-standard bounce rules and their matching.  Called by the bounce
 * handler with a parsed struct msg; does no I/O except dsn_rules_load().
 *
 * Standards: RFC 3464 (delivery status notifications: the per-message
 * block, one block per recipient, "type; value" fields, folding), RFC 3463
 * (enhanced status codes), RFC 6533 (message/global-delivery-status is read
 * the same way), RFC 5965 (ARF feedback reports), RFC 6522
 * (multipart/report, text/rfc822-headers).
 *
 * How, and why:
 *  - A delivery-status part is read field by field.  Recipient blocks are
 *    split at blank lines and also where a second Final-Recipient or
 *    Original-Recipient appears in one block: real MTAs forget the blank
 *    line.  The status is the Status field, else the enhanced code in the
 *    Diagnostic-Code text, else its reply code (550 -> 5.0.0).
 *  - Only Action: failed is a failure (peers counted "delayed" DSNs as
 *    bounces, research/features.md section 4.7); a block without Action
 *    takes it from its status class.
 *  - 5.7.x and DMARC/spam/block texts are DSN_POLICY, not DSN_HARD: the
 *    receiver refused the sender, not the member's address (features.md
 *    4.2, 4.8).
 *  - Non-standard bounces are recognised only by a "bounce" (or
 *    "delayed") rule: a pattern that matches the wording of one MTA's
 *    notice.  Status and address rules run only after that, so a human
 *    reply that quotes "user unknown" is not a bounce.
 *  - The returned message's Message-ID and To: are found by scanning, for
 *    header lines, a text/rfc822-headers part or the bytes after the
 *    report part (msg.c descends into message/rfc822 and keeps only its
 *    leaves, so its header block is only in msg.raw).
 *
 * Limits: DSN_MAX_RCPTS recipients, SCAN_MAX bytes of text per part and
 * of raw bytes for the returned headers, MATCH_LIMIT / DEPTH_LIMIT /
 * HEAP_LIMIT for each rule match (a pattern that backtracks
 * catastrophically on hostile text just fails to match), MAX_GLOBAL
 * matches per address rule.
 *
 * XXX The rule set is a static of this file, process-wide, loaded once at
 * start-up (STYLE.md allows global state only in log.c; the rules are
 * read-only after loading, like a constant table, and passing them through
 * every caller of dsn_parse would buy nothing).
 *
 * Errors: dsn_parse() returns -1 only for NULL arguments; hostile input
 * gives 0 or a bounded result.  dsn_rules_load() returns -1 with
 * "FILE:LINE: what".  Out of memory aborts (xmalloc).
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "dsn.h"
#include "msg.h"
#include "util.h"

#define SCAN_MAX     ((size_t)64 << 10) /* bytes read per part */
#define SEG_MAX      1024               /* text after an address (rules) */
#define NEAR_MAX     4096               /* text after a bounce signature */
#define MATCH_LIMIT  100000
#define DEPTH_LIMIT  5000
#define HEAP_LIMIT   20000 /* KiB */
#define MAX_GLOBAL   1000  /* matches of one address rule */
#define RULES_MAX    ((size_t)1 << 20) /* bytes of a rule file */

/* ---- small text helpers ------------------------------------------------ */

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (lc(c) >= 'a' && lc(c) <= 'z');
}

static int
is_sp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Case-insensitive search of the ASCII word w in s[0..n): not preceded or
 * followed by a letter or digit.  1 if found. */
static int
has_word(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w), i, j;

	if (!s || wl == 0)
		return 0;
	for (i = 0; i + wl <= n; i++) {
		for (j = 0; j < wl && lc((unsigned char)s[i + j]) == w[j]; j++)
			;
		if (j == wl && (i == 0 || !is_alnum((unsigned char)s[i - 1])) &&
		    (i + wl == n || !is_alnum((unsigned char)s[i + wl])))
			return 1;
	}
	return 0;
}

/*
 * Copy s[0..n) into dst (size dstsz) as one line: runs of white space and
 * control characters become one space, the ends are trimmed, and a cut
 * falls on a UTF-8 boundary (invalid bytes are dropped).
 */
static void
copy_line(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t o = 0, i = 0;
	int sp = 0;

	while (i < n && o + 1 < dstsz) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			sp = o > 0;
			i++;
			continue;
		}
		if (c < 0x80) {
			if (sp) {
				if (o + 2 >= dstsz)
					break;
				dst[o++] = ' ';
				sp = 0;
			}
			dst[o++] = (char)c;
			i++;
		} else {
			size_t l = utf8_seq_len(s + i, n - i);

			if (l == 0) {
				i++;
				continue;
			}
			if (o + l + (sp ? 1 : 0) >= dstsz)
				break;
			if (sp) {
				dst[o++] = ' ';
				sp = 0;
			}
			memcpy(dst + o, s + i, l);
			o += l;
			i += l;
		}
	}
	if (dstsz > 0)
		dst[o] = '\0';
}

/*
 * The first RFC 3463 enhanced status code in s[0..n) ("5.1.1", also
 * "550-5.1.1", "#5.1.1"): class 2, 4 or 5, subject and detail of 1-3
 * digits, not part of a longer dotted number (an IP address).  Copies it
 * into out[16] and returns 1; 0 if none.
 */
static int
find_enhanced(const char *s, size_t n, char out[16])
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < n; i++) {
		size_t j = i + 1, d1, d2;

		if (s[i] != '2' && s[i] != '4' && s[i] != '5')
			continue;
		if (i > 0 && (is_digit((unsigned char)s[i - 1]) ||
		              s[i - 1] == '.'))
			continue;
		if (j >= n || s[j] != '.')
			continue;
		for (d1 = 0, j++; j < n && is_digit((unsigned char)s[j]); j++)
			d1++;
		if (d1 < 1 || d1 > 3 || j >= n || s[j] != '.')
			continue;
		for (d2 = 0, j++; j < n && is_digit((unsigned char)s[j]); j++)
			d2++;
		if (d2 < 1 || d2 > 3)
			continue;
		if (j < n && (is_digit((unsigned char)s[j]) ||
		              (s[j] == '.' && j + 1 < n &&
		               is_digit((unsigned char)s[j + 1]))))
			continue;
		memcpy(out, s + i, j - i);
		out[j - i] = '\0';
		return 1;
	}
	return 0;
}

/* The first SMTP reply code 4xx/5xx standing alone in s[0..n) ("550 ",
 * "550-", "550" at the end): out = "5.0.0" / "4.0.0".  1 if found. */
static int
find_reply(const char *s, size_t n, char out[16])
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i + 3 <= n; i++) {
		if ((s[i] != '4' && s[i] != '5') ||
		    !is_digit((unsigned char)s[i + 1]) ||
		    !is_digit((unsigned char)s[i + 2]))
			continue;
		if (i > 0 && !is_sp((unsigned char)s[i - 1]) &&
		    s[i - 1] != ':' && s[i - 1] != ';' && s[i - 1] != '\'' &&
		    s[i - 1] != '(' && s[i - 1] != '"')
			continue;
		if (i + 3 < n && !is_sp((unsigned char)s[i + 3]) &&
		    s[i + 3] != '-')
			continue;
		out[0] = s[i];
		memcpy(out + 1, ".0.0", 5);
		return 1;
	}
	return 0;
}

/* Normalise an address that may carry an RFC 3464 address type
 * ("rfc822; <Bob@Example.org>") into out[321]; "" if it is none. */
static void
norm_addr(char *out, const char *s, size_t n)
{
	char tmp[ADDR_MAX + 1];
	const char *semi = memchr(s, ';', n);

	if (semi) {
		n -= (size_t)(semi + 1 - s);
		s = semi + 1;
	}
	copy_line(tmp, sizeof(tmp), s, n);
	if (addr_normalise(tmp, out, ADDR_MAX + 1) < 0)
		out[0] = '\0';
}

/* ---- classification ------------------------------------------------------ */

enum dsn_kind
dsn_classify(const char *status, const char *diagnostic)
{
	static const char *const policy[] = {
	    "policy", "dmarc", "spam", "blocked", "blacklist", "blacklisted",
	    "blocklist", "blocklisted", "spf", "dkim", "spamhaus", "spamcop"};
	static const char *const content[] = {
	    "content", "virus", "malware", "too large", "size limit",
	    "message size", "message rejected", "attachment"};
	static const char *const full[] = {
	    "mailbox full", "mailbox is full", "over quota", "quota exceeded",
	    "exceeded storage", "insufficient storage"};
	const char *d = diagnostic ? diagnostic : "";
	size_t dl = strlen(d), i;
	char cls = status && status[0] ? status[0] : '5';

	if (cls == '2')
		return DSN_NONE;
	if (cls == '4')
		return DSN_SOFT;
	if (status && strncmp(status, "5.7.", 4) == 0)
		return DSN_POLICY;
	for (i = 0; i < ARRAY_SIZE(policy); i++)
		if (has_word(d, dl, policy[i]))
			return DSN_POLICY;
	if (status && (strncmp(status, "5.6.", 4) == 0 ||
	               strcmp(status, "5.3.4") == 0 ||
	               strcmp(status, "5.2.3") == 0))
		return DSN_CONTENT;
	for (i = 0; i < ARRAY_SIZE(content); i++)
		if (has_word(d, dl, content[i]))
			return DSN_CONTENT;
	if (status && strcmp(status, "5.2.2") == 0)
		return DSN_SOFT;
	for (i = 0; i < ARRAY_SIZE(full); i++)
		if (has_word(d, dl, full[i]))
			return DSN_SOFT;
	return DSN_HARD;
}

const char *
dsn_action_name(enum dsn_action a)
{
	switch (a) {
	case DSN_FAILED: return "failed";
	case DSN_DELAYED: return "delayed";
	case DSN_DELIVERED: return "delivered";
	case DSN_RELAYED: return "relayed";
	case DSN_EXPANDED: return "expanded";
	case DSN_UNKNOWN: break;
	}
	return "unknown";
}

const char *
dsn_kind_name(enum dsn_kind k)
{
	switch (k) {
	case DSN_HARD: return "hard";
	case DSN_SOFT: return "soft";
	case DSN_POLICY: return "policy";
	case DSN_CONTENT: return "content";
	case DSN_NONE: break;
	}
	return "none";
}

/* ---- header-style fields in a text ------------------------------------ */

/*
 * One field "Name: value" starting at s[*pos] in s[0..n), with its
 * continuation lines.  Sets name/value spans and advances *pos past it.
 * Returns 1 for a field, 0 for a blank line, 2 for another line, -1 at
 * the end.
 */
static int
next_field(const char *s, size_t n, size_t *pos, const char **name,
           size_t *nlen, const char **val, size_t *vlen)
{
	size_t p = *pos, e, c;

	if (p >= n)
		return -1;
	e = p;
	while (e < n && s[e] != '\n')
		e++;
	{
		size_t i = p;

		while (i < e && (s[i] == '\r' || s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == e || i != p) {
			*pos = e < n ? e + 1 : n;
			return i == e ? 0 : 2; /* blank, or not a field */
		}
	}
	/* the logical end: continuation lines start with white space */
	c = e;
	while (c < n && c + 1 < n && (s[c + 1] == ' ' || s[c + 1] == '\t')) {
		size_t k = c + 1;

		while (k < n && s[k] != '\n' && is_sp((unsigned char)s[k]))
			k++;
		if (k >= n || s[k] == '\n')
			break; /* a line of blanks ends the block */
		c = k;
		while (c < n && s[c] != '\n')
			c++;
	}
	*pos = c < n ? c + 1 : n;
	{
		const char *colon = memchr(s + p, ':', e - p);
		size_t k;

		if (!colon || colon == s + p)
			return 2;
		k = (size_t)(colon - (s + p));
		while (k > 0 && (s[p + k - 1] == ' ' || s[p + k - 1] == '\t'))
			k--;
		*name = s + p;
		*nlen = k;
		*val = colon + 1;
		*vlen = (size_t)(s + c - (colon + 1));
		return 1;
	}
}

static int
name_is(const char *name, size_t nlen, const char *want)
{
	size_t i;

	if (nlen != strlen(want))
		return 0;
	for (i = 0; i < nlen; i++)
		if (lc((unsigned char)name[i]) != lc((unsigned char)want[i]))
			return 0;
	return 1;
}

/* The value of the first header-looking line "name:" in s[0..n) (at a
 * line start, with its continuation lines).  1 if found. */
static int
scan_header(const char *s, size_t n, const char *name, const char **val,
            size_t *vlen)
{
	size_t pos = 0;
	const char *nm;
	size_t nl;
	int r;

	if (!s)
		return 0;
	if (n > SCAN_MAX)
		n = SCAN_MAX;
	while ((r = next_field(s, n, &pos, &nm, &nl, val, vlen)) >= 0)
		if (r == 1 && name_is(nm, nl, name))
			return 1;
	return 0;
}

/* The id inside <> in v (else the first word), without <>, into out. */
static void
take_id(char *out, size_t outsz, const char *v, size_t n)
{
	const char *lt = memchr(v, '<', n), *gt;

	if (lt && (gt = memchr(lt, '>', n - (size_t)(lt - v))) != NULL) {
		v = lt + 1;
		n = (size_t)(gt - v);
	} else {
		while (n > 0 && is_sp((unsigned char)*v)) {
			v++;
			n--;
		}
		for (gt = v; gt < v + n && !is_sp((unsigned char)*gt); gt++)
			;
		n = (size_t)(gt - v);
	}
	copy_line(out, outsz, v, n);
	if (strchr(out, ' ') || !strchr(out, '@'))
		out[0] = '\0';
}

/* The first address of an address-list value: inside <> if there is one,
 * else the first token holding '@'. */
static void
take_addr(char *out, const char *v, size_t n)
{
	const char *lt = memchr(v, '<', n), *gt, *b, *e;

	out[0] = '\0';
	if (lt && (gt = memchr(lt, '>', n - (size_t)(lt - v))) != NULL) {
		norm_addr(out, lt + 1, (size_t)(gt - lt - 1));
		return;
	}
	for (b = v; b < v + n; b = e + 1) {
		for (; b < v + n && (is_sp((unsigned char)*b) || *b == ','); b++)
			;
		for (e = b; e < v + n && !is_sp((unsigned char)*e) &&
		            *e != ',';
		     e++)
			;
		if (memchr(b, '@', (size_t)(e - b))) {
			char tmp[ADDR_MAX + 1];

			copy_line(tmp, sizeof(tmp), b, (size_t)(e - b));
			if (addr_normalise(tmp, out, ADDR_MAX + 1) < 0)
				out[0] = '\0';
			return;
		}
	}
}

/* Fill original_message_id and original_to from a header-bearing text,
 * keeping what is already set. */
static void
returned_headers(struct dsn *d, const char *s, size_t n, int want_to)
{
	const char *v;
	size_t vl;

	if (!s)
		return;
	if (!d->original_message_id[0] && scan_header(s, n, "message-id", &v,
	                                              &vl))
		take_id(d->original_message_id,
		        sizeof(d->original_message_id), v, vl);
	if (want_to && !d->original_to[0] && scan_header(s, n, "to", &v, &vl))
		take_addr(d->original_to, v, vl);
}

/* The returned message: a text/rfc822-headers part, else the raw bytes
 * after the report part p (where a message/rfc822 part's header is). */
static void
find_returned(struct dsn *d, const struct msg *m, const struct msg_part *p,
              int want_to)
{
	size_t i;

	for (i = 0; i < m->n_parts; i++)
		if (strcmp(m->parts[i].type, "text/rfc822-headers") == 0 &&
		    m->parts[i].text)
			returned_headers(d, m->parts[i].text,
			                 m->parts[i].text_len, want_to);
	if (p && p->body) {
		const char *s = p->body + p->body_len;
		const char *end = m->raw + m->raw_len;

		if (s >= m->raw && s < end)
			returned_headers(d, s, (size_t)(end - s), want_to);
	}
	if (!d->original_message_id[0] && m->in_reply_to)
		copy_line(d->original_message_id,
		          sizeof(d->original_message_id), m->in_reply_to,
		          strlen(m->in_reply_to));
}

/* ---- recipients ---------------------------------------------------------- */

static struct dsn_rcpt *
add_rcpt(struct dsn *d, size_t *cap)
{
	struct dsn_rcpt *r;

	if (d->n_rcpts >= DSN_MAX_RCPTS)
		return NULL;
	d->rcpts = xgrow(d->rcpts, cap, d->n_rcpts + 1, sizeof(*d->rcpts));
	r = &d->rcpts[d->n_rcpts++];
	memset(r, 0, sizeof(*r));
	r->action = DSN_UNKNOWN;
	r->kind = DSN_NONE;
	return r;
}

/* Status and kind from what was read: the Status field (already in
 * r->status if it held a code), the diagnostic's enhanced code, its reply
 * code.  A missing action follows the status class. */
static void
settle(struct dsn_rcpt *r)
{
	if (!r->status[0] &&
	    !find_enhanced(r->diagnostic, strlen(r->diagnostic), r->status))
		find_reply(r->diagnostic, strlen(r->diagnostic), r->status);
	if (r->action == DSN_UNKNOWN)
		r->action = r->status[0] == '5'   ? DSN_FAILED
		            : r->status[0] == '4' ? DSN_DELAYED
		            : r->status[0] == '2' ? DSN_DELIVERED
		                                  : DSN_UNKNOWN;
	r->kind = r->action == DSN_FAILED
	              ? dsn_classify(r->status, r->diagnostic)
	              : DSN_NONE;
}

static enum dsn_action
parse_action(const char *v, size_t n)
{
	static const struct {
		const char *w;
		enum dsn_action a;
	} tab[] = {{"failed", DSN_FAILED},       {"failure", DSN_FAILED},
	           {"delayed", DSN_DELAYED},     {"delivered", DSN_DELIVERED},
	           {"relayed", DSN_RELAYED},     {"expanded", DSN_EXPANDED}};
	char w[16];
	size_t i, k = 0;

	while (n > 0 && is_sp((unsigned char)*v)) {
		v++;
		n--;
	}
	while (k < n && k + 1 < sizeof(w) && is_alnum((unsigned char)v[k])) {
		w[k] = (char)lc((unsigned char)v[k]);
		k++;
	}
	w[k] = '\0';
	for (i = 0; i < ARRAY_SIZE(tab); i++)
		if (strcmp(w, tab[i].w) == 0)
			return tab[i].a;
	return DSN_UNKNOWN;
}

/* One recipient block being read. */
struct block {
	int any, has_final, has_orig, has_action, has_status, has_diag;
	struct dsn_rcpt r;
};

static void
flush(struct dsn *d, size_t *cap, struct block *b)
{
	struct dsn_rcpt *r;

	if (b->any && (r = add_rcpt(d, cap)) != NULL) {
		*r = b->r;
		if (!r->addr[0] && r->orig[0])
			memcpy(r->addr, r->orig, sizeof(r->addr));
		settle(r);
	}
	memset(b, 0, sizeof(*b));
	b->r.action = DSN_UNKNOWN;
}

/* Strip an RFC 3464 diagnostic type ("smtp;", "X-Postfix;"). */
static void
strip_type(const char **v, size_t *n)
{
	size_t i = 0;

	while (i < *n && is_sp((unsigned char)(*v)[i]))
		i++;
	while (i < *n && (is_alnum((unsigned char)(*v)[i]) ||
	                  (*v)[i] == '-' || (*v)[i] == '_'))
		i++;
	if (i < *n && (*v)[i] == ';') {
		*v += i + 1;
		*n -= i + 1;
	}
}

static void
parse_delivery_status(struct dsn *d, const char *s, size_t n)
{
	struct block b;
	size_t pos = 0, cap = 0;
	const char *nm, *v;
	size_t nl, vl;
	int r;

	if (n > SCAN_MAX)
		n = SCAN_MAX;
	memset(&b, 0, sizeof(b));
	b.r.action = DSN_UNKNOWN;
	while ((r = next_field(s, n, &pos, &nm, &nl, &v, &vl)) >= 0 &&
	       d->n_rcpts < DSN_MAX_RCPTS) {
		if (r == 0) {
			flush(d, &cap, &b);
			continue;
		}
		if (r != 1)
			continue;
		/* a recipient field starts a new block when the block
		 * has it already, or is complete (blank line forgotten) */
		if (name_is(nm, nl, "final-recipient")) {
			if (b.has_final ||
			    (b.has_orig && (b.has_action || b.has_status)))
				flush(d, &cap, &b);
			norm_addr(b.r.addr, v, vl);
			b.any = b.has_final = 1;
		} else if (name_is(nm, nl, "original-recipient")) {
			if (b.has_orig ||
			    (b.has_final && (b.has_action || b.has_status)))
				flush(d, &cap, &b);
			norm_addr(b.r.orig, v, vl);
			b.any = b.has_orig = 1;
		} else if (name_is(nm, nl, "action")) {
			if (!b.has_action)
				b.r.action = parse_action(v, vl);
			b.any = b.has_action = 1;
		} else if (name_is(nm, nl, "status")) {
			if (!b.has_status)
				find_enhanced(v, vl, b.r.status);
			b.any = b.has_status = 1;
		} else if (name_is(nm, nl, "diagnostic-code")) {
			if (!b.has_diag) {
				strip_type(&v, &vl);
				copy_line(b.r.diagnostic,
				          sizeof(b.r.diagnostic), v, vl);
			}
			b.any = b.has_diag = 1;
		}
	}
	flush(d, &cap, &b);
}

static void
parse_feedback(struct dsn *d, const char *s, size_t n)
{
	size_t pos = 0;
	const char *nm, *v;
	size_t nl, vl;
	int r;

	if (n > SCAN_MAX)
		n = SCAN_MAX;
	while ((r = next_field(s, n, &pos, &nm, &nl, &v, &vl)) >= 0) {
		if (r != 1)
			continue;
		if (name_is(nm, nl, "feedback-type") && !d->feedback_type[0]) {
			copy_line(d->feedback_type, sizeof(d->feedback_type),
			          v, vl);
			str_lower(d->feedback_type);
		} else if (name_is(nm, nl, "original-rcpt-to") &&
		           !d->original_to[0]) {
			take_addr(d->original_to, v, vl);
		}
	}
}

/* ---- the non-standard bounce rules ---------------------------------------- */

enum rule_kind { R_BOUNCE, R_DELAYED, R_END, R_ADDR, R_STATUS };

struct rule {
	enum rule_kind kind;
	char status[16]; /* R_STATUS */
	pcre2_code *re;
};

struct ruleset {
	struct rule *r;
	size_t n, cap;
	pcre2_match_context *mctx;
};

/* XXX process-wide, see the top of this file. */
static struct ruleset rules;

static void
ruleset_free(struct ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		pcre2_code_free(rs->r[i].re);
	free(rs->r);
	pcre2_match_context_free(rs->mctx);
	memset(rs, 0, sizeof(*rs));
}

void
dsn_rules_free(void)
{
	ruleset_free(&rules);
}

/* "5.1.1" and friends, or a word for a class of failure. */
static int
rule_status(const char *w, size_t n, char out[16])
{
	static const struct {
		const char *w, *code;
	} words[] = {{"hard", "5.0.0"},
	             {"soft", "4.0.0"},
	             {"policy", "5.7.0"},
	             {"content", "5.6.0"},
	             {"full", "5.2.2"}};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (n == strlen(words[i].w) && memcmp(w, words[i].w, n) == 0) {
			memcpy(out, words[i].code, strlen(words[i].code) + 1);
			return 0;
		}
	if (n < 5 || n > 9 || !find_enhanced(w, n, out) || strlen(out) != n ||
	    out[0] == '2')
		return -1;
	return 0;
}

static int
load_line(struct ruleset *rs, const char *path, size_t lineno,
          const char *s, size_t n, struct buf *err)
{
	struct rule ru;
	size_t k = 0, p;
	int ec;
	PCRE2_SIZE eo;
	uint32_t caps = 0;

	memset(&ru, 0, sizeof(ru));
	while (k < n && !is_sp((unsigned char)s[k]))
		k++;
	for (p = k; p < n && is_sp((unsigned char)s[p]); p++)
		;
	while (n > p && is_sp((unsigned char)s[n - 1]))
		n--;
	if (p >= n) {
		buf_printf(err, "%s:%zu: no pattern after '%.*s'", path,
		           lineno, (int)(k > 40 ? 40 : k), s);
		return -1;
	}
	if (k == 6 && memcmp(s, "bounce", 6) == 0)
		ru.kind = R_BOUNCE;
	else if (k == 7 && memcmp(s, "delayed", 7) == 0)
		ru.kind = R_DELAYED;
	else if (k == 4 && memcmp(s, "addr", 4) == 0)
		ru.kind = R_ADDR;
	else if (k == 3 && memcmp(s, "end", 3) == 0)
		ru.kind = R_END;
	else if (rule_status(s, k, ru.status) == 0)
		ru.kind = R_STATUS;
	else {
		buf_printf(err,
		           "%s:%zu: unknown rule '%.*s' (want bounce, delayed, "
		           "end, addr, a status like 5.1.1, hard, soft, policy, "
		           "content or full)",
		           path, lineno, (int)(k > 40 ? 40 : k), s);
		return -1;
	}
	ru.re = pcre2_compile((PCRE2_SPTR)(s + p), n - p,
	                      PCRE2_CASELESS | PCRE2_UTF |
	                          PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE,
	                      &ec, &eo, NULL);
	if (!ru.re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		buf_printf(err, "%s:%zu: bad regex at offset %zu: %s", path,
		           lineno, (size_t)eo, (const char *)msg);
		return -1;
	}
	pcre2_pattern_info(ru.re, PCRE2_INFO_CAPTURECOUNT, &caps);
	if (ru.kind == R_ADDR && caps < 1) {
		pcre2_code_free(ru.re);
		buf_printf(err, "%s:%zu: an addr rule needs a capture group",
		           path, lineno);
		return -1;
	}
	(void)pcre2_jit_compile(ru.re, PCRE2_JIT_COMPLETE); /* else interpret */
	rs->r = xgrow(rs->r, &rs->cap, rs->n + 1, sizeof(*rs->r));
	rs->r[rs->n++] = ru;
	return 0;
}

int
dsn_rules_load(const char *path, struct buf *err)
{
	struct ruleset rs;
	struct buf file;
	size_t pos = 0, lineno = 0;

	memset(&rs, 0, sizeof(rs));
	buf_init(&file, RULES_MAX);
	if (!path || read_file(path, &file) < 0) {
		buf_printf(err, "%s:0: cannot read the rule file",
		           path ? path : "(null)");
		buf_free(&file);
		return -1;
	}
	while (pos < file.len) {
		const char *s = file.s + pos, *nl;
		size_t n, i = 0;

		nl = memchr(s, '\n', file.len - pos);
		n = nl ? (size_t)(nl - s) : file.len - pos;
		pos += n + 1;
		lineno++;
		while (i < n && is_sp((unsigned char)s[i]))
			i++;
		if (i == n || s[i] == '#')
			continue;
		if (load_line(&rs, path, lineno, s + i, n - i, err) < 0) {
			ruleset_free(&rs);
			buf_free(&file);
			return -1;
		}
	}
	buf_free(&file);
	rs.mctx = pcre2_match_context_create(NULL);
	if (!rs.mctx)
		abort(); /* out of memory, as xmalloc */
	pcre2_set_match_limit(rs.mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(rs.mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(rs.mctx, HEAP_LIMIT);
	ruleset_free(&rules);
	rules = rs;
	return 0;
}

/* Match rule ru in s[0..n) from off; 1 and md filled if it matched (a
 * limit reached or any error counts as no match). */
static int
rmatch(const struct rule *ru, const char *s, size_t n, size_t off,
       pcre2_match_data *md)
{
	return pcre2_match(ru->re, (PCRE2_SPTR)s, n, off, 0, md,
	                   rules.mctx) > 0;
}

/* The first rule of kind k (or, with k2 >= 0, of kind k2) matching
 * s[0..n); its index, or -1. */
static long
first_rule(int k, int k2, const char *s, size_t n, pcre2_match_data *md)
{
	size_t i;

	for (i = 0; i < rules.n; i++)
		if (((int)rules.r[i].kind == k || (int)rules.r[i].kind == k2) &&
		    rmatch(&rules.r[i], s, n, 0, md))
			return (long)i;
	return -1;
}

/* Found addresses and where their match began and ended. */
struct found {
	char addr[ADDR_MAX + 1];
	size_t beg, end;
};

static int
have(const struct found *f, size_t nf, const char *a)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (strcmp(f[i].addr, a) == 0)
			return 1;
	return 0;
}

/* Every address captured by the first addr rule that captures any, in
 * s[from..n).  The number found. */
static size_t
rule_addrs(const char *s, size_t n, size_t from, pcre2_match_data *md,
           struct found *f)
{
	size_t i, nf = 0;

	for (i = 0; i < rules.n && nf == 0; i++) {
		size_t off = from, rounds = 0;

		if (rules.r[i].kind != R_ADDR)
			continue;
		while (off <= n && nf < DSN_MAX_RCPTS &&
		       rounds++ < MAX_GLOBAL &&
		       rmatch(&rules.r[i], s, n, off, md)) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			char a[ADDR_MAX + 1];

			if (ov[2] != PCRE2_UNSET && ov[3] >= ov[2]) {
				norm_addr(a, s + ov[2], ov[3] - ov[2]);
				if (a[0] && !have(f, nf, a)) {
					memcpy(f[nf].addr, a, sizeof(a));
					f[nf].beg = ov[0];
					f[nf].end = ov[1];
					nf++;
				}
			}
			if (ov[1] > off) {
				off = ov[1];
			} else { /* empty match: step one character */
				off++;
				while (off < n &&
				       ((unsigned char)s[off] & 0xc0) == 0x80)
					off++;
			}
		}
	}
	return nf;
}

/* Without an addr rule: the first address-looking token after from. */
static size_t
near_addr(const char *s, size_t n, size_t from, struct found *f)
{
	size_t end = from + NEAR_MAX < n ? from + NEAR_MAX : n, i;

	for (i = from; i < end; i++) {
		size_t b = i, e = i + 1;
		char a[ADDR_MAX + 1];

		if (s[i] != '@')
			continue;
		while (b > from && !is_sp((unsigned char)s[b - 1]) &&
		       !strchr("<>()[]\"',;:", s[b - 1]))
			b--;
		while (e < end && !is_sp((unsigned char)s[e]) &&
		       !strchr("<>()[]\"',;:", s[e]))
			e++;
		while (e > i + 1 && s[e - 1] == '.')
			e--;
		norm_addr(a, s + b, e - b);
		if (a[0] && strchr(strchr(a, '@'), '.')) {
			memcpy(f[0].addr, a, sizeof(a));
			f[0].beg = b;
			f[0].end = e;
			return 1;
		}
		i = e;
	}
	return 0;
}

/* The paragraph after an address: up to a blank line; if that is empty,
 * the next paragraph. */
static void
paragraph(char *out, size_t outsz, const char *s, size_t from, size_t to)
{
	size_t b = from, e;
	int round;

	for (round = 0; round < 2; round++) {
		e = b;
		while (e < to) {
			const char *nl = memchr(s + e, '\n', to - e);
			size_t le = nl ? (size_t)(nl - s) : to, k = e;

			while (k < le && is_sp((unsigned char)s[k]))
				k++;
			if (k == le && e > b)
				break; /* a blank line after some text */
			e = le < to ? le + 1 : to;
		}
		copy_line(out, outsz, s + b, e - b);
		if (out[0] || e >= to)
			return;
		b = e;
	}
}

static int
parse_by_rules(const struct msg *m, struct dsn *d)
{
	const struct msg_part *tp = NULL;
	pcre2_match_data *md;
	struct found *f;
	const char *s;
	size_t n, nf, i, cap = 0, sig, sig_end, stop;
	long sr;
	int delayed;

	if (rules.n == 0)
		return 0;
	for (i = 0; i < m->n_parts && !tp; i++)
		if (strcmp(m->parts[i].type, "text/plain") == 0 &&
		    m->parts[i].text)
			tp = &m->parts[i];
	for (i = 0; i < m->n_parts && !tp; i++)
		if (strncmp(m->parts[i].type, "text/", 5) == 0 &&
		    m->parts[i].text)
			tp = &m->parts[i];
	if (!tp)
		return 0;
	s = tp->text;
	n = tp->text_len < SCAN_MAX ? tp->text_len : SCAN_MAX;

	md = pcre2_match_data_create(10, NULL);
	if (!md)
		abort(); /* out of memory, as xmalloc */
	sr = first_rule(R_BOUNCE, R_DELAYED, s, n, md);
	if (sr < 0) {
		pcre2_match_data_free(md);
		return 0;
	}
	delayed = rules.r[sr].kind == R_DELAYED;
	sig = pcre2_get_ovector_pointer(md)[0];
	sig_end = pcre2_get_ovector_pointer(md)[1];

	/* the notice ends where the copy of the message begins */
	stop = n;
	for (i = 0; i < rules.n; i++)
		if (rules.r[i].kind == R_END &&
		    rmatch(&rules.r[i], s, stop, sig_end, md))
			stop = pcre2_get_ovector_pointer(md)[0];

	f = xcalloc(DSN_MAX_RCPTS, sizeof(*f));
	nf = rule_addrs(s, stop, sig, md, f);
	if (nf == 0)
		nf = near_addr(s, stop, sig_end, f);
	for (i = 0; i < nf; i++) {
		struct dsn_rcpt *r = add_rcpt(d, &cap);
		size_t segend = i + 1 < nf && f[i + 1].beg > f[i].end
		                    ? f[i + 1].beg
		                    : f[i].end + SEG_MAX;
		size_t near = sig + NEAR_MAX < n ? sig + NEAR_MAX : n;
		long st;

		if (!r)
			break;
		if (segend > stop)
			segend = stop;
		memcpy(r->addr, f[i].addr, sizeof(r->addr));
		paragraph(r->diagnostic, sizeof(r->diagnostic), s, f[i].end,
		          segend);
		/* status: a code in this recipient's text, a rule matching
		 * it, a rule near the notice, a code near it, a reply code
		 * in the recipient's text (bounce.rules explains why) */
		st = -1;
		if (!find_enhanced(s + f[i].beg, segend - f[i].beg,
		                   r->status) &&
		    (st = first_rule(R_STATUS, -1, s + f[i].beg,
		                     segend - f[i].beg, md)) < 0 &&
		    (st = first_rule(R_STATUS, -1, s + sig, near - sig, md)) <
		        0 &&
		    !find_enhanced(s + sig, near - sig, r->status) &&
		    !find_reply(s + f[i].beg, segend - f[i].beg, r->status))
			memcpy(r->status, delayed ? "4.0.0" : "5.0.0", 6);
		if (st >= 0)
			memcpy(r->status, rules.r[st].status,
			       sizeof(r->status));
		r->action = delayed ? DSN_DELAYED : DSN_FAILED;
		r->kind = delayed ? DSN_NONE
		                  : dsn_classify(r->status, r->diagnostic);
	}
	free(f);
	pcre2_match_data_free(md);

	d->is_report = 0;
	/* the returned message: inline in the notice, or attached */
	returned_headers(d, s + sig, n - sig, 1);
	find_returned(d, m, tp, 1);
	return 1;
}

/*
 * A report whose delivery-status part names nobody (Google Workspace
 * sends an empty one): the X-Failed-Recipients header (Exim, Google),
 * each a failure with the first enhanced code of the first text part.
 */
static void
failed_recipients(const struct msg *m, struct dsn *d)
{
	char status[16] = "5.0.0";
	size_t i, cap = 0;

	for (i = 0; i < m->n_parts; i++)
		if (strncmp(m->parts[i].type, "text/", 5) == 0 &&
		    m->parts[i].text) {
			find_enhanced(m->parts[i].text,
			              m->parts[i].text_len < NEAR_MAX
			                  ? m->parts[i].text_len
			                  : NEAR_MAX,
			              status);
			break;
		}
	for (i = 0; i < m->n_headers; i++) {
		const char *v = m->headers[i].value, *e;

		if (strcasecmp(m->headers[i].name, "x-failed-recipients") != 0)
			continue;
		for (; *v; v = *e ? e + 1 : e) {
			struct dsn_rcpt *r;
			char a[ADDR_MAX + 1];

			e = v + strcspn(v, ",");
			norm_addr(a, v, (size_t)(e - v));
			if (!a[0])
				continue;
			if ((r = add_rcpt(d, &cap)) == NULL)
				return;
			memcpy(r->addr, a, sizeof(r->addr));
			memcpy(r->status, status, sizeof(r->status));
			r->action = DSN_FAILED;
			settle(r);
		}
	}
}

/* ---- dsn_parse ------------------------------------------------------------- */

int
dsn_parse(const struct msg *m, struct dsn *out)
{
	const struct msg_part *ds = NULL, *fr = NULL;
	size_t i;

	if (!m || !out)
		return -1;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->n_parts; i++) {
		const struct msg_part *p = &m->parts[i];

		if (!p->text)
			continue;
		if (!ds && (strcmp(p->type, "message/delivery-status") == 0 ||
		            strcmp(p->type,
		                   "message/global-delivery-status") == 0))
			ds = p;
		else if (!fr && strcmp(p->type, "message/feedback-report") == 0)
			fr = p;
	}
	if (fr) {
		out->is_report = out->is_feedback = 1;
		parse_feedback(out, fr->text, fr->text_len);
		find_returned(out, m, fr, 1);
		return 1;
	}
	if (ds) {
		out->is_report = 1;
		parse_delivery_status(out, ds->text, ds->text_len);
		if (out->n_rcpts == 0)
			failed_recipients(m, out);
		find_returned(out, m, ds, 1);
		return 1;
	}
	if (parse_by_rules(m, out) == 1)
		return 1;
	dsn_free(out);
	return 0;
}

void
dsn_free(struct dsn *d)
{
	if (!d)
		return;
	free(d->rcpts);
	memset(d, 0, sizeof(*d));
}
