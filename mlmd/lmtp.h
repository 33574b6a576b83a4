/*
 * lmtp.h - the server side of LMTP (RFC 2033) as a state machine without
 * I/O: lmtp_feed() takes the bytes a client sent, the replies accumulate in
 * an output buffer that the caller sends, and two callbacks ask the caller
 * about each recipient and hand it each complete message.  The network
 * code (lmtp_server.c), the unit tests and the fuzz target drive it alike.
 *
 * A message callback may answer later (group commit): it returns
 * LMTP_WAIT, the session then holds further input until lmtp_resume().
 */
#ifndef MLMD_LMTP_H
#define MLMD_LMTP_H

#include <stddef.h>

#include "buf.h"

#define LMTP_LINE_MAX      1000  /* a command line, CRLF included (RFC 5321) */
#define LMTP_DATA_LINE_MAX 1000  /* a data line: 998 octets + CRLF */
#define LMTP_INPUT_MAX     65536 /* unprocessed input held while waiting */

enum lmtp_rcpt_status {
	LMTP_RCPT_OK,      /* 250 2.1.5 */
	LMTP_RCPT_UNKNOWN, /* 550 5.1.1 */
	LMTP_RCPT_TEMPFAIL /* 451 4.3.0 */
};

enum lmtp_msg_status {
	LMTP_DONE, /* the per-recipient replies are set; send them now */
	LMTP_WAIT  /* the caller calls lmtp_resume() later */
};

struct lmtp;

struct lmtp_callbacks {
	/* Is addr (without <>) one of ours?  NULL: every address is. */
	enum lmtp_rcpt_status (*rcpt)(void *arg, const char *addr);
	/*
	 * A message is complete (dot seen, size and line limits kept).  The
	 * body is lmtp_body(); set a reply per recipient with
	 * lmtp_set_reply() (default "250 2.0.0 Ok").  NULL: default replies.
	 */
	enum lmtp_msg_status (*message)(void *arg, struct lmtp *s);
	void *arg;
	/* Optional: a message was refused as a whole (too big, a line too
	 * long, NUL bytes) with this reply; for the log.  NULL: ignored. */
	void (*refused)(void *arg, struct lmtp *s, const char *reply);
};

struct lmtp_limits {
	size_t max_size;      /* message bytes (SIZE), 0: 25 MiB */
	size_t max_rcpts;     /* recipients per message, 0: 1000 */
	const char *hostname; /* for the greeting, NULL: "localhost" */
};

/* A new session; the 220 greeting is already in the output. */
struct lmtp *lmtp_new(const struct lmtp_limits *lim,
                      const struct lmtp_callbacks *cb);
void lmtp_free(struct lmtp *s);

/* Process n bytes from the client (any split).  Replies go to the output. */
void lmtp_feed(struct lmtp *s, const char *p, size_t n);
/* The client closed its side: an unfinished message is dropped. */
void lmtp_eof(struct lmtp *s);

/* Bytes to send; lmtp_consume() drops the first n of them once sent. */
const char *lmtp_output(const struct lmtp *s, size_t *n);
void lmtp_consume(struct lmtp *s, size_t n);
/* 1 once the session is over (QUIT, 421): send the output, then close. */
int lmtp_closing(const struct lmtp *s);
/* 1 while a message callback's answer is pending (hold input). */
int lmtp_waiting(const struct lmtp *s);
/* 1 if the held input reached LMTP_INPUT_MAX (stop reading). */
int lmtp_input_full(const struct lmtp *s);

/* Shutdown: the next command (or now, if idle) gets 421 4.3.2. */
void lmtp_shutdown(struct lmtp *s);
/* End the session now with this reply line (e.g. "421 4.4.2 timeout"). */
void lmtp_abort(struct lmtp *s, const char *line);

/* For the message callback: the envelope and the body (LF line ends,
 * unstuffed; borrowed until the callback's answer is complete). */
const char *lmtp_sender(const struct lmtp *s);
size_t lmtp_rcpt_count(const struct lmtp *s);
const char *lmtp_rcpt(const struct lmtp *s, size_t i);
const char *lmtp_body(const struct lmtp *s, size_t *len);
/* Bytes of the message received so far (also when refused). */
size_t lmtp_data_size(const struct lmtp *s);
/* Set the reply line (without CRLF) for recipient i. */
void lmtp_set_reply(struct lmtp *s, size_t i, const char *line);
/* Set the same reply for all recipients. */
void lmtp_set_reply_all(struct lmtp *s, const char *line);
/* The pending message is answered: send the replies, go on with input. */
void lmtp_resume(struct lmtp *s);

#endif
