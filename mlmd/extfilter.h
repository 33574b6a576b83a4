/*
 * extfilter.h - an external filter stage: pipe a message through a
 * program (spamc, a virus scanner's client, a site's own script) under a
 * time limit, and hand its verdict or the header fields it added to the
 * caller, whose rules decide what happens to the post.
 *
 * The program is executed directly (execve, no shell) with stdin and
 * stdout on pipes, stderr on a pipe whose first line ends up in why,
 * every other descriptor closed, default signal dispositions, an empty
 * signal mask, its own process group and the environment
 * PATH=/usr/bin:/bin LANG=C.UTF-8.  It runs with the caller's
 * privileges (the daemon already runs as its own user).
 *
 * The caller must ignore SIGPIPE (the daemon does): a program that exits
 * without reading all of its input makes the write fail with EPIPE, which
 * is not an error here.  SIGCHLD must not be SIG_IGN (the child is
 * reaped with waitpid()).
 */
#ifndef MLMD_EXTFILTER_H
#define MLMD_EXTFILTER_H

#include <stddef.h>

#include "buf.h"

#define EXTFILTER_TIMEOUT_MS 10000      /* timeout_ms <= 0 means this */
#define EXTFILTER_SLACK      (64 << 10) /* max_output 0: input + this */
#define EXTFILTER_MAX_FIELDS 32         /* added header fields kept */
#define EXTFILTER_MAX_ADDED  8192       /* bytes of them, in all */

enum extfilter_mode {
	/*
	 * The program writes the message back (spamc without -c).  Only
	 * the header fields it added are taken: those in its output's
	 * header block that are not, byte for byte (line ends aside), in
	 * the input's.  The body is never replaced.  Exit status 0 is
	 * required; anything else is a failure.
	 */
	EXTFILTER_HEADERS = 0,
	/* Only the exit status counts (spamc -c): 0 pass, 1 spam, other
	 * a failure.  stdout is read (within max_output) and dropped. */
	EXTFILTER_VERDICT = 1,
};

struct extfilter_opts {
	/* Program and arguments, NULL-terminated; argv[0] an absolute
	 * path.  Borrowed. */
	const char *const *argv;
	long timeout_ms;   /* the whole run; <= 0: EXTFILTER_TIMEOUT_MS */
	size_t max_output; /* bytes of stdout accepted, more is a failure;
	                    * 0: the input's size + EXTFILTER_SLACK */
	int mode;          /* enum extfilter_mode */
};

enum extfilter_status {
	EXTFILTER_OK,      /* ran, passed (HEADERS: see added) */
	EXTFILTER_SPAM,    /* VERDICT mode, exit status 1 */
	EXTFILTER_FAILED,  /* could not run, crashed, bad exit or output */
	EXTFILTER_TIMEOUT, /* killed after timeout_ms */
};

struct extfilter_result {
	enum extfilter_status status;
	/*
	 * HEADERS mode, status OK: the added fields as "Name: value\n"
	 * lines (folded ones keep their "\n\t" continuation lines), in
	 * the program's order.  Each was checked: a valid field name,
	 * valid UTF-8, no control characters except folding; at most
	 * EXTFILTER_MAX_FIELDS fields and EXTFILTER_MAX_ADDED bytes, or
	 * the run is FAILED.  Empty otherwise.  Owned by the result.
	 */
	struct buf added;
	int exit_code; /* -1 if killed (signal, timeout, output too big) */
	char why[256]; /* one line for the log unless OK/SPAM */
};

/*
 * Run the filter o on raw[0..len).  Blocks for at most o->timeout_ms (and
 * a few milliseconds): stdin is written and stdout read together with
 * poll() on non-blocking pipes, so that a program that writes while it
 * reads cannot deadlock us.  On timeout the program's whole process
 * group is killed (SIGKILL); group members left behind by a program that
 * exited are killed too.  The child is always reaped.
 *
 * Returns 0 with *res filled, also for FAILED and TIMEOUT (the caller
 * decides; mlmd holds the post); -1 only if the program could not be
 * started at all (bad options, pipe or fork failure), with res->why
 * saying why.  A program that does not exist or cannot be executed is
 * FAILED (exit_code 127).  Either way the caller frees res->added with
 * buf_free().
 */
int extfilter_run(const struct extfilter_opts *o, const char *raw, size_t len,
                  struct extfilter_result *res);

#endif
