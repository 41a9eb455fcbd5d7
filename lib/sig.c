/* sig.c - signal flags and the race-free wait for input (see sig.h). */
#include "sig.h"
#include "stats.h"

#include <errno.h>
#include <string.h>
#include <sys/select.h>

volatile sig_atomic_t sig_stop;
volatile sig_atomic_t sig_stats;
volatile sig_atomic_t sig_reload;

static sigset_t unblocked;  /* the mask to wait with: our signals open */

static void
on_stop(int signo)
{
	(void)signo;
	sig_stop = 1;
}

static void
on_stats(int signo)
{
	(void)signo;
	sig_stats = 1;
}

void
sig_install(void)
{
	struct sigaction sa;
	sigset_t ours;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the wait must return.  SA_RESETHAND: a second
	 * SIGINT or SIGTERM takes the default action and kills. */
	sa.sa_flags = SA_RESETHAND;
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = on_stats;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	sigemptyset(&ours);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &ours, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGUSR1);
}

static void
on_reload(int signo)
{
	(void)signo;
	sig_reload = 1;
}

void
sig_catch_reload(void)
{
	struct sigaction sa;
	sigset_t hup;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
	sigdelset(&unblocked, SIGHUP);
}

enum sig_wait
sig_wait_readable(int fd, long timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	fd_set readable;
	int n;

	if (sig_stop || sig_stats || sig_reload)
		return SIG_WAIT_SIGNAL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	FD_ZERO(&readable);
	if (fd >= 0)
		FD_SET(fd, &readable);
	/* With no fd this is a plain wait for a signal or the timeout. */
	n = pselect(fd + 1, fd >= 0 ? &readable : NULL, NULL, NULL, tsp, &unblocked);
	if (n < 0)
		return errno == EINTR ? SIG_WAIT_SIGNAL : SIG_WAIT_READY;
	return n == 0 ? SIG_WAIT_TIMEOUT : SIG_WAIT_READY;
}

void
sig_serve_stats(void)
{
	if (!sig_stats)
		return;
	sig_stats = 0;
	stats_print();
}
