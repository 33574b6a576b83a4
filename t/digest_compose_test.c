/*
 * digest_compose_test.c - tests for mlmd/digest_compose.c.
 *
 * Digests are made from posts written here (Danish and Arabic subjects
 * in encoded words, an HTML-only post, a base64 PDF attachment, a thread
 * of three and two single posts, a line of 30 '-', "From " at line
 * starts), written to a temp file and read back by a real mail parser:
 * t/helpers/digest_check.py (python's email package) checks the
 * structure, the Message-IDs in order, the contents, the RFC 1153
 * bursting and the footer.  Then: the attachments_link variant, the
 * Danish words, a post holding the first boundary, posts that do not
 * parse, the cap, bad digest_info, TZ put back, and every .eml of
 * /work/shared/corpus (at most 200) in one digest.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest_compose.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

#define URL0 "https://lists.example.org/archive/test/2026/03/p4.html"
#define PDF_B64 "JVBERi0xLjQKUERGTUFSS0VSWFlaIGJpbmFyeSBzdHVmZgolJUVPRgo="

static const char *top;
static char tdir[4096];
static int have_python;

/* Danish: "Møde på torsdag", Arabic: "مرحبا بالعالم" */
#define DA_SUBJ "M\xc3\xb8" "de p\xc3\xa5 torsdag"
#define AR_SUBJ "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 " \
	"\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85"

static const char post0[] =
	"From: =?utf-8?q?S=C3=B8ren_=C3=86gir?= <soren@example.dk>\n"
	"To: test@lists.example.org\n"
	"Subject: [test] =?utf-8?q?M=C3=B8de_p=C3=A5_torsdag?=\n"
	"Date: Tue, 03 Mar 2026 10:00:00 +0000\n"
	"Message-ID: <p0@example.dk>\n"
	"Received: from secret.example.dk by mx\n"
	"X-Secret: must not show\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"Hej alle, vi m\xc3\xb8" "des p\xc3\xa5 torsdag.\n"
	"From the minutes:\n"
	"------------------------------\n"
	"From here on, nothing.\n";

static const char post1[] =
	"From: Anna <anna@example.se>\r\n"
	"Subject: SV: [test] =?utf-8?q?M=C3=B8de_p=C3=A5_torsdag?=\r\n"
	"Date: Tue, 03 Mar 2026 11:00:00 +0000\r\n"
	"Message-ID: <p1@example.se>\r\n"
	"In-Reply-To: <p0@example.dk>\r\n"
	"\r\n"
	"Ja tak.\r\n";

static const char post2[] =
	"From: =?utf-8?b?2LPYp9mE2YU=?= <salem@example.eg>\n"
	"Subject: =?utf-8?b?2YXYsdit2KjYpyDYqNin2YTYudin2YTZhQ==?=\n"
	"Date: Tue, 03 Mar 2026 12:00:00 +0000\n"
	"Message-ID: <p2@example.eg>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<html><body><p>Hello <b>from</b> HTML</p><script>x()</script>"
	"</body></html>\n";

static const char post3[] =
	"From: Bo <bo@example.dk>\n"
	"Subject: Re: Re: [test] =?utf-8?q?M=C3=B8de_p=C3=A5_torsdag?=\n"
	"Date: Tue, 03 Mar 2026 13:00:00 +0000\n"
	"Message-ID: <p3@example.dk>\n"
	"\n"
	"Third in the thread.\n";

static const char post4[] =
	"From: Carl <carl@example.org>\n"
	"Subject: The report\n"
	"Date: Tue, 03 Mar 2026 14:00:00 +0000\n"
	"Message-ID: <p4@example.org>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\n"
	"\n"
	"--b1\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"See the report attached.\n"
	"--b1\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\n"
	"Content-Disposition: attachment; filename=\"report.pdf\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n" PDF_B64 "\n"
	"--b1--\n";

#define NP 5
static const struct digest_post posts[NP] = {
	{post0, sizeof(post0) - 1, "[test] " DA_SUBJ,
	 "S\xc3\xb8ren \xc3\x86gir", "soren@example.dk", "p0@example.dk",
	 1772532000, 1, ""},
	{post1, sizeof(post1) - 1, "SV: [test] " DA_SUBJ, "Anna",
	 "anna@example.se", "p1@example.se", 1772535600, 1, ""},
	{post2, sizeof(post2) - 1, AR_SUBJ, "\xd8\xb3\xd8\xa7\xd9\x84\xd9\x85",
	 "salem@example.eg", "p2@example.eg", 1772539200, 2, ""},
	{post3, sizeof(post3) - 1, "Re: Re: [test] " DA_SUBJ, "Bo",
	 "bo@example.dk", "p3@example.dk", 1772542800, 1, ""},
	{post4, sizeof(post4) - 1, "The report", "Carl", "carl@example.org",
	 "p4@example.org", 1772546400, 3, URL0},
};

static struct digest_info
info(void)
{
	struct digest_info d;

	memset(&d, 0, sizeof(d));
	d.list = "test";
	d.list_address = "test@lists.example.org";
	d.request_address = "test-request@lists.example.org";
	d.description = "A test list";
	d.lang = "en";
	d.templates = tdir;
	d.timezone = "Europe/Copenhagen";
	d.archive_url = "https://lists.example.org/archive/test/";
	d.volume = 1;
	d.issue = 2;
	d.date = 1772550000;
	d.message_id = "digest.1.2@lists.example.org";
	return d;
}

/* Write the digest to a temp file and run the checker on it with the
 * expectations (key=value lines).  1 if it is content. */
static int
python_check(const char *mode, const struct buf *b, const char *exp)
{
	char df[] = "/tmp/digest_testXXXXXX", ef[] = "/tmp/digest_expXXXXXX";
	struct buf cmd = BUF_INIT;
	int fd, rc;

	if ((fd = mkstemp(df)) < 0)
		return 0;
	write_all(fd, b->s, b->len);
	close(fd);
	if ((fd = mkstemp(ef)) < 0)
		return 0;
	write_all(fd, exp, strlen(exp));
	close(fd);
	buf_printf(&cmd, "python3 '%s/t/helpers/digest_check.py' %s %s @%s",
	           top, mode, df, ef);
	rc = system(buf_str(&cmd));
	if (rc != 0 || getenv("DIGEST_KEEP"))
		diag("checker %s on %s (kept)", rc ? "failed" : "passed", df);
	else
		unlink(df);
	unlink(ef);
	buf_free(&cmd);
	return rc == 0;
}

static void
check(const char *what, const char *mode, const struct buf *b,
      const char *exp)
{
	if (!have_python) {
		skip(1, "no python3");
		return;
	}
	ok(python_check(mode, b, exp), "%s: %s digest reads right", what,
	   mode);
}

#define IDS "id=p0@example.dk\nid=p1@example.se\nid=p2@example.eg\n" \
	"id=p3@example.dk\nid=p4@example.org\n"

static void
test_basic(void)
{
	struct digest_info d = info();
	struct buf b = BUF_INIT;

	is_int(digest_compose_mime(&d, posts, NP, &b), 0, "mime composes");
	check("basic", "mime", &b,
	      "n=5\n" IDS "request=test-request@lists.example.org\n"
	      "lang=en\ntoc=1. " DA_SUBJ " (3 messages)\n"
	      "toc=2. " AR_SUBJ " (1 message)\ntoc=3. The report\n"
	      "toc=Bo <bo@example.dk>\n"
	      "toc=Volume 1, issue 2\ntoc=test@lists.example.org\n"
	      "has=Earlier posts: https://lists.example.org/archive/test/\n");
	ok(strstr(b.s, "Subject: test digest, Vol 1, Issue 2\n") != NULL,
	   "mime: subject");
	ok(strstr(b.s, "From: \"test digest\" "
	               "<test-request@lists.example.org>\n") ||
	   strstr(b.s, "From: test digest "
	               "<test-request@lists.example.org>\n"),
	   "mime: From");
	ok(strstr(b.s, "List-Id: A test list <test.lists.example.org>\n") &&
	   strstr(b.s, "List-Post: <mailto:test@lists.example.org>\n") &&
	   strstr(b.s, "Precedence: list\n") &&
	   strstr(b.s, "Message-ID: <digest.1.2@lists.example.org>\n"),
	   "mime: list fields");
	ok(!strstr(b.s, "X-Secret") && !strstr(b.s, "secret.example.dk"),
	   "mime: other fields of the posts cut");
	ok(strstr(b.s, PDF_B64) != NULL, "mime: the PDF is there");
	ok(!strstr(b.s, "\r"), "mime: LF line ends only");
	ok(strstr(b.s, "Content-Transfer-Encoding: 8bit\n") != NULL,
	   "mime: 8bit declared");

	buf_reset(&b);
	is_int(digest_compose_plain(&d, posts, NP, &b), 0, "plain composes");
	check("basic", "plain", &b,
	      "n=5\n" IDS "request=test-request@lists.example.org\n"
	      "subject=[test] " DA_SUBJ "\nsubject=SV: [test] " DA_SUBJ "\n"
	      "subject=" AR_SUBJ "\nsubject=Re: Re: [test] " DA_SUBJ "\n"
	      "subject=The report\n"
	      "toc=1. " DA_SUBJ " (3 messages)\n"
	      "has=Hello from HTML\nlacks=<b>\nlacks=x()\n"
	      "has=[attachment: report.pdf application/pdf\n"
	      "has=\nFrom the minutes:\n"
	      "has=\n ------------------------------\n"
	      "has=End of test digest, Vol 1, Issue 2\n");
	ok(strstr(b.s, "Date: Tue, 03 Mar 2026 11:00:00 +0100\n") != NULL,
	   "plain: dates in the list's zone");
	ok(!strstr(b.s, PDF_B64), "plain: no PDF bytes");
	{
		const char *e = strstr(b.s, "\nEnd of test digest, Vol 1, "
		                            "Issue 2\n");
		size_t k = 0;

		if (e)
			for (e += 36; *e == '*'; e++)
				k++;
		is_int(k, 34, "plain: asterisks as long as the End line");
	}
	buf_free(&b);
}

static void
test_link(void)
{
	struct digest_info d = info();
	struct buf b = BUF_INIT;

	d.attachments_link = 1;
	is_int(digest_compose_mime(&d, posts, NP, &b), 0,
	       "link: mime composes");
	check("link", "mime", &b, "n=5\n" IDS
	      "has=See the report attached.\n"
	      "has=The attachments of this post are in the archive: " URL0
	      "\n");
	ok(!strstr(b.s, PDF_B64), "link: mime has no PDF bytes");
	buf_reset(&b);
	is_int(digest_compose_plain(&d, posts, NP, &b), 0,
	       "link: plain composes");
	check("link", "plain", &b, "n=5\n" IDS "has=" URL0 "\n"
	      "lacks=[attachment:\n");
	buf_free(&b);
}

static void
test_lang(void)
{
	struct digest_info d = info();
	struct buf b = BUF_INIT;

	d.lang = "da";
	is_int(digest_compose_mime(&d, posts, NP, &b), 0, "da: mime");
	check("da", "mime", &b, "n=5\nlang=da\n" IDS);
	buf_reset(&b);
	is_int(digest_compose_plain(&d, posts, NP, &b), 0, "da: plain");
	check("da", "plain", &b, "n=5\nlang=da\n" IDS);
	buf_reset(&b);
	d.lang = "../../etc";
	is_int(digest_compose_plain(&d, posts, NP, &b), 0, "bad lang: plain");
	ok(strstr(b.s, "Content-Language: en\n") != NULL,
	   "bad lang: English");
	buf_free(&b);
}

static void
test_boundary(void)
{
	struct digest_info d = info();
	struct buf b = BUF_INIT;
	struct digest_post p[2];
	static const char evil[] =
		"From: Eve <eve@example.org>\n"
		"Subject: boundaries\n"
		"Message-ID: <evil@example.org>\n"
		"\n"
		"--=_mlmd_digest_1_2_0d\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"Subject: smuggled\n\nx\n"
		"--=_mlmd_digest_1_2_0m--\n";

	p[0] = posts[3];
	memset(&p[1], 0, sizeof(p[1]));
	p[1].raw = evil;
	p[1].len = sizeof(evil) - 1;
	p[1].subject = "boundaries";
	p[1].message_id = "evil@example.org";
	p[1].thread = 9;
	is_int(digest_compose_mime(&d, p, 2, &b), 0, "boundary: composes");
	ok(strstr(b.s, "boundary=\"=_mlmd_digest_1_2_1m\"") != NULL,
	   "boundary: the second choice is taken");
	check("boundary", "mime", &b,
	      "n=2\nid=p3@example.dk\nid=evil@example.org\n"
	      "has=smuggled\n");
	buf_free(&b);
}

static void
test_unreadable(void)
{
	struct digest_info d = info();
	struct buf raw = BUF_INIT, raw2 = BUF_INIT, b = BUF_INIT,
	           err = BUF_INIT;
	struct digest_post p[4];
	struct msg *m = NULL;
	int i, fails;

	/* more header fields than msg_default_limits allow */
	buf_adds(&raw, "Subject: many\nMessage-ID: <many@example.org>\n");
	for (i = 0; i < 1100; i++)
		buf_printf(&raw, "X-F%d: v\n", i);
	buf_adds(&raw, "\nbody\n");
	/* no header at all (parses: all body) */
	buf_adds(&raw2, "no header here\n\nbody\n");
	fails = msg_parse(raw.s, raw.len, &msg_default_limits, &m, &err) < 0;
	msg_free(m);
	if (!ok(fails, "unreadable: msg_parse refuses it")) {
		skip(5, "msg_parse takes it");
		goto out;
	}
	p[0] = posts[0];
	memset(&p[1], 0, sizeof(p[1]));
	p[1].raw = raw.s;
	p[1].len = raw.len;
	p[1].subject = "many";
	p[1].message_id = "many@example.org";
	p[1].thread = 5;
	p[2] = p[1];
	p[2].raw = raw2.s;
	p[2].len = raw2.len;
	p[2].subject = "headless";
	p[2].message_id = "";
	p[2].thread = 6;
	/* nothing at all: cannot be a message */
	p[3] = p[1];
	p[3].raw = NULL;
	p[3].len = 0;
	p[3].subject = "empty one";
	p[3].message_id = "empty@example.org";
	p[3].thread = 7;
	is_int(digest_compose_mime(&d, p, 4, &b), 0, "unreadable: mime");
	check("unreadable", "mime", &b,
	      "n=3\nid=p0@example.dk\nid=many@example.org\nid=\n"
	      "toc=many\ntoc=headless\n");
	ok(!strstr(b.s, "empty one"), "unreadable: empty post left out");
	ok(strstr(b.s, "X-F1099") == NULL, "unreadable: header still cut");
	buf_reset(&b);
	is_int(digest_compose_plain(&d, p, 4, &b), 0, "unreadable: plain");
	check("unreadable", "plain", &b,
	      "n=4\nhas=(this post could not be read)\ntoc=empty one\n"
	      "has=no header here\n");
out:
	buf_free(&raw);
	buf_free(&raw2);
	buf_free(&b);
	buf_free(&err);
}

static void
test_limits(void)
{
	struct digest_info d = info();
	struct buf b;
	const char *tz;
	size_t cap, size;

	buf_init(&b, 0);
	ok(digest_compose_mime(&d, posts, NP, &b) == 0 && b.len > 1000,
	   "cap: default fits");
	size = b.len;
	buf_free(&b);
	/* every cap from tiny to just too small fails, out unchanged */
	for (cap = 5; cap < size + 4; cap += 97) {
		buf_init(&b, cap);
		buf_adds(&b, "keep");
		if (digest_compose_mime(&d, posts, NP, &b) != -1 ||
		    strcmp(buf_str(&b), "keep") != 0)
			break;
		buf_free(&b);
	}
	ok(cap >= size + 4, "cap: fails cleanly below the size (%zu)", cap);
	if (cap < size + 4)
		buf_free(&b);
	buf_init(&b, size + 4);
	buf_adds(&b, "keep");
	is_int(digest_compose_mime(&d, posts, NP, &b), 0, "cap: exact fits");
	buf_free(&b);
	buf_init(&b, 0);
	digest_compose_plain(&d, posts, NP, &b);
	cap = b.len;
	buf_free(&b);
	buf_init(&b, cap - 1);
	is_int(digest_compose_plain(&d, posts, NP, &b), -1,
	       "cap: one less fails");
	is_int(b.len, 0, "cap: out unchanged");
	buf_free(&b);

	buf_init(&b, 0);
	d.list_address = "no address";
	is_int(digest_compose_mime(&d, posts, NP, &b), -1, "bad list address");
	d = info();
	d.message_id = "a\nb";
	is_int(digest_compose_mime(&d, posts, NP, &b), -1, "bad message id");
	d = info();
	d.list = NULL;
	is_int(digest_compose_plain(&d, posts, NP, &b), -1, "no list name");
	is_int(b.len, 0, "bad info: out unchanged");
	d = info();
	is_int(digest_compose_plain(&d, NULL, 0, &b), 0, "empty digest");
	buf_free(&b);

	setenv("TZ", "Asia/Tokyo", 1);
	buf_init(&b, 0);
	digest_compose_plain(&d, posts, 1, &b);
	tz = getenv("TZ");
	is_str(tz, "Asia/Tokyo", "TZ put back");
	unsetenv("TZ");
	digest_compose_plain(&d, posts, 1, &b);
	ok(getenv("TZ") == NULL, "TZ unset again");
	buf_free(&b);
}

/* Does the post start with a header field (after a From_ line)? */
static int
headed(const char *s, size_t n)
{
	size_t i = 0, k;

	if (n >= 5 && memcmp(s, "From ", 5) == 0) {
		const char *e = memchr(s, '\n', n);

		i = e ? (size_t)(e - s) + 1 : n;
	}
	for (k = i; k < n && s[k] != ':' && s[k] != '\n'; k++)
		if ((unsigned char)s[k] <= ' ' || (unsigned char)s[k] >= 0x7f)
			return 0;
	return k < n && k > i && s[k] == ':';
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_corpus(void)
{
	struct digest_info d = info();
	struct digest_post *p;
	struct buf *raw, b = BUF_INIT, exp = BUF_INIT, list = BUF_INIT;
	char **names = NULL, *line, *save = NULL;
	size_t n = 0, cap = 0, i, in_mime = 0;
	FILE *f;

	f = popen("find /work/shared/corpus -name '*.eml' -size -2048k "
	          "2>/dev/null | sort | head -n 200", "r");
	if (f) {
		char tmp[4096];

		while (fgets(tmp, sizeof(tmp), f))
			buf_adds(&list, tmp);
		pclose(f);
	}
	for (line = list.s ? strtok_r(list.s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		names = xgrow(names, &cap, n + 1, sizeof(*names));
		names[n++] = line;
	}
	if (n == 0) {
		skip(4, "no corpus");
		buf_free(&list);
		return;
	}
	qsort(names, n, sizeof(*names), by_str);
	p = xcalloc(n, sizeof(*p));
	raw = xcalloc(n, sizeof(*raw));
	for (i = 0; i < n; i++) {
		struct msg *m = NULL;
		struct buf err = BUF_INIT;
		char url[64];

		buf_init(&raw[i], (size_t)4 << 20);
		read_file(names[i], &raw[i]);
		p[i].raw = raw[i].s;
		p[i].len = raw[i].len;
		if (p[i].len && msg_parse(p[i].raw, p[i].len,
		                          &msg_default_limits, &m, &err) == 0) {
			p[i].subject = xstrdup(m->subject);
			p[i].from_name = xstrdup(m->from.name);
			p[i].from_addr = xstrdup(m->from.addr);
			p[i].message_id = xstrdup(m->message_id);
			p[i].date = m->date;
			in_mime++;
		} else if (p[i].len && headed(p[i].raw, p[i].len)) {
			in_mime++;
		}
		msg_free(m);
		buf_free(&err);
		p[i].thread = (long long)(i % 7);
		snprintf(url, sizeof(url), "https://example.org/a/%zu", i);
		p[i].archive_url = xstrdup(url);
	}
	diag("%zu corpus posts, %zu in the MIME digest", n, in_mime);
	is_int(digest_compose_mime(&d, p, n, &b), 0, "corpus: mime composes");
	buf_printf(&exp, "n=%zu\n", in_mime);
	check("corpus", "mime", &b, buf_str(&exp));
	buf_reset(&b);
	d.attachments_link = 1;
	is_int(digest_compose_plain(&d, p, n, &b), 0, "corpus: plain composes");
	buf_reset(&exp);
	buf_printf(&exp, "n=%zu\n", n);
	check("corpus", "plain", &b, buf_str(&exp));
	buf_reset(&b);
	is_int(digest_compose_mime(&d, p, n, &b), 0,
	       "corpus: mime with links composes");
	buf_reset(&exp);
	buf_printf(&exp, "n=%zu\n", in_mime);
	check("corpus links", "mime", &b, buf_str(&exp));
	for (i = 0; i < n; i++) {
		free((char *)p[i].subject);
		free((char *)p[i].from_name);
		free((char *)p[i].from_addr);
		free((char *)p[i].message_id);
		free((char *)p[i].archive_url);
		buf_free(&raw[i]);
	}
	free(p);
	free(raw);
	free(names);
	buf_free(&b);
	buf_free(&exp);
	buf_free(&list);
}

int
main(void)
{
	top = getenv("top_srcdir");
	if (!top)
		top = ".";
	snprintf(tdir, sizeof(tdir), "%s/templates", top);
	have_python = system("python3 -c 'import email.policy' "
	                     ">/dev/null 2>&1") == 0;
	test_basic();
	test_link();
	test_lang();
	test_boundary();
	test_unreadable();
	test_limits();
	test_corpus();
	return done_testing();
}
