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
	return done_testing();
}
