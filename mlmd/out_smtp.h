/*
 * out_smtp.h - outbound SMTP transactions to the relay MTA, many at once,
 * driven by the daemon's poll loop.  libcurl stays inside out_smtp.c.
 *
 * A transaction is one envelope (sender, recipients, message).  The result
 * comes back through a callback with one status per recipient: the RCPT
 * reply when the relay refused the recipient there, else the reply to the
 * end of DATA.  A transaction that never reached the relay (connection
 * refused, timeout, TLS failure) reports every recipient with code 0 and
 * says why in errmsg: the caller treats that as a temporary failure.
 */
#ifndef MLMD_OUT_SMTP_H
#define MLMD_OUT_SMTP_H

#include <stddef.h>

struct loop;
struct out_smtp;

struct out_rcpt_status {
	int code;      /* SMTP reply code (250, 450, 550, ...), 0 if none */
	char text[200]; /* the reply text, e.g. "5.1.1 <x@y>: user unknown" */
};

/*
 * Called once per transaction.  st has one entry per recipient, in the
 * order given; errmsg is NULL when the relay answered, else why not.
 * st and errmsg are valid only during the call.
 */
typedef void out_smtp_done_fn(void *arg, const struct out_rcpt_status *st,
			      size_t n, const char *errmsg);

struct out_smtp_opts {
	const char *url;   /* smtp://host:port or smtps://user:pass@host:port */
	const char *helo;  /* EHLO name (the list domain) */
	int max_conns;     /* parallel connections to the relay (default 4) */
	long timeout_ms;   /* whole-transaction budget (default 300000) */
	const char *cainfo;/* CA bundle for smtps/STARTTLS, NULL: system */
	int pipelining;    /* 1: a plain smtp:// relay without credentials
	                    * goes through mlmd's own client (out_pipe.c:
	                    * RFC 2920 pipelining); 0: always libcurl */
};

/* NULL on error (logged).  The loop must outlive the out_smtp. */
struct out_smtp *out_smtp_new(struct loop *l, const struct out_smtp_opts *o);
/* Finishes nothing: transactions in flight are abandoned (their callback
 * is not called); their recipients stay queued in the store. */
void out_smtp_free(struct out_smtp *o);

/*
 * Queue one transaction.  from may be "" (null sender).  rcpts and data
 * are copied; data must use CRLF line ends and not be dot-stuffed (libcurl
 * stuffs).  Returns 0, or -1 if the arguments are bad.
 */
int out_smtp_send(struct out_smtp *o, const char *from,
		  const char *const *rcpts, size_t n, const char *data,
		  size_t len, out_smtp_done_fn *fn, void *arg);

/* Transactions queued or in flight. */
size_t out_smtp_pending(const struct out_smtp *o);

#endif
