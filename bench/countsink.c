/*
 * countsink.c - a small, fast SMTP sink that counts recipients, for
 * bench/fanout (not part of the mlmd build: the driver compiles it with
 * `cc -O2` into its temp dir).
 *
 *   countsink [-d] [-a ADDR] PORT LOGFILE
 *
 * Listens on ADDR (127.0.0.1) port PORT; with PORT 0 the kernel picks one
 * and it is printed on stdout ("port N") once the socket listens, so the
 * caller never races another program for a "free" port.  Speaks ESMTP
 * (RFC 5321) with PIPELINING (RFC 2920) and 8BITMIME advertised, and
 * accepts every command with 250 (RCPT, MAIL, RSET, NOOP, HELO/EHLO, and
 * anything it does not know), DATA with 354, QUIT with 221.  It stores
 * nothing.
 *
 * For every message accepted (the 250 after the final "."), one line is
 * appended to LOGFILE:
 *
 *   TIME_US NRCPT POST BYTES
 *
 * TIME_US is CLOCK_REALTIME in microseconds when the final "." was seen,
 * NRCPT the number of RCPT commands of the transaction, POST the value of
 * the first "X-Bench-Post:" header of the message ("-" if none; white
 * space removed, at most 63 bytes), BYTES the size of the DATA payload.
 * The log is written with one write(2) per poll round (a 1 MB stdio
 * buffer flushed after each round), so a reader of the file sees every
 * message within one round of its acceptance.
 *
 * Design: one process, one poll() loop over non-blocking sockets, a
 * 256 KB input buffer per connection.  Commands are parsed line by line
 * in the buffer and the replies of a whole pipelined group leave in one
 * write(); DATA is scanned with memmem() for "\n.\r\n" (headers are
 * looked at line by line only until the first empty line), and consumed
 * body bytes are dropped at once, keeping the last 3 in case the
 * terminator straddles two reads.  TCP_NODELAY on accepted sockets, so
 * that a reply never waits for the ACK of the previous one.  A
 * connection whose replies cannot be written (peer not reading) is not
 * read until they are.
 *
 * Delayed ACKs: a client that writes the end of a message ("\r\n.\r\n")
 * in a small segment of its own after the body, without TCP_NODELAY,
 * has Nagle hold that segment until the body is ACKed; a receiver with
 * nothing to answer yet delays that ACK (~40 ms on Linux), so every
 * message costs ~40 ms.  Postfix's smtpd behaves like that, and mlmmj's
 * one-envelope-per-recipient mode then stalls at ~22 messages/s per
 * stream.  To measure the senders rather than that interaction, the
 * sink re-arms TCP_QUICKACK after every read (Linux drops out of quick-
 * ACK mode on its own); -d leaves the kernel's delayed ACKs alone, like
 * an ordinary server.
 *
 * Signals: SIGTERM or SIGINT flush the log, print the totals
 * ("countsink: M messages, R recipients, C connections") on stderr and
 * exit 0.  Errors at start-up exit 1 with a message; errors on one
 * connection close that connection only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INBUF   (256 * 1024)
#define OUTBUF  4096
#define MAXCONN 4096
#define POSTMAX 64

enum state { ST_CMD, ST_HDR, ST_BODY, ST_QUIT };

struct conn {
	int fd;
	enum state st;
	char *in;         /* INBUF bytes */
	size_t len;       /* bytes in in[] */
	size_t pos;       /* first unparsed byte */
	char out[OUTBUF]; /* replies not yet written */
	size_t olen;
	long nrcpt;
	long bytes; /* DATA bytes consumed so far */
	char post[POSTMAX];
};

static volatile sig_atomic_t stop;
static struct conn *conns[MAXCONN];
static struct pollfd pfd[MAXCONN + 1];
static int nconn;
static FILE *logf;
static unsigned long long t_msgs, t_rcpts, t_conns;
static int quickack = 1;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
reply(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	/* The peer pipelined more than OUTBUF of commands without reading:
	 * replies are still written in order, just one write earlier. */
	if (c->olen + n > sizeof(c->out)) {
		ssize_t w = write(c->fd, c->out, c->olen);

		if (w > 0) {
			memmove(c->out, c->out + w, c->olen - (size_t)w);
			c->olen -= (size_t)w;
		}
		if (c->olen + n > sizeof(c->out)) {
			c->st = ST_QUIT; /* hopeless: drop the connection */
			c->olen = 0;
			return;
		}
	}
	memcpy(c->out + c->olen, s, n);
	c->olen += n;
}

static int
cmd_is(const char *line, size_t n, const char *verb)
{
	size_t k = strlen(verb);

	return n >= k && strncasecmp(line, verb, k) == 0 &&
	       (n == k || line[k] == ' ' || line[k] == '\r' ||
	        line[k] == '\n' || line[k] == ':');
}

static void
command(struct conn *c, const char *line, size_t n)
{
	if (cmd_is(line, n, "EHLO") || cmd_is(line, n, "LHLO")) {
		reply(c, "250-countsink\r\n250-PIPELINING\r\n"
		         "250-8BITMIME\r\n250-SIZE 0\r\n250 SMTPUTF8\r\n");
	} else if (cmd_is(line, n, "MAIL")) {
		c->nrcpt = 0;
		reply(c, "250 2.1.0 Ok\r\n");
	} else if (cmd_is(line, n, "RCPT")) {
		c->nrcpt++;
		reply(c, "250 2.1.5 Ok\r\n");
	} else if (cmd_is(line, n, "DATA")) {
		c->st = ST_HDR;
		c->bytes = 0;
		c->post[0] = '\0';
		reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
	} else if (cmd_is(line, n, "RSET")) {
		c->nrcpt = 0;
		reply(c, "250 2.0.0 Ok\r\n");
	} else if (cmd_is(line, n, "QUIT")) {
		reply(c, "221 2.0.0 Bye\r\n");
		c->st = ST_QUIT;
	} else if (cmd_is(line, n, "VRFY")) {
		reply(c, "252 2.0.0 Ok\r\n");
	} else {
		reply(c, "250 Ok\r\n");
	}
}

static void
message_done(struct conn *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(logf, "%lld %ld %s %ld\n",
	        (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, c->nrcpt,
	        c->post[0] ? c->post : "-", c->bytes);
	t_msgs++;
	t_rcpts += (unsigned long long)c->nrcpt;
	c->nrcpt = 0;
	c->st = ST_CMD;
	reply(c, "250 2.0.0 Ok: counted\r\n");
}

static void
header(struct conn *c, const char *line, size_t n)
{
	static const char name[] = "X-Bench-Post:";
	size_t k = sizeof(name) - 1, i, o = 0;

	if (c->post[0] || n < k || strncasecmp(line, name, k) != 0)
		return;
	for (i = k; i < n && o < POSTMAX - 1; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		    line[i] != '\n')
			c->post[o++] = line[i];
	c->post[o] = '\0';
}

/* Parse what is in c->in[pos..len); returns when more input is needed. */
static void
parse(struct conn *c)
{
	while (c->pos < c->len && c->st != ST_QUIT) {
		char *p = c->in + c->pos;
		size_t avail = c->len - c->pos;
		char *nl;

		if (c->st == ST_BODY) {
			/* pos points at the "\n" that ended the previous
			 * line, so a terminator right there is found too */
			char *e = memmem(p, avail, "\n.\r\n", 4);

			if (e == NULL) {
				if (avail > 3) {
					c->bytes += (long)(avail - 3);
					c->pos = c->len - 3;
				}
				return;
			}
			c->bytes += (long)(e + 1 - p);
			c->pos += (size_t)(e + 4 - p);
			message_done(c);
			continue;
		}
		nl = memchr(p, '\n', avail);
		if (nl == NULL) {
			if (avail >= INBUF / 2 && c->st == ST_HDR) {
				/* an absurd header line: treat as body */
				c->st = ST_BODY;
				continue;
			}
			if (avail >= INBUF / 2)
				c->st = ST_QUIT; /* absurd command line */
			return;
		}
		size_t n = (size_t)(nl - p) + 1;

		if (c->st == ST_CMD) {
			c->pos += n;
			command(c, p, n);
			continue;
		}
		/* ST_HDR */
		if ((n == 3 && p[0] == '.' && p[1] == '\r') ||
		    (n == 2 && p[0] == '.')) {
			c->pos += n;
			message_done(c);
			continue;
		}
		if ((n == 2 && p[0] == '\r') || n == 1) {
			/* end of headers: leave pos on this line's "\n" */
			c->bytes += (long)n - 1;
			c->pos += n - 1;
			c->st = ST_BODY;
			continue;
		}
		header(c, p, n);
		c->bytes += (long)n;
		c->pos += n;
	}
}

static int
flush_out(struct conn *c)
{
	while (c->olen > 0) {
		ssize_t w = write(c->fd, c->out, c->olen);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		memmove(c->out, c->out + w, c->olen - (size_t)w);
		c->olen -= (size_t)w;
	}
	return 0;
}

static void
conn_close(int i)
{
	close(conns[i]->fd);
	free(conns[i]->in);
	free(conns[i]);
	nconn--;
	conns[i] = conns[nconn];
	pfd[i + 1] = pfd[nconn + 1];
}

/* Returns -1 when the connection is to be closed. */
static int
conn_read(struct conn *c)
{
	for (;;) {
		ssize_t r;

		if (c->pos > 0) {
			/* keep the unparsed tail at the front */
			memmove(c->in, c->in + c->pos, c->len - c->pos);
			c->len -= c->pos;
			c->pos = 0;
		}
		if (c->len == INBUF)
			return -1;
		r = read(c->fd, c->in + c->len, INBUF - c->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (r == 0)
			return -1;
		c->len += (size_t)r;
		if (quickack) {
			/* Linux leaves quick-ACK mode by itself: re-arm it
			 * after every read */
			int one = 1;

			setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
			           sizeof(one));
		}
		parse(c);
		if (c->st == ST_QUIT || c->olen > 0 || (size_t)r < INBUF / 4)
			return 0;
	}
}

static void
accept_all(int lfd)
{
	for (;;) {
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		struct conn *c;

		if (fd < 0)
			return;
		if (nconn >= MAXCONN) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL || (c->in = malloc(INBUF)) == NULL) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->st = ST_CMD;
		reply(c, "220 countsink ESMTP\r\n");
		conns[nconn] = c;
		pfd[nconn + 1].fd = fd;
		pfd[nconn + 1].events = POLLOUT;
		nconn++;
		t_conns++;
	}
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct sigaction sa;
	int lfd, one = 1, i;
	char *end;
	long port;

	while ((i = getopt(argc, argv, "a:d")) != -1) {
		switch (i) {
		case 'a':
			addr = optarg;
			break;
		case 'd':
			quickack = 0;
			break;
		default:
			argc = 0;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc != 2) {
		fprintf(stderr,
		        "usage: countsink [-d] [-a ADDR] PORT LOGFILE\n");
		return 2;
	}
	port = strtol(argv[0], &end, 10);
	if (*end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "countsink: bad port %s\n", argv[0]);
		return 2;
	}
	logf = fopen(argv[1], "a");
	if (logf == NULL) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(logf, NULL, _IOFBF, 1 << 20);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "countsink: bad address %s\n", addr);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 1024) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) < 0) {
		perror("countsink: bind/listen");
		return 1;
	}
	printf("port %d\n", ntohs(sin.sin_port));
	fflush(stdout);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;

	while (!stop) {
		int n = poll(pfd, (nfds_t)nconn + 1, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		/* backwards: conn_close moves the last entry into slot i */
		for (i = nconn - 1; i >= 0; i--) {
			struct conn *c = conns[i];
			short re = pfd[i + 1].revents;
			int bad = 0;

			if (re == 0)
				continue;
			if ((re & POLLIN) && c->olen == 0 && c->st != ST_QUIT)
				bad = conn_read(c) < 0;
			else if (re & (POLLERR | POLLHUP | POLLNVAL))
				bad = 1;
			if (!bad && flush_out(c) < 0)
				bad = 1;
			if (!bad && c->olen == 0 && c->pos < c->len &&
			    c->st != ST_QUIT) {
				/* input left behind by backpressure */
				parse(c);
				if (flush_out(c) < 0)
					bad = 1;
			}
			if (bad || (c->st == ST_QUIT && c->olen == 0)) {
				conn_close(i);
				continue;
			}
			pfd[i + 1].events = c->olen > 0 ? POLLOUT : POLLIN;
		}
		if (pfd[0].revents & POLLIN)
			accept_all(lfd);
		fflush(logf);
	}
	fflush(logf);
	fprintf(stderr,
	        "countsink: %llu messages, %llu recipients, "
	        "%llu connections\n",
	        t_msgs, t_rcpts, t_conns);
	return 0;
}
