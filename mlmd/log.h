/*
 * log.h - logging for every mlmd program.
 *
 * One line per event, to stderr (foreground, tools) or syslog (daemon).
 * The last warning or error is also kept in memory (log_last_problem()).
 * error() logs and returns -1 so that plumbing can say
 * `return error("...")`; fatal() logs and exits with the given sysexits
 * code; it and main() are the only callers of exit().
 */
#ifndef MLMD_LOG_H
#define MLMD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

enum log_level { L_ERROR = 0, L_WARN, L_INFO, L_DEBUG };

/* ident: program name; to_stderr: 1 for stderr, 0 for syslog. */
void log_open(const char *ident, int to_stderr, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
#define log_warn(...)  log_msg(L_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(L_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(L_DEBUG, __VA_ARGS__)

/*
 * The last problem: the last line logged at L_WARN or L_ERROR (as
 * written, control characters replaced) is kept in memory, so that the
 * daemon can leave it in HOME/last-error for `mlmctl status`.
 * log_set_problem_hook(fn, arg): fn(arg) is called after a problem is
 * kept, but only once until log_last_problem() takes it, and never from
 * inside itself (fn may log; that line is kept, the hook is not called
 * again).  fn must not block; NULL removes the hook.
 * log_last_problem() copies the line to out (n bytes, cut if longer)
 * with its time and level and re-arms the hook: 1, or 0 if none was
 * logged yet.
 */
typedef void log_hook_fn(void *arg);
void log_set_problem_hook(log_hook_fn *fn, void *arg);
int log_last_problem(char *out, size_t n, time_t *when,
		     enum log_level *level);

/* Log at L_ERROR and return -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at L_ERROR and exit(code). */
void fatal(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
