/*
 * fuzz_lmtp.c - libFuzzer target for the LMTP state machine (mlmd/lmtp.c).
 * The input is what a client sends; it is fed to a fresh session in
 * chunks whose sizes come from the first input byte, so that line and
 * chunk boundaries are exercised too.  Stub callbacks: recipients ending
 * in @lists.example are accepted; message-complete does nothing but look
 * at the body.  Built as t/fuzz/fuzz_lmtp (--enable-fuzzing) and as
 * t/fuzz/replay_lmtp (replays t/fuzz/corpus/lmtp/ in make check).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "lmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum lmtp_rcpt_status
fz_rcpt(void *arg, const char *addr)
{
	size_t n = strlen(addr), sfx = strlen("@lists.example");

	return n > sfx && strcmp(addr + n - sfx, "@lists.example") == 0
	           ? LMTP_RCPT_OK
	           : LMTP_RCPT_UNKNOWN;
}

static enum lmtp_msg_status
fz_message(void *arg, struct lmtp *s)
{
	size_t len;

	(void)lmtp_body(s, &len);
	return LMTP_DONE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_limits lim = {4096, 5, "fuzz"};
	struct lmtp_callbacks cb = {fz_rcpt, fz_message, NULL, NULL};
	struct lmtp *s = lmtp_new(&lim, &cb);
	size_t step = size ? (size_t)data[0] % 64 + 1 : 1, pos = 0, n;

	while (pos < size && !lmtp_closing(s)) {
		size_t k = step < size - pos ? step : size - pos;

		lmtp_feed(s, (const char *)data + pos, k);
		pos += k;
		(void)lmtp_output(s, &n);
		/* Send only half the replies at times, like a slow socket. */
		lmtp_consume(s, pos & 1 ? n / 2 : n);
	}
	lmtp_eof(s);
	lmtp_free(s);
	return 0;
}
