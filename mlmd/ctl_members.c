/*
 * ctl_members.c - membership by hand: `mlmctl members LIST`, `add LIST
 * ADDR...`, `remove LIST ADDR...`, `import LIST FILE.csv` and `export
 * LIST` (mlmctl(1)).
 *
 * Owns the operator's view of membership and the CSV format (RFC 4180)
 * that import reads and export writes: a header row naming the columns
 * (address required; name, language optional; delivery, as export writes
 * it, accepted and ignored; any order), fields quoted with '"' when they
 * hold a comma, a quote (doubled inside) or a line break, lines ending in
 * LF or CRLF, a UTF-8 byte order mark tolerated.  Export writes what
 * import reads, so `export | import` adds nothing.
 *
 * Invariants: list names are checked against the configuration (unknown:
 * EX_NOUSER); addresses go through addr_normalise(); every change records
 * who made it ("mlmctl add by USER", "import by USER from FILE") as the
 * consent record; an import is one transaction (all of its good rows or,
 * on a database error, nothing) and idempotent.
 *
 * Called by mlmctl.c's dispatch table with argv[0] the command name.
 * Returns sysexits codes: 0, EX_USAGE, EX_DATAERR (a bad address or CSV
 * row, reported on stderr as FILE:LINE: why), EX_NOUSER (no such list),
 * EX_NOINPUT (unreadable CSV), EX_UNAVAILABLE (database cannot be
 * opened), EX_TEMPFAIL (database error: nothing was changed by the failing
 * step, try again), EX_IOERR (stdout).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "outq.h"
#include "sub.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

#define CSV_MAX_BYTES  ((size_t)64 << 20) /* a million members is ~50 MB */
#define CSV_MAX_FIELDS 64
#define CSV_MAX_FIELD  1024
#define NAME_MAX_LEN   256 /* as db.c */

/* ----- shared helpers ----------------------------------------------------- */

/* The list named by arg, or NULL after saying so. */
static const struct list_conf *
find_list(struct ctl *ctl, const char *cmd, const char *name)
{
	const struct list_conf *l = conf_list(ctl->conf, name);

	if (!l)
		fprintf(stderr,
		        "mlmctl: %s: no list '%s' in %s (see mlmctl -c %s "
		        "check-config)\n",
		        cmd, name, ctl->conf_path, ctl->conf_path);
	return l;
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* A display name: no control characters (they would end up in headers
 * and CSV), bounded. */
static int
name_ok(const char *s)
{
	const unsigned char *p;

	if (strlen(s) > NAME_MAX_LEN)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return 0;
	return 1;
}

/* A language tag as members choose them: "da", "nb", "pt-br". */
static int
language_ok(const char *s)
{
	size_t i = 0, part;

	for (part = 0; s[i] && isalpha((unsigned char)s[i]); i++)
		part++;
	if (part < 2 || part > 3)
		return 0;
	while (s[i] == '-') {
		for (i++, part = 0; s[i] && isalnum((unsigned char)s[i]); i++)
			part++;
		if (part < 1 || part > 8)
			return 0;
	}
	return s[i] == '\0' && i <= 35;
}

/*
 * "addr", "<addr>", "Name <addr>" or "\"Name\" <addr>" into the
 * normalised address and the name ("" if none).  -1 if no valid address.
 */
static int
parse_mailbox(const char *arg, char *addr, size_t addrsz, struct buf *name)
{
	const char *s = arg, *e = arg + strlen(arg), *lt;

	buf_reset(name);
	buf_add(name, "", 0);
	trim(&s, &e);
	if (e > s && e[-1] == '>' && (lt = memrchr(s, '<', (size_t)(e - s)))) {
		const char *ns = s, *ne = lt;
		char a[ADDR_MAX + 3];

		trim(&ns, &ne);
		if (ne - ns >= 2 && *ns == '"' && ne[-1] == '"') {
			ns++;
			ne--;
		}
		if (buf_add(name, ns, (size_t)(ne - ns)) < 0 ||
		    !name_ok(buf_str(name)))
			return -1;
		if ((size_t)(e - lt) >= sizeof(a))
			return -1;
		memcpy(a, lt, (size_t)(e - lt));
		a[e - lt] = '\0';
		return addr_normalise(a, addr, addrsz);
	}
	return addr_normalise(arg, addr, addrsz);
}


/* ----- members ------------------------------------------------------------ */

static int
print_member(const struct member *m, void *arg)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\n", m->address, *m->name ? m->name : "-",
	       *m->language ? m->language : "-", db_delivery_name(m->delivery));
	return ferror(stdout) ? 1 : 0;
}

int
ctl_members(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l;
	struct db *db;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE members LIST\n");
		return EX_USAGE;
	}
	if (!(l = find_list(ctl, argv[0], argv[1])))
		return EX_NOUSER;
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	rc = db_member_each(db, l->name, print_member, NULL);
	if (rc < 0)
		return EX_TEMPFAIL;
	return ctl_flush_stdout();
}

/* ----- add, remove -------------------------------------------------------- */

/* For --welcome and --invite: the catalogue and the token key, loaded
 * once. */
struct mail_ctx {
	struct tmpl_set *tmpl;
	struct token_key key;
	int loaded;
};

static int
mail_ctx_load(struct ctl *ctl, struct db *db, struct mail_ctx *mc)
{
	struct buf err = BUF_INIT;

	if (mc->loaded)
		return 0;
	mc->tmpl = tmpl_set_load(ctl->conf->templates, &err);
	if (!mc->tmpl) {
		fprintf(stderr, "mlmctl: templates %s: %s\n",
		        ctl->conf->templates, buf_str(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	if (token_key_load(db, &mc->key) < 0)
		return -1;
	mc->loaded = 1;
	return 0;
}

/* --invite: a confirmation as if asked; --welcome: added, then the
 * welcome mail.  One transaction each. */
static int
add_mailing(struct ctl *ctl, struct db *db, struct mail_ctx *mc,
            const struct list_conf *l, const char *addr, const char *name,
            const char *how, int invite)
{
	struct sub_ctx sc;
	int r;

	if (mail_ctx_load(ctl, db, mc) < 0)
		return -1;
	sc.conf = ctl->conf;
	sc.db = db;
	sc.tmpl = mc->tmpl;
	sc.key = &mc->key;
	sc.dmarc = NULL;
	if (db_begin(db) < 0)
		return -1;
	if (invite) {
		r = sub_invite(&sc, l->name, addr, ctl->operator);
	} else {
		r = db_member_add(db, l->name, addr, name, "", how);
		if (r == 0 && sub_welcome(&sc, l->name, addr) < 0)
			r = -1;
	}
	if (r < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return r;
}

static int
add_or_remove(struct ctl *ctl, int argc, char **argv, int add)
{
	const struct list_conf *l;
	struct buf name = BUF_INIT, how = BUF_INIT;
	char addr[ADDR_MAX + 1];
	struct mail_ctx mc;
	struct db *db;
	int i, r, ex = EX_OK, invite = 0, welcome = 0, k, mailed = 0;

	memset(&mc, 0, sizeof(mc));
	/* Options may come anywhere after the command name. */
	for (i = k = 1; add && i < argc; i++) {
		if (strcmp(argv[i], "--invite") == 0)
			invite = 1;
		else if (strcmp(argv[i], "--welcome") == 0)
			welcome = 1;
		else
			argv[k++] = argv[i];
	}
	if (add)
		argc = k;
	if (argc < 3 || (invite && welcome)) {
		fprintf(stderr,
		        "mlmctl: usage: mlmctl -c FILE %s%s LIST ADDR...\n",
		        argv[0], add ? " [--welcome | --invite]" : "");
		return EX_USAGE;
	}
	if (!(l = find_list(ctl, argv[0], argv[1])))
		return EX_NOUSER;
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	buf_printf(&how, "mlmctl %s by %s", argv[0], ctl->operator);
	buf_init(&name, 4 * NAME_MAX_LEN);
	for (i = 2; i < argc; i++) {
		if (parse_mailbox(argv[i], addr, sizeof(addr), &name) < 0) {
			fprintf(stderr,
			        "mlmctl: %s: '%s' is not a valid address "
			        "(skipped; give addr@domain or \"Name "
			        "<addr@domain>\")\n",
			        argv[0], argv[i]);
			ex = EX_DATAERR;
			continue;
		}
		if (add && (invite || welcome))
			r = add_mailing(ctl, db, &mc, l, addr, buf_str(&name),
			                buf_str(&how), invite);
		else if (add)
			r = db_member_add(db, l->name, addr, buf_str(&name), "",
			                  buf_str(&how));
		else
			r = db_member_remove(db, l->name, addr, buf_str(&how));
		if (r < 0) {
			fprintf(stderr,
			        "mlmctl: %s: %s: database error, not changed "
			        "(try again)\n",
			        argv[0], addr);
			ex = EX_TEMPFAIL;
			break;
		}
		mailed |= r == 0 && (invite || welcome);
		if (add && invite)
			printf(r == 0 ? "invited %s to %s (they confirm by "
			                "reply)\n"
			              : "%s is already a member of %s\n",
			       addr, l->name);
		else if (add)
			printf(r == 0 ? "added %s to %s%s\n"
			              : "%s is already a member of %s%s\n",
			       addr, l->name,
			       r == 0 && welcome ? " (welcome sent)" : "");
		else
			printf(r == 0 ? "removed %s from %s\n"
			              : "%s is not a member of %s\n",
			       addr, l->name);
	}
	if (mailed)
		outq_poke(ctl->conf->home, "queue");
	tmpl_set_free(mc.tmpl);
	buf_free(&name);
	buf_free(&how);
	r = ctl_flush_stdout();
	return ex != EX_OK ? ex : r;
}

int
ctl_add(struct ctl *ctl, int argc, char **argv)
{
	return add_or_remove(ctl, argc, argv, 1);
}

int
ctl_remove(struct ctl *ctl, int argc, char **argv)
{
	return add_or_remove(ctl, argc, argv, 0);
}

/* ----- CSV reading (RFC 4180) --------------------------------------------- */

struct csv {
	const char *p, *end;
	long line;                  /* line of *p, from 1 */
	long rec_line;              /* line where the last record began */
	struct buf data;            /* fields, each NUL-terminated */
	size_t off[CSV_MAX_FIELDS]; /* start of each field in data */
	size_t len[CSV_MAX_FIELDS];
	int n;       /* fields in the record */
	int quoted0; /* the first field was quoted */
};

static const char *
field(const struct csv *c, int i)
{
	return i < c->n ? c->data.s + c->off[i] : "";
}

/* Skip past the end of the current line after a malformed record. */
static void
csv_resync(struct csv *c)
{
	while (c->p < c->end && *c->p != '\n' && *c->p != '\r')
		c->p++;
	if (c->p < c->end && *c->p == '\r')
		c->p++;
	if (c->p < c->end && *c->p == '\n')
		c->p++;
	c->line++;
}

/* End of a line at *p (LF, CRLF or a lone CR); 1 if one was consumed. */
static int
csv_eol(struct csv *c)
{
	if (c->p < c->end && *c->p == '\r') {
		c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
	} else if (c->p < c->end && *c->p == '\n') {
		c->p++;
	} else {
		return 0;
	}
	c->line++;
	return 1;
}

/*
 * Read one record.  1: a record (c->n fields); 0: end of file; -1: a
 * malformed record, *why says why and the rest of its line was skipped;
 * -2: an unterminated quoted field swallowed the rest of the file.
 */
static int
csv_record(struct csv *c, const char **why)
{
	c->n = 0;
	c->quoted0 = 0;
	buf_reset(&c->data);
	if (c->p >= c->end)
		return 0;
	c->rec_line = c->line;
	for (;;) {
		size_t start = c->data.len;

		if (c->n == CSV_MAX_FIELDS) {
			*why = "more than 64 fields";
			csv_resync(c);
			return -1;
		}
		if (c->p < c->end && *c->p == '"') {
			if (c->n == 0)
				c->quoted0 = 1;
			for (c->p++;; c->p++) {
				if (c->p >= c->end) {
					*why = "unterminated quoted field";
					return -2;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"')
						c->p++;
					else
						break;
				} else if (*c->p == '\n') {
					c->line++;
				}
				if (buf_addc(&c->data, *c->p) < 0)
					goto too_long;
			}
			c->p++; /* the closing quote */
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
			       *c->p != '\r') {
				if (*c->p == '"') {
					*why = "a quote inside an unquoted "
					       "field (quote the whole field)";
					csv_resync(c);
					return -1;
				}
				if (buf_addc(&c->data, *c->p++) < 0)
					goto too_long;
			}
		}
		if (c->data.len - start > CSV_MAX_FIELD)
			goto too_long;
		c->off[c->n] = start;
		c->len[c->n] = c->data.len - start;
		c->n++;
		if (buf_addc(&c->data, '\0') < 0)
			goto too_long;
		if (c->p >= c->end || csv_eol(c))
			return 1;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		*why = "text after a closing quote";
		csv_resync(c);
		return -1;
	}
too_long:
	*why = "a field longer than 1024 bytes";
	csv_resync(c);
	return -1;
}

static int
csv_blank(const struct csv *c)
{
	return c->n == 1 && c->len[0] == 0 && !c->quoted0;
}

/* A field with surrounding white space removed, into out. */
static void
field_trimmed(const struct csv *c, int i, char *out, size_t outsz)
{
	const char *s = field(c, i), *e = s + strlen(s);

	trim(&s, &e);
	if ((size_t)(e - s) >= outsz)
		e = s + outsz - 1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
}

/* ----- import ------------------------------------------------------------- */

enum col { COL_ADDRESS, COL_NAME, COL_LANGUAGE, COL_DELIVERY, COL_N };

static const struct {
	const char *name;
	enum col col;
} col_names[] = {
    {"address", COL_ADDRESS},   {"email", COL_ADDRESS},     {"name", COL_NAME},
    {"language", COL_LANGUAGE}, {"delivery", COL_DELIVERY},
};

/* Map the header's columns; -1 (reported) if it is unusable. */
static int
read_header(struct csv *c, const char *file, int idx[COL_N])
{
	const char *why = NULL;
	size_t k;
	int i, r;

	for (i = 0; i < COL_N; i++)
		idx[i] = -1;
	while ((r = csv_record(c, &why)) == 1 && csv_blank(c))
		;
	if (r == 0) {
		fprintf(stderr,
		        "%s:%ld: empty file: no header row (expected at least "
		        "\"address\")\n",
		        file, c->line);
		return -1;
	}
	if (r < 0) {
		fprintf(stderr, "%s:%ld: header row: %s\n", file, c->rec_line,
		        why);
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		char name[64];

		field_trimmed(c, i, name, sizeof(name));
		str_lower(name);
		for (k = 0; k < ARRAY_SIZE(col_names); k++)
			if (strcmp(name, col_names[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(col_names)) {
			fprintf(stderr, "%s:%ld: column '%s' ignored\n", file,
			        c->rec_line, name);
			continue;
		}
		if (idx[col_names[k].col] >= 0) {
			fprintf(stderr,
			        "%s:%ld: column '%s' appears twice in the "
			        "header\n",
			        file, c->rec_line, name);
			return -1;
		}
		idx[col_names[k].col] = i;
	}
	if (idx[COL_ADDRESS] < 0) {
		fprintf(stderr,
		        "%s:%ld: the header row has no 'address' column "
		        "(columns: address, name, language, in any order)\n",
		        file, c->rec_line);
		return -1;
	}
	return c->n;
}

struct import_count {
	long added, already, bad;
};

/* One data row: 0 done (counted), -1 database error. */
static int
import_row(struct db *db, const struct list_conf *l, struct csv *c,
           const char *file, const int idx[COL_N], int n_cols, const char *how,
           struct import_count *cnt)
{
	char addr[ADDR_MAX + 1], raw[CSV_MAX_FIELD + 1];
	char name[CSV_MAX_FIELD + 1], lang[64];
	int r;

	if (c->n > n_cols) {
		fprintf(stderr,
		        "%s:%ld: %d fields, but the header has %d (quote "
		        "fields that contain commas; row skipped)\n",
		        file, c->rec_line, c->n, n_cols);
		cnt->bad++;
		return 0;
	}
	field_trimmed(c, idx[COL_ADDRESS], raw, sizeof(raw));
	if (!*raw) {
		fprintf(stderr, "%s:%ld: no address (row skipped)\n", file,
		        c->rec_line);
		cnt->bad++;
		return 0;
	}
	if (addr_normalise(raw, addr, sizeof(addr)) < 0) {
		fprintf(stderr,
		        "%s:%ld: '%s' is not a valid address (row skipped)\n",
		        file, c->rec_line, raw);
		cnt->bad++;
		return 0;
	}
	name[0] = lang[0] = '\0';
	if (idx[COL_NAME] >= 0)
		field_trimmed(c, idx[COL_NAME], name, sizeof(name));
	if (!name_ok(name)) {
		fprintf(stderr,
		        "%s:%ld: the name has a line break or control "
		        "character, or is longer than %d bytes (row "
		        "skipped)\n",
		        file, c->rec_line, NAME_MAX_LEN);
		cnt->bad++;
		return 0;
	}
	if (idx[COL_LANGUAGE] >= 0)
		field_trimmed(c, idx[COL_LANGUAGE], lang, sizeof(lang));
	if (*lang && !language_ok(lang)) {
		fprintf(stderr,
		        "%s:%ld: '%s' is not a language code such as da, "
		        "sv, nb, fi, is, ar or en (row skipped)\n",
		        file, c->rec_line, lang);
		cnt->bad++;
		return 0;
	}
	str_lower(lang);
	r = db_member_add(db, l->name, addr, name, lang, how);
	if (r < 0)
		return -1;
	if (r == 0)
		cnt->added++;
	else
		cnt->already++;
	return 0;
}

int
ctl_import(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l;
	struct csv c;
	struct buf file = BUF_INIT, how = BUF_INIT;
	struct import_count cnt = {0, 0, 0};
	int idx[COL_N], n_cols, r, ex = EX_OK;
	const char *path, *why = NULL;
	struct db *db;

	if (argc != 3) {
		fprintf(stderr,
		        "mlmctl: usage: mlmctl -c FILE import LIST FILE.csv\n");
		return EX_USAGE;
	}
	path = argv[2];
	if (!(l = find_list(ctl, argv[0], argv[1])))
		return EX_NOUSER;
	buf_init(&file, CSV_MAX_BYTES);
	if (read_file(path, &file) < 0) {
		fprintf(stderr, "mlmctl: import: cannot read %s: %s\n", path,
		        errno == EFBIG ? "larger than 64 MiB (split it)"
		                       : strerror(errno));
		buf_free(&file);
		return EX_NOINPUT;
	}
	memset(&c, 0, sizeof(c));
	c.p = file.s;
	c.end = file.s + file.len;
	c.line = 1;
	buf_init(&c.data, 4 * CSV_MAX_FIELD * CSV_MAX_FIELDS);
	if (c.end - c.p >= 3 && memcmp(c.p, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3;
	if ((n_cols = read_header(&c, path, idx)) < 0) {
		ex = EX_DATAERR;
		goto out;
	}
	if (!(db = ctl_db(ctl))) {
		ex = EX_UNAVAILABLE;
		goto out;
	}
	buf_printf(&how, "import by %s from %s", ctl->operator, path);
	if (db_begin(db) < 0) {
		ex = EX_TEMPFAIL;
		goto out;
	}
	while ((r = csv_record(&c, &why)) != 0) {
		if (r < 0) {
			fprintf(stderr, "%s:%ld: %s (%s skipped)\n", path,
			        c.rec_line, why,
			        r == -2 ? "the rest of the file is" : "row");
			cnt.bad++;
			if (r == -2)
				break;
			continue;
		}
		if (csv_blank(&c))
			continue;
		if (import_row(db, l, &c, path, idx, n_cols, buf_str(&how),
		               &cnt) < 0) {
			fprintf(stderr,
			        "%s:%ld: database error: nothing imported (try "
			        "again)\n",
			        path, c.rec_line);
			db_rollback(db);
			ex = EX_TEMPFAIL;
			goto out;
		}
	}
	if (db_commit(db) < 0) {
		fprintf(stderr, "mlmctl: import: database error: nothing "
		                "imported (try again)\n");
		ex = EX_TEMPFAIL;
		goto out;
	}
	printf("%ld added, %ld already members, %ld bad rows\n", cnt.added,
	       cnt.already, cnt.bad);
	ex = ctl_flush_stdout();
	if (ex == EX_OK && cnt.bad)
		ex = EX_DATAERR;
out:
	buf_free(&c.data);
	buf_free(&file);
	buf_free(&how);
	return ex;
}

/* ----- export ------------------------------------------------------------- */

/*
 * One CSV field, quoted when it must be (RFC 4180 section 2).
 * XXX: a name starting with '=', '+', '-' or '@' is a formula to a
 * spreadsheet program ("CSV injection"); prefixing it with a quote would
 * break the round trip through import, so the file is written as is and
 * the man page says to open it as text.
 */
static void
csv_put(const char *s, int last)
{
	size_t n = strlen(s);
	int quote = strpbrk(s, ",\"\r\n") != NULL ||
	            (n && (isspace((unsigned char)s[0]) ||
	                   isspace((unsigned char)s[n - 1])));

	if (quote) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static int
export_member(const struct member *m, void *arg)
{
	(void)arg;
	csv_put(m->address, 0);
	csv_put(m->name, 0);
	csv_put(m->language, 0);
	csv_put(db_delivery_name(m->delivery), 1);
	return ferror(stdout) ? 1 : 0;
}

int
ctl_export(struct ctl *ctl, int argc, char **argv)
{
	const struct list_conf *l;
	struct db *db;

	if (argc != 2) {
		fprintf(stderr, "mlmctl: usage: mlmctl -c FILE export LIST\n");
		return EX_USAGE;
	}
	if (!(l = find_list(ctl, argv[0], argv[1])))
		return EX_NOUSER;
	if (!(db = ctl_db(ctl)))
		return EX_UNAVAILABLE;
	printf("address,name,language,delivery\n");
	if (db_member_each(db, l->name, export_member, NULL) < 0)
		return EX_TEMPFAIL;
	return ctl_flush_stdout();
}
