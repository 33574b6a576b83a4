/*
 * words.h - short translated strings for pages and mails that are
 * assembled in code (the archive's pages, digests): the files
 * TEMPLATES/LANG/NAME.strings, one "key = value" per line, "#" starting a
 * comment.  A file is read once per process and kept.
 */
#ifndef MLMD_WORDS_H
#define MLMD_WORDS_H

/*
 * The value of key in TEMPLATES/LANG/NAME.strings, else in English's
 * file, else key itself; never NULL.  Borrowed until the process ends.
 */
const char *words_get(const char *templates, const char *lang,
		      const char *name, const char *key);

#endif
