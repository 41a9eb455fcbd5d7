/*
 * ack.h - end-to-end acknowledgements for sources (--ack-fifo).
 *
 * A source that holds something for its sender until the loader has
 * committed it (an HTTP request's answer, a NATS message's ack) follows the
 * records it writes with a checkpoint control line
 *   {"$etl":{"ack":N,"source":"PROGRAM/PID"}}
 * N counting up from 1.  Every stage passes control lines on in stream
 * order and the loader writes each to its stdout once the rows before it
 * are committed; that stdout, wired back through a FIFO, is read here by a
 * thread that reports "everything up to checkpoint N is committed" (the
 * lines come in order).  Lines of other sources and lines that are not
 * control lines are ignored.  When the FIFO's writer closes it the source
 * hears so, since what is outstanding will never be acknowledged by that
 * pipeline, and the reader waits on the same descriptor for a restarted
 * one: the FIFO is opened once, before a server confines itself (as
 * nobody, it could not open a root's FIFO again).
 *
 *	static void committed(unsigned long long upto, void *arg) { settle up to UPTO }
 *	ack_open(conf.ack_fifo);
 *	... confine ...
 *	ack_start(&(struct ack_handlers){ committed, ended, NULL });
 *	... write records ...; n = ack_checkpoint(&chunk); remember n for them
 *
 * With a LINE handler the same reader carries replies: every line that is
 * not one of our acknowledgements is handed over too (etl-extract-http
 * --reply-fifo answers each request with the lines before its checkpoint).
 */
#ifndef ETL_ACK_H
#define ETL_ACK_H

#include "buf.h"

#include <stddef.h>

struct ack_handlers {
	/* Checkpoints up to UPTO are committed.  Called on the reader thread. */
	void (*committed)(unsigned long long upto, void *arg);
	/* The FIFO's writer closed it.  Called on the reader thread. */
	void (*ended)(void *arg);
	void *arg;
};

/*
 * Open FIFO for reading, without waiting for a writer (exit 66 when it
 * does not exist: "make it with mkfifo"), and name the checkpoints after
 * this program and pid.
 */
void ack_open(const char *fifo);

/* Start the reader thread on the FIFO ack_open opened.  H is copied. */
void ack_start(const struct ack_handlers *h);

/*
 * Before ack_start, for replies (--reply-fifo): hand every other line to
 * LINE, in stream order with the acknowledgements, so that what comes
 * between two checkpoints can be told apart.  A line longer than MAX_LINE
 * comes as its first MAX_LINE bytes with TOO_LONG set.  Called on the
 * reader thread, with the handlers' ARG.
 */
void ack_lines(void (*line)(const char *line, size_t len, int too_long, void *arg),
    size_t max_line);

/* Append the next checkpoint's control line to OUT; returns its number.
 * Callers serialise (the checkpoints must appear in the order numbered). */
unsigned long long ack_checkpoint(struct buf *out);

/* Is LINE[0..LEN) an acknowledgement of one of our checkpoints?  Then
 * 1 with its number in *UPTO, else 0. */
int ack_parse(const char *line, size_t len, unsigned long long *upto);

#endif
