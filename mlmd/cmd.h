/*
 * cmd.h - the command parser for mail to LIST-request@ (DESIGN.md
 * "Addresses"): reads the commands of a message's Subject and body.
 * Pure: no I/O, no state; the caller acts on the result (and answers
 * CMD_UNKNOWN lines with "not understood" and the help text).
 */
#ifndef MLMD_CMD_H
#define MLMD_CMD_H

#include <stddef.h>

#include "msg.h"

enum cmd_kind {
	CMD_SUBSCRIBE,   /* arg: "", "digest" or "nomail" */
	CMD_UNSUBSCRIBE, /* arg: "" */
	CMD_CONFIRM,     /* arg: the token, [a-z0-9-]{8,CMD_ARG_MAX} */
	CMD_DIGEST,      /* arg: "on", "off", "mime" or "plain" */
	CMD_NOMAIL,      /* arg: "on" or "off" */
	CMD_LANGUAGE,    /* arg: "da", "pt-br", ...: lower case */
	CMD_HELP,
	CMD_LISTS,
	CMD_WHICH,
	CMD_EXPORT,
	CMD_FORGET,
	CMD_ARCHIVE, /* the member's way into the list's archive */
	CMD_UNKNOWN  /* line: what was not understood */
};

#define CMD_LINE_MAX 120
#define CMD_ARG_MAX  64
/* Bytes of body text read; HTML is read up to CMD_HTML_MAX bytes and its
 * rendering cut at CMD_TEXT_MAX. */
#define CMD_TEXT_MAX ((size_t)64 << 10)
#define CMD_HTML_MAX ((size_t)256 << 10)

struct cmd {
	enum cmd_kind kind;
	char arg[CMD_ARG_MAX + 1];   /* "" when the command has none */
	char line[CMD_LINE_MAX + 1]; /* the line, trimmed: valid UTF-8, no
	                              * control characters, cut at a
	                              * character boundary */
};

struct cmd_opts {
	size_t max_cmds;    /* stop after this many (default 20 when 0) */
	size_t max_unknown; /* stop after this many unknown lines in a row
	                     * (default 3 when 0) */
};

/*
 * Parse the commands of m (Subject and body).  o may be NULL (defaults).
 * Fills out[0..max_cmds), *n, and *truncated = 1 if lines that could be
 * commands were left unread because of max_cmds.  Returns 0 (also with
 * *n == 0: an empty mail); never fails on hostile input, linear time.
 *
 * The Subject, with reply/forward markers ("Re:", "Sv:", "Fwd:", ...) and
 * "[tags]" stripped, is the first command if it is one; otherwise it is
 * ignored (subjects are often prose) and never counts as unknown.
 *
 * The body is the first text/plain part that is not an attachment (MIME
 * depth <= 2), else the first such text/html part rendered as text;
 * at most CMD_TEXT_MAX bytes of it.  Line by line:
 *  - blank lines and quoted lines (">" after optional spaces) are skipped;
 *  - a signature separator ("--", "-- ", a line of "__" or more
 *    underscores) or a line "end", "stop" or "thanks" (any case, an
 *    optional trailing '.' or '!') ends the commands;
 *  - once a command has been read, a reply header ends them too: a line
 *    starting "On " and ending "wrote:", starting "Den " and ending
 *    in ':' with " skrev" in it, a line "-----Original Message-----", or one
 * starting "From: " (simple on purpose: quoted text below it is skipped
 * anyway);
 *  - anything else is a command or a CMD_UNKNOWN entry; max_unknown
 *    unknown lines in a row (blank and quoted lines do not break a row)
 *    end the commands: that is prose.
 */
int cmd_parse(const struct msg *m, const struct cmd_opts *o, struct cmd *out,
              size_t *n, int *truncated);

/*
 * Parse one line (len bytes, any bytes; no line end inside expected).
 * Returns 1 and *c if it is a known command, 0 if not (c->kind is then
 * CMD_UNKNOWN).  c->line is set either way.  Case-insensitive (ASCII);
 * surrounding white space, one leading '/' and one trailing '.' are
 * ignored.  A line longer than CMD_LINE_MAX bytes (trimmed) is unknown.
 * A line that is only a confirmation address, LIST+confirm-TOKEN@DOMAIN
 * (any one-character separator, optionally in <> or after "mailto:"), is
 * CMD_CONFIRM with that token.
 */
int cmd_parse_line(const char *line, size_t len, struct cmd *c);

/* "subscribe", "unsubscribe", ...; "unknown" for CMD_UNKNOWN or a value
 * out of range.  Never NULL. */
const char *cmd_name(enum cmd_kind k);

#endif
