/*
 * addr_test.c - address normalisation and routing (mlmd/addr.c): tables
 * of (input, expected) for addr_normalise() and addr_route(), the latter
 * with the default separator and with '-'.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "util.h"
#include "tap.h"

static const struct {
	const char *in;
	const char *out; /* NULL: must be refused */
} norm_cases[] = {
    {"alice@example.org", "alice@example.org"},
    {"Alice@Example.ORG", "alice@example.org"},
    {"  <Bob@Example.org>\r\n", "bob@example.org"},
    {"<a.b+tag@sub.example.org>", "a.b+tag@sub.example.org"},
    {"o'neil@example.ie", "o'neil@example.ie"},
    {"x@localhost", "x@localhost"},
    {"\xc3\xa5se@example.dk", "\xc3\xa5se@example.dk"},
    {"", NULL},
    {"<>", NULL},
    {"   ", NULL},
    {"alice", NULL},
    {"@example.org", NULL},
    {"alice@", NULL},
    {"a@b@c.org", NULL},
    {"a b@c.org", NULL},
    {"a@c .org", NULL},
    {"\"a b\"@c.org", NULL},
    {"a\x01@c.org", NULL},
    {"a@c.org\x7f", NULL},
    {"<a@c.org", NULL},
    {"a@c.org>", NULL},
    {"a@.c.org", NULL},
    {"a@c.org.", NULL},
    {"a@c..org", NULL},
    {"a@c_d.org", NULL},
    {"Name <a@c.org>", NULL},
    {"a,b@c.org", NULL},
    {"a(comment)@c.org", NULL},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@c.org",
     NULL}, /* 65 bytes of local part */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@c.org",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@c.org"},
};

static void
test_normalise(void)
{
	size_t i;
	char out[ADDR_MAX + 1], small[8];

	for (i = 0; i < ARRAY_SIZE(norm_cases); i++) {
		int r = addr_normalise(norm_cases[i].in, out, sizeof(out));

		if (norm_cases[i].out)
			ok(r == 0 && strcmp(out, norm_cases[i].out) == 0,
			   "normalise %zu: -> '%s'", i,
			   r == 0 ? out : "(refused)");
		else
			ok(r < 0, "normalise %zu: refused", i);
	}
	is_int(addr_normalise("alice@example.org", small, sizeof(small)), -1,
	       "output buffer too small is refused");
	is_int(addr_normalise(NULL, out, sizeof(out)), -1, "NULL refused");
}

static const struct route_case {
	char sep;
	const char *rcpt;
	int ret;
	const char *list;
	enum addr_role role;
	const char *arg;
} route_cases[] = {
    {'+', "denmark@lists.example.org", 0, "denmark", ROLE_POST, ""},
    {'+', "<DENMARK@Lists.Example.Org>", 0, "denmark", ROLE_POST, ""},
    {'+', "denmark-request@lists.example.org", 0, "denmark", ROLE_REQUEST, ""},
    {'+', "Denmark-Owner@lists.example.org", 0, "denmark", ROLE_OWNER, ""},
    {'+', "denmark+subscribe@lists.example.org", 0, "denmark", ROLE_SUBSCRIBE,
     ""},
    {'+', "denmark+UNSUBSCRIBE@lists.example.org", 0, "denmark",
     ROLE_UNSUBSCRIBE, ""},
    {'+', "denmark+unsubscribe-AbC_9-x@lists.example.org", 0, "denmark",
     ROLE_UNSUBSCRIBE, "AbC_9-x"},
    {'+', "denmark+help@lists.example.org", 0, "denmark", ROLE_HELP, ""},
    {'+', "denmark+confirm-Tok3nXY@lists.example.org", 0, "denmark",
     ROLE_CONFIRM, "Tok3nXY"},
    {'+', "denmark+moderate-t0k@lists.example.org", 0, "denmark", ROLE_MODERATE,
     "t0k"},
    {'+', "denmark+bounce-alice=example.org@lists.example.org", 0, "denmark",
     ROLE_BOUNCE, "alice=example.org"},
    {'+', "denmark+bounce@lists.example.org", 0, "denmark", ROLE_BOUNCE, ""},
    {'+', "denmark+bounce-a+b=c.org@lists.example.org", 0, "denmark",
     ROLE_BOUNCE, "a+b=c.org"},
    {'+', "denmark+rsvp-R1@lists.example.org", 0, "denmark", ROLE_RSVP, "R1"},
    {'+', "denmark+event@lists.example.org", 0, "denmark", ROLE_EVENT, ""},
    {'+', "sweden.se@lists.example.org", 0, "sweden.se", ROLE_POST, ""},
    {'+', "sweden.se-request@lists.example.org", 0, "sweden.se", ROLE_REQUEST,
     ""},
    {'+', "all_members+help@lists.example.org", 0, "all_members", ROLE_HELP,
     ""},
    /* no address of ours */
    {'+', "denmark@other.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark@example.org", -1, NULL, ROLE_POST, ""},
    {'+', "norway@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "norway-request@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "norway+subscribe@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark+nonsense@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark+confirm@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark+confirm-@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark+subscribe-x@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark+helpme@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark-subscribe@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "denmark-admin@lists.example.org", -1, NULL, ROLE_POST, ""},
    {'+', "", -1, NULL, ROLE_POST, ""},
    {'+', "denmark", -1, NULL, ROLE_POST, ""},
    /* separator '-' */
    {'-', "denmark-subscribe@lists.example.org", 0, "denmark", ROLE_SUBSCRIBE,
     ""},
    {'-', "denmark-request@lists.example.org", 0, "denmark", ROLE_REQUEST, ""},
    {'-', "denmark-owner@lists.example.org", 0, "denmark", ROLE_OWNER, ""},
    {'-', "denmark-confirm-Xy-z@lists.example.org", 0, "denmark", ROLE_CONFIRM,
     "Xy-z"},
    {'-', "denmark+subscribe@lists.example.org", -1, NULL, ROLE_POST, ""},
};

static struct conf *
make_conf(char sep)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct conf *c;

	buf_printf(&text,
	           "domain = \"lists.example.org\"\nhome = \"/x\"\n"
	           "separator = \"%c\"\n"
	           "list denmark { }\nlist sweden.se { }\n%s",
	           sep, sep == '_' ? "" : "list all_members { }\n");
	c = conf_parse("addr.conf", buf_str(&text), &err);
	if (!c)
		diag("%s", buf_str(&err));
	buf_free(&text);
	buf_free(&err);
	return c;
}

static void
test_route(void)
{
	struct conf *plus = make_conf('+'), *dash = make_conf('-');
	size_t i;

	if (!ok(plus && dash, "routing configs parse")) {
		conf_free(plus);
		conf_free(dash);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(route_cases); i++) {
		const struct route_case *t = &route_cases[i];
		struct route r;
		int ret = addr_route(t->sep == '-' ? dash : plus, t->rcpt, &r);

		if (t->ret < 0) {
			ok(ret < 0 && r.list == NULL,
			   "route %zu: '%s' is not ours", i, t->rcpt);
			continue;
		}
		if (!ok(ret == 0 && r.list &&
		            strcmp(r.list->name, t->list) == 0 &&
		            r.role == t->role && strcmp(r.arg, t->arg) == 0,
		        "route %zu: '%s' -> %s %s '%s'", i, t->rcpt, t->list,
		        addr_role_name(t->role), t->arg))
			diag("got %d %s %s '%s'", ret,
			     r.list ? r.list->name : "-",
			     addr_role_name(r.role), r.arg);
	}
	conf_free(plus);
	conf_free(dash);
}

static void
test_role_names(void)
{
	static const struct {
		enum addr_role role;
		const char *name;
	} names[] = {
	    {ROLE_POST, "post"},
	    {ROLE_REQUEST, "request"},
	    {ROLE_OWNER, "owner"},
	    {ROLE_SUBSCRIBE, "subscribe"},
	    {ROLE_UNSUBSCRIBE, "unsubscribe"},
	    {ROLE_HELP, "help"},
	    {ROLE_CONFIRM, "confirm"},
	    {ROLE_MODERATE, "moderate"},
	    {ROLE_BOUNCE, "bounce"},
	    {ROLE_RSVP, "rsvp"},
	    {ROLE_EVENT, "event"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		is_str(addr_role_name(names[i].role), names[i].name,
		       "role name %s", names[i].name);
}

int
main(void)
{
	test_normalise();
	test_route();
	test_role_names();
	return done_testing();
}
