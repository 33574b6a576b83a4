/*
 * rsvp_parse.h - the answer in a plain mail reply to an event invitation
 * (issue 8): "yes", "no", "maybe", optionally "+N" guests, in English,
 * Danish, Swedish, Norwegian, Finnish, Icelandic or Arabic, from any mail
 * client.  Pure: no I/O, no state.  Matching the mail to a member and an
 * event (by token) is the caller's business; calendar replies
 * (text/calendar; method=REPLY) are read elsewhere.
 */
#ifndef MLMD_RSVP_PARSE_H
#define MLMD_RSVP_PARSE_H

#include <stddef.h>

#include "msg.h"

enum rsvp_answer { RSVP_NONE, RSVP_YES, RSVP_NO, RSVP_MAYBE };

#define RSVP_GUESTS_MAX 9
/* Longest line (trimmed, bytes) that can be an answer; longer is prose. */
#define RSVP_LINE_MAX 160
/* Most words on an answer line ("yes +1 thanks for the invitation"). */
#define RSVP_WORDS_MAX 6
/* Non-empty, unquoted body lines looked at. */
#define RSVP_BODY_LINES 5

struct rsvp_text {
	enum rsvp_answer answer;
	int guests; /* +N, 0..RSVP_GUESTS_MAX; 0 unless answer is YES or
	             * MAYBE */
};

/*
 * Read the answer of m: the Subject (see rsvp_word), then the body: the
 * first text/plain part that is not an attachment (MIME depth <= 2), else
 * the first such text/html part rendered as text.  In the body:
 *  - blank and quoted ('>') lines are skipped until something is read
 *    (bottom posting), and so is an attribution line ("On ... wrote:",
 *    "Den ... skrev:", "... kirjoitti:", or any line ending in ':' that is
 *    followed by '>' lines);
 *  - then the first paragraph is read: at most RSVP_BODY_LINES lines,
 *    ending at a blank line, a quoted line, an attribution line, a
 *    signature ("--", "-- ", "__..."), a separator ("-----Original
 *    Message-----", "-----Ursprungligt meddelande-----", any line of five
 *    or more '-' with text), or an Outlook header ("From:", "Fra:",
 *    "Från:", "Lähettäjä:", "Frá:", "من:" ...).  So an invitation quoted
 *    without '>' below a top-posted answer is never read.
 *  - a line counts as an answer if it is an answer line as for rsvp_word()
 *    (without the Subject-only rules: markers, "Accepted:"), unless it
 *    is the tail of a wrapped sentence (the line before it is prose not
 *    ending in . ! or ?) or the head of one (no closing punctuation and
 *    the next line is prose starting with a lower-case letter).
 * Answers that disagree (between lines, or Subject and body, including a
 * different guest count) give RSVP_NONE: a wrong answer is worse than
 * none.  A greeting line ("Hi,", "Hej Anna,") is skipped.
 *
 * Returns 0 with *r filled (RSVP_NONE if nothing was understood), -1 only
 * if m or r is NULL.  Linear in the message, bounded by RSVP_TEXT_MAX /
 * RSVP_HTML_MAX.
 */
#define RSVP_TEXT_MAX ((size_t)64 << 10)
#define RSVP_HTML_MAX ((size_t)256 << 10)
int rsvp_parse(const struct msg *m, struct rsvp_text *r);

/*
 * One Subject or line (n bytes, any bytes).  Strips reply markers ("Re:",
 * "Sv:", "Vs:", "Aw:", "Antw:", "Re[2]:", "رد:" ...) and "[tags]", then:
 *  - a calendar client's text reply prefix is the answer: "Accepted: ...",
 *    "Declined: ...", "Tentative: ...", "Tentatively accepted: ..." and
 *    the Danish, Swedish, Norwegian, Finnish, Icelandic and Arabic
 *    equivalents ("Accepteret:", "Avböjt:", "Foreløpig:", "Hyväksytty:",
 *    "Samþykkt:", ...); guests 0;
 *  - else the whole string must be an answer line: answer words
 *    ("yes", "ja tak", "kyllä", "نعم", "can't come", "ehkä", ...), at most
 *    one "+N" (N 0..9; "+N" alone means yes), courtesy words ("thanks",
 *    "desværre", "sorry", "شكرا", ...), punctuation; at most
 *    RSVP_WORDS_MAX words and RSVP_LINE_MAX bytes; no '?'; every word
 *    known; all answer words agreeing ("ja nej" is RSVP_NONE).
 * Case-insensitive for ASCII and the Latin-1 capitals (Å Æ Ø Ä Ö Ð Þ É
 * Á ...); a letter followed by a combining accent or ring counts as the
 * composed letter; NBSP and other Unicode spaces are spaces; bidi marks,
 * zero-width characters, Arabic tashkeel and tatweel, emoji are ignored.
 * *guests (may be NULL) gets N, 0 if none or not an answer.
 */
enum rsvp_answer rsvp_word(const char *s, size_t n, int *guests);

/* "none", "yes", "no", "maybe" (also for out-of-range values).  Never
 * NULL. */
const char *rsvp_answer_name(enum rsvp_answer a);

#endif
