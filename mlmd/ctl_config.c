/*
 * ctl_config.c - `mlmctl check-config`: the configuration has already been
 * loaded and validated by mlmctl.c before dispatch (which printed every
 * error as FILE:LINE: message and exited 78 if there was one), so here it
 * is known good: say so and summarise the lists, one line each, for the
 * operator and for scripts (tab-separated: name, address, posting,
 * included lists or "-").
 *
 * Called by mlmctl.c's dispatch table.  Returns EX_OK or EX_USAGE.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "conf.h"
#include "ctl.h"
#include "rulesets.h"

int
ctl_check_config(struct ctl *ctl, int argc, char **argv)
{
	const struct conf *c = ctl->conf;
	size_t i, j;

	if (argc > 1) {
		fprintf(stderr, "mlmctl: check-config takes no arguments "
		                "(usage: mlmctl -c FILE check-config)\n");
		return EX_USAGE;
	}
	{
		struct buf err = BUF_INIT;
		struct rulesets *r = rulesets_load(c, &err);

		if (!r) {
			fputs(buf_str(&err), stderr);
			if (err.len && err.s[err.len - 1] != '\n')
				fputc('\n', stderr);
			buf_free(&err);
			return EX_CONFIG;
		}
		rulesets_free(r);
		buf_free(&err);
	}
	printf("ok: %s: domain %s, %zu list%s\n", c->path, c->domain,
	       c->n_lists, c->n_lists == 1 ? "" : "s");
	for (i = 0; i < c->n_lists; i++) {
		const struct list_conf *l = &c->lists[i];

		printf("%s\t%s\t%s\t", l->name, l->address,
		       conf_posting_name(l->posting));
		for (j = 0; j < l->n_include; j++)
			printf("%s%s", j ? "," : "", l->include[j]);
		printf("%s\n", l->n_include ? "" : "-");
	}
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
