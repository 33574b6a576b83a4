/*
 * fuzz_digest.c - libFuzzer target for digest_compose_mime() and
 * digest_compose_plain(): the fuzz input is cut into posts at each line
 * "%%%%" (at most 16), with subjects and names taken from the bytes as
 * they are (not UTF-8, control characters), threads from the post's
 * length.  Built as t/fuzz/fuzz_digest under --enable-fuzzing, and as
 * t/fuzz/replay_digest (with replay.c) so that make check replays
 * t/fuzz/corpus/digest/.
 *
 * Beyond "no crash, no leak": the output must stay under the cap, leave
 * out untouched on failure, and parse again with msg_parse(); a small
 * cap (from the first byte) must fail cleanly.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest_compose.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* TOP_SRCDIR/templates, made once */
static struct buf tdir = BUF_INIT;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest_post p[16];
	struct digest_info d;
	struct buf out, err = BUF_INIT;
	struct msg *m = NULL;
	const char *s = (const char *)data;
	char *text;
	size_t n = 0, i = 0, cap;
	int plain, rc;

	if (size == 0 || size > 1 << 20)
		return 0;
	/* a NUL-terminated copy for the string fields */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	while (i < size && n < 16) {
		const char *e = memmem(s + i, size - i, "\n%%%%\n", 6);
		size_t end = e ? (size_t)(e - s) : size;

		memset(&p[n], 0, sizeof(p[n]));
		p[n].raw = s + i;
		p[n].len = end - i;
		p[n].subject = text + i;
		p[n].from_name = text + (i + end) / 2;
		p[n].from_addr = "a@example.org";
		p[n].message_id = n % 2 ? "id@example.org" : NULL;
		p[n].date = (time_t)(i * 7919);
		p[n].thread = (long long)(p[n].len % 3);
		p[n].archive_url = n % 3 ? "https://example.org/a/1.html" : "";
		n++;
		i = e ? end + 6 : size;
	}
	memset(&d, 0, sizeof(d));
	d.list = "fuzz";
	d.list_address = "fuzz@example.org";
	d.request_address = "fuzz-request@example.org";
	d.description = "Fuzz \xc3\xa6 list";
	d.lang = "en";
	if (!tdir.len)
		buf_printf(&tdir, "%s/templates",
		           getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	d.templates = buf_str(&tdir);
	d.timezone = "Europe/Copenhagen";
	d.archive_url = "https://example.org/archive/fuzz/";
	d.volume = 1;
	d.issue = data[0];
	d.date = 1700000000;
	d.attachments_link = data[0] & 1;
	d.message_id = "digest.1@example.org";
	plain = (data[0] >> 1) & 1;
	cap = data[0] & 4 ? 64 + (size_t)data[0] * 16 : 0;

	buf_init(&out, cap);
	buf_adds(&out, "X");
	rc = plain ? digest_compose_plain(&d, p, n, &out) :
	             digest_compose_mime(&d, p, n, &out);
	if (rc < 0) {
		check(out.len == 1);
	} else {
		check(out.len > 1);
		check(msg_parse(out.s + 1, out.len - 1, &msg_default_limits,
		                &m, &err) == 0 || err.len > 0);
		msg_free(m);
	}
	buf_free(&out);
	buf_free(&err);
	free(text);
	return 0;
}
