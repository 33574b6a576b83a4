/*
 * filter_test.c - the post pipeline (filters/): every branch of every
 * stage, the whole posting x nonmember table, the order of the stages,
 * and hostile header values.  Messages come from strings (msg_parse) and
 * from real mail in t/data/filter/ (provenance in t/data/README); lists
 * come from conf_parse() on inline configuration, so the structs are the
 * daemon's own.
 *
 * Every result any test sees is also checked for the promise filter.h
 * makes about reasons (one line, non-empty, no address of anyone); one
 * test at the end counts the broken ones.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "decorate.h"
#include "filter.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

static struct conf *conf; /* domain lists.example.org */
static int bad_reasons;   /* results breaking the reason rules */
static int n_results;

#define PLAIN                                                                  \
	"From: Amira Haddad <amira@example.dk>\n"                              \
	"To: denmark@lists.example.org\n"                                      \
	"Subject: Networking dinner in Aarhus\n"                               \
	"Message-ID: <dinner-1@example.dk>\n"                                  \
	"Date: Tue, 3 Nov 2026 10:00:00 +0100\n"                               \
	"\n"                                                                   \
	"See you on Thursday.\n"

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

static struct msg *
parse_file(const char *name, size_t *size)
{
	const char *top = getenv("top_srcdir");
	struct buf path = BUF_INIT, b = BUF_INIT;
	struct msg *m = NULL;

	buf_printf(&path, "%s/t/data/filter/%s", top ? top : "..", name);
	if (read_file(buf_str(&path), &b) < 0)
		diag("cannot read %s", buf_str(&path));
	else
		m = parse(b.s ? b.s : "", b.len);
	if (size)
		*size = b.len;
	buf_free(&path);
	buf_free(&b);
	return m;
}

static void
check_reason(const struct filter_result *r)
{
	const unsigned char *s = (const unsigned char *)r->reason;

	n_results++;
	if (r->verdict == FILTER_PASS)
		return;
	if (!s[0] || strchr(r->reason, '@') ||
	    strnlen(r->reason, sizeof(r->reason)) >= sizeof(r->reason))
		goto bad;
	for (; *s; s++)
		if (*s < ' ' || *s == 127)
			goto bad;
	return;
bad:
	bad_reasons++;
	diag("bad reason: '%.255s'", r->reason);
}

/* A post with the given facts; fill in the rest by hand where needed. */
static struct filter_post
post(const char *list, const struct msg *m, const char *sender)
{
	struct filter_post p;

	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.list = conf_list(conf, list);
	p.msg = m;
	p.size = m ? m->raw_len : 0;
	p.sender = sender;
	return p;
}

static int
same_str(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/*
 * Run the whole pipeline (stage NULL) or one stage, and compare verdict,
 * deciding stage and notice in one test.  Returns the result for further
 * checks.
 */
static struct filter_result
expect(const char *what, const struct filter_post *p,
       const struct filter_stage *stage, enum filter_verdict v,
       const char *want_stage, const char *notice)
{
	struct filter_result r;
	enum filter_verdict got;

	memset(&r, 0, sizeof(r));
	if (stage)
		got = stage->run(p, &r);
	else
		got = filter_run(p, &r);
	check_reason(&r);
	if (!ok(got == v && (v == FILTER_PASS || r.verdict == v) &&
	            (v == FILTER_PASS || same_str(r.stage, want_stage)) &&
	            (v == FILTER_PASS || same_str(r.notice, notice)),
	        "%s", what))
		diag("got %s/%s/%s (%s), want %s/%s/%s",
		     filter_verdict_name(got), r.stage ? r.stage : "(null)",
		     r.notice ? r.notice : "(null)", r.reason,
		     filter_verdict_name(v), want_stage ? want_stage : "(null)",
		     notice ? notice : "(null)");
	return r;
}

/* A message with extra header lines in front of PLAIN. */
static struct msg *
with_headers(const char *hdrs)
{
	struct buf b = BUF_INIT;
	struct msg *m;

	buf_adds(&b, hdrs);
	buf_adds(&b, PLAIN);
	m = parse(buf_str(&b), b.len);
	buf_free(&b);
	return m;
}

/* ---- the configuration -------------------------------------------------- */

static const char *const posting_names[] = {"members", "moderated", "announce",
                                            "open"};
static const char *const nm_names[] = {"hold", "reject", "discard", "accept"};

static struct conf *
make_conf(void)
{
	struct buf t = BUF_INIT, err = BUF_INIT;
	struct conf *c;
	size_t i, j;

	buf_adds(&t, "domain = \"lists.example.org\"\n"
	             "home = \"/nonexistent\"\n"
	             "list denmark {\n"
	             "  description = \"Migrant entrepreneurs in Denmark\"\n"
	             "  posting = members\n"
	             "  nonmember = reject\n"
	             "  max_size = \"2M\"\n"
	             "  owners = { \"coordinator@example.dk\" }\n"
	             "  moderators = { \"mentor@example.dk\" }\n"
	             "}\n"
	             "list sweden { posting = open }\n"
	             "list tiny { posting = open\n max_size = \"1000\" }\n"
	             "list small { posting = open\n max_size = \"512k\" }\n");
	/* One list per cell of the policy table: "members-hold", ... */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			buf_printf(&t,
			           "list %s-%s { posting = %s\n"
			           "  nonmember = %s }\n",
			           posting_names[i], nm_names[j],
			           posting_names[i], nm_names[j]);
	c = conf_parse("filter.conf", buf_str(&t), &err);
	if (!c)
		diag("%s", buf_str(&err));
	buf_free(&t);
	buf_free(&err);
	return c;
}

/* ---- filter.c ----------------------------------------------------------- */

static void
test_pipeline(void)
{
	static const char *const names[] = {"loop", "auto", "size", "rules",
	                                    "policy"};
	struct filter_post p;
	struct filter_result r;
	struct msg *m = parse_s(PLAIN);
	size_t i;
	int good = 1;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!filter_stages[i] ||
		    !same_str(filter_stages[i]->name, names[i]))
			good = 0;
	ok(good && filter_stages[5] == NULL,
	   "stages run in the order loop, auto, size, rules, policy");
	ok(filter_stages[0] == &filter_loop &&
	       filter_stages[1] == &filter_auto &&
	       filter_stages[2] == &filter_size &&
	       filter_stages[3] == &filter_rules &&
	       filter_stages[4] == &filter_policy,
	   "filter_stages[] holds the exported stages");

	is_str(filter_verdict_name(FILTER_PASS), "pass", "name: pass");
	is_str(filter_verdict_name(FILTER_ACCEPT), "accept", "name: accept");
	is_str(filter_verdict_name(FILTER_HOLD), "hold", "name: hold");
	is_str(filter_verdict_name(FILTER_REJECT), "reject", "name: reject");
	is_str(filter_verdict_name(FILTER_DISCARD), "discard", "name: discard");
	is_str(filter_verdict_name(FILTER_OWNER), "owner", "name: owner");
	is_str(filter_verdict_name((enum filter_verdict)99), "unknown",
	       "name: out of range");

	/* The policy stage decides every post it sees, so the "pipeline"
	 * fall-through is unreachable with these stages: an open list is
	 * accepted by "policy". */
	p = post("sweden", m, "amira@example.dk");
	r = expect("open list: accepted by the policy stage", &p, NULL,
	           FILTER_ACCEPT, "policy", NULL);
	ok(r.notice == NULL, "accepted: no notice");

	/* A stage that passes leaves *r alone. */
	{
		struct filter_result before, after;
		int same = 1;

		memset(&before, 0x5a, sizeof(before));
		for (i = 0; filter_stages[i]; i++) {
			after = before;
			if (i == 3)
				break; /* policy always decides */
			if (filter_stages[i]->run(&p, &after) != FILTER_PASS ||
			    memcmp(&before, &after, sizeof(before)) != 0)
				same = 0;
		}
		ok(same, "loop, auto, size: PASS leaves the result alone");
	}

	/* No list or no message: held by the pipeline, not a crash. */
	p = post("denmark", m, "amira@example.dk");
	p.list = NULL;
	expect("no list: held", &p, NULL, FILTER_HOLD, "pipeline", NULL);
	p = post("denmark", NULL, "amira@example.dk");
	expect("no message: held", &p, NULL, FILTER_HOLD, "pipeline", NULL);
	msg_free(m);
}

/* Which stage wins when several would decide. */
static void
test_precedence(void)
{
	struct filter_post p;
	struct msg *m;

	/* loop beats auto, size and policy */
	m = with_headers("List-Id: <denmark.lists.example.org>\n"
	                 "Precedence: list\n"
	                 "Auto-Submitted: auto-generated\n");
	p = post("denmark", m, "");
	p.size = 50 << 20;
	p.is_moderator = 1;
	expect("loop beats auto, size and a moderator", &p, NULL, FILTER_HOLD,
	       "loop", NULL);
	msg_free(m);

	/* auto beats size and policy */
	m = with_headers("Auto-Submitted: auto-replied\n");
	p = post("denmark", m, "amira@example.dk");
	p.size = 50 << 20;
	p.is_member = 1;
	expect("auto beats size", &p, NULL, FILTER_OWNER, "auto", NULL);
	p.is_moderator = 1;
	p.approved = 1;
	expect("an approval beats auto", &p, NULL, FILTER_ACCEPT, "moderator",
	       NULL);
	msg_free(m);

	/* size beats policy, even for moderators */
	m = parse_s(PLAIN);
	p = post("denmark", m, "mentor@example.dk");
	p.size = 3 << 20;
	p.is_moderator = 1;
	expect("size beats a moderator", &p, NULL, FILTER_REJECT, "size",
	       "too_big.txt");
	p.is_moderator = 0;
	expect("size beats nonmember = reject", &p, NULL, FILTER_REJECT, "size",
	       "too_big.txt");
	msg_free(m);
}

/* ---- loop --------------------------------------------------------------- */

struct hcase {
	const char *hdrs;
	enum filter_verdict v;
	const char *what;
};

static void
run_cases(const char *list, const struct filter_stage *st, const char *name,
          const char *notice, enum filter_verdict hit, const struct hcase *c,
          size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct msg *m = with_headers(c[i].hdrs);
		struct filter_post p = post(list, m, "amira@example.dk");
		struct buf what = BUF_INIT;

		buf_printf(&what, "%s: %s", name, c[i].what);
		if (!m)
			ok(0, "%s (parse)", buf_str(&what));
		else
			expect(buf_str(&what), &p, st, c[i].v, name,
			       c[i].v == hit ? notice : NULL);
		buf_free(&what);
		msg_free(m);
	}
}

static const struct hcase loop_cases[] = {
    {"List-Id: <denmark.lists.example.org>\n", FILTER_HOLD, "our bare List-Id"},
    {"List-Id: Migrant entrepreneurs in Denmark "
     "<denmark.lists.example.org>\n",
     FILTER_HOLD, "our List-Id with description"},
    {"List-Id: \"Migrant\n entrepreneurs in\n\tDenmark\"\n "
     "<denmark.lists.example.org>\n",
     FILTER_HOLD, "our List-Id folded over three lines"},
    {"List-Id: Migrant entrepreneurs in Denmark\r\n"
     " <denmark.lists.example.org>\n",
     FILTER_HOLD, "folded with a stray CR"},
    {"LIST-ID: <Denmark.LISTS.Example.Org>\n", FILTER_HOLD,
     "upper-case name and id"},
    {"list-id:<denmark.lists.example.org>\n", FILTER_HOLD,
     "lower-case name, no space"},
    {"List-Id: =?utf-8?q?Migranter_i_Danmark_=C3=A6=C3=B8?= "
     "<denmark.lists.example.org>\n",
     FILTER_HOLD, "encoded-word description"},
    {"List-Id: < denmark.lists.example.org >\n", FILTER_HOLD,
     "space inside the brackets"},
    {"List-Id: denmark.lists.example.org\n", FILTER_HOLD,
     "id without brackets"},
    {"List-Id: <openbmc.lists.ozlabs.org>\n"
     "List-Id: <denmark.lists.example.org>\n",
     FILTER_HOLD, "ours is the second of two List-Id"},
    {"X-Loop: denmark@lists.example.org\n", FILTER_HOLD, "our X-Loop"},
    {"x-LOOP:   DENMARK@Lists.Example.ORG  \n", FILTER_HOLD,
     "X-Loop mixed case with space"},
    {"X-Loop: <denmark@lists.example.org>\n", FILTER_HOLD,
     "X-Loop in angle brackets"},
    {"X-Loop: procmail@example.net\n"
     "X-Loop: sweden@lists.example.org\n"
     "X-Loop:\n denmark@lists.example.org\n",
     FILTER_HOLD, "ours is the third X-Loop, folded"},
    {"X-Loop : denmark@lists.example.org\n", FILTER_HOLD,
     "X-Loop with space before the colon"},
    {"List-Id: <sweden.lists.example.org>\n", FILTER_PASS,
     "another list's List-Id"},
    {"List-Id: Sweden <sweden.lists.example.org>\n"
     "X-Loop: sweden@lists.example.org\n",
     FILTER_PASS, "another list's List-Id and X-Loop"},
    {"List-Id: <denmark.lists.example.org.evil.example>\n", FILTER_PASS,
     "our id as a prefix"},
    {"List-Id: <xdenmark.lists.example.org>\n", FILTER_PASS,
     "our id as a suffix"},
    {"List-Id: <denmark.lists.example.or>\n", FILTER_PASS, "our id shortened"},
    {"List-Id: <denmark-lists.example.org>\n", FILTER_PASS,
     "'-' where the '.' is"},
    {"List-Id: <denmark.lists.example.org> <other.example.net>\n", FILTER_PASS,
     "ours before another id: the last <> counts"},
    {"List-Id: <>\n", FILTER_PASS, "empty brackets"},
    {"List-Id:\n", FILTER_PASS, "empty List-Id"},
    {"List-Id: <denmark.lists.example.org\n", FILTER_PASS, "unclosed bracket"},
    {"X-Loop: denmark@lists.example.org.evil.example\n", FILTER_PASS,
     "X-Loop: our address as a prefix"},
    {"X-Loop: denmark-owner@lists.example.org\n", FILTER_PASS,
     "X-Loop: the owner address"},
    {"X-Loop: denmark\n", FILTER_PASS, "X-Loop: the name alone"},
    {"X-Loop: denmark.lists.example.org\n", FILTER_PASS, "X-Loop: the list id"},
    {"List-Id: denmark@lists.example.org\n", FILTER_PASS,
     "List-Id: the address"},
    {"X-Original-List-Id: <denmark.lists.example.org>\n"
     "X-Loop-Detect: denmark@lists.example.org\n",
     FILTER_PASS, "look-alike header names"},
    {"", FILTER_PASS, "no list headers"},
};

static void
test_loop(void)
{
	struct msg *m;
	struct filter_post p;
	struct filter_result r;

	run_cases("denmark", &filter_loop, "loop", NULL, FILTER_HOLD,
	          loop_cases, ARRAY_SIZE(loop_cases));

	/* The reason, exactly, and through the pipeline. */
	m = with_headers("X-Loop: denmark@lists.example.org\n");
	p = post("denmark", m, "amira@example.dk");
	p.is_member = 1;
	r = expect("loop: through the pipeline", &p, NULL, FILTER_HOLD, "loop",
	           NULL);
	is_str(r.reason,
	       "mail loop: the post already carries this list's "
	       "List-Id/X-Loop",
	       "loop: reason");
	msg_free(m);

	/* Our id in the body is not a header. */
	m = parse_s("From: a@example.dk\n\nList-Id: "
	            "<denmark.lists.example.org>\nX-Loop: "
	            "denmark@lists.example.org\n");
	p = post("denmark", m, "a@example.dk");
	expect("loop: List-Id/X-Loop in the body pass", &p, &filter_loop,
	       FILTER_PASS, "loop", NULL);
	msg_free(m);

	/* The list domain from the address when the conf is missing. */
	m = with_headers("List-Id: <denmark.lists.example.org>\n");
	p = post("denmark", m, "amira@example.dk");
	p.conf = NULL;
	expect("loop: no conf: domain taken from the list address", &p,
	       &filter_loop, FILTER_HOLD, "loop", NULL);
	msg_free(m);
}

/* What mlmd itself writes comes back: the real decorate() output. */
static void
test_loop_decorated(void)
{
	static const char *const lists[] = {"denmark", "sweden"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		struct decorate_in in;
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct msg *m;
		struct filter_post p;

		memset(&in, 0, sizeof(in));
		in.raw = PLAIN;
		in.len = strlen(PLAIN);
		in.list = conf_list(conf, lists[i]);
		in.domain = conf->domain;
		in.separator = conf->separator;
		in.base_url = "https://lists.example.org";
		in.footer = "--\nMigrant entrepreneurs\n";
		if (!ok(decorate(&in, &out, &err) == 0, "decorate %s copy",
		        lists[i])) {
			diag("%s", buf_str(&err));
			continue;
		}
		m = parse(buf_str(&out), out.len);
		p = post("denmark", m, "amira@example.dk");
		p.is_member = 1;
		if (i == 0) {
			expect("our own decorated copy is a loop", &p, NULL,
			       FILTER_HOLD, "loop", NULL);
		} else {
			expect("sweden's copy is no loop for denmark", &p,
			       &filter_loop, FILTER_PASS, "loop", NULL);
			/* ...but it carries Precedence: list */
			expect("sweden's copy to denmark goes to the owners",
			       &p, NULL, FILTER_OWNER, "auto", NULL);
		}
		msg_free(m);
		buf_free(&out);
		buf_free(&err);
	}
}

/* A real post from another list manager (Mailman, lists.ozlabs.org). */
static void
test_loop_real(void)
{
	struct buf err = BUF_INIT;
	struct conf *oz;
	struct msg *m = parse_file("openbmc-00048.eml", NULL);
	struct filter_post p;

	if (!ok(m != NULL, "openbmc-00048.eml parses")) {
		skip(3, "no message");
		return;
	}
	p = post("denmark", m, "openbmc-bounces@lists.ozlabs.org");
	p.is_member = 1;
	expect("real: openbmc List-Id passes denmark's loop stage", &p,
	       &filter_loop, FILTER_PASS, "loop", NULL);
	expect("real: its Precedence: list sends it to the owners", &p, NULL,
	       FILTER_OWNER, "auto", NULL);

	oz = conf_parse("oz.conf",
	                "domain = \"lists.ozlabs.org\"\n"
	                "home = \"/nonexistent\"\n"
	                "list openbmc { posting = open }\n",
	                &err);
	if (!oz) {
		diag("%s", buf_str(&err));
		ok(0, "real: openbmc's own copy is a loop for openbmc");
	} else {
		p.conf = oz;
		p.list = conf_list(oz, "openbmc");
		expect("real: openbmc's own copy is a loop for openbmc", &p,
		       NULL, FILTER_HOLD, "loop", NULL);
		conf_free(oz);
	}
	buf_free(&err);
	msg_free(m);
}

/* ---- auto --------------------------------------------------------------- */

static const struct hcase auto_cases[] = {
    {"Auto-Submitted: auto-replied\n", FILTER_OWNER, "auto-replied"},
    {"Auto-Submitted: auto-generated\n", FILTER_OWNER, "auto-generated"},
    {"Auto-Submitted: AUTO-NOTIFIED\n", FILTER_OWNER, "upper case"},
    {"auto-submitted: auto-replied; owner-email=\"x@example.net\"\n",
     FILTER_OWNER, "with a parameter"},
    {"Auto-Submitted: (vacation) auto-replied\n", FILTER_OWNER,
     "comment first"},
    {"Auto-Submitted:\n", FILTER_OWNER, "empty value"},
    {"Auto-Submitted: nope\n", FILTER_OWNER, "'nope' is not 'no'"},
    {"Auto-Submitted: (no\n", FILTER_OWNER, "unclosed comment"},
    {"Auto-Submitted: no\n", FILTER_PASS, "no"},
    {"Auto-Submitted: No\n", FILTER_PASS, "No"},
    {"Auto-Submitted:   NO  \n", FILTER_PASS, "NO with space"},
    {"Auto-Submitted: no (a person wrote this)\n", FILTER_PASS,
     "no with a comment"},
    {"Auto-Submitted: (really (nested)) no\n", FILTER_PASS,
     "nested comment, then no"},
    {"Auto-Submitted: no; reason=x\n", FILTER_PASS, "no with a parameter"},
    {"Auto-Submitted: no\nAuto-Submitted: auto-replied\n", FILTER_OWNER,
     "no, then a second field that is not"},
    {"Precedence: bulk\n", FILTER_OWNER, "Precedence: bulk"},
    {"Precedence: junk\n", FILTER_OWNER, "Precedence: junk"},
    {"Precedence: list\n", FILTER_OWNER, "Precedence: list"},
    {"PRECEDENCE:   BULK  \n", FILTER_OWNER, "Precedence: BULK with space"},
    {"Precedence: first-class\nPrecedence: junk\n", FILTER_OWNER,
     "junk in a second Precedence"},
    {"Precedence: normal\n", FILTER_PASS, "Precedence: normal"},
    {"Precedence: bulky\n", FILTER_PASS, "Precedence: bulky"},
    {"Precedence: special-delivery\n", FILTER_PASS,
     "Precedence: special-delivery"},
    {"X-Auto-Submitted: auto-replied\nX-Precedence: bulk\n", FILTER_PASS,
     "look-alike header names"},
};

struct scase {
	const char *sender; /* envelope */
	const char *from;   /* From: line or NULL for none */
	enum filter_verdict v;
	const char *reason_has;
	const char *what;
};

static const struct scase sender_cases[] = {
    {"", "a@example.dk", FILTER_OWNER, "null envelope sender",
     "null envelope sender"},
    {"<>", "a@example.dk", FILTER_OWNER, "null envelope sender",
     "envelope sender written <>"},
    {"MAILER-DAEMON@mx.example.net", "a@example.dk", FILTER_OWNER,
     "envelope sender MAILER-DAEMON", "envelope sender MAILER-DAEMON"},
    {"<Mailer-Daemon@mx.example.net>", "a@example.dk", FILTER_OWNER,
     "envelope sender MAILER-DAEMON", "envelope sender <Mailer-Daemon@>"},
    {"mailer-daemon", "a@example.dk", FILTER_OWNER,
     "envelope sender MAILER-DAEMON", "envelope sender without domain"},
    {"a@example.dk", "MAILER-DAEMON@mx.example.net", FILTER_OWNER,
     "From: MAILER-DAEMON", "From: MAILER-DAEMON"},
    {"a@example.dk", "Mail Delivery System <Mailer-Daemon@mx.example.net>",
     FILTER_OWNER, "From: MAILER-DAEMON", "From: with a display name"},
    {NULL, "a@example.dk", FILTER_PASS, NULL, "unknown envelope sender (NULL)"},
    {"mailer-daemon-fan@example.net", "a@example.dk", FILTER_PASS, NULL,
     "local part mailer-daemon-fan"},
    {"a@mailer-daemon.example.net", "a@example.dk", FILTER_PASS, NULL,
     "mailer-daemon as the domain"},
    {"a@example.dk", "\"MAILER-DAEMON\" <a@example.dk>", FILTER_PASS, NULL,
     "MAILER-DAEMON only as a display name"},
    {"a@example.dk", NULL, FILTER_PASS, NULL, "no From: at all"},
    {"a@example.dk", "", FILTER_PASS, NULL, "empty From:"},
    {"a@example.dk", "<>", FILTER_PASS, NULL, "From: <>"},
};

static void
test_auto(void)
{
	size_t i;

	run_cases("denmark", &filter_auto, "auto", NULL, FILTER_OWNER,
	          auto_cases, ARRAY_SIZE(auto_cases));

	for (i = 0; i < ARRAY_SIZE(sender_cases); i++) {
		const struct scase *c = &sender_cases[i];
		struct buf t = BUF_INIT, what = BUF_INIT;
		struct msg *m;
		struct filter_post p;
		struct filter_result r;

		if (c->from)
			buf_printf(&t, "From: %s\n", c->from);
		buf_adds(&t, "Subject: x\n\nbody\n");
		m = parse(buf_str(&t), t.len);
		p = post("denmark", m, c->sender);
		buf_printf(&what, "auto: %s", c->what);
		r = expect(buf_str(&what), &p, &filter_auto, c->v, "auto",
		           NULL);
		if (c->reason_has && !strstr(r.reason, c->reason_has)) {
			diag("reason '%s' lacks '%s'", r.reason, c->reason_has);
			bad_reasons++;
		}
		buf_free(&t);
		buf_free(&what);
		msg_free(m);
	}
}

static void
test_auto_reasons(void)
{
	struct msg *m;
	struct filter_post p;
	struct filter_result r;

	m = with_headers("Auto-Submitted: auto-replied\n");
	p = post("denmark", m, "amira@example.dk");
	r = expect("auto: reason run", &p, &filter_auto, FILTER_OWNER, "auto",
	           NULL);
	is_str(r.reason,
	       "automatic mail (Auto-Submitted: auto-replied) goes to the "
	       "owners",
	       "auto: reason names the keyword");
	msg_free(m);

	m = with_headers("Precedence: JUNK\n");
	p = post("denmark", m, "amira@example.dk");
	r = expect("auto: reason run (Precedence)", &p, &filter_auto,
	           FILTER_OWNER, "auto", NULL);
	is_str(r.reason,
	       "bulk or list mail (Precedence: junk) goes to the owners",
	       "auto: Precedence reason");
	msg_free(m);

	/* A keyword with an address in it is not quoted. */
	m = with_headers("Auto-Submitted: x@evil.example\n");
	p = post("denmark", m, "amira@example.dk");
	r = expect("auto: hostile keyword", &p, &filter_auto, FILTER_OWNER,
	           "auto", NULL);
	is_str(r.reason, "automatic mail (Auto-Submitted) goes to the owners",
	       "auto: a hostile keyword is not quoted");
	msg_free(m);

	/* Auto-Submitted: no lets a member's post through the pipeline. */
	m = with_headers("Auto-Submitted: no\n");
	p = post("denmark", m, "amira@example.dk");
	p.is_member = 1;
	expect("auto: Auto-Submitted: no is distributed", &p, NULL,
	       FILTER_ACCEPT, "policy", NULL);
	msg_free(m);
}

/* Real robots' mail from the corpus. */
static void
test_auto_real(void)
{
	static const struct {
		const char *file, *sender, *reason_has, *what;
	} c[] = {
	    {"vacation-rfc3834-01.eml", "nyaan@neko.example.org",
	     "Auto-Submitted: auto-replied", "real vacation reply"},
	    {"autoreply-bulk-rfc3834-06.eml", "noreply@example.com",
	     "Auto-Submitted: auto-replied",
	     "real auto-reply with Precedence: bulk"},
	    {"dsn-amazonses-14.eml", "", "null envelope sender",
	     "real DSN with the null sender"},
	    {"dsn-amazonses-14.eml", "bounce@amazonses.com",
	     "From: MAILER-DAEMON", "real DSN, From: MAILER-DAEMON"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		size_t size;
		struct msg *m = parse_file(c[i].file, &size);
		struct filter_post p;
		struct filter_result r;

		if (!m) {
			ok(0, "%s: parse", c[i].file);
			continue;
		}
		p = post("denmark", m, c[i].sender);
		p.size = size;
		p.is_member = 1;
		r = expect(c[i].what, &p, NULL, FILTER_OWNER, "auto", NULL);
		if (!strstr(r.reason, c[i].reason_has)) {
			diag("reason '%s' lacks '%s'", r.reason,
			     c[i].reason_has);
			bad_reasons++;
		}
		msg_free(m);
	}
}

/* ---- size --------------------------------------------------------------- */

static void
test_size(void)
{
	static const struct {
		const char *list;
		size_t size;
		enum filter_verdict v;
		const char *reason;
	} c[] = {
	    {"denmark", 3 * 1048576 + 104857, FILTER_REJECT,
	     "the message is 3.1 MB, the limit of this list is 2 MB"},
	    {"denmark", 2 * 1048576 + 1, FILTER_REJECT,
	     "the message is 2.1 MB, the limit of this list is 2 MB"},
	    {"denmark", 2 * 1048576, FILTER_PASS, NULL},
	    {"denmark", 0, FILTER_PASS, NULL},
	    {"tiny", 1001, FILTER_REJECT,
	     "the message is 1001 bytes, the limit of this list is 1000 "
	     "bytes"},
	    {"tiny", 1000, FILTER_PASS, NULL},
	    {"tiny", 1536, FILTER_REJECT,
	     "the message is 1.5 kB, the limit of this list is 1000 bytes"},
	    {"small", 600000, FILTER_REJECT,
	     "the message is 586 kB, the limit of this list is 512 kB"},
	    {"small", (size_t)5 << 30, FILTER_REJECT,
	     "the message is 5 GB, the limit of this list is 512 kB"},
	};
	struct msg *m = parse_s(PLAIN);
	struct filter_post p;
	struct filter_result r;
	struct list_conf nolimit;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct buf what = BUF_INIT;

		p = post(c[i].list, m, "amira@example.dk");
		p.size = c[i].size;
		buf_printf(&what, "size: %s, %zu bytes", c[i].list, c[i].size);
		r = expect(buf_str(&what), &p, &filter_size, c[i].v, "size",
		           "too_big.txt");
		if (c[i].reason)
			is_str(r.reason, c[i].reason, "size: reason for %zu",
			       c[i].size);
		buf_free(&what);
	}

	/* The largest size there is. */
	p = post("denmark", m, "amira@example.dk");
	p.size = SIZE_MAX;
	r = expect("size: SIZE_MAX", &p, &filter_size, FILTER_REJECT, "size",
	           "too_big.txt");
	ok(strstr(r.reason, "TB,") != NULL, "size: SIZE_MAX shown in TB (%s)",
	   r.reason);

	/* max_size 0: no limit (conf.c never gives 0, but the struct
	 * allows it). */
	nolimit = *conf_list(conf, "denmark");
	nolimit.max_size = 0;
	p.list = &nolimit;
	expect("size: max_size 0 means no limit", &p, &filter_size, FILTER_PASS,
	       "size", NULL);
	msg_free(m);
}

/* ---- policy ------------------------------------------------------------- */

enum who { NONMEMBER, MEMBER, MODERATOR, MODERATED, N_WHO };
static const char *const who_names[] = {"non-member", "member", "moderator",
                                        "moderated member"};

struct want {
	enum filter_verdict v;
	const char *notice;
};

/* What the nonmember action gives. */
static struct want
nm_want(size_t nm)
{
	static const struct want w[] = {
	    {FILTER_HOLD, "held.txt"},
	    {FILTER_REJECT, "rejected.txt"},
	    {FILTER_DISCARD, NULL},
	    {FILTER_ACCEPT, NULL},
	};
	return w[nm];
}

static struct want
table(size_t posting, size_t nm, enum who who)
{
	static const struct want accept = {FILTER_ACCEPT, NULL};
	static const struct want held = {FILTER_HOLD, "held.txt"};

	if (who == MODERATOR)
		return accept;
	switch (posting) {
	case 0: /* members */
		return who == MEMBER      ? accept
		       : who == MODERATED ? held
		                          : nm_want(nm);
	case 1: /* moderated */
		return held;
	case 2: /* announce */
		return nm_want(nm);
	default: /* open */
		return accept;
	}
}

static void
facts(struct filter_post *p, enum who who)
{
	p->is_member = who == MEMBER || who == MODERATED;
	p->is_moderated = who == MODERATED;
	p->is_moderator = who == MODERATOR;
}

static void
test_policy_table(void)
{
	struct msg *m = parse_s(PLAIN);
	size_t i, j;
	int w;

	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++) {
			struct buf name = BUF_INIT;
			int approved_ok = 1;

			buf_printf(&name, "%s-%s", posting_names[i],
			           nm_names[j]);
			if (!conf_list(conf, buf_str(&name))) {
				ok(0, "list %s exists", buf_str(&name));
				buf_free(&name);
				continue;
			}
			for (w = 0; w < N_WHO; w++) {
				struct filter_post p;
				struct want want = table(i, j, (enum who)w);
				struct buf what = BUF_INIT;

				p = post(buf_str(&name), m, "a@example.dk");
				facts(&p, (enum who)w);
				buf_printf(
				    &what,
				    "policy: posting=%s nonmember=%s, %s "
				    "-> %s",
				    posting_names[i], nm_names[j], who_names[w],
				    filter_verdict_name(want.v));
				expect(buf_str(&what), &p, NULL, want.v,
				       "policy", want.notice);
				buf_free(&what);

				/* An approved post is accepted, whoever. */
				{
					struct filter_result r;

					p.approved = 1;
					memset(&r, 0, sizeof(r));
					if (filter_run(&p, &r) !=
					        FILTER_ACCEPT ||
					    !same_str(r.stage, "moderator"))
						approved_ok = 0;
					check_reason(&r);
				}
			}
			ok(approved_ok, "policy: %s: approved posts accepted",
			   buf_str(&name));
			buf_free(&name);
		}
	msg_free(m);
}

static void
test_policy_details(void)
{
	struct msg *m = parse_s(PLAIN);
	struct filter_post p;
	struct filter_result r;

	/* Reasons the sender reads. */
	p = post("members-reject", m, "a@example.dk");
	r = expect("policy: non-member, reject", &p, &filter_policy,
	           FILTER_REJECT, "policy", "rejected.txt");
	is_str(r.reason, "only members of members-reject may post",
	       "policy: reject reason names the list");
	p = post("denmark", m, "a@example.dk");
	r = expect("policy: denmark non-member", &p, &filter_policy,
	           FILTER_REJECT, "policy", "rejected.txt");
	is_str(r.reason, "only members of denmark may post",
	       "policy: reject reason for denmark");
	p = post("moderated-accept", m, "a@example.dk");
	p.is_member = 1;
	r = expect("policy: moderated list", &p, &filter_policy, FILTER_HOLD,
	           "policy", "held.txt");
	is_str(r.reason, "posts to this list are reviewed by a moderator",
	       "policy: moderated list reason");
	p = post("members-accept", m, "a@example.dk");
	p.is_member = p.is_moderated = 1;
	r = expect("policy: moderated member", &p, &filter_policy, FILTER_HOLD,
	           "policy", "held.txt");
	is_str(r.reason, "your posts are reviewed by a moderator",
	       "policy: moderated member reason");
	p = post("announce-reject", m, "a@example.dk");
	p.is_member = 1;
	r = expect("policy: member on announce, reject", &p, &filter_policy,
	           FILTER_REJECT, "policy", "rejected.txt");
	ok(strstr(r.reason, "moderators of announce-reject") != NULL,
	   "policy: announce reject reason says who may post (%s)", r.reason);

	/* accept_senders count as members on members lists... */
	p = post("members-reject", m, "a@example.dk");
	p.is_accepted = 1;
	expect("policy: accepted sender on members list", &p, &filter_policy,
	       FILTER_ACCEPT, "policy", NULL);
	/* ...but not as moderators on announce lists */
	p = post("announce-reject", m, "a@example.dk");
	p.is_accepted = 1;
	expect("policy: accepted sender on announce list: nonmember action", &p,
	       &filter_policy, FILTER_REJECT, "policy", "rejected.txt");
	/* moderation wins over accept_senders */
	p = post("members-accept", m, "a@example.dk");
	p.is_member = p.is_accepted = p.is_moderated = 1;
	expect("policy: moderated member also accepted: held", &p,
	       &filter_policy, FILTER_HOLD, "policy", "held.txt");

	/* Out-of-range enums hold rather than accept. */
	{
		struct list_conf l = *conf_list(conf, "denmark");

		p = post("denmark", m, "a@example.dk");
		p.list = &l;
		l.posting = (enum posting)42;
		expect("policy: unknown posting policy holds", &p,
		       &filter_policy, FILTER_HOLD, "policy", "held.txt");
		l.posting = POST_MEMBERS;
		l.nonmember = (enum nonmember)42;
		expect("policy: unknown nonmember action holds", &p,
		       &filter_policy, FILTER_HOLD, "policy", "held.txt");
	}
	msg_free(m);
}

/* ---- hostile input ------------------------------------------------------ */

static void
test_hostile(void)
{
	struct buf t = BUF_INIT;
	struct msg *m;
	struct filter_post p;
	struct filter_result r;
	size_t i;

	/* A 60 kB List-Id of someone else, then one ending in ours. */
	buf_adds(&t, "List-Id: ");
	for (i = 0; i < 5000; i++)
		buf_adds(&t, "<denmark.l> ");
	buf_adds(&t, "<other.example>\nFrom: a@example.dk\n\nx\n");
	m = parse(buf_str(&t), t.len);
	p = post("denmark", m, "a@example.dk");
	p.is_member = 1;
	ok(m != NULL, "hostile: 60 kB List-Id parses");
	if (m)
		expect("hostile: long foreign List-Id passes", &p, NULL,
		       FILTER_ACCEPT, "policy", NULL);
	else
		skip(1, "header over the parse limit");
	msg_free(m);

	buf_reset(&t);
	buf_adds(&t, "List-Id: ");
	for (i = 0; i < 4000; i++)
		buf_adds(&t, "Migrant ");
	buf_adds(&t, "<denmark.lists.example.org>\n\nx\n");
	m = parse(buf_str(&t), t.len);
	p = post("denmark", m, "a@example.dk");
	if (!m)
		ok(0, "hostile: long List-Id parses");
	else
		expect("hostile: 32 kB description, then our id", &p, NULL,
		       FILTER_HOLD, "loop", NULL);
	msg_free(m);

	/* 900 foreign X-Loop fields, then ours. */
	buf_reset(&t);
	for (i = 0; i < 900; i++)
		buf_printf(&t, "X-Loop: robot%zu@example.net\n", i);
	buf_adds(&t, "X-Loop: denmark@lists.example.org\n\nx\n");
	m = parse(buf_str(&t), t.len);
	p = post("denmark", m, "a@example.dk");
	if (!m)
		ok(0, "hostile: 901 X-Loop fields parse");
	else
		expect("hostile: ours is the 901st X-Loop", &p, NULL,
		       FILTER_HOLD, "loop", NULL);
	msg_free(m);

	/* A long Auto-Submitted keyword is not quoted into the reason. */
	buf_reset(&t);
	buf_adds(&t, "Auto-Submitted: ");
	for (i = 0; i < 2000; i++)
		buf_addc(&t, 'a' + (int)(i % 26));
	buf_adds(&t, "\nFrom: a@example.dk\n\nx\n");
	m = parse(buf_str(&t), t.len);
	p = post("denmark", m, "a@example.dk");
	r = expect("hostile: 2000-byte Auto-Submitted keyword", &p, NULL,
	           FILTER_OWNER, "auto", NULL);
	ok(strlen(r.reason) < 80, "hostile: the reason stays short (%s)",
	   r.reason);
	msg_free(m);

	/* Binary (NUL-free) bytes in every header the stages read. */
	buf_reset(&t);
	{
		static const char *const names[] = {"List-Id",    "X-Loop",
		                                    "Precedence", "From",
		                                    "Sender",     "Subject"};
		size_t k;

		for (k = 0; k < ARRAY_SIZE(names); k++) {
			buf_printf(&t, "%s: ", names[k]);
			for (i = 1; i < 256; i++)
				if (i != '\n' && i != '\r')
					buf_addc(&t, (int)i);
			buf_adds(&t, "\n");
		}
		buf_adds(&t, "\n");
		for (i = 1; i < 256; i++)
			buf_addc(&t, (int)i);
	}
	m = parse(buf_str(&t), t.len);
	p = post("denmark", m, "\x01\xff@\x80");
	if (!m)
		ok(0, "hostile: binary headers parse");
	else
		expect("hostile: binary headers, a non-member", &p, NULL,
		       FILTER_REJECT, "policy", "rejected.txt");
	msg_free(m);

	/* ...and an Auto-Submitted of binary bytes. */
	buf_reset(&t);
	buf_adds(&t, "Auto-Submitted: ");
	for (i = 1; i < 256; i++)
		if (i != '\n' && i != '\r' && i != ' ' && i != '\t')
			buf_addc(&t, (int)i);
	buf_adds(&t, "\n\nx\n");
	m = parse(buf_str(&t), t.len);
	p = post("denmark", m, "a@example.dk");
	if (!m)
		ok(0, "hostile: binary Auto-Submitted parses");
	else
		expect("hostile: binary Auto-Submitted", &p, NULL, FILTER_OWNER,
		       "auto", NULL);
	msg_free(m);

	/* No header at all; no bytes at all. */
	m = parse_s("\njust a body\n");
	p = post("denmark", m, "a@example.dk");
	if (!m)
		ok(0, "hostile: body only parses");
	else
		expect("hostile: no header fields, non-member", &p, NULL,
		       FILTER_REJECT, "policy", "rejected.txt");
	ok(!m || m->from.addr != NULL, "hostile: from.addr is never NULL");
	msg_free(m);
	m = parse("", 0);
	p = post("open-hold", m, "");
	if (!m)
		ok(0, "hostile: empty message parses");
	else
		expect("hostile: empty message, null sender", &p, NULL,
		       FILTER_OWNER, "auto", NULL);
	msg_free(m);
	buf_free(&t);
}

int
main(void)
{
	conf = make_conf();
	if (!ok(conf != NULL, "inline configuration parses"))
		return done_testing();

	test_pipeline();
	test_precedence();
	test_loop();
	test_loop_decorated();
	test_loop_real();
	test_auto();
	test_auto_reasons();
	test_auto_real();
	test_size();
	test_policy_table();
	test_policy_details();
	test_hostile();

	ok(bad_reasons == 0,
	   "all %d results: reasons are one non-empty line without '@'",
	   n_results);
	conf_free(conf);
	return done_testing();
}
