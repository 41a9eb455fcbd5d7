/*
 * sig.h - signals as flags.
 *
 * SIGINT and SIGTERM ask for a graceful stop: stop taking input, finish what
 * is in hand, flush, commit, exit 0.  A second one kills at once.  SIGUSR1
 * asks for the --stats line.  SIGPIPE is ignored: a closed pipe is seen as
 * EPIPE by the writer and reported as an I/O error.
 *
 * The three signals stay blocked except while a program waits for input in
 * sig_wait_readable() (pselect with the signals unblocked), so a signal that
 * arrives just before the wait is never missed.  Install before starting
 * threads: threads inherit the mask and so never take these signals.
 */
#ifndef ETL_SIG_H
#define ETL_SIG_H

#include <signal.h>

extern volatile sig_atomic_t sig_stop;   /* SIGINT or SIGTERM seen */
extern volatile sig_atomic_t sig_stats;  /* SIGUSR1 seen, not yet served */

void sig_install(void);

/* SIGHUP asks a server to reload something (certificates): for programs
 * that call sig_catch_reload(), before starting threads, it sets sig_reload
 * and wakes sig_wait_readable() instead of ending the process. */
extern volatile sig_atomic_t sig_reload;
void sig_catch_reload(void);

enum sig_wait {
	SIG_WAIT_READY,     /* fd is readable (or at EOF, or in error) */
	SIG_WAIT_TIMEOUT,   /* timeout_ms passed */
	SIG_WAIT_SIGNAL,    /* a signal arrived: check sig_stop and sig_stats */
};

/* Wait until FD is readable, TIMEOUT_MS (-1: no limit) passes or a signal;
 * FD -1 waits for a signal or the timeout only. */
enum sig_wait sig_wait_readable(int fd, long timeout_ms);

/* Serve a pending SIGUSR1 by printing the stats line; cheap when none. */
void sig_serve_stats(void);

#endif
