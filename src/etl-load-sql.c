/*
 * etl-load-sql - load NDJSON records into a table of PostgreSQL, MariaDB/
 * MySQL/TiDB or SQLite.
 *
 * Records are matched to the table's columns by name and converted to their
 * types (lib/cell.c), gathered into a transaction of up to -n rows (a batch
 * line is a transaction of its own) and handed to the backend's bulk path
 * (lib/db-*.c).  A transaction is committed at -n rows, -T after its first
 * row, when the input goes quiet while a control line waits, at end of
 * input and on SIGTERM.  Control lines are written to stdout only once
 * every row before them is committed: the acknowledgement stream.
 *
 * When the database refuses a transaction because of some row, the rows
 * are split in halves until the bad ones are found; those are rejected
 * (or stop the run) and the rest is committed.  Transient failures (a lost
 * connection, a deadlock) roll back and retry the whole transaction with
 * exponential backoff and jitter, for up to --retry-for.
 */
#include "cell.h"
#include "csv.h"
#include "db.h"
#include "exitcode.h"
#include "jsonout.h"
#include "line.h"
#include "msg.h"
#include "opt.h"
#include "reader.h"
#include "reject.h"
#include "retry.h"
#include "sig.h"
#include "stats.h"
#include "tablerow.h"
#include "writer.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	KEY_UPSERT = OPT_LONG, KEY_IGNORE_DUPLICATES, KEY_CREATE, KEY_ADD_COLUMNS,
	KEY_INIT, KEY_SQL, KEY_IGNORE_UNKNOWN, KEY_RETRY_FOR, KEY_JOB,
};

static const struct opt options[] = {
	{ 't', "table", "TABLE", "the table to load (schema.table allowed)" },
	{ 'n', "rows", "N", "rows per transaction (default 5000)" },
	{ 'T', "max-delay", "DURATION", "commit at most this long after a row arrives (default 1s)" },
	{ KEY_UPSERT, "upsert", "KEY[,KEY]", "update rows whose KEY columns exist" },
	{ KEY_IGNORE_DUPLICATES, "ignore-duplicates", NULL, "skip rows whose key exists" },
	{ KEY_CREATE, "create", NULL, "create a missing table from the first record" },
	{ KEY_ADD_COLUMNS, "add-columns", NULL, "add a column for a new key" },
	{ KEY_IGNORE_UNKNOWN, "ignore-unknown", NULL, "drop keys that are not columns" },
	{ KEY_INIT, "init", "FILE.sql", "run this SQL file once before loading" },
	{ KEY_SQL, "sql", NULL, "records are {\"sql\":…,\"params\":[…]} statements" },
	{ KEY_RETRY_FOR, "retry-for", "DURATION", "retry transient failures this long (default 5m)" },
	{ KEY_JOB, "job", "NAME", "exactly once: skip what an earlier run of NAME committed" },
	{ 0, NULL, NULL, NULL }
};

static struct {
	const char *url;
	const char *table;       /* as given: "orders" or "schema.orders" */
	long long rows;
	long long max_delay_ms;
	long long retry_for_ms;
	const char *upsert;
	int ignore_duplicates;
	int create;
	int add_columns;
	int ignore_unknown;
	const char *init_file;
	int sql_mode;
	const char *job;
} conf = { .rows = 5000, .max_delay_ms = 1000, .retry_for_ms = RETRY_DEFAULT_FOR_MS };

/* The connection, the table and how record keys find columns. */
static const struct db_backend *backend;
static struct dburl url;
static struct db *db;
static struct db_table table;
static int table_known;
static struct tablerow *rowmap;  /* reads records and CSV rows into cells */
static int *key_columns;
static int nkeys;
static char *schema_name, *table_name;

/*
 * --job: input records are numbered from 1 (batch elements one by one);
 * etl_checkpoints holds, per job, the number of the last record committed
 * or rejected, written in the same transaction as the rows it counts.
 */
static long long input_seq;      /* the number of the last record read */
static long long job_skip;       /* records an earlier run dealt with */
static long long job_committed;  /* the position stored now */
/*
 * A stream of etl-extract-sql --cursor starts with a control line holding
 * the bookmark it reads after, and has one after every so many rows:
 * {"$etl":{"bookmark":[…]}}.  Each bookmark ends a transaction and is
 * committed with the rows before it; rows are committed only so, and rows
 * after the last bookmark of a stream that ends without one are left for
 * the next run (etl-extract-sql --resume reads them again).
 */
static int bookmarked;           /* the stream carries bookmarks */
static int exit_status = EXIT_DONE;

/* One row waiting for its commit. */
struct pending {
	const char *text;            /* the record as read (in its txn's arena) */
	size_t len;
	const struct csv_header *header;  /* a CSV row: TEXT is the raw row */
	json_t *record;              /* --sql: the statement (owned) */
	struct place place;
	size_t element;              /* 1-based position in a batch line, 0 if none */
	long long seq;               /* its input record number */
};

/*
 * A transaction.  The main thread reads records into the open one (txn);
 * when it is complete it is handed to the committer thread (flight), and
 * the main thread goes on reading into the other while the database works:
 * parsing and the server's work overlap.  At most one is in flight; the
 * main thread touches the connection only when none is.
 */
struct txn {
	struct pending *rows;
	size_t n, cap;
	struct cell *cells;          /* n rows of table.ncolumns cells */
	size_t cells_cap;
	struct cell_arena arena;
	struct buf prepared;         /* the bulk data of all its rows, built by
	                                the main thread at hand-over, or empty */
	struct buf controls;         /* control lines waiting for this commit */
	double first_at;
	long long checkpoint;        /* --job: the position to store after it, or -1 */
	struct buf bookmark;         /* --job: the bookmark ending it, or empty */
	int bookmark_stored;         /* committed with its last rows */
};

static struct txn txns[2];
static struct txn *txn = &txns[0];   /* open: the main thread's */
static struct txn *flight;           /* the committer's, or NULL */
static long long handed_seq;         /* the last --job position handed over */
static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_cond = PTHREAD_COND_INITIALIZER;
static pthread_t committer;
static int closing;                  /* no more transactions will come */
static int flight_sent;              /* its prepared data went to the server */

static const char *
row_where(const struct pending *p, char *out, size_t size)
{
	if (p->element)
		snprintf(out, size, "%s:%lu (row %zu)", p->place.file, p->place.line,
		    p->element);
	else
		place_format(&p->place, out, size);
	return out;
}

/* ---- connecting and retrying ----------------------------------------- */

/* Back off before the next attempt by the shared policy (lib/retry.h):
 * exits 75 (or 69 before the first connection) once --retry-for has passed
 * since the run of failures began. */
static void
back_off(struct retry *r, const struct db_error *err, int exit_code)
{
	db_back_off(r, url.redacted, err, exit_code);
}

static void
connect_with_retry(int exit_code)
{
	struct retry r;

	retry_init(&r, conf.retry_for_ms);
	if (!db)
		db = db_connect_retrying(backend, &url, &r, exit_code);
}

static void
disconnect(void)
{
	if (db)
		backend->disconnect(db);
	db = NULL;
}

/* ---- the table -------------------------------------------------------- */

static void
resolve_keys(void)
{
	char *list, *key, *save = NULL;

	free(key_columns);
	key_columns = NULL;
	nkeys = 0;
	if (!conf.upsert)
		return;
	list = strdup(conf.upsert);
	key_columns = calloc(table.ncolumns + 1, sizeof *key_columns);
	for (key = strtok_r(list, ",", &save); key; key = strtok_r(NULL, ",", &save)) {
		int i = tablerow_column(rowmap, key, strlen(key));

		if (i < 0)
			msg_die(EXIT_CONFIG, NULL, "--upsert: table \"%s\" has no column \"%s\"",
			    conf.table, key);
		if (nkeys < table.ncolumns)
			key_columns[nkeys++] = i;
	}
	free(list);
}

/* Read the table's columns; 0 when it does not exist. */
static int
describe_table(void)
{
	struct db_error err;
	struct retry r;

	retry_init(&r, conf.retry_for_ms);
	for (;;) {
		enum db_status s;

		memset(&err, 0, sizeof err);
		connect_with_retry(EXIT_UNAVAILABLE);
		db_table_free(&table);
		s = backend->describe(db, schema_name, table_name, &table, &err);
		if (s == DB_OK)
			break;
		if (s == DB_NO_TABLE)
			return 0;
		if (s != DB_TRANSIENT && s != DB_UNAVAILABLE)
			msg_die(EXIT_UNAVAILABLE, url.redacted, "%s", err.message);
		disconnect();
		back_off(&r, &err, EXIT_TEMPFAIL);
	}
	table_known = 1;
	tablerow_use_table(rowmap, &table, conf.ignore_unknown);
	resolve_keys();
	return 1;
}

/* DDL (--create, --add-columns), retried like everything else. */
static void
run_ddl(const char *sql)
{
	struct db_error err;
	struct retry r;

	retry_init(&r, conf.retry_for_ms);
	for (;;) {
		memset(&err, 0, sizeof err);
		connect_with_retry(EXIT_UNAVAILABLE);
		if (backend->exec(db, sql, &err) == DB_OK)
			return;
		if (err.status != DB_TRANSIENT && err.status != DB_UNAVAILABLE)
			msg_die(EXIT_UNAVAILABLE, url.redacted, "%s: %s", sql, err.message);
		disconnect();
		back_off(&r, &err, EXIT_TEMPFAIL);
	}
}

static void
add_table_name(struct buf *sql)
{
	char *q;

	if (schema_name) {
		q = backend->quote_ident(db, schema_name);
		buf_adds(sql, q);
		buf_addc(sql, '.');
		free(q);
	}
	q = backend->quote_ident(db, table_name);
	buf_adds(sql, q);
	free(q);
}

/* A column for values of TYPE (JSON_NULL: text). */
static void
add_column_definition(struct buf *sql, const char *name, json_type type)
{
	char *q = backend->quote_ident(db, name);

	buf_adds(sql, q);
	buf_addc(sql, ' ');
	buf_adds(sql, backend->type_for(type == JSON_NULL ? JSON_STRING : type));
	free(q);
}

/* --create: a table with a column per key of RECORD, typed by its values. */
static void
create_table(const json_t *record)
{
	struct buf sql = BUF_INIT;
	const char *key;
	json_t *value;
	int n = 0;

	buf_adds(&sql, "CREATE TABLE ");
	add_table_name(&sql);
	buf_adds(&sql, " (");
	json_object_foreach((json_t *)record, key, value) {
		if (n++)
			buf_adds(&sql, ", ");
		add_column_definition(&sql, key, json_typeof(value));
	}
	if (conf.upsert) {
		/* --upsert needs its key to be unique: make it the primary key. */
		char *list = strdup(conf.upsert), *key, *save = NULL;
		int k = 0;

		buf_adds(&sql, ", PRIMARY KEY (");
		for (key = strtok_r(list, ",", &save); key; key = strtok_r(NULL, ",", &save)) {
			char *q = backend->quote_ident(db, key);

			if (!json_object_get(record, key))
				msg_die(EXIT_DATA, NULL, "--create: the first record has no"
				    " \"%s\" for the --upsert key", key);
			if (k++)
				buf_addc(&sql, ',');
			buf_adds(&sql, q);
			free(q);
		}
		free(list);
		buf_addc(&sql, ')');
	}
	buf_addc(&sql, ')');
	if (n == 0)
		msg_die(EXIT_DATA, NULL, "--create: the first record has no keys");
	msg_info(url.redacted, "%s", buf_cstr(&sql));
	run_ddl(buf_cstr(&sql));
	buf_free(&sql);
	if (!describe_table())
		msg_die(EXIT_UNAVAILABLE, url.redacted, "table \"%s\" is still missing after"
		    " CREATE TABLE", conf.table);
}

/* --add-columns: ALTER TABLE for KEY, for values of TYPE. */
static void
add_column(const char *key, json_type type)
{
	struct buf sql = BUF_INIT;

	buf_adds(&sql, "ALTER TABLE ");
	add_table_name(&sql);
	buf_adds(&sql, " ADD COLUMN ");
	add_column_definition(&sql, key, type);
	msg_info(url.redacted, "%s", buf_cstr(&sql));
	run_ddl(buf_cstr(&sql));
	buf_free(&sql);
	describe_table();
}

/* ---- committing ------------------------------------------------------- */

static void
write_controls(void)
{
	if (flight->controls.len == 0)
		return;
	writer_add(&writer_stdout, flight->controls.data, flight->controls.len);
	flight->controls.len = 0;
	writer_flush(&writer_stdout);
}

static enum db_status
load_statements(size_t lo, size_t hi, struct db_error *err)
{
	for (size_t i = lo; i < hi; i++) {
		const json_t *rec = flight->rows[i].record;
		enum db_status s = backend->run(db,
		    json_string_value(json_object_get(rec, "sql")),
		    json_object_get(rec, "params"), err);

		if (s != DB_OK) {
			if (s == DB_ROW_ERROR)
				err->row = (long)(i - lo);
			return s;
		}
	}
	return DB_OK;
}

/* db_rows.sent: the committer has sent the prepared data in flight. */
static void
prepared_sent(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&flight_lock);
	flight_sent = 1;
	pthread_cond_broadcast(&flight_cond);
	pthread_mutex_unlock(&flight_lock);
}

/* Rows [lo, hi) of transaction T, to load. */
static struct db_rows
txn_rows(const struct txn *t, size_t lo, size_t hi)
{
	struct db_rows rows = {
		.table = &table, .cells = t->cells + lo * table.ncolumns,
		.nrows = hi - lo, .key_columns = key_columns, .nkeys = nkeys,
		.mode = conf.upsert ? DB_UPSERT
		    : conf.ignore_duplicates ? DB_IGNORE_DUPLICATES : DB_INSERT,
		.prepared = lo == 0 && hi == t->n ? &t->prepared : NULL,
		.sent = prepared_sent,
	};

	return rows;
}

/* One attempt at rows [lo, hi) as one transaction. */
static enum db_status
try_transaction(size_t lo, size_t hi, struct db_error *err)
{
	struct db_rows rows = txn_rows(flight, lo, hi);
	enum db_status s;

	memset(err, 0, sizeof *err);
	err->row = -1;
	if ((s = backend->begin(db, err)) != DB_OK)
		return s;
	s = conf.sql_mode ? load_statements(lo, hi, err) : backend->load(db, &rows, err);
	if (s == DB_OK && conf.job && hi == flight->n && flight->bookmark.len)
		s = backend->bookmark_put(db, conf.job, flight->rows[hi - 1].seq,
		    buf_cstr(&flight->bookmark), err);
	else if (s == DB_OK && conf.job)
		s = backend->checkpoint_put(db, conf.job, flight->rows[hi - 1].seq, err);
	if (s == DB_OK && conf.job && hi == flight->n && flight->bookmark.len)
		flight->bookmark_stored = 1;
	if (s == DB_OK)
		s = backend->commit(db, err);
	if (s == DB_OK && conf.job)
		job_committed = flight->rows[hi - 1].seq;
	if (s != DB_OK)
		flight->bookmark_stored = 0;
	if (s != DB_OK)
		backend->rollback(db);
	return s;
}

/*
 * After a failure that may have hidden a COMMIT (the connection was lost
 * while committing), the checkpoint says whether it happened.
 */
static int
already_committed(long long seq)
{
	struct db_error err = { 0 };
	long long position;

	if (backend->checkpoint_get(db, conf.job, &position, &err) != DB_OK)
		return 0;
	if (position >= seq)
		job_committed = position;
	return position >= seq;
}

/* Rows [lo, hi) in one transaction, retrying transient failures; returns
 * DB_OK or DB_ROW_ERROR (rolled back, with the database's message). */
static enum db_status
commit_range(size_t lo, size_t hi, struct db_error *err)
{
	struct retry r;

	retry_init(&r, conf.retry_for_ms);
	for (;;) {
		enum db_status s;

		connect_with_retry(EXIT_TEMPFAIL);
		if (r.attempt > 0 && conf.job && already_committed(flight->rows[hi - 1].seq))
			return DB_OK;  /* the COMMIT whose answer was lost did commit */
		s = try_transaction(lo, hi, err);
		if (s == DB_OK || s == DB_ROW_ERROR)
			return s;
		if (s != DB_TRANSIENT && s != DB_UNAVAILABLE)
			msg_die(EXIT_UNAVAILABLE, url.redacted, "%s", err->message);
		disconnect();
		back_off(&r, err, EXIT_TEMPFAIL);
	}
}

/*
 * Reject the record TEXT[0..LEN) (RECORD, if it was parsed).  The reject
 * file shows a record as a JSON object whenever it is one, so the text is
 * parsed here: rejects are rare, rows are many.  Without --reject this
 * exits 65.
 */
static void
reject_text(const char *where, const char *reason, const json_t *record,
    const char *text, size_t len)
{
	json_t *v = NULL;
	enum line_kind kind;
	char err[256];

	if (!record && text)
		record = v = line_parse(text, len, &kind, err, sizeof err);
	reject_record(where, reason, record, text, len);
	json_decref(v);
}

static void
reject_row(size_t i, const char *reason)
{
	char where[PATH_MAX + 64];
	const struct pending *p = &flight->rows[i];
	struct buf record = BUF_INIT;

	/* A CSV row is rejected as the record it made, as any other. */
	if (p->header && csv_header_record(p->header, p->text, p->len, &record) != 0)
		msg_die(EXIT_SOFTWARE, NULL, "a CSV row read before no longer reads");
	/* Without --reject this exits 65: the rows before it are committed. */
	reject_text(row_where(p, where, sizeof where), reason, p->record,
	    p->header ? record.data : p->text, p->header ? record.len : p->len);
	buf_free(&record);
}

/*
 * Commit rows [lo, hi), isolating the rows the database refuses: split in
 * halves until a refused range is a single row, which is rejected.  Rows
 * are committed in input order, so without --reject everything before the
 * first bad row is committed when the run stops.
 */
static void
commit_isolating(size_t lo, size_t hi)
{
	struct db_error err;
	size_t bad, mid;

	if (lo >= hi)
		return;
	if (commit_range(lo, hi, &err) == DB_OK) {
		stats_add(&stats.records_out, hi - lo);
		stats_add(&stats.delivered, hi - lo);
		stats_add(&stats.batches, 1);
		return;
	}
	if (hi - lo == 1) {
		reject_row(lo, err.message);
		return;
	}
	bad = err.row >= 0 && (size_t)err.row < hi - lo ? lo + err.row : hi;
	if (bad < hi) {
		/* The database named the row: check it alone, keep the rest. */
		commit_isolating(lo, bad);
		commit_isolating(bad, bad + 1);
		commit_isolating(bad + 1, hi);
		return;
	}
	mid = lo + (hi - lo) / 2;
	commit_isolating(lo, mid);
	commit_isolating(mid, hi);
}

static void
clear_txn(void)
{
	for (size_t i = 0; i < flight->n; i++)
		json_decref(flight->rows[i].record);  /* --sql */
	flight->n = 0;
	flight->prepared.len = 0;
	cell_arena_reset(&flight->arena);
}

/* --job: move the checkpoint past records that were only rejected, and
 * store a bookmark that came with no rows (BOOKMARK, or NULL). */
static void
put_checkpoint(long long position, const char *bookmark)
{
	struct db_error err;
	struct retry r;

	retry_init(&r, conf.retry_for_ms);
	while (job_committed < position || bookmark) {
		enum db_status s;

		connect_with_retry(EXIT_TEMPFAIL);
		memset(&err, 0, sizeof err);
		s = backend->begin(db, &err);
		if (s == DB_OK && bookmark)
			s = backend->bookmark_put(db, conf.job, position, bookmark, &err);
		else if (s == DB_OK)
			s = backend->checkpoint_put(db, conf.job, position, &err);
		if (s == DB_OK)
			s = backend->commit(db, &err);
		if (s == DB_OK) {
			job_committed = position;
			return;
		}
		backend->rollback(db);
		if (s != DB_TRANSIENT && s != DB_UNAVAILABLE)
			msg_die(EXIT_UNAVAILABLE, url.redacted, "%s", err.message);
		disconnect();
		back_off(&r, &err, EXIT_TEMPFAIL);
	}
}

/* Commit the transaction in flight, move the --job checkpoint, then
 * acknowledge its control lines. */
static void
commit_flight(void)
{
	if (flight->n > 0)
		commit_isolating(0, flight->n);
	clear_txn();
	if (flight->checkpoint >= 0)
		put_checkpoint(flight->checkpoint, flight->bookmark.len &&
		    !flight->bookmark_stored ? buf_cstr(&flight->bookmark) : NULL);
	flight->bookmark.len = 0;
	flight->bookmark_stored = 0;
	write_controls();
}

static void *
committer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&flight_lock);
	for (;;) {
		while (!flight && !closing)
			pthread_cond_wait(&flight_cond, &flight_lock);
		if (!flight)
			break;
		pthread_mutex_unlock(&flight_lock);
		commit_flight();
		pthread_mutex_lock(&flight_lock);
		flight = NULL;
		pthread_cond_broadcast(&flight_cond);
	}
	pthread_mutex_unlock(&flight_lock);
	return NULL;
}

/* Wait until no transaction is in flight: the connection is free and
 * everything handed over is committed or rejected. */
static void
wait_committed(void)
{
	pthread_mutex_lock(&flight_lock);
	while (flight)
		sig_cond_wait(&flight_cond, &flight_lock);
	pthread_mutex_unlock(&flight_lock);
}

/* Hand the open transaction to the committer (once the one before it is
 * done) and open the other; CHECKPOINT as in struct txn. */
static void
hand_over(long long checkpoint)
{
	struct txn *next = txn == &txns[0] ? &txns[1] : &txns[0];
	int built;

	if (txn->n == 0 && txn->controls.len == 0 && checkpoint <= handed_seq)
		return;  /* nothing to do */
	if (checkpoint > handed_seq)
		handed_seq = checkpoint;
	txn->checkpoint = checkpoint;
	if (backend->prepare && !conf.sql_mode) {
		/* while the committer still loads the one before */
		struct db_rows rows = txn_rows(txn, 0, txn->n);

		backend->prepare(&rows, &txn->prepared);
	}
	built = txn->prepared.len > 0;
	pthread_mutex_lock(&flight_lock);
	while (flight)
		sig_cond_wait(&flight_cond, &flight_lock);
	flight = txn;
	flight_sent = 0;
	pthread_cond_broadcast(&flight_cond);
	/*
	 * Read on once the committer has sent what was built: until then it
	 * waits on the server's answers, and each answer wakes it; if this
	 * thread held the core then, the server would wait for both (on two
	 * cores, perf sched shows 1-3 ms a time).  It costs this thread the
	 * round trips of starting the transaction.
	 */
	while (built && flight == txn && !flight_sent)
		sig_cond_wait(&flight_cond, &flight_lock);
	pthread_mutex_unlock(&flight_lock);
	txn = next;
	txn->first_at = 0;
}

/* Commit the open transaction.  Every record read so far will be
 * committed or rejected before its control lines are written. */
static void
commit_pending(void)
{
	hand_over(conf.job ? input_seq : -1);
}

/* Before a bad record stops the run, and before DDL: commit what came
 * before it, and wait for that; the checkpoint stays short of the record,
 * so a re-run meets it again. */
static void
commit_before_stop(void)
{
	hand_over(-1);
	wait_committed();
}

/*
 * Before a bad record is rejected: without --reject the run stops, so
 * commit what came before it; with --reject, let what is in flight finish
 * first, so rejects come out in input order.
 */
static void drop_unbookmarked(void);

static void
before_reject(void)
{
	if (!reject_enabled() && bookmarked)
		drop_unbookmarked();  /* no bookmark names them: the next run does */
	if (!reject_enabled())
		commit_before_stop();
	else
		wait_committed();
}

static void
start_committer(void)
{
	if (pthread_create(&committer, NULL, committer_main, NULL) != 0)
		msg_die(EXIT_SOFTWARE, NULL, "cannot start a thread");
}

/* At the end: commit what is open and wait for the committer to finish. */
static void
finish_committing(void)
{
	commit_pending();
	pthread_mutex_lock(&flight_lock);
	closing = 1;
	pthread_cond_broadcast(&flight_cond);
	pthread_mutex_unlock(&flight_lock);
	pthread_join(committer, NULL);
}

/* ---- records to rows -------------------------------------------------- */

static struct cell *
new_row(const struct place *place, size_t element)
{
	struct pending *p;
	size_t ncol = table.ncolumns;

	if (txn->n == txn->cap) {
		txn->cap = txn->cap ? txn->cap * 2 : 256;
		txn->rows = realloc(txn->rows, txn->cap * sizeof *txn->rows);
		if (!txn->rows)
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	}
	if ((txn->n + 1) * ncol > txn->cells_cap) {
		txn->cells_cap = (txn->n + 1) * ncol * 2;
		txn->cells = realloc(txn->cells, txn->cells_cap * sizeof *txn->cells);
		if (!txn->cells)
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	}
	if (txn->n == 0)
		txn->first_at = stats_now_coarse();
	p = &txn->rows[txn->n];
	memset(p, 0, sizeof *p);
	p->place = *place;
	p->element = element;
	p->seq = input_seq;
	return txn->cells + txn->n++ * ncol;
}

/* Drop the row new_row() just added (it did not convert). */
static void
drop_last_row(void)
{
	txn->n--;
	if (txn->n == 0)
		txn->first_at = 0;
}

/* A record that cannot be loaded: RECORD (owned) if it was parsed, else
 * its TEXT. */
static void
bad_record(const struct place *place, size_t element, const char *reason,
    json_t *record, const char *text, size_t len)
{
	char where[PATH_MAX + 64];
	struct pending p = { .place = *place, .element = element };

	before_reject();   /* what came before stays committed */
	reject_text(row_where(&p, where, sizeof where), reason, record, text, len);
	json_decref(record);
}

/* --sql: take one statement record (owned). */
static void
take_statement(json_t *record, const struct place *place, size_t element)
{
	const json_t *sql = json_object_get(record, "sql");
	const json_t *params = json_object_get(record, "params");

	if (!json_is_string(sql)) {
		bad_record(place, element, "--sql: the record has no \"sql\" string",
		    record, NULL, 0);
		return;
	}
	if (params && !json_is_array(params)) {
		bad_record(place, element, "--sql: \"params\" is not an array",
		    record, NULL, 0);
		return;
	}
	new_row(place, element);
	txn->rows[txn->n - 1].record = record;
}

/* --create: make the table from the first record's keys and values. */
static int
create_from(const char *text, size_t len, char *err, size_t errsize)
{
	enum line_kind kind;
	json_t *record = line_parse(text, len, &kind, err, errsize);

	if (!record)
		return -1;
	wait_committed();  /* the connection is the main thread's now */
	create_table(record);
	json_decref(record);
	return 0;
}

/*
 * Read a record into a new row: TEXT[0..LEN), or the CSV row FIELDS (then
 * TEXT is the raw row).  0; -1 when it is not valid JSON, or 1 when it
 * does not fit the table, with the row dropped and the reason in ERR.  A
 * key that is not a column is a data error, or dropped (--ignore-unknown),
 * or made a column (--add-columns).
 */
static int
read_row(const char *text, size_t len, const struct csv_fields *fields,
    const struct place *place, size_t element, char *err, size_t errsize)
{
	struct pending *p;
	enum tablerow_status rc;

	for (;;) {
		struct cell *cells = new_row(place, element);
		json_type type;
		const char *key;

		rc = fields ? tablerow_csv(rowmap, fields, cells, &txn->arena, err, errsize)
		    : tablerow_record(rowmap, text, len, cells, &txn->arena, err, errsize);
		if (rc == TABLEROW_OK)
			break;
		drop_last_row();
		if (rc != TABLEROW_UNKNOWN_KEY)
			return rc == TABLEROW_INVALID ? -1 : 1;
		key = tablerow_unknown(rowmap, &type);
		if (!conf.add_columns) {
			snprintf(err, errsize, "unknown column \"%s\" in table \"%s\""
			    " (use --ignore-unknown or --add-columns)", key, conf.table);
			return 1;
		}
		commit_before_stop();  /* DDL commits implicitly on MariaDB */
		add_column(key, type);
	}
	p = &txn->rows[txn->n - 1];
	p->len = len;
	p->header = fields ? fields->header : NULL;
	if (!(p->text = cell_arena_add(&txn->arena, text, len)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	return 0;
}

/*
 * Take one record into the open transaction: TEXT[0..LEN) as read, or the
 * CSV row FIELDS (TEXT its raw row), whose fields go to the cells without
 * becoming JSON text first; where JSON is what is needed (--sql, --create,
 * the reject file) they are made the record JSON text would hold.
 */
static void
take_record(const char *text, size_t len, const struct csv_fields *fields,
    const struct place *place, size_t element)
{
	static struct buf json;
	char err[1024] = "";
	enum line_kind kind;
	json_t *v;
	int rc;

	if (++input_seq <= job_skip)
		return;  /* an earlier run of the job dealt with it */
	stats_add(&stats.records_in, 1);
	if (fields && (conf.sql_mode || !table_known)) {
		json.len = 0;
		csv_fields_json(fields, &json);
		text = json.data;
		len = json.len;
		fields = NULL;
	}
	if (conf.sql_mode) {
		if ((v = line_parse(text, len, &kind, err, sizeof err)))
			take_statement(v, place, element);
		else
			bad_record(place, element, err, NULL, text, len);
		return;
	}
	if (!table_known) {
		if (!conf.create)
			msg_die(EXIT_CONFIG, url.redacted, "table \"%s\" does not exist"
			    " (use --create to make it)", conf.table);
		if (create_from(text, len, err, sizeof err) != 0) {
			bad_record(place, element, err, NULL, text, len);
			return;
		}
	}
	if ((rc = read_row(text, len, fields, place, element, err, sizeof err)) == 0)
		return;
	if (fields) {
		json.len = 0;
		csv_fields_json(fields, &json);
		text = json.data;
		len = json.len;
	}
	if (rc > 0) {
		bad_record(place, element, err, NULL, text, len);
		return;
	}
	/* Not valid JSON: jansson's message, the one every program gives. */
	if (!(v = line_parse(text, len, &kind, err, sizeof err)) || kind == LINE_RECORD)
		bad_record(place, element, err, v, text, len);
	else
		bad_record(place, element, "not a JSON object", v, text, len);
}

/* Input at WHERE that is no record at all (TEXT[0..LEN) as read): counted
 * as one record, and rejected for REASON unless a --job run skips it. */
static void
reject_input(const char *where, const char *reason, const char *text,
    size_t len)
{
	if (++input_seq <= job_skip)
		return;
	stats_add(&stats.records_in, 1);
	before_reject();
	reject_record(where, reason, NULL, text, len);
}

/* A line or batch element that is neither a record nor a control line:
 * invalid JSON, or valid but NOT_WHAT. */
static void
take_invalid(const char *text, size_t len, const char *where,
    const char *not_what)
{
	char err[256];
	enum line_kind kind;
	json_t *v = line_parse(text, len, &kind, err, sizeof err);

	if (v)
		snprintf(err, sizeof err, "%s", not_what);
	json_decref(v);
	reject_input(where, err, text, len);
}

struct batch_context {
	const struct line *line;
};

static int
take_element(void *arg, const char *elem, size_t n, size_t index)
{
	const struct line *line = ((struct batch_context *)arg)->line;
	char where[PATH_MAX + 64];
	struct pending tmp = { .place = line->place, .element = index + 1 };

	switch (line_kind_fast(elem, n)) {
	case LINE_RECORD:
		take_record(elem, n, NULL, &line->place, index + 1);
		break;
	case LINE_CONTROL:
		buf_add(&txn->controls, elem, n);
		buf_addc(&txn->controls, '\n');
		break;
	default:
		take_invalid(elem, n, row_where(&tmp, where, sizeof where),
		    "not a JSON object");
		break;
	}
	return 0;
}

/* A batch line: one transaction of its own. */
static void
take_batch(const struct line *line)
{
	struct batch_context ctx = { line };
	char err[256], where[PATH_MAX + 32];

	commit_pending();
	if (line_split_batch(line->data, line->len, take_element, &ctx, err,
	    sizeof err) != 0)
		reject_input(place_format(&line->place, where, sizeof where), err,
		    line->data, line->len);
	commit_pending();
}

/*
 * --job: a control line with a bookmark (etl-extract-sql) ends the open
 * transaction, which commits it.  The first, before any record, is where
 * the stream starts: records are numbered on from the stored position
 * instead of being skipped up to it.  1 when LINE was one.
 */
static int
take_bookmark(const struct line *line)
{
	enum line_kind kind;
	char err[256];
	json_t *v, *mark;

	if (!conf.job)
		return 0;
	v = line_parse(line->data, line->len, &kind, err, sizeof err);
	mark = json_object_get(json_object_get(v, "$etl"), "bookmark");
	if (!mark) {
		json_decref(v);
		return 0;
	}
	if (!bookmarked && input_seq == 0) {
		input_seq = job_skip;
		msg_info(NULL, "job \"%s\": the stream carries bookmarks", conf.job);
	}
	bookmarked = 1;
	txn->bookmark.len = 0;
	if (!json_is_null(mark))
		jsonout_value(&txn->bookmark, mark);
	json_decref(v);
	buf_add(&txn->controls, line->data, line->len);
	buf_addc(&txn->controls, '\n');
	commit_pending();
	return 1;
}

/* The records after the last bookmark of a stream that ends (or stops
 * at a bad record) without one: not committed, since no bookmark names
 * them (see bookmarked). */
static void
drop_unbookmarked(void)
{
	if (!bookmarked || txn->n == 0)
		return;
	msg_warn(NULL, "job \"%s\": the %zu records after the last bookmark are"
	    " not committed (etl-extract-sql --resume reads them again)",
	    conf.job, txn->n);
	txn->n = 0;
	txn->first_at = 0;
	cell_arena_reset(&txn->arena);
	exit_status = EXIT_TEMPFAIL;
}

static void
take_line(const struct line *line)
{
	char where[PATH_MAX + 32];

	if (line->fields) {  /* a CSV or TSV row */
		take_record(line->data, line->len, line->fields, &line->place, 0);
		if (txn->n >= (size_t)conf.rows && !bookmarked)
			commit_pending();
		return;
	}
	switch (line_kind_fast(line->data, line->len)) {
	case LINE_BATCH:
		take_batch(line);
		return;
	case LINE_CONTROL:
		if (take_bookmark(line))
			return;
		buf_add(&txn->controls, line->data, line->len);
		buf_addc(&txn->controls, '\n');
		if (txn->n == 0)
			commit_pending();  /* acknowledged once what is in flight is */
		return;
	case LINE_RECORD:
		take_record(line->data, line->len, NULL, &line->place, 0);
		if (txn->n >= (size_t)conf.rows && !bookmarked)
			commit_pending();
		return;
	default:
		take_invalid(line->data, line->len,
		    place_format(&line->place, where, sizeof where),
		    "not a JSON object or array");
		return;
	}
}

/* ---- setup ------------------------------------------------------------ */

static void
run_init_file(void)
{
	FILE *f = fopen(conf.init_file, "r");
	struct buf sql = BUF_INIT;
	char chunk[8192];
	size_t n;

	if (!f)
		msg_die(EXIT_NOINPUT, conf.init_file, "%s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&sql, chunk, n);
	fclose(f);
	{
		struct db_error err = { 0 };

		connect_with_retry(EXIT_UNAVAILABLE);
		if (backend->exec(db, buf_cstr(&sql), &err) != DB_OK)
			msg_die(EXIT_CONFIG, conf.init_file, "%s", err.message);
	}
	buf_free(&sql);
}

static void
split_table_name(void)
{
	const char *dot = strchr(conf.table, '.');

	if (dot) {
		schema_name = strndup(conf.table, dot - conf.table);
		table_name = strdup(dot + 1);
	} else {
		table_name = strdup(conf.table);
	}
}

static void
parse_options(int argc, char **argv, int *first_file)
{
	struct opt_parser p;
	char err[256];
	int c, status;

	opt_begin(&p, argc, argv, "[OPTION]... -t TABLE [DATABASE_URL] [FILE]...",
	    "Load NDJSON records into a PostgreSQL, MariaDB/MySQL or SQLite table.",
	    options, OPT_INPUT);
	while ((c = opt_next(&p)) != -1) {
		switch (c) {
		case 't': conf.table = p.arg; break;
		case 'n': conf.rows = opt_count(&p, 1, 10000000); break;
		case 'T': conf.max_delay_ms = opt_duration_ms(&p); break;
		case KEY_UPSERT: conf.upsert = p.arg; break;
		case KEY_IGNORE_DUPLICATES: conf.ignore_duplicates = 1; break;
		case KEY_CREATE: conf.create = 1; break;
		case KEY_ADD_COLUMNS: conf.add_columns = 1; break;
		case KEY_IGNORE_UNKNOWN: conf.ignore_unknown = 1; break;
		case KEY_INIT: conf.init_file = p.arg; break;
		case KEY_SQL: conf.sql_mode = 1; break;
		case KEY_RETRY_FOR: conf.retry_for_ms = opt_duration_ms(&p); break;
		case KEY_JOB: conf.job = p.arg; break;
		}
	}
	*first_file = p.ind;
	/* The URL: the first operand that looks like one, else $DATABASE_URL. */
	if (p.ind < argc && strstr(argv[p.ind], ":") && !strchr(argv[p.ind], '\n') &&
	    (strncmp(argv[p.ind], "sqlite:", 7) == 0 || strstr(argv[p.ind], "://")))
		conf.url = argv[(*first_file)++];
	else
		conf.url = getenv("DATABASE_URL");
	if (!conf.url)
		opt_usage_error(&p, "no database URL: give one, or set DATABASE_URL");
	if (dburl_parse(conf.url, &url, err, sizeof err) != 0)
		opt_usage_error(&p, "bad database URL: %s", err);
	if ((status = dburl_read_password_file(&url, err, sizeof err)) != 0)
		msg_die(status, url.password_file, "%s", err);
	if (!conf.table && !conf.sql_mode)
		opt_usage_error(&p, "no table: use -t TABLE");
	if (conf.upsert && conf.ignore_duplicates)
		opt_usage_error(&p, "--upsert and --ignore-duplicates do not go together");
	if (conf.sql_mode && (conf.upsert || conf.create || conf.add_columns))
		opt_usage_error(&p, "--sql does not go with --upsert, --create or --add-columns");
	if (conf.job && (!*conf.job || strlen(conf.job) > 200))
		opt_usage_error(&p, "--job: a name of 1 to 200 characters");
	if (conf.table && strlen(conf.table) > 200)
		opt_usage_error(&p, "table name too long");
}

/* etl_checkpoints from before bookmarks gains their column. */
static void
add_bookmark_column(void)
{
	struct db_table t = { 0 };
	struct db_error err = { 0 };
	int found = 0;

	connect_with_retry(EXIT_UNAVAILABLE);
	if (backend->describe(db, NULL, "etl_checkpoints", &t, &err) != DB_OK)
		return;  /* reading the checkpoint will say what is wrong */
	for (int i = 0; i < t.ncolumns; i++)
		found |= strcmp(t.columns[i].name, "bookmark") == 0;
	db_table_free(&t);
	if (!found)
		run_ddl(DB_CHECKPOINT_BOOKMARK_SQL);
}

/* --job: where the earlier runs of this job stopped. */
static void
start_job(void)
{
	struct db_error err = { 0 };

	run_ddl(DB_CHECKPOINT_TABLE_SQL);
	add_bookmark_column();
	connect_with_retry(EXIT_UNAVAILABLE);
	if (backend->checkpoint_get(db, conf.job, &job_skip, &err) != DB_OK)
		msg_die(EXIT_UNAVAILABLE, url.redacted, "reading the checkpoint of"
		    " job \"%s\": %s", conf.job, err.message);
	job_committed = job_skip;
	if (job_skip > 0)
		msg_info(NULL, "job \"%s\": skipping the %lld records an earlier run"
		    " committed", conf.job, job_skip);
}

static long
ms_until_commit_due(void)
{
	double left;

	if (txn->n == 0)
		return txn->controls.len ? 0 : -1;
	if (bookmarked)
		return -1;  /* rows are committed at the next bookmark */
	if (txn->controls.len)
		return 0;  /* an acknowledgement waits: commit once input pauses */
	left = txn->first_at + conf.max_delay_ms / 1000.0 - stats_now_coarse();
	return left <= 0 ? 0 : (long)(left * 1000) + 1;
}

int
main(int argc, char **argv)
{
	struct reader *r;
	struct line line;
	enum reader_status st;
	int first;

	parse_options(argc, argv, &first);
	backend = db_backend_for(&url);
	if (!(rowmap = tablerow_new()))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	connect_with_retry(EXIT_UNAVAILABLE);
	if (conf.init_file)
		run_init_file();
	if (conf.table) {
		split_table_name();
		if (!describe_table() && !conf.create)
			msg_die(EXIT_CONFIG, url.redacted, "table \"%s\" does not exist"
			    " (use --create to make it)", conf.table);
	}
	if (conf.job)
		start_job();
	start_committer();
	r = reader_open(argv + first, argc - first, opt_common.max_line);
	reader_output_elsewhere(r);  /* the committer writes the control lines */
	reader_want_fields(r);       /* CSV rows go to cells without JSON */
	while ((st = reader_next(r, &line, ms_until_commit_due())) != READER_EOF) {
		if (st == READER_TIMEOUT) {
			commit_pending();
			continue;
		}
		if (st == READER_BAD) {
			char where[PATH_MAX + 32];

			reject_input(place_format(&line.place, where, sizeof where),
			    line.error, line.data, line.len);
			continue;
		}
		take_line(&line);
		if (txn->n > 0 && ms_until_commit_due() == 0 && !txn->controls.len)
			commit_pending();
	}
	drop_unbookmarked();
	finish_committing();
	reader_close(r);
	disconnect();
	msg_exit(exit_status);
}
