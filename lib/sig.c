/*
 * sig.c - the signal thread, the stop's deadline and the race-free wait
 * for input (see sig.h).
 *
 * The signal thread is the only one that ever takes SIGINT, SIGTERM or
 * SIGUSR1: every other thread keeps them blocked.  It turns each into a
 * flag and a byte in the wake pipe, which sig_wait_readable() polls next to
 * the input: a signal that arrives just before a wait leaves its byte in
 * the pipe, so it is never missed.  Giving up happens on this thread
 * because the main thread may be blocked anywhere (a database commit, a
 * full output pipe) when the deadline passes.
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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

atomic_int sig_stop;
atomic_int sig_stats;
atomic_int sig_reload;

static int wake[2] = { -1, -1 };      /* the signal thread -> the waits */
static int reads_stream;
static long long stop_timeout_ms;
static atomic_int input_ended;
static atomic_int input_fd = -1;
typedef void give_up_fn(const char *why);
static _Atomic(give_up_fn *) give_up_report;
static sigset_t ours;                 /* SIGINT, SIGTERM, SIGUSR1 */

void
sig_on_give_up(void (*report)(const char *why))
{
	atomic_store(&give_up_report, report);
}

void
sig_input_opened(int fd)
{
	atomic_store(&input_fd, fd);
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

/*
 * Give up the stop: say what is lost and end the process now.  Records
 * still in the output buffer are not written, so "delivered" is what was
 * written onward (or committed); a one-to-many transform can write more
 * than it read, hence the floor at 0.
 */
static _Noreturn void
give_up(const char *why)
{
	unsigned long long in = count(&stats.records_in),
	    done = count(&stats.records_out) + count(&stats.rejected),
	    lost = in > done ? in - done : 0;
	give_up_fn *report = atomic_load(&give_up_report);
	int fd = atomic_load(&input_fd), unread = 0;
	struct stat st;
	char left[96] = "input was left unread";

	/* How much, where the kernel can say: what waits in the pipe. */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    ioctl(fd, FIONREAD, &unread) == 0 && unread > 0)
		snprintf(left, sizeof left, "input was left unread (%d bytes still in the pipe)", unread);
	if (report)
		report(why);
	else if (reads_stream)
		msg_error("stop", "%s: %llu of %llu records read were not"
		    " delivered; %s", why, lost, in, atomic_load(&input_ended)
		    ? "all input was read" : left);
	else
		msg_error("stop", "%s: %llu of %llu records accepted were not"
		    " handed on", why, lost, in);
	_exit(EXIT_TEMPFAIL);
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
			give_up(why);
		}
		if (signo == SIGUSR1) {
			atomic_store(&sig_stats, 1);
			wake_waits();
		} else if (signo == SIGINT || signo == SIGTERM) {
			if (atomic_load(&sig_stop)) {
				snprintf(why, sizeof why, "gave up at a second %s",
				    signo == SIGINT ? "SIGINT" : "SIGTERM");
				give_up(why);
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

	do
		n = poll(p, 2, timeout_ms < 0 ? -1 : (int)timeout_ms);
	while (n < 0 && errno == EINTR);
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
sig_serve_stats(void)
{
	if (!atomic_exchange(&sig_stats, 0))
		return;
	stats_print();
}
