/*
 * db-pg.c - the PostgreSQL backend (libpq).
 *
 * Rows travel by COPY … FROM STDIN in text format inside the transaction:
 * no statement per row, and the server parses each value once.  Upserts and
 * ignore-duplicates COPY into a temporary table first, then INSERT … SELECT
 * … ON CONFLICT, keeping the last of several rows with the same key.
 * Errors are classified by SQLSTATE: data exceptions (22) and integrity
 * violations (23) are the rows' fault, and COPY's error context names the
 * line, so the loader can isolate the row at once.
 */
#include "db.h"
#include "buf.h"
#include "jsonout.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
	PGconn *conn;
	int staged;              /* the staging table exists in this transaction */
};

enum { COPY_CHUNK = 256 * 1024 };

static void
set_message(struct db_error *err, const char *msg)
{
	size_t n;

	snprintf(err->message, sizeof err->message, "%s", msg ? msg : "unknown error");
	/* libpq's messages run over several lines: ours are one line each. */
	for (char *p = err->message; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	n = strlen(err->message);
	while (n > 0 && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
		err->message[--n] = '\0';
}

/* What an SQLSTATE (and the connection's state) means for the loader. */
static enum db_status
classify(PGconn *conn, const char *state)
{
	if (PQstatus(conn) == CONNECTION_BAD)
		return DB_TRANSIENT;
	if (!state)
		return DB_FATAL;
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
	    strcmp(state, "21000") == 0)
		return DB_ROW_ERROR;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strncmp(state, "08", 2) == 0 || strcmp(state, "53300") == 0 ||
	    strncmp(state, "57P", 3) == 0 || strcmp(state, "55P03") == 0)
		return DB_TRANSIENT;
	if (strcmp(state, "42P01") == 0)
		return DB_NO_TABLE;
	return DB_FATAL;
}

/* The 0-based row of "COPY t, line N" in an error's context, or -1. */
static long
copy_error_row(const PGresult *res)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *line = ctx ? strstr(ctx, ", line ") : NULL;

	return line ? strtol(line + 7, NULL, 10) - 1 : -1;
}

static enum db_status
result_status(struct db *db, PGresult *res, ExecStatusType want,
    struct db_error *err)
{
	enum db_status s = DB_OK;

	if (!res) {
		set_message(err, PQerrorMessage(db->conn));
		s = PQstatus(db->conn) == CONNECTION_BAD ? DB_TRANSIENT : DB_FATAL;
	} else if (PQresultStatus(res) != want) {
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		set_message(err, primary ? primary : PQresultErrorMessage(res));
		s = classify(db->conn, PQresultErrorField(res, PG_DIAG_SQLSTATE));
		err->row = copy_error_row(res);
	}
	PQclear(res);
	err->status = s;
	return s;
}

static enum db_status
exec(struct db *db, const char *sql, struct db_error *err)
{
	return result_status(db, PQexec(db->conn, sql), PGRES_COMMAND_OK, err);
}

/* Authentication and missing databases are not worth retrying. */
static enum db_status
classify_connect(const char *msg)
{
	static const char *final[] = {
		"authentication failed", "no password supplied", "does not exist",
		"not permitted to log in", "pg_hba.conf", "invalid", "SSL",
	};

	for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
		if (strstr(msg, final[i]))
			return DB_AUTH;
	return DB_UNAVAILABLE;
}

static struct db *
pg_connect(const struct dburl *url, struct db_error *err)
{
	const char *keys[40], *values[40];
	struct db *db;
	int n = 0;
	char port[16];

	if (url->host) { keys[n] = "host"; values[n++] = url->host; }
	if (url->port) {
		snprintf(port, sizeof port, "%d", url->port);
		keys[n] = "port"; values[n++] = port;
	}
	if (url->user) { keys[n] = "user"; values[n++] = url->user; }
	if (url->password) { keys[n] = "password"; values[n++] = url->password; }
	if (url->database) { keys[n] = "dbname"; values[n++] = url->database; }
	keys[n] = "application_name"; values[n++] = "etl-load-sql";
	keys[n] = "connect_timeout"; values[n++] = "10";
	/* ?sslmode=, ?host=/socket/dir and every other libpq keyword */
	for (int i = 0; i < url->nparams && n < 38; i++) {
		keys[n] = url->params[i].key;
		values[n++] = url->params[i].value;
	}
	keys[n] = values[n] = NULL;
	if (!(db = calloc(1, sizeof *db))) {
		err->status = DB_FATAL;
		set_message(err, "out of memory");
		return NULL;
	}
	db->conn = PQconnectdbParams(keys, values, 0);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_message(err, PQerrorMessage(db->conn));
		err->status = classify_connect(err->message);
		PQfinish(db->conn);
		free(db);
		return NULL;
	}
	PQsetClientEncoding(db->conn, "UTF8");
	{
		PGresult *res = PQexec(db->conn, "SET TIME ZONE 'UTC'");
		PQclear(res);
	}
	return db;
}

static void
pg_disconnect(struct db *db)
{
	if (db) {
		PQfinish(db->conn);
		free(db);
	}
}

static enum db_type
type_of(const char *typname)
{
	static const struct { const char *name; enum db_type type; } types[] = {
		{ "int2", DB_TYPE_INTEGER }, { "int4", DB_TYPE_INTEGER },
		{ "int8", DB_TYPE_INTEGER }, { "float4", DB_TYPE_REAL },
		{ "float8", DB_TYPE_REAL }, { "numeric", DB_TYPE_NUMERIC },
		{ "bool", DB_TYPE_BOOLEAN }, { "date", DB_TYPE_DATE },
		{ "time", DB_TYPE_TIME }, { "timetz", DB_TYPE_TIME },
		{ "timestamp", DB_TYPE_TIMESTAMP }, { "timestamptz", DB_TYPE_TIMESTAMPTZ },
		{ "json", DB_TYPE_JSON }, { "jsonb", DB_TYPE_JSON },
		{ "bytea", DB_TYPE_BYTES }, { "text", DB_TYPE_TEXT },
		{ "varchar", DB_TYPE_TEXT }, { "bpchar", DB_TYPE_TEXT },
		{ "name", DB_TYPE_TEXT }, { "uuid", DB_TYPE_TEXT },
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(typname, types[i].name) == 0)
			return types[i].type;
	return DB_TYPE_OTHER;
}

static char *
pg_quote_ident(struct db *db, const char *name)
{
	char *q = PQescapeIdentifier(db->conn, name, strlen(name));
	char *copy = q ? strdup(q) : NULL;

	PQfreemem(q);
	return copy;
}

static void
add_table_name(struct db *db, struct buf *b, const struct db_table *t)
{
	char *q;

	if (t->schema) {
		q = pg_quote_ident(db, t->schema);
		buf_adds(b, q);
		buf_addc(b, '.');
		free(q);
	}
	q = pg_quote_ident(db, t->name);
	buf_adds(b, q);
	free(q);
}

static enum db_status
pg_describe(struct db *db, const char *schema, const char *table,
    struct db_table *out, struct db_error *err)
{
	struct db_table t = { .schema = (char *)schema, .name = (char *)table };
	struct buf name = BUF_INIT;
	const char *params[1];
	PGresult *res;
	enum db_status s;

	memset(out, 0, sizeof *out);
	add_table_name(db, &name, &t);
	params[0] = buf_cstr(&name);
	/* Generated columns cannot be written: they are left out. */
	res = PQexecParams(db->conn,
	    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname,"
	    " a.atthasdef OR a.attidentity <> '', a.attnotnull"
	    " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
	    " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0"
	    " AND NOT a.attisdropped AND a.attgenerated = ''"
	    " ORDER BY a.attnum", 1, NULL, params, NULL, NULL, 0);
	buf_free(&name);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		return result_status(db, res, PGRES_TUPLES_OK, err);
	for (int i = 0; i < PQntuples(res); i++) {
		if (db_table_add_column(out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    type_of(PQgetvalue(res, i, 2))) != 0)
			break;
		out->columns[i].has_default = PQgetvalue(res, i, 3)[0] == 't';
		out->columns[i].not_null = PQgetvalue(res, i, 4)[0] == 't';
	}
	s = PQntuples(res) == 0 ? DB_NO_TABLE : DB_OK;
	PQclear(res);
	if (s == DB_NO_TABLE) {
		err->status = s;
		snprintf(err->message, sizeof err->message, "table \"%s\" does not exist", table);
		return s;
	}
	out->name = strdup(table);
	out->schema = schema ? strdup(schema) : NULL;
	return DB_OK;
}

static enum db_status
pg_exec(struct db *db, const char *sql, struct db_error *err)
{
	PGresult *res = PQexec(db->conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	/* A script may end in a query: its rows are of no interest. */
	return result_status(db, res, st == PGRES_TUPLES_OK ? PGRES_TUPLES_OK
	    : PGRES_COMMAND_OK, err);
}

static enum db_status
pg_begin(struct db *db, struct db_error *err)
{
	db->staged = 0;
	return exec(db, "BEGIN", err);
}

static enum db_status
pg_commit(struct db *db, struct db_error *err)
{
	enum db_status s = exec(db, "COMMIT", err);

	/* A COMMIT lost with its connection is ambiguous: libpq cannot say
	 * whether the server committed.  The loader retries: at-least-once. */
	return s;
}

static void
pg_rollback(struct db *db)
{
	PGresult *res = PQexec(db->conn, "ROLLBACK");

	PQclear(res);
}

/* COPY text format: backslash, tab, newline and CR are escaped. */
static void
add_copy_text(struct buf *b, const char *p, size_t n)
{
	const char *end = p + n;

	buf_reserve(b, n + 16);
	while (p < end) {
		const char *run = p;

		while (p < end && *p != '\\' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		buf_add(b, run, p - run);
		if (p == end)
			break;
		switch (*p++) {
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		default: buf_add(b, "\\r", 2); break;
		}
	}
}

static void
add_copy_cell(struct buf *b, const struct cell *c)
{
	switch (c->kind) {
	case CELL_NULL:
	case CELL_ABSENT:
		buf_add(b, "\\N", 2);
		break;
	case CELL_BOOL:
		buf_addc(b, c->i ? 't' : 'f');
		break;
	case CELL_INT:
		jsonout_integer(b, c->i);
		break;
	case CELL_REAL:
	case CELL_TEXT:
	case CELL_JSON:
		add_copy_text(b, c->text, c->len);
		break;
	}
}

/* "col","col" for the present columns of ROW. */
static void
add_column_list(struct db *db, struct buf *b, const struct db_table *t,
    const struct cell *row)
{
	int n = 0;

	for (int c = 0; c < t->ncolumns; c++) {
		char *q;

		if (row[c].kind == CELL_ABSENT)
			continue;
		if (n++)
			buf_addc(b, ',');
		q = pg_quote_ident(db, t->columns[c].name);
		buf_adds(b, q);
		free(q);
	}
}

static enum db_status
send_copy(struct db *db, struct buf *data, struct db_error *err)
{
	if (PQputCopyData(db->conn, data->data, (int)data->len) != 1) {
		set_message(err, PQerrorMessage(db->conn));
		return err->status = DB_TRANSIENT;
	}
	data->len = 0;
	return DB_OK;
}

/* COPY rows [first, end) into TARGET (the table or the staging table). */
static enum db_status
copy_run(struct db *db, const struct db_rows *rows, size_t first, size_t end,
    const char *target, struct db_error *err)
{
	const struct db_table *t = rows->table;
	struct buf sql = BUF_INIT, data = BUF_INIT;
	PGresult *res;
	enum db_status s;

	buf_adds(&sql, "COPY ");
	buf_adds(&sql, target);
	buf_adds(&sql, " (");
	add_column_list(db, &sql, t, rows->cells + first * t->ncolumns);
	buf_adds(&sql, ") FROM STDIN");
	res = PQexec(db->conn, buf_cstr(&sql));
	buf_free(&sql);
	if ((s = result_status(db, res, PGRES_COPY_IN, err)) != DB_OK)
		return s;
	for (size_t r = first; r < end && s == DB_OK; r++) {
		const struct cell *row = rows->cells + r * t->ncolumns;
		int n = 0;

		for (int c = 0; c < t->ncolumns; c++) {
			if (row[c].kind == CELL_ABSENT)
				continue;
			if (n++)
				buf_addc(&data, '\t');
			add_copy_cell(&data, &row[c]);
		}
		buf_addc(&data, '\n');
		if (data.len >= COPY_CHUNK)
			s = send_copy(db, &data, err);
	}
	if (s == DB_OK && data.len)
		s = send_copy(db, &data, err);
	buf_free(&data);
	if (PQputCopyEnd(db->conn, s == DB_OK ? NULL : "aborted") != 1 && s == DB_OK) {
		set_message(err, PQerrorMessage(db->conn));
		s = err->status = DB_TRANSIENT;
	}
	res = PQgetResult(db->conn);
	if (s == DB_OK) {
		s = result_status(db, res, PGRES_COMMAND_OK, err);
		if (s == DB_ROW_ERROR && err->row >= 0)
			err->row += (long)first;
	} else {
		PQclear(res);
	}
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	return s;
}

/* --upsert / --ignore-duplicates: COPY into a staging table, then merge. */
static enum db_status
merge_run(struct db *db, const struct db_rows *rows, size_t first, size_t end,
    struct db_error *err)
{
	const struct db_table *t = rows->table;
	const struct cell *row = rows->cells + first * t->ncolumns;
	struct buf sql = BUF_INIT, cols = BUF_INIT, keys = BUF_INIT;
	enum db_status s = DB_OK;
	int updates = 0;

	if (!db->staged) {
		buf_adds(&sql, "CREATE TEMP TABLE etl_stage ON COMMIT DROP AS"
		    " SELECT * FROM ");
		add_table_name(db, &sql, t);
		buf_adds(&sql, " WITH NO DATA");
		s = exec(db, buf_cstr(&sql), err);
		db->staged = s == DB_OK;
	} else {
		s = exec(db, "TRUNCATE etl_stage", err);
	}
	if (s == DB_OK)
		s = copy_run(db, rows, first, end, "etl_stage", err);
	if (s != DB_OK)
		goto out;
	add_column_list(db, &cols, t, row);
	for (int k = 0; k < rows->nkeys; k++) {
		char *q = pg_quote_ident(db, t->columns[rows->key_columns[k]].name);

		if (k)
			buf_addc(&keys, ',');
		buf_adds(&keys, q);
		free(q);
	}
	sql.len = 0;
	buf_adds(&sql, "INSERT INTO ");
	add_table_name(db, &sql, t);
	buf_adds(&sql, " (");
	buf_add(&sql, cols.data, cols.len);
	buf_adds(&sql, ") SELECT ");
	/* Several rows with one key: the last one wins, as row by row would. */
	if (rows->mode == DB_UPSERT) {
		buf_adds(&sql, "DISTINCT ON (");
		buf_add(&sql, keys.data, keys.len);
		buf_adds(&sql, ") ");
	}
	buf_add(&sql, cols.data, cols.len);
	buf_adds(&sql, " FROM etl_stage");
	if (rows->mode == DB_UPSERT) {
		buf_adds(&sql, " ORDER BY ");
		buf_add(&sql, keys.data, keys.len);
		buf_adds(&sql, ", ctid DESC ON CONFLICT (");
		buf_add(&sql, keys.data, keys.len);
		buf_adds(&sql, ") DO UPDATE SET ");
		for (int c = 0; c < t->ncolumns; c++) {
			char *q;

			if (db_rows_is_key(rows, c) || row[c].kind == CELL_ABSENT)
				continue;
			q = pg_quote_ident(db, t->columns[c].name);
			if (updates++)
				buf_addc(&sql, ',');
			buf_adds(&sql, q);
			buf_adds(&sql, "=EXCLUDED.");
			buf_adds(&sql, q);
			free(q);
		}
		if (updates == 0) {
			sql.len -= strlen(" DO UPDATE SET ");
			buf_adds(&sql, " DO NOTHING");
		}
	} else {
		buf_adds(&sql, " ON CONFLICT DO NOTHING");
	}
	s = exec(db, buf_cstr(&sql), err);
	err->row = -1;  /* the merge cannot say which row */
out:
	buf_free(&sql);
	buf_free(&cols);
	buf_free(&keys);
	return s;
}

static enum db_status
pg_load(struct db *db, const struct db_rows *rows, struct db_error *err)
{
	struct buf target = BUF_INIT;
	enum db_status s = DB_OK;

	add_table_name(db, &target, rows->table);
	for (size_t first = 0; first < rows->nrows && s == DB_OK;) {
		size_t end = db_rows_run_end(rows, first);

		s = rows->mode == DB_INSERT
		    ? copy_run(db, rows, first, end, buf_cstr(&target), err)
		    : merge_run(db, rows, first, end, err);
		first = end;
	}
	buf_free(&target);
	return s;
}

static enum db_status
pg_run(struct db *db, const char *sql, const json_t *params,
    struct db_error *err)
{
	size_t n = json_array_size(params);
	const char **values = calloc(n + 1, sizeof *values);
	char **owned = calloc(n + 1, sizeof *owned);
	PGresult *res;
	enum db_status s;
	ExecStatusType st;

	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(params, i);

		if (json_is_null(p))
			values[i] = NULL;
		else if (json_is_string(p))
			values[i] = json_string_value(p);
		else if (json_is_true(p) || json_is_false(p))
			values[i] = json_is_true(p) ? "true" : "false";
		else
			values[i] = owned[i] = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY |
			    JSON_REAL_PRECISION(17));
	}
	res = PQexecParams(db->conn, sql, (int)n, NULL, values, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	s = result_status(db, res, st == PGRES_TUPLES_OK ? PGRES_TUPLES_OK
	    : PGRES_COMMAND_OK, err);
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	free(values);
	/* A statement that fails (bad SQL, a missing table) is that record's
	 * fault, unless the connection is. */
	if (s != DB_OK && s != DB_TRANSIENT)
		s = err->status = DB_ROW_ERROR;
	return s;
}

static enum db_status
pg_checkpoint_get(struct db *db, const char *job, long long *position,
    struct db_error *err)
{
	const char *params[1] = { job };
	PGresult *res = PQexecParams(db->conn, "SELECT position FROM etl_checkpoints"
	    " WHERE job = $1", 1, NULL, params, NULL, NULL, 0);

	*position = 0;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		return result_status(db, res, PGRES_TUPLES_OK, err);
	if (PQntuples(res) > 0)
		*position = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return DB_OK;
}

static enum db_status
pg_checkpoint_put(struct db *db, const char *job, long long position,
    struct db_error *err)
{
	char pos[32];
	const char *params[2] = { job, pos };
	enum db_status s;

	snprintf(pos, sizeof pos, "%lld", position);
	s = result_status(db, PQexecParams(db->conn, "INSERT INTO etl_checkpoints"
	    " (job, position, updated_at) VALUES ($1, $2, now()) ON CONFLICT (job)"
	    " DO UPDATE SET position = EXCLUDED.position,"
	    " updated_at = EXCLUDED.updated_at", 2, NULL, params, NULL, NULL, 0),
	    PGRES_COMMAND_OK, err);
	return s == DB_ROW_ERROR ? (err->status = DB_FATAL) : s;
}

static const char *
pg_type_for(json_type t)
{
	switch (t) {
	case JSON_INTEGER: return "BIGINT";
	case JSON_REAL: return "DOUBLE PRECISION";
	case JSON_TRUE: case JSON_FALSE: return "BOOLEAN";
	case JSON_OBJECT: case JSON_ARRAY: return "JSONB";
	default: return "TEXT";
	}
}

const struct db_backend db_postgres = {
	.name = "postgresql",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.describe = pg_describe,
	.exec = pg_exec,
	.begin = pg_begin,
	.load = pg_load,
	.run = pg_run,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.checkpoint_get = pg_checkpoint_get,
	.checkpoint_put = pg_checkpoint_put,
	.quote_ident = pg_quote_ident,
	.type_for = pg_type_for,
};
