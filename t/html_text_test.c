/*
 * html_text_test.c - tests for the HTML to text renderer (html_text.c):
 * a table of small documents and the text a reader expects from each
 * (blocks, lists, links, pre, quotes, dropped elements, entities), then
 * the hostile cases: 100,000 nested elements of several kinds, the
 * formatting-element blow-up that makes a bare HTML5 parser use
 * gigabytes, the output cap, invalid UTF-8 and control characters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "html_text.h"
#include "tap.h"
#include "util.h"

#define EURO "\xe2\x82\xac"

static const struct {
	const char *html, *text;
} cases[] = {
    {"", ""},
    {"plain", "plain\n"},
    {"<p>one</p><p>two</p>", "one\n\ntwo\n"},
    {"a<br>b", "a\nb\n"},
    {"a<br><br>b", "a\n\nb\n"},
    {"<div>a</div><div>b</div>", "a\nb\n"},
    {"<p>a</p>\n\n\n<br><br><br><br><p>b</p>", "a\n\nb\n"},
    {"<br><br><p>first</p>", "first\n"},
    {"  lots   of\n\t white\r\n  space  ", "lots of white space\n"},
    {"<b>bold</b> <i>it</i><font color=red>al</font>ic", "bold italic\n"},
    {"<h1>Title</h1>text", "Title\n\ntext\n"},
    {"a<hr>b", "a\n\nb\n"},
    {"<ul><li>one<li>two</ul>after", "- one\n- two\n\nafter\n"},
    {"<ol><li>a<ul><li>b</li></ul></li><li>c</ol>", "- a\n  - b\n- c\n"},
    {"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
     "a b\nc\n"},
    {"<blockquote>unsubscribe</blockquote>", "> unsubscribe\n"},
    {"<p>subscribe</p><blockquote>unsubscribe</blockquote>",
     "subscribe\n\n> unsubscribe\n"},
    {"<blockquote>quoted<p>more</p></blockquote>after",
     "> quoted\n\n> more\n\nafter\n"},
    {"<blockquote><blockquote>deep</blockquote>one</blockquote>",
     "> > deep\n\n> one\n"},
    {"<blockquote><pre>a\nb</pre></blockquote>", "> a\n> b\n"},
    {"<pre>a\n  b\tc\n</pre>d", "a\n  b\tc\n\nd\n"},
    {"<pre>\nkeep  two</pre>", "keep  two\n"},
    {"<a href=\"https://example.org/x\">site</a>",
     "site <https://example.org/x>\n"},
    {"<a href=\"https://example.org/\">https://example.org/</a>",
     "https://example.org/\n"},
    {"<a href=\"HTTP://example.org/a b\">x</a>",
     "x <HTTP://example.org/a%20b>\n"},
    {"<a href=\"mailto:a@example.org\">a@example.org</a>", "a@example.org\n"},
    {"<a href=\"mailto:a@example.org\">write</a>",
     "write <mailto:a@example.org>\n"},
    {"<a href=\"javascript:alert(1)\">click</a>", "click\n"},
    {"<a href=\"ftp://x/\">f</a> <a>none</a>", "f none\n"},
    {"<a href='https://e.example/?a=1&amp;b=\"2\"'>q</a>",
     "q <https://e.example/?a=1&b=%222%22>\n"},
    {"<script>var x = 1 < 2;</script><style>p{}</style>text"
     "<noscript>ns</noscript><template>t</template>",
     "text\n"},
    {"<head><title>T</title><style>a<b{}</style></head><body>b</body>", "b\n"},
    {"<svg><text>drawn</text><svg></svg></svg>shown", "shown\n"},
    {"<svg/>shown", "shown\n"},
    {"x<!-- a <p> comment -->y<!-->z<!DOCTYPE html><?pi?>", "xyz\n"},
    {"&euro;&nbsp;5 &amp; &lt;x&gt; &#x263a;", EURO " 5 & <x> \xe2\x98\xba\n"},
    {"a < b, c <= d, e<3 f<", "a < b, c <= d, e<3 f<\n"},
    {"a <b and c<d", "a\n"}, /* EOF in a tag drops it */
    {"<textarea><p>raw</textarea>", "<p>raw\n"},
    {"<p title=\"x>y\" class=a>attr</p>", "attr\n"},
    {"<P>UPPER</P>", "UPPER\n"},
    {"<img alt=x src=y>a<img>b", "a b\n"},
    {"<select><option>no</select>yes", "yes\n"},
};

static int
no_controls(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') ||
		    *s == 0x7f)
			return 0;
	return 1;
}

static int
render(const char *html, size_t len, size_t cap, struct buf *b)
{
	buf_init(b, cap);
	return html_to_text(html, len, b);
}

static double
secs(clock_t t0)
{
	return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* n copies of a, then mid, then n copies of z, rendered; returns text */
static void
nested(const char *what, const char *a, const char *mid, const char *z,
       size_t n, const char *want_in)
{
	struct buf in = BUF_INIT, out;
	clock_t t0;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		buf_adds(&in, a);
	buf_adds(&in, mid);
	for (i = 0; z && i < n; i++)
		buf_adds(&in, z);
	t0 = clock();
	rc = render(in.s, in.len, 1 << 20, &out);
	ok(rc == 0 && strstr(buf_str(&out), want_in) != NULL &&
	       utf8_valid(buf_str(&out), out.len) && no_controls(buf_str(&out)),
	   "%s: %zu bytes render (%zu bytes of text)", what, in.len, out.len);
	ok(secs(t0) < 3.0, "%s: bounded time (%.2fs)", what, secs(t0));
	buf_free(&in);
	buf_free(&out);
}

int
main(void)
{
	struct buf b, in = BUF_INIT;
	size_t i;
	clock_t t0;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = render(cases[i].html, strlen(cases[i].html), 0, &b);

		ok(rc == 0, "case %zu renders", i);
		is_str(buf_str(&b), cases[i].text, "case %zu: %s", i,
		       cases[i].html);
		buf_free(&b);
	}

	/* appends to what is there; no leading break */
	buf_init(&b, 0);
	buf_adds(&b, "X");
	ok(html_to_text("<p>a</p>", 8, &b) == 0, "append");
	is_str(buf_str(&b), "Xa\n", "appends after existing content");
	buf_free(&b);

	/* the cap: stops cleanly at a character boundary */
	ok(render("<p>hello world, this is long</p>", 32, 10, &b) == 0,
	   "cap reached: still 0");
	is_str(buf_str(&b), "hello worl", "cap: the text up to the cap");
	buf_free(&b);
	ok(render("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 5, &b) == 0 &&
	       b.len == 4 && utf8_valid(b.s, b.len),
	   "cap inside a character: cut before it");
	buf_free(&b);
	ok(render("<blockquote>abc</blockquote>", 28, 1, &b) == 0 && b.len == 0,
	   "cap smaller than a prefix: nothing");
	buf_free(&b);

	/* invalid UTF-8, NULs, controls */
	ok(render("caf\xe9 \xff\xfe<p>x\0y\x01z\x7f\x1b[31m</p>", 25, 0, &b) ==
	       0,
	   "invalid UTF-8 renders");
	ok(utf8_valid(b.s, b.len) && no_controls(b.s),
	   "valid UTF-8, no controls");
	ok(strstr(buf_str(&b), "caf") != NULL && strstr(b.s, "z") != NULL,
	   "text kept: %s", buf_str(&b));
	buf_free(&b);
	ok(render("\xc2\x85\xc2\x9f<pre>\x01\x0b</pre>", 15, 0, &b) == 0 &&
	       no_controls(buf_str(&b)),
	   "C1 controls and controls in pre become spaces");
	buf_free(&b);
	ok(render("<", 1, 0, &b) == 0 && strcmp(buf_str(&b), "<\n") == 0,
	   "a lone '<'");
	buf_free(&b);
	ok(render("<p", 2, 0, &b) == 0 && b.len == 0, "EOF in a tag");
	buf_free(&b);
	ok(render("<a href=\"https://x.example/", 28, 0, &b) == 0,
	   "EOF in an attribute");
	buf_free(&b);

	/* hostile nesting: no crash, bounded time and memory */
	nested("100000 <div>", "<div>", "deep", "</div>", 100000, "deep");
	nested("100000 unclosed <div>", "<div>", "deep", NULL, 100000, "deep");
	nested("100000 <blockquote>", "<blockquote>", "q", "</blockquote>",
	       100000, "> > > q");
	nested("100000 <b>", "<b>", "bold", NULL, 100000, "bold");
	nested("100000 <table><td>", "<table><tr><td>", "cell", NULL, 100000,
	       "cell");
	nested("100000 <svg>", "<svg>", "gone", NULL, 100000, "");
	nested("100000 <ul><li>", "<ul><li>", "item", NULL, 100000, "- item");
	nested("100000 <p><div></p>", "<p><div></p>", "x", NULL, 50000, "x");
	nested("100000 <div></x>", "<div></x>", "x", NULL, 50000, "x");
	nested("100000 <a href>", "<a href=\"https://a.example/\">", "x", NULL,
	       100000, "x");

	/* The formatting element blow-up: 5000 distinct <b>, then many
	 * blocks that each reconstruct them (gumbo alone: 2.6 GB). */
	for (i = 0; i < 5000; i++)
		buf_printf(&in, "<b id=%zu>", i);
	buf_adds(&in, "</div>");
	for (i = 0; i < 5000; i++)
		buf_adds(&in, "<div>x</div>");
	t0 = clock();
	ok(render(in.s, in.len, 0, &b) == 0 && b.len > 0,
	   "formatting blow-up renders");
	ok(secs(t0) < 3.0, "formatting blow-up: bounded (%.2fs)", secs(t0));
	buf_free(&b);
	buf_free(&in);

	/* past the tag budget the text is kept, with its line breaks */
	for (i = 0; i < HTML_TEXT_MAX_TAGS + 10; i++)
		buf_printf(&in, "<p>p%zu</p>", i);
	ok(render(in.s, in.len, 0, &b) == 0, "many tags render");
	ok(strstr(buf_str(&b), "\np10\n") != NULL &&
	       strstr(buf_str(&b), "\np4100\n") != NULL,
	   "text before and after the tag budget, one per line");
	buf_free(&b);
	buf_free(&in);
	return done_testing();
}
