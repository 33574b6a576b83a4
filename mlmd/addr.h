/*
 * addr.h - e-mail addresses: normalisation and the list address scheme.
 *
 * addr_normalise() gives the form used as identity everywhere (database
 * keys, comparisons): surrounding space and <> removed, the whole address
 * lower-cased (XXX: RFC 5321 lets local parts be case-sensitive, but no
 * mail system our members use makes Alice@ and alice@ different people, and
 * peers (Mailman 3) compare the same way).
 *
 * addr_route() maps a recipient to a list and a role (DESIGN.md
 * "Addresses"):  LIST@, LIST-request@, LIST-owner@, LIST+subscribe@,
 * LIST+unsubscribe@, LIST+help@, LIST+confirm-TOKEN@, LIST+moderate-TOKEN@,
 * LIST+bounce-INFO@, LIST+rsvp-TOKEN@, LIST+event@.  The separator is
 * conf->separator.
 */
#ifndef MLMD_ADDR_H
#define MLMD_ADDR_H

#include <stddef.h>

struct conf;
struct list_conf;

#define ADDR_MAX 320 /* RFC 5321: 64 local + @ + 255 domain */

/* Normalise in into out (size outsz); 0 on success, -1 if in is not a
 * plausible address (no @, empty part, control chars, too long). */
int addr_normalise(const char *in, char *out, size_t outsz);

enum addr_role {
	ROLE_POST,        /* LIST@ */
	ROLE_REQUEST,     /* LIST-request@ */
	ROLE_OWNER,       /* LIST-owner@ */
	ROLE_SUBSCRIBE,   /* LIST+subscribe@ */
	ROLE_UNSUBSCRIBE, /* LIST+unsubscribe@ (arg: optional token) */
	ROLE_HELP,        /* LIST+help@ */
	ROLE_CONFIRM,     /* LIST+confirm-TOKEN@ */
	ROLE_MODERATE,    /* LIST+moderate-TOKEN@ */
	ROLE_BOUNCE,      /* LIST+bounce-INFO@ */
	ROLE_RSVP,        /* LIST+rsvp-TOKEN@ */
	ROLE_EVENT,       /* LIST+event@ */
};

struct route {
	const struct list_conf *list; /* borrowed from the conf */
	enum addr_role role;
	char arg[ADDR_MAX + 1];       /* token or VERP info; "" if none */
};

/* Route a recipient address; 0 and *out filled, or -1 if it is no address
 * of ours (unknown list, other domain, unknown suffix). */
int addr_route(const struct conf *c, const char *rcpt, struct route *out);
const char *addr_role_name(enum addr_role r);

#endif
