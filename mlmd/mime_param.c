/*
 * mime_param.c - the parameters of Content-Type and Content-Disposition
 * fields (mime_param.h), read the same lenient way wherever mlmd looks at
 * MIME structure (msg.c, content.c).
 *
 * Invariants: bounded by the field's length and MIME_PARAMS_MAX; never
 * reads past n; values are copied into the struct's own store.
 */
#include "config.h"

#include <string.h>

#include "mime_param.h"

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static size_t
skip_comment(const char *s, size_t n, size_t i)
{
	int level = 0;

	for (; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		else if (s[i] == '(')
			level++;
		else if (s[i] == ')' && --level == 0)
			return i + 1;
	}
	return n;
}

/*
 * Parse "type/subtype; name=value; name*0*=..." leniently: unquoted values
 * may hold spaces, a missing closing quote ends the value at the end,
 * parameters past MIME_PARAMS_MAX are ignored.
 */
void
mime_params_parse(const char *s, size_t n, struct mime_params *ps)
{
	size_t i = 0, j = 0;

	ps->n = 0;
	buf_init(&ps->store, 0);
	buf_add(&ps->store, "", 0);
	while (i < n && s[i] != ';') {
		if (s[i] == '(') {
			i = skip_comment(s, n, i);
			continue;
		}
		if (!is_wsp(s[i]) && s[i] != '"' && j + 1 < sizeof(ps->value))
			ps->value[j++] = lower(s[i]);
		i++;
	}
	ps->value[j] = '\0';
	while (i < n) {
		size_t ns, ne, k, off;

		while (i < n && (is_wsp(s[i]) || s[i] == ';'))
			i++;
		if (i < n && s[i] == '(') {
			i = skip_comment(s, n, i);
			continue;
		}
		if (i >= n)
			break;
		ns = i;
		while (i < n && s[i] != '=' && s[i] != ';' && !is_wsp(s[i]))
			i++;
		ne = i;
		while (i < n && is_wsp(s[i]))
			i++;
		if (i >= n || s[i] != '=') {
			while (i < n && s[i] != ';')
				i++;
			continue;
		}
		i++;
		while (i < n && is_wsp(s[i]))
			i++;
		off = ps->store.len;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				if (s[i] != '\r' && s[i] != '\n')
					buf_addc(&ps->store, s[i]);
			}
			while (i < n && s[i] != ';')
				i++;
		} else {
			k = i;
			while (i < n && s[i] != ';')
				i++;
			j = i;
			while (j > k && is_wsp(s[j - 1]))
				j--;
			for (; k < j; k++)
				if (s[k] != '\r' && s[k] != '\n')
					buf_addc(&ps->store, s[k]);
		}
		if (ps->n < MIME_PARAMS_MAX && ne - ns < MIME_PARAM_NAME_MAX && ne > ns) {
			for (k = 0; k < ne - ns; k++)
				ps->p[ps->n].name[k] = lower(s[ns + k]);
			ps->p[ps->n].name[k] = '\0';
			ps->p[ps->n].off = off;
			ps->p[ps->n].len = ps->store.len - off;
			ps->n++;
		}
	}
}

void
mime_params_free(struct mime_params *ps)
{
	buf_free(&ps->store);
}

/* The first parameter called name, or NULL. */
const char *
mime_param(const struct mime_params *ps, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].name, name) == 0) {
			*len = ps->p[i].len;
			return ps->store.s + ps->p[i].off;
		}
	return NULL;
}

/* RFC 2231 %XX decoding. */
void
mime_pct_decode(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		const char *h, *l;

		if (s[i] == '%' && i + 2 < n && s[i + 1] != '\0' &&
		    s[i + 2] != '\0' &&
		    (h = strchr(hex, lower(s[i + 1]))) != NULL &&
		    (l = strchr(hex, lower(s[i + 2]))) != NULL) {
			buf_addc(out, (char)((h - hex) << 4 | (l - hex)));
			i += 2;
		} else {
			buf_addc(out, s[i]);
		}
	}
}

