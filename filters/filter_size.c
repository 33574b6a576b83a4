/*
 * filter_size.c - the size stage: a post larger than the list's max_size
 * is refused, and the sender is told the size and the limit.
 *
 * Owns: the per-list limit (list_conf.max_size; 0 means none).  The
 * global intake limit (conf.max_message_size, LMTP SIZE) is enforced
 * before the message is even accepted; this one is the list's choice.
 * The size compared is p->size, the bytes as received.
 *
 * Sizes in the reason are in binary units, as max_size is written in the
 * file ("2M" is 2 MiB, shown "2 MB"), with one decimal at most.  The
 * message's size is rounded up and the limit down, so that the reason
 * never shows a message "as large as" the limit it broke.
 *
 * Verdict: FILTER_REJECT with the notice "too_big.txt".  Pure.
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "filter.h"

void
filter_size_text(char *out, size_t outsz, size_t n, int round_up)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB"};
	unsigned long long u = 1024, whole, rem, tenths;
	int k = 0;

	if (n < 1024) {
		snprintf(out, outsz, "%zu bytes", n);
		return;
	}
	while (k < 3 && n / u >= 1024) {
		u *= 1024;
		k++;
	}
	whole = n / u;
	rem = n % u;
	/* rem * 10 < 10 * 2^40: no overflow */
	tenths = round_up ? (rem * 10 + u - 1) / u : rem * 10 / u;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (tenths)
		snprintf(out, outsz, "%llu.%llu %s", whole, tenths, units[k]);
	else
		snprintf(out, outsz, "%llu %s", whole, units[k]);
}

static enum filter_verdict
run(const struct filter_post *p, struct filter_result *r)
{
	char got[32], max[32];

	if (!p->list || p->list->max_size == 0 || p->size <= p->list->max_size)
		return FILTER_PASS;
	filter_size_text(got, sizeof(got), p->size, 1);
	filter_size_text(max, sizeof(max), p->list->max_size, 0);
	r->verdict = FILTER_REJECT;
	r->stage = filter_size.name;
	r->notice = "too_big.txt";
	snprintf(r->reason, sizeof(r->reason),
	         "the message is %s, the limit of this list is %s", got, max);
	return FILTER_REJECT;
}

const struct filter_stage filter_size = {"size", run};
