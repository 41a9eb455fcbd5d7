/*
 * db.h - the database backends behind etl-load-sql.
 *
 * One small interface and one file per backend, the way SQLite keeps one VFS
 * per file: db-pg.c (libpq), db-my.c (libmariadb: MariaDB, MySQL, TiDB),
 * db-sqlite.c.  The loader (src/etl-load-sql.c) does everything that is the
 * same for all of them: reading records, matching keys to columns,
 * converting JSON values to cells, grouping rows into transactions,
 * retrying, isolating bad rows, acknowledgements.  A backend only talks to
 * its database: connect, describe a table, run a transaction of rows with
 * its fastest bulk path, and say what kind of failure it met.
 *
 * Errors: every call that can fail fills a struct db_error whose status
 * tells the loader what to do next; the message is the server's own text
 * and never holds a password.
 */
#ifndef ETL_DB_H
#define ETL_DB_H

#include "tlsmode.h"

#include <jansson.h>
#include <stddef.h>

/* ---- the URL ---------------------------------------------------------- */

enum dburl_scheme { DBURL_POSTGRES, DBURL_MYSQL, DBURL_SQLITE };

struct dburl_param {
	char *key;
	char *value;
};

/* A parsed DATABASE_URL; strings are percent-decoded and owned (free with
 * dburl_free).  Fields a URL does not give are NULL (port: 0). */
struct dburl {
	enum dburl_scheme scheme;
	char *user;
	char *password;
	char *host;
	int port;
	char *database;           /* sqlite: the file path */
	struct dburl_param *params;  /* ?key=value&..., in order */
	int nparams;
	char *redacted;           /* the URL with the password replaced by "***" */
	enum tls_mode tls;        /* mysql: ?ssl-mode= (default PREFERRED) */
	char *password_file;      /* ?password-file=, taken out of params */
	int read_only;            /* set by a reader: SQLite opens the file
	                             read-only (no file made, no checkpoint
	                             written at close) */
};

/* Parse URL; on failure return -1 with what is wrong in ERR (never the
 * password).  Accepts postgres://, postgresql://, mysql://, mariadb://,
 * sqlite:///abs/path.db and sqlite:relative.db.  The TLS parameters are
 * checked here (see dburl.c), so a mistake in them is a usage error. */
int dburl_parse(const char *url, struct dburl *out, char *err, size_t errsize);
/* With ?password-file=: read the password from that file (one line; a
 * final newline is not part of it).  0, or an exit code (EXIT_NOINPUT,
 * EXIT_CONFIG) with the reason in ERR. */
int dburl_read_password_file(struct dburl *u, char *err, size_t errsize);
void dburl_free(struct dburl *u);
const char *dburl_param(const struct dburl *u, const char *key);
/* The parameters that name a file the client library reads on each
 * connection (libpq's sslrootcert…, MariaDB's ssl-ca…), NULL-terminated:
 * a program that gives up root must still be able to read them. */
extern const char *const dburl_file_keys[];

/* ---- tables and values ------------------------------------------------ */

enum db_type {
	DB_TYPE_TEXT,             /* text, varchar, char, enum, uuid… */
	DB_TYPE_INTEGER,          /* smallint … bigint */
	DB_TYPE_REAL,             /* real, double */
	DB_TYPE_NUMERIC,          /* numeric/decimal: exact, kept as text */
	DB_TYPE_BOOLEAN,
	DB_TYPE_DATE,
	DB_TYPE_TIME,
	DB_TYPE_TIMESTAMP,        /* without time zone (MariaDB DATETIME) */
	DB_TYPE_TIMESTAMPTZ,      /* with time zone (MariaDB TIMESTAMP) */
	DB_TYPE_JSON,             /* json, jsonb */
	DB_TYPE_BYTES,            /* bytea, blob: "\\x" and hex digits, or a string's bytes */
	DB_TYPE_ARRAY,            /* PostgreSQL arrays of element_type */
	DB_TYPE_OTHER,            /* anything else: the value's text, server converts */
};

struct db_column {
	char *name;
	char *type_name;          /* as the catalogue says, e.g. "numeric(12,2)" */
	enum db_type type;
	enum db_type element_type;  /* DB_TYPE_ARRAY: its elements' type */
	int has_default;
	int not_null;
};

struct db_table {
	char *schema;             /* NULL: the connection's default schema */
	char *name;
	struct db_column *columns;
	int ncolumns;
};

void db_table_free(struct db_table *t);
/* Append a column description (for backends' describe). */
int db_table_add_column(struct db_table *t, const char *name,
    const char *type_name, enum db_type type);

/* One value for one column, converted by the loader from JSON. */
enum cell_kind {
	CELL_ABSENT,              /* the record has no such key: the column's default */
	CELL_NULL,
	CELL_BOOL,                /* i is 0 or 1 */
	CELL_INT,                 /* i */
	CELL_REAL,                /* d, and text/len: its shortest decimal text */
	CELL_TEXT,                /* text/len: a string, a numeric's digits, an
	                             ISO-8601 date/time, base64 for bytes */
	CELL_JSON,                /* text/len: compact JSON text */
};

struct cell {
	enum cell_kind kind;
	long long i;
	double d;
	const char *text;         /* not NUL-terminated; valid until commit */
	size_t len;
};

enum db_mode {
	DB_INSERT,                /* a duplicate key is a row error */
	DB_UPSERT,                /* update on conflict of the key columns */
	DB_IGNORE_DUPLICATES,     /* skip rows whose key exists */
};

/*
 * The rows of one load: nrows rows of table->ncolumns cells, row-major.
 * A backend must give CELL_ABSENT columns their default, e.g. by loading
 * the rows with the same set of present columns together (usually all of
 * them) with only those columns named.
 */
struct db_rows {
	const struct db_table *table;
	const struct cell *cells;
	size_t nrows;
	enum db_mode mode;
	const int *key_columns;   /* DB_UPSERT: indexes into table->columns */
	int nkeys;
	const struct buf *prepared;  /* db_backend.prepare's data for all NROWS
	                                rows, or NULL or empty: none */
	void (*sent)(void *arg);     /* or NULL: load() calls it with SENT_ARG
	                                once the statement is under way and
	                                DB_SENT_EARLY bytes of PREPARED (or all
	                                of it) have gone to the server */
	void *sent_arg;
};

/* See db_rows.sent: past the round trips that start a load, and not so far
 * that a small socket buffer makes it wait for the server's work. */
enum { DB_SENT_EARLY = 256 << 10 };

/* Do rows A and B have the same set of present (not CELL_ABSENT) columns? */
int db_rows_same_columns(const struct db_rows *rows, size_t a, size_t b);
/* The end of the run of rows from FIRST with FIRST's set of present columns:
 * backends load each run with one statement naming those columns. */
size_t db_rows_run_end(const struct db_rows *rows, size_t first);
/* The prepared data of rows [FIRST, END), when it holds exactly those
 * (all of ROWS), else NULL. */
const struct buf *db_rows_ready(const struct db_rows *rows, size_t first,
    size_t end);
/* After SENT bytes of that data went to the server: call rows->sent, once
 * (*TOLD), at DB_SENT_EARLY or the end, whichever comes first. */
void db_rows_sending(const struct db_rows *rows, size_t sent, int *told);
/* Is column C one of the --upsert key columns? */
int db_rows_is_key(const struct db_rows *rows, int c);

struct buf;
/* The most that db_backend.prepare holds: beyond it the rows are large,
 * building their data is a small part of loading them, and memory counts. */
enum { DB_PREPARED_MAX = 4 << 20 };

/* Append P[0..N) to B in the text of the bulk paths (COPY's text format,
 * LOAD DATA): backslash, tab, newline and CR as \\ \t \n \r, and NUL
 * as \0 when NUL_TOO. */
void db_add_escaped(struct buf *b, const char *p, size_t n, int nul_too);

/* ---- errors ----------------------------------------------------------- */

enum db_status {
	DB_OK = 0,
	DB_ROW_ERROR,             /* the data of some row was refused; the
	                             loader bisects to isolate it */
	DB_TRANSIENT,             /* lost connection, deadlock, serialisation
	                             failure, too many connections, TiDB write
	                             conflict: reconnect and retry */
	DB_AUTH,                  /* authentication failed, or TLS that was
	                             required failed: exit 69, no retry */
	DB_UNAVAILABLE,           /* cannot connect now: retry, then exit 69 */
	DB_NO_TABLE,              /* describe: the table does not exist */
	DB_FATAL,                 /* anything else (permissions, bad SQL) */
};

struct db_error {
	enum db_status status;
	char message[1024];       /* the server's text */
	long row;                 /* the refused row's index in the load, or -1 */
};

/* ---- reading rows (etl-extract-sql) ------------------------------------ */

/* One field of a row being read: the server's text of the value (raw
 * bytes when BINARY), valid until the next row is read. */
struct db_field {
	const char *data;
	size_t len;
	int null;
	int binary;               /* bytes (BLOB, VARBINARY): written as \\x hex */
	int tag;                  /* the backend's own: SQLite's storage class */
};

/*
 * Append field F of a column of TYPE to B as the JSON value etl-load-sql
 * loads back into that type: numbers from the server's digits (never
 * through a double), booleans, timestamps in ISO 8601, JSON text as JSON,
 * bytes as a "\\x" hex string, everything else a string (invalid UTF-8
 * as U+FFFD).  A value neither JSON nor etl-load-sql can carry (NaN,
 * Infinity, MariaDB's zero date 0000-00-00) is written as null: then it
 * returns 1 (the caller warns), else 0.
 */
int db_add_json_value(struct buf *b, enum db_type type, const struct db_field *f);

/* ---- the backend interface -------------------------------------------- */

struct db;                    /* a connection; each backend defines it */

struct db_backend {
	const char *name;         /* "postgresql", "mariadb", "sqlite" */

	/* Connect with URL's credentials; NULL with err filled on failure. */
	struct db *(*connect)(const struct dburl *url, struct db_error *err);
	void (*disconnect)(struct db *db);

	/* Read the table's columns from the catalogue into *out. */
	enum db_status (*describe)(struct db *db, const char *schema,
	    const char *table, struct db_table *out, struct db_error *err);

	/* Run SQL text that may hold several statements (--init, DDL). */
	enum db_status (*exec)(struct db *db, const char *sql,
	    struct db_error *err);

	enum db_status (*begin)(struct db *db, struct db_error *err);
	/* Load ROWS inside the open transaction, by the fastest bulk path. */
	enum db_status (*load)(struct db *db, const struct db_rows *rows,
	    struct db_error *err);
	/*
	 * Optional: build ROWS's bulk data (COPY's, LOAD DATA's) into OUT
	 * ahead of load(), without a connection, so that the loader's reading
	 * thread does it while the transaction before is being loaded; load()
	 * then only sends it.  OUT is left empty where the rows need more than
	 * one statement, are not inserts, or would take over DB_PREPARED_MAX.
	 */
	void (*prepare)(const struct db_rows *rows, struct buf *out);
	/* Run one parameterised statement (--sql): PARAMS is a JSON array. */
	enum db_status (*run)(struct db *db, const char *sql,
	    const json_t *params, struct db_error *err);
	enum db_status (*commit)(struct db *db, struct db_error *err);
	void (*rollback)(struct db *db);

	/*
	 * --job: the position (input records committed) stored for JOB in
	 * etl_checkpoints, 0 when there is none; and setting it inside the
	 * open transaction, so it commits with the rows it counts.
	 */
	enum db_status (*checkpoint_get)(struct db *db, const char *job,
	    long long *position, struct db_error *err);
	enum db_status (*checkpoint_put)(struct db *db, const char *job,
	    long long position, struct db_error *err);

	/* --job with etl-extract-sql: the bookmark (JSON text) stored with
	 * the position, and storing both in the open transaction; a NULL
	 * BOOKMARK keeps the one stored.  *BOOKMARK is malloc'd, or NULL. */
	enum db_status (*bookmark_get)(struct db *db, const char *job,
	    char **bookmark, struct db_error *err);
	enum db_status (*bookmark_put)(struct db *db, const char *job,
	    long long position, const char *bookmark, struct db_error *err);

	/*
	 * Reading (etl-extract-sql): a read-only transaction that sees one
	 * snapshot; then one query at a time, its rows streamed in bounded
	 * memory.  query() runs SQL and describes the result's columns in
	 * *COLUMNS (name, type_name, type); next_row() fills one db_field per column
	 * and returns 1, or 0 at the end, or -1 with ERR filled;
	 * add_value() appends a field as JSON (db_add_json_value, plus what
	 * only this backend has, e.g. PostgreSQL's arrays) and returns how
	 * many values in it became null (NaN…); query_end()
	 * drops what is left of the result.
	 */
	enum db_status (*begin_snapshot)(struct db *db, struct db_error *err);
	enum db_status (*query)(struct db *db, const char *sql,
	    struct db_table *columns, struct db_error *err);
	int (*next_row)(struct db *db, struct db_field *fields,
	    struct db_error *err);
	int (*add_value)(struct buf *b, const struct db_column *col,
	    const struct db_field *f);
	void (*query_end)(struct db *db);

	/* A quoted identifier (malloc'd), by the client library's rules. */
	char *(*quote_literal)(struct db *db, const char *s, size_t len);
	char *(*quote_ident)(struct db *db, const char *name);
	/* The column type --create uses for a JSON value of type T. */
	const char *(*type_for)(json_type t);
};

extern const struct db_backend db_postgres, db_mysql, db_sqlite;

const struct db_backend *db_backend_for(const struct dburl *url);

/* ---- connecting and retrying (lib/retry.h's policy) ------------------- */

struct retry;

/* Back off before the next attempt after ERR, with a warning naming WHERE;
 * exits EXIT_CODE once --retry-for has passed since the failures began. */
void db_back_off(struct retry *r, const char *where, const struct db_error *err,
    int exit_code);

/* Connect to U, retrying what is transient by R (exit EXIT_CODE when it
 * gives up); a refused login or a fatal error is exit 69 at once. */
struct db *db_connect_retrying(const struct db_backend *be, const struct dburl *u,
    struct retry *r, int exit_code);

/* The checkpoint table --job keeps, in SQL every backend takes. */
#define DB_CHECKPOINT_TABLE_SQL \
	"CREATE TABLE IF NOT EXISTS etl_checkpoints (job VARCHAR(200) PRIMARY KEY," \
	" position BIGINT NOT NULL, updated_at TIMESTAMP NULL, bookmark TEXT NULL)"
/* etl_checkpoints made before the bookmark column existed gain it. */
#define DB_CHECKPOINT_BOOKMARK_SQL \
	"ALTER TABLE etl_checkpoints ADD COLUMN bookmark TEXT NULL"

#endif
