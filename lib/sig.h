/*
 * sig.h - signals as flags, and the graceful stop.
 *
 * SIGINT and SIGTERM ask for a graceful stop.  Where the stream ends is
 * decided by its source alone: a source (etl-extract-http) stops taking new
 * input, hands on what it accepted and closes its output; a program that
 * reads the stream (sig_install with READS_STREAM) keeps reading to the end
 * of its input, commits and exits 0, as it would at the end of a file.  The
 * stop has a deadline, --stop-timeout: when it passes, or at a second
 * SIGINT or SIGTERM, the program gives up at once: one line on stderr says
 * how many records it had read and not delivered and whether input was left
 * unread (and how many bytes its input pipe still held), and it exits 75 (EXIT_TEMPFAIL: a rerun from a replayable source
 * loads what was left).  SIGUSR1 asks for the --stats line.  SIGPIPE is
 * ignored: a closed pipe is seen as EPIPE by the writer and reported as an
 * I/O error.
 *
 * One thread owns the signals: sig_install() blocks them in the calling
 * thread (threads started later inherit the mask) and starts a thread that
 * takes them with sigtimedwait(), sets the flags, wakes sig_wait_readable()
 * through a pipe and keeps the stop's deadline, so a program busy in a
 * database call is held to the deadline too.  Install before starting
 * threads.
 */
#ifndef ETL_SIG_H
#define ETL_SIG_H

#include <stdatomic.h>

/* 30 s: well within systemd's default TimeoutStopSec of 90 s. */
enum { SIG_DEFAULT_STOP_TIMEOUT_MS = 30000 };

extern atomic_int sig_stop;    /* SIGINT or SIGTERM seen */
extern atomic_int sig_stats;   /* SIGUSR1 seen, not yet served */

/*
 * READS_STREAM: the program reads the stream (its give-up report speaks of
 * records read and input left unread).  STOP_TIMEOUT_MS: the deadline of a
 * graceful stop, from the first signal; 0 for none.
 */
void sig_install(int reads_stream, long long stop_timeout_ms);

/* A source says in its own terms what a stop that gives up leaves
 * undelivered: REPORT(WHY) prints that one line (it runs on the signal
 * thread, then the process exits 75). */
void sig_on_give_up(void (*report)(const char *why));

/* The reader reached the end of all its input (for the give-up report). */
void sig_input_ended(void);
/* The reader reads FD now: a give-up says how many bytes its pipe held. */
void sig_input_opened(int fd);

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
 * reported once: a stop does not make every later wait return at once. */
enum sig_wait sig_wait_readable(int fd, long timeout_ms);

/* Serve a pending SIGUSR1 by printing the stats line; cheap when none. */
void sig_serve_stats(void);

#endif
