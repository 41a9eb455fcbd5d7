/*
 * reader.h - the line reader every program reads its input with: NDJSON,
 * and CSV or TSV rows made records.
 *
 * It reads the named files in order ("-" or no file at all: standard input)
 * in large chunks, decompresses gzip input transparently (detected by its
 * magic bytes; concatenated members are one stream), skips a UTF-8
 * byte-order mark at the start of each file (as jq does), splits lines on
 * LF, drops a CR before the LF, skips blank lines and knows the file and line
 * number of every line it returns.  In the common case it makes no system
 * call and no allocation per line: a line is a view into its buffer.
 *
 * A line longer than max_line bytes is returned as READER_BAD with only
 * its first max_line bytes; the rest is skipped without being stored, so
 * memory stays bounded by max_line whatever the input.
 *
 * Before it would block waiting for input, the reader flushes writer_stdout,
 * so a live stream is never held in an output buffer.  A SIGINT or SIGTERM
 * does not end the input: the program reads on to the end its source
 * writes (see sig.h for the stop and its deadline).  A stop that gives up
 * has the reader count the records its buffer holds and those its input
 * pipe still brings, and each line it hands out is a give-up point.
 */
#ifndef ETL_READER_H
#define ETL_READER_H

#include <stddef.h>

enum { READER_DEFAULT_MAX_LINE = 64 << 20 };  /* 64 MiB; --max-line */

struct place {
	const char *file;        /* "stdin" or the path as given */
	unsigned long line;      /* 1-based */
};

struct csv_fields;

struct line {
	const char *data;        /* not NUL-terminated; valid until the next call */
	size_t len;              /* without the line ending */
	struct place place;
	const char *error;       /* READER_BAD: why; valid until the next call */
	const struct csv_fields *fields;  /* see reader_want_fields; else NULL */
};

enum reader_status {
	READER_LINE,             /* *line holds the next non-blank line */
	READER_EOF,              /* all input read */
	READER_TIMEOUT,          /* no whole line arrived within the timeout */
	READER_BAD,              /* no record: *line holds the raw input (a line
	                          * over max_line: its start) and the error */
};

struct reader;
struct csv_options;

/*
 * CSV and TSV (see csv.h): each file is read in the format OPTIONS name,
 * else in the one its name says (.csv, .tsv, .csv.gz, .tsv.gz), else as
 * NDJSON; standard input is NDJSON unless a format is named.  A row becomes
 * one line of JSON text (a record), numbered with the physical line where
 * it starts; a bad row is READER_BAD with the raw row and the reason; a bad
 * header row stops the program (exit 65).  Applies to the readers opened
 * after it (opt_next calls it with the options it parsed).
 */
void reader_use_formats(const struct csv_options *options);

/*
 * Open PATHS[0..NPATHS) for reading in order; NPATHS 0 reads stdin.  A file
 * that cannot be opened is reported when it is reached, with exit 66 for a
 * missing file and 74 for other errors; missing files are checked up front
 * so a run does not half-happen.
 */
struct reader *reader_open(char *const *paths, int npaths, size_t max_line);
void reader_close(struct reader *r);

/*
 * The next line.  TIMEOUT_MS bounds the wait for input (-1: no limit);
 * decompression and reading a regular file never count as waiting.
 * A read error or a truncated gzip stream exits 74 with the file named.
 */
enum reader_status reader_next(struct reader *r, struct line *line,
    long timeout_ms);

/*
 * A CSV or TSV row comes as its fields (line->fields, see csv.h) with its
 * raw text in line->data, instead of as JSON text: for a program that
 * takes the values as they are (etl-load-sql binds them to columns).
 */
void reader_want_fields(struct reader *r);

/*
 * Replace what the reader does before it waits for input (by default:
 * flush writer_stdout).  A program whose output belongs to another thread
 * hands that thread the news instead.
 */
void reader_on_wait(struct reader *r, void (*hook)(void *arg), void *arg);

/*
 * The output belongs to another thread, which flushes it itself: the
 * reader does nothing before it waits.  Flushing writer_stdout from the
 * reading thread as well would race with that thread's writes and could
 * drop a line it had just added (an acknowledgement lost).
 */
void reader_output_elsewhere(struct reader *r);

/* "file:line" into OUT (at least 64 + strlen(file) bytes is plenty). */
const char *place_format(const struct place *p, char *out, size_t size);

#endif
