/*
 * cmd.c - the command parser for mail to LIST-request@ (see cmd.h and
 * DESIGN.md "Addresses").  Called by the daemon for request mail; the
 * caller acts on the commands (and needs a token before changing any
 * subscription: nothing here is trusted).
 *
 * Invariants:
 *  - Every byte sequence is accepted: the text read is capped
 *    (CMD_TEXT_MAX; HTML at CMD_HTML_MAX before rendering), each line is
 *    looked at through at most CMD_LINE_MAX bytes, the subject's prefix
 *    stripping consumes at least one byte per round.  So the work is
 *    linear in the message and bounded by the caps.
 *  - cmd.line is always valid UTF-8 without control characters (invalid
 *    bytes become '?', controls and the C1 range a space), cut at a
 *    character boundary: the caller may quote it in a reply.
 *  - cmd.arg is always from a closed set or matched a strict pattern.
 *
 * Comparison is ASCII case-insensitive; the native synonyms are matched
 * as written here (lower case), which covers how people type them.
 * No errors: cmd_parse() returns 0 for any message.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cmd.h"
#include "html_text.h"
#include "msg.h"
#include "util.h"

#define CMD_DEFAULT_MAX     20
#define CMD_DEFAULT_UNKNOWN 3

/* What a command word takes after it. */
enum args { A_NONE, A_SUB, A_TOKEN, A_DIGEST, A_ONOFF, A_LANG };

static const struct {
	const char *word;
	enum cmd_kind kind;
	enum args args;
} words[] = {
    {"subscribe", CMD_SUBSCRIBE, A_SUB},
    {"join", CMD_SUBSCRIBE, A_SUB},
    {"unsubscribe", CMD_UNSUBSCRIBE, A_NONE},
    {"leave", CMD_UNSUBSCRIBE, A_NONE},
    {"signoff", CMD_UNSUBSCRIBE, A_NONE},
    {"confirm", CMD_CONFIRM, A_TOKEN},
    {"digest", CMD_DIGEST, A_DIGEST},
    {"nomail", CMD_NOMAIL, A_ONOFF},
    {"language", CMD_LANGUAGE, A_LANG},
    {"help", CMD_HELP, A_NONE},
    {"lists", CMD_LISTS, A_NONE},
    {"which", CMD_WHICH, A_NONE},
    {"export", CMD_EXPORT, A_NONE},
    {"forget", CMD_FORGET, A_NONE},
    {"archive", CMD_ARCHIVE, A_NONE},
    /* da, sv, nb */
    {"arkiv", CMD_ARCHIVE, A_NONE},
    /* da */
    {"tilmeld", CMD_SUBSCRIBE, A_SUB},
    {"afmeld", CMD_UNSUBSCRIBE, A_NONE},
    {"hj\xc3\xa6lp", CMD_HELP, A_NONE},
    /* sv */
    {"prenumerera", CMD_SUBSCRIBE, A_SUB},
    {"avsluta", CMD_UNSUBSCRIBE, A_NONE},
    {"hj\xc3\xa4lp", CMD_HELP, A_NONE},
    /* nb */
    {"abonner", CMD_SUBSCRIBE, A_SUB},
    {"avslutt", CMD_UNSUBSCRIBE, A_NONE},
    {"hjelp", CMD_HELP, A_NONE},
    /* fi */
    {"tilaa", CMD_SUBSCRIBE, A_SUB},
    {"peruuta", CMD_UNSUBSCRIBE, A_NONE},
    {"ohje", CMD_HELP, A_NONE},
    {"arkisto", CMD_ARCHIVE, A_NONE},
    /* is */
    {"skr\xc3\xa1", CMD_SUBSCRIBE, A_SUB},
    {"afskr\xc3\xa1", CMD_UNSUBSCRIBE, A_NONE},
    {"hj\xc3\xa1lp", CMD_HELP, A_NONE},
    {"safn", CMD_ARCHIVE, A_NONE},
    /* ar: اشتراك إلغاء مساعدة أرشيف */
    {"\xd8\xa7\xd8\xb4\xd8\xaa\xd8\xb1\xd8\xa7\xd9\x83", CMD_SUBSCRIBE, A_SUB},
    {"\xd8\xa5\xd9\x84\xd8\xba\xd8\xa7\xd8\xa1", CMD_UNSUBSCRIBE, A_NONE},
    {"\xd9\x85\xd8\xb3\xd8\xa7\xd8\xb9\xd8\xaf\xd8\xa9", CMD_HELP, A_NONE},
    {"\xd8\xa3\xd8\xb1\xd8\xb4\xd9\x8a\xd9\x81", CMD_ARCHIVE, A_NONE},
};

static const char *const names[] = {
    [CMD_SUBSCRIBE] = "subscribe", [CMD_UNSUBSCRIBE] = "unsubscribe",
    [CMD_CONFIRM] = "confirm",     [CMD_DIGEST] = "digest",
    [CMD_NOMAIL] = "nomail",       [CMD_LANGUAGE] = "language",
    [CMD_HELP] = "help",           [CMD_LISTS] = "lists",
    [CMD_WHICH] = "which",         [CMD_EXPORT] = "export",
    [CMD_FORGET] = "forget",       [CMD_ARCHIVE] = "archive",
    [CMD_UNKNOWN] = "unknown",
};

/* Reply and forward markers stripped from the Subject (before a ':'). */
static const char *const markers[] = {
    "re",
    "aw",
    "sv",
    "vs",
    "vast",
    "fwd",
    "fw",
    "antw",
    "svar",
    "odp",
    "\xd8\xb1\xd8\xaf", /* رد */
};

const char *
cmd_name(enum cmd_kind k)
{
	if ((unsigned)k >= ARRAY_SIZE(names) || names[k] == NULL)
		return "unknown";
	return names[k];
}

/* White space and controls at the ends of a line. */
static int
is_blank(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}


/* Copy at most CMD_LINE_MAX bytes of s into dst, made safe (see top). */
static void
clean_line(char *dst, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, l;

	while (i < n) {
		l = utf8_seq_len(u + i, n - i);
		if (l == 0) {
			if (o + 1 > CMD_LINE_MAX)
				break;
			dst[o++] = '?';
			i++;
		} else if (u[i] < 0x20 || u[i] == 0x7f ||
		           (l == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			if (o + 1 > CMD_LINE_MAX)
				break;
			dst[o++] = ' ';
			i += l;
		} else {
			if (o + l > CMD_LINE_MAX)
				break;
			memcpy(dst + o, s + i, l);
			o += l;
			i += l;
		}
	}
	dst[o] = '\0';
}

static int
token_ok(const char *t)
{
	size_t n = strlen(t), i;

	if (n < 8 || n > CMD_ARG_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)t[i]) ||
		      isdigit((unsigned char)t[i]) || t[i] == '-'))
			return 0;
	return 1;
}

/*
 * A word that is a confirmation address (lower case already):
 * [mailto:][<]LIST<sep>confirm-TOKEN@DOMAIN[>].  Copies the token.
 */
static int
confirm_addr(const char *w, char *token)
{
	char buf[CMD_LINE_MAX + 1];
	char *s = buf, *at, *p, *d;
	size_t n;

	strlcpy_(buf, w, sizeof(buf));
	if (strncmp(s, "mailto:", 7) == 0)
		s += 7;
	if (*s == '<') {
		s++;
		n = strlen(s);
		if (n == 0 || s[n - 1] != '>')
			return 0;
		s[n - 1] = '\0';
	}
	at = strchr(s, '@');
	if (at == NULL || strchr(at + 1, '@') || at[1] == '\0')
		return 0;
	for (d = at + 1; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '.' && *d != '-')
			return 0;
	*at = '\0';
	/* the list name, one separator, "confirm-", the token */
	for (p = s + 2; (p = strstr(p, "confirm-")) != NULL; p++) {
		if (isalnum((unsigned char)p[-1]))
			continue;
		if (!token_ok(p + 8))
			return 0;
		strlcpy_(token, p + 8, CMD_ARG_MAX + 1);
		return 1;
	}
	return 0;
}

static int
lang_ok(char *a)
{
	size_t i = 0, j;

	while (islower((unsigned char)a[i]))
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (a[i] == '\0')
		return 1;
	if (a[i] != '-' && a[i] != '_')
		return 0;
	a[i] = '-';
	for (j = i + 1; isalnum((unsigned char)a[j]); j++)
		;
	return a[j] == '\0' && j - i - 1 >= 2 && j - i - 1 <= 8;
}

static int
one_of(const char *a, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a, set[i]) == 0)
			return 1;
	return 0;
}

int
cmd_parse_line(const char *line, size_t len, struct cmd *c)
{
	static const char *const subargs[] = {"digest", "nomail"};
	static const char *const digargs[] = {"on", "off", "mime", "plain"};
	static const char *const onoff[] = {"on", "off"};
	char w[CMD_LINE_MAX + 1], *word[3], *s;
	size_t nw = 0, i, n;
	const char *a;

	memset(c, 0, sizeof(*c));
	c->kind = CMD_UNKNOWN;
	while (len > 0 && is_blank((unsigned char)*line))
		line++, len--;
	while (len > 0 && is_blank((unsigned char)line[len - 1]))
		len--;
	clean_line(c->line, line, len);
	/* controls became spaces: trim again */
	n = strlen(c->line);
	while (n > 0 && c->line[n - 1] == ' ')
		c->line[--n] = '\0';
	for (i = 0; c->line[i] == ' '; i++)
		;
	memmove(c->line, c->line + i, n - i + 1);
	if (len > CMD_LINE_MAX || c->line[0] == '\0')
		return 0;

	/* A lower-case working copy, split into at most three words. */
	strlcpy_(w, c->line, sizeof(w));
	for (s = w; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	s = w;
	if (*s == '/')
		s++;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		if (nw == ARRAY_SIZE(word))
			return 0;
		word[nw++] = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
	}
	if (nw == 0)
		return 0;
	if (nw == 1 && strchr(word[0], '@')) {
		if (!confirm_addr(word[0], c->arg))
			return 0;
		c->kind = CMD_CONFIRM;
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strcmp(word[0], words[i].word) == 0)
			break;
	if (i == ARRAY_SIZE(words))
		return 0;
	a = nw > 1 ? word[1] : NULL;
	if (nw > 2)
		return 0;
	switch (words[i].args) {
	case A_NONE:
		if (a)
			return 0;
		break;
	case A_SUB:
		if (a && !one_of(a, subargs, ARRAY_SIZE(subargs)))
			return 0;
		break;
	case A_TOKEN:
		if (a == NULL)
			return 0;
		if (strchr(a, '@')) {
			if (!confirm_addr(a, c->arg))
				return 0;
			a = NULL;
		} else if (!token_ok(a)) {
			return 0;
		}
		break;
	case A_DIGEST:
		if (a == NULL || !one_of(a, digargs, ARRAY_SIZE(digargs)))
			return 0;
		break;
	case A_ONOFF:
		if (a == NULL || !one_of(a, onoff, ARRAY_SIZE(onoff)))
			return 0;
		break;
	case A_LANG:
		if (a == NULL || !lang_ok(word[1]))
			return 0;
		break;
	}
	if (a)
		strlcpy_(c->arg, a, sizeof(c->arg));
	c->kind = words[i].kind;
	return 1;
}

/* The Subject without "Re:", "Sv:", "[tag]" ... in front. */
static const char *
strip_subject(const char *s)
{
	size_t i, ml;
	const char *q;
	int more = 1;

	while (more) {
		more = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {
			for (q = s + 1; *q && *q != ']' && q - s < 80; q++)
				;
			if (*q == ']') {
				s = q + 1;
				more = 1;
				continue;
			}
		}
		for (i = 0; i < ARRAY_SIZE(markers); i++) {
			ml = strlen(markers[i]);
			if (strncasecmp(s, markers[i], ml) != 0)
				continue;
			q = s + ml;
			if (*q == '[') /* "Re[2]:" */
				for (q++; isdigit((unsigned char)*q); q++)
					;
			if (q > s + ml && *q++ != ']')
				continue;
			while (*q == ' ')
				q++;
			if (*q == ':') {
				s = q + 1;
				more = 1;
				break;
			}
		}
	}
	return s;
}

static int
line_is(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	if (n > wl && (s[n - 1] == '.' || s[n - 1] == '!'))
		n--;
	return n == wl && strncasecmp(s, word, n) == 0;
}

/* The end of the commands: a signature, "end", "stop", or "thanks" in
 * one of our languages ("thank you" lines close many mails). */
static int
is_stop(const char *s, size_t n)
{
	static const char *const thanks[] = {
	    "thanks", "thank you", "tak", "mange tak", "tack", "tack så mycket",
	    "takk", "tusen takk", "kiitos", "takk fyrir", "شكرا", "شكراً",
	    "شكرًا", "شكرا لك"};
	size_t i;

	for (i = 0; i < sizeof(thanks) / sizeof(thanks[0]); i++)
		if (line_is(s, n, thanks[i]))
			return 1;

	if (n == 2 && s[0] == '-' && s[1] == '-')
		return 1;
	for (i = 0; i < n && s[i] == '_'; i++)
		;
	if (n >= 2 && i == n)
		return 1;
	return line_is(s, n, "end") || line_is(s, n, "stop");
}

static int
ends_ci(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && strncasecmp(s + n - sl, suffix, sl) == 0;
}

/* The start of a quoted reply (a simple heuristic: see cmd.h). */
static int
is_reply_header(const char *s, size_t n)
{
	if (n >= 3 && strncasecmp(s, "On ", 3) == 0 && ends_ci(s, n, "wrote:"))
		return 1;
	/* "Den 1. jan. 2024 kl. 10.00 skrev A <a@b>:" */
	if (n >= 4 && strncasecmp(s, "Den ", 4) == 0 && s[n - 1] == ':' &&
	    memmem(s, n, " skrev", 6) != NULL)
		return 1;
	if (n >= 21 && strncasecmp(s, "-----Original Message", 21) == 0)
		return 1;
	return n >= 6 && strncasecmp(s, "From: ", 6) == 0;
}

/* The part whose text holds the commands, or NULL. */
static const struct msg_part *
body_part(const struct msg *m, const char *type)
{
	size_t i;

	for (i = 0; i < m->n_parts; i++) {
		const struct msg_part *p = &m->parts[i];

		if (p->text && !p->is_attachment && p->depth <= 2 &&
		    strcmp(p->type, type) == 0)
			return p;
	}
	return NULL;
}

int
cmd_parse(const struct msg *m, const struct cmd_opts *o, struct cmd *out,
          size_t *n, int *truncated)
{
	size_t max = o && o->max_cmds ? o->max_cmds : CMD_DEFAULT_MAX;
	size_t max_unknown =
	    o && o->max_unknown ? o->max_unknown : CMD_DEFAULT_UNKNOWN;
	const struct msg_part *p;
	struct buf html = BUF_INIT;
	const char *text = NULL, *s, *e, *end, *nl;
	size_t len = 0, unknown = 0, known = 0;
	struct cmd c;

	*n = 0;
	*truncated = 0;
	if (m->subject && *m->subject) {
		s = strip_subject(m->subject);
		if (cmd_parse_line(s, strlen(s), &c) && *n < max) {
			out[(*n)++] = c;
			known++;
		}
	}

	if ((p = body_part(m, "text/plain")) != NULL) {
		text = p->text;
		len = p->text_len < CMD_TEXT_MAX ? p->text_len : CMD_TEXT_MAX;
	} else if ((p = body_part(m, "text/html")) != NULL) {
		buf_init(&html, CMD_TEXT_MAX);
		if (html_to_text(p->text,
		                 p->text_len < CMD_HTML_MAX ? p->text_len
		                                            : CMD_HTML_MAX,
		                 &html) == 0) {
			text = buf_str(&html);
			len = html.len;
		}
	}

	for (s = text, end = text + len; s && s < end; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		for (e = nl; e > s && is_blank((unsigned char)e[-1]); e--)
			;
		while (s < e && is_blank((unsigned char)*s))
			s++;
		if (s == e || *s == '>')
			continue;
		if (is_stop(s, (size_t)(e - s)))
			break;
		if (known > 0 && is_reply_header(s, (size_t)(e - s)))
			break;
		if (*n >= max) {
			*truncated = 1;
			break;
		}
		if (cmd_parse_line(s, (size_t)(e - s), &out[(*n)++])) {
			known++;
			unknown = 0;
		} else if (++unknown >= max_unknown) {
			break;
		}
	}
	buf_free(&html);
	return 0;
}
