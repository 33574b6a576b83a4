/*
 * rsvp_parse_test.c - tests for the RSVP answer parser (mlmd/rsvp_parse.c):
 * a table of single lines and Subjects for rsvp_word() (every language,
 * "+N", courtesy words, calendar clients' "Accepted:" subjects, and what
 * must NOT count: prose, questions, conflicts, "no" inside "November"),
 * then whole mails built with msg_parse(): top-posted and bottom-posted
 * replies, Gmail / Apple Mail / Outlook quoting with and without '>',
 * HTML-only mail, signatures, CRLF, NBSP, Arabic, hostile bodies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "rsvp_parse.h"
#include "tap.h"
#include "util.h"

#define Y RSVP_YES
#define N RSVP_NO
#define M RSVP_MAYBE
#define X RSVP_NONE

static const struct {
	const char *s;
	enum rsvp_answer a;
	int guests;
} words[] = {
    /* en */
    {"yes", Y, 0},
    {"YES", Y, 0},
    {"Yes!", Y, 0},
    {"  yes.  ", Y, 0},
    {"y", Y, 0},
    {"ok", Y, 0},
    {"OK.", Y, 0},
    {"accept", Y, 0},
    {"Accepted", Y, 0},
    {"attending", Y, 0},
    {"I'll come", Y, 0},
    {"I\xe2\x80\x99ll come!", Y, 0}, /* typographic apostrophe */
    {"sure", Y, 0},
    {"Sure, thanks!", Y, 0},
    {"yes, thanks", Y, 0},
    {"Yes please", Y, 0},
    {"yes +1", Y, 1},
    {"yes+2", Y, 2},
    {"Yes + 3", Y, 3},
    {"+1", Y, 1},
    {"+1 thanks", Y, 1},
    {"yes +9", Y, 9},
    {"no", N, 0},
    {"No.", N, 0},
    {"n", N, 0},
    {"decline", N, 0},
    {"declined", N, 0},
    {"no sorry", N, 0},
    {"No, thank you.", N, 0},
    {"can't come", N, 0},
    {"Can\xe2\x80\x99t come, sorry", N, 0},
    {"cannot", N, 0},
    {"maybe", M, 0},
    {"Maybe +1", M, 1},
    {"perhaps", M, 0},
    {"tentative", M, 0},
    {"might", M, 0},
    /* da */
    {"ja", Y, 0},
    {"Ja tak!", Y, 0},
    {"jep", Y, 0},
    {"ja +2", Y, 2},
    {"Ja tak, +1", Y, 1},
    {"nej", N, 0},
    {"Nej tak", N, 0},
    {"nej desv\xc3\xa6rre", N, 0},
    {"NEJ DESV\xc3\x86RRE", N, 0}, /* Æ */
    {"kan ikke", N, 0},
    {"m\xc3\xa5ske", M, 0},
    {"M\xc3\x85SKE", M, 0},  /* Å */
    {"ma\xcc\x8aske", M, 0}, /* a + combining ring */
    {"ja gerne", Y, 0},
    /* sv */
    {"ja tack", Y, 0},
    {"Jo", Y, 0},
    {"nej tack", N, 0},
    {"kan inte", N, 0},
    {"Nej, tyv\xc3\xa4rr.", N, 0},
    {"kanske", M, 0},
    /* nb, nn */
    {"ja takk", Y, 0},
    {"nei takk", N, 0},
    {"nei", N, 0},
    {"kan ikkje", N, 0},
    {"Nei dessverre", N, 0},
    {"kanskje", M, 0},
    /* fi */
    {"kyll\xc3\xa4", Y, 0},
    {"KYLL\xc3\x84", Y, 0},  /* Ä */
    {"kylla\xcc\x88", Y, 0}, /* a + combining diaeresis */
    {"joo", Y, 0},
    {"Kyll\xc3\xa4, kiitos!", Y, 0},
    {"ei", N, 0},
    {"Ei kiitos", N, 0},
    {"en p\xc3\xa4\xc3\xa4se", N, 0},
    {"ehk\xc3\xa4", M, 0},
    /* is */
    {"j\xc3\xa1", Y, 0},
    {"J\xc3\x81", Y, 0}, /* Á */
    {"J\xc3\xa1, takk fyrir", Y, 0},
    {"nei takk", N, 0},
    {"kannski", M, 0},
    /* ar */
    {"نعم", Y, 0},
    {"نعم شكرا", Y, 0},
    {"نَعَم", Y, 0},                         /* with tashkeel */
    {"\xe2\x80\x8fنعم\xe2\x80\x8f", Y, 0}, /* RLM around it */
    {"أجل", Y, 0},
    {"نعم +1", Y, 1},
    {"لا", N, 0},
    {"لا، شكراً", N, 0},
    {"ربما", M, 0},
    /* white space, emoji, odd bytes */
    {"yes\xc2\xa0+1", Y, 1},   /* NBSP */
    {"\xef\xbb\xbfyes", Y, 0}, /* BOM */
    {"yes\r", Y, 0},
    {"\tja\t", Y, 0},
    {"yes \xf0\x9f\x98\x8a", Y, 0}, /* 🙂 */
    {"yes\xe2\x80\x8b", Y, 0},      /* zero width space */
    {"'yes'", Y, 0},
    /* Subjects */
    {"Re: yes", Y, 0},
    {"SV: ja", Y, 0},
    {"Vs: Re: kyll\xc3\xa4", Y, 0},
    {"AW: [denmark] yes +1", Y, 1},
    {"Re[2]: no", N, 0},
    {"Antw: maybe", M, 0},
    {"رد: نعم", Y, 0},
    {"Accepted: Networking dinner", Y, 0},
    {"Declined: Networking dinner @ Mon 3 Feb", N, 0},
    {"Tentative: Networking dinner", M, 0},
    {"Tentatively Accepted: Mentor day", M, 0},
    {"Accepteret: Netv\xc3\xa6rksmiddag", Y, 0},
    {"Accepterat: middag", Y, 0},
    {"Godtatt: middag", Y, 0},
    {"Hyv\xc3\xa4ksytty: illallinen", Y, 0},
    {"Sam\xc3\xbeykkt: kv\xc3\xb6ldver\xc3\xb0ur", Y, 0},
    {"SAM\xc3\x9eYKKT: x", Y, 0}, /* Þ */
    {"Afvist: middag", N, 0},
    {"Avb\xc3\xb6jt: middag", N, 0},
    {"Avsl\xc3\xa5tt: middag", N, 0},
    {"Hyl\xc3\xa4tty: illallinen", N, 0},
    {"Forel\xc3\xb8\x62ig: middag", M, 0},
    {"Prelimin\xc3\xa4rt: middag", M, 0},
    {"Forel\xc3\xb8pig: middag", M, 0},
    {"Alustava: illallinen", M, 0},
    {"Re: Accepted: dinner", Y, 0},
    /* NOT answers */
    {"", X, 0},
    {"   ", X, 0},
    {"...", X, 0},
    {"\xf0\x9f\x91\x8d", X, 0}, /* 👍 alone */
    {"November", X, 0},
    {"Nobody told me about it", X, 0},
    {"Yes I think so but I need to check with my wife first", X, 0},
    {"I said no to the last one but yes to this one", X, 0},
    {"yes and no", X, 0},
    {"ja nej", X, 0},
    {"yes no", X, 0},
    {"maybe yes", X, 0},
    {"no +1", X, 0},
    {"yes +1 +2", X, 0},
    {"yes +10", X, 0},
    {"+0", X, 0},
    {"+", X, 0},
    {"yes 2", X, 0},
    {"yes?", X, 0},
    {"Can I bring a guest?", X, 0},
    {"نعم؟", X, 0},
    {"yes, Anna", X, 0},
    {"yes yes yes yes yes yes yes", X, 0},
    {"not sure", X, 0},
    {"Jeg kommer ikke", X, 0},
    {"Can't wait!", X, 0},
    {"ok, I can't come", X, 0},
    {"No thanks, I'm busy", X, 0},
    {"not attending", N, 0},
    {"Yes, I'll be there", Y, 0},
    {"jeg kommer gerne", Y, 0},
    {"Ja, vi ses!", Y, 0},
    {"Invitation: Networking dinner", X, 0},
    {"Re: Invitation: Networking dinner", X, 0},
    {"Re: [denmark] Invitation: dinner", X, 0},
    {"Accepted", Y, 0},
    {"Accepted dinner", X, 0},
    {"Not accepted: dinner", X, 0},
    {"yes\xff", X, 0},     /* invalid UTF-8 */
    {"ye\xcc\x81s", X, 0}, /* a combining accent that makes no word */
};

static struct msg *
mk(const char *raw, size_t len)
{
	struct buf err = BUF_INIT;
	struct msg *m = NULL;

	if (msg_parse(raw, len, &msg_default_limits, &m, &err) < 0) {
		diag("msg_parse: %s", buf_str(&err));
		m = NULL;
	}
	buf_free(&err);
	return m;
}

/* A plain text/plain UTF-8 mail with this Subject and body. */
static struct msg *
mk_plain(const char *subject, const char *body)
{
	struct buf b = BUF_INIT;
	struct msg *m;

	buf_printf(&b,
	           "From: Anna <anna@example.org>\n"
	           "To: denmark+rsvp-abcdef123456@lists.example.org\n"
	           "Subject: %s\n"
	           "MIME-Version: 1.0\n"
	           "Content-Type: text/plain; charset=utf-8\n"
	           "Content-Transfer-Encoding: 8bit\n"
	           "\n%s",
	           subject, body);
	m = mk(b.s, b.len);
	buf_free(&b);
	return m;
}

static const char invitation[] =
    "You are invited to the Networking dinner, Copenhagen.\n"
    "When: Monday 3 February 2025, 18:00-21:00\n"
    "Where: Restaurant Nora, N\xc3\xb8rregade 1\n"
    "Places left: 12 of 20\n"
    "\n"
    "Reply to this mail with one word:\n"
    "yes\n"
    "no\n"
    "maybe\n"
    "(add +1 to bring a guest)\n";

static const struct {
	const char *name;
	const char *subject;
	const char *body;
	enum rsvp_answer a;
	int guests;
} mails[] = {
    {"mailto subject yes, empty body", "yes", "", Y, 0},
    {"mailto subject no", "no", "\n", N, 0},
    {"mailto subject maybe", "maybe", "", M, 0},
    {"mailto subject yes +1", "yes +1", "", Y, 1},
    {"subject +1", "+1", "", Y, 1},
    {"subject yes, body agrees", "yes", "Yes!\n", Y, 0},
    {"subject yes, body adds guests", "yes", "+2\n", Y, 2},
    {"subject yes, body says no", "yes", "no\n", X, 0},
    {"subject no, body +1", "no", "+1\n", X, 0},
    {"plain yes", "Re: Invitation: Networking dinner", "yes\n", Y, 0},
    {"plain yes +2", "Re: Invitation: Networking dinner", "yes +2\n", Y, 2},
    {"empty mail", "", "", X, 0},
    {"blank body", "Re: Invitation: x", "\n\n   \n", X, 0},
    {"signature only", "Re: Invitation: x", "-- \nAnna Andersen\nyes we can\n",
     X, 0},
    {"answer then signature", "Re: Invitation: x", "ja tak\n-- \nAnna\nnej\n",
     Y, 0},
    {"Gmail top-posted", "Re: Invitation: Networking dinner",
     "Yes, thanks!\n\nOn Mon, 27 Jan 2025 at 10:00, Denmark list "
     "<denmark@lists.example.org> wrote:\n> You are invited\n> yes\n> no\n",
     Y, 0},
    {"Gmail, wrapped attribution", "Re: Invitation: x",
     "no\n\nOn Mon, 27 Jan 2025 at 10:00 Denmark list <\n"
     "denmark@lists.example.org> wrote:\n\n> yes\n",
     N, 0},
    {"Apple Mail da", "Sv: Invitation: x",
     "Ja tak +1\n\nDen 27. jan. 2025 kl. 10.00 skrev Denmark list "
     "<denmark@lists.example.org>:\n\n> Svar ja eller nej\n",
     Y, 1},
    {"fi attribution", "Vs: Kutsu: x",
     "Kyll\xc3\xa4\n\nma 27.1.2025 klo 10.00 Finland list kirjoitti:\n"
     "> ei\n",
     Y, 0},
    {"no blank line before attribution", "Re: x",
     "maybe\nOn Mon, 27 Jan 2025 Anna wrote:\n> yes\n", M, 0},
    {"bottom-posted", "Re: Invitation: x",
     "On Mon, 27 Jan 2025 at 10:00, Denmark list wrote:\n"
     "> You are invited\n> Reply yes or no\n\nNo, sorry\n\nAnna\n",
     N, 0},
    {"bottom-posted, generic attribution", "Re: x",
     "Denmark list <denmark@lists.example.org> schrieb am Montag:\n"
     "> maybe\n\nyes\n",
     Y, 0},
    {"only quoted text", "Re: Invitation: x", "> yes\n> no\n> maybe\n", X, 0},
    {"Outlook Original Message", "RE: Invitation: x",
     "Nej tak\n\n-----Original Message-----\nFrom: Denmark list\n"
     "Subject: Invitation\n\nyes\nno\n",
     N, 0},
    {"Outlook sv", "SV: Inbjudan: x",
     "kanske\n-----Ursprungligt meddelande-----\nFr\xc3\xa5n: x\n\nja\n", M, 0},
    {"Outlook empty reply above unquoted invitation", "RE: Invitation: x",
     "\n________________________________\nFrom: Denmark list "
     "<denmark@lists.example.org>\nSent: Monday\n\nyes\nno\nmaybe\n",
     X, 0},
    {"Outlook header without rule", "SV: x",
     "\nFra: Denmark list <d@example.org>\nSendt: 27. januar\n\nja\n", X, 0},
    {"top-posted above invitation without '>'", "Re: Invitation: x",
     "Yes +1\n\nYou are invited to the Networking dinner\nyes\nno\n", Y, 1},
    {"empty reply above invitation without '>'", "Re: Invitation: x",
     invitation, X, 0},
    {"greeting, answer, name", "Re: Invitation: x",
     "Hi Anna,\n\nyes please!\n\nBest,\nBo\n", Y, 0},
    {"greeting then prose", "Re: Invitation: x",
     "Hej,\n\nJeg ved ikke endnu om jeg kan.\n\nja\n", X, 0},
    {"thanks line then answer", "Re: x", "Thanks!\n\nno\n", N, 0},
    {"prose then answer", "Re: x", "I'll be a bit late.\nYes +1\n", Y, 1},
    {"answer then prose", "Re: x", "Yes.\nI will bring the slides.\n", Y, 0},
    {"wrapped sentence ending in no", "Re: x",
     "The last dinner was fine but for this one I must say\nno.\n", X, 0},
    {"wrapped sentence starting with yes", "Re: x",
     "Yes\nif I can bring my dog, otherwise not.\n", X, 0},
    {"long sentence with yes", "Re: Invitation: x",
     "Yes I would love to come but I am in Oslo that week.\n", X, 0},
    {"no inside November", "Re: x", "November is bad for me.\n", X, 0},
    {"conflicting lines", "Re: x", "yes\nno\n", X, 0},
    {"conflict on a line", "Re: x", "ja nej\n", X, 0},
    {"agreeing lines, guests on the second", "Re: x", "Yes\n+1\n", Y, 1},
    {"question", "Re: x", "Yes?\n", X, 0},
    {"more than five lines before the answer", "Re: x",
     "a.\nb.\nc.\nd.\ne.\nyes\n", X, 0},
    {"answer on the fifth line", "Re: x", "a.\nb.\nc.\nd.\nyes\n", Y, 0},
    {"Arabic reply", "رد: دعوة: عشاء",
     "نعم شكرا\n\nفي الاثنين، 27 يناير 2025 كتب Denmark list:\n> لا\n", Y, 0},
    {"Arabic no with RLM", "رد: x", "\xe2\x80\x8fلا\xe2\x80\x8f\n", N, 0},
    {"Icelandic", "Re: Bo\xc3\xb0: x", "J\xc3\xa1 takk\n", Y, 0},
    {"nb maybe", "Sv: x", "Kanskje\n", M, 0},
    {"nbsp-only lines are blank", "Re: x",
     "\xc2\xa0\n\xc2\xa0yes\xc2\xa0\n\xc2\xa0\nYou are invited\nno\n", Y, 0},
    {"indented quote", "Re: x", "  > yes\n  no\n", N, 0},
};

static const char crlf[] = "From: anna@example.org\r\n"
                           "Subject: Re: Invitation: dinner\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "\r\n"
                           "Maybe +1\r\n"
                           "\r\n"
                           "On Mon, 27 Jan 2025, list wrote:\r\n"
                           "> no\r\n";

static const char html_only[] =
    "From: anna@example.org\n"
    "Subject: Re: Invitation: dinner\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><body><div dir=\"ltr\">Nej&nbsp;tak</div><br>"
    "<div class=\"gmail_quote\"><div dir=\"ltr\">On Mon, 27 Jan 2025, "
    "list &lt;l@example.org&gt; wrote:<br></div>"
    "<blockquote class=\"gmail_quote\"><p>Reply yes or no</p><p>yes</p>"
    "</blockquote></div></body></html>\n";

static const char html_quoted_only[] =
    "From: anna@example.org\n"
    "Subject: Re: Invitation: dinner\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p></p><blockquote><p>yes</p></blockquote>\n";

static const char html_outlook[] =
    "From: anna@example.org\n"
    "Subject: RE: Invitation: dinner\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><body><p class=MsoNormal>Ja&nbsp;+1<o:p></o:p></p>"
    "<div style='border:none;border-top:solid #E1E1E1 1.0pt'>"
    "<p><b>From:</b> Denmark list<br><b>Sent:</b> Monday</p></div>"
    "<p>yes</p><p>no</p></body></html>\n";

static const char alternative[] =
    "From: anna@example.org\n"
    "Subject: Re: Invitation: dinner\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Kyll=C3=A4 +1\n"
    "--b\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>ei</p>\n"
    "--b--\n";

static const char encoded_subject[] = "From: anna@example.org\n"
                                      "Subject: =?utf-8?q?Sv=3A_M=C3=85SKE?=\n"
                                      "\n";

static const char latin1[] = "From: anna@example.org\n"
                             "Subject: Re: x\n"
                             "Content-Type: text/plain; charset=iso-8859-1\n"
                             "\n"
                             "M\xe5ske\n";

static void
check_raw(const char *name, const char *raw, enum rsvp_answer a, int guests)
{
	struct rsvp_text r = {RSVP_YES, 7};
	struct msg *m = mk(raw, strlen(raw));

	if (m == NULL) {
		ok(0, "%s: parses", name);
		return;
	}
	is_int(rsvp_parse(m, &r), 0, "%s: returns 0", name);
	if (!ok(r.answer == a && r.guests == guests, "%s: %s +%d", name,
	        rsvp_answer_name(a), guests))
		diag("got %s +%d", rsvp_answer_name(r.answer), r.guests);
	msg_free(m);
}

int
main(void)
{
	struct rsvp_text r;
	struct msg *m;
	struct buf b = BUF_INIT;
	size_t i;
	int g;

	for (i = 0; i < ARRAY_SIZE(words); i++) {
		enum rsvp_answer a;

		g = 42;
		a = rsvp_word(words[i].s, strlen(words[i].s), &g);
		if (!ok(a == words[i].a && g == words[i].guests,
		        "word '%s': %s +%d", words[i].s,
		        rsvp_answer_name(words[i].a), words[i].guests))
			diag("got %s +%d", rsvp_answer_name(a), g);
	}
	ok(rsvp_word("yes", 3, NULL) == RSVP_YES, "guests may be NULL");
	ok(rsvp_word("yes and more", 3, NULL) == RSVP_YES,
	   "only n bytes are read");
	ok(rsvp_word("no\0yes", 6, NULL) == RSVP_NONE, "a NUL is not text");
	ok(rsvp_word(NULL, 0, &g) == RSVP_NONE && g == 0, "NULL string");

	for (i = 0; i < ARRAY_SIZE(mails); i++) {
		struct rsvp_text r2 = {RSVP_YES, 7};

		m = mk_plain(mails[i].subject, mails[i].body);
		if (m == NULL) {
			ok(0, "%s: parses", mails[i].name);
			continue;
		}
		rsvp_parse(m, &r2);
		if (!ok(r2.answer == mails[i].a && r2.guests == mails[i].guests,
		        "%s: %s +%d", mails[i].name,
		        rsvp_answer_name(mails[i].a), mails[i].guests))
			diag("got %s +%d", rsvp_answer_name(r2.answer),
			     r2.guests);
		msg_free(m);
	}

	check_raw("CRLF mail", crlf, M, 1);
	check_raw("HTML-only Gmail reply", html_only, N, 0);
	check_raw("HTML-only, only a blockquote", html_quoted_only, X, 0);
	check_raw("HTML-only Outlook reply", html_outlook, Y, 1);
	check_raw("multipart/alternative reads text/plain", alternative, Y, 1);
	check_raw("RFC 2047 subject", encoded_subject, M, 0);
	check_raw("latin-1 body", latin1, M, 0);

	is_int(rsvp_parse(NULL, &r), -1, "NULL msg");
	m = mk_plain("yes", "");
	is_int(rsvp_parse(m, NULL), -1, "NULL result");
	msg_free(m);

	/* long quotes before a bottom-posted answer: read up to
	 * RSVP_TEXT_MAX, not beyond; lines ending in ':' with blank lines
	 * after them (the look-ahead for '>') */
	buf_adds(&b, "From: a@example.org\nSubject: x\n\n");
	for (i = 0; i < 10000; i++)
		buf_adds(&b, "> yes\n");
	buf_adds(&b, "no\n");
	check_raw("10,000 quoted lines then no", buf_str(&b), N, 0);
	buf_reset(&b);
	buf_adds(&b, "From: a@example.org\nSubject: x\n\n");
	for (i = 0; i < 100000; i++)
		buf_adds(&b, "> yes\n");
	buf_adds(&b, "no\n");
	check_raw("an answer past RSVP_TEXT_MAX is not read", buf_str(&b), X,
	          0);
	buf_reset(&b);
	buf_adds(&b, "From: a@example.org\nSubject: x\n\n");
	for (i = 0; i < 4000; i++)
		buf_adds(&b, "On x wrote:\n\n\n");
	buf_adds(&b, "yes\n");
	check_raw("4,000 attribution lines then yes", buf_str(&b), Y, 0);
	buf_reset(&b);
	buf_adds(&b, "From: a@example.org\nSubject: x\n\n");
	for (i = 0; i < 100000; i++)
		buf_adds(&b, "a:\n");
	check_raw("100,000 lines ending in ':'", buf_str(&b), X, 0);
	buf_reset(&b);
	buf_adds(&b, "From: a@example.org\nSubject: ");
	for (i = 0; i < 5000; i++)
		buf_adds(&b, "Re: [x] ");
	buf_adds(&b, "yes\n\n");
	check_raw("5,000 subject markers", buf_str(&b), Y, 0);
	buf_reset(&b);
	buf_adds(&b, "From: a@example.org\nSubject: x\n\n");
	for (i = 0; i < 10000; i++)
		buf_adds(&b, "yes ");
	buf_adds(&b, "\n");
	check_raw("one very long line", buf_str(&b), X, 0);
	buf_free(&b);
	return done_testing();
}
