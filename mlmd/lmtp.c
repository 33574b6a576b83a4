/*
 * lmtp.c - the LMTP server protocol (RFC 2033, with RFC 5321 commands,
 * RFC 2920 PIPELINING, RFC 2034 ENHANCEDSTATUSCODES, RFC 6152 8BITMIME,
 * RFC 1870 SIZE) as a state machine free of I/O.
 *
 * Owns one session's protocol state: the envelope of the transaction in
 * progress, the message body (capped at the size limit), the unprocessed
 * input and the replies not yet sent.  Invariants:
 *  - every byte fed is either processed or held (at most LMTP_INPUT_MAX
 *    bytes; the caller stops reading when lmtp_input_full());
 *  - no input is processed while a message is waiting for its answer, so
 *    pipelined commands after the final dot are answered in order;
 *  - lines are capped (LMTP_LINE_MAX); a longer command gets 500 5.5.2, a
 *    longer data line makes the whole message refused (554), never
 *    truncated; a message over max_size is refused (552) after its dot;
 *  - after DATA there is one reply per accepted recipient (RFC 2033 4.2).
 *
 * Clients may end lines with CRLF or a bare LF.  Called by lmtp_server.c,
 * t/lmtp_test.c and t/fuzz/fuzz_lmtp.c.  Nothing here fails: protocol
 * errors are replies; out-of-memory aborts (xmalloc).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lmtp.h"
#include "util.h"

#define LMTP_OUTPUT_HIGH 65536 /* stop processing input above this */
#define LMTP_MAX_ERRORS  20    /* bad commands before we hang up */
#define LMTP_ADDR_MAX    320

enum state { S_CMD, S_DATA, S_WAIT, S_CLOSED };

struct lmtp {
	struct lmtp_limits lim;
	struct lmtp_callbacks cb;
	enum state state;
	int lhlo;      /* LHLO seen */
	int have_mail; /* MAIL accepted, transaction open */
	int shutdown;  /* answer the next command with 421 */
	int errors;    /* bad commands so far */
	int eof;       /* the client is gone; close after the answer */
	char *sender;
	char **rcpts, **replies;
	size_t n_rcpts, cap_rcpts;

	struct buf line; /* the line being collected */
	int line_long;   /* the current line passed its limit */
	struct buf body;
	int body_big, body_long_line, body_nul;
	size_t data_bytes; /* received in DATA, unstuffed, LF line ends */

	struct buf in;  /* input held while waiting */
	struct buf out; /* replies not yet sent */
};

static void process_held(struct lmtp *s);

static void
reply(struct lmtp *s, const char *line)
{
	buf_adds(&s->out, line);
	buf_adds(&s->out, "\r\n");
}

static void
close_with(struct lmtp *s, const char *line)
{
	if (s->state == S_CLOSED)
		return;
	reply(s, line);
	s->state = S_CLOSED;
}

static void
reset_txn(struct lmtp *s)
{
	size_t i;

	for (i = 0; i < s->n_rcpts; i++) {
		free(s->rcpts[i]);
		free(s->replies[i]);
	}
	s->n_rcpts = 0;
	free(s->sender);
	s->sender = NULL;
	s->have_mail = 0;
	buf_free(&s->body);
	s->body_big = s->body_long_line = s->body_nul = 0;
	s->data_bytes = 0;
}

struct lmtp *
lmtp_new(const struct lmtp_limits *lim, const struct lmtp_callbacks *cb)
{
	struct lmtp *s = xcalloc(1, sizeof(*s));

	if (lim)
		s->lim = *lim;
	if (!s->lim.max_size)
		s->lim.max_size = (size_t)25 << 20;
	if (!s->lim.max_rcpts)
		s->lim.max_rcpts = 1000;
	/* A copy: the caller's configuration may be replaced (SIGHUP). */
	s->lim.hostname =
	    xstrdup(s->lim.hostname ? s->lim.hostname : "localhost");
	if (cb)
		s->cb = *cb;
	buf_init(&s->line, LMTP_LINE_MAX + 1);
	buf_init(&s->in, LMTP_INPUT_MAX);
	/* Replies are bounded by the held input and the recipient cap. */
	buf_init(&s->out, 0);
	buf_printf(&s->out, "220 %s LMTP mlmd ready\r\n", s->lim.hostname);
	return s;
}

void
lmtp_free(struct lmtp *s)
{
	if (!s)
		return;
	reset_txn(s);
	free(s->rcpts);
	free(s->replies);
	buf_free(&s->line);
	buf_free(&s->in);
	buf_free(&s->out);
	free((char *)s->lim.hostname);
	free(s);
}

/* A bad command: counted, and too many end the session. */
static void
bad(struct lmtp *s, const char *line)
{
	if (++s->errors >= LMTP_MAX_ERRORS) {
		reply(s, line);
		close_with(s, "421 4.7.0 too many errors, closing connection");
		return;
	}
	reply(s, line);
}

/*
 * Parse "<addr>" (after FROM: / TO:) into out; the rest (parameters) is
 * returned in *rest.  -1 on a syntax error.
 */
static int
parse_path(const char *p, char *out, size_t outsz, const char **rest)
{
	const char *end;
	size_t n;

	while (*p == ' ')
		p++;
	if (*p != '<')
		return -1;
	end = strchr(p, '>');
	if (!end)
		return -1;
	p++;
	/* A source route (@a,@b:user@host) is ignored, RFC 5321 4.1.2. */
	if (*p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (!colon)
			return -1;
		p = colon + 1;
	}
	n = (size_t)(end - p);
	if (n >= outsz)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	for (; *out; out++)
		if ((unsigned char)*out <= ' ' || *out == 0x7f || *out == '<')
			return -1;
	*rest = end + 1;
	return 0;
}

/* SIZE=n and BODY=... are known; anything else is refused. */
static int
mail_params(struct lmtp *s, const char *p)
{
	char word[64];

	for (;;) {
		size_t n;

		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		n = strcspn(p, " ");
		if (n >= sizeof(word)) {
			bad(s, "555 5.5.4 unsupported parameter");
			return -1;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (str_has_prefix_ci(word, "SIZE=")) {
			char *end;
			unsigned long long v = strtoull(word + 5, &end, 10);

			if (end == word + 5 || *end || word[5] == '-') {
				bad(s, "501 5.5.4 malformed SIZE parameter");
				return -1;
			}
			if (v > s->lim.max_size) {
				reply(s, "552 5.3.4 message size exceeds "
				         "fixed maximum message size");
				return -1;
			}
		} else if (strcasecmp(word, "BODY=7BIT") == 0 ||
		           strcasecmp(word, "BODY=8BITMIME") == 0) {
			/* 8-bit bodies are stored as they come. */
		} else {
			bad(s, "555 5.5.4 unsupported parameter");
			return -1;
		}
	}
}

static void
cmd_lhlo(struct lmtp *s, const char *arg)
{
	if (!*arg) {
		bad(s, "501 5.5.4 syntax: LHLO hostname");
		return;
	}
	reset_txn(s);
	s->lhlo = 1;
	buf_printf(&s->out,
	           "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
	           "250-8BITMIME\r\n250 SIZE %zu\r\n",
	           s->lim.hostname, s->lim.max_size);
}

static void
cmd_mail(struct lmtp *s, const char *arg)
{
	char addr[LMTP_ADDR_MAX + 1];
	const char *rest;

	if (!s->lhlo) {
		bad(s, "503 5.5.1 send LHLO first");
		return;
	}
	if (s->have_mail) {
		bad(s, "503 5.5.1 nested MAIL command");
		return;
	}
	if (!str_has_prefix_ci(arg, "FROM:") ||
	    parse_path(arg + 5, addr, sizeof(addr), &rest) < 0) {
		bad(s, "501 5.5.4 syntax: MAIL FROM:<address>");
		return;
	}
	if (mail_params(s, rest) < 0)
		return;
	s->sender = xstrdup(addr);
	s->have_mail = 1;
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct lmtp *s, const char *arg)
{
	char addr[LMTP_ADDR_MAX + 1], line[LMTP_ADDR_MAX + 64];
	enum lmtp_rcpt_status st = LMTP_RCPT_OK;
	const char *rest;

	if (!s->have_mail) {
		bad(s, "503 5.5.1 need MAIL before RCPT");
		return;
	}
	if (!str_has_prefix_ci(arg, "TO:") ||
	    parse_path(arg + 3, addr, sizeof(addr), &rest) < 0 || !addr[0]) {
		bad(s, "501 5.1.3 syntax: RCPT TO:<address>");
		return;
	}
	while (*rest == ' ')
		rest++;
	if (*rest) {
		bad(s, "555 5.5.4 unsupported parameter");
		return;
	}
	if (s->n_rcpts >= s->lim.max_rcpts) {
		reply(s, "452 4.5.3 too many recipients");
		return;
	}
	if (s->cb.rcpt)
		st = s->cb.rcpt(s->cb.arg, addr);
	switch (st) {
	case LMTP_RCPT_OK:
		break;
	case LMTP_RCPT_UNKNOWN:
		snprintf(line, sizeof(line),
		         "550 5.1.1 <%s>: no such list address", addr);
		reply(s, line);
		return;
	default:
		reply(s, "451 4.3.0 temporary failure, try again later");
		return;
	}
	if (s->n_rcpts + 1 > s->cap_rcpts) {
		size_t cap = s->cap_rcpts;

		s->rcpts =
		    xgrow(s->rcpts, &cap, s->n_rcpts + 1, sizeof(char *));
		s->replies = xgrow(s->replies, &s->cap_rcpts, s->n_rcpts + 1,
		                   sizeof(char *));
	}
	s->rcpts[s->n_rcpts] = xstrdup(addr);
	s->replies[s->n_rcpts] = NULL;
	s->n_rcpts++;
	reply(s, "250 2.1.5 Ok");
}

static void
cmd_data(struct lmtp *s, const char *arg)
{
	if (*arg) {
		bad(s, "501 5.5.4 syntax: DATA");
		return;
	}
	if (!s->have_mail) {
		bad(s, "503 5.5.1 need MAIL before DATA");
		return;
	}
	if (s->n_rcpts == 0) {
		bad(s, "503 5.5.1 no valid recipients");
		return;
	}
	buf_init(&s->body, 0);
	s->state = S_DATA;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void
command(struct lmtp *s, const char *line, size_t len)
{
	static const char *const verbs[] = {"LHLO", "MAIL", "RCPT", "DATA",
	                                    "RSET", "NOOP", "QUIT", "VRFY",
	                                    "HELO", "EHLO"};
	const char *arg;
	size_t vlen, i;

	if (s->shutdown) {
		close_with(s, "421 4.3.2 service shutting down, closing "
		              "connection");
		return;
	}
	if (s->line_long) {
		bad(s, "500 5.5.2 line too long");
		return;
	}
	if (memchr(line, '\0', len)) {
		bad(s, "500 5.5.2 NUL byte in command");
		return;
	}
	vlen = strcspn(line, " ");
	arg = line + vlen;
	while (*arg == ' ')
		arg++;
	for (i = 0; i < ARRAY_SIZE(verbs); i++)
		if (vlen == 4 && strncasecmp(line, verbs[i], 4) == 0)
			break;
	switch (i) {
	case 0:
		cmd_lhlo(s, arg);
		break;
	case 1:
		cmd_mail(s, arg);
		break;
	case 2:
		cmd_rcpt(s, arg);
		break;
	case 3:
		cmd_data(s, arg);
		break;
	case 4:
		reset_txn(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case 5:
		reply(s, "250 2.0.0 Ok");
		break;
	case 6:
		close_with(s, "221 2.0.0 Bye");
		break;
	case 7:
		reply(s, "252 2.5.2 cannot VRFY, send a message instead");
		break;
	case 8:
	case 9:
		bad(s, "500 5.5.1 this is LMTP: use LHLO");
		break;
	default:
		bad(s, vlen == 0 ? "500 5.5.2 empty command"
		                 : "500 5.5.1 command unrecognized");
	}
}

static void
send_replies(struct lmtp *s)
{
	size_t i;

	for (i = 0; i < s->n_rcpts; i++)
		reply(s, s->replies[i] ? s->replies[i] : "250 2.0.0 Ok");
	reset_txn(s);
	s->state = s->state == S_CLOSED ? S_CLOSED : S_CMD;
}

static void
end_of_data(struct lmtp *s)
{
	const char *refuse = NULL;

	s->state = S_CMD;
	if (s->body_long_line)
		refuse = "554 5.6.0 message has a line longer than 998 octets";
	else if (s->body_nul)
		refuse = "554 5.6.0 message contains NUL bytes";
	else if (s->body_big)
		refuse = "552 5.3.4 message exceeds fixed maximum message size";
	if (refuse) {
		lmtp_set_reply_all(s, refuse);
		if (s->cb.refused)
			s->cb.refused(s->cb.arg, s, refuse);
	} else if (s->cb.message) {
		s->state = S_WAIT;
		if (s->cb.message(s->cb.arg, s) == LMTP_WAIT)
			return;
		s->state = S_CMD;
	}
	send_replies(s);
}

static void
data_line(struct lmtp *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.') {
		end_of_data(s);
		return;
	}
	if (s->line_long) {
		s->body_long_line = 1;
		return;
	}
	if (len && line[0] == '.') { /* dot-stuffing, RFC 5321 4.5.2 */
		line++;
		len--;
	}
	s->data_bytes += len + 1;
	if (memchr(line, '\0', len))
		s->body_nul = 1;
	if (s->body_big || s->body_long_line || s->body_nul)
		return; /* refused anyway: keep nothing more */
	if (s->body.len + len + 1 > s->lim.max_size) {
		s->body_big = 1;
		buf_free(&s->body);
		return;
	}
	buf_add(&s->body, line, len);
	buf_addc(&s->body, '\n');
}

/*
 * Process as much of p as possible; returns the bytes consumed.  Stops at
 * a pending message answer, at the end of the session, or when too many
 * replies wait to be sent.
 */
static size_t
process(struct lmtp *s, const char *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		const char *nl;
		size_t seg, len;

		if (s->state == S_WAIT || s->state == S_CLOSED ||
		    s->out.len > LMTP_OUTPUT_HIGH)
			break;
		nl = memchr(p + done, '\n', n - done);
		seg = nl ? (size_t)(nl - (p + done)) : n - done;
		if (!s->line_long) {
			if (s->line.len + seg > LMTP_LINE_MAX) {
				/* Keep no more; answer at its end. */
				s->line_long = 1;
			} else {
				buf_add(&s->line, p + done, seg);
			}
		}
		done += seg;
		if (!nl)
			break;
		done++; /* the LF */
		len = s->line.len;
		if (len && s->line.s[len - 1] == '\r')
			len--;
		/* 998 octets + CRLF is the limit; a bare LF counts as two. */
		if (!s->line_long && len > LMTP_LINE_MAX - 2)
			s->line_long = 1;
		if (s->state == S_DATA) {
			data_line(s, s->line.s ? s->line.s : "", len);
		} else {
			buf_truncate(&s->line, len);
			command(s, buf_str(&s->line), len);
		}
		buf_reset(&s->line);
		s->line_long = 0;
	}
	return done;
}

void
lmtp_feed(struct lmtp *s, const char *p, size_t n)
{
	size_t done = 0;

	if (s->state == S_CLOSED)
		return;
	if (s->in.len == 0)
		done = process(s, p, n);
	if (done < n && s->state != S_CLOSED &&
	    buf_add(&s->in, p + done, n - done) < 0)
		close_with(s, "421 4.7.0 too much pipelined input, closing "
		              "connection");
}

static void
process_held(struct lmtp *s)
{
	size_t done;

	if (s->in.len == 0)
		return;
	done = process(s, s->in.s, s->in.len);
	if (s->state == S_CLOSED) {
		buf_reset(&s->in);
		return;
	}
	memmove(s->in.s, s->in.s + done, s->in.len - done);
	buf_truncate(&s->in, s->in.len - done);
}

void
lmtp_eof(struct lmtp *s)
{
	/* Nothing unfinished was acknowledged: just forget it. */
	if (s->state == S_DATA)
		reset_txn(s);
	if (s->state == S_WAIT)
		s->eof = 1;
	else
		s->state = S_CLOSED;
}

const char *
lmtp_output(const struct lmtp *s, size_t *n)
{
	*n = s->out.len;
	return s->out.s ? s->out.s : "";
}

void
lmtp_consume(struct lmtp *s, size_t n)
{
	if (n > s->out.len)
		n = s->out.len;
	memmove(s->out.s, s->out.s + n, s->out.len - n);
	buf_truncate(&s->out, s->out.len - n);
	if (s->out.len <= LMTP_OUTPUT_HIGH && s->state == S_CMD)
		process_held(s);
}

int
lmtp_closing(const struct lmtp *s)
{
	return s->state == S_CLOSED;
}

int
lmtp_waiting(const struct lmtp *s)
{
	return s->state == S_WAIT;
}

int
lmtp_input_full(const struct lmtp *s)
{
	return s->in.len >= LMTP_INPUT_MAX / 2;
}

void
lmtp_shutdown(struct lmtp *s)
{
	s->shutdown = 1;
	/* Idle between commands: say so now rather than at the next one. */
	if (s->state == S_CMD && s->line.len == 0 && s->in.len == 0)
		close_with(s, "421 4.3.2 service shutting down, closing "
		              "connection");
}

void
lmtp_abort(struct lmtp *s, const char *line)
{
	close_with(s, line);
}

const char *
lmtp_sender(const struct lmtp *s)
{
	return s->sender ? s->sender : "";
}

size_t
lmtp_rcpt_count(const struct lmtp *s)
{
	return s->n_rcpts;
}

const char *
lmtp_rcpt(const struct lmtp *s, size_t i)
{
	return i < s->n_rcpts ? s->rcpts[i] : NULL;
}

const char *
lmtp_body(const struct lmtp *s, size_t *len)
{
	*len = s->body.len;
	return s->body.s ? s->body.s : "";
}

size_t
lmtp_data_size(const struct lmtp *s)
{
	return s->data_bytes;
}

void
lmtp_set_reply(struct lmtp *s, size_t i, const char *line)
{
	if (i >= s->n_rcpts)
		return;
	free(s->replies[i]);
	s->replies[i] = xstrndup(line, strcspn(line, "\r\n"));
}

void
lmtp_set_reply_all(struct lmtp *s, const char *line)
{
	size_t i;

	for (i = 0; i < s->n_rcpts; i++)
		lmtp_set_reply(s, i, line);
}

void
lmtp_resume(struct lmtp *s)
{
	if (s->state != S_WAIT) {
		if (s->state == S_CLOSED)
			reset_txn(s);
		return;
	}
	s->state = S_CMD;
	send_replies(s);
	/* Commands pipelined before the client's EOF still get answers. */
	process_held(s);
	if (s->eof && s->state != S_WAIT)
		s->state = S_CLOSED;
}
