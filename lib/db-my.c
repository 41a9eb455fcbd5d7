/*
 * db-my.c - the MariaDB / MySQL / TiDB backend (MariaDB Connector/C).
 *
 * Inserts go through LOAD DATA LOCAL INFILE, fed from memory by the
 * connector's local-infile callbacks: the server's bulk path, with no file
 * on disk.  Upserts and ignore-duplicates use multi-row INSERT … ON
 * DUPLICATE KEY UPDATE, and so does a server that refuses LOCAL INFILE
 * (or a URL with ?etl-load=insert).
 *
 * LOCAL implies IGNORE on the server: a bad value or a duplicate key in a
 * LOAD DATA becomes a warning, not an error, even in strict mode.  So a
 * load that leaves warnings is treated as refused, rolled back, and the
 * first warning (which names the row) becomes the row error.
 *
 * The connector has no function to quote identifiers: they are quoted with
 * backticks, doubling any backtick inside, as the server's grammar says.
 * Values only ever travel escaped by mysql_real_escape_string, inside the
 * LOAD DATA stream with its own escapes, or as prepared-statement binds.
 */
#include "db.h"
#include "buf.h"
#include "cell.h"
#include "jsonout.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct db {
	MYSQL *m;
	int use_insert;          /* LOCAL INFILE refused or not wanted */
	size_t max_packet;       /* the server's max_allowed_packet */
	struct {                 /* what our LOAD DATA sends: formatted as the
	                            connector asks, so the server starts at once */
		const struct db_rows *rows;   /* NULL: no LOAD DATA of ours */
		const struct buf *ready;      /* my_prepare's text of them, or NULL */
		size_t next, end;             /* the next row (byte of READY) to
		                                 hand out, the end */
		int told;                     /* rows->sent was called */
		struct buf text;              /* formatted, not yet handed out */
		size_t off;
	} infile;
	MYSQL_RES *read;         /* reading: the unbuffered result */
};

enum { INSERT_CHUNK = 1 << 20, PACKET_SLACK = 1024 /* the packet's header */ };

/* ---- errors ------------------------------------------------------------ */

static enum db_status
classify(unsigned int code)
{
	switch (code) {
	case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST: case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR: case ER_CON_COUNT_ERROR: case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT: case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN: case ER_QUERY_INTERRUPTED:
	case 9007:  /* TiDB: write conflict */
	case 8022: case 8028:  /* TiDB: transaction retryable */
	case 4031:  /* disconnected for inactivity */
	case 1047:  /* Galera: WSREP has not yet prepared node for application use */
	case ER_ERROR_DURING_COMMIT:  /* Galera: the node left the primary
	                               * component while committing; rolled back */
		return DB_TRANSIENT;
	case ER_DUP_ENTRY: case ER_BAD_NULL_ERROR: case ER_WARN_DATA_OUT_OF_RANGE:
	case WARN_DATA_TRUNCATED: case ER_TRUNCATED_WRONG_VALUE:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: case ER_DATA_TOO_LONG:
	case ER_ROW_IS_REFERENCED_2: case ER_NO_REFERENCED_ROW_2:
	case ER_NO_DEFAULT_FOR_FIELD: case ER_DIVISION_BY_ZERO:
	case 4025:  /* CONSTRAINT_FAILED: json_valid and other checks */
	case 3140:  /* MySQL: invalid JSON text */
	case ER_WRONG_VALUE_COUNT_ON_ROW: case ER_WARN_NULL_TO_NOTNULL:
	case ER_WARN_TOO_FEW_RECORDS: case ER_WARN_TOO_MANY_RECORDS:
	case ER_INVALID_CHARACTER_STRING: case ER_CANNOT_CONVERT_CHARACTER:
		return DB_ROW_ERROR;
	case ER_NO_SUCH_TABLE:
		return DB_NO_TABLE;
	case ER_ACCESS_DENIED_ERROR: case ER_DBACCESS_DENIED_ERROR:
	case ER_BAD_DB_ERROR: case 1698: /* access denied, no password */
		return DB_AUTH;
	}
	return DB_FATAL;
}

/* The 0-based row of "… at row N" in a message, or -1. */
static long
row_in_message(const char *msg)
{
	const char *at = strstr(msg, " at row ");

	return at ? strtol(at + 8, NULL, 10) - 1 : -1;
}

static enum db_status
fail(struct db *db, struct db_error *err)
{
	unsigned int code = mysql_errno(db->m);

	snprintf(err->message, sizeof err->message, "%s", mysql_error(db->m));
	err->status = classify(code);
	err->row = err->status == DB_ROW_ERROR ? row_in_message(err->message) : -1;
	return err->status;
}

static enum db_status
query(struct db *db, const char *sql, size_t len, struct db_error *err)
{
	if (mysql_real_query(db->m, sql, len) != 0)
		return fail(db, err);
	return DB_OK;
}

static enum db_status
query_str(struct db *db, const char *sql, struct db_error *err)
{
	return query(db, sql, strlen(sql), err);
}

/* ---- connecting -------------------------------------------------------- */

/* The connector asks for a local file's contents; only our own LOAD DATA
 * (infile_run) gets any, from memory.  Any other request, from an --init
 * file or a hostile server, is refused: we never read local files. */
static int
infile_init(void **ptr, const char *filename, void *userdata)
{
	struct db *db = userdata;

	(void)filename;
	*ptr = db;
	if (!db->infile.rows)
		return 1;
	db->infile.text.len = db->infile.off = 0;
	return 0;
}

static void add_row(struct db *db, struct buf *b, const struct db_table *t,
    const struct cell *row, char sep, int infile);

static int
infile_read(void *ptr, char *into, unsigned int size)
{
	struct db *db = ptr;
	struct buf *text = &db->infile.text;
	const struct db_table *t = db->infile.rows->table;
	size_t n;

	if (db->infile.ready) {
		n = db->infile.end - db->infile.next < size
		    ? db->infile.end - db->infile.next : size;
		memcpy(into, db->infile.ready->data + db->infile.next, n);
		db->infile.next += n;
		db_rows_sending(db->infile.rows, db->infile.next, &db->infile.told);
		return (int)n;
	}
	if (db->infile.off > 0) {  /* what the last call left: a row's tail */
		text->len -= db->infile.off;
		memmove(text->data, text->data + db->infile.off, text->len);
		db->infile.off = 0;
	}
	while (text->len < size && db->infile.next < db->infile.end) {
		add_row(db, text, t, db->infile.rows->cells +
		    db->infile.next++ * t->ncolumns, '\t', 1);
		buf_addc(text, '\n');
	}
	n = text->len < size ? text->len : size;
	memcpy(into, text->data, n);
	db->infile.off = n;
	return (int)n;
}

static void
infile_end(void *ptr)
{
	(void)ptr;
}

static int
infile_error(void *ptr, char *msg, unsigned int size)
{
	struct db *db = ptr;

	if (!db->infile.rows) {
		snprintf(msg, size, "LOAD DATA LOCAL INFILE is not allowed:"
		    " etl-load-sql sends no files");
		return CR_UNKNOWN_ERROR;
	}
	snprintf(msg, size, "local infile error");
	return CR_UNKNOWN_ERROR;
}

/*
 * TLS as ?ssl-mode= asks (the rule is lib/tlsmode.h's; dburl_parse has
 * checked the parameters).  Connector/C's MYSQL_OPT_SSL_ENFORCE is MySQL's
 * PREFERRED, not REQUIRED: it uses TLS only when the server offers it
 * (MDEV-28634), so REQUIRED is checked again after connecting
 * (tls_refused).
 * A CA makes the connector verify the chain (VERIFY_CA);
 * MYSQL_OPT_SSL_VERIFY_SERVER_CERT adds the host name (VERIFY_IDENTITY).
 */
static void
set_tls(MYSQL *m, const struct dburl *url)
{
	my_bool yes = 1, no = 0;
	const char *cert = dburl_param(url, "ssl-cert"), *key = dburl_param(url, "ssl-key");

	if (url->tls == TLS_MODE_DISABLED) {
		mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &no);
		return;
	}
	mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &yes);
	if (cert)
		mysql_optionsv(m, MYSQL_OPT_SSL_CERT, cert);
	if (key)
		mysql_optionsv(m, MYSQL_OPT_SSL_KEY, key);
	if (url->tls >= TLS_MODE_VERIFY_CA) {
		if (dburl_param(url, "ssl-ca"))
			mysql_optionsv(m, MYSQL_OPT_SSL_CA, dburl_param(url, "ssl-ca"));
		if (dburl_param(url, "ssl-capath"))
			mysql_optionsv(m, MYSQL_OPT_SSL_CAPATH, dburl_param(url, "ssl-capath"));
	}
	/* Said either way: Connector/C 3.4 verifies unless told not to. */
	mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
	    url->tls == TLS_MODE_VERIFY_IDENTITY ? &yes : &no);
#if MARIADB_PACKAGE_VERSION_ID < 30400
	/*
	 * An empty fingerprint: Connector/C 3.3 then refuses a server that
	 * offers no TLS before it logs in (where it would hand the password
	 * itself to caching_sha2_password or mysql_clear_password, believing
	 * the line encrypted), and compares no fingerprint after the
	 * handshake.  VERIFY_IDENTITY gets the same from the verification.
	 */
	if (url->tls == TLS_MODE_REQUIRED || url->tls == TLS_MODE_VERIFY_CA)
		mysql_optionsv(m, MARIADB_OPT_TLS_PEER_FP, "");
#endif
}

/*
 * Is the connection less than ssl-mode asked for?  Then say so in ERR.
 * set_tls has the connector refuse such a server before the login; this
 * is the check that does not depend on the connector's version.
 */
static int
tls_refused(struct db *db, const struct dburl *url, struct db_error *err)
{
	if (url->tls < TLS_MODE_REQUIRED || mysql_get_ssl_cipher(db->m))
		return 0;
	err->status = DB_AUTH;
	snprintf(err->message, sizeof err->message, "TLS was required"
	    " (ssl-mode=%s) but the server did not offer it: not connected",
	    tls_mode_name(url->tls));
	return 1;
}

/* The server's max_allowed_packet: an INSERT travels in one packet. */
static size_t
max_packet(struct db *db)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t n = 0;

	if (mysql_query(db->m, "SELECT @@max_allowed_packet") == 0 &&
	    (res = mysql_store_result(db->m)) != NULL) {
		if ((row = mysql_fetch_row(res)) && row[0])
			n = strtoull(row[0], NULL, 10);
		mysql_free_result(res);
	}
	/* Unknown: MySQL's old default, 1M, is the smallest a server has. */
	return n > PACKET_SLACK ? n : 1024 * 1024;
}

/*
 * MariaDB cuts the fraction a DATETIME, TIME or TIMESTAMP column has no
 * room for (09:26:53.5 in a DATETIME becomes 09:26:53) where PostgreSQL
 * and MySQL round it (09:26:54); TIME_ROUND_FRACTIONAL makes MariaDB
 * round too.  MySQL and TiDB do not know the mode and already round.
 */
static void
round_fractions(struct db *db)
{
	/* Refused by a server that does not know the mode: it rounds. */
	(void)mysql_query(db->m, "SET SESSION sql_mode ="
	    " CONCAT(@@SESSION.sql_mode, ',TIME_ROUND_FRACTIONAL')");
}

static struct db *
my_connect(const struct dburl *url, struct db_error *err)
{
	struct db *db = calloc(1, sizeof *db);
	unsigned int timeout = 10, yes = 1;
	const char *load = dburl_param(url, "etl-load");

	if (!db || !(db->m = mysql_init(NULL))) {
		free(db);
		err->status = DB_FATAL;
		snprintf(err->message, sizeof err->message, "out of memory");
		return NULL;
	}
	mysql_optionsv(db->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(db->m, MYSQL_OPT_LOCAL_INFILE, &yes);
	mysql_optionsv(db->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	set_tls(db->m, url);
	if (!mysql_real_connect(db->m, url->host, url->user, url->password,
	    url->database, url->port, dburl_param(url, "socket"),
	    CLIENT_MULTI_STATEMENTS | CLIENT_LOCAL_FILES)) {
		unsigned int code = mysql_errno(db->m);

		/* A failed handshake or certificate is no passing trouble. */
		if (code == CR_SSL_CONNECTION_ERROR)
			snprintf(err->message, sizeof err->message, "TLS %s (ssl-mode=%s)"
			    " and failed: %s", url->tls >= TLS_MODE_REQUIRED ? "was required"
			    : "was tried", tls_mode_name(url->tls), mysql_error(db->m));
		else
			snprintf(err->message, sizeof err->message, "%s", mysql_error(db->m));
		err->status = classify(code) == DB_AUTH || code == CR_SSL_CONNECTION_ERROR
		    ? DB_AUTH : DB_UNAVAILABLE;
		mysql_close(db->m);
		free(db);
		return NULL;
	}
	if (tls_refused(db, url, err)) {
		mysql_close(db->m);
		free(db);
		return NULL;
	}
	mysql_set_local_infile_handler(db->m, infile_init, infile_read, infile_end,
	    infile_error, db);
	db->use_insert = load && strcmp(load, "insert") == 0;
	/* Strict: a bad value is an error, never a silent truncation; UTC so
	 * TIMESTAMP columns store what the record said. */
	if (query_str(db, "SET SESSION sql_mode = 'STRICT_ALL_TABLES,"
	    "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00'",
	    err) != DB_OK) {
		mysql_close(db->m);
		free(db);
		return NULL;
	}
	round_fractions(db);
	db->max_packet = max_packet(db);
	return db;
}

static void
my_disconnect(struct db *db)
{
	if (db) {
		if (db->read)
			mysql_free_result(db->read);
		mysql_close(db->m);
		buf_free(&db->infile.text);
		free(db);
	}
}

/* ---- describing ------------------------------------------------------- */

static void
add_literal(struct db *db, struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, 2 * n + 3);
	buf_addc(b, '\'');
	b->len += mysql_real_escape_string(db->m, b->data + b->len, s, (unsigned long)n);
	buf_addc(b, '\'');
}

static void
add_ident(struct buf *b, const char *name)
{
	buf_addc(b, '`');
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			buf_addc(b, '`');
		buf_addc(b, *p);
	}
	buf_addc(b, '`');
}

static char *
my_quote_ident(struct db *db, const char *name)
{
	struct buf b = BUF_INIT;

	(void)db;
	add_ident(&b, name);
	buf_cstr(&b);
	return b.data;
}

static enum db_type
type_of(const char *data_type, const char *column_type, int json_checked)
{
	static const struct { const char *name; enum db_type type; } types[] = {
		{ "tinyint", DB_TYPE_INTEGER }, { "smallint", DB_TYPE_INTEGER },
		{ "mediumint", DB_TYPE_INTEGER }, { "int", DB_TYPE_INTEGER },
		{ "bigint", DB_TYPE_INTEGER }, { "year", DB_TYPE_INTEGER },
		{ "float", DB_TYPE_REAL }, { "double", DB_TYPE_REAL },
		{ "decimal", DB_TYPE_NUMERIC }, { "date", DB_TYPE_DATE },
		{ "time", DB_TYPE_TIME }, { "datetime", DB_TYPE_TIMESTAMP },
		{ "timestamp", DB_TYPE_TIMESTAMPTZ }, { "json", DB_TYPE_JSON },
		{ "char", DB_TYPE_TEXT }, { "varchar", DB_TYPE_TEXT },
		{ "tinytext", DB_TYPE_TEXT }, { "text", DB_TYPE_TEXT },
		{ "mediumtext", DB_TYPE_TEXT }, { "longtext", DB_TYPE_TEXT },
		{ "enum", DB_TYPE_TEXT }, { "set", DB_TYPE_TEXT },
		{ "tinyblob", DB_TYPE_BYTES }, { "blob", DB_TYPE_BYTES },
		{ "mediumblob", DB_TYPE_BYTES }, { "longblob", DB_TYPE_BYTES },
		{ "binary", DB_TYPE_BYTES }, { "varbinary", DB_TYPE_BYTES },
	};

	if (json_checked)
		return DB_TYPE_JSON;  /* MariaDB's JSON: LONGTEXT CHECK (json_valid) */
	if (strncmp(column_type, "tinyint(1)", 10) == 0)
		return DB_TYPE_BOOLEAN;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(data_type, types[i].name) == 0)
			return types[i].type;
	return DB_TYPE_OTHER;
}

static enum db_status
my_describe(struct db *db, const char *schema, const char *table,
    struct db_table *out, struct db_error *err)
{
	struct buf sql = BUF_INIT;
	MYSQL_RES *res;
	MYSQL_ROW row;
	enum db_status s;

	memset(out, 0, sizeof *out);
	buf_adds(&sql, "SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.DATA_TYPE,"
	    " c.COLUMN_DEFAULT IS NOT NULL OR c.EXTRA LIKE '%auto_increment%',"
	    " c.IS_NULLABLE = 'NO', EXISTS (SELECT 1 FROM"
	    " information_schema.CHECK_CONSTRAINTS k WHERE"
	    " k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME"
	    " AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)'))"
	    " FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = ");
	if (schema)
		add_literal(db, &sql, schema, strlen(schema));
	else
		buf_adds(&sql, "DATABASE()");
	buf_adds(&sql, " AND c.TABLE_NAME = ");
	add_literal(db, &sql, table, strlen(table));
	buf_adds(&sql, " AND c.EXTRA NOT LIKE '%GENERATED%' ORDER BY c.ORDINAL_POSITION");
	s = query(db, sql.data, sql.len, err);
	buf_free(&sql);
	if (s != DB_OK)
		return s;
	if (!(res = mysql_store_result(db->m)))
		return fail(db, err);
	while ((row = mysql_fetch_row(res))) {
		if (db_table_add_column(out, row[0], row[1],
		    type_of(row[2], row[1], row[5] && row[5][0] == '1')) != 0)
			break;
		out->columns[out->ncolumns - 1].has_default = row[3] && row[3][0] == '1';
		out->columns[out->ncolumns - 1].not_null = row[4] && row[4][0] == '1';
	}
	mysql_free_result(res);
	if (out->ncolumns == 0) {
		err->status = DB_NO_TABLE;
		snprintf(err->message, sizeof err->message, "table \"%s\" does not exist", table);
		return DB_NO_TABLE;
	}
	out->name = strdup(table);
	out->schema = schema ? strdup(schema) : NULL;
	return DB_OK;
}

/* ---- statements -------------------------------------------------------- */

/* Run SQL that may hold several statements, draining every result. */
static enum db_status
my_exec(struct db *db, const char *sql, struct db_error *err)
{
	int rc;

	if (query_str(db, sql, err) != DB_OK)
		return err->status == DB_ROW_ERROR ? (err->status = DB_FATAL) : err->status;
	do {
		MYSQL_RES *res = mysql_store_result(db->m);

		mysql_free_result(res);
		if ((rc = mysql_next_result(db->m)) > 0)
			return fail(db, err);
	} while (rc == 0);
	return DB_OK;
}

static enum db_status
my_begin(struct db *db, struct db_error *err)
{
	return query_str(db, "START TRANSACTION", err);
}

static enum db_status
my_commit(struct db *db, struct db_error *err)
{
	/* A COMMIT whose answer is lost with the connection is ambiguous: the
	 * server may have committed.  The loader retries, which is the
	 * documented at-least-once behaviour. */
	if (mysql_commit(db->m) != 0)
		return fail(db, err);
	return DB_OK;
}

static void
my_rollback(struct db *db)
{
	mysql_rollback(db->m);
}

/* ---- values ------------------------------------------------------------ */

/*
 * A cell's text as the server wants it for column COL; into SCRATCH when
 * it must change.  cell.c has applied any zone offset and rounded the
 * fraction (the session is UTC); MariaDB wants a blank, not a T, between
 * the date and the time.
 */
static const char *
cell_text(const struct db_column *col, const struct cell *c, char *scratch,
    size_t size, size_t *len)
{
	*len = c->len;
	if ((col->type == DB_TYPE_TIMESTAMP || col->type == DB_TYPE_TIMESTAMPTZ) &&
	    c->len > 10 && c->len < size && (c->text[10] == 'T' || c->text[10] == 't')) {
		memcpy(scratch, c->text, c->len);
		scratch[10] = ' ';
		return scratch;
	}
	return c->text;
}

/* A bytes cell ("\x" and hex, lib/cell.h): a hex literal in an INSERT;
 * in LOAD DATA the bytes themselves, decoded a piece at a time. */
static void
add_bytes(struct buf *b, const struct cell *c, int infile)
{
	char bytes[4096];
	struct cell piece = *c;

	if (!infile) {
		buf_adds(b, "X'");
		buf_add(b, c->text + 2, c->len - 2);
		buf_addc(b, '\'');
		return;
	}
	for (size_t at = 2; at < c->len; at += 2 * sizeof bytes) {
		/* cell_bytes_decode skips two characters: the piece's "\x" */
		piece.text = c->text + at - 2;
		piece.len = 2 + (c->len - at < 2 * sizeof bytes ? c->len - at : 2 * sizeof bytes);
		db_add_escaped(b, bytes, cell_bytes_decode(&piece, bytes), 1);
	}
}

static void
add_value(struct db *db, struct buf *b, const struct db_column *col,
    const struct cell *c, int infile)
{
	char num[96];
	const char *text;
	size_t len;

	switch (c->kind) {
	case CELL_NULL:
	case CELL_ABSENT:
		buf_adds(b, infile ? "\\N" : "NULL");
		return;
	case CELL_BOOL:
		buf_addc(b, c->i ? '1' : '0');
		return;
	case CELL_INT:
		jsonout_integer(b, c->i);
		return;
	case CELL_REAL:
		buf_add(b, c->text, c->len);
		return;
	case CELL_TEXT:
	case CELL_JSON:
		if (col->type == DB_TYPE_BYTES) {
			add_bytes(b, c, infile);
			return;
		}
		text = cell_text(col, c, num, sizeof num, &len);
		if (infile)
			db_add_escaped(b, text, len, 1);
		else
			add_literal(db, b, text, len);
		return;
	}
}

/* ROW's present cells, SEP between them: LOAD DATA text if INFILE, else
 * SQL literals. */
static void
add_row(struct db *db, struct buf *b, const struct db_table *t,
    const struct cell *row, char sep, int infile)
{
	int n = 0;

	for (int c = 0; c < t->ncolumns; c++) {
		if (row[c].kind == CELL_ABSENT)
			continue;
		if (n++)
			buf_addc(b, sep);
		add_value(db, b, &t->columns[c], &row[c], infile);
	}
}

static void
add_column_list(struct buf *b, const struct db_table *t, const struct cell *row)
{
	int n = 0;

	buf_addc(b, '(');
	for (int c = 0; c < t->ncolumns; c++) {
		if (row[c].kind == CELL_ABSENT)
			continue;
		if (n++)
			buf_addc(b, ',');
		add_ident(b, t->columns[c].name);
	}
	buf_addc(b, ')');
}

static void
add_table_name(struct buf *b, const struct db_table *t)
{
	if (t->schema) {
		add_ident(b, t->schema);
		buf_addc(b, '.');
	}
	add_ident(b, t->name);
}

/*
 * After a statement: a warning means a row was bent or skipped, and that
 * row is refused.  LOAD DATA LOCAL turns every bad value into a warning
 * (it implies IGNORE), so this is how its data errors show; strict mode
 * makes the INSERT path fail on them itself.  Notes are not data errors:
 * the server raises one (1265, "Data truncated") when it rounds a value to
 * its column's scale, 12.345 to 12.35 in a DECIMAL(10,2), which PostgreSQL
 * does silently; a truncated string or an out-of-range number is a
 * Warning.  The first warning names its row.
 */
static enum db_status
check_warnings(struct db *db, struct db_error *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	enum db_status s = DB_OK;

	if (mysql_warning_count(db->m) == 0)
		return DB_OK;
	if (mysql_query(db->m, "SHOW WARNINGS") != 0 ||
	    !(res = mysql_store_result(db->m))) {
		err->status = DB_ROW_ERROR;
		snprintf(err->message, sizeof err->message, "the server changed or skipped a row");
		err->row = -1;
		return DB_ROW_ERROR;
	}
	while (s == DB_OK && (row = mysql_fetch_row(res)) != NULL) {
		if (row[0] && strcmp(row[0], "Note") == 0)
			continue;
		s = err->status = DB_ROW_ERROR;
		snprintf(err->message, sizeof err->message, "%s",
		    row[2] ? row[2] : "the server changed or skipped a row");
		err->row = row[2] ? row_in_message(row[2]) : -1;
	}
	mysql_free_result(res);
	return s;
}

static enum db_status
infile_run(struct db *db, const struct db_rows *rows, size_t first, size_t end,
    struct db_error *err)
{
	const struct db_table *t = rows->table;
	struct buf sql = BUF_INIT;
	enum db_status s;

	buf_adds(&sql, "LOAD DATA LOCAL INFILE 'etl-load-sql' INTO TABLE ");
	add_table_name(&sql, t);
	buf_adds(&sql, " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t'"
	    " ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ");
	add_column_list(&sql, t, rows->cells + first * t->ncolumns);
	db->infile.rows = rows;
	db->infile.ready = db_rows_ready(rows, first, end);
	db->infile.next = db->infile.ready ? 0 : first;
	db->infile.told = 0;
	db->infile.end = db->infile.ready ? db->infile.ready->len : end;
	s = query(db, sql.data, sql.len, err);
	db->infile.rows = NULL;
	db->infile.ready = NULL;
	if (s == DB_OK)
		s = check_warnings(db, err);
	if (s == DB_ROW_ERROR && err->row >= 0)
		err->row += (long)first;
	buf_free(&sql);
	return s;
}

static void
add_insert_head(struct buf *sql, const struct db_rows *rows, const struct cell *row)
{
	buf_adds(sql, "INSERT INTO ");
	add_table_name(sql, rows->table);
	buf_addc(sql, ' ');
	add_column_list(sql, rows->table, row);
	buf_adds(sql, " VALUES ");
}

/* ON DUPLICATE KEY UPDATE for upserts; for ignore-duplicates a no-op
 * update of the first column (INSERT IGNORE would also hide bad values). */
static void
add_insert_tail(struct buf *sql, const struct db_rows *rows, const struct cell *row)
{
	const struct db_table *t = rows->table;
	int n = 0;

	if (rows->mode == DB_INSERT)
		return;
	buf_adds(sql, " ON DUPLICATE KEY UPDATE ");
	for (int c = 0; c < t->ncolumns && rows->mode == DB_UPSERT; c++) {
		if (db_rows_is_key(rows, c) || row[c].kind == CELL_ABSENT)
			continue;
		if (n++)
			buf_addc(sql, ',');
		add_ident(sql, t->columns[c].name);
		buf_adds(sql, "=VALUES(");
		add_ident(sql, t->columns[c].name);
		buf_addc(sql, ')');
	}
	if (n == 0) {
		for (int c = 0; c < t->ncolumns; c++) {
			if (row[c].kind == CELL_ABSENT)
				continue;
			add_ident(sql, t->columns[c].name);
			buf_addc(sql, '=');
			add_ident(sql, t->columns[c].name);
			break;
		}
	}
}

/* Send the INSERT in SQL (rows from CHUNK_FIRST on) and empty it. */
static enum db_status
insert_send(struct db *db, struct buf *sql, const struct buf *tail,
    size_t chunk_first, struct db_error *err)
{
	enum db_status s;

	buf_add(sql, tail->data, tail->len);
	s = query(db, sql->data, sql->len, err);
	if (s == DB_OK)
		s = check_warnings(db, err);
	if (s == DB_ROW_ERROR && err->row >= 0)
		err->row += (long)chunk_first;
	sql->len = 0;
	return s;
}

/* Multi-row INSERTs of about INSERT_CHUNK bytes, none longer than the
 * server takes; a row that cannot fit in any is that row's error. */
static enum db_status
insert_run(struct db *db, const struct db_rows *rows, size_t first, size_t end,
    struct db_error *err)
{
	const struct db_table *t = rows->table;
	const struct cell *head = rows->cells + first * t->ncolumns;
	struct buf sql = BUF_INIT, values = BUF_INIT, tail = BUF_INIT;
	enum db_status s = DB_OK;
	size_t chunk_first = first, head_len, limit = db->max_packet - PACKET_SLACK;

	add_insert_head(&sql, rows, head);
	head_len = sql.len;
	add_insert_tail(&tail, rows, head);
	for (size_t r = first; r < end && s == DB_OK; r++) {
		values.len = 0;
		buf_addc(&values, '(');
		add_row(db, &values, t, rows->cells + r * t->ncolumns, ',', 0);
		buf_addc(&values, ')');
		if (head_len + values.len + tail.len > limit) {
			snprintf(err->message, sizeof err->message, "the row takes %zu"
			    " bytes as SQL, more than the server's max_allowed_packet"
			    " allows (%zu)", values.len, db->max_packet);
			err->row = (long)r;
			s = err->status = DB_ROW_ERROR;
			break;
		}
		if (sql.len > head_len &&
		    sql.len + 1 + values.len + tail.len > limit)
			s = insert_send(db, &sql, &tail, chunk_first, err);
		if (s != DB_OK)
			break;
		if (sql.len == 0)
			add_insert_head(&sql, rows, head);
		if (sql.len == head_len)
			chunk_first = r;
		else
			buf_addc(&sql, ',');
		buf_add(&sql, values.data, values.len);
		if (sql.len >= INSERT_CHUNK || r + 1 == end)
			s = insert_send(db, &sql, &tail, chunk_first, err);
	}
	buf_free(&sql);
	buf_free(&values);
	buf_free(&tail);
	return s;
}

/* db_backend.prepare: LOAD DATA's text of all ROWS, built ahead (and
 * unused where the server refuses LOCAL INFILE). */
static void
my_prepare(const struct db_rows *rows, struct buf *out)
{
	const struct db_table *t = rows->table;

	out->len = 0;
	if (rows->mode != DB_INSERT || rows->nrows == 0 ||
	    db_rows_run_end(rows, 0) != rows->nrows)
		return;
	for (size_t r = 0; r < rows->nrows; r++) {
		add_row(NULL, out, t, rows->cells + r * t->ncolumns, '\t', 1);
		buf_addc(out, '\n');
		if (out->len > DB_PREPARED_MAX) {
			buf_free(out);         /* none: infile_read formats as asked */
			return;
		}
	}
}

/* INSERTs instead of LOAD DATA: what my_prepare built will not be sent,
 * and whoever waits for it to go need not. */
static void
not_sending(const struct db_rows *rows, size_t first, size_t end)
{
	int told = 0;

	if (db_rows_ready(rows, first, end))
		db_rows_sending(rows, SIZE_MAX, &told);
}

static enum db_status
my_load(struct db *db, const struct db_rows *rows, struct db_error *err)
{
	for (size_t first = 0; first < rows->nrows;) {
		size_t end = db_rows_run_end(rows, first);
		enum db_status s;

		if (rows->mode == DB_INSERT && !db->use_insert) {
			s = infile_run(db, rows, first, end, err);
			if (s == DB_FATAL && (mysql_errno(db->m) == ER_NOT_ALLOWED_COMMAND ||
			    mysql_errno(db->m) == 4166 || mysql_errno(db->m) == 3948)) {
				/* The server refuses LOCAL INFILE: INSERT from now on. */
				db->use_insert = 1;
				not_sending(rows, first, end);
				s = insert_run(db, rows, first, end, err);
			}
		} else {
			not_sending(rows, first, end);
			s = insert_run(db, rows, first, end, err);
		}
		if (s != DB_OK)
			return s;
		first = end;
	}
	return DB_OK;
}

/* ---- --sql ------------------------------------------------------------- */

static enum db_status
stmt_fail(MYSQL_STMT *st, struct db_error *err)
{
	unsigned int code = mysql_stmt_errno(st);
	enum db_status s = classify(code);

	snprintf(err->message, sizeof err->message, "%s", mysql_stmt_error(st));
	err->row = -1;
	/* Any statement error that is not the connection's is the record's. */
	err->status = s == DB_TRANSIENT ? s : DB_ROW_ERROR;
	return err->status;
}

static enum db_status
my_run(struct db *db, const char *sql, const json_t *params,
    struct db_error *err)
{
	size_t n = json_array_size(params);
	MYSQL_STMT *st = mysql_stmt_init(db->m);
	MYSQL_BIND *binds = calloc(n + 1, sizeof *binds);
	long long *ints = calloc(n + 1, sizeof *ints);
	double *reals = calloc(n + 1, sizeof *reals);
	char **owned = calloc(n + 1, sizeof *owned);
	enum db_status s = DB_OK;

	if (!st || !binds || !ints || !reals || !owned) {
		s = fail(db, err);
		goto out;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		s = stmt_fail(st, err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(params, i);
		MYSQL_BIND *b = &binds[i];

		switch (json_typeof(p)) {
		case JSON_NULL:
			b->buffer_type = MYSQL_TYPE_NULL;
			break;
		case JSON_INTEGER:
		case JSON_TRUE:
		case JSON_FALSE:
			ints[i] = json_is_integer(p) ? json_integer_value(p) : json_is_true(p);
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &ints[i];
			break;
		case JSON_REAL:
			reals[i] = json_real_value(p);
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = &reals[i];
			break;
		case JSON_STRING:
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = (void *)json_string_value(p);
			b->buffer_length = json_string_length(p);
			break;
		default:
			owned[i] = json_dumps(p, JSON_COMPACT);
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = owned[i];
			b->buffer_length = owned[i] ? strlen(owned[i]) : 0;
			break;
		}
	}
	if ((n && mysql_stmt_bind_param(st, binds) != 0) || mysql_stmt_execute(st) != 0)
		s = stmt_fail(st, err);
out:
	if (st)
		mysql_stmt_close(st);
	for (size_t i = 0; i < n && owned; i++)
		free(owned[i]);
	free(owned);
	free(reals);
	free(ints);
	free(binds);
	return s;
}

/* COLUMN of JOB's row of etl_checkpoints, malloc'd, or NULL (no row, or NULL). */
static enum db_status
checkpoint_column(struct db *db, const char *job, const char *column, char **value,
    struct db_error *err)
{
	struct buf sql = BUF_INIT;
	MYSQL_RES *res;
	MYSQL_ROW row;
	enum db_status s;

	*value = NULL;
	buf_adds(&sql, "SELECT ");
	buf_adds(&sql, column);
	buf_adds(&sql, " FROM etl_checkpoints WHERE job = ");
	add_literal(db, &sql, job, strlen(job));
	s = query(db, sql.data, sql.len, err);
	buf_free(&sql);
	if (s != DB_OK)
		return s;
	if (!(res = mysql_store_result(db->m)))
		return fail(db, err);
	if ((row = mysql_fetch_row(res)) && row[0])
		*value = strdup(row[0]);
	mysql_free_result(res);
	return DB_OK;
}

static enum db_status
my_checkpoint_get(struct db *db, const char *job, long long *position,
    struct db_error *err)
{
	char *value;
	enum db_status s = checkpoint_column(db, job, "position", &value, err);

	*position = value ? strtoll(value, NULL, 10) : 0;
	free(value);
	return s;
}

static enum db_status
my_checkpoint_put(struct db *db, const char *job, long long position,
    struct db_error *err)
{
	struct buf sql = BUF_INIT;
	char pos[32];
	enum db_status s;

	buf_adds(&sql, "INSERT INTO etl_checkpoints (job, position, updated_at) VALUES (");
	add_literal(db, &sql, job, strlen(job));
	snprintf(pos, sizeof pos, ", %lld, NOW())", position);
	buf_adds(&sql, pos);
	buf_adds(&sql, " ON DUPLICATE KEY UPDATE position = VALUES(position),"
	    " updated_at = VALUES(updated_at)");
	s = query(db, sql.data, sql.len, err);
	buf_free(&sql);
	return s == DB_ROW_ERROR ? (err->status = DB_FATAL) : s;
}

static enum db_status
my_bookmark_get(struct db *db, const char *job, char **bookmark,
    struct db_error *err)
{
	return checkpoint_column(db, job, "bookmark", bookmark, err);
}

static enum db_status
my_bookmark_put(struct db *db, const char *job, long long position,
    const char *bookmark, struct db_error *err)
{
	struct buf sql = BUF_INIT;
	char pos[32];
	enum db_status s;

	buf_adds(&sql, "INSERT INTO etl_checkpoints (job, position, updated_at, bookmark)"
	    " VALUES (");
	add_literal(db, &sql, job, strlen(job));
	snprintf(pos, sizeof pos, ", %lld, NOW(), ", position);
	buf_adds(&sql, pos);
	if (bookmark)
		add_literal(db, &sql, bookmark, strlen(bookmark));
	else
		buf_adds(&sql, "NULL");
	buf_adds(&sql, ") ON DUPLICATE KEY UPDATE position = VALUES(position),"
	    " updated_at = VALUES(updated_at),"
	    " bookmark = COALESCE(VALUES(bookmark), bookmark)");
	s = query(db, sql.data, sql.len, err);
	buf_free(&sql);
	return s == DB_ROW_ERROR ? (err->status = DB_FATAL) : s;
}

/* ---- reading ---------------------------------------------------------- */

static enum db_status
my_begin_snapshot(struct db *db, struct db_error *err)
{
	enum db_status s = query_str(db, "SET SESSION TRANSACTION ISOLATION LEVEL"
	    " REPEATABLE READ", err);

	if (s == DB_OK)
		s = query_str(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err);
	return s;
}

/* What a result column's type is, from the protocol's metadata. */
static enum db_type
result_type(const MYSQL_FIELD *f)
{
	MARIADB_CONST_STRING format = { 0 };

	if (mariadb_field_attr(&format, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
	    format.length == 4 && strncasecmp(format.str, "json", 4) == 0)
		return DB_TYPE_JSON;
	switch (f->type) {
	case MYSQL_TYPE_TINY:
		if (f->length == 1)   /* BOOLEAN is TINYINT(1) */
			return DB_TYPE_BOOLEAN;
		/* fall through */
	case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG: case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_YEAR:
		return DB_TYPE_INTEGER;
	case MYSQL_TYPE_DECIMAL: case MYSQL_TYPE_NEWDECIMAL:
		return DB_TYPE_NUMERIC;
	case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
		return DB_TYPE_REAL;
	case MYSQL_TYPE_DATE: case MYSQL_TYPE_NEWDATE:
		return DB_TYPE_DATE;
	case MYSQL_TYPE_TIME:
		return DB_TYPE_TIME;
	case MYSQL_TYPE_DATETIME:
		return DB_TYPE_TIMESTAMP;
	case MYSQL_TYPE_TIMESTAMP:
		return DB_TYPE_TIMESTAMPTZ;   /* UTC: the session's time_zone */
	case MYSQL_TYPE_JSON:
		return DB_TYPE_JSON;
	case MYSQL_TYPE_BIT:
		return DB_TYPE_BYTES;
	case MYSQL_TYPE_TINY_BLOB: case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB: case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_STRING: case MYSQL_TYPE_VAR_STRING: case MYSQL_TYPE_VARCHAR:
		return f->charsetnr == 63 ? DB_TYPE_BYTES : DB_TYPE_TEXT;  /* binary */
	default:
		return DB_TYPE_TEXT;
	}
}

/* The query's rows unbuffered (mysql_use_result): one row in memory. */
static enum db_status
my_query(struct db *db, const char *sql, struct db_table *columns,
    struct db_error *err)
{
	MYSQL_FIELD *f;
	enum db_status s;

	memset(columns, 0, sizeof *columns);
	if (db->read)
		mysql_free_result(db->read);
	db->read = NULL;
	if ((s = query_str(db, sql, err)) != DB_OK)
		return s == DB_NO_TABLE || s == DB_ROW_ERROR ? (err->status = DB_FATAL) : s;
	if (!(db->read = mysql_use_result(db->m)))
		return mysql_errno(db->m) ? fail(db, err) : DB_OK;  /* no rows at all */
	f = mysql_fetch_fields(db->read);
	for (unsigned i = 0; i < mysql_num_fields(db->read); i++)
		if (db_table_add_column(columns, f[i].name, f[i].org_name ? f[i].org_name : "",
		    result_type(&f[i])) != 0) {
			err->status = DB_FATAL;
			snprintf(err->message, sizeof err->message, "out of memory");
			return DB_FATAL;
		}
	return DB_OK;
}

static int
my_next_row(struct db *db, struct db_field *fields, struct db_error *err)
{
	MYSQL_ROW row;
	unsigned long *lengths;
	MYSQL_FIELD *f;

	if (!db->read)
		return 0;
	if (!(row = mysql_fetch_row(db->read))) {
		if (mysql_errno(db->m)) {
			fail(db, err);
			return -1;
		}
		return 0;
	}
	lengths = mysql_fetch_lengths(db->read);
	f = mysql_fetch_fields(db->read);
	for (unsigned c = 0; c < mysql_num_fields(db->read); c++) {
		memset(&fields[c], 0, sizeof fields[c]);
		fields[c].null = row[c] == NULL;
		fields[c].data = row[c] ? row[c] : "";
		fields[c].len = lengths[c];
		fields[c].binary = result_type(&f[c]) == DB_TYPE_BYTES;
	}
	return 1;
}

static int
my_add_value(struct buf *b, const struct db_column *col, const struct db_field *f)
{
	return db_add_json_value(b, col->type, f);
}

static void
my_query_end(struct db *db)
{
	struct db_error err;

	if (db->read)
		mysql_free_result(db->read);
	db->read = NULL;
	query_str(db, "ROLLBACK", &err);
}

static char *
my_quote_literal(struct db *db, const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	add_literal(db, &b, s, len);
	buf_cstr(&b);
	return b.data;
}

static const char *
my_type_for(json_type t)
{
	switch (t) {
	case JSON_INTEGER: return "BIGINT";
	case JSON_REAL: return "DOUBLE";
	case JSON_TRUE: case JSON_FALSE: return "BOOLEAN";
	case JSON_OBJECT: case JSON_ARRAY: return "JSON";
	default: return "LONGTEXT";
	}
}

const struct db_backend db_mysql = {
	.name = "mariadb",
	.connect = my_connect,
	.disconnect = my_disconnect,
	.describe = my_describe,
	.exec = my_exec,
	.begin = my_begin,
	.load = my_load,
	.prepare = my_prepare,
	.run = my_run,
	.commit = my_commit,
	.rollback = my_rollback,
	.checkpoint_get = my_checkpoint_get,
	.checkpoint_put = my_checkpoint_put,
	.bookmark_get = my_bookmark_get,
	.bookmark_put = my_bookmark_put,
	.begin_snapshot = my_begin_snapshot,
	.query = my_query,
	.next_row = my_next_row,
	.add_value = my_add_value,
	.query_end = my_query_end,
	.quote_literal = my_quote_literal,
	.quote_ident = my_quote_ident,
	.type_for = my_type_for,
};
