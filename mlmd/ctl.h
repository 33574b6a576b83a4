/*
 * ctl.h - the subcommands of mlmctl(1).  mlmctl.c parses the global
 * options and dispatches; each group of subcommands lives in its own
 * ctl_*.c.  Every command returns a sysexits code and writes its errors to
 * stderr as one line saying what is wrong and what to do.
 */
#ifndef MLMD_CTL_H
#define MLMD_CTL_H

struct conf;
struct db;

struct ctl {
	const char *conf_path;
	struct conf *conf; /* loaded and validated before dispatch */
	struct db *db;     /* NULL until ctl_db() opens it */
};

/* Open home/mlmd.db (once); NULL on error (already reported). */
struct db *ctl_db(struct ctl *ctl);

typedef int ctl_fn(struct ctl *ctl, int argc, char **argv);

/* ctl_config.c */
ctl_fn ctl_check_config;
/* ctl_members.c: members LIST | add LIST ADDR... | remove LIST ADDR... |
 * import LIST FILE.csv | export LIST */
ctl_fn ctl_members, ctl_add, ctl_remove, ctl_import, ctl_export;

#endif
