/*
 * lmtp_test.c - scripted LMTP dialogues fed to the state machine
 * (mlmd/lmtp.c), replies compared byte for byte.  Every dialogue is fed
 * three ways: in one chunk (pipelining), byte by byte, and in chunks of 7
 * bytes; all must give the same replies and the same stored messages.
 *
 * Stub callbacks: recipients ending in "@lists.example" are ours,
 * "busy@lists.example" is a temporary failure, "big@lists.example" gets a
 * per-recipient 552 (a list with a smaller max_size); the message callback
 * records the body and, with wait=1, answers only after lmtp_resume()
 * (group commit).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lmtp.h"
#include "util.h"
#include "tap.h"

#define G  "220 test LMTP mlmd ready\r\n"
#define LH "LHLO client\r\n"
#define LHR(size)                                                              \
	"250-test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"            \
	"250-8BITMIME\r\n250 SIZE " size "\r\n"
#define LHOK  LHR("1000")
#define MAIL  "MAIL FROM:<a@b.example>\r\n"
#define R1    "RCPT TO:<dk@lists.example>\r\n"
#define R2    "RCPT TO:<se@lists.example>\r\n"
#define OK210 "250 2.1.0 Ok\r\n"
#define OK215 "250 2.1.5 Ok\r\n"
#define D354  "354 End data with <CR><LF>.<CR><LF>\r\n"
#define OK200 "250 2.0.0 Ok\r\n"
#define BYE   "221 2.0.0 Bye\r\n"

struct ctx {
	struct buf bodies; /* each stored body followed by "|" */
	int wait;
	int messages;
};

static enum lmtp_rcpt_status
stub_rcpt(void *arg, const char *addr)
{
	size_t n = strlen(addr), sfx = strlen("@lists.example");

	if (strcmp(addr, "busy@lists.example") == 0)
		return LMTP_RCPT_TEMPFAIL;
	if (n > sfx && strcmp(addr + n - sfx, "@lists.example") == 0)
		return LMTP_RCPT_OK;
	return LMTP_RCPT_UNKNOWN;
}

/* Refusals are recorded among the bodies as "[CODE BYTES]|". */
static void
stub_refused(void *arg, struct lmtp *s, const char *reply)
{
	struct ctx *c = arg;

	buf_printf(&c->bodies, "[%.3s %zu]|", reply, lmtp_data_size(s));
}

static enum lmtp_msg_status
stub_message(void *arg, struct lmtp *s)
{
	struct ctx *c = arg;
	const char *body;
	size_t len, i;

	body = lmtp_body(s, &len);
	buf_add(&c->bodies, body, len);
	buf_addc(&c->bodies, '|');
	c->messages++;
	for (i = 0; i < lmtp_rcpt_count(s); i++)
		if (strcmp(lmtp_rcpt(s, i), "big@lists.example") == 0)
			lmtp_set_reply(s, i, "552 5.3.4 too big for this list");
	return c->wait ? LMTP_WAIT : LMTP_DONE;
}

static const struct dialogue {
	const char *name;
	const char *in;
	const char *out;    /* every reply, greeting included */
	const char *bodies; /* expected stored bodies, "|"-terminated */
	size_t in_len;      /* 0: strlen(in); else for inputs with NUL */
	int wait;           /* message callback answers later */
	int closed;         /* session over at the end */
} cases[] = {
    {"simple message",
     LH MAIL R1 "DATA\r\n"
                "Subject: x\r\n\r\nhi\r\n.\r\n"
                "QUIT\r\n",
     G LHOK OK210 OK215 D354 OK200 BYE, "Subject: x\n\nhi\n|", 0, 0, 1},
    {"two recipients get two replies", LH MAIL R1 R2 "DATA\r\nx\r\n.\r\n",
     G LHOK OK210 OK215 OK215 D354 OK200 OK200, "x\n|", 0, 0, 0},
    {"unknown recipient 550, the other accepted",
     LH MAIL "RCPT TO:<nobody@elsewhere.example>\r\n" R1 "DATA\r\nx\r\n.\r\n",
     G LHOK OK210 "550 5.1.1 <nobody@elsewhere.example>: no such list "
                  "address\r\n" OK215 D354 OK200,
     "x\n|", 0, 0, 0},
    {"temporary recipient failure 451",
     LH MAIL "RCPT TO:<busy@lists.example>\r\n",
     G LHOK OK210 "451 4.3.0 temporary failure, try again later\r\n", "", 0, 0,
     0},
    {"per-recipient status after DATA",
     LH MAIL R1 "RCPT TO:<big@lists.example>\r\nDATA\r\nx\r\n.\r\n",
     G LHOK OK210 OK215 OK215 D354 OK200 "552 5.3.4 too big for this "
                                         "list\r\n",
     "x\n|", 0, 0, 0},
    {"LF-only line ends",
     "LHLO c\nMAIL FROM:<a@b>\nRCPT TO:<dk@lists.example>\nDATA\n"
     "a\n\nb\n.\nQUIT\n",
     G LHOK OK210 OK215 D354 OK200 BYE, "a\n\nb\n|", 0, 0, 1},
    {"dot-stuffing removed",
     LH MAIL R1 "DATA\r\n..leading\r\n...\r\n. \r\nx.\r\n.\r\n",
     G LHOK OK210 OK215 D354 OK200, ".leading\n..\n \nx.\n|", 0, 0, 0},
    {"CR inside a line kept, CRLF normalised",
     LH MAIL R1 "DATA\r\na\rb\r\n.\r\n", G LHOK OK210 OK215 D354 OK200,
     "a\rb\n|", 0, 0, 0},
    {"two messages in one session, pipelined",
     LH MAIL R1 "DATA\r\none\r\n.\r\n" MAIL R2 "DATA\r\ntwo\r\n.\r\n"
                "QUIT\r\n",
     G LHOK OK210 OK215 D354 OK200 OK210 OK215 D354 OK200 BYE, "one\n|two\n|",
     0, 0, 1},
    {"group commit: pipelined input waits for the answer",
     LH MAIL R1 "DATA\r\none\r\n.\r\nNOOP\r\n" MAIL R1 "DATA\r\ntwo\r\n.\r\n"
                "QUIT\r\n",
     G LHOK OK210 OK215 D354 OK200 OK200 OK210 OK215 D354 OK200 BYE,
     "one\n|two\n|", 0, 1, 1},
    {"empty message", LH MAIL R1 "DATA\r\n.\r\n", G LHOK OK210 OK215 D354 OK200,
     "|", 0, 0, 0},
    {"null sender", LH "MAIL FROM:<>\r\n" R1, G LHOK OK210 OK215, "", 0, 0, 0},
    {"lower-case commands, space after colon, source route",
     "lhlo c\r\nmail from: <a@b>\r\nrcpt to:<@relay.example:dk@lists.example>"
     "\r\n",
     G LHOK OK210 OK215, "", 0, 0, 0},
    {"MAIL before LHLO", MAIL, G "503 5.5.1 send LHLO first\r\n", "", 0, 0, 0},
    {"RCPT before MAIL", LH R1, G LHOK "503 5.5.1 need MAIL before RCPT\r\n",
     "", 0, 0, 0},
    {"DATA before MAIL", LH "DATA\r\n",
     G LHOK "503 5.5.1 need MAIL before DATA\r\n", "", 0, 0, 0},
    {"DATA without valid recipients",
     LH MAIL "RCPT TO:<x@other.example>\r\nDATA\r\n",
     G LHOK OK210 "550 5.1.1 <x@other.example>: no such list address\r\n"
                  "503 5.5.1 no valid recipients\r\n",
     "", 0, 0, 0},
    {"nested MAIL", LH MAIL MAIL,
     G LHOK OK210 "503 5.5.1 nested MAIL command\r\n", "", 0, 0, 0},
    {"RSET clears the transaction", LH MAIL R1 "RSET\r\n" R1,
     G LHOK OK210 OK215 OK200 "503 5.5.1 need MAIL before RCPT\r\n", "", 0, 0,
     0},
    {"HELO and EHLO are not LMTP", "HELO x\r\nEHLO x\r\n",
     G "500 5.5.1 this is LMTP: use LHLO\r\n"
       "500 5.5.1 this is LMTP: use LHLO\r\n",
     "", 0, 0, 0},
    {"unknown command, empty line, VRFY, NOOP", "FOO\r\n\r\nVRFY x\r\nNOOP\r\n",
     G "500 5.5.1 command unrecognized\r\n500 5.5.2 empty command\r\n"
       "252 2.5.2 cannot VRFY, send a message instead\r\n" OK200,
     "", 0, 0, 0},
    {"syntax errors",
     LH "MAIL FROM:a@b\r\nMAIL TO:<a@b>\r\n"
        "LHLO\r\n" MAIL "RCPT TO:<>\r\nRCPT TO:<a b@lists.example>\r\n"
        "DATA x\r\n",
     G LHOK "501 5.5.4 syntax: MAIL FROM:<address>\r\n"
            "501 5.5.4 syntax: MAIL FROM:<address>\r\n"
            "501 5.5.4 syntax: LHLO hostname\r\n" OK210
            "501 5.1.3 syntax: RCPT TO:<address>\r\n"
            "501 5.1.3 syntax: RCPT TO:<address>\r\n"
            "501 5.5.4 syntax: DATA\r\n",
     "", 0, 0, 0},
    {"SIZE parameter honoured",
     LH "MAIL FROM:<a@b> SIZE=1001\r\n"
        "MAIL FROM:<a@b> SIZE=x\r\nMAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME\r\n",
     G LHOK "552 5.3.4 message size exceeds fixed maximum message size\r\n"
            "501 5.5.4 malformed SIZE parameter\r\n" OK210,
     "", 0, 0, 0},
    {"unknown MAIL and RCPT parameters",
     LH "MAIL FROM:<a@b> AUTH=<>\r\n" MAIL
        "RCPT TO:<dk@lists.example> NOTIFY=NEVER\r\n",
     G LHOK "555 5.5.4 unsupported parameter\r\n" OK210
            "555 5.5.4 unsupported parameter\r\n",
     "", 0, 0, 0},
    {"too many recipients (limit 3)",
     LH MAIL R1 R2 "RCPT TO:<no@lists.example>\r\n"
                   "RCPT TO:<fi@lists.example>\r\nDATA\r\nx\r\n.\r\n",
     G LHOK OK210 OK215 OK215 OK215
     "452 4.5.3 too many recipients\r\n" D354 OK200 OK200 OK200,
     "x\n|", 0, 0, 0},
    {"message over the size limit refused after the dot",
     LH MAIL R1
     "DATA\r\n"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "\r\n"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "\r\n"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "\r\n"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "\r\n.\r\nNOOP\r\n",
     G LHOK OK210 OK215 D354 "552 5.3.4 message exceeds fixed maximum "
                             "message size\r\n" OK200,
     "[552 1124]|", 0, 0, 0},
    {"NUL byte in a command", LH "NO\0OP\r\nNOOP\r\n",
     G LHOK "500 5.5.2 NUL byte in command\r\n" OK200, "",
     sizeof(LH "NO\0OP\r\nNOOP\r\n") - 1, 0, 0},
    {"NUL byte in the message", LH MAIL R1 "DATA\r\na\0b\r\n.\r\nNOOP\r\n",
     G LHOK OK210 OK215 D354 "554 5.6.0 message contains NUL bytes\r\n" OK200,
     "[554 4]|", sizeof(LH MAIL R1 "DATA\r\na\0b\r\n.\r\nNOOP\r\n") - 1, 0, 0},
    {"QUIT ends processing", "QUIT\r\nNOOP\r\n", G BYE, "", 0, 0, 1},
    {"EOF inside DATA stores nothing", LH MAIL R1 "DATA\r\nhalf a mess",
     G LHOK OK210 OK215 D354, "", 0, 0, 1},
};

/* Lines too long to write in the table. */
static void
long_lines(void)
{
	static const struct {
		const char *name;
		size_t n;    /* bytes of the long line */
		int in_data; /* in the message, not as a command */
		const char *reply;
	} t[] = {
	    {"command of 998 octets + CRLF is fine", 998, 0,
	     "500 5.5.1 command unrecognized\r\n"},
	    {"command of 999 octets + CRLF is too long", 999, 0,
	     "500 5.5.2 line too long\r\n"},
	    {"command of 100000 octets", 100000, 0,
	     "500 5.5.2 line too long\r\n"},
	    {"data line of 998 octets accepted", 998, 1, OK200},
	    {"data line of 999 octets refuses the message", 999, 1,
	     "554 5.6.0 message has a line longer than 998 octets\r\n"},
	    {"data line of 1 MB refuses the message", 1 << 20, 1,
	     "554 5.6.0 message has a line longer than 998 octets\r\n"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct lmtp_limits lim = {(size_t)4 << 20, 10, "test"};
		struct lmtp_callbacks cb = {stub_rcpt, NULL, NULL, NULL};
		struct lmtp *s = lmtp_new(&lim, &cb);
		struct buf want = BUF_INIT;
		char *line = xmalloc(t[i].n);
		const char *out;
		size_t n;

		memset(line, 'x', t[i].n);
		if (t[i].in_data)
			lmtp_feed(
			    s, "LHLO c\r\nMAIL FROM:<>\r\n" R1 "DATA\r\n",
			    strlen("LHLO c\r\nMAIL FROM:<>\r\n" R1 "DATA\r\n"));
		lmtp_consume(s, lmtp_output(s, &n) ? n : 0);
		lmtp_feed(s, line, t[i].n);
		lmtp_feed(s, "\r\n", 2);
		if (t[i].in_data)
			lmtp_feed(s, ".\r\n", 3);
		lmtp_feed(s, "NOOP\r\n", 6);
		buf_adds(&want, t[i].reply);
		buf_adds(&want, OK200);
		out = lmtp_output(s, &n);
		is_str(out, buf_str(&want), "%s", t[i].name);
		free(line);
		buf_free(&want);
		lmtp_free(s);
	}
}

/* Feed `in` in chunks of `step` bytes (0: all at once). */
static void
run(const struct dialogue *d, size_t step, struct buf *out, struct ctx *c)
{
	struct lmtp_limits lim = {1000, 3, "test"};
	struct lmtp_callbacks cb = {stub_rcpt, stub_message, c, stub_refused};
	size_t len = d->in_len ? d->in_len : strlen(d->in), pos = 0, n;
	struct lmtp *s;
	const char *o;

	c->wait = d->wait;
	s = lmtp_new(&lim, &cb);
	while (pos < len) {
		size_t k = step && step < len - pos ? step : len - pos;

		lmtp_feed(s, d->in + pos, k);
		pos += k;
		/* Group commit: the answer comes after the iteration. */
		while (lmtp_waiting(s))
			lmtp_resume(s);
		o = lmtp_output(s, &n);
		buf_add(out, o, n);
		lmtp_consume(s, n);
	}
	if (d->closed && !lmtp_closing(s))
		lmtp_eof(s);
	o = lmtp_output(s, &n);
	buf_add(out, o, n);
	if (d->closed != lmtp_closing(s))
		buf_adds(out, d->closed ? "[not closed]" : "[closed]");
	lmtp_free(s);
}

int
main(void)
{
	static const size_t steps[] = {0, 1, 7};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (j = 0; j < ARRAY_SIZE(steps); j++) {
			struct buf out = BUF_INIT;
			struct ctx c = {BUF_INIT, 0, 0};

			run(&cases[i], steps[j], &out, &c);
			is_str(buf_str(&out), cases[i].out,
			       "%s (chunks of %zu)", cases[i].name, steps[j]);
			is_str(buf_str(&c.bodies), cases[i].bodies,
			       "%s: stored (chunks of %zu)", cases[i].name,
			       steps[j]);
			buf_free(&out);
			buf_free(&c.bodies);
		}
	}
	long_lines();

	/* Shutdown: idle sessions are told at once, busy ones at the end. */
	{
		struct lmtp *s = lmtp_new(NULL, NULL);
		const char *o;
		size_t n;

		lmtp_consume(s, 1000);
		lmtp_shutdown(s);
		o = lmtp_output(s, &n);
		is_str(o,
		       "421 4.3.2 service shutting down, closing "
		       "connection\r\n",
		       "shutdown: idle session told now");
		ok(lmtp_closing(s), "shutdown: idle session closes");
		lmtp_free(s);

		s = lmtp_new(NULL, NULL);
		lmtp_feed(s,
		          "LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n"
		          "x\r\n",
		          43);
		lmtp_consume(s, 10000);
		lmtp_shutdown(s);
		ok(!lmtp_closing(s), "shutdown: message in progress goes on");
		lmtp_feed(s, ".\r\nNOOP\r\n", 9);
		o = lmtp_output(s, &n);
		is_str(o,
		       OK200 "421 4.3.2 service shutting down, closing "
		             "connection\r\n",
		       "shutdown: message finished, then 421");
		lmtp_free(s);

		s = lmtp_new(NULL, NULL);
		lmtp_consume(s, 1000);
		lmtp_abort(s, "421 4.4.2 idle timeout");
		lmtp_feed(s, "NOOP\r\n", 6);
		o = lmtp_output(s, &n);
		is_str(o, "421 4.4.2 idle timeout\r\n",
		       "abort: one line, then "
		       "input ignored");
		lmtp_free(s);
	}

	/* Too many errors end the session. */
	{
		struct lmtp *s = lmtp_new(NULL, NULL);
		int k;

		for (k = 0; k < 25 && !lmtp_closing(s); k++)
			lmtp_feed(s, "BAD\r\n", 5);
		is_int(k, 20, "20 bad commands close the session");
		lmtp_free(s);
	}
	return done_testing();
}
