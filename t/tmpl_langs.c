/*
 * tmpl_langs.c - the shipped templates ($top_srcdir/templates): every
 * language mlmd promises is there, every language has the same files as
 * en/ and each file the same variables as its English version (the rule
 * of issue 4: "a test fails when a language lacks a template or a key that
 * English has"), every file is UTF-8 and parses (tmpl_set_load refuses
 * anything else), uses only its documented variables, and renders with
 * exactly those set into text without leftover tags.  Arabic HTML carries
 * dir="rtl".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "tmpl.h"
#include "util.h"

static const char *const langs[] = {"en", "da", "sv", "nb", "fi", "is", "ar"};

/* The templates each language must have (at least; en/ decides the rest). */
static const char *const required[] = {"footer.txt", "held.txt", "rejected.txt",
                                       "too_big.txt", "help.txt"};

/* Mail templates have a Subject line; the footer is part of a post. */
static int
wants_subject(const char *base)
{
	return strcmp(base, "footer.txt") != 0 && strstr(base, ".html") == NULL;
}

static void
render_all(const struct tmpl_set *s)
{
	size_t i, k;

	for (i = 0; i < tmpl_set_count(s); i++) {
		const struct tmpl *t = tmpl_set_at(s, i);
		const char *base = strchr(tmpl_name(t), '/') + 1;
		const char *const *known = tmpl_documented_vars(base);
		struct buf subj = BUF_INIT, body = BUF_INIT, err = BUF_INIT;
		int pass;

		if (!ok(known != NULL, "%s: its variables are documented",
		        tmpl_name(t)))
			continue;
		/* Twice: optional values set, then all empty. */
		for (pass = 0; pass < 2; pass++) {
			struct tmpl_vars *v = tmpl_vars_new();
			int rc;

			for (k = 0; known[k]; k++)
				tmpl_vars_set(v, known[k],
				              pass ? "" : "VALUE<&>");
			buf_reset(&subj);
			buf_reset(&body);
			buf_reset(&err);
			rc = tmpl_render_mail(t, v, &subj, &body, &err);
			ok(rc == 0, "%s renders (%s)", tmpl_name(t),
			   pass ? "empty values" : "values set");
			if (rc)
				diag("%s", buf_str(&err));
			ok(body.len > 0 && !strstr(buf_str(&body), "{{") &&
			       !strstr(buf_str(&body), "}}"),
			   "%s: body non-empty, no tag left", tmpl_name(t));
			ok(tmpl_utf8_valid(body.s, body.len) &&
			       tmpl_utf8_valid(subj.s, subj.len),
			   "%s: output is UTF-8", tmpl_name(t));
			if (pass == 0 && !tmpl_is_html(t))
				ok(strstr(buf_str(&body), "VALUE<&>") != NULL,
				   "%s: values appear unescaped in text",
				   tmpl_name(t));
			tmpl_vars_free(v);
		}
		is_int(tmpl_has_subject(t), wants_subject(base),
		       "%s: %s Subject line", tmpl_name(t),
		       wants_subject(base) ? "has a" : "has no");
		if (tmpl_has_subject(t))
			ok(subj.len > 0 && !strchr(buf_str(&subj), '\n'),
			   "%s: subject is one non-empty line", tmpl_name(t));
		buf_free(&subj);
		buf_free(&body);
		buf_free(&err);
	}
}

static void
check_rtl(const char *top, const struct tmpl_set *s)
{
	size_t i;
	int n = 0;

	for (i = 0; i < tmpl_set_count(s); i++) {
		const struct tmpl *t = tmpl_set_at(s, i);
		struct buf path = BUF_INIT, text = BUF_INIT;

		if (strcmp(tmpl_lang(t), "ar") != 0 || !tmpl_is_html(t))
			continue;
		n++;
		buf_printf(&path, "%s/templates/%s", top, tmpl_name(t));
		ok(read_file(buf_str(&path), &text) == 0 &&
		       strstr(buf_str(&text), "dir=\"rtl\"") != NULL,
		   "%s carries dir=\"rtl\"", tmpl_name(t));
		buf_free(&path);
		buf_free(&text);
	}
	if (n == 0)
		skip(1, "no Arabic HTML templates yet");
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct buf dir = BUF_INIT, err = BUF_INIT;
	struct tmpl_set *s;
	size_t i, k;

	buf_printf(&dir, "%s/templates", top ? top : ".");
	s = tmpl_set_load(buf_str(&dir), &err);
	if (!ok(s != NULL, "%s loads (UTF-8, parses, documented variables)",
	        buf_str(&dir))) {
		diag("%s", buf_str(&err));
		buf_free(&dir);
		buf_free(&err);
		return done_testing();
	}
	buf_reset(&err);
	ok(tmpl_set_check(s, &err) == 0,
	   "every language has en/'s files, with en/'s variables");
	if (err.len)
		diag("%s", buf_str(&err));

	for (i = 0; i < ARRAY_SIZE(langs); i++)
		for (k = 0; k < ARRAY_SIZE(required); k++) {
			const char *pref[] = {langs[i], NULL};
			const struct tmpl *t = tmpl_get(s, required[k], pref);

			is_str(t ? tmpl_lang(t) : NULL, langs[i],
			       "%s/%s exists", langs[i], required[k]);
		}

	render_all(s);
	check_rtl(top ? top : ".", s);
	tmpl_set_free(s);
	buf_free(&dir);
	buf_free(&err);
	return done_testing();
}
