/*
 * html_text.h - plain-text rendering of an HTML mail part, for the
 * command parser (HTML-only mail to LIST-request@) and the archive's
 * search index.  libgumbo stays inside html_text.c.
 */
#ifndef MLMD_HTML_TEXT_H
#define MLMD_HTML_TEXT_H

#include <stddef.h>

#include "buf.h"

/*
 * Most non-void start tags, and most end tags, that reach the HTML parser
 * per call.  Past them a tag becomes a line break (block elements) or a
 * space, so the text is kept but not its structure.  This bounds the
 * parser's work (which grows with the square of the nesting depth) on
 * hostile input.
 */
#define HTML_TEXT_MAX_TAGS 4096

/*
 * Render len bytes of HTML (any bytes: NULs and invalid UTF-8 are
 * tolerated) as text and append it to out:
 *  - block elements (p, div, li, tr, h1-h6, blockquote, pre, table, ...)
 *    and br give line breaks; runs of blank lines collapse to one, and
 *    there are no blank lines at the start;
 *  - white space in ordinary text collapses to one space (U+00A0 counts
 *    as white space and becomes a plain space); <pre> is kept as is;
 *  - every line inside <blockquote> starts with "> " (once per level);
 *  - list items start with "- " (indented two spaces per nested list);
 *  - a link is "TEXT <URL>" when its href is http:, https: or mailto: and
 *    differs from TEXT; other links are just TEXT;
 *  - script, style, head, title, template, noscript, iframe, select, svg,
 *    math contents and comments are dropped; entities are decoded;
 *  - the output is valid UTF-8 with LF line ends and no control
 *    characters except LF and TAB.
 *
 * If out's cap is reached the text stops cleanly there (at a character
 * boundary) and 0 is still returned: a truncated rendering is a rendering.
 * Returns -1 (out unchanged) only if the parser fails or the input is too
 * large to copy under BUF_DEFAULT_MAX.  Bounded memory and time: linear in
 * len, whatever the nesting.
 */
int html_to_text(const char *html, size_t len, struct buf *out);

#endif
