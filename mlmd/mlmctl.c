/*
 * mlmctl.c - main() of mlmctl(1), the administration tool: parses the
 * global options, loads and validates the configuration, and dispatches to
 * a subcommand (ctl.h).  Owns the dispatch table and ctl_db().
 *
 * Every subcommand runs with a valid conf: a file with any error is
 * reported here, one "FILE:LINE: message" line per problem on stderr,
 * and mlmctl exits 78 (EX_CONFIG) without running the command.  A missing
 * or unreadable file is 66 (EX_NOINPUT), a usage error 64 (EX_USAGE).
 * Subcommands get argc/argv starting at their own name (argv[0] is
 * "add", "check-config", ...), like main().
 *
 * Only main() calls exit (by returning).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "priv.h"
#include "util.h"

static const struct command {
	const char *name;
	ctl_fn *fn;
	const char *args; /* for --help */
	const char *help;
} commands[] = {
    {"check-config", ctl_check_config, "", "validate the configuration"},
    {"members", ctl_members, "LIST", "list the members"},
    {"add", ctl_add, "LIST ADDR...",
     "subscribe addresses [--welcome | --invite]"},
    {"remove", ctl_remove, "LIST ADDR...", "unsubscribe addresses"},
    {"import", ctl_import, "LIST FILE.csv", "subscribe from a CSV file"},
    {"export", ctl_export, "LIST", "the members as CSV"},
    {"held", ctl_held, "[LIST]", "posts waiting for a moderator"},
    {"approve", ctl_approve, "ID...", "send held posts to the list"},
    {"reject", ctl_reject, "ID...", "refuse held posts [--reason TEXT]"},
    {"discard", ctl_discard, "ID...", "drop held posts silently"},
    {"queue", ctl_queue, "[--all]", "copies waiting to be sent"},
    {"flush", ctl_flush, "", "retry every waiting copy now"},
    {"bounces", ctl_bounces, "LIST [--reset ADDR]",
     "bouncing members; clear one"},
    {"archive", ctl_archive, "rebuild [LIST] | import LIST FILE.mbox",
     "write the archive pages again; import an mbox"},
    {"search", ctl_search, "LIST QUERY", "search a list's archive"},
    {"digest", ctl_digest,
     "send LIST | status [LIST] | set LIST ADDR mime|plain|off",
     "send the digest now; what is collected; a member's delivery"},
    {"dmarc", ctl_dmarc, "explain ADDR [LIST]",
     "what the author's DMARC policy does to the copies"},
    {"event", ctl_event,
     "create LIST ... | list [LIST] | invite ID | report ID | "
     "attended ID ADDR... | cancel ID",
     "events: invitations, answers, reports"},
    {"person", ctl_person, "export|erase ADDR",
     "a person's data (GDPR access, erasure)"},
    {"status", ctl_status, "[--json]", "the daemon's health (exit 1: a problem)"},
    {"report", ctl_report, "[--list L] [--from D --to D] [--format F]",
     "participation figures"},
};

static void
usage(FILE *f, int full)
{
	size_t i;

	fprintf(f, "usage: mlmctl [-c FILE] COMMAND [ARGS...]\n");
	if (!full) {
		fprintf(f, "(see mlmctl --help)\n");
		return;
	}
	fprintf(f,
	        "\n"
	        "  -c FILE     configuration file (default %s/mlmd.conf)\n"
	        "  --help      this text\n"
	        "  --version   print the version\n"
	        "\ncommands:\n",
	        SYSCONFDIR);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-13s %-14s %s\n", commands[i].name,
		        commands[i].args, commands[i].help);
	fprintf(f, "\nSee mlmctl(1) and mlmd.conf(5).\n");
}

int
ctl_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mlmctl: writing the output: %s\n",
		        strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

struct db *
ctl_db(struct ctl *ctl)
{
	struct buf path = BUF_INIT;

	if (ctl->db)
		return ctl->db;
	/* As root, create home and the database as the daemon's user, so
	 * that the daemon can write what mlmctl created.  Without `user` a
	 * root mlmctl stays root (the daemon refuses to run that way). */
	if (ctl->conf->user && (priv_prepare_home(ctl->conf) < 0 ||
				priv_drop(ctl->conf) < 0))
		return NULL;
	if (mkdir_p(ctl->conf->home, 0750) < 0) {
		error("cannot create home %s: %s (check `home` in %s)",
		      ctl->conf->home, strerror(errno), ctl->conf_path);
		return NULL;
	}
	buf_printf(&path, "%s/mlmd.db", ctl->conf->home);
	ctl->db = db_open(buf_str(&path));
	if (!ctl->db)
		error("cannot open the database %s (is home writable by "
		      "this user?)",
		      buf_str(&path));
	buf_free(&path);
	return ctl->db;
}

/* Load the conf; a sysexits code other than EX_OK if it is unusable. */
static int
load_conf(struct ctl *ctl)
{
	struct buf errors = BUF_INIT;
	int fd = open(ctl->conf_path, O_RDONLY);

	/* told apart from a bad file: a missing file is EX_NOINPUT */
	if (fd < 0) {
		fprintf(stderr,
		        "mlmctl: cannot read %s: %s (give the file with -c "
		        "FILE)\n",
		        ctl->conf_path, strerror(errno));
		return EX_NOINPUT;
	}
	close(fd);
	buf_init(&errors, 1 << 20);
	ctl->conf = conf_load(ctl->conf_path, &errors);
	if (!ctl->conf) {
		fputs(buf_str(&errors), stderr);
		buf_free(&errors);
		return EX_CONFIG;
	}
	buf_free(&errors);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl ctl = {SYSCONFDIR "/mlmd.conf", NULL, NULL, ""};
	struct passwd *pw = getpwuid(getuid());
	const struct command *cmd = NULL;
	size_t i;
	int opt, rc;

	log_open("mlmctl", 1, L_INFO);
	if (pw && pw->pw_name && *pw->pw_name)
		strlcpy_(ctl.operator, pw->pw_name, sizeof(ctl.operator));
	else
		snprintf(ctl.operator, sizeof(ctl.operator), "uid %lu",
		         (unsigned long)getuid());
	/* '+': options end at the command; its own options are its own */
	while ((opt = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl.conf_path = optarg;
			break;
		case 'h':
			usage(stdout, 1);
			return EX_OK;
		case 'V':
			printf("mlmctl (%s) %s\n", PACKAGE_NAME,
			       PACKAGE_VERSION);
			return EX_OK;
		default:
			usage(stderr, 0);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr,
		        "mlmctl: no command given (see mlmctl --help)\n");
		return EX_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr,
		        "mlmctl: unknown command '%s' (see mlmctl "
		        "--help)\n",
		        argv[optind]);
		return EX_USAGE;
	}
	if ((rc = load_conf(&ctl)) != EX_OK)
		return rc;
	rc = cmd->fn(&ctl, argc - optind, argv + optind);
	if (ctl.db)
		db_close(ctl.db);
	conf_free(ctl.conf);
	return rc;
}
