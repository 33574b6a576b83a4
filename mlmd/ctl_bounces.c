/*
 * ctl_bounces.c - `mlmctl bounces LIST` shows the members of LIST with a
 * bounce state (score, probe, paused), `mlmctl bounces LIST --reset ADDR`
 * clears one (delivery resumes).  See bounce.h for what the state means.
 *
 * Returns sysexits codes: 0, EX_USAGE, EX_NOUSER (no such list or
 * member), EX_UNAVAILABLE / EX_TEMPFAIL (database).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "util.h"

static int
show(const char *address, const struct member_bounce *mb, void *arg)
{
	char probe[32] = "-", paused[32] = "-";
	int *n = arg;

	if (mb->probe_sent)
		ctl_when(mb->probe_sent, probe, sizeof(probe));
	if (mb->disabled)
		ctl_when(mb->disabled, paused, sizeof(paused));
	if ((*n)++ == 0)
		printf("%-40s %6s  %-19s  %-19s\n", "address", "score",
		       "probe sent", "paused since");
	printf("%-40s %6.2f  %-19s  %-19s\n", address, mb->score, probe,
	       paused);
	return 0;
}

int
ctl_bounces(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l;
	char addr[ADDR_MAX + 1];
	struct member_bounce mb;
	struct db *db;
	int n = 0, r;

	if ((argc != 2 && argc != 4) ||
	    (argc == 4 && strcmp(argv[2], "--reset") != 0)) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE bounces LIST "
		                "[--reset ADDR]\n");
		return EX_USAGE;
	}
	if (!(l = conf_list(ctl->conf, argv[1]))) {
		fprintf(stderr, "mlmctl: bounces: no list '%s' in %s\n",
		        argv[1], ctl->conf_path);
		return EX_NOUSER;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	if (argc == 2) {
		if (db_bounce_members(db, l->name, show, &n) < 0)
			return EX_TEMPFAIL;
		if (n == 0)
			printf("no bouncing members on %s\n", l->name);
		return ctl_flush_stdout();
	}
	if (addr_normalise(argv[3], addr, sizeof(addr)) < 0 ||
	    (r = db_member_bounce(db, l->name, addr, &mb)) == 1) {
		fprintf(stderr, "mlmctl: bounces: %s is not a member of %s\n",
		        argv[3], l->name);
		return EX_NOUSER;
	}
	if (r < 0)
		return EX_TEMPFAIL;
	mb.score = 0;
	mb.probe_sent = 0;
	mb.disabled = 0;
	mb.updated = time(NULL);
	if (db_member_bounce_set(db, mb.id, &mb) < 0)
		return EX_TEMPFAIL;
	printf("%s on %s: bounce state cleared, delivery on\n", addr, l->name);
	return ctl_flush_stdout();
}
