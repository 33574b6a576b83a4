/*
 * msg_test.c - tests for the message model (mlmd/msg.c, msg_charset.c).
 *
 * Tables of fixtures from t/data/msg/ (copied from the shared corpus; see
 * t/data/README) with what a reader of each file expects: subject, From,
 * ids, dates, and per part the type, charset, filename, depth and a piece
 * of the decoded text.  The expectations were written by reading the
 * files, not by running the parser.  Then RFC 2047 decoding, addresses,
 * ids, dates, the limits (on messages generated here: too many or too
 * long headers, 10,000-deep nesting, too many parts, oversize), and an
 * invariant check (valid UTF-8, safe filenames) on every result.
 *
 * With MLMD_CORPUS=/path/to/corpus set, every message file under it is
 * also parsed (make check only reads t/data).
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "msg.h"
#include "tap.h"
#include "util.h"

#define FFFD      "\xef\xbf\xbd"
#define SKIP_DATE (-1)

/* Independent of msg_charset.c on purpose. */
static int
utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		unsigned c = *u;
		int l, i;

		if (c < 0x80) {
			u++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			l = 2;
		else if (c >= 0xe0 && c <= 0xef)
			l = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			l = 4;
		else
			return 0;
		for (i = 1; i < l; i++)
			if ((u[i] & 0xc0) != 0x80)
				return 0;
		if ((c == 0xe0 && u[1] < 0xa0) || (c == 0xed && u[1] >= 0xa0) ||
		    (c == 0xf0 && u[1] < 0x90) || (c == 0xf4 && u[1] >= 0x90))
			return 0;
		u += l;
	}
	return 1;
}

/* What msg.h promises for every parsed message.  Returns 1 if it holds. */
static int
invariants(const struct msg *m, const char **why)
{
	size_t i;

#define NEED(cond, what)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			*why = what;                                           \
			return 0;                                              \
		}                                                              \
	} while (0)
	NEED(utf8_ok(m->subject), "subject UTF-8");
	NEED(utf8_ok(m->from.name) && utf8_ok(m->from.addr), "from UTF-8");
	NEED(utf8_ok(m->sender.name) && utf8_ok(m->sender.addr), "sender");
	NEED(utf8_ok(m->message_id) && utf8_ok(m->in_reply_to), "ids UTF-8");
	for (i = 0; i < m->n_references; i++)
		NEED(utf8_ok(m->references[i]), "references UTF-8");
	for (i = 0; i < m->n_headers; i++)
		NEED(utf8_ok(m->headers[i].value) &&
		         strchr(m->headers[i].value, '\n') == NULL,
		     "header value UTF-8, one line");
	for (i = 0; i < m->n_to; i++)
		NEED(utf8_ok(m->to[i].name) && utf8_ok(m->to[i].addr), "to");
	for (i = 0; i < m->n_cc; i++)
		NEED(utf8_ok(m->cc[i].name) && utf8_ok(m->cc[i].addr), "cc");
	for (i = 0; i < m->n_parts; i++) {
		const struct msg_part *p = &m->parts[i];

		NEED(utf8_ok(p->type) && utf8_ok(p->charset), "part type");
		NEED(utf8_ok(p->filename), "filename UTF-8");
		NEED(strchr(p->filename, '/') == NULL &&
		         strchr(p->filename, '\\') == NULL &&
		         p->filename[0] != '.' && p->filename[0] != ' ',
		     "filename is no path");
		NEED(p->text == NULL ||
		         (utf8_ok(p->text) && strlen(p->text) == p->text_len),
		     "text UTF-8 without NUL");
		NEED(p->body + p->body_len <= m->raw + m->raw_len &&
		         p->body >= m->raw,
		     "body inside raw");
	}
	return 1;
#undef NEED
}

static int
load(const char *name, struct buf *b)
{
	const char *top = getenv("top_srcdir");
	struct buf path = BUF_INIT;
	int rc;

	buf_printf(&path, "%s/t/data/msg/%s", top ? top : "..", name);
	rc = read_file(buf_str(&path), b);
	buf_free(&path);
	return rc;
}

static struct msg *
parse_file(const char *name)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct msg *m = NULL;
	const char *why = "";

	if (load(name, &b) < 0) {
		ok(0, "%s: read", name);
		return NULL;
	}
	if (msg_parse(buf_str(&b), b.len, &msg_default_limits, &m, &err) < 0) {
		ok(0, "%s: parse (%s)", name, buf_str(&err));
		m = NULL;
	} else {
		ok(invariants(m, &why), "%s: parses, invariants (%s)", name,
		   why);
	}
	buf_free(&b);
	buf_free(&err);
	return m;
}

/* ---- fixtures: headers -------------------------------------------------- */

static const struct {
	const char *file;
	const char *subject;
	const char *from_name, *from_addr;
	const char *message_id, *in_reply_to;
	int n_refs;
	int n_parts;
	long long date; /* SKIP_DATE: not checked */
} fx[] = {
    {"mp-legacy-045.eml", "Die Hasen und die Fr\xc3\xb6sche", "Doug Sauder",
     "doug@penguin.example.com",
     "Pine.LNX.4.21.0005191024380.8452-200000@penguin.example.com", "", 0, 2,
     958746372},
    {"mp-legacy-010.eml", "Die Hasen und die Fr\xc3\xb6sche", "Doug Sauder",
     "dwsauder@example.com", "4.2.0.58.20000519010842.00a8c7f0@pop.example.com",
     "", 0, 1, 958713027},
    {"mp-legacy-012.eml",
     "Die Hasen und die Fr\xc3\xb6sche (Microsoft Outlook 00)", "Doug Sauder",
     "doug@example.com", "NDBBIAKOPKHFGPLCODIGCEKECHAA.doug@example.com", "", 0,
     1, 958606220},
    {"mp-legacy-001.eml",
     "Die Hasen und die Fr\xc3\xb6sche (Microsoft Outlook 00)", "Doug Sauder",
     "doug@example.com", "NDBBIAKOPKHFGPLCODIGMEKCCHAA.doug@example.com", "", 0,
     1, 958605519},
    {"mp-legacy-003.eml", "Die Hasen und die Fr\xc3\xb6sche", "Doug Sauder",
     "dwsauder@example.com", "4.2.0.58.20000519002557.00a88870@pop.example.com",
     "", 0, 2, 958710595},
    {"mp-rfc-000.eml", "A multipart example", "Nathaniel Borenstein",
     "nsb@nsb.fv.com", "", "", 0, 6, 781571705},
    {"mp-thirdparty-002.eml", "", "", "", "", "", 0, 3, 0},
    {"mp-malformed-000.eml", "", "", "", "", "", 0, 3, 0},
    {"mp-malformed-002.eml", "", "", "", "", "", 0, 1, 0},
    {"mp-malformed-006.eml", "", "", "", "", "", 0, 1, 0},
    {"mp-malformed-009.eml", "", "", "", "", "", 0, 3, 0},
    {"mp-malformed-013.eml", "", "", "", "", "", 0, 4, 0},
    {"mp-malformed-015.eml", "Hello world", "Test User", "test@example.org",
     "1.2.3.4@example", "", 0, 2, 1179885488},
    {"mp-malformed-016.eml", "", "", "", "", "", 0, 2, 0},
    {"mu-mail6.eml", "eyes of a stranger", "Geoff Tate", "jeff@example.com",
     "3BE9E6535E302944823E7A1A20D852173@msg.id", "", 0, 1, 1217530645},
    {"mu-rfc822-1.eml", "Fwd: rfc822", "foobar", "foo@example.com",
     "1077300332.871.27.camel@example.com", "", 0, 2, 1077300333},
    /* Message-Id without <> */
    {"mu-cjk-test1.eml", "CJK 1", "Bob", "bob@builder.com",
     "112342343e9dfo.fsf@builder.com", "", 0, 1, 1637217334},
    /* calendar invitation, no Message-ID, outer multipart not closed */
    {"tb-single-event.eml",
     "Invitation: Single Event @ Wed, Mar 16 2022 11:00 AST", "Sender",
     "sender@example.com", "", "", 0, 2, 1647458162},
    /* koi8-r B word ending in a line break */
    {"tb-sample04.eml",
     "\xd0\x90\xd0\xbb\xd1\x84\xd0\xb0\xd0\xb2\xd0\xb8\xd1\x82", "Bug Reporter",
     "new@thunderbird.bug", "04.eml@mime.sample", "", 0, 1, 990995015},
    /* DSN; the returned message is empty */
    {"sisimai-lhost-postfix-01.eml", "Undelivered Mail Returned to Sender", "",
     "mailer-daemon@p351355.pool.example.ne.jp",
     "20130429234532.00000000000@p351355.pool.example.ne.jp", "", 0, 2,
     1367246732},
    /* CRLF; From: MAILER-DAEMON <> */
    {"sisimai-lhost-dragonfly-12.eml", "Mail delivery failed", "MAILER-DAEMON",
     "", "e0728@df.example.jp", "", 0, 1, 1718098533},
    /* two-digit year */
    {"pi-iso-2202-jp.eml", "[ruby-dev:4]", "", "matz@example.com",
     "199707281508.AAA24167@hoyogw.example", "", 0, 1, 870102509},
    /* Message-Id with a space and a nested <> */
    {"tine-non-multipart.eml", "Notification", "Gelbes Branchenbuch",
     "info@somemail.com",
     "1486491148-d777f4e4d090c3d7ea13816f80cb8131GelbesBranchenbuch"
     "<info@somemail.com>",
     "", 0, 1, 1486491148},
    {"tine-multipart-rfc2822-3.eml",
     "Fwd: [Officespot-cs-svn] r15209 - trunk/tine20/Tinebase", "Lars Kneschke",
     "l.kneschke@metaways.de", "4C2C5CFC.3050801@metaways.de", "", 0, 2,
     1277975804},
    {"obmc-00048.eml",
     "Re: ikvm refresh failed on host screen 1680x1050 resolution",
     "Jae Hyun Yoo", "jae.hyun.yoo@linux.intel.com",
     "fd4d422e-402d-d7fe-f743-f2d967b2cac8@linux.intel.com",
     "tencent_5FB0BF811DCC8BEA504F5A8F@qq.com", 1, 1, 1556645575},
    /* big5 B word in From */
    {"obmc-00097.eml", "A question about phosphor-sel-logger",
     "Will Liang (\xe6\xa2\x81\xe6\xb0\xb8\xe9\x89\x89)",
     "will.liang@quantatw.com", "f68b269b1a854bfabfb021c1ae1955cc@quantatw.com",
     "", 0, 1, 1556764617},
    /* gb2312 B word in From; References with a comma */
    {"obmc-00173.eml", "Re: How to configure dram memory size",
     "John wang(\xe7\x8e\x8b\xe5\xbf\x97\xe5\xbc\xba)", "wangzqbj@inspur.com",
     "xliob3qoncilrmx1o0xj6k90.1557322336549@email.jadenine.com",
     "CACPK8XfkXmi2PmnmWv_Vev=JoG9LgYfNgA-V78mRKNrmSRC3dA@mail.gmail.com", 2, 1,
     1557322669},
    {"obmc-00413.eml",
     "Re: Questions about changing default username or password",
     "Thomaiyar, Richard Marian", "richard.marian.thomaiyar@linux.intel.com",
     "680f0ea6-c986-42f2-1185-dcd62c7db1ba@linux.intel.com",
     "FF401BD5-4C8A-4F01-8B6B-3138E4A458DB@inspur.com", 1, 1, 1559499925},
    {"obmc-00695.eml", "RE: Platform telemetry and health monitoring",
     "Neeraj Ladkani", "neladk@microsoft.com",
     "BN8PR21MB1185164BABEA17A3DBE80F17C8E00@BN8PR21MB1185.namprd21.prod."
     "outlook.com",
     "", 0, 2, 1561363591},
    /* iso-2022-jp B words over a fold */
    {"obmc-01890.eml",
     "\xe5\x9b\x9e\xe6\x94\xb6: phosphor-ipmi-flash: A problem in BMC FW "
     "update over LPC",
     "CS20 CTCchien", "ctcchien@nuvoton.com",
     "HK0PR03MB5123490BEC19882216BC206BDFB90@HK0PR03MB5123.apcprd03.prod."
     "outlook.com",
     "", 0, 1, 1567499680},
    /* UTF-8 Q word with =20; folded Subject */
    {"obmc-08439.eml",
     "[PATCH] dt-bindings: timer: nuvoton: Clarify that interrupt of timer "
     "0 should be specified",
     "Jonathan Neusch\xc3\xa4"
     "fer",
     "j.neuschaefer@gmx.net", "20210108122804.359258-1-j.neuschaefer@gmx.net",
     "", 0, 1, 1610108883},
    /* malformed References (commas), iso-8859-3 Q word in From */
    {"obmc-15573.eml", "Ynt: Ynt: Ynt: (External) Re: Adding Inventory",
     "O\xc4\x9fuzhan \xc3\x87"
     "A\xc4\x9eLAR",
     "oguzhan.caglar@pavotek.com.tr",
     "615cc43556cb43b1926482f7a78fc75f@pavotek.com.tr",
     "fe14142bd0ce01238f87262c107b5c71425c3ab8.camel@yadro.com", 6, 2,
     1660566994},
    /* bogus charset "y" */
    {"obmc-17809.eml",
     "[PATCH linux dev-6.1 v2 2/2] dt-bindings: hwmon: add MAX31790 and "
     "INA233 binding documents",
     "Delphine CC Chiu", "delphine_cc_chiu@wiwynn.com",
     "20230911014436.2036176-3-Delphine_CC_Chiu@wiwynn.com",
     "20230911014436.2036176-1-Delphine_CC_Chiu@wiwynn.com", 1, 1, 1694396676},
    {"obmc-18875.eml", "Re: CLA signed", "Andrew Geissler",
     "geissonator@gmail.com",
     "CALLMt=q_0QocTerVF3WGHe9omfc0fzpM+AbMfnsm5B58ozRH5Q@mail.gmail.com",
     "CAMrvLCQ8=F8KV2yRrM2r7BWu1Gb9J0p6n9Y5BZ4h16dUy6HD2g@mail.gmail.com", 2, 1,
     1709214507},
    /* Arabic UTF-8 B subject */
    {"obmc-21093.eml",
     "\xd8\xb4\xd9\x87\xd8\xa7\xd8\xaf\xd8\xa9 \xd8\xa7\xd9\x84\xd8\xa3"
     "\xd8\xa8\xd9\x88\xd8\xa9 \xd9\x81\xd9\x8a \xd8\xa7\xd9\x84\xd9\x85"
     "\xd8\xba\xd8\xb1\xd8\xa8",
     "walid falcon", "pikolasikolatest2@gmail.com",
     "CAEDhREoCTKLdDD47bpTm1r3nFgiNqxT+Zs5N0zxmBg5NMiqBzw@mail.gmail.com", "",
     0, 2, 1754593318},
    /* In-Reply-To with a trailing comment */
    {"notmuch-default-09.eml", "[notmuch] Working with Maildir storage?",
     "Mikhail Gusarov", "dottedmag@dottedmag.net",
     "87fx8can9z.fsf@vertex.dottedmag",
     "20091117203301.GV3165@dottiness.seas.harvard.edu", 3, 1, 1258491048},
    {"h-filenames.eml", "files", "Mallory", "mallory@example.org",
     "files-1@example.org", "", 0, 9, 1704067200},
    {"h-badutf8.eml", "line break" FFFD "nul and \xc3\xbf\xc3\xbe raw",
     "Bad " FFFD " Name", "bad@example.org", "bad-utf8@example.org", "", 0, 3,
     0},
    {"h-digest.eml", "Digest, Vol 1", "Nordic Digest", "digest@example.org",
     "digest-1@example.org", "", 0, 2, 0},
};

/* ---- fixtures: parts ---------------------------------------------------- */

static const struct {
	const char *file;
	int i;
	const char *type, *charset, *filename;
	int att, depth;
	const char *text; /* a piece of the text; NULL: text must be NULL */
	long size;        /* decoded size, -1: not checked */
} px[] = {
    {"mp-legacy-045.eml", 0, "text/plain", "us-ascii", "", 0, 1, "", 0},
    /* RFC 2231 filename*= in ISO-8859-1, base64 body */
    {"mp-legacy-045.eml", 1, "text/plain", "iso-8859-1",
     "HasenundFr\xc3\xb6sche.txt", 1, 1, "Die Hasen und die Fr\xc3\xb6sche",
     -1},
    /* 8-bit ISO-8859-1 body */
    {"mp-legacy-010.eml", 0, "text/plain", "iso-8859-1", "", 0, 0,
     "Die Hasen klagten einst \xc3\xbc"
     "ber ihre mi\xc3\x9fliche Lage",
     -1},
    /* QP windows-1252, soft line break */
    {"mp-legacy-012.eml", 0, "text/plain", "windows-1252", "", 0, 0,
     "Angst ist \xc3\xa4rger als der Tod selbst", -1},
    /* UTF-7 */
    {"mp-legacy-001.eml", 0, "text/plain", "utf-7", "", 0, 0,
     "einst \xc3\xbc"
     "ber ihre mi\xc3\x9fliche Lage",
     -1},
    /* multipart/alternative */
    {"mp-legacy-003.eml", 0, "text/plain", "iso-8859-1", "", 0, 1,
     "mi\xc3\x9fliche Lage; \"wir leben\", sprach ein Redner", -1},
    {"mp-legacy-003.eml", 1, "text/html", "iso-8859-1", "", 0, 1,
     "Fr\xc3\xb6sche<br>", -1},
    /* RFC 2046 example: implicit type, parallel, message/rfc822 */
    {"mp-rfc-000.eml", 0, "text/plain", "", "", 0, 1,
     "... Some text appears here ...", -1},
    {"mp-rfc-000.eml", 1, "text/plain", "us-ascii", "", 0, 1,
     "explicit versus implicit typing", -1},
    {"mp-rfc-000.eml", 2, "audio/basic", "", "", 0, 2, NULL, -1},
    {"mp-rfc-000.eml", 3, "image/jpeg", "", "", 0, 2, NULL, -1},
    {"mp-rfc-000.eml", 4, "text/enriched", "", "", 0, 1,
     "<bold><italic>enriched.</italic></bold>", -1},
    {"mp-rfc-000.eml", 5, "text/plain", "iso-8859-1", "", 0, 2,
     "... Additional text in ISO-8859-1 goes here ...", -1},
    /* QP UTF-8, base64 with trailing junk, base64 garbage */
    {"mp-thirdparty-002.eml", 0, "text/plain", "utf-8", "", 0, 1,
     "p\xc3\xa4iv\xc3\xa4\xc3\xa4", -1},
    {"mp-thirdparty-002.eml", 1, "text/plain", "utf-8", "", 0, 1,
     "y\xc3\xb6t\xc3\xa4 vaan.", -1},
    {"mp-thirdparty-002.eml", 2, "text/plain", "utf-8", "", 0, 1, "", -1},
    /* broken MIME (Dovecot's cases) */
    {"mp-malformed-000.eml", 0, "text/plain", "", "", 0, 1, "", 0},
    {"mp-malformed-000.eml", 2, "text/html", "", "", 0, 1, "", 0},
    {"mp-malformed-002.eml", 0, "text/plain", "", "", 0, 0, "body", -1},
    {"mp-malformed-006.eml", 0, "text/plain", "", "", 0, 2, "body", -1},
    {"mp-malformed-009.eml", 0, "text/plain", "", "", 0, 2, "1", 1},
    {"mp-malformed-009.eml", 1, "text/plain", "", "", 0, 2, "22", 2},
    {"mp-malformed-009.eml", 2, "text/plain", "", "", 0, 1, "333", -1},
    {"mp-malformed-013.eml", 3, "text/plain", "", "", 0, 1, "hello, world", -1},
    {"mp-malformed-015.eml", 0, "text/plain", "", "", 0, 1,
     "There was a day \na happy day", -1},
    {"mp-malformed-015.eml", 1, "application/pgp-signature", "",
     "signature.asc", 1, 1, NULL, -1},
    {"mp-malformed-016.eml", 0, "text/plain", "", "", 0, 3, "1", 1},
    {"mp-malformed-016.eml", 1, "text/plain", "", "", 0, 1, "22", -1},
    {"mu-mail6.eml", 0, "text/plain", "us-ascii", "", 0, 0,
     "Into the eyes of a stranger", -1},
    /* message/rfc822 */
    {"mu-rfc822-1.eml", 0, "text/plain", "", "", 0, 1,
     "Hello world, forwarding some RFC822 message", -1},
    {"mu-rfc822-1.eml", 1, "text/plain", "iso-8859-1", "", 0, 2,
     "The ship drew on and had safely passed the strait", -1},
    /* raw UTF-8 body with no Content-Type */
    {"mu-cjk-test1.eml", 0, "text/plain", "", "", 0, 0,
     "\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x90\xe3\x81\x8c\xe3\x83\x80\xe3\x82"
     "\xa6\xe3\x83\xb3\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x97\xe3\x81\x9f",
     -1},
    /* calendar: QP text/calendar */
    {"tb-single-event.eml", 0, "text/plain", "utf-8", "", 0, 2,
     "Single Event\n\nWhen:", -1},
    {"tb-single-event.eml", 1, "text/calendar", "utf-8", "", 0, 2,
     "ORGANIZER;CN=Sender;\n EMAIL=sender@example.com", -1},
    {"tb-sample04.eml", 0, "text/plain", "koi8-r", "", 0, 0,
     "\xd0\x92\xd0\xbe\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81", -1},
    /* DSN parts */
    {"sisimai-lhost-postfix-01.eml", 0, "text/plain", "us-ascii", "", 0, 1,
     "your message could not\nbe delivered", -1},
    {"sisimai-lhost-postfix-01.eml", 1, "message/delivery-status", "", "", 0, 1,
     "Status: 5.1.1", -1},
    {"sisimai-lhost-dragonfly-12.eml", 0, "text/plain", "", "", 0, 0,
     "Recipient address rejected: Mailbox full.", -1},
    {"pi-iso-2202-jp.eml", 0, "text/plain", "iso-2022-jp", "", 0, 0,
     "\xe3\x81\x91\xe3\x81\x84\xe3\x81\x98\xe3\x82\x85\xef\xbc\xa0\xe4\xbb"
     "\x8a\xe3\x81\xaf\xe3\x83\x95\xe3\x83\xaa\xe3\x83\xbc",
     -1},
    {"tine-non-multipart.eml", 0, "text/html", "us-ascii", "", 0, 0,
     "<b>Code:&nbsp;</b>111111", -1},
    {"tine-multipart-rfc2822-3.eml", 0, "text/plain", "iso-8859-1", "", 0, 1,
     "Test for parsing forwarded emails.", -1},
    {"tine-multipart-rfc2822-3.eml", 1, "text/plain", "iso-8859-1", "", 0, 2,
     "this is base64 encoded", 22},
    /* windows-1252 no-break spaces */
    {"obmc-00048.eml", 0, "text/plain", "windows-1252", "", 0, 0,
     ">  \xc2\xa0 \xc2\xa0 Did you reproduce the resolution issue?", -1},
    {"obmc-00097.eml", 0, "text/plain", "big5", "", 0, 0,
     "Our BMC is using package \"phosphor-sel-logger\"", -1},
    {"obmc-00173.eml", 0, "text/plain", "gb2312", "", 0, 0,
     "\xe5\x8f\x91\xe4\xbb\xb6\xe4\xba\xba\xef\xbc\x9a"
     "Joel Stanley",
     -1},
    {"obmc-00413.eml", 0, "text/plain", "gbk", "", 0, 0,
     "Simon Zhu(\xe6\x9c\xb1\xe8\x8b\xb1\xe6\xbe\x8d) wrote:", -1},
    {"obmc-00695.eml", 0, "text/plain", "ks_c_5601-1987", "", 0, 1,
     "keep tomorrow\xe2\x80\x99s meeting at original time", -1},
    {"obmc-01890.eml", 0, "text/plain", "iso-2022-jp", "", 0, 0,
     "\xe5\xb8\x8c\xe6\x9c\x9b\xe5\x9b\x9e\xe6\x94\xb6", -1},
    {"obmc-08439.eml", 0, "text/plain", "utf-8", "", 0, 0,
     "The NPCM750 Timer/Watchdoc Controller", -1},
    {"obmc-15573.eml", 0, "text/plain", "iso-8859-3", "", 0, 1,
     "I successfully built it now. Why do I get this error?", -1},
    {"obmc-15573.eml", 1, "text/html", "iso-8859-3", "", 0, 1, "<html", -1},
    {"obmc-17809.eml", 0, "text/plain", "y", "", 0, 0,
     "The outputs drive \xe2\x80\x9c"
     "4-wire\xe2\x80\x9d fans directly",
     -1},
    {"obmc-18875.eml", 0, "text/plain", "utf-8", "", 0, 0,
     "\xc3\x93mar H\xc3\xb6gni Gu\xc3\xb0marsson <omar@rolla.me> wrote:", -1},
    {"obmc-21093.eml", 0, "text/plain", "utf-8", "", 0, 1,
     "\xd8\xb4\xd9\x87\xd8\xa7\xd8\xaf\xd8\xa9 \xd8\xa7\xd9\x84\xd8\xa3"
     "\xd8\xa8\xd9\x88\xd8\xa9 \xd8\xa8\xd8\xa7\xd9\x84\xd9\x85\xd8\xba"
     "\xd8\xb1\xd8\xa8",
     -1},
    {"notmuch-default-09.eml", 0, "text/plain", "", "", 0, 0,
     "Just has been pushed", -1},
    /* hostile names: never a path */
    {"h-filenames.eml", 0, "text/plain", "utf-8", "", 0, 1, "see attached", -1},
    {"h-filenames.eml", 1, "application/octet-stream", "", "passwd", 1, 1, NULL,
     11},
    {"h-filenames.eml", 2, "application/octet-stream", "", "evil.exe", 1, 1,
     NULL, -1},
    {"h-filenames.eml", 3, "application/octet-stream", "", "bashrc", 1, 1, NULL,
     -1},
    {"h-filenames.eml", 4, "application/octet-stream", "", "invoicefdp.exe", 1,
     1, NULL, -1},
    {"h-filenames.eml", 5, "text/plain", "us-ascii",
     "\xe2\x82\xac rate list.txt", 1, 1, "rates", -1},
    {"h-filenames.eml", 6, "application/octet-stream", "", "a%00b cname.bin", 1,
     1, NULL, -1},
    {"h-filenames.eml", 7, "application/octet-stream", "", "_", 1, 1, NULL, -1},
    {"h-filenames.eml", 8, "image/png", "",
     "r\xc3\xb8"
     "dgr\xc3\xb8"
     "d.png",
     1, 1, NULL, -1},
    /* invalid UTF-8, NUL, unknown and odd charsets */
    {"h-badutf8.eml", 0, "text/plain", "utf-8", "", 0, 1,
     "ok \xc3\xa6 bad " FFFD FFFD " surrogate " FFFD FFFD FFFD " nul " FFFD
     " end",
     -1},
    {"h-badutf8.eml", 1, "text/plain", "x-no-such-charset", "", 0, 1,
     "unknown K\xc3\xb8"
     "benhavn",
     -1},
    {"h-badutf8.eml", 2, "text/plain", "utf-8//translit", "", 0, 1,
     "odd charset \xc3\xa5", -1},
    /* multipart/digest: parts default to message/rfc822 */
    {"h-digest.eml", 0, "text/plain", "windows-1252", "", 0, 2,
     "Hej, vi ses i K\xc3\xb8"
     "benhavn \xe2\x80\x93 p\xc3\xa5 l\xc3\xb8rdag.",
     -1},
    {"h-digest.eml", 1, "text/plain", "iso-8859-15", "", 0, 2,
     "Hinta on 10 \xe2\x82\xac, n\xc3\xa4hd\xc3\xa4\xc3\xa4n "
     "Helsingiss\xc3\xa4.",
     -1},
};

/* ---- fixtures: other headers and recipients ----------------------------- */

static const struct {
	const char *file;
	const char *header; /* a header name, or "to:N" for m->to[N] */
	const char *want;   /* decoded value, or "name|addr" for to:N */
} hx[] = {
    /* raw UTF-8 in a header */
    {"mu-mail6.eml", "X-label",
     "@NextActions operation:mindcrime Queensr\xc3\xbf"
     "che"},
    /* raw ISO-8859-1 in a header */
    {"mp-legacy-010.eml", "To", "Heinz M\xc3\xbcller <mueller@example.com>"},
    {"mp-legacy-010.eml", "to:0", "Heinz M\xc3\xbcller|mueller@example.com"},
    {"mp-legacy-045.eml", "to:0", "Joe Blow|blow@example.com"},
    {"mp-legacy-045.eml", "to:1", "Heinz M\xc3\xbcller|mueller@example.com"},
    {"mp-legacy-001.eml", "to:1",
     "J\xc3\xbcrgen Schm\xc3\xbcrgen|schmuergen@example.com"},
    {"obmc-18875.eml", "to:0",
     "\xc3\x93mar H\xc3\xb6gni Gu\xc3\xb0marsson|omar@rolla.me"},
    {"obmc-00413.eml", "to:0",
     "Simon Zhu(\xe6\x9c\xb1\xe8\x8b\xb1\xe6\xbe\x8d)|zhuysh@inspur.com"},
    {"h-badutf8.eml", "to:0", "Caf\xc3\xa9|cafe@example.org"},
    {"h-badutf8.eml", "to:1", "raw \xc3\xa6\xc3\xb8\xc3\xa5|raw@example.org"},
    {"h-badutf8.eml", "X-Raw-UTF8",
     "K\xc3\xb8"
     "benhavn"},
    {"h-badutf8.eml", "X-Raw-Latin1",
     "K\xc3\xb8"
     "benhavn"},
    {"obmc-08439.eml", "Message-Id",
     "<20210108122804.359258-1-j.neuschaefer@gmx.net>"},
};

static const struct msg_part *
part(const struct msg *m, size_t i)
{
	return i < m->n_parts ? &m->parts[i] : NULL;
}

static void
test_fixtures(void)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(fx); i++) {
		struct msg *m = parse_file(fx[i].file);
		const char *f = fx[i].file;

		if (m == NULL) {
			skip(8, "no message");
			continue;
		}
		is_str(m->subject, fx[i].subject, "%s: subject", f);
		is_str(m->from.name, fx[i].from_name, "%s: from name", f);
		is_str(m->from.addr, fx[i].from_addr, "%s: from addr", f);
		is_str(m->message_id, fx[i].message_id, "%s: message-id", f);
		is_str(m->in_reply_to, fx[i].in_reply_to, "%s: in-reply-to", f);
		is_int(m->n_references, fx[i].n_refs, "%s: references", f);
		is_int(m->n_parts, fx[i].n_parts, "%s: parts", f);
		if (fx[i].date != SKIP_DATE)
			is_int(m->date, fx[i].date, "%s: date", f);
		msg_free(m);
	}
	for (i = 0; i < ARRAY_SIZE(px); i++) {
		struct msg *m = parse_file(px[i].file);
		const struct msg_part *p;
		const char *f = px[i].file;
		int n = px[i].i;

		if (m == NULL || (p = part(m, (size_t)n)) == NULL) {
			ok(0, "%s: part %d exists", f, n);
			msg_free(m);
			continue;
		}
		is_str(p->type, px[i].type, "%s[%d]: type", f, n);
		is_str(p->charset, px[i].charset, "%s[%d]: charset", f, n);
		is_str(p->filename, px[i].filename, "%s[%d]: filename", f, n);
		is_int(p->is_attachment, px[i].att, "%s[%d]: attachment", f, n);
		is_int(p->depth, px[i].depth, "%s[%d]: depth", f, n);
		if (px[i].text == NULL)
			ok(p->text == NULL, "%s[%d]: no text", f, n);
		else if (!ok(p->text != NULL &&
		                 strstr(p->text, px[i].text) != NULL,
		             "%s[%d]: text has '%s'", f, n, px[i].text))
			diag("text: '%.300s'", p->text ? p->text : "(null)");
		if (px[i].size >= 0)
			is_int(p->size, px[i].size, "%s[%d]: size", f, n);
		msg_free(m);
	}
	for (i = 0; i < ARRAY_SIZE(hx); i++) {
		struct msg *m = parse_file(hx[i].file);
		const char *f = hx[i].file;

		if (m == NULL) {
			skip(1, "no message");
			continue;
		}
		if (strncmp(hx[i].header, "to:", 3) == 0) {
			struct buf got = BUF_INIT;

			j = (size_t)strtoul(hx[i].header + 3, NULL, 10);
			if (j < m->n_to)
				buf_printf(&got, "%s|%s", m->to[j].name,
				           m->to[j].addr);
			is_str(buf_str(&got), hx[i].want, "%s: %s", f,
			       hx[i].header);
			buf_free(&got);
		} else {
			is_str(msg_header(m, hx[i].header), hx[i].want,
			       "%s: %s", f, hx[i].header);
		}
		msg_free(m);
	}
}

/* Things the tables cannot say. */
static void
test_details(void)
{
	struct msg *m;
	size_t i;

	/* CRLF input: text comes out with LF only, raw keeps CRLF */
	if ((m = parse_file("sisimai-lhost-dragonfly-12.eml")) != NULL) {
		ok(m->n_parts == 1 && strchr(m->parts[0].text, '\r') == NULL,
		   "CRLF: text has no CR");
		ok(strstr(m->raw, "\r\n") != NULL, "CRLF: raw kept");
		ok(m->header_len > 0 && m->header_len < m->raw_len &&
		       memcmp(m->raw + m->header_len - 4, "\r\n\r\n", 4) == 0,
		   "CRLF: header_len ends after the blank line");
		is_str(msg_header_raw(m, "received"),
		       "from MAILER-DAEMON\r\n\tid e0728\r\n\tby df.example.jp "
		       "(DragonFly Mail Agent v0.13);\r\n\tTue, 11 Jun 2024 "
		       "18:35:33 +0900",
		       "raw value keeps folds");
		is_str(msg_header(m, "RECEIVED"),
		       "from MAILER-DAEMON\tid e0728\tby df.example.jp "
		       "(DragonFly Mail Agent v0.13);\tTue, 11 Jun 2024 "
		       "18:35:33 +0900",
		       "decoded value unfolded, case-insensitive lookup");
		ok(msg_header(m, "x-no-such") == NULL, "missing header: NULL");
		is_int(m->n_headers, 7, "all header fields kept");
		is_str(m->headers[0].name, "Received", "header order kept");
		is_str(m->headers[6].name, "Date", "header order kept (last)");
		msg_free(m);
	}
	/* all References, in order, from the malformed field */
	if ((m = parse_file("obmc-15573.eml")) != NULL) {
		static const char *const want[] = {
		    "6fbe1a4cf05a483b86986e1cdf5f53aa@pavotek.com.tr",
		    "794cf20fd781d5a28746800c05b41b866c099483.camel@yadro.com",
		    "dbe33b3b957344ae9efa8c56e4c6a554@pavotek.com.tr",
		    "e10b60146c5a120eb615be8a4513f9a9f9a91756.camel@yadro.com",
		    "b46a5098aabb470b8515c16aa1ef9f65@pavotek.com.tr",
		    "fe14142bd0ce01238f87262c107b5c71425c3ab8.camel@yadro.com",
		};

		for (i = 0; i < ARRAY_SIZE(want) && i < m->n_references; i++)
			is_str(m->references[i], want[i], "reference %zu", i);
		msg_free(m);
	}
	/* body points at the encoded bytes */
	if ((m = parse_file("h-filenames.eml")) != NULL) {
		ok(m->n_parts > 1 && m->parts[1].body_len >= 16 &&
		       memcmp(m->parts[1].body, "cm9vdDp4OjA6MDo=", 16) == 0,
		   "part body is the raw encoded content");
		msg_free(m);
	}
}

/* ---- RFC 2047 ----------------------------------------------------------- */

static void
test_decode_header(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"", ""},
	    {"plain", "plain"},
	    {"  padded \t", "padded"},
	    {"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},
	    {"=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"},
	    {"=?utf-8?q?a?= b", "a b"},
	    {"x =?utf-8?q?a?=", "x a"},
	    {"=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9"},
	    {"=?ISO-8859-1?Q?caf=e9?=", "caf\xc3\xa9"},
	    {"=?utf-8?b?w6k=?=", "\xc3\xa9"},
	    {"=?utf-8?B?w6k?=", "\xc3\xa9"}, /* no padding */
	    /* a character split across two words */
	    {"=?utf-8?b?4oI=?= =?utf-8?b?rA==?=", "\xe2\x82\xac"},
	    {"=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "\xe2\x82\xac"},
	    {"plain K\xf8"
	     "benhavn",
	     "plain K\xc3\xb8"
	     "benhavn"},
	    {"K\xc3\xb8"
	     "benhavn",
	     "K\xc3\xb8"
	     "benhavn"},
	    {"=?utf-8?q?bad=FF?=", "bad" FFFD},
	    {"=?x-unknown?q?x?=", "x"},
	    {"=?x-unknown?q?caf=E9?=", "caf\xc3\xa9"},
	    {"=?utf-8?q?a=0Ab=0Dc?=", "a b c"},
	    {"=?utf-8?q?a=00b?=", "a" FFFD "b"},
	    {"=?UTF-8?Q?Robin H. Johns=c3=b6n?=", "Robin H. Johns\xc3\xb6n"},
	    {"=?koi8-r?B?4czGwdfJ1Ao=?=",
	     "\xd0\x90\xd0\xbb\xd1\x84\xd0\xb0\xd0\xb2\xd0\xb8\xd1\x82"},
	    {"=?utf-8*en?q?x?=", "x"},
	    {"=?utf-8?q?unterminated", "=?utf-8?q?unterminated"},
	    {"=?utf-8?x?bad-encoding?=", "=?utf-8?x?bad-encoding?="},
	    {"=??q?nocharset?=", "=??q?nocharset?="},
	    {"a\r\n b", "a b"},
	    {"=?iso-2022-jp?B?GyRCMnNaQBsoQg==?=", "\xe5\x9b\x9e\xe6\x94\xb6"},
	    {"=?windows-1252?q?=93quoted=94_=80?=",
	     "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac"},
	    {"=?utf-8?q?a?==?utf-8?q?b?=", "ab"},
	    {"=?=?=?=?=?", "=?=?=?=?=?"},
	    {"=?utf-8?q?x?", "=?utf-8?q?x?"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct buf b = BUF_INIT;

		ok(msg_decode_header(t[i].in, strlen(t[i].in), &b) == 0,
		   "decode '%s' returns 0", t[i].in);
		is_str(buf_str(&b), t[i].want, "decode '%s'", t[i].in);
		buf_free(&b);
	}
	{
		struct buf b = BUF_INIT;

		buf_adds(&b, "kept: ");
		msg_decode_header("=?utf-8?q?x?=", 13, &b);
		is_str(buf_str(&b), "kept: x", "decode appends");
		buf_free(&b);
	}
}

/* ---- addresses, ids, dates on generated messages ------------------------ */

static struct msg *
parse_str(const char *s)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;

	if (msg_parse(s, strlen(s), NULL, &m, &err) < 0)
		m = NULL;
	buf_free(&err);
	return m;
}

static void
test_fields(void)
{
	static const struct {
		const char *from, *name, *addr;
	} fr[] = {
	    {"\"Doe, John\" <John.Doe@Example.COM>", "Doe, John",
	     "john.doe@example.com"},
	    {"=?utf-8?q?J=C3=B6rg?= <j@x.org>", "J\xc3\xb6rg", "j@x.org"},
	    {"\"=?utf-8?q?J=C3=B6rg?=\" <j@x.org>", "J\xc3\xb6rg", "j@x.org"},
	    {"\"a \\\"b\\\" c\" <q@x.org>", "a \"b\" c", "q@x.org"},
	    {"j@x.org (J comment)", "", "j@x.org"},
	    {"<A@B.C>", "", "a@b.c"},
	    {"MAILER-DAEMON <>", "MAILER-DAEMON", ""},
	    {"broken <a@b.org", "", "a@b.org"},
	    {"Raw M\xfcller <m@x.org>", "Raw M\xc3\xbcller", "m@x.org"},
	    {"Raw M\xc3\xbcller <m@x.org>", "Raw M\xc3\xbcller", "m@x.org"},
	    {"no address here", "no address here", ""},
	    {"", "", ""},
	    {"Team: x@t.org, y@t.org;", "", "x@t.org"},
	};
	static const struct {
		const char *hdrs;
		size_t n_to;
		const char *first, *last;
		const char *mid, *irt;
		size_t n_refs;
		const char *ref0;
		long long date;
	} ft[] = {
	    {"To: a@b.org,,c@d.org\n", 2, "a@b.org", "c@d.org", "", "", 0, NULL,
	     0},
	    {"To: team: a@x.org, b@x.org;, c@x.org\n", 3, "a@x.org", "c@x.org",
	     "", "", 0, NULL, 0},
	    {"To: \"Doe, John\" <j@d.org>, (a, comment) x@y.org\n", 2,
	     "j@d.org", "x@y.org", "", "", 0, NULL, 0},
	    {"To: undisclosed-recipients:;\n", 0, NULL, NULL, "", "", 0, NULL,
	     0},
	    {"To: a@x.org; b@x.org\n", 2, "a@x.org", "b@x.org", "", "", 0, NULL,
	     0},
	    {"To: a@x.org\nTo: b@x.org\n", 2, "a@x.org", "b@x.org", "", "", 0,
	     NULL, 0},
	    {"Message-ID: no-brackets@x\n", 0, NULL, NULL, "no-brackets@x", "",
	     0, NULL, 0},
	    {"Message-ID: <a@x>\nMessage-ID: <b@x>\n", 0, NULL, NULL, "a@x", "",
	     0, NULL, 0},
	    {"References: garbage <ok@x> <broken\n", 0, NULL, NULL, "", "", 1,
	     "ok@x", 0},
	    {"References: <a@x>,<b@x>\n", 0, NULL, NULL, "", "", 2, "a@x", 0},
	    {"References: <a@x\n\tb>\n", 0, NULL, NULL, "", "", 1, "a@xb", 0},
	    {"References: a@x b@x\n", 0, NULL, NULL, "", "", 2, "a@x", 0},
	    {"References: <>\n", 0, NULL, NULL, "", "", 0, NULL, 0},
	    {"In-Reply-To: Your message of Monday <m@x>\n", 0, NULL, NULL, "",
	     "m@x", 0, NULL, 0},
	    {"Date: Mon, 2 Dec 2002 10:11:12 -0800 (PST)\n", 0, NULL, NULL, "",
	     "", 0, NULL, 1038852672},
	    {"Date: 2 Dec 02 10:11 EST\n", 0, NULL, NULL, "", "", 0, NULL,
	     1038841860},
	    {"Date: Fri, 31 Dec 1999 23:59:59 +0000\n", 0, NULL, NULL, "", "",
	     0, NULL, 946684799},
	    {"Date: yesterday\n", 0, NULL, NULL, "", "", 0, NULL, 0},
	    {"Date: Mon, 45 Foo 2002 99:99:99 +0000\n", 0, NULL, NULL, "", "",
	     0, NULL, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fr); i++) {
		struct buf s = BUF_INIT;
		struct msg *m;

		buf_printf(&s, "From: %s\n\nbody\n", fr[i].from);
		m = parse_str(buf_str(&s));
		if (!ok(m != NULL, "From: %s parses", fr[i].from)) {
			buf_free(&s);
			continue;
		}
		is_str(m->from.name, fr[i].name, "From: %s: name", fr[i].from);
		is_str(m->from.addr, fr[i].addr, "From: %s: addr", fr[i].from);
		msg_free(m);
		buf_free(&s);
	}
	for (i = 0; i < ARRAY_SIZE(ft); i++) {
		struct buf s = BUF_INIT;
		struct msg *m;

		buf_printf(&s, "%s\nbody\n", ft[i].hdrs);
		m = parse_str(buf_str(&s));
		buf_free(&s);
		if (!ok(m != NULL, "fields %zu parse", i))
			continue;
		is_int(m->n_to, ft[i].n_to, "fields %zu: To count", i);
		if (ft[i].first != NULL && m->n_to > 0) {
			is_str(m->to[0].addr, ft[i].first, "fields %zu: To 1",
			       i);
			is_str(m->to[m->n_to - 1].addr, ft[i].last,
			       "fields %zu: To last", i);
		}
		is_str(m->message_id, ft[i].mid, "fields %zu: message-id", i);
		is_str(m->in_reply_to, ft[i].irt, "fields %zu: in-reply-to", i);
		is_int(m->n_references, ft[i].n_refs, "fields %zu: refs", i);
		if (ft[i].ref0 != NULL && m->n_references > 0)
			is_str(m->references[0], ft[i].ref0,
			       "fields %zu: first ref", i);
		is_int(m->date, ft[i].date, "fields %zu: date", i);
		msg_free(m);
	}
	/* odd shapes of header blocks */
	{
		struct msg *m = parse_str("");

		ok(m != NULL && m->n_headers == 0 && m->subject[0] == '\0',
		   "empty message parses");
		msg_free(m);
		m = parse_str("From sender@x Mon Jan  1 00:00:00 2024\n"
		              "Subject: mbox\n\nbody\n");
		ok(m != NULL && strcmp(m->subject, "mbox") == 0,
		   "leading mbox From_ line skipped");
		msg_free(m);
		m = parse_str("Subject: a\nthis is no header\nX: y\n\nbody\n");
		ok(m != NULL && m->n_headers == 1 && m->n_parts == 1 &&
		       strstr(m->parts[0].text, "this is no header"),
		   "a non-field line ends the header block");
		msg_free(m);
		m = parse_str("From : a@b.org\n\nbody");
		ok(m != NULL && strcmp(m->from.addr, "a@b.org") == 0,
		   "\"From :\" is a field, not an mbox line");
		msg_free(m);
		m = parse_str("Subject : spaced\n\nbody");
		ok(m != NULL && strcmp(m->subject, "spaced") == 0,
		   "space before the colon");
		msg_free(m);
		m = parse_str("Subject: only headers");
		ok(m != NULL && strcmp(m->subject, "only headers") == 0 &&
		       m->header_len == m->raw_len,
		   "headers without body");
		msg_free(m);
	}
}

/* ---- limits ---------------------------------------------------------------
 */

static int
parse_fails(const struct buf *in, const struct msg_limits *lim,
            const char *want, const char *what)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;
	int rc = msg_parse(in->s ? in->s : "", in->len, lim, &m, &err);

	ok(rc == -1 && m == NULL, "%s: refused", what);
	if (!ok(strstr(buf_str(&err), want) != NULL &&
	            strchr(buf_str(&err), '\n') == NULL,
	        "%s: one line saying '%s'", what, want))
		diag("err: %s", buf_str(&err));
	buf_free(&err);
	msg_free(m);
	return rc;
}

static int
parse_passes(const struct buf *in, const struct msg_limits *lim, size_t parts,
             const char *what)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;
	int rc = msg_parse(in->s ? in->s : "", in->len, lim, &m, &err);

	if (!ok(rc == 0, "%s: accepted", what))
		diag("err: %s", buf_str(&err));
	else
		is_int(m->n_parts, parts, "%s: %zu parts", what, parts);
	buf_free(&err);
	msg_free(m);
	return rc;
}

/* depth nested multiparts, innermost one text part */
static void
nested(struct buf *b, size_t depth, int rfc822)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < depth; i++) {
		if (rfc822)
			buf_adds(b, "Content-Type: message/rfc822\n\n");
		else
			buf_printf(b,
			           "Content-Type: multipart/mixed; "
			           "boundary=\"b%zu\"\n\n--b%zu\n",
			           i, i);
	}
	buf_adds(b, "Content-Type: text/plain\n\ndeep\n");
	if (!rfc822)
		for (i = depth; i-- > 0;)
			buf_printf(b, "--b%zu--\n", i);
}

static void
test_limits(void)
{
	struct msg_limits lim = msg_default_limits;
	struct buf b = BUF_INIT;
	size_t i;
	clock_t t0;

	is_int(msg_default_limits.max_size, 64 << 20, "default max_size");
	is_int(msg_default_limits.max_headers, 1000, "default max_headers");
	is_int(msg_default_limits.max_header_len, 64 << 10,
	       "default max_header_len");
	is_int(msg_default_limits.max_depth, 20, "default max_depth");
	is_int(msg_default_limits.max_parts, 1000, "default max_parts");

	/* header count */
	for (i = 0; i < 1500; i++)
		buf_printf(&b, "X-H%zu: v\n", i);
	buf_adds(&b, "\nbody\n");
	parse_fails(&b, &lim,
	            "message has 1500 header fields; the limit is 1000",
	            "1500 headers");
	buf_reset(&b);
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "X-H%zu: v\n", i);
	buf_adds(&b, "\nbody\n");
	parse_passes(&b, &lim, 1, "1000 headers");

	/* one header's length, folded or not */
	buf_reset(&b);
	buf_adds(&b, "Subject: ");
	for (i = 0; i < 70000; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\n\nbody\n");
	parse_fails(&b, &lim,
	            "header field Subject is 70009 bytes long; the limit is "
	            "65536 bytes",
	            "long header");
	buf_reset(&b);
	buf_adds(&b, "References:");
	for (i = 0; i < 7000; i++)
		buf_printf(&b, "\r\n <%05zu@x>", i);
	buf_adds(&b, "\r\n\r\nbody\r\n");
	parse_fails(&b, &lim, "header field References is",
	            "long folded header");

	/* part headers too */
	buf_reset(&b);
	buf_adds(&b, "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	             "Content-Type: text/plain; name=\"");
	for (i = 0; i < 70000; i++)
		buf_addc(&b, 'n');
	buf_adds(&b, "\"\n\nbody\n--x--\n");
	parse_fails(&b, &lim, "in a MIME part", "long part header");

	/* depth: 10,000 levels must be refused quickly without recursion */
	t0 = clock();
	nested(&b, 10000, 0);
	parse_fails(&b, &lim, "nested more than 20 deep",
	            "10,000-deep multipart");
	nested(&b, 10000, 1);
	parse_fails(&b, &lim, "nested more than 20 deep", "10,000-deep rfc822");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0,
	   "deep messages refused in under 2 s");
	nested(&b, 20, 0);
	parse_passes(&b, &lim, 1, "20-deep multipart");
	nested(&b, 21, 0);
	parse_fails(&b, &lim, "the limit is 20", "21-deep multipart");
	lim.max_depth = 5;
	nested(&b, 5, 1);
	parse_passes(&b, &lim, 1, "5-deep rfc822 with max_depth 5");
	nested(&b, 6, 1);
	parse_fails(&b, &lim, "the limit is 5",
	            "6-deep rfc822 with max_depth 5");
	lim.max_depth = 100000;
	nested(&b, 10000, 0);
	parse_fails(&b, &lim, "the limit is 100", "huge max_depth is capped");
	lim = msg_default_limits;

	/* parts */
	buf_reset(&b);
	buf_adds(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 1000; i++)
		buf_adds(&b, "--p\n\nx\n");
	buf_adds(&b, "--p--\n");
	parse_passes(&b, &lim, 1000, "1000 parts");
	buf_reset(&b);
	buf_adds(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 100000; i++)
		buf_adds(&b, "--p\n\nx\n");
	parse_fails(&b, &lim,
	            "message has more than 1000 MIME parts; the limit is 1000",
	            "100,000 parts");

	/* size */
	lim.max_size = 1000;
	buf_reset(&b);
	buf_adds(&b, "Subject: big\n\n");
	while (b.len < 1001)
		buf_addc(&b, 'x');
	parse_fails(&b, &lim, "message is 1001 bytes; the limit is 1000 bytes",
	            "oversize");
	buf_truncate(&b, 1000);
	parse_passes(&b, &lim, 1, "exactly max_size");
	lim = msg_default_limits;

	/* libetpan's address list parser is quadratic on some fields; they
	 * must not cost more than the bytes they are made of */
	t0 = clock();
	buf_reset(&b);
	for (i = 0; i < 200; i++) {
		size_t k;

		buf_adds(&b, "To: ");
		for (k = 0; k < 20000; k++)
			buf_adds(&b, "\",");
		buf_adds(&b, "\n");
	}
	buf_adds(&b, "\nbody\n");
	parse_passes(&b, &lim, 1, "200 hostile To fields");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0,
	   "hostile address fields parsed in under 2 s");

	/* a NULL err buffer is allowed */
	{
		struct msg *m = NULL;

		lim.max_size = 10;
		ok(msg_parse("Subject: too long\n\n", 19, &lim, &m, NULL) ==
		           -1 &&
		       m == NULL,
		   "NULL err");
		lim = msg_default_limits;
	}
	buf_free(&b);
}

/* ---- the whole corpus, when asked --------------------------------------- */

static void
sweep(const char *dir, size_t *n, size_t *bad, int depth)
{
	DIR *d;
	struct dirent *e;

	if (depth > 12 || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;
		const char *nm = e->d_name, *why = "";
		size_t l = strlen(nm);
		struct stat st;
		struct msg *m = NULL;

		if (nm[0] == '.' || strcmp(nm, "icalendar") == 0 ||
		    strcmp(nm, "COPYING") == 0 ||
		    (l > 4 && (strcmp(nm + l - 4, ".ics") == 0 ||
		               strcmp(nm + l - 4, ".tsv") == 0)) ||
		    (l > 5 && strcmp(nm + l - 5, ".mbox") == 0) ||
		    (l > 3 && strcmp(nm + l - 3, ".md") == 0))
			continue;
		buf_printf(&path, "%s/%s", dir, nm);
		if (stat(buf_str(&path), &st) == 0 && S_ISDIR(st.st_mode)) {
			sweep(buf_str(&path), n, bad, depth + 1);
		} else if (S_ISREG(st.st_mode) &&
		           read_file(buf_str(&path), &data) == 0) {
			(*n)++;
			if (msg_parse(buf_str(&data), data.len, NULL, &m,
			              &err) < 0 ||
			    !invariants(m, &why)) {
				(*bad)++;
				diag("%s: %s%s", buf_str(&path), buf_str(&err),
				     why);
			}
			msg_free(m);
		}
		buf_free(&path);
		buf_free(&data);
		buf_free(&err);
	}
	closedir(d);
}

static void
test_corpus(void)
{
	const char *dir = getenv("MLMD_CORPUS");
	size_t n = 0, bad = 0;
	clock_t t0;

	if (dir == NULL || *dir == '\0') {
		skip(2, "MLMD_CORPUS not set");
		return;
	}
	t0 = clock();
	sweep(dir, &n, &bad, 0);
	ok(n > 0, "corpus: %zu files read", n);
	is_int(bad, 0, "corpus: every file parses with the invariants");
	diag("corpus: %zu messages in %.2f s", n,
	     (double)(clock() - t0) / CLOCKS_PER_SEC);
}

int
main(void)
{
	test_fixtures();
	test_details();
	test_decode_header();
	test_fields();
	test_limits();
	test_corpus();
	return done_testing();
}
