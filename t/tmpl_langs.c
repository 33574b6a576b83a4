/*
 * tmpl_langs.c - the shipped templates ($top_srcdir/templates): every
 * language mlmd promises is there, every language has the same files as
 * en/ and each file the same variables as its English version (the rule
 * of issue 4: "a test fails when a language lacks a template or a key that
 * English has"), every file is UTF-8 and parses (tmpl_set_load refuses
 * anything else), uses only its documented variables, and renders with
 * exactly those set into text without leftover tags.  Arabic HTML carries
 * dir="rtl".
 *
 * The templates for joining and leaving by email (confirm.txt ..
 * page.html) are rendered in every language twice more, with realistic
 * values: a full set (every flag on, lists of two items, optional values
 * set) and a minimal one (flags off, lists empty, optional values ""), and
 * every flag of the actions and results items must show some text of its
 * own.  The moderation templates (moderate.txt .. held_summary.txt) get
 * the same full and minimal sets, and moderated.txt its three real cases
 * (decided, decided before this moderator's reply, reply not understood).
 * In every language the command words a moderator replies with stay the
 * English ones the parser reads.  The bounce templates (probe.txt,
 * bounces.txt) get full and minimal sets too; each any_* flag of
 * bounces.txt must show a paragraph of its own, every language lists the
 * same items, and "nomail off" and `mlmctl bounces LIST` stay English.
 * The subscription moderation templates (sub_request.txt, sub_waiting.txt,
 * sub_refused.txt) get full and minimal sets too: the request gives the
 * three commands in English (no "approve always": that is for posts) and
 * this owner's reply address on a line of its own, and the refusal's
 * reason paragraph is there only when a reason was given.
 * The event templates (event_invite.txt .. event_confirm.txt) get full and
 * minimal sets too: the invitation gives yes, no and maybe in English
 * (and the native words the parser also reads), the HTML invitation has
 * mailto links for them and nothing external, each case of
 * event_answer.txt has a paragraph and a subject of its own, the
 * summary shows every number and the report command as it is, and the
 * coordinator's confirmation gives the confirm address, and a text and
 * subject of its own for a change.
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
static const char *const required[] = {
    "footer.txt",   "held.txt",      "rejected.txt",  "too_big.txt",
    "help.txt",     "confirm.txt",   "results.txt",   "welcome.txt",
    "goodbye.txt",  "export.txt",    "forgotten.txt", "page.html",
    "moderate.txt", "moderated.txt", "expired.txt",   "held_summary.txt",
    "probe.txt",    "bounces.txt",   "sub_request.txt", "sub_waiting.txt",
    "sub_refused.txt", "archive_link.txt",
    "event_invite.txt", "event_invite.html", "event_answer.txt",
    "event_reminder.txt", "event_cancel.txt", "event_summary.txt",
    "event_confirm.txt"};

/* Mail templates have a Subject line; the footer is part of a post. */
static int
wants_subject(const char *base)
{
	return strcmp(base, "footer.txt") != 0 && strstr(base, ".html") == NULL;
}

/*
 * Is name a list?  Its items' fields are documented as "name.field".
 * Fields (names with a dot) are not set at the top.
 */
static int
is_list(const char *const *known, const char *name)
{
	size_t n = strlen(name);

	for (; *known; known++)
		if (strncmp(*known, name, n) == 0 && (*known)[n] == '.')
			return 1;
	return 0;
}

static void
set_generic(struct tmpl_vars *v, const char *const *known, const char *name,
            int empty)
{
	size_t n = strlen(name), i, k;

	if (strchr(name, '.'))
		return;
	if (!is_list(known, name)) {
		tmpl_vars_set(v, name, empty ? "" : "VALUE<&>");
		return;
	}
	tmpl_vars_set_list(v, name);
	for (i = 0; !empty && i < 2; i++) {
		struct tmpl_vars *item = tmpl_vars_add_item(v, name);

		for (k = 0; known[k]; k++)
			if (strncmp(known[k], name, n) == 0 &&
			    known[k][n] == '.')
				tmpl_vars_set(item, known[k] + n + 1,
				              "VALUE<&>");
	}
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
				set_generic(v, known, known[k], pass);
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

/* --- joining and leaving by email ------------------------------------- */

static const char *const sub_templates[] = {
    "confirm.txt", "results.txt",   "welcome.txt", "goodbye.txt",
    "export.txt",  "forgotten.txt", "page.html"};

#define MOD_ADDR "denmark+moderate-17-Zm9v@lists.example.org"

/*
 * Realistic values by documented name.  required: set in the minimal set
 * too; every other name is a flag or an optional value ("" there).  Names
 * not in this table are flags: "1" in the full set.
 */
static const struct {
	const char *name, *value;
	int required;
} samples[] = {
    {"list_name", "denmark", 1},
    {"list_address", "denmark@lists.example.org", 1},
    {"list_description", "Migrant entrepreneurs in Denmark", 0},
    {"address", "amal@example.org", 1},
    {"request_address", "denmark-request@lists.example.org", 1},
    {"subscribe_address", "denmark+subscribe@lists.example.org", 1},
    {"unsubscribe_address", "denmark+unsubscribe@lists.example.org", 1},
    {"help_address", "denmark+help@lists.example.org", 1},
    {"owner_address", "denmark-owner@lists.example.org", 1},
    {"archive_url", "https://lists.example.org/archive/denmark/", 0},
    {"confirm_address", "denmark+confirm-Q2xhcmE@lists.example.org", 1},
    {"confirm_url", "https://lists.example.org/t/Q2xhcmE", 0},
    {"expires", "2026-12-01 10:00 UTC", 1},
    {"actions.language_code", "da", 0},
    {"results.command", "digest on", 1},
    {"results.arg", "50", 0},
    {"help_text", "HELP <b>&</b> FOLLOWS\nsubscribe  join the list", 0},
    {"public_lists.name", "sweden", 1},
    {"public_lists.address", "sweden@lists.example.org", 1},
    {"public_lists.description", "Migrant entrepreneurs in Sweden", 0},
    {"memberships.name", "norway", 1},
    {"memberships.address", "norway@lists.example.org", 1},
    {"data",
     "{\n  \"address\": \"amal@example.org\",\n  \"lists\": [\n"
     "    { \"list\": \"denmark\", \"since\": \"2026-01-05\" }\n"
     "  ]\n}",
     1},
    {"action_url", "https://lists.example.org/t/Q2xhcmE?a=1&b=2", 1},
    /* moderation */
    {"sender", "omar@example.org", 1},
    {"subject", "Market day in Aarhus", 1},
    {"reason", "the sender is not a member", 1},
    {"size", "12 KB", 1},
    {"held_id", "17", 1},
    {"moderate_address", MOD_ADDR, 1},
    {"decided_by", "lena@example.org", 0},
    {"decision", "approved", 0},
    {"days", "14", 1},
    {"count", "2", 1},
    {"posts.held_id", "17", 1},
    {"posts.sender", "omar@example.org", 1},
    {"posts.subject", "Market day in Aarhus", 1},
    {"posts.reason", "the sender is not a member", 1},
    {"posts.age", "3 days", 1},
    {"posts.moderate_address", MOD_ADDR, 1},
    /* bounces */
    {"disabled.address", "lena@example.net", 1},
    {"disabled.status", "5.1.1", 1},
    {"disabled.diagnostic", "550 5.1.1 <lena@example.net>: no such user", 0},
    {"removed.address", "karl@example.com", 1},
    {"content.message_id", "20261201.4f2a@example.org", 1},
    {"content.subject", "Invoice for the fair", 1},
    {"content.domains", "7", 1},
};

/* lang and dir depend on the language; everything else on samples[]. */
static const char *
sample(const char *name, const char *lang, int full)
{
	size_t i;

	if (strcmp(name, "lang") == 0)
		return lang;
	if (strcmp(name, "dir") == 0)
		return strcmp(lang, "ar") == 0 ? "rtl" : "ltr";
	for (i = 0; i < ARRAY_SIZE(samples); i++)
		if (strcmp(samples[i].name, name) == 0)
			return full || samples[i].required ? samples[i].value
			                                   : "";
	return full ? "1" : "";
}

/* One item of list with its fields: as sample(), or all off but only. */
static void
fill_item(struct tmpl_vars *item, const char *const *known, const char *list,
          const char *lang, int full, const char *only)
{
	size_t n = strlen(list), k;

	for (k = 0; known[k]; k++) {
		const char *f = known[k] + n + 1;

		if (strncmp(known[k], list, n) != 0 || known[k][n] != '.')
			continue;
		if (only)
			tmpl_vars_set(item, f,
			              strcmp(f, only) == 0
			                  ? "1"
			                  : sample(known[k], lang, 0));
		else
			tmpl_vars_set(item, f, sample(known[k], lang, full));
	}
}

static struct tmpl_vars *
sample_vars(const char *const *known, const char *lang, int full)
{
	struct tmpl_vars *v = tmpl_vars_new();
	size_t k;
	int i;

	for (k = 0; known[k]; k++) {
		if (strchr(known[k], '.'))
			continue;
		if (!is_list(known, known[k])) {
			tmpl_vars_set(v, known[k],
			              sample(known[k], lang, full));
			continue;
		}
		tmpl_vars_set_list(v, known[k]);
		for (i = 0; full && i < 2; i++)
			fill_item(tmpl_vars_add_item(v, known[k]), known,
			          known[k], lang, full, NULL);
	}
	return v;
}

/* Render t with v; the body (and subject) go to the caller's buffers. */
static int
render_into(const struct tmpl *t, const struct tmpl_vars *v, struct buf *subj,
            struct buf *body)
{
	struct buf err = BUF_INIT;
	int rc;

	buf_reset(subj);
	buf_reset(body);
	rc = tmpl_render_mail(t, v, subj, body, &err);
	if (rc)
		diag("%s", buf_str(&err));
	buf_free(&err);
	return rc;
}

static void
check_sample(const struct tmpl *t, const char *lang, int full)
{
	const char *base = strchr(tmpl_name(t), '/') + 1;
	const char *const *known = tmpl_documented_vars(base);
	const char *what = full ? "full" : "minimal";
	struct tmpl_vars *v = sample_vars(known, lang, full);
	struct buf subj = BUF_INIT, body = BUF_INIT;
	const char *b;

	ok(render_into(t, v, &subj, &body) == 0, "%s renders (%s set)",
	   tmpl_name(t), what);
	b = buf_str(&body);
	ok(body.len > 0 && tmpl_utf8_valid(body.s, body.len) &&
	       tmpl_utf8_valid(subj.s, subj.len),
	   "%s (%s): non-empty UTF-8", tmpl_name(t), what);
	ok(!strstr(b, "{{") && !strstr(b, "}}") &&
	       !strstr(buf_str(&subj), "{{"),
	   "%s (%s): no tag left", tmpl_name(t), what);
	if (tmpl_is_html(t)) {
		struct buf want = BUF_INIT;

		buf_printf(&want, "<html lang=\"%s\" dir=\"%s\">", lang,
		           strcmp(lang, "ar") == 0 ? "rtl" : "ltr");
		ok(strncmp(b, "<!DOCTYPE html>\n", 16) == 0 &&
		       strstr(b, buf_str(&want)) && strstr(b, "<main") &&
		       strstr(b, "</html>"),
		   "%s (%s): an HTML5 document with %s", tmpl_name(t), what,
		   buf_str(&want));
		ok(!strstr(b, "<script") && !strstr(b, "src=") &&
		       !strstr(b, "<link"),
		   "%s (%s): no scripts, no external resources", tmpl_name(t),
		   what);
		if (strcmp(lang, "ar") == 0)
			ok(strstr(b, "dir=\"rtl\"") != NULL,
			   "%s (%s): renders dir=\"rtl\"", tmpl_name(t), what);
		if (full) {
			ok(strstr(b, "name=\"List-Unsubscribe\" "
			             "value=\"One-Click\"") &&
			       strstr(b,
			              "<form method=\"post\" action=\"https:"
			              "//lists.example.org/t/Q2xhcmE?a=1&amp;"
			              "b=2\">"),
			   "%s: forms post to the escaped action_url, "
			   "one-click "
			   "field",
			   tmpl_name(t));
		}
		buf_free(&want);
	} else {
		ok(subj.len > 0 && !strchr(buf_str(&subj), '\n') &&
		       strstr(buf_str(&subj), "denmark"),
		   "%s (%s): subject names the list", tmpl_name(t), what);
	}
	if (strcmp(base, "confirm.txt") == 0) {
		ok(strstr(b, "denmark+confirm-Q2xhcmE@") != NULL,
		   "%s (%s): gives the confirm address", tmpl_name(t), what);
		is_int(strstr(b, "https://lists.example.org/t/Q2xhcmE") != NULL,
		       full, "%s (%s): the link only when set", tmpl_name(t),
		       what);
	}
	if (strcmp(base, "results.txt") == 0)
		is_int(strstr(b, "HELP <b>&</b> FOLLOWS\n") != NULL, full,
		       "%s (%s): help_text raw, only when set", tmpl_name(t),
		       what);
	if (strcmp(base, "export.txt") == 0)
		ok(strstr(b, "\"since\": \"2026-01-05\"") != NULL,
		   "%s (%s): the data, raw", tmpl_name(t), what);
	if (strcmp(base, "welcome.txt") == 0)
		ok(strstr(b, "denmark+unsubscribe@") != NULL,
		   "%s (%s): says how to leave", tmpl_name(t), what);
	if (strcmp(base, "goodbye.txt") == 0)
		ok(strstr(b, "denmark+subscribe@") != NULL,
		   "%s (%s): says how to come back", tmpl_name(t), what);
	if (strcmp(base, "moderate.txt") == 0) {
		ok(strstr(b, "\n    approve ") &&
		       strstr(b, "\n    approve always ") &&
		       strstr(b, "\n    reject REASON ") &&
		       strstr(b, "\n    discard "),
		   "%s (%s): the four commands, in English", tmpl_name(t),
		   what);
		/* On a line of its own: easy to copy, whatever the script. */
		ok(strstr(b, "\n    " MOD_ADDR "\n") &&
		       strstr(b, "omar@example.org") &&
		       strstr(b, "the sender is not a member") &&
		       strstr(b, "12 KB") && strstr(b, "17") &&
		       strstr(b, "2026-12-01 10:00 UTC") &&
		       strstr(b, "denmark-owner@"),
		   "%s (%s): reply address, sender, reason, size, number, "
		   "expiry, owners",
		   tmpl_name(t), what);
		ok(strstr(buf_str(&subj), "Market day in Aarhus") != NULL,
		   "%s (%s): subject names the post", tmpl_name(t), what);
	}
	if (strcmp(base, "moderated.txt") == 0) {
		/* full: unclear and too_late on; minimal: both off. */
		is_int(strstr(b, "reject REASON") != NULL, full,
		       "%s (%s): the commands only when the reply was unclear",
		       tmpl_name(t), what);
		ok(!strstr(b, "lena@example.org"),
		   "%s (%s): no decision shown for an unclear reply or "
		   "without one",
		   tmpl_name(t), what);
	}
	if (strcmp(base, "expired.txt") == 0)
		ok(strstr(b, "14") && strstr(b, "Market day in Aarhus") &&
		       strstr(b, "denmark-owner@"),
		   "%s (%s): days, subject, owners", tmpl_name(t), what);
	if (strcmp(base, "probe.txt") == 0)
		ok(strstr(b, "\"nomail off\"") &&
		       strstr(b, "denmark-request@") &&
		       strstr(b, "denmark-owner@") &&
		       strstr(b, "amal@example.org") &&
		       strstr(b, "denmark@lists.example.org"),
		   "%s (%s): \"nomail off\" in English, request and owner "
		   "addresses, the member's address",
		   tmpl_name(t), what);
	if (strcmp(base, "bounces.txt") == 0) {
		const char *p = b;
		int n = 0;

		/* The same items in every language: 2 of each list. */
		while ((p = strstr(p, "\n  - ")) != NULL) {
			n++;
			p++;
		}
		is_int(n, full ? 6 : 0, "%s (%s): one \"  - \" line per item",
		       tmpl_name(t), what);
		p = strstr(b, "Invoice for the fair "
		              "<20261201.4f2a@example.org>");
		is_int(strstr(b, "lena@example.net: 5.1.1 550 5.1.1") &&
		           strstr(b, "karl@example.com") && p &&
		           strcspn(p, "\n") > strcspn(p, "7"),
		       full,
		       "%s (%s): addresses, status, diagnostic, posts, domain "
		       "counts only when set",
		       tmpl_name(t), what);
		ok(strstr(b, "`mlmctl bounces denmark`") &&
		       strstr(b, "denmark@lists.example.org"),
		   "%s (%s): the list, and `mlmctl bounces LIST` as it is",
		   tmpl_name(t), what);
	}
	if (strcmp(base, "sub_request.txt") == 0) {
		ok(strstr(b, "\n    approve ") &&
		       strstr(b, "\n    reject REASON ") &&
		       strstr(b, "\n    discard ") &&
		       !strstr(b, "approve always"),
		   "%s (%s): the three commands, in English", tmpl_name(t),
		   what);
		ok(strstr(b, "\n    " MOD_ADDR "\n") &&
		       strstr(b, "amal@example.org") &&
		       strstr(b, "denmark@lists.example.org") &&
		       strstr(b, "2026-12-01 10:00 UTC"),
		   "%s (%s): reply address, who asks, the list, expiry",
		   tmpl_name(t), what);
		ok(strstr(buf_str(&subj), "amal@example.org") != NULL,
		   "%s (%s): subject names who asks", tmpl_name(t), what);
	}
	if (strcmp(base, "sub_waiting.txt") == 0 ||
	    strcmp(base, "sub_refused.txt") == 0)
		ok(strstr(b, "denmark@lists.example.org") &&
		       strstr(b, "denmark-owner@") &&
		       !strstr(b, "\n    approve") && !strstr(b, MOD_ADDR),
		   "%s (%s): the list and its owners, no commands",
		   tmpl_name(t), what);
	if (strcmp(base, "held_summary.txt") == 0) {
		const char *p = b;
		int n = 0;

		while ((p = strstr(p, MOD_ADDR)) != NULL) {
			n++;
			p++;
		}
		is_int(n, full ? 2 : 0, "%s (%s): one reply address per post",
		       tmpl_name(t), what);
		ok(strstr(b, "approve always") && strstr(b, "reject REASON") &&
		       strstr(b, "discard") && strstr(b, "denmark-owner@"),
		   "%s (%s): the commands in English, the owners", tmpl_name(t),
		   what);
		ok(strstr(buf_str(&subj), "2") != NULL,
		   "%s (%s): subject gives the count", tmpl_name(t), what);
	}
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&body);
}

/*
 * Every flag of an item must add text of its own: render with one item
 * that has only that flag on, against one item with every flag off.
 * prefix: only flags starting with it (page.html shows results only after
 * a confirmation: the r_done_ ones).  outer: the flag that shows the list.
 */
static void
check_flags(const struct tmpl *t, const char *lang, const char *list,
            const char *prefix, const char *outer)
{
	const char *base = strchr(tmpl_name(t), '/') + 1;
	const char *const *known = tmpl_documented_vars(base);
	size_t n = strlen(list), k;
	struct buf subj = BUF_INIT, body = BUF_INIT;
	size_t none;
	int bad = 0, count = 0;

	{
		struct tmpl_vars *v = sample_vars(known, lang, 0);

		tmpl_vars_set(v, outer, "1");
		fill_item(tmpl_vars_add_item(v, list), known, list, lang, 0,
		          "");
		render_into(t, v, &subj, &body);
		none = body.len;
		tmpl_vars_free(v);
	}
	for (k = 0; known[k]; k++) {
		const char *f = known[k] + n + 1;
		struct tmpl_vars *v;

		if (strncmp(known[k], list, n) != 0 || known[k][n] != '.' ||
		    strncmp(f, prefix, strlen(prefix)) != 0 ||
		    strcmp(f, "language_code") == 0)
			continue;
		v = sample_vars(known, lang, 0);
		tmpl_vars_set(v, outer, "1");
		fill_item(tmpl_vars_add_item(v, list), known, list, lang, 0, f);
		if (render_into(t, v, &subj, &body) != 0 || body.len <= none) {
			diag("%s: %s.%s shows nothing", tmpl_name(t), list, f);
			bad = 1;
		}
		count++;
		tmpl_vars_free(v);
	}
	ok(!bad && count > 0, "%s: each of the %d %s.%s* flags has its text",
	   tmpl_name(t), count, list, prefix);
	buf_free(&subj);
	buf_free(&body);
}

static void
check_sub_templates(const struct tmpl_set *s)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(langs); i++)
		for (k = 0; k < ARRAY_SIZE(sub_templates); k++) {
			const char *pref[] = {langs[i], NULL};
			const struct tmpl *t =
			    tmpl_get(s, sub_templates[k], pref);

			if (!t || strcmp(tmpl_lang(t), langs[i]) != 0 ||
			    !tmpl_documented_vars(sub_templates[k])) {
				ok(0, "%s/%s exists, variables documented",
				   langs[i], sub_templates[k]);
				continue;
			}
			check_sample(t, langs[i], 1);
			check_sample(t, langs[i], 0);
			if (strcmp(sub_templates[k], "confirm.txt") == 0) {
				check_flags(t, langs[i], "actions", "a_",
				            "any_results");
				check_flags(t, langs[i], "results", "r_",
				            "any_results");
			} else if (strcmp(sub_templates[k], "results.txt") ==
			           0) {
				check_flags(t, langs[i], "results", "r_",
				            "any_results");
			} else if (strcmp(sub_templates[k], "page.html") == 0) {
				check_flags(t, langs[i], "actions", "a_",
				            "ask_confirm");
				check_flags(t, langs[i], "results", "r_done_",
				            "done_confirm");
			}
		}
}

/* --- moderation ------------------------------------------------------ */

static const char *const mod_templates[] = {"moderate.txt", "moderated.txt",
                                            "expired.txt", "held_summary.txt"};

/*
 * moderated.txt as mlmd sends it: a decision by another moderator; the
 * same decision when this moderator's reply came too late (more text);
 * a reply that did not start with a command (no decision, the commands).
 */
static void
check_moderated(const struct tmpl *t, const char *lang)
{
	const char *const *known = tmpl_documented_vars("moderated.txt");
	struct buf subj = BUF_INIT, body = BUF_INIT;
	struct tmpl_vars *v = sample_vars(known, lang, 0);
	size_t decided;
	const char *b;

	tmpl_vars_set(v, "decided_by", "lena@example.org");
	tmpl_vars_set(v, "decision", "approved");
	ok(render_into(t, v, &subj, &body) == 0, "%s renders (decided)",
	   tmpl_name(t));
	b = buf_str(&body);
	ok(strstr(b, "lena@example.org") && strstr(b, "approved") &&
	       strstr(b, "17") && strstr(b, "omar@example.org") &&
	       !strstr(b, "reject REASON"),
	   "%s (decided): who decided what, on which post", tmpl_name(t));
	decided = body.len;

	tmpl_vars_set(v, "too_late", "1");
	ok(render_into(t, v, &subj, &body) == 0 && body.len > decided &&
	       strstr(buf_str(&body), "lena@example.org"),
	   "%s (too late): the decision and a word of its own", tmpl_name(t));

	tmpl_vars_set(v, "too_late", "");
	tmpl_vars_set(v, "unclear", "1");
	tmpl_vars_set(v, "decided_by", "");
	tmpl_vars_set(v, "decision", "");
	ok(render_into(t, v, &subj, &body) == 0, "%s renders (unclear)",
	   tmpl_name(t));
	b = buf_str(&body);
	ok(strstr(b, "approve always") && strstr(b, "reject REASON") &&
	       strstr(b, "discard") && strstr(b, "17") &&
	       strstr(b, "omar@example.org"),
	   "%s (unclear): which post, and the commands in English",
	   tmpl_name(t));
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&body);
}

static void
check_mod_templates(const struct tmpl_set *s)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(langs); i++)
		for (k = 0; k < ARRAY_SIZE(mod_templates); k++) {
			const char *pref[] = {langs[i], NULL};
			const struct tmpl *t =
			    tmpl_get(s, mod_templates[k], pref);

			if (!t || strcmp(tmpl_lang(t), langs[i]) != 0 ||
			    !tmpl_documented_vars(mod_templates[k])) {
				ok(0, "%s/%s exists, variables documented",
				   langs[i], mod_templates[k]);
				continue;
			}
			check_sample(t, langs[i], 1);
			check_sample(t, langs[i], 0);
			if (strcmp(mod_templates[k], "moderated.txt") == 0)
				check_moderated(t, langs[i]);
		}
}

/* --- bounces --------------------------------------------------------- */

static const char *const bounce_templates[] = {"probe.txt", "bounces.txt"};

/*
 * bounces.txt as mlmd sends it: usually only one or two of the three
 * kinds.  Each any_* flag alone must add a paragraph of its own (with its
 * list empty: the text, not the items), and with one item, that item's
 * line and nothing of the other lists.
 */
static void
check_bounce_parts(const struct tmpl *t, const char *lang)
{
	static const struct {
		const char *flag, *list, *shows, *not1, *not2;
	} parts[] = {
	    {"any_disabled", "disabled", "lena@example.net: 5.1.1",
	     "karl@example.com", "20261201.4f2a@"},
	    {"any_removed", "removed", "  - karl@example.com\n",
	     "lena@example.net", "20261201.4f2a@"},
	    {"any_content", "content", "<20261201.4f2a@example.org>",
	     "lena@example.net", "karl@example.com"},
	};
	const char *const *known = tmpl_documented_vars("bounces.txt");
	struct buf subj = BUF_INIT, body = BUF_INIT;
	size_t none, i;

	{
		struct tmpl_vars *v = sample_vars(known, lang, 0);

		render_into(t, v, &subj, &body);
		none = body.len;
		tmpl_vars_free(v);
	}
	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		struct tmpl_vars *v = sample_vars(known, lang, 0);
		size_t bare;
		const char *b;

		tmpl_vars_set(v, parts[i].flag, "1");
		/* More than the blank line before it: some words. */
		ok(render_into(t, v, &subj, &body) == 0 && body.len > none + 16,
		   "%s: %s shows a paragraph of its own", tmpl_name(t),
		   parts[i].flag);
		bare = body.len;
		fill_item(tmpl_vars_add_item(v, parts[i].list), known,
		          parts[i].list, lang, 1, NULL);
		ok(render_into(t, v, &subj, &body) == 0, "%s renders (%s)",
		   tmpl_name(t), parts[i].list);
		b = buf_str(&body);
		ok(body.len > bare && strstr(b, parts[i].shows) &&
		       !strstr(b, parts[i].not1) && !strstr(b, parts[i].not2),
		   "%s (%s only): its item, nothing of the other lists",
		   tmpl_name(t), parts[i].list);
		tmpl_vars_free(v);
	}
	buf_free(&subj);
	buf_free(&body);
}

static void
check_bounce_templates(const struct tmpl_set *s)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(langs); i++)
		for (k = 0; k < ARRAY_SIZE(bounce_templates); k++) {
			const char *pref[] = {langs[i], NULL};
			const struct tmpl *t =
			    tmpl_get(s, bounce_templates[k], pref);

			if (!t || strcmp(tmpl_lang(t), langs[i]) != 0 ||
			    !tmpl_documented_vars(bounce_templates[k])) {
				ok(0, "%s/%s exists, variables documented",
				   langs[i], bounce_templates[k]);
				continue;
			}
			check_sample(t, langs[i], 1);
			check_sample(t, langs[i], 0);
			if (strcmp(bounce_templates[k], "bounces.txt") == 0)
				check_bounce_parts(t, langs[i]);
		}
}

/* --- subscription moderation ---------------------------------------- */

static const char *const submod_templates[] = {
    "sub_request.txt", "sub_waiting.txt", "sub_refused.txt"};

/*
 * sub_refused.txt with and without a reason: the reason and a word of
 * its own only when given; without one its paragraph goes, blank line
 * and all.  (samples[] has reason as required: the moderation templates
 * always get one.)
 */
static void
check_sub_refused(const struct tmpl *t, const char *lang)
{
	const char *const *known = tmpl_documented_vars("sub_refused.txt");
	struct buf subj = BUF_INIT, body = BUF_INIT;
	struct tmpl_vars *v = sample_vars(known, lang, 0);
	const char *reason = "the sender is not a member";
	size_t with;

	tmpl_vars_set(v, "reason", reason);
	ok(render_into(t, v, &subj, &body) == 0 &&
	       strstr(buf_str(&body), reason) &&
	       !strstr(buf_str(&body), "\n\n\n"),
	   "%s (reason): the reason, no doubled blank line", tmpl_name(t));
	with = body.len;
	tmpl_vars_set(v, "reason", "");
	ok(render_into(t, v, &subj, &body) == 0 &&
	       !strstr(buf_str(&body), reason) &&
	       !strstr(buf_str(&body), "\n\n\n") &&
	       body.len + strlen(reason) + 4 < with &&
	       strstr(buf_str(&body), "denmark-owner@"),
	   "%s (no reason): its paragraph goes, blank line and all",
	   tmpl_name(t));
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&body);
}

static void
check_submod_templates(const struct tmpl_set *s)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(langs); i++)
		for (k = 0; k < ARRAY_SIZE(submod_templates); k++) {
			const char *pref[] = {langs[i], NULL};
			const struct tmpl *t =
			    tmpl_get(s, submod_templates[k], pref);

			if (!t || strcmp(tmpl_lang(t), langs[i]) != 0 ||
			    !tmpl_documented_vars(submod_templates[k])) {
				ok(0, "%s/%s exists, variables documented",
				   langs[i], submod_templates[k]);
				continue;
			}
			check_sample(t, langs[i], 1);
			check_sample(t, langs[i], 0);
			if (strcmp(submod_templates[k], "sub_refused.txt") == 0)
				check_sub_refused(t, langs[i]);
		}
}

/* --- events by email ------------------------------------------------- */

static const char *const event_templates[] = {
    "event_invite.txt",   "event_invite.html", "event_answer.txt",
    "event_reminder.txt", "event_cancel.txt",  "event_summary.txt",
    "event_confirm.txt"};

#define RSVP_ADDR "denmark+rsvp-Zm9vYmFy@lists.example.org"

/*
 * Event values, looked up before samples[] (same rules: required ones
 * are set in the minimal set too, names in neither table are flags).
 * The numbers of the summary are distinct, so that each can be found.
 */
static const struct {
	const char *name, *value;
	int required;
} ev_samples[] = {
    {"title", "Networking dinner", 1},
    {"when", "torsdag 10. december 2026 18:00\u201321:00 (Europe/Copenhagen)",
     1},
    {"place", "Café Nørrebro, Copenhagen", 0},
    {"description", "Bring <business cards> & ideas", 0},
    {"capacity", "20", 0},
    {"seats_left", "3", 0},
    {"deadline", "3 December 2026 12:00", 0},
    {"rsvp_address", RSVP_ADDR, 1},
    {"web_url", "https://lists.example.org/e/Zm9vYmFy?a=1&b=2", 0},
    {"occurrence_when", "10 February 2027 18:00", 0},
    {"question", "Any food allergies?", 0},
    {"guests", "43", 1},
    {"waitlist_position", "8", 0},
    {"days", "7", 1},
    {"invited", "91", 1},
    {"yes", "87", 1},
    {"no", "76", 1},
    {"maybe", "65", 1},
    {"waitlist", "54", 1},
    {"attended", "38", 1},
    {"no_answer", "19", 1},
    {"report_command", "mlmctl event report 12", 1},
    {"members", "140", 1},
    {"rrule", "FREQ=WEEKLY;BYDAY=TH;COUNT=6", 0},
};

/* The native answer words the parser reads too, besides yes/no/maybe. */
static const struct {
	const char *lang, *yes, *no, *maybe;
} ev_words[] = {
    {"da", "ja", "nej", "måske"},
    {"sv", "ja", "nej", "kanske"},
    {"nb", "ja", "nei", "kanskje"},
    {"fi", "kyllä", "ei", "ehkä"},
    {"is", "já", "nei", "kannski"},
    {"ar", "نعم", "لا", "ربما"},
};

static const char *const ev_answers[] = {
    "accepted", "declined", "tentative", "waitlisted",
    "promoted", "too_late", "unknown"};

static struct tmpl_vars *
ev_vars(const char *const *known, const char *lang, int full)
{
	struct tmpl_vars *v = tmpl_vars_new();
	size_t k, i;

	for (k = 0; known[k]; k++) {
		const char *val = NULL;

		for (i = 0; i < ARRAY_SIZE(ev_samples) && !val; i++)
			if (strcmp(ev_samples[i].name, known[k]) == 0)
				val = full || ev_samples[i].required
				          ? ev_samples[i].value
				          : "";
		tmpl_vars_set(v, known[k],
		              val ? val : sample(known[k], lang, full));
	}
	return v;
}

static void
check_event_sample(const struct tmpl *t, const char *lang, int full)
{
	const char *base = strchr(tmpl_name(t), '/') + 1;
	const char *const *known = tmpl_documented_vars(base);
	const char *what = full ? "full" : "minimal";
	struct tmpl_vars *v = ev_vars(known, lang, full);
	struct buf subj = BUF_INIT, body = BUF_INIT;
	const char *b, *s;
	int member = strcmp(base, "event_summary.txt") != 0 &&
	             strcmp(base, "event_confirm.txt") != 0;
	size_t i;

	ok(render_into(t, v, &subj, &body) == 0, "%s renders (%s set)",
	   tmpl_name(t), what);
	b = buf_str(&body);
	s = buf_str(&subj);
	ok(body.len > 0 && tmpl_utf8_valid(body.s, body.len) &&
	       tmpl_utf8_valid(subj.s, subj.len),
	   "%s (%s): non-empty UTF-8", tmpl_name(t), what);
	ok(!strstr(b, "{{") && !strstr(b, "}}") && !strstr(s, "{{"),
	   "%s (%s): no tag left", tmpl_name(t), what);
	ok(strstr(b, "Networking dinner") &&
	       strstr(b, "18:00\u201321:00 (Europe/Copenhagen)"),
	   "%s (%s): the title and the time", tmpl_name(t), what);
	if (member)
		ok(strstr(b, "denmark-owner@lists.example.org") != NULL,
		   "%s (%s): the coordinators' address", tmpl_name(t), what);
	if (tmpl_is_html(t)) {
		struct buf want = BUF_INIT;

		buf_printf(&want, "<html lang=\"%s\" dir=\"%s\">", lang,
		           strcmp(lang, "ar") == 0 ? "rtl" : "ltr");
		ok(strncmp(b, "<!DOCTYPE html>\n", 16) == 0 &&
		       strstr(b, buf_str(&want)) && strstr(b, "</html>"),
		   "%s (%s): an HTML document with %s", tmpl_name(t), what,
		   buf_str(&want));
		ok(!strstr(b, "<script") && !strstr(b, "src=") &&
		       !strstr(b, "<link") && !strstr(b, "<img"),
		   "%s (%s): no scripts, no images, nothing external",
		   tmpl_name(t), what);
		ok(strstr(b, "href=\"mailto:" RSVP_ADDR "?subject=yes\"") &&
		       strstr(b, "href=\"mailto:" RSVP_ADDR "?subject=no\"") &&
		       strstr(b,
		              "href=\"mailto:" RSVP_ADDR "?subject=maybe\""),
		   "%s (%s): mailto links for yes, no and maybe", tmpl_name(t),
		   what);
		is_int(strstr(b, "href=\"https://lists.example.org/e/"
		                 "Zm9vYmFy?a=1&amp;b=2\"") != NULL &&
		           strstr(b, "?subject=yes%20%2B1\"") != NULL,
		       full, "%s (%s): web link (escaped) and +1 only when set",
		       tmpl_name(t), what);
		ok(!strstr(b, "<business") &&
		       (!full || strstr(b, "&lt;business cards&gt; &amp;")),
		   "%s (%s): values escaped", tmpl_name(t), what);
		buf_free(&want);
	} else {
		ok(subj.len > 0 && !strchr(s, '\n') &&
		       strstr(s, "Networking dinner") && strstr(s, "denmark"),
		   "%s (%s): subject names the event and the list",
		   tmpl_name(t), what);
	}
	if (strcmp(base, "event_invite.txt") == 0) {
		ok(strstr(b, "\n    yes ") && strstr(b, "\n    no ") &&
		       strstr(b, "\n    maybe ") && strstr(b, RSVP_ADDR),
		   "%s (%s): yes, no, maybe in English, the RSVP address",
		   tmpl_name(t), what);
		is_int(strstr(b, "\"yes +1\"") && strstr(b, "Any food allergies?") &&
		           strstr(b, "3 December 2026 12:00") &&
		           strstr(b, "https://lists.example.org/e/") &&
		           strstr(b, "10 February 2027") &&
		           strstr(b, "Café Nørrebro") && strstr(b, "20") &&
		           strstr(b, "<business cards> &"),
		       full,
		       "%s (%s): +1, question, deadline, link, date, place, "
		       "description only when set",
		       tmpl_name(t), what);
		for (i = 0; i < ARRAY_SIZE(ev_words); i++)
			if (strcmp(ev_words[i].lang, lang) == 0)
				ok(strstr(b, ev_words[i].yes) &&
				       strstr(b, ev_words[i].no) &&
				       strstr(b, ev_words[i].maybe),
				   "%s (%s): also the words %s, %s, %s",
				   tmpl_name(t), what, ev_words[i].yes,
				   ev_words[i].no, ev_words[i].maybe);
	}
	if (strcmp(base, "event_summary.txt") == 0) {
		ok(strstr(b, "91") && strstr(b, "87") && strstr(b, "76") &&
		       strstr(b, "65") && strstr(b, "54") && strstr(b, "43") &&
		       strstr(b, "19") &&
		       strstr(b, "\n    mlmctl event report 12\n"),
		   "%s (%s): the numbers, the report command as it is",
		   tmpl_name(t), what);
		is_int(strstr(b, "38") != NULL, full,
		       "%s (%s): attended only after the event", tmpl_name(t),
		       what);
	}
	if (strcmp(base, "event_reminder.txt") == 0 ||
	    strcmp(base, "event_cancel.txt") == 0)
		is_int(strstr(b, "10 February 2027") != NULL, full,
		       "%s (%s): the occurrence only for a series",
		       tmpl_name(t), what);
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&body);
}

/*
 * event_answer.txt as mlmd sends it: exactly one case flag.  Each case
 * adds text of its own and a subject of its own.
 */
static void
check_event_answer(const struct tmpl *t, const char *lang)
{
	const char *const *known = tmpl_documented_vars("event_answer.txt");
	struct buf subj = BUF_INIT, body = BUF_INIT;
	char *subjects[ARRAY_SIZE(ev_answers)], *nonebody;
	size_t none, i, j;
	int distinct = 1;

	{
		struct tmpl_vars *v = ev_vars(known, lang, 0);

		render_into(t, v, &subj, &body);
		none = body.len;
		nonebody = xstrdup(buf_str(&body));
		tmpl_vars_free(v);
	}
	for (i = 0; i < ARRAY_SIZE(ev_answers); i++) {
		struct tmpl_vars *v = ev_vars(known, lang, 0);
		const char *b;

		tmpl_vars_set(v, ev_answers[i], "1");
		if (strcmp(ev_answers[i], "waitlisted") == 0)
			tmpl_vars_set(v, "waitlist_position", "8");
		/* too_late drops the "answer again" paragraph: compare. */
		ok(render_into(t, v, &subj, &body) == 0 &&
		       (body.len > none + 16 ||
		        (strcmp(ev_answers[i], "too_late") == 0 &&
		         strcmp(buf_str(&body), nonebody) != 0 &&
		         body.len > 100)),
		   "%s (%s): a paragraph of its own", tmpl_name(t),
		   ev_answers[i]);
		b = buf_str(&body);
		subjects[i] = xstrdup(buf_str(&subj));
		if (strcmp(ev_answers[i], "unknown") == 0)
			ok(strstr(b, "\n    yes ") && strstr(b, "\n    no ") &&
			       strstr(b, "\n    maybe ") &&
			       strstr(b, "\"yes +1\""),
			   "%s (unknown): how to answer, in English",
			   tmpl_name(t));
		if (strcmp(ev_answers[i], "waitlisted") == 0)
			ok(strstr(b, "8") && strstr(b, "43"),
			   "%s (waitlisted): position and guests",
			   tmpl_name(t));
		if (strcmp(ev_answers[i], "too_late") == 0)
			ok(!strstr(b, RSVP_ADDR),
			   "%s (too_late): no invitation to answer again",
			   tmpl_name(t));
		else
			ok(strstr(b, RSVP_ADDR) != NULL,
			   "%s (%s): how to answer again", tmpl_name(t),
			   ev_answers[i]);
		tmpl_vars_free(v);
	}
	for (i = 0; i < ARRAY_SIZE(ev_answers); i++)
		for (j = i + 1; j < ARRAY_SIZE(ev_answers); j++)
			if (strcmp(subjects[i], subjects[j]) == 0) {
				diag("%s: %s and %s: same subject",
				     tmpl_name(t), ev_answers[i],
				     ev_answers[j]);
				distinct = 0;
			}
	ok(distinct, "%s: each case has a subject of its own", tmpl_name(t));
	for (i = 0; i < ARRAY_SIZE(ev_answers); i++)
		free(subjects[i]);
	free(nonebody);
	buf_free(&subj);
	buf_free(&body);
}

/*
 * event_confirm.txt, new event and change, with the full set (recurring
 * with a rule, place, capacity, deadline) and the minimal one: the
 * confirm address on a line of its own always, the members' number for a
 * new event, the optional lines only when set; a change has a text and a
 * subject of its own.
 */
#define CONFIRM_ADDR "denmark+confirm-Q2xhcmE@lists.example.org"

static void
check_event_confirm(const struct tmpl *t, const char *lang)
{
	const char *const *known = tmpl_documented_vars("event_confirm.txt");
	struct buf subj = BUF_INIT, body = BUF_INIT;
	int full, upd;

	for (full = 1; full >= 0; full--) {
		const char *what = full ? "full" : "minimal";
		struct tmpl_vars *v = ev_vars(known, lang, full);
		char *b0 = NULL, *s0 = NULL;

		for (upd = 0; upd <= 1; upd++) {
			const char *b, *s;

			tmpl_vars_set(v, "updated", upd ? "1" : "");
			ok(render_into(t, v, &subj, &body) == 0,
			   "%s renders (%s set, %s)", tmpl_name(t), what,
			   upd ? "updated" : "new");
			b = buf_str(&body);
			s = buf_str(&subj);
			ok(!strstr(b, "{{") && !strstr(s, "{{") &&
			       strstr(b, "\n    Networking dinner\n") &&
			       strstr(b, "18:00\u201321:00 (Europe/Copenhagen)") &&
			       strstr(b, "\n" CONFIRM_ADDR "\n") &&
			       strstr(s, "Networking dinner") &&
			       strstr(s, "denmark"),
			   "%s (%s, %s): title, when, confirm address",
			   tmpl_name(t), what, upd ? "updated" : "new");
			is_int(strstr(b, "FREQ=WEEKLY;BYDAY=TH;COUNT=6") &&
			           strstr(b, "Café Nørrebro") &&
			           strstr(b, " 20\n") &&
			           strstr(b, "3 December 2026 12:00"),
			       full,
			       "%s (%s, %s): rule, place, seats, deadline only "
			       "when set",
			       tmpl_name(t), what, upd ? "updated" : "new");
			if (!upd) {
				ok(strstr(b, "140") != NULL,
				   "%s (%s, new): how many members",
				   tmpl_name(t), what);
				b0 = xstrdup(b);
				s0 = xstrdup(s);
			} else
				ok(strcmp(b0, b) != 0 && strcmp(s0, s) != 0,
				   "%s (%s): a change has a text and a subject "
				   "of its own",
				   tmpl_name(t), what);
		}
		free(b0);
		free(s0);
		tmpl_vars_free(v);
	}
	buf_free(&subj);
	buf_free(&body);
}

/* event_reminder.txt: on the waiting list, or coming. */
static void
check_event_reminder(const struct tmpl *t, const char *lang)
{
	const char *const *known = tmpl_documented_vars("event_reminder.txt");
	struct buf subj = BUF_INIT, body = BUF_INIT;
	struct tmpl_vars *v = ev_vars(known, lang, 0);
	char *coming;

	tmpl_vars_set(v, "days", "1");
	ok(render_into(t, v, &subj, &body) == 0 &&
	       strstr(buf_str(&body), "1") && strstr(buf_str(&body), RSVP_ADDR),
	   "%s (coming): the days, how to say no", tmpl_name(t));
	coming = xstrdup(buf_str(&body));
	tmpl_vars_set(v, "waitlisted", "1");
	ok(render_into(t, v, &subj, &body) == 0 &&
	       strcmp(coming, buf_str(&body)) != 0,
	   "%s (waitlisted): a text of its own", tmpl_name(t));
	free(coming);
	tmpl_vars_free(v);
	buf_free(&subj);
	buf_free(&body);
}

static void
check_event_templates(const struct tmpl_set *s)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(langs); i++)
		for (k = 0; k < ARRAY_SIZE(event_templates); k++) {
			const char *pref[] = {langs[i], NULL};
			const struct tmpl *t =
			    tmpl_get(s, event_templates[k], pref);

			if (!t || strcmp(tmpl_lang(t), langs[i]) != 0 ||
			    !tmpl_documented_vars(event_templates[k])) {
				ok(0, "%s/%s exists, variables documented",
				   langs[i], event_templates[k]);
				continue;
			}
			check_event_sample(t, langs[i], 1);
			check_event_sample(t, langs[i], 0);
			if (strcmp(event_templates[k], "event_answer.txt") == 0)
				check_event_answer(t, langs[i]);
			if (strcmp(event_templates[k], "event_reminder.txt") ==
			    0)
				check_event_reminder(t, langs[i]);
			if (strcmp(event_templates[k], "event_confirm.txt") ==
			    0)
				check_event_confirm(t, langs[i]);
		}
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
	check_sub_templates(s);
	check_mod_templates(s);
	check_bounce_templates(s);
	check_submod_templates(s);
	check_event_templates(s);
	check_rtl(top ? top : ".", s);
	tmpl_set_free(s);
	buf_free(&dir);
	buf_free(&err);
	return done_testing();
}
