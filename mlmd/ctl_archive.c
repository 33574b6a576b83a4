/*
 * ctl_archive.c - `mlmctl archive rebuild [LIST]`: write the static
 * archive pages of LIST (or of every list with archive = public) again
 * from the store (archive.h).
 *
 * Returns sysexits codes: 0, EX_USAGE, EX_NOUSER (no such list),
 * EX_UNAVAILABLE / EX_TEMPFAIL (database, disk).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "archive.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "buf.h"

static int
hit(const struct arch_row *r, const char *snippet, void *arg)
{
	struct buf line = BUF_INIT;
	char when[32];
	struct tm tm;
	int *n = arg;

	gmtime_r(&r->date, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	ctl_safe(&line, r->subject, 70);
	printf("%s  %-28.28s  %s\n", when, r->from_addr, buf_str(&line));
	buf_reset(&line);
	ctl_safe(&line, snippet, 120);
	printf("            %s\n", buf_str(&line));
	buf_free(&line);
	(*n)++;
	return 0;
}

int
ctl_search(struct ctl *ctl, int argc, char **argv)
{
	struct buf err = BUF_INIT;
	struct db *db;
	int n = 0, r;

	if (argc != 3) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE search LIST "
		                "QUERY\n");
		return EX_USAGE;
	}
	if (!conf_list(ctl->conf, argv[1])) {
		fprintf(stderr, "mlmctl: search: no list '%s' in %s\n", argv[1],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	r = db_archive_search(db, argv[1], argv[2], 50, hit, &n, &err);
	if (r == -2) {
		fprintf(stderr, "mlmctl: search: the query cannot be read: %s "
		                "(use words, \"a phrase\", subject:WORD, OR, "
		                "NOT)\n",
		        buf_str(&err));
		buf_free(&err);
		return EX_DATAERR;
	}
	buf_free(&err);
	if (r < 0)
		return EX_TEMPFAIL;
	if (n == 0)
		printf("no message of %s matches\n", argv[1]);
	return ctl_flush_stdout();
}

int
ctl_archive(struct ctl *ctl, int argc, char **argv)
{
	const struct conf *c = ctl->conf;
	struct db *db;
	size_t i;
	int ex = EX_OK;

	if ((argc != 2 && argc != 3) || strcmp(argv[1], "rebuild") != 0) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE archive rebuild "
		                "[LIST]\n");
		return EX_USAGE;
	}
	if (argc == 3 && !conf_list(c, argv[2])) {
		fprintf(stderr, "mlmctl: archive: no list '%s' in %s\n", argv[2],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];
		long n;

		if (argc == 3 && strcmp(l->name, argv[2]) != 0)
			continue;
		if (l->archive != ARCH_PUBLIC) {
			if (argc == 3)
				printf("%s: archive = %s, nothing to write\n",
				       l->name, conf_archive_name(l->archive));
			continue;
		}
		n = archive_rebuild(c, db, l->name);
		if (n < 0) {
			fprintf(stderr, "mlmctl: archive: %s: some pages could "
			                "not be written (see the log)\n",
			        l->name);
			ex = EX_TEMPFAIL;
			continue;
		}
		printf("%s: %ld pages written\n", l->name, n);
	}
	return ex != EX_OK ? ex : ctl_flush_stdout();
}
