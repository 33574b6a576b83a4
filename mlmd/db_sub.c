/*
 * db_sub.c - the store's side of joining and leaving (db.h): secrets,
 * pending confirmations (table tokens), member settings, and a person's
 * data for GDPR access and erasure.
 *
 * Invariants: every change here is one statement or runs inside the
 * caller's transaction (db_tx_start/db_tx_end); a token row is used at
 * most once (the UPDATE only matches an unused row); erasure leaves no
 * address behind except where the law asks us to keep proof of consent
 * withdrawal: nowhere (the counts in event_log never hold an address).
 * These are rare statements (a few per command mail), so they are
 * prepared per call, except the member lookup of the delivery path.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"
#include "util.h"

/* Step a one-shot statement without rows and finalize it; changes or -1. */
static long
run(struct db *db, sqlite3_stmt *s, const char *what)
{
	long rc = -1;

	if (!s)
		return -1;
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = sqlite3_changes(db->h);
	else
		db_err(db, what);
	sqlite3_finalize(s);
	return rc;
}

/* ----- secrets ---------------------------------------------------------- */

int
db_secret(struct db *db, const char *name, const unsigned char *fresh,
          unsigned char *out, size_t n)
{
	sqlite3_stmt *s;
	int own, rc = -1;

	if (db_tx_start(db, &own) < 0)
		return -1;
	s = db_prep(db, "INSERT OR IGNORE INTO secrets (name, value, created) "
	             "VALUES (?1, ?2, ?3)");
	if (s) {
		db_bind(s, 1, name);
		sqlite3_bind_blob(s, 2, fresh, (int)n, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, db_now(db));
	}
	if (run(db, s, "making a secret") >= 0 &&
	    (s = db_prep(db, "SELECT value FROM secrets WHERE name = ?1"))) {
		db_bind(s, 1, name);
		if (sqlite3_step(s) == SQLITE_ROW &&
		    sqlite3_column_bytes(s, 0) == (int)n) {
			memcpy(out, sqlite3_column_blob(s, 0), n);
			rc = 0;
		} else {
			error("%s: the secret '%s' is missing or damaged",
			      db->path, name);
		}
		sqlite3_finalize(s);
	}
	return db_tx_end(db, own, rc);
}

/* ----- pending confirmations -------------------------------------------- */

void
token_row_clear(struct token_row *t)
{
	free(t->token);
	free(t->purpose);
	free(t->list);
	free(t->address);
	free(t->arg);
	memset(t, 0, sizeof(*t));
}

int
db_token_add(struct db *db, const char *purpose, const char *list,
             const char *address, const char *arg, time_t expires,
             long long *id)
{
	sqlite3_stmt *s;

	/* A unique placeholder until db_token_set() names the token. */
	s = db_prep(db, "INSERT INTO tokens (token, purpose, list, address, arg, "
	             "created, expires) VALUES ('pending:' || hex(randomblob(16)),"
	             " ?1, ?2, ?3, ?4, ?5, ?6)");
	if (!s)
		return -1;
	db_bind(s, 1, purpose);
	db_bind(s, 2, list);
	db_bind(s, 3, address);
	db_bind(s, 4, arg);
	sqlite3_bind_int64(s, 5, db_now(db));
	sqlite3_bind_int64(s, 6, expires);
	if (run(db, s, "recording a confirmation") < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int
db_token_set(struct db *db, long long id, const char *token)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE tokens SET token = ?2 WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	db_bind(s, 2, token);
	return run(db, s, "naming a confirmation") == 1 ? 0 : -1;
}

int
db_token_get(struct db *db, long long id, struct token_row *out)
{
	sqlite3_stmt *s = db_prep(db, "SELECT id, token, purpose, list, address, "
	                           "arg, created, expires, coalesce(used, 0) "
	                           "FROM tokens WHERE id = ?1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		out->token = xstrdup(db_col(s, 1));
		out->purpose = xstrdup(db_col(s, 2));
		out->list = xstrdup(db_col(s, 3));
		out->address = xstrdup(db_col(s, 4));
		out->arg = xstrdup(db_col(s, 5));
		out->created = (time_t)sqlite3_column_int64(s, 6);
		out->expires = (time_t)sqlite3_column_int64(s, 7);
		out->used = (time_t)sqlite3_column_int64(s, 8);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = db_err(db, "reading a confirmation");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_token_use(struct db *db, long long id)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE tokens SET used = ?2 "
	                           "WHERE id = ?1 AND used IS NULL");
	long n;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, db_now(db));
	n = run(db, s, "using a confirmation");
	return n < 0 ? -1 : n == 1 ? 0 : 1;
}

long
db_token_use_all(struct db *db, const char *purpose, const char *list,
                 const char *address)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE tokens SET used = ?4 WHERE "
	                           "purpose = ?1 AND list = ?2 AND "
	                           "address = ?3 AND used IS NULL");

	if (!s)
		return -1;
	db_bind(s, 1, purpose);
	db_bind(s, 2, list);
	db_bind(s, 3, address);
	sqlite3_bind_int64(s, 4, db_now(db));
	return run(db, s, "using confirmations");
}

long
db_token_count(struct db *db, const char *purpose, const char *list,
               const char *address, const char *domain, time_t since,
               int pending_only)
{
	struct buf like = BUF_INIT;
	sqlite3_stmt *s;
	const char *p;
	long n = -1;

	s = db_prep(db, "SELECT count(*) FROM tokens WHERE created >= ?1 "
	             "AND purpose = ?5 AND (?6 = 0 OR used IS NULL) "
	             "AND (?2 = '' OR list = ?2) AND (?3 = '' OR address = ?3) "
	             "AND (?4 = '' OR address LIKE ?4 ESCAPE '\\')");
	if (!s)
		return -1;
	if (domain && *domain) {
		buf_adds(&like, "%@");
		for (p = domain; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				buf_addc(&like, '\\');
			buf_addc(&like, *p);
		}
	}
	sqlite3_bind_int64(s, 1, since);
	db_bind(s, 2, list);
	db_bind(s, 3, address);
	db_bind(s, 4, buf_str(&like));
	db_bind(s, 5, purpose);
	sqlite3_bind_int(s, 6, pending_only);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		db_err(db, "counting confirmations");
	sqlite3_finalize(s);
	buf_free(&like);
	return n;
}

long
db_token_purge(struct db *db, time_t now, time_t keep)
{
	sqlite3_stmt *s;
	long n = -1;
	int own;

	if (db_tx_start(db, &own) < 0)
		return -1;
	/* requests to join never confirmed: counted for the reports
	 * (issue 9) before they go */
	s = db_prep(db, "INSERT INTO event_log (at, list, kind, ref, n) "
	             "SELECT ?1, list, 'sub_expired', '', count(*) FROM tokens "
	             "WHERE expires < ?1 AND used IS NULL AND "
	             "purpose = 'confirm' AND (arg LIKE 'subscribe%' OR "
	             "instr(arg, char(10) || 'subscribe') > 0) GROUP BY list");
	if (s) {
		sqlite3_bind_int64(s, 1, now);
		if (run(db, s, "counting expired requests") >= 0) {
			s = db_prep(db, "DELETE FROM tokens WHERE expires < ?1 "
			             "OR (used IS NOT NULL AND used < ?2)");
			if (s) {
				sqlite3_bind_int64(s, 1, now);
				sqlite3_bind_int64(s, 2, now - keep);
				n = run(db, s, "deleting old confirmations");
			}
		}
	}
	return db_tx_end(db, own, n < 0 ? -1 : 0) < 0 ? -1 : n;
}

/* ----- member settings --------------------------------------------------- */

int
db_member_update(struct db *db, const char *list, const char *address,
                 int digest, const char *format, int nomail,
                 const char *language)
{
	sqlite3_stmt *s;
	long n;

	s = db_prep(db, "UPDATE members SET "
	             "digest = CASE WHEN ?3 < 0 THEN digest ELSE ?3 END, "
	             "digest_format = coalesce(?4, digest_format), "
	             "nomail = CASE WHEN ?5 < 0 THEN nomail ELSE ?5 END, "
	             "language = coalesce(?6, language) "
	             "WHERE list = ?1 AND address = ?2");
	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, address);
	sqlite3_bind_int(s, 3, digest);
	if (format)
		db_bind(s, 4, format);
	sqlite3_bind_int(s, 5, nomail);
	if (language)
		db_bind(s, 6, language);
	n = run(db, s, "changing a member's settings");
	return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int
db_person_set_language(struct db *db, const char *address,
                       const char *language)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE persons SET language = ?2 "
	                           "WHERE address = ?1");
	long n;

	if (!s)
		return -1;

	db_bind(s, 1, address);
	db_bind(s, 2, language);
	n = run(db, s, "setting a language");
	return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int
db_person_language(struct db *db, const char *address, char *out, size_t n)
{
	sqlite3_stmt *s = db_prep(db, "SELECT language FROM persons "
	                           "WHERE address = ?1");
	int rc = 1;

	if (n)
		*out = '\0';
	if (!s)
		return -1;
	db_bind(s, 1, address);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		strlcpy_(out, db_col(s, 0), n);
		rc = 0;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_err(db, "reading a language");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_member_flags(struct db *db, const char *list, const char *address,
                struct member_flags *f)
{
	sqlite3_stmt *s = db_prep(db, "SELECT id, digest, digest_format, nomail, "
	                           "language, since FROM members "
	                           "WHERE list = ?1 AND address = ?2");
	int rc = 1;

	memset(f, 0, sizeof(*f));
	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, address);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		f->id = sqlite3_column_int64(s, 0);
		f->digest = sqlite3_column_int(s, 1);
		f->plain = strcmp(db_col(s, 2), "plain") == 0;
		f->nomail = sqlite3_column_int(s, 3);
		strlcpy_(f->language, db_col(s, 4), sizeof(f->language));
		f->since = (time_t)sqlite3_column_int64(s, 5);
		rc = 0;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_err(db, "reading a member");
	}
	sqlite3_finalize(s);
	return rc;
}

long long
db_member_id(struct db *db, const char *const *lists, size_t n,
             const char *address)
{
	static const char sql[] =
	    "SELECT id FROM members WHERE address = ?2 AND list IN "
	    "(SELECT value FROM json_each(?1)) "
	    "ORDER BY list = json_extract(?1, '$[0]') DESC, id LIMIT 1";
	sqlite3_stmt *s = db_cached(db, ST_MEMBER_ID, sql);
	struct buf json = BUF_INIT;
	long long id = 0;
	size_t i;
	int rc;

	if (!s)
		return -1;
	buf_addc(&json, '[');
	for (i = 0; i < n; i++) {
		const char *p;

		buf_adds(&json, i ? ",\"" : "\"");
		for (p = lists[i]; *p; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= ' ')
				buf_addc(&json, *p);
		buf_addc(&json, '"');
	}
	buf_addc(&json, ']');
	sqlite3_bind_text(s, 1, buf_str(&json), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		id = db_err(db, "looking up a member");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	buf_free(&json);
	return id;
}

int
db_member_by_id(struct db *db, long long id, char *list, size_t list_sz,
                char *address, size_t addr_sz)
{
	sqlite3_stmt *s = db_prep(db, "SELECT list, address FROM members "
	                           "WHERE id = ?1");
	int rc = 1;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		strlcpy_(list, db_col(s, 0), list_sz);
		strlcpy_(address, db_col(s, 1), addr_sz);
		rc = 0;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_err(db, "reading a member");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_person_lists(struct db *db, const char *address,
                int (*fn)(const char *list, const struct member_flags *f,
                          void *arg),
                void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT list, id, digest, digest_format, "
	                           "nomail, language, since FROM members "
	                           "WHERE address = ?1 ORDER BY list");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, address);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct member_flags f;

		memset(&f, 0, sizeof(f));
		f.id = sqlite3_column_int64(s, 1);
		f.digest = sqlite3_column_int(s, 2);
		f.plain = strcmp(db_col(s, 3), "plain") == 0;
		f.nomail = sqlite3_column_int(s, 4);
		strlcpy_(f.language, db_col(s, 5), sizeof(f.language));
		f.since = (time_t)sqlite3_column_int64(s, 6);
		rc = fn(db_col(s, 0), &f, arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading memberships");
	sqlite3_finalize(s);
	return rc;
}

/* ----- moderation ------------------------------------------------------------ */

int
db_accept_add(struct db *db, const char *list, const char *address,
              const char *how)
{
	sqlite3_stmt *s = db_prep(db, "INSERT OR IGNORE INTO accept_senders "
	                           "(list, address, how, added) "
	                           "VALUES (?1, ?2, ?3, ?4)");
	long n;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, address);
	db_bind(s, 3, how);
	sqlite3_bind_int64(s, 4, db_now(db));
	n = run(db, s, "accepting a sender");
	return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int
db_member_set_moderated(struct db *db, const char *list, const char *address,
                        int on)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE members SET moderated = ?3 "
	                           "WHERE list = ?1 AND address = ?2");
	long n;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, address);
	sqlite3_bind_int(s, 3, on);
	n = run(db, s, "changing a member's moderation");
	return n < 0 ? -1 : n == 0 ? 1 : 0;
}

time_t
db_last_event(struct db *db, const char *list, const char *kind)
{
	sqlite3_stmt *s = db_prep(db, "SELECT coalesce(max(at), 0) FROM event_log "
	                           "WHERE list = ?1 AND kind = ?2");
	time_t t = -1;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, kind);
	if (sqlite3_step(s) == SQLITE_ROW)
		t = (time_t)sqlite3_column_int64(s, 0);
	else
		db_err(db, "reading the event log");
	sqlite3_finalize(s);
	return t;
}

/* ----- bounces ----------------------------------------------------------- */

int
db_bounce_add(struct db *db, const struct bounce_row *b, long long *id)
{
	sqlite3_stmt *s = db_prep(db, "INSERT INTO bounces (list, address, at, "
	                           "kind, status, diagnostic, message_id, "
	                           "counted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	                           "?7, ?8)");

	if (!s)
		return -1;
	db_bind(s, 1, b->list);
	db_bind(s, 2, b->address);
	sqlite3_bind_int64(s, 3, db_now(db));
	db_bind(s, 4, b->kind);
	db_bind(s, 5, b->status);
	db_bind(s, 6, b->diagnostic);
	db_bind(s, 7, b->message_id);
	sqlite3_bind_double(s, 8, b->counted);
	if (run(db, s, "recording a bounce") < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int
db_bounce_set_counted(struct db *db, long long id, double counted)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE bounces SET counted = ?2 "
	                           "WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_double(s, 2, counted);
	return run(db, s, "scoring a bounce") < 0 ? -1 : 0;
}

int
db_member_bounce(struct db *db, const char *list, const char *address,
                 struct member_bounce *mb)
{
	sqlite3_stmt *s = db_prep(db, "SELECT id, bounce_score, "
	                           "coalesce(bounce_updated, 0), "
	                           "coalesce(probe_sent, 0), "
	                           "coalesce(disabled, 0) FROM members "
	                           "WHERE list = ?1 AND address = ?2");
	int rc = 1;

	memset(mb, 0, sizeof(*mb));
	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, address);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		mb->id = sqlite3_column_int64(s, 0);
		mb->score = sqlite3_column_double(s, 1);
		mb->updated = (time_t)sqlite3_column_int64(s, 2);
		mb->probe_sent = (time_t)sqlite3_column_int64(s, 3);
		mb->disabled = (time_t)sqlite3_column_int64(s, 4);
		rc = 0;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_err(db, "reading a member's bounces");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_member_bounce_set(struct db *db, long long id, const struct member_bounce *mb)
{
	sqlite3_stmt *s = db_prep(db, "UPDATE members SET bounce_score = ?2, "
	                           "bounce_updated = nullif(?3, 0), "
	                           "probe_sent = nullif(?4, 0), "
	                           "disabled = nullif(?5, 0) WHERE id = ?1");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_double(s, 2, mb->score);
	sqlite3_bind_int64(s, 3, mb->updated);
	sqlite3_bind_int64(s, 4, mb->probe_sent);
	sqlite3_bind_int64(s, 5, mb->disabled);
	return run(db, s, "updating a member's bounces") < 0 ? -1 : 0;
}

long
db_bounce_domains(struct db *db, const char *list, const char *message_id)
{
	sqlite3_stmt *s = db_prep(db, "SELECT count(DISTINCT substr(address, "
	                           "instr(address, '@') + 1)) FROM bounces "
	                           "WHERE list = ?1 AND message_id = ?2 "
	                           "AND kind IN ('hard', 'soft', 'content')");
	long n = -1;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, message_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	else
		db_err(db, "counting bouncing domains");
	sqlite3_finalize(s);
	return n;
}

int
db_bounce_each_counted(struct db *db, const char *list,
                       const char *message_id,
                       int (*fn)(const char *address, double counted,
                                 time_t at, void *arg),
                       void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT address, counted, at FROM bounces "
	                           "WHERE list = ?1 AND message_id = ?2 AND "
	                           "counted > 0");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	db_bind(s, 2, message_id);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(db_col(s, 0), sqlite3_column_double(s, 1),
		        (time_t)sqlite3_column_int64(s, 2), arg);
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading bounces");
	sqlite3_finalize(s);
	if (rc == 0) {
		s = db_prep(db, "UPDATE bounces SET counted = 0, kind = 'content' "
		             "WHERE list = ?1 AND message_id = ?2 AND "
		             "kind IN ('hard', 'soft')");
		if (!s)
			return -1;
		db_bind(s, 1, list);
		db_bind(s, 2, message_id);
		if (run(db, s, "marking a content problem") < 0)
			rc = -1;
	}
	return rc;
}

int
db_bounce_members(struct db *db, const char *list,
                  int (*fn)(const char *address,
                            const struct member_bounce *mb, void *arg),
                  void *arg)
{
	sqlite3_stmt *s = db_prep(db, "SELECT address, id, bounce_score, "
	                           "coalesce(bounce_updated, 0), "
	                           "coalesce(probe_sent, 0), "
	                           "coalesce(disabled, 0) FROM members "
	                           "WHERE list = ?1 AND (bounce_score > 0 OR "
	                           "probe_sent IS NOT NULL OR disabled IS NOT "
	                           "NULL) ORDER BY address");
	int rc = 0, st = SQLITE_DONE;

	if (!s)
		return -1;
	db_bind(s, 1, list);
	while (rc == 0 && (st = sqlite3_step(s)) == SQLITE_ROW) {
		struct member_bounce mb;

		mb.id = sqlite3_column_int64(s, 1);
		mb.score = sqlite3_column_double(s, 2);
		mb.updated = (time_t)sqlite3_column_int64(s, 3);
		mb.probe_sent = (time_t)sqlite3_column_int64(s, 4);
		mb.disabled = (time_t)sqlite3_column_int64(s, 5);
		rc = fn(db_col(s, 0), &mb, arg);
	}
	if (rc == 0 && st != SQLITE_DONE)
		rc = db_err(db, "reading bouncing members");
	sqlite3_finalize(s);
	return rc;
}

/* ----- a person's data (GDPR) -------------------------------------------- */

/*
 * Everything about one address, as one JSON object built by SQLite's
 * json functions (so every string is escaped by one well-tested coder).
 */
static const char export_sql[] =
    "SELECT json_object("
    " 'address', ?1,"
    " 'person', (SELECT json_object('created', datetime(created, 'unixepoch'),"
    "   'language', language) FROM persons WHERE address = ?1),"
    " 'memberships', (SELECT json_group_array(json_object('list', list,"
    "   'name', name, 'language', language, 'digest', digest,"
    "   'digest_format', digest_format, 'nomail', nomail,"
    "   'moderated', moderated, 'since', datetime(since, 'unixepoch'),"
    "   'bounce_score', bounce_score,"
    "   'disabled', datetime(disabled, 'unixepoch')))"
    "   FROM members WHERE address = ?1),"
    " 'consents', (SELECT json_group_array(json_object('list', list,"
    "   'action', action, 'how', how, 'at', datetime(at, 'unixepoch')))"
    "   FROM (SELECT * FROM consents WHERE address = ?1 ORDER BY id)),"
    " 'pending_confirmations', (SELECT json_group_array(json_object("
    "   'purpose', purpose, 'list', list, 'detail', arg,"
    "   'created', datetime(created, 'unixepoch'),"
    "   'expires', datetime(expires, 'unixepoch'),"
    "   'used', datetime(used, 'unixepoch')))"
    "   FROM tokens WHERE address = ?1),"
    " 'bounces', (SELECT json_group_array(json_object('list', list,"
    "   'kind', kind, 'status', status,"
    "   'at', datetime(at, 'unixepoch')))"
    "   FROM bounces WHERE address = ?1),"
    " 'held_posts', (SELECT json_group_array(json_object('list', list,"
    "   'subject', subject, 'state', state,"
    "   'created', datetime(created, 'unixepoch')))"
    "   FROM held WHERE sender = ?1 OR from_addr = ?1),"
    " 'event_answers', (SELECT json_group_array(json_object("
    "   'event', event, 'occurrence', occurrence, 'answer', partstat,"
    "   'guests', guests, 'attended', attended))"
    "   FROM rsvps WHERE address = ?1),"
    " 'accepted_sender_of', (SELECT json_group_array(list)"
    "   FROM accept_senders WHERE address = ?1),"
    " 'archived_posts', (SELECT json_group_array(json_object('list', list,"
    "   'message_id', message_id, 'subject', subject,"
    "   'date', datetime(date, 'unixepoch')))"
    "   FROM messages WHERE from_addr = ?1),"
    " 'mail_received_from_you', (SELECT count(*) FROM inbound"
    "   WHERE sender = ?1 OR from_addr = ?1),"
    " 'mail_sent_to_you', (SELECT count(*) FROM outbound"
    "   WHERE recipient = ?1))";

int
db_person_export(struct db *db, const char *address, struct buf *json)
{
	sqlite3_stmt *s = db_prep(db, export_sql);
	int rc = -1;

	if (!s)
		return -1;
	db_bind(s, 1, address);
	if (sqlite3_step(s) == SQLITE_ROW) {
		buf_adds(json, db_col(s, 0));
		rc = 0;
	} else {
		db_err(db, "exporting a person's data");
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * The statements of an erasure, in order.  Posts in the archive keep
 * their text (the list's readers have them in their mailboxes too) but
 * lose the name and address of their author; the FTS triggers re-index
 * them without.
 */
static const char *const erase_sql[] = {
    /* the reports' counts stay: each membership that goes is a leave
     * (issue 9), each answer to an event stays, without the address */
    "INSERT INTO event_log (at, list, kind, ref, n) "
    "SELECT ?2, list, 'unsubscribe', 'erasure', 1 FROM members "
    "WHERE address = ?1",
    "DELETE FROM members WHERE address = ?1",
    "DELETE FROM consents WHERE address = ?1",
    "DELETE FROM tokens WHERE address = ?1",
    "DELETE FROM bounces WHERE address = ?1",
    "DELETE FROM accept_senders WHERE address = ?1",
    "DELETE FROM outbound WHERE recipient = ?1 AND state IN ('sent', "
    "'failed')",
    "UPDATE rsvps SET address = 'erased-' || id WHERE address = ?1",
    "UPDATE held SET sender = '' WHERE sender = ?1",
    "UPDATE held SET from_addr = '' WHERE from_addr = ?1",
    "UPDATE inbound SET sender = '' WHERE sender = ?1",
    "UPDATE inbound SET from_addr = '' WHERE from_addr = ?1",
    "UPDATE messages SET from_name = '', from_addr = '', erased = 1 "
    "WHERE from_addr = ?1",
    "DELETE FROM persons WHERE address = ?1",
};

long
db_person_erase(struct db *db, const char *address)
{
	long total = 0;
	size_t i;
	int own;

	if (db_tx_start(db, &own) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(erase_sql) && total >= 0; i++) {
		sqlite3_stmt *s = db_prep(db, erase_sql[i]);
		long n;

		if (s) {
			db_bind(s, 1, address);
			if (sqlite3_bind_parameter_count(s) >= 2)
				sqlite3_bind_int64(s, 2,
				                   (sqlite3_int64)db_now(db));
		}
		n = run(db, s, "erasing a person's data");
		total = n < 0 ? -1 : total + n;
	}
	if (total > 0 && db_log_event(db, "", "erasure", NULL, 1) < 0)
		total = -1;
	return db_tx_end(db, own, total < 0 ? -1 : 0) < 0 ? -1 : total;
}
