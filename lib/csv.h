/*
 * csv.h - CSV and TSV rows as records.
 *
 * Files that data jobs are handed (spreadsheet exports, vendors' drops,
 * `mysql --batch`) become the same records an NDJSON line would give: one
 * JSON object per row, its keys from the header row (or --columns), its
 * values strings or null.  Two formats:
 *
 * CSV (RFC 4180, as PostgreSQL's COPY ... (FORMAT csv) reads it): fields
 *   separated by the delimiter (',' by default), a field may be quoted with
 *   '"' and then holds delimiters, CR and LF, and '""' for one quote.  An
 *   unquoted empty field is null, a quoted empty field ("") the empty
 *   string; with a null string set, an unquoted field equal to it is null
 *   instead.  A quote inside an unquoted field, text after a closing quote,
 *   a CR that does not end the row and a quote still open at the end of
 *   the file are errors (Python's csv with strict=True agrees).
 * TSV (the escaped form of `mysql --batch` and PostgreSQL's text COPY; for
 *   files without backslashes the IANA text/tab-separated-values form):
 *   fields separated by a tab, one row per line, no quoting; \t \n \r \\
 *   stand for a tab, LF, CR and a backslash, a backslash before any other
 *   byte for that byte, and a field of exactly \N is null (or the null
 *   string when set).  An empty field is the empty string.
 *
 * Rows end at LF or CRLF; the last row may lack its newline; blank lines are
 * skipped.  The reader (reader.c) finds where each row ends with
 * csv_scan_row, a byte at a time across its buffers, then hands the whole
 * raw row to csv_row, which makes it a record, takes it as the header, or
 * says what is wrong with it.
 */
#ifndef ETL_CSV_H
#define ETL_CSV_H

#include "buf.h"

#include <jansson.h>
#include <stddef.h>

enum csv_format { CSV_NDJSON, CSV_CSV, CSV_TSV };

/* The input options every reading program takes (see opt.h). */
struct csv_options {
	enum csv_format format;      /* with format_set: for every input */
	int format_set;              /* else by each file's name */
	char delimiter;              /* 0: ',' for CSV, tab for TSV */
	const char *header;          /* --columns: for files without a header row */
	const char *replace_header;  /* names instead of the file's own */
	const char *null;            /* NULL: the format's own null */
};

/* The format a file's name says: .csv, .tsv, also .csv.gz and .tsv.gz
 * (any case); CSV_NDJSON otherwise. */
enum csv_format csv_format_for_name(const char *path);

/* "csv", "tsv" or "ndjson" into *FORMAT; -1 for anything else. */
int csv_format_parse(const char *name, enum csv_format *format);

/* Where a row's scan stands, kept between calls as more bytes arrive. */
struct csv_scan {
	size_t at;               /* bytes of the row scanned so far */
	int state;
	unsigned long newlines;  /* LFs inside quotes so far */
};

struct csv;

/*
 * A CSV or TSV parser for OPTIONS (format CSV_CSV or CSV_TSV).  NULL with
 * the reason in ERR when the options are wrong: a delimiter that cannot
 * be one, or --columns names that are empty or repeated.
 */
struct csv *csv_new(enum csv_format format, const struct csv_options *options,
    char *err, size_t errsize);
void csv_free(struct csv *c);

/* A new file begins: its first row is its header (unless --columns). */
void csv_file_start(struct csv *c);

static inline void
csv_scan_reset(struct csv_scan *s)
{
	s->at = 0;
	s->state = 0;
	s->newlines = 0;
}

/*
 * Go on scanning the row that starts at DATA[0] (DATA[0..LEN) is all of it
 * that has arrived; S->at bytes were scanned before).  Returns 1 when the
 * row ends, with its length (without the LF) in *ROW_LEN, else 0 with
 * everything scanned.  S->newlines counts the LFs inside quoted fields.
 */
int csv_scan_row(const struct csv *c, struct csv_scan *s, const char *data,
    size_t len, size_t *row_len);

enum csv_row {
	CSV_ROW_RECORD,      /* JSON holds the record (appended) */
	CSV_ROW_SKIP,        /* a blank line, or the header row (taken) */
	CSV_ROW_BAD,         /* ERR says what is wrong with the row */
	CSV_ROW_BAD_HEADER,  /* ERR says what is wrong with the header row */
};

/*
 * Make the raw row ROW[0..LEN) (without its LF) a record, appended to JSON
 * as one line of JSON text without a newline.
 */
enum csv_row csv_row(struct csv *c, const char *row, size_t len,
    struct buf *json, char *err, size_t errsize);

/*
 * A row's fields as they are, for a program that takes them without the
 * JSON text between (etl-load-sql binds them to its columns): the same
 * strings and nulls the record would hold, under the header's names.
 */
struct csv_header;           /* a header row's names, and how rows are read */

struct csv_value {
	const char *text;        /* unquoted, unescaped; not NUL-terminated */
	size_t len;
	int is_null;
};

struct csv_fields {
	const struct csv_header *header;
	const struct csv_value *values;  /* one per column of the header;
	                                    valid until the next row */
};

/* As csv_row, with the record's fields in *OUT instead of its text. */
enum csv_row csv_row_fields(struct csv *c, const char *row, size_t len,
    struct csv_fields *out, char *err, size_t errsize);

/* The record F holds, appended to JSON as csv_row writes it. */
void csv_fields_json(const struct csv_fields *f, struct buf *json);

/*
 * A header never changes once made, and lives as long as its parser
 * (a file with the names of the file before shares its header): a row
 * kept as its raw text can be made a record again later, by any thread.
 */
size_t csv_header_columns(const struct csv_header *h);
/* A number no other header of the process has: a header freed and another
 * made at its address are told apart by it, not by their pointers. */
unsigned long csv_header_serial(const struct csv_header *h);
/* Column I's name (NUL-terminated; it may hold a NUL), its length in *LEN. */
const char *csv_header_name(const struct csv_header *h, size_t i, size_t *len);
/* The raw row ROW[0..LEN) that was read under H as a record, appended to
 * JSON as csv_row wrote it then: 0, or -1 when it is not one. */
int csv_header_record(const struct csv_header *h, const char *row, size_t len,
    struct buf *json);

/* Write one CSV field: quoted when it holds the delimiter, a quote, CR or
 * LF, or is empty (a quoted "" is the empty string: a null is written as
 * nothing at all, an unquoted empty field). */
void csv_write_field(struct buf *out, const char *s, size_t len,
    char delimiter);

/*
 * Records as CSV rows under one header, the keys of the first record in
 * their order.  A later record's key that the header lacks is an error; a
 * key it lacks is written null.  Strings are written as they are, null as
 * an empty unquoted field, other values as their JSON text.  Read back
 * (csv_row), a file gives the same records when their values are strings
 * or null.
 */
struct csv_writer;

struct csv_writer *csv_writer_new(char delimiter);
void csv_writer_free(struct csv_writer *w);

/* Append RECORD (a JSON object) as a row to OUT, after the header row if
 * it is the first.  Returns 0, or -1 with the reason in ERR. */
int csv_writer_record(struct csv_writer *w, const json_t *record,
    struct buf *out, char *err, size_t errsize);

#endif
