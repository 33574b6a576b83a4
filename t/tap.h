/*
 * tap.h - a tiny Test Anything Protocol helper for mlmd's C unit tests,
 * read by Automake's tap-driver.sh.  Header-only: each test program is one
 * .c file with a main() that calls these.
 *
 *   ok(cond, "what %s", x);   is_str(got, want, "name");   is_int(...)
 *   skip(n, "why");   return done_testing();
 */
#ifndef MLMD_TAP_H
#define MLMD_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define is_str(got, want, ...)                                               \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (!ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_,           \
			__VA_ARGS__))                                        \
			diag("got '%s', want '%s'", g_ ? g_ : "(null)",      \
			     w_ ? w_ : "(null)");                            \
	} while (0)

#define is_int(got, want, ...)                                               \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		if (!ok(g_ == w_, __VA_ARGS__))                              \
			diag("got %lld, want %lld", g_, w_);                 \
	} while (0)

static inline void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
