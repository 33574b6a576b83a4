/*
 * ctl.h - the subcommands of mlmctl(1).  mlmctl.c parses the global
 * options and dispatches; each group of subcommands lives in its own
 * ctl_*.c.  Every command returns a sysexits code and writes its errors to
 * stderr as one line saying what is wrong and what to do.
 */
#ifndef MLMD_CTL_H
#define MLMD_CTL_H

#include <stddef.h>
#include <time.h>

struct conf;
struct db;

struct ctl {
	const char *conf_path;
	struct conf *conf; /* loaded and validated before dispatch */
	struct db *db;     /* NULL until ctl_db() opens it */
	char operator[64]; /* who runs mlmctl (login name or "uid N"), read
	                    * at start, before ctl_db() may drop to `user` */
};

/* Flush standard output at the end of a command: EX_OK, or EX_IOERR
 * after saying so (a full disk, a closed pipe). */
int ctl_flush_stdout(void);

/* Open home/mlmd.db (once); NULL on error (already reported). */
struct db *ctl_db(struct ctl *ctl);

typedef int ctl_fn(struct ctl *ctl, int argc, char **argv);

/* ctl_config.c */
ctl_fn ctl_check_config;
/* ctl_members.c: members LIST | add LIST ADDR... | remove LIST ADDR... |
 * import LIST FILE.csv | export LIST */
ctl_fn ctl_members, ctl_add, ctl_remove, ctl_import, ctl_export;
/* ctl_held.c: held [LIST] | approve ID... | reject ID... [--reason TEXT] |
 * discard ID... */
ctl_fn ctl_held, ctl_approve, ctl_reject, ctl_discard;
/* ctl_queue.c: queue [--all] | flush */
ctl_fn ctl_queue, ctl_flush;
/* ctl_person.c: person export ADDR | person erase ADDR */
ctl_fn ctl_person;
/* ctl_bounces.c: bounces LIST [--reset ADDR] */
ctl_fn ctl_bounces;
/* ctl_dmarc.c: dmarc explain ADDR [LIST] */
ctl_fn ctl_dmarc;
/* ctl_archive.c: archive rebuild [LIST] | search LIST QUERY */
ctl_fn ctl_archive, ctl_search;
/* ctl_digest.c: digest send LIST | digest status [LIST] */
ctl_fn ctl_digest;
/* ctl_event.c: event create|list|invite|report|attended|cancel */
ctl_fn ctl_event;
ctl_fn ctl_status; /* ctl_status.c: status [--json] (exit 0 / 1) */
/* ctl_report.c: report [--list L] [--from D --to D] [--format F] */
ctl_fn ctl_report;

/*
 * Display helpers (ctl_held.c) for text that came from outside.
 * ctl_safe() appends s to out with every control character (C0, DEL,
 * C1), bidirectional override and invalid UTF-8 byte shown as '?', cut
 * after max_chars characters with "..." added.  ctl_age() writes the
 * time from since to now as "42s", "5m", "3h" or "2d"; ctl_when() t as
 * local "YYYY-MM-DD HH:MM:SS".
 */
struct buf;
void ctl_safe(struct buf *out, const char *s, size_t max_chars);
void ctl_age(time_t since, time_t now, char *out, size_t outsz);
void ctl_when(time_t t, char *out, size_t outsz);

#endif
