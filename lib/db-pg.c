/*
 * db-pg.c - the PostgreSQL backend (libpq).
 *
 * Rows travel by COPY … FROM STDIN inside the transaction, in binary
 * format when every column allows (no parsing on the server), else in
 * text format: no statement per row, and the server parses each value once.  Upserts and
 * ignore-duplicates COPY into a temporary table first, then INSERT … SELECT
 * … ON CONFLICT, keeping the last of several rows with the same key.
 * Errors are classified by SQLSTATE: data exceptions (22) and integrity
 * violations (23) are the rows' fault, and COPY's error context names the
 * line, so the loader can isolate the row at once.
 */
#include "db.h"
#include "buf.h"
#include "jsonout.h"
#include "msg.h"

#include <errno.h>
#include <float.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct db {
	PGconn *conn;
	int staged;              /* the staging table exists in this transaction */
	PGresult *batch;         /* reading: the rows of the last FETCH */
	int batch_row;           /* the next of them */
	int last_batch;          /* the FETCH gave fewer rows than asked */
};

/* Rows per FETCH from the server-side cursor: a few hundred kilobytes of
 * most tables, and a round trip per that many rows. */
#define FETCH_SQL "FETCH FORWARD 2000 FROM etl_extract"
enum { FETCH_ROWS = 2000 };

enum { COPY_CHUNK = 64 * 1024 };   /* sent as built: the server starts at once */

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

/*
 * A value COPY refused is reported without its column ("value too long
 * for type character varying(5)"); the error's context names it ("COPY t,
 * line 3, column name: …").  The message is prefixed with it, as the
 * loader's own conversion errors are: 'column "name": …'.
 */
static void
name_copy_column(const PGresult *res, struct db_error *err)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *col = ctx ? strstr(ctx, ", column ") : NULL;
	struct buf message = BUF_INIT;

	if (!col || strncmp(err->message, "column ", 7) == 0)
		return;
	col += 9;
	buf_adds(&message, "column \"");
	buf_add(&message, col, strcspn(col, ":\n"));
	buf_adds(&message, "\": ");
	buf_adds(&message, err->message);
	snprintf(err->message, sizeof err->message, "%s", buf_cstr(&message));
	buf_free(&message);
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
		if (s == DB_ROW_ERROR)
			name_copy_column(res, err);
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
	keys[n] = "application_name"; values[n++] = msg_program;
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
		PQclear(db->batch);
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
	    " a.atthasdef OR a.attidentity <> '', a.attnotnull,"
	    " t.typcategory = 'A', e.typname"
	    " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
	    " LEFT JOIN pg_type e ON e.oid = t.typelem"
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
		if (PQgetvalue(res, i, 5)[0] == 't') {  /* an array: int4[] is _int4 */
			out->columns[i].type = DB_TYPE_ARRAY;
			out->columns[i].element_type = type_of(PQgetvalue(res, i, 6));
		}
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

/* A cell in COPY's text format; FLOAT4: its column is a real. */
static void
add_copy_cell(struct buf *b, const struct cell *c, int float4)
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
		/* A number below a real's range is 0, as binary COPY sends it
		 * and as a double's underflow is: not an error one way only. */
		if (float4 && c->d != 0 && (float)c->d == 0) {
			buf_addc(b, '0');
			break;
		}
		db_add_escaped(b, c->text, c->len, 0);
		break;
	case CELL_TEXT:
	case CELL_JSON:
		db_add_escaped(b, c->text, c->len, 0);
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

/* ---- binary COPY ------------------------------------------------------ */

/*
 * Binary COPY spares the server parsing every value from text: integers,
 * floats, numerics, booleans, text and JSON travel in their wire forms,
 * and so do arrays of them.  A load takes it when every column it names
 * has one of these types and every value fits (integers in their column's
 * width, numerics within what the encoder below takes, arrays in the form
 * lib/cell.c writes them); anything else goes as text.
 */
enum bin_kind {
	BIN_NONE, BIN_INT2, BIN_INT4, BIN_INT8, BIN_FLOAT4, BIN_FLOAT8,
	BIN_NUMERIC, BIN_BOOL, BIN_TEXT, BIN_JSONB, BIN_ARRAY,
};

struct bin_type {
	enum bin_kind kind;
	enum bin_kind element;            /* BIN_ARRAY: its elements' */
	unsigned long element_oid;        /* BIN_ARRAY: the element type's oid */
};

/* The binary kind and type oid of a type by format_type's name:
 * "numeric(12,2)", "character varying(20)". */
static enum bin_kind
bin_kind_of(const char *t, size_t len, unsigned long *oid)
{
	static const struct {
		const char *name;
		enum bin_kind kind;
		unsigned long oid;            /* pg_type.h */
	} kinds[] = {
		{ "smallint", BIN_INT2, 21 }, { "integer", BIN_INT4, 23 },
		{ "bigint", BIN_INT8, 20 }, { "real", BIN_FLOAT4, 700 },
		{ "double precision", BIN_FLOAT8, 701 }, { "numeric", BIN_NUMERIC, 1700 },
		{ "boolean", BIN_BOOL, 16 }, { "text", BIN_TEXT, 25 },
		{ "character varying", BIN_TEXT, 1043 }, { "json", BIN_TEXT, 114 },
		{ "jsonb", BIN_JSONB, 3802 },
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].name);

		if (len >= n && strncmp(t, kinds[i].name, n) == 0 &&
		    (len == n || t[n] == '(')) {
			*oid = kinds[i].oid;
			return kinds[i].kind;
		}
	}
	return BIN_NONE;
}

static struct bin_type
bin_type(const struct db_column *col)
{
	struct bin_type b = { BIN_NONE, BIN_NONE, 0 };
	const char *t = col->type_name ? col->type_name : "";
	size_t len = strlen(t);

	if (col->type == DB_TYPE_ARRAY) {
		/* "integer[]": one pair of brackets, whatever the dimensions */
		if (len > 2 && strcmp(t + len - 2, "[]") == 0 &&
		    (b.element = bin_kind_of(t, len - 2, &b.element_oid)) != BIN_NONE)
			b.kind = BIN_ARRAY;
		return b;
	}
	b.kind = bin_kind_of(t, len, &b.element_oid);
	return b;
}

static void
add_u16(struct buf *b, unsigned v)
{
	char be[2] = { (char)(v >> 8), (char)v };

	buf_add(b, be, 2);
}

static void
add_u32(struct buf *b, unsigned long v)
{
	char be[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v };

	buf_add(b, be, 4);
}

static void
add_u64(struct buf *b, unsigned long long v)
{
	add_u32(b, (unsigned long)(v >> 32));
	add_u32(b, (unsigned long)(v & 0xffffffffUL));
}

enum { NUMERIC_DIGITS_MAX = 1000, NUMERIC_SCALE_MAX = 1000 };

/*
 * The decimal number S[0..N) ([+-]digits[.digits][(e|E)[+-]digits], as
 * cell.c lets through) as a numeric field: its length, then ndigits,
 * weight, sign and display scale, then base-10000 digits, the first one
 * holding the units when the weight is 0.  Returns -1 (nothing appended)
 * for anything else or anything larger than NUMERIC_*_MAX: text COPY then
 * takes the value and the server says what it thinks of it.
 */
static int
add_numeric(struct buf *b, const char *s, size_t n)
{
	char d[NUMERIC_DIGITS_MAX + 8];
	size_t i = 0, nd = 0, lead;
	long point = 0, frac = 0, exp = 0, scale;
	int neg = 0, expneg = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, point++) {
		if (nd == NUMERIC_DIGITS_MAX)
			return -1;
		d[nd++] = s[i];
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac++) {
			if (nd == NUMERIC_DIGITS_MAX)
				return -1;
			d[nd++] = s[i];
		}
	}
	if (nd == 0)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '-' || s[i] == '+'))
			expneg = s[i++] == '-';
		if (i == n)
			return -1;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if ((exp = exp * 10 + (s[i] - '0')) > 4 * NUMERIC_DIGITS_MAX)
				return -1;
		if (expneg)
			exp = -exp;
	}
	if (i != n)
		return -1;
	scale = frac - exp > 0 ? frac - exp : 0;
	point += exp;                      /* digits before the decimal point */
	for (lead = 0; lead < nd && d[lead] == '0'; lead++)
		point--;
	while (nd > lead && d[nd - 1] == '0')
		nd--;
	if (scale > NUMERIC_SCALE_MAX || point > 4 * NUMERIC_DIGITS_MAX ||
	    point < -4 * NUMERIC_DIGITS_MAX)
		return -1;
	if (nd == lead) {                  /* zero, with its scale */
		add_u32(b, 8);
		add_u16(b, 0);
		add_u16(b, 0);
		add_u16(b, 0);
		add_u16(b, (unsigned)scale);
		return 0;
	}
	{
		/* Zeros in front so that the point falls between groups of 4. */
		long pad = (4 - ((point % 4) + 4) % 4) % 4;
		size_t count = (size_t)pad + (nd - lead), groups = (count + 3) / 4;

		add_u32(b, 8 + 2 * (unsigned long)groups);
		add_u16(b, (unsigned)groups);
		add_u16(b, (unsigned)((point + pad) / 4 - 1) & 0xffff);
		add_u16(b, neg ? 0x4000 : 0);
		add_u16(b, (unsigned)scale);
		for (size_t g = 0; g < groups; g++) {
			unsigned v = 0;

			for (size_t k = g * 4; k < g * 4 + 4; k++) {
				size_t at = k - (size_t)pad + lead;   /* index into d */

				v = v * 10 + (k >= (size_t)pad && at < nd ? (unsigned)(d[at] - '0') : 0);
			}
			add_u16(b, v);
		}
	}
	return 0;
}

/*
 * Arrays: lib/cell.c writes a literal, {{1,2},{3,NULL}} or {"a","b c"};
 * read back here into array_recv's form: the number of dimensions, a
 * has-nulls flag, the element type's oid, each dimension's length and
 * lower bound (1), then the elements as fields of their own type.  What
 * this reader does not take exactly (a user's own literal with blanks,
 * a value an element encoder refuses) goes by text COPY, where the
 * server's parser has the last word.
 */
enum { ARRAY_DIMS_MAX = 6 };

struct array_reader {
	const char *s;
	size_t n, i;
	enum bin_kind element;
	int ndims;                        /* -1 until the first element */
	int nested;                       /* an inner { was seen */
	long lengths[ARRAY_DIMS_MAX];
	int has_null;
	struct buf *out;                  /* the encoded elements */
	struct buf text;                  /* one element, unescaped */
};

/* The element in R->text as a field of kind R->element: 0 or -1. */
static int
add_array_element(struct array_reader *r)
{
	const char *t = buf_cstr(&r->text), *p;
	size_t n = r->text.len;
	union { double d; unsigned long long u; } d8;
	union { float f; unsigned long u; } f4;
	long long v;
	char *end;

	switch (r->element) {
	case BIN_INT2:
	case BIN_INT4:
	case BIN_INT8:
		if (n == 0 || n > 20 || !(t[0] == '-' || (t[0] >= '0' && t[0] <= '9')))
			return -1;
		errno = 0;
		v = strtoll(t, &end, 10);
		if (errno || *end || (r->element == BIN_INT2 && (v < -32768 || v > 32767)) ||
		    (r->element == BIN_INT4 && (v < INT32_MIN || v > INT32_MAX)))
			return -1;
		if (r->element == BIN_INT2) {
			add_u32(r->out, 2);
			add_u16(r->out, (unsigned)v & 0xffff);
		} else if (r->element == BIN_INT4) {
			add_u32(r->out, 4);
			add_u32(r->out, (unsigned long)v & 0xffffffffUL);
		} else {
			add_u32(r->out, 8);
			add_u64(r->out, (unsigned long long)v);
		}
		return 0;
	case BIN_FLOAT4:
	case BIN_FLOAT8:
		/* JSON's number syntax only: strtod also reads hex and "nan" */
		for (p = t; *p; p++)
			if (!strchr("0123456789+-.eE", *p))
				return -1;
		errno = 0;
		d8.d = strtod(t, &end);
		if (n == 0 || *end || !isfinite(d8.d) ||
		    (r->element == BIN_FLOAT4 && fabs(d8.d) > FLT_MAX))
			return -1;
		if (r->element == BIN_FLOAT4) {
			f4.u = 0;
			f4.f = (float)d8.d;
			add_u32(r->out, 4);
			add_u32(r->out, f4.u & 0xffffffffUL);
		} else {
			add_u32(r->out, 8);
			add_u64(r->out, d8.u);
		}
		return 0;
	case BIN_NUMERIC:
		return add_numeric(r->out, t, n);
	case BIN_BOOL:
		if (strcmp(t, "t") != 0 && strcmp(t, "f") != 0)
			return -1;
		add_u32(r->out, 1);
		buf_addc(r->out, t[0] == 't');
		return 0;
	case BIN_JSONB:
		add_u32(r->out, (unsigned long)n + 1);
		buf_addc(r->out, 1);
		buf_add(r->out, t, n);
		return 0;
	default:
		add_u32(r->out, (unsigned long)n);
		buf_add(r->out, t, n);
		return 0;
	}
}

/* One element at R->i: "quoted", NULL or a bare word. */
static int
read_array_element(struct array_reader *r)
{
	size_t start = r->i;

	r->text.len = 0;
	if (r->s[r->i] == '"') {
		for (r->i++; r->i < r->n && r->s[r->i] != '"'; r->i++) {
			if (r->s[r->i] == '\\' && ++r->i == r->n)
				return -1;
			buf_addc(&r->text, r->s[r->i]);
		}
		if (r->i++ == r->n)
			return -1;
		return add_array_element(r);
	}
	while (r->i < r->n && r->s[r->i] != ',' && r->s[r->i] != '}') {
		if (strchr("{\"\\ \t\n\r\v\f", r->s[r->i]))
			return -1;
		r->i++;
	}
	if (r->i - start == 4 && strncasecmp(r->s + start, "NULL", 4) == 0) {
		r->has_null = 1;
		add_u32(r->out, 0xffffffffUL);
		return 0;
	}
	buf_add(&r->text, r->s + start, r->i - start);
	return r->i > start ? add_array_element(r) : -1;
}

/* The braces at R->i, at DEPTH. */
static int
read_array_level(struct array_reader *r, int depth)
{
	long count = 0;

	if (depth >= ARRAY_DIMS_MAX || r->i >= r->n || r->s[r->i++] != '{')
		return -1;
	if (r->i < r->n && r->s[r->i] == '}') {
		r->i++;
		return depth == 0 ? 0 : -1;   /* {{}} is no array */
	}
	for (;;) {
		if (r->i < r->n && r->s[r->i] == '{') {
			r->nested = 1;
			if ((r->ndims >= 0 && depth + 1 >= r->ndims) ||
			    read_array_level(r, depth + 1) != 0)
				return -1;
		} else {
			if (r->ndims < 0)
				r->ndims = depth + 1;
			if (r->ndims != depth + 1 || read_array_element(r) != 0)
				return -1;
		}
		count++;
		if (r->i < r->n && r->s[r->i] == ',')
			r->i++;
		else
			break;
	}
	if (r->i >= r->n || r->s[r->i++] != '}')
		return -1;
	if (r->lengths[depth] < 0)
		r->lengths[depth] = count;
	return r->lengths[depth] == count ? 0 : -1;
}

/* The array literal S[0..N) as a binary field into B: 0, or -1 with B as
 * it was. */
static int
add_array(struct buf *b, const struct bin_type *type, const char *s, size_t n)
{
	struct buf elements = BUF_INIT;
	struct array_reader r = { .s = s, .n = n, .element = type->element,
	    .ndims = -1, .out = &elements, .text = BUF_INIT };
	int rc;

	for (int d = 0; d < ARRAY_DIMS_MAX; d++)
		r.lengths[d] = -1;
	rc = read_array_level(&r, 0) == 0 && r.i == n ? 0 : -1;
	if (rc == 0) {
		int ndims = r.ndims < 0 ? 0 : r.ndims;

		add_u32(b, 12 + 8 * (unsigned long)ndims + elements.len);
		add_u32(b, (unsigned long)ndims);
		add_u32(b, (unsigned long)r.has_null);
		add_u32(b, type->element_oid);
		for (int d = 0; d < ndims; d++) {
			add_u32(b, (unsigned long)r.lengths[d]);
			add_u32(b, 1);                 /* lower bound */
		}
		buf_add(b, elements.data, elements.len);
	}
	buf_free(&elements);
	buf_free(&r.text);
	return rc;
}

/* Does the value of CELL, not null, fit a column of TYPE in binary COPY? */
static int
binary_value_fits(const struct bin_type *type, const struct cell *cell,
    struct buf *scratch)
{
	switch (type->kind) {
	case BIN_ARRAY:
		scratch->len = 0;
		return add_array(scratch, type, cell->text, cell->len) == 0;
	case BIN_INT2:
		return cell->i >= -32768 && cell->i <= 32767;
	case BIN_INT4:
		return cell->i >= INT32_MIN && cell->i <= INT32_MAX;
	case BIN_FLOAT4:
		return fabs(cell->d) <= FLT_MAX;
	case BIN_NUMERIC:
		scratch->len = 0;
		return add_numeric(scratch, cell->text, cell->len) == 0;
	default:
		return 1;
	}
}

/* Can rows [first, end) go by binary COPY, with TYPES for the columns? */
static int
binary_fits(const struct db_rows *rows, size_t first, size_t end,
    const struct bin_type *types)
{
	const struct db_table *t = rows->table;
	struct buf scratch = BUF_INIT;
	int fits = 1;

	for (int c = 0; c < t->ncolumns; c++)
		if (rows->cells[first * t->ncolumns + c].kind != CELL_ABSENT &&
		    types[c].kind == BIN_NONE)
			return 0;
	for (size_t r = first; r < end && fits; r++) {
		const struct cell *row = rows->cells + r * t->ncolumns;

		for (int c = 0; c < t->ncolumns && fits; c++)
			if (row[c].kind != CELL_NULL && row[c].kind != CELL_ABSENT)
				fits = binary_value_fits(&types[c], &row[c], &scratch);
	}
	buf_free(&scratch);
	return fits;
}

static void
add_binary_cell(struct buf *b, const struct bin_type *type, const struct cell *c)
{
	union { double d; unsigned long long u; } d8;
	union { float f; unsigned long u; } f4;

	if (c->kind == CELL_NULL) {
		add_u32(b, 0xffffffffUL);      /* -1: NULL */
		return;
	}
	switch (type->kind) {
	case BIN_ARRAY:
		add_array(b, type, c->text, c->len);  /* binary_fits checked it */
		break;
	case BIN_INT2:
		add_u32(b, 2);
		add_u16(b, (unsigned)c->i & 0xffff);
		break;
	case BIN_INT4:
		add_u32(b, 4);
		add_u32(b, (unsigned long)c->i & 0xffffffffUL);
		break;
	case BIN_INT8:
		add_u32(b, 8);
		add_u64(b, (unsigned long long)c->i);
		break;
	case BIN_FLOAT4:
		f4.u = 0;
		f4.f = (float)c->d;
		add_u32(b, 4);
		add_u32(b, f4.u & 0xffffffffUL);
		break;
	case BIN_FLOAT8:
		d8.d = c->d;
		add_u32(b, 8);
		add_u64(b, d8.u);
		break;
	case BIN_NUMERIC:
		add_numeric(b, c->text, c->len);  /* binary_fits checked it */
		break;
	case BIN_BOOL:
		add_u32(b, 1);
		buf_addc(b, c->i ? 1 : 0);
		break;
	case BIN_JSONB:
		add_u32(b, (unsigned long)c->len + 1);
		buf_addc(b, 1);                /* jsonb's binary format version */
		buf_add(b, c->text, c->len);
		break;
	default:
		add_u32(b, (unsigned long)c->len);
		buf_add(b, c->text, c->len);
		break;
	}
}

/* One row of binary COPY: its field count, then the present cells. */
static void
add_binary_row(struct buf *b, const struct db_table *t, const struct cell *row,
    const struct bin_type *types)
{
	int n = 0;

	for (int c = 0; c < t->ncolumns; c++)
		n += row[c].kind != CELL_ABSENT;
	add_u16(b, (unsigned)n);
	for (int c = 0; c < t->ncolumns; c++)
		if (row[c].kind != CELL_ABSENT)
			add_binary_cell(b, &types[c], &row[c]);
}

static void
add_text_row(struct buf *b, const struct db_table *t, const struct cell *row,
    const struct bin_type *types)
{
	int n = 0;

	for (int c = 0; c < t->ncolumns; c++) {
		if (row[c].kind == CELL_ABSENT)
			continue;
		if (n++)
			buf_addc(b, '\t');
		add_copy_cell(b, &row[c], types[c].kind == BIN_FLOAT4);
	}
	buf_addc(b, '\n');
}

/*
 * PostgreSQL's text cannot hold U+0000.  In text COPY a NUL byte fails the
 * whole line before the server splits it into columns, with no column in
 * the error; found here first, it is the row's error naming the column,
 * in the server's own words (binary COPY gets them from the server).
 */
static enum db_status
check_no_nul(const struct db_table *t, const struct cell *row, size_t r,
    struct db_error *err)
{
	for (int c = 0; c < t->ncolumns; c++)
		if ((row[c].kind == CELL_TEXT || row[c].kind == CELL_JSON) &&
		    memchr(row[c].text, '\0', row[c].len)) {
			snprintf(err->message, sizeof err->message, "column \"%s\": invalid"
			    " byte sequence for encoding \"UTF8\": 0x00", t->columns[c].name);
			err->row = (long)r;
			return err->status = DB_ROW_ERROR;
		}
	return DB_OK;
}

static struct bin_type *
bin_types(const struct db_table *t)
{
	struct bin_type *types = calloc(t->ncolumns + 1, sizeof *types);

	if (types)
		for (int c = 0; c < t->ncolumns; c++)
			types[c] = bin_type(&t->columns[c]);
	return types;
}

/* Binary COPY's data for rows [first, end), into DATA; sent to the server
 * as it grows when SEND, else built whole (for pg_prepare). */
static enum db_status
add_binary_rows(struct db *db, struct buf *data, const struct db_rows *rows,
    size_t first, size_t end, const struct bin_type *types, struct db_error *err)
{
	const struct db_table *t = rows->table;
	enum db_status s = DB_OK;

	buf_add(data, "PGCOPY\n\377\r\n\0", 11);  /* signature, */
	add_u32(data, 0);                               /* flags, */
	add_u32(data, 0);                               /* no extension */
	for (size_t r = first; r < end && s == DB_OK; r++) {
		add_binary_row(data, t, rows->cells + r * t->ncolumns, types);
		if (db && data->len >= COPY_CHUNK)
			s = send_copy(db, data, err);
		else if (!db && data->len > DB_PREPARED_MAX)
			return DB_FATAL;
	}
	add_u16(data, 0xffff);                          /* -1: the end */
	return s;
}

/* db_backend.prepare: binary COPY's data for all ROWS, built ahead. */
static void
pg_prepare(const struct db_rows *rows, struct buf *out)
{
	struct bin_type *types;

	out->len = 0;
	if (rows->mode != DB_INSERT || rows->nrows == 0 ||
	    db_rows_run_end(rows, 0) != rows->nrows || !(types = bin_types(rows->table)))
		return;
	if (!binary_fits(rows, 0, rows->nrows, types) ||
	    add_binary_rows(NULL, out, rows, 0, rows->nrows, types, NULL) != DB_OK)
		buf_free(out);                 /* none: load() builds as it sends */
	free(types);
}

/* Send what pg_prepare built, a COPY_CHUNK at a time, and say so (db_rows.sent). */
static enum db_status
send_prepared(struct db *db, const struct db_rows *rows, struct db_error *err)
{
	const struct buf *data = rows->prepared;
	int told = 0;

	for (size_t at = 0; at < data->len; at += COPY_CHUNK) {
		size_t n = data->len - at < COPY_CHUNK ? data->len - at : COPY_CHUNK;

		if (PQputCopyData(db->conn, data->data + at, (int)n) != 1) {
			set_message(err, PQerrorMessage(db->conn));
			return err->status = DB_TRANSIENT;
		}
		db_rows_sending(rows, at + n, &told);
	}
	return DB_OK;
}

/* COPY rows [first, end) into TARGET (the table or the staging table). */
static enum db_status
copy_run(struct db *db, const struct db_rows *rows, size_t first, size_t end,
    const char *target, struct db_error *err)
{
	const struct db_table *t = rows->table;
	const struct buf *ready = db_rows_ready(rows, first, end);
	struct buf sql = BUF_INIT, data = BUF_INIT;
	struct bin_type *types = bin_types(t);
	int binary;
	PGresult *res;
	enum db_status s;

	if (!types) {
		snprintf(err->message, sizeof err->message, "out of memory");
		return err->status = DB_FATAL;
	}
	binary = ready || binary_fits(rows, first, end, types);
	buf_adds(&sql, "COPY ");
	buf_adds(&sql, target);
	buf_adds(&sql, " (");
	add_column_list(db, &sql, t, rows->cells + first * t->ncolumns);
	buf_adds(&sql, binary ? ") FROM STDIN (FORMAT binary)" : ") FROM STDIN");
	res = PQexec(db->conn, buf_cstr(&sql));
	buf_free(&sql);
	if ((s = result_status(db, res, PGRES_COPY_IN, err)) != DB_OK) {
		free(types);
		return s;
	}
	if (ready)
		s = send_prepared(db, rows, err);
	else if (binary)
		s = add_binary_rows(db, &data, rows, first, end, types, err);
	else
		for (size_t r = first; r < end && s == DB_OK; r++) {
			const struct cell *row = rows->cells + r * t->ncolumns;

			if ((s = check_no_nul(t, row, r, err)) == DB_OK)
				add_text_row(&data, t, row, types);
			if (data.len >= COPY_CHUNK)
				s = send_copy(db, &data, err);
		}
	if (s == DB_OK && data.len)
		s = send_copy(db, &data, err);
	buf_free(&data);
	free(types);
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

static enum db_status
pg_bookmark_get(struct db *db, const char *job, char **bookmark,
    struct db_error *err)
{
	const char *params[1] = { job };
	PGresult *res = PQexecParams(db->conn, "SELECT bookmark FROM etl_checkpoints"
	    " WHERE job = $1", 1, NULL, params, NULL, NULL, 0);

	*bookmark = NULL;
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		return result_status(db, res, PGRES_TUPLES_OK, err);
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*bookmark = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return DB_OK;
}

static enum db_status
pg_bookmark_put(struct db *db, const char *job, long long position,
    const char *bookmark, struct db_error *err)
{
	char pos[32];
	const char *params[3] = { job, pos, bookmark };
	enum db_status s;

	snprintf(pos, sizeof pos, "%lld", position);
	s = result_status(db, PQexecParams(db->conn, "INSERT INTO etl_checkpoints"
	    " (job, position, updated_at, bookmark) VALUES ($1, $2, now(), $3)"
	    " ON CONFLICT (job) DO UPDATE SET position = EXCLUDED.position,"
	    " updated_at = EXCLUDED.updated_at,"
	    " bookmark = coalesce(EXCLUDED.bookmark, etl_checkpoints.bookmark)",
	    3, NULL, params, NULL, NULL, 0), PGRES_COMMAND_OK, err);
	return s == DB_ROW_ERROR ? (err->status = DB_FATAL) : s;
}

/* ---- reading ---------------------------------------------------------- */

/* One snapshot, and the server's output forms the values are made from:
 * ISO dates, ISO 8601 intervals, floats in their shortest exact form,
 * bytea in hex. */
static enum db_status
pg_begin_snapshot(struct db *db, struct db_error *err)
{
	enum db_status s = exec(db, "SET DateStyle = ISO; SET IntervalStyle = iso_8601;"
	    " SET extra_float_digits = 3; SET bytea_output = hex", err);

	if (s == DB_OK)
		s = exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
	return s;
}

static enum db_status
fetch(struct db *db, struct db_error *err)
{
	PQclear(db->batch);
	db->batch = PQexec(db->conn, FETCH_SQL);
	db->batch_row = 0;
	if (!db->batch || PQresultStatus(db->batch) != PGRES_TUPLES_OK) {
		enum db_status s = result_status(db, db->batch, PGRES_TUPLES_OK, err);

		db->batch = NULL;
		return s == DB_ROW_ERROR ? (err->status = DB_FATAL) : s;
	}
	db->last_batch = PQntuples(db->batch) < FETCH_ROWS;
	return DB_OK;
}

/* The type of result column C, from the catalogue. */
static enum db_status
describe_result_column(struct db *db, int c, struct db_table *out,
    struct db_error *err)
{
	char oid[32];
	const char *params[1] = { oid };
	PGresult *res;
	struct db_column *col;

	snprintf(oid, sizeof oid, "%u", (unsigned)PQftype(db->batch, c));
	res = PQexecParams(db->conn, "SELECT t.typname, format_type(t.oid, NULL),"
	    " t.typcategory = 'A', e.typname FROM pg_type t"
	    " LEFT JOIN pg_type e ON e.oid = t.typelem WHERE t.oid = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
		return result_status(db, res, PGRES_TUPLES_OK, err);
	if (db_table_add_column(out, PQfname(db->batch, c),
	    PQntuples(res) ? PQgetvalue(res, 0, 1) : "unknown",
	    PQntuples(res) ? type_of(PQgetvalue(res, 0, 0)) : DB_TYPE_OTHER) != 0) {
		PQclear(res);
		err->status = DB_FATAL;
		set_message(err, "out of memory");
		return DB_FATAL;
	}
	col = &out->columns[out->ncolumns - 1];
	if (PQntuples(res) && PQgetvalue(res, 0, 2)[0] == 't') {
		col->type = DB_TYPE_ARRAY;
		col->element_type = type_of(PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	return DB_OK;
}

/* The query as a server-side cursor, read FETCH_ROWS rows at a time. */
static enum db_status
pg_query(struct db *db, const char *sql, struct db_table *columns,
    struct db_error *err)
{
	struct buf declare = BUF_INIT;
	enum db_status s;

	memset(columns, 0, sizeof *columns);
	buf_adds(&declare, "DECLARE etl_extract NO SCROLL CURSOR FOR ");
	buf_adds(&declare, sql);
	s = exec(db, buf_cstr(&declare), err);
	buf_free(&declare);
	if (s == DB_NO_TABLE || s == DB_ROW_ERROR)
		s = err->status = DB_FATAL;   /* the query's fault: exit 65 */
	if (s == DB_OK)
		s = fetch(db, err);
	for (int c = 0; s == DB_OK && c < PQnfields(db->batch); c++)
		s = describe_result_column(db, c, columns, err);
	return s;
}

static int
pg_next_row(struct db *db, struct db_field *fields, struct db_error *err)
{
	if (!db->batch)
		return 0;
	if (db->batch_row >= PQntuples(db->batch)) {
		if (db->last_batch)
			return 0;
		if (fetch(db, err) != DB_OK)
			return -1;
		if (PQntuples(db->batch) == 0)
			return 0;
	}
	for (int c = 0; c < PQnfields(db->batch); c++) {
		memset(&fields[c], 0, sizeof fields[c]);
		fields[c].null = PQgetisnull(db->batch, db->batch_row, c);
		fields[c].data = PQgetvalue(db->batch, db->batch_row, c);
		fields[c].len = (size_t)PQgetlength(db->batch, db->batch_row, c);
	}
	db->batch_row++;
	return 1;
}

/*
 * An array's text ({1,2,NULL}, {{"a b","c\\"d"}}) as a JSON array, its
 * elements made like values of ELEMENT.  Returns the text after it.
 */
static const char *
add_array_text(struct buf *b, enum db_type element, const char *s,
    const char *end, struct buf *scratch, int *nulled)
{
	buf_addc(b, '[');
	s++;   /* '{' */
	for (int n = 0; s < end && *s != '}'; n++) {
		struct db_field f = { 0 };

		if (n)
			buf_addc(b, ',');
		if (*s == '{') {
			s = add_array_text(b, element, s, end, scratch, nulled);
		} else if (*s == '"') {
			scratch->len = 0;
			for (s++; s < end && *s != '"'; s++) {
				if (*s == '\\' && s + 1 < end)
					s++;
				buf_addc(scratch, *s);
			}
			s++;
			f.data = scratch->data ? scratch->data : "";
			f.len = scratch->len;
			*nulled += db_add_json_value(b, element, &f);
		} else {
			const char *start = s;

			while (s < end && *s != ',' && *s != '}')
				s++;
			f.data = start;
			f.len = (size_t)(s - start);
			f.null = f.len == 4 && strncasecmp(start, "NULL", 4) == 0;
			*nulled += db_add_json_value(b, element, &f);
		}
		if (s < end && *s == ',')
			s++;
	}
	buf_addc(b, ']');
	return s < end ? s + 1 : end;
}

static int
pg_add_value(struct buf *b, const struct db_column *col, const struct db_field *f)
{
	static struct buf scratch;   /* one reading thread */
	const char *s = f->data, *end = f->data + f->len;
	int nulled = 0;

	if (col->type != DB_TYPE_ARRAY || f->null)
		return db_add_json_value(b, col->type, f);
	if (s < end && *s == '[')   /* [0:1]={…}: bounds other than 1 */
		while (s < end && *s++ != '=')
			;
	if (s >= end || *s != '{')
		return db_add_json_value(b, DB_TYPE_TEXT, f);
	add_array_text(b, col->element_type, s, end, &scratch, &nulled);
	return nulled;
}

static void
pg_query_end(struct db *db)
{
	struct db_error err;

	PQclear(db->batch);
	db->batch = NULL;
	exec(db, "ROLLBACK", &err);  /* read only: nothing to keep */
}

static char *
pg_quote_literal(struct db *db, const char *s, size_t len)
{
	char *q = PQescapeLiteral(db->conn, s, len);
	char *copy = q ? strdup(q) : NULL;

	PQfreemem(q);
	return copy;
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
	.prepare = pg_prepare,
	.run = pg_run,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.checkpoint_get = pg_checkpoint_get,
	.checkpoint_put = pg_checkpoint_put,
	.bookmark_get = pg_bookmark_get,
	.bookmark_put = pg_bookmark_put,
	.begin_snapshot = pg_begin_snapshot,
	.query = pg_query,
	.next_row = pg_next_row,
	.add_value = pg_add_value,
	.query_end = pg_query_end,
	.quote_ident = pg_quote_ident,
	.quote_literal = pg_quote_literal,
	.type_for = pg_type_for,
};
