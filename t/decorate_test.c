/*
 * decorate_test.c - tests for mlmd/decorate.c (list headers, subject
 * prefix, Reply-To, removed fields, footer placement).
 *
 * A table of fixtures from t/data/decorate/ (hand-made, and a few copied
 * from the shared corpus; see t/data/README) with what the decorated copy
 * must show: the decoded subject, where the footer went (appended to the
 * text, or its own part), the number of MIME leaves, the top Content-Type
 * and the Reply-To.  Each output is parsed again with msg_parse() so that
 * the checks read what a mail reader would read.  Every output is also
 * checked for the invariants: one List-Id, our list fields present, the
 * fields that must not leak absent, lines under 998 octets, the input's
 * line ends, kept fields byte for byte, the same bytes on a second run,
 * and no second prefix when decorated twice.  Signed and S/MIME fixtures
 * must keep the signed bytes unchanged.  Where t/data/decorate/NAME.out
 * exists, the output must equal it byte for byte.
 *
 * Then tables for the subject rule alone, the header options (Reply-To
 * policies, announce lists, unsubscribe URLs, List-Id descriptions), long
 * encoded subjects, footer placement on small generated posts (file
 * names, charsets iconv cannot or must not use, encrypted mail), and input
 * that must be refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "decorate.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

#define F_ASCII "-- \nDenmark list: https://lists.example.org/denmark\n"
#define F_UTF8                                                                 \
	"-- \nIv\xc3\xa6rks\xc3\xa6ttere i Danmark \xc2\xb7 afmeld: "          \
	"https://lists.example.org/u\n"
#define F_EURO   "-- \nKontingent: 5 \xe2\x82\xac\n"
#define ARCHIVED "https://lists.example.org/archive/denmark/2026/11/x.html"

enum place { P_NONE, P_APPEND, P_PART, P_ERROR };

struct fcase {
	const char *file;
	const char *footer;
	enum place place;
	size_t nparts;        /* MIME leaves after decoration */
	const char *subject;  /* decoded, as a reader sees it */
	const char *ctype;    /* top Content-Type (decoded value) starts so */
	const char *reply_to; /* address of Reply-To, "" for none */
	const char *text0;    /* first part's decoded text starts so, or NULL */
	const char *err;      /* P_ERROR: a piece of the reason */
};

static const struct fcase fcases[] = {
    {"h-plain-lf.eml", F_UTF8, P_APPEND, 1,
     "Re: [DK] M\xc3\xb8"
     "de i morgen",
     "text/plain; charset=utf-8", "denmark@lists.example.org",
     "Hej alle,\n\nvi ses i morgen.\nAlice\n"
     "-- \n",
     NULL},
    {"h-crlf-qp.eml", F_UTF8, P_APPEND, 1, "Re: [DK] Fika p\xc3\xa5 fredag",
     "text/plain; charset=\"utf-8\"", "bjorn@home.example.se",
     "Vi ses p\xc3\xa5 fredag kl. 10, och vi tar med kaffe till alla som "
     "kommer och s\xc3\xa5 vidare\n-- \n",
     NULL},
    {"h-b64-latin1.eml", F_UTF8, P_APPEND, 1, "Re: [DK] Tapaaminen",
     "text/plain; charset=iso-8859-1", "denmark@lists.example.org",
     "Hyv\xc3\xa4\xc3\xa4 p\xc3\xa4iv\xc3\xa4\xc3\xa4,\nn\xc3\xa4hd\xc3\xa4"
     "\xc3\xa4n ensi viikolla.\n-- \n",
     NULL},
    {"h-ascii-7bit.eml", F_UTF8, P_APPEND, 1, "Re: [DK] Meeting notes",
     "text/plain; charset=utf-8", "denmark@lists.example.org",
     "The notes are attached to this soft \n\n-- \n", NULL},
    {"h-mislabelled.eml", F_UTF8, P_PART, 2, "Fwd: [DK] Gammel besked",
     "multipart/mixed", "denmark@lists.example.org",
     "Denne tekst har r\xc3\xa5 8-bit bytes uden MIME.\n", NULL},
    {"h-mixed.eml", F_UTF8, P_PART, 3, "[DK] Slides", "multipart/mixed",
     "denmark@lists.example.org", "Here are the slides.\n", NULL},
    {"h-mixed-noclose.eml", F_ASCII, P_PART, 2, "[DK] Truncated",
     "multipart/mixed", "denmark@lists.example.org", "Cut short here\n", NULL},
    {"h-alternative.eml", F_UTF8, P_PART, 3,
     "[DK] Inbjudan till m\xc3\xa5nadens mentorsdag", "multipart/mixed",
     "denmark@lists.example.org", "V\xc3\xa4lkommen!", NULL},
    {"h-html.eml", F_ASCII, P_PART, 2, "[DK] HTML only", "multipart/mixed",
     "denmark@lists.example.org", "<html><body><p>Hello \xe2\x80\x94", NULL},
    {"h-signed-crlf.eml", F_UTF8, P_PART, 3, "[DK] Signed", "multipart/mixed",
     "denmark@lists.example.org",
     "Signed text with trailing space  \nand a line.", NULL},
    {"nm-signed-protected-header.eml", F_UTF8, P_PART, 3,
     "[DK] This is a signed message", "multipart/mixed",
     "denmark@lists.example.org", "Here is the signed message body.", NULL},
    {"nm-smime-onepart-signed.eml", F_UTF8, P_PART, 2,
     "[DK] The FooCorp contract", "multipart/mixed",
     "denmark@lists.example.org", NULL, NULL},
    {"h-nosubject.eml", NULL, P_NONE, 1, "[DK] (no subject)", NULL,
     "nadia@other.example.dk", "No subject here.", NULL},
    {"h-latin1-euro.eml", F_EURO, P_PART, 2, "[DK] Pris", "multipart/mixed",
     "denmark@lists.example.org", "Prisen er 100 kr. p\xc3\xa5 fredag.\n",
     NULL},
    {"obmc-00048.eml", F_UTF8, P_APPEND, 1,
     "Re: [DK] ikvm refresh failed on host screen 1680x1050 resolution",
     "text/plain; charset=windows-1252; format=flowed",
     "denmark@lists.example.org", "On 4/29/2019 6:30 PM, xiuzhi wrote:\n",
     NULL},
    {"h-bad-noheader-colon.eml", F_ASCII, P_ERROR, 0, NULL, NULL, NULL, NULL,
     "malformed header line"},
    {"h-bad-partial.eml", F_ASCII, P_ERROR, 0, NULL, NULL, NULL, NULL,
     "message/partial"},
    {"h-bad-mixed-noboundary.eml", F_ASCII, P_ERROR, 0, NULL, NULL, NULL, NULL,
     "boundary"},
};

/* Fields that must never reach the members. */
static const char *const leaks[] = {
    "Approved",          "Approve",
    "Return-Receipt-To", "Disposition-Notification-To",
    "Delivered-To",      "X-Original-To",
    "X-Envelope-To",     "Return-Path",
    "X-Mlmd-Token",      "Errors-To-Not-Here",
};

static struct list_conf
test_list(void)
{
	struct list_conf l;

	memset(&l, 0, sizeof(l));
	l.name = (char *)"denmark";
	l.address = (char *)"denmark@lists.example.org";
	l.description = (char *)"Migrant entrepreneurs in Denmark";
	l.language = (char *)"da";
	l.posting = POST_MEMBERS;
	l.archive = ARCH_PUBLIC;
	l.subject_prefix = (char *)"[DK] ";
	l.reply_to = REPLY_LIST;
	return l;
}

static struct decorate_in
test_in(const struct list_conf *l, const char *raw, size_t len,
        const char *footer)
{
	struct decorate_in in;

	memset(&in, 0, sizeof(in));
	in.raw = raw;
	in.len = len;
	in.list = l;
	in.domain = "lists.example.org";
	in.separator = '+';
	in.base_url = "https://lists.example.org";
	in.archived_at = ARCHIVED;
	in.footer = footer;
	return in;
}

static size_t
count_fields(const struct msg *m, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			n++;
	return n;
}

/* The header block of raw: its length including the blank line. */
static size_t
header_len(const char *s, size_t n)
{
	const char *a = memmem(s, n, "\n\n", 2),
	           *b = memmem(s, n, "\r\n\r\n", 4);

	if (b && (!a || b < a))
		return (size_t)(b - s) + 4;
	return a ? (size_t)(a - s) + 2 : n;
}

static int
lines_short(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		col = s[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			return 0;
	}
	return 1;
}

/* 1 if every LF in the header block we wrote is preceded by CR (crlf), or
 * no CR appears in it (lf). */
static int
line_ends_ok(const char *s, size_t n, int crlf)
{
	size_t i, h = header_len(s, n);

	for (i = 0; i < h; i++) {
		if (crlf && s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 0;
		if (!crlf && s[i] == '\r')
			return 0;
	}
	return 1;
}

/* Every header field of the input that we keep must appear byte for byte
 * in the output's header block. */
static int
kept_fields_exact(const char *in, size_t inlen, const char *out, size_t olen)
{
	static const char *const kept[] = {"DKIM-Signature:",
	                                   "Received:",
	                                   "From:",
	                                   "To:",
	                                   "Message-ID:",
	                                   "Date:",
	                                   "Errors-To:",
	                                   "Sender:",
	                                   "Authentication-Results:"};
	size_t h = header_len(in, inlen), oh = header_len(out, olen), i = 0;

	while (i < h) {
		size_t e = i, k;
		int keep = 0;

		while (e < h && in[e] != '\n')
			e++;
		while (e + 1 < h && (in[e + 1] == ' ' || in[e + 1] == '\t')) {
			e++;
			while (e < h && in[e] != '\n')
				e++;
		}
		for (k = 0; k < ARRAY_SIZE(kept); k++)
			if (strncasecmp(in + i, kept[k], strlen(kept[k])) == 0)
				keep = 1;
		if (keep && memmem(out, oh, in + i, e - i) == NULL) {
			diag("field not kept exactly: %.40s", in + i);
			return 0;
		}
		i = e + 1;
	}
	return 1;
}

/*
 * The signed entity of a multipart/signed (its first part: from after the
 * first delimiter line to the CRLF before the second), or the body of a
 * single-part S/MIME message: these bytes must reach the members intact.
 */
static int
signed_bytes_kept(const char *in, size_t inlen, const char *out, size_t olen)
{
	const char *b = memmem(in, inlen, "boundary=\"", 10);
	size_t h = header_len(in, inlen);

	if (b == NULL || b > in + h) {
		/* application/pkcs7-mime: the whole body. */
		return memmem(out, olen, in + h, inlen - h) != NULL;
	} else {
		char delim[256];
		const char *q = strchr(b + 10, '"'), *s, *e;
		int dl;

		dl = snprintf(delim, sizeof(delim), "\n--%.*s",
		              (int)(q - b - 10), b + 10);
		s = memmem(in + h - 1, inlen - h + 1, delim, (size_t)dl);
		if (s == NULL)
			return 0;
		s = memchr(s + 1, '\n', inlen - (size_t)(s + 1 - in));
		e = memmem(s + 1, inlen - (size_t)(s + 1 - in), delim,
		           (size_t)dl);
		if (s == NULL || e == NULL)
			return 0;
		/* The whole first part and the signature part, in order,
		 * delimiters included. */
		return memmem(out, olen, s + 1, (size_t)(e - s - 1)) != NULL &&
		       memmem(out, olen, e, inlen - (size_t)(e - in) - 1) !=
		           NULL;
	}
}

/* The footer as a reader sees it (LF line ends). */
static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
run_file(const struct fcase *c)
{
	struct buf path = BUF_INIT, raw = BUF_INIT, out = BUF_INIT;
	struct buf err = BUF_INIT, out2 = BUF_INIT, out3 = BUF_INIT;
	struct buf exp = BUF_INIT;
	struct list_conf l = test_list();
	struct decorate_in in;
	struct msg *m = NULL, *m3 = NULL;
	const char *top = getenv("top_srcdir");
	const char *v;
	int rc, crlf;
	size_t i;

	buf_printf(&path, "%s/t/data/decorate/%s", top ? top : ".", c->file);
	if (read_file(buf_str(&path), &raw) < 0) {
		ok(0, "%s: read", c->file);
		goto done;
	}
	in = test_in(&l, raw.s, raw.len, c->footer);
	in.unsubscribe_url = "https://lists.example.org/u/TOKEN";
	rc = decorate(&in, &out, &err);
	if (c->place == P_ERROR) {
		ok(rc == -1 && strstr(buf_str(&err), c->err) != NULL &&
		       out.len == 0,
		   "%s: refused (%s)", c->file, buf_str(&err));
		goto done;
	}
	if (!ok(rc == 0, "%s: decorated", c->file)) {
		diag("%s", buf_str(&err));
		goto done;
	}
	crlf = memmem(raw.s, raw.len, "\r\n", 2) != NULL;
	ok(lines_short(out.s, out.len), "%s: lines under 998", c->file);
	ok(line_ends_ok(out.s, out.len, crlf), "%s: %s line ends", c->file,
	   crlf ? "CRLF" : "LF");
	ok(kept_fields_exact(raw.s, raw.len, out.s, out.len),
	   "%s: kept fields byte for byte", c->file);
	if (!ok(msg_parse(out.s, out.len, &msg_default_limits, &m, &err) == 0,
	        "%s: output parses", c->file))
		goto done;
	is_str(m->subject, c->subject, "%s: subject", c->file);
	is_int(count_fields(m, "List-Id"), 1, "%s: one List-Id", c->file);
	is_str(msg_header(m, "List-Id"),
	       "Migrant entrepreneurs in Denmark <denmark.lists.example.org>",
	       "%s: List-Id", c->file);
	is_str(msg_header(m, "List-Post"), "<mailto:denmark@lists.example.org>",
	       "%s: List-Post", c->file);
	is_str(msg_header(m, "List-Help"),
	       "<mailto:denmark+help@lists.example.org>", "%s: List-Help",
	       c->file);
	is_str(msg_header(m, "List-Subscribe"),
	       "<mailto:denmark+subscribe@lists.example.org>",
	       "%s: List-Subscribe", c->file);
	is_str(msg_header(m, "List-Unsubscribe"),
	       "<https://lists.example.org/u/TOKEN>, "
	       "<mailto:denmark+unsubscribe@lists.example.org>",
	       "%s: List-Unsubscribe", c->file);
	is_str(msg_header(m, "List-Unsubscribe-Post"),
	       "List-Unsubscribe=One-Click", "%s: List-Unsubscribe-Post",
	       c->file);
	is_str(msg_header(m, "List-Owner"),
	       "<mailto:denmark-owner@lists.example.org>", "%s: List-Owner",
	       c->file);
	is_str(msg_header(m, "List-Archive"),
	       "<https://lists.example.org/archive/denmark/>",
	       "%s: List-Archive", c->file);
	is_str(msg_header(m, "Archived-At"), "<" ARCHIVED ">",
	       "%s: Archived-At", c->file);
	is_int(count_fields(m, "Archived-At"), 1, "%s: one Archived-At",
	       c->file);
	is_str(msg_header(m, "Precedence"), "list", "%s: Precedence", c->file);
	is_str(msg_header(m, "X-Loop"), "denmark@lists.example.org",
	       "%s: X-Loop", c->file);
	for (i = 0; i < ARRAY_SIZE(leaks); i++)
		ok(msg_header(m, leaks[i]) == NULL, "%s: no %s", c->file,
		   leaks[i]);
	is_str(m->n_reply_to ? m->reply_to[0].addr : "", c->reply_to,
	       "%s: Reply-To", c->file);
	is_int(count_fields(m, "Reply-To"), c->reply_to[0] != '\0',
	       "%s: Reply-To count", c->file);
	if (c->ctype) {
		v = msg_header(m, "Content-Type");
		ok(v && strncasecmp(v, c->ctype, strlen(c->ctype)) == 0,
		   "%s: Content-Type %s (got %s)", c->file, c->ctype,
		   v ? v : "none");
	}
	is_int(m->n_parts, c->nparts, "%s: parts", c->file);
	if (c->text0 && m->n_parts > 0) {
		const char *t = m->parts[0].text ? m->parts[0].text : "";

		ok(strncmp(t, c->text0, strlen(c->text0)) == 0,
		   "%s: first part's text", c->file);
	}
	if (c->place == P_APPEND && m->n_parts == 1) {
		struct buf want = BUF_INIT;
		const char *t = m->parts[0].text ? m->parts[0].text : "";

		buf_adds(&want, c->footer);
		ok(ends_with(t, buf_str(&want)), "%s: footer appended",
		   c->file);
		buf_free(&want);
	}
	if (c->place == P_PART && m->n_parts >= 2) {
		const struct msg_part *p = &m->parts[m->n_parts - 1];

		is_str(p->type, "text/plain", "%s: footer part type", c->file);
		is_str(p->text, c->footer, "%s: footer part text", c->file);
		ok(m->parts[0].text == NULL ||
		       strstr(m->parts[0].text, "Denmark list") == NULL,
		   "%s: first part without footer", c->file);
	}
	if (c->place == P_NONE) {
		size_t h = header_len(raw.s, raw.len), oh;

		oh = header_len(out.s, out.len);
		ok(out.len - oh == raw.len - h &&
		       memcmp(out.s + oh, raw.s + h, raw.len - h) == 0,
		   "%s: body untouched", c->file);
	}
	if (strstr(c->file, "signed"))
		ok(signed_bytes_kept(raw.s, raw.len, out.s, out.len),
		   "%s: signed bytes unchanged", c->file);
	if (strcmp(c->file, "h-mixed.eml") == 0)
		ok(memmem(out.s, out.len,
		          "--b1-outer--\r\n\r\nepilogue line\r\n", 30) != NULL,
		   "%s: close delimiter and epilogue kept", c->file);

	/* Same bytes again: a restarted fan-out sends the same copy. */
	decorate(&in, &out2, &err);
	ok(out2.len == out.len && memcmp(out2.s, out.s, out.len) == 0,
	   "%s: deterministic", c->file);
	/* Decorated twice (a post that loops back): no second prefix. */
	in.raw = out.s;
	in.len = out.len;
	in.footer = NULL;
	if (ok(decorate(&in, &out3, &err) == 0, "%s: decorates again",
	       c->file) &&
	    msg_parse(out3.s, out3.len, &msg_default_limits, &m3, &err) == 0) {
		is_str(m3->subject, c->subject, "%s: no doubled prefix",
		       c->file);
		is_int(count_fields(m3, "List-Id"), 1, "%s: still one List-Id",
		       c->file);
		msg_free(m3);
	}

	buf_reset(&path);
	buf_printf(&path, "%s/t/data/decorate/%s", top ? top : ".", c->file);
	buf_truncate(&path, path.len - 4);
	buf_adds(&path, ".out");
	if (read_file(buf_str(&path), &exp) == 0)
		ok(exp.len == out.len && memcmp(exp.s, out.s, out.len) == 0,
		   "%s: output equals %s.out", c->file, c->file);
	if (getenv("DECORATE_DUMP")) {
		FILE *f = fopen(buf_str(&path), "wb");

		if (f) {
			fwrite(out.s, 1, out.len, f);
			fclose(f);
		}
	}
done:
	msg_free(m);
	buf_free(&path);
	buf_free(&raw);
	buf_free(&out);
	buf_free(&out2);
	buf_free(&out3);
	buf_free(&err);
	buf_free(&exp);
}

/* ---- the subject rule -------------------------------------------------- */

static const struct {
	const char *in, *prefix, *want; /* want NULL: unchanged */
} scases[] = {
    {"Re: [DK] Re: [DK] x", "[DK] ", "Re: [DK] x"},
    {"Re: [DK] x", "[DK] ", NULL},
    {"[DK] x", "[DK] ", NULL},
    {"x", "[DK] ", "[DK] x"},
    {"x", "[DK]", "[DK] x"},
    {"  x  ", "[DK] ", "[DK] x"},
    {"Re: x", "[DK] ", "Re: [DK] x"},
    {"RE: RE: x", "[DK] ", "Re: [DK] x"},
    {"SV: Re: [DK] x", "[DK] ", "Re: [DK] x"},
    {"Sv: [DK] Sv: [DK] x", "[DK] ", "Re: [DK] x"},
    {"AW: x", "[DK] ", "Re: [DK] x"},
    {"Aw: Antw: VS: Vs: x", "[DK] ", "Re: [DK] x"},
    {"[DK] Re: x", "[DK] ", "Re: [DK] x"},
    {"Re[2]: x", "[DK] ", "Re: [DK] x"},
    {"Re(3): [dk] x", "[DK] ", "Re: [DK] x"},
    {"Re^2: x", "[DK] ", "Re: [DK] x"},
    {"Fwd: x", "[DK] ", "[DK] Fwd: x"},
    {"Fwd: [DK] x", "[DK] ", NULL},
    {"Re: Fwd: x", "[DK] ", "Re: [DK] Fwd: x"},
    {"About [DK] news", "[DK] ", NULL},
    {"Reading list", "[DK] ", "[DK] Reading list"},
    {"Sverige", "[DK] ", "[DK] Sverige"},
    {"Re:", "[DK] ", "Re: [DK]"},
    {"", "[DK] ", "[DK] (no subject)"},
    {"   ", "[DK] ", "[DK] (no subject)"},
    {"M\xc3\xb8"
     "de",
     "[DK] ",
     "[DK] M\xc3\xb8"
     "de"},
    {"Re: x", "", NULL},
    {"Re: x", NULL, NULL},
    {"", "", "(no subject)"},
};

static void
test_subject_rule(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scases); i++) {
		struct buf b = BUF_INIT;
		int r = decorate_subject(scases[i].in, scases[i].prefix, &b);

		if (scases[i].want == NULL)
			ok(r == 0 && b.len == 0, "subject '%s' unchanged",
			   scases[i].in);
		else
			ok(r == 1 && strcmp(buf_str(&b), scases[i].want) == 0,
			   "subject '%s' -> '%s' (got '%s')", scases[i].in,
			   scases[i].want, buf_str(&b));
		buf_free(&b);
	}
}

/* ---- header options on a small generated post --------------------------- */

static const char post[] = "From: Alice <alice@example.dk>\n"
                           "To: denmark@lists.example.org\n"
                           "Reply-To: Alice Home <alice@home.example.dk>\n"
                           "Subject: Hello\n"
                           "Message-ID: <opt@example.dk>\n"
                           "\n"
                           "Body.\n";

struct ocase {
	const char *what;
	enum posting posting;
	enum reply_to reply_to;
	int override;
	const char *description;
	const char *unsub_url, *unsub_mailto;
	enum archive_mode archive;
	const char *field, *want_raw; /* raw value of field, without the
	                               * leading space (NULL: absent) */
};

static const struct ocase ocases[] = {
    {"reply_to author keeps it", POST_MEMBERS, REPLY_AUTHOR, 0, "", NULL, NULL,
     ARCH_PUBLIC, "Reply-To", "Alice Home <alice@home.example.dk>"},
    {"reply_to list keeps author's", POST_MEMBERS, REPLY_LIST, 0, "", NULL,
     NULL, ARCH_PUBLIC, "Reply-To", "Alice Home <alice@home.example.dk>"},
    {"reply_to list override", POST_MEMBERS, REPLY_LIST, 1, "", NULL, NULL,
     ARCH_PUBLIC, "Reply-To", "denmark@lists.example.org"},
    {"announce: List-Post NO", POST_ANNOUNCE, REPLY_AUTHOR, 0, "", NULL, NULL,
     ARCH_PUBLIC, "List-Post", "NO"},
    {"no description", POST_MEMBERS, REPLY_AUTHOR, 0, "", NULL, NULL,
     ARCH_PUBLIC, "List-Id", "<denmark.lists.example.org>"},
    {"description with specials quoted", POST_MEMBERS, REPLY_AUTHOR, 0,
     "Denmark, Sweden (and more)", NULL, NULL, ARCH_PUBLIC, "List-Id",
     "\"Denmark, Sweden (and more)\" <denmark.lists.example.org>"},
    {"non-ASCII description encoded", POST_MEMBERS, REPLY_AUTHOR, 0,
     "Iv\xc3\xa6rks\xc3\xa6ttere", NULL, NULL, ARCH_PUBLIC, "List-Id",
     "=?utf-8?q?Iv=C3=A6rks=C3=A6ttere?= <denmark.lists.example.org>"},
    {"generic unsubscribe", POST_MEMBERS, REPLY_AUTHOR, 0, "", NULL, NULL,
     ARCH_PUBLIC, "List-Unsubscribe",
     "<mailto:denmark+unsubscribe@lists.example.org>"},
    {"personal mailto", POST_MEMBERS, REPLY_AUTHOR, 0, "", NULL,
     "denmark+unsubscribe-T0K@lists.example.org", ARCH_PUBLIC,
     "List-Unsubscribe", "<mailto:denmark+unsubscribe-T0K@lists.example.org>"},
    {"url and mailto", POST_MEMBERS, REPLY_AUTHOR, 0, "",
     "https://lists.example.org/u/T", "mailto:u@lists.example.org", ARCH_PUBLIC,
     "List-Unsubscribe",
     "<https://lists.example.org/u/T>,\n <mailto:u@lists.example.org>"},
    {"https: one-click", POST_MEMBERS, REPLY_AUTHOR, 0, "",
     "https://lists.example.org/u/T", NULL, ARCH_PUBLIC,
     "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
    {"http: no one-click", POST_MEMBERS, REPLY_AUTHOR, 0, "",
     "http://lists.example.org/u/T", NULL, ARCH_PUBLIC, "List-Unsubscribe-Post",
     NULL},
    {"no archive: no List-Archive", POST_MEMBERS, REPLY_AUTHOR, 0, "", NULL,
     NULL, ARCH_NONE, "List-Archive", NULL},
};

static void
test_options(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ocases); i++) {
		const struct ocase *c = &ocases[i];
		struct list_conf l = test_list();
		struct decorate_in in;
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct msg *m = NULL;

		l.posting = c->posting;
		l.reply_to = c->reply_to;
		l.description = (char *)c->description;
		l.archive = c->archive;
		in = test_in(&l, post, sizeof(post) - 1, NULL);
		in.reply_to_override = c->override;
		in.unsubscribe_url = c->unsub_url;
		in.unsubscribe_mailto = c->unsub_mailto;
		if (!ok(decorate(&in, &out, &err) == 0 &&
		            msg_parse(out.s, out.len, &msg_default_limits, &m,
		                      &err) == 0,
		        "%s: decorated", c->what)) {
			diag("%s", buf_str(&err));
		} else {
			is_str(msg_header_raw(m, c->field), c->want_raw, "%s",
			       c->what);
			is_int(count_fields(m, "Reply-To"), 1,
			       "%s: one Reply-To", c->what);
		}
		msg_free(m);
		buf_free(&out);
		buf_free(&err);
	}
}

/* A long non-ASCII subject: encoded words of at most 75 characters, lines
 * of at most 76, and it decodes to the same text. */
static void
test_long_subject(void)
{
	struct list_conf l = test_list();
	struct buf raw = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	struct buf want = BUF_INIT, subj = BUF_INIT;
	struct decorate_in in;
	struct msg *m = NULL;
	const char *s, *e;
	int i, longest = 0, words_ok = 1;

	for (i = 0; i < 40; i++)
		buf_adds(&subj,
		         i % 3 ? "\xc3\xa6\xc3\xb8\xc3\xa5 " : "plain-word ");
	buf_adds(&subj, "\xe2\x82\xac\xf0\x9f\x98\x80 end");
	buf_printf(&raw, "From: a@example.dk\r\nSubject: %s\r\n\r\nx\r\n",
	           buf_str(&subj));
	in = test_in(&l, raw.s, raw.len, NULL);
	ok(decorate(&in, &out, &err) == 0, "long subject: decorated");
	s = strstr(buf_str(&out), "Subject: ");
	e = s ? strstr(s, "\r\n") : NULL;
	while (s && e) {
		const char *w;

		if (e - s > longest)
			longest = (int)(e - s);
		for (w = s; (w = strstr(w, "=?")) != NULL && w < e;) {
			const char *we = strstr(w + 2, "?=");

			/* "=?utf-8?q?" then "?=" closes the word. */
			we = we ? strstr(w + 10, "?=") : NULL;
			if (we == NULL || we + 2 - w > 75)
				words_ok = 0;
			w = we ? we + 2 : e;
		}
		if (e[2] != ' ')
			break;
		s = e + 2;
		e = strstr(s, "\r\n");
	}
	ok(longest <= 76, "long subject: lines of %d <= 76", longest);
	ok(words_ok, "long subject: encoded words <= 75");
	buf_adds(&want, "[DK] ");
	buf_add(&want, subj.s, subj.len);
	if (msg_parse(out.s, out.len, &msg_default_limits, &m, &err) == 0) {
		is_str(m->subject, buf_str(&want), "long subject: decodes");
		msg_free(m);
	} else {
		ok(0, "long subject: parses");
	}
	buf_free(&raw);
	buf_free(&out);
	buf_free(&err);
	buf_free(&want);
	buf_free(&subj);
}

/*
 * Where the footer goes, on small generated posts: appended to the text
 * (1 part, the text ends with the footer) or in its own part (the last
 * part is the footer).
 */
static const struct {
	const char *what, *raw, *footer;
	size_t nparts;
	int appended;
	const char *text0; /* the first part's decoded text, or NULL */
} pcases[] = {
    {"text/plain with a name: own part",
     "Subject: x\nContent-Type: text/plain; name=notes.txt\n\nfile\n", F_ASCII,
     2, 0, "file\n"},
    {"inline with a filename: own part",
     "Subject: x\nContent-Disposition: inline; filename=a.txt\n\nfile\n",
     F_ASCII, 2, 0, "file\n"},
    {"attachment disposition: own part",
     "Subject: x\nContent-Disposition: attachment\n\nfile\n", F_ASCII, 2, 0,
     "file\n"},
    {"utf-16 text: own part",
     "Subject: x\nContent-Type: text/plain; charset=utf-16\n\n\xff\xfe"
     "a\0\n\0",
     F_ASCII, 2, 0, NULL},
    {"unknown charset: own part",
     "Subject: x\nContent-Type: text/plain; charset=x-no-such\n\nabc\n", F_UTF8,
     2, 0, NULL},
    {"windows-1252 8bit: converted and appended",
     "Subject: x\nContent-Type: text/plain; charset=windows-1252\n"
     "Content-Transfer-Encoding: 8bit\n\nK\xf8"
     "benhavn\n",
     F_UTF8, 1, 1,
     "K\xc3\xb8"
     "benhavn\n" F_UTF8},
    {"uuencode: own part",
     "Subject: x\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n",
     F_ASCII, 2, 0, NULL},
    {"base64 multipart/mixed (invalid): wrapped",
     "Subject: x\nContent-Type: multipart/mixed; boundary=q\n"
     "Content-Transfer-Encoding: base64\n\nLS1xCgp4Ci0tcS0tCg==\n",
     F_ASCII, 2, 0, NULL},
    {"ASCII footer on us-ascii: appended, 7bit kept",
     "Subject: x\nContent-Type: text/plain; charset=us-ascii\n"
     "Content-Transfer-Encoding: 7bit\n\nhello",
     F_ASCII, 1, 1, "hello\n" F_ASCII},
    {"multipart/encrypted: wrapped",
     "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; "
     "protocol=\"application/pgp-encrypted\"; boundary=enc\n\n--enc\n"
     "Content-Type: application/pgp-encrypted\n\nVersion: 1\n\n--enc\n"
     "Content-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----"
     "\nhQEMA\n-----END PGP MESSAGE-----\n\n--enc--\n",
     F_UTF8, 3, 0, NULL},
    {"no footer: body untouched", "Subject: x\n\nhello\n", NULL, 1, 0,
     "hello\n"},
};

static void
test_placement(void)
{
	struct list_conf l = test_list();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pcases); i++) {
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct decorate_in in = test_in(
		    &l, pcases[i].raw, strlen(pcases[i].raw), pcases[i].footer);
		struct msg *m = NULL;

		if (!ok(decorate(&in, &out, &err) == 0 &&
		            msg_parse(out.s, out.len, &msg_default_limits, &m,
		                      &err) == 0,
		        "%s: decorated", pcases[i].what)) {
			diag("%s", buf_str(&err));
			continue;
		}
		is_int(m->n_parts, pcases[i].nparts, "%s: parts",
		       pcases[i].what);
		if (pcases[i].text0 && m->n_parts > 0)
			is_str(m->parts[0].text, pcases[i].text0,
			       "%s: first part", pcases[i].what);
		if (pcases[i].nparts > 1 && m->n_parts > 1)
			is_str(m->parts[m->n_parts - 1].text, pcases[i].footer,
			       "%s: footer part", pcases[i].what);
		if (strstr(pcases[i].what, "7bit kept"))
			is_str(msg_header(m, "Content-Transfer-Encoding"),
			       "7bit", "%s: encoding", pcases[i].what);
		msg_free(m);
		buf_free(&out);
		buf_free(&err);
	}
}

/* Messages and arguments that must be refused, or handled, safely. */
static void
test_edges(void)
{
	static const struct {
		const char *what, *raw, *footer, *url, *err;
	} ec[] = {
	    {"footer not UTF-8", "Subject: x\n\nbody\n", "caf\xe9\n", NULL,
	     "not valid UTF-8"},
	    {"URL with a space", "Subject: x\n\nbody\n", NULL,
	     "https://x.example/a b", "URL"},
	    {"continuation first", " folded\nSubject: x\n\nbody\n", NULL, NULL,
	     "continuation"},
	    {"header only, no body", "Subject: x\nFrom: a@example.dk", F_UTF8,
	     NULL, NULL},
	    {"empty message", "", F_ASCII, NULL, NULL},
	    {"mbox From line skipped",
	     "From a@b Sat Nov 28 2026\nSubject: x\n"
	     "\nbody\n",
	     F_ASCII, NULL, NULL},
	    {"QP soft break at end",
	     "Subject: x\nContent-Transfer-Encoding: "
	     "quoted-printable\n\nabc=",
	     F_ASCII, NULL, NULL},
	};
	struct list_conf l = test_list();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ec); i++) {
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct decorate_in in =
		    test_in(&l, ec[i].raw, strlen(ec[i].raw), ec[i].footer);
		struct msg *m = NULL;
		int rc;

		in.unsubscribe_url = ec[i].url;
		rc = decorate(&in, &out, &err);
		if (ec[i].err) {
			ok(rc == -1 && out.len == 0 &&
			       strstr(buf_str(&err), ec[i].err) != NULL,
			   "%s: refused (%s)", ec[i].what, buf_str(&err));
		} else if (ok(rc == 0 &&
		                  msg_parse(out.s, out.len, &msg_default_limits,
		                            &m, &err) == 0,
		              "%s: decorated", ec[i].what)) {
			const char *t = m->n_parts ? m->parts[0].text : NULL;

			ok(t && ends_with(t, ec[i].footer), "%s: footer",
			   ec[i].what);
			if (strstr(ec[i].what, "QP"))
				is_str(t, "abc\n" F_ASCII, "%s: hard break",
				       ec[i].what);
			if (strstr(ec[i].what, "mbox"))
				ok(strncmp(out.s, "From ", 5) != 0,
				   "%s: no From_ line", ec[i].what);
			msg_free(m);
		}
		buf_free(&out);
		buf_free(&err);
	}

	/* A footer over the limit. */
	{
		struct buf big = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
		struct decorate_in in;
		int rc;

		for (i = 0; i < DECORATE_FOOTER_MAX / 50 + 1; i++)
			buf_adds(&big, "0123456789012345678901234567890123"
			               "456789012345678\n");
		in = test_in(&l, "Subject: x\n\nb\n", 14, buf_str(&big));
		rc = decorate(&in, &out, &err);
		ok(rc == -1 && out.len == 0 &&
		       strstr(buf_str(&err), "footer longer") != NULL,
		   "footer too long: refused (%s)", buf_str(&err));
		buf_free(&big);
		buf_free(&out);
		buf_free(&err);
	}
	/* A body that contains the boundary we would pick first: another
	 * one is found. */
	{
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct msg *m = NULL;
		const char raw[] = "Subject: x\nContent-Type: text/html\n\n"
		                   "<p>--=_mlmd_</p>\n";
		struct decorate_in in =
		    test_in(&l, raw, sizeof(raw) - 1, F_ASCII);

		ok(decorate(&in, &out, &err) == 0 &&
		       msg_parse(out.s, out.len, &msg_default_limits, &m,
		                 &err) == 0 &&
		       m->n_parts == 2,
		   "html with boundary-like text: wrapped in two parts");
		msg_free(m);
		buf_free(&out);
		buf_free(&err);
	}
}

/* ---- DMARC: From munging and wrapping ----------------------------------- */

#define ASE "\xc3\x85se \xc3\x98lgaard"

static const char dpost[] =
    "Received: from mx.example.dk by lists.example.org; Sat, 28 Nov 2026 "
    "10:00:00 +0100\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.dk; s=s1;\n"
    " h=from:to:subject; bh=xyz; b=abc\n"
    "From: =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>\n"
    "To: denmark@lists.example.org\n"
    "Cc: Bo <bo@example.se>\n"
    "Subject: Hej\n"
    "Message-ID: <d1@example.dk>\n"
    "Approved: secret\n"
    "X-Original-From: forged@example.com\n"
    "List-Id: <other.lists.example.net>\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Hej alle \xc3\xa6\xc3\xb8\xc3\xa5.\n";

/* Decorate raw for l with a DMARC action; parse the output into *m.
 * 0, or -1 (err says why). */
static int
dmarc_run(const struct list_conf *l, const char *raw, size_t len,
          const char *footer, int action, const char *name, const char *addr,
          struct buf *out, struct msg **m)
{
	struct decorate_in in = test_in(l, raw, len, footer);
	struct buf err = BUF_INIT;
	int rc;

	in.dmarc_action = action;
	in.author_name = name;
	in.author_addr = addr;
	rc = decorate(&in, out, &err);
	if (rc == 0 && m)
		rc = msg_parse(out->s, out->len, &msg_default_limits, m, &err);
	if (rc < 0)
		diag("%s", buf_str(&err));
	buf_free(&err);
	return rc;
}

/* The value of the first field called name in the header block of s,
 * raw (folded, without its line end), into out; 0 or -1 if absent. */
static int
raw_field(const char *s, size_t n, const char *name, struct buf *out)
{
	size_t h = header_len(s, n), i = 0, l = strlen(name);

	while (i < h) {
		size_t e = i;

		while (e < h && s[e] != '\n')
			e++;
		while (e + 1 < h && (s[e + 1] == ' ' || s[e + 1] == '\t')) {
			e++;
			while (e < h && s[e] != '\n')
				e++;
		}
		if (e - i > l && strncasecmp(s + i, name, l) == 0 &&
		    s[i + l] == ':') {
			buf_add(out, s + i + l + 1, e - i - l - 1);
			return 0;
		}
		i = e + 1;
	}
	return -1;
}

static void
test_dmarc_munge(void)
{
	struct list_conf l = test_list();
	struct buf out = BUF_INIT, plain = BUF_INIT, v = BUF_INIT;
	struct msg *m = NULL, *mp = NULL;
	size_t h, ph;

	if (!ok(dmarc_run(&l, dpost, sizeof(dpost) - 1, F_UTF8,
	                  DECORATE_DMARC_MUNGE, ASE, "ase@example.dk", &out,
	                  &m) == 0,
	        "munge: decorated"))
		return;
	is_str(m->from.addr, "denmark@lists.example.org",
	       "munge: From address");
	is_str(m->from.name, ASE " via Migrant entrepreneurs in Denmark",
	       "munge: From display name");
	is_int(count_fields(m, "From"), 1, "munge: one From");
	raw_field(out.s, out.len, "From", &v);
	ok(strstr(buf_str(&v), "=?utf-8?q?=C3=85se_=C3=98lgaard") != NULL,
	   "munge: From name RFC 2047-encoded (%s)", buf_str(&v));
	ok(lines_short(out.s, out.len), "munge: lines under 998");
	is_str(msg_header_raw(m, "X-Original-From"),
	       "=?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>",
	       "munge: X-Original-From is the original From");
	is_int(count_fields(m, "X-Original-From"), 1,
	       "munge: one X-Original-From (a forged one removed)");
	is_int(count_fields(m, "DKIM-Signature"), 0,
	       "munge: DKIM-Signature removed");
	is_int(count_fields(m, "Approved"), 0, "munge: Approved removed");
	ok(memmem(out.s, out.len, "Received: from mx.example.dk", 28) != NULL,
	   "munge: other fields kept");
	/* reply_to = list: Reply-To is the list, the author goes to Cc. */
	is_int(m->n_reply_to, 1, "munge, reply_to=list: one Reply-To");
	is_str(m->n_reply_to ? m->reply_to[0].addr : "",
	       "denmark@lists.example.org", "munge, reply_to=list: Reply-To");
	is_int(m->n_cc, 2, "munge, reply_to=list: author added to Cc");
	if (m->n_cc == 2) {
		is_str(m->cc[0].addr, "bo@example.se", "munge: Cc kept first");
		is_str(m->cc[1].addr, "ase@example.dk", "munge: Cc author");
		is_str(m->cc[1].name, ASE, "munge: Cc author's name");
	}
	is_str(m->subject, "[DK] Hej", "munge: subject prefix");
	is_str(msg_header(m, "List-Id"),
	       "Migrant entrepreneurs in Denmark <denmark.lists.example.org>",
	       "munge: List-Id");
	is_int(count_fields(m, "List-Id"), 1, "munge: one List-Id");
	is_str(msg_header(m, "List-Post"), "<mailto:denmark@lists.example.org>",
	       "munge: List-Post");
	is_str(msg_header(m, "List-Unsubscribe"),
	       "<mailto:denmark+unsubscribe@lists.example.org>",
	       "munge: List-Unsubscribe");
	is_str(msg_header(m, "X-Loop"), "denmark@lists.example.org",
	       "munge: X-Loop");
	/* The body is decorated as without munging. */
	if (dmarc_run(&l, dpost, sizeof(dpost) - 1, F_UTF8, 0, NULL, NULL,
	              &plain, &mp) == 0) {
		h = header_len(out.s, out.len);
		ph = header_len(plain.s, plain.len);
		ok(out.len - h == plain.len - ph &&
		       memcmp(out.s + h, plain.s + ph, out.len - h) == 0,
		   "munge: body as without munging");
		ok(m->n_parts == 1 && ends_with(m->parts[0].text, F_UTF8),
		   "munge: footer appended");
		is_str(mp->from.addr, "ase@example.dk", "no action: From kept");
		is_int(count_fields(mp, "DKIM-Signature"), 1,
		       "no action: DKIM-Signature kept");
		is_int(count_fields(mp, "X-Original-From"), 1,
		       "no action: X-Original-From not added");
	}
	msg_free(m);
	msg_free(mp);
	buf_free(&out);
	buf_free(&plain);
	buf_free(&v);
}

/* Reply-To and Cc under both reply policies. */
static const struct {
	const char *what;
	enum reply_to rt;
	int override;
	const char *extra;         /* header fields added to the post */
	const char *reply_to, *cc; /* raw values; NULL: absent */
} rcases[] = {
    {"reply_to=author, no Reply-To", REPLY_AUTHOR, 0, "",
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>", NULL},
    {"reply_to=author, own Reply-To", REPLY_AUTHOR, 0,
     "Reply-To: Home <ase@home.example.dk>\n",
     " Home <ase@home.example.dk>,\n"
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>",
     NULL},
    {"reply_to=author, Reply-To has the author", REPLY_AUTHOR, 0,
     "Reply-To: <ASE@example.dk>\n", " <ASE@example.dk>", NULL},
    {"reply_to=author, Cc untouched", REPLY_AUTHOR, 0, "Cc: bo@example.se\n",
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>", " bo@example.se"},
    {"reply_to=list, no Cc", REPLY_LIST, 0, "", " denmark@lists.example.org",
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>"},
    {"reply_to=list, Cc has the author", REPLY_LIST, 0,
     "Cc: bo@example.se, ase@example.dk\n", " denmark@lists.example.org",
     " bo@example.se, ase@example.dk"},
    {"reply_to=list, empty Cc", REPLY_LIST, 0, "Cc:  \n",
     " denmark@lists.example.org",
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>"},
    {"reply_to=list, address in a longer one", REPLY_LIST, 0,
     "Cc: xase@example.dk.net\n", " denmark@lists.example.org",
     " xase@example.dk.net,\n"
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>"},
    {"reply_to=list, own Reply-To kept", REPLY_LIST, 0,
     "Reply-To: Home <ase@home.example.dk>\n", " Home <ase@home.example.dk>",
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>"},
    {"reply_to=list, override", REPLY_LIST, 1,
     "Reply-To: Home <ase@home.example.dk>\n", " denmark@lists.example.org",
     " =?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>"},
};

static void
test_dmarc_reply(void)
{
	size_t i;
	int action;

	for (action = DECORATE_DMARC_MUNGE; action <= DECORATE_DMARC_WRAP;
	     action++)
		for (i = 0; i < ARRAY_SIZE(rcases); i++) {
			struct list_conf l = test_list();
			struct buf raw = BUF_INIT, out = BUF_INIT;
			struct buf rt = BUF_INIT, cc = BUF_INIT;
			struct decorate_in in;
			struct buf err = BUF_INIT;
			const char *an =
			    action == DECORATE_DMARC_MUNGE ? "munge" : "wrap";

			l.reply_to = rcases[i].rt;
			buf_printf(&raw,
			           "From: ase@example.dk\nSubject: x\n%s\nhi\n",
			           rcases[i].extra);
			in = test_in(&l, raw.s, raw.len, NULL);
			in.reply_to_override = rcases[i].override;
			in.dmarc_action = action;
			in.author_name = ASE;
			in.author_addr = "ase@example.dk";
			if (!ok(decorate(&in, &out, &err) == 0,
			        "%s, %s: decorated", an, rcases[i].what)) {
				diag("%s", buf_str(&err));
			} else {
				is_str(raw_field(out.s, out.len, "Reply-To",
				                 &rt) == 0
				           ? buf_str(&rt)
				           : NULL,
				       rcases[i].reply_to, "%s, %s: Reply-To",
				       an, rcases[i].what);
				is_str(raw_field(out.s, out.len, "Cc", &cc) == 0
				           ? buf_str(&cc)
				           : NULL,
				       rcases[i].cc, "%s, %s: Cc", an,
				       rcases[i].what);
			}
			buf_free(&raw);
			buf_free(&out);
			buf_free(&rt);
			buf_free(&cc);
			buf_free(&err);
		}
}

/* The display name in the munged From. */
static const struct {
	const char *name, *addr, *description, *want_name, *want_raw;
} ncases[] = {
    {ASE, "ase@example.dk", "", ASE " via denmark",
     " =?utf-8?q?=C3=85se_=C3=98lgaard_via_denmark?=\n"
     " <denmark@lists.example.org>"},
    {"Alice", "alice@example.dk", "Denmark", "Alice via Denmark",
     " Alice via Denmark <denmark@lists.example.org>"},
    {"", "alice.b@example.dk", "Denmark", "alice.b via Denmark",
     " \"alice.b via Denmark\" <denmark@lists.example.org>"},
    {NULL, "alice@example.dk", "Denmark", "alice via Denmark", NULL},
    {"Doe, John", "jd@example.dk", "Denmark", "Doe, John via Denmark",
     " \"Doe, John via Denmark\" <denmark@lists.example.org>"},
    {"Say \"hi\"", "s@example.dk", "Denmark", "Say \"hi\" via Denmark",
     " \"Say \\\"hi\\\" via Denmark\" <denmark@lists.example.org>"},
    {"boss@bank.example", "x@example.dk", "Denmark", "boss via Denmark", NULL},
    {"CEO <boss@bank.example>", "x@example.dk", "Denmark",
     "CEO <boss> via Denmark", NULL},
    {"a@b.example@c.example", "x@example.dk", "Denmark", "a via Denmark", NULL},
    {"a@b", "x@example.dk", "Denmark", "a@b via Denmark", NULL},
    {"@bank.example", "x@example.dk", "Denmark", "x via Denmark", NULL},
    {"bad \xff utf-8", "bad@example.dk", "Denmark", "bad via Denmark", NULL},
    {"tab\tand\r\nbreak", "t@example.dk", "Denmark",
     "tab and break via Denmark", NULL},
    {"  spaced   out  ", "t@example.dk", "Denmark", "spaced out via Denmark",
     NULL},
    {"=?utf-8?q?x?=", "t@example.dk", "Denmark", "=?utf-8?q?x?= via Denmark",
     NULL},
    {"Ann", "ann@example.dk", "Iv\xc3\xa6rks\xc3\xa6ttere, DK",
     "Ann via Iv\xc3\xa6rks\xc3\xa6ttere, DK", NULL},
};

static void
test_dmarc_names(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ncases); i++) {
		struct list_conf l = test_list();
		struct buf out = BUF_INIT, v = BUF_INIT;
		struct msg *m = NULL;
		static const char raw[] =
		    "From: x@example.dk\nSubject: x\n\nb\n";

		l.description = (char *)ncases[i].description;
		if (!ok(dmarc_run(&l, raw, sizeof(raw) - 1, NULL,
		                  DECORATE_DMARC_MUNGE, ncases[i].name,
		                  ncases[i].addr, &out, &m) == 0,
		        "name '%s': decorated", ncases[i].want_name))
			continue;
		is_str(m->from.name, ncases[i].want_name, "name '%s'",
		       ncases[i].want_name);
		is_str(m->from.addr, "denmark@lists.example.org",
		       "name '%s': address", ncases[i].want_name);
		if (ncases[i].want_raw) {
			raw_field(out.s, out.len, "From", &v);
			is_str(buf_str(&v), ncases[i].want_raw,
			       "name '%s': raw From", ncases[i].want_name);
		}
		msg_free(m);
		buf_free(&out);
		buf_free(&v);
	}
	/* A long name: cut, encoded words and lines stay short. */
	{
		struct list_conf l = test_list();
		struct buf name = BUF_INIT, out = BUF_INIT, v = BUF_INIT;
		struct msg *m = NULL;
		static const char raw[] = "From: x@example.dk\r\nSubject: x\r\n"
		                          "\r\nb\r\n";
		size_t k;
		int i2;

		for (i2 = 0; i2 < 100; i2++)
			buf_adds(&name, "\xc3\x85");
		ok(dmarc_run(&l, raw, sizeof(raw) - 1, NULL,
		             DECORATE_DMARC_MUNGE, buf_str(&name),
		             "x@example.dk", &out, &m) == 0,
		   "long name: decorated");
		raw_field(out.s, out.len, "From", &v);
		for (k = 0; k + 1 < v.len; k++)
			if (v.s[k] == '\r' && v.s[k + 1] != '\n')
				break;
		ok(k + 1 >= v.len, "long name: CRLF line ends");
		buf_truncate(&name, 120);
		buf_adds(&name, " via Migrant entrepreneurs in Denmark");
		is_str(m ? m->from.name : NULL, buf_str(&name),
		       "long name: cut at 120 bytes");
		{
			const char *p = buf_str(&v), *e;
			int longest = 0;

			while ((e = strchr(p, '\n')) != NULL) {
				if (e - p > longest)
					longest = (int)(e - p);
				p = e + 1;
			}
			if ((int)strlen(p) > longest)
				longest = (int)strlen(p);
			ok(longest <= 78, "long name: lines of %d", longest);
		}
		msg_free(m);
		buf_free(&name);
		buf_free(&out);
		buf_free(&v);
	}
}

static void
test_dmarc_wrap(void)
{
	struct list_conf l = test_list();
	struct buf raw = BUF_INIT, out = BUF_INIT, path = BUF_INIT;
	struct buf out2 = BUF_INIT, seg = BUF_INIT;
	struct msg *m = NULL;
	const char *top = getenv("top_srcdir"), *v, *inner;
	size_t oh, i;

	/* A small LF post. */
	if (ok(dmarc_run(&l, dpost, sizeof(dpost) - 1, F_UTF8,
	                 DECORATE_DMARC_WRAP, ASE, "ase@example.dk", &out,
	                 &m) == 0,
	       "wrap: decorated")) {
		oh = header_len(out.s, out.len);
		is_str(m->from.addr, "denmark@lists.example.org",
		       "wrap: From address");
		is_str(m->from.name,
		       ASE " via Migrant entrepreneurs in Denmark",
		       "wrap: From name");
		is_str(m->subject, "[DK] Hej", "wrap: subject prefix");
		is_str(m->message_id, "d1@example.dk", "wrap: Message-ID kept");
		v = msg_header(m, "Content-Type");
		ok(v && strncmp(v, "multipart/mixed;", 16) == 0,
		   "wrap: multipart/mixed (%s)", v ? v : "none");
		is_str(msg_header(m, "MIME-Version"), "1.0",
		       "wrap: MIME-Version");
		is_int(count_fields(m, "Content-Type"), 1,
		       "wrap: one Content-Type outside");
		ok(memmem(out.s, oh, "DKIM-Signature", 14) == NULL &&
		       memmem(out.s, oh, "Received:", 9) == NULL &&
		       memmem(out.s, oh, "Approved", 8) == NULL,
		   "wrap: outer header without DKIM, Received, Approved");
		is_str(msg_header(m, "List-Id"),
		       "Migrant entrepreneurs in Denmark "
		       "<denmark.lists.example.org>",
		       "wrap: List-Id");
		is_int(count_fields(m, "List-Id"), 1,
		       "wrap: one List-Id outside");
		is_str(m->n_cc == 2 ? m->cc[1].addr : "", "ase@example.dk",
		       "wrap: author in Cc");
		is_str(msg_header_raw(m, "X-Original-From"),
		       "=?utf-8?q?=C3=85se_=C3=98lgaard?= <ase@example.dk>",
		       "wrap: X-Original-From");
		is_int(count_fields(m, "X-Original-From"), 1,
		       "wrap: one X-Original-From outside");
		is_int(m->n_parts, 3, "wrap: note, post, footer");
		if (m->n_parts == 3) {
			const char *want =
			    "The message from " ASE " <ase@example.dk>\n";

			ok(m->parts[0].text && strncmp(m->parts[0].text, want,
			                               strlen(want)) == 0,
			   "wrap: the note names the author");
			is_str(m->parts[1].text,
			       "Hej alle \xc3\xa6\xc3\xb8\xc3\xa5.\n",
			       "wrap: the post's text");
			ok(m->parts[1].depth > m->parts[0].depth,
			   "wrap: the post is nested");
			is_str(m->parts[2].text, F_UTF8, "wrap: footer last");
		}
		/* The post inside: its fields (but those never sent) and its
		 * body, byte for byte. */
		inner = memmem(out.s, out.len, "Content-Type: message/rfc822\n",
		               29);
		ok(inner != NULL, "wrap: a message/rfc822 part");
		ok(inner && strncmp(inner + 29,
		                    "Content-Transfer-Encoding: 8bit\n"
		                    "Content-Disposition: inline\n\n"
		                    "Received: from mx.example.dk",
		                    88) == 0,
		   "wrap: 8bit, the post right after the part header");
		ok(memmem(out.s, out.len, dpost,
		          (size_t)(strstr(dpost, "Approved:") - dpost)) != NULL,
		   "wrap: Received, DKIM-Signature, From, To, Cc, Subject, "
		   "Message-ID intact inside");
		buf_adds(&seg, "X-Original-From: forged@example.com\n");
		buf_adds(&seg, strstr(dpost, "Content-Type:"));
		buf_adds(&seg, "\n--=_mlmd_");
		ok(memmem(out.s, out.len, seg.s, seg.len) != NULL,
		   "wrap: the other fields and the body intact inside");
		ok(memmem(out.s, out.len, "Approved", 8) == NULL &&
		       memmem(out.s, out.len, "other.lists.example.net", 23) ==
		           NULL,
		   "wrap: Approved and the old List-Id not inside either");
		ok(lines_short(out.s, out.len), "wrap: lines under 998");
		ok(line_ends_ok(out.s, out.len, 0), "wrap: LF line ends");
		ok(dmarc_run(&l, dpost, sizeof(dpost) - 1, F_UTF8,
		             DECORATE_DMARC_WRAP, ASE, "ase@example.dk", &out2,
		             NULL) == 0 &&
		       out2.len == out.len &&
		       memcmp(out.s, out2.s, out.len) == 0,
		   "wrap: deterministic");
	}
	msg_free(m);
	m = NULL;

	/* No footer: two parts; an ASCII post: no transfer encoding. */
	{
		static const char p7[] =
		    "From: a@example.dk\nSubject: s\n\nx\n";

		buf_reset(&out);
		if (ok(dmarc_run(&l, p7, sizeof(p7) - 1, NULL,
		                 DECORATE_DMARC_WRAP, "", "a@example.dk", &out,
		                 &m) == 0,
		       "wrap without footer: decorated")) {
			is_int(m->n_parts, 2, "wrap without footer: 2 parts");
			ok(memmem(out.s, out.len,
			          "Content-Type: message/rfc822\n"
			          "Content-Disposition: inline\n\n"
			          "From: a@example.dk\nSubject: s\n\nx\n\n--",
			          90) != NULL,
			   "wrap, ASCII: 7bit (no encoding field)");
		}
		msg_free(m);
		m = NULL;
	}
	/* A message/partial can be wrapped (a footer alone cannot). */
	{
		static const char pp[] =
		    "From: a@example.dk\nSubject: s\nMIME-Version: 1.0\n"
		    "Content-Type: message/partial; id=\"x\"; number=1\n\nx\n";

		buf_reset(&out);
		ok(dmarc_run(&l, pp, sizeof(pp) - 1, F_ASCII,
		             DECORATE_DMARC_WRAP, "", "a@example.dk", &out,
		             NULL) == 0,
		   "wrap: message/partial wrapped whole");
	}

	/* Signed mail: the signed bytes stay as they were. */
	for (i = 0; i < 3; i++) {
		static const char *const files[] = {
		    "h-signed-crlf.eml", "nm-signed-protected-header.eml",
		    "nm-smime-onepart-signed.eml"};
		size_t h;

		buf_reset(&path);
		buf_printf(&path, "%s/t/data/decorate/%s", top ? top : ".",
		           files[i]);
		buf_reset(&out);
		if (read_file(buf_str(&path), &raw) < 0) {
			ok(0, "%s: read", files[i]);
			continue;
		}
		if (!ok(dmarc_run(&l, raw.s, raw.len, F_UTF8,
		                  DECORATE_DMARC_WRAP, "Signer",
		                  "signer@example.org", &out, &m) == 0,
		        "wrap %s: decorated", files[i]))
			continue;
		h = header_len(raw.s, raw.len);
		ok(signed_bytes_kept(raw.s, raw.len, out.s, out.len),
		   "wrap %s: signed bytes unchanged", files[i]);
		ok(memmem(out.s, out.len, raw.s + h, raw.len - h) != NULL,
		   "wrap %s: the whole body unchanged", files[i]);
		ok(line_ends_ok(out.s, out.len,
		                memmem(raw.s, raw.len, "\r\n", 2) != NULL),
		   "wrap %s: line ends", files[i]);
		v = msg_header(m, "Content-Type");
		ok(v && strncmp(v, "multipart/mixed;", 16) == 0,
		   "wrap %s: multipart/mixed", files[i]);
		ok(m->n_parts >= 3 && m->parts[m->n_parts - 1].text &&
		       strcmp(m->parts[m->n_parts - 1].text, F_UTF8) == 0,
		   "wrap %s: footer last", files[i]);
		msg_free(m);
		m = NULL;
	}
	buf_free(&raw);
	buf_free(&out);
	buf_free(&out2);
	buf_free(&path);
	buf_free(&seg);
}

/* Refused: an action without an author, an unknown action. */
static void
test_dmarc_refused(void)
{
	static const struct {
		const char *what, *addr;
		int action;
	} ec[] = {
	    {"no author address", NULL, DECORATE_DMARC_MUNGE},
	    {"author address without @", "alice", DECORATE_DMARC_WRAP},
	    {"author address with a space", "a b@example.dk",
	     DECORATE_DMARC_MUNGE},
	    {"author address with <>", "<a@example.dk>", DECORATE_DMARC_MUNGE},
	    {"empty local part", "@example.dk", DECORATE_DMARC_MUNGE},
	    {"unknown action", "a@example.dk", 3},
	};
	struct list_conf l = test_list();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ec); i++) {
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct decorate_in in =
		    test_in(&l, post, sizeof(post) - 1, F_ASCII);

		in.dmarc_action = ec[i].action;
		in.author_addr = ec[i].addr;
		ok(decorate(&in, &out, &err) == -1 && out.len == 0 &&
		       err.len > 0,
		   "%s: refused (%s)", ec[i].what, buf_str(&err));
		buf_free(&out);
		buf_free(&err);
	}
}

/* dmarc_action 0 gives the same bytes whatever the author fields say. */
static void
test_dmarc_off(void)
{
	struct list_conf l = test_list();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fcases); i++) {
		struct buf path = BUF_INIT, raw = BUF_INIT;
		struct buf a = BUF_INIT, b = BUF_INIT, err = BUF_INIT;
		struct decorate_in in;
		const char *top = getenv("top_srcdir");
		int ra, rb;

		buf_printf(&path, "%s/t/data/decorate/%s", top ? top : ".",
		           fcases[i].file);
		if (read_file(buf_str(&path), &raw) < 0) {
			ok(0, "%s: read", fcases[i].file);
			continue;
		}
		in = test_in(&l, raw.s, raw.len, fcases[i].footer);
		ra = decorate(&in, &a, &err);
		in.author_name = ASE;
		in.author_addr = "ase@example.dk";
		rb = decorate(&in, &b, &err);
		ok(ra == rb && a.len == b.len &&
		       (a.len == 0 || memcmp(a.s, b.s, a.len) == 0),
		   "%s: no DMARC action, same bytes", fcases[i].file);
		buf_free(&path);
		buf_free(&raw);
		buf_free(&a);
		buf_free(&b);
		buf_free(&err);
	}
}

int
main(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fcases); i++)
		run_file(&fcases[i]);
	test_subject_rule();
	test_options();
	test_long_subject();
	test_placement();
	test_edges();
	test_dmarc_munge();
	test_dmarc_reply();
	test_dmarc_names();
	test_dmarc_wrap();
	test_dmarc_refused();
	test_dmarc_off();
	return done_testing();
}
