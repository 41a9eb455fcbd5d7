/*
 * reader.c - buffered line reader with transparent gzip, for NDJSON and
 * for CSV and TSV rows made records.
 *
 * The buffer holds decoded bytes [start, end).  Lines are cut with memchr;
 * "scanned" remembers how far the current partial line is known to have no
 * LF, so a long line arriving in many reads is scanned once, not once per
 * read.  The buffer grows only while a single line needs it, and never past
 * max_line + 2 bytes (the line, a CR and the LF).
 *
 * Whether a file is gzip is known only from its first two bytes, so the
 * first read of each file goes into zin, the compressed-input buffer, and
 * is never larger than zin: gzip input is then already where inflate reads
 * it, and plain input is copied to the line buffer once.  A first read of
 * one byte (0x1f) leaves the question open until the next byte arrives.
 * Nothing here may assume how read(2) splits the stream: any read may
 * return one byte or a whole chunk, and the reader waits (flushing the
 * output first) before every read of a live stream, compressed or not.
 *
 * A CSV row may hold LFs inside quotes, so a CSV or TSV file's rows are
 * cut by csv_scan_row instead of memchr, its state ("scan") kept across
 * reads the way "scanned" is for a line; the bytes, the buffer and its
 * limit are the same, so gzip, --max-line and every read size work alike.
 */
#include "reader.h"
#include "buf.h"
#include "csv.h"
#include "exitcode.h"
#include "msg.h"
#include "sig.h"
#include "stats.h"
#include "tally.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum { READ_CHUNK = 256 * 1024, GZIP_CHUNK = 64 * 1024 };

struct reader {
	char *const *paths;
	int npaths;
	int next_path;           /* index of the next file to open */

	int fd;                  /* -1 between files */
	const char *name;
	int is_stdin;
	int at_file_eof;         /* no more bytes from the current file */
	int at_file_start;       /* a byte-order mark may still be skipped */
	unsigned long lineno;

	enum { FORMAT_UNKNOWN, FORMAT_PLAIN, FORMAT_GZIP } format;
	size_t sniffed;          /* FORMAT_UNKNOWN: bytes read into zin so far */
	int gzip_in_member;      /* inflate has started a member not yet ended */
	z_stream z;
	unsigned char *zin;      /* GZIP_CHUNK bytes: compressed input, or the
	                          * first bytes of a file of unknown format */

	char *buf;
	size_t cap, start, end, scanned;
	size_t max_line;
	int skipping;            /* discarding the rest of a too-long line */

	void (*on_wait)(void *arg);    /* before blocking: flush the output */
	void *on_wait_arg;
	unsigned long long consumed;   /* raw bytes read, for --progress */
	unsigned long long total_size; /* of regular files; 0 if unknown */

	enum csv_format kind;    /* of the current file */
	struct csv *csv[3];      /* by format, made when a file needs one */
	struct csv_scan scan;    /* the current row's, relative to start */
	struct buf record;       /* the current row as JSON text */
	int want_fields;         /* or as its fields */
	struct csv_fields fields;
	char error[512];         /* why the row handed out is bad */
};

static struct csv_options formats;

void
reader_use_formats(const struct csv_options *options)
{
	formats = *options;
}

static void
check_inputs(struct reader *r)
{
	struct stat st;

	for (int i = 0; i < r->npaths; i++) {
		const char *path = r->paths[i];

		if (strcmp(path, "-") == 0)
			continue;
		if (stat(path, &st) < 0)
			msg_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_IO, path,
			    "%s", strerror(errno));
		if (S_ISDIR(st.st_mode))
			msg_die(EXIT_NOINPUT, path, "is a directory");
		if (S_ISREG(st.st_mode))
			r->total_size += st.st_size;
	}
}

/*
 * A stop that gives up (sig.h): the records the buffer holds, and those
 * still to come through the input pipe, read until it ends or GRACE_MS
 * passes (*OPEN: it did not end).  -1 for input that is not a pipe of
 * plain NDJSON: files, which a rerun reads again, are left unread.
 */
static long long
count_left(void *arg, long grace_ms, int *open)
{
	struct reader *r = arg;
	struct tally t;
	struct stat st;
	char chunk[64 << 10];
	double until = stats_now() + grace_ms / 1000.0;
	long long records;
	ssize_t n = 1;

	*open = 0;
	if (r->fd < 0 || r->kind != CSV_NDJSON || r->format == FORMAT_GZIP ||
	    fstat(r->fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ||
	    r->next_path < r->npaths)
		return -1;
	tally_init(&t);
	if (r->skipping)
		tally_skip_line(&t);
	tally_feed(&t, r->buf + r->start, r->end - r->start);
	if (r->format == FORMAT_UNKNOWN)
		tally_feed(&t, (const char *)r->zin, r->sniffed);
	while (n > 0 && !r->at_file_eof) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		double left = until - stats_now();

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) {
			*open = 1;
			break;
		}
		if ((n = read(r->fd, chunk, sizeof chunk)) > 0)
			tally_feed(&t, chunk, (size_t)n);
		else if (n < 0 && (errno == EINTR || errno == EAGAIN))
			n = 1;
	}
	records = (long long)t.records;
	tally_free(&t);
	return records;
}

struct reader *
reader_open(char *const *paths, int npaths, size_t max_line)
{
	struct reader *r = calloc(1, sizeof *r);

	if (!r)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	r->paths = paths;
	r->npaths = npaths;
	r->fd = -1;
	r->max_line = max_line ? max_line : READER_DEFAULT_MAX_LINE;
	r->cap = READ_CHUNK;
	if (r->cap > r->max_line + 2)
		r->cap = r->max_line + 2 < 4096 ? 4096 : r->max_line + 2;
	r->buf = malloc(r->cap);
	r->zin = malloc(GZIP_CHUNK);
	if (!r->buf || !r->zin)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	check_inputs(r);
	sig_on_input_left(count_left, r);
	return r;
}

static void
close_file(struct reader *r)
{
	if (r->fd > STDIN_FILENO)
		close(r->fd);
	if (r->format == FORMAT_GZIP)
		inflateEnd(&r->z);
	r->fd = -1;
	r->format = FORMAT_UNKNOWN;
	r->sniffed = 0;
	r->gzip_in_member = 0;
}

void
reader_close(struct reader *r)
{
	if (!r)
		return;
	close_file(r);
	for (int i = 0; i < 3; i++)
		csv_free(r->csv[i]);
	buf_free(&r->record);
	free(r->zin);
	free(r->buf);
	free(r);
}

/* The format of the file at PATH ("-": stdin), and its parser ready. */
static void
start_format(struct reader *r, const char *path)
{
	char err[256];

	if (formats.format_set)
		r->kind = formats.format;
	else
		r->kind = r->is_stdin ? CSV_NDJSON : csv_format_for_name(path);
	if (r->kind == CSV_NDJSON)
		return;
	if (!r->csv[r->kind] &&
	    !(r->csv[r->kind] = csv_new(r->kind, &formats, err, sizeof err)))
		msg_die(EXIT_USAGE, NULL, "%s", err);
	csv_file_start(r->csv[r->kind]);
	csv_scan_reset(&r->scan);
}

/* Open the next input; 0 when there is none left. */
static int
open_next(struct reader *r)
{
	const char *path;

	if (r->npaths == 0 && r->next_path == 0) {
		r->next_path = 1;
		path = "-";
	} else if (r->next_path < r->npaths) {
		path = r->paths[r->next_path++];
	} else {
		return 0;
	}
	r->is_stdin = strcmp(path, "-") == 0;
	r->name = r->is_stdin ? "stdin" : path;
	if (r->is_stdin) {
		r->fd = STDIN_FILENO;
	} else if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		msg_die(errno == ENOENT ? EXIT_NOINPUT : EXIT_IO, path, "%s",
		    strerror(errno));
	}
	r->lineno = 0;
	r->at_file_eof = 0;
	r->at_file_start = 1;
	r->format = FORMAT_UNKNOWN;
	r->sniffed = 0;
	start_format(r, path);
	return 1;
}

/*
 * Wait until the current file can be read without blocking.  Flushes the
 * output first when the wait would block.  Returns 0 when ready, or
 * READER_TIMEOUT.  A stop request does not end the wait: the stream ends
 * where its source closes it (see sig.h).
 */
static int
wait_input(struct reader *r, long timeout_ms)
{
	for (;;) {
		enum sig_wait w = sig_wait_readable(r->fd, 0);

		if (w == SIG_WAIT_TIMEOUT) {
			if (r->on_wait)
				r->on_wait(r->on_wait_arg);
			else
				writer_flush(&writer_stdout);
			w = sig_wait_readable(r->fd, timeout_ms);
		}
		if (w == SIG_WAIT_READY)
			return 0;
		if (w == SIG_WAIT_TIMEOUT)
			return READER_TIMEOUT;
		sig_serve_stats();
		/* A terminal has no source to close it: whoever types the
		 * input asked for the stop. */
		if (sig_stop && isatty(r->fd))
			return READER_EOF;
	}
}

/* read(2) that reports errors as the design says; 0 at end of file. */
static size_t
read_raw(struct reader *r, void *into, size_t size)
{
	ssize_t n;

	do
		n = read(r->fd, into, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		msg_die(EXIT_IO, r->name, "read failed: %s", strerror(errno));
	r->consumed += n;
	stats_progress_tick(r->consumed, r->total_size);
	return n;
}

/* The N bytes in zin begin a gzip stream. */
static void
start_gzip(struct reader *r, size_t n)
{
	memset(&r->z, 0, sizeof r->z);
	/* 16 + MAX_WBITS: gzip wrapper only, so plain zlib data is an error. */
	if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
		msg_die(EXIT_SOFTWARE, r->name, "inflateInit2 failed");
	r->z.next_in = r->zin;
	r->z.avail_in = n;
	r->format = FORMAT_GZIP;
	r->gzip_in_member = 1;
}

/*
 * Decompress what zin holds into [end, cap), reading zin full again first
 * when it is empty (the caller has waited for input).  Returns the bytes
 * produced: 0 at the end of the file (at_file_eof set), or 0 when the
 * input so far gave no output yet (a header, a block still incomplete).
 */
static size_t
inflate_some(struct reader *r)
{
	size_t room = r->cap - r->end;

	if (r->z.avail_in == 0) {
		size_t n = read_raw(r, r->zin, GZIP_CHUNK);

		if (n == 0) {
			if (r->gzip_in_member)
				msg_die(EXIT_IO, r->name, "truncated gzip stream");
			r->at_file_eof = 1;
			return 0;
		}
		r->z.next_in = r->zin;
		r->z.avail_in = n;
	}
	r->z.next_out = (unsigned char *)r->buf + r->end;
	r->z.avail_out = room;
	while (r->z.avail_in > 0 && r->z.avail_out > 0) {
		int rc;

		if (!r->gzip_in_member) {
			/* Another member follows the one that ended. */
			inflateReset(&r->z);
			r->gzip_in_member = 1;
		}
		rc = inflate(&r->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			r->gzip_in_member = 0;
		else if (rc == Z_BUF_ERROR)
			break;  /* no progress possible: more input is needed */
		else if (rc != Z_OK)
			msg_die(EXIT_IO, r->name, "gzip data error: %s",
			    r->z.msg ? r->z.msg : "invalid data");
	}
	return room - r->z.avail_out;
}

/* Plain input: read straight into [end, cap); 0 at the end of the file. */
static size_t
read_plain(struct reader *r)
{
	size_t n = read_raw(r, r->buf + r->end, r->cap - r->end);

	if (n == 0)
		r->at_file_eof = 1;
	return n;
}

/*
 * The first bytes of a file: read into zin, never more than zin holds nor
 * than the line buffer has room for, until the first two bytes tell
 * whether they start a gzip stream (1f 8b).  Returns the decoded bytes
 * produced; 0 with at_file_eof unset while the format is still unknown.
 */
static size_t
read_first(struct reader *r)
{
	size_t size = r->cap - r->end, n;

	if (size > GZIP_CHUNK)
		size = GZIP_CHUNK;
	n = read_raw(r, r->zin + r->sniffed, size - r->sniffed);
	r->sniffed += n;
	if (n > 0 && r->sniffed < 2 && r->zin[0] == 0x1f)
		return 0;  /* perhaps gzip: the next byte tells */
	if (r->sniffed >= 2 && r->zin[0] == 0x1f && r->zin[1] == 0x8b) {
		start_gzip(r, r->sniffed);
		return inflate_some(r);
	}
	r->format = FORMAT_PLAIN;
	if (n == 0)
		r->at_file_eof = 1;
	memcpy(r->buf + r->end, r->zin, r->sniffed);
	return r->sniffed;
}

/* Make room after end: compact, then grow up to the line limit. */
static void
make_room(struct reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scanned -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t limit = r->max_line + 2, cap = r->cap * 2;
		char *p;

		if (cap > limit)
			cap = limit;
		if (cap <= r->cap)
			return;  /* the caller sees a full buffer: too long */
		if (!(p = realloc(r->buf, cap)))
			msg_die(EXIT_SOFTWARE, NULL, "out of memory");
		r->buf = p;
		r->cap = cap;
	}
}

/*
 * Read more decoded bytes into the buffer: at least one, or the end of the
 * file.  Returns 0 on success, or a status to hand back (timeout, stop).
 */
static int
fill(struct reader *r, long timeout_ms)
{
	size_t n = 0;
	int rc;

	if (r->cap - r->end < READ_CHUNK / 4)
		make_room(r);
	while (n == 0 && !r->at_file_eof) {
		if (r->format == FORMAT_GZIP && r->z.avail_in > 0) {
			/* Buffered compressed bytes first: no need to wait. */
		} else if ((rc = wait_input(r, timeout_ms)) != 0) {
			return rc;
		}
		switch (r->format) {
		case FORMAT_UNKNOWN:
			n = read_first(r);
			break;
		case FORMAT_PLAIN:
			n = read_plain(r);
			break;
		case FORMAT_GZIP:
			n = inflate_some(r);
			break;
		}
	}
	r->end += n;
	stats_add(&stats.bytes_in, n);
	return 0;
}

/*
 * A UTF-8 byte-order mark at the start of a file is skipped, as jq does:
 * Windows tools write one.  Returns 1 while the bytes so far are the start
 * of one and more must be read to tell.
 */
static int
bom_undecided(struct reader *r)
{
	static const char bom[3] = { '\xef', '\xbb', '\xbf' };
	size_t have = r->end - r->start;

	if (have > sizeof bom)
		have = sizeof bom;
	if (memcmp(r->buf + r->start, bom, have) == 0) {
		if (have < sizeof bom && !r->at_file_eof)
			return 1;
		if (have == sizeof bom) {
			r->start += sizeof bom;
			if (r->scanned < r->start)
				r->scanned = r->start;
		}
	}
	r->at_file_start = 0;
	return 0;
}

static int
is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Hand out [start, start+len) as the next line; consume through SKIP bytes. */
static enum reader_status
take_line(struct reader *r, struct line *line, size_t len, size_t skip)
{
	line->data = r->buf + r->start;
	line->len = len;
	line->place.file = r->name;
	line->place.line = ++r->lineno;
	line->error = NULL;
	line->fields = NULL;
	r->start += skip;
	r->scanned = r->start;
	if (len > 0 && line->data[len - 1] == '\r')
		line->len = --len;
	if (len > r->max_line) {
		line->len = r->max_line;
		line->error = "line longer than --max-line";
		return READER_BAD;
	}
	return READER_LINE;
}

enum { ROW_MORE = -1, ROW_NEXT_FILE = -2 };

/* A row that is no record: hand out ROW[0..LEN) with the reason. */
static enum reader_status
bad_row(struct reader *r, struct line *line, const char *row, size_t len,
    const char *why)
{
	if (why != r->error)
		snprintf(r->error, sizeof r->error, "%s", why);
	line->data = row;
	line->len = len;
	line->error = r->error;
	line->fields = NULL;
	return READER_BAD;
}

/*
 * The next row of a CSV or TSV file, as a record or a bad row; ROW_MORE
 * when more input must be read first, ROW_NEXT_FILE at the file's end.
 */
static int
next_row(struct reader *r, struct line *line)
{
	struct csv *csv = r->csv[r->kind];

	for (;;) {
		size_t have = r->end - r->start, len, skip;
		int ends = csv_scan_row(csv, &r->scan, r->buf + r->start, have, &len);
		const char *row = r->buf + r->start;
		char where[4096];

		if (!ends && !r->at_file_eof) {
			if (r->skipping) {
				r->start = r->end = r->scanned = 0;
				r->scan.at = 0;
				return ROW_MORE;
			}
			if (have <= r->max_line + 1)
				return ROW_MORE;
			/* No row end within the limit: report, then skip. */
			r->skipping = 1;
			line->place.file = r->name;
			line->place.line = r->lineno + 1;
			r->start = r->scanned = r->end;
			r->scan.at = 0;
			return bad_row(r, line, row, r->max_line,
			    "row longer than --max-line");
		}
		if (!ends && have == 0) {
			r->skipping = 0;
			close_file(r);
			return ROW_NEXT_FILE;
		}
		skip = ends ? len + 1 : have;
		if (!ends)
			len = have;  /* the last row, without its LF */
		line->place.file = r->name;
		line->place.line = r->lineno + 1;
		r->lineno += r->scan.newlines + 1;
		r->start += skip;
		r->scanned = r->start;
		csv_scan_reset(&r->scan);
		if (r->skipping) {
			r->skipping = 0;
			continue;
		}
		if (len > r->max_line + (len > 0 && row[len - 1] == '\r'))
			return bad_row(r, line, row, r->max_line,
			    "row longer than --max-line");
		r->record.len = 0;
		switch (r->want_fields
		    ? csv_row_fields(csv, row, len, &r->fields, r->error, sizeof r->error)
		    : csv_row(csv, row, len, &r->record, r->error, sizeof r->error)) {
		case CSV_ROW_RECORD:
			line->data = r->want_fields ? row : r->record.data;
			line->len = r->want_fields ? len : r->record.len;
			line->fields = r->want_fields ? &r->fields : NULL;
			line->error = NULL;
			return READER_LINE;
		case CSV_ROW_SKIP:
			continue;
		case CSV_ROW_BAD:
			return bad_row(r, line, row, len, r->error);
		case CSV_ROW_BAD_HEADER:
			msg_die(EXIT_DATA, place_format(&line->place, where,
			    sizeof where), "%s", r->error);
		}
	}
}

enum reader_status
reader_next(struct reader *r, struct line *line, long timeout_ms)
{
	sig_give_up_point();  /* the line before is dealt with */
	for (;;) {
		char *nl;
		int rc;

		if (r->fd < 0) {
			if (!open_next(r)) {
				sig_input_ended();
				return READER_EOF;
			}
		}
		if (r->at_file_start && bom_undecided(r)) {
			if ((rc = fill(r, timeout_ms)) != 0)
				return rc;
			continue;
		}
		if (r->kind != CSV_NDJSON) {
			if ((rc = next_row(r, line)) >= 0)
				return rc;
			if (rc == ROW_MORE && (rc = fill(r, timeout_ms)) != 0)
				return rc;
			continue;
		}
		nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
		if (r->skipping) {
			if (nl) {
				r->start = r->scanned = nl + 1 - r->buf;
				r->skipping = 0;
				continue;
			}
			r->start = r->end = r->scanned = 0;
			if (r->at_file_eof) {
				r->skipping = 0;
				close_file(r);
				continue;
			}
		} else if (nl) {
			size_t len = nl - (r->buf + r->start);
			enum reader_status st = take_line(r, line, len, len + 1);

			if (st == READER_LINE && is_blank(line->data, line->len))
				continue;
			return st;
		} else if (r->at_file_eof) {
			/* The last line of a file, without its LF. */
			size_t len = r->end - r->start;
			enum reader_status st;

			close_file(r);
			if (len == 0)
				continue;
			st = take_line(r, line, len, len);
			if (st == READER_LINE && is_blank(line->data, line->len))
				continue;
			return st;
		} else {
			r->scanned = r->end;
			if (r->end - r->start > r->max_line + 1) {
				/* No LF within the limit: report, then skip.  All
				 * of it goes to take_line, so that a CR it drops
				 * cannot bring the length back under the limit. */
				r->skipping = 1;
				return take_line(r, line, r->end - r->start,
				    r->end - r->start);
			}
		}
		if ((rc = fill(r, timeout_ms)) != 0)
			return rc;
	}
}

void
reader_want_fields(struct reader *r)
{
	r->want_fields = 1;
}

void
reader_on_wait(struct reader *r, void (*hook)(void *arg), void *arg)
{
	r->on_wait = hook;
	r->on_wait_arg = arg;
}

static void
wait_quietly(void *arg)
{
	(void)arg;
}

void
reader_output_elsewhere(struct reader *r)
{
	reader_on_wait(r, wait_quietly, NULL);
}

const char *
place_format(const struct place *p, char *out, size_t size)
{
	snprintf(out, size, "%s:%lu", p->file, p->line);
	return out;
}
