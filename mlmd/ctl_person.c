/*
 * ctl_person.c - a person's data by hand (GDPR access and erasure):
 * `mlmctl person export ADDR` prints everything mlmd holds about the
 * address as one JSON object; `mlmctl person erase ADDR` removes it
 * (memberships, consents, pending confirmations, bounce records, finished
 * deliveries; the name and address on held posts, intake records and
 * archived posts), leaving only the anonymous counts of the reports.
 *
 * Returns sysexits codes: 0, EX_USAGE, EX_DATAERR (not an address),
 * EX_NOUSER (nothing held about it, for erase), EX_UNAVAILABLE /
 * EX_TEMPFAIL (database).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "addr.h"
#include "archive.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr, "mlmctl: usage: mlmctl -c FILE person export ADDR | "
	                "person erase ADDR\n");
	return EX_USAGE;
}

int
ctl_person(struct ctl *ctl, int argc, char **argv)
{
	char addr[ADDR_MAX + 1];
	struct buf json = BUF_INIT;
	struct db *db;
	long n, posts = 0;
	int ex;

	if (argc != 3 ||
	    (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "erase") != 0))
		return usage();
	if (addr_normalise(argv[2], addr, sizeof(addr)) < 0) {
		fprintf(stderr, "mlmctl: person: '%s' is not an address\n",
		        argv[2]);
		return EX_DATAERR;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	if (strcmp(argv[1], "export") == 0) {
		buf_init(&json, (size_t)1 << 30);
		if (db_person_export(db, addr, &json) < 0) {
			fprintf(stderr, "mlmctl: person export: database "
			                "error (try again)\n");
			buf_free(&json);
			return EX_TEMPFAIL;
		}
		printf("%s\n", buf_str(&json));
		buf_free(&json);
		return ctl_flush_stdout();
	}
	/* the archive first: its pages are rewritten from the rows that
	 * still name the person */
	if (archive_person_erase(ctl->conf, db, addr, &posts) < 0) {
		fprintf(stderr, "mlmctl: person erase: the archive could not "
		                "be rewritten (see the log); run it again\n");
		return EX_TEMPFAIL;
	}
	n = db_person_erase(db, addr);
	if (n < 0) {
		fprintf(stderr, "mlmctl: person erase: database error, nothing "
		                "erased (try again)\n");
		return EX_TEMPFAIL;
	}
	if (n + posts == 0) {
		printf("nothing is held about %s\n", addr);
		ex = ctl_flush_stdout();
		return ex != EX_OK ? ex : EX_NOUSER;
	}
	if (posts)
		printf("%s: %ld archived posts %s\n", addr, posts,
		       ctl->conf->archive_erasure == ERASE_REMOVE
		           ? "removed from the archive"
		           : "no longer show who wrote them");
	printf("erased %s (%ld records removed or made anonymous)\n", addr,
	       n + posts);
	return ctl_flush_stdout();
}
