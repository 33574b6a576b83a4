/*
 * cmd_test.c - tests for the command parser (mlmd/cmd.c): a table of
 * single lines (every command, argument and synonym, and what must stay
 * unknown), then whole messages built with msg_parse(): Subject markers,
 * quoted lines, signatures, reply headers, the command and unknown-line
 * limits, HTML-only and multipart/alternative mail, and hostile bodies
 * (long lines, invalid UTF-8, NULs, 100,000 lines).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cmd.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

#define U CMD_UNKNOWN

static const struct {
	const char *line;
	int rc;
	enum cmd_kind kind;
	const char *arg;
} lines[] = {
    {"subscribe", 1, CMD_SUBSCRIBE, ""},
    {"  SUBSCRIBE  ", 1, CMD_SUBSCRIBE, ""},
    {"/subscribe", 1, CMD_SUBSCRIBE, ""},
    {"Subscribe.", 1, CMD_SUBSCRIBE, ""},
    {"\tsubscribe\r", 1, CMD_SUBSCRIBE, ""},
    {"subscribe digest", 1, CMD_SUBSCRIBE, "digest"},
    {"subscribe  NOMAIL", 1, CMD_SUBSCRIBE, "nomail"},
    {"subscribe please", 0, U, ""},
    {"subscribe digest now", 0, U, ""},
    {"join", 1, CMD_SUBSCRIBE, ""},
    {"unsubscribe", 1, CMD_UNSUBSCRIBE, ""},
    {"leave", 1, CMD_UNSUBSCRIBE, ""},
    {"signoff", 1, CMD_UNSUBSCRIBE, ""},
    {"unsubscribe me", 0, U, ""},
    {"confirm abcdef12", 1, CMD_CONFIRM, "abcdef12"},
    {"confirm ABCDEF12-3456-xyz", 1, CMD_CONFIRM, "abcdef12-3456-xyz"},
    {"confirm abc", 0, U, ""},
    {"confirm", 0, U, ""},
    {"confirm abc_def12", 0, U, ""},
    {"confirm "
     "0123456789012345678901234567890123456789012345678901234567890123",
     1, CMD_CONFIRM,
     "0123456789012345678901234567890123456789012345678901234567890123"},
    {"confirm "
     "01234567890123456789012345678901234567890123456789012345678901234",
     0, U, ""},
    {"denmark+confirm-0123abcd5678@lists.example.org", 1, CMD_CONFIRM,
     "0123abcd5678"},
    {"<Denmark+Confirm-0123ABCD5678@Lists.Example.org>", 1, CMD_CONFIRM,
     "0123abcd5678"},
    {"mailto:my-list-confirm-0123abcd5678@example.org", 1, CMD_CONFIRM,
     "0123abcd5678"},
    {"confirm denmark+confirm-0123abcd5678@example.org", 1, CMD_CONFIRM,
     "0123abcd5678"},
    {"denmark+confirm-short@example.org", 0, U, ""},
    {"someone@example.org", 0, U, ""},
    {"x+confirm-0123abcd5678@", 0, U, ""},
    {"x+confirm-0123abcd5678@a b", 0, U, ""},
    {"digest on", 1, CMD_DIGEST, "on"},
    {"digest OFF", 1, CMD_DIGEST, "off"},
    {"digest mime", 1, CMD_DIGEST, "mime"},
    {"digest plain.", 1, CMD_DIGEST, "plain"},
    {"digest", 0, U, ""},
    {"digest maybe", 0, U, ""},
    {"nomail on", 1, CMD_NOMAIL, "on"},
    {"nomail off", 1, CMD_NOMAIL, "off"},
    {"nomail", 0, U, ""},
    {"language da", 1, CMD_LANGUAGE, "da"},
    {"language DA", 1, CMD_LANGUAGE, "da"},
    {"language pt-BR", 1, CMD_LANGUAGE, "pt-br"},
    {"language pt_BR", 1, CMD_LANGUAGE, "pt-br"},
    {"language es-419", 1, CMD_LANGUAGE, "es-419"},
    {"language fil", 1, CMD_LANGUAGE, "fil"},
    {"language danish", 0, U, ""},
    {"language d", 0, U, ""},
    {"language da-", 0, U, ""},
    {"language", 0, U, ""},
    {"help", 1, CMD_HELP, ""},
    {"HELP.", 1, CMD_HELP, ""},
    {"help me", 0, U, ""},
    {"lists", 1, CMD_LISTS, ""},
    {"which", 1, CMD_WHICH, ""},
    {"export", 1, CMD_EXPORT, ""},
    {"forget", 1, CMD_FORGET, ""},
    /* native synonyms */
    {"tilmeld", 1, CMD_SUBSCRIBE, ""},
    {"Afmeld", 1, CMD_UNSUBSCRIBE, ""},
    {"hj\xc3\xa6lp", 1, CMD_HELP, ""},
    {"prenumerera", 1, CMD_SUBSCRIBE, ""},
    {"avsluta", 1, CMD_UNSUBSCRIBE, ""},
    {"hj\xc3\xa4lp", 1, CMD_HELP, ""},
    {"abonner", 1, CMD_SUBSCRIBE, ""},
    {"avslutt", 1, CMD_UNSUBSCRIBE, ""},
    {"hjelp", 1, CMD_HELP, ""},
    {"tilaa", 1, CMD_SUBSCRIBE, ""},
    {"peruuta", 1, CMD_UNSUBSCRIBE, ""},
    {"ohje", 1, CMD_HELP, ""},
    {"skr\xc3\xa1", 1, CMD_SUBSCRIBE, ""},
    {"afskr\xc3\xa1", 1, CMD_UNSUBSCRIBE, ""},
    {"hj\xc3\xa1lp", 1, CMD_HELP, ""},
    {"\xd8\xa7\xd8\xb4\xd8\xaa\xd8\xb1\xd8\xa7\xd9\x83", 1, CMD_SUBSCRIBE, ""},
    {"\xd8\xa5\xd9\x84\xd8\xba\xd8\xa7\xd8\xa1", 1, CMD_UNSUBSCRIBE, ""},
    {"\xd9\x85\xd8\xb3\xd8\xa7\xd8\xb9\xd8\xaf\xd8\xa9", 1, CMD_HELP, ""},
    /* not commands */
    {"", 0, U, ""},
    {"   ", 0, U, ""},
    {"/", 0, U, ""},
    {".", 0, U, ""},
    {"subscribe..", 0, U, ""},
    {"//help", 0, U, ""},
    {"Please subscribe me to the list", 0, U, ""},
    {"subscribe\xff", 0, U, ""},
    {"helpful", 0, U, ""},
};

static struct msg *
mk(const char *raw, size_t len)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;

	if (msg_parse(raw, len, &msg_default_limits, &m, &err) < 0) {
		diag("msg_parse: %s", buf_str(&err));
		m = NULL;
	}
	buf_free(&err);
	return m;
}

static struct cmd out[200];
static size_t n;
static int trunc_;

/* Parse raw (a whole message) with max cmds; returns the count. */
static size_t
run(const char *raw, size_t len, size_t max, size_t max_unknown)
{
	struct cmd_opts o = {max, max_unknown};
	struct msg *m = mk(raw, len ? len : strlen(raw));

	n = 0;
	trunc_ = -1;
	if (m == NULL)
		return 0;
	if (cmd_parse(m, &o, out, &n, &trunc_) != 0)
		diag("cmd_parse failed");
	msg_free(m);
	return n;
}

/* "subscribe,help:x,?line" : the kinds (and args) read, for is_str */
static const char *
summary(void)
{
	static struct buf b;
	size_t i;

	buf_free(&b);
	for (i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, ',');
		if (out[i].kind == CMD_UNKNOWN)
			buf_printf(&b, "?%s", out[i].line);
		else if (out[i].arg[0])
			buf_printf(&b, "%s:%s", cmd_name(out[i].kind),
			           out[i].arg);
		else
			buf_adds(&b, cmd_name(out[i].kind));
	}
	return buf_str(&b);
}

#define HDR "From: a@example.org\nTo: list-request@example.org\n"

static const struct {
	const char *what, *mail, *want;
} mails[] = {
    {"empty mail", HDR "Subject: \n\n", ""},
    {"no body", HDR "Subject: help\n", "help"},
    {"subject command", HDR "Subject: subscribe\n\n", "subscribe"},
    {"subject Re: [DK]", HDR "Subject: Re: [DK] subscribe\n\n", "subscribe"},
    {"subject RE: Sv: AW: Fwd:",
     HDR "Subject: RE: Sv: AW: Fwd: FW: Vs: Vast: Antw: Svar: Odp: "
         "unsubscribe\n\n",
     "unsubscribe"},
    {"subject Arabic marker",
     HDR "Subject: =?UTF-8?B?2LHYrzog2YXYs9in2LnYr9ip?=\n\n", "help"},
    {"subject Re[2]: [x] [y]", HDR "Subject: Re[2]: [x] [y]help\n\n", "help"},
    {"subject prose ignored",
     HDR "Subject: Re: please help me unsubscribe\n\nhelp\n", "help"},
    {"subject prose never counts as unknown",
     HDR "Subject: hello there\n\nfoo\nbar\nhelp\n", "?foo,?bar,help"},
    {"subject and body", HDR "Subject: subscribe\n\ndigest on\n",
     "subscribe,digest:on"},
    {"body commands",
     HDR "Subject: x\n\nsubscribe digest\n\nlanguage da\nwhich\n",
     "subscribe:digest,language:da,which"},
    {"quoted lines ignored",
     HDR "Subject: x\n\n> unsubscribe\n  >unsubscribe\nhelp\n", "help"},
    {"quoted only", HDR "Subject: x\n\n> unsubscribe\n", ""},
    {"signature stop", HDR "Subject: x\n\nhelp\n-- \nunsubscribe\n", "help"},
    {"signature without space", HDR "Subject: x\n\nhelp\n--\nlists\n", "help"},
    {"underscores", HDR "Subject: x\n\nhelp\n________\nlists\n", "help"},
    {"end", HDR "Subject: x\n\nhelp\nEND\nlists\n", "help"},
    {"stop", HDR "Subject: x\n\nhelp\nstop\nlists\n", "help"},
    {"thanks!", HDR "Subject: x\n\nhelp\nThanks!\nlists\n", "help"},
    {"tak (da)", HDR "Subject: x\n\nhelp\nMange tak\nlists\n", "help"},
    {"kiitos (fi)", HDR "Subject: x\n\nhelp\nKiitos!\nlists\n", "help"},
    {"shukran (ar)", HDR "Subject: x\n\nhelp\n\xd8\xb4\xd9\x83\xd8\xb1\xd8\xa7\xd9\x8b\nlists\n",
     "help"},
    {"reply header",
     HDR "Subject: x\n\nconfirm 0123abcd\n\nOn Mon, 1 Jan 2024 a@b "
         "wrote:\nunsubscribe\n",
     "confirm:0123abcd"},
    {"Danish reply header",
     HDR "Subject: x\n\nhelp\nDen 1. jan. 2024 skrev a@b:\nlists\n", "help"},
    {"Outlook reply header",
     HDR "Subject: x\n\nhelp\n-----Original Message-----\nlists\n", "help"},
    {"From: reply header", HDR "Subject: x\n\nhelp\nFrom: x\nlists\n", "help"},
    {"reply header before any command is just unknown",
     HDR "Subject: x\n\nFrom: x\nhelp\n", "?From: x,help"},
    {"unknown lines kept", HDR "Subject: x\n\nhelp\nwhat is this\nlists\n",
     "help,?what is this,lists"},
    {"three unknown lines in a row stop",
     HDR "Subject: x\n\nhelp\nDear list,\n\nI would like\nto join.\n"
         "subscribe\n",
     "help,?Dear list,,?I would like,?to join."},
    {"confirm address line",
     HDR "Subject: Re: confirm\n\n"
         "denmark+confirm-0123abcd5678@lists.example.org\n",
     "confirm:0123abcd5678"},
    {"HTML only",
     HDR "Subject: x\nMIME-Version: 1.0\n"
         "Content-Type: text/html\n\n"
         "<p>subscribe</p><blockquote>unsubscribe</blockquote>\n",
     "subscribe"},
    {"multipart/alternative picks text/plain",
     HDR "Subject: x\nMIME-Version: 1.0\n"
         "Content-Type: multipart/alternative; boundary=b\n\n"
         "--b\nContent-Type: text/html\n\n<p>unsubscribe</p>\n"
         "--b\nContent-Type: text/plain\n\nhelp\n--b--\n",
     "help"},
    {"attachment text/plain is skipped",
     HDR "Subject: x\nMIME-Version: 1.0\n"
         "Content-Type: multipart/mixed; boundary=b\n\n"
         "--b\nContent-Type: text/plain\n"
         "Content-Disposition: attachment; filename=a.txt\n\nunsubscribe\n"
         "--b\nContent-Type: text/plain\n\nlists\n--b--\n",
     "lists"},
    {"latin-1 body decoded",
     HDR "Subject: x\nMIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=iso-8859-1\n\nhj\xe6lp\n",
     "help"},
    {"CRLF", "From: a@example.org\r\nSubject: x\r\n\r\nhelp\r\nlists\r\n",
     "help,lists"},
};

int
main(void)
{
	struct buf big = BUF_INIT;
	struct cmd c;
	size_t i, k;
	clock_t t0;
	int rc;

	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		rc = cmd_parse_line(lines[i].line, strlen(lines[i].line), &c);
		ok(rc == lines[i].rc && c.kind == lines[i].kind &&
		       strcmp(c.arg, lines[i].arg) == 0,
		   "line '%s' -> %d %s '%s'", lines[i].line, lines[i].rc,
		   cmd_name(lines[i].kind), lines[i].arg);
		if (rc != lines[i].rc || c.kind != lines[i].kind)
			diag("got %d %s '%s'", rc, cmd_name(c.kind), c.arg);
	}
	cmd_parse_line("  Please  help ", 15, &c);
	is_str(c.line, "Please  help", "line kept, trimmed");
	is_str(cmd_name(CMD_FORGET), "forget", "cmd_name");
	is_str(cmd_name((enum cmd_kind)99), "unknown", "cmd_name out of range");

	for (i = 0; i < ARRAY_SIZE(mails); i++) {
		run(mails[i].mail, 0, 0, 0);
		is_str(summary(), mails[i].want, "%s", mails[i].what);
		ok(trunc_ == 0, "%s: not truncated", mails[i].what);
	}

	/* 100 commands: 20 read, truncated */
	buf_adds(&big, HDR "Subject: x\n\n");
	for (i = 0; i < 100; i++)
		buf_adds(&big, "help\n");
	is_int(run(big.s, big.len, 0, 0), 20, "100 commands: 20 read");
	is_int(trunc_, 1, "100 commands: truncated");
	is_int(run(big.s, big.len, 5, 0), 5, "max_cmds 5: 5 read");
	is_int(trunc_, 1, "max_cmds 5: truncated");
	buf_free(&big);
	buf_adds(&big, HDR "Subject: help\n\n");
	for (i = 0; i < 19; i++)
		buf_adds(&big, "help\n");
	buf_adds(&big, "-- \nhelp\n");
	is_int(run(big.s, big.len, 0, 0), 20, "subject + 19: 20 read");
	is_int(trunc_, 0, "exactly 20 then a signature: not truncated");
	buf_free(&big);

	/* max_unknown */
	run(HDR "Subject: x\n\na\nb\nhelp\nc\nd\ne\nf\n", 0, 0, 5);
	is_str(summary(), "?a,?b,help,?c,?d,?e,?f", "max_unknown 5");
	run(HDR "Subject: x\n\na\nhelp\n", 0, 0, 1);
	is_str(summary(), "?a", "max_unknown 1");

	/* long lines, invalid UTF-8, controls, NULs */
	buf_free(&big);
	buf_adds(&big, HDR "Subject: x\n\n");
	for (i = 0; i < 200; i++)
		buf_adds(&big, "\xc3\xa6");
	buf_adds(&big, "\nhelp\n");
	run(big.s, big.len, 0, 0);
	ok(n == 2 && out[0].kind == CMD_UNKNOWN && out[1].kind == CMD_HELP,
	   "long line is unknown, next line read");
	ok(strlen(out[0].line) == CMD_LINE_MAX &&
	       utf8_valid(out[0].line, strlen(out[0].line)),
	   "long line cut at a character boundary (%zu)", strlen(out[0].line));
	rc = cmd_parse_line("help\xe2\x82", 6, &c);
	ok(rc == 0 && strcmp(c.line, "help??") == 0, "invalid UTF-8: '%s'",
	   c.line);
	rc = cmd_parse_line("a\x01"
	                    "b\x1b[0m\xc2\x85",
	                    10, &c);
	is_str(c.line, "a b [0m", "controls become spaces");
	rc = cmd_parse_line("he\0lp", 5, &c);
	ok(rc == 0 && strcmp(c.line, "he lp") == 0, "NUL in a line");
	{
		static const char raw[] = HDR "Subject: x\n\n\xff\xfe\0\x01\n"
		                              "subscribe\x80\nhelp\n";

		run(raw, sizeof(raw) - 1, 0, 0);
		ok(n >= 1 && out[n - 1].kind == CMD_HELP,
		   "hostile body lines: %s", summary());
		for (k = 0; k < n; k++)
			ok(utf8_valid(out[k].line, strlen(out[k].line)) ||
			       out[k].line[0] == '\0',
			   "line %zu valid UTF-8", k);
	}

	/* 100,000 lines and one huge line: linear, capped */
	buf_free(&big);
	buf_adds(&big, HDR "Subject: x\n\n");
	for (i = 0; i < 100000; i++)
		buf_adds(&big, "> quoted\n\n");
	buf_adds(&big, "help\n");
	t0 = clock();
	run(big.s, big.len, 0, 0);
	ok(n == 0, "100,000 quoted lines: the text read stops at 64 KiB");
	buf_free(&big);
	buf_init(&big, 0);
	buf_adds(&big, HDR "Subject: x\n\n");
	for (i = 0; i < 1000000; i++)
		buf_addc(&big, 'x');
	buf_adds(&big, "\nhelp\n");
	run(big.s, big.len, 0, 0);
	ok(n == 1 && out[0].kind == CMD_UNKNOWN, "1 MB line: one unknown");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 3.0,
	   "bounded time (%.2fs)", (double)(clock() - t0) / CLOCKS_PER_SEC);
	buf_free(&big);

	/* HTML body: deep nesting does not matter */
	buf_adds(&big, HDR "Subject: x\nContent-Type: text/html\n\n");
	for (i = 0; i < 100000; i++)
		buf_adds(&big, "<div>");
	buf_adds(&big, "help");
	run(big.s, big.len, 0, 0);
	ok(n == 0 || (n == 1 && out[0].kind == CMD_HELP),
	   "deep HTML (cut at CMD_HTML_MAX): %s", summary());
	buf_free(&big);
	buf_adds(&big, HDR "Subject: x\nContent-Type: text/html\n\n");
	for (i = 0; i < 10000; i++)
		buf_adds(&big, "<div>");
	buf_adds(&big, "help");
	run(big.s, big.len, 0, 0);
	is_str(summary(), "help", "10,000 nested div, then help");
	buf_free(&big);
	return done_testing();
}
