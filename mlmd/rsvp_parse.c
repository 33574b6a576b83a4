/*
 * rsvp_parse.c - the answer in a plain mail reply to an event invitation
 * (see rsvp_parse.h; issue 8).  Callers: the event module, for mail to
 * LIST+rsvp-TOKEN@ that carries no text/calendar REPLY, and the web page's
 * buttons (rsvp_word).
 *
 * The rule is "a wrong answer is worse than none": a line is an answer only
 * if every word on it is known (answer words, "+N", courtesy words), the
 * answer words agree, and it is short; anything else is prose.  Only the
 * start of the body is read (the first paragraph, at most RSVP_BODY_LINES
 * lines), because below it is the quoted invitation, whose text names
 * every answer.
 *
 * Invariants:
 *  - Any byte sequence is accepted.  The body read is capped
 *    (RSVP_TEXT_MAX; HTML at RSVP_HTML_MAX before rendering), a line is
 *    normalised only if it is at most RSVP_LINE_MAX bytes, the subject's
 *    marker stripping consumes at least one byte per round, and the
 *    look-ahead for an attribution line stops at the first non-blank
 *    line, so the work is linear in the message.
 *  - Nothing is allocated except the HTML rendering, freed before return.
 *
 * Lower-casing is ASCII plus the Latin-1 capitals (U+00C0-U+00DE: Å Æ Ø Ä
 * Ö Ð Þ É Á ...); a few decomposed letters (a + U+030A, o + U+0308, ...)
 * are composed: NFC-ish, enough for the words below.
 *
 * XXX cmd.c has the same subject-marker stripping, signature and reply
 * header tests, but static; these are small local versions (with more
 * languages for attribution and Outlook header lines).  They could be
 * merged into one mail_text module.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html_text.h"
#include "msg.h"
#include "rsvp_parse.h"
#include "util.h"

/* What a word or phrase says. */
enum kind { K_YES, K_NO, K_MAYBE, K_POLITE };

/*
 * Answer words and courtesy words, normalised: lower case, apostrophe
 * U+0027, one space between words.  The longest phrase at a position
 * wins, so "ja tak" and "ja" + "tak" read the same.
 */
static const struct {
	const char *w;
	enum kind k;
} phrases[] = {
    /* en */
    {"yes", K_YES},
    {"y", K_YES},
    {"yep", K_YES},
    {"yeah", K_YES},
    {"yup", K_YES},
    {"ok", K_YES},
    {"okay", K_YES},
    {"accept", K_YES},
    {"accepted", K_YES},
    {"attending", K_YES},
    {"sure", K_YES},
    {"i'll come", K_YES},
    {"i will come", K_YES},
    {"i'll be there", K_YES},
    {"i will be there", K_YES},
    {"count me in", K_YES},
    {"i'm in", K_YES},
    {"i'm coming", K_YES},
    {"i am coming", K_YES},
    {"no", K_NO},
    {"n", K_NO},
    {"nope", K_NO},
    {"decline", K_NO},
    {"declined", K_NO},
    {"cannot", K_NO},
    {"can't come", K_NO},
    {"cant come", K_NO},
    {"cannot come", K_NO},
    {"can not come", K_NO},
    {"i can't come", K_NO},
    {"i cannot come", K_NO},
    {"can't make it", K_NO},
    {"i can't make it", K_NO},
    {"can't attend", K_NO},
    {"cannot attend", K_NO},
    {"not attending", K_NO},
    {"not coming", K_NO},
    {"i'm not coming", K_NO},
    {"count me out", K_NO},
    {"maybe", K_MAYBE},
    {"perhaps", K_MAYBE},
    {"tentative", K_MAYBE},
    {"might", K_MAYBE},
    {"i might come", K_MAYBE},
    {"might come", K_MAYBE},
    /* da, sv, nb, nn */
    {"ja", K_YES},
    {"jo", K_YES},
    {"jep", K_YES},
    {"jepp", K_YES},
    {"japp", K_YES},
    {"ja tak", K_YES},
    {"ja takk", K_YES},
    {"ja tack", K_YES},
    {"jeg kommer", K_YES},
    {"jag kommer", K_YES},
    {"eg kjem", K_YES},
    {"nej", K_NO},
    {"nei", K_NO},
    {"nej tak", K_NO},
    {"nei takk", K_NO},
    {"nej tack", K_NO},
    {"kan ikke", K_NO},
    {"kan inte", K_NO},
    {"kan ikkje", K_NO},
    {"jeg kan ikke", K_NO},
    {"jag kan inte", K_NO},
    {"eg kan ikkje", K_NO},
    {"kan ikke komme", K_NO},
    {"kan inte komma", K_NO},
    {"kan ikkje kome", K_NO},
    {"jeg kan ikke komme", K_NO},
    {"jag kan inte komma", K_NO},
    {"m\xc3\xa5ske", K_MAYBE}, /* måske */
    {"kanske", K_MAYBE},
    {"kanskje", K_MAYBE},
    /* fi */
    {"kyll\xc3\xa4", K_YES}, /* kyllä */
    {"joo", K_YES},
    {"tulen", K_YES},
    {"ei", K_NO},
    {"ei kiitos", K_NO},
    {"en p\xc3\xa4\xc3\xa4se", K_NO}, /* en pääse */
    {"en tule", K_NO},
    {"ehk\xc3\xa4", K_MAYBE}, /* ehkä */
    /* is */
    {"j\xc3\xa1", K_YES},           /* já */
    {"\xc3\xa9g kem", K_YES},       /* ég kem */
    {"\xc3\xa9g kemst ekki", K_NO}, /* ég kemst ekki */
    {"kemst ekki", K_NO},
    {"kannski", K_MAYBE},
    /* ar */
    {"نعم", K_YES},
    {"أجل", K_YES},
    {"اجل", K_YES},
    {"سأحضر", K_YES},
    {"موافق", K_YES},
    {"لا", K_NO},
    {"لأ", K_NO},
    {"لن أحضر", K_NO},
    {"لا أستطيع", K_NO},
    {"لا أستطيع الحضور", K_NO},
    {"ربما", K_MAYBE},
    /* courtesy, any language */
    {"thanks", K_POLITE},
    {"thank you", K_POLITE},
    {"thx", K_POLITE},
    {"many thanks", K_POLITE},
    {"thanks for the invitation", K_POLITE},
    {"thanks for the invite", K_POLITE},
    {"thank you for the invitation", K_POLITE},
    {"sorry", K_POLITE},
    {"i'm sorry", K_POLITE},
    {"unfortunately", K_POLITE},
    {"please", K_POLITE},
    {"gladly", K_POLITE},
    {"with pleasure", K_POLITE},
    {"of course", K_POLITE},
    {"great", K_POLITE},
    {"see you", K_POLITE},
    {"see you there", K_POLITE},
    {"hi", K_POLITE},
    {"hello", K_POLITE},
    {"hey", K_POLITE},
    {"tak", K_POLITE},
    {"mange tak", K_POLITE},
    {"tusind tak", K_POLITE},
    {"tak for invitationen", K_POLITE},
    {"takk", K_POLITE},
    {"tusen takk", K_POLITE},
    {"takk for invitasjonen", K_POLITE},
    {"tack", K_POLITE},
    {"tusen tack", K_POLITE},
    {"tack s\xc3\xa5 mycket", K_POLITE},    /* tack så mycket */
    {"tack f\xc3\xb6r inbjudan", K_POLITE}, /* tack för inbjudan */
    {"desv\xc3\xa6rre", K_POLITE},          /* desværre */
    {"dessverre", K_POLITE},
    {"tyv\xc3\xa4rr", K_POLITE},    /* tyvärr */
    {"dessv\xc3\xa4rre", K_POLITE}, /* dessvärre */
    {"gerne", K_POLITE},
    {"meget gerne", K_POLITE},
    {"g\xc3\xa4rna", K_POLITE}, /* gärna */
    {"mycket g\xc3\xa4rna", K_POLITE},
    {"gjerne", K_POLITE},
    {"veldig gjerne", K_POLITE},
    {"vi ses", K_POLITE},
    {"hej", K_POLITE},
    {"hei", K_POLITE},
    {"kiitos", K_POLITE},
    {"kiitos kutsusta", K_POLITE},
    {"valitettavasti", K_POLITE},
    {"mielell\xc3\xa4\xc3\xa4n", K_POLITE},     /* mielellään */
    {"n\xc3\xa4hd\xc3\xa4\xc3\xa4n", K_POLITE}, /* nähdään */
    {"moi", K_POLITE},
    {"takk fyrir", K_POLITE},
    {"takk fyrir bo\xc3\xb0i\xc3\xb0", K_POLITE}, /* takk fyrir boðið */
    {"\xc3\xbev\xc3\xad mi\xc3\xb0ur", K_POLITE}, /* því miður */
    {"sj\xc3\xa1umst", K_POLITE},                 /* sjáumst */
    {"h\xc3\xa6", K_POLITE},                      /* hæ */
    {"hall\xc3\xb3", K_POLITE},                   /* halló */
    {"شكرا", K_POLITE},
    {"شكرا لك", K_POLITE},
    {"شكرا جزيلا", K_POLITE},
    {"للأسف", K_POLITE},
    {"عذرا", K_POLITE},
    {"بكل سرور", K_POLITE},
    {"مرحبا", K_POLITE},
};

/* First words of a greeting line ("Hi Anna,", "Kære alle"). */
static const char *const greetings[] = {
    "hi",           "hello",     "hey",          "dear",        "hej",
    "hei",          "moi",       "hyv\xc3\xa4",  "k\xc3\xa6re", "k\xc3\xa4ra",
    "kj\xc3\xa6re", "h\xc3\xa6", "hall\xc3\xb3", "s\xc3\xa6l",  "s\xc3\xa6ll",
    "مرحبا",        "السلام",    "عزيزي",        "عزيزتي",
};

/* Calendar clients' text replies: "Accepted: Networking dinner". */
static const struct {
	const char *w;
	enum rsvp_answer a;
} cal_prefixes[] = {
    {"accepted", RSVP_YES},
    {"declined", RSVP_NO},
    {"tentative", RSVP_MAYBE},
    {"tentatively accepted", RSVP_MAYBE},
    /* da */
    {"accepteret", RSVP_YES},
    {"afvist", RSVP_NO},
    {"afsl\xc3\xa5\x65t", RSVP_NO},      /* afslået */
    {"forel\xc3\xb8\x62ig", RSVP_MAYBE}, /* foreløbig */
    {"forel\xc3\xb8\x62igt accepteret", RSVP_MAYBE},
    /* sv */
    {"accepterat", RSVP_YES},
    {"accepterad", RSVP_YES},
    {"avb\xc3\xb6jt", RSVP_NO},         /* avböjt */
    {"prelimin\xc3\xa4rt", RSVP_MAYBE}, /* preliminärt */
    {"prelimin\xc3\xa4rt accepterat", RSVP_MAYBE},
    /* nb */
    {"godtatt", RSVP_YES},
    {"akseptert", RSVP_YES},
    {"avsl\xc3\xa5tt", RSVP_NO},      /* avslått */
    {"forel\xc3\xb8pig", RSVP_MAYBE}, /* foreløpig */
    {"forel\xc3\xb8pig godtatt", RSVP_MAYBE},
    /* fi */
    {"hyv\xc3\xa4ksytty", RSVP_YES}, /* hyväksytty */
    {"hyl\xc3\xa4tty", RSVP_NO},     /* hylätty */
    {"alustava", RSVP_MAYBE},
    {"alustavasti hyv\xc3\xa4ksytty", RSVP_MAYBE},
    /* is */
    {"sam\xc3\xbeykkt", RSVP_YES},        /* samþykkt */
    {"hafna\xc3\xb0", RSVP_NO},           /* hafnað */
    {"me\xc3\xb0 fyrirvara", RSVP_MAYBE}, /* með fyrirvara */
    /* ar */
    {"مقبول", RSVP_YES},
    {"مرفوض", RSVP_NO},
    {"مبدئي", RSVP_MAYBE},
};

/* Reply and forward markers stripped from the Subject (before a ':'). */
static const char *const markers[] = {
    "re", "aw",   "sv",   "vs",  "vast", "fwd",
    "fw", "antw", "svar", "odp", "wg",   "\xd8\xb1\xd8\xaf", /* رد */
};

/* Signs of an Outlook header block ("From: Anna <a@b>"). */
static const char *const from_words[] = {
    "from:",
    "fra:",
    "fr\xc3\xa5n:",
    "fr\xc3\xa1:",
    "l\xc3\xa4hett\xc3\xa4j\xc3\xa4:",
    "von:",
    "van:",
    "de:",
    "\xd9\x85\xd9\x86:", /* من: */
};

/* The verbs of attribution lines ("... wrote:", "... skrev:"). */
static const char *const wrote_words[] = {
    " wrote",
    " skrev",
    " skreiv",
    " kirjoitti",
    " skrifa\xc3\xb0i",
    " schrieb",
    "\xd9\x83\xd8\xaa\xd8\xa8", /* كتب */
};

const char *
rsvp_answer_name(enum rsvp_answer a)
{
	switch (a) {
	case RSVP_YES:
		return "yes";
	case RSVP_NO:
		return "no";
	case RSVP_MAYBE:
		return "maybe";
	default:
		return "none";
	}
}

/*
 * Normalisation: each input character becomes a word byte, a space (a
 * separator), nothing (ignored), or makes the line unusable (a question,
 * invalid UTF-8).
 */
enum cls { C_COPY, C_SEP, C_DROP, C_BAD };

/* Class of the l-byte character at u (valid UTF-8). */
static enum cls
char_class(const unsigned char *u, size_t l)
{
	if (l == 1) {
		if (u[0] == '?')
			return C_BAD;
		if (isalnum(u[0]) || u[0] == '\'' || u[0] == '+' ||
		    u[0] >= 0x80)
			return C_COPY;
		return C_SEP; /* blanks, controls, other punctuation */
	}
	if (l == 2) {
		if (u[0] == 0xc2 && u[1] == 0xbf) /* ¿ */
			return C_BAD;
		if (u[0] == 0xc2 && u[1] < 0xc0 && u[1] != 0xb4)
			return C_SEP; /* C1, NBSP, ¡ « » · ... */
		if (u[0] == 0xd8 && u[1] == 0x9f) /* ؟ */
			return C_BAD;
		if (u[0] == 0xd8 && (u[1] == 0x8c || u[1] == 0x9b))
			return C_SEP;             /* ، ؛ */
		if (u[0] == 0xdb && u[1] == 0x94) /* ۔ */
			return C_SEP;
		if (u[0] == 0xd9 &&
		    (u[1] == 0x80 || (u[1] >= 0x8b && u[1] <= 0x92) ||
		     u[1] == 0xb0))
			return C_DROP; /* tatweel, tashkeel */
		return C_COPY;
	}
	if (l == 3) {
		if (u[0] == 0xe2 && u[1] == 0x80) {
			if ((u[2] >= 0x8b && u[2] <= 0x8f) ||
			    (u[2] >= 0xaa && u[2] <= 0xae))
				return C_DROP; /* zero width, bidi marks */
			if (u[2] == 0x98 || u[2] == 0x99 || u[2] == 0x9b)
				return C_COPY; /* apostrophes: see normalise */
			return C_SEP;          /* spaces, dashes, quotes, ... */
		}
		if (u[0] == 0xe2 && u[1] == 0x81)
			return u[2] >= 0xa0 && u[2] <= 0xaf ? C_DROP : C_SEP;
		if (u[0] == 0xe2 && u[1] >= 0x98 && u[1] <= 0x9e)
			return C_SEP; /* symbols, dingbats: ✓ ❤ */
		if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
			return C_SEP; /* ideographic space */
		if (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
			return C_DROP; /* BOM */
		if (u[0] == 0xef && u[1] == 0xb8 && u[2] <= 0x8f)
			return C_DROP; /* variation selectors */
		if (u[0] == 0xef && u[1] == 0xbc && u[2] == 0x9f)
			return C_BAD; /* ？ */
		return C_COPY;
	}
	if (u[0] == 0xf0 && u[1] == 0x9f)
		return C_SEP; /* emoji */
	return C_COPY;
}

/* A letter plus a combining mark (U+0301, U+0308, U+030A, U+0338)
 * composed, as the second byte after 0xc3; 0 if not in the table. */
static unsigned char
compose(unsigned char base, unsigned char mark)
{
	static const struct {
		unsigned char base, mark, c3;
	} t[] = {
	    {'a', 0x81, 0xa1}, {'e', 0x81, 0xa9}, {'i', 0x81, 0xad},
	    {'o', 0x81, 0xb3}, {'u', 0x81, 0xba}, {'y', 0x81, 0xbd},
	    {'a', 0x88, 0xa4}, {'e', 0x88, 0xab}, {'i', 0x88, 0xaf},
	    {'o', 0x88, 0xb6}, {'u', 0x88, 0xbc}, {'y', 0x88, 0xbf},
	    {'a', 0x8a, 0xa5}, {'o', 0xb8, 0xb8},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].base == base && t[i].mark == mark)
			return t[i].c3;
	return 0;
}

/*
 * Normalise n bytes of s into out (size sz): lower case, one space
 * between words, "+" its own word, apostrophes as U+0027.  Returns the
 * length, or -1 if the text cannot be an answer (a question mark,
 * invalid UTF-8, too long).
 */
static int
normalise(const char *s, size_t n, char *out, size_t sz)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, l;
	unsigned char c3;

#define PUT(c)                                                                 \
	do {                                                                   \
		if (o + 1 >= sz)                                               \
			return -1;                                             \
		out[o++] = (char)(c);                                          \
	} while (0)
#define SEP()                                                                  \
	do {                                                                   \
		if (o > 0 && out[o - 1] != ' ')                                \
			PUT(' ');                                              \
	} while (0)

	while (i < n) {
		if ((l = utf8_seq_len(u + i, n - i)) == 0 || u[i] == 0)
			return -1;
		switch (char_class(u + i, l)) {
		case C_BAD:
			return -1;
		case C_DROP:
			break;
		case C_SEP:
			SEP();
			break;
		case C_COPY:
			if (l == 1 && u[i] == '+') {
				SEP();
				PUT('+');
				PUT(' ');
			} else if (l == 1) {
				PUT(tolower(u[i]));
			} else if (l == 3) { /* ’ ‘ ‛ or any other */
				if (u[i] == 0xe2 && u[i + 1] == 0x80 &&
				    (u[i + 2] == 0x98 || u[i + 2] == 0x99 ||
				     u[i + 2] == 0x9b)) {
					PUT('\'');
				} else {
					PUT(u[i]);
					PUT(u[i + 1]);
					PUT(u[i + 2]);
				}
			} else if (l == 2 && u[i] == 0xc2 && u[i + 1] == 0xb4) {
				PUT('\''); /* ´ */
			} else if (l == 2 && u[i] == 0xc3 && u[i + 1] >= 0x80 &&
			           u[i + 1] <= 0x9e && u[i + 1] != 0x97) {
				PUT(0xc3); /* Latin-1 capital */
				PUT(u[i + 1] + 0x20);
			} else if (l == 2 &&
			           (u[i] == 0xcc ||
			            (u[i] == 0xcd && u[i + 1] <= 0xaf)) &&
			           o > 0 &&
			           (c3 = compose((unsigned char)out[o - 1],
			                         u[i] == 0xcc ? u[i + 1]
			                                      : 0)) != 0) {
				out[o - 1] = (char)0xc3;
				PUT(c3);
			} else {
				while (l-- > 0)
					PUT(u[i++]);
				continue;
			}
			break;
		}
		i += l;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return (int)o;
#undef PUT
#undef SEP
}

/* What one line says. */
enum line_kind {
	L_PROSE,    /* an unknown word, too long, a question */
	L_ANSWER,   /* answer set */
	L_CONFLICT, /* answer words that disagree, "no +1", two "+N" */
	L_POLITE,   /* only courtesy words: "Thanks!" */
	L_GREETING, /* "Hi Anna," */
	L_NOTHING   /* no words: "...", an emoji */
};

struct verdict {
	enum line_kind kind;
	enum rsvp_answer answer;
	int guests;
};

/* Words matched by phrase p at tok[i..], or 0. */
static size_t
match_at(char **tok, size_t ntok, size_t i, const char *p)
{
	size_t k = 0, wl;
	const char *sp;

	for (;;) {
		if (i + k >= ntok)
			return 0;
		sp = strchr(p, ' ');
		wl = sp ? (size_t)(sp - p) : strlen(p);
		if (strlen(tok[i + k]) != wl || memcmp(tok[i + k], p, wl) != 0)
			return 0;
		k++;
		if (sp == NULL)
			return k;
		p = sp + 1;
	}
}

static int
is_greeting(const char *w)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(greetings); i++)
		if (strcmp(w, greetings[i]) == 0)
			return 1;
	return 0;
}

/* Classify n bytes (one line, not a Subject). */
static void
classify(const char *s, size_t n, struct verdict *v)
{
	char buf[3 * RSVP_LINE_MAX + 1], *tok[RSVP_WORDS_MAX + 2], *p;
	size_t ntok = 0, i, j, best, k, nwords = 0;
	int seen[3] = {0, 0, 0}, plus = -1, nplus = 0, nseen = 0;
	enum kind bk = K_POLITE;

	v->kind = L_PROSE;
	v->answer = RSVP_NONE;
	v->guests = 0;
	if (n > RSVP_LINE_MAX || normalise(s, n, buf, sizeof(buf)) < 0)
		return;
	/* split; "+" and the digits after it are one word */
	for (p = buf; *p;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (ntok == ARRAY_SIZE(tok))
			return; /* too many words */
		tok[ntok] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		/* 'quoted' words: drop the apostrophes around them */
		while (tok[ntok][0] == '\'')
			tok[ntok]++;
		for (k = strlen(tok[ntok]); k > 0 && tok[ntok][k - 1] == '\'';)
			tok[ntok][--k] = '\0';
		if (tok[ntok][0] != '\0')
			ntok++;
	}
	if (ntok == 0) {
		v->kind = L_NOTHING;
		return;
	}
	if (is_greeting(tok[0]) && ntok <= 3)
		v->kind = L_GREETING; /* unless all of it is known, below */

	for (i = 0; i < ntok; i += best, nwords++) {
		if (strcmp(tok[i], "+") == 0) {
			const char *d = i + 1 < ntok ? tok[i + 1] : "";

			if (!isdigit((unsigned char)d[0]) ||
			    (d[1] != '\0' &&
			     (!isdigit((unsigned char)d[1]) || d[2] != '\0')))
				goto unknown;
			plus =
			    d[1] ? 10 * (d[0] - '0') + d[1] - '0' : d[0] - '0';
			nplus++;
			best = 2;
			continue;
		}
		best = 0;
		for (j = 0; j < ARRAY_SIZE(phrases); j++) {
			k = match_at(tok, ntok, i, phrases[j].w);
			if (k > best) {
				best = k;
				bk = phrases[j].k;
			}
		}
		if (best == 0)
			goto unknown;
		if (bk != K_POLITE && !seen[bk]) {
			seen[bk] = 1;
			nseen++;
		}
		/* "ja tak" is one phrase but two words */
		nwords += best - 1;
	}
	if (nwords > RSVP_WORDS_MAX)
		return;
	if (nseen == 0 && nplus == 0) {
		v->kind = L_POLITE;
		return;
	}
	v->kind = L_CONFLICT;
	if (nseen > 1 || nplus > 1 || plus > RSVP_GUESTS_MAX)
		return;
	if (nplus == 1 && (seen[K_NO] || (nseen == 0 && plus == 0)))
		return; /* "no +1"; "+0" alone says nothing */
	v->kind = L_ANSWER;
	v->answer = seen[K_NO]      ? RSVP_NO
	            : seen[K_MAYBE] ? RSVP_MAYBE
	                            : RSVP_YES;
	v->guests = nplus ? plus : 0;
	return;

unknown:
	if (v->kind != L_GREETING)
		v->kind = L_PROSE;
}

/* The Subject without "Re:", "Sv:", "[tag]" ... in front. */
static const char *
strip_subject(const char *s, const char *end)
{
	size_t i, ml;
	const char *q;
	int more = 1;

	while (more) {
		more = 0;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s < end && *s == '[') {
			for (q = s + 1; q < end && *q != ']' && q - s < 80; q++)
				;
			if (q < end && *q == ']') {
				s = q + 1;
				more = 1;
				continue;
			}
		}
		for (i = 0; i < ARRAY_SIZE(markers); i++) {
			ml = strlen(markers[i]);
			if ((size_t)(end - s) < ml ||
			    strncasecmp(s, markers[i], ml) != 0)
				continue;
			q = s + ml;
			if (q < end && *q == '[') /* "Re[2]:" */
				for (q++; q < end && isdigit((unsigned char)*q);
				     q++)
					;
			if (q > s + ml && (q >= end || *q++ != ']'))
				continue;
			while (q < end && *q == ' ')
				q++;
			if (q < end && *q == ':') {
				s = q + 1;
				more = 1;
				break;
			}
		}
	}
	return s;
}

enum rsvp_answer
rsvp_word(const char *s, size_t n, int *guests)
{
	const char *end, *colon;
	char buf[3 * 48 + 1];
	struct verdict v;
	size_t i;

	if (guests)
		*guests = 0;
	if (s == NULL)
		return RSVP_NONE;
	end = s + n;
	s = strip_subject(s, end);
	/* "Accepted: Networking dinner" */
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon && colon - s <= 48 &&
	    normalise(s, (size_t)(colon - s), buf, sizeof(buf)) > 0)
		for (i = 0; i < ARRAY_SIZE(cal_prefixes); i++)
			if (strcmp(buf, cal_prefixes[i].w) == 0)
				return cal_prefixes[i].a;
	classify(s, (size_t)(end - s), &v);
	if (v.kind != L_ANSWER)
		return RSVP_NONE;
	if (guests)
		*guests = v.guests;
	return v.answer;
}

/* Length of an invisible character at the start of u (n bytes left):
 * ASCII blanks, NBSP, zero width, bidi marks, BOM; 0 if none. */
static size_t
invisible_at(const unsigned char *u, size_t n)
{
	if (n >= 1 && (u[0] <= 0x20 || u[0] == 0x7f))
		return 1;
	if (n >= 2 && u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	if (n >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8f) || (u[2] >= 0xa8 && u[2] <= 0xaf)))
		return 3;
	if (n >= 3 && u[0] == 0xe2 && u[1] == 0x81 && u[2] >= 0xa6 &&
	    u[2] <= 0xa9)
		return 3;
	if (n >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		return 3;
	return 0;
}

/* Trim invisible characters from both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	size_t l, k;

	while (*s < *e && (l = invisible_at((const unsigned char *)*s,
	                                    (size_t)(*e - *s))) > 0)
		*s += l;
	for (;;) {
		/* the last character starts at most 3 bytes back */
		for (k = 1; k <= 3 && (size_t)(*e - *s) >= k; k++)
			if (invisible_at((const unsigned char *)*e - k, k) == k)
				break;
		if (k > 3 || (size_t)(*e - *s) < k)
			break;
		*e -= k;
	}
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && strncasecmp(s + n - sl, suffix, sl) == 0;
}

/* "--", "-- ", "___...": the signature or Outlook's rule. */
static int
is_signature(const char *s, size_t n)
{
	size_t i;

	if (n == 2 && s[0] == '-' && s[1] == '-')
		return 1;
	for (i = 0; i < n && s[i] == '_'; i++)
		;
	return n >= 2 && i == n;
}

/* "-----Original Message-----", "-----Ursprungligt meddelande-----",
 * "-------- Forwarded Message --------", ... ; or an Outlook header line
 * ("From: Anna <a@b>", "Fra:", ...). */
static int
is_separator(const char *s, size_t n)
{
	size_t i, l;

	if (n >= 5 && memcmp(s, "-----", 5) == 0)
		return 1;
	for (i = 0; i < ARRAY_SIZE(from_words); i++) {
		l = strlen(from_words[i]);
		if (n > l && strncasecmp(s, from_words[i], l) == 0 &&
		    (s[l] == ' ' || s[l] == '\t'))
			return 1;
	}
	return 0;
}

/* Known attribution lines, whatever follows: "On ... wrote:", "Den ...
 * skrev Anna <a@b>:", "Anna kirjoitti:". */
static int
is_attribution(const char *s, size_t n)
{
	size_t i, l;

	if (n < 4 || s[n - 1] != ':')
		return 0;
	for (i = 0; i < ARRAY_SIZE(wrote_words); i++) {
		l = strlen(wrote_words[i]);
		if (memmem(s, n, wrote_words[i], l) != NULL)
			return 1;
	}
	return 0;
}

/* Does the first non-blank line from p on start with '>'? */
static int
quote_follows(const char *p, const char *end)
{
	const char *nl, *s, *e;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		s = p;
		e = nl;
		trim(&s, &e);
		if (s < e)
			return *s == '>';
	}
	return 0;
}

/* Does the line end a sentence (so an answer after it stands alone)? */
static int
closes(const char *s, size_t n)
{
	return n > 0 && ((s[n - 1] != '\0' && strchr(".!?:;)", s[n - 1])) ||
	                 ends_with(s, n, "\xd8\x9f") ||    /* ؟ */
	                 ends_with(s, n, "\xe2\x80\xa6")); /* … */
}

/* Does a prose line start with a lower-case letter (a wrapped sentence's
 * tail)? */
static int
starts_lower(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	return n > 0 && (islower(u[0]) || (n > 1 && u[0] == 0xc3 &&
	                                   u[1] >= 0xa0 && u[1] != 0xb7));
}

/* The part whose text is the answer, or NULL. */
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

/* The answer of the body text (see rsvp_parse.h); guests too. */
static enum rsvp_answer
body_answer(const char *text, size_t len, int *guests)
{
	struct {
		const char *s;
		size_t n;
		struct verdict v;
	} ln[RSVP_BODY_LINES];
	const char *p, *nl, *s, *e, *end = text + len;
	enum rsvp_answer a = RSVP_NONE;
	size_t n = 0, nread = 0, i;
	int g = 0;

	*guests = 0;
	for (p = text; p < end && nread < RSVP_BODY_LINES; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		s = p;
		e = nl;
		trim(&s, &e);
		if (s == e || *s == '>' || is_attribution(s, (size_t)(e - s)) ||
		    (e[-1] == ':' && quote_follows(nl, end))) {
			if (n > 0)
				break; /* the end of the first paragraph */
			continue;
		}
		if (is_signature(s, (size_t)(e - s)) ||
		    is_separator(s, (size_t)(e - s)))
			break;
		ln[n].s = s;
		ln[n].n = (size_t)(e - s);
		classify(s, ln[n].n, &ln[n].v);
		nread++;
		/* "Hi Anna," or "Thanks!" alone does not start the paragraph
		 * (a blank line often follows it) */
		if (n == 0 &&
		    (ln[n].v.kind == L_GREETING || ln[n].v.kind == L_POLITE))
			continue;
		n++;
	}

	for (i = 0; i < n; i++) {
		if (ln[i].v.kind != L_ANSWER && ln[i].v.kind != L_CONFLICT)
			continue;
		/* the tail of a wrapped sentence: "... I would say\nno." */
		if (i > 0 && ln[i - 1].v.kind == L_PROSE &&
		    !closes(ln[i - 1].s, ln[i - 1].n))
			continue;
		/* the head of one: "Yes\nif I can bring my dog." */
		if (i + 1 < n && ln[i + 1].v.kind == L_PROSE &&
		    !closes(ln[i].s, ln[i].n) &&
		    starts_lower(ln[i + 1].s, ln[i + 1].n))
			continue;
		if (ln[i].v.kind == L_CONFLICT)
			return RSVP_NONE;
		if ((a != RSVP_NONE && a != ln[i].v.answer) ||
		    (g && ln[i].v.guests && g != ln[i].v.guests))
			return RSVP_NONE;
		a = ln[i].v.answer;
		if (ln[i].v.guests)
			g = ln[i].v.guests;
	}
	if (a == RSVP_NO && g)
		return RSVP_NONE; /* "no" then "+1" */
	*guests = a == RSVP_NONE ? 0 : g;
	return a;
}

int
rsvp_parse(const struct msg *m, struct rsvp_text *r)
{
	const struct msg_part *p;
	struct buf html = BUF_INIT;
	const char *text = NULL;
	enum rsvp_answer sa = RSVP_NONE, ba = RSVP_NONE;
	size_t len = 0;
	int sg = 0, bg = 0;

	if (r == NULL)
		return -1;
	r->answer = RSVP_NONE;
	r->guests = 0;
	if (m == NULL)
		return -1;

	if (m->subject && *m->subject)
		sa = rsvp_word(m->subject, strlen(m->subject), &sg);

	if ((p = body_part(m, "text/plain")) != NULL) {
		text = p->text;
		len = p->text_len < RSVP_TEXT_MAX ? p->text_len : RSVP_TEXT_MAX;
	} else if ((p = body_part(m, "text/html")) != NULL) {
		buf_init(&html, RSVP_TEXT_MAX);
		if (html_to_text(p->text,
		                 p->text_len < RSVP_HTML_MAX ? p->text_len
		                                             : RSVP_HTML_MAX,
		                 &html) == 0) {
			text = buf_str(&html);
			len = html.len;
		}
	}
	if (text)
		ba = body_answer(text, len, &bg);
	buf_free(&html);

	if (sa != RSVP_NONE && ba != RSVP_NONE &&
	    (sa != ba || (sg && bg && sg != bg)))
		return 0; /* Subject and body disagree */
	r->answer = sa != RSVP_NONE ? sa : ba;
	r->guests = r->answer == RSVP_NONE ? 0 : sg ? sg : bg;
	if (r->answer == RSVP_NO && r->guests) {
		r->answer = RSVP_NONE; /* "no" in one, "+1" in the other */
		r->guests = 0;
	}
	return 0;
}
