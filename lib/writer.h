/*
 * writer.h - buffered output to a file descriptor.
 *
 * Programs append lines with writer_add*() and the writer sends them in
 * large writes.  It is flushed when the buffer passes WRITER_CHUNK, when the
 * reader is about to wait for input (so a live stream sees each line within
 * milliseconds), and at exit.  A write error, EPIPE included, is reported
 * once as "program: stdout: write failed: Broken pipe" and exits 74 (during
 * a stop, as a give-up that says what was not delivered: sig.h).
 *
 * The ledger: a program says, once a line's output is in the buffer, how
 * many of the records it read that line delivers (writer_records); they
 * count as delivered (stats.delivered) once the writer has written through
 * the line's end, so that a stop that gives up counts exactly what did not
 * reach the next stage.  For that, a pipe or socket is written without
 * blocking (RWF_NOWAIT) and waited on with poll (a give-up point): what a
 * write moved is always known, which a write blocked half-way is not.
 *
 * Standard output to a pipe is sized by time (backlog.h): the pipe starts
 * at a page and follows the pace of the next stage, and the buffer is
 * flushed at the pipe's size, so that what a stage holds for a slow next
 * one is what that one takes in a small part of --stop-timeout.  Holding
 * the pipe down to a smaller size once the next stage slows, the writer
 * waits for the pipe to drain that far before it writes more.
 *
 * A writer is not locked: one thread owns it, or the caller serialises.
 */
#ifndef ETL_WRITER_H
#define ETL_WRITER_H

#include "backlog.h"
#include "buf.h"

enum { WRITER_CHUNK = 64 * 1024 };

struct writer_mark {
	unsigned long long end;  /* through this byte of the output */
	unsigned long long records;
};

struct writer {
	int fd;
	const char *name;        /* for messages: "stdout", a reject file path */
	struct buf buf;
	unsigned long long bytes; /* written so far */
	int failed;              /* a write failed: later output is dropped */
	int nowait;              /* a pipe or socket: RWF_NOWAIT and poll */
	struct writer_mark *marks;  /* the ledger, oldest first from mark_head */
	size_t mark_head, nmarks, marks_cap;
	size_t chunk;            /* flush at this: WRITER_CHUNK, or a small pipe's size */
	/* A pipe sized by time: */
	int paced;
	size_t pipe_size;        /* its capacity now */
	size_t pipe_want;        /* smaller: held down to it, until it fits */
	double paced_at;         /* the last sample */
	struct backlog pace;
};

/* Standard output, flushed at exit by an exit hook (see msg_on_exit); a
 * pipe is sized to what the next stage takes in PIPE_BUDGET_S. */
extern struct writer writer_stdout;
void writer_stdout_init(double pipe_budget_s);

void writer_init(struct writer *w, int fd, const char *name);
void writer_flush(struct writer *w);
/* Try to flush; on failure return -1 with errno set instead of dying. */
int writer_try_flush(struct writer *w);

static inline void
writer_add(struct writer *w, const void *p, size_t n)
{
	buf_add(&w->buf, p, n);
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

/* Append one line: P[0..N) followed by LF. */
static inline void
writer_line(struct writer *w, const void *p, size_t n)
{
	buf_reserve(&w->buf, n + 1);
	memcpy(w->buf.data + w->buf.len, p, n);
	w->buf.data[w->buf.len + n] = '\n';
	w->buf.len += n + 1;
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

/* The records read that the output in the buffer so far delivers, once
 * written (see the ledger above). */
void writer_records(struct writer *w, unsigned long long n);

/* Append one line that delivers RECORDS records read. */
static inline void
writer_line_of(struct writer *w, const void *p, size_t n,
    unsigned long long records)
{
	buf_reserve(&w->buf, n + 1);
	memcpy(w->buf.data + w->buf.len, p, n);
	w->buf.data[w->buf.len + n] = '\n';
	w->buf.len += n + 1;
	writer_records(w, records);
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

/* Call after appending directly to w->buf. */
static inline void
writer_maybe_flush(struct writer *w)
{
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

#endif
