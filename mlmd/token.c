/*
 * token.c - tokens for confirmations and links (token.h).
 *
 * Invariants: the key never leaves this file and the database; a token is
 * accepted only if its MAC matches, compared with sodium_memcmp(); parsing
 * reads at most TOKEN_MAX characters of hostile input and never allocates.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "log.h"
#include "token.h"
#include "util.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

int
token_key_load(struct db *db, struct token_key *key)
{
	unsigned char fresh[TOKEN_KEY_BYTES];
	int rc;

	if (sodium_init() < 0)
		return error("libsodium cannot start");
	randombytes_buf(fresh, sizeof(fresh));
	rc = db_secret(db, "token_hmac", fresh, key->k, sizeof(key->k));
	sodium_memzero(fresh, sizeof(fresh));
	return rc;
}

static void
put36(unsigned long long v, char *out, size_t *len, size_t cap)
{
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = b36[v % 36];
		v /= 36;
	} while (v && n < sizeof(tmp));
	while (n && *len + 1 < cap)
		out[(*len)++] = tmp[--n];
}

static void
mac_of(const struct token_key *key, const char *purpose, const char *list,
       const char *address, long long id, time_t expires,
       unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	char num[64];
	int n;

	crypto_auth_hmacsha256_init(&st, key->k, sizeof(key->k));
	/* NUL-separated fields: no two tuples give the same input. */
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)purpose,
	                              strlen(purpose) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)list,
	                              strlen(list) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)address,
	                              strlen(address) + 1);
	n = snprintf(num, sizeof(num), "%lld%c%lld", id, 0,
	             (long long)expires);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)num,
	                              (unsigned long long)n + 1);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* Base 32 of TOKEN_MAC_BYTES bytes: 5 bits per character. */
static void
put32(const unsigned char *p, char *out, size_t *len, size_t cap)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < TOKEN_MAC_BYTES; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5 && *len + 1 < cap) {
			out[(*len)++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0 && *len + 1 < cap)
		out[(*len)++] = b32[(acc << (5 - bits)) & 31];
}

void
token_make(const struct token_key *key, const char *purpose, const char *list,
           const char *address, long long id, time_t expires, char *out,
           size_t outsz)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	size_t len = 0;

	if (outsz == 0)
		return;
	mac_of(key, purpose, list, address, id, expires, mac);
	put36((unsigned long long)(id < 0 ? 0 : id), out, &len, outsz);
	if (len + 1 < outsz)
		out[len++] = '-';
	put36((unsigned long long)(expires < 0 ? 0 : expires), out, &len,
	      outsz);
	if (len + 1 < outsz)
		out[len++] = '-';
	put32(mac, out, &len, outsz);
	out[len] = '\0';
	sodium_memzero(mac, sizeof(mac));
}

static int
get36(const char **pp, unsigned long long *v)
{
	const char *p = *pp;
	unsigned long long x = 0;
	size_t n = 0;

	for (; *p && *p != '-'; p++, n++) {
		const char *d;
		char ch = *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p;

		if (n >= 12 || !ch || !(d = strchr(b36, ch)))
			return -1;
		x = x * 36 + (unsigned long long)(d - b36);
	}
	if (n == 0 || *p != '-')
		return -1;
	*v = x;
	*pp = p + 1;
	return 0;
}

int
token_parse(const char *tok, long long *id, time_t *expires)
{
	unsigned long long a, b;
	const char *p = tok;
	size_t n;

	if (!tok || strnlen(tok, TOKEN_MAX + 1) > TOKEN_MAX)
		return -1;
	if (get36(&p, &a) < 0 || get36(&p, &b) < 0)
		return -1;
	n = strlen(p);
	if (n != (TOKEN_MAC_BYTES * 8 + 4) / 5 ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "234567") != n)
		return -1;
	if (a > (unsigned long long)INT64_MAX / 2 ||
	    b > (unsigned long long)INT64_MAX / 2)
		return -1;
	*id = (long long)a;
	*expires = (time_t)b;
	return 0;
}

int
token_verify(const struct token_key *key, const char *tok, const char *purpose,
             const char *list, const char *address)
{
	char want[TOKEN_MAX + 1], got[TOKEN_MAX + 1];
	long long id;
	time_t exp;
	size_t i, n;
	int ok;

	if (token_parse(tok, &id, &exp) < 0)
		return 0;
	n = strlen(tok);
	for (i = 0; i < n; i++)
		got[i] = tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] - 'A' + 'a'
		                                         : tok[i];
	got[n] = '\0';
	token_make(key, purpose, list, address, id, exp, want, sizeof(want));
	ok = strlen(want) == n && sodium_memcmp(want, got, n) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}
