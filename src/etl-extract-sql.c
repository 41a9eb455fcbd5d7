/*
 * etl-extract-sql - read rows of PostgreSQL, MariaDB/MySQL or SQLite as
 * NDJSON records: the source side of etl-load-sql.
 *
 * One record per row, its keys the result's column names, its values the
 * JSON that etl-load-sql loads back to the same value (lib/db.c and each
 * backend's add_value).  The whole read is one query in one read-only
 * snapshot, streamed row by row (a cursor, an unbuffered result, stepping),
 * so memory does not grow with the result.
 *
 * Incremental reads: --cursor names columns that order the rows and are
 * unique together; only rows after a bookmark (the cursor values of the
 * last row read, compared as a tuple) are read, and control lines
 * {"$etl":{"bookmark":[...]}} carry the bookmark every --checkpoint rows
 * and at the end.  etl-load-sql --job commits each bookmark in the same
 * transaction as the rows before it; --resume reads it back from there.
 *
 * Like the other network clients it confines itself (lib/confine.h) once
 * it has read its password files and opened what it must open as root
 * (main says when).
 */
#include "confine.h"
#include "db.h"
#include "exitcode.h"
#include "jsonout.h"
#include "msg.h"
#include "opt.h"
#include "retry.h"
#include "sig.h"
#include "stats.h"
#include "writer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	KEY_CURSOR = OPT_LONG, KEY_CHECKPOINT, KEY_RESUME, KEY_JOB, KEY_LOOKBACK,
	KEY_FROM, KEY_RETRY_FOR, KEY_PROGRESS, KEY_USER, KEY_NO_SECCOMP,
};

static const struct opt options[] = {
	{ 't', "table", "TABLE", "read the whole table (schema.table allowed)" },
	{ KEY_CURSOR, "cursor", "COL[,COL]", "read in this order, after the bookmark" },
	{ KEY_CHECKPOINT, "checkpoint", "N", "a bookmark control line every N rows (default 5000)" },
	{ KEY_FROM, "from", "JSON", "start after this bookmark (a JSON array)" },
	{ KEY_RESUME, "resume", "URL", "start after the bookmark --job committed at URL" },
	{ KEY_JOB, "job", "NAME", "the etl-load-sql --job whose bookmark --resume reads" },
	{ KEY_LOOKBACK, "lookback", "DURATION", "re-read this far behind the bookmark's time" },
	{ KEY_RETRY_FOR, "retry-for", "DURATION", "retry connecting this long (default 5m)" },
	{ KEY_PROGRESS, "progress", NULL, "show a progress meter when stderr is a terminal" },
	CONFINE_OPTIONS(KEY_USER, KEY_NO_SECCOMP),
	{ 0, NULL, NULL, NULL }
};

static struct {
	const char *url;
	const char *query;
	const char *table;
	const char *cursor;
	long long checkpoint;
	const char *from;
	const char *resume;
	const char *job;
	long long lookback_ms;
	long long retry_for_ms;
} conf = { .checkpoint = 5000, .lookback_ms = -1, .retry_for_ms = RETRY_DEFAULT_FOR_MS };

static const struct db_backend *backend;
static struct dburl url;
static struct dburl target;          /* --resume's */
static struct db *db;
static struct db_table columns;      /* the result's */
static struct db_field *fields;
static char **cursor_names;          /* --cursor's columns */
static int ncursor;
static int *cursor_at;               /* their indexes in the result */
static json_t *bookmark;             /* where this run starts: an array, or NULL */

/* ---- the bookmark ----------------------------------------------------- */

/* --resume: the bookmark etl-load-sql --job committed at the target. */
static void
read_committed_bookmark(void)
{
	const struct db_backend *be = db_backend_for(&target);
	struct db_error err = { 0 };
	struct retry r;
	struct db *h;
	char *text = NULL;

	retry_init(&r, conf.retry_for_ms);
	h = db_connect_retrying(be, &target, &r, EXIT_UNAVAILABLE);
	/* No checkpoint table yet: no run of the job has committed. */
	if (be->bookmark_get(h, conf.job, &text, &err) != DB_OK &&
	    err.status != DB_NO_TABLE)
		msg_die(EXIT_UNAVAILABLE, target.redacted, "reading the bookmark of job"
		    " \"%s\": %s", conf.job, err.message);
	be->disconnect(h);
	if (text) {
		json_error_t e;

		bookmark = json_loads(text, JSON_DECODE_ANY, &e);
		if (!json_is_array(bookmark) && !json_is_null(bookmark))
			msg_die(EXIT_DATA, target.redacted, "job \"%s\": the stored"
			    " bookmark is not a JSON array: %s", conf.job, text);
		if (json_is_null(bookmark)) {
			json_decref(bookmark);
			bookmark = NULL;
		}
		msg_info(target.redacted, "job \"%s\": resuming after %s", conf.job, text);
	}
	free(text);
}

/* ---- building the query ----------------------------------------------- */

static void
add_ident(struct buf *sql, const char *name)
{
	char *q = backend->quote_ident(db, name);

	buf_adds(sql, q);
	free(q);
}

/* A bookmark value as an SQL literal: numbers as their digits, strings
 * quoted by the client library's rules. */
static void
add_literal(struct buf *sql, const json_t *v)
{
	char *q = NULL;

	switch (json_typeof(v)) {
	case JSON_INTEGER:
	case JSON_REAL:
		jsonout_value(sql, v);
		return;
	case JSON_TRUE:
		buf_adds(sql, "TRUE");
		return;
	case JSON_FALSE:
		buf_adds(sql, "FALSE");
		return;
	case JSON_STRING:
		q = backend->quote_literal(db, json_string_value(v), json_string_length(v));
		break;
	default:
		msg_die(EXIT_DATA, NULL, "the bookmark holds %s, which no cursor column"
		    " can", json_is_null(v) ? "null" : "an object or array");
	}
	buf_adds(sql, q);
	free(q);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

/*
 * --lookback: the time T ("2024-05-01T10:00:00.25+02:00", or a date)
 * moved back by --lookback, in the same form (the fraction of a second
 * and the offset kept); NULL when T is not such a time.
 */
static json_t *
time_moved_back(const char *t)
{
	int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
	long long secs;
	char out[96];
	long long yy;
	unsigned mm, dd;

	if (sscanf(t, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return NULL;
	if (t[10] && (sscanf(t + 10, "%*1[T ]%2d:%2d:%2d%n", &h, &mi, &s, &n) != 3))
		return NULL;
	secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600 +
	    mi * 60 + s;
	/* Whole seconds back, rounding the window up: re-reading more is safe. */
	secs -= (conf.lookback_ms + 999) / 1000;
	civil_from_days(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400, &yy, &mm, &dd);
	secs -= (secs >= 0 ? secs / 86400 : (secs - 86399) / 86400) * 86400;
	if (!t[10])
		snprintf(out, sizeof out, "%04lld-%02u-%02u", yy, mm, dd);
	else
		snprintf(out, sizeof out, "%04lld-%02u-%02u%c%02lld:%02lld:%02lld%s", yy,
		    mm, dd, t[10], secs / 3600, secs / 60 % 60, secs % 60, t + 19);
	return json_string(out);
}

/*
 * The statement: the query (or the table) as it is; with --cursor,
 * wrapped to read only rows after the bookmark, in cursor order:
 *   SELECT * FROM (QUERY) AS etl_extract WHERE (a, b) > (x, y) ORDER BY a, b
 * With --lookback, the first cursor column goes back by that much instead,
 *   WHERE a >= x - lookback
 * and the rows read again are the loader's --upsert to absorb.
 */
static char *
build_sql(void)
{
	struct buf sql = BUF_INIT;
	const char *base = conf.query;
	size_t n;

	if (conf.table) {
		const char *dot = strchr(conf.table, '.');
		struct buf t = BUF_INIT;

		if (dot) {
			char *schema = strndup(conf.table, dot - conf.table);

			add_ident(&t, schema);
			buf_addc(&t, '.');
			free(schema);
		}
		add_ident(&t, dot ? dot + 1 : conf.table);
		buf_adds(&sql, "SELECT * FROM ");
		buf_add(&sql, t.data, t.len);
		buf_free(&t);
		base = NULL;
	}
	if (!ncursor) {
		if (base)
			buf_adds(&sql, base);
		buf_cstr(&sql);
		return sql.data;
	}
	if (base) {
		/* A final ';' would end the subquery. */
		for (n = strlen(base); n > 0 && strchr(" \t\r\n;", base[n - 1]); n--)
			;
		buf_adds(&sql, "SELECT * FROM (");
		buf_add(&sql, base, n);
		buf_adds(&sql, ") AS etl_extract");
	}
	if (bookmark && conf.lookback_ms >= 0) {
		json_t *back = json_is_string(json_array_get(bookmark, 0))
		    ? time_moved_back(json_string_value(json_array_get(bookmark, 0))) : NULL;

		if (!back)
			msg_die(EXIT_USAGE, NULL, "--lookback: the bookmark's first value is"
			    " not a date or time: %s", conf.from ? conf.from : "(stored)");
		buf_adds(&sql, " WHERE ");
		add_ident(&sql, cursor_names[0]);
		buf_adds(&sql, " >= ");
		add_literal(&sql, back);
		json_decref(back);
	} else if (bookmark) {
		buf_adds(&sql, " WHERE (");
		for (int i = 0; i < ncursor; i++) {
			if (i)
				buf_adds(&sql, ", ");
			add_ident(&sql, cursor_names[i]);
		}
		buf_adds(&sql, ") > (");
		for (int i = 0; i < ncursor; i++) {
			if (i)
				buf_adds(&sql, ", ");
			add_literal(&sql, json_array_get(bookmark, i));
		}
		buf_addc(&sql, ')');
	}
	buf_adds(&sql, " ORDER BY ");
	for (int i = 0; i < ncursor; i++) {
		if (i)
			buf_adds(&sql, ", ");
		add_ident(&sql, cursor_names[i]);
	}
	buf_cstr(&sql);
	return sql.data;
}

/* ---- the result ------------------------------------------------------- */

/* Keys come from column names: two columns of one name are an error. */
static void
check_columns(void)
{
	json_t *seen = json_object(), *dup = json_array();

	for (int c = 0; c < columns.ncolumns; c++) {
		const char *name = columns.columns[c].name;

		if (json_object_get(seen, name)) {
			json_array_append_new(dup, json_string(name));
			continue;
		}
		json_object_set_new(seen, name, json_integer(c));
	}
	if (json_array_size(dup) > 0) {
		struct buf names = BUF_INIT;
		size_t i;
		json_t *v;

		char message[1024];

		json_array_foreach(dup, i, v) {
			if (i)
				buf_adds(&names, ", ");
			jsonout_value(&names, v);
		}
		snprintf(message, sizeof message, "%s", buf_cstr(&names));
		buf_free(&names);
		json_decref(seen);
		json_decref(dup);
		msg_die(EXIT_DATA, url.redacted, "the result has more than one column"
		    " named %s: give them distinct names (AS)", message);
	}
	for (int i = 0; i < ncursor; i++) {
		json_t *at = json_object_get(seen, cursor_names[i]);

		if (!at) {
			json_decref(seen);
			json_decref(dup);
			msg_die(EXIT_USAGE, url.redacted, "--cursor: the result has no"
			    " column \"%s\"", cursor_names[i]);
		}
		cursor_at[i] = (int)json_integer_value(at);
	}
	json_decref(seen);
	json_decref(dup);
}

/*
 * Open the snapshot, run the query and read its first row: connections
 * lost or refused until then are retried under --retry-for, since nothing
 * has been written yet.  Returns next_row()'s answer for the first row.
 */
static int
start_reading(const char *sql)
{
	struct db_error err;
	struct retry r;

	retry_init(&r, conf.retry_for_ms);
	for (;;) {
		enum db_status s;
		int rc;

		memset(&err, 0, sizeof err);
		if (!db)
			db = db_connect_retrying(backend, &url, &r, EXIT_UNAVAILABLE);
		db_table_free(&columns);
		s = backend->begin_snapshot(db, &err);
		if (s == DB_OK)
			s = backend->query(db, sql, &columns, &err);
		if (s == DB_OK) {
			free(fields);
			fields = calloc(columns.ncolumns + 1, sizeof *fields);
			if ((rc = backend->next_row(db, fields, &err)) >= 0)
				return rc;
			s = err.status;
		}
		if (s != DB_TRANSIENT && s != DB_UNAVAILABLE)
			msg_die(s == DB_AUTH ? EXIT_UNAVAILABLE : EXIT_DATA, url.redacted,
			    "%s", err.message);
		backend->disconnect(db);
		db = NULL;
		db_back_off(&r, url.redacted, &err, EXIT_UNAVAILABLE);
	}
}

/* Where each cursor value of the last row sits in its record's text. */
struct span {
	size_t at, len;
};

/* The keys as JSON text, "name": each, made once. */
static struct buf *
make_keys(void)
{
	struct buf *keys = calloc(columns.ncolumns + 1, sizeof *keys);

	for (int c = 0; c < columns.ncolumns; c++) {
		jsonout_string_lossy(&keys[c], columns.columns[c].name,
		    strlen(columns.columns[c].name));
		buf_addc(&keys[c], ':');
	}
	return keys;
}

static void
write_bookmark(const struct buf *record, const struct span *spans,
    unsigned long long rows)
{
	struct buf line = BUF_INIT;

	buf_adds(&line, "{\"$etl\":{\"bookmark\":[");
	for (int i = 0; i < ncursor; i++) {
		if (i)
			buf_addc(&line, ',');
		buf_add(&line, record->data + spans[i].at, spans[i].len);
	}
	buf_adds(&line, "],\"rows\":");
	jsonout_integer(&line, (json_int_t)rows);
	buf_adds(&line, "}}");
	writer_line(&writer_stdout, line.data, line.len);
	writer_flush(&writer_stdout);
	buf_free(&line);
}

/* The bookmark this run starts from, so that the loader knows the stream
 * is one of bookmarks from its first line. */
static void
write_start(void)
{
	struct buf line = BUF_INIT;

	buf_adds(&line, "{\"$etl\":{\"bookmark\":");
	if (bookmark)
		jsonout_value(&line, bookmark);
	else
		buf_adds(&line, "null");
	buf_adds(&line, ",\"rows\":0}}");
	writer_line(&writer_stdout, line.data, line.len);
	buf_free(&line);
}

/* Say once per column that some of its values had no JSON form. */
static void
warn_nulled(int c)
{
	static unsigned char *warned;

	if (!warned)
		warned = calloc(columns.ncolumns + 1, 1);
	if (warned && !warned[c]) {
		warned[c] = 1;
		msg_warn(url.redacted, "column \"%s\": a value JSON cannot hold (NaN,"
		    " Infinity, a zero date) was written as null", columns.columns[c].name);
	}
}

/* One row as one record into RECORD; SPANS: its cursor values. */
static void
format_row(struct buf *record, const struct buf *keys, struct span *spans)
{
	record->len = 0;
	buf_addc(record, '{');
	for (int c = 0, k = 0; c < columns.ncolumns; c++) {
		size_t at;

		if (c)
			buf_addc(record, ',');
		buf_add(record, keys[c].data, keys[c].len);
		at = record->len;
		if (backend->add_value(record, &columns.columns[c], &fields[c]))
			warn_nulled(c);
		for (k = 0; k < ncursor; k++)
			if (cursor_at[k] == c) {
				if (fields[c].null)
					msg_die(EXIT_DATA, url.redacted, "cursor column \"%s\""
					    " is null in a row: cursor columns must be NOT NULL",
					    columns.columns[c].name);
				spans[k].at = at;
				spans[k].len = record->len - at;
			}
	}
	buf_addc(record, '}');
}

/* The row being written (file scope: a run that stops in the middle
 * leaves nothing unreachable behind). */
static struct buf *keys, record;
static struct span *spans;

/* Write every row; 1 when the result ended, 0 when a signal stopped it. */
static int
read_rows(int rc)
{
	unsigned long long rows = 0, since_checkpoint = 0;
	struct db_error err;

	if (ncursor)
		write_start();
	while (rc > 0) {
		format_row(&record, keys, spans);
		writer_line(&writer_stdout, record.data, record.len);
		rows++;
		stats_add(&stats.records_out, 1);
		if (ncursor && ++since_checkpoint >= (unsigned long long)conf.checkpoint) {
			write_bookmark(&record, spans, rows);
			since_checkpoint = 0;
		}
		if ((rows & 1023) == 0) {
			sig_serve_stats();
			stats_progress_tick(0, 0);
		}
		if (sig_stop) {
			/* What was written so far is whole: end there. */
			if (ncursor && since_checkpoint)
				write_bookmark(&record, spans, rows);
			return 0;
		}
		memset(&err, 0, sizeof err);
		if ((rc = backend->next_row(db, fields, &err)) < 0) {
			/* Name only the rows fully written, so --resume goes on
			 * from the first one that was not. */
			if (ncursor && since_checkpoint)
				write_bookmark(&record, spans, rows);
			writer_flush(&writer_stdout);
			msg_die(err.status == DB_TRANSIENT || err.status == DB_UNAVAILABLE
			    ? EXIT_TEMPFAIL : EXIT_DATA, url.redacted, "after %llu rows: %s",
			    rows, err.message);
		}
	}
	if (ncursor && since_checkpoint)
		write_bookmark(&record, spans, rows);
	return 1;
}

/* ---- setup ------------------------------------------------------------ */

static void
split_cursor(const struct opt_parser *p)
{
	char *list = strdup(conf.cursor), *name, *save = NULL;

	cursor_names = calloc(strlen(conf.cursor) + 1, sizeof *cursor_names);
	cursor_at = calloc(strlen(conf.cursor) + 1, sizeof *cursor_at);
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save))
		cursor_names[ncursor++] = strdup(name);
	free(list);
	if (!ncursor)
		opt_usage_error(p, "--cursor: no column named");
}

static void
parse_options(int argc, char **argv)
{
	struct opt_parser p;
	char err[256];
	int c, status;

	opt_begin(&p, argc, argv, "[OPTION]... [DATABASE_URL] (QUERY | -t TABLE)",
	    "Read rows of a PostgreSQL, MariaDB/MySQL or SQLite database as NDJSON records.",
	    options, 0);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case 't': conf.table = p.arg; break;
		case KEY_CURSOR: conf.cursor = p.arg; break;
		case KEY_CHECKPOINT: conf.checkpoint = opt_count(&p, 1, LLONG_MAX); break;
		case KEY_FROM: conf.from = p.arg; break;
		case KEY_RESUME: conf.resume = p.arg; break;
		case KEY_JOB: conf.job = p.arg; break;
		case KEY_LOOKBACK: conf.lookback_ms = opt_duration_ms(&p); break;
		case KEY_RETRY_FOR: conf.retry_for_ms = opt_duration_ms(&p); break;
		case KEY_PROGRESS: stats_progress_enable(); break;
		case KEY_USER: confine_conf.user = p.arg; break;
		case KEY_NO_SECCOMP: confine_conf.seccomp = 0; break;
		}
	}
	argc -= p.ind;
	argv += p.ind;
	/* The URL: an operand that looks like one, else $DATABASE_URL. */
	if (argc > 0 && strstr(argv[0], ":") && !strchr(argv[0], '\n') && !strchr(argv[0], ' ') &&
	    (strncmp(argv[0], "sqlite:", 7) == 0 || strstr(argv[0], "://"))) {
		conf.url = argv[0];
		argc--;
		argv++;
	} else {
		conf.url = getenv("DATABASE_URL");
	}
	if (!conf.url)
		opt_usage_error(&p, "no database URL: give one, or set DATABASE_URL");
	if (argc > 1)
		opt_usage_error(&p, "one query only (quote it): \"%s\"", argv[1]);
	conf.query = argc ? argv[0] : NULL;
	if (!conf.query == !conf.table)
		opt_usage_error(&p, conf.table ? "a query or -t TABLE, not both"
		    : "no query: give one, or -t TABLE");
	if (dburl_parse(conf.url, &url, err, sizeof err) != 0)
		opt_usage_error(&p, "bad database URL: %s", err);
	if ((status = dburl_read_password_file(&url, err, sizeof err)) != 0)
		msg_die(status, url.password_file, "%s", err);
	url.read_only = 1;
	if (conf.cursor)
		split_cursor(&p);
	if ((conf.resume || conf.from || conf.lookback_ms >= 0) && !conf.cursor)
		opt_usage_error(&p, "--resume, --from and --lookback need --cursor");
	if (!conf.resume != !conf.job)
		opt_usage_error(&p, "--resume and --job go together");
	if (conf.resume && conf.from)
		opt_usage_error(&p, "--resume and --from do not go together");
	if (conf.resume && dburl_parse(conf.resume, &target, err, sizeof err) != 0)
		opt_usage_error(&p, "--resume: bad database URL: %s", err);
	if (conf.resume && (status = dburl_read_password_file(&target, err, sizeof err)) != 0)
		msg_die(status, target.password_file, "%s", err);
	if (conf.from) {
		json_error_t e;

		bookmark = json_loads(conf.from, JSON_DECODE_ANY, &e);
		if (!json_is_array(bookmark))
			opt_usage_error(&p, "--from: not a JSON array: %s", conf.from);
	}
}

/*
 * Connect, build the statement (quoting needs the connection) and read
 * its first row: start_reading's answer for it.
 */
static int
open_query(char **sql)
{
	struct retry r;

	if (bookmark && (int)json_array_size(bookmark) != ncursor)
		msg_die(EXIT_USAGE, NULL, "the bookmark has %zu values for %d --cursor"
		    " columns", json_array_size(bookmark), ncursor);
	retry_init(&r, conf.retry_for_ms);
	db = db_connect_retrying(backend, &url, &r, EXIT_UNAVAILABLE);
	*sql = build_sql();
	msg_info(url.redacted, "%s", *sql);
	return start_reading(*sql);
}

/* The files a URL names that its client library reads again on each
 * connection, as the user it runs as now. */
static void
still_readable(const struct dburl *u)
{
	for (int i = 0; dburl_file_keys[i]; i++) {
		const char *path = dburl_param(u, dburl_file_keys[i]);

		/* sslrootcert=system: libpq's name for the system's CAs */
		if (path && strcmp(path, "system") != 0)
			confine_still_readable(dburl_file_keys[i], path);
	}
}

/* No root, the system call filter (lib/confine.h), with the sockets of a
 * client: connections to a server and their retries come after. */
static void
confine_self(void)
{
	confine_allow("pwrite64");  /* SQLite merging a sort in its temporary files */
	confine_allow("sysinfo");   /* glibc's qsort, in OpenSSL's start (libpq, Connector/C) */
	confine_client();
	still_readable(&url);
	if (conf.resume)
		still_readable(&target);
}

int
main(int argc, char **argv)
{
	int rc = 0, sqlite_source, sqlite_target;
	char *sql = NULL;

	parse_options(argc, argv);
	backend = db_backend_for(&url);
	sqlite_source = url.scheme == DBURL_SQLITE;
	sqlite_target = conf.resume && target.scheme == DBURL_SQLITE;
	/*
	 * SQLite opens files as it reads, some for writing: a WAL database's
	 * -wal and -shm at the first read, a sort's temporary files while it
	 * sorts, before the first row.  So SQLite databases are read before
	 * confinement, a source up to its first row (and the --resume
	 * bookmark its query needs before that, wherever it is kept); a
	 * server is reached only after.
	 */
	if (sqlite_target || (conf.resume && sqlite_source))
		read_committed_bookmark();
	if (sqlite_source)
		rc = open_query(&sql);
	confine_self();
	if (conf.resume && !sqlite_target && !sqlite_source)
		read_committed_bookmark();
	if (!sqlite_source)
		rc = open_query(&sql);
	check_columns();
	keys = make_keys();
	spans = calloc(ncursor + 1, sizeof *spans);
	/* After a stop, the rest of the result is dropped with the connection
	 * rather than read to its end. */
	if (read_rows(rc))
		backend->query_end(db);
	backend->disconnect(db);
	db = NULL;
	free(sql);
	for (int c = 0; c < columns.ncolumns; c++)
		buf_free(&keys[c]);
	free(keys);
	free(spans);
	buf_free(&record);
	dburl_free(&target);
	msg_exit(EXIT_DONE);
}
