/*
 * compose.c - mlmd's own mail: a text/plain UTF-8 message built from
 * rendered templates (compose.h).
 *
 * Invariants: every header value that comes from outside (a subject
 * quoted back to its sender, an address) is checked for line breaks and
 * control characters here, whatever the caller did, so no field can be
 * smuggled into the header block; non-ASCII text is RFC 2047-encoded;
 * the body is 7bit only when that is safe, else quoted-printable (never
 * raw 8bit, which some relays would have to downgrade).
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "compose.h"
#include "decorate.h"
#include "util.h"

/* No CR, LF or other control character (TAB allowed). */
static int
one_line(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

/* An address as it may stand inside <>. */
static int
addr_ok(const char *a)
{
	const char *at;

	if (!a || !*a || strlen(a) > 320 || !one_line(a) ||
	    strpbrk(a, " \t<>\"(),;\\") || !(at = strrchr(a, '@')) ||
	    at == a || !at[1])
		return 0;
	return 1;
}

/* ASCII, no line longer than 900 octets: may go as 7bit. */
static int
body_7bit(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || c == 0 || c == '\r')
			return 0;
		col = c == '\n' ? 0 : col + 1;
		if (col > 900)
			return 0;
	}
	return 1;
}

/* data in base64, 76 characters a line (57 bytes), LF ends. */
static void
base64_lines(const char *data, size_t n, struct buf *out)
{
	char line[80];
	size_t i;

	for (i = 0; i < n; i += 57) {
		size_t k = n - i < 57 ? n - i : 57;

		sodium_bin2base64(line, sizeof(line),
		                  (const unsigned char *)data + i, k,
		                  sodium_base64_VARIANT_ORIGINAL);
		buf_adds(out, line);
		buf_addc(out, '\n');
	}
}

int
compose_text(const struct compose *c, struct buf *out)
{
	struct buf b = BUF_INIT, boundary = BUF_INIT;
	char date[64];
	struct tm tm;
	size_t blen, i;

	if (!addr_ok(c->from_addr) || !addr_ok(c->to) || !c->subject ||
	    !c->body || !c->message_id || !one_line(c->subject) ||
	    !utf8_valid(c->subject, strlen(c->subject)) ||
	    !utf8_valid(c->body, strlen(c->body)) || !addr_ok(c->message_id) ||
	    (c->in_reply_to && *c->in_reply_to && !addr_ok(c->in_reply_to)) ||
	    (c->from_name && (!one_line(c->from_name) ||
	                      !utf8_valid(c->from_name, strlen(c->from_name)))) ||
	    (c->lang && (!one_line(c->lang) || strpbrk(c->lang, " ;\""))) ||
	    (c->auto_submitted && !one_line(c->auto_submitted)) ||
	    (c->reply_to && !addr_ok(c->reply_to)) ||
	    (c->list_id && (!one_line(c->list_id) || strpbrk(c->list_id,
	                                                     " <>\"\\"))) ||
	    (c->html && !utf8_valid(c->html, strlen(c->html))) ||
	    (c->calendar &&
	     (!c->calendar_method || !one_line(c->calendar_method) ||
	      strpbrk(c->calendar_method, " ;\"") ||
	      !utf8_valid(c->calendar, strlen(c->calendar)))) ||
	    ((c->html || c->calendar) && c->attach) ||
	    (c->attach_type && (!one_line(c->attach_type) ||
	                        strchr(c->attach_type, '"'))) ||
	    (c->attach_name && (!one_line(c->attach_name) ||
	                        strpbrk(c->attach_name, "\"\\/"))))
		return -1;
	gmtime_r(&c->date, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_init(&b, (size_t)1 << 31);
	if (c->from_name && *c->from_name) {
		struct buf a = BUF_INIT;

		buf_printf(&a, "<%s>", c->from_addr);
		mime_header_phrase(&b, "\n", "From", c->from_name, buf_str(&a));
		buf_free(&a);
	} else {
		buf_printf(&b, "From: <%s>\n", c->from_addr);
	}
	buf_printf(&b, "To: <%s>\n", c->to);
	if (c->reply_to)
		buf_printf(&b, "Reply-To: <%s>\n", c->reply_to);
	mime_header_text(&b, "\n", "Subject", c->subject);
	buf_printf(&b, "Date: %s\nMessage-ID: <%s>\n", date, c->message_id);
	if (c->in_reply_to && *c->in_reply_to)
		buf_printf(&b, "In-Reply-To: <%s>\nReferences: <%s>\n",
		           c->in_reply_to, c->in_reply_to);
	if (c->auto_submitted)
		buf_printf(&b, "Auto-Submitted: %s\n", c->auto_submitted);
	if (c->list_id)
		buf_printf(&b, "List-Id: <%s>\n", c->list_id);
	buf_adds(&b, "MIME-Version: 1.0\n");
	if (c->attach) {
		/* A boundary that cannot occur in the attached bytes: its
		 * lines would have to start with "--=_mlmd_" + our id. */
		buf_printf(&boundary, "=_mlmd_%s", c->message_id);
		for (i = 0; i < boundary.len; i++)
			if (!isalnum((unsigned char)boundary.s[i]) &&
			    !strchr("=_.-", boundary.s[i]))
				boundary.s[i] = '.';
		buf_printf(&b,
		           "Content-Type: multipart/mixed; boundary=\"%s\"\n",
		           buf_str(&boundary));
		if (c->lang && *c->lang)
			buf_printf(&b, "Content-Language: %s\n", c->lang);
		buf_printf(&b, "\n--%s\n", buf_str(&boundary));
	}
	if (c->html || c->calendar) {
		/* the text, the HTML and the calendar are one content
		 * three ways; nothing in them can start with "--=_mlmd_alt_"
		 * once QP-encoded or base64'd */
		buf_printf(&boundary, "=_mlmd_alt_%08lx",
		           (unsigned long)(c->date ^ (time_t)strlen(c->body)));
		buf_printf(&b,
		           "Content-Type: multipart/alternative; "
		           "boundary=\"%s\"\n",
		           buf_str(&boundary));
		if (c->lang && *c->lang)
			buf_printf(&b, "Content-Language: %s\n", c->lang);
		buf_printf(&b, "\n--%s\n", buf_str(&boundary));
	}
	buf_adds(&b, "Content-Type: text/plain; charset=utf-8\n");
	if (c->lang && *c->lang)
		buf_printf(&b, "Content-Language: %s\n", c->lang);
	blen = strlen(c->body);
	/* 7bit unless it could hold a line like one of our boundaries
	 * (QP turns every '=' into "=3D") */
	if (body_7bit(c->body, blen) && !strstr(c->body, "=_mlmd_")) {
		buf_adds(&b, "Content-Transfer-Encoding: 7bit\n\n");
		buf_add(&b, c->body, blen);
	} else {
		buf_adds(&b,
		         "Content-Transfer-Encoding: quoted-printable\n\n");
		mime_qp_encode(c->body, blen, "\n", &b);
	}
	if (b.len && b.s[b.len - 1] != '\n')
		buf_addc(&b, '\n');
	if (c->html) {
		buf_printf(&b, "\n--%s\nContent-Type: text/html; "
		               "charset=utf-8\n"
		               "Content-Transfer-Encoding: quoted-printable\n\n",
		           buf_str(&boundary));
		mime_qp_encode(c->html, strlen(c->html), "\n", &b);
		if (b.len && b.s[b.len - 1] != '\n')
			buf_addc(&b, '\n');
	}
	if (c->calendar) {
		/* base64: the CRLF line ends of iCalendar survive any MTA */
		buf_printf(&b, "\n--%s\nContent-Type: text/calendar; "
		               "charset=utf-8; method=%s\n"
		               "Content-Transfer-Encoding: base64\n\n",
		           buf_str(&boundary), c->calendar_method);
		base64_lines(c->calendar, strlen(c->calendar), &b);
	}
	if (c->html || c->calendar)
		buf_printf(&b, "\n--%s--\n", buf_str(&boundary));
	if (c->attach && c->attach_type) {
		buf_printf(&b, "\n--%s\nContent-Type: %s\n"
		               "Content-Disposition: attachment",
		           buf_str(&boundary), c->attach_type);
		if (c->attach_name)
			buf_printf(&b, "; filename=\"%s\"", c->attach_name);
		buf_adds(&b, "\nContent-Transfer-Encoding: base64\n\n");
		base64_lines(c->attach, c->attach_len, &b);
		buf_printf(&b, "\n--%s--\n", buf_str(&boundary));
	} else if (c->attach) {
		int eightbit = 0;

		for (i = 0; i < c->attach_len && !eightbit; i++)
			eightbit = (unsigned char)c->attach[i] >= 0x80;
		buf_printf(&b,
		           "\n--%s\nContent-Type: message/rfc822\n"
		           "Content-Disposition: attachment\n"
		           "Content-Transfer-Encoding: %s\n\n",
		           buf_str(&boundary), eightbit ? "8bit" : "7bit");
		buf_add(&b, c->attach, c->attach_len);
		if (c->attach_len && c->attach[c->attach_len - 1] != '\n')
			buf_addc(&b, '\n');
		buf_printf(&b, "\n--%s--\n", buf_str(&boundary));
	}
	buf_free(&boundary);
	if (buf_add(out, b.s, b.len) < 0) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	return 0;
}
