/*
 * dsn_test.c - tests for the bounce and feedback-report parser
 * (mlmd/dsn.c) and the shipped rules (filters/rules/bounce.rules).
 *
 * A dsn_classify() table; synthetic RFC 3464 reports (failed, delayed,
 * relayed, several recipients, no Status, a Diagnostic-Code with only a
 * reply code, address types, a forgotten blank line); ARF reports; an
 * auto-reply and a human reply (0); every fixture in t/data/dsn/ (real
 * bounces from sisimai's set-of-emails, see t/data/README) with the
 * recipient, status and kind a reader sees in the file (the expectations
 * were written from the files' DSN parts and notice texts); and hostile
 * input: 10,000 recipients, a huge diagnostic, garbage fields, a rule file
 * with a bad regex, and a backtracking pattern against long text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dsn.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

static const char *
top(void)
{
	const char *t = getenv("top_srcdir");

	return t ? t : "..";
}

static struct msg *
parse_str(const char *s, size_t n)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;

	if (msg_parse(s, n, &msg_default_limits, &m, &err) < 0) {
		diag("msg_parse: %s", buf_str(&err));
		m = NULL;
	}
	buf_free(&err);
	return m;
}

/* dsn_parse on a message given as text; returns its rc. */
static int
dsn_str(const char *s, struct dsn *d)
{
	struct msg *m = parse_str(s, strlen(s));
	int rc;

	if (!m)
		return -2;
	rc = dsn_parse(m, d);
	msg_free(m);
	return rc;
}

static void
test_classify(void)
{
	static const struct {
		const char *status, *diag;
		enum dsn_kind want;
	} t[] = {
	    {"5.1.1", "550 5.1.1 <a@b.example>: User unknown", DSN_HARD},
	    {"5.1.10", "RESOLVER.ADR.RecipientNotFound", DSN_HARD},
	    {"5.2.1", "account disabled", DSN_HARD},
	    {"5.2.2", "mailbox full", DSN_SOFT},
	    {"5.0.0", "552 over quota", DSN_SOFT},
	    {"4.2.2", "mailbox full", DSN_SOFT},
	    {"4.4.1", "connection timed out", DSN_SOFT},
	    {"4.7.1", "greylisted, blocked for now", DSN_SOFT},
	    {"5.7.1", "relay denied", DSN_POLICY},
	    {"5.7.26", "Unauthenticated email is not accepted", DSN_POLICY},
	    {"5.0.0", "rejected per DMARC policy", DSN_POLICY},
	    {"5.0.0", "Message rejected as spam", DSN_POLICY},
	    {"5.5.0", "Client host blocked using zen.spamhaus.org", DSN_POLICY},
	    {"5.0.0", "IP is on a blacklist", DSN_POLICY},
	    {"5.1.0", "not allowed per its SPF record", DSN_POLICY},
	    {"5.0.0", "DKIM signature invalid", DSN_POLICY},
	    {"5.6.0", "", DSN_CONTENT},
	    {"5.3.4", "", DSN_CONTENT},
	    {"5.2.3", "", DSN_CONTENT},
	    {"5.0.0", "Message rejected: bad headers", DSN_CONTENT},
	    {"5.0.0", "virus found", DSN_CONTENT},
	    {"5.0.0", "message too large", DSN_CONTENT},
	    {"5.0.0", "", DSN_HARD},
	    {"5.4.4", NULL, DSN_HARD},
	    {"", "", DSN_HARD},
	    {"", "spam", DSN_POLICY},
	    {"2.0.0", "ok", DSN_NONE},
	    /* words, not substrings: "spfoo" and "antispam" are neither */
	    {"5.1.1", "unknown user spfoo@example.org", DSN_HARD},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		is_str(dsn_kind_name(dsn_classify(t[i].status, t[i].diag)),
		       dsn_kind_name(t[i].want), "classify %s '%s'",
		       t[i].status, t[i].diag ? t[i].diag : "(null)");
}

#define HDR                                                                    \
	"From: MAILER-DAEMON@mx.example.org\n"                                 \
	"To: list+bounce@lists.example.org\n"                                  \
	"Subject: Delivery Status Notification\n"                              \
	"MIME-Version: 1.0\n"                                                  \
	"Content-Type: multipart/report; report-type=delivery-status;\n"       \
	" boundary=\"BB\"\n\n"                                                 \
	"--BB\nContent-Type: text/plain\n\nYour message could not be "         \
	"delivered.\n\n--BB\nContent-Type: message/delivery-status\n\n"        \
	"Reporting-MTA: dns; mx.example.org\n\n"
#define TAIL                                                                   \
	"\n--BB\nContent-Type: text/rfc822-headers\n\n"                        \
	"From: list@lists.example.org\nTo: Alice <Alice@Example.COM>\n"        \
	"Message-ID: <post-42@lists.example.org>\nSubject: hi\n\n--BB--\n"

struct want {
	const char *addr, *orig;
	enum dsn_action action;
	const char *status;
	enum dsn_kind kind;
	const char *diag; /* NULL: not checked */
};

static void
check_rcpts(const char *name, const struct dsn *d, const struct want *w,
            size_t nw)
{
	size_t i;

	is_int(d->n_rcpts, nw, "%s: %zu recipients", name, nw);
	for (i = 0; i < nw && i < d->n_rcpts; i++) {
		const struct dsn_rcpt *r = &d->rcpts[i];

		is_str(r->addr, w[i].addr, "%s[%zu]: addr", name, i);
		if (w[i].orig)
			is_str(r->orig, w[i].orig, "%s[%zu]: orig", name, i);
		is_str(dsn_action_name(r->action),
		       dsn_action_name(w[i].action), "%s[%zu]: action", name,
		       i);
		is_str(r->status, w[i].status, "%s[%zu]: status", name, i);
		is_str(dsn_kind_name(r->kind), dsn_kind_name(w[i].kind),
		       "%s[%zu]: kind", name, i);
		if (w[i].diag)
			is_str(r->diagnostic, w[i].diag, "%s[%zu]: diagnostic",
			       name, i);
	}
}

static void
test_synthetic(void)
{
	static const struct {
		const char *name, *ds;
		struct want w[3];
		size_t nw;
	} t[] = {
	    {"failed",
	     "Final-Recipient: rfc822; Bob@Example.ORG\nAction: failed\n"
	     "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <bob@example.org>:"
	     "\n   Recipient address rejected: User unknown\n",
	     {{"bob@example.org", "", DSN_FAILED, "5.1.1", DSN_HARD,
	       "550 5.1.1 <bob@example.org>: Recipient address rejected: "
	       "User unknown"}},
	     1},
	    {"delayed",
	     "Final-Recipient: rfc822;carol@example.net\nAction: delayed\n"
	     "Status: 4.4.1\nDiagnostic-Code: smtp; connection timed out\n",
	     {{"carol@example.net", "", DSN_DELAYED, "4.4.1", DSN_NONE,
	       "connection timed out"}},
	     1},
	    {"relayed",
	     "Final-Recipient: rfc822; <dave@example.net>\nAction: relayed\n"
	     "Status: 2.0.0\n",
	     {{"dave@example.net", "", DSN_RELAYED, "2.0.0", DSN_NONE, ""}},
	     1},
	    {"expanded and delivered",
	     "Final-Recipient: rfc822; e@example.net\nAction: expanded "
	     "(to a list)\nStatus: 2.0.0\n\nFinal-Recipient: rfc822; "
	     "f@example.net\nAction: DELIVERED\nStatus: 2.0.0\n",
	     {{"e@example.net", "", DSN_EXPANDED, "2.0.0", DSN_NONE, NULL},
	      {"f@example.net", "", DSN_DELIVERED, "2.0.0", DSN_NONE, NULL}},
	     2},
	    {"three recipients",
	     "Original-Recipient: rfc822;a@example.com\n"
	     "Final-Recipient: rfc822;a@example.com\nAction: failed\n"
	     "Status: 5.2.2\n\n"
	     "Final-Recipient: rfc822;b@example.com\nAction: failed\n"
	     "Status: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 rejected by "
	     "DMARC policy\n\n"
	     "Final-Recipient: rfc822;c@example.com\nAction: delayed\n"
	     "Status: 4.2.2\n",
	     {{"a@example.com", "a@example.com", DSN_FAILED, "5.2.2",
	       DSN_SOFT, NULL},
	      {"b@example.com", "", DSN_FAILED, "5.7.1", DSN_POLICY, NULL},
	      {"c@example.com", "", DSN_DELAYED, "4.2.2", DSN_NONE, NULL}},
	     3},
	    {"no Status: code from the diagnostic",
	     "Final-Recipient: rfc822; g@example.com\nAction: failed\n"
	     "Diagnostic-Code: smtp; 550-5.1.1 The email account that you "
	     "tried to reach does not exist.\n",
	     {{"g@example.com", "", DSN_FAILED, "5.1.1", DSN_HARD, NULL}},
	     1},
	    {"reply code only",
	     "Final-Recipient: rfc822; h@example.com\nAction: failed\n"
	     "Diagnostic-Code: smtp; 550 Requested action not taken\n",
	     {{"h@example.com", "", DSN_FAILED, "5.0.0", DSN_HARD,
	       "550 Requested action not taken"}},
	     1},
	    {"450 reply code, no Action",
	     "Final-Recipient: rfc822; i@example.com\n"
	     "Diagnostic-Code: smtp; 450 try later\n",
	     {{"i@example.com", "", DSN_DELAYED, "4.0.0", DSN_NONE, NULL}},
	     1},
	    {"Status with a comment, odd case and spacing",
	     "final-recipient :RFC822;   <J@EXAMPLE.COM>  \nACTION: Failed\n"
	     "status: 5.1.1 (bad destination mailbox address)\n",
	     {{"j@example.com", "", DSN_FAILED, "5.1.1", DSN_HARD, ""}},
	     1},
	    {"blank line forgotten between recipients",
	     "Final-Recipient: rfc822; k@example.com\nAction: failed\n"
	     "Status: 5.1.1\nFinal-Recipient: rfc822; l@example.com\n"
	     "Action: failed\nStatus: 5.1.2\n",
	     {{"k@example.com", "", DSN_FAILED, "5.1.1", DSN_HARD, NULL},
	      {"l@example.com", "", DSN_FAILED, "5.1.2", DSN_HARD, NULL}},
	     2},
	    {"an IP address is no status",
	     "Final-Recipient: rfc822; m@example.com\nAction: failed\n"
	     "Diagnostic-Code: X-Postfix; connect to 192.0.2.5.1.1[192.0.2.5]"
	     ": Connection refused\n",
	     {{"m@example.com", "", DSN_FAILED, "", DSN_HARD, NULL}},
	     1},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct buf b = BUF_INIT;
		struct dsn d;

		buf_printf(&b, "%s%s%s", HDR, t[i].ds, TAIL);
		is_int(dsn_str(buf_str(&b), &d), 1, "%s: is a bounce",
		       t[i].name);
		is_int(d.is_report, 1, "%s: is_report", t[i].name);
		check_rcpts(t[i].name, &d, t[i].w, t[i].nw);
		is_str(d.original_message_id, "post-42@lists.example.org",
		       "%s: original message id", t[i].name);
		is_str(d.original_to, "alice@example.com", "%s: original to",
		       t[i].name);
		dsn_free(&d);
		buf_free(&b);
	}
}

static void
test_arf(void)
{
	static const char arf1[] =
	    "From: feedback@mail.example.net\nTo: list+bounce@example.org\n"
	    "Subject: complaint\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=feedback-report;\n"
	    " boundary=\"ff\"\n\n--ff\nContent-Type: text/plain\n\n"
	    "This is an abuse report.\n\n--ff\n"
	    "Content-Type: message/feedback-report\n\n"
	    "Feedback-Type: Abuse\nUser-Agent: Test/1.0\nVersion: 1\n"
	    "Original-Mail-From: <list+bounce@example.org>\n"
	    "Original-Rcpt-To: <Carol@Example.NET>\n\n--ff\n"
	    "Content-Type: message/rfc822\n\n"
	    "From: list@example.org\nTo: someone-else@example.net\n"
	    "Message-ID: <post-7@example.org>\nSubject: news\n\nbody\n"
	    "--ff--\n";
	static const char arf2[] =
	    "From: feedback@mail.example.net\nTo: list+bounce@example.org\n"
	    "Subject: complaint\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=feedback-report;\n"
	    " boundary=\"ff\"\n\n--ff\nContent-Type: text/plain\n\n"
	    "This is an abuse report.\n\n--ff\n"
	    "Content-Type: message/feedback-report\n\n"
	    "Feedback-Type: abuse\nVersion: 1\n\n--ff\n"
	    "Content-Type: message/rfc822\n\n"
	    "From: list@example.org\nTo: \"Dan D.\" <Dan@example.net>\n"
	    "Message-ID: <post-8@example.org>\nSubject: news\n\nbody\n"
	    "--ff--\n";
	struct dsn d;

	is_int(dsn_str(arf1, &d), 1, "arf: recognised");
	is_int(d.is_feedback, 1, "arf: is_feedback");
	is_str(d.feedback_type, "abuse", "arf: feedback type, lower case");
	is_str(d.original_to, "carol@example.net", "arf: Original-Rcpt-To");
	is_str(d.original_message_id, "post-7@example.org", "arf: message id");
	is_int(d.n_rcpts, 0, "arf: no recipients");
	dsn_free(&d);
	is_int(dsn_str(arf2, &d), 1, "arf without Original-Rcpt-To");
	is_str(d.original_to, "dan@example.net", "arf: To of the message");
	is_str(d.original_message_id, "post-8@example.org", "arf2: id");
	dsn_free(&d);
}

static void
test_not_bounces(void)
{
	static const char *const t[] = {
	    /* an auto-reply */
	    "From: Bob <bob@example.org>\nTo: list+bounce@example.org\n"
	    "Subject: Out of office: news\nAuto-Submitted: auto-replied\n"
	    "In-Reply-To: <post-1@example.org>\n\n"
	    "I am out of the office until Monday and will read your mail "
	    "then.\nFor urgent matters contact carol@example.org.\n",
	    /* a human reply that quotes a failure */
	    "From: Bob <bob@example.org>\nTo: list+bounce@example.org\n"
	    "Subject: Re: your mail bounced\n\n"
	    "Hi, why do I get \"550 5.1.1 user unknown\" from you?\n"
	    "> <bob@example.org>: user unknown\n",
	    /* a read receipt (MDN) is no bounce */
	    "From: bob@example.org\nTo: list+bounce@example.org\n"
	    "Subject: Read: news\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; "
	    "report-type=disposition-notification; boundary=x\n\n--x\n"
	    "Content-Type: text/plain\n\nRead.\n--x\n"
	    "Content-Type: message/disposition-notification\n\n"
	    "Final-Recipient: rfc822; bob@example.org\n"
	    "Disposition: manual-action/MDN-sent-manually; displayed\n"
	    "--x--\n",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct dsn d;

		is_int(dsn_str(t[i], &d), 0, "not a bounce %zu", i);
		ok(d.n_rcpts == 0 && d.rcpts == NULL, "not a bounce %zu: empty",
		   i);
		dsn_free(&d);
	}
}

static const struct {
	const char *file;
	int rc, is_report, is_feedback;
	const char *addr, *status; /* first recipient; NULL: none */
	enum dsn_action action;
	enum dsn_kind kind;
	const char *mid; /* original message id; NULL: not checked */
} fixtures[] = {
    /* RFC 3464 */
    {"lhost-postfix-01.eml", 1, 1, 0, "r@p351355.pool.example.ne.jp",
     "5.1.1", DSN_FAILED, DSN_HARD, NULL},
    {"lhost-sendmail-01.eml", 1, 1, 0, "userunknown@bouncehammer.jp",
     "5.1.1", DSN_FAILED, DSN_HARD,
     "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"},
    {"rfc3464-01.eml", 1, 1, 0, "userunknown@bouncehammer.jp", "5.1.1",
     DSN_FAILED, DSN_HARD, NULL},
    {"lhost-exim-29.eml", 1, 1, 0, "kijitora@example.co.jp", "5.0.0",
     DSN_FAILED, DSN_POLICY, NULL}, /* "Bad SPF records" */
    {"lhost-office365-03.eml", 1, 1, 0, "kijitora@example.com", "5.1.0",
     DSN_FAILED, DSN_POLICY, NULL}, /* "... per it's SPF Record" */
    {"lhost-outlook-01.eml", 1, 1, 0, "kijitora@example.jp", "5.2.2",
     DSN_FAILED, DSN_SOFT, NULL},
    {"lhost-amazonses-01.eml", 1, 1, 0, "shironeko@example.co.jp", "5.0.0",
     DSN_FAILED, DSN_HARD, NULL},
    {"lhost-opensmtpd-10.eml", 1, 1, 0, "postmaster@cx.libsisimai.org",
     "5.0.0", DSN_FAILED, DSN_HARD, "74f4e3b183602776@df.example.jp"},
    {"lhost-exchange2007-01.eml", 1, 1, 0, "mikeneko@example.co.jp",
     "5.1.1", DSN_FAILED, DSN_HARD, NULL},
    {"lhost-courier-01.eml", 1, 1, 0, "kijitora@example.co.jp", "5.0.0",
     DSN_FAILED, DSN_HARD, NULL},
    /* an empty delivery-status part: X-Failed-Recipients */
    {"lhost-googleworkspace-01.eml", 1, 1, 0,
     "neko-nyaan-cat-meeting@google-groups.example.com", "5.0.0",
     DSN_FAILED, DSN_HARD, NULL},
    /* non-standard, by bounce.rules */
    {"lhost-qmail-01.eml", 1, 0, 0, "kijitora@example.ne.jp", "5.5.0",
     DSN_FAILED, DSN_HARD,
     "000000000.9999999999999.JavaMail.postmaster@mailhub"},
    {"lhost-qmail-10.eml", 1, 0, 0, "kijitora@neko2.example.co.jp", "5.2.1",
     DSN_FAILED, DSN_HARD, NULL}, /* "account is locked" */
    {"lhost-exim-01.eml", 1, 0, 0, "kijitora@example.ed.jp", "5.7.0",
     DSN_FAILED, DSN_POLICY, "E1P1ce6-000Egt-GZ@e1.example.org"},
    {"lhost-exim-05.eml", 1, 0, 0, "kijitora@neko.example.co.jp", "5.1.1",
     DSN_FAILED, DSN_HARD, NULL},
    {"lhost-exim-30.eml", 1, 0, 0, "kijitora@exmaple.ch", "5.7.1",
     DSN_FAILED, DSN_POLICY, NULL},
    {"lhost-gmail-01.eml", 1, 0, 0, "userunknown@example.jp", "5.1.1",
     DSN_FAILED, DSN_HARD, "D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com"},
    {"lhost-gmail-04.eml", 1, 0, 0, "kijitora@example.com", "5.7.1",
     DSN_FAILED, DSN_POLICY, NULL}, /* blocked using cbl.abuseat.org */
    {"lhost-gmail-08.eml", 1, 0, 0, "kijitora@example.com", "4.0.0",
     DSN_DELAYED, DSN_NONE, NULL}, /* a delay warning never counts */
    {"lhost-yahoo-01.eml", 1, 0, 0, "kijitora@example.org", "5.1.1",
     DSN_FAILED, DSN_HARD, "6AE6249A-E7A8-4980-862C-F499F6B8E7C5@y.example.co.jp"},
    {"lhost-yahoo-05.eml", 1, 0, 0, "kijitora@example.co.jp", "5.2.1",
     DSN_FAILED, DSN_HARD, NULL},
    {"lhost-office365-01.eml", 1, 0, 0, "kijitora@example.com", "5.1.10",
     DSN_FAILED, DSN_HARD, NULL},
    {"lhost-office365-02.eml", 1, 0, 0, "kijitora@example.onmicrosoft.com",
     "5.1.1", DSN_FAILED, DSN_HARD, NULL},
    {"lhost-postfix-07.eml", 1, 0, 0, "kijitora@user.example.or.jp", "5.1.1",
     DSN_FAILED, DSN_HARD, NULL}, /* "550 ...: User unknown" */
    {"lhost-postfix-34.eml", 1, 0, 0, "kijitora@example.com", "4.4.3",
     DSN_FAILED, DSN_SOFT, NULL}, /* "Host not found, try again" */
    /* ARF */
    {"arf-01.eml", 1, 1, 1, NULL, NULL, DSN_UNKNOWN, DSN_NONE, NULL},
    {"arf-02.eml", 1, 1, 1, NULL, NULL, DSN_UNKNOWN, DSN_NONE,
     "000000000000000000000000.smtp@example.com"},
    {"arf-16.eml", 1, 1, 1, NULL, NULL, DSN_UNKNOWN, DSN_NONE,
     "ffffffffffffffffffffffff0000000@example.jp"},
    /* not bounces */
    {"rfc3834-01.eml", 0, 0, 0, NULL, NULL, DSN_UNKNOWN, DSN_NONE, NULL},
    {"not-bounce-01.eml", 0, 0, 0, NULL, NULL, DSN_UNKNOWN, DSN_NONE, NULL},
};

static void
test_fixtures(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		struct buf path = BUF_INIT, data = BUF_INIT;
		struct msg *m;
		struct dsn d;
		const char *f = fixtures[i].file;

		buf_printf(&path, "%s/t/data/dsn/%s", top(), f);
		if (read_file(buf_str(&path), &data) < 0 ||
		    (m = parse_str(data.s, data.len)) == NULL) {
			ok(0, "%s: read and parse", f);
			buf_free(&path);
			buf_free(&data);
			continue;
		}
		is_int(dsn_parse(m, &d), fixtures[i].rc, "%s: rc", f);
		is_int(d.is_report, fixtures[i].is_report, "%s: is_report", f);
		is_int(d.is_feedback, fixtures[i].is_feedback, "%s: feedback",
		       f);
		if (fixtures[i].addr) {
			if (ok(d.n_rcpts >= 1, "%s: a recipient", f)) {
				is_str(d.rcpts[0].addr, fixtures[i].addr,
				       "%s: addr", f);
				is_str(d.rcpts[0].status, fixtures[i].status,
				       "%s: status", f);
				is_str(dsn_action_name(d.rcpts[0].action),
				       dsn_action_name(fixtures[i].action),
				       "%s: action", f);
				is_str(dsn_kind_name(d.rcpts[0].kind),
				       dsn_kind_name(fixtures[i].kind),
				       "%s: kind", f);
			}
		} else {
			is_int(d.n_rcpts, 0, "%s: no recipients", f);
		}
		if (fixtures[i].mid)
			is_str(d.original_message_id, fixtures[i].mid,
			       "%s: original message id", f);
		dsn_free(&d);
		msg_free(m);
		buf_free(&path);
		buf_free(&data);
	}
}

static void
test_fixture_details(void)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	struct msg *m;
	struct dsn d;

	/* ARF with seven Original-Rcpt-To: the first */
	buf_printf(&path, "%s/t/data/dsn/arf-16.eml", top());
	if (read_file(buf_str(&path), &data) == 0 &&
	    (m = parse_str(data.s, data.len)) != NULL) {
		dsn_parse(m, &d);
		is_str(d.original_to, "kijitora@example.com", "arf-16: first");
		is_str(d.feedback_type, "abuse", "arf-16: type");
		dsn_free(&d);
		msg_free(m);
	} else {
		ok(0, "arf-16 read");
	}
	buf_free(&path);
	buf_free(&data);
}

/* Write text to a temp file; its path into p. */
static int
temp_file(const char *text, char *p, size_t psz)
{
	int fd;

	snprintf(p, psz, "/tmp/dsn_test.XXXXXX");
	if ((fd = mkstemp(p)) < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
test_hostile(void)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct dsn d;
	char path[64];
	size_t i;
	clock_t t0;
	int rc;

	/* 10,000 recipients: capped at DSN_MAX_RCPTS */
	buf_adds(&b, HDR);
	for (i = 0; i < 10000; i++)
		buf_printf(&b,
		           "Final-Recipient: rfc822; u%zu@example.com\n"
		           "Action: failed\nStatus: 5.1.1\n\n",
		           i);
	buf_adds(&b, TAIL);
	is_int(dsn_str(buf_str(&b), &d), 1, "10,000 recipients: parsed");
	is_int(d.n_rcpts, DSN_MAX_RCPTS, "10,000 recipients: capped");
	is_str(d.rcpts[0].addr, "u0@example.com", "capped: first kept");
	dsn_free(&d);

	/* a 1 MB folded diagnostic: one line, 255 bytes at most */
	buf_reset(&b);
	buf_adds(&b, HDR "Final-Recipient: rfc822; x@example.com\n"
	             "Action: failed\nDiagnostic-Code: smtp; 550 5.1.1");
	for (i = 0; i < 20000; i++)
		buf_adds(&b, "\n  \x01\x7f" "aaaaaaaaaa bbbbbbbbbb cccccccccc "
		             "\xc3\xa9\xc3");
	buf_adds(&b, "\n" TAIL);
	is_int(dsn_str(buf_str(&b), &d), 1, "huge diagnostic: parsed");
	if (ok(d.n_rcpts == 1, "huge diagnostic: one recipient")) {
		const char *g = d.rcpts[0].diagnostic;

		ok(strlen(g) < sizeof(d.rcpts[0].diagnostic) &&
		       strlen(g) > 200,
		   "huge diagnostic: cut (%zu)", strlen(g));
		ok(strpbrk(g, "\n\r\t\x01\x7f") == NULL,
		   "huge diagnostic: no control characters");
		ok(utf8_valid(g, strlen(g)), "huge diagnostic: valid UTF-8");
		is_str(d.rcpts[0].status, "5.1.1", "huge diagnostic: status");
	}
	dsn_free(&d);

	/* garbage in the fields */
	rc = dsn_str(HDR "Final-Recipient: ;;;;\nAction: \x01\x02 exploded\n"
	                 "Status: 9.9.9.9.9\nDiagnostic-Code:\n"
	                 "Original-Recipient: rfc822; <<<@@@>>>\n"
	                 ": no name\n   \n\x7f\x80\xff: junk\n"
	                 "Final-Recipient: rfc822; " /* 400 x's */
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                 "@example.com\nAction: failed\n" TAIL,
	             &d);
	is_int(rc, 1, "garbage: still a report");
	/* blocks: Final+Action+Status (complete, so Original-Recipient
	 * starts another), that one up to the line of blanks, the last */
	if (ok(d.n_rcpts == 3, "garbage: three blocks (%zu)", d.n_rcpts)) {
		is_str(d.rcpts[0].addr, "", "garbage: no address");
		is_str(dsn_action_name(d.rcpts[0].action), "unknown",
		       "garbage: unknown action");
		is_str(d.rcpts[0].status, "", "garbage: no status");
		is_str(d.rcpts[1].orig, "", "garbage: bad Original-Recipient");
		is_str(d.rcpts[2].addr, "", "garbage: overlong address");
		is_str(dsn_action_name(d.rcpts[2].action), "failed",
		       "garbage: failed");
		is_str(dsn_kind_name(d.rcpts[2].kind), "hard",
		       "garbage: failed without status is hard");
	}
	dsn_free(&d);
	is_int(dsn_parse(NULL, &d), -1, "NULL message: -1");

	/* a rule file with a bad regex: the line number */
	if (temp_file("# comment\n\nbounce ^ok\naddr ^<(\\S+)>:\n"
	              "5.1.1 user (unknown\n",
	              path, sizeof(path)) == 0) {
		buf_reset(&err);
		is_int(dsn_rules_load(path, &err), -1, "bad regex: -1");
		ok(strstr(buf_str(&err), ":5: bad regex") != NULL,
		   "bad regex: line 5 named (%s)", buf_str(&err));
		unlink(path);
	}
	if (temp_file("addr ^nocapture\n", path, sizeof(path)) == 0) {
		buf_reset(&err);
		is_int(dsn_rules_load(path, &err), -1, "addr without group");
		ok(strstr(buf_str(&err), ":1: ") != NULL, "addr: %s",
		   buf_str(&err));
		unlink(path);
	}
	if (temp_file("6.6.6 x\n", path, sizeof(path)) == 0) {
		buf_reset(&err);
		is_int(dsn_rules_load(path, &err), -1, "unknown kind: -1");
		unlink(path);
	}
	buf_reset(&err);
	is_int(dsn_rules_load("/nonexistent/bounce.rules", &err), -1,
	       "missing rule file: -1 (%s)", buf_str(&err));

	/* catastrophic backtracking against long input: the match limit */
	if (temp_file("bounce ^(a+)+$\nbounce ^(?:\\w+\\s?)*X$\n"
	              "addr (\\S+@\\S+)\n",
	              path, sizeof(path)) == 0) {
		buf_reset(&err);
		is_int(dsn_rules_load(path, &err), 0, "backtracking rules load");
		buf_reset(&b);
		buf_adds(&b, "From: a@example.org\nSubject: x\n\n");
		for (i = 0; i < 30000; i++)
			buf_adds(&b, "aa");
		buf_adds(&b, "b\n");
		for (i = 0; i < 2000; i++)
			buf_adds(&b, "word ");
		buf_adds(&b, "Y\n");
		t0 = clock();
		rc = dsn_str(buf_str(&b), &d);
		is_int(rc, 0, "backtracking: no match");
		ok((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0,
		   "backtracking: %.3f s",
		   (double)(clock() - t0) / CLOCKS_PER_SEC);
		dsn_free(&d);
		unlink(path);
	}
	dsn_rules_free();
	buf_free(&b);
	buf_free(&err);
}

static void
test_without_rules(void)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	struct msg *m;
	struct dsn d;

	dsn_rules_free();
	buf_printf(&path, "%s/t/data/dsn/lhost-qmail-01.eml", top());
	if (read_file(buf_str(&path), &data) == 0 &&
	    (m = parse_str(data.s, data.len)) != NULL) {
		is_int(dsn_parse(m, &d), 0, "no rules: qmail is not recognised");
		dsn_free(&d);
		msg_free(m);
	} else {
		ok(0, "qmail read");
	}
	buf_free(&path);
	buf_free(&data);
}

int
main(void)
{
	struct buf path = BUF_INIT, err = BUF_INIT;

	test_classify();
	test_without_rules();
	buf_printf(&path, "%s/filters/rules/bounce.rules", top());
	if (!ok(dsn_rules_load(buf_str(&path), &err) == 0,
	        "shipped bounce.rules load"))
		diag("%s", buf_str(&err));
	test_synthetic();
	test_arf();
	test_not_bounces();
	test_fixtures();
	test_fixture_details();
	test_hostile();
	buf_free(&path);
	buf_free(&err);
	return done_testing();
}
