/*
 * tmpl.h - the template engine and the template catalogue.
 *
 * Every text a person reads (mails, the footer, HTML pages) is a template
 * file under templates/<lang>/.  The syntax is a small subset of Mustache:
 *
 *   {{name}}            the value of name; HTML-escaped (& < > " ') when the
 *                       template's name ends in ".html", verbatim otherwise
 *   {{{name}}} {{&name}}  the value, never escaped
 *   {{#name}}..{{/name}}  section: rendered once if name is a non-empty
 *                       string, once per item if name is a list (the item's
 *                       fields in scope, then the outer ones), else skipped
 *   {{^name}}..{{/name}}  inverted: rendered if name is "" or an empty list
 *   {{! comment }}      dropped (may span lines)
 *
 * Names are [A-Za-z0-9_-]+, spaces inside the braces are allowed.  A line
 * holding only a section, inverted, close or comment tag (and blanks)
 * disappears entirely, as in Mustache, so that optional paragraphs leave no
 * empty lines.  Partials and delimiter changes are not supported (an error).
 *
 * A variable that the template uses but the caller did not set is an
 * ERROR, never a blank in a mail; optional values are set to "" (and
 * guarded by a section).  tmpl_check_vars() finds such mistakes when the
 * templates are loaded, against the variables each template is documented
 * to receive (templates/README).
 *
 * Mail templates: a template whose text starts (after optional comment
 * lines) with "Subject: ..." followed by a blank line has a subject; the
 * subject is kept apart from the body.  tmpl_render() renders the body,
 * tmpl_render_mail() both; in the subject, CR, LF and other control
 * characters in values become spaces (no header injection).
 *
 * Errors are written to the caller's err buffer as "NAME:LINE: what", one
 * per line, and the functions return NULL / -1; nothing here is fatal.
 */
#ifndef MLMD_TMPL_H
#define MLMD_TMPL_H

#include <stddef.h>

#include "buf.h"

/* Where `make install` puts the language directories. */
#ifdef PKGDATADIR
#define TMPL_DEFAULT_DIR PKGDATADIR "/templates"
#endif

#define TMPL_MAX_SIZE  ((size_t)1 << 20) /* bytes of one template file */
#define TMPL_MAX_DEPTH 32                /* nested sections */
#define TMPL_MAX_STEPS (1 << 22)         /* nodes + scopes one render visits */

struct tmpl;
struct tmpl_vars;
struct tmpl_set;

/* --- one template ---------------------------------------------------- */

/*
 * Parse text (NUL-terminated, at most TMPL_MAX_SIZE bytes) into a template
 * named name (used in messages; a name ending in ".html" turns on HTML
 * escaping).  Syntax errors: unterminated tag, bad name, unclosed section,
 * mismatched or stray close, nesting deeper than TMPL_MAX_DEPTH, partials.
 * Returns NULL (and a "name:line: ..." line in err) on error; the caller
 * frees the result with tmpl_free().  text is copied.
 */
struct tmpl *tmpl_parse(const char *name, const char *text, struct buf *err);
void tmpl_free(struct tmpl *t);

/* The name given to tmpl_parse ("da/footer.txt" for catalogue entries). */
const char *tmpl_name(const struct tmpl *t);
/* The language directory it came from ("da"), or "" if parsed directly. */
const char *tmpl_lang(const struct tmpl *t);
/* 1 if the template has a "Subject:" header line. */
int tmpl_has_subject(const struct tmpl *t);
/* 1 if values are HTML-escaped (the name ends in ".html"). */
int tmpl_is_html(const struct tmpl *t);

/*
 * The distinct variable names the template uses (subject and body), sorted
 * by strcmp; *n receives the count.  Borrowed: valid while t lives.
 */
const char *const *tmpl_names(const struct tmpl *t, size_t *n);

/*
 * Check at load time that every name used is documented: known is a
 * NULL-terminated list.  Inside a section {{#s}}, a name x is accepted if
 * "s.x" is known (a field of the items of list s) or, as at render time, if
 * it is known in an enclosing scope.  Returns 0, or -1 with one line per
 * unknown name in err.
 */
int tmpl_check_vars(const struct tmpl *t, const char *const *known,
                    struct buf *err);

/*
 * Render the body into out (appended; out's cap limits the size).  -1 with
 * a line in err if a variable is missing, a list is used as a value, the
 * output would pass out's cap, or the work would pass TMPL_MAX_STEPS
 * (nested sections over long lists); out is then back at its old length.
 */
int tmpl_render(const struct tmpl *t, const struct tmpl_vars *v,
                struct buf *out, struct buf *err);

/*
 * Render a mail template: the subject (one line, without "Subject: ",
 * control characters in values replaced by spaces; empty if the template
 * has no Subject line) and the body.  Same errors as tmpl_render(); both
 * buffers are back at their old lengths on error.
 */
int tmpl_render_mail(const struct tmpl *t, const struct tmpl_vars *v,
                     struct buf *subject, struct buf *body, struct buf *err);

/* --- variables ------------------------------------------------------- */

/*
 * A small store of name -> value, where a value is a string or a list of
 * items, each item itself a struct tmpl_vars.  Setting a name again
 * replaces its value.  Strings are copied.  Allocation failure aborts.
 */
struct tmpl_vars *tmpl_vars_new(void);
void tmpl_vars_free(struct tmpl_vars *v);
/* value NULL is the same as "" (false in sections). */
void tmpl_vars_set(struct tmpl_vars *v, const char *name, const char *value);
void tmpl_vars_setf(struct tmpl_vars *v, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* on: "1"; off: "" (a section over it is skipped). */
void tmpl_vars_set_bool(struct tmpl_vars *v, const char *name, int on);
/* Make name an empty list (replacing any value). */
void tmpl_vars_set_list(struct tmpl_vars *v, const char *name);
/*
 * Append a new, empty item to list name (made a list first if it is not
 * one) and return it for the caller to fill; owned by v.
 */
struct tmpl_vars *tmpl_vars_add_item(struct tmpl_vars *v, const char *name);
/* The string value of name, or NULL if unset or a list. */
const char *tmpl_vars_get(const struct tmpl_vars *v, const char *name);

/* --- the catalogue: templates/<lang>/<name>.txt|.html ---------------- */

/*
 * Load every file ending in ".txt" or ".html" from each language
 * directory of dir (subdirectories named by a language code: two or three
 * lower-case letters, optionally "-" and a region, e.g. "da", "pt-br";
 * other directories such as archive/ are skipped).  Each file must be valid
 * UTF-8 without NUL bytes, at most TMPL_MAX_SIZE bytes, parse, and use
 * only its documented variables (tmpl_documented_vars()).  en/
 * must exist: it is the last fallback.  Returns NULL with every problem in
 * err; free with tmpl_set_free().
 */
struct tmpl_set *tmpl_set_load(const char *dir, struct buf *err);
void tmpl_set_free(struct tmpl_set *s);

/*
 * The template name ("footer.txt") in the first language of langs that
 * has it, else in English.  langs is a NULL-terminated preference list,
 * most preferred first: the member's language, then the list's (NULL or
 * empty entries are skipped; langs itself may be NULL).  Codes compare
 * case-insensitively, and "da-DK" also tries "da".  NULL only if English
 * lacks it too.  Borrowed: valid while s lives.  tmpl_lang() on the result
 * gives the Content-Language.
 */
const struct tmpl *tmpl_get(const struct tmpl_set *s, const char *name,
                            const char *const *langs);

/* Iterate the catalogue (language, then file name order). */
size_t tmpl_set_count(const struct tmpl_set *s);
const struct tmpl *tmpl_set_at(const struct tmpl_set *s, size_t i);

/*
 * The completeness rule: every language has exactly the file names of en/,
 * and each template uses the same variable names as its English version.
 * Returns 0, or -1 with one line per difference in err.
 */
int tmpl_set_check(const struct tmpl_set *s, struct buf *err);

/*
 * tmpl_check_vars() for the template name in every language that has it;
 * -1 if name is not in en/ or any language uses an unknown name.
 */
int tmpl_set_check_vars(const struct tmpl_set *s, const char *name,
                        const char *const *known, struct buf *err);

/*
 * The variables a template receives, as documented in templates/README:
 * a NULL-terminated list for a known file name ("footer.txt"), else NULL.
 * tmpl_set_load() checks every template that has an entry with
 * tmpl_check_vars(), so an undocumented name is a load-time error.  A new
 * template gets its row in the table in tmpl.c.
 */
const char *const *tmpl_documented_vars(const char *name);

/* 1 if p[0..n) is well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF)
 * and holds no NUL byte. */
int tmpl_utf8_valid(const void *p, size_t n);

#endif
