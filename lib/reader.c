/*
 * reader.c - buffered NDJSON line reader with transparent gzip.
 *
 * The buffer holds decoded bytes [start, end).  Lines are cut with memchr;
 * "scanned" remembers how far the current partial line is known to have no
 * LF, so a long line arriving in many reads is scanned once, not once per
 * read.  The buffer grows only while a single line needs it, and never past
 * max_line + 2 bytes (the line, a CR and the LF).
 */
#define _GNU_SOURCE  /* F_SETPIPE_SZ, where the system has it */
#include "reader.h"
#include "exitcode.h"
#include "msg.h"
#include "sig.h"
#include "stats.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
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
	unsigned long long file_bytes; /* raw bytes read from the current file */
	unsigned long lineno;

	int gzip;                /* the current file is gzip */
	int gzip_in_member;      /* inflate has started a member not yet ended */
	z_stream z;
	unsigned char *zin;      /* compressed bytes waiting for inflate */

	char *buf;
	size_t cap, start, end, scanned;
	size_t max_line;
	int skipping;            /* discarding the rest of a too-long line */

	void (*on_wait)(void *arg);    /* before blocking: flush the output */
	void *on_wait_arg;
	unsigned long long consumed;   /* raw bytes read, for --progress */
	unsigned long long total_size; /* of regular files; 0 if unknown */
};

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
	if (!r->buf)
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	check_inputs(r);
	return r;
}

static void
close_file(struct reader *r)
{
	if (r->fd > STDIN_FILENO)
		close(r->fd);
	if (r->gzip)
		inflateEnd(&r->z);
	r->fd = -1;
	r->gzip = 0;
	r->gzip_in_member = 0;
}

void
reader_close(struct reader *r)
{
	if (!r)
		return;
	close_file(r);
	free(r->zin);
	free(r->buf);
	free(r);
}

/*
 * A pipe holds 64 KiB by default, so a fast producer and consumer switch
 * places every 64 KiB.  A larger pipe (where Linux allows) lets each side
 * move more per system call.  Failure is harmless: the pipe stays as it is.
 */
void
pipe_widen(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
#endif
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
	pipe_widen(r->fd);
	r->lineno = 0;
	r->at_file_eof = 0;
	r->file_bytes = 0;
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

static void
start_gzip(struct reader *r, const char *first, size_t n)
{
	if (!r->zin && !(r->zin = malloc(GZIP_CHUNK)))
		msg_die(EXIT_SOFTWARE, NULL, "out of memory");
	memset(&r->z, 0, sizeof r->z);
	/* 16 + MAX_WBITS: gzip wrapper only, so plain zlib data is an error. */
	if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
		msg_die(EXIT_SOFTWARE, r->name, "inflateInit2 failed");
	memcpy(r->zin, first, n);
	r->z.next_in = r->zin;
	r->z.avail_in = n;
	r->gzip = 1;
	r->gzip_in_member = 1;
}

/* Decompress into [end, cap); returns bytes produced, 0 at end of file. */
static size_t
inflate_some(struct reader *r)
{
	size_t room = r->cap - r->end;

	for (;;) {
		int rc;

		if (r->z.avail_in == 0) {
			size_t n = read_raw(r, r->zin, GZIP_CHUNK);

			if (n == 0) {
				if (r->gzip_in_member)
					msg_die(EXIT_IO, r->name,
					    "truncated gzip stream");
				return 0;
			}
			r->z.next_in = r->zin;
			r->z.avail_in = n;
		}
		if (!r->gzip_in_member) {
			/* Another member follows the one that ended. */
			inflateReset(&r->z);
			r->gzip_in_member = 1;
		}
		r->z.next_out = (unsigned char *)r->buf + r->end;
		r->z.avail_out = room;
		rc = inflate(&r->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			r->gzip_in_member = 0;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			msg_die(EXIT_IO, r->name, "gzip data error: %s",
			    r->z.msg ? r->z.msg : "invalid data");
		if (room - r->z.avail_out > 0)
			return room - r->z.avail_out;
	}
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
 * Read more decoded bytes into the buffer.  Returns 0 on success, or a
 * status to hand back (EOF of all input, timeout, stop).
 */
static int
fill(struct reader *r, long timeout_ms)
{
	size_t n;
	int rc;

	if (r->cap - r->end < READ_CHUNK / 4)
		make_room(r);
	if (r->gzip && r->z.avail_in > 0) {
		/* Buffered compressed bytes first: no need to wait. */
	} else if ((rc = wait_input(r, timeout_ms)) != 0) {
		return rc;
	}
	if (r->gzip) {
		n = inflate_some(r);
	} else {
		int first = r->file_bytes == 0;

		n = read_raw(r, r->buf + r->end, r->cap - r->end);
		if (first && n == 1 && (unsigned char)r->buf[r->end] == 0x1f)
			n += read_raw(r, r->buf + r->end + 1, r->cap - r->end - 1);
		r->file_bytes += n;
		if (first && n >= 2 &&
		    (unsigned char)r->buf[r->end] == 0x1f &&
		    (unsigned char)r->buf[r->end + 1] == 0x8b) {
			start_gzip(r, r->buf + r->end, n);
			n = inflate_some(r);
		}
	}
	if (n == 0)
		r->at_file_eof = 1;
	r->end += n;
	stats_add(&stats.bytes_in, n);
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
	r->start += skip;
	r->scanned = r->start;
	if (len > 0 && line->data[len - 1] == '\r')
		line->len = --len;
	if (len > r->max_line) {
		line->len = r->max_line;
		return READER_TOOLONG;
	}
	return READER_LINE;
}

enum reader_status
reader_next(struct reader *r, struct line *line, long timeout_ms)
{
	for (;;) {
		char *nl;
		int rc;

		if (r->fd < 0) {
			if (!open_next(r)) {
				sig_input_ended();
				return READER_EOF;
			}
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
				/* No LF within the limit: report, then skip. */
				r->skipping = 1;
				return take_line(r, line, r->max_line + 1,
				    r->end - r->start);
			}
		}
		if ((rc = fill(r, timeout_ms)) != 0)
			return rc;
	}
}

void
reader_on_wait(struct reader *r, void (*hook)(void *arg), void *arg)
{
	r->on_wait = hook;
	r->on_wait_arg = arg;
}

const char *
place_format(const struct place *p, char *out, size_t size)
{
	snprintf(out, size, "%s:%lu", p->file, p->line);
	return out;
}
