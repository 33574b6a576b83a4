/*
 * token.h - the tokens in confirmation addresses and links
 * (LIST+confirm-TOKEN@, BASE/c/TOKEN, LIST+unsubscribe-TOKEN@,
 * BASE/u/LIST/TOKEN).
 *
 * A token is "ID-EXP-MAC", lower case only (MTAs and people may fold the
 * case of a local part):
 *   ID   the row it is about, base 36: a tokens row for confirmations, a
 *        members row for a member's own unsubscribe link;
 *   EXP  its expiry, Unix seconds in base 36;
 *   MAC  HMAC-SHA256 (libsodium) under a key kept in the database, over
 *        purpose, list, address, ID and EXP, cut to TOKEN_MAC_BYTES and
 *        written in base 32 (a-z, 2-7).
 * Nothing in a token is secret except the MAC, and the MAC cannot be
 * made without the key, so a forged token fails token_verify(); the
 * comparison is in constant time.  The row named by ID says what the
 * token is for; the MAC proves that mlmd issued it for exactly that
 * purpose, list and address, and EXP that it is still valid.
 *
 * A token fits in a local part: at most TOKEN_MAX characters (33 with
 * ten years of ids), so "coordinators+unsubscribe-TOKEN" stays within
 * the 64 octets of RFC 5321.
 */
#ifndef MLMD_TOKEN_H
#define MLMD_TOKEN_H

#include <stddef.h>
#include <time.h>

#define TOKEN_KEY_BYTES 32
#define TOKEN_MAC_BYTES 13   /* 104 bits: 21 base-32 characters */
#define TOKEN_MAX       48   /* characters of a token, generous */

struct db;

struct token_key {
	unsigned char k[TOKEN_KEY_BYTES];
};

/* Load the key from the database, making it on first use.  0 / -1. */
int token_key_load(struct db *db, struct token_key *key);

/* Write the token for (purpose, list, address, id, expires) into out
 * (at least TOKEN_MAX + 1 bytes). */
void token_make(const struct token_key *key, const char *purpose,
		const char *list, const char *address, long long id,
		time_t expires, char *out, size_t outsz);

/* Split a token (any case) into its ID and EXP; 0, or -1 if it is not
 * shaped like one. */
int token_parse(const char *tok, long long *id, time_t *expires);

/* 1 if tok is the token for (purpose, list, address, id, expires), in
 * constant time for a token of the right shape; 0 if not. */
int token_verify(const struct token_key *key, const char *tok,
		 const char *purpose, const char *list, const char *address);

#endif
