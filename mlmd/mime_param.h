/*
 * mime_param.h - "type/subtype; name=value; name*0*=..." as found in
 * Content-Type and Content-Disposition, parsed leniently: unquoted values
 * may hold spaces, a missing closing quote ends the value at the end of
 * the field, comments are skipped, parameters past MIME_PARAMS_MAX are
 * ignored.  RFC 2231 continuations and charsets are the caller's (they
 * are joined by name, e.g. "filename*0*").
 */
#ifndef MLMD_MIME_PARAM_H
#define MLMD_MIME_PARAM_H

#include <stddef.h>

#include "buf.h"

#define MIME_PARAMS_MAX     32
#define MIME_PARAM_NAME_MAX 32

struct mime_params {
	char value[128]; /* "text/plain", "attachment": lower case */
	size_t n;
	struct {
		char name[MIME_PARAM_NAME_MAX]; /* lower case */
		size_t off, len;                /* in store */
	} p[MIME_PARAMS_MAX];
	struct buf store; /* unquoted values */
};

/* Parse s[0..n) into *ps (free with mime_params_free()). */
void mime_params_parse(const char *s, size_t n, struct mime_params *ps);
void mime_params_free(struct mime_params *ps);
/* The first parameter called name (lower case), its length in *len; or
 * NULL. */
const char *mime_param(const struct mime_params *ps, const char *name,
		       size_t *len);
/* RFC 2231 %XX decoding of s[0..n), appended to out. */
void mime_pct_decode(const char *s, size_t n, struct buf *out);

#endif
