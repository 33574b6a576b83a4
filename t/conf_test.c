/*
 * conf_test.c - mlmd.conf parsing and validation (mlmd/conf.c): a table of
 * broken files, each with the line and a piece of the message it must
 * give; good files with their parsed values and defaults; the round trip
 * through conf_print(); conf_load() on real files.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "util.h"
#include "tap.h"

/* Two lines of required globals: cases below start at line 3. */
#define G "domain = \"lists.example.org\"\nhome = \"/var/lib/mlmd\"\n"

static const struct bad_case {
	const char *text;
	int line;
	const char *msg;
} bad_cases[] = {
    {G "bogus = 1\n", 3, "no such option 'bogus'"},
    {G "list a {\n posting = bogus\n}\n", 4, "posting: 'bogus' is not one"},
    {G "list a {\n nonmember = maybe\n}\n", 4, "nonmember: 'maybe'"},
    {G "list a {\n archive = secret\n}\n", 4, "archive: 'secret'"},
    {G "list a {\n digest = hourly\n}\n", 4, "digest: 'hourly'"},
    {G "list a {\n reply_to = everyone\n}\n", 4, "reply_to: 'everyone'"},
    {G "list a {\n dmarc = reject\n}\n", 4, "dmarc: 'reject'"},
    {G "list a {\n language = \"de\"\n}\n", 4, "language: 'de'"},
    {G "list a {\n\n max_size = \"big\"\n}\n", 5,
     "max_size: 'big' is not a size"},
    {G "list a {\n max_size = \"0\"\n}\n", 4, "is not a size"},
    {G "max_message_size = \"12X\"\n", 3, "max_message_size: '12X'"},
    {G "list a {\n owners = { \"ok@example.org\",\n \"not-an-address\" }\n}\n",
     5, "owners: 'not-an-address' is not an e-mail address"},
    {G "list a {\n moderators = { \"a b@c.org\" }\n}\n", 4,
     "moderators: 'a b@c.org'"},
    {G "list a { }\nlist a { }\n", 4, "duplicate title 'a'"},
    {G "list Abc { }\nlist abc { }\n", 4,
     "list abc is defined twice (first at line 3)"},
    {G "list all {\n include = { \"nope\" }\n}\n", 4, "no list called 'nope'"},
    {G "list a {\n include = { \"b\" }\n}\nlist b {\n include = { \"a\" }\n}\n",
     7, "include cycle a -> b -> a"},
    {G "list a { include = { \"a\" } }\n", 3, "include cycle a -> a"},
    {G "list c { include = { \"a\" } }\nlist a { include = { \"b\" } }\n"
       "list b { include = { \"c\" } }\n",
     5, "include cycle c -> a -> b -> c"},
    {G "list \"x@other.org\" { }\n", 3, "contains '@'"},
    {G "list a {\n address = \"a@other.org\"\n}\n", 4,
     "address: 'a@other.org' is outside domain lists.example.org"},
    {G "list a {\n address = \"b@lists.example.org\"\n}\n", 4,
     "differs from the list's address a@lists.example.org"},
    {"home = \"/x\"\n", 0, "domain is required"},
    {"domain = \"example.org\"\n", 0, "home is required"},
    {"domain = \"not a domain!\"\nhome = \"/x\"\n", 1, "is not a mail domain"},
    {G "relay = \"ftp://x\"\n", 3,
     "must start with smtp://, smtps:// or maildir:"},
    {G "relay = \"smtp://\"\n", 3, "has no host"},
    {G "lmtp = \"example.com:24\"\n", 3, "neither unix:/PATH nor HOST:PORT"},
    {G "lmtp = \"unix:/run/l.sock, 127.0.0.1:0\"\n", 3, "'127.0.0.1:0'"},
    {G "http = \"localhost\"\n", 3, "http: 'localhost' is not HOST:PORT"},
    {G "base_url = \"ftp://x\"\n", 3, "not an http:// or https:// URL"},
    {G "user = \"ro ot\"\n", 3, "user: 'ro ot' is not a user name"},
    {G "separator = \"++\"\n", 3, "separator: '++' must be one of"},
    {G "separator = \"-\"\nlist a-b { }\n", 4, "contains the separator"},
    {G "list a-request { }\n", 3, "ends in -request or -owner"},
    {G "list a-owner { }\n", 3, "ends in -request or -owner"},
    {G "list \"a/b\" { }\n", 3, "may contain only lower-case letters"},
    {G "list a {\n colour = red\n}\n", 4, "no such option 'colour'"},
    {"# one\n// two\n/* three\n four */\n" G "bogus = 1\n", 7,
     "no such option 'bogus'"},
    {G "list a {\n owners = { \"a@b.org\", # the boss\n \"bad\" }\n}\n", 5,
     "owners: 'bad'"},
    {G "list a {\n description = \"abc\n}\n", 4, "unterminated string"},
    {G "list a {\n description = \"a\\\nb\"\n posting = x\n}\n", 6,
     "posting: 'x'"},
    {G "list a {\n posting = x\n", 4, "posting: 'x'"},
    {G "/* never closed\n", 3, "unterminated comment"},
    {G "lmtp_max_sessions = 0\n", 3, "lmtp_max_sessions: 0 is out of range"},
    {G "lmtp_idle_timeout = abc\n", 3, "invalid integer value"},
    {G "delivery_connections = 0\n", 3, "delivery_connections: 0 is out"},
    {G "delivery_connections = 101\n", 3, "delivery_connections: 101"},
    {G "delivery_batch = 1001\n", 3, "delivery_batch: 1001 is out"},
    {G "verp = maybe\n", 3, "invalid"},
    {G "delivery_lifetime = \"5 days\"\n", 3,
     "delivery_lifetime: '5 days' is not a duration"},
    {G "delivery_lifetime = \"10s\"\n", 3, "delivery_lifetime: '10s'"},
    {G "delivery_lifetime = \"31d\"\n", 3, "delivery_lifetime: '31d'"},
    {G "delivery_retry = \"-5m\"\n", 3, "delivery_retry: '-5m'"},
    {G "delivery_retry = \"5w\"\n", 3, "delivery_retry: '5w'"},
    {G "delivery_retry = \"99999999999s\"\n", 3, "delivery_retry:"},
    {G "templates = \"\"\n", 3, "templates must not be empty"},
    {G "list a {\n reply_to_override = perhaps\n}\n", 4, "invalid"},
    {G "list a {\n description = \"a\\tb\"\n}\n", 4, "control character"},
    {G "list a {\n posting = open\n", 3, "'{' is never closed"},
    {G "list a {\n owners = { \"a@b.org\"\n}\n", 3, "'{' is never closed"},
    {G "list a {\n posting =\n}\n", 5, "unexpected token '}'"},
    {G "}\n", 3, "unexpected closing brace"},
};

/* Several problems in one file: all are reported, sorted by line. */
static void
test_all_errors(void)
{
	static const char text[] =
	    "home = \"/x\"\n"                            /* 1 */
	    "list a {\n"                                 /* 2 */
	    "  digest = yearly\n"                        /* 3 */
	    "  posting = everyone\n"                     /* 4 */
	    "  owners = { \"x\", \"y@z.org\", \"w\" }\n" /* 5 */
	    "  include = { \"zz\" }\n"                   /* 6 */
	    "}\n";
	struct buf err = BUF_INIT;
	struct conf *c = conf_parse("all.conf", text, &err);
	const char *s = buf_str(&err);
	const char *want[] = {
	    "all.conf:0: domain is required",
	    "all.conf:3: list a: digest",
	    "all.conf:4: list a: posting",
	    "all.conf:5: list a: owners: 'x'",
	    "all.conf:5: list a: owners: 'w'",
	    "all.conf:6: list a: include: no list called 'zz'"};
	size_t i;
	const char *at = s;

	ok(c == NULL, "several errors: no conf");
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const char *p = strstr(at, want[i]);

		if (!ok(p != NULL, "several errors: '%s' in order", want[i]))
			diag("errors: %s", s);
		else
			at = p;
	}
	conf_free(c);
	buf_free(&err);
}

static void
test_bad(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *t = &bad_cases[i];
		struct buf err = BUF_INIT, want = BUF_INIT;
		struct conf *c = conf_parse("t.conf", t->text, &err);

		buf_printf(&want, "t.conf:%d: ", t->line);
		ok(c == NULL, "bad %zu: rejected", i);
		if (!ok(strstr(buf_str(&err), buf_str(&want)) &&
		            strstr(buf_str(&err), t->msg),
		        "bad %zu: line %d, '%s'", i, t->line, t->msg))
			diag("got: %s", buf_str(&err));
		conf_free(c);
		buf_free(&err);
		buf_free(&want);
	}
}

static const char good[] =
    "# the example of DESIGN.md\n"
    "domain   = \"Lists.Example.ORG\"\n"
    "home     = \"/var/lib/mlmd\"  # database, spool/\n"
    "relay    = \"smtp://127.0.0.1:25\"\n"
    "lmtp     = \"unix:/run/mlmd/lmtp.sock, 127.0.0.1:8024\"\n"
    "http     = \"127.0.0.1:8025\"\n"
    "base_url = \"https://lists.example.org/\"\n"
    "user     = mlmd\n"
    "\n"
    "list denmark {\n"
    "  description = \"Migrant entrepreneurs in Denmark\"\n"
    "  language    = \"da\"\n"
    "  posting     = moderated # members | moderated | announce | open\n"
    "  nonmember   = reject\n"
    "  archive     = private\n"
    "  digest      = weekly\n"
    "  subject_prefix = \"[DK] \"\n"
    "  reply_to    = author\n"
    "  max_size    = \"2M\"\n"
    "  owners      = { \"<Coordinator@Example.DK>\", \"b@example.dk\",\n"
    "                  \"coordinator@example.dk\" }\n"
    "  moderators  = { \"mentor@example.dk\" }\n"
    "  dmarc       = wrap\n"
    "}\n"
    "list sweden { }\n"
    "list all { include = { \"denmark\", \"Sweden\" } }\n"
    "list misc { description = \"a \\\"quoted\\\" \\\\ \\${HOME} "
    "${HOME}\" }\n";

static void
check_good(const struct conf *c, const char *what)
{
	const struct list_conf *dk, *se, *all;

	is_str(c->domain, "lists.example.org", "%s: domain lower-cased", what);
	is_str(c->home, "/var/lib/mlmd", "%s: home", what);
	is_str(c->relay, "smtp://127.0.0.1:25", "%s: relay", what);
	is_str(c->lmtp, "unix:/run/mlmd/lmtp.sock,127.0.0.1:8024",
	       "%s: lmtp normalised", what);
	is_str(c->http, "127.0.0.1:8025", "%s: http", what);
	is_str(c->base_url, "https://lists.example.org",
	       "%s: base_url without trailing slash", what);
	is_str(c->user, "mlmd", "%s: user", what);
	is_int(c->separator, '+', "%s: separator default", what);
	is_int(c->max_message_size, 25 << 20, "%s: max_message_size default",
	       what);
	is_int(c->lmtp_max_sessions, 500, "%s: lmtp_max_sessions", what);
	is_int(c->lmtp_idle_timeout, 300, "%s: lmtp_idle_timeout", what);
	is_int(c->lmtp_session_timeout, 3600, "%s: lmtp_session_timeout", what);
	is_int(c->delivery_connections, 4, "%s: delivery_connections", what);
	is_int(c->delivery_batch, 50, "%s: delivery_batch", what);
	is_int(c->verp, 0, "%s: verp off", what);
	is_int(c->relay_pipelining, 1, "%s: relay_pipelining on", what);
	is_int(c->delivery_lifetime, 5 * 86400, "%s: delivery_lifetime", what);
	is_int(c->delivery_retry, 300, "%s: delivery_retry", what);
	ok(c->templates && strstr(c->templates, "/templates"),
	   "%s: templates default", what);
	is_int(c->n_lists, 4, "%s: four lists", what);

	dk = conf_list(c, "DENMARK");
	if (!ok(dk != NULL, "%s: conf_list is case-insensitive", what))
		return;
	is_str(dk->address, "denmark@lists.example.org", "%s: address", what);
	is_str(dk->description, "Migrant entrepreneurs in Denmark",
	       "%s: description", what);
	is_str(dk->language, "da", "%s: language", what);
	is_int(dk->posting, POST_MODERATED, "%s: posting", what);
	is_int(dk->nonmember, NM_REJECT, "%s: nonmember", what);
	is_int(dk->archive, ARCH_PRIVATE, "%s: archive", what);
	is_int(dk->digest, DIGEST_WEEKLY, "%s: digest", what);
	is_str(dk->subject_prefix, "[DK] ", "%s: subject_prefix", what);
	is_int(dk->reply_to, REPLY_AUTHOR, "%s: reply_to", what);
	is_int(dk->max_size, 2 << 20, "%s: max_size", what);
	is_int(dk->n_owners, 2, "%s: owners normalised and de-duplicated",
	       what);
	if (dk->n_owners == 2) {
		is_str(dk->owners[0], "coordinator@example.dk", "%s: owner 0",
		       what);
		is_str(dk->owners[1], "b@example.dk", "%s: owner 1", what);
	}
	is_int(dk->n_moderators, 1, "%s: moderators", what);
	is_int(dk->dmarc, DMARC_WRAP, "%s: dmarc", what);

	se = conf_list(c, "sweden");
	if (ok(se != NULL, "%s: sweden", what)) {
		is_str(se->language, "en", "%s: default language", what);
		is_int(se->posting, POST_MEMBERS, "%s: default posting", what);
		is_int(se->nonmember, NM_HOLD, "%s: default nonmember", what);
		is_int(se->archive, ARCH_PUBLIC, "%s: default archive", what);
		is_int(se->digest, DIGEST_NONE, "%s: default digest", what);
		is_int(se->reply_to, REPLY_LIST, "%s: default reply_to", what);
		is_int(se->max_size, 10 << 20, "%s: default max_size", what);
		is_int(se->dmarc, DMARC_MUNGE, "%s: default dmarc", what);
		is_str(se->subject_prefix, "", "%s: default prefix", what);
		is_int(se->n_owners + se->n_moderators + se->n_include, 0,
		       "%s: default empty lists", what);
	}
	all = conf_list(c, "all");
	if (ok(all && all->n_include == 2, "%s: all includes two", what)) {
		is_str(all->include[0], "denmark", "%s: include 0", what);
		is_str(all->include[1], "sweden", "%s: include 1 lower-cased",
		       what);
	}
	ok(conf_list(c, "norway") == NULL, "%s: no norway", what);
}

static char *
print_to_string(const struct conf *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	conf_print(c, f);
	fclose(f);
	return s;
}

static void
test_good(void)
{
	struct buf err = BUF_INIT;
	struct conf *c, *c2;
	char *p1, *p2;

	/* "${HOME}" in a double-quoted string comes from the environment
	 * (libconfuse); pin it so the expected name is known. */
	setenv("HOME", "home", 1);
	c = conf_parse("good.conf", good, &err);
	if (!ok(c != NULL, "good config parses"))
		diag("%s", buf_str(&err));
	if (!c)
		return;
	check_good(c, "parsed");
	if (c->n_lists == 4)
		is_str(c->lists[3].description, "a \"quoted\" \\ ${HOME} home",
		       "escapes, \\$ and ${VAR} in a string");
	is_int(c->lists[0].line, 10, "list line is the section's line");
	is_int(c->lists[2].line, 26, "one-line list section's line");

	/* round trip: print, parse the print, print again */
	p1 = print_to_string(c);
	buf_reset(&err);
	c2 = conf_parse("printed.conf", p1, &err);
	if (!ok(c2 != NULL, "conf_print output parses"))
		diag("%s\n%s", buf_str(&err), p1);
	if (c2) {
		check_good(c2, "reparsed");
		p2 = print_to_string(c2);
		/* the first line names the file */
		is_str(strchr(p2, '\n'), strchr(p1, '\n'),
		       "print of the reparse is identical");
		if (c2->n_lists == 4)
			is_str(c2->lists[3].description,
			       c->lists[3].description,
			       "'$' and quotes survive the round trip");
		free(p2);
		conf_free(c2);
	}
	free(p1);
	conf_free(c);
	buf_free(&err);
}

/* Defaults derived from other options. */
static void
test_defaults(void)
{
	struct buf err = BUF_INIT;
	struct conf *c = conf_parse(
	    "d.conf", "domain = \"example.org\"\nhome = \"/srv/m\"\n", &err);

	if (!ok(c != NULL, "minimal config parses"))
		diag("%s", buf_str(&err));
	if (!c)
		return;
	is_str(c->relay, "maildir:/srv/m/outbox", "relay defaults into home");
	is_str(c->lmtp, "127.0.0.1:8024", "lmtp default");
	is_str(c->http, "127.0.0.1:8025", "http default");
	is_str(c->base_url, "http://127.0.0.1:8025", "base_url from http");
	ok(c->user == NULL, "user unset");
	is_int(c->n_lists, 0, "no lists");
	conf_free(c);
	buf_reset(&err);

	c = conf_parse("e.conf",
	               "domain = \"example.org\"\nhome = \"/srv/m\"\n"
	               "separator = \"-\"\nhttp = \"[::1]:80\"\n"
	               "max_message_size = \"1000\"\n",
	               &err);
	if (ok(c != NULL, "separator -, IPv6 http")) {
		is_int(c->separator, '-', "separator -");
		is_str(c->base_url, "http://[::1]:80", "base_url with IPv6");
		is_int(c->max_message_size, 1000, "size in bytes");
	} else {
		diag("%s", buf_str(&err));
	}
	conf_free(c);
	buf_reset(&err);

	c = conf_parse("d.conf",
	               "domain = \"example.org\"\nhome = \"/srv/m\"\n"
	               "delivery_connections = 16\ndelivery_batch = 1000\n"
	               "verp = true\nrelay_pipelining = false\n"
	               "delivery_lifetime = \"36h\"\n"
	               "delivery_retry = \"90\"\n"
	               "templates = \"/etc/mlmd/templates\"\n"
	               "list a { reply_to_override = true }\n",
	               &err);
	if (ok(c != NULL, "delivery options")) {
		is_int(c->delivery_connections, 16, "16 connections");
		is_int(c->delivery_batch, 1000, "1000 per transaction");
		is_int(c->verp, 1, "verp on");
		is_int(c->relay_pipelining, 0, "relay_pipelining off");
		is_int(c->delivery_lifetime, 36 * 3600, "lifetime 36h");
		is_int(c->delivery_retry, 90, "retry 90 s");
		is_str(c->templates, "/etc/mlmd/templates", "templates path");
		is_int(c->lists[0].reply_to_override, 1, "reply_to_override");
	} else {
		diag("%s", buf_str(&err));
	}
	conf_free(c);
	buf_reset(&err);

	c = conf_parse("empty.conf", "", &err);
	ok(c == NULL && strstr(buf_str(&err), "empty.conf:0: domain is "
	                                      "required"),
	   "empty file: domain required");
	conf_free(c);
	buf_free(&err);
}

static void
test_load(void)
{
	char dir[] = "/tmp/mlmd-conf-XXXXXX";
	struct buf path = BUF_INIT, err = BUF_INIT, rel = BUF_INIT;
	struct conf *c;
	FILE *f;
	char cwd[4096];

	if (!mkdtemp(dir) || !getcwd(cwd, sizeof(cwd))) {
		skip(6, "no temp dir");
		return;
	}
	buf_printf(&path, "%s/mlmd.conf", dir);
	f = fopen(buf_str(&path), "w");
	fputs("domain = \"example.org\"\nhome = \"var\"\n"
	      "lmtp = \"unix:run/lmtp.sock\"\nrelay = \"maildir:out\"\n",
	      f);
	fclose(f);
	c = conf_load(buf_str(&path), &err);
	if (ok(c != NULL, "conf_load reads a file")) {
		struct buf want = BUF_INIT;

		buf_printf(&want, "%s/var", dir);
		is_str(c->home, buf_str(&want),
		       "relative home is made "
		       "absolute against the file's folder");
		buf_reset(&want);
		buf_printf(&want, "unix:%s/run/lmtp.sock", dir);
		is_str(c->lmtp, buf_str(&want), "relative unix socket too");
		buf_reset(&want);
		buf_printf(&want, "maildir:%s/out", dir);
		is_str(c->relay, buf_str(&want), "relative maildir too");
		buf_free(&want);
	} else {
		diag("%s", buf_str(&err));
	}
	conf_free(c);

	/* a relative path to the file */
	if (chdir(dir) == 0) {
		buf_reset(&err);
		c = conf_load("mlmd.conf", &err);
		buf_printf(&rel, "%s/var", dir);
		ok(c && strcmp(c->home, buf_str(&rel)) == 0,
		   "relative config path: home %s", c ? c->home : "-");
		conf_free(c);
		if (chdir(cwd) < 0)
			diag("cannot go back to %s", cwd);
	} else {
		skip(1, "chdir");
	}
	unlink(buf_str(&path));

	buf_reset(&err);
	c = conf_load(buf_str(&path), &err);
	ok(c == NULL && strstr(buf_str(&err), ":0: cannot read: No such file"),
	   "missing file: %s", buf_str(&err));
	conf_free(c);
	rmdir(dir);
	buf_free(&path);
	buf_free(&err);
	buf_free(&rel);
}

/* Every file in t/data/conf/ that should load does, and survives
 * print -> parse -> print unchanged. */
static void
test_data_round_trip(void)
{
	static const char *files[] = {"good.conf", "minimal.conf"};
	const char *top = getenv("top_srcdir");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		struct buf path = BUF_INIT, err = BUF_INIT;
		struct conf *c, *c2 = NULL;
		char *p1 = NULL, *p2 = NULL;

		buf_printf(&path, "%s/t/data/conf/%s", top ? top : ".",
		           files[i]);
		c = conf_load(buf_str(&path), &err);
		if (!ok(c != NULL, "%s loads", files[i]))
			diag("%s", buf_str(&err));
		if (c) {
			p1 = print_to_string(c);
			c2 = conf_parse("printed.conf", p1, &err);
			if (!ok(c2 != NULL, "%s: printed form parses",
			        files[i]))
				diag("%s", buf_str(&err));
		}
		if (c2) {
			p2 = print_to_string(c2);
			is_str(strchr(p2, '\n'), strchr(p1, '\n'),
			       "%s: round trip is identical", files[i]);
			is_int(c2->n_lists, c->n_lists, "%s: same lists",
			       files[i]);
		}
		free(p1);
		free(p2);
		conf_free(c);
		conf_free(c2);
		buf_free(&path);
		buf_free(&err);
	}
}

int
main(void)
{
	test_bad();
	test_all_errors();
	test_good();
	test_defaults();
	test_load();
	test_data_round_trip();
	return done_testing();
}
