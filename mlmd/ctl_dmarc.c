/*
 * ctl_dmarc.c - `mlmctl dmarc explain ADDR [LIST]`: what mlmd would do
 * with a post from ADDR to each list (or to LIST): the policy found for
 * the domain (DNS, or a dmarc_override entry), and whether the list's
 * copies would go as they are, with a munged From:, or wrapped.
 *
 * Returns sysexits codes: 0, EX_USAGE, EX_DATAERR (not an address),
 * EX_NOUSER (no such list).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "addr.h"
#include "conf.h"
#include "ctl.h"
#include "dmarc.h"
#include "post.h"

int
ctl_dmarc(struct ctl *ctl, int argc, char **argv)
{
	const struct conf *c = ctl->conf;
	char addr[ADDR_MAX + 1], why[200];
	enum dmarc_policy p;
	struct dmarc *d;
	size_t i;
	int mitigate, ex;

	if ((argc != 3 && argc != 4) || strcmp(argv[1], "explain") != 0) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE dmarc explain "
		                "ADDR [LIST]\n");
		return EX_USAGE;
	}
	if (addr_normalise(argv[2], addr, sizeof(addr)) < 0) {
		fprintf(stderr, "mlmctl: dmarc: '%s' is not an address\n",
		        argv[2]);
		return EX_DATAERR;
	}
	if (argc == 4 && !conf_list(c, argv[3])) {
		fprintf(stderr, "mlmctl: dmarc: no list '%s' in %s\n", argv[3],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	d = post_dmarc_new(c);
	p = dmarc_policy(d, strrchr(addr, '@') + 1, why, sizeof(why));
	printf("%s: %s\n", addr, why);
	mitigate = p == DMARC_P_REJECT ||
	           (p == DMARC_P_QUARANTINE && c->dmarc_threshold == 1);
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];
		const char *what;

		if (argc == 4 && strcmp(l->name, argv[3]) != 0)
			continue;
		if (l->dmarc == DMARC_NONE)
			what = "sent as is (dmarc = none)";
		else if (l->dmarc == DMARC_ALWAYS)
			what = "From: munged (dmarc = always)";
		else if (!mitigate)
			what = p == DMARC_P_QUARANTINE
			           ? "sent as is (p=quarantine is below "
			             "dmarc_threshold = reject)"
			           : "sent as is (the policy allows it)";
		else if (l->dmarc == DMARC_WRAP)
			what = "wrapped in a message from the list (dmarc = "
			       "wrap)";
		else
			what = "From: munged to the list, the author in Cc or "
			       "Reply-To (dmarc = munge)";
		printf("  %-14s %s\n", l->name, what);
	}
	dmarc_free(d);
	ex = ctl_flush_stdout();
	return ex;
}
