/*
 * msghtml.h - the safe rendering of one mail's body as an HTML fragment,
 * for the web archive.  Nothing from the mail reaches the page except as
 * escaped text or as a checked http/https/mailto link: HTML parts are shown
 * as the text html_to_text() makes of them, never as HTML.
 */
#ifndef MLMD_MSGHTML_H
#define MLMD_MSGHTML_H

#include <stddef.h>

#include "buf.h"
#include "msg.h"

struct msghtml_opts {
	/*
	 * 1: addresses are shown as the first character of the local part,
	 * "\u2026" and the domain ("j\u2026@example.org"); a display name
	 * that holds an '@' is dropped (it usually is the address again).
	 * mailto: URLs in the body are then not linked but shown the same
	 * way.  0: shown in full, mailto: linked.
	 */
	int obfuscate;
	/*
	 * URL prefix for attachment downloads, e.g. "../att/HASH/" (trusted,
	 * from the caller; escaped as an attribute all the same).  An
	 * attachment is linked as attach_base followed by its index in
	 * m->parts (decimal, from 0).  NULL: listed without links.
	 */
	const char *attach_base;
	/*
	 * Or, when set (it wins over attach_base): called for each listed
	 * attachment, appends its link to href (trusted, escaped as an
	 * attribute all the same) and a safe file name to save it under to
	 * download (may stay empty); the link then carries
	 * download="NAME".  An empty href: listed without a link.
	 */
	void (*attach_link)(void *arg, const struct msg *m, size_t idx,
			    struct buf *href, struct buf *download);
	void *attach_arg;
	const struct msg *msg; /* the message, for attach_link */
};

/*
 * Append the BODY of m as an HTML fragment (the header block is the
 * caller's business):
 *
 *   <div class="body" dir="auto" lang="TAG">   TAG from Content-Language
 *                                              when well-formed, else ""
 *     <div class="text">...</div>              one per inline text part
 *     <ul class="attachments"><li>...</li></ul>
 *   </div>
 *
 * Text parts keep their lines (LF; wrapping is left to CSS white-space:
 * pre-wrap).  Runs of quoted lines (leading '>' markers, which are
 * removed) are wrapped in <blockquote class="qN">, N the level capped at
 * 3.  A "-- " line at quote level 0 starts <div class="sig">, which holds
 * the rest of the part.  http:, https: and mailto: URLs (scheme matched
 * case-insensitively, written lower case; trailing punctuation and
 * unbalanced closing brackets left out) become
 * <a href="..." rel="nofollow noopener noreferrer ugc">.  A text/html part
 * is rendered through html_to_text(), and only when the message has no
 * inline text/plain part (otherwise it is taken for the alternative of
 * that part and left out).  Every other part (attachments, non-text) is
 * listed with its file name (bidi controls removed; "attachment-N" if it
 * has none, N its index), MIME type and size.
 *
 * The only tags written are div, blockquote, a, ul, li, span; the only
 * attributes class, href, rel, dir, lang.
 *
 * Returns 0, or -1 (out as it was) if out's cap is reached.  Linear time
 * in the size of the message.
 */
int msghtml_body(const struct msg *m, const struct msghtml_opts *o,
                 struct buf *out);

/*
 * Append s (n bytes, UTF-8) escaped for HTML text or a double- or
 * single-quoted attribute: & < > " ' become entities, invalid UTF-8
 * becomes U+FFFD (one per bad byte), control characters (C0 except LF and
 * TAB, DEL, C1) are dropped.  If out's cap is reached the output stops
 * there, at a character boundary.
 */
void msghtml_escape(const char *s, size_t n, struct buf *out);

/*
 * Append an address for display, escaped: "Name <addr>", "addr" when the
 * name is empty, obfuscated per o (see struct msghtml_opts; o NULL means
 * obfuscated).  Bidi controls are removed from the name, so that it
 * cannot reorder the text after it.
 */
void msghtml_address(const char *name, const char *addr,
                     const struct msghtml_opts *o, struct buf *out);

#endif
