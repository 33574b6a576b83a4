-- v3.sql - a database of mlmd at schema version 3 (migrations 1 to 3 of
-- mlmd/db_schema.c, copied verbatim once: the migrations are append-only,
-- so this text never changes), with the rows a list server of that time
-- held.  t/db_upgrade.sh loads it with sqlite3 into HOME/mlmd.db and opens
-- it with the current mlmctl, which must migrate it to the newest version
-- and keep every row.  The archive rows were indexed by migration 1's
-- full-text index (the triggers below fill it as the rows go in);
-- migration 4 replaces that index and must index them again.  One post is
-- hidden: migration 4 drops its text from the index.  events, rsvps,
-- event_occurrences and digests are empty, as they were in version 3.
--
-- Times: 2024-03 (1709251200 = 2024-03-01 00:00:00 UTC).
BEGIN;
CREATE TABLE persons (
  address  TEXT PRIMARY KEY NOT NULL,
  created  INTEGER NOT NULL,
  language TEXT NOT NULL DEFAULT ''
);
CREATE TABLE members (
  id             INTEGER PRIMARY KEY,
  list           TEXT NOT NULL,
  address        TEXT NOT NULL
                 REFERENCES persons(address) ON DELETE CASCADE,
  name           TEXT NOT NULL DEFAULT '',
  language       TEXT NOT NULL DEFAULT '',
  digest         INTEGER NOT NULL DEFAULT 0,
  digest_format  TEXT NOT NULL DEFAULT 'mime',
  nomail         INTEGER NOT NULL DEFAULT 0,
  moderated      INTEGER NOT NULL DEFAULT 0,
  since          INTEGER NOT NULL,
  bounce_score   REAL NOT NULL DEFAULT 0,
  bounce_updated INTEGER,
  probe_sent     INTEGER,
  disabled       INTEGER,
  UNIQUE (list, address)
);
CREATE INDEX members_address ON members(address);
CREATE TABLE consents (
  id      INTEGER PRIMARY KEY,
  address TEXT NOT NULL
          REFERENCES persons(address) ON DELETE CASCADE,
  list    TEXT NOT NULL,
  action  TEXT NOT NULL,
  how     TEXT NOT NULL,
  at      INTEGER NOT NULL
);
CREATE INDEX consents_address ON consents(address);
CREATE TABLE event_log (
  id    INTEGER PRIMARY KEY,
  at    INTEGER NOT NULL,
  list  TEXT NOT NULL,
  kind  TEXT NOT NULL,
  ref   TEXT NOT NULL DEFAULT '',
  n     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX event_log_list_at ON event_log(list, at);
CREATE TRIGGER event_log_append_only BEFORE UPDATE ON event_log
BEGIN SELECT RAISE(ABORT, 'event_log is append-only'); END;
CREATE TABLE secrets (
  name    TEXT PRIMARY KEY NOT NULL,
  value   BLOB NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE tokens (
  id      INTEGER PRIMARY KEY,
  token   TEXT NOT NULL UNIQUE,
  purpose TEXT NOT NULL,
  list    TEXT NOT NULL,
  address TEXT NOT NULL,
  arg     TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  used    INTEGER
);
CREATE INDEX tokens_address ON tokens(address, list, purpose);
CREATE INDEX tokens_expires ON tokens(expires);
CREATE TABLE held (
  id         INTEGER PRIMARY KEY,
  list       TEXT NOT NULL,
  spool_id   TEXT NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  sender     TEXT NOT NULL,
  from_addr  TEXT NOT NULL DEFAULT '',
  subject    TEXT NOT NULL DEFAULT '',
  size       INTEGER NOT NULL DEFAULT 0,
  reason     TEXT NOT NULL,
  created    INTEGER NOT NULL,
  expires    INTEGER NOT NULL,
  state      TEXT NOT NULL DEFAULT 'held',
  decided_by TEXT,
  decided_at INTEGER
);
CREATE INDEX held_list_state ON held(list, state);
CREATE TABLE accept_senders (
  list    TEXT NOT NULL,
  address TEXT NOT NULL,
  how     TEXT NOT NULL,
  added   INTEGER NOT NULL,
  PRIMARY KEY (list, address)
);
CREATE TABLE messages (
  id          INTEGER PRIMARY KEY,
  list        TEXT NOT NULL,
  message_id  TEXT NOT NULL,
  path        TEXT NOT NULL,
  from_name   TEXT NOT NULL DEFAULT '',
  from_addr   TEXT NOT NULL DEFAULT '',
  subject     TEXT NOT NULL DEFAULT '',
  date        INTEGER NOT NULL,
  received    INTEGER NOT NULL,
  in_reply_to TEXT NOT NULL DEFAULT '',
  refs        TEXT NOT NULL DEFAULT '',
  thread_id   INTEGER,
  month       TEXT NOT NULL,
  size        INTEGER NOT NULL DEFAULT 0,
  hidden      INTEGER NOT NULL DEFAULT 0,
  UNIQUE (list, message_id)
);
CREATE INDEX messages_list_month ON messages(list, month, date);
CREATE INDEX messages_thread ON messages(thread_id);
CREATE INDEX messages_from ON messages(from_addr);
CREATE TABLE message_text (
  message INTEGER PRIMARY KEY
          REFERENCES messages(id) ON DELETE CASCADE,
  body    TEXT NOT NULL
);
CREATE VIEW messages_fts_src AS
  SELECT m.id AS id, m.subject AS subject,
         m.from_name || ' ' || m.from_addr AS author, t.body AS body
  FROM messages m JOIN message_text t ON t.message = m.id;
CREATE VIRTUAL TABLE messages_fts USING fts5(
  subject, author, body,
  content='messages_fts_src', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER message_text_ai AFTER INSERT ON message_text BEGIN
  INSERT INTO messages_fts(rowid, subject, author, body)
    SELECT m.id, m.subject, m.from_name || ' ' || m.from_addr,
           new.body FROM messages m WHERE m.id = new.message;
END;
CREATE TRIGGER message_text_bd BEFORE DELETE ON message_text BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, subject, author, body)
    SELECT 'delete', m.id, m.subject,
           m.from_name || ' ' || m.from_addr, old.body
    FROM messages m WHERE m.id = old.message;
END;
CREATE TRIGGER message_text_bu BEFORE UPDATE ON message_text BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, subject, author, body)
    SELECT 'delete', m.id, m.subject,
           m.from_name || ' ' || m.from_addr, old.body
    FROM messages m WHERE m.id = old.message;
END;
CREATE TRIGGER message_text_au AFTER UPDATE ON message_text BEGIN
  INSERT INTO messages_fts(rowid, subject, author, body)
    SELECT m.id, m.subject, m.from_name || ' ' || m.from_addr,
           new.body FROM messages m WHERE m.id = new.message;
END;
CREATE TRIGGER messages_bd BEFORE DELETE ON messages BEGIN
  DELETE FROM message_text WHERE message = old.id;
END;
CREATE TRIGGER messages_bu BEFORE UPDATE OF subject, from_name, from_addr
  ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, subject, author, body)
    SELECT 'delete', old.id, old.subject,
           old.from_name || ' ' || old.from_addr, t.body
    FROM message_text t WHERE t.message = old.id;
END;
CREATE TRIGGER messages_au AFTER UPDATE OF subject, from_name, from_addr
  ON messages BEGIN
  INSERT INTO messages_fts(rowid, subject, author, body)
    SELECT new.id, new.subject,
           new.from_name || ' ' || new.from_addr, t.body
    FROM message_text t WHERE t.message = new.id;
END;
CREATE TABLE inbound (
  id         INTEGER PRIMARY KEY,
  spool_id   TEXT NOT NULL,
  sender     TEXT NOT NULL,
  recipient  TEXT NOT NULL,
  list       TEXT NOT NULL,
  role       TEXT NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  from_addr  TEXT NOT NULL DEFAULT '',
  subject    TEXT NOT NULL DEFAULT '',
  received   INTEGER NOT NULL,
  size       INTEGER NOT NULL,
  state      TEXT NOT NULL DEFAULT 'recorded',
  UNIQUE (spool_id, recipient)
);
CREATE INDEX inbound_state ON inbound(state);
CREATE INDEX inbound_message_id ON inbound(message_id);
CREATE TABLE outbound (
  id           INTEGER PRIMARY KEY,
  list         TEXT NOT NULL,
  message_id   TEXT NOT NULL DEFAULT '',
  path         TEXT NOT NULL,
  sender       TEXT NOT NULL,
  recipient    TEXT NOT NULL,
  state        TEXT NOT NULL DEFAULT 'queued',
  attempts     INTEGER NOT NULL DEFAULT 0,
  created      INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  expires      INTEGER NOT NULL,
  last_code    TEXT NOT NULL DEFAULT '',
  last_error   TEXT NOT NULL DEFAULT '',
  done_at      INTEGER,
  UNIQUE (path, recipient)
);
CREATE INDEX outbound_due ON outbound(state, next_attempt);
CREATE INDEX outbound_message ON outbound(message_id, recipient);
CREATE TABLE bounces (
  id         INTEGER PRIMARY KEY,
  list       TEXT NOT NULL,
  address    TEXT NOT NULL,
  at         INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT '',
  diagnostic TEXT NOT NULL DEFAULT '',
  message_id TEXT NOT NULL DEFAULT '',
  counted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX bounces_address ON bounces(list, address, at);
CREATE INDEX bounces_message ON bounces(message_id);
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  uid         TEXT NOT NULL UNIQUE,
  list        TEXT NOT NULL,
  title       TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  place       TEXT NOT NULL DEFAULT '',
  dtstart     INTEGER NOT NULL,
  dtend       INTEGER NOT NULL,
  tz          TEXT NOT NULL DEFAULT '',
  rrule       TEXT NOT NULL DEFAULT '',
  capacity    INTEGER NOT NULL DEFAULT 0,
  deadline    INTEGER,
  question    TEXT NOT NULL DEFAULT '',
  sequence    INTEGER NOT NULL DEFAULT 0,
  organizer   TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL DEFAULT 'active',
  created     INTEGER NOT NULL,
  updated     INTEGER NOT NULL
);
CREATE INDEX events_list_start ON events(list, dtstart);
CREATE TABLE event_occurrences (
  event      INTEGER NOT NULL
             REFERENCES events(id) ON DELETE CASCADE,
  occurrence INTEGER NOT NULL,
  state      TEXT NOT NULL DEFAULT 'active',
  dtstart    INTEGER,
  dtend      INTEGER,
  reminded   INTEGER,
  PRIMARY KEY (event, occurrence)
);
CREATE TABLE rsvps (
  id         INTEGER PRIMARY KEY,
  event      INTEGER NOT NULL
             REFERENCES events(id) ON DELETE CASCADE,
  occurrence INTEGER NOT NULL DEFAULT 0,
  address    TEXT NOT NULL,
  partstat   TEXT NOT NULL DEFAULT 'needs-action',
  guests     INTEGER NOT NULL DEFAULT 0,
  waitlist   INTEGER,
  answer     TEXT NOT NULL DEFAULT '',
  invited    INTEGER,
  answered   INTEGER,
  token      TEXT NOT NULL DEFAULT '',
  attended   INTEGER NOT NULL DEFAULT 0,
  UNIQUE (event, occurrence, address)
);
CREATE INDEX rsvps_address ON rsvps(address);
CREATE TABLE digests (
  id      INTEGER PRIMARY KEY,
  list    TEXT NOT NULL,
  volume  INTEGER NOT NULL,
  issue   INTEGER NOT NULL,
  state   TEXT NOT NULL DEFAULT 'collecting',
  size    INTEGER NOT NULL DEFAULT 0,
  path    TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  built   INTEGER,
  sent    INTEGER,
  UNIQUE (list, volume, issue)
);
CREATE INDEX digests_state ON digests(list, state);
CREATE TABLE digest_items (
  digest  INTEGER NOT NULL
          REFERENCES digests(id) ON DELETE CASCADE,
  message INTEGER NOT NULL REFERENCES messages(id),
  PRIMARY KEY (digest, message)
);
ALTER TABLE outbound ADD COLUMN kind TEXT NOT NULL DEFAULT 'post';
CREATE INDEX outbound_waiting ON outbound(id)
  WHERE state IN ('queued', 'deferred');
CREATE INDEX outbound_waiting_path ON outbound(path)
  WHERE state IN ('queued', 'deferred');
CREATE INDEX outbound_recent ON outbound(recipient, created)
  WHERE kind = 'notice';
DROP INDEX outbound_due;
CREATE INDEX held_spool ON held(spool_id);
ALTER TABLE outbound ADD COLUMN member INTEGER;

-- --- rows -----------------------------------------------------------------
INSERT INTO persons VALUES ('alice@example.org', 1709251200, 'da');
INSERT INTO persons VALUES ('bob@example.com', 1709251300, '');
INSERT INTO persons VALUES ('mette@example.dk', 1709251400, 'da');
INSERT INTO persons VALUES ('sara@example.se', 1709251500, 'sv');

INSERT INTO members (id, list, address, name, language, digest,
  digest_format, nomail, moderated, since)
  VALUES (1, 'denmark', 'alice@example.org', 'Alice Ahmed', 'da', 0,
  'mime', 0, 0, 1709251200);
INSERT INTO members (id, list, address, name, language, digest,
  digest_format, nomail, moderated, since)
  VALUES (2, 'denmark', 'bob@example.com', 'Bob Berg', '', 1, 'plain', 0,
  0, 1709251300);
INSERT INTO members (id, list, address, name, language, digest,
  digest_format, nomail, moderated, since, bounce_score, bounce_updated)
  VALUES (3, 'denmark', 'mette@example.dk', 'Hansen, Mette', 'da', 0,
  'mime', 1, 1, 1709251400, 1.5, 1709900000);
INSERT INTO members (id, list, address, name, language, digest,
  digest_format, nomail, moderated, since)
  VALUES (4, 'sweden', 'sara@example.se', 'Sara Öberg', 'sv', 0, 'mime',
  0, 0, 1709251500);

INSERT INTO consents (address, list, action, how, at) VALUES
  ('alice@example.org', 'denmark', 'subscribe',
   'confirmed <c1@lists.mlmd.test>', 1709251200),
  ('bob@example.com', 'denmark', 'subscribe', 'mlmctl add by root',
   1709251300),
  ('mette@example.dk', 'denmark', 'subscribe', 'http POST', 1709251400),
  ('sara@example.se', 'sweden', 'subscribe',
   'import by root from members.csv', 1709251500);

INSERT INTO event_log (at, list, kind, ref, n) VALUES
  (1709251200, 'denmark', 'subscribe', '', 1),
  (1709251300, 'denmark', 'subscribe', '', 1),
  (1709337600, 'denmark', 'post', '1', 1),
  (1709337700, 'denmark', 'delivered', '1', 3),
  (1709424000, 'sweden', 'post', '4', 1);

INSERT INTO secrets VALUES ('token_hmac',
  X'6d6c6d642d76332d666978747572652d6b65792d6e6f742d7365637265742121',
  1709251200);

INSERT INTO tokens (token, purpose, list, address, arg, created, expires)
  VALUES ('s3kq7wz2mfx4a9c8', 'subscribe', 'sweden', 'nils@example.se',
  'each', 1709500000, 1709759200);

INSERT INTO held (id, list, spool_id, message_id, sender, from_addr,
  subject, size, reason, created, expires)
  VALUES (1, 'denmark', '1709510000.M1P2.host', 'h1@example.net',
  'eve@example.net', 'eve@example.net', 'Cheap offers', 2048,
  'not a member', 1709510000, 1710719600);

INSERT INTO accept_senders VALUES ('denmark', 'partner@example.org',
  'approve always by mentor.dk@example.org', 1709600000);

-- The archive: three posts to denmark (one a reply, one hidden by
-- X-No-Archive) and one to sweden.
INSERT INTO messages (id, list, message_id, path, from_name, from_addr,
  subject, date, received, in_reply_to, refs, thread_id, month, size,
  hidden) VALUES
  (1, 'denmark', 'm1@example.org', 'store/2024-03/m1.eml', 'Alice Ahmed',
   'alice@example.org', 'Møde om iværksætteri i København', 1709337600,
   1709337605, '', '', 1, '2024-03', 3100, 0),
  (2, 'denmark', 'm2@example.com', 'store/2024-03/m2.eml', 'Bob Berg',
   'bob@example.com', 'Re: Møde om iværksætteri i København', 1709341200,
   1709341203, 'm1@example.org', 'm1@example.org', 1, '2024-03', 2200, 0),
  (3, 'denmark', 'm3@example.dk', 'store/2024-03/m3.eml', 'Hansen, Mette',
   'mette@example.dk', 'Privat', 1709344800, 1709344801, '', '', 3,
   '2024-03', 1500, 1),
  (4, 'sweden', 'm4@example.se', 'store/2024-03/m4.eml', 'Sara Öberg',
   'sara@example.se', 'Företagarträff i Malmö', 1709424000, 1709424002,
   '', '', 4, '2024-03', 2800, 0);
INSERT INTO message_text VALUES (1,
  'Hej alle, vi mødes torsdag kl. 17 hos Væksthuset på Nørrebro og taler
om bogføring, moms og smørrebrød.  Tilmeld jer senest tirsdag.');
INSERT INTO message_text VALUES (2,
  'Tak Alice, jeg kommer og tager en kollega med, som laver catering.');
INSERT INTO message_text VALUES (3,
  'Denne besked er hemmelig og må ikke stå i arkivet.');
INSERT INTO message_text VALUES (4,
  'Välkomna till företagarträffen i Malmö på onsdag: vi pratar om
finansiering och kanelbullar.');

INSERT INTO inbound (spool_id, sender, recipient, list, role, message_id,
  from_addr, subject, received, size, state) VALUES
  ('1709337600.M1P1.host', 'alice@example.org',
   'denmark@lists.mlmd.test', 'denmark', 'post', 'm1@example.org',
   'alice@example.org', 'Møde om iværksætteri i København', 1709337600,
   3100, 'done');

-- outbound: kind (migration 2) and member (migration 3) are set.
INSERT INTO outbound (list, message_id, path, sender, recipient, state,
  attempts, created, next_attempt, expires, last_code, last_error, kind,
  member) VALUES
  ('denmark', 'm1@example.org', 'out/m1.eml',
   'denmark+bounce@lists.mlmd.test', 'alice@example.org', 'sent', 1,
   1709337601, 1709337601, 1709769601, '250', '', 'post', 1),
  ('denmark', 'm1@example.org', 'out/m1.eml',
   'denmark+bounce@lists.mlmd.test', 'bob@example.com', 'deferred', 2,
   1709337601, 1709338801, 1709769601, '451',
   '4.7.1 greylisted, try again later', 'post', 2),
  ('denmark', '', 'out/n1.eml', 'denmark+bounce@lists.mlmd.test',
   'eve@example.net', 'sent', 1, 1709510001, 1709510001, 1709942001,
   '250', '', 'notice', NULL);

INSERT INTO bounces (list, address, at, kind, status, diagnostic,
  message_id, counted) VALUES
  ('denmark', 'mette@example.dk', 1709900000, 'hard', '5.1.1',
   'smtp; 550 5.1.1 user unknown', 'm1@example.org', 1);

PRAGMA user_version = 3;
COMMIT;
