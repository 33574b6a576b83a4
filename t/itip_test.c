/*
 * Unit tests for itip.c: the shared iCalendar corpus parses without crash
 * or leak, hand-made REPLY samples of Outlook, Google, Thunderbird and
 * Apple read correctly, built invitations re-parse (libical, its RFC 5546
 * restriction check, Python's icalendar if installed), RRULE expansion
 * across DST, and the limits on hostile calendars and rules.
 *
 * ITIP_CORPUS overrides the corpus folder (default
 * /work/shared/corpus/icalendar; skipped if absent).
 */
#include "config.h"

#include <dirent.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "itip.h"
#include "util.h"
#include "tap.h"

static const char *top;

static int
has_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (strncasecmp(s + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Every .ics below dir through itip_parse and itip_parse_reply. */
static void
corpus_dir(const char *dir, int *files, int *broken, int *parsed)
{
	struct dirent **ents;
	struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;
	struct itip_event ev;
	struct itip_reply r;
	enum itip_method m;
	struct stat st;
	size_t nl;
	int n, i, rc;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, name);
		if (name[0] == '.') {
		} else if (stat(buf_str(&path), &st) == 0 &&
		           S_ISDIR(st.st_mode)) {
			corpus_dir(buf_str(&path), files, broken, parsed);
		} else if ((nl = strlen(name)) > 4 &&
		           strcmp(name + nl - 4, ".ics") == 0) {
			(*files)++;
			if (read_file(buf_str(&path), &data) < 0) {
				ok(0, "read %s", buf_str(&path));
				free(ents[i]);
				continue;
			}
			buf_reset(&err);
			rc = itip_parse(data.s, data.len, &m, &ev, &err);
			itip_parse_reply(data.s, data.len, &r, NULL);
			if (!has_ci(data.s, data.len, "END:VCALENDAR")) {
				(*broken)++;
				ok(rc == -1,
				   "corpus %s (no END:VCALENDAR) "
				   "refused: %s",
				   name, buf_str(&err));
			} else {
				if (rc == 0)
					(*parsed)++;
				ok(rc == 0 || rc == -1, "corpus %s: %s", name,
				   rc == 0 ? ev.uid : buf_str(&err));
			}
		}
		free(ents[i]);
	}
	free(ents);
	buf_free(&path);
	buf_free(&data);
	buf_free(&err);
}

static void
test_corpus(void)
{
	const char *dir = getenv("ITIP_CORPUS");
	int files = 0, broken = 0, parsed = 0;

	if (dir == NULL)
		dir = "/work/shared/corpus/icalendar";
	if (access(dir, R_OK) != 0) {
		skip(1, "no iCalendar corpus");
		return;
	}
	corpus_dir(dir, &files, &broken, &parsed);
	diag("corpus: %d files, %d without END:VCALENDAR, %d with an event",
	     files, broken, parsed);
	ok(files >= 100 && broken >= 5 && parsed >= 50,
	   "corpus: %d files, %d broken, %d parsed", files, broken, parsed);
}

static const struct {
	const char *file, *attendee, *uid, *tzid, *delegated_to, *comment;
	enum itip_partstat ps;
	time_t start, rid;
	long sequence;
	int guests;
} replies[] = {
    {"outlook-accepted.ics", "mette.hansen@example.dk",
     "040000008200E00074C5B7101A82E0080000000030F1B6A1C2DAD9010000000000"
     "00000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90",
     "Europe/Paris", "", "Vi ses!", ITIP_ACCEPTED, 1741798800, 0, 0, 0},
    {"google-tentative.ics", "jonas.berg@gmail.com",
     "mlmd-dk-dinner-2025-03@lists.example.org", "", "",
     "Maybe, depends on my train", ITIP_TENTATIVE, 1741798800, 0, 0, 1},
    {"thunderbird-declined.ics", "soren@example.dk",
     "mlmd-dk-dinner-2025-03@lists.example.org", "Europe/Copenhagen", "", "",
     ITIP_DECLINED, 1741798800, 0, 2, 0},
    {"apple-accepted-upper.ics", "anna.virtanen@example.fi",
     "mlmd-fi-mentor-2025-03@lists.example.org", "Europe/Helsinki", "", "",
     ITIP_ACCEPTED, 1742454000, 0, 0, 0},
    {"google-recurrence-id.ics", "lars@example.no",
     "mlmd-dk-dinners@lists.example.org", "Europe/Copenhagen", "", "",
     ITIP_ACCEPTED, 1747065600, 1747065600, 1, 0},
    {"outlook-delegated.ics", "erik.lund@example.se",
     "mlmd-coord-2025-q2@lists.example.org", "", "deputy@example.se", "",
     ITIP_DELEGATED, 1743753600, 0, 0, 0},
};

static void
test_replies(void)
{
	struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;
	struct itip_reply r;
	enum itip_method m;
	struct itip_event ev;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(replies); i++) {
		const char *f = replies[i].file;

		buf_reset(&path);
		buf_printf(&path, "%s/t/data/itip/%s", top, f);
		if (!ok(read_file(buf_str(&path), &data) == 0, "read %s", f))
			continue;
		buf_reset(&err);
		if (!ok(itip_parse_reply(data.s, data.len, &r, &err) == 0,
		        "%s parses as a reply", f)) {
			diag("%s", buf_str(&err));
			continue;
		}
		is_str(r.attendee, replies[i].attendee, "%s attendee", f);
		is_str(itip_partstat_name(r.partstat),
		       itip_partstat_name(replies[i].ps), "%s partstat", f);
		is_str(r.ev.uid, replies[i].uid, "%s uid", f);
		is_int(r.ev.start, replies[i].start, "%s start (UTC)", f);
		is_int(r.ev.recurrence_id, replies[i].rid, "%s recurrence-id",
		       f);
		is_int(r.ev.sequence, replies[i].sequence, "%s sequence", f);
		is_str(r.ev.tzid, replies[i].tzid, "%s tzid", f);
		is_str(r.delegated_to, replies[i].delegated_to,
		       "%s delegated-to", f);
		is_int(r.guests, replies[i].guests, "%s guests", f);
		is_str(r.comment, replies[i].comment, "%s comment", f);
		ok(itip_parse(data.s, data.len, &m, &ev, NULL) == 0 &&
		       m == ITIP_REPLY,
		   "%s: itip_parse says REPLY", f);
	}
	/* The Outlook one: CET via its own VTIMEZONE, end, location. */
	buf_reset(&path);
	buf_printf(&path, "%s/t/data/itip/outlook-accepted.ics", top);
	read_file(buf_str(&path), &data);
	itip_parse_reply(data.s, data.len, &r, NULL);
	is_int(r.ev.end, 1741809600, "outlook end through VTIMEZONE");
	is_str(r.ev.location, "Restaurant Kronborg, Vesterbrogade 12",
	       "outlook location unescaped");
	buf_free(&path);
	buf_free(&data);
	buf_free(&err);
}

/* Each line ends in CRLF and holds at most 75 octets. */
static int
crlf_folded(const char *s)
{
	const char *nl;

	while (*s) {
		if ((nl = strchr(s, '\n')) == NULL)
			return 0;
		if (nl == s || nl[-1] != '\r' || nl - 1 - s > 75)
			return 0;
		s = nl + 1;
	}
	return 1;
}

/* icalrestriction_check on the re-parsed text, and no X-LIC-ERROR. */
static int
libical_clean(const char *s)
{
	icalcomponent *c = icalparser_parse_string(s);
	int good;

	if (c == NULL)
		return 0;
	good = icalcomponent_count_errors(c) == 0 &&
	       icalrestriction_check(c) == 1 &&
	       icalcomponent_count_errors(c) == 0;
	icalcomponent_free(c);
	return good;
}

static int
have_python_icalendar(void)
{
	return system("/usr/bin/python3 -c 'import icalendar' "
	              ">/dev/null 2>&1") == 0;
}

/* Python's icalendar reads METHOD, ATTENDEE, ORGANIZER and UID. */
static int
python_reads(const char *cal, const char *method, const char *attendee,
             const char *organizer, const char *uid)
{
	char path[] = "/tmp/itip_test.XXXXXX";
	struct buf cmd = BUF_INIT;
	int fd, rc;

	if ((fd = mkstemp(path)) < 0)
		return 0;
	write_all(fd, cal, strlen(cal));
	close(fd);
	buf_printf(&cmd,
	           "/usr/bin/python3 -c \"import icalendar,sys\n"
	           "c=icalendar.Calendar.from_ical(open(sys.argv[1],'rb')"
	           ".read())\n"
	           "e=[x for x in c.walk('VEVENT')][0]\n"
	           "a=e.get('ATTENDEE'); a=a[0] if isinstance(a,list) else a\n"
	           "got=[str(c['METHOD']),str(a).lower(),"
	           "str(e['ORGANIZER']).lower(),str(e['UID'])]\n"
	           "want=sys.argv[2:]\n"
	           "print('# python:',got)\n"
	           "sys.exit(0 if got==want else 1)\" %s %s mailto:%s "
	           "mailto:%s %s",
	           path, method, attendee, organizer, uid);
	fflush(stdout);
	rc = system(buf_str(&cmd));
	unlink(path);
	buf_free(&cmd);
	return rc == 0;
}

static void
sample_event(struct itip_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	strlcpy_(ev->uid, "mlmd-dk-dinner-2025-03@lists.example.org",
	         sizeof(ev->uid));
	ev->sequence = 3;
	strlcpy_(ev->summary, "Netværksmiddag; København, marts",
	         sizeof(ev->summary));
	strlcpy_(ev->location, "Restaurant Kronborg, Vesterbrogade 12",
	         sizeof(ev->location));
	strlcpy_(ev->description,
	         "Dear members,\nwelcome to the networking dinner of the "
	         "Denmark list. Bring a colleague; we have room for twenty "
	         "people, so answer soon.\n\tSee you!",
	         sizeof(ev->description));
	strlcpy_(ev->organizer, "denmark+rsvp-Q2FsZW5kYXI@lists.example.org",
	         sizeof(ev->organizer));
	ev->start = 1741798800;
	ev->end = 1741809600;
}

static void
test_build(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct itip_event ev, back;
	enum itip_method m;
	int py = have_python_icalendar();

	sample_event(&ev);
	ok(itip_build(ITIP_REQUEST, &ev, "MAILTO:Bob@Example.ORG",
	              "Bob \"The\" Builder", "Denmark list", 1741000000,
	              &out) == 0,
	   "build a REQUEST %s", buf_str(&err));
	ok(crlf_folded(buf_str(&out)), "CRLF lines of at most 75 octets");
	ok(strstr(buf_str(&out), "X-LIC-ERROR") == NULL, "no X-LIC-ERROR");
	ok(strstr(buf_str(&out), "RSVP=TRUE") &&
	       strstr(buf_str(&out), "PARTSTAT=NEEDS-ACTION") &&
	       strstr(buf_str(&out), "ROLE=REQ-PARTICIPANT") &&
	       strstr(buf_str(&out), "STATUS:CONFIRMED") &&
	       strstr(buf_str(&out), "PRODID:-//mlmd//mlmd//EN") &&
	       strstr(buf_str(&out), "DTSTART:20250312T170000Z") &&
	       strstr(buf_str(&out), "DTSTAMP:20250303T110640Z"),
	   "REQUEST properties");
	ok(libical_clean(buf_str(&out)), "libical restriction check passes");
	ok(itip_parse(out.s, out.len, &m, &back, &err) == 0, "re-parse");
	is_int(m, ITIP_REQUEST, "method");
	is_str(back.uid, ev.uid, "uid");
	is_int(back.sequence, 3, "sequence");
	is_str(back.summary, ev.summary, "summary");
	is_str(back.location, ev.location, "location");
	is_str(back.description, ev.description, "description");
	is_str(back.organizer, "denmark+rsvp-q2fszw5kyxi@lists.example.org",
	       "organizer (normalised)");
	is_int(back.start, ev.start, "start");
	is_int(back.end, ev.end, "end");
	if (py)
		ok(python_reads(buf_str(&out), "REQUEST", "bob@example.org",
		                "denmark+rsvp-q2fszw5kyxi@lists.example.org",
		                ev.uid),
		   "python icalendar reads the REQUEST");
	else
		skip(1, "no python3-icalendar");

	/* A series in Copenhagen time, with its VTIMEZONE. */
	buf_reset(&out);
	ev.start = 1736787600; /* 2025-01-13 18:00 CET */
	ev.end = ev.start + 3 * 3600;
	strlcpy_(ev.rrule, "FREQ=MONTHLY;INTERVAL=2", sizeof(ev.rrule));
	strlcpy_(ev.tzid, "Europe/Copenhagen", sizeof(ev.tzid));
	ok(itip_build(ITIP_REQUEST, &ev, "bob@example.org", NULL,
	              "Denmark list", 1741000000, &out) == 0,
	   "build a recurring REQUEST");
	ok(strstr(buf_str(&out), "BEGIN:VTIMEZONE") &&
	       strstr(buf_str(&out), "RRULE:FREQ=MONTHLY;INTERVAL=2"),
	   "VTIMEZONE and RRULE");
	ok(libical_clean(buf_str(&out)), "recurring: restriction check");
	ok(itip_parse(out.s, out.len, &m, &back, &err) == 0 &&
	       back.start == ev.start && back.end == ev.end &&
	       strcmp(back.rrule, ev.rrule) == 0 &&
	       strcmp(back.tzid, "Europe/Copenhagen") == 0,
	   "recurring re-parses: %s %s", back.rrule, back.tzid);
	if (py)
		ok(python_reads(buf_str(&out), "REQUEST", "bob@example.org",
		                "denmark+rsvp-q2fszw5kyxi@lists.example.org",
		                ev.uid),
		   "python icalendar reads the recurring REQUEST");
	else
		skip(1, "no python3-icalendar");

	/* Cancel one occurrence. */
	buf_reset(&out);
	ev.recurrence_id = 1747152000;
	ok(itip_build(ITIP_CANCEL, &ev, "bob@example.org", "Bob",
	              "Denmark list", 1741000000, &out) == 0,
	   "build a CANCEL");
	ok(strstr(buf_str(&out), "METHOD:CANCEL") &&
	       strstr(buf_str(&out), "STATUS:CANCELLED"),
	   "CANCEL properties");
	ok(libical_clean(buf_str(&out)), "CANCEL: restriction check");
	ok(itip_parse(out.s, out.len, &m, &back, &err) == 0 &&
	       m == ITIP_CANCEL && back.recurrence_id == 1747152000,
	   "CANCEL re-parses with its recurrence-id");
	if (py)
		ok(python_reads(buf_str(&out), "CANCEL", "bob@example.org",
		                "denmark+rsvp-q2fszw5kyxi@lists.example.org",
		                ev.uid),
		   "python icalendar reads the CANCEL");
	else
		skip(1, "no python3-icalendar");

	/* Refusals. */
	buf_reset(&out);
	ok(itip_build(ITIP_REPLY, &ev, "bob@example.org", NULL, NULL, 1,
	              &out) == -1,
	   "no REPLY building");
	ok(itip_build(ITIP_REQUEST, &ev, "not an address", NULL, NULL, 1,
	              &out) == -1,
	   "bad attendee refused");
	ev.uid[0] = '\0';
	ok(itip_build(ITIP_REQUEST, &ev, "bob@example.org", NULL, NULL, 1,
	              &out) == -1 &&
	       out.len == 0,
	   "event without UID refused");
	buf_free(&out);
	buf_free(&err);
}

static void
test_occurrences(void)
{
	static const time_t want[] = {1736787600, 1741885200, 1747152000,
	                              1752422400, 1757779200, 1763053200};
	struct itip_event ev;
	time_t out[1000];
	size_t n, i;
	int good;

	sample_event(&ev);
	ev.start = 1736787600; /* 2025-01-13 18:00 CET */
	strlcpy_(ev.rrule, "FREQ=MONTHLY;INTERVAL=2", sizeof(ev.rrule));
	strlcpy_(ev.tzid, "Europe/Copenhagen", sizeof(ev.tzid));
	n = itip_occurrences(&ev, ev.start, out, 6);
	is_int(n, 6, "six bimonthly dinners");
	for (i = 0, good = 1; i < n; i++)
		if (out[i] != want[i]) {
			diag("occurrence %zu: %lld want %lld", i,
			     (long long)out[i], (long long)want[i]);
			good = 0;
		}
	ok(good, "18:00 Copenhagen time across DST (17:00Z, then 16:00Z)");
	n = itip_occurrences(&ev, 1743465600, out, 2); /* from 1 April */
	ok(n == 2 && out[0] == want[2] && out[1] == want[3],
	   "from a date: the next two");
	n = itip_occurrences(&ev, ev.start, out, 1000);
	ok(n == 31 || n == 30, "5-year horizon: %zu occurrences", n);

	strlcpy_(ev.rrule, "FREQ=SECONDLY;INTERVAL=1", sizeof(ev.rrule));
	n = itip_occurrences(&ev, 0, out, 1000);
	ok(n == 1000 && out[999] == ev.start + 999,
	   "FREQ=SECONDLY without COUNT stops at max");
	strlcpy_(ev.rrule, "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
	         sizeof(ev.rrule));
	n = itip_occurrences(&ev, 0, out, 1000);
	ok(n == 1 && out[0] == ev.start,
	   "an impossible SECONDLY rule is not expanded");
	strlcpy_(ev.rrule, "FREQ=SECONDLY", sizeof(ev.rrule));
	n = itip_occurrences(&ev, ev.start + 10L * 366 * 86400, out, 10);
	is_int(n, 0, "SECONDLY from ten years later: step limit");
	strlcpy_(ev.rrule, "FREQ=DAILY;COUNT=3", sizeof(ev.rrule));
	n = itip_occurrences(&ev, 0, out, 10);
	is_int(n, 3, "COUNT=3");
	ev.rrule[0] = '\0';
	n = itip_occurrences(&ev, 0, out, 10);
	ok(n == 1 && out[0] == ev.start, "no RRULE: one");
	n = itip_occurrences(&ev, ev.start + 1, out, 10);
	is_int(n, 0, "no RRULE, from after: none");
	strlcpy_(ev.rrule, "garbage", sizeof(ev.rrule));
	n = itip_occurrences(&ev, 0, out, 10);
	is_int(n, 1, "a bad RRULE: the start only");
}

/* A REQUEST with the given VEVENT body lines. */
static void
wrap(struct buf *b, const char *method, const char *body)
{
	buf_reset(b);
	buf_printf(b,
	           "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
	           "METHOD:%s\r\nBEGIN:VEVENT\r\nUID:u1@example.org\r\n"
	           "DTSTAMP:20250101T000000Z\r\n%sEND:VEVENT\r\n"
	           "END:VCALENDAR\r\n",
	           method, body);
}

static void
test_hostile(void)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct itip_event ev;
	struct itip_reply r;
	enum itip_method m;
	int i;

	wrap(&b, "REQUEST",
	     "DTSTART:20250312T170000Z\r\nX-MLMD-CAPACITY:20\r\n"
	     "X-MLMD-RSVP-BY:20250305T120000Z\r\nSUMMARY:a\\nb\r\n");
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == 0 && ev.capacity == 20 &&
	       ev.rsvp_deadline == 1741176000,
	   "X-MLMD-CAPACITY and X-MLMD-RSVP-BY");
	is_str(ev.summary, "a b", "summary is one line");
	wrap(&b, "REQUEST", "DTSTART;VALUE=DATE:20250312\r\n");
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == 0 && ev.all_day &&
	       ev.start == 1741737600 && ev.end == ev.start + 86400,
	   "all-day event");
	wrap(&b, "REQUEST", "DTSTART:notadate\r\n");
	buf_reset(&err);
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == -1,
	   "unreadable DTSTART refused: %s", buf_str(&err));
	wrap(&b, "REQUEST", "SUMMARY:no start\r\n");
	ok(itip_parse(b.s, b.len, &m, &ev, NULL) == -1, "no DTSTART refused");

	/* Huge. */
	buf_reset(&b);
	buf_adds(&b, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"
	             "DTSTART:20250101T000000Z\r\n");
	while (b.len <= ITIP_MAX_BYTES)
		buf_adds(&b,
		         "X-PAD:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
	buf_adds(&b, "END:VEVENT\r\nEND:VCALENDAR\r\n");
	buf_reset(&err);
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == -1 &&
	       strstr(buf_str(&err), "larger"),
	   "more than 1 MB refused: %s", buf_str(&err));

	/* Deep, also with folded BEGIN lines. */
	buf_reset(&b);
	buf_adds(&b, "BEGIN:VCALENDAR\r\n");
	for (i = 0; i < 20000; i++)
		buf_adds(&b, "BEGIN:X-A\r\n");
	for (i = 0; i < 20000; i++)
		buf_adds(&b, "END:X-A\r\n");
	buf_adds(&b, "END:VCALENDAR\r\n");
	buf_reset(&err);
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == -1 &&
	       strstr(buf_str(&err), "nested"),
	   "deep nesting refused: %s", buf_str(&err));
	buf_reset(&b);
	buf_adds(&b, "BEGIN:VCALENDAR\r\n");
	for (i = 0; i < 20000; i++)
		buf_adds(&b, "B\r\n EGIN:X-A\r\n");
	for (i = 0; i < 20000; i++)
		buf_adds(&b, "END:X-A\r\n");
	buf_adds(&b, "END:VCALENDAR\r\n");
	buf_reset(&err);
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == -1 &&
	       strstr(buf_str(&err), "nested"),
	   "deep nesting with folded BEGIN refused: %s", buf_str(&err));

	/* Wide. */
	buf_reset(&b);
	buf_adds(&b, "BEGIN:VCALENDAR\r\n");
	for (i = 0; i < 300; i++)
		buf_adds(&b, "BEGIN:VTODO\r\nEND:VTODO\r\n");
	buf_adds(&b, "END:VCALENDAR\r\n");
	ok(itip_parse(b.s, b.len, &m, &ev, NULL) == -1,
	   "300 components refused");
	buf_reset(&b);
	buf_adds(&b, "BEGIN:VCALENDAR\r\n");
	for (i = 0; i < 60; i++)
		buf_printf(&b,
		           "BEGIN:VEVENT\r\nUID:%d\r\nDTSTART:20250101T"
		           "000000Z\r\nEND:VEVENT\r\n",
		           i);
	buf_adds(&b, "END:VCALENDAR\r\n");
	buf_reset(&err);
	ok(itip_parse(b.s, b.len, &m, &ev, &err) == -1 &&
	       strstr(buf_str(&err), "events"),
	   "60 VEVENTs refused: %s", buf_str(&err));
	ok(itip_parse("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", 32, &m, &ev,
	              NULL) == -1,
	   "no END refused");
	ok(itip_parse("BEGIN:VCALENDAR\0END:VCALENDAR\r\n", 31, &m, &ev,
	              NULL) == -1,
	   "NUL byte refused");

	/* Replies that are not acceptable. */
	wrap(&b, "REPLY",
	     "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org\r\n"
	     "ATTENDEE;PARTSTAT=ACCEPTED:mailto:b@example.org\r\n");
	ok(itip_parse_reply(b.s, b.len, &r, NULL) == -1,
	   "REPLY with two attendees refused");
	wrap(&b, "REQUEST",
	     "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org\r\n"
	     "DTSTART:20250312T170000Z\r\n");
	ok(itip_parse_reply(b.s, b.len, &r, NULL) == -1,
	   "REQUEST is not a reply");
	wrap(&b, "REPLY", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:nobody\r\n");
	ok(itip_parse_reply(b.s, b.len, &r, NULL) == -1,
	   "REPLY attendee without domain refused");
	wrap(&b, "REPLY",
	     "ATTENDEE;PARTSTAT=X-FOO;X-NUM-GUESTS=99999:MAILTO:A@B.ORG\r\n");
	ok(itip_parse_reply(b.s, b.len, &r, NULL) == 0 &&
	       r.partstat == ITIP_PARTSTAT_OTHER && r.guests == 0 &&
	       strcmp(r.attendee, "a@b.org") == 0,
	   "unknown PARTSTAT, absurd guests, MAILTO: upper case");
	buf_free(&b);
	buf_free(&err);
}

int
main(void)
{
	top = getenv("top_srcdir");
	if (top == NULL)
		top = ".";
	test_replies();
	test_build();
	test_occurrences();
	test_hostile();
	test_corpus();
	icaltimezone_free_builtin_timezones();
	return done_testing();
}
