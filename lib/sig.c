/*
 * sig.c - the signal thread, the stop's deadline and the race-free wait
 * for input (see sig.h).
 *
 * The signal thread is the only one that ever takes SIGINT, SIGTERM or
 * SIGUSR1: every other thread keeps them blocked.  It turns each into a
 * flag and a byte in the wake pipe, which sig_wait_readable() polls next to
 * the input: a signal that arrives just before a wait leaves its byte in
 * the pipe, so it is never missed.  The deadline is kept on this thread
 * because the main thread may be blocked anywhere (a database commit, a
 * full output pipe) when it passes; the report of a program that reads the
 * stream is handed to its reading thread, where its buffers are at rest,
 * and written here only when that thread does not take it in time.
 */
#define _GNU_SOURCE  /* pipe2 */
#include "sig.h"
#include "exitcode.h"
#include "msg.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

atomic_int sig_stop;
atomic_int sig_stats;
atomic_int sig_reload;
atomic_int sig_giving_up;

static int wake[2] = { -1, -1 };      /* the signal thread -> the waits */
static pthread_t reading_thread;      /* the one that called sig_install */
static int reads_stream;
static long long stop_timeout_ms;
static atomic_int input_ended;
static long long (*input_left)(void *arg, long grace_ms, int *open);
static void *input_left_arg;
typedef void give_up_fn(const char *why);
static _Atomic(give_up_fn *) give_up_report;
static sigset_t ours;                 /* SIGINT, SIGTERM, SIGUSR1 */
/* The give-up under way, for whichever thread writes its report. */
static struct {
	const char *where;
	char why[96];
	int code;
} pending;
/*
 * Where the reading thread is.  RUNNING: it may be changing its buffers
 * and counts; AT_REST: blocked where they are at rest (sig_rest_begin), so
 * another thread may count them; CLAIMED: a thread writes the report, and
 * the reading thread, should it run, must stop (sig_rest_end).
 */
enum { RUNNING, AT_REST, CLAIMED };
static atomic_int rest;

void
sig_on_give_up(void (*report)(const char *why))
{
	atomic_store(&give_up_report, report);
}

void
sig_on_input_left(long long (*left)(void *arg, long grace_ms, int *open),
    void *arg)
{
	input_left = left;
	input_left_arg = arg;
}

void
sig_input_ended(void)
{
	atomic_store(&input_ended, 1);
}

static void
wake_waits(void)
{
	/* A full pipe already holds a wake-up; nothing is lost. */
	if (write(wake[1], "", 1) < 0)
		return;
}

static unsigned long long
count(atomic_ullong *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

/* A source without a report of its own: what it took in and did not write
 * (a one-to-many source can write more than it read). */
static unsigned long long
accepted_not_handed_on(void)
{
	unsigned long long done = count(&stats.records_out) + count(&stats.rejected),
	    in = count(&stats.records_in);

	return in > done ? in - done : 0;
}

/* Records read and neither delivered nor rejected (the floor at 0 is for
 * counts read while another thread moves them). */
static unsigned long long
read_not_delivered(void)
{
	unsigned long long done = count(&stats.delivered) + count(&stats.rejected),
	    in = count(&stats.records_in);

	return in > done ? in - done : 0;
}

/* After the report: the output is closed first, so that the next stage,
 * reading its input to the end to count it, sees the end at once, however
 * long the process takes to go (a sanitizer's last checks). */
static _Noreturn void
end_process(int code)
{
	close(STDOUT_FILENO);
	_exit(code);
}

/*
 * The report of a program that reads the stream, and the exit.  With
 * COUNT_INPUT (the reading thread is at rest) it counts the records its
 * input buffer and pipe hold, reading the pipe to its end first.
 */
static _Noreturn void
give_up_reading(int count_input)
{
	unsigned long long lost = read_not_delivered(), in = count(&stats.records_in);
	const char *where = pending.where, *why = pending.why;
	long long left = -1;
	int open = 0;

	if (count_input && !atomic_load(&input_ended) && input_left)
		left = input_left(input_left_arg, SIG_DRAIN_GRACE_MS, &open);
	if (atomic_load(&input_ended))
		msg_error(where, "%s: %llu of %llu records read were not delivered;"
		    " all input was read", why, lost, in);
	else if (left < 0)
		msg_error(where, "%s: %llu of %llu records read were not delivered;"
		    " input was left unread", why, lost, in);
	else
		msg_error(where, "%s: %llu records were not delivered: %llu of the"
		    " %llu read and %lld left in the input%s", why,
		    lost + (unsigned long long)left, lost, in, left, open
		    ? ", which was still open after " SIG_DRAIN_GRACE : "");
	end_process(pending.code);
}

static int
on_reading_thread(void)
{
	return reads_stream && pthread_equal(pthread_self(), reading_thread);
}

static _Noreturn void
stop_here(void)
{
	for (;;)
		pause();  /* another thread reports, and ends the process */
}

/* The reading thread moves its state from FROM to TO; where the signal
 * thread claimed it first (it reports the counts), it waits for the end. */
static void
reader_moves(int from, int to)
{
	if (!atomic_compare_exchange_strong(&rest, &from, to))
		stop_here();
}

void
sig_give_up_here(void)
{
	if (atomic_load(&sig_giving_up) != 1 || !on_reading_thread())
		return;
	reader_moves(RUNNING, CLAIMED);
	give_up_reading(1);
}

void
sig_rest_begin(void)
{
	if (!on_reading_thread())
		return;
	reader_moves(RUNNING, AT_REST);
	if (atomic_load(&sig_giving_up) == 1) {
		reader_moves(AT_REST, CLAIMED);
		give_up_reading(1);
	}
}

void
sig_rest_end(void)
{
	if (on_reading_thread())
		reader_moves(AT_REST, RUNNING);
}

_Noreturn void
sig_give_up(const char *where, const char *why, int code)
{
	give_up_fn *report = atomic_load(&give_up_report);
	struct timespec tick = { 0, 10 * 1000000L };
	int expected = 0;

	if (!atomic_compare_exchange_strong(&sig_giving_up, &expected, -1)) {
		/* Another thread gives up: this one stops, unless it is the
		 * reading thread, which writes the report. */
		while (on_reading_thread() && atomic_load(&sig_giving_up) != 1)
			nanosleep(&tick, NULL);
		sig_give_up_here();
		stop_here();
	}
	pending.where = where;
	snprintf(pending.why, sizeof pending.why, "%s", why);
	pending.code = code;
	if (report || !reads_stream) {
		/* A source: it counts under its own locks, from any thread. */
		if (report)
			report(why);
		else
			msg_error(where, "%s: %llu of %llu records accepted were not"
			    " handed on", why, accepted_not_handed_on(),
			    count(&stats.records_in));
		end_process(code);
	}
	atomic_store(&sig_giving_up, 1);
	sig_give_up_here();  /* this is the reading thread: it reports */
	/* The reading thread at rest: count for it.  Running, it has
	 * SIG_CLAIM_MS to come to a give-up point and report itself. */
	for (int i = 0; i <= SIG_CLAIM_MS / 10; i++) {
		expected = AT_REST;
		if (atomic_compare_exchange_strong(&rest, &expected, CLAIMED))
			give_up_reading(1);
		if (expected == CLAIMED) {
			/* It reports, and ends the process once its input is
			 * drained; should it not, the process ends anyway. */
			tick.tv_sec = SIG_DRAIN_GRACE_MS / 1000 + 2;
			tick.tv_nsec = 0;
			nanosleep(&tick, NULL);
			end_process(code);
		}
		nanosleep(&tick, NULL);
	}
	/* Stuck where its state may be changing (a transform that hangs, a
	 * database call): the counts only. */
	expected = RUNNING;
	if (atomic_compare_exchange_strong(&rest, &expected, CLAIMED))
		give_up_reading(0);
	if (expected == AT_REST && atomic_compare_exchange_strong(&rest, &expected, CLAIMED))
		give_up_reading(1);  /* it came to rest just now */
	stop_here();  /* it claimed the report just now */
}

void
sig_output_closed(void)
{
	if (atomic_load(&sig_stop) && reads_stream && !atomic_load(&give_up_report))
		sig_give_up("stdout", "the next stage stopped reading", EXIT_IO);
}

static void *
signal_main(void *arg)
{
	struct timespec deadline = { 0, 0 };
	char why[64];

	(void)arg;
	for (;;) {
		struct timespec left, now, *wait = NULL;
		int signo;

		if (atomic_load(&sig_stop) && stop_timeout_ms > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = deadline.tv_sec - now.tv_sec;
			left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_nsec += 1000000000L;
				left.tv_sec--;
			}
			if (left.tv_sec < 0)
				left.tv_sec = left.tv_nsec = 0;
			wait = &left;
		}
		signo = wait ? sigtimedwait(&ours, NULL, wait) : sigwaitinfo(&ours, NULL);
		if (signo < 0 && errno == EAGAIN) {
			snprintf(why, sizeof why, "gave up after --stop-timeout %.3gs",
			    stop_timeout_ms / 1000.0);
			sig_give_up("stop", why, EXIT_TEMPFAIL);
		}
		if (signo == SIGUSR1) {
			atomic_store(&sig_stats, 1);
			wake_waits();
		} else if (signo == SIGINT || signo == SIGTERM) {
			if (atomic_load(&sig_stop)) {
				snprintf(why, sizeof why, "gave up at a second %s",
				    signo == SIGINT ? "SIGINT" : "SIGTERM");
				sig_give_up("stop", why, EXIT_TEMPFAIL);
			}
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += stop_timeout_ms / 1000;
			deadline.tv_nsec += (stop_timeout_ms % 1000) * 1000000L;
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_nsec -= 1000000000L;
				deadline.tv_sec++;
			}
			atomic_store(&sig_stop, 1);
			wake_waits();
		}
	}
	return NULL;
}

/* Never runs: the signals stay blocked.  It is there because a signal
 * whose action is SIG_IGN is discarded, blocked or not, and a program may
 * start with SIGINT ignored (a background job of a shell script) or
 * SIGTERM ignored (a shell that traps it). */
static void
on_signal(int signo)
{
	(void)signo;
}

void
sig_install(int program_reads_stream, long long timeout_ms)
{
	struct sigaction sa;
	pthread_t t;

	reads_stream = program_reads_stream;
	stop_timeout_ms = timeout_ms;
	sigemptyset(&ours);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &ours, NULL);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	reading_thread = pthread_self();
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		msg_die(EXIT_SOFTWARE, NULL, "cannot make a pipe: %s", strerror(errno));
	if (pthread_create(&t, NULL, signal_main, NULL) != 0)
		msg_die(EXIT_SOFTWARE, NULL, "cannot start the signal thread");
	pthread_detach(t);
}

/* SIGHUP runs this on the signal thread, the only one that leaves it
 * unblocked (it was started before sig_catch_reload blocked it). */
static void
on_reload(int signo)
{
	(void)signo;
	atomic_store(&sig_reload, 1);
	wake_waits();
}

void
sig_catch_reload(void)
{
	struct sigaction sa;
	sigset_t hup;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_reload;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
}

enum sig_wait
sig_wait_readable(int fd, long timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = wake[0], .events = POLLIN },
	};
	char drain[64];
	int n;

	sig_rest_begin();
	do
		n = poll(p, 2, timeout_ms < 0 ? -1 : (int)timeout_ms);
	while (n < 0 && errno == EINTR);
	sig_rest_end();
	if (n < 0)
		return SIG_WAIT_READY;  /* let the read report the error */
	if (p[1].revents) {
		while (read(wake[0], drain, sizeof drain) > 0)
			;
		return SIG_WAIT_SIGNAL;
	}
	return n == 0 ? SIG_WAIT_TIMEOUT : SIG_WAIT_READY;
}

void
sig_wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	sig_rest_begin();
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	sig_rest_end();
}

void
sig_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock)
{
	sig_rest_begin();
	pthread_cond_wait(cond, lock);
	sig_rest_end();
}

void
sig_sleep(long ms)
{
	sig_rest_begin();
	poll(NULL, 0, (int)ms);
	sig_rest_end();
}

void
sig_serve_stats(void)
{
	if (!atomic_exchange(&sig_stats, 0))
		return;
	stats_print();
}
