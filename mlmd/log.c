/*
 * log.c - the one place in mlmd that holds global mutable state: where log
 * lines go and how verbose they are.  Called by everything.
 *
 * Lines never contain raw control characters from outside: log_vmsg()
 * replaces them with '?', so a hostile header cannot forge log lines.
 *
 * The last line at L_WARN or worse stays in memory (a fixed array: no
 * allocation, nothing that can fail or log) for the daemon to write to
 * HOME/last-error.  The problem hook is called at most once per
 * log_last_problem() and never recursively, so a hook that logs (or a
 * writer that fails) cannot loop.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "mlmd";
static int log_stderr = 1;
static enum log_level log_level = L_INFO;

static char problem[512];    /* the last L_WARN/L_ERROR line, "" none */
static time_t problem_at;
static enum log_level problem_level;
static log_hook_fn *problem_hook;
static void *problem_arg;
static int problem_armed = 1; /* the hook is due at the next problem */
static int in_hook;

void
log_open(const char *ident, int to_stderr, enum log_level level)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *name[] = {"error", "warning", "info", "debug"};
	char line[2048];
	size_t i;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	if (log_stderr)
		fprintf(stderr, "%s: %s: %s\n", log_ident, name[level], line);
	else
		syslog(prio[level], "%s", line);
	if (level <= L_WARN) {
		/* cut to fit: a hint, not the log */
		memcpy(problem, line, strnlen(line, sizeof(problem) - 1));
		problem[strnlen(line, sizeof(problem) - 1)] = '\0';
		problem_at = time(NULL);
		problem_level = level;
		if (problem_hook && problem_armed && !in_hook) {
			problem_armed = 0;
			in_hook = 1;
			problem_hook(problem_arg);
			in_hook = 0;
		}
	}
}

void
log_set_problem_hook(log_hook_fn *fn, void *arg)
{
	problem_hook = fn;
	problem_arg = arg;
	problem_armed = 1;
}

int
log_last_problem(char *out, size_t n, time_t *when, enum log_level *level)
{
	problem_armed = 1;
	if (n)
		snprintf(out, n, "%s", problem);
	if (when)
		*when = problem_at;
	if (level)
		*level = problem_level;
	return problem[0] != '\0';
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(L_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(L_ERROR, fmt, ap);
	va_end(ap);
	exit(code);
}
