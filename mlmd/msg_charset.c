/*
 * msg_charset.c - everything that turns message bytes into UTF-8: UTF-8
 * validation and repair, windows-1252, conversion of declared charsets
 * (through libetpan's charconv, i.e. iconv), and the RFC 2047 encoded-word
 * decoder behind msg_decode_header().
 *
 * Invariant: whatever comes in, what goes out is valid UTF-8 without NUL
 * bytes (invalid sequences and NUL become U+FFFD).  Nothing here fails on
 * bad input; the only error is a full output buffer (-1).
 *
 * Called by msg.c (headers, display names, filenames, text parts) and,
 * through msg_decode_header(), by any module that meets an RFC 2047 value.
 *
 * Standards: RFC 2047 (encoded words; RFC 2231 language suffix
 * "charset*lang" accepted), RFC 3629 (UTF-8: no overlongs, no surrogates,
 * nothing above U+10FFFF), WHATWG Encoding (ISO-8859-1 and US-ASCII read as
 * windows-1252, since that is what mailers that declare them really send).
 *
 * Why not libetpan's own mailmime_encoded_phrase_parse(): it decodes raw
 * 8-bit bytes with one fixed charset, replaces bad bytes with '?', passes
 * words in unknown charsets through raw and converts each word alone, which
 * breaks multi-byte characters split across adjacent words
 * (research/libs.md section 2).  charconv is still used for real charsets.
 */
#include "config.h"

#include <libetpan/libetpan.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "msg_charset.h"
#include "util.h"

static const char REPL[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t
cs_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		if (n < 2 || (p[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xf0) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0) /* overlong */
			return 0;
		if (c == 0xed && p[1] >= 0xa0) /* surrogates */
			return 0;
		return 3;
	}
	if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
	    (p[3] & 0xc0) != 0x80)
		return 0;
	if (c == 0xf0 && p[1] < 0x90) /* overlong */
		return 0;
	if (c == 0xf4 && p[1] >= 0x90) /* above U+10FFFF */
		return 0;
	return 4;
}

int
cs_utf8_valid(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, l;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = cs_utf8_seq(u + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

/*
 * A control byte c at p[i]: append what the flags say it becomes.  Returns
 * how many input bytes were consumed.
 */
static size_t
add_control(struct buf *b, const char *p, size_t i, size_t n, int flags,
            int *rc)
{
	unsigned char c = (unsigned char)p[i];

	if (c == 0) {
		*rc |= buf_add(b, REPL, 3);
		return 1;
	}
	if (flags & CS_HDR) {
		if (c == '\t')
			*rc |= buf_addc(b, '\t');
		else
			*rc |= buf_addc(b, ' ');
		return 1;
	}
	if ((flags & CS_TEXT) && c == '\r' && i + 1 < n && p[i + 1] == '\n') {
		*rc |= buf_addc(b, '\n');
		return 2;
	}
	*rc |= buf_addc(b, c);
	return 1;
}

/* Bytes that are copied as they are in runs. */
static int
plain(unsigned char c, int flags)
{
	if (c >= 0x20 && c != 0x7f)
		return 1;
	if (c == '\t')
		return 1;
	return c == '\n' && !(flags & CS_HDR);
}

int
cs_add_utf8(struct buf *b, const char *p, size_t n, int flags)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, run = 0, l;
	int rc = 0;

	while (i < n) {
		if (u[i] < 0x80 && plain(u[i], flags)) {
			i++;
			continue;
		}
		if (u[i] >= 0x80 && (l = cs_utf8_seq(u + i, n - i)) > 0) {
			i += l;
			continue;
		}
		rc |= buf_add(b, p + run, i - run);
		if (u[i] >= 0x80) {
			rc |= buf_add(b, REPL, 3);
			i++;
		} else {
			i += add_control(b, p, i, n, flags, &rc);
		}
		run = i;
	}
	rc |= buf_add(b, p + run, i - run);
	return rc ? -1 : 0;
}

/* windows-1252 0x80..0x9f; 0 marks the five undefined bytes. */
static const unsigned short cp1252_hi[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017d, 0,
    0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

int
cs_add_cp1252(struct buf *b, const char *p, size_t n, int flags)
{
	const unsigned char *u = (const unsigned char *)p;
	char out[512]; /* batched: most bytes of such text are 8-bit */
	size_t i = 0, o = 0;
	int rc = 0;

	while (i < n) {
		unsigned cp = u[i];

		if (o > sizeof(out) - 4) {
			rc |= buf_add(b, out, o);
			o = 0;
		}
		if (cp < 0x80 && plain(cp, flags)) {
			out[o++] = (char)cp;
			i++;
			continue;
		}
		if (cp < 0x80) {
			rc |= buf_add(b, out, o);
			o = 0;
			i += add_control(b, p, i, n, flags, &rc);
			continue;
		}
		if (cp < 0xa0)
			cp = cp1252_hi[cp - 0x80];
		if (cp == 0) {
			memcpy(out + o, REPL, 3);
			o += 3;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xc0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		}
		i++;
	}
	rc |= buf_add(b, out, o);
	return rc ? -1 : 0;
}

int
cs_add_8bit(struct buf *b, const char *p, size_t n, int flags)
{
	if (cs_utf8_valid(p, n))
		return cs_add_utf8(b, p, n, flags);
	return cs_add_cp1252(b, p, n, flags);
}

enum cs_kind { CS_8BIT, CS_UTF8, CS_CP1252, CS_ICONV };

/*
 * Normalise a declared charset name into name (lower case, quotes and
 * space trimmed, only the characters charset names use, so that nothing
 * odd such as "//TRANSLIT" reaches iconv_open) and say how to decode it.
 * Some names are widened to the superset that mailers really mean.
 */
static enum cs_kind
cs_lookup(const char *cs, char *name, size_t namesz)
{
	static const struct {
		const char *alias, *real;
	} wider[] = {
	    {"gb2312", "gb18030"},
	    {"gbk", "gb18030"},
	    {"x-gbk", "gb18030"},
	    {"euc-cn", "gb18030"},
	    {"ks_c_5601-1987", "cp949"},
	    {"euc-kr", "cp949"},
	    {"shift_jis", "cp932"},
	    {"x-sjis", "cp932"},
	    {"sjis", "cp932"},
	    {"iso-8859-8-i", "iso-8859-8"},
	    {"x-mac-roman", "macintosh"},
	};
	static const char *const utf8[] = {"utf-8", "utf8", "x-utf8",
	                                   "unicode-1-1-utf-8"};
	static const char *const cp1252[] = {
	    "iso-8859-1", "iso8859-1",    "iso_8859-1", "latin1",
	    "l1",         "windows-1252", "cp1252",     "x-cp1252",
	    "iso-ir-100", "cp819",        "ibm819",     "iso_8859-1:1987"};
	static const char *const ascii[] = {
	    "us-ascii",  "ascii",        "us",        "ansi_x3.4-1968",
	    "iso646-us", "unknown-8bit", "x-unknown", "unknown",
	    "default",   "8bit"};
	size_t i, j = 0, n;

	if (cs == NULL)
		return CS_8BIT;
	while (*cs == ' ' || *cs == '\t' || *cs == '"' || *cs == '\'')
		cs++;
	n = strlen(cs);
	while (n > 0 && (cs[n - 1] == ' ' || cs[n - 1] == '\t' ||
	                 cs[n - 1] == '"' || cs[n - 1] == '\''))
		n--;
	if (n == 0 || n >= namesz)
		return CS_8BIT;
	for (i = 0; i < n; i++) {
		char c = cs[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return CS_8BIT;
		name[j++] = c;
	}
	name[j] = '\0';
	for (i = 0; i < ARRAY_SIZE(utf8); i++)
		if (strcmp(name, utf8[i]) == 0)
			return CS_UTF8;
	for (i = 0; i < ARRAY_SIZE(cp1252); i++)
		if (strcmp(name, cp1252[i]) == 0)
			return CS_CP1252;
	for (i = 0; i < ARRAY_SIZE(ascii); i++)
		if (strcmp(name, ascii[i]) == 0)
			return CS_8BIT;
	for (i = 0; i < ARRAY_SIZE(wider); i++)
		if (strcmp(name, wider[i].alias) == 0) {
			strlcpy_(name, wider[i].real, namesz);
			break;
		}
	return CS_ICONV;
}

int
cs_add(struct buf *b, const char *charset, const char *p, size_t n, int flags)
{
	char name[48], *out = NULL;
	size_t outlen = 0;
	int rc;

	if (n == 0)
		return 0;
	switch (cs_lookup(charset, name, sizeof(name))) {
	case CS_UTF8:
		return cs_add_utf8(b, p, n, flags);
	case CS_CP1252:
		return cs_add_cp1252(b, p, n, flags);
	case CS_8BIT:
		return cs_add_8bit(b, p, n, flags);
	case CS_ICONV:
		break;
	}
	/* charconv marks unconvertible bytes with '?' and returns 0; an
	 * unknown charset gives an error and we guess instead. */
	if (charconv_buffer("utf-8", name, p, n, &out, &outlen) !=
	        MAIL_CHARCONV_NO_ERROR ||
	    out == NULL) {
		if (out != NULL)
			charconv_buffer_free(out);
		return cs_add_8bit(b, p, n, flags);
	}
	rc = cs_add_utf8(b, out, outlen, flags);
	charconv_buffer_free(out);
	return rc;
}

/* ---- RFC 2047 ---------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct eword {
	const char *cs; /* charset, without an RFC 2231 "*lang" */
	size_t cslen;
	int enc; /* 'q' or 'b' */
	const char *text;
	size_t textlen;
	size_t len; /* the whole word, "=?" to "?=" */
};

/*
 * Recognise an encoded word at p (which starts with "=?").  Returns 1 and
 * fills w, or 0 with *skip set to how far a failed attempt looked, so that
 * the caller never rescans those bytes (linear time on hostile values).
 */
static int
eword_parse(const char *p, size_t n, struct eword *w, size_t *skip)
{
	size_t i = 2, t;

	*skip = 2;
	while (i < n && i < 2 + 64 && p[i] != '?' && !is_wsp(p[i]))
		i++;
	if (i >= n || p[i] != '?' || i == 2)
		return 0;
	w->cs = p + 2;
	w->cslen = i - 2;
	if (i + 2 >= n || p[i + 2] != '?')
		return 0;
	w->enc = p[i + 1] | 0x20;
	if (w->enc != 'q' && w->enc != 'b')
		return 0;
	t = i + 3;
	/* White space inside a word breaks RFC 2047 but is common
	 * ("=?utf-8?q?Robin H. Johns=c3=b6n?="), so it is read as text; a
	 * following "=?" (impossible in Q or B text, except as B padding
	 * before "?=") or a very long run ends
	 * the attempt.  A failed attempt never stops past an "=?", so
	 * skipping to where it stopped misses no word. */
	for (i = t; i + 1 < n; i++) {
		if (p[i] == '?' && p[i + 1] == '=')
			break;
		if ((p[i] == '=' && p[i + 1] == '?' &&
		     (i + 2 >= n || p[i + 2] != '=')) ||
		    i - t > 512) {
			*skip = i;
			return 0;
		}
	}
	if (i + 1 >= n) {
		*skip = n;
		return 0;
	}
	w->text = p + t;
	w->textlen = i - t;
	w->len = i + 2;
	for (t = 0; t < w->cslen; t++)
		if (w->cs[t] == '*') {
			w->cslen = t;
			break;
		}
	return 1;
}

/* Append the bytes an encoded word stands for. */
static void
eword_bytes(const struct eword *w, struct buf *raw)
{
	size_t i;

	if (w->enc == 'q') {
		for (i = 0; i < w->textlen; i++) {
			char c = w->text[i];
			int h, l;

			if (c == '_') {
				c = ' ';
			} else if (c == '=' && i + 2 < w->textlen &&
			           (h = hexval(w->text[i + 1])) >= 0 &&
			           (l = hexval(w->text[i + 2])) >= 0) {
				c = (char)(h << 4 | l);
				i += 2;
			}
			buf_addc(raw, c);
		}
	} else {
		unsigned acc = 0;
		int bits = 0;

		for (i = 0; i < w->textlen; i++) {
			int v = b64val((unsigned char)w->text[i]);

			if (v < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				buf_addc(raw, (char)((acc >> bits) & 0xff));
			}
		}
	}
}

/*
 * Decode the bytes of adjacent encoded words in one charset together, so
 * that a character split across two words survives.
 */
static int
flush_words(struct buf *out, struct buf *pend, const char *cs)
{
	int rc = 0;

	if (pend->len > 0)
		rc = cs_add(out, cs, pend->s, pend->len, CS_HDR);
	buf_reset(pend);
	return rc;
}

int
msg_decode_header(const char *raw, size_t len, struct buf *out)
{
	struct buf unf = BUF_INIT, pend = BUF_INIT;
	char pcs[65] = "";
	const char *p;
	size_t i, n, lit = 0, start = out->len;
	int prev_word = 0, rc = 0;

	/* Unfold: a header's line breaks are all folds, so drop CR and LF and
	 * keep the white space that follows them (RFC 5322 section 2.2.3). */
	for (i = 0; i < len; i++) {
		size_t j = i;

		while (j < len && raw[j] != '\r' && raw[j] != '\n')
			j++;
		buf_add(&unf, raw + i, j - i);
		i = j;
	}
	p = buf_str(&unf);
	n = unf.len;
	while (n > 0 && is_wsp(p[n - 1]))
		n--;
	while (n > 0 && is_wsp(*p)) {
		p++;
		n--;
	}

	i = 0;
	while (i < n) {
		struct eword w;
		size_t skip;
		const char *q = memchr(p + i, '=', n - i);

		if (q == NULL)
			break;
		i = (size_t)(q - p);
		if (i + 1 >= n || p[i + 1] != '?') {
			i++;
			continue;
		}
		if (!eword_parse(p + i, n - i, &w, &skip)) {
			i += skip;
			continue;
		}
		/* White space between two encoded words is dropped (RFC 2047
		 * section 6.2); any other text in between is kept. */
		if (lit < i) {
			size_t k = lit;

			while (k < i && is_wsp(p[k]))
				k++;
			if (!prev_word || k < i) {
				rc |= flush_words(out, &pend, pcs);
				rc |=
				    cs_add_8bit(out, p + lit, i - lit, CS_HDR);
			}
		}
		if (w.cslen != strlen(pcs) ||
		    strncasecmp(pcs, w.cs, w.cslen) != 0) {
			rc |= flush_words(out, &pend, pcs);
			memcpy(pcs, w.cs, w.cslen);
			pcs[w.cslen] = '\0';
		}
		eword_bytes(&w, &pend);
		i += w.len;
		lit = i;
		prev_word = 1;
	}
	rc |= flush_words(out, &pend, pcs);
	if (lit < n)
		rc |= cs_add_8bit(out, p + lit, n - lit, CS_HDR);
	buf_free(&unf);
	buf_free(&pend);
	/* Decoded words may begin or end with white space (or a line break,
	 * which became a space); the value does not. */
	if (out->len > start) {
		size_t e = out->len, b = start;

		while (e > start &&
		       (out->s[e - 1] == ' ' || out->s[e - 1] == '\t'))
			e--;
		while (b < e && (out->s[b] == ' ' || out->s[b] == '\t'))
			b++;
		memmove(out->s + start, out->s + b, e - b);
		buf_truncate(out, start + (e - b));
	}
	if (out->s == NULL)
		buf_add(out, "", 0);
	return rc ? -1 : 0;
}
