/*
 * itip.c - calendar invitations and replies (see itip.h).
 *
 * Owns: reading a text/calendar body into struct itip_event / itip_reply,
 * writing the personal METHOD:REQUEST / CANCEL calendar of one member,
 * and expanding a recurring event into occurrence start times.  The only
 * file that includes libical.  Called by the event code (issue 8) and the
 * fuzz target; does no I/O.
 *
 * Standards: RFC 5545 (iCalendar), RFC 5546 (iTIP: methods, the REQUEST /
 * REPLY / CANCEL restriction tables that icalrestriction_check() holds),
 * RFC 6047 (iMIP: the body arrives as text/calendar).
 *
 * How, and why:
 *  - libical 3.0 has no limits of its own, so a pre-scan of the raw text
 *    counts BEGIN lines and their nesting (after unfolding, as libical
 *    reads them) before the parser sees it; the parsed tree is counted
 *    again.  Values libical cannot read become X-LIC-ERROR properties and
 *    are counted with icalcomponent_count_errors() (research/libs.md 6).
 *  - A TZID is resolved through the calendar's own VTIMEZONEs, then
 *    libical's built-in (system tzdata) zones, then a small table of the
 *    Windows zone names Outlook writes.  The Olson name is kept in
 *    ev->tzid so that a series expands at the same local time across DST.
 *  - Addresses lose their mailto: scheme case-insensitively (clients write
 *    MAILTO:) and go through addr_normalise(), the project's identity form.
 *  - libical 3.0 loops inside icalrecur_iterator_next() until the year
 *    2582 when a rule can never match (FREQ=SECONDLY;BYMONTH=2;
 *    BYMONTHDAY=30 runs for hours), so rules more frequent than daily are
 *    expanded only without BY* parts.
 *
 * XXX libical 3.0 loads built-in timezones lazily into a process-wide
 * array without a lock: call this module from one thread at a time.
 *
 * Errors: -1 with one line in err; libical's own errors are not fatal in
 * Debian's build (icalerror_get_errors_are_fatal() is 0).  Out of memory
 * aborts (xmalloc).
 */
#include "config.h"

#include <libical/ical.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "itip.h"
#include "util.h"

static int fail(struct buf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		buf_vprintf(err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Copy src into dst (size n) cut on a UTF-8 boundary.  one_line: control
 * characters become spaces; otherwise newline and tab are kept.
 */
static void
copy_text(char *dst, size_t n, const char *src, int one_line)
{
	size_t len, i;

	dst[0] = '\0';
	if (src == NULL)
		return;
	len = strlen(src);
	if (len >= n) {
		len = n - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)dst[i];

		if ((c < 0x20 || c == 0x7f) &&
		    (one_line || (c != '\n' && c != '\t')))
			dst[i] = ' ';
	}
	while (one_line && len > 0 && dst[len - 1] == ' ')
		dst[--len] = '\0';
}

/* "mailto:Bob@Example.ORG" -> "bob@example.org"; -1 if implausible. */
static int
cal_address(const char *v, char *out, size_t n)
{
	out[0] = '\0';
	if (v == NULL)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (str_has_prefix_ci(v, "mailto:"))
		v += 7;
	if (addr_normalise(v, out, n) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* --- limits ------------------------------------------------------------ */

/*
 * Count BEGIN lines and the deepest nesting of the raw text, reading
 * logical lines as libical does (a line break followed by a space or tab
 * continues the line) and the property name up to ':' or ';'.
 */
static int
prescan(const char *s, size_t len, struct buf *err)
{
	char name[8];
	size_t i = 0, nlen;
	int depth = 0, maxdepth = 0, begins = 0, toolong;

	while (i < len) {
		nlen = 0;
		toolong = 0;
		/* The name of one logical line. */
		while (i < len) {
			if (s[i] == '\n' ||
			    (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) {
				size_t j = s[i] == '\r' ? i + 2 : i + 1;

				if (j < len && (s[j] == ' ' || s[j] == '\t')) {
					i = j + 1; /* a fold */
					continue;
				}
				break;
			}
			if (s[i] == ':' || s[i] == ';')
				break;
			if (nlen < sizeof(name) - 1)
				name[nlen++] = s[i];
			else
				toolong = 1;
			i++;
		}
		name[nlen] = '\0';
		if (!toolong && strcasecmp(name, "BEGIN") == 0) {
			if (++begins > ITIP_MAX_COMPONENTS)
				return fail(err, "more than %d components",
				            ITIP_MAX_COMPONENTS);
			if (++depth > maxdepth)
				maxdepth = depth;
			if (maxdepth > ITIP_MAX_DEPTH)
				return fail(err,
				            "components nested deeper "
				            "than %d",
				            ITIP_MAX_DEPTH);
		} else if (!toolong && strcasecmp(name, "END") == 0) {
			if (depth > 0)
				depth--;
		}
		/* Skip the rest of the logical line. */
		while (i < len) {
			if (s[i] == '\n') {
				if (i + 1 < len &&
				    (s[i + 1] == ' ' || s[i + 1] == '\t')) {
					i += 2;
					continue;
				}
				i++;
				break;
			}
			i++;
		}
	}
	return 0;
}

/* Components in c and below; -1 past the depth limit. */
static int
count_components(icalcomponent *c, int depth)
{
	icalcomponent *k;
	int n = 1, m;

	if (depth > ITIP_MAX_DEPTH)
		return -1;
	for (k = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     k != NULL;
	     k = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
		if ((m = count_components(k, depth + 1)) < 0)
			return -1;
		n += m;
		if (n > ITIP_MAX_COMPONENTS)
			return n;
	}
	return n;
}

/* Parse within the limits; the VCALENDAR (caller frees) or NULL. */
static icalcomponent *
parse_calendar(const char *text, size_t len, struct buf *err)
{
	icalcomponent *cal, *k;
	char *copy;
	int n;

	if (text == NULL)
		return fail(err, "no calendar"), NULL;
	if (len > ITIP_MAX_BYTES)
		return fail(err, "calendar larger than %zu bytes",
		            ITIP_MAX_BYTES),
		       NULL;
	if (memchr(text, '\0', len) != NULL)
		return fail(err, "NUL byte in calendar"), NULL;
	if (prescan(text, len, err) < 0)
		return NULL;
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	cal = icalparser_parse_string(copy);
	free(copy);
	if (cal == NULL)
		return fail(err, "not an iCalendar object (unbalanced "
		                 "BEGIN/END?)"),
		       NULL;
	if (icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(cal);
		return fail(err, "not a single VCALENDAR"), NULL;
	}
	n = count_components(cal, 1);
	if (n < 0 || n > ITIP_MAX_COMPONENTS) {
		icalcomponent_free(cal);
		return fail(err, "too many or too deeply nested components"),
		       NULL;
	}
	n = 0;
	for (k = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     k != NULL;
	     k = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		n++;
	if (n > ITIP_MAX_EVENTS) {
		icalcomponent_free(cal);
		return fail(err, "more than %d events", ITIP_MAX_EVENTS), NULL;
	}
	if (icalcomponent_count_errors(cal) > ITIP_MAX_ERRORS) {
		icalcomponent_free(cal);
		return fail(err, "more than %d unreadable values",
		            ITIP_MAX_ERRORS),
		       NULL;
	}
	return cal;
}

/* --- time zones -------------------------------------------------------- */

/* The Windows names Outlook writes as TZID for the zones of the
 * community's countries (CLDR windowsZones.xml), and UTC. */
static const struct {
	const char *windows, *olson;
} windows_zones[] = {
    {"Romance Standard Time", "Europe/Paris"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"FLE Standard Time", "Europe/Kiev"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"GMT Standard Time", "Europe/London"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"Eastern Standard Time", "America/New_York"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"UTC", "UTC"},
};

/* A built-in zone for a TZID: an Olson name (also with libical's
 * "/freeassociation.sourceforge.net/" style prefix) or a Windows name. */
static icaltimezone *
builtin_zone(const char *tzid)
{
	icaltimezone *z;
	const char *slash;
	size_t i;

	if (tzid == NULL || tzid[0] == '\0')
		return NULL;
	for (i = 0; i < ARRAY_SIZE(windows_zones); i++)
		if (strcasecmp(tzid, windows_zones[i].windows) == 0) {
			tzid = windows_zones[i].olson;
			break;
		}
	if (strcasecmp(tzid, "UTC") == 0 || strcasecmp(tzid, "GMT") == 0 ||
	    strcasecmp(tzid, "Etc/UTC") == 0)
		return icaltimezone_get_utc_timezone();
	if (tzid[0] == '/') {
		if ((z = icaltimezone_get_builtin_timezone_from_tzid(tzid)))
			return z;
		/* "/vendor/Europe/Copenhagen": try from the second part. */
		slash = strchr(tzid + 1, '/');
		if (slash == NULL)
			return NULL;
		tzid = slash + 1;
	}
	/* Only "Area/City" names: the lookup of anything else is a linear
	 * search that finds nothing. */
	if (strchr(tzid, '/') == NULL || strlen(tzid) > 60)
		return NULL;
	return icaltimezone_get_builtin_timezone(tzid);
}

/* The Olson name of zone z for ev->tzid, or "" if unknown. */
static void
zone_name(icaltimezone *z, const char *tzid, char *out, size_t n)
{
	const char *loc = NULL;
	icaltimezone *b;
	size_t i;

	out[0] = '\0';
	if (z == NULL || z == icaltimezone_get_utc_timezone())
		return;
	loc = icaltimezone_get_location(z); /* X-LIC-LOCATION, built-ins */
	if (loc != NULL && builtin_zone(loc) != NULL) {
		copy_text(out, n, loc, 1);
		return;
	}
	if (tzid == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(windows_zones); i++)
		if (strcasecmp(tzid, windows_zones[i].windows) == 0) {
			copy_text(out, n, windows_zones[i].olson, 1);
			return;
		}
	if ((b = builtin_zone(tzid)) != NULL &&
	    (loc = icaltimezone_get_location(b)) != NULL)
		copy_text(out, n, loc, 1);
}

/*
 * The value of a DATE or DATE-TIME property of c with its zone resolved:
 * UTC stays UTC, a TZID goes through the calendar's VTIMEZONEs and then
 * the built-in zones.  *tzname gets the Olson name if tzname is set.
 */
static struct icaltimetype
prop_time(icalcomponent *c, icalproperty_kind kind, char *tzname, size_t n)
{
	icalproperty *p;
	icalparameter *param;
	icalvalue *v;
	icalcomponent *up;
	icaltimezone *z = NULL;
	struct icaltimetype t;
	const char *tzid = NULL;

	if (tzname != NULL)
		tzname[0] = '\0';
	if ((p = icalcomponent_get_first_property(c, kind)) == NULL ||
	    (v = icalproperty_get_value(p)) == NULL)
		return icaltime_null_time();
	switch (icalvalue_isa(v)) {
	case ICAL_DATETIME_VALUE:
	case ICAL_DATE_VALUE:
		t = icalvalue_get_datetime(v);
		break;
	default:
		return icaltime_null_time();
	}
	if (t.is_date || icaltime_is_utc(t))
		return t;
	param = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (param != NULL && (tzid = icalparameter_get_tzid(param)) != NULL) {
		for (up = c; up != NULL && z == NULL;
		     up = icalcomponent_get_parent(up))
			z = icalcomponent_get_timezone(up, tzid);
		if (z == NULL)
			z = builtin_zone(tzid);
	}
	t.zone = z; /* NULL: floating, read as UTC */
	if (tzname != NULL)
		zone_name(z, tzid, tzname, n);
	return t;
}

static time_t
to_timet(struct icaltimetype t)
{
	if (icaltime_is_null_time(t))
		return 0;
	if (t.is_date || t.zone == NULL)
		return icaltime_as_timet_with_zone(
		    t, icaltimezone_get_utc_timezone());
	return icaltime_as_timet_with_zone(t, t.zone);
}

/* --- reading ----------------------------------------------------------- */

static enum itip_method
method_of(icalcomponent *cal)
{
	if (icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY) == NULL)
		return ITIP_NONE;
	switch (icalcomponent_get_method(cal)) {
	case ICAL_METHOD_REQUEST:
		return ITIP_REQUEST;
	case ICAL_METHOD_REPLY:
		return ITIP_REPLY;
	case ICAL_METHOD_CANCEL:
		return ITIP_CANCEL;
	case ICAL_METHOD_PUBLISH:
		return ITIP_PUBLISH;
	default:
		return ITIP_OTHER;
	}
}

static icalproperty *
x_prop(icalcomponent *c, const char *name)
{
	icalproperty *p;
	const char *x;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if ((x = icalproperty_get_x_name(p)) != NULL &&
		    strcasecmp(x, name) == 0)
			return p;
	return NULL;
}

/* A decimal in [0, max], else 0. */
static int
small_number(const char *s, int max)
{
	char *end;
	long v;

	if (s == NULL)
		return 0;
	while (*s == ' ')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	v = strtol(s, &end, 10);
	while (*end == ' ')
		end++;
	if (*end != '\0' || v < 0 || v > max)
		return 0;
	return (int)v;
}

static int
read_event(icalcomponent *cal, enum itip_method method, struct itip_event *ev,
           struct buf *err)
{
	icalcomponent *vev;
	icalproperty *p;
	struct icaltimetype t;
	struct icaldurationtype d;
	char *s;

	memset(ev, 0, sizeof(*ev));
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	if (vev == NULL)
		return fail(err, "no VEVENT in the calendar");
	copy_text(ev->uid, sizeof(ev->uid), icalcomponent_get_uid(vev), 1);
	if (ev->uid[0] == '\0')
		return fail(err, "VEVENT without UID");
	if ((p = icalcomponent_get_first_property(vev, ICAL_SEQUENCE_PROPERTY)))
		ev->sequence = icalproperty_get_sequence(p);
	if (ev->sequence < 0)
		ev->sequence = 0;
	copy_text(ev->summary, sizeof(ev->summary),
	          icalcomponent_get_summary(vev), 1);
	copy_text(ev->location, sizeof(ev->location),
	          icalcomponent_get_location(vev), 1);
	copy_text(ev->description, sizeof(ev->description),
	          icalcomponent_get_description(vev), 0);

	t = prop_time(vev, ICAL_DTSTART_PROPERTY, ev->tzid, sizeof(ev->tzid));
	if (icaltime_is_null_time(t)) {
		if (method != ITIP_REPLY && method != ITIP_CANCEL)
			return fail(err, "VEVENT without a readable DTSTART");
	} else {
		ev->all_day = t.is_date;
		ev->start = to_timet(t);
		t = prop_time(vev, ICAL_DTEND_PROPERTY, NULL, 0);
		if (!icaltime_is_null_time(t)) {
			ev->end = to_timet(t);
		} else if ((p = icalcomponent_get_first_property(
		                vev, ICAL_DURATION_PROPERTY)) != NULL) {
			d = icalproperty_get_duration(p);
			if (!icaldurationtype_is_bad_duration(d) && !d.is_neg)
				ev->end =
				    ev->start + icaldurationtype_as_int(d);
		}
		if (ev->end <= ev->start)
			ev->end = ev->start + (ev->all_day ? 86400 : 0);
	}
	t = prop_time(vev, ICAL_RECURRENCEID_PROPERTY, NULL, 0);
	ev->recurrence_id = to_timet(t);

	if ((p = icalcomponent_get_first_property(vev, ICAL_RRULE_PROPERTY))) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);

		if (r.freq != ICAL_NO_RECURRENCE &&
		    (s = icalrecurrencetype_as_string_r(&r)) != NULL) {
			if (strlen(s) >= sizeof(ev->rrule)) {
				free(s);
				return fail(err, "RRULE too long");
			}
			copy_text(ev->rrule, sizeof(ev->rrule), s, 1);
			free(s);
		}
	}
	if ((p = icalcomponent_get_first_property(vev,
	                                          ICAL_ORGANIZER_PROPERTY)))
		cal_address(icalproperty_get_organizer(p), ev->organizer,
		            sizeof(ev->organizer));
	if ((p = x_prop(vev, "X-MLMD-CAPACITY")) != NULL)
		ev->capacity = small_number(icalproperty_get_x(p), 1000000);
	if ((p = x_prop(vev, "X-MLMD-RSVP-BY")) != NULL &&
	    icalproperty_get_x(p) != NULL) {
		t = icaltime_from_string(icalproperty_get_x(p));
		if (!icaltime_is_null_time(t) && icaltime_is_valid_time(t))
			ev->rsvp_deadline = to_timet(t);
	}
	return 0;
}

int
itip_parse(const char *text, size_t len, enum itip_method *method,
           struct itip_event *ev, struct buf *err)
{
	icalcomponent *cal;
	enum itip_method m;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (method != NULL)
		*method = ITIP_NONE;
	if ((cal = parse_calendar(text, len, err)) == NULL)
		return -1;
	m = method_of(cal);
	rc = read_event(cal, m, ev, err);
	if (method != NULL)
		*method = m;
	icalcomponent_free(cal);
	return rc;
}

static enum itip_partstat
partstat_of(icalproperty *att)
{
	icalparameter *p;

	p = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	if (p == NULL)
		return ITIP_NEEDS_ACTION;
	switch (icalparameter_get_partstat(p)) {
	case ICAL_PARTSTAT_NEEDSACTION:
		return ITIP_NEEDS_ACTION;
	case ICAL_PARTSTAT_ACCEPTED:
		return ITIP_ACCEPTED;
	case ICAL_PARTSTAT_DECLINED:
		return ITIP_DECLINED;
	case ICAL_PARTSTAT_TENTATIVE:
		return ITIP_TENTATIVE;
	case ICAL_PARTSTAT_DELEGATED:
		return ITIP_DELEGATED;
	default:
		return ITIP_PARTSTAT_OTHER;
	}
}

/*
 * Google writes COMMENT;X-COMMENTER=mailto:ADDR:TEXT with the parameter
 * unquoted, so libical reads the parameter as "mailto" and the text as
 * "ADDR:TEXT": drop that address again.
 */
static void
reply_comment(icalproperty *p, char *out, size_t n)
{
	icalparameter *param;
	const char *text = icalproperty_get_comment(p), *colon, *x;

	for (param = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER);
	     param != NULL && text != NULL;
	     param = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER)) {
		x = icalparameter_get_xname(param);
		if (x == NULL || strcasecmp(x, "X-COMMENTER") != 0 ||
		    (x = icalparameter_get_xvalue(param)) == NULL ||
		    strchr(x, '@') != NULL)
			continue;
		colon = strchr(text, ':');
		if (colon != NULL && memchr(text, '@', colon - text) &&
		    !memchr(text, ' ', colon - text))
			text = colon + 1;
		break;
	}
	copy_text(out, n, text, 1);
}

int
itip_parse_reply(const char *text, size_t len, struct itip_reply *r,
                 struct buf *err)
{
	icalcomponent *cal, *vev;
	icalproperty *att, *p;
	icalparameter *param;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if ((cal = parse_calendar(text, len, err)) == NULL)
		return -1;
	if (method_of(cal) != ITIP_REPLY) {
		fail(err, "not a METHOD:REPLY calendar");
		goto out;
	}
	if (read_event(cal, ITIP_REPLY, &r->ev, err) < 0)
		goto out;
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	att = icalcomponent_get_first_property(vev, ICAL_ATTENDEE_PROPERTY);
	if (att == NULL) {
		fail(err, "REPLY without ATTENDEE");
		goto out;
	}
	if (icalcomponent_get_next_property(vev, ICAL_ATTENDEE_PROPERTY)) {
		fail(err, "REPLY with more than one ATTENDEE");
		goto out;
	}
	if (cal_address(icalproperty_get_attendee(att), r->attendee,
	                sizeof(r->attendee)) < 0) {
		fail(err, "REPLY ATTENDEE is not an address");
		goto out;
	}
	r->partstat = partstat_of(att);
	param =
	    icalproperty_get_first_parameter(att, ICAL_DELEGATEDTO_PARAMETER);
	if (param != NULL)
		cal_address(icalparameter_get_delegatedto(param),
		            r->delegated_to, sizeof(r->delegated_to));
	for (param = icalproperty_get_first_parameter(att, ICAL_X_PARAMETER);
	     param != NULL;
	     param = icalproperty_get_next_parameter(att, ICAL_X_PARAMETER))
		if (icalparameter_get_xname(param) != NULL &&
		    strcasecmp(icalparameter_get_xname(param),
		               "X-NUM-GUESTS") == 0)
			r->guests = small_number(
			    icalparameter_get_xvalue(param), ITIP_MAX_GUESTS);
	if ((p = icalcomponent_get_first_property(vev, ICAL_COMMENT_PROPERTY)))
		reply_comment(p, r->comment, sizeof(r->comment));
	rc = 0;
out:
	icalcomponent_free(cal);
	return rc;
}

/* --- writing ----------------------------------------------------------- */

/* A CN value: one line, no DQUOTE (RFC 5545 3.2 cannot carry one). */
static void
cn_value(char *dst, size_t n, const char *src)
{
	size_t i;

	copy_text(dst, n, src, 1);
	for (i = 0; dst[i]; i++)
		if (dst[i] == '"')
			dst[i] = '\'';
}

/* The TZID mlmd writes: the Olson name, as Thunderbird does, rather than
 * libical's "/freeassociation.sourceforge.net/Europe/Copenhagen". */
static const char *
zone_tzid(icaltimezone *z)
{
	const char *loc = icaltimezone_get_location(z);

	return loc != NULL ? loc : icaltimezone_get_tzid(z);
}

static void
drop_rdates(icalcomponent *c)
{
	icalproperty *p;

	while ((p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY))) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

/*
 * A short VTIMEZONE for z as it is at time t: libical's built-in ones
 * carry the zone's whole history, with RRULE UNTIL values that Python's
 * icalendar (dateutil) refuses, and make every invitation 4 kB longer.
 * Kept: the STANDARD / DAYLIGHT rules in force at t, without UNTIL (what
 * Thunderbird and Outlook send), or else the last fixed offset before t.
 * NULL if nothing fits (the caller then writes UTC).
 */
static icalcomponent *
short_vtimezone(icaltimezone *z, time_t t)
{
	icalcomponent *full = icaltimezone_get_component(z), *vtz, *k, *c;
	icalcomponent *last;
	icalproperty *p;
	struct icalrecurrencetype r;
	time_t from, lastfrom = 0;
	int kept = 0;

	if (full == NULL)
		return NULL;
	vtz = icalcomponent_new(ICAL_VTIMEZONE_COMPONENT);
	icalcomponent_add_property(vtz, icalproperty_new_tzid(zone_tzid(z)));
	if (icaltimezone_get_location(z) != NULL) {
		p = icalproperty_new_x(icaltimezone_get_location(z));
		icalproperty_set_x_name(p, "X-LIC-LOCATION");
		icalcomponent_add_property(vtz, p);
	}
	last = NULL;
	for (k = icalcomponent_get_first_component(full, ICAL_ANY_COMPONENT);
	     k != NULL;
	     k = icalcomponent_get_next_component(full, ICAL_ANY_COMPONENT)) {
		p = icalcomponent_get_first_property(k, ICAL_DTSTART_PROPERTY);
		if (p == NULL)
			continue;
		from = icaltime_as_timet(icalproperty_get_dtstart(p));
		if (from > t)
			continue;
		p = icalcomponent_get_first_property(k, ICAL_RRULE_PROPERTY);
		if (p == NULL) {
			if (last == NULL || from > lastfrom) {
				last = k;
				lastfrom = from;
			}
			continue;
		}
		r = icalproperty_get_rrule(p);
		if (!icaltime_is_null_time(r.until) &&
		    icaltime_as_timet(r.until) <= t)
			continue;
		c = icalcomponent_new_clone(k);
		p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
		r.until = icaltime_null_time();
		icalproperty_set_rrule(p, r);
		drop_rdates(c);
		icalcomponent_add_component(vtz, c);
		kept++;
	}
	if (kept == 0 && last != NULL) {
		c = icalcomponent_new_clone(last);
		drop_rdates(c);
		icalcomponent_add_component(vtz, c);
		kept++;
	}
	if (kept == 0) {
		icalcomponent_free(vtz);
		return NULL;
	}
	return vtz;
}

/* t as a DATE-TIME in zone z (UTC if NULL), or as a DATE. */
static struct icaltimetype
time_in(time_t t, int is_date, icaltimezone *z)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	struct icaltimetype v;

	if (is_date)
		return icaltime_from_timet_with_zone(t, 1, utc);
	v = icaltime_from_timet_with_zone(t, 0, z ? z : utc);
	v.zone = z ? z : utc; /* 3.0 marks the result UTC whatever z is */
	return v;
}

static icalproperty *
time_prop(icalproperty *p, icaltimezone *z)
{
	if (z != NULL)
		icalproperty_add_parameter(
		    p, icalparameter_new_tzid(zone_tzid(z)));
	return p;
}

int
itip_build(enum itip_method method, const struct itip_event *ev,
           const char *attendee, const char *attendee_name,
           const char *organizer_name, time_t now, struct buf *out)
{
	struct buf *err = NULL; /* XXX the callers have no use for why */
	icalcomponent *cal, *vev, *vtz;
	icalproperty *p;
	icaltimezone *z = NULL;
	struct icalrecurrencetype r;
	char att[ADDR_MAX + 8], org[ADDR_MAX + 8], cn[256];
	char *s;
	int rc = -1;

	if (method != ITIP_REQUEST && method != ITIP_CANCEL)
		return fail(err, "can only build REQUEST or CANCEL");
	if (ev->uid[0] == '\0' || ev->start == 0)
		return fail(err, "event without UID or start");
	if (cal_address(attendee, att + 7, sizeof(att) - 7) < 0)
		return fail(err, "bad attendee address");
	if (cal_address(ev->organizer, org + 7, sizeof(org) - 7) < 0)
		return fail(err, "bad organizer address");
	memcpy(att, "mailto:", 7);
	memcpy(org, "mailto:", 7);
	if (ev->rrule[0] != '\0') {
		r = icalrecurrencetype_from_string(ev->rrule);
		if (r.freq == ICAL_NO_RECURRENCE)
			return fail(err, "bad RRULE");
		if (!ev->all_day && (z = builtin_zone(ev->tzid)) != NULL &&
		    z == icaltimezone_get_utc_timezone())
			z = NULL;
	}

	cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(
	    cal, icalproperty_new_prodid("-//mlmd//mlmd//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(
	    cal, icalproperty_new_method(method == ITIP_REQUEST
	                                     ? ICAL_METHOD_REQUEST
	                                     : ICAL_METHOD_CANCEL));
	if (z != NULL) {
		if ((vtz = short_vtimezone(z, ev->start)) != NULL)
			icalcomponent_add_component(cal, vtz);
		else
			z = NULL;
	}
	vev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_add_component(cal, vev);

	icalcomponent_add_property(
	    vev, icalproperty_new_dtstamp(time_in(now, 0, NULL)));
	icalcomponent_add_property(vev, icalproperty_new_uid(ev->uid));
	icalcomponent_add_property(
	    vev, icalproperty_new_sequence(
	             (int)(ev->sequence < 0 ? 0 : ev->sequence)));
	cn_value(cn, sizeof(cn), organizer_name);
	p = icalproperty_new_organizer(org);
	if (cn[0] != '\0')
		icalproperty_add_parameter(p, icalparameter_new_cn(cn));
	icalcomponent_add_property(vev, p);
	cn_value(cn, sizeof(cn), attendee_name);
	p = icalproperty_vanew_attendee(
	    att, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT),
	    icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION),
	    icalparameter_new_rsvp(ICAL_RSVP_TRUE), (void *)0);
	if (cn[0] != '\0')
		icalproperty_add_parameter(p, icalparameter_new_cn(cn));
	icalcomponent_add_property(vev, p);

	icalcomponent_add_property(
	    vev, time_prop(icalproperty_new_dtstart(
	                       time_in(ev->start, ev->all_day, z)),
	                   z));
	if (ev->end > ev->start)
		icalcomponent_add_property(
		    vev, time_prop(icalproperty_new_dtend(
		                       time_in(ev->end, ev->all_day, z)),
		                   z));
	if (ev->recurrence_id != 0)
		icalcomponent_add_property(
		    vev, time_prop(icalproperty_new_recurrenceid(time_in(
		                       ev->recurrence_id, ev->all_day, z)),
		                   z));
	if (ev->rrule[0] != '\0')
		icalcomponent_add_property(vev, icalproperty_new_rrule(r));
	icalcomponent_add_property(vev, icalproperty_new_summary(ev->summary));
	if (ev->location[0] != '\0')
		icalcomponent_add_property(
		    vev, icalproperty_new_location(ev->location));
	if (ev->description[0] != '\0')
		icalcomponent_add_property(
		    vev, icalproperty_new_description(ev->description));
	icalcomponent_add_property(
	    vev, icalproperty_new_status(method == ITIP_REQUEST
	                                     ? ICAL_STATUS_CONFIRMED
	                                     : ICAL_STATUS_CANCELLED));
	icalcomponent_add_property(vev,
	                           icalproperty_new_transp(ICAL_TRANSP_OPAQUE));

	if (icalcomponent_count_errors(cal) != 0 ||
	    !icalrestriction_check(cal)) {
		fail(err, "built calendar fails the RFC 5546 restrictions");
		goto out;
	}
	s = icalcomponent_as_ical_string_r(cal);
	if (s == NULL) {
		fail(err, "cannot serialise the calendar");
		goto out;
	}
	if (buf_adds(out, s) < 0)
		fail(err, "calendar too large for the buffer");
	else
		rc = 0;
	free(s);
out:
	icalcomponent_free(cal);
	return rc;
}

/* --- recurrence -------------------------------------------------------- */

static int
by_empty(const short *a)
{
	return a[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

size_t
itip_occurrences(const struct itip_event *ev, time_t from, time_t *out,
                 size_t max)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone(), *z;
	icalrecur_iterator *it;
	struct icalrecurrencetype r;
	struct icaltimetype t;
	time_t horizon, v;
	size_t n = 0;
	long steps;

	if (max == 0 || ev->start == 0)
		return 0;
	horizon = (from > ev->start ? from : ev->start) + ITIP_HORIZON;
	r = icalrecurrencetype_from_string(ev->rrule);
	if (ev->rrule[0] == '\0' || r.freq == ICAL_NO_RECURRENCE)
		goto single;
	if (r.freq == ICAL_SECONDLY_RECURRENCE ||
	    r.freq == ICAL_MINUTELY_RECURRENCE ||
	    r.freq == ICAL_HOURLY_RECURRENCE) {
		if (!by_empty(r.by_second) || !by_empty(r.by_minute) ||
		    !by_empty(r.by_hour) || !by_empty(r.by_day) ||
		    !by_empty(r.by_month_day) || !by_empty(r.by_year_day) ||
		    !by_empty(r.by_week_no) || !by_empty(r.by_month) ||
		    !by_empty(r.by_set_pos))
			goto single;
	}
	z = ev->all_day ? NULL : builtin_zone(ev->tzid);
	if (z == NULL)
		z = utc;
	it = icalrecur_iterator_new(r, time_in(ev->start, ev->all_day, z));
	if (it == NULL)
		goto single;
	for (steps = 0; n < max && steps < ITIP_MAX_STEPS; steps++) {
		t = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(t))
			break;
		v = ev->all_day ? icaltime_as_timet_with_zone(t, utc)
		                : icaltime_as_timet_with_zone(t, z);
		if (v > horizon)
			break;
		if (v >= from)
			out[n++] = v;
	}
	icalrecur_iterator_free(it);
	return n;
single:
	if (ev->start >= from && ev->start <= horizon)
		out[n++] = ev->start;
	return n;
}

const char *
itip_method_name(enum itip_method m)
{
	switch (m) {
	case ITIP_NONE:
		return "";
	case ITIP_REQUEST:
		return "REQUEST";
	case ITIP_REPLY:
		return "REPLY";
	case ITIP_CANCEL:
		return "CANCEL";
	case ITIP_PUBLISH:
		return "PUBLISH";
	case ITIP_OTHER:
		break;
	}
	return "OTHER";
}

const char *
itip_partstat_name(enum itip_partstat p)
{
	switch (p) {
	case ITIP_NEEDS_ACTION:
		return "NEEDS-ACTION";
	case ITIP_ACCEPTED:
		return "ACCEPTED";
	case ITIP_DECLINED:
		return "DECLINED";
	case ITIP_TENTATIVE:
		return "TENTATIVE";
	case ITIP_DELEGATED:
		return "DELEGATED";
	case ITIP_PARTSTAT_OTHER:
		break;
	}
	return "OTHER";
}
