/* db.c - choosing a backend, and what all backends share (see db.h). */
#include "db.h"
#include "buf.h"
#include "jsonout.h"
#include "exitcode.h"
#include "msg.h"
#include "retry.h"

#include <stdlib.h>
#include <string.h>

const struct db_backend *
db_backend_for(const struct dburl *url)
{
	switch (url->scheme) {
	case DBURL_POSTGRES: return &db_postgres;
	case DBURL_MYSQL: return &db_mysql;
	case DBURL_SQLITE: return &db_sqlite;
	}
	return NULL;
}

void
db_table_free(struct db_table *t)
{
	for (int i = 0; i < t->ncolumns; i++) {
		free(t->columns[i].name);
		free(t->columns[i].type_name);
	}
	free(t->columns);
	free(t->schema);
	free(t->name);
	t->columns = NULL;
	t->schema = t->name = NULL;
	t->ncolumns = 0;
}

int
db_rows_same_columns(const struct db_rows *rows, size_t a, size_t b)
{
	int n = rows->table->ncolumns;
	const struct cell *ra = rows->cells + a * n, *rb = rows->cells + b * n;

	for (int c = 0; c < n; c++)
		if ((ra[c].kind == CELL_ABSENT) != (rb[c].kind == CELL_ABSENT))
			return 0;
	return 1;
}

size_t
db_rows_run_end(const struct db_rows *rows, size_t first)
{
	size_t end = first + 1;

	if (db_rows_ready(rows, first, rows->nrows))
		return rows->nrows;    /* prepare() found them one run */

	while (end < rows->nrows && db_rows_same_columns(rows, first, end))
		end++;
	return end;
}

const struct buf *
db_rows_ready(const struct db_rows *rows, size_t first, size_t end)
{
	return rows->prepared && rows->prepared->len && first == 0 &&
	    end == rows->nrows ? rows->prepared : NULL;
}

void
db_rows_sending(const struct db_rows *rows, size_t sent, int *told)
{
	if (!*told && rows->sent &&
	    (sent >= DB_SENT_EARLY || sent >= rows->prepared->len)) {
		rows->sent(rows->sent_arg);
		*told = 1;
	}
}

int
db_rows_is_key(const struct db_rows *rows, int c)
{
	for (int k = 0; k < rows->nkeys; k++)
		if (rows->key_columns[k] == c)
			return 1;
	return 0;
}

int
db_table_add_column(struct db_table *t, const char *name, const char *type_name,
    enum db_type type)
{
	struct db_column *cols = realloc(t->columns, (t->ncolumns + 1) * sizeof *cols);
	struct db_column *c;

	if (!cols)
		return -1;
	t->columns = cols;
	c = &cols[t->ncolumns];
	c->name = strdup(name);
	c->type_name = strdup(type_name);
	c->type = type;
	c->element_type = DB_TYPE_OTHER;
	c->has_default = 0;
	c->not_null = 0;
	if (!c->name || !c->type_name)
		return -1;
	t->ncolumns++;
	return 0;
}

void
db_add_escaped(struct buf *b, const char *p, size_t n, int nul_too)
{
	const char *end = p + n;

	buf_reserve(b, n + 16);
	while (p < end) {
		const char *run = p;

		while (p < end && *p != '\\' && *p != '\t' && *p != '\n' &&
		    *p != '\r' && (*p != '\0' || !nul_too))
			p++;
		buf_add(b, run, p - run);
		if (p == end)
			break;
		switch (*p++) {
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		default: buf_add(b, "\\0", 2); break;
		}
	}
}

/* ---- values as JSON (etl-extract-sql) --------------------------------- */

/* Is S[0..N) a JSON number (RFC 8259's grammar)? */
static int
is_json_number(const char *s, size_t n)
{
	size_t i = 0, digits;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		for (i++, digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (!digits)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (!digits)
			return 0;
	}
	return i == n;
}

/* A number's text as it came; null (1) when JSON cannot hold it: NaN,
 * Infinity. */
static int
add_number(struct buf *b, const char *s, size_t n)
{
	if (is_json_number(s, n)) {
		buf_add(b, s, n);
		return 0;
	}
	buf_adds(b, "null");
	return 1;
}

static void
add_boolean(struct buf *b, const char *s, size_t n)
{
	if (n == 1 && (s[0] == 't' || s[0] == '1'))
		buf_adds(b, "true");
	else if (n == 1 && (s[0] == 'f' || s[0] == '0'))
		buf_adds(b, "false");
	else if (is_json_number(s, n))   /* MariaDB's BOOLEAN is a TINYINT */
		buf_adds(b, n == 1 && s[0] == '0' ? "false" : "true");
	else
		jsonout_string_lossy(b, s, n);
}

/*
 * "2024-05-01 10:00:00.5+02" (PostgreSQL, MariaDB) as ISO 8601:
 * "2024-05-01T10:00:00.5+02:00".  WITH_ZONE: a value without an offset
 * is in UTC (MariaDB's TIMESTAMP, read with time_zone '+00:00').
 */
static void
add_timestamp(struct buf *b, const char *s, size_t n, int with_zone)
{
	char out[96];
	size_t len, zone;

	if (n >= sizeof out - 8 || n < 19 || (s[10] != ' ' && s[10] != 'T')) {
		jsonout_string_lossy(b, s, n);   /* infinity, BC: as the server says */
		return;
	}
	memcpy(out, s, n);
	out[10] = 'T';
	len = n;
	for (zone = 19; zone < len && out[zone] != '+' && out[zone] != '-'; zone++)
		;
	if (zone < len && len - zone == 3) {          /* +02 */
		memcpy(out + len, ":00", 3);
		len += 3;
	} else if (zone == len && with_zone) {
		memcpy(out + len, "+00:00", 6);
		len += 6;
	}
	jsonout_string(b, out, len);
}

/*
 * JSON text as that JSON value on one line: the text itself without the
 * blanks between tokens, so numbers keep their digits (1.50, integers
 * beyond 64 bits); text that is not JSON (SQLite checks nothing) is a
 * string.
 */
static void
add_json_text(struct buf *b, const char *s, size_t n)
{
	json_error_t e;
	json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	    JSON_DECODE_INT_AS_REAL, &e);
	int in_string = 0;

	if (!v) {
		jsonout_string_lossy(b, s, n);
		return;
	}
	json_decref(v);
	buf_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\' && i + 1 < n)
				b->data[b->len++] = s[i++];
			else if (s[i] == '"')
				in_string = 0;
		} else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			continue;
		} else if (s[i] == '"') {
			in_string = 1;
		}
		b->data[b->len++] = s[i];
	}
}

static void
add_hex(struct buf *b, const char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	buf_reserve(b, 2 * n + 6);
	buf_adds(b, "\"\\\\x");
	for (size_t i = 0; i < n; i++) {
		b->data[b->len++] = digits[(unsigned char)s[i] >> 4];
		b->data[b->len++] = digits[(unsigned char)s[i] & 15];
	}
	buf_addc(b, '"');
}

int
db_add_json_value(struct buf *b, enum db_type type, const struct db_field *f)
{
	if (f->null) {
		buf_adds(b, "null");
		return 0;
	}
	if (f->binary) {
		add_hex(b, f->data, f->len);
		return 0;
	}
	if ((type == DB_TYPE_DATE || type == DB_TYPE_TIMESTAMP ||
	    type == DB_TYPE_TIMESTAMPTZ) && f->len >= 10 &&
	    memcmp(f->data, "0000-00-00", 10) == 0) {
		buf_adds(b, "null");   /* MariaDB's zero date is no date */
		return 1;
	}
	switch (type) {
	case DB_TYPE_INTEGER:
	case DB_TYPE_REAL:
	case DB_TYPE_NUMERIC:
		return add_number(b, f->data, f->len);
	case DB_TYPE_BOOLEAN:
		add_boolean(b, f->data, f->len);
		break;
	case DB_TYPE_TIMESTAMP:
	case DB_TYPE_TIMESTAMPTZ:
		add_timestamp(b, f->data, f->len, type == DB_TYPE_TIMESTAMPTZ);
		break;
	case DB_TYPE_JSON:
		add_json_text(b, f->data, f->len);
		break;
	default:
		jsonout_string_lossy(b, f->data, f->len);
		break;
	}
	return 0;
}

void
db_back_off(struct retry *r, const char *where, const struct db_error *err,
    int exit_code)
{
	long delay = retry_failed(r, 0);

	if (delay < 0)
		msg_die(exit_code, where, "%s (gave up after %d attempts)",
		    err->message, r->attempt);
	msg_warn(where, "%s; retrying in %ld ms", err->message, delay);
	retry_sleep_ms(delay);
}

struct db *
db_connect_retrying(const struct db_backend *be, const struct dburl *u,
    struct retry *r, int exit_code)
{
	struct db_error err;
	struct db *h;

	for (;;) {
		memset(&err, 0, sizeof err);
		if ((h = be->connect(u, &err)))
			return h;
		if (err.status == DB_AUTH || err.status == DB_FATAL)
			msg_die(EXIT_UNAVAILABLE, u->redacted, "%s", err.message);
		db_back_off(r, u->redacted, &err, exit_code);
	}
}
