/*
 * ctl_report.c - `mlmctl report [--list L] [--from YYYY-MM-DD --to
 * YYYY-MM-DD] [--format text|csv|json|html] [--lang LANG] [--output
 * FILE]`: the participation report (report.h) of one list or of all,
 * for the days from --from to --to, both included (UTC), by default the
 * previous calendar month.  --output writes FILE whole or not at all
 * (a temporary file renamed into place).
 *
 * Exit codes: EX_USAGE for a bad option, EX_DATAERR for a bad date or an
 * empty period, EX_NOUSER for an unknown list, EX_TEMPFAIL when the
 * database fails, EX_CANTCREAT when FILE cannot be written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "report.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr, "mlmctl: usage: mlmctl -c FILE report [--list LIST] "
	                "[--from YYYY-MM-DD --to YYYY-MM-DD] [--format "
	                "text|csv|json|html] [--lang LANG] [--output FILE]\n");
	return EX_USAGE;
}

/* A strict YYYY-MM-DD, a real day: its midnight UTC in *t.  0 / -1. */
static int
parse_day(const char *s, time_t *t)
{
	struct tm tm, back;
	int i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	             (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1)
		return -1;
	*t = timegm(&tm);
	/* 2026-02-30 normalises to March: refuse it */
	if (*t == (time_t)-1 || !gmtime_r(t, &back) ||
	    back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon)
		return -1;
	return 0;
}

/* The previous calendar month (UTC) of now. */
static void
last_month(time_t now, time_t *from, time_t *to)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	*to = timegm(&tm);
	tm.tm_mon--;
	*from = timegm(&tm);
}

/* A language code as a path component may be: [a-z]{2,3}, or with a
 * region (pt-BR). */
static int
lang_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 2 || n > 8)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (i >= 2 && (s[i] == '-' || s[i] == '_' ||
		                  (s[i] >= 'A' && s[i] <= 'Z')))))
			return 0;
	return 1;
}

/* out to path whole: a temporary file beside it, fsynced, renamed. */
static int
write_out(const char *path, const struct buf *out)
{
	struct buf tmp = BUF_INIT;
	int fd, rc = -1;

	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	          0644);
	if (fd >= 0) {
		if (write_all(fd, out->s ? out->s : "", out->len) == 0 &&
		    fsync(fd) == 0 && close(fd) == 0) {
			fd = -1;
			if (rename(buf_str(&tmp), path) == 0)
				rc = 0;
		}
		if (fd >= 0)
			close(fd);
		if (rc < 0) {
			int e = errno;

			unlink(buf_str(&tmp));
			errno = e;
		}
	}
	if (rc < 0)
		fprintf(stderr, "mlmctl: report: cannot write %s: %s\n", path,
		        strerror(errno));
	buf_free(&tmp);
	return rc;
}

int
ctl_report(struct ctl *ctl, int argc, char **argv)
{
	const char *list = NULL, *sfrom = NULL, *sto = NULL;
	const char *format = "text", *lang = NULL, *output = NULL;
	struct report r;
	struct buf out = BUF_INIT;
	struct db *db;
	time_t from, to;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char **opt = NULL;

		if (strcmp(argv[i], "--list") == 0)
			opt = &list;
		else if (strcmp(argv[i], "--from") == 0)
			opt = &sfrom;
		else if (strcmp(argv[i], "--to") == 0)
			opt = &sto;
		else if (strcmp(argv[i], "--format") == 0)
			opt = &format;
		else if (strcmp(argv[i], "--lang") == 0)
			opt = &lang;
		else if (strcmp(argv[i], "--output") == 0)
			opt = &output;
		if (!opt || i + 1 >= argc || !*argv[i + 1])
			return usage();
		*opt = argv[++i];
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
		fprintf(stderr, "mlmctl: report: --format is text, csv, json "
		                "or html, not '%s'\n", format);
		return EX_USAGE;
	}
	if (!sfrom != !sto) {
		fprintf(stderr, "mlmctl: report: give --from and --to "
		                "together (or neither: the previous month)\n");
		return EX_USAGE;
	}
	if (lang && !lang_ok(lang)) {
		fprintf(stderr, "mlmctl: report: '%s' is not a language code "
		                "(en, da, sv, nb, fi, is)\n", lang);
		return EX_USAGE;
	}
	if (list && !conf_list(ctl->conf, list)) {
		fprintf(stderr, "mlmctl: report: no list '%s' in %s\n", list,
		        ctl->conf_path);
		return EX_NOUSER;
	}
	if (sfrom) {
		if (parse_day(sfrom, &from) < 0 || parse_day(sto, &to) < 0) {
			fprintf(stderr, "mlmctl: report: dates are YYYY-MM-DD, "
			                "real days from 1970 on (got '%s' and "
			                "'%s')\n", sfrom, sto);
			return EX_DATAERR;
		}
		to += 24 * 3600; /* --to's day is in the period */
		if (to <= from) {
			fprintf(stderr, "mlmctl: report: --to %s is before "
			                "--from %s\n", sto, sfrom);
			return EX_DATAERR;
		}
	} else {
		last_month(time(NULL), &from, &to);
	}
	if (!lang)
		lang = list ? conf_list(ctl->conf, list)->language : "en";
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	if (report_build(ctl->conf, db, list, from, to,
	                 ctl->conf->report_threshold, &r) < 0) {
		report_free(&r);
		fprintf(stderr, "mlmctl: report: reading the figures failed "
		                "(see the log)\n");
		return EX_TEMPFAIL;
	}
	if (strcmp(format, "csv") == 0)
		rc = report_csv(&r, &out);
	else if (strcmp(format, "json") == 0)
		rc = report_json(&r, &out);
	else if (strcmp(format, "html") == 0)
		rc = report_html(ctl->conf, &r, lang, &out);
	else
		rc = report_text(ctl->conf, &r, lang, &out);
	report_free(&r);
	if (rc < 0) {
		buf_free(&out);
		fprintf(stderr, "mlmctl: report: the report is too large\n");
		return EX_SOFTWARE;
	}
	if (output) {
		rc = write_out(output, &out);
		buf_free(&out);
		return rc < 0 ? EX_CANTCREAT : EX_OK;
	}
	fwrite(out.s ? out.s : "", 1, out.len, stdout);
	buf_free(&out);
	return ctl_flush_stdout();
}
