/*
 * words.c - translated strings (words.h).
 *
 * Invariants: a file is parsed once and never changes afterwards; a
 * missing file is remembered as empty (English, then the key, answer).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "words.h"

struct words {
	char *path;
	char **kv; /* key, value, key, value, ... */
	size_t n;
};

/* Loaded files, kept for the life of the process (a handful). */
static struct words *loaded;
static size_t n_loaded;

static const struct words *
words_load(const char *path)
{
	struct words *w;
	struct buf file = BUF_INIT;
	char *line, *save = NULL;
	size_t i, cap = 0;

	for (i = 0; i < n_loaded; i++)
		if (strcmp(loaded[i].path, path) == 0)
			return &loaded[i];
	loaded = xrealloc(loaded, (n_loaded + 1) * sizeof(*loaded));
	w = &loaded[n_loaded++];
	memset(w, 0, sizeof(*w));
	w->path = xstrdup(path);
	buf_init(&file, (size_t)1 << 20);
	if (read_file(path, &file) < 0) {
		buf_free(&file);
		return w;
	}
	for (line = strtok_r(file.s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *k, *v, *e;

		if (*line == '#' || !eq)
			continue;
		*eq = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v);
		     e > v && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t');
		     e--)
			;
		*e = '\0';
		if (!*k)
			continue;
		if (w->n + 2 > cap) {
			cap = cap ? 2 * cap : 128;
			w->kv = xrealloc(w->kv, cap * sizeof(char *));
		}
		w->kv[w->n++] = xstrdup(k);
		w->kv[w->n++] = xstrdup(v);
	}
	buf_free(&file);
	return w;
}

static const char *
lookup(const struct words *w, const char *key)
{
	size_t i;

	for (i = 0; w && i + 1 < w->n; i += 2)
		if (strcmp(w->kv[i], key) == 0)
			return w->kv[i + 1];
	return NULL;
}

const char *
words_get(const char *templates, const char *lang, const char *name,
          const char *key)
{
	struct buf path = BUF_INIT;
	const char *v;

	buf_printf(&path, "%s/%s/%s.strings", templates, lang, name);
	v = lookup(words_load(buf_str(&path)), key);
	if (!v && strcmp(lang, "en") != 0) {
		buf_reset(&path);
		buf_printf(&path, "%s/en/%s.strings", templates, name);
		v = lookup(words_load(buf_str(&path)), key);
	}
	buf_free(&path);
	return v ? v : key;
}
