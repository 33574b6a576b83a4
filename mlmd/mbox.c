/*
 * mbox.c - the mbox reader and writer (see mbox.h).  The formats are the
 * family described in RFC 4155 and Qmail's mbox(5): mboxo (From_ lines
 * quoted as ">From "), mboxrd (every ^>*From  line gains one '>'), and
 * what Mailman 2's pipermail exports (mboxo, "From x at y  DATE").
 *
 * Owns a struct mbox_reader: the file's bytes (a read-only mapping, or a
 * private copy for pipes), a cursor that only moves forward, and whether
 * the file was found not to be an mbox.  Invariants: the cursor is
 * always at the start of a line; between two calls of mbox_next() it is at
 * a From_ line or at the end; a message handed out is a copy, so the
 * pages behind the cursor can be dropped (MADV_DONTNEED every 64 MiB)
 * and a multi-gigabyte import keeps a small resident set.
 *
 * Splitting (mbox.h): a "From " line starts a message when it is the
 * first line, follows an empty line (and has something after "From "),
 * or parses as a From_ line (address + date with a four-digit year): the
 * last rule catches writers that did not leave a blank line, while a body
 * line such as "From here on, ..." after text stays in its message.
 *
 * Called by `mlmctl archive import` (ctl_archive.c) and the archive's
 * mbox downloads.  Errors are returned, never logged: the caller knows
 * the file name.  Nothing here is fatal except out-of-memory (xmalloc).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbox.h"
#include "util.h"

#define DROP_EVERY ((size_t)64 << 20) /* bytes between MADV_DONTNEED */
#define DATE_WORDS 8                  /* most words a From_ date has */

struct mbox_reader {
	const char *data;
	size_t len;
	size_t pos;     /* start of the next line to read */
	size_t dropped; /* pages before this offset were given back */
	void *map;      /* the mapping, or NULL */
	size_t map_len;
	struct buf copy; /* the bytes of a file that could not be mapped */
	int started;     /* a message was looked for already */
	int failed;      /* not an mbox: every call returns -1 */
	char err[160];
};

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed",
                                     "Thu", "Fri", "Sat"};

/* ----- reading ---------------------------------------------------------- */

struct mbox_reader *
mbox_open_mem(const char *data, size_t len)
{
	struct mbox_reader *r = xcalloc(1, sizeof(*r));

	r->data = len ? data : "";
	r->len = len;
	return r;
}

struct mbox_reader *
mbox_open(const char *path, struct buf *err)
{
	struct mbox_reader *r;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		buf_printf(err, "%s is a folder, not an mbox file", path);
		close(fd);
		return NULL;
	}
	r = mbox_open_mem(NULL, 0);
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uintmax_t)st.st_size > SIZE_MAX) {
			buf_printf(err, "%s is too big for this machine", path);
			close(fd);
			free(r);
			return NULL;
		}
		r->map_len = (size_t)st.st_size;
		r->map = mmap(NULL, r->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r->map == MAP_FAILED) {
			buf_printf(err, "cannot map %s: %s", path,
			           strerror(errno));
			close(fd);
			free(r);
			return NULL;
		}
		(void)madvise(r->map, r->map_len, MADV_SEQUENTIAL);
		r->data = r->map;
		r->len = r->map_len;
	} else if (!S_ISREG(st.st_mode)) {
		/* a pipe or a device: read it whole, within the cap */
		if (read_file(path, &r->copy) < 0) {
			buf_printf(err, "cannot read %s: %s", path,
			           strerror(errno));
			close(fd);
			buf_free(&r->copy);
			free(r);
			return NULL;
		}
		r->data = buf_str(&r->copy);
		r->len = r->copy.len;
	}
	close(fd);
	return r;
}

void
mbox_close(struct mbox_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->map_len);
	buf_free(&r->copy);
	free(r);
}

const char *
mbox_error(const struct mbox_reader *r)
{
	return r->err;
}

void
mbox_progress(const struct mbox_reader *r, off_t *done, off_t *total)
{
	*done = (off_t)r->pos;
	*total = (off_t)r->len;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return n > 0;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* 3 to 9 letters: a month or weekday name, short or long. */
static int
is_word(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || n > 9)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return 1;
}

static int
name_index(const char *s, size_t n, const char *const *names, int count)
{
	int i;

	if (n < 3)
		return -1;
	for (i = 0; i < count; i++)
		if (strncasecmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

/* "H:MM", "HH:MM" or "HH:MM:SS" into *secs. */
static int
parse_time(const char *s, size_t n, int *secs)
{
	int h, m, sec = 0;

	if (n < 4 || n > 8)
		return -1;
	if (s[1] == ':' && is_digit(s[0])) {
		h = num(s, 1);
		s += 2, n -= 2;
	} else if (n >= 5 && s[2] == ':' && all_digits(s, 2)) {
		h = num(s, 2);
		s += 3, n -= 3;
	} else {
		return -1;
	}
	if (n < 2 || !all_digits(s, 2))
		return -1;
	m = num(s, 2);
	if (n == 5 && s[2] == ':' && all_digits(s + 3, 2))
		sec = num(s + 3, 2);
	else if (n != 2)
		return -1;
	if (h > 23 || m > 59 || sec > 60)
		return -1;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

/*
 * The date words w[0..n): weekday, month, day, time, year and a zone
 * (+hhmm, -hhmm, a name, "(UTC)"; only after the time, so that a
 * sender such as "bob" is never read as a zone), each at most once, in
 * any order; month, day, time and year are required.
 */
static int
parse_date(const char *const *w, const size_t *wl, size_t n, time_t *out)
{
	int wday = 0, mon = -1, day = -1, secs = -1, year = -1, zone = 0;
	int have_zone = 0;
	struct tm tm;
	size_t i;
	time_t t;

	for (i = 0; i < n; i++) {
		const char *s = w[i];
		size_t l = wl[i];

		if (l > 1 && s[l - 1] == ',')
			l--;
		if (secs < 0 && memchr(s, ':', l)) {
			if (parse_time(s, l, &secs) < 0)
				return -1;
		} else if (all_digits(s, l) && l == 4 && year < 0) {
			year = num(s, 4);
		} else if (all_digits(s, l) && l <= 2 && day < 0) {
			day = num(s, l);
		} else if (l == 5 && (s[0] == '+' || s[0] == '-') &&
		           all_digits(s + 1, 4) && !have_zone && secs >= 0) {
			zone = (num(s + 1, 2) * 60 + num(s + 3, 2)) * 60;
			if (s[0] == '-')
				zone = -zone;
			have_zone = 1;
		} else if (mon < 0 && is_word(s, l) &&
		           name_index(s, l, months, 12) >= 0) {
			mon = name_index(s, l, months, 12);
		} else if (!wday && is_word(s, l) &&
		           name_index(s, l, wdays, 7) >= 0) {
			wday = 1;
		} else if (!have_zone && secs >= 0 && l >= 1 && l <= 7) {
			/* a zone name, possibly "(UTC)": taken as UTC */
			size_t j, a = s[0] == '(' ? 1 : 0;
			size_t b = l - (s[l - 1] == ')' ? 1 : 0);

			if (a >= b)
				return -1;
			for (j = a; j < b; j++)
				if (!((s[j] >= 'A' && s[j] <= 'Z') ||
				      (s[j] >= 'a' && s[j] <= 'z')))
					return -1;
			have_zone = 1;
		} else {
			return -1;
		}
	}
	if (mon < 0 || day < 1 || day > 31 || secs < 0 || year < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	if ((t = timegm(&tm)) == (time_t)-1) /* midnight: never -1 if ok */
		return -1;
	*out = t + secs - zone;
	return 0;
}

int
mbox_from_line(const char *line, size_t len, char *addr, size_t outsz,
               time_t *date)
{
	const char *w[DATE_WORDS + 1];
	size_t wl[DATE_WORDS + 1];
	size_t n = 0, i, first, p, end;

	/* The last DATE_WORDS + 1 words, from the right. */
	end = len;
	while (n < DATE_WORDS + 1) {
		while (end > 0 && is_space(line[end - 1]))
			end--;
		if (end == 0)
			break;
		p = end;
		while (p > 0 && !is_space(line[p - 1]))
			p--;
		w[DATE_WORDS - n] = line + p;
		wl[DATE_WORDS - n] = end - p;
		n++;
		end = p;
	}
	if (n == 0)
		return -1;
	first = DATE_WORDS + 1 - n;
	/* The longest tail that is a date; the words before are the
	 * address (most often one word, "x at y" from pipermail). */
	for (i = first; i <= DATE_WORDS; i++) {
		time_t t;
		size_t a, b, o = 0;

		if (parse_date(w + i, wl + i, DATE_WORDS + 1 - i, &t) < 0)
			continue;
		if (date)
			*date = t;
		if (!addr || outsz == 0)
			return 0;
		a = 0;
		while (a < len && is_space(line[a]))
			a++;
		b = (size_t)(w[i] - line);
		while (b > a && is_space(line[b - 1]))
			b--;
		/* "alice at example.com" -> "alice@example.com" */
		if (b - a > 8) {
			const char *at = NULL;
			size_t k, spaces = 0;

			for (k = a; k < b; k++)
				if (line[k] == ' ') {
					spaces++;
					if (!at && k + 4 <= b &&
					    memcmp(line + k, " at ", 4) == 0)
						at = line + k;
				}
			if (at && spaces == 2) {
				size_t left = (size_t)(at - (line + a));

				if (left + 1 + (b - a - left - 4) < outsz) {
					memcpy(addr, line + a, left);
					addr[left] = '@';
					memcpy(addr + left + 1, at + 4,
					       b - a - left - 4);
					addr[b - a - 3] = '\0';
					return 0;
				}
			}
		}
		if (b - a < outsz) {
			for (o = 0; a + o < b; o++)
				addr[o] = line[a + o];
		}
		addr[o] = '\0'; /* too long: "" */
		return 0;
	}
	return -1;
}

/* The line at pos: its length with the line end. */
static size_t
line_len(const struct mbox_reader *r, size_t pos)
{
	const char *nl = memchr(r->data + pos, '\n', r->len - pos);

	return nl ? (size_t)(nl - (r->data + pos)) + 1 : r->len - pos;
}

/* The length without "\n" or "\r\n". */
static size_t
content_len(const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n') {
		n--;
		if (n > 0 && s[n - 1] == '\r')
			n--;
	}
	return n;
}

static int
is_blank(const char *s, size_t n)
{
	return content_len(s, n) == 0 && n > 0;
}

/* "From " with something after it. */
static int
from_candidate(const char *s, size_t n)
{
	size_t i;

	if (n < 6 || memcmp(s, "From ", 5) != 0)
		return 0;
	for (i = 5; i < n; i++)
		if (!is_space(s[i]))
			return 1;
	return 0;
}

static int
looks_like_from(const char *s, size_t n)
{
	return from_candidate(s, n) &&
	       mbox_from_line(s + 5, content_len(s, n) - 5, NULL, 0, NULL) == 0;
}

/* A header field name and its colon: the start of a message. */
static int
looks_like_header(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':')
			return i > 0;
		if (c < 33 || c > 126)
			return 0;
	}
	return 0;
}

/* Give the pages behind the cursor back (they are clean file pages). */
static void
drop_behind(struct mbox_reader *r)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t upto;

	if (!r->map || r->pos - r->dropped < DROP_EVERY || ps <= 0)
		return;
	upto = r->pos - r->pos % (size_t)ps;
	if (upto > r->dropped)
		(void)madvise((char *)r->map + r->dropped, upto - r->dropped,
		              MADV_DONTNEED);
	r->dropped = upto;
}

int
mbox_next(struct mbox_reader *r, struct buf *msg, struct mbox_info *info)
{
	struct mbox_info dummy;
	int prev_blank = 0, too_big = 0;
	size_t n;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	buf_reset(msg);
	if (r->failed)
		return -1;
	/* blank lines before the first message (or after the last) */
	while (r->pos < r->len &&
	       is_blank(r->data + r->pos, line_len(r, r->pos)))
		r->pos += line_len(r, r->pos);
	if (r->pos >= r->len)
		return 0;
	info->offset = (off_t)r->pos;
	n = line_len(r, r->pos);
	if (from_candidate(r->data + r->pos, n)) {
		const char *s = r->data + r->pos + 5;

		if (mbox_from_line(s, content_len(s, n - 5), info->sender,
		                   sizeof(info->sender), &info->date) < 0) {
			/* no date: the first word is the address */
			size_t a = 0, b;

			while (is_space(s[a]))
				a++;
			for (b = a; b < n - 5 && !is_space(s[b]); b++)
				;
			if (b - a < sizeof(info->sender)) {
				memcpy(info->sender, s + a, b - a);
				info->sender[b - a] = '\0';
			}
			info->date = 0;
		}
		r->pos += n;
	} else if (r->started || !looks_like_header(r->data + r->pos, n)) {
		snprintf(r->err, sizeof(r->err),
		         "no \"From \" line at byte %zu: not an mbox file",
		         r->pos);
		r->failed = 1;
		return -1;
	}
	r->started = 1;

	while (r->pos < r->len) {
		const char *s = r->data + r->pos;
		size_t cl, q = 0;

		n = line_len(r, r->pos);
		if (n >= 5 && memcmp(s, "From ", 5) == 0 &&
		    ((prev_blank && from_candidate(s, n)) ||
		     looks_like_from(s, n)))
			break;
		cl = content_len(s, n);
		/* mboxrd: ^>+From  lost one '>' */
		while (q < cl && s[q] == '>')
			q++;
		q = q > 0 && cl - q >= 5 && memcmp(s + q, "From ", 5) == 0;
		if (!too_big && (buf_add(msg, s + q, cl - q) < 0 ||
		                 (cl < n && buf_addc(msg, '\n') < 0)))
			too_big = 1;
		prev_blank = is_blank(s, n);
		r->pos += n;
	}
	drop_behind(r);
	/* the blank line that separated it from the next message */
	if (prev_blank && msg->len > 0)
		buf_truncate(msg, msg->len - 1);
	if (too_big) {
		buf_reset(msg);
		info->too_big = 1;
	}
	return 1;
}

/* ----- writing ---------------------------------------------------------- */

int
mbox_append(struct buf *out, const char *msg, size_t len,
            const char *envelope_from, time_t date)
{
	const time_t max = (time_t)253402300799LL; /* 9999-12-31 23:59:59 */
	size_t start = out->len, i, n;
	const char *p = msg, *end = msg + len;
	struct tm tm;
	int rc = 0;

	if (!envelope_from || !*envelope_from)
		envelope_from = "MAILER-DAEMON";
	if (date < 0)
		date = 0;
	if (date > max)
		date = max;
	gmtime_r(&date, &tm);
	rc |= buf_adds(out, "From ");
	n = strlen(envelope_from);
	if (n > MBOX_ADDR_MAX)
		n = MBOX_ADDR_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)envelope_from[i];

		rc |= buf_addc(out, c <= ' ' || c == 0x7f ? '_' : c);
	}
	rc |= buf_printf(out, " %s %s %2d %02d:%02d:%02d %04d\n",
	                 wdays[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
	                 tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		size_t q = 0;

		while (q < l && p[q] == '>')
			q++;
		if (l - q >= 5 && memcmp(p + q, "From ", 5) == 0)
			rc |= buf_addc(out, '>');
		rc |= buf_add(out, p, l);
		p += l;
	}
	if (len == 0 || msg[len - 1] != '\n')
		rc |= buf_addc(out, '\n');
	rc |= buf_addc(out, '\n');
	if (rc != 0) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}
