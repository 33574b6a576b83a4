/*
 * ctl_digest.c - `mlmctl digest send LIST` (the open digest now) and
 * `mlmctl digest status [LIST]` (what is collected, when it goes, the
 * last issues).  The sending is digest.c's, the same as the daemon's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "digest.h"
#include "outq.h"

static int
usage(void)
{
	fprintf(stderr, "mlmctl: usage: mlmctl -c FILE digest send LIST | "
	                "digest status [LIST] | digest set LIST ADDR "
	                "mime|plain|off\n");
	return EX_USAGE;
}

static int
past(const struct digest_row *d, const char *state, void *arg)
{
	char when[32];

	(void)arg;
	if (strcmp(state, "collecting") == 0)
		return 0;
	ctl_when(d->built, when, sizeof(when));
	printf("  vol %lld issue %lld: %s, %ld posts, closed %s\n", d->volume,
	       d->issue, state, d->n_items, when);
	return 0;
}

static int
status_one(struct db *db, const struct list_conf *l)
{
	struct digest_row d;
	char when[32];
	int r;

	printf("%s: digest = %s", l->name, conf_digest_name(l->digest));
	if (l->digest == DIGEST_WEEKLY) {
		static const char *const days[] = {"sunday",   "monday",
		                                   "tuesday",  "wednesday",
		                                   "thursday", "friday",
		                                   "saturday"};

		printf(" on %s", days[l->digest_day % 7]);
	}
	if (l->digest != DIGEST_NONE)
		printf(" at %02d:00 %s, or past %zu bytes", l->digest_hour,
		       l->timezone, l->digest_size);
	printf("\n");
	r = db_digest_get(db, l->name, "collecting", &d);
	if (r < 0)
		return -1;
	if (r == 0 && d.n_items > 0) {
		ctl_when(digest_due(l, d.created), when, sizeof(when));
		printf("  collecting vol %lld issue %lld: %ld posts, %zu "
		       "bytes; goes %s\n",
		       d.volume, d.issue, d.n_items, d.size,
		       l->digest == DIGEST_NONE ? "never (digest = none)"
		                                : when);
	} else {
		printf("  nothing collected\n");
	}
	return db_digest_each(db, l->name, past, NULL);
}

/* digest set LIST ADDR mime|plain|off: a member's delivery, by an owner */
static int
set_one(struct ctl *ctl, const char *list, const char *who, const char *how)
{
	char addr[ADDR_MAX + 1];
	struct db *db;
	int on = strcmp(how, "off") != 0, r;

	if (strcmp(how, "mime") != 0 && strcmp(how, "plain") != 0 && on)
		return usage();
	if (addr_normalise(who, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "mlmctl: digest set: '%s' is not an address\n",
		        who);
		return EX_DATAERR;
	}
	if (on && conf_list(ctl->conf, list)->digest == DIGEST_NONE) {
		fprintf(stderr, "mlmctl: digest set: %s sends no digests "
		                "(digest = none in %s)\n",
		        list, ctl->conf_path);
		return EX_CONFIG;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	r = db_member_update(db, list, addr, on, on ? how : NULL, -1, NULL);
	if (r < 0)
		return EX_TEMPFAIL;
	if (r == 1) {
		fprintf(stderr, "mlmctl: digest set: %s is not a member of %s\n",
		        addr, list);
		return EX_NOUSER;
	}
	printf("%s on %s: %s\n", addr, list,
	       on ? (strcmp(how, "plain") == 0 ? "plain digests"
	                                       : "MIME digests")
	          : "each post on its own");
	return ctl_flush_stdout();
}

int
ctl_digest(struct ctl *ctl, int argc, char **argv)
{
	struct db *db;
	size_t i;

	if (argc == 5 && strcmp(argv[1], "set") == 0) {
		if (!conf_list(ctl->conf, argv[2])) {
			fprintf(stderr, "mlmctl: digest: no list '%s' in %s\n",
			        argv[2], ctl->conf_path);
			return EX_NOUSER;
		}
		return set_one(ctl, argv[2], argv[3], argv[4]);
	}
	if (argc < 2 || argc > 3)
		return usage();
	if (argc == 3 && !conf_list(ctl->conf, argv[2])) {
		fprintf(stderr, "mlmctl: digest: no list '%s' in %s\n", argv[2],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	if (strcmp(argv[1], "send") == 0) {
		int r;

		if (argc != 3)
			return usage();
		if (!(db = ctl_db(ctl)))
			return EX_UNAVAILABLE;
		r = digest_send_now(ctl->conf, db, argv[2]);
		if (r < 0) {
			fprintf(stderr, "mlmctl: digest send: it failed (see the "
			                "log); nothing was sent\n");
			return EX_TEMPFAIL;
		}
		if (r == 0) {
			printf("%s: no post collected, no digest sent\n",
			       argv[2]);
			return ctl_flush_stdout();
		}
		if (outq_poke(ctl->conf->home, "queue") < 0)
			fprintf(stderr, "mlmctl: digest send: could not tell "
			                "the daemon (%s/kick): it sends within "
			                "30 seconds anyway\n",
			        ctl->conf->home);
		printf("%s: digest queued\n", argv[2]);
		return ctl_flush_stdout();
	}
	if (strcmp(argv[1], "status") != 0)
		return usage();
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	for (i = 0; i < ctl->conf->n_lists; i++) {
		const struct list_conf *l = &ctl->conf->lists[i];

		if (argc == 3 && strcmp(l->name, argv[2]) != 0)
			continue;
		if (argc == 2 && l->digest == DIGEST_NONE)
			continue;
		if (status_one(db, l) < 0)
			return EX_TEMPFAIL;
	}
	return ctl_flush_stdout();
}
