/*
 * inject.c - main() of mlmd-inject(8): the pipe entry for MTAs.  Reads one
 * message on stdin and makes it durable in HOME/spool/incoming for the
 * daemon (which need not be running); exit 0 only once it is durable.
 *
 *   mlmd-inject -c FILE [-f SENDER] RECIPIENT... < message
 *
 * Exit codes (sysexits, as Postfix's pipe(8) reads them): 0 delivered,
 * 64 usage, 65 message too big or unreadable, 67 a recipient is no list
 * address, 75 temporary failure (the MTA retries), 78 configuration.
 * Run as root it drops to the configured user before writing anything.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "log.h"
#include "priv.h"
#include "spool.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: mlmd-inject [-c FILE] [-f SENDER] RECIPIENT... "
	        "< message\n"
	        "  -c FILE    configuration (default %s/mlmd.conf)\n"
	        "  -f SENDER  envelope sender (default: <>)\n"
	        "Exit: 0 queued, 64 usage, 65 too big or unreadable, "
	        "67 no such list address,\n75 try again later, 78 "
	        "configuration error.  See mlmd-inject(8).\n",
	        SYSCONFDIR);
}

/*
 * Read stdin into msg with CRLF turned into LF and a leading mbox "From "
 * line dropped.  0, -1 on a read error, 1 if longer than max.
 */
static int
read_message(size_t max, struct buf *msg)
{
	char chunk[65536];
	int prev_cr = 0, first = 1, skipping = 0;
	ssize_t n;

	buf_init(msg, max + 1);
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		ssize_t i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n; i++) {
			char c = chunk[i];

			if (first) {
				first = 0;
				skipping =
				    n >= 5 && memcmp(chunk, "From ", 5) == 0;
			}
			if (skipping) {
				skipping = c != '\n';
				continue;
			}
			if (prev_cr) {
				prev_cr = 0;
				if (c != '\n' && buf_addc(msg, '\r') < 0)
					return 1;
			}
			if (c == '\r') {
				prev_cr = 1;
				continue;
			}
			if (buf_addc(msg, c) < 0)
				return 1;
		}
	}
	if (prev_cr && buf_addc(msg, '\r') < 0)
		return 1;
	return msg->len > max ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct buf errs = BUF_INIT, msg = BUF_INIT;
	const char *path = SYSCONFDIR "/mlmd.conf", *sender = "";
	struct spool_env env;
	struct spool_tmp tmp;
	struct spool *sp = NULL;
	struct conf *c = NULL;
	int ch, i, r, rc = EX_OK;

	log_open("mlmd-inject", 1, L_INFO);
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return EX_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("mlmd-inject %s\n", PACKAGE_VERSION);
		return EX_OK;
	}
	while ((ch = getopt(argc, argv, "c:f:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			sender = optarg;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (argc - optind > SPOOL_MAX_RCPTS) {
		error("more than %d recipients", SPOOL_MAX_RCPTS);
		return EX_USAGE;
	}
	c = conf_load(path, &errs);
	if (!c) {
		fputs(buf_str(&errs), stderr);
		buf_free(&errs);
		return EX_CONFIG;
	}
	buf_free(&errs);
	/* <> and "MAILER-DAEMON"-style empty senders are the null sender. */
	if (sender[0] == '<' && sender[1] == '>' && !sender[2])
		sender = "";
	memset(&env, 0, sizeof(env));
	env.rcpts = xcalloc((size_t)(argc - optind), sizeof(char *));
	for (i = optind; i < argc; i++) {
		struct route rt;

		if (addr_route(c, argv[i], &rt) < 0) {
			error("no such list address: %s", argv[i]);
			rc = EX_NOUSER;
			goto out;
		}
		env.rcpts[env.n_rcpts++] = argv[i];
	}
	if (geteuid() == 0 && priv_prepare_home(c) < 0) {
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (priv_drop(c) < 0) {
		rc = priv_check(c) < 0 ? EX_CONFIG : EX_TEMPFAIL;
		goto out;
	}
	r = read_message(
	    c->max_message_size ? c->max_message_size : (size_t)25 << 20, &msg);
	if (r != 0) {
		if (r < 0)
			error("cannot read the message: %s", strerror(errno));
		else
			error("message exceeds the size limit (%zu bytes)",
			      c->max_message_size);
		rc = EX_DATAERR;
		goto out;
	}
	for (i = 0; (size_t)i < env.n_rcpts; i++) {
		struct route rt;

		if (addr_route(c, env.rcpts[i], &rt) == 0 && rt.list &&
		    rt.list->max_size && msg.len > rt.list->max_size) {
			error("message exceeds the size limit of list %s "
			      "(%zu bytes)",
			      rt.list->name, rt.list->max_size);
			rc = EX_DATAERR;
			goto out;
		}
	}
	env.sender = (char *)sender;
	env.received = time(NULL);
	strlcpy_(env.via, "inject", sizeof(env.via));
	sp = spool_open(c->home);
	if (!sp ||
	    spool_write(sp, &env, msg.s ? msg.s : "", msg.len, &tmp) < 0 ||
	    spool_commit(sp, &tmp, 1) < 0) {
		rc = EX_TEMPFAIL;
		goto out;
	}
	log_debug("%s: from=<%s> size=%zu via=inject status=queued", tmp.id,
	          sender, msg.len);
out:
	spool_close(sp);
	free(env.rcpts);
	buf_free(&msg);
	conf_free(c);
	return rc;
}
