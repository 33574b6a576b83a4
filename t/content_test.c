/*
 * content_test.c - tests for mlmd/content.c (the MIME content filter).
 *
 * Small hand-made posts, each run through content_filter() with one
 * option alone or several together.  What a reader would see is checked
 * by parsing the output again with msg_parse() (the leaves, their types,
 * file names and decoded text); where the filter promises bytes (parts
 * left alone, header fields kept, a byte copy when nothing changes) the
 * output is compared with the exact expected bytes.  Every successful
 * run is also checked for the invariants: the same bytes on a second
 * run, nothing more to do on the output (a second pass is a byte copy),
 * a one-line note, and changed saying whether the bytes differ.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "content.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

static const char *const exts[] = {".exe", ".scr", ".bat",        ".js", ".vbs",
                                   ".com", ".pif", "winmail.dat", NULL};
static const char *const strip[] = {"application/x-msdownload",
                                    "application/ms-tnef", NULL};
static const char *const pass[] = {"text/plain", "image/*", "multipart",
                                   "message/rfc822", NULL};

static const struct content_opts O_NONE = {0};
static const struct content_opts O_EXT = {NULL, NULL, exts, 0, 0};
static const struct content_opts O_STRIP = {NULL, strip, NULL, 0, 0};
static const struct content_opts O_PASS = {pass, NULL, NULL, 0, 0};
static const struct content_opts O_COLL = {NULL, NULL, NULL, 1, 0};
static const struct content_opts O_HTML = {NULL, NULL, NULL, 0, 1};
static const struct content_opts O_ALL = {NULL, strip, exts, 1, 1};

struct run {
	int rc;
	struct content_result res;
	struct buf out, err;
	struct msg *m; /* the output parsed, or NULL */
};

static void
run_free(struct run *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
	msg_free(r->m);
	memset(r, 0, sizeof(*r));
}

/* Filter s with o; check the invariants every result must keep. */
static void
run(const char *name, const char *s, const struct content_opts *o,
    struct run *r)
{
	struct content_result r2;
	struct buf o2 = BUF_INIT, e2 = BUF_INIT;
	size_t len = strlen(s);
	int rc2;

	memset(r, 0, sizeof(*r));
	r->rc = content_filter(s, len, o, &r->out, &r->res, &r->err);
	if (r->rc < 0) {
		ok(r->out.len == 0 && r->err.len > 0 &&
		       strchr(buf_str(&r->err), '\n') == NULL,
		   "%s: failure leaves out alone, one-line reason", name);
		return;
	}
	ok(strchr(r->res.note, '\n') == NULL &&
	       r->res.changed == (r->out.len != len ||
	                          (len > 0 && memcmp(r->out.s, s, len) != 0)),
	   "%s: note is one line, changed tells the truth", name);
	/* Deterministic, and a fixed point: the output needs no more work. */
	rc2 = content_filter(s, len, o, &o2, &r2, &e2);
	ok(rc2 == 0 && o2.len == r->out.len &&
	       (o2.len == 0 || memcmp(o2.s, r->out.s, o2.len) == 0),
	   "%s: same bytes on a second run", name);
	buf_reset(&o2);
	if (!r->res.empty) {
		rc2 = content_filter(buf_str(&r->out), r->out.len, o, &o2, &r2,
		                     &e2);
		ok(rc2 == 0 && !r2.changed && r2.removed == 0,
		   "%s: filtering the output again changes nothing", name);
	}
	buf_free(&o2);
	buf_free(&e2);
	if (msg_parse(buf_str(&r->out), r->out.len, &msg_default_limits, &r->m,
	              &e2) < 0)
		r->m = NULL;
	buf_free(&e2);
}

/* The leaves of the output as "type[name]" joined by ",". */
static const char *
leaves(const struct run *r)
{
	static char s[1024];
	size_t i, k = 0;

	s[0] = '\0';
	if (r->m == NULL)
		return "(unparsable)";
	for (i = 0; i < r->m->n_parts && k < sizeof(s) - 1; i++) {
		int n = snprintf(s + k, sizeof(s) - k, "%s%s%s%s%s",
		                 i ? "," : "", r->m->parts[i].type,
		                 r->m->parts[i].filename[0] ? "[" : "",
		                 r->m->parts[i].filename,
		                 r->m->parts[i].filename[0] ? "]" : "");

		if (n < 0)
			break;
		k += (size_t)n < sizeof(s) - k ? (size_t)n : sizeof(s) - k - 1;
	}
	return s;
}

/* ---- messages ----------------------------------------------------------- */

#define HDR                                                                    \
	"From: Alice <alice@example.org>\n"                                    \
	"To: denmark@lists.example.org\n"                                      \
	"Subject: Faktura\n"                                                   \
	"Message-ID: <1@example.org>\n"                                        \
	"MIME-Version: 1.0\n"

#define TEXT_PART                                                              \
	"--b1\n"                                                               \
	"Content-Type: text/plain; charset=utf-8\n"                            \
	"Content-Transfer-Encoding: 8bit\n"                                    \
	"\n"                                                                   \
	"Hej, se vedh\xc3\xa6"                                                 \
	"ftede.\n"

#define EXE_PART(ct, disp)                                                     \
	"\n--b1\n"                                                             \
	"Content-Type: " ct "\n"                                               \
	"Content-Disposition: " disp "\n"                                      \
	"Content-Transfer-Encoding: base64\n"                                  \
	"\n"                                                                   \
	"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAA\n"

#define MIXED(parts)                                                           \
	HDR "Content-Type: multipart/mixed; boundary=\"b1\"\n"                 \
	    "\n"                                                               \
	    "This is a MIME message.\n" TEXT_PART parts "\n--b1--\n"           \
	    "epilogue\n"

/* The mixed message with only its text part: what removal must give. */
static const char mixed_text_only[] = MIXED("");

struct rmcase {
	const char *name;
	const char *msg;
	const struct content_opts *o;
	int removed;
	const char *note; /* a piece of the note */
};

static const struct rmcase rmcases[] = {
    {"exe by type", MIXED(EXE_PART("application/x-msdownload", "attachment")),
     &O_STRIP, 1, "removed 1 part (application/x-msdownload)"},
    {"exe by extension",
     MIXED(EXE_PART("application/octet-stream; name=\"invoice.exe\"",
                    "attachment; filename=\"invoice.exe\"")),
     &O_EXT, 1, "removed 1 part (application/octet-stream invoice.exe)"},
    {"EXE upper case",
     MIXED(EXE_PART("application/octet-stream",
                    "attachment; filename=\"INVOICE.EXE\"")),
     &O_EXT, 1, "INVOICE.EXE"},
    {"exe in Content-Type name only",
     MIXED(EXE_PART("application/octet-stream; name=run.Exe", "inline")),
     &O_EXT, 1, "run.Exe"},
    {"exe RFC 2231 extended",
     MIXED(EXE_PART("application/octet-stream",
                    "attachment; filename*=utf-8''fakt%C3%BAra%2Eexe")),
     &O_EXT, 1, "removed 1 part"},
    {"exe RFC 2231 continued",
     MIXED(EXE_PART("application/octet-stream",
                    "attachment; filename*0=\"inv\"; filename*1=\"oice.e\";"
                    "\n filename*2=xe")),
     &O_EXT, 1, "invoice.exe"},
    {"exe RFC 2047",
     MIXED(EXE_PART("application/octet-stream",
                    "attachment; filename=\"=?utf-8?q?invoice=2Eexe?=\"")),
     &O_EXT, 1, "invoice.exe"},
    {"exe trailing dot and space",
     MIXED(EXE_PART("application/octet-stream",
                    "attachment; filename=\"invoice.exe. \"")),
     &O_EXT, 1, "invoice.exe"},
    {"exe behind a bidi override",
     MIXED(EXE_PART("application/octet-stream",
                    "attachment; filename=\"=?utf-8?q?photo=E2=80=AEgpj.e="
                    "E2=80=8Bxe?=\"")),
     &O_EXT, 1, "removed 1 part"},
    {"scr and js",
     MIXED(EXE_PART("application/octet-stream", "attachment; filename=a.scr")
               EXE_PART("text/javascript", "attachment; filename=b.JS")),
     &O_EXT, 2,
     "removed 2 parts (application/octet-stream a.scr; "
     "text/javascript b.JS)"},
    {"winmail.dat by name",
     MIXED(EXE_PART("application/octet-stream; name=\"winmail.dat\"",
                    "attachment")),
     &O_EXT, 1, "winmail.dat"},
    {"winmail.dat by type",
     MIXED(EXE_PART("application/ms-tnef; name=\"winmail.dat\"", "attachment")),
     &O_STRIP, 1, "application/ms-tnef winmail.dat"},
    {"both together",
     MIXED(EXE_PART("application/x-msdownload", "attachment; filename=i.exe")
               EXE_PART("application/ms-tnef",
                        "attachment; filename=winmail.dat")),
     &O_ALL, 2,
     "removed 2 parts (application/x-msdownload i.exe; "
     "application/ms-tnef winmail.dat)"},
    {"pass_types removes pdf",
     MIXED(EXE_PART("application/pdf", "attachment; filename=a.pdf")), &O_PASS,
     1, "application/pdf a.pdf"},
};

static void
test_removals(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rmcases); i++) {
		const struct rmcase *c = &rmcases[i];
		struct run r;

		run(c->name, c->msg, c->o, &r);
		is_int(r.rc, 0, "%s: filtered", c->name);
		is_int(r.res.removed, c->removed, "%s: removed count", c->name);
		ok(r.res.changed && !r.res.empty, "%s: changed, not empty",
		   c->name);
		ok(strstr(r.res.note, c->note) != NULL, "%s: note", c->name);
		if (!ok(r.out.len == strlen(mixed_text_only) &&
		            memcmp(r.out.s, mixed_text_only, r.out.len) == 0,
		        "%s: the rest is byte for byte the input", c->name))
			diag("note '%s'\n%s", r.res.note, buf_str(&r.out));
		run_free(&r);
	}
}

/* Things that must stay. */
static void
test_kept(void)
{
	static const char png[] = MIXED(
	    EXE_PART("image/png", "attachment; filename=\"map.png\"")
	        EXE_PART("application/pdf", "attachment; filename=a.pdf"));
	static const char png_only[] =
	    MIXED(EXE_PART("image/png", "attachment; filename=\"map.png\""));
	static const char look_alike[] = MIXED(
	    EXE_PART("application/octet-stream",
	             "attachment; filename=\"exe.txt\"")
	        EXE_PART("text/plain", "attachment; filename=\"notes.exe.txt\"")
	            EXE_PART("application/octet-stream",
	                     "attachment; filename=\"exe\""));
	static const char plain[] = HDR "Content-Type: text/plain\n"
	                                "\n"
	                                "Just text.\n";
	struct run r;

	run("png under image/*", png, &O_PASS, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(leaves(&r), "text/plain,image/png[map.png]") == 0,
	   "image/png kept, application/pdf removed under pass_types");
	ok(r.out.len == strlen(png_only) &&
	       memcmp(r.out.s, png_only, r.out.len) == 0,
	   "the kept parts are byte for byte the input");
	run_free(&r);

	run("look-alikes", look_alike, &O_ALL, &r);
	ok(r.rc == 0 && r.res.removed == 0 && !r.res.changed &&
	       r.out.len == strlen(look_alike),
	   "exe.txt, notes.exe.txt and a file called exe stay");
	is_str(r.res.note, "", "empty note when nothing was done");
	run_free(&r);

	run("plain", plain, &O_ALL, &r);
	ok(r.rc == 0 && !r.res.changed && r.res.removed == 0 &&
	       strcmp(buf_str(&r.out), plain) == 0,
	   "text/plain message: a byte copy");
	run_free(&r);

	run("plain under pass_types", plain, &O_PASS, &r);
	ok(r.rc == 0 && !r.res.changed && strcmp(buf_str(&r.out), plain) == 0,
	   "text/plain passes pass_types");
	run_free(&r);

	/* No options: a byte copy, even of MIME that cannot be split. */
	run("no options", HDR "Content-Type: multipart/mixed\n\nx\n", &O_NONE,
	    &r);
	ok(r.rc == 0 && !r.res.changed, "no options: byte copy");
	run_free(&r);

	/* out is appended to. */
	{
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct content_result res;

		buf_adds(&out, "KEEP");
		content_filter(plain, strlen(plain), &O_ALL, &out, &res, &err);
		ok(out.len == 4 + strlen(plain) &&
		       memcmp(out.s, "KEEP", 4) == 0,
		   "the result is appended to out");
		buf_free(&out);
		buf_free(&err);
	}
}

#define ALT_BODY                                                               \
	"--alt\n"                                                              \
	"Content-Type: text/plain; charset=utf-8\n"                            \
	"Content-Transfer-Encoding: quoted-printable\n"                        \
	"\n"                                                                   \
	"M=C3=B8de i morgen.\n"                                                \
	"--alt\n"                                                              \
	"Content-Type: text/html; charset=utf-8\n"                             \
	"\n"                                                                   \
	"<p>M\xc3\xb8"                                                         \
	"de i <b>morgen</b>.</p>\n"                                            \
	"--alt--\n"

static void
test_collapse(void)
{
	static const char alt[] =
	    HDR "Content-Type: multipart/alternative; boundary=alt\n"
	        "X-Mailer: test\n"
	        "\n" ALT_BODY;
	static const char alt_want[] =
	    HDR "X-Mailer: test\n"
	        "Content-Type: text/plain; charset=utf-8\n"
	        "Content-Transfer-Encoding: quoted-printable\n"
	        "\n"
	        "M=C3=B8de i morgen.\n";
	static const char no_plain[] =
	    HDR "Content-Type: multipart/alternative; boundary=alt\n"
	        "\n"
	        "--alt\n"
	        "Content-Type: text/html; charset=utf-8\n"
	        "\n"
	        "<p>Hello <i>all</i></p>\n"
	        "--alt\n"
	        "Content-Type: text/enriched\n"
	        "\n"
	        "Hello <italic>all</italic>\n"
	        "--alt--\n";
	static const char nested_alt[] =
	    MIXED("\n--b1\n"
	          "Content-Type: multipart/alternative; boundary=alt\n"
	          "\n" ALT_BODY);
	static const char nested_want[] =
	    MIXED("\n--b1\n"
	          "Content-Type: text/plain; charset=utf-8\n"
	          "Content-Transfer-Encoding: quoted-printable\n"
	          "\n"
	          "M=C3=B8de i morgen.");
	/* A multipart/mixed inside the alternative, with an exe in it. */
	static const char mixed_in_alt[] =
	    HDR "Content-Type: multipart/alternative; boundary=alt\n"
	        "\n"
	        "--alt\n"
	        "Content-Type: multipart/mixed; boundary=in\n"
	        "\n"
	        "--in\n"
	        "Content-Type: text/plain\n"
	        "\n"
	        "See attached.\n"
	        "--in\n"
	        "Content-Type: application/octet-stream\n"
	        "Content-Disposition: attachment; filename=setup.exe\n"
	        "\n"
	        "MZ\n"
	        "--in--\n"
	        "--alt\n"
	        "Content-Type: text/html\n"
	        "\n"
	        "<p>See attached.</p>\n"
	        "--alt--\n";
	struct run r;

	run("collapse", alt, &O_COLL, &r);
	ok(r.rc == 0 && r.res.changed && r.res.removed == 0,
	   "collapse: changed");
	if (!ok(strcmp(buf_str(&r.out), alt_want) == 0,
	        "collapse: the text/plain part's fields and body, the other "
	        "fields byte for byte"))
		diag("%s", buf_str(&r.out));
	is_str(r.res.note, "collapsed multipart/alternative", "collapse: note");
	ok(r.m && r.m->n_parts == 1 &&
	       strcmp(r.m->parts[0].text, "M\xc3\xb8"
	                                  "de i morgen.\n") == 0,
	   "collapse: a reader sees the plain text");
	run_free(&r);

	run("collapse without plain", no_plain, &O_COLL, &r);
	ok(r.rc == 0 && strcmp(leaves(&r), "text/html") == 0 &&
	       strstr(buf_str(&r.out), "<p>Hello <i>all</i></p>") != NULL,
	   "collapse without text/plain: the first part (HTML) stays");
	run_free(&r);

	run("collapse without plain, html", no_plain, &O_ALL, &r);
	ok(r.rc == 0 && strcmp(leaves(&r), "text/plain") == 0 && r.m &&
	       strcmp(r.m->parts[0].text, "Hello all\n") == 0,
	   "collapse without text/plain and html_to_text: text");
	ok(strstr(r.res.note, "collapsed multipart/alternative") &&
	       strstr(r.res.note, "converted text/html to text/plain"),
	   "note says both: %s", r.res.note);
	run_free(&r);

	run("nested alternative", nested_alt, &O_COLL, &r);
	if (!ok(r.rc == 0 && strcmp(buf_str(&r.out), nested_want) == 0,
	        "a nested alternative collapses in place"))
		diag("%s", buf_str(&r.out));
	run_free(&r);

	run("mixed in alternative", mixed_in_alt, &O_ALL, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(leaves(&r), "text/plain") == 0,
	   "mixed inside alternative: collapsed to the mixed, exe removed "
	   "(%s)",
	   leaves(&r));
	ok(r.m && strstr(msg_header(r.m, "content-type"), "multipart/mixed"),
	   "mixed inside alternative: top is now multipart/mixed");
	run_free(&r);

	run("mixed in alternative, no collapse", mixed_in_alt, &O_EXT, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(leaves(&r), "text/plain,text/html") == 0 && r.m &&
	       strstr(msg_header(r.m, "content-type"), "multipart/alternative"),
	   "mixed inside alternative without collapse: exe removed inside");
	run_free(&r);

	run("html alone leaves alternative", alt, &O_HTML, &r);
	ok(r.rc == 0 && strcmp(leaves(&r), "text/plain,text/plain") == 0 &&
	       strstr(buf_str(&r.out), "M=C3=B8de i morgen.\n--alt\n"),
	   "html_to_text alone: the HTML alternative becomes text, the "
	   "plain one is untouched");
	run_free(&r);
}

static void
test_html(void)
{
	/* ISO-8859-1, quoted-printable: "Møde på torsdag" with an entity. */
	static const char latin1[] =
	    HDR "Content-Type: text/html; charset=iso-8859-1\n"
	        "Content-Transfer-Encoding: quoted-printable\n"
	        "\n"
	        "<html><body><p>M=F8de p=E5 torsdag &amp; fredag</p>=\n"
	        "<p>Hilsen<br>Alice</p><script>x()</script></body></html>\n";
	static const char ascii[] =
	    "Subject: hi\r\n"
	    "Content-Type: text/html\r\n"
	    "Content-Disposition: inline\r\n"
	    "\r\n"
	    "<p>Hello <a href=\"https://example.org/\">there</a></p>\r\n";
	static const char ascii_want[] =
	    "Subject: hi\r\n"
	    "Content-Disposition: inline\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "Hello there <https://example.org/>\r\n";
	static const char in_mixed[] =
	    MIXED("\n--b1\n"
	          "Content-Type: text/html; charset=utf-8\n"
	          "Content-Transfer-Encoding: base64\n"
	          "Content-Disposition: attachment; filename=\"side.html\"\n"
	          "\n"
	          "PHA+SMOpasOlIMOmcnQ8L3A+\n");
	struct run r;

	run("html latin1 qp", latin1, &O_HTML, &r);
	ok(r.rc == 0 && r.res.changed && strcmp(leaves(&r), "text/plain") == 0,
	   "HTML-only mail becomes text/plain");
	ok(r.m && strcmp(r.m->parts[0].charset, "utf-8") == 0 &&
	       strcmp(r.m->parts[0].text,
	              "M\xc3\xb8"
	              "de p\xc3\xa5 torsdag & fredag\n\nHilsen\n"
	              "Alice\n") == 0,
	   "decoded from ISO-8859-1 and quoted-printable, rendered as text");
	ok(strstr(buf_str(&r.out), "Content-Transfer-Encoding: "
	                           "quoted-printable\n") &&
	       strstr(buf_str(&r.out), "M=C3=B8de p=C3=A5") &&
	       !strstr(buf_str(&r.out), "iso-8859-1"),
	   "re-encoded as UTF-8 quoted-printable");
	ok(strncmp(buf_str(&r.out), HDR, strlen(HDR)) == 0 &&
	       strstr(buf_str(&r.out), "MIME-Version") ==
	           strstr(buf_str(&r.out), HDR) + strlen(HDR) -
	               strlen("MIME-Version: 1.0\n") &&
	       strstr(strstr(buf_str(&r.out), "MIME-Version") + 1,
	              "MIME-Version") == NULL,
	   "the other fields stay byte for byte; no second MIME-Version");
	is_str(r.res.note, "converted text/html to text/plain", "html note");
	run_free(&r);

	run("html ascii crlf", ascii, &O_HTML, &r);
	if (!ok(r.rc == 0 && strcmp(buf_str(&r.out), ascii_want) == 0,
	        "ASCII HTML: 7bit, CRLF kept, MIME-Version added, "
	        "Content-Disposition kept"))
		diag("%s", buf_str(&r.out));
	run_free(&r);

	run("html attachment in mixed", in_mixed, &O_HTML, &r);
	ok(r.rc == 0 &&
	       strcmp(leaves(&r), "text/plain,text/plain[side.html]") == 0 &&
	       r.m &&
	       strcmp(r.m->parts[1].text, "H\xc3\xa9j\xc3\xa5 \xc3\xa6rt\n") ==
	           0,
	   "base64 HTML part in a mixed: converted, file name kept (%s)",
	   leaves(&r));
	ok(strncmp(buf_str(&r.out), mixed_text_only,
	           strlen(mixed_text_only) - strlen("\n--b1--\nepilogue\n")) ==
	       0,
	   "the parts before it are byte for byte the input");
	run_free(&r);

	run("html not asked", latin1, &O_EXT, &r);
	ok(r.rc == 0 && !r.res.changed, "html_to_text off: HTML stays");
	run_free(&r);
}

#define SIGNED                                                                 \
	HDR "Content-Type: multipart/signed; boundary=s;\n"                    \
	    " protocol=\"application/pgp-signature\"; micalg=pgp-sha256\n"     \
	    "\n"                                                               \
	    "--s\n"                                                            \
	    "Content-Type: multipart/alternative; boundary=alt\n"              \
	    "\n" ALT_BODY "\n"                                                 \
	    "--s\n"                                                            \
	    "Content-Type: application/pgp-signature; name=signature.asc\n"    \
	    "\n"                                                               \
	    "-----BEGIN PGP SIGNATURE-----\n"                                  \
	    "-----END PGP SIGNATURE-----\n"                                    \
	    "--s--\n"

static void
test_signed(void)
{
	static const char sig[] = SIGNED;
	static const char smime[] = HDR
	    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data;"
	    " name=smime.p7m\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "MIAGCSqGSIb3DQEHA6CAMIACAQAxggHXMIIB0wIBADCBujCBtDELMAkGA1UEBhMC"
	    "\n";
	static const char fwd_signed[] =
	    MIXED("\n--b1\n"
	          "Content-Type: multipart/signed; boundary=s2;"
	          " protocol=\"application/pgp-signature\"\n"
	          "\n"
	          "--s2\n"
	          "Content-Type: text/html\n"
	          "\n"
	          "<p>x</p>\n"
	          "--s2\n"
	          "Content-Type: application/pgp-signature\n"
	          "\n"
	          "sig\n"
	          "--s2--\n");
	static const char *const only_text[] = {"text/plain", NULL};
	const struct content_opts strict = {only_text, strip, exts, 1, 1};
	struct run r;

	run("signed", sig, &strict, &r);
	ok(r.rc == 0 && !r.res.changed && r.res.removed == 0 &&
	       strcmp(buf_str(&r.out), sig) == 0,
	   "multipart/signed: unchanged even when the rules would change it");
	ok(strstr(r.res.note, "multipart/signed") != NULL,
	   "signed: the note says so (%s)", r.res.note);
	run_free(&r);

	run("s/mime", smime, &strict, &r);
	ok(r.rc == 0 && !r.res.changed && !r.res.empty &&
	       strstr(r.res.note, "application/pkcs7-mime"),
	   "application/pkcs7-mime: unchanged");
	run_free(&r);

	run("nested signed", fwd_signed, &O_ALL, &r);
	ok(r.rc == 0 && !r.res.changed,
	   "a signed part inside a mixed is not entered (its HTML stays)");
	run_free(&r);
}

static void
test_empty(void)
{
	static const char exe[] =
	    HDR "Content-Type: application/x-msdownload; name=setup.exe\n"
	        "Content-Transfer-Encoding: base64\n"
	        "\n"
	        "TVqQAAMAAAAEAAAA\n";
	static const char only_exe[] =
	    HDR "Content-Type: multipart/mixed; boundary=b1\n"
	        "\n" EXE_PART("application/octet-stream",
	                      "attachment; filename=a.exe") "--b1--\n";
	static const char *const images[] = {"image/*", NULL};
	const struct content_opts img = {images, NULL, NULL, 0, 0};
	struct run r;

	run("top exe", exe, &O_ALL, &r);
	ok(r.rc == 0 && r.res.empty && r.res.removed == 1 && !r.res.changed &&
	       strcmp(buf_str(&r.out), exe) == 0,
	   "a single-part exe: empty, out is the input");
	ok(strstr(r.res.note, "nothing is left") != NULL, "empty note: %s",
	   r.res.note);
	run_free(&r);

	run("mixed of one exe", only_exe, &O_EXT, &r);
	ok(r.rc == 0 && r.res.empty && r.res.removed == 1,
	   "a mixed whose only part goes: empty");
	run_free(&r);

	run("pass_types without multipart", mixed_text_only, &img, &r);
	ok(r.rc == 0 && r.res.empty && r.res.removed == 1 &&
	       strstr(r.res.note, "multipart/mixed"),
	   "pass_types without multipart removes a multipart whole (as "
	   "Mailman)");
	run_free(&r);
}

static void
test_malformed(void)
{
	static const char no_close[] =
	    HDR "Content-Type: multipart/mixed; boundary=b1\n"
	        "\n" TEXT_PART EXE_PART("application/octet-stream",
	                                "attachment; filename=a.exe");
	static const char no_close_kept[] =
	    HDR "Content-Type: multipart/mixed; boundary=b1\n"
	        "\n" TEXT_PART EXE_PART("application/octet-stream",
	                                "attachment; filename=a.pdf")
	            EXE_PART("application/octet-stream",
	                     "attachment; filename=b.bat");
	static const char no_boundary[] = HDR
	    "Content-Type: multipart/mixed\n"
	    "\n" TEXT_PART EXE_PART("application/octet-stream",
	                            "attachment; filename=a.exe") "--b1--\n";
	static const char junk[] =
	    "no header at all\n\n--x\nContent-Type: text/html\n\n<p>a</p>\n";
	static const char alt_no_parts[] =
	    HDR "Content-Type: multipart/alternative; boundary=alt\n"
	        "\n"
	        "-- alt\n"
	        "<p>x</p>\n";
	static const char empty[] = "";
	static const char noblank[] = "Content-Type: text/html\n<b>x</b>";
	struct run r;

	run("missing close delimiter", no_close, &O_ALL, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(leaves(&r), "text/plain") == 0,
	   "missing close delimiter: read to the end, exe removed");
	ok(r.out.len > 7 &&
	       strcmp(buf_str(&r.out) + r.out.len - 7, "\n--b1--\n") != 0 &&
	       strcmp(buf_str(&r.out) + r.out.len - 7, "--b1--\n") == 0,
	   "the close delimiter is added");
	run_free(&r);

	run("missing close, last kept", no_close_kept, &O_ALL, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(leaves(&r),
	              "text/plain,application/octet-stream[a.pdf]") == 0,
	   "missing close, exe in the middle removed (%s)", leaves(&r));
	run_free(&r);

	run("missing boundary", no_boundary, &O_ALL, &r);
	ok(r.rc == -1 && strstr(buf_str(&r.err), "boundary"),
	   "missing boundary parameter: -1 (%s)", buf_str(&r.err));
	run_free(&r);

	run("junk", junk, &O_ALL, &r);
	ok(r.rc == 0 && !r.res.changed, "no header block: text, unchanged");
	run_free(&r);

	run("alternative without parts", alt_no_parts, &O_ALL, &r);
	ok(r.rc == 0 && !r.res.changed && !r.res.empty,
	   "an alternative where no delimiter matches: unchanged, not empty");
	run_free(&r);

	run("empty input", empty, &O_ALL, &r);
	ok(r.rc == 0 && !r.res.changed && r.out.len == 0, "empty input");
	run_free(&r);

	run("no blank line", noblank, &O_ALL, &r);
	ok(r.rc == 0 && r.res.changed && strcmp(leaves(&r), "text/plain") == 0,
	   "HTML with no blank line after its header: converted");
	run_free(&r);
}

static void
test_limits(void)
{
	struct buf b = BUF_INIT;
	struct run r;
	int i;

	/* 30 levels of multipart/mixed. */
	buf_adds(&b, "Subject: deep\n");
	for (i = 0; i < 30; i++)
		buf_printf(&b,
		           "Content-Type: multipart/mixed; boundary=d%d\n"
		           "\n--d%d\n",
		           i, i);
	buf_adds(&b, "Content-Type: application/octet-stream; name=x.exe\n\n"
	             "MZ\n");
	run("deep", buf_str(&b), &O_EXT, &r);
	ok(r.rc == -1 && strstr(buf_str(&r.err), "nested"),
	   "30 levels deep: -1 (%s)", buf_str(&r.err));
	run_free(&r);

	/* 20 levels are fine. */
	buf_reset(&b);
	buf_adds(&b, "Subject: deep\n");
	for (i = 0; i < 19; i++)
		buf_printf(&b,
		           "Content-Type: multipart/mixed; boundary=d%d\n"
		           "\n--d%d\n",
		           i, i);
	buf_adds(&b, "Content-Type: text/plain\n\nhi\n--d18\n"
	             "Content-Type: application/octet-stream; name=x.exe\n\n"
	             "MZ\n");
	run("19 deep", buf_str(&b), &O_EXT, &r);
	ok(r.rc == 0 && r.res.removed == 1 && r.res.changed,
	   "19 levels deep: filtered (%s)", buf_str(&r.err));
	run_free(&r);

	/* 5000 parts. */
	buf_reset(&b);
	buf_adds(&b, "Subject: many\nContent-Type: multipart/mixed; "
	             "boundary=m\n\n");
	for (i = 0; i < 5000; i++)
		buf_printf(&b, "--m\nContent-Type: text/plain\n\n%d\n", i);
	buf_adds(&b, "--m--\n");
	run("5000 parts", buf_str(&b), &O_ALL, &r);
	ok(r.rc == -1 && strstr(buf_str(&r.err), "parts"),
	   "5000 parts: -1 (%s)", buf_str(&r.err));
	run_free(&r);

	/* 5000 empty containers. */
	buf_reset(&b);
	buf_adds(&b, "Subject: many\nContent-Type: multipart/mixed; "
	             "boundary=m\n\n");
	for (i = 0; i < 20000; i++)
		buf_adds(
		    &b, "--m\nContent-Type: multipart/mixed; boundary=z\n\n\n");
	buf_adds(&b, "--m--\n");
	run("20000 empty multiparts", buf_str(&b), &O_ALL, &r);
	ok(r.rc == -1, "20000 empty multiparts: -1 (%s)", buf_str(&r.err));
	run_free(&r);

	/* Too large. */
	{
		struct buf out = BUF_INIT, err = BUF_INIT;
		struct content_result res;
		size_t n = msg_default_limits.max_size + 1;
		char *big = xcalloc(1, n);

		ok(content_filter(big, n, &O_ALL, &out, &res, &err) == -1 &&
		       out.len == 0,
		   "larger than max_size: -1 (%s)", buf_str(&err));
		free(big);
		buf_free(&out);
		buf_free(&err);
	}
	buf_free(&b);
}

static void
test_rfc822(void)
{
	static const char fwd[] =
	    MIXED("\n--b1\n"
	          "Content-Type: message/rfc822\n"
	          "\n"
	          "From: Bob <bob@example.net>\n"
	          "Subject: the invoice\n"
	          "Content-Type: multipart/mixed; boundary=inner\n"
	          "\n"
	          "--inner\n"
	          "Content-Type: text/plain\n"
	          "\n"
	          "Pay this.\n"
	          "--inner\n"
	          "Content-Type: application/octet-stream; name=pay.exe\n"
	          "\n"
	          "MZ\n"
	          "--inner--\n");
	static const char *const no_msg[] = {"text/*", "multipart/*", NULL};
	const struct content_opts nm = {no_msg, NULL, NULL, 0, 0};
	struct run r;

	run("forwarded", fwd, &O_EXT, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(leaves(&r), "text/plain,text/plain") == 0 &&
	       strstr(buf_str(&r.out), "From: Bob <bob@example.net>\n"
	                               "Subject: the invoice\n"),
	   "an exe inside a forwarded message is removed, its header stays");
	run_free(&r);

	run("forwarded, not passed", fwd, &nm, &r);
	ok(r.rc == 0 && r.res.removed == 1 &&
	       strcmp(buf_str(&r.out), mixed_text_only) == 0,
	   "message/rfc822 outside pass_types: removed whole");
	run_free(&r);
}

int
main(void)
{
	test_removals();
	test_kept();
	test_collapse();
	test_html();
	test_signed();
	test_empty();
	test_malformed();
	test_limits();
	test_rfc822();
	return done_testing();
}
