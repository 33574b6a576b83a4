/*
 * conf.h - mlmd.conf: the typed, validated configuration (libconfuse is
 * hidden inside conf.c).  See mlmd.conf(5) and DESIGN.md for the file.
 *
 * A struct conf is immutable once loaded; SIGHUP loads a new one and swaps
 * it in only if it has no errors.  All strings are owned by the conf and
 * freed by conf_free().  Addresses in owners/moderators are normalised
 * (addr_normalise()).
 */
#ifndef MLMD_CONF_H
#define MLMD_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

#define CONF_NAME_MAX 64 /* list names (local part limit) */

enum posting { POST_MEMBERS, POST_MODERATED, POST_ANNOUNCE, POST_OPEN };
enum nonmember { NM_HOLD, NM_REJECT, NM_DISCARD, NM_ACCEPT };
enum archive_mode { ARCH_PUBLIC, ARCH_PRIVATE, ARCH_NONE };
enum digest_freq { DIGEST_NONE, DIGEST_DAILY, DIGEST_WEEKLY, DIGEST_MONTHLY };
enum reply_to { REPLY_LIST, REPLY_AUTHOR };
enum dmarc_mode { DMARC_MUNGE, DMARC_WRAP, DMARC_NONE, DMARC_ALWAYS };
/* archive_erasure: what `mlmctl person erase` does to archived posts */
enum erasure { ERASE_PSEUDONYMISE, ERASE_REMOVE };

struct list_conf {
	char *name;        /* local part of the posting address, lower case */
	char *address;     /* name@domain */
	char *description;
	char *language;    /* "en", "da", "sv", "nb", "fi", "is", "ar" */
	char *timezone;    /* IANA name for dates shown to people ("UTC") */
	char *country;     /* "DK" etc. for the reports' country totals, or "" */
	enum posting posting;
	enum nonmember nonmember;
	enum archive_mode archive;
	enum digest_freq digest;
	int digest_day;    /* weekly digests: 0 Sunday .. 6 Saturday (1) */
	int digest_hour;   /* the hour digests go, list's time zone (7) */
	size_t digest_size;/* send early past this many bytes (40K) */
	int digest_link;   /* digest_attachments = link (1) or keep (0) */
	char *subject_prefix;
	enum reply_to reply_to;
	size_t max_size;   /* bytes */
	char **owners;     size_t n_owners;
	char **moderators; size_t n_moderators;
	char **include;    size_t n_include;   /* names of included lists */
	enum dmarc_mode dmarc;
	int reply_to_override; /* reply_to = list replaces an author's own
	                        * Reply-To too (default: keep it) */
	int advertised;    /* named by the `lists` command (default 1) */
	int moderate_new;  /* a member who joined by mail has their posts
	                    * held until a moderator approves one (0) */
	int subscription_moderated; /* subscription = moderate: after the
	                             * person confirms, the owners approve */
	/* the MIME content filter (content.h) */
	char **pass_types;       size_t n_pass_types;   /* none: all */
	char **strip_types;      size_t n_strip_types;
	char **strip_extensions; size_t n_strip_extensions;
	int collapse_alternative;
	int html_to_text;
	char **rules;      /* rule files (filters/rules/README): names in
	                    * rules_dir, or absolute paths */
	size_t n_rules;
	int line;          /* line of the `list` section in the file */
};

struct conf {
	char *path;        /* the file it came from */
	char *domain;
	char *home;
	char *relay;
	char *lmtp;        /* "unix:/path", "127.0.0.1:8024", or both, comma separated */
	char *http;
	char *base_url;
	char *user;        /* drop privileges to this user when started as root; NULL: refuse root */
	char separator;    /* '+' by default */
	size_t max_message_size; /* global intake limit, bytes (LMTP SIZE) */
	int lmtp_max_sessions;   /* concurrent LMTP sessions (default 500) */
	int lmtp_idle_timeout;   /* seconds without a command (default 300) */
	int lmtp_session_timeout;/* seconds for a whole session (default 3600) */
	char *templates;   /* folder of templates/LANG/NAME.txt (default
	                    * PKGDATADIR/templates) */
	char *rules_dir;   /* folder of the rule files (bounce.rules, spam.rules,
	                    * ...; default PKGDATADIR/rules) */
	int delivery_connections; /* parallel connections to the relay (4) */
	int delivery_batch;  /* recipients per SMTP transaction (50) */
	int verp;            /* one envelope per recipient, LIST+bounce-a=b@ */
	int relay_pipelining; /* smtp:// relay without credentials: mlmd's
	                       * own pipelining client (default 1) */
	long delivery_lifetime; /* seconds a temporarily failing copy is
	                         * retried (default 5 days) */
	long delivery_retry; /* first retry after this many seconds, then
	                      * doubling up to 4 hours (default 300) */
	long confirm_lifetime; /* a confirmation is valid this long (3 d) */
	long confirm_window;   /* one pending confirmation per address and
	                        * list in this window (24 h) */
	int confirm_domain_hourly; /* confirmations per hour to one domain */
	int confirm_hourly;        /* confirmations per hour in all */
	long held_lifetime;        /* a held post waits this long (14 d) */
	int archive_erasure;       /* enum erasure (pseudonymise) */
	int report_threshold;      /* counts below it shown as "<N" (5) */
	char *report_to;           /* list whose members get the monthly
	                            * report, "" or NULL: none */
#define CONF_REMINDERS_MAX 5
	long event_reminders[CONF_REMINDERS_MAX]; /* seconds before an
	                            * event, earliest first (7d, 1d) */
	size_t n_event_reminders;
	int dmarc_threshold;       /* the weakest policy that is mitigated:
	                            * 1 quarantine (default), 2 reject (as
	                            * enum dmarc_policy in dmarc.h) */
	char **dmarc_override;     /* "domain=none|quarantine|reject" */
	size_t n_dmarc_override;
	char **filter_command;     /* external filter argv (extfilter.h), or
	                            * none */
	size_t n_filter_command;
	int filter_verdict;        /* filter_mode = verdict (else headers) */
	long filter_timeout;       /* seconds (10) */
	int bounce_threshold;      /* score that sends a probe (3: a hard
	                            * bounce counts 1, a soft one 0.5) */
	long bounce_decay;         /* half-life of a bounce score (7 d) */
	long bounce_probe_wait;    /* no bounce of the probe in this time:
	                            * the address works again (3 d) */
	long bounce_remove_after;  /* paused this long: removed (30 d; 0
	                            * never) */
	int bounce_content_domains; /* a post refused by this many domains
	                             * is a content problem (3) */
	struct list_conf *lists;
	size_t n_lists;
};

/*
 * Load and validate a configuration file.  On success returns a conf; on
 * failure returns NULL and appends one line per problem to errors, each
 * "FILE:LINE: what is wrong" (LINE 0 when no line applies).
 */
struct conf *conf_load(const char *path, struct buf *errors);
/* The same from a string; `name` stands for the file name in messages. */
struct conf *conf_parse(const char *name, const char *text, struct buf *errors);
void conf_free(struct conf *c);

/* The list called name (case-insensitive), or NULL. */
const struct list_conf *conf_list(const struct conf *c, const char *name);
/* Print the effective configuration, defaults included, in mlmd.conf
 * syntax (mlmd -n). */
void conf_print(const struct conf *c, FILE *f);

/* Enum values as they are written in the file. */
const char *conf_posting_name(enum posting p);
const char *conf_nonmember_name(enum nonmember n);
const char *conf_archive_name(enum archive_mode a);
struct buf;
/* Append the web address of mlmd's pages without a trailing '/':
 * base_url, else http://LISTENER; 1 if there is one, 0 if not. */
int conf_web_base(const struct conf *c, struct buf *out);
const char *conf_digest_name(enum digest_freq d);

#endif
