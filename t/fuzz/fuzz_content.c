/*
 * fuzz_content.c - libFuzzer target for content_filter(): the fuzz input
 * is the post, filtered with every option on (strip types, strip
 * extensions, pass_types with the usual entries, collapse, HTML to text).
 * Built as t/fuzz/fuzz_content under --enable-fuzzing, and as
 * t/fuzz/replay_content (with replay.c) so that make check replays
 * t/fuzz/corpus/content/.
 *
 * Beyond "no crash, no leak, no hang", it checks what content.h promises:
 * on failure err is one line and out is untouched; on success the note is
 * one NUL-terminated line, changed says whether the bytes differ, an
 * unchanged or empty result is a byte copy, and the output filtered again
 * is a byte copy (the filter leaves nothing for a second pass to do).
 * The output is parsed with msg_parse(), which must not crash on it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "content.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const pass[] = {"text/*",
                                   "image/*",
                                   "multipart/*",
                                   "message/rfc822",
                                   "application/pdf",
                                   "application/pgp-signature",
                                   NULL};
static const char *const strip[] = {
    "application/x-msdownload", "application/ms-tnef", "text/x-vcard", NULL};
static const char *const exts[] = {".exe", ".scr", ".bat",        ".js", ".vbs",
                                   ".com", ".pif", "winmail.dat", NULL};

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct content_opts o = {pass, strip, exts, 1, 1};
	const char *raw = (const char *)data;
	struct content_result res, res2;
	struct buf out = BUF_INIT, err = BUF_INIT, out2 = BUF_INIT;
	struct msg *m = NULL;

	if (content_filter(raw, size, &o, &out, &res, &err) < 0) {
		check(out.len == 0);
		check(err.len > 0 && memchr(err.s, '\n', err.len) == NULL);
		goto done;
	}
	check(memchr(res.note, '\0', sizeof(res.note)) != NULL);
	check(strchr(res.note, '\n') == NULL);
	check(out.len == size || res.changed);
	check(res.changed ==
	      (out.len != size || (size > 0 && memcmp(out.s, raw, size) != 0)));
	check(!res.empty || (!res.changed && res.removed > 0));
	if (res.changed) {
		buf_reset(&err);
		check(content_filter(out.s, out.len, &o, &out2, &res2, &err) ==
		      0);
		check(!res2.changed && res2.removed == 0 && !res2.empty);
	}
	if (msg_parse(out.s ? out.s : "", out.len, &msg_default_limits, &m,
	              &err) == 0)
		msg_free(m);
done:
	buf_free(&out);
	buf_free(&out2);
	buf_free(&err);
	return 0;
}
