/*
 * sig.h - signals as flags, and the graceful stop.
 *
 * SIGINT and SIGTERM ask for a graceful stop.  Where the stream ends is
 * decided by its source alone: a source (etl-extract-http) stops taking new
 * input, hands on what it accepted and closes its output; a program that
 * reads the stream (sig_install with READS_STREAM) keeps reading to the end
 * of its input, commits and exits 0, as it would at the end of a file.  The
 * stop has a deadline, --stop-timeout: when it passes, or at a second
 * SIGINT or SIGTERM, the program gives up: one line on stderr says how many
 * records it could not deliver, and it exits 75 (EXIT_TEMPFAIL: a rerun
 * from a replayable source loads what was left).  SIGUSR1 asks for the
 * --stats line.  SIGPIPE is ignored: a closed pipe is seen as EPIPE by the
 * writer and reported as an I/O error.
 *
 * The count is exact, so that what each stage of a pipeline says it lost
 * adds up to what its source accepted and the table lacks.  A record read
 * is delivered once it is written onward (the writer's ledger, writer.h)
 * or committed (stats.delivered), or rejected; the give-up counts those
 * read and not delivered, then the records its input buffer holds, then
 * reads its input pipe to its end (the stage before gives up at the same
 * deadline and closes it) or for SIG_DRAIN_GRACE_MS at most, counting the
 * records in it (lib/tally.h): bytes a stage wrote are never lost uncounted
 * when the next one exits.  That count needs the reading thread's buffers
 * and counts at rest: either it is blocked where they are (the waits of the
 * reader and the writer, sig_cond_wait, or between sig_rest_begin and
 * sig_rest_end), and the thread giving up counts for it while it stays
 * stopped; or it gives up itself at its next give-up point (one of those
 * waits, or each line the reader hands out: sig_give_up_point).  A thread
 * that gets to neither within SIG_CLAIM_MS (a transform that hangs, a
 * database call) has the counts given for it, the records read and not
 * delivered only, with "input was left unread".
 *
 * One thread owns the signals: sig_install() blocks them in the calling
 * thread (threads started later inherit the mask) and starts a thread that
 * takes them with sigtimedwait(), sets the flags, wakes sig_wait_readable()
 * through a pipe and keeps the stop's deadline, so a program busy in a
 * database call is held to the deadline too.  Install before starting
 * threads, from the thread that reads the stream.
 */
#ifndef ETL_SIG_H
#define ETL_SIG_H

#include <pthread.h>
#include <stdatomic.h>

/* 30 s: well within systemd's default TimeoutStopSec of 90 s. */
enum { SIG_DEFAULT_STOP_TIMEOUT_MS = 30000 };

extern atomic_int sig_stop;    /* SIGINT or SIGTERM seen */
extern atomic_int sig_stats;   /* SIGUSR1 seen, not yet served */

enum { SIG_DRAIN_GRACE_MS = 1000, SIG_CLAIM_MS = 250 };
#define SIG_DRAIN_GRACE "1s"  /* SIG_DRAIN_GRACE_MS, for messages */

/*
 * READS_STREAM: the program reads the stream (its give-up report speaks of
 * records read and input left unread).  STOP_TIMEOUT_MS: the deadline of a
 * graceful stop, from the first signal; 0 for none.
 */
void sig_install(int reads_stream, long long stop_timeout_ms);

/* A source says in its own terms what a stop that gives up leaves
 * undelivered: REPORT(WHY) prints that one line (it runs on the signal
 * thread, at once, then the process exits 75). */
void sig_on_give_up(void (*report)(const char *why));

/* The reader reached the end of all its input (for the give-up report). */
void sig_input_ended(void);

/* What the reader holds, for the give-up: LEFT(ARG, GRACE_MS, &OPEN) counts
 * the records in its buffer and its input pipe, reading the pipe until its
 * end or for GRACE_MS (*OPEN: it had not ended); -1 when it cannot tell
 * (a file, compressed or CSV input), which leaves the input "unread". */
void sig_on_input_left(long long (*left)(void *arg, long grace_ms, int *open),
    void *arg);

/* A give-up is pending: the reading thread does it at its next give-up
 * point. */
extern atomic_int sig_giving_up;

/* Called by the reading thread where its state is at rest: between two
 * lines.  On any other thread it does nothing. */
void sig_give_up_here(void);

static inline void
sig_give_up_point(void)
{
	if (atomic_load_explicit(&sig_giving_up, memory_order_relaxed))
		sig_give_up_here();
}

/* Give up now, from any thread: "WHERE: WHY: what was not delivered", then
 * exit CODE.  Another thread hands the report to the reading thread (see
 * above) and waits for it. */
_Noreturn void sig_give_up(const char *where, const char *why, int code);

/* The next stage stopped reading (EPIPE): during a stop, a program that
 * reads the stream gives up with "stdout: the next stage stopped reading"
 * and exit 74, saying what it did not deliver; otherwise this returns and
 * the caller reports the error as always. */
void sig_output_closed(void);

/* SIGHUP asks a server to reload something (certificates): for programs
 * that call sig_catch_reload(), after sig_install (opt_next calls it) and
 * before starting threads, it sets sig_reload and wakes
 * sig_wait_readable() instead of ending the process. */
extern atomic_int sig_reload;
void sig_catch_reload(void);

enum sig_wait {
	SIG_WAIT_READY,     /* fd is readable (or at EOF, or in error) */
	SIG_WAIT_TIMEOUT,   /* timeout_ms passed */
	SIG_WAIT_SIGNAL,    /* a signal arrived: check sig_stop and sig_stats */
};

/* Wait until FD is readable, TIMEOUT_MS (-1: no limit) passes or a signal
 * arrives; FD -1 waits for a signal or the timeout only.  A signal is
 * reported once: a stop does not make every later wait return at once.
 * A give-up point. */
enum sig_wait sig_wait_readable(int fd, long timeout_ms);

/* Wait until FD can take bytes (or is in error).  A give-up point. */
void sig_wait_writable(int fd);

/* pthread_cond_wait, and a give-up point. */
void sig_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock);

/* Sleep MS milliseconds: a give-up point. */
void sig_sleep(long ms);

/* Around any other wait of the reading thread with its buffers and counts
 * at rest (a lock another thread may hold long): a give-up may count them
 * meanwhile, and then sig_rest_end does not return. */
void sig_rest_begin(void);
void sig_rest_end(void);

/* Serve a pending SIGUSR1 by printing the stats line; cheap when none. */
void sig_serve_stats(void);

#endif
