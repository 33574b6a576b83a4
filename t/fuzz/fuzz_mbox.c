/*
 * fuzz_mbox.c - libFuzzer target for the mbox reader and writer
 * (mbox.h): mbox_next() over arbitrary bytes, then for every message it
 * hands out, the round trip promised by mbox.h: mbox_append() then
 * mbox_next() gives exactly one message, byte for byte the same (after
 * the writer's final LF and CRLF -> LF), with the same date.  Built as
 * t/fuzz/fuzz_mbox under --enable-fuzzing, and as t/fuzz/replay_mbox
 * (with replay.c) so that make check replays t/fuzz/corpus/mbox/.
 *
 * Also checked: the cursor only moves forward and never passes the end,
 * a message is never longer than the input, offsets increase, the
 * messages' cap is honoured (too_big).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* What the reader makes of what the writer wrote: a final LF, then one
 * CR dropped before each LF. */
static void
normalise(const char *s, size_t n, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (s[i] == '\r' &&
		    ((i + 1 < n && s[i + 1] == '\n') || i + 1 == n))
			continue;
		buf_addc(out, s[i]);
	}
	if (n == 0 || s[n - 1] != '\n')
		buf_addc(out, '\n');
}

/* A sender the writer keeps as it is. */
static int
plain(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static void
round_trip(const char *m, size_t n, const struct mbox_info *info)
{
	struct buf file = BUF_INIT, back = BUF_INIT, want = BUF_INIT;
	struct mbox_reader *r;
	struct mbox_info bi;

	check(mbox_append(&file, m, n, info->sender, info->date) == 0);
	r = mbox_open_mem(file.s, file.len);
	check(mbox_next(r, &back, &bi) == 1);
	normalise(m, n, &want);
	check(back.len == want.len && memcmp(back.s, want.s, back.len) == 0);
	check(bi.offset == 0 && !bi.too_big);
	if (info->date >= 0 && info->date <= (time_t)253402300799LL)
		check(bi.date == info->date);
	if (plain(info->sender))
		check(strcmp(bi.sender, info->sender) == 0);
	check(mbox_next(r, &back, &bi) == 0);
	mbox_close(r);
	buf_free(&file);
	buf_free(&back);
	buf_free(&want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbox_reader *r = mbox_open_mem((const char *)data, size);
	struct buf msg;
	struct mbox_info info;
	off_t done, total, last = -1, prev = 0;
	int rc, n = 0;

	buf_init(&msg, 4096);
	while ((rc = mbox_next(r, &msg, &info)) == 1) {
		check(msg.len <= size && msg.len <= 4096);
		check(info.offset > last && (size_t)info.offset < size);
		check(!info.too_big || msg.len == 0);
		last = info.offset;
		mbox_progress(r, &done, &total);
		check(done >= prev && done <= total && (size_t)total == size);
		prev = done;
		if (!info.too_big)
			round_trip(msg.s ? msg.s : "", msg.len, &info);
		check(++n <= (int)size);
	}
	check(rc == 0 || *mbox_error(r));
	check(rc != -1 || mbox_next(r, &msg, &info) == -1);
	buf_free(&msg);
	mbox_close(r);
	return 0;
}
