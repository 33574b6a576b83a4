/*
 * ctl_event.c - `mlmctl event ...`: create an event (and invite the
 * list), list events, invite again, record attendance, cancel, report as
 * CSV.  The work is event.c's, the same as the daemon's.
 *
 *   event create LIST --title T --start "YYYY-MM-DD HH:MM"
 *         --end "YYYY-MM-DD HH:MM" [--place P] [--capacity N]
 *         [--deadline "YYYY-MM-DD HH:MM"] [--rrule RULE]
 *         [--description D] [--question Q] [--no-invite]
 *   event set ID [--title T] [--start TIME] [--end TIME] [--place P]
 *         [--capacity N] [--deadline TIME] [--description D] [--question Q]
 *   event list [LIST]
 *   event invite ID [ADDR]
 *   event report ID [--anonymous]
 *   event attended ID ADDR...
 *   event cancel ID [--date "YYYY-MM-DD HH:MM"]  (one date of a series)
 *
 * Times are read in the list's time zone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "event.h"
#include "outq.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr,
	        "mlmctl: usage: mlmctl -c FILE event create LIST --title T "
	        "--start \"YYYY-MM-DD HH:MM\" --end \"YYYY-MM-DD HH:MM\" "
	        "[--place P] [--capacity N] [--deadline TIME] [--rrule RULE] "
	        "[--description D] [--question Q] [--no-invite]\n"
	        "       event set ID [--title T] [--start TIME] [--end TIME] "
	        "[--place P] [--capacity N] [--deadline TIME] "
	        "[--description D] [--question Q]\n"
	        "       event list [LIST] | invite ID [ADDR] | report ID "
	        "[--anonymous] | attended ID ADDR... | cancel ID [--date TIME]\n");
	return EX_USAGE;
}

/* "YYYY-MM-DD HH:MM" in zone, or -1. */
static time_t
parse_time(const char *s, const char *zone)
{
	const char *saved = getenv("TZ");
	char *keep = saved ? xstrdup(saved) : NULL;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0;
	char tail;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d %2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) <
	        3 ||
	    y < 2000 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59) {
		free(keep);
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_isdst = -1;
	setenv("TZ", zone && *zone ? zone : "UTC", 1);
	tzset();
	t = mktime(&tm);
	if (keep) {
		setenv("TZ", keep, 1);
		free(keep);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return t;
}

struct ctl_ctx {
	struct event_ctx x;
	struct tmpl_set *tmpl;
	struct token_key key;
};

static int
open_ctx(struct ctl *ctl, struct ctl_ctx *cx)
{
	struct buf err = BUF_INIT;

	memset(cx, 0, sizeof(*cx));
	if (!(cx->x.db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	cx->tmpl = tmpl_set_load(ctl->conf->templates, &err);
	if (!cx->tmpl) {
		fprintf(stderr, "mlmctl: event: templates: %s", buf_str(&err));
		buf_free(&err);
		return EX_CONFIG;
	}
	buf_free(&err);
	if (token_key_load(cx->x.db, &cx->key) < 0) {
		tmpl_set_free(cx->tmpl);
		return EX_TEMPFAIL;
	}
	cx->x.c = ctl->conf;
	cx->x.tmpl = cx->tmpl;
	cx->x.key = &cx->key;
	return EX_OK;
}

static void
close_ctx(struct ctl_ctx *cx)
{
	tmpl_set_free(cx->tmpl);
}

static void
poke(struct ctl *ctl)
{
	if (outq_poke(ctl->conf->home, "queue") < 0)
		fprintf(stderr, "mlmctl: could not tell the daemon (%s/kick): "
		                "it sends within 30 seconds anyway\n",
		        ctl->conf->home);
}

static int
create(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l;
	struct event_row e;
	struct ctl_ctx cx;
	long long id;
	int i, invite = 1, ex;
	const char *start = NULL, *end = NULL, *deadline = NULL;

	if (argc < 3)
		return usage();
	if (!(l = conf_list(ctl->conf, argv[2]))) {
		fprintf(stderr, "mlmctl: event: no list '%s' in %s\n", argv[2],
		        ctl->conf_path);
		return EX_NOUSER;
	}
	memset(&e, 0, sizeof(e));
	e.list = xstrdup(l->name);
	for (i = 3; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char **dst = NULL;

		if (strcmp(o, "--no-invite") == 0) {
			invite = 0;
			continue;
		}
		if (!v) {
			event_row_clear(&e);
			return usage();
		}
		i++;
		if (strcmp(o, "--title") == 0)
			dst = &e.title;
		else if (strcmp(o, "--place") == 0)
			dst = &e.place;
		else if (strcmp(o, "--description") == 0)
			dst = &e.description;
		else if (strcmp(o, "--question") == 0)
			dst = &e.question;
		else if (strcmp(o, "--rrule") == 0)
			dst = &e.rrule;
		else if (strcmp(o, "--start") == 0)
			start = v;
		else if (strcmp(o, "--end") == 0)
			end = v;
		else if (strcmp(o, "--deadline") == 0)
			deadline = v;
		else if (strcmp(o, "--capacity") == 0) {
			char *cend;
			long n = strtol(v, &cend, 10);

			e.capacity = *v && !*cend && n >= 0 && n <= 100000
			                 ? (int)n
			                 : -1;
		} else {
			event_row_clear(&e);
			return usage();
		}
		if (dst) {
			free(*dst);
			*dst = xstrdup(v);
		}
	}
	if (!e.title || !start || !end) {
		event_row_clear(&e);
		return usage();
	}
#define SET(f) if (!e.f) e.f = xstrdup("")
	SET(place);
	SET(description);
	SET(question);
	SET(rrule);
	SET(tz);
	SET(organizer);
#undef SET
	free(e.tz);
	e.tz = xstrdup(l->timezone);
	e.dtstart = parse_time(start, l->timezone);
	e.dtend = parse_time(end, l->timezone);
	e.deadline = deadline ? parse_time(deadline, l->timezone) : 0;
	if (e.dtstart < 0 || e.dtend < 0 || e.deadline < 0 ||
	    e.dtend <= e.dtstart || e.capacity < 0) {
		fprintf(stderr, "mlmctl: event create: times are \"YYYY-MM-DD "
		                "HH:MM\" (the end after the start), the "
		                "capacity 0 or more\n");
		event_row_clear(&e);
		return EX_DATAERR;
	}
	if ((ex = open_ctx(ctl, &cx)) != EX_OK) {
		event_row_clear(&e);
		return ex;
	}
	if (event_create(&cx.x, &e, &id) < 0) {
		close_ctx(&cx);
		event_row_clear(&e);
		return EX_TEMPFAIL;
	}
	printf("event %lld created on %s: %s\n", id, l->name, e.title);
	if (invite) {
		long n = event_invite(&cx.x, id, NULL);

		if (n < 0) {
			fprintf(stderr, "mlmctl: event create: the invitations "
			                "failed (see the log); run `mlmctl event "
			                "invite %lld`\n",
			        id);
			close_ctx(&cx);
			event_row_clear(&e);
			return EX_TEMPFAIL;
		}
		printf("%ld invitations queued\n", n);
		poke(ctl);
	}
	close_ctx(&cx);
	event_row_clear(&e);
	return ctl_flush_stdout();
}

static int
list_line(const struct event_row *e, void *arg)
{
	struct db *db = arg;
	struct rsvp_counts cn;
	char when[32];

	ctl_when(e->dtstart, when, sizeof(when));
	if (db_rsvp_counts(db, e->id, 0, &cn) < 0)
		memset(&cn, 0, sizeof(cn));
	printf("%4lld  %-12s %s  %-9s cap %-4d inv %-4ld yes %-4ld no %-4ld "
	       "maybe %-4ld wait %-4ld  %s%s\n",
	       e->id, e->list, when, e->state, e->capacity, cn.invited, cn.yes,
	       cn.no, cn.maybe, cn.waitlist, e->title, *e->rrule ? " (series)"
	                                                          : "");
	return 0;
}

static long long event_id(const char *s);

/* event set ID ...: change an event; the invited are told (a new
 * SEQUENCE). */
static int
set(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l;
	struct event_row e;
	struct ctl_ctx cx;
	long long id;
	int i, ex;

	if (argc < 5 || (id = event_id(argv[2])) < 0)
		return usage();
	if ((ex = open_ctx(ctl, &cx)) != EX_OK)
		return ex;
	if (db_event_get(cx.x.db, id, &e) != 0 ||
	    !(l = conf_list(ctl->conf, e.list))) {
		fprintf(stderr, "mlmctl: event set: no event %lld\n", id);
		close_ctx(&cx);
		return EX_NOINPUT;
	}
	for (i = 3; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		time_t t = 0;

		if (!v)
			goto bad;
		if (strcmp(o, "--start") == 0 || strcmp(o, "--end") == 0 ||
		    strcmp(o, "--deadline") == 0) {
			t = parse_time(v, l->timezone);
			if (t < 0)
				goto bad;
		}
		if (strcmp(o, "--title") == 0) {
			free(e.title);
			e.title = xstrdup(v);
		} else if (strcmp(o, "--place") == 0) {
			free(e.place);
			e.place = xstrdup(v);
		} else if (strcmp(o, "--description") == 0) {
			free(e.description);
			e.description = xstrdup(v);
		} else if (strcmp(o, "--question") == 0) {
			free(e.question);
			e.question = xstrdup(v);
		} else if (strcmp(o, "--start") == 0) {
			time_t len = e.dtend - e.dtstart;

			e.dtstart = t;
			e.dtend = t + len; /* the same length unless --end */
		} else if (strcmp(o, "--end") == 0) {
			e.dtend = t;
		} else if (strcmp(o, "--deadline") == 0) {
			e.deadline = t;
		} else if (strcmp(o, "--capacity") == 0) {
			char *cend;
			long n = strtol(v, &cend, 10);

			if (!*v || *cend || n < 0 || n > 100000)
				goto bad;
			e.capacity = (int)n;
		} else {
			goto bad;
		}
	}
	if (e.dtend <= e.dtstart || strcmp(e.state, "active") != 0)
		goto bad;
	if (event_update(&cx.x, &e) < 0) {
		fprintf(stderr, "mlmctl: event set: it failed (see the log)\n");
		event_row_clear(&e);
		close_ctx(&cx);
		return EX_TEMPFAIL;
	}
	printf("event %lld changed (sequence %ld); the invited are told\n", id,
	       e.sequence);
	poke(ctl);
	event_row_clear(&e);
	close_ctx(&cx);
	return ctl_flush_stdout();
bad:
	fprintf(stderr, "mlmctl: event set: options as for create; the event "
	                "must be active and end after its start\n");
	event_row_clear(&e);
	close_ctx(&cx);
	return EX_DATAERR;
}

static long long
event_id(const char *s)
{
	char *end;
	long long id = strtoll(s, &end, 10);

	return *s && !*end && id > 0 ? id : -1;
}

int
ctl_event(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_ctx cx;
	long long id;
	int ex;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "create") == 0)
		return create(ctl, argc, argv);
	if (strcmp(argv[1], "set") == 0)
		return set(ctl, argc, argv);
	if (strcmp(argv[1], "list") == 0) {
		struct db *db;

		if (argc > 3)
			return usage();
		if (!(db = ctl_db(ctl)))
			return EX_UNAVAILABLE;
		if (db_event_each(db, argc == 3 ? argv[2] : NULL, list_line,
		                  db) < 0)
			return EX_TEMPFAIL;
		return ctl_flush_stdout();
	}
	if (argc < 3 || (id = event_id(argv[2])) < 0)
		return usage();
	if ((ex = open_ctx(ctl, &cx)) != EX_OK)
		return ex;
	if (strcmp(argv[1], "invite") == 0 && argc <= 4) {
		long n = event_invite(&cx.x, id, argc == 4 ? argv[3] : NULL);

		ex = n < 0 ? EX_TEMPFAIL : EX_OK;
		if (n >= 0) {
			printf("%ld invitations queued\n", n);
			poke(ctl);
		}
	} else if (strcmp(argv[1], "report") == 0 && argc <= 4) {
		struct buf csv = BUF_INIT;
		int anon = argc == 4 && strcmp(argv[3], "--anonymous") == 0;

		if (argc == 4 && !anon) {
			close_ctx(&cx);
			return usage();
		}
		ex = event_report(&cx.x, id, anon, &csv) < 0 ? EX_NOINPUT
		                                             : EX_OK;
		if (ex == EX_OK)
			fputs(buf_str(&csv), stdout);
		buf_free(&csv);
	} else if (strcmp(argv[1], "cancel") == 0 && argc == 3) {
		ex = event_cancel(&cx.x, id) < 0 ? EX_TEMPFAIL : EX_OK;
		if (ex == EX_OK) {
			printf("event %lld cancelled; the invited are told\n",
			       id);
			poke(ctl);
		}
	} else if (strcmp(argv[1], "cancel") == 0 && argc == 5 &&
	           strcmp(argv[3], "--date") == 0) {
		struct event_row e;
		time_t occ = -1;

		if (db_event_get(cx.x.db, id, &e) == 0) {
			occ = parse_time(argv[4], e.tz);
			event_row_clear(&e);
		}
		ex = occ < 0 || event_cancel_occurrence(&cx.x, id, occ) < 0
		         ? EX_DATAERR
		         : EX_OK;
		if (ex == EX_OK) {
			printf("event %lld: %s cancelled; the invited are "
			       "told\n",
			       id, argv[4]);
			poke(ctl);
		} else {
			fprintf(stderr, "mlmctl: event cancel: %s is no date "
			                "of event %lld's series\n",
			        argv[4], id);
		}
	} else if (strcmp(argv[1], "attended") == 0 && argc >= 4) {
		int i;

		ex = EX_OK;
		for (i = 3; i < argc; i++) {
			struct rsvp_row r;
			char a[ADDR_MAX + 1];

			if (addr_normalise(argv[i], a, sizeof(a)) < 0 ||
			    db_rsvp_find(cx.x.db, id, 0, a, &r) != 0) {
				fprintf(stderr, "mlmctl: event attended: %s was "
				                "not invited to event %lld\n",
				        argv[i], id);
				ex = EX_NOUSER;
				continue;
			}
			r.attended = 1;
			if (db_rsvp_set(cx.x.db, &r) < 0) {
				ex = EX_TEMPFAIL;
				break;
			}
			printf("%s attended\n", a);
		}
	} else {
		ex = EX_USAGE;
		usage();
	}
	close_ctx(&cx);
	if (ex != EX_OK)
		return ex;
	return ctl_flush_stdout();
}
