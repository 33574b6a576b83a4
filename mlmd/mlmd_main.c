/*
 * mlmd_main.c - main() of the daemon mlmd(8): options, configuration,
 * then daemon_run().  See doc/mlmd.8.
 *
 *   mlmd -c FILE [-f] [-n] [-v]   --help   --version
 *
 * Exit codes are sysexits: 0, 64 usage, 78 configuration errors (printed
 * one per line, "FILE:LINE: ..."), others from daemon_run().
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "mlmd.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: mlmd [-c FILE] [-f] [-n] [-v]\n"
	        "  -c, --config FILE  configuration (default %s/mlmd.conf)\n"
	        "  -f, --foreground   stay in the foreground, log to stderr\n"
	        "  -n, --check        print the effective configuration and "
	        "exit\n"
	        "  -v, --verbose      log debugging detail\n"
	        "      --help         this text\n"
	        "      --version      the version\n"
	        "See mlmd(8).\n",
	        SYSCONFDIR);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"check", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct mlmd m;
	struct buf errs = BUF_INIT;
	const char *path = SYSCONFDIR "/mlmd.conf";
	int check = 0, c, rc;
	enum log_level level = L_INFO;

	memset(&m, 0, sizeof(m));
	log_open("mlmd", 1, level);
	while ((c = getopt_long(argc, argv, "c:fnv", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			m.foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			level = L_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("mlmd %s\n", PACKAGE_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	log_set_level(level);
	m.conf_path = path;
	m.conf = conf_load(path, &errs);
	if (!m.conf) {
		fputs(buf_str(&errs), stderr);
		if (errs.len && errs.s[errs.len - 1] != '\n')
			fputc('\n', stderr);
		buf_free(&errs);
		return EX_CONFIG;
	}
	buf_free(&errs);
	if (check) {
		conf_print(m.conf, stdout);
		conf_free(m.conf);
		return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
	}
	rc = daemon_run(&m);
	conf_free(m.conf);
	return rc;
}
