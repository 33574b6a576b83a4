/*
 * log.c - the one place in mlmd that holds global mutable state: where log
 * lines go and how verbose they are.  Called by everything.
 *
 * Lines never contain raw control characters from outside: log_vmsg()
 * replaces them with '?', so a hostile header cannot forge log lines.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "mlmd";
static int log_stderr = 1;
static enum log_level log_level = L_INFO;

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
