/*
 * rules_test.c - the rule files (filters/rules.c) and the rules stage
 * (filters/filter_rules.c): parsing (every target, action and flag,
 * comments, the escaped slash, and every kind of bad line with its exact
 * FILE:LINE), evaluation on messages built with msg_parse() (RFC 2047
 * subjects, quoted-printable and base64 bodies, HTML, attachment names,
 * types), the order of rules and files, the shipped spam.rules, the
 * stage's verdicts and notices, and hostile input: catastrophic
 * backtracking, invalid UTF-8, a 1 MB body.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "filter.h"
#include "msg.h"
#include "rules.h"
#include "tap.h"
#include "util.h"

#define HDR                                                                    \
	"From: Amira Haddad <amira@example.dk>\n"                              \
	"To: denmark@lists.example.org\n"                                      \
	"Message-ID: <r-1@example.dk>\n"                                       \
	"Date: Tue, 3 Nov 2026 10:00:00 +0100\n"

#define PLAIN                                                                  \
	HDR "Subject: Networking dinner in Aarhus\n\nSee you on Thursday.\n"

#define MULTI                                                                  \
	HDR "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B8benhavn?=\n"        \
	    "X-Mailer: first\n"                                                \
	    "X-Mailer: Second Mailer 2.0\n"                                    \
	    "MIME-Version: 1.0\n"                                              \
	    "Content-Type: multipart/mixed; boundary=\"b1\"\n"                 \
	    "\n"                                                               \
	    "--b1\n"                                                           \
	    "Content-Type: multipart/alternative; boundary=\"b2\"\n"           \
	    "\n"                                                               \
	    "--b2\n"                                                           \
	    "Content-Type: text/plain; charset=iso-8859-1\n"                   \
	    "Content-Transfer-Encoding: quoted-printable\n"                    \
	    "\n"                                                               \
	    "Caf=E9 au lait, soft=\n"                                          \
	    "break here.\n"                                                    \
	    "line two\n"                                                       \
	    "--b2\n"                                                           \
	    "Content-Type: text/html; charset=utf-8\n"                         \
	    "Content-Transfer-Encoding: base64\n"                              \
	    "\n" /* <p>Buy <b>che&#97;p</b> pills</p><script>hidden()</script> \
	          */                                                           \
	    "PHA+QnV5IDxiPmNoZSYjOTc7cDwvYj4gcGlsbHM8L3A+"                     \
	    "PHNjcmlwdD5oaWRkZW4oKTwv\n"                                       \
	    "c2NyaXB0Pg==\n"                                                   \
	    "--b2--\n"                                                         \
	    "--b1\n"                                                           \
	    "Content-Type: application/pdf; name=\"report.pdf\"\n"             \
	    "Content-Disposition: attachment; filename=\"report.pdf\"\n"       \
	    "Content-Transfer-Encoding: base64\n"                              \
	    "\n"                                                               \
	    "JVBERi0xLjQK\n"                                                   \
	    "--b1\n"                                                           \
	    "Content-Type: text/plain; name=\"=?utf-8?q?n=C3=B8gle.txt?=\"\n"  \
	    "Content-Disposition: attachment; "                                \
	    "filename=\"=?utf-8?q?n=C3=B8gle.txt?=\"\n"                        \
	    "\n"                                                               \
	    "secret attached text\n"                                           \
	    "--b1--\n"

/* ---- helpers ------------------------------------------------------------ */

static struct msg *
parse(const char *text, size_t len)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;

	if (msg_parse(text, len, &msg_default_limits, &m, &err) < 0) {
		diag("msg_parse: %s", buf_str(&err));
		m = NULL;
	}
	buf_free(&err);
	return m;
}

static struct msg *
parse_s(const char *text)
{
	return parse(text, strlen(text));
}

static struct rules *
load(const char *text)
{
	struct buf err = BUF_INIT;
	struct rules *r = rules_parse_text("t.rules", text, strlen(text), &err);

	if (!r)
		diag("load: %s", buf_str(&err));
	buf_free(&err);
	return r;
}

/* Load one rule text and evaluate it on m; the action (or -2 if the rule
 * did not load, -1 if the evaluation failed). */
static int
eval1(const char *rules, const struct msg *m, struct rules_result *out)
{
	struct rules_result tmp;
	struct rules *r = load(rules);
	int ret;

	if (!out)
		out = &tmp;
	if (!r || !m)
		return -2;
	ret = rules_eval(r, m, out) < 0 ? -1 : (int)out->action;
	rules_free(r);
	return ret;
}

/* The load errors of a rule text ("" if it loaded). */
static char *
errors(const char *text)
{
	struct buf err = BUF_INIT;
	struct rules *r =
	    rules_parse_text("bad.rules", text, strlen(text), &err);

	if (r && err.len == 0)
		buf_adds(&err, "");
	if (r && err.len) {
		diag("loaded, yet errors");
	}
	rules_free(r);
	if (!r && err.len == 0)
		buf_adds(&err, "(NULL without errors)");
	return buf_detach(&err, NULL);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
top(void)
{
	const char *t = getenv("top_srcdir");

	return t ? t : "..";
}

/* ---- parsing ------------------------------------------------------------ */

static void
test_parse(void)
{
	struct rules *r;
	char *e;

	r = load("# a comment\n"
	         "\n"
	         "   \t\n"
	         "  # indented comment\n"
	         "header:X-Spam-Flag /^yes$/i hold spam\n"
	         "headers /^List-Id:/m discard\n"
	         "body /free\\s+money/is reject no money here\n"
	         "subject /^\\[ad\\]/ tag:[AD]\n"
	         "from /@example\\.com$/ accept\n"
	         "attachment /\\.exe$/ix reject\n"
	         "type /^application\\/pdf$/ tag:pdf\r\n"
	         "SUBJECT\t/x/m\tHOLD\treason with\ttab\n"
	         "Header:x-a /a\\/b\\\\/ Tag:t");
	ok(r != NULL, "every target, action and flag loads");
	is_int(rules_count(r), 9, "9 rules, comments and blank lines skipped");
	rules_free(r);

	r = load("");
	ok(r && rules_count(r) == 0, "empty text: an empty set");
	rules_free(r);
	r = rules_parse_text("n", NULL, 0, NULL);
	ok(r && rules_count(r) == 0, "NULL text: an empty set");
	rules_free(r);
	is_int(rules_count(NULL), 0, "rules_count(NULL)");
	rules_free(NULL);

	/* every kind of bad line, each with its own FILE:LINE */
	e = errors("subject /ok/ hold\n"    /* 1 */
	           "bogus /x/ hold\n"       /* 2 */
	           "subject x/ hold\n"      /* 3 */
	           "subject /abc hold\n"    /* 4 */
	           "subject /a\\/ hold\n"   /* 5 */
	           "subject // hold\n"      /* 6 */
	           "subject /x/q hold\n"    /* 7 */
	           "subject /x/\n"          /* 8 */
	           "subject /x/ frob\n"     /* 9 */
	           "subject /x/ tag:\n"     /* 10 */
	           "header: /x/ hold\n"     /* 11 */
	           "header:a:b /x/ hold\n"  /* 12 */
	           "# fine\n"               /* 13 */
	           "body /(ab/ hold\n"      /* 14 */
	           "subject\n"              /* 15 */
	           "from /x/ accept ok\n"); /* 16 */
	is_str(e,
	       "bad.rules:2: unknown target 'bogus'\n"
	       "bad.rules:3: missing '/' before the regex\n"
	       "bad.rules:4: missing '/' after the regex\n"
	       "bad.rules:5: missing '/' after the regex\n"
	       "bad.rules:6: empty regex\n"
	       "bad.rules:7: unknown flag 'q' (i, m, s, x)\n"
	       "bad.rules:8: missing action\n"
	       "bad.rules:9: unknown action 'frob' (accept, hold, reject, "
	       "discard, tag:TEXT)\n"
	       "bad.rules:10: bad tag in 'tag:' (1 to 64 printable "
	       "characters)\n"
	       "bad.rules:11: bad header name in 'header:'\n"
	       "bad.rules:12: bad header name in 'header:a:b'\n"
	       "bad.rules:14: bad regex at offset 3: missing closing "
	       "parenthesis\n"
	       "bad.rules:15: missing '/' before the regex\n",
	       "every bad line reported with FILE:LINE and what");
	free(e);

	e = errors("subject /a{2,1}/ hold\nsubject /\\C/ hold\n"
	           "subject /\xff/ hold\n");
	ok(strncmp(e, "bad.rules:1: bad regex at offset ", 33) == 0 &&
	       strstr(e, "\nbad.rules:2: bad regex at offset ") &&
	       strstr(e, "\nbad.rules:3: bad regex at offset "),
	   "PCRE2 errors: bad quantifier, \\C, invalid UTF-8 in the regex");
	free(e);

	e = errors("subject /x/ tag:\x01\n");
	is_str(e,
	       "bad.rules:1: bad tag in 'tag: ' (1 to 64 printable "
	       "characters)\n",
	       "control character in a tag: refused, quoted harmlessly");
	free(e);

	{
		struct buf big = BUF_INIT;
		size_t i;

		buf_adds(&big, "subject /");
		for (i = 0; i < RULES_MAX_LINE; i++)
			buf_addc(&big, 'a');
		buf_adds(&big, "/ hold\n");
		e = errors(buf_str(&big));
		is_str(e, "bad.rules:1: line longer than 8192 bytes\n",
		       "a line longer than RULES_MAX_LINE");
		free(e);
		buf_free(&big);
	}
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_load_files(void)
{
	char dir[] = "/tmp/rules_test.XXXXXX", a[64], b[64], c[64];
	const char *paths[3];
	struct buf err = BUF_INIT;
	struct rules_result rr;
	struct rules *r;
	struct msg *m = parse_s(PLAIN);

	if (!mkdtemp(dir)) {
		skip(6, "mkdtemp");
		return;
	}
	snprintf(a, sizeof(a), "%s/first.rules", dir);
	snprintf(b, sizeof(b), "%s/second.rules", dir);
	snprintf(c, sizeof(c), "%s/missing.rules", dir);
	write_file(a, "# first\nsubject /dinner/ tag:food\n"
	              "subject /nothing/ reject\n");
	write_file(b, "subject /Aarhus/ hold\nsubject /dinner/ reject\n");
	paths[0] = a;
	paths[1] = b;
	r = rules_load(paths, 2, &err);
	ok(r && rules_count(r) == 4 && err.len == 0, "two files load");
	ok(r && rules_eval(r, m, &rr) == 0 && rr.action == RULES_HOLD,
	   "files in order: the second file's first rule decides");
	is_str(rr.where, "second.rules:1", "where: the base name and line");
	is_str(rr.reason, "matched rule second.rules:1", "default reason");
	is_str(rr.tags, "food", "the first file's tag");
	rules_free(r);

	write_file(a, "subject /x/ hold\nsubject /(/ hold\n");
	paths[2] = c;
	r = rules_load(paths, 3, &err);
	ok(r == NULL && strstr(buf_str(&err), "/first.rules:2: bad regex") &&
	       strstr(buf_str(&err), "/missing.rules: cannot read: "),
	   "errors name the path as given; an unreadable file fails");
	rules_free(r);
	r = rules_load(NULL, 0, NULL);
	ok(r && rules_count(r) == 0, "no files: an empty set");
	rules_free(r);
	unlink(a);
	unlink(b);
	rmdir(dir);
	buf_free(&err);
	msg_free(m);
}

/* ---- evaluation --------------------------------------------------------- */

struct evcase {
	const char *rules;
	int want; /* enum rules_action, or -1 */
	const char *what;
};

static void
test_targets(void)
{
	static const struct evcase cases[] = {
	    /* header:NAME: every field of that name, decoded */
	    {"header:X-Mailer /^Second/ hold", RULES_HOLD,
	     "header: the second of two fields"},
	    {"header:x-mailer /^first$/ hold", RULES_HOLD,
	     "header: name case-insensitive"},
	    {"header:X-Mailer /^second/ hold", RULES_NONE,
	     "header: case-sensitive without i"},
	    {"header:X-Mailer /^second/i hold", RULES_HOLD, "flag i"},
	    {"header:X-Missing /^/ hold", RULES_NONE,
	     "header: absent field never matches"},
	    {"header:Subject /Grüße aus København/ hold", RULES_HOLD,
	     "header: value RFC 2047 decoded"},
	    /* headers */
	    {"headers /^X-Mailer: Second Mailer 2\\.0$/m hold", RULES_HOLD,
	     "headers: Name: value lines, flag m"},
	    {"headers /^X-Mailer: Second Mailer 2\\.0$/ hold", RULES_NONE,
	     "headers: without m, ^ is the start"},
	    {"headers /^From: Amira Haddad <amira@example\\.dk>\\n/ hold",
	     RULES_HOLD, "headers: first line"},
	    /* subject */
	    {"subject /^grüße aus københavn$/i hold", RULES_HOLD,
	     "subject: RFC 2047, caseless Unicode"},
	    {"subject /^\\w+ \\w+ \\w+$/ hold", RULES_HOLD,
	     "subject: \\w knows Unicode (UCP)"},
	    /* from */
	    {"from /^amira@example\\.dk$/ accept", RULES_ACCEPT,
	     "from: the address"},
	    {"from /Amira/ accept", RULES_NONE, "from: not the display name"},
	    /* body */
	    {"body /Café au lait, soft/ hold", RULES_HOLD,
	     "body: quoted-printable latin-1 decoded"},
	    {"body /softbreak here\\./ hold", RULES_HOLD,
	     "body: QP soft line break joins"},
	    {"body /Buy cheap pills/ hold", RULES_HOLD,
	     "body: base64 HTML rendered as text"},
	    {"body /<b>|&#97;/ hold", RULES_NONE, "body: no tags, no entities"},
	    {"body /hidden/ hold", RULES_NONE, "body: no script content"},
	    {"body /secret attached/ hold", RULES_NONE,
	     "body: attachments are not body"},
	    {"body /^line two$/ hold", RULES_NONE, "body: ^ without m"},
	    {"body /^line two$/m hold", RULES_HOLD, "body: flag m"},
	    {"body /here\\.\\nline/ hold", RULES_HOLD, "body: LF line ends"},
	    {"body /here\\..line/ hold", RULES_NONE, "body: . not newline"},
	    {"body /here\\..line/s hold", RULES_HOLD, "body: flag s"},
	    {"body /B u y \\  c h e a p/x hold", RULES_HOLD, "body: flag x"},
	    /* attachment */
	    {"attachment /^report\\.pdf$/ reject", RULES_REJECT,
	     "attachment: file name"},
	    {"attachment /^nøgle\\.txt$/ reject", RULES_REJECT,
	     "attachment: RFC 2047 file name"},
	    {"attachment /^$/ reject", RULES_NONE,
	     "attachment: parts without a name are not tried"},
	    /* type */
	    {"type /^application\\/pdf$/ discard", RULES_DISCARD,
	     "type: one part's type"},
	    {"type /^text\\/html$/ discard", RULES_DISCARD, "type: inner part"},
	    {"type /^multipart/ discard", RULES_NONE,
	     "type: containers are not parts"},
	    {"type /^image\\// discard", RULES_NONE, "type: no image"},
	};
	struct msg *m = parse_s(MULTI);
	size_t i;

	ok(m != NULL, "the multipart message parses");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rules_result rr;
		int got = eval1(cases[i].rules, m, &rr);

		if (!ok(got == cases[i].want, "%s", cases[i].what))
			diag("rule '%s': got %d, want %d", cases[i].rules, got,
			     cases[i].want);
	}
	msg_free(m);
}

static void
test_order(void)
{
	struct rules_result rr;
	struct msg *m = parse_s(PLAIN);
	int got;

	got = eval1("subject /dinner/ tag:[FOOD]\n"
	            "subject /nothing/ reject\n"
	            "from /example\\.dk/ tag:dk\n"
	            "subject /Aarhus/ tag:[FOOD]\n"
	            "subject /Aarhus/ discard   gone: no dinners  \n"
	            "subject /Aarhus/ reject later\n"
	            "subject /./ tag:late\n",
	            m, &rr);
	is_int(got, RULES_DISCARD, "the first deciding rule wins");
	is_str(rr.reason, "gone: no dinners", "its reason, trimmed");
	is_str(rr.where, "t.rules:5", "its FILE:LINE");
	is_str(rr.tags, "[FOOD] dk", "tags before it, in order, each once");

	got = eval1("subject /dinner/ tag:a\nsubject /dinner/ tag:b\n", m, &rr);
	ok(got == RULES_NONE && strcmp(rr.tags, "a b") == 0 && !rr.reason[0] &&
	       !rr.where[0],
	   "tags alone decide nothing");

	got = eval1("subject /x/ accept\nsubject /dinner/ accept\t\x01 a\xff\n",
	            m, &rr);
	is_str(rr.reason, "  a\xef\xbf\xbd",
	       "reason: controls become spaces, bad UTF-8 U+FFFD");

	{
		struct buf rules = BUF_INIT;
		int i;

		for (i = 0; i < 40; i++)
			buf_printf(&rules, "subject /./ tag:tag-%02d-xxxx\n",
			           i);
		buf_adds(&rules, "subject /./ hold");
		got = eval1(buf_str(&rules), m, &rr);
		ok(got == RULES_HOLD && strlen(rr.tags) < sizeof(rr.tags) &&
		       strlen(rr.tags) > 200 &&
		       rr.tags[strlen(rr.tags) - 1] != ' ',
		   "tags that do not fit are dropped whole");
		buf_free(&rules);
	}
	ok(rules_eval(NULL, m, &rr) == 0 && rr.action == RULES_NONE,
	   "no rules: nothing decided");
	msg_free(m);
}

/* ---- spam.rules --------------------------------------------------------- */

static struct rules *
load_spam(void)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	const char *p;
	struct rules *r;

	buf_printf(&path, "%s/filters/rules/spam.rules", top());
	p = buf_str(&path);
	r = rules_load(&p, 1, &err);
	if (!r)
		diag("spam.rules: %s", buf_str(&err));
	buf_free(&path);
	buf_free(&err);
	return r;
}

static void
test_spam(void)
{
	static const struct {
		const char *headers; /* added to PLAIN's header */
		int want;
		const char *reason;
		const char *what;
	} cases[] = {
	    {"X-Spam-Flag: YES\n", RULES_HOLD, "marked as spam by SpamAssassin",
	     "X-Spam-Flag: YES"},
	    {"X-Spam-Flag: NO\n", RULES_NONE, NULL, "X-Spam-Flag: NO"},
	    {"X-Spam-Status: Yes, score=12.3 required=5.0 tests=BAYES_99,\n"
	     "\tURIBL_BLACK autolearn=no version=3.4.6\n",
	     RULES_DISCARD, "spam score of 10 or more", "score 12.3 (folded)"},
	    {"X-Spam-Status: Yes, score=10 required=5.0\n", RULES_DISCARD, NULL,
	     "score 10"},
	    {"X-Spam-Status: Yes, score=100.0 required=5.0\n", RULES_DISCARD,
	     NULL, "score 100.0"},
	    {"X-Spam-Status: Yes, score=9.9 required=5.0\n", RULES_HOLD,
	     "spam score of 5 or more", "score 9.9"},
	    {"X-Spam-Status: Yes, score=5 required=5.0\n", RULES_HOLD, NULL,
	     "score 5"},
	    {"X-Spam-Status: Yes, score=4.9 required=3.0\n", RULES_NONE, NULL,
	     "score 4.9"},
	    {"X-Spam-Status: Yes, score=-12.0 required=5.0\n", RULES_NONE, NULL,
	     "score -12.0"},
	    {"X-Spam-Status: No, score=12.3 required=15.0\n", RULES_NONE, NULL,
	     "No, score 12.3"},
	    {"X-Spam-Flag: YES\n"
	     "X-Spam-Status: Yes, score=25.1 required=5.0\n",
	     RULES_DISCARD, NULL, "flag and score 25.1: discard first"},
	};
	struct rules *r = load_spam();
	struct buf b = BUF_INIT;
	struct rules_result rr;
	struct msg *m;
	size_t i;

	ok(r != NULL && rules_count(r) >= 6, "spam.rules loads");
	if (!r) {
		skip((int)ARRAY_SIZE(cases) + 7, "no spam.rules");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		buf_reset(&b);
		buf_printf(&b, "%s%s", cases[i].headers, PLAIN);
		m = parse(b.s, b.len);
		rules_eval(r, m, &rr);
		if (!ok(m && rr.action == (enum rules_action)cases[i].want &&
		            (!cases[i].reason ||
		             strcmp(rr.reason, cases[i].reason) == 0),
		        "spam.rules: %s", cases[i].what))
			diag("got %s '%s' at %s", rules_action_name(rr.action),
			     rr.reason, rr.where);
		msg_free(m);
	}

	static const struct {
		const char *name;
		const char *type;
		int want;
	} att[] = {
	    {"setup.exe", "application/octet-stream", RULES_REJECT},
	    {"Invoice.PDF.EXE", "application/octet-stream", RULES_REJECT},
	    {"tool.exe. ", "application/octet-stream", RULES_REJECT},
	    {"notes.exe.txt", "text/plain", RULES_NONE},
	    {"script.ps1", "text/plain", RULES_REJECT},
	    {"disk.iso", "application/octet-stream", RULES_REJECT},
	    {"a.jsx", "text/plain", RULES_NONE},
	    {"x.bin", "application/x-msdownload", RULES_REJECT},
	};
	for (i = 0; i < ARRAY_SIZE(att); i++) {
		buf_reset(&b);
		buf_printf(&b,
		           HDR
		           "Subject: files\nMIME-Version: 1.0\n"
		           "Content-Type: multipart/mixed; boundary=XX\n\n"
		           "--XX\nContent-Type: text/plain\n\nSee attached.\n"
		           "--XX\nContent-Type: %s; name=\"%s\"\n"
		           "Content-Disposition: attachment; "
		           "filename=\"%s\"\n"
		           "Content-Transfer-Encoding: base64\n\n"
		           "TVqQAAMAAAAEAAAA\n--XX--\n",
		           att[i].type, att[i].name, att[i].name);
		m = parse(b.s, b.len);
		rules_eval(r, m, &rr);
		if (!ok(m && rr.action == (enum rules_action)att[i].want &&
		            (att[i].want == RULES_NONE ||
		             strcmp(rr.reason, "attachments of this type are "
		                               "not accepted") == 0),
		        "spam.rules: attachment '%s' (%s)", att[i].name,
		        att[i].type))
			diag("got %s '%s' at %s", rules_action_name(rr.action),
			     rr.reason, rr.where);
		msg_free(m);
	}

	buf_reset(&b);
	buf_adds(&b, HDR "Subject: tnef\nMIME-Version: 1.0\n"
	                 "Content-Type: multipart/mixed; boundary=XX\n\n"
	                 "--XX\nContent-Type: text/plain\n\nHi.\n"
	                 "--XX\nContent-Type: application/ms-tnef; "
	                 "name=\"winmail.dat\"\n"
	                 "Content-Disposition: attachment; "
	                 "filename=\"WINMAIL.DAT\"\n"
	                 "Content-Transfer-Encoding: base64\n\n"
	                 "eJ8+IgAAAA==\n--XX--\n");
	m = parse(b.s, b.len);
	rules_eval(r, m, &rr);
	ok(m && rr.action == RULES_NONE && strcmp(rr.tags, "winmail") == 0,
	   "spam.rules: winmail.dat tagged once, not decided");
	msg_free(m);
	buf_free(&b);
	rules_free(r);
}

/* ---- the stage ---------------------------------------------------------- */

static const struct rules *stage_rules;

static const struct rules *
lookup(const char *list)
{
	return strcmp(list, "denmark") == 0 ? stage_rules : NULL;
}

static void
test_stage(void)
{
	static const struct {
		const char *rules;
		enum filter_verdict v;
		const char *notice;
		const char *reason;
	} cases[] = {
	    {"subject /dinner/ accept", FILTER_ACCEPT, NULL,
	     "matched rule t.rules:1"},
	    {"subject /dinner/ hold wait", FILTER_HOLD, "held.txt", "wait"},
	    {"subject /dinner/ reject no", FILTER_REJECT, "rejected.txt", "no"},
	    {"subject /dinner/ discard", FILTER_DISCARD, NULL,
	     "matched rule t.rules:1"},
	    {"subject /dinner/ tag:x", FILTER_PASS, NULL, NULL},
	    {"subject /nothing/ reject", FILTER_PASS, NULL, NULL},
	    {"subject /./ tag:a\nbody /^(a+)+$/ reject", FILTER_HOLD,
	     "held.txt", "a rule could not finish (t.rules:2)"},
	};
	struct msg *m = parse_s(PLAIN), *slow;
	struct list_conf l, other;
	struct filter_post p;
	struct filter_result r;
	struct buf b = BUF_INIT;
	size_t i;

	buf_adds(&b, HDR "Subject: dinner\n\n");
	for (i = 0; i < 40; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "b\n");
	slow = parse(b.s, b.len);
	buf_free(&b);

	memset(&l, 0, sizeof(l));
	l.name = (char *)"denmark";
	memset(&other, 0, sizeof(other));
	other.name = (char *)"sweden";
	memset(&p, 0, sizeof(p));
	p.list = &l;
	p.msg = m;
	p.sender = "amira@example.dk";

	filter_rules_set(NULL);
	stage_rules = load("subject /./ reject");
	memset(&r, 0, sizeof(r));
	is_int(filter_rules.run(&p, &r), FILTER_PASS, "stage: no lookup: pass");
	filter_rules_set(lookup);
	p.list = &other;
	is_int(filter_rules.run(&p, &r), FILTER_PASS,
	       "stage: a list without rules: pass");
	p.list = &l;
	rules_free((struct rules *)stage_rules);
	is_str(filter_rules.name, "rules", "stage name");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		enum filter_verdict v;

		stage_rules = load(cases[i].rules);
		p.msg = strstr(cases[i].rules, "(a+)+") ? slow : m;
		memset(&r, 0, sizeof(r));
		v = filter_rules.run(&p, &r);
		if (!ok(v == cases[i].v &&
		            (v == FILTER_PASS ||
		             (r.verdict == v && r.stage &&
		              strcmp(r.stage, "rules") == 0 &&
		              (r.notice
		                   ? cases[i].notice &&
		                         strcmp(r.notice, cases[i].notice) == 0
		                   : !cases[i].notice) &&
		              strcmp(r.reason, cases[i].reason) == 0)),
		        "stage: case %zu -> %s", i,
		        filter_verdict_name(cases[i].v)))
			diag("got %s notice %s reason '%s'",
			     filter_verdict_name(v),
			     r.notice ? r.notice : "(null)", r.reason);
		rules_free((struct rules *)stage_rules);
	}
	stage_rules = NULL;
	filter_rules_set(NULL);
	msg_free(m);
	msg_free(slow);
}

/* ---- hostile input ------------------------------------------------------ */

static void
test_hostile(void)
{
	struct buf b = BUF_INIT;
	struct rules_result rr;
	struct msg *m, fake;
	struct msg_header h;
	struct rules *r;
	double t0, dt;
	size_t i;
	int rc;

	/* catastrophic backtracking: 100,000 a's then b */
	buf_adds(&b, HDR "Subject: aaaa\n\n");
	for (i = 0; i < 100000; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "b\n");
	m = parse(b.s, b.len);
	r = load("body /(a+)+$/ hold\nbody /^(a|aa)+$/ hold\n"
	         "body /(\\w+\\s?)+$/ hold\nbody /(.*a){20}/ hold\n");
	t0 = now();
	rc = m && r ? rules_eval(r, m, &rr) : -2;
	dt = now() - t0;
	ok((rc == -1 && rr.action == RULES_NONE) ||
	       (rc == 0 && rr.action == RULES_NONE),
	   "(a+)+$ on 100k a's + b: limit or no match (rc %d, %s)", rc,
	   rr.where);
	ok(dt < 1.0, "... within a second (%.3f s)", dt);
	rules_free(r);
	/* the same through the interpreter: (*NO_JIT) */
	r = load("body /(*NO_JIT)(a+)+$/ hold\n"
	         "body /(*NO_JIT)^(a|aa)+$/ hold\n"
	         "body /(*NO_JIT)(?:(a)|b)*c/ hold\n");
	t0 = now();
	rc = m && r ? rules_eval(r, m, &rr) : -2;
	dt = now() - t0;
	ok(rc == -1 && rr.action == RULES_NONE,
	   "interpreter: (a+)+$ on 100k a's + b: limit (rc %d, %s)", rc,
	   rr.where);
	ok(dt < 1.0, "... within a second (%.3f s)", dt);
	rules_free(r);
	msg_free(m);

	/* invalid UTF-8: the parser makes headers valid, so build a
	 * message by hand with bad bytes where the parser could not */
	memset(&fake, 0, sizeof(fake));
	memset(&h, 0, sizeof(h));
	h.name = (char *)"Subject";
	h.value = (char *)"caf\xe9 \xff\xfe \xc3\xa9t\xc3\xa9 \xe2\x82";
	fake.headers = &h;
	fake.n_headers = 1;
	fake.subject = h.value;
	fake.from.addr = (char *)"\xc0\xafroot@example.org";
	ok(eval1("subject /^caf\\x{fffd} \\x{fffd}\\x{fffd} été \\x{fffd}{2}$/ "
	         "hold",
	         &fake, &rr) == RULES_HOLD,
	   "invalid UTF-8 subject: bad bytes become U+FFFD");
	ok(eval1("subject /caf./ hold", &fake, &rr) == RULES_HOLD,
	   "invalid UTF-8 subject: the rest still matches");
	ok(eval1("header:subject /été/ hold\nheaders /^Subject: caf/ reject",
	         &fake, &rr) == RULES_HOLD,
	   "invalid UTF-8 header value");
	ok(eval1("from /^\\x{fffd}\\x{fffd}root@/ hold", &fake, &rr) ==
	       RULES_HOLD,
	   "overlong sequence in from: replaced");
	ok(eval1("body /./ hold\nattachment /./ hold\ntype /./ hold\n"
	         "subject /^NOPE/ accept",
	         &fake, &rr) == RULES_NONE,
	   "a message without parts or body");

	/* and through the parser: 8-bit garbage in the Subject */
	m = parse_s(HDR "Subject: \xff\xfe\xfd \xc3\x28 ok\n\nhi\n");
	ok(m && eval1("subject /ok$/ hold", m, &rr) == RULES_HOLD,
	   "8-bit subject through msg_parse");
	msg_free(m);

	/* a 1 MB body: only the first 256 KiB is looked at */
	buf_reset(&b);
	buf_adds(&b, HDR "Subject: big\n\nSTART\n");
	for (i = 0; i < 17000; i++) /* 62 bytes each */
		buf_adds(&b, "0123456789 0123456789 0123456789 0123456789 "
		             "0123456789 012345\n");
	buf_adds(&b, "THE END\n");
	m = parse(b.s, b.len);
	ok(m && m->n_parts == 1 && m->parts[0].text_len > 1024 * 1024,
	   "1 MB body parses");
	t0 = now();
	ok(eval1("body /^START$/m hold", m, &rr) == RULES_HOLD,
	   "1 MB body: the start is seen");
	ok(eval1("body /THE END/ hold", m, &rr) == RULES_NONE,
	   "1 MB body: past 256 KiB is not");
	ok(eval1("body /\\A(?:[\\s\\S]{32768}){8}\\z/ hold\n", m, &rr) ==
	           RULES_HOLD &&
	       eval1("body /\\A(?:[\\s\\S]{32768}){8}./s hold\n", m, &rr) ==
	           RULES_NONE,
	   "1 MB body: cut to at most 256 KiB");
	dt = now() - t0;
	ok(dt < 2.0, "1 MB body: fast (%.3f s)", dt);
	msg_free(m);

	/* a huge HTML part: rendering is bounded too */
	buf_reset(&b);
	buf_adds(&b, HDR "Subject: html\nContent-Type: text/html\n\n<p>HI");
	for (i = 0; i < 200000; i++)
		buf_adds(&b, "<div>x</div>");
	buf_adds(&b, "THE END\n");
	m = parse(b.s, b.len);
	t0 = now();
	rc = eval1("body /^HI/ hold\n", m, &rr);
	dt = now() - t0;
	ok(rc == RULES_HOLD &&
	       eval1("body /THE END/ hold", m, &rr) == RULES_NONE,
	   "2.4 MB HTML body: start seen, end not");
	ok(dt < 2.0, "... fast (%.3f s)", dt);
	msg_free(m);
	buf_free(&b);
}

int
main(void)
{
	test_parse();
	test_load_files();
	test_targets();
	test_order();
	test_spam();
	test_stage();
	test_hostile();
	return done_testing();
}
