/*
 * db_schema.c - the schema of home/mlmd.db and its migrations.
 *
 * Owns: the ordered list of migrations below.  Migration N takes a
 * database at PRAGMA user_version N-1 to N; each runs in its own BEGIN
 * IMMEDIATE transaction together with the user_version update, so a crash
 * leaves the database at N-1 or at N, never in between.  The version is
 * re-read inside the write transaction, so two processes opening a new
 * database at once (mlmd and mlmctl) cannot apply a migration twice.
 *
 * Invariants: migrations are append-only.  A released migration is never
 * edited; a change to the schema is a new migration at the end.  A
 * database whose user_version is higher than this build knows is refused
 * (an older mlmd must not write into a newer layout).
 *
 * Conventions of the schema: times are INTEGER Unix seconds (UTC);
 * addresses are normalised (addr_normalise(): lower case, no <>); list
 * columns hold the list's name as in mlmd.conf (lower case); "state"
 * columns are short lower-case words listed in the comment of their table.
 * Every table carries a comment saying who writes it and why.
 *
 * Called by db_open() (db.c).  Errors are returned (-1, logged), never
 * fatal.
 */
#include "config.h"

#include <string.h>

#include "db_int.h"
#include "log.h"
#include "util.h"

/*
 * Migration 1: the foundation schema, designed for the issues that follow
 * (posting and delivery, joining and leaving, moderation and bounces, the
 * archive, digests, events, participation reports).
 */
static const char schema_1[] =
    /* persons: one row per address mlmd holds personal data about; the
     * anchor for GDPR access and erasure (`mlmctl person export|erase`).
     * Deleting a person cascades to members and consents; tokens,
     * bounces, rsvps and the archive are erased by the caller.
     * Written by db_member_add() and later by confirmations. */
    "CREATE TABLE persons (\n"
    "  address  TEXT PRIMARY KEY NOT NULL,\n"
    "  created  INTEGER NOT NULL,\n"
    "  language TEXT NOT NULL DEFAULT ''\n"
    ");\n"

    /* members: one row per subscription (list, address).  delivery
     * settings are kept apart so that `nomail on/off` and `digest
     * on/off` do not forget one another: digest 0 off / 1 on,
     * digest_format 'mime' | 'plain', nomail 0 / 1 (db.h's enum
     * delivery is derived from the three).  Bounce fields (issue 5):
     * bounce_score decays from bounce_updated; probe_sent is when the
     * probe went out; disabled is when delivery was stopped for
     * bounces (NULL: enabled); moderated 1 holds the member's posts
     * (first-post moderation).  Written by db_member_*(). */
    "CREATE TABLE members (\n"
    "  id             INTEGER PRIMARY KEY,\n"
    "  list           TEXT NOT NULL,\n"
    "  address        TEXT NOT NULL\n"
    "                 REFERENCES persons(address) ON DELETE CASCADE,\n"
    "  name           TEXT NOT NULL DEFAULT '',\n"
    "  language       TEXT NOT NULL DEFAULT '',\n"
    "  digest         INTEGER NOT NULL DEFAULT 0,\n"
    "  digest_format  TEXT NOT NULL DEFAULT 'mime',\n"
    "  nomail         INTEGER NOT NULL DEFAULT 0,\n"
    "  moderated      INTEGER NOT NULL DEFAULT 0,\n"
    "  since          INTEGER NOT NULL,\n"
    "  bounce_score   REAL NOT NULL DEFAULT 0,\n"
    "  bounce_updated INTEGER,\n"
    "  probe_sent     INTEGER,\n"
    "  disabled       INTEGER,\n"
    "  UNIQUE (list, address)\n"
    ");\n"
    "CREATE INDEX members_address ON members(address);\n"

    /* consents: GDPR record of every subscription and unsubscription:
     * when, which list, how ('confirmed <message-id>', 'http POST',
     * 'import by root from FILE', 'mlmctl add by root', ...).  action
     * is 'subscribe' | 'unsubscribe'.  Written in the same transaction
     * as the membership change. */
    "CREATE TABLE consents (\n"
    "  id      INTEGER PRIMARY KEY,\n"
    "  address TEXT NOT NULL\n"
    "          REFERENCES persons(address) ON DELETE CASCADE,\n"
    "  list    TEXT NOT NULL,\n"
    "  action  TEXT NOT NULL,\n"
    "  how     TEXT NOT NULL,\n"
    "  at      INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX consents_address ON consents(address);\n"

    /* event_log: append-only record of what happened, for the
     * participation reports (issue 9).  It never holds an address, so
     * `person erase` leaves the counts.  kind: 'subscribe',
     * 'unsubscribe', 'subscribe_request', 'confirm_expired', 'post',
     * 'held', 'rejected', 'delivered', 'bounce', 'invited', 'rsvp_yes',
     * 'rsvp_no', 'rsvp_maybe', 'waitlist', 'attended', ...; ref is an
     * optional non-personal reference (event uid, message row id, digest
     * issue); n a count (e.g. deliveries of one post).  A trigger
     * refuses updates; rows are only ever deleted by retention. */
    "CREATE TABLE event_log (\n"
    "  id    INTEGER PRIMARY KEY,\n"
    "  at    INTEGER NOT NULL,\n"
    "  list  TEXT NOT NULL,\n"
    "  kind  TEXT NOT NULL,\n"
    "  ref   TEXT NOT NULL DEFAULT '',\n"
    "  n     INTEGER NOT NULL DEFAULT 1\n"
    ");\n"
    "CREATE INDEX event_log_list_at ON event_log(list, at);\n"
    "CREATE TRIGGER event_log_append_only BEFORE UPDATE ON event_log\n"
    "BEGIN SELECT RAISE(ABORT, 'event_log is append-only'); END;\n"

    /* secrets: keys kept in the database, e.g. name 'token_hmac' (the
     * HMAC-SHA256 key of tokens), created on first use. */
    "CREATE TABLE secrets (\n"
    "  name    TEXT PRIMARY KEY NOT NULL,\n"
    "  value   BLOB NOT NULL,\n"
    "  created INTEGER NOT NULL\n"
    ");\n"

    /* tokens: pending confirmations and single-use links.  token is the
     * HMAC string sent in the address or URL; purpose 'subscribe',
     * 'unsubscribe', 'moderate', 'rsvp', 'export', 'forget',
     * 'archive_access', ...; arg carries the purpose's detail (digest
     * mode asked for, held post id, event id); used is when it was
     * used (NULL: not yet).  Expired rows are deleted on schedule;
     * per-address and per-domain caps count rows by created. */
    "CREATE TABLE tokens (\n"
    "  id      INTEGER PRIMARY KEY,\n"
    "  token   TEXT NOT NULL UNIQUE,\n"
    "  purpose TEXT NOT NULL,\n"
    "  list    TEXT NOT NULL,\n"
    "  address TEXT NOT NULL,\n"
    "  arg     TEXT NOT NULL DEFAULT '',\n"
    "  created INTEGER NOT NULL,\n"
    "  expires INTEGER NOT NULL,\n"
    "  used    INTEGER\n"
    ");\n"
    "CREATE INDEX tokens_address ON tokens(address, list, purpose);\n"
    "CREATE INDEX tokens_expires ON tokens(expires);\n"

    /* held: posts waiting for a moderator.  The message stays in the
     * spool as spool_id.  state: 'held' | 'approved' | 'rejected' |
     * 'discarded' | 'expired'; decided_by/decided_at record the first
     * decision (the first one wins). */
    "CREATE TABLE held (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  list       TEXT NOT NULL,\n"
    "  spool_id   TEXT NOT NULL,\n"
    "  message_id TEXT NOT NULL DEFAULT '',\n"
    "  sender     TEXT NOT NULL,\n"
    "  from_addr  TEXT NOT NULL DEFAULT '',\n"
    "  subject    TEXT NOT NULL DEFAULT '',\n"
    "  size       INTEGER NOT NULL DEFAULT 0,\n"
    "  reason     TEXT NOT NULL,\n"
    "  created    INTEGER NOT NULL,\n"
    "  expires    INTEGER NOT NULL,\n"
    "  state      TEXT NOT NULL DEFAULT 'held',\n"
    "  decided_by TEXT,\n"
    "  decided_at INTEGER\n"
    ");\n"
    "CREATE INDEX held_list_state ON held(list, state);\n"

    /* accept_senders: non-members whose posts are accepted on a list
     * (`approve always`, issue 5). */
    "CREATE TABLE accept_senders (\n"
    "  list    TEXT NOT NULL,\n"
    "  address TEXT NOT NULL,\n"
    "  how     TEXT NOT NULL,\n"
    "  added   INTEGER NOT NULL,\n"
    "  PRIMARY KEY (list, address)\n"
    ");\n"

    /* messages: the archive index, one row per (list, Message-ID).
     * path is the stored raw message (relative to home); month is
     * 'YYYY-MM' of date for the monthly pages; thread_id is the id of
     * the thread's root row; refs is the References header (space
     * separated ids without <>); hidden 1 keeps it out of the public
     * archive (X-No-Archive, erasure). */
    "CREATE TABLE messages (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  list        TEXT NOT NULL,\n"
    "  message_id  TEXT NOT NULL,\n"
    "  path        TEXT NOT NULL,\n"
    "  from_name   TEXT NOT NULL DEFAULT '',\n"
    "  from_addr   TEXT NOT NULL DEFAULT '',\n"
    "  subject     TEXT NOT NULL DEFAULT '',\n"
    "  date        INTEGER NOT NULL,\n"
    "  received    INTEGER NOT NULL,\n"
    "  in_reply_to TEXT NOT NULL DEFAULT '',\n"
    "  refs        TEXT NOT NULL DEFAULT '',\n"
    "  thread_id   INTEGER,\n"
    "  month       TEXT NOT NULL,\n"
    "  size        INTEGER NOT NULL DEFAULT 0,\n"
    "  hidden      INTEGER NOT NULL DEFAULT 0,\n"
    "  UNIQUE (list, message_id)\n"
    ");\n"
    "CREATE INDEX messages_list_month ON messages(list, month, date);\n"
    "CREATE INDEX messages_thread ON messages(thread_id);\n"
    "CREATE INDEX messages_from ON messages(from_addr);\n"

    /* message_text: the searchable text of an archived message (the
     * decoded plain text, HTML converted); kept apart from messages so
     * that index scans stay small.  The FTS5 index below reads it. */
    "CREATE TABLE message_text (\n"
    "  message INTEGER PRIMARY KEY\n"
    "          REFERENCES messages(id) ON DELETE CASCADE,\n"
    "  body    TEXT NOT NULL\n"
    ");\n"

    /* messages_fts_src: the rows that messages_fts indexes (external
     * content: the text is stored once, in messages and message_text,
     * and snippet() reads it back from here). */
    "CREATE VIEW messages_fts_src AS\n"
    "  SELECT m.id AS id, m.subject AS subject,\n"
    "         m.from_name || ' ' || m.from_addr AS author, t.body AS body\n"
    "  FROM messages m JOIN message_text t ON t.message = m.id;\n"

    /* messages_fts: archive search (issue 6), unicode61 with
     * diacritics removed ("koln" finds "Köln").  rowid = messages.id.
     * Kept in step by the triggers below, in the same transaction as
     * the archive rows: inserting message_text indexes a message,
     * deleting it (or its message) removes it, changing subject or
     * sender (erasure, pseudonymisation) re-indexes it. */
    "CREATE VIRTUAL TABLE messages_fts USING fts5(\n"
    "  subject, author, body,\n"
    "  content='messages_fts_src', content_rowid='id',\n"
    "  tokenize='unicode61 remove_diacritics 2'\n"
    ");\n"
    "CREATE TRIGGER message_text_ai AFTER INSERT ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(rowid, subject, author, body)\n"
    "    SELECT m.id, m.subject, m.from_name || ' ' || m.from_addr,\n"
    "           new.body FROM messages m WHERE m.id = new.message;\n"
    "END;\n"
    "CREATE TRIGGER message_text_bd BEFORE DELETE ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, subject, author,"
    " body)\n"
    "    SELECT 'delete', m.id, m.subject,\n"
    "           m.from_name || ' ' || m.from_addr, old.body\n"
    "    FROM messages m WHERE m.id = old.message;\n"
    "END;\n"
    "CREATE TRIGGER message_text_bu BEFORE UPDATE ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, subject, author,"
    " body)\n"
    "    SELECT 'delete', m.id, m.subject,\n"
    "           m.from_name || ' ' || m.from_addr, old.body\n"
    "    FROM messages m WHERE m.id = old.message;\n"
    "END;\n"
    "CREATE TRIGGER message_text_au AFTER UPDATE ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(rowid, subject, author, body)\n"
    "    SELECT m.id, m.subject, m.from_name || ' ' || m.from_addr,\n"
    "           new.body FROM messages m WHERE m.id = new.message;\n"
    "END;\n"
    /* a message row deleted first: drop its text (and so its index
     * entry) before it goes, while the old subject is still readable */
    "CREATE TRIGGER messages_bd BEFORE DELETE ON messages BEGIN\n"
    "  DELETE FROM message_text WHERE message = old.id;\n"
    "END;\n"
    "CREATE TRIGGER messages_bu BEFORE UPDATE OF subject, from_name,"
    " from_addr\n"
    "  ON messages BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, subject, author,"
    " body)\n"
    "    SELECT 'delete', old.id, old.subject,\n"
    "           old.from_name || ' ' || old.from_addr, t.body\n"
    "    FROM message_text t WHERE t.message = old.id;\n"
    "END;\n"
    "CREATE TRIGGER messages_au AFTER UPDATE OF subject, from_name,"
    " from_addr\n"
    "  ON messages BEGIN\n"
    "  INSERT INTO messages_fts(rowid, subject, author, body)\n"
    "    SELECT new.id, new.subject,\n"
    "           new.from_name || ' ' || new.from_addr, t.body\n"
    "    FROM message_text t WHERE t.message = new.id;\n"
    "END;\n"

    /* inbound: the dispatcher's record of each spool file it processed,
     * one row per (spool file, list recipient), written in the same
     * transaction as the processing (db_inbound_add) so a crash between
     * commit and unlink never processes a message twice
     * (db_inbound_done).  role is addr_role_name() or 'refused' /
     * 'unrouted'; state 'recorded' | 'done' for the stages that
     * follow. */
    "CREATE TABLE inbound (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  spool_id   TEXT NOT NULL,\n"
    "  sender     TEXT NOT NULL,\n"
    "  recipient  TEXT NOT NULL,\n"
    "  list       TEXT NOT NULL,\n"
    "  role       TEXT NOT NULL,\n"
    "  message_id TEXT NOT NULL DEFAULT '',\n"
    "  from_addr  TEXT NOT NULL DEFAULT '',\n"
    "  subject    TEXT NOT NULL DEFAULT '',\n"
    "  received   INTEGER NOT NULL,\n"
    "  size       INTEGER NOT NULL,\n"
    "  state      TEXT NOT NULL DEFAULT 'recorded',\n"
    "  UNIQUE (spool_id, recipient)\n"
    ");\n"
    "CREATE INDEX inbound_state ON inbound(state);\n"
    "CREATE INDEX inbound_message_id ON inbound(message_id);\n"

    /* outbound: delivery jobs, one row per (stored copy, recipient).
     * path is the decorated copy to send (relative to home), shared by
     * the rows of one fan-out; sender the envelope sender (VERP when
     * configured).  state: 'queued' | 'sending' | 'sent' | 'deferred' |
     * 'failed'; next_attempt drives retries with backoff until expires
     * (the lifetime); last_code/last_error are the relay's last
     * answer.  'sending' rows found at start-up were in flight at a
     * crash and are queued again. */
    "CREATE TABLE outbound (\n"
    "  id           INTEGER PRIMARY KEY,\n"
    "  list         TEXT NOT NULL,\n"
    "  message_id   TEXT NOT NULL DEFAULT '',\n"
    "  path         TEXT NOT NULL,\n"
    "  sender       TEXT NOT NULL,\n"
    "  recipient    TEXT NOT NULL,\n"
    "  state        TEXT NOT NULL DEFAULT 'queued',\n"
    "  attempts     INTEGER NOT NULL DEFAULT 0,\n"
    "  created      INTEGER NOT NULL,\n"
    "  next_attempt INTEGER NOT NULL,\n"
    "  expires      INTEGER NOT NULL,\n"
    "  last_code    TEXT NOT NULL DEFAULT '',\n"
    "  last_error   TEXT NOT NULL DEFAULT '',\n"
    "  done_at      INTEGER,\n"
    "  UNIQUE (path, recipient)\n"
    ");\n"
    "CREATE INDEX outbound_due ON outbound(state, next_attempt);\n"
    "CREATE INDEX outbound_message ON outbound(message_id, recipient);\n"

    /* bounces: each bounce, DSN or feedback report received for a
     * member.  kind: 'hard' | 'soft' | 'policy' | 'content' | 'fbl' |
     * 'probe'; status the RFC 3463 code; counted 1 if it scored against
     * the member (policy and content rejections never do). */
    "CREATE TABLE bounces (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  list       TEXT NOT NULL,\n"
    "  address    TEXT NOT NULL,\n"
    "  at         INTEGER NOT NULL,\n"
    "  kind       TEXT NOT NULL,\n"
    "  status     TEXT NOT NULL DEFAULT '',\n"
    "  diagnostic TEXT NOT NULL DEFAULT '',\n"
    "  message_id TEXT NOT NULL DEFAULT '',\n"
    "  counted    INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX bounces_address ON bounces(list, address, at);\n"
    "CREATE INDEX bounces_message ON bounces(message_id);\n"

    /* events: calendar events of a list (issue 8).  uid is the iCalendar
     * UID, sequence its SEQUENCE; dtstart/dtend are UTC seconds, tz
     * the TZID they were written in; rrule the recurrence rule ('' for a
     * single event); capacity 0 means unlimited; deadline is the RSVP
     * deadline (NULL: dtstart).  state: 'active' | 'cancelled'. */
    "CREATE TABLE events (\n"
    "  id          INTEGER PRIMARY KEY,\n"
    "  uid         TEXT NOT NULL UNIQUE,\n"
    "  list        TEXT NOT NULL,\n"
    "  title       TEXT NOT NULL,\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  place       TEXT NOT NULL DEFAULT '',\n"
    "  dtstart     INTEGER NOT NULL,\n"
    "  dtend       INTEGER NOT NULL,\n"
    "  tz          TEXT NOT NULL DEFAULT '',\n"
    "  rrule       TEXT NOT NULL DEFAULT '',\n"
    "  capacity    INTEGER NOT NULL DEFAULT 0,\n"
    "  deadline    INTEGER,\n"
    "  question    TEXT NOT NULL DEFAULT '',\n"
    "  sequence    INTEGER NOT NULL DEFAULT 0,\n"
    "  organizer   TEXT NOT NULL DEFAULT '',\n"
    "  state       TEXT NOT NULL DEFAULT 'active',\n"
    "  created     INTEGER NOT NULL,\n"
    "  updated     INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX events_list_start ON events(list, dtstart);\n"

    /* event_occurrences: per-occurrence state of a recurring event
     * (cancelled or moved occurrences, reminders sent).  occurrence is
     * the RECURRENCE-ID as UTC seconds; reminded the last reminder
     * sent, as seconds before the start (so that a restart does not
     * send it again). */
    "CREATE TABLE event_occurrences (\n"
    "  event      INTEGER NOT NULL\n"
    "             REFERENCES events(id) ON DELETE CASCADE,\n"
    "  occurrence INTEGER NOT NULL,\n"
    "  state      TEXT NOT NULL DEFAULT 'active',\n"
    "  dtstart    INTEGER,\n"
    "  dtend      INTEGER,\n"
    "  reminded   INTEGER,\n"
    "  PRIMARY KEY (event, occurrence)\n"
    ");\n"

    /* rsvps: the latest answer of a member to an event occurrence
     * (occurrence 0 for a single event).  partstat: 'needs-action' |
     * 'accepted' | 'declined' | 'tentative'; waitlist is the position
     * on the first-come waitlist (NULL: not waiting); guests the +N;
     * token the member's RSVP token; attended 1 once recorded. */
    "CREATE TABLE rsvps (\n"
    "  id         INTEGER PRIMARY KEY,\n"
    "  event      INTEGER NOT NULL\n"
    "             REFERENCES events(id) ON DELETE CASCADE,\n"
    "  occurrence INTEGER NOT NULL DEFAULT 0,\n"
    "  address    TEXT NOT NULL,\n"
    "  partstat   TEXT NOT NULL DEFAULT 'needs-action',\n"
    "  guests     INTEGER NOT NULL DEFAULT 0,\n"
    "  waitlist   INTEGER,\n"
    "  answer     TEXT NOT NULL DEFAULT '',\n"
    "  invited    INTEGER,\n"
    "  answered   INTEGER,\n"
    "  token      TEXT NOT NULL DEFAULT '',\n"
    "  attended   INTEGER NOT NULL DEFAULT 0,\n"
    "  UNIQUE (event, occurrence, address)\n"
    ");\n"
    "CREATE INDEX rsvps_address ON rsvps(address);\n"

    /* digests: one row per digest issue of a list.  state:
     * 'collecting' (the open issue) | 'built' (path written, recorded
     * before any send) | 'sent'.  size is the collected bytes (size
     * trigger). */
    "CREATE TABLE digests (\n"
    "  id      INTEGER PRIMARY KEY,\n"
    "  list    TEXT NOT NULL,\n"
    "  volume  INTEGER NOT NULL,\n"
    "  issue   INTEGER NOT NULL,\n"
    "  state   TEXT NOT NULL DEFAULT 'collecting',\n"
    "  size    INTEGER NOT NULL DEFAULT 0,\n"
    "  path    TEXT NOT NULL DEFAULT '',\n"
    "  created INTEGER NOT NULL,\n"
    "  built   INTEGER,\n"
    "  sent    INTEGER,\n"
    "  UNIQUE (list, volume, issue)\n"
    ");\n"
    "CREATE INDEX digests_state ON digests(list, state);\n"

    /* digest_items: the distributed posts in a digest, in order. */
    "CREATE TABLE digest_items (\n"
    "  digest  INTEGER NOT NULL\n"
    "          REFERENCES digests(id) ON DELETE CASCADE,\n"
    "  message INTEGER NOT NULL REFERENCES messages(id),\n"
    "  PRIMARY KEY (digest, message)\n"
    ");\n";

/*
 * Migration 2: posting and delivery.  outbound.kind says what a copy is
 * ('post' | 'notice' | 'owner' | 'digest' | 'event' ...), so that the
 * cross-post check and the notice rate limit look at posts and notices
 * only; outbound_waiting is the queue runner's scan (a partial index:
 * only rows still to be sent are in it, so the scan stays small however
 * many sent rows are kept), and outbound_waiting_path tells whether a
 * copy file is still needed; outbound_recent serves the notice rate
 * limit and holds notices only.  outbound_due (migration 1) goes: every
 * change of a row's state had to move it, and the queue never needs it.
 */
static const char schema_2[] =
    "ALTER TABLE outbound ADD COLUMN kind TEXT NOT NULL DEFAULT 'post';\n"
    "CREATE INDEX outbound_waiting ON outbound(id)\n"
    "  WHERE state IN ('queued', 'deferred');\n"
    "CREATE INDEX outbound_waiting_path ON outbound(path)\n"
    "  WHERE state IN ('queued', 'deferred');\n"
    "CREATE INDEX outbound_recent ON outbound(recipient, created)\n"
    "  WHERE kind = 'notice';\n"
    "DROP INDEX outbound_due;\n"
    "CREATE INDEX held_spool ON held(spool_id);\n";

/*
 * Migration 3: joining and leaving.  outbound.member is the membership a
 * 'post' copy was queued for (members.id, in the list or in a list an
 * umbrella gathers), so that the queue can make the member's own
 * one-click unsubscribe token without a lookup per copy; NULL for other
 * kinds and for rows queued before.
 */
static const char schema_3[] =
    "ALTER TABLE outbound ADD COLUMN member INTEGER;\n";

/*
 * Migration 4: the archive (issue 6).  messages_list_date serves the
 * previous/next-by-date links and the newest messages and threads,
 * messages_list_months the list page's months (from the index alone);
 * erased marks a
 * post whose author was erased with archive_erasure = pseudonymise (its
 * pages show no name, its raw copy no sender).
 *
 * The search index is made again with the list as its first column: each
 * row holds one token naming its list ('l' and the list name in hex, so
 * that no name can split into words), and a search ANDs that token with
 * the reader's query.  FTS5 can then rank and cut to a page by itself
 * (ORDER BY rank LIMIT), instead of ranking every hit of every list and
 * joining before the limit.  Hidden posts are no longer indexed at all:
 * nothing a search returns needs filtering.
 */
static const char schema_4[] =
    "CREATE INDEX messages_list_date ON messages(list, date, id);\n"
    "CREATE INDEX messages_list_months ON messages(list, hidden, month);\n"
    "ALTER TABLE messages ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;\n"
    "DROP TRIGGER message_text_ai;\n"
    "DROP TRIGGER message_text_bd;\n"
    "DROP TRIGGER message_text_bu;\n"
    "DROP TRIGGER message_text_au;\n"
    "DROP TRIGGER messages_bd;\n"
    "DROP TRIGGER messages_bu;\n"
    "DROP TRIGGER messages_au;\n"
    "DROP TABLE messages_fts;\n"
    "DROP VIEW messages_fts_src;\n"
    "DELETE FROM message_text WHERE message IN\n"
    "  (SELECT id FROM messages WHERE hidden != 0);\n"
    "CREATE VIEW messages_fts_src AS\n"
    "  SELECT m.id AS id, 'l' || hex(m.list) AS list, m.subject AS subject,\n"
    "         m.from_name || ' ' || m.from_addr AS author, t.body AS body\n"
    "  FROM messages m JOIN message_text t ON t.message = m.id;\n"
    "CREATE VIRTUAL TABLE messages_fts USING fts5(\n"
    "  list, subject, author, body,\n"
    "  content='messages_fts_src', content_rowid='id',\n"
    "  tokenize='unicode61 remove_diacritics 2'\n"
    ");\n"
    "CREATE TRIGGER message_text_ai AFTER INSERT ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(rowid, list, subject, author, body)\n"
    "    SELECT m.id, 'l' || hex(m.list), m.subject,\n"
    "           m.from_name || ' ' || m.from_addr, new.body\n"
    "    FROM messages m WHERE m.id = new.message;\n"
    "END;\n"
    "CREATE TRIGGER message_text_bd BEFORE DELETE ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, list, subject, author,"
    " body)\n"
    "    SELECT 'delete', m.id, 'l' || hex(m.list), m.subject,\n"
    "           m.from_name || ' ' || m.from_addr, old.body\n"
    "    FROM messages m WHERE m.id = old.message;\n"
    "END;\n"
    "CREATE TRIGGER message_text_bu BEFORE UPDATE ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, list, subject, author,"
    " body)\n"
    "    SELECT 'delete', m.id, 'l' || hex(m.list), m.subject,\n"
    "           m.from_name || ' ' || m.from_addr, old.body\n"
    "    FROM messages m WHERE m.id = old.message;\n"
    "END;\n"
    "CREATE TRIGGER message_text_au AFTER UPDATE ON message_text BEGIN\n"
    "  INSERT INTO messages_fts(rowid, list, subject, author, body)\n"
    "    SELECT m.id, 'l' || hex(m.list), m.subject,\n"
    "           m.from_name || ' ' || m.from_addr, new.body\n"
    "    FROM messages m WHERE m.id = new.message;\n"
    "END;\n"
    "CREATE TRIGGER messages_bd BEFORE DELETE ON messages BEGIN\n"
    "  DELETE FROM message_text WHERE message = old.id;\n"
    "END;\n"
    "CREATE TRIGGER messages_bu BEFORE UPDATE OF subject, from_name,"
    " from_addr\n"
    "  ON messages BEGIN\n"
    "  INSERT INTO messages_fts(messages_fts, rowid, list, subject, author,"
    " body)\n"
    "    SELECT 'delete', old.id, 'l' || hex(old.list), old.subject,\n"
    "           old.from_name || ' ' || old.from_addr, t.body\n"
    "    FROM message_text t WHERE t.message = old.id;\n"
    "END;\n"
    "CREATE TRIGGER messages_au AFTER UPDATE OF subject, from_name,"
    " from_addr\n"
    "  ON messages BEGIN\n"
    "  INSERT INTO messages_fts(rowid, list, subject, author, body)\n"
    "    SELECT new.id, 'l' || hex(new.list), new.subject,\n"
    "           new.from_name || ' ' || new.from_addr, t.body\n"
    "    FROM message_text t WHERE t.message = new.id;\n"
    "END;\n"
    "INSERT INTO messages_fts(messages_fts) VALUES('rebuild');\n";

/*
 * Migration 5: events (issue 8).  event_occurrences.summarized: which
 * summaries the coordinators got for an occurrence (1 at the RSVP
 * deadline, 2 after the event), so that a restart sends none twice.
 */
static const char schema_5[] =
    "ALTER TABLE event_occurrences ADD COLUMN summarized INTEGER NOT NULL "
    "DEFAULT 0;\n";

static const struct migration {
	int version;
	const char *what; /* for the log */
	const char *sql;
} migrations[] = {
    {1, "foundation schema", schema_1},
    {2, "posting and delivery", schema_2},
    {3, "joining and leaving", schema_3},
    {4, "the archive", schema_4},
    {5, "events", schema_5},
};

int
db_schema_version(void)
{
	return migrations[ARRAY_SIZE(migrations) - 1].version;
}

static int
user_version(struct db *db, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return error("%s: %s", db->path, sqlite3_errmsg(db->h));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		error("%s: reading the schema version: %s", db->path,
		      sqlite3_errmsg(db->h));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
too_new(struct db *db, int v)
{
	return error("%s: the database has schema version %d, newer than "
	             "this mlmd knows (%d): run a newer mlmd, or restore a "
	             "backup made for this version",
	             db->path, v, db_schema_version());
}

/* FTS5 is a compile-time option of SQLite: check the library we run
 * with, not the one configure saw. */
static int
check_fts5(struct db *db)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h,
	                 "CREATE VIRTUAL TABLE temp.mlmd_fts5_probe "
	                 "USING fts5(x);"
	                 "DROP TABLE temp.mlmd_fts5_probe;",
	                 NULL, NULL, &msg) != SQLITE_OK) {
		error("%s: SQLite %s lacks FTS5 (%s), which mlmd needs for "
		      "archive search: install an SQLite built with "
		      "SQLITE_ENABLE_FTS5 (Debian's libsqlite3-0 is)",
		      db->path, sqlite3_libversion(), msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Apply one migration unless another process did it first. */
static int
apply(struct db *db, const struct migration *m)
{
	struct buf sql = BUF_INIT;
	char *msg = NULL;
	int v;

	if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) !=
	    SQLITE_OK) {
		error("%s: cannot lock for migration %d: %s", db->path,
		      m->version, msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	if (user_version(db, &v) < 0)
		goto fail;
	if (v >= m->version) { /* done meanwhile by another process */
		sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
		return v > db_schema_version() ? too_new(db, v) : 0;
	}
	buf_printf(&sql, "%s\nPRAGMA user_version = %d;\n", m->sql, m->version);
	if (sqlite3_exec(db->h, buf_str(&sql), NULL, NULL, &msg) != SQLITE_OK) {
		error("%s: migration %d (%s) failed: %s", db->path, m->version,
		      m->what, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		error("%s: committing migration %d: %s", db->path, m->version,
		      msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	buf_free(&sql);
	log_info("%s: schema migrated to version %d (%s)", db->path, m->version,
	         m->what);
	return 0;
fail:
	buf_free(&sql);
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
db_migrate(struct db *db)
{
	size_t i;
	int v;

	if (user_version(db, &v) < 0)
		return -1;
	if (v > db_schema_version())
		return too_new(db, v);
	if (check_fts5(db) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(migrations); i++)
		if (migrations[i].version > v && apply(db, &migrations[i]) < 0)
			return -1;
	return 0;
}
