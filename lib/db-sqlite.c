/*
 * db-sqlite.c - the SQLite backend: the embedded default for local jobs
 * and tests.
 *
 * Rows go through one prepared INSERT per run of rows with the same
 * columns, inside one transaction (BEGIN IMMEDIATE takes the write lock up
 * front, so a busy database is met at BEGIN, where a retry is cheap).
 * Column types come from the declared types, by SQLite's own affinity
 * rules plus the names people use for booleans, dates and JSON.
 */
#include "db.h"
#include "buf.h"
#include "cell.h"

#include "jsonout.h"

#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct db {
	sqlite3 *h;
	sqlite3_stmt *read;      /* the query being read (etl-extract-sql) */
	struct buf text;         /* its row's doubles as text */
};

static enum db_status
fail(struct db_error *err, enum db_status status, const char *what, sqlite3 *h)
{
	err->status = status;
	err->row = -1;
	snprintf(err->message, sizeof err->message, "%s%s%s", what ? what : "",
	    what && h ? ": " : "", h ? sqlite3_errmsg(h) : "");
	return status;
}

/* What kind of failure an SQLite result code is. */
static enum db_status
classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_TRANSIENT;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return DB_ROW_ERROR;
	case SQLITE_CANTOPEN:
		return DB_UNAVAILABLE;
	}
	return DB_FATAL;
}

static struct db *
sqlite_connect(const struct dburl *url, struct db_error *err)
{
	static int configured;
	struct db *db = calloc(1, sizeof *db);
	int rc;

	if (!db) {
		fail(err, DB_FATAL, "out of memory", NULL);
		return NULL;
	}
	/* SQLite counts the memory it holds under a global mutex at every
	 * allocation, a tenth of a row's insert; nothing here reads the count.
	 * Only possible before its first use: the first connection is made
	 * before any other thread starts. */
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = 1;
	}
	/* One thread at a time uses a connection (the loader's threads take
	 * turns): SQLite's per-call mutexes would cost a third of a read.  A
	 * reader's connection is read-only: a missing file is not made, and
	 * the last connection to a WAL database to close does not write its
	 * checkpoint (a confined reader could not). */
	rc = sqlite3_open_v2(url->database, &db->h, SQLITE_OPEN_NOMUTEX |
	    (url->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE),
	    NULL);
	if (rc != SQLITE_OK) {
		fail(err, classify(rc) == DB_TRANSIENT ? DB_UNAVAILABLE : DB_AUTH,
		    url->database, db->h);
		sqlite3_close(db->h);
		free(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 10000);
	sqlite3_extended_result_codes(db->h, 0);
	return db;
}

static void
sqlite_disconnect(struct db *db)
{
	if (db) {
		sqlite3_finalize(db->read);
		buf_free(&db->text);
		sqlite3_close(db->h);
		free(db);
	}
}

static enum db_type
type_of(const char *declared)
{
	static const struct { const char *part; enum db_type type; } rules[] = {
		{ "BOOL", DB_TYPE_BOOLEAN }, { "INT", DB_TYPE_INTEGER },
		{ "JSON", DB_TYPE_JSON }, { "CHAR", DB_TYPE_TEXT },
		{ "CLOB", DB_TYPE_TEXT }, { "TEXT", DB_TYPE_TEXT },
		{ "BLOB", DB_TYPE_BYTES }, { "REAL", DB_TYPE_REAL },
		{ "FLOA", DB_TYPE_REAL }, { "DOUB", DB_TYPE_REAL },
		{ "NUM", DB_TYPE_NUMERIC }, { "DEC", DB_TYPE_NUMERIC },
		{ "DATETIME", DB_TYPE_TIMESTAMP }, { "TIMESTAMP", DB_TYPE_TIMESTAMP },
		{ "DATE", DB_TYPE_DATE }, { "TIME", DB_TYPE_TIME },
	};
	char upper[64];
	size_t i;

	for (i = 0; declared[i] && i < sizeof upper - 1; i++)
		upper[i] = (char)(declared[i] >= 'a' && declared[i] <= 'z'
		    ? declared[i] - 32 : declared[i]);
	upper[i] = '\0';
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (strstr(upper, rules[i].part))
			return rules[i].type;
	return DB_TYPE_OTHER;
}

static enum db_status
sqlite_describe(struct db *db, const char *schema, const char *table,
    struct db_table *out, struct db_error *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	rc = sqlite3_prepare_v2(db->h,
	    "SELECT name, type, \"notnull\", dflt_value IS NOT NULL"
	    " FROM pragma_table_info(?1, ?2)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(err, DB_FATAL, "reading the table's columns", db->h);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema ? schema : "main", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 1);

		if (db_table_add_column(out, (const char *)sqlite3_column_text(st, 0),
		    type ? type : "", type_of(type ? type : "")) != 0)
			break;
		out->columns[out->ncolumns - 1].not_null = sqlite3_column_int(st, 2);
		out->columns[out->ncolumns - 1].has_default = sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_table_free(out);
		return fail(err, classify(rc), "reading the table's columns", db->h);
	}
	if (out->ncolumns == 0) {
		err->status = DB_NO_TABLE;
		snprintf(err->message, sizeof err->message,
		    "table \"%s\" does not exist", table);
		return DB_NO_TABLE;
	}
	out->name = strdup(table);
	out->schema = schema ? strdup(schema) : NULL;
	return DB_OK;
}

static enum db_status
run_simple(struct db *db, const char *sql, struct db_error *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return DB_OK;
	err->status = classify(rc) == DB_ROW_ERROR ? DB_FATAL : classify(rc);
	err->row = -1;
	snprintf(err->message, sizeof err->message, "%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return err->status;
}

static enum db_status
sqlite_begin(struct db *db, struct db_error *err)
{
	return run_simple(db, "BEGIN IMMEDIATE", err);
}

static enum db_status
sqlite_commit(struct db *db, struct db_error *err)
{
	return run_simple(db, "COMMIT", err);
}

static void
sqlite_rollback(struct db *db)
{
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

static void
add_quoted(struct buf *b, const char *name)
{
	buf_addc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			buf_addc(b, '"');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static char *
sqlite_quote_ident(struct db *db, const char *name)
{
	struct buf b = BUF_INIT;

	(void)db;
	add_quoted(&b, name);
	buf_cstr(&b);
	return b.data;
}

static void
add_table_name(struct buf *b, const struct db_table *t)
{
	if (t->schema) {
		add_quoted(b, t->schema);
		buf_addc(b, '.');
	}
	add_quoted(b, t->name);
}

/* INSERT for the present columns of row FIRST, NROWS rows of parameters,
 * with the mode's clause. */
static void
build_insert(struct buf *sql, const struct db_rows *rows, size_t first,
    size_t nrows)
{
	const struct db_table *t = rows->table;
	const struct cell *row = rows->cells + first * t->ncolumns;
	int n = 0, updates = 0;

	buf_adds(sql, "INSERT INTO ");
	add_table_name(sql, t);
	buf_adds(sql, " (");
	for (int c = 0; c < t->ncolumns; c++) {
		if (row[c].kind == CELL_ABSENT)
			continue;
		if (n++)
			buf_addc(sql, ',');
		add_quoted(sql, t->columns[c].name);
	}
	buf_adds(sql, ") VALUES ");
	for (size_t r = 0; r < nrows; r++) {
		buf_adds(sql, r ? ",(" : "(");
		for (int i = 0; i < n; i++)
			buf_adds(sql, i ? ",?" : "?");
		buf_addc(sql, ')');
	}
	if (rows->mode == DB_IGNORE_DUPLICATES) {
		buf_adds(sql, " ON CONFLICT DO NOTHING");
	} else if (rows->mode == DB_UPSERT) {
		buf_adds(sql, " ON CONFLICT (");
		for (int k = 0; k < rows->nkeys; k++) {
			if (k)
				buf_addc(sql, ',');
			add_quoted(sql, t->columns[rows->key_columns[k]].name);
		}
		buf_adds(sql, ") DO UPDATE SET ");
		for (int c = 0; c < t->ncolumns; c++) {
			if (db_rows_is_key(rows, c) || row[c].kind == CELL_ABSENT)
				continue;
			if (updates++)
				buf_addc(sql, ',');
			add_quoted(sql, t->columns[c].name);
			buf_adds(sql, "=excluded.");
			add_quoted(sql, t->columns[c].name);
		}
		if (updates == 0) {
			/* Only key columns: nothing to update. */
			sql->len -= strlen(" DO UPDATE SET ");
			buf_adds(sql, " DO NOTHING");
		}
	}
}

/* SQLITE_OK, or why the value could not be bound (no memory, too big). */
static int
bind_cell(sqlite3_stmt *st, int i, const struct db_column *col,
    const struct cell *c)
{
	char *bytes;

	switch (c->kind) {
	case CELL_NULL:
	case CELL_ABSENT:
		return sqlite3_bind_null(st, i);
	case CELL_BOOL:
	case CELL_INT:
		return sqlite3_bind_int64(st, i, c->i);
	case CELL_REAL:
		return sqlite3_bind_double(st, i, c->d);
	case CELL_TEXT:
	case CELL_JSON:
		if (col->type != DB_TYPE_BYTES)
			return sqlite3_bind_text64(st, i, c->text, c->len, SQLITE_STATIC,
			    SQLITE_UTF8);
		/* "\x" and hex (lib/cell.h): a blob of the bytes */
		if (!(bytes = malloc(c->len / 2 + 1)))
			return SQLITE_NOMEM;
		return sqlite3_bind_blob64(st, i, bytes, cell_bytes_decode(c, bytes), free);
	}
	return SQLITE_OK;
}

/* Bind rows [FIRST, FIRST + N) to ST's parameters: SQLITE_OK, or why a
 * value could not be bound, with its row in *BAD. */
static int
bind_rows(sqlite3_stmt *st, const struct db_rows *rows, size_t first, size_t n,
    size_t *bad)
{
	const struct db_table *t = rows->table;
	int param = 1, rc;

	for (size_t r = first; r < first + n; r++) {
		const struct cell *row = rows->cells + r * t->ncolumns;

		for (int c = 0; c < t->ncolumns; c++)
			if (row[c].kind != CELL_ABSENT &&
			    (rc = bind_cell(st, param++, &t->columns[c], &row[c])) != SQLITE_OK) {
				*bad = r;
				return rc;
			}
	}
	return SQLITE_OK;
}

static enum db_status
bind_failed(int rc, size_t row, struct db_error *err)
{
	fail(err, rc == SQLITE_TOOBIG ? DB_ROW_ERROR : DB_FATAL,
	    sqlite3_errstr(rc), NULL);
	err->row = (long)row;
	return err->status;
}

static enum db_status
step_failed(struct db *db, int rc, long row, struct db_error *err)
{
	enum db_status s = classify(rc);

	fail(err, s == DB_UNAVAILABLE ? DB_FATAL : s, NULL, db->h);
	err->row = row;
	return err->status;
}

/*
 * Rows go ROWS_PER_INSERT to a statement: SQLite's work per statement
 * (starting it, its statement journal, halting it) is then paid once per
 * so many rows, not once per row.  A statement that fails changes nothing
 * (SQLite undoes a failed statement, the transaction goes on), so its rows
 * are then tried one at a time to name the one refused.
 */
enum { ROWS_PER_INSERT = 32 };

static enum db_status
load_run(struct db *db, const struct db_rows *rows, size_t first, size_t end,
    struct db_error *err)
{
	const struct db_table *t = rows->table;
	const struct cell *head = rows->cells + first * t->ncolumns;
	struct buf sql = BUF_INIT;
	sqlite3_stmt *one = NULL, *many = NULL;
	size_t per = ROWS_PER_INSERT, present = 0, bad, r, n;
	enum db_status s = DB_OK;
	int rc;

	for (int c = 0; c < t->ncolumns; c++)
		present += head[c].kind != CELL_ABSENT;
	if (present > 0 && per * present >
	    (size_t)sqlite3_limit(db->h, SQLITE_LIMIT_VARIABLE_NUMBER, -1))
		per = (size_t)sqlite3_limit(db->h, SQLITE_LIMIT_VARIABLE_NUMBER, -1) / present;
	build_insert(&sql, rows, first, 1);
	rc = sqlite3_prepare_v2(db->h, buf_cstr(&sql), -1, &one, NULL);
	if (rc == SQLITE_OK && per > 1 && end - first >= per) {
		sql.len = 0;
		build_insert(&sql, rows, first, per);
		rc = sqlite3_prepare_v2(db->h, buf_cstr(&sql), -1, &many, NULL);
	}
	buf_free(&sql);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(one);
		return fail(err, DB_FATAL, NULL, db->h);
	}
	for (r = first; r < end && s == DB_OK; r += n) {
		sqlite3_stmt *st;

		n = many && end - r >= per ? per : 1;
		st = n > 1 ? many : one;
		if ((rc = bind_rows(st, rows, r, n, &bad)) != SQLITE_OK) {
			if (n == 1)
				s = bind_failed(rc, bad, err);
		} else if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
			sqlite3_reset(st);
			continue;
		} else {
			if (n == 1 || classify(rc) != DB_ROW_ERROR)
				s = step_failed(db, rc, n == 1 ? (long)r : -1, err);
			sqlite3_reset(st);
		}
		/* A row of these was refused: one at a time, to name it. */
		for (size_t i = r; i < r + n && n > 1 && s == DB_OK; i++) {
			if ((rc = bind_rows(one, rows, i, 1, &bad)) != SQLITE_OK) {
				s = bind_failed(rc, bad, err);
			} else if ((rc = sqlite3_step(one)) != SQLITE_DONE) {
				s = step_failed(db, rc, (long)i, err);
			}
			sqlite3_reset(one);
		}
	}
	sqlite3_finalize(one);
	sqlite3_finalize(many);
	return s;
}

static enum db_status
sqlite_load(struct db *db, const struct db_rows *rows, struct db_error *err)
{
	for (size_t first = 0; first < rows->nrows;) {
		size_t end = db_rows_run_end(rows, first);
		enum db_status s = load_run(db, rows, first, end, err);

		if (s != DB_OK)
			return s;
		first = end;
	}
	return DB_OK;
}

static enum db_status
sqlite_run(struct db *db, const char *sql, const json_t *params,
    struct db_error *err)
{
	sqlite3_stmt *st;
	size_t i;
	json_t *p;
	int rc;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(err, DB_ROW_ERROR, NULL, db->h);
	json_array_foreach(params, i, p) {
		int at = (int)i + 1;

		switch (json_typeof(p)) {
		case JSON_INTEGER: sqlite3_bind_int64(st, at, json_integer_value(p)); break;
		case JSON_REAL: sqlite3_bind_double(st, at, json_real_value(p)); break;
		case JSON_TRUE: sqlite3_bind_int(st, at, 1); break;
		case JSON_FALSE: sqlite3_bind_int(st, at, 0); break;
		case JSON_NULL: sqlite3_bind_null(st, at); break;
		case JSON_STRING:
			sqlite3_bind_text64(st, at, json_string_value(p),
			    json_string_length(p), SQLITE_TRANSIENT, SQLITE_UTF8);
			break;
		default: {
			char *text = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY);

			sqlite3_bind_text(st, at, text, -1, SQLITE_TRANSIENT);
			free(text);
		}
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		enum db_status s = classify(rc);

		return fail(err, s == DB_TRANSIENT ? s : DB_ROW_ERROR, NULL, db->h);
	}
	return DB_OK;
}

static enum db_status
sqlite_checkpoint_get(struct db *db, const char *job, long long *position,
    struct db_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*position = 0;
	if (sqlite3_prepare_v2(db->h, "SELECT position FROM etl_checkpoints"
	    " WHERE job = ?1", -1, &st, NULL) != SQLITE_OK)
		return fail(err, DB_FATAL, "reading the checkpoint", db->h);
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*position = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(err, classify(rc), "reading the checkpoint", db->h);
	return DB_OK;
}

static enum db_status
sqlite_checkpoint_put(struct db *db, const char *job, long long position,
    struct db_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, "INSERT INTO etl_checkpoints (job, position,"
	    " updated_at) VALUES (?1, ?2, CURRENT_TIMESTAMP) ON CONFLICT (job)"
	    " DO UPDATE SET position = excluded.position,"
	    " updated_at = excluded.updated_at", -1, &st, NULL) != SQLITE_OK)
		return fail(err, DB_FATAL, "writing the checkpoint", db->h);
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, position);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(err, classify(rc) == DB_TRANSIENT ? DB_TRANSIENT : DB_FATAL,
		    "writing the checkpoint", db->h);
	return DB_OK;
}

static enum db_status
sqlite_bookmark_get(struct db *db, const char *job, char **bookmark,
    struct db_error *err)
{
	sqlite3_stmt *st;
	int rc;

	*bookmark = NULL;
	if (sqlite3_prepare_v2(db->h, "SELECT bookmark FROM etl_checkpoints"
	    " WHERE job = ?1", -1, &st, NULL) != SQLITE_OK)
		return fail(err, strstr(sqlite3_errmsg(db->h), "no such table")
		    ? DB_NO_TABLE : DB_FATAL, "reading the bookmark", db->h);
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_text(st, 0))
		*bookmark = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(err, classify(rc), "reading the bookmark", db->h);
	return DB_OK;
}

static enum db_status
sqlite_bookmark_put(struct db *db, const char *job, long long position,
    const char *bookmark, struct db_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, "INSERT INTO etl_checkpoints (job, position,"
	    " updated_at, bookmark) VALUES (?1, ?2, CURRENT_TIMESTAMP, ?3)"
	    " ON CONFLICT (job) DO UPDATE SET position = excluded.position,"
	    " updated_at = excluded.updated_at,"
	    " bookmark = coalesce(excluded.bookmark, bookmark)", -1, &st, NULL) != SQLITE_OK)
		return fail(err, DB_FATAL, "writing the checkpoint", db->h);
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, position);
	if (bookmark)
		sqlite3_bind_text(st, 3, bookmark, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(err, classify(rc) == DB_TRANSIENT ? DB_TRANSIENT : DB_FATAL,
		    "writing the checkpoint", db->h);
	return DB_OK;
}

/* ---- reading ---------------------------------------------------------- */

/* A deferred transaction: its first read takes the snapshot every later
 * read in it sees. */
static enum db_status
sqlite_begin_snapshot(struct db *db, struct db_error *err)
{
	int rc = sqlite3_exec(db->h, "BEGIN", NULL, NULL, NULL);

	return rc == SQLITE_OK ? DB_OK : fail(err, classify(rc), NULL, db->h);
}

static enum db_status
sqlite_query(struct db *db, const char *sql, struct db_table *columns, struct db_error *err)
{
	int rc;

	memset(columns, 0, sizeof *columns);
	sqlite3_finalize(db->read);
	db->read = NULL;
	rc = sqlite3_prepare_v2(db->h, sql, -1, &db->read, NULL);
	if (rc != SQLITE_OK || !db->read) {
		sqlite3_finalize(db->read);
		db->read = NULL;
		return fail(err, rc == SQLITE_OK ? DB_FATAL
		    : classify(rc) == DB_TRANSIENT ? DB_TRANSIENT : DB_FATAL, NULL, db->h);
	}
	for (int c = 0; c < sqlite3_column_count(db->read); c++) {
		const char *type = sqlite3_column_decltype(db->read, c);

		if (db_table_add_column(columns, sqlite3_column_name(db->read, c),
		    type ? type : "", type_of(type ? type : "")) != 0)
			return fail(err, DB_FATAL, "out of memory", NULL);
	}
	return DB_OK;
}

/* Fields keep SQLite's storage class in TAG; a REAL's text is its
 * shortest round-trip form (SQLite's own text keeps 15 digits). */
static int
sqlite_next_row(struct db *db, struct db_field *fields, struct db_error *err)
{
	int rc = sqlite3_step(db->read), n = sqlite3_column_count(db->read);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		fail(err, classify(rc) == DB_TRANSIENT ? DB_TRANSIENT : DB_FATAL, NULL, db->h);
		return -1;
	}
	db->text.len = 0;
	for (int c = 0; c < n; c++) {
		struct db_field *f = &fields[c];
		int t = sqlite3_column_type(db->read, c);

		memset(f, 0, sizeof *f);
		f->tag = t;
		f->null = t == SQLITE_NULL;
		if (t == SQLITE_FLOAT) {
			double d = sqlite3_column_double(db->read, c);
			size_t at = db->text.len;

			if (isinf(d))
				buf_adds(&db->text, d > 0 ? "Infinity" : "-Infinity");
			else
				jsonout_real(&db->text, d);
			f->len = db->text.len - at;
			f->data = (const char *)(uintptr_t)at;  /* an offset until the end */
		} else if (t == SQLITE_BLOB) {
			f->data = sqlite3_column_blob(db->read, c);
			f->len = (size_t)sqlite3_column_bytes(db->read, c);
			f->binary = 1;
		} else if (!f->null) {
			f->data = (const char *)sqlite3_column_text(db->read, c);
			f->len = (size_t)sqlite3_column_bytes(db->read, c);
		}
	}
	for (int c = 0; c < n; c++)
		if (fields[c].tag == SQLITE_FLOAT)
			fields[c].data = db->text.data + (uintptr_t)fields[c].data;
	return 1;
}

static int
sqlite_add_value(struct buf *b, const struct db_column *col,
    const struct db_field *f)
{
	switch (f->tag) {
	case SQLITE_INTEGER:
		return db_add_json_value(b, col->type == DB_TYPE_BOOLEAN
		    ? DB_TYPE_BOOLEAN : DB_TYPE_INTEGER, f);
	case SQLITE_FLOAT:
		return db_add_json_value(b, DB_TYPE_REAL, f);
	case SQLITE_TEXT:
		/* Dates and times are kept as the text they were written in. */
		return db_add_json_value(b, col->type == DB_TYPE_JSON ? DB_TYPE_JSON
		    : DB_TYPE_TEXT, f);
	default:
		return db_add_json_value(b, DB_TYPE_TEXT, f);
	}
}

static char *
sqlite_quote_literal(struct db *db, const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	(void)db;
	buf_addc(&b, '\'');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'')
			buf_addc(&b, '\'');
		buf_addc(&b, s[i]);
	}
	buf_addc(&b, '\'');
	buf_cstr(&b);
	return b.data;   /* NUL-terminated, the caller's to free */
}

static void
sqlite_query_end(struct db *db)
{
	sqlite3_finalize(db->read);
	db->read = NULL;
}

static const char *
sqlite_type_for(json_type t)
{
	switch (t) {
	case JSON_INTEGER: return "INTEGER";
	case JSON_REAL: return "REAL";
	case JSON_TRUE: case JSON_FALSE: return "BOOLEAN";
	case JSON_OBJECT: case JSON_ARRAY: return "JSON";
	default: return "TEXT";
	}
}

const struct db_backend db_sqlite = {
	.name = "sqlite",
	.connect = sqlite_connect,
	.disconnect = sqlite_disconnect,
	.describe = sqlite_describe,
	.exec = run_simple,
	.begin = sqlite_begin,
	.load = sqlite_load,
	.run = sqlite_run,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.checkpoint_get = sqlite_checkpoint_get,
	.checkpoint_put = sqlite_checkpoint_put,
	.bookmark_get = sqlite_bookmark_get,
	.bookmark_put = sqlite_bookmark_put,
	.begin_snapshot = sqlite_begin_snapshot,
	.query = sqlite_query,
	.next_row = sqlite_next_row,
	.add_value = sqlite_add_value,
	.query_end = sqlite_query_end,
	.quote_ident = sqlite_quote_ident,
	.quote_literal = sqlite_quote_literal,
	.type_for = sqlite_type_for,
};
