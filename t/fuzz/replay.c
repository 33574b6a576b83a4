/*
 * replay.c - runs a libFuzzer target over its seed corpus as a TAP test,
 * so that `make check` replays every seed (and every crash input that was
 * ever found and added to the corpus) in the ordinary and sanitizer builds.
 *
 * Each target is built twice from the same fuzz_NAME.c: t/fuzz/fuzz_NAME
 * (with -fsanitize=fuzzer, only under --enable-fuzzing) and
 * t/fuzz/replay_NAME (this main()).  FUZZ_NAME names the corpus folder,
 * t/fuzz/corpus/NAME/.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	const char *top = getenv("top_srcdir");
	struct dirent **ents;
	int n, i;

	buf_printf(&path, "%s/t/fuzz/corpus/%s", top ? top : ".", FUZZ_NAME);
	if (argc > 1) {
		buf_reset(&path);
		buf_adds(&path, argv[1]);
	}
	n = scandir(buf_str(&path), &ents, NULL, by_name);
	if (n < 0) {
		printf("Bail out! cannot read corpus %s\n", buf_str(&path));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct buf file = BUF_INIT;

		if (ents[i]->d_name[0] != '.') {
			buf_printf(&file, "%s/%s", buf_str(&path),
				   ents[i]->d_name);
			if (read_file(buf_str(&file), &data) < 0) {
				ok(0, "read %s", ents[i]->d_name);
			} else {
				LLVMFuzzerTestOneInput((const uint8_t *)data.s,
						       data.len);
				ok(1, "%s seed %s", FUZZ_NAME, ents[i]->d_name);
			}
		}
		buf_free(&file);
		free(ents[i]);
	}
	free(ents);
	buf_free(&path);
	buf_free(&data);
	return done_testing();
}
