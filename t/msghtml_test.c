/*
 * msghtml_test.c - tests for the archive's body renderer (msghtml.c):
 * the escaper and the address display as tables, the exact rendering of
 * a small message (quotes, signature, links, attachments), then hostile
 * mail: script and event handlers in body, subject and file names,
 * javascript:/data:/vbscript: URLs, URLs that try to break out of the
 * attribute, an HTML part full of active content, invalid UTF-8, NUL,
 * bidi overrides, a very long line, 1000 quote levels, 10,000 URLs, and
 * the output cap.  Every rendering is checked against the allow-list
 * scanner of t/fuzz/fuzz_msghtml.c (linked in).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "msg.h"
#include "msghtml.h"
#include "tap.h"
#include "util.h"

int msghtml_allowed(const char *s, size_t n, const char *attach_base,
                    const char **why);

#define RLO  "\xe2\x80\xae"
#define FFFD "\xef\xbf\xbd"
#define ELL  "\xe2\x80\xa6"
#define BASE "../att/HASH/"
#define REL  "rel=\"nofollow noopener noreferrer ugc\""

static const struct msghtml_opts obf = {1, NULL};
static const struct msghtml_opts plain = {0, BASE};

static const struct {
	const char *in;
	size_t n; /* 0: strlen */
	const char *want;
} esc[] = {
    {"plain", 0, "plain"},
    {"<script>alert('x\")</script>", 0,
     "&lt;script&gt;alert(&#39;x&quot;)&lt;/script&gt;"},
    {"a&b", 0, "a&amp;b"},
    {"a\0b", 3, "ab"},
    {"l1\nl2\tx\r\x01\x7f", 0, "l1\nl2\tx"},
    {"\xc2\x85"
     "c1\xc2\xa0",
     0, "c1\xc2\xa0"},
    {"bad\xff\xfe!", 0, "bad" FFFD FFFD "!"},
    {"\xc0\xaf", 0, FFFD FFFD},          /* overlong '/' */
    {"\xed\xa0\x80", 0, FFFD FFFD FFFD}, /* surrogate */
    {"cut\xe2\x82", 0, "cut" FFFD FFFD},
    {"\xe2\x82\xac ok " RLO, 0, "\xe2\x82\xac ok " RLO},
};

static const struct {
	const char *name, *addr;
	const struct msghtml_opts *o;
	const char *want;
} addrs[] = {
    {"Jane Doe", "jane@example.org", &plain,
     "Jane Doe &lt;jane@example.org&gt;"},
    {"Jane Doe", "jane@example.org", &obf,
     "Jane Doe &lt;j" ELL "@example.org&gt;"},
    {"", "jane@example.org", &obf, "j" ELL "@example.org"},
    {"jane@example.org", "jane@example.org", &obf, "j" ELL "@example.org"},
    {"<b>x</b>", "a@b.example", NULL,
     "&lt;b&gt;x&lt;/b&gt; &lt;a" ELL "@b.example&gt;"},
    {"evil" RLO "gpj.exe", "", &plain, "evilgpj.exe"},
    {"", "", &obf, ""},
    {"\xc3\xa9mile", "\xc3\xa9mile@example.org", &obf,
     "\xc3\xa9mile &lt;\xc3\xa9" ELL "@example.org&gt;"},
};

static struct msg *
mk(const char *raw)
{
	struct msg *m = NULL;
	struct buf err = BUF_INIT;

	if (msg_parse(raw, strlen(raw), &msg_default_limits, &m, &err) < 0) {
		diag("msg_parse: %s", buf_str(&err));
		m = NULL;
	}
	buf_free(&err);
	return m;
}

/* Render raw with o; the result (caller frees) passed the allow-list. */
static char *
render(const char *raw, const struct msghtml_opts *o, const char *name)
{
	struct msg *m = mk(raw);
	struct buf out = BUF_INIT;
	const char *why = "";
	int rc;

	if (m == NULL) {
		ok(0, "%s: parses", name);
		return xstrdup("");
	}
	rc = msghtml_body(m, o, &out);
	ok(rc == 0 && msghtml_allowed(buf_str(&out), out.len,
	                              o ? o->attach_base : NULL, &why),
	   "%s: rendered within the allow-list", name);
	if (*why)
		diag("%s in: %.300s", why, buf_str(&out));
	msg_free(m);
	return buf_detach(&out, NULL);
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += l;
	}
	return n;
}

static int
has_ci(const char *s, const char *needle)
{
	size_t l = strlen(needle);

	for (; *s; s++)
		if (strncasecmp(s, needle, l) == 0)
			return 1;
	return 0;
}

#define HDR "From: a@example.org\nSubject: t\n"

static void
exact(void)
{
	char *s = render(HDR "Content-Language: de-CH\n\n"
	                     "Hi <you>,\n"
	                     "> quoted https://example.org/a?x=1&y=2.\n"
	                     "> > deeper\n"
	                     "back\n"
	                     "-- \n"
	                     "Sig (mailto:me@example.org)\n",
	                 &plain, "exact");

	is_str(s,
	       "<div class=\"body\" dir=\"auto\" lang=\"de-CH\">\n"
	       "<div class=\"text\">Hi &lt;you&gt;,\n"
	       "<blockquote class=\"q1\">quoted <a "
	       "href=\"https://example.org/a?x=1&amp;y=2\" " REL ">"
	       "https://example.org/a?x=1&amp;y=2</a>.\n"
	       "</blockquote><blockquote class=\"q2\">deeper\n"
	       "</blockquote>back\n"
	       "<div class=\"sig\">-- \n"
	       "Sig (<a href=\"mailto:me@example.org\" " REL ">"
	       "mailto:me@example.org</a>)\n"
	       "</div></div>\n"
	       "</div>\n",
	       "exact rendering: quotes, signature, links, lang");
	free(s);

	s = render(HDR "MIME-Version: 1.0\n"
	               "Content-Type: multipart/mixed; boundary=b\n\n"
	               "--b\nContent-Type: text/plain\n\nbody\n"
	               "--b\nContent-Type: application/pdf\n"
	               "Content-Disposition: attachment; filename=\"r.pdf\"\n"
	               "Content-Transfer-Encoding: base64\n\nAAAA\n"
	               "--b\nContent-Type: image/png\n"
	               "Content-Transfer-Encoding: base64\n\nAAAA\n"
	               "--b--\n",
	           &plain, "attachments");
	ok(strstr(s, "<ul class=\"attachments\">\n<li><a href=\"" BASE
	             "1\" " REL "><span class=\"name\">r.pdf</span></a> <span "
	             "class=\"type\">application/pdf</span> <span "
	             "class=\"size\">3 B</span></li>\n") != NULL,
	   "attachment linked by index, with type and size");
	ok(strstr(s, "<span class=\"name\">attachment-2</span>") != NULL,
	   "nameless attachment gets attachment-N");
	free(s);
	s = render(HDR "MIME-Version: 1.0\n"
	               "Content-Type: multipart/mixed; boundary=b\n\n"
	               "--b\nContent-Type: text/plain\n\nbody\n"
	               "--b\nContent-Type: application/pdf\n"
	               "Content-Disposition: attachment; filename=\"r.pdf\"\n\n"
	               "x\n--b--\n",
	           &obf, "attachments, no base");
	ok(strstr(s, "<li><span class=\"name\">r.pdf</span>") != NULL &&
	       strstr(s, "href") == NULL,
	   "no attach_base: listed without links");
	free(s);
}

static void
hostile(void)
{
	char *s;
	const char *bad[] = {"javascript:", "vbscript:", "data:"};
	size_t i;

	s = render("From: a@example.org\n"
	           "Subject: <script>alert(1)</script>\n"
	           "MIME-Version: 1.0\n"
	           "Content-Type: multipart/mixed; boundary=b\n\n"
	           "--b\nContent-Type: text/plain\n\n"
	           "<script>alert(1)</script>\n"
	           "<img src=x onerror=alert(1)>\n"
	           "javascript:alert(1) JaVaScRiPt:alert(2) "
	           "data:text/html,<script>alert(3)</script> "
	           "vbscript:msgbox(4)\n"
	           "x-http://evil.example/ nohttp://evil.example/\n"
	           "http://x/\"onmouseover=alert(1)\n"
	           "http://x/'onmouseover=alert(1)\n"
	           "<http://x/<script>>\n"
	           "HTTPS://Example.ORG/Caps\n"
	           "--b\nContent-Type: text/plain\n"
	           "Content-Disposition: attachment; "
	           "filename=\"<img src=x onerror=alert(1)>.txt\"\n\nx\n"
	           "--b--\n",
	           &plain, "script everywhere");
	ok(!has_ci(s, "<script") && !has_ci(s, "<img"), "no script or img tag");
	ok(strstr(s, "&lt;img src=x onerror=alert(1)&gt;.txt") != NULL,
	   "attachment name escaped");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char h[64];

		snprintf(h, sizeof(h), "href=\"%s", bad[i]);
		ok(!has_ci(s, h), "%s never linked", bad[i]);
	}
	ok(count(s, "<a href=\"http") == 5 && count(s, "<a ") == 6,
	   "only the http(s) URLs (and the attachment) are linked");
	ok(strstr(s, "<a href=\"http://x/\" " REL ">http://x/</a>&quot;"
	             "onmouseover") != NULL,
	   "a double quote ends the URL");
	ok(strstr(s, "<a href=\"http://x/\" " REL ">http://x/</a>&#39;"
	             "onmouseover") != NULL,
	   "a single quote ends the URL");
	ok(strstr(s, "href=\"https://Example.ORG/Caps\"") != NULL,
	   "scheme matched case-insensitively, written lower case");
	free(s);

	s = render(HDR "MIME-Version: 1.0\nContent-Type: text/html\n\n"
	               "<html><head><style>body{background:url(http://t/)}"
	               "</style><link rel=stylesheet href=http://t/s.css>"
	               "<script>alert(1)</script></head><body>"
	               "<p style=\"width:expression(alert(1))\">visible</p>"
	               "<iframe src=\"http://t/f\">frame</iframe>"
	               "<object data=\"http://t/o\">obj</object>"
	               "<svg onload=alert(1)><script>alert(2)</script></svg>"
	               "<img src=\"http://t/pixel.gif\" onerror=alert(3)>"
	               "<a href=\"javascript:alert(4)\">js</a> "
	               "<a href=\"https://ok.example/\">ok</a>"
	               "<blockquote>q</blockquote>"
	               "</body></html>\n",
	           &plain, "active HTML part");
	ok(strstr(s, "visible") != NULL, "its text is shown");
	ok(!has_ci(s, "expression") && !has_ci(s, "alert") &&
	       !has_ci(s, "http://t/"),
	   "no style, script, frame, object or image reaches the page");
	ok(strstr(s, "<a href=\"https://ok.example/\"") != NULL,
	   "a safe link in HTML survives as a link");
	ok(strstr(s, "<blockquote class=\"q1\">q\n</blockquote>") != NULL,
	   "HTML quote becomes a quote run");
	free(s);

	s = render(HDR "MIME-Version: 1.0\n"
	               "Content-Type: multipart/alternative; boundary=b\n\n"
	               "--b\nContent-Type: text/plain\n\nthe plain one\n"
	               "--b\nContent-Type: text/html\n\n<p>the html one</p>\n"
	               "--b--\n",
	           &plain, "alternative");
	ok(strstr(s, "the plain one") && !strstr(s, "the html one") &&
	       !strstr(s, "attachments"),
	   "alternative: the plain part only, html not listed");
	free(s);

	s = render(HDR "Content-Type: text/plain; charset=utf-8\n"
	               "Content-Transfer-Encoding: base64\n\n"
	               "YmFkAP8gdGV4dCDigK4gYXJhYmljCg==\n",
	           &plain, "NUL and invalid UTF-8 in body");
	ok(strstr(s, "bad") != NULL && strstr(s, "text") != NULL,
	   "text around NUL and invalid bytes kept");
	free(s);

	s = render(HDR "MIME-Version: 1.0\n"
	               "Content-Type: multipart/mixed; boundary=b\n\n"
	               "--b\nContent-Type: text/plain\n\nsee attachment\n"
	               "--b\nContent-Type: application/octet-stream\n"
	               "Content-Disposition: attachment; filename*=utf-8''"
	               "invoice%E2%80%AEfdp.exe\n\nx\n"
	               "--b\nContent-Type: application/octet-stream\n"
	               "Content-Disposition: attachment; filename*=utf-8''"
	               "a%00b%FF%E2%81%A6c.bin\n\nx\n"
	               "--b--\n",
	           &plain, "bidi override in file name");
	ok(strstr(s, RLO) == NULL && strstr(s, "invoicefdp.exe") != NULL,
	   "U+202E stripped from file names");
	ok(strstr(s, "\xe2\x81\xa6") == NULL, "U+2066 stripped too");
	free(s);

	s = render(HDR "Content-Language: \"><script>\n\nx\n", &plain,
	           "hostile Content-Language");
	ok(strstr(s, "lang=\"\"") != NULL, "malformed language tag dropped");
	free(s);

	s = render(HDR "\nwrite to mailto:jane@example.org?subject=hi now\n",
	           &obf, "obfuscated mailto");
	ok(strstr(s, "mailto") == NULL && strstr(s, "jane") == NULL &&
	       strstr(s, "j" ELL "@example.org") != NULL,
	   "obfuscate: mailto shown as j" ELL "@domain, not linked");
	free(s);

	s = render(HDR "\nsee https://en.wikipedia.org/wiki/C_(language), "
	               "(http://x.example/), [https://y.example/a]. "
	               "http://z.example/;:!?*\n",
	           &plain, "trailing punctuation");
	ok(strstr(s, "href=\"https://en.wikipedia.org/wiki/C_(language)\"") &&
	       strstr(s, "href=\"http://x.example/\"") &&
	       strstr(s, "href=\"https://y.example/a\"") &&
	       strstr(s, "href=\"http://z.example/\""),
	   "trailing punctuation and unbalanced brackets excluded");
	free(s);
}

static void
huge(void)
{
	struct buf raw = BUF_INIT;
	struct buf out = BUF_INIT;
	struct msg *m;
	clock_t t0;
	char *s;
	size_t i;

	buf_adds(&raw, HDR "\n");
	for (i = 0; i < 1000; i++)
		buf_addc(&raw, '>');
	buf_adds(&raw, "deep\n");
	for (i = 0; i < 1000; i++)
		buf_adds(&raw, "> ");
	buf_adds(&raw, "deep2\n");
	s = render(buf_str(&raw), &plain, "1000 quote levels");
	ok(count(s, "<blockquote class=\"q3\">deep\n") == 1 &&
	       strstr(s, "q4") == NULL,
	   "1000 levels capped at class q3");
	free(s);

	buf_reset(&raw);
	buf_adds(&raw, HDR "\n");
	for (i = 0; i < 2000000; i++)
		buf_addc(&raw, (i % 100) ? 'a' : ' ');
	buf_adds(&raw, " https://end.example/\n");
	t0 = clock();
	s = render(buf_str(&raw), &plain, "2 MB line");
	ok(strstr(s, "href=\"https://end.example/\"") != NULL,
	   "URL at the end of a 2 MB line linked");
	free(s);

	buf_reset(&raw);
	buf_adds(&raw, HDR "\n");
	for (i = 0; i < 10000; i++)
		buf_printf(&raw, "http://h%zu.example/(x) ", i);
	for (i = 0; i < 10000; i++)
		buf_adds(&raw, "http://((((((((((((((((((((((((((((((((");
	buf_adds(&raw, "\n");
	s = render(buf_str(&raw), &plain, "10,000 URLs");
	is_int(count(s, "<a "), 10000, "10,000 URLs, 10,000 links");
	free(s);
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0,
	   "long line and many URLs in linear time");

	/* the cap: -1 and out as it was */
	m = mk(buf_str(&raw));
	buf_init(&out, 1000);
	buf_adds(&out, "keep");
	ok(m && msghtml_body(m, &plain, &out) == -1 &&
	       strcmp(buf_str(&out), "keep") == 0,
	   "cap reached: -1, out restored");
	buf_free(&out);
	msg_free(m);
	buf_free(&raw);
}

int
main(void)
{
	struct buf b = BUF_INIT;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(esc); i++) {
		buf_reset(&b);
		msghtml_escape(esc[i].in,
		               esc[i].n ? esc[i].n : strlen(esc[i].in), &b);
		is_str(buf_str(&b), esc[i].want, "escape case %zu", i);
	}
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		buf_reset(&b);
		msghtml_address(addrs[i].name, addrs[i].addr, addrs[i].o, &b);
		is_str(buf_str(&b), addrs[i].want, "address case %zu", i);
	}
	buf_free(&b);

	/* the allow-list scanner itself must reject what it is there for */
	{
		static const char *const no[] = {
		    "<script>",
		    "<div onclick=\"x\"></div>",
		    "<a href=\"javascript:x\"></a>",
		    "<div>",
		    "a > b",
		    "<a href=\"HTTP://x\"></a>",
		    "x & y",
		    "<div class=x></div>",
		    "<img src=\"http://x/\">",
		    "\x01",
		};
		for (i = 0; i < ARRAY_SIZE(no); i++)
			ok(!msghtml_allowed(no[i], strlen(no[i]), BASE, &why),
			   "scanner rejects %s", no[i]);
		ok(msghtml_allowed("<a href=\"" BASE "1\">x &amp; y</a><br>",
		                   strlen("<a href=\"" BASE "1\">x &amp; y</a>"
		                          "<br>"),
		                   BASE, &why),
		   "scanner accepts an allowed fragment");
	}

	exact();
	hostile();
	huge();
	return done_testing();
}
