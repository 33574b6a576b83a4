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

#include "archive.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"

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
