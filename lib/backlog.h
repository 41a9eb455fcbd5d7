/*
 * backlog.h - what a source has accepted and not yet handed on, bounded by
 * the time it takes to drain rather than by its size.
 *
 * A source that answers "accepted" (etl-extract-http's 202) before the
 * records are committed makes a promise that a stop must keep before its
 * deadline.  How much it may hold depends on how fast the next stage takes
 * its output, so the meter measures that rate (bytes per second, an
 * exponentially weighted moving average) and admits new records while what it holds would drain
 * within the budget:
 *
 *	held + downstream <= rate * budget
 *
 * "Held" is the caller's own buffer plus what waits unread in its output
 * pipe (FIONREAD); "downstream" what the later stages' pipes and read
 * buffers hold, which the caller cannot see: once the rate shows, they are
 * full, and each byte in them was answered for too.  So with a loader slow
 * enough that they alone take longer than the budget to drain, only an
 * empty output admits: the source takes in what the loader commits, and a
 * stop has only the later stages' buffers to drain.  The rate is measured only over intervals that began
 * with bytes in the pipe: a reader that keeps up says nothing about how
 * fast it could go, and an idle pipeline must not lower the estimate.  A
 * reader that empties the pipe within an interval counts as going at what
 * it took in it, through the average: one large read (a stage freed of a
 * commit) must not pass for its speed.  Nor may the start: the later stages
 * take their buffers' worth at full speed first (the warm-up).  Until a rate is
 * known, BACKLOG_START bytes are admitted; and when nothing is held, one
 * more request is always admitted, so a stalled loader that recovers is
 * seen recovering.
 *
 * Samples come from one thread (backlog_sample); backlog_admits may be
 * called from any: the estimate it reads is one atomic word.
 */
#ifndef ETL_BACKLOG_H
#define ETL_BACKLOG_H

#include <stdatomic.h>
#include <stddef.h>

enum { BACKLOG_START = 16 << 10 };    /* admitted before a rate is known */
/* The later stages' pipes and read buffers while their pace is slow
 * enough to matter: each pipe a few pages (backlog_init_pipe), and each
 * read buffer no more than the pipe before it. */
enum { BACKLOG_DOWNSTREAM = 16 << 10 };
/* The moving average's time constants: it falls faster than it rises,
 * since a rate that was too high lets in more than a stop can hand on:
 * when a pipeline starts, the next stages fill their own buffers at full
 * speed before the loader's pace shows. */
#define BACKLOG_TAU_UP_S 2.0
#define BACKLOG_TAU_DOWN_S 0.5

struct backlog {
	double budget_s;                   /* 0: no bound */
	unsigned long long warmup;         /* bytes taken before the rate counts */
	double start_rate;                 /* where the average starts */
	int pipe;                          /* a pipe's pace (backlog_init_pipe) */
	_Atomic(double) rate;              /* bytes/s; 0 until measured */
	/* The sampler's own state: */
	double last_t;
	unsigned long long last_written;
	size_t last_unread;
	int sampled;
};

/* BUDGET_S: the time what is held may take to drain (0: no bound).
 * WARMUP: what the later stages may buffer, taken at full speed before
 * their pace shows (BACKLOG_DOWNSTREAM for a pipeline of a transform and
 * a loader); no rate is measured before that much has been taken, and it
 * counts as held (the downstream above) once one is. */
void backlog_init(struct backlog *b, double budget_s, unsigned long long warmup);

/* A sample at NOW (seconds, monotonic): WRITTEN bytes written to the output
 * so far, UNREAD bytes of them still in the pipe. */
void backlog_sample(struct backlog *b, double now, unsigned long long written,
    size_t unread);

/* May more be accepted while HELD bytes wait to be taken? */
int backlog_admits(const struct backlog *b, size_t held);

/* Seconds a refused sender should wait before trying again (1..60). */
unsigned backlog_retry_after(const struct backlog *b, size_t held);

/* The bytes per second measured, 0 while unknown. */
double backlog_rate(const struct backlog *b);

/*
 * A stage's output pipe, sized by time (lib/writer.c, etl-extract-http):
 * the next stage's read-ahead is at most what the pipe holds, so a pipe
 * holding more than its reader takes within BUDGET_S (a small part of
 * --stop-timeout) would hide, in the later stages, records that a stop
 * could not deliver.  The pipe starts at BACKLOG_PIPE_MIN and follows the
 * reader's pace; an interval in which the reader kept up with all that
 * was written counts too, as a pace it reaches at least, so a fast reader
 * gets a wide pipe within a few samples.
 */
enum { BACKLOG_PIPE_MIN = 4096, BACKLOG_PIPE_MAX = 1 << 20 };
void backlog_init_pipe(struct backlog *b, double budget_s);

/* The capacity the pipe should have: what its reader takes within the
 * budget, rounded down to a power of two (the kernel rounds any other
 * size up), within BACKLOG_PIPE_MIN .. BACKLOG_PIPE_MAX. */
size_t backlog_pipe_size(const struct backlog *b);

/* Sample (as backlog_sample) the pace of the reader of pipe FD, whose
 * capacity is *SIZE, and resize it: grown to backlog_pipe_size at once,
 * shrunk once what it holds fits.  Returns the size it is to shrink to and
 * cannot yet (0: none). */
size_t backlog_pipe_follow(struct backlog *b, int fd, size_t *size, double now,
    unsigned long long written, size_t unread);

/* Make pipe FD WANT bytes (the kernel may round it up, or refuse while
 * it holds more); *SIZE is its capacity after. */
void backlog_pipe_resize(int fd, size_t *size, size_t want);

#endif
